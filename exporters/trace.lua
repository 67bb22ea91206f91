--- synclua.export.trace: a view (synclua.view) as Chrome's trace-event
-- JSON, the object form { "traceEvents": [...] } that Perfetto
-- (ui.perfetto.dev), chrome://tracing and Chrome DevTools' Performance
-- panel open.
--
-- A process per device (pid = the device's input index, named by
-- process_name metadata, with its clock offset in its labels), and in it
-- thread 1, "events", holding every event as a thread-scoped instant
-- ("ph": "i") whose args carry its row: id, severity, summary, both
-- timestamps, correlation id, peer, record count, duration and details.
-- Sessions and their batches are complete slices ("X") on a track per kind
-- of session ("backfill sessions", "backfill batches", "catch_up
-- sessions", ...); slices that would overlap on a track go to a second
-- lane of it ("backfill batches 2"), so every track nests properly.
-- Each causal chain (request sent -> received -> response sent -> batch
-- applied) is one flow: "s" at its first step, "t" at the middle ones,
-- "f" (bound to the enclosing slice) at the last, each bound to its
-- event's instant (same pid, tid, ts and category).
--
-- Timestamps are clock-corrected and in microseconds from the view's
-- origin (the earliest instant shown), written with three decimals: exact
-- to the nanosecond for any span a double holds that finely (285 years),
-- where microseconds since the epoch would not be. The origin, as RFC
-- 3339, is in otherData.origin. Written as a stream: events as the view
-- merges them, flows last.
local synclua = require "synclua"

local M = {}

local encode = synclua.json_encode

--- The thread (track) ids: events, then per kind of session its sessions
-- and its batches, lanes counted from there.
M.EVENTS_TID = 1
M.TRACKS = {
  { kind = "backfill", what = "sessions", tid = 100 },
  { kind = "backfill", what = "batches", tid = 200 },
  { kind = "catch_up", what = "sessions", tid = 300 },
  { kind = "catch_up", what = "batches", tid = 400 },
}

-- ns as microseconds with three decimals ("12.345"), exact.
local function us(ns)
  local sign = ns < 0 and "-" or ""
  ns = math.abs(ns)
  return ("%s%d.%03d"):format(sign, ns // 1000, ns % 1000)
end
M.us = us

-- One trace event: the fixed fields in order, then `extra` (encoded
-- fields, already text) and args.
local function event(ph, name, cat, pid, tid, ts, extra, args)
  return ('{"ph":"%s","name":%s,"cat":"%s","pid":%d,"tid":%d,"ts":%s%s%s}')
    :format(ph, encode(name), cat, pid, tid, ts, extra or "",
            args and (',"args":' .. encode(args)) or "")
end

local function metadata(name, pid, tid, args)
  return ('{"ph":"M","name":"%s","pid":%d,"tid":%d,"ts":0,"args":%s}')
    :format(name, pid, tid, encode(args))
end

local function short(id)
  return id and id:sub(1, 8) or "?"
end

local function seconds(ns)
  local sign = ns < 0 and "-" or "+"
  return ("%s%.3f s"):format(sign, math.abs(ns) / 1e9)
end

-- Greedy lanes: the first lane whose last slice ended by this one's start.
local function lane(ends, start, stop)
  for l, e in ipairs(ends) do
    if e <= start then ends[l] = stop return l end
  end
  ends[#ends + 1] = stop
  return #ends
end

-- The slices of the sessions, as { pid, tid, start, stop, name, cat, args }
-- with their lanes; and the name of every (pid, tid) used.
local function slices(model)
  local list, threads = {}, {}
  local lanes = {}
  local base = {}
  for _, t in ipairs(M.TRACKS) do base[t.kind .. " " .. t.what] = t.tid end
  local function place(pid, kind, what, start, stop)
    local key = pid .. " " .. kind .. " " .. what
    lanes[key] = lanes[key] or {}
    local l = lane(lanes[key], start, stop)
    local tid = base[kind .. " " .. what] + l - 1
    threads[#threads + 1] = { pid = pid, tid = tid,
      name = kind .. " " .. what .. (l > 1 and (" " .. l) or "") }
    return tid
  end
  -- Sessions and batches each in start order, so lanes fill greedily.
  local ss = {}
  for _, s in ipairs(model.sessions) do ss[#ss + 1] = s end
  table.sort(ss, function(a, b)
    if a.start ~= b.start then return a.start < b.start end
    return a.id < b.id
  end)
  local batches = {}
  for _, s in ipairs(ss) do
    local tid = place(s.device, s.kind, "sessions", s.start, s.stop)
    list[#list + 1] = { pid = s.device, tid = tid, start = s.start,
      stop = s.stop, cat = "session",
      name = ("%s %s%s: %s"):format(s.kind == "catch_up" and "catch-up"
        or s.kind, short(s.id), s.peer_label and (" from " .. s.peer_label)
        or "", s.status),
      args = { correlation_id = s.id, kind = s.kind, status = s.status,
               peer = s.peer, peer_label = s.peer_label,
               records = s.records, records_per_s = s.rate,
               batches = #s.batches, gaps = #s.gaps } }
    for _, b in ipairs(s.batches) do
      batches[#batches + 1] = { s = s, b = b }
    end
  end
  table.sort(batches, function(x, y)
    if x.b.start ~= y.b.start then return x.b.start < y.b.start end
    if x.s.device ~= y.s.device then return x.s.device < y.s.device end
    return x.b.id < y.b.id
  end)
  for _, e in ipairs(batches) do
    local s, b = e.s, e.b
    local tid = place(s.device, s.kind, "batches", b.start, b.stop)
    list[#list + 1] = { pid = s.device, tid = tid, start = b.start,
      stop = b.stop, cat = "batch",
      name = ("batch %d records"):format(b.records),
      args = { id = b.id, session = s.id, records = b.records,
               records_per_s = b.rate, attributed = b.attributed } }
  end
  return list, threads
end

-- The flows of the links: s, t..., f, each bound to its step's instant.
local function write_flows(model, put)
  for k, link in ipairs(model.links) do
    local n = #link.steps
    for j, p in ipairs(link.steps) do
      local ph = j == 1 and "s" or j == n and "f" or "t"
      put(event(ph, short(link.correlation_id)
        .. " request " .. link.n, "event", p.device, M.EVENTS_TID,
        us(p.at - model.origin),
        (',"id":%d'):format(k) .. (ph == "f" and ',"bp":"e"' or "")))
    end
  end
end

--- Write a view (synclua.view) as trace-event JSON to `out`.
-- @tparam table out an object with :write
-- @tparam table model from synclua.view.build, not yet streamed
-- @treturn integer the events written
function M.write(out, model)
  local sl, threads = slices(model)
  out:write('{"traceEvents":[\n')
  local sep = ""
  local function put(s)
    out:write(sep, s)
    sep = ",\n"
  end
  for _, d in ipairs(model.devices) do
    put(metadata("process_name", d.index, 0, { name = d.label }))
    put(metadata("process_sort_index", d.index, 0, { sort_index = d.index }))
    put(metadata("process_labels", d.index, 0, { labels = ("%s, clock %s"):format(
      d.id or "?", seconds(d.offset_ns)) }))
    put(metadata("thread_name", d.index, M.EVENTS_TID, { name = "events" }))
    put(metadata("thread_sort_index", d.index, M.EVENTS_TID,
                 { sort_index = M.EVENTS_TID }))
  end
  local named = {}
  for _, t in ipairs(threads) do
    local key = t.pid .. ":" .. t.tid
    if not named[key] then
      named[key] = true
      put(metadata("thread_name", t.pid, t.tid, { name = t.name }))
      put(metadata("thread_sort_index", t.pid, t.tid, { sort_index = t.tid }))
    end
  end
  for _, s in ipairs(sl) do
    put(event("X", s.name, s.cat, s.pid, s.tid, us(s.start - model.origin),
              ',"dur":' .. us(math.max(s.stop - s.start, 0)), s.args))
  end
  local origin = model.origin
  -- A row whose time does not parse (the merge gives it last, with no
  -- corrected instant) stands at the origin; its args keep its text.
  local count = model:stream(function(ev, i, adjusted)
    put(event("i", ev.event_type, "event", i, M.EVENTS_TID,
      us((adjusted or origin) - origin), ',"s":"t"', {
        id = ev.id, severity = ev.severity, category = ev.category,
        summary = ev.summary, timestamp = ev.timestamp,
        adjusted_timestamp = adjusted and synclua.format_time(adjusted),
        correlation_id = ev.correlation_id, peer = ev.peer_device_id,
        record_count = ev.record_count, duration_ms = ev.duration_ms,
        model_types = ev.model_types, details = ev.details }))
  end)
  write_flows(model, put)
  local verdict = model.verdict and {
    command = model.verdict.name, verdict = model.verdict.verdict,
    status = model.verdict.status } or nil
  out:write('\n],"displayTimeUnit":"ms","otherData":', encode{
    generator = "synclua " .. (synclua.version or ""),
    origin = synclua.format_time(origin), title = model.title,
    clock = table.concat(model.clock, "; "), verdict = verdict,
  }, "}\n")
  return count
end

return M
