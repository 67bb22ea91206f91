--- synclua.report: what the report commands (why_failed, why_slow,
-- lost_data, which_peer, peers, session) share. A report script declares
-- what it analyses and how its evidence reads; this module adds the common
-- options, opens the stores read-only, and writes the result as text, JSON
-- or Markdown with the exit status the result asks for.
--
--     local report = require "synclua.report"
--     return report.command{
--       name = "why_slow", description = "...", args = { ... },
--       analyze = function(ctx) ... return result end,
--       text = function(result, out) ... end,   -- optional
--     }
--
-- `ctx` = { stores = { { log, path, device, label }, ... }, filter = {
-- since, until }, opts, now }. `result` = { verdict = "short string",
-- status = 0 or 1, findings = { { kind, severity, summary, numbers = {},
-- evidence = { { device, label, id, timestamp }, ... } }, ... }, ... }.
-- Text output is the verdict on the first line, then `text(result, out)`
-- or the findings one by one; JSON is one object (the whole result, lists
-- as arrays even when empty); Markdown a heading and a findings table.
-- Optional fields of the declaration: `epilog` (help text before the
-- common one), `usage`, and `check(opts)`, which validates the report's own
-- options before any store is opened (raise with filter_args.invalid or
-- cmd.duration for exit 2).
--
-- The second half of this module is what the reports share to analyse:
-- `collect` (events of every store, oldest first), `sessions` (backfill
-- sessions rebuilt from their events, Spacedrive's rows or synclua's),
-- `batches` (a session's batch_ingestion events, by correlation id or by
-- peer and time window), `classify` (the kind and numbers of an error
-- event), `rate_series`, `device_label`, `store_of`, and formatting
-- helpers (`number`, `duration`, `clock`, `evidence`).
local synclua = require "synclua"
local cmd = require "synclua.cmd"
local cli = require "synclua.cli"
local runner = require "synclua.runner"
local filter_args = require "synclua.filter_args"
local fs = require "synclua.fs"

local M = {}

--- The options every report takes, before its own.
M.common_args = {
  cmd.db_arg,
  { "--since", metavar = "TIME",
    help = "only events since (e.g. '2 hours ago', '2025-12-03 10:00:00')" },
  { "--until", metavar = "TIME", help = "only events until (same forms)" },
  { "--format", metavar = "FORMAT", default = "text",
    choices = { "text", "json", "markdown" }, help = "output format" },
  { "-o", "--output", metavar = "FILE",
    help = "write to a file instead of stdout" },
}

--- The common epilog lines (exit statuses, the demo library, SYNCLUA_NOW).
M.EPILOG = "Several devices of one library: repeat --db. With no --db, no "
  .. "$SYNCLUA_DB and no\n./sync.db, runs on the demo library. Exit status: "
  .. "2 bad usage, 3 a store that\ncannot be read. SYNCLUA_NOW=<time> stands "
  .. "in for the current time."

local unicode_cache

--- Is stdout a terminal with a UTF-8 locale (LC_ALL, else LC_CTYPE, else
-- LANG)? Pictures use Unicode then, ASCII otherwise; NO_COLOR does not
-- matter here. SYNCLUA_UNICODE=1 or 0 decides instead (tests, pipes).
-- @treturn boolean
function M.unicode()
  local forced = os.getenv("SYNCLUA_UNICODE")
  if forced == "1" then return true end
  if forced == "0" then return false end
  if unicode_cache == nil then
    local locale
    for _, name in ipairs{ "LC_ALL", "LC_CTYPE", "LANG" } do
      local v = os.getenv(name)
      if v and v ~= "" then locale = v break end
    end
    local utf8_locale = locale ~= nil
      and (locale:lower():find("utf%-?8") ~= nil)
    unicode_cache = utf8_locale and os.execute("test -t 1") == true
  end
  return unicode_cache
end

--- A list that encodes as a JSON array even when empty (synclua.array).
M.array = synclua.array

-- The last component of a path, without trailing slashes.
local function basename(path)
  local p = path:gsub("/+$", "")
  return p:match("([^/]+)$") or p
end

local function dirname(path)
  local p = path:gsub("/+$", "")
  local d = p:match("^(.*)/[^/]*$")
  if d == nil then return "." end
  if d == "" then return "/" end
  return d
