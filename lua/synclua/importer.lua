--- synclua.importer: exports read back into events. The files
-- `synclua events` and Spacedrive's `sd sync events` write -- a JSON array
-- (the default nine keys, or --with-device), an SQL script (Spacedrive's
-- INSERT lines, with or without our CREATE TABLE, BEGIN; and COMMIT;), or
-- synclua's NDJSON (one element a line) and CSV (every column as stored)
-- --
-- become lists of event tables that `log:insert` takes, so several
-- devices' exports can be loaded into one store (`synclua import`, and the
-- timeline's JSON sources).
--
-- The format is recognised by content. Every event is checked here, so a
-- bad file is refused with its name, a line (and for JSON syntax a column)
-- and the reason before anything is written: "x.json: line 3 column 14:
-- unexpected character '\"'", "x.sql: line 9: Invalid event type: foo
-- (valid: ...)". JSON is decoded by the core's parser (integers stay
-- exact, floats keep serde's shortest form when written again), and the
-- decoded elements become the event tables, so a large export costs one
-- table per event.
local synclua = require "synclua"

local M = {}

local INSERT = "INSERT INTO sync_event_log (timestamp, device_id, "
  .. "event_type, category, severity, summary, details, correlation_id, "
  .. "peer_device_id, model_types, record_count, duration_ms) VALUES ("

local COLUMNS = {
  "timestamp", "device_id", "event_type", "category", "severity", "summary",
  "details", "correlation_id", "peer_device_id", "model_types",
  "record_count", "duration_ms",
}

-- Keys of a JSON element: the nine of the default export and those of
-- --with-device.
local JSON_FIELDS = {
  id = true, timestamp = true, device_id = true, event_type = true,
  category = true, severity = true, summary = true, details = true,
  correlation_id = true, peer_device_id = true, model_types = true,
  record_count = true, duration_ms = true,
}

local ARRAY_MT = getmetatable(synclua.array())

local function set_of(list)
  local s = {}
  for _, v in ipairs(list) do s[v] = true end
  return s
end
local TYPES = set_of(synclua.event_types)
local CATEGORIES = set_of(synclua.categories)
local SEVERITIES = set_of(synclua.severities)

-- A refusal: the reason, and the field at fault (for its position).
local Refusal = {}

local function refuse(reason, key)
  error(setmetatable({ reason = reason, field = key }, Refusal), 0)
end

-- Run fn(...); a refusal comes back as nil, refusal.
local function attempt(fn, ...)
  local ok, r = pcall(fn, ...)
  if ok then return r end
  if getmetatable(r) ~= Refusal then error(r, 0) end
  return nil, r
end

-- The names of the valid values, as Spacedrive's messages list them.
local function check_name(key, what, set, list, value)
  if not set[value] then
    refuse(("Invalid %s: %s (valid: %s)"):format(what, value,
                                                 table.concat(list, ", ")),
           key)
  end
end

