#!/usr/bin/env bash
# Scale-out (issue #35, docs/operations.md): throughput of a read of one record, a list, a
# search and an audited create with 1, 2 and 3 nodes behind HAProxy, and with 3 nodes and
# their list and search reads on a streaming replica — beside one node reached directly,
# in the same run. Then the CPU each request costs the node and PostgreSQL, measured on
# the one-node run, and from it a paper projection for a larger machine.
#   bench/scale_out.sh [DURATION_SECONDS]   (default 15 per case)
# Everything runs on this machine: with its few cores the nodes, PostgreSQL, the replica,
# HAProxy and wrk share them, so more nodes cannot add throughput here — the curve is
# bound by the cores, and the script prints how many there are. Not part of the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-15}
root=$(pwd)
scripts/install-deps.sh --test
command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null
scripts/build.sh --target nucleo >/dev/null
nucleo=$root/build/bin/nucleo
bin=/usr/lib/postgresql/15/bin
cores=$(nproc)

work=$(mktemp -d /tmp/nucleo-scale-XXXXXX)
as_pg() { if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[[ $(id -u) -eq 0 ]] && chown postgres "$work"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port) replica_port=$(free_port) proxy_port=$(free_port)
nodes=() node_ports=()
cleanup() {
  for pid in "${nodes[@]}" ${proxy:-}; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  as_pg $bin/pg_ctl -D "$work/replica" -m immediate -w stop >/dev/null 2>&1 || true
  as_pg $bin/pg_ctl -D "$work/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "== $cores cores: every node, PostgreSQL, its replica, HAProxy and wrk share them" >&2
as_pg $bin/initdb -D "$work/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
as_pg $bin/pg_ctl -D "$work/data" -l "$work/pg.log" -w \
  -o "-p $port -k $work -c listen_addresses=127.0.0.1 -c shared_buffers=512MB -c max_connections=200" start >/dev/null
psql_as() { local role=$1; shift; $bin/psql -X -q -v ON_ERROR_STOP=1 "host=127.0.0.1 port=$port user=$role dbname=${DB:-nucleo}" "$@"; }
DB=postgres psql_as postgres -c "CREATE ROLE nucleo_owner LOGIN" -c "CREATE ROLE nucleo_app LOGIN" \
  -c "CREATE ROLE nucleo_worker LOGIN BYPASSRLS" -c "CREATE DATABASE nucleo OWNER nucleo_owner"
url() { echo "postgresql://$1@127.0.0.1:${2:-$port}/nucleo"; }
export NUCLEO_STORE_URL=$(url nucleo_app) NUCLEO_STORE_WORKER_URL=$(url nucleo_worker) \
       NUCLEO_STORE_OWNER_URL=$(url nucleo_owner) NUCLEO_SECRETS_KEY_FILE=$work/secrets.key
"$nucleo" migrate >/dev/null
tenant=$("$nucleo" tenant create --name Bench | sed -n 's/^id=//p')
admin=$("$nucleo" user create --tenant "$tenant" --name Bench --email bench@example.com --role admin | sed -n 's/^id=//p')
key=$("$nucleo" key create --tenant "$tenant" --name bench --role admin --user "$admin" 2>/dev/null | sed -n 's/^secret=//p')

accounts=${BENCH_ACCOUNTS:-20000} deals=$((${BENCH_ACCOUNTS:-20000} * 3))
echo "== seeding $accounts accounts, $deals deals (COPY)" >&2
python3 bench/seed.py --tenant "$tenant" --out "$work" --accounts "$accounts" --deals "$deals" \
  --interactions "$((accounts * 5))" --lots 0
psql_as nucleo_owner <<SQL
\copy pipelines (id, tenant_id, name, attributes, version, created_at, updated_at) FROM '$work/pipelines.csv' CSV
\copy stages (id, tenant_id, pipeline_id, name, position, probability, kind, rot_days, entry_criteria, checklist_template, version, created_at, updated_at) FROM '$work/stages.csv' CSV
\copy accounts (id, tenant_id, legal_name, lifecycle, tax_id_country, phones, emails, attributes, version, created_at, updated_at) FROM '$work/accounts.csv' CSV
\copy deals (id, tenant_id, name, account_id, contacts, pipeline_id, stage_id, amount, currency, status, stage_entered_at, attributes, version, created_at, updated_at) FROM '$work/deals.csv' CSV
\copy interactions (id, tenant_id, type, direction, channel, occurred_at, subject, account_id, attributes, version, created_at, updated_at) FROM '$work/interactions.csv' CSV
VACUUM ANALYZE pipelines, stages, accounts, deals, interactions;
SQL

echo "== a streaming replica (pg_basebackup)" >&2
as_pg $bin/pg_basebackup -h 127.0.0.1 -p "$port" -U postgres -D "$work/replica" -R -X stream -c fast
as_pg $bin/pg_ctl -D "$work/replica" -l "$work/replica.log" -w \
  -o "-p $replica_port -k $work -c listen_addresses=127.0.0.1 -c shared_buffers=512MB -c max_connections=200" start >/dev/null

# start_nodes N [REPLICA]: N nodes (node-1 runs the background roles, the others HTTP only,
# as docs/operations.md suggests for a read-heavy cluster), HAProxy over them.
start_nodes() {
  stop_nodes
  local n=$1 replica=${2:-} i
  for i in $(seq 1 "$n"); do
    local p; p=$(free_port)
    NUCLEO_HTTP_HOST=127.0.0.1 NUCLEO_HTTP_PORT=$p NUCLEO_LOG_LEVEL=warning NUCLEO_STORE_POOL_SIZE=8 \
      NUCLEO_NODE_ID=node-$i NUCLEO_NODE_ROLES=$([[ $i == 1 ]] && echo "audit, events, jobs, imports" || echo none) \
      NUCLEO_LIMITS_RATE_PER_SECOND=1000000 NUCLEO_LIMITS_RATE_BURST=1000000 NUCLEO_HTTP_CURSOR_SECRET=bench \
      NUCLEO_STORE_REPLICA_URLS=${replica:+$(url nucleo_app "$replica_port")} \
      "$nucleo" serve 2>>"$work/nodes.log" &
    nodes+=($!) node_ports+=("$p")
    for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$p/readyz" >/dev/null && break; sleep 0.1; done
  done
  { printf 'global\n  maxconn 2000\ndefaults\n  mode http\n  timeout connect 1s\n  timeout client 60s\n  timeout server 60s\n'
    printf 'frontend nucleo\n  bind 127.0.0.1:%s\n  default_backend nodes\nbackend nodes\n  balance roundrobin\n' "$proxy_port"
    printf '  option httpchk GET /readyz\n  http-check expect status 200\n  default-server inter 1s check\n'
    for i in "${!node_ports[@]}"; do printf '  server node-%s 127.0.0.1:%s\n' "$((i + 1))" "${node_ports[$i]}"; done
  } >"$work/haproxy.cfg"
  /usr/sbin/haproxy -db -f "$work/haproxy.cfg" 2>>"$work/haproxy.log" &
  proxy=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$proxy_port/readyz" >/dev/null && break; sleep 0.1; done
  sleep 2  # every server seen up by the health checks
}
stop_nodes() {
  for pid in "${nodes[@]}" ${proxy:-}; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; done
  nodes=() node_ports=() proxy=""
}

ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; printf "%.2f", v}'; }
# run_wrk CASE PORT → "requests/s p99_ms requests"
run_wrk() {
  local out
  out=$(NUCLEO_BENCH_KEY=$key NUCLEO_BENCH_DIR=$root/bench NUCLEO_BENCH_ACCOUNTS=$accounts NUCLEO_BENCH_DEALS=$deals \
        NUCLEO_BENCH_TERM=sementes wrk -t2 -c16 -d"${duration}s" --timeout 30s --latency -s "$root/bench/wrk/$1.lua" \
        "http://127.0.0.1:$2" 2>&1)
  local errors; errors=$(echo "$out" | sed -n 's/.*Non-2xx or 3xx responses: \([0-9]*\).*/\1/p')
  [[ -n "$errors" ]] && echo "   warning: $errors non-2xx responses on $1" >&2
  echo "$(echo "$out" | sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p') $(echo "$out" | awk '$1=="99%"{print $2}' | ms) $(echo "$out" | sed -n 's/^ *\([0-9]*\) requests in.*/\1/p')"
}
# CPU seconds (user + system) of processes, from /proc: the nodes', PostgreSQL's.
cpu_of() { local t=0 pid; for pid in "$@"; do [[ -r /proc/$pid/stat ]] && t=$((t + $(awk '{print $14 + $15}' "/proc/$pid/stat"))); done; echo "$t"; }
postgres_pids() { pgrep -f "postgres" | tr '\n' ' '; }
ticks=$(getconf CLK_TCK)

