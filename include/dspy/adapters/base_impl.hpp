// The bodies of dspy::Adapter's defaults (base.hpp): header-only, base.hpp includes them; with
// DSPY_SEPARATE_COMPILATION, <dspy/src.hpp> compiles them once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "../detail/text/pytext.hpp"
#include "../primitives/message.hpp"
#include "base.hpp"
#include "signature_view.hpp"
#include "utils.hpp"

namespace dspy {

DSPY_DECL std::string Adapter::format_user_message_content(const SignatureView& /*sig*/, const FieldValues& inputs,
                                                           std::string_view prefix,
                                                           std::string_view requirements) const {
  std::string value;
  return detail::user_message_content(inputs, prefix, requirements,
                                      [&](std::string& out, const FieldValues& v, std::size_t i) {
                                        value.clear();
                                        v.render(i, value);
                                        format_field_with_value(out, v.name(i), value);
                                      });
}

DSPY_DECL void Adapter::format_demos(const SignatureView& sig, const DemoList& demos,
                                     std::vector<Message>& messages) const {
  const auto all_left_out = [](const FieldValues& v) {
    return v.missing() == (v.size() == 0 ? 0 : ~std::uint64_t{0} >> (64 - v.size()));
  };
  const auto complete = [](const DemoView& d) {
    if (d.inputs.missing() != 0 || d.outputs.missing() != 0) return false;
    for (std::size_t i = 0; i < d.inputs.size(); ++i)
      if (d.inputs.is_none(i)) return false;
    for (std::size_t j = 0; j < d.outputs.size(); ++j)
      if (d.outputs.is_none(j)) return false;
    return true;
  };
  for (std::size_t k = 0; k < demos.size(); ++k) {
    const DemoView d = demos[k];
    if (complete(d) || all_left_out(d.inputs) || all_left_out(d.outputs)) continue;
    messages.push_back({"user", format_user_message_content(sig, d.inputs, detail::kIncompleteDemoPrefix, {})});
    messages.push_back({"assistant", format_assistant_message_content(sig, d.outputs, detail::kMissingInDemo)});
  }
  for (std::size_t k = 0; k < demos.size(); ++k) {
    const DemoView d = demos[k];
    if (!complete(d)) continue;
    messages.push_back({"user", format_user_message_content(sig, d.inputs, {}, {})});
    messages.push_back({"assistant", format_assistant_message_content(sig, d.outputs, detail::kMissingInHistory)});
  }
}

namespace detail {
// DSPy's _tool_calls_from_message: the first value of a turn that holds tool calls.
inline const boost::json::key_value_pair* turn_tool_calls(const boost::json::object& turn) {
  for (const auto& kv : turn)
    if (const auto* o = kv.value().if_object(); o && o->contains("tool_calls")) return &kv;
  return nullptr;
}
}  // namespace detail

DSPY_DECL void Adapter::format_conversation_history(const SignatureView& sig, const boost::json::array& turns,
                                                    std::vector<Message>& messages) const {
  for (const boost::json::value& t : turns) {
    if (!t.is_object()) continue;
    const boost::json::object& turn = t.get_object();
    const boost::json::key_value_pair* held = detail::turn_tool_calls(turn);
    ToolCalls calls;
    if (held && ToolCalls::from_json(held->value(), calls)) held = nullptr;
    std::optional<ToolCallResults> results = held ? calls.tool_call_results : std::nullopt;
    std::string user = format_user_message_content(sig, FieldValues(sig.inputs, turn, false), {}, {});
    if (!user.empty()) messages.push_back({"user", std::move(user)});
    if (held && use_native_function_calling()) {
      // The turn's other outputs as text, its calls as the assistant's native tool calls, and
      // each result as a tool message; results that do not answer the calls one by one, by id,
      // are left out (and the calls with them).
      std::vector<FieldCodec> shown;
      for (std::size_t j = 0; j < sig.outputs.size(); ++j) {
        const auto* v = turn.if_contains(sig.outputs[j].name());
        if (j != sig.tool_calls && sig.outputs[j].name() != held->key() && v && !v->is_null())
          shown.push_back(sig.outputs[j]);
      }
      std::string content = shown.empty() ? std::string()
                                          : format_assistant_message_content(sig, FieldValues(shown, turn, false), {});
      if (results) {
        const auto& r = results->tool_call_results;
        bool answered = r.size() == calls.tool_calls.size();
        for (std::size_t i = 0; answered && i < r.size(); ++i)
          answered = calls.tool_calls[i].id && !calls.tool_calls[i].id->empty() && r[i].call_id == calls.tool_calls[i].id;
        if (!answered) results.reset();
      }
      if (!content.empty() || results) {
        Message assistant{"assistant", std::move(content)};
        if (results)
          for (const auto& c : calls.tool_calls)
            assistant.tool_calls.push_back({*c.id, c.name, detail::ascii_escaped(detail::py_json(c.args))});
        messages.push_back(std::move(assistant));
      }
      if (results)
        for (const auto& r : results->tool_call_results)
          messages.push_back({.role = "tool",
                              .content = r.value.is_string() ? std::string(r.value.get_string()) : detail::py_json(r.value),
                              .tool_call_id = *r.call_id,
                              .name = r.name});
      continue;
    }
    if (!held) {
      messages.push_back(
          {"assistant", format_assistant_message_content(sig, FieldValues(sig.outputs, turn, true), {})});
      continue;
    }
    // Text mode: the calls as DSPy writes them (no ids, no results), then the results as a user
    // message of their own.
    boost::json::object shown = turn;
    shown[held->key()] = boost::json::parse(calls.format());
    messages.push_back({"assistant", format_assistant_message_content(sig, FieldValues(sig.outputs, shown, true), {})});
    if (results) {  // DSPy's _TOOL_CALL_RESULTS_SIGNATURE: one input field, `tool_call_results`
      std::string content;
      format_field_with_value(content, "tool_call_results", results->format());
      messages.push_back({"user", std::move(content)});
    }
  }
}

DSPY_DECL std::vector<Message> Adapter::format(const SignatureView& sig, const PromptParts& parts,
                                               const DemoList& demos, const FieldValues& inputs) const {
  std::vector<Message> messages;
  messages.reserve(2 + 2 * demos.size());
  messages.push_back({"system", parts.system});
  format_demos(sig, demos, messages);
  if (sig.history < sig.inputs.size()) {
    // The history's turns, then the current input without it (DSPy deletes it from the inputs).
    if (inputs.present(sig.history) && !inputs.is_none(sig.history)) {
      const boost::json::value history = inputs.to_json(sig.history);
      if (const auto* turns = history.as_object().if_contains("messages"); turns && turns->is_array())
        format_conversation_history(sig, turns->get_array(), messages);
    }
    std::string user = format_user_message_content(sig, inputs.without(sig.history), {}, parts.requirements);
    if (!user.empty()) messages.push_back({"user", std::move(user)});
  } else {
    messages.push_back({"user", format_user_message_content(sig, inputs, {}, parts.requirements)});
  }
  if (sig.has_parts) detail::split_content_parts(messages);
  return messages;
}

}  // namespace dspy
