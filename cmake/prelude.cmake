# Runs before project(): nothing here may depend on a compiler or language.

if(CMAKE_SOURCE_DIR STREQUAL CMAKE_BINARY_DIR)
  message(
    FATAL_ERROR
    "In-source builds are not supported. Use a preset (cmake --preset dev) or "
    "pass -B <build-dir>, and delete the CMakeCache.txt and CMakeFiles/ this "
    "attempt left in the source tree."
  )
endif()
