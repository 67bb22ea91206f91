-- The bundled commands `check` and `prune`, run as a person runs them: the
-- synclua program ($SYNCLUA_BIN, else build/synclua) as a child process,
-- with exact output, exit status and what is left on disk.
local support = dofile("spec/fixtures/support.lua")
local quote = support.quote

local EXE = support.EXE

-- Run `synclua ARGS` in dir; stdout, stderr and the exit status.
local synclua = support.synclua

-- A store made by the sqlite3 tool with the given rows.
local function store_with(dir, rows)
  local db = dir .. "/sync.db"
  assert(support.sqlite(db, support.DDL) == "")
  support.insert_rows(db, rows)
  return db
end

local ROWS = {
  { timestamp = "2025-12-03T10:00:00+00:00", summary = "a",
    event_type = "batch_ingestion", category = "data_flow",
    severity = "debug" },
  { timestamp = "2025-12-03T10:00:01.500+00:00", summary = "b" },
  { timestamp = "2025-12-03T10:00:02Z", summary = "c",
    event_type = "sync_error", category = "error", severity = "error" },
}

describe("synclua check", function()
  local dir
  before_each(function() dir = support.tmpdir() end)
  after_each(function() support.rmdir(dir) end)

  it("reports a sound store, its span and its counts, and exits 0",
     function()
    store_with(dir, ROWS)
    local before = support.slurp(dir .. "/sync.db")
    local out, err, status = synclua(dir, "check")
    assert.equal(table.concat({
      "sync.db: ok",
      "  events: 3 from 2025-12-03T10:00:00+00:00 to 2025-12-03T10:00:02Z",
      "  timestamps: 2 canonical, 1 in other forms, 0 unparsable",
      "  integrity: ok",
      "  by severity: debug 1, info 1, error 1",
      "  by type: state_transition 1, batch_ingestion 1, sync_error 1",
      "  events over time:",
      "    2025-12-03 10:00:00  ##############################  1",
      "    2025-12-03 10:00:01  ##############################  1",
      "    2025-12-03 10:00:02  ##############################  1",
      "" }, "\n"), out)
    assert.equal("", err)
    assert.equal(0, status)
    assert.equal(before, support.slurp(dir .. "/sync.db"))
  end)

  it("finds timestamps that do not parse, names their ids, and exits 1",
     function()
    local rows = { table.unpack(ROWS) }
    rows[#rows + 1] = { timestamp = "yesterday-ish", summary = "d" }
    store_with(dir, rows)
    local out, _, status = synclua(dir, "check --db sync.db")
    assert.equal(table.concat({
      "sync.db: 1 problem",
      "  problem: 1 events have timestamps that do not parse (ids 4)",
      "  events: 4 from 2025-12-03T10:00:00+00:00 to 2025-12-03T10:00:02Z",
      "  timestamps: 2 canonical, 1 in other forms, 1 unparsable",
      "  integrity: ok",
      "  by severity: debug 1, info 2, error 1",
      "  by type: state_transition 2, batch_ingestion 1, sync_error 1",
      "  events over time:",
      "    2025-12-03 10:00:00  ##############################  1",
      "    2025-12-03 10:00:01  ##############################  1",
      "    2025-12-03 10:00:02  ##############################  1",
      "" }, "\n"), out)
    assert.equal(1, status)
  end)

  it("prints a JSON array of a store each with --format json, and one "
     .. "object a line with ndjson", function()
    store_with(dir, ROWS)
    local one = '{"event_types":[{"count":1,"name":"state_transition"},'
      .. '{"count":1,"name":"batch_ingestion"},{"count":1,"name":'
      .. '"sync_error"}],"events":3,"first":"2025-12-03T10:00:00+00:00",'
      .. '"integrity":"ok","last":"2025-12-03T10:00:02Z","path":"sync.db",'
      .. '"problems":[],"severities":[{"count":1,"name":"debug"},{"count":1,'
      .. '"name":"info"},{"count":1,"name":"error"}],"timestamps":'
      .. '{"canonical":2,"other_forms":1,"unparsable":0}}'
    local out, _, status = synclua(dir, "check --format json")
    assert.equal("[" .. one .. "]\n", out)
    assert.equal(0, status)
    out = synclua(dir, "check -f ndjson --db sync.db --db .")
    assert.equal(one .. "\n", out)       -- the same store once
  end)

  it("takes a library folder, or the store named by $SYNCLUA_DB",
     function()
    os.execute("mkdir " .. quote(dir .. "/lib.sdlibrary"))
    store_with(dir .. "/lib.sdlibrary", ROWS)
    local out = synclua(dir, "check --db lib.sdlibrary")
    assert.equal("lib.sdlibrary/sync.db: ok", out:match("^[^\n]*"))
    local env = support.capture(("cd %s && SYNCLUA_DB=lib.sdlibrary %s check"
                                 .. " </dev/null"):format(quote(dir),
                                                          quote(EXE)))
    assert.equal("lib.sdlibrary/sync.db: ok", env:match("^[^\n]*"))
  end)

  it("exits 3 for a missing file and creates nothing", function()
    local out, err, status = synclua(dir, "check --db nowhere.db")
    assert.equal("", out)
    assert.equal("synclua check: nowhere.db: no such file\n", err)
    assert.equal(3, status)
    assert.is_false(support.exists(dir .. "/nowhere.db"))
  end)

  it("reports a file that is not a database as its finding (exit 1)",
     function()
    support.spit(dir .. "/notes.txt", "hello\n")
    local out, err, status = synclua(dir, "check --db notes.txt")
    assert.equal("notes.txt: 1 problem\n  problem: notes.txt: not an SQLite "
                 .. "database\n", out)
    assert.equal("", err)
    assert.equal(1, status)
    assert.equal("hello\n", support.slurp(dir .. "/notes.txt"))
  end)

  it("exits 2 for an unknown format", function()
    store_with(dir, ROWS)
    local _, err, status = synclua(dir, "check --format xml")
    assert.equal(2, status)
    assert.truthy(err:find("xml", 1, true))
  end)
end)

describe("synclua prune", function()
  local dir
  before_each(function() dir = support.tmpdir() end)
  after_each(function() support.rmdir(dir) end)

  it("deletes what is older than --older-than and says what it did",
     function()
    store_with(dir, ROWS)
    local out, err, status = synclua(dir, "prune --older-than 0s")
    assert.truthy(out:match("^sync%.db: deleted 3 events older than "
      .. "%d%d%d%d%-%d%d%-%d%dT[%d:.]+%+00:00 %(2025%-12%-03T10:00:00%+00:00 "
      .. "%.%. 2025%-12%-03T10:00:02%+00:00%)\n$"), out)
    assert.equal("", err)
    assert.equal(0, status)
    assert.equal("0\n", support.sqlite(dir .. "/sync.db",
                                       "SELECT count(*) FROM sync_event_log"))
  end)

  it("only counts with --dry-run and leaves every byte", function()
    store_with(dir, ROWS)
    local before = support.slurp(dir .. "/sync.db")
    local out, _, status = synclua(dir, "prune --dry-run --older-than 0s")
    assert.truthy(out:match("^sync%.db: would delete 3 events older than "),
                  out)
    assert.equal(0, status)
    assert.equal(before, support.slurp(dir .. "/sync.db"))
  end)

  it("keeps recent events with the default 7 days", function()
    store_with(dir, { { timestamp = os.date("!%Y-%m-%dT%H:%M:%S+00:00"),
                        summary = "now" } })
    local out, _, status = synclua(dir, "prune")
    assert.truthy(out:match("^sync%.db: no events older than "), out)
    assert.equal(0, status)
  end)

  it("says which events it kept because their time is unknown", function()
    store_with(dir, { { timestamp = "garbage", summary = "x" } })
    local _, err, status = synclua(dir, "prune --older-than 0s")
    assert.equal("synclua prune: warning: sync.db: kept 1 events whose "
                 .. "timestamps do not parse (see synclua check)\n", err)
    assert.equal(0, status)
  end)

  it("exits 3 for a missing store and creates nothing", function()
    local _, err, status = synclua(dir, "prune --db gone.db")
    assert.equal("synclua prune: gone.db: no such file\n", err)
    assert.equal(3, status)
    assert.is_false(support.exists(dir .. "/gone.db"))
  end)

  it("exits 2 for a duration it cannot read, before opening anything",
     function()
    local _, err, status = synclua(dir, "prune --db gone.db --older-than 3x")
    assert.equal("synclua prune: --older-than: Invalid duration: 3x (e.g. "
                 .. "'7 days', '1 hour', '90m' or '2h', or a number of seconds)\n", err)
    assert.equal(2, status)
  end)

  it("does not add synclua's indexes to a store it prunes", function()
    local db = store_with(dir, ROWS)
    local before = support.sqlite(db, "SELECT name FROM sqlite_master "
                                      .. "ORDER BY name")
    synclua(dir, "prune --older-than 0s")
    assert.equal(before, support.sqlite(db, "SELECT name FROM sqlite_master "
                                            .. "ORDER BY name"))
  end)
end)

describe("synclua --list", function()
  it("lists the bundled commands with their descriptions", function()
    local out = support.capture(quote(EXE) .. " --list")
    -- Exactly as the scripts declare themselves.
    assert.equal(table.concat({
      "check       Check that a sync.db is sound and its timestamps readable",
      "events      Export events as Spacedrive does (json, sql, markdown), or as ndjson or csv",
      "fetch       Ask peers for their logs and merge them into one timeline",
      "import      Load JSON and SQL exports of several devices into one store",
      "keygen      Make a key for serve and fetch (one per library)",
      "lost_data   Did we lose data? Dropped updates, stuck records, forced full syncs, unfinished backfills",
      "peers       Peer-score report: each peer's candidacies, scores, latency and load over time",
      "prune       Delete events older than the retention period",
      "push        Load devices' logs into a PostgreSQL fleet store",
      "report      One-page triage: each scenario's verdict and worst finding, device by device",
      "serve       Answer peers' requests for this device's event log",
      "session     One session (correlation id) across devices: a timeline with duration bars",
      "sessions    Every backfill and catch-up session: device, peer, duration, records/s, outcome",
      "simulate    Write a simulated multi-device library (one sync.db per device) from a seed",
      "timeline    Merge several devices' logs into one timeline, with their clocks corrected",
      "which_peer  Which peer was selected and why? Every candidate scored with Spacedrive's formula",
      "why_failed  Why did sync fail? Errors by kind, failed and unfinished backfill sessions, the peer's side",
      "why_slow    Why is backfill slow? Each backfill session's records/s over time, and the tell-tales",
      "" }, "\n"), out)
  end)
end)
