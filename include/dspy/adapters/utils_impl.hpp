// The bodies of utils.hpp's functions: header-only, utils.hpp includes them; with
// DSPY_SEPARATE_COMPILATION, <dspy/src.hpp> compiles them once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "../detail/text/pytext.hpp"
#include "../detail/text/xml.hpp"
#include "../primitives/error.hpp"
#include "signature_view.hpp"
#include "utils.hpp"

namespace dspy::detail {

DSPY_DECL std::optional<boost::json::array> marked_json(std::string_view inner) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(inner, ec);
  if (ec) {
    std::string quoted = "\"";
    quoted += inner;
    quoted += '"';
    const boost::json::value text = boost::json::parse(quoted, ec);
    if (ec || !text.is_string()) return std::nullopt;
    v = boost::json::parse(text.get_string(), ec);
    if (ec) return std::nullopt;
  }
  if (!v.is_array()) return std::nullopt;
  return std::move(v.get_array());
}

DSPY_DECL void split_content_parts(std::vector<Message>& messages) {
  for (Message& m : messages) {
    if (m.role != "user" || !m.content.is_text()) continue;
    const std::string& text = m.content.text();
    std::vector<ContentPart> parts;
    const auto add_text = [&](std::string_view t) { parts.push_back({{"type", "text"}, {"text", t}}); };
    std::size_t last = 0;
    for (std::size_t start = text.find(kCustomTypeStart); start != std::string::npos;
         start = text.find(kCustomTypeStart, last)) {
      const std::size_t inner = start + kCustomTypeStart.size();
      const std::size_t end = text.find(kCustomTypeEnd, inner);
      if (end == std::string::npos) break;
      if (start > last) add_text(std::string_view(text).substr(last, start - last));
      const std::string_view body = trim(std::string_view(text).substr(inner, end - inner));
      const auto json = marked_json(body);
      if (json && !json->empty()) {
        for (const auto& p : *json)
          if (p.is_object()) parts.push_back(p.get_object());
      } else {
        add_text(body);
      }
      last = end + kCustomTypeEnd.size();
    }
    if (parts.empty()) continue;
    if (last < text.size()) add_text(std::string_view(text).substr(last));
    m.content = Content(std::move(parts));
  }
}

DSPY_DECL std::string&& strip_in_place(std::string&& s) {
  std::size_t end = s.size();
  while (end > 0 && is_space(s[end - 1])) --end;
  s.resize(end);
  std::size_t begin = 0;
  while (begin < s.size() && is_space(s[begin])) ++begin;
  s.erase(0, begin);
  return std::move(s);
}

DSPY_DECL std::string task_description(std::string_view instructions) {
  std::vector<std::string_view> lines;
  for (std::size_t pos = 0; pos < instructions.size();) {
    std::size_t nl = instructions.find('\n', pos);
    if (nl == std::string_view::npos) nl = instructions.size();
    std::string_view line = instructions.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    pos = nl + 1;
  }
  std::size_t common = std::string_view::npos;
  std::string_view margin;
  for (auto line : lines) {
    const std::size_t indent = line.find_first_not_of(" \t");
    if (indent == std::string_view::npos) continue;  // blank lines do not count
    const std::string_view m = line.substr(0, indent);
    if (common == std::string_view::npos) {
      margin = m;
      common = m.size();
    } else {
      std::size_t k = 0;
      while (k < common && k < m.size() && margin[k] == m[k]) ++k;
      common = k;
    }
  }
  std::string out = "In adhering to this structure, your objective is: ";
  for (auto line : lines) {
    out += "\n        ";
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    out += line.substr(common == std::string_view::npos ? 0 : common);
  }
  return out;
}

DSPY_DECL std::string field_lines(const std::vector<FieldMeta>& fields) {
  std::string s;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i) s += '\n';
    append_int(s, i + 1);
    s += ". `";
    s += fields[i].name;
    s += "` (";
    s += fields[i].type_name;
    s += "): ";
    s += fields[i].desc;
    s += fields[i].type_description;
  }
  return strip_in_place(std::move(s));
}

DSPY_DECL std::string field_description(const SignatureMeta& m) {
  return "Your input fields are:\n" + field_lines(m.inputs) + "\nYour output fields are:\n" + field_lines(m.outputs);
}

DSPY_DECL void append_marker_block(std::string& out, std::string_view name, std::string_view value) {
  out += "[[ ## ";
  out += name;
  out += " ## ]]\n";
  out += value;
}

DSPY_DECL void append_xml_block(std::string& out, std::string_view name, std::string_view value) {
  out += '<';
  out += name;
  out += ">\n";
  out += value;
  out += "\n</";
  out += name;
  out += '>';
}

DSPY_DECL std::string chat_user_message_content(const FieldValues& inputs, std::string_view prefix,
                                                std::string_view requirements) {
  return user_message_content(inputs, prefix, requirements, [](std::string& out, const FieldValues& v, std::size_t i) {
    append_marker_block(out, v.name(i), {});
    v.render(i, out);
  });
}

