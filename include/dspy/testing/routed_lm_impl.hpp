// The bodies of routed_lm.hpp: header-only, routed_lm.hpp includes them; with
// DSPY_SEPARATE_COMPILATION, <dspy/src.hpp> compiles them once.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <regex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "../adapters/chat_adapter.hpp"
#include "../adapters/json_adapter.hpp"
#include "../adapters/utils.hpp"
#include "../adapters/xml_adapter.hpp"
#include "../detail/io/jsonl.hpp"
#include "../primitives/error.hpp"
#include "routed_lm.hpp"

namespace dspy::detail {

// Phrases only one built-in adapter's system message has.
inline constexpr std::string_view kJsonStructure = "Outputs will be a JSON object with the following fields.";
inline constexpr std::string_view kChatCompleted = "[[ ## completed ## ]]";
// Where the built-in adapters' output requirements start, ending the last user message.
inline constexpr std::string_view kRequirementsStart = "\n\nRespond with ";

inline const Message* last_message(const std::vector<Message>& messages, std::string_view role) {
  for (auto m = messages.rbegin(); m != messages.rend(); ++m)
    if (m->role == role) return &*m;
  return nullptr;
}

// The `[[ ## name ## ]]` sections of a Chat or JSON adapter's user message, read as the
// ChatAdapter reads a reply's sections.
inline void read_chat_sections(std::string_view text, std::vector<std::pair<std::string, std::string>>& out) {
  std::optional<std::string_view> name;
  std::string value;
  const auto finish = [&] {
    if (name) out.emplace_back(std::string(*name), std::string(py_strip(value)));
    value.clear();
  };
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    const std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    std::string_view header;
    std::size_t end = 0;
    if (const std::string_view stripped = py_strip(line); match_chat_header(stripped, header, end)) {
      finish();
      name = header;
      (value += stripped.substr(end)) += '\n';
    } else if (name) {
      (value += line) += '\n';
    }
  }
  finish();
}

// The `<name>\nvalue\n</name>` blocks of an XMLAdapter's user message.
inline void read_xml_blocks(std::string_view text, std::vector<std::pair<std::string, std::string>>& out) {
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    const std::string_view line = py_strip(text.substr(pos, nl - pos));
    pos = nl + 1;
    if (line.size() < 3 || line.front() != '<' || line.back() != '>') continue;
    const std::string_view tag = line.substr(1, line.size() - 2);
    if (!xml_identifier(tag)) continue;
    const std::string close = "\n</" + std::string(tag) + ">";
    const std::size_t at = nl < text.size() ? text.find(close, nl) : std::string_view::npos;
    if (at == std::string_view::npos) continue;
    out.emplace_back(std::string(tag), std::string(py_strip(text.substr(nl, at - nl))));
    pos = at + close.size();
  }
}

// The names in a "Your input fields are:" or "Your output fields are:" list: lines "1. `name` (".
inline std::vector<std::string> listed_fields(std::string_view system, std::string_view heading) {
  std::vector<std::string> out;
  const std::size_t at = system.find(heading);
  if (at == std::string_view::npos) return out;
  for (std::size_t pos = at + heading.size(); pos < system.size();) {
    std::size_t nl = system.find('\n', pos);
    if (nl == std::string_view::npos) nl = system.size();
    const std::string_view line = system.substr(pos, nl - pos);
    pos = nl + 1;
    const std::string expected = std::to_string(out.size() + 1) + ". `";
    if (!line.starts_with(expected)) {
      if (line.starts_with("Your ") || line.empty()) break;  // the next list or part
      continue;  // a field's doc over several lines
    }
    const std::size_t end = line.find("` (", expected.size());
    if (end == std::string_view::npos) break;
    out.emplace_back(line.substr(expected.size(), end - expected.size()));
  }
  return out;
}

// "a, b -> c" into its input and output names; false when it is not of that form.
inline bool split_signature(std::string_view text, std::vector<std::string>& inputs,
                            std::vector<std::string>& outputs) {
  const std::size_t arrow = text.find("->");
  if (arrow == std::string_view::npos) return false;
  const auto names = [](std::string_view list, std::vector<std::string>& out) {
    if (py_strip(list).empty()) return;
    for (std::size_t pos = 0; pos <= list.size();) {
      std::size_t comma = list.find(',', pos);
      if (comma == std::string_view::npos) comma = list.size();
      out.emplace_back(py_strip(list.substr(pos, comma - pos)));
      pos = comma + 1;
    }
  };
  names(text.substr(0, arrow), inputs);
  names(text.substr(arrow + 2), outputs);
  return std::none_of(inputs.begin(), inputs.end(), [](const std::string& n) { return n.empty(); }) &&
         std::none_of(outputs.begin(), outputs.end(), [](const std::string& n) { return n.empty(); });
}

