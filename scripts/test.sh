#!/usr/bin/env bash
# Builds Nucleo and runs the whole test suite (unit, integration on SQLite and on a
# throwaway PostgreSQL, end-to-end over real sockets). Arguments go to ctest,
# e.g. scripts/test.sh -R Migrations
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
scripts/build.sh
# The third-party tools the suite runs against the published document and the console,
# pinned in tests/tools/package-lock.json, from npm.
scripts/install-tools.sh
cd build
ctest --output-on-failure --parallel "${NUCLEO_TEST_JOBS:-2}" "$@"
