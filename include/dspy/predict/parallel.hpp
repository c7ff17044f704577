// dspy::batch: run a module over N inputs with bounded concurrency; N results or errors come
// back in input order, whatever happens.
#pragma once

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

#include <boost/asio/cancellation_signal.hpp>
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

// Everything of a batch that does not depend on the module's types: the schedule, stragglers,
// progress and stopping. Not a template, so that a program compiles it once, not once per module
// it batches (the compiled part compiles it in <dspy/src.hpp>).
struct BatchCore {
  // The calls of one input still running: the first, and a straggler's second, each cancelled
  // through the signal of the worker running it.
  struct InFlight {
    std::chrono::steady_clock::time_point start;
    std::vector<asio::cancellation_signal*> calls;
    bool resubmitted = false;
  };
  // Starts a worker of the typed state (a straggler's second call when `straggler` is set).
  using SpawnFn = void (*)(const asio::any_io_executor&, const std::shared_ptr<BatchCore>&, std::optional<std::size_t>);

  SpawnFn spawn = nullptr;
  BatchOptions options;
  std::size_t size = 0;  // inputs
  std::size_t next = 0;
  std::size_t running = 0;  // workers and stragglers' second calls
  std::map<std::size_t, InFlight> in_flight;
  // One per worker, alive until the worker's completion handler has run (see spawn_batch_worker).
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

  // Sets the options, the size and the progress display; gives the number of workers.
  DSPY_DECL std::size_t prepare(BatchOptions o, std::size_t inputs);
  DSPY_DECL void stop(std::string reason);
  DSPY_DECL void cancel_all();
  DSPY_DECL void begin(std::size_t i, asio::cancellation_signal* signal);
  // The call on `signal` gives input i its result: input i is no longer in flight, and the other
  // call of a straggler, if any, is cancelled.
  DSPY_DECL void settle(std::size_t i, asio::cancellation_signal* signal);
  // Counts a result (an error when !ok), stops after max_errors, shows progress.
  DSPY_DECL void recorded(bool ok);
  DSPY_DECL void leave();
};

// Spawns `worker` bound to `signal`: stopping the batch, or the other call of a straggler
// winning, cancels the worker's current call. The worker leaves in its completion handler, which
// runs once its coroutine is done with the signal's slot (Asio clears it last); the state, and so
// the signal, lives until then. This and run_batch are templates on the executor, as BasicLM is,
// defined in parallel_impl.hpp: header-only, only a file that batches compiles them; the compiled
// part instantiates them once, in <dspy/src.hpp>.
template <class Executor>
void spawn_batch_worker(const Executor& executor, std::shared_ptr<BatchCore> s, asio::awaitable<void, Executor> worker,
                        asio::cancellation_signal& signal);

// Starts the workers, the straggler watch and the stop request's hook, then waits for the last
// worker; the results are then in the typed state.
template <class Executor = asio::any_io_executor>
asio::awaitable<void, Executor> run_batch(std::shared_ptr<BatchCore> s, std::size_t workers);

template <class M>
struct BatchState : BatchCore {
  using R = module_result_t<M>;
  const M* module = nullptr;
  std::vector<typename M::Input> inputs;
  std::vector<std::optional<R>> results;

  void record(std::size_t i, R r) {
    const bool ok = static_cast<bool>(r);
    results[i].emplace(std::move(r));
    recorded(ok);
  }
};

// Calls the module on input after input (or, for a straggler's second call, on `straggler`
// alone) in one coroutine; a cancelled call's worker goes on with the next input.
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
      if (s->next >= s->size) break;
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
    if (!s->results[i]) {  // else the other call of a straggler won
      s->settle(i, signal);
      s->record(i, std::move(*out));
    }
    if (straggler) break;
  }
}

template <class M>
void spawn_worker(const asio::any_io_executor& executor, const std::shared_ptr<BatchCore>& core,
                  std::optional<std::size_t> straggler) {
  auto s = std::static_pointer_cast<BatchState<M>>(core);
  auto& signal = s->signals.emplace_back();
  spawn_batch_worker(executor, core, batch_worker<M>(std::move(s), &signal, straggler), signal);
}

}  // namespace detail

/// Runs `module` over `inputs` on the caller's executor; resumes when every input has a result.
/// The executor must run one thread at a time (an io_context run by one thread, or a strand).
template <AsyncCallable M>
asio::awaitable<std::vector<module_result_t<M>>> abatch(const M& module, std::vector<typename M::Input> inputs,
                                                        BatchOptions options = {}) {
  using R = module_result_t<M>;
  auto s = std::make_shared<detail::BatchState<M>>();
  s->spawn = &detail::spawn_worker<M>;
  s->module = &module;
  s->inputs = std::move(inputs);
  s->results.resize(s->inputs.size());
  const std::size_t workers = s->prepare(std::move(options), s->inputs.size());
  auto running = detail::run_batch(s, workers);
  co_await std::move(running);
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

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "parallel_impl.hpp"
#endif
