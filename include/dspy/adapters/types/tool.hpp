// DSPy's tool types (adapters/types/tool.py): dspy::Tool (a function an LM may call: name,
// description, the JSON schema of its arguments, and the callable), dspy::ToolCalls (the calls an
// LM asked for, as an output) and dspy::ToolCallResults. A tool is made from a C++ callable whose
// one parameter is an aggregate struct of its arguments: the schema is derived from that struct
// at compile time (dspy::tool<"name">(fn, desc) gives a TypedTool, which converts to a Tool).
#pragma once

#include <algorithm>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/error.hpp>
#include <boost/json.hpp>
#include <boost/system/system_error.hpp>

#include "../../detail/config.hpp"
#include "../../detail/text/pytext.hpp"
#include "../../primitives/error.hpp"
#include "../../primitives/literal.hpp"
#include "../../signatures/field_types.hpp"
#include "../../signatures/signature.hpp"

namespace dspy {

/// The arguments of a tool that takes none.
struct NoArgs {};

/// What a tool call produced: its return value as JSON, or what went wrong (arguments that do not
/// convert, an exception, a typed error) as the text the agent will see.
struct ToolOutcome {
  boost::json::value value;
  std::optional<std::string> error;
};

namespace detail {

// ---- DSPy's printed form of a tool ----------------------------------------------------------------

// DSPy's _resolve_json_schema_reference: every "$ref" replaced by its definition, "$defs" dropped.
inline boost::json::value inline_refs(const boost::json::value& v, const boost::json::object& defs) {
  if (v.is_array()) {
    boost::json::array out;
    for (const auto& e : v.get_array()) out.push_back(inline_refs(e, defs));
    return out;
  }
  if (!v.is_object()) return v;
  const auto& o = v.get_object();
  if (const auto* ref = o.if_contains("$ref"); ref && ref->is_string()) {
    const std::string_view path = ref->get_string();
    if (const auto* def = defs.if_contains(path.substr(path.rfind('/') + 1))) return inline_refs(*def, defs);
  }
  boost::json::object out;
  for (const auto& kv : o)
    if (kv.key() != "$defs") out[kv.key()] = inline_refs(kv.value(), defs);
  return out;
}

// pydantic's key order: sorted, except that a `properties` object keeps the fields' order.
inline boost::json::value pydantic_key_order(const boost::json::value& v, bool field_map = false) {
  if (v.is_array()) {
    boost::json::array out;
    for (const auto& e : v.get_array()) out.push_back(pydantic_key_order(e));
    return out;
  }
  if (!v.is_object()) return v;
  std::vector<const boost::json::key_value_pair*> items;
  for (const auto& kv : v.get_object()) items.push_back(&kv);
  if (!field_map)
    std::stable_sort(items.begin(), items.end(), [](auto* a, auto* b) { return a->key() < b->key(); });
  boost::json::object out;
  for (const auto* kv : items)
    out[kv->key()] = pydantic_key_order(kv->value(), !field_map && kv->key() == "properties");
  return out;
}

/// DSPy's Tool.args for a function whose parameters are Args' fields: each parameter's pydantic
/// schema with references inlined, `default: None` for optional ones, `default: <its initializer>`
/// for those `Args::defaults` names (C++ cannot see a member's initializer otherwise), and the
/// field's doc (from `Args::docs`) as its description.
template <class Args>
concept HasArgDefaults = requires { Args::defaults; };

template <class Args>
constexpr bool has_arg_default(std::string_view name) {
  if constexpr (HasArgDefaults<Args>) {
    for (std::string_view d : Args::defaults)
      if (d == name) return true;
  }
  return false;
}

// Every name in Args::defaults is one of its fields.
template <class Args>
consteval bool arg_defaults_name_fields() {
  if constexpr (HasArgDefaults<Args>) {
    for (std::string_view d : Args::defaults)
      if (!has_name<Args>(d)) return false;
  }
  return true;
}

template <class Args>
boost::json::object tool_args_schema() {
  [[maybe_unused]] const Args defaults{};  // the values of the arguments Args::defaults names
  boost::json::object out;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (
        [&] {
          using F = field_type<I, Args>;
          boost::json::object schema = json_schema<F>();
          boost::json::object defs;
          if (auto* d = schema.if_contains("$defs")) defs = d->get_object();
          boost::json::value arg = pydantic_key_order(inline_refs(schema, defs));
          if constexpr (Optional<F>) arg.get_object()["default"] = nullptr;
          if constexpr (HasArgDefaults<Args>) {
            if (has_arg_default<Args>(field_names<Args>[I]))
              arg.get_object()["default"] = dspy::to_json(get_field<I>(defaults));
          }
          if (const std::string_view doc = doc_for<Args>(field_names<Args>[I]); !doc.empty())
            arg.get_object()["description"] = doc;
          out[field_names<Args>[I]] = std::move(arg);
        }(),
        ...);
  }(std::make_index_sequence<field_count<Args>>{});
  return out;
}

/// str(tool) in DSPy: `search, whose description is <desc>...</desc>. It takes arguments {...}.`
/// (newlines up to the description's end become two spaces).
inline std::string tool_text(std::string_view name, std::string_view desc, const boost::json::object& args) {
  std::string out(name);
  if (desc.empty()) {
    out += '.';
  } else {
    std::string d = ", whose description is <desc>" + std::string(desc) + "</desc>.";
    for (std::size_t at = d.find('\n'); at != std::string::npos; at = d.find('\n', at + 2)) d.replace(at, 1, "  ");
    out += d;
  }
  out += " It takes arguments ";
  append_py_literal(out, args);
  out += '.';
  return out;
}

// ---- what a callable takes and returns ------------------------------------------------------------

template <class R, class... A>
struct fn_signature {
  static constexpr bool known = true;
  static constexpr std::size_t arity = sizeof...(A);
  using result = R;
  using params = std::tuple<A...>;
};

template <class F>
concept HasCallOperator = std::is_class_v<F> && requires { &F::operator(); };

template <class F>
struct signature_of {
  static constexpr bool known = false;
};
template <class R, class... A>
struct signature_of<R(A...)> : fn_signature<R, A...> {};
template <class R, class... A>
struct signature_of<R(A...) noexcept> : fn_signature<R, A...> {};
template <class R, class... A>
struct signature_of<R (*)(A...)> : fn_signature<R, A...> {};
template <class R, class... A>
struct signature_of<R (*)(A...) noexcept> : fn_signature<R, A...> {};
template <class R, class C, class... A>
struct signature_of<R (C::*)(A...)> : fn_signature<R, A...> {};
template <class R, class C, class... A>
struct signature_of<R (C::*)(A...) const> : fn_signature<R, A...> {};
template <class R, class C, class... A>
struct signature_of<R (C::*)(A...) noexcept> : fn_signature<R, A...> {};
template <class R, class C, class... A>
struct signature_of<R (C::*)(A...) const noexcept> : fn_signature<R, A...> {};
template <class F>
  requires HasCallOperator<F>
struct signature_of<F> : signature_of<decltype(&F::operator())> {};

// The argument struct a callable takes: NoArgs for none, void when it cannot be seen.
template <class F, class S = signature_of<F>>
struct deduced_args {
  using type = void;
};
template <class F, class S>
  requires(S::known && S::arity == 0)
struct deduced_args<F, S> {
  using type = NoArgs;
};
template <class F, class S>
  requires(S::known && S::arity == 1)
struct deduced_args<F, S> {
  using type = std::remove_cvref_t<std::tuple_element_t<0, typename S::params>>;
};

template <class T>
inline constexpr bool is_awaitable_v = false;
template <class T, class E>
inline constexpr bool is_awaitable_v<boost::asio::awaitable<T, E>> = true;

template <class T>
struct awaited {
  using type = T;
};
template <class T, class E>
struct awaited<boost::asio::awaitable<T, E>> {
  using type = T;
};

template <class T>
inline constexpr bool is_result_v = false;
template <class T>
inline constexpr bool is_result_v<Result<T>> = true;

template <class T>
consteval bool is_tool_value() {
  if constexpr (std::is_void_v<T> || std::is_convertible_v<const T&, std::string_view>) return true;
  else return FieldType<T>;
}

// What a tool body may return: a field type (or text), void, dspy::Result of these, and an
// boost::asio::awaitable of any of those.
template <class R>
consteval bool is_tool_result() {
  using T = typename awaited<R>::type;
  if constexpr (is_result_v<T>) return is_tool_value<typename T::value_type>();
  else return is_tool_value<T>();
}

template <class T>
ToolOutcome outcome_of(T&& value) {
  using V = std::remove_cvref_t<T>;
  if constexpr (is_result_v<V>) {
    if (!value) return {nullptr, value.error().message()};
    if constexpr (std::is_void_v<typename V::value_type>) return {nullptr, std::nullopt};
    else return outcome_of(std::move(value).value());
  } else if constexpr (std::is_convertible_v<const V&, std::string_view>) {
    return {boost::json::string(std::string_view(value)), std::nullopt};
  } else {
    return {dspy::to_json(value), std::nullopt};
  }
}

template <class Args, class F>
decltype(auto) invoke_body(F& fn, Args&& args) {
  if constexpr (std::is_same_v<Args, NoArgs> && std::is_invocable_v<F&>) return fn();
  else return fn(std::move(args));
}

template <class Args, class F>
using body_result_t = decltype(invoke_body<Args>(std::declval<F&>(), std::declval<Args&&>()));

// Runs a body and turns what it returns or throws into an outcome. A cancellation is not the
// tool's failure: it propagates, ending the agent's run.
template <class Args, class F>
boost::asio::awaitable<ToolOutcome> run_body(F* fn, Args args) {
  using R = body_result_t<Args, F>;
  std::string failure;
  try {
    if constexpr (is_awaitable_v<R>) {
      auto pending = invoke_body<Args>(*fn, std::move(args));  // not inside co_await: GCC 12 bug 100611
      if constexpr (std::is_void_v<typename awaited<R>::type>) {
        co_await std::move(pending);
        co_return ToolOutcome{nullptr, std::nullopt};
      } else {
        auto value = co_await std::move(pending);
        co_return outcome_of(std::move(value));
      }
    } else if constexpr (std::is_void_v<R>) {
      invoke_body<Args>(*fn, std::move(args));
      co_return ToolOutcome{nullptr, std::nullopt};
    } else {
      auto value = invoke_body<Args>(*fn, std::move(args));
      co_return outcome_of(std::move(value));
    }
  } catch (const boost::system::system_error& e) {
    if (e.code() == boost::asio::error::operation_aborted) throw;
    failure = e.what();
  } catch (const std::exception& e) {
    failure = e.what();
  } catch (...) {
    failure = "unknown exception";
  }
  co_return ToolOutcome{nullptr, std::move(failure)};
}

template <class Args>
consteval bool tool_docs_name_fields() {
  if constexpr (HasDocs<Args>) {
    for (const auto& d : Args::docs.items)
      if (!has_name<Args>(d.name)) return false;
  }
  return true;
}

template <class T>
inline constexpr bool is_tool_v = false;

}  // namespace detail

