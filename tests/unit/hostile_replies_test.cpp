// What a hostile or broken reply cannot do: wrap an integer at its limits, stall later calls
// through the rate limiter, overflow or subtract usage, leak the API key in any spelling, grow
// memory past the byte caps, or hang a call through a zero timeout; and the errors say what
// happened (a server that does not speak HTTP, an oversized header).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <dspy/all.hpp>
#include <dspy/clients/lm.hpp>
#include <gtest/gtest.h>

#include "../support/http_test_server.hpp"

namespace hostile_replies_test {

namespace asio = boost::asio;
using dspy::Errc;
using dspy::test::Reply;
using dspy::test::TestServer;
using std::chrono::milliseconds;

dspy::LMRequest ask() {
  dspy::LMRequest r;
  r.messages = {{"user", "Capital of France?"}};
  return r;
}

dspy::LMConfig no_retries(const TestServer& server, std::string key = "sk-test") {
  return {.api_base = server.base_url(), .api_key = std::move(key), .num_retries = 0, .timeout = milliseconds(3000),
          .cache = false};
}

// ---- 1. Integers at their limits: out of range is an error naming the value, on every path ----

template <class T>
std::optional<std::string> text_error(std::string_view text) {
  T out{};
  return dspy::parse_text(text, out);
}

template <class T>
std::optional<std::string> json_error(std::string_view json) {
  T out{};
  return dspy::from_json(boost::json::parse(json), out, {}, "n");
}

TEST(HostileReplies, IntegersPastTheirRangeAreErrorsNamingTheValueInText) {
  for (const char* text : {"9223372036854775808", "9.2233720368547758e18", "-9223372036854775809", "1e19"}) {
    const auto err = text_error<std::int64_t>(text);
    ASSERT_TRUE(err) << text << " was accepted";
    EXPECT_NE(err->find("out of range"), std::string::npos) << *err;
    EXPECT_NE(err->find(text), std::string::npos) << *err;
  }
  EXPECT_TRUE(text_error<std::uint64_t>("18446744073709551616"));
  EXPECT_TRUE(text_error<std::uint64_t>("-1"));
  EXPECT_TRUE(text_error<std::int32_t>("2147483648"));
  EXPECT_TRUE(text_error<std::uint8_t>("256"));
  // The limits themselves, and integral floats within range, still read.
  std::int64_t i = 0;
  EXPECT_FALSE(dspy::parse_text("9223372036854775807", i));
  EXPECT_EQ(i, std::numeric_limits<std::int64_t>::max());
  EXPECT_FALSE(dspy::parse_text("-9223372036854775808", i));
  EXPECT_EQ(i, std::numeric_limits<std::int64_t>::min());
  std::uint64_t u = 0;
  EXPECT_FALSE(dspy::parse_text("18446744073709551615", u));
  EXPECT_EQ(u, std::numeric_limits<std::uint64_t>::max());
  EXPECT_FALSE(dspy::parse_text("4.0e3", i));
  EXPECT_EQ(i, 4000);
  // Not a number at all keeps DSPy's (pydantic's) message.
  EXPECT_NE(text_error<int>("abc")->find("valid integer"), std::string::npos);
}

TEST(HostileReplies, IntegersPastTheirRangeAreErrorsNamingFieldAndValueInJson) {
  const auto big = json_error<std::int64_t>("9223372036854775808");  // a uint64 to Boost.JSON
  ASSERT_TRUE(big);
  EXPECT_NE(big->find("`n`"), std::string::npos) << *big;
  EXPECT_NE(big->find("9223372036854775808"), std::string::npos) << *big;
  EXPECT_TRUE(json_error<std::uint64_t>("18446744073709551616"));  // a double: 2^64
  EXPECT_TRUE(json_error<std::int64_t>("9.2233720368547758e18"));
  EXPECT_TRUE(json_error<std::uint64_t>("-1"));
  EXPECT_TRUE(json_error<std::int16_t>("40000"));
  EXPECT_TRUE(json_error<std::vector<std::int64_t>>("[1, 9223372036854775808]"));
  std::uint64_t u = 0;
  EXPECT_FALSE(dspy::from_json(boost::json::parse("18446744073709551615"), u));
  EXPECT_EQ(u, std::numeric_limits<std::uint64_t>::max());
}

struct Count {
  struct Input {
    std::string question;
  };
  struct Output {
    std::int64_t n;
    std::vector<std::uint64_t> sizes;
  };
};

TEST(HostileReplies, APredictionWithAnOutOfRangeIntegerFailsOnEveryAdapterPath) {
  struct Case {
    dspy::AdapterHandle adapter;
    std::string reply;
  };
  const Case cases[] = {
      {dspy::ChatAdapter{.use_json_adapter_fallback = false},
       "[[ ## n ## ]]\n9223372036854775808\n\n[[ ## sizes ## ]]\n[1]\n\n[[ ## completed ## ]]"},
      {dspy::ChatAdapter{.use_json_adapter_fallback = false},  // a Python-literal list
       "[[ ## n ## ]]\n1\n\n[[ ## sizes ## ]]\n[1, -2]\n\n[[ ## completed ## ]]"},
      {dspy::JSONAdapter{}, R"({"n": 1, "sizes": [18446744073709551616]})"},
      {dspy::JSONAdapter{}, R"({"n": 9.2233720368547758e18, "sizes": []})"},
      {dspy::XMLAdapter{.use_json_adapter_fallback = false}, "<n>-9223372036854775809</n><sizes>[]</sizes>"},
  };
  for (const auto& c : cases) {
    auto lm = std::make_shared<dspy::testing::ScriptedLM>(std::vector<std::string>{c.reply});
    dspy::Predict<Count> predict;
    predict.set_lm(lm);
    predict.adapter = c.adapter;
    const auto r = predict({.question = "how many?"});
    ASSERT_FALSE(r) << c.reply << " gave n = " << r->n;
    EXPECT_NE(r.error().message().find("out of range"), std::string::npos) << r.error().message();
  }
}

// ---- 2, 3. Usage is the server's claim: clamped in the limiter, saturated, never negative ----

TEST(HostileReplies, AHugeTokenClaimMakesTheRateLimiterWaitAtMostAMinute) {
  dspy::detail::RateLimiter limiter(0, 6000);  // 100 tokens a second
  limiter.charge(1'000'000'000'000);
  EXPECT_LE(limiter.reserve(), std::chrono::seconds(60));
  limiter.charge(std::numeric_limits<std::int64_t>::max());
  const auto wait = limiter.reserve();
  EXPECT_GT(wait, std::chrono::seconds(59));  // not wrapped to zero
  EXPECT_LE(wait, std::chrono::seconds(60));
  dspy::detail::RateLimiter credited(0, 6000);
  credited.charge(-1'000'000);  // a negative claim credits nothing
  credited.charge(200);         // two seconds' worth
  EXPECT_GT(credited.reserve(), milliseconds(500));
}

TEST(HostileReplies, UsageSumsSaturateAndUint64CountsAreHeldAtTheMaximum) {
  dspy::Usage u{.prompt_tokens = INT64_MAX - 1, .completion_tokens = 5, .total_tokens = INT64_MAX};
  u += dspy::Usage{.prompt_tokens = 10, .completion_tokens = 1, .total_tokens = 10};
  EXPECT_EQ(u.prompt_tokens, INT64_MAX);
  EXPECT_EQ(u.completion_tokens, 6);
  EXPECT_EQ(u.total_tokens, INT64_MAX);

  TestServer server;
  server.push({.body = R"({"choices":[{"index":0,"message":{"content":"x"}}],)"
                       R"("usage":{"prompt_tokens":9223372036854775807,"completion_tokens":9223372036854775807}})"})
      .push({.body = R"({"choices":[{"index":0,"message":{"content":"x"}}],)"
                     R"("usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":18446744073709551615}})"});
  dspy::LM lm("openai/m", no_retries(server));
  const auto first = lm.call(ask());
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_EQ(first->usage.total_tokens, INT64_MAX);  // prompt + completion, held
  const auto second = lm.call(ask());
  ASSERT_TRUE(second) << second.error().message();
  EXPECT_EQ(second->usage.total_tokens, INT64_MAX);  // not -1
}

TEST(HostileReplies, ANegativeTokenCountIsABadResponseAndNeverReachesUsageTracking) {
  TestServer server;
  server.fallback({.body = R"({"choices":[{"index":0,"message":{"content":"x"}}],)"
                           R"("usage":{"prompt_tokens":-500,"completion_tokens":3}})"});
  dspy::LM lm("openai/m", no_retries(server));
  const auto usage = dspy::track_usage();
  const auto r = lm.call(ask());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::bad_response);
  EXPECT_NE(r.error().message().find("prompt_tokens = -500"), std::string::npos) << r.error().message();
  EXPECT_TRUE(usage.totals().empty());
}

