// The bodies of provider.hpp: header-only, provider.hpp includes them; with
// DSPY_SEPARATE_COMPILATION, <dspy/src.hpp> compiles them once.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "../../primitives/error.hpp"
#include "../../primitives/message.hpp"
#include "../text/pytext.hpp"
#include "../text/redact.hpp"
#include "../text/tolerant.hpp"
#include "provider.hpp"
#include "sse.hpp"

namespace dspy::detail {

/// The provider of `model` and the model id sent on the wire; a model without a prefix is
/// OpenAI's (as in DSPy). Null provider: the prefix is unknown.
inline std::pair<const Provider*, std::string> split_model(std::string_view model) {
  const auto slash = model.find('/');
  if (slash == std::string_view::npos) return {&providers[0], std::string(model)};
  const std::string_view prefix = model.substr(0, slash);
  for (const auto& p : providers)
    if (p.prefix == prefix) return {&p, std::string(model.substr(slash + 1))};
  return {nullptr, std::string(model.substr(slash + 1))};
}

inline std::string first_env(const std::string_view (&names)[2]) {
  for (auto name : names) {
    if (name.empty()) continue;
    if (const char* v = std::getenv(std::string(name).c_str()); v && *v) return v;
  }
  return {};
}

inline bool iequals_prefix(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && iequals(text.substr(0, prefix.size()), prefix);
}

DSPY_DECL Endpoint resolve_endpoint(std::string_view model, std::string api_base, const std::optional<std::string>& api_key,
                                    std::string_view settings) {
  Endpoint out;
  auto [provider, model_id] = split_model(model);
  out.provider = provider;
  out.model_id = std::move(model_id);
  out.api = provider ? provider->api : WireApi::openai_chat;
  out.base = std::move(api_base);
  if (out.base.empty() && provider) out.base = first_env(provider->base_env);
  const bool hosted = out.base.empty() && provider && !provider->default_base.empty();
  if (hosted) out.base = std::string(provider->default_base);
  out.key = api_key ? *api_key : (provider ? first_env(provider->key_env) : std::string());
  const std::string where(settings);
  if (out.base.empty()) {
    out.problem = provider ? "no API base URL: set " + where + "::api_base or " + std::string(provider->base_env[0])
                           : "unknown provider prefix: set " + where + "::api_base for an OpenAI-compatible server";
  } else if (hosted && out.key.empty()) {
    out.problem = "no API key: set " + where + "::api_key or " + std::string(provider->key_env[0]);
  } else if (!iequals_prefix(out.base, "http://") && !iequals_prefix(out.base, "https://")) {
    out.problem = "the API base URL must be http:// or https:// (got " + redact(out.base, out.key) + ")";
  }
  return out;
}

DSPY_DECL std::vector<std::string> with_headers(std::vector<std::string> defaults,
                                                const std::vector<std::pair<std::string, std::string>>& extra) {
  for (const auto& header : extra) {
    std::erase_if(defaults, [&](const std::string& h) { return header_named(h, header.first); });
    defaults.push_back(header.first + ": " + header.second);
  }
  return defaults;
}

DSPY_DECL std::vector<std::string> bearer_headers(const std::string& key) {
  std::vector<std::string> out{"Content-Type: application/json"};
  if (!key.empty()) out.push_back("Authorization: Bearer " + key);
  return out;
}

DSPY_DECL void warn_tls_unverified(const std::string& where, std::string_view key, std::string_view option) {
  static std::mutex mutex;
  static std::set<std::string> warned;
  {
    std::lock_guard lock(mutex);
    if (!warned.insert(where).second) return;
  }
  std::fprintf(stderr,
               "dspy: warning: TLS peer verification is OFF for %s (%.*s = false): anyone on the path can read and "
               "change its calls\n",
               redact(where, key).c_str(), static_cast<int>(option.size()), option.data());
}

DSPY_DECL std::string endpoint_url(WireApi api, std::string base) {
  while (!base.empty() && base.back() == '/') base.pop_back();
  if (api == WireApi::openai_chat) return base.ends_with("/chat/completions") ? base : base + "/chat/completions";
  if (api == WireApi::openai_responses) return base.ends_with("/responses") ? base : base + "/responses";
  if (base.ends_with("/v1/messages")) return base;
  return base.ends_with("/v1") ? base + "/messages" : base + "/v1/messages";
}

DSPY_DECL bool openai_reasoning_model(std::string_view model_id) {
  const auto slash = model_id.rfind('/');
  std::string s(slash == std::string_view::npos ? model_id : model_id.substr(slash + 1));
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c); });
  std::string_view rest(s);
  if (rest.starts_with("gpt-5")) {
    rest.remove_prefix(5);
    return rest.empty() || (rest.front() == '-' && !rest.starts_with("-chat"));
  }
  if (rest.size() < 2 || rest[0] != 'o' || std::string_view("1345").find(rest[1]) == std::string_view::npos)
    return false;
  rest.remove_prefix(2);
  for (std::string_view size : {"-mini", "-nano", "-pro"})
    if (rest.starts_with(size)) {
      rest.remove_prefix(size.size());
      break;
    }
  if (rest.empty()) return true;
  const auto digit = [&](std::size_t i) { return rest[i] >= '0' && rest[i] <= '9'; };
  return rest.size() == 11 && rest[0] == '-' && rest[5] == '-' && rest[8] == '-' && digit(1) && digit(2) &&
         digit(3) && digit(4) && digit(6) && digit(7) && digit(9) && digit(10);
}

inline boost::json::array string_array(const std::vector<std::string>& v) {
  boost::json::array out;
  for (const auto& s : v) out.emplace_back(s);
  return out;
}

