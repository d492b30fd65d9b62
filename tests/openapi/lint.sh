#!/usr/bin/env bash
# Lints the OpenAPI document a real server publishes with two third-party linters:
# Redocly CLI under recommended-strict and Spectral under its oas ruleset, where a
# warning fails as an error does.
#   tests/openapi/lint.sh NUCLEO_BINARY TOOLS_DIR [CONFIG]   (TOOLS_DIR: build/tools, from scripts/test.sh;
#   CONFIG: a configuration whose plugins are loaded, so their routes are linted too)
set -euo pipefail
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
nucleo=$1
bin=$2/node_modules/.bin
here=$(cd "$(dirname "$0")" && pwd)
for tool in redocly spectral; do
  [[ -x "$bin/$tool" ]] || { echo "$tool not found in $bin (scripts/test.sh installs it)" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

cd "$work"
NUCLEO_HTTP_HOST=127.0.0.1 NUCLEO_HTTP_PORT=$port NUCLEO_LOG_LEVEL=warning "$nucleo" serve ${3:+--config "$3"} &
server=$!
for _ in $(seq 1 200); do
  curl -sf "http://127.0.0.1:$port/v1/openapi.json" -o openapi.json && break
  sleep 0.05
done
[[ -s openapi.json ]] || { echo "the server did not publish /v1/openapi.json" >&2; exit 1; }
# A plugin that fails to load leaves the kernel serving — and nothing of it to lint.
if [[ -n "${3:-}" ]] && ! grep -q '"/v1/x/' openapi.json; then
  echo "the plugins of $3 were not loaded: nothing of theirs is in the document" >&2
  exit 1
fi
status=0
echo "== Redocly (recommended-strict)"
"$bin/redocly" lint openapi.json --config "$here/redocly.yaml" --format=stylish || status=1
echo "== Spectral (spectral:oas, warnings fail)"
"$bin/spectral" lint openapi.json --ruleset "$here/spectral.yaml" --fail-severity=warn || status=1
exit $status
