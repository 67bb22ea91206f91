-- synclua.cli: parsing and help for declared scripts, as pure Lua.
local cli = require "synclua.cli"

local prune = {
  name = "prune",
  description = "Delete events older than the retention period",
  args = {
    { "--db", metavar = "PATH", repeatable = true,
      help = "store to open (default $SYNCLUA_DB, then ./sync.db)" },
    { "--older-than", metavar = "DURATION", default = "7 days",
      help = "age limit" },
    { "--dry-run", flag = true, help = "only count" },
    { "-o", "--output", metavar = "FILE", help = "write the report here" },
    { "ID", positional = true, optional = true, help = "one event" },
  },
  run = function() end,
}

-- The message of the usage error that parse raises.
local function usage_error(spec, argv, command)
  local ok, e = pcall(cli.parse, spec, argv, command)
  assert.is_false(ok, "parse did not fail")
  assert.is_true(cli.is_usage_error(e), "not a usage error: " .. tostring(e))
  return e.message
end

describe("cli.parse()", function()
  it("gives defaults when nothing is passed", function()
    assert.same({ db = {}, older_than = "7 days", dry_run = false },
      cli.parse(prune, {}))
  end)

  it("reads --opt value, --opt=value, -o value, flags and positionals", function()
    assert.same({
      db = { "a.db", "b.db" }, older_than = "2 days", dry_run = true,
      output = "out.txt", ID = "42",
    }, cli.parse(prune, { "--db", "a.db", "--db=b.db", "--older-than=2 days",
                          "--dry-run", "-o", "out.txt", "42" }))
  end)

  it("maps long names to keys: --older-than is older_than", function()
    assert.equal("1h", cli.parse(prune, { "--older-than", "1h" }).older_than)
  end)

  it("takes the output's long name as the key of -o, --output", function()
    assert.equal("x", cli.parse(prune, { "--output", "x" }).output)
    assert.equal("y", cli.parse(prune, { "-o", "y" }).output)
  end)

  it("accepts options after positionals", function()
    assert.same({ db = {}, older_than = "7 days", dry_run = true, ID = "7" },
      cli.parse(prune, { "7", "--dry-run" }))
  end)

  it("treats everything after -- as positional", function()
    assert.equal("--dry-run",
      cli.parse(prune, { "--", "--dry-run" }).ID)
  end)

  it("accepts '-' and negative numbers as values and positionals", function()
    local o = cli.parse(prune, { "-o", "-", "--older-than", "-5" })
    assert.equal("-", o.output)
    assert.equal("-5", o.older_than)
    assert.equal("-", cli.parse(prune, { "-" }).ID)
    assert.equal("-3", cli.parse(prune, { "-3" }).ID)
  end)

  it("accepts an empty value and one that starts with '-' after '='", function()
    assert.equal("", cli.parse(prune, { "--output=" }).output)
    assert.equal("--x", cli.parse(prune, { "--output=--x" }).output)
  end)

  it("sets opts.help for -h and --help", function()
    assert.is_true(cli.parse(prune, { "-h" }).help)
    assert.is_true(cli.parse(prune, { "--help" }).help)
    assert.is_nil(cli.parse(prune, {}).help)
  end)

  it("leaves -h to a script that declares it", function()
    local spec = { args = { { "-h", "--host", metavar = "HOST" } } }
    assert.same({ host = "example" }, cli.parse(spec, { "-h", "example" }))
  end)

  it("counts a repeatable flag", function()
    local spec = { args = { { "-v", "--verbose", flag = true, repeatable = true } } }
    assert.same({ verbose = 0 }, cli.parse(spec, {}))
    assert.same({ verbose = 3 }, cli.parse(spec, { "-v", "--verbose", "-v" }))
  end)

  it("puts the default of a repeatable option into its list", function()
    local spec = { args = { { "--db", repeatable = true, default = "sync.db" } } }
    assert.same({ db = { "sync.db" } }, cli.parse(spec, {}))
    assert.same({ db = { "x.db" } }, cli.parse(spec, { "--db", "x.db" }))
  end)

  it("collects a repeatable positional", function()
    local spec = { args = {
      { "--all", flag = true },
      { "FILE", positional = true, repeatable = true },
    } }
    assert.same({ all = true, FILE = { "a", "b", "c" } },
      cli.parse(spec, { "a", "--all", "b", "c" }))
  end)

  it("converts typed values and checks choices", function()
    local spec = { args = {
      { "--limit", type = "integer", default = 10 },
      { "--ratio", type = "number" },
      { "--format", choices = { "json", "csv" }, default = "json" },
    } }
    assert.same({ limit = 10, format = "json" }, cli.parse(spec, {}))
    local o = cli.parse(spec, { "--limit", "5", "--ratio", "0.5", "--format=csv" })
    assert.equal(5, o.limit)
    assert.equal("integer", math.type(o.limit))
    assert.equal(0.5, o.ratio)
    assert.equal("csv", o.format)
    assert.equal("option '--limit' expects an integer, got '1.5' (e.g. 10)",
      usage_error(spec, { "--limit", "1.5" }))
    assert.equal("option '--ratio' expects a number, got 'half' (e.g. 2.5)",
      usage_error(spec, { "--ratio", "half" }))
    assert.equal("option '--format' must be one of json, csv, got 'xml'",
      usage_error(spec, { "--format", "xml" }))
    assert.equal("option '--format' must be one of json, csv, got 'jsno' "
      .. "(did you mean 'json'?)", usage_error(spec, { "--format", "jsno" }))
  end)

  it("uses an explicit key", function()
    local spec = { args = { { "--since", key = "from" } } }
    assert.same({ from = "1h" }, cli.parse(spec, { "--since", "1h" }))
  end)

  describe("raises a usage error", function()
    it("for an unknown option, naming the command's help", function()
      assert.equal("unknown option '--x' (see 'synclua prune --help')",
        usage_error(prune, { "--x" }))
      assert.equal("unknown option '--x' (see 'synclua ./p.lua --help')",
        usage_error(prune, { "--x=1" }, "./p.lua"))
      assert.equal("unknown option '-q' (see '--help')",
        usage_error({ args = {} }, { "-q" }))
    end)

    it("for a short option with its value glued on", function()
      assert.equal("unknown option '-oFILE' (see 'synclua prune --help')",
        usage_error(prune, { "-oFILE" }))
    end)

    it("for an option without its value", function()
      assert.equal("option '--db' needs a value", usage_error(prune, { "--db" }))
      assert.equal("option '-o' needs a value",
        usage_error(prune, { "-o", "--dry-run" }))
    end)

    it("for a value given to a flag", function()
      assert.equal("option '--dry-run' takes no value",
        usage_error(prune, { "--dry-run=yes" }))
    end)

    it("for a non-repeatable option given twice", function()
      assert.equal("option '--older-than' given more than once",
        usage_error(prune, { "--older-than", "1h", "--older-than=2h" }))
      assert.equal("option '--output' given more than once",
        usage_error(prune, { "-o", "a", "--output", "b" }))
      assert.equal("option '--dry-run' given more than once",
        usage_error(prune, { "--dry-run", "--dry-run" }))
    end)

    it("for an argument too many", function()
      assert.equal("unexpected argument 'b'", usage_error(prune, { "a", "b" }))
    end)

    it("for a missing argument or required option", function()
      local spec = { args = {
        { "--db", required = true },
        { "ID", positional = true },
      } }
      assert.equal("option '--db' is required", usage_error(spec, { "x" }))
      assert.equal("missing argument ID", usage_error(spec, { "--db", "a" }))
    end)
  end)

  describe("checks its arguments", function()
    it("the declaration", function()
      assert.has_error(function() cli.parse(nil, {}) end,
        "bad argument #1 to 'parse' (table expected, got nil)")
    end)

    it("the argument list", function()
      assert.has_error(function() cli.parse(prune, "x") end,
        "bad argument #2 to 'parse' (table expected, got string)")
    end)

    it("each entry, blaming the caller", function()
      local ok, e = pcall(function() cli.parse({ args = { {} } }, {}) end)
      assert.is_false(ok)
      assert.matches("^spec/cli_spec%.lua:%d+: bad argument #1 to 'parse' "
        .. "%(options%[1%]: no name%)$", e)
      ok, e = pcall(function()
        cli.parse({ args = { { "db" } } }, {})
      end)
      assert.matches("^spec/cli_spec%.lua:%d+: bad argument #1 to 'parse' "
        .. "%(options%[1%]: option names start with '%-'%)$", e)
      ok, e = pcall(function()
        cli.help({ args = { { "--x", type = "date" } } })
      end)
      assert.matches("^spec/cli_spec%.lua:%d+: bad argument #1 to 'help' "
        .. "%(options%[1%]: unknown type 'date'%)$", e)
    end)
  end)
end)

