// Predict end to end with ScriptedLM: sync and async calls, config, n, fallback, errors.
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "golden_signatures.hpp"

namespace predict_test {

using namespace golden;
using dspy::testing::ScriptedLM;
namespace asio = boost::asio;

constexpr const char* kParis = "[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]";
constexpr const char* kMetrics =
    "[[ ## word_count ## ]]\n1,000\n\n[[ ## score ## ]]\n0.5\n\n[[ ## is_question ## ]]\nyes\n\n"
    "[[ ## keywords ## ]]\n```json\n[\"a\"]\n```\n\n[[ ## completed ## ]]";

dspy::LMResponse response(std::vector<std::string> completions, dspy::Usage usage = {}, bool cache_hit = false) {
  dspy::LMResponse r;
  r.completions = std::move(completions);
  r.usage = usage;
  r.model = "scripted/full";
  r.cache_hit = cache_hit;
  return r;
}

TEST(Predict, SyncCallParsesTheReplyAndReportsItsCost) {
  auto lm = std::make_shared<ScriptedLM>();
  lm->push(response({kParis}, {10, 2, 12}, true));
  dspy::Predict<QA> qa;
  qa.set_lm(lm);
  const auto r = qa({.question = "Capital of France?"});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->answer, "Paris");
  EXPECT_EQ(r.value().usage(), (dspy::Usage{10, 2, 12}));
  EXPECT_EQ(r.value().raw_completion(), kParis);
  EXPECT_EQ(r.value().model(), "scripted/full");
  EXPECT_TRUE(r.value().cache_hit());
  EXPECT_EQ(r.value().adapter(), "ChatAdapter");
  EXPECT_TRUE(r.value().parse_notes().empty());
  EXPECT_GE(r.value().latency().count(), 0);
  ASSERT_EQ(lm->requests().size(), 1u);
  EXPECT_EQ(lm->requests()[0].messages, qa.format({.question = "Capital of France?"}));
  EXPECT_TRUE(lm->requests()[0].response_format.is_null());
}

TEST(Predict, ParseNotesSayWhatWasRepaired) {
  auto lm = std::make_shared<ScriptedLM>(std::vector<std::string>{kMetrics});
  dspy::Predict<TextMetrics> p;
  p.set_lm(lm);
  const auto r = p({.text = "t"});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->word_count, 1000);
  EXPECT_TRUE(r->is_question);
  EXPECT_EQ(r->keywords, std::vector<std::string>{"a"});
  const auto& notes = r.value().parse_notes();
  ASSERT_EQ(notes.size(), 2u);
  EXPECT_EQ(notes[0].field, "word_count");
  EXPECT_EQ(notes[1].field, "keywords");
}

TEST(Predict, ConfigIsMergedPerCall) {
  auto lm = std::make_shared<ScriptedLM>(std::vector<std::string>{kParis});
  dspy::Predict<QA> qa;
  qa.set_lm(lm);
  qa.config.temperature = 0.5;
  qa.config.extra["seed"] = 7;
  dspy::CallConfig call;
  call.max_tokens = 100;
  call.stop = std::vector<std::string>{"\n\n"};
  call.extra["top_p"] = 0.9;
  call.rollout_id = 3;
  ASSERT_TRUE(qa({.question = "q"}, call));
  const auto sent = lm->requests().at(0).config;
  EXPECT_EQ(sent.temperature, 0.5);
  EXPECT_EQ(sent.max_tokens, 100);
  EXPECT_EQ(sent.stop, std::vector<std::string>{"\n\n"});
  EXPECT_EQ(sent.extra.at("seed"), 7);
  EXPECT_EQ(sent.extra.at("top_p"), 0.9);
  EXPECT_EQ(sent.rollout_id, 3);
}

TEST(Predict, NGivesEveryCompletion) {
  auto lm = std::make_shared<ScriptedLM>();
  lm->push(response({"[[ ## answer ## ]]\nA", "[[ ## answer ## ]]\nB", "[[ ## answer ## ]]\nC"}));
  dspy::Predict<QA> qa;
  qa.set_lm(lm);
  qa.config.n = 3;
  const auto r = qa({.question = "q"});
  ASSERT_TRUE(r);
  ASSERT_EQ(r.value().completions().size(), 3u);
  EXPECT_EQ(r.value().completions()[2].answer, "C");
  EXPECT_EQ(r->answer, "A");
  EXPECT_EQ(r.value().raw_completions().size(), 3u);
  EXPECT_EQ(lm->requests()[0].config.n, 3);
  EXPECT_EQ(lm->requests()[0].config.temperature, 0.7);  // DSPy raises a low temperature when n > 1

  lm->push(response({"[[ ## answer ## ]]\nA", "[[ ## answer ## ]]\nB"}));
  qa.config.temperature = 1.0;
  ASSERT_TRUE(qa({.question = "q"}));
  EXPECT_EQ(lm->requests()[1].config.temperature, 1.0);
}

