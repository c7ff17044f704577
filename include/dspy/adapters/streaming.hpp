// Streaming predictions (DSPy's StreamListener idea): as the LM writes a reply, the text of each
// output field is handed over in pieces (ChatAdapter: between its `[[ ## field ## ]]` marker and
// the next one), or, with a listener taking dspy::Partial<Output>, the outputs typed, each field
// once it is complete. The call still ends with the parsed Predicted, the same as an unstreamed
// call's.
//
//   auto r = co_await qa.astream({.question = "..."}, [](const dspy::StreamChunk& c) {
//     std::cout << c.field << ": " << c.text << std::flush;
//   });
//   auto r = qa.stream({.question = "..."}, [](const dspy::Partial<QA::Output>& p) {
//     if (p.get<"answer">()) show(*p.get<"answer">());
//   });
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

#include "../detail/config.hpp"
#include "../detail/reflect.hpp"
#include "../detail/text/tolerant.hpp"
#include "../primitives/literal.hpp"
#include "signature_view.hpp"
#include "utils.hpp"

namespace dspy {

/// A piece of one output field's text, in the order the LM wrote it. The pieces of a field
/// concatenate to its text as the ChatAdapter parses it (trimmed; markers never included); the
/// JSONAdapter sends a field's value whole once it is complete (a string's text, else its JSON).
struct StreamChunk {
  std::string_view field;  ///< the output field's name (static storage: safe to keep)
  std::string text;
};

/// What receives the chunks: any callable as `f(const dspy::StreamChunk&)`.
using StreamCallback = std::function<void(const StreamChunk&)>;

template <class F>
concept StreamListener = std::invocable<F&, const StreamChunk&>;

template <class Output>
class Partial;

namespace detail {
template <class O, class Seq>
struct PartialFields;
template <class O, std::size_t... I>
struct PartialFields<O, std::index_sequence<I...>> {
  using type = std::tuple<std::optional<field_type<I, O>>...>;
};
template <class O>
void take_field(Partial<O>& partial, std::size_t i, O& from);
template <class O>
bool take_rest(Partial<O>& partial, const O& from);
}  // namespace detail

/// A streamed call's outputs so far: each field of Output an optional, empty until the reply has
/// moved past that field (or ended), then holding the field parsed as the adapter parses the whole
/// reply. Fields only go from empty to filled; the last Partial a listener sees holds the
/// prediction's outputs (its first completion's), unless the adapter's fallback answered.
template <class Output>
class Partial {
 public:
  using Fields = typename detail::PartialFields<Output, std::make_index_sequence<field_count<Output>>>::type;

  /// Field I, in declaration order.
  template <std::size_t I>
  [[nodiscard]] const std::optional<field_type<I, Output>>& get() const noexcept {
    static_assert(I < field_count<Output>, "dspy::Partial<Output>::get<I>: Output has fewer fields than I + 1.");
    return std::get<I>(fields_);
  }
  /// The field named `Name`: `partial.get<"answer">()`; a name Output lacks does not compile.
  template <FixedString Name>
  [[nodiscard]] const auto& get() const noexcept {
    constexpr std::size_t index = detail::field_index_of<Output>(Name.view());
    static_assert(index < field_count<Output>,
                  "dspy::Partial<Output>::get<Name>: Output has no field of that name (see Name below).");
    return std::get<index < field_count<Output> ? index : 0>(fields_);
  }
  /// All the fields, as a tuple of optionals.
  [[nodiscard]] const Fields& fields() const noexcept { return fields_; }
  /// How many fields are filled.
  [[nodiscard]] std::size_t filled() const noexcept {
    return std::apply([](const auto&... f) { return (std::size_t{0} + ... + (f ? 1U : 0U)); }, fields_);
  }

 private:
  template <class O>
  friend void detail::take_field(Partial<O>& partial, std::size_t i, O& from);
  template <class O>
  friend bool detail::take_rest(Partial<O>& partial, const O& from);

