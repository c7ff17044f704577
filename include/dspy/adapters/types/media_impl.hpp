// The bodies of media.hpp: header-only, media.hpp includes them; with DSPY_SEPARATE_COMPILATION,
// <dspy/src.hpp> compiles them once.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <utility>

#include "../../detail/io/binary.hpp"
#include "../../detail/io/file.hpp"
#include "../../detail/text/tolerant.hpp"
#include "../../signatures/field_types.hpp"
#include "../utils.hpp"
#include "media.hpp"

namespace dspy::detail {

DSPY_DECL std::string_view mime_type_for(const std::filesystem::path& path) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 22> table{{
      {".png", "image/png"},        {".jpg", "image/jpeg"},      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},        {".webp", "image/webp"},     {".bmp", "image/bmp"},
      {".svg", "image/svg+xml"},    {".tif", "image/tiff"},      {".tiff", "image/tiff"},
      {".wav", "audio/wav"},        {".mp3", "audio/mpeg"},      {".ogg", "audio/ogg"},
      {".flac", "audio/flac"},      {".m4a", "audio/mp4"},       {".webm", "audio/webm"},
      {".pdf", "application/pdf"},  {".txt", "text/plain"},      {".md", "text/markdown"},
      {".csv", "text/csv"},         {".html", "text/html"},      {".json", "application/json"},
      {".xml", "application/xml"},
  }};
  std::string ext = path.extension().string();
  for (char& c : ext) c = ascii_lower(c);
  for (const auto& [e, mime] : table)
    if (e == ext) return mime;
  return {};
}

DSPY_DECL std::string data_uri(std::string_view bytes, std::string_view mime_type) {
  std::string out = "data:";
  out += mime_type;
  out += ";base64,";
  out += base64_encode(bytes);
  return out;
}

DSPY_DECL Result<MediaFile> read_media_file(const std::filesystem::path& path, std::string_view kind) {
  const std::string_view mime = mime_type_for(path);
  if (mime.empty())
    return Error(Errc::config, std::string(kind) + " " + path.string() +
                                   ": unknown file extension; pass the MIME type (from_bytes) instead");
  auto bytes = read_regular_file(path, kMaxMediaFileBytes);
  if (!bytes) return std::move(bytes).error();
  return MediaFile{std::move(*bytes), std::string(mime)};
}

DSPY_DECL std::string normalize_data_uri(std::string_view url) {
  if (!url.starts_with("data:")) return std::string(url);
  const std::size_t comma = url.find(',');
  if (comma == std::string_view::npos) return std::string(url);
  const std::string_view header = url.substr(5, comma - 5);
  const std::string_view media = header.substr(0, header.find(';'));
  std::string out = "data:";
  out += media;
  out += ";base64,";
  out += url.substr(comma + 1);
  return out;
}

DSPY_DECL std::optional<boost::json::array> marked_parts(std::string_view text) {
  text = trim(text);
  if (!text.starts_with(kCustomTypeStart) || !text.ends_with(kCustomTypeEnd)) return std::nullopt;
  return marked_json(
      trim(text.substr(kCustomTypeStart.size(), text.size() - kCustomTypeStart.size() - kCustomTypeEnd.size())));
}

DSPY_DECL const boost::json::object* part_field(const boost::json::array& parts, std::string_view type,
                                                std::string_view key) {
  for (const auto& p : parts) {
    const auto* o = p.if_object();
    if (!o) continue;
    const auto* t = o->if_contains("type");
    if (!t || !t->is_string() || t->get_string() != type) continue;
    const auto* v = o->if_contains(key);
    return v ? v->if_object() : nullptr;
  }
  return nullptr;
}

}  // namespace dspy::detail
