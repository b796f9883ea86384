-- wrk script: paces each connection so that together they send about RATE requests a second
-- (env RATE, default 5000; CONNS must match wrk's -c, default 10). wrk waits delay() ms
-- before each request of a connection; the latency it records starts when the request is
-- sent, so it is the server's answer time at that load, not the pause.
local rate = tonumber(os.getenv("RATE") or "5000")
local conns = tonumber(os.getenv("CONNS") or "10")
local pause = math.max(1, math.floor(conns * 1000 / rate))

function delay()
  return pause
end
