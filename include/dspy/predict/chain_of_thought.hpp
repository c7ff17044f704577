// ChainOfThought<Sig>: Predict with a `reasoning` output field before the signature's outputs.
#pragma once

#include <string>
#include <utility>

#include <boost/describe/class.hpp>

#include "predict.hpp"
#include "../signatures/signature.hpp"

namespace dspy {

/// The field ChainOfThought prepends (DSPy's `reasoning`, a `str` described as `${reasoning}`;
/// dspy::Reasoning is the DSPy type a signature may declare itself).
struct ChainOfThoughtReasoning {
  std::string reasoning;
};

namespace detail {
template <class Sig>
struct DocsOf {};
template <class Sig>
  requires HasDocs<Sig>
struct DocsOf<Sig> {
  static constexpr auto docs = Sig::docs;
};
}  // namespace detail

/// Sig with `reasoning` prepended to its outputs; the instructions stay Sig's (as DSPy's prepend
/// keeps them, default instructions included).
template <Signature Sig>
struct WithReasoning : detail::DocsOf<Sig> {
  using Input = typename Sig::Input;
  using Output = Extended<typename Sig::Output, ChainOfThoughtReasoning, true>;
  static inline const std::string instructions = signature_meta<Sig>().default_instructions;
};

template <Signature Sig>
class ChainOfThought {
 public:
  using Input = typename Sig::Input;
  /// `reasoning` and every output field of Sig, by name.
  using Output = typename WithReasoning<Sig>::Output;
  using result_type = Result<Predicted<Output>>;

  Predict<WithReasoning<Sig>> predict;

  asio::awaitable<result_type> forward(Input input) const {
    auto pending = predict.acall(std::move(input));  // not inside co_await: GCC 12 bug 100611
    co_return co_await std::move(pending);
  }
  result_type operator()(const Input& input, const CallConfig& call = {}) const { return predict(input, call); }
  [[nodiscard]] std::vector<Message> format(const Input& input) const { return predict.format(input); }

  BOOST_DESCRIBE_CLASS(ChainOfThought, (), (predict), (), ())
};

}  // namespace dspy
