// dspy::LM over real HTTP on loopback: the request and reply shapes of both APIs, n, usage,
// config merging, hooks, and Predict end to end.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/detached.hpp>
#include <dspy/clients/lm.hpp>
#include <dspy/detail/http/curl_multi.hpp>
#include <dspy/clients/history.hpp>
#include <dspy/predict/predict.hpp>
#include <dspy/clients/usage.hpp>
#include <gtest/gtest.h>

#include "../support/http_test_server.hpp"

namespace lm_wire_test {

using dspy::test::Reply;
using dspy::test::TestServer;

struct CapitalQA {
  static constexpr std::string_view instructions = "Answer questions with short factoid answers.";
  struct Input {
    std::string question;
  };
  struct Output {
    std::string answer;
  };
};

dspy::LMRequest ask(std::string question) {
  dspy::LMRequest r;
  r.messages = {{"system", "Be brief."}, {"user", std::move(question)}};
  return r;
}

TEST(LmWire, OpenAIRequestIsExactAndTheReplyIsRead) {
  TestServer server;
  server.push({.body = dspy::test::openai_reply({"Paris"})});
  dspy::LM lm("openai/gpt-4o-mini", {.api_base = server.base_url(),
                                     .api_key = "sk-test-123",
                                     .temperature = 0.5,
                                     .max_tokens = 100,
                                     .stop = std::vector<std::string>{"END"},
                                     .extra_body = {{"top_p", 1}},
                                     .headers = {{"X-Trace", "abc"}},
                                     .cache = false});
  auto request = ask("Capital of France?");
  request.config.max_tokens = 50;  // the call's config beats the LM's defaults
  request.config.extra = {{"seed", 7}};
  request.config.rollout_id = 2;  // part of the cache key, never sent
  request.response_format = {{"type", "json_object"}};
  auto r = lm.call(request);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->completions, std::vector<std::string>{"Paris"});
  EXPECT_EQ(r->usage, (dspy::Usage{11, 7, 18}));
  EXPECT_EQ(r->model, "openai/gpt-4o-mini");
  EXPECT_FALSE(r->cache_hit);

  const auto got = server.requests();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].method, "POST");
  EXPECT_EQ(got[0].target, "/v1/chat/completions");
  EXPECT_EQ(got[0].body,
            R"({"model":"gpt-4o-mini","messages":[{"role":"system","content":"Be brief."},)"
            R"({"role":"user","content":"Capital of France?"}],"temperature":5E-1,"max_tokens":50,"stop":["END"],)"
            R"("response_format":{"type":"json_object"},"top_p":1,"seed":7})");
  EXPECT_EQ(got[0].header("authorization"), "Bearer sk-test-123");
  EXPECT_EQ(got[0].header("content-type"), "application/json");
  EXPECT_EQ(got[0].header("x-trace"), "abc");
  EXPECT_NE(got[0].header("accept-encoding").find("gzip"), std::string::npos);
  EXPECT_EQ(got[0].headers.count("x-api-key"), 0u);
}

TEST(LmWire, AnthropicRequestUsesTheMessagesApi) {
  TestServer server;
  server.push({.body = dspy::test::anthropic_reply("Paris")});
  dspy::LM lm("anthropic/claude-sonnet-4-5", {.api_base = "http://127.0.0.1:" + std::to_string(server.port()),
                                              .api_key = "ak-test-456",
                                              .temperature = 0.5,
                                              .stop = std::vector<std::string>{"END"},
                                              .cache = false});
  auto request = ask("Capital of France?");
  request.messages.insert(request.messages.begin() + 1, {"system", "Use one word."});
  request.response_format = {{"type", "json_object"}};  // not part of the Messages API
  auto r = lm.call(request);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->completions, std::vector<std::string>{"Paris"});
  EXPECT_EQ(r->usage, (dspy::Usage{20, 5, 25}));

  const auto got = server.requests();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].target, "/v1/messages");
  EXPECT_EQ(got[0].body,
            R"({"model":"claude-sonnet-4-5","system":"Be brief.\n\nUse one word.",)"
            R"("messages":[{"role":"user","content":"Capital of France?"}],"max_tokens":4096,)"
            R"("temperature":5E-1,"stop_sequences":["END"]})");
  EXPECT_EQ(got[0].header("x-api-key"), "ak-test-456");
  EXPECT_EQ(got[0].header("anthropic-version"), "2023-06-01");
  EXPECT_EQ(got[0].headers.count("authorization"), 0u);
}

