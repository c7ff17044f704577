// The bodies of file.hpp: header-only, file.hpp includes them; with DSPY_SEPARATE_COMPILATION,
// <dspy/src.hpp> compiles them once.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <boost/json.hpp>

#include "../../primitives/error.hpp"
#include "file.hpp"
#include "media.hpp"

namespace dspy {

DSPY_DECL File File::from_bytes(std::string_view bytes, std::optional<std::string> filename, std::string_view mime_type) {
  return File{detail::data_uri(bytes, mime_type), std::nullopt, std::move(filename)};
}

DSPY_DECL Result<File> File::from_path(const std::filesystem::path& path) {
  auto file = detail::read_media_file(path, "File");
  if (!file) return std::move(file).error();
  return from_bytes(file->bytes, path.filename().string(), file->mime_type);
}

DSPY_DECL File File::from_file_id(std::string id, std::optional<std::string> filename) {
  return File{std::nullopt, std::move(id), std::move(filename)};
}

DSPY_DECL boost::json::array File::format() const {
  boost::json::object file;
  if (file_data && !file_data->empty()) file["file_data"] = *file_data;
  if (file_id && !file_id->empty()) file["file_id"] = *file_id;
  if (filename && !filename->empty()) file["filename"] = *filename;
  return {boost::json::object{{"type", "file"}, {"file", std::move(file)}}};
}

DSPY_DECL std::optional<std::string> File::from_json(const boost::json::value& v, File& out) {
  const boost::json::object* o = v.if_object();
  std::optional<boost::json::array> parts;
  if (!o && v.is_string() && (parts = detail::marked_parts(v.get_string()))) o = detail::part_field(*parts, "file", "file");
  if (!o) return "expected a File (`{\"file_data\", \"file_id\", \"filename\"}`)";
  File f;
  for (auto [key, member] : {std::pair{"file_data", &File::file_data}, std::pair{"file_id", &File::file_id},
                             std::pair{"filename", &File::filename}}) {
    const auto* x = o->if_contains(key);
    if (!x || x->is_null()) continue;
    if (!x->is_string()) return std::string("File: `") + key + "` must be a string";
    f.*member = std::string(x->get_string());
  }
  out = std::move(f);
  return std::nullopt;
}

}  // namespace dspy
