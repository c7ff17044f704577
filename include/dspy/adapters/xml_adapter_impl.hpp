// The bodies of detail::XMLAdapterImpl (xml_adapter.hpp): header-only,
// xml_adapter.hpp includes them; with DSPY_SEPARATE_COMPILATION, <dspy/src.hpp> compiles them once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "../detail/text/pytext.hpp"
#include "../detail/text/xml.hpp"
#include "../primitives/error.hpp"
#include "../signatures/signature.hpp"
#include "signature_view.hpp"
#include "utils.hpp"
#include "xml_adapter.hpp"

namespace dspy::detail {

DSPY_DECL std::string XMLAdapterImpl::format_field_structure(const SignatureView& sig) const {
  std::string s(kStructureIntro);
  const auto group = [&](const std::vector<FieldCodec>& fields) {
    s += "\n\n";
    std::string g;
    for (std::size_t i = 0; i < fields.size(); ++i) {
      if (i) g += "\n\n";
      if (fields[i].nested && &fields == &sig.outputs) g += fields[i].xml_schema;
      else append_xml_block(g, fields[i].name(), fields[i].meta->structure);
    }
    s += py_strip(g);
  };
  group(sig.inputs);
  group(sig.outputs);
  return s;
}

DSPY_DECL std::string XMLAdapterImpl::user_message_output_requirements(const SignatureView& sig) const {
  std::string s = "Respond with the corresponding output fields wrapped in XML tags ";
  std::string schemas;
  for (std::size_t i = 0; i < sig.outputs.size(); ++i) {
    if (i) s += ", then ";
    s += "`<";
    s += sig.outputs[i].name();
    s += ">`";
    if (sig.outputs[i].nested) {
      if (!schemas.empty()) schemas += ' ';
      schemas += sig.outputs[i].xml_schema;
    }
  }
  s += '.';
  if (!schemas.empty()) s += " Use this nested XML structure: " + schemas;
  return s;
}

DSPY_DECL std::string XMLAdapterImpl::format_user_message_content(const SignatureView& /*sig*/,
                                                                  const FieldValues& inputs, std::string_view prefix,
                                                                  std::string_view requirements) const {
  return user_message_content(inputs, prefix, requirements, [](std::string& out, const FieldValues& v, std::size_t i) {
    const std::string_view name = v.name(i);
    ((out += '<') += name) += ">\n";
    v.render(i, out);
    ((out += "\n</") += name) += '>';
  });
}

// A field's text as an element; a str output's text is escaped.
inline void append_xml_output_text(std::string& out, const FieldCodec& field, std::string_view text) {
  if (!field.meta->is_str) return append_xml_block(out, field.name(), text);
  std::string escaped;
  append_xml_text(escaped, text);
  append_xml_block(out, field.name(), escaped);
}

DSPY_DECL void append_xml_output(std::string& out, const FieldCodec& field, const boost::json::value& value) {
  if (field.nested && (value.is_array() || value.is_object())) return value_to_xml(out, value, field.name());
  std::string text;
  render_value(text, value);
  append_xml_output_text(out, field, text);
}

DSPY_DECL std::string XMLAdapterImpl::format_assistant_message_content(const SignatureView& /*sig*/,
                                                                       const FieldValues& outputs,
                                                                       std::string_view missing_field_message) const {
  std::string s;
  std::string value;
  for (std::size_t j = 0; j < outputs.size(); ++j) {
    if (j) s += "\n\n";
    const FieldCodec& field = outputs.field(j);
    if (!outputs.present(j)) {
      append_xml_output_text(s, field, missing_field_message);
    } else if (field.nested) {
      append_xml_output(s, field, outputs.to_json(j));
    } else {
      value.clear();
      outputs.render(j, value);
      append_xml_output_text(s, field, value);
    }
  }
  return strip_in_place(std::move(s));
}

DSPY_DECL std::string pydantic_annotation(std::string_view type_name) {
  std::string out;
  for (std::size_t i = 0; i < type_name.size();) {
    if (type_name.substr(i, 9) != "Optional[") {
      out += type_name[i++];
      continue;
    }
    std::size_t j = i + 9;
    for (int depth = 1; j < type_name.size() && depth > 0; ++j) depth += type_name[j] == '[' ? 1 : type_name[j] == ']' ? -1 : 0;
    out += "Union[" + pydantic_annotation(type_name.substr(i + 9, j - i - 10)) + ", NoneType]";
    i = j;
  }
  return out;
}

// str() of an output field's pydantic FieldInfo, which DSPy's XMLAdapter names a field by in its
// parse errors (OutputField's json_schema_extra, with the prefix and desc DSPy fills in).
inline std::string field_info_str(const FieldMeta& f) {
  const std::string prefix = "'prefix': " + py_repr(infer_prefix(f.name) + ":");
  std::string extra = f.desc.empty() ? "'__dspy_field_type': 'output', " + prefix + ", 'desc': " +
                                           py_repr("${" + std::string(f.name) + "}")
                                     : "'desc': " + py_repr(f.desc) + ", '__dspy_field_type': 'output', " + prefix;
  return "annotation=" + pydantic_annotation(f.type_name) + " required=True json_schema_extra={" + extra + "}";
}

DSPY_DECL std::optional<Error> XMLAdapterImpl::parse(const SignatureView& sig, std::string_view completion,
                                                     void* outputs, std::vector<ParseNote>* notes) const {
  XmlReader reader(completion);
  std::optional<XmlElement> root = reader.parse_root();
  std::uint64_t seen = 0;
  if (!root) {
    // LMs write "a < b" unescaped: beyond DSPy, read each field's text between its tags. Where
    // that does not give every output, the error is DSPy's.
    const auto xml_error = [&] {
      return parse_error(Errc::parse_error, name(), sig, completion, "Failed to parse XML: " + reader.error(), nullptr);
    };
    for (std::size_t j = 0; j < sig.outputs.size(); ++j) {
      const FieldCodec& field = sig.outputs[j];
      const std::string name(field.name());
      const std::size_t open = completion.find("<" + name + ">");
      if (open == std::string_view::npos) continue;
      const std::size_t start = open + name.size() + 2;
      const std::size_t close = completion.find("</" + name + ">", start);
      if (close == std::string_view::npos) continue;
      const ParseContext ctx{notes, field.name()};
      ctx.note("read the field without an XML parser: " + reader.error());
      if (field.parse_text(py_strip(completion.substr(start, close - start)), outputs, ctx)) return xml_error();
      seen |= std::uint64_t{1} << j;
    }
    if (check_complete(name(), sig, completion, seen)) return xml_error();
    return std::nullopt;
  }
  const auto groups = group_children(*root);
  for (std::size_t j = 0; j < sig.outputs.size(); ++j) {
    const FieldCodec& field = sig.outputs[j];
    const auto* g = find_group(groups, field.name());
    if (!g) continue;
    if (auto err = field.from_xml(g->elements, outputs, ParseContext{notes, field.name()})) {
      // DSPy's wording; a plain field's value is its text (a nested one's, a Python dict or list
      // DSPy builds first, is left out here).
      std::string what = "Failed to parse field " + field_info_str(*field.meta);
      if (!field.nested) (what += " with value ") += py_strip(g->elements.front()->text);
      return field_parse_error(name(), sig, completion, j, what + ": " + *err);
    }
    seen |= std::uint64_t{1} << j;
  }
  return check_complete(name(), sig, completion, seen);
}

}  // namespace dspy::detail
