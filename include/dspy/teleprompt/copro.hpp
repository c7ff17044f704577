// dspy::COPRO: instruction search by a prompt model (DSPy's teleprompt.COPRO). Each predictor's
// instruction gets `breadth` candidates, each scored on the trainset; for `depth` rounds the
// prompt model reads the best attempts with their scores and proposes new ones; coordinate ascent
// over predictors.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "../detail/text/tolerant.hpp"
#include "../evaluate/evaluate.hpp"
#include "../primitives/module.hpp"
#include "../predict/module_call.hpp"
#include "teleprompt.hpp"
#include "../predict/predict.hpp"

namespace dspy {

/// DSPy's first proposal prompt: a new instruction from the current one.
struct BasicGenerateInstruction {
  static constexpr std::string_view instructions =
      "You are an instruction optimizer for large language models. I will give you a ``signature`` of fields "
      "(inputs and outputs) in English. Your task is to propose an instruction that will lead a good language "
      "model to perform the task well. Don't be afraid to be creative.";
  struct Input {
    std::string basic_instruction;
  };
  struct Output {
    std::string proposed_instruction;
    std::string proposed_prefix_for_output_field;
  };
  static constexpr auto docs = dspy::docs(
      {{"basic_instruction", "The initial instructions before optimization"},
       {"proposed_instruction", "The improved instructions for the language model"},
       {"proposed_prefix_for_output_field",
        "The string at the end of the prompt, which will help the model start solving the task"}});
};

/// DSPy's later proposal prompt: a new instruction from scored attempts, worst to best.
struct GenerateInstructionGivenAttempts {
  static constexpr std::string_view instructions =
      "You are an instruction optimizer for large language models. I will give some task instructions I've tried, "
      "along with their corresponding validation scores. The instructions are arranged in increasing order based on "
      "their scores, where higher scores indicate better quality.\n\nYour task is to propose a new instruction that "
      "will lead a good language model to perform the task even better. Don't be afraid to be creative.";
  struct Input {
    std::vector<std::string> attempted_instructions;
  };
  struct Output {
    std::string proposed_instruction;
    std::string proposed_prefix_for_output_field;
  };
  static constexpr auto docs = dspy::docs(
      {{"proposed_instruction", "The improved instructions for the language model"},
       {"proposed_prefix_for_output_field",
        "The string at the end of the prompt, which will help the model start solving the task"}});
};

struct COPROOptions {
  /// Candidates per proposal (the first round: breadth - 1 proposals plus the current instruction).
  std::size_t breadth = 10;
  std::size_t depth = 3;
  double init_temperature = 1.4;
  /// Makes the proposals reproducible: each proposal call has its own rollout_id derived from it.
  std::uint64_t seed = 0;
  OptimizerBudget budget{};
  OptimizerProgress progress{};
  /// For each evaluation.
  std::size_t concurrency = 16;
  std::optional<std::size_t> max_errors{};
};

/// COPRO(prompt_model, metric, options).compile(student, trainset). The prompt model (any LM, it
/// may differ from the task model) proposes instructions and output prefixes; every candidate is
/// scored with dspy::evaluate on the trainset. The result is the best configuration scored (the
/// first of equal scores) with the log of every candidate; the student is unchanged. Predict's
/// prompts do not show field prefixes, so proposed prefixes are logged but not applied. Errors:
/// breadth below 2, an empty trainset, or a budget spent before any candidate was scored.
template <class F>
class COPRO {
 public:
  COPRO(LMHandle prompt_model, F metric, COPROOptions options = {})
      : prompt_model_(std::move(prompt_model)), metric_(std::move(metric)), options_(std::move(options)) {}

  template <AsyncCallable M, Signature Sig>
  [[nodiscard]] Result<OptimizeResult<M>> compile(const M& student, const std::vector<Example<Sig>>& trainset) const {
    if (options_.breadth <= 1)
      return Error(Errc::config, "COPRO: breadth must be greater than 1 (got " + std::to_string(options_.breadth) + ")");
    if (trainset.empty()) return Error(Errc::config, "COPRO: the trainset is empty");
    Run<M, Sig> run{*this, student, trainset};
    return run.go();
  }

 private:
  struct Attempt {
    std::string instruction;
    std::string prefix;
    double score = 0;
  };

  template <class M, class Sig>
  struct Run {
    const COPRO& self;
    M program;
    const std::vector<Example<Sig>>& trainset;
    BudgetMeter meter{self.options_.budget};
    std::vector<std::pair<std::string, PredictorBase*>> preds = named_predictors(program);
    std::vector<CandidateRecord> log{};
    std::optional<std::string> stopped{};
    std::optional<double> best_score{};
    boost::json::object best_state{};
    std::int64_t proposals = 0;

    Run(const COPRO& s, const M& student, const std::vector<Example<Sig>>& train)
        : self(s), program(student), trainset(train) {}
    Run(const Run&) = delete;

