--- exporters.json: Spacedrive's `sd sync events --format json`, byte for
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
local M = {}

-- The filter plus the cursor options, without changing the caller's table.
local function rendering(filter, with_device)
  local f = {}
  for k, v in pairs(filter or {}) do f[k] = v end
  f.render, f.with_device, f.separator = "json", with_device and true, ",\n  "
  return f
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
  local _, _, _, cur <close> = log:events(rendering(filter, opts.with_device))
  local chunk, n = cur:chunk()
  if not chunk then
    out:write("[]")
    return 0, cur
  end
  local total = 0
  out:write("[\n  ")
  repeat
    out:write(chunk)
    total = total + n
    chunk, n = cur:chunk()
  until not chunk
  out:write("\n]")
  return total, cur
end

return M
