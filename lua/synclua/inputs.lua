--- synclua.inputs: what `--db` names, resolved to devices (DESIGN.md "The
-- command line", Inputs). Every command that reads stores takes them from
-- here, so each accepts the same things:
--
-- * a sync.db, or a library folder holding one;
-- * a folder of devices: a folder whose subfolders hold a sync.db (as
--   `synclua simulate` writes them); with a devices.json beside them, its
--   names label the devices;
-- * a glob ('lib/*'; the shell's own expansion works too, since --db takes
--   the words that follow it), where a devices.json only lends its names;
-- * an export: JSON (with or without device data), SQL, NDJSON or CSV, as
--   `synclua events` or Spacedrive's `sd sync events` write them, loaded
--   into a temporary store removed when the set is closed;
-- * a PostgreSQL fleet store ('postgresql://...', or libpq's keywords):
--   each of its devices (of `opts.library` only, when given) is a source,
--   labelled as it was pushed, read through a scoped handle.
--
-- Given no --db: $SYNCLUA_DB (a ':'-separated list), then ./sync.db, then
-- (for the commands that allow it) the demo library.
--
-- Inputs resolve to devices by device id. The same device given twice --
-- the same file, or a store and its own export -- is read once, with a
-- note on stderr; two inputs that claim one device but hold different
-- events end the command (exit 2) naming both. Stores are opened read-only.
--
--     local set <close> = inputs.resolve(opts.db, { demo = true,
--                                                   note = function(s) ... end })
--     for _, src in ipairs(set) do print(src.label, src.device, src.path) end
local synclua = require "synclua"
local runner = require "synclua.runner"
local fs = require "synclua.fs"
local fmt = require "synclua.fmt"

local M = {}

local invalid = runner.invalid

local function basename(path)
  local p = path:gsub("/+$", "")
  return p:match("([^/]+)$") or p
end

local function dirname(path)
  local p = path:gsub("/+$", "")
  local d = p:match("^(.*)/[^/]*$")
  if d == nil then return "." end
  if d == "" then return "/" end
  return d
end

local function join(dir, name)
  if dir == "." then return name end
  return dir:sub(-1) == "/" and dir .. name or dir .. "/" .. name
end

-- A glob component ("*.db", "dev?") as an anchored Lua pattern.
local function glob_pattern(glob)
  local p = glob:gsub("[%^%$%(%)%%%.%+%-]", "%%%0")
  p = p:gsub("%*", ".*"):gsub("%?", ".")
  return "^" .. p .. "$"
end

--- The paths a glob matches, sorted ('*' and '?' in any component, '['
-- not special); none when nothing matches.
-- @tparam string pattern
-- @treturn {string,...}
function M.glob(pattern)
  local absolute = pattern:sub(1, 1) == "/"
  local parts = {}
  for part in pattern:gmatch("[^/]+") do parts[#parts + 1] = part end
  local found = { absolute and "/" or "." }
  for i, part in ipairs(parts) do
    local next_found = {}
    for _, dir in ipairs(found) do
      if part:find("[*?]") then
        for _, name in ipairs(fs.list(dir) or {}) do
          if name:sub(1, 1) ~= "." and name:match(glob_pattern(part)) then
            next_found[#next_found + 1] = join(dir, name)
          end
        end
      else
        local p = join(dir, part)
        if i == #parts or fs.kind(p) == "dir" then
          if fs.kind(p) then next_found[#next_found + 1] = p end
        end
      end
    end
    found = next_found
  end
  table.sort(found)
  return found
end

-- A simulate manifest (devices.json): its device names by device id and by
-- folder, or nil when `path` is not one.
local function manifest(path)
  local f = io.open(path, "rb")
  local text = f and f:read("a")
  if f then f:close() end
  local doc = text and synclua.json_decode(text)
  if type(doc) ~= "table" or type(doc.devices) ~= "table" then return nil end
  local m = { by_device = {}, by_folder = {}, order = {} }
  for i, d in ipairs(doc.devices) do
    if type(d) == "table" and type(d.name) == "string" then
      if type(d.device_id) == "string" then
        m.by_device[d.device_id:lower()] = d.name
      end
      if type(d.path) == "string" then
        local folder = d.path:match("^([^/]+)/") or d.path
        m.by_folder[folder] = d.name
        m.order[folder] = i
      end
    end
  end
  return m
end

-- Does the file begin as an export does (JSON, NDJSON, SQL or CSV)? Any
-- other file is taken for a store, and synclua.open names its trouble.
local function is_export(path)
  local f = io.open(path, "rb")
  if not f then return false end
  local head = f:read(64) or ""
  f:close()
  head = head:gsub("^%s+", "")
  return head:find("^[%[{]") ~= nil or head:find("^%-%-") ~= nil
    or head:find("^INSERT ") ~= nil or head:find("^CREATE ") ~= nil
    or head:find("^BEGIN;") ~= nil or head:find("^id,timestamp,") ~= nil
end

-- The inputs named when there is no --db.
local function defaults(opts)
  local env = os.getenv("SYNCLUA_DB")
  if env and env ~= "" then
    local list = {}
    for part in env:gmatch("[^:]+") do list[#list + 1] = part end
    if #list > 0 then return list end
  end
  if fs.kind("sync.db") or not opts.demo then return { "sync.db" } end
  local demo = require "synclua.demo"
  local paths, dir = runner.check(demo.path(function(where)
    io.stderr:write("synclua: generating the demo library (first use) in ",
                    where, "\n")
  end))
  io.stderr:write("synclua: no --db and no ./sync.db: using the demo ",
                  "library in ", dir, " (synclua simulate --help explains ",
                  "it)\n")
  io.stderr:flush()
  return { dir }
end

-- The entries `given` stands for: { path, given, kind = "store" | "export",
-- label }; manifests met on the way go into `names`.
local function expand(given, names, out)
  if synclua.is_database(given) then
    out[#out + 1] = { path = given, given = given, kind = "fleet" }
    return
  end
  local paths = { given }
  if given:find("[*?]") and not fs.kind(given) then
    paths = M.glob(given)
    if #paths == 0 then
      error(runner.failure("notfound", given .. ": no file matches"), 0)
    end
  end
  for _, path in ipairs(paths) do
    local kind = fs.kind(path)
    if kind == "dir" then
      local db = join(path, "sync.db")
      if fs.kind(db) then
        out[#out + 1] = { path = db, given = path, kind = "store",
                          folder = basename(path) }
      else
        local m = manifest(join(path, "devices.json"))
        local found = {}
        for _, name in ipairs(fs.list(path) or {}) do
          local sub = join(path, name)
          if name:sub(1, 1) ~= "." and fs.kind(sub) == "dir"
             and fs.kind(join(sub, "sync.db")) then
            found[#found + 1] = name
          end
        end
        if #found == 0 then
          error(runner.failure("notfound", ("%s: no sync.db in it, nor in "
            .. "its subfolders"):format(path)), 0)
        end
        if m then
          table.sort(found, function(a, b)
            local x, y = m.order[a] or math.huge, m.order[b] or math.huge
            if x ~= y then return x < y end
            return a < b
          end)
          for dev, name in pairs(m.by_device) do names[dev] = name end
        end
        for _, name in ipairs(found) do
          out[#out + 1] = { path = join(join(path, name), "sync.db"),
                            given = join(path, name), kind = "store",
                            folder = m and m.by_folder[name] or name }
        end
      end
    elseif kind == "file" and basename(path) == "devices.json"
           and manifest(path) then
      for dev, name in pairs(manifest(path).by_device) do names[dev] = name end
    elseif kind == "file" and is_export(path) then
      out[#out + 1] = { path = path, given = path, kind = "export" }
    else
      -- a store, or something synclua.open will name the trouble of
      local folder
      if basename(path) == "sync.db" then
        local parent = dirname(path)
        if parent ~= "." and parent ~= "/" then folder = basename(parent) end
      end
      out[#out + 1] = { path = path, given = path, kind = "store",
                        folder = folder }
    end
  end
end

-- Loads an export into a temporary store in `tmp`; returns its path. The
-- file is read as a stream into an import (synclua.import), held in its
-- temporary file and written at once: memory stays flat whatever its size.
local function load_export(src, tmp, index, devices)
  local importer = require "synclua.importer"
  local device
  for _, d in ipairs(devices or {}) do
    if d.key == src.given then device = d.value end
  end
  -- Exports are newest first: stored oldest first, the events of one
  -- instant in file order (ascending id, as Spacedrive exports them).
  local imp <close> = runner.check(synclua.import{ by_time = true })
  runner.check(importer.stream(src.path, imp, {
    device = device, device_option = "--device-of " .. src.given .. "=UUID" }))
  local file = ("%s/%d.db"):format(tmp, index)
  local log <close> = runner.check(synclua.open(file, {
    mode = "w", synchronous = "off" }))
  runner.check(imp:commit(log))
  runner.check(log:close())
  return file
end

-- The sources of a fleet store: a scoped handle per device (of `library`
-- only, when given), in `out`; none is a failure naming the store.
local function open_fleet(e, library, out)
  local fleet <close> = runner.check(synclua.open(e.path))
  local found = 0
  for _, d in ipairs(runner.check(fleet:devices())) do
    if not library or d.library_id == library then
      local log = runner.check(fleet:scope{ library_id = d.library_id,
                                            device_id = d.device_id })
      out[#out + 1] = { log = log, path = log:path(), given = e.given,
                        kind = "fleet", folder = d.label,
                        library = d.library_id, identity = log:identity(),
                        device = d.device_id ~= "" and d.device_id:lower()
                          or nil }
      found = found + 1
    end
  end
  if found == 0 then
    error(runner.failure("notfound", ("%s: no device%s in the fleet "
      .. "(synclua push --to fills it)"):format(fleet:path(),
      library and " of library " .. library or "")), 0)
  end
end

-- The source a store or an export entry stands for, opened.
local function open_source(e, i, set, opts, note)
  local path = e.path
  if e.kind == "export" then
    if not set.tmp then set.tmp = runner.check(fs.tmpdir()) end
    path = load_export(e, set.tmp, i, opts.devices)
  end
  e.log = runner.check(synclua.open(path))
  if e.log:immutable() then
    note(("%s: read as it stands (its folder cannot be written, so "
      .. "what a writer adds while synclua reads is not seen)")
      :format(e.given))
  end
  e.path = e.kind == "export" and e.given or e.log:path()
  e.identity = e.kind == "export" and ("export:" .. i) or e.log:identity()
  local newest = e.log:first{ raw = true }
  -- A row with no device (NULL, read as "") names none.
  local dev = newest and newest.device_id
  e.device = dev and dev ~= "" and dev:lower() or nil
  return e
end

local Set = {}
Set.__index = Set

--- Close every store of the set and remove its temporary files. Safe to
-- call twice; `<close>` and the collector call it.
function Set:close()
  for _, src in ipairs(self) do
    if src.log then src.log:close() end
  end
  for _, src in ipairs(self.dropped or {}) do
    if src.log then src.log:close() end
  end
  if self.tmp then
    fs.remove_tree(self.tmp)
    self.tmp = nil
  end
end
Set.__close = Set.close
Set.__gc = Set.close

--- The source holding the events of device `id`, or nil.
-- @tparam string id
-- @treturn table|nil
function Set:of(id)
  if not id then return nil end
  id = id:lower()
  for _, src in ipairs(self) do
    if src.device == id then return src end
  end
  return nil
end

--- Keep only the source of device `id` (when the set has it), closing
-- the others.
-- @tparam string id
function Set:only(id)
  local keep = self:of(id)
  if not keep then return end
  for i = #self, 1, -1 do
    if self[i] ~= keep then
      self.dropped[#self.dropped + 1] = table.remove(self, i)
    end
  end
end

--- The label of a device: its source's label, else the name devices.json
-- gives it, else the first 8 characters of its id.
-- @tparam string|nil id
-- @treturn string
function Set:label(id)
  if not id then return "?" end
  local src = self:of(id)
  if src then return src.label end
  return self.names[id:lower()] or fmt.short(id)
end

-- Drop sources that repeat a device: the same file, or the same events.
local function dedupe(set, note)
  local kept = {}
  set.dropped = {}
  for _, src in ipairs(set) do
    local twin
    for _, k in ipairs(kept) do
      if k.identity == src.identity then
        twin = k
        note(("%s and %s are the same store: read once"):format(k.given,
                                                                src.given))
        break
      end
      if src.device and k.device == src.device then
        local n1, d1 = k.log:fingerprint{ device = src.device }
        local n2, d2 = src.log:fingerprint{ device = src.device }
        if n1 ~= n2 or d1 ~= d2 then
          invalid(("%s and %s both hold device %s, but different events "
            .. "(%s and %s): give one of them"):format(k.given, src.given,
            src.device, fmt.plural(n1, "event"), fmt.plural(n2, "event")))
        end
        -- The same events of the device: keep the store that holds more
        -- (other devices' rows too, as a combined store does).
        if src.log:count{} > k.log:count{} then
          note(("%s holds the same events as %s (device %s), and more: "
            .. "read once"):format(src.given, k.given, fmt.short(src.device)))
          for i, x in ipairs(kept) do
            if x == k then kept[i] = src end
          end
          set.dropped[#set.dropped + 1] = k
          twin = false
        else
          twin = k
          note(("%s holds the same events as %s (device %s): read once")
            :format(src.given, k.given, fmt.short(src.device)))
        end
        break
      end
    end
    if twin then set.dropped[#set.dropped + 1] = src
    elseif twin == nil then kept[#kept + 1] = src end
  end
  for i = #set, 1, -1 do set[i] = nil end
  for i, src in ipairs(kept) do set[i] = src end
end

-- Labels unique among the set: a folder's or devices.json's name, else
-- the first 8 characters of the device id, else the file's name.
-- Redacted (set.redacted), a label is the first 8 characters of the
-- device's pseudonym, else "db" and its place: never a name or a path.
local function label(set)
  for i, src in ipairs(set) do
    if set.redacted then
      src.label = src.device and fmt.short(src.device) or ("db" .. i)
    else
      src.label = (src.device and set.names[src.device]) or src.folder
        or (src.device and fmt.short(src.device))
        or basename(src.given)
    end
  end
  local seen = {}
  for _, src in ipairs(set) do seen[src.label] = (seen[src.label] or 0) + 1 end
  for i, src in ipairs(set) do
    if seen[src.label] > 1 then
      src.label = src.device and fmt.short(src.device) or ("db" .. i)
    end
  end
end

-- The entries the inputs name (the defaults when none are given), the
-- names devices.json files lend going into `names`; an input that names
-- nothing ends the command.
local function gather(given, opts, names)
  if not given or #given == 0 then given = defaults(opts) end
  local entries = {}
  for _, g in ipairs(given) do expand(g, names, entries) end
  if #entries == 0 then
    invalid("no input: " .. table.concat(given, ", ")
            .. " holds no store or export")
  end
  return entries
end

--- The stores and exports the inputs name, without opening them, each
-- file once: a list of { path, given, kind = "store" | "export", folder }.
-- For commands that open each store themselves (check judges stores that
-- fail to open).
-- @tparam {string,...}|nil given the --db values (empty: the defaults)
-- @tparam[opt] table opts `demo`: fall back to the demo library
-- @treturn table
function M.expand(given, opts)
  local once = {}
  for _, e in ipairs(gather(given, opts or {}, {})) do
    local seen = false
    for _, o in ipairs(once) do
      if o.path == e.path or (fs.kind(e.path) and fs.kind(o.path)
                              and fs.same_file(o.path, e.path)) then
        seen = true
      end
    end
    if not seen then once[#once + 1] = e end
  end
  return once
end

--- Resolve inputs to an open set of sources, one per device.
-- @tparam {string,...}|nil given the --db values (empty: the defaults)
-- @tparam[opt] table opts `demo` (fall back to the demo library),
--   `devices` (a list of { key = FILE, value = UUID }: the device of an
--   export that carries none), `library` (of a fleet store, only this
--   library's devices), `redact` (a synclua.redactor: every source's
--   rows, device, library and label come out as pseudonyms), `note` (a function given each note for
--   stderr; default: written as "synclua: note: ...")
-- @treturn table the set: a list of sources { log, path, given, kind,
--   device, label, identity }, with `names` (device id -> devices.json
--   name), methods `of(id)`, `label(id)` and `close()` (also `<close>`)
function M.resolve(given, opts)
  opts = opts or {}
  local note = opts.note or function(s)
    io.stderr:write("synclua: note: ", s, "\n")
  end
  local set = setmetatable({ names = {} }, Set)
  local entries = gather(given, opts, set.names)
  local ok, err = pcall(function()
    for i, e in ipairs(entries) do
      if e.kind == "fleet" then open_fleet(e, opts.library, set)
      else set[#set + 1] = open_source(e, i, set, opts, note) end
    end
    dedupe(set, note)
  end)
  if not ok then
    set:close()
    error(err, 0)
  end
  -- opts.redact, a synclua.redactor (synclua.command's --redact): every
  -- source's rows come out redacted by the run's one redactor, and what
  -- stands for a source -- device, library, label -- is a pseudonym.
  if opts.redact then
    set.redacted, set.names = true, {}
    for _, src in ipairs(set) do
      src.log:redact(opts.redact)
      src.device = src.device and opts.redact:id(src.device, "device")
      src.library = src.library and opts.redact:id(src.library, "library")
    end
  end
  label(set)
  return set
end

return M
