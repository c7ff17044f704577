// The bodies of usage.hpp: header-only, usage.hpp includes them; with DSPY_SEPARATE_COMPILATION,
// <dspy/src.hpp> compiles them once.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "../primitives/message.hpp"
#include "usage.hpp"

namespace dspy {

DSPY_DECL void UsageTracker::add(std::string_view model, const Usage& usage) {
  std::lock_guard lock(mutex_);
  auto it = totals_.find(model);
  if (it == totals_.end()) it = totals_.emplace(std::string(model), Usage{}).first;
  it->second += usage;
}

DSPY_DECL Usage UsageTracker::total() const {
  std::lock_guard lock(mutex_);
  Usage sum;
  for (const auto& [model, usage] : totals_) sum += usage;
  return sum;
}

}  // namespace dspy
