// The bodies of module_call.hpp: header-only, module_call.hpp includes them; with
// DSPY_SEPARATE_COMPILATION, <dspy/src.hpp> compiles them once.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/value.hpp>

#include "../clients/usage.hpp"
#include "../primitives/callback.hpp"
#include "../primitives/error.hpp"
#include "../primitives/predictor.hpp"
#include "../primitives/settings.hpp"
#include "module_call.hpp"

namespace dspy::detail {

DSPY_DECL OpenCall open_call(const Settings& settings, const void* instance, const void* tag, std::string module,
                             std::string (*find)(const void*, const void*, const void*),
                             std::span<const std::shared_ptr<Callback>> own,
                             boost::json::value (*inputs)(const void*), const void* input) {
  OpenCall call;
  auto frame = std::make_shared<ModuleCall>();
  frame->id = next_call_id();
  frame->parent = settings.caller;
  frame->path = call_path(frame->parent.get(), instance, tag, module);
  frame->module = std::move(module);
  frame->instance = instance;
  frame->find_member = find;
  if (settings.track_usage) frame->usage = std::make_shared<UsageTracker>();
  if (settings.trace) settings.trace->claim_root(frame->path);
  auto under = std::make_shared<Settings>(settings);
  under->caller = frame;
  call.under = std::move(under);
  call.callbacks = settings.callbacks;
  call.callbacks.insert(call.callbacks.end(), own.begin(), own.end());
  call.frame = std::move(frame);
  if (!call.callbacks.empty()) {
    const boost::json::value in = inputs(input);
    const CallInfo info = call.frame->info();
    for (const auto& cb : call.callbacks) cb->on_module_start(info, call.frame->module, in);
  }
  return call;
}

DSPY_DECL std::optional<LMUsage> close_call(OpenCall& call, boost::json::value (*outputs)(const void*),
                                            const void* output, const Error* error) {
  std::optional<LMUsage> usage;
  if (call.frame->usage) usage = call.frame->usage->totals();
  if (!call.callbacks.empty()) {
    const boost::json::value out = outputs ? outputs(output) : boost::json::value(nullptr);
    CallInfo info = call.frame->info();
    if (usage) info.usage = &*usage;
    for (const auto& cb : call.callbacks) cb->on_module_end(info, out, error);
  }
  return usage;
}

DSPY_DECL void extend_trace(const Settings& enclosing, const Trace& attempt, std::string_view member) {
  if (!enclosing.trace) return;
  const std::string base = (enclosing.caller ? enclosing.caller->path : std::string("self")) + "." + std::string(member);
  for (const TraceEntry& entry : attempt) {
    TraceEntry joined = entry;
    joined.module_name = enclosing.trace->name_of(entry.module_name == "self" ? base : base + "." + entry.module_name);
    enclosing.trace->add(std::move(joined));
  }
}

}  // namespace dspy::detail
