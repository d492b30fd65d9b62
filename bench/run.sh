#!/usr/bin/env bash
# Benchmarks the API against the same PostgreSQL doing the equivalent SQL (docs/architecture.md §12).
#   bench/run.sh [DURATION_SECONDS]   (default 30)
# Seeds 100k accounts, 300k deals and 1M interactions with COPY into a throwaway
# PostgreSQL 15, then for each endpoint runs pgbench (-n -M prepared -c 8 -j 2) on the
# equivalent SQL as nucleo_app (tenant set per transaction, as the server does) and wrk
# (-t2 -c8) on the HTTP route (the server at its default http.max_threads), and writes the table to
# docs/benchmarks.md. Not part of the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-30}
root=$(pwd)
scripts/install-deps.sh --test
command -v wrk >/dev/null || { sudo_=""; [[ $(id -u) -ne 0 ]] && sudo_=sudo; $sudo_ apt-get install -y -qq wrk >/dev/null; }
# NUCLEO_BENCH_BINARY: measure another build of nucleo (an older commit, for an A/B
# beside this tree's run on the same machine); default: this tree, built now.
if [[ -n "${NUCLEO_BENCH_BINARY:-}" ]]; then
  nucleo=$NUCLEO_BENCH_BINARY
else
  scripts/build.sh --target nucleo >/dev/null
  nucleo=$root/build/bin/nucleo
fi
# The plugin whose "lots" collection is a resource (bench/plugins/plugin.json), loaded by
# the server below to measure a plugin resource beside the core ones.
scripts/build.sh --target bench_host_call >/dev/null
bin=/usr/lib/postgresql/15/bin