TEST(LmWire, ExtraHeadersReplaceDefaultsOfTheSameName) {
  TestServer server;
  server.push({.body = dspy::test::anthropic_reply("ok")});
  dspy::LM lm("anthropic/claude-test", {.api_base = server.base_url(),
                                        .api_key = "k",
                                        .headers = {{"Anthropic-Version", "2024-01-01"}, {"anthropic-beta", "x"}},
                                        .cache = false});
  ASSERT_TRUE(lm.call(ask("q")));
  const auto got = server.requests().at(0);
  EXPECT_EQ(got.header("anthropic-version"), "2024-01-01");
  EXPECT_EQ(got.header("anthropic-beta"), "x");
  EXPECT_EQ(got.header("x-api-key"), "k");
}

// Each LM's calls carry its own header lines, shared by its calls: interleaved LMs on one thread's
// pooled curl handles, and an LM made after another's end, never send another's key.
TEST(LmWire, EachLmsCallsCarryItsOwnHeadersOnSharedHandles) {
  TestServer server;
  server.fallback({.body = dspy::test::openai_reply({"x"})});
  std::vector<std::string> sent_keys;
  for (int round = 0; round < 3; ++round) {
    const auto config = [&](const char* k) {
      return dspy::LMConfig{.api_base = server.base_url(), .api_key = "key-" + (k + std::to_string(round)), .cache = false};
    };
    auto a = std::make_unique<dspy::LM>("openai/gpt-4o-mini", config("a"));
    dspy::LM b("openai/gpt-4o-mini", config("b"));
    ASSERT_TRUE(a->call(ask("1")));
    ASSERT_TRUE(b.call(ask("2")));
    ASSERT_TRUE(a->call(ask("3")));
    a.reset();  // its lines may be freed; the next LM's must not be taken for them
    dspy::LM c("openai/gpt-4o-mini", config("c"));
    ASSERT_TRUE(c.call(ask("4")));
    for (const char* k : {"a", "b", "a", "c"})
      sent_keys.push_back(std::string("Bearer key-") + k + std::to_string(round));
  }
  ASSERT_EQ(server.requests().size(), sent_keys.size());
  for (std::size_t i = 0; i < sent_keys.size(); ++i) {
    ASSERT_EQ(server.requests()[i].headers.count("authorization"), 1u) << i;
    EXPECT_EQ(server.requests()[i].headers.find("authorization")->second, sent_keys[i]) << i;
  }
}

TEST(LmWire, GzipRepliesAreDecodedAndTheDefaultHeadersYieldToTheCallers) {
  // {"id":"x",...,"choices":[{...,"content":"Paris"}],"usage":{3, 1, 4}}, gzip-compressed.
  const std::string hex =
      "1f8b08000000000002033d4e410ec2300cfb8bcf1502c1a9afe08ed054bac0025d332d419a34f5ef6407768a6327b657708f88050"
      "1f27853365ff290ec90659c0a194b7569949e8a2ba3e33c086752c4db0aae3d2d8847bf20d5f422c415b3149f48aaac96aa6d3f52"
      "8deae67d4d332b5ac0932bebd0cd94d42322d46442bb077cff3ed3ec15ac33f950f5b8f366f3efb4b3a700134b65272eadfd006ca"
      "e2923d4000000";
  std::string gzipped;
  for (std::size_t i = 0; i < hex.size(); i += 2) gzipped += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  TestServer server;
  server.push({.body = gzipped, .headers = {{"Content-Encoding", "gzip"}}});
  server.push({.body = dspy::test::openai_reply({"ok"})});
  dspy::LM plain("openai/m", {.api_base = server.base_url(), .api_key = "k", .cache = false});
  auto r = plain.call(ask("q"));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->completions, std::vector<std::string>{"Paris"});
  EXPECT_EQ(r->usage, (dspy::Usage{3, 1, 4}));
  dspy::LM own("openai/m", {.api_base = server.base_url(),
                            .api_key = "k",
                            .headers = {{"user-agent", "mine/1"}, {"Accept-Encoding", "identity"}},
                            .cache = false});
  ASSERT_TRUE(own.call(ask("q")));
  const auto got = server.requests();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].header("user-agent"), "dspy-cpp/0.1");
  EXPECT_EQ(got[0].header("accept-encoding"), "deflate, gzip, br, zstd");  // Debian's libcurl
  EXPECT_EQ(got[1].header("user-agent"), "mine/1");
  EXPECT_EQ(got[1].header("accept-encoding"), "identity");
}

