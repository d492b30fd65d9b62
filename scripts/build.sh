#!/usr/bin/env bash
# Configures (once) and builds Nucleo into build/. Extra arguments go to `cmake --build`.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -f build/CMakeCache.txt ]]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build build --parallel "${NUCLEO_BUILD_JOBS:-2}" "$@"
