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

# pkg-config files name their prefix relative to their own folder, so that an installation
# moved elsewhere (or made with `cmake --install --prefix`) still works.
file(RELATIVE_PATH POP3KIT_PC_TO_PREFIX /pop3kit-prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /pop3kit-prefix)
string(REGEX REPLACE "/$" "" POP3KIT_PC_TO_PREFIX "${POP3KIT_PC_TO_PREFIX}")
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(POP3KIT_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  set(POP3KIT_PC_PREFIX "\${pcfiledir}/${POP3KIT_PC_TO_PREFIX}")
endif()

# ---- The mock server: libpop3mock, its headers, `pop3-mock` and its manual page. ----------
# libpop3mock.so is the mock's static engine (`pop3mock`) linked whole into a shared library
# with a version and soname. Whatever the engine links (the wire codec today through the
# static `pop3`) is linked into it privately and hidden by the version script, which exports
# only pop3mock_ symbols: an installed program links pop3kit::pop3mock and nothing else, and
# the export set needs no static internals of ours. Objects must be position-independent.
if(TARGET pop3mock)
  set_target_properties(pop3mock PROPERTIES POSITION_INDEPENDENT_CODE ON)
  foreach(dep pop3 pop3codec)
    if(TARGET ${dep})
      set_target_properties(${dep} PROPERTIES POSITION_INDEPENDENT_CODE ON)
    endif()
  endforeach()
  # A shared library needs at least one source of its own; this one defines nothing.
  file(WRITE ${PROJECT_BINARY_DIR}/pop3mock_shared.c
       "/* libpop3mock.so: the objects come whole from the static pop3mock engine. */\n"
       "typedef int pop3mock__translation_unit_not_empty;\n")
  add_library(pop3mock_shared SHARED ${PROJECT_BINARY_DIR}/pop3mock_shared.c)
  target_link_libraries(pop3mock_shared PRIVATE "$<LINK_LIBRARY:WHOLE_ARCHIVE,pop3mock>")
  # In the tree, the engine's own include folders (whatever it links); installed, include/.
  target_include_directories(pop3mock_shared INTERFACE
    $<BUILD_INTERFACE:$<TARGET_PROPERTY:pop3mock,INTERFACE_INCLUDE_DIRECTORIES>>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  set_target_properties(pop3mock_shared PROPERTIES
    OUTPUT_NAME pop3mock
    VERSION ${PROJECT_VERSION}
    SOVERSION ${PROJECT_VERSION_MAJOR}
    EXPORT_NAME pop3mock)
  if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
    target_link_options(pop3mock_shared PRIVATE
      -Wl,--version-script=${PROJECT_SOURCE_DIR}/cmake/libpop3mock.map)
    set_property(TARGET pop3mock_shared APPEND PROPERTY LINK_DEPENDS
      ${PROJECT_SOURCE_DIR}/cmake/libpop3mock.map)
  endif()
  add_library(pop3kit::pop3mock ALIAS pop3mock_shared)
  install(TARGETS pop3mock_shared EXPORT pop3kitTargets
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
    INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/mockserver/include/pop3mock
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")
  configure_file(${PROJECT_SOURCE_DIR}/cmake/pop3mock.pc.in ${PROJECT_BINARY_DIR}/pop3mock.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/pop3mock.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endif()
if(TARGET pop3-mock)
  # Exported too: pop3kit::pop3-mock is the program the fixtures start (fixtures/).
  install(TARGETS pop3-mock EXPORT pop3kitTargets RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  # OPTIONAL: the page may not exist in every tree this file is built from.
  install(FILES ${PROJECT_SOURCE_DIR}/mockserver/pop3-mock.1
    DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 OPTIONAL)
endif()

# ---- The conformance runner: `pop3-conform`, its cases, peer adapters, manual page. -------
# pop3-conform looks for <bindir>/../share/pop3kit/cases and .../peers when it is not run
# from a source tree; adapters keep their executable bits.
if(TARGET pop3-conform)
  install(TARGETS pop3-conform EXPORT pop3kitTargets RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/conformance/cases/
    DESTINATION ${CMAKE_INSTALL_DATADIR}/pop3kit/cases)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/conformance/peers/
    DESTINATION ${CMAKE_INSTALL_DATADIR}/pop3kit/peers USE_SOURCE_PERMISSIONS
    # What peers/install.sh fetched from npm, and Python's caches, are not ours to install.
    PATTERN node_modules EXCLUDE PATTERN package-lock.json EXCLUDE PATTERN __pycache__ EXCLUDE)
  install(FILES ${PROJECT_SOURCE_DIR}/conformance/pop3-conform.1
    DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 OPTIONAL)
endif()

# ---- The recorder: `pop3-record` and its manual page. ---------------------------------------
if(TARGET pop3-record)
  install(TARGETS pop3-record RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  install(FILES ${PROJECT_SOURCE_DIR}/record/pop3-record.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
endif()

# ---- The network fuzzer: `pop3-fuzz` and its manual page. -----------------------------------
if(TARGET pop3-fuzz)
  install(TARGETS pop3-fuzz RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  install(FILES ${PROJECT_SOURCE_DIR}/fuzz/net/pop3-fuzz.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
endif()

# ---- Test-framework fixtures (fixtures/README.md). ------------------------------------------
# The CMake module comes with the package (pop3kitConfig.cmake includes it); the pytest
# plugin goes under share/pop3kit/pytest, from where it finds ../../../bin/pop3-mock.
install(FILES ${PROJECT_SOURCE_DIR}/fixtures/ctest/Pop3MockFixture.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/pop3kit)
install(PROGRAMS ${PROJECT_SOURCE_DIR}/fixtures/ctest/pop3mock_fixture_ctl.sh
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/pop3kit)
install(FILES ${PROJECT_SOURCE_DIR}/fixtures/pytest/pop3mock_fixture.py
              ${PROJECT_SOURCE_DIR}/fixtures/README.md
  DESTINATION ${CMAKE_INSTALL_DATADIR}/pop3kit/pytest)
# libpop3mock_embed: the pytest plugin's library backend (it looks in <prefix>/lib first),
# and pop3kit::pop3mock_embed for C and C++ test programs.
if(TARGET pop3mock_embed)
  target_include_directories(pop3mock_embed INTERFACE $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  set_target_properties(pop3mock_embed PROPERTIES EXPORT_NAME pop3mock_embed)
  install(TARGETS pop3mock_embed EXPORT pop3kitTargets
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    PUBLIC_HEADER DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
endif()

# ---- The CMake package and pkg-config for the client. --------------------------------------
install(EXPORT pop3kitTargets NAMESPACE pop3kit::
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/pop3kit)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/pop3kitConfig.cmake.in
  ${PROJECT_BINARY_DIR}/pop3kitConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/pop3kit
  PATH_VARS CMAKE_INSTALL_DATADIR)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/pop3kitConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/pop3kitConfig.cmake
              ${PROJECT_BINARY_DIR}/pop3kitConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/pop3kit)
configure_file(${PROJECT_SOURCE_DIR}/cmake/pop3kit.pc.in ${PROJECT_BINARY_DIR}/pop3kit.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/pop3kit.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# ---- A check of all of the above: install into a temporary prefix and use it. --------------
# examples/check_install.py runs every installed program, looks for the manual pages, cases
# and adapters, and builds the examples against the installed package (find_package and
# pkg-config), among them a program that embeds the mock library.
# First the mock library from the build tree, linked as an installed program links it.
if(TARGET pop3kit::pop3mock)
  add_executable(mockcheck ${PROJECT_SOURCE_DIR}/examples/mock_embed/mockcheck.c)
  target_link_libraries(mockcheck PRIVATE pop3kit::pop3mock)
  set_target_properties(mockcheck PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/tests)
  add_test(NAME mock_library_embedded COMMAND mockcheck)
endif()
find_package(Python3 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND)
  add_test(NAME install_check
           COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/examples/check_install.py
                   --build-dir ${PROJECT_BINARY_DIR} --source-dir ${PROJECT_SOURCE_DIR}
                   --cmake ${CMAKE_COMMAND} --c-compiler ${CMAKE_C_COMPILER})
  set_tests_properties(install_check PROPERTIES TIMEOUT 600 RUN_SERIAL TRUE
                       ENVIRONMENT PYTHONDONTWRITEBYTECODE=1)
endif()
