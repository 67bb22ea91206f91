--- synclua.view: what the pictures of a library show (`-f html`, `-f
-- trace`), built once from a command's inputs, window and filters, and
-- read by both writers (synclua.export.html, synclua.export.trace):
--
--     local view = require "synclua.view"
--     local model = view.build(set, { filter = window:filter(), now = now })
--     local n = model:stream(function(ev, index, adjusted) ... end)
--     -- then model.links: the causal chains among the events streamed
--
-- Nothing here is analysed anew: clock offsets are synclua.skew's (as
-- `timeline` applies them), sessions, their batches and gaps
-- synclua.sessions', the causal pairs the offsets rest on synclua.skew's
-- too, the verdicts and their evidence a report's own result. Every
-- instant is clock-corrected (device instant minus the device's offset,
-- integer ns). The events themselves are never held: `stream` merges one
-- cursor per device (synclua.merge) and hands each on, so 100k events
-- cost no more memory than ten.
--
-- The model:
--
--     { title, name, now, origin (the earliest corrected instant shown),
--       devices = { { index, id, label, offset_ns, events (after stream) } },
--       clock = { header lines: the offsets, as timeline states them },
--       sessions = { { id, kind ("backfill"|"catch_up"), device (index),
--         peer, peer_label, status, start, stop, records, rate (records/s
--         or nil), batches = { { id, start, stop, records, rate,
--         attributed } }, gaps = { { from, to } } } },
--       verdict = { name, verdict, status, scenarios = { { name, verdict,
--         status } }, findings = { { kind, severity, summary, evidence =
--         { { device (index), id, event_type, timestamp } } } } } | nil,
--       links = (after stream) { { correlation_id, n, steps = { { device
--         (index), id, event_type, at (corrected) }, ... } } } }
local synclua = require "synclua"
local skew = require "synclua.skew"
local sessions = require "synclua.sessions"
local query = require "synclua.query"

local M = {}

--- Is `format` one of the views (drawn from a model by the writer
-- synclua.export.FORMAT)?
-- @tparam string format
-- @treturn boolean
function M.is_view(format)
  return format == "html" or format == "trace"
end

--- A stretch without records at least this long is a gap (why_slow's
-- --gap default).
M.GAP_NS = 30 * sessions.SECOND

-- The source index of each source table.
local function indexes(set)
  local of = {}
  for i, src in ipairs(set) do of[src] = i end
  return of
end

