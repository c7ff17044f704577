// The bodies of disk.hpp: header-only, disk.hpp includes them; with DSPY_SEPARATE_COMPILATION,
// <dspy/src.hpp> compiles them once.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "../../primitives/message.hpp"
#include "../sha256.hpp"
#include "disk.hpp"

namespace dspy::detail {

DSPY_DECL std::string encode_cache_entry(const std::string& key, const LMResponse& response) {
  boost::json::array completions;
  for (const auto& c : response.completions) completions.emplace_back(c);
  boost::json::object entry{{"model", response.model}, {"completions", std::move(completions)}};
  if (!response.reasoning.empty())
    entry["reasoning"] = boost::json::array(response.reasoning.begin(), response.reasoning.end());
  if (!response.citations.empty())
    entry["citations"] = boost::json::array(response.citations.begin(), response.citations.end());
  if (!response.tool_calls.empty()) {
    boost::json::array calls;
    for (const auto& c : response.tool_calls) calls.push_back(tool_calls_json(c));
    entry["tool_calls"] = std::move(calls);
  }
  const std::string body = boost::json::serialize(entry);
  std::string out;
  out.reserve(cache_entry_magic.size() + 2 * 65 + 1 + body.size());
  out.append(cache_entry_magic).append(" ").append(key).append(" ").append(sha256_hex(body)).append("\n");
  return out.append(body);
}

DSPY_DECL std::optional<LMResponse> decode_cache_entry(const std::string& key, std::string_view bytes) {
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
  if (const auto* reasoning = obj.if_contains("reasoning")) {
    if (!reasoning->is_array() || reasoning->get_array().size() != out.completions.size()) return std::nullopt;
    for (const auto& r : reasoning->get_array()) {
      if (!r.is_string()) return std::nullopt;
      out.reasoning.emplace_back(r.get_string());
    }
  }
  if (const auto* citations = obj.if_contains("citations")) {
    if (!citations->is_array() || citations->get_array().size() != out.completions.size()) return std::nullopt;
    for (const auto& c : citations->get_array()) {
      if (!c.is_array()) return std::nullopt;
      out.citations.push_back(c.get_array());
    }
  }
  if (const auto* calls = obj.if_contains("tool_calls")) {
    if (!calls->is_array() || calls->get_array().size() != out.completions.size()) return std::nullopt;
    for (const auto& c : calls->get_array())
      if (!tool_calls_from_json(c, out.tool_calls.emplace_back())) return std::nullopt;
  }
  return out;
}

DSPY_DECL std::optional<std::string> read_cache_file(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
  if (fd < 0) return std::nullopt;
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 0 ||
      static_cast<std::uintmax_t>(st.st_size) > kMaxCacheEntryBytes)
    return std::nullopt;
  std::string out(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t used = 0;
  while (used < out.size()) {
    const ssize_t n = ::read(fd, out.data() + used, out.size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;  // an error, or a file cut short since fstat (not an entry)
    used += static_cast<std::size_t>(n);
  }
  return out;
}

}  // namespace dspy::detail
