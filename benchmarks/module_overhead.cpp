// Framework overhead of composed programs with an in-process LM (no I/O): a depth-50 chain of
// predictors, and dspy::batch over 10,000 inputs at concurrency 256.
#include <fstream>
#include <string>

#include <benchmark/benchmark.h>
#include <dspy/all.hpp>

namespace {

struct AtoB {
  struct Input {
    std::string a;
  };
  struct Output {
    std::string b;
  };
};
struct BtoA {
  struct Input {
    std::string b;
  };
  struct Output {
    std::string a;
  };
};

template <std::size_t I>
auto stage() {
  using Sig = std::conditional_t<I % 2 == 0, AtoB, BtoA>;
  auto lm = std::make_shared<dspy::testing::ScriptedLM>();
  lm->push(I % 2 == 0 ? "[[ ## b ## ]]\nvalue b" : "[[ ## a ## ]]\nvalue a").repeat_last().record_requests(false);
  dspy::Predict<Sig> p;
  p.set_lm(lm);
  p.adapter = dspy::ChatAdapter{};
  return p;
}

template <std::size_t... I>
auto make_chain(std::index_sequence<I...>) {
  return dspy::chain(stage<I>()...);
}

void BM_Chain50(benchmark::State& state) {
  const auto chain = make_chain(std::make_index_sequence<50>{});
  for (auto _ : state) {
    auto r = chain({"start"});
    if (!r) state.SkipWithError(r.error().message().c_str());
    benchmark::DoNotOptimize(r);
  }
  state.counters["per_stage_ns"] =
      benchmark::Counter(50, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_Chain50)->Unit(benchmark::kMicrosecond);

std::int64_t peak_rss_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6));
  return 0;
}

void BM_Batch10k(benchmark::State& state) {
  constexpr std::size_t kInputs = 10000;
  auto lm = std::make_shared<dspy::testing::ScriptedLM>();
  lm->push("[[ ## b ## ]]\nvalue b").repeat_last().record_requests(false).delay(std::chrono::microseconds(state.range(0)));
  dspy::Predict<AtoB> p;
  p.set_lm(lm);
  p.adapter = dspy::ChatAdapter{};
  const std::vector<AtoB::Input> inputs(kInputs, AtoB::Input{"some input text"});
  for (auto _ : state) {
    auto results = dspy::batch(p, inputs, {.concurrency = 256, .progress = false});
    if (results.size() != kInputs || !results.back()) state.SkipWithError("lost results");
    benchmark::DoNotOptimize(results);
  }
  state.SetItemsProcessed(state.iterations() * kInputs);
  state.counters["peak_rss_KiB"] = static_cast<double>(peak_rss_kib());
}
// 0: the LM answers at once; 1000: every call waits 1 ms, so 256 are really in flight together.
BENCHMARK(BM_Batch10k)->Arg(0)->Arg(1000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
