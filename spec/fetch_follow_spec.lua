-- synclua.fetch_follow: a real `synclua serve` over loopback, a writer
-- process committing rows to the store it serves, and a follower in this
-- process; the server killed (SIGKILL) and started again on its port
-- mid-stream, the writer writing on: the follower's store holds each of
-- the writer's rows once, in its order, and the status lines say what
-- happened.
local support = dofile("spec/fixtures/support.lua")
local synclua = require "synclua"
local quote = support.quote

local DEV_A = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
local DEV_ME = "c0ffee00-1234-4567-89ab-cdef01234567"

-- A writer process: `n` rows "W 0" ... committed one by one, `every`
-- seconds apart, by one synclua process that holds the file open
-- throughout (as Spacedrive does); dir/written appears when it is done.
local function writer(dir, db, n, every)
  support.spit(dir .. "/w.lua", ([[
local synclua = require "synclua"
local log = assert(synclua.open(%q, { mode = "w", create = false }))
for i = 0, %d do
  assert(log:insert({ { device_id = %q, event_type = "state_transition",
    summary = "W " .. i,
    timestamp = string.format("2025-12-03T11:00:%%02dZ", i %% 60) } }))
  os.execute("sleep %s")
end
log:close()
io.open(%q, "w"):close()
]]):format(db, n - 1, DEV_A, every, dir .. "/written"))
  os.execute(("%s %s >%s 2>&1 &"):format(quote(support.EXE),
    quote(dir .. "/w.lua"), quote(dir .. "/w.log")))
end

