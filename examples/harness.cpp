// The benchmark harness: runs a program (Predict, ChainOfThought or RAG) over a JSONL dataset
// against an LM and reports accuracy, latency percentiles, tokens, cost, throughput and errors,
// as a terminal table, a JSON report, an SVG chart and the per-example rows (CSV and JSON).
//
//   harness [--task arithmetic|factoid] [--program predict|cot|rag] [--data FILE.jsonl]
//           [--limit N] [--concurrency N] [--out DIR] [--api-base URL] [--latency-ms MS]
//           [--retriever embeddings|keyword]
//
// The LM: with DSPY_LM set (e.g. DSPY_LM=openai/gpt-4o-mini and OPENAI_API_KEY), that model;
// with --api-base, an OpenAI-compatible server there; otherwise the harness starts the shipped
// demo server (`demo_server --simulate`, a real HTTP server on loopback) and stops it at the end.
// RAG retrieves by embeddings (DSPY_EMBEDDER if set, else the demo server's /v1/embeddings) or,
// with --retriever keyword, by keyword overlap.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <dspy/all.hpp>

#include "arithmetic.hpp"
#include "example_lm.hpp"
#include "rag_program.hpp"

namespace {

// ---- tasks and programs ---------------------------------------------------------------------------

struct Factoid {
  static constexpr std::string_view instructions = "Answer the question from the passage with a short factoid answer.";
  struct Input {
    std::string passage;
    std::string question;
  };
  struct Output {
    std::string answer;
  };
  static constexpr auto docs = dspy::docs({{"answer", "often between 1 and 5 words, copied from the passage"}});
};

// The factoid task without its passage: RAG has to find it.
struct OpenFactoid {
  using Input = GenerateQuery::Input;
  struct Output {
    std::string answer;
  };
};


// ---- options --------------------------------------------------------------------------------------

struct Options {
  std::string task = "arithmetic";
  std::string program = "predict";
  std::string data;
  std::size_t limit = 0;
  std::size_t concurrency = 16;
  std::string out = "harness-out";
  std::string api_base;
  int latency_ms = 20;
  std::string retriever = "embeddings";
};

[[noreturn]] void usage(const char* argv0, const std::string& problem) {
  if (!problem.empty()) std::cerr << "harness: " << problem << "\n";
  std::cerr << "usage: " << argv0
            << " [--task arithmetic|factoid] [--program predict|cot|rag] [--data FILE.jsonl]\n"
               "       [--limit N] [--concurrency N] [--out DIR] [--api-base URL] [--latency-ms MS]\n"
               "       [--retriever embeddings|keyword]\n"
               "LM: DSPY_LM (e.g. openai/gpt-4o-mini) if set; else --api-base (OpenAI-compatible); else a\n"
               "demo_server --simulate started by the harness (--latency-ms is its mean latency).\n"
               "RAG's embedder: DSPY_EMBEDDER (e.g. openai/text-embedding-3-small) if set; else the demo\n"
               "server's /v1/embeddings.\n";
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") usage(argv[0], "");
    if (i + 1 >= argc) usage(argv[0], arg + " needs a value");
    const std::string value = argv[++i];
    try {
      if (arg == "--task") o.task = value;
      else if (arg == "--program") o.program = value;
      else if (arg == "--data") o.data = value;
      else if (arg == "--limit") o.limit = std::stoul(value);
      else if (arg == "--concurrency") o.concurrency = std::stoul(value);
      else if (arg == "--out") o.out = value;
      else if (arg == "--api-base") o.api_base = value;
      else if (arg == "--latency-ms") o.latency_ms = std::stoi(value);
      else if (arg == "--retriever") o.retriever = value;
      else usage(argv[0], "unknown option " + arg);
    } catch (const std::exception&) {
      usage(argv[0], arg + " needs a number, got " + value);
    }
  }
  if (o.task != "arithmetic" && o.task != "factoid") usage(argv[0], "unknown task " + o.task);
  if (o.program != "predict" && o.program != "cot" && o.program != "rag") usage(argv[0], "unknown program " + o.program);
  if (o.program == "rag" && o.task != "factoid") usage(argv[0], "rag needs the factoid task (it retrieves passages)");
  if (o.retriever != "embeddings" && o.retriever != "keyword") usage(argv[0], "unknown retriever " + o.retriever);
  if (o.data.empty()) o.data = std::string(DSPY_EXAMPLES_DATA) + "/" + o.task + ".jsonl";
  return o;
}

