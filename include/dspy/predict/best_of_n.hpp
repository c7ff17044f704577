// dspy::BestOfN<M>: run a module up to N times at temperature 1.0 with distinct rollout ids and
// keep the first result that reaches a reward threshold, or else the best one (DSPy's BestOfN).
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/describe/class.hpp>

#include "../primitives/error.hpp"
#include "../primitives/module.hpp"
#include "module_call.hpp"
#include "../primitives/predictor.hpp"
#include "../primitives/settings.hpp"

namespace dspy {

namespace detail {

// DSPy gives each attempt a copy of the LM with rollout_id = start + i and temperature 1.0. Here
// each predictor of the module's copy gets them in its own config. As in DSPy, where a
// predictor's config overrides its LM's settings, a temperature the predictor sets itself is kept.
template <class M>
M attempt_copy(const M& module, std::int64_t rollout_id) {
  M copy = module;
  for_each_predictor(copy, [&](const std::string&, PredictorBase& p) {
    CallConfig& c = p.call_config();
    if (!c.temperature) c.temperature = 1.0;
    c.rollout_id = rollout_id;
  });
  return copy;
}

// The first rollout id: DSPy reads it from the module's LM; here from the first predictor's config.
template <class M>
std::int64_t first_rollout_id(const M& module) {
  std::optional<std::int64_t> start;
  for_each_predictor(module, [&](const std::string&, const PredictorBase& p) {
    if (!start) start = p.call_config().rollout_id.value_or(0);
  });
  return start.value_or(0);
}

// DSPy's failure budget, per call: attempt `index` failing gives up when index > budget, else the
// budget shrinks by one. (DSPy shrinks the module's own fail_count, so the budget also drops
// across calls; here every call starts afresh.) With the default budget N, N = 3 attempts that all
// fail give up at the third; fail_count = 1 gives up at the second failure.
class FailureBudget {
 public:
  FailureBudget(std::optional<std::size_t> fail_count, std::size_t n)
      : left_(static_cast<std::int64_t>(fail_count.value_or(0) ? *fail_count : n)) {}  // 0 means N, as `or` does
  /// Records a failure of attempt `index`; true when the run must give up.
  bool exhausted_by(std::size_t index) {
    if (static_cast<std::int64_t>(index) > left_) return true;
    --left_;
    return false;
  }

 private:
  std::int64_t left_;
};

inline Error reward_error(std::string_view module) {
  try {
    throw;
  } catch (const std::exception& e) {
    return Error(Errc::config, std::string(module) + ": reward_fn threw: " + e.what());
  } catch (...) {
    return Error(Errc::config, std::string(module) + ": reward_fn threw a non-standard exception");
  }
}

}  // namespace detail

template <AsyncCallable M>
class BestOfN {
 public:
  using Input = typename M::Input;
  using result_type = module_result_t<M>;
  /// What the module returns on success (e.g. Predicted<Output>).
  using value_type = typename result_type::value_type;
  /// Scores an attempt: the call's input and the module's result.
  using RewardFn = std::function<double(const Input&, const value_type&)>;

  /// The module run on each attempt (a copy is run; this one is never changed).
  M module;

  /// `fail_count`: failed attempts tolerated, as in DSPy; unset (or 0) means N.
  BestOfN(M module_, std::size_t n, RewardFn reward_fn, double threshold,
          std::optional<std::size_t> fail_count = std::nullopt)
      : module(std::move(module_)),
        n_(n),
        reward_fn_(std::move(reward_fn)),
        threshold_(threshold),
        fail_count_(fail_count) {}

  /// The first result whose reward reaches the threshold, else the best rewarded; when no attempt
  /// succeeded (or failures exhausted the budget), the last error. Errors count as failures; so
  /// does a reward_fn that throws.
  asio::awaitable<result_type> forward(Input input) const {
    if (n_ == 0) co_return Error(Errc::config, "BestOfN: N is 0, so there is no attempt to return");
    const std::int64_t start = detail::first_rollout_id(module);
    detail::FailureBudget budget(fail_count_, n_);
    std::optional<result_type> best;
    double best_reward = -std::numeric_limits<double>::infinity();
    std::optional<Error> last_error;
    // As DSPy, each attempt runs under a trace of its own; the best one's joins the run's trace.
    const SettingsPtr settings = detail::settings_here();
    Trace best_trace;
    for (std::size_t i = 0; i < n_; ++i) {
      const M attempt = detail::attempt_copy(module, start + static_cast<std::int64_t>(i));
      Trace trace;
      auto pending = settings->trace ? detail::traced_call(&attempt, input, &trace)  // not inside co_await:
                                     : dspy::acall(attempt, input);                  // GCC 12 bug 100611
      result_type result = co_await std::move(pending);
      std::optional<double> reward;
      if (result) {
        try {
          reward = reward_fn_(input, *result);
        } catch (...) {
          result = detail::reward_error("BestOfN");
        }
      }
      if (!reward) {
        if (budget.exhausted_by(i)) co_return std::move(result);  // DSPy re-raises, even with a best
        last_error = result.error();
        continue;
      }
      // DSPy keeps a result only when it beats -inf; here the first success is always kept, so a
      // success is never lost to a NaN or -inf reward.
      const bool reached = *reward >= threshold_;
      if (!best || *reward > best_reward) {
        best_reward = *reward;
        best.emplace(std::move(result));
        best_trace = std::move(trace);
      }
      if (reached) break;
    }
    detail::extend_trace(*settings, best_trace, "module");
    if (best) co_return std::move(*best);
    co_return std::move(*last_error);
  }

  /// Blocking call.
  result_type operator()(const Input& input) const { return dspy::call(*this, input); }

  BOOST_DESCRIBE_CLASS(BestOfN, (), (module), (), ())

 private:
  std::size_t n_;
  RewardFn reward_fn_;
  double threshold_;
  std::optional<std::size_t> fail_count_;
};

}  // namespace dspy
