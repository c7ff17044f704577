// The bodies of report_render.hpp.
#pragma once

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <system_error>
#include <vector>

#include "../detail/io/csv.hpp"
#include "../detail/io/file.hpp"
#include "../detail/text/pytext.hpp"
#include "evaluate_impl.hpp"  // table_cell, display_width
#include "report_render.hpp"

namespace dspy {

namespace detail {

// Text for HTML and SVG, element content and attribute values alike. The pages are also
// well-formed XML (void elements closed: <br/>), so that any XML reader checks them.
inline std::string escape_markup(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

// Colours of the models, in order (Observable's categorical scheme: distinct for most forms of
// colour blindness).
inline std::string_view model_colour(std::size_t i) {
  static constexpr std::string_view colours[] = {"#4269d0", "#efb118", "#ff725c", "#6cc5b0",
                                                 "#3ca951", "#ff8ab7", "#a463f2", "#97bbf5"};
  return colours[i % std::size(colours)];
}

// A step of 1, 2 or 5 times a power of ten giving about `ticks` ticks over `range`.
inline double nice_step(double range, int ticks) {
  if (!(range > 0)) return 1;
  const double raw = range / ticks, power = std::pow(10.0, std::floor(std::log10(raw))), f = raw / power;
  return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * power;
}

inline std::string num(double v, int decimals = 1) { return fixed(v, decimals); }

inline std::string svg_open(int width, int height, std::string_view title) {
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + std::to_string(width) + " " +
         std::to_string(height) + "\" width=\"" + std::to_string(width) + "\" height=\"" + std::to_string(height) +
         "\" font-family=\"system-ui, -apple-system, 'Segoe UI', sans-serif\" font-size=\"12\" role=\"img\">\n<title>" +
         escape_markup(title) + "</title>\n<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n";
}

inline std::string svg_text(double x, double y, std::string_view text, std::string_view extra = {}) {
  return "<text x=\"" + num(x) + "\" y=\"" + num(y) + "\"" + (extra.empty() ? "" : " " + std::string(extra)) + ">" +
         escape_markup(text) + "</text>\n";
}

inline std::string svg_line(double x1, double y1, double x2, double y2, std::string_view style) {
  return "<line x1=\"" + num(x1) + "\" y1=\"" + num(y1) + "\" x2=\"" + num(x2) + "\" y2=\"" + num(y2) + "\" " +
         std::string(style) + "/>\n";
}

inline std::string cost_text(const std::optional<double>& cost) {
  if (!cost) return "n/a (no price for this model)";
  return "$" + fixed(*cost, *cost < 0.01 ? 6 : 4);
}

inline std::string errors_text(const std::map<std::string, std::size_t>& errors) {
  std::string out;
  for (const auto& [code, n] : errors) out += (out.empty() ? "" : ", ") + code + " " + std::to_string(n);
  return out.empty() ? "none" : out;
}

// Aligned "key | value | value" lines.
inline std::string aligned(const std::vector<std::vector<std::string>>& lines) {
  std::vector<std::size_t> widths;
  for (const auto& l : lines)
    for (std::size_t c = 0; c < l.size(); ++c) {
      if (widths.size() <= c) widths.push_back(0);
      widths[c] = std::max(widths[c], display_width(l[c]));
    }
  std::string out;
  for (const auto& l : lines) {
    out += "  ";
    for (std::size_t c = 0; c < l.size(); ++c) {
      if (c) out += " | ";
      out += l[c];
      if (c + 1 < l.size()) out.append(widths[c] - display_width(l[c]), ' ');
    }
    out += "\n";
  }
  return out;
}

inline std::string shard_text(const BenchmarkReport& r) {
  return r.shard.count > 1 ? ", shard " + r.shard.to_string() : "";
}

// The examples of a report in index order, each with its row per model (first repeat).
struct ExampleLine {
  const boost::json::object* example = nullptr;
  std::vector<const EvaluationRow*> rows;  // per model; null when the model has no row for it
};

inline std::map<std::size_t, ExampleLine> example_lines(const BenchmarkReport& r) {
  std::map<std::size_t, ExampleLine> out;
  for (std::size_t m = 0; m < r.models.size(); ++m) {
    if (r.models[m].repeats.empty()) continue;
    for (const auto& row : r.models[m].repeats.front().rows) {
      auto& line = out[row.index];
      line.rows.resize(r.models.size(), nullptr);
      line.rows[m] = &row;
      if (!line.example) line.example = &row.example;
    }
  }
  return out;
}

inline std::string score_colour(double score, bool failed) {
  if (failed) return "#d62728";
  const double t = std::clamp(score, 0.0, 1.0);
  const auto mix = [t](int a, int b) { return static_cast<int>(std::lround(a + (b - a) * t)); };
  char buf[16];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", mix(0xdd, 0x2c), mix(0xdd, 0xa0), mix(0xdd, 0x2c));
  return buf;
}

}  // namespace detail

// ---- terminal tables ------------------------------------------------------------------------------

DSPY_DECL std::string to_table(const BenchmarkReport& report) {
  const auto summaries = report.summaries();
  std::vector<std::vector<std::string>> lines;
  const auto add = [&](std::string key, const auto& value) {
    std::vector<std::string> l{std::move(key)};
    for (const auto& s : summaries) l.push_back(value(s));
    lines.push_back(std::move(l));
  };
  add("model", [](const ModelSummary& s) { return s.label == s.model ? s.label : s.label + " (" + s.model + ")"; });
  add("examples", [&](const ModelSummary& s) {
    return std::to_string(s.examples) + (s.repeats > 1 ? " x " + std::to_string(s.repeats) + " repeats" : "") + " (concurrency " +
           std::to_string(report.concurrency) + detail::shard_text(report) + ")";
  });
  add("accuracy", [](const ModelSummary& s) {
    return detail::fixed(s.accuracy, 2) + "% (95% CI " + detail::fixed(s.accuracy_ci.low, 1) + "-" +
           detail::fixed(s.accuracy_ci.high, 1) + ")";
  });
  add("latency p50 / p90 / p99 / max", [](const ModelSummary& s) {
    return detail::fixed(s.latency_p50_ms, 1) + " / " + detail::fixed(s.latency_p90_ms, 1) + " / " +
           detail::fixed(s.latency_p99_ms, 1) + " / " + detail::fixed(s.latency_max_ms, 1) + " ms";
  });
  add("tokens in / out", [](const ModelSummary& s) {
    return std::to_string(s.calls.tokens_in) + " / " + std::to_string(s.calls.tokens_out);
  });
  add("cost", [](const ModelSummary& s) { return detail::cost_text(s.cost_usd); });
  add("LM calls / cache hits / retries", [](const ModelSummary& s) {
    return std::to_string(s.calls.calls) + " / " + std::to_string(s.calls.cache_hits) + " / " +
           std::to_string(s.calls.retries);
  });
  add("throughput", [](const ModelSummary& s) {
    return detail::fixed(s.throughput, 1) + " examples/s (" + detail::fixed(s.wall_s, 2) + " s)";
  });
  add("errors", [](const ModelSummary& s) { return detail::errors_text(s.errors); });
  add("LM call errors", [](const ModelSummary& s) { return detail::errors_text(s.calls.errors); });
  return "  " + report.name + (report.dataset.empty() ? "" : " on " + report.dataset) + "\n" + detail::aligned(lines);
}

DSPY_DECL std::string to_table(const Comparison& c) {
  const auto flips = [](const std::vector<FlippedExample>& v) {
    std::string out = std::to_string(v.size());
    for (std::size_t i = 0; i < v.size() && i < 12; ++i) out += (i ? ", " : ": #") + std::string(i ? "#" : "") + std::to_string(v[i].index);
    if (v.size() > 12) out += ", ...";
    return out;
  };
  std::vector<std::vector<std::string>> lines{
      {"baseline / candidate", c.baseline + " / " + c.candidate},
      {"paired examples", std::to_string(c.paired) + (c.unpaired ? " (" + std::to_string(c.unpaired) + " unpaired, left out)" : "")},
      {"accuracy", detail::fixed(c.baseline_accuracy, 2) + "% -> " + detail::fixed(c.candidate_accuracy, 2) + "%"},
      {"change", detail::signed_fixed(c.delta, 2) + " points (95% CI " + detail::signed_fixed(c.delta_ci.low, 2) + " to " +
                     detail::signed_fixed(c.delta_ci.high, 2) + ")"},
      {"test", c.test + ": " + detail::p_value_text(c.p_value) + (c.significant() ? " (significant)" : " (not significant)") +
                   " at alpha " + detail::fixed(c.alpha, 2)},
      {"improved (fail -> pass)", flips(c.improved)},
      {"regressed (pass -> fail)", flips(c.regressed)},
      {"latency p50 / p90 / p99", detail::signed_fixed(c.latency_p50_delta_ms, 1) + " / " +
                                      detail::signed_fixed(c.latency_p90_delta_ms, 1) + " / " +
                                      detail::signed_fixed(c.latency_p99_delta_ms, 1) + " ms"},
      {"tokens in / out", detail::signed_fixed(static_cast<double>(c.tokens_in_delta), 0) + " / " +
                              detail::signed_fixed(static_cast<double>(c.tokens_out_delta), 0)},
      {"cost", c.cost_delta_usd ? (*c.cost_delta_usd < 0 ? "-$" : "+$") + detail::fixed(std::abs(*c.cost_delta_usd), 6)
                                : std::string("n/a (a model has no price)")},
  };
  return detail::aligned(lines) + "  => " + c.verdict() + "\n";
}

// ---- CSV -------------------------------------------------------------------------------------------

DSPY_DECL std::string summary_csv(const BenchmarkReport& report) {
  std::string out;
  detail::csv::append_record(out, {"label", "model", "examples", "repeats", "accuracy", "accuracy_ci_low", "accuracy_ci_high",
                                   "latency_p50_ms", "latency_p90_ms", "latency_p99_ms", "latency_max_ms", "tokens_in",
                                   "tokens_out", "cost_usd", "calls", "cache_hits", "retries", "failed", "wall_s",
                                   "throughput_per_s"});
  for (const auto& s : report.summaries())
    detail::csv::append_record(
        out, {s.label, s.model, std::to_string(s.examples), std::to_string(s.repeats), detail::py_float(s.accuracy),
              detail::py_float(s.accuracy_ci.low), detail::py_float(s.accuracy_ci.high), detail::py_float(s.latency_p50_ms),
              detail::py_float(s.latency_p90_ms), detail::py_float(s.latency_p99_ms), detail::py_float(s.latency_max_ms),
              std::to_string(s.calls.tokens_in), std::to_string(s.calls.tokens_out),
              s.cost_usd ? detail::py_float(*s.cost_usd) : std::string(), std::to_string(s.calls.calls),
              std::to_string(s.calls.cache_hits), std::to_string(s.calls.retries), std::to_string(s.failed),
              detail::py_float(s.wall_s),
              detail::py_float(s.throughput)});
  return out;
}

DSPY_DECL std::string rows_csv(const BenchmarkReport& report) {
  std::string out;
  detail::csv::append_record(out, {"label", "repeat", "index", "score", "error", "error_message", "latency_s", "prompt_tokens",
                                   "completion_tokens", "example", "prediction"});
  for (const auto& m : report.models)
    for (std::size_t r = 0; r < m.repeats.size(); ++r)
      for (const auto& row : m.repeats[r].rows)
        detail::csv::append_record(
            out, {m.label, std::to_string(r), std::to_string(row.index), detail::py_float(row.score),
                  row.error ? std::string(to_string(row.error->code)) : std::string(), row.error ? row.error->message : "",
                  detail::py_float(row.latency_s), std::to_string(row.usage.prompt_tokens),
                  std::to_string(row.usage.completion_tokens), detail::py_json(row.example),
                  row.prediction ? detail::py_json(*row.prediction) : std::string()});
  return out;
}

// ---- charts ----------------------------------------------------------------------------------------

DSPY_DECL std::string latency_svg(const BenchmarkReport& report) {
  const auto summaries = report.summaries();
  std::vector<std::vector<double>> ms(report.models.size());
  double lo = 0, hi = 0;
  bool any = false;
  for (std::size_t m = 0; m < report.models.size(); ++m)
    for (const auto& rep : report.models[m].repeats)
      for (const auto& row : rep.rows)
        if (row.latency_s > 0) {
          const double v = row.latency_s * 1000;
          ms[m].push_back(v);
          lo = any ? std::min(lo, v) : v;
          hi = any ? std::max(hi, v) : v;
          any = true;
        }
  const double step = detail::nice_step(hi - lo, 6);
  lo = std::floor(lo / step) * step;
  hi = std::max(lo + step, std::ceil(hi / step) * step);
  const int width = 860, left = 160, right = 24, top = 40, panel = 96, gap = 14, bins = 40;
  const int plot_w = width - left - right;
  const int height = top + static_cast<int>(report.models.size()) * (panel + gap) + 36;
  const auto x_of = [&](double v) { return left + (v - lo) / (hi - lo) * plot_w; };
  std::string s = detail::svg_open(width, height, "Latency per example (ms)");
  s += detail::svg_text(left, 22, "Latency per example (ms), one histogram per model; dashed: p50, p90, p99",
                        "font-size=\"14\" font-weight=\"600\"");
  for (std::size_t m = 0; m < report.models.size(); ++m) {
    const int y0 = top + static_cast<int>(m) * (panel + gap);
    std::vector<int> counts(bins, 0);
    for (const double v : ms[m]) ++counts[std::min(bins - 1, static_cast<int>((v - lo) / (hi - lo) * bins))];
    const int most = std::max(1, *std::max_element(counts.begin(), counts.end()));
    s += detail::svg_text(left - 10, y0 + panel / 2.0, summaries[m].label, "text-anchor=\"end\" font-weight=\"600\"");
    s += detail::svg_text(left - 10, y0 + panel / 2.0 + 15, std::to_string(ms[m].size()) + " runs",
                          "text-anchor=\"end\" fill=\"#666\"");
    s += detail::svg_line(left, y0 + panel, left + plot_w, y0 + panel, "stroke=\"#999\"");
    for (int b = 0; b < bins; ++b) {
      if (!counts[b]) continue;
      const double h = static_cast<double>(counts[b]) * (panel - 8) / most;
      const double bx = left + static_cast<double>(b) * plot_w / bins;
      s += "<rect x=\"" + detail::num(bx + 0.5) + "\" y=\"" + detail::num(y0 + panel - h) + "\" width=\"" +
           detail::num(static_cast<double>(plot_w) / bins - 1) + "\" height=\"" + detail::num(h) + "\" fill=\"" +
           std::string(detail::model_colour(m)) + "\"><title>" +
           detail::escape_markup(detail::num(lo + b * (hi - lo) / bins) + "-" + detail::num(lo + (b + 1) * (hi - lo) / bins) +
                                 " ms: " + std::to_string(counts[b])) +
           "</title></rect>\n";
    }
    const std::pair<const char*, double> marks[] = {
        {"p50", summaries[m].latency_p50_ms}, {"p90", summaries[m].latency_p90_ms}, {"p99", summaries[m].latency_p99_ms}};
    for (std::size_t k = 0; k < std::size(marks) && !ms[m].empty(); ++k) {
      const double x = x_of(marks[k].second);
      s += detail::svg_line(x, y0, x, y0 + panel, "stroke=\"#333\" stroke-dasharray=\"3 3\"");
      // Stepped down, so that close percentiles do not print over each other.
      s += detail::svg_text(x + 3, y0 + 10 + 12 * static_cast<double>(k),
                            std::string(marks[k].first) + " " + detail::num(marks[k].second), "fill=\"#333\" font-size=\"11\"");
    }
  }
  const int axis_y = top + static_cast<int>(report.models.size()) * (panel + gap) - gap;
  for (double t = lo; t <= hi + step / 2; t += step) {
    s += detail::svg_line(x_of(t), axis_y, x_of(t), axis_y + 5, "stroke=\"#999\"");
    s += detail::svg_text(x_of(t), axis_y + 18, detail::num(t, step < 1 ? 1 : 0), "text-anchor=\"middle\" fill=\"#444\"");
  }
  s += detail::svg_text(left + plot_w, axis_y + 32, "ms", "text-anchor=\"end\" fill=\"#444\"");
  return s + "</svg>\n";
}

DSPY_DECL std::string scores_svg(const BenchmarkReport& report) {
  std::set<std::size_t> all;
  for (const auto& m : report.models)
    for (const auto& rep : m.repeats)
      for (const auto& row : rep.rows) all.insert(row.index);
  const std::vector<std::size_t> order(all.begin(), all.end());
  const int width = 860, left = 160, right = 24, top = 40, strip = 26, gap = 8;
  const int plot_w = width - left - right;
  const int height = top + static_cast<int>(report.models.size()) * (strip + gap) + 40;
  const double cell = order.empty() ? 0 : static_cast<double>(plot_w) / static_cast<double>(order.size());
  std::string s = detail::svg_open(width, height, "Score per example");
  s += detail::svg_text(left, 22, "Score per example (green: 1, grey: 0, red: failed), examples in dataset order",
                        "font-size=\"14\" font-weight=\"600\"");
  for (std::size_t m = 0; m < report.models.size(); ++m) {
    const ModelRun& run = report.models[m];
    const double y = top + static_cast<double>(m) * (strip + gap);
    s += detail::svg_text(left - 10, y + strip / 2.0 + 4, run.label, "text-anchor=\"end\" font-weight=\"600\"");
    const auto scores = detail::example_scores(run);
    std::set<std::size_t> failed;
    for (const auto& rep : run.repeats)
      for (const auto& row : rep.rows)
        if (row.error) failed.insert(row.index);
    for (std::size_t k = 0; k < order.size(); ++k) {
      const auto it = scores.find(order[k]);
      if (it == scores.end()) continue;
      const bool error = failed.contains(order[k]);
      s += "<rect x=\"" + detail::num(left + static_cast<double>(k) * cell, 2) + "\" y=\"" + detail::num(y) +
           "\" width=\"" + detail::num(std::max(cell - (cell > 4 ? 1 : 0), 0.5), 2) + "\" height=\"" +
           std::to_string(strip) + "\" fill=\"" + detail::score_colour(it->second, error) + "\"><title>#" +
           std::to_string(order[k]) + ": " + detail::fixed(it->second, 2) + (error ? " (failed)" : "") + "</title></rect>\n";
    }
  }
  const int axis_y = top + static_cast<int>(report.models.size()) * (strip + gap) + 4;
  if (!order.empty()) {
    s += detail::svg_text(left, axis_y + 12, "#" + std::to_string(order.front()), "fill=\"#444\"");
    s += detail::svg_text(left + plot_w, axis_y + 12, "#" + std::to_string(order.back()), "text-anchor=\"end\" fill=\"#444\"");
    s += detail::svg_text(left + plot_w / 2.0, axis_y + 12, std::to_string(order.size()) + " examples",
                          "text-anchor=\"middle\" fill=\"#444\"");
  }
  return s + "</svg>\n";
}

DSPY_DECL std::string accuracy_cost_svg(const BenchmarkReport& report) {
  const auto summaries = report.summaries();
  const bool priced = !summaries.empty() && std::all_of(summaries.begin(), summaries.end(),
                                                        [](const ModelSummary& s) { return s.cost_usd.has_value(); });
  std::vector<double> xs;
  for (const auto& s : summaries) {
    const double runs = std::max(1.0, static_cast<double>(s.examples * std::max<std::size_t>(s.repeats, 1)));
    xs.push_back(priced ? *s.cost_usd / runs * 1000 : static_cast<double>(s.calls.tokens_in + s.calls.tokens_out) / runs);
  }
  const std::string x_name = priced ? "cost per 1,000 examples (USD)" : "tokens per example (no price for every model)";
  double x_hi = xs.empty() ? 1 : *std::max_element(xs.begin(), xs.end());
  double y_lo = 100, y_hi = 0;
  for (const auto& s : summaries) {
    y_lo = std::min({y_lo, s.accuracy_ci.low, s.accuracy});
    y_hi = std::max({y_hi, s.accuracy_ci.high, s.accuracy});
  }
  if (summaries.empty()) y_lo = 0, y_hi = 100;
  const double x_step = detail::nice_step(x_hi > 0 ? x_hi : 1, 5);
  x_hi = std::max(x_step, std::ceil(x_hi * 1.15 / x_step) * x_step);
  const double y_step = detail::nice_step(std::max(y_hi - y_lo, 10.0), 5);
  y_lo = std::max(0.0, std::floor((y_lo - y_step / 2) / y_step) * y_step);
  y_hi = std::min(100.0, std::ceil((y_hi + y_step / 2) / y_step) * y_step);
  if (y_hi <= y_lo) y_hi = y_lo + y_step;
  const int width = 860, height = 380, left = 70, right = 40, top = 40, bottom = 50;
  const int plot_w = width - left - right, plot_h = height - top - bottom;
  const auto x_of = [&](double v) { return left + v / x_hi * plot_w; };
  const auto y_of = [&](double v) { return top + (y_hi - v) / (y_hi - y_lo) * plot_h; };
  std::string s = detail::svg_open(width, height, "Accuracy against cost");
  s += detail::svg_text(left, 22, "Accuracy (95% CI) against " + x_name, "font-size=\"14\" font-weight=\"600\"");
  for (double t = y_lo; t <= y_hi + y_step / 2; t += y_step) {
    s += detail::svg_line(left, y_of(t), left + plot_w, y_of(t), "stroke=\"#eee\"");
    s += detail::svg_text(left - 8, y_of(t) + 4, detail::num(t, 0) + "%", "text-anchor=\"end\" fill=\"#444\"");
  }
  for (double t = 0; t <= x_hi + x_step / 2; t += x_step) {
    s += detail::svg_line(x_of(t), top + plot_h, x_of(t), top + plot_h + 5, "stroke=\"#999\"");
    s += detail::svg_text(x_of(t), top + plot_h + 18, detail::fixed(t, x_step < 0.01 ? 4 : x_step < 1 ? 2 : 0),
                          "text-anchor=\"middle\" fill=\"#444\"");
  }
  s += detail::svg_line(left, top + plot_h, left + plot_w, top + plot_h, "stroke=\"#999\"");
  s += detail::svg_line(left, top, left, top + plot_h, "stroke=\"#999\"");
  s += detail::svg_text(left + plot_w / 2.0, height - 10, x_name, "text-anchor=\"middle\" fill=\"#444\"");
  for (std::size_t m = 0; m < summaries.size(); ++m) {
    const auto& sm = summaries[m];
    const double x = x_of(xs[m]);
    const std::string colour(detail::model_colour(m));
    s += detail::svg_line(x, y_of(sm.accuracy_ci.low), x, y_of(sm.accuracy_ci.high), "stroke=\"" + colour + "\" stroke-width=\"2\"");
    s += detail::svg_line(x - 6, y_of(sm.accuracy_ci.low), x + 6, y_of(sm.accuracy_ci.low), "stroke=\"" + colour + "\" stroke-width=\"2\"");
    s += detail::svg_line(x - 6, y_of(sm.accuracy_ci.high), x + 6, y_of(sm.accuracy_ci.high), "stroke=\"" + colour + "\" stroke-width=\"2\"");
    s += "<circle cx=\"" + detail::num(x) + "\" cy=\"" + detail::num(y_of(sm.accuracy)) + "\" r=\"6\" fill=\"" + colour +
         "\" stroke=\"#fff\" stroke-width=\"1.5\"><title>" +
         detail::escape_markup(sm.label + ": " + detail::fixed(sm.accuracy, 2) + "% (" + detail::fixed(sm.accuracy_ci.low, 1) +
                               "-" + detail::fixed(sm.accuracy_ci.high, 1) + "), " + detail::fixed(xs[m], priced ? 4 : 0)) +
         "</title></circle>\n";
    s += detail::svg_text(x + 10, y_of(sm.accuracy) + 4, sm.label + " " + detail::fixed(sm.accuracy, 1) + "%",
                          "font-weight=\"600\" fill=\"#222\"");
  }
  return s + "</svg>\n";
}

// ---- HTML ------------------------------------------------------------------------------------------

namespace detail {

inline constexpr std::string_view report_css = R"(
:root{--fg:#1d2330;--muted:#5b6475;--line:#e3e6ec;--bg:#f6f7f9;--good:#1f8a3b;--bad:#c62828}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header{background:#1d2330;color:#fff;padding:22px 32px}
header h1{margin:0 0 4px;font-size:22px;font-weight:650}
header p{margin:0;color:#c5cbd6}
main{max-width:1160px;margin:0 auto;padding:20px 32px 40px}
section{background:#fff;border:1px solid var(--line);border-radius:10px;padding:18px 22px;margin:18px 0}
h2{font-size:17px;margin:0 0 12px}
.cards{display:flex;flex-wrap:wrap;gap:14px;background:none;border:0;padding:0}
.card{flex:1 1 220px;background:#fff;border:1px solid var(--line);border-top:5px solid var(--c);border-radius:10px;padding:14px 18px}
.card .label{font-weight:650}.card .model{color:var(--muted);font-size:12px}
.card .big{font-size:30px;font-weight:700;margin:6px 0 0}
.card .ci{color:var(--muted);font-size:12px}
.card dl{display:grid;grid-template-columns:auto 1fr;gap:2px 12px;margin:10px 0 0;font-size:13px}
.card dt{color:var(--muted)}.card dd{margin:0;text-align:right;font-variant-numeric:tabular-nums}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{padding:6px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{font-weight:600;color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.03em}
td.num,th.num{text-align:right}
td.num{white-space:nowrap}
.summary{font-size:13px}.summary th,.summary td{padding:6px 7px}
.scroll{overflow-x:auto}
.verdict{font-size:16px;font-weight:600;padding:10px 14px;border-radius:8px;background:#eef5ff;margin-bottom:12px}
.verdict.sig{background:#e8f6ec}.verdict.reg{background:#fdecea}
figure{margin:0 0 18px}figure svg{max-width:100%;height:auto;display:block}
figcaption{color:var(--muted);font-size:12px;margin-top:4px}
.rows{font-size:13px}.rows td.ex{max-width:520px;overflow-wrap:anywhere}
.rows .k{color:var(--muted)}
.s{display:inline-block;min-width:44px;text-align:center;border-radius:4px;padding:1px 6px;font-weight:600}
.pass{background:#d8f0de;color:#145c28}.fail{background:#eceef2;color:#505868}.err{background:#fbdcd9;color:#9b1c1c}
details summary{cursor:pointer;color:#2b5cb8;margin:6px 0}
.muted{color:var(--muted)}
footer{color:var(--muted);font-size:12px;text-align:center;padding:10px}
)";

inline std::string html_head(std::string_view title) {
  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n<title>" +
         escape_markup(title) + "</title>\n<style>" + std::string(report_css) + "</style>\n</head>\n<body>\n";
}

inline std::string short_text(const boost::json::value& v, std::size_t width) { return table_cell(value_text(v), width); }

inline std::string flips_html(const std::vector<FlippedExample>& flips, std::string_view title) {
  std::string s = "<details><summary>" + escape_markup(title) + ": " + std::to_string(flips.size()) + "</summary>\n";
  if (flips.empty()) return s + "<p class=\"muted\">none</p></details>\n";
  s += "<table class=\"rows\"><tr><th>#</th><th>example</th><th class=\"num\">baseline</th><th class=\"num\">candidate</th></tr>\n";
  for (const auto& f : flips) {
    std::string ex;
    for (const auto& kv : f.example)
      ex += "<span class=\"k\">" + escape_markup(kv.key()) + ":</span> " + escape_markup(short_text(kv.value(), 90)) + "<br/>";
    s += "<tr><td>" + std::to_string(f.index) + "</td><td class=\"ex\">" + ex + "</td><td class=\"num\">" +
         fixed(f.baseline_score, 2) + "</td><td class=\"num\">" + fixed(f.candidate_score, 2) + "</td></tr>\n";
  }
  return s + "</table></details>\n";
}

inline std::string comparison_html(const Comparison& c) {
  const std::string cls = c.regression() ? "verdict reg" : c.significant() ? "verdict sig" : "verdict";
  std::string s = "<div class=\"" + cls + "\">" + escape_markup(c.verdict()) + "</div>\n<table>\n";
  const auto row = [&](std::string_view k, const std::string& v) {
    s += "<tr><th>" + escape_markup(k) + "</th><td>" + escape_markup(v) + "</td></tr>\n";
  };
  row("baseline / candidate", c.baseline + " / " + c.candidate);
  row("paired examples", std::to_string(c.paired) + (c.unpaired ? " (" + std::to_string(c.unpaired) + " unpaired, left out)" : ""));
  row("accuracy", fixed(c.baseline_accuracy, 2) + "% \u2192 " + fixed(c.candidate_accuracy, 2) + "%");
  row("change (95% paired bootstrap CI)",
      signed_fixed(c.delta, 2) + " points (" + signed_fixed(c.delta_ci.low, 2) + " to " + signed_fixed(c.delta_ci.high, 2) + ")");
  row(c.test, p_value_text(c.p_value) + (c.significant() ? ", significant" : ", not significant") + " at \u03b1 = " +
                  fixed(c.alpha, 2));
  row("flips", std::to_string(c.improved.size()) + " improved (fail \u2192 pass), " + std::to_string(c.regressed.size()) +
                   " regressed (pass \u2192 fail)");
  row("latency p50 / p90 / p99", signed_fixed(c.latency_p50_delta_ms, 1) + " / " + signed_fixed(c.latency_p90_delta_ms, 1) +
                                     " / " + signed_fixed(c.latency_p99_delta_ms, 1) + " ms");
  row("tokens in / out", signed_fixed(static_cast<double>(c.tokens_in_delta), 0) + " / " +
                             signed_fixed(static_cast<double>(c.tokens_out_delta), 0));
  row("cost", c.cost_delta_usd ? signed_fixed(*c.cost_delta_usd, 6) + " USD" : std::string("n/a (a model has no price)"));
  s += "</table>\n";
  s += flips_html(c.improved, "Improved examples (fail \u2192 pass)");
  s += flips_html(c.regressed, "Regressed examples (pass \u2192 fail)");
  return s;
}

}  // namespace detail

DSPY_DECL std::vector<Comparison> compare_models(const BenchmarkReport& report, CompareOptions options) {
  std::vector<Comparison> out;
  for (std::size_t m = 1; m < report.models.size(); ++m)
    out.push_back(compare(report.models.front(), report.models[m], options));
  return out;
}

DSPY_DECL std::string to_html(const BenchmarkReport& report, const std::vector<Comparison>& comparisons) {
  using detail::escape_markup;
  const auto summaries = report.summaries();
  std::string s = detail::html_head(report.name + " \u2014 benchmark report");
  std::size_t examples = 0;
  for (const auto& sm : summaries) examples = std::max(examples, sm.examples);
  s += "<header><h1>" + escape_markup(report.name) + "</h1><p>" +
       escape_markup((report.dataset.empty() ? std::string() : report.dataset + " \u00b7 ") + std::to_string(examples) +
                     " examples" + (report.shard.count > 1 ? " (shard " + report.shard.to_string() + " of " + std::to_string(report.dataset_size) + ")" : "") +
                     " \u00b7 " + std::to_string(report.models.size()) + (report.models.size() == 1 ? " model" : " models") +
                     " \u00b7 " + std::to_string(report.repeats) + (report.repeats == 1 ? " run" : " runs") +
                     " each \u00b7 concurrency " + std::to_string(report.concurrency)) +
       "</p></header>\n<main>\n";

  s += "<section class=\"cards\">\n";
  for (std::size_t m = 0; m < summaries.size(); ++m) {
    const auto& sm = summaries[m];
    s += "<div class=\"card\" style=\"--c:" + std::string(detail::model_colour(m)) + "\"><div class=\"label\">" +
         escape_markup(sm.label) + "</div><div class=\"model\">" + escape_markup(sm.model) + "</div><div class=\"big\">" +
         detail::fixed(sm.accuracy, 2) + "%</div><div class=\"ci\">95% CI " + detail::fixed(sm.accuracy_ci.low, 1) + "\u2013" +
         detail::fixed(sm.accuracy_ci.high, 1) + "%</div><dl><dt>latency p50</dt><dd>" + detail::fixed(sm.latency_p50_ms, 1) +
         " ms</dd><dt>p99</dt><dd>" + detail::fixed(sm.latency_p99_ms, 1) + " ms</dd><dt>cost</dt><dd>" +
         escape_markup(sm.cost_usd ? detail::cost_text(sm.cost_usd) : "n/a") + "</dd><dt>failed</dt><dd>" +
         std::to_string(sm.failed) + "</dd>";
    if (sm.repeat_accuracy.size() > 1) {
      std::string runs;
      for (const double a : sm.repeat_accuracy) runs += (runs.empty() ? "" : " / ") + detail::fixed(a, 1);
      s += "<dt>runs</dt><dd>" + runs + "%</dd>";
    }
    s += "</dl></div>\n";
  }
  s += "</section>\n";

  s += "<section><h2>Summary</h2>\n<div class=\"scroll\"><table class=\"summary\">\n<tr><th>model</th><th class=\"num\">accuracy</th><th "
       "class=\"num\">95% CI</th><th class=\"num\">p50 / p90 / p99 / max (ms)</th><th class=\"num\">tokens in / out</th><th "
       "class=\"num\">cost</th><th class=\"num\">LM calls</th><th class=\"num\">cache hits</th><th class=\"num\">retries</th><th class=\"num\">failed</th><th "
       "class=\"num\">throughput</th><th class=\"num\">wall</th></tr>\n";
  for (const auto& sm : summaries)
    s += "<tr><td><b>" + escape_markup(sm.label) + "</b><br/><span class=\"muted\">" + escape_markup(sm.model) +
         "</span></td><td class=\"num\">" + detail::fixed(sm.accuracy, 2) + "%</td><td class=\"num\">" +
         detail::fixed(sm.accuracy_ci.low, 1) + "\u2013" + detail::fixed(sm.accuracy_ci.high, 1) + "</td><td class=\"num\">" +
         detail::fixed(sm.latency_p50_ms, 1) + " / " + detail::fixed(sm.latency_p90_ms, 1) + " / " +
         detail::fixed(sm.latency_p99_ms, 1) + " / " + detail::fixed(sm.latency_max_ms, 1) + "</td><td class=\"num\">" +
         std::to_string(sm.calls.tokens_in) + " / " + std::to_string(sm.calls.tokens_out) + "</td><td class=\"num\">" +
         escape_markup(sm.cost_usd ? detail::cost_text(sm.cost_usd) : "n/a") + "</td><td class=\"num\">" +
         std::to_string(sm.calls.calls) + "</td><td class=\"num\">" + std::to_string(sm.calls.cache_hits) +
         "</td><td class=\"num\">" + std::to_string(sm.calls.retries) + "</td><td class=\"num\">" + std::to_string(sm.failed) + "</td><td class=\"num\">" + detail::fixed(sm.throughput, 1) +
         "/s</td><td class=\"num\">" + detail::fixed(sm.wall_s, 2) + " s</td></tr>\n";
  s += "</table></div>\n";
  bool any_errors = false;
  for (const auto& sm : summaries) any_errors = any_errors || !sm.errors.empty() || !sm.calls.errors.empty();
  if (any_errors) {
    s += "<h2 style=\"margin-top:18px\">Errors by type</h2><table><tr><th>model</th><th>failed examples</th><th>failed LM "
         "calls</th></tr>\n";
    for (const auto& sm : summaries)
      s += "<tr><td>" + escape_markup(sm.label) + "</td><td>" + escape_markup(detail::errors_text(sm.errors)) + "</td><td>" +
           escape_markup(detail::errors_text(sm.calls.errors)) + "</td></tr>\n";
    s += "</table>\n";
  }
  s += "</section>\n";

  for (const auto& c : comparisons)
    s += "<section><h2>" + escape_markup(c.candidate + " against " + c.baseline) + "</h2>\n" + detail::comparison_html(c) +
         "</section>\n";

  s += "<section><h2>Charts</h2>\n<figure>" + accuracy_cost_svg(report) +
       "<figcaption>Each model's accuracy with its 95% bootstrap interval over examples.</figcaption></figure>\n<figure>" +
       latency_svg(report) + "<figcaption>Latency of each example's program call.</figcaption></figure>\n<figure>" +
       scores_svg(report) + "<figcaption>Hover a cell for the example's number and score.</figcaption></figure>\n</section>\n";

  const auto lines = detail::example_lines(report);
  s += "<section><h2>Examples</h2>\n<details" + std::string(lines.size() <= 50 ? " open" : "") + "><summary>" +
       std::to_string(lines.size()) + " examples" + (report.repeats > 1 ? " (first run of each model)" : "") +
       "</summary>\n<table class=\"rows\">\n<tr><th>#</th><th>example</th>";
  for (const auto& sm : summaries) s += "<th>" + escape_markup(sm.label) + "</th>";
  s += "</tr>\n";
  for (const auto& [index, line] : lines) {
    s += "<tr><td>" + std::to_string(index) + "</td><td class=\"ex\">";
    for (const auto& kv : *line.example)
      s += "<span class=\"k\">" + escape_markup(kv.key()) + ":</span> " + escape_markup(detail::short_text(kv.value(), 140)) + "<br/>";
    s += "</td>";
    for (const EvaluationRow* row : line.rows) {
      if (!row) {
        s += "<td class=\"muted\">\u2014</td>";
        continue;
      }
      std::string shown;
      if (row->error) shown = std::string(to_string(row->error->code)) + ": " + detail::table_cell(row->error->message, 120);
      else if (row->prediction)
        for (const auto& kv : *row->prediction)
          if (kv.key() != "reasoning") shown += (shown.empty() ? "" : "; ") + detail::short_text(kv.value(), 60);
      const std::string cls = row->error ? "s err" : row->score >= 0.5 ? "s pass" : "s fail";
      s += "<td><span class=\"" + cls + "\">" + detail::fixed(row->score, 2) + "</span> <span class=\"muted\">" +
           detail::fixed(row->latency_s * 1000, 0) + " ms</span><br/>" + escape_markup(shown) + "</td>";
    }
    s += "</tr>\n";
  }
  s += "</table></details></section>\n</main>\n<footer>dspy-cpp benchmark report \u00b7 " + escape_markup(report.name) +
       "</footer>\n</body>\n</html>\n";
  return s;
}

DSPY_DECL std::string to_html(const Comparison& c) {
  return detail::html_head(c.candidate + " against " + c.baseline) + "<header><h1>" +
         detail::escape_markup(c.candidate + " against " + c.baseline) + "</h1><p>" + std::to_string(c.paired) +
         " paired examples</p></header>\n<main>\n<section>\n" + detail::comparison_html(c) +
         "</section>\n</main>\n</body>\n</html>\n";
}

DSPY_DECL Result<std::vector<std::filesystem::path>> save_report(const BenchmarkReport& report, const std::filesystem::path& dir,
                                                                 std::string_view stem) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Error(Errc::config, "cannot create " + dir.string() + ": " + ec.message());
  const std::string base = std::string(stem);
  const std::vector<std::pair<std::string, std::string>> files{
      {base + ".html", to_html(report, compare_models(report))},
      {base + ".csv", summary_csv(report)},
      {base + "-rows.csv", rows_csv(report)},
      {base + "-latency.svg", latency_svg(report)},
      {base + "-scores.svg", scores_svg(report)},
      {base + "-accuracy-cost.svg", accuracy_cost_svg(report)},
  };
  std::vector<std::filesystem::path> written;
  if (auto saved = report.save_json(dir / (base + ".json")); !saved) return saved.error();
  written.push_back(dir / (base + ".json"));
  for (const auto& [name, text] : files) {
    if (auto saved = detail::write_file_atomic(dir / name, text); !saved) return saved.error();
    written.push_back(dir / name);
  }
  return written;
}

}  // namespace dspy
