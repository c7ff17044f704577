// A bounded record of LM calls (DSPy's `lm.history` and GLOBAL_HISTORY), printed as DSPy's
// `inspect_history` prints it, and the redaction helper that keeps credentials out of anything
// logged or stored.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <ctime>
#include <initializer_list>
#include <iostream>
#include <mutex>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../detail/text/redact.hpp"
#include "../detail/text/tolerant.hpp"
#include "../primitives/message.hpp"

namespace dspy {

/// One LM call. Holds what was asked and answered, never how it was authenticated.
struct HistoryEntry {
  std::string model{};
  std::vector<Message> messages{};
  std::vector<std::string> outputs{};  ///< one reply text per choice
  Usage usage{};                       ///< zero on a cache hit
  std::chrono::nanoseconds latency{};
  std::chrono::system_clock::time_point timestamp{};  ///< when the reply arrived
  bool cache_hit = false;
};

/// What an entry holds in memory, near enough to bound a log by bytes.
[[nodiscard]] inline std::size_t approx_bytes(const HistoryEntry& e) noexcept {
  std::size_t n = sizeof(HistoryEntry) + e.model.size();
  for (const auto& m : e.messages) n += sizeof(Message) + m.role.size() + m.content.size();
  for (const auto& o : e.outputs) n += sizeof(std::string) + o.size();
  return n;
}

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
  /// the oldest entry, taken out: its strings' storage is reused.
  template <class F>
  void add_with(F&& fill) {
    std::lock_guard lock(mutex_);
    if (capacity_ == 0) return;
    HistoryEntry entry;
    if (entries_.size() == capacity_) {
      entry = std::move(entries_.front().entry);
      drop_oldest();
    }
    fill(entry);
    const std::size_t bytes = approx_bytes(entry);
    if (bytes > max_bytes_) return;
    entries_.push_back({std::move(entry), bytes});
    bytes_ += bytes;
    trim();
  }

  /// The newest `n` entries, oldest first.
  [[nodiscard]] std::vector<HistoryEntry> last(std::size_t n) const {
    std::lock_guard lock(mutex_);
    const std::size_t k = std::min(n, entries_.size());
    std::vector<HistoryEntry> out;
    out.reserve(k);
    for (std::size_t i = entries_.size() - k; i < entries_.size(); ++i) out.push_back(entries_[i].entry);
    return out;
  }

  [[nodiscard]] std::size_t size() const {
    std::lock_guard lock(mutex_);
    return entries_.size();
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
  }

  void set_max_bytes(std::size_t max_bytes) {
    std::lock_guard lock(mutex_);
    max_bytes_ = max_bytes;
    trim();
  }

  void clear() {
    std::lock_guard lock(mutex_);
    entries_.clear();
    bytes_ = 0;
  }

 private:
  struct Kept {
    HistoryEntry entry;
    std::size_t bytes;
  };

  void drop_oldest() {
    bytes_ -= entries_.front().bytes;
    entries_.pop_front();
  }

  void trim() {
    while (!entries_.empty() && (entries_.size() > capacity_ || bytes_ > max_bytes_)) drop_oldest();
  }

  mutable std::mutex mutex_;
  std::size_t capacity_;
  std::size_t max_bytes_;
  std::deque<Kept> entries_;  // oldest first
  std::size_t bytes_ = 0;
};

/// The history every LM adds to (DSPy's GLOBAL_HISTORY, 10,000 entries).
[[nodiscard]] inline LMHistory& global_history() {
  static LMHistory history;
  return history;
}

namespace detail {

/// Python's `datetime.isoformat()` of the local time: microseconds, omitted when zero.
[[nodiscard]] inline std::string iso_local_time(std::chrono::system_clock::time_point t) {
  const auto since_epoch = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch());
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
  auto micros = (since_epoch - seconds).count();
  if (micros < 0) {
    micros += 1'000'000;
    seconds -= std::chrono::seconds(1);
  }
  const std::time_t tt = seconds.count();
  std::tm tm{};
  localtime_r(&tt, &tm);
  char buf[48];
  std::size_t len = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  if (micros != 0)
    len +=
        static_cast<std::size_t>(std::snprintf(buf + len, sizeof buf - len, ".%06lld", static_cast<long long>(micros)));
  return {buf, len};
}

/// Python's `str.capitalize()` for ASCII roles: "user" -> "User".
[[nodiscard]] inline std::string py_capitalize(std::string_view s) {
  std::string out(s);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const auto c = static_cast<unsigned char>(out[i]);
    out[i] = static_cast<char>(i == 0 ? std::toupper(c) : std::tolower(c));
  }
  return out;
}

