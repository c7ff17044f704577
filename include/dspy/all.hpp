// Every public header of dspy-cpp.
#pragma once

#include "dspy.hpp"
#include "evaluate.hpp"
#include "teleprompt.hpp"
#include "testing.hpp"
