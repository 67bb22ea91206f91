--- synclua.cli: command-line arguments of declared scripts (STYLE rule 20).
--
-- A script declares its arguments as a list of entries:
--
--     { "--db", metavar = "PATH", help = "...", repeatable = true }
--     { "--older-than", metavar = "DURATION", default = "7 days" }
--     { "--dry-run", flag = true, help = "only count" }
--     { "-o", "--output", metavar = "FILE" }
--     { "ID", positional = true, optional = true }
--
-- Entry fields: names (options start with '-', a positional has one name),
-- `help`, `metavar`, `default`, `flag` (takes no value), `repeatable`
-- (values collect in a list; a repeatable flag counts), `required`
-- (options), `optional` (positionals), `type` ("string", "integer",
-- "number"), `choices` (a list of accepted strings), `key` (the field of
-- opts; by default the long name with dashes made underscores:
-- `--older-than` -> `older_than`, `ID` -> `ID`).
--
-- `parse` returns the options table: flags true/false (a repeatable flag
-- its count), values as strings (or numbers with `type`), repeatable
-- entries always a list (empty when not given), absent values their
-- default or nil. `-h`/`--help` set `opts.help` unless the script declares
-- them. Bad usage raises a usage error object (see `usage_error`).
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

local function is_option_word(s)
  -- "-" alone (stdin/stdout) and negative numbers are values, not options.
  return s:sub(1, 1) == "-" and s ~= "-" and not s:match("^%-%d")
end

-- Checks one declared entry and returns its normalised form.
local function entry(fname, i, e)
  local function bad(msg)
    -- bad < entry < compile < parse/help < the caller to blame
    error(("bad argument #1 to '%s' (args[%d]: %s)"):format(fname, i, msg), 5)
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
  local r = {
    names = names, help = e.help, default = e.default, flag = e.flag and true,
    repeatable = e.repeatable and true, required = e.required and true,
    optional = e.optional and true, type = e.type or "string",
    choices = e.choices, metavar = e.metavar,
  }
  if r.type ~= "string" and r.type ~= "integer" and r.type ~= "number" then
    bad("unknown type '" .. tostring(r.type) .. "'")
  end
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
    r.metavar = r.metavar or r.key:upper()
  end
  return r
end

-- Normalises a declaration: options by name, positionals in order.
local function compile(fname, spec)
  if type(spec) ~= "table" then
    error(("bad argument #1 to '%s' (table expected, got %s)")
      :format(fname, type(spec)), 3)
  end
  local args = spec.args or {}
  if type(args) ~= "table" then
    error(("bad argument #1 to '%s' (field 'args' must be a table)")
      :format(fname), 3)
  end
  local c = { options = {}, byname = {}, positionals = {} }
  for i, e in ipairs(args) do
    local r = entry(fname, i, e)
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

-- Checks and converts one value given for entry r.
local function convert(r, v)
  if r.choices then
    local ok = false
    for _, c in ipairs(r.choices) do
      if c == v then ok = true break end
    end
    if not ok then
      usage_fail("%s must be one of %s (got '%s')", what(r),
        table.concat(r.choices, ", "), v)
    end
  end
  if r.type == "integer" then
    local n = math.tointeger(tonumber(v))
    if not n then usage_fail("%s expects an integer, got '%s'", what(r), v) end
    return n
  elseif r.type == "number" then
    local n = tonumber(v)
    if not n then usage_fail("%s expects a number, got '%s'", what(r), v) end
    return n
  end
  return v
end

local function store(opts, seen, r, v)
  if r.repeatable then
    local list = opts[r.key]
    list[#list + 1] = v
  elseif seen[r] then
    usage_fail("%s given more than once", what(r))
  else
    opts[r.key] = v
  end
  seen[r] = true
end

--- Parses `argv` against a script's declaration.
-- Accepts `--opt value`, `--opt=value`, `-o value`; `--` ends the options.
-- @tparam table spec the declaration (`{ name, args = {...}, ... }`)
-- @tparam table argv the argument strings
-- @tparam[opt] string command how the user invoked the script (`prune`,
--   `./x.lua`), for messages; default `spec.name`
-- @treturn table opts
-- @raise a usage error (see `usage_error`) when argv does not fit
function M.parse(spec, argv, command)
  local c = compile("parse", spec)
  if type(argv) ~= "table" then
    error(("bad argument #2 to 'parse' (table expected, got %s)")
      :format(type(argv)), 2)
  end
  command = command or spec.name
  local opts, seen = {}, {}
  for _, r in ipairs(c.options) do
    if r.repeatable then opts[r.key] = r.flag and 0 or {} end
  end
  for _, r in ipairs(c.positionals) do
    if r.repeatable then opts[r.key] = {} end
  end
  local pi, only_positional, i = 1, false, 1
  while i <= #argv do
    local a = argv[i]
    if type(a) ~= "string" then
      error(("bad argument #2 to 'parse' (argv[%d] is a %s)")
        :format(i, type(a)), 2)
    end
    if not only_positional and a == "--" then
      only_positional = true
    elseif not only_positional and is_option_word(a) then
      local name, value = a:match("^(%-%-[^=]+)=(.*)$")
      name = name or a
      local r = c.byname[name]
      if not r and c.builtin_help and (name == "--help" or name == "-h") then
        if value then usage_fail("option '%s' takes no value", name) end
        opts.help = true
      elseif not r then
        usage_fail("unknown option '%s' (see '%s')", name,
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
        store(opts, seen, r, convert(r, value))
      end
    else
      local r = c.positionals[pi]
      if not r then usage_fail("unexpected argument '%s'", a) end
      store(opts, seen, r, convert(r, a))
      if not r.repeatable then pi = pi + 1 end
    end
    i = i + 1
  end
  for _, r in ipairs(c.options) do
    if not seen[r] then
      if r.required then usage_fail("option '%s' is required", r.display) end
      if r.flag then
        if not r.repeatable then opts[r.key] = false end
      elseif r.default ~= nil then
        if r.repeatable then opts[r.key][1] = r.default
        else opts[r.key] = r.default end
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

local function positional_usage(r)
  local s = r.display .. (r.repeatable and "..." or "")
  return r.optional and ("[" .. s .. "]") or s
end

--- Renders a script's help: usage line, description, aligned options and
-- arguments, epilog. Ends with a newline.
-- @tparam table spec the declaration
-- @tparam[opt] string command how the user invoked it (default `spec.name`)
-- @treturn string
function M.help(spec, command)
  local c = compile("help", spec)
  command = command or spec.name or "script"
  local out = {}
  local usage = spec.usage
  if not usage then
    local parts = { "[options]" }
    for _, r in ipairs(c.positionals) do
      parts[#parts + 1] = positional_usage(r)
    end
    usage = table.concat(parts, " ")
  end
  out[#out + 1] = ("usage: synclua %s %s"):format(command, usage)
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
    local help = r.help or ""
    if r.choices then
      help = help .. (help ~= "" and " " or "")
        .. "(one of: " .. table.concat(r.choices, ", ") .. ")"
    end
    if r.default ~= nil and not r.flag then
      help = help .. (help ~= "" and " " or "")
        .. "(default: " .. tostring(r.default) .. ")"
    end
    return { "  " .. s, help }
  end
  local options, arguments = {}, {}
  for _, r in ipairs(c.options) do options[#options + 1] = option_row(r) end
  if c.builtin_help then
    options[#options + 1] = { "  -h, --help", "show this help and exit" }
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

return M
