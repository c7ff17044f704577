// dspy::chain(a, b, c): a typed pipeline. Each stage's inputs are filled by name from the
// original input and the earlier stages' outputs (the latest provider wins); a field that nothing
// provides, or provides with another type, does not compile.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include <boost/describe/class.hpp>

#include "../primitives/module.hpp"
#include "module_call.hpp"
#include "../primitives/prediction.hpp"

namespace dspy {

namespace detail {

template <class R>
struct stage_value;
template <class X>
struct stage_value<Result<X>> {
  using type = X;
};
template <class O>
struct stage_value<Result<Predicted<O>>> {
  using type = O;
};

template <class T>
inline constexpr bool is_predicted_v = false;
template <class O>
inline constexpr bool is_predicted_v<Predicted<O>> = true;

inline constexpr std::size_t kNoField = static_cast<std::size_t>(-1);

template <class P>
consteval std::size_t field_index(std::string_view name) {
  for (std::size_t i = 0; i < field_count<P>; ++i)
    if (field_names<P>[i] == name) return i;
  return kNoField;
}

// These two report a stage input field that the chain cannot fill; their template arguments,
// which the compiler prints, name the stage (counted from 0), the field and, for a type
// mismatch, the type provided and the type the stage expects.
template <std::size_t Stage, class FieldName>
constexpr void chain_input_not_provided() {
  static_assert(always_false<FieldName>,
                "dspy: chain: no earlier stage (nor the chain's input) provides this input field; "
                "chain_input_not_provided<Stage, FieldName> names the stage and the field. Rename a field or add "
                "a stage that outputs it.");
}

template <std::size_t Stage, class FieldName, class Provided, class Expected>
constexpr void chain_input_type_mismatch() {
  static_assert(always_false<FieldName>,
                "dspy: chain: an earlier stage provides this input field with another type; "
                "chain_input_type_mismatch<Stage, FieldName, Provided, Expected> names the stage, the field, the "
                "type provided and the type the stage expects. Make the types equal.");
}

struct FieldSource {
  std::size_t provider;  // 0: the chain's input; s > 0: the output of stage s - 1
  std::size_t field;
};

}  // namespace detail

template <AsyncCallable... Stages>
class Chain {
  static_assert(sizeof...(Stages) > 0, "dspy::chain needs at least one stage");
  using First = std::tuple_element_t<0, std::tuple<Stages...>>;
  static constexpr std::size_t n = sizeof...(Stages);

  template <std::size_t K>
  using stage_t = std::tuple_element_t<K, std::tuple<Stages...>>;
  template <std::size_t K>
  using value_t = typename detail::stage_value<module_result_t<stage_t<K>>>::type;

  // Provider s: the chain's input (s = 0) or stage s-1's output.
  template <std::size_t S>
  using provider_t = typename std::conditional_t<S == 0, std::type_identity<typename First::Input>,
                                                 std::type_identity<value_t<(S == 0 ? 0 : S - 1)>>>::type;

  template <std::size_t K, std::size_t J>
  static consteval detail::FieldSource source() {
    constexpr std::string_view name = field_names<typename stage_t<K>::Input>[J];
    detail::FieldSource found{0, detail::kNoField};
    [&]<std::size_t... S>(std::index_sequence<S...>) {
      ((found = detail::field_index<provider_t<S>>(name) != detail::kNoField
                    ? detail::FieldSource{S, detail::field_index<provider_t<S>>(name)}
                    : found),
       ...);
    }(std::make_index_sequence<K + 1>{});
    return found;
  }

  template <std::size_t K, std::size_t J>
  static consteval bool fillable() {
    constexpr detail::FieldSource src = source<K, J>();
    if constexpr (src.field == detail::kNoField) return false;
    else return std::is_same_v<field_type<src.field, provider_t<src.provider>>, field_type<J, typename stage_t<K>::Input>>;
  }

