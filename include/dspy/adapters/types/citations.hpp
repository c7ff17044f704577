// dspy::Citations, DSPy's dspy.experimental.Citations: the passages of the input documents a reply
// cites. With an Anthropic model the field leaves the prompt and is read from the reply's own
// citations (Anthropic's Citations API); otherwise it is a JSON section of the reply.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "../../detail/config.hpp"
#include "../../detail/text/pytext.hpp"
#include "../../detail/text/tolerant.hpp"

namespace dspy {

struct Citation {
  std::string type = "char_location";
  std::string cited_text;
  int document_index = 0;
  std::optional<std::string> document_title{};
  int start_char_index = 0;
  int end_char_index = 0;
  std::optional<std::string> supported_text{};

  /// As DSPy's Citation.format: the title and supported text only when set.
  [[nodiscard]] boost::json::object to_json() const;

  friend bool operator==(const Citation&, const Citation&) = default;
};

struct Citations {
  std::vector<Citation> citations{};

  static constexpr std::string_view type_name = "Citations";
  static constexpr std::string_view type_description =
      "Citations with quoted text and source references. Include the exact text being cited and information about "
      "its source.";

  /// The citation dicts (DSPy's model_dump of a Citations).
  [[nodiscard]] boost::json::value to_json() const;
  /// In a prompt: the citation dicts as JSON.
  [[nodiscard]] std::string format() const { return detail::py_json(to_json()); }

  /// A list of citation dicts, `{"citations": [...]}`, or one citation (as DSPy accepts).
  static std::optional<std::string> from_json(const boost::json::value& v, Citations& out);
  /// A JSON section of the reply.
  static std::optional<std::string> parse(std::string_view text, Citations& out);

  friend bool operator==(const Citations&, const Citations&) = default;
};

}  // namespace dspy

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "citations_impl.hpp"
#endif
