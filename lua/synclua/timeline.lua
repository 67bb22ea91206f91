--- synclua.timeline: several devices' logs as one chronological stream,
-- the body of `synclua timeline`, for every command that writes it (fetch
-- too).
--
--     local timeline = require "synclua.timeline"
--     local n = timeline.write(set, { format = "json", out = out,
--                                     filter = window:filter() })
--
-- `set` is a list of sources (synclua.inputs: log, device, label); they
-- are merged by a streaming k-way merge (core/sl_merge.c) with a stable
-- tie-break (the order of the sources, then the row id), after correcting
-- each device's clock by the offset estimated from causal pairs in the
-- logs themselves (synclua.skew), and every row says which device it came
-- from.
--
-- Bad input ends the command: a failure (synclua.runner) with code
-- "invalid" (exit 2) for a --label that names no input or a bad --skew.
local synclua = require "synclua"
local runner = require "synclua.runner"
local skew = require "synclua.skew"
local query = require "synclua.query"

local M = {}

--- The formats a timeline is written in.
M.FORMATS = { "text", "json", "ndjson", "csv", "sql", "markdown", "html",
              "trace" }

local invalid = runner.invalid

-- Does `key` name this source: its path, its device id or a prefix of it?
local function names(src, key)
  return key == src.path or key == src.given
    or (src.device and #key >= 4 and src.device:sub(1, #key) == key:lower())
end

-- A causality violation in one line, for stderr.
local function violation_text(v)
  return ("session %s: %s's %s (id %d) comes %.3f s before %s's %s "
          .. "(id %d), which it must follow"):format(
    v.correlation_id or "-", v.receive.label, v.receive.event_type,
    v.receive.id, v.by_ns / 1e9, v.send.label, v.send.event_type, v.send.id)
end

-- On stderr: the clock-offset lines (the text format has them in its
-- header instead) and the causality violations.
local function tell(name, header, violations)
  for _, line in ipairs(header) do
    io.stderr:write("synclua ", name, ": ", line, "\n")
  end
  for _, v in ipairs(violations) do
    io.stderr:write("synclua ", name, ": causality violation: ",
                    violation_text(v), "\n")
  end
end

-- The text format, rendered in the core (sl_render_timeline_text):
-- adjusted time, device, raw time when the clock was corrected, severity,
-- type, summary; "!" marks a causality violation. The header first.
local function write_text(out, merge, header)
  for _, line in ipairs(header) do out:write("# " .. line .. "\n") end
  local n = 0
  for chunk, rows in function() return merge:chunk() end do
    out:write(chunk)
    n = n + rows
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

-- The rows of a newest-first merge, oldest first: each is rendered alone
-- (chunk(1): a row a chunk), kept, and given back in reverse, as the
-- merge's own chunk() gives rows.
local function reversed(merge)
  local rows = {}
  for chunk in function() return merge:chunk(1) end do rows[#rows + 1] = chunk end
  return { chunk = function()
    local row = table.remove(rows)
    if row then return row, 1 end
  end }
end

--- Write several devices' logs as one stream, in order of corrected time:
-- rows to `o.out`, the clock-offset header and causality violations to
-- stderr (the header in the output itself for "text"), each stderr line
-- starting with "synclua NAME: ".
-- @tparam table set the sources (synclua.inputs)
-- @tparam table o `out` (an object with write), `format` (one of
--   M.FORMATS; default "text"), `filter` (a log:events filter: the window
--   and the query options), `labels` (a list of { key = DEVICE (id, id
--   prefix or path), value = NAME }), `skew` ("auto", "none" or
--   "DEV=+1.5s,..."), `limit` (at most this many in all; nil: all),
--   `order` ("asc" or "desc"), `now` (the markdown and sql headers'
--   instant), `name` (the command, for stderr), `header` (more lines for
--   the text header), `through` (each source's highest id to read, by
--   index: a follower's marks), `newest` (only the newest this many,
--   still oldest first; instead of `limit` and `order`)
-- @treturn integer the number of events written
-- @treturn table the clock offsets applied (ns, by source index)
function M.write(set, o)
  if type(set) ~= "table" then
    error(("bad argument #1 to 'write' (table expected, got %s)")
      :format(type(set)), 2)
  end
  if type(o) ~= "table" then
    error(("bad argument #2 to 'write' (table expected, got %s)")
      :format(type(o)), 2)
  end
  if type(o.out) ~= "table" and type(o.out) ~= "userdata" then
    error("bad argument #2 to 'write' (out: an object with write expected)",
          2)
  end
  local known = false
  for _, f in ipairs(M.FORMATS) do known = known or f == (o.format or "text") end
  if not known then
    error(("bad argument #2 to 'write' (format: one of %s expected, got %s)")
      :format(table.concat(M.FORMATS, ", "), tostring(o.format)), 2)
  end
  if o.order ~= nil and o.order ~= "asc" and o.order ~= "desc" then
    error(("bad argument #2 to 'write' (order: 'asc' or 'desc' expected, "
      .. "got %s)"):format(tostring(o.order)), 2)
  end
  local format = o.format or "text"
  local name = o.name or "timeline"
  for _, l in ipairs(o.labels or {}) do
    local found = false
    for _, src in ipairs(set) do
      if names(src, l.key) then src.label, found = l.value, true end
    end
    if not found then
      invalid(("--label: no input is device or file '%s'"):format(l.key))
    end
  end
  local offsets, header, violations = skew.offsets(set, o.skew)
  if not offsets then invalid("--skew: " .. header) end
  local flagged = {}
  for _, v in ipairs(violations) do
    flagged[#flagged + 1] = { v.receive.index, v.receive.id }
    flagged[#flagged + 1] = { v.send.index, v.send.id }
  end

  if require("synclua.view").is_view(format) then
    -- The pictures (synclua.view): oldest first whatever --order says,
    -- the offsets as estimated here, stated on stderr as for every format
    -- but text.
    local count = require("synclua.view").write(set, {
      format = format, out = o.out, filter = o.filter, limit = o.limit,
      offsets = offsets, clock = header, now = o.now, name = name,
      title = o.title or name })
    tell(name, header, violations)
    return count, offsets
  end
  local filter = query.with(o.filter, {
    order = o.newest and "desc" or o.order or "asc" })
  o = o.newest and query.with(o, { limit = o.newest }) or o
  local cursors, labels = {}, {}
  for i, src in ipairs(set) do
    local f = query.with(filter)
    f.limit = o.limit -- each source gives at most the whole limit
    f.through_id = o.through and o.through[i]
    cursors[i] = src.log:cursor(f)
    labels[i] = src.label
  end
  local exporter = format ~= "text" and format ~= "markdown"
                   and require("synclua.export." .. format)
  local width = 1
  for _, l in ipairs(labels) do width = math.max(width, #l) end
  local _, merge = synclua.merge(cursors, {
    offsets = offsets, labels = labels, order = filter.order,
    render = format, with_device = true,
    separator = exporter and exporter.separator or nil,
    limit = o.limit,
    label_width = format == "text" and width or nil,
    flagged = format == "text" and flagged or nil })
  local closing <close> = merge
  if o.newest then merge = reversed(merge) end

  local out = o.out
  local count
  if format == "text" then
    local lines = {}
    for _, line in ipairs(o.header or {}) do lines[#lines + 1] = line end
    for _, line in ipairs(header) do lines[#lines + 1] = line end
    count = write_text(out, merge, lines)
  elseif format == "markdown" then
    local total = M.count(set, filter)
    local shown = o.limit and math.min(total, o.limit) or total
    count = write_markdown(out, merge, shown, o.now)
  elseif format == "csv" then
    count = exporter.write(out, merge, ",device_label,adjusted_timestamp")
  elseif format == "sql" then
    count = exporter.write(out, merge, o.now)
  else
    count = exporter.write(out, merge)
  end
  if format == "json" or format == "markdown" or format == "sql" then
    out:write("\n")
  end
  tell(name, format ~= "text" and header or {}, violations)
  return count, offsets
end

--- The events a filter selects in all the sources, counted no further
-- than `most` (nil: all) in each.
-- @tparam table set the sources
-- @tparam table filter a log:events filter
-- @tparam[opt] integer most
-- @treturn integer
function M.count(set, filter, most)
  local f, total = query.with(filter), 0
  f.limit, f.offset = most, nil
  for _, src in ipairs(set) do total = total + src.log:count(f) end
  return total
end

return M
