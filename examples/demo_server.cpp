// An offline, OpenAI-compatible LM server for examples and CI: answers POST /v1/chat/completions
// (and Anthropic's POST /v1/messages) on 127.0.0.1 from a file of scripted replies, from a file of
// routes that pick the reply by the request's content, or as a simulated model that reads each
// prompt and answers it; and POST /v1/embeddings with dspy::testing::hash_embedding (a
// hashing-trick embedding: texts sharing words are close).
//
//   demo_server REPLIES.jsonl [PORT]
//   demo_server --routes ROUTES.jsonl [PORT]
//   demo_server --simulate [--latency-ms MS] [--error-rate R] [PORT]
//
// A request with "stream": true is answered with server-sent events in the API's shape (OpenAI
// chat.completion.chunk events up to [DONE], with usage when stream_options.include_usage is
// set; Anthropic message_start ... message_stop), a few bytes of text per event.
//
// /v1/embeddings takes OpenAI's body: "input" (a string or an array of up to 2048 strings),
// optionally "dimensions" (1 to 4096; default 1024) and "encoding_format" ("float", the default,
// or "base64": little-endian float32 bytes). It works in both modes and takes no reply from the
// file.
//
// REPLIES.jsonl holds one reply per line: a JSON string (the completion text) or an object with
// a "content" string, "tool_calls", or both. "tool_calls" is a list of function calls
// {"id"?, "name", "arguments"?}, the arguments an object or JSON text (none: {}); an absent id is
// made up ("call_<n>" on /v1/chat/completions, "toolu_<n>" on /v1/messages). They are served in
// OpenAI's shape (message.tool_calls entries of type "function" with the arguments as JSON text,
// content null when there is no text, finish_reason "tool_calls") or as Anthropic tool_use blocks
// after the text (stop_reason "tool_use"), and streamed as OpenAI delta.tool_calls chunks (the
// arguments in pieces) or Anthropic tool_use content blocks with input_json_delta pieces. A routes
// file's route may carry "tool_calls" too. Requests may hold tool calls and tool messages (OpenAI
// "tool" messages, Anthropic tool_result blocks). Replies are served in order and cycle.
//
// With --routes, each request gets the reply of the first route that matches it, as dspy::testing::RoutedLM::load_routes reads the file
// (README, "Test LMs"); a request no route matches is answered 400 with the reasons. With --simulate, replies come from
// dspy::testing::simulate_reply (it solves the shipped arithmetic and factoid datasets and is
// wrong on a fixed share of items; with --error-rate, on a share R of every prompt's items, so
// that two servers stand for a better and a worse model), each after about MS milliseconds (0.5
// to 1.5 times MS, fixed per prompt). With PORT 0 (the default) the system picks a port; the port is printed alone on
// the first line of stdout, e.g.
//
//   port=$(./demo_server replies.jsonl | head -1) ...
//   dspy::LM("openai/demo", {.api_base = "http://127.0.0.1:" + port + "/v1", .api_key = "none"})
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <dspy/detail/io/binary.hpp>
#include <dspy/detail/io/jsonl.hpp>
#include <dspy/testing/hash_embedding.hpp>
#include <dspy/testing/routed_lm.hpp>
#include <dspy/testing/simulated_lm.hpp>

namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace json = boost::json;
using asio::ip::tcp;

// Files larger than this are refused: the server holds them in memory.
constexpr std::uintmax_t kMaxFileBytes = 64U << 20U;

// One choice of an answer: its text and the function calls it asks for (ids may be empty: the
// answer makes them up).
struct Choice {
  std::string text;
  std::vector<dspy::MessageToolCall> calls;
};

struct Script {
  std::vector<Choice> replies;  // empty: routes or simulate
  std::chrono::milliseconds latency{0};
  dspy::testing::SimulatedLMOptions simulated{};
  std::size_t next = 0;
  std::uint64_t served = 0;
  std::uint64_t call_ids = 0;  // tool call ids made up so far
  std::optional<dspy::testing::RoutedLM> routes{};