/// A tool an agent can call: `Name` is what the LM writes in `next_tool_name`; the body takes one
/// aggregate struct `Args` (or nothing) and returns a value (text, a field type, void, or a
/// dspy::Result of one), or an boost::asio::awaitable of that. The LM's JSON arguments are converted into
/// `Args` with dspy::from_json; optional fields may be left out. Field docs come from
/// `static constexpr auto docs = dspy::docs({...})` in `Args`, as for signatures.
///
///   struct SearchArgs { std::string query; };
///   auto search = dspy::tool<"search">([](SearchArgs a) { return lookup(a.query); }, "Looks up a fact.");
template <FixedString Name, class Args = NoArgs>
class TypedTool {
  static_assert(detail::Struct<Args>,
                "dspy::TypedTool: the tool's argument must be an aggregate struct of its arguments, e.g. struct SearchArgs "
                "{ std::string query; }; a tool that needs none takes no argument at all.");
  static_assert(!detail::Struct<Args> || FieldType<Args>,
                "dspy::TypedTool: a field of the tool's argument struct has a type dspy cannot read from JSON; use the "
                "field types of signatures (std::string, numbers, bool, enums, vectors, maps, optionals, structs).");
  static_assert(detail::tool_docs_name_fields<Args>(),
                "dspy::TypedTool: Args::docs describes a field that is not in the argument struct.");
  static_assert(detail::arg_defaults_name_fields<Args>(),
                "dspy::TypedTool: Args::defaults names a field that is not in the argument struct; list the "
                "names of the arguments whose initializer is their default, e.g. static constexpr "
                "std::string_view defaults[] = {\"unit\"};");

