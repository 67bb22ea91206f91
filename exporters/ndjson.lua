--- synclua.export.ndjson: one compact JSON object per line (newline-delimited
-- JSON), newest first, each line ending "\n"; an empty result writes
-- nothing. A line is the same object as an element of the JSON export:
-- by default the nine fields of Spacedrive's default element (keys sorted,
-- absent ones null); with `with_device` the stored event with its keys
-- sorted and absent optional fields omitted, as Spacedrive's
-- EventLogResponse carries an event (spacedrive-compat.md 2.2). Timestamps
-- in serde's "Z" form, details as serde writes them.
local query = require "synclua.query"

local M = {}

--- The render format rows come in for `write` (each ends its own line).
M.render, M.separator = "ndjson", ""

local function rendering(filter, with_device)
  return query.with(filter, { render = M.render,
                              with_device = with_device and true })
end

--- Write rendered rows, one JSON object a line.
-- @tparam table out anything with a `write(self, string)` method
-- @param source anything with `chunk()` (a Cursor or a merge)
-- @treturn integer the number of events written
function M.write(out, source)
  local total = 0
  local chunk, n = source:chunk()
  while chunk do
    out:write(chunk)
    total = total + n
    chunk, n = source:chunk()
  end
  return total
end

--- Write the events a filter selects, one JSON object per line.
-- @tparam table out anything with a `write(self, string)` method
-- @tparam Store log an open store
-- @tparam[opt] table filter as `log:events` takes it
-- @tparam[opt] table opts `with_device` (boolean)
-- @treturn integer the number of events written
-- @treturn Cursor the finished cursor (`untimed()`, `unparsable()`)
function M.export(out, log, filter, opts)
  opts = opts or {}
  local cur <close> = log:cursor(rendering(filter, opts.with_device))
  return M.write(out, cur), cur
end

return M
