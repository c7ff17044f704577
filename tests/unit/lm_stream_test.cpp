// Streaming: the SSE parser and the field splitter under every byte split, and Predict::astream /
// Predict::stream over real HTTP on loopback with awkwardly chunked OpenAI and Anthropic streams,
// errors mid-stream, cancellation and the cache.
#include <chrono>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <dspy/clients/lm.hpp>
#include <dspy/detail/http/sse.hpp>
#include <dspy/predict/predict.hpp>
#include <dspy/adapters/streaming.hpp>
#include <dspy/testing/scripted_lm.hpp>
#include <gtest/gtest.h>

#include "../support/http_test_server.hpp"

namespace lm_stream_test {

namespace asio = boost::asio;
using dspy::Errc;
using dspy::test::cut;
using dspy::test::Reply;
using dspy::test::TestServer;
using std::chrono::milliseconds;

// ---- SSE parser ----

using Events = std::vector<std::pair<std::string, std::string>>;

// Feeds `parts` in order and collects the events.
Events parse_sse(const std::vector<std::string_view>& parts) {
  dspy::detail::SseParser parser;
  Events out;
  for (auto p : parts)
    parser.feed(p, [&](const dspy::detail::SseEvent& e) {
      out.emplace_back(e.type, e.data);
      return true;
    });
  return out;
}

TEST(Sse, EveryByteSplitGivesTheSameEvents) {
  const std::string stream =
      "\xEF\xBB\xBF: a comment\r\nevent: first\r\ndata: a\r\ndata:  b\r\nid: 7\r\nretry: 10\r\n\r\n"
      "data\n\n"
      "data: x\r\r"
      "data: {\"k\": 1}\n\n"
      ":keep-alive\n\n"
      "event: last\ndata: [DONE]\n\n"
      "data: unfinished";
  const Events expected = {{"first", "a\n b"}, {"message", ""}, {"message", "x"}, {"message", "{\"k\": 1}"},
                           {"last", "[DONE]"}};
  const std::string_view s(stream);
  EXPECT_EQ(parse_sse({s}), expected);
  for (std::size_t i = 0; i <= s.size(); ++i) EXPECT_EQ(parse_sse({s.substr(0, i), s.substr(i)}), expected) << i;
  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < s.size(); ++i) bytes.push_back(s.substr(i, 1));
  EXPECT_EQ(parse_sse(bytes), expected);
}

TEST(Sse, TheHandlerCanStopTheParser) {
  dspy::detail::SseParser parser;
  int seen = 0;
  EXPECT_FALSE(parser.feed("data: 1\n\ndata: 2\n\n", [&](const dspy::detail::SseEvent&) { return ++seen < 1; }));
  EXPECT_EQ(seen, 1);
}

// ---- field chunks ----

struct Explain {
  struct Input {
    std::string question;
  };
  struct Output {
    std::string notes;
    std::string answer;
  };
};

using Fields = std::map<std::string, std::string, std::less<>>;

Fields stream_fields(const std::vector<std::string_view>& parts, int* chunks = nullptr) {
  Fields out;
  dspy::detail::FieldStreamer streamer(dspy::signature_view<Explain>(), {.on_chunk = [&](const dspy::StreamChunk& c) {
                                          EXPECT_FALSE(c.text.empty());
                                          EXPECT_EQ(c.text.find("[[ ## completed"), std::string::npos);
                                          out[std::string(c.field)] += c.text;
                                          if (chunks) ++*chunks;
                                        }});
  for (auto p : parts) streamer.feed(p);
  streamer.finish();
  return out;
}

TEST(FieldStream, ChunksConcatenateToTheParsedFieldsUnderEverySplit) {
  const std::string completions[] = {
      "[[ ## notes ## ]]\nThe capital\nof France.\n\n[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]\n",
      "[[ ## notes ## ]]\r\n  Line one\r\n\r\nLine two  \r\n[[ ## answer ## ]] Paris\r\n[[ ## completed ## ]]",
      "Sure!\n[[ ## answer ## ]]\nParis\n[[ ## notes ## ]]\n[[ not a header\n[[1, 2]]\n  [x] item\n"
      "[[ ## answer ## ]]\nLyon\n[[ ## other ## ]]\nignored\n[[ ## completed ## ]]",
      "[[ ## notes ## ]]\nx\n[[ ## answer ## ]]\n[1, 2]",
      "[[## notes##]]\nA\n   [[ ##  answer  ## ]]   \n\n  B  \n",
  };
  for (const auto& text : completions) {
    auto parsed = dspy::parse_completion<Explain>(dspy::ChatAdapter{}, text);
    ASSERT_TRUE(parsed) << text;
    const Fields expected = {{"answer", parsed->answer}, {"notes", parsed->notes}};
    const std::string_view s(text);
    int chunks = 0;
    EXPECT_EQ(stream_fields({s}, &chunks), expected) << text;
    for (std::size_t i = 0; i <= s.size(); ++i)
      EXPECT_EQ(stream_fields({s.substr(0, i), s.substr(i)}), expected) << text << " split at " << i;
    std::vector<std::string_view> bytes;
    for (std::size_t i = 0; i < s.size(); ++i) bytes.push_back(s.substr(i, 1));
    chunks = 0;
    EXPECT_EQ(stream_fields(bytes, &chunks), expected) << text;
    if (&text == &completions[0]) {
      EXPECT_GT(chunks, 20);  // byte by byte, text goes out as it comes
    }
  }
}