 public:
  static constexpr FixedString fixed_name = Name;
  static constexpr std::string_view name = Name.view();
  using args_type = Args;

  /// A tool without a function: calling it reports that. (Default construction keeps modules that
  /// hold tools default-constructible, which Boost.PFR needs to reflect them cheaply.)
  TypedTool() = default;

  /// `fn` takes an Args (any cv/ref form) or, for NoArgs, nothing.
  template <class F>
    requires(std::is_invocable_v<F&, Args&&> || (std::is_same_v<Args, NoArgs> && std::is_invocable_v<F&>))
  explicit TypedTool(F fn, std::string desc = {}) : desc_(std::move(desc)) {
    static_assert(detail::is_tool_result<detail::body_result_t<Args, F>>(),
                  "dspy::TypedTool: the tool must return text, a field type (numbers, bool, structs, vectors, ...), void, "
                  "dspy::Result<one of these>, or boost::asio::awaitable<one of these>.");
    body_ = [fn = std::move(fn)](Args args) mutable { return detail::run_body<Args>(&fn, std::move(args)); };
  }

  /// The description shown to the LM (DSPy's `desc`).
  [[nodiscard]] const std::string& desc() const noexcept { return desc_; }

  /// DSPy's `Tool.args`: argument name -> JSON schema.
  [[nodiscard]] static const boost::json::object& args() {
    static const boost::json::object schema = detail::tool_args_schema<Args>();
    return schema;
  }