  // `draw` is the completion's index: the simulated model's samples differ by it.
  Choice take(const std::vector<dspy::Message>& prompt, std::uint64_t draw = 0) {
    if (replies.empty()) return {dspy::testing::simulate_reply(prompt, simulated, draw), {}};
    const Choice& r = replies[next];
    next = (next + 1) % replies.size();
    return r;
  }

  // The request's `n` choices; with routes, the route's reply or why none matched.
  dspy::Result<std::vector<Choice>> completions(const std::vector<dspy::Message>& prompt, std::int64_t n) {
    std::vector<Choice> out;
    if (routes) {
      dspy::LMRequest request{.messages = prompt, .config = {.n = static_cast<int>(n)}};
      auto reply = routes->reply_to(request);
      if (!reply) return std::move(reply).error();
      for (std::size_t i = 0; i < reply->completions.size(); ++i)
        out.push_back({std::move(reply->completions[i]),
                       i < reply->tool_calls.size() ? std::move(reply->tool_calls[i]) : std::vector<dspy::MessageToolCall>{}});
      return out;
    }
    for (std::int64_t i = 0; i < n; ++i) out.push_back(take(prompt, static_cast<std::uint64_t>(i)));
    return out;
  }
};

std::vector<Choice> load_replies(const std::string& path) {
  std::vector<Choice> out;
  auto read = dspy::detail::for_each_jsonl_row(
      path,
      [&](std::size_t line, const json::value& v) -> dspy::Result<void> {
        const auto bad = [&] {
          return dspy::Error(dspy::Errc::parse_error,
                             dspy::detail::at_line(path, line) +
                                 "expected a JSON string or an object with a \"content\" string and/or \"tool_calls\"");
        };
        if (v.is_string()) {
          out.push_back({std::string(v.get_string()), {}});
          return {};
        }
        if (!v.is_object()) return bad();
        Choice choice;
        const auto* content = v.get_object().if_contains("content");
        const auto* calls = v.get_object().if_contains("tool_calls");
        if ((!content && !calls) || (content && !content->is_string())) return bad();
        if (content) choice.text = content->get_string();
        if (calls) {
          auto read = dspy::detail::scripted_tool_calls(*calls, dspy::detail::at_line(path, line) + "\"tool_calls\"");
          if (!read) return std::move(read).error();
          choice.calls = std::move(*read);
        }
        out.push_back(std::move(choice));
        return {};
      },
      kMaxFileBytes);
  if (!read) throw std::runtime_error(read.error().message());
  if (out.empty()) throw std::runtime_error(path + " holds no replies");
  return out;
}