// ---- typed partial outputs ----

struct Facts {
  struct Input {
    std::string question;
  };
  struct Output {
    std::string notes;
    int year = 0;
    std::vector<std::string> tags;
  };
};

using PartialFacts = dspy::Partial<Facts::Output>;

// A Partial as JSON, null for a field still empty; the parsed outputs the same way.
boost::json::array partial_json(const PartialFacts& p) {
  boost::json::array out;
  std::apply([&](const auto&... f) { (out.push_back(f ? dspy::to_json(*f) : boost::json::value(nullptr)), ...); },
             p.fields());
  return out;
}
boost::json::array output_json(const Facts::Output& o) {
  boost::json::array out;
  dspy::for_each_field(o, [&](const auto& f) { out.push_back(dspy::to_json(f)); });
  return out;
}

// What a listener of partials hears as the adapter's stream reads the reply in `parts`.
std::vector<boost::json::array> stream_partials(const dspy::AdapterHandle& adapter,
                                                const std::vector<std::string_view>& parts) {
  Facts::Output scratch{};
  PartialFacts partial;
  std::vector<boost::json::array> seen;
  dspy::FieldSink sink{.outputs = &scratch, .on_field = [&](std::size_t i) {
                         dspy::detail::take_field(partial, i, scratch);
                         seen.push_back(partial_json(partial));
                       }};
  auto stream = adapter->stream_fields(dspy::signature_view<Facts>(), std::move(sink));
  EXPECT_TRUE(stream);
  for (auto p : parts) stream->feed(p);
  stream->finish();
  return seen;
}

// One Partial per field, each adding one field, a filled field keeping its value, which is the
// parsed one; the last holds the parsed outputs.
void expect_partials(const std::vector<boost::json::array>& seen, const boost::json::array& parsed,
                     const std::string& where) {
  ASSERT_EQ(seen.size(), parsed.size()) << where;
  for (std::size_t k = 0; k < seen.size(); ++k) {
    std::size_t filled = 0;
    for (std::size_t i = 0; i < parsed.size(); ++i) {
      if (seen[k][i].is_null()) continue;
      ++filled;
      EXPECT_EQ(seen[k][i], parsed[i]) << where << " partial " << k << " field " << i;
      if (k + 1 < seen.size()) {
        EXPECT_EQ(seen[k + 1][i], seen[k][i]) << where << " partial " << k + 1;
      }
    }
    EXPECT_EQ(filled, k + 1) << where << " partial " << k;
  }
  EXPECT_EQ(seen.back(), parsed) << where;
}

void expect_partials_under_every_split(const dspy::AdapterHandle& adapter, const std::string& text) {
  auto parsed = dspy::parse_completion<Facts>(adapter, text);
  ASSERT_TRUE(parsed) << parsed.error().message();
  const boost::json::array expected = output_json(*parsed);
  const std::string_view s(text);
  expect_partials(stream_partials(adapter, {s}), expected, text);
  for (std::size_t i = 0; i <= s.size(); ++i)
    expect_partials(stream_partials(adapter, {s.substr(0, i), s.substr(i)}), expected,
                    text + " split at " + std::to_string(i));
  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < s.size(); ++i) bytes.push_back(s.substr(i, 1));
  expect_partials(stream_partials(adapter, bytes), expected, text + " byte by byte");
}

