// dspy::SIMBA: stochastic introspective mini-batch ascent (DSPy's teleprompt.SIMBA). Each step
// runs programs of the pool several times on every example of a minibatch, takes the examples
// whose runs disagree most, and builds new candidates from them: the best run's calls become
// demos, or the prompt model compares a better and a worse run and writes advice per predictor
// into its instructions. Candidates are scored on the minibatch, each step's best is kept, and
// the kept programs are scored on the whole trainset at the end.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <numeric>
#include <optional>
#include <random>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "../predict/parallel.hpp"
#include "../predict/best_of_n.hpp"
#include "bootstrap.hpp"
#include "../evaluate/dataset.hpp"
#include "../evaluate/metrics.hpp"
#include "../primitives/module.hpp"
#include "../predict/module_call.hpp"
#include "teleprompt.hpp"
#include "../predict/predict.hpp"
#include "../predict/refine.hpp"

namespace dspy {

/// simba_utils.OfferFeedback, with DSPy's instructions, fields and descriptions: the prompt model
/// reads a better and a worse run of the program on one example and advises each predictor.
struct SIMBAOfferFeedback {
  static constexpr std::string_view instructions =
      "You will be given two trajectories of an LLM-driven program's execution. Your goal is to help the program's "
      "modules\nbuild up experience on how to maximize the reward value assigned to the program's outputs if it were "
      "to receive\nsimilar inputs in the future.\n\nThe module won't see its own history. It will rely on your advice "
      "balancing being concrete and being generalizable.\n\nIn your advice:\n- Avoid boilerplate. Offer advice that "
      "would change the module's behavior for the better in the future.\n- Ensure that advice offered to a module M "
      "is specific to that M's specific sub-task, not the overall program.\n- Rely on contrasting the behavior of "
      "the worse trajectory against the better trajectory in making recommendations.\n- Ensure each unique module "
      "name appears exactly once as a key in the advice dictionary.";
  struct Input {
    std::string program_code;
    std::string modules_defn;
    std::string program_inputs;
    std::string oracle_metadata;
    std::string worse_program_trajectory;
    std::string worse_program_outputs;
    double worse_reward_value = 0;  ///< NaN: shown as "N/A", as DSPy hides a run's score
    std::string worse_reward_info;
    std::string better_program_trajectory;
    std::string better_program_outputs;
    double better_reward_value = 0;
    std::string better_reward_info;
    std::vector<std::string> module_names;
  };
  struct Output {
    std::string discussion;
    std::map<std::string, std::string> module_advice;
  };
  static constexpr auto docs = dspy::docs({
      {"program_code", "The code of the program that we are analyzing"},
      {"modules_defn", "The definition of each module in the program, including its I/O"},
      {"program_inputs", "The inputs to the program that we are analyzing"},
      {"oracle_metadata", "Any (hidden) metadata about the training set instance we're analyzing"},
      {"worse_program_trajectory", "The trajectory of the program's execution, showing each module's I/O"},
      {"worse_program_outputs", "The outputs of the program that we are analyzing"},
      {"worse_reward_value", "The reward value assigned to the program's outputs"},
      {"worse_reward_info", "Additional information that might be helpful to understanding the assigned reward value."},
      {"better_program_trajectory", "The trajectory of the program's execution, showing each module's I/O"},
      {"better_program_outputs", "The outputs of the program that we are analyzing"},
      {"better_reward_value", "The reward value assigned to the program's outputs"},
      {"better_reward_info", "Additional information that might be helpful to understanding the assigned reward value."},
      {"module_names", "The names of the modules in the program, for which we seek advice"},
      {"discussion", "Discussing blame of where each module went wrong, if it did"},
      {"module_advice",
       "For each module, describe very concretely: If the module receives ${description of input or patterns "
       "therein}, then it should ${description of content, behavior, or strategies to adopt and/or others to avoid}. "
       "Basically, your advice be such that if the module has access to your tip, it would be much more likely to act "
       "like the successful trajectory rather than the lower-scoring trajectory."},
  });
};

struct SIMBAOptions {
  /// Examples per minibatch; the trainset must hold at least this many.
  std::size_t bsize = 32;
  /// Runs per example when sampling, and new candidates per step (up to one more, as DSPy).
  std::size_t num_candidates = 6;
  std::size_t max_steps = 8;
  /// Demos a predictor holds before some are dropped; 0: only rules are appended.
  std::size_t max_demos = 4;
  /// Characters kept of an input field in a new demo; 0: no limit.
  std::size_t demo_input_field_maxlen = 100'000;
  double temperature_for_sampling = 0.2;    ///< softmax over pool scores when sampling runs
  double temperature_for_candidates = 0.2;  ///< softmax when picking a candidate's source
  /// Seeds the minibatches, program choices, strategies and demo drops (DSPy's compile seed).
  std::uint64_t seed = 0;
  OptimizerBudget budget{};
  OptimizerProgress progress{};
  /// Runs in flight at once (DSPy's num_threads).
  std::size_t concurrency = 16;
  /// Shown to the prompt model as `program_code` (DSPy shows the program class's Python source,
  /// which C++ cannot read). Unset: the program's type name.
  std::optional<std::string> program_code{};
};

namespace detail {

// One run of a program on a train example (DSPy's wrap_program): the score (0 when the program
// or the metric failed), the predictor calls, the prediction and the metric's feedback.
struct SimbaRun {
  std::size_t example = 0;
  double score = 0;
  Trace trace{};
  std::optional<boost::json::value> prediction{};  ///< dict(outputs); unset when the program failed
  boost::json::object metadata{};                  ///< DSPy's output_metadata: the metric's feedback
};

// The module batch runs: job k runs a copy of program `first` on train example `second`, without
// the demos that show that example.
template <class M, class Sig, class F>
struct SimbaRunner {
  using Input = std::size_t;
  static constexpr bool transparent_module = true;  // a runner, not a module of the program
  const std::vector<M>* programs;
  const std::vector<std::pair<std::size_t, std::size_t>>* jobs;
  const std::vector<Example<Sig>>* trainset;
  const F* metric;