end

--- The short name of a store: the folder name of a library folder, the
-- parent folder's of a `sync.db`, else the first 8 characters of its
-- device id (else the file's name).
-- @tparam string path as given
-- @tparam[opt] string device the store's device id
-- @treturn string
function M.label(path, device)
  if fs.kind(path) == "dir" then
    local b = basename(path)
    if b ~= "." and b ~= ".." and b ~= "" and b ~= "/" then return b end
  elseif basename(path) == "sync.db" then
    local parent = dirname(path)
    local b = basename(parent)
    if parent ~= "." and parent ~= "/" and b ~= ".." and b ~= "" then
      return b
    end
  end
  if device then return device:sub(1, 8) end
  return basename(path)
end

-- Open every store read-only (exit 3 on failure), with its device and a
-- label unique among them.
local function open_stores(paths)
  local stores = {}
  local ok, err = pcall(function()
    for i, path in ipairs(paths) do
      local log = cmd.open(path)
      local first = log:first{ raw = true }
      local device = first and first.device_id or nil
      stores[i] = { log = log, path = path, device = device,
                    label = M.label(path, device) }
    end
  end)
  if not ok then
    for _, s in ipairs(stores) do s.log:close() end
    error(err, 0)
  end
  local seen = {}
  for _, s in ipairs(stores) do seen[s.label] = (seen[s.label] or 0) + 1 end
  for i, s in ipairs(stores) do
    if seen[s.label] > 1 then
      s.label = s.device and s.device:sub(1, 8) or ("db" .. i)
    end
  end
  return stores
end

--- Thousands separated by commas: 1247 -> "1,247" (integers; others as
-- %g).
-- @tparam number n
-- @treturn string
function M.number(n)
  if math.type(n) == "float" then
    if n ~= n or n == math.huge or n == -math.huge then return tostring(n) end
    if n == math.floor(n) and math.abs(n) < 2^53 then n = math.tointeger(n)
    else return ("%.1f"):format(n) end
  end
  if math.type(n) ~= "integer" then return tostring(n) end
  local s = tostring(math.abs(n))
  s = s:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", "")
  return (n < 0 and "-" or "") .. s
end

--- A duration in ns (or nil) as "1 h 02 min", "3 min 05 s", "12.4 s",
-- "850 ms".
-- @tparam integer|nil ns
-- @treturn string
function M.duration(ns)
  if ns == nil then return "?" end
  local ms = ns / 1e6
  if ms < 1000 then return ("%d ms"):format(math.floor(ms + 0.5)) end
  local s = ms / 1000
  if s < 60 then return ("%.1f s"):format(s) end
  local total = math.floor(s + 0.5)
  if total < 3600 then
    return ("%d min %02d s"):format(total // 60, total % 60)
  end
  if total < 86400 then
    return ("%d h %02d min"):format(total // 3600, (total % 3600) // 60)
  end
  return ("%d d %02d h"):format(total // 86400, (total % 86400) // 3600)
end

--- "2025-12-01 10:15:00" (UTC, to the second) for an instant; the stored
-- text for nil.
-- @tparam integer|nil instant
-- @tparam[opt] string fallback
-- @treturn string
function M.clock(instant, fallback)
  if not instant then return fallback or "?" end
  local t = synclua.format_time(instant, true)
  local day, time = t:match("^(%d+%-%d+%-%d+)T(%d+:%d+:%d+)")
  return day and (day .. " " .. time) or t
end

--- The evidence reference for an event of a store: { device, label, id,
-- timestamp, event_type }.
-- @tparam table store an entry of ctx.stores
-- @tparam table ev an event
-- @treturn table
function M.evidence(store, ev)
  local label = store.label
  if ev.device_id and store.device and ev.device_id ~= store.device then
    label = ev.device_id:sub(1, 8)   -- a store holding several devices' rows
  end
  return { device = ev.device_id or store.device, label = label,
           id = ev.id, timestamp = ev.timestamp, event_type = ev.event_type }
end

--- The events of every store matching `filter` (plus ctx's time range),
-- oldest first, each paired with its store: a list of { store, ev }.
-- Meant for the small sets reports look at (sessions, errors).
-- @tparam table ctx
-- @tparam table filter a log:events filter
-- @treturn table
function M.collect(ctx, filter)
  local list = {}
  for si, store in ipairs(ctx.stores) do
    local f = {}
    for k, v in pairs(filter or {}) do f[k] = v end
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

-- Lists that must encode as arrays: findings and their evidence.
local function arrays(result)
  result.findings = synclua.array(result.findings or {})
  for _, f in ipairs(result.findings) do
    f.evidence = synclua.array(f.evidence or {})
    if f.numbers == nil then f.numbers = {} end
  end
  return result
end

-- Numbers of a finding in a stable order: "dropped 1,247, sessions 2".
local function numbers_text(numbers)
  local keys = {}
  for k in pairs(numbers or {}) do keys[#keys + 1] = k end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do
    local v = numbers[k]
    parts[#parts + 1] = ("%s %s"):format(k:gsub("_", " "),
      type(v) == "number" and M.number(v) or tostring(v))
  end
  return table.concat(parts, ", ")
end

-- "desktop #1234 2025-12-01 10:15:00 buffer_overflow"
local function evidence_text(e)
  local t = e.timestamp and
    (e.timestamp:gsub("^(%d+%-%d+%-%d+)T(%d+:%d+:%d+).*$", "%1 %2")) or "?"
  return ("%s #%s %s%s"):format(e.label or (e.device or "?"):sub(1, 8),
    tostring(e.id), t, e.event_type and (" " .. e.event_type) or "")
end

--- The default text rendering of findings: per finding its severity,
-- summary, numbers and evidence references (at most `max_refs`, 5 by
-- default).
-- @tparam table findings
-- @tparam table out an object with :write
-- @tparam[opt] integer max_refs
function M.write_findings(findings, out, max_refs)
  max_refs = max_refs or 5
  for _, f in ipairs(findings) do
    out:write(("  %-7s  %s\n"):format(f.severity or "info", f.summary or f.kind))
    local nums = numbers_text(f.numbers)
    if nums ~= "" then out:write("           ", nums, "\n") end
    local ev = f.evidence or {}
    for i = 1, math.min(#ev, max_refs) do
      out:write("           ", evidence_text(ev[i]), "\n")
    end
    if #ev > max_refs then
      out:write(("           ... and %d more\n"):format(#ev - max_refs))
    end
  end
end

-- Markdown table cell: no pipe or line break breaks the table.
local function cell(s)
  return (tostring(s):gsub("|", "\\|"):gsub("\r?\n", "<br>"))
end

local function write_markdown(name, result, out)
  out:write("# ", name, ": ", cell(result.verdict), "\n\n")
  if #result.findings == 0 then
    out:write("No findings.\n")
    return
  end
  out:write("| Severity | Kind | Summary | Numbers | Evidence |\n")
  out:write("|----------|------|---------|---------|----------|\n")
  for _, f in ipairs(result.findings) do
    local refs = {}
    for i, e in ipairs(f.evidence) do
      if i > 5 then
        refs[#refs + 1] = ("... and %d more"):format(#f.evidence - 5)
        break
      end
      refs[#refs + 1] = evidence_text(e)
    end
    out:write(("| %s | %s | %s | %s | %s |\n"):format(cell(f.severity or ""),
      cell(f.kind or ""), cell(f.summary or ""), cell(numbers_text(f.numbers)),
      cell(table.concat(refs, "<br>"))))
  end
end

-- The time range of the options: [since, until], each optional.
local function time_range(opts, now)
  local range = {}
  for _, key in ipairs{ "since", "until" } do
    if opts[key] then
      local t, err = synclua.parse_time(opts[key], now)
      if not t then filter_args.invalid("--" .. key .. ": " .. err) end
      range[key] = t
    end
  end
  if range.since and range["until"] and range.since > range["until"] then
    filter_args.invalid(("--since (%s) is after --until (%s)")
      :format(opts.since, opts["until"]))
  end
  return range
end

--- `out` for a report: writes every argument to `file`; a failed write
-- ends the command (exit 3) naming `name`.
-- @param file an open file
-- @tparam string name the file's name, for the message
-- @treturn table an object with write(self, ...)
function M.writer(file, name)
  local w = filter_args.writer(file, name)
  return {
    write = function(self, ...)
      for i = 1, select("#", ...) do w:write((select(i, ...))) end
      return self
    end,
  }
end

--- Write a result in a format ("text", "json", "markdown") to `out`.
-- @tparam table spec the report's declaration (name, text)
-- @tparam table result as analyze returned it
-- @tparam string format
-- @tparam table out an object with :write
function M.write(spec, result, format, out)
  arrays(result)
  if format == "json" then
    out:write(synclua.json_encode(result), "\n")
  elseif format == "markdown" then
    write_markdown(spec.name, result, out)
  else
    out:write(result.verdict, "\n")
    if spec.text then spec.text(result, out)
    else M.write_findings(result.findings, out) end
  end
end

--- Declare a report command: the script's return value. Adds the common
-- options (--db repeatable with the demo fallback, --since, --until,
-- --format text|json|markdown, -o/--output), opens every store
-- read-only, runs `analyze(ctx)` and writes its result; the exit status
-- is result.status (0 or 1), 2 for bad usage, 3 when a store cannot be
-- read.
-- @tparam table spec { name, description, args, analyze, text, epilog }
-- @treturn table a declaration for synclua.runner
function M.command(spec)
  if type(spec) ~= "table" then
    error(("bad argument #1 to 'command' (table expected, got %s)")
      :format(type(spec)), 2)
  end
  if type(spec.name) ~= "string" then
    error("bad argument #1 to 'command' (field 'name' must be a string)", 2)
  end
  if type(spec.analyze) ~= "function" then
    error("bad argument #1 to 'command' (field 'analyze' must be a function)",
          2)
  end
  if spec.text ~= nil and type(spec.text) ~= "function" then
    error("bad argument #1 to 'command' (field 'text' must be a function)", 2)
  end
  local args = {}
  for _, a in ipairs(M.common_args) do args[#args + 1] = a end
  for _, a in ipairs(spec.args or {}) do args[#args + 1] = a end
  local epilog = spec.epilog and (spec.epilog .. "\n\n" .. M.EPILOG) or M.EPILOG
  return {
    name = spec.name,
    description = spec.description,
    usage = spec.usage,
    epilog = epilog,
    args = args,
    analyze = spec.analyze,
    text = spec.text,
    run = function(opts)
      local now = filter_args.clock()
      local range = time_range(opts, now)
      if spec.check then spec.check(opts) end
      local paths = cmd.db_paths(opts, { demo = true })
      local stores = open_stores(paths)
      local ok, result = pcall(spec.analyze, {
        stores = stores, filter = range, opts = opts, now = now })
      for _, s in ipairs(stores) do s.log:close() end
      if not ok then error(result, 0) end
      if type(result) ~= "table" or type(result.verdict) ~= "string" then
        error(("%s: analyze returned no verdict"):format(spec.name), 0)
      end
      local file = io.stdout
      if opts.output then
        file = runner.check(io.open(opts.output, "wb"))
      end
      local out = M.writer(file, opts.output or "stdout")
      M.write(spec, result, opts.format, out)
      if opts.output then
        local closed, err = file:close()
        if not closed then
          error(runner.failure("ioerr", opts.output .. ": " .. err), 0)
        end
      else
        local flushed, err = io.stdout:flush()
        if not flushed then
          error(runner.failure("ioerr", "stdout: " .. err), 0)
        end
      end
      return result.status == 1 and 1 or 0
    end,
  }
end

-- ------------------------------------------------------------ analysis
--
-- Helpers the reports share: devices and their labels, the kind of an
-- error event and its numbers, backfill sessions rebuilt from their
-- events, and the batches that belong to a session.

local NS = 1000000000
M.SECOND = NS
M.MINUTE = 60 * NS

--- The aggregator's periodic flush (Spacedrive's 30 s): a batch flushed up
-- to this long after a session ended may still hold its last records.
M.FLUSH_PERIOD = 30 * NS

--- Retention Spacedrive applies (hard-coded 7 days before now).
M.RETENTION = 7 * 86400 * NS

local function short(id)
  return id and id:sub(1, 8) or "?"
end
M.short = short

--- The label of a device: the label of the store that is its log, else
-- the first 8 characters of its id.
-- @tparam table ctx
-- @tparam string|nil id a device id
-- @treturn string
function M.device_label(ctx, id)
  if not id then return "?" end
  for _, s in ipairs(ctx.stores) do
    if s.device == id then return s.label end
  end
  return short(id)
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
    for _, s in ipairs(ctx.stores) do
      if s.device == id then hit = s break end
    end
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

--- Spacedrive's watermark age when there is no watermark at all (chrono's
-- maximum duration in whole days): a first sync with that peer.
M.NO_WATERMARK_DAYS = 106751991167

local SESSION_TYPES = { "backfill_session_started", "backfill_session_completed",
                        "backfill_session_failed" }

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
-- @tparam table ctx
-- @tparam[opt] integer grace
-- @treturn table list of sessions
function M.sessions(ctx, grace)
  grace = grace or 10 * M.MINUTE
  if ctx._sessions and ctx._sessions_grace == grace then
    return ctx._sessions
  end
  local keys, list = {}, {}
  for _, item in ipairs(M.collect(ctx, { event_types = SESSION_TYPES })) do
    local ev = item.ev
    local id = ev.correlation_id
    if id then
      local dev = ev.device_id or item.store.device
      local key = tostring(dev) .. "|" .. id
      if not keys[key] then
        keys[key] = true
        list[#list + 1] = { id = id, device = dev, store = item.store }
      end
    end
  end
  for _, s in ipairs(list) do
    s.label = M.device_label(ctx, s.device)
    s.starts = {}
    for ev in s.store.log:events{ correlation_id = s.id, device = s.device,
                                  event_types = SESSION_TYPES,
                                  order = "asc" } do
      if ev.event_type == "backfill_session_started" then
        s.starts[#s.starts + 1] = ev
        if not s.selected and (ev.peer_device_id
            or type(details(ev).candidates) == "table") then
          s.selected = ev
        end
      elseif ev.event_type == "backfill_session_completed" then
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
  ctx._sessions, ctx._sessions_grace = list, grace
  return list
end

--- The session of device `dev` an event at `at` follows (an overflow or
-- stuck dependencies at the end of a backfill): the latest session that
-- started at or before it and had not ended -- completed, failed, or its
-- last activity -- more than `slack` (ns, default 5 minutes) earlier.
-- @tparam table sessions from M.sessions
-- @tparam string dev a device id
-- @tparam integer at an instant
-- @tparam[opt] integer slack
-- @treturn table|nil a session
function M.session_at(sessions, dev, at, slack)
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
-- @tparam table sessions from M.sessions
-- @tparam string dev a device id
-- @tparam integer at an instant
-- @tparam[opt] integer within
-- @treturn table|nil a session
function M.session_after(sessions, dev, at, within)
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
-- @tparam table s a session from M.sessions
-- @treturn table batches
-- @treturn string how
function M.batches(ctx, s)
  if s._batches then return s._batches, s._batches_how end
  local list = {}
  for ev in s.store.log:events{ event_type = "batch_ingestion",
                                correlation_id = s.id, device = s.device,
                                order = "asc" } do
    list[#list + 1] = ev
  end
  local how = "correlation_id"
  if #list == 0 then
    how = "peer_window"
    if s.peer and s.start then
      local stop = s.finish or s.next_start or s.newest or s.start
      if s.next_start and s.next_start < stop then stop = s.next_start end
      local upto = stop + (s.finish and M.FLUSH_PERIOD or 0)
      if s.next_start and s.next_start < upto then upto = s.next_start end
      for ev in s.store.log:events{ event_type = "batch_ingestion",
                                    peer = s.peer, device = s.device,
                                    since = s.start, ["until"] = upto,
                                    order = "asc" } do
        local began = ev.instant - (ev.duration_ms or 0) * 1000000
        if ev.correlation_id == nil and (ev.instant <= stop or began < stop)
        then
          list[#list + 1] = ev
        end
      end
    end
  end
  s._batches, s._batches_how = list, how
  return list, how
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
    local st = e - math.max(b.duration_ms or 0, 1) * 1000000
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

--- A usage error (exit 2) from a report's own checks.
-- @tparam string message
function M.usage(message)
  error(cli.usage_error(message), 0)
end

return M
