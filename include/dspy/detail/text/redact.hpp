// Redaction of a known secret (an LM's API key) from text the library keeps or returns.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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
inline std::vector<std::pair<std::size_t, std::size_t>> secret_spans(std::string_view text, std::string_view secret) {
  std::vector<std::pair<std::size_t, std::size_t>> spans;
  if (secret.empty()) return spans;
  if (secret.size() < kFuzzySecretLength) {
    for (auto p = text.find(secret); p != std::string_view::npos; p = text.find(secret, p + secret.size()))
      spans.emplace_back(p, p + secret.size());
    return spans;
  }
  using redact_impl::char_at;
  using redact_impl::lower;
  const char first = lower(secret.front());
  for (std::size_t begin = 0; begin < text.size();) {
    if (lower(text[begin]) != first && text[begin] != '\\') {
      ++begin;
      continue;
    }
    std::size_t p = begin, matched = 0;
    while (matched < secret.size() && p < text.size()) {
      const auto [c, width] = char_at(text, p);
      if (width == 0 || lower(c) != lower(secret[matched])) break;
      p += width;
      ++matched;
    }
    const bool cut = p == text.size() || text.substr(p).starts_with("...");
    if (matched == secret.size() || (cut && matched >= kFuzzySecretLength)) {
      spans.emplace_back(begin, p);
      begin = p;
    } else {
      ++begin;
    }
  }
  return spans;
}

/// `text` with every span of `secret_spans(text, secret)` replaced by "[redacted]".
inline std::string redact(std::string text, std::string_view secret) {
  const auto spans = secret_spans(text, secret);
  if (spans.empty()) return text;
  std::string out;
  out.reserve(text.size());
  std::size_t at = 0;
  for (const auto& [begin, end] : spans) {
    out.append(text, at, begin - at).append("[redacted]");
    at = end;
  }
  return out.append(text, at);
}

}  // namespace dspy::detail