  asio::awaitable<Result<SimbaRun>> forward(std::size_t k) const {
    const std::pair<std::size_t, std::size_t> job = (*jobs)[k];
    const Example<Sig>& example = (*trainset)[job.second];
    M run = (*programs)[job.first];
    SimbaRun out;
    out.example = job.second;
    prepare_teacher(run, example);
    auto pending = traced_call(&run, example.input, &out.trace);  // not inside co_await: GCC 12 bug 100611
    auto prediction = co_await std::move(pending);
    if (!prediction) co_return out;
    out.prediction = result_json(*prediction);
    try {
      const MetricResult m = run_metric(*metric, example, *prediction);
      out.score = m.score;
      if (!m.feedback.empty()) out.metadata["feedback"] = m.feedback;
    } catch (...) {  // as DSPy: a failing metric scores 0
    }
    co_return out;
  }
};

// numpy.percentile's default (linear) interpolation.
inline double percentile(std::vector<double> values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const double pos = q / 100.0 * static_cast<double>(values.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const auto hi = static_cast<std::size_t>(std::ceil(pos));
  return values[lo] + (values[hi] - values[lo]) * (pos - static_cast<double>(lo));
}

// Python's round(): halves go to the even neighbour.
inline std::size_t round_half_even(double x) {
  const double down = std::floor(x);
  const double rest = x - down;
  const bool up = rest > 0.5 || (rest == 0.5 && std::fmod(down, 2.0) != 0.0);
  return static_cast<std::size_t>(up ? down + 1 : down);
}

inline double unit_random(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

// Knuth's Poisson sampler: the rates here are small (demos held / max_demos).
inline std::size_t poisson(std::mt19937_64& rng, double lambda) {
  const double limit = std::exp(-lambda);
  std::size_t k = 0;
  for (double p = unit_random(rng); p > limit; p *= unit_random(rng)) ++k;
  return k;
}

// A demo's input text cut to `maxlen` characters (code points), marked as DSPy marks it.
inline void truncate_input(boost::json::value& v, std::size_t maxlen) {
  if (!maxlen || !v.is_string()) return;
  const std::string_view s = v.get_string();
  std::size_t chars = 0, cut = s.size();
  for (std::size_t i = 0; i < s.size(); ++i)
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && chars++ == maxlen) cut = std::min(cut, i);
  if (chars > maxlen) v = std::string(s.substr(0, cut)) + "\n\t\t... <TRUNCATED FOR BREVITY>";
}

// A run's calls as DSPy's trajectory: module_name, inputs, outputs.
inline boost::json::array trajectory_json(const Trace& trace) {
  boost::json::array out;
  for (const auto& t : trace) out.push_back({{"module_name", t.module_name}, {"inputs", t.inputs}, {"outputs", t.outputs}});
  return out;
}

// What SIMBA shows OfferFeedback, DSPy-exact: module_names as its indented JSON, a hidden
// reward as "N/A".
inline std::vector<Message> format_simba_feedback(const Adapter& adapter, const std::string& instructions,
                                                  std::span<const Demo<SIMBAOfferFeedback>> demos,
                                                  const SIMBAOfferFeedback::Input& input) {
  std::vector<Message> messages = format_messages<SIMBAOfferFeedback>(adapter, instructions, demos, input);
  show_module_names(messages, adapter, input.module_names);
  for (const auto& [field, value] : {std::pair{"worse_reward_value", input.worse_reward_value},
                                     std::pair{"better_reward_value", input.better_reward_value}})
    if (std::isnan(value)) {
      std::string shown;
      render_value(shown, value);
      show_input_as(messages, adapter, field, shown, "N/A");
    }
  return messages;
}

}  // namespace detail

/// SIMBA(metric, options[, prompt_model]).compile(student, trainset) returns the best program
/// found, with the log of every candidate; the student is unchanged. The metric is called as
/// metric(example, prediction) and may return a bool, a number or a MetricResult (its feedback is
/// shown to the prompt model as reward info). The prompt model writes the rules; unset: the
/// global LM, else the student's. Per step (DSPy's algorithm):
/// 1. the next bsize examples of the seed-shuffled trainset (reshuffled when they run out);
/// 2. num_candidates runs per example, run k with rollout_id start + k and temperature 1.0, each
///    by a program drawn from the pool's best by softmax over their mean minibatch scores;
/// 3. examples ordered by their runs' (max - min, max, max - mean) scores, largest first;
/// 4. for each of them, until num_candidates + 1 are built: a source program drawn by softmax
///    loses some demos, then gets a demo from the best run's calls (append_a_demo) or the
///    prompt model's advice from the best and worst runs (append_a_rule), chosen at random;
/// 5. the candidates are scored on the minibatch and join the pool; the best is kept.
/// At the end the kept programs (up to num_candidates + 1, spread over the steps) are scored on
/// the trainset and the best is returned. Scores in the log are percentages (dspy::evaluate's
/// scale). A run on an example never shows the demos that show that example (DSPy does not
/// remove them; BootstrapFewShot does). A failing program or metric scores 0 on that run; a
/// failing prompt model loses that candidate (logged). The budget is checked before each
/// sampling, each prompt model call and each candidate's scoring; once spent, the final scoring
/// begins with the latest kept program and scores at least one. Errors: bsize, num_candidates
/// or concurrency of 0, a temperature that is not positive, a trainset smaller than bsize.
template <class F>
class SIMBA {
 public:
  explicit SIMBA(F metric, SIMBAOptions options = {}, LMHandle prompt_model = {})
      : metric_(std::move(metric)), options_(std::move(options)), prompt_model_(std::move(prompt_model)) {}

