# Targets only the project's own developers need: tests, examples and benchmarks.

# Plain -std=c++20, the same flag the compile-fail tests pass by hand.
set(CMAKE_CXX_EXTENSIONS OFF)
# Keeps every program at the top of the build tree (build/<preset>/quickstart).
set(CMAKE_RUNTIME_OUTPUT_DIRECTORY "${PROJECT_BINARY_DIR}")

# Warning flags for our own programs only; consumers of dspy::dspy never see them.
add_library(dspy_warnings INTERFACE)
target_compile_options(
  dspy_warnings
  INTERFACE -Wall -Wextra -Wpedantic "$<$<BOOL:${DSPY_WARNINGS_AS_ERRORS}>:-Werror>"
)

# Everything scripts/demo runs: the examples and the benchmarks, but not the tests.
add_custom_target(dspy_demo_programs)

option(DSPY_FUZZ "Build the libFuzzer programs of tests/fuzz (Clang)" OFF)

include(CTest)
if(BUILD_TESTING)
  add_subdirectory(tests)
endif()

add_subdirectory(examples)
add_subdirectory(benchmarks)