std::string string_at(const json::object* o, std::string_view key) {
  const auto* v = o ? o->if_contains(key) : nullptr;
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

// The conversation of a request: Anthropic's top-level system prompt, then the messages, with
// OpenAI's tool calls and tool messages (content null, `tool_calls`, `tool_call_id`); Anthropic's
// tool_use and tool_result blocks stay content blocks.
std::vector<dspy::Message> prompt_of(const json::object& body) {
  std::vector<dspy::Message> out;
  if (const auto* s = body.if_contains("system"); s && s->is_string()) out.push_back({"system", std::string(s->get_string())});
  if (const auto* m = body.if_contains("messages"); m && m->is_array())
    for (const auto& msg : m->get_array()) {
      const auto* o = msg.if_object();
      if (!o || !o->contains("role") || !o->at("role").is_string()) continue;
      dspy::Message message{.role = string_at(o, "role"),
                            .tool_call_id = string_at(o, "tool_call_id"),
                            .name = string_at(o, "name")};
      const auto* content = o->if_contains("content");
      if (content && content->is_string()) {
        message.content = std::string(content->get_string());
      } else if (content && content->is_array()) {  // content parts or blocks: images, files, documents and text
        std::vector<dspy::ContentPart> parts;
        for (const auto& p : content->get_array())
          if (p.is_object()) parts.push_back(p.get_object());
        message.content = dspy::Content(std::move(parts));
      }
      if (const auto* calls = o->if_contains("tool_calls"); calls && calls->is_array())
        for (const auto& c : calls->get_array()) {
          const auto* function = c.is_object() ? c.get_object().if_contains("function") : nullptr;
          const auto* f = function ? function->if_object() : nullptr;
          message.tool_calls.push_back({string_at(c.if_object(), "id"), string_at(f, "name"), string_at(f, "arguments")});
        }
      out.push_back(std::move(message));
    }
  return out;
}

using dspy::testing::estimate_tokens;

json::value error_body(std::string_view message) { return {{"error", {{"message", message}, {"type", "invalid_request_error"}}}}; }

// The double whose shortest decimal is the float's: "0.49371904" rather than the float's exact
// value, 0.4937190413475036..., so that replies are about half as long.
double shortest(float x) {
  char text[32];
  const auto written = std::to_chars(text, text + sizeof text, x);
  double out = x;
  std::from_chars(text, written.ptr, out);
  return out;
}

// An OpenAI embeddings reply: each input text's hash_embedding.
std::pair<http::status, json::value> embeddings(Script& script, const json::object& body) {
  constexpr std::size_t max_inputs = 2048;
  constexpr std::int64_t max_dimensions = 4096;
  std::vector<std::string> texts;
  const auto* input = body.if_contains("input");
  if (input && input->is_string()) texts.emplace_back(input->get_string());
  if (input && input->is_array())
    for (const auto& t : input->get_array()) {
      if (!t.is_string()) return {http::status::bad_request, error_body("\"input\" must hold strings only")};
      texts.emplace_back(t.get_string());
    }
  if (texts.empty()) return {http::status::bad_request, error_body("\"input\" must be a string or a non-empty array of strings")};
  if (texts.size() > max_inputs)
    return {http::status::bad_request, error_body("at most " + std::to_string(max_inputs) + " inputs per request")};
  std::int64_t dimensions = 1024;  // fewer hash collisions than 256 or 512 on the shipped corpus
  if (const auto* d = body.if_contains("dimensions")) {
    if (!d->is_int64() || d->get_int64() < 1 || d->get_int64() > max_dimensions)
      return {http::status::bad_request, error_body("\"dimensions\" must be an integer from 1 to 4096")};
    dimensions = d->get_int64();
  }
  const std::string model = body.contains("model") && body.at("model").is_string()
                                ? std::string(body.at("model").get_string())
                                : std::string("demo-embedding");
  bool base64 = false;
  if (const auto* f = body.if_contains("encoding_format")) {
    if (!f->is_string() || (f->get_string() != "float" && f->get_string() != "base64"))
      return {http::status::bad_request, error_body("\"encoding_format\" must be \"float\" or \"base64\"")};
    base64 = f->get_string() == "base64";
  }
  json::array data;
  std::size_t chars = 0;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    chars += texts[i].size();
    const auto values = dspy::testing::hash_embedding(texts[i], static_cast<std::size_t>(dimensions));
    json::value vector;
    if (base64) {
      vector = json::string(dspy::detail::base64_encode(dspy::detail::le_bytes_from_floats(values)));
    } else {
      json::array numbers;
      for (const float x : values) numbers.push_back(shortest(x));
      vector = std::move(numbers);
    }
    data.push_back({{"object", "embedding"}, {"index", i}, {"embedding", std::move(vector)}});
  }
  ++script.served;
  const std::int64_t tokens = estimate_tokens(chars);
  return {http::status::ok,
          {{"object", "list"},
           {"data", std::move(data)},
           {"model", model},
           {"usage", {{"prompt_tokens", tokens}, {"total_tokens", tokens}}}}};
}