TEST(LmWire, AnthropicWithNGivesNCompletionsFromNRequests) {
  TestServer server;
  server.push({.body = dspy::test::anthropic_reply("a")}).push({.body = dspy::test::anthropic_reply("b")});
  dspy::LM lm("anthropic/claude-test", {.api_base = server.base_url(), .api_key = "k", .n = 2, .cache = false});
  auto r = lm.call(ask("q"));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->completions, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(r->usage, (dspy::Usage{40, 10, 50}));
  ASSERT_EQ(server.requests().size(), 2u);
  EXPECT_EQ(server.requests()[0].target, "/v1/messages");
  EXPECT_FALSE(server.requests()[0].json().as_object().contains("n"));
}

TEST(LmWire, NChoicesComeBackInIndexOrder) {
  TestServer server;
  // Choices listed out of order: the index decides.
  server.push({.body = R"({"choices":[{"index":2,"message":{"content":"c"}},{"index":0,"message":{"content":"a"}},)"
                       R"({"index":1,"message":{"content":"b"}}],"usage":{"prompt_tokens":3,"completion_tokens":6}})"});
  dspy::LM lm("openai/gpt-4o-mini", {.api_base = server.base_url(), .api_key = "k", .cache = false});
  auto request = ask(std::string(4000, 'q'));  // big enough that curl would otherwise send Expect
  request.config.n = 3;
  auto r = lm.call(request);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->completions, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(r->usage, (dspy::Usage{3, 6, 9}));  // total filled in when the server leaves it out
  EXPECT_EQ(server.requests()[0].json().at("n"), 3);
  EXPECT_EQ(server.requests()[0].headers.count("expect"), 0u);
}

TEST(LmWire, MissingUsageIsZeroAndNullContentIsEmpty) {
  TestServer server;
  server.push({.body = R"({"choices":[{"index":0,"message":{"role":"assistant","content":null}}]})"});
  dspy::LM lm("ollama_chat/llama3.2", {.api_base = server.base_url(), .cache = false});
  auto r = lm.call(ask("q"));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->completions, std::vector<std::string>{""});
  EXPECT_EQ(r->usage, dspy::Usage{});
  EXPECT_EQ(server.requests()[0].json().at("model"), "llama3.2");
  EXPECT_EQ(server.requests()[0].headers.count("authorization"), 0u);  // no key, no header
}

TEST(LmWire, ReasoningModelsTakeMaxCompletionTokens) {
  TestServer server;
  server.fallback({.body = dspy::test::openai_reply({"x"})});
  for (const char* model : {"openai/o3-mini", "openai/gpt-5", "openai/gpt-5-chat"}) {
    dspy::LM lm(model, {.api_base = server.base_url(), .api_key = "k", .max_tokens = 16000, .cache = false});
    ASSERT_TRUE(lm.call(ask("q")));
  }
  const auto got = server.requests();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_TRUE(got[0].json().as_object().contains("max_completion_tokens"));
  EXPECT_TRUE(got[1].json().as_object().contains("max_completion_tokens"));
  EXPECT_TRUE(got[2].json().as_object().contains("max_tokens"));
}

