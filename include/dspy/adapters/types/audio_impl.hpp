// The bodies of audio.hpp: header-only, audio.hpp includes them; with DSPY_SEPARATE_COMPILATION,
// <dspy/src.hpp> compiles them once.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <boost/json.hpp>

#include "../../detail/io/binary.hpp"
#include "../../primitives/error.hpp"
#include "audio.hpp"
#include "media.hpp"

namespace dspy {

DSPY_DECL Result<Audio> Audio::from_path(const std::filesystem::path& path) {
  auto file = detail::read_media_file(path, "Audio");
  if (!file) return std::move(file).error();
  if (!file->mime_type.starts_with("audio/"))
    return Error(Errc::config, "Audio " + path.string() + ": not an audio file (" + file->mime_type + ")");
  return from_bytes(file->bytes, file->mime_type.substr(6));
}

DSPY_DECL Audio Audio::from_bytes(std::string_view bytes, std::string_view format) {
  return Audio{detail::base64_encode(bytes), std::string(format)};
}

DSPY_DECL std::string Audio::wire_format() const {
  if (audio_format == "mpeg") return "mp3";
  if (audio_format == "x-wav") return "wav";
  return audio_format;
}

DSPY_DECL boost::json::array Audio::format() const {
  return {boost::json::object{{"type", "input_audio"}, {"input_audio", {{"data", data}, {"format", wire_format()}}}}};
}

DSPY_DECL std::optional<std::string> Audio::from_json(const boost::json::value& v, Audio& out) {
  const boost::json::object* o = v.if_object();
  std::optional<boost::json::array> parts;
  if (!o && v.is_string() && (parts = detail::marked_parts(v.get_string()))) {
    const auto* audio = detail::part_field(*parts, "input_audio", "input_audio");
    if (!audio) return "a saved Audio without an input_audio part";
    const auto* data = audio->if_contains("data");
    const auto* format = audio->if_contains("format");
    if (!data || !data->is_string() || !format || !format->is_string()) return "a saved Audio without data and format";
    out = Audio{std::string(data->get_string()), std::string(format->get_string())};
    return std::nullopt;
  }
  if (!o) return "expected an Audio (`{\"data\": ..., \"audio_format\": ...}`)";
  const auto* data = o->if_contains("data");
  const auto* format = o->if_contains("audio_format");
  if (!data || !data->is_string() || !format || !format->is_string())
    return "an Audio needs string `data` and `audio_format`";
  out = Audio{std::string(data->get_string()), std::string(format->get_string())};
  return std::nullopt;
}

}  // namespace dspy
