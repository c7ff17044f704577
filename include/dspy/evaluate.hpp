// Evaluation: datasets, metrics and dspy::evaluate, on top of the core. Benchmark reports and
// comparisons are in <dspy/benchmark.hpp>.
#pragma once

#include "dspy.hpp"
#include "evaluate/dataset.hpp"
#include "evaluate/evaluate.hpp"
#include "evaluate/metrics.hpp"