// The body is written as text, not through a JSON DOM: it must still be what boost::json would
// write for the same object (key order, escapes, numbers), with `extra` replacing a field in place.
TEST(LmWire, BodiesAreWhatTheJsonSerializerWouldWrite) {
  dspy::LMRequest request;
  std::string every_control;
  for (char c = 1; c < 0x20; ++c) every_control += c;
  request.messages = {{"system", "quote \" backslash \\ " + every_control + " del \x7f utf8 \xc3\xa9"},
                      {"user", std::string("nul \0 here", 10)},
                      {"assistant", ""}};
  request.response_format = {{"type", "json_object"}};
  dspy::CallConfig config{.temperature = 0.25, .max_tokens = 9, .n = 2, .stop = std::vector<std::string>{"a\nb", ""}};
  config.extra = {{"seed", 7}, {"temperature", 1.5}, {"stream", false}, {"metadata", {{"k", {1, "x", nullptr}}}}};
  for (auto api : {dspy::detail::WireApi::openai_chat, dspy::detail::WireApi::anthropic_messages})
    for (bool stream : {false, true}) {
      const std::string body = dspy::detail::request_body(api, "m\"1", request, config, stream);
      const boost::json::value v = boost::json::parse(body);
      EXPECT_EQ(boost::json::serialize(v), body);
      const auto& o = v.as_object();
      EXPECT_EQ(o.at("temperature"), 1.5);       // extra wins...
      EXPECT_EQ(std::next(o.begin())->key(),      // ...in the field's place
                api == dspy::detail::WireApi::openai_chat ? "messages" : "system");
      EXPECT_EQ(o.at("seed"), 7);
      EXPECT_EQ(o.at("stream"), false);  // extra's, whether the call streams or not
      EXPECT_EQ(o.at("model"), "m\"1");
    }
  const auto openai = boost::json::parse(
      dspy::detail::request_body(dspy::detail::WireApi::openai_chat, "m", request, config)).as_object();
  EXPECT_EQ(openai.at("messages").as_array()[0].at("content").as_string(), request.messages[0].content.text());
  EXPECT_EQ(openai.at("messages").as_array()[1].at("content").as_string(), request.messages[1].content.text());
  std::vector<std::string_view> keys;
  for (const auto& kv : openai) keys.push_back(kv.key());
  EXPECT_EQ(keys, (std::vector<std::string_view>{"model", "messages", "temperature", "max_tokens", "n", "stop",
                                                 "response_format", "seed", "stream", "metadata"}));
  // A predictor's shared system message writes its JSON literal made once: the same bytes.
  dspy::LMRequest shared = request;
  shared.messages[0].content = dspy::Content::shared(request.messages[0].content.text());
  ASSERT_FALSE(shared.messages[0].content.json_string().empty());
  for (auto api : {dspy::detail::WireApi::openai_chat, dspy::detail::WireApi::anthropic_messages,
                   dspy::detail::WireApi::openai_responses})
    EXPECT_EQ(dspy::detail::request_body(api, "m", shared, config),
              dspy::detail::request_body(api, "m", request, config));
}

TEST(LmWire, ReasoningModelNamesFollowDspy) {
  for (const char* yes : {"o1", "o3-mini", "O4-MINI", "o1-pro-2025-03-19", "o3-2025-04-16", "gpt-5", "gpt-5-mini",
                          "gpt-5-nano-2025-08-07", "azure/o3"})
    EXPECT_TRUE(dspy::detail::openai_reasoning_model(yes)) << yes;
  for (const char* no : {"gpt-4o-mini", "gpt-5-chat-latest", "gpt-5.1", "o2", "o1-mini-pro", "o3-2025-04", "o1x",
                         "gpt-50", "omni"})
    EXPECT_FALSE(dspy::detail::openai_reasoning_model(no)) << no;
}

TEST(LmWire, ProvidersResolveEndpointsAndKeysFromTheEnvironment) {
  ::setenv("GROQ_API_KEY", "gsk-env", 1);
  ::unsetenv("GROQ_API_BASE");
  dspy::LM groq("groq/llama-3.1-8b-instant");
  EXPECT_EQ(groq.url(), "https://api.groq.com/openai/v1/chat/completions");
  ::unsetenv("GROQ_API_KEY");

  ::unsetenv("OPENAI_BASE_URL");
  ::unsetenv("OPENAI_API_BASE");
  ::unsetenv("OPENAI_API_KEY");
  EXPECT_EQ(dspy::LM("gpt-4o-mini", {.api_key = "k"}).url(), "https://api.openai.com/v1/chat/completions");
  EXPECT_EQ(dspy::LM("anthropic/claude", {.api_key = "k"}).url(), "https://api.anthropic.com/v1/messages");
  EXPECT_EQ(dspy::LM("openrouter/anthropic/claude", {.api_key = "k"}).url(),
            "https://openrouter.ai/api/v1/chat/completions");

  // A hosted provider without a key, vLLM without a base, an unknown prefix: config errors.
  for (const char* model : {"openai/gpt-4o-mini", "hosted_vllm/qwen", "nosuch/model"}) {
    dspy::LM lm(model, {.cache = false});
    EXPECT_TRUE(lm.url().empty()) << model;
    auto r = lm.call(ask("q"));
    ASSERT_FALSE(r) << model;
    EXPECT_EQ(r.error().code(), dspy::Errc::config) << model;
  }
  EXPECT_NE(dspy::LM("openai/gpt-4o-mini", {.cache = false}).call(ask("q")).error().message().find("OPENAI_API_KEY"),
            std::string::npos);

  // The base URL comes from the environment; a local server needs no key.
  TestServer server;
  server.push({.body = dspy::test::openai_reply({"ok"})});
  ::setenv("HOSTED_VLLM_API_BASE", server.base_url().c_str(), 1);
  dspy::LM vllm("hosted_vllm/qwen", {.cache = false});
  ::unsetenv("HOSTED_VLLM_API_BASE");
  auto r = vllm.call(ask("q"));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(server.requests()[0].json().at("model"), "qwen");
}

