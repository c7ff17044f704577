// dspy::BootstrapFewShot: run a teacher program over the trainset, keep the traces of the runs
// whose prediction passes the metric, and give them to the student's predictors as demos, filled
// up with labeled examples (DSPy's teleprompt.BootstrapFewShot).
#pragma once

#include <algorithm>
#include <cstdint>
#include <exception>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "../predict/parallel.hpp"
#include "../predict/best_of_n.hpp"
#include "../evaluate/dataset.hpp"
#include "../detail/sha256.hpp"
#include "labeled_few_shot.hpp"
#include "../evaluate/metrics.hpp"
#include "../primitives/module.hpp"
#include "../predict/module_call.hpp"

namespace dspy {

struct BootstrapFewShotOptions {
  /// A run passes when its metric value is >= this; unset: when the value is non-zero.
  std::optional<double> metric_threshold{};
  /// Demos taken from successful teacher runs, per predictor.
  std::size_t max_bootstrapped_demos = 4;
  /// Demos in all per predictor, the rest filled with labeled examples; also the teacher's
  /// LabeledFewShot k when the teacher has no demos.
  std::size_t max_labeled_demos = 16;
  /// Tries per train example; tries after the first use rollout_id = try and temperature 1.0.
  std::size_t max_rounds = 1;
  /// The run fails with the error that makes this many failed tries (LM or metric errors);
  /// unset: 10, DSPy's default `max_errors` setting.
  std::optional<std::size_t> max_errors{};
  /// Teacher runs in flight at once. Results are taken in trainset order, so they do not depend
  /// on it (more runs than needed may be started).
  std::size_t concurrency = 8;
};

namespace detail {

// One teacher run: whether it passed the metric, what the metric said, and the calls it made.
struct BootstrapTry {
  bool success = false;
  MetricResult metric{};
  Trace trace;
};

// Whether a demo shows this example: it has all of the example's inputs, with the same values.
template <Signature PSig>
bool demo_shows(const Demo<PSig>& demo, const boost::json::object& example_inputs) {
  const boost::json::object d = demo_to_json(demo);
  return std::all_of(example_inputs.begin(), example_inputs.end(), [&](const auto& kv) {
    const auto* v = d.if_contains(kv.key());
    return v && *v == kv.value();
  });
}

// Removes the demos that show the example from every predictor.
template <class M, Signature Sig>
void prepare_teacher(M& teacher, const Example<Sig>& example) {
  const boost::json::object inputs = fields_json(example.input);
  for_each_predictor(teacher, [&](const std::string&, auto& p) {
    std::erase_if(p.demos, [&](const auto& d) { return demo_shows(d, inputs); });
  });
}

// The module batch runs: input i is train example i, run by a fresh copy of the teacher.
template <class M, class Sig, class F>
struct BootstrapRunner {
  using Input = std::size_t;
  static constexpr bool transparent_module = true;  // a runner, not a module of the program
  const M* teacher;
  const std::vector<Example<Sig>>* trainset;
  const F* metric;
  std::optional<double> threshold;
  std::size_t round;

