// dspy::LM: a real language model over HTTP. OpenAI-compatible chat completions (OpenAI,
// Ollama, vLLM, OpenRouter, Groq, Together, DeepSeek, Mistral) and Anthropic's Messages API,
// with retries, timeouts and cancellation, on a libcurl multi shared per Asio execution context.
// The transport only: BaseLM's front adds the cache, usage, history, callbacks and redaction.
#pragma once

#include <cctype>
#include <exception>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/json.hpp>

#include "../detail/http/backoff.hpp"
#include "../detail/http/provider.hpp"
#include "../detail/http/rate_limit.hpp"
#include "../detail/http/reply_budget.hpp"
#include "../detail/text/redact.hpp"
#include "../detail/text/tolerant.hpp"
#include "../primitives/error.hpp"
#include "base_lm.hpp"
#include "cache.hpp"

namespace dspy {

namespace detail {
struct HttpRequest;  // detail/http/curl_multi.hpp
}  // namespace detail

template <class Executor>
class BasicLM;
/// The HTTP LM (see BasicLM below).
using LM = BasicLM<asio::any_io_executor>;

/// Extra observers of an LM's calls (the cache, usage scopes and history are BaseLM's). Both
/// are optional.
struct LMHooks {
  /// Asked first, before the cache, with the merged request; a value answers the call.
  std::function<std::optional<LMResponse>(const LM&, const LMRequest&)> lookup;
  /// Told about every finished call, however it was answered, with its wall time.
  std::function<void(const LM&, const LMRequest&, const Result<LMResponse>&, std::chrono::nanoseconds)> record;
};

/// A client-side rate limit (0: no limit). Calls are paced to one second's worth of the rate at
/// a time; tokens are counted from replies' usage, so a call waits while the budget is spent.
struct RateLimit {
  double requests_per_minute = 0;
  double tokens_per_minute = 0;
};

/// The bytes of reply bodies that all LM calls of the process together may hold while in flight
/// (default 256 MiB; each reply is also bounded by LMConfig::max_response_bytes). A reply that
/// would pass it is stopped and its call fails with Errc::bad_response; other calls go on.
inline void set_max_buffered_reply_bytes(std::size_t bytes) noexcept {
  detail::reply_budget().limit.store(bytes, std::memory_order_relaxed);
}

/// An LM's settings. Call parameters (temperature ... extra_body) are defaults that a
/// predictor's or a call's CallConfig overrides.
struct LMConfig {
  std::string api_base{};              ///< empty: the provider's *_API_BASE variable, then its default
  std::optional<std::string> api_key{};  ///< unset: the provider's *_API_KEY variable
  std::optional<double> temperature{};
  std::optional<int> max_tokens{};
  std::optional<int> n{};
  std::optional<std::vector<std::string>> stop{};
  boost::json::object extra_body{};  ///< more request-body fields (e.g. "top_p"); a call's `extra` wins
  std::vector<std::pair<std::string, std::string>> headers{};  ///< extra headers; replace defaults of the same name
  int num_retries = 3;  ///< retries after the first attempt, on 408/409/429/5xx and network errors
  std::chrono::milliseconds timeout{600'000};  ///< per attempt, connect included
  detail::Backoff backoff{};                   ///< waits between retries
  RateLimit rate_limit{};                      ///< shared by the copies of this LM; retries count
  /// TLS peer verification (certificate chain and host name), on unless turned off here. Turning
  /// it off lets anyone on the path read and change calls: for a local test server only.
  bool verify_tls = true;
  /// PEM file of certificates to trust instead of the system's (e.g. a private CA); empty: the
  /// system's bundle.
  std::string ca_bundle{};
  /// Answer repeated requests from the cache (memory LRU + disk, as DSPy). Off here for this LM;
  /// off for every LM with `dspy::configure_cache({.enable_memory = false, .enable_disk = false})`.
  bool cache = true;
  std::shared_ptr<Cache> cache_store{};  ///< null: dspy::default_cache() at call time
  std::size_t max_response_bytes = 64U << 20;  ///< a longer reply fails with Errc::bad_response, not retried
  std::shared_ptr<const LMHooks> hooks{};
  /// What the model does natively; unset: known for the model's family (detail::known_capabilities).
  std::optional<LMCapabilities> capabilities{};
  /// DSPy's model_type: "chat" (chat completions) or "responses" (OpenAI's Responses API, POST
  /// /responses, for OpenAI-compatible providers).
  std::string model_type = "chat";
};

/// dspy::LM. A template on the executor, as Asio's I/O objects are: a file that never constructs
/// an LM never compiles the transport, and the compiled part (DSPY_SEPARATE_COMPILATION)
/// compiles it once for all.
template <class Executor = asio::any_io_executor>
class BasicLM : public BaseLM {
 public:
  /// `model` in DSPy/LiteLLM form: "openai/gpt-4o-mini", "anthropic/claude-sonnet-4-5",
  /// "ollama_chat/llama3.2", "hosted_vllm/...", "openrouter/...", "groq/...", "together_ai/...",
  /// "deepseek/...", "mistral/...". Unknown prefixes are OpenAI-compatible given an `api_base`.
  explicit BasicLM(std::string model, LMConfig config = {});
  // Defined beside the transport (lm_transport.hpp): with the compiled part, a file that makes or
  // copies an LM compiles none of it.
  BasicLM(const BasicLM& other);
  BasicLM(BasicLM&& other);
  BasicLM& operator=(const BasicLM&) = default;
  BasicLM& operator=(BasicLM&&) = default;
  ~BasicLM() override;

