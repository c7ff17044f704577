// COPRO on the simulated LM, in process: instructions proposed by a separate prompt model raise
// the dev-set score above the unoptimized program, reproducibly, without touching the student,
// with one log entry per candidate and a budget that stops the search early.
#include <unistd.h>

#include <filesystem>
#include <mutex>

#include <gtest/gtest.h>

#include <dspy/all.hpp>

#include "../support/arithmetic.hpp"

namespace copro_test {

using dspy::testing::SimulatedLM;

using test_support::Arithmetic;
using test_support::Pipeline;
using test_support::score;

using PromptModel = test_support::RecordingLM;

dspy::COPROOptions options(std::uint64_t seed = 0) {
  return {.breadth = 4, .depth = 2, .seed = seed, .progress = {.stream = nullptr}};
}

TEST(COPRO, ProposedInstructionsRaiseTheDevScoreReproducibly) {
  const auto d = test_support::arithmetic_data();
  dspy::Predict<Arithmetic> student;
  student.set_lm(std::make_shared<SimulatedLM>());
  const double before = score(student, d.dev);
  const boost::json::object student_state = dspy::dump_state(student);

  auto prompt_model = std::make_shared<PromptModel>();
  const dspy::COPRO copro(prompt_model, dspy::answer_exact_match, options());
  auto result = copro.compile(student, d.train);
  ASSERT_TRUE(result) << result.error().message();
  const double after = score(result->program, d.dev);
  std::printf("COPRO dev score: %.1f -> %.1f; instruction: %s\n", before, after, result->program.instructions().c_str());
  EXPECT_GE(after, before + 7.5);  // 8.5 to 15.5 points over seeds
  EXPECT_GT(dspy::testing::rules_named(result->program.instructions(), dspy::testing::arithmetic_task), 0u);
  EXPECT_EQ(dspy::dump_state(student), student_state);
  EXPECT_EQ(student.instructions(), "Solve the word problem.");

  // One entry per candidate: breadth - 1 proposals plus the original, then breadth new ones.
  ASSERT_EQ(result->candidates.size(), 8u);
  double best = 0;
  for (std::size_t i = 0; i < result->candidates.size(); ++i) {
    const auto& c = result->candidates[i];
    EXPECT_EQ(c.index, i);
    ASSERT_TRUE(c.score);
    EXPECT_EQ(c.subscores.size(), d.train.size());
    best = std::max(best, *c.score);
  }
  EXPECT_DOUBLE_EQ(result->score, best);
  EXPECT_EQ(result->candidates[3].params.at("instruction").as_string(), "Solve the word problem.");
  EXPECT_FALSE(result->stopped);
  EXPECT_EQ(result->spent.at("metric_calls").to_number<std::size_t>(), 8 * d.train.size());

  // The prompt model got both proposal prompts, sampled at init_temperature with their own rollout ids.
  ASSERT_EQ(prompt_model->requests.size(), 2u);
  const auto& first = prompt_model->requests[0];
  EXPECT_EQ(first.config.n, 3);
  EXPECT_EQ(first.config.temperature, 1.4);
  EXPECT_NE(first.messages[1].content.text().find("Solve the word problem."), std::string::npos);
  const auto& second = prompt_model->requests[1];
  EXPECT_EQ(second.config.n, 4);
  EXPECT_NE(second.config.rollout_id, first.config.rollout_id);
  EXPECT_NE(second.messages[0].content.text().find("arranged in increasing order based on their scores"), std::string::npos);
  for (const char* part : {"Instruction #1: ", "Prefix #1: Answer:", "Resulting Score #1: ", "Instruction #2: "})
    EXPECT_NE(second.messages[1].content.text().find(part), std::string::npos) << part << " in " << second.messages[1].content.text();

  // Same seed, same result; the log saves next to the program.
  auto again = dspy::COPRO(std::make_shared<PromptModel>(), dspy::answer_exact_match, options()).compile(student, d.train);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->program.instructions(), result->program.instructions());
  EXPECT_EQ(again->log_json(), result->log_json());
  const auto dir = std::filesystem::temp_directory_path() / ("copro_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  ASSERT_TRUE(result->save(dir / "program.json"));
  dspy::Predict<Arithmetic> loaded;
  ASSERT_TRUE(dspy::load(loaded, dir / "program.json"));
  EXPECT_EQ(loaded.instructions(), result->program.instructions());
  EXPECT_TRUE(std::filesystem::exists(dir / "program.log.json"));
  std::filesystem::remove_all(dir);
}

// Coordinate ascent: each predictor's candidates are scored with the other at its best; with
// several predictors every candidate so far is scored again each round, as DSPy does.
TEST(COPRO, TunesEachPredictorOfAPipeline) {
  const auto d = test_support::arithmetic_data();
  Pipeline student;
  dspy::set_lm(student, std::make_shared<SimulatedLM>());
  const double before = score(student, d.dev);
  auto o = options();
  o.breadth = 6;  // a wider search: the solver's proposals are not grounded by any evidence
  auto result = dspy::COPRO(std::make_shared<PromptModel>(), dspy::answer_exact_match, o).compile(student, d.train);
  ASSERT_TRUE(result) << result.error().message();
  const double after = score(result->program, d.dev);
  std::printf("COPRO pipeline dev score: %.1f -> %.1f\n", before, after);
  EXPECT_GE(after, before + 7.5);  // 8.5 to 15.5 points over seeds
  // Depth 1: 6 candidates per predictor; depth 2: the 6 old and 6 new ones per predictor.
  ASSERT_EQ(result->candidates.size(), 36u);
  EXPECT_EQ(result->candidates[0].params.at("predictor").as_string(), "rewrite");
  EXPECT_EQ(result->candidates[6].params.at("predictor").as_string(), "solve");
  EXPECT_EQ(result->candidates[12].params.at("depth").to_number<std::size_t>(), 1u);
  EXPECT_EQ(student.solve.instructions(), "Solve the word problem.");
}

TEST(COPRO, ABudgetStopsTheSearchEarly) {
  const auto d = test_support::arithmetic_data();
  dspy::Predict<Arithmetic> student;
  student.set_lm(std::make_shared<SimulatedLM>());
  auto o = options();
  o.budget.max_lm_calls = 100;  // the proposal call and three candidates of 40 calls each
  auto result = dspy::COPRO(std::make_shared<PromptModel>(), dspy::answer_exact_match, o).compile(student, d.train);
  ASSERT_TRUE(result) << result.error().message();
  EXPECT_EQ(result->candidates.size(), 3u);
  ASSERT_TRUE(result->stopped);
  EXPECT_NE(result->stopped->find("max_lm_calls 100 reached"), std::string::npos) << *result->stopped;
  EXPECT_EQ(result->spent.at("lm_calls").to_number<std::size_t>(), 121u);
}

TEST(COPRO, BadSettingsAndAFailingPromptModelAreReported) {
  const auto d = test_support::arithmetic_data();
  dspy::Predict<Arithmetic> student;
  student.set_lm(std::make_shared<SimulatedLM>());
  auto o = options();
  o.breadth = 1;
  auto bad = dspy::COPRO(std::make_shared<PromptModel>(), dspy::answer_exact_match, o).compile(student, d.train);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("breadth"), std::string::npos);
  EXPECT_FALSE(dspy::COPRO(std::make_shared<PromptModel>(), dspy::answer_exact_match, options())
                   .compile(student, std::vector<dspy::Example<Arithmetic>>{}));

  // No prompt model reachable: the proposals fail (logged), the original instruction is still scored.
  auto down = std::make_shared<dspy::testing::ScriptedLM>();
  down->push(dspy::Error(dspy::Errc::network, "prompt model down")).repeat_last();
  auto result = dspy::COPRO(down, dspy::answer_exact_match, options()).compile(student, d.train);
  ASSERT_TRUE(result) << result.error().message();
  EXPECT_EQ(result->program.instructions(), "Solve the word problem.");
  ASSERT_FALSE(result->candidates.empty());
  EXPECT_EQ(result->candidates[0].kind, "proposal");
  EXPECT_TRUE(result->candidates[0].error);
}

}  // namespace copro_test
