// dspy::Refine<M>: BestOfN plus feedback. After an attempt below the threshold, an OfferFeedback
// predictor reads the program's trajectory and writes advice per predictor; the next attempt shows
// each predictor its advice as DSPy's extra `hint_` input field.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/describe/class.hpp>
#include <boost/json.hpp>

#include "../adapters/adapter.hpp"
#include "best_of_n.hpp"
#include "../signatures/demo.hpp"
#include "../primitives/module.hpp"
#include "module_call.hpp"
#include "predict.hpp"
#include "../primitives/settings.hpp"
#include "../signatures/signature.hpp"

namespace dspy {

/// dspy.predict.refine.OfferFeedback, with DSPy's instructions, fields and descriptions.
struct OfferFeedback {
  static constexpr std::string_view instructions =
      "In the discussion, assign blame to each module that contributed to the final reward being below the "
      "threshold, if\nany. Then, prescribe concrete advice of how the module should act on its future input when we "
      "retry the process, if\nit were to receive the same or similar inputs. If a module is not to blame, the advice "
      "should be N/A.\nThe module will not see its own history, so it needs to rely on entirely concrete and "
      "actionable advice from you\nto avoid the same mistake on the same or similar inputs.";
  struct Input {
    std::string program_code;
    std::string modules_defn;
    std::string program_inputs;
    std::string program_trajectory;
    std::string program_outputs;
    std::string reward_code;
    double target_threshold = 0;
    double reward_value = 0;
    std::vector<std::string> module_names;
  };
  struct Output {
    std::string discussion;
    std::map<std::string, std::string> advice;
  };
  static constexpr auto docs = dspy::docs({
      {"program_code", "The code of the program that we are analyzing"},
      {"modules_defn", "The definition of each module in the program, including its I/O"},
      {"program_inputs", "The inputs to the program that we are analyzing"},
      {"program_trajectory", "The trajectory of the program's execution, showing each module's I/O"},
      {"program_outputs", "The outputs of the program that we are analyzing"},
      {"reward_code", "The code of the reward function that we are analyzing"},
      {"target_threshold", "The target threshold for the reward function"},
      {"reward_value", "The reward value assigned to the program's outputs"},
      {"module_names", "The names of the modules in the program, for which we seek advice"},
      {"discussion", "Discussing blame of where each module went wrong, if it did"},
      // "kind ofscenario" is DSPy's text.
      {"advice",
       "For each module, describe very concretely, in this order: the specific scenarios in which it has made "
       "mistakes in the past and what each mistake was, followed by what it should do differently in that kind of"
       "scenario in the future. If the module is not to blame, write N/A."},
  });
};

/// The input field DSPy's Refine appends to every predictor's signature on retries.
struct Hint {
  std::string hint_;
};

namespace detail {

inline constexpr std::string_view kHintDesc = "A hint to the module from an earlier run";

template <class Sig>
consteval auto docs_with_hint() {
  if constexpr (HasDocs<Sig>) {
    Docs<Sig::docs.items.size() + 1> out{};
    for (std::size_t i = 0; i < Sig::docs.items.size(); ++i) out.items[i] = Sig::docs.items[i];
    out.items.back() = {"hint_", kHintDesc};
    return out;
  } else {
    return Docs<1>{{FieldDoc{"hint_", kHintDesc}}};
  }
}

/// Sig with DSPy's `hint_` appended to its inputs (signature.append keeps the instructions).
template <Signature Sig>
struct WithHint {
  using Input = Extended<typename Sig::Input, Hint>;
  using Output = typename Sig::Output;
  static inline const std::string instructions = signature_meta<Sig>().default_instructions;
  static constexpr auto docs = docs_with_hint<Sig>();
};

// The messages DSPy's Refine sends on a retry: the predictor's signature with `hint_` appended.
// Demos carry no hint, so each is "incomplete" in DSPy's sense and is shown as such.
template <Signature Sig>
std::vector<Message> format_with_hint(const Adapter& adapter, const std::string& instructions,
                                      std::span<const Demo<Sig>> demos, const typename Sig::Input& input,
                                      const std::string& hint) {
  using H = WithHint<Sig>;
  constexpr std::size_t n_in = field_count<typename Sig::Input>;
  const std::uint64_t in_mask = n_in == 0 ? 0 : (~std::uint64_t{0} >> (64 - n_in));
  std::vector<Demo<H>> hinted;
  hinted.reserve(demos.size());
  for (const auto& d : demos) {
    const std::uint64_t missing =
        (d.missing & in_mask) | (std::uint64_t{1} << n_in) | ((d.missing >> n_in) << (n_in + 1));
    hinted.push_back(Demo<H>{{d.input, Hint{}}, d.output, d.augmented, missing});
  }
  return format_messages<H>(adapter, instructions, std::span<const Demo<H>>(hinted),
                            typename H::Input{input, Hint{hint}});
}

template <class T>
inline constexpr bool result_is_predicted_v = false;
template <class O>
inline constexpr bool result_is_predicted_v<Predicted<O>> = true;

// dict(outputs) of a module's result: a prediction's fields, a struct's fields, or the value.
template <class V>
boost::json::value result_json(const V& v) {
  if constexpr (result_is_predicted_v<V>) return fields_json(v.value());
  else if constexpr (Struct<V>) return fields_json(v);
  else return dspy::to_json(v);
}

// textwrap.dedent, then the lines.
DSPY_DECL std::vector<std::string> dedented_lines(std::string_view text);

// dspy.adapters.utils.get_field_description_string, its lines each prefixed by "\n\t\t".
DSPY_DECL std::string indented_field_descriptions(const std::vector<FieldMeta>& fields);

DSPY_DECL std::string strip_newlines(std::string s);

/// dspy.predict.refine.inspect_modules: each predictor's fields and instructions.
template <class M>
std::string inspect_modules(const M& module) {
  const std::string separator(80, '-');
  std::vector<std::string> parts{separator};
  for_each_predictor(module, [&](const std::string& name, const PredictorBase& p) {
    std::string instructions;
    for (const auto& line : dedented_lines(p.instructions())) instructions += "\n\t\t" + line;
    parts.push_back("Module " + name);
    parts.push_back("\n\tInput Fields:");
    parts.push_back(indented_field_descriptions(p.signature().inputs));
    parts.push_back("\tOutput Fields:");
    parts.push_back(indented_field_descriptions(p.signature().outputs));
    parts.push_back("\tOriginal Instructions: " + instructions);
    parts.push_back(separator);
  });
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i) out += '\n';
    out += strip_newlines(std::move(parts[i]));
  }
  return out;
}

