-- wrk script: GET /api/products?q=<three words> with a new random combination of words from
-- the generated catalog's vocabulary on every request, so that (almost) every query misses
-- the server's page cache. done() prints: SEARCH p50_ms=.. p99_ms=.. rps=.. non2xx=..
local words = {
  "compact", "portable", "wireless", "classic", "modern", "vintage", "deluxe", "premium",
  "lightweight", "foldable", "rechargeable", "ergonomic", "handmade", "waterproof", "insulated",
  "quiet", "smart", "mini", "large", "slim", "rustic", "everyday", "professional", "travel",
  "steel", "bamboo", "oak", "cotton", "wool", "leather", "ceramic", "glass", "copper", "linen",
  "black", "white", "grey", "navy", "green", "sand", "terracotta", "mustard", "blue", "olive",
  "kettle", "lamp", "novel", "atlas", "puzzle", "kite", "soap", "shampoo", "hammer", "drill",
  "pen", "notebook", "planner", "brush", "lotion", "wrench", "pliers", "clamp", "toolbox", "chair",
}
local non2xx = 0
local counter = 0

function init(args)
  math.randomseed(os.time() + counter)
end

function request()
  counter = counter + 1
  local q = words[math.random(#words)] .. "+" .. words[math.random(#words)] .. "+" .. words[math.random(#words)]
  return wrk.format("GET", "/api/products?q=" .. q .. "&per_page=20")
end

function response(status)
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
end

function done(summary, latency, requests)
  io.write(string.format("SEARCH p50_ms=%.2f p99_ms=%.2f rps=%.0f requests=%d\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests / (summary.duration / 1e6), summary.requests))
end
