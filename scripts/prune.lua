-- synclua prune: retention on demand, as Spacedrive's hourly pass does it
-- (events older than 7 days, compared by instant), for one or more stores.
-- Changes only the rows: no index, no journal mode (the store is opened
-- with create = false).
local synclua = require "synclua"
local command = require "synclua.command"
local inputs = require "synclua.inputs"
local runner = require "synclua.runner"
local fmt = require "synclua.fmt"

local function report(path, r)
  if r.count == 0 then
    return ("%s: no events older than %s"):format(path, r.cutoff)
  end
  return ("%s: %s %s older than %s (%s .. %s)"):format(
    path, r.dry_run and "would delete" or "deleted",
    fmt.plural(r.count, "event"), r.cutoff, r.oldest, r.newest)
end

return command{
  name = "prune",
  description = "Delete events older than the retention period",
  inputs = false, window = false,
  formats = { "text", "json" },
  options = {
    { "--db", type = "inputs",
      help = "a sync.db, library folder, folder of devices or glob (repeat "
        .. "for several; default $SYNCLUA_DB, then ./sync.db)" },
    { "--older-than", type = "duration", default = "7 days",
      help = "age of the events to delete, e.g. '7 days', '36h'" },
    { "--dry-run", flag = true,
      help = "only say what would be deleted; open the store read-only" },
  },
  run = function(ctx)
    local opts = ctx.opts
    local all = synclua.array()
    for _, e in ipairs(inputs.expand(opts.db)) do
      local log <close> = runner.check(synclua.open(e.path, not opts.dry_run
        and { mode = "w", create = false } or nil))
      local r = runner.check(log:prune{ older_than = opts.older_than / 1e9,
                                        dry_run = opts.dry_run })
      r.path = log:path()
      all[#all + 1] = r
      if ctx.format == "text" then ctx.out:write(report(r.path, r), "\n") end
      if r.unparsable > 0 then
        ctx:warn(("%s: kept %d events whose timestamps do not parse "
          .. "(see synclua check)"):format(log:path(), r.unparsable))
      end
    end
    -- json: one array, a store each
    if ctx.format == "json" then
      ctx.out:write(synclua.json_encode(all), "\n")
    end
  end,
}
