// dspy::batch: run a module over N inputs with bounded concurrency; N results or errors come
// back in input order, whatever happens.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "../detail/sync_wait.hpp"
#include "../detail/timer.hpp"
#include "../primitives/module.hpp"
#include "module_call.hpp"

namespace dspy {

struct BatchProgress {
  std::size_t done = 0;
  std::size_t total = 0;
  std::size_t errors = 0;
};

struct BatchOptions {
  /// Calls in flight at once.
  std::size_t concurrency = 16;
  /// After more than this many errors, inputs not yet started get a `cancelled` error instead
  /// of a call (unset: never stop).
  std::optional<std::size_t> max_errors{};
  /// A progress bar with rate and ETA, shown only when `progress_stream` is a terminal.
  bool progress = true;
  /// When `progress_stream` is not a terminal: a plain progress line at every tenth of the way.
  bool progress_lines = false;
  std::FILE* progress_stream = stderr;
  /// Text shown after the counts (e.g. a running score); called on the batch's thread.
  std::function<std::string()> progress_note{};
  /// Called after each input completes (on the batch's thread).
  std::function<void(const BatchProgress&)> on_progress{};
  /// Stops the batch: calls in flight are cancelled, inputs not started get a `cancelled` error.
  std::stop_token stop{};
  /// Stragglers (DSPy's `timeout` and `straggler_limit`): once every input has started and at most
  /// `straggler_limit` calls are still running, a call running longer than `timeout` is started
  /// again, once; the first result wins and the other call is cancelled, so an input never gets
  /// two results and its result's usage is the winner's. A zero timeout turns this off.
  std::chrono::steady_clock::duration timeout = std::chrono::seconds(120);
  std::size_t straggler_limit = 3;
};

/// An input whose call failed, as DSPy's `return_failed_examples` reports it.
struct FailedInput {
  std::size_t index;
  const Error* error;
};

/// The failed inputs of a batch's results, in input order.
template <class R>
std::vector<FailedInput> failed_inputs(const std::vector<R>& results) {
  std::vector<FailedInput> out;
  for (std::size_t i = 0; i < results.size(); ++i)
    if (!results[i]) out.push_back({i, &results[i].error()});
  return out;
}

namespace detail {

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

template <class M>
struct BatchState {
  using R = module_result_t<M>;
  // The calls of one input still running: the first, and a straggler's second, each cancelled
  // through the signal of the worker running it.
  struct InFlight {
    std::chrono::steady_clock::time_point start;
    std::vector<asio::cancellation_signal*> calls;
    bool resubmitted = false;
  };
  const M* module;
  std::vector<typename M::Input> inputs;
  BatchOptions options;
  std::vector<std::optional<R>> results;
  std::size_t next = 0;
  std::size_t running = 0;  // workers and stragglers' second calls
  std::map<std::size_t, InFlight> in_flight;
  // One per worker, alive until the worker's completion handler has run (see spawn_worker).
  std::deque<asio::cancellation_signal> signals;
  std::exception_ptr worker_error;  // the first exception that ended a worker (a callback's)
  BatchProgress progress;
  bool stopped = false;
  bool finished = false;
  std::string stop_reason;
  std::optional<Timer> all_done;  // never expires: the last worker cancels it
  Timer* watch = nullptr;         // the straggler watch's current wait
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  bool show_bar = false;
  bool show_lines = false;

  void stop(std::string reason) {
    if (stopped) return;
    stopped = true;
    stop_reason = std::move(reason);
  }

  void cancel_all() {
    for (auto& [i, f] : in_flight)
      for (auto* call : f.calls) call->emit(asio::cancellation_type::terminal);
  }

