// dspy::ReActV2<Sig>, DSPy 3.3.1's ReActV2 (predict/react_v2.py): an agent that calls tools natively
// (or, without native function calling, as JSON in its reply), keeps its trajectory as a
// dspy::History of turns with their tool calls and results, and ends when it calls `submit` with
// Sig's outputs (or, after max_iters steps, an empty reply or a parse failure, with one forced
// `submit`).
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

#include "../adapters/types/history.hpp"
#include "../adapters/types/reasoning.hpp"
#include "../adapters/types/tool.hpp"
#include "../primitives/error.hpp"
#include "../primitives/prediction.hpp"
#include "../signatures/signature.hpp"
#include "module_call.hpp"
#include "predict.hpp"
#include "react.hpp"

namespace dspy {

/// What ReActV2 adds to Sig's outputs: the trajectory, and why the run ended ("submit",
/// "forced_submit", or, when no outputs came, "max_iters", "empty_tool_calls", "parse_error",
/// "context_window_exceeded").
struct ReActV2Run {
  History history;
  std::string termination_reason;
};

namespace detail {

/// One of Sig's inputs in ReActV2's step signature (DSPy: `T | None`): given on the first step
/// only, and left out of later steps' prompts.
template <class T>
struct StepInput {
  using value_type = T;
  std::optional<T> value;

  static constexpr std::string_view type_name = "UnionType";  // printed `UnionType[T, NoneType]`
  static constexpr bool omittable = true;

  [[nodiscard]] bool has_value() const noexcept { return value.has_value(); }
  [[nodiscard]] std::string format() const {
    std::string out;
    if (value) render_value(out, *value);
    return out;
  }
  [[nodiscard]] boost::json::value to_json() const { return value ? dspy::to_json(*value) : nullptr; }
  static std::optional<std::string> from_json(const boost::json::value& v, StepInput& out) {
    if (v.is_null()) {
      out.value.reset();
      return std::nullopt;
    }
    T inner{};
    if (auto err = dspy::from_json(v, inner)) return err;
    out.value = std::move(inner);
    return std::nullopt;
  }
  friend bool operator==(const StepInput&, const StepInput&) = default;
};

template <class In, class Seq = std::make_index_sequence<field_count<In>>>
struct StepInputsOf;
template <class In, std::size_t... I>
struct StepInputsOf<In, std::index_sequence<I...>> {
  using type = std::tuple<StepInput<field_type<I, In>>...>;
};

/// Sig's inputs, each a StepInput, under their own names.
template <class In>
struct StepInputs {
  typename StepInputsOf<In>::type values;
};

struct ReActV2Extra {
  History history;
  std::vector<Tool> tools;
};

struct ReActV2Step {
  Reasoning next_thought;
  ToolCalls tool_calls;
};

/// Sig's inputs (each optional), history, tools -> next_thought, tool_calls. Its instructions are
/// built from the tools at run time and given to the Predict.
template <class Sig>
struct ReActV2Signature : InputDocsOf<Sig> {
  using Input = Extended<StepInputs<typename Sig::Input>, ReActV2Extra>;
  using Output = ReActV2Step;
};

}  // namespace detail

template <class In>
struct FieldsOf<detail::StepInputs<In>> {
  static constexpr std::size_t count = field_count<In>;
  static constexpr const auto& names = field_names<In>;
  template <std::size_t I>
  using type = detail::StepInput<field_type<I, In>>;
  template <std::size_t I, class S>
  static constexpr auto& get(S& s) noexcept {
    return std::get<I>(s.values);
  }
};

/// DSPy's ReActV2 over typed tools: `dspy::ReActV2<QA> agent({search, add});` (each a dspy::Tool,
/// e.g. `dspy::tool<"search">(fn, "Looks up a fact.")`). With an adapter whose
/// use_native_function_calling is on and an LM that calls functions, the tools go to the provider
/// as `tools` and every step may call several at once; otherwise they are written into the prompt
/// and the calls read from the reply. A tool that throws, fails or gets bad arguments gives its
/// error as the call's result (is_error), never ends the run. The result holds Sig's outputs (from
/// `submit`), the History and the termination reason; when no `submit` came, the outputs are
/// default values and the reason says why.
template <Signature Sig>
class ReActV2 {
 public:
  using StepSignature = detail::ReActV2Signature<Sig>;
  using Input = typename Sig::Input;
  using Output = Extended<typename Sig::Output, ReActV2Run>;
  using result_type = Result<Predicted<Output>>;