  /// str(tool) in DSPy: `search, whose description is <desc>...</desc>. It takes arguments {...}.`
  [[nodiscard]] std::string format() const { return detail::tool_text(name, desc_, args()); }

  /// Calls the tool with the LM's arguments. A key that is not an argument, arguments that do not
  /// convert, an exception or a typed error come back as the outcome's error. The tool must
  /// outlive the returned awaitable.
  boost::asio::awaitable<ToolOutcome> acall(boost::json::object args) const {
    for (const auto& kv : args) {
      if (std::find(field_names<Args>.begin(), field_names<Args>.end(), std::string_view(kv.key())) ==
          field_names<Args>.end())
        co_return ToolOutcome{nullptr, "Arg " + std::string(kv.key()) + " is not in the tool's args."};
    }
    if (!body_) co_return ToolOutcome{nullptr, "the tool `" + std::string(name) + "` has no function"};
    // An argument with a default may be left out, as in a Python call: it takes its initializer.
    if constexpr (detail::HasArgDefaults<Args>) {
      const boost::json::value initial = dspy::to_json(Args{});
      for (std::string_view d : Args::defaults)
        if (!args.contains(d)) args[d] = initial.at(d);
    }
    Args parsed{};
    if (auto err = from_json(boost::json::value(std::move(args)), parsed)) co_return ToolOutcome{nullptr, *err};
    auto pending = body_(std::move(parsed));  // not inside co_await: GCC 12 bug 100611
    co_return co_await std::move(pending);
  }

 private:
  std::string desc_;
  std::function<boost::asio::awaitable<ToolOutcome>(Args)> body_;
};

