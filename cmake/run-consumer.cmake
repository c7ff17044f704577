# cmake -DMODE=<find_package|add_subdirectory> -DCONSUMER_SOURCE_DIR=... -DWORK_DIR=...
#       -DDSPY_SOURCE_DIR=... -DDSPY_BINARY_DIR=... -DGENERATOR=... -DCXX_COMPILER=...
#       [-DCXX_FLAGS=...] [-DBUILD_TYPE=...] -P run-consumer.cmake
# Configures, builds and runs tests/consumer, with dspy either installed from
# DSPY_BINARY_DIR into a fresh prefix or added from DSPY_SOURCE_DIR.

foreach(var IN ITEMS MODE CONSUMER_SOURCE_DIR WORK_DIR DSPY_SOURCE_DIR DSPY_BINARY_DIR GENERATOR CXX_COMPILER)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "${var} is not set")
  endif()
endforeach()

function(run)
  list(JOIN ARGV " " command_line)
  message(STATUS "Running: ${command_line}")
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "Failed (${result}): ${command_line}")
  endif()
endfunction()

# Start clean so a stale cache or prefix cannot hide a broken package.
file(REMOVE_RECURSE "${WORK_DIR}")

set(prefix "${WORK_DIR}/prefix")
set(build_dir "${WORK_DIR}/build")

set(configure_args "-DDSPY_CONSUMER_MODE=${MODE}")
if(MODE STREQUAL "find_package")
  run("${CMAKE_COMMAND}" --install "${DSPY_BINARY_DIR}" --prefix "${prefix}")
  list(APPEND configure_args "-DCMAKE_PREFIX_PATH=${prefix}")
elseif(MODE STREQUAL "add_subdirectory")
  list(APPEND configure_args "-DDSPY_SOURCE_DIR=${DSPY_SOURCE_DIR}")
else()
  message(FATAL_ERROR "Unknown MODE '${MODE}'")
endif()

run(
  "${CMAKE_COMMAND}" -S "${CONSUMER_SOURCE_DIR}" -B "${build_dir}" -G "${GENERATOR}"
  "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
  "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}"
  "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}"
  ${configure_args}
)
# The installed package brings the compiled part already built; as a subdirectory it would be
# compiled again, which the dspy-cpp build itself already shows works: only the header-only target.
if(MODE STREQUAL "find_package")
  set(programs dspy_consumer dspy_consumer_compiled)
else()
  set(programs dspy_consumer)
endif()
run("${CMAKE_COMMAND}" --build "${build_dir}" --target ${programs})
foreach(program IN LISTS programs)
  run("${build_dir}/${program}")
endforeach()