-- A count's text as the integer stored for it: -9223372036854775808 to
-- 18446744073709551615, those above math.maxinteger wrapped as SQLite
-- holds them -- a u64 that Spacedrive stores cast to i64, and prints back
-- as the u64 (spacedrive-compat.md 10.1). nil for anything else.
local U64_MAX = "18446744073709551615"
local function integer_of(text)
  local sign, digits = text:match("^(%-?)0*(%d+)$")
  if not digits then return nil end
  local n = math.tointeger(tonumber(text))
  if n then return n end
  if sign == "-" or #digits > #U64_MAX
     or (#digits == #U64_MAX and digits > U64_MAX) then
    return nil
  end
  n = 0
  for d in digits:gmatch("%d") do n = n * 10 + (d:byte() - 48) end -- wraps
  return n
end

-- Members of an export's elements read as their JSON text: details exactly
-- as written (an integer up to u64::MAX stays one), and the counts, which
-- may be u64s above math.maxinteger.
local AS_TEXT = { as_text = { details = true, record_count = true,
                              duration_ms = true } }

-- The instant of each event read, for ordering; its timestamp stays the
-- text it was given, which the store reads as chrono does (a leap second
-- stays second 60).
local INSTANT = setmetatable({}, { __mode = "k" })

-- An event's instant: the one read with it, or its timestamp when that is
-- an instant already (an event made by hand).
local function instant_of(ev) return INSTANT[ev] or ev.timestamp end

-- The checks every event gets, from either format: the names, the time,
-- the counts. `f` holds the fields as log:insert takes them; its instant
-- is kept for ordering. `example` is an accepted timestamp.
local function event_of(f, example)
  check_name("event_type", "event type", TYPES, synclua.event_types,
             f.event_type)
  if f.category ~= nil then
    check_name("category", "category", CATEGORIES, synclua.categories,
               f.category)
  end
  if f.severity ~= nil then
    check_name("severity", "severity", SEVERITIES, synclua.severities,
               f.severity)
  end
  local instant = synclua.parse_rfc3339(f.timestamp)
  if not instant then
    refuse(("timestamp: not RFC 3339: %s (e.g. '%s')")
      :format(f.timestamp, example), "timestamp")
  end
  INSTANT[f] = instant
  return f
end

-- 1 + the line breaks in text before position p.
local function line_at(text, p)
  local n, q = 1, text:find("\n", 1, true)
  while q and q < p do
    n = n + 1
    q = text:find("\n", q + 1, true)
  end
  return n
end

-- ---------------------------------------------------------------- JSON

local NULL = synclua.null

local function kind(v)
  if v == NULL then return "null" end
  if type(v) == "table" then
    return getmetatable(v) == ARRAY_MT and "array" or "object"
  end
  return type(v)
end

-- The string fields of an element, and those it must have.
local STRINGS = { "event_type", "timestamp", "summary", "severity",
                  "category", "device_id", "correlation_id",
                  "peer_device_id" }
local MUST = { event_type = true, timestamp = true, summary = true }

-- An element of the array becomes the event table itself (a large export
-- makes no second table per event): nulls dropped, `id` dropped, details
-- kept as their JSON text (log:insert writes it as Spacedrive stores
-- details), the counts read from theirs, model types kept as the list.
local function json_event(el, device)
  if type(el) ~= "table" or getmetatable(el) == ARRAY_MT then
    refuse("an event object expected, got " .. kind(el))
  end
  -- what synclua timeline adds to an event: the label and corrected time
  el.device_label, el.adjusted_timestamp = nil, nil
  for k in pairs(el) do
    if not JSON_FIELDS[k] then
      local unknown = {}
      for key in pairs(el) do
        if not JSON_FIELDS[key] then unknown[#unknown + 1] = tostring(key) end
      end
      table.sort(unknown)
      refuse(("unknown field '%s'"):format(unknown[1]), unknown[1])
    end
  end
  for i = 1, #STRINGS do
    local k = STRINGS[i]
    local v = el[k]
    if v == NULL then
      v = nil
      el[k] = nil
    end
    if v == nil then
      if MUST[k] then refuse(k .. ": missing", k) end
    elseif type(v) ~= "string" then
      refuse(("%s: string expected, got %s"):format(k, kind(v)), k)
    end
  end
  if el.details == "null" then el.details = nil end -- JSON text (AS_TEXT)
  local models = el.model_types
  if models == NULL then
    el.model_types = nil
  elseif models ~= nil then
    if kind(models) ~= "array" then
      refuse("model_types: list of strings expected, got " .. kind(models),
             "model_types")
    end
    for i = 1, #models do
      if type(models[i]) ~= "string" then
        refuse("model_types: list of strings expected", "model_types")
      end
    end
  end
  for _, k in ipairs{ "record_count", "duration_ms" } do
    local v = el[k]                -- JSON text (AS_TEXT)
    if v == "null" then
      el[k] = nil
    elseif v ~= nil then
      el[k] = integer_of(v) or refuse(("%s: integer expected, got %s")
        :format(k, v), k)
    end
  end
  if el.id ~= nil and el.id ~= NULL and math.type(el.id) ~= "integer" then
    refuse(("id: integer expected, got %s"):format(
      type(el.id) == "number" and tostring(el.id) or kind(el.id)), "id")
  end
  el.id = nil
  if el.device_id == nil then el.device_id = device end
  return event_of(el, "2025-12-03T10:15:00.123Z")
end

-- The line of the index-th element of the top-level array in text, or of
-- its member `key` when it has one. (Only for messages: the parser gives
-- no positions of its values.)
local function locate(text, index, key)
  local pos, depth, commas, target = 1, 0, 0, nil
  local function start(p) return text:find("%S", p) or p end
  while true do
    local s, _, c = text:find('([%[%]{},"])', pos)
    if not s then break end
    if c == '"' then
      local e = s + 1
      while true do
        local q = text:find('["\\]', e)
        if not q then return line_at(text, target or s) end
        if text:byte(q) == 92 then e = q + 2 else e = q; break end
      end
      if target and key and depth == 2 and text:sub(s + 1, e - 1) == key
         and text:find("^%s*:", e + 1) then
        return line_at(text, s)
      end
      pos = e + 1
    elseif c == "[" or c == "{" then
      depth = depth + 1
      if depth == 1 and index == 1 then target = start(s + 1) end
      pos = s + 1
    elseif c == "]" or c == "}" then
      depth = depth - 1
      if target and depth < 2 then break end
      pos = s + 1
    else -- ","
      if depth == 1 then
        commas = commas + 1
        if target then break end
        if commas + 1 == index then target = start(s + 1) end
      end
      pos = s + 1
    end
  end
  return line_at(text, target or 1)
end

local function json(text, name, device, hint)
  local doc, err = synclua.json_decode(text, AS_TEXT)
  if doc == nil then
    local reason, l, c = err:match("^(.*) at line (%d+) column (%d+)$")
    if not reason then return nil, name .. ": " .. err end
    return nil, ("%s: line %s column %s: %s"):format(name, l, c, reason)
  end
  local at = 0
  local ok, why = attempt(function()
    for i = 1, #doc do
      at = i
      local ev = json_event(doc[i], device)
      if not ev.device_id then return "device" end
    end
  end)
  if ok == "device" then
    return nil, ("%s: the events carry no device_id (a JSON export made "
      .. "without --with-device): give their device with %s")
      :format(name, hint or "--device UUID")
  elseif why then
    return nil, ("%s: line %d: %s"):format(name,
      locate(text, at, why.field), why.reason)
  end
  setmetatable(doc, nil)
  return doc
end

-- ----------------------------------------------------------------- SQL

-- The 12 values after "VALUES (" at pos: a list (false for NULL), their
-- positions, and the position after ");" -- or nil, the position of the
-- trouble and the reason.
local function values(text, pos)
  local vals, at = {}, {}
  for col = 1, 12 do
    if col > 1 then
      if text:sub(pos, pos + 1) ~= ", " then
        return nil, pos + 1 > #text and #text + 1 or pos,
          "expected ', ' before the value of " .. COLUMNS[col]
      end
      pos = pos + 2
    end
    at[col] = pos
    local c = text:byte(pos)
    if c == 39 then -- a quoted string, '' standing for '
      local p, parts = pos + 1, nil
      while true do
        local q = text:find("'", p, true)
        if not q then
          return nil, #text + 1, COLUMNS[col] .. ": unterminated string"
        end
        if text:byte(q + 1) == 39 then
          parts = parts or {}
          parts[#parts + 1] = text:sub(p, q)
          p = q + 2
        else
          local last = text:sub(p, q - 1)
          if parts then
            parts[#parts + 1] = last
            last = table.concat(parts)
          end
          vals[col], pos = last, q + 1
          break
        end
      end
    elseif text:sub(pos, pos + 3) == "NULL" then
      vals[col], pos = false, pos + 4
    else
      local s, e = text:find("^%-?%d+", pos)
      if not s then
        return nil, pos, ("%s: expected a quoted string, NULL or an integer")
          :format(COLUMNS[col])
      end
      local n = integer_of(text:sub(s, e))
      if not n then
        return nil, pos, ("%s: integer out of range: %s")
          :format(COLUMNS[col], text:sub(s, e))
      end
      vals[col], pos = n, e + 1
    end
  end
  if text:sub(pos, pos + 1) ~= ");" then
    return nil, pos + 1 > #text and #text + 1 or pos,
      "expected ');' after the 12 values"
  end
  return vals, at, pos + 2
end

local REQUIRED = { timestamp = true, device_id = true, event_type = true,
                   category = true, severity = true, summary = true }

-- The event of an INSERT's values; a refusal names the column.
local function sql_event(vals)
  local f = {}
  for col, name in ipairs(COLUMNS) do
    local v = vals[col]
    if col >= 11 then
      if type(v) == "string" then
        refuse(("%s: an integer or NULL expected, got a string")
          :format(name), name)
      end
      f[name] = v or nil
    elseif v == false then
      if REQUIRED[name] then
        refuse(name .. ": NULL (a value is required)", name)
      end
    elseif type(v) ~= "string" then
      refuse(("%s: a quoted string expected, got %d"):format(name, v), name)
    else
      f[name] = v
    end
  end
  if f.details then
    local ok, err = synclua.json_decode(f.details)
    if ok == nil then refuse("details: not JSON: " .. err, "details") end
  end
  return event_of(f, "2025-12-03T10:15:00.123+00:00")
end

local COLUMN_INDEX = {}
for i, name in ipairs(COLUMNS) do COLUMN_INDEX[name] = i end

local function sql(text, name)
  local events, pos, len, begun = {}, 1, #text, false
  local function fail(p, reason)
    return nil, ("%s: line %d: %s"):format(name, line_at(text, p), reason)
  end
  while true do
    local s = text:find("%S", pos)
    if not s then break end
    pos = s
    if text:sub(pos, pos + 1) == "--" then
      pos = (text:find("\n", pos, true) or len) + 1
    elseif text:sub(pos, pos + #INSERT - 1) == INSERT then
      local vals, at, after = values(text, pos + #INSERT)
      if not vals then
        if at > len then after = "unexpected end of file (truncated?)" end
        return fail(at, after)
      end
      local ev, why = attempt(sql_event, vals)
      if not ev then
        return fail(at[COLUMN_INDEX[why.field]] or at[1], why.reason)
      end
      events[#events + 1] = ev
      pos = after
    elseif text:find("^BEGIN;", pos) then
      if begun then return fail(pos, "BEGIN; inside a transaction") end
      begun, pos = true, pos + 6
    elseif text:find("^COMMIT;", pos) then
      if not begun then return fail(pos, "COMMIT; without BEGIN;") end
      begun, pos = false, pos + 7
    elseif text:find("^CREATE TABLE IF NOT EXISTS sync_event_log %(", pos)
        or text:find("^CREATE TABLE sync_event_log %(", pos)
        or text:find("^CREATE INDEX IF NOT EXISTS [%w_]+ ON "
                     .. "sync_event_log%([%w_, ]+%);", pos) then
      local e = text:find(";", pos, true)
      if not e then return fail(pos, "unterminated CREATE statement") end
      pos = e + 1
    elseif len - pos + 1 < #INSERT
        and INSERT:sub(1, len - pos + 1) == text:sub(pos) then
      return fail(pos, "unexpected end of file (truncated?)")
    else
      local stmt = text:match("^[^\n]*", pos)
      if #stmt > 40 then stmt = stmt:sub(1, 40) .. "..." end
      return fail(pos, ("expected INSERT INTO sync_event_log (timestamp, "
        .. "...) VALUES (...); as `sd sync events --format sql` writes "
        .. "it, got: %s"):format(stmt))
    end
  end
  if begun then
    return fail(len + 1, "unexpected end of file: BEGIN; without COMMIT; "
      .. "(truncated?)")
  end
  return events
end

-- -------------------------------------------------------------- NDJSON

-- One JSON object a line, as `synclua events -f ndjson` writes them (the
-- elements of the JSON export, one per line).
local function ndjson(text, name, device, hint)
  local events, n = {}, 0
  for line in text:gmatch("[^\n]*") do
    n = n + 1
    if line:find("%S") then
      local el, err = synclua.json_decode(line, AS_TEXT)
      if el == nil then
        local reason, c = err:match("^(.*) at line %d+ column (%d+)$")
        return nil, ("%s: line %d column %s: %s"):format(name, n, c or "1",
                                                          reason or err)
      end
      local ev, why = attempt(json_event, el, device)
      if not ev then
        return nil, ("%s: line %d: %s"):format(name, n, why.reason)
      end
      if not ev.device_id then
        return nil, ("%s: the events carry no device_id (an export made "
          .. "without --with-device): give their device with %s")
          :format(name, hint or "--device UUID")
      end
      events[#events + 1] = ev
    end
  end
  return events
end

-- Is text NDJSON: several JSON values a line, or one object that is an
-- event (a JSON object of anything else is not an export)?
local function ndjson_text(text)
  local doc = synclua.json_decode(text)
  if doc == nil then return text:find("\n%s*{") ~= nil end
  return type(doc) == "table" and doc.event_type ~= nil
end

-- ----------------------------------------------------------------- CSV

local CSV_HEADER = "id,timestamp,device_id,event_type,category,severity,"
  .. "summary,details,correlation_id,peer_device_id,model_types,"
  .. "record_count,duration_ms"

-- The records of RFC 4180 text: lists of fields, false for an empty
-- unquoted field (NULL), with the line each record starts on; or nil, the
-- line and the reason.
local function csv_records(text)
  local records, pos, len, line = {}, 1, #text, 1
  while pos <= len do
    local fields, start = {}, line
    while true do
      local c = text:sub(pos, pos)
      local value
      if c == '"' then
        local parts, p = {}, pos + 1
        while true do
          local q = text:find('"', p, true)
          if not q then return nil, start, "unterminated quoted field" end
          parts[#parts + 1] = text:sub(p, q - 1)
          if text:sub(q + 1, q + 1) == '"' then
            parts[#parts + 1] = '"'
            p = q + 2
          else
            pos = q + 1
            break
          end
        end
        value = table.concat(parts)
        line = line + select(2, value:gsub("\n", ""))
      else
        local e = text:find("[,\r\n]", pos) or len + 1
        value = text:sub(pos, e - 1)
        if value:find('"', 1, true) then
          return nil, line, "a quote inside an unquoted field"
        end
        if value == "" then value = false end
        pos = e
      end
      fields[#fields + 1] = value
      local sep = text:sub(pos, pos)
      if sep == "," then
        pos = pos + 1
      else
        if text:sub(pos, pos + 1) == "\r\n" then pos = pos + 2
        elseif sep == "\n" then pos = pos + 1
        elseif pos <= len then
          return nil, line, "expected ',' or a line end after a field"
        end
        line = line + 1
        break
      end
    end
    records[#records + 1] = { fields = fields, line = start }
  end
  return records
end

-- `synclua events -f csv` (and the timeline's, with two more columns):
-- every column as stored.
local function csv(text, name)
  local records, at, why = csv_records(text)
  if not records then
    return nil, ("%s: line %d: %s"):format(name, at, why)
  end
  local head = records[1] and table.concat(
    (function()
      local t = {}
      for i, f in ipairs(records[1].fields) do t[i] = f or "" end
      return t
    end)(), ",")
  if head ~= CSV_HEADER and head ~= CSV_HEADER
     .. ",device_label,adjusted_timestamp" then
    return nil, ("%s: line 1: expected the CSV header %s"):format(name,
                                                                CSV_HEADER)
  end
  local events = {}
  for i = 2, #records do
    local r = records[i]
    local f = r.fields
    if #f ~= 13 and #f ~= 15 then
      return nil, ("%s: line %d: %d fields, expected 13"):format(name, r.line,
                                                                  #f)
    end
    local vals = {}
    for col = 2, 13 do
      local v = f[col]
      if col >= 12 and v then
        local n = integer_of(v)
        if not n then
          return nil, ("%s: line %d: %s: integer expected, got '%s'")
            :format(name, r.line, COLUMNS[col - 1], v)
        end
        v = n
      end
      vals[col - 1] = v
    end
    local ev, err = attempt(sql_event, vals)
    if not ev then
      return nil, ("%s: line %d: %s"):format(name, r.line, err.reason)
    end
    events[#events + 1] = ev
  end
  return events
end

-- ------------------------------------------------------------- reading

--- Read the events of an export given as text.
-- @tparam string text the file's bytes
-- @tparam string name the file's name, for messages
-- @tparam[opt] table opts `device`: the device of events that carry none
--   (a JSON export made without --with-device); `device_option`: how the
--   message for such an export without `device` says to give one
--   (default "--device UUID")
-- @return a list of event tables in file order, or nil, message, "invalid"
function M.parse(text, name, opts)
  if type(text) ~= "string" then
    error(("bad argument #1 to 'parse' (string expected, got %s)")
      :format(type(text)), 2)
  end
  if type(name) ~= "string" then
    error(("bad argument #2 to 'parse' (string expected, got %s)")
      :format(type(name)), 2)
  end
  if opts ~= nil and type(opts) ~= "table" then
    error(("bad argument #3 to 'parse' (table expected, got %s)")
      :format(type(opts)), 2)
  end
  for _, k in ipairs{ "device", "device_option" } do
    local v = opts and opts[k]
    if v ~= nil and type(v) ~= "string" then
      error(("bad argument #3 to 'parse' (%s: string expected, got %s)")
        :format(k, type(v)), 2)
    end
  end
  local device = opts and opts.device
  local p = text:find("%S")
  local events, err
  if not p then
    err = name .. ": empty file: not an export of sync events (a JSON "
      .. "array or an SQL script)"
  elseif text:find("^%[", p) then
    events, err = json(text, name, device, opts and opts.device_option)
  elseif text:find("^%-%-", p) or text:find("^INSERT ", p)
      or text:find("^CREATE ", p) or text:find("^BEGIN;", p)
      or text:find("^COMMIT;", p) then
    events, err = sql(text, name)
  elseif text:find("^{", p) and ndjson_text(text) then
    events, err = ndjson(text, name, device, opts and opts.device_option)
  elseif text:find("^id,timestamp,", p) then
    events, err = csv(text, name)
  elseif text:find('^[{"%-%dtfn]', p) then
    local doc = synclua.json_decode(text)
    if doc == nil then
      events, err = json(text, name, device, opts and opts.device_option)
    else
      local k = kind(doc)
      local column = p - (text:sub(1, p - 1):match(".*\n()") or 1) + 1
      err = ("%s: line %d column %d: expected a JSON array of events, "
        .. "got %s"):format(name, line_at(text, p), column,
                            k == "null" and k
                              or (k == "object" and "an " or "a ") .. k)
    end
  else
    err = ("%s: line %d: not an export of sync events (expected a JSON "
      .. "array or an SQL script, as synclua events -f json or -f sql "
      .. "writes them)"):format(name, line_at(text, p))
  end
  if not events then return nil, err, "invalid" end
  return events
end

--- Read the events of an export file ("-": standard input).
-- @tparam string path the file
-- @tparam[opt] table opts as `parse` takes them
-- @return a list of event tables in file order, as log:insert takes them
--   (timestamp and details the text as given, details compact with sorted
--   keys from JSON; model_types a list from JSON, joined text from SQL),
--   or nil, message, code: "invalid"
--   for a file that is not a well-formed export, "notfound" or "ioerr"
--   when it cannot be read
function M.read(path, opts)
  if type(path) ~= "string" then
    error(("bad argument #1 to 'read' (string expected, got %s)")
      :format(type(path)), 2)
  end
  if opts ~= nil and type(opts) ~= "table" then
    error(("bad argument #2 to 'read' (table expected, got %s)")
      :format(type(opts)), 2)
  end
  local text, err, errno
  if path == "-" then
    text, err = io.stdin:read("a")
    path = "stdin"
  else
    local f
    f, err, errno = io.open(path, "rb")
    if not f then return nil, err, errno == 2 and "notfound" or "ioerr" end
    text, err = f:read("a")
    f:close()
  end
  if not text then return nil, path .. ": " .. tostring(err), "ioerr" end
  return M.parse(text, path, opts)
end

--- Several files' events as one list in time order (oldest first), for
-- `log:insert`: the ids a store gives them then follow time, as in a store
-- its device wrote. A list in export order (newest first, events of the
-- same instant in ascending id, as Spacedrive exports them) is read from
-- its end one instant at a time, each instant's events forwards, so they
-- keep their device's order; across lists, ties keep the order of the
-- lists.
-- @tparam {table,...} lists event lists as `read` returns them
-- @treturn table one list (the same event tables)
function M.merge(lists)
  if type(lists) ~= "table" then
    error(("bad argument #1 to 'merge' (table expected, got %s)")
      :format(type(lists)), 2)
  end
  local all = {}
  for _, list in ipairs(lists) do
    local n = #list
    local backwards = n > 1 and not (instant_of(list[1]) < instant_of(list[n]))
    if backwards then
      local last = n
      while last >= 1 do
        local first = last
        while first > 1 and
              instant_of(list[first - 1]) == instant_of(list[last]) do
          first = first - 1
        end
        for j = first, last do all[#all + 1] = list[j] end
        last = first - 1
      end
    else
      for j = 1, n do all[#all + 1] = list[j] end
    end
  end
  for i = 2, #all do
    if instant_of(all[i]) < instant_of(all[i - 1]) then
      local order = {}
      for k, ev in ipairs(all) do order[ev] = k end
      table.sort(all, function(a, b)
        local x, y = instant_of(a), instant_of(b)
        if x ~= y then return x < y end
        return order[a] < order[b]
      end)
      break
    end
  end
  return all
end

return M
