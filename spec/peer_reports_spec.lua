-- The peer and session reports -- `synclua which_peer`, `synclua peers` and
-- `synclua session ID` -- run as a person runs them (the program as a child
-- process: exact stdout, stderr and exit status), on two kinds of library:
--
-- * a hand-made store in Spacedrive's exact row format, written by the
--   sqlite3 tool: candidates without a score, batches without a
--   correlation id, a session whose logged choice disagrees with the
--   formula, a session started twice (and left without completion), one
--   that never selected a peer, a tie;
-- * a small simulated library (4 devices, 3 hours from 09:00, seed 1) with
--   the simulator's default faults, and the same library without faults.
--
-- Output is pinned by golden files in spec/golden/peer_reports/ (text in
-- ASCII and in Unicode, and JSON). To rewrite them after a deliberate
-- change, run with SYNCLUA_UPDATE_GOLDEN=1 and read the diff.
local support = dofile("spec/fixtures/support.lua")
local synclua = require "synclua"
local quote = support.quote

local GOLDEN = "spec/golden/peer_reports/"

-- Run `synclua ARGS` in dir (Unicode pictures when `unicode`); returns
-- stdout, stderr and the exit status.
local function run(dir, args, unicode)
  return support.synclua(dir, args, ("SYNCLUA_UNICODE=%s "
    .. "SYNCLUA_NOW=2025-12-04T00:00:00Z"):format(unicode and "1" or "0"))
end

local function golden(name, actual)
  assert.equal(support.golden(GOLDEN .. name, actual), actual)
end

-- ------------------------------------------------ a Spacedrive store

local A = "2f1a8f8e-0c3b-4d52-9d0e-5b1c2a3d4e5f"  -- the store's device
local B = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
local C = "c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f"
local D = "9f2c0e4a-7b1d-4e3f-8a5b-6c7d8e9f0a1b"
local E = "5d6e7f80-91a2-4b3c-8d4e-5f6071829304"
local F = "a1b2c3d4-e5f6-4711-8899-aabbccddeeff"
local S1 = "67e55044-10b1-426f-9247-bb680e5fe0c8"  -- agrees, completed
local S2 = "3c1d9a52-8e47-4f0b-a6d1-2b9e7c4f5a10"  -- chose against
local S3 = "e2a7c6b4-5d19-4c8e-9f30-71b8d2a4c6e5"  -- started twice, a tie
local S4 = "67e5f00d-6e5f-4a3b-9c2d-1e0f9a8b7c6d"  -- no peer selected

-- Spacedrive's candidate as its code writes it: sorted keys, no score.
local function cand(id, online, complete, latency, syncs, selected)
  return ('{"active_syncs":%d,"device_id":"%s","has_complete_state":%s,'
          .. '"is_online":%s,"latency_ms":%s,"selected":%s}'):format(syncs,
    id, tostring(complete), tostring(online), latency, tostring(selected))
end

local function started(ts, session, n)
  return { timestamp = ts, event_type = "backfill_session_started",
           summary = ("Backfill session started with %d available peers")
             :format(n),
           details = ('{"peer_count":%d}'):format(n), correlation_id = session }
end

