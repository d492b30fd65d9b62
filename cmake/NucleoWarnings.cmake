# Warnings are errors on Nucleo's own code (DESIGN §12); third-party headers are
# included as SYSTEM so their warnings never fail our build.
add_library(nucleo_warnings INTERFACE)
target_compile_options(nucleo_warnings INTERFACE -Wall -Wextra -Werror -Wpedantic)
