-- The PostgreSQL fleet store (issue 16): `synclua push --to`, every reading
-- command on `--db postgresql://...`, retention by month, the psql dialect
-- of -f sql -- against a real server: the throwaway cluster spec/run starts
-- (spec/pg_cluster; PGHOST and SYNCLUA_PG point at it). Without it these
-- specs fail: a missing server is not a skip. Each describe has a database
-- of its own.
local support = dofile("spec/fixtures/support.lua")
local hostile = dofile("spec/fixtures/hostile.lua")
local synclua = require "synclua"
local quote = support.quote

local LIB = "11111111-2222-4333-8444-555555555555"
local NOW = "SYNCLUA_NOW=2025-12-03T00:00:00Z SYNCLUA_UNICODE=0"

local function server()
  local host = os.getenv("PGHOST")
  assert(host and os.getenv("SYNCLUA_PG"), "no PostgreSQL server: spec/run "
    .. "starts one (spec/pg_cluster); SYNCLUA_PG is not set")
  return host
end

local made = 0
-- A new empty database on the throwaway server: its URI.
local function database()
  local host = server()
  made = made + 1
  local name = ("fleet_%d_%d"):format(made, math.random(1, 1e9))
  local out, ok = support.capture("createdb " .. quote(name) .. " 2>&1")
  assert(ok, "createdb: " .. out)
  return ("postgresql:///%s?host=%s"):format(name, host), name
end

-- psql's answer to one query, trimmed.
local function psql(name, sql)
  local out, ok = support.capture(("psql -X -At -v ON_ERROR_STOP=1 -d %s -c %s 2>&1")
    :format(quote(name), quote(sql)))
  assert(ok, "psql: " .. out)
  return (out:gsub("\n$", ""))
end

local function run(dir, args)
  return support.synclua(dir, args, NOW)
end

-- A simulated library in dir/lib (4 devices, 48 hours, seed 1).
local function simulate(dir, extra)
  local _, err, status = run(dir, "simulate --out lib " .. (extra or ""))
  assert(status == 0, err)
  return dir .. "/lib"
end

