// dspy::KNN: the k train examples whose inputs are nearest to an input's, by the dot product of
// their embeddings (DSPy's dspy.KNN). Inputs are embedded as DSPy writes them:
// "name: value | name: value", over the signature's input fields in order.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/json.hpp>

#include "../clients/embedder.hpp"
#include "../detail/vector.hpp"
#include "../primitives/error.hpp"
#include "../signatures/demo.hpp"
#include "../signatures/example.hpp"
#include "../signatures/signature.hpp"

namespace dspy {

namespace detail {

/// An input as KNN embeds it: "question: What is ... | context: ...". Text fields as they are,
/// other values as JSON.
template <class Input>
std::string knn_text(const Input& input) {
  std::string out;
  for (const auto& kv : fields_json(input)) {
    if (!out.empty()) out += " | ";
    out.append(kv.key()).append(": ");
    if (kv.value().is_string()) out.append(kv.value().get_string());
    else out += boost::json::serialize(kv.value());
  }
  return out;
}

}  // namespace detail

/// Holds the trainset and its inputs' vectors; cheap to copy (copies share them), and callable
/// from any number of threads at once.
template <Signature Sig>
class KNN {
 public:
  using Input = typename Sig::Input;

  /// Embeds the trainset's inputs with `vectorizer` (blocking). DSPy's KNN(k, trainset, vectorizer).
  [[nodiscard]] static Result<KNN> build(std::size_t k, std::vector<Example<Sig>> trainset, Embedder vectorizer) {
    if (k == 0) return Error(Errc::config, "KNN: k must be at least 1");
    std::vector<std::string> texts;
    texts.reserve(trainset.size());
    for (const auto& e : trainset) texts.push_back(detail::knn_text(e.input));
    auto vectors = vectorizer(std::move(texts));
    if (!vectors) return Error(vectors.error().code(), "KNN: embedding the trainset: " + vectors.error().message(),
                               vectors.error().raw_response());
    auto state = std::make_shared<State>(State{k, std::move(trainset), std::move(vectorizer), std::move(vectors).value()});
    return KNN(std::move(state));
  }

  /// The k train examples nearest to `input`, nearest first (blocking).
  Result<std::vector<Example<Sig>>> operator()(const Input& input) const {
    auto v = state_->vectorizer({detail::knn_text(input)});
    if (!v) return std::move(v).error();
    return nearest(*v);
  }

  /// The same on the current executor.
  asio::awaitable<Result<std::vector<Example<Sig>>>> acall(Input input) const {
    return find(state_, std::move(input));
  }

  [[nodiscard]] std::size_t k() const noexcept { return state_->k; }
  [[nodiscard]] const std::vector<Example<Sig>>& trainset() const noexcept { return state_->trainset; }

 private:
  struct State {
    std::size_t k;
    std::vector<Example<Sig>> trainset;
    Embedder vectorizer;
    EmbeddingMatrix vectors;
  };
  explicit KNN(std::shared_ptr<const State> state) : state_(std::move(state)) {}

  static asio::awaitable<Result<std::vector<Example<Sig>>>> find(std::shared_ptr<const State> state, Input input) {
    auto pending = state->vectorizer.acall({detail::knn_text(input)});  // not inside co_await: GCC 12 PR 100611
    Result<EmbeddingMatrix> v = co_await std::move(pending);
    if (!v) co_return std::move(v).error();
    co_return nearest(*state, *v);
  }

  Result<std::vector<Example<Sig>>> nearest(const EmbeddingMatrix& query) const { return nearest(*state_, query); }

  // DSPy: scores = trainset_vectors . query; the k highest, highest first (ties: the earlier example).
  static Result<std::vector<Example<Sig>>> nearest(const State& s, const EmbeddingMatrix& query) {
    std::vector<Example<Sig>> out;
    if (s.trainset.empty()) return out;
    if (query.rows() != 1 || query.dimensions() != s.vectors.dimensions())
      return Error(Errc::bad_response, "KNN: the input's vector has " + std::to_string(query.dimensions()) +
                                           " dimensions; the trainset's have " + std::to_string(s.vectors.dimensions()));
    std::vector<detail::Scored> scored(s.trainset.size());
    for (std::size_t i = 0; i < scored.size(); ++i)
      scored[i] = {detail::dot(query.row(0).data(), s.vectors.row(i).data(), query.dimensions()), i};
    for (const auto& [score, i] : detail::best(std::move(scored), s.k)) out.push_back(s.trainset[i]);
    return out;
  }

  std::shared_ptr<const State> state_;
};

}  // namespace dspy
