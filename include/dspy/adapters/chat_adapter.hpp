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

#include "../detail/config.hpp"
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
  /// DSPy's use_native_function_calling (off by default for this adapter) and parallel_tool_calls.
  bool use_native_function_calling = false;
  std::optional<bool> parallel_tool_calls{};
  using adapter_type = detail::ChatAdapterImpl;
};

namespace detail {

/// The JSONAdapter a ChatAdapter or XMLAdapter asks once more with: it keeps their native
/// function calling settings, as DSPy's does.
inline AdapterHandle json_fallback(bool native, std::optional<bool> parallel) {
  if (!native && !parallel) {
    static const AdapterHandle plain = JSONAdapter{.use_native_function_calling = false};
    return plain;
  }
  return JSONAdapter{.use_native_function_calling = native, .parallel_tool_calls = parallel};
}

class ChatAdapterImpl final : public Adapter {
 public:
  explicit ChatAdapterImpl(ChatAdapter options = {}) : options_(options) {}

  [[nodiscard]] std::string_view name() const noexcept override { return "ChatAdapter"; }

  [[nodiscard]] std::string format_field_structure(const SignatureView& sig) const override {
    return join_parts({kStructureIntro, marker_blocks(sig.meta->inputs), marker_blocks(sig.meta->outputs),
                       "[[ ## completed ## ]]\n"});
  }

  [[nodiscard]] DSPY_DECL std::string user_message_output_requirements(const SignatureView& sig) const override;

  void format_field_with_value(std::string& out, std::string_view name, std::string_view value) const override {
    append_marker_block(out, name, value);
  }

  [[nodiscard]] std::string format_user_message_content(const SignatureView& /*sig*/, const FieldValues& inputs,
                                                        std::string_view prefix,
                                                        std::string_view requirements) const override {
    return chat_user_message_content(inputs, prefix, requirements);
  }

  [[nodiscard]] DSPY_DECL std::string format_assistant_message_content(
      const SignatureView& /*sig*/, const FieldValues& outputs, std::string_view missing_field_message) const override;

  [[nodiscard]] DSPY_DECL std::optional<Error> parse(const SignatureView& sig, std::string_view completion,
                                                     void* outputs, std::vector<ParseNote>* notes) const override;

  [[nodiscard]] std::unique_ptr<FieldStream> stream_fields(const SignatureView& sig, FieldSink sink) const override {
    return std::make_unique<FieldStreamer>(sig, std::move(sink));
  }

  [[nodiscard]] AdapterHandle fallback() const override {
    if (!options_.use_json_adapter_fallback) return {};
    return json_fallback(options_.use_native_function_calling, options_.parallel_tool_calls);
  }

  [[nodiscard]] bool use_native_function_calling() const noexcept override {
    return options_.use_native_function_calling;
  }
  [[nodiscard]] std::optional<bool> parallel_tool_calls() const noexcept override {
    return options_.parallel_tool_calls;
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

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "chat_adapter_impl.hpp"
#endif