DSPY_DECL LMCapabilities known_capabilities(std::string_view model) {
  std::string m(model);
  std::transform(m.begin(), m.end(), m.begin(),
                 [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c); });
  const auto has = [&](std::string_view s) { return m.find(s) != std::string::npos; };
  const std::string_view name = std::string_view(m).substr(m.rfind('/') == std::string::npos ? 0 : m.rfind('/') + 1);
  LMCapabilities c;
  if (has("claude")) {
    c.function_calling = c.response_schema = true;
    c.reasoning = has("claude-3-7") || has("sonnet-4") || has("opus-4") || has("haiku-4");
  } else if (name.starts_with("gpt-4") || name.starts_with("gpt-5") || openai_reasoning_model(name)) {
    c.function_calling = c.response_schema = true;
    c.reasoning = openai_reasoning_model(name);
  } else if (has("deepseek-reasoner") || has("deepseek-r1") || has("qwq")) {
    c.reasoning = true;
  } else if (has("gemini-2.5")) {
    c = {true, true, true};
  }
  return c;
}

// A `data:<media type>;base64,<payload>` URI split in two; nullopt for anything else.
struct DataUri {
  std::string_view media_type;
  std::string_view data;
};

inline std::optional<DataUri> split_data_uri(std::string_view uri) {
  if (!uri.starts_with("data:")) return std::nullopt;
  const std::size_t comma = uri.find(',');
  const std::size_t semi = uri.find(';');
  if (comma == std::string_view::npos || semi == std::string_view::npos || semi > comma ||
      uri.substr(semi, comma - semi) != ";base64")
    return std::nullopt;
  return DataUri{uri.substr(5, semi - 5), uri.substr(comma + 1)};
}

inline const boost::json::object* sub_object(const ContentPart& part, std::string_view key) {
  const auto* v = part.if_contains(key);
  return v ? v->if_object() : nullptr;
}

