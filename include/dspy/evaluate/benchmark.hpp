// dspy::benchmark: runs a program over a dataset with a metric against one or more LMs (a model
// matrix), optionally several times, and returns a report: accuracy with a 95% bootstrap
// interval, latency percentiles, tokens, cost from a price table, LM calls, cache hits, errors by
// type, throughput, and every example's rows. A run can take a deterministic slice of the dataset
// (a shard); shard reports merge into the report of one run. Renderings (table, CSV, SVG, HTML):
// report_render.hpp; comparing two runs: compare.hpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "../detail/config.hpp"
#include "../primitives/callback.hpp"
#include "../primitives/error.hpp"
#include "../primitives/lm_handle.hpp"
#include "../primitives/module.hpp"
#include "../primitives/settings.hpp"
#include "../clients/base_lm.hpp"
#include "evaluate.hpp"

namespace dspy {

/// A model's list price in USD per million tokens.
struct Price {
  double input = 0;
  double output = 0;
  friend bool operator==(const Price&, const Price&) = default;
};

/// Prices by model id prefix ("openai/gpt-4o-mini"); a model takes the longest matching prefix.
class PriceTable {
 public:
  PriceTable() = default;
  explicit PriceTable(std::map<std::string, Price, std::less<>> by_prefix) : prices_(std::move(by_prefix)) {}

  [[nodiscard]] DSPY_DECL std::optional<Price> find(std::string_view model) const;
  [[nodiscard]] const std::map<std::string, Price, std::less<>>& entries() const noexcept { return prices_; }

  /// {"openai/gpt-4o-mini": {"input": 0.15, "output": 0.60}, ...}
  DSPY_DECL static Result<PriceTable> from_json(const boost::json::value& v, std::string_view source = "prices");
  /// A header `model,input,output`, then one model a line.
  DSPY_DECL static Result<PriceTable> from_csv(std::string_view text, std::string_view source = "prices");
  /// A .csv file as from_csv reads it; anything else as JSON.
  DSPY_DECL static Result<PriceTable> load(const std::filesystem::path& path);

