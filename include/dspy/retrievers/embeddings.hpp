// dspy::retrievers::Embeddings: the top-k passages of a corpus for a query, by the similarity of
// their embeddings (DSPy's dspy.retrievers.Embeddings). Below brute_force_threshold passages,
// every passage is scored (a dot product over one contiguous float matrix); from it on, an HNSW
// graph (hnswlib) proposes 10 * k candidates that are then scored exactly, as DSPy re-ranks
// its FAISS candidates. Saved as a directory DSPy can read (config.json and
// corpus_embeddings.npy), plus the graph.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "../clients/embedder.hpp"
#include "../detail/config.hpp"
#include "../primitives/error.hpp"

namespace dspy {

namespace detail {
struct HnswIndex;  // embeddings_impl.hpp: hnswlib stays out of this header
}  // namespace detail

namespace retrievers {

/// Embeddings' settings: DSPy's names and defaults, then the HNSW graph's (hnswlib's names).
struct EmbeddingsOptions {
  std::size_t k = 5;  ///< passages per query
  /// Corpora of at least this many passages get the approximate index; smaller ones are
  /// searched exhaustively (exact).
  std::size_t brute_force_threshold = 20'000;
  bool normalize = true;  ///< scale the corpus's and queries' vectors to unit length (cosine similarity)
  std::size_t M = 16;                 ///< graph links per node (hnswlib's M)
  std::size_t ef_construction = 200;  ///< candidates kept while building
  /// Candidates a search explores; at least 10 * k (DSPy's candidate count). Higher: better
  /// recall, slower queries.
  std::size_t ef_search = 100;
  std::size_t build_threads = 1;  ///< threads adding vectors to the graph (0: every core); 1 is reproducible
  std::uint64_t seed = 100;       ///< the graph's level draws
};

/// The top passages for one query, best first: the passages, their positions in the corpus, and
/// their scores (dot products of the possibly normalized vectors). DSPy's Prediction(passages,
/// indices) and EmbeddingsWithScores' scores.
struct Retrieved {
  std::vector<std::string> passages{};
  std::vector<std::size_t> indices{};
  std::vector<float> scores{};
};

/// Immutable once built, and cheap to copy (copies share the corpus, vectors and index), so a
/// module holding one copies well; searches may run on any number of threads at once.
class Embeddings {
 public:
  /// Embeds `corpus` with `embedder` (blocking) and indexes it.
  [[nodiscard]] DSPY_DECL static Result<Embeddings> build(std::vector<std::string> corpus, Embedder embedder,
                                                         EmbeddingsOptions options = {});
  /// build on the current executor.
  [[nodiscard]] DSPY_DECL static asio::awaitable<Result<Embeddings>> abuild(std::vector<std::string> corpus,
                                                                           Embedder embedder,
                                                                           EmbeddingsOptions options = {});
  /// Indexes vectors computed elsewhere: row i of `embeddings` is passage i's.
  [[nodiscard]] DSPY_DECL static Result<Embeddings> from_embeddings(std::vector<std::string> corpus,
                                                                   EmbeddingMatrix embeddings, Embedder embedder,
                                                                   EmbeddingsOptions options = {});

  /// The k passages most similar to `query` (embedded with the embedder), blocking.
  DSPY_DECL Result<Retrieved> operator()(std::string query) const;
  /// The same on the current executor.
  DSPY_DECL asio::awaitable<Result<Retrieved>> acall(std::string query) const;

  /// The `k` (default: options().k) passages nearest to a query vector of dimensions() floats,
  /// normalized here when options().normalize is set.
  DSPY_DECL Result<Retrieved> search(std::span<const float> query, std::optional<std::size_t> k = {}) const;
  /// search by scoring every passage, whatever the corpus's size: the reference for the index.
  DSPY_DECL Result<Retrieved> search_exact(std::span<const float> query, std::optional<std::size_t> k = {}) const;

  /// Writes `directory` (created if missing): config.json (DSPy's fields, the corpus, and
  /// checksums), corpus_embeddings.npy (float32, as numpy saves it) and, when indexed,
  /// hnsw_index.bin. Each file is written whole or not at all, owner-only (0600).
  DSPY_DECL Result<void> save(const std::filesystem::path& directory) const;
  /// Reads what save() wrote (or a directory DSPy saved: its FAISS index is rebuilt as HNSW),
  /// checking every size, dimension and checksum first: a damaged, cut or mismatched file is a
  /// typed error naming the file. `options` gives the settings the files do not hold.
  [[nodiscard]] DSPY_DECL static Result<Embeddings> load(const std::filesystem::path& directory, Embedder embedder,
                                                        EmbeddingsOptions options = {});

  [[nodiscard]] DSPY_DECL const std::vector<std::string>& corpus() const noexcept;
  /// The corpus's vectors (normalized when options().normalize).
  [[nodiscard]] DSPY_DECL const EmbeddingMatrix& embeddings() const noexcept;
  [[nodiscard]] DSPY_DECL const EmbeddingsOptions& options() const noexcept;
  [[nodiscard]] DSPY_DECL const Embedder& embedder() const noexcept;
  [[nodiscard]] std::size_t size() const noexcept { return corpus().size(); }
  [[nodiscard]] std::size_t dimensions() const noexcept { return embeddings().dimensions(); }
  /// Whether searches go through the approximate index.
  [[nodiscard]] DSPY_DECL bool indexed() const noexcept;

  struct State;

 private:
  explicit Embeddings(std::shared_ptr<const State> state) : state_(std::move(state)) {}
  std::shared_ptr<const State> state_;
};

}  // namespace retrievers
}  // namespace dspy

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "embeddings_impl.hpp"
#endif
