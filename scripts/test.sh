#!/usr/bin/env bash
# Builds Nucleo and runs the whole test suite (unit, integration on SQLite and on a
# throwaway PostgreSQL, end-to-end over real sockets). Arguments go to ctest,
# e.g. scripts/test.sh -R Migrations
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
scripts/build.sh
# The OpenAPI linter the suite runs (tests/openapi/lint.sh), pinned, from npm.
redocly_version=2.77.0
if [[ "$(build/tools/node_modules/.bin/redocly --version 2>/dev/null)" != "$redocly_version" ]]; then
  npm install --prefix build/tools --no-audit --no-fund --loglevel=error "@redocly/cli@$redocly_version" >/dev/null
fi
cd build
ctest --output-on-failure --parallel "${NUCLEO_TEST_JOBS:-2}" "$@"
