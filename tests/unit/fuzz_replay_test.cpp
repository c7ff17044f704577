// The fuzz targets (tests/fuzz/targets.hpp) over their seeds and every saved finding, under the
// compiler and sanitizers of the build: CI's short fuzz run, without libFuzzer.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "../fuzz/targets.hpp"

namespace fuzz_replay_test {

class FuzzReplay : public ::testing::TestWithParam<fuzz::Target> {};

TEST_P(FuzzReplay, SeedsAndFindingsRunClean) {
  const fuzz::Target target = GetParam();
  const auto seeds = fuzz::seeds(DSPY_GOLDEN_DIR);
  const auto it = seeds.find(std::string(target.name));
  ASSERT_NE(it, seeds.end());
  EXPECT_GE(it->second.size(), 3u);
  for (const auto& input : it->second) target.run(input);
  const std::filesystem::path findings = std::filesystem::path(DSPY_FUZZ_FINDINGS_DIR) / target.name;
  std::size_t replayed = 0;
  for (const auto& entry : std::filesystem::directory_iterator(findings)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    SCOPED_TRACE(entry.path().string());
    target.run(bytes.str());  // aborts with the invariant on a regression
    ++replayed;
  }
  EXPECT_GE(replayed, 1u);
}

INSTANTIATE_TEST_SUITE_P(Targets, FuzzReplay, ::testing::ValuesIn(fuzz::kTargets),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace fuzz_replay_test
