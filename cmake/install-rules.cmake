# Makes `find_package(dspy-cpp CONFIG)` work against an installed tree.

include(CMakePackageConfigHelpers)

# Header-only with no architecture-specific files of its own, hence share/ rather than lib/.
set(
  DSPY_INSTALL_CMAKEDIR "${CMAKE_INSTALL_DATADIR}/${PROJECT_NAME}"
  CACHE PATH "CMake package config location relative to the install prefix"
)
mark_as_advanced(DSPY_INSTALL_CMAKEDIR)

install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/" DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")

install(TARGETS dspy EXPORT "${PROJECT_NAME}Targets")
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
  ARCH_INDEPENDENT
)
install(
  FILES
    "${PROJECT_BINARY_DIR}/${PROJECT_NAME}Config.cmake"
    "${PROJECT_BINARY_DIR}/${PROJECT_NAME}ConfigVersion.cmake"
  DESTINATION "${DSPY_INSTALL_CMAKEDIR}"
)
