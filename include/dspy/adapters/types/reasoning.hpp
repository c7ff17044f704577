// dspy::Reasoning, DSPy's dspy.Reasoning: a model's reasoning as an output. A text section for
// models that reason in their reply; with an LM that reports native reasoning, the field leaves
// the prompt and takes the reply's own reasoning (`reasoning_content`, thinking blocks).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "../../detail/text/tolerant.hpp"

namespace dspy {

struct Reasoning {
  std::string content;

  static constexpr std::string_view type_name = "str";  // DSPy prints a Reasoning field as `str`

  [[nodiscard]] const std::string& format() const noexcept { return content; }

  /// As DSPy's parse_value: a section that is just a JSON string literal comes back unquoted;
  /// other text is kept as is.
  static std::optional<std::string> parse(std::string_view text, Reasoning& out) {
    const std::string_view t = detail::trim(text);
    if (t.size() >= 2 && t.front() == '"' && t.back() == '"') {
      boost::system::error_code ec;
      const boost::json::value v = boost::json::parse(t, ec);
      if (!ec && v.is_string()) {
        out.content = v.get_string();
        return std::nullopt;
      }
    }
    out.content.assign(text);
    return std::nullopt;
  }

  /// A string, or `{"content": ...}`.
  static std::optional<std::string> from_json(const boost::json::value& v, Reasoning& out) {
    if (v.is_string()) return out.content = v.get_string(), std::nullopt;
    if (const auto* o = v.if_object(); o && o->contains("content") && o->at("content").is_string())
      return out.content = o->at("content").get_string(), std::nullopt;
    return "expected a Reasoning (a string or `{\"content\": ...}`)";
  }

  friend bool operator==(const Reasoning&, const Reasoning&) = default;
};

}  // namespace dspy
