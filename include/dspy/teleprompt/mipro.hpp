// dspy::MIPROv2 (DSPy's teleprompt.MIPROv2): bootstrapped demo sets per predictor, instructions
// proposed by a prompt model grounded in a dataset summary, a description of the program, demos
// and a prompting tip, then a Bayesian search (TPE) over (instruction, demo set) per predictor,
// scored on minibatches of the valset with periodic full evaluations of the most promising
// combination.
#pragma once

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "../detail/text/pytext.hpp"
#include "../detail/optimize/tpe.hpp"
#include "../evaluate/evaluate.hpp"
#include "labeled_few_shot.hpp"
#include "../primitives/module.hpp"
#include "../predict/module_call.hpp"
#include "teleprompt.hpp"
#include "../predict/predict.hpp"
#include "random_search.hpp"
#include "../propose/grounded_proposer.hpp"

namespace dspy {

/// MIPROv2's `auto` presets: instruction and demo-set candidates `n` and the valset size.
enum class MIPROv2Auto { light, medium, heavy };

struct MIPROv2Options {
  /// light: n 6, valset 100; medium: 12, 300; heavy: 18, 1000. Unset: num_candidates and
  /// num_trials must be given.
  std::optional<MIPROv2Auto> auto_mode = MIPROv2Auto::light;
  std::optional<std::size_t> num_candidates{};
  std::optional<std::size_t> num_trials{};
  std::size_t max_bootstrapped_demos = 4;
  std::size_t max_labeled_demos = 4;
  std::optional<double> metric_threshold{};
  std::optional<std::size_t> max_errors{};
  std::uint64_t seed = 9;
  /// The temperature of the instruction proposals.
  double init_temperature = 1.0;
  bool minibatch = true;
  std::size_t minibatch_size = 35;
  /// A full evaluation after this many minibatch trials.
  std::size_t minibatch_full_eval_steps = 5;
  /// Train examples per dataset-description call.
  std::size_t view_data_batch_size = 10;
  /// Random prompting tips in the proposals.
  bool tip_aware_proposer = true;
  /// Bootstrapped demos shown to the proposer.
  bool fewshot_aware_proposer = true;
  /// Proposals are written by this model (unset: the current settings' LM) and the program runs
  /// on `task_model` (unset: the predictors' own or the settings' LM).
  LMHandle prompt_model{};
  LMHandle task_model{};
  OptimizerBudget budget{};
  OptimizerProgress progress{};
  /// Programs in flight at once, when bootstrapping and evaluating.
  std::size_t concurrency = 16;
};

/// MIPROv2(metric, options).compile(student, trainset[, valset][, &teacher]) as DSPy runs it:
/// 1. demo sets per predictor from the few-shot schedule (zero-shot, labeled, bootstrapped in
///    order, then shuffled bootstraps), with the task model;
/// 2. per predictor, instruction candidates from GenerateSingleModuleInstruction on the prompt
///    model, grounded in a dataset summary (DatasetDescriptor, ...WithPriorObservations,
///    ObservationSummarizer), DescribeProgram / DescribeModule, up to three bootstrapped demos and
///    a random tip; candidate 0 is the current instruction;
/// 3. TPE over (instruction, demo set) per predictor: each trial scores the candidate on a random
///    minibatch of the valset, and every `minibatch_full_eval_steps` trials (and at the end) the
///    combination with the best mean minibatch score not yet fully evaluated is scored on the
///    whole valset. The best fully evaluated program is returned with the log of every demo set,
///    proposal and trial; the student is unchanged.
/// Without a valset the last 80% of the trainset (at most 1000) is the valset. A failed demo set
/// or proposal is logged and left out; bad options are Errc::config errors. Not built: the
/// program-, data- and tip-unaware variants of the proposal prompt (the fields stay, with DSPy's
/// "Not available" texts when a description fails).
template <class F>
class MIPROv2 {
 public:
  explicit MIPROv2(F metric, MIPROv2Options options = {}) : metric_(std::move(metric)), options_(std::move(options)) {}

