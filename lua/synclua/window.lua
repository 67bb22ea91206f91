--- synclua.window: the time window of a command (DESIGN.md "The command
-- line", Window). `--since` and `--until` mean the same on every command,
-- by instant: both given, [since, until]; `--since` alone, [since, now]
-- (as Spacedrive's `sd sync events` sends it); `--until` alone, everything
-- up to it; neither, everything. The window and each device's events in it
-- are stated, and a window with no events is never a clean verdict:
-- `no events between A and B (the log spans C to D)`.
--
--     local w = window.new(opts.since, opts["until"], now)
--     local f = w:filter{ event_type = "sync_error" }   -- a log:events filter
--     local s = w:survey(set)       -- counts per source, the logs' span
--     if s.events == 0 then print(w:no_data(s)) end
local synclua = require "synclua"
local runner = require "synclua.runner"
local fmt = require "synclua.fmt"

local M = {}

local Window = {}
Window.__index = Window

--- A window from the options' instants (nil: open on that side). `since`
-- after `until` ends the command (exit 2).
-- @tparam integer|nil since
-- @tparam integer|nil until_ (a --since later than now is an empty window,
--   as Spacedrive sends it, not an error)
-- @tparam integer now the current instant (SYNCLUA_NOW's)
-- @treturn table the window: since, until (instants or nil), now
function M.new(since, until_, now)
  local given = until_ ~= nil
  if since and not until_ then until_ = now end
  if since and given and since > until_ then
    error(runner.failure("invalid", ("--since (%s) is after --until (%s)")
      :format(fmt.clock(since), fmt.clock(until_))), 0)
  end
  return setmetatable({ since = since, ["until"] = until_, now = now,
                        until_given = given }, Window)
end

--- Is the window bounded at all?
-- @treturn boolean
function Window:bounded()
  return self.since ~= nil or self["until"] ~= nil
end

--- A copy of `extra` (a log:events filter) with the window's bounds, where
-- `extra` sets none of its own.
-- @tparam[opt] table extra
-- @treturn table
function Window:filter(extra)
  local f = {}
  for k, v in pairs(extra or {}) do f[k] = v end
  if f.since == nil then f.since = self.since end
  if f["until"] == nil then f["until"] = self["until"] end
  return f
end

--- The filter for the rows a follower sees committed from now on: as
-- `filter`, but --since alone leaves them unbounded (it means "until now"
-- only for the rows there are now).
-- @tparam[opt] table extra
-- @treturn table
function Window:live_filter(extra)
  local f = self:filter(extra)
  if not self.until_given and (extra or {})["until"] == nil then
    f["until"] = nil
  end
  return f
end

-- The first instant of a store's log in `order`, or nil.
local function edge(log, order)
  for ev in log:events{ order = order, raw = true, limit = 50 } do
    if ev.instant then return ev.instant end
  end
  return nil
end

--- What the window holds of each source: { events = total, devices = {
-- { label, device, events }, ... }, first, last } (first and last: the
-- oldest and newest instants of the logs, whatever the window).
-- @tparam table set the sources (synclua.inputs)
-- @treturn table
function Window:survey(set)
  local s = { events = 0, devices = synclua.array() }
  local f = self:filter()
  for _, src in ipairs(set) do
    local n = src.log:count(f)
    s.events = s.events + n
    s.devices[#s.devices + 1] = { label = src.label,
                                  device = src.device or synclua.null,
                                  events = n }
    local a, b = edge(src.log, "asc"), edge(src.log, "desc")
    if a and (not s.first or a < s.first) then s.first = a end
    if b and (not s.last or b > s.last) then s.last = b end
  end
  return s
end

-- "2025-12-01 10:15:00", or the words for an open side.
local function bound(instant, open)
  return instant and fmt.clock(instant) or open
end

--- The window in words: "all events", "from A to B", "until B".
-- @treturn string
function Window:text()
  if not self:bounded() then return "all events" end
  if not self.since then return "until " .. bound(self["until"]) end
  return ("from %s to %s"):format(bound(self.since), bound(self["until"]))
end

--- The window as a header line: "window: from A to B (UTC)".
-- @treturn string
function Window:line()
  return ("window: %s (UTC)"):format(self:text())
end

--- The header line of a report: the window and each device's events in it.
-- @tparam table s a survey
-- @treturn string
function Window:header(s)
  local parts = {}
  for _, d in ipairs(s.devices) do
    parts[#parts + 1] = ("%s %s"):format(d.label, fmt.number(d.events))
  end
  return ("%s; %s: %s"):format(self:line(),
    fmt.plural(s.events, "event"), table.concat(parts, ", "))
end

--- The verdict when the window holds no events.
-- @tparam table s a survey
-- @treturn string
function Window:no_data(s)
  local span = s.first and ("the log spans %s to %s"):format(
    fmt.clock(s.first), fmt.clock(s.last)) or "the log is empty"
  if not self:bounded() then return ("no events (%s)"):format(span) end
  if not self.since then
    return ("no events until %s (%s)"):format(bound(self["until"]), span)
  end
  return ("no events between %s and %s (%s)"):format(bound(self.since),
    bound(self["until"]), span)
end

--- The window as JSON data: since, until (RFC 3339 or null), the events
-- in it and per device.
-- @tparam table s a survey
-- @treturn table
function Window:json(s)
  local function t(instant)
    return instant and synclua.format_time(instant, true) or synclua.null
  end
  return { since = t(self.since), ["until"] = t(self["until"]),
           events = s.events, devices = s.devices,
           log_first = t(s.first), log_last = t(s.last) }
end

return M
