// dspy-cpp: DSPy's programming model in C++20. This header includes every public header.
#pragma once

#include "adapter.hpp"
#include "chain_of_thought.hpp"
#include "demo.hpp"
#include "error.hpp"
#include "literal.hpp"
#include "lm.hpp"
#include "message.hpp"
#include "module.hpp"
#include "predict.hpp"
#include "predicted.hpp"
#include "predictor.hpp"
#include "settings.hpp"
#include "signature.hpp"
#include "state.hpp"
#include "testing.hpp"
#include "types.hpp"
