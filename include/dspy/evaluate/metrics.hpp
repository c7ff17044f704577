// Metrics as DSPy defines them (dspy.evaluate.metrics): exact match and token F1 over
// normalize_text, HotPotQA's F1, passage match over DPR tokens, answer_exact_match and
// answer_passage_match; and what a user metric may be.
#pragma once

#include <algorithm>
#include <concepts>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "../detail/config.hpp"
#include "../signatures/example.hpp"
#include "../primitives/predictor.hpp"
#include "../primitives/text.hpp"

namespace dspy {

// ---- string metrics -----------------------------------------------------------------------------

namespace detail {

inline std::vector<std::string> split_words(const std::string& s) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t end = std::min(s.find(' ', i), s.size());
    if (end > i) out.push_back(s.substr(i, end - i));
    i = end + 1;
  }
  return out;
}

// sum((Counter(a) & Counter(b)).values())
inline std::size_t common_tokens(std::vector<std::string> a, std::vector<std::string> b) {
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  std::size_t n = 0;
  for (auto i = a.begin(), j = b.begin(); i != a.end() && j != b.end();) {
    if (*i < *j) ++i;
    else if (*j < *i) ++j;
    else ++n, ++i, ++j;
  }
  return n;
}

inline double f1_of_words(const std::vector<std::string>& pred, const std::vector<std::string>& gold) {
  const std::size_t same = common_tokens(pred, gold);
  if (same == 0) return 0.0;  // DSPy gives 0 when both are empty too
  const double precision = static_cast<double>(same) / static_cast<double>(pred.size());
  const double recall = static_cast<double>(same) / static_cast<double>(gold.size());
  return 2 * precision * recall / (precision + recall);
}

}  // namespace detail

/// DSPy's em_score: the texts are equal after normalize_text.
inline bool em_score(std::string_view prediction, std::string_view ground_truth) {
  return normalize_text(prediction) == normalize_text(ground_truth);
}

/// DSPy's f1_score (SQuAD's): F1 of the normalized whitespace tokens, counted with multiplicity;
/// 0 when nothing is shared, also when both are empty.
inline double f1_score(std::string_view prediction, std::string_view ground_truth) {
  return detail::f1_of_words(detail::split_words(normalize_text(prediction)),
                             detail::split_words(normalize_text(ground_truth)));
}

/// DSPy's precision_score: the share of the prediction's tokens found in the ground truth.
inline double precision_score(std::string_view prediction, std::string_view ground_truth) {
  const auto pred = detail::split_words(normalize_text(prediction));
  const std::size_t same = detail::common_tokens(pred, detail::split_words(normalize_text(ground_truth)));
  return same == 0 ? 0.0 : static_cast<double>(same) / static_cast<double>(pred.size());
}

/// DSPy's hotpot_f1_score: as f1_score, but 0 when either side is "yes", "no" or "noanswer"
/// and they differ.
inline double hotpot_f1_score(std::string_view prediction, std::string_view ground_truth) {
  const std::string p = normalize_text(prediction), g = normalize_text(ground_truth);
  const auto special = [](const std::string& s) { return s == "yes" || s == "no" || s == "noanswer"; };
  if ((special(p) || special(g)) && p != g) return 0.0;
  return detail::f1_of_words(detail::split_words(p), detail::split_words(g));
}

/// DSPy's EM: some answer matches exactly after normalization.
inline bool exact_match(std::string_view prediction, const std::vector<std::string>& answers) {
  return std::any_of(answers.begin(), answers.end(), [&](const std::string& a) { return em_score(prediction, a); });
}

/// DSPy's F1: the best f1_score over the answers (0 for none).
inline double token_f1(std::string_view prediction, const std::vector<std::string>& answers) {
  double best = 0;
  for (const auto& a : answers) best = std::max(best, f1_score(prediction, a));
  return best;
}

/// DSPy's HotPotF1: the best hotpot_f1_score over the answers.
inline double hotpot_f1(std::string_view prediction, const std::vector<std::string>& answers) {
  double best = 0;
  for (const auto& a : answers) best = std::max(best, hotpot_f1_score(prediction, a));
  return best;
}

/// DPR's SimpleTokenizer as DSPy uses it (DPR_normalize): NFD, then runs of letters, digits and
/// marks, or single punctuation and symbol characters; whitespace and control characters
/// separate; lowercased.
DSPY_DECL std::vector<std::string> dpr_tokens(std::string_view text);

/// DSPy's passage check: some answer's DPR tokens appear as a run in the passage's, both taken
/// after normalize_text.
inline bool passage_has_answers(std::string_view passage, const std::vector<std::string>& answers) {
  const auto text = dpr_tokens(normalize_text(passage));
  for (const auto& answer : answers) {
    const auto tokens = dpr_tokens(normalize_text(answer));
    if (tokens.size() > text.size()) continue;
    // An empty answer matches, as Python's empty-slice comparison does.
    if (std::search(text.begin(), text.end(), tokens.begin(), tokens.end()) != text.end() || tokens.empty()) return true;
  }
  return false;
}

