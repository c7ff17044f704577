// dspy::Embedder over loopback HTTP: texts embedded per second by batch size and vector length,
// against the shipped demo server's /v1/embeddings (started here; one server thread). What it
// measures is the round trip: the request, the server's hashing embedding and JSON, and the
// client's parse and checks; the cache is off.
//
//   retrieval_embedder_throughput [--benchmark_filter=...]
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <dspy/clients/embedder.hpp>
#include <dspy/testing/demo_server.hpp>

namespace {

dspy::testing::DemoServer& server() {
  static dspy::testing::DemoServer s = dspy::testing::DemoServer::start(DSPY_DEMO_SERVER, {"--simulate"}).value();
  return s;
}

// 512 texts of about 20 words, as passages of a small corpus.
std::vector<std::string> texts() {
  static const char* words[] = {"capital", "river", "library", "founded", "population", "mountain", "national",
                                "animal",  "longest", "city",   "million", "kilometres", "empire",  "island"};
  std::vector<std::string> out;
  for (std::size_t i = 0; i < 512; ++i) {
    std::string t = "Passage " + std::to_string(i) + ":";
    for (std::size_t w = 0; w < 20; ++w) t += std::string(" ") + words[(i * 7 + w * 3) % 14];
    out.push_back(std::move(t));
  }
  return out;
}

void EmbedderThroughput(benchmark::State& state) {
  const auto corpus = texts();
  dspy::Embedder embed("openai/demo-embedding", {.batch_size = static_cast<std::size_t>(state.range(0)),
                                                 .caching = false,
                                                 .dimensions = static_cast<int>(state.range(1)),
                                                 .api_base = server().api_base(),
                                                 .api_key = "none"});
  for (auto _ : state) {
    auto m = embed(corpus);
    if (!m) {
      state.SkipWithError(m.error().message().c_str());
      return;
    }
    benchmark::DoNotOptimize(m->values().data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(corpus.size()));
}
BENCHMARK(EmbedderThroughput)
    ->ArgNames({"batch", "dims"})
    ->ArgsProduct({{1, 8, 32, 128, 512}, {256, 1024}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
