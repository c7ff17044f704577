// Global settings: the default LM and adapter used by predictors that set none.
#pragma once

#include <mutex>
#include <utility>

#include "adapter.hpp"
#include "lm.hpp"

namespace dspy {

struct Settings {
  LMHandle lm{};
  Adapter adapter = ChatAdapter{};
};

namespace detail {
struct GlobalSettings {
  std::mutex mutex;
  Settings value;
};
inline GlobalSettings& global_settings() {
  static GlobalSettings g;
  return g;
}
}  // namespace detail

/// Sets the process-wide defaults: `dspy::configure({.lm = my_lm})`.
inline void configure(Settings s) {
  auto& g = detail::global_settings();
  std::lock_guard lock(g.mutex);
  g.value = std::move(s);
}

/// A copy of the current defaults.
[[nodiscard]] inline Settings settings() {
  auto& g = detail::global_settings();
  std::lock_guard lock(g.mutex);
  return g.value;
}

}  // namespace dspy
