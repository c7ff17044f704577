// What differs between LM providers: where they live, how they authenticate, and the shape of
// their request and reply bodies (OpenAI chat completions, or Anthropic's Messages API).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "../../primitives/error.hpp"
#include "../../primitives/message.hpp"
#include "../config.hpp"
#include "sse.hpp"

namespace dspy::detail {

enum class WireApi : std::uint8_t { openai_chat, anthropic_messages, openai_responses };

/// A provider prefix of a DSPy/LiteLLM model string ("groq/llama-3.1-8b-instant").
struct Provider {
  std::string_view prefix;
  WireApi api;
  std::string_view key_env[2];   ///< environment variables holding the key, first found wins
  std::string_view base_env[2];  ///< environment variables holding the base URL
  std::string_view default_base; ///< empty: the base URL must be given
};

// LiteLLM's environment variable names and default endpoints. Ollama and vLLM speak the
// OpenAI protocol under /v1.
inline constexpr Provider providers[] = {
    {"openai", WireApi::openai_chat, {"OPENAI_API_KEY", {}}, {"OPENAI_BASE_URL", "OPENAI_API_BASE"},
     "https://api.openai.com/v1"},
    {"anthropic", WireApi::anthropic_messages, {"ANTHROPIC_API_KEY", {}}, {"ANTHROPIC_API_BASE", "ANTHROPIC_BASE_URL"},
     "https://api.anthropic.com"},
    {"ollama_chat", WireApi::openai_chat, {"OLLAMA_API_KEY", {}}, {"OLLAMA_API_BASE", {}}, "http://localhost:11434/v1"},
    {"ollama", WireApi::openai_chat, {"OLLAMA_API_KEY", {}}, {"OLLAMA_API_BASE", {}}, "http://localhost:11434/v1"},
    {"hosted_vllm", WireApi::openai_chat, {"HOSTED_VLLM_API_KEY", {}}, {"HOSTED_VLLM_API_BASE", {}}, {}},
    {"openrouter", WireApi::openai_chat, {"OPENROUTER_API_KEY", {}}, {"OPENROUTER_API_BASE", {}},
     "https://openrouter.ai/api/v1"},
    {"groq", WireApi::openai_chat, {"GROQ_API_KEY", {}}, {"GROQ_API_BASE", {}}, "https://api.groq.com/openai/v1"},
    {"together_ai", WireApi::openai_chat, {"TOGETHERAI_API_KEY", "TOGETHER_API_KEY"}, {"TOGETHERAI_API_BASE", {}},
     "https://api.together.xyz/v1"},
    {"deepseek", WireApi::openai_chat, {"DEEPSEEK_API_KEY", {}}, {"DEEPSEEK_API_BASE", {}}, "https://api.deepseek.com/v1"},
    {"mistral", WireApi::openai_chat, {"MISTRAL_API_KEY", {}}, {"MISTRAL_API_BASE", {}}, "https://api.mistral.ai/v1"},
};

/// Where and as whom a client of `model` calls: its provider (null: unknown prefix), wire API and
/// model id, the base URL and key (the settings', else the provider's environment variables and
/// default endpoint), or why no call can be made. `settings` names the settings struct for the
/// messages ("LMConfig").
struct Endpoint {
  const Provider* provider = nullptr;
  WireApi api = WireApi::openai_chat;
  std::string model_id;
  std::string base;
  std::string key;
  std::string problem;  ///< empty: calls can be made
};

DSPY_DECL Endpoint resolve_endpoint(std::string_view model, std::string api_base, const std::optional<std::string>& api_key,
                                    std::string_view settings);

/// `defaults` ("Name: value" lines) with `extra` added, each replacing a default of the same name.
DSPY_DECL std::vector<std::string> with_headers(std::vector<std::string> defaults,
                                                const std::vector<std::pair<std::string, std::string>>& extra);

/// The request headers of an OpenAI-compatible call: JSON, and the key as a bearer token (if any).
DSPY_DECL std::vector<std::string> bearer_headers(const std::string& key);

/// Turning TLS verification off must be visible: once per process for each client and endpoint
/// (`where`, with `key` redacted from it). `option` names the setting ("LMConfig::verify_tls").
DSPY_DECL void warn_tls_unverified(const std::string& where, std::string_view key, std::string_view option);

/// The endpoint for a base URL, accepting a base given with or without the API path.
DSPY_DECL std::string endpoint_url(WireApi api, std::string base);

/// OpenAI's reasoning models take max_completion_tokens: o1, o3, o4, o5 (optionally -mini, -nano
/// or -pro, then optionally a -YYYY-MM-DD date) and gpt-5 and its variants except gpt-5-chat.
DSPY_DECL bool openai_reasoning_model(std::string_view model_id);

// What a model family does natively, as LiteLLM's model table reports it for the common ones;
// anything else reports nothing (LMConfig::capabilities says otherwise).
DSPY_DECL LMCapabilities known_capabilities(std::string_view model);

// Why a request's content cannot go to this API (Anthropic reads no audio, and files only by
// data URI or file id), or nullopt.
DSPY_DECL std::optional<std::string> unsupported_content(WireApi api, const LMRequest& request);

/// The request body as JSON text; `config` already merged (LM defaults < call), its `extra`
/// fields last (replacing a field of the same name in place). `rollout_id` is never sent. With
/// `stream`, the reply comes as server-sent events (with usage at the end, for OpenAI).
DSPY_DECL std::string request_body(WireApi api, const std::string& model_id, const LMRequest& request,
                                   const CallConfig& config, bool stream = false);

// A whole number from a reply (an index, a token count); a count past INT64_MAX is held there,
// and anything else is 0. Negative counts pass through for the LM front to reject.
DSPY_DECL std::int64_t int_field(const boost::json::object& o, std::string_view key);

// The usage's total when the reply does not give one.
DSPY_DECL void complete_total(Usage& u);

/// The completions and usage of a 2xx reply, or why the reply is unusable.
DSPY_DECL Result<LMResponse> parse_reply(WireApi api, std::string_view body);

/// The provider's own error text ({"error": {"message": ...}} in both APIs), else the body's start.
DSPY_DECL std::string provider_message(std::string_view body);

/// The error code of a non-2xx reply, after any retries.
DSPY_DECL Errc status_errc(long status, std::string_view body);

/// Reads a streamed reply as it arrives: server-sent events of either API (OpenAI chunks up to
/// `[DONE]`, Anthropic's message_start ... message_stop), or a plain JSON reply from a server
/// that does not stream. The first completion's text goes to `on_text` as it comes.
class StreamDecoder {
 public:
  StreamDecoder(WireApi api, const TextSink& on_text) : api_(api), on_text_(on_text) {}

