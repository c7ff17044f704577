// dspy::Predict<Sig>: format the prompt, call the LM, parse the reply into Sig::Output.
//
// Predict<Sig> is a thin typed shell over detail::PredictCore, which does the work on erased
// values (the SignatureView's field operations): a program compiles the call path, the callbacks,
// the fallback and the saved state once, not once per signature. The core's bodies are in
// predict_impl.hpp (compiled once by <dspy/src.hpp> with DSPY_SEPARATE_COMPILATION).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "../adapters/adapter.hpp"
#include "../adapters/streaming.hpp"
#include "../clients/base_lm.hpp"
#include "../detail/config.hpp"
#include "../detail/exception.hpp"
#include "../detail/reflect.hpp"
#include "../detail/sync_wait.hpp"
#include "../primitives/callback.hpp"
#include "../primitives/error.hpp"
#include "../primitives/prediction.hpp"
#include "../primitives/predictor.hpp"
#include "../signatures/demo.hpp"
#include "../signatures/signature.hpp"

namespace dspy {

namespace detail {

// The prompt parts (system message, requirements) of one predictor for each adapter it meets,
// built by the adapter on first use: a call copies the system message instead of building it.
// Keyed by the adapter object, which an entry keeps alive so that its address is not reused; the
// oldest of a few entries gives way. Calls may run on many threads at once.
class PromptCache {
 public:
  PromptCache() = default;
  // A copy starts empty: it may get other instructions.
  PromptCache(const PromptCache& /*other*/) noexcept {}
  PromptCache& operator=(const PromptCache& other) noexcept {
    if (this != &other) clear();
    return *this;
  }

  DSPY_DECL std::shared_ptr<const PromptParts> get(const AdapterHandle& adapter, const SignatureView& sig,
                                                   std::string_view instructions) const;
  DSPY_DECL void clear() noexcept;

 private:
  static constexpr std::size_t kEntries = 4;
  struct Entry {
    AdapterHandle adapter;
    const SignatureView* sig;
    std::shared_ptr<const PromptParts> parts;
  };
  mutable std::mutex mutex_;
  mutable std::vector<Entry> entries_;
};

// Where a call's parsed completions go: a std::vector<Sig::Output>, erased.
struct OutputSlots {
  void* vector = nullptr;
  void (*resize)(void* vector, std::size_t n) = nullptr;
  void* (*at)(void* vector, std::size_t i) = nullptr;
};

template <class O>
OutputSlots output_slots(std::vector<O>& outputs) noexcept {
  return {&outputs, [](void* v, std::size_t n) { static_cast<std::vector<O>*>(v)->resize(n); },
          [](void* v, std::size_t i) -> void* { return &(*static_cast<std::vector<O>*>(v))[i]; }};
}

// Everything of a predictor that does not depend on its signature's types: instructions, LM,
// config, adapter, the saved state, and the call itself (request, callbacks, LM, parse, the
// adapter's fallback), on inputs and outputs erased to pointers described by the SignatureView.
class PredictCore : public PredictorBase {
 public:
  /// LM parameters for every call of this predictor; a call's own config overrides them.
  CallConfig config;
  /// The adapter; unset means the global one (dspy::configure).
  AdapterHandle adapter;
  /// Told about this predictor's calls (on_module_start/end) besides the settings' callbacks
  /// (DSPy's `callbacks=`). Not part of the saved state.
  std::vector<std::shared_ptr<Callback>> callbacks;

  [[nodiscard]] const std::string& instructions() const noexcept override { return instructions_; }
  DSPY_DECL void set_instructions(std::string instructions) override;
  /// The LM of this predictor; unset means the global one.
  void set_lm(LMHandle lm) override { lm_ = std::move(lm); }
  [[nodiscard]] const LMHandle& get_lm() const noexcept override { return lm_; }
  [[nodiscard]] const SignatureMeta& signature() const override { return *view_->meta; }
  [[nodiscard]] CallConfig& call_config() noexcept override { return config; }
  [[nodiscard]] const CallConfig& call_config() const noexcept override { return config; }

  /// `lm` is written as null: an LM's settings are the LM client's to save, and never its key.
  [[nodiscard]] DSPY_DECL boost::json::object dump_state() const override;
  DSPY_DECL Result<void> load_state(const boost::json::value& state) override;

