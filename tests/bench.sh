#!/usr/bin/env bash
# Load test against a release build on 127.0.0.1 only: (a) GET /api/hello, a bare JSON route
# with the full middleware stack, and (b) GET /api/products?per_page=20. Prints RPS, p50 and
# p99 for each and the ratio b/a, and fails unless b >= 50% of a and p99 <= 10 ms. Then (c) the
# product list again while /metrics is scraped every second, alternated with unscraped runs
# (A/B/A/B/A/B, to spread the machine's noise over both): fails if scraping costs more than 5 %.
# Settings: BENCH_SECONDS (10), BENCH_CONNECTIONS (50), BENCH_THREADS (2), BENCH_PORT (18181).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=target/release/retail
SECS=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNECTIONS:-50}
THREADS=${BENCH_THREADS:-2}
PORT=${BENCH_PORT:-18181}
DIR=$(mktemp -d)

export RETAIL_DATA_DIR=$DIR RETAIL_ADDR=127.0.0.1:$PORT RETAIL_DIST_DIR=$DIR/no-spa
export RETAIL_LIMITS__API_PER_IP_BURST=0   # all load comes from one IP; the per-IP limit would refuse it
export RETAIL_LOG__TO_STDOUT=false          # logs still go, as JSON, to $DIR/logs (the default setup)

"$BIN" seed >/dev/null
"$BIN" serve >"$DIR/serve.out" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$DIR"' EXIT
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$PORT/ready" >/dev/null && break
  sleep 0.1
done

to_ms() { # wrk prints 850.00us, 1.23ms, 1.02s
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n = n; else if (v ~ /s$/) n *= 1000; printf "%.3f", n }'
}

declare -A RPS P50 P99
run() { # name url
  wrk -t"$THREADS" -c"$CONNS" -d2s "$2" >/dev/null   # warm-up (caches, pool, JIT-free but fair)
  local out
  out=$(wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" --latency "$2")
  if grep -q "Non-2xx" <<<"$out"; then echo "$out"; echo "bench: non-2xx answers for $1"; exit 1; fi
  RPS[$1]=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
  P50[$1]=$(to_ms "$(awk '$1 == "50%" { print $2 }' <<<"$out")")
  P99[$1]=$(to_ms "$(awk '$1 == "99%" { print $2 }' <<<"$out")")
}

run hello "http://127.0.0.1:$PORT/api/hello"
run products "http://127.0.0.1:$PORT/api/products?per_page=20"

# (c) scraping, as Prometheus does it: one kept-alive connection, a scrape every second (a
# Python loop, so that no process start per scrape competes with wrk and the server for the
# two cores). Three runs each, alternated.
cat >"$DIR/scraper.py" <<'PY'
import http.client, sys, time
conn, out = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1])), open(sys.argv[2], "a")
every, count = float(sys.argv[3]), int(sys.argv[4])
for _ in range(count):
    t = time.monotonic()
    conn.request("GET", "/metrics")
    r = conn.getresponse(); r.read()
    assert r.status == 200, r.status
    print(f"{time.monotonic() - t:.6f}", file=out, flush=True)
    time.sleep(max(0.0, every - (time.monotonic() - t)))
PY
plain=0; scraped=0
for i in 1 2 3; do
  run "plain$i" "http://127.0.0.1:$PORT/api/products?per_page=20"
  plain=$(awk -v a="$plain" -v b="${RPS[plain$i]}" 'BEGIN { print a + b }')
  python3 "$DIR/scraper.py" "$PORT" "$DIR/scrapes" 1 1000000 & SCRAPER=$!
  run "scraped$i" "http://127.0.0.1:$PORT/api/products?per_page=20"
  kill $SCRAPER; wait $SCRAPER 2>/dev/null || true
  scraped=$(awk -v a="$scraped" -v b="${RPS[scraped$i]}" 'BEGIN { print a + b }')
done
scrape_cost=$(awk -v p="$plain" -v s="$scraped" 'BEGIN { printf "%.1f", 100 * (p - s) / p }')
scrape_ms=$(sort -n "$DIR/scrapes" | awk '{ v[NR] = $1 * 1000 } END { printf "%.1f ms median, %.1f ms max over %d scrapes under load", v[int((NR + 1) / 2)], v[NR], NR }')
# the server's CPU per scrape, idle otherwise: 300 scrapes back to back (utime + stime in ticks)
cpu() { awk '{ print $14 + $15 }' "/proc/$PID/stat"; }
c0=$(cpu); python3 "$DIR/scraper.py" "$PORT" /dev/null 0 300; c1=$(cpu)
scrape_cpu=$(awk -v a="$c0" -v b="$c1" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", (b - a) * 1000 / hz / 300 }')

items=$(curl -fs "http://127.0.0.1:$PORT/api/products?per_page=20" | grep -o '"sku"' | wc -l)
ratio=$(awk -v b="${RPS[products]}" -v a="${RPS[hello]}" 'BEGIN { printf "%.1f", 100 * b / a }')

echo
echo "retail bench: wrk -t$THREADS -c$CONNS -d${SECS}s, release build, 127.0.0.1, $(nproc) cores shared by client and server"
printf "%-34s %12s %10s %10s\n" "route" "RPS" "p50 ms" "p99 ms"
printf "%-34s %12s %10s %10s\n" "(a) GET /api/hello" "${RPS[hello]}" "${P50[hello]}" "${P99[hello]}"
printf "%-34s %12s %10s %10s\n" "(b) GET /api/products ($items items)" "${RPS[products]}" "${P50[products]}" "${P99[products]}"
echo "ratio b/a: ${ratio}%   (target >= 50%)"
printf "(c) GET /api/products, scraped every 1 s: %.0f RPS vs %.0f unscraped (mean of 3 alternated runs each): cost %s%% (target <= 5%%)\n" \
  "$(awk -v s="$scraped" 'BEGIN { print s / 3 }')" "$(awk -v p="$plain" 'BEGIN { print p / 3 }')" "$scrape_cost"
echo "    /metrics: $scrape_ms; server CPU per scrape ${scrape_cpu} ms"

fail=0
awk -v r="$ratio" 'BEGIN { exit !(r >= 50) }' || { echo "FAIL: b/a below 50%"; fail=1; }
for k in hello products; do
  awk -v p="${P99[$k]}" 'BEGIN { exit !(p <= 10) }' || { echo "FAIL: p99 of $k above 10 ms"; fail=1; }
done
awk -v c="$scrape_cost" 'BEGIN { exit !(c <= 5) }' || { echo "FAIL: scraping /metrics every second costs the product list more than 5%"; fail=1; }
[ "$items" = 20 ] || { echo "FAIL: product list returned $items items, expected 20"; fail=1; }
[ $fail = 0 ] && echo "PASS: all targets met"
exit $fail
