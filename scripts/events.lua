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
local cmd = require "synclua.cmd"
local cli = require "synclua.cli"
local runner = require "synclua.runner"
local filter_args = require "synclua.filter_args"

-- Format names (Spacedrive's, case-sensitive, then ours) -> exporter.
local EXPORTERS = {
  json = "json", sql = "sql", markdown = "markdown", md = "markdown",
  ndjson = "ndjson", csv = "csv",
}

-- Formats whose output ends with its own line terminator: printed as is,
-- without the newline Spacedrive's println adds to json, sql and markdown.
local TERMINATED = { ndjson = true, csv = true }

local function warn(message)
  io.stderr:write("synclua events: warning: ", message, "\n")
end

return {
  name = "events",
  description = "Export events as Spacedrive does (json, sql, markdown), "
    .. "or as ndjson or csv",
  epilog = "Newest first. Times: '1 hour ago', '2h', 'yesterday', "
    .. "'2025-12-03 10:00:00' (UTC),\nRFC 3339, '@1733220000'. Several "
    .. "types, categories or severities: repeat the\noption or separate "
    .. "them with commas; severity 'warning+' means warning and above.\n"
    .. "SYNCLUA_NOW=<time> stands in for the current time (reproducible "
    .. "output).",
  args = filter_args.with({
    cmd.db_arg,
    { "-f", "--format", metavar = "FORMAT", default = "json",
      help = "Output format: json, sql, or markdown (also md, ndjson, csv)" },
    { "-o", "--output", metavar = "FILE",
      help = "Write output to file instead of stdout" },
  }, {
    { "--limit", metavar = "N", type = "integer", default = 1000,
      help = "Maximum number of events" },
    { "--with-device", flag = true,
      help = "Include device name/ID in output" },
    { "--all-devices", flag = true,
      help = "Accepted as Spacedrive accepts it (where it has no effect); "
        .. "every device's events in the store are shown" },
  }),
  run = function(opts)
    if opts.limit < 0 then
      error(cli.usage_error(("option '--limit' must not be negative (got %d)")
        :format(opts.limit)), 0)
    end
    local paths = cmd.db_paths(opts)
    if #paths > 1 then
      error(cli.usage_error(("--db given %d times: events reads one store "
        .. "(several devices: synclua timeline)"):format(#paths)), 0)
    end
    local now = filter_args.clock()
    local filter = filter_args.filter(opts, now)
    local format = EXPORTERS[opts.format]
    if not format then
      filter_args.invalid(("Unknown format: %s. Use json, sql, markdown, "
        .. "ndjson or csv")
        :format(opts.format))
    end
    local exporter = require("exporters." .. format)

    local log <close> = cmd.open(paths[1])
    local file, out = io.stdout, nil
    if opts.output then
      local err
      file, err = io.open(opts.output, "wb")
      if not file then error(runner.failure("ioerr", err), 0) end
    end
    out = filter_args.writer(file, opts.output or "stdout")
    local count, cur = exporter.export(out, log, filter, {
      with_device = opts.with_device, now = now })
    if opts.output then
      local ok, err = file:close()
      if not ok then
        error(runner.failure("ioerr", opts.output .. ": " .. err), 0)
      end
      print(("Exported %d events to %s"):format(count, opts.output))
    else
      if not TERMINATED[format] then out:write("\n") end
      local ok, err = io.stdout:flush()
      if not ok then error(runner.failure("ioerr", "stdout: " .. err), 0) end
    end
    if cur:untimed() > 0 then
      warn(("%d events have timestamps that do not parse: they come last, "
        .. "with the stored text (see synclua check)"):format(cur:untimed()))
    end
    if cur:unparsable() > 0 then
      warn(("%d events left out: their timestamps do not parse, so the "
        .. "time range cannot place them (see synclua check)")
        :format(cur:unparsable()))
    end
  end,
}
