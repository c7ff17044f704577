// The disk cache's entry format and file handling.
//
// An entry is one file, `<dir>/v1/<first two hex digits of the key>/<key>`, holding
//   dspy-cache-v1 <key> <sha256 of the body>\n<body: {"model": ..., "completions": [...]}>
// Writers create a uniquely named temp file beside the entry and rename() it over the entry, so a
// reader (in any thread or process) sees either a whole old entry or a whole new one. The header's
// checksum catches everything else (a truncated or damaged file, a file copied under another
// name): such an entry reads as a miss, and the next put replaces it.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "../../primitives/message.hpp"
#include "../sha256.hpp"

namespace dspy::detail {

inline constexpr std::string_view cache_entry_magic = "dspy-cache-v1";

[[nodiscard]] inline std::filesystem::path cache_entry_path(const std::filesystem::path& dir, const std::string& key) {
  return dir / "v1" / key.substr(0, 2) / key;
}

[[nodiscard]] inline std::string encode_cache_entry(const std::string& key, const LMResponse& response) {
  boost::json::array completions;
  for (const auto& c : response.completions) completions.emplace_back(c);
  const std::string body =
      boost::json::serialize(boost::json::object{{"model", response.model}, {"completions", std::move(completions)}});
  std::string out;
  out.reserve(cache_entry_magic.size() + 2 * 65 + 1 + body.size());
  out.append(cache_entry_magic).append(" ").append(key).append(" ").append(sha256_hex(body)).append("\n");
  return out.append(body);
}

/// The response stored in `bytes` under `key`, or nothing if the bytes are not a whole, intact
/// entry for that key.
[[nodiscard]] inline std::optional<LMResponse> decode_cache_entry(const std::string& key, std::string_view bytes) {
  const auto eol = bytes.find('\n');
  if (eol == std::string_view::npos) return std::nullopt;
  const std::string_view header = bytes.substr(0, eol);
  const std::string_view body = bytes.substr(eol + 1);
  const std::string expected_prefix = std::string(cache_entry_magic) + " " + key + " ";
  if (header.size() != expected_prefix.size() + 64 || header.substr(0, expected_prefix.size()) != expected_prefix ||
      header.substr(expected_prefix.size()) != sha256_hex(body))
    return std::nullopt;

  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(body, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto& obj = v.get_object();
  const auto* model = obj.if_contains("model");
  const auto* completions = obj.if_contains("completions");
  if (!model || !model->is_string() || !completions || !completions->is_array()) return std::nullopt;
  LMResponse out;
  out.model = std::string(model->get_string());
  for (const auto& c : completions->get_array()) {
    if (!c.is_string()) return std::nullopt;
    out.completions.emplace_back(c.get_string());
  }
  return out;
}

/// The whole file, or nothing if it cannot be opened or read.
[[nodiscard]] inline std::optional<std::string> read_cache_file(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string out;
  char buf[16384];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return std::nullopt;
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

/// A temp-file name no other thread or process picks: pid, a per-process counter, and a random
/// salt (pids repeat across containers sharing a volume).
[[nodiscard]] inline std::string unique_temp_suffix() {
  static std::atomic<std::uint64_t> counter{0};
  static const std::uint64_t salt = [] {
    std::random_device rd;
    return (std::uint64_t{rd()} << 32) ^ rd();
  }();
  return std::to_string(::getpid()) + "." + std::to_string(counter.fetch_add(1)) + "." + std::to_string(salt);
}

/// Writes `bytes` to a temp file in `target`'s directory, then renames it to `target`.
/// False (and no temp file left behind) if any step fails.
inline bool write_file_atomically(const std::filesystem::path& target, std::string_view bytes) {
  std::error_code ec;
  std::filesystem::create_directories(target.parent_path(), ec);
  if (ec) return false;
  int fd = -1;
  std::filesystem::path temp;
  for (int attempt = 0; attempt < 4 && fd < 0; ++attempt) {
    temp = target.parent_path() / ("." + target.filename().string() + "." + unique_temp_suffix() + ".tmp");
    // 0600: entries hold prompts and replies, which are the user's business alone.
    fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno != EEXIST) return false;
  }
  if (fd < 0) return false;
  bool ok = true;
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ok = false;
      break;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  ok = (::close(fd) == 0) && ok;
  // No fsync: after a power loss a renamed entry may read back damaged, which the checksum turns
  // into a miss; a cache does not need durability.
  if (ok) ok = ::rename(temp.c_str(), target.c_str()) == 0;
  if (!ok) ::unlink(temp.c_str());
  return ok;
}

}  // namespace dspy::detail
