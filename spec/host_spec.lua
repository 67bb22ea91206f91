-- The host program `synclua`, end to end: options, the arg table, stdin,
-- declared and bundled scripts, the REPL and Ctrl-C. Every case runs the
-- binary under test ($SYNCLUA_BIN, else build/synclua) as a child process.

local function shell_quote(s)
  return "'" .. tostring(s):gsub("'", [['\'']]) .. "'"
end

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function spit(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

local function capture(cmd)
  local p = assert(io.popen(cmd))
  local s = p:read("a")
  p:close()
  return s
end

local ROOT = capture("pwd"):gsub("\n$", "")
local BIN = os.getenv("SYNCLUA_BIN") or "build/synclua"
if BIN:sub(1, 1) ~= "/" then BIN = ROOT .. "/" .. BIN end
local VERSION = slurp(ROOT .. "/include/synclua/synclua.h"):match('#define SL_VERSION "([^"]+)"')

-- Environment variables that would change the host's behaviour, cleared for
-- every run unless a case sets them.
local CLEARED = { "SYNCLUA_HOME", "LUA_INIT", "LUA_INIT_5_4", "LUA_PATH",
                  "LUA_PATH_5_4", "LUA_CPATH", "LUA_CPATH_5_4" }

-- Runs the host with the argument list `args`. opts: stdin (text), env
-- (name -> value), dir (working directory), prefix (a command to run the
-- host under, e.g. timeout). Returns { out, err, code }.
local function synclua(args, opts)
  opts = opts or {}
  local out, err, inp = os.tmpname(), os.tmpname(), os.tmpname()
  spit(inp, opts.stdin or "")
  local words = { "env" }
  for _, name in ipairs(CLEARED) do words[#words + 1] = "-u " .. name end
  for name, value in pairs(opts.env or {}) do
    words[#words + 1] = name .. "=" .. shell_quote(value)
  end
  if opts.prefix then words[#words + 1] = opts.prefix end
  words[#words + 1] = shell_quote(BIN)
  for _, a in ipairs(args) do words[#words + 1] = shell_quote(a) end
  local cmd = table.concat(words, " ") .. " <" .. inp .. " >" .. out
    .. " 2>" .. err
  if opts.dir then cmd = "cd " .. shell_quote(opts.dir) .. " && " .. cmd end
  local _, how, code = os.execute(cmd)
  local r = { out = slurp(out), err = slurp(err),
              code = how == "exit" and code or 128 + code }
  os.remove(out)
  os.remove(err)
  os.remove(inp)
  return r
end

local function tmpdir()
  return capture("mktemp -d"):gsub("\n$", "")
end

local function rmdir(d)
  assert(d:match("^/tmp/"), d)
  os.execute("rm -rf " .. shell_quote(d))
end

local USAGE_LINE = "usage: synclua [options] [script [args]]\n"

-- Asserts that `text` begins with `prefix`.
local function starts(prefix, text)
  assert.equal(prefix, text:sub(1, #prefix))
end

local banner_text
-- What -v prints (and -i before the REPL).
local function banner()
  banner_text = banner_text or synclua({ "-v" }).out
  return banner_text
end

describe("synclua -v", function()
  it("prints the synclua and Lua versions", function()
    local r = synclua({ "-v" })
    assert.equal(0, r.code)
    assert.equal("", r.err)
    assert.matches("^synclua " .. VERSION:gsub("%.", "%%.")
      .. " %(Lua 5%.4%.%d+%)\n$", r.out)
  end)

  it("still runs the script after the version", function()
    local r = synclua({ "-v", "-e", "print('after')" })
    assert.matches("^synclua [^\n]+\nafter\n$", r.out)
  end)
end)

describe("synclua --help", function()
  it("prints the usage on stdout and exits 0", function()
    for _, opt in ipairs({ "--help", "-h" }) do
      local r = synclua({ opt })
      assert.equal(0, r.code)
      assert.equal("", r.err)
      assert.equal(USAGE_LINE, r.out:sub(1, #USAGE_LINE))
      for _, o in ipairs({ "-e stat", "-l mod", "-l g=mod", "-i ", "-v ",
                           "-E ", "-W ", "--list", "--  ", "-h, --help" }) do
        assert.truthy(r.out:find("\n  " .. o, 1, true), o)
      end
    end
  end)
end)

describe("synclua -e", function()
  it("runs the code and prints what it prints", function()
    local r = synclua({ "-e", "print(1 + 1)" })
    assert.same({ out = "2\n", err = "", code = 0 }, r)
  end)

  it("accepts the code glued to the option", function()
    local r = synclua({ "-eprint('glued')" })
    assert.same({ out = "glued\n", err = "", code = 0 }, r)
  end)

  it("runs several in order", function()
    local r = synclua({ "-e", "x = 20", "-e", "print(x + 1)" })
    assert.same({ out = "21\n", err = "", code = 0 }, r)
  end)

  it("reports an error with a traceback and exits 1", function()
    local r = synclua({ "-e", "error('boom')" })
    assert.equal(1, r.code)
    assert.equal("", r.out)
    starts("synclua: (command line):1: boom\nstack traceback:\n", r.err)
    assert.truthy(r.err:find("\n\t(command line):1: in main chunk\n", 1, true))
  end)

  it("names a non-string error object by its type", function()
    local r = synclua({ "-e", "error({})" })
    assert.equal(1, r.code)
    assert.equal("synclua: (error object is a table value)\n",
      r.err:match("^[^\n]*\n"))
  end)

  it("uses __tostring of an error object", function()
    local r = synclua({ "-e",
      "error(setmetatable({}, { __tostring = function() return 'custom' end }))" })
    assert.same({ out = "", err = "synclua: custom\n", code = 1 }, r)
  end)

  it("reports a syntax error and exits 1", function()
    local r = synclua({ "-e", "x =" })
    assert.same({ out = "",
      err = "synclua: (command line):1: unexpected symbol near <eof>\n",
      code = 1 }, r)
  end)

  it("stops at the first failing option", function()
    local r = synclua({ "-e", "error('first', 0)", "-e", "print('second')" })
    assert.equal(1, r.code)
    assert.equal("", r.out)
  end)

  it("without its argument is a usage error (exit 2)", function()
    local r = synclua({ "-e" })
    assert.equal(2, r.code)
    assert.equal("", r.out)
    starts("synclua: '-e' needs argument\n" .. USAGE_LINE, r.err)
  end)
end)

describe("synclua -l", function()
  it("requires a module into the global of its name", function()
    local r = synclua({ "-l", "synclua.cli", "-e", "print(type(_G['synclua.cli'].parse))" })
    assert.same({ out = "function\n", err = "", code = 0 }, r)
  end)

  it("requires a module into the global given with g=mod", function()
    local r = synclua({ "-l", "c=synclua.cli", "-e", "print(type(c.help))" })
    assert.same({ out = "function\n", err = "", code = 0 }, r)
  end)

  it("reports a missing module and exits 1", function()
    local r = synclua({ "-l", "no_such_module" })
    assert.equal(1, r.code)
    assert.equal("synclua: module 'no_such_module' not found:",
      r.err:match("^[^\n]*"))
  end)
end)

describe("synclua -W", function()
  it("turns warnings on", function()
    local r = synclua({ "-W", "-e", "warn('careful')" })
    assert.same({ out = "", err = "Lua warning: careful\n", code = 0 }, r)
    r = synclua({ "-e", "warn('careful')" })
    assert.same({ out = "", err = "", code = 0 }, r)
  end)
end)

describe("an unknown option", function()
  it("prints the usage on stderr and exits 2", function()
    for _, opt in ipairs({ "-x", "--bogus", "-vx", "---" }) do
      local r = synclua({ opt })
      assert.equal(2, r.code)
      assert.equal("", r.out)
      starts("synclua: unrecognized option '" .. opt .. "'\n" .. USAGE_LINE,
        r.err)
    end
  end)
end)

describe("the arg table", function()
  local dir, script
  setup(function()
    dir = tmpdir()
    script = dir .. "/show.lua"
    spit(script, [[
local t = {}
for i = -3, 3 do t[#t + 1] = i .. "=" .. tostring(arg[i]) end
print(table.concat(t, " "))
print(select("#", ...), ...)
]])
  end)
  teardown(function() rmdir(dir) end)

  it("puts the script at 0, its arguments after, options before", function()
    local r = synclua({ "-e", "x=1", script, "a", "b" })
    assert.equal(0, r.code)
    assert.equal(("-3=%s -2=-e -1=x=1 0=%s 1=a 2=b 3=nil\n2\ta\tb\n")
      :format(BIN, script), r.out)
  end)

  it("has the program at 0 and everything after when there is no script", function()
    local r = synclua({ "-e", "print(arg[-1], arg[0], arg[1], arg[2], #arg)" })
    assert.equal(("nil\t%s\t-e\t%s\t2\n")
      :format(BIN, "print(arg[-1], arg[0], arg[1], arg[2], #arg)"), r.out)
  end)

  it("takes the word after -- as the script, even if it starts with -", function()
    local r = synclua({ "--", script, "-e", "--" })
    assert.equal(0, r.code)
    assert.equal(("-3=nil -2=%s -1=-- 0=%s 1=-e 2=-- 3=nil\n2\t-e\t--\n")
      :format(BIN, script), r.out)
  end)

  it("runs a file named - after --", function()
    spit(dir .. "/-", "print('the file named dash', arg[0])\n")
    local r = synclua({ "--", "-" }, { dir = dir, stdin = "print('stdin')" })
    assert.same({ out = "the file named dash\t-\n", err = "", code = 0 }, r)
  end)
end)

describe("stdin", function()
  it("runs as a script when it is not a terminal", function()
    local r = synclua({}, { stdin = "print(1 + 1, arg[0] ~= nil, ...)\n" })
    assert.same({ out = "2\ttrue\n", err = "", code = 0 }, r)
  end)

  it("runs as the script '-' with arguments", function()
    local r = synclua({ "-", "x", "y" },
      { stdin = "print(arg[0], arg[1], select('#', ...), ...)\n" })
    assert.same({ out = "-\tx\t2\tx\ty\n", err = "", code = 0 }, r)
  end)

  it("is not read after -e", function()
    local r = synclua({ "-e", "print('e')" }, { stdin = "print('stdin')\n" })
    assert.same({ out = "e\n", err = "", code = 0 }, r)
  end)

  it("reports an error in the stdin script and exits 1", function()
    local r = synclua({}, { stdin = "error('from stdin')\n" })
    assert.equal(1, r.code)
    assert.equal("synclua: stdin:1: from stdin\n", r.err:match("^[^\n]*\n"))
  end)
end)

describe("a script file", function()
  local dir
  setup(function() dir = tmpdir() end)
  teardown(function() rmdir(dir) end)

  it("that is missing exits 3", function()
    local r = synclua({ dir .. "/missing.lua" })
    assert.same({ out = "",
      err = "synclua: cannot open " .. dir .. "/missing.lua: No such file or directory\n",
      code = 3 }, r)
    r = synclua({ "missing.lua" }, { dir = dir })
    assert.same({ out = "",
      err = "synclua: cannot open missing.lua: No such file or directory\n",
      code = 3 }, r)
  end)

  it("that raises exits 1 with the message and a traceback", function()
    spit(dir .. "/raise.lua", "local x = nil\nprint(x.field)\n")
    local r = synclua({ dir .. "/raise.lua" })
    assert.equal(1, r.code)
    assert.equal("synclua: " .. dir .. "/raise.lua:2: attempt to index a nil value (local 'x')\nstack traceback:\n",
      r.err:match("^[^\n]*\n[^\n]*\n"))
  end)

  it("with a syntax error exits 1", function()
    spit(dir .. "/syntax.lua", "if then\n")
    local r = synclua({ dir .. "/syntax.lua" })
    assert.same({ out = "",
      err = "synclua: " .. dir .. "/syntax.lua:1: unexpected symbol near 'then'\n",
      code = 1 }, r)
  end)

  it("returning anything but a declaration exits 0", function()
    spit(dir .. "/five.lua", "return 5\n")
    assert.same({ out = "", err = "", code = 0 }, synclua({ dir .. "/five.lua" }))
    spit(dir .. "/table.lua", "return { run = 'not a function' }\n")
    assert.same({ out = "", err = "", code = 0 }, synclua({ dir .. "/table.lua" }))
  end)

  it("may exit with os.exit", function()
    local r = synclua({ "-e", "os.exit(4)" })
    assert.equal(4, r.code)
    r = synclua({ "-e", "os.exit(false, true)" })
    assert.equal(1, r.code)
  end)

  it("runs from the working directory when it exists there", function()
    spit(dir .. "/plainname", "print('the local file')\n")
    local r = synclua({ "plainname" }, { dir = dir })
    assert.same({ out = "the local file\n", err = "", code = 0 }, r)
  end)
end)

describe("synclua NAME", function()
  it("with an unknown NAME exits 2 and says so", function()
    local r = synclua({ "nosuchcommand", "--flag" })
    assert.same({ out = "",
      err = "synclua: no such script or command: nosuchcommand (see synclua --list)\n",
      code = 2 }, r)
  end)
end)

describe("synclua.host", function()
  it("says where synclua lives and its version", function()
    local r = synclua({ "-e",
      "local h = require 'synclua.host' print(h.home, h.scripts, h.version)" })
    assert.same({ out = ("%s\t%s/scripts\t%s\n"):format(ROOT, ROOT, VERSION),
                  err = "", code = 0 }, r)
  end)

  it("takes the home from SYNCLUA_HOME", function()
    local r = synclua({ "-e", "print(require('synclua.host').home)" },
      { env = { SYNCLUA_HOME = "/tmp/elsewhere" } })
    assert.same({ out = "/tmp/elsewhere\n", err = "", code = 0 }, r)
  end)

  it("ignores SYNCLUA_HOME and LUA_INIT under -E", function()
    local r = synclua({ "-E", "-e", "print(require('synclua.host').home)" },
      { env = { SYNCLUA_HOME = "/tmp/elsewhere", LUA_INIT = "print('init')" } })
    assert.same({ out = ROOT .. "\n", err = "", code = 0 }, r)
  end)

  it("puts the tree's modules first on package.path", function()
    local r = synclua({ "-e", "print(package.path)" })
    starts(("%s/lua/?.lua;%s/lua/?/init.lua;%s/?.lua;"):format(ROOT, ROOT, ROOT),
      r.out)
  end)

  it("preloads synclua.core", function()
    local r = synclua({ "-e",
      "print(type(package.preload['synclua.core']), type(require('synclua.core')))" })
    assert.same({ out = "function\ttable\n", err = "", code = 0 }, r)
  end)
end)

describe("LUA_INIT", function()
  it("runs before the options", function()
    local r = synclua({ "-e", "print(x)" }, { env = { LUA_INIT = "x = 42" } })
    assert.same({ out = "42\n", err = "", code = 0 }, r)
  end)

  it("prefers LUA_INIT_5_4", function()
    local r = synclua({ "-e", "print(x)" },
      { env = { LUA_INIT = "x = 1", LUA_INIT_5_4 = "x = 54" } })
    assert.same({ out = "54\n", err = "", code = 0 }, r)
  end)

  it("runs a file given as @FILE", function()
    local f = os.tmpname()
    spit(f, "x = 'from file'\n")
    local r = synclua({ "-e", "print(x)" }, { env = { LUA_INIT = "@" .. f } })
    os.remove(f)
    assert.same({ out = "from file\n", err = "", code = 0 }, r)
  end)

  it("stops everything when it fails (exit 1)", function()
    local r = synclua({ "-e", "print('not run')" }, { env = { LUA_INIT = "error('init', 0)" } })
    assert.same({ out = "", code = 1 }, { out = r.out, code = r.code })
    assert.equal("synclua: init\n", r.err:match("^[^\n]*\n"))
  end)
end)

describe("a declared script", function()
  local dir, script
  setup(function()
    dir = tmpdir()
    script = dir .. "/prune.lua"
    spit(script, [[
local runner = require "synclua.runner"
return {
  name = "prune",
  description = "Delete events older than the retention period",
  args = {
    { "--db", metavar = "PATH", repeatable = true,
      help = "store to open (default $SYNCLUA_DB, then ./sync.db)" },
    { "--older-than", metavar = "DURATION", default = "7 days",
      help = "age limit" },
    { "--dry-run", flag = true, help = "only count" },
    { "-o", "--output", metavar = "FILE", help = "write the report here" },
    { "ID", positional = true, optional = true, help = "what to do" },
  },
  run = function(opts, argv)
    if opts.ID == "busy" then return nil, "sync.db: database is locked", "busy" end
    if opts.ID == "invalid" then return nil, "bad --since: 'x'", "invalid" end
    if opts.ID == "finding" then return nil, "found 3 gaps" end
    if opts.ID == "notfound" then
      error(runner.failure("notfound", "x.db: no such file"))
    end
    if opts.ID == "usage" then
      error(require("synclua.cli").usage_error("--db and --output clash"))
    end
    if opts.ID == "boom" then error("boom") end
    if opts.ID == "nothing" then return end
    print(#opts.db, table.concat(opts.db, ","), opts.older_than,
          opts.dry_run, opts.output, opts.ID, #argv)
    return tonumber(opts.ID) or 0
  end,
}
]])
  end)
  teardown(function() rmdir(dir) end)

  it("prints its help with --help or -h, and exits 0", function()
    local want = ([[
usage: synclua %s [options] [ID]

Delete events older than the retention period

Arguments:
  ID                         what to do

Options:
      --db PATH              store to open (default $SYNCLUA_DB, then ./sync.db)
      --older-than DURATION  age limit (default: 7 days)
      --dry-run              only count
  -o, --output FILE          write the report here
  -h, --help                 show this help and exit
      --version              show synclua's version and exit
]]):format(script)
    assert.same({ out = want, err = "", code = 0 }, synclua({ script, "--help" }))
    assert.same({ out = want, err = "", code = 0 },
      synclua({ script, "--bogus", "-h" }))
  end)

  it("receives its parsed options and the raw arguments", function()
    local r = synclua({ script, "--db", "a.db", "--db=b.db", "--dry-run",
                        "-o", "out.txt", "--older-than=2 days", "7" })
    assert.same({ out = "2\ta.db,b.db\t2 days\ttrue\tout.txt\t7\t8\n",
                  err = "", code = 7 }, r)
  end)

  it("gets defaults for what is not given", function()
    local r = synclua({ script })
    assert.same({ out = "0\t\t7 days\tfalse\tnil\tnil\t0\n", err = "", code = 0 }, r)
  end)

  it("reports a usage error as 'synclua NAME: message' and exits 2", function()
    assert.same({ out = "", code = 2,
      err = ("synclua %s: unknown option '--bogus' (see 'synclua %s --help')\n")
        :format(script, script) }, synclua({ script, "--bogus" }))
    assert.same({ out = "", code = 2,
      err = ("synclua %s: option '--db' needs a value\n"):format(script) },
      synclua({ script, "--db" }))
    assert.same({ out = "", code = 2,
      err = ("synclua %s: option '--older-than' given more than once\n"):format(script) },
      synclua({ script, "--older-than", "1", "--older-than", "2" }))
    assert.same({ out = "", code = 2,
      err = ("synclua %s: unexpected argument 'two'\n"):format(script) },
      synclua({ script, "one", "two" }))
  end)

  it("exits with the integer run returns, and 0 for nothing", function()
    assert.equal(0, synclua({ script, "nothing" }).code)
    assert.equal(5, synclua({ script, "5" }).code)
  end)

  it("maps failure codes to exit statuses", function()
    assert.same({ out = "", code = 3,
      err = ("synclua %s: sync.db: database is locked (another program, "
        .. "such as Spacedrive, is writing it; try again when it is done)\n")
        :format(script) },
      synclua({ script, "busy" }))
    assert.same({ out = "", code = 2,
      err = ("synclua %s: bad --since: 'x'\n"):format(script) },
      synclua({ script, "invalid" }))
    assert.same({ out = "", code = 1,
      err = ("synclua %s: found 3 gaps\n"):format(script) },
      synclua({ script, "finding" }))
    assert.same({ out = "", code = 3,
      err = ("synclua %s: x.db: no such file\n"):format(script) },
      synclua({ script, "notfound" }))
    assert.same({ out = "", code = 2,
      err = ("synclua %s: --db and --output clash\n"):format(script) },
      synclua({ script, "usage" }))
  end)

  it("reports any other error as an internal error and exits 1; "
     .. "SYNCLUA_DEBUG=1 adds the traceback", function()
    local r = synclua({ script, "boom" })
    assert.same({ out = "", code = 1, err = ("synclua %s: internal error: "
      .. "boom (a bug in synclua; SYNCLUA_DEBUG=1 shows where)\n")
      :format(script) }, r)
    r = synclua({ script, "boom" }, { env = { SYNCLUA_DEBUG = "1" } })
    assert.equal(1, r.code)
    assert.equal(("synclua %s: %s:24: boom\nstack traceback:\n")
      :format(script, script), r.err:match("^[^\n]*\n[^\n]*\n"))
  end)

  it("runs from stdin too, named by its declaration", function()
    local r = synclua({ "-", "--bogus" }, { stdin = slurp(script) })
    assert.same({ out = "", code = 2,
      err = "synclua prune: unknown option '--bogus' (see 'synclua prune --help')\n" }, r)
  end)
end)

describe("bundled scripts", function()
  local home
  setup(function()
    home = tmpdir()
    os.execute("mkdir " .. shell_quote(home .. "/scripts"))
    spit(home .. "/scripts/hello.lua", [[
return {
  name = "hello",
  description = "Say hello",
  args = { { "--to", metavar = "NAME", default = "world", help = "whom" } },
  run = function(opts) print("hello " .. opts.to) return 0 end,
}
]])
    spit(home .. "/scripts/a_long_name.lua", [[
return { description = "Second", run = function() end }
]])
    spit(home .. "/scripts/broken.lua", "return {\n")
    spit(home .. "/scripts/notes.txt", "not a script\n")
    spit(home .. "/scripts/quiet.lua", "return { run = function() end }\n")
  end)
  teardown(function() rmdir(home) end)

  local function env() return { env = { SYNCLUA_HOME = home } } end

  it("run by NAME from <home>/scripts", function()
    assert.same({ out = "hello world\n", err = "", code = 0 },
      synclua({ "hello" }, env()))
    assert.same({ out = "hello you\n", err = "", code = 0 },
      synclua({ "hello", "--to", "you" }, env()))
  end)

  it("that declare nothing run as plain scripts, NAME in arg[0]", function()
    -- (Kept out of `home`: --list calls each script's main chunk.)
    local other = tmpdir()
    os.execute("mkdir " .. shell_quote(other .. "/scripts"))
    spit(other .. "/scripts/plain.lua", "print(arg[0], ...)\n")
    local r = synclua({ "-e", "", "plain", "x" },
      { env = { SYNCLUA_HOME = other } })
    rmdir(other)
    assert.same({ out = "plain\tx\n", err = "", code = 0 }, r)
  end)

  it("describe themselves with NAME --help", function()
    local r = synclua({ "hello", "--help" }, env())
    assert.same({ code = 0, err = "", out = [[
usage: synclua hello [options]

Say hello

Options:
      --to NAME  whom (default: world)
  -h, --help     show this help and exit
      --version  show synclua's version and exit
]] }, r)
  end)

  it("are listed by --list, sorted, with their descriptions", function()
    local r = synclua({ "--list" }, env())
    assert.equal(0, r.code)
    assert.equal("", r.err)
    assert.equal(table.concat({
      "a_long_name  Second",
      "broken       (cannot load: " .. home .. "/scripts/broken.lua:2: unexpected symbol near <eof>)",
      "hello        Say hello",
      "quiet",
    }, "\n") .. "\n", r.out)
  end)

  it("--list takes no script", function()
    local r = synclua({ "--list", "hello" }, env())
    assert.equal(2, r.code)
    assert.equal("synclua: '--list' takes no script (got 'hello')\n",
      r.err:match("^[^\n]*\n"))
  end)

  it("--list says when there is no scripts folder (exit 3)", function()
    local r = synclua({ "--list" }, { env = { SYNCLUA_HOME = "/tmp/no/such/home" } })
    assert.same({ out = "", code = 3, err =
      "synclua: cannot list commands: /tmp/no/such/home/scripts: No such file or directory\n" }, r)
  end)
end)

describe("the REPL", function()

  it("runs statements and prints expressions and =expr", function()
    local r = synclua({ "-i" }, { stdin = "x = 1\n=x+1\nx + 10\n" })
    assert.same({ out = banner() .. "> > 2\n> 11\n> \n", err = "", code = 0 }, r)
  end)

  it("prints several results with tabs and nil", function()
    local r = synclua({ "-i" }, { stdin = "return 1, nil, 'a'\n" })
    assert.same({ out = banner() .. "> 1\tnil\ta\n> \n", err = "", code = 0 }, r)
  end)

  it("reads continuation lines for an incomplete chunk", function()
    local r = synclua({ "-i" }, { stdin = "for i = 1, 2 do\nprint(i)\nend\n" })
    assert.same({ out = banner() .. "> >> >> 1\n2\n> \n", err = "", code = 0 }, r)
  end)

  it("reports errors without the program name and goes on", function()
    local r = synclua({ "-i" }, { stdin = "error('e')\n=1\n" })
    assert.equal(banner() .. "> > 1\n> \n", r.out)
    assert.equal(0, r.code)
    assert.equal("stdin:1: e\nstack traceback:\n", r.err:match("^[^\n]*\n[^\n]*\n"))
  end)

  it("reports a chunk left incomplete at the end of input", function()
    local r = synclua({ "-i" }, { stdin = "for i = 1, 2 do\n" })
    assert.same({ out = banner() .. "> >> > \n",
                  err = "stdin:1: 'end' expected near <eof>\n", code = 0 }, r)
  end)

  it("honours _PROMPT and _PROMPT2", function()
    local r = synclua({ "-i" },
      { stdin = "_PROMPT = 'sl> ' _PROMPT2 = '..> '\nif true then\nend\n" })
    assert.same({ out = banner() .. "> sl> ..> sl> \n", err = "", code = 0 }, r)
  end)

  it("runs after the script with -i, which sees its globals", function()
    local r = synclua({ "-i", "-e", "y = 7" }, { stdin = "=y * 6\n" })
    assert.same({ out = banner() .. "> 42\n> \n", err = "", code = 0 }, r)
  end)

  it("is skipped when the script fails", function()
    local r = synclua({ "-i", "-e", "error('no', 0)" }, { stdin = "=1\n" })
    assert.same({ out = banner(), code = 1 }, { out = r.out, code = r.code })
    starts("synclua: no\nstack traceback:\n", r.err)
  end)

  it("reads lines longer than the read buffer", function()
    local long = ("x"):rep(2000)
    local r = synclua({ "-i" }, { stdin = "='" .. long .. "'\n" })
    assert.same({ out = banner() .. "> " .. long .. "\n> \n", err = "", code = 0 }, r)
  end)
end)

describe("Ctrl-C", function()
  it("interrupts running code with 'interrupted!' (exit 1)", function()
    local r = synclua({ "-e", "while true do end" },
      { prefix = "timeout --foreground --preserve-status -k 10 -s INT 1" })
    assert.equal(1, r.code)
    assert.equal("", r.out)
    assert.equal("synclua: interrupted!\nstack traceback:\n",
      r.err:match("^[^\n]*\n[^\n]*\n"))
  end)

  it("interrupts a statement in the REPL, and clears the prompt", function()
    local dir = tmpdir()
    -- The REPL reads from a fifo; SIGINT arrives while a loop runs, then
    -- at the prompt, then in the middle of an incomplete chunk.
    spit(dir .. "/drive.sh", [[
# Waits (at most 10 s) until file $1 has a line matching $2.
wait_for() {
  n=0
  while ! grep -q -e "$2" "$1" 2>/dev/null; do
    n=$((n + 1)); [ $n -gt 200 ] && return 1; sleep 0.05
  done
}
mkfifo "$D/in"
env -u SYNCLUA_HOME -u LUA_INIT -u LUA_INIT_5_4 "$BIN" -i <"$D/in" >"$D/out" 2>"$D/err" &
pid=$!
exec 3>"$D/in"
printf 'io.write("running\\n") io.flush() while true do end\n' >&3
wait_for "$D/out" '^> running$' && sleep 0.2
kill -INT $pid
wait_for "$D/err" 'interrupted!'
printf '=1+1\n' >&3
wait_for "$D/out" '^> 2$' && sleep 0.3
kill -INT $pid                                  # at the prompt
sleep 0.3
printf 'for i = 1, 2 do\n' >&3
wait_for "$D/out" '^> >> $' && sleep 0.3
kill -INT $pid                                  # in a continuation
sleep 0.3
printf '=2+2\n' >&3
exec 3>&-
n=0                                             # never leave it running
while kill -0 $pid 2>/dev/null && [ $n -lt 100 ]; do n=$((n + 1)); sleep 0.1; done
kill -9 $pid 2>/dev/null
wait $pid
echo $? >"$D/code"
]])
    os.execute(("D=%s BIN=%s sh %s"):format(shell_quote(dir), shell_quote(BIN),
      shell_quote(dir .. "/drive.sh")))
    local out, err, code = slurp(dir .. "/out"), slurp(dir .. "/err"),
      slurp(dir .. "/code")
    rmdir(dir)
    assert.equal("0\n", code)
    assert.equal(banner() .. "> running\n> 2\n> \n> >> \n> 4\n> \n", out)
    assert.equal("interrupted!\nstack traceback:\n", err:match("^[^\n]*\n[^\n]*\n"))
  end)
end)

describe("a file-size limit (ulimit -f)", function()
  it("is a failed write the store reports, not a process killed by "
     .. "SIGXFSZ", function()
    local dir = tmpdir()
    local r = synclua({ "-e", [[
local s = require "synclua"
local log = assert(s.open("big.db", { mode = "w", device_id = s.uuid(),
                                      retry_budget = 0.2 }))
for i = 1, 5000 do
  log:append{ event_type = "state_transition", summary = ("x"):rep(300) }
end
print(log:flush())
local st = log:stats()
print(st.appended, st.written + st.failed, st.failed > 0)
]] }, { dir = dir, prefix = "sh -c 'ulimit -f 200; exec \"$@\"' sh" })
    rmdir(dir)
    assert.equal("", r.err)
    assert.equal(0, r.code)
    assert.equal("nil\tbig.db: events could not be written (ioerr: disk "
                 .. "I/O error)\tioerr\n"
                 .. "5000\t5000\ttrue\n", r.out)
  end)
end)