  template <std::size_t K, std::size_t J>
  static consteval void check_field() {
    using In = typename stage_t<K>::Input;
    constexpr detail::FieldSource src = source<K, J>();
    if constexpr (src.field == detail::kNoField)
      detail::chain_input_not_provided<K, detail::field_name_t<In, J>>();
    else if constexpr (!fillable<K, J>())
      detail::chain_input_type_mismatch<K, detail::field_name_t<In, J>,
                                        field_type<src.field, provider_t<src.provider>>, field_type<J, In>>();
  }

  template <std::size_t K, std::size_t... J>
  static consteval void check_stage(std::index_sequence<J...>) {
    (check_field<K, J>(), ...);
  }

  // Reports each field that cannot be filled by its own static_assert, and returns true.
  template <std::size_t... K>
  static consteval bool check_stages(std::index_sequence<K...>) {
    (check_stage<K + 1>(std::make_index_sequence<field_count<typename stage_t<K + 1>::Input>>{}), ...);
    return true;
  }
  static_assert(check_stages(std::make_index_sequence<n - 1>{}));

  // The chain's input, then each stage's output once it has run.
  using Values =
      std::tuple<typename First::Input, std::optional<typename detail::stage_value<module_result_t<Stages>>::type>...>;

  template <std::size_t S>
  static const auto& provided(const Values& v) {
    if constexpr (S == 0) return std::get<0>(v);
    else return *std::get<S>(v);
  }

  template <std::size_t K, std::size_t... J>
  static typename stage_t<K>::Input input_for(const Values& v, std::index_sequence<J...>) {
    typename stage_t<K>::Input in{};
    // A field check_stages reported stays empty: no second error for it.
    (
        [&] {
          if constexpr (fillable<K, J>())
            get_field<J>(in) = get_field<source<K, J>().field>(provided<source<K, J>().provider>(v));
        }(),
        ...);
    return in;
  }

 public:
  using Input = typename First::Input;
  using Output = value_t<n - 1>;
  using result_type = Result<Output>;

  std::tuple<Stages...> stages;

  asio::awaitable<result_type> forward(Input input) const {
    Values values;
    std::get<0>(values) = std::move(input);
    // One stage after another from a loop, not by nesting: each stage's coroutine frames are
    // freed before the next starts, so Asio's per-thread frame cache can recycle them.
    for (const auto run : steps) {
      auto pending = run(this, &values);  // not inside co_await: GCC 12 bug 100611
      auto error = co_await std::move(pending);
      if (error) co_return std::move(*error);
    }
    co_return std::move(*std::get<n>(values));
  }

  result_type operator()(Input input) const { return dspy::call(*this, std::move(input)); }

  BOOST_DESCRIBE_CLASS(Chain, (), (stages), (), ())

 private:
  // Runs stage K on what earlier stages left in `values` and stores its output there.
  template <std::size_t K>
  static asio::awaitable<std::optional<Error>> step(const Chain* self, Values* values) {
    typename stage_t<K>::Input in;
    if constexpr (K == 0) in = std::get<0>(*values);
    else in = input_for<K>(*values, std::make_index_sequence<field_count<typename stage_t<K>::Input>>{});
    auto pending = dspy::acall(std::get<K>(self->stages), std::move(in));
    auto r = co_await std::move(pending);
    if (!r) co_return std::move(r).error();
    std::get<K + 1>(*values).emplace(value_of(std::move(*r)));
    co_return std::nullopt;
  }

  using Step = asio::awaitable<std::optional<Error>> (*)(const Chain*, Values*);
  static constexpr auto steps = []<std::size_t... K>(std::index_sequence<K...>) {
    return std::array<Step, n>{&step<K>...};
  }(std::make_index_sequence<n>{});

  template <class X>
  static auto value_of(X&& x) {
    if constexpr (detail::is_predicted_v<std::remove_cvref_t<X>>) return std::move(x.value());
    else return std::forward<X>(x);
  }
};

/// A typed pipeline of modules or predictors: `dspy::chain(generate_query, answer)`.
template <AsyncCallable... Stages>
Chain<Stages...> chain(Stages... stages) {
  return Chain<Stages...>{{std::move(stages)...}};
}

}  // namespace dspy
