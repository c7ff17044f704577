// dspy::TwoStepAdapter (DSPy's two_step_adapter.py): the main LM answers in free form; a
// ChatAdapter on a second, extraction LM then fills the typed outputs from that answer. For
// reasoning models, which do better without a rigid output format.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../detail/config.hpp"
#include "../detail/reflect.hpp"
#include "../primitives/lm_handle.hpp"
#include "base.hpp"

namespace dspy {

namespace detail {
class TwoStepAdapterImpl;
}

/// The main LM answers freely; `extraction_lm` fills the outputs from its answer (a ChatAdapter
/// call on the signature `text -> <the outputs>`, with the JSONAdapter retry).
/// `predict.adapter = dspy::TwoStepAdapter{extraction_lm};`
struct TwoStepAdapter {
  using adapter_type = detail::TwoStepAdapterImpl;

  /// The LM that reads the main LM's answer into the outputs.
  LMHandle extraction_lm;

  explicit TwoStepAdapter(LMHandle lm) : extraction_lm(std::move(lm)) {}

  template <class Missing = void>
  TwoStepAdapter() {
    static_assert(detail::always_false<Missing>,
                  "dspy::TwoStepAdapter needs the LM that extracts the outputs: write "
                  "dspy::TwoStepAdapter{extraction_lm}");
  }
};

namespace detail {

/// The signature the extraction LM sees: `text` (the main LM's answer) in, the original outputs
/// out (the same field operations, so the values land in the original Output).
struct TwoStepExtraction {
  struct Input {
    std::string text;
  };
  SignatureMeta meta;
  SignatureView view;
  PromptParts chat;  ///< the ChatAdapter's prompt parts for it
};

class TwoStepAdapterImpl final : public Adapter {
 public:
  explicit TwoStepAdapterImpl(TwoStepAdapter options) : extraction_lm_(std::move(options.extraction_lm)) {}

  [[nodiscard]] std::string_view name() const noexcept override { return "TwoStepAdapter"; }

  // The main LM's system message, lines joined by "\n": a free-form task, not a format.
  [[nodiscard]] DSPY_DECL std::string format_field_description(const SignatureView& sig) const override;
  [[nodiscard]] DSPY_DECL std::string format_field_structure(const SignatureView& sig) const override;
  [[nodiscard]] DSPY_DECL std::string format_task_description(std::string_view instructions) const override;

  void format_field_with_value(std::string& out, std::string_view name, std::string_view value) const override {
    ((out += name) += ": ") += value;
  }

  [[nodiscard]] DSPY_DECL std::string format_user_message_content(const SignatureView& sig, const FieldValues& inputs,
                                                                  std::string_view prefix,
                                                                  std::string_view requirements) const override;

  [[nodiscard]] DSPY_DECL std::string format_assistant_message_content(
      const SignatureView& sig, const FieldValues& outputs, std::string_view missing_field_message) const override;

  /// The answer is read by the extraction LM (read()); without an LM call there is nothing to read it.
  [[nodiscard]] DSPY_DECL std::optional<Error> parse(const SignatureView& sig, std::string_view completion,
                                                     void* outputs, std::vector<ParseNote>* notes) const override;

  [[nodiscard]] DSPY_DECL std::unique_ptr<AdapterReading> read(const SignatureView& sig, std::string_view completion,
                                                               void* outputs,
                                                               std::vector<ParseNote>* notes) const override;

  /// The extraction signature of `sig`, built on first use.
  [[nodiscard]] DSPY_DECL const TwoStepExtraction& extraction(const SignatureView& sig) const;

 private:
  LMHandle extraction_lm_;
  mutable std::mutex mutex_;
  mutable std::vector<std::pair<const SignatureView*, std::unique_ptr<const TwoStepExtraction>>> extractions_;
};

}  // namespace detail

}  // namespace dspy

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "two_step_adapter_impl.hpp"
#endif