inline std::string_view sub_string(const boost::json::object* o, std::string_view key) {
  const auto* v = o ? o->if_contains(key) : nullptr;
  return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

DSPY_DECL std::optional<std::string> unsupported_content(WireApi api, const LMRequest& request) {
  if (api != WireApi::anthropic_messages) return std::nullopt;
  for (std::size_t k = 0; k < request.messages.size(); ++k)
    for (const ContentPart& part : request.messages[k].content.parts()) {
      const std::string_view type = sub_string(&part, "type");
      const auto where = [&] { return " (message " + std::to_string(k) + ", " + request.messages[k].role + ")"; };
      if (type == "input_audio") return "the Anthropic Messages API takes no audio input" + where();
      if (type == "image_url" && sub_string(sub_object(part, "image_url"), "url").starts_with("data:") &&
          !split_data_uri(sub_string(sub_object(part, "image_url"), "url")))
        return "an image's data URI is not base64 (`data:<type>;base64,<data>`)" + where();
      if (type == "file") {
        const auto* file = sub_object(part, "file");
        if (sub_string(file, "file_id").empty() && !split_data_uri(sub_string(file, "file_data")))
          return "a file needs a base64 data URI or a file id for the Anthropic Messages API" + where();
      }
    }
  return std::nullopt;
}

// A content part as an Anthropic content block: images by URL or base64 source, files as
// documents; text and documents (DSPy writes them in Anthropic's shape) pass as they are.
inline boost::json::object anthropic_block(const ContentPart& part) {
  const std::string_view type = sub_string(&part, "type");
  if (type == "image_url") {
    const std::string_view url = sub_string(sub_object(part, "image_url"), "url");
    if (const auto uri = split_data_uri(url))
      return {{"type", "image"}, {"source", {{"type", "base64"}, {"media_type", uri->media_type}, {"data", uri->data}}}};
    return {{"type", "image"}, {"source", {{"type", "url"}, {"url", url}}}};
  }
  if (type == "file") {
    const auto* file = sub_object(part, "file");
    boost::json::object block{{"type", "document"}};
    if (const auto uri = split_data_uri(sub_string(file, "file_data")))
      block["source"] = {{"type", "base64"}, {"media_type", uri->media_type}, {"data", uri->data}};
    else
      block["source"] = {{"type", "file"}, {"file_id", sub_string(file, "file_id")}};
    if (const auto name = sub_string(file, "filename"); !name.empty()) block["title"] = name;
    return block;
  }
  return part;
}

inline boost::json::value anthropic_content(const Content& content) {
  if (content.is_text()) return boost::json::string(content.text());
  boost::json::array blocks;
  for (const ContentPart& part : content.parts()) blocks.push_back(anthropic_block(part));
  return blocks;
}

// A content part as a Responses API input block (DSPy's content_block_to_responses): text typed
// by direction (a replayed assistant turn is output), images by URL, files flattened.
inline boost::json::object responses_block(const ContentPart& part, std::string_view role) {
  const std::string_view type = sub_string(&part, "type");
  const char* text_type = role == "assistant" ? "output_text" : "input_text";
  if (type == "text") return {{"type", text_type}, {"text", sub_string(&part, "text")}};
  if (type == "image_url") return {{"type", "input_image"}, {"image_url", sub_string(sub_object(part, "image_url"), "url")}};
  if (type == "file") {
    boost::json::object block{{"type", "input_file"}};
    for (const char* key : {"file_data", "filename", "file_id"})
      if (const auto v = sub_string(sub_object(part, "file"), key); !v.empty()) block[key] = v;
    return block;
  }
  return part;
}

// The Responses API body (DSPy's model_type="responses"): messages become `input` items, the
// effort becomes `reasoning` (with an automatic summary, which comes back as the reasoning), a
// response_format becomes `text.format`.
inline boost::json::object responses_body(const std::string& model_id, const LMRequest& request,
                                          const CallConfig& config, bool stream) {
  boost::json::object body;
  body["model"] = model_id;
  boost::json::array input;
  for (const auto& m : request.messages) {
    // Function calls and their outputs are input items of their own.
    if (m.role == "tool") {
      input.push_back({{"type", "function_call_output"}, {"call_id", m.tool_call_id}, {"output", m.content.text()}});
      continue;
    }
    if (m.tool_calls.empty() || !m.content.is_text() || !m.content.text().empty()) {
      boost::json::array content;
      if (m.content.is_text()) content.push_back(responses_block({{"type", "text"}, {"text", m.content.text()}}, m.role));
      for (const ContentPart& part : m.content.parts()) content.push_back(responses_block(part, m.role));
      input.push_back({{"role", m.role}, {"content", std::move(content)}});
    }
    for (const auto& c : m.tool_calls)
      input.push_back({{"type", "function_call"}, {"call_id", c.id}, {"name", c.name}, {"arguments", c.arguments}});
  }
  body["input"] = std::move(input);
  if (!request.tools.empty()) {
    boost::json::array tools;  // flat: {"type", "name", "description", "parameters"}
    for (const auto& t : request.tools) {
      boost::json::object tool{{"type", "function"}};
      if (const auto* f = sub_object(t.as_object(), "function"))
        for (const auto& kv : *f) tool[kv.key()] = kv.value();
      tools.push_back(std::move(tool));
    }
    body["tools"] = std::move(tools);
  }
  if (const auto* o = request.tool_choice.if_object())
    body["tool_choice"] = {{"type", "function"}, {"name", sub_string(sub_object(*o, "function"), "name")}};
  else if (!request.tool_choice.is_null()) body["tool_choice"] = request.tool_choice;
  if (request.parallel_tool_calls) body["parallel_tool_calls"] = *request.parallel_tool_calls;
  for (const auto& kv : config.extra)
    if (kv.key() != "reasoning_effort") body[kv.key()] = kv.value();
  if (config.temperature) body["temperature"] = *config.temperature;
  if (config.max_tokens) body["max_output_tokens"] = *config.max_tokens;
  if (config.n) body["n"] = *config.n;
  if (config.stop) body["stop"] = string_array(*config.stop);
  if (const auto* effort = config.extra.if_contains("reasoning_effort"); effort && !body.contains("reasoning"))
    body["reasoning"] = {{"effort", *effort}, {"summary", "auto"}};
  if (const auto* format = request.response_format.if_object()) {
    boost::json::object f = *format;  // chat's {"type", "json_schema": {...}} is flat here
    if (const auto* inner = format->if_contains("json_schema"); inner && inner->is_object()) {
      f.erase("json_schema");
      for (const auto& kv : inner->get_object()) f[kv.key()] = kv.value();
    }
    body["text"] = {{"format", std::move(f)}};
  }
  if (stream) body["stream"] = true;
  return body;
}

// Native tool calling in Anthropic's shape: an assistant's calls become `tool_use` blocks after
// its text, and the tool messages that follow become one user message of `tool_result` blocks.
inline std::vector<Message> anthropic_tool_messages(const std::vector<Message>& messages) {
  std::vector<Message> out;
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const Message& m = messages[i];
    if (m.role == "tool") {
      std::vector<ContentPart> results;  // this tool message and those right after it
      for (; i < messages.size() && messages[i].role == "tool"; ++i)
        results.push_back({{"type", "tool_result"},
                           {"tool_use_id", messages[i].tool_call_id},
                           {"content", messages[i].content.text()}});
      --i;
      out.push_back({.role = "user", .content = Content(std::move(results))});
      continue;
    }
    if (m.tool_calls.empty()) {
      out.push_back(m);
      continue;
    }
    std::vector<ContentPart> parts;
    if (!m.content.is_text()) parts = m.content.parts();
    else if (!m.content.text().empty()) parts.push_back({{"type", "text"}, {"text", m.content.text()}});
    for (const auto& c : m.tool_calls) {
      boost::system::error_code ec;
      boost::json::value input = boost::json::parse(c.arguments, ec);
      if (ec || !input.is_object()) input = boost::json::object{};
      parts.push_back({{"type", "tool_use"}, {"id", c.id}, {"name", c.name}, {"input", std::move(input)}});
    }
    out.push_back({.role = m.role, .content = Content(std::move(parts))});
  }
  return out;
}

// OpenAI's tool_choice in Anthropic's words ("required" is "any"; a named function is a "tool"),
// with parallel calls turned off by `disable_parallel_tool_use`. Empty: send none.
inline boost::json::object anthropic_tool_choice(const LMRequest& request) {
  boost::json::object choice;
  const boost::json::value& c = request.tool_choice;
  if (c.is_string()) choice["type"] = c.get_string() == "required" ? "any" : c.get_string();
  else if (const auto* o = c.if_object()) choice = {{"type", "tool"}, {"name", sub_string(sub_object(*o, "function"), "name")}};
  if (request.parallel_tool_calls && !*request.parallel_tool_calls) {
    if (choice.empty()) choice["type"] = "auto";
    choice["disable_parallel_tool_use"] = true;
  }
  return choice;
}

/// Writes a request body as JSON text straight into a string: the shape is fixed, so no DOM is
/// built (the DOM and its serializer cost more than the call's formatting). Keys are written in
/// the order a boost::json::object would hold them, and strings and numbers as its serializer
/// writes them.
class BodyWriter {
 public:
  BodyWriter(std::string& out, const boost::json::object& extra) : out_(out), extra_(extra) { out_ += '{'; }

