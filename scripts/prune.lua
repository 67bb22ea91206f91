-- synclua prune: retention on demand, as Spacedrive's hourly pass does it
-- (events older than 7 days, compared by instant), for one or more stores.
local cmd = require "synclua.cmd"

local function report(path, r)
  if r.count == 0 then
    return ("%s: no events older than %s"):format(path, r.cutoff)
  end
  return ("%s: %s %d event%s older than %s (%s .. %s)"):format(
    path, r.dry_run and "would delete" or "deleted", r.count,
    r.count == 1 and "" or "s", r.cutoff, r.oldest, r.newest)
end

return {
  name = "prune",
  description = "Delete events older than the retention period",
  args = {
    cmd.db_arg,
    { "--older-than", metavar = "DURATION", default = "7 days",
      help = "age of the events to delete, e.g. '7 days', '36h'" },
    { "--dry-run", flag = true,
      help = "only say what would be deleted; open the store read-only" },
  },
  run = function(opts)
    cmd.duration("--older-than", opts.older_than)
    for _, path in ipairs(cmd.db_paths(opts)) do
      local log <close> = cmd.open(path, { readonly = opts.dry_run })
      local r = assert(log:prune{ older_than = opts.older_than,
                                  dry_run = opts.dry_run })
      print(report(log:path(), r))
      if r.unparsable > 0 then
        io.stderr:write(("%s: kept %d events whose timestamps do not parse "
          .. "(see synclua check)\n"):format(log:path(), r.unparsable))
      end
    end
  end,
}