  template <AsyncCallable M, Signature Sig>
  [[nodiscard]] Result<OptimizeResult<M>> compile(const M& student, const std::vector<Example<Sig>>& trainset) const {
    static_assert(std::is_same_v<typename M::Input, typename Sig::Input>,
                  "dspy::SIMBA: the program's Input must be the examples' Sig::Input (compile a program on examples "
                  "of its own signature).");
    static_assert(Metric<F, Example<Sig>, typename module_result_t<M>::value_type>,
                  "dspy::SIMBA: the metric must be callable as metric(example, prediction, trace) or "
                  "metric(example, prediction), with a dspy::Example<Sig> and the program's prediction, and "
                  "return a bool, a number or a dspy::MetricResult.");
    const SIMBAOptions& o = options_;
    const auto bad = [](const std::string& what) { return Error(Errc::config, "SIMBA: " + what); };
    if (o.bsize == 0) return bad("bsize must be at least 1");
    if (o.num_candidates == 0) return bad("num_candidates must be at least 1");
    if (o.concurrency == 0) return bad("concurrency must be at least 1");
    if (!(o.temperature_for_sampling > 0) || !(o.temperature_for_candidates > 0))
      return bad("temperature_for_sampling and temperature_for_candidates must be positive");
    if (trainset.size() < o.bsize)
      return bad("the trainset (" + std::to_string(trainset.size()) + " examples) is smaller than bsize (" +
                 std::to_string(o.bsize) + ")");
    Run<M, Sig> run{*this, student, trainset};
    return run.go();
  }

