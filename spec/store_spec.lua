-- synclua.open and the synclua.Store it returns: the file it creates (the
-- exact Spacedrive schema), the files it refuses and how, read-only opening
-- (the default) that never writes, persistence, options, closing and
-- misuse. What opening to write does to a store synclua did not create:
-- open_spec.lua.
local synclua = require "synclua"
local support = dofile((debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$")
                        or ".") .. "/fixtures/support.lua")

local DEVICE = "2f1a8f8e-0c3b-4d52-9d0e-5b1c2a3d4e5f"

-- The table as SQLite keeps it after Spacedrive's CREATE TABLE IF NOT EXISTS.
local TABLE_SQL = [[
CREATE TABLE sync_event_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  timestamp TEXT NOT NULL,
  device_id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  category TEXT NOT NULL,
  severity TEXT NOT NULL,
  summary TEXT NOT NULL,
  details TEXT,
  correlation_id TEXT,
  peer_device_id TEXT,
  model_types TEXT,
  record_count INTEGER,
  duration_ms INTEGER
)
]]

-- Spacedrive's 5 indexes and synclua's own 3 (the two-column ones), by name.
local INDEXES = [[
idx_sync_event_log_correlation|CREATE INDEX idx_sync_event_log_correlation ON sync_event_log(correlation_id)
idx_sync_event_log_device|CREATE INDEX idx_sync_event_log_device ON sync_event_log(device_id)
idx_sync_event_log_peer|CREATE INDEX idx_sync_event_log_peer ON sync_event_log(peer_device_id)
idx_sync_event_log_peer_time|CREATE INDEX idx_sync_event_log_peer_time ON sync_event_log(peer_device_id, timestamp)
idx_sync_event_log_severity_time|CREATE INDEX idx_sync_event_log_severity_time ON sync_event_log(severity, timestamp)
idx_sync_event_log_timestamp|CREATE INDEX idx_sync_event_log_timestamp ON sync_event_log(timestamp)
idx_sync_event_log_type|CREATE INDEX idx_sync_event_log_type ON sync_event_log(event_type)
idx_sync_event_log_type_time|CREATE INDEX idx_sync_event_log_type_time ON sync_event_log(event_type, timestamp)
]]

local INDEX_QUERY = "SELECT name, sql FROM sqlite_master WHERE type = 'index'"
  .. " AND tbl_name = 'sync_event_log' ORDER BY name"

