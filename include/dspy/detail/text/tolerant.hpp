// Reading what LMs actually write: trimmed text, code fences, JSON inside prose, Python literals.
#pragma once

#include <cctype>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json.hpp>

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
inline std::optional<std::string> python_literal_to_json(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '\'' || c == '"') {
      out += '"';
      for (++i; i < s.size() && s[i] != c; ++i) {
        if (s[i] == '\\' && i + 1 < s.size()) {
          if (s[i + 1] == '\'') out += '\'';
          else (out += '\\') += s[i + 1];
          ++i;
        } else if (s[i] == '"') {
          out += "\\\"";
        } else if (s[i] == '\n') {
          out += "\\n";
        } else {
          out += s[i];
        }
      }
      if (i >= s.size()) return std::nullopt;
      out += '"';
    } else if (std::isalpha(static_cast<unsigned char>(c))) {
      std::size_t j = i;
      while (j < s.size() && std::isalnum(static_cast<unsigned char>(s[j]))) ++j;
      const std::string_view word = s.substr(i, j - i);
      if (word == "True") out += "true";
      else if (word == "False") out += "false";
      else if (word == "None") out += "null";
      else return std::nullopt;
      i = j - 1;
    } else if (c == ',') {
      std::size_t j = i + 1;
      while (j < s.size() && is_space(s[j])) ++j;
      if (j < s.size() && (s[j] == ']' || s[j] == '}' || s[j] == ')')) continue;  // trailing comma
      out += c;
    } else if (c == '(') {
      out += '[';
    } else if (c == ')') {
      out += ']';
    } else {
      out += c;
    }
  }
  return out;
}

inline std::optional<boost::json::value> try_parse_json(std::string_view s) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(s, ec);
  if (ec) return std::nullopt;
  return v;
}

/// JSON as LMs write it: plain, in a code fence, inside prose, or as a Python literal.
/// `how` says which repair was needed (empty when none).
inline std::optional<boost::json::value> parse_json_tolerant(std::string_view text, std::string* how = nullptr) {
  const auto note = [&](const char* what) {
    if (how) *how = what;
  };
  if (auto v = try_parse_json(text)) return v;
  const std::string_view unfenced = strip_code_fence(text);
  if (unfenced.size() != trim(text).size()) {
    note("removed a code fence");
    if (auto v = try_parse_json(unfenced)) return v;
  }
  const std::string_view span = find_json_span(unfenced);
  if (!span.empty() && span.size() != unfenced.size()) {
    note("took the JSON value out of surrounding text");
    if (auto v = try_parse_json(span)) return v;
  }
  const std::string_view candidate = span.empty() ? unfenced : span;
  if (auto converted = python_literal_to_json(candidate)) {
    if (auto v = try_parse_json(*converted)) {
      note("read a Python literal as JSON");
      return v;
    }
  }
  return std::nullopt;
}

}  // namespace dspy::detail