// ---- metrics over examples and predictions ------------------------------------------------------

/// What a metric may return beyond a bool or a number: a score with text feedback (GEPA's
/// `Prediction(score=..., feedback=...)`).
struct MetricResult {
  double score = 0;
  std::string feedback{};
  friend bool operator==(const MetricResult&, const MetricResult&) = default;
};

namespace detail {

/// The output fields of a prediction: a Predicted's value, or the value itself.
template <class P>
const auto& outputs_of(const P& prediction) {
  if constexpr (requires { prediction.value(); }) return prediction.value();
  else return prediction;
}

// A label or prediction value as the texts DSPy compares: a string, each string of a list, or
// another value as a prompt shows it (42, True).
template <class T>
std::vector<std::string> answer_texts(const T& v) {
  if constexpr (std::is_same_v<T, std::string>) return {v};
  else if constexpr (Vector<T>) {
    std::vector<std::string> out;
    for (const auto& e : v) out.push_back(answer_texts(e).front());
    return out;
  } else {
    std::string s;
    render_value(s, v);
    return {std::move(s)};
  }
}

template <class T>
std::string answer_text(const T& v) {
  auto texts = answer_texts(v);
  return texts.empty() ? std::string() : std::move(texts.front());
}

template <class E>
inline constexpr bool is_example_v = false;
template <class Sig>
inline constexpr bool is_example_v<Example<Sig>> = true;

}  // namespace detail

/// DSPy's answer_exact_match: the prediction's `answer` equals one of the example's `answer`
/// labels after normalize_text (frac >= 1), or reaches token F1 >= frac. A label may be a string
/// or a list of them; other types compare as a prompt shows them (`42`). An example without an
/// `answer` label scores false.
struct AnswerExactMatch {
  double frac = 1.0;

  template <class Sig, class P>
  bool operator()(const Example<Sig>& example, const P& prediction, const Trace* = nullptr) const {
    static_assert(requires { example.labels.answer; },
                  "dspy: answer_exact_match needs an output field named `answer` in the example's signature; "
                  "write a metric of your own for other fields.");
    static_assert(requires { detail::outputs_of(prediction).answer; },
                  "dspy: answer_exact_match needs a prediction with an `answer` field.");
    if (!example.template has_label<"answer">()) return false;
    const auto answers = detail::answer_texts(example.labels.answer);
    const std::string predicted = detail::answer_text(detail::outputs_of(prediction).answer);
    if (frac >= 1.0) return exact_match(predicted, answers);
    return token_f1(predicted, answers) >= frac;
  }
};
inline constexpr AnswerExactMatch answer_exact_match{};

/// DSPy's answer_passage_match: one of the prediction's `context` passages contains one of the
/// example's `answer` labels (DPR tokens, after normalize_text).
struct AnswerPassageMatch {
  template <class Sig, class P>
  bool operator()(const Example<Sig>& example, const P& prediction, const Trace* = nullptr) const {
    static_assert(requires { example.labels.answer; },
                  "dspy: answer_passage_match needs an output field named `answer` in the example's signature.");
    static_assert(requires { detail::outputs_of(prediction).context; },
                  "dspy: answer_passage_match needs a prediction with a `context` field (the passages).");
    if (!example.template has_label<"answer">()) return false;
    const auto answers = detail::answer_texts(example.labels.answer);
    const auto passages = detail::answer_texts(detail::outputs_of(prediction).context);
    return std::any_of(passages.begin(), passages.end(),
                       [&](const std::string& p) { return passage_has_answers(p, answers); });
  }
};
inline constexpr AnswerPassageMatch answer_passage_match{};

/// A metric for examples E and predictions P: called as `metric(example, prediction, trace)` (or
/// without the trace) and returning a bool, a number, or a MetricResult.
template <class F, class E, class P>
concept Metric = std::invocable<const F&, const E&, const P&, const Trace*> || std::invocable<const F&, const E&, const P&>;

namespace detail {
template <class R>
MetricResult to_metric_result(R&& r) {
  using T = std::remove_cvref_t<R>;
  if constexpr (std::is_same_v<T, MetricResult>) return std::forward<R>(r);
  else {
    static_assert(std::is_arithmetic_v<T>,
                  "dspy: a metric returns a bool, a number or a dspy::MetricResult{score, feedback}.");
    return MetricResult{static_cast<double>(r), {}};
  }
}
}  // namespace detail

/// Runs a metric and gives its score (and feedback, if it gives one).
template <class F, class E, class P>
  requires Metric<F, E, P>
MetricResult run_metric(const F& metric, const E& example, const P& prediction, const Trace* trace = nullptr) {
  if constexpr (requires { metric(example, prediction, trace); })
    return detail::to_metric_result(metric(example, prediction, trace));
  else
    return detail::to_metric_result(metric(example, prediction));
}

}  // namespace dspy

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "metrics_impl.hpp"
#endif