TEST(PartialStream, ChatRepliesGiveMonotonePartialsEndingInTheParsedOutputsUnderEverySplit) {
  const dspy::AdapterHandle chat = dspy::ChatAdapter{};
  for (const std::string text : {
           "Here you go.\n[[ ## notes ## ]]\nThe tower, [[ ## year ## ]] mid-line is no header.\n\n[[ ## year ## ]]\n"
           "1889\n\n[[ ## tags ## ]]\n[\"iron\", \"paris\"]\n\n[[ ## completed ## ]]\n",
           "[[ ## year ## ]]\r\n 1889 \r\n[[ ## tags ## ]] [\"a\"]\r\n[[ ## notes ## ]]\r\n\r\n  two\r\n  lines  \r\n"
           "[[ ## year ## ]]\r\n1900\r\n[[ ## completed ## ]]",
           "[[ ## notes ## ]]\n\n[[ ## tags ## ]]\n[]\n[[ ## year ## ]]\n-3",
       })
    expect_partials_under_every_split(chat, text);
}

TEST(PartialStream, JsonRepliesGiveMonotonePartialsEndingInTheParsedOutputsUnderEverySplit) {
  const dspy::AdapterHandle json = dspy::JSONAdapter{};
  for (const std::string text : {
           "```json\n{\"notes\": \"The \\\"tower\\\", {1889} [x]\\\\\", \"other\": {\"a\": [1, \"}\"]},\n"
           "  \"year\": 1889, \"tags\": [\"iron\", \"pa,ris]\"]}\n```",
           "{\"tags\":[],\"year\":\"1889\",\"notes\":\"caf\\u00e9 \\ud83d\\ude00\"}",
       })
    expect_partials_under_every_split(json, text);
}

TEST(PartialStream, AFieldThatDoesNotParseStaysEmptyAndJsonChunksAreWholeValues) {
  Fields chunks;
  Facts::Output scratch{};
  std::vector<std::size_t> told;
  dspy::FieldSink sink{.on_chunk = [&](const dspy::StreamChunk& c) { chunks[std::string(c.field)] += c.text; },
                       .outputs = &scratch,
                       .on_field = [&](std::size_t i) { told.push_back(i); }};
  auto stream = dspy::AdapterHandle(dspy::JSONAdapter{})->stream_fields(dspy::signature_view<Facts>(), std::move(sink));
  stream->feed(R"({"notes": "a \"b\"", "year": "soon", "tags": ["x", )");
  EXPECT_EQ(told, (std::vector<std::size_t>{0}));
  stream->feed(R"("y"]})");
  stream->finish();
  EXPECT_EQ(told, (std::vector<std::size_t>{0, 2}));  // `year` did not parse
  EXPECT_EQ(chunks, (Fields{{"notes", "a \"b\""}, {"tags", R"(["x","y"])"}, {"year", "soon"}}));
}

// ---- over HTTP ----

const std::string kReply = "[[ ## notes ## ]]\nThe capital of France is Paris.\n\n[[ ## answer ## ]]\nParis\n\n"
                           "[[ ## completed ## ]]\n";

// The reply's text in deltas of 5 bytes, as a model would write it.
std::vector<std::string> deltas(std::string_view text, std::size_t size = 5) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < text.size(); i += size) out.emplace_back(text.substr(i, size));
  return out;
}

Reply sse_reply(std::string body, milliseconds pause = milliseconds(1)) {
  return {.headers = {{"Content-Type", "text/event-stream"}}, .pieces = cut(body), .pause = pause};
}

dspy::LMConfig config_for(const TestServer& server, int retries = 0) {
  return {.api_base = server.base_url(),
          .api_key = "sk-stream-test",
          .num_retries = retries,
          .timeout = milliseconds(5000),
          .backoff = {.initial = milliseconds(20)},
          .cache = false};
}

struct Collected {
  Fields fields;
  std::vector<dspy::StreamChunk> chunks;
};

asio::awaitable<void> astream_into(const dspy::Predict<Explain>* p, Collected* seen,
                                   std::optional<dspy::Result<dspy::Predicted<Explain::Output>>>* out) {
  auto pending = p->astream({.question = "Capital of France?"}, [seen](const dspy::StreamChunk& c) {
    seen->fields[std::string(c.field)] += c.text;
    seen->chunks.push_back(c);
  });
  out->emplace(co_await std::move(pending));
}

