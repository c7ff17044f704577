// BestOfN and Refine with ScriptedLM: thresholds, best-of, rollout ids and temperature in the
// requests, the original module untouched, fail_count, and Refine's feedback and hints.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include <dspy/all.hpp>

namespace best_of_n_test {

using dspy::testing::ScriptedLM;

struct QA {
  struct Input {
    std::string question;
  };
  struct Output {
    std::string answer;
  };
};

std::string reply(const std::string& answer) { return "[[ ## answer ## ]]\n" + answer + "\n\n[[ ## completed ## ]]"; }

// Reward: the answer's length, so that "ccc" (3) beats "a" (1).
double length_reward(const QA::Input&, const dspy::Predicted<QA::Output>& p) {
  return static_cast<double>(p->answer.size());
}

dspy::Predict<QA> predictor(const std::shared_ptr<ScriptedLM>& lm) {
  dspy::Predict<QA> qa;
  qa.set_lm(lm);
  return qa;
}

TEST(BestOfN, StopsAtTheFirstAttemptReachingTheThreshold) {
  auto lm = std::make_shared<ScriptedLM>(std::vector<std::string>{reply("a"), reply("bb"), reply("cccc"), reply("z")});
  dspy::BestOfN best(predictor(lm), 4, length_reward, 2.0);
  auto r = best({.question = "q"});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->answer, "bb");
  ASSERT_EQ(lm->calls(), 2U);
  const auto requests = lm->requests();
  for (std::size_t i = 0; i < requests.size(); ++i) {
    EXPECT_EQ(requests[i].config.temperature, 1.0);
    EXPECT_EQ(requests[i].config.rollout_id, static_cast<std::int64_t>(i));
  }
  // The module itself is not changed.
  EXPECT_FALSE(best.module.config.temperature.has_value());
  EXPECT_FALSE(best.module.config.rollout_id.has_value());
}

TEST(BestOfN, ReturnsTheBestWhenNoAttemptReachesTheThreshold) {
  auto lm = std::make_shared<ScriptedLM>(std::vector<std::string>{reply("a"), reply("ccc"), reply("bb")});
  auto qa = predictor(lm);
  qa.config.rollout_id = 10;      // the first rollout id, as DSPy reads it from the LM
  qa.config.temperature = 0.3;    // a predictor's own temperature wins over the attempt's 1.0, as in DSPy
  dspy::BestOfN best(qa, 3, length_reward, 100.0);
  auto r = best({.question = "q"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->answer, "ccc");
  const auto requests = lm->requests();
  ASSERT_EQ(requests.size(), 3U);
  EXPECT_EQ(requests[0].config.rollout_id, 10);
  EXPECT_EQ(requests[2].config.rollout_id, 12);
  EXPECT_EQ(requests[1].config.temperature, 0.3);
  EXPECT_EQ(best.module.config.rollout_id, 10);
}

TEST(BestOfN, ToleratesFailuresAsDspyCountsThem) {
  const dspy::Error down(dspy::Errc::server, "down");
  {  // default budget N = 3: failures at attempts 0 and 1 are tolerated, the third attempt answers
    auto lm = std::make_shared<ScriptedLM>();
    lm->push(down).push(down).push(reply("ok"));
    auto r = dspy::BestOfN(predictor(lm), 3, length_reward, 1.0)({.question = "q"});
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->answer, "ok");
  }
  {  // fail_count = 1: the second failure gives up and returns its error, even after a success
    auto lm = std::make_shared<ScriptedLM>();
    lm->push(reply("a")).push(dspy::Error(dspy::Errc::timeout, "slow")).push(dspy::Error(dspy::Errc::server, "late"));
    auto r = dspy::BestOfN(predictor(lm), 4, length_reward, 5.0, 1)({.question = "q"});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), dspy::Errc::server);
    EXPECT_EQ(lm->calls(), 3U);
  }
  {  // N = 3 and every attempt fails: the third failure gives up (2 > 1 left)
    auto lm = std::make_shared<ScriptedLM>();
    lm->push(down).push(down).push(dspy::Error(dspy::Errc::auth, "no"));
    auto r = dspy::BestOfN(predictor(lm), 3, length_reward, 1.0)({.question = "q"});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), dspy::Errc::auth);
  }
  {  // N = 2 and both fail: the budget is not exhausted, and the last error comes back
    auto lm = std::make_shared<ScriptedLM>();
    lm->push(down).push(dspy::Error(dspy::Errc::timeout, "slow"));
    auto r = dspy::BestOfN(predictor(lm), 2, length_reward, 1.0)({.question = "q"});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), dspy::Errc::timeout);
  }
}

