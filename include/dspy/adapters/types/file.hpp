// dspy::File, DSPy's dspy.File: a file input, as base64 data, a provider's file id, or both, with
// an optional file name. In a prompt it becomes a `file` content part of the user message.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "../../detail/config.hpp"
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
                                       std::string_view mime_type = "application/octet-stream");
  /// A local file, read and base64-encoded (MIME type from the extension, name from the path).
  [[nodiscard]] static Result<File> from_path(const std::filesystem::path& path);
  /// A file already uploaded to the provider.
  [[nodiscard]] static File from_file_id(std::string id, std::optional<std::string> filename = std::nullopt);

  /// Only the keys that are set and not empty, in DSPy's order.
  [[nodiscard]] boost::json::array format() const;

  /// `{"file_data", "file_id", "filename"}` or the saved form DSPy writes (its content part).
  static std::optional<std::string> from_json(const boost::json::value& v, File& out);

  friend bool operator==(const File&, const File&) = default;
};

}  // namespace dspy

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "file_impl.hpp"
#endif
