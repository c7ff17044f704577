// The bodies of embeddings.hpp: header-only, embeddings.hpp includes them; with
// DSPY_SEPARATE_COMPILATION, <dspy/src.hpp> compiles them once. The only file that includes
// hnswlib.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <exception>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <boost/json.hpp>

// hnswlib's own SIMD code (NO_MANUAL_VECTORIZATION unset) defines non-inline functions in its
// header, which breaks programs that include it in two files, and its prefetches read past the
// end of link lists (AddressSanitizer stops there). The graph scores with detail::dot instead.
#if !defined(NO_MANUAL_VECTORIZATION)
#define NO_MANUAL_VECTORIZATION
#define DSPY_DEFINED_NO_MANUAL_VECTORIZATION
#endif
#include <hnswlib/hnswlib.h>
#if defined(DSPY_DEFINED_NO_MANUAL_VECTORIZATION)
#undef NO_MANUAL_VECTORIZATION
#undef DSPY_DEFINED_NO_MANUAL_VECTORIZATION
#endif

#include "../clients/embedder.hpp"
#include "../detail/io/binary.hpp"
#include "../detail/io/file.hpp"
#include "../detail/sha256.hpp"
#include "../detail/vector.hpp"
#include "embeddings.hpp"

namespace dspy {

namespace detail {

/// hnswlib's distance for the graph: 1 - a . b (its inner-product space's), with detail::dot.
class DotSpace final : public hnswlib::SpaceInterface<float> {
 public:
  explicit DotSpace(std::size_t dimensions) : dimensions_(dimensions) {}
  std::size_t get_data_size() override { return dimensions_ * sizeof(float); }
  hnswlib::DISTFUNC<float> get_dist_func() override { return &distance; }
  void* get_dist_func_param() override { return &dimensions_; }

