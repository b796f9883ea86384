#!/usr/bin/env bash
# Mixed-load test against a release build on 127.0.0.1 only: the catalog list
# (GET /api/products?per_page=20) alone, then the same list while checkout runs beside it
# at full speed (zero-latency payment simulator, the default settings). Two wrk processes in
# the mixed run, -t1 -c25 each: the list, and POST /api/checkout with the next unused
# customer token per request and a new Idempotency-Key (tests/bench_checkout.lua). Setup
# (`retail seed`, `retail bench-data --customers N --cart-lines 2`) is not timed; a 2 s
# warm-up of each comes first. Prints list RPS, p50 and p99 solo and mixed, the share of
# the solo throughput kept, and checkout orders/s (201 answers) and p99; then stops the
# server and runs `retail reconcile`. Fails unless the list's p99 <= BENCH_MIXED_MAX_P99_MS
# (10) ms in both runs, its mixed RPS >= BENCH_MIXED_MIN_SHARE (50)% of its solo RPS, every
# list answer was 2xx with 20 items, every checkout answer was 201 (no token ran out), and
# the reconciliation exits 0.
# Settings: BENCH_MIXED_SECONDS (10), BENCH_MIXED_CONNECTIONS (25, each wrk),
# BENCH_MIXED_CUSTOMERS (60000), BENCH_MIXED_PORT (a free port); RETAIL_* pass through.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BENCH_RETAIL_BIN:-target/release/retail}   # another build to compare: BENCH_RETAIL_BIN
LUA=tests/bench_checkout.lua
SECS=${BENCH_MIXED_SECONDS:-10}
CONNS=${BENCH_MIXED_CONNECTIONS:-25}
MAX_P99=${BENCH_MIXED_MAX_P99_MS:-10}
MIN_SHARE=${BENCH_MIXED_MIN_SHARE:-50}
# 3 x the orders checkout's target rate (2,000/s) makes in the run
CUSTOMERS=${BENCH_MIXED_CUSTOMERS:-$((3 * 2000 * SECS))}
WARM_CUSTOMERS=6000
NAME=bench_mixed
PORT=${BENCH_MIXED_PORT:-}
# shellcheck source=tests/bench_checkout_common.sh
. tests/bench_checkout_common.sh
LIST="$BASE/api/products?per_page=20"

"$BIN" seed >/dev/null
start=$(date +%s)
"$BIN" bench-data --products 0 --customers "$WARM_CUSTOMERS" --cart-lines 2 --tokens-out "$DIR/warm.tokens" 2>/dev/null
"$BIN" bench-data --products 0 --customers "$CUSTOMERS" --cart-lines 2 --tokens-out "$DIR/run.tokens" 2>/dev/null
echo "bench_mixed: $WARM_CUSTOMERS + $CUSTOMERS customers with carts in $(($(date +%s) - start)) s (not timed)"

start_server

to_ms() { # wrk prints 850.00us, 1.23ms, 1.02s
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n = n; else if (v ~ /s$/) n *= 1000; printf "%.3f", n }'
}

declare -A RPS P50 P99 NON2XX
list_stats() { # name wrk-output
  RPS[$1]=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$2")
  P50[$1]=$(to_ms "$(awk '$1 == "50%" { print $2 }' <<<"$2")")
  P99[$1]=$(to_ms "$(awk '$1 == "99%" { print $2 }' <<<"$2")")
  NON2XX[$1]=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' <<<"$2")
  NON2XX[$1]=${NON2XX[$1]:-0}
}
checkout() { # tokens-file seconds key-prefix
  local out
  out=$(wrk -t1 -c"$CONNS" -d"$2s" -s "$LUA" "$BASE" -- "$1" 1 "$3-$$")
  grep '^CHECKOUT ' <<<"$out" || { echo "$out" >&2; echo "bench_mixed: no summary from the checkout wrk" >&2; return 1; }
}

# warm-up: both routes, 2 s each (caches, pools)
wrk -t1 -c"$CONNS" -d2s "$LIST" >/dev/null
warm=$(checkout "$DIR/warm.tokens" 2 warm)
sleep 1

# (a) the list alone
list_stats solo "$(wrk -t1 -c"$CONNS" -d"${SECS}s" --latency "$LIST")"

# (b) the list and checkout at once
wrk -t1 -c"$CONNS" -d"${SECS}s" --latency "$LIST" >"$DIR/mixed.list" &
LIST_WRK=$!
co=$(checkout "$DIR/run.tokens" "$SECS" run)
wait "$LIST_WRK"
list_stats mixed "$(cat "$DIR/mixed.list")"

items=$(curl -fs "$LIST" | grep -o '"sku"' | wc -l)
share=$(awk -v b="${RPS[mixed]}" -v a="${RPS[solo]}" 'BEGIN { printf "%.1f", (a > 0 ? 100 * b / a : 0) }')
CO_NON201=$(($(field s402 "$co") + $(field s409 "$co") + $(field s502 "$co") + $(field s503 "$co") + $(field s504 "$co") + $(field other "$co")))

echo
echo "retail mixed bench: GET /api/products?per_page=20 ($items items) alone, then beside POST /api/checkout; wrk -t1 -c$CONNS -d${SECS}s each, release build, 127.0.0.1, $(nproc) cores shared by clients and server"
row() { printf "%-30s %12s %10s %10s %10s\n" "$@"; }
row "run" "RPS" "p50 ms" "p99 ms" "non-2xx"
row "list alone" "${RPS[solo]}" "${P50[solo]}" "${P99[solo]}" "${NON2XX[solo]}"
row "list beside checkout" "${RPS[mixed]}" "${P50[mixed]}" "${P99[mixed]}" "${NON2XX[mixed]}"
row "checkout beside list (201/s)" "$(field rate "$co")" "$(field p50_ms "$co")" "$(field p99_ms "$co")" "$CO_NON201"
echo "checkout warm-up: $warm"
echo "checkout:         $co"
echo "list kept ${share}% of its solo throughput (target >= ${MIN_SHARE}%); list p99 target <= ${MAX_P99} ms"

fail=0
awk -v r="$share" -v t="$MIN_SHARE" 'BEGIN { exit !(r >= t) }' || { echo "FAIL: list kept only ${share}% of its solo RPS"; fail=1; }
for k in solo mixed; do
  awk -v p="${P99[$k]}" -v t="$MAX_P99" 'BEGIN { exit !(p <= t) }' || { echo "FAIL: list p99 ${P99[$k]} ms ($k) above $MAX_P99 ms"; fail=1; }
  [ "${NON2XX[$k]}" = 0 ] || { echo "FAIL: ${NON2XX[$k]} list answers not 2xx ($k)"; fail=1; }
done
[ "$items" = 20 ] || { echo "FAIL: product list returned $items items, expected 20"; fail=1; }
[ "$CO_NON201" -eq 0 ] || { echo "FAIL: $CO_NON201 checkout answers other than 201"; fail=1; }
[ "$(field exhausted "$co")" -eq 0 ] || { echo "FAIL: checkout ran out of tokens (raise BENCH_MIXED_CUSTOMERS)"; fail=1; }

kill "$PID" 2>/dev/null || true
wait "$PID" 2>/dev/null || true
PID=
if "$BIN" reconcile >"$DIR/reconcile.json" 2>"$DIR/reconcile.err"; then
  echo "reconcile: clean"
else
  cat "$DIR/reconcile.json" "$DIR/reconcile.err"; echo "FAIL: retail reconcile exited non-zero"; fail=1
fi
[ $fail = 0 ] && echo "PASS: all targets met"
exit $fail
