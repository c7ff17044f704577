// The bodies of compare.hpp.
#pragma once

#include <algorithm>
#include <cstdio>
#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "../detail/random.hpp"
#include "compare.hpp"

namespace dspy {

namespace detail {

DSPY_DECL double mcnemar_p(std::size_t b, std::size_t c) {
  const std::size_t n = b + c;
  if (n == 0) return 1;
  if (n < 25) {
    // 2 * P(X <= min(b, c)) for X ~ Binomial(n, 1/2), summed in logs.
    const std::size_t k = std::min(b, c);
    double tail = 0;
    for (std::size_t i = 0; i <= k; ++i)
      tail += std::exp(std::lgamma(static_cast<double>(n) + 1) - std::lgamma(static_cast<double>(i) + 1) -
                       std::lgamma(static_cast<double>(n - i) + 1) - static_cast<double>(n) * std::log(2.0));
    return std::min(1.0, 2 * tail);
  }
  const double d = std::abs(static_cast<double>(b) - static_cast<double>(c)) - 1;
  const double chi2 = d * d / static_cast<double>(n);
  return std::erfc(std::sqrt(chi2 / 2));
}

}  // namespace detail

DSPY_DECL Comparison compare(const ModelRun& baseline, const ModelRun& candidate, CompareOptions options) {
  Comparison out{.baseline = baseline.label, .candidate = candidate.label, .alpha = options.alpha};
  const auto a = detail::example_scores(baseline);
  const auto b = detail::example_scores(candidate);
  std::map<std::size_t, const boost::json::object*> examples;
  for (const auto& rep : baseline.repeats)
    for (const auto& row : rep.rows) examples.emplace(row.index, &row.example);
  std::vector<double> diffs;
  double sum_a = 0, sum_b = 0;
  std::size_t improved = 0, regressed = 0;
  for (const auto& [index, score_a] : a) {
    const auto it = b.find(index);
    if (it == b.end()) continue;
    const double score_b = it->second;
    sum_a += score_a;
    sum_b += score_b;
    diffs.push_back(100 * (score_b - score_a));
    const bool pass_a = score_a >= options.pass_threshold, pass_b = score_b >= options.pass_threshold;
    if (pass_a == pass_b) continue;
    FlippedExample f{index, *examples.at(index), score_a, score_b};
    if (pass_b) {
      ++improved;
      out.improved.push_back(std::move(f));
    } else {
      ++regressed;
      out.regressed.push_back(std::move(f));
    }
  }
  out.paired = diffs.size();
  out.unpaired = a.size() + b.size() - 2 * out.paired;
  if (out.paired) {
    out.baseline_accuracy = 100 * sum_a / static_cast<double>(out.paired);
    out.candidate_accuracy = 100 * sum_b / static_cast<double>(out.paired);
    out.delta = out.candidate_accuracy - out.baseline_accuracy;
  }
  out.delta_ci = detail::bootstrap_mean(diffs, options.bootstrap_samples, options.seed);
  out.p_value = detail::mcnemar_p(improved, regressed);
  out.test = improved + regressed < 25 ? "McNemar exact binomial" : "McNemar chi-square (continuity corrected)";
  const ModelSummary sa = summarize(baseline, 0), sb = summarize(candidate, 0);
  out.latency_p50_delta_ms = sb.latency_p50_ms - sa.latency_p50_ms;
  out.latency_p90_delta_ms = sb.latency_p90_ms - sa.latency_p90_ms;
  out.latency_p99_delta_ms = sb.latency_p99_ms - sa.latency_p99_ms;
  out.tokens_in_delta = sb.calls.tokens_in - sa.calls.tokens_in;
  out.tokens_out_delta = sb.calls.tokens_out - sa.calls.tokens_out;
  if (sa.cost_usd && sb.cost_usd) out.cost_delta_usd = *sb.cost_usd - *sa.cost_usd;
  return out;
}

namespace detail {

DSPY_DECL std::string p_value_text(double p) {
  if (p >= 0.0001) return "p = " + fixed(p, 4);
  char buf[32];
  std::snprintf(buf, sizeof buf, "p = %.1e", p);
  return buf;
}

}  // namespace detail

DSPY_DECL std::string Comparison::verdict() const {
  if (paired == 0) return "no examples in common: nothing to compare";
  if (delta == 0 && improved.empty() && regressed.empty()) return candidate + " and " + baseline + " score the same";
  const std::string better = delta >= 0 ? candidate : baseline, worse = delta >= 0 ? baseline : candidate;
  return better + " is better than " + worse + " by " + detail::fixed(std::abs(delta), 2) + " points (change " +
         detail::signed_fixed(delta, 2) + ", 95% CI " + detail::signed_fixed(delta_ci.low, 2) + " to " +
         detail::signed_fixed(delta_ci.high, 2) + "; " + detail::p_value_text(p_value) + "): " +
         (significant() ? "significant" : "not significant at alpha " + detail::fixed(alpha, 2));
}

DSPY_DECL boost::json::object Comparison::to_json() const {
  const auto flips = [](const std::vector<FlippedExample>& v) {
    boost::json::array out;
    for (const auto& f : v)
      out.push_back({{"index", f.index},
                     {"example", f.example},
                     {"baseline_score", f.baseline_score},
                     {"candidate_score", f.candidate_score}});
    return out;
  };
  return {{"baseline", baseline},
          {"candidate", candidate},
          {"paired", paired},
          {"unpaired", unpaired},
          {"baseline_accuracy", baseline_accuracy},
          {"candidate_accuracy", candidate_accuracy},
          {"delta", delta},
          {"delta_ci95", {delta_ci.low, delta_ci.high}},
          {"test", test},
          {"p_value", p_value},
          {"alpha", alpha},
          {"significant", significant()},
          {"regression", regression()},
          {"verdict", verdict()},
          {"improved", flips(improved)},
          {"regressed", flips(regressed)},
          {"latency_delta_ms", {{"p50", latency_p50_delta_ms}, {"p90", latency_p90_delta_ms}, {"p99", latency_p99_delta_ms}}},
          {"tokens_delta", {{"input", tokens_in_delta}, {"output", tokens_out_delta}}},
          {"cost_delta_usd", cost_delta_usd ? boost::json::value(*cost_delta_usd) : boost::json::value(nullptr)}};
}

}  // namespace dspy
