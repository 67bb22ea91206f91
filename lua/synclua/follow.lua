--- synclua.follow: what a filter matches, as other processes commit it
-- (`synclua events --follow`, `synclua timeline --follow`). First what
-- the filter selects now; then every matching event committed after
-- that, as it is committed -- by Spacedrive, `synclua serve`, a logging
-- engine, any process.
--
-- Between commits it sleeps in the core's watch of the stores' files
-- (inotify: no polling), with a look every `interval` ms in case the
-- file system does not tell. Each look reads the rows above the highest
-- id the last one read, up to the highest id there is now (a row
-- committed meanwhile waits for the next look, so nothing comes twice).
-- A store replaced under it (a restore, a copy moved into place) is
-- reopened and said; rows deleted (retention) lower the mark, so ids
-- used again are still new rows. Ctrl-C ends it cleanly.
local synclua = require "synclua"
local runner = require "synclua.runner"
local skew = require "synclua.skew"
local fmt = require "synclua.fmt"
local timeline = require "synclua.timeline"
local cli = require "synclua.cli"
local with = require("synclua.query").with

local M = {}

--- The formats `events --follow` streams: a row is whole once written.
M.FORMATS = { "ndjson", "csv" }

--- The formats `timeline --follow` (and `fetch --follow`) streams.
M.TIMELINE_FORMATS = { "text", "ndjson", "csv" }

local function member(list, name)
  for _, v in ipairs(list) do
    if v == name then return true end
  end
  return false
end

--- The frame's check of --follow beside the other options (a command's
-- `check`): one of `formats`, and standard output (exit 2 otherwise).
-- @tparam table opts the parsed options
-- @tparam {string,...} formats those that stream
function M.check(opts, formats)
  if not opts.follow then return end
  if not member(formats, opts.format) then
    error(cli.usage_error(("--follow streams as it goes: -f %s (%s is "
      .. "written whole)"):format(cli.either(formats), opts.format)), 0)
  end
  if opts.output then
    error(cli.usage_error("--follow writes to standard output: redirect "
      .. "it rather than -o"), 0)
  end
end

--- The reorder window's default (`--window`), in ns.
M.WINDOW_NS = 2 * 1000000000

-- Event types whose arrival may move a clock offset (synclua.skew reads
-- them as causal pairs or link coincidences).
local CAUSAL = {
  backfill_request_sent = true, backfill_request_received = true,
  backfill_response_sent = true, batch_ingestion = true,
  backfill_session_completed = true, catch_up_session_completed = true,
  peer_connected = true, peer_disconnected = true,
}

-- The offsets are estimated again at most this often (ms).
local REESTIMATE_MS = 1000

local interrupted = runner.interrupted

-- A followed source: its store, the highest id read so far, and the
-- identity of the file that id belongs to.
local function tail(src)
  return { src = src, log = src.log, mark = runner.check(src.log:max_id()),
           identity = src.log:identity() }
end

--- Refuse inputs that are not files growing (exports, a fleet store in
-- PostgreSQL, which a push fills all at once): --follow follows sync.db
-- files (exit 2 otherwise).
-- @tparam table set the sources (synclua.inputs)
function M.check_stores(set)
  for _, src in ipairs(set) do
    if src.kind ~= "store" then
      error(cli.usage_error(("--follow follows stores as they grow: %s is "
        .. "%s"):format(src.given, src.kind == "fleet"
          and "a PostgreSQL fleet store (follow the sync.db files pushed)"
          or "an export")), 0)
    end
  end
end

-- The ids committed since the last look of t: after `from`, through `to`;
-- nil when there are none. A file replaced at the path is followed (the
-- store reopens it at max_id) and said through note; its rows are not
-- shown, only what is committed to it from then on.
local function span(t, note)
  local top = runner.check(t.log:max_id())
  local identity = t.log:identity()
  if identity ~= t.identity then
    t.identity, t.mark = identity, top
    note(("%s was replaced: following the new file from its %s on")
      :format(t.src.given or t.log:path(), top == 0 and "first event"
              or ("event " .. top)))
    return nil
  end
  if top <= t.mark then   -- nothing new, or rows deleted (retention)
    t.mark = top
    return nil
  end
  local from = t.mark
  t.mark = top
  return from, top
end

