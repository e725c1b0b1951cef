-- wrk script for bench/bench_service.py: POST bodies from a list, check every answer, and
-- print the figures as one JSON line (prefixed "WRK_JSON ") when done.
--
--   [WRK_RATE=R] wrk ... -s bench/wrk/post.lua URL -- LIST MODE CONTENT_TYPE TOKEN
--
-- LIST holds one body per line (MODE "lines", e.g. JSON) or one file path per line (MODE
-- "files": each file's bytes are one body); bodies are picked at random. WRK_RATE, if set,
-- is the requests/s each wrk thread aims at: its sends follow a fixed schedule, and a late
-- answer makes the next request go at once rather than making the schedule slip (while a
-- connection waits for its answer it sends nothing, so this is still a closed loop).
-- Without it each connection sends its next request as soon as the last was answered.

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } timespec;
  int clock_gettime(int clock, timespec *t);
]]
local clock = ffi.new("timespec")

local function now_ms()
  ffi.C.clock_gettime(1, clock) -- CLOCK_MONOTONIC
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end

local threads = {}

function setup(thread)
  thread:set("number", #threads + 1)
  table.insert(threads, thread)
end

local function read_bodies(list, mode)
  local bodies = {}
  for line in io.lines(list) do
    if mode == "files" then
      local f = assert(io.open(line, "rb"))
      table.insert(bodies, f:read("*a"))
      f:close()
    else
      table.insert(bodies, line)
    end
  end
  return bodies
end

local bodies

function init(args)
  bodies = read_bodies(args[1], args[2])
  wrk.method = "POST"
  wrk.headers["Content-Type"] = args[3]
  wrk.headers["Authorization"] = "Bearer " .. args[4]
  math.randomseed(number * 7919)
  ok, bad, hits = 0, 0, 0
end

function request()
  return wrk.format(nil, nil, nil, bodies[math.random(#bodies)])
end

-- Defined only when pacing: wrk then waits delay() ms (whole ms) before each request. Each
-- call takes the next slot of the thread's schedule, whichever connection asks.
if os.getenv("WRK_RATE") then
  local interval = 1000 / tonumber(os.getenv("WRK_RATE")) -- ms between sends
  local next_send

  function delay()
    local now = now_ms()
    next_send = (next_send or now) + interval
    return math.max(0, next_send - now)
  end
end

function response(status, headers, body)
  if status == 200 then
    ok = ok + 1
    if not body:find('"matches": []', 1, true) then
      hits = hits + 1
    end
  else
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local totals = { ok = 0, bad = 0, hits = 0 }
  for _, thread in ipairs(threads) do
    for name in pairs(totals) do
      totals[name] = totals[name] + thread:get(name)
    end
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"seconds": %.3f, "requests": %d, "ok": %d, "non_200": %d, "with_match": %d, ' ..
    '"socket_errors": %d, "timeouts": %d, "p50_ms": %.3f, "p90_ms": %.3f, "p99_ms": %.3f, ' ..
    '"p999_ms": %.3f, "max_ms": %.3f, "mean_ms": %.3f}\n',
    summary.duration / 1e6, summary.requests, totals.ok, totals.bad, totals.hits,
    e.connect + e.read + e.write, e.timeout, latency:percentile(50) / 1000,
    latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency:percentile(99.9) / 1000, latency.max / 1000, latency.mean / 1000))
end
