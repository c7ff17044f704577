// The bodies of history.hpp: header-only, history.hpp includes them; with DSPY_SEPARATE_COMPILATION,
// <dspy/src.hpp> compiles them once.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <initializer_list>
#include <iostream>
#include <mutex>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/parse.hpp>

#include "../detail/text/pytext.hpp"
#include "../detail/text/redact.hpp"
#include "../detail/text/tolerant.hpp"
#include "../primitives/message.hpp"
#include "history.hpp"

namespace dspy {

DSPY_DECL std::size_t approx_bytes(const HistoryEntry& e) noexcept {
  std::size_t n = sizeof(HistoryEntry) + e.model.size();
  const auto calls = [](const std::vector<MessageToolCall>& cs) {
    std::size_t k = 0;
    for (const auto& c : cs) k += sizeof(MessageToolCall) + c.id.size() + c.name.size() + c.arguments.size();
    return k;
  };
  for (const auto& m : e.messages)
    n += sizeof(Message) + m.role.size() + m.content.text().size() + m.content.parts().size() * sizeof(ContentPart) +
         calls(m.tool_calls) + m.tool_call_id.size() + m.name.size();
  for (const auto& o : e.outputs) n += sizeof(std::string) + o.size();
  return n + calls(e.tool_calls);
}

DSPY_DECL std::vector<HistoryEntry> LMHistory::last(std::size_t n) const {
  std::lock_guard lock(mutex_);
  const std::size_t k = std::min(n, count_);
  std::vector<HistoryEntry> out;
  out.reserve(k);
  for (std::size_t i = count_ - k; i < count_; ++i) out.push_back(at(i).entry);
  return out;
}

namespace detail {

DSPY_DECL std::string iso_local_time(std::chrono::system_clock::time_point t) {
  const auto since_epoch = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch());
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
  auto micros = (since_epoch - seconds).count();
  if (micros < 0) {
    micros += 1'000'000;
    seconds -= std::chrono::seconds(1);
  }
  const std::time_t tt = seconds.count();
  std::tm tm{};
  localtime_r(&tt, &tm);
  char buf[48];
  std::size_t len = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  if (micros != 0)
    len +=
        static_cast<std::size_t>(std::snprintf(buf + len, sizeof buf - len, ".%06lld", static_cast<long long>(micros)));
  return {buf, len};
}

DSPY_DECL std::string py_capitalize(std::string_view s) {
  std::string out(s);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const auto c = static_cast<unsigned char>(out[i]);
    out[i] = static_cast<char>(i == 0 ? std::toupper(c) : std::tolower(c));
  }
  return out;
}

// A string member of a part, or of the object under `inner` ("image_url"); empty if absent.
DSPY_DECL std::string_view part_string(const ContentPart& part, std::string_view key, std::string_view inner) {
  const boost::json::object* o = &part;
  if (!inner.empty()) {
    const auto* v = part.if_contains(inner);
    if (!v || !v->is_object()) return {};
    o = &v->get_object();
  }
  const auto* s = o->if_contains(key);
  return s && s->is_string() ? std::string_view(s->get_string()) : std::string_view();
}

DSPY_DECL std::string describe_part(const ContentPart& part) {
  const std::string_view type = part_string(part, "type");
  if (type == "image_url") {
    const std::string_view url = part_string(part, "url", "image_url");
    if (const std::size_t at = url.find("base64,"); at != std::string_view::npos)
      return std::string(url.substr(0, at + 7)) + "<IMAGE BASE 64 ENCODED(" + std::to_string(url.size() - at - 7) + ")>";
    return "<image_url: " + std::string(url) + ">";
  }
  if (type == "input_audio")
    return "<audio format='" + std::string(part_string(part, "format", "input_audio")) +
           "' base64-encoded, length=" + std::to_string(part_string(part, "data", "input_audio").size()) + ">";
  if (type == "file")
    return "<file: name:" + std::string(part_string(part, "filename", "file")) + ", id:" +
           std::string(part_string(part, "file_id", "file")) +
           ", data_length:" + std::to_string(part_string(part, "file_data", "file").size()) + ">";
  return "<" + std::string(type) + ">";
}

DSPY_DECL bool wants_colour(const std::ostream& os) {
  if (const char* no = std::getenv("NO_COLOR"); no && *no) return false;
  const auto* buf = os.rdbuf();
  if (buf == std::cout.rdbuf()) return ::isatty(STDOUT_FILENO) == 1;
  if (buf == std::cerr.rdbuf() || buf == std::clog.rdbuf()) return ::isatty(STDERR_FILENO) == 1;
  return false;
}

