// Seeded randomness that gives the same sequence with every compiler and standard library.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <random>
#include <utility>
#include <vector>

namespace dspy::detail {

/// A uniform integer in [0, bound) from a 64-bit engine, by rejection (the standard
/// distributions' algorithms are unspecified, so their results differ between libraries).
inline std::uint64_t uniform_below(std::mt19937_64& rng, std::uint64_t bound) {
  const std::uint64_t limit = std::numeric_limits<std::uint64_t>::max() -
                              std::numeric_limits<std::uint64_t>::max() % bound;
  std::uint64_t x = rng();
  while (x >= limit) x = rng();
  return x % bound;
}

/// Shuffles in place with Fisher-Yates over std::mt19937_64: the same seed gives the same order
/// with every compiler and standard library (std::shuffle's algorithm is unspecified).
template <class T>
void shuffle(std::vector<T>& items, std::mt19937_64& rng) {
  for (std::size_t i = items.size(); i > 1; --i) {
    const auto j = static_cast<std::size_t>(uniform_below(rng, i));
    if (j != i - 1) std::swap(items[i - 1], items[j]);
  }
}

}  // namespace dspy::detail
