#!/usr/bin/env bash
# Chaos run against a release build on 127.0.0.1 only: the payment simulator fails 30% of
# its calls (transient errors) and answers some of them only after a latency spike past the
# payments timeout, with a fixed seed; the circuit breaker opens after 3 consecutive failed
# attempts and stays open 1 s, so it trips and recovers many times during the run.
# Checkout load (tests/bench_checkout.lua: the next unused customer token per request, a new
# Idempotency-Key) runs with `wrk -t2 -c20` for BENCH_CHAOS_SECONDS (15); after a 503 (breaker
# open, Retry-After) a wrk thread waits BENCH_CHAOS_BACKOFF_MS (100) before its next request,
# as clients that honour Retry-After would, instead of flooding the fast-fail path. Then: /metrics must
# show retail_payment_breaker_transitions_total for closed->open, open->half_open and
# half_open->closed above 0; the server is stopped; `retail worker --once` (abandoned
# authorisations older than 0 s voided, stuck orders cancelled) and `retail reconcile` must
# both exit 0. Prints the answers by status (201/402/409/502/503/504/other, counted in wrk's
# response() hook), the breaker transitions and the gateway calls by outcome.
# Settings: BENCH_CHAOS_SECONDS (15), BENCH_CHAOS_CONNECTIONS (20), BENCH_THREADS (2),
# BENCH_CHAOS_BACKOFF_MS (100; 0 = no backoff: then raise BENCH_CHAOS_CUSTOMERS to ~150000,
# fast-failed requests use up tokens at ~10,000/s), BENCH_CHAOS_CUSTOMERS (30000; no token is
# sent twice), BENCH_CHAOS_PORT (a free port). The chaos settings below can be overridden
# through the same RETAIL_* variables.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BENCH_RETAIL_BIN:-target/release/retail}   # another build to compare: BENCH_RETAIL_BIN
LUA=tests/bench_checkout.lua
SECS=${BENCH_CHAOS_SECONDS:-15}
CONNS=${BENCH_CHAOS_CONNECTIONS:-20}
THREADS=${BENCH_THREADS:-2}
BACKOFF_MS=${BENCH_CHAOS_BACKOFF_MS:-100}
CUSTOMERS=${BENCH_CHAOS_CUSTOMERS:-30000}
NAME=bench_chaos
PORT=${BENCH_CHAOS_PORT:-}
# shellcheck source=tests/bench_checkout_common.sh
. tests/bench_checkout_common.sh
# the chaos: 30% transient failures, 10% of the calls 400 ms late against a 200 ms timeout
export RETAIL_PAYMENTS__SIMULATOR__FAILURE_RATE_PERMILLE=${RETAIL_PAYMENTS__SIMULATOR__FAILURE_RATE_PERMILLE:-300}
export RETAIL_PAYMENTS__SIMULATOR__SPIKE_RATE_PERMILLE=${RETAIL_PAYMENTS__SIMULATOR__SPIKE_RATE_PERMILLE:-100}
export RETAIL_PAYMENTS__SIMULATOR__SPIKE_MS=${RETAIL_PAYMENTS__SIMULATOR__SPIKE_MS:-400}
export RETAIL_PAYMENTS__SIMULATOR__SEED=${RETAIL_PAYMENTS__SIMULATOR__SEED:-20261126}
export RETAIL_PAYMENTS__TIMEOUT_MS=${RETAIL_PAYMENTS__TIMEOUT_MS:-200}
export RETAIL_PAYMENTS__BREAKER_FAILURE_THRESHOLD=${RETAIL_PAYMENTS__BREAKER_FAILURE_THRESHOLD:-3}
export RETAIL_PAYMENTS__BREAKER_OPEN_SECS=${RETAIL_PAYMENTS__BREAKER_OPEN_SECS:-1}

"$BIN" seed >/dev/null
start=$(date +%s)
"$BIN" bench-data --products 0 --customers "$CUSTOMERS" --cart-lines 2 --tokens-out "$DIR/run.tokens" 2>/dev/null
echo "bench_chaos: $CUSTOMERS customers with carts in $(($(date +%s) - start)) s (not timed)"

start_server

