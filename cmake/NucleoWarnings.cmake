# Warnings are errors on Nucleo's own code in the project's builds — scripts/build.sh and CI
# configure with NUCLEO_WERROR=ON (docs/architecture.md §12). The option is off by default so a
# packager's build with another compiler or build type never fails on a warning that compiler
# gets wrong (GCC 12's -Wrestrict at -O3, issue #29). Third-party headers are included as
# SYSTEM so their warnings never show.
option(NUCLEO_WERROR "Treat compiler warnings as errors (scripts/build.sh and CI turn it on)" OFF)
add_library(nucleo_warnings INTERFACE)
target_compile_options(nucleo_warnings INTERFACE -Wall -Wextra $<$<BOOL:${NUCLEO_WERROR}>:-Werror> -Wpedantic)
# GCC 12 reports false "may be used uninitialized" warnings inside std::variant and
# std::optional at -O2 (GCC bugs 105562, 107138); with -Werror they would fail the
# build on correct code. -Wuninitialized (the definite case) stays on.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  target_compile_options(nucleo_warnings INTERFACE -Wno-maybe-uninitialized)
endif()
# GCC 12 at -O3 (Release) reports std::string concatenations such as "^" + std::string(x)
# as overlapping memcpy calls (-Wrestrict; GCC bugs 105329, 105651, fixed in 13).
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(nucleo_warnings INTERFACE $<$<CONFIG:Release>:-Wno-restrict>)
endif()
# Aggregates with default member initialisers are written with only the leading members
# (`RecordQuery{{filters}, "", 100}`); -Wextra's missing-field-initializers would flag
# every such use although the defaults are intended.
target_compile_options(nucleo_warnings INTERFACE -Wno-missing-field-initializers)