  /// The field `key`, unless `extra` sets it: then extra's value goes here, where the DOM's
  /// assignment would have put it. `write` appends the value.
  template <class Write>
  void field(std::string_view key, Write&& write) {
    start_key(key);
    if (const auto* v = extra_.empty() ? nullptr : extra_.if_contains(key)) {
      value(*v);
      written_.push_back(key);
    } else {
      std::forward<Write>(write)();
    }
  }

  void string(std::string_view s) { append_json_string(out_, s); }

  void strings(const std::vector<std::string>& v) {
    out_ += '[';
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (i) out_ += ',';
      string(v[i]);
    }
    out_ += ']';
  }

  /// Any JSON value (numbers as boost::json writes them).
  void value(const boost::json::value& v) { out_ += boost::json::serialize(v); }

  /// The rest of `extra` (the keys no field() took), then the closing brace.
  void finish() {
    for (const auto& kv : extra_) {
      if (std::find(written_.begin(), written_.end(), kv.key()) != written_.end()) continue;
      start_key(kv.key());
      value(kv.value());
    }
    out_ += '}';
  }

  /// The messages as [{"role": ..., "content": ...}, ...], skipping those `skip` is true for;
  /// `content` writes a message's content that is not plain text (its parts).
  template <class Skip, class Parts>
  void messages(const std::vector<Message>& messages, Skip&& skip, Parts&& content) {
    out_ += '[';
    bool first = true;
    for (const auto& m : messages) {
      if (skip(m)) continue;
      if (!first) out_ += ',';
      first = false;
      out_ += R"({"role":)";
      string(m.role);
      out_ += R"(,"content":)";
      if (!m.tool_calls.empty() && m.content.is_text() && m.content.text().empty()) out_ += "null";
      else if (const std::string_view json = m.content.json_string(); !json.empty()) out_ += json;
      else if (m.content.is_text()) string(m.content.text());
      else value(content(m.content));
      tool_fields(m);
      out_ += '}';
    }
    out_ += ']';
  }

  std::string& out() { return out_; }

 private:
  // OpenAI's keys for native tool calling, in the order DSPy's requests have them: an assistant's
  // `tool_calls` (`{"type", "function": {"name", "arguments"}, "id"}`), a tool message's
  // `tool_call_id` and `name`.
  void tool_fields(const Message& m) {
    if (!m.tool_calls.empty()) {
      out_ += R"(,"tool_calls":[)";
      for (std::size_t i = 0; i < m.tool_calls.size(); ++i) {
        const MessageToolCall& c = m.tool_calls[i];
        if (i) out_ += ',';
        out_ += R"({"type":"function","function":{"name":)";
        string(c.name);
        out_ += R"(,"arguments":)";
        string(c.arguments);
        out_ += '}';
        if (!c.id.empty()) {
          out_ += R"(,"id":)";
          string(c.id);
        }
        out_ += '}';
      }
      out_ += ']';
    }
    if (m.role == "tool") {
      out_ += R"(,"tool_call_id":)";
      string(m.tool_call_id);
      out_ += R"(,"name":)";
      string(m.name);
    }
  }

  void start_key(std::string_view key) {
    if (out_.back() != '{') out_ += ',';
    string(key);
    out_ += ':';
  }

  std::string& out_;
  const boost::json::object& extra_;
  std::vector<std::string_view> written_;  // keys of `extra` already written in place
};

/// An OpenAI chat completions body (see request_body).
inline void openai_body(BodyWriter& w, const std::string& model_id, const LMRequest& request, const CallConfig& config,
                        bool stream) {
  w.field("model", [&] { w.string(model_id); });
  w.field("messages", [&] {
    w.messages(request.messages, [](const Message&) { return false; }, [](const Content& c) { return c.to_json(); });
  });
  if (config.temperature) w.field("temperature", [&] { w.value(*config.temperature); });
  if (config.max_tokens)
    w.field(openai_reasoning_model(model_id) ? "max_completion_tokens" : "max_tokens",
            [&] { w.value(*config.max_tokens); });
  if (config.n) w.field("n", [&] { w.value(*config.n); });
  if (config.stop) w.field("stop", [&] { w.strings(*config.stop); });
  if (!request.response_format.is_null()) w.field("response_format", [&] { w.value(request.response_format); });
  if (!request.tools.empty()) w.field("tools", [&] { w.value(request.tools); });
  if (!request.tool_choice.is_null()) w.field("tool_choice", [&] { w.value(request.tool_choice); });
  if (request.parallel_tool_calls)
    w.field("parallel_tool_calls", [&] { w.out() += *request.parallel_tool_calls ? "true" : "false"; });
  if (stream) {
    w.field("stream", [&] { w.out() += "true"; });
    w.field("stream_options", [&] { w.out() += R"({"include_usage":true})"; });
  }
}

