// Whole-file reads and atomic whole-file writes with typed errors naming the path.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>

#include "../../primitives/error.hpp"

namespace dspy::detail {

inline Result<std::string> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(Errc::io, "cannot read " + path.string());
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) return Error(Errc::io, "cannot read " + path.string());
  return std::move(text).str();
}

/// Writes a temporary file in the same directory, then renames it over `path`: readers see the
/// old file or the new one, never half of one.
inline Result<void> write_file_atomic(const std::filesystem::path& path, std::string_view text) {
  std::filesystem::path tmp = path;
  tmp += ".tmp" + std::to_string(std::hash<std::string_view>{}(text) ^ reinterpret_cast<std::uintptr_t>(&text));
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) {
      std::error_code ignored;
      std::filesystem::remove(tmp, ignored);
      return Error(Errc::io, "cannot write " + tmp.string());
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    return Error(Errc::io, "cannot write " + path.string() + ": " + ec.message());
  }
  return {};
}

}  // namespace dspy::detail
