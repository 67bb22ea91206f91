--- synclua.sessions: backfill sessions rebuilt from their events, and
-- what the reports need around them (DESIGN.md: the analysis library every
-- report shares). On Spacedrive's own rows (no correlation id on batches,
-- no failure event) as well as synclua's.
--
-- Each function takes the analysis context a report gets: `ctx.stores`
-- (the sources of synclua.inputs: log, path, device, label; `ctx.set`
-- the set itself) and `ctx.filter` (the window: since, until).
--
--     local sessions = require "synclua.sessions"
--     for _, s in ipairs(sessions.list(ctx)) do
--       local batches, how = sessions.batches(ctx, s)
--     end
local synclua = require "synclua"
local fmt = require "synclua.fmt"
local query = require "synclua.query"

local M = {}

--- The events of every store matching `filter` (plus ctx's time range),
-- oldest first, each paired with its store: a list of { store, ev }.
-- Meant for the small sets reports look at (sessions, errors).
-- @tparam table ctx
-- @tparam table filter a log:events filter
-- @treturn table
function M.collect(ctx, filter)
  local list = {}
  for si, store in ipairs(ctx.stores) do
    local f = query.with(filter)
    if f.since == nil then f.since = ctx.filter.since end
    if f["until"] == nil then f["until"] = ctx.filter["until"] end
    if f.order == nil then f.order = "asc" end
    for ev in store.log:events(f) do
      list[#list + 1] = { store = store, ev = ev, index = si }
    end
  end
  table.sort(list, function(a, b)
    local ia, ib = a.ev.instant or math.maxinteger,
                   b.ev.instant or math.maxinteger
    if ia ~= ib then return ia < ib end
    if a.index ~= b.index then return a.index < b.index end
    return a.ev.id < b.ev.id
  end)
  return list
end

--- The evidence reference for an event of a store: { device, label, id,
-- timestamp, event_type }.
-- @tparam table store an entry of ctx.stores
-- @tparam table ev an event
-- @treturn table
function M.evidence(store, ev)
  local label = store.label
  if ev.device_id and store.device and ev.device_id ~= store.device then
    label = fmt.short(ev.device_id) -- a store holding several devices' rows
  end
  return { device = ev.device_id or store.device, label = label,
           id = ev.id, timestamp = ev.timestamp, event_type = ev.event_type }
end


local NS = 1000000000
M.SECOND = NS
M.MINUTE = 60 * NS

--- The aggregator's periodic flush (Spacedrive's 30 s): a batch flushed up
-- to this long after a session ended may still hold its last records.
M.FLUSH_PERIOD = 30 * NS

--- Retention Spacedrive applies (hard-coded 7 days before now).
M.RETENTION = 7 * 86400 * NS


--- The label of a device (synclua.inputs: its source's, devices.json's,
-- or the first 8 characters of its id).
-- @tparam table ctx
-- @tparam string|nil id a device id
-- @treturn string
function M.device_label(ctx, id)
  return ctx.set:label(id)
end

--- The store holding the events of device `id` (its own log, or a
-- combined store that has its rows), or nil when its log was not given.
-- @tparam table ctx
-- @tparam string|nil id
-- @treturn table|nil an entry of ctx.stores
function M.store_of(ctx, id)
  if not id then return nil end
  ctx._store_of = ctx._store_of or {}
  local hit = ctx._store_of[id]
  if hit == nil then
    hit = false
    hit = ctx.set:of(id) or false
    if not hit then
      for _, s in ipairs(ctx.stores) do
        if s.log:count{ device = id, limit = 1 } > 0 then hit = s break end
      end
    end
    ctx._store_of[id] = hit
  end
  return hit or nil
end

--- The newest instant of a device's log (within ctx's --until), or nil.
-- @tparam table ctx
-- @tparam table store
-- @tparam string|nil device
-- @treturn integer|nil
function M.newest(ctx, store, device)
  ctx._newest = ctx._newest or {}
  local key = tostring(store.path) .. "|" .. tostring(device)
  local v = ctx._newest[key]
  if v == nil then
    v = false
    for ev in store.log:events{ device = device, raw = true, limit = 50,
                                ["until"] = ctx.filter["until"] } do
      if ev.instant then v = ev.instant break end
    end
    ctx._newest[key] = v
  end
  return v or nil
