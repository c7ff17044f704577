// Streaming predictions (DSPy's StreamListener idea): as the LM writes a ChatAdapter reply, the
// text of each output field is handed over in pieces, between its `[[ ## field ## ]]` marker and
// the next one. The call still ends with the parsed Predicted, the same as an unstreamed call's.
//
//   auto r = co_await qa.astream({.question = "..."}, [](const dspy::StreamChunk& c) {
//     std::cout << c.field << ": " << c.text << std::flush;
//   });
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "../detail/config.hpp"
#include "../detail/text/tolerant.hpp"
#include "utils.hpp"

namespace dspy {

/// A piece of one output field's text, in the order the LM wrote it. The pieces of a field
/// concatenate to its text as the ChatAdapter parses it (trimmed; markers never included).
struct StreamChunk {
  std::string_view field;  ///< the output field's name (static storage: safe to keep)
  std::string text;
};

/// What receives the chunks: any callable as `f(const dspy::StreamChunk&)`.
using StreamCallback = std::function<void(const StreamChunk&)>;

template <class F>
concept StreamListener = std::invocable<F&, const StreamChunk&>;

/// Reads a reply as it arrives and hands out its output fields in chunks: what an adapter that
/// streams fields returns from Adapter::stream_fields.
class FieldStream {
 public:
  virtual ~FieldStream() = default;
  /// The next piece of the reply's text.
  virtual void feed(std::string_view text) = 0;
  /// The reply is complete.
  virtual void finish() = 0;
};

namespace detail {

/// Splits a ChatAdapter reply arriving in pieces into output-field chunks, by the rules of
/// ChatAdapter::parse: a header is a whole line `[[ ## name ## ]]` (text after it on the line
/// belongs to the field); only the first section of each field counts; sections of unknown
/// names (`completed`) and text before the first header are dropped; a field's text is trimmed.
/// Leading whitespace is skipped and trailing whitespace held back until more text follows, so
/// the chunks concatenate to exactly the parsed text.
class FieldStreamer final : public FieldStream {
 public:
  FieldStreamer(std::span<const std::string_view> fields, StreamCallback on_chunk)
      : fields_(fields), on_chunk_(std::move(on_chunk)) {}

  DSPY_DECL void feed(std::string_view text) override;

  /// The reply is complete: a last line without a newline is read.
  void finish() override {
    if (deciding_ && !line_.empty()) end_line();
  }

 private:
  static std::string_view trim_front(std::string_view s) {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    return s;
  }
  static bool could_be_header(std::string_view s) { return s.front() == '[' && (s.size() < 2 || s[1] == '['); }

  DSPY_DECL void end_line();

  // Text of the current section (dropped outside a field's first section).
  DSPY_DECL void section(std::string_view text);

  std::span<const std::string_view> fields_;
  StreamCallback on_chunk_;
  std::size_t current_ = static_cast<std::size_t>(-1);  // no field yet
  std::uint64_t seen_ = 0;
  std::string line_;      // a line that may be a header, read until its end
  bool deciding_ = true;  // at the start of a line that may be a header
  bool started_ = false;  // the section has shown non-space text
  std::string held_;      // trailing whitespace, sent once more text follows
};

}  // namespace detail

}  // namespace dspy

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "streaming_impl.hpp"
#endif
