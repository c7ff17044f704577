// Every public header of dspy-cpp.
#pragma once

#include "dspy.hpp"
#include "benchmark.hpp"
#include "clients/embedder.hpp"  // retrieval: not every program embeds, so not in the core umbrella
#include "predict/knn.hpp"
#include "retrievers/embeddings.hpp"  // with hnswlib, which the core umbrella does without
#include "teleprompt.hpp"
#include "testing.hpp"
