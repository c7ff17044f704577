// dspy::Literal<"a", "b", ...>: a field whose value is one of fixed strings (DSPy's Literal[...]).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string_view>

namespace dspy {

/// A string usable as a template argument: `dspy::Literal<"yes", "no">`.
template <std::size_t N>
struct FixedString {
  char data[N]{};
  consteval FixedString(const char (&s)[N]) {  // NOLINT: implicit so that "text" works as an argument
    for (std::size_t i = 0; i < N; ++i) data[i] = s[i];
  }
  [[nodiscard]] constexpr std::string_view view() const noexcept { return {data, N - 1}; }
};

namespace detail {
// Not constexpr on purpose: reaching it during constant evaluation is the compile error, and its
// name is what the compiler shows.
inline void literal_value_is_not_one_of_the_choices() {}
}  // namespace detail

template <FixedString... Choices>
class Literal {
  static_assert(sizeof...(Choices) > 0, "dspy::Literal needs at least one choice: dspy::Literal<\"a\", \"b\">");
  static_assert(sizeof...(Choices) < 256, "dspy::Literal supports at most 255 choices");

 public:
  static constexpr std::array<std::string_view, sizeof...(Choices)> choices{Choices.view()...};

  /// The first choice.
  constexpr Literal() = default;

  /// From a string literal, checked at compile time: a value that is not a choice does not compile.
  template <std::size_t N>
  consteval Literal(const char (&s)[N]) : index_(checked_index(std::string_view(s, N - 1))) {}  // NOLINT

  /// From text at run time: nullopt when it is not exactly one of the choices.
  [[nodiscard]] static constexpr std::optional<Literal> from(std::string_view s) noexcept {
    for (std::size_t i = 0; i < choices.size(); ++i)
      if (choices[i] == s) return Literal(static_cast<std::uint8_t>(i));
    return std::nullopt;
  }

  [[nodiscard]] constexpr std::string_view value() const noexcept { return choices[index_]; }
  [[nodiscard]] constexpr std::size_t index() const noexcept { return index_; }

  friend constexpr bool operator==(const Literal& a, const Literal& b) noexcept { return a.index_ == b.index_; }
  friend constexpr bool operator==(const Literal& a, std::string_view b) noexcept { return a.value() == b; }
  template <std::size_t N>  // exact match for "text", which also converts to Literal
  friend constexpr bool operator==(const Literal& a, const char (&b)[N]) noexcept {
    return a.value() == std::string_view(b, N - 1);
  }
  friend std::ostream& operator<<(std::ostream& os, const Literal& l) { return os << l.value(); }

 private:
  constexpr explicit Literal(std::uint8_t i) noexcept : index_(i) {}
  static consteval std::uint8_t checked_index(std::string_view s) {
    for (std::size_t i = 0; i < choices.size(); ++i)
      if (choices[i] == s) return static_cast<std::uint8_t>(i);
    detail::literal_value_is_not_one_of_the_choices();
    return 0;
  }
  std::uint8_t index_ = 0;
};

template <class T>
inline constexpr bool is_literal_v = false;
template <FixedString... C>
inline constexpr bool is_literal_v<Literal<C...>> = true;

}  // namespace dspy
