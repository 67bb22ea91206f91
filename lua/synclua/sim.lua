--- synclua.sim: a small model of Spacedrive's sync engine running on several
-- devices of one library, driven by a virtual clock, each device writing its
-- own sync.db through the real logger, batch aggregator and emitters. The
-- engine behind `synclua simulate` and the demo library (synclua.demo).
--
--     local sim = require "synclua.sim"
--     local manifest = sim.generate{ out = "lib", devices = 4, hours = 48,
--                                    seed = 1, faults = sim.DEFAULT_FAULTS }
--
-- The model, per device: states Uninitialized -> Backfilling -> CatchingUp
-- -> Ready <-> Paused; an online schedule by kind of device (always on,
-- office hours, a phone's short sessions) with peer_connected/disconnected
-- on both ends of every link; new devices joining and backfilling, page by
-- page, from the peer Spacedrive's scoring selects (synclua.select_peer),
-- with backfill requests and responses logged on both ends under the
-- requester's session id; bursts of local changes (indexing, edits,
-- organising) streamed to the connected peers, which feed them to the
-- aggregator per model (log:add_records), buffer them while backfilling, or
-- miss them while offline and fetch them in their next catch-up session.
--
-- Determinism: one seed gives the same rows. Randomness comes from a
-- seeded generator of this module (splitmix64; never math.random, the
-- clock, or synclua.uuid), time from a virtual clock (every event carries
-- an explicit `at`), and every iteration runs over lists in a fixed order.
-- Each device stamps its events with the true time plus its clock offset.
local synclua = require "synclua"
local fs = require "synclua.fs"

local M = {}

local SEC = 1000000000
local MS = 1000000
local MINUTE = 60 * SEC
local HOUR = 3600 * SEC
local DAY = 86400 * SEC

--- Every fault the simulator can plant, in the order they are described.
M.FAULTS = { "slow_peer", "buffer_overflow", "stuck_dependencies", "offline",
             "failed_session", "peer_drop" }

--- What a run plants when no --faults is given.
M.DEFAULT_FAULTS = { "slow_peer", "buffer_overflow", "failed_session" }

--- One line per fault, for --help and the README.
M.FAULT_HELP = {
  slow_peer = "a backfill whose records/s fall batch after batch (a "
    .. "foreign-key bottleneck): size-triggered batches take longer and "
    .. "longer, then 30 s batches hold fewer and fewer records",
  buffer_overflow = "a burst of 100,000+ updates arrives during a backfill: "
    .. "the 100,000-update buffer drops the rest, logged as a sync_error "
    .. "(error) 'Buffer overflow: N updates dropped during backfill' at the "
    .. "backfill -> catch-up transition",
  stuck_dependencies = "a backfill ends with records waiting for missing "
    .. "parents: sync_error (warning) 'Stuck dependencies: W records "
    .. "waiting for D missing parents'",
  offline = "a device last synced 30-39 days before the window comes back: "
    .. "sync_error (warning) 'Watermark too old: N days (threshold: 25 "
    .. "days), forcing full sync', then a full backfill",
  failed_session = "a backfill times out waiting for a response: "
    .. "backfill_session_failed, back to Uninitialized, then a retry that "
    .. "succeeds",
  peer_drop = "the selected peer's connection drops mid-backfill: "
    .. "peer_disconnected on both devices, backfill_session_failed, and a new "
    .. "session that selects again (the dropped peer listed offline)",
}

--- When the window opens unless told: fixed, so that output is reproducible.
M.DEFAULT_START = "2025-12-01T00:00:00Z"

--- Limits of a run: devices, and hours (a leap year).
M.MAX_DEVICES = 64
M.MAX_HOURS = 8784

--- Spacedrive's constants the model follows: the update buffer's
-- MAX_BUFFER_SIZE, and SyncConfig::default()'s full-sync threshold.
M.MAX_BUFFER = 100000
M.WATERMARK_THRESHOLD_DAYS = 25

--- Each store's logger queue; Device:guard waits for the writer long
-- before it could fill.
M.QUEUE_CAPACITY = 1 << 18

-- Devices in the order a library grows; kinds set the online schedule
-- (always on, office hours, phone sessions) and the network class.
local NAMES = {
  { "desktop", "always", "wired" }, { "laptop", "daily", "wifi" },
  { "phone", "mobile", "cell" }, { "nas", "always", "wired" },
  { "tablet", "mobile", "wifi" }, { "workstation", "daily", "wired" },
  { "mini", "always", "wired" }, { "media", "always", "wired" },
  { "studio", "daily", "wifi" }, { "backup", "always", "wired" },
}

-- Round-trip times (ms) of a link, by the slower end's network class.
local RTT = { wired = { 1.2, 6 }, wifi = { 8, 35 }, cell = { 40, 140 } }
local NET_RANK = { wired = 1, wifi = 2, cell = 3 }

-- Model types, in the order a backfill requests them (parents first).
local MODELS = { "device", "volume", "location", "tag", "collection",
                 "entry", "content_identity", "user_metadata",
                 "tag_relationship", "collection_entry" }

local PAGE = 5000                    -- records per backfill response
local CHUNK = 1000                   -- records applied at a time, at most

-- ------------------------------------------------------------ randomness

-- splitmix64: a seeded stream of 64-bit integers (Lua integers wrap).
local Rng = {}
Rng.__index = Rng

