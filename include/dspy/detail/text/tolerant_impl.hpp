// The bodies of tolerant.hpp's functions: header-only, tolerant.hpp includes them; with
// DSPY_SEPARATE_COMPILATION, <dspy/src.hpp> compiles them once.
#pragma once

#include <cctype>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "tolerant.hpp"

namespace dspy::detail {

DSPY_DECL std::optional<std::string> python_literal_to_json(std::string_view s) {
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

DSPY_DECL std::optional<boost::json::value> try_parse_json(std::string_view s) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(s, ec);
  if (ec) return std::nullopt;
  return v;
}

DSPY_DECL std::optional<boost::json::value> parse_json_tolerant(std::string_view text, std::string* how) {
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
