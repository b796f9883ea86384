#!/usr/bin/env bash
# Login-storm load test against a release build on 127.0.0.1 only: correct logins of the demo
# customer with `wrk -c8` (10 s) then `wrk -c50` (20 s), sampling the server's RSS every 0.5 s
# during the load and for 2 s after it. Prints logins/s for both and the peak and after-load
# RSS; fails if the RSS reaches the limit (150 MiB), if the 50-connection throughput is below
# 90% of the 8-connection one, or if any answer is neither 2xx nor 503 (busy, Retry-After).
# Settings: BENCH_LOGIN_MAX_RSS_MIB (150), BENCH_LOGIN_MIN_RATIO (90), BENCH_THREADS (2),
# BENCH_LOGIN_PORT (a free port).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=target/release/retail
MAX_RSS_MIB=${BENCH_LOGIN_MAX_RSS_MIB:-150}
MIN_RATIO=${BENCH_LOGIN_MIN_RATIO:-90}
THREADS=${BENCH_THREADS:-2}
[ -x "$BIN" ] || { echo "bench_login: $BIN missing; run cargo build --release -p retail-server"; exit 2; }
command -v wrk >/dev/null || { echo "bench_login: wrk missing (make deps-bench)"; exit 2; }

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null ||
    echo 18182
}
PORT=${BENCH_LOGIN_PORT:-$(free_port)}
DIR=$(mktemp -d)
URL="http://127.0.0.1:$PORT/api/auth/login"

export RETAIL_DATA_DIR=$DIR RETAIL_ADDR=127.0.0.1:$PORT RETAIL_DIST_DIR=$DIR/no-spa
export RETAIL_LIMITS__API_PER_IP_BURST=0                # all load comes from one IP
export RETAIL_LIMITS__AUTH_PER_IP_BURST=1000000000      # ... and one account: lift the
export RETAIL_LIMITS__LOGIN_PER_ACCOUNT_BURST=1000000000 # login limits, measure hashing
export RETAIL_LOG__TO_STDOUT=false                      # logs still go, as JSON, to $DIR/logs

"$BIN" seed >/dev/null
"$BIN" serve >"$DIR/serve.out" 2>&1 &
PID=$!
SAMPLER=
cleanup() {
  [ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null
  kill "$PID" 2>/dev/null
  wait "$PID" 2>/dev/null
  rm -rf "$DIR"
}
trap cleanup EXIT
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$PORT/ready" >/dev/null && break
  sleep 0.1
done
curl -fs "http://127.0.0.1:$PORT/ready" >/dev/null || { cat "$DIR/serve.out"; echo "bench_login: server not ready"; exit 1; }

# POSTs the demo customer's login; counts answers by class across wrk's threads.
cat >"$DIR/login.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"email":"customer@retail.test","password":"demo-Wren-2026"}'
wrk.headers["Content-Type"] = "application/json"
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) ok = 0; busy = 0; other = 0 end
function response(status, headers, body)
  if status >= 200 and status < 300 then ok = ok + 1
  elseif status == 503 then busy = busy + 1
  else other = other + 1 end
