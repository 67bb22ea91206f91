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

-- A follower: `synclua ARGS` in dir (support.spawn), killed after 30 s if
-- it still runs, so that a follower that never prints fails its test
-- (its pipe ends) rather than hanging the suite.
local function follower(dir, args)
  local child = support.spawn(dir, args)
  os.execute(("(sleep 30; grep -q -- --follow /proc/%d/cmdline && kill -KILL"
    .. " %d) >/dev/null 2>&1 &"):format(child.pid, child.pid))
  return child
end

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
    support.wait_for(function() return child:catches(2) end, "its handler")
    child:signal("INT")
    local rest, status = child:wait()
    assert.equal("", rest)
    assert.equal(0, status)
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
    child:signal("INT")
    local rest, status = child:wait()
    assert.equal("", rest)
    assert.equal(0, status)
  end)

  it("refuses a format that ends after its last row, and -o", function()
    local out, err, status = support.synclua(dir,
      "events --db sync.db --follow")
    assert.equal("", out)
    assert.equal("synclua events: --follow streams rows as they come: -f "
      .. "ndjson or -f csv (json ends after its last row)\n", err)
    assert.equal(2, status)
    out, err, status = support.synclua(dir,
      "events --db sync.db --follow -f markdown")
    assert.equal("synclua events: --follow streams rows as they come: -f "
      .. "ndjson or -f csv (markdown ends after its last row)\n", err)
    assert.equal(2, status)
    out, err, status = support.synclua(dir,
      "events --db sync.db --follow -f ndjson -o " .. quote(dir .. "/x"))
    assert.equal("synclua events: --follow writes to standard output: "
      .. "redirect it rather than -o\n", err)
    assert.equal(2, status)
    assert.is_nil(support.slurp(dir .. "/x"))
  end)
end)
