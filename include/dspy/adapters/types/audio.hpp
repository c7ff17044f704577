// dspy::Audio, DSPy's dspy.Audio: base64 audio with its format (`wav`, `mp3`). In a prompt it
// becomes an `input_audio` content part of the user message.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "../../detail/config.hpp"
#include "../../detail/io/binary.hpp"
#include "../../primitives/error.hpp"
#include "media.hpp"

namespace dspy {

struct Audio {
  std::string data;          ///< base64
  std::string audio_format;  ///< `wav`, `mp3`, ...

  static constexpr std::string_view type_name = "Audio";

  /// A local audio file, read and base64-encoded (format from the extension).
  [[nodiscard]] static Result<Audio> from_path(const std::filesystem::path& path);
  /// Audio bytes of a format (`wav`, or a MIME subtype such as `mpeg`), base64-encoded.
  [[nodiscard]] static Audio from_bytes(std::string_view bytes, std::string_view format);

  /// The format as OpenAI names it: `mpeg` is `mp3`, `x-wav` is `wav` (as DSPy sends them).
  [[nodiscard]] std::string wire_format() const;

  [[nodiscard]] boost::json::array format() const;

  /// `{"data", "audio_format"}` or the saved form DSPy writes (its content part).
  static std::optional<std::string> from_json(const boost::json::value& v, Audio& out);

  friend bool operator==(const Audio&, const Audio&) = default;
};

}  // namespace dspy

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "audio_impl.hpp"
#endif
