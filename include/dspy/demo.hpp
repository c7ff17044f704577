// Demos: worked examples of a Signature shown to the LM before the real input.
#pragma once

#include <cstdint>
#include <string_view>

#include "signature.hpp"

namespace dspy {

/// A demo: the inputs and outputs of one example. Fields may be left out (DSPy writes such demos
/// as "not supplied"); `augmented` marks demos produced by bootstrapping.
template <Signature Sig>
struct Demo {
  using Input = typename Sig::Input;
  using Output = typename Sig::Output;
  static constexpr std::size_t input_count = field_count<Input>;
  static constexpr std::size_t output_count = field_count<Output>;

  Input input{};
  Output output{};
  bool augmented = false;
  /// Bit i: input field i is absent; bit input_count + j: output field j is absent.
  std::uint64_t missing = 0;

  /// Leaves a field out, checked at compile time: `demo.omit<"reasoning">()`.
  template <FixedString Name>
  Demo& omit() {
    static_assert(detail::has_name<Input>(Name.view()) || detail::has_name<Output>(Name.view()),
                  "dspy: Demo::omit<Name>() names a field that is not in Sig::Input or Sig::Output.");
    omit(Name.view());
    return *this;
  }

  /// Leaves a field out by its run-time name; false when the signature has no such field.
  bool omit(std::string_view name) {
    const std::size_t bit = field_bit(name);
    if (bit == npos) return false;
    missing |= std::uint64_t{1} << bit;
    return true;
  }

  [[nodiscard]] bool has_input(std::size_t i) const noexcept { return !(missing >> i & 1U); }
  [[nodiscard]] bool has_output(std::size_t j) const noexcept { return !(missing >> (input_count + j) & 1U); }

  friend bool operator==(const Demo& a, const Demo& b) {
    return a.augmented == b.augmented && a.missing == b.missing && boost::pfr::eq_fields(a.input, b.input) &&
           boost::pfr::eq_fields(a.output, b.output);
  }

 private:
  static constexpr std::size_t npos = 64;
  static std::size_t field_bit(std::string_view name) {
    if (auto i = detail::FieldTable<Input>::index_of(name); i < input_count) return i;
    if (auto j = detail::FieldTable<Output>::index_of(name); j < output_count) return input_count + j;
    return npos;
  }
};

}  // namespace dspy