  Predict<StepSignature> react;
  /// The most steps before the forced `submit` (DSPy's default, 20).
  std::size_t max_iters = 20;

  ReActV2() : ReActV2(std::vector<Tool>{}) {}
  explicit ReActV2(std::vector<Tool> tools, std::size_t max_iterations = 20)
      : max_iters(max_iterations), tools_(std::move(tools)) {
    tools_.push_back(make_submit());
    react.set_instructions(instructions_for(tools_));
  }

  /// The user's tools, then `submit`.
  [[nodiscard]] const std::vector<Tool>& tools() const noexcept { return tools_; }

  asio::awaitable<result_type> forward(Input input) const {
    for (std::size_t i = 0; i + 1 < tools_.size(); ++i)
      if (tools_[i].name == "submit")
        co_return Error(Errc::config, "`submit` is reserved by ReActV2 as the final-output tool.");
    History history;
    bool first = true;
    Usage usage;
    std::chrono::nanoseconds latency{};
    std::string reason = "max_iters";
    for (std::size_t turn = 0; turn < max_iters; ++turn) {
      auto stepping = react.acall(step_input(input, first, history), {});
      auto step = co_await std::move(stepping);
      if (!step) {
        if (is_parse_error(step.error().code())) reason = "parse_error";
        else if (step.error().code() == Errc::context_window) reason = "context_window_exceeded";
        else co_return std::move(step).error();
        break;
      }
      usage += step.value().usage();
      latency += step.value().latency();
      ToolCalls calls = std::move(step.value().value().tool_calls);
      if (calls.tool_calls.empty()) {
        reason = "empty_tool_calls";
        break;
      }
      ensure_ids(calls, turn);
      auto running = run_calls(std::move(calls), &tools_);
      auto [done, outputs] = co_await std::move(running);
      record(history, input, first, step.value().value().next_thought, std::move(done), outputs);
      first = false;
      if (outputs) co_return finish(std::move(*outputs), std::move(history), "submit", usage, latency, step.value());
    }
    // One more call that must submit, with native reasoning off.
    CallConfig forced;
    forced.extra["tool_choice"] = boost::json::object{{"type", "function"}, {"function", {{"name", "submit"}}}};
    forced.extra["reasoning_effort"] = nullptr;
    auto forcing = react.acall(step_input(input, first, history), forced);
    auto step = co_await std::move(forcing);
    if (!step) co_return ended(std::move(history), reason, usage, latency);
    usage += step.value().usage();
    latency += step.value().latency();
    ToolCalls submits;
    for (auto& c : step.value().value().tool_calls.tool_calls)
      if (c.name == "submit") submits.tool_calls.push_back(std::move(c));
    if (submits.tool_calls.empty()) co_return ended(std::move(history), reason, usage, latency);
    ensure_ids(submits, max_iters);
    auto running = run_calls(std::move(submits), &tools_);
    auto [done, outputs] = co_await std::move(running);
    record(history, input, first, step.value().value().next_thought, std::move(done), outputs);
    if (outputs) co_return finish(std::move(*outputs), std::move(history), "forced_submit", usage, latency, step.value());
    co_return ended(std::move(history), reason, usage, latency);
  }

  /// Runs the agent and waits.
  result_type operator()(const Input& input) const { return dspy::call(*this, input); }

  BOOST_DESCRIBE_CLASS(ReActV2, (), (react), (), ())

 private:
  using StepIn = typename StepSignature::Input;
  using Out = typename Sig::Output;

  // The calls with their results, and Sig's outputs when `submit` gave them.
  struct Ran {
    ToolCalls calls;
    std::optional<Out> outputs;
  };

  StepIn step_input(const Input& input, bool first, const History& history) const {
    StepIn in{};
    if (first)
      [&]<std::size_t... I>(std::index_sequence<I...>) {
        ((std::get<I>(in.values).value = get_field<I>(input)), ...);
      }(std::make_index_sequence<field_count<Input>>{});
    in.history = history;
    in.tools = tools_;
    return in;
  }

  // DSPy's _ensure_tool_call_ids: calls without an id get `call_<turn>_<index>`.
  static void ensure_ids(ToolCalls& calls, std::size_t turn) {
    for (std::size_t i = 0; i < calls.tool_calls.size(); ++i)
      if (!calls.tool_calls[i].id) calls.tool_calls[i].id = "call_" + std::to_string(turn) + "_" + std::to_string(i);
  }

