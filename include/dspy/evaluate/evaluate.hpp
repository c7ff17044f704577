// dspy::evaluate: run a program over a dev set through dspy::batch, score each prediction with
// a metric, and report the score with one row per example (saved as CSV or JSON, loaded back).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "../predict/parallel.hpp"
#include "../detail/config.hpp"
#include "../detail/io/file.hpp"
#include "../detail/text/pytext.hpp"
#include "../signatures/example.hpp"
#include "metrics.hpp"
#include "../primitives/module.hpp"
#include "../predict/module_call.hpp"

namespace dspy {

struct EvaluateOptions {
  /// Programs in flight at once.
  std::size_t concurrency = 16;
  /// A progress bar with rate, ETA and the running score on a terminal (stderr), plain lines otherwise.
  bool progress = true;
  /// Rows of the result table printed to stdout at the end (0: none; all_rows: every row).
  std::size_t display_table = 0;
  /// The score of an example whose program (or metric) failed.
  double failure_score = 0.0;
  /// After more than this many failures, examples not yet started are not run (they fail as
  /// cancelled and are still reported). Unset: never stop.
  std::optional<std::size_t> max_errors{};
  /// Stops the run: programs in flight are cancelled, the rest are reported as cancelled.
  std::stop_token stop{};
};

inline constexpr std::size_t all_rows = static_cast<std::size_t>(-1);

/// Why an example has no prediction.
struct RowError {
  Errc code = Errc::config;
  std::string message{};
  friend bool operator==(const RowError&, const RowError&) = default;
};

/// One example's outcome. Values are JSON objects keyed by field name, so that any program's
/// rows can be saved, loaded and compared.
struct EvaluationRow {
  std::size_t index = 0;
  boost::json::object example{};                    ///< inputs and labels
  std::optional<boost::json::object> prediction{};  ///< output fields; unset on error
  std::optional<RowError> error{};
  double score = 0;
  std::string feedback{};  ///< from a metric that returns MetricResult
  double latency_s = 0;    ///< the program's wall time for this example (0 when it never ran)
  Usage usage{};           ///< what the prediction reports (a Predicted's usage), else zero
  friend bool operator==(const EvaluationRow&, const EvaluationRow&) = default;
};

struct EvaluationResult {
  /// 100 * the mean row score, rounded to two decimals (DSPy's EvaluationResult.score).
  double score = 0;
  /// The sum of the row scores.
  double total = 0;
  /// One row per example, in dev set order, failures included.
  std::vector<EvaluationRow> rows{};

  [[nodiscard]] std::size_t errors() const {
    return static_cast<std::size_t>(std::count_if(rows.begin(), rows.end(), [](const auto& r) { return r.error.has_value(); }));
  }

  [[nodiscard]] DSPY_DECL boost::json::object to_json() const;
  DSPY_DECL static Result<EvaluationResult> from_json(const boost::json::value& v);
  [[nodiscard]] DSPY_DECL std::string to_csv() const;
  DSPY_DECL static Result<EvaluationResult> from_csv(std::string_view text, std::string_view source = "csv");

  Result<void> save_json(const std::filesystem::path& path) const {
    return detail::write_file_atomic(path, detail::py_json(to_json(), false, 2) + "\n");
  }
  Result<void> save_csv(const std::filesystem::path& path) const { return detail::write_file_atomic(path, to_csv()); }
  DSPY_DECL static Result<EvaluationResult> load_json(const std::filesystem::path& path);
  static Result<EvaluationResult> load_csv(const std::filesystem::path& path) {
    auto text = detail::read_text_file(path);
    if (!text) return text.error();
    return from_csv(*text, path.string());
  }

  /// A text table of the first `max_rows` rows: index, example and prediction fields, score.
  [[nodiscard]] DSPY_DECL std::string table(std::size_t max_rows = all_rows) const;

