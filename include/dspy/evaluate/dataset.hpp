// Datasets: typed examples from JSONL and CSV files by field name; seeded shuffles and splits
// that give the same order on every platform.
#pragma once

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "../detail/io/csv.hpp"
#include "../detail/random.hpp"
#include "../detail/io/file.hpp"
#include "../detail/io/jsonl.hpp"
#include "../signatures/example.hpp"

namespace dspy {

namespace detail {

// The error `e` about one example, located at `where`.
inline Error located(const std::string& where, const Error& e) {
  return Error(e.code(), where + e.message(), {}, e.field());
}

}  // namespace detail

/// Reads one example per line of a JSONL file: an object keyed by field name, with every input
/// field and any labels (other keys ignored; blank lines skipped). Errors name the file, line
/// (and column for broken JSON or text that is not UTF-8) and field.
template <Signature Sig>
Result<std::vector<Example<Sig>>> load_jsonl(const std::filesystem::path& path) {
  std::vector<Example<Sig>> out;
  auto read = detail::for_each_jsonl_row(path, [&](std::size_t line, const boost::json::value& v) -> Result<void> {
    if (!v.is_object())
      return Error(Errc::parse_error, detail::at_line(path, line) + "expected a JSON object of fields, got " +
                                          detail::json_kind_name(v));
    auto example = example_from_json<Sig>(v.get_object());
    if (!example) return detail::located(detail::at_line(path, line), example.error());
    out.push_back(std::move(*example));
    return {};
  });
  if (!read) return read.error();
  return out;
}

/// Reads examples from a CSV file (RFC 4180) whose header row names the fields: a column per
/// input field is required, label columns are optional, other columns are ignored. An empty cell
/// is an absent value (a missing label; a missing input is an error). Values are read as an LM's
/// text is (`42`, `True`, JSON for lists and structs). Errors name the file, line, column and field.
template <Signature Sig>
Result<std::vector<Example<Sig>>> load_csv(const std::filesystem::path& path) {
  using In = typename Sig::Input;
  using Out = typename Sig::Output;
  auto text = detail::read_text_file(path);
  if (!text) return text.error();
  auto records = detail::csv::parse(*text, path.string());
  if (!records) return records.error();
  if (records->empty()) return Error(Errc::parse_error, path.string() + ": no header row");
  // Column -> (is_output, field index); unmatched columns are ignored.
  struct Column {
    bool known = false;
    bool output = false;
    std::size_t index = 0;
  };
  const auto& header = records->front();
  std::vector<Column> columns;
  std::uint64_t seen = 0;
  for (const auto& cell : header.cells) {
    Column c;
    if (auto i = detail::FieldTable<In>::index_of(cell.text); i < field_count<In>) c = {true, false, i};
    else if (auto j = detail::FieldTable<Out>::index_of(cell.text); j < field_count<Out>) c = {true, true, j};
    const std::uint64_t bit = std::uint64_t{1} << (c.output ? field_count<In> + c.index : c.index);
    if (c.known && (seen & bit))
      return Error(Errc::parse_error, detail::at_line(path, header.line) + "column `" + cell.text + "` appears twice",
                   {}, cell.text);
    if (c.known) seen |= bit;
    columns.push_back(c);
  }
  for (std::size_t i = 0; i < field_count<In>; ++i)
    if (!(seen >> i & 1U)) {
      const std::string field(field_names<In>[i]);
      return Error(Errc::missing_field,
                   detail::at_line(path, header.line) + "no column for the input field `" + field + "`", {}, field);
    }
  std::vector<Example<Sig>> out;
  out.reserve(records->size() - 1);
  for (std::size_t r = 1; r < records->size(); ++r) {
    const auto& record = (*records)[r];
    if (record.cells.size() != columns.size())
      return Error(Errc::parse_error, detail::at_line(path, record.line) + std::to_string(record.cells.size()) +
                                          " fields, but the header has " + std::to_string(columns.size()));
    Demo<Sig> d;
    d.missing = ~std::uint64_t{0} >> (64 - Demo<Sig>::input_count - Demo<Sig>::output_count);
    for (std::size_t k = 0; k < columns.size(); ++k) {
      const Column& c = columns[k];
      const detail::csv::Cell& cell = record.cells[k];
      if (!c.known || cell.text.empty()) continue;
      const std::string_view field = c.output ? field_names<Out>[c.index] : field_names<In>[c.index];
      const ParseContext ctx{nullptr, field};
      const auto error = c.output ? detail::FieldTable<Out>::ops.parse[c.index](cell.text, d.output, ctx)
                                  : detail::FieldTable<In>::ops.parse[c.index](cell.text, d.input, ctx);
      if (error)
        return Error(Errc::type_mismatch,
                     path.string() + ":" + std::to_string(cell.line) + ":" + std::to_string(cell.column) +
                         ": field `" + std::string(field) + "`: " + *error,
                     {}, std::string(field));
      d.missing &= ~(std::uint64_t{1} << (c.output ? Demo<Sig>::input_count + c.index : c.index));
    }
    auto example = example_from_demo(std::move(d));
    if (!example) return detail::located(detail::at_line(path, record.line), example.error());
    out.push_back(std::move(*example));
  }
  return out;
}

using detail::shuffle;
using detail::uniform_below;

template <class T>
void shuffle(std::vector<T>& items, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  shuffle(items, rng);
}

struct SplitOptions {
  /// The share of the items that goes to dev (rounded to the nearest count)...
  double dev_fraction = 0.2;
  /// ...unless a count is given.
  std::optional<std::size_t> dev_size{};
  std::uint64_t seed = 0;
  /// Shuffle (with `seed`) before splitting; otherwise dev is the tail.
  bool shuffle = true;
};

template <class T>
struct TrainDev {
  std::vector<T> train;
  std::vector<T> dev;
};

/// Splits items into train and dev, reproducibly: `auto [train, dev] = train_dev_split(all, {.seed = 7});`.
template <class T>
TrainDev<T> train_dev_split(std::vector<T> items, SplitOptions options = {}) {
  if (options.shuffle) shuffle(items, options.seed);
  const double fraction = std::clamp(options.dev_fraction, 0.0, 1.0);
  const std::size_t dev = std::min(
      items.size(), options.dev_size.value_or(static_cast<std::size_t>(static_cast<double>(items.size()) * fraction + 0.5)));
  TrainDev<T> out;
  const auto cut = items.begin() + static_cast<std::ptrdiff_t>(items.size() - dev);
  out.train.assign(std::make_move_iterator(items.begin()), std::make_move_iterator(cut));
  out.dev.assign(std::make_move_iterator(cut), std::make_move_iterator(items.end()));
  return out;
}

}  // namespace dspy