// ---- report -------------------------------------------------------------------------------------------

// USD per million tokens (input, output): list prices as published by the providers in 2025.
// Matched by the longest prefix of the model id; edit when prices change.
struct Price {
  std::string_view model;
  double input;
  double output;
};
constexpr Price prices[] = {
    {"openai/gpt-4o-mini", 0.15, 0.60},          {"openai/gpt-4o", 2.50, 10.00},
    {"openai/gpt-4.1-nano", 0.10, 0.40},         {"openai/gpt-4.1-mini", 0.40, 1.60},
    {"openai/gpt-4.1", 2.00, 8.00},              {"openai/gpt-5-mini", 0.25, 2.00},
    {"openai/gpt-5", 1.25, 10.00},               {"anthropic/claude-haiku-4-5", 1.00, 5.00},
    {"anthropic/claude-3-5-haiku", 0.80, 4.00},  {"anthropic/claude-sonnet-4", 3.00, 15.00},
    {"anthropic/claude-opus-4", 15.00, 75.00},
};

std::optional<Price> price_of(const std::string& model) {
  std::optional<Price> best;
  for (const auto& p : prices)
    if (model.starts_with(p.model) && (!best || p.model.size() > best->model.size())) best = p;
  return best;
}

struct Report {
  std::string task, program, model, endpoint, data;
  std::size_t examples = 0, concurrency = 0;
  double accuracy = 0;
  double p50 = 0, p90 = 0, p99 = 0, mean = 0;  // ms
  std::int64_t tokens_in = 0, tokens_out = 0;
  std::optional<double> cost{};
  double wall_s = 0, throughput = 0;
  std::map<std::string, std::size_t> errors{};
};

// Nearest-rank percentile of sorted values.
double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string table(const Report& r) {
  std::vector<std::pair<std::string, std::string>> lines{
      {"task / program", r.task + " / " + r.program},
      {"model", r.model + " at " + r.endpoint},
      {"examples", std::to_string(r.examples) + " (concurrency " + std::to_string(r.concurrency) + ")"},
      {"accuracy", fixed(r.accuracy, 2) + "%"},
      {"latency p50 / p90 / p99", fixed(r.p50, 1) + " / " + fixed(r.p90, 1) + " / " + fixed(r.p99, 1) + " ms"},
      {"tokens in / out", std::to_string(r.tokens_in) + " / " + std::to_string(r.tokens_out)},
      {"cost", r.cost ? "$" + fixed(*r.cost, 4) : "n/a (no price for this model)"},
      {"throughput", fixed(r.throughput, 1) + " examples/s (" + fixed(r.wall_s, 2) + " s)"},
  };
  std::string errors;
  for (const auto& [code, n] : r.errors) errors += (errors.empty() ? "" : ", ") + code + " " + std::to_string(n);
  lines.emplace_back("errors", errors.empty() ? "none" : errors);
  std::size_t w = 0;
  for (const auto& l : lines) w = std::max(w, l.first.size());
  std::string out;
  for (const auto& [k, v] : lines) out += "  " + k + std::string(w - k.size(), ' ') + " | " + v + "\n";
  return out;
}

