// The bodies of canonical.hpp: header-only, canonical.hpp includes them; with
// DSPY_SEPARATE_COMPILATION, <dspy/src.hpp> compiles them once.
#pragma once

#include <algorithm>
#include <boost/json.hpp>
#include <cstddef>
#include <string>
#include <vector>

#include "canonical.hpp"

namespace dspy::detail {

DSPY_DECL void append_canonical_json(std::string& out, const boost::json::value& v) {
  if (const auto* obj = v.if_object()) {
    std::vector<const boost::json::key_value_pair*> items;
    items.reserve(obj->size());
    for (const auto& kv : *obj) items.push_back(&kv);
    std::sort(items.begin(), items.end(), [](const auto* a, const auto* b) { return a->key() < b->key(); });
    out.push_back('{');
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i) out.push_back(',');
      out += boost::json::serialize(boost::json::string_view(items[i]->key()));
      out.push_back(':');
      append_canonical_json(out, items[i]->value());
    }
    out.push_back('}');
  } else if (const auto* arr = v.if_array()) {
    out.push_back('[');
    for (std::size_t i = 0; i < arr->size(); ++i) {
      if (i) out.push_back(',');
      append_canonical_json(out, (*arr)[i]);
    }
    out.push_back(']');
  } else {
    out += boost::json::serialize(v);
  }
}

}  // namespace dspy::detail
