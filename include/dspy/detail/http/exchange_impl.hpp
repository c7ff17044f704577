// The bodies of exchange.hpp: header-only, exchange.hpp includes them; with
// DSPY_SEPARATE_COMPILATION, <dspy/src.hpp> compiles them once.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <variant>

#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "../../primitives/error.hpp"
#include "../timer.hpp"
#include "exchange.hpp"
#include "reply.hpp"

namespace dspy::detail {

DSPY_DECL asio::awaitable<Result<std::string>> post_with_retries(HttpRequest http, int num_retries, Backoff backoff,
                                                                 std::string limit_option) {
  const asio::any_io_executor ex = co_await asio::this_coro::executor;
  for (int attempt = 1;; ++attempt) {
    const asio::cancellation_state state = co_await asio::this_coro::cancellation_state;
    if (state.cancelled() != asio::cancellation_type::none)
      co_return Error(Errc::cancelled, "cancelled before calling " + http.url);
    auto transfer = async_http(ex, http, asio::use_awaitable);  // not inside co_await: GCC 12 PR 100611
    HttpResponse r = co_await std::move(transfer);
    if (r.cancelled) co_return Error(Errc::cancelled, "call to " + http.url + " cancelled");
    const std::string tries = " (attempt " + std::to_string(attempt) + ")";
    if (auto e = limit_failure(r, http.url, tries, limit_option)) co_return std::move(*e);
    if (succeeded(r)) co_return std::move(r.body);
    auto failed = failure(r, attempt <= num_retries, http.url, tries);
    if (auto* e = std::get_if<Error>(&failed)) co_return std::move(*e);
    // Not inside co_await: GCC 12 PR 100611.
    auto wait = Timer::sleep(ex, backoff.delay(attempt - 1, std::get<RetryAttempt>(failed).retry_after));
    const bool waited = co_await std::move(wait);
    if (!waited) co_return Error(Errc::cancelled, "cancelled while waiting to retry " + http.url);
  }
}

}  // namespace dspy::detail
