// Examples: the inputs of a Signature plus labels for its outputs, for evaluation and optimizers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include <boost/json.hpp>

#include "demo.hpp"
#include "../primitives/error.hpp"
#include "signature.hpp"

namespace dspy {

/// One example: every input field, and labels for some or all output fields (DSPy's Example with
/// its inputs marked). A missing label is recorded as Demo does, so `demo()` is a partial demo.
template <Signature Sig>
struct Example {
  using Input = typename Sig::Input;
  using Output = typename Sig::Output;
  static constexpr std::size_t output_count = field_count<Output>;

  Input input{};
  Output labels{};
  /// Bit j: output field j has no label (Demo's output bits, shifted down).
  std::uint64_t missing_labels = 0;

  /// Whether the output field has a label, checked at compile time: `ex.has_label<"answer">()`.
  template <FixedString Name>
  [[nodiscard]] bool has_label() const noexcept {
    static_assert(detail::has_name<Output>(Name.view()),
                  "dspy: Example::has_label<Name>() / unlabel<Name>() names a field that is not in Sig::Output.");
    return has_label(detail::FieldTable<Output>::index_of(Name.view()));
  }
  [[nodiscard]] bool has_label(std::size_t j) const noexcept { return j < output_count && !(missing_labels >> j & 1U); }

  /// Drops a label: `ex.unlabel<"reasoning">()`.
  template <FixedString Name>
  Example& unlabel() {
    static_assert(detail::has_name<Output>(Name.view()),
                  "dspy: Example::has_label<Name>() / unlabel<Name>() names a field that is not in Sig::Output.");
    missing_labels |= std::uint64_t{1} << detail::FieldTable<Output>::index_of(Name.view());
    return *this;
  }

  /// The example as a few-shot demo (unlabelled outputs left out), e.g. for LabeledFewShot.
  [[nodiscard]] Demo<Sig> demo() const {
    return Demo<Sig>{input, labels, false, missing_labels << Demo<Sig>::input_count};
  }

  /// Equal when they have the same inputs and the same labels.
  friend bool operator==(const Example& a, const Example& b) { return demo_to_json(a.demo()) == demo_to_json(b.demo()); }
};

/// The example whose inputs and labels a demo holds; an error naming the first input it lacks.
template <Signature Sig>
Result<Example<Sig>> example_from_demo(Demo<Sig> d) {
  for (std::size_t i = 0; i < Demo<Sig>::input_count; ++i)
    if (!d.has_input(i)) {
      const std::string field(field_names<typename Sig::Input>[i]);
      return Error(Errc::missing_field, "missing input field `" + field + "`", {}, field);
    }
  return Example<Sig>{std::move(d.input), std::move(d.output), d.missing >> Demo<Sig>::input_count};
}

/// An example from a JSON object keyed by field name: every input field is required, labels
/// are optional, other keys are ignored. Errors name the field.
template <Signature Sig>
Result<Example<Sig>> example_from_json(const boost::json::object& o) {
  Demo<Sig> d;
  if (auto error = detail::demo_fields_from_json(o, d))
    return Error(Errc::type_mismatch, error->message, {}, std::move(error->field));
  return example_from_demo(std::move(d));
}

/// The example as a JSON object: inputs, then the labels it has, by field name.
template <Signature Sig>
boost::json::object example_to_json(const Example<Sig>& e) {
  return demo_to_json(e.demo());
}

}  // namespace dspy
