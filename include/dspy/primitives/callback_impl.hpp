// The bodies of callback.hpp: header-only, callback.hpp includes them; with
// DSPY_SEPARATE_COMPILATION, <dspy/src.hpp> compiles them once.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <ctime>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include <boost/json.hpp>

#include "../detail/io/file.hpp"
#include "callback.hpp"
#include "error.hpp"
#include "message.hpp"

namespace dspy {

DSPY_DECL std::string detail::call_path(const ModuleCall* parent, const void* instance, const void* tag,
                                       std::string_view module) {
  if (!parent) return "self";
  std::string where = parent->find_member ? parent->find_member(parent->instance, instance, tag) : std::string();
  // Not a member of the calling module (a local, or reached through a pointer): named by its type.
  if (where.empty()) where = "<" + std::string(module) + ">";
  return parent->path + "." + where;
}

DSPY_DECL JsonlLog::~JsonlLog() {
  if (fd_ >= 0) ::close(fd_);
}

DSPY_DECL void JsonlLog::on_lm_start(const CallInfo& call, std::string_view model, const LMRequest& request) {
  boost::json::array messages;
  for (const auto& m : request.messages) messages.push_back(detail::message_json(m));
  boost::json::object config;
  if (request.config.temperature) config["temperature"] = *request.config.temperature;
  if (request.config.max_tokens) config["max_tokens"] = *request.config.max_tokens;
  if (request.config.n) config["n"] = *request.config.n;
  if (request.config.rollout_id) config["rollout_id"] = *request.config.rollout_id;
  for (const auto& kv : request.config.extra) config[kv.key()] = kv.value();
  std::lock_guard lock(mutex_);
  pending_[call.id] = {{"model", model}, {"messages", std::move(messages)}, {"config", std::move(config)}};
}

DSPY_DECL void JsonlLog::on_lm_end(const CallInfo& call, const Result<LMResponse>& response,
                                   std::chrono::nanoseconds latency) {
  std::lock_guard lock(mutex_);
  auto node = pending_.extract(call.id);
  boost::json::object line = node.empty() ? boost::json::object{} : std::move(node.mapped());
  line["time"] = static_cast<std::int64_t>(std::time(nullptr));
  line["latency_ms"] = std::chrono::duration<double, std::milli>(latency).count();
  if (response) {
    boost::json::array completions;
    for (const auto& c : response->completions) completions.emplace_back(c);
    line["completions"] = std::move(completions);
    line["usage"] = {{"prompt_tokens", response->usage.prompt_tokens},
                     {"completion_tokens", response->usage.completion_tokens},
                     {"total_tokens", response->usage.total_tokens}};
    line["cache_hit"] = response->cache_hit;
  } else {
    line["error"] = detail::error_json(response.error());
  }
  // One write per line: with O_APPEND, each lands whole at the end even when processes share the file.
  if (fd_ < 0 || !detail::write_all(fd_, boost::json::serialize(line) + "\n")) failed_ = true;
}

}  // namespace dspy
