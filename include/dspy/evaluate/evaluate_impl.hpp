// The bodies of evaluate.hpp's non-template code (result rows, saving and loading, the table):
// header-only, evaluate.hpp includes them; with DSPY_SEPARATE_COMPILATION, <dspy/src.hpp>
// compiles them once.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "../detail/io/csv.hpp"
#include "../detail/io/file.hpp"
#include "../detail/text/pytext.hpp"
#include "evaluate.hpp"

namespace dspy {

DSPY_DECL std::optional<Errc> errc_from_string(std::string_view name) {
  for (int i = 0; i <= static_cast<int>(Errc::metric); ++i)
    if (to_string(static_cast<Errc>(i)) == name) return static_cast<Errc>(i);
  return std::nullopt;
}

namespace detail {

DSPY_DECL std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

DSPY_DECL std::string progress_note(double total, std::size_t scored) {
  // Nothing scored yet: DSPy shows a bare 0 for the percentage.
  const std::string percent = scored ? fixed(100.0 * total / static_cast<double>(scored), 1) : "0";
  return "Average Metric: " + fixed(total, 2) + " / " + std::to_string(scored) + " (" + percent + "%)";
}

DSPY_DECL double round_to(double v, int decimals) {
  const double scale = std::pow(10.0, decimals);
  return std::round(v * scale) / scale;
}

DSPY_DECL EvaluationResult evaluation_result(std::vector<Result<ScoredPrediction>> results,
                                             std::vector<boost::json::object> examples,
                                             const std::vector<double>& latency, const EvaluateOptions& options) {
  EvaluationResult out;
  out.rows.reserve(examples.size());
  for (std::size_t i = 0; i < examples.size(); ++i) {
    EvaluationRow row;
    row.index = i;
    row.example = std::move(examples[i]);
    row.latency_s = latency[i];
    if (auto& r = results[i]) {
      row.prediction = std::move(r->prediction);
      row.score = r->score.score;
      row.feedback = std::move(r->score.feedback);
      row.usage = r->usage;
    } else {
      row.error = RowError{r.error().code(), r.error().message()};
      row.score = options.failure_score;
    }
    out.total += row.score;
    out.rows.push_back(std::move(row));
  }
  const double percent = examples.empty() ? 0.0 : 100.0 * out.total / static_cast<double>(examples.size());
  out.score = round_to(percent, 2);
  if (options.progress)
    std::fprintf(stderr, "Average Metric: %s / %zu (%s%%)\n", fixed(out.total, 2).c_str(), examples.size(),
                 fixed(percent, 1).c_str());
  if (options.display_table) std::cout << out.table(options.display_table);
  return out;
}

}  // namespace detail

// ---- saving and loading ---------------------------------------------------------------------------

DSPY_DECL boost::json::object EvaluationResult::to_json() const {
  boost::json::array rows_json;
  for (const auto& r : rows) {
    boost::json::object o;
    o["index"] = r.index;
    o["example"] = r.example;
    o["prediction"] = r.prediction ? boost::json::value(*r.prediction) : boost::json::value(nullptr);
    o["error"] = r.error ? boost::json::value({{"code", to_string(r.error->code)}, {"message", r.error->message}})
                         : boost::json::value(nullptr);
    o["score"] = r.score;
    o["feedback"] = r.feedback;
    o["latency_s"] = r.latency_s;
    o["usage"] = {{"prompt_tokens", r.usage.prompt_tokens},
                  {"completion_tokens", r.usage.completion_tokens},
                  {"total_tokens", r.usage.total_tokens}};
    rows_json.push_back(std::move(o));
  }
  return {{"score", score}, {"total", total}, {"rows", std::move(rows_json)}};
}

namespace detail {

inline Error bad_results(std::string_view where, const std::string& what) {
  return Error(Errc::parse_error, std::string(where) + ": " + what);
}

inline std::optional<double> json_number(const boost::json::value* v) {
  if (!v || !v->is_number()) return std::nullopt;
  return v->to_number<double>();
}

// A token count read back from a results file: a whole number in [0, INT64_MAX].
inline std::optional<std::int64_t> token_count(std::optional<double> v) {
  std::int64_t n = 0;
  if (!v || !integer_from_double(*v, n) || n < 0) return std::nullopt;
  return n;
}

}  // namespace detail

DSPY_DECL Result<EvaluationResult> EvaluationResult::from_json(const boost::json::value& v) {
  const auto* top = v.if_object();
  if (!top) return detail::bad_results("evaluation results", "expected a JSON object");
  EvaluationResult out;
  const auto score_ = detail::json_number(top->if_contains("score"));
  const auto total_ = detail::json_number(top->if_contains("total"));
  const auto* rows_ = top->if_contains("rows");
  if (!score_ || !total_ || !rows_ || !rows_->is_array())
    return detail::bad_results("evaluation results", "expected numbers `score` and `total` and an array `rows`");
  out.score = *score_;
  out.total = *total_;
  for (std::size_t i = 0; i < rows_->get_array().size(); ++i) {
    const std::string where = "evaluation results: rows[" + std::to_string(i) + "]";
    const auto* o = rows_->get_array()[i].if_object();
    if (!o) return detail::bad_results(where, "expected an object");
    EvaluationRow row;
    const auto index = o->if_contains("index");
    const auto* example = o->if_contains("example");
    const auto* prediction = o->if_contains("prediction");
    const auto* error = o->if_contains("error");
    const auto row_score = detail::json_number(o->if_contains("score"));
    const bool index_ok = index && (index->is_uint64() || (index->is_int64() && index->get_int64() >= 0));
    if (!index_ok || !example || !example->is_object() || !row_score)
      return detail::bad_results(where, "expected an `index` >= 0, an object `example` and a number `score`");
    row.index = index->is_uint64() ? index->get_uint64() : static_cast<std::size_t>(index->get_int64());
    row.example = example->get_object();
    row.score = *row_score;
    if (prediction && prediction->is_object()) row.prediction = prediction->get_object();
    if (error && error->is_object()) {
      const auto* code = error->get_object().if_contains("code");
      const auto* message = error->get_object().if_contains("message");
      const auto errc = code && code->is_string() ? errc_from_string(code->get_string()) : std::nullopt;
      if (!errc || !message || !message->is_string())
        return detail::bad_results(where + ".error", "expected a known `code` and a string `message`");
      row.error = RowError{*errc, std::string(message->get_string())};
    }
    if (const auto* f = o->if_contains("feedback"); f && f->is_string()) row.feedback = f->get_string();
    row.latency_s = detail::json_number(o->if_contains("latency_s")).value_or(0.0);
    if (const auto* u = o->if_contains("usage"); u && u->is_object()) {
      std::int64_t counts[3] = {};
      for (int k = 0; k < 3; ++k) {
        const char* name = std::array{"prompt_tokens", "completion_tokens", "total_tokens"}[k];
        const auto* v = u->get_object().if_contains(name);
        if (!v) continue;
        const auto n = detail::token_count(detail::json_number(v));
        if (!n) return detail::bad_results(where + ".usage." + name, "expected a whole number of tokens >= 0");
        counts[k] = *n;
      }
      row.usage = {counts[0], counts[1], counts[2]};
    }
    out.rows.push_back(std::move(row));
  }
  return out;
}

DSPY_DECL Result<EvaluationResult> EvaluationResult::load_json(const std::filesystem::path& path) {
  auto text = detail::read_text_file(path);
  if (!text) return text.error();
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(*text, ec);
  if (ec) return Error(Errc::parse_error, path.string() + ": invalid JSON: " + ec.message());
  auto r = from_json(v);
  if (!r) return Error(r.error().code(), path.string() + ": " + r.error().message());
  return r;
}

namespace detail {

// A value in a CSV cell: a string as it is unless it would read back as other JSON (then
// quoted), anything else as JSON. An absent value is an empty cell.
inline std::string csv_value(const boost::json::value& v) {
  if (v.is_string()) {
    const std::string_view s = v.get_string();
    boost::system::error_code ec;
    (void)boost::json::parse(s, ec);
    if (!s.empty() && ec) return std::string(s);
  }
  return py_json(v);
}

inline boost::json::value csv_value_back(const std::string& cell) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(cell, ec);
  if (ec) return boost::json::string(cell);
  return v;
}

// Keys in order of first appearance over the rows.
template <class Get>
std::vector<std::string> union_keys(const std::vector<EvaluationRow>& rows, Get get) {
  std::vector<std::string> keys;
  for (const auto& r : rows)
    if (const boost::json::object* o = get(r))
      for (const auto& kv : *o)
        if (std::find(keys.begin(), keys.end(), kv.key()) == keys.end()) keys.emplace_back(kv.key());
  return keys;
}

}  // namespace detail

