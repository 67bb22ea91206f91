-- The pictures of a library: the model both draw from (synclua.view), the
-- trace-event JSON (-f trace, synclua.export.trace) and the HTML page (-f
-- html, synclua.export.html), on a hand-made pair of devices whose every
-- number is known: A asks B for one page of a backfill, B's clock runs
-- ahead, and B logs an error whose summary is an HTML injection. The
-- browser suite (spec/browser/) opens the page and the trace in Chromium
-- and in DevTools' trace engine.
--
-- The trace is pinned by spec/golden/views/small.trace.json; rewrite it
-- with SYNCLUA_UPDATE_GOLDEN=1 and read the diff.
local support = dofile("spec/fixtures/support.lua")
local synclua = require "synclua"
local view = require "synclua.view"
local inputs = require "synclua.inputs"
local quote = support.quote

local A = "aaaaaaaa-0000-4000-8000-000000000001"
local B = "bbbbbbbb-0000-4000-8000-000000000002"
local CID = "cccccccc-0000-4000-8000-000000000003"
local INJECTION = "</script><script>window.pwned=1</script>"

-- ns of 2025-12-03T10:00:SS.mmm UTC
local function at(secs, ms)
  return assert(synclua.parse_rfc3339(("2025-12-03T10:00:%02d.%03dZ")
    :format(secs, ms or 0)))
end

-- The two stores in dir: a.db (A, the requester) and b.db (B, whose clock
-- reads 1.6 s ahead of A's by the two causal pairs' bounds).
local function library(dir)
  local function store(path, dev, rows)
    local log = assert(synclua.open(dir .. "/" .. path,
                                    { mode = "w", device_id = dev }))
    for _, r in ipairs(rows) do assert(log:append(r)) end
    log:close()
  end
  store("a.db", A, {
    { event_type = "backfill_session_started", correlation_id = CID,
      summary = "Backfill session started",
      timestamp = "2025-12-03T10:00:00Z" },
    { event_type = "backfill_session_started", correlation_id = CID,
      peer_device_id = B, summary = "Backfill session started with peer",
      timestamp = "2025-12-03T10:00:00.100Z" },
    { event_type = "backfill_request_sent", correlation_id = CID,
      peer_device_id = B, summary = "Backfill request sent",
      timestamp = "2025-12-03T10:00:01Z", model_types = { "location" } },
    { event_type = "batch_ingestion", correlation_id = CID,
      peer_device_id = B, record_count = 1000, duration_ms = 500,
      summary = "Ingested batch of 1000 records",
      timestamp = "2025-12-03T10:00:03Z", model_types = { "location" } },
    { event_type = "backfill_session_completed", correlation_id = CID,
      peer_device_id = B, record_count = 1000, duration_ms = 4000,
      summary = "Backfill session completed",
      timestamp = "2025-12-03T10:00:04Z" },
  })
  store("b.db", B, {
    { event_type = "backfill_request_received", correlation_id = CID,
      peer_device_id = A, summary = "Backfill request received",
      timestamp = "2025-12-03T10:00:03.200Z", model_types = { "location" } },
    { event_type = "backfill_response_sent", correlation_id = CID,
      peer_device_id = A, record_count = 1000,
      summary = "Backfill response sent: 1000 records",
      timestamp = "2025-12-03T10:00:04Z" },
    { event_type = "sync_error", severity = "error", summary = INJECTION,
      details = { note = "<b>bold</b>" },
      timestamp = "2025-12-03T10:00:05Z" },
  })
end

local function run(dir, args)
  return support.synclua(dir, args, "SYNCLUA_NOW=2025-12-04T00:00:00Z "
    .. "XDG_CACHE_HOME=" .. quote(dir .. "/cache"))
end