  asio::awaitable<Result<BootstrapTry>> forward(std::size_t i) const {
    const Example<Sig>& example = (*trainset)[i];
    M run = round ? attempt_copy(*teacher, static_cast<std::int64_t>(round)) : *teacher;
    BootstrapTry out;
    prepare_teacher(run, example);
    auto pending = traced_call(&run, example.input, &out.trace);  // not inside co_await: GCC 12 bug 100611
    auto prediction = co_await std::move(pending);
    if (!prediction) co_return std::move(prediction).error();
    try {
      out.metric = run_metric(*metric, example, *prediction, &out.trace);
    } catch (const std::exception& e) {
      co_return Error(Errc::metric, std::string("the metric threw: ") + e.what());
    } catch (...) {
      co_return Error(Errc::metric, "the metric threw a non-standard exception");
    }
    out.success = threshold ? out.metric.score >= *threshold : out.metric.score != 0;
    co_return out;
  }
};

// A trace entry as a demo object: inputs, then outputs, marked augmented.
inline boost::json::object trace_demo(const TraceEntry& t) {
  boost::json::object d = t.inputs;
  for (const auto& kv : t.outputs) d[kv.key()] = kv.value();
  d["augmented"] = true;
  return d;
}

// A successful run's demos by predictor path. A predictor called several times keeps one call,
// as DSPy: with probability 1/2 a random one of the earlier calls, otherwise the last; the coin
// is seeded by the run's calls, so it is reproducible.
inline void add_trace_demos(const Trace& trace, std::map<std::string, std::vector<boost::json::object>>& out) {
  std::map<std::string, std::vector<const TraceEntry*>> by_name;
  std::vector<std::string> order;
  for (const auto& t : trace) {
    auto& calls = by_name[t.module_name];
    if (calls.empty()) order.push_back(t.module_name);
    calls.push_back(&t);
  }
  for (const auto& name : order) {
    const auto& calls = by_name[name];
    const TraceEntry* kept = calls.back();
    if (calls.size() > 1) {
      std::string text;
      for (const auto* c : calls) text += boost::json::serialize(trace_demo(*c));
      std::mt19937_64 rng(std::stoull(sha256_hex(text).substr(0, 16), nullptr, 16));
      if (uniform_below(rng, 2) == 0) kept = calls[uniform_below(rng, calls.size() - 1)];
    }
    out[name].push_back(trace_demo(*kept));
  }
}

}  // namespace detail

/// BootstrapFewShot(metric, options).compile(student, trainset[, &teacher]) returns a tuned copy
/// of the student (the student is unchanged):
/// 1. the teacher is a copy of `teacher`, or of the student without demos; with no demos it gets
///    LabeledFewShot{max_labeled_demos} first;
/// 2. it runs on the train examples in order (each without the demos that show that example),
///    until max_bootstrapped_demos examples have passed the metric, called as
///    metric(example, prediction, &trace); each passing run gives every predictor it called one
///    augmented demo from its trace;
/// 3. each student predictor gets its augmented demos, then labeled examples drawn (seed 0) from
///    those that did not pass, up to max_labeled_demos in all.
/// An error (LM or metric) costs a try; the max_errors-th error is returned.
template <class F>
class BootstrapFewShot {
 public:
  explicit BootstrapFewShot(F metric, BootstrapFewShotOptions options = {})
      : metric_(std::move(metric)), options_(options) {}

  [[nodiscard]] const BootstrapFewShotOptions& options() const noexcept { return options_; }

