// How long to wait before retrying an LM call: the part of the retry policy that an LM's
// settings hold (LMConfig::backoff). When to retry is retry.hpp's, next to the transport.
#pragma once

#include <chrono>
#include <optional>

#include "../config.hpp"

namespace dspy::detail {

/// How retries wait: exponential steps from `initial`, capped at `max`, each scaled by a random
/// factor in [1 - jitter, 1] so that clients that failed together do not retry together.
/// A server's Retry-After up to `max_retry_after` replaces the step.
struct Backoff {
  std::chrono::milliseconds initial{500};
  std::chrono::milliseconds max{8000};
  double jitter = 0.25;
  std::chrono::milliseconds max_retry_after{60'000};

  /// The wait before retry number `retry` (0-based), given the server's Retry-After if any.
  [[nodiscard]] DSPY_DECL std::chrono::milliseconds delay(int retry,
                                                          std::optional<std::chrono::milliseconds> retry_after) const;
};

}  // namespace dspy::detail

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "backoff_impl.hpp"
#endif