 private:
  using SimbaRun = detail::SimbaRun;

  // One minibatch example's runs, best first, with DSPy's sort key.
  struct Bucket {
    std::vector<const SimbaRun*> runs;
    double gap = 0, max = 0, max_to_avg = 0;
  };

  template <class M, class Sig>
  struct Run {
    const SIMBA& self;
    const SIMBAOptions& o;
    const std::vector<Example<Sig>>& trainset;
    std::mt19937_64 rng;
    BudgetMeter meter;
    LMHandle prompt_model;
    std::vector<M> programs;                         // the pool; 0 is the student
    std::vector<std::vector<double>> program_scores;  // minibatch scores by pool index
    std::vector<std::size_t> winners{0};              // each step's best, by pool index
    std::vector<CandidateRecord> log{};
    std::optional<std::string> stopped{};
    double best_seen = 0;

    Run(const SIMBA& s, const M& student, const std::vector<Example<Sig>>& train)
        : self(s), o(s.options_), trainset(train), rng(s.options_.seed), meter(s.options_.budget),
          prompt_model(resolve_prompt_model(s.prompt_model_, student)), programs{student}, program_scores(1) {}
    Run(const Run&) = delete;

    static LMHandle resolve_prompt_model(const LMHandle& given, const M& student) {
      if (given) return given;
      if (LMHandle global = current_settings()->lm; global) return global;
      auto own = get_lm(student);
      return own ? *own : LMHandle{};
    }

    Result<OptimizeResult<M>> go() {
      std::vector<std::size_t> order(trainset.size());
      std::iota(order.begin(), order.end(), std::size_t{0});
      shuffle(order, rng());
      std::size_t next = 0;
      for (std::size_t s = 0; s < o.max_steps && !stopped; ++s) {
        if (next + o.bsize > order.size()) {
          shuffle(order, rng());
          next = 0;
        }
        step(s, {order.begin() + static_cast<std::ptrdiff_t>(next), order.begin() + static_cast<std::ptrdiff_t>(next + o.bsize)});
        next += o.bsize;
      }
      return finish();
    }

    double average(std::size_t program) const {
      const auto& s = program_scores[program];
      return s.empty() ? 0.0 : std::accumulate(s.begin(), s.end(), 0.0) / static_cast<double>(s.size());
    }

    // The k programs with the best mean scores, with the student always among them.
    std::vector<std::size_t> top_k_plus_baseline(std::size_t k) const {
      std::vector<std::size_t> order(programs.size());
      std::iota(order.begin(), order.end(), std::size_t{0});
      std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return average(a) > average(b); });
      order.resize(std::min(k, order.size()));
      if (std::find(order.begin(), order.end(), 0) == order.end()) order.back() = 0;
      std::vector<std::size_t> out;
      for (const std::size_t i : order)
        if (std::find(out.begin(), out.end(), i) == out.end()) out.push_back(i);
      return out;
    }

    std::size_t softmax_sample(const std::vector<std::size_t>& candidates, double temperature) {
      std::vector<double> weights;
      double top = -std::numeric_limits<double>::infinity();
      for (const std::size_t i : candidates) top = std::max(top, average(i));
      for (const std::size_t i : candidates) weights.push_back(std::exp((average(i) - top) / temperature));
      const double sum = std::accumulate(weights.begin(), weights.end(), 0.0);
      if (!(sum > 0) || !std::isfinite(sum)) return candidates[uniform_below(rng, candidates.size())];
      double r = detail::unit_random(rng) * sum;
      for (std::size_t i = 0; i < candidates.size(); ++i)
        if ((r -= weights[i]) < 0) return candidates[i];
      return candidates.back();
    }

