-- `synclua import` and what it stands on: log:insert (a list of events in
-- one transaction, all or nothing, duplicates skipped) and
-- synclua.importer (JSON and SQL exports read back; a bad file refused with
-- its name, line and reason). The command is run as a person runs it: the
-- program as a child process, with exact stdout, stderr and exit status,
-- and the rows it leaves in the store read back with the sqlite3 tool.
local support = dofile("spec/fixtures/support.lua")
local synclua = require "synclua"
local importer = require "synclua.importer"
local quote = support.quote

local EXE = support.EXE

-- The clock every run sees, so the SQL export's "Generated:" is fixed.
local NOW = "2025-12-04T00:00:00.123456789Z"

-- Run `synclua ARGS` in dir; returns stdout, stderr, exit status.
local function run(dir, args)
  return support.synclua(dir, args, "SYNCLUA_NOW=" .. quote(NOW))
end

-- `synclua events ARGS -o FILE` in dir; the file's bytes.
local function export(dir, args, file)
  local out, err, status = run(dir, "events " .. args .. " --limit 100000 -o "
                                    .. quote(file))
  assert(status == 0, err)
  assert(out:match("^Exported %d+ events to "), out)
  return support.slurp(dir .. "/" .. file)
end

local DEV = "2f1a8f8e-0c3b-4d52-9d0e-5b1c2a3d4e5f"  -- support's default
local OTHER = "9f2c0e4a-7b1d-4e3f-8a5b-6c7d8e9f0a1b"
local PEER = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
local SESSION = "67e55044-10b1-426f-9247-bb680e5fe0c8"

-- Four events of one device, oldest first (so their ids follow time, as in
-- a store its device wrote): awkward text, unsorted details with floats
-- and exact big integers, model types, a "Z" and an offset.
local ROWS = {
  { timestamp = "2025-12-03T09:00:00.000123+00:00",
    event_type = "peer_connected", category = "network",
    summary = "Peer connected", peer_device_id = PEER },
  { timestamp = "2025-12-03T10:00:00Z", event_type = "batch_ingestion",
    category = "data_flow", severity = "debug",
    summary = "Ingested batch of 300 records (200 entry, 100 tag)",
    model_types = "entry,tag", record_count = 300, duration_ms = 1200,
    peer_device_id = PEER, correlation_id = SESSION,
    details = '{"models":{"tag":100,"entry":200},"big":9007199254740993,'
      .. '"latency_ms":23.45599937438965,"ratio":100.0}' },
  { timestamp = "2025-12-03T12:15:00.123456789+02:00",
    event_type = "sync_error", category = "error", severity = "error",
    summary = "Weird: \"quotes\" | it's / slash\nnew line\ttab 😀 é→",
    details = '{"b":"tab\\there","a":"\\u0001 ctl \\"q\\" / é"}' },
  { timestamp = "2025-12-03T10:30:00.5+00:00",
    summary = "CatchingUp { buffered_count: 0 } → Ready",
    details = '{"reason":"buffered updates processed"}' },
}

-- The columns of every row, one line each, as the sqlite3 tool prints them.
local COLUMNS = "SELECT id, timestamp, device_id, event_type, category, "
  .. "severity, replace(summary, char(10), '\\n'), details, correlation_id, "
  .. "peer_device_id, model_types, record_count, duration_ms "
  .. "FROM sync_event_log ORDER BY id"

local function store_with(dir, rows, name)
  local db = dir .. "/" .. (name or "sync.db")
  assert(support.sqlite(db, support.DDL) == "")
  if #rows > 0 then support.insert_rows(db, rows) end
  return db
end

local function count(db)
  return support.sqlite(db, "SELECT count(*) FROM sync_event_log")
end

