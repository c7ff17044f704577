// Arithmetic on float vectors, written so that the compiler vectorizes it without -ffast-math.
#pragma once

#include <cstddef>

namespace dspy::detail {

/// a . b over `n` floats. Sixteen running sums the compiler keeps in vector registers: one sum
/// would have to add in order (floating-point addition is not associative), and so not vectorize.
inline float dot(const float* a, const float* b, std::size_t n) noexcept {
  constexpr std::size_t lanes = 16;
  float sums[lanes] = {};
  std::size_t i = 0;
  for (; i + lanes <= n; i += lanes) {
    // Unrolled, the sums stay in registers at -O2 too (GCC 12 otherwise keeps them in memory).
#pragma GCC unroll 16
    for (std::size_t j = 0; j < lanes; ++j) sums[j] += a[i + j] * b[i + j];
  }
  float total = 0;
  for (; i < n; ++i) total += a[i] * b[i];
  for (const float s : sums) total += s;
  return total;
}

}  // namespace dspy::detail