inline const Adapter& adapter_named(std::string_view name) {
  static const AdapterHandle json = JSONAdapter{};
  static const AdapterHandle xml = XMLAdapter{};
  if (name == "JSONAdapter") return *json;
  if (name == "XMLAdapter") return *xml;
  return *default_adapter();
}

DSPY_DECL bool from_signature(const SignatureView& sig, const std::vector<Message>& messages) {
  const Message* system = last_message(messages, "system");
  if (!system) return false;
  const std::string fields = field_description(*sig.meta);
  const std::string_view text = system->content.text();
  return text.starts_with(fields) && text.substr(fields.size()).starts_with('\n');
}

DSPY_DECL std::optional<std::string> read_inputs(const SignatureView& sig, const testing::RequestFields& fields,
                                                 void* input) {
  for (const FieldCodec& field : sig.inputs) {
    const std::string* value = fields.find(field.name());
    if (!value) {
      if (field.is_optional) continue;
      return "the request has no input `" + std::string(field.name()) + "`";
    }
    if (auto error = field.parse_text(*value, input, ParseContext{nullptr, field.name()}))
      return "input `" + std::string(field.name()) + "` does not read as " + field.meta->type_name + ": " + *error;
  }
  return std::nullopt;
}

DSPY_DECL std::string format_outputs(const SignatureView& sig, std::string_view adapter, const void* output) {
  return adapter_named(adapter).format_assistant_message_content(sig, FieldValues(sig.outputs, output), {});
}

DSPY_DECL std::string format_fields(std::string_view adapter, const boost::json::object& fields) {
  if (adapter == "JSONAdapter") return boost::json::serialize(fields);
  std::string out;
  for (const auto& field : fields) {
    if (!out.empty()) out += "\n\n";
    const std::string value = field.value().is_string() ? std::string(field.value().get_string())
                                                        : boost::json::serialize(field.value());
    if (adapter == "XMLAdapter") append_xml_block(out, field.key(), value);
    else append_marker_block(out, field.key(), value);
  }
  if (adapter != "XMLAdapter") (out += "\n\n") += kChatCompleted;
  return out;
}

// A value for an error message: quoted, and cut when long.
inline std::string shown_value(std::string_view value) {
  constexpr std::size_t kMax = 80;
  return boost::json::serialize(boost::json::string(value.substr(0, kMax))) + (value.size() > kMax ? "..." : "");
}