 private:
  static float distance(const void* a, const void* b, const void* dimensions) {
    return 1.0F - dot(static_cast<const float*>(a), static_cast<const float*>(b),
                      *static_cast<const std::size_t*>(dimensions));
  }
  std::size_t dimensions_;
};

/// The HNSW graph over the corpus's vectors; labels are row numbers. The space outlives the graph.
struct HnswIndex {
  explicit HnswIndex(std::size_t dimensions) : space(dimensions) {}
  DotSpace space;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> graph;
};

DSPY_DECL bool all_finite(const std::vector<float>& values) noexcept {
  return std::all_of(values.begin(), values.end(), [](float x) { return std::isfinite(x); });
}

// numpy's .npy format, version 1.0, for a C-order float32 matrix.
inline constexpr std::string_view kNpyMagic = "\x93NUMPY";

DSPY_DECL std::string npy_bytes(const EmbeddingMatrix& m) {
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::to_string(m.rows()) + ", " +
                       std::to_string(m.dimensions()) + "), }";
  // numpy pads the header with spaces and a newline so that the data starts on a 64-byte boundary.
  const std::size_t preamble = kNpyMagic.size() + 4;
  header.append(63 - (preamble + header.size()) % 64, ' ');
  header += '\n';
  std::string out(kNpyMagic);
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xFF);
  out += static_cast<char>(header.size() >> 8);
  out += header;
  out += le_bytes_from_floats(m.values());
  return out;
}

// The value of `key` in a numpy header dict ("{'descr': '<f4', ...}"), as written; empty if absent.
inline std::string_view npy_field(std::string_view header, std::string_view key) {
  const std::string quoted = "'" + std::string(key) + "':";
  auto at = header.find(quoted);
  if (at == std::string_view::npos) return {};
  std::string_view rest = header.substr(at + quoted.size());
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  const char close = rest.starts_with("(") ? ')' : ',';
  const auto end = rest.find(close);
  if (end == std::string_view::npos) return {};
  return rest.substr(0, close == ')' ? end + 1 : end);
}

// The matrix in .npy bytes (float32, little-endian, C order, two dimensions); `name` names the
// file in errors.
DSPY_DECL Result<EmbeddingMatrix> npy_matrix(std::string_view bytes, const std::string& name) {
  const auto bad = [&](const std::string& why) { return Error(Errc::parse_error, name + ": " + why); };
  if (!bytes.starts_with(kNpyMagic) || bytes.size() < kNpyMagic.size() + 4) return bad("not a .npy file");
  const auto major = static_cast<unsigned char>(bytes[6]);
  const auto byte = [&](std::size_t i) { return static_cast<std::size_t>(static_cast<unsigned char>(bytes[i])); };
  std::size_t header_len = 0;
  std::size_t start = 0;
  if (major == 1) {
    header_len = byte(8) | byte(9) << 8;
    start = 10;
  } else if ((major == 2 || major == 3) && bytes.size() >= 12) {
    header_len = byte(8) | byte(9) << 8 | byte(10) << 16 | byte(11) << 24;
    start = 12;
  } else {
    return bad("unsupported .npy version " + std::to_string(major));
  }
  if (header_len > bytes.size() - start) return bad("the header is cut short");
  const std::string_view header = bytes.substr(start, header_len);
  const std::string_view descr = npy_field(header, "descr");
  if (descr != "'<f4'") return bad("the values are " + std::string(descr) + ", not little-endian float32 ('<f4')");
  if (npy_field(header, "fortran_order") != "False") return bad("the matrix is not in C order");
  std::string_view shape = npy_field(header, "shape");
  std::size_t dims[2] = {0, 0};
  std::size_t count = 0;
  if (shape.size() >= 2) shape = shape.substr(1, shape.size() - 2);
  while (!shape.empty()) {
    while (!shape.empty() && (shape.front() == ' ' || shape.front() == ',')) shape.remove_prefix(1);
    if (shape.empty()) break;
    std::size_t v = 0;
    std::size_t digits = 0;
    while (digits < shape.size() && shape[digits] >= '0' && shape[digits] <= '9' && digits < 12)
      v = v * 10 + static_cast<std::size_t>(shape[digits++] - '0');
    if (digits == 0 || count == 2) return bad("the shape is not two whole numbers");
    dims[count++] = v;
    shape.remove_prefix(digits);
  }
  if (count != 2 || dims[1] == 0) return bad("the shape is not (rows, dimensions) with dimensions > 0");
  const std::size_t data = bytes.size() - start - header_len;
  if (dims[0] > data / 4 / dims[1] || dims[0] * dims[1] * 4 != data)
    return bad("the shape (" + std::to_string(dims[0]) + ", " + std::to_string(dims[1]) + ") needs " +
               std::to_string(dims[0]) + " x " + std::to_string(dims[1]) + " x 4 bytes of values; the file has " +
               std::to_string(data));
  auto m = EmbeddingMatrix::from_values(dims[1], floats_from_le_bytes(bytes.substr(start + header_len)));
  if (!m) return bad(m.error().message());
  if (!all_finite(m->values())) return bad("a value is not finite");
  return m;
}

// Files a saved retriever may hold at most: a bound on what a damaged directory makes us allocate.
inline constexpr std::uintmax_t kMaxSavedFileBytes = std::uintmax_t{64} << 30;

// A file with a line: the graph's bytes, as hnswlib writes them, hashed for config.json. hnswlib
// writes to a path, so the file is created owner-only first, then written, then renamed into place.
DSPY_DECL Result<std::string> save_hnsw(const HnswIndex& index, const std::filesystem::path& path) {
  const std::filesystem::path temp =
      path.parent_path() / ("." + path.filename().string() + "." + unique_temp_suffix() + ".tmp");
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, kPrivateFileMode);
  if (fd < 0) return Error(Errc::io, "cannot write " + temp.string() + ": " + std::generic_category().message(errno));
  ::close(fd);
  const auto failed = [&](const std::string& why) {
    std::error_code ignored;
    std::filesystem::remove(temp, ignored);
    return Error(Errc::io, "cannot write " + path.string() + ": " + why);
  };
  try {
    index.graph->saveIndex(temp.string());
  } catch (const std::exception& e) {
    return failed(e.what());
  }
  auto bytes = read_regular_file(temp, kMaxSavedFileBytes);
  if (!bytes) return failed(bytes.error().message());
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  if (ec) return failed(ec.message());
  return sha256_hex(*bytes);
}

