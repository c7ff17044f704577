// dspy::GEPA: reflective instruction evolution (DSPy's teleprompt.GEPA over the gepa engine). A
// pool of candidates (one instruction per predictor) grows from the student's: a parent drawn
// from the per-example Pareto front runs on a train minibatch, a reflection model reads its
// traces with the metric's feedback and rewrites one predictor's instruction, and the child joins
// the pool when it beats the parent on that minibatch; merges combine two descendants of a
// common ancestor. The best candidate on the valset is returned.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "../clients/base_lm.hpp"
#include "../predict/parallel.hpp"
#include "bootstrap.hpp"
#include "../detail/optimize/gepa_search.hpp"
#include "../evaluate/evaluate.hpp"
#include "../primitives/module.hpp"
#include "../predict/module_call.hpp"
#include "teleprompt.hpp"

namespace dspy {

/// DSPy's `auto` presets: how many candidates the budget is computed for (6, 12, 18).
enum class GEPAAuto { light, medium, heavy };
enum class CandidateSelection { pareto, current_best };

struct GEPAOptions {
  /// Exactly one of auto_mode, max_metric_calls and max_full_evals sets the metric-call budget.
  std::optional<GEPAAuto> auto_mode{};
  std::optional<std::size_t> max_metric_calls{};
  /// Full evaluations of train plus val (of train alone when there is no separate valset).
  std::optional<std::size_t> max_full_evals{};
  /// Train examples the parent runs on, and the reflection reads, per step.
  std::size_t reflection_minibatch_size = 3;
  CandidateSelection candidate_selection_strategy = CandidateSelection::pareto;
  /// No reflection when the parent scores perfect_score on every example of the minibatch.
  bool skip_perfect_score = true;
  double perfect_score = 1.0;
  /// The score of an example whose program or metric failed.
  double failure_score = 0.0;
  bool use_merge = true;
  std::size_t max_merge_invocations = 5;
  /// Seeds the parent choice, the minibatches and merges; each reflection call gets its own
  /// rollout_id derived from it.
  std::uint64_t seed = 0;
  /// Further limits (LM calls, tokens, a lower metric-call cap).
  OptimizerBudget budget{};
  OptimizerProgress progress{};
  /// Examples run at once in each evaluation.
  std::size_t concurrency = 16;
};

/// DSPy's GEPA.auto_budget: the metric calls of `num_candidates` candidates for a program of
/// `num_preds` predictors scored on `valset_size` examples.
inline std::size_t gepa_auto_budget(std::size_t num_preds, std::size_t num_candidates, std::size_t valset_size,
                                    std::size_t minibatch_size = 35, std::size_t full_eval_steps = 5) {
  const double candidates = static_cast<double>(num_candidates);
  const auto trials = static_cast<std::size_t>(
      std::max(2.0 * static_cast<double>(num_preds * 2) * std::log2(candidates), 1.5 * candidates));
  std::size_t total = valset_size + num_candidates * 5 + trials * minibatch_size;
  if (trials == 0) return total;
  const std::size_t full_evals = (trials + 1) / full_eval_steps + 1 + (trials < full_eval_steps ? 1 : 0);
  return total + full_evals * valset_size;
}

/// GEPA(metric, reflection_lm, options).compile(student, trainset[, valset]). The metric is
/// called as metric(example, prediction, trace) and may return a dspy::MetricResult whose
/// feedback the reflection model reads (a bool or number gets DSPy's "This trajectory got a
/// score of ..."). The reflection model gets gepa's prompt as one user message and answers with
/// the new instruction in ``` blocks. Every metric call counts against the budget, and a step
/// starts only when its largest cost fits, so the run never passes max_metric_calls. The parent's
/// minibatch runs as a bootstrap teacher's do (its demos of the example being answered left
/// out), and the child's the same way. A failed reflection call is logged and the search goes
/// on; failed examples score failure_score. The result is the candidate with the best valset
/// score (the first of equal ones), with the log of every candidate; the student is unchanged.
template <class F>
class GEPA {
 public:
  GEPA(F metric, LMHandle reflection_lm, GEPAOptions options = {})
      : metric_(std::move(metric)), reflection_lm_(std::move(reflection_lm)), options_(std::move(options)) {}

  template <AsyncCallable M, Signature Sig>
  [[nodiscard]] Result<OptimizeResult<M>> compile(const M& student, const std::vector<Example<Sig>>& trainset,
                                                  const std::vector<Example<Sig>>& valset) const {
    return start(student, trainset, valset, trainset.size() + valset.size());
  }

  /// Without a valset the trainset is the valset too, as in DSPy.
  template <AsyncCallable M, Signature Sig>
  [[nodiscard]] Result<OptimizeResult<M>> compile(const M& student, const std::vector<Example<Sig>>& trainset) const {
    return start(student, trainset, trainset, trainset.size());
  }