-- The sessions of the sources, clock-corrected, with batches and gaps.
local function session_list(set, o, offsets, index_of)
  local ctx = { stores = set, set = set,
                filter = { since = o.filter and o.filter.since,
                           ["until"] = o.filter and o.filter["until"] } }
  local list = {}
  for _, s in ipairs(sessions.list(ctx, o.grace, { "backfill", "catch_up" })) do
    local i = index_of[s.store]
    if s.start and i and (not o.correlation_id
                          or s.id == o.correlation_id) then
      local off = offsets[i]
      local batches, how = sessions.batches(ctx, s)
      local bs, records = {}, 0
      local stop = s.finish or s.last_activity or s.start
      for _, b in ipairs(batches) do
        local dur = math.max(b.duration_ms or 0, 0) * 1000000
        local n = b.record_count or 0
        records = records + n
        bs[#bs + 1] = { id = b.id, start = b.instant - dur - off,
                        stop = b.instant - off, records = n,
                        rate = dur > 0 and n / (dur / 1e9) or nil,
                        attributed = how == "peer_window" }
        if b.instant > stop then stop = b.instant end
      end
      local gaps = {}
      for _, g in ipairs(sessions.gaps(s, batches, o.gap or M.GAP_NS)) do
        gaps[#gaps + 1] = { from = g.from - off, to = g.to - off }
      end
      local total = s.record_count or records
      local dur = (s.duration_ns or (stop - s.start))
      list[#list + 1] = {
        id = s.id, kind = s.kind, device = i, status = s.status,
        peer = s.peer, peer_label = s.peer and set:label(s.peer) or nil,
        start = s.start - off, stop = stop - off, records = total,
        rate = dur > 0 and total / (dur / 1e9) or nil,
        batches = bs, gaps = gaps }
    end
  end
  return list
end

-- A report's result as the pictures cite it: evidence by source index.
local function verdict_of(set, index_of, name, result)
  if not result then return nil end
  local function index(dev)
    local src = dev and set:of(dev)
    return src and index_of[src] or nil
  end
  local findings = {}
  for _, f in ipairs(result.findings or {}) do
    local ev = {}
    for _, e in ipairs(f.evidence or {}) do
      local i = index(e.device)
      if i and e.id then
        ev[#ev + 1] = { device = i, id = e.id, event_type = e.event_type,
                        timestamp = e.timestamp }
      end
    end
    findings[#findings + 1] = { kind = f.kind, severity = f.severity,
                                summary = f.summary, evidence = ev }
  end
  local scenarios = {}
  for _, r in ipairs(result.scenarios or {}) do
    scenarios[#scenarios + 1] = { name = r.name, verdict = r.verdict,
                                  status = r.status }
  end
  return { name = name, verdict = result.verdict, status = result.status,
           scenarios = scenarios, findings = findings }
end

-- The causal chains among the sources: per session and request n, the
-- request sent, its receipt, the response sent and its arrival (those of
-- them synclua.skew pairs), in that order.
local function chains(set, offsets, cid)
  local by_key, list = {}, {}
  for _, p in ipairs(skew.pairs(set)) do
    if not cid or p.correlation_id == cid then
      local key = p.correlation_id .. "\0" .. p.n
      local c = by_key[key]
      if not c then
        c = { correlation_id = p.correlation_id, n = p.n, parts = {} }
        by_key[key] = c
        list[#list + 1] = c
      end
      local base = p.kind == "request" and 0 or 2
      for k, e in ipairs{ p.send, p.receive } do
        c.parts[base + k] = { device = e.index, id = e.id,
                              event_type = e.event_type,
                              at = e.instant - offsets[e.index] }
      end
    end
  end
  return list
end

local Model = {}
Model.__index = Model

--- Stream the events, oldest first by corrected instant: fn(ev, index,
-- adjusted) for each (ev with `details` decoded; index the source's).
-- Counts each device's events, and sets `links`: the causal chains with
-- the steps among the events streamed (a chain with fewer than two is
-- left out). Once per model.
-- @tparam function fn
-- @treturn integer the events streamed
function Model:stream(fn)
  if type(fn) ~= "function" then
    error(("bad argument #1 to 'stream' (function expected, got %s)")
      :format(type(fn)), 2)
  end
  if self.streamed then error("stream: the model was streamed already", 2) end
  self.streamed = true
  local want = {}
  for i = 1, #self.devices do want[i] = {} end
  for _, c in ipairs(self._chains) do
    for k = 1, 4 do
      local p = c.parts[k]
      if p then want[p.device][p.id] = false end
    end
  end
  local filter = query.with(self._filter, { order = "asc" })
  local cursors, labels = {}, {}
  for i, src in ipairs(self._set) do
    local f = query.with(filter)
    f.limit = self._limit
    cursors[i] = src.log:cursor(f)
    labels[i] = src.label
  end
  local offsets = {}
  for i, d in ipairs(self.devices) do offsets[i] = d.offset_ns end
  local iter, merge = synclua.merge(cursors, { offsets = offsets,
    labels = labels, order = "asc", limit = self._limit })
  local closing <close> = merge
  local n = 0
  for ev, i, adjusted in iter, merge do
    n = n + 1
    local d = self.devices[i]
    d.events = d.events + 1
    if want[i][ev.id] == false then want[i][ev.id] = true end
    fn(ev, i, adjusted)
  end
  local links = {}
  for _, c in ipairs(self._chains) do
    local steps = {}
    for k = 1, 4 do
      local p = c.parts[k]
      if p and want[p.device][p.id] then steps[#steps + 1] = p end
    end
    if #steps >= 2 then
      links[#links + 1] = { correlation_id = c.correlation_id, n = c.n,
                            steps = steps }
    end
  end
  self.links = links
  return n
end

--- The earliest corrected instant the model shows: the window's start,
-- else the first event's or the first session's, whichever is earlier
-- (the writers' time zero).
-- @tparam table set the sources
-- @tparam table filter
-- @tparam table offsets by source index
-- @tparam table list the sessions
local function origin(set, filter, offsets, list)
  local best
  for i, src in ipairs(set) do
    local f = query.with(filter, { order = "asc", limit = 1, raw = true })
    for ev in src.log:events(f) do
      if ev.instant then
        local t = ev.instant - offsets[i]
        if not best or t < best then best = t end
      end
    end
  end
  for _, s in ipairs(list) do
    if not best or s.start < best then best = s.start end
    for _, b in ipairs(s.batches) do
      if b.start < best then best = b.start end
    end
  end
  return best or 0
end

--- Build the model of the sources under a filter.
-- @tparam table set the sources (synclua.inputs: log, device, label;
--   set:of and set:label)
-- @tparam table o `filter` (a log:events filter: the window and the query
--   options), `skew` ("auto", "none" or "DEV=+1.5s,..."; default "auto"),
--   `offsets` and `clock` (offsets by source index and their header lines,
--   when the caller estimated them already), `limit` (at most this many
--   events), `grace` (ns: see synclua.sessions.list), `gap` (ns; default
--   M.GAP_NS), `correlation_id` (one session's events and links only),
--   `result` (a report's result: its verdict and findings), `name` (the
--   command), `title`, `now`
-- @treturn table the model (see the top of this module); nil and a
--   message for a bad `skew`
function M.build(set, o)
  if type(set) ~= "table" then
    error(("bad argument #1 to 'build' (table expected, got %s)")
      :format(type(set)), 2)
  end
  if type(o) ~= "table" then
    error(("bad argument #2 to 'build' (table expected, got %s)")
      :format(type(o)), 2)
  end
  local offsets, clock = o.offsets, o.clock
  if not offsets then
    offsets, clock = skew.offsets(set, o.skew)
    if not offsets then return nil, clock end
  end
  local index_of = indexes(set)
  local devices = {}
  for i, src in ipairs(set) do
    devices[i] = { index = i, id = src.device, label = src.label,
                   offset_ns = offsets[i], events = 0 }
  end
  local filter = query.with(o.filter or {})
  if o.correlation_id then filter.correlation_id = o.correlation_id end
  local list = session_list(set, o, offsets, index_of)
  return setmetatable({
    name = o.name, title = o.title or o.name or "synclua", now = o.now,
    devices = devices, clock = clock or {}, sessions = list,
    verdict = verdict_of(set, index_of, o.name, o.result),
    origin = origin(set, filter, offsets, list),
    _set = set, _filter = filter, _limit = o.limit,
    _chains = chains(set, offsets, o.correlation_id),
  }, Model)
end

--- Build the model and write it in a view format to `out`.
-- @tparam table set
-- @tparam table o as build takes it, plus `format` ("html" or "trace")
--   and `out` (an object with :write)
-- @treturn integer the events written; nil and a message for a bad skew
-- @treturn table the model
function M.write(set, o)
  if not M.is_view(o.format) then
    error(("bad argument #2 to 'write' (format: html or trace expected, "
      .. "got %s)"):format(tostring(o.format)), 2)
  end
  local model, err = M.build(set, o)
  if not model then return nil, err end
  return require("synclua.export." .. o.format).write(o.out, model), model
end

return M
