// BaseLM's front, the same for every model: history, usage, callbacks, cache, defaults and
// redaction for ScriptedLM and for a user's own LM; and the one blocking wrapper, sync_wait.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "golden_signatures.hpp"

namespace lm_front_test {

using golden::QA;
using dspy::testing::ScriptedLM;
namespace asio = boost::asio;

constexpr const char* kParis = "[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]";
constexpr const char* kKey = "sk-front-test-0123456789abcdef";

// What a user writes: a model with aforward and model, nothing else. It answers the question's
// reply with usage 5+2, and fails with a message that echoes a credential for "leak?".
struct MyLM : dspy::BaseLM {
  asio::awaitable<dspy::Result<dspy::LMResponse>> aforward(dspy::LMRequest request) override {
    ++calls;
    if (request.messages.back().content.text().find("leak?") != std::string::npos)
      co_return dspy::Error(dspy::Errc::auth, std::string("401: bad header Authorization: Bearer ") + kKey,
                            std::string("{\"api_key\": \"") + kKey + "\"}");
    dspy::LMResponse r;
    r.completions = {kParis};
    r.usage = {5, 2, 7};
    co_return r;
  }
  [[nodiscard]] std::string model() const override { return "mine/v1"; }
  std::atomic<int> calls{0};
};

// The LM events of the settings' callbacks.
struct LmEvents : dspy::Callback {
  std::vector<std::string> events;
  void on_lm_start(const dspy::CallInfo& c, std::string_view model, const dspy::LMRequest&) override {
    EXPECT_NE(c.id, 0U);
    events.push_back("start " + std::string(model));
  }
  void on_lm_end(const dspy::CallInfo&, const dspy::Result<dspy::LMResponse>& r, std::chrono::nanoseconds) override {
    events.push_back(r ? "end ok" : "end " + r.error().message());
  }
};

std::string printed_history(std::size_t n) {
  std::ostringstream out;
  dspy::inspect_history(n, out);
  return out.str();
}

// The shared checks: one successful call and one failed call of `lm` through Predict, blocking.
void expect_front(const dspy::LMHandle& lm, const std::string& model, const dspy::Usage& per_call) {
  auto events = std::make_shared<LmEvents>();
  auto scope = dspy::context({.callbacks = std::vector<std::shared_ptr<dspy::Callback>>{events}});
  dspy::Predict<QA> qa;
  qa.set_lm(lm);
  dspy::global_history().clear();
  auto usage = dspy::track_usage();

  const auto ok = qa({.question = "Capital of France?"});
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_EQ(ok->answer, "Paris");
  const auto failed = qa({.question = "leak?"});
  ASSERT_FALSE(failed);

  // History: the successful call, with the prompt Predict formatted.
  const auto last = dspy::global_history().last(5);
  ASSERT_EQ(last.size(), 1U);
  EXPECT_EQ(last[0].model, model);
  EXPECT_EQ(last[0].messages, qa.format({.question = "Capital of France?"}));
  EXPECT_EQ(last[0].outputs, std::vector<std::string>{kParis});
  EXPECT_EQ(last[0].usage, per_call);
  const std::string shown = printed_history(1);
  EXPECT_NE(shown.find("Capital of France?"), std::string::npos) << shown;
  EXPECT_NE(shown.find("Paris"), std::string::npos) << shown;

  // Usage: counted in the open scope under the model's name.
  EXPECT_EQ(usage.totals().at(model), per_call);

  // Callbacks: both calls, the error as returned.
  ASSERT_EQ(events->events.size(), 4U);
  EXPECT_EQ(events->events[0], "start " + model);
  EXPECT_EQ(events->events[1], "end ok");
  EXPECT_EQ(events->events[2], "start " + model);

  // Redaction: the echoed credential is gone from the error, in the result and the callback's.
  for (const std::string& text : {failed.error().message(), failed.error().raw_response(), events->events[3]}) {
    EXPECT_EQ(text.find(kKey), std::string::npos) << text;
    EXPECT_NE(text.find("[REDACTED]"), std::string::npos) << text;
  }
  EXPECT_EQ(failed.error().code(), dspy::Errc::auth);
}

TEST(LmFront, AScriptedLmRunIsInTheHistoryUsageAndCallbacks) {
  auto lm = std::make_shared<ScriptedLM>();
  dspy::LMResponse reply;
  reply.completions = {kParis};
  reply.usage = {10, 2, 12};
  lm->push(reply).push(dspy::Error(dspy::Errc::auth, std::string("Incorrect API key provided: ") + kKey,
                                   std::string("{\"api_key\": \"") + kKey + "\"}"));
  expect_front(lm, "scripted/lm", {10, 2, 12});
}

TEST(LmFront, AUserLmWithOnlyAforwardAndModelGetsTheSame) {
  auto lm = std::make_shared<MyLM>();
  expect_front(lm, "mine/v1", {5, 2, 7});
  EXPECT_EQ(lm->calls, 2);
}

asio::awaitable<void> ask(const dspy::Predict<QA>* qa, std::string question, std::string* answer) {
  auto pending = qa->acall({.question = std::move(question)});
  auto r = co_await std::move(pending);
  *answer = r ? r->answer : r.error().message();
}

TEST(LmFront, TheAsyncPathTellsTheCallbacksTheCoroutineCarries) {
  auto lm = std::make_shared<MyLM>();
  auto events = std::make_shared<LmEvents>();
  dspy::Predict<QA> qa;
  qa.set_lm(lm);
  dspy::global_history().clear();
  asio::io_context io;
  std::string answer;
  auto usage = dspy::track_usage();
  auto task = dspy::with_context({.callbacks = std::vector<std::shared_ptr<dspy::Callback>>{events}},
                                 ask(&qa, "Capital of France?", &answer));
  asio::co_spawn(io, std::move(task), asio::detached);
  io.run();
  EXPECT_EQ(answer, "Paris");
  EXPECT_EQ(events->events, (std::vector<std::string>{"start mine/v1", "end ok"}));
  EXPECT_EQ(dspy::global_history().size(), 1U);
  EXPECT_EQ(usage.total(), (dspy::Usage{5, 2, 7}));
}

TEST(LmFront, TheCacheIsOptInForOtherLmsAndAHitCostsNothing) {
  auto lm = std::make_shared<MyLM>();
  EXPECT_FALSE(lm->cache_enabled());
  const dspy::LMRequest request{.messages = {{"user", "Capital of France?"}}};
  ASSERT_TRUE(lm->call(request));
  ASSERT_TRUE(lm->call(request));
  EXPECT_EQ(lm->calls, 2);  // off: every call reaches the model

  lm->set_cache(true, std::make_shared<dspy::Cache>(dspy::CacheOptions{.enable_disk = false}));
  dspy::global_history().clear();
  auto usage = dspy::track_usage();
  const auto first = lm->call(request);
  const auto second = lm->call(request);
  ASSERT_TRUE(first && second);
  EXPECT_EQ(lm->calls, 3);
  EXPECT_FALSE(first->cache_hit);
  EXPECT_TRUE(second->cache_hit);
  EXPECT_EQ(second->completions, first->completions);
  EXPECT_EQ(usage.total(), (dspy::Usage{5, 2, 7}));  // the hit spent nothing
  const auto last = dspy::global_history().last(2);
  ASSERT_EQ(last.size(), 2U);
  EXPECT_TRUE(last[1].cache_hit);
}

// A user LM with defaults and a secret of its own, which its replies echo.
struct KeyedLM : dspy::BaseLM {
  KeyedLM() { set_defaults({.temperature = 0.5, .max_tokens = 100}); }
  asio::awaitable<dspy::Result<dspy::LMResponse>> aforward(dspy::LMRequest request) override {
    seen.push_back(request.config);
    dspy::LMResponse r;
    r.completions = {std::string("my key is ") + kKey};
    co_return r;
  }
  [[nodiscard]] std::string model() const override { return "keyed/v1"; }
  [[nodiscard]] std::vector<std::string_view> secrets() const override { return {kKey}; }
  std::vector<dspy::CallConfig> seen;
};

TEST(LmFront, DefaultsAreMergedUnderTheCallsConfigAndSecretsAreKeptOut) {
  KeyedLM lm;
  dspy::global_history().clear();
  const auto r = lm.call({.messages = {{"user", std::string("echo ") + kKey}}, .config = {.temperature = 0.9}});
  ASSERT_TRUE(r);
  ASSERT_EQ(lm.seen.size(), 1U);
  EXPECT_EQ(lm.seen[0].temperature, 0.9);
  EXPECT_EQ(lm.seen[0].max_tokens, 100);
  EXPECT_EQ(r->completions.front(), "my key is [redacted]");
  const auto last = dspy::global_history().last(1);
  ASSERT_EQ(last.size(), 1U);
  EXPECT_EQ(last[0].messages.front().content.text(), "echo [redacted]");
  EXPECT_EQ(last[0].outputs.front(), "my key is [redacted]");
}

// A predictor's system message is one shared string: its calls' history entries hold it, not a
// copy each. A system message holding the LM's key is still kept out of the history.
struct KeyedAnswerer : dspy::BaseLM {
  asio::awaitable<dspy::Result<dspy::LMResponse>> aforward(dspy::LMRequest) override {
    dspy::LMResponse r;
    r.completions = {"[[ ## answer ## ]]\nok\n\n[[ ## completed ## ]]"};
    co_return r;
  }
  [[nodiscard]] std::string model() const override { return "keyed/answers"; }
  [[nodiscard]] std::vector<std::string_view> secrets() const override { return {kKey}; }
};

TEST(LmFront, HistoryEntriesShareAPredictorsSystemMessageAndItsKeyIsRedacted) {
  auto lm = std::make_shared<KeyedAnswerer>();
  dspy::global_history().clear();
  dspy::Predict<QA> plain;
  plain.set_lm(lm);
  ASSERT_TRUE(plain({.question = "a"}));
  ASSERT_TRUE(plain({.question = "b"}));
  auto last = dspy::global_history().last(2);
  ASSERT_EQ(last.size(), 2U);
  ASSERT_EQ(last[0].messages.front().role, "system");
  EXPECT_EQ(&last[0].messages.front().content.text(), &last[1].messages.front().content.text());
  EXPECT_NE(last[0].messages.back().content.text(), last[1].messages.back().content.text());

  dspy::Predict<QA> keyed(std::string("Quote ") + kKey + " back.");
  keyed.set_lm(lm);
  ASSERT_TRUE(keyed({.question = "c"}));
  ASSERT_TRUE(keyed({.question = "d"}));
  last = dspy::global_history().last(2);
  ASSERT_EQ(last.size(), 2U);
  for (const auto& e : last) {
    const std::string& system = e.messages.front().content.text();
    EXPECT_EQ(system.find(kKey), std::string::npos) << system;
    EXPECT_NE(system.find("Quote [redacted] back."), std::string::npos) << system;
  }
  // A prediction's latency is the LM front's timing of its call, as the history has it.
  const auto timed = keyed({.question = "t"});
  ASSERT_TRUE(timed);
  EXPECT_EQ(timed.value().latency(), dspy::global_history().last(1).front().latency);
  EXPECT_GT(timed.value().latency().count(), 0);
  // The predictor's own prompt is untouched: redaction works on the call's copy.
  EXPECT_NE(keyed.format({.question = "e"}).front().content.text().find(kKey), std::string::npos);
}

asio::awaitable<void> stream_into(dspy::BaseLM* lm, std::vector<std::string>* pieces,
                                  std::optional<dspy::Result<dspy::LMResponse>>* out) {
  auto pending =
      lm->astream({.messages = {{"user", "q"}}}, [pieces](std::string_view text) { pieces->emplace_back(text); });
  out->emplace(co_await std::move(pending));
}

TEST(LmFront, AStreamFromAModelThatCannotStreamHandsTheTextOverWhole) {
  auto lm = std::make_shared<MyLM>();
  asio::io_context io;
  std::vector<std::string> pieces;
  std::optional<dspy::Result<dspy::LMResponse>> out;
  asio::co_spawn(io, stream_into(lm.get(), &pieces, &out), asio::detached);
  io.run();
  ASSERT_TRUE(out && *out);
  EXPECT_EQ(pieces, std::vector<std::string>{kParis});
}

// ---- sync_wait: the one blocking wrapper ---------------------------------------------------------

asio::awaitable<dspy::Result<std::string>> settings_model() {
  const auto settings = dspy::settings_of(co_await asio::this_coro::executor);
  if (!settings->lm) co_return dspy::Error(dspy::Errc::config, "no LM");
  co_return settings->lm->model();
}

asio::awaitable<dspy::Result<int>> throws_result() {
  throw std::runtime_error("boom");
  co_return 1;
}

asio::awaitable<int> throws_plain() {
  throw std::runtime_error("boom");
  co_return 1;
}

// An LM that says whether its record() reads requests, and where the messages it got live.
struct WhereLM : dspy::BaseLM {
  explicit WhereLM(bool records) : records(records) {}
  asio::awaitable<dspy::Result<dspy::LMResponse>> aforward(dspy::LMRequest request) override {
    got = request.messages.data();
    dspy::LMResponse r;
    r.completions = {kParis};
    co_return r;
  }
  [[nodiscard]] std::string model() const override { return "where/v1"; }
  [[nodiscard]] bool records_requests() const override { return records; }
  bool records;
  const dspy::Message* got = nullptr;
};

// The model gets the caller's request itself (its messages are not copied, and are freed when
// the model is done with them) only when nothing reads it after the call: not the history, not
// a record() that reads requests.
TEST(LmFront, TheModelGetsTheRequestItselfWhenNothingReadsItAfterTheCall) {
  const std::size_t capacity = dspy::global_history().capacity();
  const auto call = [](WhereLM& lm, bool* copied) {
    dspy::LMRequest request;
    request.messages = {{"user", "Capital of France?"}};
    const dspy::Message* mine = request.messages.data();
    auto r = dspy::detail::sync_wait(lm.acall(std::move(request)));
    ASSERT_TRUE(r) << r.error().message();
    *copied = lm.got != mine;
  };
  bool copied = false;
  dspy::global_history().set_capacity(0);
  WhereLM quiet(false);
  call(quiet, &copied);
  EXPECT_FALSE(copied);
  WhereLM recording(true);  // the default: record() may read it
  call(recording, &copied);
  EXPECT_TRUE(copied);

  dspy::global_history().set_capacity(10);
  call(quiet, &copied);
  EXPECT_TRUE(copied);
  const std::vector<dspy::HistoryEntry> kept = dspy::global_history().last(1);
  ASSERT_EQ(kept.size(), 1U);
  ASSERT_EQ(kept[0].messages.size(), 1U);
  EXPECT_EQ(kept[0].messages[0].content.text(), "Capital of France?");
  dspy::global_history().set_capacity(capacity);
}

TEST(SyncWait, CarriesThisThreadsSettingsAndTypesAnEscapedException) {
  auto scope = dspy::context({.lm = std::make_shared<MyLM>()});
  const auto model = dspy::detail::sync_wait(settings_model());
  ASSERT_TRUE(model);
  EXPECT_EQ(*model, "mine/v1");

  const auto thrown = dspy::detail::sync_wait(throws_result());
  ASSERT_FALSE(thrown);
  EXPECT_EQ(thrown.error().code(), dspy::Errc::network);
  EXPECT_NE(thrown.error().message().find("boom"), std::string::npos);
  EXPECT_THROW(dspy::detail::sync_wait(throws_plain()), std::runtime_error);  // no error to hold it
}

}  // namespace lm_front_test
