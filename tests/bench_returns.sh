#!/usr/bin/env bash
# Returns (RMA) under load against a release build on 127.0.0.1 only: 200 returns driven
# through their whole lifecycle at once with mixed dispositions, ending with money and stock
# reconciled. Starts from nothing: a new temporary data directory, `retail seed`,
# `retail bench-data --customers N` (customers signed in, their tokens in a file), a new
# server. Set-up, not timed: those, and what the load generator
# (target/release/retail-returns-bench, tests/returns-bench) does first: the admin creates the
# products, each customer gets one delivered order (about a quarter of them paid partly with
# store credit granted by finance first), and the stock, the customers' credit and the return
# figures are read. Then, timed: every return at once (one task each, at most
# BENCH_RETURNS_CONCURRENCY requests in flight on keep-alive connections): requested by the
# customer, approved by support, shipped by the customer, received, inspected (resellable or
# damaged) by the warehouse, decided by finance (refund 40 %, store credit 20 %, replacement
# 15 %, repair 15 %, reject 10 %) and processed; repairs and rejections completed by the
# warehouse. Every BENCH_RETURNS_DUP_EVERY-th return is processed by BENCH_RETURNS_DUP_CALLS
# concurrent calls on the same version (exactly one 200, the others 409). Then the checks (see
# tests/returns-bench/src/main.rs): every return completed as decided, amounts and refund
# splits, the change in GET /api/staff/returns/figures = what the dispositions decided, stock
# = before + restocked - replaced, each customer's store credit, GET /api/staff/reconciliation
# clean with no return discrepancy; and after the server stops, `retail reconcile` exits 0.
# Prints the mix, the wall time, p50/p99/max per step and the checks. Fails unless every
# return completed within BENCH_RETURNS_MAX_MS, with no 5xx, no answer outside the contract,
# no request unanswered, and every check passed.
# Settings: BENCH_RETURNS_COUNT (200, at most 2000), BENCH_RETURNS_CONCURRENCY (32),
# BENCH_RETURNS_DUP_EVERY (10; 0: no duplicates), BENCH_RETURNS_DUP_CALLS (4),
# BENCH_RETURNS_MAX_MS (60000, at most 600000: the timed phase is stopped, and fails, after
# this long), BENCH_RETURNS_SEED (2026: the mix of reasons, conditions, orders and amounts),
# BENCH_RETURNS_THREADS (2: the load generator's threads), BENCH_RETURNS_PORT (a free port),
# BENCH_RETAIL_BIN, BENCH_RETURNS_BIN; RETAIL_HTTP_WORKERS and other RETAIL_* pass through.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BENCH_RETAIL_BIN:-target/release/retail}
GEN=${BENCH_RETURNS_BIN:-target/release/retail-returns-bench}
RETURNS=${BENCH_RETURNS_COUNT:-200}
CONCURRENCY=${BENCH_RETURNS_CONCURRENCY:-32}
DUP_EVERY=${BENCH_RETURNS_DUP_EVERY:-10}
DUP_CALLS=${BENCH_RETURNS_DUP_CALLS:-4}
MAX_MS=${BENCH_RETURNS_MAX_MS:-60000}
SEED=${BENCH_RETURNS_SEED:-2026}
THREADS=${BENCH_RETURNS_THREADS:-2}

[ -x "$BIN" ] || { echo "bench_returns: $BIN missing; run cargo build --release -p retail-server"; exit 2; }
[ -x "$GEN" ] || { echo "bench_returns: $GEN missing; run cargo build --release -p retail-returns-bench"; exit 2; }
# bounded: a load test of this machine's own server, not a soak test
[ "$RETURNS" -ge 1 ] && [ "$RETURNS" -le 2000 ] || { echo "bench_returns: BENCH_RETURNS_COUNT must be 1-2000"; exit 2; }
[ "$MAX_MS" -ge 1 ] && [ "$MAX_MS" -le 600000 ] || { echo "bench_returns: BENCH_RETURNS_MAX_MS must be 1-600000"; exit 2; }
[ "$CONCURRENCY" -ge 1 ] && [ "$CONCURRENCY" -le 256 ] || { echo "bench_returns: BENCH_RETURNS_CONCURRENCY must be 1-256"; exit 2; }

# field NAME LINE: the value after ` NAME=` in the RETURNS summary line.
field() { sed -E "s/.* $1=([^ ]+).*/\\1/" <<<" $2"; }

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
PORT=${BENCH_RETURNS_PORT:-$(free_port)}
BASE="http://127.0.0.1:$PORT"
DIR=$(mktemp -d)
PID=
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$DIR"
}
trap cleanup EXIT

