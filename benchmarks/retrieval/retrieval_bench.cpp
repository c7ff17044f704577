// Retrieval's costs, one thread throughout.
//
//   retrieval_bench index [--n N] [--d D] [--queries Q] [--methods exact,hnswlib,faiss-ivfpq,faiss-hnsw]
//   retrieval_bench embedder
//
// `index`: exact search against approximate indexes on clustered random vectors: build time,
// resident memory, recall@10 against exact search, and queries per second.
//
// exact and hnswlib are dspy::retrievers::Embeddings (below and past brute_force_threshold; the
// hnswlib path takes 10 * k candidates and scores them exactly, as the retriever does). The faiss
// methods (built when CMake finds faiss) are DSPy 3.3.1's index, IVF-PQ with 2 sqrt(n) lists,
// 32-byte codes, nprobe 16 and the same exact re-ranking of 10 * k candidates; and faiss's HNSW
// at the same M and efConstruction as hnswlib. The vectors are unit length; ground truth is the
// exact top 10.
//
// `embedder`: dspy::Embedder over loopback HTTP against the shipped demo server's /v1/embeddings
// (started here; one server thread): texts per second by batch size and vector length, and the
// client's CPU per text. What it times is the round trip: the request, the server's hashing
// embedding and JSON, and the client's parse and checks; the cache is off.
#include <sys/resource.h>
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <dspy/retrievers/embeddings.hpp>
#include <dspy/testing/demo_server.hpp>

#if defined(DSPY_BENCH_FAISS)
#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVFPQ.h>
#include <omp.h>
#endif

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t k = 10;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Resident memory of the process, in bytes, after the allocator has given back what is free (so
// that one method's freed memory does not hide the next one's growth).
std::size_t rss() {
  ::malloc_trim(0);
  std::ifstream statm("/proc/self/statm");
  std::size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

// n unit vectors around sqrt(n) random centres, spread as topics spread embeddings.
std::vector<float> clustered(std::size_t n, std::size_t d, std::size_t clusters, std::uint64_t seed,
                             const std::vector<float>* centres_in = nullptr, std::vector<float>* centres_out = nullptr) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> centres;
  if (centres_in) {
    centres = *centres_in;
  } else {
    centres.resize(clusters * d);
    for (float& x : centres) x = normal(rng);
  }
  std::vector<float> out(n * d);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t c = rng() % clusters;
    float norm = 0;
    for (std::size_t j = 0; j < d; ++j) {
      const float x = centres[c * d + j] + 1.0F * normal(rng);
      out[i * d + j] = x;
      norm += x * x;
    }
    for (std::size_t j = 0; j < d; ++j) out[i * d + j] /= std::sqrt(norm);
  }
  if (centres_out) *centres_out = std::move(centres);
  return out;
}

// This process's user + system CPU time, in seconds.
double cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

struct Row {
  std::string method;
  double build_s = 0;
  double build_cpu_s = 0;
  double memory_mib = 0;
  double recall = 0;
  double qps = 0;
};

double recall_at_k(const std::vector<std::vector<std::size_t>>& got, const std::vector<std::vector<std::size_t>>& truth) {
  std::size_t hits = 0;
  for (std::size_t q = 0; q < got.size(); ++q)
    for (const std::size_t i : got[q]) hits += std::count(truth[q].begin(), truth[q].end(), i);
  return static_cast<double>(hits) / static_cast<double>(k * got.size());
}

// dspy::retrievers::Embeddings, exact (threshold past n) or on hnswlib (threshold 0).
Row run_retriever(const std::string& method, const std::vector<float>& corpus, std::size_t d,
                  const std::vector<float>& queries, std::vector<std::vector<std::size_t>>* truth) {
  const std::size_t n = corpus.size() / d;
  const bool exact = method == "exact";
  std::vector<std::string> passages(n);  // empty texts: the benchmark measures vectors
  auto embedder = dspy::Embedder([](const std::vector<std::string>& texts) {
    return std::vector<std::vector<float>>(texts.size());
  });
  const std::size_t before = rss();
  const auto start = Clock::now();
  const double cpu = cpu_seconds();
  auto matrix = dspy::EmbeddingMatrix::from_values(d, corpus);
  auto r = dspy::retrievers::Embeddings::from_embeddings(
      std::move(passages), std::move(*matrix), embedder,
      {.k = k, .brute_force_threshold = exact ? n + 1 : 0, .normalize = false});
  if (!r) {
    std::cerr << r.error().message() << "\n";
    std::exit(1);
  }
  Row row{method, seconds_since(start), cpu_seconds() - cpu, static_cast<double>(rss() - before) / (1 << 20)};
  std::vector<std::vector<std::size_t>> got;
  const std::size_t nq = queries.size() / d;
  const auto searching = Clock::now();
  for (std::size_t q = 0; q < nq; ++q) got.push_back(r->search({queries.data() + q * d, d})->indices);
  row.qps = static_cast<double>(nq) / seconds_since(searching);
  if (exact) *truth = got;
  row.recall = recall_at_k(got, *truth);
  return row;
}

