// dspy::Predict<Sig>: format the prompt, call the LM, parse the reply into Sig::Output.
#pragma once

#include <array>
#include <chrono>
#include <functional>
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

namespace dspy {

namespace detail {

// JSONAdapter._get_structured_outputs_response_format: every object lists all its properties as
// required and forbids others.
inline void enforce_required(boost::json::value& v) {
  if (!v.is_object()) return;
  auto& o = v.get_object();
  if (const auto* t = o.if_contains("type"); t && *t == "object") {
    if (auto* props = o.if_contains("properties"); props && props->is_object()) {
      boost::json::array required;
      for (auto& kv : props->get_object()) {
        required.emplace_back(kv.key());
        enforce_required(kv.value());
      }
      o["required"] = std::move(required);
    } else {
      o["properties"] = boost::json::object{};
      o["required"] = boost::json::array{};
    }
    o["additionalProperties"] = false;
  }
  if (const auto* t = o.if_contains("type"); t && *t == "array")
    if (auto* items = o.if_contains("items")) enforce_required(*items);
  if (auto* defs = o.if_contains("$defs"); defs && defs->is_object())
    for (auto& kv : defs->get_object()) enforce_required(kv.value());
}

template <class Sig>
const boost::json::value& json_response_format() {
  static const boost::json::value format = [] {
    using Out = typename Sig::Output;
    bool open_mapping = false;
    boost::json::object defs;
    boost::json::object properties;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (
          [&] {
            using F = field_type<I, Out>;
            open_mapping = open_mapping || StringMap<F> || JsonObject<F>;
            boost::json::object prop = schema_node<F>(defs);
            if constexpr (!Struct<typename unwrap_optional<F>::type> && !Enum<typename unwrap_optional<F>::type>)
              prop["title"] = title_case(field_names<Out>[I]);
            properties[field_names<Out>[I]] = std::move(prop);
          }(),
          ...);
    }(std::make_index_sequence<field_count<Out>>{});
    // Structured outputs need every property declared: open-ended maps get plain JSON mode.
    if (open_mapping) return boost::json::value{{"type", "json_object"}};
    boost::json::value schema = boost::json::object{
        {"type", "object"}, {"properties", std::move(properties)}, {"title", "DSPyProgramOutputs"}};
    if (!defs.empty()) schema.get_object()["$defs"] = std::move(defs);
    enforce_required(schema);
    return boost::json::value{
        {"type", "json_schema"},
        {"json_schema", {{"name", "DSPyProgramOutputs"}, {"strict", true}, {"schema", std::move(schema)}}}};
  }();
  return format;
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
  std::optional<Adapter> adapter;
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
    // The system message depends only on the signature, adapter and instructions: build it once.
    system_ = {format_system_message<Sig>(ChatAdapter{}, instructions_),
               format_system_message<Sig>(JSONAdapter{}, instructions_),
               format_system_message<Sig>(XMLAdapter{}, instructions_)};
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
    return make_request(resolved_adapter(*current_settings()), input, {}).messages;
  }

  /// Calls the LM and waits. Never throws: errors come back in the Result.
  result_type operator()(const Input& input, const CallConfig& call = {}) const {
    Run run(*this, current_settings(), input);
    if (!run.lm) return run.done(no_lm_error());
    for (;;) {  // at most twice: the adapter's attempt, then the JSONAdapter fallback
      LMRequest request = run.request(call);
      const auto start = std::chrono::steady_clock::now();
      Result<LMResponse> reply = detail::call_under(*run.lm, std::move(request), *run.settings);
      if (auto out = run.attempt(std::move(reply), std::chrono::steady_clock::now() - start)) return std::move(*out);
    }
  }

  /// Calls the LM asynchronously. The predictor must outlive the returned awaitable. Settings
  /// come from the coroutine's executor when it carries some (dspy::with_context).
  asio::awaitable<result_type> acall(Input input, CallConfig call = {}) const {
    return respond(std::move(input), std::move(call), {});
  }

