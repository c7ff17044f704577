// The disk cache's entry format and file handling.
//
// An entry is one file, `<dir>/v1/<first two hex digits of the key>/<key>`, holding
//   dspy-cache-v1 <key> <sha256 of the body>\n<body: {"model": ..., "completions": [...]}>
// Writers replace an entry atomically (write_file_atomic), so a reader (in any thread or process)
// sees either a whole old entry or a whole new one. The header's checksum catches everything else
// (a truncated or damaged file, a file copied under another name): such an entry reads as a miss,
// and the next put replaces it.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "../../primitives/message.hpp"
#include "../config.hpp"

namespace dspy::detail {

inline constexpr std::string_view cache_entry_magic = "dspy-cache-v1";

[[nodiscard]] inline std::filesystem::path cache_entry_path(const std::filesystem::path& dir, const std::string& key) {
  return dir / "v1" / key.substr(0, 2) / key;
}

[[nodiscard]] DSPY_DECL std::string encode_cache_entry(const std::string& key, const LMResponse& response);

/// The response stored in `bytes` under `key`, or nothing if the bytes are not a whole, intact
/// entry for that key.
[[nodiscard]] DSPY_DECL std::optional<LMResponse> decode_cache_entry(const std::string& key, std::string_view bytes);

/// Larger entries are not written, and a file this large is not read: a bound on what a damaged or
/// replaced entry can make a reader allocate. Four times the default reply limit, since a reply
/// cannot hold more than fits in one.
inline constexpr std::size_t kMaxCacheEntryBytes = std::size_t{256} << 20;

/// The entry file's bytes, or nothing if it is not a regular file of at most kMaxCacheEntryBytes
/// that can be read. The cache writes only regular files: a symlink (say to /dev/zero), a FIFO (an
/// open would block until a writer comes) or a device in its place is a miss, which the next put
/// replaces.
[[nodiscard]] DSPY_DECL std::optional<std::string> read_cache_file(const std::filesystem::path& path);

}  // namespace dspy::detail

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "disk_impl.hpp"
#endif
