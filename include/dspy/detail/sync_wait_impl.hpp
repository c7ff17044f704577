// The body of sync_wait.hpp's untyped part: header-only, sync_wait.hpp includes it; with
// DSPY_SEPARATE_COMPILATION, <dspy/src.hpp> compiles it once.
#pragma once

#include <exception>
#include <optional>
#include <stdexcept>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "../primitives/settings.hpp"
#include "io_context_executor.hpp"
#include "sync_wait.hpp"

namespace dspy::detail {

DSPY_DECL std::exception_ptr run_until_done(asio::io_context* io, asio::awaitable<void> task,
                                            bool (*done)(const void*), const void* out) {
  std::optional<asio::io_context> own;
  if (!io) io = &own.emplace();
  std::exception_ptr escaped;
  io->restart();  // a reused io_context is stopped after its last run
  asio::co_spawn(IoContextExecutor(io->get_executor(), current_settings()), std::move(task),
                 [&escaped](const std::exception_ptr& e) {
                   if (e) escaped = e;  // only then is `escaped` still alive: nothing else is awaited
                 });
  while (!done(out) && !escaped && io->run_one() > 0) {
  }
  if (!done(out) && !escaped)
    escaped = std::make_exception_ptr(std::logic_error("the awaited operation stopped without completing"));
  return escaped;
}

}  // namespace dspy::detail
