// The bodies of detail::JSONAdapterImpl (json_adapter.hpp): header-only,
// json_adapter.hpp includes them; with DSPY_SEPARATE_COMPILATION, <dspy/src.hpp> compiles them once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "../detail/text/pytext.hpp"
#include "../detail/text/tolerant.hpp"
#include "../primitives/error.hpp"
#include "json_adapter.hpp"
#include "signature_view.hpp"
#include "utils.hpp"

namespace dspy::detail {

DSPY_DECL std::string JSONAdapterImpl::format_field_structure(const SignatureView& sig) const {
  boost::json::object outputs;
  for (const auto& f : sig.meta->outputs) outputs[f.name] = f.structure;
  return join_parts({kStructureIntro, "Inputs will have the following structure:", marker_blocks(sig.meta->inputs),
                     "Outputs will be a JSON object with the following fields.", py_json(outputs, false, 2)});
}

DSPY_DECL std::string JSONAdapterImpl::user_message_output_requirements(const SignatureView& sig) const {
  std::string s = "Respond with a JSON object in the following order of fields: ";
  for (std::size_t i = 0; i < sig.meta->outputs.size(); ++i) {
    if (i) s += ", then ";
    s += '`';
    s += sig.meta->outputs[i].name;
    s += '`';
    s += type_info(sig.meta->outputs[i]);
  }
  return s + ".";
}

DSPY_DECL std::string JSONAdapterImpl::format_assistant_message_content(const SignatureView& /*sig*/,
                                                                        const FieldValues& outputs,
                                                                        std::string_view missing_field_message) const {
  boost::json::object o;
  for (std::size_t j = 0; j < outputs.size(); ++j)
    o[outputs.name(j)] = outputs.present(j) ? outputs.to_json(j) : boost::json::value(missing_field_message);
  return py_json(o, false, 2);
}

DSPY_DECL std::optional<Error> JSONAdapterImpl::parse(const SignatureView& sig, std::string_view completion,
                                                      void* outputs, std::vector<ParseNote>* notes) const {
  std::string how;
  auto json = parse_json_tolerant(completion, &how);
  if (!json || !json->is_object())
    return parse_error(Errc::parse_error, name(), sig, completion, "LM response cannot be serialized to a JSON object.",
                       nullptr);
  if (!how.empty() && notes) notes->push_back({"", how});
  std::uint64_t seen = 0;
  for (const auto& kv : json->get_object()) {
    const std::size_t j = sig.output_index(kv.key());
    if (j >= sig.outputs.size()) continue;
    const FieldCodec& field = sig.outputs[j];
    const ParseContext ctx{notes, field.name()};
    if (auto err = field.read_json(kv.value(), outputs, ctx))
      return field_parse_error(name(), sig, completion, j,
                               "Failed to parse field " + std::string(field.name()) + " with value " +
                                   boost::json::serialize(kv.value()) + " from the LM response. Error message: " + *err);
    seen |= std::uint64_t{1} << j;
  }
  return check_complete(name(), sig, completion, seen);
}

}  // namespace dspy::detail
