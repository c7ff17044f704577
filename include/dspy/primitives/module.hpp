// Modules: structs of predictors plus code. Their members are described with Boost.Describe and
// walked to find every predictor under DSPy's paths ("generate_query", "answer.predict",
// "hops[0]", "experts['math']").
#pragma once

#include <array>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/describe/members.hpp>
#include <boost/mp11/algorithm.hpp>

#include "error.hpp"
#include "../detail/reflect.hpp"
#include "../detail/sync_wait.hpp"
#include "lm_handle.hpp"
#include "settings.hpp"
#include "predictor.hpp"

namespace dspy {

namespace detail {

template <class T>
inline constexpr bool is_std_array_v = false;
template <class T, std::size_t N>
inline constexpr bool is_std_array_v<std::array<T, N>> = true;

template <class T>
inline constexpr bool is_tuple_v = false;
template <class... T>
inline constexpr bool is_tuple_v<std::tuple<T...>> = true;

template <class T>
concept Described = boost::describe::has_describe_members<T>::value;

template <class T>
using public_members = boost::describe::describe_members<T, boost::describe::mod_public>;

// Aggregates whose fields PFR can count cheaply. A member without a default constructor makes
// PFR's field count search explode at compile time (memory and time), so such structs are not
// inspected: reflection cannot see them here.
template <class T>
concept pfr_countable = std::is_aggregate_v<T> && std::is_class_v<T> && std::is_default_constructible_v<T>;

template <class T>
consteval bool holds_predictor();

template <class T, std::size_t... I>
consteval bool any_field_holds_predictor(std::index_sequence<I...>) {
  return (holds_predictor<field_type<I, T>>() || ...);
}

// Whether a predictor can be reached inside a value of type T.
template <class T>
consteval bool holds_predictor() {
  if constexpr (std::is_base_of_v<PredictorBase, T>) return true;
  else if constexpr (Vector<T> || Optional<T> || is_std_array_v<T>) return holds_predictor<typename T::value_type>();
  else if constexpr (is_string_map_v<T>) return holds_predictor<typename T::mapped_type>();
  else if constexpr (is_tuple_v<T>)
    return []<std::size_t... I>(std::index_sequence<I...>) {
      return (holds_predictor<std::tuple_element_t<I, T>>() || ...);
    }(std::make_index_sequence<std::tuple_size_v<T>>{});
  else if constexpr (Described<T>) {
    bool any = false;
    boost::mp11::mp_for_each<public_members<T>>([&](auto d) {
      using M = std::remove_cvref_t<decltype(std::declval<T&>().*d.pointer)>;
      any = any || holds_predictor<M>();
    });
    return any;
  } else if constexpr (pfr_countable<T>) {
    return any_field_holds_predictor<T>(std::make_index_sequence<field_count<T>>{});
  } else {
    return false;
  }
}

template <class T>
consteval bool is_described_member(std::string_view name) {
  bool found = false;
  boost::mp11::mp_for_each<public_members<T>>([&](auto d) { found = found || std::string_view(d.name) == name; });
  return found;
}

// Reports a module member that holds a predictor but is not described; its template arguments,
// which the compiler prints, name the module and the member.
template <class Module, class MemberName>
constexpr void undescribed_predictor_member() {
  static_assert(always_false<Module>,
                "dspy: this module member holds a predictor but is not described, so dspy would not find it "
                "(optimizers, save/load and set_lm would skip it); undescribed_predictor_member<Module, MemberName> "
                "names it. Add it to BOOST_DESCRIBE_STRUCT(Module, (), (..., member)) after the struct, or "
                "BOOST_DESCRIBE_CLASS inside it.");
}

template <class T, std::size_t I>
consteval void check_member_described() {
  // Described<T> is only asked about modules that hold predictors: for a wrapper such as
  // evaluate's scorer, whose template arguments include a described module, Boost.Describe's
  // lookup finds the module's description and fails to compile.
  if constexpr (holds_predictor<field_type<I, T>>()) {
    if constexpr (!(Described<T> && is_described_member<T>(field_names<T>[I])))
      undescribed_predictor_member<T, field_name_t<T, I>>();
  }
}

template <class T, std::size_t... I>
consteval void check_members_described(std::index_sequence<I...>) {
  (check_member_described<T, I>(), ...);
}

// Where reflection can see every member (aggregates), a member holding a predictor must be
// described. Reports each one that is not by its own static_assert, and returns true.
template <class T>
consteval bool check_module_description() {
  if constexpr (pfr_countable<T> && !std::is_base_of_v<PredictorBase, T>)
    check_members_described<T>(std::make_index_sequence<field_count<T>>{});
  return true;
}

inline std::string join_path(const std::string& path, std::string_view name) {
  return path.empty() ? std::string(name) : path + "." + std::string(name);
}

template <class T, class F>
void walk(T& value, const std::string& path, F& f) {
  using V = std::remove_const_t<T>;
  if constexpr (std::is_base_of_v<PredictorBase, V>) {
    f(path.empty() ? std::string("self") : path, value);
  } else if constexpr (Vector<V> || is_std_array_v<V>) {
    for (std::size_t i = 0; i < value.size(); ++i) walk(value[i], path + "[" + std::to_string(i) + "]", f);
  } else if constexpr (is_string_map_v<V>) {
    for (auto& [key, item] : value) walk(item, path + "['" + key + "']", f);
  } else if constexpr (Optional<V>) {
    if (value) walk(*value, path, f);
  } else if constexpr (is_tuple_v<V>) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (walk(std::get<I>(value), path + "[" + std::to_string(I) + "]", f), ...);
    }(std::make_index_sequence<std::tuple_size_v<V>>{});
  } else if constexpr (Described<V>) {
    static_assert(check_module_description<V>());
    boost::mp11::mp_for_each<public_members<V>>([&](auto d) {
      if constexpr (holds_predictor<std::remove_cvref_t<decltype(value.*d.pointer)>>())
        walk(value.*d.pointer, join_path(path, d.name), f);
    });
  } else {
    static_assert(check_module_description<V>());
  }
}

}  // namespace detail

