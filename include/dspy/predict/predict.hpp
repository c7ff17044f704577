// dspy::Predict<Sig>: format the prompt, call the LM, parse the reply into Sig::Output.
#pragma once

#include <chrono>
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
#include <boost/asio/this_coro.hpp>

#include "../adapters/adapter.hpp"
#include "../signatures/demo.hpp"
#include "../primitives/error.hpp"
#include "../clients/base_lm.hpp"
#include "../primitives/prediction.hpp"
#include "../primitives/predictor.hpp"
#include "../primitives/callback.hpp"
#include "../primitives/settings.hpp"
#include "../signatures/signature.hpp"
#include "../adapters/streaming.hpp"
#include "../detail/sync_wait.hpp"
#include "../detail/text/utf8.hpp"

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

  std::shared_ptr<const PromptParts> get(const AdapterHandle& adapter, const SignatureView& sig,
                                         std::string_view instructions) const {
    {
      std::lock_guard lock(mutex_);
      for (const auto& e : entries_)
        if (e.adapter == adapter) return e.parts;
    }
    auto parts = std::make_shared<const PromptParts>(adapter->prompt_parts(sig, instructions));
    std::lock_guard lock(mutex_);
    if (entries_.size() == kEntries) entries_.erase(entries_.begin());
    entries_.push_back({adapter, parts});
    return parts;
  }

  void clear() noexcept {
    std::lock_guard lock(mutex_);
    entries_.clear();
  }

 private:
  static constexpr std::size_t kEntries = 4;
  struct Entry {
    AdapterHandle adapter;
    std::shared_ptr<const PromptParts> parts;
  };
  mutable std::mutex mutex_;
  mutable std::vector<Entry> entries_;
};

// Which input or demo field of a request holds text that is not UTF-8 (JSON cannot carry it, so
// the request body would be invalid): an error naming it, or the message, and the bad byte.
inline Error invalid_utf8_error(const FieldValues& input, const DemoList& demos, const std::vector<Message>& messages) {
  std::string text;
  const auto find = [&](const FieldValues& values, std::size_t i) {
    if (!values.present(i)) return std::string_view::npos;
    text.clear();
    values.render(i, text);
    return find_invalid_utf8(text);
  };
  const auto error = [&](const std::string& where, std::string_view field, std::size_t at) {
    return Error(Errc::bad_request,
                 where + " `" + std::string(field) + "` holds " + describe_invalid_utf8(text, at) +
                     " of its text; JSON carries only UTF-8, so the request was not sent",
                 {}, std::string(field));
  };
  for (std::size_t i = 0; i < input.size(); ++i)
    if (const std::size_t at = find(input, i); at != std::string_view::npos)
      return error("input field", input.name(i), at);
  for (std::size_t k = 0; k < demos.size(); ++k) {
    const DemoView demo = demos[k];
    for (const FieldValues* values : {&demo.inputs, &demo.outputs})
      for (std::size_t i = 0; i < values->size(); ++i)
        if (const std::size_t at = find(*values, i); at != std::string_view::npos)
          return error("demos[" + std::to_string(k) + "] field", values->name(i), at);
  }
  // Not from a field: a format hook's own text.
  for (std::size_t k = 0; k < messages.size(); ++k)
    if (const std::size_t at = find_invalid_utf8(messages[k].content); at != std::string_view::npos)
      return Error(Errc::bad_request, "message " + std::to_string(k) + " (" + messages[k].role + ") holds " +
                                          describe_invalid_utf8(messages[k].content, at) +
                                          "; JSON carries only UTF-8, so the request was not sent");
  return Error(Errc::bad_request, "the request holds text that is not UTF-8; it was not sent");
}

}  // namespace detail

template <Signature Sig>
class Predict final : public PredictorBase {
  static_assert(validate_signature<Sig>());

 public:
  using signature_type = Sig;
  using Input = typename Sig::Input;
  using Output = typename Sig::Output;
  using result_type = Result<Predicted<Output>>;

  /// Worked examples shown before the input (DSPy's `demos`).
  std::vector<Demo<Sig>> demos;
  /// LM parameters for every call of this predictor; a call's own config overrides them.
  CallConfig config;
  /// The adapter; unset means the global one (dspy::configure).
  AdapterHandle adapter;
  /// When set, renders each call's messages in place of the adapter (given the adapter, the
  /// instructions, the demos and the input). Refine sets it on its per-attempt copies to show
  /// DSPy's extra `hint_` input field. Not part of the saved state.
  std::function<std::vector<Message>(const Adapter&, const std::string&, std::span<const Demo<Sig>>, const Input&)>
      format_hook;
  /// When set, sees the input and prediction of every successful call (DSPy's trace entry); Refine
  /// reads an attempt's trajectory from it. Not part of the saved state.
  std::function<void(const Input&, const Predicted<Output>&)> trace_hook;

