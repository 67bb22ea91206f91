--- synclua.export.csv: the events as RFC 4180 CSV, newest first: a header
-- record with the 13 column names in table order, then one record per
-- event, every record ending "\r\n". Values are the columns as read
-- (timestamps, details and model types as their stored text, counts as
-- stored, ids lowercase and hyphenated, what Spacedrive reads as None --
-- an id that is no UUID, a count that is no integer -- empty); a field
-- holding '"', ',', CR or LF is quoted with '"' doubled; NULL is an empty
-- field and an empty string a quoted one (""). `with_device` changes nothing:
-- every column is always there.
local synclua = require "synclua"
local query = require "synclua.query"

local ndjson = require "synclua.export.ndjson"

local M = {}

--- The render format rows come in for `write` (each ends its own record).
M.render, M.separator = "csv", ""

local function rendering(filter)
  return query.with(filter, { render = M.render })
end

--- Write the header record, then the rendered rows.
-- @tparam table out anything with a `write(self, string)` method
-- @param source anything with `chunk()` (a Cursor or a merge)
-- @tparam[opt] string extra columns after the 13, e.g. ",device_label"
-- @treturn integer the number of events written
function M.write(out, source, extra)
  local header = synclua.csv_header()
  if extra then header = header:gsub("\r\n$", "") .. extra .. "\r\n" end
  out:write(header)
  return ndjson.write(out, source)
end

--- Write the events a filter selects as CSV.
-- @tparam table out anything with a `write(self, string)` method
-- @tparam Store log an open store
-- @tparam[opt] table filter as `log:events` takes it
-- @param[opt] opts ignored: CSV has no variants
-- @treturn integer the number of events written
-- @treturn Cursor the finished cursor (`untimed()`, `unparsable()`)
function M.export(out, log, filter)
  local cur <close> = log:cursor(rendering(filter))
  return M.write(out, cur), cur
end

return M
