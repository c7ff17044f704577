// A small XML reader for LM replies: elements, attributes, text and the predefined entities.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "../config.hpp"
#include "utf8.hpp"

namespace dspy::detail {

/// Deeper XML is an error: no LM reply nests fields this far, and the reader recurses.
inline constexpr int kMaxXmlDepth = 100;

struct XmlElement {
  std::string tag;
  std::string key;   ///< the `key` attribute (dict entries), empty when absent
  std::string text;  ///< text before the first child (ElementTree's .text)
  std::string tail;  ///< text after this element, up to the next sibling (ElementTree's .tail)
  std::vector<XmlElement> children;
  std::string raw;  ///< the element's source text, for str fields that contain markup
};

// Reads an LM reply as DSPy does (ElementTree, i.e. expat, on "<dspy_root>" + reply +
// "</dspy_root>"), and words what is not well-formed as expat does, with its line and column in
// that wrapped text: "not well-formed (invalid token): line 1, column 22".
class XmlReader {
 public:
  explicit XmlReader(std::string_view src) : s_(src) {}

  /// Parses `src` as the content of a root element. nullopt (with error()) when not well-formed.
  std::optional<XmlElement> parse_root() {
    XmlElement root;
    if (!content(root, /*closing=*/{})) return std::nullopt;
    return root;
  }
  [[nodiscard]] const std::string& error() const { return error_; }

 private:
  // Offsets past the reply's end are in the closing "</dspy_root>".
  DSPY_DECL bool fail(std::string_view what, std::size_t at);
  bool invalid_token(std::size_t at) { return fail("not well-formed (invalid token)", at); }

  // An entity or character reference at i_; expat reports an undefined entity at `undefined_at`
  // (the `&` in text, the tag's `<` in an attribute value).
  DSPY_DECL bool entity(std::string& out, std::size_t undefined_at);

  static bool name_start(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
           static_cast<unsigned char>(c) >= 0x80;
  }
  static bool name_char(char c) { return name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.'; }
  static bool space(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }
  [[nodiscard]] char at(std::size_t i) const { return i < s_.size() ? s_[i] : '<'; }  // "</dspy_root>" follows

  // Reads children and text until `</closing>` (or the end, for the root).
  DSPY_DECL bool content(XmlElement& parent, std::string_view closing);

  DSPY_DECL bool element(XmlElement& e);

  std::string_view s_;
  std::size_t i_ = 0;
  int depth_ = 0;
  std::string error_;
};

/// Escapes text the way DSPy's XMLAdapter does (only '&' and '<').
DSPY_DECL void append_xml_text(std::string& out, std::string_view s);

/// An attribute value as Python's xml.sax.saxutils.quoteattr writes it, quotes included: `&`, `<`,
/// `>` and tab/newline/CR escaped; double quotes unless the value has a `"` (then single quotes,
/// or `&quot;` when it has both kinds).
DSPY_DECL void append_xml_attr(std::string& out, std::string_view s);

}  // namespace dspy::detail

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "xml_impl.hpp"
#endif
