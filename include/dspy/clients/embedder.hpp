// dspy::Embedder: embeddings of texts, from an OpenAI-compatible POST /v1/embeddings (OpenAI,
// Ollama, vLLM, Together, Mistral, ... or the demo server) over the LM's curl client, or from a
// function of the program's own. Batched (batch_size), cached per batch (caching), with the
// LM's retries, timeouts, byte limits, usage tracking and key redaction (DSPy's dspy.Embedder).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include "../detail/config.hpp"
#include "../detail/http/backoff.hpp"
#include "../primitives/error.hpp"
#include "cache.hpp"

namespace dspy {

namespace asio = boost::asio;

/// Vectors of the same length, one row per text, stored row-major in one float array (DSPy's
/// 2-D float32 array).
class EmbeddingMatrix {
 public:
  EmbeddingMatrix() = default;

  /// `values` read as rows of `dimensions` floats; an error if they do not split evenly, or if
  /// `dimensions` is 0 while there are values.
  [[nodiscard]] DSPY_DECL static Result<EmbeddingMatrix> from_values(std::size_t dimensions, std::vector<float> values);
  /// The rows as one matrix; an error naming the first row whose length differs from the first's.
  [[nodiscard]] DSPY_DECL static Result<EmbeddingMatrix> from_rows(const std::vector<std::vector<float>>& rows);

  [[nodiscard]] std::size_t rows() const noexcept { return dimensions_ ? values_.size() / dimensions_ : 0; }
  [[nodiscard]] std::size_t dimensions() const noexcept { return dimensions_; }
  [[nodiscard]] bool empty() const noexcept { return values_.empty(); }
  /// Row `i` (precondition: i < rows()).
  [[nodiscard]] std::span<const float> row(std::size_t i) const noexcept {
    return {values_.data() + i * dimensions_, dimensions_};
  }
  [[nodiscard]] std::span<float> row(std::size_t i) noexcept { return {values_.data() + i * dimensions_, dimensions_}; }
  /// All rows, one after another.
  [[nodiscard]] const std::vector<float>& values() const noexcept { return values_; }

  /// Appends `other`'s rows; an error if their lengths differ from this matrix's.
  DSPY_DECL Result<void> append(const EmbeddingMatrix& other);

  /// Scales every row to unit length (a zero row stays zero), as DSPy's retriever does.
  DSPY_DECL void normalize() noexcept;

  friend bool operator==(const EmbeddingMatrix&, const EmbeddingMatrix&) = default;

 private:
  std::size_t dimensions_ = 0;
  std::vector<float> values_;
};

/// A function that embeds a batch of texts: one vector per text, in order, all of one length.
using EmbeddingFunction = std::function<std::vector<std::vector<float>>(const std::vector<std::string>&)>;

/// An Embedder's settings.
struct EmbedderConfig {
  std::size_t batch_size = 200;  ///< texts per request (DSPy's default)
  /// Answer repeated batches from the cache (memory LRU + disk, as the LM's). A function's
  /// embeddings are never cached: the function has no name to key them by.
  bool caching = true;
  std::optional<int> dimensions{};  ///< the `dimensions` request field; replies must then have this length
  boost::json::object extra_body{};  ///< more request-body fields ("user", "encoding_format", ...)
  std::string api_base{};            ///< empty: the provider's *_API_BASE variable, then its default
  std::optional<std::string> api_key{};  ///< unset: the provider's *_API_KEY variable
  std::vector<std::pair<std::string, std::string>> headers{};  ///< extra headers; replace defaults of the same name
  int num_retries = 3;  ///< retries after the first attempt, on 408/409/429/5xx and network errors
  std::chrono::milliseconds timeout{600'000};  ///< per attempt, connect included
  detail::Backoff backoff{};                   ///< waits between retries
  bool verify_tls = true;                      ///< as LMConfig::verify_tls
  std::string ca_bundle{};                     ///< as LMConfig::ca_bundle
  std::shared_ptr<Cache> cache_store{};        ///< null: dspy::default_cache() at call time
  std::size_t max_response_bytes = 64U << 20;  ///< a longer reply fails with Errc::bad_response, not retried
};

/// Per-call overrides of an Embedder's settings (DSPy's call arguments).
struct EmbedOptions {
  std::optional<std::size_t> batch_size{};
  std::optional<bool> caching{};
  boost::json::object extra{};  ///< merged over EmbedderConfig::extra_body
};

/// DSPy's dspy.Embedder. A batch of N texts gives N vectors in order, or a typed error: a reply
/// with another count, mixed or unexpected lengths, or numbers a float cannot hold is
/// Errc::bad_response. The batches of a call go one after another, as in DSPy. Copies share
/// their settings; an Embedder may be used from any number of threads and coroutines at once.
class Embedder {
 public:
  /// A hosted model in DSPy/LiteLLM form: "openai/text-embedding-3-small", "ollama/nomic-embed-text",
  /// "hosted_vllm/...", or any prefix with an `api_base` of an OpenAI-compatible server.
  DSPY_DECL explicit Embedder(std::string model, EmbedderConfig config = {});
  /// A function of the program's own (a local model): called once per batch.
  DSPY_DECL explicit Embedder(EmbeddingFunction function, EmbedderConfig config = {});

  /// The embeddings of `texts`, blocking the calling thread.
  DSPY_DECL Result<EmbeddingMatrix> operator()(std::vector<std::string> texts, EmbedOptions options = {}) const;

  /// The embeddings of `texts` on the current executor (an io_context's). Usage goes to the
  /// track_usage() scopes open when the call starts; a cached batch counts nothing.
  DSPY_DECL asio::awaitable<Result<EmbeddingMatrix>> acall(std::vector<std::string> texts,
                                                           EmbedOptions options = {}) const;

  /// The model name; "<function>" for a function.
  [[nodiscard]] DSPY_DECL const std::string& model() const noexcept;
  [[nodiscard]] DSPY_DECL const EmbedderConfig& config() const noexcept;
  /// The endpoint requests go to; empty for a function or when misconfigured (calls then fail
  /// with Errc::config).
  [[nodiscard]] DSPY_DECL const std::string& url() const noexcept;

  struct State;  // the settings, resolved once

 private:
  std::shared_ptr<const State> state_;
};

}  // namespace dspy

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "embedder_impl.hpp"
#endif
