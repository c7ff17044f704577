// The bodies of detail::ChatAdapterImpl (chat_adapter.hpp): header-only,
// chat_adapter.hpp includes them; with DSPY_SEPARATE_COMPILATION, <dspy/src.hpp> compiles them once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../primitives/error.hpp"
#include "chat_adapter.hpp"
#include "signature_view.hpp"
#include "utils.hpp"

namespace dspy::detail {

DSPY_DECL std::string ChatAdapterImpl::user_message_output_requirements(const SignatureView& sig) const {
  std::string s = "Respond with the corresponding output fields, starting with the field ";
  for (std::size_t i = 0; i < sig.meta->outputs.size(); ++i) {
    if (i) s += ", then ";
    s += "`[[ ## ";
    s += sig.meta->outputs[i].name;
    s += " ## ]]`";
    s += type_info(sig.meta->outputs[i]);
  }
  return s + ", and then ending with the marker for `[[ ## completed ## ]]`.";
}

DSPY_DECL std::string ChatAdapterImpl::format_assistant_message_content(const SignatureView& /*sig*/,
                                                                        const FieldValues& outputs,
                                                                        std::string_view missing_field_message) const {
  std::string s;
  for (std::size_t j = 0; j < outputs.size(); ++j) {
    if (j) s += "\n\n";
    append_marker_block(s, outputs.name(j), {});
    if (outputs.present(j)) outputs.render(j, s);
    else s += missing_field_message;
  }
  strip_in_place(std::move(s));
  s += "\n\n[[ ## completed ## ]]\n";
  return s;
}

// Each header opens a section; the first section of each output field is parsed when the next
// header (or the end) closes it. Text before any header and unknown sections are ignored.
DSPY_DECL std::optional<Error> ChatAdapterImpl::parse(const SignatureView& sig, std::string_view completion,
                                                      void* outputs, std::vector<ParseNote>* notes) const {
  const std::size_t n_out = sig.outputs.size();
  std::uint64_t seen = 0;
  std::size_t current = n_out;
  std::string text;
  std::optional<Error> error;
  const auto finish = [&] {
    if (current < n_out && !(seen >> current & 1U) && !error) {
      const std::string_view value = py_strip(text);
      const FieldCodec& field = sig.outputs[current];
      if (auto err = field.parse_text(value, outputs, ParseContext{notes, field.name()})) {
        error = field_parse_error(name(), sig, completion, current,
                                  "Failed to parse field " + std::string(field.name()) + " with value " +
                                      std::string(value) + " from the LM response. Error message: " + *err);
      }
      seen |= std::uint64_t{1} << current;
    }
    text.clear();
  };
  for (std::size_t pos = 0; pos < completion.size() && !error;) {
    std::size_t nl = completion.find('\n', pos);
    if (nl == std::string_view::npos) nl = completion.size();
    std::string_view line = completion.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = nl + 1;
    const std::string_view stripped = py_strip(line);
    std::string_view header;
    std::size_t end = 0;
    if (match_chat_header(stripped, header, end)) {
      finish();
      current = sig.output_index(header);
      const std::string_view rest = py_strip(stripped.substr(end));
      text.assign(rest);
      if (!rest.empty()) text += '\n';
      continue;
    }
    if (current < n_out) {
      text += line;
      text += '\n';
    }
  }
  finish();
  if (error) return error;
  return check_complete(name(), sig, completion, seen);
}

}  // namespace dspy::detail
