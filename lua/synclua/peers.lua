--- synclua.peers: peer selections read back from their events (the second
-- backfill_session_started of a backfill session, whose details list the
-- candidates), scored again with Spacedrive's formula. Spacedrive's own
-- rows log no score and may lack keys; synclua's log one. Used by every
-- report about peers (which_peer, peers).
--
--     local sel = peers.selection(ev)
--     if sel then print(sel.formula, sel.logged, sel.candidates[1].score) end
local synclua = require "synclua"

local M = {}

local function num(v)
  return type(v) == "number" and v or nil
end

--- A logged candidate read defensively: { index, device_id (the logged
-- text, or nil), key (its lowercase id, or "candidate I"), is_online,
-- has_complete_state (JSON true only), latency_ms, active_syncs, selected,
-- logged_score }.
-- @param raw a decoded element of details.candidates
-- @tparam integer i its index
-- @treturn table
function M.candidate(raw, i)
  raw = type(raw) == "table" and raw or {}
  local active = num(raw.active_syncs) or 0
  local id = type(raw.device_id) == "string" and raw.device_id or nil
  return {
    index = i, device_id = id,
    key = id and id:lower() or ("candidate " .. i),
    is_online = raw.is_online == true,
    has_complete_state = raw.has_complete_state == true,
    latency_ms = num(raw.latency_ms) or 0,
    active_syncs = math.tointeger(active) or math.floor(active),
    selected = raw.selected == true,
    logged_score = num(raw.score),
  }
end

--- The peer selection an event logged, or nil when it lists no candidate:
-- { candidates (each with its `score` by Spacedrive's formula), formula
-- (the index the formula chooses, or nil when none is online), logged (the
-- index the event chose: the first candidate marked selected, else the one
-- that is the event's peer; or nil), how ("selected" or
-- "peer_device_id"), marked (how many are marked selected), peer (the
-- event's peer, lowercase) }.
-- @tparam table ev an event
-- @treturn table|nil
function M.selection(ev)
  local d = type(ev.details) == "table" and ev.details
  if not d or type(d.candidates) ~= "table" or #d.candidates == 0 then
    return nil
  end
  local cands, clean = {}, {}
  for i, raw in ipairs(d.candidates) do
    local c = M.candidate(raw, i)
    cands[i] = c
    clean[i] = { device_id = c.key, is_online = c.is_online,
                 has_complete_state = c.has_complete_state,
                 latency_ms = c.latency_ms, active_syncs = c.active_syncs }
  end
  local formula, scores = synclua.select_peer(clean)
  scores = formula and scores or {}
  for i, c in ipairs(cands) do
    c.score = scores[i] or synclua.peer_score(clean[i])
  end
  local s = { candidates = cands, formula = formula, marked = 0,
              peer = ev.peer_device_id and ev.peer_device_id:lower() }
  for i, c in ipairs(cands) do
    if c.selected then
      s.marked = s.marked + 1
      s.logged = s.logged or i
    end
  end
  if s.logged then s.how = "selected"
  elseif s.peer then
    for i, c in ipairs(cands) do
      if c.key == s.peer then s.logged = i end
    end
    if s.logged then s.how = "peer_device_id" end
  end
  return s
end

--- A latency as the reports print it: milliseconds to two decimals, no
-- trailing zeros ("18.91", "100").
-- @tparam number v
-- @treturn string
function M.latency_text(v)
  local s = ("%.2f"):format(v)
  return (s:gsub("0+$", ""):gsub("%.$", ""))
end

return M