 private:
  template <class M, class Sig>
  Result<OptimizeResult<M>> start(const M& student, const std::vector<Example<Sig>>& trainset,
                                  const std::vector<Example<Sig>>& valset, std::size_t full_eval_size) const {
    const GEPAOptions& o = options_;
    if (!reflection_lm_) return Error(Errc::config, "GEPA: no reflection LM");
    if ((o.auto_mode.has_value() + o.max_metric_calls.has_value() + o.max_full_evals.has_value()) != 1)
      return Error(Errc::config, "GEPA: set exactly one of auto_mode, max_metric_calls and max_full_evals");
    if (o.reflection_minibatch_size == 0) return Error(Errc::config, "GEPA: reflection_minibatch_size must be at least 1");
    if (trainset.empty()) return Error(Errc::config, "GEPA: the trainset is empty");
    if (valset.empty()) return Error(Errc::config, "GEPA: the valset is empty");
    const std::size_t predictors = named_predictors(student).size();
    if (predictors == 0) return Error(Errc::config, "GEPA: the student has no predictor to optimize");
    std::size_t limit = 0;
    if (o.auto_mode) {
      const std::size_t n = *o.auto_mode == GEPAAuto::light ? 6 : *o.auto_mode == GEPAAuto::medium ? 12 : 18;
      limit = gepa_auto_budget(predictors, n, valset.size());
    } else {
      limit = o.max_metric_calls ? *o.max_metric_calls : *o.max_full_evals * full_eval_size;
    }
    if (o.budget.max_metric_calls) limit = std::min(limit, *o.budget.max_metric_calls);
    if (limit < valset.size())
      return Error(Errc::config, "GEPA: max_metric_calls " + std::to_string(limit) + " is below the valset size " +
                                     std::to_string(valset.size()) + ", so not even the student can be scored");
    Run<M, Sig> run{*this, student, trainset, valset, limit};
    return run.go();
  }

  template <class M, class Sig>
  struct Run {
    const GEPA& self;
    const GEPAOptions& o = self.options_;
    M program;
    const std::vector<Example<Sig>>& train;
    const std::vector<Example<Sig>>& val;
    std::size_t limit;
    BudgetMeter meter;
    std::vector<std::pair<std::string, PredictorBase*>> preds = named_predictors(program);
    std::mt19937_64 rng{o.seed};            // parent choice, minibatches, merges (gepa's rng)
    std::mt19937_64 trace_rng{o.seed};      // which call of a predictor to reflect on (DSPy's adapter rng)
    detail::EpochSampler sampler{o.reflection_minibatch_size};
    // The pool: per candidate its instructions, parents, valset scores and score (0-100).
    std::vector<std::vector<std::string>> programs{};
    std::vector<std::vector<std::size_t>> parents{};
    std::vector<std::vector<double>> val_scores{};
    std::vector<double> aggregate{}, val_score{};
    std::vector<std::size_t> next_predictor{};  // round robin, per candidate
    detail::MergeHistory merges{};
    std::size_t merges_due = 0, merges_tested = 0;
    bool found_new = false;
    std::vector<CandidateRecord> log{};
    std::optional<std::string> stopped{};
    std::int64_t reflections = 0;

    Run(const GEPA& s, const M& student, const std::vector<Example<Sig>>& t, const std::vector<Example<Sig>>& v,
        std::size_t max_metric_calls)
        : self(s), program(student), train(t), val(v), limit(max_metric_calls), meter(with_limit(s.options_.budget, max_metric_calls)) {}
    Run(const Run&) = delete;

    static OptimizerBudget with_limit(OptimizerBudget b, std::size_t max_metric_calls) {
      b.max_metric_calls = max_metric_calls;
      return b;
    }

    Result<OptimizeResult<M>> go() {
      std::vector<std::string> seed;
      for (const auto& [name, p] : preds) seed.push_back(p->instructions());
      add_candidate(std::move(seed), {});
      const std::size_t mb = o.reflection_minibatch_size;
      for (std::size_t i = 0;; ++i) {
        if ((stopped = meter.exhausted())) break;
        if (o.use_merge && merges_due > 0 && found_new && fits(merge_size + val.size())) {
          found_new = false;
          if (try_merge()) continue;
        }
        found_new = false;
        if (!fits(2 * mb + val.size())) {
          stopped = "max_metric_calls " + std::to_string(limit) + " reached (" + std::to_string(meter.metric_calls()) +
                    " metric calls; a step needs up to " + std::to_string(2 * mb + val.size()) + ")";
          break;
        }
        reflect_step(i);
      }
      const auto best = static_cast<std::size_t>(std::max_element(aggregate.begin(), aggregate.end()) - aggregate.begin());
      apply(programs[best]);
      OptimizeResult<M> out{std::move(program), val_score[best], "GEPA", std::move(log), std::move(stopped), meter.json()};
      return out;
    }

