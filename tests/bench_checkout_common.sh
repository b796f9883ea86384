# Shared by tests/bench_checkout.sh, bench_mixed.sh, bench_chaos.sh, bench_feeds.sh and
# bench_search_distinct.sh (sourced, not run): the checks for the tools, a free port on
# 127.0.0.1, a temporary data directory removed on exit (with the server), the settings every
# such bench runs with, and helpers.
# The sourcing script sets NAME (for messages) and BIN first; it may export more RETAIL_*
# settings before calling `start_server`.

[ -x "$BIN" ] || { echo "$NAME: $BIN missing; run cargo build --release -p retail-server"; exit 2; }
command -v wrk >/dev/null || { echo "$NAME: wrk missing (make deps-bench)"; exit 2; }

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
PORT=${PORT:-$(free_port)}
BASE="http://127.0.0.1:$PORT"
DIR=$(mktemp -d)
PID=
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$DIR"
}
trap cleanup EXIT

export RETAIL_DATA_DIR=$DIR RETAIL_ADDR=127.0.0.1:$PORT RETAIL_DIST_DIR=$DIR/no-spa
export RETAIL_LIMITS__API_PER_IP_BURST=0   # all load comes from one IP
export RETAIL_LOG__TO_STDOUT=false          # logs still go, as JSON, to $DIR/logs
export RETAIL_AUTH__ACCESS_TTL_SECS=3600    # setup must not eat into the tokens' lifetime

# Starts `retail serve` in the background (PID) and waits until it is ready.
start_server() {
  "$BIN" serve >"$DIR/serve.out" 2>&1 &
  PID=$!
  for _ in $(seq 1 100); do
    curl -fs "$BASE/ready" >/dev/null && break
    sleep 0.1
  done
  curl -fs "$BASE/ready" >/dev/null || { cat "$DIR/serve.out"; echo "$NAME: server not ready"; exit 1; }
}

# field NAME LINE: the number after ` NAME=` in a summary line of tests/bench_checkout.lua.
field() { sed -E "s/.* $1=([0-9.]+).*/\\1/" <<<"$2"; }
