// Whole-file reads, atomic whole-file writes and appends, with typed errors naming the path.
//
// File policy: every file the library creates (cache entries, saved programs, evaluation results,
// optimizer logs, the JSONL call log) is created owner-only, 0600 (the umask can only narrow it),
// since each may hold prompts and replies. A file that already exists keeps its permissions: an
// atomic replace copies them onto the new file, an append leaves them alone.
#pragma once

#include <fcntl.h>
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "../../primitives/error.hpp"
#include "../config.hpp"

namespace dspy::detail {

inline constexpr mode_t kPrivateFileMode = 0600;

DSPY_DECL Result<std::string> read_file(const std::filesystem::path& path);

/// The bytes of the regular file at `path` (a symlink is followed), read into one string of its
/// size; an Errc::io error when it is missing, unreadable, not a regular file (a FIFO, a device
/// such as /dev/zero) or larger than `max_bytes`, or when it changes size while read.
DSPY_DECL Result<std::string> read_regular_file(const std::filesystem::path& path, std::uintmax_t max_bytes);

/// read_file for text: a file that is not UTF-8 is a parse error naming the line and column (in
/// bytes) of its first ill-formed byte, rather than text that JSON cannot hold.
DSPY_DECL Result<std::string> read_text_file(const std::filesystem::path& path);

/// Writes all of `bytes` to `fd`; false on an error (errno says which).
DSPY_DECL bool write_all(int fd, std::string_view bytes) noexcept;

/// A temp-file name no other thread or process picks: pid, a per-process counter, and a random
/// salt (pids repeat across containers sharing a volume).
[[nodiscard]] DSPY_DECL std::string unique_temp_suffix();

/// Writes `bytes` to a new temp file beside `path`, then renames it over `path`: readers (in any
/// thread or process) see the old file or the new one, never half of one, and a writer killed
/// midway leaves only its temp file. On failure no temp file is left behind. No fsync: the
/// callers need atomicity, not durability across a power loss.
DSPY_DECL Result<void> write_file_atomic(const std::filesystem::path& path, std::string_view bytes);

/// Opens `path` for appending, creating it owner-only; -1 on failure.
[[nodiscard]] inline int open_for_append(const std::filesystem::path& path) noexcept {
  return ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, kPrivateFileMode);
}

}  // namespace dspy::detail

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "file_impl.hpp"
#endif
