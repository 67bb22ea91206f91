-- Logging through a synclua.Store: log:append (what each field becomes in
-- the row, byte for byte, and every refusal), log:flush, log:stats, and
-- retention (log:prune, auto_prune).
local synclua = require "synclua"
local support = dofile((debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$")
                        or ".") .. "/fixtures/support.lua")

local DEVICE = "2f1a8f8e-0c3b-4d52-9d0e-5b1c2a3d4e5f"
local PEER = "a1b2c3d4-e5f6-4789-abcd-ef0123456789"
local SESSION = "0f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f"
local NS_PER_SEC = 1000000000
local DAY = 86400 * NS_PER_SEC

local VALID_TYPES = "state_transition, backfill_session_started, "
  .. "backfill_session_completed, backfill_session_failed, "
  .. "catch_up_session_started, catch_up_session_completed, "
  .. "batch_ingestion, backfill_request_sent, backfill_request_received, "
  .. "backfill_response_sent, peer_connected, peer_disconnected, sync_error"

-- One row's columns as the sqlite3 tool prints them, '|'-separated.
local COLUMNS = "timestamp, device_id, event_type, category, severity,"
  .. " summary, details, correlation_id, peer_device_id, model_types,"
  .. " record_count, duration_ms"

-- The canonical text of whole seconds since the epoch, as os.date writes it.
local function canonical(secs)
  return os.date("!%Y-%m-%dT%H:%M:%S", secs) .. "+00:00"
end

