#!/usr/bin/env bash
# Lints the OpenAPI document a real server publishes with a third-party linter
# (Redocly CLI, recommended rules; warnings allowed, errors fail).
#   tests/openapi/lint.sh NUCLEO_BINARY REDOCLY_BINARY
set -euo pipefail
export REDOCLY_TELEMETRY=off
nucleo=$1
redocly=$2
[[ -x "$redocly" ]] || { echo "redocly not found at $redocly (scripts/test.sh installs it)" >&2; exit 1; }

work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

cd "$work"
NUCLEO_HTTP_HOST=127.0.0.1 NUCLEO_HTTP_PORT=$port NUCLEO_LOG_LEVEL=warning "$nucleo" serve &
server=$!
for _ in $(seq 1 200); do
  curl -sf "http://127.0.0.1:$port/v1/openapi.json" -o openapi.json && break
  sleep 0.05
done
[[ -s openapi.json ]] || { echo "the server did not publish /v1/openapi.json" >&2; exit 1; }
"$redocly" lint openapi.json --format=summary
