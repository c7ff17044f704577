// The message model: a chat message, and what a predictor sends an LM (LMRequest) and gets back
// (LMResponse).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

namespace dspy {

struct Message {
  std::string role{};  ///< "system", "user" or "assistant"
  std::string content{};
  friend bool operator==(const Message&, const Message&) = default;
};

namespace detail {
/// a + b, held at the int64 limits instead of overflowing: token counts come from replies.
[[nodiscard]] constexpr std::int64_t saturating_add(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) return a < 0 ? INT64_MIN : INT64_MAX;
  return sum;
}
}  // namespace detail

/// Token counts of one call (zero on a cache hit). Never negative: the LM front rejects a reply
/// that claims a negative count; sums saturate at INT64_MAX.
struct Usage {
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  std::int64_t total_tokens = 0;
  Usage& operator+=(const Usage& o) noexcept {
    prompt_tokens = detail::saturating_add(prompt_tokens, o.prompt_tokens);
    completion_tokens = detail::saturating_add(completion_tokens, o.completion_tokens);
    total_tokens = detail::saturating_add(total_tokens, o.total_tokens);
    return *this;
  }
  friend bool operator==(const Usage&, const Usage&) = default;
};

/// Tokens per model name (DSPy's `get_lm_usage()` / `get_total_tokens()`).
using LMUsage = std::map<std::string, Usage, std::less<>>;

/// Per-call LM parameters. Unset fields fall back to the predictor's, then to the LM's defaults.
struct CallConfig {
  // Every member has an initializer so that designated initializers may leave any out without
  // -Wmissing-field-initializers noise in user code.
  std::optional<double> temperature{};
  std::optional<int> max_tokens{};
  std::optional<int> n{};  ///< number of completions
  std::optional<std::vector<std::string>> stop{};
  /// DSPy's rollout_id: part of the cache key (a fresh sample per id), never sent to the provider.
  std::optional<std::int64_t> rollout_id{};
  boost::json::object extra{};  ///< extra request-body fields, merged last
  /// Per-attempt timeout of this call (connect included); unset: the LM's. Not part of the cache key.
  std::optional<std::chrono::milliseconds> timeout{};

  /// This config with every field that `over` sets taken from `over`.
  [[nodiscard]] CallConfig merged_with(const CallConfig& over) const {
    CallConfig out = *this;
    if (over.temperature) out.temperature = over.temperature;
    if (over.max_tokens) out.max_tokens = over.max_tokens;
    if (over.n) out.n = over.n;
    if (over.stop) out.stop = over.stop;
    if (over.rollout_id) out.rollout_id = over.rollout_id;
    for (const auto& kv : over.extra) out.extra[kv.key()] = kv.value();
    if (over.timeout) out.timeout = over.timeout;
    return out;
  }
};

struct LMRequest {
  std::vector<Message> messages{};
  CallConfig config{};
  /// OpenAI `response_format` (the JSONAdapter asks for a JSON object); null when not needed.
  boost::json::value response_format{};
};

struct LMResponse {
  std::vector<std::string> completions{};  ///< one per choice (n)
  Usage usage{};
  std::string model{};
  bool cache_hit = false;
};

/// Receives the text of a reply's first completion as it arrives, piece by piece.
using TextSink = std::function<void(std::string_view)>;

}  // namespace dspy
