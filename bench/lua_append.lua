-- lua_append.lua -- the Lua figure for the caller's cost of logging: what a
-- sync engine written in Lua pays per `log:append{...}` while the writer
-- thread commits, to read beside the C figure of bench/latency.c (the
-- DESIGN.md target, p99 <= 2 us, is stated for C; this is reported beside
-- it, not held to it).
--
-- os.clock is too coarse (and counts the writer thread's CPU too), so the
-- wall clock synclua.now() (integer ns) times batches of 100 calls; the
-- figures are the mean per call within a batch, and their p50/p99 over all
-- batches. Every event is the same batch_ingestion row as the C benches,
-- built as a fresh table each call, as an engine would. The queue is made
-- large enough to hold every event, so no call is a cheap drop.
--
-- The baseline is the same loop calling a Lua function that does nothing:
-- the cost of building the event table and making a call, which no binding
-- can avoid.
--
-- Run with the host: build/synclua bench/lua_append.lua
-- Environment: BENCH_EVENTS (200000), BENCH_DIR (else /tmp).
local synclua = require "synclua"

local N = math.tointeger(tonumber(os.getenv("BENCH_EVENTS") or "")) or 200000
local BATCH = 100
local DEVICE = "6f1c2a3b-4d5e-4f60-8a71-92b3c4d5e6f7"
local PEER = "0a9b8c7d-6e5f-4a3b-9c2d-1e0f9a8b7c6d"
local SUMMARY = "Ingested batch of 1000 records from peer 0a9b8c7d (entry, tag)"
local now = synclua.now

local dir = os.getenv("BENCH_DIR")
if not dir or dir == "" then dir = os.getenv("TMPDIR") or "/tmp" end
local path = ("%s/synclua-bench-lua-%s.db"):format(dir, synclua.uuid())

-- Mean ns per call of each batch, for `append` called on every event.
local function measure(append)
  local means, n = {}, 0
  local t_start = now()
  for b = 0, N // BATCH - 1 do
    local t0 = now()
    for i = b * BATCH, b * BATCH + BATCH - 1 do
      append {
        event_type = "batch_ingestion",
        summary = SUMMARY,
        device_id = DEVICE,
        peer_device_id = PEER,
        model_types = "entry,tag",
        details = '{"a":1}',
        record_count = 1000 + i % 7,
        duration_ms = 40 + i % 13,
      }
    end
    n = n + 1
    means[n] = (now() - t0) / BATCH
  end
  local elapsed = now() - t_start
  table.sort(means)
  local function pct(p)
    local rank = math.max(1, math.min(n, math.ceil(p * n)))
    return means[rank] / 1e3
  end
  return pct(0.5), pct(0.99), n * BATCH, elapsed
end

local function commas(x)
  local s = ("%.0f"):format(x)
  return (s:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", ""))
end

-- The floor: the same loop, the event handed to a function that ignores it.
local f50, f99 = measure(function(_) end)

local log = assert(synclua.open(path, { mode = "w", device_id = DEVICE,
                                        queue_capacity = N + 1024 }))
local full = 0
local store_append = log.append
local p50, p99, calls, elapsed = measure(function(ev)
  local ok = store_append(log, ev)
  if not ok then full = full + 1 end
end)
local t0 = now()
assert(log:flush())
local drain = now() - t0
local stats = log:stats()
log:close()
for _, suffix in ipairs { "", "-wal", "-shm" } do os.remove(path .. suffix) end

local rate = calls / (elapsed / 1e9)
print(("lua append (the Lua figure): %d calls, mean per call in batches of %d"):
      format(calls, BATCH))
print(("lua      log:append p50 %.2f us | p99 %.2f us | %s ev/s | floor "
       .. "(table + no-op call) p50 %.2f us, p99 %.2f us | full %d")
      :format(p50, p99, commas(rate), f50, f99, full))
print(("  then flush waited %.0f ms for the writer; %d written")
      :format(drain / 1e6, stats.written))
print(("#result|append latency Lua (mean of 100)|p99 %.2f us (p50 %.2f; %s "
       .. "ev/s)|floor p99 %.2f us|-|reported beside C|-")
      :format(p99, p50, commas(rate), f99))
