// SHA-256 (FIPS 180-4), self-contained so that cache keys need no crypto library.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "config.hpp"

namespace dspy::detail {

class Sha256 {
 public:
  using Digest = std::array<std::uint8_t, 32>;

  DSPY_DECL Sha256& update(std::string_view data) noexcept;

  /// The digest of everything passed to update(); the hasher is spent afterwards.
  [[nodiscard]] DSPY_DECL Digest finish() noexcept;

 private:
  static constexpr std::uint32_t rotr(std::uint32_t x, int n) noexcept { return (x >> n) | (x << (32 - n)); }

  DSPY_DECL void compress() noexcept;

  std::array<std::uint32_t, 8> h_ = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                     0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  std::array<std::uint8_t, 64> block_{};
  std::size_t used_ = 0;
  std::uint64_t length_ = 0;
};

/// Lowercase hex of a digest.
[[nodiscard]] DSPY_DECL std::string to_hex(const Sha256::Digest& digest);

/// sha256(data) as 64 lowercase hex digits.
[[nodiscard]] inline std::string sha256_hex(std::string_view data) { return to_hex(Sha256().update(data).finish()); }

}  // namespace dspy::detail

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "sha256_impl.hpp"
#endif