 private:
  std::map<std::string, Price, std::less<>> prices_;
};

/// A deterministic slice of a dataset: example i belongs to shard i % count. Round robin, so a
/// dataset sorted by difficulty still splits into even shards.
struct Shard {
  std::size_t index = 0;
  std::size_t count = 1;
  /// "I/N" with 0 <= I < N.
  DSPY_DECL static Result<Shard> parse(std::string_view text);
  [[nodiscard]] bool holds(std::size_t example) const noexcept { return example % count == index; }
  [[nodiscard]] std::string to_string() const { return std::to_string(index) + "/" + std::to_string(count); }
  friend bool operator==(const Shard&, const Shard&) = default;
};

/// One LM of the matrix. An empty label is the LM's model name. No LM: the program as it is (its
/// predictors' own LMs, else the settings' LM).
struct BenchmarkModel {
  std::string label{};
  LMHandle lm{};
};

struct BenchmarkOptions {
  /// What is benchmarked (e.g. "factoid / cot"): the report's title.
  std::string name = "benchmark";
  /// Where the examples come from, for the report.
  std::string dataset{};
  /// Runs per model over the examples. Repeats of a cached LM are cache hits (the report counts
  /// them): turn its cache off to measure the model's spread.
  std::size_t repeats = 1;
  Shard shard{};
  PriceTable prices{};
  /// Concurrency, progress, failure score, max_errors and stop of each evaluation.
  EvaluateOptions evaluate{.progress = false};
  /// Resamples of the bootstrap intervals, and their seed.
  std::size_t bootstrap_samples = 2000;
  std::uint64_t seed = 0;
};

/// What one model's LM calls did, counted as they end (by a callback).
struct CallCounts {
  std::size_t calls = 0;
  std::size_t cache_hits = 0;
  std::int64_t tokens_in = 0;   ///< cache hits spend none
  std::int64_t tokens_out = 0;
  std::map<std::string, std::size_t> errors{};  ///< failed calls by error code
  std::size_t retries = 0;  ///< transport retries of the calls that got a reply
  friend bool operator==(const CallCounts&, const CallCounts&) = default;
};

/// One model's runs: rows keep the dataset's example index.
struct ModelRun {
  std::string label{};
  std::string model{};
  std::optional<Price> price{};
  std::vector<EvaluationResult> repeats{};
  CallCounts calls{};
  /// Wall time of all repeats. Merged shards: the longest shard's (they run side by side).
  double wall_s = 0;
  friend bool operator==(const ModelRun&, const ModelRun&) = default;
};

/// A 95% interval.
struct Interval {
  double low = 0;
  double high = 0;
  friend bool operator==(const Interval&, const Interval&) = default;
};

/// What a ModelRun comes to; derived from its rows and counts, never stored as the truth.
struct ModelSummary {
  std::string label{}, model{};
  std::size_t examples = 0;  ///< distinct examples run
  std::size_t repeats = 0;
  double accuracy = 0;       ///< 100 * mean score over every row
  Interval accuracy_ci{};    ///< bootstrap over examples (each example's mean over repeats)
  std::vector<double> repeat_accuracy{};
  double latency_p50_ms = 0, latency_p90_ms = 0, latency_p99_ms = 0, latency_max_ms = 0, latency_mean_ms = 0;
  CallCounts calls{};
  std::optional<double> cost_usd{};
  std::map<std::string, std::size_t> errors{};  ///< failed examples by error code
  std::size_t failed = 0;
  double wall_s = 0;
  double throughput = 0;  ///< examples (times repeats) per second of wall time
};

/// A run's figures; the accuracy interval from `bootstrap_samples` resamples seeded by `seed`.
[[nodiscard]] DSPY_DECL ModelSummary summarize(const ModelRun& run, std::size_t bootstrap_samples = 2000,
                                               std::uint64_t seed = 0);

struct BenchmarkReport {
  std::string name{};
  std::string dataset{};
  std::size_t dataset_size = 0;  ///< examples in the whole dataset, every shard's
  Shard shard{};                 ///< the slice this report holds ({0, 1}: all of it)
  std::size_t repeats = 1;
  std::size_t concurrency = 0;
  std::size_t bootstrap_samples = 2000;
  std::uint64_t seed = 0;
  std::vector<ModelRun> models{};

  /// summarize(run) with this report's bootstrap settings.
  [[nodiscard]] ModelSummary summary(const ModelRun& run) const { return summarize(run, bootstrap_samples, seed); }
  [[nodiscard]] DSPY_DECL std::vector<ModelSummary> summaries() const;
  /// The model run labelled `label`, or null.
  [[nodiscard]] DSPY_DECL const ModelRun* find(std::string_view label) const;

  /// The rows and counts, with each model's summary for readers (recomputed on load).
  [[nodiscard]] DSPY_DECL boost::json::object to_json() const;
  DSPY_DECL static Result<BenchmarkReport> from_json(const boost::json::value& v, std::string_view source = "report");
  DSPY_DECL Result<void> save_json(const std::filesystem::path& path) const;
  DSPY_DECL static Result<BenchmarkReport> load_json(const std::filesystem::path& path);

