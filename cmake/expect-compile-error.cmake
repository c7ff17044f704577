# cmake -DEXPECT_ERROR=<regex> -P expect-compile-error.cmake -- <compiler> <args>...
# Passes when the compiler fails and its output matches EXPECT_ERROR (a CMake regex).

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
if(NOT command OR NOT DEFINED EXPECT_ERROR)
  message(FATAL_ERROR "usage: cmake -DEXPECT_ERROR=<regex> -P ${CMAKE_CURRENT_LIST_FILE} -- <compiler> <args>...")
endif()

execute_process(COMMAND ${command} RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)

# Plain message() keeps the compiler's output unwrapped.
list(JOIN command " " command_line)
if(result EQUAL 0)
  message("${command_line}\n${output}")
  message(FATAL_ERROR "Compiled, but an error matching '${EXPECT_ERROR}' was expected.")
endif()
if(NOT output MATCHES "${EXPECT_ERROR}")
  message("${command_line}\n${output}")
  message(FATAL_ERROR "Failed (${result}), but no diagnostic matched '${EXPECT_ERROR}'.")
endif()
message(STATUS "Failed as expected, matching '${EXPECT_ERROR}'.")