boost::json::object report_json(const Report& r) {
  boost::json::object errors;
  for (const auto& [code, n] : r.errors) errors[code] = n;
  return {{"task", r.task},
          {"program", r.program},
          {"model", r.model},
          {"endpoint", r.endpoint},
          {"data", r.data},
          {"examples", r.examples},
          {"concurrency", r.concurrency},
          {"accuracy", r.accuracy},
          {"latency_ms", {{"p50", r.p50}, {"p90", r.p90}, {"p99", r.p99}, {"mean", r.mean}}},
          {"tokens", {{"input", r.tokens_in}, {"output", r.tokens_out}}},
          {"cost_usd", r.cost ? boost::json::value(*r.cost) : boost::json::value(nullptr)},
          {"wall_s", r.wall_s},
          {"throughput_per_s", r.throughput},
          {"errors", std::move(errors)}};
}

std::string escape_xml(const std::string& s) {
  std::string out;
  for (const char c : s) {
    if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '&') out += "&amp;";
    else out += c;
  }
  return out;
}

// Two panels: a histogram of latencies, and each example's score (red: failed).
std::string svg_chart(const Report& r, const dspy::EvaluationResult& result) {
  const int width = 900, panel_h = 200, margin = 50;
  std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(width) + "\" height=\"" +
                  std::to_string(2 * panel_h + 2 * margin + 30) +
                  "\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  s += "<text x=\"" + std::to_string(margin) + "\" y=\"22\" font-size=\"15\">" +
       escape_xml(r.task + " / " + r.program + " on " + r.model + ": accuracy " + fixed(r.accuracy, 2) + "%, p50 " +
                  fixed(r.p50, 1) + " ms, p99 " + fixed(r.p99, 1) + " ms") +
       "</text>\n";
  // Latency histogram.
  std::vector<double> ms;
  for (const auto& row : result.rows)
    if (row.latency_s > 0) ms.push_back(row.latency_s * 1000);
  const int bins = 30;
  const double lo = ms.empty() ? 0 : *std::min_element(ms.begin(), ms.end());
  const double hi = ms.empty() ? 1 : std::max(*std::max_element(ms.begin(), ms.end()), lo + 1e-9);
  std::vector<int> counts(bins, 0);
  for (const double v : ms) ++counts[std::min(bins - 1, static_cast<int>((v - lo) / (hi - lo) * bins))];
  const int top = std::max(1, *std::max_element(counts.begin(), counts.end()));
  const int x0 = margin, y0 = margin, plot_w = width - 2 * margin;
  s += "<text x=\"" + std::to_string(x0) + "\" y=\"" + std::to_string(y0 - 8) + "\">latency (ms), " +
       std::to_string(ms.size()) + " calls</text>\n";
  for (int b = 0; b < bins; ++b) {
    const int h = counts[b] * (panel_h - 20) / top;
    s += "<rect x=\"" + std::to_string(x0 + b * plot_w / bins) + "\" y=\"" + std::to_string(y0 + panel_h - 20 - h) +
         "\" width=\"" + std::to_string(plot_w / bins - 2) + "\" height=\"" + std::to_string(h) +
         "\" fill=\"#4a7bd0\"><title>" + fixed(lo + b * (hi - lo) / bins, 1) + "-" +
         fixed(lo + (b + 1) * (hi - lo) / bins, 1) + " ms: " + std::to_string(counts[b]) + "</title></rect>\n";
  }
  s += "<text x=\"" + std::to_string(x0) + "\" y=\"" + std::to_string(y0 + panel_h - 4) + "\">" + fixed(lo, 1) +
       "</text><text x=\"" + std::to_string(x0 + plot_w) + "\" y=\"" + std::to_string(y0 + panel_h - 4) +
       "\" text-anchor=\"end\">" + fixed(hi, 1) + "</text>\n";
  for (const auto& [label, v] : {std::pair{"p50", r.p50}, {"p90", r.p90}, {"p99", r.p99}}) {
    const int x = x0 + static_cast<int>((v - lo) / (hi - lo) * plot_w);
    s += "<line x1=\"" + std::to_string(x) + "\" x2=\"" + std::to_string(x) + "\" y1=\"" + std::to_string(y0) +
         "\" y2=\"" + std::to_string(y0 + panel_h - 20) + "\" stroke=\"#d04a4a\" stroke-dasharray=\"4 3\"/>" +
         "<text x=\"" + std::to_string(x + 3) + "\" y=\"" + std::to_string(y0 + 12) + "\" fill=\"#d04a4a\">" + label +
         "</text>\n";
  }
  // Score per example.
  const int y1 = y0 + panel_h + margin;
  s += "<text x=\"" + std::to_string(x0) + "\" y=\"" + std::to_string(y1 - 8) +
       "\">score per example (red: error)</text>\n";
  const std::size_t n = std::max<std::size_t>(result.rows.size(), 1);
  for (const auto& row : result.rows) {
    const double x = x0 + static_cast<double>(row.index) * plot_w / static_cast<double>(n);
    const double bar = std::max(1.0, static_cast<double>(plot_w) / static_cast<double>(n) - 0.5);
    const int h = row.error ? panel_h - 20 : static_cast<int>(std::clamp(row.score, 0.0, 1.0) * (panel_h - 20));
    s += "<rect x=\"" + fixed(x, 2) + "\" y=\"" + std::to_string(y1 + panel_h - 20 - h) + "\" width=\"" + fixed(bar, 2) +
         "\" height=\"" + std::to_string(std::max(h, 1)) + "\" fill=\"" +
         (row.error ? "#d04a4a" : row.score > 0 ? "#3a9a5a" : "#bbbbbb") + "\"/>\n";
  }
  s += "<text x=\"" + std::to_string(x0) + "\" y=\"" + std::to_string(y1 + panel_h - 4) + "\">0</text><text x=\"" +
       std::to_string(x0 + plot_w) + "\" y=\"" + std::to_string(y1 + panel_h - 4) + "\" text-anchor=\"end\">" +
       std::to_string(result.rows.size() - (result.rows.empty() ? 0 : 1)) + "</text>\n";
  return s + "</svg>\n";
}