end
function done(summary, latency, requests)
  local a, b, c = 0, 0, 0
  for _, t in ipairs(threads) do a = a + t:get("ok"); b = b + t:get("busy"); c = c + t:get("other") end
  io.write(string.format("LOGINS ok=%d busy=%d other=%d rate=%.1f p50_ms=%.1f p99_ms=%.1f\n",
    a, b, c, a / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
LUA

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$PID/status"; }
threads_of() { awk '/^Threads:/ { print $2 }' "/proc/$PID/status"; }
IDLE_KIB=$(rss_kib)
IDLE_THREADS=$(threads_of)
(
  while kill -0 "$PID" 2>/dev/null; do
    { rss_kib; } >>"$DIR/rss.during" 2>/dev/null || true
    sleep 0.5
  done
) &
SAMPLER=$!

# server CPU time (user + system) in clock ticks: CPU per login does not depend on what else
# runs on the machine, unlike logins/s
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$PID/stat"; }
TICK=$(getconf CLK_TCK)

declare -A RATE OK BUSY OTHER P50 P99 CPU_MS
run() { # name connections seconds
  local out line before
  before=$(cpu_ticks)
  out=$(wrk -t"$THREADS" -c"$2" -d"$3s" -s "$DIR/login.lua" "$URL")
  line=$(grep '^LOGINS ' <<<"$out") || { echo "$out"; echo "bench_login: no summary from wrk"; exit 1; }
  OK[$1]=$(sed -E 's/.* ok=([0-9]+).*/\1/' <<<"$line")
  BUSY[$1]=$(sed -E 's/.* busy=([0-9]+).*/\1/' <<<"$line")
  OTHER[$1]=$(sed -E 's/.* other=([0-9]+).*/\1/' <<<"$line")
  RATE[$1]=$(sed -E 's/.* rate=([0-9.]+).*/\1/' <<<"$line")
  P50[$1]=$(sed -E 's/.* p50_ms=([0-9.]+).*/\1/' <<<"$line")
  P99[$1]=$(sed -E 's/.* p99_ms=([0-9.]+).*/\1/' <<<"$line")
  CPU_MS[$1]=$(awk -v t="$(($(cpu_ticks) - before))" -v hz="$TICK" -v n="${OK[$1]}" \
    'BEGIN { printf "%.1f", (n > 0 ? 1000 * t / hz / n : 0) }')
}

declare -A SECS=([c8]=10 [c50]=20)
run warmup 8 2
run c8 8 "${SECS[c8]}"
run c50 50 "${SECS[c50]}"
LOAD_THREADS=$(threads_of)
kill "$SAMPLER" 2>/dev/null || true
wait "$SAMPLER" 2>/dev/null || true
SAMPLER=
for _ in 1 2 3 4; do
  sleep 0.5
  rss_kib >>"$DIR/rss.after"
done
AFTER_KIB=$(tail -n 1 "$DIR/rss.after")
MAX_KIB=$(cat "$DIR/rss.during" "$DIR/rss.after" | sort -n | tail -n 1)
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
ratio=$(awk -v b="${RATE[c50]}" -v a="${RATE[c8]}" 'BEGIN { printf "%.1f", (a > 0 ? 100 * b / a : 0) }')

echo
echo "retail login bench: correct logins, wrk -t$THREADS, release build, 127.0.0.1, $(nproc) cores shared by client and server"
row() { printf "%-12s %10s %8s %8s %8s %9s %9s %14s\n" "$@"; }
row "run" "logins/s" "200s" "503s" "other" "p50 ms" "p99 ms" "CPU ms/login"
for k in c8 c50; do
  row "-${k} -d${SECS[$k]}s" "${RATE[$k]}" "${OK[$k]}" "${BUSY[$k]}" "${OTHER[$k]}" "${P50[$k]}" "${P99[$k]}" "${CPU_MS[$k]}"
done
echo "throughput c50/c8: ${ratio}%   (target >= ${MIN_RATIO}%)"
echo "RSS MiB: idle $(mib "$IDLE_KIB"), max $(mib "$MAX_KIB") (during + 2 s after), after $(mib "$AFTER_KIB")   (target < ${MAX_RSS_MIB})"
echo "threads: idle $IDLE_THREADS, after load $LOAD_THREADS"

fail=0
awk -v m="$MAX_KIB" -v l="$MAX_RSS_MIB" 'BEGIN { exit !(m < l * 1024) }' || { echo "FAIL: RSS reached ${MAX_RSS_MIB} MiB"; fail=1; }
awk -v r="$ratio" -v t="$MIN_RATIO" 'BEGIN { exit !(r >= t) }' || { echo "FAIL: c50 throughput below ${MIN_RATIO}% of c8"; fail=1; }
for k in warmup c8 c50; do
  [ "${OTHER[$k]}" -eq 0 ] || { echo "FAIL: ${OTHER[$k]} answers neither 2xx nor 503 in $k"; fail=1; }
done
exit $fail