  Fields fields_;
};

/// A listener of typed partial outputs: callable as `f(const dspy::Partial<Output>&)`.
template <class F, class Output>
concept PartialListener = std::invocable<F&, const Partial<Output>&>;

/// Where a FieldStream sends what it reads.
struct FieldSink {
  /// Each output field's text in pieces; empty: not wanted.
  StreamCallback on_chunk{};
  /// Set: the signature's Output (default-constructed), into which each output field is parsed
  /// once complete, as the adapter parses it in the whole reply; then `on_field(i)` is told. A
  /// field whose text does not parse is left as it is and not told.
  void* outputs = nullptr;
  std::function<void(std::size_t field)> on_field{};
};

/// Reads a reply as it arrives and hands out its output fields: what an adapter that streams
/// fields returns from Adapter::stream_fields.
class FieldStream {
 public:
  virtual ~FieldStream() = default;
  /// The next piece of the reply's text.
  virtual void feed(std::string_view text) = 0;
  /// The reply is complete.
  virtual void finish() = 0;
};

namespace detail {

template <class O>
void take_field(Partial<O>& partial, std::size_t i, O& from) {
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    ((I == i ? void(std::get<I>(partial.fields_).emplace(std::move(get_field<I>(from)))) : void()), ...);
  }(std::make_index_sequence<field_count<O>>{});
}

// Fills the fields still empty from the parsed outputs; whether any was.
template <class O>
bool take_rest(Partial<O>& partial, const O& from) {
  bool any = false;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (
        [&] {
          if (!std::get<I>(partial.fields_)) {
            std::get<I>(partial.fields_).emplace(get_field<I>(from));
            any = true;
          }
        }(),
        ...);
  }(std::make_index_sequence<field_count<O>>{});
  return any;
}

/// Splits a ChatAdapter reply arriving in pieces into output-field chunks, by the rules of
/// ChatAdapter::parse: a header is a whole line `[[ ## name ## ]]` (text after it on the line
/// belongs to the field); only the first section of each field counts; sections of unknown
/// names (`completed`) and text before the first header are dropped; a field's text is trimmed.
/// Leading whitespace is skipped and trailing whitespace held back until more text follows, so
/// the chunks concatenate to exactly the parsed text. A field is complete at the next header or
/// the end.
class FieldStreamer final : public FieldStream {
 public:
  FieldStreamer(const SignatureView& sig, FieldSink sink) : sig_(&sig), sink_(std::move(sink)) {}

  DSPY_DECL void feed(std::string_view text) override;

  /// The reply is complete: a last line without a newline is read, and the last field closed.
  DSPY_DECL void finish() override;

 private:
  static std::string_view trim_front(std::string_view s) {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    return s;
  }
  static bool could_be_header(std::string_view s) { return s.front() == '[' && (s.size() < 2 || s[1] == '['); }

  DSPY_DECL void end_line();

  // Text of the current section (dropped outside a field's first section).
  DSPY_DECL void section(std::string_view text);
  // The current field's text is complete: parsed into the sink's outputs.
  DSPY_DECL void close();

  const SignatureView* sig_;
  FieldSink sink_;
  std::size_t current_ = static_cast<std::size_t>(-1);  // no field yet
  std::uint64_t seen_ = 0;
  std::string line_;      // a line that may be a header, read until its end
  bool deciding_ = true;  // at the start of a line that may be a header
  bool started_ = false;  // the section has shown non-space text
  std::string held_;      // trailing whitespace, sent once more text follows
  std::string text_;      // the current field's text, with the sink's outputs set
};

/// Splits a JSONAdapter reply arriving in pieces into its top-level object's members: text up to
/// the first `{` is skipped; each member of an output field (its first) is complete at the `,` or
/// `}` after its value, and is then parsed as JSONAdapter::parse reads it (a JSON string as the
/// field's text, anything else as JSON) and sent as one chunk (a string's text, else the JSON).
/// A value that is not strict JSON is left to the parse of the whole reply.
class JsonFieldStreamer final : public FieldStream {
 public:
  JsonFieldStreamer(const SignatureView& sig, FieldSink sink) : sig_(&sig), sink_(std::move(sink)) {}

  DSPY_DECL void feed(std::string_view text) override;
  DSPY_DECL void finish() override;

 private:
  enum class State : std::uint8_t { before, key, in_key, colon, value, done };
  DSPY_DECL void member();

  const SignatureView* sig_;
  FieldSink sink_;
  State state_ = State::before;
  std::string key_;    // the member's key, as JSON text with its quotes
  std::string value_;  // the member's value, as JSON text
  std::size_t depth_ = 0;
  bool in_string_ = false;
  bool escaped_ = false;
  std::uint64_t seen_ = 0;
};

}  // namespace detail

}  // namespace dspy

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "streaming_impl.hpp"
#endif