  Predict() : Predict(signature_meta<Sig>().default_instructions) {}
  explicit Predict(std::string instructions) { set_instructions(std::move(instructions)); }

  [[nodiscard]] const std::string& instructions() const noexcept override { return instructions_; }
  void set_instructions(std::string instructions) override {
    instructions_ = std::move(instructions);
    prompts_.clear();
  }

  /// The LM of this predictor; unset means the global one.
  void set_lm(LMHandle lm) override { lm_ = std::move(lm); }
  [[nodiscard]] const LMHandle& get_lm() const noexcept override { return lm_; }
  [[nodiscard]] const SignatureMeta& signature() const override { return signature_meta<Sig>(); }
  [[nodiscard]] CallConfig& call_config() noexcept override { return config; }
  [[nodiscard]] const CallConfig& call_config() const noexcept override { return config; }
  [[nodiscard]] std::size_t demo_count() const noexcept override { return demos.size(); }
  void reset() override { demos.clear(); }

  /// `lm` is written as null: an LM's settings are the LM client's to save, and never its key.
  [[nodiscard]] boost::json::object dump_state() const override {
    boost::json::array demo_states;
    for (const auto& d : demos) demo_states.push_back(demo_to_json(d));
    boost::json::array fields;
    const SignatureMeta& meta = signature_meta<Sig>();
    for (const auto* group : {&meta.inputs, &meta.outputs})
      for (const auto& f : *group)
        fields.push_back({{"prefix", infer_prefix(f.name) + ":"},
                          {"description", f.desc.empty() ? "${" + std::string(f.name) + "}" : std::string(f.desc)}});
    return {{"traces", boost::json::array{}},
            {"train", boost::json::array{}},
            {"demos", std::move(demo_states)},
            {"signature", {{"instructions", instructions_}, {"fields", std::move(fields)}}},
            {"lm", nullptr}};
  }

  Result<void> load_state(const boost::json::value& state) override {
    const auto bad = [](std::string what) { return Error(Errc::parse_error, std::move(what)); };
    if (!state.is_object()) return bad("expected a JSON object");
    const auto& o = state.get_object();
    std::vector<Demo<Sig>> loaded;
    if (const auto* d = o.if_contains("demos")) {
      if (!d->is_array()) return bad("`demos` must be an array");
      for (std::size_t i = 0; i < d->get_array().size(); ++i) {
        const auto& item = d->get_array()[i];
        if (!item.is_object()) return bad("`demos[" + std::to_string(i) + "]` must be an object");
        auto demo = demo_from_json<Sig>(item.get_object());
        if (!demo) return Error(Errc::type_mismatch, "`demos[" + std::to_string(i) + "]`: " + demo.error().message());
        loaded.push_back(std::move(*demo));
      }
    }
    std::string new_instructions = instructions_;
    if (const auto* s = o.if_contains("signature")) {
      if (!s->is_object()) return bad("`signature` must be an object");
      if (const auto* ins = s->get_object().if_contains("instructions")) {
        if (!ins->is_string()) return bad("`signature.instructions` must be a string");
        new_instructions = std::string(ins->get_string());
      }
      if (const auto* f = s->get_object().if_contains("fields")) {
        const std::size_t expected = signature().inputs.size() + signature().outputs.size();
        if (!f->is_array() || f->get_array().size() != expected)
          return bad("`signature.fields` must list the signature's " + std::to_string(expected) + " fields");
      }
    }
    demos = std::move(loaded);
    if (new_instructions != instructions_) set_instructions(std::move(new_instructions));
    return {};
  }

  /// The messages a call would send, without calling an LM.
  [[nodiscard]] std::vector<Message> format(const Input& input) const {
    LMRequest request;
    make_request(detail::resolve_adapter(adapter, *current_settings()), input, {}, request);
    return std::move(request.messages);
  }

  /// Calls the LM and waits. Never throws: errors come back in the Result.
  result_type operator()(const Input& input, const CallConfig& call = {}) const {
    Run run(*this, current_settings(), input, call);
    while (LMRequest* request = run.next_request())
      run.take(detail::call_under(*run.lm, std::move(*request), *run.settings));
    return run.result();
  }

  /// Calls the LM asynchronously. The predictor must outlive the returned awaitable. Settings
  /// come from the coroutine's executor when it carries some (dspy::with_context).
  asio::awaitable<result_type> acall(Input input, CallConfig call = {}) const {
    return respond(std::move(input), std::move(call), {});
  }