/// An Anthropic Messages body (see request_body): system messages become the `system` field;
/// Anthropic has no `n` and no response_format.
inline void anthropic_body(BodyWriter& w, const std::string& model_id, const LMRequest& request,
                           const CallConfig& config, bool stream) {
  w.field("model", [&] { w.string(model_id); });
  std::string system;
  for (const auto& m : request.messages) {
    if (m.role != "system") continue;
    if (!system.empty()) system += "\n\n";
    system += m.content.text();
  }
  if (!system.empty()) w.field("system", [&] { w.string(system); });
  std::vector<Message> with_blocks;
  const bool tools_in_messages = std::any_of(request.messages.begin(), request.messages.end(), [](const Message& m) {
    return !m.tool_calls.empty() || m.role == "tool";
  });
  if (tools_in_messages) with_blocks = anthropic_tool_messages(request.messages);
  w.field("messages", [&] {
    w.messages(tools_in_messages ? with_blocks : request.messages, [](const Message& m) { return m.role == "system"; },
               &anthropic_content);
  });
  // Required by the API; LiteLLM's default.
  w.field("max_tokens", [&] { w.value(config.max_tokens.value_or(4096)); });
  if (config.temperature) w.field("temperature", [&] { w.value(*config.temperature); });
  if (config.stop) w.field("stop_sequences", [&] { w.strings(*config.stop); });
  if (!request.tools.empty()) {
    w.field("tools", [&] {
      boost::json::array tools;
      for (const auto& t : request.tools) {
        const boost::json::object* f = sub_object(t.as_object(), "function");
        boost::json::object tool{{"name", sub_string(f, "name")}};
        if (const auto d = sub_string(f, "description"); !d.empty()) tool["description"] = d;
        if (const auto* p = f ? f->if_contains("parameters") : nullptr) tool["input_schema"] = *p;
        tools.push_back(std::move(tool));
      }
      w.value(tools);
    });
    if (auto choice = anthropic_tool_choice(request); !choice.empty()) w.field("tool_choice", [&] { w.value(choice); });
  }
  if (stream) w.field("stream", [&] { w.out() += "true"; });
}

DSPY_DECL std::string request_body(WireApi api, const std::string& model_id, const LMRequest& request,
                                   const CallConfig& config, bool stream) {
  if (api == WireApi::openai_responses) return boost::json::serialize(responses_body(model_id, request, config, stream));
  std::string out;
  std::size_t size = 128 + model_id.size();
  for (const auto& m : request.messages) size += 32 + m.content.text().size() + m.content.text().size() / 8;
  out.reserve(size);
  BodyWriter w(out, config.extra);
  if (api == WireApi::openai_chat) openai_body(w, model_id, request, config, stream);
  else anthropic_body(w, model_id, request, config, stream);
  w.finish();
  return out;
}

DSPY_DECL std::int64_t int_field(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v) return 0;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(std::min<std::uint64_t>(v->get_uint64(), INT64_MAX));
  if (v->is_double() && std::trunc(v->get_double()) == v->get_double()) {
    // -2^63 and 2^63 are exact doubles; (double)INT64_MAX is not.
    constexpr double end = 9223372036854775808.0;
    const double d = v->get_double();
    return d >= end ? INT64_MAX : d < -end ? INT64_MIN : static_cast<std::int64_t>(d);
  }
  return 0;
}

DSPY_DECL void complete_total(Usage& u) {
  if (u.total_tokens == 0) u.total_tokens = saturating_add(u.prompt_tokens, u.completion_tokens);
}

// Anthropic's prompt count: cached prompt tokens are prompt tokens too (as LiteLLM counts them).
inline std::int64_t anthropic_prompt_tokens(const boost::json::object& u) {
  return saturating_add(saturating_add(int_field(u, "input_tokens"), int_field(u, "cache_creation_input_tokens")),
                        int_field(u, "cache_read_input_tokens"));
}

inline std::string text_of(const boost::json::value& content) {
  if (content.is_string()) return std::string(content.get_string());
  std::string out;
  if (content.is_array())
    for (const auto& part : content.get_array())
      if (const auto* o = part.if_object())
        if (const auto* t = o->if_contains("text"); t && t->is_string()) out += t->get_string();
  return out;
}

// A tool call's arguments as JSON text: OpenAI sends a string, Anthropic (and some servers) an
// object; anything else is no arguments.
inline std::string arguments_text(const boost::json::value* v) {
  if (v && v->is_string()) return std::string(v->get_string());
  if (v && v->is_object()) return boost::json::serialize(*v);
  return "{}";
}