TEST(LmStream, OpenAIStreamArrivesAsFieldChunksAndEndsWithTheParsedPrediction) {
  TestServer server;
  server.push(sse_reply(dspy::test::openai_stream(deltas(kReply))));
  dspy::Predict<Explain> p;
  p.set_lm(dspy::LM("openai/gpt-4o-mini", config_for(server)));
  asio::io_context io;
  Collected seen;
  std::optional<dspy::Result<dspy::Predicted<Explain::Output>>> out;
  asio::co_spawn(io, astream_into(&p, &seen, &out), asio::detached);
  io.run();
  ASSERT_TRUE(out && *out) << (out ? out->error().message() : "no result");
  const auto& r = **out;
  EXPECT_EQ(r->answer, "Paris");
  EXPECT_EQ(r->notes, "The capital of France is Paris.");
  EXPECT_EQ(seen.fields, (Fields{{"answer", r->answer}, {"notes", r->notes}}));
  EXPECT_GT(seen.chunks.size(), 4u);
  EXPECT_EQ(seen.chunks.front().field, "notes");
  EXPECT_EQ(seen.chunks.back().field, "answer");
  EXPECT_EQ(r.raw_completion(), kReply);
  EXPECT_EQ(r.usage(), (dspy::Usage{11, 7, 18}));  // from the final usage chunk
  const auto body = server.requests().at(0).json().as_object();
  EXPECT_EQ(body.at("stream"), true);
  EXPECT_EQ(body.at("stream_options").at("include_usage"), true);
}

TEST(LmStream, AnthropicStreamWithTheBlockingApi) {
  TestServer server;
  server.push(sse_reply(dspy::test::anthropic_stream(deltas(kReply, 3))));
  dspy::Predict<Explain> p;
  p.set_lm(dspy::LM("anthropic/claude-test", config_for(server)));
  Fields fields;
  auto r = p.stream({.question = "Capital of France?"},
                    [&](const dspy::StreamChunk& c) { fields[std::string(c.field)] += c.text; });
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->answer, "Paris");
  EXPECT_EQ(fields, (Fields{{"answer", "Paris"}, {"notes", "The capital of France is Paris."}}));
  EXPECT_EQ(r.value().usage(), (dspy::Usage{20, 5, 25}));
  EXPECT_EQ(server.requests().at(0).json().at("stream"), true);
  EXPECT_EQ(server.requests().at(0).target, "/v1/messages");
}

TEST(LmStream, AStreamedCallGivesWhatAnUnstreamedOneGives) {
  TestServer server;
  server.push(sse_reply(dspy::test::openai_stream(deltas(kReply)))).push({.body = dspy::test::openai_reply({kReply})});
  dspy::Predict<Explain> p;
  p.set_lm(dspy::LM("openai/m", config_for(server)));
  auto streamed = p.stream({.question = "q"}, [](const dspy::StreamChunk&) {});
  auto plain = p({.question = "q"});
  ASSERT_TRUE(streamed && plain);
  EXPECT_EQ(streamed->notes, plain->notes);
  EXPECT_EQ(streamed->answer, plain->answer);
  EXPECT_EQ(streamed.value().raw_completion(), plain.value().raw_completion());
  EXPECT_EQ(streamed.value().usage(), plain.value().usage());
  EXPECT_FALSE(server.requests().at(1).json().as_object().contains("stream"));
}

TEST(LmStream, AServerThatDoesNotStreamStillGivesChunks) {
  TestServer server;
  server.push({.body = dspy::test::openai_reply({kReply})});
  dspy::Predict<Explain> p;
  p.set_lm(dspy::LM("openai/m", config_for(server)));
  Fields fields;
  auto r = p.stream({.question = "q"}, [&](const dspy::StreamChunk& c) { fields[std::string(c.field)] += c.text; });
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(fields, (Fields{{"answer", "Paris"}, {"notes", "The capital of France is Paris."}}));
}

TEST(LmStream, ACacheHitIsStreamedWhole) {
  TestServer server;
  server.push(sse_reply(dspy::test::openai_stream(deltas(kReply))));
  auto config = config_for(server);
  config.cache = true;
  config.cache_store = std::make_shared<dspy::Cache>(dspy::CacheOptions{.enable_disk = false});
  dspy::Predict<Explain> p;
  p.set_lm(dspy::LM("openai/m", config));
  ASSERT_TRUE(p.stream({.question = "q"}, [](const dspy::StreamChunk&) {}));
  Fields fields;
  auto hit = p.stream({.question = "q"}, [&](const dspy::StreamChunk& c) { fields[std::string(c.field)] += c.text; });
  ASSERT_TRUE(hit);
  EXPECT_TRUE(hit.value().cache_hit());
  EXPECT_EQ(hit.value().usage(), dspy::Usage{});
  EXPECT_EQ(fields, (Fields{{"answer", "Paris"}, {"notes", "The capital of France is Paris."}}));
  EXPECT_EQ(server.requests().size(), 1u);
}

const std::string kFactsReply =
    "[[ ## notes ## ]]\nBuilt for the 1889 fair.\n\n[[ ## year ## ]]\n1889\n\n[[ ## tags ## ]]\n[\"iron\", \"paris\"]\n\n"
    "[[ ## completed ## ]]\n";

