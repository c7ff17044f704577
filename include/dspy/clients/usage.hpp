// Token accounting over a scope: `auto usage = dspy::track_usage(); run(); usage.totals()`.
//
// Scopes belong to the thread that opens them and nest: a call counts in every scope open on its
// thread. Work handed to another thread counts where it should once that thread adopts the
// spawning thread's context (`UsageContext::current()` captured there, `AdoptUsageContext` here).
// An async LM captures the context when its call starts, so a call counts in the scopes open
// when it was made even if it completes elsewhere. Being per thread, a scope also sees calls
// that other coroutines on the same thread start while it is open, and must be destroyed on the
// thread that opened it: in coroutine code, open it around the whole run (e.g. around io.run()).
#pragma once

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../detail/config.hpp"
#include "../primitives/message.hpp"

namespace dspy {

/// Token totals per model, added to from any thread.
class UsageTracker {
 public:
  DSPY_DECL void add(std::string_view model, const Usage& usage);

  /// Totals per model name (DSPy's `get_total_tokens()`).
  [[nodiscard]] std::map<std::string, Usage, std::less<>> totals() const {
    std::lock_guard lock(mutex_);
    return totals_;
  }

  /// The sum over all models.
  [[nodiscard]] DSPY_DECL Usage total() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, Usage, std::less<>> totals_;
};

namespace detail {
using UsageStack = std::vector<std::shared_ptr<UsageTracker>>;
inline UsageStack& usage_stack() {
  thread_local UsageStack stack;
  return stack;
}
}  // namespace detail

/// The trackers a call reports to: the scopes open on a thread when it was captured.
class UsageContext {
 public:
  [[nodiscard]] static UsageContext current() { return UsageContext(detail::usage_stack()); }

  /// Adds the response's usage under `model` to every tracker. A cache hit spent no tokens and
  /// is not counted (as in DSPy).
  void record(std::string_view model, const LMResponse& response) const {
    if (response.cache_hit) return;
    for (const auto& t : trackers_) t->add(model, response.usage);
  }

  [[nodiscard]] bool empty() const noexcept { return trackers_.empty(); }

 private:
  friend class AdoptUsageContext;
  explicit UsageContext(detail::UsageStack trackers) : trackers_(std::move(trackers)) {}
  detail::UsageStack trackers_;
};

/// Records a finished call in the scopes open on this thread.
inline void record_usage(std::string_view model, const LMResponse& response) {
  UsageContext::current().record(model, response);
}

/// A usage-tracking scope (RAII). Open it with track_usage(); read it any time.
class [[nodiscard]] UsageScope {
 public:
  UsageScope() : tracker_(std::make_shared<UsageTracker>()) { detail::usage_stack().push_back(tracker_); }
  ~UsageScope() {
    // By identity, not pop_back: an AdoptUsageContext may have replaced the stack meanwhile.
    auto& stack = detail::usage_stack();
    if (auto it = std::find(stack.begin(), stack.end(), tracker_); it != stack.end()) stack.erase(it);
  }
  UsageScope(const UsageScope&) = delete;
  UsageScope& operator=(const UsageScope&) = delete;

  [[nodiscard]] std::map<std::string, Usage, std::less<>> totals() const { return tracker_->totals(); }
  [[nodiscard]] Usage total() const { return tracker_->total(); }
  [[nodiscard]] const UsageTracker& tracker() const noexcept { return *tracker_; }

 private:
  std::shared_ptr<UsageTracker> tracker_;
};

/// Opens a usage-tracking scope on this thread: `auto usage = dspy::track_usage();`.
[[nodiscard]] inline UsageScope track_usage() { return {}; }

/// Makes this thread report to `context`'s scopes (for worker threads) until destroyed; scopes
/// the thread opens meanwhile nest inside.
class [[nodiscard]] AdoptUsageContext {
 public:
  explicit AdoptUsageContext(const UsageContext& context) : saved_(std::move(detail::usage_stack())) {
    detail::usage_stack() = context.trackers_;
  }
  ~AdoptUsageContext() { detail::usage_stack() = std::move(saved_); }
  AdoptUsageContext(const AdoptUsageContext&) = delete;
  AdoptUsageContext& operator=(const AdoptUsageContext&) = delete;

 private:
  detail::UsageStack saved_;
};

}  // namespace dspy

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "usage_impl.hpp"
#endif
