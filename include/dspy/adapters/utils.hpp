// What the adapters share (DSPy's dspy/adapters/utils.py and the base adapter's wording): the
// parts of the system message, field blocks, XML values, header matching, and parse errors.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "../detail/config.hpp"
#include "../primitives/error.hpp"
#include "../primitives/message.hpp"
#include "signature_view.hpp"

namespace dspy::detail {

inline constexpr std::string_view kIncompleteDemoPrefix =
    "This is an example of the task, though some input or output fields are not supplied.";
inline constexpr std::string_view kMissingInDemo = "Not supplied for this particular example. ";
inline constexpr std::string_view kMissingInHistory = "Not supplied for this conversation history message. ";
inline constexpr std::string_view kStructureIntro =
    "All interactions will be structured in the following way, with the appropriate values filled in.";

inline std::string_view py_strip(std::string_view s) { return trim(s); }

// str.strip() in place: the prompt builders' hot path, so no copy.
DSPY_DECL std::string&& strip_in_place(std::string&& s);

// textwrap.dedent then splitlines, each line prefixed by "\n" + 8 spaces.
DSPY_DECL std::string task_description(std::string_view instructions);

// get_field_description_string: "1. `name` (type): doc", one line per field.
DSPY_DECL std::string field_lines(const std::vector<FieldMeta>& fields);

DSPY_DECL std::string field_description(const SignatureMeta& m);

DSPY_DECL void append_marker_block(std::string& out, std::string_view name, std::string_view value);

DSPY_DECL void append_xml_block(std::string& out, std::string_view name, std::string_view value);

// DSPy's format_user_message_content: "\n\n".join([prefix, *fields, requirements]).strip(), each
// present field written by `field(out, inputs, i)`.
template <class WriteField>
std::string user_message_content(const FieldValues& inputs, std::string_view prefix, std::string_view requirements,
                                 WriteField&& field) {
  std::string s;
  s.reserve(256);
  s += prefix;
  s += "\n\n";
  bool first = true;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs.present(i)) continue;
    if (!first) s += "\n\n";
    first = false;
    field(s, inputs, i);
  }
  if (!requirements.empty()) {
    s += "\n\n";
    s += requirements;
  }
  return strip_in_place(std::move(s));
}

// The ChatAdapter's (and JSONAdapter's) user message: `[[ ## name ## ]]` blocks.
DSPY_DECL std::string chat_user_message_content(const FieldValues& inputs, std::string_view prefix,
                                                std::string_view requirements);

DSPY_DECL std::string marker_blocks(const std::vector<FieldMeta>& fields);

DSPY_DECL std::string join_parts(std::initializer_list<std::string_view> parts);

// The content parts inside one mark: JSON, or JSON written again as a JSON string's inside (a DSPy
// type in a list or dict); nullopt if neither.
DSPY_DECL std::optional<boost::json::array> marked_json(std::string_view inner);

// DSPy's split_message_content_for_custom_types: each user message whose text holds marked
// content parts (an Image, ...) becomes a list of parts: the text around each mark, then its parts.
DSPY_DECL void split_content_parts(std::vector<Message>& messages);

inline std::string type_info(const FieldMeta& f) {
  if (!f.format_hint.empty()) return " (" + std::string(f.format_hint) + ")";
  return f.is_str ? std::string() : " (must be formatted as a valid Python " + f.type_name + ")";
}

DSPY_DECL bool xml_identifier(std::string_view name);

// XMLAdapter._value_to_xml on the JSON form of a value.
DSPY_DECL void value_to_xml(std::string& out, const boost::json::value& v, std::string_view tag,
                            std::string_view key = {}, bool has_key = false);

// "[[ ## name ## ]]" at the start of a (stripped) line; tolerates missing or extra spaces.
DSPY_DECL bool match_chat_header(std::string_view line, std::string_view& name, std::size_t& end);

/// DSPy's AdapterParseError, worded as DSPy words it. `parsed` (bit j: output j was read) is
/// listed when given.
DSPY_DECL Error parse_error(Errc code, std::string_view adapter, const SignatureView& sig, std::string_view completion,
                            std::string message, const std::uint64_t* parsed, std::string field = {});

/// A field's value that did not read, as DSPy words it.
inline Error field_parse_error(std::string_view adapter, const SignatureView& sig, std::string_view completion,
                               std::size_t j, std::string message) {
  return parse_error(Errc::type_mismatch, adapter, sig, completion, std::move(message), nullptr,
                     std::string(sig.outputs[j].name()));
}

/// apply_output_field_defaults: a missing optional output is None; any other missing output fails.
DSPY_DECL std::optional<Error> check_complete(std::string_view adapter, const SignatureView& sig,
                                              std::string_view completion, std::uint64_t& seen);

}  // namespace dspy::detail

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "utils_impl.hpp"
#endif
