-- synclua events: Spacedrive's `sd sync events`, byte-compatible
-- (spacedrive-compat.md section 1): the same flags, validation messages,
-- order (newest first), default limit (1000) and output bytes in json,
-- sql and markdown; plus ndjson and csv, --until, --category, --peer,
-- --model-type, and several types or severities at once. Read-only.
--
-- SYNCLUA_NOW (a time, e.g. 2025-12-03T10:15:00Z) stands in for the
-- current time -- the end of a --since range, the base of "1 hour ago",
-- the sql "Generated" and markdown "Exported" lines -- so that output can
-- be reproduced (tests, documentation).
local command = require "synclua.command"
local query = require "synclua.query"
local fmt = require "synclua.fmt"
local follow = require "synclua.follow"
local runner = require "synclua.runner"

-- Formats whose output ends with its own line terminator: printed as is,
-- without the newline Spacedrive's println adds to json, sql and markdown.
local TERMINATED = { ndjson = true, csv = true }

local options = query.options()
options[#options + 1] = { "--limit", type = "int", min = 0, default = 1000,
  help = "Maximum number of events (0: all)" }
options[#options + 1] = { "--with-device", flag = true,
  help = "Include device name/ID in output" }
options[#options + 1] = { "--follow", flag = true,
  help = "After the newest --limit events (oldest first), print each new "
    .. "one as it is committed, by any process, until Ctrl-C (exit 0); "
    .. "-f ndjson or csv" }
options[#options + 1] = { "--dialect", type = "enum", default = "sqlite",
  values = { "sqlite", "postgresql" },
  help = "with -f sql: the script for sqlite3 (Spacedrive's) or for psql "
    .. "(PostgreSQL types; a NUL in a value becomes U+FFFD)" }
options[#options + 1] = { "--all-devices", flag = true,
  help = "Accepted as Spacedrive accepts it (where it has no effect): "
    .. "every device's events in the store are shown unless --device" }

return command{
  name = "events",
  redact = true,
  description = "Export events as Spacedrive does (json, sql, markdown), "
    .. "or as ndjson or csv",
  epilog = "Newest first. Times: '1 hour ago', '2h', 'yesterday', "
    .. "'2025-12-03 10:00:00' (UTC),\nRFC 3339, '@1733220000'. Several "
    .. "types, categories or severities: repeat the\noption or separate "
    .. "them with commas; severity 'warning+' means warning and above.\n"
    .. "SYNCLUA_NOW=<time> stands in for the current time (reproducible "
    .. "output).",
  inputs = "one",
  formats = { "json", "sql", "markdown", "ndjson", "csv" },
  options = options,
  check = function(opts)
    follow.check(opts, follow.FORMATS)
    if opts.dialect ~= "sqlite" and opts.format ~= "sql" then
      runner.invalid(("--dialect %s: only for -f sql (not %s)")
        :format(opts.dialect, opts.format))
    end
  end,
  run = function(ctx)
    local opts = ctx.opts
    local src = ctx.inputs[1]
    if opts.follow then
      follow.check_stores(ctx.inputs)
      return follow.events(ctx.out, src.log,
        ctx.window:filter(query.filter(opts)), {
          format = ctx.format, with_device = opts.with_device,
          limit = opts.limit > 0 and opts.limit or nil, name = src.given,
          live = ctx.window:live_filter(query.filter(opts)),
          note = function(m) ctx:note(m) end })
    end
    local filter = ctx.window:filter(query.filter(opts))
    filter.limit = opts.limit > 0 and opts.limit or nil
    filter.skipped_last = true
    local exporter = require("synclua.export." .. ctx.format)
    local count, cur, nuls = exporter.export(ctx.out, src.log, filter, {
      with_device = opts.with_device, now = ctx.now, dialect = opts.dialect })
    if not TERMINATED[ctx.format] and not opts.output then
      ctx.out:write("\n")
    end
    if opts.output then ctx:exported(count) end
    if filter.limit and count == filter.limit then
      ctx:cut(count, function(limit)
        local f = ctx.window:filter(query.filter(opts))
        f.limit = limit
        return src.log:count(f)
      end)
    end
    if count == 0 and ctx:survey().events == 0 then
      ctx:note(ctx.window:no_data(ctx:survey()))
    end
    if cur:skipped() > 0 then
      local untimed = cur:untimed()
      ctx:warn(("%s that Spacedrive's reader skips %s written last (%ssee "
        .. "synclua check)"):format(fmt.plural(cur:skipped(), "event"),
        cur:skipped() == 1 and "is" or "are",
        untimed > 0 and ("%d with a timestamp that does not parse, written "
          .. "as stored; "):format(untimed) or ""))
    end
    if (nuls or 0) > 0 then
      ctx:warn(("%s in values written as U+FFFD: PostgreSQL text cannot "
        .. "hold one"):format(fmt.plural(nuls, "NUL")))
    end
    if cur:unparsable() > 0 then
      ctx:warn(("%d events left out: their timestamps do not parse, so the "
        .. "time range cannot place them (see synclua check)")
        :format(cur:unparsable()))
    end
  end,
}
