// An incremental parser for server-sent events (the WHATWG "text/event-stream" format), fed the
// bytes of a stream in whatever pieces the network delivers them.
#pragma once

#include <string>
#include <string_view>

namespace dspy::detail {

/// One dispatched event: its type ("message" unless an `event:` line set one) and its data
/// (the `data:` lines joined by '\n').
struct SseEvent {
  std::string_view type;
  std::string_view data;
};

/// Lines end in CRLF, LF or CR, even when a CRLF is split between two pieces; lines starting
/// with ':' are comments; `id:` and `retry:` are read and ignored (no reconnection here); a
/// leading UTF-8 byte order mark is dropped. An event is dispatched at its blank line; one
/// left unfinished when the stream ends is dropped, as the standard says.
class SseParser {
 public:
  /// Parses `bytes`, calling `on_event(const SseEvent&)` for each complete event; stops early
  /// (and returns false) when `on_event` returns false.
  template <class F>
  bool feed(std::string_view bytes, F&& on_event) {
    if (at_start_) {
      // The BOM may itself arrive split: hold back a prefix of it.
      static constexpr std::string_view bom = "\xEF\xBB\xBF";
      line_.append(bytes);
      if (line_.size() < bom.size() && bom.starts_with(line_)) return true;
      at_start_ = false;
      std::string pending = std::move(line_);
      line_.clear();
      std::string_view rest(pending);
      if (rest.starts_with(bom)) rest.remove_prefix(bom.size());
      return scan(rest, on_event);
    }
    return scan(bytes, on_event);
  }

 private:
  template <class F>
  bool scan(std::string_view bytes, F& on_event) {
    for (std::size_t i = 0; i < bytes.size();) {
      if (after_cr_ && bytes[i] == '\n') ++i;  // the LF of a CRLF split across pieces
      after_cr_ = false;
      // A plain loop: find_first_of searches the two terminators once per byte of the stream.
      std::size_t end = i;
      while (end < bytes.size() && bytes[end] != '\r' && bytes[end] != '\n') ++end;
      if (end == bytes.size()) {
        line_.append(bytes.substr(i));
        break;
      }
      line_.append(bytes.substr(i, end - i));
      if (bytes[end] == '\r') {
        if (end + 1 < bytes.size()) {
          i = end + (bytes[end + 1] == '\n' ? 2 : 1);
        } else {
          after_cr_ = true;
          i = end + 1;
        }
      } else {
        i = end + 1;
      }
      if (!line(on_event)) return false;
    }
    return true;
  }

  // Handles the complete line in line_.
  template <class F>
  bool line(F& on_event) {
    std::string_view l(line_);
    bool keep_going = true;
    if (l.empty()) {
      if (has_data_) {
        std::string_view data(data_);
        data.remove_suffix(1);  // the '\n' after the last data line
        keep_going = on_event(SseEvent{type_.empty() ? std::string_view("message") : std::string_view(type_), data});
      }
      data_.clear();
      type_.clear();
      has_data_ = false;
    } else if (l.front() != ':') {
      const std::size_t colon = l.find(':');
      const std::string_view field = l.substr(0, colon);
      std::string_view value = colon == std::string_view::npos ? std::string_view() : l.substr(colon + 1);
      if (value.starts_with(' ')) value.remove_prefix(1);
      if (field == "data") {
        data_.append(value).push_back('\n');
        has_data_ = true;
      } else if (field == "event") {
        type_.assign(value);
      }
    }
    line_.clear();
    return keep_going;
  }

  std::string line_;  // the line being read
  std::string data_;
  std::string type_;
  bool has_data_ = false;
  bool after_cr_ = false;
  bool at_start_ = true;
};

}  // namespace dspy::detail
