-- The debugging-scenario reports -- `synclua why_failed`, `synclua
-- lost_data`, `synclua why_slow` -- and what they share (synclua.report),
-- run as a person runs them (the program as a child process: exact stdout,
-- stderr and exit status), on two kinds of library:
--
-- * small simulated libraries (4 devices, 12 hours, seed 2): every fault
--   planted (each one must be found), and none (no alarm may be raised);
-- * hand-made stores in Spacedrive's exact row format, written by the
--   sqlite3 tool: batches without a correlation id (attributed by peer and
--   time window), candidates without a score, no failure event (a session
--   that only started, one started twice and never completed), a
--   completion whose start was pruned, a log that starts where 7-day
--   retention leaves it; and a device whose sessions show each of the
--   docs' three tell-tales of a slow backfill.
--
-- Output is pinned by golden files in spec/golden/reports/ (text and
-- JSON). To rewrite them after a deliberate change, run with
-- SYNCLUA_UPDATE_GOLDEN=1 and read the diff.
local support = dofile("spec/fixtures/support.lua")
local synclua = require "synclua"
local quote = support.quote

local EXE = support.EXE
local GOLDEN = "spec/golden/reports/"

-- Run `synclua ARGS` in dir; returns stdout, stderr and the exit status.
local function run(dir, args)
  return support.synclua(dir, args, "SYNCLUA_UNICODE=0 "
    .. "SYNCLUA_NOW=2025-12-04T00:00:00Z XDG_CACHE_HOME=" .. quote(dir .. "/cache"))
end

local function golden(name, actual)
  assert.equal(support.golden(GOLDEN .. name, actual), actual)
end

