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

#include "../detail/exception.hpp"
#include "../detail/sync_wait.hpp"
#include "../detail/text/redact.hpp"
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
Result<LMResponse> call_under(BaseLM& lm, LMRequest request, const Settings& settings);
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
  asio::awaitable<Result<LMResponse>> acall(LMRequest request) { return respond(this, std::move(request), {}); }

  /// acall, handing the first completion's text to `on_text` as it arrives (a cached reply: at
  /// once, whole).
  asio::awaitable<Result<LMResponse>> astream(LMRequest request, TextSink on_text) {
    return respond(this, std::move(request), std::move(on_text));
  }

  /// acall, blocking the calling thread (through `forward`), under this thread's settings.
  Result<LMResponse> call(LMRequest request) {
    const SettingsPtr settings = current_settings();
    return detail::call_under(*this, std::move(request), *settings);
  }

  /// The model name (e.g. "openai/gpt-4o-mini").
  [[nodiscard]] virtual std::string model() const = 0;

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
  virtual Result<LMResponse> forward(const LMRequest& request) { return detail::sync_wait(aforward(request)); }

  /// Texts never to keep or return, such as the API key: replaced by "[redacted]".
  [[nodiscard]] virtual std::vector<std::string_view> secrets() const { return {}; }

  /// Asked first, before the cache, with the merged request; a value answers the call.
  virtual std::optional<LMResponse> lookup(const LMRequest& /*request*/) { return std::nullopt; }

  /// Told about every finished call, however it was answered, with its wall time.
  virtual void record(const LMRequest& /*request*/, const Result<LMResponse>& /*response*/,
                      std::chrono::nanoseconds /*latency*/) {}

  void set_defaults(CallConfig defaults) {
    defaults_ = std::move(defaults);
    has_defaults_ = true;
  }

 private:
  friend Result<LMResponse> detail::call_under(BaseLM& lm, LMRequest request, const Settings& settings);

  // One call's state between the front's steps.
  struct Call {
    const Settings& settings;  // kept alive by the caller
    UsageContext usage;  // the scopes open when the call was made
    std::string model;
    std::chrono::steady_clock::time_point start{};
    std::uint64_t id = 0;  // 0: no callbacks to tell
    std::shared_ptr<Cache> cache{};  // where the model's reply goes; null: nowhere
    std::optional<CacheKey> key{};
    std::optional<LMResponse> hit{};  // a hook's or the cache's answer: the model is not asked
  };

  // Before the model: the merged request, on_lm_start, and an answer if a hook or the cache has one.
  Call begin(LMRequest& request, const Settings& settings) {
    Call c{.settings = settings,
           .usage = UsageContext::current(),
           .model = model(),
           .start = std::chrono::steady_clock::now()};
    if (has_defaults_) request.config = defaults_.merged_with(request.config);
    if (!c.settings.callbacks.empty()) {
      c.id = next_call_id();
      for (const auto& callback : c.settings.callbacks) callback->on_lm_start(c.id, c.model, request);
    }
    c.hit = lookup(request);
    if (!c.hit && cache_) {
      auto cache = cache_store_ ? cache_store_ : default_cache();
      auto key = cache_key(c.model, request);
      c.hit = cache->get(key);
      if (!c.hit) {
        c.cache = std::move(cache);
        c.key.emplace(std::move(key));
      }
    }
    return c;
  }

  Result<LMResponse> forward_caught(const LMRequest& request) {
    try {
      return forward(request);
    } catch (...) {
      return error_from_exception(std::current_exception());
    }
  }

  // After: redaction, then the cache, the record hook, usage, history (which takes the request's
  // messages) and on_lm_end.
  void end(LMRequest& request, Call& c, Result<LMResponse>& out) {
    const auto latency = std::chrono::steady_clock::now() - c.start;
    if (out) reject_negative_usage(c.model, out);
    redact(out, request.messages);
    if (out && c.cache) c.cache->put(*c.key, *out);
    record(request, out, latency);
    if (out) {
      c.usage.record(c.model, *out);  // a cache hit counts nothing
      global_history().add_with([&](HistoryEntry& e) {
        e.model = std::move(c.model);
        e.messages = std::move(request.messages);
        e.outputs = out->completions;  // into the storage of a recycled entry's
        e.usage = out->usage;          // zero on a cache hit
        e.latency = latency;
        e.timestamp = std::chrono::system_clock::now();
        e.cache_hit = out->cache_hit;
      });
    }
    if (c.id)
      for (const auto& callback : c.settings.callbacks) callback->on_lm_end(c.id, out, latency);
  }

  // A reply's usage is the model's claim: a negative count would subtract from every tracker.
  static void reject_negative_usage(const std::string& model, Result<LMResponse>& out) {
    const Usage& u = out->usage;
    for (const auto& [name, n] : {std::pair{"prompt_tokens", u.prompt_tokens},
                                  std::pair{"completion_tokens", u.completion_tokens},
                                  std::pair{"total_tokens", u.total_tokens}})
      if (n < 0) {
        out = Error(Errc::bad_response, model + ": the reply claims a negative token count (" + name + " = " +
                                            std::to_string(n) + ")");
        return;
      }
  }

  // An error may echo the request (a server's 401 text, a dumped header): the model's secrets
  // and credential-shaped values go. A reply and the messages kept lose the model's secrets that
  // are long enough to be credentials (a short test key such as "k" would mangle ordinary text).
  // Everything the library keeps (history, cache, logs, demos, saved state) comes from these.
  void redact(Result<LMResponse>& out, std::vector<Message>& messages) const {
    const std::vector<std::string_view> own = secrets();
    if (!out) {
      auto scrub = [&own](std::string text) {
        for (const std::string_view s : own) text = detail::redact(std::move(text), s);
        return redact_secrets(text);
      };
      const Error& e = out.error();
      Error clean(e.code(), scrub(e.message()), scrub(e.raw_response()), e.field());
      out = std::move(clean);
      return;
    }
    for (const std::string_view s : own) {
      if (s.size() < detail::kFuzzySecretLength) continue;
      for (auto& text : out->completions) text = detail::redact(std::move(text), s);
      for (auto& m : messages) m.content = detail::redact(std::move(m.content), s);
    }
  }

  // acall's and astream's body; `on_text` empty: not streamed. Static members, so that the frame
  // holds `self` (GCC 12 mis-diagnoses the frame of a member coroutine under -O1 -fsanitize).
  static asio::awaitable<Result<LMResponse>> respond(BaseLM* self, LMRequest request, TextSink on_text) {
    const SettingsPtr settings = settings_of(co_await asio::this_coro::executor);
    Call c = self->begin(request, *settings);
    std::optional<Result<LMResponse>> out;
    try {
      if (c.hit) {
        if (on_text && !c.hit->completions.empty()) on_text(c.hit->completions.front());
        out.emplace(std::move(*c.hit));
      } else {
        // The model gets a copy: the history keeps the messages. Not inside co_await: GCC 12 PR 100611.
        auto pending = on_text ? self->aforward_stream(request, std::move(on_text)) : self->aforward(request);
        out.emplace(co_await std::move(pending));
      }
    } catch (...) {
      out.emplace(error_from_exception(std::current_exception()));
    }
    self->end(request, c, *out);
    co_return std::move(*out);
  }

  static asio::awaitable<Result<LMResponse>> forward_then_text(BaseLM* self, LMRequest request, TextSink on_text) {
    auto pending = self->aforward(std::move(request));  // not inside co_await: GCC 12 PR 100611
    Result<LMResponse> r = co_await std::move(pending);
    if (r && on_text && !r->completions.empty()) on_text(r->completions.front());
    co_return r;
  }
  CallConfig defaults_{};
  bool has_defaults_ = false;  // merging nothing costs a copy of the config
  bool cache_ = false;
  std::shared_ptr<Cache> cache_store_{};
};

namespace detail {
/// BaseLM::call under settings the caller has already looked up (Predict's blocking call).
inline Result<LMResponse> call_under(BaseLM& lm, LMRequest request, const Settings& settings) {
  BaseLM::Call c = lm.begin(request, settings);
  Result<LMResponse> out = c.hit ? Result<LMResponse>(std::move(*c.hit)) : lm.forward_caught(request);
  lm.end(request, c, out);
  return out;
}
}  // namespace detail

}  // namespace dspy
