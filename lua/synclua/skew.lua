--- synclua.skew: how far each device's clock is from a reference device's,
-- estimated from the logs themselves, with NTP-style bounds; the clock-skew
-- part of `synclua timeline`.
--
--     local skew = require "synclua.skew"
--     local r = skew.estimate{ { store = laptop, device = id1, label = "laptop" },
--                              { store = phone, device = id2, label = "phone" } }
--     for _, line in ipairs(skew.describe(r)) do print(line) end
--     -- subtract r.devices[i].offset_ns from device i's instants
--
-- A device's clock reads true time plus its offset: c_X(t) = t + off_X.
-- Offsets are relative to the first store (the reference, offset 0).
--
-- Causal pairs. A backfill or catch-up session's correlation id is on the
-- requester's backfill_request_sent, batch_ingestion and session-completed
-- events and on the responder's backfill_request_received and
-- backfill_response_sent. A receipt happens after its send in true time, so
-- a send at s on device S and an event at r on device R that comes after
-- the receipt give  off_R - off_S <= r - s.  Per session the k-th request
-- sent (requester clock) pairs with the k-th request received (responder
-- clock), which bounds off_responder - off_requester from above; the k-th
-- response sent pairs with the requester's earliest session event that
-- proves the response had arrived, which bounds it from below. Proof of
-- arrival is: a later request of the session (pages are requested one after
-- the other), the session's completion (backfill_session_completed,
-- catch_up_session_completed), or a batch_ingestion from that peer whose
-- running total of the session's records exceeds what responses 1..k-1
-- carried (it holds a record of response k or later). A batch stamped on
-- the 30 s grid before the response arrived never qualifies, and a failed
-- session's last, unanswered request still bounds from above. A session is
-- used only when its requests sent and received are as many, its model
-- types agree, and the responder's events alternate received, sent.
-- Per pair of devices: low = the greatest lower bound, high = the least
-- upper bound; low > high is a contradiction (reported in `violations`).
--
-- Coincidences. peer_connected and peer_disconnected are logged by both ends
-- of a link at about the same true instant; they are no causal proof, so
-- they are used only for a pair of devices that causal pairs do not bound
-- on both sides. The differences (B's instant - A's) of every same-type
-- pair of events within `search_ns` (1 hour) are sorted, the window of
-- width 2 * coincidence_ns (2 s) holding the most of them gives the
-- candidate offset c, and each of A's events is matched one to one to the
-- nearest unmatched B event of that type within coincidence_ns of A + c.
-- Assuming both ends log a link change within coincidence_ns (1 s) of each
-- other, each match m bounds the offset to [m - 1 s, m + 1 s]; their
-- intersection is the pair's interval (at least 2 matches are needed).
-- With a one-sided causal bound the interval is cut at it (and, if it lies
-- wholly beyond it, becomes [bound, bound + 2 s] on the open side).
--
-- Propagation. Pairs with a finite interval are the edges of a graph;
-- each device takes the path from the reference of least total width
-- (Dijkstra; ties: fewer hops, then the earlier store), intervals adding
-- along it; the estimate is the midpoint. Only the filtered queries below
-- are read, never a whole store: per store, the request and response events
-- (responders) and the link events per peer; per session, its requester's
-- requests, batches and completion by correlation id.
local fmt = require "synclua.fmt"
local plural = fmt.plural

local M = {}

local SEC = 1000000000
local MS = 1000000

--- A device whose bound is at most this wide (ns) is "tight".
M.TIGHT_NS = 100 * MS

--- How close in true time both ends of a link are assumed to log a
-- peer_connected / peer_disconnected (ns).
M.COINCIDENCE_NS = SEC

--- How far apart (ns) two clocks may be for their link events to match.
M.SEARCH_NS = 3600 * SEC

--- Matched link events a pair of devices needs to be linked by them.
M.MIN_MATCHES = 2

local RESPONDER_TYPES = { "backfill_request_received",
                          "backfill_response_sent" }
local REQUESTER = { backfill_request_sent = true, batch_ingestion = true,
                    backfill_session_completed = true,
                    catch_up_session_completed = true }
local LINK_TYPES = { "peer_connected", "peer_disconnected" }

-- ------------------------------------------------------------- arguments

local function typename(v)
  local mt = getmetatable(v)
  if type(mt) == "table" and type(mt.__name) == "string" then
    return mt.__name
  end
  return type(v)
end

