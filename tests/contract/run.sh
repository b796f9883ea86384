#!/usr/bin/env bash
# The API contract as a third-party client sees it, against a release server on 127.0.0.1:
#  1. a client generated from openapi/openapi.json by openapi-python-client registers, logs in,
#     reads `me`, lists and opens products and reads a problem on a wrong password;
#  2. schemathesis (pinned, in .tools/venv) over the served spec with a token per role, plus
#     an anonymous pass and a pass for logout with tokens of its own; every check on.
# Bounded: about 2 minutes of generated requests in all (CONTRACT_SECONDS scales it).
# One worker per pass: with two, CPython 3.11's ast.parse (which hypothesis calls to describe
# its filters) races across threads and fails a pass at random with "AST constructor
# recursion depth mismatch" (a bug of the interpreter, not of the API).
set -euo pipefail
cd "$(dirname "$0")/../.."

BIN=${RETAIL_BIN:-target/release/retail}
VENV=${CONTRACT_VENV:-.tools/venv}
SECS=${CONTRACT_SECONDS:-120}
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
DIR=$(mktemp -d)
BASE=http://127.0.0.1:$PORT

export RETAIL_DATA_DIR=$DIR RETAIL_ADDR=127.0.0.1:$PORT RETAIL_DIST_DIR=$DIR/no-spa
export RETAIL_LOG__TO_STDOUT=false
# one client address sends everything: the per-IP and login limits would answer 429 (which
# the spec documents) and hide the routes behind them
export RETAIL_LIMITS__API_PER_IP_BURST=0 RETAIL_LIMITS__AUTH_PER_IP_BURST=1000000
export RETAIL_LIMITS__LOGIN_PER_ACCOUNT_BURST=1000000

"$BIN" seed >/dev/null
"$BIN" serve >"$DIR/serve.out" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$DIR"' EXIT
for _ in $(seq 1 100); do
  curl -fs "$BASE/ready" >/dev/null && break
  sleep 0.1
done

status=0
passed=0
failed=0
record() { if [ "$1" = 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); status=1; fi; }
token() { # email password
  curl -fs -X POST "$BASE/api/auth/login" -H 'content-type: application/json' \
    -d "{\"email\":\"$1\",\"password\":\"$2\"}" | python3 -c 'import sys, json; print(json.load(sys.stdin)["access_token"])'
}

st() { # label seconds [options...]
  local label=$1 secs=$2
  shift 2
  echo "== schemathesis: $label (${secs}s)"
  "$VENV/bin/st" --config-file tests/contract/schemathesis.toml run "$BASE/api/openapi.json" \
    --seed 20261125 --max-examples "${CONTRACT_EXAMPLES:-40}" --max-time "$secs" --workers 1 --request-timeout 10 \
    --warnings off --no-color "$@"
}

echo "== generated client (openapi-python-client)"
"$VENV/bin/openapi-python-client" generate --path openapi/openapi.json --output-path "$DIR/client" \
  --meta none --overwrite --config tests/contract/client-config.yaml >"$DIR/generate.out" 2>&1 || { cat "$DIR/generate.out"; exit 1; }
rc=0; PYTHONPATH="$DIR" "$VENV/bin/python" tests/contract/generated_client.py "$BASE" || rc=$?; record $rc


ADMIN=$(token admin@retail.test demo-Kestrel-2026)
CUSTOMER=$(token customer@retail.test demo-Wren-2026)
SUPPORT=$(token support@retail.test demo-Heron-2026)
WAREHOUSE=$(token warehouse@retail.test demo-Osprey-2026)
FINANCE=$(token finance@retail.test demo-Falcon-2026)
pass() { # label share-of-SECS-in-percent [options...]
  local label=$1 share=$2
  shift 2
  rc=0
  st "$label" $((SECS * share / 100 + 1)) "$@" || rc=$?
  record $rc
}
pass admin 30 -H "Authorization: Bearer $ADMIN" --exclude-path /api/auth/logout
pass customer 15 -H "Authorization: Bearer $CUSTOMER" --exclude-path /api/auth/logout
pass support 8 -H "Authorization: Bearer $SUPPORT" --exclude-path /api/auth/logout
pass warehouse 8 -H "Authorization: Bearer $WAREHOUSE" --exclude-path /api/auth/logout
pass finance 8 -H "Authorization: Bearer $FINANCE" --exclude-path /api/auth/logout
pass anonymous 15 --exclude-path /api/auth/logout
# logout ends the session it is called with: a fresh token of its own
LOGOUT=$(token support@retail.test demo-Heron-2026)
pass logout 8 -H "Authorization: Bearer $LOGOUT" --include-path /api/auth/logout

echo "contract: $passed passed, $failed failed"
exit $status