TEST(LmWire, ConnectionsAreReusedAcrossCalls) {
  TestServer server;
  server.fallback({.body = dspy::test::openai_reply({"x"})});
  dspy::LM lm("openai/m", {.api_base = server.base_url(), .api_key = "k", .cache = false});
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(lm.call(ask("q")));
  // A second LM on the same thread shares the connection pool.
  dspy::LM other("openai/m2", {.api_base = server.base_url(), .api_key = "k", .cache = false});
  ASSERT_TRUE(other.call(ask("q")));
  EXPECT_EQ(server.requests().size(), 6u);
  EXPECT_EQ(server.connections(), 1);
}

TEST(LmWire, HooksCanAnswerACallAndSeeEveryCall) {
  TestServer server;
  server.push({.body = dspy::test::openai_reply({"from server"})});
  auto hooks = std::make_shared<dspy::LMHooks>();
  std::vector<std::string> seen;
  hooks->lookup = [](const dspy::LM&, const dspy::LMRequest& r) -> std::optional<dspy::LMResponse> {
    if (r.config.rollout_id) return std::nullopt;
    dspy::LMResponse hit;
    hit.completions = {"from hook"};
    hit.cache_hit = true;
    return hit;
  };
  hooks->record = [&](const dspy::LM& lm, const dspy::LMRequest& r, const dspy::Result<dspy::LMResponse>& out,
                      std::chrono::nanoseconds latency) {
    EXPECT_GE(latency.count(), 0);
    EXPECT_EQ(r.config.temperature, 0.25);  // the merged config
    seen.push_back(lm.model() + ":" + (out ? out->completions.at(0) : "error"));
  };
  dspy::LM lm("openai/m",
              {.api_base = server.base_url(), .api_key = "k", .temperature = 0.25, .cache = false, .hooks = hooks});
  auto cached = lm.call(ask("q"));
  ASSERT_TRUE(cached);
  EXPECT_TRUE(cached->cache_hit);
  auto request = ask("q");
  request.config.rollout_id = 1;
  auto fresh = lm.call(request);
  ASSERT_TRUE(fresh) << fresh.error().message();
  EXPECT_EQ(fresh->completions.at(0), "from server");
  EXPECT_EQ(seen, (std::vector<std::string>{"openai/m:from hook", "openai/m:from server"}));
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_FALSE(server.requests()[0].json().as_object().contains("rollout_id"));
}

TEST(LmWire, PredictRunsEndToEndOverHttp) {
  TestServer server;
  server.push({.body = dspy::test::openai_reply({"[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]"})});
  dspy::Predict<CapitalQA> qa;
  qa.set_lm(dspy::LM("openai/gpt-4o-mini", {.api_base = server.base_url(), .api_key = "k", .cache = false}));
  auto r = qa({.question = "Capital of France?"});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->answer, "Paris");
  EXPECT_EQ(r.value().usage(), (dspy::Usage{11, 7, 18}));
  EXPECT_EQ(r.value().model(), "openai/gpt-4o-mini");
  // The prompt on the wire is the one Predict formats.
  const auto sent = server.requests().at(0).json().at("messages").as_array();
  const auto expected = qa.format({.question = "Capital of France?"});
  ASSERT_EQ(sent.size(), expected.size());
  for (std::size_t i = 0; i < sent.size(); ++i) {
    EXPECT_EQ(sent[i].at("role").as_string(), expected[i].role);
    EXPECT_EQ(sent[i].at("content").as_string(), expected[i].content.text());
  }
}