TEST(Predict, ChatParseFailureFallsBackToJsonOnce) {
  auto lm = std::make_shared<ScriptedLM>();
  lm->push(response({"I think the answer is Paris."}, {5, 5, 10}));
  lm->push(response({"{\"answer\": \"Paris\"}"}, {7, 3, 10}));
  dspy::Predict<QA> qa;
  qa.set_lm(lm);
  const auto r = qa({.question = "q"});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->answer, "Paris");
  EXPECT_EQ(r.value().adapter(), "JSONAdapter");
  EXPECT_EQ(r.value().usage(), (dspy::Usage{12, 8, 20}));  // both calls count
  ASSERT_FALSE(r.value().parse_notes().empty());
  EXPECT_NE(r.value().parse_notes()[0].note.find("retried with the JSONAdapter"), std::string::npos);
  const auto requests = lm->requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].response_format.at("type"), "json_schema");
  EXPECT_EQ(requests[1].response_format.at("json_schema").at("name"), "DSPyProgramOutputs");
  EXPECT_NE(requests[1].messages.back().content.text().find("Respond with a JSON object"), std::string::npos);
}

TEST(Predict, FallbackCanBeTurnedOffAndNeverFollowsLmErrors) {
  auto lm = std::make_shared<ScriptedLM>();
  lm->push(response({"no markers"}));
  lm->push(dspy::Error(dspy::Errc::rate_limited, "429 from provider"));
  dspy::Predict<QA> qa;
  qa.set_lm(lm);
  qa.adapter = dspy::ChatAdapter{.use_json_adapter_fallback = false};
  auto r = qa({.question = "q"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), dspy::Errc::missing_field);
  EXPECT_EQ(r.error().field(), "answer");
  EXPECT_EQ(r.error().raw_response(), "no markers");
  EXPECT_EQ(lm->calls(), 1u);

  qa.adapter.reset();
  r = qa({.question = "q"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), dspy::Errc::rate_limited);
  EXPECT_EQ(lm->calls(), 2u);
}

TEST(Predict, FailedFallbackReportsTheJsonAdapterError) {
  auto lm = std::make_shared<ScriptedLM>(std::vector<std::string>{"nothing", "still nothing"});
  dspy::Predict<QA> qa;
  qa.set_lm(lm);
  const auto r = qa({.question = "q"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), dspy::Errc::parse_error);
  EXPECT_NE(r.error().message().find("Adapter JSONAdapter failed to parse the LM response."), std::string::npos);
  EXPECT_EQ(r.error().raw_response(), "still nothing");
}

TEST(Predict, ErrorsForMissingLmAndEmptyReplies) {
  dspy::configure({});
  dspy::Predict<QA> qa;
  auto r = qa({.question = "q"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), dspy::Errc::config);
  EXPECT_NE(r.error().message().find("dspy::configure"), std::string::npos);

  auto lm = std::make_shared<ScriptedLM>();
  lm->push(response({}));
  qa.set_lm(lm);
  r = qa({.question = "q"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), dspy::Errc::bad_response);
}

TEST(Predict, GlobalSettingsApplyUnlessThePredictorOverrides) {
  auto global = std::make_shared<ScriptedLM>(std::vector<std::string>{"{\"answer\": \"G\"}"});
  dspy::configure({.lm = global, .adapter = dspy::JSONAdapter{}});
  dspy::Predict<QA> qa;
  auto r = qa({.question = "q"});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->answer, "G");
  EXPECT_EQ(r.value().adapter(), "JSONAdapter");

  auto own = std::make_shared<ScriptedLM>(std::vector<std::string>{kParis});
  qa.set_lm(own);
  qa.adapter = dspy::ChatAdapter{};
  r = qa({.question = "q"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->answer, "Paris");
  EXPECT_EQ(global->calls(), 1u);
  dspy::configure({});
}

TEST(Predict, InstructionsAndDemosShapeThePrompt) {
  dspy::Predict<QA> qa;
  EXPECT_EQ(qa.instructions(), "Answer questions with short factoid answers.");
  qa.set_instructions("Be brief.\n  Use one word.");
  const auto messages = qa.format({.question = "q"});
  EXPECT_TRUE(messages[0].content.text().ends_with("your objective is: \n        Be brief.\n          Use one word."));
  qa.demos.push_back({.input = {"Capital of Italy?"}, .output = {"Rome"}});
  EXPECT_EQ(qa.format({.question = "q"}).size(), 4u);

  dspy::Predict<QA> copy = qa;  // value semantics: a copy is independent
  copy.demos.clear();
  copy.set_instructions("Other.");
  EXPECT_EQ(qa.demos.size(), 1u);
  EXPECT_EQ(qa.instructions(), "Be brief.\n  Use one word.");
}

