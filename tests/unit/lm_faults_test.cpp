// dspy::LM under faults, over real HTTP on loopback: typed errors, which failures are retried
// and how long retries wait, timeouts, broken connections, unusable bodies, cancellation, and
// that the API key never shows in an error.
#include <algorithm>
#include <chrono>
#include <ctime>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <dspy/clients/lm.hpp>
#include <dspy/detail/http/retry.hpp>
#include <gtest/gtest.h>

#include "../support/http_test_server.hpp"

namespace lm_faults_test {

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

// Fast retries for tests: 40 ms, 80 ms, 160 ms steps, jittered down by at most a quarter.
dspy::LMConfig fast(const TestServer& server, int retries = 3) {
  return {.api_base = server.base_url(),
          .api_key = "sk-test",
          .num_retries = retries,
          .timeout = milliseconds(1500),
          .backoff = {.initial = milliseconds(40), .max = milliseconds(1000)},
          .cache = false};
}

milliseconds gap(const std::vector<dspy::test::Received>& got, std::size_t i) {
  return std::chrono::duration_cast<milliseconds>(got[i].at - got[i - 1].at);
}

const std::string kOk = dspy::test::openai_reply({"Paris"});

TEST(LmFaults, RetryAfterSecondsIsHonouredThenTheCallSucceeds) {
  TestServer server;
  server.push({.status = 429, .body = R"({"error":{"message":"slow down"}})", .headers = {{"Retry-After", "1"}}})
      .push({.body = kOk});
  dspy::LM lm("openai/m", fast(server));
  auto r = lm.call(ask());
  ASSERT_TRUE(r) << r.error().message();
  const auto got = server.requests();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_GE(gap(got, 1), milliseconds(1000));
  EXPECT_LT(gap(got, 1), milliseconds(3000));  // generous: CI machines are loaded
}

TEST(LmFaults, ServerErrorsAreRetriedWithExponentialJitteredBackoff) {
  TestServer server;
  server.push({.status = 500}).push({.status = 503}).push({.status = 502}).push({.body = kOk});
  dspy::LM lm("openai/m", fast(server));
  auto r = lm.call(ask());
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->retries, 3);  // what a benchmark report counts
  const auto got = server.requests();
  ASSERT_EQ(got.size(), 4u);
  const milliseconds step[] = {milliseconds(40), milliseconds(80), milliseconds(160)};
  for (std::size_t i = 1; i < got.size(); ++i) {
    EXPECT_GE(gap(got, i), step[i - 1] * 3 / 4) << "retry " << i;
    EXPECT_LT(gap(got, i), step[i - 1] + milliseconds(1000)) << "retry " << i;  // jitter bounds: Backoff test
  }
}

TEST(LmFaults, RetriesStopAfterNumRetriesWithATypedError) {
  TestServer server;
  server.fallback({.status = 503, .body = R"({"error":{"message":"overloaded, try later"}})"});
  dspy::LM lm("openai/m", fast(server, 2));
  auto r = lm.call(ask());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::server);
  const std::string& msg = r.error().message();
  EXPECT_NE(msg.find("openai/m"), std::string::npos) << msg;
  EXPECT_NE(msg.find("HTTP 503"), std::string::npos) << msg;
  EXPECT_NE(msg.find(server.base_url() + "/chat/completions"), std::string::npos) << msg;
  EXPECT_NE(msg.find("attempt 3"), std::string::npos) << msg;
  EXPECT_NE(msg.find("overloaded, try later"), std::string::npos) << msg;
  EXPECT_EQ(server.requests().size(), 3u);

  TestServer limited;
  limited.fallback({.status = 429, .body = R"({"error":{"message":"rate limit"}})"});
  auto rl = dspy::LM("openai/m", fast(limited, 1)).call(ask());
  ASSERT_FALSE(rl);
  EXPECT_EQ(rl.error().code(), Errc::rate_limited);
  EXPECT_EQ(limited.requests().size(), 2u);
}