/// Colour for a terminal only: standard output or error attached to a tty, unless NO_COLOR is set.
[[nodiscard]] inline bool wants_colour(const std::ostream& os) {
  if (const char* no = std::getenv("NO_COLOR"); no && *no) return false;
  const auto* buf = os.rdbuf();
  if (buf == std::cout.rdbuf()) return ::isatty(STDOUT_FILENO) == 1;
  if (buf == std::cerr.rdbuf() || buf == std::clog.rdbuf()) return ::isatty(STDERR_FILENO) == 1;
  return false;
}

// Mirrors dspy/utils/inspect_history.py line for line: each Python print() is a write plus "\n".
inline void print_history(std::ostream& os, const std::vector<HistoryEntry>& entries, bool colour) {
  auto paint = [&](std::string_view code, std::string_view text) {
    if (colour)
      os << "\x1b[" << code << 'm' << text << "\x1b[0m";
    else
      os << text;
  };
  for (const auto& e : entries) {
    os << "\n\n\n\n";
    paint("34", "[" + iso_local_time(e.timestamp) + "]");
    os << "\n\n";
    for (const auto& m : e.messages) {
      paint("31", py_capitalize(m.role) + " message:");
      os << "\n\n" << trim(m.content) << "\n\n\n";
    }
    if (!e.outputs.empty()) {
      paint("31", "Response:");
      os << "\n\n";
      paint("32", trim(e.outputs.front()));
      os << "\n\n";
    }
    if (e.outputs.size() > 1) {
      paint("31", " \t (and " + std::to_string(e.outputs.size() - 1) + " other completions)");
      os << '\n';
    }
  }
  os << "\n\n\n\n";
}

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
[[nodiscard]] inline std::string redact_secrets(std::string_view text,
                                                std::initializer_list<std::string_view> secrets = {}) {
  std::vector<std::pair<std::size_t, std::size_t>> spans;  // [begin, end)
  for (std::string_view s : secrets) {
    const auto found = detail::secret_spans(text, s);
    spans.insert(spans.end(), found.begin(), found.end());
  }
  const std::string lower = detail::ascii_lowered(text);
  auto value_run = [&](std::size_t p) {
    while (p < text.size() && detail::is_value_char(text[p])) ++p;
    return p;
  };
  auto redacted = [&](std::size_t p) { return lower.compare(p, 10, "[redacted]") == 0; };
  for (std::size_t p = lower.find("bearer"); p != std::string::npos; p = lower.find("bearer", p + 1)) {
    std::size_t v = p + 6;
    if (v >= text.size() || text[v] != ' ') continue;
    while (v < text.size() && text[v] == ' ') ++v;
    if (const auto end = value_run(v); end > v && !redacted(v)) spans.emplace_back(v, end);
  }
  for (std::string_view name : {"x-api-key", "x-goog-api-key", "api-key", "api_key", "apikey"}) {
    for (std::size_t p = lower.find(name); p != std::string::npos; p = lower.find(name, p + 1)) {
      std::size_t v = p + name.size();
      if (v < text.size() && (text[v] == '"' || text[v] == '\'')) ++v;
      while (v < text.size() && text[v] == ' ') ++v;
      if (v >= text.size() || (text[v] != ':' && text[v] != '=')) continue;
      ++v;
      while (v < text.size() && text[v] == ' ') ++v;
      if (v < text.size() && (text[v] == '"' || text[v] == '\'')) ++v;
      if (const auto end = value_run(v); end > v && !redacted(v)) spans.emplace_back(v, end);
    }
  }
  for (std::size_t p = text.find("sk-"); p != std::string_view::npos; p = text.find("sk-", p + 1)) {
    if (p > 0 && detail::is_key_char(text[p - 1])) continue;
    std::size_t end = p + 3;
    while (end < text.size() && detail::is_key_char(text[end])) ++end;
    // Real keys are long; a short run is a word like "sk-learn".
    if (end - p - 3 >= 16) spans.emplace_back(p, end);
  }

  std::sort(spans.begin(), spans.end());
  std::string out;
  out.reserve(text.size());
  std::size_t at = 0;
  for (std::size_t i = 0; i < spans.size();) {
    const std::size_t begin = spans[i].first;
    std::size_t end = spans[i].second;
    for (++i; i < spans.size() && spans[i].first <= end; ++i) end = std::max(end, spans[i].second);
    out.append(text.substr(at, begin - at)).append("[REDACTED]");
    at = end;
  }
  return out.append(text.substr(at));
}

}  // namespace dspy
