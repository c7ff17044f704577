// Callbacks: hooks on predictor, adapter, LM and tool events (DSPy's BaseCallback), and a
// JSONL log of every LM call built on them.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
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

class UsageTracker;

/// Which call an event belongs to. A start/end pair shares `id`; `parent_id` is the module call it
/// runs under (0: none), so a run's events form a tree: module -> sub-module -> predictor -> LM.
struct CallInfo {
  std::uint64_t id = 0;
  std::uint64_t parent_id = 0;
  /// The module's DSPy path from the root module ("self", "self.extract.predict"); for adapter
  /// and LM events, the predictor's. Empty outside every module call.
  std::string_view path{};
  /// With usage tracking on (Settings::track_usage): the tokens per model of every LM call under
  /// this module call so far (complete in on_module_end); null otherwise.
  const LMUsage* usage = nullptr;
};

/// One module call in flight (DSPy's entry of `settings.caller_modules`): the gateway every module
/// call passes (dspy::acall) opens one when something observes calls (callbacks or usage
/// tracking) and hands it to the calls made under it through their settings.
struct ModuleCall {
  std::uint64_t id = 0;
  std::shared_ptr<const ModuleCall> parent{};  ///< null: a root call
  std::string path;                            ///< DSPy path from the root module: "self", "self.answer.predict"
  std::string module;                          ///< the module's type name ("Predict<QA>", "RAG")
  const void* instance = nullptr;
  /// Where `member` (a module or predictor identified by its type's tag) sits inside `instance`
  /// ("answer.predict"), empty if not found: how a call made under this one gets its path.
  std::string (*find_member)(const void* instance, const void* member, const void* tag) = nullptr;
  /// Every LM call under this call adds its tokens here (usage tracking on; else null).
  std::shared_ptr<UsageTracker> usage{};

  [[nodiscard]] CallInfo info() const noexcept { return {id, parent ? parent->id : 0, path, nullptr}; }
};

namespace detail {
/// The path of a call of `instance` (a module, or a predictor's PredictorBase, of type `tag` and
/// type name `module`) made under `parent`: "self" at the root, else the parent's path and where
/// the instance sits in it.
DSPY_DECL std::string call_path(const ModuleCall* parent, const void* instance, const void* tag,
                                std::string_view module);
}  // namespace detail

/// Override the events you need. Each start/end pair shares `call.id`; `call.parent_id` links it
/// to the module call it runs under. Callbacks run on the calling coroutine's thread and must not
/// throw.
class Callback {
 public:
  virtual ~Callback() = default;
  virtual void on_module_start(const CallInfo& /*call*/, std::string_view /*module*/,
                               const boost::json::value& /*inputs*/) {}
  virtual void on_module_end(const CallInfo& /*call*/, const boost::json::value& /*outputs*/,
                             const Error* /*error*/) {}
  virtual void on_adapter_format_start(const CallInfo& /*call*/, std::string_view /*adapter*/,
                                       const boost::json::value& /*inputs*/) {}
  virtual void on_adapter_format_end(const CallInfo& /*call*/, const std::vector<Message>& /*messages*/) {}
  virtual void on_lm_start(const CallInfo& /*call*/, std::string_view /*model*/, const LMRequest& /*request*/) {}
  virtual void on_lm_end(const CallInfo& /*call*/, const Result<LMResponse>& /*response*/,
                         std::chrono::nanoseconds /*latency*/) {}
  virtual void on_adapter_parse_start(const CallInfo& /*call*/, std::string_view /*adapter*/,
                                      std::string_view /*completion*/) {}
  virtual void on_adapter_parse_end(const CallInfo& /*call*/, const boost::json::value& /*outputs*/,
                                    const Error* /*error*/) {}
  virtual void on_tool_start(const CallInfo& /*call*/, std::string_view /*tool*/, const boost::json::value& /*args*/) {}
  virtual void on_tool_end(const CallInfo& /*call*/, std::string_view /*observation*/, const Error* /*error*/) {}
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

  DSPY_DECL void on_lm_start(const CallInfo& call, std::string_view model, const LMRequest& request) override;
  DSPY_DECL void on_lm_end(const CallInfo& call, const Result<LMResponse>& response,
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