TEST(LmFaults, OtherClientErrorsAreNeverRetried) {
  const std::pair<Reply, Errc> cases[] = {
      {{.status = 400, .body = R"({"error":{"message":"bad temperature"}})"}, Errc::bad_request},
      {{.status = 401, .body = R"({"error":{"message":"who are you"}})"}, Errc::auth},
      {{.status = 403}, Errc::auth},
      {{.status = 404, .body = R"({"error":{"message":"model not found"}})"}, Errc::not_found},
      {{.status = 422}, Errc::bad_request},
      {{.status = 400,
        .body = R"({"error":{"message":"This model's maximum context length is 8192 tokens","code":"context_length_exceeded"}})"},
       Errc::context_window},
      {{.status = 400, .body = R"({"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"}})"},
       Errc::context_window},
  };
  for (const auto& [reply, code] : cases) {
    TestServer server;
    server.push(reply);
    auto r = dspy::LM("openai/m", fast(server)).call(ask());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), code) << reply.status << " " << reply.body;
    EXPECT_EQ(r.error().raw_response(), reply.body);
    EXPECT_EQ(server.requests().size(), 1u) << reply.status;
  }
}

TEST(LmFaults, AnOversizedRetryAfterFallsBackToBackoff) {
  TestServer server;
  server.push({.status = 503, .headers = {{"Retry-After", "3600"}}}).push({.body = kOk});
  auto config = fast(server);
  config.backoff.max_retry_after = milliseconds(100);
  auto r = dspy::LM("openai/m", config).call(ask());
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_LT(gap(server.requests(), 1), milliseconds(2000));  // not the hour it asked for
}

TEST(LmFaults, ASlowReplyTimesOutAndTimeoutsAreRetried) {
  TestServer server;
  server.fallback({.body = kOk, .delay = milliseconds(1000)});
  auto config = fast(server, 0);
  config.timeout = milliseconds(150);
  const auto start = std::chrono::steady_clock::now();
  auto r = dspy::LM("openai/m", config).call(ask());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::timeout);
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(3000));  // the code says it timed out
  EXPECT_EQ(server.requests().size(), 1u);

  TestServer slow_once;
  slow_once.push({.body = kOk, .delay = milliseconds(1000)}).push({.body = kOk});
  config = fast(slow_once, 1);
  config.timeout = milliseconds(150);
  auto retried = dspy::LM("openai/m", config).call(ask());
  ASSERT_TRUE(retried) << retried.error().message();
  EXPECT_EQ(slow_once.requests().size(), 2u);
}

TEST(LmFaults, ACallsOwnTimeoutOverridesTheLms) {
  TestServer server;
  server.fallback({.body = kOk, .delay = milliseconds(1000)});
  auto config = fast(server, 0);
  config.timeout = milliseconds(5000);
  auto request = ask();
  request.config.timeout = milliseconds(150);
  auto r = dspy::LM("openai/m", config).call(request);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::timeout) << r.error().message();
}

TEST(LmFaults, BrokenConnectionsAreNetworkErrorsAndRetried) {
  for (auto kind : {Reply::Kind::reset_mid_body, Reply::Kind::close_before_reply}) {
    TestServer server;
    server.push({.body = kOk, .kind = kind});
    auto r = dspy::LM("openai/m", fast(server, 0)).call(ask());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), Errc::network) << r.error().message();

    TestServer recovering;
    recovering.push({.body = kOk, .kind = kind}).push({.body = kOk});
    auto ok = dspy::LM("openai/m", fast(recovering, 1)).call(ask());
    ASSERT_TRUE(ok) << ok.error().message();
    EXPECT_EQ(ok->completions.at(0), "Paris");
    EXPECT_EQ(recovering.requests().size(), 2u);
  }
}

TEST(LmFaults, RefusedConnectionsAreRetriedThenReported) {
  unsigned short port = 0;
  {
    TestServer gone;  // a port that was just free; nothing listens once the server is gone
    port = gone.port();
  }
  dspy::LM lm("openai/m", {.api_base = "http://127.0.0.1:" + std::to_string(port) + "/v1",
                           .api_key = "k",
                           .num_retries = 2,
                           .backoff = {.initial = milliseconds(40)},
                           .cache = false});
  const auto start = std::chrono::steady_clock::now();
  auto r = lm.call(ask());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::network);
  EXPECT_NE(r.error().message().find("attempt 3"), std::string::npos) << r.error().message();
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(30 + 60));  // two backoff waits
}

TEST(LmFaults, UnusableBodiesAreBadResponsesAndNotRetried) {
  const std::string bodies[] = {
      R"({"choices":[{"index":0,"message":{"content":"Par)",  // truncated
      "<html>upstream error</html>",                          // not JSON
      R"({"choices":[]})",                                    // no choices
      R"({"object":"chat.completion"})",                      // no choices at all
      R"([1,2,3])",                                           // not an object
  };
  for (const auto& body : bodies) {
    TestServer server;
    server.push({.body = body});
    auto r = dspy::LM("openai/m", fast(server)).call(ask());
    ASSERT_FALSE(r) << body;
    EXPECT_EQ(r.error().code(), Errc::bad_response) << body;
    EXPECT_EQ(r.error().raw_response(), body);
    EXPECT_EQ(server.requests().size(), 1u) << body;
  }
}