#if defined(DSPY_BENCH_FAISS)
// DSPy's re-ranking: the candidates' exact dot products, the k best.
std::vector<std::size_t> rerank(const float* q, const std::vector<float>& corpus, std::size_t d, const faiss::Index::idx_t* ids,
                                std::size_t count) {
  std::vector<std::pair<float, std::size_t>> scored;
  for (std::size_t c = 0; c < count; ++c) {
    if (ids[c] < 0) continue;
    const auto i = static_cast<std::size_t>(ids[c]);
    scored.emplace_back(-dspy::detail::dot(q, corpus.data() + i * d, d), i);
  }
  std::sort(scored.begin(), scored.end());
  std::vector<std::size_t> out;
  for (std::size_t j = 0; j < std::min(k, scored.size()); ++j) out.push_back(scored[j].second);
  return out;
}

Row run_faiss(const std::string& method, const std::vector<float>& corpus, std::size_t d,
              const std::vector<float>& queries, const std::vector<std::vector<std::size_t>>& truth) {
  const std::size_t n = corpus.size() / d;
  const std::size_t before = rss();
  const auto start = Clock::now();
  const double cpu = cpu_seconds();
  std::unique_ptr<faiss::Index> index;
  std::unique_ptr<faiss::IndexFlatL2> quantizer;
  // The retriever keeps the corpus's vectors for re-ranking: counted as the others count theirs.
  const std::vector<float> kept = corpus;
  if (method == "faiss-ivfpq") {
    const auto lists = static_cast<std::size_t>(2 * std::sqrt(static_cast<double>(n)));
    quantizer = std::make_unique<faiss::IndexFlatL2>(d);
    auto ivf = std::make_unique<faiss::IndexIVFPQ>(quantizer.get(), d, lists, 32, 8);
    ivf->train(static_cast<faiss::Index::idx_t>(n), corpus.data());
    ivf->add(static_cast<faiss::Index::idx_t>(n), corpus.data());
    ivf->nprobe = std::min<std::size_t>(16, lists);
    index = std::move(ivf);
  } else {
    auto hnsw = std::make_unique<faiss::IndexHNSWFlat>(d, 16, faiss::METRIC_INNER_PRODUCT);
    hnsw->hnsw.efConstruction = 200;
    hnsw->add(static_cast<faiss::Index::idx_t>(n), corpus.data());
    hnsw->hnsw.efSearch = 100;
    index = std::move(hnsw);
  }
  Row row{method, seconds_since(start), cpu_seconds() - cpu, static_cast<double>(rss() - before) / (1 << 20)};
  const std::size_t nq = queries.size() / d;
  std::vector<std::vector<std::size_t>> got;
  std::vector<float> distances(10 * k);
  std::vector<faiss::Index::idx_t> ids(10 * k);
  const auto searching = Clock::now();
  for (std::size_t q = 0; q < nq; ++q) {
    index->search(1, queries.data() + q * d, static_cast<faiss::Index::idx_t>(10 * k), distances.data(), ids.data());
    got.push_back(rerank(queries.data() + q * d, kept, d, ids.data(), ids.size()));
  }
  row.qps = static_cast<double>(nq) / seconds_since(searching);
  row.recall = recall_at_k(got, truth);
  return row;
}
#endif

