-- The sync engine's vocabulary from Lua: every log:emit_* method and the
-- batch aggregator (log:add_records, flush_batches, tick_batches,
-- batch_memory), each checked by the exact row it stores; Spacedrive's
-- peer selection (synclua.select_peer, synclua.peer_score); and every
-- argument error with its exact message. Expected texts come from
-- spacedrive-compat.md section 4, written out here, never computed by the
-- code under test.
local synclua = require "synclua"
local support = dofile((debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$")
                        or ".") .. "/fixtures/support.lua")

local DEVICE = "2f1a8f8e-0c3b-4d52-9d0e-5b1c2a3d4e5f"
local PEER = "a1b2c3d4-e5f6-4789-abcd-ef0123456789"
local PEER_B = "b2c3d4e5-f6a7-4890-bcde-f01234567890"
local PEER_C = "c3d4e5f6-a7b8-4901-8def-012345678901"
local SESSION = "0f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f"
local NS_PER_SEC = 1000000000
local MS = 1000000
local ARROW = " \u{2192} "
local STATES = "(uninitialized, backfilling, catching_up, ready, paused)"

-- One row's columns as the sqlite3 tool prints them, '|'-separated.
local COLUMNS = "timestamp, device_id, event_type, category, severity,"
  .. " summary, details, correlation_id, peer_device_id, model_types,"
  .. " record_count, duration_ms"

-- 2025-12-03T10:15:00Z as an integer instant, from date(1).
local T0 = support.instant("2025-12-03 10:15:00")

-- The prefix every row of this device shares, after the timestamp.
local function row(ts, rest)
  return ts .. "|" .. DEVICE .. "|" .. rest .. "\n"
end