  /// acall, streamed: with an adapter that streams fields (the ChatAdapter),
  /// `on_chunk(const dspy::StreamChunk&)` receives each output field's text in pieces as the LM
  /// writes it (see streaming.hpp); the result is the parsed prediction, as acall's. Other
  /// adapters, and the fallback's retry after a parse failure, give no chunks. `on_chunk` runs
  /// on the I/O thread: keep it short.
  template <class F>
  asio::awaitable<result_type> astream(Input input, F on_chunk, CallConfig call = {}) const {
    static_assert(StreamListener<F>, "astream/stream: the listener must be callable as f(const dspy::StreamChunk&)");
    return respond(std::move(input), std::move(call), StreamCallback(std::move(on_chunk)));
  }

  /// astream, blocking the calling thread until the prediction is complete.
  template <class F>
  result_type stream(const Input& input, F on_chunk, const CallConfig& call = {}) const {
    static_assert(StreamListener<F>, "astream/stream: the listener must be callable as f(const dspy::StreamChunk&)");
    return detail::sync_wait(respond(input, call, StreamCallback(std::move(on_chunk))));
  }

 private:
  // acall's and astream's body; `on_chunk` empty: not streamed.
  asio::awaitable<result_type> respond(Input input, CallConfig call, StreamCallback on_chunk) const {
    Run run(*this, settings_of(co_await asio::this_coro::executor), input, call);
    std::unique_ptr<FieldStream> fields;
    TextSink sink;
    if (on_chunk && (fields = (*run.adapter)->stream_fields(signature_view<Sig>(), std::move(on_chunk))))
      sink = [&fields](std::string_view text) { fields->feed(text); };
    while (LMRequest* request = run.next_request()) {
      // The LM's front turns an LM that throws, or a cancellation, into a typed error. The call
      // and the co_await are separate statements: GCC 12 destroys temporaries of a co_await
      // expression twice (bug 100611). The request is moved: callbacks have seen it.
      auto pending = sink ? run.lm->astream(std::move(*request), sink) : run.lm->acall(std::move(*request));
      Result<LMResponse> reply = co_await std::move(pending);
      if (sink && reply) fields->finish();
      sink = {};  // a fallback call is not streamed
      run.take(std::move(reply));
    }
    co_return run.result();
  }

  // What earlier LM calls of the same prediction cost (an adapter fallback makes two calls).
  struct Prior {
    std::chrono::nanoseconds latency{};
    Usage usage;
    std::vector<ParseNote> notes;
  };

  // One prediction: the settings it runs under, its adapter (the fallback after a reply the
  // adapter could not parse), what earlier attempts cost, and the callback events around each
  // step. Both the blocking and the async path drive it the same way:
  //   while (LMRequest* r = run.next_request()) run.take(<the LM's reply to *r>);
  //   return run.result();
  struct Run {
    const Predict& self;
    SettingsPtr settings;
    const Input& input;
    const CallConfig& call;
    BaseLM* lm;
    const AdapterHandle* adapter;  // the predictor's, the settings', the default, or `fallback`
    std::uint64_t id;              // 0: no callbacks to tell
    Prior prior{};
    AdapterHandle fallback{};
    std::optional<LMRequest> request{};
    std::chrono::steady_clock::time_point start{};
    std::optional<result_type> out{};

    Run(const Predict& p, SettingsPtr s, const Input& in, const CallConfig& c)
        : self(p),
          settings(std::move(s)),
          input(in),
          call(c),
          lm(p.lm_ ? p.lm_.get() : settings->lm.get()),
          adapter(&detail::resolve_adapter(p.adapter, *settings)),
          id(settings->callbacks.empty() ? 0 : next_call_id()) {
      if (id) notify([&](Callback& cb) { cb.on_module_start(id, module_name(), to_json(input)); });
    }

    template <class F>
    void notify(F&& f) const {
      for (const auto& c : settings->callbacks) f(*c);
    }

    // The next LM request: the adapter's, then, after a reply it could not parse, its fallback's;
    // null once the prediction has its result.
    LMRequest* next_request() {
      if (out) return nullptr;
      if (!lm) {
        done(no_lm_error());
        return nullptr;
      }
      const Adapter& a = **adapter;
      if (id) notify([&](Callback& cb) { cb.on_adapter_format_start(id, a.name(), to_json(input)); });
      self.make_request(*adapter, input, call, request.emplace());
      if (id) notify([&](Callback& cb) { cb.on_adapter_format_end(id, request->messages); });
      if (!self.utf8(*request)) {
        done(detail::invalid_utf8_error(FieldValues(signature_view<Sig>().inputs, &input),
                                        std::span<const Demo<Sig>>(self.demos), request->messages));
        return nullptr;
      }
      start = std::chrono::steady_clock::now();
      return &*request;
    }

