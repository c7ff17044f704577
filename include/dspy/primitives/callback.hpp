// Callbacks: hooks on predictor, adapter, LM and tool events (DSPy's BaseCallback), and a
// JSONL log of every LM call built on them.
#pragma once

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "../detail/io/file.hpp"
#include "error.hpp"
#include "message.hpp"

namespace dspy {

/// Override the events you need. Each start/end pair shares a call id. Callbacks run on the
/// calling coroutine's thread and must not throw.
class Callback {
 public:
  virtual ~Callback() = default;
  virtual void on_module_start(std::uint64_t /*call_id*/, std::string_view /*module*/,
                               const boost::json::value& /*inputs*/) {}
  virtual void on_module_end(std::uint64_t /*call_id*/, const boost::json::value& /*outputs*/,
                             const Error* /*error*/) {}
  virtual void on_adapter_format_start(std::uint64_t /*call_id*/, std::string_view /*adapter*/,
                                       const boost::json::value& /*inputs*/) {}
  virtual void on_adapter_format_end(std::uint64_t /*call_id*/, const std::vector<Message>& /*messages*/) {}
  virtual void on_lm_start(std::uint64_t /*call_id*/, std::string_view /*model*/, const LMRequest& /*request*/) {}
  virtual void on_lm_end(std::uint64_t /*call_id*/, const Result<LMResponse>& /*response*/,
                         std::chrono::nanoseconds /*latency*/) {}
  virtual void on_adapter_parse_start(std::uint64_t /*call_id*/, std::string_view /*adapter*/,
                                      std::string_view /*completion*/) {}
  virtual void on_adapter_parse_end(std::uint64_t /*call_id*/, const boost::json::value& /*outputs*/,
                                    const Error* /*error*/) {}
  virtual void on_tool_start(std::uint64_t /*call_id*/, std::string_view /*tool*/, const boost::json::value& /*args*/) {}
  virtual void on_tool_end(std::uint64_t /*call_id*/, std::string_view /*observation*/, const Error* /*error*/) {}
};

/// A fresh id for a start/end pair of events.
inline std::uint64_t next_call_id() {
  static std::atomic<std::uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

namespace detail {
inline boost::json::object error_json(const Error& e) {
  return {{"code", to_string(e.code())}, {"message", e.message()}};
}
}  // namespace detail

/// Writes one JSON line per LM call (messages, parameters, completions or error, usage, latency,
/// model, time) to a file: a capture of every LM call of a run. Requests carry no API keys. A new
/// file is created owner-only (0600), as every file the library writes; an existing one is
/// appended to and keeps its permissions.
class JsonlLog : public Callback {
 public:
  explicit JsonlLog(const std::filesystem::path& path) : fd_(detail::open_for_append(path)) {}
  JsonlLog(const JsonlLog&) = delete;
  JsonlLog& operator=(const JsonlLog&) = delete;
  ~JsonlLog() override {
    if (fd_ >= 0) ::close(fd_);
  }
  /// False if the file could not be opened, or a line could not be written.
  [[nodiscard]] bool ok() const { return fd_ >= 0 && !failed_; }

  void on_lm_start(std::uint64_t id, std::string_view model, const LMRequest& request) override {
    boost::json::array messages;
    for (const auto& m : request.messages) messages.push_back({{"role", m.role}, {"content", m.content}});
    boost::json::object config;
    if (request.config.temperature) config["temperature"] = *request.config.temperature;
    if (request.config.max_tokens) config["max_tokens"] = *request.config.max_tokens;
    if (request.config.n) config["n"] = *request.config.n;
    if (request.config.rollout_id) config["rollout_id"] = *request.config.rollout_id;
    for (const auto& kv : request.config.extra) config[kv.key()] = kv.value();
    std::lock_guard lock(mutex_);
    pending_[id] = {{"model", model}, {"messages", std::move(messages)}, {"config", std::move(config)}};
  }

  void on_lm_end(std::uint64_t id, const Result<LMResponse>& response, std::chrono::nanoseconds latency) override {
    std::lock_guard lock(mutex_);
    auto node = pending_.extract(id);
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

 private:
  std::mutex mutex_;
  int fd_;
  std::atomic<bool> failed_{false};
  std::map<std::uint64_t, boost::json::object> pending_;
};

}  // namespace dspy
