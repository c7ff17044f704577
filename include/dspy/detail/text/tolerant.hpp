// Reading what LMs actually write: trimmed text, code fences, JSON inside prose, Python literals.
#pragma once

#include <cctype>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "../config.hpp"

namespace dspy::detail {

constexpr bool is_space(char c) noexcept {
  return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

constexpr std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

constexpr char ascii_lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}

/// Whether the header line `line` ("Name: value") is the header `name`, in any letter case.
constexpr bool header_named(std::string_view line, std::string_view name) noexcept {
  return line.size() > name.size() && line[name.size()] == ':' && iequals(line.substr(0, name.size()), name);
}

/// "```json\n{...}\n```" -> "{...}"; text without a leading fence is returned unchanged.
constexpr std::string_view strip_code_fence(std::string_view s) noexcept {
  s = trim(s);
  if (s.substr(0, 3) != "```") return s;
  const std::size_t nl = s.find('\n');
  if (nl == std::string_view::npos) return s;
  std::string_view body = s.substr(nl + 1);
  const std::size_t close = body.rfind("```");
  if (close != std::string_view::npos) body = body.substr(0, close);
  return trim(body);
}

/// The first balanced {...} or [...] in the text (brackets inside strings are skipped).
constexpr std::string_view find_json_span(std::string_view s) noexcept {
  const std::size_t start = s.find_first_of("{[");
  if (start == std::string_view::npos) return {};
  int depth = 0;
  char quote = 0;
  for (std::size_t i = start; i < s.size(); ++i) {
    const char c = s[i];
    if (quote) {
      if (c == '\\') ++i;
      else if (c == quote) quote = 0;
      continue;
    }
    if (c == '"' || c == '\'') quote = c;
    else if (c == '{' || c == '[') ++depth;
    else if ((c == '}' || c == ']') && --depth == 0) return s.substr(start, i - start + 1);
  }
  return {};
}

/// Python literal syntax to JSON: 'single quotes', True/False/None, trailing commas, (tuples).
/// Returns nullopt when the text is not a Python literal either.
DSPY_DECL std::optional<std::string> python_literal_to_json(std::string_view s);

DSPY_DECL std::optional<boost::json::value> try_parse_json(std::string_view s);

/// JSON as LMs write it: plain, in a code fence, inside prose, or as a Python literal.
/// `how` says which repair was needed (empty when none).
DSPY_DECL std::optional<boost::json::value> parse_json_tolerant(std::string_view text, std::string* how = nullptr);

}  // namespace dspy::detail

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "tolerant_impl.hpp"
#endif
