// dspy::Reasoning, DSPy's dspy.Reasoning: a model's reasoning as an output. A text section for
// models that reason in their reply; with an LM that reports native reasoning, the field leaves
// the prompt and takes the reply's own reasoning (`reasoning_content`, thinking blocks).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "../../detail/config.hpp"
#include "../../detail/text/tolerant.hpp"

namespace dspy {

struct Reasoning {
  std::string content;

  static constexpr std::string_view type_name = "str";  // DSPy prints a Reasoning field as `str`

  [[nodiscard]] const std::string& format() const noexcept { return content; }

  /// As DSPy's parse_value: a section that is just a JSON string literal comes back unquoted;
  /// other text is kept as is.
  static std::optional<std::string> parse(std::string_view text, Reasoning& out);

  /// A string, or `{"content": ...}`.
  static std::optional<std::string> from_json(const boost::json::value& v, Reasoning& out);

  friend bool operator==(const Reasoning&, const Reasoning&) = default;
};

}  // namespace dspy

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "reasoning_impl.hpp"
#endif
