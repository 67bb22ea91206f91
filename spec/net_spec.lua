-- The protocol from the outside: `synclua keygen`, `serve` and `fetch` run
-- as a person runs them (servers as background processes on loopback, each
-- stopped in after_each whatever happened), and the Lua API underneath
-- (keys, encode_request, decode_message, server, fetch).
local support = dofile("spec/fixtures/support.lua")
local synclua = require "synclua"
local quote = support.quote

local DEV_A = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
local DEV_B = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
local DEV_C = "cccccccc-cccc-4ccc-8ccc-cccccccccccc"
local DEV_L = "11111111-1111-4111-8111-111111111111"
local NIL_UUID = "00000000-0000-0000-0000-000000000000"
local SESSION = "5e551011-0000-4000-8000-000000000001"
local OTHER_LIBRARY = "99999999-9999-4999-8999-999999999999"

-- Run `synclua ARGS` in dir; stdout, stderr, exit status.
local run = support.synclua

-- A file's permission bits as stat prints them ("600\n").
local function mode(path)
  return support.capture("stat -c %a " .. quote(path))
end

local lines = support.lines

-- The summaries of NDJSON output, in order.
local function summaries(ndjson)
  local out = {}
  for _, line in ipairs(lines(ndjson)) do
    out[#out + 1] = synclua.json_decode(line).summary
  end
  return out
end

-- Seconds since the epoch, to the nanosecond (date(1): os.time counts
-- whole seconds).
local function clock()
  return tonumber((support.capture("date +%s.%N")))
end

-- The fixture rows: distinct instants everywhere, so that every merge
-- order is fixed by time alone, and no causal pair (no clock correction).
local ROWS_A = {
  { event_type = "state_transition", summary = "Uninitialized → Ready",
    timestamp = "2025-12-03T10:00:00Z", details = { reason = "startup" } },
  { event_type = "backfill_session_started",
    summary = "Backfill session started with peer " .. DEV_B,
    timestamp = "2025-12-03T10:00:02.250Z", correlation_id = SESSION,
    peer_device_id = DEV_B },
  { event_type = "sync_error", severity = "error",
    summary = "Buffer overflow: 3 updates dropped",
    timestamp = "2025-12-03T10:00:04Z", details = { dropped_count = 3 } },
}
local ROWS_B = {
  { event_type = "state_transition", summary = "Ready → Paused",
    timestamp = "2025-12-03T10:00:01Z" },
  { event_type = "batch_ingestion", summary = "Ingested batch of 7 records",
    timestamp = "2025-12-03T10:00:03.5Z", correlation_id = SESSION,
    peer_device_id = DEV_A, record_count = 7, model_types = { "entry" },
    duration_ms = 12 },
}
local ROWS_L = {
  { event_type = "peer_connected", summary = "Peer " .. DEV_A .. " connected",
    timestamp = "2025-12-03T10:00:05Z", peer_device_id = DEV_A },
}
local ROWS_C = {
  { event_type = "state_transition", summary = "Ready → Paused",
    timestamp = "2025-12-03T10:00:06Z" },
}

-- A store at dir/name for `device` with `rows`, written by synclua.
local function store(dir, name, device, rows)
  local log = assert(synclua.open(dir .. "/" .. name, { mode = "w",
                                                       device_id = device }))
  assert(log:insert(rows))
  log:close()
end

-- The fixtures: a.db and b.db (the devices' logs, never served: the
-- expectations come from them), peer-a.db and peer-b.db (the same rows,
-- served: serving adds an event per request), l.db (this device's own
-- log), slow.db, and the keys `key` and `other.key`.
-- They are made once (a store takes a while to create) and copied.
local template
local function fixtures(dir)
  if not template then
    template = support.tmpdir()
    store(template, "a.db", DEV_A, ROWS_A)
    store(template, "peer-a.db", DEV_A, ROWS_A)
    store(template, "b.db", DEV_B, ROWS_B)
    store(template, "peer-b.db", DEV_B, ROWS_B)
    store(template, "l.db", DEV_L, ROWS_L)
    store(template, "slow.db", DEV_C, ROWS_C)
    assert(synclua.write_key(template .. "/key"))
    assert(synclua.write_key(template .. "/other.key"))
  end
  assert(os.execute(("cp -a %s/. %s"):format(quote(template), quote(dir))))
end
teardown(function() support.rmdir(template) end)

-- The library id the fixtures' key stands for.
local function library(dir)
  return synclua.library_id(assert(synclua.read_key(dir .. "/key")))
end

local serve = support.serve

-- A server's output after its first line, with the parts that vary (the
-- client's port, the time taken) made fixed.
local function served_lines(text)
  return (text:gsub("127%.0%.0%.1:%d+", "127.0.0.1:P")
              :gsub(" in %d+ ms", " in N ms"))
end

-- The rows of a store as the sqlite3 tool prints them, every column.
local function dump(db, where)
  return support.sqlite(db, "SELECT * FROM sync_event_log "
                            .. (where or "") .. " ORDER BY id")
end

-- A timeline's json or ndjson without the row ids: a fetched store numbers
-- its rows itself (see "keeps a device's order ..." for the ids it gives).
local function without_ids(text)
  return (text:gsub('"id": ?%d+,', ""))
end

-- `synclua timeline ARGS` in dir: its stdout, and its stderr as fetch
-- would write it.
local function timeline(dir, args)
  local out, err, status = run(dir, "timeline " .. args)
  assert.equal(0, status)
  return out, (err:gsub("synclua timeline: ", "synclua fetch: "))
end

describe("synclua keygen", function()
  local dir
  before_each(function() dir = support.tmpdir() end)
  after_each(function() support.rmdir(dir) end)

  it("writes a fresh key to stdout: 64 lowercase hex digits and a newline",
     function()
    local cmd = ("cd %s && %s keygen 2>&1"):format(quote(dir),
                                                   quote(support.EXE))
    local one, ok1 = support.capture(cmd)
    local two, ok2 = support.capture(cmd)
    assert.is_true(ok1 and ok2)
    assert.truthy(one:match("^" .. ("[0-9a-f]"):rep(64) .. "\n$"), one)
    assert.truthy(two:match("^" .. ("[0-9a-f]"):rep(64) .. "\n$"), two)
    assert.are_not.equal(one, two)
  end)

  it("makes stdout mode 0600 when it is a file, even one that was 0644",
     function()
    support.spit(dir .. "/key", "old\n")
    os.execute("chmod 644 " .. quote(dir .. "/key"))
    local _, ok = support.capture(("cd %s && %s keygen > key"):format(
      quote(dir), quote(support.EXE)))
    assert.is_true(ok)
    assert.equal("600\n", mode(dir .. "/key"))
    local key = support.slurp(dir .. "/key")
    assert.truthy(key:match("^" .. ("[0-9a-f]"):rep(64) .. "\n$"), key)
    assert.equal(32, #assert(synclua.read_key(dir .. "/key")))
  end)

  it("creates a new file of mode 0600 with -o and says the library id",
     function()
    local out, err, status = run(dir, "keygen -o library.key")
    assert.equal("", out)
    assert.equal(0, status)
    local key = assert(synclua.read_key(dir .. "/library.key"))
    assert.equal("synclua keygen: wrote a new key to library.key (mode 0600); "
                 .. "library id " .. synclua.library_id(key)
                 .. " unless you give --library\n", err)
    assert.equal("600\n", mode(dir .. "/library.key"))
    assert.equal(65, #support.slurp(dir .. "/library.key"))
  end)

  it("never overwrites a file: exit 2, the file as it was", function()
    assert.equal(0, select(3, run(dir, "keygen -o library.key")))
    local before = support.slurp(dir .. "/library.key")
    local out, err, status = run(dir, "keygen -o library.key")
    assert.equal("", out)
    assert.equal("synclua keygen: library.key: File exists (a key is never "
                 .. "overwritten)\n", err)
    assert.equal(2, status)
    assert.equal(before, support.slurp(dir .. "/library.key"))
  end)

  it("refuses a stdout file that already holds data (>> or <>), leaving "
     .. "it as it was: exit 2", function()
    for _, redirect in ipairs{ ">>", "1<>" } do
      support.spit(dir .. "/notes", "old\n")
      os.execute("chmod 644 " .. quote(dir .. "/notes"))
      local _, _, status = os.execute(("cd %s && %s keygen %s notes "
        .. "</dev/null 2>err"):format(quote(dir), quote(support.EXE),
                                      redirect))
      assert.equal("synclua keygen: stdout is a file that already holds 4 "
                   .. "bytes: a key goes into a new file (keygen -o FILE)\n",
                   support.slurp(dir .. "/err"))
      assert.equal(2, status)
      assert.equal("old\n", support.slurp(dir .. "/notes"))
      assert.equal("644\n", mode(dir .. "/notes"))
    end
  end)

  it("exits 3 when the file cannot be created", function()
    local _, err, status = run(dir, "keygen -o nowhere/library.key")
    assert.equal("synclua keygen: nowhere/library.key: No such file or "
                 .. "directory\n", err)
    assert.equal(3, status)
  end)
end)

describe("synclua.keygen(), write_key(), read_key(), library_id()",
         function()
  local dir
  before_each(function() dir = support.tmpdir() end)
  after_each(function() support.rmdir(dir) end)

  it("reads back the key written, and derives the same library id from it",
     function()
    local hex = synclua.keygen()
    assert.truthy(hex:match("^" .. ("[0-9a-f]"):rep(64) .. "$"), hex)
    support.spit(dir .. "/k", hex .. "\n")
    os.execute("chmod 600 " .. quote(dir .. "/k"))
    local key = assert(synclua.read_key(dir .. "/k"))
    assert.equal(hex, (key:gsub(".", function(c)
      return ("%02x"):format(c:byte()) end)))
    local id = synclua.library_id(key)
    assert.truthy(id:match("^%x+%-%x+%-8%x+%-[89ab]%x+%-%x+$"), id)
    assert.equal(id, synclua.library_id(key))
    assert.are_not.equal(id, synclua.library_id(("\0"):rep(32)))
    -- Without the newline too.
    support.spit(dir .. "/k2", hex)
    os.execute("chmod 600 " .. quote(dir .. "/k2"))
    assert.equal(key, synclua.read_key(dir .. "/k2"))
  end)

  it("refuses a key file others can read, naming its mode", function()
    assert(synclua.write_key(dir .. "/k"))
    os.execute("chmod 644 " .. quote(dir .. "/k"))
    assert.same({ nil, "key file " .. dir .. "/k: readable by others (mode "
                  .. "0644); chmod 600 " .. dir .. "/k", "invalid" },
                { synclua.read_key(dir .. "/k") })
  end)

  it("refuses a missing or malformed key file", function()
    assert.same({ nil, "key file " .. dir .. "/none: No such file or "
                  .. "directory", "notfound" },
                { synclua.read_key(dir .. "/none") })
    for _, text in ipairs{ "abc\n", synclua.keygen() .. "\n\n",
                           ("g"):rep(64) .. "\n", "" } do
      support.spit(dir .. "/k", text)
      os.execute("chmod 600 " .. quote(dir .. "/k"))
      assert.same({ nil, "key file " .. dir .. "/k: expected 64 hexadecimal "
                    .. "digits and a newline (synclua keygen writes one)",
                    "invalid" }, { synclua.read_key(dir .. "/k") })
    end
    assert.same({ nil, "key file " .. dir .. ": not a regular file",
                  "invalid" }, { synclua.read_key(dir) })
  end)

  it("refuses a FIFO at once, without waiting for a writer", function()
    assert(os.execute("mkfifo -m 600 " .. quote(dir .. "/fifo")))
    -- In a process of its own, under timeout(1): a read that waited for a
    -- writer would hang the specs.
    local t0 = clock()
    local out, ok = support.capture(("cd %s && timeout 10 %s -e %s 2>&1")
      :format(quote(dir), quote(support.EXE),
              quote('print(require("synclua").read_key("fifo"))')))
    assert.equal("nil\tkey file fifo: not a regular file\tinvalid\n", out)
    assert.is_true(ok)
    local _, _, status = os.execute(("cd %s && timeout 10 %s fetch "
      .. "--key-file fifo --peer 127.0.0.1:1 </dev/null 2>err")
      :format(quote(dir), quote(support.EXE)))
    assert.equal("synclua fetch: key file fifo: not a regular file\n",
                 support.slurp(dir .. "/err"))
    assert.equal(2, status)
    assert.is_true(clock() - t0 < 5)
  end)

  it("write_key never overwrites", function()
    assert.is_true(synclua.write_key(dir .. "/k"))
    assert.equal("600\n", mode(dir .. "/k"))
    local before = support.slurp(dir .. "/k")
    assert.same({ nil, dir .. "/k: File exists (a key is never overwritten)",
                  "invalid" }, { synclua.write_key(dir .. "/k") })
    assert.equal(before, support.slurp(dir .. "/k"))
  end)

  it("library_id takes only a 32-byte key", function()
    assert.equal("bad argument #1 to 'library_id' (key: the 32-byte string "
                 .. "read_key returns expected)",
                 support.error_of(function()
                   return (synclua.library_id(synclua.keygen())) end))
  end)
end)

describe("synclua serve", function()
  local dir
  before_each(function()
    dir = support.tmpdir()
    fixtures(dir)
  end)
  after_each(function()
    support.stop_children()
    support.rmdir(dir)
  end)

  it("refuses bad input before serving, with its message and status",
     function()
    local V = "--db peer-a.db --key-file key"
    local cases = {
      { "--db peer-a.db", "option '--key-file' is required", 2 },
      { "--db peer-a.db --key-file open.key",
        "key file open.key: readable by others (mode 0644); chmod 600 "
        .. "open.key", 2 },
      { "--db peer-a.db --key-file bad.key",
        "key file bad.key: expected 64 hexadecimal digits and a newline "
        .. "(synclua keygen writes one)", 2 },
      { "--db peer-a.db --key-file none.key",
        "key file none.key: No such file or directory", 3 },
      { "--db missing.db --key-file key", "missing.db: no such file", 3 },
      { "--db notdb.txt --key-file key", "notdb.txt: not an SQLite database",
        3 },
      { "--db empty.db --key-file key", "empty.db: no events to tell this "
        .. "device's id by; give the device id (--device)", 2 },
      { V .. " --library xyz", "Invalid library ID: xyz (--library expects a UUID, e.g. "
        .. "67e55044-10b1-426f-9247-bb680e5fe0c8)", 2 },
      { V .. " --device 1234", "Invalid device ID: 1234 (--device expects a UUID, e.g. "
        .. "67e55044-10b1-426f-9247-bb680e5fe0c8)", 2 },
      { V .. " --max-events 0", "option '--max-events' must be from 1 to 10000, got '0' "
        .. "(e.g. 10000)", 2 },
      { V .. " --max-events 10001", "option '--max-events' must be from 1 to 10000, got "
        .. "'10001' (e.g. 10000)", 2 },
      { V .. " --max-clients 0", "option '--max-clients' must be from 1 to 4096, got "
        .. "'0' (e.g. 64)", 2 },
      { V .. " --timeout 0", "--timeout: a number of seconds above 0 and at most "
        .. "86400 expected, got '0' (e.g. 10)", 2 },
      { V .. " --idle-timeout soon", "--idle-timeout: a number of seconds "
        .. "above 0 and at most 86400 expected, got 'soon' (e.g. 10)", 2 },
      { V .. " --handshake-timeout 0", "--handshake-timeout: a number of "
        .. "seconds above 0 and at most 86400 expected, got '0' (e.g. 10)", 2 },
      { V .. " --max-unauthenticated 0", "option '--max-unauthenticated' "
        .. "must be from 1 to 4096, got '0' (e.g. 32)", 2 },
      { V .. " --max-per-address 5000", "option '--max-per-address' must be "
        .. "from 1 to 4096, got '5000' (e.g. 4)", 2 },
      -- The arguments come first: no store is opened for a bad one.
      { "--db missing.db --key-file key --library xyz",
        "Invalid library ID: xyz (--library expects a UUID, e.g. "
        .. "67e55044-10b1-426f-9247-bb680e5fe0c8)", 2 },
    }
    support.spit(dir .. "/open.key", synclua.keygen() .. "\n")
    os.execute("chmod 644 " .. quote(dir .. "/open.key"))
    support.spit(dir .. "/bad.key", "0123\n")
    os.execute("chmod 600 " .. quote(dir .. "/bad.key"))
    support.spit(dir .. "/notdb.txt", "hello\n")
    assert(synclua.open(dir .. "/empty.db", { mode = "w" })):close()
    for _, c in ipairs(cases) do
      local out, err, status = run(dir, "serve " .. c[1])
      assert.equal("", out)
      assert.equal("synclua serve: " .. c[2] .. "\n", err)
      assert.equal(c[3], status, c[1])
    end
    assert.is_false(support.exists(dir .. "/missing.db"))
  end)

  it("names a --listen that is no HOST:PORT", function()
    for _, c in ipairs{ { "foo", "expected HOST:PORT (a port from 0 to "
                          .. "65535; [HOST]:PORT for IPv6)" },
                        { "127.0.0.1:99999", "expected HOST:PORT (a port "
                          .. "from 0 to 65535; [HOST]:PORT for IPv6)" },
                        { "127.0.0.1:", "expected HOST:PORT (a port from 0 "
                          .. "to 65535; [HOST]:PORT for IPv6)" } } do
      local _, err = run(dir, "serve --db peer-a.db --key-file key --listen "
                              .. quote(c[1]))
      assert.equal("synclua serve: address '" .. c[1] .. "': " .. c[2]
                   .. "\n", err)
    end
  end)

  it("exits 2 for a --listen that is no HOST:PORT (bad input)", function()
    local _, _, status = run(dir, "serve --db peer-a.db --key-file key "
                                  .. "--listen foo")
    assert.equal(2, status)
  end)

  it("exits 3 when the port is taken", function()
    local srv = serve(dir, "peer-a.db")
    local out, err, status = run(dir, "serve --db peer-b.db --key-file key "
                                      .. "--listen " .. srv.address)
    assert.equal("", out)
    assert.equal("synclua serve: cannot listen on " .. srv.address
                 .. ": Address already in use\n", err)
    assert.equal(3, status)
  end)

  it("says where it serves which library and device, and stops on SIGTERM "
     .. "with exit 0", function()
    local srv = serve(dir, "peer-a.db")
    assert.equal(("synclua serve: serving peer-a.db on %s (library %s, "
      .. "device %s); Ctrl-C stops"):format(srv.address, library(dir), DEV_A),
      srv.first)
    assert.same({ "synclua serve: stopped\n", 0 }, { srv:stop("TERM") })
  end)

  it("stops on a SIGTERM sent as soon as it says it serves", function()
    for _ = 1, 5 do
      local child = support.spawn(dir, "serve --db peer-a.db --key-file key "
                                       .. "--listen 127.0.0.1:0")
      assert.truthy(child:line():find("^synclua serve: serving "))
      assert.is_true(child:catches(15)) -- SIGTERM handled from then on
      assert.same({ "synclua serve: stopped\n", 0 }, { child:stop("TERM") })
    end
  end)

  it("stops on SIGINT (Ctrl-C) with exit 0", function()
    local srv = serve(dir, "peer-a.db")
    assert.same({ "synclua serve: stopped\n", 0 }, { srv:stop("INT") })
  end)

  it("takes --library and --device in any UUID form, and serves an empty "
     .. "store given --device", function()
    assert(synclua.open(dir .. "/empty.db", { mode = "w" })):close()
    local srv = serve(dir, "empty.db", "--library "
      .. OTHER_LIBRARY:upper():gsub("%-", "") .. " --device {" .. DEV_C
      .. "}")
    assert.equal(("synclua serve: serving empty.db on %s (library %s, "
      .. "device %s); Ctrl-C stops"):format(srv.address, OTHER_LIBRARY,
                                            DEV_C), srv.first)
    local out, err, status = run(dir, "fetch --key-file key --library "
      .. OTHER_LIBRARY .. " --peer " .. srv.address)
    assert.equal("# window: all events (UTC)\n# no events (the log is "
                 .. "empty)\n", out)
    assert.equal("synclua fetch: " .. srv.address .. " (device " .. DEV_C
                 .. "): 0 events\n", err)
    assert.equal(0, status)
  end)

  it("logs each request served as one backfill_request_received event, "
     .. "and changes nothing else", function()
    local db = dir .. "/peer-a.db"
    local before = dump(db)
    local srv = serve(dir, "peer-a.db")
    -- From this device (l.db's) for 2 events; from no device for the
    -- sync errors since 10:00:01.
    local _, _, s1 = run(dir, "fetch --key-file key --db l.db --limit 2 "
                              .. "--peer " .. srv.address)
    local _, _, s2 = run(dir, "fetch --key-file key --event-type sync_error "
      .. "--since '2025-12-03 10:00:01' --correlation-id " .. SESSION
      .. " --peer " .. srv.address)
    assert.same({ 0, 0 }, { s1, s2 })
    local rest, status = srv:stop()
    assert.equal(0, status)
    assert.equal(table.concat({
      "synclua serve: 127.0.0.1:P: device " .. DEV_L .. " asked for 2 "
        .. "events: sent 2 in N ms",
      "synclua serve: 127.0.0.1:P: device " .. NIL_UUID .. " asked for "
        .. "10000 events: sent 0 in N ms",
      "synclua serve: stopped", "" }, "\n"), served_lines(rest))
    -- The rows that were there, byte for byte.
    assert.equal(before, dump(db, "WHERE id <= 3"))
    -- Exactly one new row per request, stamped now, by this device.
    local new = support.sqlite(db, "SELECT id, device_id, event_type, "
      .. "category, severity, summary, details, correlation_id, "
      .. "peer_device_id, model_types, record_count, duration_ms >= 0, "
      .. "timestamp > '2025-12-04' FROM sync_event_log WHERE id > 3 "
      .. "ORDER BY id")
    assert.equal(table.concat({
      "4|" .. DEV_A .. "|backfill_request_received|network|debug|Served "
        .. "event log request from " .. DEV_L .. " (127.0.0.1:P): 2 events|"
        .. '{"limit":2,"more":false,"remote":"127.0.0.1:P","request":'
        .. '"EventLogRequest","requests":1}||' .. DEV_L
        .. "|sync_event_log|2|1|1",
      "5|" .. DEV_A .. "|backfill_request_received|network|debug|Served "
        .. "event log request from " .. NIL_UUID .. " (127.0.0.1:P): 0 "
        .. 'events|{"correlation_id":"' .. SESSION .. '","event_types":'
        .. '["sync_error"],"limit":10000,"more":false,"remote":'
        .. '"127.0.0.1:P","request":"EventLogRequest","requests":1,"since":'
        .. '"2025-12-03T10:00:01Z"}||' .. NIL_UUID .. "|sync_event_log|0|1|1",
      "" }, "\n"), served_lines(new))
  end)

  it("lets a silent connection go after --handshake-timeout, saying so",
     function()
    local srv = serve(dir, "peer-a.db", "--handshake-timeout 0.3")
    local port = srv.address:match(":(%d+)$")
    -- A connection that says nothing, held for 3 s (bash's /dev/tcp).
    local t0 = clock()
    os.execute("bash -c 'exec 3<>/dev/tcp/127.0.0.1/" .. port
               .. "; sleep 3' >/dev/null 2>&1 &")
    assert.equal("synclua serve: 127.0.0.1:P: handshake failed: timed out "
                 .. "in the handshake", served_lines(srv:line()))
    assert.is_true(clock() - t0 < 1.5) -- not the 2 s default
    -- A key holder is served as ever.
    local _, _, status = run(dir, "fetch --key-file key --peer "
                                  .. srv.address)
    assert.equal(0, status)
    local rest, code = srv:stop()
    assert.equal("synclua serve: 127.0.0.1:P: device " .. NIL_UUID .. " asked "
                 .. "for 10000 events: sent 3 in N ms\nsynclua serve: "
                 .. "stopped\n", served_lines(rest))
    assert.equal(0, code)
  end)

  it("refuses a request for another library by closing the connection",
     function()
    local srv = serve(dir, "peer-a.db")
    local before = dump(dir .. "/peer-a.db")
    local out, err, status = run(dir, "fetch --key-file key --library "
      .. OTHER_LIBRARY .. " --peer " .. srv.address)
    assert.equal("", out)
    assert.equal(table.concat({
      "synclua fetch: " .. srv.address .. ": failed: closed the connection "
        .. "without answering (it refused the request: another library?)",
      "synclua fetch: 1 of 1 peer did not answer in full", "" }, "\n"), err)
    assert.equal(3, status)
    local rest = srv:stop()
    assert.equal(table.concat({
      "synclua serve: 127.0.0.1:P: refused: request for library "
        .. OTHER_LIBRARY .. ", this is library " .. library(dir)
        .. "; closing",
      "synclua serve: stopped", "" }, "\n"), served_lines(rest))
    assert.equal(before, dump(dir .. "/peer-a.db"))
  end)
end)

describe("synclua fetch", function()
  local dir
  before_each(function()
    dir = support.tmpdir()
    fixtures(dir)
  end)
  after_each(function()
    support.stop_children()
    support.rmdir(dir)
  end)

  it("refuses bad input with exit 2 before asking anyone", function()
    local P = "--key-file key --peer 127.0.0.1:1"
    local cases = {
      { "--peer 127.0.0.1:1", "option '--key-file' is required" },
      { "--key-file key", "at least one --peer HOST:PORT is needed" },
      { P .. " -f xml", "Unknown format: xml. Use text, json, ndjson, csv, "
        .. "sql, markdown, html or trace" },
      { P .. " --limit -1", "option '--limit' must be from 0 to 4294967295, "
        .. "got '-1' (e.g. 10000)" },
      { P .. " --timeout 0", "--timeout: a number of seconds above 0 and at most "
        .. "86400 expected, got '0' (e.g. 10)" },
      { P .. " --deadline 0", "option '--deadline' must be above 0 and at "
        .. "most 1 day, got 0 ms (e.g. 10m)" },
      { P .. " --deadline '2 days'", "option '--deadline' must be above 0 "
        .. "and at most 1 day, got 2 d 00 h (e.g. 10m)" },
      { P .. " --deadline soon", "--deadline: Invalid duration: soon (e.g. "
        .. "'7 days', '1 hour', '90m' or '2h', or a number of seconds)" },
      { P .. " --max-pages 0", "option '--max-pages' must be from 1 to "
        .. "2147483647, got '0' (e.g. 10000)" },
      { P .. " --since whenever", "--since: Invalid time format: whenever "
        .. "(e.g. '1 hour ago', '2h', 'yesterday', '2025-12-03 10:00:00' or "
        .. "'2025-12-03T10:00:00Z')" },
      { P .. " --correlation-id zzz", "Invalid correlation ID: zzz "
        .. "(--correlation-id expects a UUID, e.g. "
        .. "67e55044-10b1-426f-9247-bb680e5fe0c8)" },
      { P .. " --library zzz", "Invalid library ID: zzz (--library expects a UUID, "
        .. "e.g. 67e55044-10b1-426f-9247-bb680e5fe0c8)" },
      { P .. " --device zzz", "Invalid device ID: zzz (--device expects a UUID, "
        .. "e.g. 67e55044-10b1-426f-9247-bb680e5fe0c8)" },
      { P .. " --peer 127.0.0.1:1", "--peer 127.0.0.1:1: given twice" },
      -- An unknown event type never reaches a peer: it is refused here, as
      -- `synclua events` refuses it.
      { P .. " --event-type sync_error,bogus", "Invalid event type: bogus "
        .. "(valid: " .. table.concat(synclua.event_types, ", ") .. ")" },
    }
    for _, c in ipairs(cases) do
      local out, err, status = run(dir, "fetch " .. c[1])
      assert.equal("", out)
      assert.equal("synclua fetch: " .. c[2] .. "\n", err)
      assert.equal(2, status, c[1])
    end
    assert.equal("a.db b.db key l.db other.key peer-a.db peer-b.db slow.db",
                 (support.listing(dir):gsub(" [%w.-]+%-wal", "")
                                      :gsub(" [%w.-]+%-shm", "")))
  end)

  it("writes the peers that answered as timeline does, names each one that "
     .. "did not and why, and exits 3", function()
    local a, b = serve(dir, "peer-a.db"), serve(dir, "peer-b.db")
    local slow = serve(dir, "slow.db")
    local stranger = support.spawn(dir, "serve --db slow.db --key-file "
                                        .. "other.key --listen 127.0.0.1:0")
    local strange = stranger:line():match(" on (127%.0%.0%.1:%d+) %(")
    -- Connects (the kernel accepts), never answers.
    slow:signal("STOP")
    local want, want_err = timeline(dir, "--db a.db --db b.db -f ndjson")
    local out, err, status = run(dir, ("fetch --key-file key --timeout 1 "
      .. "-f ndjson -o out.ndjson --peer %s --peer %s --peer %s --peer "
      .. "127.0.0.1:1 --peer %s"):format(a.address, b.address, slow.address,
                                         strange))
    assert.equal("Exported 5 events to out.ndjson\n", out)
    assert.equal(table.concat({
      "synclua fetch: " .. a.address .. " (device " .. DEV_A .. "): 3 events",
      "synclua fetch: " .. b.address .. " (device " .. DEV_B .. "): 2 events",
      "synclua fetch: " .. slow.address .. ": failed: timed out in the "
        .. "handshake",
      "synclua fetch: 127.0.0.1:1: failed: cannot connect to 127.0.0.1:1: "
        .. "Connection refused",
      "synclua fetch: " .. strange .. ": failed: the peer does not hold "
        .. "this library's key (its handshake proof does not verify)",
    }, "\n") .. "\n" .. want_err
      .. "synclua fetch: 3 of 5 peers did not answer in full\n", err)
    assert.equal(3, status)
    assert.equal(without_ids(want),
                 without_ids(support.slurp(dir .. "/out.ndjson")))
    -- The other key's server saw a client that would not go on.
    local rest = stranger:stop()
    assert.equal("synclua serve: 127.0.0.1:P: handshake failed: connection "
      .. "closed in the handshake (the client refused our key?)\n"
      .. "synclua serve: stopped\n", served_lines(rest))
  end)

  it("exits 0 when every peer answered; the text is timeline's", function()
    local a, b = serve(dir, "peer-a.db"), serve(dir, "peer-b.db")
    local want = timeline(dir, "--db a.db --db b.db")
    local out, err, status = run(dir, "fetch --key-file key --peer "
                                      .. a.address .. " --peer " .. b.address)
    assert.equal(want, out)
    assert.equal("synclua fetch: " .. a.address .. " (device " .. DEV_A
      .. "): 3 events\nsynclua fetch: " .. b.address .. " (device " .. DEV_B
      .. "): 2 events\n", err)
    assert.equal(0, status)
    assert.equal(table.concat({
      "# window: all events (UTC)",
      "# clock offsets (relative to aaaaaaaa): bbbbbbbb: no causal pairs, "
        .. "not corrected",
      "  2025-12-03 10:00:00.000  aaaaaaaa  info     state_transition      "
        .. "      Uninitialized → Ready",
      "  2025-12-03 10:00:01.000  bbbbbbbb  info     state_transition      "
        .. "      Ready → Paused",
      "  2025-12-03 10:00:02.250  aaaaaaaa  info     backfill_session_started"
        .. "    Backfill session started with peer " .. DEV_B,
      "  2025-12-03 10:00:03.500  bbbbbbbb  debug    batch_ingestion       "
        .. "      Ingested batch of 7 records",
      "  2025-12-03 10:00:04.000  aaaaaaaa  error    sync_error            "
        .. "      Buffer overflow: 3 updates dropped", "" }, "\n"), out)
  end)

  it("keeps a device's order and numbers rows in time order, as the "
     .. "device's own log has them", function()
    store(dir, "tie.db", DEV_C, {
      { event_type = "state_transition", summary = "first",
        timestamp = "2025-12-03T10:00:00Z" },
      { event_type = "state_transition", summary = "second",
        timestamp = "2025-12-03T10:00:00Z" },
      { event_type = "sync_error", summary = "third",
        timestamp = "2025-12-03T10:00:01Z" } })
    store(dir, "peer-tie.db", DEV_C, {
      { event_type = "state_transition", summary = "first",
        timestamp = "2025-12-03T10:00:00Z" },
      { event_type = "state_transition", summary = "second",
        timestamp = "2025-12-03T10:00:00Z" },
      { event_type = "sync_error", summary = "third",
        timestamp = "2025-12-03T10:00:01Z" } })
    local t, a = serve(dir, "peer-tie.db"), serve(dir, "peer-a.db")
    local want = timeline(dir, "--db tie.db --db a.db -f ndjson")
    local out, _, status = run(dir, "fetch --key-file key -f ndjson "
      .. "--event-type state_transition,sync_error,backfill_session_started "
      .. "--peer " .. t.address .. " --peer " .. a.address)
    assert.equal(0, status)
    assert.equal(want, out)
  end)

  it("never splits the events of one instant across pages, so their order "
     .. "survives paging", function()
    local rows = {}
    for i, ts in ipairs{ "00", "01", "01", "01", "02" } do
      rows[i] = { event_type = "state_transition", summary = "e" .. i,
                  timestamp = "2025-12-03T10:00:" .. ts .. "Z" }
    end
    store(dir, "ties.db", DEV_C, rows)
    -- Pages of at most 3, newest first: e5 e4 e3 would split 10:00:01, so
    -- the first is e5 alone, the second the three of 10:00:01, the third e1.
    local srv = serve(dir, "ties.db", "--max-events 3")
    local out, err, status = run(dir, "fetch --key-file key -f ndjson "
                                      .. "--save saved --peer " .. srv.address)
    assert.equal(0, status)
    local got = summaries(out)
    assert.same({ "e1", "e2", "e3", "e4", "e5" }, got)
    assert.equal("synclua fetch: " .. srv.address .. " (device " .. DEV_C
                 .. "): 5 events in 3 responses\n", err)
    -- Stored page by page, each oldest first: ties keep their order.
    assert.equal("e1\ne2\ne3\ne4\ne5\n", support.sqlite(
      dir .. "/saved/" .. srv.address:gsub(":", "_") .. ".db",
      "SELECT summary FROM sync_event_log ORDER BY timestamp, id"))
  end)

  it("merges this device's own events in with --db, and sends its id",
     function()
    local a = serve(dir, "peer-a.db")
    local want, want_err = timeline(dir, "--db l.db --db a.db -f json")
    local out, err, status = run(dir, "fetch --key-file key --db l.db -f json "
                                      .. "--peer " .. a.address)
    assert.equal(without_ids(want), without_ids(out))
    assert.equal("synclua fetch: l.db (this device, " .. DEV_L .. "): 1 "
      .. "event\nsynclua fetch: " .. a.address .. " (device " .. DEV_A
      .. "): 3 events\n" .. want_err, err)
    assert.equal(0, status)
    local rest = a:stop()
    assert.equal("synclua serve: 127.0.0.1:P: device " .. DEV_L .. " asked "
      .. "for 10000 events: sent 3 in N ms\nsynclua serve: stopped\n",
      served_lines(rest))
  end)

  it("gathers this device's side as a server answers: newest first, an "
     .. "instant a limit cuts in ascending id, nothing after now", function()
    local function row(summary, timestamp)
      return { event_type = "state_transition", summary = summary,
               timestamp = timestamp }
    end
    store(dir, "lt.db", DEV_L, { row("l1", "2025-12-03T10:00:00Z"),
      row("l2", "2025-12-03T10:00:01Z"), row("l3", "2025-12-03T10:00:01Z"),
      row("l4", "2025-12-03T10:00:01Z"), row("l5", "2099-01-01T00:00:00Z") })
    local a = serve(dir, "peer-a.db")
    local out, err, status = run(dir, "fetch --key-file key --db lt.db "
      .. "--limit 2 -f ndjson --peer " .. a.address)
    assert.equal(0, status)
    local mine = {}
    for _, s in ipairs(summaries(out)) do
      if s:match("^l%d$") then mine[#mine + 1] = s end
    end
    assert.equal("l2 l3", table.concat(mine, " "))
    assert.equal("synclua fetch: lt.db (this device, " .. DEV_L .. "): 2 "
      .. "events\nsynclua fetch: " .. a.address .. " (device " .. DEV_A
      .. "): 2 events\nsynclua fetch: clock offsets (relative to 11111111): "
      .. "aaaaaaaa: no causal pairs, not corrected\n", err)
  end)

  it("keeps each answer in --save DIR/HOST_PORT.db, adding only what is "
     .. "new the next time", function()
    local a = serve(dir, "peer-a.db")
    local saved = "saved/" .. a.address:gsub(":", "_") .. ".db"
    local args = "fetch --key-file key --save saved -f ndjson --event-type "
      .. "state_transition,backfill_session_started,sync_error --peer "
      .. a.address .. " --peer 127.0.0.1:1"
    local out1, err1, s1 = run(dir, args)
    assert.equal(3, s1)
    assert.equal("synclua fetch: " .. a.address .. " (device " .. DEV_A
      .. "): 3 events\nsynclua fetch: 127.0.0.1:1: failed: cannot connect "
      .. "to 127.0.0.1:1: Connection refused\nsynclua fetch: 1 of 2 peers "
      .. "did not answer in full\n", err1)
    -- The failed peer leaves no store behind.
    assert.equal(a.address:gsub(":", "_") .. ".db",
                 (support.listing(dir .. "/saved"):gsub(" [%w._-]+%-wal", "")
                                                  :gsub(" [%w._-]+%-shm", "")))
    -- The saved store is a store like any other.
    local ev_a = run(dir, "events --db a.db -f ndjson")
    local out, err, status = run(dir, "events --db " .. saved .. " -f ndjson")
    assert.same({ ev_a, "", 0 }, { out, err, status })
    -- Again: the same events come, none is new.
    local out2, err2, s2 = run(dir, args)
    assert.equal(3, s2)
    assert.equal(out1, out2)
    assert.equal("synclua fetch: " .. a.address .. " (device " .. DEV_A
      .. "): 3 events, 0 new\nsynclua fetch: 127.0.0.1:1: failed: cannot "
      .. "connect to 127.0.0.1:1: Connection refused\nsynclua fetch: 1 of 2 "
      .. "peers did not answer in full\n", err2)
    assert.equal("3\n", support.sqlite(dir .. "/" .. saved,
                                       "SELECT count(*) FROM sync_event_log"))
  end)

  it("asks the peers for --since, --event-type and --correlation-id only",
     function()
    local a, b = serve(dir, "peer-a.db"), serve(dir, "peer-b.db")
    local filters = "--since '2025-12-03 10:00:01' --event-type "
      .. "backfill_session_started,batch_ingestion,sync_error "
      .. "--correlation-id " .. SESSION:upper()
    local want, want_err = timeline(dir, "--db a.db --db b.db -f csv "
                                         .. filters)
    local out, err, status = run(dir, "fetch --key-file key -f csv "
      .. filters .. " --peer " .. a.address .. " --peer " .. b.address)
    assert.equal(0, status)
    assert.equal("synclua fetch: " .. a.address .. " (device " .. DEV_A
      .. "): 1 event\nsynclua fetch: " .. b.address .. " (device " .. DEV_B
      .. "): 1 event\n" .. want_err, err)
    -- csv: id is the first column.
    local function rows(text) return (text:gsub("\r\n%d+,", "\r\nID,")) end
    assert.equal(rows(want), rows(out))
    assert.equal(3, #lines(out:gsub("\r", "")))
    assert.truthy(out:find("Backfill session started", 1, true))
    assert.truthy(out:find("Ingested batch of 7 records", 1, true))
  end)

  it("pages through a peer's capped responses up to --limit", function()
    local rows = {}
    for i = 1, 130 do
      rows[i] = { event_type = "state_transition", summary = "e" .. i,
                  timestamp = ("2025-12-03T10:%02d:%02dZ"):format(
                    i // 60, i % 60) }
    end
    store(dir, "big.db", DEV_C, rows)
    local srv = serve(dir, "big.db", "--max-events 50")
    local out, err, status = run(dir, "fetch --key-file key -f ndjson "
                                      .. "--limit 120 --peer " .. srv.address)
    assert.equal(0, status)
    local got = summaries(out)
    local want = {}
    for i = 11, 130 do want[#want + 1] = "e" .. i end
    assert.same(want, got)
    -- Three requests: 120, then what is left after each page.
    assert.equal("synclua fetch: " .. srv.address .. " (device " .. DEV_C
                 .. "): 120 events in 3 responses\n", err)
    local rest = srv:stop()
    assert.equal(table.concat({
      "synclua serve: 127.0.0.1:P: device " .. NIL_UUID .. " asked for 120 "
        .. "events: sent 50 (more to page) in N ms",
      "synclua serve: 127.0.0.1:P: device " .. NIL_UUID .. " asked for 70 "
        .. "events: sent 50 (more to page) in N ms",
      "synclua serve: 127.0.0.1:P: device " .. NIL_UUID .. " asked for 20 "
        .. "events: sent 20 in N ms",
      "synclua serve: stopped", "" }, "\n"), served_lines(rest))
    -- The requester's first request as it came, then the other two summed
    -- (logged when the server stopped: its interval is 30 s).
    assert.equal("1|120|50|1|\n2||70||1\n", support.sqlite(
      dir .. "/big.db", "SELECT json_extract(details, '$.requests'), "
      .. "json_extract(details, '$.limit'), record_count, "
      .. "json_extract(details, '$.more'), "
      .. "json_extract(details, '$.cut_short') FROM sync_event_log "
      .. "WHERE event_type = 'backfill_request_received' ORDER BY id"))
  end)

  it("gives up within --timeout on a peer that goes silent after the "
     .. "handshake (not after the 30 s idle default)", function()
    local rows = {}
    for i = 1, 10000 do
      rows[i] = { event_type = "state_transition", summary = "e" .. i,
                  timestamp = ("2025-12-03T%02d:%02d:%02dZ"):format(
                    10 + i // 3600, i // 60 % 60, i % 60) }
    end
    store(dir, "many.db", DEV_C, rows)
    -- A page of one event at a time: 10000 requests to answer in full.
    local srv = serve(dir, "many.db", "--max-events 1")
    local t0 = clock()
    local fetch = support.spawn(dir, "fetch --key-file key --timeout 1 "
                                     .. "-f ndjson --peer " .. srv.address)
    -- Its first answer is sent: the handshake is done. Stopped, it
    -- answers nothing more; even if the stop came late, its output, never
    -- read, fills the pipe long before 10000 lines.
    assert.truthy(srv:line():find(": device " .. NIL_UUID .. " asked for "
                                  .. "10000 events: sent 1 (more to page) "
                                  .. "in ", 1, true))
    srv:signal("STOP")
    local out, status = fetch:wait(60)
    local took = clock() - t0
    assert.equal("synclua fetch: " .. srv.address .. ": failed: timed out "
      .. "waiting for a record\nsynclua fetch: 1 of 1 peer did not answer "
      .. "in full\n", out)
    assert.equal(3, status)
    assert.is_true(took < 5, ("took %.1f s"):format(took))
    -- Continued, it stops (its pipe read as it goes).
    srv:signal("TERM")
    srv:signal("CONT")
    local last
    for line in function() return srv:line() end do last = line end
    assert.equal("synclua serve: stopped", last)
    assert.equal(0, select(2, srv:wait()))
  end)

  it("stops a peer at --max-pages responses, saying so, and exits 3",
     function()
    local rows = {}
    for i = 1, 5 do
      rows[i] = { event_type = "state_transition", summary = "e" .. i,
                  timestamp = ("2025-12-03T10:00:%02dZ"):format(i) }
    end
    store(dir, "five.db", DEV_C, rows)
    local srv = serve(dir, "five.db", "--max-events 1")
    -- (state transitions only: not the events that log the requests)
    local F = "fetch --key-file key --event-type state_transition "
    local out, err, status = run(dir, F .. "--max-pages 2 --peer "
                                      .. srv.address)
    assert.equal("", out)
    assert.equal(table.concat({
      "synclua fetch: " .. srv.address .. ": failed: needed more than 2 "
        .. "responses (the cap on pages): 2 events so far",
      "synclua fetch: 1 of 1 peer did not answer in full", "" }, "\n"), err)
    assert.equal(3, status)
    -- Enough pages: all five.
    local _, err2, status2 = run(dir, F .. "--max-pages 5 --peer "
                                      .. srv.address)
    assert.equal("synclua fetch: " .. srv.address .. " (device " .. DEV_C
                 .. "): 5 events in 5 responses\n", err2)
    assert.equal(0, status2)
  end)

  it("gives up on a peer at --deadline, however patient --timeout is",
     function()
    local rows = {}
    for i = 1, 10000 do
      rows[i] = { event_type = "state_transition", summary = "e" .. i,
                  timestamp = ("2025-12-03T%02d:%02d:%02dZ"):format(
                    10 + i // 3600, i // 60 % 60, i % 60) }
    end
    store(dir, "many.db", DEV_C, rows)
    local srv = serve(dir, "many.db", "--max-events 1 -q")
    -- It answers page after page, then (stopped) nothing: --timeout would
    -- wait 60 s for the next; the deadline ends it after 1 s in all.
    local t0 = clock()
    local fetch = support.spawn(dir, "fetch --key-file key --timeout 60 "
                                     .. "--deadline 1 --peer " .. srv.address)
    support.sleep(0.3)
    srv:signal("STOP")
    local out, status = fetch:wait(30)
    local took = clock() - t0
    local pages, events = out:match("^synclua fetch: 127%.0%.0%.1:%d+: "
      .. "failed: did not finish within the deadline of 1 s: (%d+) "
      .. "responses?, (%d+) events? so far\nsynclua fetch: 1 of 1 peer did "
      .. "not answer in full\n$")
    assert.truthy(pages, out)
    assert.equal(pages, events)
    assert.is_true(tonumber(pages) >= 1)
    assert.equal(3, status)
    assert.is_true(took < 20, ("took %.1f s"):format(took))
  end)

  it("gets no row Spacedrive's reader would skip, and shows nothing raw",
     function()
    store(dir, "red.db", DEV_C, ROWS_C)
    support.sqlite(dir .. "/red.db", "UPDATE sync_event_log SET event_type "
                   .. "= char(27) || '[31mred' WHERE id = 1")
    local srv = serve(dir, "red.db")
    local out, err, status = run(dir, "fetch --key-file key -f ndjson --peer "
                                      .. srv.address)
    assert.equal(0, status)
    assert.equal(#ROWS_C - 1, select(2, out:gsub("\n", "")))
    assert.is_nil(out:find("\27", 1, true))
    assert.equal(("synclua fetch: %s (device %s): %d events\n"):format(
      srv.address, DEV_C, #ROWS_C - 1), err)
  end)

  it("says how many responses it took when a peer pages", function()
    local rows = {}
    for i = 1, 60 do
      rows[i] = { event_type = "state_transition", summary = "e" .. i,
                  timestamp = ("2025-12-03T10:00:%02dZ"):format(i - 1) }
    end
    store(dir, "big.db", DEV_C, rows)
    local srv = serve(dir, "big.db", "--max-events 50")
    local _, err = run(dir, "fetch --key-file key -f ndjson --limit 60 "
                            .. "--peer " .. srv.address)
    assert.equal("synclua fetch: " .. srv.address .. " (device " .. DEV_C
                 .. "): 60 events in 2 responses\n",
                 err)
  end)
end)

describe("synclua.encode_request()", function()
  local LIB = "11111111-1111-4111-8111-111111111111"
  local REQ = "22222222-2222-4222-8222-222222222222"

  it("writes Spacedrive's bytes: declaration order, null for what is absent",
     function()
    assert.equal('{"EventLogRequest":{"library_id":"' .. LIB .. '",'
      .. '"requesting_device":"' .. REQ .. '","since":null,"event_types":'
      .. 'null,"correlation_id":null,"limit":1000}}',
      synclua.encode_request{ library_id = LIB, requesting_device = REQ })
  end)

  it("writes every field, times in Z form, ids lowercase, and before only "
     .. "when paging", function()
    assert.equal('{"EventLogRequest":{"library_id":"' .. LIB .. '",'
      .. '"requesting_device":"' .. REQ .. '","since":'
      .. '"2025-12-03T10:00:00Z","event_types":["state_transition",'
      .. '"bogus"],"correlation_id":"' .. SESSION .. '","limit":5,'
      .. '"before":{"timestamp":"2025-12-03T09:00:00.500Z","id":7}}}',
      synclua.encode_request{ library_id = LIB:upper(),
        requesting_device = REQ, since = "2025-12-03T12:00:00+02:00",
        event_types = { "state_transition", "bogus" },
        correlation_id = SESSION:upper(), limit = 5,
        before = "2025-12-03T10:00:00.5+01:00", before_id = 7 })
    assert.equal('{"EventLogRequest":{"library_id":"' .. LIB .. '",'
      .. '"requesting_device":"' .. REQ .. '","since":'
      .. '"2025-12-03T10:00:00.000000001Z","event_types":[],'
      .. '"correlation_id":null,"limit":0}}',
      synclua.encode_request{ library_id = LIB, requesting_device = REQ,
        since = synclua.parse_rfc3339("2025-12-03T10:00:00Z") + 1,
        event_types = {}, limit = 0 })
  end)

  it("refuses what it cannot send, in Lua's words", function()
    local function err(t)
      return support.error_of(function()
        return (synclua.encode_request(t)) end)
    end
    local function req(more)
      local t = { library_id = LIB, requesting_device = REQ }
      for k, v in pairs(more) do t[k] = v end
      return t
    end
    assert.equal("bad argument #1 to 'encode_request' (table expected, got "
                 .. "no value)", support.error_of(function()
                   return (synclua.encode_request()) end))
    assert.equal("bad argument #1 to 'encode_request' (library_id and "
                 .. "requesting_device: UUIDs needed)", err{})
    assert.equal("bad argument #1 to 'encode_request' (library_id: not a "
                 .. "UUID: x)", err(req{ library_id = "x" }))
    assert.equal("bad argument #1 to 'encode_request' (library_id: UUID "
                 .. "string expected, got number)", err(req{ library_id = 7 }))
    assert.equal("bad argument #1 to 'encode_request' (limit: integer from "
                 .. "0 to 4294967295 expected)", err(req{ limit = -1 }))
    assert.equal("bad argument #1 to 'encode_request' (limit: integer from "
                 .. "0 to 4294967295 expected)",
                 err(req{ limit = 4294967296 }))
    assert.equal("bad argument #1 to 'encode_request' (event_types: list of "
                 .. "strings without NUL expected)",
                 err(req{ event_types = { 1 } }))
    assert.equal("bad argument #1 to 'encode_request' (event_types: list of "
                 .. "strings without NUL expected)",
                 err(req{ event_types = { "sync\0error" } }))
    assert.equal("bad argument #1 to 'encode_request' (unknown field "
                 .. "'speed')", err(req{ speed = 1 }))
  end)
end)

describe("synclua.decode_message()", function()
  local LIB = "11111111-1111-4111-8111-111111111111"
  local REQ = "22222222-2222-4222-8222-222222222222"
  local IDS = '"library_id":"' .. LIB .. '","requesting_device":"' .. REQ
    .. '"'
  local RIDS = '"library_id":"' .. LIB .. '","responding_device":"' .. REQ
    .. '"'

  it("reads back a request it encoded", function()
    assert.same({ kind = "EventLogRequest", library_id = LIB,
                  requesting_device = REQ, limit = 1000 },
                synclua.decode_message(synclua.encode_request{
                  library_id = LIB, requesting_device = REQ }))
    assert.same({ kind = "EventLogRequest", library_id = LIB,
                  requesting_device = REQ,
                  since = synclua.parse_rfc3339("2025-12-03T10:00:00Z"),
                  event_types = { "sync_error", "bogus" },
                  correlation_id = SESSION, limit = 5,
                  before = synclua.parse_rfc3339("2025-12-03T11:00:00.5Z"),
                  before_id = 7 },
                synclua.decode_message(synclua.encode_request{
                  library_id = LIB, requesting_device = REQ,
                  since = "2025-12-03T10:00:00Z",
                  event_types = { "sync_error", "bogus" },
                  correlation_id = SESSION, limit = 5,
                  before = "2025-12-03T11:00:00.5Z", before_id = 7 }))
    -- Spacedrive's form: nulls are absent options; unknown fields ignored.
    assert.same({ kind = "EventLogRequest", library_id = LIB,
                  requesting_device = REQ, limit = 0 },
                synclua.decode_message('{"EventLogRequest":{' .. IDS
                  .. ',"since":null,"event_types":null,"correlation_id":'
                  .. 'null,"limit":0,"extra":[1]}}'))
  end)

  it("reads a response: its events as data, the unknown names, next",
     function()
    assert.same({ kind = "EventLogResponse", library_id = LIB,
                  responding_device = REQ,
                  events = { { timestamp = "2025-12-03T10:00:00Z",
                               event_type = "state_transition",
                               details = { a = 1 } } },
                  unknown_event_types = { "bogus" },
                  next = synclua.parse_rfc3339("2025-12-03T10:00:00Z"),
                  next_id = 3 },
                synclua.decode_message('{"EventLogResponse":{' .. RIDS
                  .. ',"events":[{"timestamp":"2025-12-03T10:00:00Z",'
                  .. '"event_type":"state_transition","details":{"a":1}}],'
                  .. '"unknown_event_types":["bogus"],"next":{"timestamp":'
                  .. '"2025-12-03T10:00:00Z","id":3}}}'))
    assert.same({ kind = "EventLogResponse", library_id = LIB,
                  responding_device = REQ, events = {} },
                synclua.decode_message('{"EventLogResponse":{' .. RIDS
                  .. ',"events":[]}}'))
  end)

  it("names the field that is wrong", function()
    local R = '{"EventLogRequest":{' .. IDS
    local cases = {
      { "", "message is not JSON: " },
      { "[]", "message: expected an object with one variant key "
        .. "(EventLogRequest or EventLogResponse), got an array" },
      { '{"A":1,"B":2}', "message: expected an object with one variant key "
        .. "(EventLogRequest or EventLogResponse), got an object with "
        .. "another number of keys" },
      { '{"Hello":{}}', 'message: unknown variant "Hello", expected '
        .. "EventLogRequest or EventLogResponse" },
      { '{"EventLogRequest":[]}', "EventLogRequest: expected an object, got "
        .. "an array" },
      { '{"EventLogRequest":{}}', "EventLogRequest.library_id: missing "
        .. "(required)" },
      { '{"EventLogRequest":{"library_id":"' .. LIB .. '"}}',
        "EventLogRequest.requesting_device: missing (required)" },
      { '{"EventLogRequest":{"library_id":5,"requesting_device":"' .. REQ
        .. '","limit":1}}', "EventLogRequest.library_id: expected a UUID "
        .. "string, got a number" },
      { '{"EventLogRequest":{"library_id":"x","requesting_device":"' .. REQ
        .. '","limit":1}}', 'EventLogRequest.library_id: not a UUID: "x"' },
      { R .. "}}", "EventLogRequest.limit: missing (required)" },
      { R .. ',"limit":-1}}', "EventLogRequest.limit: expected an integer "
        .. "from 0 to 4294967295, got -1" },
      { R .. ',"limit":4294967296}}', "EventLogRequest.limit: expected an "
        .. "integer from 0 to 4294967295, got 4294967296" },
      { R .. ',"limit":1.5}}', "EventLogRequest.limit: expected an integer "
        .. "from 0 to 4294967295, got 1.5" },
      { R .. ',"limit":"5"}}', "EventLogRequest.limit: expected an integer "
        .. "from 0 to 4294967295, got a string" },
      { R .. ',"limit":1,"limit":2}}', "EventLogRequest.limit: given more "
        .. "than once" },
      { R .. ',"limit":1,"since":"noon"}}', "EventLogRequest.since: not an "
        .. 'RFC 3339 timestamp: "noon"' },
      { R .. ',"limit":1,"since":5}}', "EventLogRequest.since: expected an "
        .. "RFC 3339 timestamp string, got a number" },
      { R .. ',"limit":1,"event_types":"sync_error"}}',
        "EventLogRequest.event_types: expected an array of strings, got a "
        .. "string" },
      { R .. ',"limit":1,"event_types":[1]}}', "EventLogRequest.event_types"
        .. "[0]: expected a string without NUL, got a number" },
      { R .. ',"limit":1,"before":{"timestamp":"2025-12-03T10:00:00Z",'
        .. '"id":-1}}}', "EventLogRequest.before.id: expected a row id (a "
        .. "non-negative integer), got a number" },
      { '{"EventLogResponse":{' .. RIDS .. "}}", "EventLogResponse.events: "
        .. "missing (required)" },
      { '{"EventLogResponse":{' .. RIDS .. ',"events":{}}}',
        "EventLogResponse.events: expected an array of events, got an "
        .. "object" },
      { '{"EventLogResponse":{' .. RIDS .. ',"events":[],"next":{'
        .. '"timestamp":"x","id":1}}}', "EventLogResponse.next.timestamp: "
        .. 'not an RFC 3339 timestamp: "x"' },
    }
    for _, c in ipairs(cases) do
      local m, msg, code = synclua.decode_message(c[1])
      assert.is_nil(m, c[1])
      assert.equal("invalid", code, c[1])
      if c[2]:sub(-2) == ": " then
        assert.equal(c[2], msg:sub(1, #c[2]), c[1])
      else
        assert.equal(c[2], msg, c[1])
      end
    end
    assert.equal("bad argument #1 to 'decode_message' (string expected, got "
                 .. "no value)", support.error_of(function()
                   return (synclua.decode_message()) end))
  end)
end)

describe("synclua.server() and synclua.fetch()", function()
  local dir, key
  before_each(function()
    dir = support.tmpdir()
    fixtures(dir)
    key = assert(synclua.read_key(dir .. "/key"))
  end)
  after_each(function()
    support.stop_children()
    support.rmdir(dir)
  end)

  it("opens a server on a free port, for the key's library and the store's "
     .. "device", function()
    local srv = assert(synclua.server{ db = dir .. "/peer-a.db",
      listen = "127.0.0.1:0", key = key, quiet = true })
    assert.truthy(srv:address():match("^127%.0%.0%.1:%d+$"), srv:address())
    assert.are_not.equal("127.0.0.1:0", srv:address())
    assert.equal(synclua.library_id(key), srv:library_id())
    assert.equal(DEV_A, srv:device_id())
    srv:close()
    srv:close()
    assert.equal("attempt to use a closed synclua.Server",
                 support.error_of(function() return (srv:address()) end))
  end)

  it("returns nil, message, code when the store will not do", function()
    assert.same({ nil, dir .. "/none.db: no such file", "notfound" },
                { synclua.server{ db = dir .. "/none.db",
                                  listen = "127.0.0.1:0", key = key } })
    assert(synclua.open(dir .. "/empty.db", { mode = "w" })):close()
    assert.same({ nil, dir .. "/empty.db: no events to tell this device's "
                  .. "id by; give the device id (--device)", "invalid" },
                { synclua.server{ db = dir .. "/empty.db",
                                  listen = "127.0.0.1:0", key = key } })
  end)

  it("refuses misuse in Lua's words", function()
    local function err(t)
      return support.error_of(function() return (synclua.server(t)) end)
    end
    local db = dir .. "/peer-a.db"
    assert.equal("bad argument #1 to 'server' (key: the 32-byte string "
                 .. "read_key returns expected)",
                 err{ db = db, listen = "127.0.0.1:0", key = "short" })
    assert.equal("bad argument #1 to 'server' (unknown option 'speed')",
                 err{ db = db, listen = "127.0.0.1:0", key = key, speed = 1 })
    assert.equal("bad argument #1 to 'server' (max_events: integer from 1 "
                 .. "to 10000 expected)",
                 err{ db = db, listen = "127.0.0.1:0", key = key,
                      max_events = 0 })
    assert.equal("bad argument #1 to 'fetch' (stores: one per peer needed)",
                 support.error_of(function()
                   return (synclua.fetch{ peers = { "x" }, stores = {},
                                          key = key }) end))
    assert.equal("bad argument #1 to 'server' (max_per_address: integer "
                 .. "from 1 to 4096 expected)",
                 err{ db = db, listen = "127.0.0.1:0", key = key,
                      max_per_address = 0 })
    assert.equal("bad argument #1 to 'server' (max_unauthenticated: integer "
                 .. "from 1 to 4096 expected)",
                 err{ db = db, listen = "127.0.0.1:0", key = key,
                      max_unauthenticated = 1.5 })
    assert.equal("bad argument #1 to 'server' (refusal_interval: seconds "
                 .. "from 0 to 86400 expected)",
                 err{ db = db, listen = "127.0.0.1:0", key = key,
                      refusal_interval = 0 })
    assert.equal("bad argument #1 to 'server' (served_interval: seconds from "
                 .. "0 to 86400 expected)",
                 err{ db = db, listen = "127.0.0.1:0", key = key,
                      served_interval = "soon" })
    assert.equal("bad argument #1 to 'server' (unknown option 'deadline')",
                 err{ db = db, listen = "127.0.0.1:0", key = key,
                      deadline = 1 })
    local function fetch_err(t)
      t.peers, t.stores, t.key = {}, {}, key
      t.library_id = synclua.library_id(key)
      t.requesting_device = DEV_L
      return support.error_of(function() return (synclua.fetch(t)) end)
    end
    assert.equal("bad argument #1 to 'fetch' (deadline: seconds from 0 to "
                 .. "86400 expected)", fetch_err{ deadline = -1 })
    assert.equal("bad argument #1 to 'fetch' (max_pages: integer from 1 to "
                 .. "2147483647 expected)", fetch_err{ max_pages = 0 })
  end)

  it("takes ids only as UUID strings, naming what it got", function()
    local db = dir .. "/peer-a.db"
    local function server_err(t)
      t.db, t.listen, t.key = db, "127.0.0.1:0", key
      return support.error_of(function() return (synclua.server(t)) end)
    end
    assert.equal("bad argument #1 to 'server' (library: UUID string "
                 .. "expected, got number)", server_err{ library = 7 })
    assert.equal("bad argument #1 to 'server' (device: not a UUID: me)",
                 server_err{ device = "me" })
    local function fetch_err(t)
      t.peers, t.stores, t.key = {}, {}, key
      t.library_id = t.library_id or synclua.library_id(key)
      t.requesting_device = t.requesting_device or DEV_L
      return support.error_of(function() return (synclua.fetch(t)) end)
    end
    assert.equal("bad argument #1 to 'fetch' (library_id: UUID string "
                 .. "expected, got number)", fetch_err{ library_id = 7 })
    assert.equal("bad argument #1 to 'fetch' (requesting_device: not a "
                 .. "UUID: x)", fetch_err{ requesting_device = "x" })
    assert.equal("bad argument #1 to 'fetch' (correlation_id: UUID string "
                 .. "expected, got boolean)",
                 fetch_err{ correlation_id = true })
  end)

  it("fetch refuses a peer that is no string, and one store for two peers",
     function()
    local s1 = assert(synclua.open(dir .. "/s1.db", { mode = "w",
                                                      device_id = DEV_L }))
    local s2 = assert(synclua.open(dir .. "/s2.db", { mode = "w",
                                                      device_id = DEV_L }))
    local function err(peers, stores)
      return support.error_of(function()
        return (synclua.fetch{ peers = peers, stores = stores, key = key,
          library_id = synclua.library_id(key), requesting_device = DEV_L,
          timeout = 2 }) end)
    end
    assert.equal("bad argument #1 to 'fetch' (peers: list of HOST:PORT "
                 .. "strings expected)", err({ 7 }, { s1 }))
    assert.equal("bad argument #1 to 'fetch' (peers: list of HOST:PORT "
                 .. "strings expected)", err({ "127.0.0.1:1", 7 }, { s1, s2 }))
    assert.equal("bad argument #1 to 'fetch' (stores: the same store for "
                 .. "peers 1 and 2)", err({ "127.0.0.1:1", "127.0.0.1:2" },
                                          { s1, s1 }))
    assert.equal("bad argument #1 to 'fetch' (stores: the same store for "
                 .. "peers 1 and 3)", err({ "127.0.0.1:1", "127.0.0.1:2",
                                            "127.0.0.1:3" }, { s1, s2, s1 }))
    assert.equal(0, s1:count())
    s1:close()
    s2:close()
  end)

  it("fetch sizes its lists by their raw length, whatever __len says",
     function()
    local got = assert(synclua.open(dir .. "/got.db", { mode = "w",
                                                        device_id = DEV_L }))
    for _, lie in ipairs{ 2, math.maxinteger } do
      local len = { __len = function() return lie end }
      local results = synclua.fetch{
        peers = setmetatable({ "127.0.0.1:1" }, len),
        stores = setmetatable({ got }, len), key = key,
        library_id = synclua.library_id(key), requesting_device = DEV_L,
        timeout = 2 }
      assert.same({ { peer = "127.0.0.1:1", ok = false, error = "cannot "
        .. "connect to 127.0.0.1:1: Connection refused", code = "ioerr",
        received = 0, inserted = 0, pages = 0, capped = false } }, results)
    end
    local peers, stores = {}, {}
    for i = 1, 1025 do peers[i], stores[i] = "127.0.0.1:1", got end
    assert.equal("bad argument #1 to 'fetch' (peers: at most 1024)",
                 support.error_of(function()
                   return (synclua.fetch{ peers = peers, stores = stores,
                     key = key, library_id = synclua.library_id(key),
                     requesting_device = DEV_L }) end))
    got:close()
  end)

  -- SIGINT and SIGTERM: is each caught in this process now?
  local function caught()
    local f = assert(io.open("/proc/self/status", "r"))
    local mask = tonumber(f:read("a"):match("\nSigCgt:%s*(%x+)"), 16)
    f:close()
    return { INT = mask >> 1 & 1 == 1, TERM = mask >> 14 & 1 == 1 }
  end

  it("run(ready) calls ready once SIGINT and SIGTERM are taken, and gives "
     .. "them back when it returns", function()
    local srv = assert(synclua.server{ db = dir .. "/peer-a.db",
      listen = "127.0.0.1:0", key = key, quiet = true })
    local before, during = caught(), nil
    assert.is_false(before.TERM)
    -- Stopped from ready, before serving anyone: it returns at once.
    assert.same({ true }, { srv:run(function()
      during = caught()
      srv:stop()
    end) })
    assert.same({ INT = true, TERM = true }, during)
    assert.same(before, caught())
    assert.equal("bad argument #1 to 'run' (function expected, got number)",
                 support.error_of(function() return (srv:run(42)) end))
    srv:close()
  end)

  it("run(ready) passes an error raised in ready on as it was, and runs "
     .. "again after it", function()
    local srv = assert(synclua.server{ db = dir .. "/peer-a.db",
      listen = "127.0.0.1:0", key = key, quiet = true })
    local other = assert(synclua.server{ db = dir .. "/peer-b.db",
      listen = "127.0.0.1:0", key = key, quiet = true })
    local before = caught()
    local oops = setmetatable({}, {
      __tostring = function() return "oops" end })
    local ok, err = pcall(srv.run, srv, function() error(oops) end)
    assert.is_false(ok)
    assert.equal(oops, err)
    assert.same(before, caught())
    assert.equal("ready failed", support.error_of(function()
      return (srv:run(function() error("ready failed", 0) end)) end))
    -- One server runs at a time: the other's run, from ready, raises.
    assert.equal("another synclua.Server is running",
                 support.error_of(function()
                   return (srv:run(function() other:run() end)) end))
    assert.same(before, caught())
    assert.same({ true }, { srv:run(function() srv:stop() end) })
    assert.same({ true }, { other:run(function() other:stop() end) })
    assert.same(before, caught())
    srv:close()
    other:close()
  end)

  it("run(ready) raises when ready closes the server", function()
    local srv = assert(synclua.server{ db = dir .. "/peer-a.db",
      listen = "127.0.0.1:0", key = key, quiet = true })
    local before = caught()
    assert.equal("attempt to use a closed synclua.Server",
                 support.error_of(function()
                   return (srv:run(function() srv:close() end)) end))
    assert.same(before, caught())
  end)

  it("fetch puts each peer's events in its store and says what came, "
     .. "names it did not know included", function()
    local a = serve(dir, "peer-a.db")
    local got = assert(synclua.open(dir .. "/got.db", { mode = "w",
                                                        device_id = DEV_L }))
    local down = assert(synclua.open(dir .. "/down.db",
                                     { mode = "w", device_id = DEV_L }))
    local results = synclua.fetch{
      peers = { a.address, "127.0.0.1:1" }, stores = { got, down },
      key = key, library_id = synclua.library_id(key),
      requesting_device = DEV_L, event_types = { "bogus", "sync_error" },
      timeout = 2 }
    assert.same({
      { peer = a.address, ok = true, device = DEV_A, received = 1,
        inserted = 1, pages = 1, capped = false,
        unknown_event_types = "bogus" },
      { peer = "127.0.0.1:1", ok = false, error = "cannot connect to "
        .. "127.0.0.1:1: Connection refused", code = "ioerr", received = 0,
        inserted = 0, pages = 0, capped = false },
    }, results)
    assert.equal("Buffer overflow: 3 updates dropped",
                 got:first{}.summary)
    assert.equal(1, got:count())
    assert.equal(0, down:count())
    got:close()
    down:close()
    local rest = a:stop()
    assert.equal("synclua serve: 127.0.0.1:P: device " .. DEV_L .. " asked "
      .. "for 1000 events: sent 1 in N ms\nsynclua serve: stopped\n",
      served_lines(rest))
    assert.equal('{"event_types":["bogus","sync_error"],"limit":1000,'
      .. '"more":false,"remote":"127.0.0.1:P","request":"EventLogRequest",'
      .. '"requests":1,"unknown_event_types":["bogus"]}\n',
      served_lines(support.sqlite(dir .. "/peer-a.db",
        "SELECT details FROM sync_event_log WHERE id = 4")))
  end)
end)