DSPY_DECL Result<LMResponse> parse_reply(WireApi api, std::string_view body) {
  // The DOM lives only here (the texts are copied out): a bump allocator over a stack buffer
  // makes a typical reply's parse allocation-free, and frees it all at once.
  unsigned char buffer[4096];
  boost::json::monotonic_resource arena(buffer, sizeof buffer);
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(body, ec, &arena);
  if (ec) return Error(Errc::bad_response, "the reply is not JSON (" + ec.message() + ")");
  const auto* o = v.if_object();
  if (!o) return Error(Errc::bad_response, "the reply is not a JSON object");
  LMResponse out;
  const auto* usage = o->if_contains("usage");
  const auto* u = usage ? usage->if_object() : nullptr;
  if (api == WireApi::openai_responses) {
    // Output items: messages' output_text is the text, reasoning items' summary the reasoning.
    const auto* output = o->if_contains("output");
    if (!output || !output->is_array()) return Error(Errc::bad_response, "the reply has no output");
    std::string text, reasoning;
    bool reasoned = false;
    std::vector<MessageToolCall> calls;
    for (const auto& item : output->get_array()) {
      const auto* it = item.if_object();
      if (!it) continue;
      const std::string_view type = sub_string(it, "type");
      if (type == "function_call") {
        calls.push_back({std::string(sub_string(it, "call_id")), std::string(sub_string(it, "name")),
                         arguments_text(it->if_contains("arguments"))});
        continue;
      }
      const auto* blocks = it->if_contains(type == "reasoning" ? "summary" : "content");
      if (!blocks || !blocks->is_array()) continue;
      for (const auto& b : blocks->get_array()) {
        const auto* bo = b.if_object();
        if (!bo) continue;
        if (type == "message" && sub_string(bo, "type") == "output_text") text += sub_string(bo, "text");
        if (type == "reasoning") reasoning += sub_string(bo, "text"), reasoned = true;
      }
    }
    out.completions.push_back(std::move(text));
    if (reasoned) out.reasoning.push_back(std::move(reasoning));
    if (!calls.empty()) out.tool_calls.push_back(std::move(calls));
    if (u) {
      out.usage.prompt_tokens = int_field(*u, "input_tokens");
      out.usage.completion_tokens = int_field(*u, "output_tokens");
      out.usage.total_tokens = int_field(*u, "total_tokens");
    }
  } else if (api == WireApi::openai_chat) {
    const auto* choices = o->if_contains("choices");
    if (!choices || !choices->is_array() || choices->get_array().empty())
      return Error(Errc::bad_response, "the reply has no choices");
    struct Choice {
      std::int64_t index;
      std::string text;
      std::string reasoning;  // reasoning models' `reasoning_content` (DeepSeek, vLLM, LiteLLM)
      std::vector<MessageToolCall> calls;
    };
    std::vector<Choice> indexed;
    bool reasoned = false, called = false;
    for (const auto& c : choices->get_array()) {
      const auto* co = c.if_object();
      const auto* msg = co ? co->if_contains("message") : nullptr;
      if (!msg || !msg->is_object()) return Error(Errc::bad_response, "a choice has no message");
      const auto* content = msg->get_object().if_contains("content");
      const auto* reasoning = msg->get_object().if_contains("reasoning_content");
      const bool has_reasoning = reasoning && reasoning->is_string();
      reasoned = reasoned || has_reasoning;
      std::vector<MessageToolCall> calls;
      if (const auto* tc = msg->get_object().if_contains("tool_calls"); tc && tc->is_array())
        for (const auto& call : tc->get_array()) {
          const auto* c = call.if_object();
          if (!c) continue;
          const boost::json::object* f = sub_object(*c, "function");
          calls.push_back({std::string(sub_string(c, "id")), std::string(sub_string(f, "name")),
                           arguments_text(f ? f->if_contains("arguments") : nullptr)});
        }
      called = called || !calls.empty();
      indexed.push_back({int_field(*co, "index"), content ? text_of(*content) : std::string(),
                         has_reasoning ? std::string(reasoning->get_string()) : std::string(), std::move(calls)});
    }
    // By `index`, ties in reply order: (index, position) pairs are sorted, not the choices (a
    // stable sort of the choices themselves was the largest piece of code here).
    std::vector<std::pair<std::int64_t, std::size_t>> order;
    order.reserve(indexed.size());
    for (std::size_t i = 0; i < indexed.size(); ++i) order.emplace_back(indexed[i].index, i);
    std::sort(order.begin(), order.end());
    for (const auto& [index, at] : order) {
      Choice& c = indexed[at];
      out.completions.push_back(std::move(c.text));
      if (reasoned) out.reasoning.push_back(std::move(c.reasoning));
      if (called) out.tool_calls.push_back(std::move(c.calls));
    }
    if (u) {
      out.usage.prompt_tokens = int_field(*u, "prompt_tokens");
      out.usage.completion_tokens = int_field(*u, "completion_tokens");
      out.usage.total_tokens = int_field(*u, "total_tokens");
    }
  } else {
    const auto* content = o->if_contains("content");
    if (!content || !content->is_array()) return Error(Errc::bad_response, "the reply has no content");
    out.completions.push_back(text_of(*content));
    // Extended thinking: the `thinking` blocks are the reply's reasoning. Text blocks may carry
    // citations of the request's documents (the Citations API), kept in order.
    std::string thinking;
    bool thought = false;
    boost::json::array citations;
    std::vector<MessageToolCall> calls;
    for (const auto& block : content->get_array()) {
      const auto* b = block.if_object();
      if (!b) continue;
      if (sub_string(b, "type") == "tool_use")
        calls.push_back({std::string(sub_string(b, "id")), std::string(sub_string(b, "name")),
                         arguments_text(b->if_contains("input"))});
      if (const auto* t = b->if_contains("thinking"); t && t->is_string()) {
        thinking += t->get_string();
        thought = true;
      }
      if (const auto* c = b->if_contains("citations"); c && c->is_array())
        for (const auto& one : c->get_array()) citations.push_back(one);
    }
    if (thought) out.reasoning.push_back(std::move(thinking));
    if (!citations.empty()) out.citations.push_back(std::move(citations));
    if (!calls.empty()) out.tool_calls.push_back(std::move(calls));
    if (u) {
      out.usage.prompt_tokens = anthropic_prompt_tokens(*u);
      out.usage.completion_tokens = int_field(*u, "output_tokens");
    }
  }
  complete_total(out.usage);
  return out;
}

DSPY_DECL std::string provider_message(std::string_view body) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(body, ec);
  if (!ec && v.is_object()) {
    const auto& o = v.get_object();
    if (const auto* e = o.if_contains("error")) {
      if (e->is_string()) return std::string(e->get_string());
      if (const auto* eo = e->if_object())
        if (const auto* m = eo->if_contains("message"); m && m->is_string()) return std::string(m->get_string());
    }
    if (const auto* m = o.if_contains("message"); m && m->is_string()) return std::string(m->get_string());
  }
  std::string text(body.substr(0, 300));
  if (body.size() > 300) text += "...";
  return text;
}

