// Canonical JSON for cache keys: object keys sorted at every level, no whitespace, so that equal
// requests serialize to equal bytes however their objects were built.
#pragma once

#include <boost/json.hpp>
#include <string>

#include "../config.hpp"

namespace dspy::detail {

DSPY_DECL void append_canonical_json(std::string& out, const boost::json::value& v);

[[nodiscard]] inline std::string canonical_json(const boost::json::value& v) {
  std::string out;
  append_canonical_json(out, v);
  return out;
}

}  // namespace dspy::detail

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "canonical_impl.hpp"
#endif
