// The bodies of signature_view.hpp's non-template functions (XML groups, the response_format's
// required lists): header-only, signature_view.hpp includes them; with DSPY_SEPARATE_COMPILATION,
// <dspy/src.hpp> compiles them once.
#pragma once

#include <algorithm>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "../detail/text/xml.hpp"
#include "signature_view.hpp"

namespace dspy::detail {

DSPY_DECL std::vector<XmlGroup> group_children(const XmlElement& e) {
  std::vector<XmlGroup> groups;
  for (const auto& c : e.children) {
    const std::string_view name = c.tag == "entry" && !c.key.empty() ? std::string_view(c.key) : std::string_view(c.tag);
    auto it = std::find_if(groups.begin(), groups.end(), [&](const XmlGroup& g) { return g.name == name; });
    if (it == groups.end()) groups.push_back({name, {&c}});
    else it->elements.push_back(&c);
  }
  return groups;
}

DSPY_DECL const XmlGroup* find_group(const std::vector<XmlGroup>& groups, std::string_view name) {
  for (const auto& g : groups)
    if (g.name == name) return &g;
  return nullptr;
}

DSPY_DECL void enforce_required(boost::json::value& v) {
  if (!v.is_object()) return;
  auto& o = v.get_object();
  if (const auto* t = o.if_contains("type"); t && *t == "object") {
    if (auto* props = o.if_contains("properties"); props && props->is_object()) {
      boost::json::array required;
      for (auto& kv : props->get_object()) {
        required.emplace_back(kv.key());
        enforce_required(kv.value());
      }
      o["required"] = std::move(required);
    } else {
      o["properties"] = boost::json::object{};
      o["required"] = boost::json::array{};
    }
    o["additionalProperties"] = false;
  }
  if (const auto* t = o.if_contains("type"); t && *t == "array")
    if (auto* items = o.if_contains("items")) enforce_required(*items);
  if (auto* defs = o.if_contains("$defs"); defs && defs->is_object())
    for (auto& kv : defs->get_object()) enforce_required(kv.value());
}

}  // namespace dspy::detail

namespace dspy {

namespace detail {
DSPY_DECL std::unique_ptr<ReducedView> reduce_view(const SignatureView& full, std::uint64_t outputs,
                                                   std::uint64_t inputs, boost::json::value response_format) {
  auto r = std::make_unique<ReducedView>();
  r->meta.default_instructions = full.meta->default_instructions;  // fixed with the signature, as in DSPy
  r->view = full;
  r->view.inputs.clear();
  r->view.history = r->view.tools = full.inputs.size();
  for (std::size_t i = 0; i < full.inputs.size(); ++i) {
    if (inputs >> i & 1U) continue;
    if (i == full.history) r->view.history = r->view.inputs.size();
    r->meta.inputs.push_back(full.meta->inputs[i]);
    r->view.inputs.push_back(full.inputs[i]);
  }
  for (std::size_t i = 0; i < r->view.inputs.size(); ++i) r->view.inputs[i].meta = &r->meta.inputs[i];
  if (r->view.history == full.inputs.size()) r->view.history = r->view.inputs.size();
  r->view.outputs.clear();
  for (std::size_t j = 0; j < full.outputs.size(); ++j) {
    if (outputs >> j & 1U) continue;
    r->meta.outputs.push_back(full.meta->outputs[j]);
    r->view.outputs.push_back(full.outputs[j]);
    r->names.push_back(full.output_names[j]);
  }
  r->view.meta = &r->meta;
  for (std::size_t i = 0; i < r->view.outputs.size(); ++i) r->view.outputs[i].meta = &r->meta.outputs[i];
  r->view.output_names = r->names;
  r->view.reasoning = r->view.citations = r->view.tool_calls = r->view.outputs.size();
  r->view.without = nullptr;
  r->response_format = std::move(response_format);  // of the outputs left, as DSPy builds it
  r->view.reduced_response_format = &r->response_format;
  return r;
}

DSPY_DECL const SignatureView& cached_reduced_view(const SignatureView& full, std::uint64_t outputs,
                                                   std::uint64_t inputs, ReducedViews& cache, std::mutex& mutex,
                                                   ResponseFormatBuilder format) {
  std::lock_guard lock(mutex);
  for (const auto& [mask, view] : cache)
    if (mask == std::pair{outputs, inputs}) return view->view;
  cache.emplace_back(std::pair{outputs, inputs}, reduce_view(full, outputs, inputs, format(outputs)));
  return cache.back().second->view;
}
}  // namespace detail

DSPY_DECL FieldValues::FieldValues(std::span<const FieldCodec> fields, const boost::json::object& values,
                                   bool absent_is_none)
    : fields_(fields), json_(&values) {
  if (absent_is_none) return;
  for (std::size_t i = 0; i < fields.size(); ++i)
    if (!values.contains(fields[i].name())) missing_ |= std::uint64_t{1} << i;
}

DSPY_DECL const boost::json::value& FieldValues::json_value(std::size_t i) const {
  static const boost::json::value none;
  const auto* v = json_->if_contains(fields_[i].name());
  return v ? *v : none;
}

// As DSPy's format_field_value on an untyped value: strings raw, Python's True/None/floats,
// containers as JSON.
DSPY_DECL void FieldValues::render_json(std::size_t i, std::string& out) const { render_value(out, json_value(i)); }

}  // namespace dspy
