// dspy::compare: two benchmark runs over the same examples, paired by example: the accuracy
// change with a paired bootstrap interval and McNemar's test, the examples that flipped either
// way, and the latency, token and cost deltas. Renderings: report_render.hpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "../detail/config.hpp"
#include "benchmark.hpp"

namespace dspy {

struct CompareOptions {
  /// A change is significant when McNemar's p-value is below this.
  double alpha = 0.05;
  /// An example passes when its mean score over the repeats is at least this (McNemar's test
  /// counts passes and failures).
  double pass_threshold = 0.5;
  std::size_t bootstrap_samples = 2000;
  std::uint64_t seed = 0;
};

/// An example that passes in one run and fails in the other.
struct FlippedExample {
  std::size_t index = 0;
  boost::json::object example{};
  double baseline_score = 0;   ///< mean over repeats
  double candidate_score = 0;
};

struct Comparison {
  std::string baseline{}, candidate{};  ///< the runs' labels
  std::size_t paired = 0;               ///< examples in both runs; the figures below are over these
  std::size_t unpaired = 0;             ///< examples in one run only (left out)
  double baseline_accuracy = 0, candidate_accuracy = 0;
  double delta = 0;       ///< candidate - baseline, percentage points
  Interval delta_ci{};    ///< paired bootstrap, 95%
  double p_value = 1;     ///< McNemar's test, two-sided
  std::string test{};     ///< "McNemar exact binomial" (fewer than 25 flips) or "McNemar chi-square (continuity corrected)"
  double alpha = 0.05;
  std::vector<FlippedExample> improved{};   ///< fail -> pass
  std::vector<FlippedExample> regressed{};  ///< pass -> fail
  double latency_p50_delta_ms = 0, latency_p90_delta_ms = 0, latency_p99_delta_ms = 0;
  std::int64_t tokens_in_delta = 0, tokens_out_delta = 0;
  std::optional<double> cost_delta_usd{};  ///< when both runs have a price

  [[nodiscard]] bool significant() const noexcept { return p_value < alpha; }
  /// The candidate is significantly worse: what a CI gate fails on.
  [[nodiscard]] bool regression() const noexcept { return significant() && delta < 0; }
  /// One sentence: which run is better, by how much, and whether it is significant.
  [[nodiscard]] DSPY_DECL std::string verdict() const;
  [[nodiscard]] DSPY_DECL boost::json::object to_json() const;
};

/// Pairs the runs' rows by example index (each example's score is its mean over the repeats).
[[nodiscard]] DSPY_DECL Comparison compare(const ModelRun& baseline, const ModelRun& candidate, CompareOptions options = {});

namespace detail {
// McNemar's two-sided p-value for b and c discordant pairs: exact binomial below 25, else the
// chi-square approximation with continuity correction.
DSPY_DECL double mcnemar_p(std::size_t b, std::size_t c);
// "p = 0.0123", or "p = 3.1e-12" below 0.0001.
DSPY_DECL std::string p_value_text(double p);
// "+1.50", "-0.25", "0.00".
inline std::string signed_fixed(double v, int decimals) { return (v > 0 ? "+" : "") + fixed(v, decimals); }
}  // namespace detail

}  // namespace dspy

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "compare_impl.hpp"
#endif
