// Asio's steady timer behind a pointer: its header (with the Boost.DateTime and reactor code it
// brings) is parsed where the timer's functions are compiled, not in every file that waits
// (dspy::batch, testing::ScriptedLM).
#pragma once

#include <chrono>
#include <memory>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>

#include "config.hpp"

namespace dspy::detail {

/// A steady_timer on an any_io_executor.
class Timer {
 public:
  /// A timer that never expires: a wait on it ends when it is cancelled.
  DSPY_DECL explicit Timer(const boost::asio::any_io_executor& executor);
  /// A timer that expires `after` from now.
  DSPY_DECL Timer(const boost::asio::any_io_executor& executor, std::chrono::steady_clock::duration after);
  DSPY_DECL ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  /// Ends the pending wait, which then gives operation_aborted.
  DSPY_DECL void cancel();

  /// Waits, in the awaiting coroutine (whose cancellation slot cancels the wait), until `self`
  /// expires or is cancelled; gives the wait's error (operation_aborted when cancelled). `self`
  /// must outlive the wait. Static, so that the frame holds `self` (as BaseLM::respond).
  static DSPY_DECL boost::asio::awaitable<boost::system::error_code> wait(Timer* self);

  /// Waits `after` in the awaiting coroutine (whose cancellation slot cancels the wait); false
  /// when cancelled first. The timer lives in this call's frame, only while it waits.
  static DSPY_DECL boost::asio::awaitable<bool> sleep(boost::asio::any_io_executor executor,
                                                      std::chrono::steady_clock::duration after);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dspy::detail

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "timer_impl.hpp"
#endif
