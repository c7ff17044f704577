// Cost of one TPE suggestion (the sampler MIPROv2 searches with) after a given number of
// finished trials, for a program of 3 predictors each with 10 instructions and 8 demo sets.
#include <cstdint>
#include <vector>

#include <benchmark/benchmark.h>
#include <dspy/detail/optimize/tpe.hpp>

namespace {

void BM_TpeSuggest(benchmark::State& state) {
  const std::vector<std::size_t> counts{10, 8, 10, 8, 10, 8};
  dspy::detail::TpeSampler sampler(counts, 0);
  std::uint64_t t = 0;
  for (auto i = state.range(0); i > 0; --i, ++t) {
    auto x = sampler.suggest();
    sampler.tell(x, static_cast<double>((x[0] * 7 + x[3] * 3 + t) % 11));
  }
  for (auto _ : state) benchmark::DoNotOptimize(sampler.suggest());
  state.counters["trials"] = static_cast<double>(state.range(0));
}
BENCHMARK(BM_TpeSuggest)->Arg(10)->Arg(30)->Arg(100)->Arg(300);

}  // namespace

BENCHMARK_MAIN();
