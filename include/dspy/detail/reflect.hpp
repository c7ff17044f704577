// Compile-time reflection of aggregates: field count, field names, type names.
#pragma once

#include <array>
#include <map>
#include <optional>
#include <string>
#include <vector>
#include <cstddef>
#include <string_view>
#include <type_traits>
#include <utility>

#include <boost/pfr.hpp>
#include <boost/version.hpp>

#if BOOST_VERSION >= 108400
#define DSPY_HAS_PFR_GET_NAME 1
#else
#define DSPY_HAS_PFR_GET_NAME 0
#endif

namespace dspy::detail {

// A fixed-size copy of a name taken from __PRETTY_FUNCTION__: keeps the compiler's string out of
// the value we return, so the name is a plain constant usable anywhere.
template <std::size_t N>
struct NameStorage {
  static constexpr std::size_t size = N;
  // A plain NUL-terminated array: GCC prints it as a string ("answer") in diagnostics.
  char chars[N + 1]{};
  [[nodiscard]] constexpr std::string_view view() const noexcept { return {chars, N}; }
};

template <std::size_t N>
consteval NameStorage<N> store_name(std::string_view s) {
  NameStorage<N> out;
  for (std::size_t i = 0; i < N; ++i) out.chars[i] = s[i];
  return out;
}

// The condition of a static_assert that reports a misuse once its function is instantiated.
template <class...>
inline constexpr bool always_false = false;

// A name as a type, for the template arguments of the functions whose static_assert reports a
// misuse, so that the message shows it: GCC prints Name<NameStorage<6>{"anwser"}>; Clang 14
// prints a char array as numbers, so there the name is spelled as a char pack,
// Name<'a', 'n', 'w', 's', 'e', 'r'>.
#if defined(__clang__)
template <char... C>
struct Name {};
template <NameStorage S, std::size_t... I>
Name<S.chars[I]...> spell(std::index_sequence<I...>);
template <NameStorage S>
using name_t = decltype(spell<S>(std::make_index_sequence<S.size>{}));
#else
template <NameStorage S>
struct Name {};
template <NameStorage S>
using name_t = Name<S>;
#endif

template <class S, class T>
using copy_const_t = std::conditional_t<std::is_const_v<S>, const T, T>;

constexpr bool is_ident_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// ---- type names -------------------------------------------------------------------------------

template <class T>
consteval std::string_view pretty_type() {
  return __PRETTY_FUNCTION__;
}

// "... [with T = ns::Outer::Person; std::string_view = ...]" (GCC) or "... [T = ns::Person]"
// (Clang) -> "Person": the unqualified name, as Python's __name__ would give.
consteval std::string_view unqualified_type_name(std::string_view pretty) {
  std::size_t begin = pretty.find("T = ");
  if (begin == std::string_view::npos) return {};
  begin += 4;
  int depth = 0;
  std::size_t end = begin;
  std::size_t last_scope = begin;
  for (; end < pretty.size(); ++end) {
    const char c = pretty[end];
    if (c == '<' || c == '(') ++depth;
    else if (c == '>' || c == ')') --depth;
    else if (depth == 0 && (c == ';' || c == ']')) break;
    else if (depth == 0 && c == ':' && end + 1 < pretty.size() && pretty[end + 1] == ':') last_scope = end + 2;
  }
  return pretty.substr(last_scope, end - last_scope);
}

template <class T>
inline constexpr auto type_name_storage = store_name<unqualified_type_name(pretty_type<T>()).size()>(
    unqualified_type_name(pretty_type<T>()));

// ---- field names ------------------------------------------------------------------------------

#if !DSPY_HAS_PFR_GET_NAME
// Storage that never holds a T: only the addresses of its members are taken, at compile time.
// A union with a defined variable (rather than an undefined extern object) also works for types
// declared inside functions, on GCC and Clang alike.
template <class T>
union FakeStorage {
  char none;
  T value;
  constexpr FakeStorage() : none() {}
  ~FakeStorage() {}
};
template <class T>
inline FakeStorage<T> fake_storage{};

// Wrapping the member pointer in a struct is what makes Clang accept it as a template argument
// (a bare pointer to a subobject is rejected).
template <class P>
struct PtrWrapper {
  P ptr;
};

template <auto Wrapped>
consteval std::string_view pretty_member() {
  return __PRETTY_FUNCTION__;
}

// The printed argument ends in "...value.T::name)}" (GCC) or "...value.name}" (Clang): the name
// is the identifier just before the last '}'.
consteval std::string_view member_name_from_pretty(std::string_view pretty) {
  std::size_t end = pretty.rfind('}');
  if (end == std::string_view::npos) return {};
  while (end > 0 && !is_ident_char(pretty[end - 1])) --end;
  std::size_t begin = end;
  while (begin > 0 && is_ident_char(pretty[begin - 1])) --begin;
  return pretty.substr(begin, end - begin);
}

template <class T, std::size_t I>
consteval std::string_view raw_field_name() {
  constexpr auto* member =
      &boost::pfr::detail::sequence_tuple::get<I>(boost::pfr::detail::tie_as_tuple(fake_storage<T>.value));
  return member_name_from_pretty(pretty_member<PtrWrapper<decltype(member)>{member}>());
}
#else
template <class T, std::size_t I>
consteval std::string_view raw_field_name() {
  return boost::pfr::get_name<I, T>();
}
#endif

template <class T, std::size_t I>
inline constexpr auto field_name_storage = store_name<raw_field_name<T, I>().size()>(raw_field_name<T, I>());

template <class T, std::size_t... I>
consteval std::array<std::string_view, sizeof...(I)> make_field_names(std::index_sequence<I...>) {
  return {field_name_storage<T, I>.view()...};
}

// The self-test the name extractor must pass on this compiler, checked when the header is read.
struct ReflectSelfTest {
  int first_field;
  double second_2;
  struct Inner {
    int x;
  } inner;
};

}  // namespace dspy::detail

