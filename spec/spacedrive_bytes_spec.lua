-- Spacedrive's own bytes (issue 11): what synclua prints where Spacedrive's
-- code prints something, item by item (spacedrive-compat.md section 10),
-- through `synclua events` in every format, the server (`synclua serve`,
-- asked by synclua.fetch) and import -> export round trips.
--
-- Every store here is crafted in this file with the sqlite3 tool, raw SQL
-- where a value must be NULL, a blob, a real or a text cast from bytes.
-- Whole outputs are pinned by golden files in spec/golden/bytes/; each
-- item is also asserted on its own, against elements built here from the
-- layouts of sections 1.4-1.6 (not from synclua's output), so that a
-- golden rewritten by SYNCLUA_UPDATE_GOLDEN=1 cannot hide a change. The
-- expected floats were worked out from serde_json 1.0.145's decimal path
-- (significand as u64, one multiplication or division by its POW10
-- entry) outside synclua.
--
-- The server is asked through synclua.fetch, which stores what it received
-- exactly as sent (an exact read, serde's bytes again): the stored details
-- are the response's, read once by the server.
local support = dofile("spec/fixtures/support.lua")
local synclua = require "synclua"
local quote = support.quote

local GOLDEN = "spec/golden/bytes/"
local NOW = "2025-12-04T00:00:00Z"

local DEV = "2f1a8f8e-0c3b-4d52-9d0e-5b1c2a3d4e5f"      -- support's default
local OTHER = "9f2c0e4a-7b1d-4e3f-8a5b-6c7d8e9f0a1b"
local SESSION = "67e55044-10b1-426f-9247-bb680e5fe0c8"
local PEER = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
local ASKER = "11111111-1111-4111-8111-111111111111"    -- the fetching device

-- `synclua events ARGS` in dir at NOW: stdout, stderr, exit status.
local function events(dir, args)
  return support.synclua(dir, "events " .. args, "SYNCLUA_NOW=" .. NOW)
end

local function golden(name, actual)
  assert.equal(support.golden(GOLDEN .. name, actual), actual)
end

------------------------------------------------------------------ stores

local lit = support.sql_string

-- Text from its bytes (a NUL, an ill-formed UTF-8 sequence), as a TEXT
-- value: the sqlite3 tool cannot take them in a literal.
local function bytes(s)
  return "CAST(X'" .. s:gsub(".", function(c)
    return ("%02X"):format(c:byte()) end) .. "' AS TEXT)"
end

-- 2025-12-03T10:00:SS+00:00, Spacedrive's own form, as an SQL literal.
local function at(s)
  return lit(("2025-12-03T10:00:%02d+00:00"):format(s))
end

local COLS = { "id", "timestamp", "device_id", "event_type", "category",
               "severity", "summary", "details", "correlation_id",
               "peer_device_id", "model_types", "record_count",
               "duration_ms" }

-- Rows whose values are SQL expressions (absent columns NULL, the device,
-- type, category and severity as in support.insert_rows), inserted in
-- order with the sqlite3 tool.
local function insert_sql(db, rows)
  local sql = { "BEGIN;" }
  for _, r in ipairs(rows) do
    local row = { device_id = lit(DEV), event_type = lit("state_transition"),
                  category = lit("lifecycle"), severity = lit("info") }
    for k, v in pairs(r) do row[k] = v end
    local cols, vals = {}, {}
    for _, c in ipairs(COLS) do
      if row[c] ~= nil then
        cols[#cols + 1], vals[#vals + 1] = c, row[c]
      end
    end
    sql[#sql + 1] = "INSERT INTO sync_event_log (" .. table.concat(cols, ", ")
      .. ") VALUES (" .. table.concat(vals, ", ") .. ");"
  end
  sql[#sql + 1] = "COMMIT;"
  assert.equal("", support.sqlite(db, table.concat(sql, "\n")))
end

-- A store at dir/name with Spacedrive's table (or, nullable, the same
-- table without its NOT NULL constraints, as another program may make it).
local function store(dir, name, rows, nullable)
  local db = dir .. "/" .. name
  local ddl = nullable and support.DDL:gsub(" NOT NULL", "") or support.DDL
  assert.equal("", support.sqlite(db, ddl))
  insert_sql(db, rows)
  return db
end

local function without(rows, ...)
  local drop, out = {}, {}
  for _, s in ipairs{ ... } do drop[lit(s)] = true end
  for _, r in ipairs(rows) do
    if not drop[r.summary] then out[#out + 1] = r end
  end
  return out
end

local function concat(...)
  local out = {}
  for _, list in ipairs{ ... } do
    for _, r in ipairs(list) do out[#out + 1] = r end
  end
  return out
end

-- The readable rows: every one is printed by Spacedrive, one second apart
-- (ids 0 to 23 in insertion order; the leap second is the oldest).
local ROWS = {
  { id = "0", timestamp = at(0), summary = lit("row id 0") },
  { timestamp = at(1), summary = lit("floats"),
    details = lit('{"latency_ms":19.889999389648438,"tiny":1e-122,'
      .. '"big":9007199254740993.0,"one":'
      .. '1.00000000000000011102230246251565404236316680908203125}') },
  { timestamp = at(2), summary = lit("integers"),
    details = lit('{"i64_max":9223372036854775807,'
      .. '"past_i64":9223372036854775808,'
      .. '"u64_max":18446744073709551615,'
      .. '"past_u64":18446744073709551616,'
      .. '"i64_min":-9223372036854775808,'
      .. '"below_i64":-9223372036854775809}') },
  { timestamp = at(3), summary = lit("details: not JSON"),
    details = lit("{reason: x}") },
  { timestamp = at(4), summary = lit("details: empty"), details = lit("") },
  { timestamp = at(5), summary = lit("details: trailing text"),
    details = lit('{"a":1} x') },
  { timestamp = at(6), summary = lit("details: NaN"),
    details = lit('{"a":NaN}') },
  { timestamp = at(7), summary = lit("details: leading zero"),
    details = lit('{"a":01}') },
  { timestamp = at(8), summary = lit("details: lone surrogate"),
    details = lit('{"a":"\\ud800"}') },
  { timestamp = at(9), summary = lit("details: raw control character"),
    details = lit('{"a":"tab\there"}') },
  { timestamp = at(10), summary = lit("details: out of range"),
    details = lit('{"a":1e400}') },
  { timestamp = at(11), summary = lit("details: nested 128 deep"),
    details = lit(("["):rep(128) .. ("]"):rep(128)) },
  { timestamp = at(12), summary = lit("details: invalid UTF-8"),
    details = bytes('{"a":"\255"}') },
  { timestamp = at(13), summary = lit("details: JSON null"),
    details = lit("null") },
  { timestamp = at(14), summary = bytes("nul \0 inside"),
    model_types = bytes("entry,nul \0 inside") },
  { timestamp = at(15), summary = lit("ids: uppercase, simple"),
    correlation_id = lit(SESSION:upper()),
    peer_device_id = lit((PEER:gsub("-", ""))) },
  { timestamp = at(16), summary = lit("ids: braced, urn"),
    correlation_id = lit("{" .. SESSION .. "}"),
    peer_device_id = lit("urn:uuid:" .. PEER:upper()) },
  { timestamp = at(17), summary = lit("ids: not-a-uuid, empty"),
    correlation_id = lit("not-a-uuid"), peer_device_id = lit("") },
  { timestamp = at(18), summary = lit("ids: leading space, URN:UUID:"),
    correlation_id = lit(" " .. SESSION),
    peer_device_id = lit("URN:UUID:" .. PEER) },
  { timestamp = at(19), summary = lit("ids: invalid UTF-8, a g"),
    correlation_id = bytes(SESSION:sub(1, 35) .. "\255"),
    peer_device_id = lit(PEER:sub(1, 35) .. "g") },
  -- '12 ms' stays TEXT in an INTEGER column ('12' would become 12).
  { timestamp = at(20), summary = lit("counts: real, text"),
    record_count = "2.5", duration_ms = lit("12 ms") },
  { timestamp = at(21), summary = lit("counts: 1e30, blob"),
    record_count = "1e30", duration_ms = "X'00'" },
  { timestamp = at(22), summary = lit("counts: negative"),
    record_count = "-1", duration_ms = "-2" },
  { timestamp = lit("2016-12-31T23:59:60.5+00:00"),
    summary = lit("leap second") },
}

-- What events says on stderr about ROWS: the values Spacedrive reads as
-- None that synclua's lenient reader reports.
local ROWS_STDERR = "synclua events: warning: sync.db: 6 rows with values "
  .. "Spacedrive cannot read (details, correlation_id, peer_device_id, "
  .. "record_count, duration_ms; ids 12, 17, 18, ...): shown as read "
  .. "leniently\n"

--------------------------------------------------------- expected bytes

-- What Spacedrive prints for each row of ROWS, field by field, built from
-- spacedrive-compat.md 1.4-1.6 and 10: `details` a list of { key, value }
-- (sorted, values as serde writes them) or nil for None; ids and counts
-- as printed; `csv` the columns CSV writes otherwise: as stored (the
-- timestamp, details, model types, counts) or as the cursor reads them
-- (the ids).
local E = {}
local function expect(summary, t)
  t.summary = summary
  t.json_summary = t.json_summary or summary
  t.ts = t.ts or "2025-12-03T10:00:00"
  t.csv = t.csv or {}
  E[summary] = t
  return t
end

local function sec(s) return ("2025-12-03T10:00:%02d"):format(s) end

expect("row id 0", { id = 0, ts = sec(0) })
expect("floats", { id = 1, ts = sec(1),
  details = { { "big", "9007199254740994.0" },
              { "latency_ms", "19.88999938964844" },
              { "one", "1.0000000000000002" },
              { "tiny", "9.999999999999999e-123" } },
  csv = { details = '{"latency_ms":19.889999389648438,"tiny":1e-122,'
    .. '"big":9007199254740993.0,"one":'
    .. '1.00000000000000011102230246251565404236316680908203125}' } })
expect("integers", { id = 2, ts = sec(2),
  details = { { "below_i64", "-9.223372036854776e18" },
              { "i64_max", "9223372036854775807" },
              { "i64_min", "-9223372036854775808" },
              { "past_i64", "9223372036854775808" },
              { "past_u64", "1.8446744073709552e19" },
              { "u64_max", "18446744073709551615" } },
  csv = { details = '{"i64_max":9223372036854775807,'
    .. '"past_i64":9223372036854775808,"u64_max":18446744073709551615,'
    .. '"past_u64":18446744073709551616,"i64_min":-9223372036854775808,'
    .. '"below_i64":-9223372036854775809}' } })
local REJECTED = {
  { "details: not JSON", "{reason: x}" },
  { "details: empty", "" },
  { "details: trailing text", '{"a":1} x' },
  { "details: NaN", '{"a":NaN}' },
  { "details: leading zero", '{"a":01}' },
  { "details: lone surrogate", '{"a":"\\ud800"}' },
  { "details: raw control character", '{"a":"tab\there"}' },
  { "details: out of range", '{"a":1e400}' },
  { "details: nested 128 deep", ("["):rep(128) .. ("]"):rep(128) },
  { "details: invalid UTF-8", '{"a":"\255"}' },
  { "details: JSON null", "null" },
}
for i, r in ipairs(REJECTED) do
  expect(r[1], { id = i + 2, ts = sec(i + 2), csv = { details = r[2] } })
end
expect("nul \0 inside", { id = 14, ts = sec(14),
  json_summary = "nul \\u0000 inside",
  model_types = { "entry", "nul \\u0000 inside" },
  csv = { model_types = "entry,nul \0 inside" } })
-- CSV writes the ids as the cursor reads them (lowercase hyphenated, or
-- absent), not as stored.
expect("ids: uppercase, simple", { id = 15, ts = sec(15),
  correlation_id = SESSION, peer_device_id = PEER,
  csv = { correlation_id = SESSION, peer_device_id = PEER } })
expect("ids: braced, urn", { id = 16, ts = sec(16),
  correlation_id = SESSION, peer_device_id = PEER,
  csv = { correlation_id = SESSION, peer_device_id = PEER } })
expect("ids: not-a-uuid, empty", { id = 17, ts = sec(17) })
expect("ids: leading space, URN:UUID:", { id = 18, ts = sec(18) })
expect("ids: invalid UTF-8, a g", { id = 19, ts = sec(19) })
expect("counts: real, text", { id = 20, ts = sec(20) })
expect("counts: 1e30, blob", { id = 21, ts = sec(21) })
expect("counts: negative", { id = 22, ts = sec(22),
  record_count = "18446744073709551615", duration_ms = "18446744073709551614",
  csv = { record_count = "-1", duration_ms = "-2" } })
expect("leap second", { id = 23, ts = "2016-12-31T23:59:60.500",
  md_ts = "2016-12-31 23:59:60",
  csv = { timestamp = "2016-12-31T23:59:60.5+00:00" } })
-- Details in ill-formed UTF-8 are absent in CSV too (read as None).
E["details: invalid UTF-8"].csv.details = nil

-- Newest first, as every export orders ROWS.
local ORDER = {}
for _, r in ipairs(ROWS) do
  local s = r.summary == bytes("nul \0 inside") and "nul \0 inside"
            or r.summary:match("^'(.*)'$")
  table.insert(ORDER, 1, s)
end
table.remove(ORDER, 1)              -- "leap second" is the oldest, not
ORDER[#ORDER + 1] = "leap second"   -- the newest

local function pretty_details(d, indent)
  local lines = {}
  for i, kv in ipairs(d) do
    lines[i] = indent .. '  "' .. kv[1] .. '": ' .. kv[2]
  end
  return "{\n" .. table.concat(lines, ",\n") .. "\n" .. indent .. "}"
end

local function compact_details(d)
  local parts = {}
  for i, kv in ipairs(d) do parts[i] = '"' .. kv[1] .. '":' .. kv[2] end
  return "{" .. table.concat(parts, ",") .. "}"
end

local function q(s) return s and '"' .. s .. '"' or "null" end

-- The default JSON element (1.4): the 9 keys sorted, absent ones null.
local function json_element(e)
  return table.concat({ "  {",
    '    "correlation_id": ' .. q(e.correlation_id) .. ",",
    '    "details": ' .. (e.details and pretty_details(e.details, "    ")
                          or "null") .. ",",
    '    "duration_ms": ' .. (e.duration_ms or "null") .. ",",
    '    "event_type": "state_transition",',
    '    "peer_device_id": ' .. q(e.peer_device_id) .. ",",
    '    "record_count": ' .. (e.record_count or "null") .. ",",
    '    "severity": "info",',
    '    "summary": "' .. e.json_summary .. '",',
    '    "timestamp": "' .. e.ts .. 'Z"',
    "  }" }, "\n")
end

-- The --with-device element (1.4): declaration order, absent options left
-- out.
local function device_element(e)
  local l = { "  {", '    "id": ' .. e.id .. ",",
    '    "timestamp": "' .. e.ts .. 'Z",', '    "device_id": "' .. DEV .. '",',
    '    "event_type": "state_transition",', '    "category": "lifecycle",',
    '    "severity": "info",', '    "summary": "' .. e.json_summary .. '"' }
  local function add(line) l[#l] = l[#l] .. ","; l[#l + 1] = line end
  if e.details then
    add('    "details": ' .. pretty_details(e.details, "    "))
  end
  if e.correlation_id then
    add('    "correlation_id": "' .. e.correlation_id .. '"')
  end
  if e.peer_device_id then
    add('    "peer_device_id": "' .. e.peer_device_id .. '"')
  end
  if e.model_types then
    add('    "model_types": [\n      "'
        .. table.concat(e.model_types, '",\n      "') .. '"\n    ]')
  end
  if e.record_count then add('    "record_count": ' .. e.record_count) end
  if e.duration_ms then add('    "duration_ms": ' .. e.duration_ms) end
  l[#l + 1] = "  }"
  return table.concat(l, "\n")
end

local function ndjson_line(e)
  return '{"correlation_id":' .. q(e.correlation_id) .. ',"details":'
    .. (e.details and compact_details(e.details) or "null")
    .. ',"duration_ms":' .. (e.duration_ms or "null")
    .. ',"event_type":"state_transition","peer_device_id":'
    .. q(e.peer_device_id) .. ',"record_count":' .. (e.record_count or "null")
    .. ',"severity":"info","summary":"' .. e.json_summary
    .. '","timestamp":"' .. e.ts .. 'Z"}'
end

-- --with-device NDJSON: the same fields, keys sorted (as EventLogResponse
-- carries an event: 2.2).
local function ndjson_device_line(e)
  local l = { '{"category":"lifecycle"' }
  if e.correlation_id then
    l[#l + 1] = '"correlation_id":"' .. e.correlation_id .. '"'
  end
  if e.details then l[#l + 1] = '"details":' .. compact_details(e.details) end
  l[#l + 1] = '"device_id":"' .. DEV .. '"'
  if e.duration_ms then l[#l + 1] = '"duration_ms":' .. e.duration_ms end
  l[#l + 1] = '"event_type":"state_transition"'
  l[#l + 1] = '"id":' .. e.id
  if e.model_types then
    l[#l + 1] = '"model_types":["' .. table.concat(e.model_types, '","')
      .. '"]'
  end
  if e.peer_device_id then
    l[#l + 1] = '"peer_device_id":"' .. e.peer_device_id .. '"'
  end
  if e.record_count then l[#l + 1] = '"record_count":' .. e.record_count end
  l[#l + 1] = '"severity":"info"'
  l[#l + 1] = '"summary":"' .. e.json_summary .. '"'
  l[#l + 1] = '"timestamp":"' .. e.ts .. 'Z"}'
  return table.concat(l, ",")
end

local function sqlq(s)
  return s and "'" .. s:gsub("'", "''") .. "'" or "NULL"
end

-- The INSERT line (1.5), the id left out.
local function sql_line(e)
  return "INSERT INTO sync_event_log (timestamp, device_id, event_type, "
    .. "category, severity, summary, details, correlation_id, "
    .. "peer_device_id, model_types, record_count, duration_ms) VALUES ('"
    .. e.ts .. "+00:00', '" .. DEV .. "', 'state_transition', 'lifecycle', "
    .. "'info', " .. sqlq(e.summary) .. ", "
    .. (e.details and sqlq(compact_details(e.details)) or "NULL") .. ", "
    .. sqlq(e.correlation_id) .. ", " .. sqlq(e.peer_device_id) .. ", "
    .. sqlq(e.csv.model_types) .. ", " .. (e.record_count or "NULL") .. ", "
    .. (e.duration_ms or "NULL") .. ");"
end

local function md_line(e)
  return "| " .. (e.md_ts or e.ts:gsub("T", " ")) .. " | StateTransition | "
    .. "Info | " .. e.summary .. " |"
end

local function csv_field(s)
  if s == nil then return "" end
  if s == "" or s:find('[,"\r\n]') then
    return '"' .. s:gsub('"', '""') .. '"'
  end
  return s
end

-- The CSV record: the 13 columns as stored.
local function csv_line(e)
  local c = e.csv
  return table.concat({ e.id, c.timestamp or e.ts .. "+00:00", DEV,
    "state_transition", "lifecycle", "info", csv_field(e.summary),
    csv_field(c.details), csv_field(c.correlation_id),
    csv_field(c.peer_device_id), csv_field(c.model_types),
    c.record_count or "", c.duration_ms or "" }, ",")
end

----------------------------------------------------------- reading output

-- Does text end with suffix? (An assertion, showing both.)
local function ends(suffix, text)
  assert.equal(suffix, text:sub(-#suffix))
end

-- The elements of a pretty JSON export, in order.
local function elements(json)
  local list = {}
  for e in ("\n" .. json):gmatch("\n(  %{\n.-\n  %})") do
    list[#list + 1] = e
  end
  return list
end

-- The records of a text split on `sep` ("\n" or "\r\n").
local function records(text, sep)
  local list, from = {}, 1
  while true do
    local i, j = text:find(sep, from, true)
    if not i then break end
    list[#list + 1] = text:sub(from, i - 1)
    from = j + 1
  end
  return list
end

-- The summaries of NDJSON output, in order (the summary is the last
-- string before the timestamp, in either mode).
local function summaries(ndjson)
  local out = {}
  for _, line in ipairs(records(ndjson, "\n")) do
    out[#out + 1] = line:match('"summary":"(.-)","timestamp"')
  end
  return out
end

-- The rows of a store as the sqlite3 tool reads them, text with a NUL in
-- it shown as X'..' (the tool's text functions stop at a NUL).
local function dump(db, where)
  local function col(c)
    return ("CASE WHEN instr(CAST(%s AS BLOB), X'00') > 0 THEN 'X''' || "
      .. "hex(%s) || '''' ELSE quote(%s) END"):format(c, c, c)
  end
  local cols = {}
  for i = 2, #COLS do cols[#cols + 1] = col(COLS[i]) end
  return support.sqlite(db, "SELECT " .. table.concat(cols, ", ")
    .. " FROM sync_event_log " .. (where or "") .. " ORDER BY id")
end

---------------------------------------------------------------- serving

-- `synclua serve` of `db` as device DEV, in the background (support.serve).
local function serve(dir, db)
  return support.serve(dir, db, "--device " .. DEV)
end

-- Ask a server for `limit` events into a new store dir/name; returns the
-- fetch result and the store's path.
local function fetch(dir, srv, name, limit)
  local key = assert(synclua.read_key(dir .. "/key"))
  local path = dir .. "/" .. name
  local got <close> = assert(synclua.open(path, { mode = "w",
                                                  device_id = ASKER }))
  local results = synclua.fetch{ peers = { srv.address }, stores = { got },
    key = key, library_id = synclua.library_id(key),
    requesting_device = ASKER, limit = limit or 1000, timeout = 5 }
  return results[1], path
end

-- The server's lines after its first, the ports and times made fixed.
local function served_lines(text)
  return (text:gsub("127%.0%.0%.1:%d+", "127.0.0.1:P")
              :gsub(" in %d+ ms", " in N ms"))
end

------------------------------------------------------------------- specs

describe("Spacedrive's own bytes (issue 11)", function()
  local dir
  before_each(function() dir = support.tmpdir() end)
  after_each(function()
    support.stop_children()
    support.rmdir(dir)
  end)

  describe("synclua events over crafted rows", function()
    before_each(function() store(dir, "sync.db", ROWS) end)

    local FORMATS = {
      { "-f json", "rows.json" },
      { "-f json --with-device", "rows-device.json" },
      { "-f sql", "rows.sql" },
      { "-f markdown", "rows.md" },
      { "-f ndjson", "rows.ndjson" },
      { "-f ndjson --with-device", "rows-device.ndjson" },
      { "-f csv", "rows.csv" },
    }
    for _, f in ipairs(FORMATS) do
      it("writes " .. f[1] .. " byte for byte", function()
        local out, err, status = events(dir, f[1])
        assert.equal(ROWS_STDERR, err)
        assert.equal(0, status)
        golden(f[2], out)
      end)
    end

    -- Each format's records, in order, against the ones built above.
    local function check(args, split, build)
      local out = events(dir, args)
      local list = split(out)
      assert.equal(#ORDER, #list)
      for i, s in ipairs(ORDER) do
        assert.equal(build(E[s]), list[i])
      end
      return out
    end

    it("prints every row of the default JSON as Spacedrive does", function()
      local out = check("-f json", elements, json_element)
      assert.equal("[\n", out:sub(1, 2))
      assert.equal("\n]\n", out:sub(-3))
    end)

    it("prints every row of --with-device JSON as Spacedrive does",
       function()
      check("-f json --with-device", elements, device_element)
    end)

    it("prints every INSERT line as Spacedrive does", function()
      local out = check("-f sql", function(text)
        local list = {}
        for _, l in ipairs(records(text, "\n")) do
          if l:find("^INSERT ") then list[#list + 1] = l end
        end
        return list
      end, sql_line)
      local head = "-- Sync Event Log Export\n-- Generated: "
                   .. "2025-12-04T00:00:00+00:00\n\n"
      assert.equal(head, out:sub(1, #head))
    end)

    it("prints every Markdown row as Spacedrive does", function()
      check("-f markdown", function(text)
        local list = {}
        for _, l in ipairs(records(text, "\n")) do
          if l:find("^| 20") then list[#list + 1] = l end
        end
        return list
      end, md_line)
    end)

    it("prints every NDJSON line, in both modes", function()
      check("-f ndjson", function(t) return records(t, "\n") end,
            ndjson_line)
      check("-f ndjson --with-device", function(t)
        return records(t, "\n") end, ndjson_device_line)
    end)

    it("prints every CSV record: columns as stored, ids as read", function()
      local out = check("-f csv", function(text)
        local list = records(text, "\r\n")
        table.remove(list, 1)
        return list
      end, csv_line)
      assert.equal(synclua.csv_header(), out:sub(1, #synclua.csv_header()))
    end)

    -- Item by item, the bytes that decide it.

    it("1. prints floats as serde_json without float_roundtrip reads "
       .. "them (the examples of 10.2)", function()
      local json = events(dir, "-f json")
      assert.truthy(json:find('\n      "big": 9007199254740994.0,\n'
        .. '      "latency_ms": 19.88999938964844,\n'
        .. '      "one": 1.0000000000000002,\n'
        .. '      "tiny": 9.999999999999999e-123\n    },', 1, true))
      local sql = events(dir, "-f sql")
      assert.truthy(sql:find("'{\"big\":9007199254740994.0,\"latency_ms\":"
        .. "19.88999938964844,\"one\":1.0000000000000002,\"tiny\":"
        .. "9.999999999999999e-123}'", 1, true))
      -- CSV keeps the stored text.
      local csv = events(dir, "-f csv")
      assert.truthy(csv:find('""latency_ms"":19.889999389648438,""tiny"":'
        .. '1e-122,""big"":9007199254740993.0,""one"":'
        .. '1.00000000000000011102230246251565404236316680908203125', 1,
        true))
    end)

    it("3. keeps integers up to u64::MAX as integers, beyond as serde's "
       .. "float", function()
      local e = E.integers
      assert.equal('{"below_i64":-9.223372036854776e18,'
        .. '"i64_max":9223372036854775807,"i64_min":-9223372036854775808,'
        .. '"past_i64":9223372036854775808,"past_u64":1.8446744073709552e19,'
        .. '"u64_max":18446744073709551615}', compact_details(e.details))
      assert.truthy(events(dir, "-f ndjson"):find('"details":'
        .. compact_details(e.details) .. ',', 1, true))
      local json = events(dir, "-f json --with-device")
      assert.truthy(json:find('\n      "u64_max": 18446744073709551615\n',
                              1, true))
      assert.truthy(json:find('\n      "past_u64": 1.8446744073709552e19,\n',
                              1, true))
    end)

    it("4. writes details serde rejects, and a stored JSON null, as None: "
       .. "null, left out, NULL", function()
      local json = elements(events(dir, "-f json"))
      local dev = elements(events(dir, "-f json --with-device"))
      local nd = records(events(dir, "-f ndjson --with-device"), "\n")
      local sql = events(dir, "-f sql")
      for _, r in ipairs(REJECTED) do
        local i
        for k, s in ipairs(ORDER) do if s == r[1] then i = k end end
        assert.truthy(json[i]:find('\n    "details": null,\n', 1, true), r[1])
        assert.truthy(json[i]:find('"summary": "' .. r[1] .. '"', 1, true))
        assert.falsy(dev[i]:find('"details"', 1, true), r[1])
        local tail = '"summary": "' .. r[1] .. '"\n  }'
        assert.equal(tail, dev[i]:sub(-#tail), r[1])
        assert.falsy(nd[i]:find('"details"', 1, true), r[1])
        assert.truthy(sql:find("'info', '" .. r[1] .. "', NULL, NULL, NULL, "
          .. "NULL, NULL, NULL);\n", 1, true), r[1])
      end
    end)

    it("5. keeps a NUL inside text: \\u0000 in JSON, the raw byte in SQL, "
       .. "Markdown and CSV", function()
      local json = events(dir, "-f json")
      assert.truthy(json:find('\n    "summary": "nul \\u0000 inside",\n',
                              1, true))
      local dev = events(dir, "-f json --with-device")
      assert.truthy(dev:find('\n    "model_types": [\n      "entry",\n'
        .. '      "nul \\u0000 inside"\n    ]\n  },', 1, true))
      local sql = events(dir, "-f sql")
      assert.truthy(sql:find("'info', 'nul \0 inside', NULL, NULL, NULL, "
        .. "'entry,nul \0 inside', NULL, NULL);\n", 1, true))
      local md = events(dir, "-f markdown")
      assert.truthy(md:find("\n| 2025-12-03 10:00:14 | StateTransition | "
        .. "Info | nul \0 inside |\n", 1, true))
      local csv = events(dir, "-f csv")
      assert.truthy(csv:find(",info,nul \0 inside,,,,\"entry,nul \0 inside"
        .. "\",,\r\n", 1, true))
    end)

    it("6. reads UUIDs, counts and ids as sqlx and the logger do", function()
      local nd = events(dir, "-f ndjson")
      local function line(summary)
        for l in nd:gmatch("[^\n]+") do
          if l:find('"summary":"' .. summary .. '"', 1, true) then
            return l
          end
        end
      end
      -- Every uuid-crate spelling, written back lowercase and hyphenated.
      for _, s in ipairs{ "ids: uppercase, simple", "ids: braced, urn" } do
        assert.equal('{"correlation_id":"' .. SESSION .. '","details":null,'
          .. '"duration_ms":null,"event_type":"state_transition",'
          .. '"peer_device_id":"' .. PEER .. '","record_count":null,'
          .. '"severity":"info","summary":"' .. s .. '","timestamp":"'
          .. E[s].ts .. 'Z"}', line(s))
      end
      -- Anything else is None.
      for _, s in ipairs{ "ids: not-a-uuid, empty",
                          "ids: leading space, URN:UUID:",
                          "ids: invalid UTF-8, a g" } do
        assert.truthy(line(s):find('^{"correlation_id":null,"details":null,'
          .. '"duration_ms":null,"event_type":"state_transition",'
          .. '"peer_device_id":null,"record_count":null,'), s)
      end
      -- A count stored as REAL, TEXT or BLOB is None; a negative one is
      -- the u64 cast, in JSON and SQL; CSV keeps the stored -1.
      assert.truthy(line("counts: real, text"):find(
        '"duration_ms":null,.*"record_count":null,'))
      assert.truthy(line("counts: 1e30, blob"):find(
        '"duration_ms":null,.*"record_count":null,'))
      assert.truthy(line("counts: negative"):find(
        '"duration_ms":18446744073709551614,.*'
        .. '"record_count":18446744073709551615,'))
      assert.truthy(events(dir, "-f sql"):find("'counts: negative', NULL, "
        .. "NULL, NULL, NULL, 18446744073709551615, 18446744073709551614);",
        1, true))
      assert.truthy(events(dir, "-f csv"):find(",counts: negative,,,,,-1,-2"
        .. "\r\n", 1, true))
      -- Row id 0 is printed 0.
      local dev = events(dir, "-f json --with-device")
      assert.truthy(dev:find('\n  {\n    "id": 0,\n    "timestamp": '
        .. '"2025-12-03T10:00:00Z",\n', 1, true))
      assert.truthy(events(dir, "-f ndjson --with-device"):find(
        ',"id":0,"severity":"info","summary":"row id 0",', 1, true))
      assert.truthy(events(dir, "-f csv"):find("\r\n0,2025-12-03T10:00:00"
        .. "+00:00,", 1, true))
    end)

    it("8. prints a leap second as chrono does: :60 in every format",
       function()
      ends('\n    "timestamp": "2016-12-31T23:59:60.500Z"\n  }\n]\n',
           (events(dir, "-f json")))
      assert.truthy(events(dir, "-f sql"):find("VALUES ('2016-12-31T23:59:60"
        .. ".500+00:00', ", 1, true))
      ends("\n| 2016-12-31 23:59:60 | StateTransition | Info | leap second "
           .. "|\n\n", (events(dir, "-f markdown")))
      ends('"summary":"leap second","timestamp":"2016-12-31T23:59:60.500Z"}\n',
           (events(dir, "-f ndjson")))
      -- A --since of second 60 takes it, a tenth later leaves it out.
      local all = events(dir, "-f ndjson --since 2016-12-31T23:59:60Z")
      assert.equal(24, #records(all, "\n"))
      local later = events(dir, "-f ndjson --since 2016-12-31T23:59:60.6Z")
      assert.equal(23, #records(later, "\n"))
      assert.equal(all:gsub('[^\n]*"leap second"[^\n]*\n', ""), later)
    end)

    it("8. splits --since on Unicode whitespace and lowercases its unit "
       .. "as Rust does", function()
      local week = events(dir, "-f ndjson --since '1 week ago'")
      -- 2025-11-27: every row but the leap second's.
      assert.equal(23, #records(week, "\n"))
      local out, err, status = events(dir, "-f ndjson --since "
                                           .. quote("1 wee\u{212A} ago"))
      assert.equal(week, out)
      assert.equal(ROWS_STDERR, err)
      assert.equal(0, status)
      -- A no-break space between the count and the unit separates them.
      out, err, status = events(dir, "-f ndjson --since "
                                     .. quote("1\u{A0}week ago"))
      assert.equal(week, out)
      assert.equal(0, status)
      -- Not before "ago": Spacedrive wants exactly " ago".
      out, err, status = events(dir, "-f ndjson --since "
                                     .. quote("1 week\u{A0}ago"))
      assert.equal("", out)
      assert.equal("synclua events: --since: Invalid time format: 1 week"
        .. "\u{A0}ago (e.g. '1 hour ago', '2h', 'yesterday', '2025-12-03 "
        .. "10:00:00' or '2025-12-03T10:00:00Z')\n", err)
      assert.equal(2, status)
      -- The dotted capital I lowercases to i and a combining dot.
      out, err, status = events(dir, "--since " .. quote("1 \u{130} ago"))
      assert.equal("", out)
      assert.equal("synclua events: --since: Unknown time unit: i\u{307} "
        .. "(e.g. '1 hour ago', '2h', 'yesterday', '2025-12-03 10:00:00' or "
        .. "'2025-12-03T10:00:00Z')\n", err)
      assert.equal(2, status)
    end)

    it("8. refuses a year it cannot hold, saying its range", function()
      local out, err, status = events(dir, "--since 1600-01-01T00:00:00Z")
      assert.equal("", out)
      assert.equal("synclua events: --since: Out of range: "
        .. "1600-01-01T00:00:00Z (synclua's times run from "
        .. "1677-09-21T00:12:44Z to 2262-04-11T23:47:16Z)\n", err)
      assert.equal(2, status)
    end)
  end)

  describe("1. floats", function()
    it("are read twice on the events path and once by the server",
       function()
      -- A value where one read and two reads differ: stored ...263e-13,
      -- one read ...264e-13, two reads ...265e-13.
      local db = store(dir, "sync.db", {
        { timestamp = at(1), summary = lit("drift"),
          details = lit('{"x":5.723907154550263e-13}') } })
      local nd = events(dir, "-f ndjson")
      assert.equal('{"correlation_id":null,"details":{"x":'
        .. '5.723907154550265e-13},"duration_ms":null,"event_type":'
        .. '"state_transition","peer_device_id":null,"record_count":null,'
        .. '"severity":"info","summary":"drift","timestamp":'
        .. '"2025-12-03T10:00:01Z"}\n', nd)
      assert.truthy(events(dir, "-f sql"):find(
        "'drift', '{\"x\":5.723907154550265e-13}', NULL,", 1, true))
      assert.truthy(events(dir, "-f json --with-device"):find(
        '\n    "details": {\n      "x": 5.723907154550265e-13\n    }\n',
        1, true))
      -- The server reads the row once (a copy of the store: serving adds a
      -- row to it).
      assert(os.execute("cp " .. quote(db) .. " " .. quote(dir
                                                           .. "/served.db")))
      assert(synclua.write_key(dir .. "/key"))
      local srv = serve(dir, dir .. "/served.db")
      local r, got = fetch(dir, srv, "got.db")
      assert.is_true(r.ok, r.error)
      assert.equal(1, r.received)
      assert.equal('{"x":5.723907154550264e-13}\n', support.sqlite(got,
        "SELECT details FROM sync_event_log"))
      -- An export imported and exported again is read twice more, as
      -- Spacedrive reads what sqlite3 loaded from its own export.
      support.spit(dir .. "/export.sql", (events(dir, "-f sql")))
      local _, err, status = support.synclua(dir,
        "import --db again.db export.sql")
      assert.equal("", err)
      assert.equal(0, status)
      assert.equal('{"x":5.723907154550265e-13}\n', support.sqlite(
        dir .. "/again.db", "SELECT details FROM sync_event_log"))
      assert.truthy(events(dir, "-f ndjson --db again.db"):find(
        '"details":{"x":5.723907154550267e-13}', 1, true))
    end)
  end)

  describe("2. equal timestamps", function()
    -- "after", then three rows of one instant (ids 3, 5, 8, inserted out
    -- of id order), then "before".
    local TIES = {
      { id = "1", timestamp = at(0), summary = lit("before") },
      { id = "8", timestamp = at(1), summary = lit("tie c") },
      { id = "3", timestamp = at(1), summary = lit("tie a") },
      { id = "5", timestamp = at(1), summary = lit("tie b") },
      { id = "9", timestamp = at(2), summary = lit("after") },
    }
    before_each(function() store(dir, "sync.db", TIES) end)

    local FORMATS = {
      { "-f json", "ties.json" },
      { "-f json --with-device", "ties-device.json" },
      { "-f sql", "ties.sql" },
      { "-f markdown", "ties.md" },
      { "-f ndjson", "ties.ndjson" },
      { "-f ndjson --with-device", "ties-device.ndjson" },
      { "-f csv", "ties.csv" },
    }
    for _, f in ipairs(FORMATS) do
      it("come in ascending id, and --limit cuts there: " .. f[1],
         function()
        local out, err, status = events(dir, f[1] .. " --limit 3")
        assert.equal("synclua events: 3 of 5 events; --limit 0 for all\n",
                     err)
        assert.equal(0, status)
        golden(f[2], out)
      end)
    end

    it("come newest first, each instant in ascending id", function()
      assert.same({ "after", "tie a", "tie b", "tie c", "before" },
                  summaries((events(dir, "-f ndjson"))))
      local ids = {}
      for id in events(dir, "-f ndjson --with-device"):gmatch('"id":(%d+)') do
        ids[#ids + 1] = id
      end
      assert.equal("9 3 5 8 1", table.concat(ids, " "))
      assert.same({ "after", "tie a" },
                  summaries((events(dir, "-f ndjson --limit 2"))))
      assert.same({ "after", "tie a", "tie b" },
                  summaries((events(dir, "-f ndjson --limit 3"))))
      local md = events(dir, "-f markdown --limit 3")
      assert.truthy(md:find("\n**Event Count**: 3\n", 1, true))
      ends("| after |\n| 2025-12-03 10:00:01 | StateTransition | Info | "
           .. "tie a |\n| 2025-12-03 10:00:01 | StateTransition | Info | "
           .. "tie b |\n\n", md)
    end)

    it("are sent by the server in ascending id, its limit cutting there",
       function()
      assert(synclua.write_key(dir .. "/key"))
      local srv = serve(dir, dir .. "/sync.db")
      local r, got = fetch(dir, srv, "got.db", 3)
      assert.is_true(r.ok, r.error)
      assert.equal(3, r.received)
      -- Stored oldest first, an instant's events in the order sent.
      assert.equal("2025-12-03T10:00:01+00:00|tie a\n"
        .. "2025-12-03T10:00:01+00:00|tie b\n"
        .. "2025-12-03T10:00:02+00:00|after\n",
        support.sqlite(got, "SELECT timestamp, summary FROM sync_event_log "
                            .. "ORDER BY id"))
    end)
  end)

  describe("6. rows Spacedrive's reader skips", function()
    -- Newest first by Spacedrive's ORDER BY timestamp DESC: the blob time
    -- (a blob sorts above text), g4, ..., g1, then the time without a zone
    -- (a space sorts below "T"). Spacedrive prints g4 g3 g2 g1 only.
    local SKIPPED = {
      { timestamp = at(1), summary = lit("g1") },
      { timestamp = at(2), summary = lit("type StateTransition"),
        event_type = lit("StateTransition") },
      { timestamp = at(3), summary = lit("g2") },
      { timestamp = at(4), summary = lit("severity INFO"),
        severity = lit("INFO") },
      { timestamp = at(5), summary = lit("type space sync_error"),
        event_type = lit(" sync_error"), category = lit("error"),
        severity = lit("error") },
      { timestamp = at(6), summary = lit("g3") },
      { timestamp = at(7), summary = "NULL" },
      { timestamp = at(8), summary = bytes("bad\255") },
      { timestamp = at(9), summary = "X'626C6F62'" },
      { timestamp = at(10), summary = lit("g4") },
      { timestamp = lit("2025-12-03 10:00:11"), summary = lit("no zone") },
      { timestamp = "CAST(" .. at(12) .. " AS BLOB)",
        summary = lit("blob time") },
    }
    before_each(function() store(dir, "sync.db", SKIPPED, true) end)

    local ALL_STDERR = "synclua events: warning: 8 events that Spacedrive's "
      .. "reader skips are written last (1 with a timestamp that does not "
      .. "parse, written as stored; see synclua check)\n"
      .. "synclua events: warning: sync.db: 7 rows with values Spacedrive "
      .. "cannot read (timestamp, event_type, severity, summary; ids 2, 4, "
      .. "5, ...): shown as read leniently\n"

    local FORMATS = {
      { "-f json", "skipped.json" },
      { "-f json --with-device", "skipped-device.json" },
      { "-f sql", "skipped.sql" },
      { "-f markdown", "skipped.md" },
      { "-f ndjson", "skipped.ndjson" },
      { "-f ndjson --with-device", "skipped-device.ndjson" },
      { "-f csv", "skipped.csv" },
    }
    for _, f in ipairs(FORMATS) do
      it("come last, and events says so: " .. f[1], function()
        local out, err, status = events(dir, f[1])
        assert.equal(ALL_STDERR, err)
        assert.equal(0, status)
        golden(f[2], out)
      end)
    end

    it("come after what Spacedrive prints, in Spacedrive's order among "
       .. "themselves", function()
      -- What Spacedrive prints, first and byte for byte.
      local json = elements((events(dir, "-f json")))
      assert.equal(12, #json)
      for i, g in ipairs{ { "g4", 10 }, { "g3", 6 }, { "g2", 3 },
                          { "g1", 1 } } do
        assert.equal(json_element{ json_summary = g[1], ts = sec(g[2]) },
                     json[i])
      end
      assert.same({ "g4", "g3", "g2", "g1", "blob time", "blob", "bad\u{FFFD}",
                    "", "type space sync_error", "severity INFO",
                    "type StateTransition", "no zone" },
                  summaries((events(dir, "-f ndjson --with-device"))))
      local csv = records((events(dir, "-f csv")), "\r\n")
      local ids = {}
      for i = 2, #csv do ids[#ids + 1] = csv[i]:match("^%d+") end
      assert.equal("10 6 3 1 12 9 8 7 5 4 2 11", table.concat(ids, " "))
    end)

    it("count in --limit as Spacedrive's LIMIT counts them: the same rows, "
       .. "those it prints first", function()
      -- LIMIT 5: blob time, g4, blob, bad, NULL; Spacedrive prints g4.
      local out, err = events(dir, "-f ndjson --limit 5")
      assert.same({ "g4", "blob time", "blob", "bad\u{FFFD}", "" },
                  summaries(out))
      assert.equal("synclua events: 5 of 12 events; --limit 0 for all\n"
        .. "synclua events: warning: 4 events that Spacedrive's "
        .. "reader skips are written last (see synclua check)\n"
        .. "synclua events: warning: sync.db: 4 rows with values Spacedrive "
        .. "cannot read (timestamp, summary; ids 7, 8, 9, ...): shown as "
        .. "read leniently\n", err)
      -- LIMIT 7 adds g3 and the " sync_error" row.
      assert.same({ "g4", "g3", "blob time", "blob", "bad\u{FFFD}", "",
                    "type space sync_error" },
                  summaries((events(dir, "-f ndjson --limit 7"))))
      -- LIMIT 2: one of them, in the singular.
      out, err = events(dir, "-f ndjson --limit 2")
      assert.same({ "g4", "blob time" }, summaries(out))
      assert.equal("synclua events: 2 of 12 events; --limit 0 for all\n"
        .. "synclua events: warning: 1 event that Spacedrive's "
        .. "reader skips is written last (see synclua check)\n"
        .. "synclua events: warning: sync.db: 1 row with values Spacedrive "
        .. "cannot read (timestamp; id 12): shown as read leniently\n", err)
    end)

    it("count in the offset as Spacedrive's OFFSET counts them", function()
      local log <close> = assert(synclua.open(dir .. "/sync.db"))
      local function ids(filter)
        local list = {}
        local iter, cur = log:events(filter)
        for ev in iter, cur do list[#list + 1] = ev.id end
        return table.concat(list, " "), cur:skipped()
      end
      -- OFFSET 3 LIMIT 4: bad (8), NULL (7), g3 (6), " sync_error" (5).
      assert.same({ "6 8 7 5", 3 },
                  { ids{ skipped_last = true, offset = 3, limit = 4 } })
      -- OFFSET 1 LIMIT 3: g4, blob, bad.
      assert.same({ "10 9 8", 2 },
                  { ids{ skipped_last = true, offset = 1, limit = 3 } })
      -- Without skipped_last, Spacedrive's order as it stands.
      assert.same({ "12 10 9 8 7 6 5 4 3 2 1 11", 8 }, { ids{} })
    end)

    it("are not sent by the server, though its limit counts them",
       function()
      assert(synclua.write_key(dir .. "/key"))
      -- Each request to a server of its own, on a copy of the store (the
      -- server logs each request it answers as an event of its own). The
      -- rows in [.., now] are those with a time, g4 first: LIMIT 3 reads
      -- g4, blob, bad and sends g4 alone; LIMIT 5 adds NULL and g3; LIMIT
      -- 8 adds " sync_error", INFO and g2.
      for _, c in ipairs{ { 1000, "g1\ng2\ng3\ng4\n" }, { 3, "g4\n" },
                          { 5, "g3\ng4\n" }, { 8, "g2\ng3\ng4\n" } } do
        local copy = dir .. "/served-" .. c[1] .. ".db"
        assert(os.execute("cp " .. quote(dir .. "/sync.db") .. " "
                          .. quote(copy)))
        local srv = serve(dir, copy)
        local r, got = fetch(dir, srv, "got-" .. c[1] .. ".db", c[1])
        assert.is_true(r.ok, r.error)
        assert.equal(select(2, c[2]:gsub("\n", "")), r.received)
        assert.equal(c[2], support.sqlite(got,
          "SELECT summary FROM sync_event_log ORDER BY id"))
        srv:stop()
      end
    end)
  end)

  describe("7. the server", function()
    -- ROWS (but the negative counts, below) with what Spacedrive's handler
    -- leaves out: a row dated after now, the device's rows stored with
    -- another spelling, another device's, a row its reader skips.
    local function served(dir_)
      return store(dir_, "served.db", concat(
        without(ROWS, "counts: negative"), {
        { timestamp = at(30), summary = lit("drift"),
          details = lit('{"x":5.723907154550263e-13}') },
        { timestamp = lit("2099-01-01T00:00:00+00:00"),
          summary = lit("in the future") },
        { timestamp = at(31), summary = lit("device in capitals"),
          device_id = lit(DEV:upper()) },
        { timestamp = at(32), summary = lit("device braced"),
          device_id = lit("{" .. DEV .. "}") },
        { timestamp = at(33), summary = lit("another device"),
          device_id = lit(OTHER) },
        { timestamp = at(34), summary = lit("type StateTransition"),
          event_type = lit("StateTransition") } }))
    end

    it("sends what Spacedrive's handler sends, read once, in [since, now]",
       function()
      local db = served(dir)
      assert(synclua.write_key(dir .. "/key"))
      local srv = serve(dir, db)
      local r, got = fetch(dir, srv, "got.db")
      assert.is_true(r.ok, r.error)
      assert.equal(DEV, r.device)
      -- ROWS but the negative one, and the drift row.
      assert.equal(24, r.received)
      golden("served.txt", dump(got))
      -- Not sent: the future, other spellings and devices, the skipped.
      assert.equal("0\n", support.sqlite(got, "SELECT count(*) FROM "
        .. "sync_event_log WHERE summary IN ('in the future', 'device in "
        .. "capitals', 'device braced', 'another device', 'type "
        .. "StateTransition')"))
      local function col(c, summary)
        return support.sqlite(got, ("SELECT quote(%s) FROM sync_event_log "
          .. "WHERE summary = %s"):format(c, lit(summary)))
      end
      -- Floats read once (the drift row's one read differs from two).
      assert.equal("'{\"x\":5.723907154550264e-13}'\n", col("details",
                                                            "drift"))
      assert.equal("'{\"big\":9007199254740994.0,\"latency_ms\":"
        .. "19.88999938964844,\"one\":1.0000000000000002,\"tiny\":"
        .. "9.999999999999999e-123}'\n", col("details", "floats"))
      assert.equal("'{\"below_i64\":-9.223372036854776e18,\"i64_max\":"
        .. "9223372036854775807,\"i64_min\":-9223372036854775808,"
        .. "\"past_i64\":9223372036854775808,\"past_u64\":"
        .. "1.8446744073709552e19,\"u64_max\":18446744073709551615}'\n",
        col("details", "integers"))
      -- Details serde rejects are None.
      for _, rj in ipairs(REJECTED) do
        assert.equal("NULL\n", col("details", rj[1]), rj[1])
      end
      -- NUL kept in the summary and the model types.
      assert.equal("X'6E756C200020696E73696465'|"
        .. "X'656E7472792C6E756C200020696E73696465'\n",
        support.sqlite(got, "SELECT quote(CAST(summary AS BLOB)), "
          .. "quote(CAST(model_types AS BLOB)) FROM sync_event_log WHERE "
          .. "model_types IS NOT NULL"))
      -- UUIDs lowercase and hyphenated, or None.
      for _, s in ipairs{ "ids: uppercase, simple", "ids: braced, urn" } do
        assert.equal("'" .. SESSION .. "'|'" .. PEER .. "'\n",
          support.sqlite(got, "SELECT quote(correlation_id), "
            .. "quote(peer_device_id) FROM sync_event_log WHERE summary = "
            .. lit(s)))
      end
      for _, s in ipairs{ "ids: not-a-uuid, empty",
                          "ids: leading space, URN:UUID:",
                          "ids: invalid UTF-8, a g" } do
        assert.equal("NULL|NULL\n", support.sqlite(got, "SELECT "
          .. "quote(correlation_id), quote(peer_device_id) FROM "
          .. "sync_event_log WHERE summary = " .. lit(s)))
      end
      -- Counts that are no integers are None.
      assert.equal("NULL|NULL\nNULL|NULL\n", support.sqlite(got, "SELECT "
        .. "quote(record_count), quote(duration_ms) FROM sync_event_log "
        .. "WHERE summary LIKE 'counts: %' ORDER BY id"))
      -- The leap second as chrono writes it.
      assert.equal("'2016-12-31T23:59:60.500+00:00'\n",
                   col("timestamp", "leap second"))
      local rest = srv:stop()
      assert.equal("synclua serve: 127.0.0.1:P: device " .. ASKER .. " asked "
        .. "for 1000 events: sent 24 in N ms\nsynclua serve: stopped\n",
        served_lines(rest))
    end)

    it("sends a negative count as Spacedrive's u64 cast, which fetch reads "
       .. "back as the stored value", function()
      local db = store(dir, "served.db", {
        { timestamp = at(1), summary = lit("counts: negative"),
          record_count = "-1", duration_ms = "-2" } })
      assert(synclua.write_key(dir .. "/key"))
      local srv = serve(dir, db)
      local r, got = fetch(dir, srv, "got.db")
      assert.is_true(r.ok, r.error)
      assert.equal(1, r.received)
      assert.equal("-1|-2\n", support.sqlite(got, "SELECT record_count, "
        .. "duration_ms FROM sync_event_log"))
      assert.truthy(events(dir, "-f ndjson --db got.db"):find(
        '"duration_ms":18446744073709551614,.*'
        .. '"record_count":18446744073709551615,'))
    end)

    it("decodes a request's UUIDs in every spelling serde reads", function()
      assert.same({ kind = "EventLogRequest",
                    library_id = "a5851768-6f4c-8571-bdf9-d1e2fc3c6d9e",
                    requesting_device = "c0ffee00-1234-4567-89ab-cdef01234567",
                    correlation_id = SESSION, limit = 5 },
        synclua.decode_message('{"EventLogRequest":{"library_id":'
          .. '"urn:uuid:A5851768-6F4C-8571-BDF9-D1E2FC3C6D9E",'
          .. '"requesting_device":"{C0FFEE00-1234-4567-89AB-CDEF01234567}",'
          .. '"since":null,"event_types":null,"correlation_id":"'
          .. SESSION:upper():gsub("-", "") .. '","limit":5}}'))
      assert.same({ kind = "EventLogRequest",
                    library_id = "a5851768-6f4c-8571-bdf9-d1e2fc3c6d9e",
                    requesting_device = "c0ffee00-1234-4567-89ab-cdef01234567",
                    correlation_id = SESSION, limit = 1 },
        synclua.decode_message('{"EventLogRequest":{"library_id":'
          .. '"a58517686f4c8571bdf9d1e2fc3c6d9e","requesting_device":'
          .. '"C0ffee00-1234-4567-89aB-CDEF01234567","correlation_id":'
          .. '"{' .. SESSION .. '}","limit":1}}'))
      -- What the uuid crate refuses, serde refuses.
      local R = '{"EventLogRequest":{"library_id":"'
        .. "a5851768-6f4c-8571-bdf9-d1e2fc3c6d9e" .. '","requesting_device":'
      assert.same({ nil, 'EventLogRequest.requesting_device: not a UUID: '
                    .. '" c0ffee00-1234-4567-89ab-cdef01234567"', "invalid" },
        { synclua.decode_message(R .. '" c0ffee00-1234-4567-89ab-'
                                 .. 'cdef01234567","limit":1}}') })
      -- (The message shows the first 40 bytes of the value.)
      assert.same({ nil, 'EventLogRequest.requesting_device: not a UUID: '
                    .. '"URN:UUID:c0ffee00-1234-4567-89ab-cdef012"',
                    "invalid" },
        { synclua.decode_message(R .. '"URN:UUID:c0ffee00-1234-4567-89ab-'
                                 .. 'cdef01234567","limit":1}}') })
    end)
  end)

  describe("9. devices", function()
    local DEVICES = {
      { timestamp = at(1), summary = lit("lowercase") },
      { timestamp = at(2), summary = lit("uppercase"),
        device_id = lit(DEV:upper()) },
      { timestamp = at(3), summary = lit("simple"),
        device_id = lit((DEV:gsub("-", ""))) },
      { timestamp = at(4), summary = lit("another device"),
        device_id = lit(OTHER) },
    }
    before_each(function() store(dir, "sync.db", DEVICES) end)

    it("are all shown by default", function()
      local out, err, status = events(dir, "-f json --with-device")
      assert.equal("", err)
      assert.equal(0, status)
      golden("devices.json", out)
      local ids = {}
      for id in out:gmatch('"device_id": "([^"]*)"') do ids[#ids + 1] = id end
      assert.same({ OTHER, DEV, DEV, DEV }, ids)
      assert.same({ "another device", "simple", "uppercase", "lowercase" },
                  summaries((events(dir, "-f ndjson"))))
    end)

    it("--device shows the rows Spacedrive's query selects: device_id "
       .. "stored exactly lowercase and hyphenated", function()
      for _, spelling in ipairs{ DEV, DEV:upper() } do
        local out, err, status = events(dir, "-f ndjson --with-device "
                                             .. "--device " .. spelling)
        assert.equal('{"category":"lifecycle","device_id":"' .. DEV .. '",'
          .. '"event_type":"state_transition","id":1,"severity":"info",'
          .. '"summary":"lowercase","timestamp":"2025-12-03T10:00:01Z"}\n',
          out)
        assert.equal("", err)
        assert.equal(0, status)
      end
      assert.same({ "another device" }, summaries((events(dir,
        "-f ndjson --device " .. OTHER))))
    end)
  end)

  describe("import -> export", function()
    -- Every row of ROWS but two, whose round trips have specs of their
    -- own below.
    local function rows() return without(ROWS, "counts: negative") end

    -- An export of dir/sync.db in `args` (written with -o: the file's
    -- bytes, as import reads them).
    local function export(args, file, db)
      local _, err, status = events(dir, args .. " -o " .. file
                                          .. (db and " --db " .. db or ""))
      assert.equal(0, status, err)
      return support.slurp(dir .. "/" .. file)
    end

    local function import(args)
      local out, err, status = support.synclua(dir, "import " .. args)
      assert.equal("", err)
      assert.equal(0, status)
      return out
    end

    -- The same bytes from the original and from `db`, in every format
    -- whose bytes do not show the store's own row ids or stored text.
    local function same_exports(db)
      for _, f in ipairs{ "-f json", "-f sql", "-f markdown", "-f ndjson" } do
        assert.equal(events(dir, f), (events(dir, f .. " --db " .. db)), f)
      end
      for _, f in ipairs{ "-f json --with-device",
                          "-f ndjson --with-device" } do
        local a = events(dir, f):gsub('"id": ?%d+,', "")
        local b = events(dir, f .. " --db " .. db):gsub('"id": ?%d+,', "")
        assert.equal(a, b, f)
      end
    end

    it("of an SQL export gives the same bytes", function()
      store(dir, "sync.db", rows())
      export("-f sql", "export.sql")
      assert.equal("Imported 23 events from 1 file into new.db (0 "
                   .. "duplicates skipped)\n", import("--db new.db export.sql"))
      same_exports("new.db")
    end)

    it("of a --with-device JSON export gives the same bytes", function()
      store(dir, "sync.db", without(rows(), "integers"))
      export("-f json --with-device", "export.json")
      assert.equal("Imported 22 events from 1 file into new.db (0 "
                   .. "duplicates skipped)\n",
                   import("--db new.db export.json"))
      same_exports("new.db")
    end)

    it("of a default JSON export, given the device, gives the same bytes "
       .. "in the formats without model types (it has none)", function()
      store(dir, "sync.db", without(rows(), "integers"))
      local json = export("-f json", "export.json")
      import("--db new.db --device " .. DEV .. " export.json")
      assert.equal(json, export("-f json", "again.json", "new.db"))
      for _, f in ipairs{ "-f ndjson", "-f markdown" } do
        assert.equal(events(dir, f), (events(dir, f .. " --db new.db")), f)
      end
    end)

    it("keeps the NUL, the leap second and the canonical ids in the store",
       function()
      store(dir, "sync.db", without(rows(), "integers"))
      export("-f json --with-device", "export.json")
      import("--db new.db export.json")
      local db = dir .. "/new.db"
      assert.equal("X'6E756C200020696E73696465'|"
        .. "X'656E7472792C6E756C200020696E73696465'\n",
        support.sqlite(db, "SELECT quote(CAST(summary AS BLOB)), "
          .. "quote(CAST(model_types AS BLOB)) FROM sync_event_log WHERE "
          .. "model_types IS NOT NULL"))
      assert.equal("2016-12-31T23:59:60.500+00:00\n", support.sqlite(db,
        "SELECT timestamp FROM sync_event_log WHERE summary = "
        .. "'leap second'"))
      assert.equal(SESSION .. "|" .. PEER .. "\n" .. SESSION .. "|" .. PEER
        .. "\n", support.sqlite(db, "SELECT correlation_id, peer_device_id "
          .. "FROM sync_event_log WHERE correlation_id IS NOT NULL ORDER BY "
          .. "timestamp"))
    end)

    it("of a JSON export keeps a NUL written \\u0000", function()
      support.spit(dir .. "/paused.json", '[\n  {\n    "id": 1,\n'
        .. '    "timestamp": "2025-12-03T10:00:00Z",\n'
        .. '    "device_id": "' .. DEV .. '",\n'
        .. '    "event_type": "state_transition",\n'
        .. '    "category": "lifecycle",\n    "severity": "info",\n'
        .. '    "summary": "Pa\\u0000used"\n  }\n]')
      import("--db new.db paused.json")
      assert.equal("X'50610075736564'\n", support.sqlite(dir .. "/new.db",
        "SELECT quote(CAST(summary AS BLOB)) FROM sync_event_log"))
      assert.truthy(events(dir, "--db new.db -f ndjson"):find(
        '"summary":"Pa\\u0000used"', 1, true))
      assert.equal(support.slurp(dir .. "/paused.json"),
                   export("-f json --with-device", "again.json", "new.db"))
    end)

    it("of a JSON export keeps integers above i64::MAX", function()
      store(dir, "sync.db", { ROWS[3] })
      export("-f json --with-device", "export.json")
      import("--db new.db export.json")
      assert.equal("'{\"below_i64\":-9.223372036854776e18,\"i64_max\":"
        .. "9223372036854775807,\"i64_min\":-9223372036854775808,"
        .. "\"past_i64\":9223372036854775808,\"past_u64\":"
        .. "1.8446744073709552e19,\"u64_max\":18446744073709551615}'\n",
        support.sqlite(dir .. "/new.db",
                       "SELECT quote(details) FROM sync_event_log"))
      same_exports("new.db")
    end)

    it("of a negative count's u64 cast gives the same bytes", function()
      store(dir, "sync.db", { ROWS[23] })
      for _, f in ipairs{ { "-f json --with-device", "export.json" },
                          { "-f sql", "export.sql" } } do
        export(f[1], f[2])
        import("--db " .. f[2] .. ".db " .. f[2])
        assert.equal("-1|-2\n", support.sqlite(dir .. "/" .. f[2] .. ".db",
          "SELECT record_count, duration_ms FROM sync_event_log"))
        same_exports(f[2] .. ".db")
      end
    end)
  end)
end)
