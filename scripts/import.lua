-- synclua import: several devices' exports -- JSON (default or
-- --with-device), SQL, NDJSON and CSV, as `synclua events` and
-- Spacedrive's `sd sync events` write them -- loaded into one store, so
-- that the documentation's cross-device SQL queries run on it ("SQL
-- Import for Analysis"). Every file is read as a stream and checked, its
-- events held aside in a temporary file (synclua.import: memory stays flat
-- whatever the size); then all of them go in one transaction, oldest
-- first, skipping those already there (same device, instant, type and
-- summary). A bad file writes nothing. The store is created if missing,
-- and only once every file has been read.
local synclua = require "synclua"
local cli = require "synclua.cli"
local command = require "synclua.command"
local importer = require "synclua.importer"
local runner = require "synclua.runner"
local fmt = require "synclua.fmt"

return command{
  name = "import",
  description = "Load JSON and SQL exports of several devices into one store",
  epilog = "FILE is a JSON export (synclua events -f json, with or without "
    .. "--with-device), an\nSQL export (-f sql), or NDJSON or CSV (-f ndjson, "
    .. "-f csv), written by synclua or\nby Spacedrive's sd sync events. Every "
    .. "file is read as a stream and checked\nbefore anything is written; "
    .. "then all events go in at once, in one transaction,\nskipping those "
    .. "already in the store (same device, time, type and summary). A\n"
    .. "JSON export made without --with-device has no device ids: give "
    .. "--device.",
  inputs = false, window = false,
  formats = { "text", "json" },
  options = {
    { "FILE", positional = true, repeatable = true,
      help = "an export to load (json, sql, ndjson or csv; '-' reads "
        .. "standard input)" },
    { "--db", metavar = "PATH", required = true,
      help = "the store to import into (a sync.db or library folder; "
        .. "created if missing)" },
    { "--device", type = "uuid", what = "device ID",
      help = "the device of events that carry none (JSON exported without "
        .. "--with-device)" },
  },
  run = function(ctx)
    local opts = ctx.opts
    local stdin = 0
    for _, path in ipairs(opts.FILE) do
      if path == "-" then stdin = stdin + 1 end
    end
    if stdin > 1 then
      error(cli.usage_error("'-' (standard input) given more than once"), 0)
    end
    if synclua.is_database(opts.db) then
      runner.invalid(("--db %s: import writes a sync.db; a PostgreSQL fleet "
        .. "store takes exports by synclua push --to"):format(opts.db))
    end
    -- A folder of devices is many stores: import writes into one.
    local fs = require "synclua.fs"
    if fs.kind(opts.db) == "dir" and not fs.kind(opts.db .. "/sync.db") then
      for _, name in ipairs(fs.list(opts.db) or {}) do
        if fs.kind(opts.db .. "/" .. name .. "/sync.db") then
          runner.invalid(("--db %s is a folder of devices: import into one "
            .. "store (a sync.db file, or a library folder)"):format(opts.db))
        end
      end
    end
    local imp <close> = runner.check(synclua.import{ skip_duplicates = true,
                                                     by_time = true })
    for _, path in ipairs(opts.FILE) do
      runner.check(importer.stream(path, imp, { device = opts.device }))
    end
    local log <close> = runner.check(synclua.open(opts.db, { mode = "w" }))
    -- Opening to write reads no data page of a store synclua did not make
    -- (it builds no index there): damage is looked for before a row goes in.
    local sound, findings, code = log:integrity()
    if sound == nil then runner.check(nil, findings, code) end
    if not sound then
      error(runner.failure("corrupt", log:path() .. ": database is corrupt"), 0)
    end
    local inserted, skipped = runner.check(imp:commit(log))
    local path = log:path()
    runner.check(log:close())
    if ctx.format == "json" then
      ctx.out:write(synclua.json_encode{ store = path, files = #opts.FILE,
        imported = inserted, skipped = skipped }, "\n")
    else
      ctx.out:write(("Imported %s from %s into %s (%s skipped)\n"):format(
        fmt.plural(inserted, "event"), fmt.plural(#opts.FILE, "file"), path,
        fmt.plural(skipped, "duplicate")))
    end
  end,
}
