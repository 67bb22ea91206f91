-- Opening a store, issue 10: synclua.open reads unless mode = "w" is given,
-- and writing into a store synclua did not create adds rows and nothing
-- else unless asked (indexes = true). Also what names a store and its
-- content whatever the path or the row order: log:identity() and
-- log:fingerprint(), and the filter's `to`, the name of `until` a table
-- constructor can take.
local synclua = require "synclua"
local support = dofile((debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$")
                        or ".") .. "/fixtures/support.lua")

local quote = support.quote
local DEVICE = "2f1a8f8e-0c3b-4d52-9d0e-5b1c2a3d4e5f"
local OTHER = "7c9e6679-7425-40de-944b-e07fc1f90ae7"

local SPACEDRIVE_INDEXES = [[
CREATE INDEX IF NOT EXISTS idx_sync_event_log_timestamp ON sync_event_log(timestamp);
CREATE INDEX IF NOT EXISTS idx_sync_event_log_device ON sync_event_log(device_id);
CREATE INDEX IF NOT EXISTS idx_sync_event_log_type ON sync_event_log(event_type);
CREATE INDEX IF NOT EXISTS idx_sync_event_log_correlation ON sync_event_log(correlation_id);
CREATE INDEX IF NOT EXISTS idx_sync_event_log_peer ON sync_event_log(peer_device_id);]]

local INDEX_QUERY = "SELECT name FROM sqlite_master WHERE type = 'index'"
  .. " AND tbl_name = 'sync_event_log' ORDER BY name"

-- Spacedrive's five, by name.
local FIVE = [[
idx_sync_event_log_correlation
idx_sync_event_log_device
idx_sync_event_log_peer
idx_sync_event_log_timestamp
idx_sync_event_log_type
]]

-- Spacedrive's five and synclua's three, by name.
local EIGHT = [[
idx_sync_event_log_correlation
idx_sync_event_log_device
idx_sync_event_log_peer
idx_sync_event_log_peer_time
idx_sync_event_log_severity_time
idx_sync_event_log_timestamp
idx_sync_event_log_type
idx_sync_event_log_type_time
]]

-- Every column of every row, quoted as SQL literals: what "the same bytes"
-- means for rows (types included).
local ROWS_QUERY = "SELECT quote(id), quote(timestamp), quote(device_id),"
  .. " quote(event_type), quote(category), quote(severity), quote(summary),"
  .. " quote(details), quote(correlation_id), quote(peer_device_id),"
  .. " quote(model_types), quote(record_count), quote(duration_ms)"
  .. " FROM sync_event_log ORDER BY id"

local ROWS = {
  { timestamp = "2025-12-03T10:00:00+00:00", summary = "first",
    details = '{"b":1,"a":2}' },
  { timestamp = "2025-12-03T10:01:00.5Z", summary = "zulu, short fraction",
    event_type = "sync_error", category = "error", severity = "error",
    model_types = "entry,tag", record_count = 3 },
  { timestamp = "2025-12-03T12:02:00+02:00", summary = "an offset",
    peer_device_id = OTHER:upper(), duration_ms = 40 },
}

-- A sync.db as Spacedrive makes it (the sqlite3 tool: rollback journal,
-- its table and five indexes), holding ROWS.
local function spacedrive_store(db)
  assert.equal("", support.sqlite(db, support.DDL .. "\n"
                                       .. SPACEDRIVE_INDEXES))
  support.insert_rows(db, ROWS)
  assert.equal("delete\n", support.sqlite(db, "PRAGMA journal_mode"))
  assert.equal(FIVE, support.sqlite(db, INDEX_QUERY))
end

-- Append one event through a store opened with `opts`, flush and close.
local function append_one(path, opts)
  local log = assert(synclua.open(path, opts))
  assert.is_true(log:append{ event_type = "peer_connected",
                             summary = "appended by synclua",
                             timestamp = "2025-12-03T10:03:00Z",
                             peer_device_id = OTHER })
  assert.is_true(log:flush())
  assert.is_true(log:close())
end