  template <AsyncCallable M, Signature Sig>
  [[nodiscard]] Result<OptimizeResult<M>> compile(const M& student, const std::vector<Example<Sig>>& trainset,
                                                  const std::vector<Example<Sig>>& valset = {},
                                                  const M* teacher = nullptr) const {
    const MIPROv2Options& o = options_;
    const auto fail = [](std::string what) { return Error(Errc::config, "MIPROv2: " + std::move(what)); };
    if (o.auto_mode && (o.num_candidates || o.num_trials))
      return fail("auto and num_candidates/num_trials are exclusive: unset auto_mode, or num_candidates and num_trials");
    if (!o.auto_mode && (!o.num_candidates || !o.num_trials))
      return fail("without auto_mode, set both num_candidates and num_trials");
    if (!o.auto_mode && *o.num_candidates < 1) return fail("num_candidates must be at least 1");
    if (trainset.empty()) return fail("the trainset is empty");
    if (valset.empty() && trainset.size() < 2)
      return fail("the trainset needs at least 2 examples when no valset is given");
    if (o.minibatch_full_eval_steps < 1) return fail("minibatch_full_eval_steps must be at least 1");
    Run<M, Sig> run{*this, student, teacher};
    return run.go(trainset, valset);
  }

 private:
  template <class M, class Sig>
  struct Run {
    const MIPROv2& self;
    const MIPROv2Options& o = self.options_;
    M program;
    const M* teacher;
    std::mt19937_64 rng{o.seed};
    BudgetMeter meter{o.budget};
    std::vector<CandidateRecord> log{};
    std::optional<std::string> stopped{};
    std::size_t sets_made = 0;

    std::vector<std::pair<std::string, PredictorBase*>> preds = named_predictors(program);
    // Per predictor: its state in each demo set (dump_state), and its instruction candidates.
    std::vector<std::vector<boost::json::object>> demo_sets = std::vector<std::vector<boost::json::object>>(preds.size());
    std::vector<std::vector<std::string>> instructions = std::vector<std::vector<std::string>>(preds.size());

    Run(const MIPROv2& s, const M& student, const M* t) : self(s), program(student), teacher(t) {}
    Run(const Run&) = delete;

    Result<OptimizeResult<M>> go(std::vector<Example<Sig>> train, std::vector<Example<Sig>> val) {
      if (val.empty()) {  // DSPy: the last 80% (at most 1000) validate, the rest train
        const std::size_t n_val = std::min<std::size_t>(1000, std::max<std::size_t>(1, train.size() * 8 / 10));
        val.assign(train.end() - static_cast<std::ptrdiff_t>(n_val), train.end());
        train.resize(train.size() - n_val);
      }
      const bool zero_shot = o.max_bootstrapped_demos == 0 && o.max_labeled_demos == 0;
      std::size_t n_instr = o.num_candidates.value_or(0), n_demo = n_instr, num_trials = o.num_trials.value_or(0);
      bool minibatch = o.minibatch;
      if (o.auto_mode) {
        static constexpr std::size_t n_of[] = {6, 12, 18}, val_of[] = {100, 300, 1000};
        const auto a = static_cast<std::size_t>(*o.auto_mode);
        std::vector<Example<Sig>> sub;
        for (const std::size_t i : detail::sample_indices(rng, val.size(), val_of[a])) sub.push_back(std::move(val[i]));
        val = std::move(sub);
        minibatch = val.size() > 50;
        n_demo = n_of[a];
        n_instr = zero_shot ? n_demo : n_demo / 2;
        const double vars = static_cast<double>(preds.size() * (zero_shot ? 1 : 2));
        num_trials = static_cast<std::size_t>(std::max(2 * vars * std::log2(static_cast<double>(n_demo)), 1.5 * static_cast<double>(n_demo)));
      }
      if (minibatch && o.minibatch_size > val.size())
        return Error(Errc::config, "MIPROv2: minibatch_size " + std::to_string(o.minibatch_size) +
                                       " exceeds the valset size " + std::to_string(val.size()));
      {
        const auto task = task_scope();
        bootstrap_demo_sets(train, n_demo, zero_shot);
      }
      propose_instructions(train, n_instr);
      if (zero_shot)
        for (auto& sets : demo_sets) sets.clear();
      const auto task = task_scope();
      return search(val, num_trials, minibatch);
    }

