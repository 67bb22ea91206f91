--- synclua.timeline: several devices' logs as one chronological stream,
-- the body of `synclua timeline`, for every command that writes it.
--
--     local timeline = require "synclua.timeline"
--     local n = timeline.write{ paths = { "lib/desktop", "phone.json" },
--                               format = "json", filter = { order = "asc" },
--                               prefix = "synclua fetch" }
--
-- Each input is a sync.db, a library folder, or an export of `synclua
-- events` / `sd sync events` (JSON, with or without device data, or SQL;
-- an export is loaded into a temporary store, removed afterwards); they are
-- merged by a streaming k-way merge (core/sl_merge.c) with a stable
-- tie-break, after correcting each device's clock by the offset estimated
-- from causal pairs in the logs themselves (synclua.skew), and every row
-- says which device it came from. Inputs are opened read-only.
--
-- Bad input ends the command as `synclua timeline` does: a failure
-- (synclua.runner) with code "invalid" (exit 2) for an unknown format, a
-- --label that names no input, a bad --skew or a bad export; the store's
-- code (exit 3) for a missing, locked or corrupt one; "ioerr" for a failed
-- write. The messages name the options as the timeline command spells them
-- (--label, --device, --skew).
local synclua = require "synclua"
local cmd = require "synclua.cmd"
local runner = require "synclua.runner"
local filter_args = require "synclua.filter_args"
local fs = require "synclua.fs"

local M = {}

local FORMATS = {
  text = true, json = "json", ndjson = "ndjson", csv = "csv", sql = "sql",
  markdown = "markdown", md = "markdown",
}
local invalid = filter_args.invalid

--- Check a format's name: text, json, ndjson, csv, sql, markdown or md. An
-- unknown one ends the command (exit 2) with the timeline's message; a
-- command calls this before its slower work so that the error comes first.
-- @tparam string format the name given
function M.check_format(format)
  if not FORMATS[format] then
    invalid(("Unknown format: %s. Use text, json, ndjson, csv, sql or "
      .. "markdown"):format(tostring(format)))
  end
end

