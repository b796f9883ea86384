#!/usr/bin/env bash
# Checkout load test against a release build on 127.0.0.1 only, with the zero-latency payment
# simulator (the default settings: latency 0, no failures). Setup, not timed: `retail seed`,
# then `retail bench-data --customers N --cart-lines 2` (N customers, each signed in with a
# cart of two lines, one unit each, stock for all of them through the ledger). Then
# `wrk -t2 -c50 -d10s --latency` POSTs /api/checkout {"card_token":"tok_visa"}, each request
# with the next unused customer token (wrk threads take disjoint token sequences, no token is
# sent twice) and a new Idempotency-Key (tests/bench_checkout.lua); a 2 s warm-up with tokens
# of its own comes first. Prints orders/s (201 answers only), p50 and p99, checks the count of
# paid orders in the database (admin API) against the 201s, then stops the server and runs
# `retail reconcile`. Fails unless orders/s >= BENCH_CHECKOUT_MIN_RATE (2000), p99 <=
# BENCH_CHECKOUT_MAX_P99_MS (50), every answer was 201, no thread ran out of tokens, the
# database holds the orders answered, and the reconciliation exits 0.
# Settings: BENCH_CHECKOUT_SECONDS (10), BENCH_CONNECTIONS (50), BENCH_THREADS (2),
# BENCH_CHECKOUT_CUSTOMERS (3 x the orders the target rate makes in the run),
# BENCH_CHECKOUT_PORT (a free port), RETAIL_HTTP_WORKERS and other RETAIL_* pass through.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BENCH_RETAIL_BIN:-target/release/retail}   # another build to compare: BENCH_RETAIL_BIN
LUA=tests/bench_checkout.lua
SECS=${BENCH_CHECKOUT_SECONDS:-10}
CONNS=${BENCH_CONNECTIONS:-50}
THREADS=${BENCH_THREADS:-2}
MIN_RATE=${BENCH_CHECKOUT_MIN_RATE:-2000}
MAX_P99=${BENCH_CHECKOUT_MAX_P99_MS:-50}
CUSTOMERS=${BENCH_CHECKOUT_CUSTOMERS:-$((3 * MIN_RATE * SECS))}
WARM_CUSTOMERS=$((3 * MIN_RATE * 2))
NAME=bench_checkout
PORT=${BENCH_CHECKOUT_PORT:-}
# shellcheck source=tests/bench_checkout_common.sh
. tests/bench_checkout_common.sh

"$BIN" seed >/dev/null
start=$(date +%s)
"$BIN" bench-data --products 0 --customers "$WARM_CUSTOMERS" --cart-lines 2 --tokens-out "$DIR/warm.tokens" 2>/dev/null
"$BIN" bench-data --products 0 --customers "$CUSTOMERS" --cart-lines 2 --tokens-out "$DIR/run.tokens" 2>/dev/null
echo "bench_checkout: $WARM_CUSTOMERS + $CUSTOMERS customers with carts in $(($(date +%s) - start)) s (not timed)"

start_server

json_get() { # dotted.path: one value of the JSON document on stdin
  python3 -c 'import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."): v = v[k]
print(v)' "$1"
}
ADMIN=$(curl -fs -X POST "$BASE/api/auth/login" -H 'content-type: application/json' \
  -d '{"email":"admin@retail.test","password":"demo-Kestrel-2026"}' | json_get access_token)
paid_orders() { # paid orders in the database, as the staff order list counts them
  curl -fs -H "Authorization: Bearer $ADMIN" "$BASE/api/staff/orders?state=paid&per_page=1" | json_get pagination.total
}

run_wrk() { # name tokens-file seconds
  local out
  out=$(wrk -t"$THREADS" -c"$CONNS" -d"$3s" --latency -s "$LUA" "$BASE" -- "$2" "$THREADS" "$1-$$")
  grep '^CHECKOUT ' <<<"$out" || { echo "$out"; echo "bench_checkout: no summary from wrk"; exit 1; }
}

warm=$(run_wrk warm "$DIR/warm.tokens" 2)
sleep 1   # requests cut off by wrk's end finish on the server
before=$(paid_orders)
line=$(run_wrk run "$DIR/run.tokens" "$SECS")
sleep 1
after=$(paid_orders)
in_db=$((after - before))

OK=$(field ok "$line")
RATE=$(field rate "$line")
P50=$(field p50_ms "$line")
P99=$(field p99_ms "$line")
SENT=$(field sent "$line")
EXHAUSTED=$(field exhausted "$line")
NON201=$(($(field s402 "$line") + $(field s409 "$line") + $(field s502 "$line") + $(field s503 "$line") + $(field s504 "$line") + $(field other "$line")))

echo
echo "retail checkout bench: POST /api/checkout, 2 lines per order, zero-latency simulator, wrk -t$THREADS -c$CONNS -d${SECS}s, release build, 127.0.0.1, $(nproc) cores shared by client and server"
printf "%-10s %10s %10s %10s %10s %10s %12s\n" "run" "orders/s" "201s" "other" "p50 ms" "p99 ms" "paid in DB"
printf "%-10s %10s %10s %10s %10s %10s %12s\n" "warm-up 2s" "$(field rate "$warm")" "$(field ok "$warm")" "-" "$(field p50_ms "$warm")" "$(field p99_ms "$warm")" "-"
printf "%-10s %10s %10s %10s %10s %10s %12s\n" "-d${SECS}s" "$RATE" "$OK" "$NON201" "$P50" "$P99" "$in_db"
echo "$line"
echo "targets: orders/s >= $MIN_RATE, p99 <= $MAX_P99 ms"

fail=0
awk -v r="$RATE" -v t="$MIN_RATE" 'BEGIN { exit !(r >= t) }' || { echo "FAIL: $RATE orders/s, below $MIN_RATE"; fail=1; }
awk -v p="$P99" -v t="$MAX_P99" 'BEGIN { exit !(p <= t) }' || { echo "FAIL: p99 $P99 ms above $MAX_P99 ms"; fail=1; }
[ "$NON201" -eq 0 ] || { echo "FAIL: $NON201 answers other than 201"; fail=1; }
[ "$EXHAUSTED" -eq 0 ] || { echo "FAIL: wrk ran out of tokens (raise BENCH_CHECKOUT_CUSTOMERS)"; fail=1; }
# every 201 is a paid order; requests cut off when wrk stopped may have finished too, but no
# more orders than tokens sent
if [ "$in_db" -lt "$OK" ] || [ "$in_db" -gt "$SENT" ]; then
  echo "FAIL: $in_db paid orders in the database for $OK answers 201 ($SENT tokens sent)"; fail=1
fi

kill "$PID" 2>/dev/null || true
wait "$PID" 2>/dev/null || true
PID=
if "$BIN" reconcile >"$DIR/reconcile.json" 2>"$DIR/reconcile.err"; then
  echo "reconcile: clean, captured_cents $(json_get captured_cents <"$DIR/reconcile.json")"
else
  cat "$DIR/reconcile.json" "$DIR/reconcile.err"; echo "FAIL: retail reconcile exited non-zero"; fail=1
fi
[ $fail = 0 ] && echo "PASS: all targets met"
exit $fail
