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
local synclua = require "synclua"
local cmd = require "synclua.cmd"
local cli = require "synclua.cli"
local runner = require "synclua.runner"

-- Format names (Spacedrive's, case-sensitive, then ours) -> exporter.
local EXPORTERS = {
  json = "json", sql = "sql", markdown = "markdown", md = "markdown",
  ndjson = "ndjson", csv = "csv",
}

-- Formats whose output ends with its own line terminator: printed as is,
-- without the newline Spacedrive's println adds to json, sql and markdown.
local TERMINATED = { ndjson = true, csv = true }

local function invalid(message)
  error(runner.failure("invalid", message), 0)
end

-- Every value of a repeatable option, split at commas, trimmed.
local function items(values)
  local out = {}
  for _, v in ipairs(values) do
    for item in (v .. ","):gmatch("(.-),") do
      out[#out + 1] = item:match("^%s*(.-)%s*$")
    end
  end
  return out
end

local function member(list, name)
  for _, v in ipairs(list) do
    if v == name then return true end
  end
  return false
end

-- A UUID in any form the uuid crate reads (hyphenated, simple, braced,
-- urn), lowercase hyphenated; nil when it is not one.
local function uuid(text)
  local s = text:lower()
  s = s:match("^urn:uuid:(.*)$") or s:match("^{(.*)}$") or s
  if #s == 32 and s:match("^%x+$") then
    s = ("%s-%s-%s-%s-%s"):format(s:sub(1, 8), s:sub(9, 12), s:sub(13, 16),
                                  s:sub(17, 20), s:sub(21))
  end
  if #s == 36 and s:match("^%x+%-%x+%-%x+%-%x+%-%x+$")
     and s:sub(9, 9) == "-" and s:sub(14, 14) == "-"
     and s:sub(19, 19) == "-" and s:sub(24, 24) == "-" then
    return s
  end
  return nil
end

local function check_uuid(option, what, text)
  local id = uuid(text)
  if not id then
    invalid(("Invalid %s: %s (%s expects a UUID, e.g. "
             .. "67e55044-10b1-426f-9247-bb680e5fe0c8)"):format(what, text,
                                                                 option))
  end
  return id
end

local function point(option, text, now)
  local t, err = synclua.parse_time(text, now)
  if not t then invalid(option .. ": " .. err) end
  return t
end

-- The current time, or SYNCLUA_NOW's.
local function clock()
  local fixed = os.getenv("SYNCLUA_NOW")
  if not fixed or fixed == "" then return synclua.now() end
  local t, err = synclua.parse_time(fixed)
  if not t then invalid("SYNCLUA_NOW: " .. err) end
  return t
end

-- The query the options ask for, checked in Spacedrive's order (since,
-- event type, correlation id, severity), then ours.
local function filter_of(opts, now)
  local f = { limit = opts.limit }
  if opts.since then
    f.since = point("--since", opts.since, now)
    f["until"] = now                    -- [since, now], as Spacedrive sends
  end
  local types = items(opts.event_type)
  for _, t in ipairs(types) do
    if not synclua.event_type_info(t) then
      invalid(("Invalid event type: %s (valid: %s)")
        :format(t, table.concat(synclua.event_types, ", ")))
    end
  end
  if #types > 0 then f.event_types = types end
  if opts.correlation_id then
    f.correlation_id = check_uuid("--correlation-id", "correlation ID",
                                  opts.correlation_id)
  end
  local severities = items(opts.severity)
  for _, s in ipairs(severities) do
    local ok, err = synclua.severity_set(s)
    if not ok then invalid(err) end
  end
  if #severities > 0 then f.severities = severities end
  if opts["until"] then f["until"] = point("--until", opts["until"], now) end
  local categories = items(opts.category)
  for _, c in ipairs(categories) do
    if not member(synclua.categories, c) then
      invalid(("Invalid category: %s (valid: %s)")
        :format(c, table.concat(synclua.categories, ", ")))
    end
  end
  if #categories > 0 then f.categories = categories end
  if opts.peer then f.peer = check_uuid("--peer", "peer ID", opts.peer) end
  if opts.model_type then
    if opts.model_type:find(",", 1, true) or opts.model_type == "" then
      invalid(("--model-type: one model type, without ',' (got '%s')")
        :format(opts.model_type))
    end
    f.model_type = opts.model_type
  end
  return f
end

-- `out` for the exporters: a file whose failed write ends the command
-- (exit 3) with the file's name.
local function writer(file, name)
  return {
    write = function(_, s)
      local ok, err = file:write(s)
      if not ok then error(runner.failure("ioerr", name .. ": " .. err), 0) end
    end,
  }
end

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
  args = {
    cmd.db_arg,
    { "-f", "--format", metavar = "FORMAT", default = "json",
      help = "Output format: json, sql, or markdown (also md, ndjson, csv)" },
    { "-o", "--output", metavar = "FILE",
      help = "Write output to file instead of stdout" },
    { "--since", metavar = "TIME",
      help = "Show events since (e.g., '1 hour ago', '2025-12-03 10:00:00')" },
    { "--until", metavar = "TIME", help = "Show events until (same forms)" },
    { "--event-type", metavar = "TYPE", repeatable = true,
      help = "Filter by event type (state_transition, "
        .. "backfill_session_started, etc.)" },
    { "--category", metavar = "CATEGORY", repeatable = true,
      help = "Filter by category (lifecycle, data_flow, network, error)" },
    { "--correlation-id", metavar = "UUID",
      help = "Filter by correlation ID to trace a specific backfill session" },
    { "--severity", metavar = "LEVEL", repeatable = true,
      help = "Filter by severity level (debug, info, warning, error)" },
    { "--peer", metavar = "UUID", help = "Filter by peer device" },
    { "--model-type", metavar = "MODEL",
      help = "Filter by model type (one of the event's model types)" },
    { "--limit", metavar = "N", type = "integer", default = 1000,
      help = "Maximum number of events" },
    { "--with-device", flag = true,
      help = "Include device name/ID in output" },
    { "--all-devices", flag = true,
      help = "Accepted as Spacedrive accepts it (where it has no effect); "
        .. "every device's events in the store are shown" },
  },
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
    local now = clock()
    local filter = filter_of(opts, now)
    local format = EXPORTERS[opts.format]
    if not format then
      invalid(("Unknown format: %s. Use json, sql, markdown, ndjson or csv")
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
    out = writer(file, opts.output or "stdout")
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
