// The bodies of image.hpp: header-only, image.hpp includes them; with DSPY_SEPARATE_COMPILATION,
// <dspy/src.hpp> compiles them once.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include <boost/json.hpp>

#include "../../primitives/error.hpp"
#include "image.hpp"
#include "media.hpp"

namespace dspy {

DSPY_DECL Result<Image> Image::from_url(std::string url) {
  const auto host_after = [&](std::string_view scheme) {
    return url.starts_with(scheme) && url.size() > scheme.size() && url[scheme.size()] != '/';
  };
  if (url.starts_with("data:") || host_after("http://") || host_after("https://") || host_after("gs://"))
    return Image{std::move(url)};
  return Error(Errc::config, "Image: `" + url + "` is not an http(s) or gs URL with a host, nor a data URI");
}

DSPY_DECL Result<Image> Image::from_path(const std::filesystem::path& path) {
  auto file = detail::read_media_file(path, "Image");
  if (!file) return std::move(file).error();
  return Image{detail::data_uri(file->bytes, file->mime_type)};
}

DSPY_DECL Image Image::from_bytes(std::string_view bytes, std::string_view mime_type) {
  return Image{detail::data_uri(bytes, mime_type)};
}

DSPY_DECL boost::json::array Image::format() const {
  return {boost::json::object{{"type", "image_url"}, {"image_url", {{"url", detail::normalize_data_uri(url)}}}}};
}

DSPY_DECL std::optional<std::string> Image::from_json(const boost::json::value& v, Image& out) {
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

}  // namespace dspy