    // The task model's scope (nothing changes when none is set).
    Context task_scope() const { return Context(o.task_model ? SettingsOverride{.lm = o.task_model} : SettingsOverride{}); }

    EvaluationResult score(const M& candidate, const std::vector<Example<Sig>>& set) {
      const Context scope = meter.scope();
      EvaluationResult r = evaluate(candidate, set, self.metric_,
                                    {.concurrency = o.concurrency,
                                     .progress = false,
                                     .display_table = 0,
                                     .failure_score = 0.0,
                                     .max_errors = o.max_errors,
                                     .stop = {}});
      meter.add_metric_calls(set.size());
      return r;
    }

    // ---- step 1: demo sets ----------------------------------------------------------------------

    void bootstrap_demo_sets(const std::vector<Example<Sig>>& train, std::size_t n, bool zero_shot) {
      // Zero-shot runs still bootstrap three demos per set, to show the proposer (then dropped).
      BootstrapFewShotOptions b{.metric_threshold = o.metric_threshold,
                                .max_bootstrapped_demos = zero_shot ? 3 : o.max_bootstrapped_demos,
                                .max_labeled_demos = zero_shot ? 0 : o.max_labeled_demos,
                                .max_rounds = 1,
                                .max_errors = o.max_errors,
                                .concurrency = o.concurrency};
      for (std::int64_t seed = -3; seed < static_cast<std::int64_t>(n) - 3; ++seed) {
        if ((stopped = meter.exhausted())) return;
        // DSPy falls through to a shuffled set when there are no labeled demos to take.
        const std::int64_t kind = seed == -2 && b.max_labeled_demos == 0 ? 0 : seed;
        CandidateRecord rec{.index = log.size(), .kind = "demo_set", .params = {{"seed", seed}}};
        auto candidate = [&] {
          const Context scope = meter.scope();
          return fewshot_candidate(self.metric_, b, true, program, train, teacher, kind, rng, rng);
        }();
        if (!candidate) {
          rec.error = candidate.error().message();
        } else {
          boost::json::array sizes;
          std::size_t i = 0;
          for (const auto& [path, p] : named_predictors(*candidate)) {
            demo_sets[i++].push_back(p->dump_state());
            sizes.push_back(p->demo_count());
          }
          rec.params["demos"] = std::move(sizes);
          rec.params["set"] = sets_made++;
        }
        log.push_back(std::move(rec));
      }
    }

    // ---- step 2: grounded instruction proposals ---------------------------------------------------

    template <class GenSig>
    Result<typename GenSig::Output> ask(typename GenSig::Input input, CallConfig config) {
      Predict<GenSig> p;
      if (o.prompt_model) p.set_lm(o.prompt_model);
      const Context scope = meter.scope();
      auto r = p(std::move(input), config);
      if (!r) return std::move(r).error();
      return std::move(r.value().value());
    }

    // repr() of a list of DSPy Examples, input keys sorted as DSPy's order_input_keys_in_string.
    static std::string examples_repr(const std::vector<Example<Sig>>& items, std::size_t from, std::size_t to) {
      std::string out = "[";
      for (std::size_t i = from; i < to; ++i) {
        if (i > from) out += ", ";
        out += "Example(";
        detail::append_py_literal(out, example_to_json(items[i]));
        out += ") (input_keys={";
        std::vector<std::string> keys;
        for (const auto& f : signature_meta<Sig>().inputs) keys.push_back(detail::py_repr(f.name));
        std::sort(keys.begin(), keys.end());
        for (std::size_t k = 0; k < keys.size(); ++k) out += (k ? ", " : "") + keys[k];
        out += "})";
      }
      return out + "]";
    }