template <class Program, class Sig>
int run(const Options& o, Program& program, const std::vector<dspy::Example<Sig>>& dev, const dspy::LMHandle& lm,
        const std::string& endpoint) {
  dspy::set_lm(program, lm);
  auto tokens = dspy::track_usage();  // every call's tokens (the LM reports to open scopes)
  const auto start = std::chrono::steady_clock::now();
  const auto result = dspy::evaluate(program, dev, dspy::answer_exact_match,
                                     {.concurrency = o.concurrency, .progress = true, .display_table = 5});
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  // RAG's label names its retriever, so that both runs' reports sit side by side.
  const std::string label = o.program == "rag" ? "rag-" + o.retriever : o.program;
  Report r{.task = o.task, .program = label, .model = lm->model(), .endpoint = endpoint, .data = o.data};
  r.examples = dev.size();
  r.concurrency = o.concurrency;
  r.accuracy = result.score;
  std::vector<double> ms;
  for (const auto& row : result.rows) {
    if (row.latency_s > 0) ms.push_back(row.latency_s * 1000);
    if (row.error) ++r.errors[std::string(dspy::to_string(row.error->code))];
  }
  std::sort(ms.begin(), ms.end());
  r.p50 = percentile(ms, 50);
  r.p90 = percentile(ms, 90);
  r.p99 = percentile(ms, 99);
  for (const double v : ms) r.mean += v / static_cast<double>(ms.size());
  const dspy::Usage total = tokens.total();
  r.tokens_in = total.prompt_tokens;
  r.tokens_out = total.completion_tokens;
  if (const auto price = price_of(r.model))
    r.cost = (static_cast<double>(r.tokens_in) * price->input + static_cast<double>(r.tokens_out) * price->output) / 1e6;
  r.wall_s = wall;
  r.throughput = wall > 0 ? static_cast<double>(dev.size()) / wall : 0;

  std::filesystem::create_directories(o.out);
  const std::string stem = (std::filesystem::path(o.out) / (o.task + "-" + label)).string();
  std::ofstream(stem + ".json") << dspy::detail::py_json(report_json(r), false, 2) << "\n";
  std::ofstream(stem + ".svg") << svg_chart(r, result);
  auto saved_csv = result.save_csv(stem + "-rows.csv");
  auto saved_json = result.save_json(stem + "-rows.json");
  if (!saved_csv || !saved_json) {
    std::cerr << "harness: " << (saved_csv ? saved_json.error() : saved_csv.error()).message() << "\n";
    return 1;
  }
  std::cout << "\n" << table(r) << "\nwrote " << stem << ".json, " << stem << ".svg, " << stem << "-rows.csv, " << stem
            << "-rows.json\n";
  return 0;
}

