// The bodies of refine.hpp: header-only, refine.hpp includes them; with DSPY_SEPARATE_COMPILATION,
// <dspy/src.hpp> compiles them once.
#pragma once

#include <algorithm>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/json.hpp>

#include "predict.hpp"
#include "refine.hpp"

namespace dspy::detail {

DSPY_DECL std::vector<std::string> dedented_lines(std::string_view text) {
  std::vector<std::string> lines;
  for (std::size_t pos = 0; pos <= text.size();) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string line(text.substr(pos, nl - pos));
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) line.clear();
    lines.push_back(std::move(line));
    pos = nl + 1;
  }
  if (!text.empty() && text.back() == '\n') lines.pop_back();  // splitlines keeps no empty last line
  std::string margin;
  bool first = true;
  for (const auto& l : lines) {
    if (l.empty()) continue;
    const std::string m = l.substr(0, l.find_first_not_of(" \t"));
    if (first) margin = m;
    else margin.resize(static_cast<std::size_t>(std::mismatch(margin.begin(), margin.end(), m.begin(), m.end()).first -
                                                margin.begin()));
    first = false;
  }
  for (auto& l : lines)
    if (!l.empty()) l.erase(0, margin.size());
  return lines;
}

DSPY_DECL std::string indented_field_descriptions(const std::vector<FieldMeta>& fields) {
  std::string s;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i) s += '\n';
    s += std::to_string(i + 1) + ". `" + std::string(fields[i].name) + "` (" + fields[i].type_name +
         "): " + std::string(fields[i].desc);
  }
  std::string out;
  for (const auto& line : dedented_lines(std::string(trim(s)))) out += "\n\t\t" + line;
  return out;
}

DSPY_DECL std::string strip_newlines(std::string s) {
  const std::size_t b = s.find_first_not_of('\n');
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of('\n') - b + 1);
}

DSPY_DECL std::string indented_json(const boost::json::value& v) { return py_json(v, false, 2); }

DSPY_DECL void show_input_as(std::vector<Message>& messages, const Adapter& adapter, std::string_view field,
                             const std::string& shown, const std::string& text) {
  std::string block;
  adapter.format_field_with_value(block, field, shown);
  std::string replacement;
  adapter.format_field_with_value(replacement, field, text);
  // With content parts, the block is in one of the text parts.
  messages.back().content.transform_text([&](std::string user) {
    if (const std::size_t at = user.rfind(block); at != std::string::npos) user.replace(at, block.size(), replacement);
    return user;
  });
}

DSPY_DECL void show_module_names(std::vector<Message>& messages, const Adapter& adapter,
                                 const std::vector<std::string>& module_names) {
  std::string compact;
  render_value(compact, module_names);
  boost::json::array names;
  for (const auto& n : module_names) names.emplace_back(n);
  show_input_as(messages, adapter, "module_names", compact, indented_json(names));
}

// What Refine shows OfferFeedback, DSPy-exact.
template <class Feedback>
std::vector<Message> format_feedback(const Adapter& adapter, const std::string& instructions,
                                     std::span<const Demo<Feedback>> demos, const typename Feedback::Input& input) {
  std::vector<Message> messages = format_messages<Feedback>(adapter, instructions, demos, input);
  show_module_names(messages, adapter, input.module_names);
  return messages;
}

template <class Feedback>
asio::awaitable<Result<std::map<std::string, std::string>>> offer_feedback(LMHandle lm, typename Feedback::Input input) {
  Predict<Feedback> feedback;
  feedback.format_hook = &format_feedback<Feedback>;
  if (lm) feedback.set_lm(std::move(lm));
  auto pending = feedback.acall(std::move(input));
  auto advised = co_await std::move(pending);
  if (!advised) co_return std::move(advised).error();
  co_return std::move(advised->advice);
}

}  // namespace dspy::detail
