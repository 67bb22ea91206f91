-- The hostile-store matrix (issue 10): every command `synclua --list`
-- names, run as a person runs it (`--db PATH`, in text and in each JSON
-- form it has), against every store of spec/fixtures/hostile.lua. For each
-- run: the exit status is the documented one (DESIGN.md "The command
-- line": a store that cannot be read exits 3 with one line naming it and
-- what is wrong; bad rows in a sound store never make a command fail, so
-- 0 or 1), stderr carries no Lua traceback and says nothing twice, JSON
-- on stdout decodes with lua-cjson (an independent decoder) and is valid
-- UTF-8, text on stdout carries no terminal escape from a row, and a
-- command that only reads leaves the store's folder byte-identical. (The
-- JSON is required whole of a run that exits 0 or 1: one that fails with 3
-- part-way through a corrupt file may have streamed part of it already.)
--
-- Every run is a child process; they run in parallel (PARALLEL at a time,
-- those on the locked store all at once while another process holds its
-- lock), once, in setup; each test then reads its runs' results. Each
-- command gets its own copy of the stores, so a changed file names the
-- command that changed it. SYNCLUA_HOSTILE_REPORT=FILE writes every
-- violation there, one per line (command, case, run, what).
local support = dofile("spec/fixtures/support.lua")
local hostile = dofile("spec/fixtures/hostile.lua")
local cjson = require "cjson"

local quote = support.quote

local NOW = "2025-12-04T00:00:00Z"
local PARALLEL = 4
local TIMEOUT = 30                 -- seconds any one run may take
local CLIENT = "0d6c1f2e-3a4b-4c5d-8e6f-7a8b9c0d1e2f" -- fetch's device
local SERVER = "5e7a9c1b-2d3f-4a5b-8c6d-7e8f9a0b1c2d" -- the good peer's

-- What a run on each case must give: the exit statuses allowed and, for a
-- store that cannot be read, what stderr must say (one of `says`, and of
-- `hint` when given, ignoring case) besides naming the --db path.
local EXPECT = {
  good            = { status = { 0, 1 } },
  null_columns    = { status = { 0, 1 } },
  wrong_types     = { status = { 0, 1 } },
  untyped_columns = { status = { 0, 1 } },
  invalid_utf8    = { status = { 0, 1 } },
  unknown_enums   = { status = { 0, 1 } },
  special_text    = { status = { 0, 1 } },
  empty           = { status = { 0, 1 } },
  missing    = { status = { 3 },
                 says = { "no such file", "not found", "does not exist" } },
  truncated  = { status = { 3 }, says = { "database is corrupt" } },
  corrupt    = { status = { 3 }, says = { "database is corrupt" } },
  locked     = { status = { 3 }, says = { "locked" },
                 hint = { "another program", "spacedrive" } },
  directory  = { status = { 3 },
                 says = { "no such file", "directory",
                          "not a regular file" } },
  not_sqlite = { status = { 3 }, says = { "not an sqlite database" } },
  no_table   = { status = { 3 }, says = { "no sync_event_log table" } },
}

-- Where a command's own documentation says otherwise for a case. `on`
-- says where the message must be when it is not stderr.
local CHECK_FINDING =
  "check's finding: exit 1, said on stdout (scripts/check.lua)"
local EXCEPTIONS = {
  check = {
    truncated  = { status = { 1 }, on = "stdout", why = CHECK_FINDING,
                   says = EXPECT.truncated.says },
    corrupt    = { status = { 1 }, on = "stdout", why = CHECK_FINDING,
                   says = EXPECT.corrupt.says },
    not_sqlite = { status = { 1 }, on = "stdout", why = CHECK_FINDING,
                   says = EXPECT.not_sqlite.says },
    no_table   = { status = { 1 }, on = "stdout", why = CHECK_FINDING,
                   says = EXPECT.no_table.says },
  },
  session = {
    empty = { status = { 0, 2 },
              why = "an empty log: no data (0), or no session matches the "
                .. "id (2, session --help)" },
  },
  import = {
    missing = { status = { 0 }, writes = true,
                why = "import creates a store that is not there "
                  .. "(import --help)" },
    directory = { status = { 0 }, writes = true,
                  why = "a folder is a library folder: import creates its "
                    .. "sync.db (import --help)" },
    no_table = { status = { 0 }, writes = true,
                 why = "a database without the table gets Spacedrive's "
                   .. "table, as Spacedrive itself would (synclua.h, "
                   .. "sl_store_open)" },
  },
}

