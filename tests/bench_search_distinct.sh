#!/usr/bin/env bash
# Distinct searches under load, against a release build on 127.0.0.1 only: BENCH_PRODUCTS
# (10000) generated products, then wrk -t2 -c50 -d10s where every request searches three
# random words (tests/bench_search_distinct.lua), so that answers come from the database, not
# the page cache. Prints p50, p99 and the rate; fails unless p99 <= BENCH_SEARCH_P99_MS (10)
# and every answer was 2xx.
set -euo pipefail
cd "$(dirname "$0")/.."

NAME=bench_search_distinct
BIN=target/release/retail
PRODUCTS=${BENCH_PRODUCTS:-10000}
MAX=${BENCH_SEARCH_P99_MS:-10}
# shellcheck source=tests/bench_checkout_common.sh
. tests/bench_checkout_common.sh

"$BIN" bench-data --products "$PRODUCTS" >/dev/null
start_server
wrk -t2 -c50 -d2s -s tests/bench_search_distinct.lua "$BASE" >/dev/null   # warm-up
out=$(wrk -t2 -c50 -d10s --latency -s tests/bench_search_distinct.lua "$BASE")
line=$(grep '^SEARCH' <<<"$out")
p99=$(sed -n 's/.*p99_ms=\([0-9.]*\).*/\1/p' <<<"$line")
echo
echo "retail distinct-search bench: $PRODUCTS products, wrk -t2 -c50 -d10s, three random words per query"
echo "$line"
fail=0
if grep -q "Non-2xx" <<<"$out"; then echo "FAIL: non-2xx answers"; fail=1; fi
awk -v p="$p99" -v m="$MAX" 'BEGIN { exit !(p <= m) }' || { echo "FAIL: p99 $p99 ms (target <= $MAX ms)"; fail=1; }
[ $fail = 0 ] && echo "PASS: p99 within $MAX ms"
exit $fail