TEST(LmFaults, TheApiKeyNeverAppearsInErrors) {
  const std::string key = "sk-very-secret-0123456789";
  TestServer server;
  // A provider that echoes the key back, in the body and in its error message.
  server.push({.status = 401, .body = R"({"error":{"message":"Incorrect API key provided: )" + key + R"("}})"});
  auto r = dspy::LM("openai/m", {.api_base = server.base_url(), .api_key = key, .cache = false}).call(ask());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::auth);
  EXPECT_EQ(r.error().message().find(key), std::string::npos) << r.error().message();
  EXPECT_EQ(r.error().raw_response().find(key), std::string::npos) << r.error().raw_response();
  EXPECT_NE(r.error().message().find("[redacted]"), std::string::npos) << r.error().message();
  EXPECT_EQ(server.requests().at(0).header("authorization"), "Bearer " + key);  // but it was sent

  // ...nor in a transport error about a URL that carries it.
  dspy::LM in_url("openai/m",
                  {.api_base = "http://127.0.0.1:1/" + key, .api_key = key, .num_retries = 0, .cache = false});
  auto refused = in_url.call(ask());
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message().find(key), std::string::npos) << refused.error().message();
}

asio::awaitable<void> call_into(dspy::LM* lm, std::optional<dspy::Result<dspy::LMResponse>>* out) {
  auto pending = lm->acall(ask());
  out->emplace(co_await std::move(pending));
}

// Runs one async call, emitting a cancellation after `after`; returns the result and the wall time.
std::pair<dspy::Result<dspy::LMResponse>, milliseconds> cancel_after(dspy::LM& lm, milliseconds after) {
  asio::io_context io;
  asio::cancellation_signal signal;
  std::optional<dspy::Result<dspy::LMResponse>> out;
  asio::co_spawn(io, call_into(&lm, &out), asio::bind_cancellation_slot(signal.slot(), asio::detached));
  asio::steady_timer timer(io, after);
  timer.async_wait([&](boost::system::error_code) { signal.emit(asio::cancellation_type::terminal); });
  const auto start = std::chrono::steady_clock::now();
  io.run();  // returns once nothing is pending: the cancelled transfer must be gone
  return {std::move(*out), std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start)};
}

TEST(LmFaults, CancellationRemovesTheTransfer) {
  TestServer server;
  server.push({.body = kOk, .delay = milliseconds(1500)});
  dspy::LM lm("openai/m", fast(server));
  auto [r, took] = cancel_after(lm, milliseconds(50));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::cancelled) << r.error().message();
  EXPECT_LT(took, milliseconds(3000));  // the code says it was cancelled
  EXPECT_EQ(server.requests().size(), 1u);
}