describe("emitters", function()
  local dir, db, log

  before_each(function()
    dir = support.tmpdir()
    db = dir .. "/sync.db"
    log = assert(synclua.open(dir, { mode = "w", device_id = DEVICE }))
  end)

  after_each(function()
    if log then log:close() end
    support.rmdir(dir)
  end)

  -- Commit and return every stored row (COLUMNS), oldest id first.
  local function rows()
    assert.is_true(log:flush())
    return support.sqlite(db, "SELECT " .. COLUMNS
                              .. " FROM sync_event_log ORDER BY id")
  end

  -- log:<method>(fields), called with the colon syntax (Lua names the
  -- method in its messages only for a call written that way).
  local function call(method, fields)
    local f = assert(load("local log, fields = ...; return log:" .. method
                          .. "(fields)", "=emit_spec.lua"))
    return f(log, fields)
  end

  -- Emit one event and return the stored rows.
  local function emitted(method, fields)
    assert.is_true(call(method, fields))
    return rows()
  end

  local function emit_error(method, fields)
    return support.error_of(call, method, fields)
  end

  describe("log:emit_state_transition()", function()
    it("writes the states' Debug forms and the reason, at a string time",
       function()
      assert.equal(row("2025-12-03T10:15:00+00:00",
        "state_transition|lifecycle|info|Backfilling { peer: " .. PEER
        .. ", progress: 0 }" .. ARROW .. "CatchingUp { buffered_count: 0 }|"
        .. '{"reason":"transitioning to ready"}|||||'),
        emitted("emit_state_transition", {
          from = { "backfilling", peer = PEER, progress = 0 },
          to = { "catching_up", buffered_count = 0 },
          reason = "transitioning to ready", at = "2025-12-03T10:15:00Z" }))
    end)

    it("takes plain state names and an integer instant; no reason, no "
       .. "details", function()
      assert.equal(row("2025-12-03T10:15:00.250+00:00",
        "state_transition|lifecycle|info|Ready" .. ARROW .. "Paused||||||"),
        emitted("emit_state_transition",
                { from = "ready", to = "paused", at = T0 + 250 * MS }))
    end)

    it("writes all five states", function()
      local at = "2025-12-03T12:15:00+02:00"
      assert.is_true(log:emit_state_transition{
        from = "uninitialized", to = { "backfilling", peer = PEER,
                                       progress = 42 }, at = at })
      assert.is_true(log:emit_state_transition{
        from = { "catching_up", buffered_count = 1247 }, to = "ready",
        reason = "buffered updates processed", at = at })
      assert.is_true(log:emit_state_transition{
        from = { "ready" }, to = { "paused" }, at = at })
      local ts = "2025-12-03T10:15:00+00:00"
      assert.equal(
        row(ts, "state_transition|lifecycle|info|Uninitialized" .. ARROW
                .. "Backfilling { peer: " .. PEER .. ", progress: 42 }"
                .. "||||||")
        .. row(ts, "state_transition|lifecycle|info|CatchingUp { "
                   .. "buffered_count: 1247 }" .. ARROW .. "Ready|"
                   .. '{"reason":"buffered updates processed"}|||||')
        .. row(ts, "state_transition|lifecycle|info|Ready" .. ARROW
                   .. "Paused||||||"),
        rows())
    end)

    it("flushes pending batches first, logged before the transition",
       function()
      assert.is_true(log:add_records("entry", 10, PEER, SESSION, T0))
      assert.is_true(log:emit_state_transition{
        from = { "backfilling", peer = PEER, progress = 100 },
        to = { "catching_up", buffered_count = 0 }, at = T0 + 5 * NS_PER_SEC })
      local ts = "2025-12-03T10:15:05+00:00"
      assert.equal(
        row(ts, "batch_ingestion|data_flow|debug|Ingested batch of 10 "
                .. 'records (10 entry)|{"models":{"entry":10}}|' .. SESSION
                .. "|" .. PEER .. "|entry|10|5000")
        .. row(ts, "state_transition|lifecycle|info|Backfilling { peer: "
                   .. PEER .. ", progress: 100 }" .. ARROW
                   .. "CatchingUp { buffered_count: 0 }||||||"),
        rows())
      assert.equal("1|batch_ingestion\n2|state_transition\n",
        support.sqlite(db, "SELECT id, event_type FROM sync_event_log"
                           .. " ORDER BY id"))
    end)
  end)

  describe("log:emit_backfill_started()", function()
    it("writes the peer count and the session", function()
      assert.equal(row("2025-12-03T10:15:00+00:00",
        "backfill_session_started|lifecycle|info|Backfill session started "
        .. 'with 3 available peers|{"peer_count":3}|' .. SESSION .. "||||"),
        emitted("emit_backfill_started",
                { session = SESSION, peer_count = 3, at = T0 }))
    end)
  end)

  describe("log:emit_peer_selected()", function()
    local candidates = {
      { device_id = PEER, is_online = true, has_complete_state = true,
        latency_ms = 23.456, active_syncs = 0 },
      { device_id = PEER_B, is_online = true, has_complete_state = true,
        latency_ms = 100, active_syncs = 0 },
      { device_id = PEER_C, is_online = false, has_complete_state = true,
        latency_ms = 5, active_syncs = 0 },
    }
    local function details(selected)
      return '{"candidates":['
        .. '{"active_syncs":0,"device_id":"' .. PEER .. '",'
        .. '"has_complete_state":true,"is_online":true,'
        .. '"latency_ms":23.45599937438965,"score":142.6330108642578,'
        .. '"selected":' .. tostring(selected == 1) .. '},'
        .. '{"active_syncs":0,"device_id":"' .. PEER_B .. '",'
        .. '"has_complete_state":true,"is_online":true,'
        .. '"latency_ms":100.0,"score":110.0,'
        .. '"selected":' .. tostring(selected == 2) .. '},'
        .. '{"active_syncs":0,"device_id":"' .. PEER_C .. '",'
        .. '"has_complete_state":true,"is_online":false,'
        .. '"latency_ms":5.0,"score":300.0,'
        .. '"selected":' .. tostring(selected == 3) .. '}]}'
    end

    it("chooses by Spacedrive's formula when not told, and returns the "
       .. "index", function()
      assert.equal(1, log:emit_peer_selected{ session = SESSION,
                                              candidates = candidates,
                                              at = T0 })
      assert.equal(row("2025-12-03T10:15:00+00:00",
        "backfill_session_started|lifecycle|info|Selected peer " .. PEER
        .. " from 3 candidates|" .. details(1) .. "|" .. SESSION .. "|"
        .. PEER .. "|||"), rows())
    end)

    it("writes the caller's choice when given", function()
      assert.equal(2, log:emit_peer_selected{ session = SESSION,
                                              candidates = candidates,
                                              selected = 2,
                                              at = "2025-12-03T10:15:00Z" })
      assert.equal(row("2025-12-03T10:15:00+00:00",
        "backfill_session_started|lifecycle|info|Selected peer " .. PEER_B
        .. " from 3 candidates|" .. details(2) .. "|" .. SESSION .. "|"
        .. PEER_B .. "|||"), rows())
    end)

    it("writes nothing and says why when no peer is online", function()
      assert.same({ nil, "No online peers available for backfill" },
        { log:emit_peer_selected{ session = SESSION, at = T0, candidates = {
            { device_id = PEER, is_online = false, latency_ms = 1 } } } })
      assert.same({ nil, "No online peers available for backfill" },
        { log:emit_peer_selected{ session = SESSION, candidates = {} } })
      assert.equal("", rows())
    end)
  end)

  describe("the other session events", function()
    it("log:emit_backfill_completed() writes duration and optional count",
       function()
      assert.is_true(log:emit_backfill_completed{
        session = SESSION, peer = PEER, duration_ms = 5234, at = T0 })
      assert.is_true(log:emit_backfill_completed{
        session = SESSION, peer = PEER, duration_ms = 61000,
        record_count = 45000, at = T0 + 61 * NS_PER_SEC })
      assert.equal(
        row("2025-12-03T10:15:00+00:00", "backfill_session_completed|"
            .. "lifecycle|info|Backfill session completed successfully||"
            .. SESSION .. "|" .. PEER .. "|||5234")
        .. row("2025-12-03T10:16:01+00:00", "backfill_session_completed|"
               .. "lifecycle|info|Backfill session completed successfully||"
               .. SESSION .. "|" .. PEER .. "||45000|61000"),
        rows())
    end)

    it("log:emit_backfill_failed() writes the reason", function()
      assert.equal(row("2025-12-03T10:15:07+00:00",
        "backfill_session_failed|lifecycle|error|Backfill session failed: "
        .. 'peer disconnected|{"reason":"peer disconnected"}|' .. SESSION
        .. "|" .. PEER .. "|||1200"),
        emitted("emit_backfill_failed", {
          session = SESSION, peer = PEER, reason = "peer disconnected",
          duration_ms = 1200, at = "2025-12-03T10:15:07Z" }))
    end)

    it("log:emit_backfill_failed() defaults the duration to 0", function()
      assert.equal(row("2025-12-03T10:15:00+00:00",
        "backfill_session_failed|lifecycle|error|Backfill session failed: "
        .. 'no peers|{"reason":"no peers"}|' .. SESSION .. "||||0"),
        emitted("emit_backfill_failed",
                { session = SESSION, reason = "no peers", at = T0 }))
    end)

    it("log:emit_catch_up_started() and _completed()", function()
      assert.is_true(log:emit_catch_up_started{ session = SESSION,
                                                peer = PEER, at = T0 })
      assert.is_true(log:emit_catch_up_completed{
        session = SESSION, peer = PEER, record_count = 1500,
        duration_ms = 800, at = T0 + NS_PER_SEC })
      assert.is_true(log:emit_catch_up_completed{
        session = SESSION, peer = PEER, record_count = 0,
        at = T0 + NS_PER_SEC })
      assert.equal(
        row("2025-12-03T10:15:00+00:00", "catch_up_session_started|"
            .. "lifecycle|info|Catch-up session started with peer " .. PEER
            .. "||" .. SESSION .. "|" .. PEER .. "|||")
        .. row("2025-12-03T10:15:01+00:00", "catch_up_session_completed|"
               .. "lifecycle|info|Catch-up session completed: 1500 records||"
               .. SESSION .. "|" .. PEER .. "||1500|800")
        .. row("2025-12-03T10:15:01+00:00", "catch_up_session_completed|"
               .. "lifecycle|info|Catch-up session completed: 0 records||"
               .. SESSION .. "|" .. PEER .. "||0|0"),
        rows())
    end)
  end)

  describe("network events", function()
    it("log:emit_backfill_request_sent/_received() and "
       .. "log:emit_backfill_response_sent()", function()
      assert.is_true(log:emit_backfill_request_sent{
        session = SESSION, peer = PEER_B, model_type = "entry", at = T0 })
      assert.is_true(log:emit_backfill_request_sent{
        session = SESSION, peer = PEER_B, at = T0 })
      assert.is_true(log:emit_backfill_request_received{
        session = SESSION, peer = PEER_C, model_type = "tag", at = T0 })
      assert.is_true(log:emit_backfill_response_sent{
        session = SESSION, peer = PEER_C, model_type = "entry",
        record_count = 10000, duration_ms = 350, at = T0 })
      assert.is_true(log:emit_backfill_response_sent{
        session = SESSION, peer = PEER_C, record_count = 7, at = T0 })
      local ts = "2025-12-03T10:15:00+00:00"
      assert.equal(
        row(ts, "backfill_request_sent|network|debug|Backfill request sent "
                .. "to " .. PEER_B .. " (entry)||" .. SESSION .. "|" .. PEER_B
                .. "|entry||")
        .. row(ts, "backfill_request_sent|network|debug|Backfill request "
                   .. "sent to " .. PEER_B .. "||" .. SESSION .. "|" .. PEER_B
                   .. "|||")
        .. row(ts, "backfill_request_received|network|debug|Backfill "
                   .. "request received from " .. PEER_C .. " (tag)||"
                   .. SESSION .. "|" .. PEER_C .. "|tag||")
        .. row(ts, "backfill_response_sent|network|debug|Backfill response "
                   .. "sent to " .. PEER_C .. " (entry): 10000 records||"
                   .. SESSION .. "|" .. PEER_C .. "|entry|10000|350")
        .. row(ts, "backfill_response_sent|network|debug|Backfill response "
                   .. "sent to " .. PEER_C .. ": 7 records||" .. SESSION
                   .. "|" .. PEER_C .. "||7|0"),
        rows())
    end)

    it("log:emit_peer_connected() and _disconnected()", function()
      assert.is_true(log:emit_peer_connected{ peer = PEER, at = T0 })
      assert.is_true(log:emit_peer_disconnected{
        peer = PEER, reason = "connection timed out", at = T0 })
      assert.is_true(log:emit_peer_disconnected{ peer = PEER, at = T0 })
      local ts = "2025-12-03T10:15:00+00:00"
      assert.equal(
        row(ts, "peer_connected|network|info|Peer " .. PEER .. " connected"
                .. "|||" .. PEER .. "|||")
        .. row(ts, "peer_disconnected|network|info|Peer " .. PEER
                   .. ' disconnected: connection timed out|{"reason":'
                   .. '"connection timed out"}||' .. PEER .. "|||")
        .. row(ts, "peer_disconnected|network|info|Peer " .. PEER
                   .. " disconnected|||" .. PEER .. "|||"),
        rows())
    end)
  end)

  describe("sync errors", function()
    it("log:emit_buffer_overflow()", function()
      assert.equal(row("2025-12-03T10:15:00+00:00",
        "sync_error|error|error|Buffer overflow: 1247 updates dropped during "
        .. 'backfill|{"dropped_count":1247,"max_buffer_size":100000,'
        .. '"phase":"backfill_to_catchup_transition"}|||||'),
        emitted("emit_buffer_overflow",
                { dropped = 1247, max_buffer_size = 100000, at = T0 }))
    end)

    it("log:emit_stuck_dependencies()", function()
      assert.equal(row("2025-12-03T10:15:00+00:00",
        "sync_error|error|warning|Stuck dependencies: 340 records waiting for"
        .. ' 12 missing parents|{"phase":"backfill_to_ready_transition",'
        .. '"total_dependencies":12,"total_waiting_updates":340}|||||'),
        emitted("emit_stuck_dependencies", { total_dependencies = 12,
                                             total_waiting_updates = 340,
                                             at = T0 }))
    end)

    it("log:emit_watermark_too_old() with an age and the default threshold",
       function()
      assert.equal(row("2025-12-03T10:15:00+00:00",
        "sync_error|error|warning|Watermark too old: 30 days (threshold: 25 "
        .. 'days), forcing full sync|{"action":"force_full_sync",'
        .. '"threshold_days":25,"watermark_age_days":30}||' .. PEER .. "|||"),
        emitted("emit_watermark_too_old",
                { peer = PEER, age_days = 30, at = T0 }))
    end)

    it("log:emit_watermark_too_old() without a watermark", function()
      assert.equal(row("2025-12-03T10:15:00+00:00",
        "sync_error|error|warning|Watermark too old: 106751991167 days "
        .. "(threshold: 10 days), forcing full sync|{\"action\":"
        .. '"force_full_sync","threshold_days":10,'
        .. '"watermark_age_days":106751991167}||' .. PEER .. "|||"),
        emitted("emit_watermark_too_old",
                { peer = PEER, threshold_days = 10, at = T0 }))
    end)
  end)

  describe("log:events() on emitted rows", function()
    it("gives the details text and the decoded table", function()
      assert.is_true(log:emit_buffer_overflow{ dropped = 3,
                                               max_buffer_size = 9, at = T0 })
      assert.is_true(log:flush())
      local got = {}
      for ev in log:events() do got[#got + 1] = ev end
      assert.equal(1, #got)
      assert.equal('{"dropped_count":3,"max_buffer_size":9,'
                   .. '"phase":"backfill_to_catchup_transition"}',
                   got[1].details_json)
      assert.same({ dropped_count = 3, max_buffer_size = 9,
                    phase = "backfill_to_catchup_transition" },
                  got[1].details)
      assert.equal(T0, got[1].instant)
      assert.equal("Buffer overflow: 3 updates dropped during backfill",
                   got[1].summary)
    end)
  end)

  describe("argument errors", function()
    it("names an unknown field", function()
      assert.equal("bad argument #1 to 'emit_peer_connected' (unknown field "
                   .. "'when')",
                   emit_error("emit_peer_connected",
                              { peer = PEER, when = 1 }))
      assert.equal("bad argument #1 to 'emit_state_transition' (unknown "
                   .. "field 'state')",
                   emit_error("emit_state_transition",
                              { from = "ready", to = "paused", state = 1 }))
      assert.equal("bad argument #1 to 'emit_backfill_started' (unknown "
                   .. "field 'peer')",
                   emit_error("emit_backfill_started",
                              { peer_count = 1, peer = PEER }))
    end)

    it("names a missing required field", function()
      local cases = {
        { "emit_peer_connected", {}, "peer: missing" },
        { "emit_peer_disconnected", { reason = "x" }, "peer: missing" },
        { "emit_backfill_started", { session = SESSION },
          "peer_count: missing" },
        { "emit_backfill_completed", { session = SESSION, peer = PEER },
          "duration_ms: missing" },
        { "emit_backfill_failed", { session = SESSION, peer = PEER },
          "reason: missing" },
        { "emit_catch_up_started", { session = SESSION }, "peer: missing" },
        { "emit_catch_up_completed", { peer = PEER },
          "record_count: missing" },
        { "emit_backfill_request_sent", { session = SESSION },
          "peer: missing" },
        { "emit_backfill_request_received", { model_type = "entry" },
          "peer: missing" },
        { "emit_backfill_response_sent", { peer = PEER },
          "record_count: missing" },
        { "emit_buffer_overflow", { dropped = 1 },
          "max_buffer_size: missing" },
        { "emit_stuck_dependencies", { total_dependencies = 1 },
          "total_waiting_updates: missing" },
      }
      for _, c in ipairs(cases) do
        assert.equal("bad argument #1 to '" .. c[1] .. "' (" .. c[3] .. ")",
                     emit_error(c[1], c[2]))
      end
      assert.equal("", rows())
    end)

    it("names a field of the wrong type", function()
      local cases = {
        { "emit_peer_connected", { peer = 5 },
          "peer: string expected, got number" },
        { "emit_backfill_started", { peer_count = "3" },
          "peer_count: integer expected, got string" },
        { "emit_backfill_started", { peer_count = 2.5 },
          "peer_count: integer expected, got number" },
        { "emit_backfill_started", { peer_count = 1, session = true },
          "session: string expected, got boolean" },
        { "emit_watermark_too_old", { peer = PEER, age_days = "old" },
          "age_days: integer expected, got string" },
        { "emit_backfill_failed", { reason = {} },
          "reason: string expected, got table" },
        { "emit_peer_connected", { peer = PEER, at = {} },
          "at: string or integer expected, got table" },
        { "emit_peer_connected", { peer = PEER, at = "tomorrow" },
          "at: Invalid time format: tomorrow (e.g. '1 hour ago', '2h', "
          .. "'yesterday', '2025-12-03 10:00:00' or '2025-12-03T10:00:00Z')" },
        { "emit_peer_selected", { candidates = "x" },
          "candidates: list expected" },
        { "emit_peer_selected", { candidates = { 5 } },
          "candidates[1]: table expected" },
        { "emit_peer_selected", { candidates = { { is_online = true } } },
          "candidates[1].device_id: string expected" },
      }
      for _, c in ipairs(cases) do
        assert.equal("bad argument #1 to '" .. c[1] .. "' (" .. c[3] .. ")",
                     emit_error(c[1], c[2]))
      end
      assert.equal("bad argument #1 to 'emit_peer_connected' (table "
                   .. "expected, got string)",
                   emit_error("emit_peer_connected", PEER))
    end)

    it("refuses a selected index outside the candidates", function()
      local two = { { device_id = PEER, is_online = true },
                    { device_id = PEER_B, is_online = true } }
      for _, bad in ipairs{ 3, -1 } do
        assert.equal("bad argument #1 to 'emit_peer_selected' (selected: "
                     .. "not an index of candidates)",
                     emit_error("emit_peer_selected",
                                { candidates = two, selected = bad }))
      end
      assert.equal("bad argument #1 to 'emit_peer_selected' (selected: "
                   .. "integer expected, got number)",
                   emit_error("emit_peer_selected",
                              { candidates = two, selected = 1.5 }))
      assert.equal("", rows())
    end)

    it("refuses selected = 0 rather than choosing by the formula", function()
      local two = { { device_id = PEER, is_online = true },
                    { device_id = PEER_B, is_online = true } }
      assert.equal("bad argument #1 to 'emit_peer_selected' (selected: "
                   .. "not an index of candidates)",
                   emit_error("emit_peer_selected",
                              { candidates = two, selected = 0 }))
      assert.equal("", rows())
    end)

    it("refuses a bad state", function()
      local bad = "a state expected " .. STATES
      local cases = {
        { { from = "running", to = "ready" }, "from: " .. bad },
        { { from = "Ready", to = "paused" }, "from: " .. bad },
        { { from = "ready" }, "to: " .. bad },
        { { from = "ready", to = { "resting" } }, "to: " .. bad },
        { { from = "backfilling", to = "ready" },
          "from: backfilling needs a peer" },
        { { from = "ready", to = { "backfilling", progress = 5 } },
          "to: backfilling needs a peer" },
        { { from = "ready", to = "paused", reason = 1 },
          "reason: string expected, got number" },
      }
      for _, c in ipairs(cases) do
        assert.equal("bad argument #1 to 'emit_state_transition' (" .. c[2]
                     .. ")", emit_error("emit_state_transition", c[1]))
      end
      assert.equal("", rows())
    end)

    it("names a state field of the wrong type", function()
      assert.equal("bad argument #1 to 'emit_state_transition' "
                   .. "(from.progress: integer expected, got string)",
                   emit_error("emit_state_transition", {
                     from = { "backfilling", peer = PEER, progress = "half" },
                     to = "ready" }))
      assert.equal("bad argument #1 to 'emit_state_transition' "
                   .. "(to.buffered_count: integer expected, got number)",
                   emit_error("emit_state_transition", {
                     from = "ready",
                     to = { "catching_up", buffered_count = 1.5 } }))
    end)

    it("raises on a store without a device id, read-only or closed",
       function()
      log:close()
      log = assert(synclua.open(dir, { mode = "w" }))
      assert.equal("the event was refused: give the store a device_id when "
                   .. "opening it",
                   emit_error("emit_peer_connected", { peer = PEER }))
      log:close()
      log = assert(synclua.open(dir))
      assert.equal(db .. ": opened read-only: cannot append",
                   emit_error("emit_peer_connected", { peer = PEER }))
      assert.equal(db .. ": opened read-only: cannot append",
                   emit_error("emit_state_transition",
                              { from = "ready", to = "paused" }))
      assert.equal(db .. ": opened read-only: cannot append",
        support.error_of(function() return log:add_records("entry", 1) end))
      assert.same({ 0, 0 }, { log:batch_memory() })
      log:close()
      assert.equal("attempt to use a closed synclua.Store",
                   emit_error("emit_peer_connected", { peer = PEER }))
      assert.equal("attempt to use a closed synclua.Store",
        support.error_of(function() return log:batch_memory() end))
      log = nil
      assert.equal("", support.sqlite(db, "SELECT * FROM sync_event_log"))
    end)
  end)
end)

describe("batches", function()
  local dir, db, log

  before_each(function()
    dir = support.tmpdir()
    db = dir .. "/sync.db"
    log = assert(synclua.open(dir, { mode = "w", device_id = DEVICE }))
  end)

  after_each(function()
    if log then log:close() end
    support.rmdir(dir)
  end)

  local function batch_rows()
    assert.is_true(log:flush())
    return support.sqlite(db, "SELECT " .. COLUMNS .. " FROM sync_event_log"
                              .. " ORDER BY record_count")
  end

  local function batch(ts, rest)
    return row(ts, "batch_ingestion|data_flow|debug|" .. rest)
  end

  describe("log:add_records()", function()
    it("keeps one batch per peer and session, counts per model", function()
      assert.is_true(log:add_records("location", 5000, PEER, nil, T0))
      assert.is_true(log:add_records("tag", 3000, PEER, nil,
                                     "2025-12-03T10:15:01Z"))
      assert.is_true(log:add_records("entry", 1000, PEER, nil,
                                     T0 + 2 * NS_PER_SEC))
      assert.is_true(log:add_records("tag", 500, PEER, nil,
                                     T0 + 3 * NS_PER_SEC))
      assert.is_true(log:add_records("entry", 7, PEER, SESSION,
                                     T0 + 4 * NS_PER_SEC))
      assert.is_true(log:add_records("tag", 3, nil, nil,
                                     T0 + 4 * NS_PER_SEC))
      for i, m in ipairs{ "entry", "tag", "location", "volume" } do
        assert.is_true(log:add_records(m, 10 * i, PEER_B, nil,
                                       T0 + NS_PER_SEC))
      end
      assert.same({ 4 }, { select(2, log:batch_memory()) })
      assert.equal("", batch_rows())
      assert.is_true(log:flush_batches("2025-12-03T10:15:05Z"))
      assert.same({ 0 }, { select(2, log:batch_memory()) })
      local ts = "2025-12-03T10:15:05+00:00"
      assert.equal(
        batch(ts, 'Ingested batch of 3 records (3 tag)|{"models":{"tag":3}}'
                  .. "|||tag|3|1000")
        .. batch(ts, "Ingested batch of 7 records (7 entry)|"
                     .. '{"models":{"entry":7}}|' .. SESSION .. "|" .. PEER
                     .. "|entry|7|1000")
        .. batch(ts, "Ingested batch of 100 records across 4 model types|"
                     .. '{"models":{"entry":10,"location":30,"tag":20,'
                     .. '"volume":40}}||' .. PEER_B
                     .. "|volume,location,tag,entry|100|4000")
        .. batch(ts, "Ingested batch of 9500 records (5000 location, 3500 "
                     .. 'tag, 1000 entry)|{"models":{"entry":1000,'
                     .. '"location":5000,"tag":3500}}||' .. PEER
                     .. "|location,tag,entry|9500|5000"),
        batch_rows())
    end)

    it("writes a batch at once when it reaches 10,000 records", function()
      assert.is_true(log:add_records("entry", 6000, PEER, SESSION, T0))
      assert.is_true(log:add_records("tag", 3999, PEER, SESSION,
                                     T0 + NS_PER_SEC))
      assert.equal("", batch_rows())
      assert.is_true(log:add_records("tag", 1, PEER, SESSION,
                                     T0 + 2500 * MS))
      assert.same({ 0 }, { select(2, log:batch_memory()) })
      assert.equal(batch("2025-12-03T10:15:02.500+00:00",
        "Ingested batch of 10000 records (6000 entry, 4000 tag)|"
        .. '{"models":{"entry":6000,"tag":4000}}|' .. SESSION .. "|" .. PEER
        .. "|entry,tag|10000|2500"), batch_rows())
    end)

    it("returns true and ignores nil peer and session", function()
      assert.same({ true }, { log:add_records("entry", 0) })
      assert.same({ 1 }, { select(2, log:batch_memory()) })
    end)
  end)

  describe("log:tick_batches()", function()
    it("writes every pending batch on the 30 s grid, stamped at the grid "
       .. "instant", function()
      assert.is_true(log:add_records("entry", 10, PEER, nil, T0 + 250 * MS))
      assert.is_true(log:add_records("tag", 5, PEER_B, nil,
                                     T0 + 10 * NS_PER_SEC))
      assert.is_true(log:tick_batches(T0 + 30 * NS_PER_SEC + 249999999))
      assert.equal("", batch_rows())
      assert.is_true(log:tick_batches("2025-12-03T10:20:00Z"))
      local ts = "2025-12-03T10:15:30.250+00:00"
      assert.equal(
        batch(ts, 'Ingested batch of 5 records (5 tag)|{"models":{"tag":5}}'
                  .. "||" .. PEER_B .. "|tag|5|20250")
        .. batch(ts, "Ingested batch of 10 records (10 entry)|"
                     .. '{"models":{"entry":10}}||' .. PEER .. "|entry|10|"
                     .. "30000"),
        batch_rows())
    end)
  end)

  describe("log:batch_memory()", function()
    it("stays under 100 KB for 100 peers x 10 models and falls back after "
       .. "a flush", function()
      local empty, none = log:batch_memory()
      assert.equal(0, none)
      local models = { "entry", "tag", "location", "volume", "device",
                       "content_identity", "user_metadata", "collection",
                       "label", "shared_resources" }
      for p = 1, 100 do
        local peer = string.format("00000000-0000-4000-8000-%012d", p)
        for m, name in ipairs(models) do
          log:add_records(name, m, peer, nil, T0 + p * MS)
        end
      end
      local bytes, keys = log:batch_memory()
      assert.equal(100, keys)
      assert.is_true(bytes > empty and bytes <= 100 * 1024, bytes)
      assert.is_true(log:flush_batches(T0 + 2 * NS_PER_SEC))
      local after
      after, keys = log:batch_memory()
      assert.equal(0, keys)
      assert.is_true(after < 16 * 1024, after)
      assert.is_true(log:flush())
      assert.equal("100|5500\n", support.sqlite(db,
        "SELECT count(*), sum(record_count) FROM sync_event_log"))
    end)
  end)

  describe("close", function()
    it("writes pending batches at the last instant the clock reached",
       function()
      assert.is_true(log:add_records("entry", 5, PEER, SESSION, T0))
      assert.is_true(log:add_records("tag", 6, PEER, SESSION,
                                     T0 + 12500 * MS))
      assert.is_true(log:tick_batches(T0 + 20 * NS_PER_SEC))
      log:close()
      log = nil
      assert.equal(batch("2025-12-03T10:15:20+00:00",
        "Ingested batch of 11 records (6 tag, 5 entry)|"
        .. '{"models":{"entry":5,"tag":6}}|' .. SESSION .. "|" .. PEER
        .. "|tag,entry|11|20000"),
        support.sqlite(db, "SELECT " .. COLUMNS .. " FROM sync_event_log"))
    end)
  end)

  describe("open options", function()
    it("take batch_interval and batch_records", function()
      log:close()
      log = assert(synclua.open(dir, { mode = "w", device_id = DEVICE,
                                       batch_interval = "5s",
                                       batch_records = 100 }))
      assert.is_true(log:add_records("entry", 100, PEER, nil, T0))
      assert.is_true(log:add_records("tag", 1, PEER, nil, T0 + NS_PER_SEC))
      -- The grid started with the first record (10:15:00) and keeps its
      -- instants after the size flush: the next falls at 10:15:05.
      assert.is_true(log:tick_batches(T0 + 4999 * MS))
      assert.equal(batch("2025-12-03T10:15:00+00:00", "Ingested batch of "
                         .. '100 records (100 entry)|{"models":{"entry":100}}'
                         .. "||" .. PEER .. "|entry|100|0"), batch_rows())
      assert.is_true(log:tick_batches(T0 + 6 * NS_PER_SEC))
      assert.equal(
        batch("2025-12-03T10:15:05+00:00", "Ingested batch of 1 records "
              .. '(1 tag)|{"models":{"tag":1}}||' .. PEER .. "|tag|1|4000")
        .. batch("2025-12-03T10:15:00+00:00", "Ingested batch of 100 "
                 .. 'records (100 entry)|{"models":{"entry":100}}||' .. PEER
                 .. "|entry|100|0"),
        batch_rows())
    end)
  end)

  describe("argument errors", function()
    local function add_error(...)
      local args = table.pack(...)
      return support.error_of(function()
        return log:add_records(table.unpack(args, 1, args.n))
      end)
    end

    it("refuses a model name that is empty or has a comma", function()
      assert.equal("bad argument #1 to 'add_records' (a model type name, "
                   .. "without ',')", add_error("entry,tag", 5))
      assert.equal("bad argument #1 to 'add_records' (a model type name, "
                   .. "without ',')", add_error("", 5))
      assert.equal("bad argument #1 to 'add_records' (string expected, got "
                   .. "nil)", add_error(nil, 5))
    end)

    it("refuses a negative or fractional count", function()
      assert.equal("bad argument #2 to 'add_records' (non-negative count "
                   .. "expected)", add_error("entry", -1))
      assert.equal("bad argument #2 to 'add_records' (number has no integer "
                   .. "representation)", add_error("entry", 1.5))
      assert.equal("bad argument #2 to 'add_records' (number expected, got "
                   .. "no value)", add_error("entry"))
    end)

    it("refuses a bad time", function()
      assert.equal("bad argument #5 to 'add_records' (at: string or integer "
                   .. "expected, got table)",
                   add_error("entry", 1, PEER, nil, {}))
      assert.equal("bad argument #1 to 'flush_batches' (at: string or "
                   .. "integer expected, got boolean)",
        support.error_of(function() return log:flush_batches(true) end))
      assert.equal("bad argument #1 to 'tick_batches' (at: string or "
                   .. "integer expected, got table)",
        support.error_of(function() return log:tick_batches({}) end))
      assert.same({ 0 }, { select(2, log:batch_memory()) })
    end)
  end)
end)

describe("synclua.select_peer()", function()
  local function c(id, online, complete, latency, active)
    return { device_id = id, is_online = online, has_complete_state = complete,
             latency_ms = latency, active_syncs = active }
  end

  it("returns the 1-based index of the best online peer and every score",
     function()
    assert.same({ 1, { 142.6330108642578, 110.0, 300.0, 0.0 } },
      { synclua.select_peer{ c(PEER, true, true, 23.456, 0),
                             c(PEER_B, true, true, 100, 0),
                             c(PEER_C, false, true, 5, 0),
                             c(SESSION, true, false, 50, 2) } })
  end)

  it("keeps input order on ties", function()
    assert.same({ 1, { 110.0, 110.0 } },
      { synclua.select_peer{ c(PEER, true, true, 100, 0),
                             c(PEER_B, true, true, 100, 0) } })
    assert.same({ 2, { 105.0, 110.0, 110.0 } },
      { synclua.select_peer{ c(PEER, true, true, 200, 0),
                             c(PEER_B, true, true, 100, 0),
                             c(PEER_C, true, true, 100, 0) } })
  end)

  it("adds no latency term at zero latency and clamps below 1 ms",
     function()
    assert.same({ 2, { 100.0, 1100.0, 1100.0 } },
      { synclua.select_peer{ c(PEER, true, true, 0, 0),
                             c(PEER_B, true, true, 0.5, 0),
                             c(PEER_C, true, true, 1, 0) } })
  end)

  it("scores a NaN latency as an unmeasured peer", function()
    assert.same({ 1, { 100.0, 100.0 } },
      { synclua.select_peer{ c(PEER, true, true, 0 / 0, 0),
                             c(PEER_B, true, true, 0, 0) } })
  end)

  it("takes 10 per active sync", function()
    assert.same({ 2, { 190.0, 200.0 } },
      { synclua.select_peer{ c(PEER, true, true, 5, 11),
                             c(PEER_B, true, true, 10, 0) } })
  end)

  it("never selects an offline peer", function()
    assert.same({ 2, { 1100.0, -50.0 } },
      { synclua.select_peer{ c(PEER, false, true, 0.5, 0),
                             c(PEER_B, true, false, 0, 5) } })
  end)

  it("returns nil and Spacedrive's message when no peer is online",
     function()
    assert.same({ nil, "No online peers available for backfill" },
      { synclua.select_peer{ c(PEER, false, true, 10, 0) } })
    assert.same({ nil, "No online peers available for backfill" },
      { synclua.select_peer{} })
  end)

  it("defaults absent fields to offline, incomplete, 0 ms, 0 syncs",
     function()
    assert.same({ 1, { 0.0 } },
      { synclua.select_peer{ { device_id = PEER, is_online = true } } })
  end)

  it("raises on bad candidates", function()
    assert.equal("bad argument #1 to 'select_peer' (table expected, got "
                 .. "string)",
      support.error_of(function() return synclua.select_peer("x") end))
    assert.equal("bad argument #1 to 'select_peer' (candidates[2]: table "
                 .. "expected)",
      support.error_of(function()
        return synclua.select_peer{ c(PEER, true, true, 1, 0), true }
      end))
    assert.equal("bad argument #1 to 'select_peer' "
                 .. "(candidates[1].latency_ms: number expected, got string)",
      support.error_of(function()
        return synclua.select_peer{ { device_id = PEER, is_online = true,
                                      latency_ms = "fast" } }
      end))
  end)
end)

describe("synclua.peer_score()", function()
  it("is Spacedrive's f32 score, widened", function()
    local function score(online, complete, latency, active)
      return synclua.peer_score{ device_id = PEER, is_online = online,
                                 has_complete_state = complete,
                                 latency_ms = latency, active_syncs = active }
    end
    assert.equal(142.6330108642578, score(true, true, 23.456, 0))
    assert.equal(333.3333435058594, score(true, false, 3, 0))
    assert.equal(195.0, score(true, true, 8, 3))
    assert.equal(-20.0, score(true, false, 100, 3))
    assert.equal(100.0, score(true, true, 0, 0))
    assert.equal(1000.0, score(false, false, 0.25, 0))
    assert.equal(100.0, score(true, true, 0 / 0, 0))
    assert.equal(100.0, score(true, true, -5, 0))
  end)
end)
