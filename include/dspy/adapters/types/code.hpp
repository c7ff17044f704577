// dspy::Code<"python">, DSPy's dspy.Code["python"]: code in a language. As an output it is read
// from the reply's first fenced block; as an input it is written as is.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "../../detail/text/tolerant.hpp"
#include "../../primitives/literal.hpp"

namespace dspy {

namespace detail {

template <std::size_t N>
struct CodeName {  // "Code_" + the language, DSPy's class name for Code[language]
  std::array<char, N + 4> data{};
  consteval explicit CodeName(const FixedString<N>& language) {
    constexpr std::string_view prefix = "Code_";
    for (std::size_t i = 0; i < prefix.size(); ++i) data[i] = prefix[i];
    for (std::size_t i = 0; i + 1 < N; ++i) data[prefix.size() + i] = language.data[i];
  }
  [[nodiscard]] constexpr std::string_view view() const noexcept { return {data.data(), N + 4}; }
};

// DSPy's _filter_code: the first fenced block (any language tag), else the inside of a one-line
// fence, stripped; else the text.
inline std::string filter_code(std::string_view text) {
  const std::size_t open = text.find("```");
  if (open == std::string_view::npos) return std::string(text);
  if (const std::size_t nl = text.find('\n', open + 3); nl != std::string_view::npos)
    if (const std::size_t close = text.find("```", nl + 1); close != std::string_view::npos)
      return std::string(trim(text.substr(nl + 1, close - nl - 1)));
  if (const std::size_t close = text.find("```", open + 3); close != std::string_view::npos)
    return std::string(trim(text.substr(open + 3, close - open - 3)));
  return std::string(text);
}

}  // namespace detail

template <FixedString Language = "python">
struct Code {
  std::string code;

 private:
  static constexpr detail::CodeName<sizeof(Language.data)> name_{Language};
  static constexpr auto description_ = [] {
    constexpr std::string_view a =
        "Code represented in a string, specified in the `code` field. If this is an output field, the code field "
        "should follow the markdown code block format, e.g. \n```";
    constexpr std::string_view b = "\n{code}\n```\nProgramming language: ";
    constexpr std::string_view lang = Language.view();
    std::array<char, a.size() + 2 * lang.size() + b.size()> out{};
    std::size_t k = 0;
    for (char c : a) out[k++] = c;
    for (char c : lang) out[k++] = detail::ascii_lower(c);
    for (char c : b) out[k++] = c;
    for (char c : lang) out[k++] = c;
    return out;
  }();

 public:
  static constexpr std::string_view language = Language.view();
  static constexpr std::string_view type_name = name_.view();
  static constexpr std::string_view type_description{description_.data(), description_.size()};

  [[nodiscard]] const std::string& format() const noexcept { return code; }

  static std::optional<std::string> parse(std::string_view text, Code& out) {
    out.code = detail::filter_code(text);
    return std::nullopt;
  }
  /// A string or `{"code": ...}` (structured outputs).
  static std::optional<std::string> from_json(const boost::json::value& v, Code& out) {
    if (v.is_string()) return parse(v.get_string(), out);
    if (const auto* o = v.if_object(); o && o->contains("code") && o->at("code").is_string())
      return parse(o->at("code").get_string(), out);
    return "expected code (a string or `{\"code\": ...}`)";
  }

  friend bool operator==(const Code&, const Code&) = default;
};

}  // namespace dspy
