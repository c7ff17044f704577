// The bodies of the tool types (tool.hpp): header-only, tool.hpp includes them; with
// DSPY_SEPARATE_COMPILATION, <dspy/src.hpp> compiles them once.
#pragma once

#include <algorithm>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/json.hpp>

#include "../../detail/sync_wait.hpp"
#include "../../detail/text/pytext.hpp"
#include "../../detail/text/tolerant.hpp"
#include "tool.hpp"

namespace dspy {

namespace detail {

inline boost::asio::awaitable<ToolOutcome> no_function(std::string name) {
  co_return ToolOutcome{nullptr, "the tool `" + name + "` has no function"};
}

inline boost::json::value optional_string(const std::optional<std::string>& s) {
  return s ? boost::json::value(boost::json::string(*s)) : boost::json::value(nullptr);
}

inline bool is_tool_call(const boost::json::object& o) {
  return (o.contains("name") && (o.contains("args") || o.contains("arguments"))) || o.contains("function");
}

// DSPy's _normalize_tool_call_dict: arguments given as text are decoded (repaired if broken);
// anything but an object is no arguments; the id from `id` or `call_id`.
inline std::optional<std::string> read_tool_call(const boost::json::value& v, ToolCall& out) {
  const auto* o = v.if_object();
  if (!o) return "Received invalid tool call value for `dspy.ToolCalls`: " + boost::json::serialize(v);
  const boost::json::object* where = o;
  if (const auto* f = o->if_contains("function")) {
    if (!f->is_object()) return "Received invalid function value for `dspy.ToolCalls`: " + boost::json::serialize(*f);
    where = &f->get_object();
  }
  const auto* name = where->if_contains("name");
  if (!name || !name->is_string()) name = o->if_contains("name");
  if (!name || !name->is_string()) return "a tool call needs a `name`: " + boost::json::serialize(v);
  out.name = name->get_string();
  const boost::json::value* a = where->if_contains(where == o ? "args" : "arguments");
  if (!a) a = where->if_contains("arguments");
  if (a && a->is_string()) {
    auto decoded = parse_json_tolerant(a->get_string());
    if (decoded && decoded->is_object()) out.args = std::move(decoded->get_object());
  } else if (a && a->is_object()) {
    out.args = a->get_object();
  }
  for (const char* key : {"id", "call_id"})
    if (const auto* id = o->if_contains(key); id && id->is_string() && !id->get_string().empty()) {
      out.id = std::string(id->get_string());
      break;
    }
  return std::nullopt;
}

inline boost::asio::awaitable<ToolCallResult> execute_call(ToolCall call, std::span<const Tool> tools) {
  const auto tool = std::find_if(tools.begin(), tools.end(), [&](const Tool& t) { return t.name == call.name; });
  if (tool == tools.end()) co_return ToolCallResult{call.id, call.name, boost::json::string("Unknown tool: " + call.name), true};
  auto pending = tool->acall(call.args);  // not inside co_await: GCC 12 bug 100611
  ToolOutcome outcome = co_await std::move(pending);
  if (outcome.error)
    co_return ToolCallResult{call.id, call.name,
                             boost::json::string("Execution error in " + call.name + ": " + *outcome.error), true};
  co_return ToolCallResult{call.id, call.name, std::move(outcome.value), false};
}

inline boost::asio::awaitable<ToolCallResults> execute_calls(std::vector<ToolCall> calls, std::span<const Tool> tools) {
  ToolCallResults out;
  for (const auto& c : calls) {
    auto pending = c.aexecute(tools);  // not inside co_await: GCC 12 bug 100611
    out.tool_call_results.push_back(co_await std::move(pending));
  }
  co_return out;
}

}  // namespace detail

DSPY_DECL boost::json::object Tool::function_schema() const {
  boost::json::array required;
  for (const auto& kv : args)
    if (const auto* o = kv.value().if_object(); !o || !o->contains("default")) required.emplace_back(kv.key());
  boost::json::object function{
      {"name", name}, {"parameters", {{"type", "object"}, {"properties", args}, {"required", std::move(required)}}}};
  if (desc) function["description"] = *desc;
  return {{"type", "function"}, {"function", std::move(function)}};
}

DSPY_DECL boost::asio::awaitable<ToolOutcome> Tool::acall(boost::json::object a) const {
  if (!call_) return detail::no_function(name);
  return call_(std::move(a));
}

DSPY_DECL boost::json::value Tool::to_json() const {
  return boost::json::object{{"name", name}, {"desc", detail::optional_string(desc)}, {"args", args}};
}

DSPY_DECL std::optional<std::string> Tool::from_json(const boost::json::value& v, Tool& out) {
  const auto* o = v.if_object();
  const auto* n = o ? o->if_contains("name") : nullptr;
  if (!n || !n->is_string()) return "expected a Tool (an object with `name`, `desc` and `args`)";
  out = Tool(std::string(n->get_string()), std::nullopt, {});
  if (const auto* d = o->if_contains("desc"); d && d->is_string()) out.desc = std::string(d->get_string());
  if (const auto* a = o->if_contains("args")) {
    if (!a->is_object()) return "a Tool's `args` must be an object of JSON schemas";
    out.args = a->get_object();
  }
  return std::nullopt;
}

DSPY_DECL boost::json::value ToolCallResults::to_json() const {
  boost::json::array results;
  for (const auto& r : tool_call_results)
    results.push_back(boost::json::object{
        {"call_id", detail::optional_string(r.call_id)}, {"name", r.name}, {"value", r.value}, {"is_error", r.is_error}});
  return boost::json::object{{"tool_call_results", std::move(results)}};
}

DSPY_DECL std::optional<std::string> ToolCallResults::from_json(const boost::json::value& v, ToolCallResults& out) {
  const boost::json::array* list = v.if_array();
  boost::json::array one;
  if (const auto* o = v.if_object()) {
    if (const auto* r = o->if_contains("tool_call_results")) list = r->if_array();
    else if (o->contains("name") && o->contains("value")) list = &(one = boost::json::array{v});
  }
  if (!list) return "expected ToolCallResults (`{\"tool_call_results\": [...]}` or a list of results)";
  out.tool_call_results.clear();
  for (const auto& e : *list) {
    const auto* r = e.if_object();
    const auto* n = r ? r->if_contains("name") : nullptr;
    if (!n || !n->is_string() || !r->contains("value"))
      return "a tool call result needs a `name` and a `value`: " + boost::json::serialize(e);
    ToolCallResult res{std::nullopt, std::string(n->get_string()), r->at("value"), false};
    if (const auto* id = r->if_contains("call_id"); id && id->is_string()) res.call_id = std::string(id->get_string());
    if (const auto* err = r->if_contains("is_error"); err && err->is_bool()) res.is_error = err->get_bool();
    out.tool_call_results.push_back(std::move(res));
  }
  return std::nullopt;
}

DSPY_DECL boost::asio::awaitable<ToolCallResult> ToolCall::aexecute(std::span<const Tool> tools) const {
  return detail::execute_call(*this, tools);
}

DSPY_DECL boost::json::object ToolCalls::json_schema() {
  return {{"type", "object"},
          {"$defs",
           {{"ToolCall",
             {{"type", "object"},
              {"properties",
               {{"args", {{"type", "object"}, {"additionalProperties", true}, {"title", "Args"}}},
                {"name", {{"type", "string"}, {"title", "Name"}}}}},
              {"required", {"name", "args"}},
              {"title", "ToolCall"}}}}},
          {"properties", {{"tool_calls", {{"type", "array"}, {"items", {{"$ref", "#/$defs/ToolCall"}}}, {"title", "Tool Calls"}}}}},
          {"required", {"tool_calls"}},
          {"title", "ToolCalls"}};
}

DSPY_DECL std::string ToolCalls::format() const {
  boost::json::array calls;
  for (const auto& c : tool_calls) calls.push_back(boost::json::object{{"name", c.name}, {"args", c.args}});
  return detail::py_json(boost::json::object{{"tool_calls", std::move(calls)}});
}

DSPY_DECL boost::json::value ToolCalls::to_json() const {
  boost::json::array calls;
  for (const auto& c : tool_calls)
    calls.push_back(boost::json::object{{"id", detail::optional_string(c.id)}, {"name", c.name}, {"args", c.args}});
  return boost::json::object{{"tool_calls", std::move(calls)},
                             {"tool_call_results", tool_call_results ? tool_call_results->to_json() : nullptr}};
}

DSPY_DECL std::optional<std::string> ToolCalls::from_json(const boost::json::value& v, ToolCalls& out) {
  const boost::json::array* list = v.if_array();
  boost::json::array one;
  const boost::json::value* results = nullptr;
  if (const auto* o = v.if_object()) {
    if (const auto* calls = o->if_contains("tool_calls")) {
      list = calls->if_array();
      results = o->if_contains("tool_call_results");
    } else if (detail::is_tool_call(*o)) {
      list = &(one = boost::json::array{v});
    }
  }
  if (!list) return "Received invalid value for `dspy.ToolCalls`: " + boost::json::serialize(v);
  out = {};
  for (const auto& e : *list)
    if (auto err = detail::read_tool_call(e, out.tool_calls.emplace_back())) return err;
  if (results && !results->is_null())
    if (auto err = ToolCallResults::from_json(*results, out.tool_call_results.emplace())) return err;
  return std::nullopt;
}

DSPY_DECL std::optional<std::string> ToolCalls::parse(std::string_view text, ToolCalls& out) {
  auto json = detail::parse_json_tolerant(text);
  if (!json) return "Received invalid value for `dspy.ToolCalls`: " + std::string(text);
  return from_json(*json, out);
}

DSPY_DECL boost::asio::awaitable<ToolCallResults> ToolCalls::aexecute(std::span<const Tool> tools) const {
  return detail::execute_calls(tool_calls, tools);
}

DSPY_DECL ToolCallResults ToolCalls::execute(std::span<const Tool> tools) const {
  return detail::sync_wait(aexecute(tools));
}

}  // namespace dspy
