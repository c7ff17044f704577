// The bodies of prediction.hpp: header-only, prediction.hpp includes them; with
// DSPY_SEPARATE_COMPILATION, <dspy/src.hpp> compiles them once.
#pragma once

#include <utility>

#include "prediction.hpp"

namespace dspy::detail {

DSPY_DECL PredictedBase::PredictedBase(PredictionParts&& parts)
    : raw_(std::move(parts.raw)),
      usage_(parts.meta.usage),
      model_(std::move(parts.meta.model)),
      latency_(parts.latency),
      notes_(std::move(parts.notes)),
      adapter_(parts.adapter),
      cache_hit_(parts.meta.cache_hit),
      lm_usage_(std::move(parts.lm_usage)) {}

DSPY_DECL PredictedBase::~PredictedBase() = default;

}  // namespace dspy::detail
