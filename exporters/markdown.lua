--- synclua.export.markdown: Spacedrive's `sd sync events --format markdown`
-- (spacedrive-compat.md 1.6) with Our decision 6: the same header lines,
-- four columns, UTC times as `%Y-%m-%d %H:%M:%S`, Rust Debug names
-- (`StateTransition`, `Info`), one row per event newest first; but a `|`
-- in a summary is written `\|` and a line break `<br>`, so no summary can
-- break the table. With `with_device` and at least one event, a
-- "## Devices" section lists each device once, in order of first
-- appearance (Spacedrive's order is a HashSet's, i.e. unspecified).
--
-- The event count comes before the rows: it is counted once the first row
-- is read, inside the same read transaction, so it is the number of rows
-- that follow even while another process writes.
local synclua = require "synclua"
local copy = require("synclua.query").with

local M = {}

local FLUSH = 65536           -- bytes gathered before each write

-- A device id as Spacedrive prints a Uuid: lowercase and hyphenated, in
-- whatever spelling it was stored, when it is one.
local function device(id)
  return synclua.parse_uuid(id) or id
end

--- Write the events a filter selects as a Markdown report.
-- @tparam table out anything with a `write(self, string)` method
-- @tparam Store log an open store
-- @tparam[opt] table filter as `log:events` takes it
-- @tparam[opt] table opts `with_device` (boolean), `now` (integer instant
--   for the "Exported" line; default the current time)
-- @treturn integer the number of events written
-- @treturn Cursor the finished cursor (`untimed()`, `unparsable()`)
function M.export(out, log, filter, opts)
  opts = opts or {}
  local f = copy(filter)
  f.raw = true
  local next_event, state, _, cur <close> = log:events(f)
  local ev = next_event(state)
  -- The cursor now holds the read transaction: the count sees its rows.
  local count = ev and log:count(copy(filter)) or 0
  out:write("# Sync Event Log\n\n**Exported**: "
    .. synclua.format_time(opts.now or synclua.now())
    .. "\n**Event Count**: " .. count .. "\n\n"
    .. "| Timestamp | Event Type | Severity | Summary |\n"
    .. "|-----------|------------|----------|----------|\n")
  local rows, size, total = {}, 0, 0
  local devices, seen = {}, {}
  while ev do
    local row = synclua.render(ev, "markdown")
    rows[#rows + 1] = row
    size = size + #row
    total = total + 1
    if size >= FLUSH then
      out:write(table.concat(rows))
      rows, size = {}, 0
    end
    if opts.with_device and ev.device_id then
      local d = device(ev.device_id)
      if not seen[d] then
        seen[d] = true
        devices[#devices + 1] = "- " .. d .. "\n"
      end
    end
    ev = next_event(state)
  end
  if opts.with_device and total > 0 then
    rows[#rows + 1] = "\n## Devices\n\n" .. table.concat(devices)
  end
  if #rows > 0 then out:write(table.concat(rows)) end
  return total, cur
end

return M
