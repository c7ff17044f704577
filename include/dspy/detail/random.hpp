// Seeded randomness that gives the same sequence with every compiler and standard library.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <random>
#include <string_view>
#include <utility>
#include <vector>

namespace dspy::detail {

/// FNV-1a, then splitmix64's finalizer: a well-spread hash of a text, the same on every platform.
constexpr std::uint64_t text_hash(std::string_view text, std::uint64_t seed = 0) noexcept {
  std::uint64_t h = 14695981039346656037ULL ^ seed;
  for (const char c : text) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  return h ^ (h >> 31);
}

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
