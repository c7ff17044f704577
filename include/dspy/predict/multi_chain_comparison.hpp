// dspy::MultiChainComparison<Sig, M>: shows the LM M earlier reasoning attempts and asks for a
// corrected rationale and the outputs (DSPy's MultiChainComparison).
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/describe/class.hpp>

#include "../detail/reflect.hpp"
#include "../primitives/error.hpp"
#include "predict.hpp"
#include "../signatures/signature.hpp"

namespace dspy {

/// M attempt texts, seen as the fields `reasoning_attempt_1` ... `reasoning_attempt_M`.
template <std::size_t M>
struct ReasoningAttempts {
  std::array<std::string, M> attempts;
};

/// The output MultiChainComparison prepends (DSPy's `rationale`).
struct Rationale {
  std::string rationale;
};

namespace detail {

consteval std::size_t decimal_digits(std::size_t n) { return n < 10 ? 1 : 1 + decimal_digits(n / 10); }

inline constexpr std::string_view kAttemptPrefix = "reasoning_attempt_";

// "reasoning_attempt_" + I, made at compile time.
template <std::size_t I>
consteval auto attempt_name() {
  constexpr std::size_t digits = decimal_digits(I);
  NameStorage<kAttemptPrefix.size() + digits> out;
  for (std::size_t i = 0; i < kAttemptPrefix.size(); ++i) out.chars[i] = kAttemptPrefix[i];
  std::size_t n = I;
  for (std::size_t i = 0; i < digits; ++i, n /= 10) out.chars[kAttemptPrefix.size() + digits - 1 - i] = char('0' + n % 10);
  return out;
}
template <std::size_t I>
inline constexpr auto attempt_name_storage = attempt_name<I>();

}  // namespace detail

template <std::size_t M>
struct FieldsOf<ReasoningAttempts<M>> {
  static constexpr std::size_t count = M;
  static constexpr std::array<std::string_view, M> names = []<std::size_t... I>(std::index_sequence<I...>) {
    return std::array<std::string_view, M>{detail::attempt_name_storage<I + 1>.view()...};
  }(std::make_index_sequence<M>{});
  template <std::size_t I>
  using type = std::string;
  template <std::size_t I, class S>
  static constexpr auto& get(S& s) noexcept {
    return s.attempts[I];
  }
};

namespace detail {

template <class Sig, std::size_t M>
consteval auto multi_chain_docs() {
  constexpr std::size_t own = [] {
    if constexpr (HasDocs<Sig>) return Sig::docs.items.size();
    else return std::size_t{0};
  }();
  Docs<own + M + 1> out{};
  if constexpr (HasDocs<Sig>)
    for (std::size_t i = 0; i < own; ++i) out.items[i] = Sig::docs.items[i];
  for (std::size_t i = 0; i < M; ++i) out.items[own + i] = {FieldsOf<ReasoningAttempts<M>>::names[i], "${reasoning attempt}"};
  out.items[own + M] = {"rationale", "${corrected reasoning}"};
  return out;
}

// str.strip().split("\n")[0].strip()
inline std::string first_line(std::string_view s) {
  s = trim(s);
  return std::string(trim(s.substr(0, s.find('\n'))));
}

}  // namespace detail

/// Sig with `reasoning_attempt_1..M` appended to its inputs and `rationale` prepended to its
/// outputs; the instructions stay Sig's (DSPy's append and prepend keep them).
template <Signature Sig, std::size_t M>
struct MultiChainSignature {
  using Input = Extended<typename Sig::Input, ReasoningAttempts<M>>;
  using Output = Extended<typename Sig::Output, Rationale, true>;
  static inline const std::string instructions = signature_meta<Sig>().default_instructions;
  static constexpr auto docs = detail::multi_chain_docs<Sig, M>();
};

template <Signature Sig, std::size_t M = 3>
class MultiChainComparison {
  static_assert(M > 0, "dspy::MultiChainComparison: M, the number of attempts compared, must be at least 1.");

 public:
  using signature_type = MultiChainSignature<Sig, M>;
  /// Sig's inputs and the M attempt texts.
  using Input = typename signature_type::Input;
  /// `rationale` and every output field of Sig.
  using Output = typename signature_type::Output;
  using result_type = Result<Predicted<Output>>;

  Predict<signature_type> predict;

  /// DSPy samples the comparison at temperature 0.7.
  explicit MultiChainComparison(double temperature = 0.7) { predict.config.temperature = temperature; }

  /// DSPy's attempt text: `«I'm trying to {rationale} I'm not sure but my prediction is {answer}»`,
  /// each part cut to its first line.
  static std::string format_attempt(std::string_view rationale, std::string_view answer) {
    return "«I'm trying to " + detail::first_line(rationale) + " I'm not sure but my prediction is " +
           detail::first_line(answer) + "»";
  }

  /// The input DSPy's forward(completions, **kwargs) builds: each completion's `rationale` (or
  /// `reasoning`) and Sig's last output field, as attempt texts. An error unless there are M.
  template <class C>
  static Result<Input> make_input(std::span<const C> completions, typename Sig::Input inputs) {
    constexpr std::size_t rationale = detail::field_index_of<C>("rationale");
    constexpr std::size_t reasoning = detail::field_index_of<C>("reasoning");
    constexpr std::size_t why = rationale < field_count<C> ? rationale : reasoning;
    static_assert(why < field_count<C>,
                  "dspy::MultiChainComparison: each completion needs a `rationale` or `reasoning` field "
                  "(ChainOfThought's outputs have one).");
    using Out = typename Sig::Output;
    constexpr std::size_t answer = detail::field_index_of<C>(field_names<Out>[field_count<Out> - 1]);
    static_assert(answer < field_count<C>,
                  "dspy::MultiChainComparison: each completion needs the last output field of Sig.");
    if (completions.size() != M)
      return Error(Errc::config, "MultiChainComparison: the number of attempts (" +
                                     std::to_string(completions.size()) + ") doesn't match the expected number M (" +
                                     std::to_string(M) + ")");
    ReasoningAttempts<M> attempts;
    for (std::size_t i = 0; i < M; ++i) {
      std::string answer_text;  // DSPy's str(value): raw text for strings, the prompt rendering otherwise
      render_value(answer_text, get_field<answer>(completions[i]));
      attempts.attempts[i] = format_attempt(get_field<why>(completions[i]), answer_text);
    }
    return Input{std::move(inputs), std::move(attempts)};
  }
  template <class C>
  static Result<Input> make_input(const std::vector<C>& completions, typename Sig::Input inputs) {
    return make_input(std::span<const C>(completions), std::move(inputs));
  }

  // Predict's own awaitable: no frame of its own per call.
  asio::awaitable<result_type> forward(Input input) const { return predict.acall(std::move(input)); }
  result_type operator()(const Input& input, const CallConfig& call = {}) const { return predict(input, call); }
  /// DSPy's call with completions: compares them and answers.
  template <class C>
  result_type operator()(std::span<const C> completions, const typename Sig::Input& inputs,
                         const CallConfig& call = {}) const {
    auto input = make_input(completions, inputs);
    if (!input) return std::move(input).error();
    return predict(*input, call);
  }
  [[nodiscard]] std::vector<Message> format(const Input& input) const { return predict.format(input); }

  BOOST_DESCRIBE_CLASS(MultiChainComparison, (), (predict), (), ())
};

}  // namespace dspy
