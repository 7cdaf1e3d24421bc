# Installation: libraries (shared with version and soname, and static), headers, the
# `pop3` command and its manual page, a CMake package and a pkg-config file.
#
# The shared libpop3 holds the codec too, so a program that links it needs nothing else.
# The static libraries are two: libpop3.a (client) needs libpop3codec.a (the codec)
# after it. The codec is also a package target of its own, pop3kit::pop3codec, for
# programs (a server, a proxy) that want the wire format without the client.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS pop3_shared EXPORT pop3kitTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS pop3codec EXPORT pop3kitTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES $<TARGET_FILE:pop3> DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS pop3_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# Both header folders install into one include/pop3/, so `#include <pop3/wire.h>` is
# spelled the same in the tree and installed.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/codec/include/pop3 ${PROJECT_SOURCE_DIR}/client/include/pop3
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")
install(FILES ${PROJECT_SOURCE_DIR}/client/cli/pop3.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

install(EXPORT pop3kitTargets NAMESPACE pop3kit::
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/pop3kit)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/pop3kitConfig.cmake.in
  ${PROJECT_BINARY_DIR}/pop3kitConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/pop3kit)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/pop3kitConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/pop3kitConfig.cmake
              ${PROJECT_BINARY_DIR}/pop3kitConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/pop3kit)
configure_file(${PROJECT_SOURCE_DIR}/cmake/pop3kit.pc.in ${PROJECT_BINARY_DIR}/pop3kit.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/pop3kit.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