// A POD at `at` of hnswlib's file header.
template <class T>
T header_value(std::string_view bytes, std::size_t at) {
  T v{};
  std::memcpy(&v, bytes.data() + at, sizeof v);
  return v;
}

// The graph in `path` (bytes `bytes`), checked against the corpus's vectors: the header's sizes
// before hnswlib reads the file (hnswlib allocates what the header says), then every link.
DSPY_DECL Result<std::shared_ptr<HnswIndex>> load_hnsw(const std::filesystem::path& path, std::string_view bytes,
                                                       const EmbeddingMatrix& vectors) {
  const auto bad = [&](const std::string& why) { return Error(Errc::parse_error, path.string() + ": " + why); };
  const std::size_t n = vectors.rows();
  const std::size_t d = vectors.dimensions();
  using tableint = hnswlib::tableint;
  // offsetLevel0, max_elements, cur_element_count, size_data_per_element, label_offset,
  // offsetData (size_t each), maxlevel (int), enterpoint (tableint), maxM, maxM0, M (size_t),
  // mult (double), ef_construction (size_t).
  constexpr std::size_t z = sizeof(std::size_t);
  constexpr std::size_t header = 6 * z + sizeof(int) + sizeof(tableint) + 3 * z + sizeof(double) + z;
  if (bytes.size() < header) return bad("cut short in its header");
  const auto at = [&](std::size_t field) { return header_value<std::size_t>(bytes, field * z); };
  const std::size_t offset0 = at(0), max_elements = at(1), count = at(2), per_element = at(3), label_offset = at(4),
                    offset_data = at(5);
  const int max_level = header_value<int>(bytes, 6 * z);
  const tableint entry = header_value<tableint>(bytes, 6 * z + sizeof(int));
  const std::size_t tail = 6 * z + sizeof(int) + sizeof(tableint);
  const std::size_t max_m = header_value<std::size_t>(bytes, tail), max_m0 = header_value<std::size_t>(bytes, tail + z),
                    m = header_value<std::size_t>(bytes, tail + 2 * z);
  if (count != n || max_elements != n)
    return bad("the graph holds " + std::to_string(count) + " vectors for a corpus of " + std::to_string(n));
  if (m < 2 || m > 4096 || max_m != m || max_m0 != 2 * m) return bad("the graph's link counts are not hnswlib's");
  const std::size_t links0 = max_m0 * sizeof(tableint) + sizeof(hnswlib::linklistsizeint);
  if (offset0 != 0 || offset_data != links0 || label_offset != links0 + d * 4 ||
      per_element != links0 + d * 4 + sizeof(hnswlib::labeltype))
    return bad("the graph's layout does not fit vectors of " + std::to_string(d) + " dimensions");
  if (max_level < 0 || max_level > 64 || entry >= n) return bad("the graph's entry point is out of range");
  // The upper levels' link lists, walked here before hnswlib trusts them.
  const std::size_t links = max_m * sizeof(tableint) + sizeof(hnswlib::linklistsizeint);
  if (n > (bytes.size() - header) / per_element) return bad("cut short in its base level");
  std::size_t pos = header + n * per_element;
  for (std::size_t i = 0; i < n; ++i) {
    if (bytes.size() - pos < sizeof(unsigned)) return bad("cut short in its upper levels");
    const auto size = header_value<unsigned>(bytes, pos);
    pos += sizeof(unsigned);
    if (size % links != 0 || size / links > static_cast<std::size_t>(max_level) || size > bytes.size() - pos)
      return bad("vector " + std::to_string(i) + "'s upper levels are damaged");
    pos += size;
  }
  if (pos != bytes.size()) return bad("has " + std::to_string(bytes.size() - pos) + " bytes past its end");

  auto index = std::make_shared<HnswIndex>(d);
  try {
    index->graph = std::make_unique<hnswlib::HierarchicalNSW<float>>(&index->space, path.string(), false, n);
  } catch (const std::exception& e) {
    return bad(std::string("hnswlib cannot read it: ") + e.what());
  }
  auto& g = *index->graph;
  std::vector<bool> seen(n, false);
  const auto check_list = [&](const unsigned* list, std::size_t limit) {
    const std::size_t c = *reinterpret_cast<const unsigned short*>(list);
    if (c > limit) return false;
    for (std::size_t j = 1; j <= c; ++j)
      if (list[j] >= n) return false;
    return true;
  };
  for (tableint i = 0; i < n; ++i) {
    const hnswlib::labeltype label = g.getExternalLabel(i);
    if (label >= n || seen[label]) return bad("vector " + std::to_string(i) + " has a bad or repeated label");
    seen[label] = true;
    if (g.isMarkedDeleted(i)) return bad("vector " + std::to_string(i) + " is marked deleted");
    if (std::memcmp(g.getDataByInternalId(i), vectors.row(label).data(), d * 4) != 0)
      return bad("vector " + std::to_string(i) + " differs from passage " + std::to_string(label) +
                 "'s in corpus_embeddings.npy");
    if (!check_list(g.get_linklist0(i), max_m0)) return bad("vector " + std::to_string(i) + "'s links are damaged");
    for (int level = 1; level <= g.element_levels_[i]; ++level)
      if (!check_list(g.get_linklist(i, level), max_m))
        return bad("vector " + std::to_string(i) + "'s links are damaged");
  }
  return index;
}