// More calls in flight than one curl multi takes (256): the transfers run on three, and each is
// removed from its own when cancelled; afterwards the same service still answers.
TEST(LmFaults, CancellingHundredsInFlightRemovesEachFromItsMulti) {
  constexpr int kCalls = 600;
  TestServer server;
  server.fallback({.body = kOk, .delay = milliseconds(60'000)});
  auto config = fast(server, 0);
  config.timeout = milliseconds(120'000);
  dspy::LM lm("openai/m", config);
  asio::io_context io;
  std::vector<asio::cancellation_signal> signals(kCalls);
  std::vector<std::optional<dspy::Result<dspy::LMResponse>>> out(kCalls);
  for (int i = 0; i < kCalls; ++i)
    asio::co_spawn(io, call_into(&lm, &out[i]), asio::bind_cancellation_slot(signals[i].slot(), asio::detached));
  // Cancels once every request has reached the server (or after 20 s, which fails below).
  asio::steady_timer poll(io);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  std::function<void(boost::system::error_code)> check = [&](boost::system::error_code) {
    if (server.requests().size() < static_cast<std::size_t>(kCalls) && std::chrono::steady_clock::now() < deadline) {
      poll.expires_after(milliseconds(20));
      poll.async_wait(check);
      return;
    }
    // The last started first: the handle pool then keeps handles that ran on the later multis.
    for (auto s = signals.rbegin(); s != signals.rend(); ++s) s->emit(asio::cancellation_type::terminal);
  };
  poll.expires_after(milliseconds(20));
  poll.async_wait(check);
  const auto start = std::chrono::steady_clock::now();
  io.run();  // returns once nothing is pending: every cancelled transfer must be gone
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
  EXPECT_EQ(server.requests().size(), static_cast<std::size_t>(kCalls));
  for (int i = 0; i < kCalls; ++i) {
    ASSERT_TRUE(out[i]) << i;
    ASSERT_FALSE(*out[i]) << i;
    EXPECT_EQ(out[i]->error().code(), Errc::cancelled) << i;
  }
  server.fallback({.body = kOk});
  std::optional<dspy::Result<dspy::LMResponse>> after;
  asio::co_spawn(io, call_into(&lm, &after), asio::detached);
  io.restart();
  io.run();
  ASSERT_TRUE(after && *after) << (after ? after->error().message() : "no result");
  EXPECT_EQ((*after)->completions.at(0), "Paris");
}

TEST(LmFaults, CancellationDuringABackoffWait) {
  TestServer server;
  server.push({.status = 503, .headers = {{"Retry-After", "5"}}});
  dspy::LM lm("openai/m", fast(server));
  auto [r, took] = cancel_after(lm, milliseconds(100));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::cancelled) << r.error().message();
  EXPECT_LT(took, milliseconds(3000));  // not the 5 s Retry-After
  EXPECT_EQ(server.requests().size(), 1u);
}

asio::awaitable<void> call_and_count(dspy::LM* lm, int* ok, int* failed) {
  auto pending = lm->acall(ask());
  auto r = co_await std::move(pending);
  ++*(r && r->completions.at(0) == "Paris" ? ok : failed);
}

TEST(LmFaults, ManyCallsUnderFaultsAllCompleteExactlyOnce) {
  TestServer server;
  for (int i = 0; i < 20; ++i) server.push({.status = 503});
  for (int i = 0; i < 10; ++i) server.push({.body = kOk, .kind = Reply::Kind::reset_mid_body});
  for (int i = 0; i < 10; ++i) server.push({.status = 429, .headers = {{"Retry-After", "0"}}});
  server.fallback({.body = kOk});
  auto config = fast(server);
  config.backoff.initial = milliseconds(5);
  dspy::LM lm("openai/m", config);
  asio::io_context io;
  int ok = 0;
  int failed = 0;
  for (int i = 0; i < 200; ++i) asio::co_spawn(io, call_and_count(&lm, &ok, &failed), asio::detached);
  io.run();
  EXPECT_EQ(ok, 200);
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(server.requests().size(), 240u);  // 200 calls + one retry per fault
}

// curl closes the connection after each reply; the next call's socket usually gets the same
// descriptor number, which must be watched as the new socket it is.
TEST(LmFaults, ASocketCurlClosedIsNotMistakenForItsSuccessor) {
  TestServer server;
  server.fallback({.body = kOk, .headers = {{"Connection", "close"}}});
  dspy::LM lm("openai/m", fast(server, 0));
  asio::io_context io;
  int ok = 0;
  int failed = 0;
  for (int i = 0; i < 5; ++i) {  // a socket never watched would leave its call waiting for good
    asio::co_spawn(io, call_and_count(&lm, &ok, &failed), asio::detached);
    io.run_for(std::chrono::seconds(10));
    io.restart();
  }
  EXPECT_EQ(ok, 5);
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(server.connections(), 5);
}

// A connection kept alive between calls stays in the epoll set; when its server closes it while
// other calls are in flight, it turns ready and must leave the set, not be reported over and over.
TEST(LmFaults, AnIdleConnectionClosedByItsServerIsNotPolledInALoop) {
  TestServer closing;
  closing.fallback({.body = kOk, .kind = Reply::Kind::close_after_reply});
  TestServer slow;
  slow.fallback({.body = kOk, .delay = milliseconds(400)});
  dspy::LM quick_lm("openai/m", fast(closing, 0));
  dspy::LM slow_lm("openai/m", fast(slow, 0));
  asio::io_context io;
  int ok = 0;
  int failed = 0;
  asio::co_spawn(io, call_and_count(&slow_lm, &ok, &failed), asio::detached);
  asio::co_spawn(io, call_and_count(&quick_lm, &ok, &failed), asio::detached);
  const auto cpu = [] { return std::chrono::nanoseconds(std::clock() * (1'000'000'000 / CLOCKS_PER_SEC)); };
  const auto wall0 = std::chrono::steady_clock::now();
  const auto cpu0 = cpu();
  io.run_for(std::chrono::seconds(10));
  const auto wall = std::chrono::steady_clock::now() - wall0;
  EXPECT_EQ(ok, 2);
  EXPECT_EQ(failed, 0);
  EXPECT_GE(wall, milliseconds(400));
  // Polling the closed socket in a loop would take the core for the whole wait.
  EXPECT_LT(cpu() - cpu0, wall / 2);
}

TEST(LmFaults, BlockingCallsFromManyThreads) {
  TestServer server;
  server.fallback({.body = kOk});
  dspy::LM lm("openai/m", fast(server));
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i)
        if (lm.call(ask())) ++ok;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 40);
  EXPECT_LE(server.connections(), 4);  // each thread keeps its connection
}

TEST(LmRateLimit, RequestsPerMinutePaceConcurrentCalls) {
  TestServer server;
  server.fallback({.body = kOk});
  auto config = fast(server);
  config.rate_limit.requests_per_minute = 1200;  // 20 a second, 20 at once
  dspy::LM lm("openai/m", config);
  asio::io_context io;
  int ok = 0;
  int failed = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 40; ++i) asio::co_spawn(io, call_and_count(&lm, &ok, &failed), asio::detached);
  io.run();
  EXPECT_EQ(ok, 40);
  auto got = server.requests();
  ASSERT_EQ(got.size(), 40u);
  std::sort(got.begin(), got.end(), [](const auto& a, const auto& b) { return a.at < b.at; });
  // Request i (0-based) may leave no sooner than (i + 1 - 20) / 20 s after the start.
  for (std::size_t i = 20; i < got.size(); ++i)
    EXPECT_GE(got[i].at - start, milliseconds(50 * (static_cast<int>(i) - 19)) - milliseconds(1)) << i;
}

TEST(LmRateLimit, TokensPerMinuteMakeTheNextCallWaitOffTheDebt) {
  TestServer server;
  server.fallback({.body = kOk});  // 18 tokens a reply
  auto config = fast(server);
  config.rate_limit.tokens_per_minute = 1200;  // 20 a second
  dspy::LM lm("openai/m", config);
  // A copy shares the budget.
  dspy::LM copy = lm;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE((i % 2 ? copy : lm).call(ask()));
  const auto got = server.requests();
  ASSERT_EQ(got.size(), 3u);
  // 20 - 18 = 2 left: the second call goes at once and leaves 16 tokens of debt, 0.8 s to pay.
  EXPECT_GE(gap(got, 2), milliseconds(750));
}

TEST(LmRetryPolicy, RetryAfterTakesSecondsAndHttpDates) {
  using dspy::detail::parse_retry_after;
  const auto now = std::chrono::system_clock::from_time_t(1445412480);  // Wed, 21 Oct 2015 07:28:00 GMT
  EXPECT_EQ(parse_retry_after("120", now), milliseconds(120'000));
  EXPECT_EQ(parse_retry_after("0", now), milliseconds(0));
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now), milliseconds(30'000));
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now), milliseconds(0));  // in the past
  EXPECT_EQ(parse_retry_after("", now), std::nullopt);
  EXPECT_EQ(parse_retry_after("soon", now), std::nullopt);
  EXPECT_EQ(parse_retry_after("-5", now), std::nullopt);
}

TEST(LmRetryPolicy, BackoffStepsDoubleUpToTheCapWithBoundedJitter) {
  const dspy::detail::Backoff b{.initial = milliseconds(100), .max = milliseconds(1000), .jitter = 0.25};
  for (int trial = 0; trial < 200; ++trial) {
    for (int retry = 0; retry < 6; ++retry) {
      const auto step = std::min<long long>(100LL << retry, 1000);
      const auto d = b.delay(retry, std::nullopt).count();
      EXPECT_GE(d, step * 3 / 4) << retry;
      EXPECT_LE(d, step) << retry;
    }
  }
  EXPECT_EQ(b.delay(0, milliseconds(2500)), milliseconds(2500));   // Retry-After wins
  EXPECT_LE(b.delay(0, milliseconds(120'000)), milliseconds(100));  // unless beyond max_retry_after
  EXPECT_TRUE(dspy::detail::retryable_status(408) && dspy::detail::retryable_status(409) &&
              dspy::detail::retryable_status(429) && dspy::detail::retryable_status(500) &&
              dspy::detail::retryable_status(599));
  EXPECT_FALSE(dspy::detail::retryable_status(400) || dspy::detail::retryable_status(401) ||
               dspy::detail::retryable_status(404) || dspy::detail::retryable_status(422));
}

}  // namespace lm_faults_test
