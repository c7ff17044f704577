// The message model: a chat message, and what a predictor sends an LM (LMRequest) and gets back
// (LMResponse).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>

#include "../detail/text/json_string.hpp"

namespace dspy {

/// One part of a message's content, as OpenAI chat completions writes it: `{"type": "text",
/// "text": ...}`, `{"type": "image_url", "image_url": {"url": ...}}`, `input_audio`, `file` or
/// `document`. Key order is kept: it reaches the wire as written.
using ContentPart = boost::json::object;

/// A message's content: a text, or a list of content parts (what images, audio, files and
/// documents in a prompt become). `text()` is the text either way (for parts, the text parts
/// joined), so code that reads prompts as text works on both.
class Content {
 public:
  Content() = default;
  Content(std::string text) : text_(std::move(text)) {}  // NOLINT: a text is a content
  Content(const char* text) : text_(text) {}             // NOLINT
  Content(std::string_view text) : text_(text) {}        // NOLINT
  explicit Content(std::vector<ContentPart> parts) : parts_(std::move(parts)) { join_text(); }

  /// A text whose copies share one immutable string: a predictor's system message, the same in
  /// each of its calls, is then neither copied into every request nor kept once per history
  /// entry, and its JSON string literal is written once, not for every request body.
  [[nodiscard]] static Content shared(std::string text) {
    auto t = std::make_shared<SharedText>();
    t->text = std::move(text);
    detail::append_json_string(t->json, t->text);
    Content c;
    c.shared_ = std::move(t);
    return c;
  }

  /// A text (no parts).
  [[nodiscard]] bool is_text() const noexcept { return parts_.empty(); }
  /// The text, or the text parts joined.
  [[nodiscard]] const std::string& text() const noexcept { return shared_ ? shared_->text : text_; }
  /// text() as a JSON string literal when this content keeps it (a shared() one); else empty.
  [[nodiscard]] std::string_view json_string() const noexcept {
    return shared_ ? std::string_view(shared_->json) : std::string_view();
  }
  /// The parts; empty for a text.
  [[nodiscard]] const std::vector<ContentPart>& parts() const noexcept { return parts_; }

  /// Rewrites the text, or each text part (redaction); other parts are kept.
  template <class F>
  void transform_text(F&& f) {
    if (parts_.empty()) {
      text_ = f(shared_ ? std::string(shared_->text) : std::move(text_));
      shared_.reset();
      return;
    }
    for (auto& p : parts_)
      if (auto* t = p.if_contains("text"); t && t->is_string() && is_text_part(p))
        *t = f(std::string(t->get_string()));
    join_text();
  }

  /// The content as the OpenAI API writes it: a string, or the array of parts.
  [[nodiscard]] boost::json::value to_json() const {
    if (parts_.empty()) return boost::json::string(text());
    return boost::json::array(parts_.begin(), parts_.end());
  }

  friend bool operator==(const Content& a, const Content& b) { return a.text() == b.text() && a.parts_ == b.parts_; }

  [[nodiscard]] static bool is_text_part(const ContentPart& p) {
    const auto* type = p.if_contains("type");
    return type && type->is_string() && type->get_string() == "text";
  }

 private:
  void join_text() {
    text_.clear();
    for (const auto& p : parts_)
      if (const auto* t = p.if_contains("text"); t && t->is_string() && is_text_part(p)) text_ += t->get_string();
  }

  struct SharedText {
    std::string text;
    std::string json;  // the text as a JSON string literal
  };
  std::string text_;
  std::shared_ptr<const SharedText> shared_;  // set by shared(): then the text, and text_ is empty
  std::vector<ContentPart> parts_;
};

/// A function call an assistant message asks for (OpenAI's `tool_calls` entry, Anthropic's
/// `tool_use` block): the call's id, the function's name and its arguments as JSON text.
struct MessageToolCall {
  std::string id{};
  std::string name{};
  std::string arguments{};  ///< a JSON object's text, as the wire carries it
  friend bool operator==(const MessageToolCall&, const MessageToolCall&) = default;
};

struct Message {
  std::string role{};  ///< "system", "user", "assistant" or "tool"
  Content content{};
  /// An assistant message's function calls (native tool calling); its content is then null on
  /// the wire when it has no text.
  std::vector<MessageToolCall> tool_calls{};
  /// A "tool" message: the call it answers and the function's name.
  std::string tool_call_id{};
  std::string name{};
  friend bool operator==(const Message&, const Message&) = default;
};

namespace detail {
/// Tool calls as `[{"id", "name", "arguments"}]` (the cache's form).
inline boost::json::array tool_calls_json(const std::vector<MessageToolCall>& calls) {
  boost::json::array out;
  for (const auto& c : calls) out.push_back(boost::json::object{{"id", c.id}, {"name", c.name}, {"arguments", c.arguments}});
  return out;
}

/// A message as OpenAI's chat API writes it: role and content (null for an assistant's tool calls
/// without text), then `tool_calls` (`{"type", "function": {"name", "arguments"}, "id"}`) or a
/// tool message's `tool_call_id` and `name`, in the order DSPy's requests have them.
inline boost::json::object message_json(const Message& m) {
  boost::json::object o{{"role", m.role}};
  o["content"] = !m.tool_calls.empty() && m.content.is_text() && m.content.text().empty() ? boost::json::value(nullptr)
                                                                                            : m.content.to_json();
  if (!m.tool_calls.empty()) {
    boost::json::array calls;
    for (const auto& c : m.tool_calls) {
      boost::json::object call{{"type", "function"}, {"function", {{"name", c.name}, {"arguments", c.arguments}}}};
      if (!c.id.empty()) call["id"] = c.id;
      calls.push_back(std::move(call));
    }
    o["tool_calls"] = std::move(calls);
  }
  if (m.role == "tool") {
    o["tool_call_id"] = m.tool_call_id;
    o["name"] = m.name;
  }
  return o;
}

/// The inverse of tool_calls_json; false on anything else.
inline bool tool_calls_from_json(const boost::json::value& v, std::vector<MessageToolCall>& out) {
  const auto* a = v.if_array();
  if (!a) return false;
  for (const auto& e : *a) {
    const auto* o = e.if_object();
    if (!o) return false;
    MessageToolCall c;
    for (auto [key, field] : {std::pair{"id", &c.id}, {"name", &c.name}, {"arguments", &c.arguments}}) {
      const auto* f = o->if_contains(key);
      if (!f || !f->is_string()) return false;
      *field = f->get_string();
    }
    out.push_back(std::move(c));
  }
  return true;
}

/// a + b, held at the int64 limits instead of overflowing: token counts come from replies.
[[nodiscard]] constexpr std::int64_t saturating_add(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) return a < 0 ? INT64_MIN : INT64_MAX;
  return sum;
}
}  // namespace detail

