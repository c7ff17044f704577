// The fault soaks at full size (scripts/soak): an LM under seeded chaos through dspy::batch, and
// disk-cache writers killed at random. Prints the figures RELIABILITY.md records; exits non-zero
// when a promise is broken.
//   dspy_soak lm [calls=10000] [concurrency=256] [seed=1]
//   dspy_soak cache [rounds=20] [processes=8] [keys=256]
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "../support/chaos.hpp"

namespace {

std::size_t arg(int argc, char** argv, int i, std::size_t fallback) {
  return argc > i ? std::strtoull(argv[i], nullptr, 10) : fallback;
}

int report_problems(const std::vector<std::string>& problems) {
  for (std::size_t i = 0; i < problems.size() && i < 50; ++i) std::printf("PROBLEM %s\n", problems[i].c_str());
  std::printf("%s: %zu problems\n", problems.empty() ? "PASS" : "FAIL", problems.size());
  return problems.empty() ? 0 : 1;
}

int lm(int argc, char** argv) {
  const dspy::test::LmSoakOptions o{.calls = arg(argc, argv, 2, 10'000),
                                    .concurrency = arg(argc, argv, 3, 256),
                                    .chaos = {.seed = arg(argc, argv, 4, 1)},
                                    .rss_samples = 20};
  const auto r = dspy::test::run_lm_soak(o);
  std::printf("calls %zu, concurrency %zu, seed %llu\n", o.calls, o.concurrency,
              static_cast<unsigned long long>(o.chaos.seed));
  std::printf("results %zu: %zu succeeded, %zu typed errors\n", r.results, r.succeeded, r.typed_errors);
  for (const auto& [code, n] : r.errors_by_code) std::printf("  %-14s %zu\n", std::string(to_string(code)).c_str(), n);
  std::printf("requests %zu, transient faults served %zu, %.1f s (%.0f calls/s)\n", r.requests, r.transient_faults,
              r.elapsed.count(), static_cast<double>(o.calls) / r.elapsed.count());
  std::printf("RSS MiB:");
  for (std::size_t b : r.rss) std::printf(" %.1f", static_cast<double>(b) / (1 << 20));
  std::printf("\n");
  auto problems = r.problems;
  // Flat memory: after the first tenth of the run (connections, pools and arenas warmed up),
  // resident memory may not keep growing: the end is within 16 MiB of the early sample.
  if (r.rss.size() >= 3 && r.rss.back() > r.rss[2] + (16U << 20))
    problems.push_back("resident memory grew from " + std::to_string(r.rss[2] >> 20) + " MiB to " +
                       std::to_string(r.rss.back() >> 20) + " MiB");
  return report_problems(problems);
}

int cache(int argc, char** argv) {
  const auto dir = std::filesystem::temp_directory_path() / ("dspy-cache-soak-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  const dspy::test::CacheSoakOptions o{.directory = dir,
                                       .rounds = static_cast<int>(arg(argc, argv, 2, 20)),
                                       .processes = static_cast<int>(arg(argc, argv, 3, 8)),
                                       .keys = static_cast<int>(arg(argc, argv, 4, 256))};
  const auto r = dspy::test::run_cache_soak(o);
  std::filesystem::remove_all(dir);
  std::printf("rounds %d x %d writers x %d keys: %d killed, %d exited, %zu entries checked\n", o.rounds,
              o.processes, o.keys, r.killed, r.clean_exits, r.entries_checked);
  return report_problems(r.problems);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string_view what = argc > 1 ? argv[1] : "";
  if (what == "lm") return lm(argc, argv);
  if (what == "cache") return cache(argc, argv);
  std::fprintf(stderr, "usage: %s lm [calls] [concurrency] [seed] | cache [rounds] [processes] [keys]\n", argv[0]);
  return 2;
}