local function kinds(r)
  local list = {}
  for _, f in ipairs(r.findings) do list[#list + 1] = f.kind end
  return list
end

local fmt = require "synclua.fmt"
local analysis = require "synclua.sessions"

local function finding(r, kind)
  for _, f in ipairs(r.findings) do
    if f.kind == kind then return f end
  end
  return nil
end

-- ------------------------------------------------ simulated libraries

local SIM = "--devices 4 --hours 12 --seed 2"
local DEVICES = { "desktop", "laptop", "phone", "nas" }

local function simulate(dir, faults)
  local _, err, status = run(dir, "simulate --out lib " .. SIM
                                  .. " --faults " .. faults)
  assert(status == 0, err)
  local dbs = {}
  for i, name in ipairs(DEVICES) do dbs[i] = "--db lib/" .. name end
  local manifest = synclua.json_decode(support.slurp(dir .. "/lib/devices.json"))
  return table.concat(dbs, " "), manifest.planted
end

local function planted(list, fault)
  for _, p in ipairs(list) do
    if p.fault == fault then return p end
  end
  error("nothing planted: " .. fault)
end

-- ------------------------------------------------ Spacedrive's rows

local A = "2f1a8f8e-0c3b-4d52-9d0e-5b1c2a3d4e5f"  -- laptop, the failing one
local B = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"  -- desktop
local C = "c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f"  -- nas
local D = "9f2c0e4a-7b1d-4e3f-8a5b-6c7d8e9f0a1b"  -- a peer never seen before
local T = "87b341d6-90d7-428a-af9b-6dae6f4c57a8"  -- tablet, the slow one
local S0 = "0a9b8c7d-6e5f-4a3b-9c2d-1e0f9a8b7c6d"  -- completed, start pruned
local S1 = "67e55044-10b1-426f-9247-bb680e5fe0c8"  -- completed, overflowed
local S2 = "67e5f00d-6e5f-4a3b-9c2d-1e0f9a8b7c6d"  -- no peer selected
local S3 = "e2a7c6b4-5d19-4c8e-9f30-71b8d2a4c6e5"  -- started twice, no end
local S4 = "4d3c2b1a-0f9e-4d8c-b7a6-958473625140"  -- normal
local S5 = "5e4d3c2b-1a0f-4e9d-8c7b-a69584736251"  -- falling records/s
local S6 = "6f5e4d3c-2b1a-4f0e-9d8c-b7a695847362"  -- a long gap
local S7 = "7a6f5e4d-3c2b-4a1f-8e9d-c8b7a6958473"  -- slow from the start

local function cand(id, latency, selected)
  return ('{"active_syncs":0,"device_id":"%s","has_complete_state":true,'
          .. '"is_online":true,"latency_ms":%s,"selected":%s}'):format(id,
    latency, tostring(selected))
end

local function started(device, ts, session, n)
  return { device_id = device, timestamp = ts,
           event_type = "backfill_session_started",
           summary = ("Backfill session started with %d available peers")
             :format(n),
           details = ('{"peer_count":%d}'):format(n), correlation_id = session }
end

local function selected(device, ts, session, peer, cands)
  return { device_id = device, timestamp = ts,
           event_type = "backfill_session_started",
           summary = ("Selected peer %s from %d candidates"):format(peer,
                                                                    #cands),
           details = '{"candidates":[' .. table.concat(cands, ",") .. ']}',
           correlation_id = session, peer_device_id = peer }
end

local function completed(device, ts, session, peer, ms)
  return { device_id = device, timestamp = ts,
           event_type = "backfill_session_completed",
           summary = "Backfill session completed successfully",
           correlation_id = session, peer_device_id = peer, duration_ms = ms }
end

local function batch(device, ts, peer, n, ms)
  return { device_id = device, timestamp = ts, event_type = "batch_ingestion",
           category = "data_flow", severity = "debug",
           summary = ("Ingested batch of %d records (%d entry)"):format(n, n),
           peer_device_id = peer, record_count = n, duration_ms = ms,
           model_types = "entry" }
end

local function sync_error(device, ts, severity, summary, details, peer)
  return { device_id = device, timestamp = ts, event_type = "sync_error",
           category = "error", severity = severity, summary = summary,
           details = details, peer_device_id = peer }
end

local function transition(device, ts, summary, reason)
  return { device_id = device, timestamp = ts, summary = summary,
           details = ('{"reason":"%s"}'):format(reason) }
end

-- "2025-12-03T09:00:10+00:00" plus seconds, as Spacedrive writes it.
local function at(day, seconds)
  local h, rest = seconds // 3600, seconds % 3600
  return ("2025-12-%02dT%02d:%02d:%02d+00:00"):format(day, h, rest // 60,
                                                       rest % 60)
end

-- The laptop: a log that starts where retention leaves it, a completion
-- whose start was pruned, a session whose buffer overflowed, one that
-- selected no peer, one started twice that never completed, stuck
-- dependencies, and a first catch-up with a new peer (no watermark).
local function laptop_rows()
  local rows = {
    batch(A, "2025-11-26T12:00:00.5+00:00", B, 40, 900),
    completed(A, "2025-11-26T12:00:30.25+00:00", S0, B, 600000),
    started(A, "2025-12-03T09:00:00.123456789+00:00", S1, 2),
    selected(A, "2025-12-03T09:00:00.125+00:00", S1, B,
             { cand(B, "23.45599937438965", true), cand(C, "100.0", false) }),
  }
  for i = 1, 10 do
    rows[#rows + 1] = batch(A, at(3, 9 * 3600 + 10 * i), B, 10000, 10000)
  end
  rows[#rows + 1] = batch(A, at(3, 9 * 3600 + 45), C, 12, 40)
  local done = "2025-12-03T09:01:41.5+00:00"
  for _, r in ipairs{
    completed(A, done, S1, B, 101377),
    transition(A, done, "Backfilling { peer: " .. B .. ", progress: 100 } → "
               .. "CatchingUp { buffered_count: 100000 }",
               "transitioning to ready"),
    sync_error(A, done, "error",
               "Buffer overflow: 1247 updates dropped during backfill",
               '{"dropped_count":1247,"max_buffer_size":100000,'
               .. '"phase":"backfill_to_catchup_transition"}'),
    transition(A, "2025-12-03T09:01:50+00:00",
               "CatchingUp { buffered_count: 0 } → Ready",
               "buffered updates processed"),
    started(A, "2025-12-03T10:00:00+00:00", S2, 0),
    started(A, "2025-12-03T10:30:00+00:00", S3, 1),
    started(A, "2025-12-03T10:30:00.5+00:00", S3, 1),
    selected(A, "2025-12-03T10:30:00.51+00:00", S3, C,
             { cand(C, "100.0", true) }),
    batch(A, "2025-12-03T10:30:30+00:00", C, 5000, 29000),
    batch(A, "2025-12-03T10:31:00+00:00", C, 5000, 30000),
    batch(A, "2025-12-03T10:31:30+00:00", C, 5000, 30000),
    sync_error(A, "2025-12-03T11:00:00+00:00", "warning",
               "Watermark too old: 106751991167 days (threshold: 25 days), "
               .. "forcing full sync",
               '{"action":"force_full_sync","threshold_days":25,'
               .. '"watermark_age_days":106751991167}', D),
    sync_error(A, "2025-12-03T11:30:00+00:00", "warning",
               "Stuck dependencies: 12 records waiting for 3 missing parents",
               '{"phase":"backfill_to_ready_transition","total_dependencies"'
               .. ':3,"total_waiting_updates":12}'),
    transition(A, "2025-12-03T12:10:00+00:00", "Ready → Paused",
               "user paused sync"),
  } do rows[#rows + 1] = r end
  return rows
end

-- The nas, the peer of the unfinished session: nothing unusual.
local function nas_rows()
  return {
    transition(C, "2025-12-03T08:00:00+00:00", "Paused → Ready",
               "user resumed sync"),
    batch(C, "2025-12-03T10:31:10+00:00", B, 300, 2000),
    transition(C, "2025-12-03T12:00:00+00:00", "Ready → Paused",
               "user paused sync"),
  }
end

-- The tablet: four backfill sessions, one normal and one per tell-tale.
local function tablet_rows()
  local rows = {}
  local function add(r) rows[#rows + 1] = r end
  local function session(id, peer, t0, batches, ms)
    add(started(T, at(2, t0), id, 3))
    add(selected(T, at(2, t0) :gsub("%+", ".002+"), id, peer,
                 { cand(B, "8.5", peer == B), cand(C, "12.0", peer == C),
                   cand(D, "30.0", peer == D) }))
    local t = t0
    for _, b in ipairs(batches) do
      t = t + (b.pause or 0) + b.ms // 1000
      add(batch(T, at(2, t), peer, b.n, b.ms))
    end
    add(completed(T, at(2, t + 1), id, peer, ms or (t + 1 - t0) * 1000))
    return t + 1
  end
  -- S4: 12 batches of 10,000 records in 10 s each, with a batch from
  -- another peer inside its window and one of its peer's right after it
  local b = {}
  for i = 1, 12 do b[i] = { n = 10000, ms = 10000 } end
  local stop = session(S4, B, 8 * 3600, b)
  add(batch(T, at(2, 8 * 3600 + 55), D, 25, 300))
  add(batch(T, at(2, stop + 20), B, 900, 25000))   -- began before the end
  add(batch(T, at(2, stop + 300), B, 50, 1000))    -- streaming, after it
  -- S5: falling records/s (foreign-key dependency bottleneck)
  b = {}
  for i, ms in ipairs{ 10000, 11000, 12500, 15000, 19000, 24000 } do
    b[i] = { n = 10000, ms = ms }
  end
  for _, n in ipairs{ 8000, 6000, 5000, 4000, 3500, 3000 } do
    b[#b + 1] = { n = n, ms = 30000 }
  end
  session(S5, B, 10 * 3600, b)
  -- S6: a long gap between batches (network or peer)
  b = {}
  for i = 1, 8 do b[i] = { n = 10000, ms = 10000, pause = i == 5 and 120 } end
  session(S6, C, 12 * 3600, b)
  -- S7: slow from the start, 150 records/s (database)
  b = {}
  for i = 1, 6 do b[i] = { n = 4500, ms = 30000 } end
  session(S7, D, 14 * 3600, b)
  add(transition(T, at(2, 16 * 3600), "Ready → Paused", "user paused sync"))
  return rows
end

-- A clean Spacedrive log: one backfill that went well.
local function clean_rows()
  local rows = {
    started(B, "2025-12-03T09:00:00+00:00", S4, 1),
    selected(B, "2025-12-03T09:00:00.001+00:00", S4, C,
             { cand(C, "4.25", true) }),
  }
  for i = 1, 6 do
    rows[#rows + 1] = batch(B, at(3, 9 * 3600 + 10 * i), C, 9000, 10000)
  end
  rows[#rows + 1] = completed(B, at(3, 9 * 3600 + 61), S4, C, 61000)
  rows[#rows + 1] = transition(B, at(3, 9 * 3600 + 61), "Backfilling { peer: "
    .. C .. ", progress: 100 } → CatchingUp { buffered_count: 0 }",
    "transitioning to ready")
  rows[#rows + 1] = transition(B, at(3, 9 * 3600 + 62),
    "CatchingUp { buffered_count: 0 } → Ready", "buffered updates processed")
  return rows
end

local function store(dir, name, rows)
  local db = dir .. "/" .. name .. "/sync.db"
  os.execute("mkdir -p " .. quote(dir .. "/" .. name))
  assert(support.sqlite(db, support.DDL) == "")
  support.insert_rows(db, rows)
  return db
end

-- ------------------------------------------------------------ specs

describe("synclua why_failed", function()
  local dir
  before_each(function() dir = support.tmpdir() end)
  after_each(function() support.rmdir(dir) end)

  it("finds every planted failure in a simulated library, with the peer's "
     .. "side, and exits 1", function()
    local dbs, faults = simulate(dir, "all")
    local out, err, status = run(dir, "why_failed " .. dbs)
    assert.equal("", err)
    assert.equal(1, status)
    golden("sim-why_failed.txt", out)
    local json = run(dir, "why_failed --format json " .. dbs)
    golden("sim-why_failed.json", json)
    local r = synclua.json_decode(json)
    assert.equal(r.verdict, out:match("^[^\n]*"))
    assert.equal("sync failed: 2 backfill sessions failed, buffer overflow; "
                 .. "warnings: watermark too old, stuck dependencies",
                 r.verdict)
    -- failed_session: timed out; the peer got the request, never answered
    local timeout = planted(faults, "failed_session")
    local drop = planted(faults, "peer_drop")
    local by_session = {}
    for _, f in ipairs(r.findings) do
      for _, s in ipairs(f.sessions or {}) do
        if f.kind == "session_failed" then by_session[s.id] = { f, s } end
      end
    end
    local f, s = table.unpack(by_session[timeout.session])
    assert.truthy(f.summary:find("timed out after 60s waiting for a "
                                 .. "backfill response from desktop", 1, true))
    assert.equal("desktop", s.peer_side.label)
    assert.truthy(s.peer_side.notes[1]:find("got no response$"))
    -- peer_drop: the peer saw the link drop too
    f, s = table.unpack(by_session[drop.session])
    assert.equal("backfill session failed: peer desktop disconnected",
                 f.summary)
    local notes = table.concat(s.peer_side.notes, "\n")
    assert.truthy(notes:find("disconnected: connection lost", 1, true))
    -- buffer_overflow, stuck_dependencies, offline
    local overflow = planted(faults, "buffer_overflow")
    f = finding(r, "buffer_overflow")
    assert.equal(overflow.dropped, f.numbers.dropped)
    assert.equal(overflow.session, f.sessions[1].id)
    local stuck = planted(faults, "stuck_dependencies")
    f = finding(r, "stuck_dependencies")
    assert.same({ events = 1, waiting = stuck.total_waiting_updates,
                  missing_parents = stuck.total_dependencies }, f.numbers)
    f = finding(r, "watermark_too_old")
    assert.equal(planted(faults, "offline").age_days, f.numbers.age_days)
  end)

  it("raises no alarm on a clean library", function()
    local dbs = simulate(dir, "none")
    local out, err, status = run(dir, "why_failed " .. dbs)
    assert.equal("", err)
    assert.equal(0, status)
    assert.equal("no failure found\nwindow: all events (UTC); 850 events: "
                 .. "desktop 344, laptop 91, phone 160, nas 255\n", out)
    local r = synclua.json_decode((run(dir, "why_failed --format json " .. dbs)))
    assert.equal("ok", r.status)
    assert.equal(0, r.exit)
    assert.equal(850, r.window.events)
    assert.same({}, r.findings)
    assert.equal(0, r.sessions.failed + r.sessions.incomplete)
  end)

  it("finds Spacedrive's failures, which write no failure event", function()
    store(dir, "laptop", laptop_rows())
    store(dir, "nas", nas_rows())
    local out, err, status = run(dir, "why_failed --db laptop --db nas")
    assert.equal("", err)
    assert.equal(1, status)
    golden("spacedrive-why_failed.txt", out)
    local json = run(dir, "why_failed --db laptop --db nas --format json")
    golden("spacedrive-why_failed.json", json)
    local r = synclua.json_decode(json)
    assert.equal("sync failed: 2 backfill sessions never completed, buffer "
                 .. "overflow; warnings: watermark too old, stuck "
                 .. "dependencies", r.verdict)
    assert.same({ "buffer_overflow", "session_incomplete",
                  "session_incomplete", "watermark_too_old",
                  "stuck_dependencies" }, kinds(r))
    -- the session that selected no peer, and the one started twice
    local none, twice = r.findings[2], r.findings[3]
    assert.equal(S2, none.sessions[1].id)
    assert.truthy(none.summary:find("no peer was selected", 1, true))
    assert.equal(S3, twice.sessions[1].id)
    assert.same({ batches = 3, records = 15000, starts = 3 }, twice.numbers)
    assert.equal("nas", twice.sessions[1].peer_side.label)
    assert.equal("logged nothing unusual between 2025-12-03 10:28:00 and "
                 .. "2025-12-03 10:33:30", twice.sessions[1].peer_side.notes[1])
    -- a first catch-up with a new peer is not an offline device
    assert.truthy(r.findings[4].summary:find("no watermark yet", 1, true))
  end)

  it("names a peer whose log was not given", function()
    store(dir, "laptop", laptop_rows())
    local r = synclua.json_decode((run(dir, "why_failed --db laptop "
                                            .. "--format json")))
    assert.equal("c3d4e5f6's log was not given (add --db for it to see its "
                 .. "side)",
                 r.findings[3].sessions[1].peer_side.notes[1])
  end)

  it("leaves a session that may still be running out of the failures",
     function()
    store(dir, "laptop", laptop_rows())
    local r = synclua.json_decode((run(dir, "why_failed --db laptop "
      .. "--until '2025-12-03 10:35:00' --format json")))
    local running = finding(r, "session_running")
    assert.equal(S3, running.sessions[1].id)
    assert.equal("info", running.severity)
    assert.equal("sync failed: 1 backfill session never completed, buffer "
                 .. "overflow", r.verdict)
    r = synclua.json_decode((run(dir, "why_failed --db laptop --grace 2h "
                                      .. "--format json")))
    assert.equal(S3, finding(r, "session_running").sessions[1].id)
  end)
end)

describe("synclua lost_data", function()
  local dir
  before_each(function() dir = support.tmpdir() end)
  after_each(function() support.rmdir(dir) end)

  it("sums what a simulated library lost and exits 1", function()
    local dbs, faults = simulate(dir, "all")
    local out, err, status = run(dir, "lost_data " .. dbs)
    assert.equal("", err)
    assert.equal(1, status)
    golden("sim-lost_data.txt", out)
    local json = run(dir, "lost_data --format json " .. dbs)
    golden("sim-lost_data.json", json)
    local r = synclua.json_decode(json)
    local overflow = planted(faults, "buffer_overflow")
    local stuck = planted(faults, "stuck_dependencies")
    assert.equal(("data lost: %s updates dropped, %d records stuck on "
                  .. "missing parents"):format(
                  tostring(overflow.dropped):gsub("^(%d)(%d%d%d)$", "%1,%2"),
                  stuck.total_waiting_updates), r.verdict)
    local f = finding(r, "dropped_updates")
    assert.same({ dropped = overflow.dropped, overflows = 1 }, f.numbers)
    assert.equal(overflow.session, f.sessions[1].id)
    assert.equal(stuck.session, finding(r, "stuck_dependencies").sessions[1].id)
    -- the failed sessions were made good by their retries
    local recovered = 0
    for _, x in ipairs(r.findings) do
      if x.kind == "session_recovered" then recovered = recovered + 1 end
    end
    assert.equal(2, recovered)
    assert.truthy(finding(r, "forced_full_sync").summary:find(
      "the full backfill completed", 1, true))
    assert.equal(4, #r.retention)
    assert.equal("complete", r.retention[1].state)
  end)

  it("detects no loss in a clean library", function()
    local dbs = simulate(dir, "none")
    local out, err, status = run(dir, "lost_data --format json " .. dbs)
    assert.equal("", err)
    assert.equal(0, status)
    local r = synclua.json_decode(out)
    assert.equal("no loss detected", r.verdict)
    assert.same({}, r.findings)
    out = run(dir, "lost_data " .. dbs)
    assert.equal("no loss detected", out:match("^[^\n]*"))
  end)

  it("tells Spacedrive's losses apart from what retention pruned",
     function()
    store(dir, "laptop", laptop_rows())
    store(dir, "nas", nas_rows())
    local out, err, status = run(dir, "lost_data --db laptop --db nas")
    assert.equal("", err)
    assert.equal(1, status)
    golden("spacedrive-lost_data.txt", out)
    local json = run(dir, "lost_data --db laptop --db nas --format json")
    golden("spacedrive-lost_data.json", json)
    local r = synclua.json_decode(json)
    assert.equal("data lost: 1,247 updates dropped, 12 records stuck on "
                 .. "missing parents, 2 backfills never completed", r.verdict)
    assert.same({ "dropped_updates", "stuck_dependencies",
                  "backfill_incomplete", "backfill_incomplete",
                  "forced_full_sync", "session_start_pruned" }, kinds(r))
    assert.equal(S1, r.findings[1].sessions[1].id)
    assert.equal(2, r.findings[6].evidence[1].id)   -- S0's completion
    assert.same({ "pruned", "complete" },
                { r.retention[1].state, r.retention[2].state })
  end)

  it("counts records a peer sent that the session did not apply",
     function()
    local dbs = simulate(dir, "none")
    local r = synclua.json_decode((run(dir, "lost_data --format json " .. dbs)))
    assert.equal("no loss detected", r.verdict)
    -- take 1,000 records out of a completed session's count
    local db = dir .. "/lib/nas/sync.db"
    assert.equal("", support.sqlite(db, "UPDATE sync_event_log SET "
      .. "record_count = record_count - 1000 WHERE event_type = "
      .. "'backfill_session_completed'"))
    r = synclua.json_decode((run(dir, "lost_data --format json " .. dbs)))
    assert.equal("data lost: 1,000 records sent but not applied", r.verdict)
    assert.equal(1000, finding(r, "records_not_applied").numbers.missing)
  end)
end)

describe("synclua why_slow", function()
  local dir
  before_each(function() dir = support.tmpdir() end)
  after_each(function() support.rmdir(dir) end)

  it("finds the planted slow peer's falling records/s", function()
    local dbs, faults = simulate(dir, "all")
    local out, err, status = run(dir, "why_slow " .. dbs)
    assert.equal("", err)
    assert.equal(1, status)
    golden("sim-why_slow.txt", out)
    local json = run(dir, "why_slow --format json " .. dbs)
    golden("sim-why_slow.json", json)
    local r = synclua.json_decode(json)
    local slow = planted(faults, "slow_peer")
    assert.equal(1, #r.findings)
    assert.equal(slow.session, r.findings[1].session)
    assert.same({ "falling_rate" }, { r.findings[1].telltales[1].kind })
    assert.truthy(r.verdict:find("^slow backfill: nas's session d9b50208 "
                                 .. "from desktop"))
  end)

  it("raises no alarm on a clean library", function()
    local dbs = simulate(dir, "none")
    local out, err, status = run(dir, "why_slow " .. dbs)
    assert.equal("", err)
    assert.equal(0, status)
    assert.equal("no slow backfill: 2 sessions, 839 to 1,416 records/s",
                 out:match("^[^\n]*"))
    assert.is_nil(out:find("!", 1, true))
  end)

  it("names each of the docs' three tell-tales on Spacedrive's rows",
     function()
    store(dir, "tablet", tablet_rows())
    local out, err, status = run(dir, "why_slow --db tablet")
    assert.equal("", err)
    assert.equal(1, status)
    golden("spacedrive-why_slow.txt", out)
    local json = run(dir, "why_slow --db tablet --format json")
    golden("spacedrive-why_slow.json", json)
    local r = synclua.json_decode(json)
    local by = {}
    for _, s in ipairs(r.sessions) do by[s.id] = s end
    -- batches by peer and time window: the other peer's batch is left out,
    -- the one that began before the end is in, the streaming one is not
    assert.equal("peer_window", by[S4].batches_by)
    assert.equal(13, by[S4].batches)
    assert.is_false(by[S4].slow)
    assert.same({ "falling_rate" }, by[S5].reasons)
    assert.same({ "long_gaps" }, by[S6].reasons)
    assert.same({ "high_duration", "slower_than_device" }, by[S7].reasons)
    assert.equal(3, #r.findings)
    assert.equal("slow backfill: tablet's session 5e4d3c2b from 1b4e28ba ran "
                 .. "at 329 records/s (foreign-key dependency bottleneck) "
                 .. "and 2 more slow sessions", r.verdict)
  end)

  it("raises no alarm on a clean Spacedrive log", function()
    store(dir, "desktop", clean_rows())
    for _, name in ipairs{ "why_slow", "why_failed", "lost_data" } do
      local out, err, status = run(dir, name .. " --db desktop")
      assert.equal("", err)
      assert.equal(0, status)
      assert.equal(({ why_slow = "no slow backfill: 1 session, 885 records/s",
                      why_failed = "no failure found",
                      lost_data = "no loss detected" })[name],
                   out:match("^[^\n]*"))
    end
  end)
end)

describe("synclua.report", function()
  local report = require "synclua.report"
  local dir
  before_each(function() dir = support.tmpdir() end)
  after_each(function() support.rmdir(dir) end)

  it("writes markdown: a heading with the verdict, then a findings table",
     function()
    store(dir, "laptop", laptop_rows())
    local out, _, status = run(dir, "lost_data --db laptop --format markdown")
    assert.equal(1, status)
    assert.equal("# lost_data: data lost: 1,247 updates dropped, 12 records "
                 .. "stuck on missing parents, 2 backfills never completed",
                 out:match("^[^\n]*"))
    assert.truthy(out:find("\n| Severity | Kind | Summary | Numbers | "
                           .. "Evidence |\n", 1, true))
  end)

  it("writes to a file with -o and keeps the exit status", function()
    store(dir, "laptop", laptop_rows())
    local out, err, status = run(dir, "why_failed --db laptop -o report.txt")
    assert.same({ "", "", 1 }, { out, err, status })
    assert.equal("sync failed", support.slurp(dir .. "/report.txt")
                   :match("^sync failed"))
  end)

  it("exits 2 on bad usage and 3 on a store that cannot be read",
     function()
    local _, err, status = run(dir, "why_slow --since never")
    assert.equal(2, status)
    assert.truthy(err:find("^synclua why_slow: %-%-since: "))
    _, err, status = run(dir, "why_failed --format xml --db x")
    assert.equal(2, status)
    assert.equal("synclua why_failed: Unknown format: xml. Use text, json, "
                 .. "markdown, html or trace\n", err)
    _, err, status = run(dir, "lost_data --grace soon --db x")
    assert.equal(2, status)
    _, err, status = run(dir, "lost_data --db missing.db")
    assert.equal(3, status)
    assert.truthy(err:find("missing.db", 1, true))
  end)

  it("labels a store by its devices.json name, its folder, else its device",
     function()
    local _, err = run(dir, "simulate --out lib --devices 2 --hours 1")
    local out = run(dir, "sessions -f json --db lib")
    local r = synclua.json_decode(out)
    assert.equal("desktop", r.window.devices[1].label)
    assert.equal("laptop", r.window.devices[2].label)
    os.rename(dir .. "/lib/desktop", dir .. "/lib/pc")
    os.remove(dir .. "/lib/devices.json")
    r = synclua.json_decode((run(dir, "sessions -f json --db lib/pc")))
    assert.equal("pc", r.window.devices[1].label, err)
  end)

  it("formats numbers and durations as the reports write them", function()
    assert.same({ "1,247", "-12,345,678", "12", "3.5" },
                { fmt.number(1247), fmt.number(-12345678),
                  fmt.number(12.0), fmt.number(3.5) })
    assert.same({ "850 ms", "12.4 s", "3 min 05 s", "1 h 02 min",
                  "2 d 03 h" },
                { fmt.duration(850e6 // 1), fmt.duration(12400000000),
                  fmt.duration(185 * 10^9 // 1),
                  fmt.duration(3720 * 10^9 // 1),
                  fmt.duration((2 * 86400 + 3 * 3600) * 10^9 // 1) })
  end)

  it("classifies Spacedrive's error events from details or summary",
     function()
    local k, n = analysis.classify{ event_type = "sync_error",
      summary = "Buffer overflow: 1247 updates dropped during backfill" }
    assert.same({ "buffer_overflow", { dropped = 1247 } }, { k, n })
    k, n = analysis.classify{ event_type = "sync_error", summary = "x",
      details = { total_waiting_updates = 12, total_dependencies = 3 } }
    assert.same({ "stuck_dependencies", { waiting = 12, missing_parents = 3 } },
                { k, n })
    k, n = analysis.classify{ event_type = "sync_error",
      summary = "Event log queue full: 7 events dropped" }
    assert.same({ "queue_full", { dropped = 7 } }, { k, n })
    assert.equal("other", (analysis.classify{ event_type = "sync_error",
                                            summary = "disk on fire" }))
  end)

  it("spreads batches over time for records/s", function()
    local s = 10^9 // 1
    local rates, bucket = analysis.rate_series({
      { instant = 10 * s, duration_ms = 10000, record_count = 1000 },
      { instant = 40 * s, duration_ms = 10000, record_count = 500 },
    }, 0, 40 * s, 4)
    assert.equal(10 * s, bucket)
    assert.same({ 100.0, 0.0, 0.0, 50.0 }, rates)
  end)

  it("runs on the demo library when there is no --db, and says so",
     function()
    local out, err, status = run(dir, "why_slow")
    assert.equal(1, status)
    assert.truthy(err:find("using the demo library in ", 1, true))
    assert.equal("slow backfill: tablet's session b0876a78 from nas ran at "
                 .. "332 records/s (foreign-key dependency bottleneck)",
                 out:match("^[^\n]*"))
  end)

  it("draws Unicode only on a UTF-8 terminal, or when told", function()
    local code = "-e 'io.write(tostring(require(\"synclua.fmt\").unicode()))'"
    local function unicode(env)
      return (support.capture(("cd %s && %s %s %s"):format(quote(dir), env,
                                                          quote(EXE), code)))
    end
    assert.equal("false", unicode("SYNCLUA_UNICODE= LC_ALL=C.UTF-8"))
    assert.equal("true", unicode("SYNCLUA_UNICODE=1"))
    assert.equal("false", unicode("SYNCLUA_UNICODE=0 LC_ALL=C.UTF-8"))
  end)

  it("rejects a declaration without analyze", function()
    assert.equal("bad argument #1 to 'command' (field 'analyze' must be a "
                 .. "function)", support.error_of(report.command,
                                                  { name = "x" }))
  end)
end)