/// Columns: index, example.<field>..., prediction.<field>..., score, feedback, error,
/// error_message, latency_s, prompt_tokens, completion_tokens, total_tokens. The score and total
/// are not written: loading recomputes them from the rows.
DSPY_DECL std::string EvaluationResult::to_csv() const {
  const auto example_keys = detail::union_keys(rows, [](const EvaluationRow& r) { return &r.example; });
  const auto prediction_keys = detail::union_keys(
      rows, [](const EvaluationRow& r) { return r.prediction ? &*r.prediction : nullptr; });
  std::vector<std::string> header{"index"};
  for (const auto& k : example_keys) header.push_back("example." + k);
  for (const auto& k : prediction_keys) header.push_back("prediction." + k);
  for (const char* k : {"score", "feedback", "error", "error_message", "latency_s", "prompt_tokens",
                        "completion_tokens", "total_tokens"})
    header.emplace_back(k);
  std::string out;
  detail::csv::append_record(out, header);
  for (const auto& r : rows) {
    std::vector<std::string> cells{std::to_string(r.index)};
    for (const auto& k : example_keys)
      cells.push_back(r.example.contains(k) ? detail::csv_value(r.example.at(k)) : std::string());
    for (const auto& k : prediction_keys)
      cells.push_back(r.prediction && r.prediction->contains(k) ? detail::csv_value(r.prediction->at(k)) : std::string());
    cells.push_back(detail::py_float(r.score));
    cells.push_back(r.feedback);
    cells.emplace_back(r.error ? to_string(r.error->code) : std::string_view());
    cells.push_back(r.error ? r.error->message : std::string());
    cells.push_back(detail::py_float(r.latency_s));
    cells.push_back(std::to_string(r.usage.prompt_tokens));
    cells.push_back(std::to_string(r.usage.completion_tokens));
    cells.push_back(std::to_string(r.usage.total_tokens));
    detail::csv::append_record(out, cells);
  }
  return out;
}

