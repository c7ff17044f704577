// dspy::Document, DSPy's dspy.experimental.Document: a text a model may read and cite. In a prompt
// it becomes a `document` content part (Anthropic's document block, with citations enabled).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "../../detail/config.hpp"
#include "media.hpp"

namespace dspy {

struct Document {
  std::string data;
  std::optional<std::string> title{};
  std::string media_type = "text/plain";
  std::optional<std::string> context{};

  static constexpr std::string_view type_name = "Document";
  static constexpr std::string_view type_description =
      "A document containing text content that can be referenced and cited. Include the full text content and "
      "optionally a title for proper referencing.";

  [[nodiscard]] boost::json::array format() const;

  /// `{"data", "title", "media_type", "context"}` or the saved form DSPy writes (its content part).
  static std::optional<std::string> from_json(const boost::json::value& v, Document& out);

  friend bool operator==(const Document&, const Document&) = default;
};

}  // namespace dspy

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "document_impl.hpp"
#endif
