-- The module's services through Lua: times (parse_time, parse_rfc3339,
-- format_time, parse_duration, now), uuid, severity_set, event_type_info,
-- json_encode / json_decode and the name lists. The C unit tests cover the
-- grammars in depth; these pin the binding: integer results, nil + message
-- returns, the now argument, the zulu flag, raised misuse.
local synclua = require "synclua"
local support = dofile((debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$")
                        or ".") .. "/fixtures/support.lua")

local NS = 1000000000
local HINT = " (e.g. '1 hour ago', '2h', 'yesterday', '2025-12-03 10:00:00'"
  .. " or '2025-12-03T10:00:00Z')"
local DURATION_HINT = " (e.g. '7 days', '1 hour', '90m' or '2h')"
local SEVERITY_HELP = " (valid: debug, info, warning, error; a name with '+'"
  .. " means that severity and above, e.g. 'warning+')"

-- 2025-12-03T10:00:00Z, computed by date(1) rather than by the code.
local NOW = support.instant("2025-12-03 10:00:00")
local MIDNIGHT = support.instant("2025-12-03 00:00:00")

-- All values a call returns, as a list ({ n = ... } dropped).
local function all(...) return { ... } end

describe("synclua.parse_time()", function()
  it("returns integer nanoseconds for RFC 3339 with any zone", function()
    local t = synclua.parse_time("2025-12-03T10:00:00Z", NOW)
    assert.equal(NOW, t)
    assert.equal("integer", math.type(t))
    assert.equal(NOW - 2 * 3600 * NS,
                 synclua.parse_time("2025-12-03 10:00:00+02:00"))
    assert.equal(NOW + 5 * 3600 * NS + 123456789,
                 synclua.parse_time("2025-12-03T10:00:00.123456789-05:00"))
  end)

  it("reads a zoneless time or a bare date as UTC", function()
    assert.equal(NOW, synclua.parse_time("2025-12-03 10:00:00"))
    assert.equal(NOW, synclua.parse_time("2025-12-03T10:00:00"))
    assert.equal(MIDNIGHT, synclua.parse_time("2025-12-03"))
  end)

  it("counts relative times back from the given now", function()
    local cases = {
      { "2 hours ago", NOW - 7200 * NS },
      { "2 HOURS ago", NOW - 7200 * NS },
      { "+3 s ago", NOW - 3 * NS },
      { "-1 day ago", NOW + 86400 * NS },
      { "2h", NOW - 7200 * NS },
      { "90m", NOW - 5400 * NS },
      { "30s", NOW - 30 * NS },
      { "7d", NOW - 7 * 86400 * NS },
      { "1w", NOW - 7 * 86400 * NS },
      { "now", NOW },
      { "today", MIDNIGHT },
      { "yesterday", MIDNIGHT - 86400 * NS },
      { "@1733220000", 1733220000 * NS },
      { "@1733220000.5", 1733220000 * NS + NS // 2 },
      { "@-1", -NS },
    }
    for _, c in ipairs(cases) do
      assert.same({ c[2] }, all(synclua.parse_time(c[1], NOW)), c[1])
    end
  end)

  it("uses the clock when no now is given", function()
    local before = synclua.now()
    local t = synclua.parse_time("now")
    local after = synclua.now()
    assert.is_true(before <= t and t <= after)
    assert.equal("integer", math.type(before))
    local ago = synclua.parse_time("1 hour ago")
    assert.is_true(before - 3600 * NS <= ago and ago <= synclua.now() - 3600 * NS)
  end)

  it("returns nil and Spacedrive's message with an example", function()
    local cases = {
      { "tomorrow", "Invalid time format: tomorrow" },
      { "", "Invalid time format: " },
      { "ago", "Invalid time format: ago" },
      { "1hour ago", "Invalid duration format: 1hour" },
      { "x hours ago", "Invalid number: x" },
      { "1.5 hours ago", "Invalid number: 1.5" },
      { "1 Fortnight ago", "Unknown time unit: fortnight" },
      { "1 hr ago", "Unknown time unit: hr" },
      { "99999999999999999999 s ago", "Invalid number: 99999999999999999999" },
      { "2025-13-01", "Invalid time format: 2025-13-01" },
    }
    for _, c in ipairs(cases) do
      assert.same({ nil, c[2] .. HINT }, all(synclua.parse_time(c[1], NOW)),
                  c[1])
      assert.equal(2, select("#", synclua.parse_time(c[1], NOW)))
    end
  end)

  it("raises for arguments of the wrong type", function()
    assert.equal("bad argument #2 to 'parse_time' (number has no integer "
                 .. "representation)",
      support.error_of(function() return synclua.parse_time("now", 1.5) end))
    assert.equal("bad argument #1 to 'parse_time' (string expected, got no "
                 .. "value)",
      support.error_of(function() return synclua.parse_time() end))
  end)
end)

describe("synclua.parse_rfc3339()", function()
  it("returns integer nanoseconds for the stored forms", function()
    local cases = {
      { "2025-12-03T10:15:00.123456789Z", NOW + 900 * NS + 123456789 },
      { "2025-12-03T10:15:00.123456789+00:00", NOW + 900 * NS + 123456789 },
      { "2025-12-03 11:30:00+02:00", NOW - 1800 * NS },
      { "2025-12-03t10:00:00.5z", NOW + NS // 2 },
      { "2025-12-03T10:15:00.1234567891Z", NOW + 900 * NS + 123456789 },
      { "2024-02-29T00:00:00Z", support.instant("2024-02-29 00:00:00") },
      { "1677-09-21T00:12:43.145224192Z", math.mininteger },
      { "2262-04-11T23:47:16.854775807Z", math.maxinteger },
      -- a leap second is the second after second 59, as chrono's timestamp
      { "2016-12-31T23:59:60.5Z", support.instant("2017-01-01 00:00:00")
                                    + NS // 2 },
    }
    for _, c in ipairs(cases) do
      local t = synclua.parse_rfc3339(c[1])
      assert.equal(c[2], t, c[1])
      assert.equal("integer", math.type(t))
    end
  end)

  it("returns nil and a message for anything else", function()
    for _, s in ipairs{ "2025-12-03 10:00:00", "2025-12-03T23:59:61Z",
                        "2025-02-29T00:00:00Z", "2025-12-03T10:15:00.Z",
                        "2025-12-03T10:15:00+24:00", "2025-12-03T10:15:00Z ",
                        "1677-09-21T00:12:43.145224191Z",
                        "2262-04-11T23:47:16.854775808Z", "now", "" } do
      assert.same({ nil, "not an RFC 3339 time: " .. s },
                  all(synclua.parse_rfc3339(s)), s)
    end
  end)
end)

describe("synclua.format_time()", function()
  it("writes to_rfc3339's +00:00 form with an AutoSi fraction", function()
    local cases = {
      { 0, "1970-01-01T00:00:00" },
      { 1, "1970-01-01T00:00:00.000000001" },
      { 1500000, "1970-01-01T00:00:00.001500" },
      { 123456000, "1970-01-01T00:00:00.123456" },
      { 500000000, "1970-01-01T00:00:00.500" },
      { -1, "1969-12-31T23:59:59.999999999" },
      { NOW + 900 * NS + 123456789, "2025-12-03T10:15:00.123456789" },
      { math.maxinteger, "2262-04-11T23:47:16.854775807" },
      { math.mininteger, "1677-09-21T00:12:43.145224192" },
    }
    for _, c in ipairs(cases) do
      assert.equal(c[2] .. "+00:00", synclua.format_time(c[1]))
      assert.equal(c[2] .. "+00:00", synclua.format_time(c[1], false))
      assert.equal(c[2] .. "Z", synclua.format_time(c[1], true))
    end
  end)

  it("round-trips with parse_rfc3339", function()
    for _, t in ipairs{ 0, 1, -1, NOW, NOW + 123456, math.maxinteger } do
      assert.equal(t, synclua.parse_rfc3339(synclua.format_time(t)))
      assert.equal(t, synclua.parse_rfc3339(synclua.format_time(t, true)))
    end
  end)

  it("raises for a number that is not an integer", function()
    assert.equal("bad argument #1 to 'format_time' (number has no integer "
                 .. "representation)",
      support.error_of(function() return synclua.format_time(1.5) end))
    assert.equal("bad argument #1 to 'format_time' (number expected, got "
                 .. "string)",
      support.error_of(function() return synclua.format_time("x") end))
  end)
end)

describe("synclua.parse_duration()", function()
  it("returns integer nanoseconds", function()
    local cases = {
      { "7 days", 7 * 86400 }, { "1 hour", 3600 }, { "1 Hour", 3600 },
      { "90m", 5400 }, { "2h", 7200 }, { "30 s", 30 }, { "1 w", 604800 },
      { "0s", 0 },
    }
    for _, c in ipairs(cases) do
      local ns = synclua.parse_duration(c[1])
      assert.equal(c[2] * NS, ns, c[1])
      assert.equal("integer", math.type(ns))
    end
  end)

  it("returns nil and a message naming the text", function()
    for _, s in ipairs{ "forever", "-1 days", "1.5 h", "7  days", "7days", "",
                        "9999999999999 w" } do
      assert.same({ nil, "Invalid duration: " .. s .. DURATION_HINT },
                  all(synclua.parse_duration(s)), s)
    end
  end)
end)

describe("synclua.uuid()", function()
  it("gives lowercase hyphenated v4 uuids, each different", function()
    local seen, n = {}, 0
    for _ = 1, 200 do
      local id = synclua.uuid()
      assert.truthy(id:match("^%x%x%x%x%x%x%x%x%-%x%x%x%x%-4%x%x%x%-[89ab]%x%x%x%-"
                             .. "%x%x%x%x%x%x%x%x%x%x%x%x$"), id)
      assert.equal(id:lower(), id)
      if not seen[id] then n = n + 1 end
      seen[id] = true
    end
    assert.equal(200, n)
  end)
end)

describe("synclua.severity_set()", function()
  it("turns a name, a threshold or a list into a set", function()
    assert.same({ info = true }, synclua.severity_set("info"))
    assert.same({ warning = true, error = true },
                synclua.severity_set("warning+"))
    assert.same({ debug = true, info = true, warning = true, error = true },
                synclua.severity_set("debug+"))
    assert.same({ error = true }, synclua.severity_set("error+"))
    assert.same({ debug = true, error = true },
                synclua.severity_set("debug,error"))
    assert.same({ debug = true, warning = true, error = true },
                synclua.severity_set("warning+,debug"))
  end)

  it("returns nil and a message listing the valid names", function()
    for _, s in ipairs{ "loud", "Warning", "", "+", "info,", "warning++" } do
      assert.same({ nil, "Invalid severity: " .. s .. SEVERITY_HELP },
                  all(synclua.severity_set(s)), s)
    end
  end)
end)

describe("synclua.event_type_info()", function()
  it("gives Spacedrive's category, default severity and Debug name",
     function()
    local expected = {
      state_transition = { "lifecycle", "info", "StateTransition" },
      backfill_session_started = { "lifecycle", "info",
                                   "BackfillSessionStarted" },
      backfill_session_completed = { "lifecycle", "info",
                                     "BackfillSessionCompleted" },
      backfill_session_failed = { "lifecycle", "error",
                                  "BackfillSessionFailed" },
      catch_up_session_started = { "lifecycle", "info", "CatchUpSessionStarted" },
      catch_up_session_completed = { "lifecycle", "info",
                                     "CatchUpSessionCompleted" },
      batch_ingestion = { "data_flow", "debug", "BatchIngestion" },
      backfill_request_sent = { "network", "debug", "BackfillRequestSent" },
      backfill_request_received = { "network", "debug",
                                    "BackfillRequestReceived" },
      backfill_response_sent = { "network", "debug", "BackfillResponseSent" },
      peer_connected = { "network", "info", "PeerConnected" },
      peer_disconnected = { "network", "info", "PeerDisconnected" },
      sync_error = { "error", "error", "SyncError" },
    }
    for name, e in pairs(expected) do
      assert.same({ category = e[1], severity = e[2], debug_name = e[3] },
                  synclua.event_type_info(name), name)
    end
  end)

  it("returns nothing for an unknown or differently cased name", function()
    assert.equal(0, select("#", synclua.event_type_info("bogus")))
    assert.equal(0, select("#", synclua.event_type_info("StateTransition")))
  end)
end)

describe("the name lists", function()
  it("are in Spacedrive's declaration order", function()
    assert.same({ "state_transition", "backfill_session_started",
                  "backfill_session_completed", "backfill_session_failed",
                  "catch_up_session_started", "catch_up_session_completed",
                  "batch_ingestion", "backfill_request_sent",
                  "backfill_request_received", "backfill_response_sent",
                  "peer_connected", "peer_disconnected", "sync_error" },
                synclua.event_types)
    assert.same({ "lifecycle", "data_flow", "network", "error" },
                synclua.categories)
    assert.same({ "debug", "info", "warning", "error" }, synclua.severities)
    assert.equal(support.slurp(support.root .. "/include/synclua/synclua.h")
                   :match('#define SL_VERSION "([^"]+)"'), synclua.version)
  end)
end)

describe("synclua.json_encode()", function()
  it("writes compact JSON with sorted keys, as Spacedrive stores details",
     function()
    local cases = {
      { { b = 1, a = { 1, 2, 3 }, C = { y = false, x = true } },
        '{"C":{"x":true,"y":false},"a":[1,2,3],"b":1}' },
      { {}, "{}" },
      { synclua.null, "null" },
      { { a = synclua.null }, '{"a":null}' },
      { "a/é\n\1\"\\", '"a/é\\n\\u0001\\"\\\\"' },
      { 0.1, "0.1" },
      { 100.0, "100.0" },
      { 1e300, "1e300" },
      { -0.0, "-0.0" },
      { 1 / 3, "0.3333333333333333" },
      { 2^63, "9.223372036854776e18" },
      { math.maxinteger, "9223372036854775807" },
      { true, "true" },
      { { "x", { 2.5 }, {} }, '["x",[2.5],{}]' },
    }
    for _, c in ipairs(cases) do
      assert.equal(c[2], synclua.json_encode(c[1]))
    end
    assert.equal("null", synclua.json_encode(nil))
  end)

  it("raises for what JSON cannot hold", function()
    local function encode_error(v)
      return support.error_of(function() return synclua.json_encode(v) end)
    end
    assert.equal("bad argument #1 to 'json_encode' (cannot encode a function)",
                 encode_error(print))
    assert.equal("bad argument #1 to 'json_encode' (cannot encode the number "
                 .. "inf)", encode_error(math.huge))
    assert.equal("bad argument #1 to 'json_encode' (object keys must be "
                 .. "strings, not boolean)", encode_error({ [true] = 1 }))
    assert.equal("bad argument #1 to 'json_encode' (value expected)",
      support.error_of(function() return synclua.json_encode() end))
  end)
end)

describe("synclua.array()", function()
  it("marks a table so that it encodes as a JSON array even when empty",
     function()
    assert.equal("[]", synclua.json_encode(synclua.array()))
    assert.equal("[]", synclua.json_encode(synclua.array({})))
    assert.equal('{"a":[],"b":{}}',
                 synclua.json_encode({ a = synclua.array(), b = {} }))
    local t = { 1, 2 }
    assert.equal(t, synclua.array(t))
    assert.equal("[1,2]", synclua.json_encode(t))
  end)

  it("is the mark decoded arrays carry", function()
    local v = synclua.json_decode('{"list":[],"obj":{}}')
    assert.equal(getmetatable(synclua.array()), getmetatable(v.list))
    assert.is_nil(getmetatable(v.obj))
    assert.equal('{"list":[],"obj":{}}', synclua.json_encode(v))
  end)

  it("raises for something other than a table", function()
    assert.equal("bad argument #1 to 'array' (table expected, got string)",
      support.error_of(function() return synclua.array("x") end))
  end)
end)

describe("synclua.json_decode()", function()
  it("gives tables, integers, floats and synclua.null", function()
    local v = synclua.json_decode(
      '{"a":null,"b":[1,2.5,"x",true,false],"c":{"d":{}},"e":"\\u00e9"}')
    assert.same({ a = synclua.null, b = { 1, 2.5, "x", true, false },
                  c = { d = {} }, e = "é" }, v)
    assert.equal("integer", math.type(v.b[1]))
    assert.equal("float", math.type(v.b[2]))
    assert.equal(synclua.null, synclua.json_decode(" null "))
    assert.equal(math.maxinteger, synclua.json_decode("9223372036854775807"))
    assert.equal("float", math.type(synclua.json_decode("9223372036854775808")))
    assert.equal("float", math.type(synclua.json_decode("1e2")))
    assert.equal("-0.0", tostring(synclua.json_decode("-0")))
  end)

  it("round-trips with json_encode, nulls included", function()
    for _, text in ipairs{ '{"a":null,"b":[null,1,{"c":null}]}',
                           '{"candidates":[{"latency_ms":23.45599937438965}]}',
                           '[]', '{}', 'null', '"a/b"' } do
      assert.equal(text, synclua.json_encode(synclua.json_decode(text)))
    end
    assert.equal('{"a":1,"b":2}',
                 synclua.json_encode(synclua.json_decode('{ "b": 2, "a": 1 }')))
  end)

  it("returns nil and where the text went wrong", function()
    local cases = {
      { "[", "unexpected end of input at line 1 column 2" },
      { "[1,2", "unexpected end of input at line 1 column 5" },
      { '{"a":1,}', "trailing comma before '}' at line 1 column 8" },
      { '{"a" 1}', "unexpected character '1' at line 1 column 6" },
      { '"\\ud800"', "unpaired surrogate \\uD800 in string at line 1 column 2" },
    }
    for _, c in ipairs(cases) do
      assert.same({ nil, c[2] }, all(synclua.json_decode(c[1])), c[1])
    end
  end)
end)