DSPY_DECL std::string marker_blocks(const std::vector<FieldMeta>& fields) {
  std::string s;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i) s += "\n\n";
    append_marker_block(s, fields[i].name, fields[i].structure);
  }
  return strip_in_place(std::move(s));
}

DSPY_DECL std::string join_parts(std::initializer_list<std::string_view> parts) {
  std::string s;
  bool first = true;
  for (auto p : parts) {
    if (!first) s += "\n\n";
    first = false;
    s += p;
  }
  return strip_in_place(std::move(s));
}

DSPY_DECL bool xml_identifier(std::string_view name) {
  if (name.empty()) return false;
  const auto ok = [](char c, bool first) {
    if (c == '-' || c == '.') c = '_';
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (!first && c >= '0' && c <= '9') ||
           static_cast<unsigned char>(c) >= 0x80;
  };
  if (!ok(name[0] == '-' || name[0] == '.' ? '!' : name[0], true)) return false;
  for (std::size_t i = 1; i < name.size(); ++i)
    if (!ok(name[i], false)) return false;
  return true;
}

DSPY_DECL void value_to_xml(std::string& out, const boost::json::value& v, std::string_view tag,
                            std::string_view key, bool has_key) {
  const auto open = [&] {
    out += '<';
    out += tag;
    if (has_key) {
      out += " key=";
      append_xml_attr(out, key);
    }
  };
  const auto close = [&] {
    out += "</";
    out += tag;
    out += '>';
  };
  if (v.is_array()) {
    open();
    if (v.get_array().empty()) {
      out += " />";
      return;
    }
    out += '>';
    for (const auto& item : v.get_array()) value_to_xml(out, item, "item");
    close();
  } else if (v.is_object()) {
    open();
    out += '>';
    for (const auto& kv : v.get_object()) {
      if (xml_identifier(kv.key())) value_to_xml(out, kv.value(), kv.key());
      else value_to_xml(out, kv.value(), "entry", kv.key(), true);
    }
    close();
  } else if (v.is_null()) {
    open();
    out += " />";
  } else {
    open();
    out += '>';
    std::string text;
    if (v.is_string()) text = v.get_string();
    else if (v.is_bool()) text = v.get_bool() ? "True" : "False";
    else if (v.is_double()) append_py_float(text, v.get_double());
    else text = boost::json::serialize(v);
    append_xml_text(out, text);
    close();
  }
}

// Runs on every line of every reply: plain character tests, no substrings.
DSPY_DECL bool match_chat_header(std::string_view line, std::string_view& name, std::size_t& end) {
  std::size_t i = 0;
  const auto pair = [&](char c) {
    if (i + 1 >= line.size() || line[i] != c || line[i + 1] != c) return false;
    i += 2;
    return true;
  };
  const auto spaces = [&] {
    while (i < line.size() && line[i] == ' ') ++i;
  };
  if (!pair('[')) return false;
  spaces();
  if (!pair('#')) return false;
  spaces();
  const std::size_t start = i;
  while (i < line.size() && (is_ident_char(line[i]) || static_cast<unsigned char>(line[i]) >= 0x80)) ++i;
  if (i == start) return false;
  name = line.substr(start, i - start);
  spaces();
  if (!pair('#')) return false;
  spaces();
  if (!pair(']')) return false;
  end = i;
  return true;
}

DSPY_DECL Error parse_error(Errc code, std::string_view adapter, const SignatureView& sig, std::string_view completion,
                            std::string message, const std::uint64_t* parsed, std::string field) {
  std::string msg = message.empty() ? std::string() : std::move(message) + "\n\n";
  msg += "Adapter ";
  msg += adapter;
  msg += " failed to parse the LM response. \n\nLM Response: ";
  msg += completion;
  msg += " \n\nExpected to find output fields in the LM response: [";
  for (std::size_t j = 0; j < sig.outputs.size(); ++j) {
    if (j) msg += ", ";
    msg += sig.outputs[j].name();
  }
  msg += "] \n\n";
  if (parsed) {
    msg += "Actual output fields parsed from the LM response: [";
    bool first = true;
    for (std::size_t j = 0; j < sig.outputs.size(); ++j) {
      if (!(*parsed >> j & 1U)) continue;
      if (!first) msg += ", ";
      first = false;
      msg += sig.outputs[j].name();
    }
    msg += "] \n\n";
  }
  return Error(code, std::move(msg), std::string(completion), std::move(field));
}

DSPY_DECL std::optional<Error> check_complete(std::string_view adapter, const SignatureView& sig,
                                              std::string_view completion, std::uint64_t& seen) {
  const std::size_t n = sig.outputs.size();
  for (std::size_t j = 0; j < n; ++j)
    if (!(seen >> j & 1U) && sig.outputs[j].is_optional) seen |= std::uint64_t{1} << j;
  if (n == 0 || seen == ~std::uint64_t{0} >> (64 - n)) return std::nullopt;
  std::string missing;
  for (std::size_t j = 0; j < n; ++j)
    if (!(seen >> j & 1U)) {
      missing = sig.outputs[j].name();
      break;
    }
  return parse_error(Errc::missing_field, adapter, sig, completion, {}, &seen, std::move(missing));
}

}  // namespace dspy::detail
