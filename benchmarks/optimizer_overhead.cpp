// Optimizer overhead with an in-process LM that answers at once (ScriptedLM): what a
// BootstrapFewShot compile, a random-search trial, a MIPROv2 trial, a COPRO candidate, a SIMBA
// step and a GEPA metric call cost beyond the model's own time. The prompt model of MIPROv2 and
// COPRO is the in-process simulated model, which answers their proposal prompts.
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <dspy/all.hpp>

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

std::size_t count_kind(const std::vector<dspy::CandidateRecord>& log, std::string_view a, std::string_view b = {}) {
  std::size_t n = 0;
  for (const auto& c : log) n += c.kind == a || c.kind == b;
  return n;
}

// A MIPROv2 run with range(0) minibatch trials of 35 on a 64-example valset (plus its periodic
// full evaluations): the difference between two trial counts, divided by it, is the cost of a
// trial; demo sets and proposals are the same in both.
void BM_MIPROv2(benchmark::State& state) {
  const auto trainset = examples(64);
  const auto valset = examples(64);
  const auto program = student();
  dspy::MIPROv2Options o{.auto_mode = std::nullopt,
                         .num_candidates = 6,
                         .num_trials = static_cast<std::size_t>(state.range(0)),
                         .prompt_model = std::make_shared<dspy::testing::SimulatedLM>()};
  o.progress.stream = nullptr;
  const dspy::MIPROv2 mipro(dspy::answer_exact_match, o);
  std::size_t evaluations = 0;
  for (auto _ : state) {
    auto r = mipro.compile(program, trainset, valset);
    if (!r) state.SkipWithError(r.error().message().c_str());
    else evaluations = count_kind(r->candidates, "full", "minibatch");
    benchmark::DoNotOptimize(r);
  }
  state.counters["evaluations"] = static_cast<double>(evaluations);
}
BENCHMARK(BM_MIPROv2)->Arg(10)->Arg(40)->Unit(benchmark::kMillisecond);

// COPRO (breadth 4, depth 2) on 64 examples: each candidate is an evaluation on the trainset.
void BM_COPROCandidate(benchmark::State& state) {
  const auto trainset = examples(64);
  const auto program = student();
  dspy::COPROOptions o{.breadth = 4, .depth = 2};
  o.progress.stream = nullptr;
  const dspy::COPRO copro(std::make_shared<dspy::testing::SimulatedLM>(), dspy::answer_exact_match, o);
  std::size_t candidates = 0;
  for (auto _ : state) {
    auto r = copro.compile(program, trainset);
    if (!r) state.SkipWithError(r.error().message().c_str());
    else candidates = count_kind(r->candidates, "full");
    benchmark::DoNotOptimize(r);
  }
  // items_per_second: candidates scored per second.
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(candidates));
}
BENCHMARK(BM_COPROCandidate)->Unit(benchmark::kMillisecond);
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

// GEPA within 256 metric calls: the student on a 16-example valset, then reflective steps (a
// traced parent minibatch of 3, a reflection call, the child on the same minibatch; the child
// answers as the parent, so none joins the pool).
void BM_GEPA(benchmark::State& state) {
  const auto trainset = examples(64);
  const auto valset = examples(16);
  const auto program = student();
  auto reflection = std::make_shared<dspy::testing::ScriptedLM>();
  reflection->push("```\nAnswer yes or no.\n```").repeat_last().record_requests(false);
  const dspy::GEPA gepa(dspy::answer_exact_match, reflection,
                        {.max_metric_calls = 256, .progress = {.stream = nullptr}});
  std::size_t metric_calls = 0;
  for (auto _ : state) {
    auto r = gepa.compile(program, trainset, valset);
    if (!r) state.SkipWithError(r.error().message().c_str());
    else metric_calls = r->spent.at("metric_calls").to_number<std::size_t>();
    benchmark::DoNotOptimize(r);
  }
  // items_per_second: metric calls (program runs) per second.
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(metric_calls));
}
BENCHMARK(BM_GEPA)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
