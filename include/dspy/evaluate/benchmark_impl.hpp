// The bodies of benchmark.hpp's non-template code: prices, shards, statistics, the report's
// JSON and the merge of shard reports.
#pragma once

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "../detail/io/csv.hpp"
#include "../detail/io/file.hpp"
#include "../detail/random.hpp"
#include "../detail/text/pytext.hpp"
#include "benchmark.hpp"

namespace dspy {

// ---- prices and shards ----------------------------------------------------------------------------

DSPY_DECL std::optional<Price> PriceTable::find(std::string_view model) const {
  std::optional<Price> best;
  std::size_t best_length = 0;
  for (const auto& [prefix, price] : prices_)
    if (model.starts_with(prefix) && (!best || prefix.size() > best_length)) {
      best = price;
      best_length = prefix.size();
    }
  return best;
}

namespace detail {
inline bool valid_price(double v) { return std::isfinite(v) && v >= 0; }
}  // namespace detail

DSPY_DECL Result<PriceTable> PriceTable::from_json(const boost::json::value& v, std::string_view source) {
  const auto* top = v.if_object();
  if (!top) return Error(Errc::parse_error, std::string(source) + ": expected an object of model: {input, output}");
  std::map<std::string, Price, std::less<>> prices;
  for (const auto& kv : *top) {
    const std::string where = std::string(source) + ": `" + std::string(kv.key()) + "`";
    const auto* o = kv.value().if_object();
    const auto* in = o ? o->if_contains("input") : nullptr;
    const auto* out = o ? o->if_contains("output") : nullptr;
    if (!in || !out || !in->is_number() || !out->is_number() || !detail::valid_price(in->to_number<double>()) ||
        !detail::valid_price(out->to_number<double>()))
      return Error(Errc::parse_error, where + ": expected {\"input\": USD per 1M tokens, \"output\": USD per 1M tokens}, numbers >= 0");
    prices[std::string(kv.key())] = {in->to_number<double>(), out->to_number<double>()};
  }
  return PriceTable(std::move(prices));
}

DSPY_DECL Result<PriceTable> PriceTable::from_csv(std::string_view text, std::string_view source) {
  auto records = detail::csv::parse(text, source);
  if (!records) return records.error();
  if (records->empty()) return Error(Errc::parse_error, std::string(source) + ": no header row");
  const auto& header = records->front().cells;
  if (header.size() != 3 || header[0].text != "model" || header[1].text != "input" || header[2].text != "output")
    return Error(Errc::parse_error, std::string(source) + ": the header must be `model,input,output`");
  std::map<std::string, Price, std::less<>> prices;
  for (std::size_t n = 1; n < records->size(); ++n) {
    const auto& rec = (*records)[n];
    const std::string where = std::string(source) + ":" + std::to_string(rec.line);
    double in = 0, out = 0;
    if (rec.cells.size() != 3 || !detail::parse_whole_number(std::string_view(rec.cells[1].text), in) ||
        !detail::parse_whole_number(std::string_view(rec.cells[2].text), out) || !detail::valid_price(in) ||
        !detail::valid_price(out))
      return Error(Errc::parse_error, where + ": expected a model and two prices >= 0 (USD per 1M tokens)");
    prices[rec.cells[0].text] = {in, out};
  }
  return PriceTable(std::move(prices));
}

DSPY_DECL Result<PriceTable> PriceTable::load(const std::filesystem::path& path) {
  auto text = detail::read_text_file(path);
  if (!text) return text.error();
  if (path.extension() == ".csv") return from_csv(*text, path.string());
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(*text, ec);
  if (ec) return Error(Errc::parse_error, path.string() + ": invalid JSON: " + ec.message());
  return from_json(v, path.string());
}

DSPY_DECL Result<Shard> Shard::parse(std::string_view text) {
  const auto slash = text.find('/');
  std::size_t index = 0, count = 0;
  const auto number = [](std::string_view s, std::size_t& out) {
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc{} && end == s.data() + s.size() && !s.empty();
  };
  if (slash == std::string_view::npos || !number(text.substr(0, slash), index) || !number(text.substr(slash + 1), count) ||
      count == 0 || index >= count)
    return Error(Errc::config, "shard `" + std::string(text) + "`: expected I/N with 0 <= I < N, e.g. 0/4");
  return Shard{index, count};
}

// ---- statistics ------------------------------------------------------------------------------------

namespace detail {

DSPY_DECL double nearest_rank(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

DSPY_DECL Interval bootstrap_mean(const std::vector<double>& values, std::size_t samples, std::uint64_t seed) {
  if (values.empty() || samples == 0) return {};
  std::mt19937_64 rng(seed);
  std::vector<double> means(samples);
  for (auto& mean : means) {
    double sum = 0;
    for (std::size_t i = 0; i < values.size(); ++i) sum += values[uniform_below(rng, values.size())];
    mean = sum / static_cast<double>(values.size());
  }
  std::sort(means.begin(), means.end());
  return {nearest_rank(means, 2.5), nearest_rank(means, 97.5)};
}

DSPY_DECL std::map<std::size_t, double> example_scores(const ModelRun& run) {
  std::map<std::size_t, std::pair<double, std::size_t>> sums;
  for (const auto& rep : run.repeats)
    for (const auto& row : rep.rows) {
      auto& [sum, n] = sums[row.index];
      sum += row.score;
      ++n;
    }
  std::map<std::size_t, double> out;
  for (const auto& [index, s] : sums) out[index] = s.first / static_cast<double>(s.second);
  return out;
}

}  // namespace detail

DSPY_DECL ModelSummary summarize(const ModelRun& run, std::size_t bootstrap_samples, std::uint64_t seed) {
  ModelSummary s{.label = run.label, .model = run.model, .repeats = run.repeats.size(), .calls = run.calls, .wall_s = run.wall_s};
  std::vector<double> ms;
  double total = 0;
  std::size_t rows = 0;
  for (const auto& rep : run.repeats) {
    double rep_total = 0;
    for (const auto& row : rep.rows) {
      if (row.latency_s > 0) ms.push_back(row.latency_s * 1000);
      if (row.error) {
        ++s.errors[std::string(to_string(row.error->code))];
        ++s.failed;
      }
      rep_total += row.score;
    }
    total += rep_total;
    rows += rep.rows.size();
    s.repeat_accuracy.push_back(rep.rows.empty() ? 0 : 100 * rep_total / static_cast<double>(rep.rows.size()));
  }
  s.accuracy = rows ? 100 * total / static_cast<double>(rows) : 0;
  std::vector<double> per_example;
  for (const auto& [index, score] : detail::example_scores(run)) per_example.push_back(100 * score);
  s.examples = per_example.size();
  s.accuracy_ci = detail::bootstrap_mean(per_example, bootstrap_samples, seed);
  std::sort(ms.begin(), ms.end());
  s.latency_p50_ms = detail::nearest_rank(ms, 50);
  s.latency_p90_ms = detail::nearest_rank(ms, 90);
  s.latency_p99_ms = detail::nearest_rank(ms, 99);
  s.latency_max_ms = ms.empty() ? 0 : ms.back();
  for (const double v : ms) s.latency_mean_ms += v / static_cast<double>(ms.size());
  if (run.price)
    s.cost_usd = (static_cast<double>(run.calls.tokens_in) * run.price->input +
                  static_cast<double>(run.calls.tokens_out) * run.price->output) / 1e6;
  s.throughput = run.wall_s > 0 ? static_cast<double>(rows) / run.wall_s : 0;
  return s;
}

DSPY_DECL std::vector<ModelSummary> BenchmarkReport::summaries() const {
  std::vector<ModelSummary> out;
  for (const auto& m : models) out.push_back(summary(m));
  return out;
}

DSPY_DECL const ModelRun* BenchmarkReport::find(std::string_view label) const {
  for (const auto& m : models)
    if (m.label == label) return &m;
  return nullptr;
}

// ---- JSON --------------------------------------------------------------------------------------------

namespace detail {

inline constexpr std::string_view benchmark_format = "dspy-benchmark/1";

inline boost::json::object counts_json(const std::map<std::string, std::size_t>& counts) {
  boost::json::object o;
  for (const auto& [k, n] : counts) o[k] = n;
  return o;
}

inline boost::json::object calls_json(const CallCounts& c) {
  return {{"calls", c.calls},
          {"cache_hits", c.cache_hits},
          {"tokens_in", c.tokens_in},
          {"tokens_out", c.tokens_out},
          {"errors", counts_json(c.errors)},
          {"retries", c.retries}};
}

inline boost::json::object summary_json(const ModelSummary& s) {
  boost::json::array repeats;
  for (const double a : s.repeat_accuracy) repeats.push_back(a);
  return {{"examples", s.examples},
          {"repeats", s.repeats},
          {"accuracy", s.accuracy},
          {"accuracy_ci95", {s.accuracy_ci.low, s.accuracy_ci.high}},
          {"repeat_accuracy", std::move(repeats)},
          {"latency_ms",
           {{"p50", s.latency_p50_ms}, {"p90", s.latency_p90_ms}, {"p99", s.latency_p99_ms}, {"max", s.latency_max_ms},
            {"mean", s.latency_mean_ms}}},
          {"cost_usd", s.cost_usd ? boost::json::value(*s.cost_usd) : boost::json::value(nullptr)},
          {"failed", s.failed},
          {"errors", counts_json(s.errors)},
          {"throughput_per_s", s.throughput}};
}

// What a report file may say, read strictly: every problem names where it is.
struct ReportReader {
  std::string source;