TEST(LmStream, APartialListenerHearsEachFieldTypedAsItCompletes) {
  TestServer server;
  server.push(sse_reply(dspy::test::openai_stream(deltas(kFactsReply))));
  dspy::Predict<Facts> p;
  p.set_lm(dspy::LM("openai/gpt-4o-mini", config_for(server)));
  std::vector<boost::json::array> seen;
  std::vector<std::optional<int>> years;
  auto r = p.stream({.question = "The Eiffel tower?"}, [&](const PartialFacts& partial) {
    seen.push_back(partial_json(partial));
    years.push_back(partial.get<"year">());
  });
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->year, 1889);
  expect_partials(seen, output_json(**r), "openai");
  EXPECT_EQ(seen.at(0), (boost::json::array{"Built for the 1889 fair.", nullptr, nullptr}));
  EXPECT_EQ(years, (std::vector<std::optional<int>>{std::nullopt, 1889, 1889}));
  EXPECT_EQ(server.requests().at(0).json().at("stream"), true);
}

asio::awaitable<void> astream_partials(const dspy::Predict<Facts>* p, std::vector<boost::json::array>* seen,
                                       std::optional<dspy::Result<dspy::Predicted<Facts::Output>>>* out) {
  auto pending = p->astream({.question = "The Eiffel tower?"},
                            [seen](const PartialFacts& partial) { seen->push_back(partial_json(partial)); });
  out->emplace(co_await std::move(pending));
}

TEST(LmStream, APartialListenerWithTheJsonAdapterOverAnthropic) {
  const std::string reply = R"({"notes": "Built for the 1889 fair.", "year": 1889, "tags": ["iron", "paris"]})";
  TestServer server;
  server.push(sse_reply(dspy::test::anthropic_stream(deltas(reply, 3))));
  dspy::Predict<Facts> p;
  p.adapter = dspy::JSONAdapter{};
  p.set_lm(dspy::LM("anthropic/claude-test", config_for(server)));
  asio::io_context io;
  std::vector<boost::json::array> seen;
  std::optional<dspy::Result<dspy::Predicted<Facts::Output>>> out;
  asio::co_spawn(io, astream_partials(&p, &seen, &out), asio::detached);
  io.run();
  ASSERT_TRUE(out && *out) << (out ? out->error().message() : "no result");
  expect_partials(seen, output_json(***out), "anthropic json");
  EXPECT_EQ(seen.at(1), (boost::json::array{"Built for the 1889 fair.", 1889, nullptr}));
  EXPECT_EQ(server.requests().at(0).target, "/v1/messages");
}

TEST(LmStream, AThrowingPartialListenerBecomesTheCallsError) {
  // Without the completed marker the last field completes when the reply ends, after the transfer.
  const std::string reply = kFactsReply.substr(0, kFactsReply.find("[[ ## completed"));
  TestServer server;
  server.push(sse_reply(dspy::test::openai_stream(deltas(reply))));
  dspy::Predict<Facts> p;
  p.set_lm(dspy::LM("openai/m", config_for(server)));
  int calls = 0;
  auto r = p.stream({.question = "q"}, [&](const PartialFacts& partial) {
    if (++calls == 3) throw std::runtime_error("listener gave up at " + std::to_string(partial.filled()));
  });
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("listener gave up at 3"), std::string::npos) << r.error().message();
}

// ---- native reasoning in streams ----

struct Socks {
  struct Input {
    std::string question;
  };
  struct Output {
    dspy::Reasoning reasoning;
    int answer = 0;
  };
};

// Server-sent events named after their JSON's type, as Anthropic and the Responses API send them.
std::string typed_events(const std::vector<boost::json::value>& events) {
  std::string out;
  for (const auto& e : events)
    out += "event: " + std::string(e.at("type").as_string()) + "\ndata: " + boost::json::serialize(e) + "\n\n";
  return out;
}

// The request asked for native reasoning: reasoning_effort sent, the Reasoning field not in the prompt.
void expect_native_request(const dspy::test::Received& request, std::string_view system) {
  const auto body = request.json().as_object();
  EXPECT_EQ(body.at("stream"), true);
  EXPECT_NE(request.body.find("\"reasoning_effort\":\"low\""), std::string::npos) << request.body;
  EXPECT_EQ(system.find("[[ ## reasoning ## ]]"), std::string::npos) << system;
  EXPECT_NE(system.find("[[ ## answer ## ]]"), std::string::npos) << system;
}