-- Look at a source through fn(): a store that cannot be read now (a copy
-- half made at its path, a truncated file, garbage) is said once and
-- waited out, not the end; what the look took of its ids is given back,
-- so that nothing is skipped. Returns what fn returns, or nil.
local function guarded(t, note, fn)
  local mark = t.mark
  local ok, a, b = pcall(fn)
  local name = t.src.given or t.log:path()
  if ok then
    if t.broken then note(("%s can be read again"):format(name)) end
    t.broken = nil
    return a, b
  end
  if interrupted(a) then error(a, 0) end
  t.mark = mark
  if not t.broken then
    local why = type(a) == "table" and a.message or tostring(a)
    note(("%s cannot be read now (%s): waiting for it"):format(name,
      (why:gsub("^" .. name:gsub("%p", "%%%0") .. ": ", ""))))
    t.broken = true
  end
  return nil
end

-- Look on each wake of `watch` until Ctrl-C: look() says whether it found
-- anything; wait() the longest sleep before the next look (ms). A
-- commit's first write to the -wal wakes the watch before SQLite shows
-- the commit to readers (its last step is in the -shm, which every reader
-- writes too, so it is not watched): when a wake's look finds nothing, it
-- looks again a few times, sooner than the interval. Returns normally on
-- Ctrl-C; other errors go on.
local function run(watch, look, wait)
  local ok, err = pcall(function()
    while true do
      local changed, werr, code = watch:wait(wait())
      if changed == nil then runner.check(nil, werr, code) end
      local delay = 2
      while not look() and changed and delay <= 64 do
        watch:wait(delay)
        delay = delay * 2
      end
    end
  end)
  if not ok and not interrupted(err) then error(err, 0) end
end

-- A watch over the sources' files.
local function watch_of(tails)
  local paths = {}
  for i, t in ipairs(tails) do paths[i] = t.log:path() end
  return runner.check(synclua.watch(table.unpack(paths)))
end