// The status and body answering one request.
std::pair<http::status, json::value> answer(Script& script, const http::request<http::string_body>& req) {
  if (req.target() == "/v1/embeddings" || req.target() == "/embeddings") {
    if (req.method() != http::verb::post) return {http::status::method_not_allowed, error_body("use POST")};
    boost::system::error_code ec;
    json::value parsed = json::parse(req.body(), ec);
    if (ec || !parsed.is_object()) return {http::status::bad_request, error_body("the body is not a JSON object")};
    return embeddings(script, parsed.get_object());
  }
  const bool openai = req.target() == "/v1/chat/completions" || req.target() == "/chat/completions";
  const bool anthropic = req.target() == "/v1/messages";
  if (!openai && !anthropic)
    return {http::status::not_found, error_body("no route for " + std::string(req.target()) +
                                                "; this server answers POST /v1/chat/completions, /v1/messages and /v1/embeddings")};
  if (req.method() != http::verb::post) return {http::status::method_not_allowed, error_body("use POST")};
  boost::system::error_code ec;
  json::value parsed = json::parse(req.body(), ec);
  if (ec || !parsed.is_object()) return {http::status::bad_request, error_body("the body is not a JSON object")};
  const json::object& body = parsed.get_object();
  const std::string model = body.contains("model") && body.at("model").is_string()
                                ? std::string(body.at("model").get_string())
                                : std::string("demo");
  const std::vector<dspy::Message> messages = prompt_of(body);
  std::size_t chars = 0;
  for (const auto& m : messages) chars += m.content.text().size();
  const std::int64_t prompt = estimate_tokens(chars);
  ++script.served;
  std::int64_t n = 1;
  if (const auto* v = body.if_contains("n"); openai && v && v->is_int64() && v->get_int64() > 0)
    n = std::min<std::int64_t>(v->get_int64(), 128);
  auto choices = script.completions(messages, n);
  if (!choices) return {http::status::bad_request, error_body(choices.error().message())};
  for (auto& choice : *choices)
    for (auto& call : choice.calls)
      if (call.id.empty()) call.id = (openai ? "call_" : "toolu_") + std::to_string(++script.call_ids);
  const auto completion_tokens = [](const Choice& c) {
    std::size_t chars = c.text.size();
    for (const auto& call : c.calls) chars += call.name.size() + call.arguments.size();
    return estimate_tokens(chars);
  };
  if (anthropic) {
    const Choice& choice = choices->front();
    json::array blocks;
    if (!choice.text.empty() || choice.calls.empty()) blocks.push_back({{"type", "text"}, {"text", choice.text}});
    for (const auto& call : choice.calls) {
      json::value input = json::parse(call.arguments, ec);
      if (ec || !input.is_object())
        return {http::status::bad_request,
                error_body("the scripted arguments of tool call `" + call.name +
                           "` are not a JSON object, and Anthropic's tool_use input must be one")};
      blocks.push_back({{"type", "tool_use"}, {"id", call.id}, {"name", call.name}, {"input", std::move(input)}});
    }
    return {http::status::ok,
            {{"id", "msg_demo_" + std::to_string(script.served)},
             {"type", "message"},
             {"role", "assistant"},
             {"model", model},
             {"content", std::move(blocks)},
             {"stop_reason", choice.calls.empty() ? "end_turn" : "tool_use"},
             {"usage", {{"input_tokens", prompt}, {"output_tokens", completion_tokens(choice)}}}}};
  }
  json::array out;
  std::int64_t completion = 0;
  for (std::size_t i = 0; i < choices->size(); ++i) {
    const Choice& choice = (*choices)[i];
    completion += completion_tokens(choice);
    json::object message{{"role", "assistant"}, {"content", choice.text}};
    if (!choice.calls.empty()) {
      if (choice.text.empty()) message["content"] = nullptr;
      json::array calls;
      for (const auto& call : choice.calls)
        calls.push_back({{"id", call.id},
                         {"type", "function"},
                         {"function", {{"name", call.name}, {"arguments", call.arguments}}}});
      message["tool_calls"] = std::move(calls);
    }
    out.push_back({{"index", i},
                   {"message", std::move(message)},
                   {"finish_reason", choice.calls.empty() ? "stop" : "tool_calls"}});
  }
  return {http::status::ok,
          {{"id", "chatcmpl-demo-" + std::to_string(script.served)},
           {"object", "chat.completion"},
           {"model", model},
           {"choices", std::move(out)},
           {"usage", {{"prompt_tokens", prompt}, {"completion_tokens", completion}, {"total_tokens", prompt + completion}}}}};
}

