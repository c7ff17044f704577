// dspy-cpp: DSPy's programming model in C++20. The core: signatures, adapters, LMs, predictors,
// modules, settings and callbacks. <dspy/evaluate.hpp>, <dspy/teleprompt.hpp> and
// <dspy/testing.hpp> add evaluation, optimizers and test doubles; <dspy/all.hpp> has everything.
#pragma once

// What a user needs to describe enums and modules (BOOST_DESCRIBE_ENUM, BOOST_DESCRIBE_STRUCT).
#include <boost/describe/class.hpp>
#include <boost/describe/enum.hpp>

#include "primitives/callback.hpp"
#include "primitives/error.hpp"
#include "primitives/literal.hpp"
#include "primitives/message.hpp"
#include "primitives/module.hpp"
#include "primitives/otlp.hpp"
#include "primitives/prediction.hpp"
#include "primitives/predictor.hpp"
#include "primitives/settings.hpp"
#include "primitives/state.hpp"
#include "primitives/text.hpp"

#include "signatures/demo.hpp"
#include "signatures/example.hpp"
#include "signatures/field_types.hpp"
#include "signatures/signature.hpp"

#include "adapters/adapter.hpp"
#include "adapters/streaming.hpp"
#include "adapters/types/audio.hpp"
#include "adapters/types/citations.hpp"
#include "adapters/types/code.hpp"
#include "adapters/types/document.hpp"
#include "adapters/types/file.hpp"
#include "adapters/types/history.hpp"
#include "adapters/types/image.hpp"
#include "adapters/types/reasoning.hpp"

#include "clients/base_lm.hpp"
#include "clients/cache.hpp"
#include "clients/history.hpp"
#include "clients/lm.hpp"
#include "clients/usage.hpp"

#include "predict/aggregation.hpp"
#include "predict/best_of_n.hpp"
#include "predict/chain.hpp"
#include "predict/chain_of_thought.hpp"
#include "predict/module_call.hpp"
#include "predict/multi_chain_comparison.hpp"
#include "predict/parallel.hpp"
#include "predict/predict.hpp"
#include "predict/react.hpp"
#include "predict/react_v2.hpp"
#include "predict/refine.hpp"
#include "adapters/types/tool.hpp"