work=$(mktemp -d /tmp/nucleo-bench-XXXXXX)
as_pg() { if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[[ $(id -u) -eq 0 ]] && chown postgres "$work"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
http_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cleanup() {
  trap ':' TERM INT  # from here a signal only ends a hold: the cleanup goes on
  [[ -n "${hold_pid:-}" ]] && { kill "$hold_pid" 2>/dev/null || true; }
  # BENCH_HOLD_AFTER=SECONDS: keep the database and server up after the measurements, as
  # they left them (EXPLAIN with the statistics a sync left behind).
  if [[ -n "${BENCH_HOLD_AFTER:-}" && -n "${server:-}" ]]; then
    echo "== holding ${BENCH_HOLD_AFTER} s: http://127.0.0.1:$http_port key ${key:-} tenant ${tenant:-}; psql host=127.0.0.1 port=$port dbname=nucleo user=nucleo_owner" >&2
    sleep "$BENCH_HOLD_AFTER" & hold_pid=$!
    wait "$hold_pid" || true
    kill "$hold_pid" 2>/dev/null || true
  fi
  [[ -n "${server:-}" ]] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  [[ -n "${imap_pid:-}" ]] && kill "$imap_pid" 2>/dev/null && wait "$imap_pid" 2>/dev/null
  [[ -n "${mail_dir:-}" ]] && rm -rf "$mail_dir"
  as_pg $bin/pg_ctl -D "$work/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
# Stopped by a signal (a held run ended with kill): exit, so the EXIT trap still stops
# PostgreSQL and the server and removes the work directory.
trap 'exit 143' TERM
trap 'exit 130' INT

echo "== PostgreSQL on port $port" >&2
as_pg $bin/initdb -D "$work/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
as_pg $bin/pg_ctl -D "$work/data" -l "$work/pg.log" -w \
  -o "-p $port -k $work -c listen_addresses=127.0.0.1 -c shared_buffers=1GB -c max_connections=100 -c shared_preload_libraries=pg_stat_statements" start >/dev/null
# psql itself, not Debian's Perl wrapper: the e-mail row polls it five times a second, and the
# wrapper's start-up took ~6 % of the CPU the sync it measures needs.
psql_as() { local role=$1; shift; $bin/psql -X -q -v ON_ERROR_STOP=1 "host=127.0.0.1 port=$port user=$role dbname=${DB:-nucleo}" "$@"; }
DB=postgres psql_as postgres -c "CREATE ROLE nucleo_owner LOGIN" -c "CREATE ROLE nucleo_app LOGIN" \
  -c "CREATE ROLE nucleo_worker LOGIN BYPASSRLS" -c "CREATE DATABASE nucleo OWNER nucleo_owner"

# pg_stat_statements counts the statements an idle server sends (the idle row below).
psql_as postgres -c "CREATE EXTENSION pg_stat_statements" >/dev/null
url() { echo "postgresql://$1@127.0.0.1:$port/nucleo"; }
export NUCLEO_STORE_URL=$(url nucleo_app) NUCLEO_STORE_WORKER_URL=$(url nucleo_worker) \
       NUCLEO_STORE_OWNER_URL=$(url nucleo_owner)
"$nucleo" migrate >/dev/null
tenant=$("$nucleo" tenant create --name Bench | sed -n 's/^id=//p')
admin=$("$nucleo" user create --tenant "$tenant" --name Bench --email bench@example.com --role admin | sed -n 's/^id=//p')
key=$("$nucleo" key create --tenant "$tenant" --name bench --role admin --user "$admin" 2>/dev/null | sed -n 's/^secret=//p')

echo "== seeding (COPY)" >&2
seed_start=$(date +%s)
scale=${BENCH_SCALE:-1}  # a smaller scale (0.01) for trying the harness out quickly
accounts=$(python3 -c "print(int(100000*$scale))") deals=$(python3 -c "print(int(300000*$scale))")
python3 bench/seed.py --tenant "$tenant" --out "$work" --accounts "$accounts" --deals "$deals" \
  --interactions "$(python3 -c "print(int(1000000*$scale))")" --lots "$deals"
psql_as nucleo_owner <<SQL
\copy pipelines (id, tenant_id, name, attributes, version, created_at, updated_at) FROM '$work/pipelines.csv' CSV
\copy stages (id, tenant_id, pipeline_id, name, position, probability, kind, rot_days, entry_criteria, checklist_template, version, created_at, updated_at) FROM '$work/stages.csv' CSV
\copy accounts (id, tenant_id, legal_name, lifecycle, tax_id_country, phones, emails, attributes, version, created_at, updated_at) FROM '$work/accounts.csv' CSV
\copy deals (id, tenant_id, name, account_id, contacts, pipeline_id, stage_id, amount, currency, status, stage_entered_at, attributes, version, created_at, updated_at) FROM '$work/deals.csv' CSV
\copy interactions (id, tenant_id, type, direction, channel, occurred_at, subject, account_id, attributes, version, created_at, updated_at) FROM '$work/interactions.csv' CSV
\copy plugin_records (tenant_id, plugin_id, collection, id, document, version, created_at, updated_at) FROM '$work/lots.csv' CSV
\copy plugin_record_index (tenant_id, plugin_id, collection, record_id, field, int_value, text_value) FROM '$work/lot_index.csv' CSV
CREATE SEQUENCE bench_seq;
GRANT USAGE ON SEQUENCE bench_seq TO nucleo_app;
SQL
# Vacuumed as long-lived tables would be: otherwise autovacuum wakes up on the fresh
# rows in the middle of a measurement (seen as a 200 ms p99 on the search run).
psql_as nucleo_owner -c "VACUUM ANALYZE pipelines, stages, accounts, deals, interactions, plugin_records, plugin_record_index"
echo "   seeded in $(( $(date +%s) - seed_start )) s" >&2

# A large audit log (issue 6): seeded as the sequencer would have written it, then the
# latency of inclusion proofs beside a single indexed lookup, before the server runs.
audit_events=${BENCH_AUDIT_EVENTS:-10000000}
proof_out=""
if [[ -z "${BENCH_ONLY:-}" || ",$BENCH_ONLY," == *",audit_proof,"* ]]; then
  scripts/build.sh --target audit_proof_latency >/dev/null
  echo "== audit log: seeding $audit_events events (COPY)" >&2
  build/bench/audit_proof_latency seed "$(url nucleo_owner)" "$tenant" "$audit_events"
  proof_out=$(build/bench/audit_proof_latency measure "$(url nucleo_app)" "$tenant" 20000)
  echo "$proof_out" >&2
fi

automation_lines=""
# Automation (issue #31): events/s through 100 active rules (most conditions false; none
# firing, then five rules firing on one event in 1,000 and in 100, creating a task each)
# beside the dispatcher's raw delivery of as many events in the same run (goal: ≥ 0.5×);
# the median of three rounds of each, alternated.
# Before the server runs: its own kernel:automation subscriber would fire the same rules.
if [[ -z "${BENCH_ONLY:-}" || "$BENCH_ONLY" == "automation" ]]; then
  echo "== automation rules" >&2
  scripts/build.sh --target automation_rules_throughput >/dev/null
  auto_line=""
  for hot_every in 0 1000 100; do
    auto_tenant=$("$nucleo" tenant create --name "Automation $hot_every" | sed -n 's/^id=//p')
    read -r raw_n raw_s raw_eps rule_n rule_s rule_eps rule_fired <<<"$(build/bench/automation_rules_throughput \
      "$(url nucleo_app)" "$(url nucleo_worker)" "$auto_tenant" "${BENCH_RULE_EVENTS:-50000}" "$hot_every")"
    ratio=$(python3 -c "print(f'{$rule_eps/$raw_eps:.2f}')")
    printf '   1 event in %s firing (0: none): raw dispatch %s events/s | through 100 rules %s events/s (%s firings) | ratio %s\n' \
      "$hot_every" "$raw_eps" "$rule_eps" "$rule_fired" "$ratio" >&2
    what="one event in $hot_every firing five rules"
    [[ $hot_every == 0 ]] && what="no rule firing"
    auto_line+="${auto_line:+; }$what ($rule_fired firings in 3 rounds): **$rule_eps events/s** beside **$raw_eps events/s** raw, ratio **$ratio**"
  done
  automation_lines+="- Automation rules (issue #31; goal ≥ 0.5×): ${BENCH_RULE_EVENTS:-50000} contact.created events through 100 enabled rules (60 whose conditions fail, 30 on deal events, 5 on every event failing on the event's name, 5 creating a task for contacts named \"Hot …\") beside the same dispatcher delivering as many such events to a subscriber that reads each envelope (\`build/bench/automation_rules_throughput\`; medians of three alternated rounds): $auto_line."$'\n'
fi

scripts/build.sh --target whatsapp --target email --target retail >/dev/null
job_workers=${BENCH_JOB_WORKERS:-4}  # jobs.workers: who turns queued WhatsApp notifications into interactions
printf 'plugins.bench.file = %s\nplugins.whatsapp.file = %s\njobs.workers = %s\n' "$root/build/bench/bench_host_call" \
  "$root/build/plugins/whatsapp/whatsapp" "$job_workers" > "$work/bench.properties"
# The e-mail channel reads its mailboxes every second; its IMAP server is on loopback.
printf 'plugins.email.file = %s\nplugins.email.config.poll = every 1s\noutbound.allow = 127.0.0.1/32\n' \
  "$root/build/plugins/email/email" >> "$work/bench.properties"
printf 'plugins.retail.file = %s\n' "$root/build/verticals/retail/retail" >> "$work/bench.properties"
# Checkpoints are signed as in production, so a subject's report carries its proofs.
"$nucleo" audit keygen --out "$work/signing.pem" >/dev/null
NUCLEO_AUDIT_SIGNING_KEY_FILE="$work/signing.pem" \
NUCLEO_HTTP_HOST=127.0.0.1 NUCLEO_HTTP_PORT=$http_port NUCLEO_LOG_LEVEL=${BENCH_LOG_LEVEL:-warning} NUCLEO_STORE_POOL_SIZE=16 \
  NUCLEO_LIMITS_RATE_PER_SECOND=1000000 NUCLEO_LIMITS_RATE_BURST=1000000 NUCLEO_HTTP_CURSOR_SECRET=bench \
  "$nucleo" serve --config "$work/bench.properties" 2>"$work/server.log" &
server=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$http_port/readyz" >/dev/null && break; sleep 0.1; done

# BENCH_HOLD=SECONDS: keep the seeded database and server up for probing by hand
# (EXPLAIN, /metrics, wrk with other settings) before the measurements.
if [[ -n "${BENCH_HOLD:-}" ]]; then
  echo "== holding ${BENCH_HOLD} s: http://127.0.0.1:$http_port key $key tenant $tenant; psql host=127.0.0.1 port=$port dbname=nucleo user=nucleo_owner" >&2
  sleep "$BENCH_HOLD" & hold_pid=$!
  wait "$hold_pid" || true  # a signal ends the wait at once (the traps above)
fi
# pgbench: tps and per-transaction latencies (µs) from its log → p50/p99.
# run_pgbench SCRIPT [ROLE [-D name=value…]]: as nucleo_app unless told, later -D win.
run_pgbench() {
  local script=$1 role=${2:-nucleo_app} log=$work/pgbench_$1
  shift; [[ $# -gt 0 ]] && shift
  rm -f "$log".*
  (cd "$work" && pgbench -n -M prepared -c 8 -j 2 -T "$duration" -D tenant="$tenant" -D accounts="$accounts" -D deals="$deals" -D audit_events="$audit_events" "$@" -l --log-prefix="$log" \
     -f "$root/bench/sql/$script.sql" "host=127.0.0.1 port=$port user=$role dbname=nucleo" 2>"$log.err") |
    sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -1
  cat "$log".* | awk '{print $3}' | sort -n | awk '{a[NR]=$1} END {printf " %.2f %.2f", a[int(NR*0.5)]/1000, a[int(NR*0.99)]/1000}'
}
# wrk: requests/s and p50/p99 (ms) from --latency.
ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; printf "%.2f", v}'; }
run_wrk() {
  local out
  out=$(NUCLEO_BENCH_KEY=$key NUCLEO_BENCH_DIR=$root/bench NUCLEO_BENCH_ACCOUNTS=$accounts NUCLEO_BENCH_DEALS=$deals NUCLEO_BENCH_AUDIT_EVENTS=$audit_events wrk -t2 -c8 -d"${duration}s" --timeout 60s --latency \
          -s "$root/bench/wrk/$1.lua" "http://127.0.0.1:$http_port" 2>&1)
  local errors=$(echo "$out" | sed -n 's/.*Non-2xx or 3xx responses: \([0-9]*\).*/\1/p')
  [[ -n "$errors" ]] && echo "   warning: $errors non-2xx responses on $1" >&2
  echo "$out" | sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p'
  echo " $(echo "$out" | awk '$1=="50%"{print $2}' | ms) $(echo "$out" | awk '$1=="99%"{print $2}' | ms)"
}

rows=""
cases=("get_deal|GET /v1/deals/{id}" "list_deals|GET /v1/deals?stage_id=…&limit=50"
       "list_deals_by_account|GET /v1/deals?account_id=…&limit=50"
       "get_lot|GET /v1/x/…/lots/{id} (a plugin resource)"
       "list_lots_by_account|GET /v1/x/…/lots?account_id=…&limit=50 (a plugin resource)"
       "create_interaction|POST /v1/interactions"
       "audit_proof|GET /v1/audit/proof/inclusion (SQL: one indexed lookup)")
# BENCH_ONLY=plugin_resources: the plugin resource's reads and the core reads they compare with;
# BENCH_ONLY=get_deal,list_deals: several of these cases.
selected() {
  [[ -z "${BENCH_ONLY:-}" || ",$BENCH_ONLY," == *",$1,"* ]] && return 0
  [[ "$BENCH_ONLY" == plugin_resources && " get_deal list_deals_by_account get_lot list_lots_by_account " == *" $1 "* ]]
}
declare -A api_rps_of
for case in "${cases[@]}"; do
  name=${case%%|*} label=${case#*|}
  selected "$name" || continue
  echo "== $label" >&2
  read -r sql_tps sql_p50 sql_p99 <<<"$(run_pgbench "$name" | tr '\n' ' ')"
  if [[ -z "$sql_tps" || "$sql_tps" == "0.00"* ]]; then echo "pgbench failed on $name:" >&2; cat "$work/pgbench_$name.err" >&2; exit 1; fi
  # pgbench's equivalent SQL records audit events too: let the server's sequencer drain
  # them first, so the API run neither pays for them nor counts them as merge delay.
  # pgbench is a writer from outside: it tells the nodes of its work as any other process
  # would (ADR 0037), or the server would find it only at its safety poll.
  psql_as nucleo_owner -c "NOTIFY nucleo_work, 'audit,outbox'" >/dev/null
  # The outbox too: a dispatcher still working through pgbench's events would slow the API run.
  backlog_sql="SELECT (SELECT count(*) FROM audit_pending) + (SELECT count(*) FROM outbox WHERE seq > (SELECT COALESCE(MIN(last_seq), 0) FROM event_subscribers))"
  drain_started=$(date +%s%3N) pending=$(psql_as nucleo_owner -At -c "$backlog_sql")
  for _ in $(seq 1 1200); do
    [[ $(psql_as nucleo_owner -At -c "$backlog_sql") == 0 ]] && break; sleep 0.1
  done
  [[ "$pending" != 0 ]] && echo "   $(( $(date +%s%3N) - drain_started )) ms to sequence and dispatch the $pending audit events and outbox rows pgbench left" >&2
  # The merge delay below is measured on the interaction run's own events.
  [[ "$name" == "create_interaction" ]] && interactions_started_at=$(date +%s%6N)
  read -r api_rps api_p50 api_p99 <<<"$(run_wrk "$name" | tr '\n' ' ')"
  if [[ -z "$api_rps" ]]; then echo "wrk got no answer on $name; the server's log:" >&2; tail -20 "$work/server.log" >&2; exit 1; fi
  api_rps_of[$name]=$api_rps
  ratio=$(python3 -c "print(f'{$api_rps/$sql_tps:.2f}')")
  printf '   pgbench %s tps (p50 %s ms, p99 %s ms) | wrk %s req/s (p50 %s ms, p99 %s ms) | ratio %s\n' \
    "$sql_tps" "$sql_p50" "$sql_p99" "$api_rps" "$api_p50" "$api_p99" "$ratio" >&2
  rows+="| \`$label\` | $(printf '%.0f' "$sql_tps") | $sql_p50 / $sql_p99 | $(printf '%.0f' "$api_rps") | $api_p50 / $api_p99 | **$ratio** |"$'\n'
done

# Proposals (issue #32): a 3-page proposal rendered to PDF beside the same document to
# HTML only (build/bench/proposal_render_throughput, one thread); and the page a public
# links open (50 of them, at random) — each view counted, an interaction kept current and
# proposal.viewed emitted, so a write — beside GET /v1/deals/{id}, both under wrk here.
proposal_lines=""
if [[ -z "${BENCH_ONLY:-}" || "$BENCH_ONLY" == "proposals" ]]; then
  echo "== proposals" >&2
  scripts/build.sh --target proposal_render_throughput >/dev/null
  read -r pdf_n pdf_rps html_n html_rps pdf_bytes <<<"$(build/bench/proposal_render_throughput "${BENCH_RENDER_SECONDS:-10}")"
  render_ratio=$(python3 -c "print(f'{$pdf_rps/$html_rps:.4f}')")
  printf '   PDF %s renders/s (%s bytes) | HTML only %s renders/s | ratio %s\n' "$pdf_rps" "$pdf_bytes" "$html_rps" "$render_ratio" >&2
  proposal_api() { curl -sf -X "$1" "http://127.0.0.1:$http_port$2" -H "Authorization: Bearer $key" -H 'Content-Type: application/json' ${3:+-d "$3"}; }
  proposal_body=$(python3 -c 'import json,sys; print(json.dumps({"deal_id": sys.argv[1], "title": "Fornecimento — bench",
    "lines": [{"description": f"Cateter periférico nº {i} — ação contínua", "quantity": 2, "unit_price": 150000} for i in range(38)]}))' \
    "deal_$(printf '%026d' 1)")
  proposal=$(proposal_api POST /v1/proposals "$proposal_body" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  # 50 customers' links (one is sent; 49 more issued): a link's views are one row's.
  NUCLEO_BENCH_PAGES=$(proposal_api POST "/v1/proposals/$proposal/send" '{}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["link"]["path"])')
  for _ in $(seq 1 49); do
    NUCLEO_BENCH_PAGES+=" $(proposal_api POST "/v1/proposals/$proposal/links" '{}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["path"])')"
  done
  export NUCLEO_BENCH_PAGES
  read -r page_rps page_p50 page_p99 <<<"$(run_wrk proposal_page | tr '\n' ' ')"
  read -r deal_rps deal_p50 deal_p99 <<<"$(run_wrk get_deal | tr '\n' ' ')"
  page_ratio=$(python3 -c "print(f'{$page_rps/$deal_rps:.2f}')")
  printf '   public page %s views/s (p50 %s ms, p99 %s ms) | GET /v1/deals/{id} %s req/s (p50 %s ms, p99 %s ms) | ratio %s\n' \
    "$page_rps" "$page_p50" "$page_p99" "$deal_rps" "$deal_p50" "$deal_p99" "$page_ratio" >&2
  proposal_lines+="- Proposals (issue #32): a 3-page proposal (38 lines with accents) rendered to PDF by cairo and pango **$pdf_rps renders/s** ($((pdf_bytes / 1024)) KiB) beside the same document to HTML only (Mustache) **$html_rps renders/s**, one thread (\`build/bench/proposal_render_throughput\`): ratio $render_ratio; the public link's page (50 links at random; each view a write: the link's count, its interaction, \`proposal.viewed\`) **$page_rps views/s** (p50 $page_p50 ms, p99 $page_p99 ms) beside \`GET /v1/deals/{id}\` **$deal_rps req/s** (p50 $deal_p50 ms, p99 $deal_p99 ms), wrk as above: ratio **$page_ratio**."$'\n'
fi

# Search (issue #29, ADR 0036): `legal_name contains` a common, a rare and a no-match term,
# each beside the best SQL a DBA would write (bench/sql/search_best.sql: the owner, no
# row-level security, the trigram index), at 100,000 accounts in one tenant, at 1,000,000,
# and at 100,000 again with nine more tenants of 100,000 beside it. Goals: every ratio
# ≥ 0.5; rare and no-match p50 ≤ 5 ms at a million.
search_rows=""
if [[ -z "${BENCH_ONLY:-}" || "$BENCH_ONLY" == "search" ]]; then
  search_scale=${BENCH_SEARCH_SCALE:-1}  # 0.01 to try the harness out
  next_account=100000000  # ids of the search tenants' accounts start here (seed.py's stop below)
  # seed_search_tenant NAME COUNT: a tenant with an admin key (seeded_tenant, seeded_key)
  # and COUNT accounts named as seed.py names them, except the fifth, "Sementes Agro 5
  # Ltda" — the one row the rare term finds.
  seed_search_tenant() {
    local t u k
    t=$("$nucleo" tenant create --name "$1" | sed -n 's/^id=//p')
    u=$("$nucleo" user create --tenant "$t" --name Bench --email "bench@$t.example.com" --role admin | sed -n 's/^id=//p')
    k=$("$nucleo" key create --tenant "$t" --name bench --role admin --user "$u" 2>/dev/null | sed -n 's/^secret=//p')
    python3 - "$t" "$2" "$next_account" "$work/search_accounts.csv" <<'PY'
import csv, random, sys
tenant, count, first, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
words = ["Agro", "Fazenda", "Cooperativa", "Sementes", "João", "Ação", "Pecuária", "Café", "Grãos", "Rural"]
random.seed(first)
now = 1_782_864_000_000_000
with open(out, "w", newline="") as f:
    w = csv.writer(f)
    for i in range(1, count + 1):
        name = "Sementes Agro 5 Ltda" if i == 5 else f"{random.choice(words)} {random.choice(words)} {i} Ltda"
        w.writerow([f"acc_{first + i:026d}", tenant, name, "lead", "BR", "[]", "[]", "{}", 1, now + i, now + i])
PY
    psql_as nucleo_owner -c "\\copy accounts (id, tenant_id, legal_name, lifecycle, tax_id_country, phones, emails, attributes, version, created_at, updated_at) FROM '$work/search_accounts.csv' CSV" >/dev/null
    next_account=$((next_account + $2))
    seeded_tenant=$t seeded_key=$k
  }
  search_at() {  # SCALE-LABEL TENANT KEY
    local entry kind term pattern matches sql_tps sql_p50 sql_p99 api_rps api_p50 api_p99 ratio
    psql_as nucleo_owner -c "VACUUM ANALYZE accounts" >/dev/null
    for entry in "common|sementes" "rare|agro 5 ltda" "no match|zzzz"; do
      kind=${entry%%|*} term=${entry#*|} pattern="%${entry#*|}%"
      matches=$(psql_as nucleo_owner -At -c "SELECT count(*) FROM accounts WHERE tenant_id = '$2' AND legal_name_folded LIKE '$pattern'")
      echo "== search, $1: $kind term '$term' ($matches accounts)" >&2
      read -r sql_tps sql_p50 sql_p99 <<<"$(run_pgbench search_best nucleo_owner -D tenant="$2" -D pattern="$pattern" | tr '\n' ' ')"
      if [[ -z "$sql_tps" || "$sql_tps" == "0.00"* ]]; then echo "pgbench failed:" >&2; cat "$work/pgbench_search_best.err" >&2; exit 1; fi
      read -r api_rps api_p50 api_p99 <<<"$(key=$3 NUCLEO_BENCH_TERM=$term run_wrk search_term | tr '\n' ' ')"
      ratio=$(python3 -c "print(f'{$api_rps/$sql_tps:.2f}')")
      printf '   best SQL %s tps (p50 %s ms, p99 %s ms) | wrk %s req/s (p50 %s ms, p99 %s ms) | ratio %s\n' \
        "$sql_tps" "$sql_p50" "$sql_p99" "$api_rps" "$api_p50" "$api_p99" "$ratio" >&2
      search_rows+="| $1 | $kind: \`$term\` ($matches) | $(printf '%.0f' "$sql_tps") | $sql_p50 / $sql_p99 | $(printf '%.0f' "$api_rps") | $api_p50 / $api_p99 | **$ratio** |"$'\n'
    done
  }
  hundred_k=$(python3 -c "print(int(100000*$search_scale))") million=$(python3 -c "print(int(1000000*$search_scale))")
  echo "== search: seeding $hundred_k accounts in a tenant" >&2
  seed_search_tenant "Search 100k" "$hundred_k"
  search_tenant=$seeded_tenant search_key=$seeded_key
  search_at "$hundred_k accounts" "$search_tenant" "$search_key"
  echo "== search: seeding $million accounts in a tenant" >&2
  seed_search_tenant "Search 1M" "$million"
  search_at "$million accounts" "$seeded_tenant" "$seeded_key"
  echo "== search: seeding nine more tenants of $hundred_k accounts" >&2
  for n in 2 3 4 5 6 7 8 9 10; do seed_search_tenant "Search 100k #$n" "$hundred_k"; done
  search_at "10 tenants × $hundred_k" "$search_tenant" "$search_key"
fi

# Plugin resources (issue #20; goal ≥ 0.8× the core resource): the same reads of a
# plugin's "lots" (three per account, like deals) beside deals, API to API, this run.
resource_lines=""
if [[ -n "${api_rps_of[get_lot]:-}" && -n "${api_rps_of[get_deal]:-}" ]]; then
  get_ratio=$(python3 -c "print(f'{${api_rps_of[get_lot]}/${api_rps_of[get_deal]}:.2f}')")
  list_ratio=$(python3 -c "print(f'{${api_rps_of[list_lots_by_account]}/${api_rps_of[list_deals_by_account]}:.2f}')")
  printf '   plugin resource ÷ core resource: get by id %s, list by account %s\n' "$get_ratio" "$list_ratio" >&2
  resource_lines+="- A plugin resource beside the core one (issue #20, goal ≥ 0.8): \`GET /v1/x/…/lots/{id}\` $(printf '%.0f' "${api_rps_of[get_lot]}") req/s ÷ \`GET /v1/deals/{id}\` $(printf '%.0f' "${api_rps_of[get_deal]}") req/s = **$get_ratio**; \`GET /v1/x/…/lots?account_id=…\` $(printf '%.0f' "${api_rps_of[list_lots_by_account]}") req/s ÷ \`GET /v1/deals?account_id=…\` $(printf '%.0f' "${api_rps_of[list_deals_by_account]}") req/s = **$list_ratio** (300,000 documents of the bench plugin's \`lots\`, three per account)."$'\n'
fi

# The sales process (issue #21): a stage move through a six-criterion gate beside the same
# move between two ungated stages (goal ≥ 0.7×), and the stalled-deal job's scan of every
# deal (goal: under a tenth of its 10-minute interval).
sales_lines=""
if [[ -z "${BENCH_ONLY:-}" || "$BENCH_ONLY" == "stage_gates" ]]; then
  echo "== POST /v1/deals/{id}/stage, ungated then through a six-criterion gate" >&2
  sid() { printf 'stg_%026d' "$1"; }
  now_us=$(date +%s%6N)
  gate=$(cat <<JSON
[{"kind": "field", "field": "amount", "op": "gte", "value": 1},
 {"kind": "field", "field": "currency", "op": "in", "value": ["BRL"]},
 {"kind": "field", "field": "account.legal_name", "op": "exists"},
 {"kind": "field", "field": "account.tax_id_country", "op": "eq", "value": "BR"},
 {"kind": "interactions", "types": ["visit"], "min_count": 1},
 {"kind": "checklist", "stage_id": "$(sid 100)"}]
JSON
)
  # Deals 1..10,000 move between two plain stages, 10,001..20,000 between two gated ones;
  # each of the latter has its checklist item done and a visit dated after any move.
  psql_as nucleo_owner <<SQL
INSERT INTO stages (id, tenant_id, pipeline_id, name, position, checklist_template, entry_criteria, version, created_at, updated_at) VALUES
  ('$(sid 100)', '$tenant', 'pipe_$(printf '%026d' 1)', 'Docs', 100, '[{"key": "docs", "title": "Docs", "required_for_exit": true}]', '[]', 1, $now_us, $now_us),
  ('$(sid 101)', '$tenant', 'pipe_$(printf '%026d' 1)', 'Plain A', 101, '[]', '[]', 1, $now_us, $now_us),
  ('$(sid 102)', '$tenant', 'pipe_$(printf '%026d' 1)', 'Plain B', 102, '[]', '[]', 1, $now_us, $now_us),
  ('$(sid 103)', '$tenant', 'pipe_$(printf '%026d' 1)', 'Gated A', 103, '[]', '$gate', 1, $now_us, $now_us),
  ('$(sid 104)', '$tenant', 'pipe_$(printf '%026d' 1)', 'Gated B', 104, '[]', '$gate', 1, $now_us, $now_us);
INSERT INTO tasks (id, tenant_id, title, status, kind, origin_rule, deal_id, required_for_exit, version, created_at, updated_at)
  SELECT 'task_' || lpad(g::text, 26, '0'), '$tenant', 'Docs', 'done', 'checklist', 'checklist:$(sid 100):docs',
         'deal_' || lpad(g::text, 26, '0'), 1, 1, $now_us, $now_us FROM generate_series(10001, 20000) g;
-- 'int_g…': bench/sql/create_interaction.sql's pgbench inserts 'int_b…' ids of its own.
INSERT INTO interactions (id, tenant_id, type, direction, occurred_at, deal_id, version, created_at, updated_at)
  SELECT 'int_g' || lpad(g::text, 25, '0'), '$tenant', 'visit', 'outbound', 4102444800000000,
         'deal_' || lpad(g::text, 26, '0'), 1, $now_us, $now_us FROM generate_series(10001, 20000) g;
ANALYZE stages, tasks, interactions;
SQL
  move() { NUCLEO_BENCH_MOVE_FIRST=$1 NUCLEO_BENCH_MOVE_POOL=5000 NUCLEO_BENCH_STAGE_A=$2 NUCLEO_BENCH_STAGE_B=$3 run_wrk move_stage; }
  read -r plain_rps plain_p50 plain_p99 <<<"$(move 1 "$(sid 101)" "$(sid 102)" | tr '\n' ' ')"
  read -r gated_rps gated_p50 gated_p99 <<<"$(move 10001 "$(sid 103)" "$(sid 104)" | tr '\n' ' ')"
  refused=$(psql_as nucleo_owner -At -c "SELECT count(*) FROM deals WHERE stage_id IN ('$(sid 103)', '$(sid 104)')")
  ratio=$(python3 -c "print(f'{$gated_rps/$plain_rps:.2f}')")
  printf '   ungated %s req/s (p50 %s, p99 %s ms) | gated %s req/s (p50 %s, p99 %s ms) | ratio %s (%s deals in the gated stages)\n' \
    "$plain_rps" "$plain_p50" "$plain_p99" "$gated_rps" "$gated_p50" "$gated_p99" "$ratio" "$refused" >&2
  sales_lines+="- A stage move through a six-criterion gate (four field criteria, two of them on the account; a visit since the deal entered its stage; an earlier stage's checklist done) beside the same move between two ungated stages, same run, 5,000 deals per wrk thread moved back and forth (goal ≥ 0.7): ungated **$(printf '%.0f' "$plain_rps") req/s** (p50 $plain_p50, p99 $plain_p99 ms), gated **$(printf '%.0f' "$gated_rps") req/s** (p50 $gated_p50, p99 $gated_p99 ms): ratio **$ratio**."$'\n'
  scripts/build.sh --target stall_scan >/dev/null
  stall_out=$(build/bench/stall_scan "$(url nucleo_app)" "$(url nucleo_worker)" "$tenant" 5000)
  echo "$stall_out" >&2
  sales_lines+="- The stalled-deal job (\`build/bench/stall_scan\`; goal: a scan under a tenth of its 10-minute interval, 60 s):"$'\n\n'"\`\`\`"$'\n'"$stall_out"$'\n'"\`\`\`"$'\n'
fi

# The web console (issue #34): the board and an account page loaded whole in headless
# chromium beside the same API requests without a browser, same run (goal: ≤ 3× and < 1 s).
console_lines=""
if [[ -z "${BENCH_ONLY:-}" || "$BENCH_ONLY" == "console" ]]; then
  echo "== the web console in chromium beside its API requests" >&2
  scripts/install-tools.sh
  console_password="bench console password"
  printf '%s\n' "$console_password" | "$nucleo" user set-password --tenant "$tenant" --user "$admin" >/dev/null
  cp bench/console/console_bench.mjs build/tools/  # beside playwright-core
  console_out=$(node build/tools/console_bench.mjs "http://127.0.0.1:$http_port" "$tenant" bench@example.com \
                  "$console_password" "pipe_$(printf '%026d' 1)" "acc_$(printf '%026d' 1)" 20)
  rm -f build/tools/console_bench.mjs
  console_lines+="- The web console (issue #34; goal: each view within 3× its API time and under 1 s), 20 loads each in headless chromium 156 (\`bench/console/console_bench.mjs\`): the time from navigation to the view drawn with its data, beside the same requests in the same order without a browser:"$'\n\n'"| view | browser p50 / p95 ms | API alone p50 / p95 ms | ratio (p50) |"$'\n'"|---|---|---|---|"$'\n'
  while IFS='|' read -r view b50 b95 a50 a95 ratio; do
    echo "   $view: browser p50 $b50 ms, p95 $b95 ms | API p50 $a50 ms, p95 $a95 ms | ratio $ratio" >&2
    console_lines+="| $view | $b50 / $b95 | $a50 / $a95 | **$ratio** |"$'\n'
  done <<<"$console_out"
fi

# Idle and slow clients (issue 17, ADR 0018): GET /v1/deals/{id} by wrk alone, then again
# while bench/slow_clients.py holds 1,000 idle and head-trickling connections open (from
# 25 loopback addresses) and probes /healthz on fresh connections every 50 ms.
slow_lines=""
if [[ -z "${BENCH_ONLY:-}" || "$BENCH_ONLY" == "slow_clients" ]]; then
  echo "== GET /v1/deals/{id} alone, then beside 1,000 idle and slow connections" >&2
  read -r plain_rps plain_p50 plain_p99 <<<"$(run_wrk get_deal | tr '\n' ' ')"
  (ulimit -n 4096; python3 bench/slow_clients.py --port "$http_port" --connections 1000 --seconds "$((duration + 3))" \
     > "$work/slow_clients.json") &
  slow_clients=$!
  sleep 2
  read -r slow_rps slow_p50 slow_p99 <<<"$(run_wrk get_deal | tr '\n' ' ')"
  wait "$slow_clients"
  slow_summary=$(python3 -c "
import json, sys
s = json.load(open('$work/slow_clients.json'))
print(f\"{s['held_min']} {s['held_avg']} {s['reopened']} {s['healthz_ok']} {s['healthz_failed']} {s['healthz_p50_ms']} {s['healthz_p99_ms']}\")")
  read -r held_min held_avg reopened probes_ok probes_failed probe_p50 probe_p99 <<<"$slow_summary"
  ratio=$(python3 -c "print(f'{$slow_rps/$plain_rps:.2f}')")
  printf '   alone %s req/s (p50 %s, p99 %s ms) | beside 1,000 slow connections %s req/s (p50 %s, p99 %s ms) | ratio %s\n' \
    "$plain_rps" "$plain_p50" "$plain_p99" "$slow_rps" "$slow_p50" "$slow_p99" "$ratio" >&2
  printf '   held %s–%s connections (%s reopened after the server cut them off); /healthz %s ok, %s failed, p50 %s ms, p99 %s ms\n' \
    "$held_min" "$held_avg" "$reopened" "$probes_ok" "$probes_failed" "$probe_p50" "$probe_p99" >&2
  slow_lines+="- Idle and slow clients (ADR 0018): \`GET /v1/deals/{id}\` by wrk alone **$(printf '%.0f' "$plain_rps") req/s** (p50 $plain_p50, p99 $plain_p99 ms), then beside 1,000 connections held open by [bench/slow_clients.py](../bench/slow_clients.py) (70% idle, 30% trickling a request head; at least $held_min open at every sample, $reopened reopened after the server's deadlines cut them off) **$(printf '%.0f' "$slow_rps") req/s** (p50 $slow_p50, p99 $slow_p99 ms): ratio **$ratio**. \`/healthz\` on a fresh connection every 50 ms meanwhile: $probes_ok answered, $probes_failed failed, p50 $probe_p50 ms, p99 $probe_p99 ms."$'\n'
fi

# Event dispatch (issue #9): events/s through the dispatcher to one in-process subscriber,
# beside pgbench writing outbox rows (the rate services produce events at, at most).
if [[ -z "${BENCH_ONLY:-}" || "$BENCH_ONLY" == "event_dispatch" ]]; then
  echo "== event dispatch" >&2
  read -r sql_tps sql_p50 sql_p99 <<<"$(run_pgbench outbox_insert | tr '\n' ' ')"
  scripts/build.sh --target events_dispatch_throughput >/dev/null
  read -r dispatched dispatch_s dispatch_eps <<<"$(build/bench/events_dispatch_throughput "$(url nucleo_worker)" "$tenant" "${BENCH_EVENTS:-200000}")"
  ratio=$(python3 -c "print(f'{$dispatch_eps/$sql_tps:.2f}')")
  printf '   pgbench %s outbox inserts/s | dispatcher %s events/s (%s events in %s s) | ratio %s\n' \
    "$sql_tps" "$dispatch_eps" "$dispatched" "$dispatch_s" "$ratio" >&2
  rows+="| event dispatch to one in-process subscriber (SQL: \`INSERT INTO outbox\`; API: events/s delivered) | $(printf '%.0f' "$sql_tps") | $sql_p50 / $sql_p99 | $dispatch_eps | – | **$ratio** |"$'\n'
fi

# WhatsApp (issue #22): Meta's notifications, one signed text message each, on the
# plugin's webhook — the 200 (signature checked, queued) under wrk's load, then the
# messages processed into interactions by the job workers — beside POST /v1/interactions
# in the same run (goal: messages/s ≥ 0.5× of it, the 200 at p99 ≤ 50 ms).
channel_lines=""
if [[ -z "${BENCH_ONLY:-}" || "$BENCH_ONLY" == "whatsapp" ]]; then
  echo "== WhatsApp webhook: accepted, then processed into interactions" >&2
  wa_number=106540352242922 wa_secret=bench-app-secret
  made=$(curl -s -X POST "http://127.0.0.1:$http_port/v1/channels/accounts" -H "Authorization: Bearer $key" \
          -H 'Content-Type: application/json' \
          -d "{\"plugin_id\": \"org.nucleo.whatsapp\", \"external_id\": \"$wa_number\", \"secrets\": {\"app_secret\": \"$wa_secret\"}}")
  chn=$(echo "$made" | python3 -c 'import json, sys; print(json.load(sys.stdin).get("id", ""))' 2>/dev/null || true)
  if [[ -z "$chn" ]]; then echo "creating the WhatsApp channel account: $made; the server's log:" >&2; tail -20 "$work/server.log" >&2; exit 1; fi
  python3 bench/whatsapp_seed.py --port "$http_port" --key "$key" --number "$wa_number" --secret "$wa_secret" \
    --senders 1000 --messages "$(( duration * 3000 ))" --out "$work/wa_bodies.txt"
  read -r base_rps base_p50 base_p99 <<<"$(run_wrk create_interaction | tr '\n' ' ')"
  wa_started=$(date +%s.%N)
  read -r wa_rps wa_p50 wa_p99 <<<"$(NUCLEO_BENCH_WA_BODIES=$work/wa_bodies.txt NUCLEO_BENCH_WA_NUMBER=$wa_number \
                                      run_wrk whatsapp_webhook | tr '\n' ' ')"
  for _ in $(seq 1 600); do
    [[ $(psql_as nucleo_owner -At -c "SELECT count(*) FROM jobs WHERE name = 'plugin:org.nucleo.whatsapp:inbound' AND dead_at IS NULL") == 0 ]] && break
    sleep 0.2
  done
  wa_done=$(date +%s.%N)
  read -r wa_messages wa_dead <<<"$(psql_as nucleo_owner -At -F ' ' -c "SELECT (SELECT count(*) FROM interactions WHERE channel = '$chn'), (SELECT count(*) FROM jobs WHERE name = 'plugin:org.nucleo.whatsapp:inbound' AND dead_at IS NOT NULL)")"
  wa_mps=$(python3 -c "print(f'{$wa_messages/($wa_done-$wa_started):.0f}')")
  ratio=$(python3 -c "print(f'{$wa_mps/$base_rps:.2f}')")
  printf '   POST /v1/interactions %s req/s (p50 %s, p99 %s ms) | webhook 200s %s req/s (p50 %s, p99 %s ms) | %s messages into interactions in %.1f s = %s msg/s (%s dead jobs) | ratio %s\n' \
    "$base_rps" "$base_p50" "$base_p99" "$wa_rps" "$wa_p50" "$wa_p99" "$wa_messages" "$(python3 -c "print($wa_done-$wa_started)")" "$wa_mps" "$wa_dead" "$ratio" >&2
  channel_lines+="- WhatsApp inbound (issue #22): Meta-shaped notifications, one signed text message each from 1,000 known senders, on \`POST /v1/x/org.nucleo.whatsapp/webhook/{number}\` (signature checked per channel account, queued, 200) — answered at **$(printf '%.0f' "$wa_rps") req/s, p50 $wa_p50 ms, p99 $wa_p99 ms** (goal p99 ≤ 50 ms); the $wa_messages messages were interactions (matched contact, conversation kept) **$wa_mps messages/s** from the first request to the last job (jobs.workers $job_workers), beside \`POST /v1/interactions\` **$(printf '%.0f' "$base_rps") req/s** in the same run: ratio **$ratio** (goal ≥ 0.5); $wa_dead dead jobs."$'\n'
fi

# E-mail (issue #23): a Dovecot mailbox of 10,000 messages from 1,000 known senders, read
# by curl (each message by UID over one connection, what the sync does) and then synced
# by the plugin into interactions, same run (goal: messages/s ≥ 0.3× of curl's fetch).
if [[ -z "${BENCH_ONLY:-}" || "$BENCH_ONLY" == "email" ]]; then
  echo "== e-mail: a mailbox synced over IMAP beside curl fetching it" >&2
  scripts/build.sh --target imap_mailbox >/dev/null
  mail_messages=${BENCH_MAIL_MESSAGES:-10000} mail_user=vendas@fornecedor.com.br
  mail_dir=$(mktemp -d /tmp/nucleo-bench-mail-XXXXXX)
  build/bench/imap_mailbox --dir "$mail_dir" --user "$mail_user" --password bench --messages "$mail_messages" \
    --senders 1000 >"$work/imap.out" 2>"$work/imap.err" &
  imap_pid=$!
  for _ in $(seq 1 600); do grep -q '^port=' "$work/imap.out" && break; sleep 0.2; done
  imap_port=$(sed -n 's/^port=//p' "$work/imap.out")
  [[ -n "$imap_port" ]] || { echo "the IMAP server did not start: $(cat "$work/imap.err")" >&2; exit 1; }
  imap_url="imap://127.0.0.1:$imap_port/INBOX"
  fetch_all() { curl -s --user "$mail_user:bench" "$imap_url;UID=[1-$mail_messages]" | wc -c; }
  t0=$(date +%s.%N); fetch_all >/dev/null; t1=$(date +%s.%N)  # Dovecot builds its index and cache
  t2=$(date +%s.%N); raw_bytes=$(fetch_all); t3=$(date +%s.%N)
  curl -s --user "$mail_user:bench" "$imap_url" -X 'UID STORE 1:* -FLAGS.SILENT (\Seen)' >/dev/null  # unread again
  raw_cold=$(python3 -c "print(f'{$mail_messages/($t1-$t0):.0f}')") raw_mps=$(python3 -c "print(f'{$mail_messages/($t3-$t2):.0f}')")
  python3 - "$http_port" "$key" <<'PY'
import json, sys, urllib.request
port, key = sys.argv[1], sys.argv[2]
for who in range(1000):
    body = json.dumps({"name": f"Cliente {who}", "email": f"cliente{who}@empresa{who % 50}.com.br"}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/contacts", body, method="POST",
                                     headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    urllib.request.urlopen(request).read()
PY
  made=$(curl -s -X POST "http://127.0.0.1:$http_port/v1/channels/accounts" -H "Authorization: Bearer $key" \
          -H 'Content-Type: application/json' \
          -d "{\"plugin_id\": \"org.nucleo.email\", \"external_id\": \"$mail_user\", \"secrets\": {\"imap_password\": \"bench\"}, \"config\": {\"address\": \"$mail_user\", \"smtp\": {\"host\": \"127.0.0.1\", \"port\": 25}, \"imap\": {\"host\": \"127.0.0.1\", \"port\": $imap_port, \"security\": \"none\"}}}")
  mail_chn=$(echo "$made" | python3 -c 'import json, sys; print(json.load(sys.stdin).get("id", ""))' 2>/dev/null || true)
  if [[ -z "$mail_chn" ]]; then echo "creating the mailbox: $made; the server's log:" >&2; tail -20 "$work/server.log" >&2; exit 1; fi
  # CPU seconds used so far by each program (PostgreSQL's backends, nucleo, the IMAP server), from /proc.
  cpu_by_program() { python3 -c '
import os, json
total = {}
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        stat = open(f"/proc/{pid}/stat").read()
    except OSError:
        continue
    name, fields = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
    total[name] = total.get(name, 0) + (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
print(json.dumps(total))'; }
  if [[ -n "${BENCH_STATEMENTS:-}" ]]; then
    psql_as postgres -At -c "SELECT pg_stat_statements_reset()" >/dev/null
    cpu_before=$(cpu_by_program)
  fi
  sync_started=$(date +%s.%N)
  # Polled through the index of the messages' external ids (every synced message has
  # one; a planner with the statistics of the seeding would scan the table), every
  # second; the sync ends at the last interaction's created_at. A count by channel alone
  # was a parallel scan of the table costing PostgreSQL ~90 ms five times a second — a
  # third of a core taken from the sync it measured.
  synced_count="SELECT count(*) FROM interactions WHERE tenant_id = '$tenant' AND channel = '$mail_chn' AND external_id IS NOT NULL"
  for _ in $(seq 1 600); do
    [[ $(psql_as nucleo_owner -At -c "SET enable_seqscan = off" -c "$synced_count") -ge $mail_messages ]] && break
    sleep 1
  done
  sync_done=$(psql_as nucleo_owner -At -c "SELECT max(created_at) / 1e6 FROM interactions WHERE tenant_id = '$tenant' AND channel = '$mail_chn'")
  synced=$(psql_as nucleo_owner -At -c "SET enable_seqscan = off" -c "$synced_count")
  matched=$(psql_as nucleo_owner -At -c "SELECT count(*) FROM interactions WHERE channel = '$mail_chn' AND contact_id IS NOT NULL")
  sync_mps=$(python3 -c "print(f'{$synced/($sync_done-$sync_started):.0f}')")
  # BENCH_STATEMENTS=1: the CPU each program spent during the sync, and what the sync
  # cost PostgreSQL statement by statement, costliest first.
  [[ -n "${BENCH_STATEMENTS:-}" ]] && python3 -c '
import json, sys
before, after = json.loads(sys.argv[1]), json.loads(sys.argv[2])
spent = sorted(((after[k] - before.get(k, 0), k) for k in after), reverse=True)
print("   CPU seconds during the sync: " + ", ".join(f"{name} {s:.1f}" for s, name in spent[:6] if s >= 0.1))' \
    "$cpu_before" "$(cpu_by_program)" >&2
  [[ -n "${BENCH_STATEMENTS:-}" ]] && psql_as postgres -c "SELECT calls, rows, round(mean_exec_time::numeric, 3) AS mean_ms, round(total_exec_time::numeric) AS total_ms, round((100 * total_exec_time / sum(total_exec_time) OVER ())::numeric, 1) AS pct, left(regexp_replace(query, '\s+', ' ', 'g'), 120) AS query FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = 'nucleo' ORDER BY total_exec_time DESC LIMIT 40" -c "SELECT sum(calls) AS statements, round(sum(total_exec_time)::numeric) AS total_ms FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = 'nucleo'" >&2
  ratio=$(python3 -c "print(f'{$sync_mps/$raw_mps:.2f}')")
  printf '   curl fetched %s messages (%s bytes) at %s msg/s (cold index: %s msg/s) | synced %s (%s matched) in %.1f s = %s msg/s | ratio %s\n' \
    "$mail_messages" "$raw_bytes" "$raw_mps" "$raw_cold" "$synced" "$matched" "$(python3 -c "print($sync_done-$sync_started)")" "$sync_mps" "$ratio" >&2
  channel_lines+="- E-mail sync (issue #23): a Dovecot mailbox of $mail_messages messages (multipart/alternative, ~2 KB, 1,000 known senders) — \`curl imap://…/INBOX;UID=[1-$mail_messages]\` fetched it at **$raw_mps messages/s** (one connection, Dovecot's index warm; $raw_cold messages/s cold); the plugin's sync (poll every 1 s, 4 IMAP connections) made **$sync_mps messages/s** into interactions ($matched of $synced matched to their contact, conversations kept), from the account's creation to the last one: ratio **$ratio** (goal ≥ 0.3)."$'\n'
  kill "$imap_pid" 2>/dev/null && wait "$imap_pid" 2>/dev/null; imap_pid=""
fi

# Seconds for COPY to write every row `nucleo import` wrote for the benchmark's contacts
# into empty tables like the real ones: the rows are read back (the audit event from its
# sequenced leaf, as it waited in audit_pending), then copied in one transaction.
import_rows_by_copy() {
  local imported_ids="SELECT entity_id FROM contact_points WHERE value LIKE '%@importado%'" t
  local -A columns=(
    [contacts]="id, tenant_id, name, account_id, email, phone, job_title, consent, owner_id, attributes, version, created_at, updated_at"
    [contact_points]="tenant_id, entity_type, entity_id, kind, value"
    [privacy_subject_keys]="tenant_id, subject_id, key, created_at"
    [audit_sealed_values]="event_id, tenant_id, subject_id, field, side, sealed"
    [outbox]="seq, id, tenant_id, name, occurred_at, actor, entity_type, entity_id, data, causation_id, depth, request_id"
    [audit_pending]="seq, id, tenant_id, recorded_at, actor_type, actor_id, action, entity_type, entity_id, request_id, changes, personal_fields"
  )
  # The column that names the imported contact, per table; the audit event is read from its leaf.
  local -A contact_column=([contacts]=id [contact_points]=entity_id [privacy_subject_keys]=subject_id
                           [audit_sealed_values]=subject_id [outbox]=entity_id)
  local -A rows=(
    [audit_pending]="SELECT seq, id, tenant_id, recorded_at, actor_type, actor_id, action, entity_type, entity_id, leaf::jsonb->>'request_id', leaf::jsonb->'changes', '[\"email\",\"job_title\",\"name\"]' FROM audit_log WHERE entity_id IN ($imported_ids)"
  )
  for t in "${!contact_column[@]}"; do
    rows[$t]="SELECT ${columns[$t]} FROM $t WHERE ${contact_column[$t]} IN ($imported_ids)"
  done
  local tables=(contacts contact_points privacy_subject_keys audit_sealed_values outbox audit_pending) t0 t1
  echo '\timing on' > "$work/copy-all.sql"
  for t in "${tables[@]}"; do
    psql_as nucleo_owner -c "\\copy (${rows[$t]}) TO '$work/copy-all-$t.csv' CSV" \
      -c "CREATE TABLE copy_all_$t (LIKE $t INCLUDING ALL)" \
      -c "ALTER TABLE copy_all_$t ADD FOREIGN KEY (tenant_id) REFERENCES tenants (id)" >/dev/null
    echo "\\copy copy_all_$t (${columns[$t]}) FROM '$work/copy-all-$t.csv' CSV" >> "$work/copy-all.sql"
  done
  t0=$(date +%s.%N)
  psql_as nucleo_owner --single-transaction -f "$work/copy-all.sql" > "$work/copy-all.out"
  t1=$(date +%s.%N)
  # Each table's share (psql's \timing, in the order above), for the findings.
  paste -d' ' <(printf '%s\n' "${tables[@]}") <(sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' "$work/copy-all.out") \
    <(for t in "${tables[@]}"; do wc -l < "$work/copy-all-$t.csv"; done) |
    awk '{printf "     %-22s %8d rows %8.0f ms\n", $1, $3, $2}' >&2
  python3 -c "print(f'{$t1-$t0:.3f}')"
}

# Import (issue #24): the same contacts loaded by `nucleo import` (mapping, validation,
# normalisation, one audit event each) and by COPY into the same table, same run
# (goal: ≥ 0.5× COPY's rows/s).
if [[ -z "${BENCH_ONLY:-}" || "$BENCH_ONLY" == "import" ]]; then
  echo "== import: nucleo import beside COPY" >&2
  import_rows=${BENCH_IMPORT_ROWS:-20000}
  python3 - "$work" "$import_rows" "$tenant" <<'PY'
import sys
work, n, tenant = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with open(f"{work}/import.csv", "w") as f, open(f"{work}/copy.csv", "w") as g:
    f.write("Nome;E-mail;Cargo\n")
    for i in range(n):
        f.write(f"Contato {i};contato{i}@importado{i % 97}.com.br;Compras\n")
        g.write(f"con_copy{i:020d},{tenant},Contato {i},contato{i}@importado{i % 97}.com.br,Compras,1,1,1\n")
PY
  printf '%s' '{"entity": "contact", "key": "email", "columns": {"Nome": "name", "E-mail": "email", "Cargo": "job_title"}}' \
    > "$work/import-mapping.json"
  t0=$(date +%s.%N)
  # Peak RSS (KiB) of the import, read by its parent.
  import_rss=$(python3 -c 'import resource, subprocess, sys
with open(sys.argv[1], "w") as out, open(sys.argv[2], "w") as err:
    subprocess.run(sys.argv[3:], stdout=out, stderr=err, check=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$work/import.out" "$work/import.err" \
    "$nucleo" import --tenant "$tenant" --file "$work/import.csv" --mapping "$work/import-mapping.json")
  t1=$(date +%s.%N)
  imported=$(sed -n 's/^created=//p' "$work/import.out")
  # The server's sequencer makes the import's audit events provable: how long after the
  # import ended until none waits.
  for _ in $(seq 1 3000); do  # at most 10 minutes
    [[ $(psql_as nucleo_owner -At -c "SELECT count(*) FROM audit_pending") == 0 ]] && break
    sleep 0.2
  done
  catch_up=$(python3 -c "print(f'{$(date +%s.%N)-$t1:.1f}')")
  t1b=$(date +%s.%N)
  psql_as nucleo_owner -c "\\copy contacts (id, tenant_id, name, email, job_title, version, created_at, updated_at) FROM '$work/copy.csv' CSV" >/dev/null
  t2=$(date +%s.%N)
  import_rps=$(python3 -c "print(f'{$imported/($t1-$t0):.0f}')") copy_rps=$(python3 -c "print(f'{$import_rows/($t2-$t1b):.0f}')")
  import_ratio=$(python3 -c "print(f'{$import_rps/$copy_rps:.3f}')")
  printf '   nucleo import %s of %s rows at %s rows/s (peak RSS %s MiB; sequencer caught up %s s later) | COPY %s rows/s | ratio %s\n' \
    "$imported" "$import_rows" "$import_rps" "$((import_rss / 1024))" "$catch_up" "$copy_rps" "$import_ratio" >&2
  # A second baseline: COPY of every row the import wrote (the contact, its contact point,
  # its data-subject key, its sealed values, its domain event and its audit event as it
  # waited to be sequenced), into tables like the real ones (same columns, indexes,
  # generated columns and foreign keys to tenants), one transaction.
  copy_all_s=$(import_rows_by_copy)
  copy_all_rps=$(python3 -c "print(f'{$imported/$copy_all_s:.0f}')")
  copy_all_ratio=$(python3 -c "print(f'{$import_rps/$copy_all_rps:.3f}')")
  printf '   COPY of every row the import wrote (%s contacts, 8 rows each): %s contacts/s | ratio %s\n' \
    "$imported" "$copy_all_rps" "$copy_all_ratio" >&2
  channel_lines+="- Import (issue #24): $import_rows contacts from CSV — \`nucleo import\` (mapping, validation, normalisation, one audit event each, key e-mail) **$import_rps rows/s** ($imported created) beside \`COPY\` of the same rows into \`contacts\` **$copy_rps rows/s**: ratio **$import_ratio** (goal ≥ 0.5); the import's peak RSS $((import_rss / 1024)) MiB; the server's sequencer had sealed all its audit events $catch_up s after it ended. \`COPY\` of every row the import wrote (contact, contact point, data-subject key, 3 sealed values, domain event, audit event) into tables like the real ones: **$copy_all_rps contacts/s**, ratio **$copy_all_ratio**."$'\n'
fi

# Import on SQLite (issue #24): the same contacts loaded by `nucleo import` into an
# embedded database and by sqlite3's .import into the same table of a copy of it.
if [[ -z "${BENCH_ONLY:-}" || "$BENCH_ONLY" == "import_sqlite" ]]; then
  command -v sqlite3 >/dev/null || { sudo_=""; [[ $(id -u) -ne 0 ]] && sudo_=sudo; $sudo_ apt-get install -y -qq sqlite3 >/dev/null; }
  echo "== import on SQLite: nucleo import beside sqlite3 .import" >&2
  sqlite_rows=${BENCH_SQLITE_IMPORT_ROWS:-100000}
  sdir=$work/sqlite
  mkdir -p "$sdir"
  on_sqlite() { NUCLEO_STORE_URL="sqlite://$sdir/nucleo.db" NUCLEO_STORE_WORKER_URL= NUCLEO_STORE_OWNER_URL= "$nucleo" "$@"; }
  on_sqlite migrate >/dev/null
  stenant=$(on_sqlite tenant create --name Bench | sed -n 's/^id=//p')
  cp "$sdir/nucleo.db" "$sdir/copy.db"
  # The sqlite3 shell has no nucleo_fold (the server registers it on each connection): the
  # copy's baseline goes without the contacts' search-index triggers and folded indexes.
  sqlite3 "$sdir/copy.db" "SELECT 'DROP ' || type || ' ' || name || ';' FROM sqlite_master
    WHERE tbl_name = 'contacts' AND (type = 'trigger' OR (type = 'index' AND sql LIKE '%nucleo_fold%'))" |
    sqlite3 "$sdir/copy.db"
  columns=$(sqlite3 "$sdir/copy.db" "SELECT group_concat(name, ',') FROM pragma_table_info('contacts')")
  python3 - "$sdir" "$sqlite_rows" "$stenant" "$columns" <<'PY'
import sys
d, n, tenant, columns = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4].split(",")
with open(f"{d}/import.csv", "w") as f, open(f"{d}/copy.csv", "w") as g:
    f.write("Nome;E-mail;Cargo\n")
    for i in range(n):
        f.write(f"Contato {i};contato{i}@importado{i % 97}.com.br;Compras\n")
        row = {"id": f"con_copy{i:020d}", "tenant_id": tenant, "name": f"Contato {i}",
               "email": f"contato{i}@importado{i % 97}.com.br", "job_title": "Compras",
               "version": "1", "created_at": "1", "updated_at": "1", "attributes": "{}"}
        g.write(",".join(row.get(c, "") for c in columns) + "\n")
PY
  printf '%s' '{"entity": "contact", "key": "email", "columns": {"Nome": "name", "E-mail": "email", "Cargo": "job_title"}}' \
    > "$sdir/mapping.json"
  t0=$(date +%s.%N)
  on_sqlite import --tenant "$stenant" --file "$sdir/import.csv" --mapping "$sdir/mapping.json" >"$sdir/import.out" 2>"$sdir/import.err"
  t1=$(date +%s.%N)
  sqlite3 "$sdir/copy.db" -cmd ".mode csv" ".import $sdir/copy.csv contacts"
  t2=$(date +%s.%N)
  s_imported=$(sed -n 's/^created=//p' "$sdir/import.out")
  s_import_rps=$(python3 -c "print(f'{$s_imported/($t1-$t0):.0f}')") s_copy_rps=$(python3 -c "print(f'{$sqlite_rows/($t2-$t1):.0f}')")
  s_ratio=$(python3 -c "print(f'{$s_import_rps/$s_copy_rps:.3f}')")
  printf '   nucleo import %s of %s rows at %s rows/s | sqlite3 .import %s rows/s | ratio %s\n' "$s_imported" "$sqlite_rows" "$s_import_rps" "$s_copy_rps" "$s_ratio" >&2
  channel_lines+="- Import on SQLite (issue #24): $sqlite_rows contacts from CSV into an embedded database — \`nucleo import\` **$s_import_rps rows/s** ($s_imported created) beside \`sqlite3 .import\` of the same rows into \`contacts\` of a copy without the search-index triggers **$s_copy_rps rows/s**: ratio **$s_ratio**."$'\n'
fi

# The CNES extract (issue #27): a tbEstabelecimento file through the healthcare pack's
# import format (`nucleo import --format cnes`: ISO-8859-1, check digits, an account per
# CNPJ and every establishment in the pack's store) beside the generic import of the same
# establishments as a plain CSV of accounts (one row each, key tax id), same run.
if [[ -z "${BENCH_ONLY:-}" || "$BENCH_ONLY" == "cnes" ]]; then
  cnes_rows=${BENCH_CNES_ROWS:-20000}
  echo "== CNES: nucleo import --format cnes beside the generic import" >&2
  scripts/build.sh --target healthcare >/dev/null
  printf 'plugins.healthcare.file = %s\n' "$root/build/verticals/healthcare/healthcare" > "$work/healthcare.properties"
  python3 tests/fixtures/registries/make_cnes.py "$cnes_rows" "$work/cnes.csv"
  python3 - "$work" <<'PY'
import csv, sys
work = sys.argv[1]
with open(f"{work}/cnes.csv", encoding="iso-8859-1") as f, open(f"{work}/cnes-accounts.csv", "w") as g:
    g.write("Razao;Fantasia;CNPJ;CNES\n")
    for r in csv.DictReader(f, delimiter=";"):
        g.write(f"{r['NO_RAZAO_SOCIAL']};{r['NO_FANTASIA']};{r['NU_CNPJ'] or r['NU_CNPJ_MANTENEDORA']};{r['CO_CNES']}\n")
PY
  printf '%s' '{"entity": "account", "key": "tax_id", "columns": {"Razao": "legal_name", "Fantasia": "trade_name", "CNPJ": "tax_id", "CNES": "attributes.health.cnes"}}' \
    > "$work/cnes-mapping.json"
  cnes_tenant=$("$nucleo" tenant create --name CNES | sed -n 's/^id=//p')
  plain_tenant=$("$nucleo" tenant create --name Plain | sed -n 's/^id=//p')
  t0=$(date +%s.%N)
  "$nucleo" import --config "$work/healthcare.properties" --tenant "$cnes_tenant" --file "$work/cnes.csv" --format cnes \
    > "$work/cnes.out" 2> "$work/cnes.err"
  t1=$(date +%s.%N)
  "$nucleo" import --config "$work/healthcare.properties" --tenant "$plain_tenant" --file "$work/cnes-accounts.csv" \
    --mapping "$work/cnes-mapping.json" > "$work/cnes-plain.out" 2> "$work/cnes-plain.err"
  t2=$(date +%s.%N)
  cnes_written=$(( $(sed -n 's/^created=//p' "$work/cnes.out") + $(sed -n 's/^updated=//p' "$work/cnes.out") ))
  plain_written=$(( $(sed -n 's/^created=//p' "$work/cnes-plain.out") + $(sed -n 's/^updated=//p' "$work/cnes-plain.out") ))
  cnes_lps=$(python3 -c "print(f'{$cnes_rows/($t1-$t0):.0f}')") plain_lps=$(python3 -c "print(f'{$cnes_rows/($t2-$t1):.0f}')")
  cnes_ratio=$(python3 -c "print(f'{$cnes_lps/$plain_lps:.2f}')")
  printf '   cnes %s lines at %s lines/s (%s rows written) | generic %s lines/s (%s rows written) | ratio %s\n' \
    "$cnes_rows" "$cnes_lps" "$cnes_written" "$plain_lps" "$plain_written" "$cnes_ratio" >&2
  channel_lines+="- CNES extract (issue #27): $cnes_rows establishments in DATASUS's layout — \`nucleo import --format cnes\` (the healthcare pack's parser: ISO-8859-1, check digits, an account per CNPJ and every establishment in the pack's store, one audit event each) **$cnes_lps lines/s** ($cnes_written rows written) beside the generic import of the same establishments as a plain CSV of accounts (key tax id) **$plain_lps lines/s** ($plain_written rows written): ratio **$cnes_ratio**."$'\n'
fi

# PEP screening (issue #27): the finance pack's screening job over a tenant's contacts
# against the CGU's list (loaded through its import format), beside the same matches by a
# plain indexed lookup in SQL (folded names and visible CPF digits in two tables, joined)
# in the same run.
if [[ -z "${BENCH_ONLY:-}" || "$BENCH_ONLY" == "pep" ]]; then
  pep_rows=${BENCH_PEP_ROWS:-150000} pep_contacts=${BENCH_PEP_CONTACTS:-100000}
  echo "== PEP screening: $pep_contacts contacts against a $pep_rows-row list" >&2
  scripts/build.sh --target finance >/dev/null
  printf 'plugins.finance.file = %s\n' "$root/build/verticals/finance/finance" > "$work/finance.properties"
  pep_tenant=$("$nucleo" tenant create --name PEP | sed -n 's/^id=//p')
  python3 tests/fixtures/registries/make_pep.py "$pep_rows" "$work/pep.csv"
  python3 - "$work" "$pep_contacts" "$pep_tenant" <<'PY'
import csv, json, random, sys, unicodedata
work, n, tenant = sys.argv[1], int(sys.argv[2]), sys.argv[3]
fold = lambda s: " ".join("".join(c for c in unicodedata.normalize("NFD", s.upper()) if c.isalnum() or c == " ")
                          .replace("_", " ").split())
def cpf(body9):
    d = [int(x) for x in body9]
    for size in (9, 10):
        r = sum(a * b for a, b in zip(d, range(size + 1, 1, -1))) % 11
        d.append(0 if r < 2 else 11 - r)
    return "".join(map(str, d))
rng = random.Random(5)
entries = list(csv.DictReader(open(f"{work}/pep.csv", encoding="iso-8859-1"), delimiter=";"))
with open(f"{work}/pep-names.csv", "w") as f:
    for e in entries:
        f.write(f"{fold(e['Nome_PEP'])},{e['CPF'][4:7]}{e['CPF'][8:11]}\n")
with open(f"{work}/pep-contacts.csv", "w", newline="") as f, open(f"{work}/pep-contact-names.csv", "w") as g:
    out = csv.writer(f)
    for i in range(n):
        if i % 100 == 0:  # 1 in 100 is on the list
            e = rng.choice(entries)
            name, number = e["Nome_PEP"].title(), cpf(f"{rng.randrange(0, 1000):03d}" + e["CPF"][4:7] + e["CPF"][8:11])
        else:
            name, number = f"Pessoa Bench {i} da Silva", cpf(f"{rng.randrange(0, 10**9):09d}")
        if i % 3 == 0:
            number = ""  # a third without a CPF: compared by the name alone
        attributes = json.dumps({"finance.cpf": number}) if number else "{}"
        out.writerow([f"con_pep{i:021d}", tenant, name, attributes, 1, 1, 1])
        g.write(f"{fold(name)},{number[3:9] if number else ''}\n")
PY
  t0=$(date +%s.%N)
  "$nucleo" import --config "$work/finance.properties" --tenant "$pep_tenant" --file "$work/pep.csv" --format cgu_pep \
    > "$work/pep.out" 2> "$work/pep.err"
  t1=$(date +%s.%N)
  psql_as nucleo_owner -c "\\copy contacts (id, tenant_id, name, attributes, version, created_at, updated_at) FROM '$work/pep-contacts.csv' CSV" >/dev/null
  screened=$("$nucleo" plugins run-job --config "$work/finance.properties" --tenant "$pep_tenant" --plugin org.nucleo.finance \
    --job pep-screening --payload '{"force": true}' 2>"$work/screen.err" | sed -n 's/^seconds=//p')
  pep_hits=$(psql_as nucleo_owner -At -c "SELECT count(*) FROM plugin_records WHERE tenant_id = '$pep_tenant' AND collection = 'screening_hits'")
  psql_as nucleo_owner -c "CREATE TABLE bench_pep (name_folded text, cpf_visible text)" \
    -c "CREATE TABLE bench_people (name_folded text, cpf_visible text)" \
    -c "\\copy bench_pep FROM '$work/pep-names.csv' CSV" -c "\\copy bench_people FROM '$work/pep-contact-names.csv' CSV" \
    -c "CREATE INDEX ON bench_pep (name_folded)" -c "ANALYZE bench_pep" -c "ANALYZE bench_people" >/dev/null
  t2=$(date +%s.%N)
  sql_hits=$(psql_as nucleo_owner -At -c "SELECT count(*) FROM bench_people c JOIN bench_pep p ON p.name_folded = c.name_folded
                                          AND (c.cpf_visible IS NULL OR p.cpf_visible = c.cpf_visible)")
  t3=$(date +%s.%N)
  list_rps=$(python3 -c "print(f'{$pep_rows/($t1-$t0):.0f}')") sql_s=$(python3 -c "print(f'{$t3-$t2:.2f}')")
  screened=$(python3 -c "print(f'{$screened:.2f}')")
  pep_ratio=$(python3 -c "print(f'{$sql_s/$screened:.3f}')")
  printf '   list %s rows at %s rows/s | screening %s contacts in %s s (%s hits) | SQL join %s s (%s matches) | ratio %s\n' \
    "$pep_rows" "$list_rps" "$pep_contacts" "$screened" "$pep_hits" "$sql_s" "$sql_hits" "$pep_ratio" >&2
  channel_lines+="- PEP screening (issue #27): the CGU's list of $pep_rows rows loaded through the finance pack's format (\`nucleo import --format cgu_pep\`) at **$list_rps rows/s**; the pack's screening job (\`nucleo plugins run-job … pep-screening\`: the list indexed in memory, every contact paged through, each hit recorded once) over $pep_contacts contacts (1 in 100 on the list, a third without a CPF) **$screened s** ($pep_hits hits) beside a plain indexed lookup of the same folded names and visible CPF digits in SQL (two tables, a join; it does not know who is past the grace period) **$sql_s s** ($sql_hits matches): ratio **$pep_ratio**."$'\n'
fi

# Retail figures (issue #28): a retailer's sell-through, coverage, channel inventory… per
# store, per product and in total over a year of sell-out — the retail pack's route, three
# facts.aggregate calls (one per fact set, its levels as GROUPING SETS) — beside the same
# aggregation written as one SQL query on the same table, as nucleo_app under row-level
# security as the server reads it, in the same run. Facts are seeded with INSERT … SELECT.
if [[ -z "${BENCH_ONLY:-}" || "$BENCH_ONLY" == "retail" ]]; then
  stores=$(python3 -c "print(max(1, int(2000 * $scale)))") gtins=500 weeks_each=10  # 2,000 × 500 × 10 = 10M lines
  echo "== retail: $((stores * gtins * weeks_each)) sell-out lines, $stores stores, $gtins GTINs, 52 weeks" >&2
  retail_cnpj=11444777000161
  retailer=$(curl -sf -X POST "http://127.0.0.1:$http_port/v1/accounts" -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
    -d "{\"legal_name\": \"Rede Bench\", \"tax_id\": \"$retail_cnpj\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  # Days since 1970-01-01: the year's 52 Sundays end on 2026-11-29 (day 20786).
  last=20786 first=$((20786 - 7 * 51))
  psql_as nucleo_owner >/dev/null <<SQL
INSERT INTO plugin_facts (tenant_id, plugin_id, fact_set, day, d1, d2, d3, d4, m1, m2)
SELECT '$tenant', 'org.nucleo.retail', 'sell_out', $first + 7 * ((s * 7 + g * 3 + k * 5) % 52),
       lpad(g::text, 13, '0'), lpad(s::text, 13, '0'), '$retail_cnpj', '', 1 + (s + g + k) % 20, 100 * (1 + (s + g + k) % 20) * 199
FROM generate_series(1, $stores) s, generate_series(1, $gtins) g, generate_series(0, $((weeks_each - 1))) k;
INSERT INTO plugin_facts (tenant_id, plugin_id, fact_set, day, d1, d2, d3, d4, m1, m2)
SELECT '$tenant', 'org.nucleo.retail', 'sell_in', $first + 7 * ((s + g) % 52), lpad(g::text, 13, '0'), lpad(s::text, 13, '0'),
       '$retail_cnpj', '', 24, 24 * 1200
FROM generate_series(1, $stores) s, generate_series(1, $gtins) g;
INSERT INTO plugin_facts (tenant_id, plugin_id, fact_set, day, d1, d2, d3, d4, m1)
SELECT '$tenant', 'org.nucleo.retail', 'inventory', d, lpad(g::text, 13, '0'), lpad(s::text, 13, '0'), '$retail_cnpj', '', (s * g + d) % 40
FROM generate_series(1, $stores) s, generate_series(1, $gtins) g, (VALUES ($first - 7), ($last)) AS v(d);
ANALYZE plugin_facts;
SQL
  period="period_start=2025-12-01&period_end=2026-11-29"
  retail_route() { curl -sf -o "$work/retail.json" -w '%{time_total}' -H "Authorization: Bearer $key" \
    "http://127.0.0.1:$http_port/v1/x/org.nucleo.retail/retailers/$retailer/performance?$period&by=store,product"; }
  # The same figures' sums as one query: each set's rows read once, grouped per store, per
  # product and in total (GROUPING SETS), joined by level and key.
  cat > "$work/retail.sql" <<SQL
BEGIN;
SELECT set_config('nucleo.tenant_id', '$tenant', true);
WITH o AS (SELECT GROUPING(d2, d1) AS level, coalesce(d2, '') AS location, coalesce(d1, '') AS gtin, sum(m1) FILTER (WHERE day >= $first - 6) AS sold,
                  sum(m2) FILTER (WHERE day >= $first - 6) AS revenue, sum(m1) FILTER (WHERE day >= $last - 27) AS window_sold
           FROM plugin_facts WHERE tenant_id = '$tenant' AND plugin_id = 'org.nucleo.retail' AND fact_set = 'sell_out'
             AND d3 = '$retail_cnpj' AND day BETWEEN $first - 6 AND $last GROUP BY GROUPING SETS ((d2), (d1), ())),
     i AS (SELECT GROUPING(d2, d1) AS level, coalesce(d2, '') AS location, coalesce(d1, '') AS gtin, sum(m1) AS received
           FROM plugin_facts WHERE tenant_id = '$tenant' AND plugin_id = 'org.nucleo.retail' AND fact_set = 'sell_in'
             AND d3 = '$retail_cnpj' AND day BETWEEN $first - 6 AND $last GROUP BY GROUPING SETS ((d2), (d1), ())),
     v AS (SELECT GROUPING(d2, d1) AS level, coalesce(d2, '') AS location, coalesce(d1, '') AS gtin, sum(m1) FILTER (WHERE day = $first - 7) AS opening,
                  sum(m1) FILTER (WHERE day = $last) AS closing, count(*) FILTER (WHERE day >= $first - 6 AND m1 = 0) AS empty,
                  count(*) FILTER (WHERE day >= $first - 6) AS snapshots
           FROM plugin_facts WHERE tenant_id = '$tenant' AND plugin_id = 'org.nucleo.retail' AND fact_set = 'inventory'
             AND d3 = '$retail_cnpj' AND day BETWEEN $first - 7 AND $last GROUP BY GROUPING SETS ((d2), (d1), ()))
SELECT count(*), sum(o.sold), sum(i.received), sum(v.closing) FROM o
  FULL JOIN i USING (level, location, gtin) FULL JOIN v USING (level, location, gtin);
COMMIT;
SQL
  retail_sql() { local t0 t1; t0=$(date +%s.%N); psql_as nucleo_app -f "$work/retail.sql" >/dev/null; t1=$(date +%s.%N); python3 -c "print($t1-$t0)"; }
  retail_route >/dev/null; retail_sql >/dev/null  # warm both: the table's pages in shared buffers
  route_s=() sql_s=()
  for _ in 1 2 3; do route_s+=("$(retail_route)"); sql_s+=("$(retail_sql)"); done
  median() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
  r_s=$(median "${route_s[@]}") q_s=$(median "${sql_s[@]}")
  shown=$(python3 -c "import json; d=json.load(open('$work/retail.json')); print(len(d['stores']), len(d['products']), d['totals']['sell_out_units'])")
  retail_ratio=$(python3 -c "print(f'{$q_s/$r_s:.2f}')")
  printf '   route %.2f s (stores, products, sold: %s) | one SQL query %.2f s | ratio %s\n' "$r_s" "$shown" "$q_s" "$retail_ratio" >&2
  channel_lines+="- Retail figures (issue #28): a retailer's year — $((stores * gtins * weeks_each)) sell-out lines ($stores stores, $gtins GTINs, 52 weeks), $((stores * gtins)) sell-in lines, $((stores * gtins * 2)) inventory snapshots — through \`GET …/retailers/{id}/performance?by=store,product\` (the retail pack: three \`facts.aggregate\` calls, each set's rows read once for all levels, and every figure of every store, product and the total) **$(printf '%.2f' "$r_s") s** beside the same sums as one SQL query (GROUPING SETS over the three sets, joined; nucleo_app under row-level security) **$(printf '%.2f' "$q_s") s**: ratio **$retail_ratio** (goal ≥ 0.5); median of 3."$'\n'
fi

# Duplicates (issue #24): GET /v1/duplicates over a tenant's contacts, some sharing an
# e-mail and some with names alike in their account, beside the same pairs found by SQL at
# its best (the owner role, pg_trgm's similarity) in the same run.
if [[ -z "${BENCH_ONLY:-}" || "$BENCH_ONLY" == "duplicates" ]]; then
  dup_contacts=${BENCH_DUPLICATE_CONTACTS:-20000}
  echo "== duplicates: GET /v1/duplicates over $dup_contacts contacts" >&2
  dup_tenant=$("$nucleo" tenant create --name Duplicates | sed -n 's/^id=//p')
  dup_admin=$("$nucleo" user create --tenant "$dup_tenant" --name Dup --email dup@example.com --role admin | sed -n 's/^id=//p')
  dup_key=$("$nucleo" key create --tenant "$dup_tenant" --name dup --role admin --user "$dup_admin" 2>/dev/null | sed -n 's/^secret=//p')
  python3 - "$work" "$dup_contacts" <<'PY'
import sys
work, n = sys.argv[1], int(sys.argv[2])
first = ["Ana", "Bruno", "Carla", "Diego", "Elisa", "Fábio", "Gabriela", "Heitor", "Iara", "João"]
last = ["Souza", "Silva", "Oliveira", "Santos", "Pereira", "Lima", "Costa", "Ribeiro", "Almeida", "Carvalho"]
with open(f"{work}/dup-accounts.csv", "w") as a:
    a.write("Razao\n")
    for i in range(max(1, n // 50)):
        a.write(f"Empresa Duplicada {i}\n")
with open(f"{work}/dup-contacts.csv", "w") as f:
    f.write("Nome;E-mail;Empresa\n")
    for i in range(n):
        account = i // 50
        name = f"{first[i % 10]} {last[(i // 10) % 10]} {i}"
        email = f"contato{i}@empresa{account}.com.br"
        if i % 20 == 19:  # a duplicate of the row before: the same e-mail
            email = f"contato{i - 1}@empresa{account}.com.br"
        if i % 20 == 9:   # a name typed twice, differently
            name = f"{first[(i - 1) % 10]} {last[((i - 1) // 10) % 10]} {i - 1}".replace("ou", "o")
        f.write(f"{name};{email};Empresa Duplicada {account}\n")
PY
  printf '%s' '{"entity": "account", "columns": {"Razao": "legal_name"}}' > "$work/dup-accounts.json"
  "$nucleo" import --tenant "$dup_tenant" --file "$work/dup-accounts.csv" --mapping "$work/dup-accounts.json" >/dev/null 2>&1
  # Accounts are found by name here: the mapping's lookups are by tax id or external id.
  psql_as nucleo_owner -At -F ';' -c "SELECT legal_name, id FROM accounts WHERE tenant_id = '$dup_tenant'" > "$work/dup-account-ids"
  python3 - "$work" <<'PY'
import sys
work = sys.argv[1]
ids = dict(line.rstrip("\n").split(";") for line in open(f"{work}/dup-account-ids"))
with open(f"{work}/dup-contacts.csv") as src, open(f"{work}/dup-contacts-ids.csv", "w") as out:
    out.write("Nome;E-mail;Conta\n")
    next(src)
    for line in src:
        name, email, account = line.rstrip("\n").split(";")
        out.write(f"{name};{email};{ids[account]}\n")
PY
  printf '%s' '{"entity": "contact", "columns": {"Nome": "name", "E-mail": "email", "Conta": "account_id"}}' > "$work/dup-contacts.json"
  "$nucleo" import --tenant "$dup_tenant" --file "$work/dup-contacts-ids.csv" --mapping "$work/dup-contacts.json" >/dev/null 2>&1
  psql_as nucleo_owner -c "VACUUM ANALYZE contacts, contact_points, accounts" >/dev/null
  dup_times=() dup_pairs=0
  for _ in 1 2 3; do
    t0=$(date +%s.%N)
    dup_pairs=$(curl -sf "http://127.0.0.1:$http_port/v1/duplicates?entity_type=contact&limit=200" -H "Authorization: Bearer $dup_key" \
      | python3 -c 'import json, sys; print(len(json.load(sys.stdin)["data"]))')
    dup_times+=("$(python3 -c "print($(date +%s.%N)-$t0)")")
  done
  dup_ms=$(printf '%s\n' "${dup_times[@]}" | sort -n | sed -n 2p | python3 -c 'import sys; print(f"{float(sys.stdin.read())*1000:.0f}")')
  dup_sql="SELECT count(*) FROM (SELECT p.entity_id, o.entity_id FROM contact_points p JOIN contact_points o ON o.tenant_id = p.tenant_id AND o.kind = p.kind AND o.value = p.value AND o.entity_id > p.entity_id WHERE p.tenant_id = '$dup_tenant' AND p.entity_type = 'contact' AND o.entity_type = 'contact' UNION SELECT a.id, b.id FROM contacts a JOIN contacts b ON b.tenant_id = a.tenant_id AND b.account_id = a.account_id AND b.id > a.id WHERE a.tenant_id = '$dup_tenant' AND a.archived_at IS NULL AND b.archived_at IS NULL AND similarity(a.name_folded, b.name_folded) >= 0.5) pairs"
  sql_times=() sql_pairs=0
  for _ in 1 2 3; do
    t0=$(date +%s.%N)
    sql_pairs=$(psql_as nucleo_owner -At -c "$dup_sql")
    sql_times+=("$(python3 -c "print($(date +%s.%N)-$t0)")")
  done
  sql_ms=$(printf '%s\n' "${sql_times[@]}" | sort -n | sed -n 2p | python3 -c 'import sys; print(f"{float(sys.stdin.read())*1000:.0f}")')
  printf '   GET /v1/duplicates %s ms (first page of %s pairs) | SQL self-joins %s ms (%s pairs) | ratio %s\n' \
    "$dup_ms" "$dup_pairs" "$sql_ms" "$sql_pairs" "$(python3 -c "print(f'{$sql_ms/$dup_ms:.2f}')")" >&2
  channel_lines+="- Duplicates (issue #24): \`GET /v1/duplicates?entity_type=contact\` over $dup_contacts contacts in $((dup_contacts / 50)) accounts (1 in 20 sharing an e-mail, 1 in 20 a name typed twice) — **$dup_ms ms** for the first page (every pair is found per request: $dup_pairs shown) beside the same pairs by SQL at its best (owner role, contact-point self-join and pg_trgm \`similarity\` within each account) **$sql_ms ms** ($sql_pairs pairs); median of 3."$'\n'
fi

# A data subject's access report (issue #30): one contact with 10,000 interactions and
# 1,000 documents of a plugin's personal collection, all written through the API (so each
# has its audit events), then POST …/report until the job says ready — beside psql
# reading the same rows (her records, the plugin's documents, their audit events and
# sealed values) as the owner.
if [[ -z "${BENCH_ONLY:-}" || "$BENCH_ONLY" == "dsr_report" ]]; then
  dsr_interactions=${BENCH_DSR_INTERACTIONS:-10000} dsr_visits=${BENCH_DSR_VISITS:-1000}
  echo "== dsr_report: a subject with $dsr_interactions interactions and $dsr_visits plugin documents" >&2
  dsr_contact=$(python3 - "$http_port" "$key" "$dsr_interactions" "$dsr_visits" <<'PY'
import http.client, json, sys
port, key, interactions, visits = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
conn = http.client.HTTPConnection("127.0.0.1", port)
def call(method, path, body=None):
    conn.request(method, path, json.dumps(body) if body is not None else None,
                 {"Authorization": "Bearer " + key, "Content-Type": "application/json"})
    r = conn.getresponse()
    data = r.read()
    if r.status >= 300:
        sys.exit(f"{method} {path}: {r.status} {data[:300]!r}")
    return json.loads(data)
contact = call("POST", "/v1/contacts", {"name": "Titular Bench", "email": "titular@example.com", "phone": "+5511990000000"})["id"]
for first in range(0, interactions, 100):
    call("POST", "/v1/interactions/batch", {"operations": [
        {"method": "create", "data": {"type": "whatsapp", "direction": "inbound", "contact_id": contact,
                                      "body": f"Mensagem {first + i} do titular"}} for i in range(min(100, interactions - first))]})
for i in range(visits):
    call("POST", "/v1/x/org.nucleo.bench.host-call/visits", {"contact_id": contact, "note": f"Visita {i}", "farm": "Boa Vista"})
print(contact)
PY
)
  # Her events sequenced and under a signed checkpoint first: the report then proves them.
  for _ in $(seq 1 240); do
    [[ $(psql_as nucleo_owner -At -c "SELECT count(*) FROM audit_pending WHERE tenant_id = '$tenant'") == 0 &&
       $(psql_as nucleo_owner -At -c "SELECT coalesce(max(size), 0) >= (SELECT count(*) FROM audit_log WHERE tenant_id = '$tenant') FROM audit_checkpoints WHERE tenant_id = '$tenant'") == t ]] && break
    sleep 0.5
  done
  dsr_call() { curl -sf -X "$1" "http://127.0.0.1:$http_port$2" -H "Authorization: Bearer $key" -H 'Content-Type: application/json' ${3:+-d "$3"}; }
  dsr_times=() dsr_records=0 dsr_bytes=0
  for _ in 1 2 3; do
    request=$(dsr_call POST /v1/privacy/requests "{\"kind\": \"access\", \"contact_id\": \"$dsr_contact\", \"received_via\": \"bench\"}" |
      python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
    dsr_call POST "/v1/privacy/requests/$request/identity" '{"method": "bench", "reference": "bench"}' >/dev/null
    t0=$(date +%s.%N)
    dsr_call POST "/v1/privacy/requests/$request/report" >/dev/null
    until [[ $(dsr_call GET "/v1/privacy/requests/$request" | python3 -c 'import json, sys; print(json.load(sys.stdin)["report"]["status"])') =~ ready|failed ]]; do
      sleep 0.02
    done
    dsr_times+=("$(python3 -c "print($(date +%s.%N)-$t0)")")
    dsr_call GET "/v1/privacy/requests/$request/report" > "$work/dsr-report.json"
    dsr_records=$(python3 -c 'import json, sys; b = json.load(open(sys.argv[1])); print(len(b["history"]), sum(1 for e in b["audit"]["events"] if e["proof"]))' "$work/dsr-report.json")
    dsr_bytes=$(stat -c %s "$work/dsr-report.json")
  done
  dsr_s=$(printf '%s\n' "${dsr_times[@]}" | sort -n | sed -n 2p)
  # The same rows at their best: the owner reading her records, the plugin's documents,
  # their audit events and sealed values, by index, in one session.
  cat > "$work/dsr.sql" <<SQL
SELECT * FROM contacts WHERE tenant_id = '$tenant' AND id = '$dsr_contact';
SELECT * FROM interactions WHERE tenant_id = '$tenant' AND contact_id = '$dsr_contact';
SELECT * FROM tasks WHERE tenant_id = '$tenant' AND contact_id = '$dsr_contact';
SELECT * FROM consent_entries WHERE tenant_id = '$tenant' AND contact_id = '$dsr_contact';
SELECT r.* FROM plugin_records r JOIN plugin_record_index i ON i.tenant_id = r.tenant_id AND i.plugin_id = r.plugin_id
  AND i.collection = r.collection AND i.record_id = r.id
 WHERE r.tenant_id = '$tenant' AND i.field = 'contact_id' AND i.text_value = '$dsr_contact';
SELECT l.seq, l.leaf, l.leaf_hash FROM audit_log l WHERE l.tenant_id = '$tenant' AND (
  (l.entity_type = 'contact' AND l.entity_id = '$dsr_contact')
  OR (l.entity_type = 'interaction' AND l.entity_id IN (SELECT id FROM interactions WHERE tenant_id = '$tenant' AND contact_id = '$dsr_contact'))
  OR (l.entity_type = 'plugin_record' AND l.entity_id IN (SELECT 'org.nucleo.bench.host-call/visits/' || r.id FROM plugin_records r
        JOIN plugin_record_index i ON i.tenant_id = r.tenant_id AND i.plugin_id = r.plugin_id AND i.collection = r.collection
         AND i.record_id = r.id WHERE r.tenant_id = '$tenant' AND i.field = 'contact_id' AND i.text_value = '$dsr_contact')));
SELECT * FROM audit_sealed_values WHERE tenant_id = '$tenant' AND subject_id = '$dsr_contact';
SQL
  sql_times=()
  for _ in 1 2 3; do
    t0=$(date +%s.%N)
    psql_as nucleo_owner -At -f "$work/dsr.sql" > /dev/null
    sql_times+=("$(python3 -c "print($(date +%s.%N)-$t0)")")
  done
  sql_s=$(printf '%s\n' "${sql_times[@]}" | sort -n | sed -n 2p)
  read -r dsr_history dsr_proven <<< "$dsr_records"
  dsr_ratio=$(python3 -c "print(f'{$sql_s/$dsr_s:.2f}')")
  printf '   DSR report %.2f s (%s records, %s proven, %s bytes) | SQL %.2f s | ratio %s\n' \
    "$dsr_s" "$dsr_history" "$dsr_proven" "$dsr_bytes" "$sql_s" "$dsr_ratio" >&2
  channel_lines+="- Data-subject report (issue #30): one contact with $dsr_interactions interactions and $dsr_visits documents of a plugin's personal collection, all written through the API — \`POST /v1/privacy/requests/{id}/report\` until ready **$(printf '%.2f' "$dsr_s") s** ($dsr_history records with their field history, $dsr_proven inclusion proofs to the signed checkpoint, a $((dsr_bytes / 1024)) KiB bundle and its Markdown) beside psql reading the same rows as the owner (her records, the documents, their audit events and sealed values) **$(printf '%.2f' "$sql_s") s**: ratio **$dsr_ratio**; median of 3."$'\n'
fi

# Retention (issue #30): one policy over a tenant of 1,000,000 contacts of which 10,000
# had no activity for 800 days (each with one old message) — the plan (GET …/retention/plan)
# beside the same candidate query in psql as the owner, and the run (nucleo privacy
# retention: each contact erased in its own transaction) beside psql reading the rows it
# erases.
if [[ -z "${BENCH_ONLY:-}" || "$BENCH_ONLY" == "retention" ]]; then
  ret_contacts=${BENCH_RETENTION_CONTACTS:-1000000} ret_stale=${BENCH_RETENTION_STALE:-10000}
  echo "== retention: a policy over $ret_contacts contacts, $ret_stale of them stale" >&2
  ret_tenant=$("$nucleo" tenant create --name Retention | sed -n 's/^id=//p')
  ret_admin=$("$nucleo" user create --tenant "$ret_tenant" --name Ret --email ret@example.com --role admin | sed -n 's/^id=//p')
  ret_key=$("$nucleo" key create --tenant "$ret_tenant" --name ret --role admin --user "$ret_admin" 2>/dev/null | sed -n 's/^secret=//p')
  python3 - "$work" "$ret_tenant" "$ret_contacts" "$ret_stale" <<'PY'
import sys, time
work, tenant, n, stale = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
day = 86400 * 10**6
now = int(time.time() * 10**6)
every = n // stale
with open(f"{work}/ret-contacts.csv", "w") as c, open(f"{work}/ret-interactions.csv", "w") as m:
    for i in range(n):
        t = now - 800 * day if i % every == 0 else now - (i % 700) * day
        c.write(f"con_ret{i:012d},{tenant},Pessoa {i},p{i}@example.com,1,{t},{t}\n")
        if i % every == 0:
            m.write(f"int_ret{i:012d},{tenant},whatsapp,inbound,{t},con_ret{i:012d},Mensagem antiga {i},1,{t},{t}\n")
PY
  psql_as nucleo_owner <<SQL
\copy contacts (id, tenant_id, name, email, version, created_at, updated_at) FROM '$work/ret-contacts.csv' CSV
\copy interactions (id, tenant_id, type, direction, occurred_at, contact_id, body, version, created_at, updated_at) FROM '$work/ret-interactions.csv' CSV
VACUUM ANALYZE contacts, interactions;
SQL
  curl -sf -X PUT "http://127.0.0.1:$http_port/v1/privacy/retention/policies/stale_leads" -H "Authorization: Bearer $ret_key" \
    -H 'Content-Type: application/json' -d '{"description": "no activity for two years", "entity": "contact", "after_days": 730}' >/dev/null
  # Past its grace period, as a policy set a week ago would be.
  psql_as nucleo_owner -c "UPDATE retention_policies SET updated_at = updated_at - 8 * 86400000000 WHERE tenant_id = '$ret_tenant'" >/dev/null
  plan_times=() planned=0
  for _ in 1 2 3; do
    t0=$(date +%s.%N)
    planned=$(curl -sf "http://127.0.0.1:$http_port/v1/privacy/retention/plan" -H "Authorization: Bearer $ret_key" |
      python3 -c 'import json, sys; print(json.load(sys.stdin)["policies"][0]["would_touch"])')
    plan_times+=("$(python3 -c "print($(date +%s.%N)-$t0)")")
  done
  plan_s=$(printf '%s\n' "${plan_times[@]}" | sort -n | sed -n 2p)
  cutoff=$(python3 -c "import time; print(int(time.time() * 10**6) - 730 * 86400 * 10**6)")
  candidates="SELECT c.id FROM contacts c WHERE c.tenant_id = '$ret_tenant' AND c.updated_at < $cutoff AND c.erased_at IS NULL
    AND NOT EXISTS (SELECT 1 FROM interactions i WHERE i.tenant_id = c.tenant_id AND i.contact_id = c.id AND coalesce(i.occurred_at, i.created_at) >= $cutoff)
    ORDER BY c.id LIMIT 10001"
  sql_times=()
  for _ in 1 2 3; do
    t0=$(date +%s.%N)
    psql_as nucleo_owner -At -c "$candidates" > /dev/null
    sql_times+=("$(python3 -c "print($(date +%s.%N)-$t0)")")
  done
  plan_sql_s=$(printf '%s\n' "${sql_times[@]}" | sort -n | sed -n 2p)
  # The rows the run erases, read as the owner: the contacts and their messages.
  t0=$(date +%s.%N)
  psql_as nucleo_owner -At -c "SELECT c.* FROM contacts c WHERE c.id IN ($candidates)" \
    -c "SELECT i.* FROM interactions i WHERE i.tenant_id = '$ret_tenant' AND i.contact_id IN ($candidates)" > /dev/null
  read_sql_s=$(python3 -c "print($(date +%s.%N)-$t0)")
  t0=$(date +%s.%N)
  ran=$("$nucleo" privacy retention --tenant "$ret_tenant" --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["policies"][0]["touched"])')
  run_s=$(python3 -c "print($(date +%s.%N)-$t0)")
  printf '   retention plan %.2f s (%s contacts) | SQL %.2f s | run %.1f s (%s erased, %.0f/s) | SQL reading them %.2f s\n' \
    "$plan_s" "$planned" "$plan_sql_s" "$run_s" "$ran" "$(python3 -c "print($ran/$run_s)")" "$read_sql_s" >&2
  channel_lines+="- Retention (issue #30): one policy (contacts with no activity for 730 days) over $ret_contacts contacts, $ret_stale of them stale with an old message each — the plan (\`GET /v1/privacy/retention/plan\`, every candidate listed) **$(printf '%.2f' "$plan_s") s** beside the same candidate query in psql as the owner **$(printf '%.2f' "$plan_sql_s") s** (ratio **$(python3 -c "print(f'{$plan_sql_s/$plan_s:.2f}')")**); the run (\`nucleo privacy retention\`: $ran contacts erased, each in its own transaction with its messages, sealed values and audit events) **$(printf '%.1f' "$run_s") s** ($(python3 -c "print(f'{$ran/$run_s:.0f}')") erasures/s) beside psql reading the same rows **$(printf '%.2f' "$read_sql_s") s**; median of 3 for the plan."$'\n'
fi

# Audit merge delay: how long the interaction events written above waited in audit_pending
# before the server's sequencer made them provable (goal p99 ≤ 1 s).
audit_lines=""
if [[ -z "${BENCH_ONLY:-}" || "$BENCH_ONLY" == "create_interaction" ]]; then
  for _ in $(seq 1 60); do
    [[ $(psql_as nucleo_owner -At -c "SELECT count(*) FROM audit_pending") == 0 ]] && break; sleep 1
  done
  read -r merge_p50 merge_p99 merge_n <<<"$(psql_as nucleo_owner -At -F ' ' -c "SELECT round((percentile_cont(0.5) WITHIN GROUP (ORDER BY sequenced_at - recorded_at) / 1000)::numeric, 1), round((percentile_cont(0.99) WITHIN GROUP (ORDER BY sequenced_at - recorded_at) / 1000)::numeric, 1), count(*) FROM audit_log WHERE entity_type = 'interaction' AND recorded_at >= $interactions_started_at")"
  echo "== audit merge delay over $merge_n events: p50 $merge_p50 ms, p99 $merge_p99 ms" >&2
  audit_lines+="- Audit merge delay (event recorded → sequenced into the Merkle log) over the $merge_n events of the \`POST /v1/interactions\` run, sequencer at its defaults (woken by writes, passes ≥ 50 ms apart, batches of 2,000): **p50 $merge_p50 ms, p99 $merge_p99 ms** (goal p99 ≤ 1 s)."$'\n'
  # The same at a trickle — one client, a write every 50 ms — where the delay is what
  # waking the sequencer costs (ADR 0037), not its throughput under a saturating load.
  trickle_started_at=$(date +%s%6N)
  python3 - "$http_port" "$key" "$accounts" <<'PY'
import http.client, json, random, sys, time
port, key, accounts = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
connection = http.client.HTTPConnection("127.0.0.1", port)
for _ in range(200):
    body = json.dumps({"type": "call", "direction": "outbound", "channel": "phone", "subject": "Trickle", "body": "b",
                       "account_id": "acc_" + str(random.randint(1, accounts)).zfill(26)})
    connection.request("POST", "/v1/interactions", body, {"Authorization": "Bearer " + key, "Content-Type": "application/json"})
    response = connection.getresponse()
    response.read()
    if response.status != 201:
        sys.exit(f"trickle: POST /v1/interactions answered {response.status}")
    time.sleep(0.05)
PY
  sleep 2
  read -r trickle_p50 trickle_p99 trickle_n <<<"$(psql_as nucleo_owner -At -F ' ' -c "SELECT round((percentile_cont(0.5) WITHIN GROUP (ORDER BY sequenced_at - recorded_at) / 1000)::numeric, 1), round((percentile_cont(0.99) WITHIN GROUP (ORDER BY sequenced_at - recorded_at) / 1000)::numeric, 1), count(*) FROM audit_log WHERE entity_type = 'interaction' AND recorded_at >= $trickle_started_at")"
  echo "== audit merge delay at a trickle (a write every 50 ms) over $trickle_n events: p50 $trickle_p50 ms, p99 $trickle_p99 ms" >&2
  audit_lines+="- The same at a trickle (one client, a write every 50 ms, $trickle_n events): **p50 $trickle_p50 ms, p99 $trickle_p99 ms**."$'\n'
fi
if [[ -n "$proof_out" ]]; then
  audit_lines+="- Inclusion proofs in a log of $audit_events events (\`build/bench/audit_proof_latency\`; goal p99 within 3× of a single indexed lookup):"$'\n\n'"\`\`\`"$'\n'"$proof_out"$'\n'"\`\`\`"$'\n'
fi
if [[ -z "${BENCH_ONLY:-}" || "$BENCH_ONLY" == "audit_verify" ]]; then
  scripts/build.sh --target audit_verify_throughput >/dev/null
  verify_out=$(build/bench/audit_verify_throughput "${BENCH_VERIFY_EVENTS:-1000000}")
  echo "$verify_out" >&2
  audit_lines+="- \`nucleo audit verify\` on one core, every check on (\`build/bench/audit_verify_throughput\`; goal ≥ 1,000,000 events/s):"$'\n\n'"\`\`\`"$'\n'"$verify_out"$'\n'"\`\`\`"$'\n'
fi
if [[ -z "${BENCH_ONLY:-}" || "$BENCH_ONLY" == "plugin_call" ]]; then
  scripts/build.sh --target plugin_host_call >/dev/null
  plugin_out=$(build/bench/plugin_host_call "${BENCH_PLUGIN_CALLS:-20000}")
  echo "$plugin_out" >&2
  audit_lines+="- One kernel service call from a plugin through the SDK and the C ABI (JSON both ways) beside the same service called in C++, same run, embedded SQLite (\`build/bench/plugin_host_call\`):"$'\n\n'"\`\`\`"$'\n'"$plugin_out"$'\n'"\`\`\`"$'\n'
fi

# An idle node (issue #29, goal ≤ 1 statement/s): the server above stops; a server with
# the default configuration (no plugins) starts, settles for 5 s, then every statement it
# sends in 20 s is counted by pg_stat_statements (BEGIN and COMMIT included).
idle_lines=""
if [[ -z "${BENCH_ONLY:-}" || "$BENCH_ONLY" == "idle" ]]; then
  kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  idle_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  NUCLEO_HTTP_HOST=127.0.0.1 NUCLEO_HTTP_PORT=$idle_port NUCLEO_LOG_LEVEL=warning "$nucleo" serve 2>"$work/idle_server.log" &
  server=$!
  sleep 5
  psql_as postgres -At -c "SELECT pg_stat_statements_reset()" >/dev/null
  sleep 20
  idle_statements=$(psql_as postgres -At -c "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = 'nucleo' AND s.query NOT LIKE '%pg_stat_statements%'")
  idle_rate=$(python3 -c "print(f'{$idle_statements/20:.1f}')")
  idle_top=$(psql_as postgres -At -F ' ' -c "SELECT calls, left(regexp_replace(query, '\\s+', ' ', 'g'), 70) FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = 'nucleo' AND s.query NOT LIKE '%pg_stat_statements%' ORDER BY calls DESC LIMIT 5")
  echo "== an idle node: $idle_statements statements in 20 s ($idle_rate/s); the most frequent:" >&2
  echo "$idle_top" >&2
  idle_lines+="- An idle node with the default configuration (no plugins, no requests; issue #29, goal ≤ 1/s): **$idle_rate statements/s** to PostgreSQL ($idle_statements in 20 s, BEGIN and COMMIT counted, by pg_stat_statements)."$'\n'
fi

# The generated part of docs/benchmarks.md sits between two markers; the findings
# written by hand around it are kept.
cat > "$work/table.md" <<MD
<!-- bench:begin (written by bench/run.sh) -->
Latest run: $(date -u +%Y-%m-%d), \`bench/run.sh $duration\` on $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB,
$(uname -sr); PostgreSQL 15 (shared_buffers 1 GB) and the server on the same machine; the server
built as $(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' build/CMakeCache.txt) by \`scripts/build.sh\` (what the README's commands build and run).

Data: one tenant with 100,000 accounts, 300,000 deals, 1,000,000 interactions and an audit
log of $audit_events events (leaves, Merkle nodes and head as the sequencer writes them), loaded with COPY.
Baseline: \`pgbench -n -M prepared -c 8 -j 2 -T $duration\` running the equivalent SQL
([bench/sql/](../bench/sql/)) as \`nucleo_app\`, each transaction setting the tenant for
row-level security as the server does — a read in one round trip, \`\\startpipeline\` …
\`\\endpipeline\` (ADR 0038). API: \`wrk -t2 -c8 -d${duration}s --timeout 60s --latency\` against
\`nucleo serve\` (store.pool_size 16, http.max_threads at its default: twice the cores, at least 4) with scripts in
[bench/wrk/](../bench/wrk/). Ratio = API requests/s ÷ SQL transactions/s; goal ≥ 0.35.

| operation | SQL tps | SQL p50 / p99 ms | API req/s | API p50 / p99 ms | ratio |
|---|---|---|---|---|---|
${rows}
The API side also authenticates (a cached key, ADR 0008), checks permissions, validates
input, renders JSON and, for writes, records the audit and outbox rows and the
contact-point and reference checks; the SQL side runs only the statements of the operation.

Search (issue #29, ADR 0036): \`POST /v1/accounts/search\` with \`legal_name contains\` a term beside the
best SQL a DBA would write for it ([bench/sql/search_best.sql](../bench/sql/search_best.sql):
the table owner, no row-level security, the trigram index; pgbench as above). The
accounts of each scale are in tenants of their own, beside the 100,000 above; in
parentheses, how many accounts match. Goals: ratio ≥ 0.5; rare and no-match p50 ≤ 5 ms
at a million.

| scale | term (matches) | best SQL tps | SQL p50 / p99 ms | API req/s | API p50 / p99 ms | ratio |
|---|---|---|---|---|---|---|
${search_rows}
${resource_lines}${sales_lines}${console_lines}${channel_lines}${automation_lines}${proposal_lines}${slow_lines}${audit_lines}${idle_lines}<!-- bench:end -->
MD
# A partial run (BENCH_ONLY) measures some rows only: writing its table would drop the
# others, so it is printed for the findings instead.
if [[ -n "${BENCH_ONLY:-}" ]]; then
  echo "== BENCH_ONLY=$BENCH_ONLY: docs/benchmarks.md left as it is; this run's table:" >&2
  cat "$work/table.md"
  exit 0
fi
python3 - "$work/table.md" docs/benchmarks.md <<'PY'
import pathlib, re, sys
table = pathlib.Path(sys.argv[1]).read_text()
doc = pathlib.Path(sys.argv[2])
text = doc.read_text() if doc.exists() else "# Benchmarks\n\n<!-- bench:begin -->\n<!-- bench:end -->\n"
pattern = re.compile(r"<!-- bench:begin.*?<!-- bench:end -->\n", re.S)
doc.write_text(pattern.sub(lambda _: table, text) if pattern.search(text) else text + "\n" + table)
PY
echo "== wrote docs/benchmarks.md" >&2
cat docs/benchmarks.md
