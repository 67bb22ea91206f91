-- synclua timeline: several devices' logs as one chronological stream.
-- Each input is whatever --db takes (synclua.inputs: a sync.db, a library
-- folder, a folder of devices, a glob, or an export of `synclua events` /
-- `sd sync events`); they are merged by a streaming k-way merge with a
-- stable tie-break, after correcting each device's clock by the offset
-- estimated from causal pairs in the logs themselves (synclua.skew), and
-- every row says which device it came from (synclua.timeline).
local command = require "synclua.command"
local query = require "synclua.query"
local timeline = require "synclua.timeline"

local options = {
  { "--label", metavar = "DEVICE=NAME", repeatable = true,
    check = command.pair("--label"),
    help = "call a device (id, id prefix or path) by a name" },
  { "--skew", metavar = "HOW", default = "auto",
    help = "auto, none, or DEVICE=+1.5s[,...]" },
}
for _, e in ipairs(query.options()) do options[#options + 1] = e end
options[#options + 1] = { "--limit", type = "int", min = 0,
  help = "at most N events (default: all)" }
options[#options + 1] = { "--order", type = "enum", default = "asc",
  values = { "asc", "desc" }, help = "oldest (asc) or newest (desc) first" }

return command{
  name = "timeline",
  description = "Merge several devices' logs into one timeline, with "
    .. "their clocks corrected",
  epilog = "Each --db is a sync.db, a library folder, a folder of devices, "
    .. "a glob, or an\nexport of 'synclua events' (JSON, with or without "
    .. "--with-device, SQL, NDJSON\nor CSV); an export without device data "
    .. "needs --device-of FILE=UUID. Oldest\nfirst. --skew auto estimates each "
    .. "device's clock offset from causal pairs (a\nrequest and its receipt, "
    .. "a response and its arrival); none leaves clocks\nalone; "
    .. "DEVICE=+1.5s sets one. Rows keep their device's time and gain the\n"
    .. "corrected one (adjusted_timestamp).",
  demo = true,
  formats = timeline.FORMATS,
  options = options,
  run = function(ctx)
    local opts = ctx.opts
    local limit = opts.limit ~= 0 and opts.limit or nil
    local filter = ctx.window:filter(query.filter(opts))
    local count = timeline.write(ctx.inputs, {
      out = ctx.out, format = ctx.format, labels = opts.label,
      skew = opts.skew, filter = filter, limit = limit, order = opts.order,
      now = ctx.now, name = ctx.name, header = { ctx.window:line() },
    })
    if count == 0 and ctx:survey().events == 0 then
      local none = ctx.window:no_data(ctx:survey())
      if ctx.format == "text" then ctx.out:write("# ", none, "\n")
      else ctx:note(none) end
    end
    if opts.output then ctx:exported(count) end
    if limit and count == limit then
      ctx:cut(count, function(most)
        return timeline.count(ctx.inputs, filter, most)
      end)
    end
  end,
}
