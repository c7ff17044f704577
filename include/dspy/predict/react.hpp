// dspy::ReAct<Sig, Tools...>: an agent that alternates thoughts and typed tool calls until it
// calls `finish` (or runs out of iterations), then extracts Sig's outputs with ChainOfThought.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/describe/class.hpp>
#include <boost/json.hpp>

#include "../adapters/adapter.hpp"
#include "chain_of_thought.hpp"
#include "../primitives/error.hpp"
#include "../primitives/literal.hpp"
#include "../primitives/module.hpp"
#include "module_call.hpp"
#include "predict.hpp"
#include "../primitives/prediction.hpp"
#include "../primitives/settings.hpp"
#include "../signatures/signature.hpp"
#include "../adapters/types/tool.hpp"

namespace dspy {

/// One turn of the agent: DSPy's thought_i, tool_name_i, tool_args_i and observation_i.
struct ReActStep {
  std::string thought;
  std::string tool_name;
  boost::json::object tool_args;
  /// What the tool returned, or the text "Execution error in {tool}: {what}".
  boost::json::value observation;
};

using Trajectory = std::vector<ReActStep>;

/// The trajectory, as ReAct adds it to the result.
struct ReActTrajectory {
  Trajectory trajectory;
};

namespace detail {

/// The input field both inner predictors add after Sig's inputs.
struct TrajectoryInput {
  std::string trajectory;
};

/// The react predictor's outputs; ToolName is dspy::Literal<tool names..., "finish">.
template <class ToolName>
struct ReActDecision {
  std::string next_thought;
  ToolName next_tool_name;
  boost::json::object next_tool_args;
};

template <class Sig>
consteval std::size_t input_doc_count() {
  std::size_t n = 0;
  if constexpr (HasDocs<Sig>) {
    for (const auto& d : Sig::docs.items)
      if (has_name<typename Sig::Input>(d.name)) ++n;
  }
  return n;
}

template <class Sig>
consteval Docs<input_doc_count<Sig>()> input_docs() {
  Docs<input_doc_count<Sig>()> out{};
  std::size_t i = 0;
  for (const auto& d : Sig::docs.items)
    if (has_name<typename Sig::Input>(d.name)) out.items[i++] = d;
  return out;
}

// The react signature keeps the docs of Sig's inputs only (its outputs are not Sig's).
template <class Sig>
struct InputDocsOf {};
template <class Sig>
  requires(input_doc_count<Sig>() > 0)
struct InputDocsOf<Sig> {
  static constexpr auto docs = input_docs<Sig>();
};

/// Sig's inputs + trajectory -> next_thought, next_tool_name, next_tool_args. Its instructions are
/// built from the tools at run time and given to the Predict.
template <class Sig, class ToolName>
struct ReActSignature : InputDocsOf<Sig> {
  using Input = Extended<typename Sig::Input, TrajectoryInput>;
  using Output = ReActDecision<ToolName>;
};

// Sig's instructions, or DSPy's default "Given the fields `a`, produce the fields `b`.", as a
// compile-time constant: a static std::string here would be read by ChainOfThought's own static
// before it is initialized.
template <class S>
consteval std::size_t joined_names_size() {
  std::size_t n = 0;
  for (std::size_t i = 0; i < field_count<S>; ++i) n += field_names<S>[i].size() + (i ? 4 : 2);
  return n;
}

template <class Sig>
consteval std::size_t instructions_size() {
  if constexpr (HasInstructions<Sig>) return std::string_view{Sig::instructions}.size();
  else return 17 + joined_names_size<typename Sig::Input>() + 21 + joined_names_size<typename Sig::Output>() + 1;
}

template <class Sig>
consteval NameStorage<instructions_size<Sig>()> instructions_storage() {
  NameStorage<instructions_size<Sig>()> out;
  std::size_t at = 0;
  const auto put = [&](std::string_view text) {
    for (const char c : text) out.chars[at++] = c;
  };
  const auto names = [&]<class S>(std::type_identity<S>) {
    for (std::size_t i = 0; i < field_count<S>; ++i) {
      if (i) put(", ");
      put("`");
      put(field_names<S>[i]);
      put("`");
    }
  };
  if constexpr (HasInstructions<Sig>) {
    put(std::string_view{Sig::instructions});
  } else {
    put("Given the fields ");
    names(std::type_identity<typename Sig::Input>{});
    put(", produce the fields ");
    names(std::type_identity<typename Sig::Output>{});
    put(".");
  }
  return out;
}

template <class Sig>
inline constexpr auto instructions_of = instructions_storage<Sig>();

/// Sig's inputs + trajectory -> Sig's outputs, with Sig's instructions (DSPy's fallback signature).
template <class Sig>
struct ReActExtractSignature : DocsOf<Sig> {
  using Input = Extended<typename Sig::Input, TrajectoryInput>;
  using Output = typename Sig::Output;
  static constexpr std::string_view instructions = instructions_of<Sig>.view();
};

// DSPy's _format_blob, for one item of a list observation.
inline void append_blob(std::string& out, const boost::json::value& item) {
  std::string text;
  render_value(text, item);
  if (text.find('\n') == std::string::npos && text.find("«") == std::string::npos &&
      text.find("»") == std::string::npos) {
    (out += "«") += text;
    out += "»";
    return;
  }
  out += "«««\n    ";
  for (const char c : text) {
    out += c;
    if (c == '\n') out += "    ";
  }
  out += "\n»»»";
}

// format_field_value for a `str` field (every trajectory field is one): a list becomes DSPy's
// numbered list, anything else is written as a value.
inline void append_trajectory_value(std::string& out, const boost::json::value& v) {
  if (!v.is_array()) {
    render_value(out, v);
    return;
  }
  const auto& items = v.get_array();
  if (items.empty()) out += "N/A";
  else if (items.size() == 1) append_blob(out, items[0]);
  else
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i) out += '\n';
      ((out += '[') += std::to_string(i + 1)) += "] ";
      append_blob(out, items[i]);
    }
}

