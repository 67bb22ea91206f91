--- synclua.filter_args: the query options that the commands reading
-- events share (--since, --until, --event-type, --category,
-- --correlation-id, --severity, --peer, --model-type), checked in
-- Spacedrive's order with its messages, and turned into a log:events
-- filter; plus the clock (SYNCLUA_NOW) and an output writer whose failure
-- ends the command.
local synclua = require "synclua"
local runner = require "synclua.runner"

local M = {}

--- End the command with exit 2 and `message` (bad input).
-- @tparam string message names the input and what is wrong
function M.invalid(message)
  error(runner.failure("invalid", message), 0)
end
local invalid = M.invalid

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

--- A UUID in any form the uuid crate reads (hyphenated, simple, braced,
-- urn), lowercase hyphenated; nil when it is not one.
-- @tparam string text
-- @treturn string|nil
function M.uuid(text)
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

local uuid = M.uuid

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

--- The current time, or SYNCLUA_NOW's (a time, for reproducible output).
-- @treturn integer instant
function M.clock()
  local fixed = os.getenv("SYNCLUA_NOW")
  if not fixed or fixed == "" then return synclua.now() end
  local t, err = synclua.parse_time(fixed)
  if not t then invalid("SYNCLUA_NOW: " .. err) end
  return t
end

--- The query the options ask for, checked in Spacedrive's order (since,
-- event type, correlation id, severity), then ours; a bad value ends the
-- command (exit 2) with Spacedrive's message. `--since` alone means
-- [since, now], as Spacedrive sends it.
-- @tparam table opts parsed options
-- @tparam integer now the current instant
-- @treturn table a filter for log:events
function M.filter(opts, now)
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

--- `out` for the exporters: a file whose failed write ends the command
-- (exit 3) with the file's name.
-- @param file an open file
-- @tparam string name the file's name, for the message
-- @treturn table an object with write(self, s)
function M.writer(file, name)
  return {
    write = function(_, s)
      local ok, err = file:write(s)
      if not ok then error(runner.failure("ioerr", name .. ": " .. err), 0) end
    end,
  }
end

--- The options' declarations, for a command's `args` (see M.with).
M.args = {
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
}

--- A command's args: `before`, then the filter options, then `after`.
-- @tparam table before declarations
-- @tparam table after declarations
-- @treturn table the whole list
function M.with(before, after)
  local all = {}
  for _, list in ipairs{ before, M.args, after } do
    for _, a in ipairs(list) do all[#all + 1] = a end
  end
  return all
end

return M
