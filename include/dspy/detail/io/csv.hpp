// CSV as RFC 4180 writes it: fields separated by commas, records by CRLF (LF accepted), fields
// with commas, quotes or line breaks quoted, a quote inside doubled.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "../../primitives/error.hpp"
#include "../config.hpp"

namespace dspy::detail::csv {

struct Cell {
  std::string text;
  std::size_t line = 0;    ///< 1-based line where the cell starts
  std::size_t column = 0;  ///< 1-based byte column where the cell starts
};

struct Record {
  std::vector<Cell> cells;
  std::size_t line = 0;
};

/// Every record of `text`; blank lines are skipped. Errors say `source:line:column: what`.
DSPY_DECL Result<std::vector<Record>> parse(std::string_view text, std::string_view source);

/// Appends one field, quoted when it must be.
DSPY_DECL void append_field(std::string& out, std::string_view value);

/// Appends one record and its CRLF.
DSPY_DECL void append_record(std::string& out, const std::vector<std::string>& fields);

}  // namespace dspy::detail::csv

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "csv_impl.hpp"
#endif