-- Does `key` name this source: its path, its device id or a prefix of it?
local function names(src, key)
  return key == src.path or key == src.given
    or (src.device and #key >= 4 and src.device:sub(1, #key) == key:lower())
end

-- A file that is an export rather than a database: its first bytes.
local function is_export(path)
  local f = io.open(path, "rb")
  if not f then return false end
  local head = f:read(16) or ""
  f:close()
  return not head:find("^SQLite format 3\0") and head:find("^%s*[%[%-]") ~= nil
end

-- Open every input; exports go into temporary stores in `tmp`. Each opened
-- source is put in `sources` at once, so that the caller closes it when a
-- later input fails.
local function open_sources(paths, devices, tmp, sources)
  for i, path in ipairs(paths) do
    local src = { given = path, path = path }
    if is_export(path) then
      local importer = require "synclua.importer"
      local device
      for _, d in ipairs(devices) do
        if d.key == path then device = d.value end
      end
      local events = runner.check(importer.read(path, {
        device = device, device_option = "--device " .. path .. "=UUID" }))
      -- Exports are newest first: stored oldest first, ties keep id order.
      events = importer.merge({ events })
      local file = ("%s/%d.db"):format(tmp, i)
      local log = runner.check(synclua.open(file, { synchronous = "off" }))
      runner.check(log:insert(events, { skip_duplicates = false }))
      log:close()
      src.log = cmd.open(file)
    else
      src.log = cmd.open(path)
    end
    local first = src.log:first{ raw = true }
    src.device = first and first.device_id
    src.label = src.device and src.device:sub(1, 8) or path
    sources[i] = src
  end
  return sources
end

local function close_sources(sources)
  for _, src in ipairs(sources) do
    if src.log then src.log:close() end
  end
end

-- The clock offsets (ns) to subtract per source, the header lines that
-- say where they come from, and the causal pairs still out of order.
local function offsets_for(sources, how)
  local offsets = {}
  for i = 1, #sources do offsets[i] = 0 end
  if how == "none" then return offsets, {}, {} end
  local skew = require "synclua.skew"
  -- A store without rows has no device to estimate: it stays at 0.
  local inputs, index = {}, {}
  for i, src in ipairs(sources) do
    if src.device then
      inputs[#inputs + 1] = { store = src.log, device = src.device,
                              label = src.label }
      index[#inputs] = i
    end
  end
  if #inputs < 2 then return offsets, {}, {} end
  local result = skew.estimate(inputs)
  if how ~= "auto" then
    local manual, err = skew.parse_manual(how)
    if not manual then invalid("--skew: " .. err) end
    result, err = skew.apply(result, manual)
    if not result then invalid("--skew: " .. err) end
  end
  for i, d in ipairs(result.devices) do offsets[index[i]] = d.offset_ns end
  local violations = skew.check(inputs, result)
  for _, v in ipairs(violations) do  -- their indexes: the timeline's sources
    v.send.index, v.receive.index = index[v.send.index], index[v.receive.index]
  end
  return offsets, skew.describe(result), violations
end

-- A causality violation in one line, for stderr.
local function violation_text(v)
  return ("session %s: %s's %s (id %d) comes %.3f s before %s's %s "
          .. "(id %d), which it must follow"):format(
    v.correlation_id or "-", v.receive.label, v.receive.event_type,
    v.receive.id, v.by_ns / 1e9, v.send.label, v.send.event_type, v.send.id)
end

--- An instant as "2025-12-03 10:15:00.123" (UTC, to the millisecond,
-- always the same width), as the text timeline prints it.
-- @tparam integer instant
-- @treturn string
function M.clock_text(instant)
  local t = synclua.format_time(instant, true)
  local whole, frac = t:match("^(.-T%d%d:%d%d:%d%d)%.?(%d*)Z$")
  return whole:gsub("T", " ") .. "." .. (frac .. "000"):sub(1, 3)
end

-- The text format: adjusted time, device, raw time when the clock was
-- corrected, severity, type, summary; "!" marks a causality violation.
local function write_text(out, next_row, merge, header, flagged, width)
  for _, line in ipairs(header) do out:write("# " .. line .. "\n") end
  local n = 0
  local row = "%s%s  %-" .. width .. "s  %-7s  %-26s  %s%s\n"
  for ev, src, adjusted in next_row, merge do
    n = n + 1
    local raw = ev.instant and adjusted ~= ev.instant
      and ("  [device clock " .. M.clock_text(ev.instant) .. "]") or ""
    out:write(row:format(flagged[src .. ":" .. ev.id] and "! " or "  ",
      adjusted and M.clock_text(adjusted) or ev.timestamp, ev.device_label,
      ev.severity, ev.event_type, (ev.summary:gsub("\n", " ")), raw))
  end
  return n
end

-- The markdown format: Spacedrive's layout with a Device column.
local function write_markdown(out, merge, count, now)
  out:write(table.concat{
    "# Sync Event Timeline\n\n**Exported**: ", synclua.format_time(now),
    "\n**Event Count**: ", count, "\n\n",
    "| Timestamp | Device | Event Type | Severity | Summary |\n",
    "|-----------|--------|------------|----------|----------|\n" })
  local total = 0
  for chunk, n in function() return merge:chunk() end do
    out:write(chunk)
    total = total + n
  end
  return total
end

-- Merge the opened sources and write them; the number of events written.
local function write_sources(sources, o, format)
  for _, l in ipairs(o.labels) do
    local found = false
    for _, src in ipairs(sources) do
      if names(src, l.key) then src.label, found = l.value, true end
    end
    if not found then
      invalid(("--label: no input is device or file '%s'"):format(l.key))
    end
  end
  local offsets, header, violations = offsets_for(sources, o.skew)
  local flagged = {}
  for _, v in ipairs(violations) do
    flagged[v.receive.index .. ":" .. v.receive.id] = true
    flagged[v.send.index .. ":" .. v.send.id] = true
  end

  local filter = o.filter
  local cursors, names_list = {}, {}
  for i, src in ipairs(sources) do
    local f = {}
    for k, v in pairs(filter) do f[k] = v end
    f.limit = o.limit -- each source gives at most the whole limit
    cursors[i] = src.log:cursor(f)
    names_list[i] = src.label
  end
  local exporter = format ~= true and format ~= "markdown"
                   and require("exporters." .. format)
  local next_row, merge = synclua.merge(cursors, {
    offsets = offsets, labels = names_list, order = o.order,
    render = format ~= true and format or nil, with_device = true,
    separator = exporter and exporter.separator or nil,
    limit = o.limit })
  local closing <close> = merge

  local file = io.stdout
  if o.output then
    file = runner.check(io.open(o.output, "wb"))
  end
  local out = filter_args.writer(file, o.output or "stdout")
  local count
  if format == true then
    local width = 0
    for _, name in ipairs(names_list) do width = math.max(width, #name) end
    count = write_text(out, next_row, merge, header, flagged, width)
  elseif format == "markdown" then
    local total = 0
    for _, src in ipairs(sources) do total = total + src.log:count(filter) end
    if o.limit and total > o.limit then total = o.limit end
    count = write_markdown(out, merge, total, o.now)
  elseif format == "csv" then
    count = exporter.write(out, merge, ",device_label,adjusted_timestamp")
  elseif format == "sql" then
    count = exporter.write(out, merge, o.now)
  else
    count = exporter.write(out, merge)
  end
  if format ~= true then
    for _, line in ipairs(header) do
      io.stderr:write(o.prefix, ": ", line, "\n")
    end
  end
  if format == "json" or format == "markdown" or format == "sql" then
    out:write("\n")
  end
  for _, v in ipairs(violations) do
    io.stderr:write(o.prefix .. ": causality violation: "
                    .. violation_text(v) .. "\n")
  end
  if o.output then
    local closed, cerr = file:close()
    if not closed then
      error(runner.failure("ioerr", o.output .. ": " .. cerr), 0)
    end
  end
  return count
end

-- The options of write, checked (misuse raises at write's caller), with
-- their defaults and the filter copied (its order set to `order`).
local function check_opts(opts)
  if type(opts) ~= "table" then
    error(("bad argument #1 to 'write' (table expected, got %s)")
      :format(type(opts)), 3)
  end
  local function bad(fmt, ...)          -- level 4: write's caller
    error(("bad argument #1 to 'write' (" .. fmt .. ")"):format(...), 4)
  end
  if type(opts.paths) ~= "table" or #opts.paths == 0 then
    bad("paths: non-empty list of strings expected")
  end
  for i, p in ipairs(opts.paths) do
    if type(p) ~= "string" then
      bad("paths[%d]: string expected, got %s", i, type(p))
    end
  end
  for _, k in ipairs{ "labels", "devices" } do
    local list = opts[k]
    if list ~= nil and type(list) ~= "table" then
      bad("%s: table expected, got %s", k, type(list))
    end
    for i, e in ipairs(list or {}) do
      if type(e) ~= "table" or type(e.key) ~= "string"
         or type(e.value) ~= "string" then
        bad("%s[%d]: { key = string, value = string } expected", k, i)
      end
    end
  end
  for _, k in ipairs{ "skew", "format", "output", "prefix" } do
    if opts[k] ~= nil and type(opts[k]) ~= "string" then
      bad("%s: string expected, got %s", k, type(opts[k]))
    end
  end
  if opts.filter ~= nil and type(opts.filter) ~= "table" then
    bad("filter: table expected, got %s", type(opts.filter))
  end
  local limit = opts.limit
  if limit ~= nil and (math.type(limit) ~= "integer" or limit < 0) then
    bad("limit: non-negative integer expected")
  end
  local order = opts.order or "asc"
  if order ~= "asc" and order ~= "desc" then
    bad("order: 'asc' or 'desc' expected, got %s", tostring(order))
  end
  if opts.now ~= nil and math.type(opts.now) ~= "integer" then
    bad("now: integer instant expected")
  end
  local filter = {}
  for k, v in pairs(opts.filter or {}) do filter[k] = v end
  filter.order = order
  return {
    paths = opts.paths, labels = opts.labels or {},
    devices = opts.devices or {}, skew = opts.skew or "auto",
    format = opts.format or "text", filter = filter, limit = limit,
    order = order, output = opts.output, now = opts.now,
    prefix = opts.prefix or "synclua timeline",
  }
end

--- Write several devices' logs as one stream, in order of corrected time,
-- as `synclua timeline` writes it: rows to `output` (or stdout), the
-- clock-offset header and causality violations to stderr (the header in
-- the output itself for "text"), each stderr line starting with `prefix`
-- and ": ". Exports among the paths are loaded into a temporary folder,
-- removed before returning; every store opened is closed, on error too.
-- Bad input raises a synclua.runner failure (see above); misuse of the
-- options raises "bad argument #1 to 'write' (...)".
-- @tparam table opts
--   paths: list of sync.db files, library folders or exports (required);
--   labels: list of { key = DEVICE (id, id prefix or path), value = NAME };
--   devices: list of { key = FILE, value = UUID }, the device of an export
--   that does not say; skew: "auto" (default), "none" or
--   "DEV=+1.5s[,...]"; format: "text" (default), "json", "ndjson", "csv",
--   "sql", "markdown" or "md"; filter: a log:events filter (as
--   filter_args.filter returns; copied, its order replaced by `order`);
--   limit: at most this many events in all (default: all); order: "asc"
--   (default) or "desc"; output: a file to write instead of stdout; now:
--   the instant in the markdown and sql headers (default: filter_args.clock());
--   prefix: of the stderr lines (default "synclua timeline")
-- @treturn integer the number of events written
function M.write(opts)
  local o = check_opts(opts)
  M.check_format(o.format)
  local format = FORMATS[o.format]
  if o.now == nil and (format == "markdown" or format == "sql") then
    o.now = filter_args.clock()
  end
  local tmp = runner.check(fs.tmpdir())
  local sources = {}
  local ok, result = pcall(function()
    open_sources(o.paths, o.devices, tmp, sources)
    return write_sources(sources, o, format)
  end)
  close_sources(sources)
  fs.remove_tree(tmp)
  if not ok then error(result, 0) end
  return result
end

return M
