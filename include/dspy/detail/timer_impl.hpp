// The bodies of timer.hpp: header-only, timer.hpp includes them; with DSPY_SEPARATE_COMPILATION,
// <dspy/src.hpp> compiles them once.
#pragma once

#include <chrono>
#include <memory>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/error_code.hpp>

#include "timer.hpp"

namespace dspy::detail {

struct Timer::Impl {
  template <class... Args>
  explicit Impl(Args&&... args) : timer(std::forward<Args>(args)...) {}
  boost::asio::steady_timer timer;
};

DSPY_DECL Timer::Timer(const boost::asio::any_io_executor& executor)
    : impl_(std::make_unique<Impl>(executor, std::chrono::steady_clock::time_point::max())) {}

DSPY_DECL Timer::Timer(const boost::asio::any_io_executor& executor, std::chrono::steady_clock::duration after)
    : impl_(std::make_unique<Impl>(executor, after)) {}

DSPY_DECL Timer::~Timer() = default;

DSPY_DECL void Timer::cancel() { impl_->timer.cancel(); }

DSPY_DECL boost::asio::awaitable<boost::system::error_code> Timer::wait(Timer* self) {
  boost::system::error_code ec;
  co_await self->impl_->timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  co_return ec;
}

DSPY_DECL boost::asio::awaitable<bool> Timer::sleep(boost::asio::any_io_executor executor,
                                                    std::chrono::steady_clock::duration after) {
  boost::asio::steady_timer timer(executor, after);
  boost::system::error_code ec;
  co_await timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  co_return !ec;
}

}  // namespace dspy::detail