// A reply's text in pieces of about `size` bytes, never splitting a UTF-8 sequence.
std::vector<std::string_view> pieces(std::string_view text, std::size_t size) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    std::size_t n = std::min(size, text.size());
    while (n < text.size() && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) ++n;
    out.push_back(text.substr(0, n));
    text.remove_prefix(n);
  }
  return out;
}

std::string sse(const json::value& data, std::string_view event = {}) {
  std::string out;
  if (!event.empty()) out.append("event: ").append(event).append("\n");
  return out.append("data: ").append(json::serialize(data)).append("\n\n");
}

// The server-sent events of a streamed answer (`"stream": true`), in the API's own shapes.
std::vector<std::string> stream_events(const json::object& reply, const json::object& request) {
  std::vector<std::string> events;
  const json::value id = reply.at("id");
  const json::value model = reply.at("model");
  if (reply.contains("content")) {  // Anthropic
    const json::object& usage = reply.at("usage").as_object();
    events.push_back(sse({{"type", "message_start"},
                          {"message",
                           {{"id", id},
                            {"type", "message"},
                            {"role", "assistant"},
                            {"model", model},
                            {"content", json::array{}},
                            {"stop_reason", nullptr},
                            {"usage", {{"input_tokens", usage.at("input_tokens")}, {"output_tokens", 1}}}}}},
                         "message_start"));
    const json::array& blocks = reply.at("content").as_array();
    for (std::size_t index = 0; index < blocks.size(); ++index) {
      const json::object& block = blocks[index].as_object();
      const bool tool = block.at("type") == "tool_use";
      // A tool_use block starts with an empty input, which input_json_delta pieces then spell out.
      const json::value start = tool ? json::value{{"type", "tool_use"}, {"id", block.at("id")}, {"name", block.at("name")}, {"input", json::object{}}}
                                     : json::value{{"type", "text"}, {"text", ""}};
      events.push_back(sse({{"type", "content_block_start"}, {"index", index}, {"content_block", start}}, "content_block_start"));
      if (index == 0) events.push_back(sse({{"type", "ping"}}, "ping"));
      const std::string text = tool ? json::serialize(block.at("input")) : std::string(block.at("text").as_string());
      for (std::string_view piece : pieces(text, 8)) {
        const json::value delta = tool ? json::value{{"type", "input_json_delta"}, {"partial_json", piece}}
                                       : json::value{{"type", "text_delta"}, {"text", piece}};
        events.push_back(sse({{"type", "content_block_delta"}, {"index", index}, {"delta", delta}}, "content_block_delta"));
      }
      events.push_back(sse({{"type", "content_block_stop"}, {"index", index}}, "content_block_stop"));
    }
    events.push_back(sse({{"type", "message_delta"},
                          {"delta", {{"stop_reason", reply.at("stop_reason")}, {"stop_sequence", nullptr}}},
                          {"usage", {{"output_tokens", usage.at("output_tokens")}}}},
                         "message_delta"));
    events.push_back(sse({{"type", "message_stop"}}, "message_stop"));
    return events;
  }
  const auto chunk = [&](json::array choices) {
    return json::value{
        {"id", id}, {"object", "chat.completion.chunk"}, {"model", model}, {"choices", std::move(choices)}};
  };
  const auto delta = [&](const json::value& index, json::object d) {
    return sse(chunk({{{"index", index}, {"delta", std::move(d)}, {"finish_reason", nullptr}}}));
  };
  for (const auto& c : reply.at("choices").as_array()) {
    const json::value index = c.at("index");
    const json::object& message = c.at("message").as_object();
    const json::value& content = message.at("content");
    events.push_back(delta(index, {{"role", "assistant"}, {"content", content.is_null() ? json::value(nullptr) : json::value("")}}));
    if (content.is_string())
      for (std::string_view piece : pieces(content.get_string(), 8)) events.push_back(delta(index, {{"content", piece}}));
    // Each call opens with its id, type and name, then its arguments text comes in pieces.
    if (const auto* calls = message.if_contains("tool_calls"))
      for (std::size_t i = 0; i < calls->as_array().size(); ++i) {
        const json::object& call = calls->as_array()[i].as_object();
        const json::object& function = call.at("function").as_object();
        events.push_back(delta(index, {{"tool_calls",
                                        {{{"index", i},
                                          {"id", call.at("id")},
                                          {"type", "function"},
                                          {"function", {{"name", function.at("name")}, {"arguments", ""}}}}}}}));
        for (std::string_view piece : pieces(function.at("arguments").as_string(), 8))
          events.push_back(delta(index, {{"tool_calls", {{{"index", i}, {"function", {{"arguments", piece}}}}}}}));
      }
    events.push_back(sse(chunk({{{"index", index}, {"delta", json::object{}}, {"finish_reason", c.at("finish_reason")}}})));
  }
  const auto* options = request.if_contains("stream_options");
  if (options && options->is_object() && options->get_object().if_contains("include_usage") &&
      options->get_object().at("include_usage") == true) {
    json::value last = chunk({});
    last.get_object()["usage"] = reply.at("usage");
    events.push_back(sse(last));
  }
  events.emplace_back("data: [DONE]\n\n");
  return events;
}