local function selected(ts, session, peer, cands)
  return { timestamp = ts, event_type = "backfill_session_started",
           summary = ("Selected peer %s from %d candidates"):format(peer,
                                                                    #cands),
           details = '{"candidates":[' .. table.concat(cands, ",") .. ']}',
           correlation_id = session, peer_device_id = peer }
end

local function batch(ts, peer, n, models, ms)
  return { timestamp = ts, event_type = "batch_ingestion",
           category = "data_flow", severity = "debug",
           summary = ("Ingested batch of %d records (%s)"):format(n, models),
           peer_device_id = peer, record_count = n, duration_ms = ms,
           model_types = models:gsub("%d+ ", ""):gsub(" ", "") }
end

local function completed(ts, session, peer, ms)
  return { timestamp = ts, event_type = "backfill_session_completed",
           summary = "Backfill session completed successfully",
           correlation_id = session, peer_device_id = peer, duration_ms = ms }
end

local SPACEDRIVE_ROWS = {
  started("2025-12-03T10:00:00.123456789+00:00", S1, 2),
  selected("2025-12-03T10:00:00.125000+00:00", S1, B, {
    cand(B, true, true, "23.45599937438965", 0, true),
    cand(C, true, true, "100.0", 0, false) }),
  batch("2025-12-03T10:00:30.500+00:00", B, 10000, "6000 entry, 4000 tag",
        29800),
  batch("2025-12-03T10:00:45+00:00", C, 12, "12 entry", 40),
  batch("2025-12-03T10:01:00.750+00:00", B, 8000, "8000 entry", 30000),
  batch("2025-12-03T10:01:12.250+00:00", B, 2500, "2500 location", 11500),
  completed("2025-12-03T10:01:15.500123+00:00", S1, B, 75376),

  started("2025-12-03T11:00:00+00:00", S2, 4),
  selected("2025-12-03T11:00:00.002+00:00", S2, B, {
    cand(B, true, true, "100.0", 0, true),
    cand(C, true, true, "12.5", 0, false),
    cand(D, true, false, "50.0", 0, false),
    cand(E, false, true, "1.0", 0, false),
    cand(F, true, true, "10.0", 3, false) }),
  batch("2025-12-03T11:00:30+00:00", B, 5000, "5000 entry", 28000),
  completed("2025-12-03T11:00:41+00:00", S2, B, 41000),

  started("2025-12-03T12:00:00+00:00", S3, 2),
  started("2025-12-03T12:00:00.500+00:00", S3, 2),
  selected("2025-12-03T12:00:00.510+00:00", S3, C, {
    cand(C, true, true, "100.0", 0, true),
    cand(B, true, true, "100.0", 0, false) }),
  batch("2025-12-03T12:00:30+00:00", C, 700, "700 tag", 29000),

  started("2025-12-03T13:00:00+00:00", S4, 0),
}

local function spacedrive_store(dir)
  local db = dir .. "/laptop/sync.db"
  os.execute("mkdir -p " .. quote(dir .. "/laptop"))
  assert(support.sqlite(db, support.DDL) == "")
  support.insert_rows(db, SPACEDRIVE_ROWS)
  return db
end

-- ------------------------------------------------ a simulated library

local SIM = "--devices 4 --hours 3 --seed 1 --start 2025-12-01T09:00:00Z"
local DEVICES = { "desktop", "laptop", "phone", "nas" }

local function simulate(dir, faults)
  local _, err, status = run(dir, "simulate --out lib " .. SIM
                                  .. (faults and (" --faults " .. faults) or ""))
  assert(status == 0, err)
  local dbs = {}
  for i, name in ipairs(DEVICES) do dbs[i] = "--db lib/" .. name end
  return table.concat(dbs, " ")
end

describe("synclua which_peer", function()
  local dir
  before_each(function() dir = support.tmpdir() end)
  after_each(function() support.rmdir(dir) end)

  describe("on Spacedrive's rows", function()
    it("recomputes every score, names the choice against the formula and "
       .. "exits 1", function()
      spacedrive_store(dir)
      local out, err, status = run(dir, "which_peer --db laptop")
      assert.equal("", err)
      assert.equal(1, status)
      golden("spacedrive-which_peer.txt", out)
      assert.equal("1 of 3 sessions chose against the formula; 1 session "
                   .. "started without a peer selection",
                   out:match("^[^\n]*"))
    end)

    it("explains each loser in words, with the numbers", function()
      spacedrive_store(dir)
      local out = run(dir, "which_peer --db laptop")
      -- S2: B was chosen; the formula picks C.
      assert.truthy(out:find("session 3c1d9a52: chose 1b4e28ba AGAINST the "
                             .. "formula, which picks c3d4e5f6", 1, true))
      assert.truthy(out:find("chosen against the formula, 110.00 vs 180.00 "
        .. "for c3d4e5f6: higher latency (100 ms vs 12.5 ms: 10.0 vs 80.0 "
        .. "points)", 1, true))
      assert.truthy(out:find("lost, 20.00 vs 180.00 for c3d4e5f6: incomplete "
        .. "state (0 vs 100 points), higher latency (50 ms vs 12.5 ms: 20.0 "
        .. "vs 80.0 points)", 1, true))
      assert.truthy(out:find("offline: not considered", 1, true))
      assert.truthy(out:find("lost, 170.00 vs 180.00 for c3d4e5f6: more "
        .. "active syncs (3 vs 0: -30 vs 0 points); despite lower latency "
        .. "(10 ms vs 12.5 ms: 100.0 vs 80.0 points)", 1, true))
      -- S3: a tie at Spacedrive's default latency keeps the list order.
      assert.truthy(out:find("tied with c3d4e5f6 at 110.00; a tie goes to "
                             .. "the earlier candidate", 1, true))
      assert.truthy(out:find("note: the session's start was logged 2 times",
                             1, true))
    end)

    it("writes one JSON object with the verdict, findings and sessions",
       function()
      spacedrive_store(dir)
      local out, _, status = run(dir, "which_peer --db laptop --format json")
      assert.equal(1, status)
      golden("spacedrive-which_peer.json", out)
      local r = synclua.json_decode(out)
      assert.equal(3, #r.sessions)
      assert.same({ true, false, true },
                  { r.sessions[1].agrees, r.sessions[2].agrees,
                    r.sessions[3].agrees })
      local kinds = {}
      for _, f in ipairs(r.findings) do kinds[#kinds + 1] = f.kind end
      assert.same({ "peer_selection", "choice_against_formula",
                    "peer_selection", "no_selection" }, kinds)
      local against = r.findings[2]
      assert.equal("error", against.severity)
      assert.same({ candidates = 5, online = 4, chosen_score = 110.0,
                    formula_score = 180.0 }, against.numbers)
      assert.same({ 8, 9 }, { against.evidence[1].id, against.evidence[2].id })
      assert.equal("2025-12-03T11:00:00.002+00:00",
                   against.evidence[2].timestamp)
      -- Real rows log no score: none is compared.
      assert.equal(synclua.null, r.sessions[1].candidates[1].logged_score)
    end)

    it("compares a logged score with the formula's", function()
      local db = dir .. "/ours/sync.db"
      os.execute("mkdir -p " .. quote(dir .. "/ours"))
      assert(support.sqlite(db, support.DDL) == "")
      local with_score = cand(B, true, true, "20.0", 1, true)
        :gsub(',"selected"', ',"score":150.0,"selected"')
      local right = cand(C, true, true, "40.0", 0, false)
        :gsub(',"selected"', ',"score":125.0,"selected"')
      support.insert_rows(db, { selected("2025-12-03T10:00:00+00:00", S1, B,
                                         { with_score, right }) })
      local out, _, status = run(dir, "which_peer --db ours")
      assert.equal(0, status)
      assert.equal("1 session: the formula's choice; 1 logged score differs "
                   .. "from the formula", out:match("^[^\n]*"))
      assert.truthy(out:find("ours's logged score for 1b4e28ba is 150.00; "
                             .. "the formula gives 140.00", 1, true))
      assert.truthy(out:find("150.00  chosen: the highest score (logged "
                             .. "score 150.00 differs)", 1, true))
      assert.truthy(out:find("125.00  lost, 125.00 vs 140.00 for 1b4e28ba",
                             1, true))
    end)
  end)

  describe("on a simulated library", function()
    it("finds the formula's choice every time, with faults or without",
       function()
      local dbs = simulate(dir)
      local out, err, status = run(dir, "which_peer " .. dbs)
      assert.equal("", err)
      assert.equal(0, status)
      golden("sim-which_peer.txt", out)
      golden("sim-which_peer.json", (run(dir, "which_peer --format json "
                                            .. dbs)))
    end)

    it("raises no alarm on a clean library", function()
      local dbs = simulate(dir, "none")
      local out, err, status = run(dir, "which_peer --format json " .. dbs)
      assert.equal("", err)
      assert.equal(0, status)
      local r = synclua.json_decode(out)
      assert.equal("2 sessions: the formula's choice every time", r.verdict)
      for _, f in ipairs(r.findings) do
        assert.equal("peer_selection", f.kind)
        assert.equal("info", f.severity)
      end
    end)
  end)

  it("says so when there is no peer selection", function()
    local db = dir .. "/sync.db"
    assert(support.sqlite(db, support.DDL) == "")
    support.insert_rows(db, { { timestamp = "2025-12-03T10:00:00+00:00",
                                summary = "Ready → Paused" } })
    local out, err, status = run(dir, "which_peer --db sync.db")
    assert.equal("no peer selections found\nwindow: all events (UTC); 1 "
                 .. "event: 2f1a8f8e 1\n", out)
    assert.equal("", err)
    assert.equal(0, status)
  end)
end)

describe("synclua peers", function()
  local dir
  before_each(function() dir = support.tmpdir() end)
  after_each(function() support.rmdir(dir) end)

  it("reports every peer's candidacies, choices and scores over time",
     function()
    spacedrive_store(dir)
    local out, err, status = run(dir, "peers --db laptop")
    assert.equal("", err)
    assert.equal(0, status)
    golden("spacedrive-peers.txt", out)
    golden("spacedrive-peers-unicode.txt", (run(dir, "peers --db laptop",
                                                true)))
    golden("spacedrive-peers.json", (run(dir, "peers --db laptop --format json")))
  end)

  it("follows each peer across sessions and devices of a simulated library",
     function()
    local dbs = simulate(dir)
    local out, err, status = run(dir, "peers " .. dbs)
    assert.equal("", err)
    assert.equal(0, status)
    golden("sim-peers.txt", out)
    local r = synclua.json_decode((run(dir, "peers --format json " .. dbs)))
    assert.equal(r.verdict, out:match("^[^\n]*"))
  end)
end)

describe("synclua session", function()
  local dir
  before_each(function() dir = support.tmpdir() end)
  after_each(function() support.rmdir(dir) end)

  it("shows a Spacedrive session with its batches attributed by peer and "
     .. "time", function()
    spacedrive_store(dir)
    local out, err, status = run(dir, "session 67e55 --db laptop")
    assert.equal("", err)
    assert.equal(0, status)
    golden("spacedrive-session.txt", out)
    golden("spacedrive-session-unicode.txt",
           (run(dir, "session " .. S1 .. " --db laptop", true)))
    golden("spacedrive-session.json",
           (run(dir, "session 67e55 --db laptop --format json")))
  end)

  it("shows a session started twice that never completed, with the "
     .. "batches that followed it", function()
    spacedrive_store(dir)
    local out, err, status = run(dir, "session e2a7c6b4 --db laptop")
    assert.equal("", err)
    assert.equal(0, status)
    golden("spacedrive-session-incomplete.txt", out)
    assert.equal("session e2a7c6b4: backfill of laptop from c3d4e5f6 never "
                 .. "completed: no completion event, 30.0 s from its first "
                 .. "event to its last (700 records)", out:match("^[^\n]*"))
  end)

  it("exits 2 when no session, or more than one, matches", function()
    spacedrive_store(dir)
    local out, err, status = run(dir, "session 67e5 --db laptop")
    assert.equal("", out)
    assert.equal("synclua session: ID 67e5 matches 2 sessions: " .. S1 .. ", "
                 .. S4 .. " (give more of it)\n", err)
    assert.equal(2, status)
    out, err, status = run(dir, "session 0123abcd --db laptop")
    assert.equal("synclua session: no session 0123abcd... in laptop\n", err)
    assert.equal(2, status)
    out, err, status = run(dir, "session 0123abcd-0000-4000-8000-000000000000"
                                .. " --db laptop")
    assert.equal("synclua session: no session 0123abcd-0000-4000-8000-"
                 .. "000000000000 in laptop\n", err)
    assert.equal(2, status)
    out, err, status = run(dir, "session xyz --db laptop")
    assert.equal("synclua session: ID: a session's correlation id, or at "
                 .. "least its first 4 hex digits, expected (got 'xyz')\n", err)
    assert.equal(2, status)
  end)

  it("merges a session across devices, clocks corrected", function()
    local dbs = simulate(dir)
    local out, err, status = run(dir, "session fb4b30a6 " .. dbs)
    assert.equal("", err)
    assert.equal(0, status)
    golden("sim-session.txt", out)
    golden("sim-session.json", (run(dir, "session fb4b30a6 --format json "
                                         .. dbs)))
  end)
end)