describe("log:append()", function()
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

  -- Append, flush, and return the stored rows (the columns in COLUMNS).
  local function stored(...)
    for _, ev in ipairs{ ... } do assert.is_true(log:append(ev)) end
    assert.is_true(log:flush())
    return support.sqlite(db, "SELECT " .. COLUMNS
                              .. " FROM sync_event_log ORDER BY id")
  end

  local function append_error(ev)
    return support.error_of(function() return log:append(ev) end)
  end

  describe("defaults", function()
    it("takes category and severity from Spacedrive's table for each of "
       .. "the 13 types", function()
      local expected = {
        { "state_transition", "lifecycle", "info" },
        { "backfill_session_started", "lifecycle", "info" },
        { "backfill_session_completed", "lifecycle", "info" },
        { "backfill_session_failed", "lifecycle", "error" },
        { "catch_up_session_started", "lifecycle", "info" },
        { "catch_up_session_completed", "lifecycle", "info" },
        { "batch_ingestion", "data_flow", "debug" },
        { "backfill_request_sent", "network", "debug" },
        { "backfill_request_received", "network", "debug" },
        { "backfill_response_sent", "network", "debug" },
        { "peer_connected", "network", "info" },
        { "peer_disconnected", "network", "info" },
        { "sync_error", "error", "error" },
      }
      local want = {}
      for _, e in ipairs(expected) do
        assert.is_true(log:append{ event_type = e[1], summary = e[1] })
        want[#want + 1] = table.concat(e, "|") .. "\n"
      end
      assert.is_true(log:flush())
      assert.equal(table.concat(want), support.sqlite(db,
        "SELECT event_type, category, severity FROM sync_event_log"
        .. " ORDER BY id"))
    end)

    it("stamps the current time in to_rfc3339 form and the store's device",
       function()
      local before = synclua.now()
      local row = stored{ event_type = "state_transition",
                          summary = "Ready → Paused" }
      local after = synclua.now()
      local ts, rest = row:match("^([^|]+)|(.*)$")
      assert.equal(DEVICE .. "|state_transition|lifecycle|info|Ready → Paused"
                   .. "||||||\n", rest)
      local frac = ts:match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d(.-)%+00:00$")
      assert.truthy(frac == "" or frac:match("^%.%d%d%d$")
                    or frac:match("^%.%d%d%d%d%d%d$")
                    or frac:match("^%.%d%d%d%d%d%d%d%d%d$"), ts)
      local t = assert(synclua.parse_rfc3339(ts))
      assert.is_true(before <= t and t <= after)
      assert.equal(ts, synclua.format_time(t))
    end)

    it("lowercases the store's device id given in capitals", function()
      log:close()
      log = assert(synclua.open(dir, { mode = "w",
                                       device_id = DEVICE:upper() }))
      local row = stored{ event_type = "sync_error", summary = "x" }
      assert.equal(DEVICE, row:match("^[^|]*|([^|]*)|"))
    end)

    it("lets an event override category, severity and device", function()
      assert.equal("2025-12-03T10:00:00+00:00|" .. PEER .. "|sync_error|"
                    .. "network|warning|Watermark too old||||||\n",
        stored{ event_type = "sync_error", category = "network",
                severity = "warning", device_id = PEER,
                summary = "Watermark too old",
                timestamp = "2025-12-03T10:00:00Z" })
    end)
  end)

  describe("timestamp", function()
    it("stores a string with any offset in +00:00 AutoSi form", function()
      local cases = {
        { "2025-12-03T12:15:00.5+02:00", "2025-12-03T10:15:00.500+00:00" },
        { "2025-12-03t10:15:00z", "2025-12-03T10:15:00+00:00" },
        { "2025-12-03 09:15:00.1234-01:30", "2025-12-03T10:45:00.123400+00:00" },
        { "2025-12-03T10:15:00.123456789+00:00",
          "2025-12-03T10:15:00.123456789+00:00" },
        { "2025-12-03T10:15:00.1234567891Z",
          "2025-12-03T10:15:00.123456789+00:00" },
        { "2025-12-03T10:15:00.000+00:00", "2025-12-03T10:15:00+00:00" },
        { "2025-12-03T10:15:00.120000Z", "2025-12-03T10:15:00.120+00:00" },
        { "2025-12-31T23:30:00-01:00", "2026-01-01T00:30:00+00:00" },
        { "2025-12-03T10:15:00\u{2212}05:00", "2025-12-03T15:15:00+00:00" },
      }
      local evs, want = {}, {}
      for i, c in ipairs(cases) do
        evs[i] = { event_type = "state_transition", summary = "t" .. i,
                   timestamp = c[1] }
        want[i] = c[2] .. "\n"
      end
      for _, ev in ipairs(evs) do assert.is_true(log:append(ev)) end
      assert.is_true(log:flush())
      assert.equal(table.concat(want), support.sqlite(db,
        "SELECT timestamp FROM sync_event_log ORDER BY id"))
    end)

    it("stores an integer instant (ns since the epoch)", function()
      local t = support.instant("2025-12-03 10:15:00", 123456789)
      log:append{ event_type = "state_transition", summary = "a", timestamp = t }
      log:append{ event_type = "state_transition", summary = "b",
                  timestamp = t - 123456789 + 250000000 }
      log:append{ event_type = "state_transition", summary = "c", timestamp = 0 }
      log:append{ event_type = "state_transition", summary = "d", timestamp = -1 }
      assert.is_true(log:flush())
      assert.equal("2025-12-03T10:15:00.123456789+00:00\n"
                   .. "2025-12-03T10:15:00.250+00:00\n"
                   .. "1970-01-01T00:00:00+00:00\n"
                   .. "1969-12-31T23:59:59.999999999+00:00\n",
                   support.sqlite(db, "SELECT timestamp FROM sync_event_log"
                                      .. " ORDER BY id"))
    end)
  end)

  describe("details", function()
    it("stores a table as compact JSON with byte-wise sorted keys", function()
      local row = stored{ event_type = "state_transition", summary = "s",
        details = { reason = "buffered updates processed", B = 1, _ = 2,
                    ["é"] = 3, a = { z = true, y = false } } }
      assert.equal("{\"B\":1,\"_\":2,\"a\":{\"y\":false,\"z\":true},"
                   .. "\"reason\":\"buffered updates processed\",\"é\":3}",
                   row:match("^[^|]*|[^|]*|[^|]*|[^|]*|[^|]*|[^|]*|([^|]*)|"))
    end)

    it("writes floats, nested lists, empty tables and synclua.null as serde "
       .. "does", function()
      log:append{ event_type = "backfill_session_started", summary = "s",
        details = { candidates = { { device_id = PEER, latency_ms = 23.456,
                                     active_syncs = 0, selected = true },
                                   { latency_ms = 100.0, is_online = false } },
                    empty = {}, none = synclua.null, big = 1e300,
                    small = 1e-7, neg = -0.0, exact = 9007199254740993,
                    text = "a/b → \1\n\"q\"" } }
      log:append{ event_type = "sync_error", summary = "e", details = {} }
      log:append{ event_type = "sync_error", summary = "a",
                  details = { candidates = synclua.array(), peers = {} } }
      log:append{ event_type = "sync_error", summary = "l",
                  details = { "a", 1, { 2.5 } } }
      assert.is_true(log:flush())
      assert.equal(
        "{\"big\":1e300,\"candidates\":[{\"active_syncs\":0,\"device_id\":\""
        .. PEER .. "\",\"latency_ms\":23.456,\"selected\":true},"
        .. "{\"is_online\":false,\"latency_ms\":100.0}],\"empty\":{},"
        .. "\"exact\":9007199254740993,\"neg\":-0.0,\"none\":null,"
        .. "\"small\":1e-7,\"text\":\"a/b → \\u0001\\n\\\"q\\\"\"}\n"
        .. "{}\n"
        .. "{\"candidates\":[],\"peers\":{}}\n"
        .. "[\"a\",1,[2.5]]\n",
        support.sqlite(db, "SELECT details FROM sync_event_log ORDER BY id"))
    end)

    it("re-sorts and compacts details given as JSON text", function()
      log:append{ event_type = "sync_error", summary = "s",
        details = '{ "phase": "backfill_to_catchup_transition",\n'
                  .. '  "max_buffer_size": 1.0E2, "dropped_count": 1247,'
                  .. ' "list": [ 1 , 2.50 ] }' }
      log:append{ event_type = "sync_error", summary = "n", details = "null" }
      assert.is_true(log:flush())
      assert.equal("{\"dropped_count\":1247,\"list\":[1,2.5],"
                   .. "\"max_buffer_size\":100.0,"
                   .. "\"phase\":\"backfill_to_catchup_transition\"}\nnull\n",
                   support.sqlite(db, "SELECT details FROM sync_event_log"
                                      .. " ORDER BY id"))
    end)

    it("stores NULL when there are none", function()
      stored{ event_type = "sync_error", summary = "s" }
      assert.equal("1\n", support.sqlite(db,
        "SELECT details IS NULL FROM sync_event_log"))
    end)
  end)

  describe("other fields", function()
    it("joins model_types with ',' and stores counts as integers", function()
      log:append{ event_type = "batch_ingestion",
                  summary = "Ingested batch of 160 records (100 entry, 50 tag, 10 location)",
                  model_types = { "entry", "tag", "location" },
                  record_count = 160, duration_ms = 0,
                  timestamp = "2025-12-03T10:00:00Z" }
      log:append{ event_type = "batch_ingestion", summary = "as text",
                  model_types = "entry,tag", record_count = 0,
                  timestamp = "2025-12-03T10:00:00Z" }
      log:append{ event_type = "batch_ingestion", summary = "empty list",
                  model_types = {}, timestamp = "2025-12-03T10:00:00Z" }
      assert.is_true(log:flush())
      assert.equal(
        "entry,tag,location|integer|160|integer|0\n"
        .. "entry,tag|integer|0|null|\n"
        .. "|null||null|\n",
        support.sqlite(db, "SELECT model_types, typeof(record_count),"
          .. " record_count, typeof(duration_ms), duration_ms"
          .. " FROM sync_event_log ORDER BY id"))
    end)

    it("lowercases correlation, peer and device uuids", function()
      assert.equal("2025-12-03T10:00:00+00:00|" .. PEER .. "|"
                   .. "backfill_session_completed|lifecycle|info|"
                   .. "Backfill session completed successfully||" .. SESSION
                   .. "|" .. PEER .. "|||4500\n",
        stored{ event_type = "backfill_session_completed",
                summary = "Backfill session completed successfully",
                timestamp = "2025-12-03T10:00:00Z", device_id = PEER:upper(),
                correlation_id = SESSION:upper(),
                peer_device_id = PEER:upper(), duration_ms = 4500 })
    end)

    it("stores the summary verbatim", function()
      local summary = "Backfilling { peer: " .. PEER .. ", progress: 0 } → "
        .. "CatchingUp { buffered_count: 0 } 'quoted' \"twice\"\nsecond line"
      stored{ event_type = "state_transition", summary = summary }
      assert.equal(summary .. "\n", support.sqlite(db,
        "SELECT summary FROM sync_event_log"))
    end)
  end)

  describe("refusals", function()
    local function ev(fields)
      local e = { event_type = "sync_error", summary = "s" }
      for k, v in pairs(fields) do e[k] = v end
      return e
    end

    it("raises for an unknown type, listing the 13 valid ones", function()
      assert.equal("bad argument #1 to 'append' (Invalid event type: "
                   .. "StateTransition (valid: " .. VALID_TYPES .. "))",
                   append_error(ev{ event_type = "StateTransition" }))
      assert.equal("bad argument #1 to 'append' (event_type: missing (valid: "
                   .. VALID_TYPES .. "))",
                   append_error{ summary = "no type" })
    end)

    it("raises for each malformed field with a message naming it", function()
      local cases = {
        { { summary = false }, "summary: string expected, got boolean" },
        { { event_type = 7 }, "event_type: string expected, got number" },
        { { category = "errors" }, "Invalid category: errors (valid: "
          .. "lifecycle, data_flow, network, error)" },
        { { severity = "critical" }, "Invalid severity: critical (valid: "
          .. "debug, info, warning, error)" },
        { { timestamp = "yesterday" }, "timestamp: not RFC 3339: yesterday "
          .. "(e.g. '2025-12-03T10:15:00.123+00:00')" },
        { { timestamp = "2025-12-03 10:00:00" }, "timestamp: not RFC 3339: "
          .. "2025-12-03 10:00:00 (e.g. '2025-12-03T10:15:00.123+00:00')" },
        { { timestamp = "2025-02-29T00:00:00Z" }, "timestamp: not RFC 3339: "
          .. "2025-02-29T00:00:00Z (e.g. '2025-12-03T10:15:00.123+00:00')" },
        { { timestamp = 1.5 },
          "timestamp: RFC 3339 string or integer instant expected" },
        { { timestamp = true },
          "timestamp: RFC 3339 string or integer instant expected" },
        { { device_id = 5 }, "device_id: string expected, got number" },
        { { correlation_id = {} },
          "correlation_id: string expected, got table" },
        { { peer_device_id = true },
          "peer_device_id: string expected, got boolean" },
        { { details = 42 }, "details: table or JSON string expected" },
        { { details = '{"b": 1,' }, "details: not JSON: unexpected end of "
          .. "input at line 1 column 9" },
        { { details = "[1] x" }, "details: not JSON: trailing characters "
          .. "after the JSON value at line 1 column 5" },
        { { details = { f = print } }, "details: cannot encode a function" },
        { { details = { 1, a = 2 } },
          "details: object keys must be strings, not number" },
        { { details = { x = math.huge } },
          "details: cannot encode the number inf" },
        { { details = { x = io.stdout } }, "details: cannot encode a userdata" },
        { { model_types = 5 }, "model_types: list or string expected" },
        { { model_types = { "entry", 5 } },
          "model_types: list of strings expected" },
        { { record_count = 1.5 }, "record_count: integer expected, got number" },
        { { record_count = "5" }, "record_count: integer expected, got string" },
        { { colour = "red" }, "unknown event field 'colour'" },
        { { [1] = "x" }, "unknown event field '1'" },
      }
      for _, case in ipairs(cases) do
        assert.equal("bad argument #1 to 'append' (" .. case[2] .. ")",
                     append_error(ev(case[1])))
      end
      assert.equal("bad argument #1 to 'append' (summary: missing)",
                   append_error{ event_type = "sync_error" })
      assert.equal("bad argument #1 to 'append' (table expected, got string)",
                   append_error("sync_error"))
      local cycle = {}
      cycle.self = cycle
      assert.equal("bad argument #1 to 'append' (details: nested too deeply "
                   .. "(a cycle?))", append_error(ev{ details = cycle }))
      assert.is_true(log:flush())
      assert.same({ appended = 0, written = 0, dropped = 0, failed = 0,
                    retries = 0, pruned = 0, queue_depth = 0,
                    queue_capacity = 65536 }, log:stats())
      assert.equal("0\n", support.sqlite(db,
                                         "SELECT count(*) FROM sync_event_log"))
    end)

    it("stores a negative count as given: Spacedrive's u64, cast as it "
       .. "stores one", function()
      assert.is_true(log:append(ev{ record_count = -1, duration_ms = -7 }))
      assert.is_true(log:flush())
      assert.equal("-1|-7\n", support.sqlite(db, "SELECT record_count, "
                                             .. "duration_ms FROM sync_event_log"))
      local out = synclua.render(log:first(), "ndjson")
      assert.truthy(out:find('"duration_ms":18446744073709551609,', 1, true))
      assert.truthy(out:find('"record_count":18446744073709551615,', 1, true))
    end)

    it("raises when neither the event nor the store names a device",
       function()
      log:close()
      log = assert(synclua.open(dir, { mode = "w" }))
      assert.equal("bad argument #1 to 'append' (device_id: missing (give "
                   .. "one, or open the store with a device_id))",
                   append_error{ event_type = "sync_error", summary = "s" })
      assert.is_true(log:append{ event_type = "sync_error", summary = "s",
                                 device_id = DEVICE })
    end)

    it("raises on a read-only store", function()
      log:close()
      log = assert(synclua.open(dir))
      assert.equal(db .. ": opened read-only: cannot append",
                   append_error{ event_type = "sync_error", summary = "s",
                                 device_id = DEVICE })
      assert.same({ appended = 0, written = 0, dropped = 0, failed = 0,
                    retries = 0, pruned = 0, queue_depth = 0,
                    queue_capacity = 65536 }, log:stats())
    end)
  end)
end)

describe("log:flush() and log:stats()", function()
  local dir, db, log

  before_each(function()
    dir = support.tmpdir()
    db = dir .. "/sync.db"
  end)

  after_each(function()
    if log then log:close() end
    log = nil
    support.rmdir(dir)
  end)

  it("count what was appended and written once flushed", function()
    log = assert(synclua.open(dir, { mode = "w", device_id = DEVICE,
                                     queue_capacity = 16 }))
    for i = 1, 5 do
      assert.is_true(log:append{ event_type = "batch_ingestion",
                                 summary = "b" .. i })
    end
    assert.same({ true }, { log:flush() })
    assert.same({ appended = 5, written = 5, dropped = 0, failed = 0,
                  retries = 0, pruned = 0, queue_depth = 0,
                  queue_capacity = 16 }, log:stats())
    assert.equal("5\n", support.sqlite(db,
                                       "SELECT count(*) FROM sync_event_log"))
  end)

  it("give up waiting when a timeout passes first, and keep the events",
     function()
    log = assert(synclua.open(dir, { mode = "w", device_id = DEVICE,
                                     busy_timeout = 10 }))
    assert.is_true(log:flush())
    -- Another program holds the write lock for a second.
    os.execute(("(echo 'BEGIN IMMEDIATE;'; sleep 1; echo 'COMMIT;') | "
      .. "sqlite3 %s & sleep 0.2"):format(support.quote(db)))
    assert.is_true(log:append{ event_type = "batch_ingestion",
                               summary = "waits" })
    assert.same({ nil, db .. ": events not written yet (the flush's time ran "
                    .. "out)", "timeout" }, { log:flush(0.1) })
    assert.same({ true }, { log:flush("30 s") })
    local st = log:stats()
    assert.equal(1, st.written)
    assert.equal(0, st.failed)
    assert.is_true(st.retries >= 1)
    assert.equal("bad argument #1 to 'flush' (timeout: Invalid duration: "
      .. "soon (e.g. '7 days', '1 hour', '90m' or '2h'))",
      support.error_of(function() log:flush("soon") end))
  end)

  it("drop what does not fit a full queue, count it, and log the drop as a "
     .. "sync_error", function()
    log = assert(synclua.open(dir, { mode = "w", device_id = DEVICE,
                                     queue_capacity = 1 }))
    -- Another process holds the write lock, so the writer cannot drain.
    local holder = support.hold_lock(db, dir)
    local ok, err = pcall(function()
      assert.same({ true }, { log:append{ event_type = "sync_error",
                                          summary = "one" } })
      support.wait_for(function() return log:stats().queue_depth == 0 end,
                       "the writer to take the first event")
      assert.same({ true }, { log:append{ event_type = "sync_error",
                                          summary = "two" } })
      assert.same({ false, "full" }, { log:append{ event_type = "sync_error",
                                                   summary = "three" } })
      local st = log:stats()
      assert.same({ 2, 1, 0, 1 },
                  { st.appended, st.dropped, st.written, st.queue_depth })
    end)
    holder.release()
    assert(ok, err)
    assert.is_true(log:flush())
    assert.same({ appended = 2, written = 2, dropped = 1, failed = 0,
                  retries = 0, pruned = 0, queue_depth = 0,
                  queue_capacity = 1 }, log:stats())
    assert.equal("one|sync_error|error|\n"
      .. "two|sync_error|error|\n"
      .. "Event log queue full: 1 events dropped|sync_error|error|"
      .. "{\"dropped_count\":1,\"queue_capacity\":1}\n",
      support.sqlite(db, "SELECT summary, event_type, severity, details"
                         .. " FROM sync_event_log ORDER BY id"))
  end)

  it("return true on a read-only store, which has nothing to write",
     function()
    assert.is_true(assert(synclua.open(dir, { mode = "w" })):close())
    log = assert(synclua.open(dir))
    assert.same({ true }, { log:flush() })
  end)
end)

describe("log:prune()", function()
  local dir, db, log, now

  before_each(function()
    dir = support.tmpdir()
    db = dir .. "/sync.db"
    log = assert(synclua.open(dir, { mode = "w", device_id = DEVICE }))
    now = synclua.now()
  end)

  after_each(function()
    if log then log:close() end
    support.rmdir(dir)
  end)

  -- Events at whole seconds, `ages` days before now (fractions allowed).
  local function events_aged(...)
    local secs = now // NS_PER_SEC
    local texts = {}
    for i, age in ipairs{ ... } do
      local t = (secs - math.floor(age * 86400)) * NS_PER_SEC
      assert.is_true(log:append{ event_type = "sync_error",
                                 summary = "age " .. age, timestamp = t })
      texts[i] = canonical(t // NS_PER_SEC)
    end
    assert.is_true(log:flush())
    return texts
  end

  local function summaries()
    return support.sqlite(db, "SELECT summary FROM sync_event_log ORDER BY id")
  end

  -- The cutoff is now minus older_than, at the time of the call.
  local function assert_cutoff(cutoff, t0, t1, older)
    local c = assert(synclua.parse_rfc3339(cutoff))
    assert.is_true(t0 - older <= c and c <= t1 - older, cutoff)
    assert.truthy(cutoff:match("%+00:00$"))
  end

  it("removes exactly the rows older than older_than and reports them",
     function()
    local ts = events_aged(10, 8, 6.9, 1, 0)
    local t0 = synclua.now()
    local r = log:prune{ older_than = "7 days" }
    local t1 = synclua.now()
    assert_cutoff(r.cutoff, t0, t1, 7 * DAY)
    r.cutoff = nil
    assert.same({ count = 2, oldest = ts[1], newest = ts[2], unparsable = 0,
                  dry_run = false }, r)
    assert.equal("age 6.9\nage 1\nage 0\n", summaries())
  end)

  it("counts without deleting when dry_run is set", function()
    local ts = events_aged(10, 8, 1)
    local r = log:prune{ older_than = 7 * 86400, dry_run = true }
    r.cutoff = nil
    assert.same({ count = 2, oldest = ts[1], newest = ts[2], unparsable = 0,
                  dry_run = true }, r)
    assert.equal("age 10\nage 8\nage 1\n", summaries())
  end)

  it("removes everything up to now with older_than = '0s'", function()
    local ts = events_aged(3, 1, 0.01)
    local r = log:prune{ older_than = "0s" }
    r.cutoff = nil
    assert.same({ count = 3, oldest = ts[1], newest = ts[3], unparsable = 0,
                  dry_run = false }, r)
    assert.equal("", summaries())
  end)

  it("uses the store's retention when older_than is not given", function()
    log:close()
    log = assert(synclua.open(dir, { mode = "w", device_id = DEVICE,
                                     retention = "2 days" }))
    local ts = events_aged(3, 1)
    local t0 = synclua.now()
    local r = log:prune()
    assert_cutoff(r.cutoff, t0, synclua.now(), 2 * DAY)
    r.cutoff = nil
    assert.same({ count = 1, oldest = ts[1], newest = ts[1], unparsable = 0,
                  dry_run = false }, r)
    assert.equal("age 1\n", summaries())
  end)

  it("defaults to Spacedrive's 7 days", function()
    local ts = events_aged(7.01, 6.99)
    local r = log:prune{}
    r.cutoff = nil
    assert.same({ count = 1, oldest = ts[1], newest = ts[1], unparsable = 0,
                  dry_run = false }, r)
    assert.equal("age 6.99\n", summaries())
  end)

  it("reports no oldest or newest when nothing is old enough", function()
    events_aged(1)
    local r = log:prune{ older_than = "2d" }
    r.cutoff = nil
    assert.same({ count = 0, unparsable = 0, dry_run = false }, r)
  end)

  it("decides by instant on rows with foreign timestamps, and keeps the "
     .. "unparsable", function()
    local cut = now // NS_PER_SEC - 7 * 86400
    local function at(secs, offset, zone)
      return os.date("!%Y-%m-%dT%H:%M:%S", secs + offset) .. zone
    end
    support.insert_rows(db, {
      -- 2h before the cutoff, but its wall clock (+02:00) reads after it.
      { timestamp = at(cut - 7200, 7200, "+02:00"), summary = "old +02:00" },
      -- 1h after the cutoff, but its wall clock (-02:00) reads before it.
      { timestamp = at(cut + 3600, -7200, "-02:00"), summary = "new -02:00" },
      { timestamp = at(cut - 3600, 0, "Z"), summary = "old Z" },
      { timestamp = at(cut + 3600, 0, "Z"), summary = "new Z" },
      { timestamp = at(cut - 86400, 0, ".5z"):gsub("T", "t"),
        summary = "old t.5z" },
      { timestamp = "garbage", summary = "unparsable" },
    })
    local dry = log:prune{ older_than = "7 days", dry_run = true }
    assert.same({ 3, canonical(cut - 86400):gsub("%+", ".500+"),
                  canonical(cut - 3600), 1 },
                { dry.count, dry.oldest, dry.newest, dry.unparsable })
    local r = log:prune{ older_than = "7 days" }
    assert.same({ 3, 1 }, { r.count, r.unparsable })
    assert.equal("new -02:00\nnew Z\nunparsable\n", summaries())
  end)

  it("is refused on a read-only store, which may still do a dry run",
     function()
    events_aged(10, 1)
    log:close()
    log = assert(synclua.open(dir))
    assert.same({ nil, db .. ": opened read-only: cannot prune", "readonly" },
                { log:prune{ older_than = "7 days" } })
    local r = log:prune{ older_than = "7 days", dry_run = true }
    assert.same({ 1, true }, { r.count, r.dry_run })
    assert.equal("age 10\nage 1\n", summaries())
  end)

  it("raises for unknown options and bad durations", function()
    local function prune_error(opts)
      return support.error_of(function() return log:prune(opts) end)
    end
    assert.equal("bad argument #1 to 'prune' (unknown option 'before')",
                 prune_error{ before = "7 days" })
    assert.equal("bad argument #1 to 'prune' (older_than: Invalid duration: "
                 .. "soon (e.g. '7 days', '1 hour', '90m' or '2h'))",
                 prune_error{ older_than = "soon" })
    assert.equal("bad argument #1 to 'prune' (older_than: seconds out of "
                 .. "range)", prune_error{ older_than = -5 })
    assert.equal("bad argument #1 to 'prune' (older_than: string or number "
                 .. "expected, got boolean)", prune_error{ older_than = true })
    assert.equal("bad argument #1 to 'prune' (table expected, got string)",
                 prune_error("7 days"))
  end)
end)

describe("retention on open", function()
  local dir, db

  before_each(function()
    dir = support.tmpdir()
    db = dir .. "/sync.db"
    local log = assert(synclua.open(dir, { mode = "w", device_id = DEVICE }))
    local now = synclua.now()
    log:append{ event_type = "sync_error", summary = "30 days old",
                timestamp = now - 30 * DAY }
    log:append{ event_type = "sync_error", summary = "2 hours old",
                timestamp = now - 2 * 3600 * NS_PER_SEC }
    assert.is_true(log:close())
  end)

  after_each(function() support.rmdir(dir) end)

  it("never prunes on open unless asked: an old event survives reopening",
     function()
    for _, opts in ipairs{ { mode = "w", device_id = DEVICE },
                           { mode = "w", device_id = DEVICE, retention = 1 },
                           { retention = 1 } } do
      local log = assert(synclua.open(dir, opts))
      if opts.mode == "w" then
        assert.is_true(log:append{ event_type = "sync_error", summary = "new" })
        assert.is_true(log:flush())
      end
      assert.equal(0, log:stats().pruned)
      assert.is_true(log:close())
    end
    assert.equal("30 days old\n2 hours old\nnew\nnew\n", support.sqlite(db,
      "SELECT summary FROM sync_event_log ORDER BY id"))
  end)

  it("prunes at once with auto_prune = true, and stats().pruned says how "
     .. "many", function()
    local log = assert(synclua.open(dir, { mode = "w", device_id = DEVICE,
                                           auto_prune = true }))
    assert.is_true(log:append{ event_type = "sync_error", summary = "new" })
    assert.is_true(log:flush())
    local st = log:stats()
    assert.same({ 1, 1, 1 }, { st.pruned, st.appended, st.written })
    assert.is_true(log:close())
    assert.equal("2 hours old\nnew\n", support.sqlite(db,
      "SELECT summary FROM sync_event_log ORDER BY id"))
  end)

  it("prunes with the store's retention", function()
    local log = assert(synclua.open(dir, { mode = "w", device_id = DEVICE,
                                           auto_prune = true,
                                           retention = "1 hour" }))
    assert.is_true(log:append{ event_type = "sync_error", summary = "new" })
    assert.is_true(log:flush())
    assert.equal(2, log:stats().pruned)
    assert.is_true(log:close())
    assert.equal("new\n", support.sqlite(db,
      "SELECT summary FROM sync_event_log ORDER BY id"))
  end)
end)
