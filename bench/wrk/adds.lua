-- wrk script for bench/bench_adds.py: each request adds one new entry (a random PDQ hash
-- and, for hashguard, a new id), every answer is checked, and the figures are printed as one
-- JSON line (prefixed "WRK_JSON ") when done.
--
--   wrk ... -s bench/wrk/adds.lua URL -- API TOKEN
--
-- API "hashguard": POST {"id": ..., "signals": [{"type": "pdq", "value": ...}]}, 201 is ok.
-- API "hma": POST {"pdq": ...} (HMA's /c/bank/NAME/signal), 200 is ok.

local threads = {}

function setup(thread)
  thread:set("number", #threads + 1)
  table.insert(threads, thread)
end

local api, ok_status, count

function init(args)
  api = args[1]
  ok_status = api == "hma" and 200 or 201
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  if args[2] and args[2] ~= "" then
    wrk.headers["Authorization"] = "Bearer " .. args[2]
  end
  math.randomseed(os.time() * 1000 + number)
  ok, bad, count = 0, 0, 0
end

local function pdq()
  local parts = {}
  for i = 1, 16 do
    parts[i] = string.format("%04x", math.random(0, 65535))
  end
  return table.concat(parts)
end

function request()
  count = count + 1
  local hash = pdq()
  local body
  if api == "hma" then
    body = '{"pdq": "' .. hash .. '"}'
  else
    body = '{"id": "bench-' .. hash .. '", "signals": [{"type": "pdq", "value": "' .. hash .. '"}]}'
  end
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  if status == ok_status then
    ok = ok + 1
  else
    bad = bad + 1
    if bad <= 3 then
      io.stderr:write("unexpected answer " .. status .. ": " .. body:sub(1, 200) .. "\n")
    end
  end
end

function done(summary, latency, requests)
  local totals = { ok = 0, bad = 0 }
  for _, thread in ipairs(threads) do
    for name in pairs(totals) do
      totals[name] = totals[name] + thread:get(name)
    end
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"seconds": %.3f, "requests": %d, "ok": %d, "bad": %d, ' ..
    '"socket_errors": %d, "timeouts": %d, "p50_ms": %.3f, "p90_ms": %.3f, "p99_ms": %.3f, ' ..
    '"max_ms": %.3f, "mean_ms": %.3f}\n',
    summary.duration / 1e6, summary.requests, totals.ok, totals.bad,
    e.connect + e.read + e.write, e.timeout, latency:percentile(50) / 1000,
    latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, latency.mean / 1000))
end
