--- synclua.export.json: Spacedrive's `sd sync events --format json`, byte for
-- byte (spacedrive-compat.md 1.4): a to_string_pretty array, newest first.
-- By default each element is json!{} of nine fields -- keys sorted, absent
-- ones null, `timestamp` in serde's "Z" form, `details` nested with its
-- keys sorted and serde's floats; with `with_device` each element is the
-- stored event itself in field declaration order, absent optional fields
-- omitted. An empty result is `[]`. No trailing newline: the command adds
-- Spacedrive's one when printing.
--
-- The elements come rendered from the C core (a cursor opened with
-- `render = "json"`); this module frames them and streams: memory stays
-- flat whatever the number of events.
local query = require "synclua.query"

local M = {}

--- How the rows must come rendered: the render format and the separator a
-- cursor (or a merge) is opened with for `write`.
M.render, M.separator = "json", ",\n  "

-- The filter plus the cursor options, without changing the caller's table.
local function rendering(filter, with_device)
  return query.with(filter, { render = M.render,
    with_device = with_device and true, separator = M.separator })
end

--- Frame rendered rows as the JSON array.
-- @tparam table out anything with a `write(self, string)` method
-- @param source anything with `chunk()` returning rendered rows joined by
--   M.separator and their count, then nil (a Cursor or a merge)
-- @treturn integer the number of events written
function M.write(out, source)
  local chunk, n = source:chunk()
  if not chunk then
    out:write("[]")
    return 0
  end
  local total = 0
  out:write("[\n  ")
  repeat
    out:write(chunk)
    total = total + n
    chunk, n = source:chunk()
  until not chunk
  out:write("\n]")
  return total
end

--- Write the events a filter selects as Spacedrive's JSON export.
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