  friend bool operator==(const BenchmarkReport&, const BenchmarkReport&) = default;
};

/// Shard reports of one benchmark (same name, dataset, models, repeats; shards 0..N-1 of N, each
/// once, in any order) as the report of one unsharded run: rows in dataset order, counts summed,
/// each model's wall time the longest shard's.
DSPY_DECL Result<BenchmarkReport> merge(std::vector<BenchmarkReport> shards);

namespace detail {

// Nearest-rank percentile of sorted values (0 when there are none).
DSPY_DECL double nearest_rank(const std::vector<double>& sorted, double p);

// The 2.5th and 97.5th percentiles of the mean of `values` resampled with replacement.
DSPY_DECL Interval bootstrap_mean(const std::vector<double>& values, std::size_t samples, std::uint64_t seed);

// Each example's mean score over a run's repeats, by example index.
DSPY_DECL std::map<std::size_t, double> example_scores(const ModelRun& run);

// Counts every LM call that ends under the settings it is installed in.
class CallCounter : public Callback {
 public:
  void on_lm_end(const CallInfo&, const Result<LMResponse>& response, std::chrono::nanoseconds) override {
    std::lock_guard lock(mutex_);
    ++counts_.calls;
    if (!response) {
      ++counts_.errors[std::string(to_string(response.error().code()))];
      return;
    }
    counts_.retries += static_cast<std::size_t>(std::max(response->retries, 0));
    if (response->cache_hit) {
      ++counts_.cache_hits;
      return;
    }
    counts_.tokens_in += response->usage.prompt_tokens;
    counts_.tokens_out += response->usage.completion_tokens;
  }
  [[nodiscard]] CallCounts counts() const {
    std::lock_guard lock(mutex_);
    return counts_;
  }

 private:
  mutable std::mutex mutex_;
  CallCounts counts_;
};

}  // namespace detail

/// Runs `program` over the examples of `options.shard` once per model and repeat (the program is
/// copied and given the model's LM; `program` itself is left alone), scoring with `metric` as
/// dspy::evaluate does, and reports each model's run. Errors: a shard that is not I/N with I < N,
/// no repeats; an example or LM that fails is a row of the report, not an error.
template <AsyncCallable M, Signature Sig, class F>
Result<BenchmarkReport> benchmark(const M& program, const std::vector<Example<Sig>>& dataset, const F& metric,
                                  const std::vector<BenchmarkModel>& models, BenchmarkOptions options = {}) {
  static_assert(std::is_copy_constructible_v<M>,
                "dspy::benchmark: the program must be copyable: each model runs a copy given its LM (hold "
                "move-only members, e.g. an index, through a std::shared_ptr).");
  if (options.shard.count == 0 || options.shard.index >= options.shard.count)
    return Error(Errc::config, "dspy::benchmark: shard " + options.shard.to_string() + " is not I/N with 0 <= I < N");
  if (options.repeats == 0) return Error(Errc::config, "dspy::benchmark: repeats must be at least 1");
  BenchmarkReport report{.name = options.name,
                         .dataset = options.dataset,
                         .dataset_size = dataset.size(),
                         .shard = options.shard,
                         .repeats = options.repeats,
                         .concurrency = options.evaluate.concurrency,
                         .bootstrap_samples = options.bootstrap_samples,
                         .seed = options.seed,
                         .models = {}};
  std::vector<std::size_t> indices;
  std::vector<Example<Sig>> slice;
  for (std::size_t i = 0; i < dataset.size(); ++i)
    if (options.shard.holds(i)) {
      indices.push_back(i);
      slice.push_back(dataset[i]);
    }
  for (const auto& m : models) {
    M copy = program;
    if (m.lm) set_lm(copy, m.lm);
    const LMHandle shown = m.lm ? m.lm : current_settings()->lm;
    ModelRun run{.label = m.label, .model = shown ? shown->model() : std::string()};
    if (run.label.empty()) run.label = run.model.empty() ? "program" : run.model;
    run.price = options.prices.find(run.model);
    auto counter = std::make_shared<detail::CallCounter>();
    std::vector<std::shared_ptr<Callback>> callbacks = current_settings()->callbacks;
    callbacks.push_back(counter);
    const auto scope = context({.callbacks = std::move(callbacks)});
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t r = 0; r < options.repeats; ++r) {
      EvaluationResult result = evaluate(copy, slice, metric, options.evaluate);
      for (auto& row : result.rows) row.index = indices[row.index];
      run.repeats.push_back(std::move(result));
    }
    run.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    run.calls = counter->counts();
    report.models.push_back(std::move(run));
  }
  return report;
}

}  // namespace dspy

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "benchmark_impl.hpp"
#endif
