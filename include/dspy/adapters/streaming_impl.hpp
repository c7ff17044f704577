// The bodies of detail::FieldStreamer (streaming.hpp): header-only, streaming.hpp includes them;
// with DSPY_SEPARATE_COMPILATION, <dspy/src.hpp> compiles them once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "../detail/text/tolerant.hpp"
#include "streaming.hpp"
#include "utils.hpp"

namespace dspy::detail {

DSPY_DECL void FieldStreamer::feed(std::string_view text) {
  while (!text.empty()) {
    if (deciding_) {
      const std::size_t nl = text.find('\n');
      line_.append(text.substr(0, nl));
      text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
      if (nl != std::string_view::npos) {
        end_line();
      } else if (const std::string_view s = trim_front(line_); !s.empty() && !could_be_header(s)) {
        // Not a header line: its text so far goes out now, the rest as it comes.
        deciding_ = false;
        section(line_);
        line_.clear();
      }
    } else {
      const std::size_t nl = text.find('\n');
      section(text.substr(0, nl));
      if (nl == std::string_view::npos) return;
      // A CRLF reads as LF; the CR, being trailing space, is still held back.
      if (!held_.empty() && held_.back() == '\r') held_.pop_back();
      section("\n");
      text.remove_prefix(nl + 1);
      deciding_ = true;
    }
  }
}

DSPY_DECL void FieldStreamer::end_line() {
  std::string_view line(line_);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  const std::string_view stripped = trim(line);
  std::string_view name;
  std::size_t end = 0;
  if (match_chat_header(stripped, name, end)) {
    current_ = fields_.size();
    for (std::size_t i = 0; i < fields_.size(); ++i)
      if (fields_[i] == name && !(seen_ >> i & 1U)) current_ = i;
    if (current_ < fields_.size()) seen_ |= std::uint64_t{1} << current_;
    started_ = false;
    held_.clear();
    section(trim(stripped.substr(end)));
    section("\n");
  } else {
    section(line);
    section("\n");
  }
  line_.clear();
}

DSPY_DECL void FieldStreamer::section(std::string_view text) {
  if (current_ >= fields_.size()) return;
  if (!started_) {
    text = trim_front(text);
    if (text.empty()) return;
    started_ = true;
  }
  std::size_t body = text.size();
  while (body > 0 && is_space(text[body - 1])) --body;
  if (body == 0) {
    held_.append(text);
    return;
  }
  std::string out = std::move(held_);
  out.append(text.substr(0, body));
  held_.assign(text.substr(body));
  on_chunk_(StreamChunk{fields_[current_], std::move(out)});
}

}  // namespace dspy::detail