template <class Sig>
std::vector<dspy::Example<Sig>> load(const Options& o) {
  auto dev = dspy::load_jsonl<Sig>(o.data);
  if (!dev) {
    std::cerr << "harness: " << dev.error().message() << "\n";
    std::exit(1);
  }
  if (o.limit && dev->size() > o.limit) dev->resize(o.limit);
  return std::move(*dev);
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  try {
    std::optional<dspy::testing::DemoServer> server;
    dspy::LMHandle lm;
    std::string endpoint;
    // No cache: every example is a real call, so latency and tokens are measured, not remembered.
    if (const char* model = std::getenv("DSPY_LM"); model && *model) {
      auto real = std::make_shared<dspy::LM>(model, dspy::LMConfig{.api_base = o.api_base, .cache = false});
      endpoint = real->url();
      lm = real;
    } else {
      std::string base = o.api_base;
      if (base.empty()) {
        server.emplace(start_simulated_server("harness", o.latency_ms));
        base = server->api_base();
      }
      auto local = std::make_shared<dspy::LM>("openai/dspy-simulated",
                                              dspy::LMConfig{.api_base = base, .api_key = "none", .cache = false});
      endpoint = local->url();
      lm = local;
    }
    if (o.task == "arithmetic") {
      const auto dev = load<Arithmetic>(o);
      if (o.program == "predict") {
        dspy::Predict<Arithmetic> p;
        return run(o, p, dev, lm, endpoint);
      }
      dspy::ChainOfThought<Arithmetic> p;
      return run(o, p, dev, lm, endpoint);
    }
    if (o.program == "rag") {
      const auto dev = load<OpenFactoid>(o);
      RAG rag;
      rag.retriever.keywords.k = 2;
      // The corpus: every distinct passage of the dataset file (all of it, not just --limit).
      Options whole = o;
      whole.limit = 0;
      const auto all = load<Factoid>(whole);
      std::set<std::string> seen;
      for (const auto& e : all)
        if (seen.insert(e.input.passage).second) rag.retriever.keywords.passages.push_back(e.input.passage);
      std::optional<ExampleEmbedder> embedder;
      if (o.retriever == "embeddings") {
        embedder.emplace(example_embedder(server ? &*server : nullptr));
        auto index = dspy::retrievers::Embeddings::build(rag.retriever.keywords.passages, embedder->embedder, {.k = 2});
        if (!index) {
          std::cerr << "harness: cannot index the corpus: " << index.error().message() << "\n";
          return 1;
        }
        rag.retriever.embeddings = std::move(index).value();
      }
      return run(o, rag, dev, lm, endpoint);
    }
    const auto dev = load<Factoid>(o);
    if (o.program == "predict") {
      dspy::Predict<Factoid> p;
      return run(o, p, dev, lm, endpoint);
    }
    dspy::ChainOfThought<Factoid> p;
    return run(o, p, dev, lm, endpoint);
  } catch (const std::exception& e) {
    std::cerr << "harness: " << e.what() << "\n";
    return 1;
  }
}
