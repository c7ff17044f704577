// Predicted<O>: a typed prediction and what it cost.
#pragma once

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../detail/config.hpp"
#include "message.hpp"

namespace dspy {

/// Something the tolerant parser did to read a field (e.g. "removed a code fence").
struct ParseNote {
  std::string field;
  std::string note;
  friend bool operator==(const ParseNote&, const ParseNote&) = default;
};


namespace detail {

// A prediction but its outputs: what Predict's non-template core hands its typed shell.
struct PredictionParts {
  std::vector<std::string> raw;
  LMResponse meta;
  std::chrono::nanoseconds latency{};
  std::vector<ParseNote> notes;
  std::string_view adapter;
  std::optional<LMUsage> lm_usage{};  // with usage tracking on
};

// Everything of a Predicted<O> but its outputs. Not a template, so that every signature's
// prediction shares one constructor and destructor (compiled once with the compiled part).
class PredictedBase {
 public:
  [[nodiscard]] const Usage& usage() const noexcept { return usage_; }
  /// The LM's text for the first completion; raw_completions() has all of them.
  [[nodiscard]] const std::string& raw_completion() const noexcept { return raw_.front(); }
  [[nodiscard]] std::span<const std::string> raw_completions() const noexcept { return raw_; }
  [[nodiscard]] const std::string& model() const noexcept { return model_; }
  /// Wall time spent waiting for the LM (all calls, including an adapter fallback).
  [[nodiscard]] std::chrono::nanoseconds latency() const noexcept { return latency_; }
  [[nodiscard]] bool cache_hit() const noexcept { return cache_hit_; }
  /// What the tolerant parser did to read each field (empty when the reply was clean).
  [[nodiscard]] const std::vector<ParseNote>& parse_notes() const noexcept { return notes_; }
  /// The adapter that parsed the reply ("ChatAdapter", or "JSONAdapter" after a fallback).
  [[nodiscard]] std::string_view adapter() const noexcept { return adapter_; }
  /// DSPy's get_lm_usage(): with usage tracking on (Settings::track_usage), the tokens per model of
  /// every LM call made for this result (a cache hit spends none); nullopt when tracking is off.
  [[nodiscard]] const std::optional<LMUsage>& lm_usage() const noexcept { return lm_usage_; }
  void set_lm_usage(LMUsage usage) { lm_usage_ = std::move(usage); }

  DSPY_DECL explicit PredictedBase(PredictionParts&& parts);
  PredictedBase(const PredictedBase&) = default;
  PredictedBase(PredictedBase&&) noexcept = default;
  PredictedBase& operator=(const PredictedBase&) = default;
  PredictedBase& operator=(PredictedBase&&) noexcept = default;
  DSPY_DECL ~PredictedBase();

 private:
  std::vector<std::string> raw_;
  Usage usage_;
  std::string model_;
  std::chrono::nanoseconds latency_;
  std::vector<ParseNote> notes_;
  std::string_view adapter_;
  bool cache_hit_;
  std::optional<LMUsage> lm_usage_;
};

}  // namespace detail

template <class O>
class Predicted : public detail::PredictedBase {
 public:
  Predicted(std::vector<O> completions, std::vector<std::string> raw, LMResponse meta,
            std::chrono::nanoseconds latency, std::vector<ParseNote> notes, std::string_view adapter)
      : Predicted(std::move(completions), detail::PredictionParts{std::move(raw), std::move(meta), latency,
                                                                  std::move(notes), adapter}) {}
  // Predict's: the outputs and the rest of what its core returned.
  Predicted(std::vector<O> completions, detail::PredictionParts&& parts)
      : PredictedBase(std::move(parts)), completions_(std::move(completions)) {}

  O* operator->() noexcept { return &completions_.front(); }
  const O* operator->() const noexcept { return &completions_.front(); }
  O& operator*() noexcept { return completions_.front(); }
  const O& operator*() const noexcept { return completions_.front(); }
  /// The first completion's outputs.
  [[nodiscard]] const O& value() const noexcept { return completions_.front(); }
  [[nodiscard]] O& value() noexcept { return completions_.front(); }

  /// Every completion (n of them; the first is value()).
  [[nodiscard]] std::span<const O> completions() const noexcept { return completions_; }

 private:
  std::vector<O> completions_;
};

}  // namespace dspy

// The bodies; with the compiled part, only <dspy/src.hpp> includes them.
#if !defined(DSPY_SEPARATE_COMPILATION)
#include "prediction_impl.hpp"
#endif