TEST(LmStream, OpenAIReasoningContentDeltasFillANativeReasoningOutput) {
  std::string body;
  const auto chunk = [&](boost::json::object delta) {
    body += "data: " +
            boost::json::serialize(boost::json::object{
                {"choices", {{{"index", 0}, {"delta", std::move(delta)}, {"finish_reason", nullptr}}}}}) +
            "\n\n";
  };
  for (const char* piece : {"7 pairs", ", 2 socks", " each."}) chunk({{"reasoning_content", piece}});
  // A section of the native field, which the prompt no longer asks for, is not the output.
  for (const auto& d : deltas("[[ ## reasoning ## ]]\nWritten.\n\n[[ ## answer ## ]]\n14\n\n[[ ## completed ## ]]\n", 4))
    chunk({{"content", d}});
  body += "data: [DONE]\n\n";
  TestServer server;
  server.push(sse_reply(body));
  dspy::Predict<Socks> p;
  p.set_lm(dspy::LM("openai/o3-mini", config_for(server)));
  std::vector<std::pair<std::optional<std::string>, std::optional<int>>> seen;
  auto r = p.stream({.question = "How many socks in seven pairs?"}, [&](const dspy::Partial<Socks::Output>& partial) {
    const auto& reasoning = partial.get<"reasoning">();
    seen.emplace_back(reasoning ? std::optional(reasoning->content) : std::nullopt, partial.get<"answer">());
  });
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->reasoning.content, "7 pairs, 2 socks each.");
  EXPECT_EQ(r->answer, 14);
  // The answer as its section completes; the reasoning, read from the reply's own, at the end.
  EXPECT_EQ(seen, (decltype(seen){{std::nullopt, 14}, {"7 pairs, 2 socks each.", 14}}));
  const auto requests = server.requests();
  const auto& request = requests.at(0);
  expect_native_request(request, request.json().at("messages").at(0).at("content").as_string());
}

TEST(LmStream, AnthropicThinkingDeltasFillANativeReasoningOutput) {
  const auto delta = [](int index, boost::json::object d) {
    return boost::json::value{{"type", "content_block_delta"}, {"index", index}, {"delta", std::move(d)}};
  };
  std::vector<boost::json::value> events = {
      {{"type", "message_start"}, {"message", {{"usage", {{"input_tokens", 20}, {"output_tokens", 1}}}}}},
      {{"type", "content_block_start"}, {"index", 0}, {"content_block", {{"type", "thinking"}, {"thinking", ""}}}},
      delta(0, {{"type", "thinking_delta"}, {"thinking", "Pairs"}}),
      delta(0, {{"type", "thinking_delta"}, {"thinking", " of two."}}),
      delta(0, {{"type", "signature_delta"}, {"signature", "c2ln"}}),
      {{"type", "content_block_stop"}, {"index", 0}},
      {{"type", "content_block_start"}, {"index", 1}, {"content_block", {{"type", "text"}, {"text", ""}}}},
      delta(1, {{"type", "text_delta"}, {"text", "[[ ## answer ## ]]\n1"}}),
      delta(1, {{"type", "text_delta"}, {"text", "4\n"}}),
      {{"type", "content_block_stop"}, {"index", 1}},
      {{"type", "message_delta"}, {"delta", {{"stop_reason", "end_turn"}}}, {"usage", {{"output_tokens", 9}}}},
      {{"type", "message_stop"}}};
  TestServer server;
  server.push(sse_reply(typed_events(events)));
  dspy::Predict<Socks> p;
  p.set_lm(dspy::LM("anthropic/claude-sonnet-4-5", config_for(server)));
  Fields chunks;
  auto r = p.stream({.question = "How many socks in seven pairs?"},
                    [&](const dspy::StreamChunk& c) { chunks[std::string(c.field)] += c.text; });
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->reasoning.content, "Pairs of two.");
  EXPECT_EQ(r->answer, 14);
  EXPECT_EQ(r.value().raw_completion(), "[[ ## answer ## ]]\n14\n");  // thinking is not text
  EXPECT_EQ(chunks, (Fields{{"answer", "14"}}));
  EXPECT_EQ(r.value().usage(), (dspy::Usage{20, 9, 29}));
  const auto requests = server.requests();
  const auto& request = requests.at(0);
  expect_native_request(request, request.json().at("system").as_string());
}