-- The stores argument, checked, as a list of { store, device (lowercase),
-- given (as given), label, index }. Raises at the public function's caller.
local function check_stores(stores, fname)
  local function bad(fmt, ...)
    error(("bad argument #1 to '%s' (" .. fmt .. ")"):format(fname, ...), 4)
  end
  if type(stores) ~= "table" then
    bad("table expected, got %s", typename(stores))
  end
  if #stores == 0 then bad("list of stores expected, got an empty table") end
  local list, seen = {}, {}
  for i, e in ipairs(stores) do
    if type(e) ~= "table" then
      bad("stores[%d]: table expected, got %s", i, typename(e))
    end
    if typename(e.store) ~= "synclua.Store" then
      bad("stores[%d].store: synclua.Store expected, got %s", i,
          typename(e.store))
    end
    if type(e.device) ~= "string" or e.device == "" then
      bad("stores[%d].device: non-empty string expected, got %s", i,
          e.device == "" and "an empty string" or typename(e.device))
    end
    if e.label ~= nil and type(e.label) ~= "string" then
      bad("stores[%d].label: string expected, got %s", i, typename(e.label))
    end
    local dev = e.device:lower()
    if seen[dev] then
      bad("stores[%d].device: %s is also stores[%d]'s", i, e.device,
          seen[dev])
    end
    seen[dev] = i
    list[i] = { store = e.store, device = dev, given = e.device,
                label = e.label or fmt.short(e.device), index = i }
  end
  -- A store given for several devices (a combined one) is read per device.
  local users = {}
  for _, e in ipairs(list) do users[e.store] = (users[e.store] or 0) + 1 end
  for _, e in ipairs(list) do e.shared = users[e.store] > 1 end
  return list
end

local OPTS = { coincidence_ns = true, search_ns = true, tight_ns = true }

local function check_opts(opts, fname)
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then
    error(("bad argument #2 to '%s' (table expected, got %s)")
      :format(fname, typename(opts)), 3)
  end
  for k, v in pairs(opts) do
    if not OPTS[k] then
      error(("bad argument #2 to '%s' (unknown option '%s')")
        :format(fname, tostring(k)), 3)
    end
    if math.type(v) ~= "integer" or v <= 0 then
      error(("bad argument #2 to '%s' (%s: positive integer expected)")
        :format(fname, k), 3)
    end
  end
  return {
    coincidence = opts.coincidence_ns or M.COINCIDENCE_NS,
    search = opts.search_ns or M.SEARCH_NS,
    tight = opts.tight_ns or M.TIGHT_NS,
  }
end

-- ----------------------------------------------------------- causal pairs

local function lower(s)
  return s and s:lower()
end

-- Is the event e's device's? Every row of a store of its own is; in a
-- store given for several devices, those with e's device id.
local function owns(e, ev)
  return not e.shared or lower(ev.device_id) == e.device
end

-- The fields of an event a pair keeps.
local function mark(ev, e)
  return { id = ev.id, device = e.given, label = e.label, index = e.index,
           event_type = ev.event_type, instant = ev.instant }
end

local function model_of(ev)
  return ev.model_types and ev.model_types[1]
end