-- How each command runs on the store at `db` (the arguments before the
-- format's), whether it writes the store, other invocations of it, or
-- why it is not run. A command not named here runs as `NAME --db PATH`
-- and only reads.
local INVOKE = {
  session = { args = function(db)
    return hostile.SESSION .. " --db " .. quote(db)
  end },
  import = { writes = true, args = function(db, fx)
    return "--db " .. quote(db) .. " " .. quote(fx.export)
  end },
  prune = { writes = true, also = {
    { label = "prune --dry-run", args = function(db)
      return "--dry-run --db " .. quote(db)
    end },
  } },
  fetch = { args = function(db, fx)
    return ("--peer %s --key-file %s --timeout 5 --db %s")
      :format(fx.server, quote(fx.key), quote(db))
  end },
  -- serve is run on the store, then asked for its events by fetch.
  serve = { serve = true, writes = true },
  -- push reads the store into the suite's throwaway PostgreSQL server.
  push = { args = function(db)
    return ("--to %s --library 7d1e0f4a-3b2c-4d5e-8f60-718293a4b5c6 --db %s")
      :format(quote(assert(os.getenv("SYNCLUA_PG"), "no SYNCLUA_PG: spec/run "
        .. "starts a PostgreSQL server")), quote(db))
  end },
  simulate = { skip = "writes a new library from a seed: reads no store" },
  keygen = { skip = "makes a key: reads no store" },
}

-- ------------------------------------------------------------- commands

-- The commands, as `synclua --list` names them ("NAME  description" a
-- line). When it names none, the bundled scripts (scripts/NAME.lua) stand
-- in, so that the matrix still runs, and LIST_FAILED keeps what it said
-- for the test of --list itself.
local LIST_FAILED
local function command_names()
  local out, ok = support.capture(quote(support.EXE) .. " --list 2>&1")
  local names = {}
  for line in out:gmatch("[^\n]+") do
    local name = line:match("^(%l[%w_]*)%s%s+%S")
    if name then names[#names + 1] = name end
  end
  if #names == 0 or not ok then
    LIST_FAILED = out
    names = {}
    local files = support.capture("ls " .. quote(support.root .. "/scripts"))
    for name in files:gmatch("([%w_]+)%.lua") do names[#names + 1] = name end
  end
  return names
end

-- The runs of a command, from the --format line of its --help: the
-- default; `--format json`, and `-f json` when it has -f; `--format
-- ndjson`. `decode` says how stdout must decode (nil: text).
local function format_runs(name)
  local help = support.capture(quote(support.EXE) .. " " .. name
                               .. " --help 2>&1")
  local line
  for l in help:gmatch("[^\n]+") do   -- the option's line, "--format FORMAT"
    if not line and l:match("^%s+%-.-%-%-format%s+%u") then line = l end
  end
  local runs = {}
  local default = line and line:match("%(default: (%w+)%)")
  runs[1] = { label = "default", flags = "",
              decode = (default == "json" or default == "ndjson")
                       and default or nil }
  if not line then return runs end
  local listed = {}
  for word in line:gmatch("%a+") do listed[word] = true end
  if listed.json then
    runs[#runs + 1] = { label = "--format json", flags = "--format json",
                        decode = "json" }
    if line:find("%-f, %-%-format") then
      runs[#runs + 1] = { label = "-f json", flags = "-f json",
                          decode = "json" }
    end
  end
  if listed.ndjson then
    runs[#runs + 1] = { label = "--format ndjson", flags = "--format ndjson",
                        decode = "ndjson" }
  end
  return runs
end

-- Every invocation to run (one per command, more for those with `also`),
-- and the commands skipped with their reasons.
local function variants()
  local list, skipped = {}, {}
  for _, name in ipairs(command_names()) do
    local how = INVOKE[name] or {}
    if how.skip then
      skipped[#skipped + 1] = { name = name, why = how.skip }
    else
      local runs = how.serve
        and { { label = "fetch -f json", flags = "-f json", decode = "json" } }
        or format_runs(name)
      list[#list + 1] = {
        name = name, label = name, writes = how.writes, serve = how.serve,
        args = how.args or function(db) return "--db " .. quote(db) end,
        runs = runs,
      }
      for _, extra in ipairs(how.also or {}) do
        list[#list + 1] = {
          name = name, label = extra.label, writes = extra.writes,
          args = extra.args, runs = { { label = "default", flags = "" } },
        }
      end
    end
  end
  for i, v in ipairs(list) do v.slug = ("v%02d"):format(i) end
  return list, skipped
end

local VARIANTS, SKIPPED = variants()

-- --------------------------------------------------------------- checks

local function member(list, x)
  for _, v in ipairs(list) do if v == x then return true end end
  return false
end

-- The expectation for a command on a case.
local function expectation(variant, case)
  local ex = EXCEPTIONS[variant.name] and EXCEPTIONS[variant.name][case.name]
  if ex then return ex end
  return EXPECT[case.name]
end

-- The first lines of a text, for a message.
local function head(text, n)
  local lines = {}
  for line in (text or ""):gmatch("[^\n]+") do
    lines[#lines + 1] = #line > 240 and line:sub(1, 240) .. "..." or line
    if #lines == (n or 3) then break end
  end
  return #lines > 0 and table.concat(lines, " | ") or "(empty)"
end

-- Does JSON text decode (every line of it, for ndjson)? nil or why not.
local function json_problem(text, how)
  if text == "" and how ~= "ndjson" then return "no JSON on stdout" end
  if not utf8.len(text) then
    local _, at = utf8.len(text)
    return ("stdout is not valid UTF-8 (byte %d)"):format(at)
  end
  if how == "ndjson" then
    local n = 0
    for line in text:gmatch("[^\n]+") do
      n = n + 1
      local ok, err = pcall(cjson.decode, line)
      if not ok then
        return ("ndjson line %d does not decode: %s"):format(n, err)
      end
    end
    return nil
  end
  local ok, err = pcall(cjson.decode, text)
  if not ok then return "stdout does not decode as JSON: " .. tostring(err) end
  return nil
end

-- A Lua error that reached the user: a traceback, a source position, or
-- the runner's catch-all for an error it did not expect.
local function traceback_in(err)
  if err:find("stack traceback", 1, true) then return "stack traceback" end
  local pos = err:match("[%w_./-]+%.lua:%d+:")
  if pos then return "Lua position " .. pos end
  if err:find("internal error", 1, true) then return "internal error" end
  return nil
end

-- The problems of one run (a list of strings, empty when it is right).
local function run_problems(r, variant, case, dir)
  local ex = expectation(variant, case)
  local p = {}
  local function bad(fmt, ...)
    p[#p + 1] = r.label .. ": " .. fmt:format(...)
  end
  local err, out = r.stderr or "", r.stdout or ""
  if r.status == 124 or r.status == 137 then
    bad("did not end within %d s (killed); stderr: %s", TIMEOUT, head(err))
  elseif not member(ex.status, r.status) then
    bad("exit status %s, expected %s; stderr: %s", tostring(r.status),
        table.concat(ex.status, " or "), head(err))
  end
  local tb = traceback_in(err)
  if tb then bad("a Lua error reached the user (%s): %s", tb, head(err)) end
  local seen = {}
  for line in err:gmatch("[^\n]+") do
    if seen[line] then bad("stderr says twice: %s", head(line, 1)) break end
    seen[line] = true
  end
  if ex.says then
    local on = ex.on or "stderr"
    local text = on == "stdout" and out or err
    local low = text:lower()
    local said = false
    for _, s in ipairs(ex.says) do
      said = said or low:find(s, 1, true) ~= nil
    end
    if not said then
      bad("%s does not say %q: %s", on, table.concat(ex.says, "\" or \""),
          head(text))
    elseif not text:find(dir, 1, true) then
      bad("%s does not name the store (%s/sync.db): %s", on, dir, head(text))
    end
    if ex.hint then
      local hinted = false
      for _, s in ipairs(ex.hint) do
        hinted = hinted or low:find(s, 1, true) ~= nil
      end
      if not hinted then
        bad("stderr does not say who may hold the lock (%s): %s",
            table.concat(ex.hint, " or "), head(err))
      end
    end
  end
  if r.decode and (r.status == 0 or r.status == 1) then
    local why = json_problem(out, r.decode)
    if why then bad("%s; stdout: %s", why, head(out, 2)) end
  end
  if not r.decode and out:find("\27", 1, true) then
    bad("text on stdout carries a raw ESC (a terminal escape from a row)")
  end
  return p
end

-- ----------------------------------------------------------- snapshots

-- Everything in a folder: its names, and each file's bytes.
local function snapshot(dir)
  local names = support.capture("cd " .. quote(dir)
    .. " && find . -mindepth 1 -printf '%P %y\\n' | LC_ALL=C sort")
  local parts = { names }
  for name, kind in names:gmatch("(%S+) (%a)\n") do
    if kind == "f" then
      parts[#parts + 1] = name .. "\0" .. (support.slurp(dir .. "/" .. name)
                                           or "(unreadable)")
    end
  end
  return { names = names, all = table.concat(parts, "\0") }
end

-- What changed between two snapshots, or nil.
local function changes(before, after)
  if before.all == after.all then return nil end
  if before.names ~= after.names then
    return ("the folder's files changed: before [%s], after [%s]")
      :format(before.names:gsub("\n", "; "), after.names:gsub("\n", "; "))
  end
  return "a file's bytes changed"
end

-- ----------------------------------------------------------------- runs

local ENV -- the environment of every run, set in setup

-- A job: `synclua ARGS` in the working folder, with stdout, stderr and the
-- exit status in files named after it.
local function command_job(job, args)
  return ("cd %s && %s timeout -k 5 %d %s %s </dev/null >%s 2>%s; "
          .. "echo $? >%s\n")
    :format(quote(job.cwd), ENV, TIMEOUT, quote(support.EXE), args,
            quote(job.base .. ".out"), quote(job.base .. ".err"),
            quote(job.base .. ".rc"))
end

-- A serve job: `synclua serve` on the store; once it says where it
-- listens, `synclua fetch` asks it for its events (that run's results are
-- the job's), then serve is stopped. When serve ends first (a store it
-- cannot serve), serve's own status and messages are the job's.
local function serve_job(job, db, fx)
  local b = job.base
  return table.concat({
    "cd " .. quote(job.cwd),
    ("%s timeout -k 5 %d %s serve --db %s --listen 127.0.0.1:0 "
      .. "--key-file %s --device %s --idle-timeout 5 </dev/null >%s 2>&1 &")
      :format(ENV, TIMEOUT, quote(support.EXE), quote(db), quote(fx.key),
              hostile.DEVICE, quote(b .. ".serve")),
    "pid=$!; addr=; i=0",
    "while [ $i -lt 500 ]; do",
    -- (the file may not be there yet: serve's shell makes it)
    ("  addr=$(sed -n 's/.* on \\(127\\.0\\.0\\.1:[0-9]*\\) .*/\\1/p' %s"
      .. " 2>/dev/null | head -n 1)"):format(quote(b .. ".serve")),
    "  [ -n \"$addr\" ] && break",
    "  kill -0 $pid 2>/dev/null || break",
    "  sleep 0.02; i=$((i+1))",
    "done",
    "if [ -n \"$addr\" ]; then",
    ("  %s timeout -k 5 %d %s fetch --peer \"$addr\" --key-file %s "
      .. "--device %s --timeout 5 %s </dev/null >%s 2>%s; echo $? >%s")
      :format(ENV, TIMEOUT, quote(support.EXE), quote(fx.key), CLIENT,
              job.run.flags, quote(b .. ".out"), quote(b .. ".err"),
              quote(b .. ".rc")),
    "  kill -TERM $pid 2>/dev/null; wait $pid; echo $? >"
      .. quote(b .. ".src"),
    "  cat " .. quote(b .. ".serve") .. " >>" .. quote(b .. ".err"),
    "else",
    "  wait $pid; echo $? >" .. quote(b .. ".rc"),
    "  : >" .. quote(b .. ".out"),
    "  cp " .. quote(b .. ".serve") .. " " .. quote(b .. ".err"),
    "fi",
    "",
  }, "\n")
end

-- Run job scripts, `parallel` at a time (0: all at once), in the
-- background when `background` names a file to create at the end.
local function run_jobs(dir, scripts, parallel, background)
  if #scripts == 0 then
    if background then support.spit(background, "") end
    return
  end
  local list = dir .. ".list"
  support.spit(list, table.concat(scripts, "\n") .. "\n")
  local cmd = ("xargs -a %s -P %d -n 1 sh"):format(quote(list), parallel)
  if background then
    os.execute("(" .. cmd .. "; touch " .. quote(background)
               .. ") >/dev/null 2>&1 &")
  else
    os.execute(cmd)
  end
end

-- A JSON export with device data, for import.
local EXPORT = [[
[
  {
    "id": 1,
    "timestamp": "2025-12-03T09:00:00Z",
    "device_id": "4c8e2a1f-6b3d-4e5f-9a7b-8c9d0e1f2a3b",
    "event_type": "peer_connected",
    "category": "network",
    "severity": "info",
    "summary": "Connected to peer",
    "peer_device_id": "9b2d4f60-7a1e-4c8b-b3d5-e6f708192a3b"
  }
]
]]

describe("the hostile-store matrix", function()
  it("takes its commands from synclua --list", function()
    assert(LIST_FAILED == nil, "synclua --list failed; the matrix ran the "
           .. "scripts in scripts/ instead. It said: " .. (LIST_FAILED or ""))
  end)

  it("has a sound peer for fetch to ask (synclua serve on a good store)",
     function()
    assert(peer_failed == nil, "synclua serve did not start: "
           .. tostring(peer_failed))
  end)

  local scratch, fx, server, peer_failed
  local results = {}         -- results[variant.slug][case.name] = { runs }
  local violations = {}      -- for SYNCLUA_HOSTILE_REPORT

  setup(function()
    scratch = support.tmpdir()
    local cases_dir = scratch .. "/cases"
    assert(os.execute("mkdir " .. quote(cases_dir) .. " "
                      .. quote(scratch .. "/work") .. " "
                      .. quote(scratch .. "/cache") .. " "
                      .. quote(scratch .. "/jobs") .. " "
                      .. quote(scratch .. "/lock")))
    ENV = ("SYNCLUA_DB= SYNCLUA_NOW=%s XDG_CACHE_HOME=%s"):format(
      NOW, quote(scratch .. "/cache"))
    fx = hostile.build(cases_dir)
    fx.export = scratch .. "/export.json"
    support.spit(fx.export, EXPORT)

    -- The key, and a good peer for fetch to ask (another device's store).
    fx.key = scratch .. "/key"
    local _, ok = support.capture(("cd %s && %s keygen -o key 2>&1")
                                  :format(quote(scratch), quote(support.EXE)))
    assert(ok, "synclua keygen failed")
    local peer_db = scratch .. "/peer.db"
    support.spit(peer_db, assert(support.slurp(fx.by_name.good.path)))
    assert(support.sqlite(peer_db, ("UPDATE sync_event_log SET device_id = "
                                    .. "'%s';"):format(SERVER)) == "")
    server = support.spawn(scratch, ("serve --db %s --listen 127.0.0.1:0 "
      .. "--key-file %s -q"):format(quote(peer_db), quote(fx.key)), ENV)
    local line = server:line() or ""
    fx.server = line:match(" on (127%.0%.0%.1:%d+) ")
    if not fx.server then
      -- Run the matrix anyway (fetch then finds no peer); the test of the
      -- peer itself says why.
      peer_failed = line .. "\n" .. (server:stop() or "")
      server = nil
      fx.server = "127.0.0.1:1"
    end

    -- Snapshots of the stores before anything runs on them.
    for _, case in ipairs(fx.cases) do case.before = snapshot(case.dir) end

    -- One copy of every store per command (the locked store is shared:
    -- one process holds its lock), and the job of each run.
    local scripts, locked_scripts, n = {}, {}, 0
    local lockcase = fx.by_name.locked
    for _, v in ipairs(VARIANTS) do
      local copies = scratch .. "/" .. v.slug
      assert(os.execute(("cp -a %s %s"):format(quote(cases_dir),
                                               quote(copies))))
      results[v.slug] = {}
      for _, case in ipairs(fx.cases) do
        local dir = case == lockcase and case.dir
                    or copies .. "/" .. case.name
        results[v.slug][case.name] = { dir = dir, runs = {} }
        for _, run in ipairs(v.runs) do
          n = n + 1
          local job = { base = ("%s/jobs/%04d"):format(scratch, n),
                        cwd = scratch .. "/work", run = run }
          local db = dir .. "/sync.db"
          local script = v.serve and serve_job(job, db, fx)
            or command_job(job, v.name .. " " .. v.args(db, fx) .. " "
                                .. run.flags)
          support.spit(job.base .. ".sh", script)
          local r = { label = v.label .. " " .. run.label, job = job,
                      decode = run.decode }
          table.insert(results[v.slug][case.name].runs, r)
          table.insert(case == lockcase and locked_scripts or scripts,
                       job.base .. ".sh")
        end
      end
    end

    -- The locked store's runs all at once while the lock is held, beside
    -- the others.
    local holder = hostile.lock(lockcase, scratch .. "/lock", 120)
    local locked_done = scratch .. "/locked.done"
    run_jobs(scratch .. "/jobs/locked", locked_scripts, 0, locked_done)
    run_jobs(scratch .. "/jobs/all", scripts, PARALLEL)
    support.wait_for(function() return support.exists(locked_done) end,
                     "the runs on the locked store", TIMEOUT * 3)
    holder.release()

    for _, v in ipairs(VARIANTS) do
      for _, case in ipairs(fx.cases) do
        local res = results[v.slug][case.name]
        for _, r in ipairs(res.runs) do
          local b = r.job.base
          r.stdout = support.slurp(b .. ".out") or ""
          r.stderr = support.slurp(b .. ".err") or ""
          r.status = math.tointeger(tonumber(
            (support.slurp(b .. ".rc") or ""):match("%d+") or ""))
        end
        res.after = snapshot(res.dir)
      end
    end
  end)

  teardown(function()
    if server then server:stop() end
    local path = os.getenv("SYNCLUA_HOSTILE_REPORT")
    if path then support.spit(path, table.concat(violations, "\n") .. "\n") end
    support.rmdir(scratch)
  end)

  for _, v in ipairs(VARIANTS) do
    describe(v.label, function()
      for _, c in ipairs(hostile.CASES) do
        local case_proto = { name = c.name, kind = c.kind }
        local ex = expectation(v, case_proto)
        local writes = v.writes and (c.kind == "rows" or ex.writes)
        local sentence = ("on %s (%s): exits %s%s%s, no traceback%s")
          :format(c.name, c.what, table.concat(ex.status, " or "),
                  ex.why and " (" .. ex.why .. ")" or "",
                  ex.says and ", naming the store and what is wrong" or "",
                  writes and "" or ", the store untouched")
        it(sentence, function()
          local case = fx.by_name[c.name]
          local res = results[v.slug][c.name]
          local problems = {}
          for _, r in ipairs(res.runs) do
            for _, p in ipairs(run_problems(r, v, case, res.dir)) do
              problems[#problems + 1] = p
            end
          end
          if not writes then
            local before = case.before
            local what = changes(before, res.after)
            if what then
              problems[#problems + 1] = "the store changed: " .. what
            end
          end
          for _, p in ipairs(problems) do
            violations[#violations + 1] =
              v.label .. "\t" .. c.name .. "\t" .. p
          end
          assert(#problems == 0, "\n  " .. table.concat(problems, "\n  "))
        end)
      end
    end)
  end

  for _, s in ipairs(SKIPPED) do
    pending(s.name .. ": not run (" .. s.why .. ")")
  end
end)

describe("the hostile fixtures", function()
  local scratch, fx

  setup(function()
    scratch = support.tmpdir()
    fx = hostile.build(scratch)
  end)
  teardown(function() support.rmdir(scratch) end)

  local function sql(name, query)
    return support.sqlite(fx.by_name[name].path, query)
  end

  it("give every store that is a database the five indexes and the good "
     .. "rows", function()
    for _, case in ipairs(fx.cases) do
      if case.kind == "rows" and case.name ~= "empty" then
        assert.equal("5\n", sql(case.name, "SELECT count(*) FROM "
          .. "sqlite_master WHERE type = 'index' AND name LIKE "
          .. "'idx_sync_event_log_%';"))
        assert.equal(#hostile.GOOD .. "\n", sql(case.name,
          "SELECT count(*) FROM sync_event_log WHERE id <= "
          .. #hostile.GOOD .. " AND device_id = '" .. hostile.DEVICE
          .. "' AND summary <> 'a hostile row';"))
      end
    end
    assert.equal("0\n", sql("empty", "SELECT count(*) FROM sync_event_log;"))
  end)

  it("store what each case claims", function()
    assert.equal("1\n", sql("null_columns",
      "SELECT count(*) FROM sync_event_log WHERE summary IS NULL;"))
    assert.equal("text|text|real|real|blob|blob\n", sql("wrong_types",
      "SELECT (SELECT typeof(record_count) FROM sync_event_log WHERE id = 7),"
      .. " (SELECT typeof(duration_ms) FROM sync_event_log WHERE id = 7),"
      .. " (SELECT typeof(record_count) FROM sync_event_log WHERE id = 8),"
      .. " (SELECT typeof(duration_ms) FROM sync_event_log WHERE id = 8),"
      .. " (SELECT typeof(summary) FROM sync_event_log WHERE id = 9),"
      .. " (SELECT typeof(device_id) FROM sync_event_log WHERE id = 10);"))
    assert.equal("integer|real|integer\n", sql("untyped_columns",
      "SELECT (SELECT typeof(summary) FROM sync_event_log WHERE id = 7),"
      .. " (SELECT typeof(summary) FROM sync_event_log WHERE id = 8),"
      .. " (SELECT typeof(timestamp) FROM sync_event_log WHERE id = 9);"))
    assert.equal("62616420FF2062797465\n", sql("invalid_utf8",
      "SELECT hex(summary) FROM sync_event_log WHERE id = 7;"))
    assert.equal("Exploded|WARN|misc\n", sql("unknown_enums",
      "SELECT (SELECT event_type FROM sync_event_log WHERE id = 7),"
      .. " (SELECT severity FROM sync_event_log WHERE id = 8),"
      .. " (SELECT category FROM sync_event_log WHERE id = 9);"))
    assert.equal("6E756C200020696E73696465\n", sql("special_text",
      "SELECT hex(summary) FROM sync_event_log WHERE id = 8;"))
  end)

  it("make the damaged stores fail SQLite itself", function()
    assert.matches("malformed", sql("truncated",
      "SELECT count(*), sum(length(summary)) FROM sync_event_log;"))
    assert.is_not.equal("ok\n", sql("corrupt", "PRAGMA quick_check;"))
    assert.matches("malformed", sql("corrupt",
      "SELECT max(summary) FROM sync_event_log;"))
    assert.matches("malformed", sql("corrupt", "SELECT count(*) FROM "
      .. "sync_event_log INDEXED BY idx_sync_event_log_timestamp WHERE "
      .. "timestamp > '';"))
    assert.matches("not a database", sql("not_sqlite",
      "SELECT count(*) FROM sqlite_master;"))
    assert.matches("no such table", sql("no_table",
      "SELECT count(*) FROM sync_event_log;"))
    assert.equal("d", support.capture("stat -c %F "
      .. quote(fx.by_name.directory.path)):sub(1, 1))
    assert.is_false(support.exists(fx.by_name.missing.path))
  end)

  it("lock a store so that a reader is refused", function()
    local case = fx.by_name.locked
    local lockdir = scratch .. "/lockdir"
    assert(os.execute("mkdir " .. quote(lockdir)))
    local holder = hostile.lock(case, lockdir, 20)
    local out = support.sqlite(case.path,
                               "SELECT count(*) FROM sync_event_log;")
    holder.release()
    assert.matches("locked", out)
  end)
end)

describe("cursor:bad_rows()", function()
  local synclua = require "synclua"
  local scratch, fx

  setup(function()
    scratch = support.tmpdir()
    fx = hostile.build(scratch)
  end)
  teardown(function() support.rmdir(scratch) end)

  -- Every event of a hostile store, oldest first, and the cursor's tally.
  local function read(name, filter)
    local log <close> = assert(synclua.open(fx.by_name[name].path))
    filter = filter or {}
    filter.order = "asc"
    local events = {}
    local iter, cur = log:events(filter)
    for ev in iter, cur do events[#events + 1] = ev end
    return events, cur
  end

  it("counts nothing in a sound store", function()
    local events, cur = read("good")
    assert.equal(#hostile.GOOD, #events)
    local n, ids, columns = cur:bad_rows()
    assert.equal(0, n)
    assert.same({}, ids)
    assert.same({}, columns)
  end)

  it("hands out NULLs in NOT NULL columns as empty strings, and counts "
     .. "the rows", function()
    local events, cur = read("null_columns")
    local by_id = {}
    for _, ev in ipairs(events) do by_id[ev.id] = ev end
    assert.equal("", by_id[7].summary)
    assert.equal("", by_id[8].device_id)
    assert.equal("", by_id[9].event_type)
    assert.equal("", by_id[10].category)
    assert.equal("", by_id[11].severity)
    assert.equal("", by_id[12].timestamp)
    assert.is_nil(by_id[12].instant)
    local n, ids, columns = cur:bad_rows()
    assert.equal(6, n)
    assert.same({ 7, 8, 9 }, ids)
    assert.same({ "timestamp", "device_id", "event_type", "category",
                  "severity", "summary" }, columns)
  end)

  it("leaves out counts that are not integers and optional text that is "
     .. "not text", function()
    local events, cur = read("wrong_types")
    local by_id = {}
    for _, ev in ipairs(events) do by_id[ev.id] = ev end
    assert.is_nil(by_id[7].record_count)
    assert.is_nil(by_id[7].duration_ms)
    assert.is_nil(by_id[8].record_count)
    assert.is_nil(by_id[8].duration_ms)
    assert.equal("blob summary", by_id[9].summary)
    assert.is_nil(by_id[9].details)
    assert.is_nil(by_id[9].correlation_id)
    assert.is_nil(by_id[9].model_types)
    assert.equal(1200, by_id[3].record_count)
    local n, ids, columns = cur:bad_rows()
    assert.equal(4, n)
    assert.same({ 7, 8, 9 }, ids)
    assert.same({ "device_id", "event_type", "summary", "details",
                  "correlation_id", "model_types", "record_count",
                  "duration_ms" }, columns)
  end)

  it("mends ill-formed UTF-8: U+FFFD in required text, absent optional "
     .. "text", function()
    local events, cur = read("invalid_utf8")
    local by_id = {}
    for _, ev in ipairs(events) do
      assert.truthy(utf8.len(ev.summary), ev.id)
      assert.truthy(utf8.len(ev.device_id), ev.id)
      by_id[ev.id] = ev
    end
    assert.equal("bad \u{FFFD} byte", by_id[7].summary)
    assert.equal("overlong \u{FFFD}\u{FFFD} slash", by_id[8].summary)
    assert.equal("surrogate \u{FFFD}\u{FFFD}\u{FFFD} half", by_id[9].summary)
    assert.equal("cut \u{FFFD}", by_id[10].summary)
    assert.is_nil(by_id[11].details)
    assert.is_nil(by_id[12].correlation_id)
    assert.is_nil(by_id[12].peer_device_id)
    assert.is_nil(by_id[13].model_types)
    assert.equal(5, by_id[13].record_count)
    assert.equal("2f1a8f8e\u{FFFD}", by_id[14].device_id)
    local n, _, columns = cur:bad_rows()
    assert.equal(8, n)
    assert.same({ "device_id", "summary", "details", "correlation_id",
                  "peer_device_id", "model_types" }, columns)
  end)

  it("keeps names that are no type, category or severity, and counts them",
     function()
    local events, cur = read("unknown_enums")
    assert.equal("Exploded", events[#events - 3].event_type)
    local n, ids, columns = cur:bad_rows()
    assert.equal(4, n)
    assert.same({ 7, 8, 9 }, ids)
    assert.same({ "event_type", "category", "severity" }, columns)
  end)

  it("counts only the rows handed out, and keeps the tally once closed",
     function()
    local log <close> = assert(synclua.open(fx.by_name.unknown_enums.path))
    local iter, cur = log:events{ order = "asc", limit = 8 }
    for _ in iter, cur do end
    cur:close()
    local n, ids = cur:bad_rows()
    assert.equal(2, n)
    assert.same({ 7, 8 }, ids)
  end)

  it("counts rendered rows too, whose JSON is valid UTF-8", function()
    local log <close> = assert(synclua.open(fx.by_name.invalid_utf8.path))
    local iter, cur = log:events{ render = "ndjson" }
    local text = {}
    for line in iter, cur do text[#text + 1] = line end
    local all = table.concat(text)
    assert.truthy(utf8.len(all))
    for line in all:gmatch("[^\n]+") do
      assert.is_true((pcall(cjson.decode, line)))
    end
    assert.equal(8, (cur:bad_rows()))
  end)

  it("is counted by a merge as it hands rows out (merge:bad_rows())",
     function()
    local a <close> = assert(synclua.open(fx.by_name.null_columns.path))
    local b <close> = assert(synclua.open(fx.by_name.unknown_enums.path))
    local _, ca = a:events{ order = "asc" }
    local _, cb = b:events{ order = "asc" }
    local iter, m = synclua.merge({ ca, cb })
    local rows = 0
    for _ in iter, m do rows = rows + 1 end
    local n, ids, columns = m:bad_rows()
    assert.equal(2 * #hostile.GOOD + 10, rows)
    assert.equal(10, n)
    assert.equal(3, #ids)
    assert.same({ "timestamp", "device_id", "event_type", "category",
                  "severity", "summary" }, columns)
  end)
end)
