// dspy::LM's HTTP transport: the bodies of BasicLM's construction and calls, on the curl multi
// service. Apart so that with DSPY_SEPARATE_COMPILATION a file that uses dspy::LM parses none of it
// (Asio's descriptors, strands and timers, libcurl): <dspy/src.hpp> compiles it once. Header-only,
// <dspy/clients/lm.hpp> includes it.
#pragma once

#include <chrono>
#include <exception>
#include <memory>
#include <string>
#include <utility>
#include <variant>

#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "../detail/exception.hpp"
#include "../detail/http/curl_multi.hpp"
#include "../detail/http/reply.hpp"
#include "../detail/sync_wait.hpp"
#include "../detail/timer.hpp"
#include "lm.hpp"

namespace dspy {

template <class Executor>
BasicLM<Executor>::BasicLM(std::string model, LMConfig config)
    : model_(std::move(model)), config_(std::move(config)) {
  detail::Endpoint endpoint = detail::resolve_endpoint(model_, config_.api_base, config_.api_key, "LMConfig");
  model_id_ = std::move(endpoint.model_id);
  set_capabilities(config_.capabilities.value_or(detail::known_capabilities(model_)));
  api_ = endpoint.api;
  key_ = std::move(endpoint.key);
  if (config_.timeout <= std::chrono::milliseconds::zero()) {
    // curl reads 0 as "no timeout": a silent server would hold the call forever.
    problem_ = "LMConfig::timeout must be positive (got " + std::to_string(config_.timeout.count()) + " ms)";
  } else if (!(config_.rate_limit.requests_per_minute >= 0) || !(config_.rate_limit.tokens_per_minute >= 0)) {
    problem_ = "LMConfig::rate_limit must be 0 (no limit) or a positive rate";
  } else if (!endpoint.problem.empty()) {
    problem_ = std::move(endpoint.problem);
  } else if (config_.model_type != "chat" && config_.model_type != "responses") {
    problem_ = "LMConfig::model_type must be \"chat\" or \"responses\" (got \"" + config_.model_type + "\")";
  } else if (config_.model_type == "responses" && api_ != detail::WireApi::openai_chat) {
    problem_ = "LMConfig::model_type \"responses\" is OpenAI's Responses API, which " + model_ + " does not speak";
  } else {
    if (config_.model_type == "responses") api_ = detail::WireApi::openai_responses;
    url_ = detail::endpoint_url(api_, std::move(endpoint.base));
  }
  if (problem_.empty() && (config_.rate_limit.requests_per_minute > 0 || config_.rate_limit.tokens_per_minute > 0))
    limiter_ = std::make_shared<detail::RateLimiter>(config_.rate_limit.requests_per_minute,
                                                     config_.rate_limit.tokens_per_minute);
  set_defaults({.temperature = config_.temperature,
                .max_tokens = config_.max_tokens,
                .n = config_.n,
                .stop = config_.stop,
                .extra = config_.extra_body});
  set_cache(config_.cache, config_.cache_store);
  headers_ = std::make_shared<const std::vector<std::string>>(detail::with_headers(
      api_ == detail::WireApi::anthropic_messages
          ? std::vector<std::string>{"Content-Type: application/json", "x-api-key: " + key_,
                                     "anthropic-version: 2023-06-01"}
          : detail::bearer_headers(key_),
      config_.headers));
  if (!config_.verify_tls)
    detail::warn_tls_unverified(model_ + " at " + (url_.empty() ? config_.api_base : url_), key_,
                                "LMConfig::verify_tls");
}

template <class Executor>
BasicLM<Executor>::BasicLM(const BasicLM& other) = default;

template <class Executor>
BasicLM<Executor>::BasicLM(BasicLM&& other) = default;

template <class Executor>
BasicLM<Executor>::~BasicLM() = default;

template <class Executor>
asio::awaitable<Result<LMResponse>> BasicLM<Executor>::aforward(LMRequest request) {
  return fetch(this, std::move(request), {});
}

template <class Executor>
asio::awaitable<Result<LMResponse>> BasicLM<Executor>::aforward_stream(LMRequest request, TextSink on_text) {
  return fetch(this, std::move(request), std::move(on_text));
}

template <class Executor>
Result<LMResponse> BasicLM<Executor>::forward(const LMRequest& request) {
  thread_local asio::io_context io;
  return detail::sync_wait(io, aforward(request));
}

namespace detail {
// An awaitable that already holds its result: a call refused before any I/O.
inline asio::awaitable<Result<LMResponse>> ready(Result<LMResponse> r) { co_return r; }
}  // namespace detail

template <class Executor>
asio::awaitable<Result<LMResponse>> BasicLM<Executor>::fetch(const BasicLM* self, LMRequest request, TextSink on_text) {
  try {
    if (!self->problem_.empty()) return detail::ready(self->fail(Errc::config, self->problem_));
    if (request.config.timeout && *request.config.timeout <= std::chrono::milliseconds::zero())
      return detail::ready(self->fail(Errc::config, "CallConfig::timeout must be positive (got " +
                                                         std::to_string(request.config.timeout->count()) + " ms)"));
    if (auto problem = detail::unsupported_content(self->api_, request))
      return detail::ready(self->fail(Errc::bad_request, *problem));
    detail::HttpRequest http = self->http_request(request.config);
    const int n = request.config.n.value_or(1);
    if (self->api_ == detail::WireApi::anthropic_messages && n > 1) {
      CallConfig one = request.config;
      one.n.reset();
      http.body = self->body_for(request, one, static_cast<bool>(on_text));
      return fetch_each(self, std::move(http), n, std::move(on_text));
    }
    http.body = self->body_for(request, request.config, static_cast<bool>(on_text));
    return self->exchange(std::move(http), std::move(on_text));
  } catch (...) {  // as a coroutine's would, a failure comes out of the awaitable
    return detail::ready(error_from_exception(std::current_exception()));
  }
}

template <class Executor>
asio::awaitable<Result<LMResponse>> BasicLM<Executor>::fetch_each(const BasicLM* self, detail::HttpRequest http, int n,
                                                                  TextSink on_text) {
  LMResponse all;
  all.model = self->model_;
  for (int i = 0; i < n; ++i) {
    // Only the first completion is shown as it comes; the others are streams read quietly.
    TextSink sink = !on_text || i == 0 ? on_text : [](std::string_view) {};
    auto pending = self->exchange(http, std::move(sink));  // not inside co_await: GCC 12 PR 100611
    Result<LMResponse> r = co_await std::move(pending);
    if (!r) co_return std::move(r).error();
    all.completions.push_back(std::move(r->completions.front()));
    all.usage += r->usage;
  }
  co_return all;
}

template <class Executor>
detail::HttpRequest BasicLM<Executor>::http_request(const CallConfig& config) const {
  detail::HttpRequest http;
  http.url = url_;
  http.headers = headers_;
  http.timeout = config.timeout.value_or(config_.timeout);
  http.verify_tls = config_.verify_tls;
  http.ca_bundle = config_.ca_bundle;
  http.max_response_bytes = config_.max_response_bytes;
  return http;
}

template <class Executor>
asio::awaitable<Result<LMResponse>> BasicLM<Executor>::exchange(detail::HttpRequest http, TextSink on_text) const {
  const Executor ex = co_await asio::this_coro::executor;
  for (int attempt = 1;; ++attempt) {
    const asio::cancellation_state state = co_await asio::this_coro::cancellation_state;
    if (state.cancelled() != asio::cancellation_type::none)
      co_return fail(Errc::cancelled, "cancelled before calling " + http.url);
    if (limiter_) {
      auto paced = detail::Timer::sleep(ex, limiter_->reserve());  // GCC 12 PR 100611
      const bool waited = co_await std::move(paced);
      if (!waited) co_return fail(Errc::cancelled, "cancelled while waiting for the rate limit");
    }
    std::unique_ptr<detail::StreamDecoder> stream;  // on the heap: most calls do not stream
    std::exception_ptr thrown;  // by on_text, rethrown here rather than through curl
    if (on_text) {
      stream = std::make_unique<detail::StreamDecoder>(api_, on_text);
      http.on_data = [&stream, &thrown](std::string_view bytes) {
        try {
          return stream->feed(bytes);
        } catch (...) {
          thrown = std::current_exception();
          return false;
        }
      };
    }
    auto transfer = detail::async_http(ex, http, asio::use_awaitable);  // GCC 12 PR 100611
    detail::HttpResponse r = co_await std::move(transfer);
    if (thrown) std::rethrow_exception(thrown);
    if (r.cancelled) co_return fail(Errc::cancelled, "call to " + http.url + " cancelled");
    // Text already shown would be shown twice.
    const bool may_retry = attempt <= config_.num_retries && !(stream && stream->delivered());
    const std::string tries = " (attempt " + std::to_string(attempt) + ")";
    auto outcome = detail::judge_reply(api_, r, may_retry, http.url, tries, stream.get());
    if (auto* done = std::get_if<Result<LMResponse>>(&outcome)) {
      if (!*done) co_return fail(done->error().code(), done->error().message(), done->error().raw_response());
      (*done)->model = model_;
      (*done)->retries = attempt - 1;
      if (limiter_) limiter_->charge((*done)->usage.total_tokens);
      co_return std::move(*done);
    }
    const auto retry_after = std::get<detail::RetryAttempt>(outcome).retry_after;
    auto wait = detail::Timer::sleep(ex, config_.backoff.delay(attempt - 1, retry_after));  // GCC 12 PR 100611
    const bool waited = co_await std::move(wait);
    if (!waited) co_return fail(Errc::cancelled, "cancelled while waiting to retry " + http.url);
  }
}

}  // namespace dspy
