// Test doubles: ScriptedLM, RoutedLM, SimulatedLM, the demo server and a hashing embedding, for offline tests and demos.
#pragma once

#include "dspy.hpp"
#include "testing/demo_server.hpp"
#include "testing/hash_embedding.hpp"
#include "testing/routed_lm.hpp"
#include "testing/scripted_lm.hpp"
#include "testing/simulated_lm.hpp"
