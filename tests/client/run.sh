#!/usr/bin/env bash
# Generates a TypeScript client from the document a real server publishes
# (openapi-typescript), type-checks the flows of docs/api.md written with it
# (openapi-fetch) under tsc --strict, and runs them against the server through Stoplight
# Prism as a validating proxy with --errors: any request or answer that breaks the
# document fails the flows.
#   tests/client/run.sh NUCLEO_BINARY TOOLS_DIR   (TOOLS_DIR: build/tools, from scripts/test.sh)
set -euo pipefail
nucleo=$1
tools=$(cd "$2" && pwd)
bin=$tools/node_modules/.bin
here=$(cd "$(dirname "$0")" && pwd)
for tool in openapi-typescript tsc prism; do
  [[ -x "$bin/$tool" ]] || { echo "$tool not found in $bin (scripts/test.sh installs it)" >&2; exit 1; }
done

# Inside the tools folder, so that the flows resolve openapi-fetch from its node_modules.
source "$here/../support/serve.sh"
work_dir_in "$tools" client
port=$(free_port)
proxy_port=$(free_port)
hook_port=$(free_port)  # nothing listens: deliveries fail and retry, on loopback only

cd "$work"
printf 'outbound.allow = 127.0.0.1/32\n' > nucleo.properties
export NUCLEO_STORE_URL="sqlite:$work/nucleo.db"
"$nucleo" migrate >/dev/null
tenant=$("$nucleo" tenant create --name "Cooperativa Vale Verde" | sed -n 's/^id=//p')
admin=$("$nucleo" user create --tenant "$tenant" --name "Ana Souza" --email ana@valeverde.coop.br --role admin |
  sed -n 's/^id=//p')
key=$("$nucleo" key create --tenant "$tenant" --name client --role admin --user "$admin" 2>/dev/null |
  sed -n 's/^secret=//p')
serve_and_fetch_document "$nucleo" "$port" nucleo.properties

echo "== openapi-typescript: generating the client's types"
"$bin/openapi-typescript" openapi.json --output schema.d.ts
cp "$here/flows.mts" "$here/tsconfig.json" .
echo "== tsc --strict"
"$bin/tsc" -p tsconfig.json

echo "== the flows, through prism proxy --errors"
"$bin/prism" proxy openapi.json "http://127.0.0.1:$port" --host 127.0.0.1 --port "$proxy_port" --errors \
  > prism.log 2>&1 &
pids+=($!)
for _ in $(seq 1 300); do
  curl -s -o /dev/null "http://127.0.0.1:$proxy_port/healthz" && break
  sleep 0.1
done
# The proxy validates: a body the document refuses never reaches the server.
refused=$(curl -s -X POST "http://127.0.0.1:$proxy_port/v1/accounts" -H "Authorization: Bearer $key" \
  -H 'Content-Type: application/json' -d '{"legal_name": 42}')
[[ "$refused" == *stoplight.io/prism/errors* ]] || { echo "prism did not refuse an invalid body: $refused" >&2; exit 1; }
if ! node flows.mjs "http://127.0.0.1:$proxy_port" "$key" "http://127.0.0.1:$hook_port/hook"; then
  echo "--- prism" >&2; tail -40 prism.log >&2
  echo "--- server" >&2; tail -20 server.log >&2
  exit 1
fi
if grep -v 'legal_name' prism.log | grep -qi "violation"; then
  echo "prism reported violations:" >&2; grep -i -B2 -A5 "violation" prism.log >&2; exit 1
fi