inline bool mentions_context_limit(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c); });
  for (std::string_view needle : {"context_length_exceeded", "context length", "context window", "prompt is too long",
                                  "too many tokens", "input is too long", "maximum context"})
    if (text.find(needle) != std::string::npos) return true;
  return false;
}

DSPY_DECL Errc status_errc(long status, std::string_view body) {
  if ((status == 400 || status == 413 || status == 422) && mentions_context_limit(std::string(body)))
    return Errc::context_window;
  if (status == 401 || status == 403) return Errc::auth;
  if (status == 404) return Errc::not_found;
  if (status == 408) return Errc::timeout;
  if (status == 429) return Errc::rate_limited;
  if (status == 409 || status >= 500) return Errc::server;
  return Errc::bad_request;
}

/// The error code of an error event inside a stream, from its type ("overloaded_error",
/// "rate_limit_error", ...): the codes its HTTP status would have had.
inline Errc stream_error_errc(std::string_view type, std::string_view body) {
  const auto has = [&](std::string_view s) { return type.find(s) != std::string_view::npos; };
  if (has("rate_limit")) return Errc::rate_limited;
  if (has("auth") || has("permission")) return Errc::auth;
  if (has("not_found")) return Errc::not_found;
  if (has("invalid_request") || has("too_large"))
    return mentions_context_limit(std::string(body)) ? Errc::context_window : Errc::bad_request;
  return Errc::server;
}

DSPY_DECL bool StreamDecoder::feed(std::string_view bytes) {
  if (!decided_) {
    // Leading whitespace is held, not dropped: in a stream it is part of the first line. Only
    // the new bytes are searched: searching all that is held made a reply of whitespace in
    // many pieces quadratic (16 MiB in 16 KiB pieces took 56 s, now 64 MiB takes about 1 s).
    const auto first = bytes.find_first_not_of(" \t\r\n");
    head_.append(bytes);
    if (first == std::string_view::npos) return true;
    decided_ = true;
    plain_json_ = bytes[first] == '{';
    const std::string head = std::move(head_);
    head_.clear();
    return feed(head);
  }
  if (plain_json_) {
    raw_.append(bytes);
    return true;
  }
  return sse_.feed(bytes, [this](const SseEvent& e) { return event(e); });
}

DSPY_DECL Result<LMResponse> StreamDecoder::finish() {
  if (error_) return *error_;
  if (plain_json_) {
    Result<LMResponse> r = parse_reply(api_, raw_);
    if (r && on_text_ && !r->completions.empty()) on_text_(r->completions.front());
    return r;
  }
  if (!done_)
    return Error(Errc::bad_response, api_ == WireApi::openai_chat        ? "the stream ended before [DONE]"
                                     : api_ == WireApi::openai_responses ? "the stream ended before response.completed"
                                                                         : "the stream ended before message_stop");
  LMResponse out;
  out.completions = std::move(texts_);
  if (out.completions.empty()) out.completions.emplace_back();
  if (!calls_.empty()) {
    calls_.resize(std::max(calls_.size(), out.completions.size()));
    out.completions.resize(calls_.size());
    for (auto& per_choice : calls_)
      for (auto& c : per_choice)
        if (c.arguments.empty()) c.arguments = "{}";
    out.tool_calls = std::move(calls_);
  }
  if (reasoned_) {  // as a whole reply: one reasoning per completion once any choice has some
    if (out.completions.size() < reasonings_.size()) out.completions.resize(reasonings_.size());
    reasonings_.resize(out.completions.size());
    out.reasoning = std::move(reasonings_);
  }
  out.usage = usage_;
  complete_total(out.usage);
  return out;
}

DSPY_DECL bool StreamDecoder::event(const SseEvent& e) {
  if (api_ == WireApi::openai_chat && e.data == "[DONE]") {
    done_ = true;
    return true;
  }
  if (api_ == WireApi::anthropic_messages && e.type == "ping") return true;
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(e.data, ec);
  const auto* o = v.if_object();
  if (ec || !o) return fail(Errc::bad_response, "a streamed event is not a JSON object", e.data);
  if (const auto* err = o->if_contains("error"); err && !err->is_null()) {
    std::string type;
    if (const auto* eo = err->if_object())
      if (const auto* t = eo->if_contains("type"); t && t->is_string()) type = t->get_string();
    return fail(stream_error_errc(type, e.data), "error event in the stream: " + provider_message(e.data), e.data);
  }
  if (api_ == WireApi::openai_chat) return openai_chunk(*o);
  if (api_ == WireApi::openai_responses) return responses_event(*o);
  return anthropic_event(*o);
}

DSPY_DECL bool StreamDecoder::openai_chunk(const boost::json::object& o) {
  if (const auto* choices = o.if_contains("choices"); choices && choices->is_array())
    for (const auto& c : choices->get_array()) {
      const auto* co = c.if_object();
      if (!co) continue;
      const auto* delta = co->if_contains("delta");
      const auto* content = delta && delta->is_object() ? delta->get_object().if_contains("content") : nullptr;
      const auto choice = static_cast<std::size_t>(int_field(*co, "index"));
      if (content && content->is_string()) text(choice, content->get_string());
      // Tool calls arrive in pieces by their index: the first names the call, the rest add
      // argument text.
      const auto* calls = delta && delta->is_object() ? delta->get_object().if_contains("tool_calls") : nullptr;
      if (calls && calls->is_array())
        for (const auto& tc : calls->get_array()) {
          const auto* t = tc.if_object();
          MessageToolCall* call = t ? tool_call(choice, static_cast<std::size_t>(int_field(*t, "index"))) : nullptr;
          if (!call) continue;
          const boost::json::object* f = sub_object(*t, "function");
          call->id += sub_string(t, "id");
          call->name += sub_string(f, "name");
          call->arguments += sub_string(f, "arguments");
        }
      if (const auto* r = delta && delta->is_object() ? delta->get_object().if_contains("reasoning_content") : nullptr;
          r && r->is_string())
        reasoning(choice, r->get_string());
    }
  if (const auto* u = o.if_contains("usage"); u && u->is_object()) {
    usage_.prompt_tokens = int_field(u->get_object(), "prompt_tokens");
    usage_.completion_tokens = int_field(u->get_object(), "completion_tokens");
    usage_.total_tokens = int_field(u->get_object(), "total_tokens");
  }
  return true;
}

