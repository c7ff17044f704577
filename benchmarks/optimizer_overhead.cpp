// Optimizer overhead with an in-process LM that answers at once (ScriptedLM): what a
// BootstrapFewShot compile, a random-search trial and a SIMBA step cost beyond the model's own time.
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <dspy/dspy.hpp>

namespace {

struct QA {
  struct Input {
    std::string question;
  };
  struct Output {
    std::string answer;
  };
};

std::vector<dspy::Example<QA>> examples(std::size_t n) {
  std::vector<dspy::Example<QA>> out;
  for (std::size_t i = 0; i < n; ++i)
    out.push_back({{"Question number " + std::to_string(i) + "?"}, {i % 2 ? "yes" : "no"}, 0});
  return out;
}

dspy::Predict<QA> student() {
  auto lm = std::make_shared<dspy::testing::ScriptedLM>();
  lm->push("[[ ## answer ## ]]\nyes").repeat_last().record_requests(false);
  dspy::Predict<QA> p;
  p.set_lm(lm);
  p.adapter = dspy::ChatAdapter{};
  return p;
}

// The LM calls one compile makes (one per teacher run).
std::size_t teacher_runs(const auto& bootstrap, dspy::Predict<QA> program, const std::vector<dspy::Example<QA>>& trainset) {
  auto lm = std::make_shared<dspy::testing::ScriptedLM>();
  lm->push("[[ ## answer ## ]]\nyes").repeat_last();
  program.set_lm(lm);
  (void)bootstrap.compile(program, trainset);
  return lm->requests().size();
}

// Half the runs pass (the odd examples), so 4 demos take about 8 teacher runs.
void BM_BootstrapFewShot(benchmark::State& state) {
  const auto trainset = examples(64);
  const auto program = student();
  const dspy::BootstrapFewShot bootstrap(dspy::answer_exact_match,
                                         {.max_bootstrapped_demos = 4, .max_labeled_demos = 16});
  for (auto _ : state) {
    auto r = bootstrap.compile(program, trainset);
    if (!r) state.SkipWithError(r.error().message().c_str());
    benchmark::DoNotOptimize(r);
  }
  // items_per_second: teacher runs per second.
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(teacher_runs(bootstrap, program, trainset)));
}
BENCHMARK(BM_BootstrapFewShot)->Unit(benchmark::kMicrosecond);

// One random-search trial: build a candidate (bootstrap) and evaluate it on a 64-example valset.
void BM_RandomSearchTrial(benchmark::State& state) {
  const auto trainset = examples(64);
  const auto valset = examples(64);
  const auto program = student();
  const std::size_t shuffled = 4;
  const dspy::BootstrapFewShotWithRandomSearch search(
      dspy::answer_exact_match,
      {.max_bootstrapped_demos = 4, .max_labeled_demos = 16, .num_candidate_programs = shuffled});
  for (auto _ : state) {
    auto r = search.compile(program, trainset, valset);
    benchmark::DoNotOptimize(r);
  }
  // items_per_second: trials (candidates built and evaluated) per second.
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(3 + shuffled));
}
BENCHMARK(BM_RandomSearchTrial)->Unit(benchmark::kMillisecond);

// One SIMBA step at DSPy's sizes (bsize 32, 6 candidates) on 64 examples, then the final scoring
// on the trainset. The fixed reply makes every run of an example score the same, so candidates
// get demos and no rule calls the prompt model.
void BM_SIMBAStep(benchmark::State& state) {
  const auto trainset = examples(64);
  const auto program = student();
  const dspy::SIMBA simba(dspy::answer_exact_match,
                          {.bsize = 32, .num_candidates = 6, .max_steps = 1, .progress = {.stream = nullptr}});
  for (auto _ : state) {
    auto r = simba.compile(program, trainset);
    if (!r) state.SkipWithError(r.error().message().c_str());
    benchmark::DoNotOptimize(r);
  }
  // items_per_second: program runs (each an LM call and a metric call) per second.
  auto counted = simba.compile(program, trainset);
  if (counted) state.SetItemsProcessed(state.iterations() * counted->spent.at("metric_calls").to_number<std::int64_t>());
}
BENCHMARK(BM_SIMBAStep)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