template <class... Tools>
consteval bool unique_tool_names() {
  constexpr std::array<std::string_view, sizeof...(Tools)> names{Tools::name...};
  for (std::size_t i = 0; i < names.size(); ++i)
    for (std::size_t j = i + 1; j < names.size(); ++j)
      if (names[i] == names[j]) return false;
  return true;
}

}  // namespace detail

/// The trajectory as DSPy's ReAct shows it to the LM: adapter.format_user_message_content over the
/// fields thought_0, tool_name_0, tool_args_0, observation_0, thought_1, ..., each written by the
/// adapter's format_field_with_value (`[[ ## name ## ]]` blocks, `<name>` elements for the XMLAdapter). `first_index` numbers the first step: after
/// the oldest steps were dropped to fit the context window, the others keep their numbers.
template <class A>
std::string format_trajectory(const Trajectory& trajectory, const A& adapter, std::size_t first_index = 0) {
  const Adapter& format = detail::adapter_ref(adapter);
  std::string out;
  std::string value;
  const auto field = [&](std::string_view key, std::size_t i, const auto& write) {
    if (!out.empty()) out += "\n\n";
    value.clear();
    write();
    format.format_field_with_value(out, std::string(key) + std::to_string(first_index + i), value);
  };
  for (std::size_t i = 0; i < trajectory.size(); ++i) {
    const ReActStep& s = trajectory[i];
    field("thought_", i, [&] { value += s.thought; });
    field("tool_name_", i, [&] { value += s.tool_name; });
    field("tool_args_", i, [&] { detail::dump_py_json(value, s.tool_args); });
    field("observation_", i, [&] { detail::append_trajectory_value(value, s.observation); });
  }
  return detail::strip_in_place(std::move(out));
}

/// DSPy's ReAct. `react` decides the next tool from the inputs and the trajectory so far; each tool
/// call's result (or error) is appended as an observation; after `finish` or `max_iters` turns,
/// `extract` (ChainOfThought over the inputs and trajectory) produces Sig's outputs. The result has
/// `reasoning`, every output field of Sig, and `trajectory`; its usage and latency cover every LM
/// call of the run. Tools are called on the thread that runs the agent, one at a time per run.
template <Signature Sig, class... Tools>
class ReAct {
  static_assert((detail::is_tool_v<Tools> && ...),
                "dspy::ReAct: every tool must be a dspy::TypedTool; make one with dspy::tool<\"name\">(fn, \"description\").");
  static_assert(detail::unique_tool_names<Tools...>(),
                "dspy::ReAct: two tools have the same name; the LM picks tools by name, so give each its own.");
  static_assert(((Tools::name != "finish") && ...),
                "dspy::ReAct: `finish` is ReAct's own tool (it ends the episode); give your tool another name.");

