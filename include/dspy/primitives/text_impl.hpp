// The bodies of text.hpp: header-only, text.hpp includes them; with DSPY_SEPARATE_COMPILATION,
// <dspy/src.hpp> compiles them once.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "../detail/text/unicode_tables.hpp"
#include "../detail/text/utf8.hpp"
#include "text.hpp"

namespace dspy {

namespace detail::text {

DSPY_DECL std::u32string decode_utf8(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const Utf8Char c = decode_utf8_char(s, i);
    out.push_back(c.size ? c.cp : U'\uFFFD');
    i += c.size ? c.size : 1;
  }
  return out;
}

DSPY_DECL std::uint8_t combining_class(char32_t cp) {
  const auto& t = unicode::combining;
  const auto* r = find_range(std::begin(t), std::end(t), cp);
  return r ? r->ccc : 0;
}

DSPY_DECL bool is_alnum(char32_t cp) {
  if (cp < 0x80) return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
  const auto& t = unicode::alnum;
  return find_range(std::begin(t), std::end(t), cp) != nullptr;
}

DSPY_DECL bool is_space(char32_t cp) {
  return std::find(std::begin(unicode::space), std::end(unicode::space), cp) != std::end(unicode::space);
}

DSPY_DECL std::u32string nfd(const std::u32string& in) {
  std::u32string out;
  out.reserve(in.size() + in.size() / 4);
  const auto& table = unicode::decompositions;
  for (const char32_t cp : in) {
    if (cp >= 0xAC00 && cp <= 0xD7A3) {  // Hangul syllables: the algorithm of Unicode ch. 3.12
      const char32_t s = cp - 0xAC00;
      out += static_cast<char32_t>(0x1100 + s / 588);
      out += static_cast<char32_t>(0x1161 + (s % 588) / 28);
      if (s % 28) out += static_cast<char32_t>(0x11A7 + s % 28);
      continue;
    }
    const auto* it = std::lower_bound(std::begin(table), std::end(table), cp,
                                      [](const unicode::Decomposition& d, char32_t c) { return d.cp < c; });
    if (it == std::end(table) || it->cp != cp) {
      out += cp;
      continue;
    }
    for (const char32_t d : it->to)
      if (d) out += d;
  }
  // Canonical ordering: a stable sort of each run of non-starters by combining class.
  for (std::size_t i = 0; i < out.size();) {
    if (!combining_class(out[i])) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < out.size() && combining_class(out[j])) ++j;
    std::stable_sort(out.begin() + static_cast<std::ptrdiff_t>(i), out.begin() + static_cast<std::ptrdiff_t>(j),
                     [](char32_t a, char32_t b) { return combining_class(a) < combining_class(b); });
    i = j;
  }
  return out;
}

DSPY_DECL std::u32string lower(const std::u32string& in) {
  std::u32string out;
  out.reserve(in.size());
  const auto& runs = unicode::lower_runs;
  for (const char32_t cp : in) {
    if (cp < 0x80) {
      out += (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
      continue;
    }
    if (cp == 0x130) {  // İ lowers to i + combining dot above
      out += U'i';
      out += U'\u0307';
      continue;
    }
    const auto* r = find_range(std::begin(runs), std::end(runs), cp);
    if (r && (cp - r->first) % r->stride == 0) out += static_cast<char32_t>(static_cast<std::int32_t>(cp) + r->delta);
    else out += cp;
  }
  return out;
}

DSPY_DECL std::u32string remove_articles(const std::u32string& in) {
  const auto word = [&](std::size_t i) { return i < in.size() && (is_alnum(in[i]) || in[i] == U'_'); };
  std::u32string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size();) {
    if (i == 0 || !word(i - 1)) {
      std::size_t len = 0;
      for (std::u32string_view article : {U"a", U"an", U"the"})
        if (std::u32string_view(in).substr(i, article.size()) == article && !word(i + article.size()))
          len = article.size();
      if (len) {
        out += U' ';
        i += len;
        continue;
      }
    }
    out += in[i++];
  }
  return out;
}

}  // namespace detail::text

DSPY_DECL std::string normalize_text(std::string_view s) {
  using namespace detail::text;
  std::u32string text = lower(nfd(decode_utf8(s)));
  std::erase_if(text, is_ascii_punct);
  text = remove_articles(text);
  std::string out;
  out.reserve(text.size());
  bool pending_space = false;
  for (const char32_t cp : text) {
    if (is_space(cp)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    detail::append_utf8(out, cp);
  }
  return out;
}

}  // namespace dspy
