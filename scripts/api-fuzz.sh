#!/usr/bin/env bash
# The HTTP API fuzzed from its own OpenAPI document for the full budget (issue #26): a
# throwaway SQLite server on 127.0.0.1, a tenant with an admin and a sales key, then
# tests/api_fuzz/fuzz.mjs (no 5xx, authentication never ignored) and
# tests/contract/check.mjs (every status, header and body as the document says). The
# suite's e2e_api_fuzz runs the same with a small budget on both backends.
#   scripts/api-fuzz.sh [CASES] [SEED]   (default 20000 cases, seed 1)
# Prints the fuzzer's and the check's summaries; exits 1 on any failure or violation.
set -euo pipefail
cd "$(dirname "$0")/.."
cases=${1:-20000}
seed=${2:-1}
[[ -x build/bin/nucleo && -d build/tools/node_modules ]] || { echo "build first: scripts/build.sh (and scripts/test.sh once for build/tools)" >&2; exit 2; }
work=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/nucleo.properties" <<PROPERTIES
store.url = sqlite:$work/fuzz.db
state_dir = $work
http.host = 127.0.0.1
http.port = $port
http.drain_window_ms = 0
limits.rate_per_second = 1000000
limits.rate_burst = 1000000
limits.auth_failures_per_minute = 1000000
log.level = warning
PROPERTIES
nucleo() { build/bin/nucleo "$@" --config "$work/nucleo.properties"; }
nucleo migrate >/dev/null
tenant=$(nucleo tenant create --name "API fuzz" | sed -n 's/^id=//p')
admin_user=$(nucleo user create --tenant "$tenant" --name Admin --email admin@fuzz.test --role admin | sed -n 's/^id=//p')
sales_user=$(nucleo user create --tenant "$tenant" --name Sales --email sales@fuzz.test --role sales | sed -n 's/^id=//p')
admin_key=$(nucleo key create --tenant "$tenant" --name fuzz-admin --role admin --user "$admin_user" --json 2>/dev/null)
sales_key=$(nucleo key create --tenant "$tenant" --name fuzz-sales --role sales --user "$sales_user" --json 2>/dev/null)
secret() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])["secret"])' "$1"; }
key_id() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])["id"])' "$1"; }
build/bin/nucleo serve --config "$work/nucleo.properties" 2>"$work/server.log" &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "localhost:$port/healthz" >/dev/null && break; sleep 0.1; done
status=0
node tests/api_fuzz/fuzz.mjs --port "$port" --admin "$(secret "$admin_key")" --sales "$(secret "$sales_key")" \
  --seed "$seed" --cases "$cases" --record "$work/record" \
  --protect "$(key_id "$admin_key"),$(key_id "$sales_key"),$admin_user,$sales_user" || status=1
NUCLEO_TOOLS=build/tools node tests/contract/check.mjs "$work/record" | tail -25 || status=1
kill -0 $server 2>/dev/null || { echo "the server died:" >&2; tail -20 "$work/server.log" >&2; status=1; }
[[ $status -eq 0 ]] && rm -rf "$work" || echo "kept $work (server.log, record/)" >&2
exit $status