describe("synclua push", function()
  local dir, url, name, lib
  setup(function()
    dir = support.tmpdir()
    lib = simulate(dir)
    url, name = database()
  end)
  teardown(function() support.rmdir(dir) end)

  it("makes the schema and loads every device, one line each", function()
    local out, err, status = run(dir, ("push --to %s --db lib --library %s")
      :format(quote(url), LIB))
    assert.equal("", err)
    assert.equal(0, status)
    assert.equal(table.concat({
      "desktop (beeb8da1): 864 events read, 864 new, 0 already there",
      "laptop (71bb54d8): 466 events read, 466 new, 0 already there",
      "phone (85e7bb0f): 554 events read, 554 new, 0 already there",
      "nas (6775dc77): 589 events read, 589 new, 0 already there",
      url .. ": 2,473 events from 4 devices: 2,473 new", "" }, "\n"), out)
    assert.equal("2473", psql(name, "SELECT count(*) FROM sync_event_log"))
    -- every row in its month's partition, none in the untimed one
    assert.equal("sync_event_log_p202512|2473", psql(name,
      "SELECT tableoid::regclass, count(*) FROM sync_event_log GROUP BY 1"))
    assert.equal(table.concat({
      LIB .. "|beeb8da1-658e-4c67-b893-a2eefb32555e|desktop",
      LIB .. "|71bb54d8-d101-45b9-834d-0bff90150280|laptop",
      LIB .. "|85e7bb0f-1227-4575-8917-18de357e3da8|phone",
      LIB .. "|6775dc77-0156-4f61-9afc-d44d14cf8bfe|nas" }, "\n"),
      psql(name, "SELECT library_id, device_id, label FROM synclua_devices"
        .. " ORDER BY first_pushed"))
  end)

  it("adds nothing when pushed again, and reads only what is new", function()
    local out, _, status = run(dir, ("push --to %s --db lib --library %s -f json")
      :format(quote(url), LIB))
    assert.equal(0, status)
    local r = synclua.json_decode(out)
    assert.equal(0, r.read)
    assert.equal(0, r.inserted)
    assert.equal(864, r.pushed[1].after_id)
    assert.equal("2473", psql(name, "SELECT count(*) FROM sync_event_log"))
  end)

  it("takes new rows of a store on the next push (resumable)", function()
    local log = assert(synclua.open(lib .. "/nas/sync.db", { mode = "w" }))
    log:append{ event_type = "sync_error", summary = "after the first push",
                timestamp = "2025-12-02T23:50:00+00:00",
                device_id = "6775dc77-0156-4f61-9afc-d44d14cf8bfe" }
    assert(log:close())
    local out, _, status = run(dir, ("push --to %s --db lib/nas --library %s")
      :format(quote(url), LIB))
    assert.equal(0, status)
    assert.equal("nas (6775dc77): 1 event read, 1 new, 0 already there "
      .. "(from id 590 on)\n" .. url .. ": 1 event from 1 device: 1 new\n", out)
    assert.equal("2474", psql(name, "SELECT count(*) FROM sync_event_log"))
  end)

  it("finds an export's rows already there: duplicates, not new", function()
    local _, err, status = run(dir, "events --db lib/phone -f json --limit 0 "
      .. "--with-device -o phone.json")
    assert.equal(0, status, err)
    local out = run(dir, ("push --to %s --db phone.json --library %s -f json")
      :format(quote(url), LIB))
    local r = synclua.json_decode(out)
    assert.equal(554, r.read)
    assert.equal(0, r.inserted)
    assert.equal(554, r.duplicates)
  end)

  it("is one transaction per device: a refused row leaves none", function()
    local url2, name2 = database()
    -- the schema first, then a rule some of the desktop's rows break
    assert.equal(0, select(3, run(dir, ("push --to %s --db lib/laptop "
      .. "--library %s"):format(quote(url2), LIB))))
    psql(name2, "ALTER TABLE sync_event_log ADD CONSTRAINT no_catch_up CHECK"
      .. " (device_id <> 'beeb8da1-658e-4c67-b893-a2eefb32555e' OR"
      .. " event_type <> 'catch_up_session_started')")
    local out, err, status = run(dir, ("push --to %s --db lib/desktop "
      .. "--library %s"):format(quote(url2), LIB))
    assert.equal("", out)
    assert.equal(3, status)
    assert.matches("^synclua push: postgresql:///" .. name2 .. "%?host=.-: "
      .. "COPY: new row for relation \"sync_event_log_p202512\" violates "
      .. "check constraint \"no_catch_up\"\n$", err)
    assert.equal("466", psql(name2, "SELECT count(*) FROM sync_event_log"))
    assert.equal("0", psql(name2, "SELECT count(*) FROM synclua_pushes WHERE"
      .. " source LIKE 'beeb8da1%'"))
  end)

  it("leaves a source's own duplicates out, new device or not", function()
    -- twice the same timed row, twice the same untimed one, one other
    assert(os.execute(("mkdir -p %s/dup %s/dup2"):format(quote(dir), quote(dir))))
    local db = dir .. "/dup/sync.db"
    assert.equal("", support.sqlite(db, support.DDL))
    local same = { timestamp = "2025-12-02T10:00:00.5+00:00", summary = "A → B" }
    local untimed = { timestamp = "yesterday", summary = "A → B" }
    support.insert_rows(db, { same, same, untimed, untimed,
      { timestamp = "2025-12-02T10:00:00.5+00:00", summary = "B → C" } })
    local url4, name4 = database()
    local out, err, status = run(dir, ("push --to %s --db dup --library %s "
      .. "-f json"):format(quote(url4), LIB))
    assert.equal(0, status, err)
    local r = synclua.json_decode(out)
    assert.same({ 5, 3, 2 }, { r.read, r.inserted, r.duplicates })
    -- the same rows in another file of the same device: all already there
    assert(os.execute(("cp %s %s/dup2/"):format(quote(db), quote(dir))))
    out = run(dir, ("push --to %s --db dup2 --library %s -f json")
      :format(quote(url4), LIB))
    r = synclua.json_decode(out)
    assert.same({ 5, 0, 5 }, { r.read, r.inserted, r.duplicates })
    assert.equal("1|1", psql(name4, "SELECT count(*) FILTER (WHERE"
      .. " timestamp_text = 'yesterday'), count(*) FILTER (WHERE summary ="
      .. " 'B → C') FROM sync_event_log"))
  end)

  it("--redact: pseudonyms in, the library's too, nothing of the ids", function()
    local url5, name5 = database()
    local key = "fleet-spec-key"
    local r = synclua.redactor{ key = key }
    local _, err, status = run(dir, ("push --to %s --db lib --library %s "
      .. "--redact-key %s"):format(quote(url5), LIB, key))
    assert.equal(0, status, err)
    assert.matches("^synclua push: redacted 4 device ids, 4 peer ids, %d+ "
      .. "correlation ids, 1 library id, ", err)
    local phone = r:id("85e7bb0f-1227-4575-8917-18de357e3da8")
    assert.equal(r:id(LIB) .. "|" .. phone .. "|" .. phone:sub(1, 8),
      psql(name5, "SELECT DISTINCT library_id, log_device_id, device_label"
        .. " FROM sync_event_log WHERE log_device_id = '" .. phone .. "'"))
    local dump = psql(name5, "SELECT string_agg(concat_ws('|', library_id,"
      .. " log_device_id, device_label, device_id, summary, details,"
      .. " correlation_id, peer_device_id), E'\\n') FROM sync_event_log")
    for _, id in ipairs{ LIB, "85e7bb0f-1227-4575-8917-18de357e3da8",
                         "beeb8da1-658e-4c67-b893-a2eefb32555e", "phone",
                         "desktop" } do
      assert.is_nil(dump:find(id, 1, true), id)
    end
    -- events --redact on the plain fleet: --device takes the real id
    local out, err2, status2 = run(dir, ("events --db %s --device %s "
      .. "--redact-key %s -f ndjson --with-device --limit 1"):format(quote(url),
      "85e7bb0f-1227-4575-8917-18de357e3da8", key))
    assert.equal(0, status2, err2)
    assert.equal(phone, synclua.json_decode(out).device_id)
  end)

  it("six pushes at once into a new database: one loads, none fails", function()
    local url6, name6 = database()
    local cmd = {}
    for i = 1, 6 do
      cmd[#cmd + 1] = ("(cd %s && %s %s push --to %s --db lib/phone --library"
        .. " %s -f json >%s/race%d.json 2>&1; echo $? >%s/race%d.status) &")
        :format(quote(dir), NOW, quote(support.EXE), quote(url6), LIB,
                quote(dir), i, quote(dir), i)
    end
    assert(os.execute(table.concat(cmd, " ") .. " wait"))
    local inserted = 0
    for i = 1, 6 do
      assert.equal("0\n", support.slurp(("%s/race%d.status"):format(dir, i)))
      local r = synclua.json_decode(support.slurp(("%s/race%d.json")
        :format(dir, i)))
      inserted = inserted + r.inserted
    end
    assert.equal(554, inserted)
    assert.equal("554", psql(name6, "SELECT count(*) FROM sync_event_log"))
  end)

  it("names what is wrong with --to and --library, exit 2", function()
    local _, err, status = run(dir, "push --to lib/sync.db --db lib")
    assert.equal(2, status)
    assert.equal("synclua push: --to: a PostgreSQL connection expected "
      .. "(postgresql://...), got 'lib/sync.db'\n", err)
    _, err, status = run(dir, ("push --to %s --db lib"):format(quote(url)))
    assert.equal(2, status)
    assert.equal("synclua push: lib/desktop: no library id in its path: "
      .. "give --library UUID\n", err)
  end)

  it("takes the library id from a folder named by it", function()
    assert(os.execute(("mkdir -p %s/%s && cp %s/phone/sync.db %s/%s/")
      :format(quote(dir), LIB, quote(lib), quote(dir), LIB)))
    local url3, name3 = database()
    local _, err, status = run(dir, ("push --to %s --db %s")
      :format(quote(url3), LIB))
    assert.equal(0, status, err)
    assert.equal(LIB .. "|554", psql(name3, "SELECT library_id, count(*) FROM"
      .. " sync_event_log GROUP BY 1"))
  end)

  it("cannot reach a server: exit 3, the store named, no password", function()
    local _, err, status = run(dir, "push --to "
      .. quote("postgresql://me:secret@/nowhere?host=/nonexistent") .. " --db lib"
      .. " --library " .. LIB)
    assert.equal(3, status)
    assert.matches("^synclua push: postgresql://me@/nowhere%?host=/nonexistent: "
      .. "cannot connect: ", err)
    assert.is_nil(err:find("secret", 1, true))
  end)
end)