    // Runs the jobs (program, train example) through batch, in order, counted by the meter.
    std::vector<SimbaRun> execute(const std::vector<M>& runs, const std::vector<std::pair<std::size_t, std::size_t>>& jobs) {
      const detail::SimbaRunner<M, Sig, F> runner{&runs, &jobs, &trainset, &self.metric_};
      std::vector<std::size_t> indices(jobs.size());
      std::iota(indices.begin(), indices.end(), std::size_t{0});
      auto results = [&] {
        const Context scope = meter.scope();
        return batch(runner, std::move(indices), {.concurrency = o.concurrency, .progress = false});
      }();
      meter.add_metric_calls(jobs.size());
      std::vector<SimbaRun> out;
      out.reserve(results.size());
      for (std::size_t k = 0; k < results.size(); ++k) {
        if (results[k]) out.push_back(std::move(*results[k]));
        else out.push_back({.example = jobs[k].second});  // cancelled: scores 0
      }
      return out;
    }

    void step(std::size_t s, const std::vector<std::size_t>& minibatch) {
      if ((stopped = meter.exhausted())) return;
      const std::size_t n = o.num_candidates, b = minibatch.size();
      // STEP 1-2: run k of example e by a pool program drawn by softmax, as model k.
      const std::int64_t start = detail::first_rollout_id(programs[0]);
      const std::vector<std::size_t> top = top_k_plus_baseline(n);
      std::vector<M> runs;
      std::map<std::pair<std::size_t, std::size_t>, std::size_t> slots;  // (program, model) -> runs index
      std::vector<std::pair<std::size_t, std::size_t>> jobs;
      for (std::size_t k = 0; k < n; ++k)
        for (const std::size_t e : minibatch) {
          const std::size_t chosen = softmax_sample(top, o.temperature_for_sampling);
          auto [slot, fresh] = slots.try_emplace({chosen, k}, runs.size());
          if (fresh) runs.push_back(detail::attempt_copy(programs[chosen], start + static_cast<std::int64_t>(k)));
          jobs.emplace_back(slot->second, e);
        }
      const std::vector<SimbaRun> outputs = execute(runs, jobs);

      // STEP 3: buckets by example, the most telling first.
      std::vector<double> all;
      for (const auto& r : outputs) all.push_back(r.score);
      const double p10 = detail::percentile(all, 10), p90 = detail::percentile(all, 90);
      std::vector<Bucket> buckets(b);
      for (std::size_t e = 0; e < b; ++e) {
        Bucket& bucket = buckets[e];
        for (std::size_t k = 0; k < n; ++k) bucket.runs.push_back(&outputs[k * b + e]);
        std::stable_sort(bucket.runs.begin(), bucket.runs.end(),
                         [](const SimbaRun* x, const SimbaRun* y) { return x->score > y->score; });
        double sum = 0;
        for (const auto* r : bucket.runs) sum += r->score;
        bucket.max = bucket.runs.front()->score;
        bucket.gap = bucket.max - bucket.runs.back()->score;
        bucket.max_to_avg = bucket.max - sum / static_cast<double>(n);
      }
      std::stable_sort(buckets.begin(), buckets.end(), [](const Bucket& x, const Bucket& y) {
        return std::tie(x.gap, x.max, x.max_to_avg) > std::tie(y.gap, y.max, y.max_to_avg);
      });

      // STEP 4: a candidate per bucket, up to n + 1.
      std::vector<std::pair<M, boost::json::object>> built;
      for (std::size_t i = 0; i < buckets.size() && !stopped && built.size() < n + 1; ++i) {
        const std::size_t source = softmax_sample(top_k_plus_baseline(n), o.temperature_for_candidates);
        M candidate = programs[source];
        const std::size_t dropped = drop_demos(candidate);
        const bool demo = o.max_demos > 0 && uniform_below(rng, 2) == 0;
        boost::json::object params{{"step", s},
                                   {"source", source},
                                   {"strategy", demo ? "append_a_demo" : "append_a_rule"},
                                   {"dropped_demos", dropped},
                                   {"example", buckets[i].runs.front()->example}};
        auto applied = demo ? append_a_demo(buckets[i], candidate, p10) : append_a_rule(buckets[i], candidate, p10, p90, params);
        if (stopped) break;
        if (!applied) {
          record(CandidateRecord{.index = log.size(), .kind = "minibatch", .params = std::move(params),
                                 .error = std::string(demo ? "append_a_demo" : "append_a_rule") + ": " +
                                          applied.error().message()});
          continue;
        }
        params["applied"] = *applied;  // false: DSPy skips the strategy but keeps the candidate
        built.emplace_back(std::move(candidate), std::move(params));
      }

      // STEP 5-8: score each on the minibatch, add it to the pool, keep the best.
      std::optional<std::size_t> best;
      for (auto& [candidate, params] : built) {
        if ((stopped = meter.exhausted())) break;
        std::vector<std::pair<std::size_t, std::size_t>> own;
        for (const std::size_t e : minibatch) own.emplace_back(0, e);
        const std::vector<SimbaRun> scored = execute({candidate}, own);
        std::vector<double> scores;
        for (const auto& r : scored) scores.push_back(r.score);
        params["program"] = programs.size();
        CandidateRecord rec{.index = log.size(), .kind = "minibatch", .params = std::move(params)};
        rec.subscores = scores;
        rec.state = dump_state(candidate);
        programs.push_back(std::move(candidate));
        program_scores.push_back(std::move(scores));
        rec.score = 100.0 * average(programs.size() - 1);
        if (!best || average(programs.size() - 1) > average(*best)) best = programs.size() - 1;
        record(std::move(rec));
      }
      if (best) winners.push_back(*best);
    }