boost::asio::awaitable<void> count_answer(const dspy::Predict<CapitalQA>* qa, int* ok) {
  auto pending = qa->acall({.question = "q"});
  auto r = co_await std::move(pending);
  if (r && r->answer == "Paris") ++*ok;
}

TEST(LmWire, PredictAsyncCallsShareOneThreadAndOneMulti) {
  TestServer server;
  server.fallback({.body = dspy::test::openai_reply({"[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]"}),
                   .delay = std::chrono::milliseconds(150)});
  dspy::Predict<CapitalQA> qa;
  qa.set_lm(dspy::LM("openai/gpt-4o-mini", {.api_base = server.base_url(), .api_key = "k", .cache = false}));
  boost::asio::io_context io;
  int ok = 0;
  for (int i = 0; i < 8; ++i)
    boost::asio::co_spawn(io, count_answer(&qa, &ok), boost::asio::detached);
  const auto start = std::chrono::steady_clock::now();
  io.run();
  EXPECT_EQ(ok, 8);
  // Eight 150 ms replies in flight together, each on its own connection.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1000));  // 8 in a row would take 1.2 s
  EXPECT_EQ(server.connections(), 8);
  EXPECT_EQ(server.requests().size(), 8u);
}

// curl's receive buffer follows the size of the replies (headers and body): the least curl
// takes, 1 KiB, for short replies, more for long ones up to curl's default, 16 KiB; each reply
// arrives whole whatever buffer its transfer had.
boost::asio::awaitable<void> call_in_turn(dspy::LM* lm, std::vector<std::string> want, std::vector<long>* buffers,
                                          int* ok) {
  auto& curl = dspy::detail::CurlService::of(co_await boost::asio::this_coro::executor);
  for (std::size_t i = 0; i < want.size(); ++i) {
    auto pending = lm->acall(ask("q"));
    auto r = co_await std::move(pending);
    if (r && r->completions.at(0) == want[i]) ++*ok;
    if (i % 40 == 39) buffers->push_back(curl.receive_buffer());
  }
}

TEST(LmWire, TheReceiveBufferFollowsTheSizeOfTheReplies) {
  EXPECT_EQ(dspy::detail::receive_buffer_size(0), 1024);
  EXPECT_EQ(dspy::detail::receive_buffer_size(900), 1024);
  EXPECT_EQ(dspy::detail::receive_buffer_size(1000), 2048);  // an eighth more than 1 KiB
  EXPECT_EQ(dspy::detail::receive_buffer_size(3456), 4096);
  EXPECT_EQ(dspy::detail::receive_buffer_size(std::size_t{1} << 30), 16384);
  TestServer server;
  const std::string short_text = "Paris";
  const std::string long_text(6000, 'x');
  std::vector<std::string> want;
  for (const auto* text : {&short_text, &long_text, &short_text})
    for (int i = 0; i < 40; ++i) {
      server.push({.body = dspy::test::openai_reply({*text})});
      want.push_back(*text);
    }
  dspy::LM lm("openai/m", {.api_base = server.base_url(), .api_key = "k", .cache = false});
  boost::asio::io_context io;
  std::vector<long> buffers;
  int ok = 0;
  boost::asio::co_spawn(io, call_in_turn(&lm, want, &buffers, &ok), boost::asio::detached);
  io.run();
  EXPECT_EQ(ok, 120);
  EXPECT_EQ(buffers, (std::vector<long>{1024, 8192, 1024}));
}

// ---- Cache, usage and history, built into every LM ----

namespace fs = std::filesystem;

// A fresh directory, removed afterwards.
struct TempDir {
  fs::path path = fs::temp_directory_path() / ("dspy-lm-test-" + std::to_string(::getpid()) + "-" +
                                               std::to_string(reinterpret_cast<std::uintptr_t>(this)));
  TempDir() { fs::remove_all(path); }
  ~TempDir() { fs::remove_all(path); }
};

