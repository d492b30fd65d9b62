# Sourced by the tests that run npm tools against a real server (tests/client,
# tests/console).

# work_dir_in TOOLS_DIR NAME: a temporary directory inside the tools folder (so scripts
# copied there resolve its node_modules) in $work; on exit every process in `pids` is
# stopped and the directory removed.
work_dir_in() {
  work=$(mktemp -d -p "$1" "$2.XXXXXX")
  pids=()
  trap 'for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done; rm -rf "$work"' EXIT
}

# A TCP port free on loopback now.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# serve_and_fetch_document NUCLEO PORT CONFIG: `nucleo serve` on 127.0.0.1:PORT in the
# background (its log in ./server.log, its pid added to `pids`), then its published
# document saved as ./openapi.json once it answers.
serve_and_fetch_document() {
  NUCLEO_HTTP_HOST=127.0.0.1 NUCLEO_HTTP_PORT=$2 NUCLEO_LOG_LEVEL=warning \
    "$1" serve --config "$3" > server.log 2>&1 &
  pids+=($!)
  for _ in $(seq 1 200); do
    curl -sf "http://127.0.0.1:$2/v1/openapi.json" -o openapi.json && return 0
    sleep 0.05
  done
  echo "the server did not publish /v1/openapi.json" >&2
  cat server.log >&2
  return 1
}