  template <AsyncCallable M, Signature Sig>
  [[nodiscard]] Result<M> compile(const M& student, const std::vector<Example<Sig>>& trainset,
                                  const M* teacher = nullptr) const {
    static_assert(std::is_same_v<typename M::Input, typename Sig::Input>,
                  "dspy::BootstrapFewShot: the program's Input must be the examples' Sig::Input (compile a "
                  "program on examples of its own signature).");
    static_assert(Metric<F, Example<Sig>, typename module_result_t<M>::value_type>,
                  "dspy::BootstrapFewShot: the metric must be callable as metric(example, prediction, trace) or "
                  "metric(example, prediction), with a dspy::Example<Sig> and the program's prediction, and "
                  "return a bool, a number or a dspy::MetricResult.");
    M out = student;
    reset(out);
    M coach = teacher ? *teacher : out;
    std::size_t teacher_demos = 0;
    for_each_predictor(coach, [&](const std::string&, const PredictorBase& p) { teacher_demos += p.demo_count(); });
    if (options_.max_labeled_demos && teacher_demos == 0)
      coach = LabeledFewShot{.k = options_.max_labeled_demos}.compile(coach, trainset);

    std::map<std::string, std::vector<boost::json::object>> traces;
    std::vector<bool> bootstrapped(trainset.size(), false);
    std::size_t passed = 0, errors = 0;
    const std::size_t max_errors = options_.max_errors.value_or(10);
    for (std::size_t next = 0; next < trainset.size() && passed < options_.max_bootstrapped_demos;) {
      // A wave of examples, at most as many as are still needed; every round of each.
      const std::size_t wave = std::min({std::max<std::size_t>(options_.concurrency, 1),
                                         options_.max_bootstrapped_demos - passed, trainset.size() - next});
      std::vector<std::vector<std::optional<Result<detail::BootstrapTry>>>> tries(
          wave, std::vector<std::optional<Result<detail::BootstrapTry>>>(options_.max_rounds));
      for (std::size_t round = 0; round < options_.max_rounds; ++round) {
        std::vector<std::size_t> pending;  // the examples whose previous try ran and did not pass
        for (std::size_t w = 0; w < wave; ++w) {
          if (round == 0) pending.push_back(next + w);
          else if (const auto& previous = tries[w][round - 1]; previous && !(*previous && (*previous)->success))
            pending.push_back(next + w);
        }
        if (pending.empty()) break;
        const detail::BootstrapRunner<M, Sig, F> runner{&coach, &trainset, &metric_, options_.metric_threshold, round};
        auto results = batch(runner, pending, {.concurrency = options_.concurrency, .progress = false});
        for (std::size_t k = 0; k < pending.size(); ++k) tries[pending[k] - next][round].emplace(std::move(results[k]));
      }
      // DSPy's sequential loop, replayed in trainset order.
      for (std::size_t w = 0; w < wave && passed < options_.max_bootstrapped_demos; ++w) {
        for (auto& t : tries[w]) {
          if (!t) break;
          if (!*t) {
            if (++errors >= max_errors)
              return Error(t->error().code(), "BootstrapFewShot: " + std::to_string(errors) +
                                                  " errors (max_errors " + std::to_string(max_errors) +
                                                  "); the last, on train example " + std::to_string(next + w) +
                                                  ": " + t->error().message());
            continue;
          }
          if ((*t)->success) {
            detail::add_trace_demos((*t)->trace, traces);
            bootstrapped[next + w] = true;
            ++passed;
            break;
          }
        }
      }
      next += wave;
    }

    std::vector<std::size_t> raw;  // DSPy's `validation`: the examples that gave no demos
    for (std::size_t i = 0; i < trainset.size(); ++i)
      if (!bootstrapped[i]) raw.push_back(i);
    shuffle(raw, 0);
    std::mt19937_64 rng(0);
    std::optional<Error> bad;
    for_each_predictor(out, [&](const std::string& path, auto& p) {
      using PSig = typename std::remove_cvref_t<decltype(p)>::signature_type;
      const auto& augmented = traces[path];
      for (std::size_t i = 0; i < std::min(augmented.size(), options_.max_bootstrapped_demos); ++i) {
        auto d = demo_from_json<PSig>(augmented[i]);
        if (!d) bad = Error(d.error().code(), "BootstrapFewShot: a demo of `" + path + "`: " + d.error().message());
        else p.demos.push_back(std::move(*d));
      }
      const std::size_t room = options_.max_labeled_demos > p.demos.size() ? options_.max_labeled_demos - p.demos.size() : 0;
      // As DSPy, each predictor samples from the previous predictor's sample.
      std::vector<std::size_t> sampled;
      for (const std::size_t j : detail::sample_indices(rng, raw.size(), room)) sampled.push_back(raw[j]);
      raw = std::move(sampled);
      for (const std::size_t i : raw)
        if (auto d = detail::demo_of<PSig>(trainset[i])) p.demos.push_back(std::move(*d));
    });
    if (bad) return std::move(*bad);
    return out;
  }

 private:
  F metric_;
  BootstrapFewShotOptions options_;
};

}  // namespace dspy