/// A tool whose argument struct is read from the callable's parameter:
/// `dspy::tool<"search">([](SearchArgs a) { ... }, "Looks up a fact.")`.
template <FixedString Name, class F>
auto tool(F fn, std::string desc = {}) {
  using Args = typename detail::deduced_args<F>::type;
  static_assert(!std::is_void_v<Args>,
                "dspy::tool: cannot see the callable's parameter (a generic lambda, an overloaded operator(), or "
                "more than one parameter). Give it one parameter, an aggregate struct of the arguments, or name "
                "the struct: dspy::TypedTool<\"name\", Args>(fn, desc).");
  if constexpr (!std::is_void_v<Args>) return TypedTool<Name, Args>(std::move(fn), std::move(desc));
}

namespace detail {
template <FixedString Name, class Args>
inline constexpr bool is_tool_v<TypedTool<Name, Args>> = true;
}  // namespace detail

// ---- the tool types of signatures ------------------------------------------------------------------

/// A tool an LM may call (DSPy's dspy.Tool): its name, description and arguments' JSON schema, and
/// the function. As an input field (`dspy::Tool`, `std::vector<dspy::Tool>`) it is written into the
/// prompt as DSPy writes str(tool), or, with native function calling, sent as the request's
/// `tools`. Made from a typed tool (`dspy::Tool t = dspy::tool<"search">(fn, "Looks up a fact.")`)
/// or, without a function, from a name, description and schema (a saved state's tools).
class Tool {
 public:
  static constexpr std::string_view type_name = "Tool";

  std::string name;
  std::optional<std::string> desc;
  boost::json::object args;  ///< argument name -> JSON schema

  Tool() = default;
  Tool(std::string name, std::optional<std::string> desc, boost::json::object args)
      : name(std::move(name)), desc(std::move(desc)), args(std::move(args)) {}
  /// A tool over a function of the LM's JSON arguments (the schema given as is).
  Tool(std::string name, std::optional<std::string> desc, boost::json::object args,
       std::function<boost::asio::awaitable<ToolOutcome>(boost::json::object)> fn)
      : name(std::move(name)), desc(std::move(desc)), args(std::move(args)), call_(std::move(fn)) {}
  template <FixedString N, class A>
  Tool(TypedTool<N, A> typed)  // NOLINT: a typed tool is a tool
      : name(N.view()),
        desc(typed.desc().empty() ? std::nullopt : std::optional<std::string>(typed.desc())),
        args(TypedTool<N, A>::args()),
        call_([t = std::make_shared<const TypedTool<N, A>>(std::move(typed))](boost::json::object a) {
          return t->acall(std::move(a));
        }) {}

  /// str(tool) in DSPy, as a Tool input is written into prompts.
  [[nodiscard]] std::string format() const { return detail::tool_text(name, desc.value_or(""), args); }

  /// DSPy's format_as_litellm_function_call, in the key order DSPy's requests have:
  /// `{"type": "function", "function": {"name", "parameters", "description"}}`; `required` lists
  /// the arguments without a default.
  [[nodiscard]] DSPY_DECL boost::json::object function_schema() const;

  /// Whether the tool has a function to run.
  [[nodiscard]] bool callable() const noexcept { return static_cast<bool>(call_); }

  /// Runs the tool with the LM's arguments; what went wrong (no function, arguments that do not
  /// convert, an exception, a typed error) is the outcome's error. The tool must outlive the
  /// returned awaitable.
  [[nodiscard]] DSPY_DECL boost::asio::awaitable<ToolOutcome> acall(boost::json::object a) const;

  /// `{"name", "desc", "args"}` (DSPy's fields); the function is not saved.
  [[nodiscard]] DSPY_DECL boost::json::value to_json() const;
  DSPY_DECL static std::optional<std::string> from_json(const boost::json::value& v, Tool& out);

  friend bool operator==(const Tool& a, const Tool& b) {
    return a.name == b.name && a.desc == b.desc && a.args == b.args;
  }

 private:
  std::function<boost::asio::awaitable<ToolOutcome>(boost::json::object)> call_;
};

/// The result of one tool call (DSPy's ToolCallResults.ToolCallResult).
struct ToolCallResult {
  std::optional<std::string> call_id;
  std::string name;
  boost::json::value value;  ///< what the tool returned, or the error's text
  bool is_error = false;
  friend bool operator==(const ToolCallResult&, const ToolCallResult&) = default;
};