describe("synclua import", function()
  local dir
  before_each(function() dir = support.tmpdir() end)
  after_each(function() support.rmdir(dir) end)

  -- The four rows as synclua writes them, whichever export they came from:
  -- canonical times, lowercase ids, details compact with sorted keys (the
  -- big integer exact, the floats in serde's form), model types joined.
  local WRITTEN = table.concat({
    "1|2025-12-03T09:00:00.000123+00:00|" .. DEV .. "|peer_connected|"
      .. "network|info|Peer connected|||" .. PEER .. "|||",
    "2|2025-12-03T10:00:00+00:00|" .. DEV .. "|batch_ingestion|data_flow|"
      .. "debug|Ingested batch of 300 records (200 entry, 100 tag)|"
      .. '{"big":9007199254740993,"latency_ms":23.45599937438965,"models":'
      .. '{"entry":200,"tag":100},"ratio":100.0}|' .. SESSION .. "|" .. PEER
      .. "|entry,tag|300|1200",
    "3|2025-12-03T10:15:00.123456789+00:00|" .. DEV .. "|sync_error|error|"
      .. "error|Weird: \"quotes\" | it's / slash\\nnew line\ttab 😀 é→|"
      .. '{"a":"\\u0001 ctl \\"q\\" / é","b":"tab\\there"}|||||',
    "4|2025-12-03T10:30:00.500+00:00|" .. DEV .. "|state_transition|"
      .. "lifecycle|info|CatchingUp { buffered_count: 0 } → Ready|"
      .. '{"reason":"buffered updates processed"}|||||',
    "" }, "\n")

  describe("reads", function()
    before_each(function() store_with(dir, ROWS) end)

    it("a JSON export made with --with-device", function()
      export(dir, "--with-device", "a.json")
      local out, err, status = run(dir, "import a.json --db c.db")
      assert.equal("Imported 4 events from 1 file into c.db (0 duplicates "
                   .. "skipped)\n", out)
      assert.equal("", err)
      assert.equal(0, status)
      assert.equal(WRITTEN, support.sqlite(dir .. "/c.db", COLUMNS))
    end)

    it("an SQL export", function()
      export(dir, "-f sql", "a.sql")
      local out, err, status = run(dir, "import a.sql --db c.db")
      assert.equal("Imported 4 events from 1 file into c.db (0 duplicates "
                   .. "skipped)\n", out)
      assert.equal("", err)
      assert.equal(0, status)
      assert.equal(WRITTEN, support.sqlite(dir .. "/c.db", COLUMNS))
    end)

    it("an SQL export as Spacedrive writes it (no table, no transaction)",
       function()
      local sql = export(dir, "-f sql", "a.sql")
      local lines = { "-- Sync Event Log Export",
                      "-- Generated: 2025-12-04T00:00:00.123456789+00:00", "" }
      -- An INSERT spans lines where a summary holds a line break.
      for stmt in sql:gmatch("INSERT INTO.-%);\n") do
        lines[#lines + 1] = stmt:sub(1, -2)
      end
      support.spit(dir .. "/sd.sql", table.concat(lines, "\n") .. "\n")
      local out, _, status = run(dir, "import sd.sql --db c.db")
      assert.equal("Imported 4 events from 1 file into c.db (0 duplicates "
                   .. "skipped)\n", out)
      assert.equal(0, status)
      assert.equal(WRITTEN, support.sqlite(dir .. "/c.db", COLUMNS))
    end)

    it("a default JSON export (no device ids, no model types) with --device",
       function()
      export(dir, "", "a.json")
      local out, err, status = run(dir, "import a.json --db c.db --device "
                                        .. DEV:upper())
      assert.equal("Imported 4 events from 1 file into c.db (0 duplicates "
                   .. "skipped)\n", out)
      assert.equal("", err)
      assert.equal(0, status)
      -- What the default export leaves out cannot come back: the model
      -- types, and a category other than the type's (none here).
      assert.equal((WRITTEN:gsub("|entry,tag|", "||")),
                   support.sqlite(dir .. "/c.db", COLUMNS))
    end)

    it("several files of several devices, in one store, by time", function()
      store_with(dir, {
        { timestamp = "2025-12-03T09:30:00+00:00", device_id = OTHER,
          summary = "Ready → Paused", event_type = "state_transition" },
        { timestamp = "2025-12-03T11:00:00+00:00", device_id = OTHER,
          summary = "later", event_type = "state_transition" },
      }, "other.db")
      export(dir, "--with-device", "a.json")
      export(dir, "-f sql --db other.db", "b.sql")
      local out, _, status = run(dir, "import b.sql a.json --db c.db")
      assert.equal("Imported 6 events from 2 files into c.db (0 duplicates "
                   .. "skipped)\n", out)
      assert.equal(0, status)
      assert.equal(table.concat({
        "1|2025-12-03T09:00:00.000123+00:00|" .. DEV .. "|Peer connected",
        "2|2025-12-03T09:30:00+00:00|" .. OTHER .. "|Ready → Paused",
        "3|2025-12-03T10:00:00+00:00|" .. DEV .. "|Ingested batch of 300 "
          .. "records (200 entry, 100 tag)",
        "4|2025-12-03T10:15:00.123456789+00:00|" .. DEV .. "|Weird: "
          .. "\"quotes\" | it's / slash",
        "new line\ttab 😀 é→",
        "5|2025-12-03T10:30:00.500+00:00|" .. DEV .. "|CatchingUp { "
          .. "buffered_count: 0 } → Ready",
        "6|2025-12-03T11:00:00+00:00|" .. OTHER .. "|later", "" }, "\n"),
        support.sqlite(dir .. "/c.db", "SELECT id, timestamp, device_id, "
                                       .. "summary FROM sync_event_log "
                                       .. "ORDER BY id"))
    end)

    it("standard input, given as -", function()
      export(dir, "--with-device", "a.json")
      local out = support.capture(("cd %s && %s import - --db c.db < a.json")
        :format(quote(dir), quote(EXE)))
      assert.equal("Imported 4 events from 1 file into c.db (0 duplicates "
                   .. "skipped)\n", out)
    end)

    it("an empty export of either kind as no events", function()
      store_with(dir, {}, "empty.db")
      export(dir, "--db empty.db", "e.json")
      export(dir, "--db empty.db -f sql", "e.sql")
      local out, _, status = run(dir, "import e.json e.sql --db c.db")
      assert.equal("Imported 0 events from 2 files into c.db (0 duplicates "
                   .. "skipped)\n", out)
      assert.equal(0, status)
      assert.equal("0\n", count(dir .. "/c.db"))
    end)
  end)

  describe("skips duplicates", function()
    before_each(function() store_with(dir, ROWS) end)

    it("importing the same file again adds nothing", function()
      export(dir, "--with-device", "a.json")
      run(dir, "import a.json --db c.db")
      local out, err, status = run(dir, "import a.json --db c.db")
      assert.equal("Imported 0 events from 1 file into c.db (4 duplicates "
                   .. "skipped)\n", out)
      assert.equal("", err)
      assert.equal(0, status)
      assert.equal(WRITTEN, support.sqlite(dir .. "/c.db", COLUMNS))
    end)

    it("within one run, and across formats of the same events", function()
      export(dir, "--with-device", "a.json")
      export(dir, "-f sql", "a.sql")
      export(dir, "", "plain.json")
      local out = run(dir, "import a.json a.sql plain.json a.json --device "
                           .. DEV .. " --db c.db")
      assert.equal("Imported 4 events from 4 files into c.db (12 "
                   .. "duplicates skipped)\n", out)
      assert.equal(WRITTEN, support.sqlite(dir .. "/c.db", COLUMNS))
    end)

    it("against rows another program stored in other forms", function()
      export(dir, "--with-device", "a.json")
      -- The original store itself: its rows have "Z", an offset, a short
      -- fraction; the import finds them all by instant.
      local out = run(dir, "import a.json --db sync.db")
      assert.equal("Imported 0 events from 1 file into sync.db (4 "
                   .. "duplicates skipped)\n", out)
      assert.equal("4\n", count(dir .. "/sync.db"))
    end)

    it("but keeps events that differ in device, time, type or summary",
       function()
      export(dir, "--with-device", "a.json")
      run(dir, "import a.json --db c.db")
      local text = support.slurp(dir .. "/a.json")
      local function replace(from, to)
        local i, j = text:find(from, 1, true)
        return text:sub(1, i - 1) .. to .. text:sub(j + 1)
      end
      local variants = {
        replace('"summary": "Peer connected"', '"summary": "Peer up"'),
        (text:gsub(DEV:gsub("%-", "%%-"), OTHER)),
        replace("T09:00:00.000123Z", "T09:00:00.000124Z"),
        replace('"event_type": "peer_connected"',
                '"event_type": "peer_disconnected"'),
      }
      local added = { 1, 4, 1, 1 }
      for i, v in ipairs(variants) do
        support.spit(dir .. "/v.json", v)
        local out = run(dir, "import v.json --db c.db")
        assert.equal(("Imported %d event%s from 1 file into c.db (%d "
                      .. "duplicate%s skipped)\n"):format(added[i],
          added[i] == 1 and "" or "s", 4 - added[i],
          4 - added[i] == 1 and "" or "s"), out)
      end
      assert.equal("11\n", count(dir .. "/c.db"))
    end)
  end)

  describe("refuses bad input, names the file, line and reason, and writes "
           .. "nothing", function()
    local TYPES = table.concat(synclua.event_types, ", ")
    local GOOD = '[\n  {\n    "id": 1,\n    "timestamp": '
      .. '"2025-12-03T10:00:00Z",\n    "device_id": "' .. DEV .. '",\n'
      .. '    "event_type": "state_transition",\n    "category": '
      .. '"lifecycle",\n    "severity": "info",\n    "summary": "ok"\n  }\n]'
    local INSERT = "INSERT INTO sync_event_log (timestamp, device_id, "
      .. "event_type, category, severity, summary, details, correlation_id, "
      .. "peer_device_id, model_types, record_count, duration_ms) VALUES ("
    local function insert(values) return INSERT .. values .. ");\n" end
    local ROW = "'2025-12-03T10:00:00+00:00', '" .. DEV .. "', "
      .. "'state_transition', 'lifecycle', 'info', 'it''s', NULL, NULL, "
      .. "NULL, NULL, NULL, NULL"
    local SQL_HEAD = "-- Sync Event Log Export\n-- Generated: "
      .. "2025-12-04T00:00:00+00:00\n\n"

    local cases = {
      { "malformed JSON, with its line and column",
        { ["bad.json"] = '[\n  {\n    "event_type": "state_transition",\n'
            .. '    "summary": "a"\n    "timestamp": "2025-12-03T10:00:00Z"\n'
            .. '  }\n]' },
        "import bad.json",
        "bad.json: line 5 column 5: unexpected character '\"'", 2 },
      { "a truncated JSON file",
        { ["cut.json"] = GOOD:sub(1, 50) },
        "import cut.json",
        "cut.json: line 4 column 18: unterminated string", 2 },
      { "a truncated JSON file, cut between events",
        { ["cut.json"] = GOOD:sub(1, -3) .. ",\n" },
        "import cut.json",
        "cut.json: line 11 column 1: unexpected end of input", 2 },
      { "JSON that is not an array",
        { ["obj.json"] = '\n  {"events": []}\n' },
        "import obj.json",
        "obj.json: line 2 column 3: expected a JSON array of events, got an "
          .. "object", 2 },
      { "an element that is not an event",
        { ["num.json"] = GOOD:sub(1, -3) .. ",\n  42\n]" },
        "import num.json",
        "num.json: line 11: an event object expected, got number", 2 },
      { "an unknown event type in JSON, at its line",
        { ["t.json"] = GOOD:gsub('"state_transition"', '"state_change"') },
        "import t.json",
        "t.json: line 6: Invalid event type: state_change (valid: " .. TYPES
          .. ")", 2 },
      { "an unknown severity in JSON",
        { ["s.json"] = GOOD:gsub('"info"', '"loud"') },
        "import s.json",
        "s.json: line 8: Invalid severity: loud (valid: debug, info, "
          .. "warning, error)", 2 },
      { "a field no export has",
        { ["f.json"] = GOOD:gsub('"summary"', '"colour": 1,\n    "summary"') },
        "import f.json",
        "f.json: line 9: unknown field 'colour'", 2 },
      { "a field of the wrong type",
        { ["w.json"] = GOOD:gsub('"summary": "ok"', '"summary": 7') },
        "import w.json",
        "w.json: line 9: summary: string expected, got number", 2 },
      { "a JSON timestamp that does not parse, with an accepted example",
        { ["ts.json"] = GOOD:gsub("10:00:00Z", "10:00:00") },
        "import ts.json",
        "ts.json: line 4: timestamp: not RFC 3339: 2025-12-03T10:00:00 "
          .. "(e.g. '2025-12-03T10:15:00.123Z')", 2 },
      { "a default-mode JSON export without --device",
        { ["plain.json"] = '[\n  {\n    "correlation_id": null,\n'
            .. '    "details": null,\n    "duration_ms": null,\n'
            .. '    "event_type": "state_transition",\n'
            .. '    "peer_device_id": null,\n    "record_count": null,\n'
            .. '    "severity": "info",\n    "summary": "ok",\n'
            .. '    "timestamp": "2025-12-03T10:00:00Z"\n  }\n]' },
        "import plain.json",
        "plain.json: the events carry no device_id (a JSON export made "
          .. "without --with-device): give their device with --device UUID",
        2 },
      { "an SQL statement that is not an INSERT of Spacedrive's form",
        { ["dump.sql"] = SQL_HEAD .. insert(ROW)
            .. "INSERT INTO sync_event_log VALUES(1,'2025-12-03');\n" },
        "import dump.sql",
        "dump.sql: line 5: expected INSERT INTO sync_event_log (timestamp, "
          .. "...) VALUES (...); as `sd sync events --format sql` writes it, "
          .. "got: INSERT INTO sync_event_log VALUES(1,'202...", 2 },
      { "any other SQL",
        { ["drop.sql"] = SQL_HEAD .. "DROP TABLE sync_event_log;\n" },
        "import drop.sql",
        "drop.sql: line 4: expected INSERT INTO sync_event_log (timestamp, "
          .. "...) VALUES (...); as `sd sync events --format sql` writes it, "
          .. "got: DROP TABLE sync_event_log;", 2 },
      { "an INSERT with a value missing",
        { ["short.sql"] = SQL_HEAD .. insert(ROW:gsub(", NULL$", "")) },
        "import short.sql",
        "short.sql: line 4: expected ', ' before the value of duration_ms",
        2 },
      { "an INSERT with a value of the wrong kind",
        { ["kind.sql"] = SQL_HEAD .. insert(ROW:gsub("NULL$", "'12'")) },
        "import kind.sql",
        "kind.sql: line 4: duration_ms: an integer or NULL expected, got a "
          .. "string", 2 },
      { "an unknown event type in SQL, at its line",
        { ["type.sql"] = SQL_HEAD .. insert(ROW) .. insert(ROW:gsub(
            "'it''s'", "'two\nlines'"))
            .. insert(ROW:gsub("state_transition", "state_change")) },
        "import type.sql",
        "type.sql: line 7: Invalid event type: state_change (valid: "
          .. TYPES .. ")", 2 },
      { "an SQL timestamp that does not parse",
        { ["ts.sql"] = SQL_HEAD
            .. insert(ROW:gsub("T10:00:00", "T25:00:00")) },
        "import ts.sql",
        "ts.sql: line 4: timestamp: not RFC 3339: 2025-12-03T25:00:00+00:00 "
          .. "(e.g. '2025-12-03T10:15:00.123+00:00')", 2 },
      { "details that are not JSON",
        { ["d.sql"] = SQL_HEAD .. insert(ROW:gsub("'it''s', NULL",
                                                  "'it''s', '{\"a\":'")) },
        "import d.sql",
        "d.sql: line 4: details: not JSON: unexpected end of input at line 1 "
          .. "column 6", 2 },
      { "a truncated SQL file, cut inside an INSERT",
        { ["cut.sql"] = SQL_HEAD .. "BEGIN;\n" .. insert(ROW):sub(1, 250) },
        "import cut.sql",
        "cut.sql: line 5: unexpected end of file (truncated?)", 2 },
      { "a truncated SQL file, cut before COMMIT;",
        { ["cut.sql"] = SQL_HEAD .. "BEGIN;\n" .. insert(ROW) },
        "import cut.sql",
        "cut.sql: line 6: unexpected end of file: BEGIN; without COMMIT; "
          .. "(truncated?)", 2 },
      { "an empty file",
        { ["empty.json"] = "\n" },
        "import empty.json",
        "empty.json: empty file: not an export of sync events (a JSON array "
          .. "or an SQL script)", 2 },
      { "a file in no format it knows",
        { ["notes.txt"] = "\nhello\n" },
        "import notes.txt",
        "notes.txt: line 2: not an export of sync events (expected a JSON "
          .. "array or an SQL script, as synclua events -f json or -f sql "
          .. "writes them)", 2 },
      { "a bad file after good ones (the good ones are not imported)",
        { ["good.json"] = GOOD, ["bad.json"] = "[" },
        "import good.json bad.json",
        "bad.json: line 1 column 2: unexpected end of input", 2 },
      { "a --device that is not a UUID",
        { ["good.json"] = GOOD },
        "import good.json --device laptop",
        "Invalid device ID: laptop (--device expects a UUID, e.g. "
          .. "67e55044-10b1-426f-9247-bb680e5fe0c8)", 2 },
      { "a missing file, with exit 3",
        { ["good.json"] = GOOD },
        "import good.json nowhere.json",
        "nowhere.json: No such file or directory", 3 },
    }

    for _, c in ipairs(cases) do
      it(c[1], function()
        for name, bytes in pairs(c[2]) do
          support.spit(dir .. "/" .. name, bytes)
        end
        -- Into a new store: it is not even created.
        local out, err, status = run(dir, c[3] .. " --db new.db")
        assert.equal("", out)
        assert.equal("synclua import: " .. c[4] .. "\n", err)
        assert.equal(c[5], status)
        assert.is_false(support.exists(dir .. "/new.db"))
        -- Into a store with rows: they stay as they were.
        store_with(dir, ROWS, "old.db")
        local before = support.sqlite(dir .. "/old.db", COLUMNS)
        out, err, status = run(dir, c[3] .. " --db old.db")
        assert.equal("synclua import: " .. c[4] .. "\n", err)
        assert.equal(c[5], status)
        assert.equal(before, support.sqlite(dir .. "/old.db", COLUMNS))
      end)
    end

    it("the good file of those cases imports", function()
      support.spit(dir .. "/good.json", GOOD)
      support.spit(dir .. "/good.sql", SQL_HEAD .. insert(ROW))
      local out, err, status = run(dir, "import good.json good.sql --db "
                                        .. "new.db")
      assert.equal("Imported 2 events from 2 files into new.db (0 "
                   .. "duplicates skipped)\n", out)
      assert.equal("", err)
      assert.equal(0, status)
    end)

    -- A store the system will not let us write: refused when the import
    -- begins, whether synclua made it (WAL) or another program did (a
    -- rollback journal, which opening to write leaves as it is); its bytes
    -- stay as they were.
    local unwritable = {
      { "one the sqlite3 tool made", function()
          store_with(dir, ROWS, "old.db")
        end, "old.db: insert: attempt to write a readonly database" },
      { "one synclua made", function()
          support.spit(dir .. "/rows.json", GOOD)
          assert.equal(0, select(3, run(dir, "import rows.json --db old.db")))
        end, "old.db: insert: attempt to write a readonly database" },
    }
    for _, u in ipairs(unwritable) do
      it("a store it cannot write (" .. u[1] .. "), with exit 3", function()
        support.spit(dir .. "/good.json", GOOD:gsub('"ok"', '"new"'))
        u[2]()
        local db = dir .. "/old.db"
        local before = support.slurp(db)
        -- chmod stops a user; root needs the immutable flag.
        os.execute("chmod a-w " .. quote(db))
        local root = support.capture("id -u") == "0\n"
        if root and os.execute("chattr +i " .. quote(db) .. " 2>/dev/null")
                    ~= true then
          os.execute("chmod u+w " .. quote(db))
          pending("running as root on a file system without chattr +i: "
                  .. "no way to make the store unwritable")
          return
        end
        local out, err, status = run(dir, "import good.json --db old.db")
        if root then os.execute("chattr -i " .. quote(db)) end
        os.execute("chmod u+w " .. quote(db))
        assert.equal("", out)
        assert.equal("synclua import: " .. u[3] .. "\n", err)
        assert.equal(3, status)
        assert.equal(before, support.slurp(db))
      end)
    end

    it("usage: a FILE and --db are required", function()
      local _, err, status = run(dir, "import --db x.db")
      assert.equal("synclua import: missing argument FILE\n", err)
      assert.equal(2, status)
      _, err, status = run(dir, "import a.json")
      assert.equal("synclua import: option '--db' is required\n", err)
      assert.equal(2, status)
      _, err, status = run(dir, "import - - --db x.db")
      assert.equal("synclua import: '-' (standard input) given more than "
                   .. "once\n", err)
      assert.equal(2, status)
    end)
  end)

  describe("round trip", function()
    it("events -> import -> events gives the same bytes in every format",
       function()
      store_with(dir, ROWS)
      local formats = { { "--with-device", "json" }, { "", "json" },
                        { "-f sql", "sql" }, { "-f md --with-device", "md" },
                        { "-f ndjson --with-device", "ndjson" } }
      export(dir, "--with-device", "a.json")
      run(dir, "import a.json --db c.db")
      for _, f in ipairs(formats) do
        local a = export(dir, f[1], "a." .. f[2])
        local c = export(dir, f[1] .. " --db c.db", "c." .. f[2])
        assert.equal(a, c)
      end
      -- And from the SQL export, and from the default JSON with --device.
      local sql = export(dir, "-f sql", "a.sql")
      run(dir, "import a.sql --db d.db")
      assert.equal(sql, export(dir, "-f sql --db d.db", "d.sql"))
      local json = export(dir, "", "p.json")
      run(dir, "import p.json --device " .. DEV .. " --db e.db")
      assert.equal(json, export(dir, "--db e.db", "e.json"))
    end)

    it("keeps the order of events of the same instant", function()
      local rows = {}
      for i = 1, 5 do
        rows[i] = { timestamp = "2025-12-03T10:00:00+00:00",
                    summary = "tie " .. i }
      end
      store_with(dir, rows)
      local a = export(dir, "--with-device", "a.json")
      run(dir, "import a.json --db c.db")
      assert.equal(a, export(dir, "--with-device --db c.db", "c.json"))
    end)

    it("stores model types that join to \"\" as NULL, as the logger does",
       function()
      store_with(dir, { { timestamp = "2025-12-03T10:00:00+00:00",
                          summary = "s", model_types = "" } })
      local a = export(dir, "--with-device", "a.json")
      assert.truthy(a:find('"model_types": [\n      ""\n    ]', 1, true))
      run(dir, "import a.json --db c.db")
      assert.equal("NULL\n", support.sqlite(dir .. "/c.db",
        "SELECT coalesce(model_types, 'NULL') FROM sync_event_log"))
    end)
  end)

  it("gives the documentation's cross-device SQL queries two devices' "
     .. "exports of a simulated library", function()
    local _, err, status = run(dir, "simulate --out lib --devices 2 "
                                    .. "--hours 6 --seed 3")
    assert.equal(0, status, err)
    local devices = synclua.json_decode(support.slurp(dir
                                                      .. "/lib/devices.json"))
    local files = {}
    for i, d in ipairs(devices.devices) do
      export(dir, "-f json --with-device --db lib/" .. d.name,
             d.name .. ".json")
      files[i] = d.name .. ".json"
    end
    local out
    out, err, status = run(dir, "import " .. table.concat(files, " ")
                                .. " --db combined.db")
    local total = devices.devices[1].events + devices.devices[2].events
    assert.equal(("Imported %d events from 2 files into combined.db (0 "
                  .. "duplicates skipped)\n"):format(total), out)
    assert.equal("", err)
    assert.equal(0, status)

    -- "Find matching backfill sessions across devices", as the docs run it,
    -- against the same query over both devices' own stores.
    local sessions = [[
SELECT
correlation_id,
COUNT(DISTINCT device_id) as device_count,
MIN(timestamp) as started,
MAX(timestamp) as completed
FROM sync_event_log
WHERE correlation_id IS NOT NULL
GROUP BY correlation_id
ORDER BY started DESC
]]
    local got = support.sqlite(dir .. "/combined.db", sessions)
    local want = support.sqlite(dir .. "/lib/" .. devices.devices[1].path,
      "ATTACH " .. support.sql_string(dir .. "/lib/"
                                      .. devices.devices[2].path)
      .. " AS b; " .. sessions:gsub("FROM sync_event_log",
        "FROM (SELECT * FROM main.sync_event_log UNION ALL "
        .. "SELECT * FROM b.sync_event_log)"))
    assert.equal(want, got)
    -- Every planted session shows on both devices.
    local matched = 0
    for line in got:gmatch("[^\n]+") do
      if line:match("^[%x-]+|2|") then matched = matched + 1 end
    end
    assert.is_true(matched >= 3, got)
    for _, p in ipairs(devices.planted) do
      assert.truthy(got:find(p.session .. "|2|", 1, true))
    end
    -- And the cross-device timeline query runs, in time order.
    local timeline = support.sqlite(dir .. "/combined.db", [[
SELECT
timestamp,
substr(device_id, 1, 8) as device,
event_type,
summary
FROM sync_event_log
ORDER BY timestamp
]])
    local n, last, sorted = 0, "", true
    for line in timeline:gmatch("[^\n]+") do
      local stamp = line:match("^([^|]*)|")
      n = n + 1
      if stamp < last then sorted = false end
      last = stamp
    end
    assert.equal(total, n)
    assert.is_true(sorted)
    -- Each device's rows are in the combined store as in its own.
    for _, d in ipairs(devices.devices) do
      local rows = "SELECT timestamp, device_id, event_type, category, "
        .. "severity, summary, details, correlation_id, peer_device_id, "
        .. "model_types, record_count, duration_ms FROM sync_event_log "
        .. "WHERE device_id = '" .. d.device_id .. "' ORDER BY timestamp, id"
      local own = support.sqlite(dir .. "/lib/" .. d.path, rows)
      assert.equal(d.events, select(2, own:gsub("\n", "")))
      assert.equal(own, support.sqlite(dir .. "/combined.db", rows))
    end
  end)
end)

describe("log:insert()", function()
  local dir, log
  before_each(function()
    dir = support.tmpdir()
    log = assert(synclua.open(dir, { mode = "w", device_id = DEV }))
  end)
  after_each(function()
    if log then log:close() end
    support.rmdir(dir)
  end)

  local function rows()
    return support.sqlite(dir .. "/sync.db", COLUMNS)
  end

  local function ev(summary, at, more)
    local e = { event_type = "state_transition", summary = summary,
                timestamp = at or "2025-12-03T10:00:00Z" }
    for k, v in pairs(more or {}) do e[k] = v end
    return e
  end

  it("writes a list at once, in one transaction, as the logger writes "
     .. "rows, and returns the counts", function()
    local inserted, skipped = log:insert{
      ev("a", "2025-12-03T12:00:00.5+02:00", {
        device_id = OTHER:upper(), details = { z = { 1.5, 2 }, a = "/" },
        model_types = { "entry", "tag" }, record_count = 300,
        event_type = "batch_ingestion", correlation_id = SESSION:upper() }),
      ev("b", synclua.parse_rfc3339("2025-12-03T10:00:01.000123Z"),
         { details = '{"y":null,"b":1}', model_types = "",
           severity = "error", duration_ms = 7 }),
    }
    assert.equal(2, inserted)
    assert.equal(0, skipped)
    -- No flush: the rows are there when insert returns.
    assert.equal(table.concat({
      "1|2025-12-03T10:00:00.500+00:00|" .. OTHER .. "|batch_ingestion|"
        .. 'data_flow|debug|a|{"a":"/","z":[1.5,2]}|' .. SESSION
        .. "||entry,tag|300|",
      "2|2025-12-03T10:00:01.000123+00:00|" .. DEV .. "|state_transition|"
        .. 'lifecycle|error|b|{"b":1,"y":null}|||||7', "" }, "\n"), rows())
    assert.equal(2, log:count())
    assert.equal(0, log:stats().appended)
  end)

  it("skips duplicates within the list and against the store, when asked",
     function()
    local list = { ev("a"), ev("a", "2025-12-03T11:00:00+01:00"),
                   ev("a", nil, { device_id = DEV:upper() }), ev("b") }
    assert.same({ 2, 2 }, { log:insert(list, { skip_duplicates = true }) })
    assert.same({ 0, 4 }, { log:insert(list, { skip_duplicates = true }) })
    assert.same({ 4, 0 }, { log:insert(list) })
    assert.same({ 4, 0 }, { log:insert(list, { skip_duplicates = false }) })
    assert.equal(10, log:count())
  end)

  it("sees what was appended and flushed before", function()
    log:append(ev("a"))
    assert(log:flush())
    assert.same({ 1, 1 }, { log:insert({ ev("a"), ev("b") },
                                       { skip_duplicates = true }) })
  end)

  it("takes an empty list", function()
    assert.same({ 0, 0 }, { log:insert({}, { skip_duplicates = true }) })
  end)

  it("refuses the whole list for one bad event, naming its position, and "
     .. "writes nothing", function()
    local list = { ev("a"), ev("b"), ev("c", "today") }
    assert.same({ nil, "event 3: timestamp: not RFC 3339: today (e.g. "
                    .. "'2025-12-03T10:15:00.123+00:00')", "invalid" },
                { log:insert(list) })
    list[3] = ev("c", nil, { severity = "loud" })
    assert.same({ nil, "event 3: Invalid severity: loud (valid: debug, "
                    .. "info, warning, error)", "invalid" },
                { log:insert(list) })
    list[3] = ev("c", nil, { details = "{" })
    assert.same({ nil, "event 3: details: not JSON: unexpected end of input "
                    .. "at line 1 column 2", "invalid" },
                { log:insert(list) })
    assert.equal("", rows())
  end)

  it("needs a device from the event or the store", function()
    log:close()
    log = assert(synclua.open(dir, { mode = "w" }))
    assert.same({ nil, "event 2: device_id: missing (give one, or open the "
                    .. "store with a device_id)", "invalid" },
                { log:insert{ ev("a", nil, { device_id = DEV }), ev("b") } })
    assert.equal("", rows())
  end)

  it("raises for what is not an event table, naming its position",
     function()
    local function err(list, opts)
      return support.error_of(function() return log:insert(list, opts) end)
    end
    assert.equal("bad argument #1 to 'insert' (table expected, got string)",
                 err("events"))
    assert.equal("bad argument #1 to 'insert' (event 2: table expected, got "
                 .. "number)", err{ ev("a"), 42 })
    assert.equal("bad argument #1 to 'insert' (event 2: summary: string "
                 .. "expected, got number)", err{ ev("a"), ev(7) })
    assert.equal("bad argument #1 to 'insert' (event 1: unknown field "
                 .. "'sumary')", err{ { event_type = "state_transition",
                                         sumary = "x" } })
    assert.equal("bad argument #1 to 'insert' (event 1: record_count: "
                 .. "integer expected, got number)",
                 err{ ev("a", nil, { record_count = 1.5 }) })
    assert.equal("bad argument #1 to 'insert' (event 1: model_types: list "
                 .. "of strings expected)",
                 err{ ev("a", nil, { model_types = { 1 } }) })
    assert.equal("bad argument #2 to 'insert' (unknown option 'skip')",
                 err({}, { skip = true }))
    assert.equal("bad argument #2 to 'insert' (table expected, got boolean)",
                 err({}, true))
    -- append reads events as before.
    assert.equal("bad argument #1 to 'append' (unknown event field "
                 .. "'sumary')", support.error_of(function()
                   return log:append{ event_type = "state_transition",
                                      sumary = "x" } end))
    assert.equal("", rows())
  end)

  it("returns nil, message, \"readonly\" on a store opened read-only",
     function()
    log:close()
    log = assert(synclua.open(dir))
    assert.same({ nil, dir .. "/sync.db: opened read-only: cannot insert",
                  "readonly" }, { log:insert{ ev("a", nil,
                                                 { device_id = DEV }) } })
  end)

  it("raises on a closed store", function()
    log:close()
    assert.equal("attempt to use a closed synclua.Store",
                 support.error_of(function() return log:insert{} end))
    log = nil
  end)
end)

describe("synclua.importer", function()
  local JSON = '[\n  {\n    "timestamp": "2025-12-03T10:00:00.5Z",\n'
    .. '    "device_id": "' .. DEV:upper() .. '",\n    "event_type": '
    .. '"batch_ingestion",\n    "category": "data_flow",\n    "severity": '
    .. '"debug",\n    "summary": "s",\n    "details": {\n      "n": '
    .. '9007199254740993,\n      "f": 23.45599937438965,\n      "e": [],\n'
    .. '      "o": {}\n    },\n    "model_types": [\n      "entry",\n'
    .. '      "tag"\n    ],\n    "record_count": 3\n  }\n]'

  it("reads an export into the event tables log:insert takes", function()
    local events = assert(importer.parse(JSON, "x.json"))
    assert.equal(1, #events)
    local ev = events[1]
    -- Details stay JSON text, exact (compact, keys sorted): log:insert
    -- writes them.
    assert.equal('{"e":[],"f":23.45599937438965,"n":9007199254740993,'
                 .. '"o":{}}', ev.details)
    ev.details = nil
    assert.same({
      timestamp = "2025-12-03T10:00:00.5Z",
      device_id = DEV:upper(), event_type = "batch_ingestion",
      category = "data_flow", severity = "debug", summary = "s",
      model_types = { "entry", "tag" }, record_count = 3,
    }, ev)
    -- From SQL: details as their text, model types joined.
    local sql = importer.parse("INSERT INTO sync_event_log (timestamp, "
      .. "device_id, event_type, category, severity, summary, details, "
      .. "correlation_id, peer_device_id, model_types, record_count, "
      .. "duration_ms) VALUES ('2025-12-03T10:00:00.500+00:00', '" .. DEV
      .. "', 'batch_ingestion', 'data_flow', 'debug', 'it''s', "
      .. "'{\"a\":\"''q''\"}', NULL, NULL, 'entry,tag', 3, NULL);\n",
      "x.sql")
    assert.same({ {
      timestamp = "2025-12-03T10:00:00.500+00:00",
      device_id = DEV, event_type = "batch_ingestion",
      category = "data_flow", severity = "debug", summary = "it's",
      details = '{"a":"\'q\'"}', model_types = "entry,tag",
      record_count = 3,
    } }, sql)
  end)

  it("gives events without a device the one it is given", function()
    local plain = JSON:gsub('    "device_id": "[^"]*",\n', "")
    assert.equal(DEV, importer.parse(plain, "x.json",
                                     { device = DEV })[1].device_id)
    assert.equal(DEV:upper(), importer.parse(JSON, "x.json",
                                             { device = DEV })[1].device_id)
    assert.same({ nil, "x.json: the events carry no device_id (a JSON "
                    .. "export made without --with-device): give their "
                    .. "device with --device-of x.json=UUID", "invalid" },
                { importer.parse(plain, "x.json",
                                 { device_option = "--device-of x.json=UUID" }) })
  end)

  it("reads a file, and says why it cannot", function()
    local dir = support.tmpdir()
    support.spit(dir .. "/x.json", JSON)
    local ok, events = pcall(importer.read, dir .. "/x.json")
    local missing = { importer.read(dir .. "/nowhere.json") }
    local folder = { importer.read(dir) }
    support.rmdir(dir)
    assert.is_true(ok)
    assert.equal(1, #events)
    assert.same({ nil, dir .. "/nowhere.json: No such file or directory",
                  "notfound" }, missing)
    assert.same({ nil, dir .. ": Is a directory", "ioerr" }, folder)
  end)

  it("refuses bad input as nil, message, \"invalid\"", function()
    assert.same({ nil, "x.json: line 1 column 2: unexpected end of input",
                  "invalid" }, { importer.parse("[", "x.json") })
  end)

  it("raises for arguments of the wrong type", function()
    assert.equal("bad argument #1 to 'read' (string expected, got nil)",
                 support.error_of(importer.read))
    assert.equal("bad argument #2 to 'parse' (string expected, got nil)",
                 support.error_of(importer.parse, "[]"))
    assert.equal("bad argument #3 to 'parse' (device: string expected, got "
                 .. "number)", support.error_of(importer.parse, "[]", "x",
                                                 { device = 1 }))
    assert.equal("bad argument #1 to 'merge' (table expected, got nil)",
                 support.error_of(importer.merge))
  end)

  it("merges lists into time order, reading exports from their end",
     function()
    local function list(...)
      local l = {}
      for i, spec in ipairs{ ... } do
        l[i] = { timestamp = spec[1], summary = spec[2] }
      end
      return l
    end
    -- Newest first, ties in ascending id (a2a before a2b), as Spacedrive
    -- and synclua export them.
    local newest_first = list({ 30, "a3" }, { 20, "a2a" }, { 20, "a2b" },
                              { 10, "a1" })
    local oldest_first = list({ 15, "b1" }, { 20, "b2" }, { 40, "b3" })
    local names = {}
    for i, e in ipairs(importer.merge{ newest_first, oldest_first }) do
      names[i] = e.summary
    end
    assert.equal("a1 b1 a2a a2b b2 a3 b3", table.concat(names, " "))
    -- One event per instant and in order already: the same tables.
    local one = list({ 1, "x" }, { 2, "y" })
    local merged = importer.merge{ one }
    assert.equal(one[1], merged[1])
    assert.same({}, importer.merge{})
  end)
end)

-- ------------------------------------------------------------ streaming

-- A large export, in every format, made once: N events of one device a
-- quarter second apart (ids follow time), with what strains a reader cut
-- into chunks -- quotes, commas, line breaks and non-ASCII text in
-- summaries, nested details, counts, ids -- about 8 MB as JSON: several of
-- the importer's 1 MiB chunks.
local N = 20000
local BIG_ROWS = ([[
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d)
INSERT INTO sync_event_log (timestamp, device_id, event_type, category,
  severity, summary, details, correlation_id, peer_device_id, model_types,
  record_count, duration_ms)
SELECT strftime('%%Y-%%m-%%dT%%H:%%M:%%S', 1764720000 + i / 4, 'unixepoch')
         || '.' || printf('%%03d', (i %% 4) * 250 + 1) || '+00:00',
       '%s',
       CASE i %% 3 WHEN 0 THEN 'batch_ingestion' WHEN 1 THEN 'state_transition'
                  ELSE 'sync_error' END,
       CASE i %% 3 WHEN 0 THEN 'data_flow' WHEN 1 THEN 'lifecycle'
                  ELSE 'error' END,
       CASE i %% 3 WHEN 0 THEN 'debug' WHEN 1 THEN 'info' ELSE 'error' END,
       'Event ' || i || CASE WHEN i %% 7 = 0 THEN ': it''s "quoted", with a'
         || char(10) || 'line break, é→😀' ELSE ' of a long run' END,
       CASE i %% 3 WHEN 0 THEN '{"models":{"entry":' || i || ',"tag":'
         || (i %% 11) || '},"rate":' || (i %% 1000) || '.5}'
         WHEN 2 THEN '{"error":"missing parent, id ' || i || '"}' END,
       CASE WHEN i %% 3 = 0 THEN printf('67e55044-10b1-426f-9247-%%012d',
                                        i / 100) END,
       CASE WHEN i %% 3 = 0 THEN '1b4e28ba-2fa1-11d2-883f-0016d3cca427' END,
       CASE WHEN i %% 3 = 0 THEN 'entry,tag' END,
       CASE WHEN i %% 3 = 0 THEN i END,
       CASE WHEN i %% 3 = 0 THEN i %% 5000 END
FROM n;]]):format(N, "2f1a8f8e-0c3b-4d52-9d0e-5b1c2a3d4e5f")

-- Every column of every row, by id.
local ALL = "SELECT * FROM sync_event_log ORDER BY id"

describe("synclua import, of files of any size", function()
  local big, dir
  setup(function()
    big = support.tmpdir()
    assert(support.sqlite(big .. "/sync.db", support.DDL) == "")
    assert(support.sqlite(big .. "/sync.db", BIG_ROWS) == "")
    for _, f in ipairs{ { "--with-device", "json" },
                        { "-f ndjson --with-device", "ndjson" },
                        { "-f csv", "csv" }, { "-f sql", "sql" } } do
      export(big, f[1], "big." .. f[2])
    end
  end)
  teardown(function() support.rmdir(big) end)
  before_each(function() dir = support.tmpdir() end)
  after_each(function() support.rmdir(dir) end)

  local function file(name) return big .. "/" .. name end
  local function imported(n, files, skipped, db)
    return ("Imported %s event%s from %d file%s into %s (%s duplicate%s "
      .. "skipped)\n"):format(n, n == "1" and "" or "s", files,
      files == 1 and "" or "s", db or "c.db", skipped,
      skipped == "1" and "" or "s")
  end

  it("reads each format a chunk at a time, every row as it was stored",
     function()
    local want = support.sqlite(file("sync.db"), ALL)
    for _, f in ipairs{ "json", "ndjson", "csv", "sql" } do
      local out, err, status = run(dir, "import " .. file("big." .. f)
                                        .. " --db " .. f .. ".db")
      assert.equal(imported("20,000", 1, "0", f .. ".db"), out)
      assert.equal("", err)
      assert.equal(0, status)
      assert.equal(want, support.sqlite(dir .. "/" .. f .. ".db", ALL), f)
    end
  end)

  it("reads a JSON array in any layout: one line, no serde indentation",
     function()
    local doc = synclua.json_decode(support.slurp(file("big.json")),
                                    { as_text = { details = true } })
    for _, ev in ipairs(doc) do
      ev.details = ev.details and synclua.json_decode(ev.details)
    end
    local one = synclua.json_encode(doc)
    assert.is_nil(one:find("\n", 1, true))
    support.spit(dir .. "/one.json", one)
    local out, err, status = run(dir, "import one.json --db c.db")
    assert.equal(imported("20,000", 1, "0"), out)
    assert.equal("", err)
    assert.equal(0, status)
    assert.equal(support.sqlite(file("sync.db"), ALL),
                 support.sqlite(dir .. "/c.db", ALL))
  end)

  it("skips the duplicates of a large file given twice, across chunks and "
     .. "runs", function()
    local out = run(dir, "import " .. file("big.json") .. " "
                         .. file("big.json") .. " --db c.db")
    assert.equal(imported("20,000", 2, "20,000"), out)
    out = run(dir, "import " .. file("big.csv") .. " --db c.db")
    assert.equal(imported("0", 1, "20,000"), out)
    assert.equal(support.sqlite(file("sync.db"), ALL),
                 support.sqlite(dir .. "/c.db", ALL))
  end)

  -- The file with `from` replaced by `to` at its last occurrence.
  local function last_replaced(text, from, to)
    local at, i = nil, 1
    while true do
      local j = text:find(from, i, true)
      if not j then break end
      at, i = j, j + 1
    end
    return text:sub(1, at - 1) .. to .. text:sub(at + #from), at
  end

  -- The line of byte position p of text.
  local function line_of(text, p)
    return select(2, text:sub(1, p - 1):gsub("\n", "")) + 1
  end

  -- Import `name` (bytes) into a new store and into one with rows: the
  -- message, exit 2, and neither store changed.
  local function refused(name, bytes, message)
    support.spit(dir .. "/" .. name, bytes)
    local out, err, status = run(dir, "import " .. name .. " --db new.db")
    assert.equal("", out)
    assert.equal("synclua import: " .. message .. "\n", err)
    assert.equal(2, status)
    assert.is_false(support.exists(dir .. "/new.db"))
    store_with(dir, ROWS, "old.db")
    local before = support.sqlite(dir .. "/old.db", ALL)
    out, err, status = run(dir, "import " .. name .. " --db old.db")
    assert.equal("", out)
    assert.equal("synclua import: " .. message .. "\n", err)
    assert.equal(2, status)
    assert.equal(before, support.sqlite(dir .. "/old.db", ALL))
  end

  local TYPES = table.concat(synclua.event_types, ", ")

  it("writes nothing for a bad event at the very end of a large file, in "
     .. "every format", function()
    local text, at = last_replaced(support.slurp(file("big.json")),
                                   '"event_type": "', '"event_type": "x')
    refused("end.json", text, ("end.json: line %d: Invalid event type: "
      .. "xstate_transition (valid: %s)"):format(line_of(text, at), TYPES))
    -- From a pipe, which cannot be read again: lines counted on the way.
    local out = support.capture(("cd %s && cat end.json | %s import - --db "
      .. "new.db 2>&1; echo \"exit $?\""):format(quote(dir), quote(EXE)))
    assert.equal(("synclua import: stdin: line %d: Invalid event type: "
      .. "xstate_transition (valid: %s)\nexit 2\n"):format(line_of(text, at),
      TYPES), out)
    text, at = last_replaced(support.slurp(file("big.ndjson")),
                             '"severity":"', '"severity":"x')
    refused("end.ndjson", text, ("end.ndjson: line %d: Invalid severity: "
      .. "xinfo (valid: debug, info, warning, error)"):format(
      line_of(text, at)))
    text, at = last_replaced(support.slurp(file("big.sql")),
                             ", 'info', ", ", 'loud', ")
    refused("end.sql", text, ("end.sql: line %d: Invalid severity: loud "
      .. "(valid: debug, info, warning, error)"):format(line_of(text, at)))
    text, at = last_replaced(support.slurp(file("big.csv")), ",lifecycle,",
                             ",life,")
    refused("end.csv", text, ("end.csv: line %d: Invalid category: life "
      .. "(valid: lifecycle, data_flow, network, error)"):format(
      line_of(text, at)))
  end)

  -- What the core's parser says of the whole text, as import says it.
  local function parser_says(name, text)
    local _, err = synclua.json_decode(text)
    local reason, l, c = err:match("^(.*) at line (%d+) column (%d+)$")
    return ("%s: line %s column %s: %s"):format(name, l, c, reason)
  end

  it("names the place where a large file was cut, as a reader of the "
     .. "whole file would", function()
    local json = support.slurp(file("big.json"))
    for _, cut in ipairs{ 5000000, 5000123, #json - 2 } do
      local text = json:sub(1, cut)
      refused("cut.json", text, parser_says("cut.json", text))
    end
    local ndjson = support.slurp(file("big.ndjson"))
    local text = ndjson:sub(1, 4000000)
    -- NDJSON is read a line at a time: the last line, alone.
    local last = parser_says("", text:match("[^\n]*$"))
    refused("cut.ndjson", text, ("cut.ndjson: line %d%s"):format(
      line_of(text, #text), last:match("^: line 1( column .*)$")))
    text = support.slurp(file("big.sql")):sub(1, 3000000)
    refused("cut.sql", text, ("cut.sql: line %d: unexpected end of file "
      .. "(truncated?)"):format(line_of(text, #text + 1)))
  end)

  it("names the place of invalid UTF-8 deep in a large file, counting "
     .. "columns in characters", function()
    local json = support.slurp(file("big.json"))
    local at = json:find("é→😀", 6000000, true)
    local text = json:sub(1, at + 4) .. "\xff" .. json:sub(at + 6)
    local message = parser_says("utf8.json", text)
    assert.truthy(message:find(": invalid UTF-8 in string", 1, true),
                  message)
    refused("utf8.json", text, message)
    -- On one line of 8 MB: the column counts every character before it.
    local one = synclua.json_encode(synclua.json_decode(json))
    at = one:find("é→😀", 6000000, true)
    text = one:sub(1, at + 4) .. "\xff" .. one:sub(at + 6)
    message = parser_says("one.json", text)
    assert.truthy(message:find("^one%.json: line 1 column %d+: invalid UTF%-8 "
                               .. "in string$"), message)
    refused("one.json", text, message)
    -- From a pipe: the column counted on the way.
    local out = support.capture(("cd %s && cat one.json | %s import - --db "
      .. "new.db 2>&1; echo \"exit $?\""):format(quote(dir), quote(EXE)))
    assert.equal("synclua import: " .. message:gsub("^one%.json", "stdin")
                 .. "\nexit 2\n", out)
  end)

  it("refuses /dev/zero and /dev/full after a bounded look, creating "
     .. "nothing", function()
    for _, dev in ipairs{ "/dev/zero", "/dev/full" } do
      local out, err, status = run(dir, "import " .. dev .. " --db c.db",
                                   "timeout 60")
      assert.equal("", out)
      assert.equal("synclua import: " .. dev .. ": line 1: not an export of "
        .. "sync events (expected a JSON array or an SQL script, as synclua "
        .. "events -f json or -f sql writes them)\n", err)
      assert.equal(2, status)
      assert.is_false(support.exists(dir .. "/c.db"))
    end
  end)

  it("refuses an endless input of blank space, or one endless event",
     function()
    local function endless(producer)
      local cmd = ("cd %s && %s | timeout 60 %s import - --db c.db 2>&1; "
        .. "echo \"exit $?\""):format(quote(dir), producer, quote(EXE))
      return support.capture(cmd)
    end
    assert.equal("synclua import: stdin: line 1: not an export of sync "
      .. "events (nothing but blank space in its first 4 MiB)\nexit 2\n",
      endless("yes ''"))
    assert.equal("synclua import: stdin: line 2: an event of more than "
      .. "4 MiB: not an export of sync events\nexit 2\n",
      endless("(printf '[\\n  {\"summary\": \"'; yes x | tr -d '\\n')"))
    assert.equal("synclua import: stdin: line 1: a line of more than "
      .. "4 MiB: not an export of sync events\nexit 2\n",
      endless("(printf '{\"summary\":\"'; yes x | tr -d '\\n')"))
    assert.is_false(support.exists(dir .. "/c.db"))
  end)

  it("ends with exit 3 when the store cannot be written (a file-size "
     .. "limit), and leaves it as it was", function()
    -- Does this system hold a process to its file-size limit?
    local probe = support.capture(("cd %s && sh -c 'ulimit -f 1; head -c "
      .. "10000 /dev/zero > probe' 2>/dev/null; wc -c < probe")
      :format(quote(dir)))
    if probe ~= "512\n" then
      pending("this system does not enforce ulimit -f")
      return
    end
    store_with(dir, ROWS, "c.db")
    local before = support.slurp(dir .. "/c.db")
    local lines = {}
    local n = 0
    for line in support.slurp(file("big.ndjson")):gmatch("[^\n]+") do
      n = n + 1
      lines[n] = line
      if n == 3000 then break end
    end
    support.spit(dir .. "/part.ndjson", table.concat(lines, "\n"))
    local out = support.capture(("cd %s && sh -c 'ulimit -f 400; exec %s "
      .. "import part.ndjson --db c.db' 2>&1; echo \"exit $?\"")
      :format(quote(dir), quote(EXE)))
    assert.equal("synclua import: c.db: insert: disk I/O error\nexit 3\n", out)
    assert.equal(before, support.slurp(dir .. "/c.db"))
    -- The import's own temporary file, past the same limit.
    out = support.capture(("cd %s && sh -c 'ulimit -f 400; exec %s import "
      .. "%s --db c.db' 2>&1; echo \"exit $?\"")
      :format(quote(dir), quote(EXE), quote(file("big.json"))))
    assert.equal("synclua import: the import's temporary file: disk I/O "
      .. "error (SQLITE_TMPDIR or TMPDIR chooses its folder)\nexit 3\n", out)
    assert.equal(before, support.slurp(dir .. "/c.db"))
  end)
end)

describe("synclua.import()", function()
  local dir, log
  before_each(function()
    dir = support.tmpdir()
    log = assert(synclua.open(dir, { mode = "w", device_id = DEV }))
  end)
  after_each(function()
    if log then log:close() end
    support.rmdir(dir)
  end)

  local function ev(summary, at, more)
    local e = { event_type = "state_transition", summary = summary,
                timestamp = at or "2025-12-03T10:00:00Z" }
    for k, v in pairs(more or {}) do e[k] = v end
    return e
  end
  local function summaries()
    return support.sqlite(dir .. "/sync.db", "SELECT group_concat(summary, "
      .. "' ') FROM (SELECT summary FROM sync_event_log ORDER BY id)")
  end

  it("holds chunks aside and writes them at commit, oldest first, "
     .. "duplicates skipped across chunks", function()
    local imp <close> = assert(synclua.import{ skip_duplicates = true,
                                                by_time = true })
    assert.equal("synclua.Import (0 events)", tostring(imp))
    assert.equal(2, imp:add{ ev("c", "2025-12-03T10:00:03Z"),
                             ev("b", "2025-12-03T10:00:02Z") })
    assert.equal(4, imp:add{ ev("c", "2025-12-03T11:00:03+01:00"),
                             ev("a", "2025-12-03T10:00:01Z") })
    assert.equal(4, imp:count())
    assert.equal("\n", summaries())
    assert.same({ 3, 1 }, { imp:commit(log) })
    assert.equal("a b c\n", summaries())
    assert.same({ nil, "import: already committed", "misuse" },
                { imp:add{ ev("d") } })
    -- In the order added, without skipping.
    local again <close> = assert(synclua.import())
    again:add{ ev("c", "2025-12-03T10:00:03Z"), ev("a", "2025-12-03T10:00:01Z") }
    assert.same({ 2, 0 }, { again:commit(log) })
    assert.equal("a b c c a\n", summaries())
  end)

  it("refuses a chunk with a bad event, numbered among all the events "
     .. "added, and keeps nothing of it", function()
    local imp <close> = assert(synclua.import())
    imp:add{ ev("a"), ev("b") }
    assert.same({ nil, "event 4: Invalid severity: loud (valid: debug, info, "
                  .. "warning, error)", "invalid" },
                { imp:add{ ev("c"), ev("d", nil, { severity = "loud" }) } })
    assert.same({ nil, "event 3: timestamp: not RFC 3339: today (e.g. "
                  .. "'2025-12-03T10:15:00.123+00:00')", "invalid" },
                { imp:add{ ev("c", "today") } })
    assert.equal(2, imp:count())
    assert.same({ 2, 0 }, { imp:commit(log) })
    assert.equal("a b\n", summaries())
  end)

  it("writes nothing when closed before commit", function()
    local imp = assert(synclua.import())
    imp:add{ ev("a") }
    assert.is_true(imp:close())
    assert.is_true(imp:close())
    assert.equal("synclua.Import (closed)", tostring(imp))
    assert.equal("attempt to use a closed synclua.Import",
                 support.error_of(function() return imp:add{} end))
    assert.equal("\n", summaries())
  end)

  it("returns nil, message, code from a commit the store refuses",
     function()
    local imp <close> = assert(synclua.import())
    imp:add{ ev("a") }
    log:close()
    log = assert(synclua.open(dir))
    assert.same({ nil, dir .. "/sync.db: opened read-only: cannot insert",
                  "readonly" }, { imp:commit(log) })
    log:close()
    log = assert(synclua.open(dir, { mode = "w" }))
    imp:add{ ev("b", nil, { device_id = OTHER }) }
    local deviceless <close> = assert(synclua.import())
    deviceless:add{ ev("b", nil, { device_id = OTHER }), ev("c") }
    assert.same({ nil, "event 2: device_id: missing (give one, or open the "
                  .. "store with a device_id)", "invalid" },
                { deviceless:commit(log) })
    assert.same({ nil, "event 1: device_id: missing (give one, or open the "
                  .. "store with a device_id)", "invalid" },
                { imp:commit(log) })
    assert.equal("\n", summaries())
  end)

  it("raises for what is not an event table or an option, as insert does",
     function()
    local imp <close> = assert(synclua.import())
    imp:add{ ev("a") }
    local function err(fn) return support.error_of(fn) end
    assert.equal("bad argument #1 to 'add' (event 3: summary: string "
                 .. "expected, got number)",
                 err(function() return imp:add{ ev("b"), ev(7) } end))
    assert.equal("bad argument #1 to 'add' (table expected, got string)",
                 err(function() return imp:add("x") end))
    assert.equal("bad argument #1 to 'commit' (synclua.Store expected, got "
                 .. "no value)", err(function() return imp:commit() end))
    assert.equal("bad argument #1 to 'import' (unknown option 'order')",
                 err(function() return synclua.import{ order = "time" } end))
    assert.equal(1, imp:count())
  end)
end)

describe("synclua.importer.stream()", function()
  local dir
  before_each(function() dir = support.tmpdir() end)
  after_each(function() support.rmdir(dir) end)

  local function ndjson(n)
    local lines = {}
    for i = 1, n do
      lines[i] = ('{"device_id":"%s","event_type":"state_transition",'
        .. '"summary":"%s","timestamp":"2025-12-03T10:00:00Z"}')
        :format(DEV, ("event %d "):format(i) .. ("x"):rep(200))
    end
    return table.concat(lines, "\n") .. "\n"
  end

  it("hands a large file on a list at a time, in file order", function()
    support.spit(dir .. "/x.ndjson", ndjson(12000))
    local calls, seen, ordered = 0, 0, true
    assert.equal(12000, importer.stream(dir .. "/x.ndjson", function(events)
      calls = calls + 1
      for _, e in ipairs(events) do
        seen = seen + 1
        ordered = ordered and e.summary:match("^event (%d+) ") == tostring(seen)
      end
      return true
    end))
    assert.equal(12000, seen)
    assert.is_true(ordered)
    assert.is_true(calls >= 2, "one list for " .. seen .. " events")
  end)

  it("stops when the sink says so, with its message", function()
    support.spit(dir .. "/x.ndjson", ndjson(3))
    assert.same({ nil, dir .. "/x.ndjson: event 2: no", "invalid" },
                { importer.stream(dir .. "/x.ndjson", function()
                    return nil, "event 2: no", "invalid" end) })
    assert.same({ nil, "disk full", "ioerr" },
                { importer.stream(dir .. "/x.ndjson", function()
                    return nil, "disk full", "ioerr" end) })
    assert.same({ nil, dir .. "/nowhere: No such file or directory",
                  "notfound" },
                { importer.stream(dir .. "/nowhere", function() end) })
  end)

  it("raises for arguments of the wrong type", function()
    assert.equal("bad argument #1 to 'stream' (string expected, got nil)",
                 support.error_of(importer.stream))
    assert.equal("bad argument #2 to 'stream' (function expected, got nil)",
                 support.error_of(importer.stream, "x"))
    assert.equal("bad argument #3 to 'stream' (device: string expected, got "
                 .. "number)", support.error_of(importer.stream, "x",
                                                 print, { device = 1 }))
  end)
end)

describe("imp:add_text()", function()
  local dir
  before_each(function() dir = support.tmpdir() end)
  after_each(function() support.rmdir(dir) end)

  local function line(summary, more)
    return ('{"device_id":"%s","event_type":"state_transition",'
      .. '"summary":"%s","timestamp":"2025-12-03T10:00:00Z"%s}')
      :format(DEV, summary, more or "")
  end
  local INSERT = "INSERT INTO sync_event_log (timestamp, device_id, "
    .. "event_type, category, severity, summary, details, correlation_id, "
    .. "peer_device_id, model_types, record_count, duration_ms) VALUES ("
  local function insert(summary)
    return INSERT .. "'2025-12-03T10:00:00+00:00', '" .. DEV .. "', "
      .. "'state_transition', 'lifecycle', 'info', '" .. summary
      .. "', NULL, NULL, NULL, NULL, NULL, NULL);"
  end

  it("adds the events it reads and says where it stopped", function()
    local imp <close> = assert(synclua.import())
    local text = line("a") .. "\n" .. line("b") .. "\n"
    assert.same({ 2, #text + 1 }, { imp:add_text("ndjson", text) })
    text = line("c") .. ",\n  " .. line("d")
    assert.same({ 2, #text + 1 }, { imp:add_text("json", text) })
    text = insert("e") .. "\n" .. insert("f") .. "\nCOMMIT;\n"
    assert.same({ 2, #insert("e") * 2 + 2 }, { imp:add_text("sql", text) })
    text = "1,2025-12-03T10:00:00+00:00," .. DEV .. ",state_transition,"
      .. "lifecycle,info,g,,,,,,\n"
    assert.same({ 1, #text + 1 }, { imp:add_text("csv", text) })
    assert.equal(7, imp:count())
  end)

  it("stops before what it does not take, and keeps what came before",
     function()
    local imp <close> = assert(synclua.import())
    -- an unknown field, a type the core refuses, an escaped key
    local good = line("a") .. "\n"
    for _, bad in ipairs{ line("b", ',"bogus":1'),
                          line("b"):gsub("state_transition", "nope"),
                          line("b"):gsub('"summary"', '"summ\\u0061ry"') } do
      assert.same({ 1, #good + 1 },
                  { imp:add_text("ndjson", good .. bad .. "\n" .. good) })
    end
    -- a statement cut short, a record without its line break
    assert.same({ 1, #insert("e") + 1 },
                { imp:add_text("sql", insert("e") .. "\n" .. insert("f")
                                      :sub(1, 60)) })
    assert.same({ 0, 1 }, { imp:add_text("csv", "1,2025-12-03T10:00:00Z,"
      .. DEV .. ",state_transition,lifecycle,info,g,,,,,,") })
    -- from i to j; a JSON event without a device takes the one given
    local text = "xx" .. line("c"):gsub('"device_id":"[^"]*",', "") .. "yy"
    assert.same({ 0, 3 }, { imp:add_text("json", text, 3, #text - 2) })
    assert.same({ 1, #text - 1 },
                { imp:add_text("json", text, 3, #text - 2, OTHER) })
    assert.equal(6, imp:count())
  end)

  it("raises for arguments of the wrong type", function()
    local imp <close> = assert(synclua.import())
    assert.equal("bad argument #1 to 'add_text' (invalid option 'xml')",
                 support.error_of(function() imp:add_text("xml", "") end))
    assert.equal("bad argument #2 to 'add_text' (string expected, got no "
                 .. "value)", support.error_of(function()
                   imp:add_text("sql") end))
    assert.equal("bad argument #3 to 'add_text' (out of range)",
                 support.error_of(function()
                   imp:add_text("sql", "abc", 5) end))
    assert.equal("bad argument #4 to 'add_text' (out of range)",
                 support.error_of(function()
                   imp:add_text("sql", "abc", 1, 4) end))
  end)
end)

describe("synclua.importer.stream() into an import", function()
  local dir
  before_each(function() dir = support.tmpdir() end)
  after_each(function() support.rmdir(dir) end)

  -- The rows of `file` read with a function as the sink (the importer's
  -- own reading) and with the import itself (the core's), each committed
  -- into a new store.
  local function both(file, opts)
    local out = {}
    for k, fast in ipairs{ false, true } do
      local imp <close> = assert(synclua.import{ skip_duplicates = true,
                                                  by_time = true })
      local sink = fast and imp or function(events) return imp:add(events) end
      local n, message, code = importer.stream(dir .. "/" .. file, sink, opts)
      if not n then
        out[k] = { message, code }
      else
        local db = ("%s/%d-%s.db"):format(dir, k, file)
        local log <close> = assert(synclua.open(db, { mode = "w" }))
        out[k] = { n, imp:commit(log) }
        out[k][4] = support.sqlite(db, COLUMNS)
      end
    end
    return out[1], out[2]
  end

  it("gives the same rows as the importer's own reading, in every format",
     function()
    local rows = {}
    for i = 1, 3000 do  -- several MiB: chunks end inside events
      local r = ROWS[i % #ROWS + 1]
      rows[i] = {}
      for k, v in pairs(r) do rows[i][k] = v end
      rows[i].summary = r.summary .. " " .. i .. (" pad"):rep(i % 300)
      rows[i].device_id = DEV
      rows[i].event_type = r.event_type or "state_transition"
    end
    local log <close> = assert(synclua.open(dir .. "/sync.db",
                                            { mode = "w" }))
    assert(log:insert(rows))
    log:close()
    for _, f in ipairs{ { "--with-device", "a.json" }, { "", "p.json" },
                        { "-f sql", "a.sql" }, { "-f ndjson", "a.ndjson" },
                        { "-f csv", "a.csv" } } do
      export(dir, f[1], f[2])
      local lua, core = both(f[2], { device = DEV })
      assert.equal(3000, lua[1])
      assert.same(lua, core)
    end
  end)

  it("refuses a bad file with the importer's own message", function()
    local good = ('{"device_id":"%s","event_type":"state_transition",'
      .. '"summary":"s%%d","timestamp":"2025-12-03T10:00:00Z"}'):format(DEV)
    local lines = {}
    for i = 1, 5000 do lines[i] = good:format(i) end
    lines[4000] = lines[4000]:gsub("state_transition", "nope")
    support.spit(dir .. "/x.ndjson", table.concat(lines, "\n"))
    local lua, core = both("x.ndjson")
    assert.same({ dir .. "/x.ndjson: line 4000: Invalid event type: nope "
                  .. "(valid: " .. table.concat(synclua.event_types, ", ")
                  .. ")", "invalid" }, lua)
    assert.same(lua, core)
  end)
end)

describe("imp:commit() into an empty store", function()
  local dir
  before_each(function() dir = support.tmpdir() end)
  after_each(function() support.rmdir(dir) end)

  local INDEXES = "SELECT name, sql FROM sqlite_master WHERE type = 'index'"
    .. " ORDER BY name"

  -- Events of three instants, many at each (past what a bulk load keeps
  -- in memory), with duplicates: the same device in other cases, the same
  -- event in other time forms.
  local function events()
    local evs = {}
    for i = 1, 900 do
      evs[i] = { event_type = "sync_error", summary = "s" .. (i % 7),
        device_id = ({ DEV, DEV:upper(), "Dev-X", "dev-x", "DEV-x" })[i % 5
                                                                   + 1],
        timestamp = ("2025-12-03T10:00:0%d%s"):format(i % 3,
          ({ "Z", ".000+00:00", "+00:00" })[i // 3 % 3 + 1]) }
    end
    return evs
  end

  it("skips the duplicates a store with rows skips, and makes every index "
     .. "again", function()
    local got = {}
    for k, rows in ipairs{ {}, { { timestamp = "2001-01-01T00:00:00+00:00",
                                   summary = "old" } } } do
      local db = store_with(dir, rows, k .. ".db")
      local log <close> = assert(synclua.open(db, { mode = "w" }))
      local before = support.sqlite(db, INDEXES)
      local imp <close> = assert(synclua.import{ skip_duplicates = true,
                                                  by_time = true })
      assert(imp:add(events()))
      got[k] = { imp:commit(log) }
      assert.equal(before, support.sqlite(db, INDEXES))
      assert.equal("ok\n", support.sqlite(db, "PRAGMA integrity_check"))
      got[k][3] = support.sqlite(db, "SELECT timestamp, device_id, summary"
        .. " FROM sync_event_log WHERE summary != 'old' ORDER BY id")
    end
    assert.same(got[2], got[1])
    assert.same({ 67, 833 }, { got[1][1], got[1][2] })
  end)
end)
