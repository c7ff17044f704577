// The one budget for the reply bytes all transfers in flight hold (dspy::set_max_buffered_reply_bytes).
#pragma once

#include <atomic>
#include <cstddef>

namespace dspy::detail {

/// The bytes of reply bodies that every transfer of the process together may hold while in
/// flight (each transfer is also bounded by its max_response_bytes). Without it, 256 calls in
/// flight could each buffer a 64 MiB reply at once.
struct ReplyBudget {
  std::atomic<std::size_t> limit{256U << 20};
  std::atomic<std::size_t> used{0};

  // Takes `n` bytes for a transfer, or nothing when that would pass the limit.
  bool take(std::size_t n) noexcept {
    const std::size_t before = used.fetch_add(n, std::memory_order_relaxed);
    if (before + n <= limit.load(std::memory_order_relaxed)) return true;
    used.fetch_sub(n, std::memory_order_relaxed);
    return false;
  }
  void give_back(std::size_t n) noexcept { used.fetch_sub(n, std::memory_order_relaxed); }
};

inline ReplyBudget& reply_budget() noexcept {
  static ReplyBudget budget;
  return budget;
}

}  // namespace dspy::detail
