#!/usr/bin/env bash
# The web console (console/app, ADR 0047) against a real server on loopback:
#   1. its every API call type-checked (tsc --checkJs --strict) against the client types
#      openapi-typescript generates from the server's own /v1/openapi.json;
#   2. its flows driven in Debian's headless chromium by playwright-core (browser.mjs):
#      sign in, board and gate, call, inbox reply, agenda, import, audit proof, and the
#      CSRF and session-fixation refusals. Screenshots go to build/console-screenshots.
#   tests/console/run.sh NUCLEO_BINARY TOOLS_DIR SCREENSHOT_DIR whatsapp=DIR insight=DIR agro=DIR
# (the plugins the flows use: WhatsApp for the inbox, insight, and a vertical pack whose
# briefing section is the account page's panel)
set -euo pipefail
nucleo=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
tools=$(cd "$2" && pwd)
shots=$(mkdir -p "$3" && cd "$3" && pwd)
rm -f "$shots"/*.png  # this run's only
shift 3
plugins=""
for plugin in "$@"; do plugins+="plugins.${plugin%%=*}.file = $(cd "${plugin#*=}" && pwd)"$'\n'; done
bin=$tools/node_modules/.bin
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
for tool in openapi-typescript tsc; do
  [[ -x "$bin/$tool" ]] || { echo "$tool not found in $bin (scripts/test.sh installs it)" >&2; exit 1; }
done
chromium=${NUCLEO_CHROMIUM:-/usr/bin/chromium}
[[ -x "$chromium" ]] || { echo "$chromium not found (scripts/install-deps.sh --test installs Debian's chromium)" >&2; exit 1; }

# Inside the tools folder, so that the check resolves openapi-fetch's types and the
# browser test playwright-core from its node_modules.
source "$here/../support/serve.sh"
work_dir_in "$tools" console
port=$(free_port)

cd "$work"
"$nucleo" audit keygen --out audit.pem >/dev/null
cat > nucleo.properties <<PROPS
${plugins}outbound.allow = 127.0.0.1/32
jobs.retry_first_ms = 50
audit.signing_key_file = $work/audit.pem
audit.checkpoint_interval_s = 1
audit.publish_dir = $work/published
PROPS
export NUCLEO_STORE_URL="sqlite:$work/nucleo.db"
"$nucleo" migrate >/dev/null
serve_and_fetch_document "$nucleo" "$port" nucleo.properties

echo "== the console's calls against the published document (openapi-typescript + tsc --checkJs)"
mkdir -p check
cp -r "$root/console/app/js" check/js
"$bin/openapi-typescript" openapi.json --output check/js/schema.d.ts >/dev/null
cp "$here/tsconfig.json" check/
"$bin/tsc" -p check/tsconfig.json

echo "== the console's proof checks under Node's WebCrypto"
node "$here/merkle_test.mjs" "$root/console/app/js"

echo "== the console in headless chromium (playwright-core)"
cp "$here/browser.mjs" .  # beside the tools' node_modules, where it finds playwright-core
if ! NUCLEO_BINARY="$nucleo" NUCLEO_CHROMIUM="$chromium" NUCLEO_PUBLISH_DIR="$work/published" node browser.mjs "http://127.0.0.1:$port" "$shots"; then
  echo "--- server" >&2; tail -40 server.log >&2
  exit 1
fi
if grep -E "answered [0-9]+ but its route declares|internal error" server.log; then
  echo "the server logged a contract or internal error (above)" >&2; exit 1
fi