  /// False: stop reading (an error event, or an event that is not JSON); error() says why.
  bool feed(std::string_view bytes);

  /// The reply, once the transfer has ended without a transport error.
  [[nodiscard]] Result<LMResponse> finish();

  /// An error event (or unreadable event) stopped the stream.
  [[nodiscard]] const std::optional<Error>& error() const noexcept { return error_; }
  /// Text went to `on_text`: a retry would repeat it.
  [[nodiscard]] bool delivered() const noexcept { return delivered_; }
  /// The body read so far, for error reports.
  [[nodiscard]] const std::string& raw() const noexcept { return raw_; }

 private:
  bool event(const SseEvent& e);
  bool openai_chunk(const boost::json::object& o);
  bool responses_event(const boost::json::object& o);
  bool anthropic_event(const boost::json::object& o);
  void text(std::size_t index, std::string_view piece);
  void reasoning(std::size_t index, std::string_view piece);

  // The call at `index` of choice `choice`, made on first sight; null past sane bounds.
  MessageToolCall* tool_call(std::size_t choice, std::size_t index);
  bool fail(Errc code, std::string what, std::string_view data);

  WireApi api_;
  const TextSink& on_text_;
  SseParser sse_;
  std::string head_;  ///< the bytes before the first non-whitespace one
  bool decided_ = false;
  bool plain_json_ = false;
  bool done_ = false;
  bool delivered_ = false;
  std::vector<std::string> texts_;
  std::vector<std::string> reasonings_;  ///< per choice, the model's own reasoning
  bool reasoned_ = false;
  std::vector<std::vector<MessageToolCall>> calls_;  ///< per choice, streamed tool calls
  std::vector<std::int64_t> tool_blocks_;           ///< Anthropic: the content block of each call
  Usage usage_;
  std::string raw_;
  std::optional<Error> error_;
};

}  // namespace dspy::detail

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "provider_impl.hpp"
#endif
