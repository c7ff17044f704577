// The bodies of detail::PredictCore (predict.hpp): header-only, predict.hpp includes them; with
// DSPY_SEPARATE_COMPILATION, <dspy/src.hpp> compiles them once.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/this_coro.hpp>

#include "../adapters/adapter.hpp"
#include "../adapters/streaming.hpp"
#include "../clients/base_lm.hpp"
#include "../detail/exception.hpp"
#include "../detail/text/utf8.hpp"
#include "../primitives/callback.hpp"
#include "../primitives/module.hpp"
#include "../primitives/settings.hpp"
#include "predict.hpp"

namespace dspy::detail {

DSPY_DECL std::shared_ptr<const PromptParts> PromptCache::get(const AdapterHandle& adapter, const SignatureView& sig,
                                                              std::string_view instructions) const {
  {
    std::lock_guard lock(mutex_);
    for (const auto& e : entries_)
      if (e.adapter == adapter && e.sig == &sig) return e.parts;
  }
  auto parts = std::make_shared<const PromptParts>(adapter->prompt_parts(sig, instructions));
  std::lock_guard lock(mutex_);
  if (entries_.size() == kEntries) entries_.erase(entries_.begin());
  entries_.push_back({adapter, &sig, parts});
  return parts;
}

DSPY_DECL void PromptCache::clear() noexcept {
  std::lock_guard lock(mutex_);
  entries_.clear();
}

// The present fields of one side of a signature as a JSON object by name (a callback's inputs or
// outputs, a saved demo).
inline void put_fields(boost::json::object& out, const FieldValues& values) {
  for (std::size_t i = 0; i < values.size(); ++i)
    if (values.present(i)) out[values.name(i)] = values.to_json(i);
}

inline boost::json::object fields_object(const FieldValues& values) {
  boost::json::object out;
  put_fields(out, values);
  return out;
}

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
    if (const std::size_t at = find_invalid_utf8(messages[k].content.text()); at != std::string_view::npos)
      return Error(Errc::bad_request, "message " + std::to_string(k) + " (" + messages[k].role + ") holds " +
                                          describe_invalid_utf8(messages[k].content.text(), at) +
                                          "; JSON carries only UTF-8, so the request was not sent");
  return Error(Errc::bad_request, "the request holds text that is not UTF-8; it was not sent");
}

// Whether the request's text is all UTF-8, as a JSON body needs: one pass over the messages that
// hold the demos and the input. The system message is skipped: it is the signature's and the
// instructions', the same for every call.
inline bool request_is_utf8(const LMRequest& request) noexcept {
  for (const Message& m : request.messages)
    if (m.role != "system" && find_invalid_utf8(m.content.text()) != std::string_view::npos) return false;
  return true;
}

DSPY_DECL PredictCore::PredictCore(const SignatureView& view, std::string_view type_name, std::string instructions)
    : view_(&view), type_name_(type_name) {
  set_instructions(std::move(instructions));
}

DSPY_DECL void PredictCore::set_instructions(std::string instructions) {
  instructions_ = std::move(instructions);
  prompts_.clear();
}