describe("a fleet store read by every command", function()
  local dir, url, lib
  setup(function()
    dir = support.tmpdir()
    lib = simulate(dir)
    url = database()
    local _, err, status = run(dir, ("push --to %s --db lib --library %s")
      :format(quote(url), LIB))
    assert(status == 0, err)
  end)
  teardown(function() support.rmdir(dir) end)

  local DEVICES = {
    desktop = "beeb8da1-658e-4c67-b893-a2eefb32555e",
    laptop = "71bb54d8-d101-45b9-834d-0bff90150280",
    phone = "85e7bb0f-1227-4575-8917-18de357e3da8",
    nas = "6775dc77-0156-4f61-9afc-d44d14cf8bfe" }

  for _, f in ipairs{ "json", "sql", "markdown", "ndjson", "csv" } do
    it("events -f " .. f .. ": the same bytes as each device's sync.db", function()
      for folder, id in pairs(DEVICES) do
        local a, ea, sa = run(dir, ("events --db %s --device %s -f %s --limit 0")
          :format(quote(url), id, f))
        local b, eb, sb = run(dir, ("events --db lib/%s -f %s --limit 0")
          :format(folder, f))
        assert.equal(0, sa, ea)
        assert.equal(sb, sa)
        assert.equal(eb, ea)
        assert.equal(b, a)
      end
    end)
  end

  it("events --since --until --type: the same rows in the window", function()
    local args = "--since '2025-12-01 12:00:00' --until '2025-12-02 00:00:00' "
      .. "--event-type batch_ingestion,peer_connected -f ndjson --limit 7"
    local a, ea = run(dir, ("events --db %s --device %s %s")
      :format(quote(url), DEVICES.phone, args))
    local b, eb = run(dir, "events --db lib/phone " .. args)
    assert.equal(b, a)
    assert.equal(eb, ea)
    assert.equal(7, select(2, a:gsub("\n", "")))
  end)

  for _, f in ipairs{ "text", "json", "ndjson", "csv", "sql", "markdown" } do
    it("timeline -f " .. f .. ": the same bytes as the folder of devices", function()
      local a, ea, sa = run(dir, ("timeline --db %s -f %s"):format(quote(url), f))
      local b, eb, sb = run(dir, "timeline --db lib -f " .. f)
      assert.equal(0, sa, ea)
      assert.equal(sb, sa)
      assert.equal(eb, ea)
      assert.equal(b, a)
    end)
  end

  for _, c in ipairs{ "report", "why_failed", "why_slow", "lost_data",
                      "which_peer", "peers", "sessions" } do
    it(c .. " --format json: the same verdict, numbers and bytes", function()
      local a, ea, sa = run(dir, ("%s --db %s --format json"):format(c, quote(url)))
      local b, eb, sb = run(dir, c .. " --db lib --format json")
      assert.equal(sb, sa)
      assert.equal(eb, ea)
      assert.equal(b, a)
      assert.is_table(synclua.json_decode(a))
    end)
  end

  it("session ID: the same page from both", function()
    local id = "fb4b30a6-b5f4-4184-b80d-e042ea9a5824"
    local a, _, sa = run(dir, ("session %s --db %s -f json"):format(id, quote(url)))
    local b, _, sb = run(dir, ("session %s --db lib -f json"):format(id))
    assert.equal(sb, sa)
    assert.equal(b, a)
  end)

  it("events with several devices and no --device: exit 2", function()
    local out, err, status = run(dir, "events --db " .. quote(url))
    assert.equal("", out)
    assert.equal(2, status)
    assert.equal("synclua events: 4 devices given: events reads one "
      .. "(several devices: synclua timeline)\n", err)
  end)

  it("--library of another library: no device, exit 3", function()
    local other = "99999999-2222-4333-8444-555555555555"
    local _, err, status = run(dir, ("timeline --db %s --library %s")
      :format(quote(url), other))
    assert.equal(3, status)
    assert.equal(("synclua timeline: %s: no device of library %s in the "
      .. "fleet (synclua push --to fills it)\n"):format(url, other), err)
  end)

  it("from Lua: open, devices, scope, events, count, first", function()
    local fleet <close> = assert(synclua.open(url))
    assert.equal("postgresql", fleet:backend())
    local devices = assert(fleet:devices())
    assert.equal(4, #devices)
    assert.same({ library_id = LIB, device_id = DEVICES.desktop,
                  label = "desktop" }, devices[1])
    assert.equal(2473, fleet:count{})
    local phone <close> = assert(fleet:scope{ library_id = LIB,
                                              device_id = DEVICES.phone })
    assert.equal(554, phone:count{})
    local sqlite <close> = assert(synclua.open(lib .. "/phone/sync.db"))
    for _, f in ipairs{
      {}, { severity = "warning+" }, { event_type = "batch_ingestion",
      limit = 5, offset = 3 }, { order = "asc", limit = 10 },
      { since = "2025-12-02 00:00:00", model_type = "entry" },
      { correlation_id = "8bf311c8-6159-44f4-9707-559f6693b120" },
      { peer = DEVICES.desktop, category = "network" } } do
      local a, b = {}, {}
      for ev in phone:events(f) do a[#a + 1] = ev end
      for ev in sqlite:events(f) do b[#b + 1] = ev end
      assert.same(b, a)
      assert.equal(sqlite:count(f), phone:count(f))
    end
    assert.same(sqlite:first{}, phone:first{})
    assert.equal(sqlite:max_id(), phone:max_id())
    assert.same(sqlite:time_report(), phone:time_report())
  end)

  it("the REPL's synclua.open reads it", function()
    local p = assert(io.popen(("cd %s && %s %s - 2>&1 <<'EOF'\n"
      .. "local log = synclua.open(%q)\nprint(log:count{}, log:backend())\nEOF")
      :format(quote(dir), NOW, quote(support.EXE), url)))
    local out = p:read("a")
    p:close()
    assert.equal("2473\tpostgresql\n", out)
  end)

  it("check judges the fleet as one store", function()
    local out, err, status = run(dir, "check --db " .. quote(url) .. " -f json")
    assert.equal(0, status, err)
    local r = synclua.json_decode(out)
    assert.equal(2473, r[1].events)
    assert.equal(url, r[1].path)
    assert.equal("ok", r[1].integrity)
  end)

  it("check says when the fleet cannot be read whole: exit 3", function()
    local url7, name7 = database()
    assert.equal(0, select(3, run(dir, ("push --to %s --db lib/phone "
      .. "--library %s"):format(quote(url7), LIB))))
    -- a role that may list the fleet's devices but not read their rows
    local role = name7 .. "_reader" -- roles are the cluster's, not a database's
    psql(name7, ("CREATE ROLE %s LOGIN; GRANT SELECT ON synclua_devices TO %s")
      :format(role, role))
    local as_reader = url7 .. "&user=" .. role
    local out, err, status = run(dir, "check -f json --db " .. quote(as_reader))
    assert.equal(3, status)
    assert.equal("", out)
    assert.matches("permission denied for table sync_event_log\n$", err)
  end)

  it("is not followed, served or imported into: exit 2, said why", function()
    local out, err, status = run(dir, ("events --db %s --device %s --follow "
      .. "-f ndjson"):format(quote(url), DEVICES.phone))
    assert.equal("", out)
    assert.equal(2, status)
    assert.equal(("synclua events: --follow follows stores as they grow: %s "
      .. "is a PostgreSQL fleet store (follow the sync.db files pushed)\n")
      :format(url), err)
    _, err, status = run(dir, "timeline --follow --db " .. quote(url))
    assert.equal(2, status)
    assert.equal(("synclua timeline: --follow follows stores as they grow: "
      .. "%s is a PostgreSQL fleet store (follow the sync.db files "
      .. "pushed)\n"):format(url), err)
    _, err, status = run(dir, ("import lib/phone/sync.db --db %s")
      :format(quote(url)))
    assert.equal(2, status)
    assert.equal(("synclua import: --db %s: import writes a sync.db; a "
      .. "PostgreSQL fleet store takes exports by synclua push --to\n")
      :format(url), err)
    run(dir, "keygen -o k.key")
    _, err, status = run(dir, ("serve --db %s --key-file k.key")
      :format(quote(url)))
    assert.equal(2, status)
    assert.equal(("synclua serve: --db %s: serve answers for one store (a "
      .. "sync.db or a library folder), not a PostgreSQL fleet store\n")
      :format(url), err)
  end)

  it("does not log: append is refused, read-only", function()
    local fleet <close> = assert(synclua.open(url))
    local ok, err = pcall(fleet.append, fleet, { event_type = "sync_error",
      summary = "x", device_id = DEVICES.phone })
    assert.is_false(ok)
    assert.equal(url .. ": opened read-only: cannot append", err)
  end)

  it("a database without the fleet table: exit 3, what is missing", function()
    local bare = database()
    local _, err, status = run(dir, "timeline --db " .. quote(bare))
    assert.equal(3, status)
    assert.equal(("synclua timeline: %s: no synclua fleet table "
      .. "(sync_event_log with library_id): `synclua push --to` makes it\n")
      :format(bare), err)
  end)
end)

describe("hostile rows through a fleet store", function()
  local dir, url
  setup(function()
    dir = support.tmpdir()
    hostile.build(dir)
    url = database()
  end)
  teardown(function() support.rmdir(dir) end)

  -- Each case its own library: every case logs the same device.
  local n = 0
  for _, c in ipairs(hostile.CASES) do
    if c.kind == "rows" and c.name ~= "empty" then
      n = n + 1
      local library = ("%08d-0000-4000-8000-000000000000"):format(n)
      it(c.name .. ": pushed, then exported byte for byte", function()
        local _, err, status = run(dir, ("push --to %s --db %s --library %s")
          :format(quote(url), c.name, library))
        assert.equal(0, status, err)
        for _, f in ipairs{ "json", "ndjson", "csv", "sql", "markdown" } do
          local a, ea, sa = run(dir, ("events --db %s --library %s -f %s "
            .. "--limit 0"):format(quote(url), library, f))
          local b, eb, sb = run(dir, ("events --db %s -f %s --limit 0")
            :format(c.name, f))
          assert.equal(sb, sa)
          -- the warnings the same, the store named as it was given
          assert.equal(eb, (ea:gsub(url:gsub("%p", "%%%0") .. ": ",
                                    c.name .. ": ")))
          assert.equal(b, a)
        end
      end)
    end
  end
end)

describe("retention of a fleet store", function()
  -- prune works on the real clock (as Spacedrive's hourly pass): the
  -- library spans the last 100 days.
  local dir, url, name
  local function months()
    return psql(name, "SELECT string_agg(c.relname, ',' ORDER BY c.relname)"
      .. " FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE"
      .. " i.inhparent = 'sync_event_log'::regclass")
  end
  -- A partition for each month its rows fall in (from `from` days ago
  -- on, when given), and the untimed one.
  local function expected(from)
    return psql(name, ("SELECT string_agg(DISTINCT 'sync_event_log_p' ||"
      .. " to_char(\"timestamp\", 'YYYYMM'), ',') || ',sync_event_log_untimed'"
      .. " FROM sync_event_log WHERE \"timestamp\" >= date_trunc('month',"
      .. " now() - interval '%d days')"):format(from or 100000))
  end
  setup(function()
    dir = support.tmpdir()
    local start = synclua.format_time(synclua.now() - 100 * 86400 * 10^9)
    local _, err, status = support.synclua(dir, ("simulate --out lib "
      .. "--devices 2 --hours 2300 --start %s"):format(start))
    assert(status == 0, err)
    url, name = database()
    _, err, status = support.synclua(dir, ("push --to %s --db lib "
      .. "--library %s"):format(quote(url), LIB))
    assert(status == 0, err)
  end)
  teardown(function() support.rmdir(dir) end)

  it("keeps a partition a month, and one for untimed rows", function()
    assert.equal(expected(), months())
    -- 100 days reach into four months at least
    assert.is_true(select(2, months():gsub(",", "")) >= 4)
  end)

  it("prune --dry-run counts whole months and drops nothing", function()
    local before = psql(name, "SELECT count(*) FROM sync_event_log")
    local n = psql(name, "SELECT count(*) FROM sync_event_log WHERE"
      .. " \"timestamp\" < date_trunc('month', now() - interval '60 days')")
    local out, err, status = support.synclua(dir, ("prune --db %s "
      .. "--older-than 60d --dry-run -f json"):format(quote(url)))
    assert.equal(0, status, err)
    local r = synclua.json_decode(out)[1]
    assert.equal(tonumber(n), r.count)
    assert.is_true(r.count > 0)
    assert.equal(psql(name, "SELECT to_char(date_trunc('month', now() -"
      .. " interval '60 days'), 'YYYY-MM-DD\"T\"HH24:MI:SS+00:00')"), r.cutoff)
    assert.equal(before, psql(name, "SELECT count(*) FROM sync_event_log"))
  end)

  it("prune drops the months wholly older, and only them", function()
    local kept = psql(name, "SELECT count(*) FROM sync_event_log WHERE"
      .. " \"timestamp\" >= date_trunc('month', now() - interval '60 days')")
    local want = expected(60)
    local _, err, status = support.synclua(dir, ("prune --db %s "
      .. "--older-than 60d"):format(quote(url)))
    assert.equal(0, status, err)
    assert.equal(want, months())
    assert.equal(kept, psql(name, "SELECT count(*) FROM sync_event_log"))
  end)
end)

describe("events -f sql --dialect postgresql", function()
  local dir
  setup(function()
    dir = support.tmpdir()
    simulate(dir)
    hostile.build(dir)
  end)
  teardown(function() support.rmdir(dir) end)

  it("is a script psql loads into an empty database", function()
    local _, err, status = run(dir, "events --db lib/phone -f sql --dialect "
      .. "postgresql --limit 0 -o phone.sql")
    assert.equal(0, status, err)
    local _, name = database()
    local out, ok = support.capture(("psql -X -q -v ON_ERROR_STOP=1 -d %s -f %s 2>&1")
      :format(quote(name), quote(dir .. "/phone.sql")))
    assert.is_true(ok, out)
    assert.equal("554|554", psql(name, "SELECT count(*), count(DISTINCT id) FROM"
      .. " sync_event_log"))
    assert.equal("bigint", psql(name, "SELECT data_type FROM"
      .. " information_schema.columns WHERE table_name = 'sync_event_log' AND"
      .. " column_name = 'record_count'"))
  end)

  it("writes a NUL in a value as U+FFFD, and says so", function()
    local out, err, status = run(dir, "events --db special_text -f sql "
      .. "--dialect postgresql --limit 0")
    assert.equal(0, status)
    assert.is_nil(out:find("\0", 1, true))
    assert.matches("synclua events: warning: %d+ NULs? in values written as "
      .. "U%+FFFD: PostgreSQL text cannot hold one\n", err)
  end)

  it("is refused with another format, exit 2", function()
    local _, err, status = run(dir, "events --db lib/phone -f csv --dialect postgresql")
    assert.equal(2, status)
    assert.equal("synclua events: --dialect postgresql: only for -f sql (not csv)\n", err)
  end)
end)
