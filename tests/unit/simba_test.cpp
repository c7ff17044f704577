// SIMBA on the simulated LM, in process: demos and rules built from sampled runs raise the
// dev-set score above the unoptimized program, reproducibly, without touching the student; runs
// never see their own example as a demo; the prompt model gets DSPy's OfferFeedback request with
// advice per predictor; budgets, bad options and failing models are handled.
#include <mutex>
#include <set>

#include <gtest/gtest.h>

#include <dspy/all.hpp>

#include "../support/arithmetic.hpp"

namespace simba_test {

using dspy::testing::SimulatedLM;

using test_support::Arithmetic;
using test_support::Pipeline;
using test_support::score;

// The simulated model, keeping each request it gets; it fails on the questions `fails` names.
// Sampled at temperature 1.0 with a rollout id (SIMBA's runs), it gets a different share of the
// items wrong per rollout, as a real model's samples differ; other calls answer as SimulatedLM.
class Recorder : public dspy::BaseLM {
 public:
  std::mutex mutex;
  std::vector<dspy::LMRequest> requests;
  std::function<bool(const dspy::testing::ChatPrompt&)> fails{};

  [[nodiscard]] std::string model() const override { return "recorder"; }

 protected:
  boost::asio::awaitable<dspy::Result<dspy::LMResponse>> aforward(dspy::LMRequest request) override {
    co_return answer(request);
  }
  dspy::Result<dspy::LMResponse> forward(const dspy::LMRequest& request) override { return answer(request); }

 private:
  dspy::Result<dspy::LMResponse> answer(const dspy::LMRequest& request) {
    {
      std::lock_guard lock(mutex);
      requests.push_back(request);
    }
    if (fails && fails(dspy::testing::read_chat_prompt(request.messages)))
      return dspy::Error(dspy::Errc::network, "model down for this question");
    if (request.config.temperature.value_or(0.0) >= 1.0 && request.config.rollout_id)
      return SimulatedLM({.seed = static_cast<std::uint64_t>(*request.config.rollout_id) + 1}).reply(request);
    return lm_.reply(request);
  }
  SimulatedLM lm_;
};

dspy::SIMBAOptions options(std::uint64_t seed = 0) {
  return {.bsize = 10, .num_candidates = 4, .max_steps = 6, .seed = seed, .progress = {.stream = nullptr}};
}

TEST(SIMBA, RaisesTheDevScoreReproduciblyAndKeepsTheStudent) {
  const auto d = test_support::arithmetic_data();
  dspy::Predict<Arithmetic> student;
  auto task = std::make_shared<Recorder>();
  student.set_lm(task);
  const double before = score(student, d.dev);
  const boost::json::object student_state = dspy::dump_state(student);

  const dspy::SIMBA simba(dspy::answer_exact_match, options());
  auto result = simba.compile(student, d.train);
  ASSERT_TRUE(result) << result.error().message();
  const double after = score(result->program, d.dev);
  std::printf("SIMBA dev score: %.1f -> %.1f (%zu demos); instructions: %s\n", before, after,
              result->program.demos.size(), result->program.instructions().c_str());
  EXPECT_GE(after, before + 20.0);  // 28.5 points on seeds 0 to 4
  EXPECT_EQ(dspy::dump_state(student), student_state);
  EXPECT_EQ(result->optimizer, "SIMBA");
  EXPECT_FALSE(result->stopped);

  // Every minibatch candidate is scored on bsize examples, the kept ones on the trainset.
  std::size_t minibatch = 0, full = 0;
  double best_full = -1;
  for (std::size_t i = 0; i < result->candidates.size(); ++i) {
    const auto& c = result->candidates[i];
    EXPECT_EQ(c.index, i);
    ASSERT_TRUE(c.score) << (c.error ? *c.error : "");
    if (c.kind == "minibatch") {
      ++minibatch;
      EXPECT_EQ(c.subscores.size(), 10u);
      EXPECT_LE(c.params.at("step").to_number<std::size_t>(), 5u);
    } else {
      ASSERT_EQ(c.kind, "full");
      ++full;
      EXPECT_EQ(c.subscores.size(), d.train.size());
      best_full = std::max(best_full, *c.score);
    }
  }
  EXPECT_GE(minibatch, 6u * 4u);  // up to num_candidates + 1 per step
  EXPECT_LE(minibatch, 6u * 5u);
  EXPECT_GE(full, 2u);
  EXPECT_LE(full, 5u);
  EXPECT_DOUBLE_EQ(result->score, best_full);

  // No run was shown its own example as a demo, and runs did show demos. Sampled runs are
  // num_candidates models: rollout ids 0-3 at temperature 1.0.
  std::size_t with_demos = 0;
  std::set<std::int64_t> rollouts;
  for (const auto& r : task->requests) {
    const auto prompt = dspy::testing::read_chat_prompt(r.messages);
    const std::string* q = prompt.input("question");
    if (!q) continue;  // the rules' requests: the task model is the default prompt model
    if (r.config.rollout_id) {
      EXPECT_EQ(r.config.temperature, 1.0);
      rollouts.insert(*r.config.rollout_id);
    }
    if (prompt.demos) ++with_demos;
    for (std::size_t m = 1; m + 1 < r.messages.size(); ++m)
      EXPECT_EQ(r.messages[m].content.text().find("[[ ## question ## ]]\n" + *q), std::string::npos) << *q;
  }
  EXPECT_GT(with_demos, 100u);
  EXPECT_EQ(rollouts, (std::set<std::int64_t>{0, 1, 2, 3}));

  // Same seed, same run.
  auto again = dspy::SIMBA(dspy::answer_exact_match, options()).compile(student, d.train);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->log_json(), result->log_json());
  EXPECT_EQ(dspy::dump_state(again->program), dspy::dump_state(result->program));
}