DSPY_DECL boost::json::object PredictCore::dump_state() const {
  boost::json::array demo_states;
  const DemoList demos = demo_list();
  for (std::size_t k = 0; k < demos.size(); ++k) {
    const DemoView d = demos[k];
    boost::json::object o;
    put_fields(o, d.inputs);
    put_fields(o, d.outputs);
    if (d.augmented) o["augmented"] = true;
    demo_states.push_back(std::move(o));
  }
  boost::json::array fields;
  const SignatureMeta& meta = *view_->meta;
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

DSPY_DECL PredictCore::~PredictCore() = default;

DSPY_DECL Error PredictCore::demo_error(std::size_t index, const Error& error) {
  return Error(Errc::type_mismatch, "`demos[" + std::to_string(index) + "]`: " + error.message());
}

DSPY_DECL Result<void> PredictCore::load_state(const boost::json::value& state) {
  const auto bad = [](std::string what) { return Error(Errc::parse_error, std::move(what)); };
  if (!state.is_object()) return bad("expected a JSON object");
  const auto& o = state.get_object();
  const boost::json::array* demos = nullptr;
  if (const auto* d = o.if_contains("demos")) {
    if (!d->is_array()) return bad("`demos` must be an array");
    demos = &d->get_array();
    for (std::size_t i = 0; i < demos->size(); ++i)
      if (!(*demos)[i].is_object()) return bad("`demos[" + std::to_string(i) + "]` must be an object");
  }
  std::string new_instructions = instructions_;
  if (const auto* s = o.if_contains("signature")) {
    if (!s->is_object()) return bad("`signature` must be an object");
    if (const auto* ins = s->get_object().if_contains("instructions")) {
      if (!ins->is_string()) return bad("`signature.instructions` must be a string");
      new_instructions = std::string(ins->get_string());
    }
    if (const auto* f = s->get_object().if_contains("fields")) {
      const std::size_t expected = view_->inputs.size() + view_->outputs.size();
      if (!f->is_array() || f->get_array().size() != expected)
        return bad("`signature.fields` must list the signature's " + std::to_string(expected) + " fields");
    }
  }
  if (auto loaded = replace_demos(demos); !loaded) return loaded;
  if (new_instructions != instructions_) set_instructions(std::move(new_instructions));
  return {};
}

// DSPy's Reasoning.adapt_to_native_lm_feature: with an LM that reasons natively, a
// dspy::Reasoning output leaves the prompt and `reasoning_effort` (the call's, the predictor's,
// the LM's, else "low") is sent. An explicit null effort keeps it in the prompt, as do GPT-5 models
// on chat completions, whose reasoning does not come back there.
inline const boost::json::value* native_reasoning_effort(const SignatureView& view, const BaseLM* lm,
                                                         const CallConfig& merged) {
  static const boost::json::value low = "low";
  if (view.reasoning == view.outputs.size() || !lm || !lm->capabilities().reasoning) return nullptr;
  const boost::json::value* effort = merged.extra.if_contains("reasoning_effort");
  if (!effort) effort = lm->defaults().extra.if_contains("reasoning_effort");
  if (effort && effort->is_null()) return nullptr;
  if (lm->model_type() == "chat" && lm->model().find("gpt-5") != std::string::npos) return nullptr;
  return effort ? effort : &low;
}

// The request's `tools`: each Tool of a tools input (one, or a list) in OpenAI's function form.
inline boost::json::array native_tools(const boost::json::value& value) {
  boost::json::array out;
  const auto add = [&](const boost::json::value& v) {
    Tool t;
    if (!Tool::from_json(v, t)) out.push_back(t.function_schema());
  };
  if (const auto* list = value.if_array())
    for (const auto& v : *list) add(v);
  else add(value);
  return out;
}

// Fills a default-constructed request (built in place in Run: a request is large to move).
DSPY_DECL const SignatureView& PredictCore::make_request(const AdapterHandle& ad, const BaseLM* lm, const void* input,
                                                         const CallConfig& call, LMRequest& request) const {
  request.config = config.merged_with(call);
  const SignatureView* view = view_;
  std::uint64_t absent = view_->absent ? view_->absent(input) : 0;
  if (view_->without) {  // outputs the LM fills natively leave the prompt
    std::uint64_t native = 0, taken = 0;
    if (const boost::json::value* effort = native_reasoning_effort(*view_, lm, request.config)) {
      request.config.extra["reasoning_effort"] = *effort;
      native |= std::uint64_t{1} << view_->reasoning;
    }
    // DSPy's Citations.adapt_to_native_lm_feature: Anthropic models cite natively.
    if (view_->citations < view_->outputs.size() && lm && lm->model().starts_with("anthropic/"))
      native |= std::uint64_t{1} << view_->citations;
    // Native function calling: the tools go as the request's `tools`, the calls come back as the
    // reply's own (a ToolCalls output without a tools input stays text).
    if (view_->tool_calls < view_->outputs.size() && view_->tools < view_->inputs.size() &&
        ad->use_native_function_calling() && lm && lm->capabilities().function_calling) {
      native |= std::uint64_t{1} << view_->tool_calls;
      taken |= std::uint64_t{1} << view_->tools;
      request.tools = native_tools(view_->inputs[view_->tools].to_json(input));
      request.parallel_tool_calls = ad->parallel_tool_calls();
      if (auto* choice = request.config.extra.if_contains("tool_choice")) request.tool_choice = std::move(*choice);
      // As DSPy sends it: a parallel_tool_calls setting brings tool_choice "auto" when none was given.
      if (request.parallel_tool_calls && request.tool_choice.is_null()) request.tool_choice = "auto";
    }
    // A call's tool_choice applies to native calls only (DSPy drops it otherwise); a null effort
    // (native reasoning off) is not sent.
    request.config.extra.erase("tool_choice");
    if (const auto* e = request.config.extra.if_contains("reasoning_effort"); e && e->is_null())
      request.config.extra.erase("reasoning_effort");
    if (native || taken) {
      view = &view_->without(native, taken);
      std::uint64_t kept = 0;  // `absent` by the reduced view's input indices
      for (std::size_t i = 0, k = 0; i < view_->inputs.size(); ++i)
        if (!(taken >> i & 1U)) kept |= (absent >> i & 1U) << k++;
      absent = kept;
    }
  }
  if (!format_with_hook(*ad, input, request.messages)) {
    const auto parts = prompts_.get(ad, *view, instructions_);
    request.messages = ad->format(*view, *parts, demo_list(), FieldValues(view->inputs, input, absent));
  }
  // As DSPy: several completions at (near) zero temperature would all be the same.
  if (request.config.n.value_or(1) > 1 && request.config.temperature.value_or(0.0) <= 0.15)
    request.config.temperature = 0.7;
  ad->configure_request(*view, request);
  return *view;
}

DSPY_DECL std::vector<Message> PredictCore::format_input(const void* input) const {
  LMRequest request;
  const SettingsPtr settings = current_settings();
  make_request(resolve_adapter(adapter, *settings), lm_ ? lm_.get() : settings->lm.get(), input, {}, request);
  return std::move(request.messages);
}

// One prediction: the settings it runs under, its adapter (the fallback after a reply the adapter
// could not parse), what earlier attempts cost, and the callback events around each step. Both
// the blocking and the async path drive it the same way:
//   while (LMRequest* r = run.next_request()) run.take(<the LM's reply to *r>);
//   return run.result();
struct PredictCore::Run {
  const PredictCore& self;
  SettingsPtr settings;
  const void* input;
  const CallConfig& call;
  OutputSlots outputs;
  BaseLM* lm;
  BaseLM* target = nullptr;  // the LM of the next request: `lm`, or an adapter reading's
  const AdapterHandle* adapter;  // the predictor's, the settings', the default, or `fallback`
  // Observed calls only (callbacks, usage tracking): this call in the call tree, and the settings
  // its LM calls run under (with this call as their caller).
  std::shared_ptr<const ModuleCall> frame{};
  SettingsPtr lm_settings{};
  CallInfo info{};  // id 0: no callbacks to tell
  // What earlier LM calls of the same prediction cost (an adapter fallback makes two calls).
  std::chrono::nanoseconds latency{};
  Usage usage;
  std::vector<ParseNote> notes;
  AdapterHandle fallback{};
  const SignatureView* view = nullptr;  // what the last request was formatted with
  std::optional<LMRequest> request{};
  // A reply whose completion `next_completion` the adapter reads with LM calls of its own (`reading`).
  std::optional<LMResponse> held{};
  std::vector<ParseNote> kept{};
  std::size_t next_completion = 0;
  std::unique_ptr<AdapterReading> reading{};
  std::optional<LMUsage> reading_usage{};  // what those calls spent, with usage tracking on
  std::optional<Result<PredictionParts>> out{};

  Run(const PredictCore& p, SettingsPtr s, const void* in, const CallConfig& c, OutputSlots o)
      : self(p),
        settings(std::move(s)),
        input(in),
        call(c),
        outputs(o),
        lm(p.lm_ ? p.lm_.get() : settings->lm.get()),
        adapter(&resolve_adapter(p.adapter, *settings)) {
    if (observes_calls(*settings) || !self.callbacks.empty()) open();
  }

  void open() {
    auto f = std::make_shared<ModuleCall>();
    f->id = next_call_id();
    f->parent = settings->caller;
    f->module = "Predict<" + std::string(self.type_name_) + ">";
    f->instance = static_cast<const PredictorBase*>(&self);
    f->path = call_path(f->parent.get(), f->instance, &type_tag<PredictorBase>, f->module);
    if (settings->trace) settings->trace->claim_root(f->path);  // a traced bare predictor is the root
    auto under = std::make_shared<Settings>(*settings);
    under->caller = f;
    lm_settings = std::move(under);
    frame = std::move(f);
    info = frame->info();
    if (!settings->callbacks.empty() || !self.callbacks.empty()) {
      const boost::json::value inputs = fields_object(input_values());
      notify_module([&](Callback& cb) { cb.on_module_start(info, frame->module, inputs); });
    }
  }

  // The settings the LM is called under.
  [[nodiscard]] const SettingsPtr& under() const noexcept { return lm_settings ? lm_settings : settings; }

  // Adapter events go to the settings' callbacks; module events to the predictor's as well.
  template <class F>
  void notify(F&& f) const {
    if (info.id)
      for (const auto& c : settings->callbacks) f(*c);
  }
  template <class F>
  void notify_module(F&& f) const {
    notify(f);
    if (info.id)
      for (const auto& c : self.callbacks) f(*c);
  }

  [[nodiscard]] FieldValues input_values() const noexcept { return {self.view_->inputs, input}; }

  // The next LM request: the adapter's, then, after a reply it could not parse, its fallback's;
  // null once the prediction has its result.
  LMRequest* next_request() {
    if (out) return nullptr;
    if (reading) {
      AdapterCall* c = reading->next_call();
      target = c->lm.get();
      return &c->request;
    }
    target = lm;
    if (!lm) {
      done(Error(Errc::config, "no LM configured: call dspy::configure({.lm = ...}) or set_lm(...) on the predictor"));
      return nullptr;
    }
    const Adapter& a = **adapter;
    const bool tell = info.id && !settings->callbacks.empty();
    if (tell) {
      const boost::json::value inputs = fields_object(input_values());
      notify([&](Callback& cb) { cb.on_adapter_format_start(info, a.name(), inputs); });
    }
    view = &self.make_request(*adapter, lm, input, call, request.emplace());
    if (tell) notify([&](Callback& cb) { cb.on_adapter_format_end(info, request->messages); });
    if (!request_is_utf8(*request)) {
      done(invalid_utf8_error(input_values(), self.demo_list(), request->messages));
      return nullptr;
    }
    return &*request;
  }

  // The LM's reply to the last request.
  void take(Result<LMResponse> reply) {
    if (reply) latency += reply->latency;  // the LM front times each call
    Result<PredictionParts> result = reading ? resume(reply) : finish(reply);
    if (reading) return;  // the adapter's reading makes another call
    if (retry_with_fallback(result)) return;
    done(std::move(result));
  }

  Result<PredictionParts> result() { return std::move(*out); }

  Result<PredictionParts> finish(Result<LMResponse>& reply) {
    if (!reply) return std::move(reply).error();
    LMResponse& r = *reply;
    r.usage += usage;
    usage = r.usage;
    if (r.completions.empty())
      return Error(Errc::bad_response, "the LM returned no completions (model " + r.model + ")");
    kept = std::move(notes);
    outputs.resize(outputs.vector, 0);  // a fallback parses afresh
    outputs.resize(outputs.vector, r.completions.size());
    next_completion = 0;
    return read_completions(r);
  }

  // The reply to an adapter reading's call.
  Result<PredictionParts> resume(Result<LMResponse>& reply) {
    if (reply && settings->track_usage && !reply->cache_hit) {
      if (!reading_usage) reading_usage.emplace();
      (*reading_usage)[reply->model] += reply->usage;
    }
    reading->take(std::move(reply));
    return read_completions(*held);
  }

  // Parses the reply's completions from `next_completion` on. While an adapter's reading waits for
  // an LM call, `reading` is set and the value returned stands for nothing.
  Result<PredictionParts> read_completions(LMResponse& r) {
    const Adapter& ad = **adapter;
    const bool tell = info.id && !settings->callbacks.empty();
    for (; next_completion < r.completions.size(); ++next_completion) {
      const std::string& text = r.completions[next_completion];
      void* output = outputs.at(outputs.vector, next_completion);
      if (!reading) {
        if (tell) notify([&](Callback& c) { c.on_adapter_parse_start(info, ad.name(), text); });
        reading = ad.read(*view, text, output, &kept);
      }
      std::optional<Error> error;
      if (!reading) {
        error = parse_completion(r, ad, text, output);
      } else {
        if (reading->next_call()) {
          if (!held || &*held != &r) held = std::move(r);  // kept while the reading calls an LM
          return Error(Errc::cancelled, {});
        }
        error = reading->result();
        reading.reset();
      }
      if (!error && view != self.view_) error = take_native(r, next_completion, output, kept);
      if (tell) {
        const boost::json::value parsed =
            error ? boost::json::value(nullptr) : boost::json::value(fields_object({self.view_->outputs, output}));
        notify([&](Callback& c) { c.on_adapter_parse_end(info, parsed, error ? &*error : nullptr); });
      }
      if (error) return std::move(*error);
    }
    std::vector<std::string> raw = std::move(r.completions);
    std::optional<LMUsage> lm_usage;
    if (settings->track_usage) {  // DSPy's get_lm_usage(): what this call spent, per model
      lm_usage.emplace(reading_usage ? std::move(*reading_usage) : LMUsage{});
      if (!r.cache_hit) (*lm_usage)[r.model] += r.usage;
    }
    return PredictionParts{std::move(raw), std::move(r), latency, std::move(kept), ad.name(), std::move(lm_usage)};
  }

  // Whether the request left the ToolCalls output to the reply's own tool calls.
  [[nodiscard]] bool native_tool_calls() const noexcept {
    const SignatureView& full = *self.view_;
    return view != self.view_ && full.tool_calls < full.outputs.size() &&
           view->output_index(full.output_names[full.tool_calls]) == view->outputs.size();
  }

  // The adapter's parse of one completion. With native tool calls, a reply that has calls needs
  // no text (a text it has is read, and may fail, as DSPy reads it), and a reply with neither is
  // an error.
  std::optional<Error> parse_completion(const LMResponse& r, const Adapter& ad, const std::string& text, void* output) {
    if (!native_tool_calls()) return ad.parse(*view, text, output, &kept);
    const bool called = next_completion < r.tool_calls.size() && !r.tool_calls[next_completion].empty();
    if (!called && text.empty())
      return detail::parse_error(Errc::parse_error, ad.name(), *self.view_, text,
                                 "The LM returned an empty or null response.", nullptr);
    if (!called) return ad.parse(*view, text, output, &kept);
    if (!text.empty() && !view->outputs.empty()) {
      std::vector<ParseNote> notes;
      if (!ad.parse(*view, text, output, &notes)) kept.insert(kept.end(), notes.begin(), notes.end());
    }
    return std::nullopt;
  }

  // The outputs left out of the prompt, from the reply's own reasoning, citations and tool calls
  // (none in the reply: left empty, as DSPy leaves them None).
  std::optional<Error> take_native(const LMResponse& r, std::size_t i, void* output, std::vector<ParseNote>& kept) {
    const SignatureView& full = *self.view_;
    const auto fill = [&](std::size_t j, const boost::json::value& v) -> std::optional<Error> {
      const FieldCodec& field = full.outputs[j];
      if (auto e = field.from_json(v, output, ParseContext{&kept, field.name()}))
        return Error(Errc::type_mismatch, "the reply's native " + std::string(field.name()) + ": " + *e);
      return std::nullopt;
    };
    // A native output is one of the signature's that the request's view left out.
    const auto native = [&](std::size_t j) {
      return j < full.outputs.size() && view->output_index(full.output_names[j]) == view->outputs.size();
    };
    if (native(full.reasoning) && i < r.reasoning.size())
      if (auto e = fill(full.reasoning, boost::json::string(r.reasoning[i]))) return e;
    if (native(full.citations) && i < r.citations.size())
      if (auto e = fill(full.citations, r.citations[i])) return e;
    if (native(full.tool_calls) && i < r.tool_calls.size() && !r.tool_calls[i].empty()) {
      boost::json::array calls;
      for (const auto& c : r.tool_calls[i])
        calls.push_back(boost::json::object{{"id", c.id}, {"name", c.name}, {"arguments", c.arguments}});
      if (auto e = fill(full.tool_calls, calls)) return e;
    }
    return std::nullopt;
  }

  // DSPy retries a reply the adapter could not parse once with its fallback (the ChatAdapter's
  // JSONAdapter), never after LM errors; the fallback's result, or error, is the answer.
  bool retry_with_fallback(const Result<PredictionParts>& result) {
    if (result || fallback || !is_parse_error(result.error().code())) return false;
    fallback = (*adapter)->fallback();
    if (!fallback) return false;
    notes = {{result.error().field(), "the " + std::string((*adapter)->name()) + " could not parse the reply (" +
                                          std::string(to_string(result.error().code())) + "); retried with the " +
                                          std::string(fallback->name())}};
    adapter = &fallback;
    return true;
  }

  void done(Result<PredictionParts>&& result) {
    if (!result) {
      if (frame) result.error().set_module(frame->path);
      else result.error().set_origin(static_cast<const PredictorBase*>(&self), "self");
    }
    if (settings->trace && result)
      settings->trace->add({settings->trace->name_of(frame->path), fields_object(input_values()),
                            fields_object({self.view_->outputs, outputs.at(outputs.vector, 0)})});
    if (info.id && (!settings->callbacks.empty() || !self.callbacks.empty())) {
      const boost::json::value parsed =
          result ? boost::json::value(fields_object({self.view_->outputs, outputs.at(outputs.vector, 0)}))
                 : boost::json::value(nullptr);
      CallInfo end = info;
      if (result && result->lm_usage) end.usage = &*result->lm_usage;
      notify_module([&](Callback& cb) { cb.on_module_end(end, parsed, result ? nullptr : &result.error()); });
    }
    out.emplace(std::move(result));
  }
};

DSPY_DECL Result<PredictionParts> PredictCore::predict(const void* input, const CallConfig& call,
                                                       OutputSlots outputs) const {
  Run run(*this, current_settings(), input, call, outputs);
  while (LMRequest* request = run.next_request())
    run.take(call_under(*run.target, std::move(*request), *run.under()));
  return run.result();
}

DSPY_DECL asio::awaitable<Result<PredictionParts>> PredictCore::apredict(const void* input, CallConfig call,
                                                                         FieldSink stream, OutputSlots outputs) const {
  Run run(*this, settings_of(co_await asio::this_coro::executor), input, call, outputs);
  std::unique_ptr<FieldStream> fields;
  TextSink sink;
  bool first = stream.on_chunk || stream.outputs;
  while (LMRequest* request = run.next_request()) {
    if (std::exchange(first, false)) {
      // The reply is split by the view the request was formatted with, which lacks the outputs the
      // LM fills natively (their sections, if the LM writes some, are not the outputs); the
      // listener hears of fields by their index in the signature.
      const SignatureView& view = *run.view;
      if (stream.on_field && &view != view_)
        stream.on_field = [full = view_, &view, told = std::move(stream.on_field)](std::size_t i) {
          told(full->output_index(view.output_names[i]));
        };
      if ((fields = (*run.adapter)->stream_fields(view, std::move(stream))))
        sink = [&fields](std::string_view text) { fields->feed(text); };
    }
    // The LM's front turns an LM that throws, or a cancellation, into a typed error. The call and
    // the co_await are separate statements: GCC 12 destroys temporaries of a co_await expression
    // twice (bug 100611). The request is moved: callbacks have seen it.
    auto pending = acall_under(*run.target, std::move(*request), run.under(), sink);
    Result<LMResponse> reply = co_await std::move(pending);
    if (sink && reply) {
      try {  // the listener hears of the last field: what it throws is the call's error
        fields->finish();
      } catch (...) {
        reply = error_from_exception(std::current_exception());
      }
    }
    sink = {};  // a fallback call is not streamed
    run.take(std::move(reply));
  }
  co_return run.result();
}

}  // namespace dspy::detail
