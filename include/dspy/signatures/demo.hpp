// Demos: worked examples of a Signature shown to the LM before the real input.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "../primitives/error.hpp"
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

  /// Equal when they show the same fields with the same values (left-out fields' values do not count).
  friend bool operator==(const Demo& a, const Demo& b) { return demo_to_json(a) == demo_to_json(b); }

 private:
  static constexpr std::size_t npos = 64;
  static std::size_t field_bit(std::string_view name) {
    if (auto i = detail::FieldTable<Input>::index_of(name); i < input_count) return i;
    if (auto j = detail::FieldTable<Output>::index_of(name); j < output_count) return input_count + j;
    return npos;
  }
};

namespace detail {

/// A field that did not read, by name, and why.
struct FieldError {
  std::string field;
  std::string message;
};

// A struct of fields as a JSON object by field name (a trace entry's inputs or outputs).
template <class S>
boost::json::object fields_json(const S& s) {
  boost::json::object out;
  std::size_t i = 0;
  for_each_field(s, [&](const auto& f) { out[field_names<S>[i++]] = dspy::to_json(f); });
  return out;
}

// Reads the fields of `o` into `d` by name; absent fields are marked missing.
template <Signature Sig>
std::optional<FieldError> demo_fields_from_json(const boost::json::object& o, Demo<Sig>& d) {
  std::optional<FieldError> error;
  const auto read = [&](auto& s, std::size_t bit_offset) {
    using S = std::remove_cvref_t<decltype(s)>;
    for (std::size_t i = 0; i < FieldTable<S>::size && !error; ++i) {
      const std::string_view name = field_names<S>[i];
      if (const auto* v = o.if_contains(name)) {
        if (auto e = FieldTable<S>::ops.from_json[i](*v, s, {})) error = FieldError{std::string(name), std::move(*e)};
      } else {
        d.missing |= std::uint64_t{1} << (bit_offset + i);
      }
    }
  };
  read(d.input, 0);
  read(d.output, Demo<Sig>::input_count);
  return error;
}

}  // namespace detail

/// A demo from a JSON object keyed by field name (DSPy's demo dicts); absent fields are left
/// out, other keys ignored, `"augmented": true` kept. Errors name the field.
template <Signature Sig>
Result<Demo<Sig>> demo_from_json(const boost::json::object& o) {
  Demo<Sig> d;
  if (auto error = detail::demo_fields_from_json(o, d))
    return Error(Errc::type_mismatch, "demo: " + error->message, {}, std::move(error->field));
  if (const auto* a = o.if_contains("augmented")) d.augmented = a->is_bool() && a->get_bool();
  return d;
}

/// A demo as a JSON object: present fields by name, then `"augmented": true` if set.
template <Signature Sig>
boost::json::object demo_to_json(const Demo<Sig>& d) {
  boost::json::object o;
  const auto write = [&](const auto& s, std::size_t bit_offset) {
    using S = std::remove_cvref_t<decltype(s)>;
    for (std::size_t i = 0; i < detail::FieldTable<S>::size; ++i)
      if (!(d.missing >> (bit_offset + i) & 1U)) o[field_names<S>[i]] = detail::FieldTable<S>::ops.to_json[i](s);
  };
  write(d.input, 0);
  write(d.output, Demo<Sig>::input_count);
  if (d.augmented) o["augmented"] = true;
  return o;
}

}  // namespace dspy