TEST(LmStream, ResponsesReasoningSummaryDeltasFillANativeReasoningOutput) {
  std::vector<boost::json::value> events = {
      {{"type", "response.created"}},
      {{"type", "response.reasoning_summary_text.delta"}, {"delta", "Two socks"}},
      {{"type", "response.reasoning_summary_text.delta"}, {"delta", " a pair."}},
      {{"type", "response.output_text.delta"}, {"delta", "[[ ## answer ## ]]\n"}},
      {{"type", "response.output_text.delta"}, {"delta", "14"}},
      {{"type", "response.completed"},
       {"response", {{"usage", {{"input_tokens", 30}, {"output_tokens", 8}, {"total_tokens", 38}}}}}}};
  TestServer server;
  server.push(sse_reply(typed_events(events)));
  auto config = config_for(server);
  config.model_type = "responses";
  dspy::Predict<Socks> p;
  p.set_lm(dspy::LM("openai/o4-mini", config));
  auto r = p.stream({.question = "How many socks in seven pairs?"}, [](const dspy::StreamChunk&) {});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->reasoning.content, "Two socks a pair.");
  EXPECT_EQ(r->answer, 14);
  const auto body = server.requests().at(0).json();
  EXPECT_EQ(body.at("reasoning"), (boost::json::value{{"effort", "low"}, {"summary", "auto"}}));
  EXPECT_EQ(server.requests().at(0).body.find("[[ ## reasoning ## ]]"), std::string::npos);
}

TEST(LmStream, AnLmThatCannotStreamGivesItsChunksAtTheEnd) {
  dspy::Predict<Explain> p;
  p.set_lm(dspy::testing::ScriptedLM({kReply}));
  Fields fields;
  auto r = p.stream({.question = "q"}, [&](const dspy::StreamChunk& c) { fields[std::string(c.field)] += c.text; });
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(fields, (Fields{{"answer", "Paris"}, {"notes", "The capital of France is Paris."}}));
}

dspy::LMRequest ask() {
  dspy::LMRequest r;
  r.messages = {{"user", "Capital of France?"}};
  return r;
}

// Streams one LM call; returns the result and the text seen.
std::pair<dspy::Result<dspy::LMResponse>, std::string> stream_call(dspy::LM& lm) {
  std::string text;
  asio::io_context io;
  std::optional<dspy::Result<dspy::LMResponse>> out;
  struct Run {
    static asio::awaitable<void> go(dspy::LM* lm, std::string* text,
                                    std::optional<dspy::Result<dspy::LMResponse>>* out) {
      auto pending = lm->astream(ask(), [text](std::string_view piece) { *text += piece; });
      out->emplace(co_await std::move(pending));
    }
  };
  asio::co_spawn(io, Run::go(&lm, &text, &out), asio::detached);
  io.run();
  return {std::move(*out), std::move(text)};
}

TEST(LmStream, AnErrorEventMidStreamIsATypedErrorAndNotRetried) {
  TestServer server;
  std::string body = dspy::test::anthropic_stream({"Par"});
  body = body.substr(0, body.find("event: content_block_stop"));
  body += "event: error\n"
          "data: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n";
  server.push(sse_reply(body)).fallback(sse_reply(dspy::test::anthropic_stream({"Paris"})));
  dspy::LM lm("anthropic/claude-test", config_for(server, 2));
  auto [r, text] = stream_call(lm);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::server) << r.error().message();
  EXPECT_NE(r.error().message().find("Overloaded"), std::string::npos) << r.error().message();
  EXPECT_EQ(text, "Par");
  EXPECT_EQ(server.requests().size(), 1u);  // "Par" was shown: a retry would show it twice
}

TEST(LmStream, AnErrorEventBeforeAnyTextIsRetried) {
  TestServer server;
  server.push(sse_reply("data: {\"error\":{\"message\":\"The server had an error\",\"type\":\"server_error\"}}\n\n"))
      .push({.status = 429, .headers = {{"Retry-After", "0"}}})
      .push(sse_reply(dspy::test::openai_stream({"Par", "is"})));
  dspy::LM lm("openai/m", config_for(server, 2));
  auto [r, text] = stream_call(lm);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->completions.at(0), "Paris");
  EXPECT_EQ(text, "Paris");
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST(LmStream, ABrokenOrUnfinishedStreamIsATypedError) {
  TestServer reset;
  Reply broken = sse_reply(dspy::test::openai_stream(deltas(kReply)));
  broken.kind = Reply::Kind::reset_mid_body;
  reset.push(broken).fallback(sse_reply(dspy::test::openai_stream(deltas(kReply))));
  dspy::LM lm("openai/m", config_for(reset, 2));
  auto [r, text] = stream_call(lm);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::network) << r.error().message();
  EXPECT_FALSE(text.empty());
  EXPECT_EQ(reset.requests().size(), 1u);

  TestServer cut_short;  // a clean end of the body, but no [DONE]
  cut_short.push(sse_reply(dspy::test::openai_stream({"Par"}, /*done=*/false)));
  dspy::LM lm2("openai/m", config_for(cut_short));
  auto [r2, text2] = stream_call(lm2);
  ASSERT_FALSE(r2);
  EXPECT_EQ(r2.error().code(), Errc::bad_response) << r2.error().message();

  TestServer garbage;
  garbage.push(sse_reply("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Par\"}}]}\n\ndata: {not json\n\n"));
  dspy::LM lm3("openai/m", config_for(garbage));
  auto [r3, text3] = stream_call(lm3);
  ASSERT_FALSE(r3);
  EXPECT_EQ(r3.error().code(), Errc::bad_response) << r3.error().message();
  EXPECT_EQ(r3.error().raw_response(), "{not json");
}

