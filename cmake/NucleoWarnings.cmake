# Warnings are errors on Nucleo's own code (docs/architecture.md §12); third-party headers are
# included as SYSTEM so their warnings never fail our build.
add_library(nucleo_warnings INTERFACE)
target_compile_options(nucleo_warnings INTERFACE -Wall -Wextra -Werror -Wpedantic)
# GCC 12 reports false "may be used uninitialized" warnings inside std::variant and
# std::optional at -O2 (GCC bugs 105562, 107138); with -Werror they would fail the
# build on correct code. -Wuninitialized (the definite case) stays on.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  target_compile_options(nucleo_warnings INTERFACE -Wno-maybe-uninitialized)
endif()
# Aggregates with default member initialisers are written with only the leading members
# (`RecordQuery{{filters}, "", 100}`); -Wextra's missing-field-initializers would flag
# every such use although the defaults are intended.
target_compile_options(nucleo_warnings INTERFACE -Wno-missing-field-initializers)
