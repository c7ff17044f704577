// The bodies of xml.hpp's XmlReader and functions: header-only, xml.hpp includes them; with
// DSPY_SEPARATE_COMPILATION, <dspy/src.hpp> compiles them once.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "utf8.hpp"
#include "xml.hpp"

namespace dspy::detail {

DSPY_DECL bool XmlReader::entity(std::string& out) {
  const std::size_t semi = s_.find(';', i_);
  if (semi == std::string_view::npos || semi - i_ > 10) return fail("unescaped '&'");
  const std::string_view name = s_.substr(i_ + 1, semi - i_ - 1);
  if (name == "amp") out += '&';
  else if (name == "lt") out += '<';
  else if (name == "gt") out += '>';
  else if (name == "quot") out += '"';
  else if (name == "apos") out += '\'';
  else if (name.size() > 1 && name[0] == '#') {
    unsigned long cp = 0;
    try {
      cp = name[1] == 'x' ? std::stoul(std::string(name.substr(2)), nullptr, 16) : std::stoul(std::string(name.substr(1)));
    } catch (...) {
      return fail("bad character reference");
    }
    // As XML (and ElementTree) allow: no NUL, no surrogates, nothing past U+10FFFF.
    if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) return fail("bad character reference");
    append_utf8(out, static_cast<char32_t>(cp));
  } else {
    return fail("unknown entity '&" + std::string(name) + ";'");
  }
  i_ = semi + 1;
  return true;
}

DSPY_DECL bool XmlReader::content(XmlElement& parent, std::string_view closing) {
  std::string* text = &parent.text;
  while (i_ < s_.size()) {
    const char c = s_[i_];
    if (c == '&') {
      if (!entity(*text)) return false;
    } else if (c != '<') {
      *text += c;
      ++i_;
    } else if (s_.substr(i_, 4) == "<!--") {
      const std::size_t end = s_.find("-->", i_ + 4);
      if (end == std::string_view::npos) return fail("unclosed comment");
      i_ = end + 3;
    } else if (s_.substr(i_, 9) == "<![CDATA[") {
      const std::size_t end = s_.find("]]>", i_ + 9);
      if (end == std::string_view::npos) return fail("unclosed CDATA section");
      *text += s_.substr(i_ + 9, end - i_ - 9);
      i_ = end + 3;
    } else if (s_.substr(i_, 2) == "</") {
      const std::size_t end = s_.find('>', i_);
      if (end == std::string_view::npos) return fail("unclosed end tag");
      std::string_view tag = s_.substr(i_ + 2, end - i_ - 2);
      while (!tag.empty() && (tag.back() == ' ' || tag.back() == '\n' || tag.back() == '\t')) tag.remove_suffix(1);
      if (closing.empty() || tag != closing) return fail("mismatched tag </" + std::string(tag) + ">");
      i_ = end + 1;
      return true;
    } else if (s_.substr(i_, 2) == "<?") {
      const std::size_t end = s_.find("?>", i_);
      if (end == std::string_view::npos) return fail("unclosed processing instruction");
      i_ = end + 2;
    } else {
      const std::size_t start = i_;
      // Nesting is recursion here, and each element keeps its source text: bound both.
      if (depth_ == kMaxXmlDepth) return fail("elements nested deeper than " + std::to_string(kMaxXmlDepth));
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
  if (!closing.empty()) return fail("no end tag for <" + std::string(closing) + ">");
  return true;
}

DSPY_DECL bool XmlReader::element(XmlElement& e) {
  ++i_;  // '<'
  const std::size_t name_start = i_;
  while (i_ < s_.size() && name_char(s_[i_])) ++i_;
  if (i_ == name_start) return fail("not well-formed (invalid token)");
  e.tag.assign(s_.substr(name_start, i_ - name_start));
  for (;;) {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r')) ++i_;
    if (i_ >= s_.size()) return fail("unclosed start tag");
    if (s_[i_] == '>') {
      ++i_;
      return content(e, e.tag);
    }
    if (s_.substr(i_, 2) == "/>") {
      i_ += 2;
      return true;
    }
    const std::size_t attr_start = i_;
    while (i_ < s_.size() && name_char(s_[i_])) ++i_;
    if (i_ == attr_start) return fail("not well-formed (invalid token)");
    const std::string_view attr = s_.substr(attr_start, i_ - attr_start);
    while (i_ < s_.size() && s_[i_] == ' ') ++i_;
    if (i_ >= s_.size() || s_[i_] != '=') return fail("attribute without value");
    ++i_;
    while (i_ < s_.size() && s_[i_] == ' ') ++i_;
    if (i_ >= s_.size() || (s_[i_] != '"' && s_[i_] != '\'')) return fail("unquoted attribute value");
    const char q = s_[i_++];
    std::string value;
    while (i_ < s_.size() && s_[i_] != q) {
      if (s_[i_] == '&') {
        if (!entity(value)) return false;
      } else {
        // Attribute-value normalization: a literal tab or line break reads as a space.
        const char c = s_[i_++];
        value += c == '\n' || c == '\t' || c == '\r' ? ' ' : c;
      }
    }
    if (i_ >= s_.size()) return fail("unclosed attribute value");
    ++i_;
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