  /// acall, streamed: with the ChatAdapter, `on_chunk(const dspy::StreamChunk&)` receives each
  /// output field's text in pieces as the LM writes it (see streaming.hpp); the result is the
  /// parsed prediction, as acall's. Other adapters, and the JSONAdapter retry after a ChatAdapter
  /// parse failure, give no chunks. `on_chunk` runs on the I/O thread: keep it short.
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
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
// GCC 12 at -O1 and above wrongly reports Asio's frame operator delete as mismatched with its
// operator new in this coroutine.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
  // acall's and astream's body; `on_chunk` empty: not streamed.
  asio::awaitable<result_type> respond(Input input, CallConfig call, StreamCallback on_chunk) const {
    Run run(*this, settings_of(co_await asio::this_coro::executor), input);
    if (!run.lm) co_return run.done(no_lm_error());
    std::optional<detail::FieldStreamer> fields;
    TextSink sink;
    if (on_chunk && std::holds_alternative<ChatAdapter>(run.adapter)) {
      fields.emplace(field_names<Output>, std::move(on_chunk));
      sink = [&fields](std::string_view text) { fields->feed(text); };
    }
    for (;;) {  // at most twice: the adapter's attempt, then the JSONAdapter fallback
      LMRequest request = run.request(call);
      const auto start = std::chrono::steady_clock::now();
      // The LM's front turns an LM that throws, or a cancellation, into a typed error. The call
      // and the co_await are separate statements: GCC 12 destroys temporaries of a co_await
      // expression twice (bug 100611).
      auto pending = sink ? run.lm->astream(std::move(request), sink) : run.lm->acall(std::move(request));
      Result<LMResponse> reply = co_await std::move(pending);
      if (fields && reply) fields->finish();
      sink = {};  // a fallback call is not streamed
      if (auto out = run.attempt(std::move(reply), std::chrono::steady_clock::now() - start))
        co_return std::move(*out);
    }
  }

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

  // What earlier LM calls of the same prediction cost (an adapter fallback makes two calls).
  struct Prior {
    std::chrono::nanoseconds latency{};
    Usage usage;
    std::vector<ParseNote> notes;
  };

  // One prediction: the settings it runs under, its adapter (the JSONAdapter after a fallback),
  // what earlier attempts cost, and the callback events around each step.
  struct Run {
    const Predict& self;
    SettingsPtr settings;
    const Input& input;
    BaseLM* lm;
    Adapter adapter;
    std::uint64_t id;  // 0: no callbacks to tell
    Prior prior{};

    Run(const Predict& p, SettingsPtr s, const Input& in)
        : self(p),
          settings(std::move(s)),
          input(in),
          lm(p.lm_ ? p.lm_.get() : settings->lm.get()),
          adapter(p.resolved_adapter(*settings)),
          id(settings->callbacks.empty() ? 0 : next_call_id()) {
      if (id) notify([&](Callback& c) { c.on_module_start(id, module_name(), to_json(input)); });
    }

    template <class F>
    void notify(F&& f) const {
      for (const auto& c : settings->callbacks) f(*c);
    }

    LMRequest request(const CallConfig& call) {
      if (id) notify([&](Callback& c) { c.on_adapter_format_start(id, adapter_name(adapter), to_json(input)); });
      LMRequest r = self.make_request(adapter, input, call);
      if (id) notify([&](Callback& c) { c.on_adapter_format_end(id, r.messages); });
      return r;
    }

    // The result, or nullopt when the JSONAdapter should try again.
    std::optional<result_type> attempt(Result<LMResponse> reply, std::chrono::nanoseconds latency) {
      prior.latency += latency;
      result_type out = finish(adapter, std::move(reply), prior, id ? this : nullptr);
      if (wants_fallback(adapter, out, prior)) {
        adapter = JSONAdapter{};
        return std::nullopt;
      }
      if (self.trace_hook && out) self.trace_hook(input, *out);
      ended(out);
      return out;
    }