end

--- The oldest instant of a device's log (ignoring the time range), or nil.
function M.oldest(ctx, store, device)
  for ev in store.log:events{ device = device, raw = true, limit = 50,
                              order = "asc" } do
    if ev.instant then return ev.instant end
  end
  return nil
end

local function details(ev)
  return type(ev.details) == "table" and ev.details or {}
end
M.details = details

local function int(v)
  if math.type(v) == "integer" then return v end
  if type(v) == "number" then return math.tointeger(math.floor(v)) end
  if type(v) == "string" then return math.tointeger(tonumber(v)) end
  return nil
end

--- The kind of a warning or error event: "buffer_overflow",
-- "stuck_dependencies", "watermark_too_old", "queue_full" (the event
-- log's own queue dropped events), "session_failed", or "other"; and its
-- numbers, from `details` or else from the summary (rows of other
-- writers).
-- @tparam table ev
-- @treturn string kind
-- @treturn table numbers
function M.classify(ev)
  local s, d = ev.summary or "", details(ev)
  if ev.event_type == "backfill_session_failed" then
    return "session_failed", { duration_ms = ev.duration_ms }
  end
  if ev.event_type ~= "sync_error" then return "other", {} end
  if s:find("^Buffer overflow") or d.dropped_count and d.phase then
    return "buffer_overflow", {
      dropped = int(d.dropped_count) or int(s:match("(%d+) updates dropped")),
      buffered = int(d.max_buffer_size) }
  elseif s:find("^Stuck dependencies") or d.total_waiting_updates then
    return "stuck_dependencies", {
      waiting = int(d.total_waiting_updates)
        or int(s:match("(%d+) records waiting")),
      missing_parents = int(d.total_dependencies)
        or int(s:match("waiting for (%d+) missing")) }
  elseif s:find("^Watermark too old") or d.action == "force_full_sync" then
    return "watermark_too_old", {
      age_days = int(d.watermark_age_days) or int(s:match("too old: (%d+) day")),
      threshold_days = int(d.threshold_days)
        or int(s:match("threshold: (%d+) day")) }
  elseif s:find("^Event log queue full") or d.queue_capacity then
    return "queue_full", {
      dropped = int(d.dropped_count) or int(s:match("(%d+) events dropped")) }
  end
  return "other", {}
end

--- The option of the reports that judge whether a session is over: its
-- declaration, for a command's options (`ctx.opts.grace`, ns).
M.GRACE_OPTION = { "--grace", type = "duration", default = "10m",
  help = "a session quiet for less than this at the end of the log may "
    .. "still be running" }

--- Spacedrive's watermark age when there is no watermark at all (chrono's
-- maximum duration in whole days): a first sync with that peer.
M.NO_WATERMARK_DAYS = 106751991167

-- The event types of each kind of session.
local KINDS = {
  backfill = { started = "backfill_session_started",
               completed = "backfill_session_completed",
               failed = "backfill_session_failed" },
  catch_up = { started = "catch_up_session_started",
               completed = "catch_up_session_completed" },
}