    // DSPy drops demos at random indices from every predictor, more the fuller they are.
    std::size_t drop_demos(M& candidate) {
      const double cap = o.max_demos > 0 ? static_cast<double>(o.max_demos) : 3.0;
      std::size_t held = 0;
      for_each_predictor(candidate, [&](const std::string&, const PredictorBase& p) { held = std::max(held, p.demo_count()); });
      std::size_t count = std::max(detail::poisson(rng, static_cast<double>(held) / cap),
                                   static_cast<std::size_t>(static_cast<double>(held) >= cap));
      count = std::min(count, held);
      std::set<std::size_t> drop;
      for (std::size_t i = 0; i < count; ++i) drop.insert(uniform_below(rng, held));
      for_each_predictor(candidate, [&](const std::string&, auto& p) {
        std::size_t i = 0;
        std::erase_if(p.demos, [&](const auto&) { return drop.count(i++) > 0; });
      });
      return count;
    }

    // The best run's last call of each predictor becomes one more demo of it; false: skipped,
    // as the best run scores no better than the minibatch's 10th percentile.
    Result<bool> append_a_demo(const Bucket& bucket, M& candidate, double p10) const {
      const SimbaRun& good = *bucket.runs.front();
      if (good.score <= p10) return false;
      std::map<std::string, boost::json::object> demos;
      for (TraceEntry call : good.trace) {
        for (auto& kv : call.inputs) detail::truncate_input(kv.value(), o.demo_input_field_maxlen);
        demos[call.module_name] = detail::trace_demo(call);
      }
      std::optional<Error> failed;
      for_each_predictor(candidate, [&](const std::string& path, auto& p) {
        using PSig = typename std::remove_cvref_t<decltype(p)>::signature_type;
        const auto it = demos.find(path);
        if (it == demos.end()) return;
        auto d = demo_from_json<PSig>(it->second);
        if (!d) failed = Error(d.error().code(), "a demo of `" + path + "`: " + d.error().message());
        else p.demos.push_back(std::move(*d));
      });
      if (failed) return std::move(*failed);
      return true;
    }

