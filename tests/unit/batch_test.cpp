// dspy::batch: N inputs give N results or errors, in order, with bounded concurrency.
#include <stdexcept>
#include <thread>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <gtest/gtest.h>

#include "golden_signatures.hpp"

namespace batch_test {

using namespace golden;
namespace asio = boost::asio;

// Answers "[[ ## answer ## ]]\n<question>" after a delay that depends on the question, fails for
// questions starting with "fail", and records how many calls were in flight at once.
class EchoLM : public dspy::BaseLM {
 public:
  asio::awaitable<dspy::Result<dspy::LMResponse>> aforward(dspy::LMRequest request) override {
    const std::string& user = request.messages.back().content.text();
    const std::size_t start = user.find('\n') + 1;  // after "[[ ## question ## ]]\n"
    const std::string question = user.substr(start, user.find("\n\n") - start);
    ++in_flight;
    max_in_flight = std::max(max_in_flight, in_flight);
    asio::steady_timer timer(co_await asio::this_coro::executor,
                             std::chrono::milliseconds(question.size() % 7 + (question == "slow" ? 10000 : 0)));
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    --in_flight;
    ++calls;
    if (ec) co_return dspy::Error(dspy::Errc::cancelled, "cancelled");
    if (question.starts_with("fail")) co_return dspy::Error(dspy::Errc::server, "503 for " + question);
    dspy::LMResponse r;
    r.completions = {"[[ ## answer ## ]]\n" + question};
    co_return r;
  }
  [[nodiscard]] std::string model() const override { return "echo"; }
  int in_flight = 0;
  int max_in_flight = 0;
  int calls = 0;
};

std::vector<QA::Input> questions(int n) {
  std::vector<QA::Input> in;
  for (int i = 0; i < n; ++i) in.push_back({(i % 10 == 3 ? "fail " : "q") + std::to_string(i)});
  return in;
}

// Answers at once: its calls complete without ever suspending the coroutine that awaits them.
class ImmediateLM : public dspy::BaseLM {
 public:
  asio::awaitable<dspy::Result<dspy::LMResponse>> aforward(dspy::LMRequest) override {
    dspy::LMResponse r;
    r.completions = {"[[ ## answer ## ]]\nnow"};
    co_return r;
  }
  [[nodiscard]] std::string model() const override { return "immediate"; }
};

TEST(Batch, CallsThatNeverSuspendStillEndTheBatch) {
  // Every worker can finish all its inputs before the batch starts waiting for them.
  dspy::Predict<QA> qa;
  qa.set_lm(std::make_shared<ImmediateLM>());
  for (const std::size_t concurrency : {1, 4, 64}) {
    const auto results = dspy::batch(qa, questions(50), {.concurrency = concurrency, .progress = false});
    ASSERT_EQ(results.size(), 50u);
    for (const auto& r : results) EXPECT_EQ(r.value()->answer, "now");
  }
  EXPECT_TRUE(dspy::batch(qa, {}, {.progress = false}).empty());
}

TEST(Batch, AStopStopsCallsThatNeverSuspend) {
  // The stop is posted to the batch's thread; workers that never suspend must still let it run.
  dspy::Predict<QA> qa;
  qa.set_lm(std::make_shared<ImmediateLM>());
  std::stop_source stop;
  const auto results = dspy::batch(qa, questions(2000),
                                   {.concurrency = 4,
                                    .progress = false,
                                    .on_progress =
                                        [&](const dspy::BatchProgress& p) {
                                          if (p.done == 100) stop.request_stop();
                                        },
                                    .stop = stop.get_token()});
  ASSERT_EQ(results.size(), 2000u);
  std::size_t ok = 0;
  for (const auto& r : results) {
    if (r) ++ok;
    else EXPECT_EQ(r.error().code(), dspy::Errc::cancelled);
  }
  EXPECT_GE(ok, 100u);
  EXPECT_LE(ok, 100u + 4 * 64);  // each worker gives the thread back at least every 64 calls
}

TEST(Batch, AThrowingProgressCallbackLosesNoInput) {
  dspy::Predict<QA> qa;
  qa.set_lm(std::make_shared<ImmediateLM>());
  const auto broken_bar = [](const dspy::BatchProgress& p) {
    if (p.done == 5) throw std::runtime_error("progress bar broke");
  };
  const auto results = dspy::batch(qa, questions(20), {.concurrency = 1, .progress = false, .on_progress = broken_bar});
  ASSERT_EQ(results.size(), 20u);
  for (std::size_t i = 0; i < 5; ++i) EXPECT_TRUE(results[i]) << i;  // recorded before the callback ran
  for (std::size_t i = 5; i < 20; ++i) {
    ASSERT_FALSE(results[i]) << i;
    EXPECT_NE(results[i].error().message().find("progress bar broke"), std::string::npos);
  }
}

TEST(Batch, EveryInputGetsItsResultInOrder) {
  auto lm = std::make_shared<EchoLM>();
  dspy::Predict<QA> qa;
  qa.set_lm(lm);
  std::size_t last_done = 0;
  const auto results = dspy::batch(qa, questions(200),
                                   {.concurrency = 8, .on_progress = [&](const dspy::BatchProgress& p) {
                                      EXPECT_EQ(p.done, last_done + 1);
                                      last_done = p.done;
                                    }});
  ASSERT_EQ(results.size(), 200u);
  for (int i = 0; i < 200; ++i) {
    if (i % 10 == 3) {
      ASSERT_FALSE(results[i]);
      EXPECT_EQ(results[i].error().code(), dspy::Errc::server);
      EXPECT_EQ(results[i].error().message(), "503 for fail " + std::to_string(i));
    } else {
      ASSERT_TRUE(results[i]) << i;
      EXPECT_EQ(results[i]->answer, "q" + std::to_string(i));
    }
  }
  EXPECT_EQ(lm->calls, 200);
  EXPECT_EQ(lm->max_in_flight, 8);
  EXPECT_EQ(last_done, 200u);
}

TEST(Batch, MaxErrorsStopsStartingNewCallsButLosesNothing) {
  auto lm = std::make_shared<EchoLM>();
  dspy::Predict<QA> qa;
  qa.set_lm(lm);
  std::vector<QA::Input> in(50, QA::Input{"fail"});
  const auto results = dspy::batch(qa, in, {.concurrency = 2, .max_errors = 3});
  ASSERT_EQ(results.size(), 50u);
  std::size_t server = 0, cancelled = 0;
  for (const auto& r : results) {
    ASSERT_FALSE(r);
    if (r.error().code() == dspy::Errc::server) ++server;
    if (r.error().code() == dspy::Errc::cancelled) {
      ++cancelled;
      EXPECT_NE(r.error().message().find("max_errors 3"), std::string::npos);
    }
  }
  EXPECT_EQ(server + cancelled, 50u);
  EXPECT_LE(server, 5u);  // the 4th error stops new calls; at most one more was in flight
  EXPECT_EQ(lm->calls, static_cast<int>(server));
}

TEST(Batch, StopCancelsCallsInFlightAndTheRest) {
  auto lm = std::make_shared<EchoLM>();
  dspy::Predict<QA> qa;
  qa.set_lm(lm);
  std::stop_source stop;
  std::vector<QA::Input> in{{"a"}, {"slow"}, {"slow"}, {"b"}, {"c"}};
  std::jthread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    stop.request_stop();
  });
  const auto start = std::chrono::steady_clock::now();
  const auto results = dspy::batch(qa, in, {.concurrency = 2, .stop = stop.get_token()});
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  ASSERT_EQ(results.size(), 5u);
  ASSERT_TRUE(results[0]);
  for (std::size_t i = 1; i < 5; ++i) {
    ASSERT_FALSE(results[i]) << i;
    EXPECT_EQ(results[i].error().code(), dspy::Errc::cancelled) << i;
  }
}

TEST(Batch, EmptyInputAndModules) {
  dspy::Predict<QA> qa;
  EXPECT_TRUE(dspy::batch(qa, {}).empty());

  auto lm = std::make_shared<EchoLM>();
  dspy::ChainOfThought<QA> cot;
  cot.predict.set_lm(lm);
  const auto results = dspy::batch(cot, questions(3));
  ASSERT_EQ(results.size(), 3u);
  ASSERT_FALSE(results[0]);  // the echo has no reasoning section, nor JSON for the fallback
  EXPECT_EQ(results[0].error().code(), dspy::Errc::parse_error);
  EXPECT_EQ(lm->calls, 6);
}

}  // namespace batch_test
