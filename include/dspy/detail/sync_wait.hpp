// sync_wait: the one way the library blocks on an awaitable (an LM's blocking call, Predict's
// stream, dspy::call, dspy::batch).
#pragma once

#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include <boost/asio/awaitable.hpp>

#include "../primitives/error.hpp"
#include "../primitives/settings.hpp"
#include "config.hpp"
#include "exception.hpp"

namespace boost::asio {
class io_context;
}

namespace dspy::detail {

/// The untyped part, compiled once: spawns `task` on `io` (a private io_context when null) with
/// this thread's settings and runs it until `done(out)` or the task throws; returns what escaped
/// (a logic_error when `io` ran dry first).
DSPY_DECL std::exception_ptr run_until_done(asio::io_context* io, asio::awaitable<void> task,
                                            bool (*done)(const void*), const void* out);

template <class T>
T sync_wait_on(asio::io_context* io, asio::awaitable<T> task) {
  std::optional<T> out;
  const std::exception_ptr escaped = run_until_done(
      io, store_result(std::move(task), &out),
      [](const void* o) { return static_cast<const std::optional<T>*>(o)->has_value(); }, &out);
  if (escaped) {
    if constexpr (std::is_constructible_v<T, Error>) return T(error_from_exception(escaped));
    else std::rethrow_exception(escaped);
  }
  return std::move(*out);
}

/// Runs `task` on `io` from this thread until it completes, and returns its value. The task sees
/// this thread's settings (dspy::context) through its executor, as a coroutine started with
/// dspy::with_context would. An exception that escapes it becomes the typed error when T is a
/// Result, and is rethrown otherwise. What the task leaves pending stays on `io`.
template <class T>
T sync_wait(asio::io_context& io, asio::awaitable<T> task) {
  return sync_wait_on(&io, std::move(task));
}

/// sync_wait on a private io_context.
template <class T>
T sync_wait(asio::awaitable<T> task) {
  return sync_wait_on<T>(nullptr, std::move(task));
}

}  // namespace dspy::detail

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "sync_wait_impl.hpp"
#endif
