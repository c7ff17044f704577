// Vectors as bytes: little-endian float32 (numpy's '<f4', OpenAI's base64 embeddings) and base64.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "../config.hpp"

namespace dspy::detail {

/// Padded base64 (RFC 4648's alphabet) of `bytes`.
[[nodiscard]] DSPY_DECL std::string base64_encode(std::string_view bytes);
/// The bytes of padded base64 text; nothing if it is not that.
[[nodiscard]] DSPY_DECL std::optional<std::string> base64_decode(std::string_view text);
/// Floats from little-endian float32 bytes (a trailing partial float is ignored).
[[nodiscard]] DSPY_DECL std::vector<float> floats_from_le_bytes(std::string_view bytes);
/// The little-endian float32 bytes of `values`.
[[nodiscard]] DSPY_DECL std::string le_bytes_from_floats(const std::vector<float>& values);

}  // namespace dspy::detail

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "binary_impl.hpp"
#endif
