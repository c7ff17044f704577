// The bodies of metrics.hpp's non-template code that reads the Unicode tables: header-only,
// metrics.hpp includes them; with DSPY_SEPARATE_COMPILATION, <dspy/src.hpp> compiles them once.
#pragma once

#include <iterator>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../detail/text/unicode_tables.hpp"
#include "../detail/text/utf8.hpp"
#include "../primitives/text.hpp"
#include "metrics.hpp"

namespace dspy {

DSPY_DECL std::vector<std::string> dpr_tokens(std::string_view text) {
  using namespace detail::text;
  const auto in = [](const auto& table, char32_t cp) { return find_range(std::begin(table), std::end(table), cp) != nullptr; };
  const std::u32string s = lower(nfd(decode_utf8(text)));
  std::vector<std::string> out;
  for (std::size_t i = 0; i < s.size();) {
    if (in(detail::unicode::dpr_word, s[i])) {
      std::string word;
      while (i < s.size() && in(detail::unicode::dpr_word, s[i])) detail::append_utf8(word, s[i++]);
      out.push_back(std::move(word));
    } else {
      if (in(detail::unicode::dpr_single, s[i])) detail::append_utf8(out.emplace_back(), s[i]);
      ++i;
    }
  }
  return out;
}

}  // namespace dspy