// Writes the events as HTTP/1.1 chunks, a few milliseconds apart, as a model would.
asio::awaitable<bool> write_stream(tcp::socket& socket, std::vector<std::string> events, bool keep_alive) {
  boost::system::error_code ec;
  std::string head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                     "Server: dspy-cpp demo_server\r\nTransfer-Encoding: chunked\r\n";
  head += keep_alive ? "\r\n" : "Connection: close\r\n\r\n";
  auto writing = asio::async_write(socket, asio::buffer(head), asio::redirect_error(asio::use_awaitable, ec));
  co_await std::move(writing);
  asio::steady_timer pause(socket.get_executor());
  for (const auto& e : events) {
    if (ec) co_return false;
    std::ostringstream framed;
    framed << std::hex << e.size() << "\r\n" << e << "\r\n";
    const std::string bytes = framed.str();
    auto sending = asio::async_write(socket, asio::buffer(bytes), asio::redirect_error(asio::use_awaitable, ec));
    co_await std::move(sending);
    pause.expires_after(std::chrono::milliseconds(2));
    auto waiting = pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    co_await std::move(waiting);
  }
  auto ending = asio::async_write(socket, asio::buffer(std::string_view("0\r\n\r\n")),
                                  asio::redirect_error(asio::use_awaitable, ec));
  co_await std::move(ending);
  co_return !ec;
}

asio::awaitable<void> session(Script* script, tcp::socket socket) {
  boost::beast::flat_buffer buffer;
  for (;;) {
    http::request<http::string_body> req;
    boost::system::error_code ec;
    auto reading = http::async_read(socket, buffer, req, asio::redirect_error(asio::use_awaitable, ec));
    co_await std::move(reading);
    if (ec) co_return;
    // No structured binding: it would live across the co_awaits below (GCC 12).
    const auto answered = answer(*script, req);
    const http::status status = answered.first;
    const json::value& body = answered.second;
    if (script->latency.count() > 0) {  // about `latency`, fixed per request body
      const double scale = 0.5 + dspy::testing::unit_hash(req.body());
      asio::steady_timer wait(socket.get_executor(),
                              std::chrono::duration_cast<std::chrono::steady_clock::duration>(script->latency * scale));
      auto waiting = wait.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      co_await std::move(waiting);
    }
    if (status == http::status::ok) {
      const json::value request = json::parse(req.body());
      if (const auto* stream = request.as_object().if_contains("stream"); stream && *stream == true) {
        auto streaming =
            write_stream(socket, stream_events(body.as_object(), request.as_object()), req.keep_alive());
        if (!co_await std::move(streaming) || !req.keep_alive()) co_return;
        continue;
      }
    }
    http::response<http::string_body> res(status, req.version());
    res.set(http::field::content_type, "application/json");
    res.set(http::field::server, "dspy-cpp demo_server");
    res.keep_alive(req.keep_alive());
    res.body() = json::serialize(body);
    res.prepare_payload();
    auto writing = http::async_write(socket, res, asio::redirect_error(asio::use_awaitable, ec));
    co_await std::move(writing);
    if (ec || !res.keep_alive()) co_return;
  }
}