/// Token counts of one call (zero on a cache hit). Never negative: the LM front rejects a reply
/// that claims a negative count; sums saturate at INT64_MAX.
struct Usage {
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  std::int64_t total_tokens = 0;
  Usage& operator+=(const Usage& o) noexcept {
    prompt_tokens = detail::saturating_add(prompt_tokens, o.prompt_tokens);
    completion_tokens = detail::saturating_add(completion_tokens, o.completion_tokens);
    total_tokens = detail::saturating_add(total_tokens, o.total_tokens);
    return *this;
  }
  friend bool operator==(const Usage&, const Usage&) = default;
};

/// Tokens per model name (DSPy's `get_lm_usage()` / `get_total_tokens()`).
using LMUsage = std::map<std::string, Usage, std::less<>>;

/// Per-call LM parameters. Unset fields fall back to the predictor's, then to the LM's defaults.
struct CallConfig {
  // Every member has an initializer so that designated initializers may leave any out without
  // -Wmissing-field-initializers noise in user code.
  std::optional<double> temperature{};
  std::optional<int> max_tokens{};
  std::optional<int> n{};  ///< number of completions
  std::optional<std::vector<std::string>> stop{};
  /// DSPy's rollout_id: part of the cache key (a fresh sample per id), never sent to the provider.
  std::optional<std::int64_t> rollout_id{};
  boost::json::object extra{};  ///< extra request-body fields, merged last
  /// Per-attempt timeout of this call (connect included); unset: the LM's. Not part of the cache key.
  std::optional<std::chrono::milliseconds> timeout{};

  /// This config with every field that `over` sets taken from `over`.
  [[nodiscard]] CallConfig merged_with(const CallConfig& over) const {
    CallConfig out = *this;
    if (over.temperature) out.temperature = over.temperature;
    if (over.max_tokens) out.max_tokens = over.max_tokens;
    if (over.n) out.n = over.n;
    if (over.stop) out.stop = over.stop;
    if (over.rollout_id) out.rollout_id = over.rollout_id;
    for (const auto& kv : over.extra) out.extra[kv.key()] = kv.value();
    if (over.timeout) out.timeout = over.timeout;
    return out;
  }
};

struct LMRequest {
  std::vector<Message> messages{};
  CallConfig config{};
  /// OpenAI `response_format` (the JSONAdapter asks for a JSON object); null when not needed.
  boost::json::value response_format{};
  /// Native function calling: the functions the model may call, in OpenAI's chat form
  /// (`{"type": "function", "function": {"name", "parameters", "description"}}`); each provider's
  /// body writes them its own way. Empty: none.
  boost::json::array tools{};
  /// "auto", "required", "none", or `{"type": "function", "function": {"name": ...}}`; null: unset.
  boost::json::value tool_choice{};
  /// Whether the model may ask for several calls at once; unset: the provider's default.
  std::optional<bool> parallel_tool_calls{};
};

/// What a model does natively (DSPy's `lm.supports_function_calling`, `supports_reasoning`,
/// `supports_response_schema`). Adapters and types use them to pick native features: a
/// dspy::Reasoning output, for one, leaves the prompt and takes the reply's own reasoning.
struct LMCapabilities {
  bool function_calling = false;
  bool reasoning = false;
  bool response_schema = false;
  friend bool operator==(const LMCapabilities&, const LMCapabilities&) = default;
};

struct LMResponse {
  std::vector<std::string> completions{};  ///< one per choice (n)
  /// Per choice, the model's own reasoning (OpenAI-compatible `reasoning_content`, Anthropic
  /// thinking blocks); empty when the reply has none.
  std::vector<std::string> reasoning{};
  /// Per choice, the citations of the reply's text (Anthropic's Citations API); empty when none.
  std::vector<boost::json::array> citations{};
  /// Per choice, the function calls the model asked for (native tool calling); empty when none.
  std::vector<std::vector<MessageToolCall>> tool_calls{};
  Usage usage{};
  std::string model{};
  bool cache_hit = false;
  /// Attempts after the first that the transport made for this reply (0 from the cache).
  int retries = 0;
  /// How long the call took, as the LM front measured it (a cache hit's too).
  std::chrono::nanoseconds latency{};
};

/// Receives the text of a reply's first completion as it arrives, piece by piece.
using TextSink = std::function<void(std::string_view)>;

}  // namespace dspy