 protected:
  DSPY_DECL PredictCore(const SignatureView& view, std::string_view type_name, std::string instructions);
  PredictCore(const PredictCore&) = default;
  PredictCore& operator=(const PredictCore&) = default;
  PredictCore(PredictCore&&) = default;
  PredictCore& operator=(PredictCore&&) = default;
  DSPY_DECL ~PredictCore() override;

  // The typed parts, which the signature's Predict provides.
  [[nodiscard]] virtual DemoList demo_list() const noexcept = 0;
  // Replaces the demos with these JSON objects (null: none), all or nothing.
  virtual Result<void> replace_demos(const boost::json::array* demos) = 0;
  // replace_demos's error for the demo at `index`.
  [[nodiscard]] DSPY_DECL static Error demo_error(std::size_t index, const Error& error);
  // The messages of a format hook, when one is set.
  virtual bool format_with_hook(const Adapter& adapter, const void* input, std::vector<Message>& out) const = 0;

  // The messages a call would send.
  [[nodiscard]] DSPY_DECL std::vector<Message> format_input(const void* input) const;
  // One prediction, blocking; its completions are parsed into `outputs`.
  DSPY_DECL Result<PredictionParts> predict(const void* input, const CallConfig& call, OutputSlots outputs) const;
  // One prediction on the current executor; `stream` without chunks or outputs: not streamed.
  DSPY_DECL asio::awaitable<Result<PredictionParts>> apredict(const void* input, CallConfig call, FieldSink stream,
                                                              OutputSlots outputs) const;

 private:
  struct Run;  // one prediction's steps, shared by the blocking and the async path

  // Builds the request for `lm`; returns the view it formats with (the signature's, or, when the
  // LM reasons natively, the signature without its dspy::Reasoning output).
  DSPY_DECL const SignatureView& make_request(const AdapterHandle& ad, const BaseLM* lm, const void* input,
                                              const CallConfig& call, LMRequest& request) const;

  const SignatureView* view_;
  std::string_view type_name_;
  std::string instructions_;
  PromptCache prompts_;
  LMHandle lm_;
};

}  // namespace detail

template <Signature Sig>
class Predict final : public detail::PredictCore {
  static_assert(validate_signature<Sig>());

 public:
  using signature_type = Sig;
  using Input = typename Sig::Input;
  using Output = typename Sig::Output;
  using result_type = Result<Predicted<Output>>;

  /// Worked examples shown before the input (DSPy's `demos`).
  std::vector<Demo<Sig>> demos;
  /// When set, renders each call's messages in place of the adapter (given the adapter, the
  /// instructions, the demos and the input). Refine sets it on its per-attempt copies to show
  /// DSPy's extra `hint_` input field. Not part of the saved state.
  std::function<std::vector<Message>(const Adapter&, const std::string&, std::span<const Demo<Sig>>, const Input&)>
      format_hook;

  Predict() : Predict(signature_meta<Sig>().default_instructions) {}
  explicit Predict(std::string instructions)
      : PredictCore(signature_view<Sig>(), type_name_of<Sig>, std::move(instructions)) {}

  [[nodiscard]] std::size_t demo_count() const noexcept override { return demos.size(); }
  void reset() override { demos.clear(); }

  /// The messages a call would send, without calling an LM.
  [[nodiscard]] std::vector<Message> format(const Input& input) const { return format_input(&input); }

  /// Calls the LM and waits. Never throws: errors come back in the Result.
  result_type operator()(const Input& input, const CallConfig& call = {}) const {
    std::vector<Output> outputs;
    Result<detail::PredictionParts> parts = predict(&input, call, detail::output_slots(outputs));
    return predicted(std::move(parts), std::move(outputs));
  }

  /// Calls the LM asynchronously. The predictor must outlive the returned awaitable. Settings
  /// come from the coroutine's executor when it carries some (dspy::with_context).
  asio::awaitable<result_type> acall(Input input, CallConfig call = {}) const {
    return respond(std::move(input), std::move(call), {});
  }