    result_type done(result_type out) const {
      ended(out);
      return out;
    }

    // By reference: a Predicted is moved as few times as possible on the way out.
    void ended(const result_type& out) const {
      if (id) {
        const boost::json::value outputs = out ? to_json(out.value().value()) : boost::json::value(nullptr);
        notify([&](Callback& c) { c.on_module_end(id, outputs, out ? nullptr : &out.error()); });
      }
    }

    static std::string module_name() { return "Predict<" + std::string(type_name_of<Sig>) + ">"; }
  };

  [[nodiscard]] Adapter resolved_adapter(const Settings& global) const { return adapter ? *adapter : global.adapter; }

  static Error no_lm_error() {
    return Error(Errc::config,
                 "no LM configured: call dspy::configure({.lm = ...}) or set_lm(...) on the predictor");
  }

  [[nodiscard]] LMRequest make_request(const Adapter& ad, const Input& input, const CallConfig& call) const {
    LMRequest request;
    request.messages =
        format_hook ? format_hook(ad, instructions_, std::span<const Demo<Sig>>(demos), input)
                    : detail::AdapterImpl<Sig>::format(ad, system_[ad.index()], std::span<const Demo<Sig>>(demos), input);
    request.config = config.merged_with(call);
    // As DSPy: several completions at (near) zero temperature would all be the same.
    if (request.config.n.value_or(1) > 1 && request.config.temperature.value_or(0.0) <= 0.15)
      request.config.temperature = 0.7;
    if (std::holds_alternative<JSONAdapter>(ad)) request.response_format = detail::json_response_format<Sig>();
    return request;
  }

  static result_type finish(const Adapter& ad, Result<LMResponse> reply, Prior& prior, const Run* run) {
    if (!reply) return std::move(reply).error();
    LMResponse& r = *reply;
    r.usage += prior.usage;
    prior.usage = r.usage;
    if (r.completions.empty())
      return Error(Errc::bad_response, "the LM returned no completions (model " + r.model + ")");
    std::vector<Output> outputs;
    outputs.reserve(r.completions.size());
    std::vector<ParseNote> notes = std::move(prior.notes);
    for (const auto& text : r.completions) {
      if (run) run->notify([&](Callback& c) { c.on_adapter_parse_start(run->id, adapter_name(ad), text); });
      auto parsed = parse_completion<Sig>(ad, text, &notes);
      if (run) {
        const boost::json::value outputs_json = parsed ? to_json(*parsed) : boost::json::value(nullptr);
        run->notify([&](Callback& c) { c.on_adapter_parse_end(run->id, outputs_json, parsed ? nullptr : &parsed.error()); });
      }
      if (!parsed) return std::move(parsed).error();
      outputs.push_back(std::move(*parsed));
    }
    std::vector<std::string> raw = std::move(r.completions);
    return Predicted<Output>(std::move(outputs), std::move(raw), std::move(r), prior.latency, std::move(notes),
                             adapter_name(ad));
  }

  // DSPy retries a ChatAdapter parse failure once with the JSONAdapter (never after LM errors);
  // the JSONAdapter's result, or error, is the answer.
  static bool wants_fallback(const Adapter& ad, const result_type& out, Prior& prior) {
    const auto* chat = std::get_if<ChatAdapter>(&ad);
    if (out || !chat || !chat->use_json_adapter_fallback || !is_parse_error(out.error().code())) return false;
    prior.notes = {{out.error().field(), "the ChatAdapter could not parse the reply (" +
                                             std::string(to_string(out.error().code())) +
                                             "); retried with the JSONAdapter"}};
    return true;
  }

  std::string instructions_;
  std::array<std::string, std::variant_size_v<Adapter>> system_;
  LMHandle lm_;
};

}  // namespace dspy
