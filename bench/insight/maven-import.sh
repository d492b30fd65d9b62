#!/usr/bin/env bash
# Issue #33: the insight model backtested on a public B2B CRM data set loaded as an
# integrator would load it — a tenant, its pipeline, `nucleo import` of the accounts and of
# the opportunities with their stage dates (ADR 0045), then `nucleo insight backtest`. The
# data set is Maven Analytics' "CRM + Sales + Opportunities" (8,800 opportunities;
# docs/insight.md, "Measured accuracy", says where it comes from and its terms).
#
#   bench/insight/maven-import.sh DIR [AS_OF [FOLDS [HORIZON_DAYS]]]   (2017-10-01 4 30)
#
# DIR holds sales_pipeline.csv, accounts.csv and products.csv. Run from the repository
# root after scripts/build.sh. The store is a new SQLite file in a temporary folder unless
# NUCLEO_STORE_URL names another (a PostgreSQL URL). The only changes made to the files are
# joins a spreadsheet would do: each deal gets its product's list price (its amount: the
# close value is known only for won deals) and its account's revenue and employees.
set -euo pipefail

usage() { sed -n 2,14p "$0" | sed 's/^# \{0,1\}//'; }
if [[ ${1:-} == -h || ${1:-} == --help ]]; then usage; exit 0; fi
if [[ $# -lt 1 ]]; then usage >&2; exit 2; fi
dir=$1 as_of=${2:-2017-10-01} folds=${3:-4} horizon=${4:-30}
for f in sales_pipeline.csv accounts.csv products.csv; do
  [[ -r $dir/$f ]] || { echo "maven-import: cannot read $dir/$f" >&2; exit 2; }
done
nucleo=${NUCLEO:-build/bin/nucleo}
plugin=${NUCLEO_INSIGHT_PLUGIN:-build/plugins/insight/insight}
[[ -x $nucleo && -e $plugin ]] || { echo "maven-import: build first (scripts/build.sh): $nucleo, $plugin" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/nucleo.properties" <<EOF
store.url = ${NUCLEO_STORE_URL:-sqlite:$work/maven.db}
plugins.insight.file = $(realpath "$plugin")
plugins.insight.config.training_threads = 2
EOF
unset NUCLEO_STORE_URL  # the file says it
run() { "$nucleo" "$@" --config "$work/nucleo.properties"; }
no_account="(no account in the source)"

# The source's dates are DD-MM-YY in some copies and YYYY-MM-DD in others.
pattern=$(awk -F, '{ sub(/\r$/, "") } NR > 1 && $6 != "" { print ($6 ~ /^[0-9][0-9][0-9][0-9]-/) ? "yyyy-MM-dd" : "dd-MM-yy"; exit }' \
          "$dir/sales_pipeline.csv")
# The stage probability a team would have declared from its own past: Engaging's win rate
# among the deals closed before the earliest fold.
earliest=$(date -u -d "$as_of - $(( (folds - 1) * horizon )) days" +%Y-%m-%d)
engaging_probability=$(awk -F, -v before="$earliest" '
  { sub(/\r$/, "") }
  function iso(d) { return d ~ /^[0-9][0-9][0-9][0-9]-/ ? d : "20" substr(d, 7, 2) "-" substr(d, 4, 2) "-" substr(d, 1, 2) }
  NR > 1 && ($5 == "Won" || $5 == "Lost") && $7 != "" && iso($7) < before { closed++; won += ($5 == "Won") }
  END { printf "%d", closed ? 100 * won / closed + 0.5 : 50 }' "$dir/sales_pipeline.csv")

tenant=$(run tenant create --name "Maven CRM sample" --time-zone UTC | sed -n 's/^id=//p')
cat > "$work/pipeline.json" <<EOF
{"pipelines": [{"key": "sales", "name": "Sales", "stages": [
  {"key": "prospecting", "name": "Prospecting", "probability": 10},
  {"key": "engaging", "name": "Engaging", "probability": $engaging_probability},
  {"key": "won", "name": "Won", "kind": "won", "probability": 100},
  {"key": "lost", "name": "Lost", "kind": "lost", "probability": 0}]}]}
EOF
applied=$(run pipeline apply --tenant "$tenant" --file "$work/pipeline.json")
id_of() { sed -n "s/^create $1 $2 (\([a-z]*_[0-9a-z]*\)).*/\1/p" <<<"$applied"; }
pipeline=$(id_of pipeline sales) prospecting=$(id_of stage prospecting) engaging=$(id_of stage engaging)
won=$(id_of stage won) lost=$(id_of stage lost)
echo "tenant=$tenant pipeline=$pipeline engaging_probability=$engaging_probability (win rate before $earliest)"

{ cat "$dir/accounts.csv"; echo "$no_account,,,,,,"; } > "$work/accounts.csv"
cat > "$work/accounts-mapping.json" <<EOF
{"entity": "account",
 "columns": {"account": "legal_name", "sector": "attributes.sector",
             "office_location": "attributes.office_location"},
 "constants": {"lifecycle": "customer"}}
EOF
echo "accounts: $(run import --tenant "$tenant" --file "$work/accounts.csv" --mapping "$work/accounts-mapping.json" \
                  2>/dev/null | tr '\n' ' ')"

awk -F, -v OFS=, -v none="$no_account" -v p="$prospecting" -v e="$engaging" -v w="$won" -v l="$lost" '
  { sub(/\r$/, "") }
  FILENAME ~ /products.csv$/ { if (FNR > 1) price[$1] = $3; next }
  FILENAME ~ /accounts.csv$/ { if (FNR > 1) { revenue[$1] = $4; employees[$1] = $5 }; next }
  FNR == 1 { print "opportunity,account,stage,engaged,closed,lost_reason,amount,list_price,account_revenue,account_employees,product,agent"; next }
  {
    account = $4 == "" ? none : $4
    stage = $5 == "Won" ? w : $5 == "Lost" ? l : $5 == "Engaging" ? e : p
    print $1, account, stage, $6, $7, $5 == "Lost" ? "not recorded in the source" : "", price[$3], price[$3],
          revenue[$4], employees[$4], $3, $2
  }' "$dir/products.csv" "$dir/accounts.csv" "$dir/sales_pipeline.csv" > "$work/deals.csv"
cat > "$work/deals-mapping.json" <<EOF
{"entity": "deal",
 "columns": {
   "opportunity": "name",
   "account": {"field": "account_id", "lookup": {"entity": "account", "by": "legal_name"}},
   "stage": "stage_id",
   "engaged": {"field": "stage_entered.$engaging", "date": "$pattern"},
   "closed": {"field": "stage_entered_at", "date": "$pattern"},
   "lost_reason": "lost_reason",
   "amount": {"field": "amount", "number": "1,234.56", "scale": 2},
   "list_price": {"field": "attributes.list_price", "number": "1,234.56", "scale": 2},
   "account_revenue": {"field": "attributes.account_revenue", "number": "1,234.56", "scale": 2},
   "account_employees": {"field": "attributes.account_employees", "number": "1,234.56"},
   "product": "attributes.product",
   "agent": "attributes.sales_agent"},
 "constants": {"pipeline_id": "$pipeline", "currency": "USD"}}
EOF
echo "deals: $(run import --tenant "$tenant" --file "$work/deals.csv" --mapping "$work/deals-mapping.json" \
               --report "$work/deals-report.csv" 2>/dev/null | tr '\n' ' ')"
grep -v ',created,' "$work/deals-report.csv" | head -5 || true
run insight backtest --tenant "$tenant" --as-of "$as_of" --folds "$folds" --horizon-days "$horizon"
