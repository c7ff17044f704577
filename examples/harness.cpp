// The benchmark harness: runs a program (Predict, ChainOfThought or RAG) over a JSONL dataset
// against an LM with dspy::benchmark and writes its report (a terminal table, JSON, CSV, SVG
// charts and an HTML page). With --shard I/N it runs one slice; `dspy-bench merge` joins them.
//
//   harness [--task arithmetic|factoid] [--program predict|cot|rag] [--data FILE.jsonl]
//           [--limit N] [--concurrency N] [--out DIR] [--api-base URL] [--latency-ms MS]
//           [--retriever embeddings|keyword] [--repeats N] [--shard I/N] [--prices FILE.json|.csv]
//
// The LM: with DSPY_LM set (e.g. DSPY_LM=openai/gpt-4o-mini and OPENAI_API_KEY), that model;
// with --api-base, an OpenAI-compatible server there; otherwise the harness starts the shipped
// demo server (`demo_server --simulate`, a real HTTP server on loopback) and stops it at the end.
// RAG retrieves by embeddings (DSPY_EMBEDDER if set, else the demo server's /v1/embeddings) or,
// with --retriever keyword, by keyword overlap. Cost comes from --prices (default: the shipped
// examples/data/prices.json, list prices by model id prefix).
#include <filesystem>
#include <iostream>
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
  std::size_t repeats = 1;
  dspy::Shard shard{};
  std::string prices = std::string(DSPY_EXAMPLES_DATA) + "/prices.json";
};

[[noreturn]] void usage(const char* argv0, const std::string& problem) {
  if (!problem.empty()) std::cerr << "harness: " << problem << "\n";
  std::cerr << "usage: " << argv0
            << " [--task arithmetic|factoid] [--program predict|cot|rag] [--data FILE.jsonl]\n"
               "       [--limit N] [--concurrency N] [--out DIR] [--api-base URL] [--latency-ms MS]\n"
               "       [--retriever embeddings|keyword] [--repeats N] [--shard I/N] [--prices FILE]\n"
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
      else if (arg == "--repeats") o.repeats = std::stoul(value);
      else if (arg == "--prices") o.prices = value;
      else if (arg == "--shard") {
        auto shard = dspy::Shard::parse(value);
        if (!shard) usage(argv[0], shard.error().message());
        o.shard = *shard;
      } else usage(argv[0], "unknown option " + arg);
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

// ---- the run ----------------------------------------------------------------------------------------

template <class Program, class Sig>
int run(const Options& o, const Program& program, const std::vector<dspy::Example<Sig>>& dev, const dspy::LMHandle& lm) {
  auto prices = dspy::PriceTable::load(o.prices);
  if (!prices) {
    std::cerr << "harness: " << prices.error().message() << "\n";
    return 1;
  }
  // RAG's label names its retriever, so that both runs' reports sit side by side.
  const std::string label = o.program == "rag" ? "rag-" + o.retriever : o.program;
  const auto ran = dspy::benchmark(
      program, dev, dspy::answer_exact_match, {{"", lm}},
      {.name = o.task + " / " + label,
       .dataset = std::filesystem::path(o.data).lexically_proximate(std::filesystem::current_path()).string(),
       .repeats = o.repeats,
       .shard = o.shard,
       .prices = std::move(*prices),
       .evaluate = {.concurrency = o.concurrency, .progress = true, .display_table = 5}});
  if (!ran) {
    std::cerr << "harness: " << ran.error().message() << "\n";
    return 1;
  }
  const dspy::BenchmarkReport& report = *ran;
  const std::string stem = o.task + "-" + label + (o.shard.count > 1 ? "-shard-" + std::to_string(o.shard.index) : "");
  const auto written = dspy::save_report(report, o.out, stem);
  if (!written) {
    std::cerr << "harness: " << written.error().message() << "\n";
    return 1;
  }
  std::cout << "\n" << dspy::to_table(report) << "\nwrote";
  for (const auto& path : *written) std::cout << " " << path.string();
  std::cout << "\n";
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
    std::cerr << "[LM: " << lm->model() << " at " << endpoint << "]\n";
    if (o.task == "arithmetic") {
      const auto dev = load<Arithmetic>(o);
      if (o.program == "predict") {
        dspy::Predict<Arithmetic> p;
        return run(o, p, dev, lm);
      }
      dspy::ChainOfThought<Arithmetic> p;
      return run(o, p, dev, lm);
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
      return run(o, rag, dev, lm);
    }
    const auto dev = load<Factoid>(o);
    if (o.program == "predict") {
      dspy::Predict<Factoid> p;
      return run(o, p, dev, lm);
    }
    dspy::ChainOfThought<Factoid> p;
    return run(o, p, dev, lm);
  } catch (const std::exception& e) {
    std::cerr << "harness: " << e.what() << "\n";
    return 1;
  }
}
