-- synclua timeline: several devices' logs as one chronological stream.
-- Each input is a sync.db, a library folder, or an export of `synclua
-- events` / `sd sync events` (JSON, with or without device data, or SQL);
-- they are merged by a streaming k-way merge (core/sl_merge.c) with a
-- stable tie-break, after correcting each device's clock by the offset
-- estimated from causal pairs in the logs themselves (synclua.skew), and
-- every row says which device it came from. Reads its inputs read-only.
local synclua = require "synclua"
local cmd = require "synclua.cmd"
local cli = require "synclua.cli"
local runner = require "synclua.runner"
local filter_args = require "synclua.filter_args"
local fs = require "synclua.fs"

local FORMATS = {
  text = true, json = "json", ndjson = "ndjson", csv = "csv", sql = "sql",
  markdown = "markdown", md = "markdown",
}
local invalid = filter_args.invalid

-- "KEY=VALUE" options into a list of { key, value }.
local function pairs_of(option, values)
  local out = {}
  for _, v in ipairs(values) do
    local k, val = v:match("^([^=]+)=(.+)$")
    if not k then
      invalid(("%s: KEY=VALUE expected, got '%s'"):format(option, v))
    end
    out[#out + 1] = { key = k, value = val }
  end
  return out
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

-- Open every input; exports go into temporary stores in `tmp`.
local function open_sources(paths, devices, tmp)
  local sources = {}
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

-- "2025-12-03 10:15:00.123": to the millisecond, always the same width.
local function clock_text(instant)
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
      and ("  [device clock " .. clock_text(ev.instant) .. "]") or ""
    out:write(row:format(flagged[src .. ":" .. ev.id] and "! " or "  ",
      adjusted and clock_text(adjusted) or ev.timestamp, ev.device_label,
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

return {
  name = "timeline",
  description = "Merge several devices' logs into one timeline, with "
    .. "their clocks corrected",
  epilog = "Each --db is a sync.db, a library folder, or an export of "
    .. "'synclua events'\n(JSON, with or without --with-device, or SQL); "
    .. "an export without device\ndata needs --device FILE=UUID. Oldest "
    .. "first. --skew auto estimates each\ndevice's clock offset from "
    .. "causal pairs (a request and its receipt, a\nresponse and its "
    .. "arrival); none leaves clocks alone; DEVICE=+1.5s sets one.\n"
    .. "Rows keep their device's time and gain the corrected one "
    .. "(adjusted_timestamp).",
  args = filter_args.with({
    cmd.db_arg,
    { "--label", metavar = "DEVICE=NAME", repeatable = true,
      help = "call a device (id, id prefix or path) by a name" },
    { "--device", metavar = "FILE=UUID", repeatable = true,
      help = "the device of an export that does not say" },
    { "--skew", metavar = "HOW", default = "auto",
      help = "auto, none, or DEVICE=+1.5s[,...]" },
    { "-f", "--format", metavar = "FORMAT", default = "text",
      help = "text, json, ndjson, csv, sql or markdown" },
    { "-o", "--output", metavar = "FILE",
      help = "write to a file instead of stdout" },
  }, {
    { "--limit", metavar = "N", type = "integer",
      help = "at most N events (default: all)" },
    { "--order", metavar = "ORDER", default = "asc", choices = { "asc", "desc" },
      help = "oldest (asc) or newest (desc) first" },
  }),
  run = function(opts)
    if opts.limit and opts.limit < 0 then
      error(cli.usage_error(("option '--limit' must not be negative (got %d)")
        :format(opts.limit)), 0)
    end
    local format = FORMATS[opts.format]
    if not format then
      invalid(("Unknown format: %s. Use text, json, ndjson, csv, sql or "
        .. "markdown"):format(opts.format))
    end
    local paths = cmd.db_paths(opts, { demo = true })
    local labels = pairs_of("--label", opts.label)
    local devices = pairs_of("--device", opts.device)
    local now = filter_args.clock()
    local filter = filter_args.filter(opts, now)
    filter.order = opts.order

    local tmp = runner.check(fs.tmpdir())
    local sources = {}
    local ok, err = pcall(function()
      sources = open_sources(paths, devices, tmp)
      for _, l in ipairs(labels) do
        local found = false
        for _, src in ipairs(sources) do
          if names(src, l.key) then src.label, found = l.value, true end
        end
        if not found then
          invalid(("--label: no input is device or file '%s'"):format(l.key))
        end
      end
      local offsets, header, violations = offsets_for(sources, opts.skew)
      local flagged = {}
      for _, v in ipairs(violations) do
        flagged[v.receive.index .. ":" .. v.receive.id] = true
        flagged[v.send.index .. ":" .. v.send.id] = true
      end

      local cursors, names_list = {}, {}
      for i, src in ipairs(sources) do
        local f = {}
        for k, v in pairs(filter) do f[k] = v end
        f.limit = opts.limit -- each source gives at most the whole limit
        cursors[i] = src.log:cursor(f)
        names_list[i] = src.label
      end
      local exporter = format ~= true and format ~= "markdown"
                       and require("exporters." .. format)
      local next_row, merge = synclua.merge(cursors, {
        offsets = offsets, labels = names_list, order = opts.order,
        render = format ~= true and format or nil, with_device = true,
        separator = exporter and exporter.separator or nil,
        limit = opts.limit })
      local closing <close> = merge

      local file = io.stdout
      if opts.output then
        file = runner.check(io.open(opts.output, "wb"))
      end
      local out = filter_args.writer(file, opts.output or "stdout")
      local count
      if format == true then
        local width = 0
        for _, name in ipairs(names_list) do width = math.max(width, #name) end
        count = write_text(out, next_row, merge, header, flagged, width)
      elseif format == "markdown" then
        local total = 0
        for _, src in ipairs(sources) do total = total + src.log:count(filter) end
        if opts.limit and total > opts.limit then total = opts.limit end
        count = write_markdown(out, merge, total, now)
      elseif format == "csv" then
        count = exporter.write(out, merge, ",device_label,adjusted_timestamp")
      elseif format == "sql" then
        count = exporter.write(out, merge, now)
      else
        count = exporter.write(out, merge)
      end
      if format ~= true then
        for _, line in ipairs(header) do
          io.stderr:write("synclua timeline: ", line, "\n")
        end
      end
      if format == "json" or format == "markdown" or format == "sql" then
        out:write("\n")
      end
      for _, v in ipairs(violations) do
        io.stderr:write("synclua timeline: causality violation: "
                        .. violation_text(v) .. "\n")
      end
      if opts.output then
        local closed, cerr = file:close()
        if not closed then
          error(runner.failure("ioerr", opts.output .. ": " .. cerr), 0)
        end
        print(("Exported %d events to %s"):format(count, opts.output))
      end
    end)
    close_sources(sources)
    fs.remove_tree(tmp)
    if not ok then error(err, 0) end
  end,
}
