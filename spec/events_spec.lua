-- `synclua events`, run as a person runs it (the program as a child
-- process, exact stdout, stderr and exit status), and the exporters and
-- rendered cursors behind it. Output is pinned by golden files in
-- spec/golden/events/, written from rows that another program (the sqlite3
-- tool) inserted: quotes, `|`, `/`, line breaks, tabs, control characters,
-- emoji and non-ASCII text, nested details with floats and unsorted keys,
-- timestamps of every precision and of other offsets, ids in capitals.
--
-- The golden files were checked by hand against spacedrive-compat.md
-- (sections 0 and 1.4-1.6). To rewrite them after a deliberate change, run
-- with SYNCLUA_UPDATE_GOLDEN=1 and read the diff before committing it.
local support = dofile("spec/fixtures/support.lua")
local synclua = require "synclua"
local quote = support.quote

local GOLDEN = "spec/golden/events/"

-- The clock every run sees, so "Generated:" and "--since" are fixed.
local NOW = "2025-12-04T00:00:00.123456789Z"

-- Run `synclua events ARGS` in dir (with extra environment `env`).
local function events(dir, args, env)
  return support.synclua(dir, "events " .. args,
                         "SYNCLUA_NOW=" .. quote(NOW) .. " " .. (env or ""))
end

local function golden(name, actual)
  assert.equal(support.golden(GOLDEN .. name, actual), actual)
end

local DEV = "2f1a8f8e-0c3b-4d52-9d0e-5b1c2a3d4e5f"  -- support's default
local OTHER = "9F2C0E4A-7B1D-4E3F-8A5B-6C7D8E9F0A1B"
local PEER = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
local PEER2 = "c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f"
local SESSION = "67e55044-10b1-426f-9247-bb680e5fe0c8"

-- Eight events, newest first by instant: r6, r1, r3, r4, r2, r5, r7, r8
-- (r6's text sorts before r1's, but -05:00 makes it the newest).
local ROWS = {
  { -- r1: 9 fraction digits, Spacedrive's own form
    timestamp = "2025-12-03T10:15:00.123456789+00:00",
    summary = "CatchingUp { buffered_count: 0 } → Ready",
    details = '{"reason":"buffered updates processed"}' },
  { -- r2: an offset and one fraction digit; unsorted details with floats
    timestamp = "2025-12-03T11:00:00.5+02:00",
    event_type = "backfill_session_started",
    summary = "Selected peer " .. PEER .. " from 2 candidates",
    details = '{"candidates":[{"selected":true,"latency_ms":'
      .. '23.45599937438965,"is_online":true,"has_complete_state":true,'
      .. '"device_id":"' .. PEER .. '","active_syncs":0},{"latency_ms":100.0,'
      .. '"selected":false,"is_online":true,"has_complete_state":true,'
      .. '"device_id":"' .. PEER2 .. '","active_syncs":1}]}',
    correlation_id = SESSION, peer_device_id = PEER },
  { -- r3: "Z", no fraction; the counted columns
    timestamp = "2025-12-03T10:00:00Z", event_type = "batch_ingestion",
    category = "data_flow", severity = "debug",
    summary = "Ingested batch of 300 records (200 entry, 100 tag)",
    model_types = "entry,tag", record_count = 300, duration_ms = 1200,
    peer_device_id = PEER },
  { -- r4: 3 digits and "Z"; every awkward character
    timestamp = "2025-12-03T09:30:00.250Z", event_type = "sync_error",
    category = "error", severity = "error",
    summary = 'Weird: "quotes" | pipe / slash\nnew line\ttab\1ctl '
      .. "😀 é→ it's\r\nend",
    details = '{"b":"tab\\there","a":"\\u0001 ctl \\"q\\" / é 😀",'
      .. '"c":[1.5,-2,1e3,0.1]}' },
  { -- r5: 6 digits
    timestamp = "2025-12-03T09:00:00.000123+00:00",
    event_type = "peer_connected", category = "network",
    summary = "Peer connected", peer_device_id = PEER },
  { -- r6: another device, in capitals; -05:00 makes it the newest
    timestamp = "2025-12-03T08:00:00.1-05:00", device_id = OTHER,
    event_type = "peer_disconnected", category = "network",
    severity = "warning", summary = "Peer disconnected: timeout",
    details = '{"reason":"timeout"}', peer_device_id = PEER2 },
  { -- r7: model_types that joins to ""; nested empty containers
    timestamp = "2025-12-03T07:00:00+00:00",
    event_type = "backfill_request_sent", category = "network",
    severity = "debug", summary = "Requested entry from peer",
    model_types = "", details = '{"nested":{"z":[],"a":{}},"attempt":1}',
    correlation_id = SESSION, peer_device_id = PEER },
  { -- r8: the watermark event, 9 nines
    timestamp = "2025-12-03T06:00:00.999999999+00:00",
    event_type = "sync_error", category = "error", severity = "warning",
    summary = "Watermark too old: 106751991167 days (threshold: 25 days), "
      .. "forcing full sync",
    details = '{"action":"force_full_sync","threshold_days":25,'
      .. '"watermark_age_days":106751991167}', peer_device_id = PEER2 },
}

