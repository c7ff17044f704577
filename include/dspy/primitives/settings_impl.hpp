// The bodies of settings.hpp: header-only, settings.hpp includes them; with
// DSPY_SEPARATE_COMPILATION, <dspy/src.hpp> compiles them once.
#pragma once

#include <memory>
#include <mutex>
#include <utility>

#include "settings.hpp"

namespace dspy {

DSPY_DECL Settings SettingsOverride::applied_to(Settings s) const {
  if (lm) s.lm = *lm;
  if (adapter) s.adapter = *adapter;
  if (callbacks) s.callbacks = *callbacks;
  if (track_usage) s.track_usage = *track_usage;
  if (trace) s.trace = *trace;
  return s;
}

DSPY_DECL void configure(Settings s) {
  auto snapshot = std::make_shared<const Settings>(std::move(s));
  auto& g = detail::global_settings();
  std::lock_guard lock(g.mutex);
  g.value = std::move(snapshot);
}

DSPY_DECL SettingsPtr current_settings() {
  if (const auto& scoped = detail::thread_settings()) return scoped;
  auto& g = detail::global_settings();
  std::lock_guard lock(g.mutex);
  return g.value;
}

}  // namespace dspy
