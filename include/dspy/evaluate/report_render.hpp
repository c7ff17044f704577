// Renderings of a benchmark report and of a comparison: a terminal table, CSV (one line per model;
// one line per example run), SVG charts (latency histogram, score per example, accuracy against
// cost) and a single self-contained HTML page holding all of them (no scripts, fonts or images
// from elsewhere: it works offline and can be mailed).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "../detail/config.hpp"
#include "../primitives/error.hpp"
#include "benchmark.hpp"
#include "compare.hpp"

namespace dspy {

/// One column per model: accuracy and its interval, latency, tokens, cost, calls, throughput, errors.
[[nodiscard]] DSPY_DECL std::string to_table(const BenchmarkReport& report);
/// The accuracy change, its interval and test, the flips and the deltas.
[[nodiscard]] DSPY_DECL std::string to_table(const Comparison& comparison);

/// One line per model, the summary's figures.
[[nodiscard]] DSPY_DECL std::string summary_csv(const BenchmarkReport& report);
/// One line per model, repeat and example: score, error, latency, tokens, the example's fields
/// and the prediction (as JSON).
[[nodiscard]] DSPY_DECL std::string rows_csv(const BenchmarkReport& report);

/// Each model's latency histogram over shared bins, with p50/p90/p99 marked.
[[nodiscard]] DSPY_DECL std::string latency_svg(const BenchmarkReport& report);
/// A strip per model, a cell per example coloured by its score (mean over repeats; red: failed).
[[nodiscard]] DSPY_DECL std::string scores_svg(const BenchmarkReport& report);
/// Each model's accuracy (with its interval) against its cost per 1,000 examples, or its tokens
/// per example when a model has no price.
[[nodiscard]] DSPY_DECL std::string accuracy_cost_svg(const BenchmarkReport& report);

/// The whole report as one HTML page; with comparisons (e.g. compare(first model, each other)),
/// their sections too.
[[nodiscard]] DSPY_DECL std::string to_html(const BenchmarkReport& report, const std::vector<Comparison>& comparisons = {});
/// A comparison on its own page.
[[nodiscard]] DSPY_DECL std::string to_html(const Comparison& comparison);

/// The comparisons an HTML report shows: the first model against each other one.
[[nodiscard]] DSPY_DECL std::vector<Comparison> compare_models(const BenchmarkReport& report, CompareOptions options = {});

/// Writes <stem>.json (the report), <stem>.html, <stem>.csv (summary), <stem>-rows.csv and the
/// three charts (<stem>-latency.svg, -scores.svg, -accuracy-cost.svg) into `dir`, creating it;
/// returns the paths written.
DSPY_DECL Result<std::vector<std::filesystem::path>> save_report(const BenchmarkReport& report,
                                                                 const std::filesystem::path& dir, std::string_view stem);

}  // namespace dspy

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "report_render_impl.hpp"
#endif
