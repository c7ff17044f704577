// Redaction of a known secret (an LM's API key) from text the library keeps or returns.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../config.hpp"

namespace dspy::detail {

/// Secrets at least this long are also found in any letter case, JSON-escaped, and cut short;
/// shorter ones (test keys such as "k") only as written, or ordinary words would be mangled.
inline constexpr std::size_t kFuzzySecretLength = 8;

namespace redact_impl {

constexpr char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

constexpr int hex(char c) noexcept {
  return c >= '0' && c <= '9' ? c - '0' : lower(c) >= 'a' && lower(c) <= 'f' ? lower(c) - 'a' + 10 : -1;
}

// The character that text[p...] spells, written plainly or as a JSON escape (\uXXXX, \/), and
// the bytes it takes; {0, 0} when nothing an ASCII secret could hold starts there.
constexpr std::pair<char, std::size_t> char_at(std::string_view text, std::size_t p) noexcept {
  if (text[p] != '\\') return {text[p], 1};
  if (p + 1 < text.size() && text[p + 1] == '/') return {'/', 2};
  if (p + 5 < text.size() && text[p + 1] == 'u') {
    int code = 0;
    for (std::size_t k = p + 2; k < p + 6; ++k) {
      const int h = hex(text[k]);
      if (h < 0) return {0, 0};
      code = code * 16 + h;
    }
    if (code > 0 && code < 0x80) return {static_cast<char>(code), 6};
    return {0, 0};
  }
  return {'\\', 1};
}

}  // namespace redact_impl

/// Where `secret` is in `text`, as [begin, end) spans: as written; and, for a secret of
/// kFuzzySecretLength or more, in any letter case, with any of its characters JSON-escaped, and
/// its first kFuzzySecretLength or more characters where the text was cut (at its end, or before
/// a "..." that marks a cut).
DSPY_DECL std::vector<std::pair<std::size_t, std::size_t>> secret_spans(std::string_view text, std::string_view secret);

/// `text` with every span of `secret_spans(text, secret)` replaced by "[redacted]".
DSPY_DECL std::string redact(std::string text, std::string_view secret);

}  // namespace dspy::detail

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "redact_impl.hpp"
#endif
