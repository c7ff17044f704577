// dspy::Image, DSPy's dspy.Image: an image input, by URL or as a base64 data URI. In a prompt it
// becomes an `image_url` content part of the user message.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "../../detail/config.hpp"
#include "../../primitives/error.hpp"
#include "media.hpp"

namespace dspy {

struct Image {
  std::string url;  ///< an http(s) or gs URL, or a `data:` URI

  static constexpr std::string_view type_name = "Image";

  /// An image at a URL: http(s) or gs with a host, or a data URI, as DSPy accepts; else an error.
  [[nodiscard]] static Result<Image> from_url(std::string url);
  /// A local image file, read and base64-encoded (MIME type from the extension).
  [[nodiscard]] static Result<Image> from_path(const std::filesystem::path& path);
  /// Image bytes of a MIME type (`image/png`), base64-encoded.
  [[nodiscard]] static Image from_bytes(std::string_view bytes, std::string_view mime_type);

  [[nodiscard]] boost::json::array format() const;

  /// `{"url": ...}`, a URL, or the saved form DSPy writes (its content part).
  static std::optional<std::string> from_json(const boost::json::value& v, Image& out);

  friend bool operator==(const Image&, const Image&) = default;
};

}  // namespace dspy

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "image_impl.hpp"
#endif