  /// acall, streamed: with an adapter that streams fields (ChatAdapter, JSONAdapter) the listener
  /// hears of the reply as the LM writes it (see streaming.hpp), either as
  /// `f(const dspy::StreamChunk&)`, each output field's text in pieces, or as
  /// `f(const dspy::Partial<Output>&)`, the outputs so far, typed, each time a field completes
  /// (and once more at the end for fields filled otherwise, e.g. a native dspy::Reasoning). The
  /// result is the parsed prediction, as acall's. Other adapters, and the fallback's retry after a
  /// parse failure, give no chunks. The listener runs on the I/O thread: keep it short.
  template <class F>
  asio::awaitable<result_type> astream(Input input, F listener, CallConfig call = {}) const {
    if constexpr (StreamListener<F>) {
      return respond(std::move(input), std::move(call), FieldSink{.on_chunk = StreamCallback(std::move(listener))});
    } else if constexpr (PartialListener<F, Output>) {
      return respond_partial(std::move(input), std::move(call), std::move(listener));
    } else {
      static_assert(detail::always_false<F>,
                    "astream/stream: the listener must be callable as f(const dspy::StreamChunk&) or as "
                    "f(const dspy::Partial<Output>&) with the predictor's Output");
      return respond(std::move(input), std::move(call), {});
    }
  }

  /// astream, blocking the calling thread until the prediction is complete.
  template <class F>
  result_type stream(const Input& input, F listener, const CallConfig& call = {}) const {
    return detail::sync_wait(astream(input, std::move(listener), call));
  }

 private:
  // acall's and astream's body. The call and the co_await are separate statements: GCC 12
  // destroys temporaries of a co_await expression twice (bug 100611).
  asio::awaitable<result_type> respond(Input input, CallConfig call, FieldSink stream) const {
    std::vector<Output> outputs;
    auto pending = apredict(&input, std::move(call), std::move(stream), detail::output_slots(outputs));
    Result<detail::PredictionParts> parts = co_await std::move(pending);
    co_return predicted(std::move(parts), std::move(outputs));
  }

  // astream's body with a Partial listener: the stream parses each complete field into `scratch`,
  // from where it moves into the Partial.
  template <class F>
  asio::awaitable<result_type> respond_partial(Input input, CallConfig call, F listener) const {
    Output scratch{};
    Partial<Output> partial;
    std::vector<Output> outputs;
    FieldSink stream{.outputs = &scratch, .on_field = [&](std::size_t i) {
                       detail::take_field(partial, i, scratch);
                       listener(std::as_const(partial));
                     }};
    auto pending = apredict(&input, std::move(call), std::move(stream), detail::output_slots(outputs));
    Result<detail::PredictionParts> parts = co_await std::move(pending);
    // Fields the stream did not fill (native outputs, a fallback's reply) arrive with the result.
    if (parts && !outputs.empty() && detail::take_rest(partial, outputs.front())) {
      try {
        listener(std::as_const(partial));
      } catch (...) {
        parts = error_from_exception(std::current_exception());
      }
    }
    co_return predicted(std::move(parts), std::move(outputs));
  }

  static result_type predicted(Result<detail::PredictionParts>&& parts, std::vector<Output>&& outputs) {
    if (!parts) return std::move(parts).error();
    return Predicted<Output>(std::move(outputs), std::move(*parts));
  }

  [[nodiscard]] DemoList demo_list() const noexcept override { return std::span<const Demo<Sig>>(demos); }

  Result<void> replace_demos(const boost::json::array* items) override {
    std::vector<Demo<Sig>> loaded;
    if (items) {
      loaded.reserve(items->size());
      for (std::size_t i = 0; i < items->size(); ++i) {
        auto demo = demo_from_json<Sig>((*items)[i].get_object());
        if (!demo) return demo_error(i, demo.error());
        loaded.push_back(std::move(*demo));
      }
    }
    demos = std::move(loaded);
    return {};
  }

  bool format_with_hook(const Adapter& ad, const void* input, std::vector<Message>& out) const override {
    if (!format_hook) return false;
    out = format_hook(ad, instructions(), std::span<const Demo<Sig>>(demos), *static_cast<const Input*>(input));
    return true;
  }
};

}  // namespace dspy

// The core's bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "predict_impl.hpp"
#endif
