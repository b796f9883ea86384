-- wrk script for POST /api/checkout, shared by tests/bench_checkout.sh, bench_mixed.sh and
-- bench_chaos.sh. Arguments (after `--`): TOKENS_FILE THREADS [KEY_PREFIX [BACKOFF_MS]]
--   TOKENS_FILE  one access token per line (`retail bench-data --customers N --tokens-out`),
--                each customer with a filled cart: one token buys once.
--   THREADS      wrk's -t (thread i of T sends lines i, i+T, i+2T, ...: disjoint sequences).
--   KEY_PREFIX   start of every Idempotency-Key (default "bench"); each request gets a new key.
--   BACKOFF_MS   if > 0: after a 503 (breaker open, Retry-After) the thread's next request
--                waits this long, as clients that honour Retry-After would (default 0: no
--                delay() at all, so the other benchmarks pay nothing for it).
-- A token is never sent twice: when a thread runs out of tokens it stops (wrk.thread:stop()),
-- counts that as `exhausted` (the run then ended early: give it more tokens) and sends a last,
-- token-free GET /ready instead.
-- done() prints one line:
--   CHECKOUT ok=.. s402=.. s409=.. s502=.. s503=.. s504=.. other=.. exhausted=.. sent=..
--            secs=.. rate=.. p50_ms=.. p99_ms=..
-- rate = 201 answers per second of the run; p50/p99 over every answer (wrk's own histogram).

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local tokens, pos, n, prefix, tid

function init(args)
  local file, nthreads = args[1], tonumber(args[2])
  prefix = args[3] or "bench"
  local backoff = tonumber(args[4] or "0")
  if backoff > 0 then
    -- wrk looks for a global delay() after init(): defined only when asked for
    function delay()
      if backing_off then
        backing_off = false
        return backoff
      end
      return 0
    end
  end
  tid = tonumber(wrk.thread:get("tid"))
  assert(file and nthreads, "usage: wrk ... -s bench_checkout.lua -- TOKENS_FILE THREADS [KEY_PREFIX]")
  tokens, n, pos = {}, 0, 0
  local line_no = 0
  for line in io.lines(file) do
    if line ~= "" then
      if line_no % nthreads == tid then
        n = n + 1
        tokens[n] = line
      end
      line_no = line_no + 1
    end
  end
  ok, s402, s409, s502, s503, s504, other, exhausted, sent = 0, 0, 0, 0, 0, 0, 0, 0, 0
  wrk.method = "POST"
  wrk.body = '{"card_token":"tok_visa"}'
  wrk.headers["Content-Type"] = "application/json"
end

local stopped = false

function request()
  if pos >= n then
    if not stopped then
      stopped = true
      exhausted = exhausted + 1
      wrk.thread:stop()
    end
    -- no token left: a harmless request without one (counted as exhausted, never an order)
    return wrk.format("GET", "/ready", {}, nil)
  end
  pos = pos + 1
  sent = pos
  return wrk.format("POST", "/api/checkout", {
    ["Authorization"] = "Bearer " .. tokens[pos],
    ["Idempotency-Key"] = string.format("%s-%d-%d", prefix, tid, pos),
    ["Content-Type"] = "application/json",
  }, '{"card_token":"tok_visa"}')
end

function response(status, headers, body)
  if status == 201 then ok = ok + 1
  elseif status == 402 then s402 = s402 + 1
  elseif status == 409 then s409 = s409 + 1
  elseif status == 502 then s502 = s502 + 1
  elseif status == 503 then
    s503 = s503 + 1
    backing_off = true
  elseif status == 504 then s504 = s504 + 1
  elseif status == 200 and stopped then -- the token-free request after the last token
  else
    other = other + 1
    if other <= 3 then io.stderr:write("checkout answered ", status, ": ", tostring(body), "\n") end
  end
end

function done(summary, latency, requests)
  local t = { ok = 0, s402 = 0, s409 = 0, s502 = 0, s503 = 0, s504 = 0, other = 0, exhausted = 0, sent = 0 }
  for _, th in ipairs(threads) do
    for k, _ in pairs(t) do t[k] = t[k] + tonumber(th:get(k)) end
  end
  local secs = summary.duration / 1e6
  io.write(string.format(
    "CHECKOUT ok=%d s402=%d s409=%d s502=%d s503=%d s504=%d other=%d exhausted=%d sent=%d secs=%.3f rate=%.1f p50_ms=%.2f p99_ms=%.2f\n",
    t.ok, t.s402, t.s409, t.s502, t.s503, t.s504, t.other, t.exhausted, t.sent, secs, t.ok / secs,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
