// dspy::LabeledFewShot: the simplest optimizer, which gives every predictor up to k labeled
// examples of the trainset as demos (DSPy's teleprompt.LabeledFewShot).
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "../evaluate/dataset.hpp"
#include "../signatures/demo.hpp"
#include "../signatures/example.hpp"
#include "../primitives/module.hpp"

namespace dspy {

namespace detail {

// random.sample(range(n), k) in spirit: k distinct indices in random order (a partial
// Fisher-Yates over uniform_below, so the same on every platform).
inline std::vector<std::size_t> sample_indices(std::mt19937_64& rng, std::size_t n, std::size_t k) {
  std::vector<std::size_t> pool(n);
  for (std::size_t i = 0; i < n; ++i) pool[i] = i;
  k = std::min(k, n);
  for (std::size_t i = 0; i < k; ++i) {
    const auto j = i + static_cast<std::size_t>(uniform_below(rng, n - i));
    std::swap(pool[i], pool[j]);
  }
  pool.resize(k);
  return pool;
}

// An example of the program's signature as a demo of one of its predictors: as it is when the
// signatures agree, otherwise field by field by name (fields the predictor lacks are ignored,
// fields the example lacks are left out). nullopt when a same-named field has another type.
template <Signature PSig, Signature Sig>
std::optional<Demo<PSig>> demo_of(const Example<Sig>& example) {
  if constexpr (std::is_same_v<PSig, Sig>) {
    return example.demo();
  } else {
    auto d = demo_from_json<PSig>(example_to_json(example));
    if (!d) return std::nullopt;
    return std::move(*d);
  }
}

}  // namespace detail

/// `LabeledFewShot{.k = 8}.compile(program, trainset)` returns a copy of the program whose every
/// predictor has up to k demos from the trainset: a sample drawn with `seed` (DSPy:
/// Random(0).sample), or the first k when `sample` is false. The program itself is unchanged.
struct LabeledFewShot {
  std::size_t k = 16;
  bool sample = true;
  std::uint64_t seed = 0;

  template <class M, Signature Sig>
  [[nodiscard]] M compile(const M& program, const std::vector<Example<Sig>>& trainset) const {
    M out = program;
    std::vector<std::size_t> chosen;
    if (sample) {
      std::mt19937_64 rng(seed);
      chosen = detail::sample_indices(rng, trainset.size(), k);
    } else {
      for (std::size_t i = 0; i < std::min(k, trainset.size()); ++i) chosen.push_back(i);
    }
    for_each_predictor(out, [&](const std::string&, auto& p) {
      using PSig = typename std::remove_cvref_t<decltype(p)>::signature_type;
      p.demos.clear();
      for (const std::size_t i : chosen)
        if (auto d = detail::demo_of<PSig>(trainset[i])) p.demos.push_back(std::move(*d));
    });
    return out;
  }
};

}  // namespace dspy