DSPY_DECL bool StreamDecoder::responses_event(const boost::json::object& o) {
  const std::string_view t = sub_string(&o, "type");
  if (t == "response.output_text.delta") {
    text(0, sub_string(&o, "delta"));
  } else if (t == "response.reasoning_summary_text.delta") {
    reasoning(0, sub_string(&o, "delta"));
  } else if (t == "response.output_item.done") {  // a function call arrives whole when done
    const boost::json::object* item = sub_object(o, "item");
    if (sub_string(item, "type") == "function_call")
      if (MessageToolCall* call = tool_call(0, calls_.empty() ? 0 : calls_[0].size()))
        *call = {std::string(sub_string(item, "call_id")), std::string(sub_string(item, "name")),
                 std::string(sub_string(item, "arguments"))};
  } else if (t == "response.completed") {
    done_ = true;
    if (const auto* r = o.if_contains("response"); r && r->is_object())
      if (const auto* u = r->get_object().if_contains("usage"); u && u->is_object()) {
        usage_.prompt_tokens = int_field(u->get_object(), "input_tokens");
        usage_.completion_tokens = int_field(u->get_object(), "output_tokens");
        usage_.total_tokens = int_field(u->get_object(), "total_tokens");
      }
  } else if (t == "response.failed" || t == "response.incomplete") {
    return fail(Errc::server, "the response stream ended with " + std::string(t), provider_message(std::string()));
  }
  return true;
}

DSPY_DECL bool StreamDecoder::anthropic_event(const boost::json::object& o) {
  const auto* type = o.if_contains("type");
  const std::string_view t = type && type->is_string() ? std::string_view(type->get_string()) : std::string_view();
  const boost::json::object* u = nullptr;
  if (t == "message_start") {
    if (const auto* m = o.if_contains("message"); m && m->is_object())
      if (const auto* mu = m->get_object().if_contains("usage")) u = mu->if_object();
  } else if (t == "message_delta") {
    if (const auto* mu = o.if_contains("usage")) u = mu->if_object();
  } else if (t == "content_block_start") {
    // A tool_use block: its id and name now, its input as input_json_delta pieces.
    const boost::json::object* block = sub_object(o, "content_block");
    if (sub_string(block, "type") == "tool_use") {
      tool_blocks_.push_back(int_field(o, "index"));
      if (MessageToolCall* call = tool_call(0, tool_blocks_.size() - 1)) {
        call->id = sub_string(block, "id");
        call->name = sub_string(block, "name");
      }
    }
  } else if (t == "content_block_delta") {
    if (const auto* d = o.if_contains("delta"); d && d->is_object()) {
      if (const auto* s = d->get_object().if_contains("text"); s && s->is_string()) text(0, s->get_string());
      // Extended thinking's thinking_delta: the reply's reasoning.
      if (const auto* s = d->get_object().if_contains("thinking"); s && s->is_string()) reasoning(0, s->get_string());
      if (const auto* p = d->get_object().if_contains("partial_json"); p && p->is_string()) {
        const auto at = std::find(tool_blocks_.begin(), tool_blocks_.end(), int_field(o, "index"));
        if (at != tool_blocks_.end())
          if (MessageToolCall* call = tool_call(0, static_cast<std::size_t>(at - tool_blocks_.begin())))
            call->arguments += p->get_string();
      }
    }
  } else if (t == "message_stop") {
    done_ = true;
  }
  if (u) {
    // Counts are cumulative; message_delta repeats input counts only sometimes.
    if (u->contains("input_tokens")) usage_.prompt_tokens = anthropic_prompt_tokens(*u);
    if (u->contains("output_tokens")) usage_.completion_tokens = int_field(*u, "output_tokens");
  }
  return true;
}

DSPY_DECL void StreamDecoder::text(std::size_t index, std::string_view piece) {
  if (index >= 1024) return;  // not a real choice index
  if (texts_.size() <= index) texts_.resize(index + 1);
  texts_[index].append(piece);
  if (index == 0 && on_text_ && !piece.empty()) {
    delivered_ = true;
    on_text_(piece);
  }
}

DSPY_DECL void StreamDecoder::reasoning(std::size_t index, std::string_view piece) {
  if (index >= 1024) return;  // not a real choice index
  if (reasonings_.size() <= index) reasonings_.resize(index + 1);
  reasonings_[index].append(piece);
  reasoned_ = true;
}

DSPY_DECL MessageToolCall* StreamDecoder::tool_call(std::size_t choice, std::size_t index) {
  if (choice >= 1024 || index >= 1024) return nullptr;
  if (calls_.size() <= choice) calls_.resize(choice + 1);
  if (calls_[choice].size() <= index) calls_[choice].resize(index + 1);
  return &calls_[choice][index];
}

DSPY_DECL bool StreamDecoder::fail(Errc code, std::string what, std::string_view data) {
  raw_.assign(data);
  error_.emplace(code, std::move(what));
  return false;
}

}  // namespace dspy::detail
