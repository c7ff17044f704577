// The pieces optimizers share: the budget meter counts what runs under it (through batch's
// workers too), the result saves a loadable program with its log, progress lines show the best.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include <dspy/all.hpp>

#include "../support/arithmetic.hpp"

namespace optimizer_test {

using test_support::Arithmetic;

std::vector<dspy::Example<Arithmetic>> dev(std::size_t n) {
  auto out = test_support::arithmetic_examples();
  out.resize(std::min(n, out.size()));
  return out;
}

TEST(BudgetMeter, CountsCallsTokensAndMetricCallsUnderItsScope) {
  dspy::Predict<Arithmetic> predict;
  predict.set_lm(std::make_shared<dspy::testing::SimulatedLM>());
  const auto data = dev(40);
  dspy::BudgetMeter meter({.max_lm_calls = 50});
  {
    auto scope = meter.scope();
    const auto r = dspy::evaluate(predict, data, dspy::answer_exact_match, {.concurrency = 8, .progress = false});
    meter.add_metric_calls(r.rows.size());
  }
  EXPECT_EQ(meter.lm_calls(), 40u);
  EXPECT_GT(meter.tokens(), 40 * 20);
  EXPECT_EQ(meter.metric_calls(), 40u);
  EXPECT_FALSE(meter.exhausted());
  {
    auto scope = meter.scope();
    (void)dspy::evaluate(predict, data, dspy::answer_exact_match, {.concurrency = 8, .progress = false});
  }
  ASSERT_TRUE(meter.exhausted());
  EXPECT_EQ(*meter.exhausted(), "max_lm_calls 50 reached (80 calls)");
  // Outside its scope nothing is counted.
  (void)predict(data[0].input);
  EXPECT_EQ(meter.lm_calls(), 80u);
  EXPECT_EQ(dspy::BudgetMeter({.max_tokens = 1}).exhausted(), std::nullopt);
  dspy::BudgetMeter metric_only({.max_metric_calls = 3});
  metric_only.add_metric_calls(3);
  EXPECT_EQ(*metric_only.exhausted(), "max_metric_calls 3 reached (3 metric calls)");
}

TEST(OptimizeResult, SavesALoadableProgramAndItsLog) {
  dspy::OptimizeResult<dspy::Predict<Arithmetic>> result{.program = dspy::Predict<Arithmetic>("Add carefully."),
                                                         .score = 75,
                                                         .optimizer = "Test"};
  result.program.demos.push_back(dev(1)[0].demo());
  result.candidates.push_back({.index = 0, .kind = "full", .params = {{"instruction", 1}}, .score = 75,
                               .subscores = {1, 0.5}, .state = dspy::dump_state(result.program)});
  result.candidates.push_back({.index = 1, .kind = "minibatch", .error = "lm failed"});
  const auto dir = std::filesystem::temp_directory_path() / ("dspy_optimize_result_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  ASSERT_TRUE(result.save(dir / "tuned.json"));
  dspy::Predict<Arithmetic> loaded;
  ASSERT_TRUE(dspy::load(loaded, dir / "tuned.json"));
  EXPECT_EQ(loaded.instructions(), "Add carefully.");
  ASSERT_EQ(loaded.demos.size(), 1u);
  std::ifstream in(dir / "tuned.log.json");
  std::stringstream text;
  text << in.rdbuf();
  const auto log = boost::json::parse(text.str()).as_object();
  EXPECT_EQ(log.at("optimizer").as_string(), "Test");
  EXPECT_EQ(log.at("best_score").as_double(), 75.0);
  const auto& candidates = log.at("candidates").as_array();
  ASSERT_EQ(candidates.size(), 2u);
  EXPECT_EQ(candidates[0].at("params").at("instruction").as_int64(), 1);
  EXPECT_EQ(candidates[0].at("subscores").as_array().size(), 2u);
  EXPECT_TRUE(candidates[1].at("score").is_null());
  EXPECT_EQ(candidates[1].at("error").as_string(), "lm failed");
  std::filesystem::remove_all(dir);
}

TEST(OptimizerProgress, PrintsEachCandidateWithTheBestScore) {
  std::FILE* out = std::tmpfile();
  ASSERT_NE(out, nullptr);
  std::vector<double> bests;
  dspy::OptimizerProgress progress{.stream = out, .on_candidate = [&](const dspy::CandidateRecord&, double best) { bests.push_back(best); }};
  progress.report("MIPROv2", {.index = 6, .kind = "trial", .score = 86}, 20, 91);
  progress.report("MIPROv2", {.index = 7, .kind = "trial", .error = "budget"}, 0, 91);
  std::rewind(out);
  char buffer[256] = {};
  const std::size_t n = std::fread(buffer, 1, sizeof buffer - 1, out);
  std::fclose(out);
  EXPECT_EQ(std::string(buffer, n), "MIPROv2 trial 7/20: 86.0 (best 91.0)\nMIPROv2 trial 8: failed (best 91.0) - budget\n");
  EXPECT_EQ(bests, (std::vector<double>{91, 91}));
}

}  // namespace optimizer_test
