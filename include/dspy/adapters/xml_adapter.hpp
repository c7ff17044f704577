// dspy::XMLAdapter (DSPy's xml_adapter.py): fields as XML elements (`<answer>...</answer>`),
// nested XML for list, map and struct outputs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "../detail/config.hpp"
#include "../detail/text/xml.hpp"
#include "base.hpp"
#include "chat_adapter.hpp"

namespace dspy {

namespace detail {
class XMLAdapterImpl;
}

/// Fields as XML elements (`<answer>...</answer>`), nested XML for lists, maps and structs. As
/// DSPy's XMLAdapter (a ChatAdapter), a reply it cannot parse is asked once more with the
/// JSONAdapter unless `use_json_adapter_fallback` is false.
struct XMLAdapter {
  bool use_json_adapter_fallback = true;
  /// DSPy's use_native_function_calling (off by default for this adapter) and parallel_tool_calls.
  bool use_native_function_calling = false;
  std::optional<bool> parallel_tool_calls{};
  using adapter_type = detail::XMLAdapterImpl;
};

namespace detail {

/// One output field with its value as the XMLAdapter writes it into an assistant message (demos,
/// and conversation history, whose values are JSON): compact nested XML for a list, map or struct
/// output, else `<name>\nvalue\n</name>` with a str output's `&` and `<` escaped.
DSPY_DECL void append_xml_output(std::string& out, const FieldCodec& field, const boost::json::value& value);

/// How pydantic prints an annotation: DSPy's `Optional[X]` is `Union[X, NoneType]` (DSPy's
/// field errors name the field by it).
[[nodiscard]] DSPY_DECL std::string pydantic_annotation(std::string_view type_name);

class XMLAdapterImpl final : public Adapter {
 public:
  explicit XMLAdapterImpl(XMLAdapter options = {}) : options_(options) {}

  [[nodiscard]] std::string_view name() const noexcept override { return "XMLAdapter"; }

  [[nodiscard]] DSPY_DECL std::string format_field_structure(const SignatureView& sig) const override;

  [[nodiscard]] DSPY_DECL std::string user_message_output_requirements(const SignatureView& sig) const override;

  void format_field_with_value(std::string& out, std::string_view name, std::string_view value) const override {
    append_xml_block(out, name, value);
  }

  [[nodiscard]] DSPY_DECL std::string format_user_message_content(const SignatureView& /*sig*/,
                                                                  const FieldValues& inputs, std::string_view prefix,
                                                                  std::string_view requirements) const override;

  [[nodiscard]] DSPY_DECL std::string format_assistant_message_content(
      const SignatureView& /*sig*/, const FieldValues& outputs, std::string_view missing_field_message) const override;

  [[nodiscard]] DSPY_DECL std::optional<Error> parse(const SignatureView& sig, std::string_view completion,
                                                     void* outputs, std::vector<ParseNote>* notes) const override;

  [[nodiscard]] AdapterHandle fallback() const override {
    // The ChatAdapter's: the JSONAdapter.
    return options_.use_json_adapter_fallback
               ? json_fallback(options_.use_native_function_calling, options_.parallel_tool_calls)
               : AdapterHandle{};
  }

  [[nodiscard]] bool use_native_function_calling() const noexcept override {
    return options_.use_native_function_calling;
  }
  [[nodiscard]] std::optional<bool> parallel_tool_calls() const noexcept override {
    return options_.parallel_tool_calls;
  }

 private:
  XMLAdapter options_;
};

}  // namespace detail

}  // namespace dspy

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "xml_adapter_impl.hpp"
#endif