-- A table like Spacedrive's but without the named column.
local function table_without(column)
  local cols = {}
  for line in support.DDL:gmatch("[^\n]+") do
    if not line:match("^  " .. column .. " ") and line:match("^  ") then
      cols[#cols + 1] = (line:gsub(",$", ""))
    end
  end
  return "CREATE TABLE sync_event_log (\n" .. table.concat(cols, ",\n")
    .. "\n);"
end

describe("synclua.open()", function()
  local dir

  before_each(function() dir = support.tmpdir() end)
  after_each(function() support.rmdir(dir) end)

  describe("creating a store", function()
    it("creates sync.db with Spacedrive's table exactly as its DDL reads",
       function()
      local log = assert(synclua.open(dir .. "/sync.db", { mode = "w" }))
      assert.is_true(log:close())
      assert.equal(TABLE_SQL, support.sqlite(dir .. "/sync.db",
        "SELECT sql FROM sqlite_master WHERE name = 'sync_event_log'"))
    end)

    it("creates Spacedrive's 5 indexes plus synclua's own, and nothing else",
       function()
      assert.is_true(assert(synclua.open(dir .. "/sync.db",
                                         { mode = "w" })):close())
      assert.equal(INDEXES, support.sqlite(dir .. "/sync.db", INDEX_QUERY))
      assert.equal("sqlite_sequence\nsync_event_log\n",
        support.sqlite(dir .. "/sync.db", "SELECT name FROM sqlite_master"
          .. " WHERE type = 'table' ORDER BY name"))
    end)

    it("puts the file in WAL mode", function()
      assert.is_true(assert(synclua.open(dir .. "/sync.db",
                                         { mode = "w" })):close())
      assert.equal("wal\n", support.sqlite(dir .. "/sync.db",
                                           "PRAGMA journal_mode"))
    end)

    it("resolves a library folder to FOLDER/sync.db", function()
      local log = assert(synclua.open(dir, { mode = "w" }))
      assert.equal(dir .. "/sync.db", log:path())
      assert.is_true(log:close())
      assert.equal("sync.db", support.listing(dir))
      local again = assert(synclua.open(dir .. "/"))
      assert.equal(dir .. "/sync.db", again:path())
      assert.is_true(again:close())
    end)

    it("adds only its own indexes to a file Spacedrive created when asked "
       .. "(indexes = true), keeping its rows", function()
      local db = dir .. "/sync.db"
      assert.equal("", support.sqlite(db, support.DDL .. [[
CREATE INDEX IF NOT EXISTS idx_sync_event_log_timestamp ON sync_event_log(timestamp);
CREATE INDEX IF NOT EXISTS idx_sync_event_log_device ON sync_event_log(device_id);
CREATE INDEX IF NOT EXISTS idx_sync_event_log_type ON sync_event_log(event_type);
CREATE INDEX IF NOT EXISTS idx_sync_event_log_correlation ON sync_event_log(correlation_id);
CREATE INDEX IF NOT EXISTS idx_sync_event_log_peer ON sync_event_log(peer_device_id);
CREATE TABLE shared_changes (hlc TEXT PRIMARY KEY);]]))
      support.insert_rows(db, {
        { timestamp = "2025-12-03T10:15:00.123456789+00:00", summary = "kept" },
      })
      assert.is_true(assert(synclua.open(db, { mode = "w",
                                               indexes = true })):close())
      assert.equal(INDEXES, support.sqlite(db, INDEX_QUERY))
      assert.equal("1|2025-12-03T10:15:00.123456789+00:00|kept\n",
        support.sqlite(db, "SELECT id, timestamp, summary FROM sync_event_log"))
      assert.equal("shared_changes\nsqlite_sequence\nsync_event_log\n",
        support.sqlite(db, "SELECT name FROM sqlite_master WHERE type ="
          .. " 'table' ORDER BY name"))
    end)

    it("adds the table to an SQLite file that holds only other tables",
       function()
      local db = dir .. "/sync.db"
      support.sqlite(db, "CREATE TABLE peer_acks (x); INSERT INTO peer_acks"
                         .. " VALUES (42);")
      assert.is_true(assert(synclua.open(db, { mode = "w" })):close())
      assert.equal(TABLE_SQL, support.sqlite(db,
        "SELECT sql FROM sqlite_master WHERE name = 'sync_event_log'"))
      assert.equal("42\n", support.sqlite(db, "SELECT x FROM peer_acks"))
    end)

    it("refuses a folder that does not exist, creating nothing", function()
      local path = dir .. "/nope/sync.db"
      assert.same({ nil, dir .. "/nope: no such folder", "notfound" },
                  { synclua.open(path, { mode = "w" }) })
      assert.equal("", support.listing(dir))
    end)

    it("refuses an empty path", function()
      assert.same({ nil, "empty store path", "invalid" },
                  { synclua.open("") })
    end)
  end)

  describe("refusing what is not a sync.db", function()
    it("returns nil, '<path>: no such file', 'notfound' for a missing file "
       .. "opened to read (the default), and creates nothing", function()
      local path = dir .. "/sync.db"
      local r = { synclua.open(path) }
      assert.same({ nil, path .. ": no such file", "notfound" }, r)
      assert.equal(3, select("#", synclua.open(path)))
      assert.equal("", support.listing(dir))
    end)

    it("names FOLDER/sync.db when a folder without one is opened to read",
       function()
      assert.same({ nil, dir .. "/sync.db: no such file", "notfound" },
                  { synclua.open(dir) })
      assert.equal("", support.listing(dir))
    end)

    it("returns 'not an SQLite database', 'notdb' for a text file, and "
       .. "leaves it alone", function()
      local path = dir .. "/sync.db"
      local text = ("hello, this is not a database\n"):rep(40)
      support.spit(path, text)
      assert.same({ nil, path .. ": not an SQLite database", "notdb" },
                  { synclua.open(path) })
      assert.same({ nil, path .. ": not an SQLite database", "notdb" },
                  { synclua.open(path, { mode = "w" }) })
      assert.equal(text, support.slurp(path))
      assert.equal("sync.db", support.listing(dir))
    end)

    it("returns 'not a regular file', 'notdb' when FOLDER/sync.db is a "
       .. "folder", function()
      os.execute("mkdir " .. support.quote(dir .. "/sync.db"))
      assert.same({ nil, dir .. "/sync.db: not a regular file", "notdb" },
                  { synclua.open(dir) })
    end)

    it("refuses, read-only, an SQLite file without the sync_event_log table",
       function()
      local path = dir .. "/other.db"
      support.sqlite(path, "CREATE TABLE t (x); INSERT INTO t VALUES (1);")
      local before = support.slurp(path)
      assert.same({ nil, path .. ": no sync_event_log table (not a "
                         .. "Spacedrive sync.db)", "notdb" },
                  { synclua.open(path) })
      assert.equal(before, support.slurp(path))
    end)

    it("refuses a sync_event_log table that lacks a column Spacedrive "
       .. "writes", function()
      local path = dir .. "/sync.db"
      support.sqlite(path, table_without("duration_ms"))
      local msg = path .. ": sync_event_log has no column 'duration_ms'"
      assert.same({ nil, msg, "notdb" },
                  { synclua.open(path) })
      assert.same({ nil, msg, "notdb" },
                  { synclua.open(path, { mode = "w" }) })
    end)

    it("refuses a table without an indexed column the same way, to read or "
       .. "to write", function()
      local path = dir .. "/sync.db"
      support.sqlite(path, table_without("peer_device_id"))
      local msg = path .. ": sync_event_log has no column 'peer_device_id'"
      assert.same({ nil, msg, "notdb" },
                  { synclua.open(path) })
      assert.same({ nil, msg, "notdb" },
                  { synclua.open(path, { mode = "w" }) })
    end)
  end)

  describe("with mode = \"w\" and create = false", function()
    it("refuses a missing store, creating nothing", function()
      assert.same({ nil, dir .. "/sync.db: no such file", "notfound" },
                  { synclua.open(dir, { mode = "w", create = false }) })
      assert.same({ nil, dir .. "/x.db: no such file", "notfound" },
                  { synclua.open(dir .. "/x.db", { mode = "w",
                                                   create = false }) })
      assert.equal("", support.listing(dir))
    end)

    it("refuses an SQLite file without the table, leaving it alone",
       function()
      local path = dir .. "/sync.db"
      support.sqlite(path, "CREATE TABLE t (x); INSERT INTO t VALUES (1);")
      local before = support.slurp(path)
      assert.same({ nil, path .. ": no sync_event_log table (not a "
                         .. "Spacedrive sync.db)", "notdb" },
                  { synclua.open(path, { mode = "w", create = false }) })
      assert.equal(before, support.slurp(path))
      assert.equal("sync.db", support.listing(dir))
    end)

    it("writes to an existing store without adding indexes or changing its "
       .. "journal mode", function()
      local path = dir .. "/sync.db"
      support.sqlite(path, support.DDL .. "\nCREATE INDEX IF NOT EXISTS "
        .. "idx_sync_event_log_timestamp ON sync_event_log(timestamp);")
      local log = assert(synclua.open(dir, { mode = "w", create = false,
                                             device_id = DEVICE }))
      assert.is_true(log:append{ event_type = "sync_error", summary = "s",
                                 timestamp = "2025-12-03T10:00:00Z" })
      assert.is_true(log:close())
      assert.equal("idx_sync_event_log_timestamp|CREATE INDEX "
        .. "idx_sync_event_log_timestamp ON sync_event_log(timestamp)\n",
        support.sqlite(path, INDEX_QUERY))
      assert.equal("delete\n", support.sqlite(path, "PRAGMA journal_mode"))
      assert.equal("2025-12-03T10:00:00+00:00|s\n", support.sqlite(path,
        "SELECT timestamp, summary FROM sync_event_log"))
    end)

    it("creates as usual when create = true is given", function()
      assert.is_true(assert(synclua.open(dir, { mode = "w",
                                               create = true })):close())
      assert.equal(INDEXES, support.sqlite(dir .. "/sync.db", INDEX_QUERY))
    end)
  end)

  describe("a database another process holds", function()
    it("returns 'busy' after busy_timeout while another process holds it "
       .. "exclusively", function()
      -- A rollback-journal file: an exclusive lock keeps readers out too.
      local path = dir .. "/sync.db"
      support.sqlite(path, support.DDL)
      local holder = support.hold_lock(path, dir)
      local ok, err = pcall(function()
        for _, opts in ipairs{ { busy_timeout = 150 },
                               { mode = "w", busy_timeout = 150 } } do
          local t0 = synclua.now()
          assert.same({ nil, path .. ": database is locked", "busy" },
                      { synclua.open(path, opts) })
          local waited = (synclua.now() - t0) // 1000000
          assert.is_true(waited >= 100 and waited < 2000,
                         "waited " .. waited .. " ms")
        end
      end)
      holder.release()
      assert(ok, err)
      -- Once released, the same file opens.
      assert.is_true(assert(synclua.open(path, { mode = "w",
                                                 busy_timeout = 150 })):close())
    end)

    it("reads, read-only, while another process is writing (WAL)", function()
      local path = dir .. "/sync.db"
      local log = assert(synclua.open(path, { mode = "w", device_id = DEVICE }))
      log:append{ event_type = "state_transition", summary = "committed",
                  timestamp = "2025-12-03T10:00:00+00:00" }
      assert.is_true(log:close())
      local holder = support.hold_lock(path, dir, "INSERT INTO sync_event_log"
        .. " (timestamp, device_id, event_type, category, severity, summary)"
        .. " VALUES ('2025-12-03T11:00:00+00:00', 'd', 'state_transition',"
        .. " 'lifecycle', 'info', 'in flight');")
      local reader, summaries, after
      finally(function() if reader then reader:close() end end)
      local ok, err = pcall(function()
        reader = assert(synclua.open(path, { busy_timeout = 150 }))
        summaries = {}
        for ev in reader:events() do summaries[#summaries + 1] = ev.summary end
      end)
      holder.release()
      assert(ok, err)
      assert.same({ "committed" }, summaries)
      -- The same store sees the commit once it has happened.
      after = {}
      for ev in reader:events() do after[#after + 1] = ev.summary end
      assert.same({ "in flight", "committed" }, after)
      assert.is_true(reader:close())
    end)
  end)

  describe("to read (the default)", function()
    local function populate(path)
      local log = assert(synclua.open(path, { mode = "w", device_id = DEVICE }))
      for i = 1, 3 do
        log:append{ event_type = "sync_error", summary = "e" .. i,
                    timestamp = "2020-01-0" .. i .. "T00:00:00+00:00",
                    details = { n = i } }
      end
      assert.is_true(log:close())
    end

    it("leaves the file byte-identical, with the same mtime, after "
       .. "opening and querying", function()
      local path = dir .. "/sync.db"
      populate(path)
      local bytes, mtime = support.slurp(path), support.mtime(path)
      support.sleep(0.02)
      local log = assert(synclua.open(path, { retention = "1 hour" }))
      assert.equal(3, log:count())
      local n = 0
      for _ in log:events{ order = "asc", since = "2020-01-02" } do n = n + 1 end
      assert.equal(2, n)
      assert.same({ rows = 3, noncanonical = 0, unparsable = 0,
                    first_bad_ids = {} }, log:time_report())
      local r = log:prune{ older_than = "1 day", dry_run = true }
      assert.equal(3, r.count)
      assert.is_true(log:flush())
      assert.is_true(log:close())
      assert.equal(bytes, support.slurp(path))
      assert.equal(mtime, support.mtime(path))
      -- Whatever SQLite left beside it holds no change to the database.
      local wal = support.slurp(path .. "-wal")
      assert.is_true(wal == nil or wal == "")
    end)

    it("is what store:readonly() and tostring report", function()
      local path = dir .. "/sync.db"
      populate(path)
      local ro = assert(synclua.open(path))
      local rw = assert(synclua.open(path, { mode = "w" }))
      assert.is_true(ro:readonly())
      assert.is_false(rw:readonly())
      assert.equal("synclua.Store (" .. path .. ", read-only)", tostring(ro))
      assert.equal("synclua.Store (" .. path .. ")", tostring(rw))
      assert.is_true(ro:close())
      assert.is_true(rw:close())
      assert.equal("synclua.Store (closed)", tostring(ro))
    end)
  end)

  describe("persistence", function()
    it("keeps every event across close and reopen", function()
      local log = assert(synclua.open(dir, { mode = "w", device_id = DEVICE }))
      for i = 1, 3 do
        assert.is_true(log:append{
          event_type = "batch_ingestion", summary = "batch " .. i,
          timestamp = "2025-12-03T10:0" .. i .. ":00+00:00",
          record_count = i * 10, model_types = { "entry", "tag" } })
      end
      assert.is_true(log:close()) -- close writes what is queued
      local again = assert(synclua.open(dir))
      local got = {}
      for ev in again:events{ order = "asc" } do
        got[#got + 1] = { ev.id, ev.timestamp, ev.summary, ev.record_count,
                          ev.model_types, ev.device_id }
      end
      assert.is_true(again:close())
      assert.same({
        { 1, "2025-12-03T10:01:00+00:00", "batch 1", 10, { "entry", "tag" },
          DEVICE },
        { 2, "2025-12-03T10:02:00+00:00", "batch 2", 20, { "entry", "tag" },
          DEVICE },
        { 3, "2025-12-03T10:03:00+00:00", "batch 3", 30, { "entry", "tag" },
          DEVICE },
      }, got)
    end)

    it("reads here what another process wrote, and the other way round",
       function()
      local out, ok = support.lua_process(string.format([[
        local synclua = require "synclua"
        local log = assert(synclua.open(%q, { mode = "w", device_id = %q }))
        assert(log:append{ event_type = "peer_connected", summary = "from child",
                           timestamp = "2025-12-03T10:15:00.5Z",
                           peer_device_id = %q })
        assert(log:close())
        io.write("written")]], dir, DEVICE, DEVICE:upper()))
      assert.equal("written", out)
      assert.is_true(ok)
      local log = assert(synclua.open(dir, { mode = "w", device_id = DEVICE }))
      local got = {}
      for ev in log:events() do
        got[#got + 1] = ev.timestamp .. " " .. ev.event_type .. " "
          .. ev.category .. " " .. ev.severity .. " " .. ev.summary .. " "
          .. ev.peer_device_id
      end
      assert.same({ "2025-12-03T10:15:00.500+00:00 peer_connected network"
                    .. " info from child " .. DEVICE }, got)
      assert.is_true(log:append{ event_type = "peer_disconnected",
                                 summary = "from parent",
                                 timestamp = "2025-12-03T10:16:00Z" })
      assert.is_true(log:close())
      out, ok = support.lua_process(string.format([[
        local synclua = require "synclua"
        local log = assert(synclua.open(%q))
        for ev in log:events() do io.write(ev.id, " ", ev.summary, ";") end
        assert(log:close())]], dir))
      assert.equal("2 from parent;1 from child;", out)
      assert.is_true(ok)
    end)
  end)

  describe("options", function()
    local function open_error(opts)
      return support.error_of(function() return synclua.open(dir, opts) end)
    end

    it("accepts every documented option", function()
      local log = assert(synclua.open(dir, {
        mode = "w", device_id = DEVICE, queue_capacity = 8,
        retention = "30 days", auto_prune = false, prune_interval = 60,
        busy_timeout = 250, synchronous = "full", create = true,
        batch_interval = "10s", batch_records = 50, indexes = true }))
      assert.equal(8, log:stats().queue_capacity)
      assert.is_false(log:readonly())
      assert.is_true(log:close())
      log = assert(synclua.open(dir, { mode = "w", synchronous = "normal" }))
      assert.equal(65536, log:stats().queue_capacity)
      assert.is_true(log:close())
      log = assert(synclua.open(dir, { mode = "r", retention = "30 days",
                                       busy_timeout = 250 }))
      assert.is_true(log:readonly())
      assert.is_true(log:close())
    end)

    it("raises for an unknown option, readonly among them (mode = \"w\" "
       .. "writes)", function()
      assert.equal("bad argument #2 to 'open' (unknown option 'read_only')",
                   open_error{ read_only = true })
      assert.equal("bad argument #2 to 'open' (unknown option 'readonly')",
                   open_error{ readonly = true })
      assert.equal("bad argument #2 to 'open' (unknown option '1')",
                   open_error{ true })
    end)

    it("raises for a mode other than \"r\" or \"w\"", function()
      assert.equal("bad argument #2 to 'open' (mode: \"r\" or \"w\" "
                   .. "expected, got \"x\")", open_error{ mode = "x" })
      assert.equal("bad argument #2 to 'open' (mode: \"r\" or \"w\" "
                   .. "expected, got \"rw\")", open_error{ mode = "rw" })
      assert.equal("bad argument #2 to 'open' (mode: \"r\" or \"w\" "
                   .. "expected, got number)", open_error{ mode = 1 })
      assert.equal("bad argument #2 to 'open' (mode: \"r\" or \"w\" "
                   .. "expected, got boolean)", open_error{ mode = true })
      assert.equal("", support.listing(dir))
    end)

    it("raises for a writer's option given to read, naming it", function()
      local writer_only = {
        device_id = DEVICE, queue_capacity = 8, auto_prune = true,
        prune_interval = 60, synchronous = "off", create = false,
        batch_interval = "5s", batch_records = 10, indexes = true }
      for name, value in pairs(writer_only) do
        local want = "bad argument #2 to 'open' (" .. name
          .. " needs mode \"w\")"
        assert.equal(want, open_error{ [name] = value })
        assert.equal(want, open_error{ mode = "r", [name] = value })
      end
      assert.equal("", support.listing(dir))
    end)

    it("raises for options that are not a table", function()
      assert.equal("bad argument #2 to 'open' (table expected, got string)",
                   open_error("readonly"))
    end)

    it("raises for a path that is not a string", function()
      assert.equal("bad argument #1 to 'open' (string expected, got nil)",
        support.error_of(function() return synclua.open(nil) end))
      assert.equal("bad argument #1 to 'open' (string expected, got table)",
        support.error_of(function() return synclua.open({}) end))
    end)

    it("raises for options of the wrong type or out of range", function()
      local cases = {
        { { device_id = 42 }, "device_id: string expected" },
        { { queue_capacity = 0 },
          "queue_capacity: integer from 1 to 100000000 expected" },
        { { queue_capacity = 1.5 },
          "queue_capacity: integer from 1 to 100000000 expected" },
        { { queue_capacity = "8" },
          "queue_capacity: integer from 1 to 100000000 expected" },
        { { queue_capacity = 100000001 },
          "queue_capacity: integer from 1 to 100000000 expected" },
        { { retention = true },
          "retention: string or number expected, got boolean" },
        { { retention = -1 }, "retention: seconds out of range" },
        { { retention = "forever" }, "retention: Invalid duration: forever"
          .. " (e.g. '7 days', '1 hour', '90m' or '2h')" },
        { { prune_interval = {} },
          "prune_interval: string or number expected, got table" },
        { { prune_interval = "often" }, "prune_interval: Invalid duration:"
          .. " often (e.g. '7 days', '1 hour', '90m' or '2h')" },
        { { busy_timeout = 0 }, "busy_timeout: positive integer (ms) expected" },
        { { busy_timeout = "100" },
          "busy_timeout: positive integer (ms) expected" },
        { { synchronous = "none" }, "synchronous: 'normal', 'full' or 'off' expected" },
        { { synchronous = true }, "synchronous: 'normal', 'full' or 'off' expected" },
      }
      for _, case in ipairs(cases) do
        case[1].mode = "w"
        assert.equal("bad argument #2 to 'open' (" .. case[2] .. ")",
                     open_error(case[1]))
      end
      assert.equal("", support.listing(dir)) -- nothing opened, nothing made
    end)
  end)
end)

describe("a store whose sync.db is replaced or deleted while logging",
         function()
  local dir

  before_each(function() dir = support.tmpdir() end)
  after_each(function() support.rmdir(dir) end)

  -- Another device's store at dir/name with n rows, closed.
  local function other_store(name, n)
    local other = assert(synclua.open(dir .. "/" .. name,
      { mode = "w", device_id = "99999999-8888-7777-6666-555555555555" }))
    for i = 1, n do
      other:append{ event_type = "state_transition", summary = "theirs " .. i }
    end
    assert(other:close())
  end

  it("writes on into the file moved into place, beside its rows, and says "
     .. "so", function()
    local log = assert(synclua.open(dir, { mode = "w", device_id = DEVICE }))
    log:append{ event_type = "state_transition", summary = "before" }
    assert.is_true(log:flush())
    other_store("restore.db", 3)
    assert(os.rename(dir .. "/restore.db", dir .. "/sync.db"))
    log:append{ event_type = "state_transition", summary = "after" }
    assert.is_true(log:flush())
    -- The store's own queries read the new file.
    assert.equal(5, log:count())
    assert(log:close())
    assert.equal(
      "theirs 1|99999999-8888-7777-6666-555555555555\n"
      .. "theirs 2|99999999-8888-7777-6666-555555555555\n"
      .. "theirs 3|99999999-8888-7777-6666-555555555555\n"
      .. "after|" .. DEVICE .. "\n"
      .. "Event log file replaced while logging: now writing to the file at "
      .. dir .. "/sync.db|" .. DEVICE .. "\n",
      support.sqlite(dir .. "/sync.db",
                     "SELECT summary, device_id FROM sync_event_log"
                     .. " ORDER BY id"))
    assert.equal('sync_error|error|{"path":"' .. dir .. '/sync.db",'
                 .. '"reason":"replaced"}\n',
      support.sqlite(dir .. "/sync.db", "SELECT event_type, severity, details"
                     .. " FROM sync_event_log WHERE id = 5"))
  end)

  it("makes it anew when it is deleted, with the events after", function()
    local log = assert(synclua.open(dir, { mode = "w", device_id = DEVICE }))
    log:append{ event_type = "state_transition", summary = "before" }
    assert.is_true(log:flush())
    assert(os.remove(dir .. "/sync.db"))
    log:append{ event_type = "state_transition", summary = "after" }
    assert.is_true(log:flush())
    assert(log:close())
    assert.equal("after\nEvent log file deleted while logging: made anew at "
                 .. dir .. "/sync.db\n",
      support.sqlite(dir .. "/sync.db",
                     "SELECT summary FROM sync_event_log ORDER BY id"))
  end)
end)

describe("store:close()", function()
  local dir

  before_each(function() dir = support.tmpdir() end)
  after_each(function() support.rmdir(dir) end)

  it("returns true, and true again when called twice", function()
    local log = assert(synclua.open(dir, { mode = "w" }))
    assert.same({ true }, { log:close() })
    assert.same({ true }, { log:close() })
    local ro = assert(synclua.open(dir))
    assert.same({ true }, { ro:close() })
    assert.same({ true }, { ro:close() })
  end)

  it("makes every other method raise 'attempt to use a closed "
     .. "synclua.Store'", function()
    local log = assert(synclua.open(dir, { mode = "w", device_id = DEVICE }))
    assert.is_true(log:close())
    local calls = {
      append = function() return log:append{ event_type = "sync_error",
                                             summary = "late" } end,
      flush = function() return log:flush() end,
      stats = function() return log:stats() end,
      prune = function() return log:prune() end,
      events = function() return log:events() end,
      count = function() return log:count() end,
      first = function() return log:first() end,
      integrity = function() return log:integrity() end,
      time_report = function() return log:time_report() end,
      path = function() return log:path() end,
      readonly = function() return log:readonly() end,
      identity = function() return log:identity() end,
      fingerprint = function() return log:fingerprint() end,
    }
    for name, call in pairs(calls) do
      assert.equal("attempt to use a closed synclua.Store",
                   support.error_of(call), name)
    end
    assert.equal("0\n", support.sqlite(dir .. "/sync.db",
                                       "SELECT count(*) FROM sync_event_log"))
  end)

  it("is what a <close> variable calls at the end of its block", function()
    local kept
    do
      local log <close> = assert(synclua.open(dir, { mode = "w",
                                                     device_id = DEVICE }))
      kept = log
      log:append{ event_type = "sync_error", summary = "closed by scope" }
    end
    assert.equal("synclua.Store (closed)", tostring(kept))
    assert.equal("closed by scope\n", support.sqlite(dir .. "/sync.db",
      "SELECT summary FROM sync_event_log"))
  end)

  it("is what the garbage collector does to a store left open", function()
    local log = assert(synclua.open(dir, { mode = "w", device_id = DEVICE }))
    log:append{ event_type = "sync_error", summary = "left open" }
    log = nil
    collectgarbage()
    collectgarbage()
    assert.equal("left open\n", support.sqlite(dir .. "/sync.db",
      "SELECT summary FROM sync_event_log"))
  end)

  it("leaves open cursors reading", function()
    local log = assert(synclua.open(dir, { mode = "w", device_id = DEVICE }))
    for i = 1, 3 do
      log:append{ event_type = "sync_error", summary = "e" .. i,
                  timestamp = "2025-12-03T10:0" .. i .. ":00Z" }
    end
    assert.is_true(log:flush())
    local it, state, ctl, cursor = log:events{ order = "asc" }
    assert.equal("e1", it(state, ctl).summary)
    assert.is_true(log:close())
    assert.equal("e2", cursor:next().summary)
    assert.equal("e3", cursor:next().summary)
    assert.is_nil(cursor:next())
    cursor:close()
    assert.equal("synclua.Cursor (closed)", tostring(cursor))
  end)
end)

describe("store:integrity()", function()
  local dir

  before_each(function() dir = support.tmpdir() end)
  after_each(function() support.rmdir(dir) end)

  local function populate(path)
    local log = assert(synclua.open(path, { mode = "w", device_id = DEVICE }))
    for i = 1, 300 do
      log:append{ event_type = "sync_error", summary = "row " .. i,
                  timestamp = "2025-12-03T10:00:00Z" }
    end
    assert.is_true(log:close())
  end

  it("returns true alone for a sound file", function()
    local path = dir .. "/sync.db"
    populate(path)
    local log = assert(synclua.open(path))
    assert.same({ true }, { log:integrity() })
    assert.is_true(log:close())
  end)

  it("returns false and SQLite's findings for a damaged index page",
     function()
    local path = dir .. "/sync.db"
    populate(path)
    -- Scribble over the cell pointers of one index's root page.
    local root = math.tointeger(support.sqlite(path, "SELECT rootpage FROM"
      .. " sqlite_master WHERE name = 'idx_sync_event_log_peer'"):match("%d+"))
    local size = math.tointeger(support.sqlite(path, "PRAGMA page_size")
                                  :match("%d+"))
    local bytes = support.slurp(path)
    local at = (root - 1) * size + 8
    support.spit(path, bytes:sub(1, at) .. ("\255"):rep(16)
                         .. bytes:sub(at + 17))
    local findings = support.sqlite(path, "PRAGMA quick_check")
    assert.truthy(findings:match("^%*%*%* in database main %*%*%*\n"))
    local log = assert(synclua.open(path))
    assert.same({ false, findings }, { log:integrity() })
    assert.equal(300, log:count()) -- the table itself still reads
    assert.is_true(log:close())
  end)
end)

describe("tostring(store)", function()
  it("names the type and the resolved path", function()
    local dir = support.tmpdir()
    finally(function() support.rmdir(dir) end)
    local log = assert(synclua.open(dir, { mode = "w" }))
    assert.equal("synclua.Store (" .. dir .. "/sync.db)", tostring(log))
    assert.is_true(log:close())
    assert.equal("synclua.Store (closed)", tostring(log))
  end)
end)