local function store_with(dir, rows, name)
  local db = dir .. "/" .. (name or "sync.db")
  assert(support.sqlite(db, support.DDL) == "")
  if #rows > 0 then support.insert_rows(db, rows) end
  return db
end

-- A store of n events, one second apart, "event 1" the newest at
-- 2025-12-03T10:00:00+00:00, written by the sqlite3 tool.
local function store_many(dir, n)
  local db = store_with(dir, {})
  assert.equal("", support.sqlite(db, ("WITH RECURSIVE c(i) AS (SELECT 1 "
    .. "UNION ALL SELECT i + 1 FROM c WHERE i < %d) INSERT INTO "
    .. "sync_event_log (timestamp, device_id, event_type, category, "
    .. "severity, summary) SELECT strftime('%%Y-%%m-%%dT%%H:%%M:%%S+00:00', "
    .. "1764756000 - (i - 1), 'unixepoch'), '%s', 'state_transition', "
    .. "'lifecycle', 'info', 'event ' || i FROM c"):format(n, DEV)))
  return db
end

describe("synclua events", function()
  local dir
  before_each(function() dir = support.tmpdir() end)
  after_each(function() support.rmdir(dir) end)

  describe("formats", function()
    before_each(function() store_with(dir, ROWS) end)

    local cases = {
      { "json (the default)", "", "json.json" },
      { "json --with-device", "--with-device", "json-device.json" },
      { "sql", "-f sql", "sql.sql" },
      { "sql --with-device (no difference)", "-f sql --with-device",
        "sql.sql" },
      { "markdown", "-f markdown", "markdown.md" },
      { "md --with-device", "-f md --with-device", "markdown-device.md" },
      { "ndjson", "-f ndjson", "ndjson.ndjson" },
      { "ndjson --with-device", "-f ndjson --with-device",
        "ndjson-device.ndjson" },
      { "csv", "-f csv", "csv.csv" },
    }
    for _, c in ipairs(cases) do
      it("writes " .. c[1] .. " byte for byte", function()
        local out, err, status = events(dir, c[2])
        assert.equal("", err)
        assert.equal(0, status)
        golden(c[3], out)
      end)
    end

    it("prints Spacedrive's newline after json, sql and markdown only",
       function()
      assert.equal("  }\n]\n", (events(dir, "-f json")):sub(-6))
      assert.equal("COMMIT;\n\n", (events(dir, "-f sql")):sub(-9))
      assert.equal("sync |\n\n", (events(dir, "-f markdown")):sub(-8))
      assert.equal("}\n", (events(dir, "-f ndjson")):sub(-2))
      assert.equal(",\r\n", (events(dir, "-f csv")):sub(-3))
    end)

    it("writes -o FILE's exact bytes, without the newline, and says so",
       function()
      for _, f in ipairs{ "json", "sql", "markdown", "ndjson", "csv" } do
        local printed = events(dir, "-f " .. f)
        local out, err, status = events(dir, "-f " .. f .. " -o export.out")
        assert.equal("Exported 8 events to export.out\n", out)
        assert.equal("", err)
        assert.equal(0, status)
        local file = support.slurp(dir .. "/export.out")
        if f == "ndjson" or f == "csv" then
          assert.equal(printed, file)
        else
          assert.equal(printed, file .. "\n")
        end
      end
      local out = events(dir, "--output=sub.json --limit 2")
      assert.equal("Exported 2 events to sub.json\n", out)
    end)

    it("leaves the store's bytes as they were", function()
      local before = support.slurp(dir .. "/sync.db")
      assert.equal("sync.db", support.listing(dir))
      for _, f in ipairs{ "json", "sql", "md", "ndjson", "csv" } do
        events(dir, "-f " .. f .. " --with-device")
      end
      assert.equal(before, support.slurp(dir .. "/sync.db"))
      assert.equal("sync.db", support.listing(dir))
    end)
  end)

  describe("empty results", function()
    before_each(function() store_with(dir, {}) end)

    it("print [] in both JSON modes", function()
      assert.equal("[]\n", (events(dir, "")))
      assert.equal("[]\n", (events(dir, "--with-device")))
      events(dir, "-o e.json")
      assert.equal("[]", support.slurp(dir .. "/e.json"))
    end)

    it("print the SQL header, schema and an empty transaction", function()
      golden("empty.sql", (events(dir, "-f sql")))
    end)

    it("print the Markdown header with a count of 0 and no Devices",
       function()
      golden("empty.md", (events(dir, "-f markdown --with-device")))
    end)

    it("print nothing in NDJSON and the header alone in CSV", function()
      assert.equal("", (events(dir, "-f ndjson")))
      assert.equal(synclua.csv_header(), (events(dir, "-f csv")))
      local out = events(dir, "-f ndjson -o e.ndjson")
      assert.equal("Exported 0 events to e.ndjson\n", out)
      assert.equal("", support.slurp(dir .. "/e.ndjson"))
    end)
  end)

  describe("limit", function()
    it("is 1000 by default: of 1001 events, the newest 1000", function()
      store_many(dir, 1001)
      local out = events(dir, "-f ndjson")
      local lines = {}
      for line in out:gmatch("[^\n]+") do lines[#lines + 1] = line end
      assert.equal(1000, #lines)
      assert.truthy(lines[1]:find('"summary":"event 1"', 1, true))
      assert.truthy(lines[1000]:find('"summary":"event 1000"', 1, true))
      assert.equal("Exported 1000 events to x.json\n",
                   (events(dir, "-o x.json")))
      assert.equal("Exported 1001 events to x.json\n",
                   (events(dir, "-o x.json --limit 5000")))
      local md = events(dir, "-f md")
      assert.truthy(md:find("\n**Event Count**: 1000\n", 1, true))
    end)

    it("takes any count; 0 means all, and a cut is said on stderr",
       function()
      store_many(dir, 3)
      local all, err0 = events(dir, "-f ndjson --limit 0")
      assert.equal(3, select(2, all:gsub("\n", "")))
      assert.equal("", err0)
      local _, err = events(dir, "-f ndjson --limit 2")
      assert.equal("synclua events: 2 of 3 events; --limit 0 for all\n", err)
      local out = events(dir, "-f csv --limit 2")
      assert.equal(3, select(2, out:gsub("\r\n", "")))
      assert.truthy(out:find(",event 2,", 1, true))
      assert.falsy(out:find(",event 3,", 1, true))
    end)

    it("keeps equal timestamps in ascending id, newest first, as "
       .. "Spacedrive's query gives them, and cuts such an instant there",
       function()
      -- t2, t3 and t4 share 10:00:01 (t4 written with "Z", the same
      -- instant): spacedrive-compat.md 10.3.
      store_with(dir, {
        { timestamp = "2025-12-03T10:00:00+00:00", summary = "t1" },
        { timestamp = "2025-12-03T10:00:01+00:00", summary = "t2" },
        { timestamp = "2025-12-03T10:00:01+00:00", summary = "t3" },
        { timestamp = "2025-12-03T10:00:01Z", summary = "t4" },
        { timestamp = "2025-12-03T10:00:02+00:00", summary = "t5" } })
      local function event(summary, ts)
        return table.concat({ "  {", '    "correlation_id": null,',
          '    "details": null,', '    "duration_ms": null,',
          '    "event_type": "state_transition",',
          '    "peer_device_id": null,', '    "record_count": null,',
          '    "severity": "info",', '    "summary": "' .. summary .. '",',
          '    "timestamp": "' .. ts .. '"', "  }" }, "\n")
      end
      local out, err, status = events(dir, "--limit 3")
      assert.equal("[\n" .. event("t5", "2025-12-03T10:00:02Z") .. ",\n"
        .. event("t2", "2025-12-03T10:00:01Z") .. ",\n"
        .. event("t3", "2025-12-03T10:00:01Z") .. "\n]\n", out)
      assert.equal("synclua events: 3 of 5 events; --limit 0 for all\n", err)
      assert.equal(0, status)
      local order, all = {}, events(dir, "-f ndjson --limit 0")
      for s in all:gmatch('"summary":"(t%d)"') do order[#order + 1] = s end
      assert.equal("t5 t2 t3 t4 t1", table.concat(order, " "))
    end)
  end)

  it("exports SQL that sqlite3 imports into an empty database, and that "
     .. "exports again to the same INSERT lines", function()
    -- The sqlite3 shell drops a CR just before a line break when it reads
    -- a script (its line reader does), so that one pair cannot come back:
    -- Spacedrive's INSERT lines carry text as it is. A lone CR does.
    local rows = {}
    for i, r in ipairs(ROWS) do
      rows[i] = {}
      for k, v in pairs(r) do rows[i][k] = v end
    end
    rows[4].summary = rows[4].summary:gsub("\r\n", "\r|\n")
    store_with(dir, rows)
    local sql = events(dir, "-f sql --limit 100")
    support.spit(dir .. "/export.sql", sql)
    local out = support.capture(("cd %s && sqlite3 new.db < export.sql 2>&1")
      :format(quote(dir)))
    assert.equal("", out)
    assert.equal("8\n", support.sqlite(dir .. "/new.db",
                                       "SELECT count(*) FROM sync_event_log"))
    -- Spacedrive's table and five indexes, nothing else.
    assert.equal(table.concat({ "idx_sync_event_log_correlation",
      "idx_sync_event_log_device", "idx_sync_event_log_peer",
      "idx_sync_event_log_timestamp", "idx_sync_event_log_type",
      "sqlite_sequence", "sync_event_log", "" }, "\n"),
      support.sqlite(dir .. "/new.db", "SELECT name FROM sqlite_master "
                                      .. "ORDER BY name"))
    local again = events(dir, "-f sql --limit 100 --db new.db")
    assert.equal(sql, again)
    -- The INSERT lines are identical, and the header too (same clock).
    local inserts = select(2, sql:gsub("\nINSERT INTO sync_event_log ", ""))
    assert.equal(8, inserts)
    -- Into a store that already has the table: the rows are added.
    support.capture(("cd %s && sqlite3 sync.db < export.sql"):format(quote(dir)))
    assert.equal("16\n", support.sqlite(dir .. "/sync.db",
                                        "SELECT count(*) FROM sync_event_log"))
  end)

  it("writes the rows it cannot time last, with their stored text, and "
     .. "says so", function()
    local rows = { table.unpack(ROWS, 1, 2) }
    rows[3] = { timestamp = "sometime tuesday", summary = "when?" }
    store_with(dir, rows)
    local out, err, status = events(dir, "-f md")
    local last = "\n| sometime tuesday | StateTransition | Info | when? |\n\n"
    assert.equal(last, out:sub(-#last))
    assert.equal("synclua events: warning: 1 event that Spacedrive's "
      .. "reader skips is written last (1 with a timestamp that does not "
      .. "parse, written as stored; see synclua check)\n", err)
    assert.equal(0, status)
    out, err = events(dir, "--since '2025-12-01 00:00:00' -f ndjson")
    assert.equal(2, select(2, out:gsub("\n", "")))
    assert.equal("synclua events: warning: 1 events left out: their "
      .. "timestamps do not parse, so the time range cannot place them "
      .. "(see synclua check)\n", err)
  end)

  describe("filters", function()
    before_each(function() store_with(dir, ROWS) end)

    local function lines_of(joined)
      local list = {}
      for item in joined:gmatch("[^|]+") do list[#list + 1] = item end
      return list
    end

    -- The summaries a run prints, in order (ndjson, one per line).
    local function summaries(args)
      local out, err, status = events(dir, "-f ndjson " .. args)
      err = err:gsub("^synclua events: %d+ of %d+ events; %-%-limit 0 for "
                     .. "all\n$", ""):gsub("^synclua events: note: no events "
                     .. "between [^\n]*\n$", "")
      assert.equal("", err)
      assert.equal(0, status)
      local list = {}
      for line in out:gmatch("[^\n]+") do
        list[#list + 1] = synclua.json_decode(line).summary:sub(1, 12)
      end
      return table.concat(list, "|")
    end

    it("orders by instant, newest first, whatever the stored text",
       function()
      assert.equal("Peer disconn|CatchingUp {|Ingested bat|Weird: \"quot"
                   .. "|Selected pee|Peer connect|Requested en|Watermark to",
                   summaries(""))
    end)

    it("takes types and severities as Spacedrive does, and several at once",
       function()
      assert.equal("Weird: \"quot|Watermark to",
                   summaries("--event-type sync_error"))
      assert.equal("Peer disconn|Weird: \"quot|Peer connect|Watermark to",
                   summaries("--event-type sync_error,peer_connected "
                             .. "--event-type peer_disconnected"))
      assert.equal("Weird: \"quot", summaries("--severity error"))
      assert.equal("Peer disconn|Weird: \"quot|Watermark to",
                   summaries("--severity warning+"))
      assert.equal("Ingested bat|Weird: \"quot|Requested en",
                   summaries("--severity debug,error"))
      assert.equal("Ingested bat|Weird: \"quot|Requested en",
                   summaries("--severity debug --severity error"))
    end)

    it("sets [since, now] for --since, with now from SYNCLUA_NOW", function()
      -- NOW is 2025-12-04T00:00:00.123456789Z.
      assert.equal("Peer disconn|CatchingUp {",
                   summaries("--since '2025-12-03 10:15:00'"))
      assert.equal("Peer disconn|CatchingUp {",
                   summaries("--since '2025-12-03T10:15:00.123456789Z'"))
      assert.equal("Peer disconn", summaries("--since '12 hours ago'"))
      assert.equal("", summaries("--since '2025-12-04T00:00:01Z'"))
      assert.equal("Requested en|Watermark to",
                   summaries("--until '2025-12-03T07:00:00Z'"))
      assert.equal("Selected pee|Peer connect",
                   summaries("--since '2025-12-03T09:00:00Z' "
                             .. "--until '2025-12-03T09:00:00.5Z'"))
    end)

    it("drops a future event with --since (the range ends now)", function()
      support.insert_rows(dir .. "/sync.db", {
        { timestamp = "2025-12-04T00:00:01+00:00", summary = "from the future" } })
      assert.equal("from the fut|Peer disconn",
                   summaries("--limit 2"))
      assert.equal("Peer disconn", summaries("--since '12 hours ago'"))
    end)

    it("matches ids in any case and form, categories, peers, model types",
       function()
      assert.equal("Selected pee|Requested en",
                   summaries("--correlation-id " .. SESSION:upper()))
      assert.equal("Selected pee|Requested en",
                   summaries("--correlation-id '{" .. SESSION .. "}'"))
      assert.equal("Selected pee|Requested en", summaries(
        "--correlation-id " .. SESSION:gsub("%-", "")))
      assert.equal("Ingested bat|Selected pee|Peer connect|Requested en",
                   summaries("--peer " .. PEER:upper()))
      assert.equal("Ingested bat", summaries("--model-type tag"))
      assert.equal("", summaries("--model-type ent"))
      assert.equal("Peer disconn|Peer connect|Requested en",
                   summaries("--category network"))
      assert.equal("Ingested bat|Weird: \"quot|Watermark to",
                   summaries("--category data_flow,error"))
      assert.equal("Peer disconn|CatchingUp {",
                   summaries("--all-devices --limit 2"))
    end)

    it("shows every device's events, or one device's with --device as "
       .. "Spacedrive's query selects its own", function()
      -- r6 is the other device's, stored in capitals: by default it is
      -- shown; --device takes the device's rows stored lowercase only,
      -- as Spacedrive's query does (so not r6, whatever the spelling).
      assert.equal(8, #lines_of(summaries("")))
      assert.equal("CatchingUp {|Ingested bat|Weird: \"quot|Selected pee|"
        .. "Peer connect|Requested en|Watermark to",
        summaries("--device " .. DEV:upper():gsub("%-", "")))
      assert.equal("", summaries("--device " .. OTHER))
      support.insert_rows(dir .. "/sync.db", { {
        timestamp = "2025-12-03T12:00:00+00:00", device_id = OTHER:lower(),
        summary = "lowercase other" } })
      assert.equal("lowercase ot", summaries("--device '{" .. OTHER .. "}'"))
      local _, err, status = events(dir, "--device laptop")
      assert.equal(2, status)
      assert.equal("synclua events: Invalid device ID: laptop (--device "
        .. "expects a UUID, e.g. 67e55044-10b1-426f-9247-bb680e5fe0c8)\n",
        err)
    end)
  end)

  describe("bad input", function()
    before_each(function() store_with(dir, ROWS) end)

    local function fails(args, message, code)
      local out, err, status = events(dir, args)
      assert.equal("", out)
      assert.equal("synclua events: " .. message .. "\n", err)
      assert.equal(code or 2, status)
    end

    it("names an unknown format as Spacedrive does, listing ours too",
       function()
      fails("-f xml", "Unknown format: xml. Use json, sql, markdown, ndjson "
                      .. "or csv")
      fails("--format JSON", "Unknown format: JSON. Use json, sql, markdown, "
                             .. "ndjson or csv (did you mean 'json'?)")
    end)

    it("names an unknown event type, listing the valid ones", function()
      local valid = " (valid: state_transition, backfill_session_started, "
        .. "backfill_session_completed, backfill_session_failed, "
        .. "catch_up_session_started, catch_up_session_completed, "
        .. "batch_ingestion, backfill_request_sent, "
        .. "backfill_request_received, backfill_response_sent, "
        .. "peer_connected, peer_disconnected, sync_error)"
      fails("--event-type StateTransition",
            "Invalid event type: StateTransition" .. valid
            .. "; did you mean 'state_transition'?")
      fails("--event-type sync_error,nope", "Invalid event type: nope" .. valid)
      fails("--event-type ''", "Invalid event type: " .. valid)
    end)

    it("names an unknown severity or category, listing the valid ones",
       function()
      fails("--severity Error", "Invalid severity: Error (valid: debug, info, "
        .. "warning, error; a name with '+' means that severity and above, "
        .. "e.g. 'warning+')")
      fails("--severity info,loud", "Invalid severity: loud (valid: debug, "
        .. "info, warning, error; a name with '+' means that severity and "
        .. "above, e.g. 'warning+')")
      fails("--category errors", "Invalid category: errors (valid: lifecycle, "
        .. "data_flow, network, error)")
    end)

    it("names a time it cannot read, with an example", function()
      local eg = " (e.g. '1 hour ago', '2h', 'yesterday', '2025-12-03 "
        .. "10:00:00' or '2025-12-03T10:00:00Z')"
      fails("--since 'last tuesday'",
            "--since: Invalid time format: last tuesday" .. eg)
      fails("--since '1 hr ago'", "--since: Unknown time unit: hr" .. eg)
      fails("--since '1hour ago'",
            "--since: Invalid duration format: 1hour" .. eg)
      fails("--until 2025-13-01", "--until: Invalid time format: 2025-13-01"
                                  .. eg)
    end)

    it("names ids that are not UUIDs and a model type list", function()
      fails("--correlation-id 1234", "Invalid correlation ID: 1234 "
        .. "(--correlation-id expects a UUID, e.g. "
        .. "67e55044-10b1-426f-9247-bb680e5fe0c8)")
      fails("--peer me", "Invalid peer ID: me (--peer expects a UUID, e.g. "
        .. "67e55044-10b1-426f-9247-bb680e5fe0c8)")
      fails("--model-type entry,tag",
            "--model-type: one model type, without ',' (got 'entry,tag')")
    end)

    it("rejects a limit that is not a count", function()
      fails("--limit ten",
            "option '--limit' expects an integer, got 'ten' (e.g. 1000)")
      fails("--limit -1",
            "option '--limit' must be 0 or more, got '-1' (e.g. 1000)")
      fails("--limit 1.5",
            "option '--limit' expects an integer, got '1.5' (e.g. 1000)")
    end)

    it("checks in Spacedrive's order, and before opening anything",
       function()
      fails("-f xml --event-type nope --db missing.db",
            "Invalid event type: nope (valid: state_transition, "
            .. "backfill_session_started, backfill_session_completed, "
            .. "backfill_session_failed, catch_up_session_started, "
            .. "catch_up_session_completed, batch_ingestion, "
            .. "backfill_request_sent, backfill_request_received, "
            .. "backfill_response_sent, peer_connected, peer_disconnected, "
            .. "sync_error)")
      fails("-f xml --severity nope --since never", "--since: Invalid time "
        .. "format: never (e.g. '1 hour ago', '2h', 'yesterday', "
        .. "'2025-12-03 10:00:00' or '2025-12-03T10:00:00Z')")
      fails("-f xml --db missing.db",
            "Unknown format: xml. Use json, sql, markdown, ndjson or csv")
      assert.is_false(support.exists(dir .. "/missing.db"))
    end)

    it("reads one device: the same store given twice is read once",
       function()
      local once = events(dir, "-f ndjson")
      local out, err, status = events(dir, "-f ndjson --db sync.db --db .")
      assert.equal(once, out)
      assert.equal("synclua events: note: sync.db and . are the same store: "
        .. "read once\n", err)
      assert.equal(0, status)
      support.spit(dir .. "/other.sql", "INSERT INTO sync_event_log "
        .. "(timestamp, device_id, event_type, category, severity, summary, "
        .. "details, correlation_id, peer_device_id, model_types, "
        .. "record_count, duration_ms) VALUES ('2025-12-03T10:00:00+00:00', "
        .. "'11111111-2222-4333-8444-555555555555', 'state_transition', "
        .. "'lifecycle', 'info', 'x', NULL, NULL, NULL, NULL, NULL, NULL);\n")
      fails("--db sync.db --db other.sql", "2 devices given: events reads "
        .. "one (several devices: synclua timeline)")
    end)

    it("exits 3 when the store or the output file fails", function()
      fails("--db missing.db", "missing.db: no such file", 3)
      assert.is_false(support.exists(dir .. "/missing.db"))
      support.spit(dir .. "/notes.txt", "hello\n")
      fails("--db notes.txt", "notes.txt: not an SQLite database", 3)
      fails("-o no/such/dir/x.json",
            "no/such/dir/x.json: No such file or directory", 3)
    end)
  end)

  it("answers --help with every flag, in the order they are checked",
     function()
    local out, _, status = events(dir, "--help")
    assert.equal(0, status)
    local last = 0
    for _, flag in ipairs{ "%-%-since TIME", "%-%-event%-type TYPE",
                           "%-%-correlation%-id UUID", "%-%-severity LEVEL",
                           "%-%-limit N", "%-%-with%-device",
                           "%-%-all%-devices", "%-f, %-%-format FORMAT",
                           "%-o, %-%-output FILE" } do
      local at = out:find(flag)
      assert.truthy(at, flag)
      assert.truthy(at > last, flag .. " out of order")
      last = at
    end
    for _, flag in ipairs{ "--db PATH", "--until TIME", "--category",
                           "--peer UUID", "--model-type MODEL" } do
      assert.truthy(out:find(flag, 1, true), flag)
    end
  end)
end)

describe("SYNCLUA_NOW", function()
  it("must be a time", function()
    local dir = support.tmpdir()
    store_with(dir, {})
    local out, err, status = events(dir, "", "SYNCLUA_NOW=noon")
    support.rmdir(dir)
    assert.equal("", out)
    assert.equal("synclua events: SYNCLUA_NOW: Invalid time format: noon "
      .. "(e.g. '1 hour ago', '2h', 'yesterday', '2025-12-03 10:00:00' or "
      .. "'2025-12-03T10:00:00Z')\n", err)
    assert.equal(2, status)
  end)
end)

describe("exporters", function()
  local dir, log
  before_each(function()
    dir = support.tmpdir()
    store_with(dir, ROWS)
    log = assert(synclua.open(dir .. "/sync.db"))
  end)
  after_each(function()
    log:close()
    support.rmdir(dir)
  end)

  -- An `out` that keeps every write.
  local function sink()
    return { parts = {}, write = function(self, s)
      self.parts[#self.parts + 1] = s
    end }
  end

  local FIXED = { now = support.instant("2025-12-04 00:00:00", 123456789) }

  for _, c in ipairs{ { "json", {}, "json.json" },
                      { "json", { with_device = true }, "json-device.json" },
                      { "sql", FIXED, "sql.sql" },
                      { "markdown", FIXED, "markdown.md" },
                      { "markdown", { with_device = true, now = FIXED.now },
                        "markdown-device.md" },
                      { "ndjson", {}, "ndjson.ndjson" },
                      { "ndjson", { with_device = true },
                        "ndjson-device.ndjson" },
                      { "csv", {}, "csv.csv" } } do
    it(c[1] .. " writes to any object with :write what the command prints",
       function()
      local exporter = require("synclua.export." .. c[1])
      local out = sink()
      local n = exporter.export(out, log, { limit = 1000 }, c[2])
      assert.equal(8, n)
      local want = support.slurp(GOLDEN .. c[3])
      if c[1] ~= "ndjson" and c[1] ~= "csv" then
        want = want:sub(1, -2)                 -- the command's newline
      end
      assert.equal(want, table.concat(out.parts))
    end)
  end

  it("stream: many writes, each of bounded size, never the whole output",
     function()
    local big = support.tmpdir()
    store_many(big, 3000)
    local blog <close> = assert(synclua.open(big .. "/sync.db"))
    for _, name in ipairs{ "json", "sql", "markdown", "ndjson", "csv" } do
      local out = sink()
      local n = require("synclua.export." .. name).export(out, blog,
                                                     { limit = 5000 }, FIXED)
      assert.equal(3000, n)
      local total, largest = 0, 0
      for _, p in ipairs(out.parts) do
        total = total + #p
        largest = math.max(largest, #p)
      end
      assert.truthy(#out.parts >= 3, name)
      assert.truthy(largest <= 65536 + 2048, name .. ": " .. largest)
      assert.truthy(total > 2 * largest, name)
    end
    support.rmdir(big)
  end)

  it("markdown counts the rows it lists while another process writes",
     function()
    local wal = support.tmpdir()
    local writer <close> = assert(synclua.open(wal, { mode = "w",
                                                      device_id = DEV }))
    for i = 1, 5 do
      writer:append{ event_type = "state_transition", summary = "old " .. i,
                     timestamp = "2025-12-03T10:00:0" .. i .. "Z" }
    end
    assert(writer:flush())
    local reader <close> = assert(synclua.open(wal))
    local out = sink()
    local header_seen = false
    function out:write(s)
      self.parts[#self.parts + 1] = s
      if not header_seen then   -- counted: now the writer adds 3 newer rows
        header_seen = true
        for i = 1, 3 do
          writer:append{ event_type = "sync_error", summary = "new " .. i }
        end
        assert(writer:flush())
      end
    end
    local n = require("synclua.export.markdown").export(out, reader, {}, FIXED)
    local text = table.concat(out.parts)
    assert.equal(5, n)
    assert.truthy(text:find("\n**Event Count**: 5\n", 1, true))
    assert.equal(5, select(2, text:gsub("| old %d |", "")))
    assert.equal(8, reader:count{})          -- a new read sees all of them
    support.rmdir(wal)
  end)

  it("leave the caller's filter table as it was", function()
    local filter = { limit = 3 }
    require("synclua.export.json").export(sink(), log, filter)
    require("synclua.export.markdown").export(sink(), log, filter, FIXED)
    assert.same({ limit = 3 }, filter)
  end)
end)

describe("log:events{ render = FORMAT }", function()
  local dir, log
  before_each(function()
    dir = support.tmpdir()
    store_with(dir, ROWS)
    log = assert(synclua.open(dir .. "/sync.db"))
  end)
  after_each(function()
    log:close()
    support.rmdir(dir)
  end)

  it("hands out each row's bytes, as synclua.render makes them from the "
     .. "event table", function()
    for _, f in ipairs{ "json", "sql", "markdown", "md", "ndjson", "csv" } do
      for _, dev in ipairs{ false, true } do
        local tables = {}
        for ev in log:events{} do tables[#tables + 1] = ev end
        local i = 0
        for s in log:events{ render = f, with_device = dev } do
          i = i + 1
          assert.equal(synclua.render(tables[i], f, dev), s)
        end
        assert.equal(8, i)
      end
    end
  end)

  it("renders a raw table (details as text) and a hand-made one the same",
     function()
    local ev = log:first{ raw = true }
    local rendered = synclua.render(ev, "json")
    assert.equal(rendered, synclua.render(log:first{}, "json"))
    assert.equal(rendered, synclua.render({
      id = ev.id, timestamp = "2025-12-03T03:00:00.1-10:00",
      device_id = ev.device_id, event_type = ev.event_type,
      category = ev.category, severity = ev.severity, summary = ev.summary,
      details = { reason = "timeout" }, peer_device_id = ev.peer_device_id,
    }, "json"))
    assert.equal("| 2025-12-03 13:00:00 | PeerDisconnected | Warning | x |\n",
                 synclua.render({ instant = ev.instant, summary = "x",
                                  event_type = ev.event_type,
                                  severity = "warning" }, "md"))
    -- model_types as a list or as text; an instant without its text; no
    -- id (not a stored row) is null, or an empty CSV field
    assert.equal(',2025-12-03T13:00:00.100+00:00,,,,,,,,,"entry,tag",,\r\n',
                 synclua.render({ instant = ev.instant,
                                  model_types = { "entry", "tag" } }, "csv"))
    assert.equal(',2025-12-03T13:00:00.100+00:00,,,,,,,,,"entry,tag",,\r\n',
                 synclua.render({ timestamp = "2025-12-03T13:00:00.100+00:00",
                                  model_types = "entry,tag" }, "csv"))
    assert.equal('{"category":"network","device_id":"' .. DEV .. '",'
      .. '"event_type":"peer_connected","id":null,"severity":"info",'
      .. '"summary":"up","timestamp":"2025-12-03T13:00:00.100Z"}\n',
      synclua.render({ instant = ev.instant, device_id = DEV:upper(),
                       event_type = "peer_connected", category = "network",
                       severity = "info", summary = "up" }, "ndjson", true))
  end)

  it("applies to log:first too", function()
    assert.equal(synclua.render(log:first{}, "sql"),
                 log:first{ render = "sql" })
    assert.is_nil(log:first{ render = "csv", event_type = "sync_error",
                             severity = "info" })
  end)

  it("chunks rows with the separator between them, across chunks",
     function()
    local it, state, _, cur = log:events{ render = "ndjson",
                                          separator = "--" }
    local first = it(state)
    assert.equal("{", first:sub(1, 1))
    local chunk, n = cur:chunk(10)            -- one row overshoots 10 bytes
    assert.equal(1, n)
    assert.equal("--{", chunk:sub(1, 3))
    local rest, m = cur:chunk()
    assert.equal(6, m)
    assert.equal(6, select(2, rest:gsub("}\n%-%-{", "")) + 1)
    assert.is_nil(cur:chunk())
    assert.equal(0, cur:untimed())
    cur:close()
    assert.is_nil(cur:chunk())
  end)

  it("raises for a format it does not know, and chunk without render",
     function()
    assert.equal("bad argument #1 to 'events' (render: unknown format "
                 .. "'xml' (json, sql, markdown, md, ndjson or csv))",
                 support.error_of(function()
                   return log:events{ render = "xml" } end))
    assert.equal("bad argument #1 to 'events' (separator: only with render)",
                 support.error_of(function()
                   return log:events{ separator = "," } end))
    assert.equal("bad argument #2 to 'render' (format: unknown format 'x' "
                 .. "(json, sql, markdown, md, ndjson or csv))",
                 support.error_of(function()
                   return synclua.render({}, "x") end))
    assert.equal("bad argument #1 to 'render' (summary: string expected, "
                 .. "got number)", support.error_of(function()
                   return synclua.render({ summary = 1 }, "json") end))
    assert.equal("bad argument #1 to 'render' (record_count: integer "
                 .. "expected, got string)", support.error_of(function()
                   return synclua.render({ record_count = "3" }, "csv") end))
    assert.equal("bad argument #1 to 'render' (table expected, got nil)",
                 support.error_of(function()
                   return synclua.render(nil, "json") end))
    local _, _, _, cur = log:events{}
    assert.equal("chunk: the cursor was not opened with render",
                 support.error_of(function() return cur:chunk() end))
    cur:close()
  end)
end)
