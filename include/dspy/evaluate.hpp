// Evaluation: datasets, metrics, dspy::evaluate and dspy::benchmark (reports, comparisons), on top
// of the core.
#pragma once

#include "dspy.hpp"
#include "evaluate/benchmark.hpp"
#include "evaluate/compare.hpp"
#include "evaluate/dataset.hpp"
#include "evaluate/evaluate.hpp"
#include "evaluate/metrics.hpp"
#include "evaluate/report_render.hpp"
