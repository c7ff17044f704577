// Arithmetic on float vectors, written so that the compiler vectorizes it without -ffast-math.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

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

/// A row's score. Best first: the higher score, then the earlier row.
struct Scored {
  float score;
  std::size_t index;
  friend bool operator<(const Scored& a, const Scored& b) noexcept {
    return a.score > b.score || (a.score == b.score && a.index < b.index);
  }
};

/// The `k` best of `candidates`, best first.
inline std::vector<Scored> best(std::vector<Scored> candidates, std::size_t k) {
  k = std::min(k, candidates.size());
  std::partial_sort(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(k), candidates.end());
  candidates.resize(k);
  return candidates;
}

}  // namespace dspy::detail
