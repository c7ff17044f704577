// The body of json_string.hpp: header-only, json_string.hpp includes it; with
// DSPY_SEPARATE_COMPILATION, <dspy/src.hpp> compiles it once.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "json_string.hpp"

namespace dspy::detail {

DSPY_DECL void append_json_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  const auto escaped = [](unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; };
  // The bytes at `p` below 0x20, '"' or '\\', as the high bit of each (bit tricks on one word):
  // exact up to the first such byte, which is all the copy needs. Most of a prompt is copied in
  // runs between the bytes to escape.
  const auto escape_mask = [](const char* p) {
    std::uint64_t x = 0;
    std::memcpy(&x, p, 8);
    constexpr std::uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    const auto zero_byte = [](std::uint64_t v) { return (v - ones) & ~v & highs; };
    const std::uint64_t below_space = (x - ones * 0x20) & ~x & highs;
    return below_space | zero_byte(x ^ (ones * '"')) | zero_byte(x ^ (ones * '\\'));
  };
  out.reserve(out.size() + s.size() + 2);
  out += '"';
  const char* run = s.data();
  const char* const end = s.data() + s.size();
  for (const char* p = run; p != end;) {
    if constexpr (std::endian::native == std::endian::little) {
      if (end - p >= 8) {
        const std::uint64_t m = escape_mask(p);
        if (m == 0) {
          p += 8;
          continue;
        }
        p += std::countr_zero(m) / 8;  // the first byte to escape
      }
    }
    const auto c = static_cast<unsigned char>(*p);
    if (!escaped(c)) {
      ++p;
      continue;
    }
    out.append(run, p);
    run = ++p;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default: {
        const char u[] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf]};
        out.append(u, sizeof u);
      }
    }
  }
  out.append(run, end);
  out += '"';
}

}  // namespace dspy::detail
