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
local follow = require "synclua.follow"
local cli = require "synclua.cli"

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
options[#options + 1] = { "--follow", flag = true,
  help = "After the timeline so far (with --limit, its newest N), print "
    .. "each event committed to any store, by any process, in order, "
    .. "until Ctrl-C (exit 0); -f text, ndjson or csv" }
options[#options + 1] = { "--window", type = "duration", default = "2s",
  help = "--follow: how long an event is held so that one of another "
    .. "device that arrives later but belongs before it comes first; "
    .. "later than that, it is marked late" }

return command{
  name = "timeline",
  redact = true,
  description = "Merge several devices' logs into one timeline, with "
    .. "their clocks corrected",
  epilog = "Each --db is a sync.db, a library folder, a folder of devices, "
    .. "a glob, or an\nexport of 'synclua events' (JSON, with or without "
    .. "--with-device, SQL, NDJSON\nor CSV); an export without device data "
    .. "needs --device-of FILE=UUID. Oldest\nfirst. --skew auto estimates each "
    .. "device's clock offset from causal pairs (a\nrequest and its receipt, "
    .. "a response and its arrival); none leaves clocks\nalone; "
    .. "DEVICE=+1.5s sets one. Rows keep their device's time and gain the\n"
    .. "corrected one (adjusted_timestamp).\n--follow goes on with each "
    .. "event committed to a store, held for --window so that\nevents of "
    .. "several devices come in order; one later than that is marked late "
    .. "(text:\n'[late by 3.2 s]', ndjson: late_by_ms, csv: on stderr). "
    .. "With --skew auto the offsets\nare estimated again as causal pairs "
    .. "arrive, and a change is said.",
  demo = true,
  formats = timeline.FORMATS,
  options = options,
  check = function(opts)
    follow.check(opts, follow.TIMELINE_FORMATS)
    if opts.follow and opts.order ~= "asc" then
      error(cli.usage_error("--follow prints oldest first: --order desc "
        .. "cannot follow"), 0)
    end
  end,
  run = function(ctx)
    local opts = ctx.opts
    if opts.follow then
      follow.check_stores(ctx.inputs)
      return follow.timeline(ctx.inputs, {
        out = ctx.out, format = ctx.format, labels = opts.label,
        skew = opts.skew, filter = ctx.window:filter(query.filter(opts)),
        live = ctx.window:live_filter(query.filter(opts)),
        limit = opts.limit ~= 0 and opts.limit or nil, window = opts.window,
        name = ctx.name, header = { ctx.window:line() },
        note = function(m) ctx:note(m) end })
    end
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
