-- synclua timeline: several devices' logs as one chronological stream.
-- Each input is a sync.db, a library folder, or an export of `synclua
-- events` / `sd sync events` (JSON, with or without device data, or SQL);
-- they are merged by a streaming k-way merge (core/sl_merge.c) with a
-- stable tie-break, after correcting each device's clock by the offset
-- estimated from causal pairs in the logs themselves (synclua.skew), and
-- every row says which device it came from. Reads its inputs read-only.
-- This script checks the options; synclua.timeline does the work (and
-- serves every other command that writes the same stream).
local cmd = require "synclua.cmd"
local cli = require "synclua.cli"
local filter_args = require "synclua.filter_args"
local timeline = require "synclua.timeline"

local invalid = filter_args.invalid

-- "KEY=VALUE" options into a list of { key, value }.
local function pairs_of(option, values)
  local out = {}
  for _, v in ipairs(values) do
    local k, val = v:match("^([^=]+)=(.+)$")
    if not k then
      invalid(("%s: KEY=VALUE expected, got '%s'"):format(option, v))
    end
    out[#out + 1] = { key = k, value = val }
  end
  return out
end

return {
  name = "timeline",
  description = "Merge several devices' logs into one timeline, with "
    .. "their clocks corrected",
  epilog = "Each --db is a sync.db, a library folder, or an export of "
    .. "'synclua events'\n(JSON, with or without --with-device, or SQL); "
    .. "an export without device\ndata needs --device FILE=UUID. Oldest "
    .. "first. --skew auto estimates each\ndevice's clock offset from "
    .. "causal pairs (a request and its receipt, a\nresponse and its "
    .. "arrival); none leaves clocks alone; DEVICE=+1.5s sets one.\n"
    .. "Rows keep their device's time and gain the corrected one "
    .. "(adjusted_timestamp).",
  args = filter_args.with({
    cmd.db_arg,
    { "--label", metavar = "DEVICE=NAME", repeatable = true,
      help = "call a device (id, id prefix or path) by a name" },
    { "--device", metavar = "FILE=UUID", repeatable = true,
      help = "the device of an export that does not say" },
    { "--skew", metavar = "HOW", default = "auto",
      help = "auto, none, or DEVICE=+1.5s[,...]" },
    { "-f", "--format", metavar = "FORMAT", default = "text",
      help = "text, json, ndjson, csv, sql or markdown" },
    { "-o", "--output", metavar = "FILE",
      help = "write to a file instead of stdout" },
  }, {
    { "--limit", metavar = "N", type = "integer",
      help = "at most N events (default: all)" },
    { "--order", metavar = "ORDER", default = "asc", choices = { "asc", "desc" },
      help = "oldest (asc) or newest (desc) first" },
  }),
  run = function(opts)
    if opts.limit and opts.limit < 0 then
      error(cli.usage_error(("option '--limit' must not be negative (got %d)")
        :format(opts.limit)), 0)
    end
    timeline.check_format(opts.format)
    local paths = cmd.db_paths(opts, { demo = true })
    local labels = pairs_of("--label", opts.label)
    local devices = pairs_of("--device", opts.device)
    local now = filter_args.clock()
    local filter = filter_args.filter(opts, now)
    filter.order = opts.order

    local count = timeline.write{
      paths = paths, labels = labels, devices = devices, skew = opts.skew,
      format = opts.format, filter = filter, limit = opts.limit,
      order = opts.order, output = opts.output, now = now,
      prefix = "synclua timeline",
    }
    if opts.output then
      print(("Exported %d events to %s"):format(count, opts.output))
    end
  end,
}