    static constexpr std::size_t merge_size = 5;  // gepa's merge subsample and val_overlap_floor

    [[nodiscard]] bool fits(std::size_t calls) const { return meter.metric_calls() + calls <= limit; }

    void apply(const std::vector<std::string>& instructions) {
      for (std::size_t q = 0; q < preds.size(); ++q) preds[q].second->set_instructions(instructions[q]);
    }

    boost::json::object instructions_json(const std::vector<std::string>& instructions) const {
      boost::json::object out;
      for (std::size_t q = 0; q < preds.size(); ++q) out[preds[q].first] = instructions[q];
      return out;
    }

    static boost::json::array ids_json(const std::vector<std::size_t>& ids) {
      boost::json::array out;
      for (const std::size_t id : ids) out.push_back(id);
      return out;
    }

    void record(CandidateRecord rec) {
      const double best = val_score.empty() ? 0.0 : *std::max_element(val_score.begin(), val_score.end());
      o.progress.report("GEPA", rec, 0, best);
      log.push_back(std::move(rec));
    }

    EvaluationResult score_on(const std::vector<Example<Sig>>& examples) {
      const Context scope = meter.scope();
      EvaluationResult r = evaluate(program, examples, self.metric_,
                                    {.concurrency = o.concurrency, .progress = false, .failure_score = o.failure_score});
      meter.add_metric_calls(examples.size());
      return r;
    }

    // The current program on train examples `ids`, with every predictor call traced.
    std::vector<Result<detail::BootstrapTry>> run_traced(const std::vector<std::size_t>& ids) {
      const detail::BootstrapRunner<M, Sig, F> runner{&program, &train, &self.metric_, std::nullopt, 0};
      const Context scope = meter.scope();
      auto results = batch(runner, ids, {.concurrency = o.concurrency, .progress = false});
      meter.add_metric_calls(ids.size());
      return results;
    }

    [[nodiscard]] double score_of(const Result<detail::BootstrapTry>& r) const { return r ? r->metric.score : o.failure_score; }

    // Scores a candidate on the whole valset and adds it to the pool.
    void add_candidate(std::vector<std::string> instructions, std::vector<std::size_t> from) {
      apply(instructions);
      const EvaluationResult r = score_on(val);
      CandidateRecord rec{.index = log.size(),
                          .kind = "full",
                          .params = {{"candidate", programs.size()},
                                     {"parents", ids_json(from)},
                                     {"instructions", instructions_json(instructions)}},
                          .score = r.score};
      std::vector<double> scores;
      for (const auto& row : r.rows) scores.push_back(row.score);
      rec.subscores = scores;
      rec.state = dump_state(program);
      std::size_t next = 0;
      for (const std::size_t p : from) next = std::max(next, next_predictor[p]);
      programs.push_back(std::move(instructions));
      parents.push_back(std::move(from));
      val_scores.push_back(std::move(scores));
      aggregate.push_back(r.total / static_cast<double>(val.size()));
      val_score.push_back(r.score);
      next_predictor.push_back(next);
      record(std::move(rec));
    }

    std::size_t select_parent() {
      if (o.candidate_selection_strategy == CandidateSelection::current_best)
        return static_cast<std::size_t>(std::max_element(aggregate.begin(), aggregate.end()) - aggregate.begin());
      return detail::select_pareto_parent(val_scores, aggregate, rng);
    }

