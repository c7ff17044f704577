// The bodies of file.hpp: header-only, file.hpp includes them; with DSPY_SEPARATE_COMPILATION,
// <dspy/src.hpp> compiles them once.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "../../primitives/error.hpp"
#include "../text/utf8.hpp"
#include "file.hpp"

namespace dspy::detail {

DSPY_DECL Result<std::string> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(Errc::io, "cannot read " + path.string());
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) return Error(Errc::io, "cannot read " + path.string());
  return std::move(text).str();
}

DSPY_DECL Result<std::string> read_regular_file(const std::filesystem::path& path, std::uintmax_t max_bytes) {
  const auto fail = [&](const std::string& why) { return Error(Errc::io, "cannot read " + path.string() + ": " + why); };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return fail(std::generic_category().message(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return fail(std::generic_category().message(errno));
  if (!S_ISREG(st.st_mode)) return fail("not a regular file");
  const auto size = static_cast<std::uintmax_t>(st.st_size);
  if (size > max_bytes) return fail(std::to_string(size) + " bytes, over the limit of " + std::to_string(max_bytes));
  std::string out(static_cast<std::size_t>(size), '\0');
  std::size_t used = 0;
  while (used < out.size()) {
    const ssize_t n = ::read(fd, out.data() + used, out.size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(std::generic_category().message(errno));
    if (n == 0) return fail("the file was cut short while read");
    used += static_cast<std::size_t>(n);
  }
  char extra = 0;
  if (::read(fd, &extra, 1) > 0) return fail("the file grew while read");
  return out;
}

DSPY_DECL Result<std::string> read_text_file(const std::filesystem::path& path) {
  auto text = read_file(path);
  if (!text) return text;
  const std::size_t at = find_invalid_utf8(*text);
  if (at == std::string_view::npos) return text;
  const std::string_view before = std::string_view(*text).substr(0, at);
  const std::size_t line = 1 + static_cast<std::size_t>(std::count(before.begin(), before.end(), '\n'));
  const std::size_t line_start = before.rfind('\n');
  const std::size_t column = line_start == std::string_view::npos ? at + 1 : at - line_start;
  return Error(Errc::parse_error, path.string() + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " +
                                      describe_invalid_utf8(*text, at) + "; the file must be UTF-8 text");
}

DSPY_DECL bool write_all(int fd, std::string_view bytes) noexcept {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

DSPY_DECL std::string unique_temp_suffix() {
  static std::atomic<std::uint64_t> counter{0};
  static const std::uint64_t salt = [] {
    std::random_device rd;
    return (std::uint64_t{rd()} << 32) ^ rd();
  }();
  return std::to_string(::getpid()) + "." + std::to_string(counter.fetch_add(1)) + "." + std::to_string(salt);
}

DSPY_DECL Result<void> write_file_atomic(const std::filesystem::path& path, std::string_view bytes) {
  const auto fail = [&](const std::filesystem::path& what, int err) {
    return Error(Errc::io, "cannot write " + what.string() + ": " + std::generic_category().message(err));
  };
  int fd = -1;
  std::filesystem::path temp;
  for (int attempt = 0; attempt < 4 && fd < 0; ++attempt) {
    temp = path.parent_path() / ("." + path.filename().string() + "." + unique_temp_suffix() + ".tmp");
    fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, kPrivateFileMode);
    if (fd < 0 && errno != EEXIST) return fail(path, errno);
  }
  if (fd < 0) return fail(temp, EEXIST);
  struct stat existing {};
  bool ok = write_all(fd, bytes);
  int err = ok ? 0 : errno;
  if (ok && ::stat(path.c_str(), &existing) == 0 && S_ISREG(existing.st_mode) &&
      (existing.st_mode & 07777) != kPrivateFileMode)
    ::fchmod(fd, existing.st_mode & 07777);  // best effort: the contents matter more
  if (::close(fd) != 0 && ok) {
    ok = false;
    err = errno;
  }
  if (ok && ::rename(temp.c_str(), path.c_str()) != 0) {
    ok = false;
    err = errno;
  }
  if (ok) return {};
  ::unlink(temp.c_str());
  return fail(path, err);
}

}  // namespace dspy::detail
