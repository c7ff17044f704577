// The optimizers (DSPy's teleprompters), on top of the core and evaluation.
#pragma once

#include "dspy.hpp"
#include "evaluate.hpp"
#include "teleprompt/bootstrap.hpp"
#include "teleprompt/copro.hpp"
#include "teleprompt/ensemble.hpp"
#include "teleprompt/gepa.hpp"
#include "teleprompt/knn_fewshot.hpp"
#include "teleprompt/labeled_few_shot.hpp"
#include "propose/grounded_proposer.hpp"
#include "teleprompt/mipro.hpp"
#include "teleprompt/random_search.hpp"
#include "teleprompt/simba.hpp"
#include "teleprompt/teleprompt.hpp"