  void record(std::size_t i, R r) {
    if (!r) ++progress.errors;
    results[i].emplace(std::move(r));
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

  void begin(std::size_t i, asio::cancellation_signal* signal) {
    auto& flight = in_flight[i];
    if (flight.calls.empty()) flight.start = std::chrono::steady_clock::now();
    flight.calls.push_back(signal);
  }

  // The first result of an input is kept; the other call of a straggler, if any, is cancelled.
  void end(std::size_t i, asio::cancellation_signal* signal, R r) {
    if (results[i]) return;  // the other call won
    if (auto f = in_flight.find(i); f != in_flight.end()) {
      for (auto* other : f->second.calls)
        if (other != signal) other->emit(asio::cancellation_type::terminal);
      in_flight.erase(f);
    }
    record(i, std::move(r));
  }

  void leave() {
    if (--running == 0) {
      finished = true;
      if (all_done) all_done->cancel();
      if (watch) watch->cancel();
    }
  }
};

// Calls the module on input after input (or, for a straggler's second call, on `straggler`
// alone) in one coroutine, spawned bound to `signal`: stopping the batch, or the other call of a
// straggler winning, cancels the worker's current call, and the next input starts afresh.
template <class M>
asio::awaitable<void> batch_worker(std::shared_ptr<BatchState<M>> s, asio::cancellation_signal* signal,
                                   std::optional<std::size_t> straggler) {
  using R = module_result_t<M>;
  for (std::size_t turn = 1;; ++turn) {
    // Before anything else is awaited: a cancelled call's state would make it throw.
    co_await asio::this_coro::reset_cancellation_state();
    // Calls that complete without suspending (cache hits, in-process LMs) never give the thread
    // back: now and then the worker does, so that a stop posted from elsewhere gets its turn.
    if (turn % 64 == 0) {
      auto yielding = asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
      co_await std::move(yielding);
    }
    std::size_t i = 0;
    if (straggler) {
      i = *straggler;
    } else {
      if (s->next >= s->inputs.size()) break;
      i = s->next++;
      if (s->stopped) {
        s->record(i, R(Error(Errc::cancelled, s->stop_reason)));
        continue;
      }
    }
    s->begin(i, signal);
    std::optional<R> out;
    try {
      auto pending = dspy::acall(*s->module, s->inputs[i]);  // not inside co_await: GCC 12 bug 100611
      out.emplace(co_await std::move(pending));
    } catch (...) {
      out.emplace(error_from_exception(std::current_exception()));
    }
    s->end(i, signal, std::move(*out));
    if (straggler) break;
  }
}

// The worker leaves in its completion handler, which runs once its coroutine is done with the
// signal's slot (Asio clears it last); the state, and so the signal, lives until then.
template <class M>
void spawn_worker(const asio::any_io_executor& executor, const std::shared_ptr<BatchState<M>>& s,
                  std::optional<std::size_t> straggler) {
  auto& signal = s->signals.emplace_back();
  asio::co_spawn(executor, batch_worker<M>(s, &signal, straggler),
                 asio::bind_cancellation_slot(signal.slot(), [s](std::exception_ptr e) {
                   if (e && !s->worker_error) s->worker_error = e;
                   s->leave();
                 }));
}

// Starts a straggler's second call: checked a few times per timeout, as DSPy checks each second.
template <class M>
asio::awaitable<void> watch_stragglers(std::shared_ptr<BatchState<M>> s) {
  const auto executor = co_await asio::this_coro::executor;
  const auto tick = std::clamp<std::chrono::steady_clock::duration>(s->options.timeout / 4, std::chrono::milliseconds(1),
                                                                    std::chrono::seconds(1));
  while (!s->finished) {
    Timer timer(executor, tick);
    s->watch = &timer;
    auto waiting = Timer::wait(&timer);
    co_await std::move(waiting);
    s->watch = nullptr;
    if (s->finished || s->stopped || s->next < s->inputs.size() || s->in_flight.size() > s->options.straggler_limit)
      continue;
    const auto now = std::chrono::steady_clock::now();
    for (auto& [i, f] : s->in_flight)
      if (!f.resubmitted && now - f.start >= s->options.timeout) {
        f.resubmitted = true;
        ++s->running;
        spawn_worker(executor, s, i);
      }
  }
}

}  // namespace detail

/// Runs `module` over `inputs` on the caller's executor; resumes when every input has a result.
/// The executor must run one thread at a time (an io_context run by one thread, or a strand).
template <AsyncCallable M>
asio::awaitable<std::vector<module_result_t<M>>> abatch(const M& module, std::vector<typename M::Input> inputs,
                                                        BatchOptions options = {}) {
  using R = module_result_t<M>;
  auto s = std::make_shared<detail::BatchState<M>>();
  s->module = &module;
  s->inputs = std::move(inputs);
  s->options = std::move(options);
  s->results.resize(s->inputs.size());
  s->progress.total = s->inputs.size();
  const bool terminal = s->options.progress_stream && ::isatty(::fileno(s->options.progress_stream));
  s->show_bar = s->options.progress && terminal;
  s->show_lines = s->options.progress_lines && s->options.progress_stream && !terminal;
  const auto executor = co_await asio::this_coro::executor;
  const std::size_t workers = std::min(std::max<std::size_t>(s->options.concurrency, 1), s->inputs.size());
  s->all_done.emplace(executor);
  // A stop request may come from any thread: hop onto the executor before touching the state.
  std::stop_callback on_stop(s->options.stop, [s, executor] {
    asio::post(executor, [s] {
      s->stop("batch cancelled");
      s->cancel_all();
    });
  });
  s->running = workers;
  for (std::size_t w = 0; w < workers; ++w) detail::spawn_worker(executor, s, std::nullopt);
  if (workers > 0 && s->options.timeout.count() > 0 && s->options.straggler_limit > 0)
    asio::co_spawn(executor, detail::watch_stragglers<M>(s), asio::detached);
  // The last worker's completion handler cancels the wait (and sets `finished`).
  if (workers > 0 && !s->finished) {
    auto all_done = detail::Timer::wait(&*s->all_done);
    co_await std::move(all_done);
  }
  std::vector<R> out;
  out.reserve(s->results.size());
  // An input left without a result by a worker a callback's exception ended gets that error.
  for (auto& r : s->results)
    out.push_back(r ? std::move(*r) : R(s->worker_error ? error_from_exception(s->worker_error)
                                                        : Error(Errc::cancelled, "the batch's worker ended")));
  co_return out;
}

/// Runs `module` over `inputs` and waits: N inputs give N results or errors, in input order.
/// The batch runs under this thread's settings (dspy::context).
template <AsyncCallable M>
std::vector<module_result_t<M>> batch(const M& module, std::vector<typename M::Input> inputs,
                                      BatchOptions options = {}) {
  return detail::sync_wait(abatch(module, std::move(inputs), std::move(options)));
}

}  // namespace dspy