 public:
  /// The LM's choice of tool: dspy::Literal<tool names..., "finish">.
  using ToolName = Literal<Tools::fixed_name..., "finish">;
  using ReactSignature = detail::ReActSignature<Sig, ToolName>;
  using ExtractSignature = detail::ReActExtractSignature<Sig>;
  using Input = typename Sig::Input;
  /// `reasoning`, every output field of Sig, and `trajectory`.
  using Output = Extended<typename ChainOfThought<ExtractSignature>::Output, ReActTrajectory>;
  using result_type = Result<Predicted<Output>>;

  Predict<ReactSignature> react;
  ChainOfThought<ExtractSignature> extract;
  /// The most tool calls in one run (DSPy's default, 20).
  std::size_t max_iters = 20;

  /// Default tools (without functions); keeps modules holding a ReAct default-constructible.
  ReAct()
    requires(sizeof...(Tools) > 0)
      : ReAct(Tools{}...) {}
  explicit ReAct(Tools... tools, std::size_t max_iterations = 20)
      : react(instructions_for(tools...)), max_iters(max_iterations), tools_(std::move(tools)...) {}

  [[nodiscard]] const std::tuple<Tools...>& tools() const noexcept { return tools_; }

  /// The react predictor's first prompt for an input (empty trajectory), without calling an LM.
  [[nodiscard]] std::vector<Message> format(const Input& input) const {
    return react.format(StepInput{input, {std::string()}});
  }

  asio::awaitable<result_type> forward(Input input) const {
    // The trajectory is written by the adapter in use, as DSPy's settings.adapter.
    const AdapterHandle adapter = detail::resolve_adapter(react.adapter, *current_settings());
    Trajectory trajectory;
    std::size_t dropped = 0;  // steps removed to fit the context window
    Usage usage;
    std::chrono::nanoseconds latency{};
    for (std::size_t i = 0; i < max_iters; ++i) {
      auto deciding = call_with_trajectory(&react, input, &trajectory, &dropped, adapter);
      auto decided = co_await std::move(deciding);
      if (!decided) {
        // DSPy ends the trajectory when the context window overflows; other errors end the run.
        if (decided.error().code() == Errc::context_window) break;
        co_return std::move(decided).error();
      }
      Predicted<typename ReactSignature::Output>& prediction = decided.value();
      usage += prediction.usage();
      latency += prediction.latency();
      auto& decision = prediction.value();
      const std::size_t tool_index = decision.next_tool_name.index();
      trajectory.push_back({std::move(decision.next_thought), std::string(decision.next_tool_name.value()),
                            std::move(decision.next_tool_args), nullptr});
      auto calling = call_tool(tool_index, trajectory.back().tool_args);
      ToolOutcome outcome = co_await std::move(calling);
      ReActStep& step = trajectory.back();
      step.observation = outcome.error ? boost::json::value("Execution error in " + step.tool_name + ": " + *outcome.error)
                                       : std::move(outcome.value);
      if (tool_index == sizeof...(Tools)) break;
    }
    auto extracting = call_with_trajectory(&extract, input, &trajectory, &dropped, adapter);
    auto extracted = co_await std::move(extracting);
    if (!extracted) co_return std::move(extracted).error();
    const auto& final_prediction = extracted.value();
    usage += final_prediction.usage();
    latency += final_prediction.latency();
    std::vector<Output> outputs;
    outputs.reserve(final_prediction.completions().size());
    for (const auto& completion : final_prediction.completions()) outputs.push_back(Output{completion, {trajectory}});
    const auto raw = final_prediction.raw_completions();
    co_return Predicted<Output>(std::move(outputs), std::vector<std::string>(raw.begin(), raw.end()),
                                LMResponse{.completions = {}, .usage = usage, .model = final_prediction.model(), .cache_hit = final_prediction.cache_hit()},
                                latency, final_prediction.parse_notes(), final_prediction.adapter());
  }

