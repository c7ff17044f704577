// Fuzz targets: each reads arbitrary bytes and must not crash, throw, hang or trip a sanitizer,
// and must keep the invariant it checks. The fuzz preset builds each as a libFuzzer program
// (fuzz_main.cpp); tests/unit/fuzz_replay_test.cpp replays the seeds and the saved findings
// through the same functions under any compiler, so CI runs them without libFuzzer.
#pragma once

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <boost/json.hpp>
#include <dspy/detail/http/reply.hpp>
#include <dspy/detail/text/tolerant.hpp>
#include <dspy/all.hpp>

#include "../support/http_test_server.hpp"
#include "../unit/golden_signatures.hpp"

// An invariant a target checks; a violation aborts, which libFuzzer reports with the input.
#define DSPY_FUZZ_CHECK(cond)                                                                  \
  do {                                                                                         \
    if (!(cond)) {                                                                             \
      std::fprintf(stderr, "%s:%d: fuzz invariant violated: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                            \
    }                                                                                          \
  } while (0)

namespace fuzz {

/// Every field type at once, nested: int, float, bool, Literal, enum, vector, map, optional, struct.
struct Everything {
  static constexpr std::string_view instructions = "Fill in every field.";
  struct Input {
    std::string text;
  };
  struct Output {
    golden::Ticket ticket;
    golden::Order order;
    std::optional<int> count;
    std::vector<double> scores;
    std::map<std::string, golden::Priority> levels;
    golden::Customer customer;
  };
};

/// A program with several predictors, for the state loader.
struct Program {
  dspy::Predict<golden::QA> qa;
  dspy::ChainOfThought<golden::TextMetrics> metrics;
  dspy::Predict<golden::ExtractPerson> extract;
  dspy::Predict<Everything> everything;
};
BOOST_DESCRIBE_STRUCT(Program, (), (qa, metrics, extract, everything))

inline const dspy::AdapterHandle kAdapters[] = {dspy::ChatAdapter{}, dspy::JSONAdapter{}, dspy::XMLAdapter{}};

// Outputs as the adapter writes them in a demo's assistant message.
template <class Sig>
std::string assistant_content(const dspy::Adapter& adapter, const typename Sig::Output& outputs) {
  const dspy::SignatureView& sig = dspy::signature_view<Sig>();
  return adapter.format_assistant_message_content(sig, dspy::FieldValues(sig.outputs, &outputs), "");
}

template <class... Sigs>
struct SigList {
  static constexpr std::size_t size = sizeof...(Sigs);
};
using Signatures = SigList<golden::QA, golden::QAWithReasoning, golden::TextMetrics, golden::WordCounts,
                           golden::EnumSentiment, golden::LiteralSentiment, golden::ExtractPerson, Everything>;

// Calls f.template operator()<Sig>() for signature number `i`.
template <class F, class... Sigs>
void with_signature(std::size_t i, F&& f, SigList<Sigs...>) {
  std::size_t k = 0;
  ((k++ == i ? (f.template operator()<Sigs>(), 0) : 0), ...);
}

template <class Sig>
void parse_with(const dspy::Adapter& adapter, std::string_view completion) {
  std::vector<dspy::ParseNote> notes;
  auto r = dspy::parse_completion<Sig>(adapter, completion, &notes);
  if (!r) {
    DSPY_FUZZ_CHECK(!r.error().message().empty());
    DSPY_FUZZ_CHECK(dspy::is_parse_error(r.error().code()));
    return;
  }
  // What was read must render again (as a demo would).
  (void)assistant_content<Sig>(adapter, *r);
}

/// The first byte picks the adapter and the signature; the rest is the LM's completion.
inline void adapter_parse(std::string_view data) {
  if (data.empty()) return;
  const auto pick = static_cast<unsigned char>(data.front());
  data.remove_prefix(1);
  const dspy::Adapter& adapter = *kAdapters[pick % 3];
  with_signature(
      pick / 3 % Signatures::size, [&]<class Sig>() { parse_with<Sig>(adapter, data); }, Signatures{});
}

template <class T>
void convert(std::string_view text, const std::optional<boost::json::value>& json) {
  T from_text{};
  if (auto err = dspy::parse_text(text, from_text)) DSPY_FUZZ_CHECK(!err->empty());
  if (json) {
    T from_value{};
    if (auto err = dspy::from_json(*json, from_value)) DSPY_FUZZ_CHECK(!err->empty());
  }
}

/// The tolerant reader (fences, JSON in prose, Python literals) and the typed conversions behind it.
inline void tolerant(std::string_view text) {
  const std::string_view span = dspy::detail::find_json_span(text);
  DSPY_FUZZ_CHECK(span.empty() || (span.data() >= text.data() && span.data() + span.size() <= text.data() + text.size()));
  std::string how;
  const std::optional<boost::json::value> json = dspy::detail::parse_json_tolerant(text, &how);
  convert<int>(text, json);
  convert<double>(text, json);
  convert<bool>(text, json);
  convert<golden::Priority>(text, json);
  convert<dspy::Literal<"open", "closed">>(text, json);
  convert<std::vector<int>>(text, json);
  convert<std::map<std::string, double>>(text, json);
  convert<std::optional<golden::Person>>(text, json);
  convert<golden::Ticket>(text, json);
  convert<golden::Order>(text, json);
  convert<golden::Customer>(text, json);
  convert<boost::json::value>(text, json);
}

// A fresh program is a copy of one built once: building a Predict renders its system message for
// every adapter, which cost more than the load itself.
inline const Program& fresh_program() {
  static const Program fresh;
  return fresh;
}

/// The program state loader: all or nothing, and what loads saves and loads again.
inline void state_load(std::string_view text) {
  Program program = fresh_program();
  auto r = dspy::load_string(program, text);
  if (!r) {
    DSPY_FUZZ_CHECK(!r.error().message().empty());
    // Unchanged on error (checked cheaply: the program had no demos).
    for (const auto& [path, p] : dspy::named_predictors(program)) DSPY_FUZZ_CHECK(p->demo_count() == 0);
    return;
  }
  const std::string saved = dspy::save_string(program);
  Program again = fresh_program();
  auto reloaded = dspy::load_string(again, saved);
  DSPY_FUZZ_CHECK(reloaded.has_value());
  DSPY_FUZZ_CHECK(dspy::save_string(again) == saved);
}

inline constexpr std::string_view kFuzzKey = "sk-fuzz-0123456789";

/// The client's reading of one HTTP attempt. Input: a flags byte (bit 0 Anthropic, bit 1 last
/// attempt, bit 2 body over the size limit), then "status\nretry-after\ncurl-code\n" and the body.
inline void http_reply(std::string_view data) {
  if (data.empty()) return;
  const auto flags = static_cast<unsigned char>(data.front());
  data.remove_prefix(1);
  const auto line = [&] {
    const auto nl = data.find('\n');
    const std::string_view l = data.substr(0, nl);
    data = nl == std::string_view::npos ? std::string_view() : data.substr(nl + 1);
    return l;
  };
  const auto number = [](std::string_view s) {
    long v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    return v;
  };
  dspy::detail::HttpResponse r;
  r.status = number(line());
  r.retry_after = std::string(line());
  const long curl = number(line());
  r.curl = static_cast<CURLcode>(curl >= 0 && curl < CURL_LAST ? curl : 0);
  if (r.curl != CURLE_OK) r.curl_error = curl_easy_strerror(r.curl);
  r.body = std::string(data);
  r.too_large = flags & 4U;
  r.limit = 1024;
  const auto api = flags & 1U ? dspy::detail::WireApi::anthropic_messages : dspy::detail::WireApi::openai_chat;
  const bool may_retry = !(flags & 2U);
  auto outcome = dspy::detail::judge_reply(api, r, may_retry, "http://127.0.0.1:9/v1/chat/completions", " (attempt 1)");
  if (const auto* retry = std::get_if<dspy::detail::RetryAttempt>(&outcome)) {
    DSPY_FUZZ_CHECK(may_retry && !r.too_large);
    DSPY_FUZZ_CHECK(r.curl != CURLE_OK || !(r.status >= 200 && r.status < 300));  // a 2xx is never retried
    if (retry->retry_after) DSPY_FUZZ_CHECK(retry->retry_after->count() >= 0 && *retry->retry_after <= std::chrono::hours(24));
    return;
  }
  const auto& done = std::get<dspy::Result<dspy::LMResponse>>(outcome);
  if (done) {
    DSPY_FUZZ_CHECK(r.curl == CURLE_OK && r.status >= 200 && r.status < 300 && !r.too_large);
    DSPY_FUZZ_CHECK(!done->completions.empty());
    return;
  }
  DSPY_FUZZ_CHECK(!done.error().message().empty());
  // What the client does with every error before it leaves: no key survives redaction.
  const std::string shown = dspy::detail::redact(done.error().message() + done.error().raw_response(), kFuzzKey);
  DSPY_FUZZ_CHECK(shown.find(kFuzzKey) == std::string::npos);
}

struct Decoded {
  std::string shown;  // what went to on_text
  bool ok = false;
  std::vector<std::string> completions;
  dspy::Usage usage;
  dspy::Errc code{};
  bool stopped = false;  // feed returned false
  bool operator==(const Decoded& o) const {
    return shown == o.shown && ok == o.ok && completions == o.completions && code == o.code &&
           stopped == o.stopped && usage.prompt_tokens == o.usage.prompt_tokens &&
           usage.completion_tokens == o.usage.completion_tokens && usage.total_tokens == o.usage.total_tokens;
  }
};

// Feeds `body` to a stream decoder in pieces of the given sizes (cycled; 0 means whole).
inline Decoded decode_stream(dspy::detail::WireApi api, std::string_view body, std::string_view sizes) {
  Decoded out;
  const dspy::TextSink sink = [&out](std::string_view piece) { out.shown += piece; };
  dspy::detail::StreamDecoder decoder(api, sink);
  for (std::size_t i = 0, k = 0; i < body.size() && !out.stopped; ++k) {
    const std::size_t n = sizes.empty() ? body.size() : static_cast<unsigned char>(sizes[k % sizes.size()]) % 64 + 1;
    out.stopped = !decoder.feed(body.substr(i, n));
    i += n;
  }
  auto r = decoder.finish();
  out.ok = r.has_value();
  if (r) {
    out.completions = r->completions;
    out.usage = r->usage;
    DSPY_FUZZ_CHECK(!r->completions.empty());
    DSPY_FUZZ_CHECK(r->completions.front() == out.shown || out.shown.empty());
  } else {
    out.code = r.error().code();
    DSPY_FUZZ_CHECK(!r.error().message().empty());
  }
  return out;
}

/// A streamed reply (server-sent events of either API, or plain JSON) to the SSE parser and the
/// stream decoder. Input: a flags byte (bit 0 Anthropic), a length byte L, L piece sizes, then
/// the body. The same body cut whole, byte by byte and at the chosen sizes gives the same events,
/// text, result and usage.
inline void sse_stream(std::string_view data) {
  if (data.size() < 2) return;
  const auto api = static_cast<unsigned char>(data[0]) & 1U ? dspy::detail::WireApi::anthropic_messages
                                                            : dspy::detail::WireApi::openai_chat;
  const std::size_t n = std::min<std::size_t>(static_cast<unsigned char>(data[1]), data.size() - 2);
  const std::string_view sizes = data.substr(2, n);
  const std::string_view body = data.substr(2 + n);

  const auto events = [&](std::string_view cut) {
    std::vector<std::pair<std::string, std::string>> out;
    dspy::detail::SseParser parser;
    for (std::size_t i = 0, k = 0; i < body.size(); ++k) {
      const std::size_t len = cut.empty() ? body.size() : static_cast<unsigned char>(cut[k % cut.size()]) % 64 + 1;
      parser.feed(body.substr(i, len), [&](const dspy::detail::SseEvent& e) {
        out.emplace_back(e.type, e.data);
        return true;
      });
      i += len;
    }
    return out;
  };
  const auto whole_events = events({});
  DSPY_FUZZ_CHECK(events(sizes) == whole_events);
  DSPY_FUZZ_CHECK(events(std::string_view("\0", 1)) == whole_events);

  const Decoded whole = decode_stream(api, body, {});
  DSPY_FUZZ_CHECK(decode_stream(api, body, sizes) == whole);
  DSPY_FUZZ_CHECK(decode_stream(api, body, std::string_view("\0", 1)) == whole);
}

// ---- seeds ----------------------------------------------------------------------------------------

struct Target {
  std::string_view name;
  void (*run)(std::string_view);
};
inline constexpr Target kTargets[] = {
    {"adapter_parse", adapter_parse}, {"tolerant", tolerant}, {"state_load", state_load}, {"http_reply", http_reply},
    {"sse_stream", sse_stream}};

inline std::vector<boost::json::value> golden_vectors(const std::filesystem::path& dir) {
  std::vector<boost::json::value> out;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    out.push_back(boost::json::parse(text.str()));
  }
  return out;
}

inline std::size_t adapter_index(std::string_view name) { return name == "json" ? 1 : name == "xml" ? 2 : 0; }

template <class Sig>
typename Sig::Output sample_output() {
  typename Sig::Output out{};
  if constexpr (std::is_same_v<Sig, Everything>) {
    out.ticket = {"Printer on fire", golden::Priority::urgent, {}, {"hardware", "fire"}, golden::Person{"Ada", 36}, 1.5,
                  false};
    out.order = {42, {"1 Main St", "Paris", "75001"}, std::nullopt, {{"toner", 2}, {"paper", 10}}};
    out.count = 3;
    out.scores = {0.25, -1e300, 3};
    out.levels = {{"a", golden::Priority::low}, {"b", golden::Priority::high}};
    out.customer = {"Grace \"Amazing\" Hopper", "grace@example.com", {{"<tag> & co", "Z\u00fcrich", "8000"}}, true};
  }
  return out;
}

/// Seeds per target, from the golden vectors (completions, demos as the adapters write them,
/// the saved-state vector) and from each signature's outputs as each adapter renders them.
inline std::map<std::string, std::vector<std::string>> seeds(const std::filesystem::path& golden_dir) {
  std::map<std::string, std::vector<std::string>> out;
  auto& adapter = out["adapter_parse"];
  auto& tolerant_seeds = out["tolerant"];
  const auto for_all_signatures = [&](std::size_t a, const std::string& completion) {
    for (std::size_t s = 0; s < Signatures::size; ++s)
      adapter.push_back(std::string(1, static_cast<char>(s * 3 + a)) + completion);
    tolerant_seeds.push_back(completion);
  };
  for (const auto& v : golden_vectors(golden_dir)) {
    const auto& o = v.as_object();
    const std::size_t a = o.contains("adapter") ? adapter_index(o.at("adapter").as_string()) : 0;
    if (const auto* c = o.if_contains("completion")) for_all_signatures(a, std::string(c->as_string()));
    if (const auto* e = o.if_contains("expected")) tolerant_seeds.push_back(boost::json::serialize(*e));
    if (const auto* messages = o.if_contains("messages"))
      for (const auto& m : messages->as_array())
        if (m.at("role") == "assistant") for_all_signatures(a, std::string(m.at("content").as_string()));
    if (const auto* state = o.if_contains("state")) {
      boost::json::object program;
      for (std::string_view path : {"qa", "metrics.predict", "extract", "everything"}) program[path] = *state;
      out["state_load"].push_back(boost::json::serialize(program));
    }
  }
  std::size_t s = 0;
  const auto rendered = [&]<class Sig>() {
    const auto value = sample_output<Sig>();
    for (std::size_t a = 0; a < 3; ++a)
      adapter.push_back(std::string(1, static_cast<char>(s * 3 + a)) + assistant_content<Sig>(*kAdapters[a], value));
    ++s;
  };
  [&]<class... Sigs>(SigList<Sigs...>) { (rendered.template operator()<Sigs>(), ...); }(Signatures{});

  Program program;
  dspy::Demo<golden::QA> qa_demo;
  qa_demo.input.question = "Capital of Italy?";
  qa_demo.output.answer = "Rome";
  program.qa.demos.push_back(qa_demo);
  dspy::Demo<Everything> full;
  full.output = sample_output<Everything>();
  full.augmented = true;
  program.everything.demos.push_back(full);
  out["state_load"].push_back(dspy::save_string(program));
  out["state_load"].push_back(dspy::save_string(Program{}));

  auto& http = out["http_reply"];
  const std::string ok = boost::json::serialize(boost::json::parse(
      R"({"choices":[{"index":0,"message":{"role":"assistant","content":"[[ ## answer ## ]]\nParis"}}],)"
      R"("usage":{"prompt_tokens":11,"completion_tokens":7,"total_tokens":18}})"));
  const std::string claude =
      R"({"content":[{"type":"text","text":"Paris"}],"usage":{"input_tokens":20,"output_tokens":5}})";
  const std::string error = R"({"error":{"message":"context_length_exceeded: the prompt is too long"}})";
  http.push_back(std::string("\0", 1) + "200\n\n0\n" + ok);
  http.push_back(std::string("\1", 1) + "200\n\n0\n" + claude);
  http.push_back(std::string("\0", 1) + "429\n2\n0\n" + error);
  http.push_back(std::string("\0", 1) + "503\nWed, 21 Oct 2015 07:28:00 GMT\n0\n" + error);
  http.push_back(std::string("\2", 1) + "400\n\n0\n" + error);
  http.push_back(std::string("\2", 1) + "401\n\n0\n" + std::string(kFuzzKey));
  http.push_back(std::string("\0", 1) + "0\n\n28\n");
  http.push_back(std::string("\4", 1) + "200\n\n23\n" + ok.substr(0, 20));
  auto& sse = out["sse_stream"];
  const std::string reply = "[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]\n";
  std::vector<std::string> pieces;
  for (std::size_t i = 0; i < reply.size(); i += 4) pieces.push_back(reply.substr(i, 4));
  const std::string cuts("\3\1\7\2", 4);
  for (const auto& [flags, body] : std::vector<std::pair<char, std::string>>{
           {'\0', dspy::test::openai_stream(pieces)},
           {'\0', dspy::test::openai_stream(pieces, /*done=*/false)},
           {'\1', dspy::test::anthropic_stream(pieces)},
           {'\0', "\xEF\xBB\xBF: comment\r\ndata: {\"choices\":[{\"index\":1,\"delta\":{\"content\":\"b\"}}]}\r\n\r\n"
                  "data: {\"error\":{\"type\":\"server_error\",\"message\":\"overloaded\"}}\n\n"},
           {'\1', "event: ping\ndata: {\"type\":\"ping\"}\n\nevent: error\ndata: {\"type\":\"error\",\"error\":"
                  "{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n"},
           {'\0', ok}}) {
    sse.push_back(std::string(1, flags) + std::string(1, static_cast<char>(cuts.size())) + cuts + body);
  }
  for (const auto& completion : std::vector<std::string>(tolerant_seeds)) {
    boost::json::object body{{"choices", {{{"message", {{"content", completion}}}}}}};
    http.push_back(std::string("\0", 1) + "200\n\n0\n" + boost::json::serialize(body));
  }
  return out;
}

}  // namespace fuzz
