// The bodies of xml.hpp's XmlReader and functions: header-only, xml.hpp includes them; with
// DSPY_SEPARATE_COMPILATION, <dspy/src.hpp> compiles them once.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "utf8.hpp"
#include "xml.hpp"

namespace dspy::detail {

DSPY_DECL bool XmlReader::fail(std::string_view what, std::size_t at) {
  if (!error_.empty()) return false;
  // Lines end at \n, \r\n or \r; columns count characters; line 1 starts after "<dspy_root>".
  std::size_t line = 1;
  std::size_t column = 11;
  const std::size_t end = std::min(at, s_.size());
  for (std::size_t i = 0; i < end; ++i) {
    const char c = s_[i];
    if (c == '\n' || (c == '\r' && (i + 1 >= s_.size() || s_[i + 1] != '\n'))) {
      ++line;
      column = 0;
    } else if (c != '\r' && (static_cast<unsigned char>(c) & 0xC0) != 0x80) {
      ++column;
    }
  }
  column += at - end;
  error_ = std::string(what) + ": line " + std::to_string(line) + ", column " + std::to_string(column);
  return false;
}

DSPY_DECL bool XmlReader::entity(std::string& out, std::size_t undefined_at) {
  const std::size_t amp = i_;
  std::size_t j = i_ + 1;
  if (at(j) == '#') {
    const bool hex = at(++j) == 'x';
    if (hex) ++j;
    const std::size_t digits = j;
    unsigned long cp = 0;
    bool too_big = false;
    for (;; ++j) {
      const char c = at(j);
      int d = -1;
      if (c >= '0' && c <= '9') d = c - '0';
      else if (hex && c >= 'a' && c <= 'f') d = c - 'a' + 10;
      else if (hex && c >= 'A' && c <= 'F') d = c - 'A' + 10;
      if (d < 0) break;
      cp = cp * (hex ? 16 : 10) + static_cast<unsigned long>(d);
      too_big = too_big || cp > 0x10FFFF;
      if (too_big) cp = 0x110000;  // no overflow, however many digits
    }
    if (j == digits || at(j) != ';') return invalid_token(j);
    // An XML Char: no NUL or other C0 control but tab and line breaks, no surrogates, no FFFE/FFFF.
    if ((cp < 0x20 && cp != 0x9 && cp != 0xA && cp != 0xD) || (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE ||
        cp == 0xFFFF || cp > 0x10FFFF)
      return fail("reference to invalid character number", amp);
    append_utf8(out, static_cast<char32_t>(cp));
  } else {
    if (!name_start(at(j))) return invalid_token(j);
    while (name_char(at(j))) ++j;
    if (at(j) != ';') return invalid_token(j);
    const std::string_view name = s_.substr(amp + 1, j - amp - 1);
    if (name == "amp") out += '&';
    else if (name == "lt") out += '<';
    else if (name == "gt") out += '>';
    else if (name == "quot") out += '"';
    else if (name == "apos") out += '\'';
    else return fail("undefined entity", undefined_at);
  }
  i_ = j + 1;
  return true;
}

DSPY_DECL bool XmlReader::content(XmlElement& parent, std::string_view closing) {
  std::string* text = &parent.text;
  while (i_ < s_.size()) {
    const char c = s_[i_];
    if (c == '&') {
      if (!entity(*text, i_)) return false;
    } else if (c != '<') {
      if (static_cast<unsigned char>(c) < 0x20 && !space(c)) return invalid_token(i_);
      if (c == '>' && i_ >= 2 && s_[i_ - 1] == ']' && s_[i_ - 2] == ']') return invalid_token(i_);  // "]]>"
      *text += c;
      ++i_;
    } else if (s_.substr(i_, 4) == "<!--") {
      const std::size_t end = s_.find("-->", i_ + 4);
      if (end == std::string_view::npos) return fail("unclosed token", i_);
      i_ = end + 3;
    } else if (s_.substr(i_, 9) == "<![CDATA[") {
      const std::size_t end = s_.find("]]>", i_ + 9);
      if (end == std::string_view::npos) return fail("unclosed CDATA section", s_.size() + 12);
      *text += s_.substr(i_ + 9, end - i_ - 9);
      i_ = end + 3;
    } else if (at(i_ + 1) == '!') {
      return invalid_token(i_ + 2);  // a DOCTYPE or other declaration
    } else if (at(i_ + 1) == '?') {
      const std::size_t end = s_.find("?>", i_);
      if (end == std::string_view::npos) return fail("unclosed token", i_);
      const std::string_view target = s_.substr(i_ + 2, 3);
      if ((target == "xml" || target == "XML") && space(at(i_ + 5)))
        return fail("XML or text declaration not at start of entity", i_);
      i_ = end + 2;
    } else if (at(i_ + 1) == '/') {
      const std::size_t tag_at = i_ + 2;
      std::size_t j = tag_at;
      if (!name_start(at(j))) return invalid_token(j);
      while (name_char(at(j))) ++j;
      const std::string_view tag = s_.substr(tag_at, j - tag_at);
      while (space(at(j))) ++j;
      if (at(j) != '>') return invalid_token(j);
      if (closing.empty() || tag != closing) return fail("mismatched tag", tag_at);
      i_ = j + 1;
      return true;
    } else if (!name_start(at(i_ + 1))) {
      return invalid_token(i_ + 1);
    } else {
      const std::size_t start = i_;
      // Nesting is recursion here, and each element keeps its source text: bound both.
      if (depth_ == kMaxXmlDepth) return fail("elements nested deeper than " + std::to_string(kMaxXmlDepth), i_);
      XmlElement child;
      ++depth_;
      const bool ok = element(child);
      --depth_;
      if (!ok) return false;
      child.raw.assign(s_.substr(start, i_ - start));
      parent.children.push_back(std::move(child));
      text = &parent.children.back().tail;
    }
  }
  // The reply ended inside an element: expat meets "</dspy_root>" instead of its end tag.
  if (!closing.empty()) return fail("mismatched tag", s_.size() + 2);
  return true;
}

DSPY_DECL bool XmlReader::element(XmlElement& e) {
  ++i_;  // '<'
  const std::size_t name_start_at = i_;
  while (name_char(at(i_))) ++i_;
  e.tag.assign(s_.substr(name_start_at, i_ - name_start_at));
  std::vector<std::string_view> attributes;
  for (;;) {
    const std::size_t before = i_;
    while (space(at(i_))) ++i_;
    if (at(i_) == '>' && i_ < s_.size()) {
      ++i_;
      return content(e, e.tag);
    }
    if (at(i_) == '/') {
      if (at(i_ + 1) != '>') return invalid_token(i_ + 1);
      i_ += 2;
      return true;
    }
    // An attribute: after white space, a name, '=', a quoted value.
    if (i_ == before || !name_start(at(i_))) return invalid_token(i_);
    const std::size_t attr_start = i_;
    while (name_char(at(i_))) ++i_;
    const std::string_view attr = s_.substr(attr_start, i_ - attr_start);
    while (space(at(i_))) ++i_;
    if (at(i_) != '=') return invalid_token(i_);
    ++i_;
    while (space(at(i_))) ++i_;
    const char q = at(i_);
    if (q != '"' && q != '\'') return invalid_token(i_);
    ++i_;
    std::string value;
    while (at(i_) != q) {
      if (at(i_) == '<') return invalid_token(i_);
      if (s_[i_] == '&') {
        if (!entity(value, name_start_at - 1)) return false;
      } else {
        // Attribute-value normalization: a literal tab or line break reads as a space.
        const char c = s_[i_++];
        value += c == '\n' || c == '\t' || c == '\r' ? ' ' : c;
      }
    }
    ++i_;
    if (std::find(attributes.begin(), attributes.end(), attr) != attributes.end())
      return fail("duplicate attribute", attr_start);
    attributes.push_back(attr);
    if (attr == "key") e.key = std::move(value);
  }
}

DSPY_DECL void append_xml_text(std::string& out, std::string_view s) {
  for (const char c : s) {
    if (c == '&') out += "&amp;";
    else if (c == '<') out += "&lt;";
    else out += c;
  }
}

DSPY_DECL void append_xml_attr(std::string& out, std::string_view s) {
  const bool dq = s.find('"') != std::string_view::npos;
  const bool sq = s.find('\'') != std::string_view::npos;
  const char quote = dq && !sq ? '\'' : '"';
  out += quote;
  for (const char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '\n': out += "&#10;"; break;
      case '\r': out += "&#13;"; break;
      case '\t': out += "&#9;"; break;
      case '"':
        if (quote == '"') out += "&quot;";
        else out += c;
        break;
      default: out += c;
    }
  }
  out += quote;
}

}  // namespace dspy::detail