// A stream is bounded like a buffered reply: past max_response_bytes the call ends, not retried.
TEST(LmStream, AStreamPastMaxResponseBytesEndsWithBadResponseNamingTheLimit) {
  const std::string long_text(16 * 1024, 'x');
  const std::string body = dspy::test::openai_stream(deltas(long_text, 512));
  TestServer server;
  server.push(sse_reply(body, milliseconds(0))).fallback(sse_reply(body, milliseconds(0)));
  dspy::LMConfig config = config_for(server, 2);
  config.max_response_bytes = 4 * 1024;
  dspy::LM lm("openai/m", config);
  auto [r, text] = stream_call(lm);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::bad_response) << r.error().message();
  EXPECT_NE(r.error().message().find("4096-byte limit (LMConfig::max_response_bytes)"), std::string::npos)
      << r.error().message();
  EXPECT_LT(text.size(), 4u * 1024);
  EXPECT_EQ(server.requests().size(), 1u);

  // Under the limit the same stream goes through whole.
  TestServer roomy;
  roomy.push(sse_reply(body, milliseconds(0)));
  dspy::LMConfig enough = config_for(roomy);
  enough.max_response_bytes = body.size();
  dspy::LM lm2("openai/m", enough);
  auto [r2, text2] = stream_call(lm2);
  ASSERT_TRUE(r2) << r2.error().message();
  EXPECT_EQ(text2, long_text);
}

TEST(LmStream, ThrowingListenerBecomesAnErrorAndStopsTheTransfer) {
  TestServer server;
  server.push(sse_reply(dspy::test::openai_stream(deltas(kReply)), milliseconds(5)));
  dspy::Predict<Explain> p;
  p.set_lm(dspy::LM("openai/m", config_for(server)));
  int calls = 0;
  auto r = p.stream({.question = "q"}, [&](const dspy::StreamChunk&) {
    ++calls;
    throw std::runtime_error("listener gave up");
  });
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("listener gave up"), std::string::npos) << r.error().message();
  EXPECT_EQ(calls, 1);
}

asio::awaitable<void> cancel_on_first_chunk(const dspy::Predict<Explain>* p, asio::cancellation_signal* signal,
                                            std::optional<dspy::Result<dspy::Predicted<Explain::Output>>>* out) {
  auto pending = p->astream({.question = "q"}, [signal](const dspy::StreamChunk&) {
    signal->emit(asio::cancellation_type::terminal);
  });
  out->emplace(co_await std::move(pending));
}

TEST(LmStream, CancellationMidStreamEndsTheCall) {
  // One event every 300 ms, 22 events: the call is cancelled at its first chunk, after 5 or 6.
  const std::string body = dspy::test::openai_stream(deltas(kReply));
  std::vector<std::string> events;
  for (std::size_t at = 0; at < body.size();) {
    const std::size_t end = body.find("\n\n", at) + 2;
    events.push_back(body.substr(at, end - at));
    at = end;
  }
  TestServer server;
  server.push({.headers = {{"Content-Type", "text/event-stream"}}, .pieces = events, .pause = milliseconds(300)});
  auto config = config_for(server);
  config.timeout = milliseconds(30'000);
  dspy::Predict<Explain> p;
  p.set_lm(dspy::LM("openai/m", config));
  asio::io_context io;
  asio::cancellation_signal signal;
  std::optional<dspy::Result<dspy::Predicted<Explain::Output>>> out;
  asio::co_spawn(io, cancel_on_first_chunk(&p, &signal, &out),
                 asio::bind_cancellation_slot(signal.slot(), asio::detached));
  const auto start = std::chrono::steady_clock::now();
  io.run();
  ASSERT_TRUE(out);
  ASSERT_FALSE(*out);
  EXPECT_EQ(out->error().code(), Errc::cancelled) << out->error().message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(5000));  // not the whole 6.6 s stream
}

}  // namespace lm_stream_test
