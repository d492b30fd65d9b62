#!/usr/bin/env bash
# Builds Nucleo and serves it on the embedded default: SQLite in build/var/nucleo.db,
# HTTP on :8080 (config/nucleo.properties). Arguments go to `nucleo serve`,
# e.g. scripts/run.sh --config my.properties, or scripts/run.sh --safe-mode
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh --target nucleo
exec build/bin/nucleo serve "$@"
