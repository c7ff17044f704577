// The bodies of csv.hpp: header-only, csv.hpp includes them; with DSPY_SEPARATE_COMPILATION,
// <dspy/src.hpp> compiles them once.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../../primitives/error.hpp"
#include "csv.hpp"

namespace dspy::detail::csv {

DSPY_DECL Result<std::vector<Record>> parse(std::string_view text, std::string_view source) {
  std::vector<Record> records;
  std::size_t i = 0, line = 1, line_start = 0;
  const auto fail = [&](std::size_t at_line, std::size_t at_col, const std::string& what) {
    return Error(Errc::parse_error,
                 std::string(source) + ":" + std::to_string(at_line) + ":" + std::to_string(at_col) + ": " + what);
  };
  const auto at_eol = [&](std::size_t k) { return k >= text.size() || text[k] == '\n' || text[k] == '\r'; };
  const auto skip_eol = [&] {  // past one CRLF, LF or CR
    if (i < text.size() && text[i] == '\r') ++i;
    if (i < text.size() && text[i] == '\n') ++i;
    ++line;
    line_start = i;
  };
  while (i < text.size()) {
    if (at_eol(i)) {  // a blank line
      skip_eol();
      continue;
    }
    Record record;
    record.line = line;
    for (;;) {
      Cell cell;
      cell.line = line;
      cell.column = i - line_start + 1;
      if (i < text.size() && text[i] == '"') {
        ++i;
        for (;;) {
          if (i >= text.size()) return fail(cell.line, cell.column, "unterminated quoted field");
          const char c = text[i];
          if (c == '"') {
            if (i + 1 < text.size() && text[i + 1] == '"') {
              cell.text += '"';
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          if (c == '\n' || (c == '\r' && !(i + 1 < text.size() && text[i + 1] == '\n'))) {
            cell.text += c;
            ++i;
            ++line;
            line_start = i;
            continue;
          }
          cell.text += c;
          ++i;
        }
        if (!at_eol(i) && text[i] != ',')
          return fail(line, i - line_start + 1, "unexpected character after a closing quote (a quote inside a "
                                                "quoted field is written twice: \"\")");
      } else {
        while (!at_eol(i) && text[i] != ',') {
          if (text[i] == '"')
            return fail(line, i - line_start + 1,
                        "a quote inside an unquoted field (quote the whole field and double the quote)");
          cell.text += text[i++];
        }
      }
      record.cells.push_back(std::move(cell));
      if (i < text.size() && text[i] == ',') {
        ++i;
        continue;
      }
      break;
    }
    records.push_back(std::move(record));
    if (i < text.size()) skip_eol();
  }
  return records;
}

DSPY_DECL void append_field(std::string& out, std::string_view value) {
  if (value.find_first_of(",\"\r\n") == std::string_view::npos) {
    out += value;
    return;
  }
  out += '"';
  for (const char c : value) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

DSPY_DECL void append_record(std::string& out, const std::vector<std::string>& fields) {
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i) out += ',';
    append_field(out, fields[i]);
  }
  out += "\r\n";
}

}  // namespace dspy::detail::csv