cases=("get_deal|GET /v1/deals/{id}" "list_deals|GET /v1/deals?stage_id=…&limit=50"
       "search_term|POST /v1/accounts/search (contains)" "create_interaction|POST /v1/interactions (audited create)")
configs=("1 direct|1 node, no HAProxy (baseline)" "1|1 node" "2|2 nodes" "3|3 nodes" "3 replica|3 nodes, reads on the replica")
declare -A rps
cpu_lines=""
for config in "${configs[@]}"; do
  spec=${config%%|*} label=${config#*|}
  n=${spec%% *} extra=${spec#* }; [[ "$extra" == "$spec" ]] && extra=""
  start_nodes "$n" "$([[ $extra == replica ]] && echo yes)"
  target=$proxy_port; [[ $extra == direct ]] && target=${node_ports[0]}
  for case in "${cases[@]}"; do
    name=${case%%|*}
    node_cpu=$(cpu_of "${nodes[@]}") pg_cpu=$(cpu_of $(postgres_pids))
    read -r r p99 total <<<"$(run_wrk "$name" "$target")"
    rps["$spec|$name"]=$r
    if [[ $extra == direct ]]; then
      # What one request costs in CPU: the node's and PostgreSQL's (primary + replica).
      node_ms=$(python3 -c "print(f'{($(cpu_of "${nodes[@]}") - $node_cpu) / $ticks * 1000 / max($total, 1):.3f}')")
      pg_ms=$(python3 -c "print(f'{($(cpu_of $(postgres_pids)) - $pg_cpu) / $ticks * 1000 / max($total, 1):.3f}')")
      cpu_lines+="$name $node_ms $pg_ms"$'\n'
    fi
    printf '   %-28s %-38s %8.0f req/s  p99 %s ms\n' "$label" "$name" "$r" "$p99" >&2
  done
done
stop_nodes

{
  echo "Scale-out, $(date -u +%Y-%m-%d), $cores cores shared by every process (wrk -t2 -c16, ${duration} s per case; $accounts accounts, $deals deals):"
  echo
  printf '| request |'; for config in "${configs[@]}"; do printf ' %s |' "${config#*|}"; done; echo
  printf '|---|'; for _ in "${configs[@]}"; do printf '%s' '---:|'; done; echo
  for case in "${cases[@]}"; do
    name=${case%%|*}
    printf '| `%s` |' "${case#*|}"
    for config in "${configs[@]}"; do printf ' %.0f |' "${rps["${config%%|*}|$name"]}"; done; echo
  done
  echo
  echo "CPU per request on the one-node run, and a paper projection: a machine with N cores for"
  echo "nodes and M for PostgreSQL serves about min(N / node CPU, M / PostgreSQL CPU) requests a"
  echo "second, before the network and locks — here for 16 + 16 and 32 + 32 cores:"
  echo
  echo "| request | node CPU ms | PostgreSQL CPU ms | 16 + 16 cores, req/s | 32 + 32 cores, req/s |"
  echo "|---|---:|---:|---:|---:|"
  while read -r name node_ms pg_ms; do
    [[ -z "$name" ]] && continue
    python3 - "$name" "$node_ms" "$pg_ms" <<'PY'
import sys
name, node, pg = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
def projected(cores): return min(cores * 1000 / node if node else float("inf"), cores * 1000 / pg if pg else float("inf"))
print(f"| `{name}` | {node:.3f} | {pg:.3f} | {projected(16):,.0f} | {projected(32):,.0f} |")
PY
  done <<<"$cpu_lines"
} | tee "$work/scale_out.md"