int embedder_throughput() {
  auto server = dspy::testing::DemoServer::start(DSPY_DEMO_SERVER, {"--simulate"});
  if (!server) {
    std::cerr << server.error().message() << "\n";
    return 1;
  }
  // 512 texts of about 20 words, as passages of a small corpus.
  static const char* words[] = {"capital", "river", "library", "founded", "population", "mountain", "national",
                                "animal",  "longest", "city",   "million", "kilometres", "empire",  "island"};
  std::vector<std::string> texts;
  for (std::size_t i = 0; i < 512; ++i) {
    std::string t = "Passage " + std::to_string(i) + ":";
    for (std::size_t w = 0; w < 20; ++w) t += std::string(" ") + words[(i * 7 + w * 3) % 14];
    texts.push_back(std::move(t));
  }
  std::cout << "| dimensions | encoding | batch size | texts/s | client CPU per text (us) |\n|---|---|---|---|---|\n";
  for (const auto& [dims, encoding] : {std::pair{256, "float"}, {1024, "float"}, {1024, "base64"}})
    for (const std::size_t batch : {1, 8, 32, 128, 512}) {
      dspy::Embedder embed("openai/demo-embedding", {.batch_size = batch,
                                                     .caching = false,
                                                     .dimensions = dims,
                                                     .extra_body = {{"encoding_format", encoding}},
                                                     .api_base = server->api_base(),
                                                     .api_key = "none"});
      if (auto warm = embed(texts); !warm) {
        std::cerr << warm.error().message() << "\n";
        return 1;
      }
      std::size_t done = 0;
      const double cpu = cpu_seconds();
      const auto start = Clock::now();
      while (seconds_since(start) < 2.0) {
        if (!embed(texts)) return 1;
        done += texts.size();
      }
      const double wall = seconds_since(start);
      std::printf("| %d | %s | %zu | %.0f | %.1f |\n", dims, encoding, batch, static_cast<double>(done) / wall,
                  (cpu_seconds() - cpu) * 1e6 / static_cast<double>(done));
      std::fflush(stdout);
    }
  return 0;
}

[[noreturn]] void usage(const char* argv0) {
  std::cerr << "usage: " << argv0 << " index [--n N] [--d D] [--queries Q] [--methods exact,hnswlib,...]\n"
            << "       " << argv0 << " embedder\n";
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) usage(argv[0]);
  if (std::string(argv[1]) == "embedder") return embedder_throughput();
  if (std::string(argv[1]) != "index") usage(argv[0]);
  std::size_t n = 100'000, d = 384, nq = 1000;
  std::string methods = "exact,hnswlib,faiss-ivfpq,faiss-hnsw";
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    if (arg == "--n") n = std::stoul(argv[i + 1]);
    else if (arg == "--d") d = std::stoul(argv[i + 1]);
    else if (arg == "--queries") nq = std::stoul(argv[i + 1]);
    else if (arg == "--methods") methods = argv[i + 1];
    else usage(argv[0]);
  }
#if defined(DSPY_BENCH_FAISS)
  omp_set_num_threads(1);
#endif
  const std::size_t clusters = static_cast<std::size_t>(std::sqrt(static_cast<double>(n)));
  std::vector<float> centres;
  const std::vector<float> corpus = clustered(n, d, clusters, 1, nullptr, &centres);
  const std::vector<float> queries = clustered(nq, d, clusters, 2, &centres);
  std::cout << "| vectors | method | build, wall (s) | build, CPU (s) | memory (MiB) | recall@10 | queries/s |\n"
               "|---|---|---|---|---|---|---|\n";
  std::vector<std::vector<std::size_t>> truth;
  std::stringstream list(methods);
  std::vector<std::string> wanted;
  for (std::string m; std::getline(list, m, ',');) wanted.push_back(m);
  if (std::find(wanted.begin(), wanted.end(), "exact") == wanted.end()) wanted.insert(wanted.begin(), "exact");
  for (const auto& m : wanted) {
    Row row;
    if (m == "exact" || m == "hnswlib") {
      row = run_retriever(m, corpus, d, queries, &truth);
    } else {
#if defined(DSPY_BENCH_FAISS)
      row = run_faiss(m, corpus, d, queries, truth);
#else
      std::cerr << m << ": built without faiss\n";
      continue;
#endif
    }
    std::printf("| %zu x %zu | %s | %.1f | %.1f | %.0f | %.3f | %.0f |\n", n, d, row.method.c_str(), row.build_s,
                row.build_cpu_s, row.memory_mib, row.recall, row.qps);
    std::fflush(stdout);
  }
}
