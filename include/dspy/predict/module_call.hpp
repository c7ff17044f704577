// The gateway every module call passes (DSPy's Module.__call__ / acall): `dspy::acall` and
// `dspy::call`. When something observes calls (callbacks, usage tracking) it opens a ModuleCall:
// the caller stack and the call's DSPy path, on_module_start / on_module_end for the settings'
// callbacks and the module's own, and the tokens of every LM call made under it. Otherwise it
// calls `forward` and adds nothing but one coroutine frame.
#pragma once

#include <concepts>
#include <exception>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/value.hpp>

#include "../detail/config.hpp"
#include "../detail/exception.hpp"
#include "../detail/reflect.hpp"
#include "../detail/sync_wait.hpp"
#include "../primitives/callback.hpp"
#include "../primitives/error.hpp"
#include "../primitives/module.hpp"
#include "../primitives/predictor.hpp"
#include "../primitives/settings.hpp"
#include "../signatures/field_types.hpp"

namespace dspy {

/// A module: `forward(Input)` returns an awaitable Result. Predict is one too (its acall).
template <class M>
concept Module = requires(const M& m, typename M::Input in) {
  { m.forward(std::move(in)) };
};

template <class M>
concept AsyncCallable = Module<M> || requires(const M& m, typename M::Input in) {
  { m.acall(std::move(in)) };
};

/// A module's own callbacks (DSPy's `callbacks=`): a public member
/// `std::vector<std::shared_ptr<dspy::Callback>> callbacks`, told about its calls besides the
/// settings' callbacks.
template <class M>
concept HasCallbacks = requires(const M& m) {
  { m.callbacks } -> std::convertible_to<const std::vector<std::shared_ptr<Callback>>&>;
};

/// A result value the gateway can hand its call's usage to (DSPy's Prediction.set_lm_usage):
/// dspy::Predicted, or any type with `set_lm_usage(dspy::LMUsage)`.
template <class T>
concept CarriesUsage = requires(T& v, LMUsage u) { v.set_lm_usage(std::move(u)); };

namespace detail {

// The library's own batch runners (evaluate's scorer, the optimizers' runners) are not modules of
// the user's program: the gateway calls their forward directly, so the program they run is the
// root of its call tree, at "self".
template <class M>
concept Transparent = M::transparent_module;

// One observed module call: its place in the call tree, the settings its forward runs under
// (with it as their caller), and who is told about it.
struct OpenCall {
  std::shared_ptr<ModuleCall> frame;
  SettingsPtr under;
  std::vector<std::shared_ptr<Callback>> callbacks;  // the settings' and the module's own
};

// The non-template halves of an observed call. `inputs` is called only when a callback will see it.
DSPY_DECL OpenCall open_call(const Settings& settings, const void* instance, const void* tag, std::string module,
                             std::string (*find)(const void*, const void*, const void*),
                             std::span<const std::shared_ptr<Callback>> own,
                             boost::json::value (*inputs)(const void*), const void* input);
// Tells on_module_end; returns the call's usage when usage is tracked.
DSPY_DECL std::optional<LMUsage> close_call(OpenCall& call, boost::json::value (*outputs)(const void*),
                                            const void* output, const Error* error);

template <class T>
boost::json::value json_of(const void* v) {
  const T& value = *static_cast<const T*>(v);
  if constexpr (requires { dspy::to_json(value); }) return dspy::to_json(value);
  else if constexpr (requires { dspy::to_json(value.value()); }) return dspy::to_json(value.value());
  else return nullptr;
}

template <class M>
std::span<const std::shared_ptr<Callback>> own_callbacks(const M& m) noexcept {
  if constexpr (HasCallbacks<M>) return m.callbacks;
  else return {};
}

// An unobserved error's origin, named from the module call `m` at `path` when `m` holds it.
template <class M>
void name_origin(const M& m, Error& error, std::string_view path) {
  if (!error.origin()) return;
  const std::string member = find_member<M>(&m, error.origin(), node_tag<PredictorBase>());
  if (!member.empty()) error.set_origin(error.origin(), std::string(path) + "." + member);
}

template <class M>
using forward_result_t = typename decltype(std::declval<const M&>().forward(std::declval<typename M::Input>()))::value_type;

// An observed module call: its ModuleCall open around forward, which runs under settings that
// name it as the caller.
template <class M>
asio::awaitable<forward_result_t<M>> observed_call(const M* m, typename M::Input input, SettingsPtr settings) {
  using R = forward_result_t<M>;
  OpenCall call = open_call(*settings, m, node_tag<M>(), std::string(type_name_of<M>), &find_member<M>,
                            own_callbacks(*m), &json_of<typename M::Input>, &input);
  const asio::any_io_executor ex = co_await asio::this_coro::executor;
  std::optional<R> out;
  std::exception_ptr escaped;
  try {
    auto pending = asio::co_spawn(with_settings(ex, call.under), store_result(m->forward(std::move(input)), &out),
                                  asio::use_awaitable);
    co_await std::move(pending);
  } catch (...) {
    escaped = std::current_exception();
  }
  if (escaped) {  // told, then rethrown: the caller decides what an exception means
    const Error error = error_from_exception(escaped);
    close_call(call, nullptr, nullptr, &error);
    std::rethrow_exception(escaped);
  }
  R& r = *out;
  if constexpr (requires { r.has_value(); r.error(); *r; }) {
    if constexpr (requires { r.error().set_module(call.frame->path); })
      if (!r) {
        name_origin(*m, r.error(), call.frame->path);
        r.error().set_module(call.frame->path);
      }
    using V = std::remove_cvref_t<decltype(*r)>;
    std::optional<LMUsage> usage = r ? close_call(call, &json_of<V>, &*r, nullptr) : close_call(call, nullptr, nullptr, &r.error());
    if constexpr (CarriesUsage<V>)
      if (r && usage) (*r).set_lm_usage(std::move(*usage));
  } else {
    close_call(call, &json_of<R>, &r, nullptr);
  }
  co_return std::move(r);
}

}  // namespace detail

/// `co_await dspy::acall(module, input)`: every module call passes here (call, batch, evaluate, a
/// chain's stage, a module calling its sub-module). A module's `forward` goes through the gateway;
/// a predictor's acall is its own gateway; the library's batch runners are transparent.
template <AsyncCallable M>
auto acall(const M& m, typename M::Input input) {
  static_assert(detail::check_module_description<M>());
  if constexpr (detail::Transparent<M>) return m.forward(std::move(input));
  else return m.acall(std::move(input));
}

/// The gateway of a module (a type with forward): nothing but forward unless calls are observed
/// (decided when the call is awaited, under the settings it runs under). `acall` is the coroutine
/// itself, so the input moves once into its frame and once into forward; one awaited call and one
/// result serve both paths, as the frame keeps a slot for each for the whole call.
template <AsyncCallable M>
  requires(Module<M> && !detail::Transparent<M>)
asio::awaitable<detail::forward_result_t<M>> acall(const M& m, typename M::Input input) {
  static_assert(detail::check_module_description<M>());
  const bool observed = detail::calls_observed() || !detail::own_callbacks(m).empty();
  // Not inside co_await: GCC 12 bug 100611.
  auto pending = observed ? detail::observed_call(&m, std::move(input), detail::settings_here())
                          : m.forward(std::move(input));
  auto r = co_await std::move(pending);
  if constexpr (requires { r.error().origin(); })
    if (!observed && !r) [[unlikely]] detail::name_origin(m, r.error(), "self");
  co_return std::move(r);
}

template <AsyncCallable M>
using module_result_t = typename decltype(acall(std::declval<const M&>(), std::declval<typename M::Input>()))::value_type;

namespace detail {
// DSPy's BestOfN and Refine: the chosen attempt's trace joins the trace of the run they are part
// of (when there is one), its predictors named as those of `member`, the module the attempt copies.
DSPY_DECL void extend_trace(const Settings& enclosing, const Trace& attempt, std::string_view member);

/// Runs `program` on `input`, collecting DSPy's trace of the run into `*trace`.
template <AsyncCallable M>
asio::awaitable<module_result_t<M>> traced_call(const M* program, typename M::Input input, Trace* trace) {
  auto log = std::make_shared<TraceLog>();
  auto pending = dspy::with_context({.trace = log}, dspy::acall(*program, std::move(input)));
  auto result = co_await std::move(pending);
  *trace = log->entries();
  co_return result;
}
}  // namespace detail

/// Runs a module to completion on a private io_context (the blocking call), under this thread's
/// settings (dspy::context).
template <AsyncCallable M>
module_result_t<M> call(const M& m, typename M::Input input) {
  return detail::sync_wait(dspy::acall(m, std::move(input)));
}

}  // namespace dspy

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "module_call_impl.hpp"
#endif
