// The bodies of detail::TwoStepAdapterImpl (two_step_adapter.hpp): header-only,
// two_step_adapter.hpp includes them; with DSPY_SEPARATE_COMPILATION, <dspy/src.hpp> compiles them once.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../detail/text/pytext.hpp"
#include "../primitives/error.hpp"
#include "chat_adapter.hpp"
#include "signature_view.hpp"
#include "two_step_adapter.hpp"
#include "utils.hpp"

namespace dspy::detail {

DSPY_DECL std::string TwoStepAdapterImpl::format_field_description(const SignatureView& sig) const {
  return "You are a helpful assistant that can solve tasks based on user input.\nAs input, you will be provided "
         "with:\n" +
         field_lines(sig.meta->inputs);
}

DSPY_DECL std::string TwoStepAdapterImpl::format_field_structure(const SignatureView& sig) const {
  return "Your outputs must contain:\n" + field_lines(sig.meta->outputs);
}

DSPY_DECL std::string TwoStepAdapterImpl::format_task_description(std::string_view instructions) const {
  std::string s = "You should lay out your outputs in detail so that your answer can be understood by another agent";
  if (!instructions.empty()) (s += "\nSpecific instructions: ") += instructions;
  return s;
}

// `name: value` with the value as Python's str() writes it (a list as ['a']).
inline void append_py_field(std::string& out, const FieldValues& values, std::size_t i) {
  const boost::json::value v = values.to_json(i);
  out += values.name(i);
  out += ": ";
  out += py_str(&v);
}

DSPY_DECL std::string TwoStepAdapterImpl::format_user_message_content(const SignatureView& /*sig*/,
                                                                      const FieldValues& inputs,
                                                                      std::string_view prefix,
                                                                      std::string_view requirements) const {
  return user_message_content(inputs, prefix, requirements, append_py_field);
}

DSPY_DECL std::string TwoStepAdapterImpl::format_assistant_message_content(
    const SignatureView& /*sig*/, const FieldValues& outputs, std::string_view /*missing_field_message*/) const {
  // Only the outputs a demo has: DSPy writes no placeholder for the others here.
  std::string s;
  for (std::size_t j = 0; j < outputs.size(); ++j) {
    if (!outputs.present(j)) continue;
    if (!s.empty()) s += "\n\n";
    append_py_field(s, outputs, j);
  }
  return strip_in_place(std::move(s));
}

DSPY_DECL std::optional<Error> TwoStepAdapterImpl::parse(const SignatureView& /*sig*/, std::string_view completion,
                                                         void* /*outputs*/, std::vector<ParseNote>* /*notes*/) const {
  return Error(Errc::config,
               "TwoStepAdapter reads a reply by calling its extraction LM, which only a predictor's call does: use "
               "it as a predictor's adapter (dspy::Predict, dspy::configure)",
               std::string(completion));
}

DSPY_DECL const TwoStepExtraction& TwoStepAdapterImpl::extraction(const SignatureView& sig) const {
  std::lock_guard lock(mutex_);
  for (const auto& [view, ex] : extractions_)
    if (view == &sig) return *ex;
  auto ex = std::make_unique<TwoStepExtraction>();
  ex->meta.inputs.push_back({"text", "str", {}, true, "{text}"});
  ex->meta.outputs = sig.meta->outputs;
  std::string fields;
  for (const FieldMeta& f : sig.meta->outputs) {
    if (!fields.empty()) fields += ", ";
    ((fields += '`') += f.name) += '`';
  }
  // DSPy's f-string continues onto an indented line with a backslash: 13 spaces come with it.
  ex->meta.default_instructions = "The input is a text that should contain all the necessary information to produce "
                                  "the fields " +
                                  fields +
                                  ".             Your job is to extract the fields from the text verbatim. Extract "
                                  "precisely the appropriate value (content) for each field.";
  // The outputs' operations are the original's; the one input is plain text.
  ex->view = sig;
  ex->view.meta = &ex->meta;
  ex->view.inputs = field_codecs<TwoStepExtraction::Input>(ex->meta.inputs);
  ex->view.has_parts = false;
  ex->view.history = ex->view.inputs.size();
  // The extraction asks for every output in text, native reasoning and citations included.
  ex->view.reasoning = ex->view.citations = ex->view.outputs.size();
  ex->view.without = nullptr;
  ex->chat = default_adapter()->prompt_parts(ex->view, ex->meta.default_instructions);
  extractions_.emplace_back(&sig, std::move(ex));
  return *extractions_.back().second;
}

// One completion of the main LM read by the extraction LM: a ChatAdapter call, then, if that
// reply does not parse, the ChatAdapter's JSONAdapter retry on the same LM.
class TwoStepReading final : public AdapterReading {
 public:
  TwoStepReading(const SignatureView& sig, const TwoStepExtraction& ex, LMHandle lm, std::string_view completion,
                 void* outputs, std::vector<ParseNote>* notes)
      : sig_(sig), ex_(ex), input_{std::string(completion)}, outputs_(outputs), notes_(notes) {
    if (!lm) {
      error_ = Error(Errc::config,
                     "TwoStepAdapter has no extraction LM: construct it as dspy::TwoStepAdapter{extraction_lm}");
      return;
    }
    ask(std::move(lm), ex_.chat);
  }