describe("cli.usage_error()", function()
  it("makes an error object that prints as its message", function()
    local e = cli.usage_error("bad --since: 'x'")
    assert.is_true(cli.is_usage_error(e))
    assert.equal("bad --since: 'x'", e.message)
    assert.equal("bad --since: 'x'", tostring(e))
    assert.is_false(cli.is_usage_error("bad --since: 'x'"))
    assert.is_false(cli.is_usage_error({ message = "x" }))
  end)

  it("wants a string", function()
    assert.has_error(function() cli.usage_error(1) end,
      "bad argument #1 to 'usage_error' (string expected, got number)")
  end)
end)

describe("cli.wants_help()", function()
  it("finds -h or --help before --", function()
    assert.is_true(cli.wants_help({ "--db", "x", "--help" }))
    assert.is_true(cli.wants_help({ "-h" }))
    assert.is_false(cli.wants_help({ "--db", "x" }))
    assert.is_false(cli.wants_help({ "--", "--help" }))
    assert.is_false(cli.wants_help({ "--helpme" }))
  end)
end)

describe("cli.help()", function()
  it("renders usage, description, arguments and aligned options", function()
    assert.equal([[
usage: synclua prune [options] [ID]

Delete events older than the retention period

Arguments:
  ID                         one event

Options:
      --db PATH              store to open (default $SYNCLUA_DB, then ./sync.db)
      --older-than DURATION  age limit (default: 7 days)
      --dry-run              only count
  -o, --output FILE          write the report here
  -h, --help                 show this help and exit
      --version              show synclua's version and exit
]], cli.help(prune))
  end)

  it("uses the command as typed and a declared usage line", function()
    local spec = { name = "x", usage = "--db PATH [--dry-run]",
                   args = { { "--db", metavar = "PATH" },
                            { "--dry-run", flag = true } } }
    assert.equal([[
usage: synclua ./x.lua --db PATH [--dry-run]

Options:
      --db PATH
      --dry-run
  -h, --help     show this help and exit
      --version  show synclua's version and exit
]], cli.help(spec, "./x.lua"))
  end)

  it("names metavars after keys, shows choices, repeats and the epilog", function()
    local spec = {
      name = "events", description = "Print events",
      epilog = "Times take the --since grammar.",
      args = {
        { "--format", choices = { "json", "csv" }, default = "json",
          help = "output format" },
        { "--since-time" },
        { "FILE", positional = true, repeatable = true, optional = true,
          help = "inputs" },
        { "PEER", positional = true, repeatable = true },
      },
    }
    assert.equal([[
usage: synclua events [options] [FILE...] PEER...

Print events

Arguments:
  FILE                         inputs
  PEER

Options:
      --format FORMAT          output format (one of: json, csv) (default: json)
      --since-time SINCE_TIME
  -h, --help                   show this help and exit
      --version                show synclua's version and exit

Times take the --since grammar.
]], cli.help(spec))
  end)

  it("has a minimal form", function()
    assert.equal([[
usage: synclua script [options]

Options:
  -h, --help     show this help and exit
      --version  show synclua's version and exit
]], cli.help({}))
  end)
end)