// orjson.dumps(..., option=OPT_INDENT_2), as Refine passes every non-string value.
DSPY_DECL std::string indented_json(const boost::json::value& v);

// Shows an input field of the final user message as `text` in place of its rendering `shown`
// (the field's block is the last one of that name).
DSPY_DECL void show_input_as(std::vector<Message>& messages, const Adapter& adapter, std::string_view field,
                             const std::string& shown, const std::string& text);

// DSPy passes module_names to its feedback signatures as the indented JSON dump of the list,
// while the field keeps its list type in the system message.
DSPY_DECL void show_module_names(std::vector<Message>& messages, const Adapter& adapter,
                                 const std::vector<std::string>& module_names);

// OfferFeedback's advice for the next attempt, asked of `lm` when set. A template only so that a
// file that never runs Refine compiles nothing of Predict<OfferFeedback>; with the compiled part,
// <dspy/src.hpp> instantiates it once.
template <class Feedback = OfferFeedback>
asio::awaitable<Result<std::map<std::string, std::string>>> offer_feedback(LMHandle lm, typename Feedback::Input input);

}  // namespace detail

struct RefineOptions {
  /// Failed attempts tolerated, as in DSPy; unset (or 0) means N.
  std::optional<std::size_t> fail_count{};
  /// Shown to the feedback LM as `program_code` (DSPy shows the module class's Python source,
  /// which C++ cannot read). Unset: the module's type name.
  std::optional<std::string> program_code{};
  /// Shown as `reward_code` (DSPy: the reward function's source).
  std::string reward_code = "reward_fn";
  /// The LM that writes the feedback. Unset: the global LM (as DSPy), else the module's LM.
  LMHandle feedback_lm{};
};

template <AsyncCallable M>
class Refine {
 public:
  using Input = typename M::Input;
  using result_type = module_result_t<M>;
  using value_type = typename result_type::value_type;
  using RewardFn = std::function<double(const Input&, const value_type&)>;

  /// The module refined (a copy is run per attempt; this one is never changed).
  M module;

  Refine(M module_, std::size_t n, RewardFn reward_fn, double threshold, RefineOptions options = {})
      : module(std::move(module_)),
        n_(n),
        reward_fn_(std::move(reward_fn)),
        threshold_(threshold),
        options_(std::move(options)) {}