  AdapterCall* next_call() override { return call_ ? &*call_ : nullptr; }

  void take(Result<LMResponse> reply) override {
    LMHandle lm = std::move(call_->lm);
    call_.reset();
    if (!reply) {
      const Error& e = reply.error();
      error_ = Error(e.code(), "TwoStepAdapter's extraction step: the extraction LM failed: " + e.message(),
                     e.raw_response(), e.field());
      return;
    }
    if (reply->completions.empty()) {
      error_ = Error(Errc::bad_response, "TwoStepAdapter's extraction step: the extraction LM returned no "
                                         "completions (model " + reply->model + ")");
      return;
    }
    std::optional<Error> error = reader_->parse(ex_.view, reply->completions.front(), outputs_, notes_);
    if (!error) return;
    if (!retried_ && is_parse_error(error->code()))
      if (AdapterHandle fallback = reader_->fallback()) {
        retried_ = true;
        if (notes_)
          notes_->push_back({error->field(), "TwoStepAdapter: the " + std::string(reader_->name()) +
                                                 " could not parse the extraction LM's reply; retried with the " +
                                                 std::string(fallback->name())});
        reader_ = std::move(fallback);
        ask(std::move(lm), reader_->prompt_parts(ex_.view, ex_.meta.default_instructions));
        return;
      }
    error_ = parse_error(is_parse_error(error->code()) ? error->code() : Errc::parse_error, "TwoStepAdapter", sig_,
                         input_.text, "Failed to parse response from the original completion: " + error->message(),
                         nullptr, error->field());
  }

  std::optional<Error> result() override { return std::move(error_); }

 private:
  void ask(LMHandle lm, const PromptParts& parts) {
    call_.emplace(AdapterCall{std::move(lm), {}});
    call_->request.messages = reader_->format(ex_.view, parts, {}, FieldValues(ex_.view.inputs, &input_));
    reader_->configure_request(ex_.view, call_->request);
  }

  const SignatureView& sig_;
  const TwoStepExtraction& ex_;
  TwoStepExtraction::Input input_;
  void* outputs_;
  std::vector<ParseNote>* notes_;
  AdapterHandle reader_ = default_adapter();
  bool retried_ = false;
  std::optional<AdapterCall> call_;
  std::optional<Error> error_;
};

DSPY_DECL std::unique_ptr<AdapterReading> TwoStepAdapterImpl::read(const SignatureView& sig,
                                                                   std::string_view completion, void* outputs,
                                                                   std::vector<ParseNote>* notes) const {
  return std::make_unique<TwoStepReading>(sig, extraction(sig), extraction_lm_, completion, outputs, notes);
}

}  // namespace dspy::detail
