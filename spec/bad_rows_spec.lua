-- log:bad_rows(): the rows of a store that its cursors handed out read
-- leniently (synclua.h, sl_store_bad_rows) -- NULL in a NOT NULL column, a
-- value of the wrong storage class, ill-formed UTF-8, a name that is no
-- type, category or severity -- each counted once however many queries
-- read it, so that a command running many queries over one store can say
-- once how many it read. The stores are spec/fixtures/hostile.lua's, made
-- with the sqlite3 tool: the six good rows (ids 1-6), then the bad ones.
local support = dofile("spec/fixtures/support.lua")
local hostile = dofile("spec/fixtures/hostile.lua")
local synclua = require "synclua"

-- The columns each case's bad rows have mended, in table order.
local NULL_COLUMNS = { "timestamp", "device_id", "event_type", "category",
                       "severity", "summary" }
local ENUMS = { "event_type", "category", "severity" }

-- Every row the iterator gives; returns how many.
local function drain(iter, cur)
  local n = 0
  for _ in iter, cur do n = n + 1 end
  return n
end

-- log:bad_rows()'s four values as one table, for assert.same.
local function tally(log)
  local n, ids, columns, at_least = log:bad_rows()
  return { n = n, ids = ids, columns = columns, at_least = at_least }
end

describe("log:bad_rows()", function()
  local scratch, fx

  setup(function()
    scratch = support.tmpdir()
    fx = hostile.build(scratch)
  end)
  teardown(function() support.rmdir(scratch) end)

  local function open(name)
    return assert(synclua.open(fx.by_name[name].path))
  end

  it("is 0, two empty lists and false before any row is read, and for a "
     .. "sound store", function()
    local log <close> = open("good")
    assert.same({ n = 0, ids = {}, columns = {}, at_least = false },
                tally(log))
    assert.equal(#hostile.GOOD, drain(log:events()))
    assert.same({ n = 0, ids = {}, columns = {}, at_least = false },
                tally(log))
  end)

  it("counts each bad row once, however many queries read it", function()
    local log <close> = open("null_columns")
    -- Counting reads no row.
    assert.equal(12, log:count())
    assert.same({ n = 0, ids = {}, columns = {}, at_least = false },
                tally(log))
    -- The oldest row is a good one.
    assert.equal(1, log:first{ order = "asc" }.id)
    assert.same({ n = 0, ids = {}, columns = {}, at_least = false },
                tally(log))
    -- The newest (of the rows at 11:00:00, the lowest id, as Spacedrive
    -- orders equal timestamps): no summary.
    assert.equal(7, log:first().id)
    assert.same({ n = 1, ids = { 7 }, columns = { "summary" },
                  at_least = false }, tally(log))
    -- Every row: the six bad ones, row 7 among them once.
    local iter, cur = log:events{ order = "asc" }
    assert.equal(12, drain(iter, cur))
    local want = { n = 6, ids = { 7, 8, 9 }, columns = NULL_COLUMNS,
                   at_least = false }
    assert.same(want, tally(log))
    -- Again, three other ways: the store's tally stays, while each
    -- cursor counts its own.
    iter, cur = log:events{ event_type = "state_transition" }
    assert.equal(6, drain(iter, cur))
    assert.equal(5, (cur:bad_rows()))
    assert.same(want, tally(log))
    assert.equal(12, drain(log:events{ render = "ndjson" }))
    assert.equal(12, (log:fingerprint()))
    assert.equal(8, log:first{ order = "asc", offset = 7 }.id)
    assert.same(want, tally(log))
  end)

  it("gives the smallest ids, ascending, whatever order the rows came in",
     function()
    local log <close> = open("unknown_enums")
    -- Newest first (all four at 11:00:00: ascending id), past two: rows 9
    -- (category 'misc') and 10 ('' category, ' info', 'StateTransition').
    assert.equal(2, drain(log:events{ limit = 2, offset = 2 }))
    assert.same({ n = 2, ids = { 9, 10 }, columns = ENUMS,
                  at_least = false }, tally(log))
    -- Then row 8 ('WARN') alone, past an offset.
    assert.equal(8, log:first{ offset = 1 }.id)
    assert.same({ n = 3, ids = { 8, 9, 10 }, columns = ENUMS,
                  at_least = false }, tally(log))
    -- Then the whole store, oldest first: row 7 ('Exploded') joins.
    assert.equal(10, drain(log:events{ order = "asc" }))
    assert.same({ n = 4, ids = { 7, 8, 9 }, columns = ENUMS,
                  at_least = false }, tally(log))
  end)

  it("keeps the union of the columns of distinct rows", function()
    local log <close> = open("wrong_types")
    -- Row 7: text in both counts; row 8: a real in both.
    assert.equal(2, drain(log:events{ order = "asc", offset = 6,
                                      limit = 2 }))
    assert.same({ n = 2, ids = { 7, 8 },
                  columns = { "record_count", "duration_ms" },
                  at_least = false }, tally(log))
    -- Rows 9 (blobs) and 10 (a blob device and type) add theirs.
    assert.equal(10, drain(log:events()))
    assert.same({ n = 4, ids = { 7, 8, 9 },
                  columns = { "device_id", "event_type", "summary",
                              "details", "correlation_id", "model_types",
                              "record_count", "duration_ms" },
                  at_least = false }, tally(log))
  end)

  it("counts the rows a merge reads for the store they come from",
     function()
    local a <close> = open("null_columns")
    local b <close> = open("unknown_enums")
    local _, ca = a:events{ order = "asc" }
    local _, cb = b:events{ order = "asc" }
    local iter, m = synclua.merge({ ca, cb })
    assert.equal(12 + 10, drain(iter, m))
    -- The merge counts every row it handed out; each store its own.
    assert.equal(10, (m:bad_rows()))
    assert.same({ n = 6, ids = { 7, 8, 9 }, columns = NULL_COLUMNS,
                  at_least = false }, tally(a))
    assert.same({ n = 4, ids = { 7, 8, 9 }, columns = ENUMS,
                  at_least = false }, tally(b))
    -- Reading the stores again, alone or merged, adds nothing.
    assert.equal(12, drain(a:events()))
    _, ca = a:events()
    _, cb = b:events()
    assert.equal(22, drain(synclua.merge({ ca, cb }, { order = "desc" })))
    assert.same({ n = 6, ids = { 7, 8, 9 }, columns = NULL_COLUMNS,
                  at_least = false }, tally(a))
    assert.same({ n = 4, ids = { 7, 8, 9 }, columns = ENUMS,
                  at_least = false }, tally(b))
  end)

  it("is kept per handle: another handle on the same file has its own",
     function()
    local log <close> = open("invalid_utf8")
    local again <close> = open("invalid_utf8")
    assert.equal(14, drain(log:events()))
    assert.same({ n = 8, ids = { 7, 8, 9 },
                  columns = { "device_id", "summary", "details",
                              "correlation_id", "peer_device_id",
                              "model_types" },
                  at_least = false }, tally(log))
    assert.same({ n = 0, ids = {}, columns = {}, at_least = false },
                tally(again))
  end)

  it("raises on a closed store, as every method does", function()
    local log = open("null_columns")
    log:close()
    assert.equal("attempt to use a closed synclua.Store",
                 support.error_of(function() return log:bad_rows() end))
  end)
end)

describe("log:bad_rows() past 65,536 rows", function()
  local dir
  setup(function()
    dir = support.tmpdir()
    -- 65,540 rows a second apart (ids in time order), every summary NULL.
    local db = dir .. "/sync.db"
    local out = support.sqlite(db, support.DDL:gsub(" NOT NULL", "") .. [[

CREATE INDEX idx_sync_event_log_timestamp ON sync_event_log(timestamp);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n
                        WHERE i < 65540)
INSERT INTO sync_event_log (timestamp, device_id, event_type, category,
  severity, summary)
SELECT printf('2025-12-02T%02d:%02d:%02d+00:00', i / 3600, i / 60 % 60,
              i % 60), ']] .. hostile.DEVICE .. [[', 'state_transition',
       'lifecycle', 'info', NULL FROM n;]])
    assert(out == "", out)
  end)
  teardown(function() support.rmdir(dir) end)

  it("says the count is a lower bound once it keeps no more ids", function()
    local log <close> = assert(synclua.open(dir .. "/sync.db"))
    -- The newest 65,536 rows (ids 65,540 down to 5): exact.
    assert.equal(65536, (log:fingerprint{ limit = 65536 }))
    assert.same({ n = 65536, ids = { 5, 6, 7 }, columns = { "summary" },
                  at_least = false }, tally(log))
    -- Every row: four more, not kept; the smallest ids stay exact.
    assert.equal(65540, (log:fingerprint()))
    assert.same({ n = 65536, ids = { 1, 2, 3 }, columns = { "summary" },
                  at_least = true }, tally(log))
  end)
end)
