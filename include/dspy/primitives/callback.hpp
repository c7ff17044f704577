// Callbacks: hooks on predictor, adapter, LM and tool events (DSPy's BaseCallback), and a
// JSONL log of every LM call built on them.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "../detail/config.hpp"
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
  DSPY_DECL ~JsonlLog() override;
  /// False if the file could not be opened, or a line could not be written.
  [[nodiscard]] bool ok() const { return fd_ >= 0 && !failed_; }

  DSPY_DECL void on_lm_start(std::uint64_t id, std::string_view model, const LMRequest& request) override;
  DSPY_DECL void on_lm_end(std::uint64_t id, const Result<LMResponse>& response,
                           std::chrono::nanoseconds latency) override;

 private:
  std::mutex mutex_;
  int fd_;
  std::atomic<bool> failed_{false};
  std::map<std::uint64_t, boost::json::object> pending_;
};

}  // namespace dspy

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "callback_impl.hpp"
#endif
