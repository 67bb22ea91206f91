--- synclua.fs: the few folder operations the simulator, the demo library
-- and the commands need (Lua's io and os have files, not folders), over
-- LuaFileSystem (`require "lfs"`, Debian's lua-filesystem), so that it
-- loads in stock lua5.4 as well as in the synclua host. Misuse raises;
-- environment failures return `nil, message, code` as synclua.open does,
-- the message naming the path ("path: No such file or directory") and the
-- code one of "notfound" (a missing path or parent), "exists" (tmpdir only)
-- or "ioerr" (anything else).
local lfs = require "lfs"

local M = {}

local ENOENT, EEXIST, ENOTDIR = 2, 17, 20

-- The code of an errno lfs returned.
local function code_of(errno)
  if errno == ENOENT or errno == ENOTDIR then return "notfound" end
  if errno == EEXIST then return "exists" end
  return "ioerr"
end

-- lfs's messages carry the reason last ("cannot obtain information from
-- file 'x': Permission denied", or "Permission denied" alone); ours name
-- the path first, as synclua.open's do.
local function fail(path, message, errno)
  local reason = tostring(message):match("^.*: (.-)$") or tostring(message)
  return nil, path .. ": " .. reason, code_of(errno)
end

local function check_path(fname, i, v)
  if type(v) ~= "string" then
    error(("bad argument #%d to '%s' (string expected, got %s)")
      :format(i, fname, type(v)), 3)
  end
end

--- What is at `path`: "dir", "file" (anything else that opens), or nil.
-- @tparam string path
-- @treturn string|nil
function M.kind(path)
  check_path("kind", 1, path)
  local mode = lfs.attributes(path, "mode")
  if mode == "directory" then return "dir" end
  -- A device or a pipe is not opened to find out: a pipe opened to read
  -- waits for a writer.
  if mode and mode ~= "file" then return "file" end
  local f = io.open(path, "rb")
  if f then
    f:close()
    return "file"
  end
  return nil
end

--- Is `path` something that is neither a regular file nor a folder -- a
-- device, a pipe, a socket -- to be written in place, never replaced?
-- @tparam string path
-- @treturn boolean
function M.special(path)
  check_path("special", 1, path)
  local mode = lfs.attributes(path, "mode")
  return mode ~= nil and mode ~= "file" and mode ~= "directory"
end

--- The names in a folder (without "." and ".."), sorted; or nil, message,
-- code ("notfound" when `dir` is missing or not a folder).
-- @tparam string dir
-- @treturn {string,...}
function M.list(dir)
  check_path("list", 1, dir)
  local mode, err, errno = lfs.attributes(dir, "mode")
  if not mode then return fail(dir, err, errno) end
  if mode ~= "directory" then return fail(dir, "Not a directory", ENOTDIR) end
  local ok, iter, state = pcall(lfs.dir, dir)
  if not ok then return fail(dir, iter, nil) end
  local names = {}
  for name in iter, state do
    if name ~= "." and name ~= ".." then names[#names + 1] = name end
  end
  table.sort(names)
  return names
end

--- Create a folder and any missing parents (as `mkdir -p`). A folder that
-- already exists is fine; anything else in the way is an "ioerr".
-- @tparam string path
-- @return true, or nil, message, code
function M.mkdir_p(path)
  check_path("mkdir_p", 1, path)
  if M.kind(path) == "dir" then return true end
  local prefix = path:sub(1, 1) == "/" and "/" or ""
  for part in path:gmatch("[^/]+") do
    prefix = prefix .. part
    local ok, err, errno = lfs.mkdir(prefix)
    if not ok and not (errno == EEXIST and M.kind(prefix) == "dir") then
      local _, message, code = fail(prefix, err, errno)
      return nil, message, code == "exists" and "ioerr" or code
    end
    prefix = prefix .. "/"
  end
  return true
end

--- Remove a folder and everything in it, or a file. A symbolic link is
-- removed, never followed.
-- @tparam string path
-- @return true, or nil, message, code
function M.remove_tree(path)
  check_path("remove_tree", 1, path)
  if lfs.symlinkattributes(path, "mode") == "directory" then
    local names, err, code = M.list(path)
    if not names then return nil, err, code end
    for _, name in ipairs(names) do
      local ok, err2, code2 = M.remove_tree(path .. "/" .. name)
      if not ok then return nil, err2, code2 end
    end
  end
  local ok, err = os.remove(path)
  if not ok then return nil, err, "ioerr" end
  return true
end

--- A new empty folder for temporary files (under $TMPDIR or /tmp), made
-- from a name os.tmpname reserved; remove it with remove_tree.
-- @return the path, or nil, message, code
function M.tmpdir()
  local name = os.tmpname()
  os.remove(name)
  local ok, err, errno = lfs.mkdir(name)
  if not ok then return fail(name, err, errno) end
  return name
end

--- Are `a` and `b` the same file (the same device and inode, whatever the
-- paths: links, "..", a folder given twice)?
-- @tparam string a
-- @tparam string b
-- @treturn boolean, or nil, message, code when a path cannot be examined
function M.same_file(a, b)
  check_path("same_file", 1, a)
  check_path("same_file", 2, b)
  local sa, err, errno = lfs.attributes(a)
  if not sa then return fail(a, err, errno) end
  local sb, err2, errno2 = lfs.attributes(b)
  if not sb then return fail(b, err2, errno2) end
  return sa.dev == sb.dev and sa.ino == sb.ino
end

return M
