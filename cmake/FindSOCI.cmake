# FindSOCI — Debian's libsoci-dev 4.0.3 ships no CMake package, so we locate it here.
#
#   find_package(SOCI REQUIRED COMPONENTS postgresql sqlite3)
#
# Imported targets: SOCI::core and SOCI::<component> (each links its client library).
# Backends are used through their explicit factories (soci::postgresql,
# soci::sqlite3), never the dynamic backend loader.

find_path(SOCI_INCLUDE_DIR soci/soci.h)
find_library(SOCI_CORE_LIBRARY NAMES soci_core)

if(SOCI_INCLUDE_DIR AND EXISTS "${SOCI_INCLUDE_DIR}/soci/version.h")
  file(STRINGS "${SOCI_INCLUDE_DIR}/soci/version.h" _soci_ver REGEX "#define SOCI_VERSION [0-9]+")
  string(REGEX REPLACE ".*SOCI_VERSION ([0-9]+).*" "\\1" _soci_num "${_soci_ver}")
  math(EXPR _major "${_soci_num} / 100000")
  math(EXPR _minor "${_soci_num} / 100 % 1000")
  math(EXPR _patch "${_soci_num} % 100")
  set(SOCI_VERSION "${_major}.${_minor}.${_patch}")
endif()

set(_soci_component_deps_postgresql PostgreSQL::PostgreSQL)
set(_soci_component_deps_sqlite3 SQLite::SQLite3)

foreach(component IN LISTS SOCI_FIND_COMPONENTS)
  find_library(SOCI_${component}_LIBRARY NAMES soci_${component})
  if(SOCI_${component}_LIBRARY)
    set(SOCI_${component}_FOUND TRUE)
  endif()
endforeach()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(SOCI
  REQUIRED_VARS SOCI_CORE_LIBRARY SOCI_INCLUDE_DIR
  VERSION_VAR SOCI_VERSION
  HANDLE_COMPONENTS)

if(SOCI_FOUND AND NOT TARGET SOCI::core)
  add_library(SOCI::core UNKNOWN IMPORTED)
  set_target_properties(SOCI::core PROPERTIES
    IMPORTED_LOCATION "${SOCI_CORE_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${SOCI_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES "${CMAKE_DL_LIBS}")
  foreach(component IN LISTS SOCI_FIND_COMPONENTS)
    if(SOCI_${component}_FOUND)
      add_library(SOCI::${component} UNKNOWN IMPORTED)
      set_target_properties(SOCI::${component} PROPERTIES
        IMPORTED_LOCATION "${SOCI_${component}_LIBRARY}"
        INTERFACE_LINK_LIBRARIES "SOCI::core;${_soci_component_deps_${component}}")
    endif()
  endforeach()
endif()
mark_as_advanced(SOCI_INCLUDE_DIR SOCI_CORE_LIBRARY)
