#!/usr/bin/env bash
# Configures (once) and builds Nucleo into build/. Extra arguments go to `cmake --build`.
set -euo pipefail
cd "$(dirname "$0")/.."
# Warnings are errors here and in CI (NUCLEO_WERROR; a packager's build leaves it off). A
# tree configured before the option existed gets it on its next build.
if [[ ! -f build/CMakeCache.txt ]]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNUCLEO_WERROR=ON >/dev/null
elif ! grep -q '^NUCLEO_WERROR:BOOL=ON' build/CMakeCache.txt; then
  cmake -S . -B build -DNUCLEO_WERROR=ON >/dev/null
fi
cmake --build build --parallel "${NUCLEO_BUILD_JOBS:-2}" "$@"
