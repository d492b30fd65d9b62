#!/usr/bin/env bash
# Builds Nucleo and serves it on the embedded default: SQLite in var/nucleo.db,
# HTTP on :8080 (config/nucleo.properties). Arguments go to `nucleo serve`,
# e.g. scripts/run.sh --config config/examples/local.properties
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh --target nucleo
exec build/bin/nucleo serve "$@"