DSPY_DECL Result<EvaluationResult> EvaluationResult::from_csv(std::string_view text, std::string_view source) {
  auto records = detail::csv::parse(text, source);
  if (!records) return records.error();
  if (records->empty()) return detail::bad_results(source, "no header row");
  const auto& header = records->front().cells;
  std::map<std::string, std::size_t, std::less<>> column;
  for (std::size_t k = 0; k < header.size(); ++k) column[header[k].text] = k;
  for (const char* required : {"index", "score", "error", "error_message"})
    if (!column.contains(required)) return detail::bad_results(source, "no column `" + std::string(required) + "`");
  EvaluationResult out;
  for (std::size_t n = 1; n < records->size(); ++n) {
    const auto& rec = (*records)[n];
    const std::string where = std::string(source) + ":" + std::to_string(rec.line);
    if (rec.cells.size() != header.size())
      return detail::bad_results(where, std::to_string(rec.cells.size()) + " fields, but the header has " +
                                            std::to_string(header.size()));
    const auto cell = [&](std::string_view name) -> const std::string& { return rec.cells[column.find(name)->second].text; };
    const auto number = [&](std::string_view name) -> std::optional<double> {
      if (!column.contains(name)) return 0.0;
      const std::string& s = cell(name);
      double v = 0;
      if (!detail::parse_whole_number(std::string_view(s), v)) return std::nullopt;
      return v;
    };
    EvaluationRow row;
    std::size_t index = 0;
    const auto row_score = number("score");
    const auto latency = number("latency_s");
    const auto prompt = detail::token_count(number("prompt_tokens"));
    const auto completion = detail::token_count(number("completion_tokens"));
    const auto total_ = detail::token_count(number("total_tokens"));
    const auto index_number = number("index");
    if (!index_number || !detail::integer_from_double(*index_number, index) || !row_score || !latency || !prompt ||
        !completion || !total_)
      return detail::bad_results(where, "index and token counts must be whole numbers >= 0, score and latency_s numbers");
    row.index = index;
    row.score = *row_score;
    row.latency_s = *latency;
    row.usage = {*prompt, *completion, *total_};
    if (column.contains("feedback")) row.feedback = cell("feedback");
    if (!cell("error").empty()) {
      const auto errc = errc_from_string(cell("error"));
      if (!errc) return detail::bad_results(where, "unknown error code `" + cell("error") + "`");
      row.error = RowError{*errc, cell("error_message")};
    }
    for (std::size_t k = 0; k < header.size(); ++k) {
      const std::string& name = header[k].text;
      const std::string& value = rec.cells[k].text;
      if (value.empty()) continue;
      if (name.starts_with("example.")) row.example[name.substr(8)] = detail::csv_value_back(value);
      else if (name.starts_with("prediction.")) {
        if (!row.prediction) row.prediction.emplace();
        (*row.prediction)[name.substr(11)] = detail::csv_value_back(value);
      }
    }
    // A prediction with no fields written is still a prediction when the row did not fail.
    if (!row.error && !row.prediction) row.prediction.emplace();
    out.total += row.score;
    out.rows.push_back(std::move(row));
  }
  out.score = out.rows.empty() ? 0.0 : detail::round_to(100.0 * out.total / static_cast<double>(out.rows.size()), 2);
  return out;
}