namespace dspy {

/// A struct made of two: `Base`'s fields then `Extra`'s (or, with ExtraFirst, `Extra`'s first). Both
/// stay reachable by name through the bases, and aggregate initialization follows the field order:
/// ChainOfThought's output is `Extended<Sig::Output, Reasoning, true>`, initialized as
/// `{ChainOfThoughtReasoning{"..."}, {answer...}}`, with `.reasoning` and every field of Sig::Output.
template <class Base, class Extra, bool ExtraFirst = false>
struct Extended : std::conditional_t<ExtraFirst, Extra, Base>, std::conditional_t<ExtraFirst, Base, Extra> {};

/// How the library sees a struct's fields. The default reads a plain aggregate with Boost.PFR.
template <class T>
struct FieldsOf {
  static constexpr std::size_t count = boost::pfr::tuple_size_v<T>;
  static constexpr std::array<std::string_view, count> names =
      detail::make_field_names<T>(std::make_index_sequence<count>{});
  template <std::size_t I>
  using type = boost::pfr::tuple_element_t<I, T>;
  template <std::size_t I, class S>
  static constexpr auto& get(S& s) noexcept {
    return boost::pfr::get<I>(s);
  }
};

template <class Base, class Extra, bool ExtraFirst>
struct FieldsOf<Extended<Base, Extra, ExtraFirst>> {
  using First = std::conditional_t<ExtraFirst, Extra, Base>;
  using Second = std::conditional_t<ExtraFirst, Base, Extra>;
  static constexpr std::size_t n1 = FieldsOf<First>::count;
  template <std::size_t I>
  static auto type_of() {
    if constexpr (I < n1) return std::type_identity<typename FieldsOf<First>::template type<I>>{};
    else return std::type_identity<typename FieldsOf<Second>::template type<I - n1>>{};
  }
  static constexpr std::size_t count = n1 + FieldsOf<Second>::count;
  static constexpr std::array<std::string_view, count> names = [] {
    std::array<std::string_view, count> out{};
    for (std::size_t i = 0; i < count; ++i)
      out[i] = i < n1 ? FieldsOf<First>::names[i] : FieldsOf<Second>::names[i - n1];
    return out;
  }();
  template <std::size_t I>
  using type = typename decltype(type_of<I>())::type;
  template <std::size_t I, class S>
  static constexpr auto& get(S& s) noexcept {
    if constexpr (I < n1) return FieldsOf<First>::template get<I>(static_cast<detail::copy_const_t<S, First>&>(s));
    else return FieldsOf<Second>::template get<I - n1>(static_cast<detail::copy_const_t<S, Second>&>(s));
  }
};

/// Number of fields of a struct.
template <class T>
inline constexpr std::size_t field_count = FieldsOf<std::remove_cv_t<T>>::count;

/// Field names of a struct, in order.
template <class T>
inline constexpr const auto& field_names = FieldsOf<std::remove_cv_t<T>>::names;

namespace detail {
/// Field I's name as a type, for diagnostics (see `name_t`).
template <class T, std::size_t I>
using field_name_t = name_t<store_name<field_names<T>[I].size()>(field_names<T>[I])>;
}  // namespace detail

namespace detail {
/// The index of the field named `name`, or field_count<T> when T has none.
template <class T>
consteval std::size_t field_index_of(std::string_view name) {
  for (std::size_t i = 0; i < field_count<T>; ++i)
    if (field_names<T>[i] == name) return i;
  return field_count<T>;
}
}  // namespace detail

/// The type of field I.
template <std::size_t I, class T>
using field_type = typename FieldsOf<std::remove_cv_t<T>>::template type<I>;

/// Field I of a struct (const if the struct is).
template <std::size_t I, class S>
constexpr auto& get_field(S& s) noexcept {
  return FieldsOf<std::remove_cv_t<S>>::template get<I>(s);
}

/// Calls f(field) for each field, in order.
template <class S, class F>
constexpr void for_each_field(S& s, F&& f) {
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (f(get_field<I>(s)), ...);
  }(std::make_index_sequence<field_count<S>>{});
}

/// Unqualified name of a type (a struct's or enum's own name, as DSPy shows it).
template <class T>
inline constexpr std::string_view type_name_of = detail::type_name_storage<T>.view();

}  // namespace dspy

namespace dspy::detail {
static_assert(field_names<ReflectSelfTest>[0] == "first_field" && field_names<ReflectSelfTest>[1] == "second_2" &&
                  field_names<ReflectSelfTest>[2] == "inner",
              "dspy: the field-name extractor does not work on this compiler; please report it");
static_assert(type_name_of<ReflectSelfTest::Inner> == "Inner" && type_name_of<ReflectSelfTest> == "ReflectSelfTest",
              "dspy: the type-name extractor does not work on this compiler; please report it");
// Containers a field or a module member may be.
template <class T>
inline constexpr bool is_vector_v = false;
template <class T, class A>
inline constexpr bool is_vector_v<std::vector<T, A>> = true;

template <class T>
inline constexpr bool is_string_map_v = false;
template <class T, class C, class A>
inline constexpr bool is_string_map_v<std::map<std::string, T, C, A>> = true;

template <class T>
inline constexpr bool is_optional_v = false;
template <class T>
inline constexpr bool is_optional_v<std::optional<T>> = true;

template <class T>
concept Vector = is_vector_v<T>;
template <class T>
concept StringMap = is_string_map_v<T>;
template <class T>
concept Optional = is_optional_v<T>;

}  // namespace dspy::detail