// ---- 4. The key, in any spelling an echo may use, is redacted from errors and replies ----

constexpr std::string_view kKey = "sk-ECHO-0123456789abcdefXYZ";

TEST(HostileReplies, TheKeyIsRedactedLowerCasedJsonEscapedAndCutShort) {
  using dspy::detail::redact;
  EXPECT_EQ(redact("key: sk-echo-0123456789ABCDEFxyz.", kKey), "key: [redacted].");
  EXPECT_EQ(redact(R"({"k":"sk\u002dECHO\u002d0123456789abcdefXYZ"})", kKey), R"({"k":"[redacted]"})");
  EXPECT_EQ(redact(R"("sk-ECHO-0123456789abcdef\u0058YZ")", kKey), R"("[redacted]")");
  EXPECT_EQ(redact("preview ends sk-ECHO-0123...", kKey), "preview ends [redacted]...");
  EXPECT_EQ(redact("ends with sk-ECHO-012", kKey), "ends with [redacted]");
  // A shorter prefix at a cut, or one in the middle of the text, is too common to be the key.
  EXPECT_EQ(redact("ends with sk-ECH", kKey), "ends with sk-ECH");
  EXPECT_EQ(redact("sk-ECHO-0123 and more", kKey), "sk-ECHO-0123 and more");
  // Short secrets (test keys) only as written.
  EXPECT_EQ(redact("K and k", "k"), "K and [redacted]");
}

