// dspy::Adapter, DSPy's dspy.adapters.base.Adapter: turns a signature, demos and inputs into chat
// messages and a completion back into the signature's outputs. Adapters work on any signature
// through its SignatureView; Predict holds one through an AdapterHandle without knowing which.
//
// A new adapter derives from dspy::Adapter and implements name, format_field_structure,
// format_field_with_value, format_assistant_message_content and parse; the rest has DSPy's
// defaults. `dspy::configure({.adapter = MyAdapter{}})` or `predict.adapter = MyAdapter{}` use it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "../detail/config.hpp"
#include "../primitives/adapter_handle.hpp"
#include "../primitives/error.hpp"
#include "../primitives/lm_handle.hpp"
#include "../primitives/message.hpp"
#include "signature_view.hpp"
#include "streaming.hpp"
#include "utils.hpp"

namespace dspy {

/// What the prompts of one signature and instructions share whatever the inputs and demos: built
/// once per adapter by Adapter::prompt_parts (Predict keeps them while adapter and instructions stay).
struct PromptParts {
  Content system;            ///< the system message (shared: the same in every call)
  std::string requirements;  ///< user_message_output_requirements, ending the final user message
};

/// An LM call an adapter makes itself (TwoStepAdapter's extraction).
struct AdapterCall {
  LMHandle lm;
  LMRequest request;
};

/// One completion read with LM calls of the adapter's own. Adapters do not call LMs: Predict
/// makes each call under the prediction's settings, on its blocking or its async path:
///   while (AdapterCall* call = reading.next_call()) reading.take(<call->lm's reply to call->request>);
/// then result() is the error, or nullopt with the outputs filled.
class AdapterReading {
 public:
  virtual ~AdapterReading() = default;
  /// The next call to make; null once the reading has its result.
  [[nodiscard]] virtual AdapterCall* next_call() = 0;
  /// The reply to the call next_call() gave.
  virtual void take(Result<LMResponse> reply) = 0;
  [[nodiscard]] virtual std::optional<Error> result() = 0;
};

class Adapter {
 public:
  virtual ~Adapter() = default;

  /// DSPy's class name ("ChatAdapter") in static storage: callbacks, parse errors and
  /// Predicted::adapter() show it.
  [[nodiscard]] virtual std::string_view name() const noexcept = 0;

  // ---- the system message: field description, field structure, task description ----

  /// "Your input fields are: ..." with each field's DSPy type and doc.
  [[nodiscard]] virtual std::string format_field_description(const SignatureView& sig) const {
    return detail::field_description(*sig.meta);
  }
  /// How inputs and outputs are laid out in the conversation.
  [[nodiscard]] virtual std::string format_field_structure(const SignatureView& sig) const = 0;
  /// "In adhering to this structure, your objective is: " and the instructions.
  [[nodiscard]] virtual std::string format_task_description(std::string_view instructions) const {
    return detail::task_description(instructions);
  }
  /// The reminder that ends the final user message; empty: none.
  [[nodiscard]] virtual std::string user_message_output_requirements(const SignatureView& /*sig*/) const { return {}; }

  /// The system message (the three parts on their own lines) and the requirements.
  [[nodiscard]] PromptParts prompt_parts(const SignatureView& sig, std::string_view instructions) const {
    return {Content::shared(format_field_description(sig) + "\n" + format_field_structure(sig) + "\n" +
                            format_task_description(instructions)),
            user_message_output_requirements(sig)};
  }

  // ---- the conversation ----

  /// Appends one input field with its value as this adapter writes it (ChatAdapter:
  /// `[[ ## name ## ]]\nvalue`); ReAct writes its trajectory with it.
  virtual void format_field_with_value(std::string& out, std::string_view name, std::string_view value) const = 0;
  /// DSPy's format_user_message_content: `prefix`, each present input field, then `requirements`,
  /// joined by blank lines and stripped.
  [[nodiscard]] DSPY_DECL virtual std::string format_user_message_content(const SignatureView& /*sig*/,
                                                                          const FieldValues& inputs,
                                                                          std::string_view prefix,
                                                                          std::string_view requirements) const;
  /// A demo's outputs as the LM should write them; a field left out reads `missing_field_message`.
  [[nodiscard]] virtual std::string format_assistant_message_content(const SignatureView& sig, const FieldValues& outputs,
                                                                     std::string_view missing_field_message) const = 0;
  /// DSPy's format_demos: incomplete demos first, with the "not supplied" wording, then complete
  /// ones; demos without any input or without any output are dropped.
  DSPY_DECL virtual void format_demos(const SignatureView& sig, const DemoList& demos,
                                      std::vector<Message>& messages) const;
  /// DSPy's format_conversation_history: per turn of a dspy::History (field name -> value), a
  /// user message with its inputs (left out if it has none) and an assistant message with its
  /// outputs (an output the turn lacks reads None).
  DSPY_DECL virtual void format_conversation_history(const SignatureView& sig, const boost::json::array& turns,
                                                     std::vector<Message>& messages) const;
  /// DSPy's Adapter.format: the system message, the demos, the history's turns, then the inputs
  /// with the requirements. User messages holding images, audio, files or documents are cut into
  /// content parts.
  [[nodiscard]] DSPY_DECL virtual std::vector<Message> format(const SignatureView& sig, const PromptParts& parts,
                                                              const DemoList& demos, const FieldValues& inputs) const;

  // ---- the reply ----

  /// Reads a completion into `outputs` (the signature's Output, default-constructed): a parse
  /// error as DSPy words it (detail::parse_error), or nullopt.
  [[nodiscard]] virtual std::optional<Error> parse(const SignatureView& sig, std::string_view completion, void* outputs,
                                                   std::vector<ParseNote>* notes) const = 0;
  /// An adapter that reads a completion with LM calls of its own (TwoStepAdapter) returns the
  /// reading, which Predict drives in place of parse(); null (every other adapter): parse() reads it.
  [[nodiscard]] virtual std::unique_ptr<AdapterReading> read(const SignatureView& /*sig*/,
                                                             std::string_view /*completion*/, void* /*outputs*/,
                                                             std::vector<ParseNote>* /*notes*/) const {
    return nullptr;
  }
  /// Reads a reply that arrives in pieces into output-field chunks and fields parsed as they
  /// complete (Predict::astream); null: this adapter does not stream fields.
  [[nodiscard]] virtual std::unique_ptr<FieldStream> stream_fields(const SignatureView& /*sig*/,
                                                                   FieldSink /*sink*/) const {
    return nullptr;
  }

  // ---- the request and the retry ----

  /// Adds this adapter's options to a request (JSONAdapter: the structured-output `response_format`).
  virtual void configure_request(const SignatureView& /*sig*/, LMRequest& /*request*/) const {}
  /// DSPy's use_native_function_calling: with a dspy::ToolCalls output and an LM whose
  /// capabilities say function_calling, the tools input goes to the LM as the request's `tools`
  /// and the calls come back from the reply's own tool calls.
  [[nodiscard]] virtual bool use_native_function_calling() const noexcept { return false; }
  /// DSPy's parallel_tool_calls, sent with native tool calls when set.
  [[nodiscard]] virtual std::optional<bool> parallel_tool_calls() const noexcept { return std::nullopt; }
  /// The adapter that asks once more when this one cannot parse a reply (ChatAdapter: the
  /// JSONAdapter); null: none.
  [[nodiscard]] virtual AdapterHandle fallback() const { return {}; }

 protected:
  Adapter() = default;
  Adapter(const Adapter&) = default;
  Adapter& operator=(const Adapter&) = default;
};

}  // namespace dspy

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "base_impl.hpp"
#endif
