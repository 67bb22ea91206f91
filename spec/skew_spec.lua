-- synclua.skew: clock offsets estimated from the logs. On simulated
-- libraries (whose devices.json gives the true offsets) the estimates must
-- hold the truth within their bounds; on stores built by hand, with
-- explicit timestamps, the exact bounds, the fall-back on connect and
-- disconnect events, the contradictions, and causality after correction.
local support = dofile("spec/fixtures/support.lua")
local synclua = require "synclua"
local sim = require "synclua.sim"
local skew = require "synclua.skew"

local MS = 1000000
local SEC = 1000000000

local scratch = support.tmpdir()
local opened = {}
teardown(function()
  for _, log in ipairs(opened) do log:close() end
  support.rmdir(scratch)
end)

-- A simulated library (4 devices, 24 hours, the default faults) in
-- scratch/NAME: its manifest and a stores list in the manifest's order, or
-- in `order` (names).
local libraries = {}
local function library(seed, name, order)
  name = name or ("seed" .. seed)
  local m = libraries[name]
  if not m then
    local dir = scratch .. "/" .. name
    assert(os.execute("mkdir " .. support.quote(dir)))
    m = assert(sim.generate{ out = dir, devices = 4, hours = 24, seed = seed,
                             faults = sim.DEFAULT_FAULTS,
                             start = synclua.parse_time(sim.DEFAULT_START) })
    m.dir = dir
    libraries[name] = m
  end
  local by_name = {}
  for _, d in ipairs(m.devices) do by_name[d.name] = d end
  local stores = {}
  for i, n in ipairs(order or { "desktop", "laptop", "phone", "nas" }) do
    local d = by_name[n]
    local log = assert(synclua.open(m.dir .. "/" .. d.path))
    opened[#opened + 1] = log
    stores[i] = { store = log, device = d.device_id, label = d.name }
  end
  return m, stores, by_name
end

-- Every device's estimate against the truth of the manifest: the truth
-- lies within the bounds (so the estimate, their midpoint, is within half
-- their width of it) and the bounds are under a second wide.
local function assert_recovered(m, stores, r)
  local truth = {}
  for _, d in ipairs(m.devices) do
    truth[d.device_id] = d.clock_offset_ms * MS
  end
  local ref = truth[stores[1].device]
  assert.equal(stores[1].device, r.reference)
  assert.same({ device = stores[1].device, label = stores[1].label,
                offset_ns = 0, low_ns = 0, high_ns = 0, pairs = 0,
                matches = 0, method = "reference", confidence = "reference",
                contradicted = false }, r.devices[1])
  for i = 2, #stores do
    local d = r.devices[i]
    local want = truth[d.device] - ref
    local width = d.high_ns - d.low_ns
    assert.equal(stores[i].device, d.device)
    assert.equal("causal", d.method)
    assert.is_false(d.contradicted)
    assert.is_true(d.low_ns <= want and want <= d.high_ns,
      ("%s: truth %d outside [%d, %d]"):format(d.label, want, d.low_ns,
                                                d.high_ns))
    assert.is_true(2 * math.abs(d.offset_ns - want) <= width + 1)
    assert.is_true(width < SEC, d.label .. ": bound " .. width)
    assert.equal(width <= skew.TIGHT_NS and "tight" or "loose", d.confidence)
    assert.is_true(d.pairs > 0)
    assert.is_truthy(r.by_device[d.via])
    assert.equal(d, r.by_device[d.device])
  end
  assert.same({}, r.violations)
end

-- A writable store at scratch/NAME.db for device `id`, holding `rows`:
-- { ms (after T0, on this device's clock), type, peer, session, count }.
local T0 = support.instant("2025-12-01 00:00:00")
local A = "aaaaaaaa-0000-4000-8000-000000000001"
local B = "bbbbbbbb-0000-4000-8000-000000000002"
local C = "cccccccc-0000-4000-8000-000000000003"
local S1 = "5e551011-0000-4000-8000-00000000000a"
local S2 = "5e551022-0000-4000-8000-00000000000b"
local n_built = 0
local function build(id, rows)
  n_built = n_built + 1
  local log = assert(synclua.open(("%s/built%d.db"):format(scratch, n_built),
                                  { mode = "w", device_id = id }))
  opened[#opened + 1] = log
  for _, r in ipairs(rows) do
    assert(log:append{ timestamp = T0 + math.floor(r[1] * MS + 0.5),
                       event_type = r[2], summary = r[2], peer_device_id = r[3],
                       correlation_id = r[4], record_count = r[5] })
  end
  assert(log:flush())
  return log
end

describe("skew.estimate()", function()
  for _, seed in ipairs{ 1, 2, 3 } do
    it(("recovers every device's true offset within its bounds (seed %d)")
       :format(seed), function()
      local m, stores = library(seed)
      assert_recovered(m, stores, skew.estimate(stores))
    end)
  end

  it("takes the first store as the reference", function()
    local m, stores = library(2, nil, { "phone", "nas", "desktop", "laptop" })
    local r = skew.estimate(stores)
    assert.equal(stores[1].device, r.reference)
    assert.same({ "phone", "nas", "desktop", "laptop" },
      { r.devices[1].label, r.devices[2].label, r.devices[3].label,
        r.devices[4].label })
    assert_recovered(m, stores, r)
  end)

  it("says how each offset was found, in one header line", function()
    local _, stores = library(2)
    stores[5] = { store = build(C, { { 0, "state_transition" } }),
                  device = C, label = "tablet" }
    local r = skew.estimate(stores)
    assert.same({ "clock offsets (relative to desktop): laptop -0.390 s "
                  .. "±0.009 (30 pairs), phone -0.377 s ±0.036 (52 pairs, "
                  .. "via laptop), nas -2.096 s ±0.001 (222 pairs), tablet: "
                  .. "no causal pairs, not corrected" }, skew.describe(r))
    assert.equal(stores[2].device, r.devices[3].via)
  end)

  it("needs no other device", function()
    local r = skew.estimate{ { store = build(A, {}), device = A,
                               label = "a" } }
    assert.same({ reference = A, devices = { r.by_device[A] },
                  by_device = { [A] = r.devices[1] }, links = {},
                  violations = {} }, r)
    assert.equal("reference", r.devices[1].confidence)
    assert.same({ "clock offsets (relative to a): no other device" },
                skew.describe(r))
  end)

  it("reports a device that no pair links, and leaves it uncorrected",
     function()
    local _, stores = library(1)
    stores[5] = { store = build(C, { { 0, "state_transition" },
                                     { 5, "peer_connected", A } }),
                  device = C, label = "tablet" }
    local r = skew.estimate(stores)
    assert.same({ device = C, label = "tablet", offset_ns = 0, pairs = 0,
                  matches = 0, method = "none", confidence = "none",
                  contradicted = false }, r.devices[5])
    assert.is_true(#r.links >= 3)
    for _, l in ipairs(r.links) do
      assert.is_true(l.a ~= C and l.b ~= C)
    end
  end)

  it("bounds a pair exactly: the request from above, the response from "
     .. "below", function()
    -- b's clock is 2 s ahead; 5 ms each way; b answers in 20 ms
    local a = build(A, { { 0, "backfill_request_sent", B, S1 },
                         { 31, "batch_ingestion", B, S1, 7 },
                         { 32, "catch_up_session_completed", B, S1 } })
    local b = build(B, { { 2005, "backfill_request_received", A, S1 },
                         { 2025, "backfill_response_sent", A, S1, 7 } })
    local r = skew.estimate{ { store = a, device = A, label = "a" },
                             { store = b, device = B, label = "b" } }
    assert.same({ device = B, label = "b", offset_ns = 1999500000,
                  low_ns = 1994 * MS, high_ns = 2005 * MS, pairs = 2,
                  matches = 0, via = A, method = "causal",
                  confidence = "tight", contradicted = false }, r.devices[2])
    assert.same({ { a = A, b = B, low_ns = 1994 * MS, high_ns = 2005 * MS,
                    pairs = 2, matches = 0, method = "causal",
                    contradicted = false } }, r.links)
    -- the other way round: the same bounds, negated
    r = skew.estimate{ { store = b, device = B, label = "b" },
                       { store = a, device = A, label = "a" } }
    assert.equal(-2005 * MS, r.devices[2].low_ns)
    assert.equal(-1994 * MS, r.devices[2].high_ns)
    assert.same({ "clock offsets (relative to b): a -2.000 s ±0.006 "
                  .. "(2 pairs)" }, skew.describe(r))
  end)

  it("takes a response's arrival from what proves it, not from a batch "
     .. "stamped earlier", function()
    -- Page 1's records are flushed on the batch grid at 2010, after the
    -- request for page 2 and before page 2 arrives: that batch must not
    -- bound page 2 (it would claim b's clock is 490 ms ahead, beyond the
    -- request's 5 ms).
    local a = build(A, { { 0, "backfill_request_sent", B, S1 },
                         { 2000, "backfill_request_sent", B, S1 },
                         { 2010, "batch_ingestion", B, S1, 5000 },
                         { 3990, "batch_ingestion", B, S1, 3000 },
                         { 4000, "backfill_session_completed", B, S1 } })
    local b = build(B, { { 5, "backfill_request_received", A, S1 },
                         { 10, "backfill_response_sent", A, S1, 5000 },
                         { 2005, "backfill_request_received", A, S1 },
                         { 2500, "backfill_response_sent", A, S1, 3000 } })
    local r = skew.estimate{ { store = a, device = A, label = "a" },
                             { store = b, device = B, label = "b" } }
    -- page 1 arrived before the request for page 2 (10 - 2000), page 2
    -- before the batch that holds its records (2500 - 3990)
    assert.same({ { a = A, b = B, low_ns = -1490 * MS, high_ns = 5 * MS,
                    pairs = 4, matches = 0, method = "causal",
                    contradicted = false } }, r.links)
    assert.same({}, r.violations)
  end)

  it("uses no session whose two logs do not line up", function()
    -- two requests sent, one received: which is which is unknown
    local a = build(A, { { 0, "backfill_request_sent", B, S1 },
                         { 100, "backfill_request_sent", B, S1 },
                         { 200, "backfill_session_completed", B, S1 } })
    local b = build(B, { { 50, "backfill_request_received", A, S1 },
                         { 60, "backfill_response_sent", A, S1, 1 } })
    local r = skew.estimate{ { store = a, device = A }, { store = b,
                                                          device = B } }
    assert.same({ device = B, label = "bbbbbbbb", offset_ns = 0, pairs = 0,
                  matches = 0, method = "none", confidence = "none",
                  contradicted = false }, r.devices[2])
    assert.same({ "clock offsets (relative to aaaaaaaa): bbbbbbbb: no "
                  .. "causal pairs, not corrected" }, skew.describe(r))
  end)

  it("falls back on connect and disconnect events where no session links "
     .. "two devices", function()
    -- b's clock is 3.2 s ahead; it logs each link change 40, -20, 10 and
    -- 0 ms after a does. Decoys: a link to another peer, a lone connect.
    local a = build(A, { { 0, "peer_connected", B },
                         { 600000, "peer_disconnected", B },
                         { 1200000, "peer_connected", B },
                         { 1800000, "peer_disconnected", B } })
    local b = build(B, { { 3240, "peer_connected", A },
                         { 3250, "peer_connected", C },
                         { 603180, "peer_disconnected", A },
                         { 903200, "peer_connected", A },
                         { 1203210, "peer_connected", A },
                         { 1803200, "peer_disconnected", A } })
    local r = skew.estimate{ { store = a, device = A, label = "a" },
                             { store = b, device = B, label = "b" } }
    -- each match m says [m - 1 s, m + 1 s]: [3.24 - 1, 3.18 + 1]
    assert.same({ device = B, label = "b", offset_ns = 3210 * MS,
                  low_ns = 2240 * MS, high_ns = 4180 * MS, pairs = 0,
                  matches = 4, via = A, method = "coincidence",
                  confidence = "loose", contradicted = false }, r.devices[2])
    assert.same({ "clock offsets (relative to a): b +3.210 s ±0.970 "
                  .. "(connect/disconnect only, 4 matches)" },
                skew.describe(r))
  end)

  it("cuts the connect/disconnect interval at a one-sided causal bound",
     function()
    -- as above, plus a request that b received 3.205 s later by the
    -- clocks (off_b - off_a <= 3.205 s) and never answered
    local a = build(A, { { 0, "peer_connected", B },
                         { 300000, "backfill_request_sent", B, S2 },
                         { 600000, "peer_disconnected", B } })
    local b = build(B, { { 3240, "peer_connected", A },
                         { 303205, "backfill_request_received", A, S2 },
                         { 603180, "peer_disconnected", A } })
    local r = skew.estimate{ { store = a, device = A, label = "a" },
                             { store = b, device = B, label = "b" } }
    assert.same({ device = B, label = "b", offset_ns = 2722500000,
                  low_ns = 2240 * MS, high_ns = 3205 * MS, pairs = 1,
                  matches = 2, via = A, method = "causal+coincidence",
                  confidence = "loose", contradicted = false }, r.devices[2])
    assert.same({ "clock offsets (relative to a): b +2.723 s ±0.483 "
                  .. "(1 pair, 2 matches)" }, skew.describe(r))
  end)

  it("lists the pairs whose bounds contradict", function()
    -- b took 490 ms to answer by its clock, a saw the round trip take 100
    local a = build(A, { { 0, "backfill_request_sent", B, S1 },
                         { 100, "batch_ingestion", B, S1, 5 } })
    local b = build(B, { { 10, "backfill_request_received", A, S1 },
                         { 500, "backfill_response_sent", A, S1, 5 } })
    local stores = { { store = a, device = A, label = "a" },
                     { store = b, device = B, label = "b" } }
    local r = skew.estimate(stores)
    local function ev(id, dev, index, type, ms)
      return { id = id, device = dev, label = index == 1 and "a" or "b",
               index = index, event_type = type, instant = T0 + ms * MS }
    end
    assert.same({ {
      a = A, b = B, a_label = "a", b_label = "b",
      low_ns = 400 * MS, high_ns = 10 * MS,
      lower = { kind = "response", correlation_id = S1, n = 1,
                send = ev(2, B, 2, "backfill_response_sent", 500),
                receive = ev(2, A, 1, "batch_ingestion", 100) },
      upper = { kind = "request", correlation_id = S1, n = 1,
                send = ev(1, A, 1, "backfill_request_sent", 0),
                receive = ev(1, B, 2, "backfill_request_received", 10) },
    } }, r.violations)
    assert.same({ device = B, label = "b", offset_ns = 205 * MS,
                  low_ns = 10 * MS, high_ns = 400 * MS, pairs = 2,
                  matches = 0, via = A, method = "causal",
                  confidence = "loose", contradicted = true }, r.devices[2])
    assert.same({ "clock offsets (relative to a): b +0.205 s ±0.195 "
                  .. "(2 pairs, bounds contradict)",
                  "clock bounds contradict between a and b: lower +0.400 s "
                  .. "(response, session 5e551011) > upper +0.010 s "
                  .. "(request, session 5e551011)" }, skew.describe(r))
  end)

  it("reads one device's rows from a store given for several devices",
     function()
    local log = build(A, { { 0, "backfill_request_sent", B, S1 },
                           { 31, "catch_up_session_completed", B, S1 } })
    assert(log:append{ device_id = B, timestamp = T0 + 2005 * MS,
                       event_type = "backfill_request_received",
                       summary = "r", peer_device_id = A,
                       correlation_id = S1 })
    assert(log:append{ device_id = B, timestamp = T0 + 2025 * MS,
                       event_type = "backfill_response_sent", summary = "s",
                       peer_device_id = A, correlation_id = S1,
                       record_count = 0 })
    assert(log:flush())
    local r = skew.estimate{ { store = log, device = A, label = "a" },
                             { store = log, device = B, label = "b" } }
    assert.equal(1994 * MS, r.devices[2].low_ns)
    assert.equal(2005 * MS, r.devices[2].high_ns)
    assert.equal(2, r.devices[2].pairs)
  end)

  it("gives the same result for the same library, every time", function()
    local _, stores = library(2)
    local _, again = library(2, "seed2-again")
    local r = skew.estimate(stores)
    assert.same(r, skew.estimate(stores))
    assert.same(r, skew.estimate(again))
  end)

  it("rejects what is not a list of stores, in Lua's words", function()
    local a = build(A, {})
    local cases = {
      { "x", "bad argument #1 to 'estimate' (table expected, got string)" },
      { {}, "bad argument #1 to 'estimate' (list of stores expected, got "
            .. "an empty table)" },
      { { 1 }, "bad argument #1 to 'estimate' (stores[1]: table expected, "
               .. "got number)" },
      { { { store = "db", device = A } }, "bad argument #1 to 'estimate' "
          .. "(stores[1].store: synclua.Store expected, got string)" },
      { { { store = a } }, "bad argument #1 to 'estimate' (stores[1].device: "
          .. "non-empty string expected, got nil)" },
      { { { store = a, device = "" } }, "bad argument #1 to 'estimate' "
          .. "(stores[1].device: non-empty string expected, got an empty "
          .. "string)" },
      { { { store = a, device = A, label = 7 } }, "bad argument #1 to "
          .. "'estimate' (stores[1].label: string expected, got number)" },
      { { { store = a, device = A }, { store = a, device = A:upper() } },
        "bad argument #1 to 'estimate' (stores[2].device: " .. A:upper()
        .. " is also stores[1]'s)" },
    }
    for _, c in ipairs(cases) do
      assert.equal(c[2], support.error_of(skew.estimate, c[1]))
    end
    local ok = { { store = a, device = A } }
    assert.equal("bad argument #2 to 'estimate' (table expected, got "
                 .. "number)", support.error_of(skew.estimate, ok, 1))
    assert.equal("bad argument #2 to 'estimate' (unknown option 'window')",
                 support.error_of(skew.estimate, ok, { window = 1 }))
    assert.equal("bad argument #2 to 'estimate' (coincidence_ns: positive "
                 .. "integer expected)",
                 support.error_of(skew.estimate, ok, { coincidence_ns = 0.5 }))
    assert.equal("bad argument #1 to 'check' (table expected, got nil)",
                 support.error_of(skew.check, nil, {}))
    assert.equal("bad argument #2 to 'check' (table expected, got string)",
                 support.error_of(skew.check, ok, "x"))
    assert.equal("bad argument #2 to 'check' (offset of " .. A
                 .. ": integer expected, got number)",
                 support.error_of(skew.check, ok, { [A] = 1.5 }))
    assert.equal("bad argument #1 to 'describe' (skew result expected, got "
                 .. "table)", support.error_of(skew.describe, {}))
  end)
end)

describe("skew.parse_manual()", function()
  it("reads DEVICE=OFFSET items in s or ms, exactly", function()
    assert.same({ { device = "laptop", offset_ns = 1500000000,
                    text = "laptop=+1.5s" } },
                skew.parse_manual("laptop=+1.5s"))
    assert.same({ { device = "4fc4", offset_ns = -250 * MS,
                    text = "4fc4=-250ms" },
                  { device = "phone", offset_ns = 1, text = "phone = "
                    .. "0.000000001s" },
                  { device = "nas", offset_ns = 500 * MS, text = "nas=.5s" },
                  { device = "tv", offset_ns = 1234, text = "tv=0.001234ms" } },
                skew.parse_manual(" 4fc4=-250ms, phone = 0.000000001s,"
                                  .. "nas=.5s,tv=0.001234ms"))
  end)

  it("names the input it cannot read", function()
    local cases = {
      { "", "--skew: empty value (expected DEVICE=OFFSET, e.g. "
            .. "laptop=+1.5s)" },
      { "laptop", "--skew 'laptop': expected DEVICE=OFFSET, e.g. "
                  .. "laptop=+1.5s" },
      { "=1s", "--skew '=1s': missing device before '='" },
      { "laptop=1.5", "--skew 'laptop=1.5': invalid offset '1.5' (expected "
          .. "a signed duration in s or ms, e.g. +1.5s or -250ms)" },
      { "laptop=2m", "--skew 'laptop=2m': invalid offset '2m' (expected a "
          .. "signed duration in s or ms, e.g. +1.5s or -250ms)" },
      { "laptop=0.0000000001s", "--skew 'laptop=0.0000000001s': invalid "
          .. "offset '0.0000000001s' (expected a signed duration in s or "
          .. "ms, e.g. +1.5s or -250ms)" },
      { "laptop=s", "--skew 'laptop=s': invalid offset 's' (expected a "
          .. "signed duration in s or ms, e.g. +1.5s or -250ms)" },
      { "a=1s,,b=2s", "--skew 'a=1s,,b=2s': empty item (expected "
          .. "DEVICE=OFFSET, e.g. laptop=+1.5s)" },
      { "a=1s,a=2s", "--skew 'a=1s,a=2s': a is given twice" },
    }
    for _, c in ipairs(cases) do
      local got, msg = skew.parse_manual(c[1])
      assert.is_nil(got)
      assert.equal(c[2], msg)
    end
    assert.equal("bad argument #1 to 'parse_manual' (string expected, got "
                 .. "number)", support.error_of(skew.parse_manual, 5))
  end)
end)

describe("skew.apply()", function()
  it("sets the named devices' offsets, by label or id prefix, in a copy",
     function()
    local _, stores = library(2)
    local r = skew.estimate(stores)
    local phone = r.devices[3].offset_ns
    local m = assert(skew.parse_manual("phone=+1.5s,56E8=-2ms"))
    local out = assert(skew.apply(r, m))
    assert.same({ device = stores[3].device, label = "phone",
                  offset_ns = 1500 * MS, low_ns = 1500 * MS,
                  high_ns = 1500 * MS, pairs = 52, matches = 0,
                  via = stores[2].device, method = "manual",
                  confidence = "manual", contradicted = false },
                out.devices[3])
    assert.equal(-2 * MS, out.by_device[stores[4].device].offset_ns)
    assert.equal(phone, r.devices[3].offset_ns)
    assert.same({ "clock offsets (relative to desktop): laptop -0.390 s "
                  .. "±0.009 (30 pairs), phone +1.500 s (manual), nas "
                  .. "-0.002 s (manual)" }, skew.describe(out))
  end)

  it("names an unknown or ambiguous device and the devices there are",
     function()
    local _, stores = library(2)
    local r = skew.estimate(stores)
    local list = "desktop bfc84610, laptop 4fc446b5, phone bd34d3ae, nas "
                 .. "56e84498"
    local got, msg = skew.apply(r, skew.parse_manual("b=1s"))
    assert.is_nil(got)
    assert.equal("--skew 'b=1s': 'b' matches several devices (" .. list
                 .. ")", msg)
    got, msg = skew.apply(r, skew.parse_manual("tv=1s"))
    assert.is_nil(got)
    assert.equal("--skew 'tv=1s': no device 'tv' (devices: " .. list .. ")",
                 msg)
    assert.equal("bad argument #2 to 'apply' (table expected, got string)",
                 support.error_of(skew.apply, r, "phone=1s"))
    assert.equal("bad argument #1 to 'apply' (skew result expected, got "
                 .. "nil)", support.error_of(skew.apply, nil, {}))
  end)
end)

describe("skew.check()", function()
  it("finds no receipt before its send with the true offsets, and many "
     .. "without correction", function()
    local m, stores = library(3)
    local truth = {}
    for _, d in ipairs(m.devices) do
      truth[d.device_id] = (d.clock_offset_ms - m.devices[1].clock_offset_ms)
                           * MS
    end
    assert.same({}, skew.check(stores, truth))
    assert.same({}, skew.check(stores, skew.estimate(stores)))
    local raw = skew.check(stores, {})
    assert.is_true(#raw > 100)
    for _, v in ipairs(raw) do
      assert.equal(v.send.adjusted - v.receive.adjusted, v.by_ns)
      assert.is_true(v.by_ns > 0)
      assert.equal(v.send.instant, v.send.adjusted)
    end
  end)

  it("names both events of each pair still reversed after correction",
     function()
    local a = build(A, { { 0, "backfill_request_sent", B, S1 },
                         { 100, "batch_ingestion", B, S1, 5 } })
    local b = build(B, { { 10, "backfill_request_received", A, S1 },
                         { 500, "backfill_response_sent", A, S1, 5 } })
    local stores = { { store = a, device = A, label = "a" },
                     { store = b, device = B, label = "b" } }
    local function ev(id, dev, index, type, ms, adj)
      return { id = id, device = dev, label = index == 1 and "a" or "b",
               index = index, event_type = type, instant = T0 + ms * MS,
               adjusted = T0 + adj * MS }
    end
    -- b corrected by its estimate, 205 ms: both pairs reversed by 195 ms
    assert.same({
      { kind = "request", correlation_id = S1, by_ns = 195 * MS,
        send = ev(1, A, 1, "backfill_request_sent", 0, 0),
        receive = ev(1, B, 2, "backfill_request_received", 10, -195) },
      { kind = "response", correlation_id = S1, by_ns = 195 * MS,
        send = ev(2, B, 2, "backfill_response_sent", 500, 295),
        receive = ev(2, A, 1, "batch_ingestion", 100, 100) },
    }, skew.check(stores, skew.estimate(stores)))
    -- uncorrected, only the response arrives 400 ms before it was sent
    local raw = skew.check(stores, {})
    assert.equal(1, #raw)
    assert.equal("response", raw[1].kind)
    assert.equal(400 * MS, raw[1].by_ns)
    -- b corrected by 400 ms, the request is the one reversed, by 390 ms
    local over = skew.check(stores, { [B] = 400 * MS })
    assert.equal(1, #over)
    assert.equal("request", over[1].kind)
    assert.equal(390 * MS, over[1].by_ns)
  end)
end)