  /// Runs the agent and waits.
  result_type operator()(const Input& input) const { return dspy::call(*this, input); }

  BOOST_DESCRIBE_CLASS(ReAct, (), (react, extract), (), ())

 private:
  using StepInput = typename ReactSignature::Input;

  static TypedTool<"finish"> make_finish() {
    return TypedTool<"finish">([] { return "Completed."; },
                          "Marks the task as complete. That is, signals that all information for producing the "
                          "outputs, i.e. " +
                              detail::join_names(signature_meta<Sig>().outputs) +
                              ", are now available to be extracted.");
  }

  // DSPy's ReAct instructions, joined by newlines.
  static std::string instructions_for(const Tools&... tools) {
    const SignatureMeta& meta = signature_meta<Sig>();
    std::string out;
    if (!meta.default_instructions.empty()) out += meta.default_instructions + "\n\n";
    out += "You are an Agent. In each episode, you will be given the fields " + detail::join_names(meta.inputs) +
           " as input. And you can see your past trajectory so far.\n";
    out += "Your goal is to use one or more of the supplied tools to collect any necessary information for "
           "producing " +
           detail::join_names(meta.outputs) + ".\n\n";
    out += "To do this, you will interleave next_thought, next_tool_name, and next_tool_args in each turn, and also "
           "when finishing the task.\n";
    out += "After each tool call, you receive a resulting observation, which gets appended to your trajectory.\n\n";
    out += "When writing next_thought, you may reason about the current situation and plan for future steps.\n";
    out += "When selecting the next_tool_name and its next_tool_args, the tool must be one of:\n\n";
    std::size_t n = 0;
    const auto line = [&](const std::string& tool) { out += "(" + std::to_string(++n) + ") " + tool + "\n"; };
    (line(tools.format()), ...);
    line(make_finish().format());
    out += "When providing `next_tool_args`, the value inside the field must be in JSON format";
    return out;
  }

  // Not a coroutine: returns the chosen tool's awaitable (index sizeof...(Tools) is `finish`).
  asio::awaitable<ToolOutcome> call_tool(std::size_t index, boost::json::object args) const {
    if (index == sizeof...(Tools)) return finish_.acall(std::move(args));
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
      std::optional<asio::awaitable<ToolOutcome>> call;
      ((I == index ? (void)call.emplace(std::get<I>(tools_).acall(std::move(args))) : void()), ...);
      return std::move(*call);
    }(std::index_sequence_for<Tools...>{});
  }

  // DSPy's _call_with_potential_trajectory_truncation: on a context-window error, drop the oldest
  // step and retry, three attempts in all. The truncation is kept for the rest of the run.
  template <class P>
  asio::awaitable<module_result_t<P>> call_with_trajectory(const P* predictor, Input input, Trajectory* trajectory,
                                                          std::size_t* dropped, AdapterHandle adapter) const {
    for (int attempt = 0; attempt < 3; ++attempt) {
      auto pending = dspy::acall(*predictor, StepInput{input, {format_trajectory(*trajectory, adapter, *dropped)}});
      auto result = co_await std::move(pending);
      if (result || result.error().code() != Errc::context_window) co_return std::move(result);
      if (trajectory->size() <= 1)
        co_return Error(Errc::context_window,
                        "The trajectory is too long so your prompt exceeded the context window, but the trajectory "
                        "cannot be truncated because it only has one tool call.");
      trajectory->erase(trajectory->begin());
      ++*dropped;
    }
    co_return Error(Errc::context_window,
                    "The context window was exceeded even after 3 attempts to truncate the trajectory.");
  }

  std::tuple<Tools...> tools_;
  TypedTool<"finish"> finish_ = make_finish();
};

/// A ReAct agent over the given tools: `auto agent = dspy::react<QA>(search, add);`.
template <Signature Sig, class... Tools>
ReAct<Sig, Tools...> react(Tools... tools) {
  return ReAct<Sig, Tools...>(std::move(tools)...);
}

}  // namespace dspy
