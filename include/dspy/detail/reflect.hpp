// Compile-time reflection of aggregates: field count, field names, type names.
#pragma once

#include <array>
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
  std::array<char, N + 1> chars{};  // NUL-terminated so that compilers print it whole in diagnostics
  [[nodiscard]] constexpr std::string_view view() const noexcept { return {chars.data(), N}; }
};

template <std::size_t N>
consteval NameStorage<N> store_name(std::string_view s) {
  NameStorage<N> out;
  for (std::size_t i = 0; i < N; ++i) out.chars[i] = s[i];
  return out;
}

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

/// Number of fields of an aggregate.
template <class T>
inline constexpr std::size_t field_count = boost::pfr::tuple_size_v<T>;

/// Field names of an aggregate, in declaration order.
template <class T>
inline constexpr std::array<std::string_view, field_count<T>> field_names =
    detail::make_field_names<T>(std::make_index_sequence<field_count<T>>{});

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
}  // namespace dspy::detail