    std::string dataset_summary(const std::vector<Example<Sig>>& train) {
      const CallConfig once{.temperature = 1.0, .n = 1};
      const std::size_t batch = std::max<std::size_t>(o.view_data_batch_size, 1);
      auto first = ask<DatasetDescriptor>({examples_repr(train, 0, std::min(train.size(), batch))}, once);
      if (!first) return note_failure("dataset_summary", first.error());
      std::string observations = first->observations;
      std::size_t calls = 0, complete = 0;
      for (std::size_t b = batch; b < train.size(); b += batch) {
        if (++calls >= 10) break;
        auto more = ask<DatasetDescriptorWithPriorObservations>(
            {examples_repr(train, b, std::min(train.size(), b + batch)), observations}, once);
        if (!more) break;  // as DSPy: summarize the observations made so far
        if (starts_complete(more->observations)) {
          if (++complete >= 5) break;
          continue;
        }
        observations += more->observations;
      }
      auto summary = ask<ObservationSummarizer>({observations}, once);
      if (!summary) return note_failure("dataset_summary", summary.error());
      std::string text = detail::strip_prefix(summary->summary);
      log.push_back({.index = log.size(), .kind = "dataset_summary", .params = {{"summary", text}}});
      return text;
    }

    static bool starts_complete(std::string_view s) {
      constexpr std::string_view word = "COMPLETE";
      if (s.size() < word.size()) return false;
      for (std::size_t i = 0; i < word.size(); ++i)
        if (std::toupper(static_cast<unsigned char>(s[i])) != word[i]) return false;
      return true;
    }

    std::string note_failure(std::string_view what, const Error& e) {
      log.push_back({.index = log.size(), .kind = std::string(what), .error = e.message()});
      return "Not available";
    }

    // The program as pseudo-code for the proposer: one line per predictor, in the order found.
    std::string program_code() const {
      std::string out;
      for (const auto& [path, p] : preds) {
        out += path + " = dspy.Predict(\"" + fields_of(*p, true) + " -> " + fields_of(*p, false) + "\")  # " +
               p->instructions() + "\n";
      }
      return out;
    }

    static std::string fields_of(const PredictorBase& p, bool inputs) {
      std::string out;
      for (const auto& f : inputs ? p.signature().inputs : p.signature().outputs) {
        if (!out.empty()) out += ", ";
        out += f.name;
      }
      return out;
    }

    // Up to three bootstrapped demos of predictor i, from set `set` onward, as DSPy's task_demos.
    std::string task_demos(std::size_t i, std::size_t set) const {
      const auto& sets = demo_sets[i];
      if (set == 0 || !o.fewshot_aware_proposer || sets.empty()) return "No task demos provided.";
      const SignatureMeta& sig = preds[i].second->signature();
      std::string out;
      std::size_t shown = 0;
      for (std::size_t k = 0; k < sets.size() && shown < 3; ++k) {
        const auto* demos = sets[(set + k) % sets.size()].if_contains("demos");
        if (!demos || !demos->is_array()) continue;
        for (const auto& d : demos->get_array()) {
          if (shown == 3 || !d.is_object() || !d.get_object().contains("augmented")) continue;
          std::string example;
          for (const auto* fields : {&sig.inputs, &sig.outputs})
            for (const auto& f : *fields) {
              if (!example.empty()) example += '\n';
              example += infer_prefix(f.name) + ": " + detail::py_str(d.get_object().if_contains(f.name));
            }
          out += (shown++ ? "\n\n" : "") + example;
        }
      }
      return shown ? out + "\n\n" : "No task demos provided.";
    }