  // Runs each call in order; a `submit` whose arguments are Sig's outputs ends the run.
  static asio::awaitable<std::pair<ToolCalls, std::optional<Out>>> run_calls(ToolCalls calls,
                                                                           const std::vector<Tool>* tools) {
    auto executing = calls.aexecute(*tools);
    ToolCallResults results = co_await std::move(executing);
    std::optional<Out> outputs;
    for (const auto& r : results.tool_call_results) {
      if (r.name != "submit" || r.is_error || !r.value.is_object()) continue;
      Out out{};
      if (!from_json(r.value, out)) outputs = std::move(out);
    }
    calls.tool_call_results = std::move(results);
    co_return std::pair{std::move(calls), std::move(outputs)};
  }

  // DSPy's _history_event: the step's inputs (first step only), its thought, its calls with their
  // results, and the outputs when it submitted.
  static void record(History& history, const Input& input, bool first, const Reasoning& thought, ToolCalls calls,
                     const std::optional<Out>& outputs) {
    boost::json::object turn;
    if (first)
      [&]<std::size_t... I>(std::index_sequence<I...>) {
        ((turn[field_names<Input>[I]] = to_json(get_field<I>(input))), ...);
      }(std::make_index_sequence<field_count<Input>>{});
    turn["next_thought"] = thought.content;
    turn["tool_calls"] = calls.to_json();
    if (outputs) {
      const boost::json::value values = to_json(*outputs);
      for (const auto& kv : values.as_object()) turn[kv.key()] = kv.value();
    }
    history.messages.push_back(std::move(turn));
  }

  template <class P>
  static result_type finish(Out outputs, History history, std::string reason, Usage usage,
                            std::chrono::nanoseconds latency, const P& last) {
    std::vector<Output> out;
    out.push_back(Output{std::move(outputs), {std::move(history), std::move(reason)}});
    const auto raw = last.raw_completions();
    return Predicted<Output>(std::move(out), std::vector<std::string>(raw.begin(), raw.end()),
                             LMResponse{.usage = usage, .model = last.model(), .cache_hit = last.cache_hit()}, latency,
                             last.parse_notes(), last.adapter());
  }

  static result_type ended(History history, std::string reason, Usage usage, std::chrono::nanoseconds latency) {
    std::vector<Output> out;
    out.push_back(Output{Out{}, {std::move(history), std::move(reason)}});
    return Predicted<Output>(std::move(out), {}, LMResponse{.usage = usage}, latency, {}, {});
  }

  // DSPy's _make_submit_tool: one argument per output, with its type's schema, all required.
  static Tool make_submit() {
    boost::json::object args;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      ((args[field_names<Out>[I]] = detail::pydantic_key_order(json_schema<field_type<I, Out>>())), ...);
    }(std::make_index_sequence<field_count<Out>>{});
    return Tool("submit", "Submit the final outputs for the task.", std::move(args), &submit);
  }

  static asio::awaitable<ToolOutcome> submit(boost::json::object args) {
    std::string missing;
    for (std::string_view name : field_names<Out>)
      if (!args.contains(name)) missing += (missing.empty() ? "" : ", ") + std::string(name);
    if (!missing.empty()) co_return ToolOutcome{nullptr, "Missing required final output field(s): " + missing};
    boost::json::object outputs;
    for (std::string_view name : field_names<Out>) outputs[name] = args.at(name);
    Out typed{};
    if (auto err = from_json(boost::json::value(outputs), typed)) co_return ToolOutcome{nullptr, *err};
    co_return ToolOutcome{std::move(outputs), std::nullopt};
  }

  // DSPy's ReActV2 instructions: Sig's, then the agent's lines, joined by newlines and stripped.
  static std::string instructions_for(const std::vector<Tool>& tools) {
    const auto names = [](const auto& list) {
      std::string out;
      for (const auto& n : list) out += (out.empty() ? "`" : ", `") + std::string(n) + "`";
      return out;
    };
    std::vector<std::string_view> tool_names;
    for (const auto& t : tools) tool_names.push_back(t.name);
    const std::string outputs = names(field_names<Out>);
    std::string out = signature_meta<Sig>().default_instructions + "\nYou are an Agent. Use the supplied tools to produce " +
                      outputs + " from " + names(field_names<Input>) + ".\nCall tools when more information is needed.\n" +
                      "When the final answer is ready, call `submit` with " + outputs + ".\nThe available tools are: " +
                      names(tool_names) + ".";
    return std::string(detail::trim(out));
  }

  std::vector<Tool> tools_;
};

}  // namespace dspy
