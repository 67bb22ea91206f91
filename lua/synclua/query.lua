--- synclua.query: the query options of the commands that select events
-- (--event-type, --category, --correlation-id, --severity, --peer,
-- --model-type, --device), declared once with Spacedrive's messages, and the
-- log:events filter they ask for. The window (--since, --until) is the
-- frame's (synclua.window).
--
--     local options = query.options()         -- entries for a declaration
--     local filter = ctx.window:filter(query.filter(ctx.opts))
local synclua = require "synclua"
local cli = require "synclua.cli"

local M = {}

--- A copy of a log:events filter (nil: an empty one) with `extra`'s fields
-- set on it: the caller's table stays as it was.
-- @tparam[opt] table filter
-- @tparam[opt] table extra
-- @treturn table
function M.with(filter, extra)
  local f = {}
  for k, v in pairs(filter or {}) do f[k] = v end
  for k, v in pairs(extra or {}) do f[k] = v end
  return f
end

local function member(list, name)
  for _, v in ipairs(list) do
    if v == name then return true end
  end
  return false
end

local function event_type(v)
  if synclua.event_type_info(v) then return v end
  return nil, ("Invalid event type: %s (valid: %s)%s"):format(v,
    table.concat(synclua.event_types, ", "),
    cli.did_you_mean(v, synclua.event_types):gsub("^ %((.*)%)$", "; %1"))
end

local function category(v)
  if member(synclua.categories, v) then return v end
  return nil, ("Invalid category: %s (valid: %s)"):format(v,
    table.concat(synclua.categories, ", "))
end

local function severity(v)
  local ok, err = synclua.severity_set(v)
  if ok then return v end
  return nil, err
end

local function model_type(v)
  if v == "" or v:find(",", 1, true) then
    return nil, ("--model-type: one model type, without ',' (got '%s')")
      :format(v)
  end
  return v
end

--- The options' declarations, in Spacedrive's order of checks (event
-- type, correlation id, severity), then ours: a fresh list to extend.
-- @treturn table
function M.options()
  return {
    { "--event-type", metavar = "TYPE", repeatable = true, list = true,
      check = event_type, values = synclua.event_types,
      help = "Filter by event type (state_transition, "
        .. "backfill_session_started, etc.)" },
    { "--correlation-id", type = "uuid", what = "correlation ID",
      help = "Filter by correlation ID to trace a specific backfill session" },
    { "--severity", metavar = "LEVEL", repeatable = true, list = true,
      check = severity, values = { "debug", "info", "warning", "error",
                                   "debug+", "info+", "warning+" },
      help = "Filter by severity level (debug, info, warning, error; "
        .. "'warning+': that and above)" },
    { "--category", metavar = "CATEGORY", repeatable = true, list = true,
      check = category, values = synclua.categories,
      help = "Filter by category (lifecycle, data_flow, network, error)" },
    { "--peer", type = "uuid", what = "peer ID",
      help = "Filter by peer device" },
    { "--model-type", metavar = "MODEL", check = model_type,
      help = "Filter by model type (one of the event's model types)" },
    { "--device", type = "uuid", what = "device ID",
      help = "Only this device's events, as Spacedrive's query selects its "
        .. "own (device_id stored lowercase and hyphenated)" },
  }
end

--- The log:events filter the parsed options ask for (no window, no
-- limit).
-- @tparam table opts
-- @treturn table
function M.filter(opts)
  local f = {}
  if opts.event_type and #opts.event_type > 0 then
    f.event_types = opts.event_type
  end
  if opts.severity and #opts.severity > 0 then f.severities = opts.severity end
  if opts.category and #opts.category > 0 then f.categories = opts.category end
  f.correlation_id = opts.correlation_id
  f.peer = opts.peer
  f.model_type = opts.model_type
  f.device = opts.device
  return f
end

return M
