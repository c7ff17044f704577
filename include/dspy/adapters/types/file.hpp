// dspy::File, DSPy's dspy.File: a file input, as base64 data, a provider's file id, or both, with
// an optional file name. In a prompt it becomes a `file` content part of the user message.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "../../primitives/error.hpp"
#include "media.hpp"

namespace dspy {

struct File {
  std::optional<std::string> file_data{};  ///< a data URI
  std::optional<std::string> file_id{};    ///< an uploaded file's id
  std::optional<std::string> filename{};

  static constexpr std::string_view type_name = "File";

  /// DSPy's File.from_bytes: `data:<mime>;base64,<bytes>`.
  [[nodiscard]] static File from_bytes(std::string_view bytes, std::optional<std::string> filename = std::nullopt,
                                       std::string_view mime_type = "application/octet-stream") {
    return File{detail::data_uri(bytes, mime_type), std::nullopt, std::move(filename)};
  }
  /// A local file, read and base64-encoded (MIME type from the extension, name from the path).
  [[nodiscard]] static Result<File> from_path(const std::filesystem::path& path) {
    auto file = detail::read_media_file(path, "File");
    if (!file) return std::move(file).error();
    return from_bytes(file->bytes, path.filename().string(), file->mime_type);
  }
  /// A file already uploaded to the provider.
  [[nodiscard]] static File from_file_id(std::string id, std::optional<std::string> filename = std::nullopt) {
    return File{std::nullopt, std::move(id), std::move(filename)};
  }

  /// Only the keys that are set and not empty, in DSPy's order.
  [[nodiscard]] boost::json::array format() const {
    boost::json::object file;
    if (file_data && !file_data->empty()) file["file_data"] = *file_data;
    if (file_id && !file_id->empty()) file["file_id"] = *file_id;
    if (filename && !filename->empty()) file["filename"] = *filename;
    return {boost::json::object{{"type", "file"}, {"file", std::move(file)}}};
  }

  /// `{"file_data", "file_id", "filename"}` or the saved form DSPy writes (its content part).
  static std::optional<std::string> from_json(const boost::json::value& v, File& out) {
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

  friend bool operator==(const File&, const File&) = default;
};

}  // namespace dspy