    Result<OptimizeResult<M>> go() {
      const COPROOptions& o = self.options_;
      const std::size_t n = preds.size();
      std::vector<std::vector<Attempt>> evaluated(n);  // per predictor, one per (instruction, prefix)
      std::vector<Attempt> best(n);
      std::vector<std::vector<Attempt>> all(n), latest(n);
      for (std::size_t i = 0; i < n && !stopped; ++i) {
        const PredictorBase& p = *preds[i].second;
        best[i] = {p.instructions(), infer_prefix(p.signature().outputs.back().name) + ":", 0};
        latest[i] = propose<BasicGenerateInstruction>({best[i].instruction}, o.breadth - 1, i);
        latest[i].push_back(best[i]);
        all[i] = latest[i];
      }
      for (std::size_t d = 0; d < o.depth && !stopped; ++d) {
        for (std::size_t i = 0; i < n && !stopped; ++i) {
          for (const Attempt& c : n > 1 ? all[i] : latest[i]) {
            if ((stopped = meter.exhausted())) break;
            for (std::size_t q = 0; q < n; ++q) preds[q].second->set_instructions(q == i ? c.instruction : best[q].instruction);
            const std::optional<double> score = score_candidate(i, d, c);
            if (!score) continue;
            auto known = std::find_if(evaluated[i].begin(), evaluated[i].end(), [&](const Attempt& a) {
              return a.instruction == c.instruction && a.prefix == c.prefix;
            });
            if (known == evaluated[i].end()) evaluated[i].push_back({c.instruction, c.prefix, *score});
            else known->score = std::max(known->score, *score);
          }
          if (!evaluated[i].empty())
            best[i] = *std::max_element(evaluated[i].begin(), evaluated[i].end(),
                                        [](const Attempt& a, const Attempt& b) { return a.score < b.score; });
        }
        if (d + 1 == o.depth || stopped) break;
        for (std::size_t i = 0; i < n && !stopped; ++i) {
          latest[i] = propose<GenerateInstructionGivenAttempts>({attempts(evaluated[i])}, o.breadth, i);
          all[i].insert(all[i].end(), latest[i].begin(), latest[i].end());
        }
      }
      if (!best_score) return Error(Errc::config, "COPRO: no candidate was scored" + (stopped ? " (" + *stopped + ")" : std::string()));
      if (auto r = load_state(program, best_state); !r) return std::move(r).error();
      OptimizeResult<M> out{std::move(program), *best_score, "COPRO", std::move(log), std::move(stopped), meter.json()};
      return out;
    }

    // The breadth best attempts, worst first, in DSPy's words.
    std::vector<std::string> attempts(std::vector<Attempt> scored) const {
      std::stable_sort(scored.begin(), scored.end(), [](const Attempt& a, const Attempt& b) { return a.score > b.score; });
      const std::size_t k = std::min(scored.size(), self.options_.breadth);
      std::vector<std::string> out;
      for (std::size_t i = k; i-- > 0;) {
        const std::string number = std::to_string(k - i);
        out.push_back("Instruction #" + number + ": " + scored[i].instruction);
        out.push_back("Prefix #" + number + ": " + scored[i].prefix);
        out.push_back("Resulting Score #" + number + ": " + python_float(scored[i].score));
      }
      return out;
    }

    // n proposals from the prompt model in one call; a failed call proposes nothing (logged).
    template <class GenSig>
    std::vector<Attempt> propose(typename GenSig::Input input, std::size_t count, std::size_t predictor) {
      std::vector<Attempt> out;
      if ((stopped = meter.exhausted())) return out;
      Predict<GenSig> generate;
      generate.set_lm(self.prompt_model_);
      const CallConfig config{.temperature = self.options_.init_temperature,
                              .n = static_cast<int>(count),
                              .rollout_id = static_cast<std::int64_t>(self.options_.seed * 1000003 + proposals++)};
      auto reply = [&] {
        const Context scope = meter.scope();
        return generate(input, config);
      }();
      if (!reply) {
        log.push_back({.index = log.size(), .kind = "proposal", .params = {{"predictor", preds[predictor].first}},
                       .error = reply.error().message()});
        return out;
      }
      for (const auto& c : reply.value().completions())
        out.push_back({clean(c.proposed_instruction), clean(c.proposed_prefix_for_output_field), 0});
      return out;
    }

    std::optional<double> score_candidate(std::size_t predictor, std::size_t depth, const Attempt& c) {
      CandidateRecord rec{.index = log.size(),
                          .kind = "full",
                          .params = {{"predictor", preds[predictor].first},
                                     {"depth", depth},
                                     {"instruction", c.instruction},
                                     {"prefix", c.prefix}}};
      const EvaluationResult r = [&] {
        const Context scope = meter.scope();
        return evaluate(program, trainset, self.metric_,
                        {.concurrency = self.options_.concurrency,
                         .progress = false,
                         .display_table = 0,
                         .failure_score = 0.0,
                         .max_errors = self.options_.max_errors,
                         .stop = {}});
      }();
      meter.add_metric_calls(trainset.size());
      rec.score = r.score;
      for (const auto& row : r.rows) rec.subscores.push_back(row.score);
      rec.state = dump_state(program);
      if (!best_score || r.score > *best_score) {
        best_score = r.score;
        best_state = rec.state;
      }
      self.options_.progress.report("COPRO", rec, 0, *best_score);
      log.push_back(std::move(rec));
      return r.score;
    }
  };

  // As DSPy: proposals are stripped of quotes, then of spaces.
  static std::string clean(std::string_view s) {
    while (!s.empty() && s.front() == '"') s.remove_prefix(1);
    while (!s.empty() && s.back() == '"') s.remove_suffix(1);
    return std::string(detail::trim(s));
  }

  // A score as Python's str(float) writes it: 75.0, 62.5.
  static std::string python_float(double v) {
    char text[64];
    std::snprintf(text, sizeof text, "%.15g", v);
    std::string out(text);
    if (out.find_first_of(".en") == std::string::npos) out += ".0";
    return out;
  }

  LMHandle prompt_model_;
  F metric_;
  COPROOptions options_;
};

}  // namespace dspy
