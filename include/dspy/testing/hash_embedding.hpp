// dspy::testing::hash_embedding: a deterministic text embedding with no model, for offline
// examples and tests (the demo server's /v1/embeddings serves it). The hashing trick: a text's
// words (less common English stopwords), word pairs and the letter trigrams of its words are
// hashed into a fixed number of dimensions with a hashed sign, and the vector is scaled to unit
// length. Texts that share words or word stems are close; nothing more is understood.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "../clients/embedder.hpp"
#include "../detail/config.hpp"

namespace dspy::testing {

/// The embedding of `text` in `dimensions` floats (0 < dimensions), of unit length unless the
/// text has no words (then all zeros). The same on every platform. Below about 1024 dimensions,
/// hash collisions start to reorder near neighbours of short texts.
[[nodiscard]] DSPY_DECL std::vector<float> hash_embedding(std::string_view text, std::size_t dimensions = 1024);

/// hash_embedding as an Embedder's function: `dspy::Embedder(dspy::testing::hash_embedder(384))`.
[[nodiscard]] inline EmbeddingFunction hash_embedder(std::size_t dimensions = 1024) {
  return [dimensions](const std::vector<std::string>& texts) {
    std::vector<std::vector<float>> out;
    out.reserve(texts.size());
    for (const auto& t : texts) out.push_back(hash_embedding(t, dimensions));
    return out;
  };
}

}  // namespace dspy::testing

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "hash_embedding_impl.hpp"
#endif