  /// As BestOfN; between attempts below the threshold, feedback becomes each predictor's hint.
  /// A failing feedback call counts as a failed attempt, as in DSPy.
  asio::awaitable<result_type> forward(Input input) const {
    if (n_ == 0) co_return Error(Errc::config, "Refine: N is 0, so there is no attempt to return");
    const std::int64_t start = detail::first_rollout_id(module);
    detail::FailureBudget budget(options_.fail_count, n_);
    std::optional<result_type> best;
    double best_reward = -std::numeric_limits<double>::infinity();
    std::optional<Error> last_error;
    std::map<std::string, std::string> advice;
    Trace best_trace;
    for (std::size_t i = 0; i < n_; ++i) {
      Trace trace;
      M attempt = detail::attempt_copy(module, start + static_cast<std::int64_t>(i));
      instrument(attempt, advice);
      auto pending = detail::traced_call(&attempt, input, &trace);  // not inside co_await: GCC 12 bug 100611
      result_type result = co_await std::move(pending);
      // DSPy's trace keeps the inputs the adapter saw, `hint_` included.
      if (!advice.empty())
        for (auto& entry : trace) entry.inputs["hint_"] = hint_for(advice, entry.module_name);
      std::optional<double> reward;
      if (result) {
        try {
          reward = reward_fn_(input, *result);
        } catch (...) {
          result = detail::reward_error("Refine");
        }
      }
      if (!reward) {
        if (budget.exhausted_by(i)) co_return std::move(result);
        last_error = result.error();
        continue;
      }
      boost::json::value outputs = detail::result_json(*result);
      if (!best || *reward > best_reward) {  // as BestOfN: the first success is always kept
        best_reward = *reward;
        best.emplace(std::move(result));
        best_trace = trace;
      }
      if (*reward >= threshold_ || i + 1 == n_) break;
      auto pending_feedback =
          detail::offer_feedback(feedback_lm(), feedback_input(attempt, input, trace, outputs, *reward));
      auto advised = co_await std::move(pending_feedback);
      if (!advised) {
        if (budget.exhausted_by(i)) co_return std::move(advised).error();
        last_error = advised.error();
        continue;
      }
      advice = std::move(*advised);
    }
    detail::extend_trace(*detail::settings_here(), best_trace, "module");
    if (best) co_return std::move(*best);
    co_return std::move(*last_error);
  }

  /// Blocking call.
  result_type operator()(const Input& input) const { return dspy::call(*this, input); }

  BOOST_DESCRIBE_CLASS(Refine, (), (module), (), ())

 private:
  // Shows last round's advice to the attempt's predictors (DSPy's `hint_` input field).
  static void instrument(M& attempt, const std::map<std::string, std::string>& advice) {
    if (advice.empty()) return;
    for_each_predictor(attempt, [&](const std::string& path, auto& p) {
      using P = std::remove_cvref_t<decltype(p)>;
      using Sig = typename P::signature_type;
      p.format_hook = [h = hint_for(advice, path)](const Adapter& ad, const std::string& instructions,
                                                   std::span<const Demo<Sig>> demos, const typename P::Input& in) {
        return detail::format_with_hint<Sig>(ad, instructions, demos, in, h);
      };
    });
  }

  // DSPy: advice.get(name, "N/A"), once there is any advice at all.
  static std::string hint_for(const std::map<std::string, std::string>& advice, const std::string& path) {
    const auto it = advice.find(path);
    return it == advice.end() ? std::string("N/A") : it->second;
  }

  [[nodiscard]] LMHandle feedback_lm() const {
    if (options_.feedback_lm) return options_.feedback_lm;
    if (LMHandle global = settings().lm; global) return global;
    auto own = get_lm(module);
    return own ? *own : LMHandle{};
  }

  OfferFeedback::Input feedback_input(const M& attempt, const Input& input,
                                      const std::vector<TraceEntry>& trace, const boost::json::value& outputs,
                                      double reward) const {
    boost::json::array trajectory;
    for (const auto& t : trace)
      trajectory.push_back({{"module_name", t.module_name}, {"inputs", t.inputs}, {"outputs", t.outputs}});
    std::vector<std::string> names;
    for_each_predictor(attempt, [&](const std::string& path, const PredictorBase&) { names.push_back(path); });
    return {
        options_.program_code.value_or(std::string(type_name_of<M>)),
        detail::inspect_modules(attempt),
        detail::indented_json(detail::fields_json(input)),
        detail::indented_json(trajectory),
        detail::indented_json(outputs),
        options_.reward_code,
        threshold_,
        reward,
        std::move(names),
    };
  }

  std::size_t n_;
  RewardFn reward_fn_;
  double threshold_;
  RefineOptions options_;
};

}  // namespace dspy

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "refine_impl.hpp"
#endif