// ---- the table ------------------------------------------------------------------------------------

namespace detail {

// At most `width` code points of `s`, with "..." when cut; newlines shown as spaces.
inline std::string table_cell(std::string s, std::size_t width) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  std::size_t points = 0, i = 0;
  for (; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) continue;
    if (points == width - 3 && s.size() - i > 3) {
      s.resize(i);
      return s + "...";
    }
    ++points;
  }
  return s;
}

inline std::size_t display_width(std::string_view s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}


}  // namespace detail

DSPY_DECL std::string EvaluationResult::table(std::size_t max_rows) const {
  const std::size_t n = std::min(max_rows, rows.size());
  const std::vector<EvaluationRow> shown(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(n));
  const auto example_keys = detail::union_keys(shown, [](const EvaluationRow& r) { return &r.example; });
  const auto prediction_keys =
      detail::union_keys(shown, [](const EvaluationRow& r) { return r.prediction ? &*r.prediction : nullptr; });
  std::vector<std::string> header{"#"};
  for (const auto& k : example_keys) header.push_back(k);
  for (const auto& k : prediction_keys) header.push_back("pred_" + k);
  const bool any_error = std::any_of(shown.begin(), shown.end(), [](const auto& r) { return r.error.has_value(); });
  if (any_error) header.emplace_back("error");
  header.emplace_back("score");
  std::vector<std::vector<std::string>> cells{header};
  for (const auto& r : shown) {
    std::vector<std::string> line{std::to_string(r.index)};
    for (const auto& k : example_keys)
      line.push_back(detail::table_cell(r.example.contains(k) ? detail::value_text(r.example.at(k)) : "", 30));
    for (const auto& k : prediction_keys)
      line.push_back(
          detail::table_cell(r.prediction && r.prediction->contains(k) ? detail::value_text(r.prediction->at(k)) : "", 30));
    if (any_error)
      line.push_back(detail::table_cell(r.error ? std::string(to_string(r.error->code)) + ": " + r.error->message : "", 40));
    line.push_back(detail::fixed(r.score, 2));
    cells.push_back(std::move(line));
  }
  std::vector<std::size_t> widths(header.size(), 0);
  for (const auto& line : cells)
    for (std::size_t c = 0; c < line.size(); ++c) widths[c] = std::max(widths[c], detail::display_width(line[c]));
  std::string out;
  for (std::size_t l = 0; l < cells.size(); ++l) {
    for (std::size_t c = 0; c < cells[l].size(); ++c) {
      if (c) out += " | ";
      out += cells[l][c];
      if (c + 1 < cells[l].size()) out.append(widths[c] - detail::display_width(cells[l][c]), ' ');
    }
    out += '\n';
    if (l == 0) {
      for (std::size_t c = 0; c < widths.size(); ++c) {
        if (c) out += "-+-";
        out.append(widths[c], '-');
      }
      out += '\n';
    }
  }
  if (n < rows.size()) out += "... " + std::to_string(rows.size() - n) + " more rows\n";
  return out;
}

}  // namespace dspy