out=$(wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" --latency -s "$LUA" "$BASE" -- "$DIR/run.tokens" "$THREADS" "chaos-$$" "$BACKOFF_MS")
line=$(grep '^CHECKOUT ' <<<"$out") || { echo "$out"; echo "bench_chaos: no summary from wrk"; exit 1; }
sleep 1   # requests cut off by wrk's end finish on the server (a spike lasts 400 ms)
curl -fs "$BASE/metrics" >"$DIR/metrics"

transitions() { # from to: the counter's value (0 when the series is missing)
  awk -v f="$1" -v t="$2" '
    $1 ~ /^retail_payment_breaker_transitions_total\{/ && index($1, "from=\"" f "\"") && index($1, "to=\"" t "\"") { v += $2 }
    END { print v + 0 }' "$DIR/metrics"
}
C_O=$(transitions closed open)
O_H=$(transitions open half_open)
H_C=$(transitions half_open closed)
H_O=$(transitions half_open open)

kill "$PID" 2>/dev/null || true
wait "$PID" 2>/dev/null || true
PID=

echo
echo "retail chaos bench: POST /api/checkout, wrk -t$THREADS -c$CONNS -d${SECS}s, simulator failure ${RETAIL_PAYMENTS__SIMULATOR__FAILURE_RATE_PERMILLE}‰, spikes ${RETAIL_PAYMENTS__SIMULATOR__SPIKE_RATE_PERMILLE}‰ of ${RETAIL_PAYMENTS__SIMULATOR__SPIKE_MS} ms, timeout ${RETAIL_PAYMENTS__TIMEOUT_MS} ms, seed ${RETAIL_PAYMENTS__SIMULATOR__SEED}, breaker ${RETAIL_PAYMENTS__BREAKER_FAILURE_THRESHOLD} failures / open ${RETAIL_PAYMENTS__BREAKER_OPEN_SECS} s, client backoff after 503: ${BACKOFF_MS} ms"
printf "%-8s %8s %8s %8s %8s %8s %8s %8s %10s\n" "answers" "201" "402" "409" "502" "503" "504" "other" "p99 ms"
printf "%-8s %8s %8s %8s %8s %8s %8s %8s %10s\n" "" "$(field ok "$line")" "$(field s402 "$line")" "$(field s409 "$line")" \
  "$(field s502 "$line")" "$(field s503 "$line")" "$(field s504 "$line")" "$(field other "$line")" "$(field p99_ms "$line")"
echo "$line"
echo "breaker transitions: closed->open $C_O, open->half_open $O_H, half_open->closed $H_C, half_open->open $H_O"
echo "gateway calls by outcome:"
grep -E '^retail_payment_gateway_calls_total\{' "$DIR/metrics" | sed 's/^retail_payment_gateway_calls_total/  /' || true

fail=0
for v in "closed->open:$C_O" "open->half_open:$O_H" "half_open->closed:$H_C"; do
  [ "${v#*:}" -gt 0 ] || { echo "FAIL: no breaker transition ${v%:*} in /metrics"; fail=1; }
done
[ "$(field ok "$line")" -gt 0 ] || { echo "FAIL: no order placed"; fail=1; }
[ "$(field other "$line")" -eq 0 ] || { echo "FAIL: $(field other "$line") answers outside 201/402/409/502/503/504"; fail=1; }
[ "$(field exhausted "$line")" -eq 0 ] || { echo "FAIL: wrk ran out of tokens (raise BENCH_CHAOS_CUSTOMERS)"; fail=1; }

if RETAIL_PAYMENTS__STALE_AUTHORIZATION_SECS=0 "$BIN" worker --once >"$DIR/worker.out" 2>&1; then
  echo "worker --once: $(tail -n 1 "$DIR/worker.out")"
else
  cat "$DIR/worker.out"; echo "FAIL: retail worker --once exited non-zero"; fail=1
fi
if "$BIN" reconcile >"$DIR/reconcile.json" 2>"$DIR/reconcile.err"; then
  echo "reconcile: clean"
else
  cat "$DIR/reconcile.json" "$DIR/reconcile.err"; echo "FAIL: retail reconcile exited non-zero"; fail=1
fi
[ $fail = 0 ] && echo "PASS: chaos run ended clean"
exit $fail
