// The bodies of dspy::Adapter's defaults (base.hpp): header-only, base.hpp includes them; with
// DSPY_SEPARATE_COMPILATION, <dspy/src.hpp> compiles them once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

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

DSPY_DECL void Adapter::format_conversation_history(const SignatureView& sig, const boost::json::array& turns,
                                                    std::vector<Message>& messages) const {
  for (const boost::json::value& t : turns) {
    if (!t.is_object()) continue;
    const boost::json::object& turn = t.get_object();
    std::string user = format_user_message_content(sig, FieldValues(sig.inputs, turn, false), {}, {});
    if (!user.empty()) messages.push_back({"user", std::move(user)});
    messages.push_back(
        {"assistant", format_assistant_message_content(sig, FieldValues(sig.outputs, turn, true), {})});
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
