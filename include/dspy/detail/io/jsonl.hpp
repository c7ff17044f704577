// Reading JSONL files line by line, with errors naming the file and line: the datasets' files,
// the test LM's routes file and the demo server's replies file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include <boost/json/stream_parser.hpp>
#include <boost/json/value.hpp>

#include "../../primitives/error.hpp"
#include "file.hpp"

namespace dspy::detail {

inline std::string at_line(const std::filesystem::path& path, std::size_t line) {
  return path.string() + ":" + std::to_string(line) + ": ";
}

/// Calls `row(line, value)` (returning Result<void>) for each line of a UTF-8 JSONL file that is
/// not blank, in order, and stops at the first error: broken JSON names the line and column, a
/// row's own error is returned as it is. A file larger than `max_bytes` is refused unread.
template <class Row>
Result<void> for_each_jsonl_row(const std::filesystem::path& path, Row&& row,
                                std::uintmax_t max_bytes = UINTMAX_MAX) {
  std::error_code size_error;
  const std::uintmax_t size = std::filesystem::file_size(path, size_error);
  if (!size_error && size > max_bytes)
    return Error(Errc::io, path.string() + " is " + std::to_string(size) + " bytes; the limit is " +
                               std::to_string(max_bytes));
  auto text = read_text_file(path);
  if (!text) return text.error();
  std::string_view rest = *text;
  for (std::size_t line = 1; !rest.empty(); ++line) {
    const std::size_t end = rest.find('\n');
    std::string_view text_line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    if (!text_line.empty() && text_line.back() == '\r') text_line.remove_suffix(1);
    if (text_line.find_first_not_of(" \t") == std::string_view::npos) continue;
    boost::json::stream_parser parser;
    boost::system::error_code ec;
    const std::size_t used = parser.write(text_line.data(), text_line.size(), ec);
    if (!ec) parser.finish(ec);
    if (ec)
      return Error(Errc::parse_error, path.string() + ":" + std::to_string(line) + ":" + std::to_string(used + 1) +
                                          ": invalid JSON: " + ec.message());
    if (auto done = row(line, parser.release()); !done) return done.error();
  }
  return {};
}

}  // namespace dspy::detail
