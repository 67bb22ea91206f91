-- The man page synclua(1) and the bash completion script: generated at
-- build time (`make all`) from the commands' declarations by
-- synclua.docgen, next to the host under test ($SYNCLUA_BIN's folder).
-- Each bundled command is described here on its own (its chunk loaded,
-- its declaration given to synclua.cli.describe), so that what the pages
-- must hold does not come from the generator.
local support = dofile("spec/fixtures/support.lua")
local cli = require "synclua.cli"
local docgen = require "synclua.docgen"

local quote = support.quote
local BUILD = support.EXE:match("^(.*)/[^/]*$")
local MAN, BASH = BUILD .. "/synclua.1", BUILD .. "/synclua.bash"

-- The bundled command names, from the scripts folder.
local function command_names()
  local names = {}
  for _, f in ipairs(support.lines(support.capture("ls scripts"))) do
    names[#names + 1] = f:match("^(.+)%.lua$")
  end
  table.sort(names)
  return names
end

-- A command's declaration, described; fails the test when the script
-- cannot be loaded (a command left out of the pages).
local function describe_command(name)
  local chunk = assert(loadfile("scripts/" .. name .. ".lua", "t",
                                setmetatable({}, { __index = _G })))
  return cli.describe(chunk())
end

-- The lines of the man page from ".SS NAME" up to the next section.
local function man_section(page, name)
  local out, inside = {}, false
  for line in page:gmatch("[^\n]*") do
    if inside and (line:match("^%.SS ") or line:match("^%.SH ")) then break end
    if inside then out[#out + 1] = line end
    if line == ".SS " .. name then inside = true end
  end
  return inside and table.concat(out, "\n") or nil
end

-- An option name or value as the page writes it.
local function roff(s)
  return (s:gsub("%-", "\\-"))
end

-- Runs bash with a completion script loaded, asks _synclua to complete
-- the command line `words` (the last word being completed) in folder
-- `dir`, and returns COMPREPLY sorted.
local function complete(script, words, dir)
  local quoted = {}
  for i, w in ipairs(words) do quoted[i] = quote(w) end
  local prog = table.concat({
    "source " .. quote(script),
    "COMP_WORDS=(" .. table.concat(quoted, " ") .. ")",
    "COMP_CWORD=" .. (#words - 1),
    "COMP_LINE=\"${COMP_WORDS[*]}\"",
    "_synclua",
    "printf '%s\\n' \"${COMPREPLY[@]}\"",
  }, "\n")
  local out, ok = support.capture((dir and ("cd " .. quote(dir) .. " && ")
    or "") .. "bash --norc --noprofile -c " .. quote(prog) .. " 2>&1")
  assert(ok, out)
  local reply = support.lines(out)
  table.sort(reply)
  return reply
end

local function sorted(list)
  local copy = { table.unpack(list) }
  table.sort(copy)
  return copy
end

describe("synclua(1), the man page", function()
  local page = support.slurp(MAN)

  it("is built beside the host", function()
    assert.is_string(page, "no " .. MAN)
  end)

  it("has its sections in order", function()
    local heads = {}
    for h in (page or ""):gmatch("\n%.SH ([^\n]+)") do heads[#heads + 1] = h end
    assert.same({ "NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "COMMANDS",
                  "EXIT STATUS", "ENVIRONMENT", "FILES", "SEE ALSO" }, heads)
  end)

  it("gives the exit statuses", function()
    local section = assert((page or ""):match("\n%.SH EXIT STATUS\n(.-)\n%.SH "))
    local codes = {}
    for code in section:gmatch("%.TP\n\\fB(%d)\\fR\n") do
      codes[#codes + 1] = code
    end
    assert.same({ "0", "1", "2", "3" }, codes)
    assert.truthy(section:find("\\fB3\\fR\nThe environment failed: a "
      .. "missing, locked, corrupt or unreadable store", 1, true))
  end)

  it("names the environment variables", function()
    local section = assert((page or ""):match("\n%.SH ENVIRONMENT\n(.-)\n%.SH "))
    local vars = {}
    for v in section:gmatch("%.TP\n%.BR? ([%u_]+)") do vars[#vars + 1] = v end
    assert.same({ "SYNCLUA_DB", "SYNCLUA_NOW", "SYNCLUA_DEBUG",
                  "SYNCLUA_UNICODE", "SYNCLUA_REDACT_KEY", "XDG_CACHE_HOME",
                  "SYNCLUA_HOME", "LUA_INIT" }, vars)
  end)

  it("has one section per bundled command, in order", function()
    local heads = {}
    for h in (page or ""):gmatch("\n%.SS ([^\n]+)") do heads[#heads + 1] = h end
    assert.same(command_names(), heads)
  end)

  for _, name in ipairs(command_names()) do
    it("documents every option of " .. name .. " and its values", function()
      local c = describe_command(name)
      local section = assert(man_section(page or "", name),
                             "no section for " .. name)
      for _, o in ipairs(c.options) do
        for _, n in ipairs(o.names) do
          local shown = o.positional and ("\\fI" .. n .. "\\fR")
                                      or ("\\fB" .. roff(n) .. "\\fR")
          assert(section:find(shown, 1, true),
                 name .. ": " .. n .. " is missing")
        end
        for _, v in ipairs(o.values or {}) do
          assert(section:find(roff(v), 1, true),
                 name .. " " .. o.names[1] .. ": value " .. v .. " is missing")
        end
      end
    end)
  end

  -- groff comes with `make deps` (groff-base): a missing one fails here.
  it("is valid roff: groff -man -ww says nothing", function()
    assert.truthy(support.capture("command -v groff"):match("[^\n]+"),
                  "groff is not installed (make deps installs groff-base)")
    local out = support.capture("groff -man -Tutf8 -ww -z " .. quote(MAN)
                                .. " 2>&1")
    assert.equal("", out)
  end)
end)

describe("the bash completion", function()
  local dir
  before_each(function() dir = support.tmpdir() end)
  after_each(function() support.rmdir(dir) end)

  it("is built beside the host and registers _synclua", function()
    local script = assert(support.slurp(BASH), "no " .. BASH)
    assert.equal("complete -F _synclua synclua\n",
                 script:match("\n(complete [^\n]*\n)$"))
  end)

  it("completes a command name", function()
    assert.same({ "events" }, complete(BASH, { "synclua", "ev" }))
  end)

  it("completes a command's option", function()
    assert.same({ "--format" }, complete(BASH, { "synclua", "events", "--for" }))
  end)

  it("offers every command and help for the first word", function()
    local want = command_names()
    want[#want + 1] = "help"
    assert.same(sorted(want), complete(BASH, { "synclua", "" }, dir))
  end)

  it("offers the program's options for a first word starting with -",
     function()
    assert.same(sorted({ "-e", "-i", "-l", "-v", "-E", "-W", "-h", "--help",
                         "--list" }), complete(BASH, { "synclua", "-" }))
  end)

  it("offers the commands after help", function()
    assert.same({ "timeline" }, complete(BASH, { "synclua", "help", "tim" }))
  end)

  it("skips the program's options and their values before the command",
     function()
    assert.same({ "--format" },
      complete(BASH, { "synclua", "-e", "x=1", "events", "--for" }))
  end)

  for _, name in ipairs(command_names()) do
    it("offers exactly the options of " .. name, function()
      local c = describe_command(name)
      local want = {}
      for _, o in ipairs(c.options) do
        if not o.positional then
          for _, n in ipairs(o.names) do want[#want + 1] = n end
        end
      end
      assert.same(sorted(want), complete(BASH, { "synclua", name, "-" }))
    end)
  end

  it("offers an enum's or a format's values after the option", function()
    local c = describe_command("events")
    local format
    for _, o in ipairs(c.options) do
      if o.names[#o.names] == "--format" then format = o end
    end
    assert(format and format.values, "events -f has no values")
    assert.same(sorted(format.values),
                complete(BASH, { "synclua", "events", "-f", "" }))
    assert.same(sorted(format.values),
                complete(BASH, { "synclua", "events", "--format", "" }))
  end)

  it("offers files after -o and --db, and nothing after --since", function()
    support.spit(dir .. "/a.db", "")
    support.spit(dir .. "/b.txt", "")
    assert.same({ "a.db", "b.txt" },
                complete(BASH, { "synclua", "events", "-o", "" }, dir))
    assert.same({ "a.db" },
                complete(BASH, { "synclua", "events", "--db", "a" }, dir))
    assert.same({}, complete(BASH, { "synclua", "events", "--since", "" }, dir))
  end)
end)

describe("synclua.docgen", function()
  local dir
  before_each(function() dir = support.tmpdir() end)
  after_each(function() support.rmdir(dir) end)

  local good = [[
return {
  name = "tally",
  description = "Count the events",
  epilog = ".dot at the start\n  kept as written\\n",
  args = {
    { "--db", type = "inputs", help = "where" },
    { "--order", type = "enum", values = { "asc", "desc" }, default = "asc",
      help = "which first" },
    { "-o", "--output", metavar = "FILE", help = "write here" },
    { "--gap", type = "duration", help = "a gap" },
    { "--quiet", flag = true, help = "say less" },
    { "FILE", positional = true, optional = true, help = "one file" },
  },
  run = function() end,
}
]]

  local function setup()
    support.spit(dir .. "/tally.lua", good)
    support.spit(dir .. "/broken.lua", "return {")
    support.spit(dir .. "/odd.lua", "return { args = { { 42 } } }")
    support.spit(dir .. "/notes.txt", "not a command")
  end

  describe("commands()", function()
    it("describes each script and says which it left out, and why", function()
      setup()
      local commands, skipped = docgen.commands(dir)
      assert.equal(1, #commands)
      assert.equal("tally", commands[1].name)
      assert.same(cli.describe(dofile(dir .. "/tally.lua")),
                  commands[1].command)
      assert.equal(2, #skipped)
      assert.equal("broken", skipped[1].name)
      assert.equal(dir .. "/broken.lua:1: unexpected symbol near <eof>",
                   skipped[1].why)
      assert.equal("odd", skipped[2].name)
      assert.equal("bad argument #1 to 'describe' (options[1]: names must "
                   .. "be strings)", skipped[2].why)
    end)

    it("returns nil, message, code for a folder it cannot list", function()
      assert.same({ nil, dir .. "/none: No such file or directory",
                    "notfound" }, { docgen.commands(dir .. "/none") })
    end)

    it("raises for a folder that is not a string", function()
      assert.equal("bad argument #1 to 'commands' (string expected, got nil)",
                   support.error_of(docgen.commands))
    end)
  end)

  describe("man()", function()
    it("writes each option with its metavar, help, values and default",
       function()
      setup()
      local page = docgen.man((docgen.commands(dir)), { version = "9.9" })
      assert.equal('.TH SYNCLUA 1 "" "synclua 9.9" "User Commands"',
                   page:match("^[^\n]*"))
      assert.equal(table.concat({
        "\\fBsynclua tally\\fR [options] [FILE]",
        ".PP",
        "Count the events.",
        ".PP",
        ".nf",
        "\\&.dot at the start",
        "  kept as written\\en",
        ".fi",
        ".TP",
        "\\fB\\-\\-db\\fR \\fIPATH\\fR",
        "where. May be given more than once.",
        ".TP",
        "\\fB\\-\\-order\\fR \\fIORDER\\fR",
        "which first. One of: \\fBasc\\fR, \\fBdesc\\fR. Default: \\fBasc\\fR.",
        ".TP",
        "\\fB\\-o\\fR, \\fB\\-\\-output\\fR \\fIFILE\\fR",
        "write here.",
        ".TP",
        "\\fB\\-\\-gap\\fR \\fIDURATION\\fR",
        "a gap.",
        ".TP",
        "\\fB\\-\\-quiet\\fR",
        "say less.",
        ".TP",
        "\\fB\\-h\\fR, \\fB\\-\\-help\\fR",
        "show this help and exit.",
        ".TP",
        "\\fB\\-\\-version\\fR",
        "show synclua's version and exit.",
        ".TP",
        "\\fIFILE\\fR",
        "one file.",
      }, "\n"), man_section(page, "tally"))
    end)
  end)

  describe("bash()", function()
    local script
    before_each(function()
      setup()
      script = dir .. "/synclua.bash"
      support.spit(script, docgen.bash((docgen.commands(dir))))
      support.spit(dir .. "/x.db", "")
    end)

    it("offers the values of an enum", function()
      assert.same({ "asc", "desc" },
                  complete(script, { "synclua", "tally", "--order", "" }))
      assert.same({ "desc" },
                  complete(script, { "synclua", "tally", "--order=d" }))
      assert.same({ "desc" },
                  complete(script, { "synclua", "tally", "--order", "=", "d" }))
    end)

    it("offers files for inputs, -o and a FILE, nothing for a duration",
       function()
      assert.same({ "x.db" }, complete(script,
        { "synclua", "tally", "--db", "x" }, dir))
      assert.same({ "x.db" }, complete(script,
        { "synclua", "tally", "--db", "a.db", "x" }, dir))
      assert.same({ "x.db" }, complete(script,
        { "synclua", "tally", "--output", "x" }, dir))
      assert.same({ "x.db" }, complete(script,
        { "synclua", "tally", "--quiet", "x" }, dir))
      assert.same({}, complete(script, { "synclua", "tally", "--gap", "" },
                               dir))
    end)

    it("offers only the commands it could describe", function()
      assert.same({ "help", "tally" }, complete(script, { "synclua", "" }))
    end)
  end)
end)