asio::awaitable<void> serve(Script* script, tcp::acceptor* acceptor) {
  for (;;) {
    boost::system::error_code ec;
    auto accepting = acceptor->async_accept(asio::redirect_error(asio::use_awaitable, ec));
    tcp::socket socket = co_await std::move(accepting);
    if (ec == asio::error::operation_aborted) co_return;
    if (!ec) asio::co_spawn(acceptor->get_executor(), session(script, std::move(socket)), asio::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  const bool simulate = !args.empty() && args[0] == "--simulate";
  const bool routed = !args.empty() && args[0] == "--routes";
  if (routed) args.erase(args.begin());  // the routes file takes the replies file's place
  std::chrono::milliseconds latency{0};
  std::optional<double> error_rate;
  std::string args_error_rate;  // as given, for the log line
  bool bad_option = false;
  while (simulate && args.size() >= 3 && (args[1] == "--latency-ms" || args[1] == "--error-rate")) {
    try {
      if (args[1] == "--latency-ms") latency = std::chrono::milliseconds(std::stoi(args[2]));
      else {
        error_rate = std::stod(args[2]);
        args_error_rate = args[2];
      }
    } catch (const std::exception&) {
      bad_option = true;
    }
    if (error_rate && !(*error_rate >= 0 && *error_rate <= 1)) bad_option = true;
    args.erase(args.begin() + 1, args.begin() + 3);
  }
  if (bad_option || args.empty() || args.size() > 2) {
    std::cerr << "usage: " << argv[0] << " REPLIES.jsonl [PORT]\n"
              << "       " << argv[0] << " --routes ROUTES.jsonl [PORT]\n"
              << "       " << argv[0] << " --simulate [--latency-ms MS] [--error-rate R] [PORT]\n"
              << "Serves POST /v1/chat/completions (OpenAI) and /v1/messages (Anthropic) on 127.0.0.1,\n"
              << "answering with the file's replies in order, cycling, (--routes) with the reply of the first\n"
              << "route matching the request's fields, or (--simulate) as a simulated model that answers the\n"
              << "shipped datasets' prompts (wrong on a share R in [0, 1] of the items with --error-rate);\n"
              << "and POST /v1/embeddings in every mode, with a deterministic hashing-trick embedding\n"
              << "(\"dimensions\" 1 to 4096, default 1024; \"encoding_format\" float or base64) under which\n"
              << "texts that share words are close. PORT 0 (default) picks a free port;\n"
              << "the port is printed alone on the first line of stdout.\n";
    return 2;
  }
  try {
    Script script{simulate || routed ? std::vector<Choice>{} : load_replies(args[0]), latency};
    if (error_rate) script.simulated.error_rate = [rate = *error_rate](const dspy::testing::ChatPrompt&) { return rate; };
    if (routed) {
      script.routes.emplace("demo");
      if (auto loaded = script.routes->load_routes(args[0]); !loaded)
        throw std::runtime_error(loaded.error().message());
    }
    const int port = args.size() == 2 ? std::stoi(args[1]) : 0;
    if (port < 0 || port > 65535) throw std::runtime_error("the port must be in 0..65535");
    asio::io_context io;
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
    // Handle the signals before announcing the port: a parent may stop us right after reading it.
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](boost::system::error_code, int) { io.stop(); });
    std::cout << acceptor.local_endpoint().port() << std::endl;
    std::cerr << "demo_server: "
              << (simulate ? std::string("simulated model") +
                                 (error_rate ? " (error rate " + args_error_rate + ")" : "")
                  : routed ? "routes from " + args[0]
                           : std::to_string(script.replies.size()) + " replies")
              << ", listening on http://127.0.0.1:"
              << acceptor.local_endpoint().port() << "/v1\n";
    asio::co_spawn(io, serve(&script, &acceptor), asio::detached);
    io.run();
    std::cerr << "demo_server: served " << script.served << " requests\n";
  } catch (const std::exception& e) {
    std::cerr << "demo_server: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