local function new_rng(seed, stream)
  local r = setmetatable({ s = seed ~ (stream * 0x632be59bd9b4e019) }, Rng)
  r:u64()
  return r
end

function Rng:u64()
  local s = self.s + 0x9e3779b97f4a7c15
  self.s = s
  local z = (s ~ (s >> 30)) * 0xbf58476d1ce4e5b9
  z = (z ~ (z >> 27)) * 0x94d049bb133111eb
  return z ~ (z >> 31)
end

-- A float in [0, 1).
function Rng:float()
  return (self:u64() >> 11) * (1.0 / 9007199254740992.0)
end

-- An integer in [lo, hi].
function Rng:int(lo, hi)
  return lo + math.floor(self:float() * (hi - lo + 1))
end

-- A float in [lo, hi).
function Rng:uniform(lo, hi)
  return lo + (hi - lo) * self:float()
end

-- A duration in ns, uniform between lo and hi seconds.
function Rng:secs(lo, hi)
  return math.floor(self:uniform(lo, hi) * SEC)
end

-- An exponentially distributed duration (ns) with this mean (ns).
function Rng:exp(mean)
  return math.floor(-mean * math.log(1.0 - self:float()))
end

function Rng:chance(p)
  return self:float() < p
end

-- A version 4 UUID, lowercase.
function Rng:uuid()
  local hi, lo = self:u64(), self:u64()
  hi = (hi & ~0xf000) | 0x4000
  lo = (lo & 0x3fffffffffffffff) | (1 << 63)
  return ("%08x-%04x-%04x-%04x-%012x"):format(hi >> 32, (hi >> 16) & 0xffff,
    hi & 0xffff, lo >> 48, lo & 0xffffffffffff)
end

-- ------------------------------------------------------------ scheduler

-- Processes are coroutines; each yields the ns it sleeps. The heap orders
-- wake-ups by (time, sequence): ties run in the order they were scheduled.
local function less(a, b)
  return a[1] < b[1] or (a[1] == b[1] and a[2] < b[2])
end

local function heap_push(h, item)
  local i = #h + 1
  h[i] = item
  while i > 1 do
    local p = i // 2
    if not less(h[i], h[p]) then break end
    h[i], h[p] = h[p], h[i]
    i = p
  end
end

local function heap_pop(h)
  local top, n = h[1], #h
  h[1] = h[n]
  h[n] = nil
  n = n - 1
  local i = 1
  while true do
    local l, r, m = 2 * i, 2 * i + 1, i
    if l <= n and less(h[l], h[m]) then m = l end
    if r <= n and less(h[r], h[m]) then m = r end
    if m == i then break end
    h[i], h[m] = h[m], h[i]
    i = m
  end
  return top
end

local function sleep(ns)
  coroutine.yield(ns)
end

-- ---------------------------------------------------------------- world

local World = {}
World.__index = World

function World:spawn(delay, fn, ...)
  self.seq = self.seq + 1
  heap_push(self.heap, { self.now + delay, self.seq, coroutine.create(fn),
                         table.pack(...) })
end

function World:run()
  local heap = self.heap
  while #heap > 0 do
    local item = heap_pop(heap)
    self.now = item[1]
    local co, args = item[3], item[4]
    local ok, ns
    if args then
      item[4] = nil
      ok, ns = coroutine.resume(co, table.unpack(args, 1, args.n))
    else
      ok, ns = coroutine.resume(co)
    end
    if not ok then error(debug.traceback(co, ns), 0) end
    if coroutine.status(co) == "suspended" then
      self.seq = self.seq + 1
      item[1], item[2] = self.now + ns, self.seq
      heap_push(heap, item)
    end
  end
end

function World:running()
  return self.now < self.stop
end

-- Sessions in flight when the window closes may wait a while longer for a
-- peer (a dropped link comes back), but not for ever.
function World:gave_up()
  return self.now > self.stop + HOUR
end

-- ---------------------------------------------------------------- devices

local Device = {}
Device.__index = Device

-- The device's clock: true time plus its offset.
function Device:at()
  return self.w.now + self.offset
end

-- Keep the logger's queue from filling: every few thousand calls, look at
-- its depth, and wait for the writer only when it is more than half full.
function Device:guard()
  self.calls = self.calls + 1
  if self.calls % 4096 == 0 then
    local st = self.log:stats()
    if st.queue_depth > st.queue_capacity // 2 then assert(self.log:flush()) end
  end
end

-- An emitter's result: false means the logger refused the event.
local function must(what, ok, why)
  if ok == false then
    error(("%s: the event was dropped (%s)"):format(what, tostring(why)), 0)
  end
end

-- One typed emitter call, stamped with this device's clock. Batches that
-- fell due are flushed first, so rows come in time order.
function Device:emit(method, fields)
  local at = self:at()
  fields.at = at
  local log = self.log
  must("tick_batches", log:tick_batches(at))
  must(method, log[method](log, fields))
  self:guard()
end

-- A session ends: its last records are logged as a batch before the
-- session's closing event.
function Device:flush_batches()
  must("flush_batches", self.log:flush_batches(self:at()))
end

-- Records ingested from `peer` (a Device), in a session or not.
function Device:add(model, n, peer, session)
  if n <= 0 then return end
  must("add_records",
       self.log:add_records(model, n, peer.id, session, self:at()))
  self:guard()
end

function Device:transition(to, reason)
  self:emit("emit_state_transition", { from = self.state, to = to,
                                       reason = reason })
  self.state = to
end

