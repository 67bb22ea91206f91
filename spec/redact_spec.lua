-- Redaction (issue 16): logs a user can share. synclua.redactor and
-- log:redact() from Lua; --redact and --redact-key on every command that
-- writes events or their ids (events, timeline, fetch, the reports and
-- their pictures). Pseudonyms are checked against HMAC-SHA256 computed by
-- another implementation (Python's hmac module, as spec/c/test_redact.c);
-- the demo library is redacted end to end: no id, name or path of it is
-- left in any output, and every report gives the same verdict and the same
-- numbers on it before and after redaction, read directly or from redacted
-- exports loaded back.
local support = dofile("spec/fixtures/support.lua")
local synclua = require "synclua"

local quote = support.quote
local NOW = "2025-12-04T00:00:00Z"

local KEY = "support-42"
-- Python: hmac.new(b"support-42", id.encode(), hashlib.sha256), its first
-- 16 bytes with version 4 and variant 10 set.
local DEV, DEV_PS = "2f1a8f8e-0c3b-4d52-9d0e-5b1c2a3d4e5f",
                    "d03a1fd7-f3d6-4244-839e-76af1ce9d6b2"
local DESKTOP, DESKTOP_PS = "beeb8da1-658e-4c67-b893-a2eefb32555e",
                            "d2d0c49f-cc56-44c1-a465-67bbc3554bec"
local DESKTOP_OTHER = "33c4ef26-99b7-42bc-9795-52cdc19c3527" -- key "other"
local PHONE, PHONE_PS = "85e7bb0f-1227-4575-8917-18de357e3da8",
                        "75e8d13f-4326-4983-b81e-13029994bb6e"
local SESSION, SESSION_PS = "6f1c0a8e-1d2b-4c3d-9e4f-5a6b7c8d9e0f",
                            "d36a77c3-950e-439d-824c-5d0717cd5229"
-- "redacted-" and 12 hex digits of the HMAC of the text replaced
local PATH_TAG = "redacted-35a9c90d2cb6" -- /home/alice/My Library/sync.db
local NAME_TAG = "redacted-3c78121497c1" -- alice-laptop

local KEYED = "(keyed: the same key gives the same pseudonyms)"
local RANDOM = "(a random key: these pseudonyms match no other run)"

local function simple(id) return (id:gsub("%-", "")) end

-- `synclua ARGS` in dir at NOW, with the demo library in dir/cache.
local function run(dir, args, env)
  return support.synclua(dir, args, "SYNCLUA_NOW=" .. NOW
    .. " SYNCLUA_UNICODE=0 SYNCLUA_REDACT_KEY= XDG_CACHE_HOME="
    .. quote(dir .. "/cache") .. " " .. (env or ""))
end

-- Text from its bytes (a NUL, an ill-formed UTF-8 sequence), stored as
-- TEXT.
local function bytes(s) return { sql = support.bytes_as_text(s) } end

-- A store another program wrote, with what redaction must see through:
-- ids in every spelling in columns and summaries, a path, NUL and bad
-- UTF-8, details nested, on the allow-list or not, not JSON, NULL.
local function odd_store(db)
  local rows = {
    { timestamp = "2025-12-03T10:00:01+00:00",
      device_id = DEV:upper(), -- the others: DEV as Spacedrive writes it
      event_type = "backfill_session_started",
      summary = "Selected peer " .. PHONE:upper() .. " from 2 candidates",
      details = '{"candidates":[{"device_id":"' .. PHONE
        .. '","latency_ms":12.5,"selected":true},{"device_id":"' .. DESKTOP
        .. '","is_online":false,"selected":false}],"peer_count":2}',
      correlation_id = "{" .. SESSION .. "}",
      peer_device_id = simple(PHONE), record_count = 7 },
    { timestamp = "2025-12-03T10:00:02+00:00", event_type = "sync_error",
      category = "error", severity = "warning",
      summary = "Event log file replaced while logging: now writing to "
        .. "the file at /home/alice/My Library/sync.db",
      details = '{"path":"/home/alice/My Library/sync.db",'
        .. '"reason":"replaced"}' },
    { timestamp = "2025-12-03T10:00:03+00:00",
      event_type = "peer_disconnected", category = "network",
      summary = bytes("Peer urn:uuid:" .. DESKTOP .. " gone \0 \255"),
      details = '{"nested":{"deep":[{"host":"alice-laptop","n":3,'
        .. '"none":null,"ok":true}]},"reason":"peer ' .. DESKTOP
        .. ' went offline"}',
      peer_device_id = DESKTOP, duration_ms = 12 },
    { timestamp = "2025-12-03T10:00:04+00:00",
      summary = "Ready → Paused (" .. simple(DEV):upper() .. ")",
      details = "not json {" },
  }
  for _, r in ipairs(rows) do r.device_id = r.device_id or DEV end
  assert.equal("", support.sqlite(db, support.DDL))
  support.insert_rows(db, rows)
end

local dir, demo
setup(function()
  dir = support.tmpdir()
  odd_store(dir .. "/odd.db")
  local _, err, status = run(dir, "simulate --out lib --devices 3 --hours 12 "
    .. "--seed 5 --start 2025-12-03T12:00:00Z")
  assert(status == 0, err)
  -- the demo library, generated on first use
  _, err, status = run(dir, "report -f json")
  assert(status == 1, err)
  demo = support.capture("ls -d " .. quote(dir) .. "/cache/synclua/demo-*")
    :gsub("\n$", "")
end)
teardown(function()
  support.stop_children()
  support.rmdir(dir)
end)

describe("synclua.redactor()", function()
  it("gives HMAC-SHA256 pseudonyms under a key, the same for every "
     .. "spelling and every redactor of that key", function()
    local r, again = synclua.redactor{ key = KEY }, synclua.redactor{ key = KEY }
    assert.equal(DESKTOP_PS, r:id(DESKTOP))
    assert.equal(DESKTOP_PS, again:id(DESKTOP))
    assert.equal(DESKTOP_PS, r:id(DESKTOP:upper()))
    assert.equal(DESKTOP_PS, r:id(simple(DESKTOP)))
    assert.equal(DESKTOP_PS, r:id("{" .. DESKTOP .. "}"))
    assert.equal(DESKTOP_PS, r:id("urn:uuid:" .. DESKTOP))
    assert.equal(PHONE_PS, r:id(PHONE))
    assert.is_true(r:keyed())
    assert.equal("synclua.Redactor (given key)", tostring(r))
  end)

  it("gives other pseudonyms under another key, and under no key other ones "
     .. "for each redactor", function()
    assert.equal(DESKTOP_OTHER, synclua.redactor{ key = "other" }:id(DESKTOP))
    local a, b = synclua.redactor(), synclua.redactor{}
    local pa = a:id(DESKTOP)
    assert.is_false(a:keyed())
    assert.equal("synclua.Redactor (random key)", tostring(a))
    assert.not_equal(DESKTOP_PS, pa)
    assert.not_equal(pa, b:id(DESKTOP))
    assert.equal(pa, a:id(DESKTOP:upper()))
  end)

  it("makes valid lowercase version 4 UUIDs", function()
    local r = synclua.redactor()
    for _ = 1, 50 do
      local p = r:id(synclua.uuid())
      assert.equal(p, synclua.parse_uuid(p))
      assert.matches("^%x+%-%x+%-4%x+%-[89ab]%x+%-%x+$", p)
    end
  end)

  it("answers nil for what is no UUID, and raises for misuse", function()
    local r = synclua.redactor{ key = KEY }
    assert.is_nil(r:id("desktop"))
    assert.is_nil(r:id(DESKTOP .. " "))
    assert.is_nil(r:id("URN:UUID:" .. DESKTOP))
    -- (Lua names the function by a table that holds it: synclua or
    -- synclua.core)
    local function message(...)
      return (support.error_of(synclua.redactor, ...)
        :gsub("^(bad argument #1 to ')[%w.]-(redactor')", "%1%2"))
    end
    assert.equal("bad argument #1 to 'redactor' (key: empty)",
                 message{ key = "" })
    assert.equal("bad argument #1 to 'redactor' (key: string expected, got "
      .. "number)", message{ key = 42 })
    assert.equal("bad argument #1 to 'redactor' (unknown option 'keys')",
                 message{ keys = KEY })
    assert.equal("bad argument #2 to 'id' (invalid option 'user')",
      support.error_of(function() return r:id(DESKTOP, "user") end))
    local log <close> = assert(synclua.open(dir .. "/odd.db"))
    assert.equal("bad argument #1 to 'redact' (synclua.Redactor expected, "
      .. "got string)", support.error_of(function()
        return log:redact(KEY) end))
  end)

  it("counts each distinct id once by kind, and turns back only the "
     .. "pseudonyms it handed out", function()
    local r = synclua.redactor{ key = KEY }
    r:id(DESKTOP, "device")
    r:id(DESKTOP:upper(), "device")
    r:id(DESKTOP, "peer")
    r:id(PHONE, "peer")
    r:id(SESSION, "correlation")
    r:id(DEV, "library")
    r:id(DEV)
    assert.same({ device = 1, peer = 2, correlation = 1, library = 1,
                  summary_id = 0, summary_path = 0, details = 0 }, r:counts())
    assert.equal(DESKTOP, r:reveal(DESKTOP_PS))
    assert.equal(DESKTOP, r:reveal(simple(DESKTOP_PS):upper()))
    assert.is_nil(r:reveal(DESKTOP))
    assert.is_nil(synclua.redactor{ key = KEY }:reveal(DESKTOP_PS))
  end)

  it("keeps the strings of the details keys on its allow-list", function()
    assert.same({ "action", "event_types", "phase", "reason", "request",
                  "since" }, synclua.redact_allowed())
  end)
end)

describe("log:redact()", function()
  it("hands out every row redacted: ids, summaries and details", function()
    local r = synclua.redactor{ key = KEY }
    local log <close> = assert(synclua.open(dir .. "/odd.db")):redact(r)
    local evs = {}
    for ev in log:events{ order = "asc", raw = true } do evs[#evs + 1] = ev end
    assert.equal(4, #evs)
    for _, ev in ipairs(evs) do assert.equal(DEV_PS, ev.device_id) end
    assert.equal("Selected peer " .. PHONE_PS:upper() .. " from 2 candidates",
                 evs[1].summary)
    assert.equal(SESSION_PS, evs[1].correlation_id)
    assert.equal(PHONE_PS, evs[1].peer_device_id)
    assert.equal(7, evs[1].record_count)
    assert.equal('{"candidates":[{"device_id":"' .. PHONE_PS .. '",'
      .. '"latency_ms":12.5,"selected":true},{"device_id":"' .. DESKTOP_PS
      .. '","is_online":false,"selected":false}],"peer_count":2}',
      evs[1].details)
    assert.equal("Event log file replaced while logging: now writing to the "
      .. "file at " .. PATH_TAG, evs[2].summary)
    assert.equal('{"path":"' .. PATH_TAG .. '","reason":"replaced"}',
                 evs[2].details)
    assert.equal("Peer urn:uuid:" .. DESKTOP_PS .. " gone \0 \u{FFFD}",
                 evs[3].summary)
    assert.equal('{"nested":{"deep":[{"host":"' .. NAME_TAG .. '","n":3,'
      .. '"none":null,"ok":true}]},"reason":"peer ' .. DESKTOP_PS
      .. ' went offline"}', evs[3].details)
    assert.equal(DESKTOP_PS, evs[3].peer_device_id)
    assert.equal(12, evs[3].duration_ms)
    assert.equal("Ready → Paused (" .. simple(DEV_PS):upper() .. ")",
                 evs[4].summary)
    assert.is_nil(evs[4].details)
    assert.is_nil(evs[4].peer_device_id)
    assert.is_nil(evs[4].correlation_id)
    -- what is kept
    assert.equal("2025-12-03T10:00:03+00:00", evs[3].timestamp)
    assert.equal("peer_disconnected", evs[3].event_type)
    assert.equal("network", evs[3].category)
    assert.equal("warning", evs[2].severity)
    assert.same({ device = 1, peer = 2, correlation = 1, library = 0,
                  summary_id = 3, summary_path = 1, details = 6 }, r:counts())
    -- read again: nothing counted twice
    for _ in log:events{} do end
    assert.equal(6, r:counts().details)
  end)

  it("decodes redacted details, and takes the ids stored or the pseudonyms "
     .. "it handed out in filters", function()
    local r = synclua.redactor{ key = KEY }
    local log <close> = assert(synclua.open(dir .. "/odd.db")):redact(r)
    local ev = log:first{ event_type = "peer_disconnected" }
    assert.equal(NAME_TAG, ev.details.nested.deep[1].host)
    assert.equal(3, ev.details.nested.deep[1].n)
    assert.equal(synclua.null, ev.details.nested.deep[1].none)
    assert.equal(1, log:count{ peer = DESKTOP })
    assert.equal(1, log:count{ peer = DESKTOP_PS })
    assert.equal(3, log:count{ device = DEV })
    assert.equal(3, log:count{ device = DEV_PS })
    -- ids stored in another spelling match in neither (sl_filter)
    assert.equal(0, log:count{ correlation_id = SESSION })
    assert.equal(0, log:count{ correlation_id = SESSION_PS })
    assert.equal(0, log:count{ peer = DESKTOP_OTHER })
    local n = 0
    for e in log:events{ device = DEV_PS } do
      n = n + 1
      assert.equal(DEV_PS, e.device_id)
    end
    assert.equal(3, n)
    assert.equal(1, (log:fingerprint{ peer = DESKTOP_PS }))
    -- another store, without the redactor, knows no pseudonym
    local plain <close> = assert(synclua.open(dir .. "/odd.db"))
    assert.equal(0, plain:count{ peer = DESKTOP_PS })
  end)

  it("hands out rows as stored again after log:redact(nil)", function()
    local log <close> = assert(synclua.open(dir .. "/odd.db"))
    log:redact(synclua.redactor{ key = KEY })
    assert.equal(DEV_PS, log:first{}.device_id)
    assert.equal(log, log:redact(nil))
    assert.equal(DEV, log:first{}.device_id)
    assert.equal(DEV:upper(), log:first{ order = "asc" }.device_id)
    assert.equal(0, log:count{ device = DEV_PS })
  end)

  it("keeps its redactor alive as long as the store", function()
    local log <close> = assert(synclua.open(dir .. "/odd.db"))
    log:redact(synclua.redactor{ key = KEY })
    collectgarbage()
    collectgarbage()
    assert.equal(DEV_PS, log:first{}.device_id)
  end)
end)

describe("--redact", function()
  it("writes events redacted and says what it replaced, each count exact",
     function()
    local out, err, status = run(dir, "events --db odd.db -f ndjson "
      .. "--with-device --redact-key " .. KEY)
    assert.equal(0, status)
    assert.equal("synclua events: warning: 1 event that Spacedrive's reader "
      .. "skips is written last (see synclua check)\n"
      .. "synclua events: warning: odd.db: 1 row with values Spacedrive "
      .. "cannot read (summary; id 3): shown as read leniently\n"
      .. "synclua events: redacted 1 device id, 2 peer ids, 1 "
      .. "correlation id, 3 ids in summaries, 1 path in summaries, 6 strings "
      .. "in details " .. KEYED .. "\n", err)
    local rows, types = {}, {}
    for line in out:gmatch("[^\n]+") do
      local row = synclua.json_decode(line)
      rows[row.event_type], types[#types + 1] = row, row.event_type
      assert.equal(DEV_PS, row.device_id)
    end
    -- newest first, the row Spacedrive skips (bad UTF-8) last
    assert.same({ "state_transition", "sync_error", "backfill_session_started",
                  "peer_disconnected" }, types)
    assert.equal("Ready → Paused (" .. simple(DEV_PS):upper() .. ")",
                 rows.state_transition.summary)
    assert.equal("Peer urn:uuid:" .. DESKTOP_PS .. " gone \0 \u{FFFD}",
                 rows.peer_disconnected.summary)
    assert.equal(SESSION_PS, rows.backfill_session_started.correlation_id)
    assert.equal(PHONE_PS, rows.backfill_session_started.details
      .candidates[1].device_id)
    assert.equal(PATH_TAG, rows.sync_error.details.path)
    for _, id in ipairs{ DEV, DESKTOP, PHONE, SESSION } do
      assert.is_nil(out:lower():find(simple(id), 1, true))
      assert.is_nil(out:lower():find(id, 1, true))
    end
    assert.is_nil(out:find("alice", 1, true))
  end)

  it("gives the same bytes for the same key, others for another key, and "
     .. "others on each run without a key", function()
    local function events(flags)
      local out, err, status = run(dir, "events --db lib/phone -f json "
        .. "--limit 0 " .. flags)
      assert.equal(0, status, err)
      return out, err
    end
    local plain = events("")
    local a, err = events("--redact-key " .. KEY)
    assert.equal(a, (events("--redact-key " .. KEY)))
    assert.not_equal(a, (events("--redact-key other")))
    local r1, err1 = events("--redact")
    local r2 = events("--redact")
    assert.not_equal(r1, r2)
    assert.not_equal(a, r1)
    assert.equal(#plain, #a) -- ids are replaced by ids
    -- as sqlite3 counts them: COUNT(DISTINCT ...) of each column, the ids in
    -- summaries, and the strings in details: two candidates' device ids and
    -- a failed session's reason
    assert.equal("synclua events: redacted 1 device id, 2 peer ids, 11 "
      .. "correlation ids, 2 ids in summaries, 3 strings in details " .. KEYED
      .. "\n", err)
    assert.equal("11|2|1\n", support.sqlite(dir .. "/lib/phone/sync.db",
      "SELECT COUNT(DISTINCT correlation_id), COUNT(DISTINCT peer_device_id),"
      .. " COUNT(DISTINCT device_id) FROM sync_event_log"))
    assert.equal(err:gsub(" %(.*", ""), (err1:gsub(" %(.*", "")))
    assert.equal(RANDOM, err1:match("%(.*%)"))
  end)

  it("takes $SYNCLUA_REDACT_KEY with --redact, and --redact-key first",
     function()
    local keyed = run(dir, "events --db lib/phone --redact-key " .. KEY)
    local env = "SYNCLUA_REDACT_KEY=" .. KEY
    local out, err = run(dir, "events --db lib/phone --redact", env)
    assert.equal(keyed, out)
    assert.matches(KEYED, err, 1, true)
    assert.not_equal(keyed, (run(dir, "events --db lib/phone --redact-key "
      .. "other", env)))
    -- the variable alone does not redact
    assert.equal((run(dir, "events --db lib/phone")),
                 (run(dir, "events --db lib/phone", env)))
  end)

  it("refuses an empty key, and never says a key", function()
    local out, err, status = run(dir, "events --db lib/phone --redact-key ''")
    assert.equal(2, status)
    assert.equal("", out)
    assert.equal("synclua events: option '--redact-key' expects a non-empty "
      .. "key\n", err)
    local secret = "s3cr3t-k3y"
    for _, args in ipairs{
      "events --db lib/phone --redact-key " .. secret,
      "events --db lib/phone --redact-key=" .. secret .. " --limt 2",
      "timeline --db lib --redact-key " .. secret .. " -f html",
      "report --db lib --redact-key " .. secret .. " -f json",
      "events --db nowhere --redact-key " .. secret } do
      out, err = run(dir, args)
      assert.is_nil(out:find(secret, 1, true), args)
      assert.is_nil(err:find(secret, 1, true), args)
    end
  end)

  it("is offered by the commands that write events, and no other",
     function()
    for _, name in ipairs{ "events", "timeline", "fetch", "report",
                           "sessions", "session", "why_failed", "why_slow",
                           "lost_data", "which_peer", "peers", "push" } do
      local out = run(dir, name .. " --help")
      assert.matches("\n      %-%-redact  ", out, 1, false)
      assert.matches("\n      %-%-redact%-key KEY  ", out, 1, false)
    end
    for _, name in ipairs{ "check", "import", "prune", "simulate", "serve",
                           "keygen" } do
      assert.is_nil((run(dir, name .. " --help")):find("--redact", 1, true))
    end
  end)

  it("labels each device by its pseudonym, the same in every output",
     function()
    local r = synclua.redactor{ key = KEY }
    local m = synclua.json_decode(support.slurp(dir .. "/lib/devices.json"))
    local label, names = {}, {}
    for _, d in ipairs(m.devices) do
      label[d.name] = r:id(d.device_id):sub(1, 8)
      names[#names + 1] = d.name
    end
    local out = run(dir, "timeline --db lib --limit 1 --redact-key " .. KEY)
    assert.matches(("# clock offsets %%(relative to %s%%): %s "):format(
      label.desktop, label.laptop), out)
    out = run(dir, "why_failed --db lib --redact-key " .. KEY)
    assert.matches(("events: %s 307, %s 150, %s 234\n"):format(
      label.desktop, label.laptop, label.phone), out)
    local html = run(dir, "report --db lib -f html --redact-key " .. KEY)
    for _, name in ipairs(names) do
      assert.matches('"' .. label[name] .. '"', html, 1, true)
      assert.is_nil(html:find('"' .. name .. '"', 1, true), name)
    end
  end)

  it("finds a session by its id, a prefix of it, or its pseudonym",
     function()
    local r = synclua.redactor{ key = KEY }
    local s = synclua.json_decode((run(dir, "sessions --db lib -f json")))
      .sessions[1]
    local ps = r:id(s.id)
    for _, given in ipairs{ s.id, s.id:sub(1, 8), ps, ps:sub(1, 8) } do
      local out, err, status = run(dir, "session " .. given .. " --db lib "
        .. "-f json --redact-key " .. KEY)
      assert.equal(0, status, err)
      assert.equal(ps, synclua.json_decode(out).session.correlation_id)
    end
  end)
end)

describe("--redact on the demo library", function()
  -- Every id, name and path of the demo library: { path, names = {...},
  -- ids = { canonical = true }, count }.
  local function secrets()
    local list = { path = demo, ids = {}, count = 0,
                   names = { desktop = true, laptop = true, phone = true,
                             nas = true, tablet = true } }
    local m = synclua.json_decode(support.slurp(demo .. "/devices.json"))
    for _, d in ipairs(m.devices) do
      local log <close> = assert(synclua.open(demo .. "/" .. d.path))
      for ev in log:events{ raw = true } do
        local text = ev.summary .. " " .. (ev.details or "")
        for _, id in ipairs{ ev.device_id, ev.peer_device_id,
                             ev.correlation_id } do
          text = text .. " " .. id
        end
        for id in text:gmatch("%x+%-%x+%-%x+%-%x+%-%x+") do
          if not list.ids[id] then list.count = list.count + 1 end
          list.ids[id] = true
        end
      end
    end
    return list
  end

  -- The secrets `text` holds, case aside: the path; a name as a word; an
  -- id in its hyphenated or simple form anywhere; its first 8 characters
  -- as a label or an id's first group is written, between characters that
  -- are no hex digits (anywhere, 190 of them would turn up by chance in
  -- the hex digits of random pseudonyms).
  local function leaks(text, list)
    local found, lower = {}, text:lower()
    local simple_of, prefix_of = {}, {}
    for id in pairs(list.ids) do
      simple_of[simple(id)], prefix_of[id:sub(1, 8)] = id, id
    end
    if text:find(list.path, 1, true) then found[#found + 1] = list.path end
    for w in lower:gmatch("%w+") do
      if list.names[w] then found[#found + 1] = w end
    end
    for run in lower:gmatch("[%x%-]+") do
      for i = 1, #run - 35 do
        if list.ids[run:sub(i, i + 35)] then
          found[#found + 1] = run:sub(i, i + 35)
        end
      end
    end
    for run in lower:gmatch("%x+") do
      if #run == 8 and prefix_of[run] then found[#found + 1] = run end
      for i = 1, #run - 31 do
        if simple_of[run:sub(i, i + 31)] then
          found[#found + 1] = run:sub(i, i + 31)
        end
      end
    end
    return found
  end

  it("leaves no id, name or path of it in any output of any command",
     function()
    local list = secrets()
    assert.equal(186, list.count)
    local runs = {}
    for _, d in ipairs{ "desktop", "phone", "nas" } do
      for _, f in ipairs{ "json", "sql", "markdown", "ndjson", "csv" } do
        runs[#runs + 1] = ("events --db %s/%s --limit 0 -f %s")
          :format(quote(demo), d, f)
        runs[#runs + 1] = runs[#runs] .. " --with-device"
      end
    end
    for _, f in ipairs{ "text", "json", "ndjson", "csv", "sql", "markdown",
                        "html", "trace" } do
      runs[#runs + 1] = "timeline -f " .. f
    end
    for _, c in ipairs{ "report", "why_failed", "why_slow", "lost_data",
                        "which_peer", "peers", "sessions" } do
      for _, f in ipairs{ "text", "json", "markdown", "html", "trace" } do
        runs[#runs + 1] = c .. " -f " .. f
      end
    end
    runs[#runs + 1] = "session 780de042 -f json"
    runs[#runs + 1] = "session 780de042 -f html"
    for _, args in ipairs(runs) do
      local out, err, status = run(dir, args .. " --redact")
      assert(status == 0 or status == 1, args .. ": " .. err)
      assert.same({}, leaks(out, list), args)
      assert.matches("\nsynclua [%w_]+: redacted %d+ device ids?, ",
                     "\n" .. err)
      -- the same without --redact: the secrets were there to be found
      if args:match("^events.*json$") or args == "report -f json" then
        assert.is_true(#leaks((run(dir, args)), list) > 0, args)
      end
    end
  end)

  -- A report's JSON reduced to what redaction must keep: the exit status,
  -- the status, the verdict and each finding's kind, severity and summary
  -- with every id, name and label written as its pseudonym's (map), and
  -- every number, sorted.
  local function gist(text, map)
    local doc = assert(synclua.json_decode(text), text)
    local function words(s)
      if not s then return s end
      for from, to in pairs(map) do
        s = s:gsub("%f[%w]" .. from:gsub("%-", "%%-") .. "%f[%W]", to)
      end
      return s
    end
    local numbers = {}
    local function walk(v)
      if type(v) == "number" then numbers[#numbers + 1] = v
      elseif type(v) == "table" then for _, x in pairs(v) do walk(x) end end
    end
    walk(doc)
    table.sort(numbers)
    local findings = {}
    for _, f in ipairs(doc.findings or {}) do
      findings[#findings + 1] = ("%s|%s|%s"):format(f.kind, f.severity,
                                                     words(f.summary))
    end
    table.sort(findings)
    local scenarios = {}
    for _, s in ipairs(doc.scenarios or {}) do
      scenarios[#scenarios + 1] = s.name .. ":" .. s.status .. ":"
        .. words(s.verdict)
    end
    return { exit = doc.exit, status = doc.status, verdict = words(doc.verdict),
             findings = findings, scenarios = scenarios, numbers = numbers }
  end

  -- Each id of the demo library (and its first 8 characters, and each
  -- device's name) to what redaction under KEY makes of it.
  local function pseudonyms(names)
    local r = synclua.redactor{ key = KEY }
    local map = {}
    local m = synclua.json_decode(support.slurp(demo .. "/devices.json"))
    for _, d in ipairs(m.devices) do
      local log <close> = assert(synclua.open(demo .. "/" .. d.path))
      for ev in log:events{ raw = true } do
        for _, id in ipairs{ ev.device_id, ev.peer_device_id,
                             ev.correlation_id } do
          map[id] = r:id(id)
          map[id:sub(1, 8)] = r:id(id):sub(1, 8)
        end
        for id in (ev.summary .. " " .. (ev.details or ""))
            :gmatch("%x+%-%x+%-%x+%-%x+%-%x+") do
          map[id] = r:id(id)
          map[id:sub(1, 8)] = r:id(id):sub(1, 8)
        end
      end
      if names then map[d.name] = r:id(d.device_id):sub(1, 8) end
    end
    return map
  end

  local REPORTS = { "report", "why_failed", "why_slow", "lost_data",
                    "which_peer", "peers", "sessions" }

  it("gives every report the same verdict and numbers, redacted", function()
    local map = pseudonyms(true)
    for _, c in ipairs(REPORTS) do
      local before, e1, s1 = run(dir, c .. " -f json")
      local after, e2, s2 = run(dir, c .. " -f json --redact-key " .. KEY)
      assert.equal(s1, s2, c)
      assert(s1 == 0 or s1 == 1, c .. ": " .. e1 .. e2)
      local g = gist(after, {})
      assert.same(gist(before, map), g, c)
      assert.is_true(#g.numbers > 10, c)
    end
    local sid = "780de042-ea9a-4824-b2f5-d96ae5e3155f"
    local before = run(dir, "session " .. sid .. " -f json")
    local after = run(dir, "session " .. sid .. " -f json --redact-key " .. KEY)
    assert.same(gist(before, map), gist(after, {}))
  end)

  it("gives every report the same verdict and numbers on redacted exports "
     .. "loaded back", function()
    local m = synclua.json_decode(support.slurp(demo .. "/devices.json"))
    local plain, redacted = {}, {}
    for _, d in ipairs(m.devices) do
      for _, side in ipairs{ { "plain", plain, "" },
                             { "red", redacted, " --redact-key " .. KEY } } do
        local file = ("%s-%s.json"):format(side[1], d.name)
        local _, err, status = run(dir, ("events --db %s/%s --limit 0 "
          .. "--with-device -o %s"):format(quote(demo), d.name, file)
          .. side[3])
        assert.equal(0, status, err)
        side[2][#side[2] + 1] = file
      end
    end
    -- labels of exports are the first 8 characters of the ids
    local map = pseudonyms(false)
    for _, c in ipairs(REPORTS) do
      local before, e1, s1 = run(dir, c .. " -f json --db "
        .. table.concat(plain, " "))
      local after, e2, s2 = run(dir, c .. " -f json --db "
        .. table.concat(redacted, " "))
      assert.equal(s1, s2, c)
      assert(s1 == 0 or s1 == 1, c .. ": " .. e1 .. e2)
      assert.same(gist(before, map), gist(after, {}), c)
    end
    local list = secrets()
    for _, f in ipairs(redacted) do
      assert.same({}, leaks(support.slurp(dir .. "/" .. f), list), f)
    end
  end)
end)

describe("synclua fetch --redact", function()
  it("writes what the peers send, and this device's log, redacted",
     function()
    local _, err, status = run(dir, "keygen -o key")
    assert.equal(0, status, err)
    local srv = support.serve(dir, "lib/desktop")
    local r = synclua.redactor{ key = KEY }
    local m = synclua.json_decode(support.slurp(dir .. "/lib/devices.json"))
    local id = {}
    for _, d in ipairs(m.devices) do id[d.name] = d.device_id end
    local out
    out, err, status = run(dir, "fetch --key-file key --db lib/phone "
      .. "--peer " .. srv.address .. " -f ndjson --redact-key " .. KEY)
    assert.equal(0, status, err)
    local lines = support.lines(err)
    assert.equal("synclua fetch: lib/phone (this device, " .. r:id(id.phone)
      .. "): 234 events", lines[1])
    assert.equal("synclua fetch: " .. srv.address .. " (device "
      .. r:id(id.desktop) .. "): 307 events", lines[2])
    assert.matches("^synclua fetch: redacted 2 device ids, 3 peer ids, %d+ "
      .. "correlation ids, 3 ids in summaries, %d+ strings? in details "
      .. KEYED:gsub("%p", "%%%0") .. "$", lines[#lines])
    local devices = {}
    local n = 0
    for line in out:gmatch("[^\n]+") do
      local row = synclua.json_decode(line)
      devices[row.device_id] = row.device_label
      n = n + 1
    end
    assert.equal(541, n)
    assert.same({ [r:id(id.phone)] = r:id(id.phone):sub(1, 8),
                  [r:id(id.desktop)] = r:id(id.desktop):sub(1, 8) }, devices)
    for _, dev in pairs(id) do
      assert.is_nil(out:find(dev, 1, true))
      assert.is_nil(out:find(dev:sub(1, 8), 1, true))
    end
    srv:stop()
  end)

  it("refuses --save, which keeps the answers as they came", function()
    local dir = support.tmpdir()
    local out, err, status = run(dir, "fetch --peer 127.0.0.1:9 --key-file k "
      .. "--save saved --redact")
    support.rmdir(dir)
    assert.equal("", out)
    assert.equal(2, status)
    assert.equal("synclua fetch: --save keeps each peer's answer as it came, "
      .. "not redacted: save without --redact, then write it with synclua "
      .. "timeline --db DIR --redact\n", err)
  end)
end)
