// Client-side rate limiting for an LM: token buckets for requests and tokens per minute.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <mutex>

namespace dspy::detail {

/// Two token buckets, each holding one second's worth of its per-minute rate (at least one unit)
/// and refilling continuously, so calls are paced rather than sent in a burst. A request takes
/// one unit at once and waits until its bucket is out of debt, so waiters leave in the order
/// they came; tokens are charged from each reply's usage, and a call waits while the token
/// bucket is in debt. Thread-safe; shared by the copies of an LM.
class RateLimiter {
 public:
  using clock = std::chrono::steady_clock;

  RateLimiter(double requests_per_minute, double tokens_per_minute)
      : requests_(requests_per_minute), tokens_(tokens_per_minute) {}

  /// Takes one request; how long to wait before sending it.
  [[nodiscard]] clock::duration reserve() {
    std::lock_guard lock(mutex_);
    const auto now = clock::now();
    requests_.refill(now);
    tokens_.refill(now);
    if (requests_.per_second > 0) requests_.level -= 1;
    return std::max(requests_.wait(), tokens_.wait());
  }

  /// Charges the tokens a reply claims to have used. The claim is the server's: a negative one
  /// credits nothing, and no reply puts the bucket more than a minute's tokens in debt, so the
  /// next call waits at most a minute (a claim of 1e12 tokens would otherwise stall for years).
  void charge(std::int64_t tokens) {
    std::lock_guard lock(mutex_);
    tokens_.refill(clock::now());
    if (tokens_.per_second <= 0 || tokens <= 0) return;
    const double minute = tokens_.per_second * 60;
    tokens_.level = std::max(tokens_.level - std::min(static_cast<double>(tokens), minute), -minute);
  }

 private:
  struct Bucket {
    explicit Bucket(double per_minute)
        : per_second(per_minute / 60), capacity(std::max(1.0, per_second)), level(capacity), at(clock::now()) {}
    double per_second;
    double capacity;
    double level;  // negative: in debt
    clock::time_point at;

    void refill(clock::time_point now) {
      if (per_second <= 0) return;
      level = std::min(capacity, level + std::chrono::duration<double>(now - at).count() * per_second);
      at = now;
    }
    [[nodiscard]] clock::duration wait() const {
      if (per_second <= 0 || level >= 0) return clock::duration::zero();
      return std::chrono::ceil<clock::duration>(std::chrono::duration<double>(-level / per_second));
    }
  };

  std::mutex mutex_;
  Bucket requests_;
  Bucket tokens_;
};

}  // namespace dspy::detail
