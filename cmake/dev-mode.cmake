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

# The compiler as the build runs it on a file that uses dspy::dspy, stopped after the checks
# (-fsyntax-only): the compile-fail tests and the compile checks of the demo programs run it. In
# the compiled part's mode (DSPY_SEPARATE_COMPILATION), so that each check parses the library's
# declarations and templates, not the non-template bodies that the unit tests' build compiles.
string(TOUPPER "${CMAKE_BUILD_TYPE}" build_type)
separate_arguments(cxx_flags UNIX_COMMAND "${CMAKE_CXX_FLAGS} ${CMAKE_CXX_FLAGS_${build_type}}")

# dspy::dspy's usage requirements, with its dependencies', as the build applies them: the
# compiler's implicit include directories are left out (-I/usr/include can break
# #include_next), and -D is only emitted when there are definitions.
set(implicit_dirs "")
foreach(dir IN LISTS CMAKE_CXX_IMPLICIT_INCLUDE_DIRECTORIES)
  string(REGEX REPLACE "([][.*+?^$()|\\])" "\\\\\\1" dir "${dir}")
  list(APPEND implicit_dirs "${dir}")
endforeach()
list(JOIN implicit_dirs "|" implicit_dirs)
set(include_dirs "$<REMOVE_DUPLICATES:$<TARGET_PROPERTY:dspy::dspy,INTERFACE_INCLUDE_DIRECTORIES>>")
set(include_dirs "$<FILTER:${include_dirs},EXCLUDE,^(${implicit_dirs})$>")
set(definitions "$<REMOVE_DUPLICATES:$<TARGET_PROPERTY:dspy::dspy,INTERFACE_COMPILE_DEFINITIONS>>")

set(
  syntax_check
  "${CMAKE_CXX_COMPILER}" ${cxx_flags} "${CMAKE_CXX20_STANDARD_COMPILE_OPTION}"
  "$<TARGET_PROPERTY:dspy::dspy,INTERFACE_COMPILE_OPTIONS>"
  "$<TARGET_PROPERTY:dspy_warnings,INTERFACE_COMPILE_OPTIONS>"
  "$<$<BOOL:${definitions}>:-D$<JOIN:${definitions},$<SEMICOLON>-D>>"
  "-I$<JOIN:${include_dirs},$<SEMICOLON>-I>"
  -DDSPY_SEPARATE_COMPILATION
  -fsyntax-only
)

# Everything scripts/demo runs: the examples and the benchmarks, but not the tests.
add_custom_target(dspy_demo_programs)

# The sanitizer preset only compile-checks the examples and benchmarks: the demo builds and
# runs them, and code generation under the sanitizers is most of a test run's time.
option(DSPY_BUILD_DEMO_PROGRAMS "Build the examples and benchmarks (else a test compile-checks each)" ON)

# dspy_add_program(<name> <source> [NOT_IN_DEMO] [DEFINITIONS <def>...] [LIBRARIES <target>...]):
# the program <name>, part of dspy_demo_programs unless NOT_IN_DEMO, or, with
# DSPY_BUILD_DEMO_PROGRAMS off, the test programs.compile.<name>.
function(dspy_add_program name source)
  cmake_parse_arguments(PARSE_ARGV 2 arg "NOT_IN_DEMO" "" "DEFINITIONS;LIBRARIES")
  if(DSPY_BUILD_DEMO_PROGRAMS OR (name STREQUAL "demo_server" AND BUILD_TESTING))
    add_executable(${name} "${source}")
    target_link_libraries(${name} PRIVATE dspy_warnings ${arg_LIBRARIES})
    target_compile_definitions(${name} PRIVATE ${arg_DEFINITIONS})
    if(NOT arg_NOT_IN_DEMO)
      add_dependencies(dspy_demo_programs ${name})
    endif()
  elseif(BUILD_TESTING)
    list(TRANSFORM arg_DEFINITIONS PREPEND "-D")
    add_test(NAME "programs.compile.${name}" COMMAND ${syntax_check} ${arg_DEFINITIONS} "${source}" COMMAND_EXPAND_LISTS)
    set_tests_properties("programs.compile.${name}" PROPERTIES LABELS programs)
  endif()
endfunction()

option(DSPY_FUZZ "Build the libFuzzer programs of tests/fuzz (Clang)" OFF)

include(CTest)
if(BUILD_TESTING)
  add_subdirectory(tests)
endif()

add_subdirectory(examples)
add_subdirectory(benchmarks)
