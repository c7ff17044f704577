// dspy::benchmark (a program against a model matrix, with intervals, latency, tokens and cost),
// dspy::compare and the reports' renderings, on top of evaluation. Not in <dspy/evaluate.hpp>:
// most programs that evaluate never render a report, and the bodies cost every such file.
#pragma once

#include "evaluate.hpp"
#include "evaluate/benchmark.hpp"
#include "evaluate/compare.hpp"
#include "evaluate/report_render.hpp"