DSPY_DECL std::shared_ptr<HnswIndex> build_hnsw(const EmbeddingMatrix& vectors, const retrievers::EmbeddingsOptions& o) {
  auto index = std::make_shared<HnswIndex>(vectors.dimensions());
  index->graph = std::make_unique<hnswlib::HierarchicalNSW<float>>(&index->space, vectors.rows(), o.M,
                                                                   o.ef_construction, o.seed);
  auto& graph = *index->graph;
  const std::size_t n = vectors.rows();
  std::size_t threads = o.build_threads ? o.build_threads : std::max(1U, std::thread::hardware_concurrency());
  threads = std::min(threads, n);
  if (threads <= 1) {
    for (std::size_t i = 0; i < n; ++i) graph.addPoint(vectors.row(i).data(), i);
    return index;
  }
  graph.addPoint(vectors.row(0).data(), 0);  // the entry point, before any concurrent insert
  std::atomic<std::size_t> next{1};
  std::vector<std::jthread> workers;
  for (std::size_t t = 0; t < threads; ++t)
    workers.emplace_back([&] {
      for (std::size_t i = next++; i < n; i = next++) graph.addPoint(vectors.row(i).data(), i);
    });
  return index;
}

}  // namespace detail

namespace retrievers {

struct Embeddings::State {
  std::vector<std::string> corpus;
  EmbeddingMatrix vectors;
  EmbeddingsOptions options;
  Embedder embedder;
  std::shared_ptr<detail::HnswIndex> index;  // null: exact search
};

namespace detail_embeddings {

inline Error options_error(const EmbeddingsOptions& o) {
  if (o.k == 0) return Error(Errc::config, "Embeddings: k must be at least 1");
  if (o.M < 2 || o.M > 4096) return Error(Errc::config, "Embeddings: M must be from 2 to 4096 (got " + std::to_string(o.M) + ")");
  return Error(Errc::config, {});
}

// Sets the searches' candidate count: at least 10 * k, as DSPy asks FAISS for.
inline void set_ef(detail::HnswIndex& index, const EmbeddingsOptions& o) {
  index.graph->setEf(std::max(o.ef_search, 10 * o.k));
}

// The `k` passages nearest to `query`: from the graph's candidates, or (`exact`, or no graph)
// from every passage. Candidates are scored on the corpus's own vectors either way, so both
// paths give a passage the same score.
DSPY_DECL Result<Retrieved> search(const Embeddings::State& s, std::span<const float> query, std::size_t k,
                                   bool exact) {
  const std::size_t d = s.vectors.dimensions();
  if (k == 0) return Error(Errc::config, "Embeddings: k must be at least 1");
  if (query.size() != d)
    return Error(Errc::config, "Embeddings: the query has " + std::to_string(query.size()) +
                                   " dimensions; the corpus's vectors have " + std::to_string(d));
  std::vector<float> q(query.begin(), query.end());
  if (!detail::all_finite(q)) return Error(Errc::config, "Embeddings: the query holds a value that is not finite");
  if (s.options.normalize) {
    float sum = 0;
    for (const float x : q) sum += x * x;
    const float scale = 1.0F / std::max(std::sqrt(sum), 1e-10F);
    for (float& x : q) x *= scale;
  }
  const float* rows = s.vectors.values().data();
  std::vector<detail::Scored> scored;
  if (s.index && !exact) {
    const std::size_t candidates = std::min(s.corpus.size(), std::max(k, 10 * k));
    auto found = s.index->graph->searchKnn(q.data(), candidates);
    scored.reserve(found.size());
    for (; !found.empty(); found.pop()) {
      const auto i = static_cast<std::size_t>(found.top().second);
      scored.push_back({detail::dot(q.data(), rows + i * d, d), i});
    }
  } else {
    scored.resize(s.corpus.size());
    for (std::size_t i = 0; i < scored.size(); ++i) scored[i] = {detail::dot(q.data(), rows + i * d, d), i};
  }
  Retrieved out;
  for (const auto& [score, i] : detail::best(std::move(scored), k)) {
    out.passages.push_back(s.corpus[i]);
    out.indices.push_back(i);
    out.scores.push_back(score);
  }
  return out;
}

}  // namespace detail_embeddings

DSPY_DECL Result<Embeddings> Embeddings::from_embeddings(std::vector<std::string> corpus, EmbeddingMatrix embeddings,
                                                        Embedder embedder, EmbeddingsOptions options) {
  if (Error e = detail_embeddings::options_error(options); !e.message().empty()) return e;
  if (corpus.empty()) return Error(Errc::config, "Embeddings: the corpus is empty");
  if (embeddings.rows() != corpus.size())
    return Error(Errc::config, "Embeddings: " + std::to_string(embeddings.rows()) + " vectors for a corpus of " +
                                   std::to_string(corpus.size()) + " passages");
  if (!detail::all_finite(embeddings.values()))
    return Error(Errc::bad_response, "Embeddings: a passage's vector holds a value that is not finite");
  if (options.normalize) embeddings.normalize();
  auto s = std::make_shared<State>(State{std::move(corpus), std::move(embeddings), options, std::move(embedder), {}});
  if (s->corpus.size() >= options.brute_force_threshold) {
    try {
      s->index = detail::build_hnsw(s->vectors, options);
    } catch (const std::exception& e) {
      return Error(Errc::config, std::string("Embeddings: cannot build the index: ") + e.what());
    }
    detail_embeddings::set_ef(*s->index, options);
  }
  return Embeddings(std::move(s));
}

DSPY_DECL Result<Embeddings> Embeddings::build(std::vector<std::string> corpus, Embedder embedder,
                                              EmbeddingsOptions options) {
  auto vectors = embedder(corpus);
  if (!vectors) return std::move(vectors).error();
  return from_embeddings(std::move(corpus), std::move(vectors).value(), std::move(embedder), options);
}

DSPY_DECL asio::awaitable<Result<Embeddings>> Embeddings::abuild(std::vector<std::string> corpus, Embedder embedder,
                                                                EmbeddingsOptions options) {
  auto pending = embedder.acall(corpus);  // not inside co_await: GCC 12 PR 100611
  Result<EmbeddingMatrix> vectors = co_await std::move(pending);
  if (!vectors) co_return std::move(vectors).error();
  co_return from_embeddings(std::move(corpus), std::move(vectors).value(), std::move(embedder), options);
}

DSPY_DECL Result<Retrieved> Embeddings::search_exact(std::span<const float> query, std::optional<std::size_t> k) const {
  return detail_embeddings::search(*state_, query, k.value_or(state_->options.k), true);
}

DSPY_DECL Result<Retrieved> Embeddings::search(std::span<const float> query, std::optional<std::size_t> k) const {
  return detail_embeddings::search(*state_, query, k.value_or(state_->options.k), false);
}

DSPY_DECL Result<Retrieved> Embeddings::operator()(std::string query) const {
  auto q = state_->embedder({std::move(query)});
  if (!q) return std::move(q).error();
  return search(q->row(0));
}

DSPY_DECL asio::awaitable<Result<Retrieved>> Embeddings::acall(std::string query) const {
  auto pending = state_->embedder.acall({std::move(query)});  // not inside co_await: GCC 12 PR 100611
  Result<EmbeddingMatrix> q = co_await std::move(pending);
  if (!q) co_return std::move(q).error();
  co_return search(q->row(0));
}

DSPY_DECL Result<void> Embeddings::save(const std::filesystem::path& directory) const {
  const State& s = *state_;
  std::error_code ec;
  std::filesystem::create_directories(directory, ec);
  if (ec) return Error(Errc::io, "cannot create " + directory.string() + ": " + ec.message());
  const std::string npy = detail::npy_bytes(s.vectors);
  if (auto w = detail::write_file_atomic(directory / "corpus_embeddings.npy", npy); !w) return w;
  boost::json::value hnsw = nullptr;
  if (!s.index) std::filesystem::remove(directory / "hnsw_index.bin", ec);  // a graph of an earlier save
  if (s.index) {
    auto sha = detail::save_hnsw(*s.index, directory / "hnsw_index.bin");
    if (!sha) return std::move(sha).error();
    hnsw = {{"file", "hnsw_index.bin"}, {"sha256", *sha}, {"M", s.options.M},
            {"ef_construction", s.options.ef_construction}, {"ef_search", s.options.ef_search}};
  }
  boost::json::array corpus;
  corpus.reserve(s.corpus.size());
  for (const auto& p : s.corpus) corpus.emplace_back(p);
  // DSPy's fields first (its load() needs k, normalize, corpus and has_faiss_index), then ours.
  const boost::json::object config{
      {"k", s.options.k},
      {"normalize", s.options.normalize},
      {"corpus", std::move(corpus)},
      {"has_faiss_index", false},
      {"brute_force_threshold", s.options.brute_force_threshold},
      {"embeddings",
       {{"file", "corpus_embeddings.npy"}, {"rows", s.vectors.rows()}, {"dimensions", s.vectors.dimensions()},
        {"sha256", detail::sha256_hex(npy)}}},
      {"hnsw_index", std::move(hnsw)}};
  // Last: a directory whose other files were replaced without it fails its checksums on load.
  return detail::write_file_atomic(directory / "config.json", boost::json::serialize(config));
}

DSPY_DECL Result<Embeddings> Embeddings::load(const std::filesystem::path& directory, Embedder embedder,
                                             EmbeddingsOptions options) {
  const std::filesystem::path config_path = directory / "config.json";
  const std::string config_name = config_path.string();
  const auto bad = [&](const std::string& why) { return Error(Errc::parse_error, config_name + ": " + why); };
  auto text = detail::read_regular_file(config_path, detail::kMaxSavedFileBytes);
  if (!text) return std::move(text).error();
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(*text, ec);
  if (ec || !v.is_object()) return bad("not a JSON object");
  const auto& config = v.get_object();
  const auto number = [&](std::string_view key, std::size_t& out) -> std::optional<Error> {
    const auto* f = config.if_contains(key);
    if (!f) return std::nullopt;
    if (!f->is_int64() || f->get_int64() < 0) return bad("\"" + std::string(key) + "\" is not a whole number");
    out = static_cast<std::size_t>(f->get_int64());
    return std::nullopt;
  };
  for (const std::string_view key : {"k", "normalize", "corpus", "has_faiss_index"})
    if (!config.contains(key)) return bad("missing the field \"" + std::string(key) + "\"");
  if (auto e = number("k", options.k)) return *e;
  if (auto e = number("brute_force_threshold", options.brute_force_threshold)) return *e;
  if (!config.at("normalize").is_bool()) return bad("\"normalize\" is not true or false");
  options.normalize = config.at("normalize").get_bool();
  if (!config.at("corpus").is_array()) return bad("\"corpus\" is not an array");
  std::vector<std::string> corpus;
  corpus.reserve(config.at("corpus").get_array().size());
  for (const auto& p : config.at("corpus").get_array()) {
    if (!p.is_string()) return bad("passage " + std::to_string(corpus.size()) + " of \"corpus\" is not a string");
    corpus.emplace_back(p.get_string());
  }
  if (corpus.empty()) return bad("the corpus is empty");
  if (Error e = detail_embeddings::options_error(options); !e.message().empty()) return bad(e.message());

  const std::filesystem::path npy_path = directory / "corpus_embeddings.npy";
  auto npy = detail::read_regular_file(npy_path, detail::kMaxSavedFileBytes);
  if (!npy) return std::move(npy).error();
  const boost::json::object* saved = nullptr;
  if (const auto* e = config.if_contains("embeddings")) {
    saved = e->if_object();
    const auto* sha = saved ? saved->if_contains("sha256") : nullptr;
    if (!sha || !sha->is_string()) return bad("\"embeddings\" has no \"sha256\" string");
    if (sha->get_string() != detail::sha256_hex(*npy))
      return Error(Errc::parse_error, npy_path.string() + ": its checksum differs from config.json's (damaged, or "
                                                          "replaced without config.json)");
  }
  auto vectors = detail::npy_matrix(*npy, npy_path.string());
  if (!vectors) return std::move(vectors).error();
  npy->clear();
  npy->shrink_to_fit();
  if (vectors->rows() != corpus.size())
    return Error(Errc::parse_error, npy_path.string() + ": " + std::to_string(vectors->rows()) +
                                        " vectors for the " + std::to_string(corpus.size()) +
                                        " passages of config.json");

  auto s = std::make_shared<State>(State{std::move(corpus), std::move(vectors).value(), options, std::move(embedder), {}});
  const auto* hnsw = config.if_contains("hnsw_index");
  if (hnsw && hnsw->is_object()) {
    const auto& h = hnsw->get_object();
    const auto* file = h.if_contains("file");
    const auto* sha = h.if_contains("sha256");
    if (!file || !file->is_string() || file->get_string() != "hnsw_index.bin" || !sha || !sha->is_string())
      return bad("\"hnsw_index\" is not {\"file\": \"hnsw_index.bin\", \"sha256\": ...}");
    const std::filesystem::path index_path = directory / "hnsw_index.bin";
    auto bytes = detail::read_regular_file(index_path, detail::kMaxSavedFileBytes);
    if (!bytes) return std::move(bytes).error();
    if (sha->get_string() != detail::sha256_hex(*bytes))
      return Error(Errc::parse_error, index_path.string() + ": its checksum differs from config.json's (damaged, or "
                                                            "replaced without config.json)");
    auto index = detail::load_hnsw(index_path, *bytes, s->vectors);
    if (!index) return std::move(index).error();
    s->index = std::move(index).value();
    if (const auto* m = h.if_contains("M"); m && m->is_int64()) s->options.M = static_cast<std::size_t>(m->get_int64());
    if (const auto* ef = h.if_contains("ef_search"); ef && ef->is_int64() && ef->get_int64() > 0)
      s->options.ef_search = static_cast<std::size_t>(ef->get_int64());
    detail_embeddings::set_ef(*s->index, s->options);
  } else if (hnsw && !hnsw->is_null()) {
    return bad("\"hnsw_index\" is neither an object nor null");
  } else if (s->corpus.size() >= s->options.brute_force_threshold) {
    // A directory DSPy saved (its FAISS index is not readable here), or one saved without a graph.
    try {
      s->index = detail::build_hnsw(s->vectors, s->options);
    } catch (const std::exception& e) {
      return Error(Errc::config, std::string("Embeddings: cannot build the index: ") + e.what());
    }
    detail_embeddings::set_ef(*s->index, s->options);
  }
  return Embeddings(std::move(s));
}

DSPY_DECL const std::vector<std::string>& Embeddings::corpus() const noexcept { return state_->corpus; }
DSPY_DECL const EmbeddingMatrix& Embeddings::embeddings() const noexcept { return state_->vectors; }
DSPY_DECL const EmbeddingsOptions& Embeddings::options() const noexcept { return state_->options; }
DSPY_DECL const Embedder& Embeddings::embedder() const noexcept { return state_->embedder; }
DSPY_DECL bool Embeddings::indexed() const noexcept { return state_->index != nullptr; }

}  // namespace retrievers
}  // namespace dspy
