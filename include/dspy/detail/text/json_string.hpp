// A JSON string literal, as json.dumps(ensure_ascii=False) writes it: light enough for the
// message model, which keeps a shared system message's literal ready for request bodies.
#pragma once

#include <string>
#include <string_view>

#include "../config.hpp"

namespace dspy::detail {

/// Appends `s` as a JSON string literal: quoted, with '"', '\\' and control characters escaped.
DSPY_DECL void append_json_string(std::string& out, std::string_view s);

}  // namespace dspy::detail

// The body; with the compiled part, only <dspy/src.hpp> includes it.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "json_string_impl.hpp"
#endif
