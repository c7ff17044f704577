// The bodies of otlp.hpp: header-only, otlp.hpp includes them; with DSPY_SEPARATE_COMPILATION,
// <dspy/src.hpp> compiles them once.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <utility>

#include <boost/json/serialize.hpp>

#include "../detail/io/file.hpp"
#include "otlp.hpp"

namespace dspy {

namespace detail {
inline std::string hex64(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}
inline boost::json::object otlp_attr(std::string_view key, boost::json::object value) {
  return {{"key", key}, {"value", std::move(value)}};
}
inline boost::json::object otlp_string(std::string_view key, std::string_view v) {
  return otlp_attr(key, {{"stringValue", v}});
}
// OTLP/JSON writes 64-bit integers as strings (proto3's JSON mapping).
inline boost::json::object otlp_int(std::string_view key, std::int64_t v) {
  return otlp_attr(key, {{"intValue", std::to_string(v)}});
}
inline std::string unix_nanos_now() {
  return std::to_string(std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count());
}
inline void otlp_usage(boost::json::array& attributes, const Usage& u) {
  attributes.push_back(otlp_int("gen_ai.usage.input_tokens", u.prompt_tokens));
  attributes.push_back(otlp_int("gen_ai.usage.output_tokens", u.completion_tokens));
}
}  // namespace detail

DSPY_DECL OtlpExporter::OtlpExporter(const std::filesystem::path& path, OtlpOptions options)
    : options_(std::move(options)), fd_(detail::open_for_append(path)), salt_(std::random_device{}()) {
  salt_ = (salt_ << 32) ^ std::random_device{}();
}

DSPY_DECL OtlpExporter::OtlpExporter(std::ostream& out, OtlpOptions options)
    : options_(std::move(options)), stream_(&out), salt_(std::random_device{}()) {
  salt_ = (salt_ << 32) ^ std::random_device{}();
}

DSPY_DECL OtlpExporter::~OtlpExporter() {
  if (fd_ >= 0) ::close(fd_);
}

// Distinct call ids give distinct span ids (an odd multiplier and a xor are bijections), and the
// salt keeps two processes' ids apart.
DSPY_DECL std::string OtlpExporter::span_id(std::uint64_t call_id) const {
  return detail::hex64((call_id * 0x9E3779B97F4A7C15ULL) ^ salt_);
}

DSPY_DECL void OtlpExporter::start(const CallInfo& call, std::string name, int kind, boost::json::array attributes) {
  if (!call.path.empty()) attributes.push_back(detail::otlp_string("dspy.module.path", call.path));
  std::lock_guard lock(mutex_);
  Open span;
  // A call whose parent this exporter never saw (none, or one started before it was installed)
  // begins a trace of its own.
  const auto parent = call.parent_id ? open_.find(call.parent_id) : open_.end();
  if (parent != open_.end()) {
    span.trace_id = parent->second.trace_id;
  } else {
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    span.trace_id = detail::hex64(rng()) + detail::hex64(rng());
  }
  span.span = {{"traceId", span.trace_id}, {"spanId", span_id(call.id)}};
  if (parent != open_.end()) span.span["parentSpanId"] = span_id(call.parent_id);
  span.span["name"] = std::move(name);
  span.span["kind"] = kind;
  span.span["startTimeUnixNano"] = detail::unix_nanos_now();
  span.span["attributes"] = std::move(attributes);
  ++traces_[span.trace_id].open;
  open_[call.id] = std::move(span);
}

DSPY_DECL void OtlpExporter::end(std::uint64_t id, boost::json::array attributes, const Error* error) {
  boost::json::array finished;
  {
    std::lock_guard lock(mutex_);
    auto node = open_.extract(id);
    if (node.empty()) return;
    Open& span = node.mapped();
    span.span["endTimeUnixNano"] = detail::unix_nanos_now();
    auto& attrs = span.span["attributes"].as_array();
    for (auto& a : attributes) attrs.push_back(std::move(a));
    if (error) {
      attrs.push_back(detail::otlp_string("error.type", to_string(error->code())));
      span.span["status"] = {{"code", 2}, {"message", error->message()}};  // STATUS_CODE_ERROR
    }
    auto trace = traces_.find(span.trace_id);
    trace->second.spans.push_back(std::move(span.span));
    if (--trace->second.open > 0) return;
    finished = std::move(trace->second.spans);
    traces_.erase(trace);
  }
  write(std::move(finished));
}

DSPY_DECL void OtlpExporter::write(boost::json::array spans) {
  boost::json::object resource{{"attributes", boost::json::array{detail::otlp_string("service.name", options_.service_name)}}};
  boost::json::object scope_spans{{"scope", {{"name", "dspy-cpp"}}}, {"spans", std::move(spans)}};
  boost::json::object request{
      {"resourceSpans",
       boost::json::array{boost::json::object{{"resource", std::move(resource)},
                                              {"scopeSpans", boost::json::array{std::move(scope_spans)}}}}}};
  const std::string line = boost::json::serialize(request) + "\n";
  std::lock_guard lock(mutex_);
  if (stream_) {
    *stream_ << line << std::flush;
    if (!*stream_) failed_ = true;
  } else if (fd_ < 0 || !detail::write_all(fd_, line)) {  // one write per line: whole with O_APPEND
    failed_ = true;
  }
}

DSPY_DECL void OtlpExporter::on_module_start(const CallInfo& call, std::string_view module,
                                             const boost::json::value& /*inputs*/) {
  start(call, std::string(module), 1 /* SPAN_KIND_INTERNAL */,
        boost::json::array{detail::otlp_string("dspy.module.type", module)});
}

DSPY_DECL void OtlpExporter::on_module_end(const CallInfo& call, const boost::json::value& /*outputs*/,
                                           const Error* error) {
  boost::json::array attributes;
  if (call.usage) {
    Usage total;
    for (const auto& [model, u] : *call.usage) total += u;
    detail::otlp_usage(attributes, total);
  }
  end(call.id, std::move(attributes), error);
}

DSPY_DECL void OtlpExporter::on_lm_start(const CallInfo& call, std::string_view model, const LMRequest& request) {
  boost::json::array attributes{detail::otlp_string("gen_ai.operation.name", "chat"),
                                detail::otlp_string("gen_ai.request.model", model)};
  if (request.config.temperature)
    attributes.push_back(detail::otlp_attr("gen_ai.request.temperature", {{"doubleValue", *request.config.temperature}}));
  if (request.config.max_tokens) attributes.push_back(detail::otlp_int("gen_ai.request.max_tokens", *request.config.max_tokens));
  start(call, "chat " + std::string(model), 3 /* SPAN_KIND_CLIENT */, std::move(attributes));
}

DSPY_DECL void OtlpExporter::on_lm_end(const CallInfo& call, const Result<LMResponse>& response,
                                       std::chrono::nanoseconds /*latency*/) {
  boost::json::array attributes;
  if (response) {
    if (!response->model.empty()) attributes.push_back(detail::otlp_string("gen_ai.response.model", response->model));
    detail::otlp_usage(attributes, response->usage);
    attributes.push_back(detail::otlp_attr("dspy.cache_hit", {{"boolValue", response->cache_hit}}));
  }
  end(call.id, std::move(attributes), response ? nullptr : &response.error());
}

}  // namespace dspy
