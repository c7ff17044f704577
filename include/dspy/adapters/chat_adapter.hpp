// dspy::ChatAdapter (DSPy's chat_adapter.py), the default: every field in a `[[ ## field ## ]]`
// section, the reply ending with `[[ ## completed ## ]]`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base.hpp"
#include "json_adapter.hpp"
#include "streaming.hpp"

namespace dspy {

namespace detail {
class ChatAdapterImpl;
}

/// DSPy's default: `[[ ## field ## ]]` sections. On a parse failure Predict retries once with the
/// JSONAdapter unless `use_json_adapter_fallback` is false.
struct ChatAdapter {
  bool use_json_adapter_fallback = true;
  using adapter_type = detail::ChatAdapterImpl;
};

namespace detail {

class ChatAdapterImpl final : public Adapter {
 public:
  explicit ChatAdapterImpl(ChatAdapter options = {}) : options_(options) {}

  [[nodiscard]] std::string_view name() const noexcept override { return "ChatAdapter"; }

  [[nodiscard]] std::string format_field_structure(const SignatureView& sig) const override {
    return join_parts({kStructureIntro, marker_blocks(sig.meta->inputs), marker_blocks(sig.meta->outputs),
                       "[[ ## completed ## ]]\n"});
  }

  [[nodiscard]] std::string user_message_output_requirements(const SignatureView& sig) const override {
    std::string s = "Respond with the corresponding output fields, starting with the field ";
    for (std::size_t i = 0; i < sig.meta->outputs.size(); ++i) {
      if (i) s += ", then ";
      s += "`[[ ## ";
      s += sig.meta->outputs[i].name;
      s += " ## ]]`";
      s += type_info(sig.meta->outputs[i]);
    }
    return s + ", and then ending with the marker for `[[ ## completed ## ]]`.";
  }

  void format_field_with_value(std::string& out, std::string_view name, std::string_view value) const override {
    append_marker_block(out, name, value);
  }

  [[nodiscard]] std::string format_user_message_content(const SignatureView& /*sig*/, const FieldValues& inputs,
                                                        std::string_view prefix,
                                                        std::string_view requirements) const override {
    return chat_user_message_content(inputs, prefix, requirements);
  }

  [[nodiscard]] std::string format_assistant_message_content(const SignatureView& /*sig*/, const FieldValues& outputs,
                                                             std::string_view missing_field_message) const override {
    std::string s;
    for (std::size_t j = 0; j < outputs.size(); ++j) {
      if (j) s += "\n\n";
      append_marker_block(s, outputs.name(j), {});
      if (outputs.present(j)) outputs.render(j, s);
      else s += missing_field_message;
    }
    strip_in_place(std::move(s));
    s += "\n\n[[ ## completed ## ]]\n";
    return s;
  }

  // Each header opens a section; the first section of each output field is parsed when the next
  // header (or the end) closes it. Text before any header and unknown sections are ignored.
  [[nodiscard]] std::optional<Error> parse(const SignatureView& sig, std::string_view completion, void* outputs,
                                           std::vector<ParseNote>* notes) const override {
    const std::size_t n_out = sig.outputs.size();
    std::uint64_t seen = 0;
    std::size_t current = n_out;
    std::string text;
    std::optional<Error> error;
    const auto finish = [&] {
      if (current < n_out && !(seen >> current & 1U) && !error) {
        const std::string_view value = py_strip(text);
        const FieldCodec& field = sig.outputs[current];
        if (auto err = field.parse_text(value, outputs, ParseContext{notes, field.name()})) {
          error = field_parse_error(name(), sig, completion, current,
                                    "Failed to parse field " + std::string(field.name()) + " with value " +
                                        std::string(value) + " from the LM response. Error message: " + *err);
        }
        seen |= std::uint64_t{1} << current;
      }
      text.clear();
    };
    for (std::size_t pos = 0; pos < completion.size() && !error;) {
      std::size_t nl = completion.find('\n', pos);
      if (nl == std::string_view::npos) nl = completion.size();
      std::string_view line = completion.substr(pos, nl - pos);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      pos = nl + 1;
      const std::string_view stripped = py_strip(line);
      std::string_view header;
      std::size_t end = 0;
      if (match_chat_header(stripped, header, end)) {
        finish();
        current = sig.output_index(header);
        const std::string_view rest = py_strip(stripped.substr(end));
        text.assign(rest);
        if (!rest.empty()) text += '\n';
        continue;
      }
      if (current < n_out) {
        text += line;
        text += '\n';
      }
    }
    finish();
    if (error) return error;
    return check_complete(name(), sig, completion, seen);
  }

  [[nodiscard]] std::unique_ptr<FieldStream> stream_fields(const SignatureView& sig,
                                                           StreamCallback on_chunk) const override {
    return std::make_unique<FieldStreamer>(sig.output_names, std::move(on_chunk));
  }

  [[nodiscard]] AdapterHandle fallback() const override {
    if (!options_.use_json_adapter_fallback) return {};
    static const AdapterHandle json = JSONAdapter{};
    return json;
  }

 private:
  ChatAdapter options_;
};

/// The adapter of predictors and settings that name none.
inline const AdapterHandle& default_adapter() {
  static const AdapterHandle chat = ChatAdapter{};
  return chat;
}

}  // namespace detail

}  // namespace dspy
