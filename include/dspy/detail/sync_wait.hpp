// sync_wait: the one way the library blocks on an awaitable (an LM's blocking call, Predict's
// stream, dspy::call, dspy::batch).
#pragma once

#include <exception>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "../primitives/error.hpp"
#include "../primitives/settings.hpp"
#include "exception.hpp"

namespace dspy::detail {

/// Runs `task` on `io` from this thread until it completes, and returns its value. The task sees
/// this thread's settings (dspy::context) through its executor, as a coroutine started with
/// dspy::with_context would. An exception that escapes it becomes the typed error when T is a
/// Result, and is rethrown otherwise. What the task leaves pending stays on `io`.
template <class T>
T sync_wait(asio::io_context& io, asio::awaitable<T> task) {
  std::optional<T> out;
  std::exception_ptr escaped;
  io.restart();  // a reused io_context is stopped after its last run
  asio::co_spawn(ContextExecutor(io.get_executor(), current_settings()), store_result(std::move(task), &out),
                 [&escaped](const std::exception_ptr& e) {
                   if (e) escaped = e;  // only then is `escaped` still alive: nothing else is awaited
                 });
  while (!out && !escaped && io.run_one() > 0) {
  }
  if (!out && !escaped)
    escaped = std::make_exception_ptr(std::logic_error("the awaited operation stopped without completing"));
  if (escaped) {
    if constexpr (std::is_constructible_v<T, Error>) return T(error_from_exception(escaped));
    else std::rethrow_exception(escaped);
  }
  return std::move(*out);
}

/// sync_wait on a private io_context.
template <class T>
T sync_wait(asio::awaitable<T> task) {
  asio::io_context io;
  return sync_wait(io, std::move(task));
}

}  // namespace dspy::detail