describe("synclua.open(path)", function()
  local dir

  before_each(function() dir = support.tmpdir() end)
  after_each(function() support.rmdir(dir) end)

  it("opens to read by default, like io.open: append raises, prune and "
     .. "insert return \"readonly\"", function()
    local db = dir .. "/sync.db"
    spacedrive_store(db)
    local before = support.slurp(db)
    local log = assert(synclua.open(dir))
    assert.is_true(log:readonly())
    assert.equal("synclua.Store (" .. db .. ", read-only)", tostring(log))
    assert.equal(db .. ": opened read-only: cannot append",
      support.error_of(function()
        return log:append{ event_type = "sync_error", summary = "no",
                           device_id = DEVICE }
      end))
    assert.same({ nil, db .. ": opened read-only: cannot prune", "readonly" },
                { log:prune{ older_than = "1 day" } })
    assert.same({ nil, db .. ": opened read-only: cannot insert", "readonly" },
                { log:insert{ { event_type = "sync_error", summary = "no",
                                device_id = DEVICE } } })
    assert.equal(3, log:count())
    assert.is_true(log:close())
    assert.equal(before, support.slurp(db))
    assert.equal("sync.db", support.listing(dir))
  end)

  it("opens to read with mode = \"r\" too", function()
    spacedrive_store(dir .. "/sync.db")
    local log = assert(synclua.open(dir, { mode = "r" }))
    assert.is_true(log:readonly())
    assert.is_true(log:close())
  end)

  it("returns nil, \"PATH: no such file\", \"notfound\" for a missing path, "
     .. "creating nothing", function()
    os.execute("mkdir " .. quote(dir .. "/lib"))
    assert.same({ nil, dir .. "/lib/lapton: no such file", "notfound" },
                { synclua.open(dir .. "/lib/lapton") })
    assert.equal("", support.listing(dir .. "/lib"))
  end)

  it("leaves a typo in the REPL a message, not a new store", function()
    os.execute("mkdir " .. quote(dir .. "/lib"))
    local out, err, status = support.synclua(dir, "-e "
      .. quote('print(require("synclua").open("lib/lapton"))'))
    assert.equal("nil\tlib/lapton: no such file\tnotfound\n", out)
    assert.equal("", err)
    assert.equal(0, status)
    assert.equal("lib", support.listing(dir))
    assert.equal("", support.listing(dir .. "/lib"))
  end)

  it("creates a missing store with mode = \"w\": the table, all eight "
     .. "indexes, WAL", function()
    local db = dir .. "/sync.db"
    local log = assert(synclua.open(dir, { mode = "w", device_id = DEVICE }))
    assert.is_false(log:readonly())
    assert.equal("synclua.Store (" .. db .. ")", tostring(log))
    assert.is_true(log:append{ event_type = "sync_error", summary = "one" })
    assert.is_true(log:close())
    assert.equal(EIGHT, support.sqlite(db, INDEX_QUERY))
    assert.equal("wal\n", support.sqlite(db, "PRAGMA journal_mode"))
    assert.equal("one|" .. DEVICE .. "\n",
                 support.sqlite(db, "SELECT summary, device_id FROM"
                                    .. " sync_event_log"))
  end)

  it("makes a zero-length file a store as if it were missing", function()
    local db = dir .. "/sync.db"
    support.spit(db, "")
    assert.is_true(assert(synclua.open(db, { mode = "w" })):close())
    assert.equal(EIGHT, support.sqlite(db, INDEX_QUERY))
    assert.equal("wal\n", support.sqlite(db, "PRAGMA journal_mode"))
  end)

  it("reads a zero-length file as no store", function()
    local db = dir .. "/sync.db"
    support.spit(db, "")
    assert.same({ nil, db .. ": no sync_event_log table (not a Spacedrive "
                       .. "sync.db)", "notdb" }, { synclua.open(db) })
    assert.equal("", support.slurp(db))
  end)
end)