describe("synclua.view.build()", function()
  local dir, set
  before_each(function()
    dir = support.tmpdir()
    library(dir)
    set = inputs.resolve({ dir .. "/a.db", dir .. "/b.db" }, {})
  end)
  after_each(function()
    set:close()
    support.rmdir(dir)
  end)

  it("gives each device its label and the offset timeline applies", function()
    local m = assert(view.build(set, {}))
    assert.equal(2, #m.devices)
    assert.same({ index = 1, id = A, label = "aaaaaaaa", offset_ns = 0,
                  events = 0 }, m.devices[1])
    assert.same({ index = 2, id = B, label = "bbbbbbbb",
                  offset_ns = 1600000000, events = 0 }, m.devices[2])
    assert.same({ "clock offsets (relative to aaaaaaaa): bbbbbbbb +1.600 s "
                  .. "±0.600 (2 pairs)" }, m.clock)
    assert.equal(at(0), m.origin)
  end)

  it("rebuilds the session with its batch, records/s and corrected times",
     function()
    local m = assert(view.build(set, { gap = 2 * 1000000000 }))
    assert.equal(1, #m.sessions)
    local s = m.sessions[1]
    assert.equal(CID, s.id)
    assert.equal("backfill", s.kind)
    assert.equal(1, s.device)
    assert.equal("completed", s.status)
    assert.equal(B, s.peer)
    assert.equal("bbbbbbbb", s.peer_label)
    assert.equal(at(0), s.start)
    assert.equal(at(4), s.stop)
    assert.equal(1000, s.records)
    assert.equal(250.0, s.rate)
    assert.same({ { id = 4, start = at(2, 500), stop = at(3), records = 1000,
                    rate = 2000.0, attributed = false } }, s.batches)
    -- 2.5 s without records from the start to the batch; 1 s after it
    assert.same({ { from = at(0), to = at(2, 500) } }, s.gaps)
  end)

  it("streams the events in corrected order and links the causal chain",
     function()
    local m = assert(view.build(set, {}))
    local seen = {}
    local n = m:stream(function(ev, i, adjusted)
      seen[#seen + 1] = ("%d#%d %s %d"):format(i, ev.id, ev.event_type,
                                               (adjusted - at(0)) // 1000000)
    end)
    assert.equal(8, n)
    assert.same({ "1#1 backfill_session_started 0",
                  "1#2 backfill_session_started 100",
                  "1#3 backfill_request_sent 1000",
                  "2#1 backfill_request_received 1600",
                  "2#2 backfill_response_sent 2400",
                  "1#4 batch_ingestion 3000",
                  "2#3 sync_error 3400",
                  "1#5 backfill_session_completed 4000" }, seen)
    assert.equal(5, m.devices[1].events)
    assert.equal(3, m.devices[2].events)
    assert.same({ { correlation_id = CID, n = 1, steps = {
      { device = 1, id = 3, event_type = "backfill_request_sent", at = at(1) },
      { device = 2, id = 1, event_type = "backfill_request_received",
        at = at(1, 600) },
      { device = 2, id = 2, event_type = "backfill_response_sent",
        at = at(2, 400) },
      { device = 1, id = 4, event_type = "batch_ingestion", at = at(3) },
    } } }, m.links)
    assert.equal("stream: the model was streamed already",
                 support.error_of(m.stream, m, function() end))
  end)

  it("keeps only the steps of a chain among the events shown", function()
    local m = assert(view.build(set, { filter = { device = A } }))
    m:stream(function() end)
    -- B's two steps are filtered out; A's request and batch remain
    assert.equal(1, #m.links)
    assert.same({ 3, 4 }, { m.links[1].steps[1].id, m.links[1].steps[2].id })
    local none = assert(view.build(set, { filter = { event_type = "sync_error" } }))
    none:stream(function() end)
    assert.same({}, none.links)
  end)

  it("cites a report's evidence by device index", function()
    local m = assert(view.build(set, { name = "why_failed", result = {
      verdict = "sync failed", status = "finding", findings = { {
        kind = "other", severity = "error", summary = "x",
        evidence = { { device = B, id = 3, event_type = "sync_error",
                       timestamp = "2025-12-03T10:00:05+00:00" } } } } } }))
    assert.same({ name = "why_failed", verdict = "sync failed",
                  status = "finding", scenarios = {}, findings = { {
      kind = "other", severity = "error", summary = "x", evidence = { {
        device = 2, id = 3, event_type = "sync_error",
        timestamp = "2025-12-03T10:00:05+00:00" } } } } }, m.verdict)
  end)

  it("refuses a bad --skew and misuse in Lua's words", function()
    assert.same({ nil, "--skew 'zz=+1s': no device 'zz' (devices: aaaaaaaa "
                  .. "aaaaaaaa, bbbbbbbb bbbbbbbb)" },
                { view.build(set, { skew = "zz=+1s" }) })
    assert.equal("bad argument #1 to 'build' (table expected, got nil)",
                 support.error_of(view.build, nil, {}))
    assert.equal("bad argument #2 to 'build' (table expected, got string)",
                 support.error_of(view.build, set, "x"))
  end)
end)

describe("synclua timeline -f trace", function()
  local dir
  before_each(function()
    dir = support.tmpdir()
    library(dir)
  end)
  after_each(function() support.rmdir(dir) end)

  it("writes the trace-event JSON exactly", function()
    local out, err, status = run(dir, "timeline --db a.db --db b.db -f trace")
    assert.equal(0, status)
    assert.equal("synclua timeline: clock offsets (relative to aaaaaaaa): "
                 .. "bbbbbbbb +1.600 s ±0.600 (2 pairs)\n", err)
    assert.equal(support.golden("spec/golden/views/small.trace.json", out), out)
    local doc = assert(synclua.json_decode(out))
    assert.equal(14 + 2 + 8 + 4, #doc.traceEvents)
  end)

  it("writes -o atomically and says what it exported", function()
    local out, _, status = run(dir, "timeline --db a.db --db b.db -f trace "
                                    .. "-o t.json")
    assert.equal(0, status)
    assert.equal("Exported 8 events to t.json\n", out)
    local doc = assert(synclua.json_decode(support.slurp(dir .. "/t.json")))
    assert.equal("2025-12-03T10:00:00+00:00", doc.otherData.origin)
    assert.equal("a.db b.db t.json", support.listing(dir))
  end)
end)

describe("synclua timeline -f html", function()
  local dir
  before_each(function()
    dir = support.tmpdir()
    library(dir)
  end)
  after_each(function() support.rmdir(dir) end)

  -- The JSON of a <script type="application/json" id=ID> element.
  local function data(page, id)
    local text = page:match('<script type="application/json" id="'
      .. (id:gsub("%-", "%%-")) .. '">(.-)</script>')
    assert(text, "no " .. id)
    return assert(synclua.json_decode(text))
  end

  it("is one self-contained page: nothing fetched, the data inline", function()
    local page, _, status = run(dir, "timeline --db a.db --db b.db -f html")
    assert.equal(0, status)
    assert.equal("<!DOCTYPE html>\n", page:sub(1, 16))
    assert.is_nil(page:find("https?://"))
    assert.is_nil(page:find("<script[^>]* src=", 1))
    assert.is_nil(page:find("<link", 1, true))
    assert.is_nil(page:find("@import", 1, true))
    assert.is_nil(page:find("url(", 1, true))
    local events = data(page, "synclua-events")
    assert.equal(8, #events)
    local m = data(page, "synclua-model")
    assert.equal(8, m.events)
    assert.same({ "aaaaaaaa", "bbbbbbbb" },
                { m.devices[1].label, m.devices[2].label })
    assert.equal("clock +1.600 s", m.devices[2].offset_text)
    assert.equal(1, #m.sessions)
    assert.equal(1, #m.links)
    assert.equal(4, #m.links[1].steps)
  end)

  it("keeps a summary holding </script> as text", function()
    local page = run(dir, "timeline --db a.db --db b.db -f html")
    -- the only </script> are the page's own three
    local n = 0
    for _ in page:gmatch("</script>") do n = n + 1 end
    assert.equal(3, n)
    assert.is_nil(page:find(INJECTION, 1, true))
    assert.truthy(page:find("\\u003c/script>\\u003cscript>window.pwned=1"
                            .. "\\u003c/script>", 1, true))
    local events = data(page, "synclua-events")
    assert.equal(INJECTION, events[7][6])
    assert.same({ note = "<b>bold</b>" }, events[7][12])
  end)
end)

describe("-f html and -f trace on the reports", function()
  local dir
  before_each(function()
    dir = support.tmpdir()
    library(dir)
  end)
  after_each(function() support.rmdir(dir) end)

  for _, name in ipairs{ "report", "sessions", "why_failed", "why_slow",
                         "lost_data", "which_peer", "peers" } do
    it(name .. " writes both, with its verdict and exit status", function()
      local json = run(dir, name .. " --db a.db --db b.db -f json")
      local result = assert(synclua.json_decode(json))
      for _, f in ipairs{ "trace", "html" } do
        local out, err, status = run(dir, ("%s --db a.db --db b.db -f %s "
                                          .. "-o x.%s"):format(name, f, f))
        assert.equal(result.exit, status)
        assert.equal(("Exported 8 events to x.%s\n"):format(f), out)
        assert.equal(("synclua %s: note: clock offsets (relative to "
          .. "aaaaaaaa): bbbbbbbb +1.600 s ±0.600 (2 pairs)\n"):format(name),
          err)
        local text = support.slurp(dir .. "/x." .. f)
        if f == "trace" then
          local doc = assert(synclua.json_decode(text))
          assert.same({ command = name, verdict = result.verdict,
                        status = result.status }, doc.otherData.verdict)
        else
          assert.truthy(text:find('<div class="v">'
            .. result.verdict:gsub("<", "&lt;"):gsub(">", "&gt;")
            .. "</div>", 1, true))
        end
      end
    end)
  end

  it("session draws its own session's events alone", function()
    local out, _, status = run(dir, "session cccc --db a.db --db b.db -f trace")
    assert.equal(0, status)
    local doc = assert(synclua.json_decode(out))
    local instants = 0
    for _, e in ipairs(doc.traceEvents) do
      if e.ph == "i" then
        instants = instants + 1
        assert.equal(CID, e.args.correlation_id)
      end
    end
    assert.equal(7, instants)
  end)

  it("links why_failed's evidence to its event", function()
    local page, _, status = run(dir, "why_failed --db a.db --db b.db -f html")
    assert.equal(1, status)
    assert.truthy(page:find('<a class="ev" href="#" data-device="2" '
      .. 'data-id="3">bbbbbbbb #3 sync_error</a>', 1, true))
  end)
end)
