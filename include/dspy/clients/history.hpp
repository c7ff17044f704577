// A bounded record of LM calls (DSPy's `lm.history` and GLOBAL_HISTORY), printed as DSPy's
// `inspect_history` prints it, and the redaction helper that keeps credentials out of anything
// logged or stored.
#pragma once

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstddef>
#include <initializer_list>
#include <iostream>
#include <mutex>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../detail/config.hpp"
#include "../primitives/message.hpp"

namespace dspy {

/// One LM call. Holds what was asked and answered, never how it was authenticated.
struct HistoryEntry {
  std::string model{};
  std::vector<Message> messages{};
  std::vector<std::string> outputs{};  ///< one reply text per choice
  std::vector<MessageToolCall> tool_calls{};  ///< the first choice's function calls, if any
  Usage usage{};                       ///< zero on a cache hit
  std::chrono::nanoseconds latency{};
  std::chrono::system_clock::time_point timestamp{};  ///< when the reply arrived
  bool cache_hit = false;
};

/// What an entry holds in memory, near enough to bound a log by bytes.
[[nodiscard]] DSPY_DECL std::size_t approx_bytes(const HistoryEntry& e) noexcept;

/// A log of LM calls. Thread-safe; keeps the newest `capacity` entries (0 keeps none: history
/// off) that together hold at most `max_bytes` (see approx_bytes): 10,000 calls of 1 MB replies
/// must not hold 10 GB. An entry larger than `max_bytes` on its own is not kept.
class LMHistory {
 public:
  static constexpr std::size_t kDefaultMaxBytes = 64U << 20;