// The margin over seeds: the mean gain is what the README reports.
TEST(SIMBA, GainsOverSeeds) {
  const auto d = test_support::arithmetic_data();
  dspy::Predict<Arithmetic> student;
  student.set_lm(std::make_shared<Recorder>());
  const double before = score(student, d.dev);
  double total = 0;
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    auto result = dspy::SIMBA(dspy::answer_exact_match, options(seed)).compile(student, d.train);
    ASSERT_TRUE(result) << result.error().message();
    const double after = score(result->program, d.dev);
    std::printf("SIMBA seed %llu: dev %.1f -> %.1f\n", static_cast<unsigned long long>(seed), before, after);
    EXPECT_GE(after, before + 20.0);
    total += after - before;
  }
  std::printf("SIMBA mean dev gain over 4 seeds: %.1f points\n", total / 4);
}

// append_a_rule: the prompt model gets DSPy's OfferFeedback fields, and its advice for each
// predictor of a two-predictor pipeline is appended to that predictor's instructions.
TEST(SIMBA, RulesAdviseEachPredictorOfAPipeline) {
  const auto d = test_support::arithmetic_data();
  Pipeline student;
  dspy::set_lm(student, std::make_shared<Recorder>());
  auto prompt_model = std::make_shared<Recorder>();
  auto o = options();
  o.max_demos = 0;  // rules only
  auto result = dspy::SIMBA(dspy::answer_exact_match, o, prompt_model).compile(student, d.train);
  ASSERT_TRUE(result) << result.error().message();
  EXPECT_EQ(student.solve.instructions(), "Solve the word problem.");

  ASSERT_FALSE(prompt_model->requests.empty());
  const auto& messages = prompt_model->requests.front().messages;
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_NE(messages[0].content.text().find("You will be given two trajectories of an LLM-driven program's execution."),
            std::string::npos);
  EXPECT_NE(messages[0].content.text().find("`worse_reward_value` (float)"), std::string::npos);
  EXPECT_NE(messages[0].content.text().find("`module_names` (list[str])"), std::string::npos);
  EXPECT_NE(messages[0].content.text().find("`module_advice` (dict[str, str])"), std::string::npos);
  const std::string& user = messages[1].content.text();
  std::size_t at = 0;
  for (const char* field : {"program_code", "modules_defn", "program_inputs", "oracle_metadata",
                            "worse_program_trajectory", "worse_program_outputs", "worse_reward_value",
                            "worse_reward_info", "better_program_trajectory", "better_program_outputs",
                            "better_reward_value", "better_reward_info", "module_names"}) {
    const std::size_t next = user.find(std::string("[[ ## ") + field + " ## ]]", at);
    ASSERT_NE(next, std::string::npos) << field << " in order in " << user;
    at = next;
  }
  EXPECT_NE(user.find("[[ ## module_names ## ]]\n[\n  \"rewrite\",\n  \"solve\"\n]"), std::string::npos) << user;
  EXPECT_NE(user.find("[[ ## oracle_metadata ## ]]\n{\n  \"answer\": "), std::string::npos) << user;
  EXPECT_NE(user.find("\"module_name\": \"solve\""), std::string::npos);
  EXPECT_NE(user.find("Module rewrite"), std::string::npos);
  EXPECT_NE(user.find("[[ ## better_reward_value ## ]]\n1.0"), std::string::npos);

  // Advice per predictor, each appended to its own instructions.
  bool advised = false;
  for (const auto& c : result->candidates) {
    if (c.kind != "minibatch" || !c.params.contains("advice")) continue;
    const auto& advice = c.params.at("advice").as_object();
    ASSERT_TRUE(advice.contains("rewrite") && advice.contains("solve")) << boost::json::serialize(advice);
    const std::string solve(advice.at("solve").as_string());
    if (solve.empty()) continue;
    const auto& preds = c.state.at("solve").at("signature").at("instructions").as_string();
    EXPECT_NE(std::string_view(preds).find("\n\n" + solve), std::string_view::npos);
    advised = true;
  }
  EXPECT_TRUE(advised);
  EXPECT_GT(dspy::testing::rules_named(result->program.solve.instructions(), dspy::testing::arithmetic_task), 0u);
}