    // The LM's reply to the last request.
    void take(Result<LMResponse> reply) {
      const std::chrono::nanoseconds latency = std::chrono::steady_clock::now() - start;
      prior.latency += latency;
      result_type result = finish(**adapter, std::move(reply), prior, id ? this : nullptr);
      if (retry_with_fallback(result)) return;
      if (self.trace_hook && result) self.trace_hook(input, *result);
      done(std::move(result));
    }

    result_type result() { return std::move(*out); }

    // DSPy retries a reply the adapter could not parse once with its fallback (the ChatAdapter's
    // JSONAdapter), never after LM errors; the fallback's result, or error, is the answer.
    bool retry_with_fallback(const result_type& result) {
      if (result || fallback || !is_parse_error(result.error().code())) return false;
      fallback = (*adapter)->fallback();
      if (!fallback) return false;
      prior.notes = {{result.error().field(), "the " + std::string((*adapter)->name()) +
                                                  " could not parse the reply (" +
                                                  std::string(to_string(result.error().code())) +
                                                  "); retried with the " + std::string(fallback->name())}};
      adapter = &fallback;
      return true;
    }

    void done(result_type result) {
      if (id) {
        const boost::json::value outputs = result ? to_json(result.value().value()) : boost::json::value(nullptr);
        notify([&](Callback& cb) { cb.on_module_end(id, outputs, result ? nullptr : &result.error()); });
      }
      out.emplace(std::move(result));
    }

    static std::string module_name() { return "Predict<" + std::string(type_name_of<Sig>) + ">"; }
  };

  static Error no_lm_error() {
    return Error(Errc::config,
                 "no LM configured: call dspy::configure({.lm = ...}) or set_lm(...) on the predictor");
  }

  // Fills a default-constructed request (built in place in Run: a request is large to move).
  void make_request(const AdapterHandle& ad, const Input& input, const CallConfig& call, LMRequest& request) const {
    const SignatureView& sig = signature_view<Sig>();
    if (format_hook) {
      request.messages = format_hook(*ad, instructions_, std::span<const Demo<Sig>>(demos), input);
    } else {
      const auto parts = prompts_.get(ad, sig, instructions_);
      request.messages = ad->format(sig, *parts, std::span<const Demo<Sig>>(demos), FieldValues(sig.inputs, &input));
    }
    request.config = config.merged_with(call);
    // As DSPy: several completions at (near) zero temperature would all be the same.
    if (request.config.n.value_or(1) > 1 && request.config.temperature.value_or(0.0) <= 0.15)
      request.config.temperature = 0.7;
    ad->configure_request(sig, request);
  }

  // Whether the request's text is all UTF-8, as a JSON body needs: one pass over the messages
  // that hold the demos and the input. The system message is skipped: it is the signature's and
  // the instructions', the same for every call.
  static bool utf8(const LMRequest& request) noexcept {
    for (const Message& m : request.messages)
      if (m.role != "system" && detail::find_invalid_utf8(m.content) != std::string_view::npos) return false;
    return true;
  }

  static result_type finish(const Adapter& ad, Result<LMResponse> reply, Prior& prior, const Run* run) {
    if (!reply) return std::move(reply).error();
    LMResponse& r = *reply;
    r.usage += prior.usage;
    prior.usage = r.usage;
    if (r.completions.empty())
      return Error(Errc::bad_response, "the LM returned no completions (model " + r.model + ")");
    const SignatureView& sig = signature_view<Sig>();
    std::vector<Output> outputs(r.completions.size());
    std::vector<ParseNote> notes = std::move(prior.notes);
    for (std::size_t i = 0; i < outputs.size(); ++i) {
      const std::string& text = r.completions[i];
      if (run) run->notify([&](Callback& c) { c.on_adapter_parse_start(run->id, ad.name(), text); });
      std::optional<Error> error = ad.parse(sig, text, &outputs[i], &notes);
      if (run) {
        const boost::json::value outputs_json = error ? boost::json::value(nullptr) : to_json(outputs[i]);
        run->notify([&](Callback& c) { c.on_adapter_parse_end(run->id, outputs_json, error ? &*error : nullptr); });
      }
      if (error) return std::move(*error);
    }
    std::vector<std::string> raw = std::move(r.completions);
    return Predicted<Output>(std::move(outputs), std::move(raw), std::move(r), prior.latency, std::move(notes),
                             ad.name());
  }

  std::string instructions_;
  detail::PromptCache prompts_;
  LMHandle lm_;
};

}  // namespace dspy
