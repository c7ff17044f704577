# cmake -DSOURCE=<file> -P expect-compile-error.cmake -- <compiler> <args>...
# Compiles SOURCE with the given command. Passes when the compiler fails and its output matches
# every "// expect-error: <CMake regex>" line of SOURCE; with a "// expect-single-error" line,
# the output must also hold exactly one error (one misuse, one diagnostic: no follow-on errors).

set(command "")
set(in_command FALSE)
math(EXPR last_arg "${CMAKE_ARGC} - 1")
foreach(i RANGE ${last_arg})
  if(in_command)
    list(APPEND command "${CMAKE_ARGV${i}}")
  elseif(CMAKE_ARGV${i} STREQUAL "--")
    set(in_command TRUE)
  endif()
endforeach()
if(NOT command OR NOT DEFINED SOURCE)
  message(FATAL_ERROR "usage: cmake -DSOURCE=<file> -P ${CMAKE_CURRENT_LIST_FILE} -- <compiler> <args>...")
endif()

file(STRINGS "${SOURCE}" expect_lines REGEX "^[ \t]*// expect-error: ")
if(NOT expect_lines)
  message(FATAL_ERROR "${SOURCE} has no '// expect-error: <regex>' line")
endif()
file(STRINGS "${SOURCE}" single_error REGEX "^[ \t]*// expect-single-error[ \t]*$")

execute_process(COMMAND ${command} "${SOURCE}" RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)

# Plain message() keeps the compiler's output unwrapped.
list(JOIN command " " command_line)
if(result EQUAL 0)
  message("${command_line} ${SOURCE}\n${output}")
  message(FATAL_ERROR "Compiled, but an error was expected.")
endif()
foreach(line IN LISTS expect_lines)
  string(REGEX REPLACE "^[ \t]*// expect-error: " "" expect_error "${line}")
  string(STRIP "${expect_error}" expect_error)
  if(NOT output MATCHES "${expect_error}")
    message("${command_line} ${SOURCE}\n${output}")
    message(FATAL_ERROR "Failed (${result}), but no diagnostic matched '${expect_error}'.")
  endif()
endforeach()
if(single_error)
  # GCC and Clang start each error with "<file>:<line>:<col>: error: "; notes and the
  # instantiation context are not errors.
  string(REGEX MATCHALL ":[0-9]+:[0-9]+: (fatal )?error: " errors "${output}")
  list(LENGTH errors error_count)
  if(NOT error_count EQUAL 1)
    message("${command_line} ${SOURCE}\n${output}")
    message(FATAL_ERROR "Failed with ${error_count} errors; one was expected (// expect-single-error).")
  endif()
endif()
message(STATUS "Failed as expected, matching every expect-error line.")
