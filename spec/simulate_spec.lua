-- synclua simulate and the demo library: what the simulator writes (one
-- sync.db per device, the manifest), that it is deterministic, that each
-- planted fault shows in the rows it writes, that sessions and clocks
-- line up across devices, its argument errors, and the demo library that
-- report commands fall back to. Libraries stay small (3 devices, 6 hours).
local support = dofile("spec/fixtures/support.lua")
local synclua = require "synclua"
local quote = support.quote


local SEC = 1000000000
local DAY = 86400 * SEC
local FAULTS = "slow_peer, buffer_overflow, stuck_dependencies, offline, "
               .. "failed_session, peer_drop"

-- Run `synclua ARGS` in `dir` with extra environment `env`.
local synclua_run = support.synclua

-- Simulate into dir/NAME; returns the manifest.
local function simulate(dir, name, args)
  local out, err, status = synclua_run(dir, "simulate --out " .. name .. " "
                                       .. args)
  assert(status == 0, "simulate failed: " .. tostring(err) .. tostring(out))
  return synclua.json_decode(support.slurp(dir .. "/" .. name
                                           .. "/devices.json"))
end

-- Every event of a store, oldest first.
local function rows(path)
  local log <close> = assert(synclua.open(path))
  local list = {}
  for ev in log:events{ order = "asc" } do list[#list + 1] = ev end
  return list
end

-- Every column of every row, as text: what "the same rows" means.
local COLUMNS = { "id", "timestamp", "device_id", "event_type", "category",
                  "severity", "summary", "details_json", "correlation_id",
                  "peer_device_id", "record_count", "duration_ms" }
local function dump(path)
  local log <close> = assert(synclua.open(path))
  local lines = {}
  for ev in log:events{ order = "asc", raw = true } do
    local cells = {}
    for i, c in ipairs(COLUMNS) do cells[i] = tostring(ev[c]) end
    cells[#cells + 1] = table.concat(ev.model_types or {}, ",")
    lines[#lines + 1] = table.concat(cells, "|")
  end
  return table.concat(lines, "\n")
end

local function where(list, pred)
  local out = {}
  for _, ev in ipairs(list) do
    if pred(ev) then out[#out + 1] = ev end
  end
  return out
end

-- The library the fault tests share: every fault, 3 devices, 6 hours.
local scratch, lib, manifest, by_name
local function library()
  if not lib then
    scratch = support.tmpdir()
    manifest = simulate(scratch, "lib",
                        "--devices 3 --hours 6 --seed 7 --faults all")
    lib = scratch .. "/lib"
    by_name = {}
    for _, d in ipairs(manifest.devices) do
      d.rows = rows(lib .. "/" .. d.path)
      by_name[d.name] = d
    end
  end
  return manifest, by_name
end

local function planted(fault)
  for _, p in ipairs(library().planted) do
    if p.fault == fault then return p end
  end
  error("no planted " .. fault)
end

teardown(function() support.rmdir(scratch) end)

describe("synclua simulate", function()
  it("writes one sync.db per device, in a folder named by the device, and "
     .. "devices.json", function()
    local m, devs = library()
    assert.equal("desktop devices.json laptop phone", support.listing(lib))
    assert.same({ "desktop", "laptop", "phone" },
      { m.devices[1].name, m.devices[2].name, m.devices[3].name })
    for _, d in ipairs(m.devices) do
      assert.equal(d.name .. "/sync.db", d.path)
      assert.matches("^%x+%-%x+%-4%x+%-[89ab]%x+%-%x+$", d.device_id)
      assert.equal(36, #d.device_id)
      assert.equal(#devs[d.name].rows, d.events)
      assert.is_true(d.events > 50)
      for _, ev in ipairs(devs[d.name].rows) do
        assert.equal(d.device_id, ev.device_id)
      end
    end
    assert.equal(7, m.seed)
    assert.equal(6, m.hours)
    assert.equal("2025-12-01T00:00:00+00:00", m.start)
    assert.equal("2025-12-01T06:00:00+00:00", m["end"])
    assert.same({ "slow_peer", "buffer_overflow", "stuck_dependencies",
                  "offline", "failed_session", "peer_drop" }, m.faults)
    assert.equal(3, #m.links)
  end)

  it("plants every fault asked for, and by default slow_peer, "
     .. "buffer_overflow and failed_session", function()
    local got = {}
    for _, p in ipairs(library().planted) do got[#got + 1] = p.fault end
    table.sort(got)
    assert.same({ "buffer_overflow", "failed_session", "offline",
                  "peer_drop", "slow_peer", "stuck_dependencies" }, got)
    local dir = support.tmpdir()
    finally(function() support.rmdir(dir) end)
    local m = simulate(dir, "d", "--devices 2 --hours 3")
    got = {}
    for _, p in ipairs(m.planted) do got[#got + 1] = p.fault end
    table.sort(got)
    assert.same({ "buffer_overflow", "failed_session", "slow_peer" }, got)
    assert.same({ "slow_peer", "buffer_overflow", "failed_session" },
                m.faults)
    assert.equal("desktop devices.json laptop", support.listing(dir .. "/d"))
  end)

  it("writes the same rows for the same arguments, and others for another "
     .. "seed", function()
    local dir = support.tmpdir()
    finally(function() support.rmdir(dir) end)
    local args = "--devices 3 --hours 4 --start 2025-12-01T09:00:00Z --seed "
    local a = simulate(dir, "a", args .. "11")
    local b = simulate(dir, "b", args .. "11")
    local c = simulate(dir, "c", args .. "12")
    assert.equal(support.slurp(dir .. "/a/devices.json"),
                 support.slurp(dir .. "/b/devices.json"))
    for i, d in ipairs(a.devices) do
      local rows_a = dump(dir .. "/a/" .. d.path)
      assert.is_true(#rows_a > 0)
      assert.equal(rows_a, dump(dir .. "/b/" .. d.path))
      assert.not_equal(rows_a, dump(dir .. "/c/" .. c.devices[i].path))
      assert.not_equal(d.device_id, c.devices[i].device_id)
    end
  end)

  it("prints where it wrote each device and what it planted", function()
    local dir = support.tmpdir()
    finally(function() support.rmdir(dir) end)
    local out, err, status = synclua_run(dir, "simulate --out x --devices 2 "
      .. "--hours 2 --seed 5 --faults none --start 2025-06-01T12:00:00Z")
    assert.equal(0, status)
    assert.equal("", err)
    local m = synclua.json_decode(support.slurp(dir .. "/x/devices.json"))
    local expected = {
      "2 devices, 2 hours from 2025-06-01T12:00:00+00:00, seed 5, faults: "
        .. "none" }
    for _, d in ipairs(m.devices) do
      expected[#expected + 1] = ("  x/%-15s  %s  clock %+.3f s  %6d events")
        :format(d.path, d.device_id, d.clock_offset_ms / 1000, d.events)
    end
    expected[#expected + 1] = "  x/devices.json"
    expected[#expected + 1] = ""
    assert.equal(table.concat(expected, "\n"), out)
  end)

  it("stamps each device's events with the true time plus its clock "
     .. "offset", function()
    local m, devs = library()
    local start = synclua.parse_rfc3339(m.start)
    local stop = synclua.parse_rfc3339(m["end"])
    local pairs_seen = 0
    for i, a in ipairs(m.devices) do
      assert.is_true(a.clock_offset_ms >= -5000 and a.clock_offset_ms <= 5000)
      for j, b in ipairs(m.devices) do
        if i ~= j then
          -- Both ends log a connection at the same true instant.
          local function instants(x, y)
            local t = {}
            for _, ev in ipairs(devs[x.name].rows) do
              if (ev.event_type == "peer_connected"
                  or ev.event_type == "peer_disconnected")
                 and ev.peer_device_id == y.device_id then
                t[#t + 1] = ev.event_type .. " "
                  .. (ev.instant - x.clock_offset_ms * 1000000)
              end
            end
            return t
          end
          local ab, ba = instants(a, b), instants(b, a)
          assert.same(ab, ba)
          pairs_seen = pairs_seen + #ab
        end
      end
      for _, ev in ipairs(devs[a.name].rows) do
        local true_time = ev.instant - a.clock_offset_ms * 1000000
        assert.is_true(true_time >= start and true_time <= stop + 3600 * SEC,
                       ev.timestamp)
      end
    end
    assert.is_true(pairs_seen >= 4)
    assert.is_true(m.devices[1].clock_offset_ms ~= m.devices[2].clock_offset_ms)
  end)

  it("logs one backfill session's correlation id on the requester and the "
     .. "responder, with counts that agree", function()
    local m, devs = library()
    local name_of = {}
    for _, d in ipairs(m.devices) do name_of[d.device_id] = d.name end
    local sessions = 0
    for _, r in ipairs(m.devices) do
      for _, sel in ipairs(where(devs[r.name].rows, function(ev)
        return ev.event_type == "backfill_session_started"
               and ev.peer_device_id end)) do
        sessions = sessions + 1
        local id, p = sel.correlation_id, devs[name_of[sel.peer_device_id]]
        local mine = where(devs[r.name].rows, function(ev)
          return ev.correlation_id == id end)
        local theirs = where(p.rows, function(ev)
          return ev.correlation_id == id end)
        local kinds = {}
        for _, ev in ipairs(theirs) do kinds[ev.event_type] = true end
        assert.is_true(kinds.backfill_request_received)
        -- only the two devices involved carry it
        for _, d in ipairs(m.devices) do
          if d.name ~= r.name and d.name ~= p.name then
            assert.same({}, where(devs[d.name].rows, function(ev)
              return ev.correlation_id == id end))
          end
        end
        local done = where(mine, function(ev)
          return ev.event_type == "backfill_session_completed" end)[1]
        if done then
          local sent, batched, requests = 0, 0, 0
          for _, ev in ipairs(theirs) do
            if ev.event_type == "backfill_response_sent" then
              sent = sent + ev.record_count
              assert.equal(r.device_id, ev.peer_device_id)
            end
          end
          for _, ev in ipairs(mine) do
            if ev.event_type == "batch_ingestion" then
              batched = batched + ev.record_count
              assert.equal(p.device_id, ev.peer_device_id)
            elseif ev.event_type == "backfill_request_sent" then
              requests = requests + 1
            end
          end
          assert.equal(done.record_count, sent)
          assert.equal(done.record_count, batched)
          assert.equal(requests, #where(theirs, function(ev)
            return ev.event_type == "backfill_request_received" end))
          assert.equal(mine[#mine].id, done.id)   -- batches come before it
        end
      end
    end
    assert.equal(4, sessions)
  end)

  it("selects the peer by Spacedrive's score and logs every candidate",
     function()
    local _, devs = library()
    local n = 0
    for _, d in pairs(devs) do
      for _, ev in ipairs(d.rows) do
        if ev.event_type == "backfill_session_started" and ev.peer_device_id
        then
          local cands = ev.details.candidates
          local best = synclua.select_peer(cands)
          assert.is_true(cands[best].selected)
          assert.equal(cands[best].device_id, ev.peer_device_id)
          assert.equal(("Selected peer %s from %d candidates")
            :format(ev.peer_device_id, #cands), ev.summary)
          for _, c in ipairs(cands) do
            assert.equal(synclua.peer_score(c), c.score)
          end
          n = n + 1
        end
      end
    end
    assert.equal(4, n)
  end)

  it("logs no warning or error with --faults none", function()
    local dir = support.tmpdir()
    finally(function() support.rmdir(dir) end)
    local m = simulate(dir, "clean",
                       "--devices 3 --hours 6 --seed 7 --faults none "
                       .. "--start 2025-12-01T09:00:00Z")
    assert.equal(0, #m.planted)
    assert.equal(0, #m.faults)
    for _, d in ipairs(m.devices) do
      local log <close> = assert(synclua.open(dir .. "/clean/" .. d.path))
      assert.equal(0, log:count{ severity = "warning+" })
      assert.is_true(log:count{} > 0)
    end
  end)
end)

describe("synclua simulate's faults", function()
  it("slow_peer: records/s fall batch after batch in one session",
     function()
    local p = planted("slow_peer")
    local _, devs = library()
    local batches = where(devs[p.device].rows, function(ev)
      return ev.correlation_id == p.session
             and ev.event_type == "batch_ingestion" end)
    assert.is_true(#batches >= 15)
    local function rate(ev) return ev.record_count / ev.duration_ms end
    -- size-triggered batches (10,000 records or more) take longer and longer
    local full = where(batches, function(ev)
      return ev.record_count >= 10000 end)
    assert.is_true(#full >= 2)
    assert.is_true(full[#full].duration_ms > 1.5 * full[1].duration_ms)
    -- then 30 s batches hold fewer and fewer records
    local timed = where(batches, function(ev)
      return ev.duration_ms == 30000 end)
    assert.is_true(#timed >= 3)
    assert.is_true(timed[#timed].record_count < timed[1].record_count)
    assert.is_true(rate(batches[1]) > 4 * rate(timed[#timed]))
    assert.equal(by_name[p.peer].device_id, batches[1].peer_device_id)
  end)

  it("buffer_overflow: an error at the backfill -> catch-up transition",
     function()
    local p = planted("buffer_overflow")
    local _, devs = library()
    local rows_ = devs[p.device].rows
    local errs = where(rows_, function(ev)
      return ev.summary:match("^Buffer overflow") end)
    assert.equal(1, #errs)
    local ev = errs[1]
    assert.is_true(p.dropped > 0)
    assert.equal(("Buffer overflow: %d updates dropped during backfill")
      :format(p.dropped), ev.summary)
    assert.equal("sync_error", ev.event_type)
    assert.equal("error", ev.severity)
    assert.equal(('{"dropped_count":%d,"max_buffer_size":100000,"phase":'
      .. '"backfill_to_catchup_transition"}'):format(p.dropped),
      ev.details_json)
    local before = rows_[ev.id - 1]
    assert.equal(("Backfilling { peer: %s, progress: 100 } → CatchingUp { "
      .. "buffered_count: 100000 }"):format(by_name[p.peer].device_id),
      before.summary)
    assert.equal(ev.timestamp, before.timestamp)
    assert.equal("backfill_session_completed", rows_[ev.id - 2].event_type)
    assert.equal(p.session, rows_[ev.id - 2].correlation_id)
  end)

  it("stuck_dependencies: a warning at the ready transition", function()
    local p = planted("stuck_dependencies")
    local _, devs = library()
    local ev = where(devs[p.device].rows, function(e)
      return e.summary:match("^Stuck dependencies") end)
    assert.equal(1, #ev)
    ev = ev[1]
    assert.equal(("Stuck dependencies: %d records waiting for %d missing "
      .. "parents"):format(p.total_waiting_updates, p.total_dependencies),
      ev.summary)
    assert.equal("warning", ev.severity)
    assert.equal(('{"phase":"backfill_to_ready_transition",'
      .. '"total_dependencies":%d,"total_waiting_updates":%d}')
      :format(p.total_dependencies, p.total_waiting_updates),
      ev.details_json)
    local next_ = where(devs[p.device].rows, function(e)
      return e.id > ev.id and e.event_type == "state_transition" end)[1]
    assert.equal("CatchingUp { buffered_count: 0 } → Ready", next_.summary)
    assert.equal("buffered updates processed", next_.details.reason)
  end)

  it("offline: the watermark's real age, then a full backfill", function()
    local p = planted("offline")
    local m, devs = library()
    local d = devs[p.device]
    local ev = where(d.rows, function(e)
      return e.summary:match("^Watermark too old") end)
    assert.equal(1, #ev)
    ev = ev[1]
    local true_time = ev.instant - d.clock_offset_ms * 1000000
    local age = (true_time - synclua.parse_rfc3339(p.watermark)) // DAY
    assert.equal(p.age_days, age)
    assert.is_true(age > 25)
    assert.equal(("Watermark too old: %d days (threshold: 25 days), forcing "
      .. "full sync"):format(age), ev.summary)
    assert.equal("warning", ev.severity)
    assert.equal(('{"action":"force_full_sync","threshold_days":25,'
      .. '"watermark_age_days":%d}'):format(age), ev.details_json)
    assert.equal(by_name[p.peer].device_id, ev.peer_device_id)
    assert.equal("backfill_session_started", d.rows[ev.id + 1].event_type)
    assert.is_true(synclua.parse_rfc3339(p.watermark)
                   < synclua.parse_rfc3339(m.start) - 25 * DAY)
    assert.equal("returning", d.role)
  end)

  it("failed_session: backfill_session_failed, Uninitialized, then a retry "
     .. "that completes", function()
    local p = planted("failed_session")
    local _, devs = library()
    local d = devs[p.device]
    local peer = by_name[p.peer].device_id
    local fail = where(d.rows, function(e)
      return e.event_type == "backfill_session_failed" end)
    assert.equal(1, #fail)
    fail = fail[1]
    assert.equal(p.session, fail.correlation_id)
    assert.equal("Backfill session failed: timed out after 60s waiting for "
      .. "a backfill response from " .. peer, fail.summary)
    assert.equal("error", fail.severity)
    assert.equal(peer, fail.peer_device_id)
    assert.is_true(fail.duration_ms >= 60000)
    local after = d.rows[fail.id + 1]
    assert.matches("^Backfilling { peer: " .. peer:gsub("%-", "%%-")
      .. ", progress: %d+ } → Uninitialized$", after.summary)
    assert.equal("backfill_failed", after.details.reason)
    -- the responder received the last request and never answered it
    local theirs = where(devs[p.peer].rows, function(e)
      return e.correlation_id == p.session end)
    assert.equal("backfill_request_received", theirs[#theirs].event_type)
    local retry = where(d.rows, function(e)
      return e.event_type == "backfill_session_completed"
             and e.id > fail.id end)
    assert.equal(1, #retry)
  end)

  it("peer_drop: peer_disconnected on both ends mid-session, a failure, "
     .. "and a new selection with the dropped peer offline", function()
    local p = planted("peer_drop")
    local _, devs = library()
    local d, peer = devs[p.device], devs[p.peer]
    local fail = where(d.rows, function(e)
      return e.correlation_id == p.session
             and e.event_type == "backfill_session_failed" end)[1]
    assert.equal("Backfill session failed: peer " .. peer.device_id
      .. " disconnected", fail.summary)
    local drop = d.rows[fail.id - 1]
    assert.equal("Peer " .. peer.device_id .. " disconnected: connection "
      .. "lost", drop.summary)
    local other = where(peer.rows, function(e)
      return e.event_type == "peer_disconnected"
             and e.peer_device_id == d.device_id
             and e.details.reason == "connection lost" end)
    assert.equal(1, #other)
    assert.equal(drop.instant - d.clock_offset_ms * 1000000,
                 other[1].instant - peer.clock_offset_ms * 1000000)
    local again = where(d.rows, function(e)
      return e.event_type == "backfill_session_started" and e.peer_device_id
             and e.id > fail.id end)[1]
    assert.not_equal(peer.device_id, again.peer_device_id)
    for _, c in ipairs(again.details.candidates) do
      if c.device_id == peer.device_id then
        assert.is_false(c.is_online)
        assert.is_false(c.selected)
      end
    end
  end)
end)

describe("synclua simulate's arguments", function()
  local dir
  before_each(function() dir = support.tmpdir() end)
  after_each(function() support.rmdir(dir) end)

  local function refused(args, message)
    local out, err, status = synclua_run(dir, "simulate " .. args)
    assert.equal("", out)
    assert.equal("synclua simulate: " .. message .. "\n", err)
    assert.equal(2, status)
  end

  it("exits 2 with a message naming the argument", function()
    refused("", "option '--out' is required")
    refused("--out x --devices 1", "option '--devices' must be from 2 to 64, "
            .. "got '1' (e.g. 4)")
    refused("--out x --devices 65", "option '--devices' must be from 2 to "
            .. "64, got '65' (e.g. 4)")
    refused("--out x --devices two",
            "option '--devices' expects an integer, got 'two' (e.g. 4)")
    refused("--out x --hours 0",
            "--hours must be above 0 and at most 8784 (got 0)")
    refused("--out x --hours -3",
            "--hours must be above 0 and at most 8784 (got -3)")
    refused("--out x --seed 1.5",
            "option '--seed' expects an integer, got '1.5' (e.g. 1)")
    refused("--out x --faults slow_peer,bogus", "--faults: unknown fault "
      .. "'bogus' (valid: " .. FAULTS .. ", all, none, default)")
    refused("--out x --faults none,offline",
            "--faults: 'none' cannot be combined with other faults")
    refused("--out x --faults slow_peer,,offline", "--faults: empty fault "
      .. "name in 'slow_peer,,offline' (valid: " .. FAULTS
      .. ", all, none, default)")
    local msg = select(2, synclua.parse_time("soon"))
    refused("--out x --start soon", "--start: " .. msg)
    assert.equal("", support.listing(dir))      -- nothing created
  end)

  it("never writes into a folder that is not empty", function()
    os.execute("mkdir " .. quote(dir .. "/lib"))
    support.spit(dir .. "/lib/notes.txt", "keep me\n")
    refused("--out lib", "--out: lib is not empty; simulate never writes "
      .. "over existing files (choose a new folder)")
    assert.equal("notes.txt", support.listing(dir .. "/lib"))
    assert.equal("keep me\n", support.slurp(dir .. "/lib/notes.txt"))
    refused("--out lib/notes.txt",
            "--out: lib/notes.txt exists and is not a folder")
  end)

  it("writes into an empty folder, and creates missing ones", function()
    os.execute("mkdir " .. quote(dir .. "/empty"))
    local _, _, status = synclua_run(dir, "simulate --out empty --devices 2 "
                                     .. "--hours 1 --faults none")
    assert.equal(0, status)
    assert.equal("desktop devices.json laptop",
                 support.listing(dir .. "/empty"))
    _, _, status = synclua_run(dir, "simulate --out new/deep --devices 2 "
                               .. "--hours 1 --faults none")
    assert.equal(0, status)
    assert.equal("desktop devices.json laptop",
                 support.listing(dir .. "/new/deep"))
  end)

  it("documents every fault and the default mix in --help", function()
    local out, _, status = synclua_run(dir, "simulate --help")
    assert.equal(0, status)
    for _, f in ipairs{ "slow_peer", "buffer_overflow", "stuck_dependencies",
                        "offline", "failed_session", "peer_drop" } do
      assert.matches("\n  " .. f .. " +%S", out)
    end
    assert.matches("The default mix is slow_peer, buffer_overflow, "
                   .. "failed_session", out, 1, true)
  end)
end)

describe("the demo library", function()
  local dir, cache
  before_each(function()
    dir = support.tmpdir()
    cache = dir .. "/cache"
    os.execute("mkdir " .. quote(dir .. "/work"))
  end)
  after_each(function() support.rmdir(dir) end)

  -- The stores the inputs name when there is no --db, as a report command
  -- resolves them, in dir/work.
  local function db_paths(how, env)
    return synclua_run(dir .. "/work", "-e " .. quote(
      "local inputs = require 'synclua.inputs' "
      .. "for _, e in ipairs(inputs.expand({}, " .. how .. ")) do "
      .. "print(e.path) end"), env or ("XDG_CACHE_HOME=" .. quote(cache)))
  end

  local function demo_dir()
    return ("%s/synclua/demo-%s-1"):format(cache, synclua.version)
  end

  it("is generated on first use, atomically, and said so on stderr",
     function()
    local out, err, status = db_paths("{ demo = true }")
    assert.equal(0, status)
    local d = demo_dir()
    assert.equal(table.concat({
      "synclua: generating the demo library (first use) in " .. d,
      "synclua: no --db and no ./sync.db: using the demo library in " .. d
        .. " (synclua simulate --help explains it)", "" }, "\n"), err)
    assert.equal(table.concat({ d .. "/desktop/sync.db",
      d .. "/laptop/sync.db", d .. "/phone/sync.db", d .. "/nas/sync.db",
      d .. "/tablet/sync.db", "" }, "\n"), out)
    -- no temporary folder is left beside it
    assert.equal("demo-" .. synclua.version .. "-1",
                 support.listing(cache .. "/synclua"))
    local m = synclua.json_decode(support.slurp(d .. "/devices.json"))
    -- what README.md says the demo holds
    local where_ = {}
    for _, p in ipairs(m.planted) do
      where_[#where_ + 1] = p.fault .. " " .. p.device
    end
    table.sort(where_)
    assert.same({ "buffer_overflow phone", "failed_session phone",
                  "offline phone", "peer_drop nas", "slow_peer tablet",
                  "stuck_dependencies nas" }, where_)
    for _, path in ipairs{ "desktop", "laptop", "phone", "nas", "tablet" } do
      local log <close> = assert(synclua.open(d .. "/" .. path))
      assert.is_true(log:count{} > 100)
    end
  end)

  it("is generated once", function()
    db_paths("{ demo = true }")
    local d = demo_dir()
    local before = support.mtime(d .. "/desktop/sync.db")
    local bytes = support.slurp(d .. "/devices.json")
    local out, err, status = db_paths("{ demo = true }")
    assert.equal(0, status)
    assert.equal("synclua: no --db and no ./sync.db: using the demo library "
      .. "in " .. d .. " (synclua simulate --help explains it)\n", err)
    assert.matches("^" .. d:gsub("%p", "%%%0") .. "/desktop/sync.db\n", out)
    assert.equal(before, support.mtime(d .. "/desktop/sync.db"))
    assert.equal(bytes, support.slurp(d .. "/devices.json"))
  end)

  it("lives under ~/.cache without XDG_CACHE_HOME", function()
    local out, err, status = db_paths("{ demo = true }",
      "XDG_CACHE_HOME= HOME=" .. quote(dir .. "/home"))
    assert.equal(0, status)
    local d = ("%s/home/.cache/synclua/demo-%s-1"):format(dir,
                                                          synclua.version)
    assert.matches("using the demo library in " .. d:gsub("%p", "%%%0"), err)
    assert.matches("^" .. d:gsub("%p", "%%%0") .. "/desktop/sync.db\n", out)
  end)

  it("is not used when there is a ./sync.db, a --db or $SYNCLUA_DB",
     function()
    support.spit(dir .. "/work/sync.db", "")
    local out, err = db_paths("{ demo = true }")
    assert.equal("sync.db\n", out)
    assert.equal("", err)
    os.remove(dir .. "/work/sync.db")
    out, err = synclua_run(dir .. "/work", "-e " .. quote(
      "local inputs = require 'synclua.inputs' "
      .. "print(inputs.expand({ 'a.db' }, { demo = true })[1].path) "
      .. "print(inputs.expand({}, { demo = true })[1].path)"),
      "XDG_CACHE_HOME=" .. quote(cache) .. " SYNCLUA_DB=b.db")
    assert.equal("a.db\nb.db\n", out)
    assert.equal("", err)
    assert.is_false(support.exists(cache))
  end)

  it("is only for commands that ask: inputs without it, check and prune "
     .. "keep ./sync.db", function()
    local out, err = db_paths("nil")
    assert.equal("sync.db\n", out)
    assert.equal("", err)
    local env = "XDG_CACHE_HOME=" .. quote(cache)
    local _, e1, s1 = synclua_run(dir .. "/work", "check", env)
    assert.equal(3, s1)
    assert.matches("sync.db: no such file", e1, 1, true)
    local _, e2, s2 = synclua_run(dir .. "/work", "prune", env)
    assert.equal(3, s2)
    assert.matches("sync.db: no such file", e2, 1, true)
    assert.is_false(support.exists(cache))
  end)
end)
