--- synclua.fs: the few folder operations the simulator and the demo library
-- need (Lua's io and os have files, not folders), over the host's
-- `synclua.host` (listdir, mkdir). Environment failures return
-- `nil, message, code` as synclua.open does.
local host = require "synclua.host"

local M = {}

--- What is at `path`: "dir", "file" (anything else that opens), or nil.
-- @tparam string path
-- @treturn string|nil
function M.kind(path)
  if host.listdir(path) then return "dir" end
  local f = io.open(path, "rb")
  if f then
    f:close()
    return "file"
  end
  return nil
end

--- The names in a folder, sorted; or nil, message, code.
-- @tparam string dir
-- @treturn {string,...}
function M.list(dir)
  local names, err, code = host.listdir(dir)
  if not names then return nil, err, code end
  table.sort(names)
  return names
end

--- Create a folder and any missing parents (as `mkdir -p`). A folder that
-- already exists is fine.
-- @tparam string path
-- @return true, or nil, message, code
function M.mkdir_p(path)
  if M.kind(path) == "dir" then return true end
  local prefix = path:sub(1, 1) == "/" and "/" or ""
  for part in path:gmatch("[^/]+") do
    prefix = prefix .. part
    local ok, err, code = host.mkdir(prefix)
    if not ok and not (code == "exists" and M.kind(prefix) == "dir") then
      return nil, err, code == "exists" and "ioerr" or code
    end
    prefix = prefix .. "/"
  end
  return true
end

--- Remove a folder and everything in it (only what this process created:
-- symbolic links to folders are not expected inside).
-- @tparam string path
-- @return true, or nil, message, code
function M.remove_tree(path)
  local names = host.listdir(path)
  if names then
    for _, name in ipairs(names) do
      local ok, err, code = M.remove_tree(path .. "/" .. name)
      if not ok then return nil, err, code end
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
  local ok, err, code = host.mkdir(name)
  if not ok then return nil, err, code end
  return name
end

return M
