// dspy::OtlpExporter: the call tree of a run (module calls, predictor calls, LM calls) as
// OpenTelemetry spans in OTLP/JSON, one ExportTraceServiceRequest per line (the collector's
// file format), so a run loads into any OpenTelemetry backend. A callback: put it in the
// settings' callbacks (`dspy::configure({.callbacks = {exporter}})`) so that it sees LM calls too.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "../detail/config.hpp"
#include "callback.hpp"
#include "error.hpp"
#include "message.hpp"

namespace dspy {

struct OtlpOptions {
  /// The resource's `service.name`.
  std::string service_name = "dspy-cpp";
};

/// Writes each trace (a root call and every call under it) when its root ends, as one line of
/// OTLP/JSON: trace and span ids, parent ids, start and end times, and attributes for the module
/// path and type, the model, tokens, cache hits and errors (OpenTelemetry's `gen_ai.*` names where
/// they exist, `dspy.*` otherwise). Thread-safe; spans of unfinished traces are held in memory.
class OtlpExporter : public Callback {
 public:
  /// Appends to a file (created owner-only, as every file the library writes).
  DSPY_DECL explicit OtlpExporter(const std::filesystem::path& path, OtlpOptions options = {});
  /// Writes to a stream the caller keeps alive.
  DSPY_DECL explicit OtlpExporter(std::ostream& out, OtlpOptions options = {});
  DSPY_DECL ~OtlpExporter() override;
  OtlpExporter(const OtlpExporter&) = delete;
  OtlpExporter& operator=(const OtlpExporter&) = delete;

  /// False if the file could not be opened, or a line could not be written.
  [[nodiscard]] bool ok() const {
    std::lock_guard lock(mutex_);
    return (fd_ >= 0 || stream_ != nullptr) && !failed_;
  }

  DSPY_DECL void on_module_start(const CallInfo& call, std::string_view module, const boost::json::value& inputs) override;
  DSPY_DECL void on_module_end(const CallInfo& call, const boost::json::value& outputs, const Error* error) override;
  DSPY_DECL void on_lm_start(const CallInfo& call, std::string_view model, const LMRequest& request) override;
  DSPY_DECL void on_lm_end(const CallInfo& call, const Result<LMResponse>& response,
                           std::chrono::nanoseconds latency) override;

 private:
  struct Open {
    std::string trace_id;
    boost::json::object span;
  };
  struct Trace {
    std::size_t open = 0;  // spans started and not ended
    boost::json::array spans;
  };

  DSPY_DECL void start(const CallInfo& call, std::string name, int kind, boost::json::array attributes);
  DSPY_DECL void end(std::uint64_t id, boost::json::array attributes, const Error* error);
  DSPY_DECL std::string span_id(std::uint64_t call_id) const;
  DSPY_DECL void write(boost::json::array spans);

  OtlpOptions options_;
  mutable std::mutex mutex_;
  int fd_ = -1;
  std::ostream* stream_ = nullptr;
  bool failed_ = false;
  std::uint64_t salt_;  // span ids differ between processes writing one file
  std::map<std::uint64_t, Open> open_;    // by call id
  std::map<std::string, Trace> traces_;   // by trace id
};

}  // namespace dspy

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "otlp_impl.hpp"
#endif
