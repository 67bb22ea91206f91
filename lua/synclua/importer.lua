--- synclua.importer: exports read back into events. The files
-- `synclua events` and Spacedrive's `sd sync events` write -- a JSON array
-- (the default nine keys, or --with-device), an SQL script (Spacedrive's
-- INSERT lines, with or without our CREATE TABLE, BEGIN; and COMMIT;), or
-- synclua's NDJSON (one element a line) and CSV (every column as stored)
-- --
-- become the event tables that `log:insert` and an import's `add` take,
-- so several devices' exports can be loaded into one store (`synclua
-- import`, and the timeline's JSON sources).
--
-- Files are read as a stream: a chunk of bytes at a time (CHUNK), handed
-- on as lists of events (`stream`), so memory stays flat whatever the
-- file's size, and an endless input (/dev/zero, a FIFO that never stops)
-- is refused after a bounded look: no event, and no run of blank space,
-- may take more than MAX_EVENT bytes. The format is recognised by content.
-- Every event is checked here, so a bad file is refused with its name, a
-- line (and for JSON syntax a column) and the reason: "x.json: line 3
-- column 14: unexpected character '\"'", "x.sql: line 9: Invalid event
-- type: foo (valid: ...)". JSON is decoded by the core's parser, an
-- element (or a line) at a time in the layout synclua and Spacedrive
-- write, else a run of elements at a time (integers stay exact, floats
-- keep serde's shortest form when written again), and the decoded
-- elements become the event tables.
local synclua = require "synclua"

local M = {}

-- Bytes read at a time, and the most one event (an element, a line, a
-- statement, a record) or a run of blank space may take.
local CHUNK = 1 << 20
local MAX_EVENT = 4 << 20
local MAX_MIB = MAX_EVENT >> 20

-- Events handed on at a time by the SQL and CSV readers (JSON and NDJSON
-- hand on what one chunk held).
local BATCH = 2048

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

-- The instant of each event `read` and `parse` return, for `merge`; its
-- timestamp stays the text it was given, which the store reads as chrono
-- does (a leap second stays second 60). (`stream` keeps none: an import
-- orders by the instant the core reads.)
local INSTANT = setmetatable({}, { __mode = "k" })

-- An event's instant: the one read with it, or its timestamp when that is
-- an instant already (an event made by hand).
local function instant_of(ev) return INSTANT[ev] or ev.timestamp end

-- The checks every event gets, from any format: the names, the time, the
-- counts. `f` holds the fields as log:insert takes them. `example` is an
-- accepted timestamp.
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
local COUNTS = { "record_count", "duration_ms" }

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
  for i = 1, 2 do
    local k = COUNTS[i]
    local v = el[k]                -- JSON text (AS_TEXT)
    if v == "null" then
      el[k] = nil
    elseif v ~= nil then
      local n = tonumber(v)        -- the writer's digits: an integer, or
      if math.type(n) ~= "integer" then n = integer_of(v) end -- not
      el[k] = n or refuse(("%s: integer expected, got %s"):format(k, v), k)
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


-- -------------------------------------------------------------- source

-- The end of a read: a message naming the file, and its code ("invalid",
-- "ioerr", or what a sink returned).
local Stop = {}

local function stop(message, code)
  error(setmetatable({ message = message, code = code or "invalid" }, Stop),
        0)
end

-- Characters in s as the JSON parser counts columns (UTF-8 lead bytes).
local function chars(s)
  return #(s:gsub("[\128-\191]", ""))
end

-- Line breaks in s.
local function breaks(s)
  local n, i, find = 0, 1, string.find
  while true do
    i = find(s, "\n", i, true)
    if not i then return n end
    n, i = n + 1, i + 1
  end
end

-- The text after the last line break of s (all of s without one).
local function last_line(s)
  local tail = s:sub(-256)
  local r = tail:reverse():find("\n", 1, true)
  if not r and #tail < #s then
    r = s:reverse():find("\n", 1, true)
    tail = s
  end
  return r and tail:sub(#tail - r + 2) or s
end

-- The last occurrence of `plain` in s (looked for near the end first), or
-- nil.
local function last_of(s, plain)
  local last, i = nil, math.max(1, #s - 65536)
  while true do
    local j = s:find(plain, i, true)
    if j then
      last, i = j, j + 1
    elseif last or i == 1 then
      return last
    else
      i = 1
    end
  end
end

-- A file read CHUNK bytes at a time (or a text given whole): `buf` holds
-- what is read and not yet consumed, `base` how many bytes came before
-- it. Lines and columns are only for messages: a file that can be read
-- again (a regular one) is, from its start, when one is needed; for a
-- pipe, `line` and `col` follow buf's first byte as it is consumed.
local Source = {}
Source.__index = Source

local function source(name, text, file)
  local src = setmetatable({ name = name, buf = text or "", file = file,
                             eof = file == nil, base = 0, text = text },
                           Source)
  if file then
    src.start = file:seek("cur")
    if not src.start then src.line, src.col = 1, 1 end
  end
  return src
end

-- Read another chunk onto buf; false at the end of the input.
function Source:more()
  if self.eof then return false end
  local chunk, err = self.file:read(CHUNK)
  if chunk == nil then
    if err then stop(self.name .. ": " .. err, "ioerr") end
    self.eof = true
    return false
  end
  self.buf = self.buf == "" and chunk or self.buf .. chunk
  return true
end

-- Forget buf before position p.
function Source:drop(p)
  if p <= 1 then return end
  if self.line then
    local gone = self.buf:sub(1, p - 1)
    local n = breaks(gone)
    if n > 0 then
      self.line, self.col = self.line + n, 1 + chars(last_line(gone))
    else
      self.col = self.col + chars(gone)
    end
  end
  self.base = self.base + p - 1
  self.buf = self.buf:sub(p)
end

-- The line and column of the `offset`-th byte of the file (from 0), the
-- file read again from its start.
function Source:again(offset)
  if self.text then
    local before = self.text:sub(1, offset)
    return breaks(before) + 1, 1 + chars(last_line(before))
  end
  local f = self.file
  local here = f:seek("cur")
  f:seek("set", self.start)
  local line, tail, left = 1, "", offset
  while left > 0 do
    local chunk = f:read(math.min(CHUNK, left))
    if not chunk then break end
    left = left - #chunk
    local n = breaks(chunk)
    if n > 0 then
      line, tail = line + n, last_line(chunk)
    else
      tail = tail .. chunk
    end
  end
  f:seek("set", here)
  return line, 1 + chars(tail)
end

-- The line and column in the file of buf's position p.
function Source:where(p)
  if not self.line then return self:again(self.base + p - 1) end
  local before = self.buf:sub(1, p - 1)
  local n = breaks(before)
  if n == 0 then return self.line, self.col + chars(before) end
  return self.line + n, 1 + chars(last_line(before))
end

-- Refuse the file at buf's position p.
function Source:refuse(p, reason)
  stop(("%s: line %d: %s"):format(self.name, (self:where(p)), reason))
end

-- No event (nor run of blank space) takes more than MAX_EVENT bytes: an
-- export never does, and an endless input cannot fill memory.
function Source:too_long(p, what)
  self:refuse(p, ("%s of more than %d MiB: not an export of sync events")
    :format(what, MAX_MIB))
end

-- ------------------------------------------------------ JSON, streamed

-- JSON text decoded as an export's elements are: the value, or nil, the
-- reason and the line and column the parser gives.
local function decode(text)
  local doc, err = synclua.json_decode(text, AS_TEXT)
  if doc ~= nil then return doc end
  local reason, l, c = err:match("^(.*) at line (%d+) column (%d+)$")
  return nil, reason or err, tonumber(l), tonumber(c)
end

-- Did the parser stop where the text was cut, so that more input may mend
-- it?
local function cut_short(reason)
  return reason == "unexpected end of input"
    or reason == "unterminated string"
end

-- Refuse the parser's complaint about prefix .. src.buf, at its place in
-- the file.
local function syntax(src, prefix, reason, l, c)
  if not l then stop(src.name .. ": " .. reason) end
  local line, col = src:where(1)
  line = line + l - 1
  if l == 1 then col = col + c - 1 - #prefix else col = c end
  stop(("%s: line %d column %d: %s"):format(src.name, line, col, reason))
end

-- The events of the array elements in doc (decoded from text, whose
-- first `skip` elements are not the file's), checked; a refusal names the
-- line of the element, or of its member at fault.
local function json_events(src, text, doc, skip, device, hint)
  local n = #doc
  for i = skip + 1, n do
    local ev, why = attempt(json_event, doc[i], device)
    if not ev then
      stop(("%s: line %d: %s"):format(src.name,
        src:where(1) + locate(text, i, why.field) - 1, why.reason))
    end
    if not ev.device_id then
      stop(("%s: the events carry no device_id (a JSON export made "
        .. "without --with-device): give their device with %s")
        :format(src.name, hint or "--device UUID"))
    end
  end
  setmetatable(doc, nil)
  if skip > 0 then
    table.move(doc, skip + 1, n, 1)
    for i = n - skip + 1, n do doc[i] = nil end
  end
  return doc
end

-- Where the elements of a JSON array end, in any layout: nesting and
-- strings followed from `pos` on, across refills; `comma` is the last
-- separator between elements, `closed` the array's closing bracket.
local function splitter(depth)
  return { pos = 1, depth = depth, str = false }
end

local function split(sp, buf)
  local i, d = sp.pos, sp.depth
  local find, byte = string.find, string.byte
  local in_string = sp.str
  while true do
    if in_string then
      local q = find(buf, '["\\]', i)
      if not q then
        sp.pos, sp.depth, sp.str = math.max(i, #buf + 1), d, true
        return
      end
      if byte(buf, q) == 92 then
        i = q + 2
      else
        i, in_string = q + 1, false
      end
    else
      local j = find(buf, '[%[%]{},"]', i)
      if not j then
        i = #buf + 1
        break
      end
      local c = byte(buf, j)
      i = j + 1
      if c == 34 then
        in_string = true
      elseif c == 91 or c == 123 then
        d = d + 1
      elseif c == 93 or c == 125 then
        d = d - 1
        if d == 0 then
          sp.closed = j
          break
        end
      elseif d == 1 then
        sp.comma = j
      end
    end
  end
  sp.pos, sp.depth, sp.str = i, d, false
end

-- After the array: blank space to the end (read in bounded memory), or
-- the parser's complaint about what follows.
local function trailing(src)
  local blank = 0
  while true do
    local tail = src.buf:find("%S")
    if tail then
      local _, reason, l, c = decode("[]" .. src.buf:sub(1, tail))
      syntax(src, "[]", reason, l, c)
    end
    blank = blank + #src.buf
    if blank > MAX_EVENT then src:too_long(1, "blank space") end
    src:drop(#src.buf + 1)
    if not src:more() then return end
  end
end

-- The events of the elements of buf from `from` to `cut`, which end where
-- a line "  }," does (serde's layout), each decoded on its own (inside
-- "[...]", at the depth it has in the file); nil when any one is not a
-- good event, for the whole run to be read again and the trouble named.
local function serde_elements(buf, from, cut, device)
  local events, n, i = {}, 0, from
  local find, sub, decode_one = string.find, string.sub, synclua.json_decode
  while true do
    local j = find(buf, "\n  },", i, true)
    local e = j and j + 3 < cut and j + 3 or cut
    local doc = decode_one("[" .. sub(buf, i, e) .. "]", AS_TEXT)
    if doc == nil or doc[2] ~= nil then return nil end
    local ok, ev = pcall(json_event, doc[1], device)
    if not ok or not ev.device_id then return nil end
    n = n + 1
    events[n] = ev
    if e == cut then return events end
    i = j + 5
  end
end

-- A JSON array, src.buf at its "[". Runs of whole elements are decoded at
-- once, "[0," standing in for the elements before the run, so that the
-- parser is where it was in the file: its messages and their places are
-- the whole file's. Serde's pretty layout (`synclua events`, `sd sync
-- events`) is cut where a line "  }," ends an element (no string holds a
-- raw line break); any other layout where the splitter finds a separator.
-- A cut in the wrong place shows as a run the parser refuses although the
-- text up to the cut has no error: the splitter takes over from there.
local function json_stream(src, device, hint, emit)
  local prefix, sp = "", nil
  while true do
    local buf = src.buf
    local skip = prefix == "" and 0 or 1
    local cut, resume
    if not sp then
      local hit = last_of(buf, "\n  },")
      if hit then
        cut, resume = hit + 3, hit + 5
      elseif #buf > 2 * CHUNK then
        sp = splitter(skip)
      end
    end
    if sp then
      split(sp, buf)
      if sp.comma then cut, resume = sp.comma - 1, sp.comma + 1 end
    end
    if sp and sp.closed then
      -- The last elements and the closing bracket; then blank space.
      local text = prefix .. buf:sub(1, sp.closed)
      local doc, reason, l, c = decode(text)
      if doc == nil then syntax(src, prefix, reason, l, c) end
      emit(json_events(src, text, doc, skip, device, hint))
      src:drop(sp.closed + 1)
      return trailing(src)
    elseif cut then
      -- With an import as the sink, the core reads what it can of the run:
      -- all of it, or its elements up to a comma; on from there.
      local taken = src.fast and src.fast("json", buf, 2 - skip, cut, device)
      if taken and taken > 2 - skip then
        local gone = taken > cut and resume or taken
        src:drop(gone)
        prefix = "[0,"
        if sp then sp.pos, sp.comma = sp.pos - gone + 1, nil end
      else
        -- In serde's layout element by element; else (or to name what is
        -- wrong) the run as a whole.
        local events = not sp and serde_elements(buf, 2 - skip, cut, device)
        if not events then
          local text = prefix .. buf:sub(1, cut) .. "]"
          local doc = decode(text)
          if doc ~= nil then
            events = json_events(src, text, doc, skip, device, hint)
          else
            -- An error in the file, or a cut in the wrong place?
            local _, reason, l, c = decode(prefix .. buf)
            if reason and (src.eof or not cut_short(reason)) then
              syntax(src, prefix, reason, l, c)
            end
            if sp then syntax(src, prefix, select(2, decode(text))) end
            sp = splitter(skip)
          end
        end
        if events then
          emit(events)
          src:drop(resume)
          prefix = "[0,"
          if sp then sp.pos, sp.comma = sp.pos - resume + 1, nil end
        end
      end
    elseif src.eof then
      -- The last elements, the closing bracket and what follows it.
      local text = prefix .. buf
      local doc, reason, l, c = decode(text)
      if doc == nil then syntax(src, prefix, reason, l, c) end
      emit(json_events(src, text, doc, skip, device, hint))
      return
    else
      if #buf > MAX_EVENT then
        local _, reason, l, c = decode(prefix .. buf)
        if reason and not cut_short(reason) then
          syntax(src, prefix, reason, l, c)
        end
        src:too_long(buf:find("%S", 2) or 1, "an event")
      end
      src:more()
    end
  end
end

-- -------------------------------------------------------------- NDJSON

local function no_device(src, hint)
  stop(("%s: the events carry no device_id (an export made without "
    .. "--with-device): give their device with %s")
    :format(src.name, hint or "--device UUID"))
end

-- Whole lines of NDJSON (text starts a line, at buf's start), each
-- decoded on its own; a refusal names the line, and for syntax the
-- column.
local function ndjson_lines(src, text, device, hint)
  local events, n, line, i, len = {}, 0, 0, 1, #text
  local find, sub = string.find, string.sub
  while i <= len do
    local j = find(text, "\n", i, true) or len + 1
    local l = sub(text, i, j - 1)
    if find(l, "%S") then
      local el, err = synclua.json_decode(l, AS_TEXT)
      if el == nil then
        local reason, c = err:match("^(.*) at line %d+ column (%d+)$")
        stop(("%s: line %d column %s: %s"):format(src.name,
          src:where(1) + line, c or "1", reason or err))
      end
      local ev, why = attempt(json_event, el, device)
      if not ev then
        stop(("%s: line %d: %s"):format(src.name, src:where(1) + line,
                                         why.reason))
      end
      if not ev.device_id then no_device(src, hint) end
      n = n + 1
      events[n] = ev
    end
    line, i = line + 1, j + 1
  end
  return events
end

-- One JSON object a line, as `synclua events -f ndjson` writes them (the
-- elements of the JSON export, one per line).
local function ndjson_stream(src, device, hint, emit)
  local blank = 0
  while true do
    local buf = src.buf
    local last = src.eof and #buf or last_of(buf, "\n")
    -- With an import as the sink, the core reads what lines it can.
    local taken = last and last > 0 and src.fast
      and src.fast("ndjson", buf, 1, last, device)
    if taken and taken > 1 then
      blank = 0
      src:drop(taken)
    elseif last and last > 0 then
      local events = ndjson_lines(src, buf:sub(1, last), device, hint)
      if #events > 0 then
        emit(events)
        blank = 0
      else
        blank = blank + last
        if blank > MAX_EVENT then src:too_long(1, "blank space") end
      end
      src:drop(last + 1)
    elseif src.eof then
      return
    elseif #buf > MAX_EVENT then
      src:too_long(1, "a line")
    else
      src:more()
    end
  end
end

-- Is text NDJSON: several JSON values a line, or one object that is an
-- event (a JSON object of anything else is not an export)?
local function ndjson_text(text)
  local doc = synclua.json_decode(text)
  if doc == nil then return text:find("\n%s*{") ~= nil end
  return type(doc) == "table" and doc.event_type ~= nil
end

-- Statements at pos on, as `synclua events -f sql` and `sd sync events
-- --format sql` write them, each event refused at its column's line.
-- Whatever runs to the end of what is read (an INSERT cut in the middle)
-- is read again with the next chunk.
local function sql_stream(src, pos, emit)
  local events, begun, blank = {}, false, 0
  local function fail(p, reason) src:refuse(p, reason) end
  -- Read on, keeping the statement at pos; false at the end of the input.
  local function more()
    if src.eof then return false end
    if #src.buf - pos + 1 > MAX_EVENT then src:too_long(pos, "a statement") end
    src:drop(pos)
    pos = 1
    src:more()
    return true
  end
  while true do
    local text = src.buf
    local s = text:find("%S", pos)
    if not s then
      if src.eof then break end
      blank = blank + #text - pos + 1
      if blank > MAX_EVENT then src:too_long(pos, "blank space") end
      pos = #text + 1
      more()
    elseif #text - s < 255 and not src.eof then
      pos = s
      more()
    else
      pos, blank = s, 0
      local len = #text
      if text:sub(pos, pos + 1) == "--" then
        local e = text:find("\n", pos, true)
        if e or not more() then pos = (e or len) + 1 end
      elseif text:sub(pos, pos + #INSERT - 1) == INSERT then
        -- With an import as the sink, the core reads what statements it
        -- can (after the events read here, to keep their order); the one
        -- it stops at is read here.
        local taken
        if src.fast then
          if #events > 0 then
            emit(events)
            events = {}
          end
          taken = src.fast("sql", text, pos, len)
        end
        if taken and taken > pos then
          pos = taken
        else
          local vals, at, after = values(text, pos + #INSERT)
          if vals then
            local ev, why = attempt(sql_event, vals)
            if not ev then
              fail(at[COLUMN_INDEX[why.field]] or at[1], why.reason)
            end
            events[#events + 1] = ev
            if #events >= BATCH then
              emit(events)
              events = {}
            end
            pos = after
          elseif src.eof or at + 8 <= len or not more() then
            if at > len then after = "unexpected end of file (truncated?)" end
            fail(at, after)
          end
        end
      elseif text:find("^BEGIN;", pos) then
        if begun then fail(pos, "BEGIN; inside a transaction") end
        begun, pos = true, pos + 6
      elseif text:find("^COMMIT;", pos) then
        if not begun then fail(pos, "COMMIT; without BEGIN;") end
        begun, pos = false, pos + 7
      elseif text:find("^CREATE TABLE IF NOT EXISTS sync_event_log %(", pos)
          or text:find("^CREATE TABLE sync_event_log %(", pos)
          or text:find("^CREATE INDEX IF NOT EXISTS [%w_]+ ON "
                       .. "sync_event_log%([%w_, ]+%);", pos) then
        local e = text:find(";", pos, true)
        if e then
          pos = e + 1
        elseif not more() then
          fail(pos, "unterminated CREATE statement")
        end
      elseif len - pos + 1 < #INSERT
          and INSERT:sub(1, len - pos + 1) == text:sub(pos) then
        fail(pos, "unexpected end of file (truncated?)")
      else
        local stmt = text:match("^[^\n]*", pos)
        if #stmt > 40 then stmt = stmt:sub(1, 40) .. "..." end
        fail(pos, ("expected INSERT INTO sync_event_log (timestamp, "
          .. "...) VALUES (...); as `sd sync events --format sql` writes "
          .. "it, got: %s"):format(stmt))
      end
    end
  end
  if begun then
    fail(#src.buf + 1, "unexpected end of file: BEGIN; without COMMIT; "
      .. "(truncated?)")
  end
  if #events > 0 then emit(events) end
end

-- ----------------------------------------------------------------- CSV

local CSV_HEADER = "id,timestamp,device_id,event_type,category,severity,"
  .. "summary,details,correlation_id,peer_device_id,model_types,"
  .. "record_count,duration_ms"

-- A record of RFC 4180 text that ends before the end of what is read
-- (MORE: read on).
local MORE = {}

-- The record of text at pos: a list of fields, false for an empty
-- unquoted field (NULL); the position after it; the line breaks inside
-- its quoted fields. Or nil, MORE when the text ends inside it and more
-- may come; or nil, the reason and the line breaks before the trouble (0
-- for a quoted field never closed: its record's line).
local function csv_record(text, pos, eof)
  local fields, len, nl = {}, #text, 0
  -- A record on one line, with no quote nor lone CR in it: the fields
  -- between its commas.
  local find, sub = string.find, string.sub
  local e = find(text, "\n", pos, true)
  if e then
    local stop = text:byte(e - 1) == 13 and e > pos and e - 2 or e - 1
    local line = sub(text, pos, stop)
    if not find(line, '"', 1, true) and not find(line, "\r", 1, true) then
      local n, i = 0, 1
      while true do
        local c = find(line, ",", i, true)
        n = n + 1
        if not c then
          fields[n] = i <= #line and sub(line, i) or false
          return fields, e + 1, 0
        end
        fields[n] = c > i and sub(line, i, c - 1) or false
        i = c + 1
      end
    end
  end
  while true do
    local value
    if text:byte(pos) == 34 then
      local parts, p = {}, pos + 1
      while true do
        local q = text:find('"', p, true)
        if not q then
          if not eof then return nil, MORE end
          return nil, "unterminated quoted field", 0
        end
        if q == len and not eof then return nil, MORE end
        parts[#parts + 1] = text:sub(p, q - 1)
        if text:byte(q + 1) == 34 then
          parts[#parts + 1] = '"'
          p = q + 2
        else
          pos = q + 1
          break
        end
      end
      value = table.concat(parts)
      nl = nl + breaks(value)
    else
      local e = text:find("[,\r\n]", pos)
      if not e then
        if not eof then return nil, MORE end
        e = len + 1
      end
      value = text:sub(pos, e - 1)
      if value:find('"', 1, true) then
        return nil, "a quote inside an unquoted field", nl
      end
      if value == "" then value = false end
      pos = e
    end
    fields[#fields + 1] = value
    local sep = text:byte(pos)
    if sep == 44 then
      pos = pos + 1
    else
      if sep == 13 and pos == len and not eof then return nil, MORE end
      if sep == 13 and text:byte(pos + 1) == 10 then pos = pos + 2
      elseif sep == 10 then pos = pos + 1
      elseif pos <= len then
        return nil, "expected ',' or a line end after a field", nl
      end
      return fields, pos, nl
    end
  end
end

-- `synclua events -f csv` (and the timeline's, with two more columns):
-- every column as stored.
local function csv_stream(src, emit)
  local events, pos, first = {}, 1, true
  while true do
    local text = src.buf
    if pos > #text then
      if src.eof then break end
      src:drop(pos)
      pos = 1
      src:more()
    else
      -- With an import as the sink, the core reads what records it can
      -- (after the events read here, to keep their order); the one it
      -- stops at is read here.
      local taken
      if not first and src.fast then
        if #events > 0 then
          emit(events)
          events = {}
        end
        taken = src.fast("csv", text, pos, #text)
      end
      if taken and taken > pos then
        pos = taken
      else
        local f, after, nl = csv_record(text, pos, src.eof)
        if f == nil and after == MORE then
          if #text - pos + 1 > MAX_EVENT then src:too_long(pos, "a record") end
          src:drop(pos)
          pos = 1
          src:more()
        else
          local function fail(reason, extra)
            local line = src:where(pos)
            stop(("%s: line %d: %s"):format(src.name, line + (extra or 0),
                                             reason))
          end
          if f == nil then fail(after, nl) end
          if first then
            local head = {}
            for i, v in ipairs(f) do head[i] = v or "" end
            head = table.concat(head, ",")
            if head ~= CSV_HEADER and head ~= CSV_HEADER
               .. ",device_label,adjusted_timestamp" then
              fail("expected the CSV header " .. CSV_HEADER)
            end
            first = false
          else
            if #f ~= 13 and #f ~= 15 then
              fail(("%d fields, expected 13"):format(#f))
            end
            local vals = {}
            for col = 2, 13 do
              local v = f[col]
              if col >= 12 and v then
                local n = integer_of(v)
                if not n then
                  fail(("%s: integer expected, got '%s'"):format(
                    COLUMNS[col - 1], v))
                end
                v = n
              end
              vals[col - 1] = v
            end
            local ev, why = attempt(sql_event, vals)
            if not ev then fail(why.reason) end
            events[#events + 1] = ev
            if #events >= BATCH then
              emit(events)
              events = {}
            end
          end
          pos = after
        end
      end
    end
  end
  if #events > 0 then emit(events) end
end

-- ------------------------------------------------------------- reading

-- What a JSON value that is no array is, by its first character.
local KIND_OF = { ["{"] = "an object", ['"'] = "a string", t = "a boolean",
                  f = "a boolean", n = "null" }

-- Read src, recognised by content, handing its events to emit a list at
-- a time.
local function read_source(src, opts, emit)
  local device, hint = opts.device, opts.device_option
  -- The first character that is not blank: a bounded look.
  local p, from = nil, 1
  while true do
    p = src.buf:find("%S", from)
    if p or src.eof then break end
    if #src.buf > MAX_EVENT then
      src:refuse(1, ("not an export of sync events (nothing but blank "
        .. "space in its first %d MiB)"):format(MAX_MIB))
    end
    from = #src.buf + 1
    src:more()
  end
  if not p then
    stop(src.name .. ": empty file: not an export of sync events (a JSON "
      .. "array or an SQL script)")
  end
  while #src.buf - p < 32 and src:more() do end
  local text = src.buf
  if text:find("^%[", p) then
    src:drop(p)
    return json_stream(src, device, hint, emit)
  elseif text:find("^%-%-", p) or text:find("^INSERT ", p)
      or text:find("^CREATE ", p) or text:find("^BEGIN;", p)
      or text:find("^COMMIT;", p) then
    return sql_stream(src, p, emit)
  elseif text:find("^id,timestamp,", p) then
    return csv_stream(src, emit)
  elseif not text:find('^[{"%-%dtfn]', p) then
    src:refuse(p, "not an export of sync events (expected a JSON array or "
      .. "an SQL script, as synclua events -f json or -f sql writes them)")
  end
  -- An object a line (NDJSON), or a JSON value that is no array: a file
  -- read whole within the look is judged whole.
  while #src.buf < CHUNK and src:more() do end
  text = src.buf
  if text:find("^{", p) and (not src.eof or ndjson_text(text)) then
    return ndjson_stream(src, device, hint, emit)
  end
  local doc, reason, l, c = decode(text)
  if doc == nil and (src.eof or not cut_short(reason)) then
    syntax(src, "", reason, l, c)
  end
  local line, column = src:where(p)
  local k = KIND_OF[text:sub(p, p)] or "a number"
  if doc ~= nil then
    k = kind(doc)
    k = k == "null" and k or (k == "object" and "an " or "a ") .. k
  end
  stop(("%s: line %d column %d: expected a JSON array of events, got %s")
    :format(src.name, line, column, k))
end

-- The options of `fn`, its argument #arg, checked for its caller.
local function check_opts(opts, arg, fn)
  if opts ~= nil and type(opts) ~= "table" then
    error(("bad argument #%d to '%s' (table expected, got %s)")
      :format(arg, fn, type(opts)), 3)
  end
  for _, k in ipairs{ "device", "device_option" } do
    local v = opts and opts[k]
    if v ~= nil and type(v) ~= "string" then
      error(("bad argument #%d to '%s' (%s: string expected, got %s)")
        :format(arg, fn, k, type(v)), 3)
    end
  end
  return opts or {}
end

-- Is v an import (synclua.import)?
local function is_import(v)
  local mt = type(v) == "userdata" and getmetatable(v)
  return type(mt) == "table" and mt.__name == "synclua.Import"
end

-- Read src, handing its events to sink (a function, or an import); the
-- count, or nil, message, code for what ends the read.
local function run(src, opts, sink)
  local count = 0
  local function failed(message, code)
    message = message ~= nil and tostring(message) or "failed"
    if code == "invalid" then message = src.name .. ": " .. message end
    stop(message, code)
  end
  local function emit(events)
    count = count + #events
    local ok, message, code = sink(events)
    if not ok then failed(message, code) end
  end
  if is_import(sink) then
    -- The import takes lists of events, and what the core reads of the
    -- text itself (src.fast: the same events, read faster): the readers
    -- hand it a run of text first, and read on from where it stopped.
    local imp = sink
    sink = function(events) return imp:add(events) end
    src.fast = function(format, text, i, j, device)
      local n, after, code = imp:add_text(format, text, i, j, device)
      if not n then failed(after, code) end
      count = count + n
      return after
    end
  end
  local ok, e = pcall(read_source, src, opts, emit)
  if ok then return count end
  if getmetatable(e) == Stop then return nil, e.message, e.code end
  error(e, 0)
end

-- run on the file at path ("-": standard input).
local function run_path(path, opts, sink)
  local f, err, errno
  local name = path
  if path == "-" then
    f, name = io.stdin, "stdin"
  else
    f, err, errno = io.open(path, "rb")
    if not f then return nil, err, errno == 2 and "notfound" or "ioerr" end
  end
  local count, message, code = run(source(name, nil, f), opts, sink)
  if f ~= io.stdin then f:close() end
  return count, message, code
end

--- Read an export file a chunk at a time, handing its events on as they
-- come: flat memory whatever its size. Every event is checked before it
-- is handed on; the first bad one ends the read.
-- @tparam string path the file ("-": standard input)
-- @tparam function|userdata sink called with each list of events (the
--   tables `log:insert` and an import's `add` take, in file order; the
--   list is the sink's); it returns true to go on, or nil, message, code
--   to stop. Or an import (synclua.import), which gets the same events in
--   the same order, most of them read from the file's text by the core
--   (imp:add_text) rather than made into tables: much faster
-- @tparam[opt] table opts as `parse` takes them
-- @return the number of events read, or nil, message, code: "invalid"
--   for a file that is not a well-formed export (or an endless input),
--   "notfound" or "ioerr" when it cannot be read, or what the sink
--   returned (an "invalid" message then names the file first)
function M.stream(path, sink, opts)
  if type(path) ~= "string" then
    error(("bad argument #1 to 'stream' (string expected, got %s)")
      :format(type(path)), 2)
  end
  if type(sink) ~= "function" and not is_import(sink) then
    error(("bad argument #2 to 'stream' (function expected, got %s)")
      :format(type(sink)), 2)
  end
  return run_path(path, check_opts(opts, 3, "stream"), sink)
end

-- A sink that keeps every event in one list, each event's instant beside
-- it for `merge`.
local function collector()
  local all = {}
  return all, function(events)
    for i = 1, #events do
      local ev = events[i]
      INSTANT[ev] = synclua.parse_rfc3339(ev.timestamp)
      all[#all + 1] = ev
    end
    return true
  end
end

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
  opts = check_opts(opts, 3, "parse")
  local all, sink = collector()
  local ok, message, code = run(source(name, text), opts, sink)
  if not ok then return nil, message, code end
  return all
end

--- Read the events of an export file ("-": standard input) into one list
-- (for a file of any size, `stream` keeps memory flat).
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
  opts = check_opts(opts, 2, "read")
  local all, sink = collector()
  local ok, message, code = run_path(path, opts, sink)
  if not ok then return nil, message, code end
  return all
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