-- The summaries of a store's rows in id order.
local function summaries(db)
  local out = {}
  for s in support.sqlite(db, "SELECT summary FROM sync_event_log ORDER BY "
                              .. "id"):gmatch("[^\n]+") do
    out[#out + 1] = s
  end
  return out
end

local function rows(db)
  return tonumber(support.sqlite(db, "SELECT count(*) FROM sync_event_log"))
end

-- A scratch folder with served.db (DEV_A's rows "S 0" and "S 1") and
-- the library's key: the folder.
local function served()
  local dir = support.tmpdir()
  local log = assert(synclua.open(dir .. "/served.db", { mode = "w",
                                                        device_id = DEV_A }))
  assert(log:insert({
    { event_type = "state_transition", summary = "S 0",
      timestamp = "2025-12-03T10:00:00Z" },
    { event_type = "state_transition", summary = "S 1",
      timestamp = "2025-12-03T10:00:01Z" } }))
  log:close()
  assert(synclua.write_key(dir .. "/key"))
  return dir
end

describe("synclua.fetch_follow", function()
  local dir
  before_each(function() dir = served() end)
  after_each(function()
    support.stop_children()
    support.rmdir(dir)
  end)

  local function follow(address, to, opts)
    local key = assert(synclua.read_key(dir .. "/key"))
    local args = {
      peers = { address }, stores = { to }, key = key,
      library_id = synclua.library_id(key), requesting_device = DEV_ME,
      event_types = { "state_transition" }, limit = 10, heartbeat = 0.2,
    }
    for k, v in pairs(opts or {}) do args[k] = v end
    return synclua.fetch_follow(args)
  end

  -- Take the lines until one satisfies `want`, at most `limit` seconds.
  local function await(f, seen, want, limit)
    local deadline = os.time() + (limit or 10)
    while os.time() <= deadline do
      for _, line in ipairs(f:lines()) do seen[#seen + 1] = line end
      for _, line in ipairs(seen) do
        if want(line) then return line end
      end
      f:wait(0.1)
    end
    error("no such line in:\n" .. table.concat(seen, "\n"))
  end

  it("keeps every row once across a server killed and restarted", function()
    local srv = support.serve(dir, "served.db", "--device " .. DEV_A)
    local address = srv.address
    local to = assert(synclua.open(dir .. "/to.db", { mode = "w" }))
    local f <close> = assert(follow(address, to))
    local seen = {}
    assert.equal(("peer %s: following device %s: 2 events, up to event 2")
                 :format(address, DEV_A),
                 await(f, seen, function(l) return l:find("following") end))
    writer(dir, dir .. "/served.db", 40, 0.05)
    support.sleep(0.5)
    srv:signal("KILL")
    srv:wait()
    support.sleep(0.3)    -- rows written while no one serves
    local again = support.spawn(dir, ("serve --db served.db --key-file key "
      .. "--listen %s --device %s"):format(address, DEV_A))
    assert.truthy(again:line():find(" on " .. address, 1, true))
    support.wait_for(function() return support.exists(dir .. "/written") end,
                     "the writer", 20)
    local resumed = await(f, seen, function(l)
      return l:find(": resumed after event ", 1, true) end)
    local ok = pcall(support.wait_for,
      function() return rows(dir .. "/to.db") == 42 end, "42 rows", 10)
    for _, line in ipairs(f:lines()) do seen[#seen + 1] = line end
    assert(ok, rows(dir .. "/to.db") .. " rows; lines:\n"
               .. table.concat(seen, "\n"))
    local peers = f:stop()
    local want = { "S 0", "S 1" }
    for i = 0, 39 do want[#want + 1] = "W " .. i end
    assert.same(want, summaries(dir .. "/to.db"))
    assert.equal(1, #peers)
    local p = peers[1]
    assert.same({ address, "stopped", true, DEV_A, 42, 42 },
                { p.peer, p.state, p.ok, p.device, p.received, p.inserted })
    assert.equal(tonumber(support.sqlite(dir .. "/served.db",
      "SELECT max(id) FROM sync_event_log WHERE summary = 'W 39'")), p.mark)
    assert.truthy(p.reconnects >= 1)
    -- Lost once, then the lines of the reconnect, then resumed after the
    -- mark it had when the server died.
    local lost = seen[2]
    assert.truthy(lost:find(("^peer %s: connection lost %%(.*%%), "
      .. "reconnecting in 0%%.25 s$"):format(address:gsub("%.", "%%."))),
      lost)
    assert.truthy(resumed:match("resumed after event (%d+)$"))
    local mark = tonumber(resumed:match("(%d+)$"))
    assert.truthy(mark >= 2 and mark < p.mark)
    to:close()
  end)

  it("stops within 100 ms and gives the store back", function()
    local srv = support.serve(dir, "served.db", "--device " .. DEV_A)
    local to = assert(synclua.open(dir .. "/to.db", { mode = "w" }))
    local f = assert(follow(srv.address, to, { limit = 1 }))
    local seen = {}
    await(f, seen, function(l) return l:find("following") end)
    local t0 = synclua.monotonic()
    local peers = f:stop()
    local took = synclua.monotonic() - t0
    assert.truthy(took < 150, took)
    assert.same({ "stopped", 1, 1 }, { peers[1].state, peers[1].received,
                                      peers[1].inserted })
    assert.same({ "S 1" }, summaries(dir .. "/to.db"))
    assert.equal(1, to:count())
    assert.has_error(function() f:lines() end,
                     "attempt to use a stopped synclua.Follow")
    to:close()
  end)

  it("does not retry a wrong key, and says so once", function()
    local srv = support.serve(dir, "served.db", "--device " .. DEV_A)
    assert(synclua.write_key(dir .. "/other.key"))
    local to = assert(synclua.open(dir .. "/to.db", { mode = "w" }))
    local f <close> = assert(follow(srv.address, to,
      { key = assert(synclua.read_key(dir .. "/other.key")) }))
    local seen = {}
    await(f, seen, function(l) return l:find("stopped") end)
    assert.is_false(f:wait(0.5))
    local p = f:peers()[1]
    assert.same({ "failed", false, "invalid", 0 },
                { p.state, p.ok, p.code, p.reconnects })
    assert.same({ ("peer %s: stopped: the peer does not hold this library's "
                   .. "key (its handshake proof does not verify)")
                  :format(srv.address) }, seen)
    to:close()
  end)

  it("starts over when the served store is replaced: the new file's rows "
     .. "come, and what is committed to it", function()
    -- Ten rows more than the new file will have, and the server's own
    -- served-request events: the client's mark is past the new file's ids
    -- (a new file already past it is resumed in, a limit the README says).
    local old = assert(synclua.open(dir .. "/served.db", { mode = "w",
                                                          device_id = DEV_A }))
    local more = {}
    for i = 0, 9 do
      more[#more + 1] = { event_type = "state_transition", summary = "X " .. i,
        timestamp = ("2025-12-03T11:00:%02dZ"):format(i) }
    end
    assert(old:insert(more))
    old:close()
    local srv = support.serve(dir, "served.db", "--device " .. DEV_A)
    local to = assert(synclua.open(dir .. "/to.db", { mode = "w" }))
    local f <close> = assert(follow(srv.address, to, { limit = 100 }))
    local seen = {}
    await(f, seen, function(l) return l:find("following") end)
    -- A restore: a smaller file moved into place.
    local new = assert(synclua.open(dir .. "/restore.db", { mode = "w",
                                                           device_id = DEV_A }))
    assert(new:insert({ { event_type = "state_transition", summary = "R 0",
                          timestamp = "2025-12-03T12:00:00Z" } }))
    new:close()
    assert(os.rename(dir .. "/restore.db", dir .. "/served.db"))
    await(f, seen, function(l) return l:find("started over", 1, true) end)
    local log = assert(synclua.open(dir .. "/served.db", { mode = "w",
                                                          device_id = DEV_A }))
    assert(log:insert({ { event_type = "state_transition", summary = "R 1",
                          timestamp = "2025-12-03T12:00:01Z" } }))
    log:close()
    support.wait_for(function() return rows(dir .. "/to.db") == 14 end,
                     "14 rows")
    f:stop()
    local want = { "S 0", "S 1" }
    for i = 0, 9 do want[#want + 1] = "X " .. i end
    want[13], want[14] = "R 0", "R 1"
    assert.same(want, summaries(dir .. "/to.db"))
    -- From 12 or more (the server's own events count too) to a few.
    local from, to_ = table.concat(seen, "\n"):match(("peer %s: its log "
      .. "started over %%(its mark went back from (%%d+) to (%%d+)%%): taking "
      .. "it from there"):format(srv.address:gsub("%.", "%%.")))
    assert.truthy(from and tonumber(from) >= 12 and tonumber(to_) < 12,
                  table.concat(seen, "\n"))
    to:close()
  end)

  it("checks its arguments", function()
    local to = assert(synclua.open(dir .. "/to.db", { mode = "w" }))
    local key = assert(synclua.read_key(dir .. "/key"))
    local base = { peers = { "127.0.0.1:1" }, stores = { to }, key = key,
                   library_id = synclua.library_id(key),
                   requesting_device = DEV_ME }
    local function with(extra)
      local t = {}
      for k, v in pairs(base) do t[k] = v end
      for k, v in pairs(extra) do t[k] = v end
      return t
    end
    assert.has_error(function()
      synclua.fetch_follow(with { heartbeat = 0.05 })
    end, "bad argument #1 to 'fetch_follow' (heartbeat: seconds from 0.1 to "
         .. "60 expected)")
    assert.has_error(function()
      synclua.fetch_follow(with { before = 1 })
    end, "bad argument #1 to 'fetch_follow' (unknown option 'before')")
    assert.has_error(function()
      synclua.fetch_follow(with { stores = {} })
    end, "bad argument #1 to 'fetch_follow' (stores: one per peer needed)")
    to:close()
  end)
end)

describe("synclua fetch --follow", function()
  local dir
  before_each(function() dir = served() end)
  after_each(function()
    support.stop_children()
    support.rmdir(dir)
  end)

  -- The text line of a row of DEV_A at 11:00:SS (10:00:SS for "S" rows).
  local function line(summary)
    local n = tonumber(summary:match("%d+"))
    return ("  2025-12-03 %s:00:%02d.000  aaaaaaaa  info     state_transition"
      .. "            %s"):format(summary:sub(1, 1) == "S" and "10" or "11",
                                  n, summary)
  end

  it("prints the answer, then each row the peer commits once, across the "
     .. "peer killed and started again; Ctrl-C ends it with status 0",
     function()
    local srv = support.serve(dir, "served.db", "--device " .. DEV_A)
    local address = srv.address
    local child = support.follower(dir, ("fetch --peer %s --key-file key "
      .. "--event-type state_transition --follow --heartbeat 0.2 "
      .. "--window 0.2"):format(address))
    local got, rows = {}, {}
    -- Lines until `want` rows were printed (stderr's come in between).
    local function until_rows(want)
      while #rows < want do
        local l = child:line()
        assert(l, "the follower ended:\n" .. table.concat(got, "\n"))
        got[#got + 1] = l
        if l:sub(1, 2) == "  " then rows[#rows + 1] = l end
      end
    end
    until_rows(2)
    writer(dir, dir .. "/served.db", 30, 0.05)
    support.sleep(0.4)
    srv:signal("KILL")
    srv:wait()
    support.sleep(0.3)
    local again = support.spawn(dir, ("serve --db served.db --key-file key "
      .. "--listen %s --device %s"):format(address, DEV_A))
    assert.truthy(again:line():find(" on " .. address, 1, true))
    until_rows(32)
    support.wait_for(function() return child:catches(2) end, "its handler")
    child:signal("INT")
    local rest, status = child:wait()
    assert.equal(0, status)
    for l in rest:gmatch("[^\n]+") do
      got[#got + 1] = l
      if l:sub(1, 2) == "  " then rows[#rows + 1] = l end
    end
    local want = { line("S 0"), line("S 1") }
    for i = 0, 29 do want[#want + 1] = line("W " .. i) end
    assert.same(want, rows)
    local text = table.concat(got, "\n")
    local first
    for _, l in ipairs(got) do
      if not l:find("^synclua fetch: ") then first = first or l end
    end
    assert.equal("# window: all events (UTC)", first)
    assert.truthy(text:find(("synclua fetch: %s (device %s): 2 events")
      :format(address, DEV_A), 1, true))
    assert.truthy(text:find(("synclua fetch: peer %s: connection lost (")
      :format(address), 1, true))
    assert.truthy(text:find(("synclua fetch: peer %s: resumed after event ")
      :format(address), 1, true))
  end)

  it("ends with status 3 when no peer will stream again", function()
    local srv = support.serve(dir, "served.db", "--device " .. DEV_A)
    assert(synclua.write_key(dir .. "/other.key"))
    local out, err, status = support.synclua(dir, ("fetch --peer %s "
      .. "--key-file other.key --follow --heartbeat 0.2"):format(srv.address))
    assert.equal("", out)
    assert.equal(3, status)
    assert.equal(("synclua fetch: %s: failed: the peer does not hold this "
      .. "library's key (its handshake proof does not verify)\n"
      .. "synclua fetch: peer %s: stopped: the peer does not hold this "
      .. "library's key (its handshake proof does not verify)\n"
      .. "synclua fetch: no peer streams any longer\n"):format(srv.address,
      srv.address), err)
  end)

  it("refuses formats that end and -o", function()
    local out, err, status = support.synclua(dir, "fetch --peer 127.0.0.1:1 "
      .. "--key-file key --follow -f json")
    assert.equal("", out)
    assert.equal("synclua fetch: --follow streams as it goes: -f text, "
      .. "ndjson or csv (json is written whole)\n", err)
    assert.equal(2, status)
    out, err, status = support.synclua(dir, "fetch --peer 127.0.0.1:1 "
      .. "--key-file key --follow -o x")
    assert.equal("synclua fetch: --follow writes to standard output: "
      .. "redirect it rather than -o\n", err)
    assert.equal(2, status)
  end)
end)
