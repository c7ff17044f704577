// Canonical JSON for cache keys: object keys sorted at every level, no whitespace, so that equal
// requests serialize to equal bytes however their objects were built.
#pragma once

#include <algorithm>
#include <boost/json.hpp>
#include <string>
#include <vector>

namespace dspy::detail {

inline void append_canonical_json(std::string& out, const boost::json::value& v) {
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

[[nodiscard]] inline std::string canonical_json(const boost::json::value& v) {
  std::string out;
  append_canonical_json(out, v);
  return out;
}

}  // namespace dspy::detail
