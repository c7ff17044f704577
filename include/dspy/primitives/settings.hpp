// Settings: the default LM, adapter and callbacks for predictors that set none. Global defaults
// (configure), scoped overrides for blocking code (context), and overrides that travel with a
// coroutine across co_await and threads (with_context).
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/require.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "../detail/config.hpp"
#include "adapter_handle.hpp"
#include "callback.hpp"
#include "lm_handle.hpp"
#include "predictor.hpp"

namespace dspy {

namespace asio = boost::asio;

struct Settings {
  LMHandle lm{};
  AdapterHandle adapter{};  ///< null: dspy::ChatAdapter
  std::vector<std::shared_ptr<Callback>> callbacks{};
  /// DSPy's `track_usage`: each module call's result carries the tokens of the LM calls under it
  /// (where its type can hold them: see dspy::acall), and callbacks see them.
  bool track_usage = false;
  /// The module call this code runs under (null: none); its parent chain is DSPy's
  /// `caller_modules`. The gateway (dspy::acall) sets it, and only while something observes calls
  /// (callbacks or usage tracking): otherwise a module call costs nothing extra.
  std::shared_ptr<const ModuleCall> caller{};
  /// DSPy's `trace`: when set, every predictor call adds an entry to it (see TraceLog).
  std::shared_ptr<TraceLog> trace{};
};

/// The settings a scope changes; unset members keep the enclosing value.
struct SettingsOverride {
  std::optional<LMHandle> lm{};
  std::optional<AdapterHandle> adapter{};
  std::optional<std::vector<std::shared_ptr<Callback>>> callbacks{};
  std::optional<bool> track_usage{};
  std::optional<std::shared_ptr<TraceLog>> trace{};

  [[nodiscard]] DSPY_DECL Settings applied_to(Settings s) const;
};

using SettingsPtr = std::shared_ptr<const Settings>;

namespace detail {
struct GlobalSettings {
  std::mutex mutex;
  SettingsPtr value = std::make_shared<const Settings>();
};
inline GlobalSettings& global_settings() {
  static GlobalSettings g;
  return g;
}
// The innermost dspy::context on this thread (null: none).
inline SettingsPtr& thread_settings() {
  thread_local SettingsPtr current;
  return current;
}
}  // namespace detail

/// Sets the process-wide defaults: `dspy::configure({.lm = my_lm})`.
DSPY_DECL void configure(Settings s);

/// The settings in effect on this thread: the innermost dspy::context, else the global ones.
[[nodiscard]] DSPY_DECL SettingsPtr current_settings();

/// A copy of the settings in effect on this thread.
[[nodiscard]] inline Settings settings() { return *current_settings(); }

/// DSPy's `settings.caller_modules`: the module calls `s` runs under, the root first.
[[nodiscard]] inline std::vector<const ModuleCall*> caller_modules(const Settings& s) {
  std::vector<const ModuleCall*> out;
  for (const ModuleCall* c = s.caller.get(); c; c = c->parent.get()) out.insert(out.begin(), c);
  return out;
}

namespace detail {
// Whether module calls under `s` are observed: only then does the gateway open a ModuleCall.
inline bool observes_calls(const Settings& s) noexcept {
  return !s.callbacks.empty() || s.track_usage || s.trace != nullptr;
}
}  // namespace detail

/// While alive, overrides the settings for blocking code on this thread:
/// `auto scope = dspy::context({.lm = other});`. Scopes nest; destroy them in reverse order.
class [[nodiscard]] Context {
 public:
  explicit Context(const SettingsOverride& o)
      : previous_(detail::thread_settings()),
        mine_(std::make_shared<const Settings>(o.applied_to(*current_settings()))) {
    detail::thread_settings() = mine_;
  }
  ~Context() { detail::thread_settings() = previous_; }
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

