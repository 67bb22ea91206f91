-- Reading a synclua.Store: log:events (every filter, the order, the event
-- tables, the cursor), log:count and log:time_report, on rows synclua wrote
-- and on rows other programs wrote with any RFC 3339 form (or none).
local synclua = require "synclua"
local support = dofile((debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$")
                        or ".") .. "/fixtures/support.lua")

local DEVICE = "2f1a8f8e-0c3b-4d52-9d0e-5b1c2a3d4e5f"
local OTHER = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
local PEER_A = "a1b2c3d4-e5f6-4789-abcd-ef0123456789"
local PEER_B = "b2c3d4e5-f6a7-4890-bcde-f01234567890"
local SESSION = "0f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f"

local VALID_TYPES = "state_transition, backfill_session_started, "
  .. "backfill_session_completed, backfill_session_failed, "
  .. "catch_up_session_started, catch_up_session_completed, "
  .. "batch_ingestion, backfill_request_sent, backfill_request_received, "
  .. "backfill_response_sent, peer_connected, peer_disconnected, sync_error"
local HINT = " (e.g. '1 hour ago', '2h', 'yesterday', '2025-12-03 10:00:00'"
  .. " or '2025-12-03T10:00:00Z')"

-- The summaries of what log:events(filter) yields, space-separated.
local function summaries(log, filter)
  local out = {}
  for ev in log:events(filter) do out[#out + 1] = ev.summary end
  return table.concat(out, " ")
end

-- A log of 12 events written by synclua (canonical timestamps), one minute
-- apart from 10:00 to 10:11 except e6/e7 which share 10:05; summaries e1..e12
-- in id order.
local ROWS = {
  { "state_transition", "00", {} },
  { "backfill_session_started", "01",
    { correlation_id = SESSION:upper(), peer_device_id = PEER_A } },
  { "batch_ingestion", "02", { model_types = { "tags", "entry" },
                               peer_device_id = PEER_A } },
  { "batch_ingestion", "03", { model_types = { "tag" }, peer_device_id = PEER_B } },
  { "batch_ingestion", "04", { model_types = { "location", "tag" },
                               correlation_id = SESSION } },
  { "backfill_session_completed", "05", { correlation_id = SESSION,
                                          peer_device_id = PEER_A } },
  { "sync_error", "05", { severity = "warning" } },
  { "peer_connected", "06", { peer_device_id = PEER_B, device_id = OTHER } },
  { "sync_error", "07", {} },
  { "batch_ingestion", "08", { model_types = { "entrytag" } } },
  { "peer_disconnected", "09", { peer_device_id = PEER_B, severity = "warning" } },
  { "backfill_request_sent", "11", { device_id = OTHER } },
}

local function write_rows(log)
  for i, r in ipairs(ROWS) do
    local ev = { event_type = r[1], summary = "e" .. i,
                 timestamp = "2025-12-03T10:" .. r[2] .. ":00Z" }
    for k, v in pairs(r[3]) do ev[k] = v end
    assert.is_true(log:append(ev))
  end
  assert.is_true(log:flush())
end

describe("log:events()", function()
  local dir, log

  setup(function()
    dir = support.tmpdir()
    local w = assert(synclua.open(dir, { mode = "w", device_id = DEVICE }))
    write_rows(w)
    assert.is_true(w:close())
    log = assert(synclua.open(dir))
  end)

  teardown(function()
    if log then log:close() end
    support.rmdir(dir)
  end)

  describe("order", function()
    it("is newest first by default, ties in ascending id as Spacedrive's",
       function()
      -- e6 and e7 share 10:05: Spacedrive's query hands them out e6 e7.
      assert.equal("e12 e11 e10 e9 e8 e6 e7 e5 e4 e3 e2 e1", summaries(log))
      assert.equal("e12 e11 e10 e9 e8 e6 e7 e5 e4 e3 e2 e1",
                   summaries(log, { order = "desc" }))
    end)

    it("is oldest first with order = 'asc', ties in ascending id",
       function()
      assert.equal("e1 e2 e3 e4 e5 e6 e7 e8 e9 e10 e11 e12",
                   summaries(log, { order = "asc" }))
    end)
  end)

  describe("time filters", function()
    it("keeps since and until inclusive", function()
      assert.equal("e4 e5 e6 e7 e8", summaries(log, { order = "asc",
        since = "2025-12-03T10:03:00Z", ["until"] = "2025-12-03T10:06:00Z" }))
    end)

    it("reads any offset, a zoneless UTC time and integer instants",
       function()
      assert.equal("e4 e5 e6 e7 e8", summaries(log, { order = "asc",
        since = "2025-12-03T12:03:00+02:00",
        ["until"] = "2025-12-03 10:06:00" }))
      assert.equal("e6 e7", summaries(log, { order = "asc",
        since = support.instant("2025-12-03 10:05:00"),
        ["until"] = support.instant("2025-12-03 10:05:00") }))
      assert.equal("e1", summaries(log, {
        ["until"] = support.instant("2025-12-03 10:00:59", 999999999) }))
      assert.equal("e12", summaries(log, {
        since = support.instant("2025-12-03 10:10:00", 1) }))
    end)

    it("takes relative times against the clock", function()
      assert.equal("", summaries(log, { since = "2h" }))
      assert.equal("e12", summaries(log, { since = "2025-12-03T10:11:00Z",
                                           ["until"] = "now" }))
    end)
  end)

  describe("field filters", function()
    it("selects event types from a list, a string, or event_type",
       function()
      assert.equal("e11 e8", summaries(log, {
        event_types = { "peer_connected", "peer_disconnected" } }))
      assert.equal("e9 e7", summaries(log, { event_types = "sync_error" }))
      assert.equal("e9 e7", summaries(log, { event_type = "sync_error" }))
    end)

    it("gives each row once when a type is named twice", function()
      assert.equal("e11 e9 e8 e7", summaries(log, { event_types = {
        "sync_error", "peer_connected", "sync_error", "peer_disconnected",
        "peer_connected" } }))
      assert.equal("e9 e7", summaries(log, {
        event_types = { "sync_error", "sync_error" } }))
    end)

    it("selects categories from a list, a string, or category", function()
      assert.equal("e12 e11 e9 e8 e7", summaries(log, {
        categories = { "network", "error" } }))
      assert.equal("e10 e5 e4 e3", summaries(log, { categories = "data_flow" }))
      assert.equal("e9 e7", summaries(log, { category = "error" }))
    end)

    it("selects severities as a set, a list and a threshold", function()
      assert.equal("e12 e10 e9 e5 e4 e3", summaries(log,
        { severities = "debug,error" }))
      assert.equal("e12 e10 e9 e5 e4 e3", summaries(log,
        { severities = { "debug", "error" } }))
      assert.equal("e11 e9 e7", summaries(log, { severity = "warning+" }))
      assert.equal("e11 e7", summaries(log, { severity = "warning" }))
      assert.equal("e11 e9 e8 e6 e7 e2 e1", summaries(log,
        { severities = { "info+" } }))
    end)

    it("matches the peer, given in any case", function()
      assert.equal("e6 e3 e2", summaries(log, { peer = PEER_A }))
      assert.equal("e11 e8 e4", summaries(log, { peer = PEER_B:upper() }))
    end)

    it("matches the device, given in any case", function()
      assert.equal("e12 e8", summaries(log, { device = OTHER:upper() }))
      assert.equal(10, log:count{ device = DEVICE })
    end)

    it("matches the correlation id, given in uppercase or not", function()
      assert.equal("e6 e5 e2", summaries(log, { correlation_id = SESSION:upper() }))
      assert.equal("e6 e5 e2", summaries(log, { correlation_id = SESSION }))
    end)

    it("matches a model type against whole elements of the list, never a "
       .. "substring", function()
      assert.equal("e5 e4", summaries(log, { model_type = "tag" }))
      assert.equal("e3", summaries(log, { model_type = "tags" }))
      assert.equal("e3", summaries(log, { model_type = "entry" }))
      assert.equal("", summaries(log, { model_type = "ta%" }))
      assert.equal("", summaries(log, { model_type = "ta_" }))
      assert.equal("", summaries(log, { model_type = "" }))
    end)

    it("matches a long model type name against whole elements too",
       function()
      local dir2 = support.tmpdir()
      finally(function() support.rmdir(dir2) end)
      local long = ("x"):rep(80)
      local w = assert(synclua.open(dir2, { mode = "w", device_id = DEVICE }))
      w:append{ event_type = "batch_ingestion", summary = "inside",
                model_types = { "y" .. long .. "z" } }
      w:append{ event_type = "batch_ingestion", summary = "element",
                model_types = { "entry", long } }
      assert.is_true(w:flush())
      local got = summaries(w, { model_type = long })
      assert.is_true(w:close())
      assert.equal("element", got)
    end)

    it("combines filters with AND", function()
      assert.equal("e6 e2", summaries(log, { peer = PEER_A,
        categories = "lifecycle", since = "2025-12-03T10:01:00Z" }))
      assert.equal("e4", summaries(log, { event_type = "batch_ingestion",
        severity = "debug", model_type = "tag", peer = PEER_B }))
    end)
  end)

  describe("limit and offset", function()
    it("page through the ordered rows", function()
      assert.equal("e12 e11 e10", summaries(log, { limit = 3 }))
      -- A page may end inside an instant: e6 ends this one, e7 (10:05
      -- too) starts the next, and no row is given twice or left out.
      assert.equal("e9 e8 e6", summaries(log, { limit = 3, offset = 3 }))
      assert.equal("e7 e5 e4", summaries(log, { limit = 3, offset = 6 }))
      local at_1005 = { since = "2025-12-03T10:05:00Z",
                        ["until"] = "2025-12-03T10:05:00Z" }
      assert.equal("e6 e7", summaries(log, at_1005))
      at_1005.offset, at_1005.limit = 1, 1
      assert.equal("e7", summaries(log, at_1005))
      assert.equal("e2 e1", summaries(log, { limit = 3, offset = 10 }))
      assert.equal("", summaries(log, { limit = 0 }))
      assert.equal("e3 e4 e5", summaries(log, { order = "asc", offset = 2,
                                                limit = 3 }))
      assert.equal("e2 e1", summaries(log, { offset = 10 }))
    end)

    it("take the largest integers without overflowing", function()
      -- In a child process: a sanitized build aborts on signed overflow,
      -- and that should fail this case, not end the whole run.
      local out, ok = support.lua_process(string.format([[
        local synclua = require "synclua"
        local log = assert(synclua.open(%q))
        local function n(filter)
          local k = 0
          for _ in log:events(filter) do k = k + 1 end
          return k
        end
        local max = math.maxinteger
        io.write(n{ limit = max, offset = 1 }, " ",
                 n{ limit = 1, offset = max }, " ",
                 n{ limit = max, offset = 2,
                    event_types = { "sync_error", "batch_ingestion" } }, " ",
                 n{ limit = max, offset = 1, severities = "debug,error" }, " ",
                 tostring(log:first{ offset = max }), " ",
                 log:count{ limit = max, offset = 1 })
        assert(log:close())]], dir))
      assert.equal("11 0 4 5 nil 11", out)
      assert.is_true(ok)
    end)

    it("page the same through several types or severities at once",
       function()
      assert.equal("e9 e7 e5", summaries(log, { limit = 3, offset = 1,
        event_types = { "sync_error", "batch_ingestion" } }))
      assert.equal("e4 e5 e7", summaries(log, { limit = 3, offset = 1,
        order = "asc", event_types = { "batch_ingestion", "sync_error" } }))
      assert.equal("e11 e10 e9 e7", summaries(log, { limit = 4, offset = 1,
        severities = "debug,warning+" }))
      assert.equal("e7 e9", summaries(log, { limit = 2, order = "asc",
        event_types = { "sync_error", "peer_connected", "peer_disconnected" },
        offset = 0, severity = "warning+" }))
    end)
  end)

  describe("the event tables", function()
    it("have exactly the documented fields, typed", function()
      local dir2 = support.tmpdir()
      finally(function() support.rmdir(dir2) end)
      local w = assert(synclua.open(dir2, { mode = "w", device_id = DEVICE }))
      w:append{ event_type = "batch_ingestion",
                summary = "Ingested batch of 160 records",
                timestamp = "2025-12-03T10:15:00.123456789Z",
                details = { reason = "x", none = synclua.null,
                            list = { 1, 2.5 } },
                correlation_id = SESSION, peer_device_id = PEER_A,
                model_types = { "entry", "tag", "location" },
                record_count = 160, duration_ms = 28000 }
      w:append{ event_type = "state_transition", summary = "Ready",
                timestamp = "2025-12-03T10:16:00Z" }
      assert.is_true(w:flush())
      local got = {}
      for ev in w:events{ order = "asc" } do got[#got + 1] = ev end
      assert.is_true(w:close())
      assert.same({
        id = 1, timestamp = "2025-12-03T10:15:00.123456789+00:00",
        instant = support.instant("2025-12-03 10:15:00", 123456789),
        device_id = DEVICE, event_type = "batch_ingestion",
        category = "data_flow", severity = "debug",
        summary = "Ingested batch of 160 records",
        details = { list = { 1, 2.5 }, none = synclua.null, reason = "x" },
        details_json = '{"list":[1,2.5],"none":null,"reason":"x"}',
        correlation_id = SESSION, peer_device_id = PEER_A,
        model_types = { "entry", "tag", "location" },
        record_count = 160, duration_ms = 28000,
      }, got[1])
      assert.same({
        id = 2, timestamp = "2025-12-03T10:16:00+00:00",
        instant = support.instant("2025-12-03 10:16:00"),
        device_id = DEVICE, event_type = "state_transition",
        category = "lifecycle", severity = "info", summary = "Ready",
      }, got[2])
      for _, k in ipairs{ "id", "instant", "record_count", "duration_ms" } do
        assert.equal("integer", math.type(got[1][k]), k)
      end
      assert.equal("integer", math.type(got[1].details.list[1]))
      assert.equal("float", math.type(got[1].details.list[2]))
    end)

    it("keep details as text with raw = true", function()
      local dir2 = support.tmpdir()
      finally(function() support.rmdir(dir2) end)
      local w = assert(synclua.open(dir2, { mode = "w", device_id = DEVICE }))
      w:append{ event_type = "sync_error", summary = "s",
                details = { b = 2, a = 1 } }
      assert.is_true(w:flush())
      local got
      for ev in w:events{ raw = true } do got = ev end
      assert.is_true(w:close())
      assert.equal('{"a":1,"b":2}', got.details)
      assert.equal('{"a":1,"b":2}', got.details_json)
    end)

    it("give back what other programs stored: details that are not JSON "
       .. "as text, model_types split on ','", function()
      local dir2 = support.tmpdir()
      finally(function() support.rmdir(dir2) end)
      support.sqlite(dir2 .. "/sync.db", support.DDL)
      support.insert_rows(dir2 .. "/sync.db", {
        { timestamp = "2025-12-03T10:00:00+00:00", summary = "not json",
          details = "not json {", model_types = "" },
        { timestamp = "2025-12-03T10:01:00+00:00", summary = "empty element",
          details = '{"b":1,"a":2}', model_types = "a,,b" },
      })
      local r = assert(synclua.open(dir2))
      local got = {}
      for ev in r:events{ order = "asc" } do
        got[#got + 1] = { ev.details, ev.details_json, ev.model_types }
      end
      assert.is_true(r:close())
      assert.same({
        { "not json {", "not json {", { "" } },
        { { a = 2, b = 1 }, '{"b":1,"a":2}', { "a", "", "b" } },
      }, got)
    end)
  end)

  describe("the cursor", function()
    it("is the fourth value, closed by a break out of the for loop",
       function()
      local it, state, ctl, cursor = log:events{}
      assert.equal("synclua.Cursor", tostring(cursor))
      assert.equal(cursor, state)
      assert.is_nil(ctl)
      local n = 0
      for ev in it, state, ctl, cursor do
        n = n + 1
        assert.equal("e12", ev.summary)
        break
      end
      assert.equal(1, n)
      assert.equal("synclua.Cursor (closed)", tostring(cursor))
      assert.is_nil(cursor:next())
      cursor:close() -- twice is fine
    end)

    it("is closed when the loop ends or raises", function()
      local _, _, _, done = log:events{ limit = 2 }
      for _ in done.next, done, nil, done do end
      assert.equal("synclua.Cursor (closed)", tostring(done))
      local _, _, _, failing = log:events{}
      local ok, err = pcall(function()
        for _ in failing.next, failing, nil, failing do error("stop", 0) end
      end)
      assert.same({ false, "stop" }, { ok, err })
      assert.equal("synclua.Cursor (closed)", tostring(failing))
    end)

    it("lets the store close and the file reopen after a break", function()
      local dir2 = support.tmpdir()
      finally(function() support.rmdir(dir2) end)
      local w = assert(synclua.open(dir2, { mode = "w", device_id = DEVICE }))
      write_rows(w)
      for _ in w:events{} do break end
      assert.is_true(w:close())
      local again = assert(synclua.open(dir2, { mode = "w",
                                                device_id = DEVICE }))
      assert.equal(12, again:count())
      assert.is_true(again:close())
    end)

    it("keeps its store alive when nothing else refers to it", function()
      local dir2 = support.tmpdir()
      finally(function() support.rmdir(dir2) end)
      local w = assert(synclua.open(dir2, { mode = "w", device_id = DEVICE }))
      write_rows(w)
      local _, _, _, cursor = w:events{ order = "asc" }
      w = nil
      collectgarbage()
      collectgarbage()
      local got = {}
      for ev in cursor.next, cursor, nil, cursor do got[#got + 1] = ev.summary end
      assert.equal("e1 e2 e3 e4 e5 e6 e7 e8 e9 e10 e11 e12",
                   table.concat(got, " "))
      cursor = nil
      collectgarbage()
      collectgarbage()
    end)

    it("streams independently of other cursors on the same query", function()
      local cursors = {}
      for i = 1, 20 do
        local _, _, _, c = log:events{ order = "asc" }
        cursors[i] = c
      end
      for i = 1, 20 do assert.equal("e1", cursors[i]:next().summary) end
      for i = 1, 20 do assert.equal("e2", cursors[i]:next().summary) end
      local rest = {}
      for ev in cursors[20].next, cursors[20], nil, cursors[20] do
        rest[#rest + 1] = ev.summary
      end
      assert.equal("e3 e4 e5 e6 e7 e8 e9 e10 e11 e12", table.concat(rest, " "))
      for i = 1, 19 do cursors[i]:close() end
      assert.equal("e12 e11", summaries(log, { limit = 2 }))
    end)
  end)

  describe("refusals", function()
    local function events_error(filter)
      return support.error_of(function() return log:events(filter) end)
    end

    it("raise with the exact message for each bad filter", function()
      local cases = {
        { { colour = "red" }, "unknown filter field 'colour'" },
        { { [1] = "x" }, "unknown filter field '1'" },
        { { since = "tomorrow" }, "since: Invalid time format: tomorrow" .. HINT },
        { { ["until"] = "1 fortnight ago" },
          "until: Unknown time unit: fortnight" .. HINT },
        { { since = true }, "since: string or integer expected, got boolean" },
        { { event_types = { "sync_error", "bogus" } },
          "Invalid event type: bogus (valid: " .. VALID_TYPES .. ")" },
        { { event_type = "SyncError" },
          "Invalid event type: SyncError (valid: " .. VALID_TYPES .. ")" },
        { { event_types = { 1 } }, "event_types[1]: string expected, got number" },
        { { categories = "errors" }, "Invalid category: errors (valid: "
          .. "lifecycle, data_flow, network, error)" },
        { { categories = 3 }, "categories: string or list expected, got number" },
        { { severity = "loud" }, "severities: Invalid severity: loud (valid: "
          .. "debug, info, warning, error; a name with '+' means that "
          .. "severity and above, e.g. 'warning+')" },
        { { severities = { "info", "Error" } }, "severities: Invalid severity:"
          .. " Error (valid: debug, info, warning, error; a name with '+' "
          .. "means that severity and above, e.g. 'warning+')" },
        { { peer = 5 }, "peer: string expected, got number" },
        { { model_type = {} }, "model_type: string expected, got table" },
        { { model_type = "tag,location" }, "model_type: one model type, "
          .. "without ',' (got 'tag,location')" },
        { { limit = -1 }, "limit: non-negative integer expected" },
        { { limit = 2.5 }, "limit: non-negative integer expected" },
        { { offset = -2 }, "offset: non-negative integer expected" },
        { { order = "up" }, "order: 'asc' or 'desc' expected, got 'up'" },
      }
      for _, case in ipairs(cases) do
        assert.equal("bad argument #1 to 'events' (" .. case[2] .. ")",
                     events_error(case[1]))
      end
      assert.equal("bad argument #1 to 'events' (table expected, got string)",
                   events_error("sync_error"))
    end)
  end)
end)

describe("log:first()", function()
  local dir, log

  setup(function()
    dir = support.tmpdir()
    log = assert(synclua.open(dir, { mode = "w", device_id = DEVICE }))
    write_rows(log)
    log:append{ event_type = "sync_error", summary = "with details",
                timestamp = "2025-12-03T09:00:00Z", details = { b = 2, a = 1 } }
    assert.is_true(log:flush())
  end)

  teardown(function()
    if log then log:close() end
    support.rmdir(dir)
  end)

  it("returns the first event the query would yield", function()
    assert.equal("e12", log:first().summary)
    assert.equal("with details", log:first{ order = "asc" }.summary)
    assert.equal("e9", log:first{ event_type = "sync_error" }.summary)
    assert.equal("e10", log:first{ offset = 2 }.summary)
    assert.equal("e11", log:first{ limit = 5, offset = 1 }.summary)
    assert.same({ "e6", 6 }, { log:first{ correlation_id = SESSION }.summary,
                              log:first{ correlation_id = SESSION }.id })
  end)

  it("decodes details unless raw = true", function()
    assert.same({ a = 1, b = 2 },
                log:first{ order = "asc" }.details)
    assert.equal('{"a":1,"b":2}',
                 log:first{ order = "asc", raw = true }.details)
  end)

  it("returns a single nil when nothing matches", function()
    assert.same({ n = 1 }, table.pack(log:first{ model_type = "album" }))
  end)

  it("raises for a bad filter as log:events does", function()
    assert.equal("bad argument #1 to 'first' (unknown filter field 'colour')",
      support.error_of(function() return log:first{ colour = "red" } end))
    assert.equal("bad argument #1 to 'first' (since: Invalid time format: "
                 .. "tomorrow" .. HINT .. ")",
      support.error_of(function() return log:first{ since = "tomorrow" } end))
  end)
end)

describe("log:count()", function()
  local dir, log

  setup(function()
    dir = support.tmpdir()
    log = assert(synclua.open(dir, { mode = "w", device_id = DEVICE }))
    write_rows(log)
  end)

  teardown(function()
    if log then log:close() end
    support.rmdir(dir)
  end)

  it("counts what log:events would yield", function()
    assert.equal(12, log:count())
    assert.equal(12, log:count{})
    assert.equal(4, log:count{ event_type = "batch_ingestion" })
    assert.equal(3, log:count{ severity = "warning+" })
    assert.equal(5, log:count{ since = "2025-12-03T10:03:00Z",
                               ["until"] = "2025-12-03T10:06:00Z" })
    assert.equal("integer", math.type(log:count()))
  end)

  it("applies limit and offset", function()
    assert.equal(3, log:count{ limit = 3 })
    assert.equal(2, log:count{ offset = 10 })
    assert.equal(2, log:count{ limit = 5, offset = 10 })
    assert.equal(0, log:count{ offset = 12 })
    assert.equal(0, log:count{ limit = 0 })
    assert.equal(2, log:count{ limit = 2, event_types = { "sync_error",
                                                          "peer_connected" } })
  end)

  it("raises for a bad filter as log:events does", function()
    assert.equal("bad argument #1 to 'count' (unknown filter field 'colour')",
      support.error_of(function() return log:count{ colour = "red" } end))
    assert.equal("bad argument #1 to 'count' (Invalid event type: x (valid: "
                 .. VALID_TYPES .. "))",
      support.error_of(function() return log:count{ event_type = "x" } end))
  end)
end)

-- Rows written by other programs: every filter and the order work on the
-- instant, whatever the text.
describe("log:events() on foreign timestamps", function()
  local dir, db, log
  -- id, text, summary; instants in the comments (all 2025-12-03, UTC).
  local FOREIGN = {
    { "2025-12-03T10:00:00Z", "a" },                  -- 10:00:00
    { "2025-12-03T11:30:00+02:00", "b" },             -- 09:30:00
    { "2025-12-03T10:00:00.5+00:00", "c" },           -- 10:00:00.5
    { "2025-12-03 09:45:00.123456789+00:00", "d" },   -- 09:45:00.123456789
    { "2025-12-03t10:15:00-01:00", "e" },             -- 11:15:00
    { "2025-12-03T09:00:00+00:00", "f" },             -- 09:00:00
    { "2025-12-03T10:30:00.250+00:00", "g" },         -- 10:30:00.25
    { "2025-12-03T11:00:00+00:00", "h" },             -- 11:00:00
    { "2025-12-03T10:00:00+00:00", "i" },             -- 10:00:00, as a
    { "garbage", "z" },                               -- no instant
  }

  setup(function()
    dir = support.tmpdir()
    db = dir .. "/sync.db"
    support.sqlite(db, support.DDL)
    local rows = {}
    for i, r in ipairs(FOREIGN) do
      rows[i] = { timestamp = r[1], summary = r[2],
                  event_type = i % 2 == 0 and "sync_error" or "state_transition",
                  severity = i % 2 == 0 and "error" or "info" }
    end
    support.insert_rows(db, rows)
    log = assert(synclua.open(db))
  end)

  teardown(function()
    if log then log:close() end
    support.rmdir(dir)
  end)

  it("orders by instant, ties by ascending id, the unparsable last either "
     .. "way", function()
    assert.equal("e h g c a i d b f z", summaries(log))
    assert.equal("f b d a i c g h e z", summaries(log, { order = "asc" }))
  end)

  it("orders by instant through several types or severities with a limit",
     function()
    assert.equal("e h g c a i d b f z", summaries(log, { limit = 20,
      event_types = { "sync_error", "state_transition" } }))
    assert.equal("b d a i c", summaries(log, { limit = 5, offset = 1,
      order = "asc", severities = "info,error" }))
    assert.equal("z", summaries(log, { limit = 1, offset = 9,
      event_types = { "sync_error", "state_transition" } }))
  end)

  it("filters since and until on the instant, inclusive", function()
    assert.equal("a i c g h", summaries(log, { order = "asc",
      since = "2025-12-03T10:00:00Z", ["until"] = "2025-12-03T11:00:00+00:00" }))
    assert.equal("a i c g h", summaries(log, { order = "asc",
      since = "2025-12-03T12:00:00+02:00", ["until"] = "2025-12-03 11:00:00" }))
    assert.equal("f b d", summaries(log, { order = "asc",
      ["until"] = "2025-12-03T09:45:00.123456789Z" }))
    assert.equal("a i", summaries(log, { order = "asc",
      since = "2025-12-03T09:45:00.123456790Z",
      ["until"] = "2025-12-03T10:00:00Z" }))
    assert.equal("e", summaries(log, { since = "2025-12-03T11:00:00.000000001Z" }))
  end)

  it("gives log:first the newest or oldest instant", function()
    assert.equal("e", log:first().summary)
    assert.equal("f", log:first{ order = "asc" }.summary)
    assert.equal("c", log:first{ ["until"] = "2025-12-03T10:15:00Z" }.summary)
  end)

  it("gives the unparsable row instant nil and keeps its text", function()
    local last
    for ev in log:events{} do last = ev end
    assert.equal("z", last.summary)
    assert.equal("garbage", last.timestamp)
    assert.is_nil(last.instant)
  end)

  it("keeps each row's own text and gives its instant", function()
    local got = {}
    for ev in log:events{ order = "asc", limit = 3 } do
      got[#got + 1] = { ev.timestamp, ev.instant }
    end
    assert.same({
      { "2025-12-03T09:00:00+00:00", support.instant("2025-12-03 09:00:00") },
      { "2025-12-03T11:30:00+02:00", support.instant("2025-12-03 09:30:00") },
      { "2025-12-03 09:45:00.123456789+00:00",
        support.instant("2025-12-03 09:45:00", 123456789) },
    }, got)
  end)

  it("leaves the unparsable row out of a time filter and counts it on the "
     .. "cursor", function()
    local _, _, _, cursor = log:events{ since = "2025-12-03T10:00:00Z" }
    local seen = {}
    for ev in cursor.next, cursor do seen[#seen + 1] = ev.summary end
    assert.equal("e h g c a i", table.concat(seen, " "))
    assert.equal(1, cursor:unparsable())
    cursor:close()
    local _, _, _, other = log:events{ since = "2025-12-03T10:00:00Z",
                                       event_type = "state_transition" }
    for _ in other.next, other do end
    assert.equal(0, other:unparsable()) -- 'garbage' is a sync_error
    other:close()
    local _, _, _, untimed = log:events{}
    for _ in untimed.next, untimed do end
    assert.equal(0, untimed:unparsable())
    untimed:close()
  end)

  it("still reports the unparsable count after a for loop has closed the "
     .. "cursor", function()
    local it, state, ctl, cursor = log:events{ ["until"] = "2025-12-03T10:00:00Z" }
    local n = 0
    for _ in it, state, ctl, cursor do n = n + 1 end
    assert.equal(5, n)
    assert.equal(1, cursor:unparsable())
  end)

  it("counts on instants too", function()
    assert.equal(10, log:count())
    assert.equal(5, log:count{ since = "2025-12-03T10:00:00Z",
                               ["until"] = "2025-12-03T11:00:00Z" })
    assert.equal(9, log:count{ since = "2000-01-01" })
    assert.equal(2, log:count{ limit = 2, offset = 8 })
  end)
end)

describe("log:time_report()", function()
  local dir, db

  before_each(function()
    dir = support.tmpdir()
    db = dir .. "/sync.db"
  end)

  after_each(function() support.rmdir(dir) end)

  it("finds nothing wrong in what synclua wrote", function()
    local log = assert(synclua.open(dir, { mode = "w", device_id = DEVICE }))
    write_rows(log)
    assert.same({ rows = 12, noncanonical = 0, unparsable = 0,
                  first_bad_ids = {} }, log:time_report())
    assert.is_true(log:close())
  end)

  it("counts rows, non-canonical and unparsable timestamps, and names the "
     .. "first three bad ids", function()
    support.sqlite(db, support.DDL)
    support.insert_rows(db, {
      { timestamp = "2025-12-03T10:00:00+00:00", summary = "ok" },
      { timestamp = "2025-12-03T10:00:00Z", summary = "z" },
      { timestamp = "nonsense", summary = "bad 1" },
      { timestamp = "2025-12-03T10:00:00.5+00:00", summary = "short fraction" },
      { timestamp = "2025-12-03 10:00:00", summary = "bad 2: no zone" },
      { timestamp = "2025-12-03T10:00:00.120+00:00", summary = "ok 2" },
      { timestamp = "", summary = "bad 3" },
      { timestamp = "2025-12-03t10:00:00+01:00", summary = "t" },
      { timestamp = "2025-02-30T10:00:00Z", summary = "bad 4" },
    })
    local log = assert(synclua.open(db))
    assert.same({ rows = 9, noncanonical = 3, unparsable = 4,
                  first_bad_ids = { 3, 5, 7 } }, log:time_report())
    assert.is_true(log:close())
  end)

  it("does not wait for a report: queries use instants as soon as another "
     .. "program adds a foreign row", function()
    local log = assert(synclua.open(dir, { mode = "w", device_id = DEVICE }))
    write_rows(log)
    assert.equal("e12 e11", summaries(log, { limit = 2 }))
    -- 10:10:30Z: between e11 (10:09) and e12 (10:11), though its text is
    -- greater than both.
    support.insert_rows(db, {
      { timestamp = "2025-12-03T12:10:30+02:00", summary = "x" } })
    assert.equal("e12 x e11", summaries(log, { limit = 3 }))
    assert.equal("x", summaries(log, { since = "2025-12-03T10:10:00Z",
                                       ["until"] = "2025-12-03T10:10:59Z" }))
    assert.is_true(log:close())
  end)

  it("follows rows added and removed since the last report", function()
    local log = assert(synclua.open(dir, { mode = "w", device_id = DEVICE }))
    write_rows(log)
    assert.same({ rows = 12, noncanonical = 0, unparsable = 0,
                  first_bad_ids = {} }, log:time_report())
    support.insert_rows(db, {
      { timestamp = "2025-12-03T10:00:00Z", summary = "z" },
      { timestamp = "soon", summary = "bad" },
    })
    assert.same({ rows = 14, noncanonical = 1, unparsable = 1,
                  first_bad_ids = { 14 } }, log:time_report())
    -- Filters now work on instants, the foreign rows included.
    assert.equal("e1 z", summaries(log, { order = "asc", limit = 2 }))
    assert.equal("e2 e1 z", summaries(log, { ["until"] = "2025-12-03T10:01:00Z" }))
    support.sqlite(db, "DELETE FROM sync_event_log WHERE id >= 13")
    assert.same({ rows = 12, noncanonical = 0, unparsable = 0,
                  first_bad_ids = {} }, log:time_report())
    assert.is_true(log:close())
  end)
end)
