--- synclua.runner: runs declared commands and turns their outcome into an
-- exit status (DESIGN.md "The command line": 0 success, 1 a finding, 2 bad
-- usage or bad input, 3 an environment failure), so that nothing a user
-- can cause ends in a Lua traceback (only with SYNCLUA_DEBUG=1).
--
-- The host `synclua` calls `run` when a script's main chunk returns a
-- declaration, `list` for `synclua --list`, `help` for `synclua help
-- [NAME]` and `unknown` for a command name it cannot find. A frame command
-- (synclua.command) runs itself; a plain declaration `{ name, description,
-- args, run }` has `run(opts, argv)` called with the options synclua.cli
-- parsed. Either ends with:
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
  nomem = 3,
}

local Failure = {}
Failure.__index = Failure
Failure.__tostring = function(f) return f.message end

--- Creates a failure to raise from a command: `error(runner.failure("busy",
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

--- End the command with exit 2 and `message` (bad input, naming it).
-- @tparam string message
function M.invalid(message)
  error(M.failure("invalid", message), 0)
end

--- Is `value` a failure object?
-- @param value anything
-- @treturn boolean
function M.is_failure(value)
  return getmetatable(value) == Failure
end

-- A locked store: say who may hold it.
local function hint(message, code)
  if code == "busy" and not message:find("Spacedrive", 1, true) then
    return message .. " (another program, such as Spacedrive, is writing "
      .. "it; try again when it is done)"
  end
  return message
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
  message = message ~= nil and tostring(message) or "failed"
  error(M.failure(code, hint(message, code)), 0)
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

-- What the core says when a store fails under a running query (cursors
-- and iterators raise these as strings): its message -> failure code.
local STORE_ERRORS = {
  { "database is corrupt", "corrupt" }, { "not an SQLite database", "notdb" },
  { "database disk image is malformed", "corrupt" },
  { "database is locked", "busy" }, { "disk I/O error", "ioerr" },
  { "unable to open database", "ioerr" }, { "out of memory", "nomem" },
}

-- A raised value as a failure when it is one a user can cause: a failure,
-- a usage error, an error object with a string `code`, or a store error.
local function as_failure(e)
  if M.is_failure(e) then return e end
  if cli.is_usage_error(e) then return M.failure("usage", e.message) end
  if type(e) == "table" and type(e.code) == "string"
     and type(e.message) == "string" then
    return M.failure(e.code, hint(e.message, e.code))
  end
  if type(e) == "string" then
    local text = e:gsub("^[^\n]-%.lua:%d+: ", "")
    for _, pair in ipairs(STORE_ERRORS) do
      if text:find(pair[1], 1, true) then
        return M.failure(pair[2], hint(text, pair[2]))
      end
    end
  end
  return nil
end

local function debugging()
  return os.getenv("SYNCLUA_DEBUG") == "1"
end

-- The message handler: failures pass through; anything else is a bug,
-- kept as its message (and its traceback when debugging).
--- Is `err` the error the host raises in running code on Ctrl-C?
-- @param err
-- @treturn boolean
function M.interrupted(err)
  return type(err) == "string" and
         (err:match("^[^\n]*interrupted!$") or
          err:match("^[^\n]*interrupted!\n")) ~= nil
end

local function handler(e)
  if as_failure(e) then return e end
  if M.interrupted(e) then return { interrupted = true } end
  local msg = e
  if type(e) ~= "string" then
    local mt = getmetatable(e)
    if type(mt) == "table" and mt.__tostring then msg = tostring(e)
    elseif math.type(e) then msg = tostring(e)
    else msg = ("(error object is a %s value)"):format(type(e)) end
  end
  if not debugging() then return { internal = msg } end
  local tb = debug.traceback(msg, 2)
  -- Stop at the runner's own xpcall: what lies below is not the command's.
  local cut = tb:find("\n\t[C]: in function 'xpcall'", 1, true)
  return { internal = cut and tb:sub(1, cut - 1) or tb }
end

local function say(name, message)
  io.stderr:write("synclua ", name, ": ", message, "\n")
  io.stderr:flush()
end
M.say = say

--- Calls `fn(...)` and maps what it raises or returns to an exit status,
-- printing the message on stderr as "synclua NAME: message". Used for
-- every command, so that a failure anywhere ends the same way.
-- @tparam string name the command, for messages
-- @tparam function fn
-- @return the exit status (integer)
function M.protect(name, fn, ...)
  local r = table.pack(xpcall(fn, handler, ...))
  if not r[1] then
    local e = r[2]
    -- Ctrl-C: the shell's convention, 128 + SIGINT, and nothing said
    -- (a follower catches it itself and ends with 0).
    if e.interrupted then return 130 end
    local f = as_failure(e)
    if f then
      say(name, f.message)
      return M.exit_code(f.code)
    end
    if debugging() then
      say(name, e.internal)
    else
      say(name, "internal error: " .. tostring(e.internal):gsub(
        "^[^\n]-%.lua:%d+: ", "") .. " (a bug in synclua; SYNCLUA_DEBUG=1 "
        .. "shows where)")
    end
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
      say(name, hint(tostring(message), code))
      return M.exit_code(code)
    end
    return status == nil and 0 or 1
  elseif type(status) == "number" then
    say(name, ("exit status is not an integer: %s"):format(status))
    return 1
  end
  return 0                           -- true, or any other value
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

--- The version line every command prints for --version.
function M.version_line()
  local ok, synclua = pcall(require, "synclua")
  return ("synclua %s (%s)"):format(ok and synclua.version or "?", _VERSION)
end

--- Runs a declared command and returns its exit status.
-- `-h`/`--help` anywhere before `--` prints the help on stdout (status 0),
-- `--version` the version; a frame command (synclua.command) runs its own
-- `main(argv, name)`; a plain declaration is parsed by synclua.cli and its
-- `run(opts, argv)` called. Every outcome is mapped as described at the
-- top of this module.
-- @tparam table script the declaration
-- @tparam[opt] table argv the arguments after the command's name
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
  if cli.wants_version(argv) then
    io.stdout:write(M.version_line(), "\n")
    io.stdout:flush()
    return 0
  end
  if type(script.main) == "function" then
    return M.protect(name, script.main, argv, name)
  end
  local ok, opts = pcall(cli.parse, script, argv, name)
  if not ok then
    if cli.is_usage_error(opts) then
      say(name, opts.message)
      return 2
    end
    error(opts, 0)                   -- a bad declaration: the script's bug
  end
  return M.protect(name, script.run, opts, argv)
end

-- Reads a script's declaration without running it: scripts only declare at
-- top level, so calling the chunk (with globals it sets kept apart) is safe.
local function declaration(path)
  local env = setmetatable({}, { __index = _G })
  local chunk, err = loadfile(path, "t", env)
  if not chunk then return nil, err end
  local ok, decl = pcall(chunk)
  if not ok then return nil, tostring(decl) end
  if type(decl) ~= "table" then return nil, "declares no command" end
  return decl
end
M.declaration = declaration

-- The bundled command names in `dir`, sorted; or nil, message, code.
local function names_in(dir)
  local names, err, code = require("synclua.fs").list(dir)
  if not names then return nil, err, code end
  local out = {}
  for _, f in ipairs(names) do
    local n = f:match("^(.+)%.lua$")
    if n then out[#out + 1] = n end
  end
  return out
end

--- Prints one line per bundled command, sorted by name: the name (the file
-- name without ".lua", what `synclua NAME` takes), padded, then its
-- description. A script that cannot be loaded says so in place of one.
-- @tparam string dir the scripts directory
-- @treturn integer the exit status (3 when the directory cannot be read)
function M.list(dir)
  if type(dir) ~= "string" then
    error(("bad argument #1 to 'list' (string expected, got %s)")
      :format(type(dir)), 2)
  end
  local names, err, code = names_in(dir)
  if not names then
    io.stderr:write("synclua: cannot list commands: ", err, "\n")
    io.stderr:flush()
    return M.exit_code(code)
  end
  local width = 0
  for _, n in ipairs(names) do width = math.max(width, #n) end
  for _, n in ipairs(names) do
    local decl, why = declaration(dir .. "/" .. n .. ".lua")
    local desc = decl and (decl.description or "")
                 or "(cannot load: " .. why .. ")"
    local line = desc == "" and n or (n .. (" "):rep(width - #n + 2) .. desc)
    io.stdout:write(line, "\n")
  end
  io.stdout:flush()
  return 0
end

--- `synclua help [NAME]`: the program's commands, or one command's help.
-- @tparam string dir the scripts directory
-- @tparam[opt] string name a command
-- @treturn integer the exit status
function M.help(dir, name, extra)
  if extra ~= nil then
    io.stderr:write(("synclua: help takes one command name (got '%s' too)\n")
      :format(extra))
    io.stderr:flush()
    return 2
  end
  if name ~= nil and not name:match("^[%w_]+$") then
    return M.unknown(dir, name)
  end
  if name == nil then
    io.stdout:write("usage: synclua NAME [options]   (synclua help NAME: "
      .. "a command's options)\n\ncommands:\n")
    io.stdout:flush()
    return M.list(dir)
  end
  local decl = declaration(dir .. "/" .. name .. ".lua")
  if not decl then return M.unknown(dir, name) end
  io.stdout:write(cli.help(decl, name))
  io.stdout:flush()
  return 0
end

--- Says that NAME is no command (with a "did you mean") and returns 2.
-- @tparam string dir the scripts directory
-- @tparam string name what the user typed
-- @treturn integer 2
function M.unknown(dir, name)
  local names = names_in(dir) or {}
  io.stderr:write(("synclua: no such script or command: %s%s (see synclua "
    .. "--list)\n"):format(name, cli.did_you_mean(name, names)))
  io.stderr:flush()
  return 2
end

return M