 private:
  SettingsPtr previous_;
  SettingsPtr mine_;
};

[[nodiscard]] inline Context context(const SettingsOverride& o) { return Context(o); }

namespace detail {
// The settings of the ContextExecutor whose handler runs on this thread (null: none). A coroutine
// runs only inside its executor's handlers, so it finds its settings here without copying its
// executor (the module gateway's common path).
inline const SettingsPtr*& running_settings() noexcept {
  thread_local const SettingsPtr* running = nullptr;
  return running;
}

// Whether module calls are observed under the settings this code runs under: its
// ContextExecutor's, read in place (no reference count), else this thread's.
inline bool calls_observed() {
  if (const SettingsPtr* running = running_settings()) return observes_calls(**running);
  return observes_calls(*current_settings());
}

// The settings this code runs under: its ContextExecutor's, else this thread's.
inline SettingsPtr settings_here() {
  if (const SettingsPtr* running = running_settings()) return *running;
  return current_settings();
}

// A handler of a ContextExecutor: its settings are the running ones while it runs.
template <class F>
struct RunUnder {
  SettingsPtr settings;
  F f;
  void operator()() {
    struct Restore {
      const SettingsPtr* outer;
      ~Restore() { running_settings() = outer; }
    } restore{std::exchange(running_settings(), &settings)};
    static_cast<F&&>(f)();
  }
};
}  // namespace detail

/// An executor that carries settings: coroutines spawned on it, and everything they await, see
/// them, whichever thread resumes them and whatever else runs in between.
template <class Inner>
class BasicContextExecutor {
 public:
  BasicContextExecutor(Inner inner, SettingsPtr settings) : inner_(std::move(inner)), settings_(std::move(settings)) {}

  template <class F>
  void execute(F&& f) const {
    inner_.execute(detail::RunUnder<std::decay_t<F>>{settings_, std::forward<F>(f)});
  }
  template <class P>
    requires requires(const Inner& e, const P& p) { asio::query(e, p); }
  decltype(auto) query(const P& p) const {
    return asio::query(inner_, p);
  }
  template <class P>
    requires requires(const Inner& e, const P& p) { asio::require(e, p); }
  auto require(const P& p) const {
    return BasicContextExecutor<std::decay_t<decltype(asio::require(inner_, p))>>(asio::require(inner_, p), settings_);
  }
  template <class P>
    requires requires(const Inner& e, const P& p) { asio::prefer(e, p); }
  auto prefer(const P& p) const {
    return BasicContextExecutor<std::decay_t<decltype(asio::prefer(inner_, p))>>(asio::prefer(inner_, p), settings_);
  }
  friend bool operator==(const BasicContextExecutor& a, const BasicContextExecutor& b) noexcept {
    return a.inner_ == b.inner_ && a.settings_ == b.settings_;
  }
  friend bool operator!=(const BasicContextExecutor& a, const BasicContextExecutor& b) noexcept { return !(a == b); }

  [[nodiscard]] const SettingsPtr& settings() const noexcept { return settings_; }
  [[nodiscard]] const Inner& inner() const noexcept { return inner_; }

 private:
  Inner inner_;
  SettingsPtr settings_;
};

/// Settings over any executor.
using ContextExecutor = BasicContextExecutor<asio::any_io_executor>;

/// The settings for a coroutine: those its executor carries (with_context, sync_wait), else this
/// thread's.
inline SettingsPtr settings_of(const asio::any_io_executor& ex) {
  if (const auto* c = ex.target<ContextExecutor>()) return c->settings();
  return detail::settings_here();
}

/// An executor for `ex` that carries `settings` (replacing any it carried).
inline ContextExecutor with_settings(const asio::any_io_executor& ex, SettingsPtr settings) {
  const auto* c = ex.target<ContextExecutor>();
  return ContextExecutor(c ? c->inner() : ex, std::move(settings));
}

namespace detail {
// co_spawn needs a default-constructible result; Result has none, so the value goes to `out`.
template <class T>
asio::awaitable<void> store_result(asio::awaitable<T> task, std::optional<T>* out) {
  out->emplace(co_await std::move(task));
}
}  // namespace detail

/// Runs `task` with overridden settings: `co_await dspy::with_context({.lm = other}, task())`.
template <class T>
asio::awaitable<T> with_context(SettingsOverride o, asio::awaitable<T> task) {
  const auto ex = co_await asio::this_coro::executor;
  auto settings = std::make_shared<const Settings>(o.applied_to(*settings_of(ex)));
  if constexpr (std::is_void_v<T>) {
    auto pending = asio::co_spawn(with_settings(ex, std::move(settings)), std::move(task), asio::use_awaitable);
    co_await std::move(pending);
  } else {
    std::optional<T> out;
    auto pending = asio::co_spawn(with_settings(ex, std::move(settings)), detail::store_result(std::move(task), &out),
                                  asio::use_awaitable);
    co_await std::move(pending);
    co_return std::move(*out);
  }
}

}  // namespace dspy

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "settings_impl.hpp"
#endif
