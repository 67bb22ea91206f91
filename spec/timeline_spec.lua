-- synclua timeline and synclua.merge: several devices' logs as one stream,
-- in order of corrected time, every row attributed, none dropped.
local support = dofile("spec/fixtures/support.lua")
local synclua = require "synclua"
local quote = support.quote

local EXE = support.EXE

-- Run `synclua timeline ARGS` in dir; stdout, stderr, exit status.
local function synclua_run(dir, args)
  return support.synclua(dir, "timeline " .. args,
                         "SYNCLUA_NOW=2025-12-02T00:00:00Z")
end

local lines = support.lines

describe("synclua.merge()", function()
  local dir
  before_each(function() dir = support.tmpdir() end)
  after_each(function() support.rmdir(dir) end)

  -- Two stores with rows at the given seconds past 10:00.
  local function stores(a, b)
    local logs = {}
    for i, secs in ipairs{ a, b } do
      local log = assert(synclua.open(dir .. "/" .. i .. ".db",
                                      { mode = "w",
                                        device_id = synclua.uuid() }))
      for _, s in ipairs(secs) do
        assert(log:append{ event_type = "state_transition",
                           summary = i .. "@" .. s,
                           timestamp = ("2025-12-03T10:00:%02dZ"):format(s) })
      end
      log:close()
      logs[i] = assert(synclua.open(dir .. "/" .. i .. ".db"))
    end
    return logs
  end

  local function summaries(logs, opts, filter)
    local cursors = {}
    for i, log in ipairs(logs) do cursors[i] = log:cursor(filter or
                                                          { order = "asc" }) end
    local out = {}
    for ev, src in synclua.merge(cursors, opts) do
      out[#out + 1] = ev.summary .. "/" .. src .. "/" .. ev.device_label
    end
    return table.concat(out, " ")
  end

  it("interleaves by instant, ties in source order, labels each row",
     function()
    local logs = stores({ 1, 3, 5 }, { 2, 3, 4 })
    assert.equal("1@1/1/a 2@2/2/b 1@3/1/a 2@3/2/b 2@4/2/b 1@5/1/a",
                 summaries(logs, { labels = { "a", "b" } }))
    assert.equal("1@5/1/1 2@4/2/2 1@3/1/1 2@3/2/2 2@2/2/2 1@1/1/1",
                 summaries(logs, { order = "desc" }, { order = "desc" }))
  end)

  it("subtracts each source's clock offset and stops at the limit",
     function()
    local logs = stores({ 1, 3, 5 }, { 2, 3, 4 })
    -- Source 2 runs 2 s fast: its rows are at 0, 1 and 2.
    assert.equal("2@2/2/b 1@1/1/a 2@3/2/b", summaries(logs,
      { labels = { "a", "b" }, offsets = { 0, 2000000000 }, limit = 3 }))
  end)

  it("hands out rendered rows with the label and the corrected time",
     function()
    local logs = stores({ 1 }, { 2 })
    local cursors = { logs[1]:cursor{ order = "asc" },
                      logs[2]:cursor{ order = "asc" } }
    local rows = {}
    for row in synclua.merge(cursors, { labels = { "a", "b" },
                                        offsets = { 0, 1500000000 },
                                        render = "csv" }) do
      rows[#rows + 1] = row:match(",([^,]*,[^,]*)\r\n$")
    end
    assert.same({ "b,2025-12-03T10:00:00.500Z", "a,2025-12-03T10:00:01Z" },
                rows)
  end)

  it("takes cursors only once and refuses a rendering one", function()
    local logs = stores({ 1 }, { 2 })
    local c = logs[1]:cursor{}
    synclua.merge({ c })
    assert.equal("bad argument #1 to 'merge' (cursors[1]: the cursor is "
                 .. "closed or already merged)",
                 support.error_of(function() return synclua.merge({ c }) end))
    local r = logs[2]:cursor{ render = "json" }
    assert.equal("bad argument #1 to 'merge' (cursors[2]: a cursor opened "
                 .. "with render cannot be merged)",
                 support.error_of(function()
                   return synclua.merge({ logs[1]:cursor{}, r }) end))
    assert.equal("bad argument #1 to 'merge' (cursors[1]: synclua.Cursor "
                 .. "expected)",
                 support.error_of(function() return synclua.merge({ 1 }) end))
    local d = logs[2]:cursor{}
    assert.equal("bad argument #1 to 'merge' (cursors[2]: the same cursor "
                 .. "as cursors[1])",
                 support.error_of(function() return synclua.merge({ d, d })
                 end))
    assert.equal("bad argument #2 to 'merge' (unknown option 'speed')",
                 support.error_of(function()
                   return synclua.merge({}, { speed = 1 }) end))
  end)
end)

describe("synclua timeline", function()
  local dir, manifest
  setup(function()
    dir = support.tmpdir()
    local _, ok = support.capture(("%s simulate --out %s/lib --devices 3 "
      .. "--hours 3 --seed 5 >/dev/null 2>&1"):format(quote(EXE),
                                                       quote(dir)))
    assert.is_true(ok)
    manifest = synclua.json_decode(support.slurp(dir .. "/lib/devices.json"))
  end)
  teardown(function() support.rmdir(dir) end)

  local function dbs()
    local args = {}
    for _, d in ipairs(manifest.devices) do
      args[#args + 1] = "--db lib/" .. d.name
      -- By path: a device without events has no id to be known by.
      args[#args + 1] = "--label lib/" .. d.name .. "=" .. d.name
    end
    return table.concat(args, " ")
  end

  local function total_events()
    local n = 0
    for _, d in ipairs(manifest.devices) do n = n + d.events end
    return n
  end

  it("writes every device's every event once, in corrected time order",
     function()
    local out, err, status = synclua_run(dir, dbs() .. " -f ndjson")
    assert.equal(0, status)
    assert.equal("", err:gsub("synclua timeline: clock offsets[^\n]*\n", ""))
    local rows, last = lines(out), nil
    assert.equal(total_events(), #rows)
    local per = {}
    for _, line in ipairs(rows) do
      local row = synclua.json_decode(line)
      local t = synclua.parse_rfc3339(row.adjusted_timestamp)
      assert.is_true(last == nil or t >= last, line)
      last = t
      per[row.device_label] = (per[row.device_label] or 0) + 1
    end
    for _, d in ipairs(manifest.devices) do
      assert.equal(d.events, per[d.name] or 0)
    end
  end)

  it("recovers the devices' clock offsets within the bounds it prints",
     function()
    local out = synclua_run(dir, dbs() .. " --limit 1")
    local header = out:match("\n# clock offsets %(relative to (.-)\n")
    assert.truthy(header, out)
    local truth = {}
    for _, d in ipairs(manifest.devices) do truth[d.name] = d.clock_offset_ms end
    local ref = header:match("^(%S+)%)")
    for name, sign, secs, bound in header:gmatch("(%w+) ([+-])([%d.]+) s ±([%d.]+)") do
      local estimate = tonumber(secs) * (sign == "-" and -1 or 1)
      local actual = (truth[name] - truth[ref]) / 1000
      assert.is_true(math.abs(estimate - actual) <= tonumber(bound) + 0.001,
                     ("%s: %.3f vs %.3f ±%s"):format(name, estimate, actual,
                                                     bound))
    end
  end)

  it("keeps each row's device time beside the corrected one", function()
    local out = synclua_run(dir, dbs() .. " -f ndjson --limit 50")
    local shifted = 0
    for _, line in ipairs(lines(out)) do
      local row = synclua.json_decode(line)
      if row.timestamp ~= row.adjusted_timestamp then shifted = shifted + 1 end
    end
    assert.is_true(shifted > 0)
    local text = synclua_run(dir, dbs() .. " --limit 50")
    assert.truthy(text:find("%[device clock %d%d%d%d%-%d%d%-%d%d "))
  end)

  it("leaves clocks alone with --skew none and flags what a wrong offset "
     .. "puts out of order", function()
    local out = synclua_run(dir, dbs() .. " --skew none --limit 3")
    assert.falsy(out:find("^# clock offsets"))
    local phone -- a device with events, not the reference (the first)
    for i = #manifest.devices, 2, -1 do
      if manifest.devices[i].events > 0 then phone = manifest.devices[i].name end
    end
    local _, err = synclua_run(dir, dbs() .. " --skew " .. phone .. "=+30s"
                               .. " --limit 1 -f ndjson")
    assert.truthy(err:find("causality violation: session %x+%-"), err)
  end)

  it("writes the formats of synclua events, with the device", function()
    local json = synclua_run(dir, dbs() .. " -f json --limit 2")
    local arr = synclua.json_decode(json)
    assert.equal(2, #arr)
    assert.truthy(arr[1].device_id and arr[1].device_label
                  and arr[1].adjusted_timestamp)
    local csv = synclua_run(dir, dbs() .. " -f csv --limit 1")
    assert.equal("id,timestamp,device_id,event_type,category,severity,"
                 .. "summary,details,correlation_id,peer_device_id,"
                 .. "model_types,record_count,duration_ms,device_label,"
                 .. "adjusted_timestamp", csv:match("^[^\r]*"))
    local md = synclua_run(dir, dbs() .. " -f markdown --limit 1")
    assert.truthy(md:find("| Timestamp | Device | Event Type | Severity | "
                          .. "Summary |", 1, true))
    assert.truthy(md:find("**Event Count**: 1\n", 1, true))
  end)

  it("reads exports of synclua events, with --device where they lack it",
     function()
    local d, p = manifest.devices[1], manifest.devices[3]
    local _, ok = support.capture(("cd %s && %s events --db lib/%s -f json "
      .. "--with-device --limit 100000 -o a.json >/dev/null && %s events "
      .. "--db lib/%s -f sql --limit 100000 -o b.sql >/dev/null && %s events "
      .. "--db lib/%s -f json --limit 100000 -o c.json >/dev/null")
      :format(quote(dir), quote(EXE), d.name, quote(EXE), p.name, quote(EXE),
              p.name))
    assert.is_true(ok)
    local from_exports = synclua_run(dir, "--db a.json --db b.sql -f ndjson")
    local from_stores = synclua_run(dir, ("--db lib/%s --db lib/%s -f ndjson")
                                           :format(d.name, p.name))
    -- The same rows in the same order; ids are the stores' own.
    local function strip(text)
      return (text:gsub('"id":%d+,', ""):gsub('"device_label":"[^"]*",', ""))
    end
    assert.equal(strip(from_stores), strip(from_exports))
    local _, err, status = synclua_run(dir, "--db a.json --db c.json")
    assert.equal(2, status)
    assert.equal("synclua timeline: c.json: the events carry no device_id (a "
      .. "JSON export made without --with-device): give their device with "
      .. "--device-of c.json=UUID\n", err)
    -- Spacedrive's default export has nine fields (no model_types, no
    -- category): the same events in the same order, with what it carries.
    local out = synclua_run(dir, "--db a.json --db c.json --device-of c.json="
                                 .. p.device_id .. " -f ndjson")
    local function carried(text)
      local rows = {}
      for _, line in ipairs(lines(text)) do
        local r = synclua.json_decode(line)
        rows[#rows + 1] = table.concat({ r.adjusted_timestamp, r.device_id,
          r.event_type, r.severity, r.summary }, "|")
      end
      return table.concat(rows, "\n")
    end
    assert.equal(carried(from_stores), carried(out))
  end)

  it("refuses bad usage with exit 2 and a message naming the input",
     function()
    local _, err, status = synclua_run(dir, dbs() .. " -f xml")
    assert.equal(2, status)
    assert.equal("synclua timeline: Unknown format: xml. Use text, json, "
                 .. "ndjson, csv, sql, markdown, html or trace\n", err)
    _, err, status = synclua_run(dir, "--db lib/" .. manifest.devices[1].name
                                 .. " --label nobody=x")
    assert.equal(2, status)
    assert.equal("synclua timeline: --label: no input is device or file "
                 .. "'nobody'\n", err)
    _, err, status = synclua_run(dir, dbs() .. " --skew sideways")
    assert.equal(2, status)
    assert.truthy(err:find("^synclua timeline: %-%-skew: "), err)
    _, err, status = synclua_run(dir, "--db lib/missing")
    assert.equal(3, status)
    assert.equal("synclua timeline: lib/missing: no such file\n", err)
  end)
end)

describe("synclua.timeline.write()", function()
  local timeline = require "synclua.timeline"
  local dir
  setup(function()
    dir = support.tmpdir()
    local _, ok = support.capture(("%s simulate --out %s/lib --devices 3 "
      .. "--hours 3 --seed 5 >/dev/null 2>&1"):format(quote(EXE),
                                                       quote(dir)))
    assert.is_true(ok)
  end)
  teardown(function() support.rmdir(dir) end)

  it("writes what synclua timeline writes, its stderr lines under the "
     .. "command's name", function()
    local t_out, t_err, t_status = synclua_run(dir, "--db lib/desktop "
      .. "--db lib/laptop --db lib/phone --label lib/phone=phone -f sql "
      .. "-o timeline.sql")
    assert.equal(0, t_status)
    support.spit(dir .. "/fetch.lua", [[
      local synclua = require "synclua"
      local inputs = require "synclua.inputs"
      local output = require "synclua.output"
      local timeline = require "synclua.timeline"
      local set <close> = inputs.resolve{ "lib/desktop", "lib/laptop",
                                          "lib/phone" }
      local out <close> = output.open("fetch.sql")
      io.write(timeline.write(set, {
        out = out, labels = { { key = "lib/phone", value = "phone" } },
        format = "sql", now = synclua.parse_time("2025-12-02T00:00:00Z"),
        name = "fetch" }), "\n")
      out:commit()
    ]])
    local out, err, status = support.synclua(dir, "fetch.lua")
    assert.equal(0, status)
    local count = assert(t_out:match("^Exported (%d+) events to timeline%.sql\n$"))
    assert.equal(count .. "\n", out)
    assert.truthy(err:find("^synclua fetch: clock offsets "), err)
    assert.equal((t_err:gsub("synclua timeline: ", "synclua fetch: ")), err)
    assert.equal(support.slurp(dir .. "/timeline.sql"),
                 support.slurp(dir .. "/fetch.sql"))
  end)

  it("raises the command's failures and refuses misuse", function()
    local inputs = require "synclua.inputs"
    local set <close> = inputs.resolve{ dir .. "/lib/desktop" }
    local sink = { write = function() end }
    local e = support.error_of(timeline.write, set, { out = sink,
      labels = { { key = "tablet", value = "t" } } })
    assert.equal("invalid", e.code)
    assert.equal("--label: no input is device or file 'tablet'", e.message)
    e = support.error_of(timeline.write, set, { out = sink, skew = "x" })
    assert.equal("invalid", e.code)
    assert.equal("bad argument #1 to 'write' (table expected, got nil)",
                 support.error_of(timeline.write))
    assert.equal("bad argument #2 to 'write' (format: one of text, json, "
                 .. "ndjson, csv, sql, markdown, html, trace expected, got xml)",
                 support.error_of(timeline.write, set,
                                  { out = sink, format = "xml" }))
    assert.equal("bad argument #2 to 'write' (order: 'asc' or 'desc' "
                 .. "expected, got up)",
                 support.error_of(timeline.write, set, { out = sink,
                                                         order = "up" }))
  end)
end)
