// BaseLM: the one front every model is called through (DSPy's `BaseLM.__call__` around
// `forward`). A model implements `aforward`; the front adds the rest: the LM's default
// parameters, the LM callbacks, the cache, usage, history and redaction. HTTP clients and test
// doubles plug in here.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/this_coro.hpp>

#include "../detail/config.hpp"
#include "../primitives/callback.hpp"
#include "../primitives/error.hpp"
#include "../primitives/lm_handle.hpp"
#include "../primitives/message.hpp"
#include "../primitives/settings.hpp"
#include "cache.hpp"
#include "history.hpp"
#include "usage.hpp"

namespace dspy {

namespace asio = boost::asio;

class BaseLM;

namespace detail {
/// BaseLM::call under settings the caller has already looked up (Predict's blocking call).
DSPY_DECL Result<LMResponse> call_under(BaseLM& lm, LMRequest request, const Settings& settings);
/// BaseLM::astream (on_text empty: acall) under given settings: Predict's call, whose LM call
/// runs under the predictor's own ModuleCall.
DSPY_DECL asio::awaitable<Result<LMResponse>> acall_under(BaseLM& lm, LMRequest request, SettingsPtr settings,
                                                          TextSink on_text);
}  // namespace detail

/// What every LM is. `acall`, `astream` and `call` are the front, the same for every model: the
/// request's config over the LM's defaults, the LM callbacks of the settings in effect told
/// (on_lm_start, on_lm_end), the cache asked first when it is on, else the model; then usage into
/// the open scopes (track_usage), the call into the history (inspect_history), and the model's
/// secrets and anything shaped like a credential kept out of what is kept or returned. A model
/// implements `aforward` and `model`, and `forward` or `aforward_stream` where it has a cheaper path.
class BaseLM {
 public:
  virtual ~BaseLM() = default;

  /// Calls the model on the current executor; settings come from the executor when it carries
  /// some (dspy::with_context). An exception from the model becomes a typed error.
  asio::awaitable<Result<LMResponse>> acall(LMRequest request) { return respond(this, std::move(request), {}, {}); }

  /// acall, handing the first completion's text to `on_text` as it arrives (a cached reply: at
  /// once, whole).
  asio::awaitable<Result<LMResponse>> astream(LMRequest request, TextSink on_text) {
    return respond(this, std::move(request), std::move(on_text), {});
  }

  /// acall, blocking the calling thread (through `forward`), under this thread's settings.
  Result<LMResponse> call(LMRequest request) {
    const SettingsPtr settings = current_settings();
    return detail::call_under(*this, std::move(request), *settings);
  }

  /// The model name (e.g. "openai/gpt-4o-mini").
  [[nodiscard]] virtual std::string model() const = 0;
  /// DSPy's model_type: "chat", or "responses" for OpenAI's Responses API.
  [[nodiscard]] virtual std::string_view model_type() const noexcept { return "chat"; }

  /// What the model does natively; dspy::LM knows the common model families, other LMs say
  /// nothing unless told.
  [[nodiscard]] const LMCapabilities& capabilities() const noexcept { return capabilities_; }
  void set_capabilities(LMCapabilities capabilities) noexcept { capabilities_ = capabilities; }

  /// Call parameters that a request's config overrides (DSPy's `lm.kwargs`).
  [[nodiscard]] const CallConfig& defaults() const noexcept { return defaults_; }

  /// Answers repeated requests from `store` (null: dspy::default_cache() at call time) while on.
  /// dspy::LM turns it on (LMConfig::cache); other LMs call the model every time unless turned on.
  void set_cache(bool on, std::shared_ptr<Cache> store = {}) {
    cache_ = on;
    cache_store_ = std::move(store);
  }
  [[nodiscard]] bool cache_enabled() const noexcept { return cache_; }

 protected:
  /// The model's reply to a request whose config is merged (DSPy's `aforward`).
  virtual asio::awaitable<Result<LMResponse>> aforward(LMRequest request) = 0;

  /// aforward, handing the first completion's text to `on_text` as it arrives. This default, for
  /// models that cannot stream, hands it over whole when the reply is complete.
  virtual asio::awaitable<Result<LMResponse>> aforward_stream(LMRequest request, TextSink on_text) {
    return forward_then_text(this, std::move(request), std::move(on_text));
  }