describe("synclua.open(path) of a WAL-mode store", function()
  local dir, db

  before_each(function()
    dir = support.tmpdir()
    db = dir .. "/sync.db"
    spacedrive_store(db)
    assert.equal("wal\n", support.sqlite(db, "PRAGMA journal_mode = WAL"))
  end)
  after_each(function() support.rmdir(dir) end)

  -- The names in dir, sorted, joined by spaces.
  local function listing()
    return (support.capture("ls " .. quote(dir)):gsub("\n$", "")
                                                 :gsub("\n", " "))
  end

  it("leaves nothing beside it and not a byte changed when no writer has "
     .. "it open", function()
    local before = support.slurp(db)
    assert.equal("sync.db", listing())
    local log = assert(synclua.open(db))
    assert.equal(#ROWS, log:count())
    assert.is_false(log:immutable())
    assert.is_true(log:close())
    assert.equal("sync.db", listing())
    assert.equal(before, support.slurp(db))
    -- A command too.
    local _, err, code = support.synclua(dir, "events --db sync.db")
    assert.equal("", err)
    assert.equal(0, code)
    assert.equal("sync.db", listing())
    assert.equal(before, support.slurp(db))
  end)

  it("reads it as it stands, and says so, where no -shm can be made",
     function()
    -- The -shm's name links to a folder that does not exist: SQLite can
    -- neither open nor make the file, as in a folder this process may not
    -- write.
    assert(os.execute("ln -s /nonexistent/shm " .. quote(db .. "-shm")))
    local before = support.slurp(db)
    local log = assert(synclua.open(db))
    assert.is_true(log:immutable())
    assert.equal(#ROWS, log:count())
    assert.is_true(log:close())
    local out, err, code = support.synclua(dir,
      "events --db sync.db -f ndjson")
    assert.equal(0, code)
    assert.equal(#ROWS, select(2, out:gsub("\n", "")))
    assert.equal("synclua events: note: sync.db: read as it stands (its "
      .. "folder cannot be written, so what a writer adds while synclua "
      .. "reads is not seen)\n", err)
    assert.equal(before, support.slurp(db))
    assert.equal("sync.db sync.db-shm", listing())
  end)
end)

describe("synclua.open(path, { mode = \"w\" }) on a store synclua did not "
         .. "create", function()
  local dir, db

  before_each(function()
    dir = support.tmpdir()
    db = dir .. "/sync.db"
  end)
  after_each(function() support.rmdir(dir) end)

  it("adds the rows and nothing else: journal mode, indexes and the other "
     .. "rows stay as they were", function()
    spacedrive_store(db)
    local rows = support.sqlite(db, ROWS_QUERY)
    append_one(dir, { mode = "w", device_id = DEVICE })
    assert.equal("delete\n", support.sqlite(db, "PRAGMA journal_mode"))
    assert.equal(FIVE, support.sqlite(db, INDEX_QUERY))
    local after = support.sqlite(db, ROWS_QUERY)
    assert.equal(rows, after:sub(1, #rows))
    assert.equal("4|'2025-12-03T10:03:00+00:00'|'" .. DEVICE .. "'|"
                 .. "'peer_connected'|'network'|'info'|'appended by synclua'"
                 .. "|NULL|NULL|'" .. OTHER .. "'|NULL|NULL|NULL\n",
                 after:sub(#rows + 1))
    -- No -wal, -shm or -journal left beside it.
    assert.equal("sync.db", support.listing(dir))
    assert.equal("ok\n", support.sqlite(db, "PRAGMA integrity_check"))
  end)

  it("adds synclua's three indexes when asked (indexes = true), still "
     .. "keeping the journal mode", function()
    spacedrive_store(db)
    local rows = support.sqlite(db, ROWS_QUERY)
    append_one(db, { mode = "w", device_id = DEVICE, indexes = true })
    assert.equal(EIGHT, support.sqlite(db, INDEX_QUERY))
    assert.equal("delete\n", support.sqlite(db, "PRAGMA journal_mode"))
    assert.equal(rows, support.sqlite(db, ROWS_QUERY):sub(1, #rows))
  end)

  it("adds Spacedrive's missing indexes with indexes = true, and only then",
     function()
    assert.equal("", support.sqlite(db, support.DDL))
    assert.is_true(assert(synclua.open(db, { mode = "w" })):close())
    assert.equal("", support.sqlite(db, INDEX_QUERY))
    assert.is_true(assert(synclua.open(db, { mode = "w",
                                             indexes = true })):close())
    assert.equal(EIGHT, support.sqlite(db, INDEX_QUERY))
  end)

  it("gives an SQLite file without the table Spacedrive's table and five "
     .. "indexes, as Spacedrive does, and keeps its journal mode", function()
    assert.equal("", support.sqlite(db, "CREATE TABLE peer_acks (x); INSERT"
                                        .. " INTO peer_acks VALUES (42);"))
    append_one(db, { mode = "w", device_id = DEVICE })
    assert.equal(FIVE, support.sqlite(db, INDEX_QUERY))
    assert.equal("delete\n", support.sqlite(db, "PRAGMA journal_mode"))
    assert.equal("42\n", support.sqlite(db, "SELECT x FROM peer_acks"))
    assert.equal("appended by synclua\n",
                 support.sqlite(db, "SELECT summary FROM sync_event_log"))
    assert.equal(synclua.spacedrive_ddl(), support.sqlite(db, "SELECT"
      .. " group_concat(sql, ';' || char(10)) || ';' || char(10) FROM"
      .. " (SELECT sql FROM sqlite_master WHERE tbl_name = 'sync_event_log'"
      .. " AND sql IS NOT NULL ORDER BY rowid)")
      :gsub("CREATE TABLE ", "CREATE TABLE IF NOT EXISTS ")
      :gsub("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS "):sub(1, -2))
  end)

  it("gives such a file synclua's three indexes too with indexes = true",
     function()
    assert.equal("", support.sqlite(db, "CREATE TABLE peer_acks (x);"))
    assert.is_true(assert(synclua.open(db, { mode = "w",
                                             indexes = true })):close())
    assert.equal(EIGHT, support.sqlite(db, INDEX_QUERY))
    assert.equal("delete\n", support.sqlite(db, "PRAGMA journal_mode"))
  end)

  it("leaves a WAL store synclua made in WAL, with its eight indexes",
     function()
    assert.is_true(assert(synclua.open(db, { mode = "w" })):close())
    append_one(db, { mode = "w", device_id = DEVICE })
    assert.equal("wal\n", support.sqlite(db, "PRAGMA journal_mode"))
    assert.equal(EIGHT, support.sqlite(db, INDEX_QUERY))
  end)
end)

describe("the filter's to", function()
  local dir, log

  setup(function()
    dir = support.tmpdir()
    local w = assert(synclua.open(dir, { mode = "w", device_id = DEVICE }))
    for i = 1, 5 do
      w:append{ event_type = "sync_error", summary = "e" .. i,
                timestamp = ("2025-12-03T10:0%d:00Z"):format(i) }
    end
    assert.is_true(w:close())
    log = assert(synclua.open(dir))
  end)
  teardown(function()
    if log then log:close() end
    support.rmdir(dir)
  end)

  local function summaries(filter)
    local out = {}
    for ev in log:events(filter) do out[#out + 1] = ev.summary end
    return table.concat(out, " ")
  end

  it("is until under a name a table constructor takes", function()
    for _, bound in ipairs{ "2025-12-03 10:03:00", "2025-12-03T10:02:30Z",
                            support.instant("2025-12-03 10:04:00", 0) } do
      assert.equal(summaries{ ["until"] = bound }, summaries{ to = bound })
    end
    assert.equal("e3 e2 e1", summaries{ to = "2025-12-03 10:03:00" })
    assert.equal("e2 e3", summaries{ since = "2025-12-03 10:02:00",
                                     to = "2025-12-03 10:03:00",
                                     order = "asc" })
    assert.equal(3, log:count{ to = "2025-12-03 10:03:00" })
    assert.equal("e3", log:first{ to = "2025-12-03 10:03:00" }.summary)
  end)

  it("raises when both until and to are given, and names to in its own "
     .. "errors", function()
    local both = { ["until"] = "2025-12-03 10:03:00",
                   to = "2025-12-03 10:03:00" }
    assert.equal("bad argument #1 to 'events' (until and to: give one)",
                 support.error_of(function() return log:events(both) end))
    assert.equal("bad argument #1 to 'count' (until and to: give one)",
                 support.error_of(function() return log:count(both) end))
    assert.equal("bad argument #1 to 'events' (to: Invalid time format: "
                 .. "soon (e.g. '1 hour ago', '2h', 'yesterday', "
                 .. "'2025-12-03 10:00:00' or '2025-12-03T10:00:00Z'))",
                 support.error_of(function()
                   return log:events{ to = "soon" }
                 end))
    assert.equal("bad argument #1 to 'events' (to: string or integer "
                 .. "expected, got boolean)",
                 support.error_of(function()
                   return log:events{ to = true }
                 end))
  end)
end)

describe("log:identity()", function()
  local dir

  before_each(function() dir = support.tmpdir() end)
  after_each(function() support.rmdir(dir) end)

  it("is the file's DEV:INO, the same through its folder, the file and a "
     .. "link, read or written", function()
    local db = dir .. "/sync.db"
    spacedrive_store(db)
    os.execute("ln -s sync.db " .. quote(dir .. "/link.db"))
    local want = support.capture("stat -L -c %d:%i " .. quote(db))
                   :gsub("\n$", "")
    for _, open in ipairs{ { dir }, { db }, { dir .. "/" },
                           { dir .. "/link.db" },
                           { db, { mode = "w" } } } do
      local log = assert(synclua.open(open[1], open[2]))
      assert.equal(want, log:identity(), open[1])
      assert.is_true(log:close())
    end
  end)

  it("is another for a copy of the file, and for a store made anew",
     function()
    local db = dir .. "/sync.db"
    spacedrive_store(db)
    os.execute("cp " .. quote(db) .. " " .. quote(dir .. "/copy.db"))
    local a = assert(synclua.open(db))
    local b = assert(synclua.open(dir .. "/copy.db"))
    local c = assert(synclua.open(dir .. "/new.db", { mode = "w" }))
    finally(function() a:close() b:close() c:close() end)
    assert.are_not.equal(a:identity(), b:identity())
    assert.are_not.equal(a:identity(), c:identity())
    assert.equal(support.capture("stat -c %d:%i " .. quote(dir .. "/new.db"))
                   :gsub("\n$", ""), c:identity())
    assert.truthy(b:identity():match("^%d+:%d+$"))
  end)
end)

describe("log:fingerprint()", function()
  local dir

  before_each(function() dir = support.tmpdir() end)
  after_each(function() support.rmdir(dir) end)

  -- The digest as synclua.h defines it, computed here independently: the sum
  -- modulo 2^64 (Lua's integers wrap) of FNV-1a over each row's time,
  -- type, summary and lowercase device joined by a 0 byte.
  local function digest(rows)
    local sum = 0
    for _, r in ipairs(rows) do
      local instant = synclua.parse_rfc3339(r.timestamp)
      local text = table.concat({
        instant and synclua.format_time(instant) or r.timestamp,
        r.event_type or "state_transition", r.summary,
        (r.device_id or DEVICE):lower() }, "\0")
      local h = 0xcbf29ce484222325
      for i = 1, #text do h = (h ~ text:byte(i)) * 0x100000001b3 end
      sum = sum + h
    end
    return ("%016x"):format(sum)
  end

  local function store(name, rows)
    local db = dir .. "/" .. name
    assert.equal("", support.sqlite(db, support.DDL))
    if #rows > 0 then support.insert_rows(db, rows) end
    return assert(synclua.open(db))
  end

  local MIXED = {
    { timestamp = "2025-12-03T10:00:00+00:00", summary = "a" },
    { timestamp = "2025-12-03T10:00:00+00:00", summary = "a" }, -- twice
    { timestamp = "2025-12-03T10:01:00.250+00:00", summary = "b",
      event_type = "sync_error", category = "error", severity = "error" },
    { timestamp = "2025-12-03T10:02:00+00:00", summary = "c",
      device_id = OTHER },
    { timestamp = "not a time", summary = "d" },
  }

  it("returns the row count and the digest synclua.h defines, as 16 lowercase "
     .. "hex digits", function()
    local log = store("a.db", MIXED)
    finally(function() log:close() end)
    local n, d = log:fingerprint()
    assert.equal(5, n)
    assert.equal(digest(MIXED), d)
    assert.truthy(d:match("^%x+$") and #d == 16 and d == d:lower())
    local empty = store("empty.db", {})
    assert.same({ 0, "0000000000000000" }, { empty:fingerprint() })
    assert.is_true(empty:close())
  end)

  it("is the same for the same events in another order, another "
     .. "timestamp form and device case", function()
    local a = store("a.db", MIXED)
    local other = {}
    for i = #MIXED, 1, -1 do other[#other + 1] = MIXED[i] end
    other[1] = { timestamp = "not a time", summary = "d" }
    other[2] = { timestamp = "2025-12-03T11:02:00+01:00", summary = "c",
                 device_id = OTHER:upper() }
    other[3] = { timestamp = "2025-12-03T10:01:00.25Z", summary = "b",
                 event_type = "sync_error", category = "error",
                 severity = "error" }
    local b = store("b.db", other)
    finally(function() a:close() b:close() end)
    assert.same({ a:fingerprint() }, { b:fingerprint() })
    assert.same({ 5, digest(MIXED) }, { b:fingerprint() })
  end)

  it("differs when one row differs in time, type, summary or device, or is "
     .. "missing", function()
    local a = store("a.db", MIXED)
    finally(function() a:close() end)
    local _, want = a:fingerprint()
    local changes = {
      { timestamp = "2025-12-03T10:02:00.000000001+00:00" },
      { event_type = "peer_connected", category = "network" },
      { summary = "C" },
      { device_id = DEVICE },
    }
    for i, change in ipairs(changes) do
      local rows = {}
      for k, r in ipairs(MIXED) do rows[k] = r end
      local row = {}
      for k, v in pairs(MIXED[4]) do row[k] = v end
      for k, v in pairs(change) do row[k] = v end
      rows[4] = row
      local b = store("b" .. i .. ".db", rows)
      local n, d = b:fingerprint()
      assert.is_true(b:close())
      assert.equal(5, n)
      assert.are_not.equal(want, d, next(change))
      assert.equal(digest(rows), d)
    end
    local fewer = store("fewer.db", { MIXED[1], MIXED[3], MIXED[4],
                                      MIXED[5] })
    assert.same({ 4, digest{ MIXED[1], MIXED[3], MIXED[4], MIXED[5] } },
                { fewer:fingerprint() })
    assert.is_true(fewer:close())
  end)

  it("leaves out what the filter leaves out, limit and offset included",
     function()
    local a = store("a.db", MIXED)
    finally(function() a:close() end)
    assert.same({ 1, digest{ MIXED[3] } },
                { a:fingerprint{ event_type = "sync_error" } })
    assert.same({ 2, digest{ MIXED[3], MIXED[4] } },
                { a:fingerprint{ since = "2025-12-03 10:01:00" } })
    assert.same({ 3, digest{ MIXED[1], MIXED[2], MIXED[3] } },
                { a:fingerprint{ to = "2025-12-03 10:01:00.250" } })
    assert.same({ 2, digest{ MIXED[4], MIXED[3] } },
                { a:fingerprint{ limit = 2 } })
    assert.same({ 1, digest{ MIXED[4] } },
                { a:fingerprint{ device = OTHER } })
  end)

  it("raises for a bad filter as log:count does", function()
    local a = store("a.db", {})
    finally(function() a:close() end)
    assert.equal("bad argument #1 to 'fingerprint' (unknown filter field "
                 .. "'sumary')", support.error_of(function()
                   return a:fingerprint{ sumary = "x" }
                 end))
    assert.equal("bad argument #1 to 'fingerprint' (table expected, got "
                 .. "string)", support.error_of(function()
                   return a:fingerprint("x")
                 end))
    assert.equal("bad argument #1 to 'fingerprint' (Invalid event type: x"
                 .. " (valid: state_transition, backfill_session_started, "
                 .. "backfill_session_completed, backfill_session_failed, "
                 .. "catch_up_session_started, catch_up_session_completed, "
                 .. "batch_ingestion, backfill_request_sent, "
                 .. "backfill_request_received, backfill_response_sent, "
                 .. "peer_connected, peer_disconnected, sync_error))",
                 support.error_of(function()
                   return a:fingerprint{ event_type = "x" }
                 end))
  end)

  it("takes a store and its own export loaded into a temporary store as "
     .. "the same events", function()
    local timed = { MIXED[1], MIXED[2], MIXED[3], MIXED[4] }
    local a = store("a.db", timed)
    finally(function() a:close() end)
    local out = { parts = {} }
    function out:write(s) self.parts[#self.parts + 1] = s end
    require("synclua.export.json").export(out, a, {}, { with_device = true })
    local events = assert(require("synclua.importer").parse(
      table.concat(out.parts), "export.json"))
    local copy = assert(synclua.open(dir .. "/copy.db", { mode = "w" }))
    finally(function() copy:close() end)
    assert.same({ 4, 0 }, { copy:insert(events) })
    assert.same({ a:fingerprint() }, { copy:fingerprint() })
    assert.same({ 4, digest(timed) }, { copy:fingerprint() })
  end)
end)