  friend bool operator==(const EvaluationResult&, const EvaluationResult&) = default;
};

/// An Errc from its name ("network"), as to_string writes it.
DSPY_DECL std::optional<Errc> errc_from_string(std::string_view name);

namespace detail {

// The outputs of a prediction as a JSON object by field name.
template <class P>
boost::json::object prediction_json(const P& prediction) {
  using O = std::remove_cvref_t<decltype(outputs_of(prediction))>;
  const O& o = outputs_of(prediction);
  boost::json::object out;
  if constexpr (Struct<O>) {
    for (std::size_t i = 0; i < FieldTable<O>::size; ++i) out[field_names<O>[i]] = FieldTable<O>::ops.to_json[i](o);
  } else {
    static_assert(FieldType<O>,
                  "dspy::evaluate: the program's result is neither a struct of fields nor a field type, so its "
                  "rows cannot be written; return a Predicted<Output> or an aggregate of field types.");
    out["output"] = dspy::to_json(o);
  }
  return out;
}

struct ScoredPrediction {
  boost::json::object prediction;
  MetricResult score;
  Usage usage;
};

// The module batch runs: input i is example i; it times the program and applies the metric.
template <class M, class Sig, class F>
struct Scorer {
  using Input = std::size_t;
  static constexpr bool transparent_module = true;  // a runner, not a module of the program
  const M* program;
  const std::vector<Example<Sig>>* devset;
  const F* metric;
  std::vector<double>* latency;
  double* running_total;
  std::size_t* scored;  // examples scored so far: the progress line's denominator, as DSPy's

  asio::awaitable<Result<ScoredPrediction>> forward(std::size_t i) const {
    const auto start = std::chrono::steady_clock::now();
    auto pending = dspy::acall(*program, (*devset)[i].input);  // not inside co_await: GCC 12 bug 100611
    auto r = co_await std::move(pending);
    (*latency)[i] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!r) co_return std::move(r).error();
    ScoredPrediction out;
    try {
      out.score = run_metric(*metric, (*devset)[i], *r, nullptr);
    } catch (const std::exception& e) {
      co_return Error(Errc::metric, std::string("the metric threw: ") + e.what());
    } catch (...) {
      co_return Error(Errc::metric, "the metric threw a non-standard exception");
    }
    out.prediction = prediction_json(*r);
    if constexpr (requires { r.value().usage(); }) out.usage = r.value().usage();
    *running_total += out.score.score;
    ++*scored;
    co_return out;
  }
};

DSPY_DECL std::string fixed(double v, int decimals);

// The running score as DSPy's progress bar shows it: over the examples scored so far, which
// leaves out the ones that failed.
DSPY_DECL std::string progress_note(double total, std::size_t scored);

DSPY_DECL double round_to(double v, int decimals);

// The rows and score of an evaluation from the scored results, in dev set order; prints the
// summary and the table as the options ask.
DSPY_DECL EvaluationResult evaluation_result(std::vector<Result<ScoredPrediction>> results,
                                             std::vector<boost::json::object> examples,
                                             const std::vector<double>& latency, const EvaluateOptions& options);

}  // namespace detail

/// Runs `program` over every example's inputs (through dspy::batch, so with bounded concurrency,
/// max_errors and stop) and scores each prediction with `metric(example, prediction, trace)`.
/// N examples give N rows in order; a failure scores `failure_score` and keeps its typed error.
template <AsyncCallable M, Signature Sig, class F>
EvaluationResult evaluate(const M& program, const std::vector<Example<Sig>>& devset, const F& metric,
                          EvaluateOptions options = {}) {
  static_assert(std::is_same_v<typename M::Input, typename Sig::Input>,
                "dspy::evaluate: the program's Input must be the examples' Sig::Input (evaluate a program on "
                "examples of its own signature).");
  using P = typename module_result_t<M>::value_type;
  static_assert(Metric<F, Example<Sig>, P>,
                "dspy::evaluate: the metric must be callable as metric(example, prediction, trace) or "
                "metric(example, prediction), with a dspy::Example<Sig> and the program's prediction, and "
                "return a bool, a number or a dspy::MetricResult.");
  std::vector<double> latency(devset.size(), 0.0);
  double running_total = 0;
  std::size_t scored = 0;
  const detail::Scorer<M, Sig, F> scorer{&program, &devset, &metric, &latency, &running_total, &scored};
  std::vector<std::size_t> indices(devset.size());
  for (std::size_t i = 0; i < indices.size(); ++i) indices[i] = i;
  BatchOptions batch_options{.concurrency = options.concurrency,
                             .max_errors = options.max_errors,
                             .progress = options.progress,
                             .progress_lines = options.progress,
                             .progress_stream = stderr,
                             .progress_note = [&] { return detail::progress_note(running_total, scored); },
                             .on_progress = {},
                             .stop = options.stop};
  auto results = batch(scorer, std::move(indices), std::move(batch_options));
  std::vector<boost::json::object> examples;
  examples.reserve(devset.size());
  for (const auto& example : devset) examples.push_back(example_to_json(example));
  return detail::evaluation_result(std::move(results), std::move(examples), latency, options);
}
}  // namespace dspy

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "evaluate_impl.hpp"
#endif