  /// The blocking reply (DSPy's `forward`). This default runs aforward on a private io_context; a
  /// model that can answer without one overrides it.
  DSPY_DECL virtual Result<LMResponse> forward(const LMRequest& request);

  /// Texts never to keep or return, such as the API key: replaced by "[redacted]".
  [[nodiscard]] virtual std::vector<std::string_view> secrets() const { return {}; }

  /// Asked first, before the cache, with the merged request; a value answers the call.
  virtual std::optional<LMResponse> lookup(const LMRequest& /*request*/) { return std::nullopt; }

  /// Told about every finished call, however it was answered, with its wall time.
  virtual void record(const LMRequest& /*request*/, const Result<LMResponse>& /*response*/,
                      std::chrono::nanoseconds /*latency*/) {}

  /// Whether `record` reads the request. When it does not and the history keeps nothing, the
  /// model gets the request itself rather than a copy, and its messages are freed as soon as the
  /// model is done with them. An LM that overrides `record` and reads the request keeps the default.
  [[nodiscard]] virtual bool records_requests() const { return true; }

  void set_defaults(CallConfig defaults) {
    defaults_ = std::move(defaults);
    has_defaults_ = true;
  }

 private:
  friend Result<LMResponse> detail::call_under(BaseLM& lm, LMRequest request, const Settings& settings);
  friend asio::awaitable<Result<LMResponse>> detail::acall_under(BaseLM& lm, LMRequest request,
                                                                SettingsPtr settings, TextSink on_text);

  // One call's state between the front's steps.
  struct Call {
    const Settings& settings;  // kept alive by the caller
    UsageContext usage;  // the scopes open when the call was made
    std::string model;
    std::chrono::steady_clock::time_point start{};
    CallInfo info{};  // id 0: no callbacks to tell
    std::shared_ptr<Cache> cache{};  // where the model's reply goes; null: nowhere
    std::optional<CacheKey> key{};
    std::optional<LMResponse> hit{};  // a hook's or the cache's answer: the model is not asked
    bool request_given = false;       // the model got the request itself: nothing after reads it
  };

  // Before the model: the merged request, on_lm_start, and an answer if a hook or the cache has one.
  DSPY_DECL Call begin(LMRequest& request, const Settings& settings);

  DSPY_DECL Result<LMResponse> forward_caught(const LMRequest& request);

  // After: redaction, then the cache, the record hook, usage, history (which takes the request's
  // messages) and on_lm_end.
  DSPY_DECL void end(LMRequest& request, Call& c, Result<LMResponse>& out);

  // A reply's usage is the model's claim: a negative count would subtract from every tracker.
  static DSPY_DECL void reject_negative_usage(const std::string& model, Result<LMResponse>& out);

  // An error may echo the request (a server's 401 text, a dumped header): the model's secrets
  // and credential-shaped values go. A reply and the messages kept lose the model's secrets that
  // are long enough to be credentials (a short test key such as "k" would mangle ordinary text).
  // Everything the library keeps (history, cache, logs, demos, saved state) comes from these.
  DSPY_DECL void redact(Result<LMResponse>& out, std::vector<Message>& messages) const;

  // acall's and astream's body; `on_text` empty: not streamed; `settings` null: the executor's.
  // Static members, so that the frame holds `self` (GCC 12 mis-diagnoses the frame of a member
  // coroutine under -O1 -fsanitize).
  static DSPY_DECL asio::awaitable<Result<LMResponse>> respond(BaseLM* self, LMRequest request, TextSink on_text,
                                                               SettingsPtr settings);

  static DSPY_DECL asio::awaitable<Result<LMResponse>> forward_then_text(BaseLM* self, LMRequest request,
                                                                           TextSink on_text);

  // The model's awaitable for `request` (given or copied: see records_requests); not a coroutine.
  DSPY_DECL asio::awaitable<Result<LMResponse>> ask(LMRequest& request, Call& c, TextSink on_text);

  CallConfig defaults_{};
  LMCapabilities capabilities_{};
  bool has_defaults_ = false;  // merging nothing costs a copy of the config
  bool cache_ = false;
  std::shared_ptr<Cache> cache_store_{};
};

}  // namespace dspy

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "base_lm_impl.hpp"
#endif
