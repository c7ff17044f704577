// The bodies of signature.hpp: header-only, signature.hpp includes them; with
// DSPY_SEPARATE_COMPILATION, <dspy/src.hpp> compiles them once.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "signature.hpp"

namespace dspy::detail {

DSPY_DECL void add_field_meta(std::vector<FieldMeta>& out, std::string_view name, std::string type_name,
                              std::string_view desc, bool is_str, std::string_view type_note,
                              std::string type_description, std::string_view format_hint) {
  std::string structure;
  structure.reserve(name.size() + 2 + type_note.size());
  structure += '{';
  structure += name;
  structure += '}';
  structure += type_note;
  out.push_back(FieldMeta{name, std::move(type_name), desc, is_str, std::move(structure), std::move(type_description),
                          format_hint});
}

}  // namespace dspy::detail
