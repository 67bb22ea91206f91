--- exporters.csv: the events as RFC 4180 CSV, newest first: a header
-- record with the 13 column names in table order, then one record per
-- event, every record ending "\r\n". Values are the stored column text
-- (timestamps as stored, details as stored JSON text); a field holding
-- '"', ',', CR or LF is quoted with '"' doubled; NULL is an empty field
-- and an empty string a quoted one (""). `with_device` changes nothing:
-- every column is always there.
local synclua = require "synclua"

local M = {}

local function rendering(filter)
  local f = {}
  for k, v in pairs(filter or {}) do f[k] = v end
  f.render = "csv"
  return f
end

--- Write the events a filter selects as CSV.
-- @tparam table out anything with a `write(self, string)` method
-- @tparam Store log an open store
-- @tparam[opt] table filter as `log:events` takes it
-- @param[opt] opts ignored: CSV has no variants
-- @treturn integer the number of events written
-- @treturn Cursor the finished cursor (`untimed()`, `unparsable()`)
function M.export(out, log, filter)
  local _, _, _, cur <close> = log:events(rendering(filter))
  local total = 0
  out:write(synclua.csv_header())
  local chunk, n = cur:chunk()
  while chunk do
    out:write(chunk)
    total = total + n
    chunk, n = cur:chunk()
  end
  return total, cur
end

return M