TEST(SIMBA, ABudgetStopsTheSearchAndStillScoresAProgram) {
  const auto d = test_support::arithmetic_data();
  dspy::Predict<Arithmetic> student;
  student.set_lm(std::make_shared<SimulatedLM>());
  auto o = options();
  o.budget.max_lm_calls = 100;  // sampling costs 40 calls, a candidate 10, the final scoring 40
  auto result = dspy::SIMBA(dspy::answer_exact_match, o).compile(student, d.train);
  ASSERT_TRUE(result) << result.error().message();
  ASSERT_TRUE(result->stopped);
  EXPECT_NE(result->stopped->find("max_lm_calls 100 reached"), std::string::npos) << *result->stopped;
  const auto calls = result->spent.at("lm_calls").to_number<std::size_t>();
  EXPECT_GE(calls, 100u);
  EXPECT_LE(calls, 100u + 40u + 40u);  // one unit past the limit, then one final scoring
  ASSERT_FALSE(result->candidates.empty());
  EXPECT_EQ(result->candidates.back().kind, "full");
  EXPECT_EQ(std::count_if(result->candidates.begin(), result->candidates.end(),
                          [](const auto& c) { return c.kind == "full"; }),
            1);
}

TEST(SIMBA, BadOptionsAreTypedErrors) {
  const auto d = test_support::arithmetic_data();
  dspy::Predict<Arithmetic> student;
  student.set_lm(std::make_shared<SimulatedLM>());
  const auto fails = [&](dspy::SIMBAOptions o, std::string_view what) {
    auto r = dspy::SIMBA(dspy::answer_exact_match, o).compile(student, d.train);
    ASSERT_FALSE(r) << what;
    EXPECT_EQ(r.error().code(), dspy::Errc::config);
    EXPECT_NE(r.error().message().find(what), std::string::npos) << r.error().message();
  };
  auto o = options();
  o.bsize = 0;
  fails(o, "bsize");
  o = options();
  o.bsize = 41;
  fails(o, "smaller than bsize");
  o = options();
  o.num_candidates = 0;
  fails(o, "num_candidates");
  o = options();
  o.temperature_for_candidates = 0;
  fails(o, "temperature");
  o = options();
  o.concurrency = 0;
  fails(o, "concurrency");
}

// A task model failing on some questions scores 0 there; a failing prompt model loses only the
// rule candidates (logged); the run completes.
TEST(SIMBA, FailingModelsDoNotLoseTheRun) {
  const auto d = test_support::arithmetic_data();
  dspy::Predict<Arithmetic> student;
  auto task = std::make_shared<Recorder>();
  task->fails = [](const dspy::testing::ChatPrompt& p) {
    const std::string* q = p.input("question");
    return q && dspy::testing::unit_hash(*q, 7) < 0.2;
  };
  student.set_lm(task);
  auto down = std::make_shared<dspy::testing::ScriptedLM>();
  down->push(dspy::Error(dspy::Errc::network, "prompt model down")).repeat_last();
  auto result = dspy::SIMBA(dspy::answer_exact_match, options(), down).compile(student, d.train);
  ASSERT_TRUE(result) << result.error().message();
  std::size_t failed_rules = 0, scored = 0;
  for (const auto& c : result->candidates) {
    if (c.error) {
      ++failed_rules;
      EXPECT_NE(c.error->find("prompt model down"), std::string::npos) << *c.error;
      EXPECT_EQ(c.params.at("strategy").as_string(), "append_a_rule");
    } else {
      ++scored;
    }
  }
  EXPECT_GT(failed_rules, 0u);
  EXPECT_GT(scored, 0u);
  EXPECT_GT(result->score, 0.0);
  EXPECT_LT(result->score, 100.0);
}

}  // namespace simba_test
