-- The triage commands: `synclua sessions` (every backfill and catch-up
-- session, to pick one for `synclua session`) and `synclua report` (each
-- scenario's verdict and worst finding, device by device), on a simulated
-- library with every fault planted and on a clean one. Output is pinned by
-- golden files in spec/golden/triage/ (SYNCLUA_UPDATE_GOLDEN=1 rewrites
-- them: read the diff).
local support = dofile("spec/fixtures/support.lua")
local synclua = require "synclua"
local quote = support.quote

local GOLDEN = "spec/golden/triage/"

local function run(dir, args)
  return support.synclua(dir, args, "SYNCLUA_UNICODE=0 "
    .. "SYNCLUA_NOW=2025-12-04T00:00:00Z XDG_CACHE_HOME="
    .. quote(dir .. "/cache"))
end

local function golden(name, actual)
  assert.equal(support.golden(GOLDEN .. name, actual), actual)
end

local dir
setup(function()
  dir = support.tmpdir()
  for name, faults in pairs{ faulty = "all", clean = "none" } do
    local _, err, status = run(dir, "simulate --out " .. name
      .. " --devices 4 --hours 12 --seed 2 --faults " .. faults)
    assert(status == 0, err)
  end
end)
teardown(function() support.rmdir(dir) end)

describe("synclua sessions", function()
  it("lists every session with its outcome, and exits 1 for a failed one",
     function()
    local out, err, status = run(dir, "sessions --db faulty")
    assert.equal("", err)
    assert.equal(1, status)
    golden("faulty-sessions.txt", out)
    local r = synclua.json_decode((run(dir, "sessions --db faulty -f json")))
    assert.equal(23, #r.sessions)
    local kinds, outcomes = {}, {}
    for _, s in ipairs(r.sessions) do
      kinds[s.kind] = (kinds[s.kind] or 0) + 1
      outcomes[s.outcome] = (outcomes[s.outcome] or 0) + 1
    end
    assert.same({ backfill = 5, catch_up = 18 }, kinds)
    assert.same({ completed = 21, failed = 2 }, outcomes)
    assert.equal("finding", r.status)
  end)

  it("gives ids that synclua session takes", function()
    local r = synclua.json_decode((run(dir, "sessions --db faulty -f json")))
    local out, _, status = run(dir, "session " .. r.sessions[1].id
                                    .. " --db faulty")
    assert.equal(0, status)
    assert.matches("^session " .. r.sessions[1].id:sub(1, 8)
                   .. ": backfill of phone from desktop failed", out)
  end)

  it("exits 0 on a clean library", function()
    local out, _, status = run(dir, "sessions --db clean")
    assert.equal(0, status)
    assert.matches("^%d+ sessions: %d+ completed\n", out)
  end)
end)

describe("synclua report", function()
  it("gives each scenario's verdict and worst finding, device by device, "
     .. "and exits with the worst status", function()
    local out, err, status = run(dir, "report --db faulty")
    assert.equal("", err)
    assert.equal(1, status)
    golden("faulty-report.txt", out)
    local r = synclua.json_decode((run(dir, "report --db faulty -f json")))
    local names = {}
    for i, s in ipairs(r.scenarios) do names[i] = s.name .. ":" .. s.status end
    assert.same({ "why_failed:finding", "lost_data:finding",
                  "why_slow:finding", "which_peer:ok", "sessions:finding" },
                names)
  end)

  it("finds no problem on a clean library", function()
    local out, _, status = run(dir, "report --db clean")
    assert.equal(0, status)
    golden("clean-report.txt", out)
  end)

  it("runs on the demo library when there is no --db", function()
    local out, err, status = run(dir, "report")
    assert.equal(1, status)
    assert.truthy(err:find("using the demo library in ", 1, true))
    assert.matches("^%d of 5 scenarios found problems: why_failed", out)
  end)
end)
