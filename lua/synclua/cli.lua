--- synclua.cli: the command line of declared commands (STYLE rules 20, 26).
--
-- A command declares its options as a list of entries:
--
--     { "--db", type = "inputs", help = "..." }
--     { "--gap", type = "duration", default = "30s" }
--     { "--limit", type = "int", min = 0, default = 1000 }
--     { "--order", type = "enum", values = { "asc", "desc" }, default = "asc" }
--     { "--dry-run", flag = true, help = "only count" }
--     { "-o", "--output", metavar = "FILE" }
--     { "ID", positional = true, optional = true }
--
-- Entry fields: names (options start with '-', a positional has one name),
-- `help`, `metavar`, `default`, `flag` (takes no value), `repeatable`
-- (values collect in a list; a repeatable flag counts), `required`
-- (options), `optional` (positionals), `type`, `key` (the field of opts; by
-- default the long name with dashes made underscores: `--older-than` ->
-- `older_than`, `ID` -> `ID`), and for some types `min`, `max`, `values`,
-- `list` (comma-separated items, each checked), `check` (a function
-- `check(value, ctx)` returning the value to keep, or nil and the whole
-- message of the error) and `what` (the noun of a uuid's message).
--
-- Types, each checked before anything is opened, through one error path
-- (a usage error, exit 2) whose message names the option, the value and
-- an accepted example:
--
--     string    as given
--     int       an integer (`integer` is the same), within min..max
--     number    a finite number, within min..max
--     time      a point in time as --since takes it -> integer instant
--     duration  a length of time ("30s", "10m", "2 hours", or a bare
--               number of seconds) -> integer nanoseconds
--     uuid      any spelling the uuid crate reads -> lowercase hyphenated
--     enum      one of `values` (with `list`, several, comma-separated)
--     format    one of the command's output formats (ctx.formats);
--               "md" is "markdown"
--     inputs    a sync.db, library folder, folder of devices, glob or
--               export; repeatable, and the words that follow it on the
--               command line are inputs too (a shell glob: --db lib/*)
--
-- Unknown options, commands and enum values get a "did you mean".
local synclua = require "synclua"

local M = {}

local UsageError = {}
UsageError.__index = UsageError
UsageError.__tostring = function(e) return e.message end

--- Creates a usage error: a table with `message`, printable by tostring.
-- Raise it (`error(cli.usage_error("..."))`) where the user's input is the
-- problem; synclua.runner prints it and exits with status 2.
-- @tparam string message what is wrong, naming the input
-- @treturn table the error object
function M.usage_error(message)
  if type(message) ~= "string" then
    error(("bad argument #1 to 'usage_error' (string expected, got %s)")
      :format(type(message)), 2)
  end
  return setmetatable({ message = message }, UsageError)
end

--- Is `value` a usage error (as raised by `parse`)?
-- @param value anything
-- @treturn boolean
function M.is_usage_error(value)
  return getmetatable(value) == UsageError
end

local function usage_fail(fmt, ...)
  error(M.usage_error(fmt:format(...)), 0)
end

-- The edit distance of two strings (insertions, deletions, substitutions
-- and swaps of neighbours cost 1).
local function distance(a, b)
  local prev2, prev, cur = {}, {}, {}
  for j = 0, #b do prev[j] = j end
  for i = 1, #a do
    cur = { [0] = i }
    for j = 1, #b do
      local cost = a:byte(i) == b:byte(j) and 0 or 1
      local d = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
      if i > 1 and j > 1 and a:byte(i) == b:byte(j - 1)
         and a:byte(i - 1) == b:byte(j) then
        d = math.min(d, prev2[j - 2] + 1)
      end
      cur[j] = d
    end
    prev2, prev = prev, cur
  end
  return prev[#b]
end

--- The candidate a mistyped word most likely meant, or nil: the nearest
-- by edit distance, when it is near enough (a third of the word's length,
-- at least 1, at most 3 edits) and no other candidate is as near.
-- @tparam string word
-- @tparam {string,...} candidates
-- @treturn string|nil
function M.suggest(word, candidates)
  local best, best_d, tie = nil, math.huge, false
  local lw = word:lower()
  for _, c in ipairs(candidates) do
    local d = distance(lw, c:lower())
    if d < best_d then best, best_d, tie = c, d, false
    elseif d == best_d and c ~= best then tie = true end
  end
  local limit = math.min(math.max(#word // 3, 1), 3)
  if best and best_d <= limit and not tie then return best end
  return nil
end

-- " (did you mean 'x'?)" or "".
local function did_you_mean(word, candidates, quote)
  local s = M.suggest(word, candidates)
  if not s then return "" end
  quote = quote == nil and "'" or quote
  return (" (did you mean %s%s%s?)"):format(quote, s, quote)
end
M.did_you_mean = did_you_mean

local function is_option_word(s)
  -- "-" alone (stdin/stdout) and negative numbers are values, not options.
  return s:sub(1, 1) == "-" and s ~= "-" and not s:match("^%-%d")
end

local TYPES = {
  string = true, int = true, integer = true, number = true, time = true,
  duration = true, uuid = true, enum = true, format = true, inputs = true,
}

-- Checks one declared entry and returns its normalised form.
local function entry(fname, i, e)
  local function bad(msg)
    -- bad < entry < compile < parse/help < the caller to blame
    error(("bad argument #1 to '%s' (options[%d]: %s)"):format(fname, i, msg),
          5)
  end
  if type(e) ~= "table" then bad("table expected, got " .. type(e)) end
  if #e == 0 then bad("no name") end
  local names, short, long = {}, nil, nil
  for j = 1, #e do
    local n = e[j]
    if type(n) ~= "string" or n == "" then bad("names must be strings") end
    names[j] = n
    if n:match("^%-%-") then long = long or n
    elseif n:match("^%-") then short = short or n end
  end
  local t = e.type or "string"
  if t == "integer" then t = "int" end
  if not TYPES[t] then bad("unknown type '" .. tostring(t) .. "'") end
  local values = e.values or e.choices
  if values ~= nil and type(values) ~= "table" then
    bad("values must be a list")
  end
  if values and t == "string" then t = "enum" end
  if t == "enum" and not values then bad("an enum needs values") end
  if e.check ~= nil and type(e.check) ~= "function" then
    bad("check must be a function")
  end
  local r = {
    names = names, help = e.help, default = e.default, flag = e.flag and true,
    repeatable = (e.repeatable or t == "inputs") and true,
    required = e.required and true, optional = e.optional and true,
    type = t, values = values, list = e.list and true, min = e.min,
    max = e.max, check = e.check, what = e.what, metavar = e.metavar,
    example = e.example,
  }
  if e.positional then
    if #names ~= 1 or names[1]:match("^%-") then
      bad("a positional has one name, not starting with '-'")
    end
    if r.flag then bad("a positional cannot be a flag") end
    r.positional = true
    r.display = names[1]
    r.key = e.key or names[1]:gsub("%-", "_")
  else
    if not long and not short then bad("option names start with '-'") end
    r.display = long or short
    r.short, r.long = short, long
    r.key = e.key or (long or short):gsub("^%-+", ""):gsub("%-", "_")
    r.metavar = r.metavar or (r.type == "inputs" and "PATH")
      or (r.type == "time" and "TIME") or (r.type == "duration" and "DURATION")
      or (r.type == "uuid" and "UUID") or (r.type == "int" and "N")
      or (r.type == "format" and "FORMAT") or r.key:upper()
  end
  return r
end

--- Normalises a declaration: options by name, positionals in order. Raises
-- "bad argument #1 to FNAME (...)" for a bad declaration.
-- @tparam string fname the public function, for messages
-- @tparam table spec the declaration
-- @treturn table { options, byname, positionals, builtin_help }
local function compile(fname, spec)
  if type(spec) ~= "table" then
    error(("bad argument #1 to '%s' (table expected, got %s)")
      :format(fname, type(spec)), 3)
  end
  local args = spec.options or spec.args or {}
  if type(args) ~= "table" then
    error(("bad argument #1 to '%s' (field 'options' must be a table)")
      :format(fname), 3)
  end
  local c = { options = {}, byname = {}, positionals = {}, all = {} }
  for i, e in ipairs(args) do
    local r = entry(fname, i, e)
    c.all[#c.all + 1] = r
    if r.positional then
      c.positionals[#c.positionals + 1] = r
    else
      c.options[#c.options + 1] = r
      for _, n in ipairs(r.names) do c.byname[n] = r end
    end
  end
  c.builtin_help = not c.byname["--help"] and not c.byname["-h"]
  return c
end

local function what(r)
  return r.positional and ("argument " .. r.display)
                      or ("option '" .. r.display .. "'")
end

--- A `check` for a number of seconds over 0 and at most a day (the
-- network's timeouts), or from `least` to `most`: the number, or nil and
-- the message naming `option`.
-- @tparam string option
-- @tparam[opt] number least
-- @tparam[opt] number most
-- @treturn function
function M.seconds(option, least, most)
  most = most or 86400
  local range = least and ("from %s to %s"):format(least, most)
                or ("above 0 and at most %s"):format(most)
  return function(value)
    local n = tonumber(value)
    if not n or n ~= n or n > most or (least and n < least)
       or (not least and n <= 0) then
      return nil, ("%s: a number of seconds %s expected, got '%s' (e.g. "
        .. "10)"):format(option, range, value)
    end
    return n
  end
end

--- The names of a format list, as a message lists them: "a, b or c".
-- @tparam {string,...} names
-- @treturn string
function M.either(names)
  if #names <= 1 then return names[1] or "" end
  return table.concat(names, ", ", 1, #names - 1) .. " or " .. names[#names]
end

local FORMAT_ALIASES = { md = "markdown" }

-- The example shown after a bad value: the entry's, else its default,
-- else one of its type.
local function example(r)
  if r.example then return r.example end
  if r.default ~= nil and not r.flag then return tostring(r.default) end
  return ({ int = "100", number = "2.5", duration = "30s" })[r.type] or "x"
end

-- The items of a comma-separated value, trimmed.
local function items(v)
  local out = {}
  for item in (v .. ","):gmatch("(.-),") do
    out[#out + 1] = item:match("^%s*(.-)%s*$")
  end
  return out
end

local convert_one

-- Checks and converts one value given for entry r: with `list`, each of
-- its comma-separated items, into a list.
local function convert(r, v, ctx)
  if r.list then
    local out = {}
    for i, item in ipairs(items(v)) do out[i] = convert_one(r, item, ctx) end
    return out
  end
  return convert_one(r, v, ctx)
end

function convert_one(r, v, ctx)
  local t = r.type
  if r.check then
    local value, message = r.check(v, ctx)
    if value == nil then error(M.usage_error(message), 0) end
    return value
  end
  if t == "int" or t == "number" then
    local n = tonumber(v)
    if t == "int" then n = math.tointeger(n) end
    if not n or n ~= n or n == math.huge or n == -math.huge then
      usage_fail("%s expects %s, got '%s' (e.g. %s)", what(r),
                 t == "int" and "an integer" or "a number", v, example(r))
    end
    if (r.min and n < r.min) or (r.max and n > r.max) then
      local range = r.min and r.max and ("from %s to %s"):format(r.min, r.max)
        or r.min and (r.min == 0 and "0 or more" or ("%s or more"):format(r.min))
        or ("at most %s"):format(r.max)
      usage_fail("%s must be %s, got '%s' (e.g. %s)", what(r), range, v,
                 example(r))
    end
    return n
  elseif t == "time" then
    local instant, err = synclua.parse_time(v, ctx and ctx.now)
    if not instant then usage_fail("%s: %s", r.display, err) end
    return instant
  elseif t == "duration" then
    if v:match("^%s*%d+%.?%d*%s*$") then   -- a bare number: seconds
      return math.floor(tonumber(v) * 1e9 + 0.5)
    end
    local ns, err = synclua.parse_duration(v)
    if not ns then
      usage_fail("%s: %s", r.display,
                 (err:gsub("%)$", ", or a number of seconds)")))
    end
    return ns
  elseif t == "uuid" then
    local id = synclua.parse_uuid(v)
    if not id then
      usage_fail("Invalid %s: %s (%s expects a UUID, e.g. "
                 .. "67e55044-10b1-426f-9247-bb680e5fe0c8)",
                 r.what or "UUID", v, r.display)
    end
    return id
  elseif t == "enum" then
    for _, c in ipairs(r.values) do
      if c == v then return v end
    end
    usage_fail("%s must be one of %s, got '%s'%s", what(r),
               table.concat(r.values, ", "), v, did_you_mean(v, r.values))
  elseif t == "format" then
    local names = (ctx and ctx.formats) or r.values or {}
    local name = FORMAT_ALIASES[v] or v
    for _, f in ipairs(names) do
      if f == name then return name end
    end
    usage_fail("Unknown format: %s. Use %s%s", v, M.either(names),
               did_you_mean(v, names))
  end
  return v
end

-- Keeps a value as given; `convert_all` checks them later, entry by entry.
local function store(raw, seen, r, v)
  if not r.repeatable and seen[r] then
    usage_fail("%s given more than once", what(r))
  end
  raw[r] = raw[r] or {}
  table.insert(raw[r], v)
  seen[r] = true
end

-- Converts the values given, in the order the entries are declared (so
-- that the first bad one reported is the first declared: Spacedrive's
-- order of checks, for events), into opts.
local function convert_all(c, raw, opts, ctx)
  for _, r in ipairs(c.all) do
    local given = raw[r]
    if given then
      if r.repeatable then
        local list = opts[r.key]
        for _, v in ipairs(given) do
          local value = convert(r, v, ctx)
          if r.list then
            for _, item in ipairs(value) do list[#list + 1] = item end
          else
            list[#list + 1] = value
          end
        end
      else
        opts[r.key] = convert(r, given[1], ctx)
      end
    end
  end
end

local function option_names(c)
  local names = {}
  for n in pairs(c.byname) do
    if n:match("^%-%-") then names[#names + 1] = n end
  end
  if c.builtin_help then names[#names + 1] = "--help" end
  table.sort(names)
  return names
end

--- Parses `argv` against a command's declaration.
-- Accepts `--opt value`, `--opt=value`, `-o value`; `--` ends the options.
-- Values are converted by type (see the top of this module); defaults are
-- converted too. `-h`/`--help` set opts.help and `--version` opts.version
-- unless the command declares them.
-- @tparam table spec the declaration (`{ name, options = {...}, ... }`)
-- @tparam table argv the argument strings
-- @tparam[opt] string command how the user invoked the command (`prune`,
--   `./x.lua`), for messages; default `spec.name`
-- @tparam[opt] table ctx `now` (the instant relative times count from)
--   and `formats` (the names a `format` option accepts)
-- @treturn table opts
-- @raise a usage error (see `usage_error`) when argv does not fit
function M.parse(spec, argv, command, ctx)
  local c = compile("parse", spec)
  if type(argv) ~= "table" then
    error(("bad argument #2 to 'parse' (table expected, got %s)")
      :format(type(argv)), 2)
  end
  command = command or spec.name
  local opts, seen, raw = {}, {}, {}
  for _, r in ipairs(c.options) do
    if r.repeatable then opts[r.key] = r.flag and 0 or {} end
  end
  for _, r in ipairs(c.positionals) do
    if r.repeatable then opts[r.key] = {} end
  end
  local pi, only_positional, i = 1, false, 1
  local greedy                       -- the inputs option taking more words
  while i <= #argv do
    local a = argv[i]
    if type(a) ~= "string" then
      error(("bad argument #2 to 'parse' (argv[%d] is a %s)")
        :format(i, type(a)), 2)
    end
    if not only_positional and a == "--" then
      only_positional, greedy = true, nil
    elseif not only_positional and is_option_word(a) then
      greedy = nil
      local name, value = a:match("^(%-%-[^=]+)=(.*)$")
      name = name or a
      local r = c.byname[name]
      if not r and c.builtin_help and (name == "--help" or name == "-h") then
        if value then usage_fail("option '%s' takes no value", name) end
        opts.help = true
      elseif not r and name == "--version" then
        if value then usage_fail("option '%s' takes no value", name) end
        opts.version = true
      elseif not r then
        usage_fail("unknown option '%s'%s (see '%s')", name,
          did_you_mean(name, option_names(c)),
          command and ("synclua " .. command .. " --help") or "--help")
      elseif r.flag then
        if value then usage_fail("option '%s' takes no value", name) end
        if r.repeatable then
          opts[r.key] = opts[r.key] + 1
        elseif seen[r] then
          usage_fail("%s given more than once", what(r))
        else
          opts[r.key] = true
          seen[r] = true
        end
      else
        if not value then
          value = argv[i + 1]
          if value == nil or is_option_word(value) then
            usage_fail("option '%s' needs a value", name)
          end
          i = i + 1
        end
        store(raw, seen, r, value)
        if r.type == "inputs" then greedy = r end
      end
    elseif greedy and (c.positionals[pi] == nil or a:find("[*?]")
                       or require("synclua.fs").kind(a)) then
      -- after --db, the words that are paths are inputs too (a shell
      -- glob); one that is not goes to an argument still missing
      store(raw, seen, greedy, a)
    else
      local r = c.positionals[pi]
      if not r then usage_fail("unexpected argument '%s'", a) end
      store(raw, seen, r, a)
      if not r.repeatable then pi = pi + 1 end
    end
    i = i + 1
  end
  convert_all(c, raw, opts, ctx)
  for _, r in ipairs(c.options) do
    if not seen[r] then
      if r.required then usage_fail("option '%s' is required", r.display) end
      if r.flag then
        if not r.repeatable then opts[r.key] = false end
      elseif r.default ~= nil then
        local v = r.default
        if type(v) == "string" and (r.type ~= "string" or r.check) then
          v = convert(r, v, ctx)
        end
        if r.repeatable then opts[r.key][1] = v
        else opts[r.key] = v end
      end
    end
  end
  for _, r in ipairs(c.positionals) do
    if not seen[r] then
      if not r.optional then usage_fail("missing argument %s", r.display) end
      if r.default ~= nil then
        if r.repeatable then opts[r.key][1] = r.default
        else opts[r.key] = r.default end
      end
    end
  end
  return opts
end

--- Does `argv` ask for help (`-h` or `--help` before any `--`)?
-- The runner answers that before parsing, so help works even when the rest
-- of the command line is wrong.
-- @tparam table argv the argument strings
-- @treturn boolean
function M.wants_help(argv)
  if type(argv) ~= "table" then
    error(("bad argument #1 to 'wants_help' (table expected, got %s)")
      :format(type(argv)), 2)
  end
  for _, a in ipairs(argv) do
    if a == "--" then return false end
    if a == "--help" or a == "-h" then return true end
  end
  return false
end

--- Does `argv` ask for the version (`--version` before any `--`)?
-- @tparam table argv
-- @treturn boolean
function M.wants_version(argv)
  for _, a in ipairs(argv) do
    if a == "--" then return false end
    if a == "--version" then return true end
  end
  return false
end

local function positional_usage(r)
  local s = r.display .. (r.repeatable and "..." or "")
  return r.optional and ("[" .. s .. "]") or s
end

-- The help column of an option: its help, values and default.
local function help_text(r)
  local help = r.help or ""
  local function add(s) help = help .. (help ~= "" and " " or "") .. s end
  if r.values and r.type ~= "format" then
    add("(one of: " .. table.concat(r.values, ", ") .. ")")
  end
  if r.default ~= nil and not r.flag then
    add("(default: " .. tostring(r.default) .. ")")
  end
  return help
end

-- The usage line's tail: the declared usage, else "[options]" and the
-- positionals.
local function usage_of(spec, c)
  if spec.usage then return spec.usage end
  local parts = { "[options]" }
  for _, r in ipairs(c.positionals) do
    parts[#parts + 1] = positional_usage(r)
  end
  return table.concat(parts, " ")
end

--- Renders a command's help: usage line, description, aligned options and
-- arguments, epilog. Ends with a newline.
-- @tparam table spec the declaration
-- @tparam[opt] string command how the user invoked it (default `spec.name`)
-- @treturn string
function M.help(spec, command)
  local c = compile("help", spec)
  command = command or spec.name or "script"
  local out = {}
  out[#out + 1] = ("usage: synclua %s %s"):format(command, usage_of(spec, c))
  if spec.description then
    out[#out + 1] = ""
    out[#out + 1] = spec.description
  end

  local any_short = c.builtin_help
  for _, r in ipairs(c.options) do any_short = any_short or r.short ~= nil end
  local function option_row(r)
    local left, longs = {}, {}
    for _, n in ipairs(r.names) do
      if n:match("^%-%-") then longs[#longs + 1] = n
      else left[#left + 1] = n end
    end
    for _, n in ipairs(longs) do left[#left + 1] = n end
    local s = table.concat(left, ", ")
    if not r.flag then s = s .. " " .. r.metavar end
    if any_short and not r.short then s = "    " .. s end
    return { "  " .. s, help_text(r) }
  end
  local options, arguments = {}, {}
  for _, r in ipairs(c.options) do options[#options + 1] = option_row(r) end
  if c.builtin_help then
    options[#options + 1] = { "  -h, --help", "show this help and exit" }
    options[#options + 1] = { "      --version",
                              "show synclua's version and exit" }
  end
  for _, r in ipairs(c.positionals) do
    arguments[#arguments + 1] = { "  " .. r.display, r.help or "" }
  end
  local width = 0
  for _, list in ipairs({ options, arguments }) do
    for _, row in ipairs(list) do
      if #row[1] > width then width = #row[1] end
    end
  end
  local function section(title, list)
    if #list == 0 then return end
    out[#out + 1] = ""
    out[#out + 1] = title
    for _, row in ipairs(list) do
      if row[2] == "" then out[#out + 1] = row[1]
      else
        out[#out + 1] = row[1] .. (" "):rep(width - #row[1] + 2) .. row[2]
      end
    end
  end
  section("Arguments:", arguments)
  section("Options:", options)
  if spec.epilog then
    out[#out + 1] = ""
    out[#out + 1] = spec.epilog
  end
  return table.concat(out, "\n") .. "\n"
end

--- A command's declaration as data, for generated documentation (the man
-- page, the bash completion): { name, description, usage (the usage line
-- after the command's name), epilog, options
-- = { { names, key, metavar, help, type, values, flag, repeatable,
-- required, positional, optional, default }, ... } }, positionals after
-- the options, then -h/--help unless declared.
-- @tparam table spec the declaration
-- @treturn table
function M.describe(spec)
  local c = compile("describe", spec)
  local list = {}
  local function add(r)
    local values = r.values
    if r.type == "format" and spec.formats then values = spec.formats end
    list[#list + 1] = {
      names = r.names, key = r.key, metavar = (not r.flag) and r.metavar
        or nil, help = r.help, type = r.flag and "flag" or r.type,
      values = values, flag = r.flag or false, repeatable = r.repeatable
        or false, required = r.required or false, positional = r.positional
        or false, optional = r.optional or false, default = r.default,
    }
  end
  for _, r in ipairs(c.options) do add(r) end
  if c.builtin_help then
    list[#list + 1] = { names = { "-h", "--help" }, key = "help",
      help = "show this help and exit", type = "flag", flag = true,
      repeatable = false, required = false, positional = false,
      optional = false }
    list[#list + 1] = { names = { "--version" }, key = "version",
      help = "show synclua's version and exit", type = "flag", flag = true,
      repeatable = false, required = false, positional = false,
      optional = false }
  end
  for _, r in ipairs(c.positionals) do add(r) end
  return { name = spec.name, description = spec.description,
           usage = usage_of(spec, c), epilog = spec.epilog, options = list }
end

return M
