#!/usr/bin/env bash
# Installs the npm tools pinned in tests/tools/package-lock.json into build/tools — the
# OpenAPI linters, a validating proxy, JSON Schema validation, the generated client's
# toolchain and playwright-core (the console's browser tests and benchmark) — once per
# lockfile.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! cmp -s tests/tools/package-lock.json build/tools/.installed-lock; then
  rm -rf build/tools && mkdir -p build/tools
  cp tests/tools/package.json tests/tools/package-lock.json build/tools/
  npm ci --prefix build/tools --no-audit --no-fund --loglevel=error >/dev/null
  cp tests/tools/package-lock.json build/tools/.installed-lock
fi