--- The backfill sessions of the stores, oldest first. A session is the
-- events of one device sharing a correlation id: its
-- backfill_session_started rows (Spacedrive writes two, the start and the
-- peer selection), and its completion or failure (Spacedrive writes no
-- failure event: a session that only started never completed). Sessions
-- with any event in ctx's time range are included, with all their
-- events. Each session:
--
--     { id, device, label, store, starts = { ev, ... }, started = ev,
--       selected = ev|nil, completed = ev|nil, failed = ev|nil,
--       peer, start (instant), start_known (false when the start row is
--       missing and start comes from duration_ms), finish (instant|nil),
--       duration_ns|nil, record_count|nil, next_start|nil, newest,
--       status = "completed"|"failed"|"incomplete"|"running" }
--
-- "running": neither completed nor failed, and its last activity (its own
-- events, its batches) is within `grace` (ns, default 10 minutes) of the
-- newest event of the device, with no later session on the device: it may
-- still be going on. "incomplete": the same, but abandoned.
-- Catch-up sessions (catch_up_session_started / _completed) are listed
-- too when `kinds` says so; each session's `kind` is "backfill" or
-- "catch_up".
-- @tparam table ctx
-- @tparam[opt] integer grace
-- @tparam[opt] {string,...} kinds default { "backfill" }
-- @treturn table list of sessions
function M.list(ctx, grace, kinds)
  grace = grace or 10 * M.MINUTE
  kinds = kinds or { "backfill" }
  local cache_key = grace .. ":" .. table.concat(kinds, ",")
  ctx._sessions = ctx._sessions or {}
  if ctx._sessions[cache_key] then return ctx._sessions[cache_key] end
  local types, kind_of, role = {}, {}, {}
  for _, k in ipairs(kinds) do
    for r, t in pairs(KINDS[k]) do
      types[#types + 1] = t
      kind_of[t], role[t] = k, r
    end
  end
  table.sort(types)
  local keys, list = {}, {}
  for _, item in ipairs(M.collect(ctx, { event_types = types })) do
    local ev = item.ev
    local id = ev.correlation_id
    if id then
      local dev = ev.device_id or item.store.device
      local key = tostring(dev) .. "|" .. id
      if not keys[key] then
        keys[key] = true
        list[#list + 1] = { id = id, device = dev, store = item.store,
                            kind = kind_of[ev.event_type] }
      end
    end
  end
  for _, s in ipairs(list) do
    s.label = M.device_label(ctx, s.device)
    s.starts = {}
    for ev in s.store.log:events{ correlation_id = s.id, device = s.device,
                                  event_types = types,
                                  order = "asc" } do
      if role[ev.event_type] == "started" then
        s.starts[#s.starts + 1] = ev
        if not s.selected and (ev.peer_device_id
            or type(details(ev).candidates) == "table") then
          s.selected = ev
        end
      elseif role[ev.event_type] == "completed" then
        s.completed = s.completed or ev
      else
        s.failed = s.failed or ev
      end
    end
    s.started = s.starts[1]
    local ending = s.completed or s.failed
    s.peer = (s.selected and s.selected.peer_device_id)
      or (ending and ending.peer_device_id)
    s.finish = ending and ending.instant
    if s.started and s.started.instant then
      s.start, s.start_known = s.started.instant, true
    elseif ending and ending.instant then
      s.start = ending.instant - (ending.duration_ms or 0) * 1000000
      s.start_known = false
    end
    if ending and ending.duration_ms then
      s.duration_ns = ending.duration_ms * 1000000
    elseif s.finish and s.start then
      s.duration_ns = s.finish - s.start
    end
    s.record_count = ending and ending.record_count
    s.newest = M.newest(ctx, s.store, s.device)
  end
  table.sort(list, function(a, b)
    local x, y = a.start or math.maxinteger, b.start or math.maxinteger
    if x ~= y then return x < y end
    return a.id < b.id
  end)
  -- the next session of the same device bounds an unfinished one
  local last_of = {}
  for i = #list, 1, -1 do
    local s = list[i]
    s.next_start = last_of[s.device]
    if s.start then last_of[s.device] = s.start end
  end
  for _, s in ipairs(list) do
    if s.completed then s.status = "completed"
    elseif s.failed then s.status = "failed"
    else
      local last = s.start or 0
      for ev in s.store.log:events{ correlation_id = s.id, device = s.device,
                                    raw = true, limit = 1 } do
        if ev.instant and ev.instant > last then last = ev.instant end
      end
      local batches = M.batches(ctx, s)
      local b = batches[#batches]
      if b and b.instant and b.instant > last then last = b.instant end
      s.last_activity = last
      if not s.next_start and s.newest and s.newest - last <= grace then
        s.status = "running"
      else
        s.status = "incomplete"
      end
    end
  end
  ctx._sessions[cache_key] = list
  return list
end

--- A session as a report cites it (JSON-ready): id, device, label, peer,
-- peer_label, status, started and ended (stored timestamps), plus `extra`.
-- @tparam table ctx
-- @tparam table s a session from M.list
-- @tparam[opt] table extra more fields
-- @treturn table
function M.ref(ctx, s, extra)
  local ending = s.completed or s.failed
  local r = { id = s.id, device = s.device, label = s.label, peer = s.peer,
              peer_label = s.peer and M.device_label(ctx, s.peer) or nil,
              status = s.status,
              started = s.started and s.started.timestamp or nil,
              ended = ending and ending.timestamp or nil }
  for k, v in pairs(extra or {}) do r[k] = v end
  return r
end

--- The session of device `dev` an event at `at` follows (an overflow or
-- stuck dependencies at the end of a backfill): the latest session that
-- started at or before it and had not ended -- completed, failed, or its
-- last activity -- more than `slack` (ns, default 5 minutes) earlier.
-- @tparam table sessions from M.list
-- @tparam string dev a device id
-- @tparam integer at an instant
-- @tparam[opt] integer slack
-- @treturn table|nil a session
function M.at(sessions, dev, at, slack)
  slack = slack or 5 * M.MINUTE
  local best
  for _, s in ipairs(sessions) do
    local ended = s.finish or s.last_activity or s.start
    if s.device == dev and s.start and s.start <= at
       and ended >= at - slack then
      best = s
    end
  end
  return best
end

--- The first session of device `dev` that starts at or after `at`, within
-- `within` (ns, default 10 minutes): the backfill a forced full sync
-- (watermark too old) started.
-- @tparam table sessions from M.list
-- @tparam string dev a device id
-- @tparam integer at an instant
-- @tparam[opt] integer within
-- @treturn table|nil a session
function M.after(sessions, dev, at, within)
  within = within or 10 * M.MINUTE
  for _, s in ipairs(sessions) do
    if s.device == dev and s.start and s.start >= at
       and s.start <= at + within then
      return s
    end
  end
  return nil
end

--- The batch_ingestion events of a session, oldest first, and how they
-- were found: "correlation_id" (synclua's rows carry the session's id) or
-- "peer_window" (Spacedrive's do not: batches from the session's peer
-- whose records arrived between its start and its end -- completion or
-- failure, else the device's next session or its newest event -- that
-- carry no other session's id).
-- @tparam table ctx
-- @tparam table s a session from M.list
-- @treturn table batches
-- @treturn string how
function M.batches(ctx, s)
  if s._batches then return s._batches, s._batches_how end
  local list = {}
  for ev in s.store.log:events{ event_type = "batch_ingestion",
                                correlation_id = s.id, device = s.device,
                                order = "asc" } do
    -- a batch whose time does not parse cannot be placed in the session
    if ev.instant then list[#list + 1] = ev end
  end
  local how = "correlation_id"
  local w = #list == 0 and M.batch_window(s)
  if #list == 0 then how = "peer_window" end
  if w then
    for ev in s.store.log:events(w.filter) do
      if w.holds(ev) then list[#list + 1] = ev end
    end
  end
  s._batches, s._batches_how = list, how
  return list, how
end

--- Where a session's batches are when its rows carry no correlation id
-- (Spacedrive's): those from its peer whose records arrived between its
-- start and its end -- completion or failure (plus the aggregator's flush
-- period), else the device's next session or its newest event -- and that
-- carry no other session's id. Returns { filter (a log:events filter),
-- holds(ev) (does a batch the filter returns belong) }, or nil when the
-- session has no peer or no start.
-- @tparam table s a session from M.list
-- @treturn table|nil
function M.batch_window(s)
  if not (s.peer and s.start) then return nil end
  local stop = s.finish or s.next_start or s.newest or s.start
  if s.next_start and s.next_start < stop then stop = s.next_start end
  local upto = stop + (s.finish and M.FLUSH_PERIOD or 0)
  if s.next_start and s.next_start < upto then upto = s.next_start end
  return {
    filter = { event_type = "batch_ingestion", peer = s.peer,
               device = s.device, since = s.start, ["until"] = upto,
               order = "asc" },
    holds = function(ev)
      local began = ev.instant
        and ev.instant - (ev.duration_ms or 0) * 1000000
      return began ~= nil and ev.correlation_id == nil
        and (ev.instant <= stop or began < stop)
    end,
  }
end

--- The stretches without records in a session: between its start, its
-- batches (each covering [instant - duration_ms, instant]) and its end
-- (completion or failure), those of `gap` ns or more, oldest first; and
-- the whole time without records (every stretch, however short). Each
-- gap: { ns, from, to (instants), after (the batch before it, nil at the
-- start), before (the batch or the ending event after it) }.
-- @tparam table s a session from M.list
-- @tparam table batches its batches (M.batches)
-- @tparam integer gap ns
-- @treturn table gaps
-- @treturn integer total ns
function M.gaps(s, batches, gap)
  local gaps, total = {}, 0
  local prev_end, prev_ev = s.start, nil
  for _, b in ipairs(batches) do
    local began = b.instant - math.max(b.duration_ms or 0, 0) * 1000000
    if prev_end and began - prev_end >= gap then
      gaps[#gaps + 1] = { ns = began - prev_end, from = prev_end, to = began,
                          after = prev_ev, before = b }
    end
    if prev_end and began > prev_end then total = total + began - prev_end end
    if not prev_end or b.instant > prev_end then prev_end = b.instant end
    prev_ev = b
  end
  local ending = s.completed or s.failed
  if ending and ending.instant and prev_end and ending.instant > prev_end then
    if ending.instant - prev_end >= gap then
      gaps[#gaps + 1] = { ns = ending.instant - prev_end, from = prev_end,
                          to = ending.instant, after = prev_ev,
                          before = ending }
    end
    total = total + ending.instant - prev_end
  end
  return gaps, total
end

--- Records per second over time of a list of batches: each batch's
-- records spread evenly over [its instant - duration_ms, its instant],
-- summed into `n` equal buckets between `from` and `to`. Returns the list
-- of rates (records/s, floats) and the bucket length in ns.
-- @tparam table batches
-- @tparam integer from instant
-- @tparam integer to instant
-- @tparam[opt] integer n buckets (default 12)
-- @treturn table rates
-- @treturn integer bucket_ns
function M.rate_series(batches, from, to, n)
  n = n or 12
  local rates = synclua.array()
  if not from or not to or to <= from then return rates, 0 end
  local width = (to - from) / n
  local sums = {}
  for i = 1, n do sums[i] = 0 end
  for _, b in ipairs(batches) do
    local r = b.record_count or 0
    local e = b.instant
    local st = e and e - math.max(b.duration_ms or 0, 1) * 1000000
    if r > 0 and e then
      for i = 1, n do
        local lo, hi = from + (i - 1) * width, from + i * width
        local o = math.min(hi, e) - math.max(lo, st)
        if o > 0 then sums[i] = sums[i] + r * o / (e - st) end
      end
    end
  end
  for i = 1, n do rates[i] = sums[i] / (width / NS) end
  return rates, math.floor(width)
end

return M