DSPY_DECL Result<Route> route_from_json(const boost::json::value& rule, const std::string& where) {
  const auto bad = [&](std::string what) { return Error(Errc::parse_error, where + ": " + std::move(what)); };
  if (!rule.is_object()) return bad("expected a JSON object (a route), got " + json_kind_name(rule));
  std::vector<std::pair<std::string, std::string>> match;
  std::optional<testing::RequestFields> signature;  // its input_names and output_names
  std::optional<std::regex> regex;
  std::optional<boost::json::value> reply;
  std::vector<MessageToolCall> calls;
  for (const auto& [key, value] : rule.get_object()) {
    if (key == "match") {
      if (!value.is_object()) return bad("\"match\" must be an object of input field names and values");
      for (const auto& [field, expected] : value.get_object()) {
        if (!expected.is_string())
          return bad("\"match\"." + std::string(field) + " must be a string (the value as the prompt writes it), got " +
                     json_kind_name(expected));
        match.emplace_back(field, expected.get_string());
      }
    } else if (key == "signature") {
      signature.emplace();
      if (!value.is_string() || !split_signature(value.get_string(), signature->input_names, signature->output_names))
        return bad("\"signature\" must be a string of field names such as \"question, context -> answer\"");
    } else if (key == "regex") {
      if (!value.is_string()) return bad("\"regex\" must be a string");
      try {
        regex.emplace(std::string(value.get_string()), std::regex::ECMAScript);
      } catch (const std::regex_error& e) {
        return bad("\"regex\" is not a valid ECMAScript regex: " + std::string(e.what()));
      }
    } else if (key == "reply") {
      if (!value.is_string() && !value.is_object())
        return bad("\"reply\" must be a string (the completion) or an object of output field values, got " +
                   json_kind_name(value));
      reply = value;
    } else if (key == "tool_calls") {
      auto read = scripted_tool_calls(value, where + ": \"tool_calls\"");
      if (!read) return read.error();
      calls = std::move(*read);
    } else {
      return bad("unknown key \"" + std::string(key) +
                 "\" (a route has \"signature\", \"match\", \"regex\", \"reply\" and \"tool_calls\")");
    }
  }
  if (!reply && calls.empty()) return bad("the route has no \"reply\" and no \"tool_calls\"");
  return Route{where, [match = std::move(match), signature = std::move(signature), regex = std::move(regex),
                       reply = std::move(reply), calls = std::move(calls)](
                          const LMRequest& request, const testing::RequestFields& fields,
                          std::string& why) -> std::optional<testing::TestReply> {
                 if (signature && (signature->input_names != fields.input_names ||
                                   signature->output_names != fields.output_names)) {
                   why = "the request's signature is \"" + fields.signature() + "\"";
                   return std::nullopt;
                 }
                 for (const auto& [field, expected] : match) {
                   const std::string* value = fields.find(field);
                   if (!value) {
                     why = "the request has no input `" + field + "`";
                     return std::nullopt;
                   }
                   if (*value != expected) {
                     why = "input `" + field + "` is not " + shown_value(expected);
                     return std::nullopt;
                   }
                 }
                 if (regex) {
                   const Message* user = last_message(request.messages, "user");
                   if (!user || !std::regex_search(user->content.text(), *regex)) {
                     why = "the regex does not match the last user message";
                     return std::nullopt;
                   }
                 }
                 std::string text;
                 if (reply) text = reply->is_string() ? std::string(reply->get_string())
                                                      : format_fields(fields.adapter, reply->get_object());
                 if (calls.empty()) return testing::TestReply(std::move(text));
                 // Every choice the request asks for gets the text and the calls.
                 const auto n = static_cast<std::size_t>(std::max(request.config.n.value_or(1), 1));
                 LMResponse response;
                 response.completions.assign(n, text);
                 response.tool_calls.assign(n, calls);
                 return testing::TestReply(std::move(response));
               }};
}