function Device:kind_is(...)
  local k = self.state[1]
  for i = 1, select("#", ...) do
    if k == select(i, ...) then return true end
  end
  return false
end

-- Does it hold the library's full state (a backfill candidate's
-- has_complete_state)?
function Device:complete()
  return self.synced and not self:kind_is("uninitialized", "backfilling")
end

local function link_key(a, b)
  if a.index > b.index then a, b = b, a end
  return a.index * 1000 + b.index
end

function World:link(a, b)
  return self.links[link_key(a, b)]
end

function World:connected(a, b)
  return a ~= b and a.online and b.online and a.joined and b.joined
         and not self:link(a, b).down
end

-- The measured round trip of a link now (ms, two decimals).
function World:rtt(a, b)
  local l = self:link(a, b)
  return math.floor(l.rtt * a.rng:uniform(0.9, 1.1) * 100 + 0.5) / 100
end

local function both_connected(w, a, b)
  a:emit("emit_peer_connected", { peer = b.id })
  b:emit("emit_peer_connected", { peer = a.id })
end

local function both_disconnected(w, a, b, reason_a, reason_b)
  a:emit("emit_peer_disconnected", { peer = b.id, reason = reason_a })
  b:emit("emit_peer_disconnected", { peer = a.id, reason = reason_b })
end

