// The bodies of detail::FieldStreamer and detail::JsonFieldStreamer (streaming.hpp): header-only,
// streaming.hpp includes them; with DSPY_SEPARATE_COMPILATION, <dspy/src.hpp> compiles them once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include <boost/json.hpp>

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

DSPY_DECL void FieldStreamer::finish() {
  if (deciding_ && !line_.empty()) end_line();
  close();
  current_ = sig_->outputs.size();
}

DSPY_DECL void FieldStreamer::close() {
  if (current_ >= sig_->outputs.size() || !sink_.outputs) return;
  const FieldCodec& field = sig_->outputs[current_];
  if (!field.parse_text(text_, sink_.outputs, ParseContext{nullptr, field.name()})) sink_.on_field(current_);
  text_.clear();
}

DSPY_DECL void FieldStreamer::end_line() {
  std::string_view line(line_);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  const std::string_view stripped = trim(line);
  std::string_view name;
  std::size_t end = 0;
  if (match_chat_header(stripped, name, end)) {
    close();
    const std::size_t n = sig_->outputs.size();
    current_ = sig_->output_index(name);
    if (current_ < n && (seen_ >> current_ & 1U)) current_ = n;
    if (current_ < n) seen_ |= std::uint64_t{1} << current_;
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
  if (current_ >= sig_->outputs.size()) return;
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
  if (sink_.outputs) text_ += out;
  if (sink_.on_chunk) sink_.on_chunk(StreamChunk{sig_->output_names[current_], std::move(out)});
}

DSPY_DECL void JsonFieldStreamer::feed(std::string_view text) {
  for (const char c : text) {
    switch (state_) {
      case State::before:
        if (c == '{') state_ = State::key;
        break;
      case State::key:
        if (c == '"') {
          key_.assign(1, c);
          state_ = State::in_key;
        } else if (c == '}') {
          state_ = State::done;
        }
        break;
      case State::in_key:
        key_ += c;
        if (escaped_) escaped_ = false;
        else if (c == '\\') escaped_ = true;
        else if (c == '"') state_ = State::colon;
        break;
      case State::colon:
        if (c == ':') state_ = State::value;
        break;
      case State::value:
        if (in_string_) {
          if (escaped_) escaped_ = false;
          else if (c == '\\') escaped_ = true;
          else if (c == '"') in_string_ = false;
        } else if (depth_ == 0 && (c == ',' || c == '}')) {
          member();
          state_ = c == ',' ? State::key : State::done;
          break;
        } else if (c == '"') {
          in_string_ = true;
        } else if (c == '{' || c == '[') {
          ++depth_;
        } else if ((c == '}' || c == ']') && depth_ > 0) {
          --depth_;
        }
        value_ += c;
        break;
      case State::done:
        return;
    }
  }
}

DSPY_DECL void JsonFieldStreamer::finish() {
  // A reply cut short after a complete value (`{"answer": 4`) still gives it.
  if (state_ == State::value && !in_string_ && depth_ == 0) member();
  state_ = State::done;
}

DSPY_DECL void JsonFieldStreamer::member() {
  boost::system::error_code ec;
  const boost::json::value key = boost::json::parse(key_, ec);
  boost::json::value value;
  if (!ec) value = boost::json::parse(value_, ec);
  value_.clear();
  if (ec || !key.is_string()) return;
  const std::size_t j = sig_->output_index(std::string_view(key.get_string()));
  if (j >= sig_->outputs.size() || (seen_ >> j & 1U)) return;
  seen_ |= std::uint64_t{1} << j;
  if (sink_.outputs) {
    const FieldCodec& field = sig_->outputs[j];
    if (!field.read_json(value, sink_.outputs, ParseContext{nullptr, field.name()})) sink_.on_field(j);
  }
  if (!sink_.on_chunk) return;
  std::string text = value.is_string() ? std::string(value.get_string()) : boost::json::serialize(value);
  if (!text.empty()) sink_.on_chunk(StreamChunk{sig_->output_names[j], std::move(text)});
}

}  // namespace dspy::detail
