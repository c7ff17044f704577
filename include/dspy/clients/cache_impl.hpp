// The bodies of cache.hpp: header-only, cache.hpp includes them; with DSPY_SEPARATE_COMPILATION,
// <dspy/src.hpp> compiles them once.
#pragma once

#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "../detail/cache/canonical.hpp"
#include "../detail/cache/disk.hpp"
#include "../detail/io/file.hpp"
#include "../detail/sha256.hpp"
#include "../primitives/message.hpp"
#include "cache.hpp"

namespace dspy {

DSPY_DECL std::optional<CacheKey> CacheKey::from_hex(std::string_view hex) {
  if (hex.size() != 64) return std::nullopt;
  for (char c : hex)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
  return CacheKey(std::string(hex));
}

DSPY_DECL std::string canonical_request(std::string_view model, const LMRequest& request) {
  boost::json::object obj;
  obj["model"] = model;
  boost::json::array messages;
  for (const auto& m : request.messages) messages.push_back(detail::message_json(m));
  obj["messages"] = std::move(messages);
  if (!request.tools.empty()) obj["tools"] = request.tools;
  if (!request.tool_choice.is_null()) obj["tool_choice"] = request.tool_choice;
  if (request.parallel_tool_calls) obj["parallel_tool_calls"] = *request.parallel_tool_calls;
  const CallConfig& c = request.config;
  if (c.temperature) obj["temperature"] = *c.temperature;
  if (c.max_tokens) obj["max_tokens"] = *c.max_tokens;
  if (c.n) obj["n"] = *c.n;
  if (c.stop) {
    boost::json::array stop;
    for (const auto& s : *c.stop) stop.emplace_back(s);
    obj["stop"] = std::move(stop);
  }
  if (!request.response_format.is_null()) obj["response_format"] = request.response_format;
  for (const auto& kv : c.extra)
    if (!detail::is_ignored_cache_field(kv.key())) obj[kv.key()] = kv.value();
  if (c.rollout_id) obj["rollout_id"] = *c.rollout_id;
  return detail::canonical_json(obj);
}

DSPY_DECL std::filesystem::path default_cache_directory() {
  if (const char* dir = std::getenv("DSPY_CACHEDIR"); dir && *dir) return dir;
  // The XDG spec says a relative XDG_CACHE_HOME is invalid and must be ignored.
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg == '/')
    return std::filesystem::path(xdg) / "dspy-cpp";
  if (const char* home = std::getenv("HOME"); home && *home) return std::filesystem::path(home) / ".cache" / "dspy-cpp";
  return {};
}

DSPY_DECL Cache::Cache(CacheOptions options)
    : options_(std::move(options)),
      memory_(options_.enable_memory ? options_.memory_max_entries : 0, options_.memory_max_bytes) {
  if (options_.directory.empty()) options_.directory = default_cache_directory();
  if (options_.directory.empty()) options_.enable_disk = false;
}

DSPY_DECL std::optional<LMResponse> Cache::get(const CacheKey& key) {
  std::optional<LMResponse> found;
  if (options_.enable_memory) {
    std::lock_guard lock(mutex_);
    found = memory_.get(key.hex());
  }
  if (!found && options_.enable_disk) {
    if (auto bytes = detail::read_cache_file(detail::cache_entry_path(options_.directory, key.hex())))
      found = detail::decode_cache_entry(key.hex(), *bytes);
    if (found && options_.enable_memory) {
      std::lock_guard lock(mutex_);
      memory_.put(key.hex(), *found);
    }
  }
  if (found) found->cache_hit = true;
  return found;
}

DSPY_DECL bool Cache::put(const CacheKey& key, const LMResponse& response) {
  LMResponse stored{.completions = response.completions,
                    .reasoning = response.reasoning,
                    .citations = response.citations,
                    .tool_calls = response.tool_calls,
                    .usage = {},
                    .model = response.model,
                    .cache_hit = false};
  bool ok = true;
  if (options_.enable_disk) ok = write_entry(key, detail::encode_cache_entry(key.hex(), stored));
  if (options_.enable_memory) {
    std::lock_guard lock(mutex_);
    memory_.put(key.hex(), std::move(stored));
  }
  return ok;
}

DSPY_DECL bool Cache::write_entry(const CacheKey& key, const std::string& bytes) const {
  if (bytes.size() > detail::kMaxCacheEntryBytes) return false;  // it would never be read
  const std::filesystem::path path = detail::cache_entry_path(options_.directory, key.hex());
  if (detail::write_file_atomic(path, bytes)) return true;
  // Most likely the entry's directory is missing: create it (and its parents) once, and retry.
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  return !ec && detail::write_file_atomic(path, bytes);
}

DSPY_DECL std::shared_ptr<Cache> default_cache() {
  auto& slot = detail::default_cache_slot();
  std::lock_guard lock(slot.mutex);
  if (!slot.cache) slot.cache = std::make_shared<Cache>();
  return slot.cache;
}

DSPY_DECL void configure_cache(CacheOptions options) {
  auto cache = std::make_shared<Cache>(std::move(options));
  auto& slot = detail::default_cache_slot();
  std::lock_guard lock(slot.mutex);
  slot.cache = std::move(cache);
}

}  // namespace dspy
