// Benchmarking your own program against two models: dspy::benchmark runs it over the dataset with
// each, dspy::compare says which is better and how sure that is, and save_report writes the
// report (JSON, CSV, SVG charts and one HTML page) to build/benchmark.
//
// Offline (the default) the two models are shipped demo servers simulating a small model (wrong
// on 25% of the items, faster) and a large one (wrong on 10%, slower), over real HTTP. With
// DSPY_LM and DSPY_LM_CANDIDATE set (e.g. openai/gpt-4o-mini and openai/gpt-4.1-mini), those.
#include <cstdlib>
#include <iostream>
#include <optional>

#include <dspy/all.hpp>

#include "arithmetic.hpp"

namespace {

dspy::testing::DemoServer simulated(const std::string& latency_ms, const std::string& error_rate) {
  auto server = dspy::testing::DemoServer::start(
      DSPY_DEMO_SERVER, {"--simulate", "--latency-ms", latency_ms, "--error-rate", error_rate});
  if (!server) {
    std::cerr << "benchmark: " << server.error().message() << "\n";
    std::exit(1);
  }
  return std::move(server).value();
}

}  // namespace

int main() {
  std::optional<dspy::testing::DemoServer> small_server, large_server;
  std::vector<dspy::BenchmarkModel> models;
  dspy::PriceTable prices;  // USD per million tokens, by model id prefix
  const char* baseline = std::getenv("DSPY_LM");
  const char* candidate = std::getenv("DSPY_LM_CANDIDATE");
  if (baseline && *baseline && candidate && *candidate) {
    models = {{baseline, dspy::LM(baseline, {.cache = false})}, {candidate, dspy::LM(candidate, {.cache = false})}};
    prices = dspy::PriceTable::load(DSPY_EXAMPLES_DATA "/prices.json").value();  // list prices, 2025
  } else {
    small_server.emplace(simulated("10", "0.25"));
    large_server.emplace(simulated("25", "0.10"));
    models = {{"small", small_server->lm("openai/small-sim", {.cache = false})},
              {"large", large_server->lm("openai/large-sim", {.cache = false})}};
    prices = dspy::PriceTable({{"openai/small-sim", {0.15, 0.60}}, {"openai/large-sim", {2.50, 10.00}}});
  }

  // The part you write for your own program: a dataset, the program, a metric, the models.
  auto dev = dspy::load_jsonl<Arithmetic>(DSPY_EXAMPLES_DATA "/arithmetic.jsonl");
  if (!dev) {
    std::cerr << "benchmark: " << dev.error().message() << "\n";
    return 1;
  }
  const dspy::ChainOfThought<Arithmetic> program;
  const auto report = dspy::benchmark(program, *dev, dspy::answer_exact_match, models,
                                      {.name = "arithmetic / ChainOfThought",
                                       .dataset = "examples/data/arithmetic.jsonl",
                                       .prices = prices,
                                       .evaluate = {.concurrency = 16, .progress = true}})
                          .value();
  std::cout << dspy::to_table(report) << "\n" << dspy::to_table(dspy::compare(report.models[0], report.models[1]));
  const auto written = dspy::save_report(report, "build/benchmark", "arithmetic");
  if (!written) {
    std::cerr << "benchmark: " << written.error().message() << "\n";
    return 1;
  }
  std::cout << "\nwrote";
  for (const auto& path : *written) std::cout << " " << path.string();
  std::cout << "\n";
  return 0;
}
