// Modules: structs of predictors plus code. Their members are described with Boost.Describe and
// walked to find every predictor under DSPy's paths ("generate_query", "answer.predict",
// "hops[0]", "experts['math']").
#pragma once

#include <algorithm>
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

// What a walk visits: the predictors (named as DSPy's named_parameters: "experts['math']"), or
// every module, predictors included, where f also gets the node's depth in the tree: named as
// DSPy's named_sub_modules ("self.experts[math]"), or as calls are ("experts['math']", so that a
// call's path ends with its predictor's named_predictors path).
enum class Visit { predictors, modules, calls };

template <Visit What = Visit::predictors, class T, class F>
void walk(T& value, const std::string& path, F& f, std::size_t depth = 0) {
  using V = std::remove_const_t<T>;
  if constexpr (std::is_base_of_v<PredictorBase, V>) {
    if constexpr (What == Visit::predictors) f(path.empty() ? std::string("self") : path, value);
    else f(path, value, depth);
  } else if constexpr (Vector<V> || is_std_array_v<V>) {
    for (std::size_t i = 0; i < value.size(); ++i) walk<What>(value[i], path + "[" + std::to_string(i) + "]", f, depth);
  } else if constexpr (is_string_map_v<V>) {
    for (auto& [key, item] : value)
      walk<What>(item, What == Visit::modules ? path + "[" + key + "]" : path + "['" + key + "']", f, depth);
  } else if constexpr (Optional<V>) {
    if (value) walk<What>(*value, path, f, depth);
  } else if constexpr (is_tuple_v<V>) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (walk<What>(std::get<I>(value), path + "[" + std::to_string(I) + "]", f, depth), ...);
    }(std::make_index_sequence<std::tuple_size_v<V>>{});
  } else if constexpr (Described<V>) {
    static_assert(check_module_description<V>());
    if constexpr (What != Visit::predictors) f(path, value, depth);
    boost::mp11::mp_for_each<public_members<V>>([&](auto d) {
      if constexpr (holds_predictor<std::remove_cvref_t<decltype(value.*d.pointer)>>())
        walk<What>(value.*d.pointer, join_path(path, d.name), f, depth + 1);
    });
  } else {
    static_assert(check_module_description<V>());
  }
}

// Identifies a module's type to the gateway without RTTI; predictors share one tag (their
// PredictorBase address tells them apart).
template <class T>
inline constexpr char type_tag = 0;

template <class T>
const void* node_tag() noexcept {
  if constexpr (std::is_base_of_v<PredictorBase, T>) return &type_tag<PredictorBase>;
  else return &type_tag<T>;
}

template <class T>
const void* node_address(const T& node) noexcept {
  if constexpr (std::is_base_of_v<PredictorBase, T>) return static_cast<const PredictorBase*>(&node);
  else return &node;
}

// Where the node (`member`, tagged `tag`) sits inside a module of type M: its path relative to
// the module ("answer.predict", "hops[0]"), empty when it is not there. A ModuleCall's
// find_member: how a call made under this module's call gets its path.
template <class M>
std::string find_member(const void* instance, const void* member, const void* tag) {
  std::string found;
  auto f = [&]<class N>(const std::string& path, const N& node, std::size_t depth) {
    if (found.empty() && depth > 0 && node_tag<N>() == tag && node_address(node) == member) found = path;
  };
  walk<Visit::calls>(*static_cast<const M*>(instance), std::string(), f);
  return found;
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

/// A copy with every predictor reset (DSPy's `reset_copy`). A plain copy of a module is DSPy's
/// `deepcopy`: predictors, demos and instructions are values, so the copy shares nothing.
template <class M>
M reset_copy(const M& module) {
  M copy = module;
  reset(copy);
  return copy;
}

/// A module in a program's tree: a predictor, or a described struct that holds predictors.
struct NamedModule {
  std::string path;            ///< DSPy's: "self", "self.answer", "self.answer.predict", "self.experts[math]"
  std::string_view type;       ///< the type's name
  const void* instance;        ///< the module object
  PredictorBase* predictor;    ///< the predictor, when the module is one; else null
};

/// Every module in the tree with its DSPy path, breadth-first from `self` (DSPy's
/// `named_sub_modules`): the root, then its sub-modules and predictors level by level.
template <class M>
std::vector<NamedModule> named_sub_modules(M& module) {
  std::vector<std::pair<std::size_t, NamedModule>> found;
  auto f = [&]<class N>(const std::string& path, N& node, std::size_t depth) {
    PredictorBase* p = nullptr;
    if constexpr (std::is_base_of_v<PredictorBase, N>) p = &node;
    found.push_back({depth, {path, type_name_of<N>, &node, p}});
  };
  if constexpr (!std::is_base_of_v<PredictorBase, M> && !detail::Described<M>)  // the root is always there
    found.push_back({0, {"self", type_name_of<M>, &module, nullptr}});
  detail::walk<detail::Visit::modules>(module, std::string("self"), f);
  // Within one depth, walk order is breadth-first order: both go by the members' order.
  std::stable_sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<NamedModule> out;
  out.reserve(found.size());
  for (auto& [depth, m] : found) out.push_back(std::move(m));
  return out;
}

/// Replaces each predictor by `f(path, predictor)`, which returns a predictor of the same type
/// (DSPy's `map_named_predictors`); paths as named_predictors'. Returns the module.
template <class M, class F>
M& map_named_predictors(M& module, F&& f) {
  for_each_predictor(module, [&]<class P>(const std::string& path, P& predictor) {
    constexpr bool same_type = std::is_convertible_v<std::invoke_result_t<F&, const std::string&, P&>, P>;
    static_assert(same_type,
                  "dspy::map_named_predictors: the function must return a predictor of the type it is given "
                  "(the same Predict<Sig>): f(path, predictor) -> decltype(predictor)");
    if constexpr (same_type) predictor = f(path, predictor);
  });
  return module;
}

}  // namespace dspy
