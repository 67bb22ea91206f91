-- The REPL: synclua.repl's functions (completion, the pretty printer, help)
-- as pure Lua, then `synclua` itself driven through a pseudo-terminal.
--
-- The terminal is util-linux's `script` (Debian's bsdutils, always
-- installed): it runs the host on a fresh pty, forwards what this spec
-- writes to its stdin as keystrokes, and copies everything the host shows
-- to a file. `screen()` renders those bytes as a terminal would (carriage
-- returns, libedit's cursor moves and erasures), so a session is checked
-- as the exact text a person would see.
local synclua = require "synclua"
local repl = require "synclua.repl"
local T = dofile("spec/fixtures/support.lua")

local quote = T.quote
local BIN = os.getenv("SYNCLUA_BIN") or "build/synclua"
if BIN:sub(1, 1) ~= "/" then BIN = T.capture("pwd"):gsub("\n$", "") .. "/" .. BIN end

local DEVICE = "11111111-1111-4111-8111-111111111111"
local PEER = "22222222-2222-4222-8222-222222222222"
local OTHER = "33333333-3333-4333-8333-333333333333"
local SESSION = "6f1c0b6e-0000-4000-8000-000000000001"

-- A store with three known events (one of each kind of line the printer
-- draws). Returns its path.
local function make_store(dir)
  local path = dir .. "/sync.db"
  local log = assert(synclua.open(path, { mode = "w", device_id = DEVICE }))
  assert(log:append{ event_type = "state_transition",
    summary = "Ready → Paused", timestamp = "2025-12-01T09:12:44.120553001+00:00",
    details = { reason = "user paused sync" } })
  assert(log:append{ event_type = "backfill_session_started",
    summary = "Selected peer " .. PEER .. " from 2 candidates",
    timestamp = "2025-12-01T09:13:00Z", correlation_id = SESSION:upper(),
    peer_device_id = PEER, details = { candidates = {
      { device_id = PEER, is_online = true, has_complete_state = true,
        latency_ms = 23.5, active_syncs = 0, selected = true },
      { device_id = OTHER, is_online = false, has_complete_state = true,
        latency_ms = 100, active_syncs = 1, selected = false } } } })
  assert(log:append{ event_type = "batch_ingestion",
    summary = "Ingested batch of 5000 records (5000 entry)",
    timestamp = "2025-12-01T09:14:00.5+00:00", model_types = { "entry" },
    record_count = 5000, duration_ms = 1200, peer_device_id = PEER })
  assert(log:close())
  return path
end

local function all_events(log)
  local list = {}
  for ev in log:events{ order = "asc" } do list[#list + 1] = ev end
  return list
end

local EVENT1 = [[
2025-12-01 09:12:44.120  state_transition  info  Ready → Paused
  id = 1
  details = { reason = "user paused sync" }]]

local EVENT2 = [[
2025-12-01 09:13:00.000  backfill_session_started  info  Selected peer 22222222-2222-4222-8222-222222222222 from 2 candidates
  id = 2
  correlation_id = "6f1c0b6e-0000-4000-8000-000000000001"
  peer_device_id = "22222222-2222-4222-8222-222222222222"
  details = {
    candidates = {
      {
        active_syncs = 0,
        device_id = "22222222-2222-4222-8222-222222222222",
        has_complete_state = true,
        is_online = true,
        latency_ms = 23.5,
        selected = true,
      },
      {
        active_syncs = 1,
        device_id = "33333333-3333-4333-8333-333333333333",
        has_complete_state = true,
        is_online = false,
        latency_ms = 100,
        selected = false,
      },
    },
  }]]

local EVENT3 = [[
2025-12-01 09:14:00.500  batch_ingestion  debug  Ingested batch of 5000 records (5000 entry)
  id = 3
  peer_device_id = "22222222-2222-4222-8222-222222222222"
  model_types = { "entry" }
  record_count = 5000
  duration_ms = 1200]]

------------------------------------------------------------ pure functions

describe("repl.candidates()", function()
  local dir, log, env
  setup(function()
    dir = T.tmpdir()
    log = assert(synclua.open(make_store(dir)))
    env = { log = log, synclua = synclua, print = print, pairs = pairs,
            require = require }
  end)
  teardown(function()
    log:close()
    T.rmdir(dir)
  end)

  local function cands(text)
    local list, stem, closing = repl.candidates(text, env)
    return { list = list, stem = stem, closing = closing }
  end

  it("completes the module's fields after 'synclua.'", function()
    assert.same({ list = { "open" }, stem = "ope" }, cands("synclua.ope"))
    assert.same({ list = { "parse_duration", "parse_rfc3339", "parse_time",
                           "parse_uuid" },
                  stem = "parse_" }, cands("x = synclua.parse_"))
  end)

  it("completes the methods of the store a global holds after ':'", function()
    assert.same({ list = { "events" }, stem = "ev" }, cands("log:ev"))
    assert.same({ list = { "close", "count", "cursor" }, stem = "c" },
      cands("for ev in log:c"))
  end)

  it("completes globals and keywords", function()
    assert.same({ list = { "print" }, stem = "pr" }, cands("pr"))
    assert.same({ list = { "repeat", "require", "return" }, stem = "re" },
      cands("re"))
    assert.same({ list = { "synclua" }, stem = "syn" }, cands("'a' .. syn"))
  end)

  it("completes event types in a string after event_type =, ==, event_types", function()
    assert.same({ list = { "backfill_session_completed" },
                  stem = "backfill_session_c", closing = '"' },
      cands('log:events{ event_type = "backfill_session_c'))
    assert.same({ list = { "peer_connected", "peer_disconnected" },
                  stem = "peer_", closing = "'" },
      cands([[log:count{ event_types = { "state_transition", 'peer_]]))
    assert.same({ list = { "sync_error" }, stem = "sync", closing = '"' },
      cands('if ev.event_type == "sync'))
    assert.same({ list = { "sync_error" }, stem = "sync_", closing = '"' },
      cands('log:first{ "sync_'))
    assert.same({ list = { "batch_ingestion" }, stem = "bat", closing = '"' },
      cands('synclua.event_type_info("bat'))
  end)

  it("completes categories, severities and orders in their strings", function()
    assert.same({ list = { "data_flow" }, stem = "d", closing = '"' },
      cands('log:events{ category = "d'))
    assert.same({ list = { "warning" }, stem = "w", closing = '"' },
      cands('log:events{ severity = "w'))
    assert.same({ list = { "asc" }, stem = "a", closing = '"' },
      cands('log:events{ order = "a'))
  end)

  it("completes filter keys where a key goes inside events{ }", function()
    assert.same({ list = { "severities", "severity" }, stem = "sev" },
      cands("log:events{ sev"))
    assert.same({ list = { "limit" }, stem = "li" },
      cands('log:count{ since = "1h", li'))
    -- a value, not a key: globals
    assert.same({ list = { "print" }, stem = "pr" },
      cands("log:events{ limit = pr"))
  end)

  it("completes details keys seen in the open stores", function()
    assert.same({ list = { "candidates", "reason" }, stem = "" },
      cands("ev.details."))
    assert.same({ list = { "reason" }, stem = "r" },
      cands("for ev in log:events{} do\nprint(ev.details.r"))
    assert.same({ list = { "reason" }, stem = "re", closing = '"' },
      cands('ev.details["re'))
  end)

  it("completes event fields (the columns) after an unknown name", function()
    assert.same({ list = { "correlation_id" }, stem = "co" }, cands("ev.co"))
    assert.same({ list = { "peer_device_id" }, stem = "peer" },
      cands("ev.peer"))
    assert.same({ list = { "record_count" }, stem = "rec", closing = '"' },
      cands('ev["rec'))
  end)

  it("completes the REPL's commands and .help's topics", function()
    assert.same({ list = { "help" }, stem = "he" }, cands(".he"))
    assert.same({ list = { "help", "quit" }, stem = "" }, cands("."))
    assert.same({ list = { "state_transition" }, stem = "state_" },
      cands(".help state_"))
  end)

  it("offers nothing in a comment, a number or an unrelated string", function()
    assert.same({ list = {}, stem = "" }, cands("-- synclua.ope"))
    assert.same({ list = {}, stem = "" }, cands("x = 12"))
    assert.same({ list = {}, stem = "synclua.ope", closing = '"' },
      cands('print("synclua.ope'))
    assert.same({ list = {}, stem = "" }, cands("x = [[synclua."))
    assert.same({ list = {}, stem = "b" }, cands("f().b"))
  end)

  it("never calls anything to find fields", function()
    local calls = 0
    local t = setmetatable({ raw = 1 }, {
      __index = function() calls = calls + 1 error("called") end })
    local obj = setmetatable({}, { __index = { method = function() end,
                                               field = 1 } })
    local e = { t = t, obj = obj }
    assert.same({ "raw" }, (repl.candidates("t.", e)))
    assert.same({ "field", "method" }, (repl.candidates("obj.", e)))
    assert.same({ "method" }, (repl.candidates("obj:", e)))
    assert.equal(0, calls)
  end)
end)

describe("synclua.repl's functions", function()
  it("raise on misuse in Lua's words", function()
    assert.has_error(function() repl.candidates(nil, {}) end,
      "bad argument #1 to 'candidates' (string expected, got nil)")
    assert.has_error(function() repl.complete("x", 1) end,
      "bad argument #2 to 'complete' (table expected, got number)")
    assert.has_error(function() repl.event({}) end,
      "bad argument #1 to 'event' (event expected, got table)")
    assert.has_error(function() repl.help(false) end,
      "bad argument #1 to 'help' (string expected, got boolean)")
  end)
end)

describe("repl.complete()", function()
  local env = { synclua = synclua }

  it("inserts the rest of a unique name", function()
    assert.same({ "n" }, { repl.complete("synclua.ope", env, 80) })
  end)

  it("closes the string of a unique event type", function()
    assert.same({ 'ansition"' },
      { repl.complete('log:count{ event_type = "state_tr', env, 80) })
  end)

  it("inserts the common part of several, then lists them", function()
    assert.same({ "_" }, { repl.complete("synclua.parse", env, 80) })
    assert.same({ "", "parse_duration  parse_time\nparse_rfc3339   parse_uuid\n" },
      { repl.complete("synclua.parse_", env, 40) })
  end)

  it("inserts nothing and lists nothing when nothing matches", function()
    assert.same({ "" }, { repl.complete("synclua.zzz", env, 80) })
    assert.same({ "" }, { repl.complete("synclua.open", env, 80) })
  end)
end)

describe("repl.columns()", function()
  it("lays words out down then across, as ls does", function()
    assert.equal("a     dddd  g\nbb    e\nccc   ff\n",
      repl.columns({ "a", "bb", "ccc", "dddd", "e", "ff", "g" }, 16))
    assert.equal("one\ntwo\n", repl.columns({ "one", "two" }, 3))
  end)
end)

describe("repl.literal()", function()
  it("writes a table as a literal with sorted keys, the list first", function()
    assert.equal('{ 1, 2, "three", [2.5] = "f", [10] = 0/0, inf = math.huge, '
      .. '["not id"] = true, nul = synclua.null }',
      repl.literal({ 1, 2, "three", [2.5] = "f", [10] = 0/0,
                     inf = math.huge, ["not id"] = true,
                     nul = synclua.null }, { width = 200 }))
  end)

  it("quotes strings, escaping what a terminal would not show", function()
    assert.equal([[{ s = "a\"b\\c\n\001é\t" }]],
      repl.literal({ s = "a\"b\\c\n\1é\t" }))
  end)

  it("breaks a table that does not fit, one entry a line, lists packed", function()
    assert.equal([[
{
  list = {
    "aaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbb", "cccccccccccccccccc",
    "dddddddddddddddddd",
  },
  x = 1,
}]], repl.literal({ list = { "aaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbb",
                             "cccccccccccccccccc", "dddddddddddddddddd" },
                    x = 1 }))
  end)

  it("stops at a depth, at a number of entries, and at cycles", function()
    assert.equal("{ a = { b = { c = { d = {...} } } } }",
      repl.literal({ a = { b = { c = { d = { e = 1 } } } } }))
    assert.equal("{ a = { b = {...} } }",
      repl.literal({ a = { b = { c = 1 } } }, { depth = 2 }))
    local big = {}
    for i = 1, 40 do big[i] = i end
    assert.equal("{ 1, 2, 3, ... (37 more) }", repl.literal(big, { items = 3 }))
    local c = { name = "c" }
    c.self = c
    assert.equal('{ name = "c", self = <cycle> }', repl.literal(c))
    assert.equal("{}", repl.literal({}))
  end)

  it("writes other values with tostring", function()
    assert.equal("1.5", repl.literal(1.5))
    assert.equal("true", repl.literal(true))
    assert.equal('"x"', repl.literal("x"))
    assert.equal("math.huge", repl.literal(1 / 0))
  end)
end)

describe("repl.format() and repl.event()", function()
  local dir, log
  setup(function()
    dir = T.tmpdir()
    log = assert(synclua.open(make_store(dir)))
  end)
  teardown(function()
    log:close()
    T.rmdir(dir)
  end)

  it("shows an event as a line, then its fields and details indented", function()
    local evs = all_events(log)
    assert.equal(EVENT1, repl.event(evs[1]))
    assert.equal(EVENT2, repl.format(evs[2]))
    assert.equal(EVENT3, repl.format(evs[3]))
  end)

  it("shows a list of events one after the other, columns aligned", function()
    local evs = all_events(log)
    assert.equal(table.concat({
      "2025-12-01 09:12:44.120  state_transition  info   Ready → Paused",
      "  id = 1",
      '  details = { reason = "user paused sync" }',
      "2025-12-01 09:14:00.500  batch_ingestion   debug  Ingested batch of "
        .. "5000 records (5000 entry)",
    }, "\n"), repl.format({ evs[1], evs[3] }):match("^(.-)\n  id = 3"))
    assert.equal(EVENT1 .. "\n... (2 more events)",
      repl.format(evs, { events = 1 }))
  end)

  it("shows an event without an instant by its stored timestamp", function()
    assert.equal("2025-12-01 x  sync_error  oops",
      repl.format({ event_type = "sync_error", summary = "oops",
                    timestamp = "2025-12-01 x" }))
  end)

  it("shows strings as they are and other values with tostring", function()
    assert.equal("str", repl.format("str"))
    assert.equal("1.5", repl.format(1.5))
    assert.equal("nil", repl.format(nil))
    assert.equal("synclua.Store (" .. dir .. "/sync.db, read-only)",
      repl.format(log))
    assert.equal('{ a = 1, b = { "x" } }', repl.format({ a = 1, b = { "x" } }))
  end)
end)

describe("repl.details_keys() and repl.stores()", function()
  local dir, path
  setup(function()
    dir = T.tmpdir()
    path = make_store(dir)
  end)
  teardown(function() T.rmdir(dir) end)

  it("samples the details keys of the newest rows, and caches them", function()
    local sample, ttl = repl.DETAILS_SAMPLE, repl.DETAILS_TTL
    local log = assert(synclua.open(path))
    finally(function()
      repl.DETAILS_SAMPLE, repl.DETAILS_TTL = sample, ttl
      log:close()
    end)
    repl.DETAILS_SAMPLE = 2           -- the two newest: no "reason"
    assert.same({ "candidates" }, repl.details_keys(log))
    repl.DETAILS_SAMPLE = 200
    assert.same({ "candidates" }, repl.details_keys(log))   -- cached
    repl.DETAILS_TTL = -1
    assert.same({ "candidates", "reason" }, repl.details_keys(log))
    log:close()
    assert.same({}, repl.details_keys(log))                 -- closed
  end)

  it("finds the stores among the globals and one level down", function()
    local a = assert(synclua.open(path))
    local b = assert(synclua.open(path))
    finally(function() a:close() b:close() end)
    local found = repl.stores({ a = a, list = { b, a }, n = 1 })
    assert.equal(2, #found)
    assert.is_true((found[1] == a and found[2] == b)
                   or (found[1] == b and found[2] == a))
  end)
end)

describe("repl.help()", function()
  it("lists the commands and the API in short", function()
    assert.equal([[
Commands
  .help [NAME]   this, or NAME: .help events, .help open, .help filter
  .quit          leave (or Ctrl-D)
Tab completes; Up, Down and Ctrl-R search the history; Ctrl-C stops a
query; _ is the last result.

synclua (a global here)
  open(path [, opts]) -> log    parse_time  format_time  parse_duration
  parse_uuid  now  uuid  select_peer  peer_score  merge  json_decode
  json_encode  render  null  event_types  categories  severities
log = synclua.open("sync.db")      -- { mode = "w", device_id = ID } to log
  log:events(filter)  log:first(filter)  log:count(filter)
  log:cursor(filter)  log:fingerprint(filter)  log:identity()
  log:append(event)  log:insert(events)  log:flush()  log:close()
  log:stats()  log:prune{...}  log:emit_*{...}
  log:redact(synclua.redactor{ key = K })   -- rows as --redact writes them
fleet = synclua.open("postgresql:///fleet")  -- a fleet store in PostgreSQL
  fleet:devices()  fleet:scope{...}  fleet:push(log, {...})  log:backend()
filter: since until/to event_type(s) category severity peer device
  correlation_id model_type limit offset order skipped_last raw render
event: id timestamp instant event_type category severity summary details
  correlation_id peer_device_id model_types record_count duration_ms
event types (.help TYPE):
  state_transition backfill_session_started backfill_session_completed
  backfill_session_failed catch_up_session_started catch_up_session_completed
  batch_ingestion backfill_request_sent backfill_request_received
  backfill_response_sent peer_connected peer_disconnected sync_error
]], repl.help())
  end)

  it("describes a function, a method, an event type, a filter key", function()
    assert.equal([[
synclua.open(path [, opts]) -> log | nil, message, code
  Opens a sync.db, or the sync.db in a library folder, to read; { mode = "w",
  device_id = ID } to log into it (a missing file is created). opts also:
  create, indexes, retention, busy_timeout, ... Codes: notfound, notdb,
  corrupt, busy, ioerr, readonly.
]], repl.help("open"))
    assert.equal(repl.help("open"), repl.help("synclua.open"))
    assert.equal([[
log:events(filter) -> iterator
  The events the filter selects, newest first: for ev in log:events{ since =
  "1 hour ago", severity = "warning+" } do ... end. Streams; a break releases
  the query. .help filter, .help event.
]], repl.help("log:events"))
    assert.equal([[
state_transition  (lifecycle, info; Spacedrive's StateTransition)
  The sync state changed; summary "<from> → <to>".
  details: reason
]], repl.help("state_transition"))
    assert.equal([[
A filter key (.help filter):
  order: "desc" (newest first, the default) or "asc"
]], repl.help("order"))
    assert.equal(repl.help("emit"), repl.help("emit_peer_selected"))
  end)

  it("says when it knows no such name", function()
    assert.equal("no help for 'nope' (try .help)\n", repl.help("nope"))
  end)

  it("has a topic for every module function, store method and event type", function()
    local missing = {}
    local function check(name)
      if repl.help(name):match("^no help") then missing[#missing + 1] = name end
    end
    for name, v in pairs(synclua) do
      if type(v) == "function" and name ~= "parse_rfc3339"
         and name ~= "severity_set" and name ~= "array"
         and name ~= "csv_header" then
        check(name)
      end
    end
    for name in pairs(debug.getregistry()["synclua.Store"].__index) do
      check(name)
    end
    for _, t in ipairs(synclua.event_types) do check(t) end
    for _, k in ipairs(repl.filter_keys) do check(k) end
    table.sort(missing)
    assert.same({}, missing)
  end)
end)

describe("repl.history_file()", function()
  local dir
  before_each(function() dir = T.tmpdir() end)
  after_each(function() T.rmdir(dir) end)

  local function env(t) return function(name) return t[name] end end

  it("is $XDG_STATE_HOME/synclua/history, its folder made", function()
    assert.equal(dir .. "/state/synclua/history",
      repl.history_file(env{ XDG_STATE_HOME = dir .. "/state", HOME = "/x" }))
    assert.equal("dir", require("synclua.fs").kind(dir .. "/state/synclua"))
  end)

  it("is ~/.local/state/synclua/history without XDG_STATE_HOME", function()
    assert.equal(dir .. "/.local/state/synclua/history",
      repl.history_file(env{ HOME = dir, XDG_STATE_HOME = "relative" }))
  end)

  it("is nil and why when neither is set, or the folder cannot be made", function()
    assert.same({ nil, "neither XDG_STATE_HOME nor HOME is set" },
      { repl.history_file(env{}) })
    T.spit(dir .. "/file", "")
    local path, err = repl.history_file(env{ XDG_STATE_HOME = dir .. "/file" })
    assert.is_nil(path)
    assert.equal(dir .. "/file: File exists", err)
  end)
end)

describe("repl.start()", function()
  it("makes the module the global synclua unless it is set", function()
    local env = {}
    repl.start(env)
    assert.equal(synclua, env.synclua)
    env = { synclua = 1 }
    repl.start(env)
    assert.equal(1, env.synclua)
  end)
end)

------------------------------------------------------ a pseudo-terminal

-- What a terminal shows after `bytes`: its lines (a scrollback without
-- limit), trailing blanks and empty last lines removed. Enough of a VT100 for libedit: printable
-- characters (a UTF-8 sequence is one cell), CR, LF, BS, TAB, and the CSI
-- sequences that move the cursor (A B C D G), erase (K J), delete (P) and
-- insert (@) characters; any other sequence is skipped.
local function screen(bytes)
  local lines, row, col = {}, 1, 1
  local function line(r)
    lines[r] = lines[r] or {}
    return lines[r]
  end
  local function width(l)
    local w = 0
    for c in pairs(l) do w = math.max(w, c) end
    return w
  end
  local i = 1
  while i <= #bytes do
    local b = bytes:byte(i)
    if b == 27 then
      local params, final, after = bytes:match("^%[([%d;?]*)([@-~])()", i + 1)
      if final then
        local n = tonumber(params:match("^%d+"))
        local l = line(row)
        if final == "A" then row = math.max(1, row - (n or 1))
        elseif final == "B" then row = row + (n or 1)
        elseif final == "C" then col = col + (n or 1)
        elseif final == "D" then col = math.max(1, col - (n or 1))
        elseif final == "G" then col = n or 1
        elseif final == "K" or final == "J" then
          local from, to = col, width(l)
          if n == 1 then from, to = 1, col elseif n == 2 then from = 1 end
          for c = from, to do l[c] = nil end
          if final == "J" and (n or 0) == 0 then
            for r = row + 1, #lines do lines[r] = nil end
          end
        elseif final == "P" or final == "@" then
          local w, k = width(l), n or 1
          local copy = {}
          for c = 1, w do copy[c] = l[c] end
          for c = col, w + k do
            if final == "P" then l[c] = copy[c + k]
            else l[c] = (c < col + k) and " " or copy[c - k] end
          end
        end
        i = after
      else
        i = i + (bytes:match("^[()]", i + 1) and 3 or 2)
      end
    elseif b == 13 then col, i = 1, i + 1
    elseif b == 10 then row, i = row + 1, i + 1
    elseif b == 8 then col, i = math.max(1, col - 1), i + 1
    elseif b == 9 then col, i = (col - 1) // 8 * 8 + 9, i + 1
    elseif b < 32 or b == 127 then i = i + 1
    else
      local ch = bytes:match("^[\xC2-\xF4][\x80-\xBF]+", i) or bytes:sub(i, i)
      line(row)[col] = ch
      col, i = col + 1, i + #ch
    end
  end
  local out, last = {}, row
  for r in pairs(lines) do last = math.max(last, r) end
  for r = 1, last do
    local l, parts = lines[r] or {}, {}
    for c = 1, width(l) do parts[c] = l[c] or " " end
    out[r] = table.concat(parts):gsub("%s+$", "")
  end
  while out[#out] == "" do out[#out] = nil end
  return out
end

describe("the screen of the pseudo-terminal", function()
  it("follows carriage returns, libedit's moves and erasures", function()
    assert.same({ "> =12", "2" },
      screen("> =1+2\r\27[6G\27[K\r> =1\27[K2\r\n2"))
    assert.same({ "abd" }, screen("abcd\r\27[2C\27[P"))
    assert.same({ "abXd" }, screen("abd\r\27[2C\27[@X"))
    assert.same({ "é       x" }, screen("é\tx"))
    assert.same({ "hi" }, screen("\27[1mhi\27[0m\a"))
    assert.same({ "uno", "two" }, screen("one\r\ntwo\27[A\r\27[Kuno"))
  end)
end)

local function sleep(s) os.execute("sleep " .. s) end

-- A session of the host on a pseudo-terminal, in folder `dir` (its HOME;
-- XDG_STATE_HOME is dir/state), with TERM=xterm and a UTF-8 locale. The
-- pty has no size, so libedit takes xterm's 80 columns; screen() does not
-- wrap, so what is typed stays within 78 columns after the prompt.
--   s:send(keys)        types keys: "\r" Enter, "\t" Tab, "\3" Ctrl-C,
--                       "\4" Ctrl-D, "\27[A" Up
--   s:wait(pred, what)  waits at most 20 s until pred(lines) is true
--   s:line(text)        types text and Enter, waits for the next prompt
--   s:finish(keys)      types keys (default Ctrl-D), waits for the end;
--                       returns the screen's lines and the exit status
local Session = {}
Session.__index = Session

local function session(dir, args, term)
  local s = setmetatable({ out = dir .. "/screen" }, Session)
  local host = "exec " .. quote(BIN) .. (args and " " .. args or "")
  s.pipe = assert(io.popen(("cd %s && exec env -u EDITRC -u SYNCLUA_HOME "
    .. "-u LUA_INIT -u LUA_INIT_5_4 -u LC_CTYPE -u LANG HOME=%s "
    .. "XDG_STATE_HOME=%s TERM=%s LC_ALL=C.UTF-8 SHELL=/bin/sh "
    .. "timeout -k 5 120 script -q -e -c %s /dev/null >%s 2>&1")
    :format(quote(dir), quote(dir), quote(dir .. "/state"),
            quote(term or "xterm"), quote(host), quote(s.out)), "w"))
  s.prompts = 0
  return s
end

function Session:lines()
  return screen(T.slurp(self.out) or "")
end

-- Prompt lines: "> ..." and ">> ...".
local function prompts(lines)
  local n = 0
  for _, l in ipairs(lines) do
    if l:match("^>>? ") or l == ">" or l == ">>" then n = n + 1 end
  end
  return n
end

function Session:send(keys)
  self.pipe:write(keys)
  self.pipe:flush()
end

function Session:wait(pred, what)
  for _ = 1, 400 do
    local lines = self:lines()
    if pred(lines) then
      self.prompts = prompts(lines)
      return lines
    end
    sleep(0.05)
  end
  local shown = table.concat(self:lines(), "\n")
  self:send("\3\4")
  self.pipe:close()
  error(("timed out waiting for %s; the screen:\n%s"):format(what, shown), 2)
end

-- Waits until the screen shows one more prompt than before, at its end.
function Session:prompt()
  local before = self.prompts
  return self:wait(function(lines)
    local last = lines[#lines] or ""
    return prompts(lines) > before and (last == ">" or last == ">>"
                                        or last:match("^>>? $") ~= nil)
  end, "a prompt")
end

function Session:line(text)
  self:send(text .. "\r")
  return self:prompt()
end

function Session:finish(keys)
  self:send(keys or "\4")
  local _, _, code = self.pipe:close()
  return self:lines(), code
end

-- The banner: what -v prints.
local function banner()
  return (T.capture(quote(BIN) .. " -v"):gsub("\n$", ""))
end

local function slurp_lines(text)
  local t = {}
  for l in (text .. "\n"):gmatch("(.-)\n") do t[#t + 1] = l end
  return t
end

describe("synclua on a terminal", function()
  local dir, db
  before_each(function()
    dir = T.tmpdir()
    db = make_store(dir)
  end)
  after_each(function() T.rmdir(dir) end)

  it("prints values, keeps the last in _, reads multi-line input", function()
    local s = session(dir)
    s:prompt()
    s:line("=1+1")
    s:line("x = { b = { 'x' }, a = 1 }")
    s:line("x")
    s:line("_.a")
    s:line("for i = 1, 2 do")
    s:line("print(i)")
    s:line("end")
    s:line("return 1, nil, 'a'")
    local lines, code = s:finish(".quit\r")
    assert.same({ banner(),
      "> =1+1", "2",
      "> x = { b = { 'x' }, a = 1 }",
      "> x", '{ a = 1, b = { "x" } }',
      "> _.a", "1",
      "> for i = 1, 2 do", ">> print(i)", ">> end", "1", "2",
      "> return 1, nil, 'a'", "1       nil     a",
      "> .quit" }, lines)
    assert.equal(0, code)
  end)

  it("pretty-prints an event, and a table of them", function()
    local s = session(dir)
    s:prompt()
    s:line(("log = synclua.open(%q)"):format(db))
    s:line("log:first{ order = 'asc' }")
    s:line("_.summary")
    local lines, code = s:finish()
    local want = { banner(),
      ('> log = synclua.open(%q)'):format(db),
      "> log:first{ order = 'asc' }" }
    for _, l in ipairs(slurp_lines(EVENT1)) do want[#want + 1] = l end
    want[#want + 1] = "> _.summary"
    want[#want + 1] = "Ready → Paused"
    want[#want + 1] = "> ^D"
    assert.same(want, lines)
    assert.equal(0, code)
  end)

  it("completes names, methods, event types and details keys with Tab", function()
    local s = session(dir)
    s:prompt()
    s:line(("log = synclua.open(%q)"):format(db))
    s:send("type(synclua.ope\t")
    s:wait(function(l) return l[#l] == "> type(synclua.open" end,
           "synclua.ope<TAB> completed")
    s:line(")")
    s:send("n = 0 for _ in log:ev\t")
    s:wait(function(l) return l[#l] == "> n = 0 for _ in log:events" end,
           "log:ev<TAB> completed")
    s:line("{} do n = n + 1 end")
    s:line("=n")
    s:send('=log:count{ event_type = "state_tr\t')
    s:wait(function(l)
      return l[#l] == '> =log:count{ event_type = "state_transition"'
    end, "an event type completed")
    s:line(" }")
    s:send("for e in log:events{ limit = 1, order = 'asc' } do "
           .. "print(e.details.rea\t")
    s:wait(function(l) return l[#l]:match("e%.details%.reason$") end,
           "a details key completed")
    s:line(") end")
    s:send("synclua.parse_\t")
    s:wait(function(l) return #l >= 2 and l[#l] == "> synclua.parse_"
                              and l[#l - 2] == "> synclua.parse_" end,
           "the candidates listed")
    s:send("\3")                    -- Ctrl-C at the prompt: a fresh one
    s:prompt()
    local lines, code = s:finish()
    assert.same({ banner(),
      ('> log = synclua.open(%q)'):format(db),
      "> type(synclua.open)", "function",
      "> n = 0 for _ in log:events{} do n = n + 1 end",
      "> =n", "3",
      '> =log:count{ event_type = "state_transition" }', "1",
      "> for e in log:events{ limit = 1, order = 'asc' } do "
        .. "print(e.details.reason) end",
      "user paused sync",
      "> synclua.parse_",
      "parse_duration  parse_rfc3339   parse_time      parse_uuid",
      "> synclua.parse_",
      "> ^D" }, lines)
    assert.equal(0, code)
  end)

  it("stops a running statement on Ctrl-C and goes on", function()
    local s = session(dir)
    s:prompt()
    s:send('io.write("running\\n") io.flush() while true do end\r')
    s:wait(function(l) return l[#l] == "running" end, "the loop")
    sleep(0.2)
    s:send("\3")
    s:prompt()
    s:line("=2+2")
    s:send("x = ")                  -- Ctrl-C while typing drops the line
    s:wait(function(l) return l[#l] == "> x =" end, "typing")
    s:send("\3")
    s:prompt()
    s:line("for i = 1, 2 do")       -- and in a continuation, the chunk
    s:send("\3")
    s:prompt()
    s:line("=x")
    local lines, code = s:finish()
    assert.same({ banner(),
      '> io.write("running\\n") io.flush() while true do end',
      "running",
      "^Cinterrupted!",
      "stack traceback:",
      "        stdin:1: in main chunk",
      "        [C]: in ?",
      "> =2+2", "4",
      "> x =",
      "> for i = 1, 2 do",
      ">>",
      "> =x", "nil",
      "> ^D" }, lines)
    assert.equal(0, code)
  end)

  it("answers .help, .help NAME and unknown commands", function()
    local s = session(dir)
    s:prompt()
    s:line(".help")
    s:line(".help open")
    s:line(".frob")
    local lines, code = s:finish(".quit\r")
    local want = { banner(), "> .help" }
    for _, l in ipairs(slurp_lines(repl.help():sub(1, -2))) do
      want[#want + 1] = l
    end
    want[#want + 1] = "> .help open"
    for _, l in ipairs(slurp_lines(repl.help("open"):sub(1, -2))) do
      want[#want + 1] = l
    end
    want[#want + 1] = "> .frob"
    want[#want + 1] = "unknown command .frob (try .help)"
    want[#want + 1] = "> .quit"
    assert.same(want, lines)
    assert.equal(0, code)
  end)

  it("keeps a bounded history in $XDG_STATE_HOME/synclua/history", function()
    local old = { "_HiStOrY_V2_" }
    for i = 1, 1005 do old[#old + 1] = "=" .. i end
    os.execute("mkdir -p " .. quote(dir .. "/state/synclua"))
    T.spit(dir .. "/state/synclua/history", table.concat(old, "\n") .. "\n")
    local s = session(dir)
    s:prompt()
    s:send("\27[A")                -- Up: the last entry of the last session
    s:wait(function(l) return l[#l] == "> =1005" end, "the last entry")
    s:send("\r")
    s:prompt()
    s:line("=40 + 2")
    s:line("for i = 1, 1 do")
    s:line("end")
    local lines, code = s:finish(".quit\r")
    assert.same({ banner(), "> =1005", "1005", "> =40 + 2", "42",
                  "> for i = 1, 1 do", ">> end", "> .quit" }, lines)
    assert.equal(0, code)
    local want = { "_HiStOrY_V2_" }
    for i = 9, 1005 do want[#want + 1] = "=" .. i end
    want[#want + 1] = [[=40\040+\0402]]
    want[#want + 1] = [[for\040i\040=\0401,\0401\040do\012end]]
    want[#want + 1] = ".quit"
    assert.equal(table.concat(want, "\n") .. "\n",
      T.slurp(dir .. "/state/synclua/history"))
  end)

  it("reads plain lines on a dumb terminal, without history", function()
    local s = session(dir, "-i -e 'x = 6'", "dumb")
    s:prompt()
    s:line("=x * 7")
    local lines, code = s:finish()
    assert.same({ banner(), "> =x * 7", "42", ">" }, lines)
    assert.equal(0, code)
    assert.is_nil(T.slurp(dir .. "/state/synclua/history"))
  end)

  it("makes the history's folder when it is missing", function()
    local s = session(dir)
    s:prompt()
    s:line("=1")
    s:finish()
    assert.equal("_HiStOrY_V2_\n=1\n", T.slurp(dir .. "/state/synclua/history"))
  end)
end)

describe("synclua -i without a terminal", function()
  it("reads plain lines, and still pretty-prints, keeps _ and answers .help", function()
    local dir = T.tmpdir()
    finally(function() T.rmdir(dir) end)
    local input = dir .. "/in"
    T.spit(input, "x = { 'x', k = true }\nx\n_.k\n.help quit\n.quit\n=1\n")
    local out = T.capture(("cd %s && env HOME=%s XDG_STATE_HOME=%s %s -i <%s")
      :format(quote(dir), quote(dir), quote(dir .. "/state"), quote(BIN),
              quote(input)))
    assert.equal(banner() .. '\n> > { "x", k = true }\n> true\n> '
      .. repl.help("quit") .. "> ", out)
    assert.is_nil(T.slurp(dir .. "/state/synclua/history"))
  end)
end)