-- The responder side of every session: per store, its
-- backfill_request_received and backfill_response_sent events whose
-- requester is another of the stores, grouped by (correlation id,
-- requester), in the order sessions first appear.
local function responder_sessions(list, index_of)
  local sessions = {}
  for j, b in ipairs(list) do
    local by_key = {}
    for ev in b.store:events{ event_types = RESPONDER_TYPES, order = "asc",
                              raw = true } do
      local cid, i = ev.correlation_id, index_of[lower(ev.peer_device_id)]
      if cid and i and i ~= j and ev.instant and owns(b, ev) then
        local key = cid .. "\0" .. i
        local s = by_key[key]
        if not s then
          s = { cid = cid, i = i, j = j, recv = {}, resp = {}, ok = true }
          by_key[key] = s
          sessions[#sessions + 1] = s
        end
        if s.ok then
          local recv, resp = s.recv, s.resp
          if ev.event_type == "backfill_request_received" then
            -- every request before this one has had its response
            if #resp ~= #recv then s.ok = false end
            recv[#recv + 1] = { ev = mark(ev, b), model = model_of(ev) }
          else
            if #resp ~= #recv - 1 then s.ok = false end
            resp[#resp + 1] = { ev = mark(ev, b), count = ev.record_count }
          end
        end
      end
    end
  end
  return sessions
end

-- One session's pairs, from its requester's events; calls emit for each
-- (requests first, then responses), or for none when the two logs do not
-- line up.
local function session_pairs(s, list, emit)
  local a, b = list[s.i], list[s.j]
  local recv, resp = s.recv, s.resp
  -- prefix[k]: records responses 1..k carried (nil once one is unknown)
  local prefix = { [0] = 0 }
  for k = 1, #resp do
    local c = resp[k].count
    prefix[k] = prefix[k - 1] and c and prefix[k - 1] + c or nil
  end
  local reqs, found, k, total = {}, {}, 1, 0
  -- By correlation id alone: with event types too, SQLite would walk the
  -- (event_type, timestamp) index through every batch of the store.
  for ev in a.store:events{ correlation_id = s.cid, order = "asc",
                            raw = true } do
    local t, peer = ev.event_type, lower(ev.peer_device_id)
    local limit = 0            -- responses this event proves arrived
    if not ev.instant or not REQUESTER[t] or not owns(a, ev) then
      limit = 0
    elseif t == "backfill_request_sent" then
      if peer == b.device then
        reqs[#reqs + 1] = { ev = mark(ev, a), model = model_of(ev) }
        limit = #reqs - 1
      end
    elseif t == "batch_ingestion" then
      if peer == b.device and ev.record_count then
        total = total + ev.record_count
        limit = #reqs
        while limit >= k and not (prefix[limit - 1]
                                  and prefix[limit - 1] < total) do
          limit = limit - 1
        end
      end
    elseif peer == nil or peer == b.device then  -- the session completed
      limit = #reqs
    end
    while k <= #resp and k <= limit do
      found[k] = mark(ev, a)
      k = k + 1
    end
  end
  if #reqs ~= #recv then return end
  for n = 1, #reqs do
    local m1, m2 = reqs[n].model, recv[n].model
    if m1 and m2 and m1 ~= m2 then return end
  end
  for n = 1, #reqs do
    emit{ kind = "request", correlation_id = s.cid, n = n,
          send = reqs[n].ev, receive = recv[n].ev }
  end
  for n = 1, k - 1 do
    emit{ kind = "response", correlation_id = s.cid, n = n,
          send = resp[n].ev, receive = found[n] }
  end
end

-- Every causal pair among the stores, in a fixed order: emit(pair) with
-- pair = { kind = "request" | "response", correlation_id, n (the k-th
-- request of the session, or the response to it), send, receive },
-- send and receive = { id, device, label, index, event_type, instant }.
local function each_pair(list, emit)
  local index_of = {}
  for i, e in ipairs(list) do index_of[e.device] = i end
  for _, s in ipairs(responder_sessions(list, index_of)) do
    if s.ok then session_pairs(s, list, emit) end
  end
end

-- ------------------------------------------------------------ coincidences

-- A store's link events, once: per peer (lowercase), instants by type,
-- oldest first. One query by type (a filter by peer would walk the peer's
-- batches too).
local function link_events(e, peer)
  if not e.links then
    e.links = {}
    for ev in e.store:events{ event_types = LINK_TYPES, order = "asc",
                              raw = true } do
      local p = lower(ev.peer_device_id)
      if p and ev.instant and owns(e, ev) then
        local by = e.links[p]
        if not by then
          by = { peer_connected = {}, peer_disconnected = {} }
          e.links[p] = by
        end
        local l = by[ev.event_type]
        l[#l + 1] = ev.instant
      end
    end
  end
  return e.links[peer] or { peer_connected = {}, peer_disconnected = {} }
end

-- Link events of devices a and b matched as described at the top; returns
-- { low, high, matches } bounding off_b - off_a, or nil.
local function coincidences(a, b, o)
  local A, B = link_events(a, b.device), link_events(b, a.device)
  local tol, search = o.coincidence, o.search
  local diffs = {}
  for _, t in ipairs(LINK_TYPES) do
    local xs, ys, lo = A[t], B[t], 1
    for _, x in ipairs(xs) do
      while lo <= #ys and ys[lo] < x - search do lo = lo + 1 end
      local q = lo
      while q <= #ys and ys[q] <= x + search do
        diffs[#diffs + 1] = ys[q] - x
        q = q + 1
      end
    end
  end
  if #diffs < M.MIN_MATCHES then return nil end
  table.sort(diffs)
  local best, bl, br, l = 0, 1, 1, 1
  for r = 1, #diffs do
    while diffs[r] - diffs[l] > 2 * tol do l = l + 1 end
    if r - l + 1 > best then best, bl, br = r - l + 1, l, r end
  end
  local c = diffs[(bl + br) // 2]
  local matched = {}
  for _, t in ipairs(LINK_TYPES) do
    local xs, ys, used, lo = A[t], B[t], {}, 1
    for _, x in ipairs(xs) do
      local want = x + c
      while lo <= #ys and ys[lo] < want - tol do lo = lo + 1 end
      local pick, q = nil, lo
      while q <= #ys and ys[q] <= want + tol do
        if not used[q] and (not pick
            or math.abs(ys[q] - want) < math.abs(ys[pick] - want)) then
          pick = q
        end
        q = q + 1
      end
      if pick then
        used[pick] = true
        matched[#matched + 1] = ys[pick] - x
      end
    end
  end
  if #matched < M.MIN_MATCHES then return nil end
  local hi_m, lo_m = math.mininteger, math.maxinteger
  for _, m in ipairs(matched) do
    if m > hi_m then hi_m = m end
    if m < lo_m then lo_m = m end
  end
  return { low = hi_m - tol, high = lo_m + tol, matches = #matched }
end

-- ------------------------------------------------------------- estimating

-- The interval of a pair (i < j) bounding off_j - off_i: causal bounds,
-- completed by coincidences when one or both sides are missing.
-- Returns low, high, method, contradicted; or nil.
local function edge_interval(e, co, tol)
  if e.low and e.high then
    if e.low <= e.high then return e.low, e.high, "causal", false end
    return e.high, e.low, "causal", true
  end
  if not co then return nil end
  if e.low then
    if co.high < e.low then
      return e.low, e.low + 2 * tol, "causal+coincidence", false
    end
    return math.max(co.low, e.low), co.high, "causal+coincidence", false
  elseif e.high then
    if co.low > e.high then
      return e.high - 2 * tol, e.high, "causal+coincidence", false
    end
    return co.low, math.min(co.high, e.high), "causal+coincidence", false
  end
  return co.low, co.high, "coincidence", false
end

--- Estimate each device's clock offset relative to the first store's.
-- `stores` is a list of { store = <open Store>, device = <device id>,
-- label = <name, default: the id's first 8 characters> }, one per device
-- (every row of a store is its device's, unless the same store is given
-- for several devices: then rows go by their device_id);
-- `opts` (optional): coincidence_ns, search_ns, tight_ns (see M.*).
-- Returns { reference = <device>, devices = { entry, ... } (in the stores'
-- order), by_device = { [device] = entry }, links = { ... }, violations =
-- { ... } }. An entry: device, label, offset_ns (to subtract from its
-- instants), low_ns, high_ns (bounds of the offset), pairs (causal pairs on
-- its path), matches (link events matched on it), via (the device before
-- it on its path; nil for the reference and unlinked devices), method
-- ("reference", "causal", "causal+coincidence", "coincidence", or "none"),
-- contradicted (a pair on its path has low > high), confidence
-- ("reference"; "tight" when high - low <= tight_ns; "loose"; "none" when
-- nothing links it: offset 0, bounds nil). A link: a, b, low_ns, high_ns
-- (bounding off_b - off_a), pairs, matches, method, contradicted. A
-- violation: a, b, a_label, b_label, low_ns > high_ns, lower and upper (the
-- pairs that set them: kind, correlation_id, send, receive, each event
-- with id, device, label, index (its store's position), event_type,
-- instant).
-- @tparam table stores
-- @tparam[opt] table opts
-- @treturn table
function M.estimate(stores, opts)
  local list = check_stores(stores, "estimate")
  local o = check_opts(opts, "estimate")
  local n = #list
  local edges = {}
  for i = 1, n do edges[i] = {} end
  each_pair(list, function(p)
    local s, r = p.send.index, p.receive.index
    -- off_r - off_s <= bound
    local bound = p.receive.instant - p.send.instant
    local i, j = s, r
    local e = edges[math.min(i, j)][math.max(i, j)]
    if not e then
      e = { pairs = 0 }
      edges[math.min(i, j)][math.max(i, j)] = e
    end
    e.pairs = e.pairs + 1
    if s < r then                      -- upper bound on off_r - off_s
      if not e.high or bound < e.high then e.high, e.high_pair = bound, p end
    else                               -- lower bound on off_s - off_r
      bound = -bound
      if not e.low or bound > e.low then e.low, e.low_pair = bound, p end
    end
  end)

  local links, violations, adj = {}, {}, {}
  for i = 1, n do adj[i] = {} end
  for i = 1, n do
    for j = i + 1, n do
      local e = edges[i][j] or { pairs = 0 }
      local co
      if not (e.low and e.high) then co = coincidences(list[i], list[j], o) end
      local low, high, method, contra = edge_interval(e, co, o.coincidence)
      if contra then
        violations[#violations + 1] = {
          a = list[i].given, b = list[j].given,
          a_label = list[i].label, b_label = list[j].label,
          low_ns = e.low, high_ns = e.high,
          lower = e.low_pair, upper = e.high_pair,
        }
      end
      if low then
        local link = { a = list[i].given, b = list[j].given, low_ns = low,
                       high_ns = high, pairs = e.pairs,
                       matches = co and co.matches or 0, method = method,
                       contradicted = contra, i = i, j = j }
        links[#links + 1] = link
        adj[i][#adj[i] + 1] = link
        adj[j][#adj[j] + 1] = link
      end
    end
  end

  -- Least total width from the reference (n is small: O(n^2) is fine).
  local width, hops, iv, via, done = { [1] = 0 }, { [1] = 0 }, {}, {}, {}
  iv[1] = { 0, 0, pairs = 0, matches = 0, methods = {}, contra = false }
  while true do
    local u
    for v = 1, n do
      if width[v] and not done[v] and (not u or width[v] < width[u]
          or (width[v] == width[u] and hops[v] < hops[u])) then
        u = v
      end
    end
    if not u then break end
    done[u] = true
    for _, l in ipairs(adj[u]) do
      local v = l.i == u and l.j or l.i
      local w = width[u] + (l.high_ns - l.low_ns)
      if not done[v] and (not width[v] or w < width[v]
          or (w == width[v] and hops[u] + 1 < hops[v])) then
        width[v], hops[v], via[v] = w, hops[u] + 1, u
        -- l bounds off_j - off_i; from u to v it is that or its negation
        local lo, hi = l.low_ns, l.high_ns
        if l.i ~= u then lo, hi = -hi, -lo end
        local p = iv[u]
        local methods = { [l.method] = true }
        for m in pairs(p.methods) do methods[m] = true end
        iv[v] = { p[1] + lo, p[2] + hi, pairs = p.pairs + l.pairs,
                  matches = p.matches + l.matches, methods = methods,
                  contra = p.contra or l.contradicted }
      end
    end
  end

  local result = { reference = list[1].given, devices = {}, by_device = {},
                   links = {}, violations = violations }
  for i, e in ipairs(list) do
    local d = { device = e.given, label = e.label }
    local p = iv[i]
    if i == 1 then
      d.offset_ns, d.low_ns, d.high_ns = 0, 0, 0
      d.pairs, d.matches, d.method, d.confidence = 0, 0, "reference",
                                                   "reference"
      d.contradicted = false
    elseif p then
      d.low_ns, d.high_ns = p[1], p[2]
      d.offset_ns = p[1] + (p[2] - p[1]) // 2
      d.pairs, d.matches = p.pairs, p.matches
      d.via = list[via[i]].given
      d.contradicted = p.contra
      if p.methods.coincidence and not p.methods.causal
         and not p.methods["causal+coincidence"] then
        d.method = "coincidence"
      elseif p.methods.causal and not p.methods.coincidence
             and not p.methods["causal+coincidence"] then
        d.method = "causal"
      else
        d.method = "causal+coincidence"
      end
      d.confidence = (p[2] - p[1] <= o.tight and not p.contra) and "tight"
                     or "loose"
    else
      d.offset_ns, d.pairs, d.matches = 0, 0, 0
      d.method, d.confidence, d.contradicted = "none", "none", false
    end
    result.devices[i] = d
    result.by_device[e.given] = d
  end
  for k, l in ipairs(links) do
    result.links[k] = { a = l.a, b = l.b, low_ns = l.low_ns,
                        high_ns = l.high_ns, pairs = l.pairs,
                        matches = l.matches, method = l.method,
                        contradicted = l.contradicted }
  end
  return result
end

-- ------------------------------------------------------- manual offsets

local USAGE = "expected a signed duration in s or ms, e.g. +1.5s or -250ms"

-- "+1.5s", "-250ms", "0.75s" as integer ns; or nil.
local function parse_offset(text)
  local sign, int, frac, unit = text:match("^([+-]?)(%d*)%.?(%d*)(m?s)$")
  if not sign or (int == "" and frac == "") then return nil end
  local digits = unit == "s" and 9 or 6
  if #frac > digits or #int > (unit == "s" and 9 or 12) then return nil end
  local ns = math.tointeger(tonumber(int == "" and "0" or int, 10))
             * (unit == "s" and SEC or MS)
  if frac ~= "" then
    ns = ns + math.tointeger(tonumber(frac .. ("0"):rep(digits - #frac), 10))
  end
  return sign == "-" and -ns or ns
end

--- Parse `--skew` manual offsets: "DEVICE=+1.5s", several joined by
-- commas; DEVICE is a label or a prefix of a device id, the value a signed
-- duration in s or ms (the offset to subtract from that device's times).
-- Returns a list of { device = <as given>, offset_ns, text = <the item> },
-- or nil and a message naming the input.
-- @tparam string spec
-- @treturn table|nil
function M.parse_manual(spec)
  if type(spec) ~= "string" then
    error(("bad argument #1 to 'parse_manual' (string expected, got %s)")
      :format(typename(spec)), 2)
  end
  if not spec:match("%S") then
    return nil, "--skew: empty value (expected DEVICE=OFFSET, e.g. "
                .. "laptop=+1.5s)"
  end
  local list, seen = {}, {}
  for item in (spec .. ","):gmatch("([^,]*),") do
    item = item:match("^%s*(.-)%s*$")
    local device, value = item:match("^(.-)%s*=%s*(.*)$")
    if item == "" then
      return nil, ("--skew '%s': empty item (expected DEVICE=OFFSET, e.g. "
                   .. "laptop=+1.5s)"):format(spec)
    elseif not device then
      return nil, ("--skew '%s': expected DEVICE=OFFSET, e.g. %s=+1.5s")
        :format(item, item)
    elseif device == "" then
      return nil, ("--skew '%s': missing device before '='"):format(item)
    end
    local ns = parse_offset(value)
    if not ns then
      return nil, ("--skew '%s': invalid offset '%s' (%s)")
        :format(item, value, USAGE)
    end
    if seen[device] then
      return nil, ("--skew '%s': %s is given twice"):format(spec, device)
    end
    seen[device] = true
    list[#list + 1] = { device = device, offset_ns = ns, text = item }
  end
  return list
end

local function device_names(result)
  local names = {}
  for _, d in ipairs(result.devices) do
    names[#names + 1] = d.label == d.device and d.device
                        or ("%s %s"):format(d.label, fmt.short(d.device))
  end
  return table.concat(names, ", ")
end

--- Apply manual offsets (from parse_manual) to an estimate: each named
-- device (by label, else by a unique prefix of its id, any case) gets that
-- offset, with no bounds (low = high = offset) and confidence and method
-- "manual". Returns a new result (the given one is not changed), or nil
-- and a message naming the item and the devices.
-- @tparam table result from estimate
-- @tparam table manual from parse_manual
-- @treturn table|nil
function M.apply(result, manual)
  if type(result) ~= "table" or type(result.devices) ~= "table" then
    error(("bad argument #1 to 'apply' (skew result expected, got %s)")
      :format(typename(result)), 2)
  end
  if type(manual) ~= "table" then
    error(("bad argument #2 to 'apply' (table expected, got %s)")
      :format(typename(manual)), 2)
  end
  local out = { reference = result.reference, devices = {}, by_device = {},
                links = result.links, violations = result.violations }
  for i, d in ipairs(result.devices) do
    local c = {}
    for k, v in pairs(d) do c[k] = v end
    out.devices[i] = c
    out.by_device[c.device] = c
  end
  for _, m in ipairs(manual) do
    if type(m) ~= "table" or type(m.device) ~= "string"
       or math.type(m.offset_ns) ~= "integer" then
      error("bad argument #2 to 'apply' (list from parse_manual expected)", 2)
    end
    local hit
    for _, d in ipairs(out.devices) do
      if d.label == m.device then hit = d break end
    end
    if not hit then
      local want = m.device:lower()
      for _, d in ipairs(out.devices) do
        if d.device:lower():sub(1, #want) == want then
          if hit then
            return nil, ("--skew '%s': '%s' matches several devices (%s)")
              :format(m.text or m.device, m.device, device_names(result))
          end
          hit = d
        end
      end
    end
    if not hit then
      return nil, ("--skew '%s': no device '%s' (devices: %s)")
        :format(m.text or m.device, m.device, device_names(result))
    end
    hit.offset_ns, hit.low_ns, hit.high_ns = m.offset_ns, m.offset_ns,
                                             m.offset_ns
    hit.method, hit.confidence = "manual", "manual"
  end
  return out
end

-- ---------------------------------------------------------------- check

--- Causality after correction: every causal pair (as estimate uses them)
-- whose receipt, its device's offset subtracted, comes before its send.
-- `offsets` is a result of estimate or apply, or a table mapping a device
-- id to the offset (ns) subtracted from its instants (absent: 0).
-- Returns a list of { kind, correlation_id, send, receive, by_ns (how much
-- earlier the receipt is) }, send and receive with id, device, label,
-- index, event_type, instant and adjusted; empty when none.
-- @tparam table stores as estimate takes them
-- @tparam table offsets
-- @treturn table
function M.check(stores, offsets)
  local list = check_stores(stores, "check")
  if type(offsets) ~= "table" then
    error(("bad argument #2 to 'check' (table expected, got %s)")
      :format(typename(offsets)), 2)
  end
  local map = offsets
  if type(offsets.devices) == "table" then
    map = {}
    for _, d in ipairs(offsets.devices) do
      if type(d) == "table" and type(d.device) == "string" then
        map[d.device] = d.offset_ns
      end
    end
  end
  local off = {}
  for i, e in ipairs(list) do
    local v = map[e.given]
    if v == nil then v = map[e.device] end
    if v ~= nil and math.type(v) ~= "integer" then
      error(("bad argument #2 to 'check' (offset of %s: integer expected, "
             .. "got %s)"):format(e.given, typename(v)), 2)
    end
    off[i] = v or 0
  end
  local found = {}
  each_pair(list, function(p)
    local s, r = p.send, p.receive
    s.adjusted = s.instant - off[s.index]
    r.adjusted = r.instant - off[r.index]
    if r.adjusted < s.adjusted then
      found[#found + 1] = { kind = p.kind, correlation_id = p.correlation_id,
                            send = s, receive = r,
                            by_ns = s.adjusted - r.adjusted }
    end
  end)
  return found
end

-- ------------------------------------------------------------- describe

-- ns as signed seconds with 3 decimals, rounded to the nearest ms.
local function seconds(ns)
  local sign = ns < 0 and "-" or "+"
  local ms = (math.abs(ns) + MS // 2) // MS
  return ("%s%d.%03d"):format(sign, ms // 1000, ms % 1000)
end

-- A half-width in ns as seconds, rounded up to the ms.
local function margin(width)
  local ms = ((width + 1) // 2 + MS - 1) // MS
  return ("%d.%03d"):format(ms // 1000, ms % 1000)
end


--- Header lines for a timeline: the offsets (relative to the reference),
-- with their bounds and what they rest on, then one line per
-- contradiction. E.g. "clock offsets (relative to laptop): desktop -0.556 s
-- ±0.012 (14 pairs), phone +2.940 s ±0.030 (6 pairs, via desktop), tablet:
-- no causal pairs, not corrected".
-- @tparam table result from estimate or apply
-- @treturn {string,...}
function M.describe(result)
  if type(result) ~= "table" or type(result.devices) ~= "table" then
    error(("bad argument #1 to 'describe' (skew result expected, got %s)")
      :format(typename(result)), 2)
  end
  local label = {}
  for _, d in ipairs(result.devices) do label[d.device] = d.label end
  local ref = label[result.reference] or result.reference
  local parts = {}
  for _, d in ipairs(result.devices) do
    if d.device ~= result.reference or d.method == "manual" then
      local s
      if d.method == "manual" then
        s = ("%s %s s (manual)"):format(d.label, seconds(d.offset_ns))
      elseif d.method == "none" then
        s = ("%s: no causal pairs, not corrected"):format(d.label)
      else
        local why = {}
        if d.method == "coincidence" then
          why[1] = "connect/disconnect only, "
                   .. plural(d.matches, "match", "matches")
        else
          why[1] = plural(d.pairs, "pair", "pairs")
          if d.matches > 0 then
            why[#why + 1] = plural(d.matches, "match", "matches")
          end
        end
        if d.via and d.via ~= result.reference then
          why[#why + 1] = "via " .. (label[d.via] or d.via)
        end
        if d.contradicted then why[#why + 1] = "bounds contradict" end
        s = ("%s %s s ±%s (%s)"):format(d.label, seconds(d.offset_ns),
                                        margin(d.high_ns - d.low_ns),
                                        table.concat(why, ", "))
      end
      parts[#parts + 1] = s
    end
  end
  local lines = { ("clock offsets (relative to %s): %s"):format(ref,
    #parts > 0 and table.concat(parts, ", ") or "no other device") }
  for _, v in ipairs(result.violations or {}) do
    lines[#lines + 1] = ("clock bounds contradict between %s and %s: "
      .. "lower %s s (%s, session %s) > upper %s s (%s, session %s)")
      :format(v.a_label, v.b_label, seconds(v.low_ns), v.lower.kind,
              fmt.short(v.lower.correlation_id), seconds(v.high_ns),
              v.upper.kind, fmt.short(v.upper.correlation_id))
  end
  return lines
end

-- The stores estimate takes for a list of sources (synclua.inputs: log,
-- device, label): one per device, in the sources' order, leaving out
-- sources without a device (no rows) and repeats of a device; and the
-- source index of each.
local function estimate_inputs(sources)
  local inputs, index, seen = {}, {}, {}
  for i, src in ipairs(sources) do
    if src.device and not seen[src.device:lower()] then
      seen[src.device:lower()] = true
      inputs[#inputs + 1] = { store = src.log, device = src.device,
                              label = src.label }
      index[#inputs] = i
    end
  end
  return inputs, index
end

--- The clock offsets of a list of sources (synclua.inputs: log, device,
-- label), as the timelines apply them: `how` is "auto" (estimated),
-- "none" (clocks trusted) or a manual spec ("phone=+1.5s,laptop=-200ms",
-- see parse_manual). Sources without a device (no rows) and repeats of a
-- device stay at 0.
-- Returns the offsets (ns, by source index), the header lines that say
-- where they come from, and the causal pairs still out of order (their
-- send.index and receive.index: source indexes); or nil and a message for
-- a bad manual spec.
-- @tparam table sources
-- @tparam[opt] string how default "auto"
-- @treturn table offsets
-- @treturn {string,...} lines
-- @treturn table violations
function M.offsets(sources, how)
  how = how or "auto"
  local offsets = {}
  for i = 1, #sources do offsets[i] = 0 end
  if how == "none" then return offsets, {}, {} end
  local inputs, index = estimate_inputs(sources)
  if #inputs < 2 then
    if how ~= "auto" then
      local manual, err = M.parse_manual(how)
      if not manual then return nil, err end
    end
    return offsets, {}, {}
  end
  local result = M.estimate(inputs)
  if how ~= "auto" then
    local manual, err = M.parse_manual(how)
    if not manual then return nil, err end
    result, err = M.apply(result, manual)
    if not result then return nil, err end
  end
  for i, d in ipairs(result.devices) do offsets[index[i]] = d.offset_ns end
  local violations = M.check(inputs, result)
  for _, v in ipairs(violations) do
    v.send.index, v.receive.index = index[v.send.index], index[v.receive.index]
  end
  return offsets, M.describe(result), violations
end

--- The causal pairs among a list of sources (synclua.inputs: log,
-- device, label) that the offsets rest on, in a fixed order: a request
-- sent and its receipt, a response sent and the requester's first event
-- proving it arrived (a batch holding its records, the next request, the
-- completion). Each pair: { kind = "request" | "response", correlation_id,
-- n (the session's k-th request, or the response to it), send, receive },
-- send and receive = { id, device, label, index (the source's), event_type,
-- instant (device clock) }. The request n of a session, its receipt, the
-- response n and its arrival are one causal chain.
-- @tparam table sources
-- @treturn table pairs
function M.pairs(sources)
  if type(sources) ~= "table" then
    error(("bad argument #1 to 'pairs' (table expected, got %s)")
      :format(typename(sources)), 2)
  end
  local inputs, index = estimate_inputs(sources)
  local found = {}
  if #inputs < 2 then return found end
  each_pair(check_stores(inputs, "pairs"), function(p)
    p.send.index, p.receive.index = index[p.send.index], index[p.receive.index]
    found[#found + 1] = p
  end)
  return found
end

return M
