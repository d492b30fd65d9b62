#!/usr/bin/env bash
# Builds Nucleo and runs the whole test suite (unit, integration on SQLite and on a
# throwaway PostgreSQL, end-to-end over real sockets). Arguments go to ctest,
# e.g. scripts/test.sh -R Migrations
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
scripts/build.sh
# The third-party tools the suite runs against the published OpenAPI document (linters,
# a validating proxy, JSON Schema validation, a generated client), pinned in
# tests/tools/package-lock.json, from npm.
if ! cmp -s tests/tools/package-lock.json build/tools/.installed-lock; then
  rm -rf build/tools && mkdir -p build/tools
  cp tests/tools/package.json tests/tools/package-lock.json build/tools/
  npm ci --prefix build/tools --no-audit --no-fund --loglevel=error >/dev/null
  cp tests/tools/package-lock.json build/tools/.installed-lock
fi
cd build
ctest --output-on-failure --parallel "${NUCLEO_TEST_JOBS:-2}" "$@"
