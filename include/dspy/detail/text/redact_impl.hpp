// The bodies of redact.hpp: header-only, redact.hpp includes them; with DSPY_SEPARATE_COMPILATION,
// <dspy/src.hpp> compiles them once.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "redact.hpp"

namespace dspy::detail {

DSPY_DECL std::vector<std::pair<std::size_t, std::size_t>> secret_spans(std::string_view text,
                                                                         std::string_view secret) {
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

DSPY_DECL std::string redact(std::string text, std::string_view secret) {
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
