// The bodies of parallel.hpp's non-template code: header-only, parallel.hpp includes them; with
// DSPY_SEPARATE_COMPILATION, <dspy/src.hpp> compiles them once.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <exception>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <utility>

#include <unistd.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>

#include "parallel.hpp"

namespace dspy::detail {

inline std::string progress_counts(const BatchProgress& p, std::chrono::steady_clock::time_point start) {
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double rate = secs > 0 ? static_cast<double>(p.done) / secs : 0.0;
  const double eta = rate > 0 ? static_cast<double>(p.total - p.done) / rate : 0.0;
  char text[128];
  std::snprintf(text, sizeof text, "%zu/%zu  %.1f/s  eta %.0fs  errors %zu", p.done, p.total, rate, eta, p.errors);
  return text;
}

inline void draw_progress(const BatchOptions& o, const BatchProgress& p, std::chrono::steady_clock::time_point start,
                          bool bar) {
  std::string text = progress_counts(p, start);
  if (o.progress_note) text += "  " + o.progress_note();
  if (bar) {
    const int width = 30;
    const int filled = p.total ? static_cast<int>(width * p.done / p.total) : width;
    std::fprintf(o.progress_stream, "\r[%.*s%*s] %s", filled, "==============================", width - filled, "",
                 text.c_str());
    if (p.done == p.total) std::fputc('\n', o.progress_stream);
  } else {
    std::fprintf(o.progress_stream, "%s\n", text.c_str());
  }
  std::fflush(o.progress_stream);
}

DSPY_DECL std::size_t BatchCore::prepare(BatchOptions o, std::size_t inputs) {
  options = std::move(o);
  size = inputs;
  progress.total = inputs;
  const bool terminal = options.progress_stream && ::isatty(::fileno(options.progress_stream));
  show_bar = options.progress && terminal;
  show_lines = options.progress_lines && options.progress_stream && !terminal;
  return std::min(std::max<std::size_t>(options.concurrency, 1), inputs);
}

DSPY_DECL void BatchCore::stop(std::string reason) {
  if (stopped) return;
  stopped = true;
  stop_reason = std::move(reason);
}

DSPY_DECL void BatchCore::cancel_all() {
  for (auto& [i, f] : in_flight)
    for (auto* call : f.calls) call->emit(asio::cancellation_type::terminal);
}

DSPY_DECL void BatchCore::begin(std::size_t i, asio::cancellation_signal* signal) {
  auto& flight = in_flight[i];
  if (flight.calls.empty()) flight.start = std::chrono::steady_clock::now();
  flight.calls.push_back(signal);
}

DSPY_DECL void BatchCore::settle(std::size_t i, asio::cancellation_signal* signal) {
  if (auto f = in_flight.find(i); f != in_flight.end()) {
    for (auto* other : f->second.calls)
      if (other != signal) other->emit(asio::cancellation_type::terminal);
    in_flight.erase(f);
  }
}

DSPY_DECL void BatchCore::recorded(bool ok) {
  if (!ok) ++progress.errors;
  ++progress.done;
  if (options.max_errors && progress.errors > *options.max_errors)
    stop("batch stopped after " + std::to_string(progress.errors) + " errors (max_errors " +
         std::to_string(*options.max_errors) + ")");
  if (options.on_progress) options.on_progress(progress);
  if (show_bar) draw_progress(options, progress, start, true);
  // A line each time the count passes a tenth of the total, and at the end.
  if (show_lines && (progress.done * 10 / progress.total != (progress.done - 1) * 10 / progress.total))
    draw_progress(options, progress, start, false);
}

DSPY_DECL void BatchCore::leave() {
  if (--running == 0) {
    finished = true;
    if (all_done) all_done->cancel();
    if (watch) watch->cancel();
  }
}

template <class Executor>
void spawn_batch_worker(const Executor& executor, std::shared_ptr<BatchCore> s, asio::awaitable<void, Executor> worker,
                        asio::cancellation_signal& signal) {
  asio::co_spawn(executor, std::move(worker),
                 asio::bind_cancellation_slot(signal.slot(), [s = std::move(s)](std::exception_ptr e) {
                   if (e && !s->worker_error) s->worker_error = e;
                   s->leave();
                 }));
}

// Starts a straggler's second call: checked a few times per timeout, as DSPy checks each second.
template <class Executor>
asio::awaitable<void, Executor> watch_stragglers(std::shared_ptr<BatchCore> s) {
  const Executor executor = co_await asio::this_coro::executor;
  const auto tick = std::clamp<std::chrono::steady_clock::duration>(s->options.timeout / 4, std::chrono::milliseconds(1),
                                                                    std::chrono::seconds(1));
  while (!s->finished) {
    Timer timer(executor, tick);
    s->watch = &timer;
    auto waiting = Timer::wait(&timer);
    co_await std::move(waiting);
    s->watch = nullptr;
    if (s->finished || s->stopped || s->next < s->size || s->in_flight.size() > s->options.straggler_limit) continue;
    const auto now = std::chrono::steady_clock::now();
    for (auto& [i, f] : s->in_flight)
      if (!f.resubmitted && now - f.start >= s->options.timeout) {
        f.resubmitted = true;
        ++s->running;
        s->spawn(executor, s, i);
      }
  }
}

// A stop request may come from any thread: it hops onto the batch's executor before touching the
// state.
template <class Executor>
struct BatchStopper {
  std::shared_ptr<BatchCore> s;
  Executor executor;
  void operator()() const {
    asio::post(executor, [s = s] {
      s->stop("batch cancelled");
      s->cancel_all();
    });
  }
};

template <class Executor>
asio::awaitable<void, Executor> run_batch(std::shared_ptr<BatchCore> s, std::size_t workers) {
  const Executor executor = co_await asio::this_coro::executor;
  s->all_done.emplace(executor);
  std::stop_callback<BatchStopper<Executor>> on_stop(s->options.stop, BatchStopper<Executor>{s, executor});
  s->running = workers;
  for (std::size_t w = 0; w < workers; ++w) s->spawn(executor, s, std::nullopt);
  if (workers > 0 && s->options.timeout.count() > 0 && s->options.straggler_limit > 0)
    asio::co_spawn(executor, watch_stragglers<Executor>(s), asio::detached);
  // The last worker's completion handler cancels the wait (and sets `finished`).
  if (workers > 0 && !s->finished) {
    auto all_done = Timer::wait(&*s->all_done);
    co_await std::move(all_done);
  }
}

}  // namespace dspy::detail