TEST(BestOfN, AThrowingRewardIsAFailedAttempt) {
  auto lm = std::make_shared<ScriptedLM>(std::vector<std::string>{reply("boom"), reply("fine")});
  auto reward = [](const QA::Input&, const dspy::Predicted<QA::Output>& p) -> double {
    if (p->answer == "boom") throw std::runtime_error("bad reward");
    return 1.0;
  };
  auto r = dspy::BestOfN(predictor(lm), 2, reward, 1.0)({.question = "q"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->answer, "fine");
}

TEST(BestOfN, WalksAsAModuleAndRunsAsync) {
  auto lm = std::make_shared<ScriptedLM>(std::vector<std::string>{
      "[[ ## reasoning ## ]]\nhm\n\n[[ ## answer ## ]]\nxyz\n\n[[ ## completed ## ]]"});
  dspy::ChainOfThought<QA> cot;
  cot.predict.set_lm(lm);
  dspy::BestOfN best(cot, 2, [](const QA::Input&, const auto& p) { return p->answer == "xyz" ? 1.0 : 0.0; }, 1.0);
  const auto names = dspy::named_predictors(best);
  ASSERT_EQ(names.size(), 1U);
  EXPECT_EQ(names[0].first, "module.predict");
  auto r = dspy::call(best, {.question = "q"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->reasoning, "hm");
}

// ---- Refine -----------------------------------------------------------------------------------

std::string feedback_reply(const std::string& advice_json) {
  return "[[ ## discussion ## ]]\nToo short.\n\n[[ ## advice ## ]]\n" + advice_json + "\n\n[[ ## completed ## ]]";
}

TEST(Refine, FeedbackBecomesTheHintOfTheRetry) {
  auto lm = std::make_shared<ScriptedLM>();
  lm->push(reply("a")).push(feedback_reply(R"({"self": "Answer with three letters."})")).push(reply("abc"));
  dspy::Refine refine(predictor(lm), 3, length_reward, 3.0, {.feedback_lm = lm});
  auto r = refine({.question = "Why?"});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->answer, "abc");
  const auto requests = lm->requests();
  ASSERT_EQ(requests.size(), 3U);

  // The feedback request: DSPy's OfferFeedback prompt.
  const auto& fb = requests[1].messages;
  EXPECT_NE(fb[0].content.text().find("1. `program_code` (str): The code of the program that we are analyzing"),
            std::string::npos);
  EXPECT_NE(fb[0].content.text().find("9. `module_names` (list[str]): The names of the modules in the program"),
            std::string::npos);
  EXPECT_NE(fb[0].content.text().find("2. `advice` (dict[str, str]): For each module"), std::string::npos);
  EXPECT_NE(fb[0].content.text().find("In the discussion, assign blame"), std::string::npos);
  const std::string& user = fb[1].content.text();
  EXPECT_NE(user.find("[[ ## program_inputs ## ]]\n{\n  \"question\": \"Why?\"\n}"), std::string::npos) << user;
  EXPECT_NE(user.find("[[ ## program_trajectory ## ]]\n[\n  {\n    \"module_name\": \"self\",\n    \"inputs\": {\n"
                      "      \"question\": \"Why?\"\n    },\n    \"outputs\": {\n      \"answer\": \"a\"\n    }\n  }\n]"),
            std::string::npos)
      << user;
  EXPECT_NE(user.find("[[ ## program_outputs ## ]]\n{\n  \"answer\": \"a\"\n}"), std::string::npos);
  EXPECT_NE(user.find("[[ ## target_threshold ## ]]\n3.0\n\n[[ ## reward_value ## ]]\n1.0"), std::string::npos);
  EXPECT_NE(user.find("[[ ## module_names ## ]]\n[\n  \"self\"\n]"), std::string::npos) << user;
  const std::string modules_defn =
      "[[ ## modules_defn ## ]]\n" + std::string(80, '-') +
      "\nModule self\n\tInput Fields:\n\t\t1. `question` (str):\n\tOutput Fields:\n\t\t1. `answer` (str):\n"
      "\tOriginal Instructions: \n\t\tGiven the fields `question`, produce the fields `answer`.\n" +
      std::string(80, '-');
  EXPECT_NE(user.find(modules_defn), std::string::npos) << user;
  EXPECT_EQ(requests[1].config.rollout_id, std::nullopt);  // the feedback LM is called as configured

  // The retry: `hint_` is an extra input field, as DSPy's Refine renders it.
  const auto& retry = requests[2].messages;
  EXPECT_NE(retry[0].content.text().find("Your input fields are:\n1. `question` (str): \n2. `hint_` (str): A hint to the "
                                  "module from an earlier run\nYour output fields are:"),
            std::string::npos)
      << retry[0].content.text();
  EXPECT_NE(retry[0].content.text().find("[[ ## question ## ]]\n{question}\n\n[[ ## hint_ ## ]]\n{hint_}\n\n[[ ## answer"),
            std::string::npos);
  EXPECT_EQ(retry.back().content.text(),
            "[[ ## question ## ]]\nWhy?\n\n[[ ## hint_ ## ]]\nAnswer with three letters.\n\nRespond with the "
            "corresponding output fields, starting with the field `[[ ## answer ## ]]`, and then ending with the "
            "marker for `[[ ## completed ## ]]`.");
  EXPECT_EQ(requests[2].config.rollout_id, 1);
  EXPECT_EQ(requests[2].config.temperature, 1.0);
  // The refined module has no hooks left on it.
  EXPECT_FALSE(refine.module.format_hook);
  EXPECT_EQ(refine.module.format({.question = "Why?"}).back().content.text().find("hint_"), std::string::npos);
}

struct TwoStep {
  using Input = QA::Input;
  dspy::Predict<QA> draft;
  dspy::Predict<QA> polish;
  boost::asio::awaitable<dspy::Result<dspy::Predicted<QA::Output>>> forward(Input in) const {
    auto first = draft.acall(std::move(in));  // not inside co_await: GCC 12 bug 100611
    auto d = co_await std::move(first);
    if (!d) co_return d;
    auto second = polish.acall({.question = d->answer});
    co_return co_await std::move(second);
  }
};
BOOST_DESCRIBE_STRUCT(TwoStep, (), (draft, polish))

TEST(Refine, EachPredictorGetsItsOwnAdviceOrNA) {
  auto lm = std::make_shared<ScriptedLM>();
  lm->push(reply("d1")).push(reply("p")).push(feedback_reply(R"({"polish": "Be longer."})"));
  lm->push(reply("d2")).push(reply("polished"));
  TwoStep program;
  dspy::set_lm(program, lm);
  program.draft.demos.push_back({{"Demo q"}, {"Demo a"}});
  dspy::Refine refine(program, 2, length_reward, 5.0, {.program_code = "class TwoStep { ... };"});
  auto r = refine({.question = "q"});
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->answer, "polished");
  const auto requests = lm->requests();
  ASSERT_EQ(requests.size(), 5U);
  const std::string& fb = requests[2].messages.back().content.text();
  EXPECT_NE(fb.find("[[ ## program_code ## ]]\nclass TwoStep { ... };"), std::string::npos);
  EXPECT_NE(fb.find("[[ ## module_names ## ]]\n[\n  \"draft\",\n  \"polish\"\n]"), std::string::npos) << fb;
  EXPECT_NE(fb.find("\"module_name\": \"polish\",\n    \"inputs\": {\n      \"question\": \"d1\""),
            std::string::npos);
  // Retry: the draft, with no advice of its own, is told "N/A"; its demo has no hint, so DSPy shows
  // it as an incomplete example.
  const auto& draft = requests[3].messages;
  ASSERT_EQ(draft.size(), 4U);
  EXPECT_EQ(draft[1].content.text(),
            "This is an example of the task, though some input or output fields are not supplied.\n\n"
            "[[ ## question ## ]]\nDemo q");
  EXPECT_NE(draft[3].content.text().find("[[ ## hint_ ## ]]\nN/A"), std::string::npos);
  EXPECT_NE(requests[4].messages.back().content.text().find("[[ ## hint_ ## ]]\nBe longer."), std::string::npos);
  EXPECT_EQ(requests[3].config.rollout_id, 1);  // the second attempt's rollout id
}

