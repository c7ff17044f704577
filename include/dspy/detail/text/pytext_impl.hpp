// The bodies of pytext.hpp's functions: header-only, pytext.hpp includes them; with
// DSPY_SEPARATE_COMPILATION, <dspy/src.hpp> compiles them once.
#pragma once

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "pytext.hpp"
#include "utf8.hpp"

namespace dspy::detail {

DSPY_DECL void append_py_float(std::string& out, double v, bool json) {
  if (std::isnan(v)) {
    out += json ? "NaN" : "nan";
    return;
  }
  if (std::isinf(v)) {
    out += v < 0 ? "-" : "";
    out += json ? "Infinity" : "inf";
    return;
  }
  char buf[40];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string_view sci(buf, static_cast<std::size_t>(end - buf));  // "-d.ddde+XX"
  bool negative = false;
  if (sci.front() == '-') {
    negative = true;
    sci.remove_prefix(1);
  }
  const std::size_t epos = sci.find('e');
  std::string digits;
  digits += sci[0];
  if (epos > 1) digits.append(sci.substr(2, epos - 2));
  int exp = 0;
  std::from_chars(sci.data() + epos + 1 + (sci[epos + 1] == '+'), sci.data() + sci.size(), exp);

  if (negative) out += '-';
  if (exp >= -4 && exp < 16) {
    if (exp < 0) {
      out += "0.";
      out.append(static_cast<std::size_t>(-exp - 1), '0');
      out += digits;
    } else if (static_cast<std::size_t>(exp) + 1 >= digits.size()) {
      out += digits;
      out.append(static_cast<std::size_t>(exp) + 1 - digits.size(), '0');
      out += ".0";
    } else {
      out.append(digits, 0, static_cast<std::size_t>(exp) + 1);
      out += '.';
      out.append(digits, static_cast<std::size_t>(exp) + 1);
    }
    return;
  }
  out += digits[0];
  if (digits.size() > 1) {
    out += '.';
    out.append(digits, 1);
  }
  out += exp < 0 ? "e-" : "e+";
  const int mag = exp < 0 ? -exp : exp;
  if (mag < 10) out += '0';
  append_int(out, mag);
}

DSPY_DECL std::string py_float(double v) {
  std::string s;
  append_py_float(s, v);
  return s;
}

DSPY_DECL std::string py_repr(std::string_view s) {
  const bool use_double = s.find('\'') != std::string_view::npos && s.find('"') == std::string_view::npos;
  const char q = use_double ? '"' : '\'';
  std::string out(1, q);
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (ch == q || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (ch == '\n') {
      out += "\\n";
    } else if (ch == '\r') {
      out += "\\r";
    } else if (ch == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      static constexpr char hex[] = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 0xf];
    } else {
      out += ch;
    }
  }
  out += q;
  return out;
}

DSPY_DECL void dump_py_json(std::string& out, const boost::json::value& v, bool sort_keys, int indent, int level) {
  const auto newline = [&](int lvl) {
    out += '\n';
    out.append(static_cast<std::size_t>(indent * lvl), ' ');
  };
  switch (v.kind()) {
    case boost::json::kind::null: out += "null"; break;
    case boost::json::kind::bool_: out += v.get_bool() ? "true" : "false"; break;
    case boost::json::kind::int64: append_int(out, v.get_int64()); break;
    case boost::json::kind::uint64: append_int(out, v.get_uint64()); break;
    case boost::json::kind::double_: append_py_float(out, v.get_double(), true); break;
    case boost::json::kind::string: append_json_string(out, v.get_string()); break;
    case boost::json::kind::array: {
      const auto& a = v.get_array();
      if (a.empty()) {
        out += "[]";
        break;
      }
      out += '[';
      bool first = true;
      for (const auto& e : a) {
        if (!first) out += indent >= 0 ? "," : ", ";
        first = false;
        if (indent >= 0) newline(level + 1);
        dump_py_json(out, e, sort_keys, indent, level + 1);
      }
      if (indent >= 0) newline(level);
      out += ']';
      break;
    }
    case boost::json::kind::object: {
      const auto& o = v.get_object();
      if (o.empty()) {
        out += "{}";
        break;
      }
      std::vector<const boost::json::key_value_pair*> items;
      items.reserve(o.size());
      for (const auto& kv : o) items.push_back(&kv);
      if (sort_keys)
        std::stable_sort(items.begin(), items.end(), [](auto* a, auto* b) {
          const bool at = a->key() == "type", bt = b->key() == "type";
          if (at != bt) return at;
          return a->key() < b->key();
        });
      out += '{';
      bool first = true;
      for (const auto* kv : items) {
        if (!first) out += indent >= 0 ? "," : ", ";
        first = false;
        if (indent >= 0) newline(level + 1);
        append_json_string(out, kv->key());
        out += ": ";
        dump_py_json(out, kv->value(), sort_keys, indent, level + 1);
      }
      if (indent >= 0) newline(level);
      out += '}';
      break;
    }
  }
}

DSPY_DECL void append_py_literal(std::string& out, const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null: out += "None"; break;
    case boost::json::kind::bool_: out += v.get_bool() ? "True" : "False"; break;
    case boost::json::kind::int64: append_int(out, v.get_int64()); break;
    case boost::json::kind::uint64: append_int(out, v.get_uint64()); break;
    case boost::json::kind::double_: append_py_float(out, v.get_double()); break;
    case boost::json::kind::string: out += py_repr(v.get_string()); break;
    case boost::json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& e : v.get_array()) {
        if (!first) out += ", ";
        first = false;
        append_py_literal(out, e);
      }
      out += ']';
      break;
    }
    case boost::json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& kv : v.get_object()) {
        if (!first) out += ", ";
        first = false;
        out += py_repr(kv.key());
        out += ": ";
        append_py_literal(out, kv.value());
      }
      out += '}';
      break;
    }
  }
}

DSPY_DECL std::string ascii_escaped(std::string_view json) {
  std::string out;
  out.reserve(json.size());
  const auto unit = [&](unsigned u) {
    static constexpr char hex[] = "0123456789abcdef";
    out += "\\u";
    for (int shift = 12; shift >= 0; shift -= 4) out += hex[(u >> shift) & 0xF];
  };
  for (std::size_t i = 0; i < json.size();) {
    if (static_cast<unsigned char>(json[i]) < 0x80) {
      out += json[i++];
      continue;
    }
    const Utf8Char c = decode_utf8_char(json, i);
    if (c.size == 0) {
      out += json[i++];
      continue;
    }
    if (c.cp > 0xFFFF) {
      const char32_t v = c.cp - 0x10000;
      unit(0xD800 + static_cast<unsigned>(v >> 10));
      unit(0xDC00 + static_cast<unsigned>(v & 0x3FF));
    } else {
      unit(static_cast<unsigned>(c.cp));
    }
    i += c.size;
  }
  return out;
}

}  // namespace dspy::detail
