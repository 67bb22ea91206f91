--- synclua.runner: runs declared scripts and turns their outcome into an
-- exit status (DESIGN.md "The command line": 0 success, 1 a finding or an
-- unexpected error, 2 bad usage or bad input, 3 an environment failure).
--
-- The host `synclua` calls `run` when a script's main chunk returns a
-- declaration `{ name, description, usage, args, run, epilog }`, and `list`
-- for `synclua --list`. A script's `run(opts, argv)` receives the parsed
-- options (see synclua.cli) and the raw argument list, and ends with:
--
--     return                        -- exit 0
--     return 1                      -- any integer 0-255: that exit status
--     return nil, message, code     -- failure: message on stderr; code as
--                                   -- returned by synclua.open ("notfound",
--                                   -- "busy", ...) chooses the status
--     error(runner.failure(code, message))     -- the same, from anywhere
--     error(cli.usage_error(message))          -- bad usage: exit 2
local cli = require "synclua.cli"

local M = {}

--- Exit status of each failure code (the `code` strings of synclua.open and
-- the core's status names); any other code exits 1.
M.exit_codes = {
  invalid = 2, usage = 2,
  notfound = 3, notdb = 3, corrupt = 3, busy = 3, ioerr = 3, readonly = 3,
}

local Failure = {}
Failure.__index = Failure
Failure.__tostring = function(f) return f.message end

--- Creates a failure to raise from a script: `error(runner.failure("busy",
-- "sync.db: database is locked"))` prints the message (without traceback)
-- and exits with the status of the code.
-- @tparam string|integer|nil code a failure code ("notfound", "invalid",
--   ...) or an exit status; nil means 1
-- @tparam string message what failed, naming the input
-- @treturn table the failure object
function M.failure(code, message)
  if code ~= nil and type(code) ~= "string" and math.type(code) ~= "integer"
  then
    error(("bad argument #1 to 'failure' (string or integer expected, got %s)")
      :format(type(code)), 2)
  end
  if type(message) ~= "string" then
    error(("bad argument #2 to 'failure' (string expected, got %s)")
      :format(type(message)), 2)
  end
  return setmetatable({ code = code, message = message }, Failure)
end

--- Is `value` a failure object?
-- @param value anything
-- @treturn boolean
function M.is_failure(value)
  return getmetatable(value) == Failure
end

--- Like `assert` for functions that return `nil, message, code`: passes
-- all values through when the first is truthy, else raises a failure.
-- `local log = runner.check(synclua.open(path))`
-- @param ok the first result
-- @param message the second result (the message on failure)
-- @param code the third result (the failure code)
-- @return all arguments, when `ok` is truthy
function M.check(ok, message, code, ...)
  if ok then return ok, message, code, ... end
  error(M.failure(code, message ~= nil and tostring(message) or "failed"), 0)
end

--- The exit status for a failure code (string or integer; nil means 1).
-- @param code
-- @treturn integer
function M.exit_code(code)
  if math.type(code) == "integer" and code >= 0 and code <= 255 then
    return code
  end
  return M.exit_codes[code] or 1
end

local function say(name, message)
  io.stderr:write("synclua ", name, ": ", message, "\n")
  io.stderr:flush()
end

-- The message handler for run: structured errors pass through; anything
-- else becomes its message plus a traceback (as the host's own handler).
local function handler(e)
  if M.is_failure(e) or cli.is_usage_error(e) then return e end
  local msg = e
  if type(e) ~= "string" then
    local mt = getmetatable(e)
    if type(mt) == "table" and mt.__tostring then msg = tostring(e)
    elseif math.type(e) then msg = tostring(e)
    else msg = ("(error object is a %s value)"):format(type(e)) end
  end
  local tb = debug.traceback(msg, 2)
  -- Stop at the runner's own xpcall: what lies below is not the script's.
  local cut = tb:find("\n\t[C]: in function 'xpcall'", 1, true)
  return cut and tb:sub(1, cut - 1) or tb
end

local function check_args(script, argv, name)
  if type(script) ~= "table" then
    error(("bad argument #1 to 'run' (table expected, got %s)")
      :format(type(script)), 3)
  end
  if type(script.run) ~= "function" then
    error("bad argument #1 to 'run' (field 'run' must be a function)", 3)
  end
  if argv ~= nil and type(argv) ~= "table" then
    error(("bad argument #2 to 'run' (table expected, got %s)")
      :format(type(argv)), 3)
  end
  if name ~= nil and type(name) ~= "string" then
    error(("bad argument #3 to 'run' (string expected, got %s)")
      :format(type(name)), 3)
  end
end

--- Runs a declared script and returns its exit status.
-- `-h`/`--help` anywhere before `--` prints the help on stdout (status 0);
-- a usage error prints "synclua NAME: message" on stderr (status 2); then
-- `script.run(opts, argv)` runs and its result is mapped as described at
-- the top of this module. An unexpected error prints its message and a
-- traceback (status 1).
-- @tparam table script the declaration
-- @tparam[opt] table argv the arguments after the script name
-- @tparam[opt] string name how the user invoked it (default `script.name`)
-- @treturn integer the exit status
function M.run(script, argv, name)
  check_args(script, argv, name)
  argv = argv or {}
  name = name or script.name or "script"
  if cli.wants_help(argv) then
    io.stdout:write(cli.help(script, name))
    io.stdout:flush()
    return 0
  end
  local ok, opts = pcall(cli.parse, script, argv, name)
  if not ok then
    if cli.is_usage_error(opts) then
      say(name, opts.message)
      return 2
    end
    error(opts, 0)                   -- a bad declaration: the script's bug
  end
  local r = table.pack(xpcall(script.run, handler, opts, argv))
  if not r[1] then
    local e = r[2]
    if M.is_failure(e) then
      say(name, e.message)
      return M.exit_code(e.code)
    elseif cli.is_usage_error(e) then
      say(name, e.message)
      return 2
    end
    say(name, e)
    return 1
  end
  local status, message, code = r[2], r[3], r[4]
  if math.type(status) == "float" then status = math.tointeger(status) end
  if math.type(status) == "integer" then
    if status >= 0 and status <= 255 then return status end
    say(name, ("exit status out of range: %d"):format(status))
    return 1
  elseif status == nil or status == false then
    if message ~= nil then
      say(name, tostring(message))
      return M.exit_code(code)
    end
    return status == nil and 0 or 1
  elseif type(status) == "number" then
    say(name, ("exit status is not an integer: %s"):format(status))
    return 1
  end
  return 0                           -- true, or any other value
end

-- Reads a script's declaration without running it: scripts only declare at
-- top level, so calling the chunk (with globals it sets kept apart) is safe.
local function describe(path)
  local env = setmetatable({}, { __index = _G })
  local chunk, err = loadfile(path, "t", env)
  if not chunk then return nil, err end
  local ok, decl = pcall(chunk)
  if not ok then return nil, tostring(decl) end
  if type(decl) == "table" and type(decl.description) == "string" then
    return decl.description
  end
  return ""
end

--- Prints one line per bundled script, sorted by name: the name (the file
-- name without ".lua", what `synclua NAME` takes), padded, then its
-- description. A script that cannot be loaded says so in place of one.
-- @tparam[opt] string dir the scripts directory (default: the host's)
-- @treturn integer the exit status (3 when the directory cannot be read)
function M.list(dir)
  if dir ~= nil and type(dir) ~= "string" then
    error(("bad argument #1 to 'list' (string expected, got %s)")
      :format(type(dir)), 2)
  end
  local has_host, host = pcall(require, "synclua.host")
  if not has_host then
    say("--list", "not running inside the synclua host")
    return 1
  end
  dir = dir or host.scripts
  local files, err, code = host.listdir(dir)
  if not files then
    io.stderr:write("synclua: cannot list scripts: ", err, "\n")
    io.stderr:flush()
    return M.exit_code(code)
  end
  local names, width = {}, 0
  for _, f in ipairs(files) do
    local n = f:match("^(.+)%.lua$")
    if n then
      names[#names + 1] = n
      if #n > width then width = #n end
    end
  end
  table.sort(names)
  for _, n in ipairs(names) do
    local desc, why = describe(dir .. "/" .. n .. ".lua")
    if not desc then desc = "(cannot load: " .. why .. ")" end
    local line = desc == "" and n or (n .. (" "):rep(width - #n + 2) .. desc)
    io.stdout:write(line, "\n")
  end
  io.stdout:flush()
  return 0
end

return M