-- Write the events filter selects, oldest first: the newest `limit` of
-- them, or all (nil).
local function history(out, log, filter, format, with_device, limit)
  if not limit then
    local cur <close> = log:cursor(with(filter, { order = "asc",
      render = format, with_device = with_device or nil }))
    for chunk in function() return cur:chunk() end do out:write(chunk) end
    return
  end
  local rows = {}
  for ev in log:events(with(filter, { limit = limit, raw = true })) do
    rows[#rows + 1] = ev
  end
  -- Newest first, but the events of one instant in ascending id: the
  -- instants are reversed, each one's events kept in their order.
  local i = #rows
  while i >= 1 do
    local j = i
    while j > 1 and rows[j - 1].instant and
          rows[j - 1].instant == rows[i].instant do
      j = j - 1
    end
    for k = j, i do out:write(synclua.render(rows[k], format, with_device)) end
    i = j - 1
  end
end

--- Follow a store until Ctrl-C.
-- @tparam table out an Output (write, flush)
-- @tparam Store log an open store
-- @tparam table filter as `log:events` takes it (no limit, order or render)
-- @tparam table opts `format` ("ndjson" or "csv"), `with_device`,
-- `live` (the filter for rows committed from now on; default `filter`),
-- `limit` (the newest shown first; nil: all), `interval` (ms, default
-- 1000), `name` (the store as given, for notes), `note` (called with a
-- message when the file was replaced), `watch` (a Watch to use instead of
-- one of the store's)
function M.events(out, log, filter, opts)
  local format = opts.format
  assert(member(M.FORMATS, format), "follow: a streaming format expected")
  local t = tail({ log = log, given = opts.name })
  local watch <close> = opts.watch or watch_of({ t })
  local note = opts.note or function() end
  local ok, err = pcall(function()
    if format == "csv" then out:write(synclua.csv_header()) end
    history(out, log, with(filter, { through_id = t.mark }), format,
            opts.with_device, opts.limit)
    out:flush()
  end)
  if not ok and not interrupted(err) then error(err, 0) end
  if not ok then return end
  run(watch, function()
    return guarded(t, note, function()
      local from, to = span(t, note)
      if not from then return false end
      local cur <close> = log:cursor(with(opts.live or filter, {
        after_id = from, through_id = to, order = "asc", render = format,
        with_device = opts.with_device or nil }))
      local chunk = cur:chunk()
      while chunk do
        out:write(chunk)
        chunk = cur:chunk()
      end
      out:flush()
      return true
    end) or false
  end, function() return opts.interval or 1000 end)
end

--- Call `changed(ids)` when rows were committed to any of the sources
-- (`ids`: how many new ids, matching or not), at most once per `every` ms
-- (default 1000), until Ctrl-C: a report in watch mode evaluates again
-- there.
-- @tparam table set the sources (synclua.inputs: stores)
-- @tparam function changed
-- @tparam[opt] table opts `every` (ms), `interval` (ms), `note` (as
-- M.timeline's)
function M.changes(set, changed, opts)
  opts = opts or {}
  local every, note = opts.every or 1000, opts.note or function() end
  local tails = {}
  for i, src in ipairs(set) do tails[i] = tail(src) end
  local watch <close> = watch_of(tails)
  local pending, last = 0, synclua.monotonic() - every
  run(watch, function()
    local found = false
    for _, t in ipairs(tails) do
      local from, to = guarded(t, note, function() return span(t, note) end)
      if from then
        pending, found = pending + (to - from), true
      end
    end
    local now = synclua.monotonic()
    if pending > 0 and now - last >= every then
      local n = pending
      pending, last = 0, now
      -- A store that cannot be read now fails the evaluation: said, and
      -- tried again at the next change.
      local ok, err = pcall(changed, n)
      if not ok then
        if interrupted(err) then error(err, 0) end
        note(("cannot evaluate now (%s): trying again at the next change")
          :format(type(err) == "table" and err.message or tostring(err)))
      end
    end
    return found
  end, function()
    if pending == 0 then return opts.interval or 1000 end
    return math.max(0, last + every - synclua.monotonic())
  end)
end

-- How a late row is marked: in the text line, as a field of an NDJSON
-- line; CSV's columns are fixed, so there it is said on stderr.
local function mark_late(format, row, by_ns, e, say)
  local ms = by_ns // 1000000
  if format == "text" then
    return row:sub(1, -2) .. ("  [late by %s]\n"):format(fmt.duration(by_ns))
  elseif format == "ndjson" then
    return row:sub(1, -3) .. (',"late_by_ms":%d}\n'):format(ms)
  end
  say(("late: %s's %s (id %d) came %s after rows it precedes")
    :format(e.label, e.ev.event_type or "?", e.ev.id, fmt.duration(by_ns)))
  return row
end

--- Follow several stores as one timeline until Ctrl-C: their rows now
-- (timeline.write), then each committed row, placed by the clock offsets
-- known so far. A row is held for the reorder window after it arrives, so
-- that a row of another device that arrives later but belongs before it
-- is still printed first; one that arrives after rows it precedes were
-- printed is marked late. With `skew` "auto", the offsets are estimated
-- again as causal pairs arrive; a change is said (in the text, or on
-- stderr) and places the rows not yet printed, never those that were.
-- @tparam table set the sources (synclua.inputs: stores only)
-- @tparam table o as timeline.write takes it (`out`, `format` "text",
-- "ndjson" or "csv", `filter`, `labels`, `skew`, `name`, `header`), and
-- `live` (the filter for rows committed from now on; default `filter`),
-- `limit` (the newest shown first; nil: all), `window` (ns; default
-- M.WINDOW_NS), `interval` (ms), `note` (called with a message on a
-- replaced file, for stderr), `history` (false: the caller printed the
-- rows so far), `marks` (each source's highest id already printed, by
-- index; default its highest now), `on_look` (called at each look, and at
-- least once a second)
function M.timeline(set, o)
  local format = o.format or "text"
  assert(member(M.TIMELINE_FORMATS, format),
         "follow: a streaming format expected")
  local out, name = o.out, o.name or "timeline"
  local note = o.note or function() end
  local say = function(m) io.stderr:write("synclua ", name, ": ", m, "\n") end
  local window_ms = (o.window or M.WINDOW_NS) // 1000000
  local tails, marks = {}, {}
  for i, src in ipairs(set) do
    tails[i] = tail(src)
    tails[i].mark = o.marks and o.marks[i] or tails[i].mark
    marks[i] = tails[i].mark
  end
  local watch <close> = watch_of(tails)
  local offsets
  local ok, err = pcall(function()
    if o.history == false then
      offsets = skew.offsets(set, o.skew)
      out:flush()   -- what the caller wrote so far
      return
    end
    offsets = select(2, timeline.write(set, {
      out = out, format = format, labels = o.labels, skew = o.skew,
      filter = o.filter, order = "asc", name = name, header = o.header,
      through = marks, newest = o.limit }))
    out:flush()
  end)
  if not ok and not interrupted(err) then error(err, 0) end
  if not ok then return end

  local width = 1
  for _, src in ipairs(set) do width = math.max(width, #src.label) end
  local held, sorted = {}, true   -- rows waiting out the window
  -- The latest instant printed, from the rows so far on: a row that
  -- belongs before it comes late. A row dated beyond the present (a clock
  -- far ahead) does not move it, or every row after would be late.
  local last
  for i, src in ipairs(set) do
    for ev in src.log:events(with(o.filter, { order = "desc", limit = 1,
        through_id = marks[i], raw = true })) do
      local at = ev.instant and ev.instant - offsets[i]
      if at and at <= synclua.now() then last = math.max(last or at, at) end
    end
  end
  local dirty, estimated = false, synclua.monotonic()
  local auto = (o.skew or "auto") == "auto" and #set > 1

  local function place(e)
    e.adjusted = e.ev.instant and e.ev.instant - offsets[e.index]
  end
  -- Rows in time order; untimed ones first (they have no place to wait
  -- for), ties by source then id as the merge breaks them.
  local function before(a, b)
    local x, y = a.adjusted or math.mininteger, b.adjusted or math.mininteger
    if x ~= y then return x < y end
    if a.index ~= b.index then return a.index < b.index end
    return a.ev.id < b.ev.id
  end
  local function print_row(e)
    local row = synclua.render_timeline(e.ev, format, e.label,
      e.adjusted or 0, format == "text" and width or nil)
    if e.adjusted and last and e.adjusted < last then
      row = mark_late(format, row, last - e.adjusted, e, say)
    elseif e.adjusted and e.adjusted <= synclua.now() + window_ms * 1000000
    then
      last = e.adjusted
    end
    out:write(row)
  end
  -- Print the rows whose window has passed, in order; one still waiting
  -- holds back the rows after it.
  local function release(now)
    if not sorted then
      table.sort(held, before)
      sorted = true
    end
    local n = 0
    while held[n + 1] and (now == nil or held[n + 1].due <= now) do
      n = n + 1
      print_row(held[n])
    end
    if n > 0 then table.move(held, n + 1, #held + n, 1) end
    return n
  end
  local function reestimate()
    local moved, lines = skew.offsets(set, "auto")
    local changed = false
    for i, ns in ipairs(moved) do
      changed = changed or math.abs(ns - offsets[i]) >= 1000000
    end
    estimated, dirty = synclua.monotonic(), false
    if not changed then return end
    offsets = moved
    for _, e in ipairs(held) do place(e) end
    sorted = false
    local text = (lines[1] or ""):gsub("^clock offsets ", "clock offsets now ")
      .. "; rows from here on are placed by them"
    if format == "text" then out:write("# ", text, "\n")
    else say(text) end
  end
  local function look()
    if o.on_look then o.on_look() end
    local found = false
    for i, t in ipairs(tails) do
      local rows = guarded(t, note, function()
        local from, to = span(t, note)
        local list = {}
        if not from then return list end
        for ev in t.log:events(with(o.live or o.filter, { after_id = from,
            through_id = to, order = "asc", raw = true })) do
          list[#list + 1] = ev
        end
        return list
      end) or {}
      local now = synclua.monotonic()
      for _, ev in ipairs(rows) do
        local e = { ev = ev, index = i, label = set[i].label,
                    due = now + window_ms }
        place(e)
        held[#held + 1] = e
        -- A store that was empty names its device with its first row,
        -- for the offsets' estimate (its label stays what it was).
        if not set[i].device and ev.device_id and ev.device_id ~= "" then
          set[i].device = ev.device_id:lower()
        end
        sorted = false
        dirty = dirty or (auto and CAUSAL[ev.event_type] or false)
        found = true
      end
    end
    local now = synclua.monotonic()
    if dirty and now - estimated >= REESTIMATE_MS then reestimate() end
    if release(now) > 0 then out:flush() end
    return found
  end
  -- Sleep no longer than the first held row's window, or a re-estimate.
  local function wait()
    local most = o.interval or 1000
    local now = synclua.monotonic()
    for _, e in ipairs(held) do most = math.min(most, e.due - now) end
    if dirty then most = math.min(most, estimated + REESTIMATE_MS - now) end
    return math.max(most, 0)
  end
  run(watch, look, wait)
  -- Ctrl-C: what is held is printed, in order, before the end.
  release(nil)
  out:flush()
end

return M