// A program holding a BestOfN, as an optimizer would trace it.
struct Pick {
  using Input = QA::Input;
  dspy::BestOfN<dspy::Predict<QA>> best;
  boost::asio::awaitable<dspy::Result<dspy::Predicted<QA::Output>>> forward(Input in) const {
    auto pending = dspy::acall(best, std::move(in));  // not inside co_await: GCC 12 bug 100611
    co_return co_await std::move(pending);
  }
};
BOOST_DESCRIBE_STRUCT(Pick, (), (best))

std::vector<std::string> predictor_names(const auto& program) {
  std::vector<std::string> names;
  for (const auto& [name, p] : dspy::named_predictors(program)) names.push_back(name);
  return names;
}

TEST(BestOfN, OnlyTheBestAttemptJoinsTheRunsTrace) {
  auto lm = std::make_shared<ScriptedLM>(std::vector<std::string>{reply("a"), reply("ccc"), reply("bb")});
  const Pick program{dspy::BestOfN(predictor(lm), 3, length_reward, 100.0)};
  dspy::Trace trace;
  auto r = dspy::detail::sync_wait(dspy::detail::traced_call(&program, {.question = "q"}, &trace));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->answer, "ccc");
  EXPECT_EQ(lm->calls(), 3U);
  ASSERT_EQ(trace.size(), 1U);  // as DSPy: each attempt under a trace of its own, the best one kept
  EXPECT_EQ(trace[0].module_name, "best.module");
  EXPECT_EQ(predictor_names(program), std::vector<std::string>{"best.module"});  // what optimizers map it to
  EXPECT_EQ(trace[0].outputs.at("answer"), "ccc");
  // Untraced, no attempt is traced at all.
  auto lm2 = std::make_shared<ScriptedLM>(std::vector<std::string>{reply("a")});
  EXPECT_TRUE(dspy::call(Pick{dspy::BestOfN(predictor(lm2), 1, length_reward, 1.0)}, {.question = "q"}));
}

