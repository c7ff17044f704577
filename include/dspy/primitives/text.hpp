// Text normalization as DSPy's evaluation does it (dspy.evaluate.metrics.normalize_text).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "../detail/config.hpp"
#include "../detail/text/utf8.hpp"

namespace dspy {

namespace detail::text {

// Python strings hold code points, never invalid UTF-8: an ill-formed byte reads as U+FFFD.
DSPY_DECL std::u32string decode_utf8(std::string_view s);

template <class Row>
const Row* find_range(const Row* begin, const Row* end, char32_t cp) {
  const Row* it = std::upper_bound(begin, end, cp, [](char32_t c, const Row& r) { return c < r.first; });
  if (it == begin) return nullptr;
  --it;
  return cp <= it->last ? it : nullptr;
}

DSPY_DECL std::uint8_t combining_class(char32_t cp);
DSPY_DECL bool is_alnum(char32_t cp);
DSPY_DECL bool is_space(char32_t cp);

// unicodedata.normalize("NFD", s): full decomposition, then combining marks in canonical order.
DSPY_DECL std::u32string nfd(const std::u32string& in);

// str.lower, code point by code point. (Python also lowers a word-final capital sigma to U+03C2;
// here it is always U+03C3.)
DSPY_DECL std::u32string lower(const std::u32string& in);

// string.punctuation: ASCII only.
constexpr bool is_ascii_punct(char32_t cp) {
  return (cp >= 0x21 && cp <= 0x2F) || (cp >= 0x3A && cp <= 0x40) || (cp >= 0x5B && cp <= 0x60) ||
         (cp >= 0x7B && cp <= 0x7E);
}

// re.sub(r"\b(a|an|the)\b", " ", text) with Python's Unicode \w (isalnum or '_').
DSPY_DECL std::u32string remove_articles(const std::u32string& in);

}  // namespace detail::text

/// DSPy's normalize_text: Unicode NFD, lowercase, ASCII punctuation removed, the articles
/// "a", "an" and "the" removed, whitespace collapsed to single spaces. UTF-8 in and out.
/// `normalize_text("The,  Eiffel  Tower!") == "eiffel tower"`.
DSPY_DECL std::string normalize_text(std::string_view s);

}  // namespace dspy

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "text_impl.hpp"
#endif
