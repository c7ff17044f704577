# Makes `find_package(dspy-cpp CONFIG)` work against an installed tree.

include(CMakePackageConfigHelpers)

# In lib/: the optional compiled part is architecture-specific.
set(
  DSPY_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/${PROJECT_NAME}"
  CACHE PATH "CMake package config location relative to the install prefix"
)
mark_as_advanced(DSPY_INSTALL_CMAKEDIR)

install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/" DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
# A small table of list prices by model (dspy::PriceTable::load reads it), as data, not code.
install(FILES "${PROJECT_SOURCE_DIR}/examples/data/prices.json" DESTINATION "${CMAKE_INSTALL_DATADIR}/${PROJECT_NAME}")

set(dspy_install_targets dspy)
if(TARGET dspy_compiled)
  list(APPEND dspy_install_targets dspy_compiled)
endif()
install(TARGETS ${dspy_install_targets} EXPORT "${PROJECT_NAME}Targets")
install(
  EXPORT "${PROJECT_NAME}Targets"
  NAMESPACE dspy::
  DESTINATION "${DSPY_INSTALL_CMAKEDIR}"
)

configure_package_config_file(
  "${PROJECT_SOURCE_DIR}/cmake/install-config.cmake.in"
  "${PROJECT_BINARY_DIR}/${PROJECT_NAME}Config.cmake"
  INSTALL_DESTINATION "${DSPY_INSTALL_CMAKEDIR}"
)
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/${PROJECT_NAME}ConfigVersion.cmake"
  COMPATIBILITY SameMajorVersion
)
install(
  FILES
    "${PROJECT_BINARY_DIR}/${PROJECT_NAME}Config.cmake"
    "${PROJECT_BINARY_DIR}/${PROJECT_NAME}ConfigVersion.cmake"
  DESTINATION "${DSPY_INSTALL_CMAKEDIR}"
)
