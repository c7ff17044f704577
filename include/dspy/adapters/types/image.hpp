// dspy::Image, DSPy's dspy.Image: an image input, by URL or as a base64 data URI. In a prompt it
// becomes an `image_url` content part of the user message.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "../../primitives/error.hpp"
#include "media.hpp"

namespace dspy {

struct Image {
  std::string url;  ///< an http(s) or gs URL, or a `data:` URI

  static constexpr std::string_view type_name = "Image";

  /// An image at a URL: http(s) or gs with a host, or a data URI, as DSPy accepts; else an error.
  [[nodiscard]] static Result<Image> from_url(std::string url) {
    const auto host_after = [&](std::string_view scheme) {
      return url.starts_with(scheme) && url.size() > scheme.size() && url[scheme.size()] != '/';
    };
    if (url.starts_with("data:") || host_after("http://") || host_after("https://") || host_after("gs://"))
      return Image{std::move(url)};
    return Error(Errc::config, "Image: `" + url + "` is not an http(s) or gs URL with a host, nor a data URI");
  }
  /// A local image file, read and base64-encoded (MIME type from the extension).
  [[nodiscard]] static Result<Image> from_path(const std::filesystem::path& path) {
    auto file = detail::read_media_file(path, "Image");
    if (!file) return std::move(file).error();
    return Image{detail::data_uri(file->bytes, file->mime_type)};
  }
  /// Image bytes of a MIME type (`image/png`), base64-encoded.
  [[nodiscard]] static Image from_bytes(std::string_view bytes, std::string_view mime_type) {
    return Image{detail::data_uri(bytes, mime_type)};
  }

  [[nodiscard]] boost::json::array format() const {
    return {boost::json::object{{"type", "image_url"}, {"image_url", {{"url", detail::normalize_data_uri(url)}}}}};
  }

  /// `{"url": ...}`, a URL, or the saved form DSPy writes (its content part).
  static std::optional<std::string> from_json(const boost::json::value& v, Image& out) {
    if (const auto* o = v.if_object(); o && o->contains("url") && o->at("url").is_string()) {
      out.url = o->at("url").get_string();
      return std::nullopt;
    }
    if (!v.is_string()) return "expected an Image (`{\"url\": ...}` or a URL)";
    if (const auto parts = detail::marked_parts(v.get_string())) {
      const auto* image = detail::part_field(*parts, "image_url", "image_url");
      if (!image || !image->contains("url") || !image->at("url").is_string()) return "a saved Image without an image_url part";
      out.url = image->at("url").get_string();
      return std::nullopt;
    }
    out.url = v.get_string();
    return std::nullopt;
  }

  friend bool operator==(const Image&, const Image&) = default;
};

}  // namespace dspy
