// What every optimizer shares: a budget on LM calls, tokens and metric calls; progress lines with
// the best score so far; and the log of every candidate tried, saved next to the tuned program.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "../primitives/callback.hpp"
#include "../detail/io/file.hpp"
#include "../primitives/settings.hpp"
#include "../primitives/state.hpp"

namespace dspy {

/// Limits of one optimization run (unset: no limit). They are checked between candidates, so a
/// candidate started within the budget is finished: a run may pass a limit by one candidate's cost.
struct OptimizerBudget {
  std::optional<std::size_t> max_lm_calls{};  ///< calls that reached a model (cache hits are free)
  std::optional<std::int64_t> max_tokens{};   ///< prompt plus completion tokens
  std::optional<std::size_t> max_metric_calls{};
};

namespace detail {
// Counts the LM calls and tokens of the predictors running under the meter's context.
class BudgetCounter : public Callback {
 public:
  void on_lm_end(const CallInfo& /*call*/, const Result<LMResponse>& response, std::chrono::nanoseconds /*latency*/) override {
    if (response && response->cache_hit) return;
    calls.fetch_add(1, std::memory_order_relaxed);
    if (response) tokens.fetch_add(response->usage.total_tokens, std::memory_order_relaxed);
  }
  std::atomic<std::size_t> calls{0};
  std::atomic<std::int64_t> tokens{0};
};
}  // namespace detail

/// Spending of a run against its budget. Run candidates inside `meter.scope()` (a dspy::context
/// that adds the counting callback to the current ones; batch and evaluate carry it to their
/// workers), count metric calls with add_metric_calls, and ask exhausted() before each candidate.
class BudgetMeter {
 public:
  explicit BudgetMeter(OptimizerBudget budget = {})
      : budget_(budget), counter_(std::make_shared<detail::BudgetCounter>()) {}

  [[nodiscard]] Context scope() const {
    std::vector<std::shared_ptr<Callback>> callbacks = current_settings()->callbacks;
    callbacks.push_back(counter_);
    return Context({.callbacks = std::move(callbacks)});
  }

  void add_metric_calls(std::size_t n) noexcept { metric_calls_.fetch_add(n, std::memory_order_relaxed); }

  [[nodiscard]] std::size_t lm_calls() const noexcept { return counter_->calls.load(std::memory_order_relaxed); }
  [[nodiscard]] std::int64_t tokens() const noexcept { return counter_->tokens.load(std::memory_order_relaxed); }
  [[nodiscard]] std::size_t metric_calls() const noexcept { return metric_calls_.load(std::memory_order_relaxed); }
  [[nodiscard]] const OptimizerBudget& budget() const noexcept { return budget_; }

  /// Which limit is reached, e.g. "max_lm_calls 500 reached (503 calls)"; none: nullopt.
  [[nodiscard]] std::optional<std::string> exhausted() const {
    if (budget_.max_lm_calls && lm_calls() >= *budget_.max_lm_calls)
      return "max_lm_calls " + std::to_string(*budget_.max_lm_calls) + " reached (" + std::to_string(lm_calls()) + " calls)";
    if (budget_.max_tokens && tokens() >= *budget_.max_tokens)
      return "max_tokens " + std::to_string(*budget_.max_tokens) + " reached (" + std::to_string(tokens()) + " tokens)";
    if (budget_.max_metric_calls && metric_calls() >= *budget_.max_metric_calls)
      return "max_metric_calls " + std::to_string(*budget_.max_metric_calls) + " reached (" +
             std::to_string(metric_calls()) + " metric calls)";
    return std::nullopt;
  }

  [[nodiscard]] boost::json::object json() const {
    return {{"lm_calls", lm_calls()}, {"tokens", tokens()}, {"metric_calls", metric_calls()}};
  }

 private:
  OptimizerBudget budget_;
  std::shared_ptr<detail::BudgetCounter> counter_;
  std::atomic<std::size_t> metric_calls_{0};
};

/// One candidate an optimizer tried: what it was (`params`: e.g. instruction and demo-set
/// indices, a seed, a parent), where it was scored (`kind`: "full", "minibatch", ...), its score
/// (0-100, as dspy::evaluate) and per-example scores, or the error that stopped it, and the
/// program state it had (dump_state), when kept.
struct CandidateRecord {
  std::size_t index = 0;
  std::string kind = "full";
  boost::json::object params{};
  std::optional<double> score{};
  std::vector<double> subscores{};
  std::optional<std::string> error{};
  boost::json::object state{};

  [[nodiscard]] boost::json::object json() const {
    boost::json::array scores;
    for (const double s : subscores) scores.push_back(s);
    return {{"index", index},
            {"kind", kind},
            {"params", params},
            {"score", score ? boost::json::value(*score) : boost::json::value(nullptr)},
            {"subscores", std::move(scores)},
            {"error", error ? boost::json::value(*error) : boost::json::value(nullptr)},
            {"state", state}};
  }
};

/// An optimizer's result: the tuned program (a copy; the student is untouched), its score, every
/// candidate in the order tried, why the run stopped early (a budget), and what it spent.
template <class M>
struct OptimizeResult {
  M program;
  double score = 0;
  std::string optimizer{};
  std::vector<CandidateRecord> candidates{};
  std::optional<std::string> stopped{};
  boost::json::object spent{};

  [[nodiscard]] boost::json::object log_json() const {
    boost::json::array list;
    for (const auto& c : candidates) list.push_back(c.json());
    return {{"optimizer", optimizer},
            {"best_score", score},
            {"stopped", stopped ? boost::json::value(*stopped) : boost::json::value(nullptr)},
            {"spent", spent},
            {"candidates", std::move(list)}};
  }

  /// Saves the program as dspy::save does (DSPy's format, loadable by load) and the log next to
  /// it, as `<path without extension>.log.json`.
  [[nodiscard]] Result<void> save(const std::filesystem::path& path) const {
    if (auto r = dspy::save(program, path); !r) return r;
    std::filesystem::path log = path;
    log.replace_extension(".log.json");
    return detail::write_file_atomic(log, boost::json::serialize(log_json()) + "\n");
  }
};

/// Progress lines of an optimizer ("MIPROv2 trial 7/20: 86.0 (best 91.0)"), written to a stream
/// (stderr by default; null: silent), and a hook for programs that show progress themselves.
struct OptimizerProgress {
  std::FILE* stream = stderr;
  std::function<void(const CandidateRecord&, double best)> on_candidate{};

  void report(std::string_view optimizer, const CandidateRecord& c, std::size_t total, double best) const {
    if (on_candidate) on_candidate(c, best);
    if (!stream) return;
    std::string line(optimizer);
    line += ' ' + c.kind + ' ' + std::to_string(c.index + 1);
    if (total) line += '/' + std::to_string(total);
    char figures[96];
    if (c.score) std::snprintf(figures, sizeof figures, ": %.1f (best %.1f)", *c.score, best);
    else std::snprintf(figures, sizeof figures, ": failed (best %.1f)", best);
    line += figures;
    if (c.error) line += " - " + *c.error;
    std::fprintf(stream, "%s\n", line.c_str());
    std::fflush(stream);
  }
};

}  // namespace dspy
