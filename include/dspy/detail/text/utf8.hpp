// UTF-8: encoding one code point, decoding one, and finding the first ill-formed byte.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "../config.hpp"

namespace dspy::detail {

inline void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

struct Utf8Char {
  char32_t cp = 0;
  std::size_t size = 0;  ///< bytes; 0 when ill-formed
};

/// The code point that starts at `s[i]` (`i < s.size()`), or size 0 when the bytes there are not
/// well-formed UTF-8: a stray continuation byte, a cut sequence, an overlong form, a surrogate, or
/// a value past U+10FFFF (what Python's strict decoder and Boost.JSON's parser reject).
[[nodiscard]] inline Utf8Char decode_utf8_char(std::string_view s, std::size_t i) noexcept {
  const auto b = static_cast<unsigned char>(s[i]);
  const std::size_t len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
  char32_t cp = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
  bool ok = len != 0 && i + len <= s.size();
  for (std::size_t k = 1; ok && k < len; ++k) {
    const auto c = static_cast<unsigned char>(s[i + k]);
    ok = (c >> 6) == 0x2;
    cp = (cp << 6) | (c & 0x3F);
  }
  static constexpr char32_t min_for_len[] = {0, 0, 0x80, 0x800, 0x10000};
  ok = ok && cp >= min_for_len[len] && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
  return ok ? Utf8Char{cp, len} : Utf8Char{};
}

/// The offset of the first byte of `s` that is not part of well-formed UTF-8, or npos. One pass;
/// ASCII, the common case, goes eight bytes at a time.
[[nodiscard]] DSPY_DECL std::size_t find_invalid_utf8(std::string_view s) noexcept;

/// "invalid UTF-8 at byte 12 (0xff)", for errors about `s`, whose first ill-formed byte is at `at`.
[[nodiscard]] DSPY_DECL std::string describe_invalid_utf8(std::string_view s, std::size_t at);

}  // namespace dspy::detail

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "utf8_impl.hpp"
#endif