DSPY_DECL void print_history(std::ostream& os, const std::vector<HistoryEntry>& entries, bool colour) {
  auto paint = [&](std::string_view code, std::string_view text) {
    if (colour)
      os << "\x1b[" << code << 'm' << text << "\x1b[0m";
    else
      os << text;
  };
  // Each call as `name: <its arguments as JSON>`.
  auto print_tool_calls = [&](const std::vector<MessageToolCall>& calls) {
    if (calls.empty()) return;
    paint("31", "Tool calls:");
    os << '\n';
    for (const auto& c : calls) {
      boost::system::error_code ec;
      const boost::json::value args = boost::json::parse(c.arguments, ec);
      paint("32", c.name + ": " + (ec ? c.arguments : py_json(args)));
      os << '\n';
    }
  };
  for (const auto& e : entries) {
    os << "\n\n\n\n";
    paint("34", "[" + iso_local_time(e.timestamp) + "]");
    os << "\n\n";
    for (const auto& m : e.messages) {
      paint("31", py_capitalize(m.role) + " message:");
      os << "\n\n";
      if (m.content.is_text()) os << trim(m.content.text());
      for (const auto& part : m.content.parts()) {  // media as DSPy shows them: kind and size, not the bytes
        if (&part != &m.content.parts().front()) os << '\n';
        if (Content::is_text_part(part)) os << trim(part_string(part, "text"));
        else paint("34", describe_part(part));
      }
      os << '\n';
      print_tool_calls(m.tool_calls);
      os << "\n\n";
    }
    // A reply of tool calls only has no "Response:" text (DSPy prints the text when there is one).
    if (!e.outputs.empty() && (e.tool_calls.empty() || !e.outputs.front().empty())) {
      paint("31", "Response:");
      os << "\n\n";
      paint("32", trim(e.outputs.front()));
      os << "\n\n";
    }
    print_tool_calls(e.tool_calls);
    if (e.outputs.size() > 1) {
      paint("31", " \t (and " + std::to_string(e.outputs.size() - 1) + " other completions)");
      os << '\n';
    }
  }
  os << "\n\n\n\n";
}

}  // namespace detail

DSPY_DECL std::string redact_secrets(std::string_view text, std::initializer_list<std::string_view> secrets) {
  std::vector<std::pair<std::size_t, std::size_t>> spans;  // [begin, end)
  for (std::string_view s : secrets) {
    const auto found = detail::secret_spans(text, s);
    spans.insert(spans.end(), found.begin(), found.end());
  }
  const std::string lower = detail::ascii_lowered(text);
  auto value_run = [&](std::size_t p) {
    while (p < text.size() && detail::is_value_char(text[p])) ++p;
    return p;
  };
  auto redacted = [&](std::size_t p) { return lower.compare(p, 10, "[redacted]") == 0; };
  for (std::size_t p = lower.find("bearer"); p != std::string::npos; p = lower.find("bearer", p + 1)) {
    std::size_t v = p + 6;
    if (v >= text.size() || text[v] != ' ') continue;
    while (v < text.size() && text[v] == ' ') ++v;
    if (const auto end = value_run(v); end > v && !redacted(v)) spans.emplace_back(v, end);
  }
  for (std::string_view name : {"x-api-key", "x-goog-api-key", "api-key", "api_key", "apikey"}) {
    for (std::size_t p = lower.find(name); p != std::string::npos; p = lower.find(name, p + 1)) {
      std::size_t v = p + name.size();
      if (v < text.size() && (text[v] == '"' || text[v] == '\'')) ++v;
      while (v < text.size() && text[v] == ' ') ++v;
      if (v >= text.size() || (text[v] != ':' && text[v] != '=')) continue;
      ++v;
      while (v < text.size() && text[v] == ' ') ++v;
      if (v < text.size() && (text[v] == '"' || text[v] == '\'')) ++v;
      if (const auto end = value_run(v); end > v && !redacted(v)) spans.emplace_back(v, end);
    }
  }
  for (std::size_t p = text.find("sk-"); p != std::string_view::npos; p = text.find("sk-", p + 1)) {
    if (p > 0 && detail::is_key_char(text[p - 1])) continue;
    std::size_t end = p + 3;
    while (end < text.size() && detail::is_key_char(text[end])) ++end;
    // Real keys are long; a short run is a word like "sk-learn".
    if (end - p - 3 >= 16) spans.emplace_back(p, end);
  }

  std::sort(spans.begin(), spans.end());
  std::string out;
  out.reserve(text.size());
  std::size_t at = 0;
  for (std::size_t i = 0; i < spans.size();) {
    const std::size_t begin = spans[i].first;
    std::size_t end = spans[i].second;
    for (++i; i < spans.size() && spans[i].first <= end; ++i) end = std::max(end, spans[i].second);
    out.append(text.substr(at, begin - at)).append("[REDACTED]");
    at = end;
  }
  return out.append(text.substr(at));
}

}  // namespace dspy