# the default settings (one check expects the default restocking fees): a ./retail.toml kept
# for `make run` is not read; a RETAIL_CONFIG given explicitly still is
[ -n "${RETAIL_CONFIG:-}" ] || { : >"$DIR/retail.toml"; export RETAIL_CONFIG=$DIR/retail.toml; }
export RETAIL_DATA_DIR=$DIR RETAIL_ADDR=127.0.0.1:$PORT RETAIL_DIST_DIR=$DIR/no-spa
export RETAIL_LIMITS__API_PER_IP_BURST=0   # all load comes from one IP
export RETAIL_LOG__TO_STDOUT=false          # logs still go, as JSON, to $DIR/logs
export RETAIL_AUTH__ACCESS_TTL_SECS=3600    # set-up must not eat into the tokens' lifetime

start=$(date +%s)
"$BIN" seed >/dev/null
"$BIN" bench-data --products 0 --customers "$RETURNS" --cart-lines 1 --tokens-out "$DIR/tokens" >/dev/null 2>&1
echo "bench_returns: $RETURNS customers signed in, in $(($(date +%s) - start)) s (not timed)"

"$BIN" serve >"$DIR/serve.out" 2>&1 &
PID=$!
for _ in $(seq 1 100); do
  curl -fs "$BASE/ready" >/dev/null && break
  sleep 0.1
done
curl -fs "$BASE/ready" >/dev/null || { cat "$DIR/serve.out"; echo "bench_returns: server not ready"; exit 1; }

# the whole generator (set-up, timed phase, checks) is bounded too
set +e
timeout $((MAX_MS / 1000 + 300)) "$GEN" --base "$BASE" --tokens "$DIR/tokens" --returns "$RETURNS" \
  --concurrency "$CONCURRENCY" --dup-every "$DUP_EVERY" --dup-calls "$DUP_CALLS" --seed "$SEED" \
  --threads "$THREADS" --max-phase-ms "$MAX_MS" | tee "$DIR/returns.out"
status=${PIPESTATUS[0]}
set -e
line=$(grep '^RETURNS ' "$DIR/returns.out") ||
  { echo "FAIL: no summary from the load generator (exit $status)"; exit 1; }
f() { field "$1" "$line"; }

kill "$PID" 2>/dev/null || true
wait "$PID" 2>/dev/null || true
PID=
reconciled=0
if "$BIN" reconcile >"$DIR/reconcile.json" 2>"$DIR/reconcile.err"; then
  echo "reconcile: clean"
else
  reconciled=1
  cat "$DIR/reconcile.json" "$DIR/reconcile.err"
fi

echo
echo "retail returns (RMA) lifecycle: $RETURNS returns at once, at most $CONCURRENCY requests in flight, release build, 127.0.0.1, $(nproc) cores shared by client and server"
echo "mix: refund $(f refund), store_credit $(f store_credit), replacement $(f replacement), repair $(f repair), reject $(f reject); $(f dup_groups) processed by $DUP_CALLS concurrent calls"
echo "wall $(f wall_ms) ms for $(f requests) requests; $(f completed) completed, $(f s5xx) 5xx, $(f unexpected) unexpected, $(f no_answer) unanswered, $(f unfinished) unfinished"
printf "%-8s" p99_ms
for s in submit approve ship receive start_inspection inspect decide process complete; do printf " %s %s" "$s" "$(f "p99_${s}_ms")"; done
echo
echo "moved: refunded $(f refunded_card_cents) card + $(f refunded_credit_cents) credit cents, $(f credit_granted_cents) credit granted, $(f restocked_units) units restocked, $(f replacements) replacements; reconciliation clean: $(f reconciliation_clean) (API), $([ $reconciled = 0 ] && echo true || echo false) (retail reconcile)"
echo "targets: every return completed within $MAX_MS ms, 0 5xx, 0 unexpected answers, every check passed, reconciliation clean"

fail=0
bad() { echo "FAIL: $*"; fail=1; }
[ "$status" -ne 2 ] || bad "the load generator could not run the benchmark"
[ "$(f completed)" -eq "$RETURNS" ] || bad "$(f completed) of $RETURNS returns completed"
[ "$(f s5xx)" -eq 0 ] || bad "$(f s5xx) answers 5xx"
[ "$(f unexpected)" -eq 0 ] || bad "$(f unexpected) answers outside the contract"
[ "$(f no_answer)" -eq 0 ] || bad "$(f no_answer) requests got no answer"
[ "$(f unfinished)" -eq 0 ] || bad "$(f unfinished) returns unfinished after $MAX_MS ms"
[ "$(f failed_checks)" -eq 0 ] || bad "$(f failed_checks) of $(f checks) checks failed (see above)"
[ "$status" -eq 0 ] || bad "the load generator exited $status"
[ "$reconciled" -eq 0 ] || bad "retail reconcile exited non-zero"
[ $fail = 0 ] && echo "PASS: all targets met"
exit $fail