    // One reflective mutation: parent on a minibatch, reflection, child on the same minibatch.
    void reflect_step(std::size_t iteration) {
      const std::size_t parent = select_parent();
      const std::vector<std::size_t> ids = sampler.next(iteration, train.size(), rng);
      apply(programs[parent]);
      const auto runs = run_traced(ids);
      std::vector<double> before;
      for (const auto& r : runs) before.push_back(score_of(r));
      if (o.skip_perfect_score && std::all_of(before.begin(), before.end(), [&](double s) { return s >= o.perfect_score; }))
        return;
      const std::size_t predictor = next_predictor[parent];
      next_predictor[parent] = (predictor + 1) % preds.size();
      CandidateRecord rec{.index = log.size(),
                          .kind = "minibatch",
                          .params = {{"parent", parent}, {"predictor", preds[predictor].first}, {"minibatch", ids_json(ids)}}};
      const std::vector<detail::ReflectiveExample> dataset = reflective_dataset(runs, preds[predictor].first);
      if (dataset.empty()) {
        rec.error = "no successful run of the minibatch called " + preds[predictor].first;
        return record(std::move(rec));
      }
      auto proposed = reflect(detail::reflection_prompt(programs[parent][predictor], dataset));
      if (!proposed) {
        rec.kind = "proposal";
        rec.error = proposed.error().message();
        return record(std::move(rec));
      }
      std::vector<std::string> child = programs[parent];
      child[predictor] = std::move(*proposed);
      rec.params["instructions"] = instructions_json(child);
      apply(child);
      double parent_sum = 0, child_sum = 0;
      for (const double s : before) parent_sum += s;
      for (const auto& r : run_traced(ids)) {
        rec.subscores.push_back(score_of(r));
        child_sum += rec.subscores.back();
      }
      rec.score = detail::round_to(100.0 * child_sum / static_cast<double>(ids.size()), 2);
      rec.params["parent_subscores"] = boost::json::value_from(before);
      const bool accepted = child_sum > parent_sum;  // gepa: strict improvement on the minibatch
      rec.params["accepted"] = accepted;
      record(std::move(rec));
      if (!accepted) return;
      add_candidate(std::move(child), {parent});
      found_new = true;
      if (merges_tested < o.max_merge_invocations) ++merges_due;
    }

    // DSPy's make_reflective_dataset: per successful run, one call of the predictor (a random one
    // when it was called several times), with the run's feedback.
    std::vector<detail::ReflectiveExample> reflective_dataset(const std::vector<Result<detail::BootstrapTry>>& runs,
                                                              const std::string& name) {
      std::vector<detail::ReflectiveExample> out;
      for (const auto& r : runs) {
        if (!r) continue;
        std::vector<const TraceEntry*> calls;
        for (const auto& t : r->trace)
          if (t.module_name == name) calls.push_back(&t);
        if (calls.empty()) continue;
        const TraceEntry& call = *calls[uniform_below(trace_rng, calls.size())];
        std::string feedback = r->metric.feedback;
        if (feedback.empty()) feedback = "This trajectory got a score of " + detail::py_float(r->metric.score) + ".";
        out.push_back({call.inputs, call.outputs, std::move(feedback)});
      }
      return out;
    }

    // The reflection model's new instruction: one raw call (under the meter's scope, so the
    // budget counts it), the reply's ``` block.
    Result<std::string> reflect(const std::string& prompt) {
      LMRequest request{.messages = std::vector<Message>{Message{"user", prompt}},
                        .config = {.rollout_id = static_cast<std::int64_t>(o.seed * 1000003 + reflections++)}};
      const Context scope = meter.scope();
      Result<LMResponse> reply = self.reflection_lm_->call(std::move(request));
      if (!reply) return Error(reply.error().code(), "GEPA: the reflection LM failed: " + reply.error().message());
      if (reply->completions.empty()) return Error(Errc::bad_response, "GEPA: the reflection LM returned no completion");
      std::string instruction = detail::fenced_instruction(reply->completions.front());
      if (instruction.empty()) return Error(Errc::parse_error, "GEPA: the reflection LM proposed an empty instruction");
      return instruction;
    }

    // gepa's merge step; false when no merge could be planned.
    bool try_merge() {
      if (val.size() < merge_size) return false;
      const auto plan = detail::plan_merge(programs, parents, aggregate, detail::pareto_dominators(val_scores, aggregate),
                                           merges, rng);
      if (!plan) return false;
      merges.triplets.push_back({plan->first, plan->second, plan->ancestor});
      const std::vector<std::size_t> ids =
          detail::merge_subsample(val_scores[plan->first], val_scores[plan->second], merge_size, rng);
      std::vector<Example<Sig>> subsample;
      double first_sum = 0, second_sum = 0;
      for (const std::size_t e : ids) {
        subsample.push_back(val[e]);
        first_sum += val_scores[plan->first][e];
        second_sum += val_scores[plan->second][e];
      }
      apply(plan->instructions);
      const EvaluationResult r = score_on(subsample);
      const bool accepted = r.total >= std::max(first_sum, second_sum);  // gepa: no worse than either parent
      CandidateRecord rec{.index = log.size(),
                          .kind = "merge",
                          .params = {{"parents", ids_json({plan->first, plan->second})},
                                     {"ancestor", plan->ancestor},
                                     {"subsample", ids_json(ids)},
                                     {"instructions", instructions_json(plan->instructions)},
                                     {"accepted", accepted}},
                          .score = r.score};
      for (const auto& row : r.rows) rec.subscores.push_back(row.score);
      record(std::move(rec));
      if (accepted) {
        add_candidate(plan->instructions, {plan->first, plan->second});
        --merges_due;
        ++merges_tested;
      }
      return true;
    }
  };

  F metric_;
  LMHandle reflection_lm_;
  GEPAOptions options_;
};

}  // namespace dspy
