// The bodies of BaseLM's front (base_lm.hpp): header-only, base_lm.hpp includes them; with
// DSPY_SEPARATE_COMPILATION, <dspy/src.hpp> compiles them once.
#pragma once

#include <chrono>
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
#include "../primitives/message.hpp"
#include "../primitives/settings.hpp"
#include "base_lm.hpp"
#include "cache.hpp"
#include "history.hpp"
#include "usage.hpp"

namespace dspy {

DSPY_DECL BaseLM::Call BaseLM::begin(LMRequest& request, const Settings& settings) {
  global_history().prefetch_oldest();  // end() recycles it
  Call c{.settings = settings,
         .usage = UsageContext::current(),
         .model = model(),
         .start = std::chrono::steady_clock::now()};
  if (has_defaults_) request.config = defaults_.merged_with(request.config);
  if (!c.settings.callbacks.empty()) {
    const ModuleCall* caller = c.settings.caller.get();
    c.info = {next_call_id(), caller ? caller->id : 0, caller ? std::string_view(caller->path) : std::string_view()};
    for (const auto& callback : c.settings.callbacks) callback->on_lm_start(c.info, c.model, request);
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

DSPY_DECL Result<LMResponse> BaseLM::forward(const LMRequest& request) { return detail::sync_wait(aforward(request)); }

DSPY_DECL Result<LMResponse> BaseLM::forward_caught(const LMRequest& request) {
  try {
    return forward(request);
  } catch (...) {
    return error_from_exception(std::current_exception());
  }
}

DSPY_DECL void BaseLM::end(LMRequest& request, Call& c, Result<LMResponse>& out) {
  const std::chrono::nanoseconds latency = std::chrono::steady_clock::now() - c.start;
  if (out) out->latency = latency;
  if (out) reject_negative_usage(c.model, out);
  redact(out, request.messages);
  if (out && c.cache) c.cache->put(*c.key, *out);
  record(request, out, latency);
  if (out) {
    c.usage.record(c.model, *out);  // a cache hit counts nothing
    if (!out->cache_hit)
      for (const ModuleCall* m = c.settings.caller.get(); m; m = m->parent.get())
        if (m->usage) m->usage->add(c.model, out->usage);
    if (!c.request_given) global_history().add_with([&](HistoryEntry& e) {
      e.model = std::move(c.model);
      e.messages = std::move(request.messages);
      e.outputs = out->completions;  // into the storage of a recycled entry's
      e.tool_calls.clear();
      if (!out->tool_calls.empty()) e.tool_calls = out->tool_calls.front();
      e.usage = out->usage;          // zero on a cache hit
      e.latency = latency;
      e.timestamp = std::chrono::system_clock::now();
      e.cache_hit = out->cache_hit;
    });
  }
  if (c.info.id)
    for (const auto& callback : c.settings.callbacks) callback->on_lm_end(c.info, out, latency);
}

DSPY_DECL void BaseLM::reject_negative_usage(const std::string& model, Result<LMResponse>& out) {
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

DSPY_DECL void BaseLM::redact(Result<LMResponse>& out, std::vector<Message>& messages) const {
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
    for (auto& m : messages)  // a message without the key keeps its text (a shared one stays shared)
      if (!detail::secret_spans(m.content.text(), s).empty())
        m.content.transform_text([&](std::string t) { return detail::redact(std::move(t), s); });
  }
}

DSPY_DECL asio::awaitable<Result<LMResponse>> BaseLM::respond(BaseLM* self, LMRequest request, TextSink on_text,
                                                               SettingsPtr settings) {
  if (!settings) settings = settings_of(co_await asio::this_coro::executor);
  Call c = self->begin(request, *settings);
  std::optional<Result<LMResponse>> out;
  try {
    if (c.hit) {
      if (on_text && !c.hit->completions.empty()) on_text(c.hit->completions.front());
      out.emplace(std::move(*c.hit));
    } else {
      // Not inside co_await: GCC 12 PR 100611.
      auto pending = self->ask(request, c, std::move(on_text));
      out.emplace(co_await std::move(pending));
    }
  } catch (...) {
    out.emplace(error_from_exception(std::current_exception()));
  }
  self->end(request, c, *out);
  co_return std::move(*out);
}

DSPY_DECL asio::awaitable<Result<LMResponse>> BaseLM::ask(LMRequest& request, Call& c, TextSink on_text) {
  // The model gets a copy when the history or `record` reads the request after the call; else
  // the request itself (its messages then live as long as the model needs them, not the call).
  c.request_given = !records_requests() && global_history().capacity() == 0;
  if (c.request_given)
    return on_text ? aforward_stream(std::move(request), std::move(on_text)) : aforward(std::move(request));
  return on_text ? aforward_stream(request, std::move(on_text)) : aforward(request);
}

DSPY_DECL asio::awaitable<Result<LMResponse>> BaseLM::forward_then_text(BaseLM* self, LMRequest request,
                                                                         TextSink on_text) {
  auto pending = self->aforward(std::move(request));  // not inside co_await: GCC 12 PR 100611
  Result<LMResponse> r = co_await std::move(pending);
  if (r && on_text && !r->completions.empty()) on_text(r->completions.front());
  co_return r;
}

namespace detail {
DSPY_DECL Result<LMResponse> call_under(BaseLM& lm, LMRequest request, const Settings& settings) {
  BaseLM::Call c = lm.begin(request, settings);
  Result<LMResponse> out = c.hit ? Result<LMResponse>(std::move(*c.hit)) : lm.forward_caught(request);
  lm.end(request, c, out);
  return out;
}

DSPY_DECL asio::awaitable<Result<LMResponse>> acall_under(BaseLM& lm, LMRequest request, SettingsPtr settings,
                                                          TextSink on_text) {
  return BaseLM::respond(&lm, std::move(request), std::move(on_text), std::move(settings));
}
}  // namespace detail

}  // namespace dspy