  explicit LMHistory(std::size_t capacity = 10'000, std::size_t max_bytes = kDefaultMaxBytes)
      : capacity_(capacity), max_bytes_(max_bytes) {}

  void add(HistoryEntry entry) {
    add_with([&entry](HistoryEntry& e) { e = std::move(entry); });
  }

  /// Adds an entry that `fill(HistoryEntry&)` writes in place. When the history is full, that is
  /// the oldest entry's slot: its strings' storage is reused and no entry moves.
  template <class F>
  void add_with(F&& fill) {
    std::lock_guard lock(mutex_);
    if (capacity_ == 0) return;
    const bool recycle = count_ == capacity_;
    if (!recycle && count_ == ring_.size()) grow();
    Kept& slot = recycle ? ring_[head_] : ring_[(head_ + count_) % ring_.size()];
    if (recycle) {
      bytes_ -= slot.bytes;
      head_ = (head_ + 1) % ring_.size();
      --count_;
    }
    fill(slot.entry);
    slot.bytes = approx_bytes(slot.entry);
    if (slot.bytes > max_bytes_) {  // not kept
      slot = {};
      return;
    }
    // The new entry is the newest: after the others, which a recycled slot now is.
    ++count_;
    bytes_ += slot.bytes;
    trim();
    if (count_ == capacity_) prefetch(&ring_[head_].entry, sizeof(HistoryEntry));  // the next to recycle
  }

  /// Starts loading what the next add recycles: the oldest entry's messages and outputs, as many
  /// calls old as the history holds and so out of cache, which the add would otherwise wait for
  /// line by line. An LM call asks at its start; the add comes at its end. Never waits for the lock.
  void prefetch_oldest() const {
    std::unique_lock lock(mutex_, std::try_to_lock);
    if (!lock || count_ != capacity_ || count_ == 0) return;
    const HistoryEntry& e = ring_[head_].entry;
    prefetch(e.messages.data(), e.messages.size() * sizeof(Message));
    prefetch(e.outputs.data(), e.outputs.size() * sizeof(std::string));
  }

  /// The newest `n` entries, oldest first.
  [[nodiscard]] DSPY_DECL std::vector<HistoryEntry> last(std::size_t n) const;

  [[nodiscard]] std::size_t size() const {
    std::lock_guard lock(mutex_);
    return count_;
  }

  /// What the kept entries hold (approx_bytes), at most max_bytes().
  [[nodiscard]] std::size_t bytes() const {
    std::lock_guard lock(mutex_);
    return bytes_;
  }

  [[nodiscard]] std::size_t capacity() const {
    std::lock_guard lock(mutex_);
    return capacity_;
  }

  [[nodiscard]] std::size_t max_bytes() const {
    std::lock_guard lock(mutex_);
    return max_bytes_;
  }

  /// Changes the bounds, dropping the oldest entries that no longer fit.
  void set_capacity(std::size_t capacity) {
    std::lock_guard lock(mutex_);
    capacity_ = capacity;
    trim();
    unwrap();
    ring_.resize(count_);  // no spare slots: a full ring then recycles in order
  }

  void set_max_bytes(std::size_t max_bytes) {
    std::lock_guard lock(mutex_);
    max_bytes_ = max_bytes;
    trim();
  }

  void clear() {
    std::lock_guard lock(mutex_);
    ring_.clear();
    head_ = count_ = bytes_ = 0;
  }

 private:
  struct Kept {
    HistoryEntry entry{};
    std::size_t bytes = 0;
  };

  static void prefetch(const void* p, std::size_t bytes) noexcept {
    for (std::size_t at = 0; at < bytes; at += 64) __builtin_prefetch(static_cast<const char*>(p) + at, 1);
  }

  void drop_oldest() {
    Kept& oldest = ring_[head_];
    bytes_ -= oldest.bytes;
    oldest = {};  // its memory goes now, not when the slot is next used
    head_ = (head_ + 1) % ring_.size();
    --count_;
  }

  void trim() {
    while (count_ > 0 && (count_ > capacity_ || bytes_ > max_bytes_)) drop_oldest();
  }

  // The entries moved to slots 0.. in order, oldest first.
  void unwrap() {
    std::rotate(ring_.begin(), ring_.begin() + static_cast<std::ptrdiff_t>(head_), ring_.end());
    head_ = 0;
  }

  // Room for one more entry while the ring is not yet full: a slot after the entries.
  void grow() {
    unwrap();
    ring_.emplace_back();
  }

  // The i-th oldest entry.
  [[nodiscard]] const Kept& at(std::size_t i) const { return ring_[(head_ + i) % ring_.size()]; }

  mutable std::mutex mutex_;
  std::size_t capacity_;
  std::size_t max_bytes_;
  // The entries in a ring: count_ of them from slot head_ (the oldest) on, wrapping around.
  std::vector<Kept> ring_;
  std::size_t head_ = 0;
  std::size_t count_ = 0;
  std::size_t bytes_ = 0;
};

/// The history every LM adds to (DSPy's GLOBAL_HISTORY, 10,000 entries).
[[nodiscard]] inline LMHistory& global_history() {
  static LMHistory history;
  return history;
}

namespace detail {

/// Python's `datetime.isoformat()` of the local time: microseconds, omitted when zero.
[[nodiscard]] DSPY_DECL std::string iso_local_time(std::chrono::system_clock::time_point t);

/// Python's `str.capitalize()` for ASCII roles: "user" -> "User".
[[nodiscard]] DSPY_DECL std::string py_capitalize(std::string_view s);

/// Colour for a terminal only: standard output or error attached to a tty, unless NO_COLOR is set.
[[nodiscard]] DSPY_DECL bool wants_colour(const std::ostream& os);

[[nodiscard]] DSPY_DECL std::string_view part_string(const ContentPart& part, std::string_view key,
                                                     std::string_view inner = {});
/// A media part as DSPy's inspect_history shows it: its kind and size, not its bytes.
[[nodiscard]] DSPY_DECL std::string describe_part(const ContentPart& part);

// Mirrors dspy/utils/inspect_history.py line for line: each Python print() is a write plus "\n".
DSPY_DECL void print_history(std::ostream& os, const std::vector<HistoryEntry>& entries, bool colour);

}  // namespace detail

/// Prints `history`'s last `n` calls as DSPy's `inspect_history` does (colours on a terminal).
inline void inspect_history(const LMHistory& history, std::size_t n = 1, std::ostream& os = std::cout) {
  detail::print_history(os, history.last(n), detail::wants_colour(os));
}

/// Prints the last `n` calls of any LM: `dspy::inspect_history(3)`.
inline void inspect_history(std::size_t n = 1, std::ostream& os = std::cout) {
  inspect_history(global_history(), n, os);
}

namespace detail {

[[nodiscard]] constexpr bool is_key_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// A value after `name:` or `name=`: everything up to whitespace or a delimiter.
[[nodiscard]] constexpr bool is_value_char(char c) noexcept {
  return c > ' ' && c != '"' && c != '\'' && c != ',' && c != ';' && c != '&' && c != '}' && c != ')' && c != ']';
}

[[nodiscard]] inline std::string ascii_lowered(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace detail

/// `text` with each of `secrets` (found as detail::secret_spans finds them: in any case,
/// JSON-escaped, or cut short) and anything shaped like a credential replaced by "[REDACTED]":
/// `Bearer <token>`, the values of `x-api-key`, `api-key`, `x-goog-api-key`, `api_key` and
/// `apikey` (as header, JSON or query parameter), and `sk-...` keys. For every string that may
/// echo a request (error messages, logged bodies); pass the LM's own key as a secret. A value
/// already redacted stays as it is.
[[nodiscard]] DSPY_DECL std::string redact_secrets(std::string_view text,
                                                   std::initializer_list<std::string_view> secrets = {});

}  // namespace dspy

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "history_impl.hpp"
#endif
