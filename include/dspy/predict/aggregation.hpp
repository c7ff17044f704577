// dspy::majority: the most common answer among several completions (DSPy's dspy.majority).
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../primitives/error.hpp"
#include "../primitives/literal.hpp"
#include "../primitives/prediction.hpp"
#include "../signatures/signature.hpp"
#include "../primitives/text.hpp"

namespace dspy {

/// Maps a field's text to the value voted on; nullopt leaves the completion out of the vote.
using MajorityNormalize = std::function<std::optional<std::string>(std::string_view)>;

/// DSPy's default: normalize_text, and an empty result does not vote.
inline std::optional<std::string> default_normalize(std::string_view s) {
  std::string n = normalize_text(s);
  if (n.empty()) return std::nullopt;
  return n;
}

namespace detail {

template <class O, std::size_t I>
std::string field_text(const O& o) {
  const auto& v = get_field<I>(o);
  if constexpr (String<std::remove_cvref_t<decltype(v)>>) {
    return v;
  } else {  // DSPy votes on strings only; other types vote on their prompt rendering
    std::string s;
    render_value(s, v);
    return s;
  }
}

// The index of the completion majority() returns.
template <class O, std::size_t I>
Result<std::size_t> majority_index(std::span<const O> completions, const MajorityNormalize& normalize) {
  if (completions.empty()) return Error(Errc::config, "majority: there are no completions to vote on");
  std::vector<std::optional<std::string>> values;
  values.reserve(completions.size());
  bool any_vote = false;
  for (const auto& c : completions) {
    values.push_back(normalize(field_text<O, I>(c)));
    any_vote = any_vote || values.back().has_value();
  }
  // When every value normalizes to nothing, DSPy counts the Nones themselves: the first wins.
  struct Tally {
    std::size_t first;  // the first completion with this value
    std::size_t count;
  };
  std::vector<Tally> tallies;  // in order of first appearance
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (any_vote && !values[i]) continue;
    auto it = std::find_if(tallies.begin(), tallies.end(), [&](const Tally& t) { return values[t.first] == values[i]; });
    if (it == tallies.end()) tallies.push_back({i, 1});
    else ++it->count;
  }
  // Like max() over a dict: the first of equal counts wins.
  const Tally* best = &tallies.front();
  for (const auto& t : tallies)
    if (t.count > best->count) best = &t;
  return best->first;
}

template <class O, std::size_t I>
Result<O> majority_of(std::span<const O> completions, const MajorityNormalize& normalize) {
  auto i = majority_index<O, I>(completions, normalize);
  if (!i) return std::move(i).error();
  return completions[*i];
}

}  // namespace detail

/// The completion whose last field (DSPy: the last output field) is the most common after
/// normalization; ties go to the value seen first, and the first completion holding the winning
/// value is returned. An error only for no completions.
template <class O>
Result<O> majority(std::span<const O> completions, const MajorityNormalize& normalize = default_normalize) {
  static_assert(field_count<O> > 0, "dspy::majority: the completions have no fields to vote on.");
  return detail::majority_of<O, field_count<O> - 1>(completions, normalize);
}

/// Votes on the named field: `dspy::majority<"answer">(completions)`; a name the type does not
/// have does not compile.
template <FixedString Field, class O>
Result<O> majority(std::span<const O> completions, const MajorityNormalize& normalize = default_normalize) {
  constexpr std::size_t index = detail::field_index_of<O>(Field.view());
  static_assert(index < field_count<O>, "dspy::majority<Field>: the completions have no field of that name.");
  return detail::majority_of<O, index>(completions, normalize);
}

template <class O>
Result<O> majority(const std::vector<O>& completions, const MajorityNormalize& normalize = default_normalize) {
  return majority(std::span<const O>(completions), normalize);
}
template <FixedString Field, class O>
Result<O> majority(const std::vector<O>& completions, const MajorityNormalize& normalize = default_normalize) {
  return majority<Field>(std::span<const O>(completions), normalize);
}

/// Over a prediction's n completions.
template <class O>
Result<O> majority(const Predicted<O>& prediction, const MajorityNormalize& normalize = default_normalize) {
  return majority(prediction.completions(), normalize);
}
template <FixedString Field, class O>
Result<O> majority(const Predicted<O>& prediction, const MajorityNormalize& normalize = default_normalize) {
  return majority<Field>(prediction.completions(), normalize);
}

}  // namespace dspy