TEST(Refine, OnlyTheBestAttemptJoinsTheRunsTraceWithItsHints) {
  auto lm = std::make_shared<ScriptedLM>();
  lm->push(reply("d1")).push(reply("p")).push(feedback_reply(R"({"polish": "Be longer."})"));
  lm->push(reply("d2")).push(reply("polished"));
  TwoStep program;
  dspy::set_lm(program, lm);
  const dspy::Refine refine(program, 2, length_reward, 5.0);
  dspy::Trace trace;
  auto r = dspy::detail::sync_wait(dspy::detail::traced_call(&refine, {.question = "q"}, &trace));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->answer, "polished");
  // As DSPy: the feedback call runs in the run's trace; then the best attempt's calls (the
  // second's draft and polish, with the hints they were shown) join it; the first attempt's do not.
  ASSERT_EQ(trace.size(), 3U);
  EXPECT_TRUE(trace[0].outputs.contains("advice"));
  EXPECT_EQ(predictor_names(refine), (std::vector<std::string>{"module.draft", "module.polish"}));
  EXPECT_EQ(trace[1].module_name, "module.draft");
  EXPECT_EQ(trace[1].outputs.at("answer"), "d2");
  EXPECT_EQ(trace[1].inputs.at("hint_"), "N/A");
  EXPECT_EQ(trace[2].module_name, "module.polish");
  EXPECT_EQ(trace[2].inputs.at("hint_"), "Be longer.");
}

TEST(Refine, NoFeedbackAfterTheLastAttemptOrOnSuccess) {
  auto lm = std::make_shared<ScriptedLM>(std::vector<std::string>{reply("abc")});
  auto r = dspy::Refine(predictor(lm), 3, length_reward, 3.0)({.question = "q"});
  ASSERT_TRUE(r);
  EXPECT_EQ(lm->calls(), 1U);
  auto lm2 = std::make_shared<ScriptedLM>(std::vector<std::string>{reply("a")});
  auto r2 = dspy::Refine(predictor(lm2), 1, length_reward, 3.0)({.question = "q"});
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->answer, "a");
  EXPECT_EQ(lm2->calls(), 1U);
}

TEST(Refine, AFailedFeedbackCallCountsAsAFailure) {
  auto lm = std::make_shared<ScriptedLM>();
  lm->push(reply("a")).push(dspy::Error(dspy::Errc::server, "down")).push(reply("abc"));
  auto r = dspy::Refine(predictor(lm), 2, length_reward, 3.0, {.fail_count = 1, .feedback_lm = lm})({.question = "q"});
  // The feedback failed after attempt 0 (budget 1 -> 0); attempt 1 then runs without a hint.
  ASSERT_TRUE(r);
  EXPECT_EQ(r->answer, "abc");
  EXPECT_EQ(lm->requests()[2].messages.back().content.text().find("hint_"), std::string::npos);
}

}  // namespace best_of_n_test