-- Spacedrive's candidates: the other devices that are sync partners, in
-- device order; returns them and the devices they stand for.
local function candidates(w, r, only_online)
  local list, devs = {}, {}
  for _, d in ipairs(w.devices) do
    if d ~= r and d.joined and d.synced
       and (not only_online or w:connected(r, d)) then
      list[#list + 1] = {
        device_id = d.id,
        is_online = w:connected(r, d),
        has_complete_state = d:complete(),
        latency_ms = w:rtt(r, d),
        active_syncs = d.serving,
      }
      devs[#devs + 1] = d
    end
  end
  return list, devs
end

local function has_source(w, r)
  for _, d in ipairs(w.devices) do
    if w:connected(r, d) and d:complete() then return true end
  end
  return false
end

local function any_source(w)
  for _, d in ipairs(w.devices) do
    if d.online and d:complete() then return true end
  end
  return false
end

local function total(counts)
  local n = 0
  for _, m in ipairs(MODELS) do n = n + (counts[m] or 0) end
  return n
end

-- --------------------------------------------------------- ingestion

-- Apply `counts` (model -> records) from `peer` at `rate` records/s, in
-- chunks of a second or two, as the engine applies received records.
local function ingest(r, counts, peer, session, rate)
  for _, m in ipairs(MODELS) do
    local left = counts[m] or 0
    while left > 0 do
      local n = math.min(left, CHUNK,
                         math.max(1, math.floor(rate * r.rng:uniform(0.5, 2))))
      sleep(math.floor(n / rate * SEC))
      r:add(m, n, peer, session)
      left = left - n
    end
  end
end

-- Updates received while backfilling or catching up wait in the buffer,
-- which holds MAX_BUFFER at most: a push beyond drops the new update.
local function buffer(r, origin, model, n)
  local room = M.MAX_BUFFER - r.buffered
  local kept = math.min(n, room)
  if kept > 0 then
    local b = r.buffer[origin.index]
    if not b then
      b = {}
      r.buffer[origin.index] = b
    end
    b[model] = (b[model] or 0) + kept
    r.buffered = r.buffered + kept
  end
  r.dropped = r.dropped + (n - kept)
end

-- Apply the buffer (and whatever arrives meanwhile) until it is empty.
local function drain_buffer(w, r)
  while r.buffered > 0 do
    local buf = r.buffer
    r.buffer, r.buffered = {}, 0
    for _, origin in ipairs(w.devices) do
      if buf[origin.index] then
        ingest(r, buf[origin.index], origin, nil, r.rng:uniform(4000, 6000))
      end
    end
  end
end

-- Records changed on `origin` reach device d.
local function deliver(w, origin, d, model, n)
  if not d.joined or d.state[1] == "uninitialized" then return end
  if w:connected(origin, d) then
    local k = d.state[1]
    if k == "ready" then
      d:add(model, n, origin)
      return
    elseif k == "backfilling" or k == "catching_up" then
      buffer(d, origin, model, n)
      return
    end
  end
  d.missed[model] = (d.missed[model] or 0) + n
end

-- A burst of local changes on `origin`, streamed to every peer in chunks.
local function burst(w, origin, counts, rate)
  origin.busy = origin.busy + 1
  local left, n_left = {}, 0
  for _, m in ipairs(MODELS) do
    left[m] = counts[m] or 0
    n_left = n_left + left[m]
    w.library[m] = w.library[m] + left[m]
  end
  while n_left > 0 do
    local dt = origin.rng:uniform(1.0, 3.0)
    local chunk = math.min(n_left, math.max(1, math.floor(rate * dt)))
    sleep(math.floor(dt * SEC))
    -- the chunk takes from every model in proportion to what is left
    local parts, taken = {}, 0
    for _, m in ipairs(MODELS) do
      if left[m] > 0 then
        local k = math.min(left[m], math.max(1, chunk * left[m] // n_left))
        if taken + k > chunk then k = chunk - taken end
        if k > 0 then
          parts[#parts + 1] = { m, k }
          taken = taken + k
          left[m] = left[m] - k
        end
      end
    end
    n_left = n_left - taken
    for _, d in ipairs(w.devices) do
      if d ~= origin then
        for _, p in ipairs(parts) do deliver(w, origin, d, p[1], p[2]) end
      end
    end
  end
  origin.busy = origin.busy - 1
end

-- What a burst of each kind changes.
local function burst_counts(rng, kind, profile)
  local c = {}
  if kind == "index" then
    if profile == "mobile" then            -- photos taken
      c.entry = rng:int(10, 400)
      c.content_identity = math.floor(c.entry * rng:uniform(0.8, 1.0))
      return c, rng:uniform(40, 200)
    elseif profile == "server" then        -- a periodic rescan
      c.entry = rng:int(200, 5000)
      c.content_identity = math.floor(c.entry * rng:uniform(0.3, 0.6))
      return c, rng:uniform(300, 1000)
    end
    c.entry = rng:int(500, 12000)
    c.content_identity = math.floor(c.entry * rng:uniform(0.4, 0.7))
    if rng:chance(0.3) then c.location = 1 end
    if rng:chance(0.05) then c.volume = 1 end
    return c, rng:uniform(400, 1500)
  elseif kind == "edit" then
    c.entry = rng:int(3, 150)
    c.user_metadata = rng:int(0, 40)
    c.tag = rng:int(0, 3)
    return c, rng:uniform(10, 60)
  end
  c.tag = rng:int(1, 8)
  c.tag_relationship = rng:int(5, 250)
  c.collection = rng:int(0, 2)
  c.collection_entry = rng:int(0, 150)
  return c, rng:uniform(20, 100)
end

-- A device's own activity while it is online and ready.
local function activity(w, d)
  -- Servers (always on, but the desktop) only rescan now and then.
  local server = d.schedule == "always" and not d.name:match("^desktop")
  local profile = server and "server"
                  or (d.schedule == "mobile" and "mobile" or "user")
  local mean = ({ server = 4 * HOUR, user = 6 * MINUTE,
                  mobile = 10 * MINUTE })[profile]
  local index = profile == "mobile" and 0.25 or 0.03
  while true do
    sleep(math.max(SEC, d.rng:exp(mean)))
    if not w:running() then return end
    if d.online and d.state[1] == "ready" then
      local u, kind = d.rng:float(), "organize"
      if server or u < index then kind = "index"
      elseif u < index + 0.65 then kind = "edit" end
      local counts, rate = burst_counts(d.rng, kind, profile)
      w:spawn(0, burst, w, d, counts, rate)
    end
  end
end

-- ----------------------------------------------------------- sessions

local function plant(w, fields)
  w.planted[#w.planted + 1] = fields
end

-- Spacedrive's transition_to_ready: CatchingUp with the buffer's length,
-- the buffer overflow and stuck dependencies checks, the buffered updates
-- applied, then Ready.
local function to_ready(w, r, p, session, plan)
  local buffered = r.buffered
  r:transition({ "catching_up", buffered_count = buffered },
               "transitioning to ready")
  if r.dropped > 0 then
    r:emit("emit_buffer_overflow", { dropped = r.dropped,
                                     max_buffer_size = buffered })
    if plan.buffer_overflow then
      plant(w, { fault = "buffer_overflow", device = r.name,
                 device_id = r.id, session = session, peer = p.name,
                 dropped = r.dropped, buffered = buffered })
    end
    r.dropped = 0
  end
  if plan.stuck_dependencies then
    local deps = r.rng:int(2, 6)
    local waiting = deps * r.rng:int(2, 9)
    r:emit("emit_stuck_dependencies", { total_dependencies = deps,
                                        total_waiting_updates = waiting })
    plant(w, { fault = "stuck_dependencies", device = r.name,
               device_id = r.id, session = session, peer = p.name,
               total_dependencies = deps, total_waiting_updates = waiting })
  end
  drain_buffer(w, r)
  r.state = { "catching_up", buffered_count = r.buffered }
  r:transition({ "ready" }, "buffered updates processed")
end

-- The 100,000+ updates a buffer_overflow fault sends while r backfills.
local function flood(w, r, p, plan)
  -- Only r is to overflow: wait while another device backfills.
  local function others_backfilling()
    for _, d in ipairs(w.devices) do
      if d ~= r and d.state[1] == "backfilling" then return true end
    end
    return false
  end
  while others_backfilling() do sleep(5 * SEC) end
  local origin = p
  for _, d in ipairs(w.devices) do
    if d ~= r and d ~= p and w:connected(r, d) and d.state[1] == "ready" then
      origin = d
      break
    end
  end
  local n = M.MAX_BUFFER - r.buffered + r.rng:int(200, 3000)
  local counts = { entry = n - n * 2 // 5, content_identity = n * 2 // 5 }
  plan.flooding = true
  burst(w, origin, counts, r.rng:uniform(2500, 4000))
  plan.flooding = false
end

-- One backfill attempt; returns true when it completed. `fail` is nil,
-- "timeout" (the responder never answers a page) or "drop" (the link to
-- the responder goes down).
local function backfill_attempt(w, r, plan, reason, fail)
  local rng = r.rng
  local session = rng:uuid()
  local t0 = w.now
  local cands, devs = candidates(w, r)
  local online = 0
  for _, c in ipairs(cands) do
    if c.is_online then online = online + 1 end
  end
  r:emit("emit_backfill_started", { session = session, peer_count = online })
  sleep(rng:secs(0.002, 0.04))
  local sel = synclua.select_peer(cands)
  local p = devs[sel]
  r:emit("emit_peer_selected", { session = session, candidates = cands,
                                 selected = sel })
  sleep(rng:secs(0.001, 0.01))
  r:transition({ "backfilling", peer = p.id, progress = 0 }, reason)
  p.serving, p.busy = p.serving + 1, p.busy + 1

  local snapshot, records = {}, 0
  for _, m in ipairs(MODELS) do
    snapshot[m] = w.library[m]
    records = records + snapshot[m]
  end
  local done, rate0 = 0, rng:uniform(900, 2000)
  if p.net == "cell" or r.net == "cell" then rate0 = rate0 / 2 end
  local fail_at = fail and math.floor(records * rng:uniform(0.2, 0.6))
  local slow = plan.slow_peer and not fail
  if plan.buffer_overflow and not fail then
    w:spawn(rng:secs(5, 20), flood, w, r, p, plan)
    plan.flooding = true
  end
  local function failed(why)
    r:flush_batches()
    r:emit("emit_backfill_failed", { session = session, peer = p.id,
                                     reason = why,
                                     duration_ms = (w.now - t0) // MS })
    r.state.progress = records > 0 and done * 100 // records or 0
    r:transition({ "uninitialized" }, "backfill_failed")
    r.buffer, r.buffered, r.dropped = {}, 0, 0
    p.serving, p.busy = p.serving - 1, p.busy - 1
    return false
  end

  for _, m in ipairs(MODELS) do
    local remaining = snapshot[m]
    while remaining > 0 do
      local page = math.min(PAGE, remaining)
      local half = math.floor(w:rtt(r, p) / 2 * MS)
      r:emit("emit_backfill_request_sent", { session = session, peer = p.id,
                                             model_type = m })
      sleep(half)
      p:emit("emit_backfill_request_received", { session = session,
                                                 peer = r.id,
                                                 model_type = m })
      local query = math.floor(page / rng:uniform(15000, 40000) * SEC)
      if fail and done >= fail_at then
        if fail == "timeout" then
          sleep(60 * SEC)
          plant(w, { fault = "failed_session", device = r.name,
                     device_id = r.id, session = session, peer = p.name })
          return failed("timed out after 60s waiting for a backfill "
                        .. "response from " .. p.id)
        end
        sleep(query // 2)
        w:link(r, p).down = true
        both_disconnected(w, r, p, "connection lost", "connection lost")
        plant(w, { fault = "peer_drop", device = r.name, device_id = r.id,
                   session = session, peer = p.name, peer_id = p.id })
        w:spawn(rng:secs(180, 600), function()
          w:link(r, p).down = false
          if w:connected(r, p) then both_connected(w, r, p) end
        end)
        return failed("peer " .. p.id .. " disconnected")
      end
      sleep(query)
      p:emit("emit_backfill_response_sent", { session = session, peer = r.id,
                                              model_type = m,
                                              record_count = page,
                                              duration_ms = query // MS })
      sleep(half)
      local left = page
      while left > 0 do
        -- A foreign-key bottleneck: each record waits on more parents.
        local rate = slow and rate0 / (1 + 9 * done / records) or rate0
        local n = math.min(left, CHUNK, math.max(1, math.floor(
          rate * rng:uniform(0.5, 2.0))))
        sleep(math.floor(n / rate * SEC))
        r:add(m, n, p, session)
        left, done = left - n, done + n
      end
      remaining = remaining - page
    end
  end
  while plan.flooding do sleep(SEC) end
  if slow then
    plant(w, { fault = "slow_peer", device = r.name, device_id = r.id,
               session = session, peer = p.name, peer_id = p.id })
  end
  sleep(rng:secs(0.01, 0.2))
  r:flush_batches()
  r:emit("emit_backfill_completed", { session = session, peer = p.id,
                                      duration_ms = (w.now - t0) // MS,
                                      record_count = done })
  r.state.progress = 100
  p.serving, p.busy = p.serving - 1, p.busy - 1
  r.synced = true
  r.missed = {}
  to_ready(w, r, p, session, plan)
  return true
end

-- A backfill until one attempt succeeds; the plan's failures come first.
local function backfill(w, r, plan, reason)
  r.busy = r.busy + 1
  while true do
    while not has_source(w, r) do
      if w:gave_up() then                    -- the window closed waiting
        r.busy = r.busy - 1
        return false
      end
      sleep(30 * SEC)
    end
    local fail
    if plan.failed_session and not plan.failed_done then
      fail, plan.failed_done = "timeout", true
    elseif plan.peer_drop and not plan.drop_done then
      fail, plan.drop_done = "drop", true
    end
    if backfill_attempt(w, r, plan, reason, fail) then break end
    reason = "retrying backfill"
    sleep(fail == "drop" and r.rng:secs(2, 5) or r.rng:secs(20, 90))
  end
  r.busy = r.busy - 1
  return true
end

-- An incremental catch-up from the best connected peer.
local function catch_up(w, r)
  local cands, devs = candidates(w, r, true)
  local i = 1
  while i <= #cands do
    if not cands[i].has_complete_state then
      table.remove(cands, i)
      table.remove(devs, i)
    else
      i = i + 1
    end
  end
  local sel = #cands > 0 and synclua.select_peer(cands)
  if not sel then return end
  local p, rng = devs[sel], r.rng
  r.busy, p.busy, p.serving = r.busy + 1, p.busy + 1, p.serving + 1
  local session, t0 = rng:uuid(), w.now
  r:transition({ "catching_up", buffered_count = 0 }, "incremental_catchup")
  r:emit("emit_catch_up_started", { session = session, peer = p.id })
  r:emit("emit_backfill_request_sent", { session = session, peer = p.id })
  local half = math.floor(w:rtt(r, p) / 2 * MS)
  sleep(half)
  p:emit("emit_backfill_request_received", { session = session, peer = r.id })
  local missed = r.missed
  r.missed = {}
  if total(missed) == 0 and rng:chance(0.5) then
    missed = { entry = rng:int(1, 12) }
  end
  local n = total(missed)
  local query = rng:secs(0.005, 0.05) + math.floor(n / 30000 * SEC)
  sleep(query)
  p:emit("emit_backfill_response_sent", { session = session, peer = r.id,
                                          record_count = n,
                                          duration_ms = query // MS })
  sleep(half)
  ingest(r, missed, p, session, rng:uniform(2000, 4000))
  drain_buffer(w, r)
  r:flush_batches()
  r:emit("emit_catch_up_completed", { session = session, peer = p.id,
                                      record_count = n,
                                      duration_ms = (w.now - t0) // MS })
  r:transition({ "ready" }, "catchup_completed")
  r.busy, p.busy, p.serving = r.busy - 1, p.busy - 1, p.serving - 1
end

-- ------------------------------------------------------------ schedules

-- Seconds into the (UTC) day of instant t, as hours.
local function hour_of(t)
  return (t // SEC) % 86400 / 3600
end

-- ns from t until the next time the (UTC) clock shows hour h.
local function until_hour(t, h)
  local d = math.floor(h * 3600) - (t // SEC) % 86400
  if d <= 0 then d = d + 86400 end
  return d * SEC
end

-- How long a device stays online, or offline, from now.
local function online_for(w, d)
  local rng, h = d.rng, hour_of(w.now)
  if d.schedule == "always" then
    return math.max(HOUR, rng:exp(36 * HOUR))
  elseif d.schedule == "daily" then
    if h >= 17 or h < 7 then return rng:secs(3600, 3 * 3600) end
    if h < 12 and rng:chance(0.5) then
      return until_hour(w.now, rng:uniform(12, 13.5))
    end
    return until_hour(w.now, rng:uniform(17, 23.5))
  end
  return rng:secs(5 * 60, 45 * 60)
end

local function offline_for(w, d)
  local rng, h = d.rng, hour_of(w.now)
  if d.schedule == "always" then return rng:secs(120, 480) end
  if d.schedule == "daily" then
    if h >= 7 and h < 17 then return rng:secs(20 * 60, 60 * 60) end
    return until_hour(w.now, rng:uniform(7, 9.5))
  end
  if h >= 7 and h < 22 then return rng:secs(15 * 60, 120 * 60) end
  return until_hour(w.now, rng:uniform(7, 8.5))
end

local function online_at_start(w, d)
  local h = hour_of(w.now)
  if d.schedule == "always" then return true end
  if d.schedule == "daily" then return h >= 8 and h < 18 end
  return h >= 8 and h < 22 and d.rng:chance(0.3)
end

local function come_online(w, d, reason)
  d.online = true
  if d.state[1] == "paused" then d:transition({ "ready" }, reason) end
  for _, o in ipairs(w.devices) do
    if w:connected(d, o) then both_connected(w, d, o) end
  end
end

local function go_offline(w, d)
  if d.state[1] == "ready" then
    d:transition({ "paused" }, "device going offline")
  end
  for _, o in ipairs(w.devices) do
    if w:connected(d, o) then
      both_disconnected(w, d, o, "local device going offline",
                        "peer went offline")
    end
  end
  d.online = false
end

-- Catch up after coming back, and then every hour or two.
local function catch_ups(w, d)
  while true do
    sleep(d.rng:secs(45 * 60, 120 * 60))
    if not w:running() then return end
    if d.online and d.state[1] == "ready" and d.busy == 0 then
      catch_up(w, d)
    end
  end
end

-- The online schedule, until the end of the window.
local function schedule(w, d)
  while w:running() do
    sleep(online_for(w, d))
    while d.busy > 0 or d.serving > 0 do sleep(30 * SEC) end
    if not w:running() then return end
    go_offline(w, d)
    sleep(offline_for(w, d))
    if not w:running() then return end
    come_online(w, d, "device back online")
    sleep(d.rng:secs(2, 10))
    if d.state[1] == "ready" and d.busy == 0 then catch_up(w, d) end
  end
end

-- A device's whole life in the window.
local function life(w, d)
  if d.role == "joining" then
    sleep(d.join_at - w.now)
    while not any_source(w) do
      if w:gave_up() then return end
      sleep(MINUTE)
    end
    d.joined, d.online = true, true
    d.joined_at = w.now
    for _, o in ipairs(w.devices) do
      if w:connected(d, o) then both_connected(w, d, o) end
    end
    sleep(d.rng:secs(3, 15))
    backfill(w, d, d.plan, "new device joined")
  elseif d.role == "returning" then
    sleep(d.return_at - w.now)
    come_online(w, d, "device back online")
    sleep(d.rng:secs(2, 8))
    while not has_source(w, d) do
      if w:gave_up() then return end
      sleep(30 * SEC)
    end
    local cands, devs = candidates(w, d, true)
    local p = devs[synclua.select_peer(cands)]
    local age = (w.now - d.watermark) // DAY
    d:emit("emit_watermark_too_old", { peer = p.id, age_days = age,
      threshold_days = M.WATERMARK_THRESHOLD_DAYS })
    plant(w, { fault = "offline", device = d.name, device_id = d.id,
               peer = p.name, age_days = age,
               watermark = synclua.format_time(d.watermark) })
    backfill(w, d, d.plan, "watermark too old: forcing full sync")
  elseif not d.online then
    sleep(offline_for(w, d))
    if not w:running() then return end
    come_online(w, d, "device back online")
    sleep(d.rng:secs(2, 10))
    if d.state[1] == "ready" and d.busy == 0 then catch_up(w, d) end
  end
  w:spawn(0, activity, w, d)
  w:spawn(0, catch_ups, w, d)
  schedule(w, d)
end

-- ----------------------------------------------------------- the setup

--- Parse a --faults list: "none", "all", "default", or names joined by
-- commas. Returns the list of faults (in M.FAULTS order), or nil, message.
-- @tparam string text
-- @treturn {string,...}
function M.parse_faults(text)
  if type(text) ~= "string" then
    error(("bad argument #1 to 'parse_faults' (string expected, got %s)")
      :format(type(text)), 2)
  end
  local valid = table.concat(M.FAULTS, ", ") .. ", all, none, default"
  local want, words = {}, {}
  for word in (text .. ","):gmatch("([^,]*),") do
    word = word:match("^%s*(.-)%s*$")
    if word == "" then
      return nil, "empty fault name in '" .. text .. "' (valid: " .. valid
                  .. ")"
    end
    words[#words + 1] = word
  end
  for _, word in ipairs(words) do
    if word == "none" then
      if #words > 1 then
        return nil, "'none' cannot be combined with other faults"
      end
    elseif word == "all" then
      for _, f in ipairs(M.FAULTS) do want[f] = true end
    elseif word == "default" then
      for _, f in ipairs(M.DEFAULT_FAULTS) do want[f] = true end
    elseif M.FAULT_HELP[word] then
      want[word] = true
    else
      return nil, "unknown fault '" .. word .. "' (valid: " .. valid .. ")"
    end
  end
  local list = synclua.array()
  for _, f in ipairs(M.FAULTS) do
    if want[f] then list[#list + 1] = f end
  end
  return list
end

local function device_name(i)
  local base = NAMES[(i - 1) % #NAMES + 1]
  local round = (i - 1) // #NAMES
  return round == 0 and base[1] or ("%s-%d"):format(base[1], round + 1),
         base[2], base[3]
end

-- Devices, links, roles, and the faults each backfill plan carries.
local function setup(w, p)
  local rng = w.rng
  local n = p.devices
  for i = 1, n do
    local name, sched, net = device_name(i)
    local d = setmetatable({
      w = w, index = i, name = name, schedule = sched, net = net,
      id = rng:uuid(), offset_ms = rng:int(-5000, 5000),
      rng = new_rng(p.seed, i), calls = 0,
      state = { "ready" }, online = false, joined = false, synced = false,
      busy = 0, serving = 0, buffer = {}, buffered = 0, dropped = 0,
      missed = {}, plan = {},
    }, Device)
    d.offset = d.offset_ms * MS
    w.devices[i] = d
  end
  for i = 1, n do
    for j = i + 1, n do
      local a, b = w.devices[i], w.devices[j]
      local net = NET_RANK[a.net] >= NET_RANK[b.net] and a.net or b.net
      local range = RTT[net]
      w.links[link_key(a, b)] = {
        a = a, b = b,
        rtt = math.floor(rng:uniform(range[1], range[2]) * 100 + 0.5) / 100,
        down = false,
      }
    end
  end
  local want = {}
  for _, f in ipairs(p.faults) do want[f] = true end

  -- The first half of the devices exist before the window; the rest join.
  local existing = math.max(1, (n + 1) // 2)
  local returning
  if want.offline then
    if existing < 2 then existing = 2 end
    for i = 2, existing do
      if w.devices[i].schedule == "mobile" then returning = w.devices[i] end
    end
    returning = returning or w.devices[existing]
  end
  local plans = {}
  local span = w.stop - w.start
  if returning then
    returning.role = "returning"
    returning.return_at = w.start + math.min(span // 10, 6 * HOUR)
                          + rng:secs(0, math.min(600, span / SEC / 20))
    returning.watermark = w.start - rng:int(30, 39) * DAY
                          - rng:secs(0.3 * 86400, 0.7 * 86400)
    plans[1] = returning
  end
  local joiners = n - existing
  for i = 1, n do
    local d = w.devices[i]
    if i <= existing then
      d.joined, d.synced = true, true
      d.role = d.role or (i == 1 and "founding" or "existing")
    else
      local k = i - existing
      local frac = joiners == 1 and 0.15
                   or 0.08 + 0.5 * (k - 1) / (joiners - 1)
      d.role = "joining"
      d.state = { "uninitialized" }
      d.join_at = w.start + math.floor(span * frac)
                  + rng:secs(0, math.min(span // SEC // 20, 1800))
      plans[#plans + 1] = d
    end
  end
  -- Faults go round-robin over the planned backfills, failures first.
  local order = { "failed_session", "peer_drop", "slow_peer",
                  "buffer_overflow", "stuck_dependencies" }
  local k = 0
  for _, f in ipairs(order) do
    if want[f] then
      plans[k % #plans + 1].plan[f] = true
      k = k + 1
    end
  end
  -- Who is online when the window opens.
  for _, d in ipairs(w.devices) do
    if d.role == "founding" or d.role == "existing" then
      d.online = d.role == "founding" or online_at_start(w, d)
      if not d.online then d.state = { "paused" } end
    elseif d.role == "returning" then
      d.state = { "paused" }
    end
  end
  -- The library the founding devices share.
  local lib = w.library
  for _, m in ipairs(MODELS) do lib[m] = 0 end
  lib.device = n
  lib.volume = n * rng:int(2, 3)
  lib.location = rng:int(3, 12)
  lib.tag = rng:int(20, 150)
  lib.collection = rng:int(2, 15)
  lib.entry = rng:int(60000, 200000)
  lib.content_identity = math.floor(lib.entry * rng:uniform(0.45, 0.65))
  lib.user_metadata = math.floor(lib.entry * rng:uniform(0.02, 0.08))
  lib.tag_relationship = lib.tag * rng:int(5, 15)
  lib.collection_entry = rng:int(200, 1500)
end

local function check_params(p)
  if type(p) ~= "table" then
    error(("bad argument #1 to 'generate' (table expected, got %s)")
      :format(type(p)), 3)
  end
  local function bad(msg)             -- level 4: generate's caller
    error("bad argument #1 to 'generate' (" .. msg .. ")", 4)
  end
  if type(p.out) ~= "string" then bad("out: string expected") end
  if math.type(p.devices) ~= "integer" or p.devices < 2
     or p.devices > M.MAX_DEVICES then
    bad("devices: integer from 2 to " .. M.MAX_DEVICES .. " expected")
  end
  if type(p.hours) ~= "number" or not (p.hours > 0)
     or p.hours > M.MAX_HOURS then
    bad("hours: number above 0 and at most " .. M.MAX_HOURS .. " expected")
  end
  if math.type(p.seed) ~= "integer" then bad("seed: integer expected") end
  if type(p.faults) ~= "table" then bad("faults: list expected") end
  for _, f in ipairs(p.faults) do
    if not M.FAULT_HELP[f] then bad("faults: unknown fault '" .. tostring(f)
                                    .. "'") end
  end
  if math.type(p.start) ~= "integer" then
    bad("start: integer instant expected")
  end
end

--- Simulate a library and write it under `params.out` (an existing, empty
-- folder): one folder per device with its sync.db, and devices.json.
-- params: out, devices (2..MAX_DEVICES), hours (> 0), seed (integer),
-- faults (a list of names from M.FAULTS), start (an instant, ns).
-- Returns the manifest (as written to devices.json), or nil, message, code
-- when the environment fails.
-- @tparam table params
-- @treturn table manifest
function M.generate(params)
  check_params(params)
  local w = setmetatable({
    heap = {}, seq = 0, now = params.start, start = params.start,
    stop = params.start + math.floor(params.hours * HOUR),
    devices = {}, links = {}, library = {}, planted = synclua.array(),
    rng = new_rng(params.seed, 0),
  }, World)
  setup(w, params)

  for _, d in ipairs(w.devices) do
    local dir = params.out .. "/" .. d.name
    local ok, err, code = fs.mkdir_p(dir)
    if not ok then return nil, err, code end
    -- A simulation can be made again from its seed: no fsync needed.
    local log, err2, code2 = synclua.open(dir .. "/sync.db", {
      mode = "w", device_id = d.id, queue_capacity = M.QUEUE_CAPACITY,
      synchronous = "off" })
    if not log then return nil, err2, code2 end
    d.log = log
  end

  for _, d in ipairs(w.devices) do w:spawn(0, life, w, d) end
  w:run()

  -- Batches still pending flush when their 30 s fell due.
  local last = math.max(w.now, w.stop) + MINUTE
  local devices = synclua.array()
  for _, d in ipairs(w.devices) do
    local at = last + d.offset
    local log = d.log
    must("tick_batches", log:tick_batches(at))
    must("flush_batches", log:flush_batches(at))
    local ok, err, code = log:flush()
    if not ok then return nil, err, code end
    local st = log:stats()
    log:close()
    if st.dropped > 0 or st.failed > 0 then
      return nil, ("%s/%s/sync.db: %d events dropped, %d failed")
        :format(params.out, d.name, st.dropped, st.failed), "ioerr"
    end
    devices[#devices + 1] = {
      name = d.name, device_id = d.id, clock_offset_ms = d.offset_ms,
      path = d.name .. "/sync.db", role = d.role, events = st.written,
      joined_at = d.joined_at and synclua.format_time(d.joined_at) or nil,
    }
  end
  local links = synclua.array()
  for i = 1, #w.devices do
    for j = i + 1, #w.devices do
      local l = w:link(w.devices[i], w.devices[j])
      links[#links + 1] = { a = l.a.name, b = l.b.name, rtt_ms = l.rtt }
    end
  end
  local manifest = {
    generator = "synclua simulate", version = synclua.version,
    seed = params.seed, hours = params.hours,
    start = synclua.format_time(w.start), ["end"] = synclua.format_time(w.stop),
    faults = params.faults, devices = devices, links = links,
    planted = w.planted,
  }
  local f, err = io.open(params.out .. "/devices.json", "wb")
  if not f then return nil, err, "ioerr" end
  f:write(synclua.json_encode(manifest), "\n")
  f:close()
  return manifest
end

return M
