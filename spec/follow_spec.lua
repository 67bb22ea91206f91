-- `synclua events --follow`, run as a person runs it: a follower process
-- beside the processes that write (the sqlite3 tool, as Spacedrive would,
-- and synclua's own logger), its exact lines as they come, Ctrl-C ending
-- it with status 0 and nothing on stderr; and the formats it refuses.
local support = dofile("spec/fixtures/support.lua")
local synclua = require "synclua"
local quote = support.quote

local DEV = "2f1a8f8e-0c3b-4d52-9d0e-5b1c2a3d4e5f"

-- An INSERT of one event at second `s` of 2025-12-03T10:00, as another
-- program writes it.
local function insert(s, summary)
  return ("INSERT INTO sync_event_log (timestamp, device_id, event_type,"
    .. " category, severity, summary) VALUES ('2025-12-03T10:00:%02d+00:00',"
    .. " '%s', 'state_transition', 'lifecycle', 'info', '%s');")
    :format(s, DEV, summary)
end


-- The bytes `events -f FORMAT` prints for the rows of these ids, oldest
-- first (one line or record each).
local function rendered(db, format, ids)
  local log <close> = assert(synclua.open(db))
  local out = {}
  for _, id in ipairs(ids) do
    for ev in log:events{ raw = true } do
      if ev.id == id then out[#out + 1] = synclua.render(ev, format) end
    end
  end
  return table.concat(out)
end

local follower = support.follower

-- The child's next n lines, each with its line break.
local function lines(child, n)
  local got = {}
  for i = 1, n do
    local l = child:line()
    if not l then break end
    got[i] = l .. "\n"
  end
  return table.concat(got)
end

-- Ctrl-C to a follower once its handler is in place: the rest of its
-- output and its exit status.
local function interrupt(child)
  support.wait_for(function() return child:catches(2) end, "its handler")
  child:signal("INT")
  return child:wait()
end

-- Ctrl-C, and a follower that ends as it should: nothing more printed,
-- status 0.
local function stop(child)
  local rest, status = interrupt(child)
  assert.equal("", rest)
  assert.equal(0, status)
end

-- Two devices, for the timelines.
local A = "aaaaaaaa-0000-4000-8000-000000000001"
local B = "bbbbbbbb-0000-4000-8000-000000000002"

-- An INSERT of a row of device `dev` at second `s` (or at the time text
-- `ts`), as insert() makes it.
local function row(dev, s, summary, ts)
  return (insert(s, summary):gsub(DEV:gsub("%-", "%%-"), dev)
    :gsub("'2025%-12%-03T10:00:%d%d%+00:00'", ts and ("'" .. ts .. "'")
          or "%0"))
end

-- A scratch folder with a.db (device A) and b.db (device B), each a row
-- given as { s, summary }: dir, a, b.
local function two_stores(first, second)
  local dir = support.tmpdir()
  local a, b = dir .. "/a.db", dir .. "/b.db"
  assert.equal("", support.sqlite(a, support.DDL .. row(A, first[1],
                                                        first[2])))
  assert.equal("", support.sqlite(b, support.DDL .. row(B, second[1],
                                                        second[2])))
  return dir, a, b
end

describe("synclua events --follow", function()
  local dir, db

  before_each(function()
    dir = support.tmpdir()
    db = dir .. "/sync.db"
    assert.equal("", support.sqlite(db, support.DDL .. insert(1, "one")
      .. insert(2, "two") .. insert(3, "three")))
  end)

  after_each(function()
    support.stop_children()
    support.rmdir(dir)
  end)

  it("prints the newest --limit events oldest first, then each event "
     .. "another process commits, and ends with status 0 on Ctrl-C",
     function()
    local child = follower(dir, "events --db sync.db --follow -f ndjson"
                                .. " --limit 2")
    assert.equal(rendered(db, "ndjson", { 2, 3 }), lines(child, 2))
    -- The sqlite3 tool commits two rows in one transaction, then one.
    assert.equal("", support.sqlite(db, "BEGIN;" .. insert(5, "five")
      .. insert(4, "four") .. "COMMIT;"))
    assert.equal(rendered(db, "ndjson", { 5, 4 }), lines(child, 2))
    assert.equal("", support.sqlite(db, insert(6, "six")))
    assert.equal(rendered(db, "ndjson", { 6 }), lines(child, 1))
    -- Rows synclua's own logger writes, from this process.
    local log <close> = assert(synclua.open(db, { mode = "w",
                                                   device_id = DEV }))
    assert(log:append{ event_type = "state_transition",
                       summary = "from the logger",
                       timestamp = "2025-12-03T10:00:07Z" })
    assert(log:flush())
    assert.equal(rendered(db, "ndjson", { 7 }), lines(child, 1))
    stop(child)
  end)

  it("writes CSV: the header, the rows, then each new record", function()
    local child = follower(dir, "events --db sync.db --follow -f csv"
                                .. " --limit 1 --event-type state_transition")
    assert.equal(synclua.csv_header():gsub("\r\n$", "\r") .. "\n"
                 .. rendered(db, "csv", { 3 }):gsub("\r\n$", "\r") .. "\n",
                 lines(child, 2))
    -- A row of another type does not match; the next one does.
    assert.equal("", support.sqlite(db, (insert(8, "eight")
      :gsub("'state_transition', 'lifecycle'", "'peer_connected', 'network'"))
      .. insert(9, "nine")))
    assert.equal(rendered(db, "csv", { 5 }):gsub("\r\n$", "\r") .. "\n",
                 lines(child, 1))
    stop(child)
  end)

  it("refuses a format that is written whole, and -o", function()
    local out, err, status = support.synclua(dir,
      "events --db sync.db --follow")
    assert.equal("", out)
    assert.equal("synclua events: --follow streams as it goes: -f ndjson or "
      .. "csv (json is written whole)\n", err)
    assert.equal(2, status)
    out, err, status = support.synclua(dir,
      "events --db sync.db --follow -f markdown")
    assert.equal("synclua events: --follow streams as it goes: -f ndjson or "
      .. "csv (markdown is written whole)\n", err)
    assert.equal(2, status)
    out, err, status = support.synclua(dir,
      "events --db sync.db --follow -f ndjson -o " .. quote(dir .. "/x"))
    assert.equal("synclua events: --follow writes to standard output: "
      .. "redirect it rather than -o\n", err)
    assert.equal(2, status)
    assert.is_nil(support.slurp(dir .. "/x"))
  end)
end)

describe("synclua events --follow, the store changing under it", function()
  local dir, db

  before_each(function()
    dir = support.tmpdir()
    db = dir .. "/sync.db"
    assert.equal("", support.sqlite(db, support.DDL
      .. "PRAGMA journal_mode=WAL;" .. insert(1, "one") .. insert(2, "two"))
      :gsub("^wal\n", ""))
  end)

  after_each(function()
    support.stop_children()
    support.rmdir(dir)
  end)

  it("reopens a file replaced by a rename, says so, and shows what is "
     .. "committed to the new one", function()
    local child = follower(dir, "events --db sync.db --follow -f ndjson"
                                .. " --limit 1")
    assert.equal(rendered(db, "ndjson", { 2 }), lines(child, 1))
    local new = dir .. "/restored.db"
    assert.equal("", support.sqlite(new, support.DDL
      .. "PRAGMA journal_mode=WAL;" .. insert(11, "r1") .. insert(12, "r2")
      .. insert(13, "r3")):gsub("^wal\n", ""))
    assert(os.rename(new, db))
    assert.equal("synclua events: note: sync.db was replaced: following the "
      .. "new file from its event 3 on\n", lines(child, 1))
    assert.equal("", support.sqlite(db, insert(14, "after")))
    assert.equal(rendered(db, "ndjson", { 4 }), lines(child, 1))
    assert.equal("", support.sqlite(db, insert(15, "and after")))
    assert.equal(rendered(db, "ndjson", { 5 }), lines(child, 1))
    stop(child)
  end)

  it("waits out a deleted file and follows the one made in its place",
     function()
    local child = follower(dir, "events --db sync.db --follow -f ndjson")
    assert.equal(rendered(db, "ndjson", { 1, 2 }), lines(child, 2))
    assert(os.remove(db))
    support.sleep(0.2)
    -- The follower may be reading the new file as it is made: wait for it.
    assert.equal("", support.sqlite(db, support.DDL .. insert(21, "new")))
    assert.equal("synclua events: note: sync.db was replaced: following the "
      .. "new file from its event 1 on\n", lines(child, 1))
    assert.equal("", support.sqlite(db, insert(22, "next")))
    assert.equal(rendered(db, "ndjson", { 2 }), lines(child, 1))
    stop(child)
  end)

  it("prints each row once across retention, VACUUM and checkpoints, and "
     .. "a reused id as the new row it is", function()
    -- Without AUTOINCREMENT, SQLite gives a deleted top id again.
    local plain = dir .. "/plain.db"
    assert.equal("", support.sqlite(plain, support.DDL:gsub(" AUTOINCREMENT",
      "") .. insert(1, "one") .. insert(2, "two") .. insert(3, "three")))
    local child = follower(dir, "events --db plain.db --follow -f ndjson")
    assert.equal(rendered(plain, "ndjson", { 1, 2, 3 }), lines(child, 3))
    assert.equal("", support.sqlite(plain,
      "DELETE FROM sync_event_log WHERE id >= 2;"))
    support.sleep(0.3)
    assert.equal("", support.sqlite(plain, insert(4, "reused")))
    local reused = rendered(plain, "ndjson", { 2 })
    assert.truthy(reused:find('"summary":"reused"', 1, true))
    assert.equal(reused, lines(child, 1))
    assert.equal("", support.sqlite(plain, "VACUUM;"))
    assert.equal("", support.sqlite(plain, "PRAGMA journal_mode=WAL;"
      .. insert(5, "in wal")):gsub("^wal\n", ""))
    assert.equal(rendered(plain, "ndjson", { 3 }), lines(child, 1))
    -- The checkpoint says whether a reader held it back (busy|log|done).
    assert.equal("", support.sqlite(plain, "PRAGMA wal_checkpoint(TRUNCATE);"
      .. "VACUUM;"):gsub("^%d|%-?%d+|%-?%d+\n", ""))
    assert.equal("", support.sqlite(plain, insert(6, "last")))
    assert.equal(rendered(plain, "ndjson", { 4 }), lines(child, 1))
    stop(child)
  end)
end)

describe("synclua timeline --follow", function()
  local dir, a, b

  -- The text line `synclua timeline` prints for a row (no offsets).
  local function text(dev, s, summary, extra)
    return ("  2025-12-03 10:00:%02d.000  %s  info     state_transition"
      .. "            %s%s\n"):format(s, dev:sub(1, 8), summary, extra or "")
  end

  before_each(function()
    dir, a, b = two_stores({ 1, "a-one" }, { 2, "b-two" })
  end)

  after_each(function()
    support.stop_children()
    support.rmdir(dir)
  end)

  it("merges the stores so far, then each commit in order within the "
     .. "window, and marks a row later than it", function()
    local child = follower(dir, "timeline --db a.db --db b.db --follow"
                                .. " --window 1")
    assert.equal("# window: all events (UTC)\n# clock offsets (relative to "
      .. "aaaaaaaa): bbbbbbbb: no causal pairs, not corrected\n"
      .. text(A, 1, "a-one") .. text(B, 2, "b-two"), lines(child, 4))
    -- Committed in the wrong order, within the window of each other.
    assert.equal("", support.sqlite(a, row(A, 10, "a-ten")))
    assert.equal("", support.sqlite(b, row(B, 9, "b-nine")))
    assert.equal(text(B, 9, "b-nine") .. text(A, 10, "a-ten"),
                 lines(child, 2))
    -- A row that belongs before what was printed, arriving after it.
    assert.equal("", support.sqlite(b, row(B, 5, "b-five")))
    assert.equal(text(B, 5, "b-five", "  [late by 5.0 s]"), lines(child, 1))
    assert.equal("", support.sqlite(a, row(A, 11, "a-eleven")))
    assert.equal(text(A, 11, "a-eleven"), lines(child, 1))
    stop(child)
  end)

  it("prints what it holds when Ctrl-C comes, in order", function()
    local child = follower(dir, "timeline --db a.db --db b.db --follow"
                                .. " --window 30 --limit 1")
    assert.equal("# window: all events (UTC)\n# clock offsets (relative to "
      .. "aaaaaaaa): bbbbbbbb: no causal pairs, not corrected\n"
      .. text(B, 2, "b-two"), lines(child, 3))
    assert.equal("", support.sqlite(a, row(A, 20, "a-twenty")))
    assert.equal("", support.sqlite(b, row(B, 19, "b-nineteen")))
    support.sleep(0.5)
    local rest, status = interrupt(child)
    assert.equal(text(B, 19, "b-nineteen") .. text(A, 20, "a-twenty"), rest)
    assert.equal(0, status)
  end)

  it("marks a late row in NDJSON with late_by_ms, and says it on stderr "
     .. "for CSV", function()
    local child = follower(dir, "timeline --db a.db --db b.db --follow"
                                .. " --window 0 -f ndjson --limit 1")
    assert.equal("synclua timeline: clock offsets (relative to aaaaaaaa): "
      .. "bbbbbbbb: no causal pairs, not corrected\n", lines(child, 1))
    assert.truthy(lines(child, 1):find('"summary":"b-two"', 1, true))
    assert.equal("", support.sqlite(a, row(A, 30, "a-thirty")))
    local first = lines(child, 1)
    assert.truthy(first:find('"summary":"a-thirty"', 1, true))
    assert.equal("", support.sqlite(b, row(B, 29, "b-late")))
    local late = lines(child, 1)
    assert.truthy(late:find('"summary":"b-late"', 1, true))
    assert.equal(',"late_by_ms":1000}\n', late:sub(-20))
    stop(child)

    child = follower(dir, "timeline --db a.db --db b.db --follow"
                          .. " --window 0 -f csv --limit 1")
    -- stderr's line comes first: stdout is written when the rows are.
    assert.equal("synclua timeline: clock offsets (relative to aaaaaaaa): "
      .. "bbbbbbbb: no causal pairs, not corrected\n", lines(child, 1))
    assert.equal((synclua.csv_header():gsub("\r\n$", "")
      .. ",device_label,adjusted_timestamp\r\n"), lines(child, 1))
    assert.truthy(lines(child, 1):find(",a-thirty,", 1, true))
    assert.equal("", support.sqlite(a, row(A, 40, "a-forty")))
    assert.truthy(lines(child, 1):find(",a-forty,", 1, true))
    assert.equal("", support.sqlite(b, row(B, 39, "b-late-csv")))
    local got = lines(child, 2)
    local id = assert(support.sqlite(b,
      "SELECT id FROM sync_event_log WHERE summary = 'b-late-csv'")
      :match("%d+"))
    assert.equal(("synclua timeline: late: bbbbbbbb's state_transition (id %s)"
      .. " came 1.0 s after rows it precedes\n"):format(id),
      got:match("^[^\n]*\n"))
    assert.truthy(got:find(",b-late-csv,", 1, true))
    stop(child)
  end)

  it("estimates the offsets again as causal pairs arrive, says so, and "
     .. "places the rows by them", function()
    local _, err, status = support.synclua(dir, "simulate --out lib "
      .. "--devices 2 --hours 1 --faults none")
    assert.equal("", err)
    assert.equal(0, status)
    -- The same library with empty stores to follow; the simulated rows are
    -- copied into them while it follows.
    os.execute("mkdir -p " .. support.quote(dir .. "/live/desktop") .. " "
               .. support.quote(dir .. "/live/laptop"))
    support.spit(dir .. "/live/devices.json",
                 support.slurp(dir .. "/lib/devices.json"))
    for _, name in ipairs{ "desktop", "laptop" } do
      assert.equal("", support.sqlite(dir .. "/live/" .. name .. "/sync.db",
                                      support.DDL))
    end
    local child = follower(dir, "timeline --db live --follow")
    assert.equal("# window: all events (UTC)\n", lines(child, 1))
    for _, name in ipairs{ "desktop", "laptop" } do
      assert.equal("", support.sqlite(dir .. "/live/" .. name .. "/sync.db",
        ("ATTACH %s AS sim; INSERT INTO sync_event_log SELECT * FROM "
         .. "sim.sync_event_log;"):format(support.sql_string(
           dir .. "/lib/" .. name .. "/sync.db"))))
    end
    -- What timeline says of the stores as they are now: the same offsets,
    -- and every row placed by them.
    local whole = support.lines((support.synclua(dir, "timeline --db live")))
    assert.equal("# clock offsets (relative to desktop): laptop +4.331 s "
      .. "±0.012 (100 pairs)", whole[2])
    assert.equal(195, #whole)
    local got = { (child:line()) }
    for _ = 3, #whole do got[#got + 1] = child:line() end
    stop(child)
    assert.equal("# clock offsets now (relative to desktop): laptop +4.331 s "
      .. "±0.012 (100 pairs); rows from here on are placed by them", got[1])
    for i = 3, #whole do assert.equal(whole[i], got[i - 1]) end
  end)

  it("refuses exports, formats that end, --order desc and -o", function()
    assert.equal("", select(2, support.synclua(dir,
      "events --db b.db -f json -o b.json")))
    local cases = {
      { "timeline --db a.db --db b.json --device-of b.json=" .. B
        .. " --follow", "--follow follows stores as they grow: b.json is an "
        .. "export" },
      { "timeline --db a.db --follow -f json", "--follow streams as it "
        .. "goes: -f text, ndjson or csv (json is written whole)" },
      { "timeline --db a.db --follow --order desc", "--follow prints oldest "
        .. "first: --order desc cannot follow" },
      { "timeline --db a.db --follow -o x", "--follow writes to standard "
        .. "output: redirect it rather than -o" },
    }
    for _, c in ipairs(cases) do
      local out, err, status = support.synclua(dir, c[1])
      assert.equal("", out)
      assert.equal("synclua timeline: " .. c[2] .. "\n", err)
      assert.equal(2, status)
    end
  end)
end)

describe("reports --follow", function()
  local dir, db
  local C = "cccccccc-0000-4000-8000-000000000003"

  local function session_row(t, type, category, summary, records, ms)
    return { timestamp = "2025-12-03T10:" .. t .. "+00:00", device_id = A,
             event_type = type, category = category, summary = summary,
             correlation_id = C, peer_device_id = B, record_count = records,
             duration_ms = ms }
  end

  before_each(function()
    dir = support.tmpdir()
    db = dir .. "/sync.db"
    assert.equal("", support.sqlite(db, support.DDL))
    support.insert_rows(db, { session_row("00:00", "backfill_session_started",
      "lifecycle", "Backfill started") })
  end)

  after_each(function()
    support.stop_children()
    support.rmdir(dir)
  end)

  local NOW = "SYNCLUA_NOW=2025-12-03T12:00:00Z"

  it("prints the report, then the verdict each time it changes", function()
    local child = follower(dir, "sessions --db sync.db --follow", NOW)
    assert.equal("1 session: 1 may still be running", child:line())
    for _ = 1, 4 do child:line() end
    -- A batch changes no verdict; the completion does.
    support.insert_rows(db, { session_row("00:10", "batch_ingestion",
      "data_flow", "Ingested batch", 500) })
    support.sleep(1.5)
    support.insert_rows(db, { session_row("00:20",
      "backfill_session_completed", "lifecycle", "Backfill completed", 1000,
      20000) })
    assert.equal("", child:line())
    assert.equal("2025-12-03 12:00:00  1 session: 1 completed", child:line())
    stop(child)
  end)

  it("writes each new result as one JSON line with -f json", function()
    local child = follower(dir, "sessions --db sync.db --follow -f json", NOW)
    local first = synclua.json_decode(child:line())
    assert.equal("1 session: 1 may still be running", first.verdict)
    support.insert_rows(db, { session_row("00:20",
      "backfill_session_completed", "lifecycle", "Backfill completed", 1000,
      20000) })
    local second = synclua.json_decode(child:line())
    assert.equal("1 session: 1 completed", second.verdict)
    assert.equal("ok", second.status)
    assert.equal(1000, second.sessions[1].records)
    stop(child)
  end)

  it("refuses Markdown, -o and exports", function()
    local cases = {
      { "why_slow --db sync.db --follow -f markdown", "why_slow",
        "--follow streams as it goes: -f text or json (markdown is "
        .. "written whole)" },
      { "sessions --db sync.db --follow -o x", "sessions", "--follow writes "
        .. "to standard output: redirect it rather than -o" },
    }
    for _, c in ipairs(cases) do
      local out, err, status = support.synclua(dir, c[1])
      assert.equal("", out)
      assert.equal("synclua " .. c[2] .. ": " .. c[3] .. "\n", err)
      assert.equal(2, status)
    end
  end)
end)

describe("report --follow", function()
  local dir

  before_each(function()
    dir = support.tmpdir()
    local _, err, status = support.synclua(dir, "simulate --out lib "
      .. "--devices 3 --hours 12 --seed 5 --start 2025-12-03T12:00:00Z")
    assert.equal(0, status, err)
  end)

  after_each(function()
    support.stop_children()
    support.rmdir(dir)
  end)

  it("prints a new result when a scenario's findings change under a "
     .. "verdict that does not", function()
    local child = follower(dir, "report --db lib --follow -f json",
                           "SYNCLUA_NOW=2025-12-04T00:00:00Z")
    local first = synclua.json_decode(child:line())
    -- Another buffer overflow on the phone, as the first one was logged.
    assert.equal("", support.sqlite(dir .. "/lib/phone/sync.db",
      "INSERT INTO sync_event_log (timestamp, device_id, event_type, "
      .. "category, severity, summary, details) SELECT "
      .. "'2025-12-03T15:00:00.000000000+00:00', device_id, event_type, "
      .. "category, severity, 'Buffer overflow: 5000 updates dropped during "
      .. "backfill', replace(details, '2794', '5000') FROM sync_event_log "
      .. "WHERE summary LIKE 'Buffer overflow%'"))
    local second = synclua.json_decode(child:line())
    assert.equal(first.verdict, second.verdict)
    local function lost(r)
      for _, f in ipairs(r.findings) do
        if f.scenario == "lost_data" then return f.summary end
      end
    end
    assert.are_not.equal(lost(first), lost(second))
    assert.truthy(lost(second):find("7,794", 1, true), lost(second))
    stop(child)
  end)
end)

describe("--follow at the edges", function()
  local dir, a, b

  before_each(function()
    dir, a, b = two_stores({ 10, "a-ten" }, { 11, "b-eleven" })
  end)

  after_each(function()
    support.stop_children()
    support.rmdir(dir)
  end)

  it("marks a row that belongs before the rows printed first, and not the "
     .. "rows after one dated in the future", function()
    local child = follower(dir, "timeline --db a.db --db b.db --follow "
                                .. "--window 0 --skew none")
    assert.truthy(lines(child, 3):find("b-eleven", 1, true))
    assert.equal("", support.sqlite(b, row(B, 5, "b-five")))
    assert.truthy(lines(child, 1):find("b-five  [late by 6.0 s]\n", 1, true))
    -- A clock a year ahead: in its place, and the rows after it on time.
    assert.equal("", support.sqlite(a, row(A, 0, "a-future",
                                           "2099-01-01T00:00:00+00:00")))
    assert.truthy(lines(child, 1):find("a-future\n", 1, true))
    assert.equal("", support.sqlite(b, row(B, 20, "b-twenty")))
    assert.truthy(lines(child, 1):find("b-twenty\n", 1, true))
    stop(child)
  end)

  it("follows rows in other timestamp forms, and events of one instant in "
     .. "ascending id", function()
    assert.equal("", support.sqlite(a, row(A, 12, "same-1") .. row(A, 12,
      "same-2")))
    local child = follower(dir, "events --db a.db --follow -f ndjson "
                                .. "--limit 2")
    local got = lines(child, 2)
    assert.truthy(got:find('"summary":"same%-1".*"summary":"same%-2"'), got)
    assert.equal("", support.sqlite(a, row(A, 0, "zulu",
                                           "2025-12-03T10:00:13Z")))
    assert.truthy(lines(child, 1):find('"summary":"zulu"', 1, true))
    stop(child)
  end)

  it("waits out a store that cannot be read, and says so", function()
    local child = follower(dir, "events --db a.db --follow -f ndjson")
    assert.truthy(lines(child, 1):find("a-ten", 1, true))
    -- Emptied in place (the same file), then made a store again.
    io.open(a, "w"):close()
    assert.equal("synclua events: note: a.db cannot be read now (no such "
      .. "table: sync_event_log): waiting for it\n", lines(child, 1))
    assert.equal("", support.sqlite(a, support.DDL .. row(A, 1, "one")
      .. row(A, 2, "two")))
    -- Depending on when it looks, the empty table made first lets "one"
    -- through as new too: the note and "two" come either way.
    local seen, note = {}, false
    while not (note and seen.two) do
      local l = assert(child:line())
      if l == "synclua events: note: a.db can be read again" then
        note = true
      else
        seen[assert(l:match('"summary":"(%a+)"'), l)] = true
      end
    end
    assert.is_nil(seen["ten"])
    stop(child)
  end)

  it("ends quietly on a Ctrl-C at once: 0 once following, else the "
     .. "shell's 130", function()
    for _ = 1, 3 do
      local child = support.spawn(dir, "events --db a.db --follow -f ndjson")
      child:signal("INT")
      local rest, status = child:wait()
      assert.is_nil(rest:find("synclua", 1, true), rest)
      assert.truthy(status == 0 or status == 130, status)
    end
  end)
end)
