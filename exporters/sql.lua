--- synclua.export.sql: Spacedrive's `sd sync events --format sql`
-- (spacedrive-compat.md 1.5), made importable into an empty database
-- (Our decision 5): the two header lines and a blank line as Spacedrive
-- writes them, then the table and its five indexes (`IF NOT EXISTS`, so
-- importing into an existing sync.db is fine too), then the INSERT lines,
-- byte for byte Spacedrive's, between BEGIN; and COMMIT;. So
--
--     synclua events -f sql -o device_a.sql && sqlite3 timeline.db < device_a.sql
--
-- works as the documentation promises. The id column is not exported.
local synclua = require "synclua"
local query = require "synclua.query"
local ndjson = require "synclua.export.ndjson"

local M = {}

--- Spacedrive's DDL (peer_log.rs): the table, then its five indexes, as
-- the core creates them.
M.schema = synclua.spacedrive_ddl()

--- The render format rows come in for `write` (each ends its own line).
M.render, M.separator = "sql", ""

local function rendering(filter)
  return query.with(filter, { render = M.render })
end

--- Write the header, the schema and the INSERT lines in one transaction.
-- @tparam table out anything with a `write(self, string)` method
-- @param source anything with `chunk()` (a Cursor or a merge)
-- @tparam[opt] integer now the instant for the "Generated" line
-- @treturn integer the number of events written
function M.write(out, source, now)
  out:write("-- Sync Event Log Export\n-- Generated: "
    .. synclua.format_time(now or synclua.now()) .. "\n\n"
    .. M.schema .. "BEGIN;\n")
  local total = ndjson.write(out, source) -- the lines as they come
  out:write("COMMIT;\n")
  return total
end

--- Write the events a filter selects as an SQL script.
-- @tparam table out anything with a `write(self, string)` method
-- @tparam Store log an open store
-- @tparam[opt] table filter as `log:events` takes it
-- @tparam[opt] table opts `now` (integer instant for the "Generated" line;
--   default the current time)
-- @treturn integer the number of events written
-- @treturn Cursor the finished cursor (`untimed()`, `unparsable()`)
function M.export(out, log, filter, opts)
  opts = opts or {}
  local cur <close> = log:cursor(rendering(filter))
  return M.write(out, cur, opts.now), cur
end

return M