TEST(HostileReplies, AnEchoedKeyNeverReachesAParseErrorHistoryOrTheCache) {
  TestServer server;
  // A 2xx reply that echoes the key in several spellings and does not parse.
  std::string lowered(kKey);
  for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const std::string echo = "I saw " + std::string(kKey) + " and " + lowered + " in the request";
  server.fallback({.body = dspy::test::openai_reply({echo})});
  auto cache = std::make_shared<dspy::Cache>(dspy::CacheOptions{.enable_disk = false});
  auto lm = std::make_shared<dspy::LM>("openai/m", dspy::LMConfig{.api_base = server.base_url(),
                                                                   .api_key = std::string(kKey),
                                                                   .num_retries = 0,
                                                                   .timeout = milliseconds(3000),
                                                                   .cache_store = cache});
  dspy::Predict<Count> predict;
  predict.set_lm(lm);
  const auto r = predict({.question = "q"});
  ASSERT_FALSE(r);
  for (const std::string& text : {r.error().message(), r.error().raw_response()}) {
    EXPECT_EQ(text.find("0123456789"), std::string::npos) << text;
    EXPECT_EQ(text.find("0123456789ABCDEF"), std::string::npos) << text;
  }
  for (const auto& entry : dspy::global_history().last(2))
    for (const auto& out : entry.outputs) EXPECT_EQ(out.find("0123456789"), std::string::npos) << out;
  const auto cached = cache->get(dspy::cache_key("openai/m", [&] {
    dspy::LMRequest req;
    req.messages = predict.format({.question = "q"});
    return req;
  }()));
  if (cached) {
    for (const auto& c : cached->completions) EXPECT_EQ(c.find("0123456789"), std::string::npos) << c;
  }
}

TEST(HostileReplies, APreviewThatCutsThroughTheKeyLeavesNoPrefix) {
  TestServer server;
  // Not JSON: the error shows the first 300 characters, which end inside the key.
  server.fallback({.status = 401, .body = std::string(290, '.') + std::string(kKey) + " was rejected"});
  dspy::LM lm("openai/m", no_retries(server, std::string(kKey)));
  const auto r = lm.call(ask());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::auth);
  EXPECT_EQ(r.error().message().find("sk-ECHO-01"), std::string::npos) << r.error().message();
  EXPECT_NE(r.error().message().find("[redacted]"), std::string::npos) << r.error().message();
}

// ---- 5. Memory is bounded by bytes: history, the memory cache, replies in flight ----