/// The results of a turn's tool calls, in the calls' order (DSPy's dspy.ToolCallResults).
struct ToolCallResults {
  std::vector<ToolCallResult> tool_call_results;

  static constexpr std::string_view type_name = "ToolCallResults";

  /// As DSPy writes it into a prompt: `{"tool_call_results": [{"call_id", "name", "value", "is_error"}]}`.
  [[nodiscard]] std::string format() const { return detail::py_json(to_json()); }
  [[nodiscard]] DSPY_DECL boost::json::value to_json() const;
  /// `{"tool_call_results": [...]}`, a bare list of results, or one result `{"name", "value"}`.
  DSPY_DECL static std::optional<std::string> from_json(const boost::json::value& v, ToolCallResults& out);

  friend bool operator==(const ToolCallResults&, const ToolCallResults&) = default;
};

/// One call an LM asked for (DSPy's ToolCalls.ToolCall).
struct ToolCall {
  std::optional<std::string> id;
  std::string name;
  boost::json::object args;

  /// Runs the call with the tool of its name among `tools` (which must outlive the awaitable):
  /// the tool's value, or, with is_error set, `Unknown tool: <name>` or `Execution error in
  /// <name>: <what>` (ReActV2's wording).
  [[nodiscard]] DSPY_DECL boost::asio::awaitable<ToolCallResult> aexecute(std::span<const Tool> tools) const;

  friend bool operator==(const ToolCall&, const ToolCall&) = default;
};

/// The tool calls of an LM reply (DSPy's dspy.ToolCalls), as an output field. With native function
/// calling (an adapter's `use_native_function_calling` and an LM whose capabilities say
/// function_calling) they come from the reply's own tool calls, ids included; otherwise the LM
/// writes them as JSON. `execute(tools)` runs them.
struct ToolCalls {
  std::vector<ToolCall> tool_calls;
  /// Set once the calls ran (a History turn holds both).
  std::optional<ToolCallResults> tool_call_results;

  static constexpr std::string_view type_name = "ToolCalls";
  static constexpr std::string_view type_description =
      "Tool calls must be a JSON object with `tool_calls`, a list of calls. Each call must include `name` and "
      "`args`. Example: {\"tool_calls\": [{\"name\": \"search\", \"args\": {\"query\": \"cats\"}}]}";
  static constexpr std::string_view format_hint =
      "must be a JSON object like {\"tool_calls\": [{\"name\": \"...\", \"args\": {...}}]}";
  static constexpr bool output_only = true;  // what an LM asks for, never an input

  /// The schema DSPy shows for a ToolCalls output (ids and results left out).
  DSPY_DECL static boost::json::object json_schema();
  /// As DSPy writes the calls into a prompt: `{"tool_calls": [{"name", "args"}]}`.
  [[nodiscard]] DSPY_DECL std::string format() const;
  /// DSPy's fields, ids and results included (lossless; DSPy's model_dump leaves the ids out).
  [[nodiscard]] DSPY_DECL boost::json::value to_json() const;
  /// `{"tool_calls": [...]}`, a bare list of calls, or one call; a call is `{name, args}`,
  /// `{name, arguments}` (text or object) or OpenAI's `{"function": {...}}`.
  DSPY_DECL static std::optional<std::string> from_json(const boost::json::value& v, ToolCalls& out);
  /// The section's text as JSON (repaired when broken), then as from_json.
  DSPY_DECL static std::optional<std::string> parse(std::string_view text, ToolCalls& out);

  /// Runs every call in order (see ToolCall::aexecute); `tools` must outlive the awaitable.
  [[nodiscard]] DSPY_DECL boost::asio::awaitable<ToolCallResults> aexecute(std::span<const Tool> tools) const;
  /// The blocking form of aexecute.
  [[nodiscard]] DSPY_DECL ToolCallResults execute(std::span<const Tool> tools) const;

  friend bool operator==(const ToolCalls&, const ToolCalls&) = default;
};

}  // namespace dspy

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "tool_impl.hpp"
#endif