    // The prompt model compares the best and the worst run and advises each predictor; the advice
    // is appended to its instructions. false: skipped (the runs tell nothing, or the budget is spent).
    Result<bool> append_a_rule(const Bucket& bucket, M& candidate, double p10, double p90, boost::json::object& params) {
      SimbaRun good = *bucket.runs.front(), bad = *bucket.runs.back();
      if (good.score <= p10 || bad.score >= p90) return false;
      double good_value = good.score, bad_value = bad.score;
      if (good.score <= bad.score) {  // equal scores: DSPy hides one run
        SimbaRun& hidden = good.score > p90 ? bad : good;
        (good.score > p90 ? bad_value : good_value) = std::numeric_limits<double>::quiet_NaN();
        hidden.trace.clear();
        hidden.prediction = boost::json::object{{"N/A", "Prediction not available"}};
      }
      if (!good.prediction) return Error(Errc::config, "the better run has no prediction");
      const Example<Sig>& example = trainset[good.example];
      const boost::json::object inputs = detail::fields_json(example.input);
      boost::json::object labels = example_to_json(example);
      for (const auto& kv : inputs) labels.erase(kv.key());
      std::vector<std::string> names;
      for_each_predictor(candidate, [&](const std::string& path, const PredictorBase&) { names.push_back(path); });
      SIMBAOfferFeedback::Input request{
          o.program_code.value_or(std::string(type_name_of<M>)),
          detail::inspect_modules(candidate),
          detail::indented_json(inputs),
          detail::indented_json(labels),
          detail::indented_json(detail::trajectory_json(bad.trace)),
          detail::indented_json(bad.prediction.value_or(boost::json::object{})),
          bad_value,
          detail::indented_json(bad.metadata),
          detail::indented_json(detail::trajectory_json(good.trace)),
          detail::indented_json(*good.prediction),
          good_value,
          detail::indented_json(good.metadata),
          std::move(names),
      };
      if ((stopped = meter.exhausted())) return false;
      Predict<SIMBAOfferFeedback> advise;
      advise.format_hook = &detail::format_simba_feedback;
      if (prompt_model) advise.set_lm(prompt_model);
      auto reply = [&] {
        const Context scope = meter.scope();
        return advise(request);
      }();
      if (!reply) return std::move(reply).error();
      const auto& advice = (*reply)->module_advice;
      params["advice"] = dspy::to_json(advice);
      for_each_predictor(candidate, [&](const std::string& path, PredictorBase& p) {
        if (const auto it = advice.find(path); it != advice.end()) p.set_instructions(p.instructions() + "\n\n" + it->second);
      });
      return true;
    }

    void record(CandidateRecord rec) {
      if (rec.score) best_seen = std::max(best_seen, *rec.score);
      o.progress.report("SIMBA", rec, 0, best_seen);
      log.push_back(std::move(rec));
    }

    // The kept programs, spread over the steps, scored on the trainset; the best (the first of
    // equal scores) is the result.
    Result<OptimizeResult<M>> finish() {
      const std::size_t kept = winners.size() - 1, n = o.num_candidates + 1;
      std::vector<std::size_t> picks;  // indices into winners, in DSPy's order
      for (std::size_t i = 0; i < n; ++i) {
        const std::size_t w = kept < 1 ? 0 : detail::round_half_even(static_cast<double>(i * kept) / static_cast<double>(n - 1));
        if (std::find(picks.begin(), picks.end(), w) == picks.end()) picks.push_back(w);
      }
      std::vector<std::size_t> order(picks.size());
      std::iota(order.begin(), order.end(), std::size_t{0});
      if (stopped) std::reverse(order.begin(), order.end());  // a spent budget scores the latest first
      std::vector<std::optional<double>> scores(picks.size());
      std::vector<std::pair<std::size_t, std::size_t>> jobs;
      for (std::size_t e = 0; e < trainset.size(); ++e) jobs.emplace_back(0, e);
      for (std::size_t k = 0; k < order.size(); ++k) {
        if (k > 0)
          if (auto why = meter.exhausted()) {
            if (!stopped) stopped = std::move(why);
            break;
          }
        const std::size_t program = winners[picks[order[k]]];
        const std::vector<SimbaRun> scored = execute({programs[program]}, jobs);
        CandidateRecord rec{.index = log.size(), .kind = "full", .params = {{"program", program}, {"winner", picks[order[k]]}}};
        for (const auto& r : scored) rec.subscores.push_back(r.score);
        scores[order[k]] = std::accumulate(rec.subscores.begin(), rec.subscores.end(), 0.0) / static_cast<double>(trainset.size());
        rec.score = 100.0 * *scores[order[k]];
        rec.state = dump_state(programs[program]);
        record(std::move(rec));
      }
      std::optional<std::size_t> best;
      for (std::size_t i = 0; i < scores.size(); ++i)
        if (scores[i] && (!best || *scores[i] > *scores[*best])) best = i;
      OptimizeResult<M> out{programs[winners[picks[*best]]], 100.0 * *scores[*best], "SIMBA", std::move(log),
                            std::move(stopped), meter.json()};
      return out;
    }
  };

  F metric_;
  SIMBAOptions options_;
  LMHandle prompt_model_;
};

}  // namespace dspy
