// The categorical TPE sampler MIPROv2 searches with: it beats uniform random search on a
// synthetic objective with the same trial budget, is reproducible, and takes 1-choice params.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include <dspy/detail/optimize/tpe.hpp>

namespace tpe_test {

using dspy::detail::TpeSampler;

/// Per parameter a table of scores with one hidden best choice; the objective is their sum
/// plus noise, as a program's score over (instruction, demo set) per predictor roughly is.
struct Objective {
  std::vector<std::vector<double>> tables;
  std::mt19937_64 noise;

  Objective(const std::vector<std::size_t>& counts, std::uint64_t seed) : noise(seed ^ 0x9e3779b97f4a7c15ULL) {
    std::mt19937_64 rng(seed);
    for (std::size_t n : counts) {
      std::vector<double> t(n);
      for (double& v : t) v = static_cast<double>(rng() % 1000) / 2000.0;  // [0, 0.5)
      t[rng() % n] = 1.0;
      tables.push_back(std::move(t));
    }
  }
  double truth(const std::vector<std::size_t>& x) const {
    double s = 0;
    for (std::size_t i = 0; i < x.size(); ++i) s += tables[i][x[i]];
    return s;
  }
  double noisy(const std::vector<std::size_t>& x) {
    return truth(x) + (static_cast<double>(noise() % 1000) / 1000.0 - 0.5) * 0.3;
  }
};

/// The true score of the best-observed trial after `budget` trials.
double run(TpeSampler sampler, Objective objective, std::size_t budget) {
  double best_seen = -1e9, best_truth = 0;
  for (std::size_t t = 0; t < budget; ++t) {
    auto x = sampler.suggest();
    const double v = objective.noisy(x);
    if (v > best_seen) {
      best_seen = v;
      best_truth = objective.truth(x);
    }
    sampler.tell(std::move(x), v);
  }
  return best_truth;
}

TEST(Tpe, BeatsRandomSearchWithTheSameBudget) {
  const std::vector<std::size_t> counts{6, 6, 6, 6, 6};
  const std::size_t budget = 40, seeds = 60;
  double tpe = 0, random = 0;
  for (std::uint64_t seed = 0; seed < seeds; ++seed) {
    const Objective objective(counts, seed);
    tpe += run(TpeSampler(counts, seed), objective, budget);
    // Random search: a sampler that never leaves its startup phase.
    random += run(TpeSampler(counts, seed, {.n_startup_trials = budget}), objective, budget);
  }
  tpe /= seeds;
  random /= seeds;
  RecordProperty("tpe", std::to_string(tpe));
  RecordProperty("random", std::to_string(random));
  EXPECT_GT(tpe, random + 0.2) << "tpe " << tpe << " random " << random;
}

TEST(Tpe, SameSeedSameSuggestions) {
  const std::vector<std::size_t> counts{4, 3, 5};
  auto trace = [&](std::uint64_t seed) {
    TpeSampler s(counts, seed, {.n_startup_trials = 3});
    std::vector<std::vector<std::size_t>> out;
    for (int t = 0; t < 20; ++t) {
      auto x = s.suggest();
      out.push_back(x);
      s.tell(x, static_cast<double>(x[0] + 2 * x[2]));
    }
    return out;
  };
  EXPECT_EQ(trace(7), trace(7));
  EXPECT_NE(trace(7), trace(8));
}

TEST(Tpe, HandlesOneChoiceParameters) {
  TpeSampler s({1, 3, 1}, 1, {.n_startup_trials = 2});
  for (int t = 0; t < 15; ++t) {
    auto x = s.suggest();
    ASSERT_EQ(x.size(), 3u);
    EXPECT_EQ(x[0], 0u);
    EXPECT_EQ(x[2], 0u);
    EXPECT_LT(x[1], 3u);
    s.tell(x, x[1] == 2 ? 1.0 : 0.0);
  }
  EXPECT_EQ(s.trial_count(), 15u);
}

TEST(Tpe, RejectsBadInputWithTypedErrors) {
  EXPECT_THROW(TpeSampler({3, 0}, 1), dspy::Error);
  TpeSampler s({3, 2}, 1);
  EXPECT_THROW(s.tell({1}, 0.5), dspy::Error);
  EXPECT_THROW(s.tell({1, 2}, 0.5), dspy::Error);
}

}  // namespace tpe_test
