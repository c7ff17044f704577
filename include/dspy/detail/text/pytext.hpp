// Text exactly as Python writes it: repr of floats and strings, json.dumps of values.
#pragma once

#include <charconv>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "../config.hpp"
#include "json_string.hpp"

namespace dspy::detail {

template <class Int>
void append_int(std::string& out, Int v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

/// repr(float): shortest round-trip digits; fixed notation for exponents -4..15, else scientific
/// with a two-digit exponent; integral values keep ".0". `json` picks json.dumps' NaN/Infinity.
DSPY_DECL void append_py_float(std::string& out, double v, bool json = false);

/// append_py_float into a string of its own.
DSPY_DECL std::string py_float(double v);

/// repr(str): single quotes unless the text has a single quote and no double quote.
DSPY_DECL std::string py_repr(std::string_view s);

/// json.dumps of a boost::json value: separators ", " and ": " (or indent=N with "," and ": "),
/// non-ASCII kept. With `sort_keys`, keys are ordered as DSPy orders schema keys: "type" first,
/// then by code point.
DSPY_DECL void dump_py_json(std::string& out, const boost::json::value& v, bool sort_keys = false, int indent = -1,
                            int level = 0);

inline std::string py_json(const boost::json::value& v, bool sort_keys = false, int indent = -1) {
  std::string out;
  dump_py_json(out, v, sort_keys, indent);
  return out;
}

/// JSON text with every non-ASCII character written as `\uXXXX` (surrogate pairs past U+FFFF), as
/// json.dumps(ensure_ascii=True) writes it; non-ASCII only occurs inside JSON strings, so escaping
/// the text is escaping the strings. Ill-formed bytes pass unchanged.
DSPY_DECL std::string ascii_escaped(std::string_view json);

/// str() of the Python value a JSON value stands for: `{'query': {'type': 'string'}}`.
DSPY_DECL void append_py_literal(std::string& out, const boost::json::value& v);

/// str() of a field value as DSPy's prompts write it (create_example_string, TwoStepAdapter):
/// text as is, other values as Python prints them, a missing value (null pointer) as None.
inline std::string py_str(const boost::json::value* v) {
  if (!v) return "None";
  if (v->is_string()) return std::string(v->get_string());
  std::string out;
  append_py_literal(out, *v);
  return out;
}

// A value as a table cell shows it: strings bare, anything else as Python prints it.
inline std::string value_text(const boost::json::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  return py_json(v);
}

}  // namespace dspy::detail

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "pytext_impl.hpp"
#endif
