// The LM seam: what Predict sends (LMRequest), what comes back (LMResponse), and the interface
// every LM implements (BaseLM). HTTP clients and test doubles plug in here.
#pragma once

#include <chrono>
#include <concepts>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <boost/system/system_error.hpp>

#include "error.hpp"
#include "message.hpp"

namespace dspy {

namespace asio = boost::asio;

/// Token counts of one call (zero on a cache hit).
struct Usage {
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  std::int64_t total_tokens = 0;
  Usage& operator+=(const Usage& o) noexcept {
    prompt_tokens += o.prompt_tokens;
    completion_tokens += o.completion_tokens;
    total_tokens += o.total_tokens;
    return *this;
  }
  friend bool operator==(const Usage&, const Usage&) = default;
};

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

/// The typed error for an exception that escaped an LM call: an aborted operation is a
/// cancellation, anything else a failure of the call.
inline Error error_from_exception(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const boost::system::system_error& ex) {
    if (ex.code() == asio::error::operation_aborted) return Error(Errc::cancelled, "the LM call was cancelled");
    return Error(Errc::network, std::string("LM call failed: ") + ex.what());
  } catch (const std::exception& ex) {
    return Error(Errc::network, std::string("LM call threw: ") + ex.what());
  } catch (...) {
    return Error(Errc::network, "LM call threw a non-standard exception");
  }
}

/// Receives the text of a reply's first completion as it arrives, piece by piece.
using TextSink = std::function<void(std::string_view)>;

/// What every LM implements. `acall` is the primary path; `call` blocks, by default by running
/// `acall` on a private io_context (an LM with a cheaper blocking path overrides it).
class BaseLM {
 public:
  virtual ~BaseLM() = default;

  virtual asio::awaitable<Result<LMResponse>> acall(LMRequest request) = 0;

  virtual Result<LMResponse> call(const LMRequest& request) {
    asio::io_context io;
    std::optional<Result<LMResponse>> out;
    asio::co_spawn(io, store(this, request, &out), [&](const std::exception_ptr& e) {
      if (e) out.emplace(error_from_exception(e));
    });
    io.run();
    return std::move(*out);
  }

  /// acall, handing the first completion's text to `on_text` as it arrives. This default, for
  /// LMs that cannot stream, hands it over whole when the reply is complete.
  virtual asio::awaitable<Result<LMResponse>> astream(LMRequest request, TextSink on_text) {
    return acall_then_text(this, std::move(request), std::move(on_text));
  }

  /// The model name (e.g. "openai/gpt-4o-mini").
  [[nodiscard]] virtual std::string model() const = 0;

 protected:
  // co_spawn needs a default-constructible result; Result has none, so the value goes to `out`.
  static asio::awaitable<void> store(BaseLM* self, LMRequest request, std::optional<Result<LMResponse>>* out) {
    auto pending = self->acall(std::move(request));  // not inside co_await: GCC 12 PR 100611
    out->emplace(co_await std::move(pending));
  }

  static asio::awaitable<Result<LMResponse>> acall_then_text(BaseLM* self, LMRequest request, TextSink on_text) {
    auto pending = self->acall(std::move(request));  // not inside co_await: GCC 12 PR 100611
    Result<LMResponse> r = co_await std::move(pending);
    if (r && on_text && !r->completions.empty()) on_text(r->completions.front());
    co_return r;
  }
};

/// A shared reference to an LM. Converts from any BaseLM value (copied) or shared_ptr (shared).
class LMHandle {
 public:
  LMHandle() = default;
  LMHandle(std::shared_ptr<BaseLM> lm) : lm_(std::move(lm)) {}  // NOLINT: implicit by design
  template <class L>
    requires std::derived_from<std::remove_cvref_t<L>, BaseLM>
  LMHandle(L&& lm) : lm_(std::make_shared<std::remove_cvref_t<L>>(std::forward<L>(lm))) {}  // NOLINT
  template <class L>
    requires std::derived_from<L, BaseLM>
  LMHandle(std::shared_ptr<L> lm) : lm_(std::move(lm)) {}  // NOLINT

  [[nodiscard]] BaseLM* get() const noexcept { return lm_.get(); }
  BaseLM* operator->() const noexcept { return lm_.get(); }
  explicit operator bool() const noexcept { return lm_ != nullptr; }
  [[nodiscard]] const std::shared_ptr<BaseLM>& shared() const noexcept { return lm_; }
  friend bool operator==(const LMHandle& a, const LMHandle& b) noexcept { return a.lm_ == b.lm_; }

 private:
  std::shared_ptr<BaseLM> lm_;
};

}  // namespace dspy
