// ChainOfThought<Sig>: Predict with a `reasoning` output field before the signature's outputs.
// ChainOfThought<Sig, dspy::Reasoning> (DSPy's `rationale_field_type=dspy.Reasoning`) makes that
// field a dspy::Reasoning: with an LM that reasons natively it leaves the prompt and takes the
// reply's own reasoning.
#pragma once

#include <string>
#include <utility>

#include <boost/describe/class.hpp>

#include "predict.hpp"
#include "../signatures/signature.hpp"

namespace dspy {

/// The field ChainOfThought prepends: DSPy's `reasoning`, described as `${reasoning}`, of type R
/// (DSPy's `rationale_field_type`: `str`, or dspy::Reasoning for a model's native reasoning).
template <class R>
struct ChainOfThoughtRationale {
  R reasoning;
};
/// The default, a `str`.
using ChainOfThoughtReasoning = ChainOfThoughtRationale<std::string>;

namespace detail {
template <class Sig>
struct DocsOf {};
template <class Sig>
  requires HasDocs<Sig>
struct DocsOf<Sig> {
  static constexpr auto docs = Sig::docs;
};
}  // namespace detail

/// Sig with `reasoning` (of type R) prepended to its outputs; the instructions stay Sig's (as
/// DSPy's prepend keeps them, default instructions included).
template <Signature Sig, class R = std::string>
struct WithReasoning : detail::DocsOf<Sig> {
  using Input = typename Sig::Input;
  using Output = Extended<typename Sig::Output, ChainOfThoughtRationale<R>, true>;
  static inline const std::string instructions = signature_meta<Sig>().default_instructions;
};

/// R: the type of the `reasoning` field (DSPy's `rationale_field_type`): std::string, or
/// dspy::Reasoning to take a reasoning model's own reasoning.
template <Signature Sig, class R = std::string>
class ChainOfThought {
 public:
  using Input = typename Sig::Input;
  /// `reasoning` and every output field of Sig, by name.
  using Output = typename WithReasoning<Sig, R>::Output;
  using result_type = Result<Predicted<Output>>;

  Predict<WithReasoning<Sig, R>> predict;

  // Predict's own awaitable: no frame of its own per call.
  asio::awaitable<result_type> forward(Input input) const { return predict.acall(std::move(input)); }
  result_type operator()(const Input& input, const CallConfig& call = {}) const { return predict(input, call); }
  [[nodiscard]] std::vector<Message> format(const Input& input) const { return predict.format(input); }

  BOOST_DESCRIBE_CLASS(ChainOfThought, (), (predict), (), ())
};

}  // namespace dspy
