// The executor sync_wait spawns on: settings over an io_context's executor.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>

#include "../primitives/settings.hpp"

namespace dspy::detail {

/// Small enough for any_io_executor to hold in place (an io_context's executor and the settings'
/// pointer), so that its copies, requires and prefers, several per LM call, allocate nothing, as
/// a ContextExecutor's do.
using IoContextExecutor = BasicContextExecutor<asio::io_context::executor_type>;
static_assert(sizeof(IoContextExecutor) <= 3 * sizeof(void*), "any_io_executor holds 3 pointers' worth in place");

/// `ex` without the settings it carries.
inline asio::any_io_executor without_settings(const asio::any_io_executor& ex) {
  if (const auto* c = ex.target<ContextExecutor>()) return c->inner();
  if (const auto* c = ex.target<IoContextExecutor>()) return c->inner();
  return ex;
}

}  // namespace dspy::detail
