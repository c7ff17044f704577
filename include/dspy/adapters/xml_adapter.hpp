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

namespace dspy {

namespace detail {
class XMLAdapterImpl;
}

/// Fields as XML elements (`<answer>...</answer>`), nested XML for lists, maps and structs.
struct XMLAdapter {
  using adapter_type = detail::XMLAdapterImpl;
};

namespace detail {

class XMLAdapterImpl final : public Adapter {
 public:
  explicit XMLAdapterImpl(XMLAdapter /*options*/ = {}) {}

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
};

}  // namespace detail

}  // namespace dspy

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "xml_adapter_impl.hpp"
#endif