    void propose_instructions(const std::vector<Example<Sig>>& train, std::size_t n) {
      for (std::size_t i = 0; i < preds.size(); ++i) instructions[i].push_back(preds[i].second->instructions());
      if ((stopped = meter.exhausted())) return;
      const std::string summary = dataset_summary(train);
      const std::string code = program_code();
      const std::size_t sets = o.fewshot_aware_proposer ? std::max<std::size_t>(demo_sets.empty() ? 0 : demo_sets[0].size(), 1) : n;
      for (std::size_t i = 0; i < preds.size(); ++i) {
        for (std::size_t s = 0; s < std::min(n, sets); ++s) {
          if ((stopped = meter.exhausted())) return;
          const auto tip = o.tip_aware_proposer ? detail::mipro_tips[uniform_below(rng, detail::mipro_tips.size())]
                                                : detail::mipro_tips[0];
          const CallConfig config{.temperature = o.init_temperature,
                                  .rollout_id = static_cast<std::int64_t>(uniform_below(rng, 1'000'000'001))};
          CandidateRecord rec{.index = log.size(),
                              .kind = "proposal",
                              .params = {{"predictor", preds[i].first}, {"demo_set", s}, {"tip", tip.first}}};
          auto proposed = propose(i, s, summary, code, tip.second, config);
          if (!proposed) {
            rec.error = proposed.error().message();
          } else {
            rec.params["instruction"] = *proposed;
            // Candidate 0 is the current instruction, as DSPy overwrites the first proposal with it.
            if (s > 0) instructions[i].push_back(std::move(*proposed));
          }
          log.push_back(std::move(rec));
        }
      }
    }

    Result<std::string> propose(std::size_t i, std::size_t set, const std::string& summary, const std::string& code,
                                std::string_view tip, const CallConfig& config) {
      const PredictorBase& p = *preds[i].second;
      const std::string demos = task_demos(i, set);
      std::string description = "Not available", module = "Not provided", module_description = "Not provided";
      if (auto d = ask<DescribeProgram>({code, demos}, config)) {
        description = detail::strip_prefix(d->program_description);
        module = "Predict(" + fields_of(p, true) + ") -> " + fields_of(p, false);
        if (auto m = ask<DescribeModule>({code, demos, description, module}, config)) module_description = m->module_description;
      }
      auto out = tip.empty()
                     ? ask<detail::GenerateSingleModuleInstructionNoTip>(
                           {summary, code, description, module, module_description, demos, p.instructions()}, config)
                     : ask<GenerateSingleModuleInstruction>(
                           {summary, code, description, module, module_description, demos, p.instructions(), std::string(tip)},
                           config);
      if (!out) return std::move(out).error();
      return detail::strip_prefix(out->proposed_instruction);
    }

    // ---- step 3: the search ---------------------------------------------------------------------

    // Params: per predictor its instruction index, then (with demo sets) its demo-set index.
    bool with_demos() const { return !demo_sets.empty() && !demo_sets[0].empty(); }

    M build(const std::vector<std::size_t>& params) const {
      M candidate = program;
      std::size_t k = 0, i = 0;
      for (const auto& [path, p] : named_predictors(candidate)) {
        const std::size_t instruction = params[k++];
        if (with_demos()) (void)p->load_state(demo_sets[i][params[k++]]);  // states of this very program
        p->set_instructions(instructions[i][instruction]);
        ++i;
      }
      return candidate;
    }

    boost::json::object params_json(const std::vector<std::size_t>& params) const {
      boost::json::object out;
      std::size_t k = 0;
      for (const auto& [path, p] : preds) {
        out[path + ".instruction"] = params[k++];
        if (with_demos()) out[path + ".demos"] = params[k++];
      }
      return out;
    }

    CandidateRecord record(std::string kind, const std::vector<std::size_t>& params, const EvaluationResult& r,
                           const M& candidate) {
      CandidateRecord rec{.index = log.size(), .kind = std::move(kind), .params = params_json(params), .score = r.score};
      for (const auto& row : r.rows) rec.subscores.push_back(row.score);
      rec.state = dump_state(candidate);
      return rec;
    }

    Result<OptimizeResult<M>> search(const std::vector<Example<Sig>>& val, std::size_t num_trials, bool minibatch) {
      std::vector<std::size_t> counts;
      for (std::size_t i = 0; i < preds.size(); ++i) {
        counts.push_back(instructions[i].size());
        if (with_demos()) counts.push_back(demo_sets[i].size());
      }
      const std::size_t steps = o.minibatch_full_eval_steps;
      const std::size_t total = minibatch ? num_trials + num_trials / steps + 1 + (num_trials % steps ? 1 : 0) : num_trials;
      detail::TpeSampler tpe(counts, o.seed);

      const std::vector<std::size_t> defaults(counts.size(), 0);
      const EvaluationResult base = score(program, val);
      double best_score = base.score;
      boost::json::object best_state = dump_state(program);
      log.push_back(record("full", defaults, base, program));
      o.progress.report("MIPROv2", log.back(), total, best_score);
      tpe.tell(defaults, base.score);

      std::vector<Combo> combos;  // minibatch scores by params, in order first tried
      for (std::size_t t = 0; t < num_trials; ++t) {
        if ((stopped = meter.exhausted())) break;
        const std::size_t trial_num = tpe.trial_count() + 1;  // Optuna's trial number + 1
        const std::vector<std::size_t> params = tpe.suggest();
        M candidate = build(params);
        std::vector<Example<Sig>> batch;
        if (minibatch)
          for (const std::size_t i : detail::sample_indices(rng, val.size(), o.minibatch_size)) batch.push_back(val[i]);
        const EvaluationResult r = score(candidate, minibatch ? batch : val);
        tpe.tell(params, r.score);
        if (!minibatch && r.score > best_score) {
          best_score = r.score;
          best_state = dump_state(candidate);
        }
        log.push_back(record(minibatch ? "minibatch" : "full", params, r, candidate));
        o.progress.report("MIPROv2", log.back(), total, best_score);
        auto c = std::find_if(combos.begin(), combos.end(), [&](const Combo& x) { return x.params == params; });
        if (c == combos.end()) c = combos.insert(combos.end(), Combo{params});
        c->sum += r.score;
        ++c->n;
        if (minibatch && (trial_num % (steps + 1) == 0 || trial_num + 1 == total))
          full_evaluation(combos, tpe, val, total, best_score, best_state);
      }
      if (auto r = load_state(program, best_state); !r) return std::move(r).error();
      return OptimizeResult<M>{std::move(program), best_score, "MIPROv2", std::move(log), std::move(stopped), meter.json()};
    }

    struct Combo {
      std::vector<std::size_t> params;
      double sum = 0;
      std::size_t n = 0;
      bool fully_evaluated = false;
      [[nodiscard]] double mean() const { return sum / static_cast<double>(n); }
    };

    // The combination with the best mean minibatch score not yet fully evaluated (the first of
    // equal means), scored on the valset and told to the sampler as a trial.
    void full_evaluation(std::vector<Combo>& combos, detail::TpeSampler& tpe, const std::vector<Example<Sig>>& val,
                         std::size_t total, double& best_score, boost::json::object& best_state) {
      Combo* top = nullptr;
      for (Combo& c : combos)
        if (!c.fully_evaluated && (!top || c.mean() > top->mean())) top = &c;
      if (!top) return;
      top->fully_evaluated = true;
      const M candidate = build(top->params);
      const EvaluationResult r = score(candidate, val);
      tpe.tell(top->params, r.score);
      log.push_back(record("full", top->params, r, candidate));
      if (r.score > best_score) {
        best_score = r.score;
        best_state = log.back().state;
      }
      o.progress.report("MIPROv2", log.back(), total, best_score);
    }
  };

  F metric_;
  MIPROv2Options options_;
};

}  // namespace dspy
