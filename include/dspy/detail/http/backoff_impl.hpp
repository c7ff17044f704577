// The bodies of backoff.hpp: header-only, backoff.hpp includes them; with
// DSPY_SEPARATE_COMPILATION, <dspy/src.hpp> compiles them once.
#pragma once

#include <algorithm>
#include <chrono>
#include <optional>
#include <random>

#include "backoff.hpp"

namespace dspy::detail {

DSPY_DECL std::chrono::milliseconds Backoff::delay(int retry,
                                                   std::optional<std::chrono::milliseconds> retry_after) const {
  if (retry_after && *retry_after <= max_retry_after) return *retry_after;
  const double step = std::min(static_cast<double>(initial.count()) * static_cast<double>(1LL << std::min(retry, 30)),
                               static_cast<double>(max.count()));
  thread_local std::minstd_rand rng{std::random_device{}()};
  std::uniform_real_distribution<double> factor(1.0 - std::clamp(jitter, 0.0, 1.0), 1.0);
  return std::chrono::milliseconds(static_cast<long long>(step * factor(rng)));
}

}  // namespace dspy::detail
