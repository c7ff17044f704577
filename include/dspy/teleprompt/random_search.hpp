// dspy::BootstrapFewShotWithRandomSearch: several BootstrapFewShot candidates (DSPy's schedule of
// seeds), each scored on a valset with dspy::evaluate; the best is returned with a log of all.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "bootstrap.hpp"
#include "../evaluate/evaluate.hpp"
#include "labeled_few_shot.hpp"
#include "../primitives/state.hpp"

namespace dspy {

struct RandomSearchOptions {
  std::optional<double> metric_threshold{};
  /// The most bootstrapped demos per predictor; shuffled candidates draw their size from [1, this].
  std::size_t max_bootstrapped_demos = 4;
  std::size_t max_labeled_demos = 16;
  std::size_t max_rounds = 1;
  /// Candidates after the three fixed ones (zero-shot, labeled only, unshuffled bootstrap).
  std::size_t num_candidate_programs = 16;
  /// For bootstrapping (see BootstrapFewShotOptions) and for each evaluation.
  std::optional<std::size_t> max_errors{};
  /// Stop once a candidate scores at least this (on evaluate's 0-100 scale).
  std::optional<double> stop_at_score{};
  /// LabeledFewShot's `sample` for the labeled-only candidate.
  bool labeled_sample = true;
  /// Programs in flight at once, when bootstrapping and evaluating.
  std::size_t concurrency = 16;
};

/// A few-shot candidate of DSPy's schedule (BootstrapFewShotWithRandomSearch and MIPROv2's demo
/// sets): seed -3 the zero-shot student; -2 LabeledFewShot with k = max_labeled_demos; -1
/// BootstrapFewShot over the trainset in order; otherwise BootstrapFewShot over the trainset shuffled by `shuffle_rng` with
/// max_bootstrapped_demos drawn from [1, max] by `size_rng`.
template <class F, AsyncCallable M, Signature Sig>
Result<M> fewshot_candidate(const F& metric, BootstrapFewShotOptions options, bool labeled_sample, const M& student,
                            const std::vector<Example<Sig>>& trainset, const M* teacher, std::int64_t seed,
                            std::mt19937_64& shuffle_rng, std::mt19937_64& size_rng) {
  if (seed == -3) {
    M zero_shot = student;
    reset(zero_shot);
    return zero_shot;
  }
  if (seed == -2)
    return LabeledFewShot{.k = options.max_labeled_demos, .sample = labeled_sample}.compile(student, trainset);
  if (seed == -1) return BootstrapFewShot<F>(metric, options).compile(student, trainset, teacher);
  std::vector<Example<Sig>> shuffled = trainset;
  shuffle(shuffled, shuffle_rng);
  options.max_bootstrapped_demos =
      1 + static_cast<std::size_t>(uniform_below(size_rng, std::max<std::size_t>(options.max_bootstrapped_demos, 1)));
  return BootstrapFewShot<F>(metric, options).compile(student, shuffled, teacher);
}

/// One candidate of the search: its seed (-3 zero-shot, -2 labeled only, -1 unshuffled
/// bootstrap, then shuffled), its valset score (0-100) and per-example scores, and its program
/// state (demos by predictor, as dump_state). A candidate whose bootstrapping failed has no
/// score and keeps the error.
struct RandomSearchCandidate {
  std::int64_t seed = 0;
  std::optional<double> score{};
  std::vector<double> subscores{};
  std::optional<std::string> error{};
  boost::json::object state{};
};

template <class M>
struct RandomSearchResult {
  M program;    ///< the best candidate (the first of equal scores)
  double score = 0;
  std::int64_t seed = 0;
  /// Every candidate in the order tried.
  std::vector<RandomSearchCandidate> candidates{};

  /// The log: best seed and score, then every candidate.
  [[nodiscard]] boost::json::object log_json() const {
    boost::json::array list;
    for (const auto& c : candidates) {
      boost::json::array subscores;
      for (const double s : c.subscores) subscores.push_back(s);
      list.push_back({{"seed", c.seed},
                      {"score", c.score ? boost::json::value(*c.score) : boost::json::value(nullptr)},
                      {"subscores", std::move(subscores)},
                      {"error", c.error ? boost::json::value(*c.error) : boost::json::value(nullptr)},
                      {"state", c.state}});
    }
    return {{"best_seed", seed}, {"best_score", score}, {"candidates", std::move(list)}};
  }
};

/// BootstrapFewShotWithRandomSearch(metric, options).compile(student, trainset[, valset][, &teacher]):
/// for seeds -3, -2, -1, 0 .. num_candidate_programs-1 builds the zero-shot student, LabeledFewShot,
/// BootstrapFewShot on the trainset in order, then BootstrapFewShot on the trainset shuffled with
/// the seed with max_bootstrapped_demos drawn from [1, max] with the seed; evaluates each on the
/// valset (the trainset when empty) and keeps the best. The student is unchanged.
template <class F>
class BootstrapFewShotWithRandomSearch {
 public:
  explicit BootstrapFewShotWithRandomSearch(F metric, RandomSearchOptions options = {})
      : metric_(std::move(metric)), options_(options) {}

  template <AsyncCallable M, Signature Sig>
  [[nodiscard]] RandomSearchResult<M> compile(const M& student, const std::vector<Example<Sig>>& trainset,
                                              const std::vector<Example<Sig>>& valset = {},
                                              const M* teacher = nullptr) const {
    const std::vector<Example<Sig>>& dev = valset.empty() ? trainset : valset;
    std::optional<RandomSearchResult<M>> best;
    std::vector<RandomSearchCandidate> log;
    for (std::int64_t seed = -3; seed < static_cast<std::int64_t>(options_.num_candidate_programs); ++seed) {
      RandomSearchCandidate c{.seed = seed};
      auto program = candidate(student, trainset, teacher, seed);
      if (!program) {
        c.error = program.error().message();
        log.push_back(std::move(c));
        continue;
      }
      const EvaluationResult r = evaluate(*program, dev, metric_,
                                          {.concurrency = options_.concurrency,
                                           .progress = false,
                                           .display_table = 0,
                                           .failure_score = 0.0,
                                           .max_errors = options_.max_errors,
                                           .stop = {}});
      c.score = r.score;
      for (const auto& row : r.rows) c.subscores.push_back(row.score);
      c.state = dump_state(*program);
      log.push_back(std::move(c));
      if (!best || r.score > best->score) best.emplace(RandomSearchResult<M>{std::move(*program), r.score, seed, {}});
      if (options_.stop_at_score && r.score >= *options_.stop_at_score) break;
    }
    best->candidates = std::move(log);  // the zero-shot candidate never fails, so there is a best
    return std::move(*best);
  }

 private:
  template <class M, class Sig>
  Result<M> candidate(const M& student, const std::vector<Example<Sig>>& trainset, const M* teacher,
                      std::int64_t seed) const {
    const BootstrapFewShotOptions o{.metric_threshold = options_.metric_threshold,
                                    .max_bootstrapped_demos = options_.max_bootstrapped_demos,
                                    .max_labeled_demos = options_.max_labeled_demos,
                                    .max_rounds = options_.max_rounds,
                                    .max_errors = options_.max_errors,
                                    .concurrency = options_.concurrency};
    // Each candidate shuffles and draws its size from its own seed.
    std::mt19937_64 shuffle_rng(static_cast<std::uint64_t>(seed)), size_rng(static_cast<std::uint64_t>(seed));
    return fewshot_candidate(metric_, o, options_.labeled_sample, student, trainset, teacher, seed, shuffle_rng, size_rng);
  }

  F metric_;
  RandomSearchOptions options_;
};

}  // namespace dspy