TEST(LmCache, ARepeatedRequestIsAnsweredFromTheCacheWithZeroUsage) {
  TestServer server;
  server.fallback({.body = dspy::test::openai_reply({"[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]"})});
  TempDir dir;
  auto cache = std::make_shared<dspy::Cache>(dspy::CacheOptions{.directory = dir.path});
  dspy::LM lm("openai/m", {.api_base = server.base_url(), .api_key = "sk-cache-key-0123456789", .cache_store = cache});
  dspy::Predict<CapitalQA> qa;
  qa.set_lm(lm);
  auto usage = dspy::track_usage();
  auto first = qa({.question = "Capital of France?"});
  auto second = qa({.question = "Capital of France?"});
  ASSERT_TRUE(first && second);
  EXPECT_FALSE(first.value().cache_hit());
  EXPECT_EQ(first.value().usage(), (dspy::Usage{11, 7, 18}));
  EXPECT_TRUE(second.value().cache_hit());
  EXPECT_EQ(second.value().usage(), dspy::Usage{});
  EXPECT_EQ(second->answer, "Paris");
  EXPECT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(usage.total(), (dspy::Usage{11, 7, 18}));  // the hit spent nothing

  // Another rollout is another sample; a fresh memory still finds the disk entry.
  auto request = qa.format({.question = "Capital of France?"});
  dspy::LMRequest other{request, {.rollout_id = 1}, {}};
  ASSERT_TRUE(lm.call(other));
  EXPECT_EQ(server.requests().size(), 2u);
  cache->clear_memory();
  auto from_disk = lm.call(other);
  ASSERT_TRUE(from_disk);
  EXPECT_TRUE(from_disk->cache_hit);
  EXPECT_EQ(server.requests().size(), 2u);
  // The key is nowhere on disk.
  for (const auto& e : fs::recursive_directory_iterator(dir.path)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path());
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(bytes.find("sk-cache-key"), std::string::npos) << e.path();
  }
}

TEST(LmCache, TheDefaultCacheLivesInDspyCachedirAndCanBeTurnedOffGlobally) {
  TestServer server;
  server.fallback({.body = dspy::test::openai_reply({"ok"})});
  TempDir dir;
  ::setenv("DSPY_CACHEDIR", dir.path.c_str(), 1);
  dspy::configure_cache({});  // the default cache, re-read from the environment
  ::unsetenv("DSPY_CACHEDIR");
  dspy::LM lm("openai/default-cache", {.api_base = server.base_url(), .api_key = "k"});
  ASSERT_TRUE(lm.call(ask("q")));
  ASSERT_TRUE(lm.call(ask("q")));
  EXPECT_EQ(server.requests().size(), 1u);
  std::size_t files = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir.path)) files += e.is_regular_file() ? 1 : 0;
  EXPECT_EQ(files, 1u);

  dspy::configure_cache({.enable_memory = false, .enable_disk = false});
  ASSERT_TRUE(lm.call(ask("q")));
  ASSERT_TRUE(lm.call(ask("q")));
  EXPECT_EQ(server.requests().size(), 3u);
  dspy::configure_cache({.enable_disk = false});  // later tests: no files left behind
}

TEST(LmHistory, EveryCallIsInTheHistoryWithoutTheKey) {
  TestServer server;
  server.push({.body = dspy::test::openai_reply({"Paris"})});
  const std::string key = "sk-history-secret-0123456789";
  dspy::LM lm("openai/m", {.api_base = server.base_url(), .api_key = key, .cache = false});
  dspy::global_history().clear();
  ASSERT_TRUE(lm.call(ask("Capital of France?")));
  const auto last = dspy::global_history().last(1);
  ASSERT_EQ(last.size(), 1u);
  EXPECT_EQ(last[0].model, "openai/m");
  EXPECT_EQ(last[0].outputs, std::vector<std::string>{"Paris"});
  EXPECT_EQ(last[0].usage, (dspy::Usage{11, 7, 18}));
  EXPECT_GT(last[0].latency.count(), 0);
  std::ostringstream printed;
  dspy::inspect_history(1, printed);
  EXPECT_NE(printed.str().find("Capital of France?"), std::string::npos) << printed.str();
  EXPECT_NE(printed.str().find("Paris"), std::string::npos) << printed.str();
  EXPECT_EQ(printed.str().find(key), std::string::npos);
}

}  // namespace lm_wire_test