TEST(HostileReplies, HistoryIsCappedByBytesAsWellAsByCount) {
  dspy::LMHistory history(10'000, 1U << 20);
  for (int i = 0; i < 24; ++i)
    history.add({.model = "m", .messages = {}, .outputs = {std::string(256U << 10, 'x')}});
  EXPECT_LE(history.bytes(), 1U << 20);
  EXPECT_EQ(history.size(), 3U);  // three 256 KiB entries fit in 1 MiB with their bookkeeping
  history.add({.model = "m", .messages = {}, .outputs = {std::string(2U << 20, 'y')}});  // over the cap alone
  EXPECT_EQ(history.size(), 3U);
  EXPECT_EQ(history.last(1).front().outputs.front().front(), 'x');
  history.set_max_bytes(300U << 10);
  EXPECT_EQ(history.size(), 1U);
  EXPECT_EQ(dspy::global_history().max_bytes(), dspy::LMHistory::kDefaultMaxBytes);
}

TEST(HostileReplies, TheMemoryCacheIsCappedByBytes) {
  dspy::Cache cache({.enable_disk = false, .memory_max_bytes = 1U << 20});
  for (int i = 0; i < 24; ++i) {
    dspy::LMRequest req = ask();
    req.config.rollout_id = i;
    cache.put(dspy::cache_key("m", req), {.completions = {std::string(256U << 10, 'x')}, .model = "m"});
  }
  EXPECT_LE(cache.memory_bytes(), 1U << 20);
  EXPECT_EQ(cache.memory_size(), 3U);
}

TEST(HostileReplies, RepliesInFlightShareOneByteBudgetAndOnlyTheOneOverItFails) {
  TestServer server;
  // Two 600 KiB replies, each in 100 KiB pieces 60 ms apart, so that both are in flight at once.
  for (char c : {'a', 'b'}) {
    const std::string body = dspy::test::openai_reply({std::string(600U << 10, c)});
    std::vector<std::string> pieces;
    for (std::size_t at = 0; at < body.size(); at += 100U << 10) pieces.push_back(body.substr(at, 100U << 10));
    server.push({.pieces = std::move(pieces), .pause = milliseconds(60)});
  }
  dspy::set_max_buffered_reply_bytes(1U << 20);
  dspy::LM lm("openai/m", no_retries(server));
  asio::io_context io;
  std::vector<dspy::Result<dspy::LMResponse>> results;
  auto call = [](dspy::LM* lm, std::vector<dspy::Result<dspy::LMResponse>>* out) -> asio::awaitable<void> {
    out->push_back(co_await lm->acall(ask()));
  };
  asio::co_spawn(io, call(&lm, &results), asio::detached);
  asio::co_spawn(io, call(&lm, &results), asio::detached);
  io.run();
  dspy::set_max_buffered_reply_bytes(256U << 20);
  ASSERT_EQ(results.size(), 2U);
  // Together they pass 1 MiB: the one whose piece would cross it fails, the other completes.
  const auto ok = std::count_if(results.begin(), results.end(), [](const auto& r) { return r.has_value(); });
  EXPECT_EQ(ok, 1);
  for (const auto& r : results) {
    if (r) continue;
    EXPECT_EQ(r.error().code(), Errc::bad_response);
    EXPECT_NE(r.error().message().find("1048576-byte budget"), std::string::npos) << r.error().message();
  }
  EXPECT_EQ(dspy::detail::reply_budget().used.load(), 0U);  // every byte given back
}

// ---- 8, 9. A zero timeout is a config error; misbehaving servers get the right error class ----

TEST(HostileReplies, AZeroOrNegativeTimeoutIsAConfigErrorNotAHang) {
  TestServer server;
  server.fallback({.body = dspy::test::openai_reply({"x"}), .delay = milliseconds(5000)});
  for (const auto t : {milliseconds(0), milliseconds(-5)}) {
    auto config = no_retries(server);
    config.timeout = t;
    dspy::LM lm("openai/m", config);
    const auto r = lm.call(ask());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), Errc::config);
    EXPECT_NE(r.error().message().find("timeout must be positive"), std::string::npos) << r.error().message();
  }
  dspy::LM lm("openai/m", no_retries(server));
  dspy::LMRequest req = ask();
  req.config.timeout = milliseconds(0);
  const auto r = lm.call(req);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::config);
  EXPECT_TRUE(server.requests().empty());
}

TEST(HostileReplies, AServerThatDoesNotSpeakHttpIsABadResponseAndRetried) {
  TestServer server;
  server.fallback({.body = "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n", .kind = Reply::Kind::raw});
  auto config = no_retries(server);
  config.num_retries = 1;
  config.backoff = {.initial = milliseconds(10), .max = milliseconds(20)};
  dspy::LM lm("openai/m", config);
  const auto r = lm.call(ask());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::bad_response);
  EXPECT_NE(r.error().message().find("not HTTP"), std::string::npos) << r.error().message();
  EXPECT_EQ(server.requests().size(), 2U);  // a server that restarts may answer the retry
}

TEST(HostileReplies, AnOversizedHeaderIsReportedAsSuch) {
  TestServer server;
  server.fallback({.body = dspy::test::openai_reply({"x"}), .headers = {{"X-Big", std::string(1U << 20, 'h')}}});
  dspy::LM lm("openai/m", no_retries(server));
  const auto r = lm.call(ask());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::bad_response);
  EXPECT_NE(r.error().message().find("headers are larger than curl accepts"), std::string::npos)
      << r.error().message();
}

TEST(HostileReplies, OnlyHttpAndHttpsBaseUrlsAreAccepted) {
  dspy::LM lm("openai/m", {.api_base = "file:///etc/passwd", .api_key = "k"});
  const auto r = lm.call(ask());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::config);
  EXPECT_NE(r.error().message().find("http:// or https://"), std::string::npos) << r.error().message();
}

}  // namespace hostile_replies_test