/// Calls f(path, predictor) for every predictor in the module, in member order.
template <class M, class F>
void for_each_predictor(M& module, F&& f) {
  detail::walk(module, std::string(), f);
}

/// Every predictor with its DSPy path.
template <class M>
std::vector<std::pair<std::string, PredictorBase*>> named_predictors(M& module) {
  std::vector<std::pair<std::string, PredictorBase*>> out;
  for_each_predictor(module, [&](std::string path, PredictorBase& p) { out.emplace_back(std::move(path), &p); });
  return out;
}
template <class M>
std::vector<std::pair<std::string, const PredictorBase*>> named_predictors(const M& module) {
  std::vector<std::pair<std::string, const PredictorBase*>> out;
  for_each_predictor(module, [&](std::string path, const PredictorBase& p) { out.emplace_back(std::move(path), &p); });
  return out;
}

template <class M>
std::vector<PredictorBase*> predictors(M& module) {
  std::vector<PredictorBase*> out;
  for_each_predictor(module, [&](const std::string&, PredictorBase& p) { out.push_back(&p); });
  return out;
}

/// Sets the LM of every predictor.
template <class M>
void set_lm(M& module, const LMHandle& lm) {
  for_each_predictor(module, [&](const std::string&, PredictorBase& p) { p.set_lm(lm); });
}

/// The LM all predictors use; an error when they use different ones (or the module has none).
template <class M>
Result<LMHandle> get_lm(const M& module) {
  std::optional<std::pair<std::string, LMHandle>> first;
  std::optional<Error> error;
  for_each_predictor(module, [&](const std::string& path, const PredictorBase& p) {
    if (error) return;
    if (!first) first.emplace(path, p.get_lm());
    else if (!(first->second == p.get_lm()))
      error = Error(Errc::config, "predictors use different LMs: '" + first->first + "' and '" + path +
                                      "' differ; set_lm(module, lm) gives them one");
  });
  if (error) return std::move(*error);
  if (!first) return Error(Errc::config, "the module has no predictors");
  return first->second;
}

/// Clears every predictor's demos.
template <class M>
void reset(M& module) {
  for_each_predictor(module, [](const std::string&, PredictorBase& p) { p.reset(); });
}

// ---- calling modules ---------------------------------------------------------------------------

/// A module: `forward(Input)` returns an awaitable Result. Predict is one too (its acall).
template <class M>
concept Module = requires(const M& m, typename M::Input in) {
  { m.forward(std::move(in)) };
};

template <class M>
concept AsyncCallable = Module<M> || requires(const M& m, typename M::Input in) {
  { m.acall(std::move(in)) };
};

/// `co_await dspy::acall(module, input)`: forward for modules, acall for predictors.
template <AsyncCallable M>
auto acall(const M& m, typename M::Input input) {
  // Every way of calling a module (call, batch, evaluate, a chain's stage) comes through here.
  static_assert(detail::check_module_description<M>());
  if constexpr (Module<M>) return m.forward(std::move(input));
  else return m.acall(std::move(input));
}

template <AsyncCallable M>
using module_result_t = typename decltype(acall(std::declval<const M&>(), std::declval<typename M::Input>()))::value_type;

namespace detail {
template <class M>
asio::awaitable<void> store_call(const M* m, typename M::Input input, std::optional<module_result_t<M>>* out) {
  auto pending = dspy::acall(*m, std::move(input));  // not inside co_await: GCC 12 bug 100611
  out->emplace(co_await std::move(pending));
}
}  // namespace detail

/// Runs a module to completion on a private io_context (the blocking call), under this thread's
/// settings (dspy::context).
template <AsyncCallable M>
module_result_t<M> call(const M& m, typename M::Input input) {
  return detail::sync_wait(dspy::acall(m, std::move(input)));
}

}  // namespace dspy