TEST(Predict, DemosCanLeaveFieldsOut) {
  dspy::Demo<ContextQA> d{.input = {{"Paris is in France."}, "Where is Paris?"}, .output = {"", "France"}};
  d.omit<"reasoning">();
  EXPECT_TRUE(d.omit("question"));
  EXPECT_FALSE(d.omit("no_such_field"));
  EXPECT_FALSE(d.has_input(1));
  EXPECT_FALSE(d.has_output(0));
  EXPECT_TRUE(d.has_output(1));
  const auto o = dspy::demo_to_json(d);
  EXPECT_FALSE(o.contains("reasoning"));
  EXPECT_FALSE(o.contains("question"));
  auto back = dspy::demo_from_json<ContextQA>(o);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, d);
}

asio::awaitable<void> ask(const dspy::Predict<QA>* qa, std::string q, std::vector<std::string>* out) {
  // Call, then co_await: a temporary inside a co_await expression is destroyed twice by GCC 12.
  auto pending = qa->acall({.question = std::move(q)});
  auto r = co_await std::move(pending);
  out->push_back(r ? r->answer : "error: " + r.error().message());
}

TEST(Predict, AsyncCallsRunConcurrentlyOnOneThread) {
  auto lm = std::make_shared<ScriptedLM>();
  lm->push("[[ ## answer ## ]]\nsame").repeat_last().delay(std::chrono::milliseconds(20));
  dspy::Predict<QA> qa;
  qa.set_lm(lm);
  asio::io_context io;
  std::vector<std::string> answers;
  for (int i = 0; i < 50; ++i) asio::co_spawn(io, ask(&qa, "q" + std::to_string(i), &answers), asio::detached);
  io.run();
  ASSERT_EQ(answers.size(), 50u);
  for (const auto& a : answers) EXPECT_EQ(a, "same");
  EXPECT_EQ(lm->calls(), 50u);
}

TEST(Predict, AsyncFallbackAndSyncCallOfAnAsyncOnlyLm) {
  // An LM that only implements aforward: the blocking path runs it on a private io_context.
  struct AsyncOnly : dspy::BaseLM {
    asio::awaitable<dspy::Result<dspy::LMResponse>> aforward(dspy::LMRequest request) override {
      dspy::LMResponse r;
      r.completions = {request.response_format.is_null() ? "garbled" : "{\"answer\": \"async\"}"};
      co_return r;
    }
    [[nodiscard]] std::string model() const override { return "async/only"; }
  };
  dspy::Predict<QA> qa;
  qa.set_lm(AsyncOnly{});
  const auto r = qa({.question = "q"});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->answer, "async");

  asio::io_context io;
  std::vector<std::string> answers;
  asio::co_spawn(io, ask(&qa, "q", &answers), asio::detached);
  io.run();
  EXPECT_EQ(answers, std::vector<std::string>{"async"});
}

}  // namespace predict_test

namespace predict_test {

asio::awaitable<void> ask_into(const dspy::Predict<QA>* qa, std::optional<dspy::Predict<QA>::result_type>* out) {
  auto pending = qa->acall({.question = "q"});
  out->emplace(co_await std::move(pending));
}

TEST(Predict, CancellingAnAsyncCallGivesACancelledError) {
  auto lm = std::make_shared<ScriptedLM>();
  lm->push(kParis).delay(std::chrono::seconds(30));
  dspy::Predict<QA> qa;
  qa.set_lm(lm);
  asio::io_context io;
  asio::cancellation_signal cancel;
  std::optional<dspy::Predict<QA>::result_type> result;
  asio::co_spawn(io, ask_into(&qa, &result), asio::bind_cancellation_slot(cancel.slot(), asio::detached));
  asio::steady_timer soon(io, std::chrono::milliseconds(5));
  soon.async_wait([&](boost::system::error_code) { cancel.emit(asio::cancellation_type::terminal); });
  const auto start = std::chrono::steady_clock::now();
  io.run();
  ASSERT_TRUE(result.has_value());
  ASSERT_FALSE(*result);
  EXPECT_EQ(result->error().code(), dspy::Errc::cancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));  // did not wait for the reply
}

TEST(Predict, AnLmThatThrowsGivesATypedError) {
  struct Throwing : dspy::BaseLM {
    asio::awaitable<dspy::Result<dspy::LMResponse>> aforward(dspy::LMRequest) override {
      throw std::runtime_error("socket exploded");
      co_return dspy::Error(dspy::Errc::network, "unreachable");
    }
    [[nodiscard]] std::string model() const override { return "throwing"; }
  };
  dspy::Predict<QA> qa;
  qa.set_lm(Throwing{});
  const auto r = qa({.question = "q"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), dspy::Errc::network);
  EXPECT_NE(r.error().message().find("socket exploded"), std::string::npos);
}

}  // namespace predict_test
