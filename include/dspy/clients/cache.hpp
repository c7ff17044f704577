// The LM response cache: an in-memory LRU in front of a persistent disk cache shared by every
// thread and process that uses the same directory. Keys are SHA-256 digests of the canonical
// request (what is asked, never who asks or where: no API key, no base URL).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "../detail/cache/lru.hpp"
#include "../detail/config.hpp"
#include "../detail/sha256.hpp"
#include "../primitives/message.hpp"

namespace dspy {

/// A cache key: 64 lowercase hex digits (a SHA-256 digest). Made by cache_key() or from_hex(),
/// so that a key is always safe to use as a file name.
class CacheKey {
 public:
  /// The key spelled by `hex`, or nothing if it is not 64 lowercase hex digits.
  [[nodiscard]] static DSPY_DECL std::optional<CacheKey> from_hex(std::string_view hex);

  [[nodiscard]] const std::string& hex() const noexcept { return hex_; }
  friend bool operator==(const CacheKey&, const CacheKey&) = default;

 private:
  explicit CacheKey(std::string hex) : hex_(std::move(hex)) {}
  std::string hex_;
};

namespace detail {
// Request fields that say where or as whom to call, not what to ask (DSPy ignores the same).
inline bool is_ignored_cache_field(std::string_view key) noexcept {
  return key == "api_key" || key == "api_base" || key == "base_url";
}
}  // namespace detail

/// The canonical form of a request, as hashed by cache_key(): a JSON object with the model, the
/// messages, every parameter that is set, `extra` merged over them (as the LM merges it into the
/// body) less api_key/api_base/base_url, and `config.rollout_id` when set. Exposed so that a key
/// can be explained.
[[nodiscard]] DSPY_DECL std::string canonical_request(std::string_view model, const LMRequest& request);

/// The cache key of `request` sent to `model`. `config.rollout_id` (DSPy's) separates otherwise
/// equal requests: it is part of the key and never sent to the provider.
[[nodiscard]] inline CacheKey cache_key(std::string_view model, const LMRequest& request) {
  return *CacheKey::from_hex(detail::sha256_hex(canonical_request(model, request)));
}

/// Where the disk cache lives by default: `$DSPY_CACHEDIR`, else `$XDG_CACHE_HOME/dspy-cpp`, else
/// `~/.cache/dspy-cpp`; empty if none of these is set (the disk cache is then off).
[[nodiscard]] DSPY_DECL std::filesystem::path default_cache_directory();

struct CacheOptions {
  bool enable_memory = true;
  bool enable_disk = true;
  std::filesystem::path directory{};           ///< empty: default_cache_directory()
  std::size_t memory_max_entries = 1'000'000;  ///< DSPy's default; 0 keeps nothing in memory
  /// What the memory layer may hold in all (a reply over it alone is kept on disk only): with
  /// DSPy's count alone, a million 64 MiB replies could be kept.
  std::size_t memory_max_bytes = 256U << 20;
};

/// Thread-safe; any number of Cache objects and processes may share a directory.
class Cache {
 public:
  DSPY_DECL explicit Cache(CacheOptions options = {});

  /// The cached response for `key`: memory first, then disk (a disk hit is kept in memory).
  /// A hit has `cache_hit == true` and zero usage, since no tokens were spent on it.
  [[nodiscard]] DSPY_DECL std::optional<LMResponse> get(const CacheKey& key);

  /// Stores `response` (its completions and model) under `key` in every enabled layer. False if
  /// the disk write failed (e.g. a read-only directory): the cache is best effort, so callers
  /// carry on either way.
  DSPY_DECL bool put(const CacheKey& key, const LMResponse& response);

  /// Forgets the in-memory entries (the disk cache stays).
  void clear_memory() {
    std::lock_guard lock(mutex_);
    memory_.clear();
  }

  [[nodiscard]] std::size_t memory_size() const {
    std::lock_guard lock(mutex_);
    return memory_.size();
  }

  /// What the memory layer holds, in bytes (at most CacheOptions::memory_max_bytes).
  [[nodiscard]] std::size_t memory_bytes() const {
    std::lock_guard lock(mutex_);
    return memory_.bytes();
  }

  /// The options in effect: `directory` resolved, `enable_disk` false if there is no directory.
  [[nodiscard]] const CacheOptions& options() const noexcept { return options_; }

 private:
  DSPY_DECL bool write_entry(const CacheKey& key, const std::string& bytes) const;

  CacheOptions options_;
  mutable std::mutex mutex_;
  struct ResponseBytes {
    std::size_t operator()(const LMResponse& r) const noexcept {
      std::size_t n = r.model.size();
      for (const auto& c : r.completions) n += sizeof(std::string) + c.size();
      return n;
    }
  };
  detail::LruMap<LMResponse, ResponseBytes> memory_;
};

namespace detail {
struct DefaultCache {
  std::mutex mutex;
  std::shared_ptr<Cache> cache;
};
inline DefaultCache& default_cache_slot() {
  static DefaultCache slot;
  return slot;
}
}  // namespace detail

/// The process-wide cache LMs use, made with CacheOptions{} on first use.
[[nodiscard]] DSPY_DECL std::shared_ptr<Cache> default_cache();

/// Replaces the process-wide cache: `dspy::configure_cache({.enable_disk = false})`. Calls
/// already running keep the cache they started with.
DSPY_DECL void configure_cache(CacheOptions options);

}  // namespace dspy

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "cache_impl.hpp"
#endif