DSPY_DECL Result<std::vector<MessageToolCall>> scripted_tool_calls(const boost::json::value& calls,
                                                                   const std::string& where) {
  const auto bad = [&](std::string what) { return Error(Errc::parse_error, where + ": " + std::move(what)); };
  if (!calls.is_array()) return bad("expected a list of tool calls, got " + json_kind_name(calls));
  std::vector<MessageToolCall> out;
  for (std::size_t i = 0; i < calls.get_array().size(); ++i) {
    const boost::json::value& call = calls.get_array()[i];
    const std::string at = "call " + std::to_string(i) + ": ";
    if (!call.is_object()) return bad(at + "expected an object with \"name\" and \"arguments\", got " + json_kind_name(call));
    MessageToolCall c{.arguments = "{}"};
    bool named = false;
    for (const auto& [key, value] : call.get_object()) {
      if (key == "name" && value.is_string() && !value.get_string().empty()) {
        c.name = value.get_string();
        named = true;
      } else if (key == "id" && value.is_string()) {
        c.id = value.get_string();
      } else if (key == "arguments" && (value.is_string() || value.is_object())) {
        c.arguments = value.is_string() ? std::string(value.get_string()) : boost::json::serialize(value);
      } else if (key == "name" || key == "id" || key == "arguments") {
        return bad(at + "\"" + std::string(key) + "\" must be " +
                   (key == "arguments" ? "an object or JSON text" : key == "id" ? "a string" : "a non-empty string") + ", got " +
                   json_kind_name(value));
      } else {
        return bad(at + "unknown key \"" + std::string(key) + "\" (a call has \"id\", \"name\" and \"arguments\")");
      }
    }
    if (!named) return bad(at + "the call has no \"name\"");
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace dspy::detail

namespace dspy::testing {

DSPY_DECL RequestFields read_request(const std::vector<Message>& messages) {
  RequestFields out;
  const Message* system = dspy::detail::last_message(messages, "system");
  const Message* user = dspy::detail::last_message(messages, "user");
  if (system) {
    const std::string_view text = system->content.text();
    if (text.find(dspy::detail::kJsonStructure) != std::string_view::npos) out.adapter = "JSONAdapter";
    else if (text.find(dspy::detail::kChatCompleted) != std::string_view::npos) out.adapter = "ChatAdapter";
    else if (text.find(dspy::detail::kStructureIntro) != std::string_view::npos) out.adapter = "XMLAdapter";
    out.input_names = dspy::detail::listed_fields(text, "Your input fields are:\n");
    out.output_names = dspy::detail::listed_fields(text, "Your output fields are:\n");
  }
  if (!user) return out;
  std::string_view text = user->content.text();
  if (const std::size_t cut = text.rfind(dspy::detail::kRequirementsStart); cut != std::string_view::npos)
    text = text.substr(0, cut);
  if (out.adapter == "XMLAdapter") dspy::detail::read_xml_blocks(text, out.inputs);
  else dspy::detail::read_chat_sections(text, out.inputs);
  return out;
}

DSPY_DECL RoutedLM& RoutedLM::add(dspy::detail::Route route) {
  std::unique_lock lock(mutex_);
  routes_.push_back(std::move(route));
  return *this;
}

DSPY_DECL RoutedLM& RoutedLM::when_user_message(const std::string& regex, Reply reply) {
  return add({"the regex /" + regex + "/ over the last user message",
              [re = std::regex(regex, std::regex::ECMAScript), reply = std::move(reply)](
                  const LMRequest& request, const RequestFields&, std::string& why) -> std::optional<Reply> {
                const Message* user = dspy::detail::last_message(request.messages, "user");
                if (user && std::regex_search(user->content.text(), re)) return reply;
                why = "no match";
                return std::nullopt;
              }});
}

DSPY_DECL Result<void> RoutedLM::load_routes(const std::filesystem::path& path) {
  constexpr std::uintmax_t kMaxBytes = 64U << 20U;
  std::vector<dspy::detail::Route> loaded;
  auto read = dspy::detail::for_each_jsonl_row(
      path,
      [&](std::size_t line, const boost::json::value& rule) -> Result<void> {
        auto route = dspy::detail::route_from_json(rule, path.string() + ":" + std::to_string(line));
        if (!route) return route.error();
        loaded.push_back(std::move(*route));
        return {};
      },
      kMaxBytes);
  if (!read) return read.error();
  if (loaded.empty()) return Error(Errc::parse_error, path.string() + " holds no routes");
  std::unique_lock lock(mutex_);
  for (auto& route : loaded) routes_.push_back(std::move(route));
  return {};
}

DSPY_DECL Result<LMResponse> RoutedLM::reply_to(const LMRequest& request) const {
  const RequestFields fields = read_request(request.messages);
  std::shared_lock lock(mutex_);
  std::string declined;
  for (const auto& route : routes_) {
    std::string why;
    if (auto reply = route.answer(request, fields, why)) return dspy::detail::test_response(*reply, request, model_);
    ((declined += "\n  ") += route.name) += ": " + why;
  }
  if (otherwise_) return dspy::detail::test_response(*otherwise_, request, model_);
  std::string request_text =
      fields.adapter.empty() ? std::string("a request") : "a " + std::string(fields.adapter) + " request";
  if (!fields.output_names.empty()) request_text += " of \"" + fields.signature() + "\"";
  if (fields.inputs.empty()) request_text += " without input fields";
  for (std::size_t i = 0; i < fields.inputs.size(); ++i)
    ((request_text += i ? ", `" : " with inputs `") += fields.inputs[i].first) +=
        "` = " + dspy::detail::shown_value(fields.inputs[i].second);
  const std::string routes = routes_.empty() ? std::string("; no routes were added") : "; the routes:" + declined;
  return Error(Errc::config, "RoutedLM: no route matches " + request_text + routes);
}

DSPY_DECL Result<LMResponse> RoutedLM::forward(const LMRequest& request) {
  calls_.fetch_add(1);
  if (const auto d = std::chrono::nanoseconds(delay_.load()); d.count() > 0) std::this_thread::sleep_for(d);
  return reply_to(request);
}

}  // namespace dspy::testing
