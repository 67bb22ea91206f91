--- synclua.cmd: the conventions every bundled command shares (DESIGN.md,
-- "The command line"): which stores `--db` names (default $SYNCLUA_DB, then
-- ./sync.db), opening them so that a failure ends the command with the
-- right status, and validating a time or duration argument.
local synclua = require "synclua"
local runner = require "synclua.runner"

local M = {}

--- The `--db` argument declaration, repeatable.
M.db_arg = {
  "--db", metavar = "PATH", repeatable = true,
  help = "a sync.db or library folder (default $SYNCLUA_DB, then ./sync.db)",
}

--- The stores a command works on: every `--db`, else $SYNCLUA_DB, else
-- ./sync.db. A report command that passes `{ demo = true }` falls back to
-- the bundled demo library (synclua.demo; generated on first use) when
-- there is no ./sync.db either, and says so on stderr. Commands that
-- change a store (prune) or judge one (check) never fall back.
-- @tparam table opts parsed options (opts.db is a list)
-- @tparam[opt] table how `{ demo = true }` to fall back to the demo library
-- @treturn {string,...} paths
function M.db_paths(opts, how)
  if how ~= nil and type(how) ~= "table" then
    error(("bad argument #2 to 'db_paths' (table expected, got %s)")
      :format(type(how)), 2)
  end
  if opts.db and #opts.db > 0 then return opts.db end
  local env = os.getenv("SYNCLUA_DB")
  if env and env ~= "" then return { env } end
  if how and how.demo then
    local f = io.open("sync.db", "rb")
    if f then
      f:close()
    else
      local demo = require "synclua.demo"
      local paths, dir = runner.check(demo.path(function(where)
        io.stderr:write("synclua: generating the demo library (first use) in ",
                        where, "\n")
      end))
      io.stderr:write("synclua: no --db and no ./sync.db: using the demo ",
                      "library in ", dir,
                      " (synclua simulate --help explains it)\n")
      io.stderr:flush()
      return paths
    end
  end
  return { "sync.db" }
end

--- Open a store for a command; a failure ends the command (exit 3 for a
-- missing, locked or corrupt file, with synclua.open's message). Writing
-- commands never create a store that is not there.
-- @tparam string path a sync.db or library folder
-- @tparam[opt] table opts synclua.open options (readonly defaults to true)
-- @return Store
function M.open(path, opts)
  opts = opts or {}
  if opts.readonly == nil then opts.readonly = true end
  if not opts.readonly and opts.create == nil then opts.create = false end
  return runner.check(synclua.open(path, opts))
end

--- Check a duration argument ("7 days", "90m"); a bad one ends the command
-- with exit 2 and a message naming the option.
-- @tparam string option the option's name, for the message
-- @tparam string text the value given
-- @treturn integer nanoseconds
function M.duration(option, text)
  local ns, err = synclua.parse_duration(text)
  if not ns then error(runner.failure("invalid", option .. ": " .. err), 0) end
  return ns
end

--- Check a point-in-time argument (the --since grammar); a bad one ends the
-- command with exit 2 and a message naming the option.
-- @tparam string option the option's name, for the message
-- @tparam string text the value given
-- @treturn integer instant
function M.time(option, text)
  local t, err = synclua.parse_time(text)
  if not t then error(runner.failure("invalid", option .. ": " .. err), 0) end
  return t
end

return M
