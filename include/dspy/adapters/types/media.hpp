// What DSPy's media types share (dspy/adapters/types/image.py, audio.py, file.py): loading a local
// file as a base64 data URI with its MIME type taken from the extension, and reading a value back
// from its saved form (DSPy saves a media value as its marked content parts).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "../../detail/config.hpp"
#include "../../primitives/error.hpp"

namespace dspy::detail {

/// The largest media file read into a prompt (providers take at most tens of MiB per request).
inline constexpr std::uintmax_t kMaxMediaFileBytes = std::uintmax_t{64} << 20;

/// The MIME type for a file name's extension (as Python's mimetypes guesses the common ones);
/// empty when unknown.
[[nodiscard]] DSPY_DECL std::string_view mime_type_for(const std::filesystem::path& path);

/// `data:<mime>;base64,<payload>`.
[[nodiscard]] DSPY_DECL std::string data_uri(std::string_view bytes, std::string_view mime_type);

/// A file's bytes and MIME type, or an error naming the path (missing, not a regular file, too
/// large, or an extension with no known type when `mime_type` is empty).
struct MediaFile {
  std::string bytes;
  std::string mime_type;
};
[[nodiscard]] DSPY_DECL Result<MediaFile> read_media_file(const std::filesystem::path& path,
                                                          std::string_view kind);

/// A data URI as the wire has it: `data:<media type>;base64,<payload>` (MIME parameters dropped,
/// `;base64` added); other text unchanged.
[[nodiscard]] DSPY_DECL std::string normalize_data_uri(std::string_view url);

/// The content parts inside DSPy's saved form of a media value (the marked JSON), or nullopt.
[[nodiscard]] DSPY_DECL std::optional<boost::json::array> marked_parts(std::string_view text);

/// The object under `key` in the first part of `type` (a saved value read back), or null.
[[nodiscard]] DSPY_DECL const boost::json::object* part_field(const boost::json::array& parts, std::string_view type,
                                                              std::string_view key);

}  // namespace dspy::detail

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "media_impl.hpp"
#endif
