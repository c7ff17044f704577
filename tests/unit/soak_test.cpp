// Short fault soaks (the long ones: tests/soak, figures in RELIABILITY.md): an LM under seeded
// chaos through dspy::batch loses, duplicates and mixes up nothing; disk-cache writers killed at
// random leave only whole entries.
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "../support/chaos.hpp"

namespace soak_test {

namespace fs = std::filesystem;

std::string problems(const std::vector<std::string>& list) {
  std::string out;
  for (std::size_t i = 0; i < list.size() && i < 20; ++i) out += list[i] + "\n";
  return out;
}

TEST(ChaosSoak, FiveHundredCallsThroughBatchGetTheirPlannedResults) {
  // A 3 s timeout: a loaded CI machine under a sanitizer must not time out a reply that was
  // not meant to stall (that would shift the input's plan). 384 in flight: more than one curl
  // multi holds (256), so transfers, faults and cancellations run on two.
  const auto report = dspy::test::run_lm_soak(
      {.calls = 500, .concurrency = 384, .chaos = {.seed = 7, .timeout = std::chrono::milliseconds(3000)}});
  EXPECT_EQ(report.results, 500u);
  EXPECT_EQ(report.succeeded + report.typed_errors, 500u);
  EXPECT_TRUE(report.problems.empty()) << problems(report.problems);
  // The seed gives a mix: most calls succeed, many after transient faults, some fail for good.
  EXPECT_GT(report.succeeded, 400u);
  EXPECT_GT(report.typed_errors, 10u);
  EXPECT_GT(report.transient_faults, 100u);
}

TEST(ChaosSoak, CacheWritersKilledAtRandomLeaveWholeEntries) {
  const fs::path dir = fs::temp_directory_path() / ("dspy-cache-soak-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const auto report = dspy::test::run_cache_soak({.directory = dir, .rounds = 3, .processes = 4, .keys = 32});
  fs::remove_all(dir);
  EXPECT_EQ(report.killed + report.clean_exits, 12);
  EXPECT_EQ(report.entries_checked, 96u);
  EXPECT_TRUE(report.problems.empty()) << problems(report.problems);
}

}  // namespace soak_test