  [[nodiscard]] std::string model() const override { return model_; }
  [[nodiscard]] std::string_view model_type() const noexcept override { return config_.model_type; }
  [[nodiscard]] const LMConfig& config() const noexcept { return config_; }
  /// The endpoint calls go to; empty when the LM is misconfigured (calls then fail with Errc::config).
  [[nodiscard]] const std::string& url() const noexcept { return url_; }

 protected:
  /// Over HTTP on the current executor (an io_context's). Cancelling through the awaiting
  /// coroutine's cancellation slot ends the call with Errc::cancelled. The LM must outlive the call.
  asio::awaitable<Result<LMResponse>> aforward(LMRequest request) override;

  /// The reply comes as server-sent events and the first completion's text goes to `on_text` as
  /// it arrives, from the transfer's I/O callback (so keep it short). A stream that has delivered
  /// text is not retried.
  asio::awaitable<Result<LMResponse>> aforward_stream(LMRequest request, TextSink on_text) override;

  /// Each thread keeps one io_context (and so one curl multi with its open connections) for its
  /// blocking calls.
  Result<LMResponse> forward(const LMRequest& request) override;

  [[nodiscard]] std::vector<std::string_view> secrets() const override {
    if (key_.empty()) return {};
    return {key_};
  }

  std::optional<LMResponse> lookup(const LMRequest& request) override {
    if (config_.hooks && config_.hooks->lookup) return config_.hooks->lookup(*this, request);
    return std::nullopt;
  }

  void record(const LMRequest& request, const Result<LMResponse>& response, std::chrono::nanoseconds latency) override {
    if (config_.hooks && config_.hooks->record) config_.hooks->record(*this, request, response, latency);
  }
  [[nodiscard]] bool records_requests() const override { return config_.hooks && config_.hooks->record; }

 private:
  // A call over HTTP: the request is checked and its body built before anything is awaited, so
  // the transfer's frame (exchange) is the only one a call keeps. Not a coroutine.
  static asio::awaitable<Result<LMResponse>> fetch(const BasicLM* self, LMRequest request, TextSink on_text);

  // The Messages API has no `n`: `n` exchanges of `http`, one completion each. A static member, so
  // that the frame holds `self` (GCC 12 mis-diagnoses the frame's allocation in a virtual member
  // coroutine under -O1 -fsanitize).
  static asio::awaitable<Result<LMResponse>> fetch_each(const BasicLM* self, detail::HttpRequest http, int n,
                                                        TextSink on_text);

  // BaseLM's front keeps the key out of the error.
  Error fail(Errc code, const std::string& what, std::string raw = {}) const {
    return Error(code, model_ + ": " + what, std::move(raw));
  }

  // What a call with `config` sends, less the body.
  [[nodiscard]] detail::HttpRequest http_request(const CallConfig& config) const;

  [[nodiscard]] std::string body_for(const LMRequest& request, const CallConfig& config, bool stream) const {
    return detail::request_body(api_, model_id_, request, config, stream);
  }

  // One request with its retries. With `on_text`, the body is a stream read as it arrives.
  asio::awaitable<Result<LMResponse>> exchange(detail::HttpRequest http, TextSink on_text) const;

  std::string model_;
  LMConfig config_;
  std::string model_id_;
  detail::WireApi api_ = detail::WireApi::openai_chat;
  std::string url_;
  std::string key_;
  std::string problem_;  // why calls cannot be made, if they cannot
  std::shared_ptr<const std::vector<std::string>> headers_;  // every call's, shared
  std::shared_ptr<detail::RateLimiter> limiter_;  // null: no limit
};

#if defined(DSPY_SEPARATE_COMPILATION)
extern template class BasicLM<asio::any_io_executor>;  // compiled in <dspy/src.hpp>
#endif

}  // namespace dspy

// The calls' bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "lm_transport.hpp"
#endif
