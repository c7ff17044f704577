// MIPROv2 on the simulated LM, in process: demo sets plus grounded instruction proposals searched
// with TPE raise the dev-set score above the unoptimized program, reproducibly, without touching
// the student; the proposer's prompts are DSPy's; the trial schedule (minibatches, periodic full
// evaluations) is DSPy's; budgets, bad options and a failing prompt model are handled.
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <dspy/all.hpp>

#include "../support/arithmetic.hpp"

namespace mipro_test {

using test_support::Arithmetic;
using test_support::RecordingLM;
using test_support::score;
using Examples = std::vector<dspy::Example<Arithmetic>>;

// Items 0-39 train, 40-99 validate (60: minibatches of 35 under auto=light), 100-299 dev.
struct Split {
  Examples train, val, dev;
};

Split split() {
  const auto all = test_support::arithmetic_examples();
  if (all.size() < 300) return {};
  return {{all.begin(), all.begin() + 40}, {all.begin() + 40, all.begin() + 100}, {all.begin() + 100, all.end()}};
}

dspy::Predict<Arithmetic> student() {
  dspy::Predict<Arithmetic> p;
  p.set_lm(std::make_shared<dspy::testing::SimulatedLM>());
  return p;
}

dspy::MIPROv2Options quiet(dspy::MIPROv2Options o = {}) {
  o.progress.stream = nullptr;
  return o;
}

std::vector<std::string> kinds(const std::vector<dspy::CandidateRecord>& log, const std::set<std::string>& of) {
  std::vector<std::string> out;
  for (const auto& c : log)
    if (of.count(c.kind)) out.push_back(c.kind);
  return out;
}

// The content of a request's messages after the system message (what the fields carry).
std::string user_text(const dspy::LMRequest& r) {
  std::string out;
  for (std::size_t i = 1; i < r.messages.size(); ++i) out += r.messages[i].content.text();
  return out;
}

TEST(MIPROv2, RaisesTheDevScoreReproduciblyAndLeavesTheStudent) {
  const Split d = split();
  const auto program = student();
  const boost::json::object before_state = dspy::dump_state(program);
  const double before = score(program, d.dev);
  auto prompt_model = std::make_shared<RecordingLM>();
  const dspy::MIPROv2 mipro(dspy::answer_exact_match, quiet({.prompt_model = prompt_model}));
  auto result = mipro.compile(program, d.train, d.val);
  ASSERT_TRUE(result) << result.error().message();
  const double after = score(result->program, d.dev);
  std::printf("MIPROv2 (auto=light) dev score: %.1f -> %.1f; instruction: %s; %zu demos\n", before, after,
              result->program.instructions().c_str(), result->program.demo_count());
  EXPECT_GE(after, before + 20.0);
  EXPECT_EQ(dspy::dump_state(program), before_state);
  EXPECT_GT(result->score, 0.0);

  auto again = dspy::MIPROv2(dspy::answer_exact_match, quiet({.prompt_model = std::make_shared<RecordingLM>()}))
                   .compile(program, d.train, d.val);
  ASSERT_TRUE(again);
  EXPECT_EQ(dspy::dump_state(again->program), dspy::dump_state(result->program));
  EXPECT_EQ(again->log_json(), result->log_json());
}

TEST(MIPROv2, ProposerPromptsAreDSPysAndGrounded) {
  const Split d = split();
  auto prompt_model = std::make_shared<RecordingLM>();
  auto result = dspy::MIPROv2(dspy::answer_exact_match, quiet({.prompt_model = prompt_model})).compile(student(), d.train, d.val);
  ASSERT_TRUE(result) << result.error().message();
  const auto& reqs = prompt_model->requests;
  // The dataset summary: 10 examples, then the next batches with the prior observations, then the summarizer.
  ASSERT_GE(reqs.size(), 5u);
  EXPECT_NE(reqs[0].messages[0].content.text().find("Given several examples from a dataset"), std::string::npos);
  EXPECT_NE(user_text(reqs[0]).find("[Example({'question': '"), std::string::npos);
  EXPECT_NE(user_text(reqs[0]).find("'answer': "), std::string::npos);
  EXPECT_NE(user_text(reqs[0]).find(") (input_keys={'question'})"), std::string::npos);
  EXPECT_NE(user_text(reqs[1]).find("[[ ## prior_observations ## ]]"), std::string::npos);
  EXPECT_NE(reqs[4].messages[0].content.text().find("summarize them into a brief 2-3 sentence summary"), std::string::npos);

  // Light with demos: 3 instruction candidates, so 3 proposals (the first is then replaced by
  // the current instruction), each DescribeProgram, DescribeModule, GenerateSingleModuleInstruction.
  std::vector<const dspy::LMRequest*> proposals;
  std::set<std::int64_t> rollouts;
  for (const auto& r : reqs)
    if (r.messages[0].content.text().find("generate a new instruction that will be used to prompt") != std::string::npos) {
      proposals.push_back(&r);
      ASSERT_TRUE(r.config.rollout_id.has_value());
      rollouts.insert(*r.config.rollout_id);
      EXPECT_EQ(r.config.temperature, 1.0);
    }
  ASSERT_EQ(proposals.size(), 3u);
  EXPECT_EQ(rollouts.size(), 3u);
  EXPECT_EQ(reqs.size(), 5u + 3 * 3);
  const std::string first = user_text(*proposals[0]), second = user_text(*proposals[1]);
  for (const char* field : {"dataset_description", "program_code", "program_description", "module ##",
                            "module_description", "task_demos", "basic_instruction"})
    EXPECT_NE(first.find(std::string("[[ ## ") + field), std::string::npos) << field;
  EXPECT_NE(first.find("[[ ## task_demos ## ]]\nNo task demos provided."), std::string::npos);
  EXPECT_NE(first.find("[[ ## module ## ]]\nPredict(question) -> answer"), std::string::npos);
  EXPECT_NE(second.find("[[ ## task_demos ## ]]\nQuestion: "), std::string::npos);
  EXPECT_NE(second.find("\nAnswer: "), std::string::npos);
  EXPECT_NE(first.find("[[ ## basic_instruction ## ]]\nSolve the word problem."), std::string::npos);

  std::size_t proposal_records = 0;
  for (const auto& c : result->candidates) {
    if (c.kind != "proposal") continue;
    ++proposal_records;
    EXPECT_FALSE(c.error) << *c.error;
    EXPECT_TRUE(c.params.contains("tip"));
  }
  EXPECT_EQ(proposal_records, 3u);
  EXPECT_EQ(kinds(result->candidates, {"dataset_summary"}).size(), 1u);
}

TEST(MIPROv2, TrialScheduleIsDSPys) {
  const Split d = split();
  dspy::MIPROv2Options o = quiet({.auto_mode = std::nullopt, .num_candidates = 4, .num_trials = 7, .minibatch_size = 10});
  o.prompt_model = std::make_shared<RecordingLM>();
  auto result = dspy::MIPROv2(dspy::answer_exact_match, o).compile(student(), d.train, d.val);
  ASSERT_TRUE(result) << result.error().message();
  // The default program in full, five minibatch trials, a full evaluation of the best mean, two
  // more trials, and a full evaluation at the last trial.
  const std::vector<std::string> expected = {"full", "minibatch", "minibatch", "minibatch", "minibatch", "minibatch",
                                             "full", "minibatch", "minibatch", "full"};
  EXPECT_EQ(kinds(result->candidates, {"full", "minibatch"}), expected);
  EXPECT_EQ(kinds(result->candidates, {"demo_set"}).size(), 4u);  // num_candidates demo sets
  double best = 0;
  for (const auto& c : result->candidates) {
    if (c.kind == "minibatch") {
      EXPECT_EQ(c.subscores.size(), 10u);
    } else if (c.kind == "full") {
      EXPECT_EQ(c.subscores.size(), d.val.size());
      best = std::max(best, *c.score);
      EXPECT_TRUE(c.params.contains("self.instruction") && c.params.contains("self.demos"));
    }
  }
  EXPECT_EQ(result->score, best);
  EXPECT_EQ(score(result->program, d.val), best);  // the returned program is the best one fully evaluated
}

TEST(MIPROv2, SearchesEveryPredictorOfAPipeline) {
  const Split d = split();
  test_support::Pipeline pipeline;
  pipeline.rewrite.set_lm(std::make_shared<dspy::testing::SimulatedLM>());
  pipeline.solve.set_lm(std::make_shared<dspy::testing::SimulatedLM>());
  dspy::MIPROv2Options o = quiet({.auto_mode = std::nullopt, .num_candidates = 3, .num_trials = 4, .minibatch = false});
  o.prompt_model = std::make_shared<RecordingLM>();
  auto result = dspy::MIPROv2(dspy::answer_exact_match, o).compile(pipeline, d.train, d.val);
  ASSERT_TRUE(result) << result.error().message();
  std::size_t trials = 0;
  for (const auto& c : result->candidates) {
    if (c.kind != "full") continue;
    ++trials;
    for (const char* key : {"rewrite.instruction", "rewrite.demos", "solve.instruction", "solve.demos"})
      EXPECT_TRUE(c.params.contains(key)) << key;
  }
  EXPECT_EQ(trials, 1u + 4u);  // without minibatches every trial is a full evaluation
  EXPECT_GT(score(result->program, d.dev), score(pipeline, d.dev) + 10.0);
}

TEST(MIPROv2, ZeroShotSearchesInstructionsOnly) {
  const Split d = split();
  dspy::MIPROv2Options o = quiet({.max_bootstrapped_demos = 0, .max_labeled_demos = 0});
  o.prompt_model = std::make_shared<RecordingLM>();
  auto result = dspy::MIPROv2(dspy::answer_exact_match, o).compile(student(), d.train, d.val);
  ASSERT_TRUE(result) << result.error().message();
  EXPECT_EQ(result->program.demo_count(), 0u);
  EXPECT_EQ(kinds(result->candidates, {"proposal"}).size(), 6u);  // light: n = 6 instructions when zero-shot
  for (const auto& c : result->candidates) {
    if (c.kind == "minibatch") {
      EXPECT_FALSE(c.params.contains("self.demos"));
    }
  }
}

TEST(MIPROv2, BudgetStopsTheRun) {
  const Split d = split();
  dspy::MIPROv2Options o = quiet({.budget = {.max_lm_calls = 400}});
  o.prompt_model = std::make_shared<RecordingLM>();
  auto result = dspy::MIPROv2(dspy::answer_exact_match, o).compile(student(), d.train, d.val);
  ASSERT_TRUE(result) << result.error().message();
  ASSERT_TRUE(result->stopped);
  EXPECT_NE(result->stopped->find("max_lm_calls 400 reached"), std::string::npos);
  EXPECT_LT(kinds(result->candidates, {"minibatch"}).size(), 10u);
}

TEST(MIPROv2, BadOptionsAreConfigErrors) {
  const Split d = split();
  const auto expect_config = [&](dspy::MIPROv2Options o, const Examples& train, const Examples& val, const char* what) {
    auto r = dspy::MIPROv2(dspy::answer_exact_match, quiet(std::move(o))).compile(student(), train, val);
    ASSERT_FALSE(r) << what;
    EXPECT_EQ(r.error().code(), dspy::Errc::config);
    EXPECT_NE(r.error().message().find(what), std::string::npos) << r.error().message();
  };
  expect_config({.num_trials = 5}, d.train, d.val, "exclusive");
  expect_config({.auto_mode = std::nullopt, .num_candidates = 4}, d.train, d.val, "set both");
  expect_config({}, {}, d.val, "trainset is empty");
  expect_config({.auto_mode = std::nullopt, .num_candidates = 4, .num_trials = 4, .minibatch_size = 61}, d.train, d.val,
                "exceeds the valset size 60");
}

// A prompt model that is down: no proposals, so the search runs over demo sets with the
// original instruction, and the run still succeeds.
TEST(MIPROv2, FailingPromptModelDoesNotLoseTheRun) {
  const Split d = split();
  const auto program = student();
  auto down = std::make_shared<dspy::testing::ScriptedLM>();
  down->push(dspy::Error(dspy::Errc::network, "prompt model down")).repeat_last();
  auto result = dspy::MIPROv2(dspy::answer_exact_match, quiet({.prompt_model = down}))
                    .compile(program, d.train, d.val);
  ASSERT_TRUE(result) << result.error().message();
  EXPECT_EQ(result->program.instructions(), program.instructions());
  bool logged = false;
  for (const auto& c : result->candidates)
    if (c.kind == "proposal" || c.kind == "dataset_summary") logged |= c.error.has_value();
  EXPECT_TRUE(logged);
  EXPECT_GT(score(result->program, d.dev), score(program, d.dev) + 10.0);  // the demo sets still help
}

TEST(MIPROv2, StripPrefixAsDSPy) {
  using dspy::detail::strip_prefix;
  EXPECT_EQ(strip_prefix("Proposed Instruction: Add the numbers."), "Add the numbers.");
  EXPECT_EQ(strip_prefix("**Instruction:** Add."), "** Add.");
  EXPECT_EQ(strip_prefix("\"Add the numbers.\""), "Add the numbers.");
  EXPECT_EQ(strip_prefix("No label here, just text."), "No label here, just text.");
  EXPECT_EQ(strip_prefix("one two three four five six: x"), "one two three four five six: x");
  EXPECT_EQ(strip_prefix("one two three four five: x"), "x");
  EXPECT_EQ(strip_prefix("Note: it's 3:00"), "it's 3:00");
}

}  // namespace mipro_test
