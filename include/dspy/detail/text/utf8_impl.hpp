// The bodies of utf8.hpp: header-only, utf8.hpp includes them; with DSPY_SEPARATE_COMPILATION,
// <dspy/src.hpp> compiles them once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "utf8.hpp"

namespace dspy::detail {

DSPY_DECL std::size_t find_invalid_utf8(std::string_view s) noexcept {
  std::size_t i = 0;
  while (i < s.size()) {
    if (s.size() - i >= 8) {
      std::uint64_t word;
      std::memcpy(&word, s.data() + i, 8);
      if ((word & 0x8080808080808080ULL) == 0) {
        i += 8;
        continue;
      }
    }
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const std::size_t size = decode_utf8_char(s, i).size;
    if (size == 0) return i;
    i += size;
  }
  return std::string_view::npos;
}

DSPY_DECL std::string describe_invalid_utf8(std::string_view s, std::size_t at) {
  static constexpr char hex[] = "0123456789abcdef";
  const auto b = static_cast<unsigned char>(s[at]);
  return "invalid UTF-8 at byte " + std::to_string(at) + " (0x" + hex[b >> 4] + hex[b & 0xF] + ")";
}

}  // namespace dspy::detail
