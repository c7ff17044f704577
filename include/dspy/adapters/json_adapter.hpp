// dspy::JSONAdapter (DSPy's json_adapter.py): inputs as `[[ ## field ## ]]` blocks, outputs as one
// JSON object; asks the provider for structured output.
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
#include "streaming.hpp"

namespace dspy {

namespace detail {
class JSONAdapterImpl;
}

/// Outputs as one JSON object; asks the provider for structured output.
struct JSONAdapter {
  /// DSPy's default for the JSONAdapter: tools go to LMs that call functions natively.
  bool use_native_function_calling = true;
  std::optional<bool> parallel_tool_calls{};
  using adapter_type = detail::JSONAdapterImpl;
};

namespace detail {

class JSONAdapterImpl final : public Adapter {
 public:
  explicit JSONAdapterImpl(JSONAdapter options = {}) : options_(options) {}

  [[nodiscard]] std::string_view name() const noexcept override { return "JSONAdapter"; }

  [[nodiscard]] DSPY_DECL std::string format_field_structure(const SignatureView& sig) const override;

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
    return std::make_unique<JsonFieldStreamer>(sig, std::move(sink));
  }

  void configure_request(const SignatureView& sig, LMRequest& request) const override {
    request.response_format = sig.structured_response_format();
  }

  [[nodiscard]] bool use_native_function_calling() const noexcept override {
    return options_.use_native_function_calling;
  }
  [[nodiscard]] std::optional<bool> parallel_tool_calls() const noexcept override {
    return options_.parallel_tool_calls;
  }

 private:
  JSONAdapter options_;
};

}  // namespace detail

}  // namespace dspy

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "json_adapter_impl.hpp"
#endif
