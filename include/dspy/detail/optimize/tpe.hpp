// Tree-structured Parzen Estimator over categorical parameters, as Optuna's TPESampler with
// multivariate=True (what MIPROv2 searches with): joint sampling of all parameters.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "../../primitives/error.hpp"
#include "../random.hpp"

namespace dspy::detail {

struct TpeOptions {
  std::size_t n_startup_trials = 10;  ///< uniform random trials before the model is used
  std::size_t n_ei_candidates = 24;   ///< candidates drawn from l(x) per suggestion
  double prior_weight = 1.0;          ///< weight of the uniform prior kernel
};

/// Maximizes an objective over `choice_counts.size()` categorical parameters, parameter i
/// taking values in [0, choice_counts[i]). Seeded: the same seed and the same told values give
/// the same suggestions with every compiler and standard library.
class TpeSampler {
 public:
  TpeSampler(std::vector<std::size_t> choice_counts, std::uint64_t seed, TpeOptions options = {})
      : counts_(std::move(choice_counts)), options_(options), rng_(seed) {
    for (std::size_t i = 0; i < counts_.size(); ++i)
      if (counts_[i] == 0)
        throw Error(Errc::config, "TPE parameter " + std::to_string(i) + " has no choices");
  }

  /// The parameters to try next.
  [[nodiscard]] std::vector<std::size_t> suggest() {
    if (trials_.size() < std::max<std::size_t>(options_.n_startup_trials, 1)) return random_point();
    // Optuna's default gamma: the best min(ceil(0.1 n), 25) trials are "good".
    const std::size_t n = trials_.size();
    const std::size_t n_below =
        std::min<std::size_t>(static_cast<std::size_t>(std::ceil(0.1 * static_cast<double>(n))), 25);
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    // Stable: ties keep trial order, as numpy's argsort(kind="stable") over -value.
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return trials_[a].value > trials_[b].value; });
    std::vector<std::size_t> below(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n_below));
    std::vector<std::size_t> above(order.begin() + static_cast<std::ptrdiff_t>(n_below), order.end());
    // Kernels keep trial order so the age-based weights apply to the right observations.
    std::sort(below.begin(), below.end());
    std::sort(above.begin(), above.end());
    const Parzen good = estimator(below);
    const Parzen bad = estimator(above);

    std::vector<std::size_t> best;
    double best_score = -std::numeric_limits<double>::infinity();
    for (std::size_t c = 0; c < std::max<std::size_t>(options_.n_ei_candidates, 1); ++c) {
      auto x = sample(good);
      const double score = log_pdf(good, x) - log_pdf(bad, x);
      if (score > best_score) {  // first maximum wins, as numpy's argmax
        best_score = score;
        best = std::move(x);
      }
    }
    return best;
  }

  /// Records a finished trial (higher values are better).
  void tell(std::vector<std::size_t> params, double value) {
    if (params.size() != counts_.size())
      throw Error(Errc::config, "TPE tell: " + std::to_string(params.size()) + " parameters, expected " +
                                    std::to_string(counts_.size()));
    for (std::size_t i = 0; i < params.size(); ++i)
      if (params[i] >= counts_[i])
        throw Error(Errc::config, "TPE tell: parameter " + std::to_string(i) + " = " +
                                      std::to_string(params[i]) + " is out of range");
    if (std::isnan(value)) value = -std::numeric_limits<double>::infinity();
    trials_.push_back({std::move(params), value});
  }

  [[nodiscard]] std::size_t trial_count() const noexcept { return trials_.size(); }

 private:
  struct Trial {
    std::vector<std::size_t> params;
    double value;
  };
  /// A mixture of product-of-categorical kernels: one per observation plus the uniform prior.
  struct Parzen {
    std::vector<double> mixture;                  // kernel weights, summing to 1
    std::vector<std::vector<double>> log_probs;   // [kernel][flattened (param, choice)]
    std::vector<std::vector<double>> probs;
  };

  [[nodiscard]] double uniform01() { return static_cast<double>(rng_() >> 11) * 0x1.0p-53; }

  std::vector<std::size_t> random_point() {
    std::vector<std::size_t> x(counts_.size());
    for (std::size_t i = 0; i < counts_.size(); ++i) x[i] = static_cast<std::size_t>(uniform_below(rng_, counts_[i]));
    return x;
  }

  [[nodiscard]] std::size_t offset(std::size_t param) const {
    return std::accumulate(counts_.begin(), counts_.begin() + static_cast<std::ptrdiff_t>(param), std::size_t{0});
  }

  /// Optuna's default_weights: flat below 25 observations, else a ramp from 1/n up to 1 for
  /// the older ones and 1 for the newest 25.
  static std::vector<double> age_weights(std::size_t n) {
    std::vector<double> w(n, 1.0);
    if (n < 25) return w;
    const std::size_t ramp = n - 25;
    const double lo = 1.0 / static_cast<double>(n);
    for (std::size_t i = 0; i < ramp; ++i)
      w[i] = ramp == 1 ? lo : lo + (1.0 - lo) * static_cast<double>(i) / static_cast<double>(ramp - 1);
    return w;
  }

  Parzen estimator(const std::vector<std::size_t>& observations) const {
    Parzen p;
    const std::size_t total = offset(counts_.size());
    p.mixture = age_weights(observations.size());
    p.mixture.push_back(options_.prior_weight);
    const double sum = std::accumulate(p.mixture.begin(), p.mixture.end(), 0.0);
    for (double& w : p.mixture) w /= sum;
    // Each observation's kernel puts prior_weight / k on every choice plus 1 on its own.
    for (std::size_t k = 0; k <= observations.size(); ++k) {
      std::vector<double> probs(total);
      for (std::size_t i = 0, off = 0; i < counts_.size(); off += counts_[i], ++i) {
        const double base = options_.prior_weight / static_cast<double>(counts_[i]);
        const bool prior = k == observations.size();
        const double norm = prior ? 1.0 : options_.prior_weight + 1.0;
        for (std::size_t c = 0; c < counts_[i]; ++c) {
          const bool own = !prior && trials_[observations[k]].params[i] == c;
          probs[off + c] = prior ? 1.0 / static_cast<double>(counts_[i]) : (base + (own ? 1.0 : 0.0)) / norm;
        }
      }
      std::vector<double> logs(total);
      std::transform(probs.begin(), probs.end(), logs.begin(), [](double v) { return std::log(v); });
      p.probs.push_back(std::move(probs));
      p.log_probs.push_back(std::move(logs));
    }
    return p;
  }

  std::size_t draw(const double* probs, std::size_t n) {
    double u = uniform01();
    for (std::size_t i = 0; i + 1 < n; ++i) {
      if (u < probs[i]) return i;
      u -= probs[i];
    }
    return n - 1;
  }

  std::vector<std::size_t> sample(const Parzen& p) {
    const std::size_t k = draw(p.mixture.data(), p.mixture.size());
    std::vector<std::size_t> x(counts_.size());
    for (std::size_t i = 0, off = 0; i < counts_.size(); off += counts_[i], ++i)
      x[i] = draw(p.probs[k].data() + off, counts_[i]);
    return x;
  }

  double log_pdf(const Parzen& p, const std::vector<std::size_t>& x) const {
    std::vector<double> terms(p.mixture.size());
    for (std::size_t k = 0; k < p.mixture.size(); ++k) {
      double t = std::log(p.mixture[k]);
      for (std::size_t i = 0, off = 0; i < counts_.size(); off += counts_[i], ++i) t += p.log_probs[k][off + x[i]];
      terms[k] = t;
    }
    const double m = *std::max_element(terms.begin(), terms.end());
    double s = 0;
    for (double t : terms) s += std::exp(t - m);
    return m + std::log(s);
  }

  std::vector<std::size_t> counts_;
  TpeOptions options_;
  std::mt19937_64 rng_;
  std::vector<Trial> trials_;
};

}  // namespace dspy::detail