  Error bad(const std::string& where, const std::string& what) const {
    return Error(Errc::parse_error, source + ": " + where + ": " + what);
  }
  static const boost::json::value* field(const boost::json::object& o, std::string_view key) { return o.if_contains(key); }
  std::optional<std::string> string(const boost::json::object& o, std::string_view key) const {
    const auto* v = field(o, key);
    if (!v || !v->is_string()) return std::nullopt;
    return std::string(v->get_string());
  }
  static std::optional<std::uint64_t> count(const boost::json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    if (v && v->is_uint64()) return v->get_uint64();
    if (v && v->is_int64() && v->get_int64() >= 0) return static_cast<std::uint64_t>(v->get_int64());
    return std::nullopt;
  }
  static std::optional<double> number(const boost::json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    if (!v || !v->is_number()) return std::nullopt;
    return v->to_number<double>();
  }
  Result<std::map<std::string, std::size_t>> counts(const boost::json::object& o, std::string_view key,
                                                    const std::string& where) const {
    std::map<std::string, std::size_t> out;
    const auto* v = o.if_contains(key);
    if (!v) return out;
    if (!v->is_object()) return bad(where + "." + std::string(key), "expected an object of counts");
    for (const auto& kv : v->get_object()) {
      const auto n = count(v->get_object(), kv.key());
      if (!n) return bad(where + "." + std::string(key) + "." + std::string(kv.key()), "expected a count >= 0");
      out[std::string(kv.key())] = *n;
    }
    return out;
  }
};

}  // namespace detail

DSPY_DECL boost::json::object BenchmarkReport::to_json() const {
  boost::json::array models_json;
  for (const auto& m : models) {
    boost::json::array repeats_json;
    for (const auto& rep : m.repeats) repeats_json.push_back(rep.to_json());
    models_json.push_back(
        {{"label", m.label},
         {"model", m.model},
         {"price", m.price ? boost::json::value({{"input", m.price->input}, {"output", m.price->output}})
                           : boost::json::value(nullptr)},
         {"wall_s", m.wall_s},
         {"calls", detail::calls_json(m.calls)},
         {"summary", detail::summary_json(summary(m))},
         {"repeats", std::move(repeats_json)}});
  }
  return {{"format", detail::benchmark_format},
          {"name", name},
          {"dataset", dataset},
          {"dataset_size", dataset_size},
          {"shard", {{"index", shard.index}, {"count", shard.count}}},
          {"repeats", repeats},
          {"concurrency", concurrency},
          {"bootstrap", {{"samples", bootstrap_samples}, {"seed", seed}}},
          {"models", std::move(models_json)}};
}

DSPY_DECL Result<BenchmarkReport> BenchmarkReport::from_json(const boost::json::value& v, std::string_view source) {
  const detail::ReportReader read{std::string(source)};
  const auto* top = v.if_object();
  if (!top) return read.bad("top level", "expected a JSON object");
  if (read.string(*top, "format") != std::string(detail::benchmark_format))
    return read.bad("format", "expected \"" + std::string(detail::benchmark_format) + "\" (a dspy::benchmark report)");
  BenchmarkReport r;
  const auto name = read.string(*top, "name");
  const auto dataset = read.string(*top, "dataset");
  const auto size = read.count(*top, "dataset_size");
  const auto repeats = read.count(*top, "repeats");
  const auto concurrency = read.count(*top, "concurrency");
  const auto* shard = top->if_contains("shard");
  const auto* bootstrap = top->if_contains("bootstrap");
  const auto* models = top->if_contains("models");
  if (!name || !dataset || !size || !repeats || !concurrency || !shard || !shard->is_object() || !bootstrap ||
      !bootstrap->is_object() || !models || !models->is_array())
    return read.bad("top level", "expected name, dataset, dataset_size, shard, repeats, concurrency, bootstrap and models");
  const auto shard_index = read.count(shard->get_object(), "index");
  const auto shard_count = read.count(shard->get_object(), "count");
  if (!shard_index || !shard_count || *shard_count == 0 || *shard_index >= *shard_count)
    return read.bad("shard", "expected {index, count} with index < count");
  const auto samples = read.count(bootstrap->get_object(), "samples");
  const auto seed = read.count(bootstrap->get_object(), "seed");
  // Bounded: a report's reader recomputes the intervals, samples x examples draws.
  constexpr std::uint64_t max_samples = 1'000'000;
  if (!samples || !seed || *samples > max_samples)
    return read.bad("bootstrap", "expected counts samples (at most 1000000) and seed");
  r.name = *name;
  r.dataset = *dataset;
  r.dataset_size = *size;
  r.shard = {*shard_index, *shard_count};
  r.repeats = *repeats;
  r.concurrency = *concurrency;
  r.bootstrap_samples = *samples;
  r.seed = *seed;
  for (std::size_t i = 0; i < models->get_array().size(); ++i) {
    const std::string where = "models[" + std::to_string(i) + "]";
    const auto* m = models->get_array()[i].if_object();
    if (!m) return read.bad(where, "expected an object");
    ModelRun run;
    const auto label = read.string(*m, "label");
    const auto model = read.string(*m, "model");
    const auto wall = read.number(*m, "wall_s");
    const auto* calls = m->if_contains("calls");
    const auto* reps = m->if_contains("repeats");
    if (!label || !model || !wall || !calls || !calls->is_object() || !reps || !reps->is_array())
      return read.bad(where, "expected label, model, wall_s, calls and repeats");
    run.label = *label;
    run.model = *model;
    run.wall_s = *wall;
    if (const auto* price = m->if_contains("price"); price && !price->is_null()) {
      const auto* p = price->if_object();
      const auto in = p ? read.number(*p, "input") : std::nullopt;
      const auto out = p ? read.number(*p, "output") : std::nullopt;
      if (!in || !out) return read.bad(where + ".price", "expected null or {input, output}");
      run.price = Price{*in, *out};
    }
    const auto& c = calls->get_object();
    const auto n_calls = read.count(c, "calls");
    const auto hits = read.count(c, "cache_hits");
    const auto tin = read.count(c, "tokens_in");
    const auto tout = read.count(c, "tokens_out");
    auto errors = read.counts(c, "errors", where + ".calls");
    if (!n_calls || !hits || !tin || !tout) return read.bad(where + ".calls", "expected counts calls, cache_hits, tokens_in, tokens_out");
    if (!errors) return errors.error();
    const auto max_tokens = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    if (*tin > max_tokens || *tout > max_tokens) return read.bad(where + ".calls", "token counts out of range");
    run.calls = {*n_calls, *hits, static_cast<std::int64_t>(*tin), static_cast<std::int64_t>(*tout), std::move(*errors)};
    if (c.contains("retries")) {  // absent from reports written before retries were counted
      const auto retries = read.count(c, "retries");
      if (!retries) return read.bad(where + ".calls.retries", "expected a count");
      run.calls.retries = *retries;
    }
    for (std::size_t k = 0; k < reps->get_array().size(); ++k) {
      auto rep = EvaluationResult::from_json(reps->get_array()[k]);
      if (!rep) return read.bad(where + ".repeats[" + std::to_string(k) + "]", rep.error().message());
      run.repeats.push_back(std::move(*rep));
    }
    r.models.push_back(std::move(run));
  }
  return r;
}

DSPY_DECL Result<void> BenchmarkReport::save_json(const std::filesystem::path& path) const {
  return detail::write_file_atomic(path, detail::py_json(to_json(), false, 1) + "\n");
}

DSPY_DECL Result<BenchmarkReport> BenchmarkReport::load_json(const std::filesystem::path& path) {
  auto text = detail::read_text_file(path);
  if (!text) return text.error();
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(*text, ec);
  if (ec) return Error(Errc::parse_error, path.string() + ": invalid JSON: " + ec.message());
  return from_json(v, path.string());
}

// ---- merging shards ------------------------------------------------------------------------------

DSPY_DECL Result<BenchmarkReport> merge(std::vector<BenchmarkReport> shards) {
  if (shards.empty()) return Error(Errc::config, "merge: no shard reports");
  std::sort(shards.begin(), shards.end(), [](const auto& a, const auto& b) { return a.shard.index < b.shard.index; });
  const BenchmarkReport& first = shards.front();
  const std::size_t n = first.shard.count;
  const auto mismatch = [](const BenchmarkReport& s, const std::string& what) {
    return Error(Errc::config, "merge: shard " + s.shard.to_string() + " " + what);
  };
  for (std::size_t i = 0; i < shards.size(); ++i) {
    const auto& s = shards[i];
    if (s.shard.count != n) return mismatch(s, "is of " + std::to_string(s.shard.count) + " shards, not " + std::to_string(n));
    if (i > 0 && s.shard.index == shards[i - 1].shard.index) return mismatch(s, "is given twice");
    if (s.name != first.name || s.dataset != first.dataset || s.dataset_size != first.dataset_size ||
        s.repeats != first.repeats || s.bootstrap_samples != first.bootstrap_samples || s.seed != first.seed ||
        s.concurrency != first.concurrency)
      return mismatch(s, "is of another benchmark (name, dataset, repeats, concurrency or bootstrap differ)");
    if (s.models.size() != first.models.size()) return mismatch(s, "has other models");
    for (std::size_t m = 0; m < s.models.size(); ++m)
      if (s.models[m].label != first.models[m].label || s.models[m].model != first.models[m].model ||
          s.models[m].price != first.models[m].price || s.models[m].repeats.size() != first.models[m].repeats.size())
        return mismatch(s, "has other models (or prices, or repeats) than shard " + first.shard.to_string());
  }
  if (shards.size() != n) {
    std::string missing;
    for (std::size_t i = 0, k = 0; i < n; ++i) {
      if (k < shards.size() && shards[k].shard.index == i) ++k;
      else missing += (missing.empty() ? "" : ", ") + std::to_string(i) + "/" + std::to_string(n);
    }
    return Error(Errc::config, "merge: missing shards " + missing);
  }
  BenchmarkReport out = first;
  out.shard = {};
  for (std::size_t m = 0; m < out.models.size(); ++m) {
    ModelRun& run = out.models[m];
    run.calls = {};
    run.wall_s = 0;
    for (std::size_t r = 0; r < run.repeats.size(); ++r) {
      std::vector<EvaluationRow> rows;
      for (auto& s : shards)
        for (auto& row : s.models[m].repeats[r].rows) rows.push_back(std::move(row));
      std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
      for (std::size_t k = 1; k < rows.size(); ++k)
        if (rows[k].index == rows[k - 1].index)
          return Error(Errc::config, "merge: example " + std::to_string(rows[k].index) + " is in two shards");
      // As evaluate sums them: in dataset order, so the score is the unsharded run's to the bit.
      EvaluationResult merged;
      for (const auto& row : rows) merged.total += row.score;
      merged.score = rows.empty() ? 0 : detail::round_to(100.0 * merged.total / static_cast<double>(rows.size()), 2);
      merged.rows = std::move(rows);
      run.repeats[r] = std::move(merged);
    }
    for (const auto& s : shards) {
      const CallCounts& c = s.models[m].calls;
      run.calls.calls += c.calls;
      run.calls.cache_hits += c.cache_hits;
      run.calls.tokens_in += c.tokens_in;
      run.calls.tokens_out += c.tokens_out;
      for (const auto& [code, k] : c.errors) run.calls.errors[code] += k;
      run.calls.retries += c.retries;
      run.wall_s = std::max(run.wall_s, s.models[m].wall_s);
    }
  }
  return out;
}

}  // namespace dspy
