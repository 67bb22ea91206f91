-- The command frame every command stands on (synclua.command and what it
-- gathers: synclua.cli's typed options, synclua.inputs, synclua.window,
-- synclua.output, synclua.runner's exit statuses), run as a person runs
-- the program, on a small simulated library: each case is one of the
-- complaints that led to the frame, with its exact output.
local support = dofile("spec/fixtures/support.lua")
local synclua = require "synclua"
local quote = support.quote

local NOW = "2025-12-04T00:00:00Z"

local function run(dir, args, env)
  return support.synclua(dir, args, "SYNCLUA_UNICODE=0 SYNCLUA_NOW=" .. NOW
    .. " XDG_CACHE_HOME=" .. quote(dir .. "/cache") .. " " .. (env or ""))
end

local dir
setup(function()
  dir = support.tmpdir()
  local _, err, status = run(dir, "simulate --out lib --devices 3 --hours 6 "
                                  .. "--seed 3")
  assert(status == 0, err)
end)
teardown(function() support.rmdir(dir) end)

describe("inputs", function()
  it("read the same device once, whether given twice or as a folder and "
     .. "its file", function()
    local once = run(dir, "lost_data --db lib/phone")
    local out, err, status = run(dir, "lost_data --db lib/phone --db "
                                      .. "lib/phone/sync.db")
    assert.equal(once, out)
    assert.equal("synclua lost_data: note: lib/phone and lib/phone/sync.db "
                 .. "are the same store: read once\n", err)
    assert.equal(1, status)
  end)

  it("read a store and its own export once, and refuse two different "
     .. "logs of one device", function()
    local _, _, s1 = run(dir, "events --db lib/phone -f sql --limit 0 "
                              .. "-o phone.sql")
    assert.equal(0, s1)
    local once = run(dir, "timeline --db lib/phone --db lib/desktop")
    local out, err, status = run(dir, "timeline --db lib/phone --db "
                                      .. "lib/desktop --db phone.sql")
    assert.equal(once, out)
    assert.equal("synclua timeline: note: phone.sql holds the same events "
                 .. "as lib/phone (device e3830d21): read once\n", err)
    assert.equal(0, status)
    run(dir, "events --db lib/phone -f sql --limit 10 -o part.sql")
    out, err, status = run(dir, "timeline --db lib/phone --db part.sql")
    assert.equal("", out)
    assert.equal("synclua timeline: lib/phone and part.sql both hold device "
                 .. "e3830d21-dc85-4216-bdb6-44e0c849ee7a, but different "
                 .. "events (128 events and 10 events): give one of them\n",
                 err)
    assert.equal(2, status)
  end)

  it("take a folder of devices, labelled by its devices.json", function()
    local out, err, status = run(dir, "which_peer --db lib")
    assert.equal("", err)
    assert.equal(0, status)
    assert.equal("window: all events (UTC); 245 events: desktop 117, "
                 .. "laptop 0, phone 128", out:match("\n([^\n]*)"))
  end)

  it("take a glob, quoted or expanded by the shell (devices.json lends "
     .. "its names)", function()
    local want = run(dir, "which_peer --db lib")
    assert.equal(want, (run(dir, "which_peer --db 'lib/*'")))
    assert.equal(want, (run(dir, "which_peer --db lib/*")))
  end)

  it("take $SYNCLUA_DB as a ':'-separated list", function()
    local want = run(dir, "which_peer --db lib/desktop --db lib/laptop")
    assert.equal(want, (run(dir, "which_peer",
                            "SYNCLUA_DB=lib/desktop:lib/laptop")))
  end)

  it("name what is missing, exit 3, and create nothing", function()
    local out, err, status = run(dir, "why_failed --db lib/lapton")
    assert.equal("", out)
    assert.equal("synclua why_failed: lib/lapton: no such file\n", err)
    assert.equal(3, status)
    assert.is_false(support.exists(dir .. "/lib/lapton"))
    _, err, status = run(dir, "why_failed --db 'nowhere/*'")
    assert.equal("synclua why_failed: nowhere/*: no file matches\n", err)
    assert.equal(3, status)
  end)
end)

describe("the window", function()
  it("with no events is no clean verdict, in text and JSON", function()
    local out, err, status = run(dir, "why_failed --db lib --since "
                                      .. "'2 hours ago'")
    assert.equal("", err)
    assert.equal(0, status)
    assert.equal("no events between 2025-12-03 22:00:00 and 2025-12-04 "
      .. "00:00:00 (the log spans 2025-12-01 00:59:58 to 2025-12-01 "
      .. "01:35:13)\nwindow: from 2025-12-03 22:00:00 to 2025-12-04 00:00:00 "
      .. "(UTC); 0 events: desktop 0, laptop 0, phone 0\n", out)
    local r = synclua.json_decode((run(dir, "lost_data --db lib --since "
                                            .. "'2 hours ago' -f json")))
    assert.equal("no_data", r.status)
    assert.equal(0, r.exit)
    assert.equal(0, r.window.events)
    assert.equal("2025-12-03T22:00:00Z", r.window.since)
    assert.equal("2025-12-04T00:00:00Z", r.window["until"])
  end)

  it("means [since, now] on every command", function()
    local r = synclua.json_decode((run(dir, "why_slow --db lib -f json "
                                            .. "--since 2025-12-01T01:20:00Z")))
    assert.equal("2025-12-01T01:20:00Z", r.window.since)
    assert.equal("2025-12-04T00:00:00Z", r.window["until"])
    assert.equal(4, r.window.events)
    -- a row after now is outside, for events, the timeline and reports
    assert.equal("", support.sqlite(dir .. "/lib/phone/sync.db",
      "INSERT INTO sync_event_log (timestamp, device_id, event_type, "
      .. "category, severity, summary) SELECT '2025-12-05T00:00:00+00:00', "
      .. "device_id, 'state_transition', 'lifecycle', 'info', 'future' FROM "
      .. "sync_event_log LIMIT 1"))
    local since = " --since 2025-12-01T01:20:00Z"
    local ev = run(dir, "events --db lib/phone -f ndjson --limit 0" .. since)
    assert.is_nil(ev:find("future", 1, true))
    local tl = run(dir, "timeline --db lib -f ndjson" .. since)
    assert.is_nil(tl:find("future", 1, true))
    r = synclua.json_decode((run(dir, "why_slow --db lib -f json" .. since)))
    assert.equal(4, r.window.events)
    local all = run(dir, "events --db lib/phone -f ndjson --limit 0")
    assert.truthy(all:find("future", 1, true))
    assert.equal("", support.sqlite(dir .. "/lib/phone/sync.db",
      "DELETE FROM sync_event_log WHERE summary = 'future'"))
  end)

  it("refuses --since after --until, naming both", function()
    local _, err, status = run(dir, "events --db lib/desktop --since "
      .. "2025-12-02T00:00:00Z --until 2025-12-01T00:00:00Z")
    assert.equal("synclua events: --since (2025-12-02 00:00:00) is after "
                 .. "--until (2025-12-01 00:00:00)\n", err)
    assert.equal(2, status)
  end)
end)

describe("options", function()
  it("have the same names on every command: -f/--format and -o", function()
    local a = run(dir, "why_failed --db lib -f json")
    local b = run(dir, "why_failed --db lib --format json")
    assert.equal(a, b)
    assert.equal("table", type(synclua.json_decode(a)))
    local md = run(dir, "why_failed --db lib -f md")
    assert.matches("^# why_failed: sync failed", md)
  end)

  it("are typed: a bare number is seconds for a duration", function()
    local a = run(dir, "why_slow --db lib --gap 30")
    assert.equal(a, (run(dir, "why_slow --db lib --gap 30s")))
    local _, err, status = run(dir, "why_slow --db lib --gap soon")
    assert.equal("synclua why_slow: --gap: Invalid duration: soon (e.g. "
      .. "'7 days', '1 hour', '90m' or '2h', or a number of seconds)\n", err)
    assert.equal(2, status)
  end)

  it("get a 'did you mean' when mistyped, as commands do", function()
    local _, err, status = run(dir, "events --limt 3")
    assert.equal("synclua events: unknown option '--limt' (did you mean "
                 .. "'--limit'?) (see 'synclua events --help')\n", err)
    assert.equal(2, status)
    _, err, status = run(dir, "evnets")
    assert.equal("synclua: no such script or command: evnets (did you mean "
                 .. "'events'?) (see synclua --list)\n", err)
    assert.equal(2, status)
    _, err = run(dir, "timeline --db lib --order dec")
    assert.equal("synclua timeline: option '--order' must be one of asc, "
                 .. "desc, got 'dec' (did you mean 'desc'?)\n", err)
  end)

  it("include --version and --help on every command, and synclua help",
     function()
    local out, _, status = run(dir, "why_slow --version")
    assert.equal("synclua " .. synclua.version .. " (" .. _VERSION .. ")\n",
                 out)
    assert.equal(0, status)
    local help = run(dir, "help sessions")
    assert.equal(help, (run(dir, "sessions --help")))
    assert.matches("^usage: synclua sessions %[options%]\n", help)
    local list = run(dir, "help")
    assert.matches("\nsessions +Every backfill and catch%-up session", list)
  end)

  it("are checked before any input is opened", function()
    local _, err, status = run(dir, "lost_data --db nowhere --grace x")
    assert.matches("^synclua lost_data: %-%-grace: Invalid duration: x", err)
    assert.equal(2, status)
  end)
end)

describe("output", function()
  it("with -o is written atomically: a failed run leaves no file, and "
     .. "an existing one as it was", function()
    support.spit(dir .. "/keep.txt", "mine\n")
    local _, _, status = run(dir, "why_failed --db lib/missing -o keep.txt")
    assert.equal(3, status)
    assert.equal("mine\n", support.slurp(dir .. "/keep.txt"))
    _, _, status = run(dir, "why_failed --db lib -o new.txt")
    assert.equal(1, status)
    assert.matches("^sync failed", support.slurp(dir .. "/new.txt"))
    -- a command that fails after it began to write: no file, no temporary
    support.spit(dir .. "/half.lua", [[
      return require("synclua.command"){ name = "half", formats = { "text" },
        run = function(ctx)
          ctx.out:write("half\n")
          if ctx.opts.db[1] == "lib/phone" then error("boom") end
          return nil, "it broke", "ioerr"
        end }
    ]])
    local err
    _, err, status = run(dir, "half.lua --db lib/desktop -o half.txt")
    assert.equal("synclua half.lua: it broke\n", err)
    assert.equal(3, status)
    _, _, status = run(dir, "half.lua --db lib/phone -o half.txt")
    assert.equal(1, status)
    assert.is_false(support.exists(dir .. "/half.txt"))
    assert.is_nil(support.listing(dir):find("synclua%-"))
    -- nor onto an input
    support.spit(dir .. "/keep2.db", support.slurp(dir
                                                   .. "/lib/desktop/sync.db"))
    _, err, status = run(dir, "events --db keep2.db -f sql -o keep2.db")
    assert.equal("synclua events: -o keep2.db is the input keep2.db: "
                 .. "refusing to write over it\n", err)
    assert.equal(2, status)
  end)

  it("with -o onto a device or a pipe writes into it, never replacing it",
     function()
    local lfs = require "lfs"
    local _, err, status = run(dir, "events --db lib/desktop -f ndjson "
                                    .. "-o /dev/null")
    assert.equal("", err)
    assert.equal(0, status)
    assert.equal("char device", lfs.attributes("/dev/null", "mode"))
    assert(os.execute("mkfifo " .. support.quote(dir .. "/pipe")))
    local reader = io.popen("cat " .. support.quote(dir .. "/pipe")
                            .. " | wc -l")
    _, err, status = run(dir, "events --db lib/desktop -f ndjson -o pipe")
    local lines = reader:read("a")
    reader:close()
    assert.equal("", err)
    assert.equal(0, status)
    assert.equal("117\n", lines)
    assert.equal("named pipe", lfs.attributes(dir .. "/pipe", "mode"))
  end)

  it("says on stderr what --limit cut, and keeps stdout as Spacedrive "
     .. "prints it", function()
    local out, err = run(dir, "events --db lib/desktop -f ndjson --limit 5")
    assert.equal(5, select(2, out:gsub("\n", "")))
    assert.equal("synclua events: 5 of 117 events; --limit 0 for all\n", err)
    local out2, err2 = run(dir, "events --db lib/desktop -f sql -o d.sql "
                                .. "--limit 100")
    assert.equal("Exported 100 events to d.sql\n", out2)
    assert.equal("synclua events: 100 of 117 events; --limit 0 for all\n",
                 err2)
  end)
end)

describe("errors", function()
  it("never show a traceback unless SYNCLUA_DEBUG=1", function()
    support.spit(dir .. "/boom.lua", [[
      return require("synclua.command"){ name = "boom", inputs = false,
        run = function() local t = nil; return t.x end }
    ]])
    local _, err, status = run(dir, "boom.lua")
    assert.equal("synclua boom.lua: internal error: attempt to index a nil "
      .. "value (local 't') (a bug in synclua; SYNCLUA_DEBUG=1 shows where)\n",
      err)
    assert.equal(1, status)
    _, err = run(dir, "boom.lua", "SYNCLUA_DEBUG=1")
    assert.matches("\nstack traceback:\n", err)
  end)
end)

describe("bad rows", function()
  it("are said once per store on stderr, however many queries read them",
     function()
    local db = dir .. "/bad.db"
    assert.equal("", support.sqlite(db, support.DDL:gsub(" NOT NULL", "")))
    support.insert_rows(db, {
      { timestamp = "2025-12-03T10:00:00+00:00", summary = nil },
      { timestamp = "2025-12-03T10:00:01+00:00", event_type = "Exploded",
        summary = "x" },
      { timestamp = "2025-12-03T10:00:02+00:00", event_type = "sync_error",
        category = "error", severity = "error",
        summary = "Buffer overflow: 5 updates dropped during backfill" } })
    local out, err, status = run(dir, "events --db bad.db -f ndjson")
    assert.equal(0, status)
    assert.equal(3, select(2, out:gsub("\n", "")))
    assert.equal("synclua events: warning: 2 events that Spacedrive's "
      .. "reader skips are written last (see synclua check)\n"
      .. "synclua events: warning: bad.db: 2 rows with values "
      .. "Spacedrive cannot read (event_type, summary; ids 1, 2): shown as "
      .. "read leniently\n", err)
    -- Spacedrive's rows first, in its order; the two it skips after them.
    assert.equal('"summary":"Buffer overflow: 5 updates dropped during '
      .. 'backfill"', out:match('"summary":"[^"]*"'))
    _, err, status = run(dir, "report --db bad.db")
    assert.equal(1, status)
    -- the report's queries select types: the unknown one is not read
    assert.equal("synclua report: warning: bad.db: 1 row with values "
      .. "Spacedrive cannot read (summary; id 1): shown as read "
      .. "leniently\n", err)
  end)
end)

describe("fmt.printable()", function()
  it("shows control characters as \\xNN and a line break as a space",
     function()
    local fmt = require "synclua.fmt"
    assert.equal("a\\x1b[31mb c\\x00d\\x7f", fmt.printable("a\27[31mb\nc\0d\127"))
    assert.equal("", fmt.printable(nil))
    assert.equal("→ ok", fmt.printable("→ ok"))
  end)
end)

describe("the filter key 'to'", function()
  it("is 'until' under a name Lua lets a table constructor use", function()
    local log <close> = assert(synclua.open(dir .. "/lib/desktop"))
    local t = synclua.parse_time("2025-12-01T01:00:00Z")
    assert.equal(log:count{ ["until"] = t }, log:count{ to = t })
    assert.is_true(log:count{ to = t } > 0)
  end)
end)
