// The bodies of hash_embedding.hpp: header-only, hash_embedding.hpp includes them; with
// DSPY_SEPARATE_COMPILATION, <dspy/src.hpp> compiles them once.
#pragma once

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "../detail/random.hpp"
#include "hash_embedding.hpp"

namespace dspy::testing {

namespace detail_hash {

// Words that say little about what a text is about.
inline bool stopword(std::string_view w) {
  static constexpr std::string_view words[] = {
      "a",    "an",   "and",  "are",  "as",   "at",   "be",    "by",   "did",  "do",   "does",  "for",
      "from", "had",  "has",  "have", "how",  "in",   "is",    "it",   "its",  "of",   "on",    "or",
      "that", "the",  "this", "to",   "was",  "were", "what",  "when", "where", "which", "who", "whom",
      "why",  "will", "with", "you",  "your", "i",    "me",    "my",   "we",   "our",  "they",  "their"};
  return std::find(std::begin(words), std::end(words), w) != std::end(words);
}

}  // namespace detail_hash

DSPY_DECL std::vector<float> hash_embedding(std::string_view text, std::size_t dimensions) {
  std::vector<float> out(dimensions, 0.0F);
  if (dimensions == 0) return out;
  std::vector<std::string> words;
  std::string word;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    const auto c = i < text.size() ? static_cast<unsigned char>(text[i]) : ' ';
    if (std::isalnum(c) || c >= 0x80) {
      word += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    } else if (!word.empty()) {
      if (!detail_hash::stopword(word)) words.push_back(word);
      word.clear();
    }
  }
  const auto add = [&](std::string_view feature, std::uint64_t kind, float weight) {
    const std::uint64_t h = dspy::detail::text_hash(feature, kind);
    out[h % dimensions] += (h >> 63) != 0 ? -weight : weight;
  };
  for (std::size_t i = 0; i < words.size(); ++i) {
    add(words[i], 1, 1.0F);
    if (i + 1 < words.size()) add(words[i] + ' ' + words[i + 1], 2, 0.5F);
    // Letter trigrams of "^word$", together worth about a word: "capital" meets "capitals".
    const std::string marked = "^" + words[i] + "$";
    const std::size_t grams = marked.size() - 2;
    const float each = 1.0F / std::sqrt(static_cast<float>(grams));
    for (std::size_t k = 0; k + 3 <= marked.size(); ++k) add(std::string_view(marked).substr(k, 3), 3, each);
  }
  float sum = 0;
  for (const float x : out) sum += x * x;
  if (sum > 0) {
    const float scale = 1.0F / std::sqrt(sum);
    for (float& x : out) x *= scale;
  }
  return out;
}

}  // namespace dspy::testing
