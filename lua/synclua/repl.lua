--- synclua.repl: what the REPL of `synclua` shows a person -- results
-- pretty-printed, Tab completion, the .help texts -- as functions of their
-- inputs, so the specs can call them as the host does. The host
-- (lua/synclua.c) reads the lines (libedit on a terminal), keeps the
-- history, and calls:
--
--     repl.start(env)                   once: the globals the REPL offers
--     repl.history_file()               the history's path (folder made)
--     repl.show(width, ...)             the results of an entry
--     repl.complete(text, env, width)   Tab: what to insert, what to list
--     repl.command(line, width)         ".help", ".quit"
--
-- Completion never calls anything: names are looked up with rawget, and
-- through __index only where that is a table.
local synclua = require "synclua"
local fs = require "synclua.fs"

local M = {}

--- Rows whose details are sampled for completion, per store.
M.DETAILS_SAMPLE = 200

--- Seconds a store's sampled details keys are kept before sampling again.
M.DETAILS_TTL = 30

--- Bounds of the pretty printer: columns, nesting, entries per table,
-- events in a list.
M.WIDTH = 80
M.DEPTH = 4
M.ITEMS = 30
M.EVENTS = 100

--- Lua's reserved words.
M.keywords = {
  "and", "break", "do", "else", "elseif", "end", "false", "for",
  "function", "goto", "if", "in", "local", "nil", "not", "or", "repeat",
  "return", "then", "true", "until", "while",
}

--- The fields of an event table (log:events, log:first): the columns of
-- sync_event_log and what the binding adds.
M.event_fields = {
  "id", "timestamp", "instant", "device_id", "event_type", "category",
  "severity", "summary", "details", "details_json", "correlation_id",
  "peer_device_id", "model_types", "record_count", "duration_ms",
}

--- The keys of a filter (log:events, first, count, cursor).
M.filter_keys = {
  "since", "until", "to", "event_types", "event_type", "categories", "category",
  "severities", "severity", "peer", "device", "correlation_id",
  "model_type", "limit", "offset", "order", "raw", "render", "with_device",
  "separator",
}

--- The REPL's own commands.
M.commands = { "help", "quit" }

local KEYWORD = {}
for _, k in ipairs(M.keywords) do KEYWORD[k] = true end

-- The values a string may take after `key =` (or `key ==`), by key.
local STRING_VALUES = {
  event_type = synclua.event_types, event_types = synclua.event_types,
  category = synclua.categories, categories = synclua.categories,
  severity = synclua.severities, severities = synclua.severities,
  order = { "asc", "desc" },
  render = { "csv", "json", "markdown", "md", "ndjson", "sql" },
}

-- Methods whose table argument is a filter.
local QUERY = { events = true, first = true, count = true, cursor = true }

-- Raises Lua's "bad argument" error, at the level of the caller of the
-- public function that checks.
local function check(ok, n, fname, expected, v)
  if not ok then
    error(("bad argument #%d to '%s' (%s expected, got %s)")
      :format(n, fname, expected, type(v)), 3)
  end
end

local function is_identifier(s)
  return type(s) == "string" and s:match("^[%a_][%w_]*$") ~= nil
    and not KEYWORD[s]
end

local function sorted_unique(list)
  local seen, out = {}, {}
  for _, s in ipairs(list) do
    if not seen[s] then
      seen[s] = true
      out[#out + 1] = s
    end
  end
  table.sort(out)
  return out
end

-- The display width of a string (UTF-8 characters; bytes if not UTF-8).
local function width_of(s)
  return utf8.len(s) or #s
end

------------------------------------------------------------------ values

-- t[k] without calling anything: the raw field, else through __index
-- while that is a table.
local function lookup(v, k)
  for _ = 1, 16 do
    if type(v) == "table" then
      local r = rawget(v, k)
      if r ~= nil then return r end
    end
    local mt = debug.getmetatable(v)
    local index = mt and rawget(mt, "__index")
    if type(index) ~= "table" then return nil end
    v = index
  end
  return nil
end

-- The value of a dotted name ("synclua", "log", "ev.details") in env.
local function resolve(env, chain)
  local v = env
  for name in chain:gmatch("[^.]+") do
    v = lookup(v, name)
    if v == nil then return nil end
  end
  return v
end

-- The identifier keys of v and of the tables its __index leads to (only
-- function values when `methods`). Raw iteration, at most 10000 keys a
-- table.
local function fields(v, methods)
  local out = {}
  for _ = 1, 16 do
    if type(v) == "table" then
      local n, k, x = 0, next(v)
      while k ~= nil and n < 10000 do
        if is_identifier(k) and (not methods or type(x) == "function") then
          out[#out + 1] = k
        end
        n = n + 1
        k, x = next(v, k)
      end
    end
    local mt = debug.getmetatable(v)
    local index = mt and rawget(mt, "__index")
    if type(index) ~= "table" then break end
    v = index
  end
  return sorted_unique(out)
end

local function is_store(v)
  local mt = type(v) == "userdata" and debug.getmetatable(v)
  return mt and rawget(mt, "__name") == "synclua.Store" or false
end

--- The stores a REPL environment holds: its globals, and the values of
-- tables among them (one level down).
-- @treturn {Store,...}
function M.stores(env)
  check(type(env) == "table", 1, "stores", "table", env)
  local found, seen = {}, {}
  local function add(v)
    if is_store(v) and not seen[v] then
      seen[v] = true
      found[#found + 1] = v
    end
  end
  for _, v in next, env do
    add(v)
    if type(v) == "table" and v ~= env then
      local n, k, x = 0, next(v)
      while k ~= nil and n < 100 do
        add(x)
        n = n + 1
        k, x = next(v, k)
      end
    end
  end
  return found
end

local details_cache = setmetatable({}, { __mode = "k" })

--- The top-level `details` keys of a store's last DETAILS_SAMPLE rows,
-- sorted; sampled again after DETAILS_TTL seconds. A closed store gives
-- none.
-- @treturn {string,...}
function M.details_keys(store)
  local entry = details_cache[store]
  local now = os.time()
  if entry and now - entry.at < M.DETAILS_TTL then return entry.keys end
  local keys = {}
  pcall(function()
    for ev in store:events{ limit = M.DETAILS_SAMPLE } do
      if type(ev.details) == "table" then
        for k in next, ev.details do
          if type(k) == "string" then keys[#keys + 1] = k end
        end
      end
    end
  end)
  keys = sorted_unique(keys)
  details_cache[store] = { keys = keys, at = now }
  return keys
end

-- The details keys of every store in env.
local function all_details_keys(env)
  local keys = {}
  for _, store in ipairs(M.stores(env)) do
    for _, k in ipairs(M.details_keys(store)) do keys[#keys + 1] = k end
  end
  return sorted_unique(keys)
end

--------------------------------------------------------------- completion

-- How Lua text ends, as far as completion cares: inside a comment or a
-- long string (nothing to complete), inside a short string (quote and
-- start), and the brackets still open ({ char, pos }, innermost last).
local function scan(text)
  local i, n, open = 1, #text, {}
  while i <= n do
    local c = text:sub(i, i)
    if c == "-" and text:sub(i + 1, i + 1) == "-" then
      local eq = text:match("^%[(=*)%[", i + 2)
      local close = eq and text:find("]" .. eq .. "]", i + 4 + #eq, true)
        or not eq and text:find("\n", i + 2, true)
      if not close then return { comment = true } end
      i = close + (eq and #eq + 2 or 1)
    elseif c == "[" and text:match("^%[=*%[", i) then
      local eq = text:match("^%[(=*)%[", i)
      local close = text:find("]" .. eq .. "]", i + 2 + #eq, true)
      if not close then return { long = true } end
      i = close + #eq + 2
    elseif c == '"' or c == "'" then
      local j = i + 1
      while true do
        local d = text:sub(j, j)
        if d == "" then return { open = open, quote = c, start = i } end
        if d == "\\" then j = j + 2
        elseif d == c or d == "\n" then break
        else j = j + 1 end
      end
      i = j + 1
    else
      if c == "{" or c == "(" or c == "[" then
        open[#open + 1] = { char = c, pos = i }
      elseif c == "}" or c == ")" or c == "]" then
        open[#open] = nil
      end
      i = i + 1
    end
  end
  return { open = open }
end

-- The name before position pos ("log:events", "synclua.event_type_info").
local function callee(text, pos)
  return text:sub(1, pos - 1):match("([%a_][%w_%.:]*)%s*$")
end

-- The method a callee names, if a query's ("log:events" -> true).
local function is_query(name)
  return name ~= nil and QUERY[name:match("[%w_]+$")] == true
end

-- Candidates inside a string that starts at st.start.
local function string_candidates(text, st, env)
  local before = text:sub(1, st.start - 1)
  local top = st.open[#st.open]
  local key = before:match("([%a_][%w_]*)%s*[=~]?=%s*$")
  if not key and top and top.char == "{" then
    -- a list element: event_types = { "state_transition", "|
    local between = text:sub(top.pos + 1, st.start - 1)
      :gsub('"[^"]*"', ""):gsub("'[^']*'", "")
    if between:match("^[%s,;]*$") then
      key = before:sub(1, top.pos - 1):match("([%a_][%w_]*)%s*=%s*$")
      if not key and is_query(callee(text, top.pos)) then
        key = "event_type"           -- log:events{ "| : a type, surely
      end
    end
  end
  if key and STRING_VALUES[key] then return STRING_VALUES[key] end
  if before:match("details%s*%[%s*$") then return all_details_keys(env) end
  if before:match("%[%s*$") then return M.event_fields end
  if top and top.char == "(" and before:match("%(%s*$") then
    local name = callee(text, top.pos)
    if name and name:match("event_type_info$") then
      return synclua.event_types
    end
  end
  return {}
end

-- Candidates for a field or method after `chain` and sep ("." or ":").
local function field_candidates(env, chain, sep)
  local v = resolve(env, chain)
  if v ~= nil then return fields(v, sep == ":") end
  if chain:match("[%w_]+$") == "details" then return all_details_keys(env) end
  if sep == ":" then
    local store = debug.getregistry()["synclua.Store"]
    return store and fields(rawget(store, "__index") or {}, true) or {}
  end
  return M.event_fields
end

-- Candidates for a name: filter keys where a key goes in a query's table,
-- else globals and keywords.
local function name_candidates(text, stem, st, env)
  local top = st.open[#st.open]
  if top and top.char == "{" and is_query(callee(text, top.pos)) then
    local seg = text:sub(top.pos + 1, #text - #stem)
    if seg:match("^%s*$") or seg:match("[,;]%s*$") then
      return M.filter_keys
    end
  end
  local list = fields(env)
  for _, k in ipairs(M.keywords) do list[#list + 1] = k end
  return sorted_unique(list)
end

--- The completions of the text before the cursor: the sorted words that
-- may replace `stem`, the partial word being completed; and the quote that
-- closes the string being completed, if any.
-- @tparam string text everything entered before the cursor (the chunk so
--   far, a newline, then the current line up to the cursor)
-- @tparam table env the REPL's globals
-- @treturn {string,...} candidates, each starting with stem
-- @treturn string stem
-- @treturn string|nil closing quote
function M.candidates(text, env)
  check(type(text) == "string", 1, "candidates", "string", text)
  check(type(env) == "table", 2, "candidates", "table", env)
  local list, stem, closing = {}, "", nil
  local cmd = text:match("^%s*%.(%a*)$")
  local topic = text:match("^%s*%.help%s+([%w_]*)$")
  if cmd then
    list, stem = M.commands, cmd
  elseif topic then
    list, stem = M.help_topics(), topic
  else
    local st = scan(text)
    if st.comment or st.long then
      return {}, ""
    elseif st.quote then
      stem = text:sub(st.start + 1)
      if stem:find("[\\\n]") then return {}, stem end
      list, closing = string_candidates(text, st, env), st.quote
    else
      stem = text:match("[%a_][%w_]*$") or ""
      local before = text:sub(1, #text - #stem)
      local sep = before:sub(-1)
      if (sep == "." or sep == ":") and before:sub(-2, -2) ~= sep
          and not (sep == "." and before:sub(-2, -2) == ":") then
        local chain = before:sub(1, -2):match("[%a_][%w_%.]*$")
        local prev = chain and before:sub(-2 - #chain, -2 - #chain)
        if not chain or chain:find("..", 1, true) or chain:sub(-1) == "."
            or prev:match("[%w_%.:%]%)]") then
          return {}, stem
        end
        list = field_candidates(env, chain, sep)
      elseif before:match("[%w_]$") then
        return {}, stem                -- a number, as in 12
      else
        list = name_candidates(text, stem, st, env)
      end
    end
  end
  local out = {}
  for _, c in ipairs(list) do
    if c:sub(1, #stem) == stem then out[#out + 1] = c end
  end
  return sorted_unique(out), stem, closing
end

local function common_prefix(list)
  local p = list[1] or ""
  for i = 2, #list do
    local s, n = list[i], 0
    while n < #p and n < #s and p:byte(n + 1) == s:byte(n + 1) do
      n = n + 1
    end
    p = p:sub(1, n)
  end
  return p
end

--- The candidates laid out in columns, as `ls` does (down, then across),
-- each row ending in a newline.
-- @tparam {string,...} list
-- @tparam[opt=80] int width the terminal's columns
-- @treturn string
function M.columns(list, width)
  check(type(list) == "table", 1, "columns", "table", list)
  check(width == nil or math.type(width) == "integer", 2, "columns",
        "integer", width)
  width = width or M.WIDTH
  local w = 0
  for _, s in ipairs(list) do w = math.max(w, width_of(s)) end
  local ncols = math.max(1, (width - w) // (w + 2) + 1)
  local nrows = (#list + ncols - 1) // ncols
  local rows = {}
  for r = 1, nrows do
    local cells = {}
    for c = 0, ncols - 1 do
      local s = list[c * nrows + r]
      if s then cells[#cells + 1] = s .. (" "):rep(w - width_of(s)) end
    end
    rows[r] = table.concat(cells, "  "):gsub("%s+$", "") .. "\n"
  end
  return table.concat(rows)
end

--- Tab: what to insert at the cursor (the candidates' common extension of
-- the stem, and the closing quote when a string is complete), or, when
-- there is nothing to insert and several candidates, their listing.
-- @tparam string text everything before the cursor (see candidates)
-- @tparam table env the REPL's globals
-- @tparam[opt=80] int width the terminal's columns
-- @treturn string text to insert ("" for none)
-- @treturn string|nil the listing (M.columns)
function M.complete(text, env, width)
  check(type(text) == "string", 1, "complete", "string", text)
  check(type(env) == "table", 2, "complete", "table", env)
  local list, stem, closing = M.candidates(text, env)
  if #list == 0 then return "", nil end
  local insert = common_prefix(list):sub(#stem + 1)
  if #list == 1 and closing then insert = insert .. closing end
  if insert ~= "" or #list == 1 then return insert, nil end
  return "", M.columns(list, width)
end

---------------------------------------------------------- pretty printing

local ESCAPES = {
  ["\\"] = "\\\\", ['"'] = '\\"', ["\n"] = "\\n", ["\r"] = "\\r",
  ["\t"] = "\\t", ["\a"] = "\\a", ["\b"] = "\\b", ["\f"] = "\\f",
  ["\v"] = "\\v",
}

-- A string as a Lua literal; UTF-8 stays as it is.
local function quote(s)
  return '"' .. s:gsub('[%z\1-\31\\"\127]', function(c)
    return ESCAPES[c] or ("\\%03d"):format(c:byte())
  end) .. '"'
end

local function number(v)
  if v ~= v then return "0/0" end
  if v == math.huge then return "math.huge" end
  if v == -math.huge then return "-math.huge" end
  return tostring(v)
end

local function is_event(v)
  return type(v) == "table" and type(rawget(v, "event_type")) == "string"
    and type(rawget(v, "summary")) == "string"
end

local function has_tostring(v)
  local mt = debug.getmetatable(v)
  return mt ~= nil and rawget(mt, "__tostring") ~= nil
end

local KEY_ORDER = { number = 1, string = 2, boolean = 3 }

local function key_less(a, b)
  local ta, tb = KEY_ORDER[type(a)] or 4, KEY_ORDER[type(b)] or 4
  if ta ~= tb then return ta < tb end
  if ta <= 2 then return a < b end
  return tostring(a) < tostring(b)
end

local function key_text(k)
  if is_identifier(k) then return k .. " = " end
  if type(k) == "string" then return "[" .. quote(k) .. "] = " end
  if math.type(k) == "float" then return "[" .. number(k) .. "] = " end
  return "[" .. tostring(k) .. "] = "
end

local literal

-- A table as a literal: on one line if that fits in the columns left
-- after `used`, else one entry a line, indented.
local function table_literal(t, o, indent, used, depth, path)
  if path[t] then return "<cycle>" end
  if next(t) == nil then return "{}" end
  if depth > o.depth then return "{...}" end
  path[t] = true
  local n = 0
  while rawget(t, n + 1) ~= nil do n = n + 1 end
  local keys = {}
  for k in next, t do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then
      keys[#keys + 1] = k
    end
  end
  table.sort(keys, key_less)
  local total, shown = n + #keys, math.min(n + #keys, o.items)
  local pad = (" "):rep(indent + 2)
  local items, flat_ok = {}, true
  for i = 1, shown do
    local k = i <= n and i or keys[i - n]
    local prefix = i <= n and "" or key_text(k)
    local s = prefix .. literal(rawget(t, k), o, indent + 2,
                                indent + 2 + width_of(prefix), depth + 1, path)
    items[i] = s
    if s:find("\n", 1, true) then flat_ok = false end
  end
  if shown < total then items[#items + 1] = ("... (%d more)"):format(total - shown) end
  path[t] = nil
  if flat_ok then
    local flat = "{ " .. table.concat(items, ", ") .. " }"
    if used + width_of(flat) <= o.width then return flat end
  end
  -- One entry a line, except list elements on one line each: those are
  -- packed as many a line as fit.
  local lines, line = {}, nil
  for i, s in ipairs(items) do
    if i <= math.min(n, shown) and not s:find("\n", 1, true) then
      if line and #pad + width_of(line) + 2 + width_of(s) + 1 <= o.width then
        line = line .. ", " .. s
      else
        if line then lines[#lines + 1] = pad .. line .. "," end
        line = s
      end
    else
      if line then lines[#lines + 1] = pad .. line .. "," end
      line = nil
      lines[#lines + 1] = pad .. s .. ","
    end
  end
  if line then lines[#lines + 1] = pad .. line .. "," end
  return "{\n" .. table.concat(lines, "\n") .. "\n" .. (" "):rep(indent) .. "}"
end

-- Any value as a literal (inside a table: strings quoted).
function literal(v, o, indent, used, depth, path)
  local t = type(v)
  if t == "string" then return quote(v) end
  if t == "number" then return number(v) end
  if v == synclua.null then return "synclua.null" end
  if t == "table" and not has_tostring(v) then
    return table_literal(v, o, indent, used, depth, path)
  end
  return tostring(v)
end

local function options(opts)
  opts = opts or {}
  return { width = opts.width or M.WIDTH, depth = opts.depth or M.DEPTH,
           items = opts.items or M.ITEMS, events = opts.events or M.EVENTS }
end

--- A value as a Lua-like literal: keys sorted (the list part first, then
-- numbers, strings, the rest), strings quoted, tables nested at most
-- `depth` levels ({...} below) with at most `items` entries each, on one
-- line when that fits in `width` columns, else one entry a line.
-- @param v any value
-- @tparam[opt] table opts { width = 80, depth = 4, items = 30 }
-- @treturn string
function M.literal(v, opts)
  return literal(v, options(opts), 0, 0, 1, {})
end

-- When an event happened: "2025-12-01 09:12:44.120" (UTC, milliseconds)
-- from its instant, else its stored timestamp.
local function event_time(ev)
  local instant = rawget(ev, "instant")
  if math.type(instant) == "integer" then
    local day, clock, frac = synclua.format_time(instant, true)
      :match("^(%d+%-%d%d%-%d%d)T(%d%d:%d%d:%d%d)%.?(%d*)Z$")
    if day then return day .. " " .. clock .. "." .. (frac .. "000"):sub(1, 3) end
  end
  local ts = rawget(ev, "timestamp")
  return ts ~= nil and tostring(ts) or nil
end

-- The fields shown under an event's line, in this order.
local EVENT_MORE = { "id", "device_label", "correlation_id", "peer_device_id",
                     "model_types", "record_count", "duration_ms", "details" }

local function event_block(ev, o, tw, sw)
  local ty, sev = ev.event_type, rawget(ev, "severity")
  local cols = { event_time(ev), ty .. (" "):rep((tw or 0) - width_of(ty)) }
  if sev ~= nil then
    sev = tostring(sev)
    cols[#cols + 1] = sev .. (" "):rep((sw or 0) - width_of(sev))
  end
  cols[#cols + 1] = ev.summary
  local lines = { table.concat(cols, "  ") }
  for _, k in ipairs(EVENT_MORE) do
    local v = rawget(ev, k)
    if v ~= nil then
      lines[#lines + 1] = "  " .. k .. " = "
        .. literal(v, o, 2, 5 + #k, 2, { [ev] = true })
    end
  end
  return table.concat(lines, "\n")
end

--- An event as a person reads it: a line with its time (UTC), type,
-- severity and summary, then its id, correlation id, peer, model types,
-- counts and details, indented.
-- @tparam table ev an event (a table with event_type and summary)
-- @tparam[opt] table opts as for literal
-- @treturn string
function M.event(ev, opts)
  check(is_event(ev), 1, "event", "event", ev)
  return event_block(ev, options(opts))
end

-- Is t a list of events and nothing else?
local function event_list(t)
  local n = 0
  for k, v in next, t do
    if math.type(k) ~= "integer" or not is_event(v) then return false end
    n = n + 1
  end
  return n > 0 and n == #t and not has_tostring(t)
end

--- A result as the REPL shows it: an event as M.event; a list of events
-- as their blocks, types and severities aligned (at most `events`); any
-- other table (without __tostring) as M.literal; anything else as
-- tostring (strings as they are), as lua's REPL prints.
-- @param v any value
-- @tparam[opt] table opts as for literal, and events = 100
-- @treturn string
function M.format(v, opts)
  local o = options(opts)
  if is_event(v) then return event_block(v, o) end
  if type(v) == "table" and event_list(v) then
    local tw, sw, shown = 0, 0, math.min(#v, o.events)
    for i = 1, shown do
      tw = math.max(tw, width_of(v[i].event_type))
      sw = math.max(sw, width_of(tostring(rawget(v[i], "severity") or "")))
    end
    local blocks = {}
    for i = 1, shown do blocks[i] = event_block(v[i], o, tw, sw) end
    if shown < #v then
      blocks[#blocks + 1] = ("... (%d more events)"):format(#v - shown)
    end
    return table.concat(blocks, "\n")
  end
  if type(v) == "table" and not has_tostring(v) then
    return literal(v, o, 0, 0, 1, {})
  end
  return tostring(v)
end

--- Prints an entry's results on stdout, each as M.format, separated by
-- tabs as lua does.
-- @tparam int width the terminal's columns
function M.show(width, ...)
  local parts = {}
  for i = 1, select("#", ...) do
    parts[i] = M.format((select(i, ...)), { width = width })
  end
  io.stdout:write(table.concat(parts, "\t"), "\n")
end

--------------------------------------------------------------------- help

local function type_list()
  return table.concat(synclua.event_types, " ")
end

-- What each event type means and the details keys it carries.
local TYPES = {
  state_transition = { "The sync state changed; summary \"<from> → <to>\".",
    "reason" },
  backfill_session_started = { "A backfill session began (details "
    .. "peer_count), or its peer was chosen (details candidates: "
    .. "device_id, is_online, has_complete_state, latency_ms, "
    .. "active_syncs, selected; peer_device_id the chosen one).",
    "peer_count, candidates" },
  backfill_session_completed = { "A backfill session ended well; "
    .. "duration_ms since its start.", "none" },
  backfill_session_failed = { "A backfill session failed (Spacedrive "
    .. "never writes it: look for sessions without completion).", "reason" },
  catch_up_session_started = { "Catching up with a peer began.", "none" },
  catch_up_session_completed = { "Catching up ended; record_count, "
    .. "duration_ms.", "none" },
  batch_ingestion = { "Records ingested from a peer, aggregated per peer "
    .. "(10,000 records or 30 s); model_types, record_count, duration_ms.",
    "models (synclua's)" },
  backfill_request_sent = { "A backfill request went to a peer.", "none" },
  backfill_request_received = { "A peer's backfill request arrived.",
    "none" },
  backfill_response_sent = { "A backfill response went to a peer; "
    .. "record_count, duration_ms.", "none" },
  peer_connected = { "A peer connected.", "none" },
  peer_disconnected = { "A peer disconnected.", "reason" },
  sync_error = { "Buffer overflow (error), stuck dependencies or a "
    .. "watermark too old (warning).", "dropped_count, max_buffer_size, "
    .. "phase | total_dependencies, total_waiting_updates, phase | "
    .. "action, threshold_days, watermark_age_days" },
}

-- Words filled into lines of at most `width` columns, the first starting
-- with `first`, the others indented by `indent` spaces.
local function para(first, text, indent, width)
  local lines, line = {}, first
  for w in text:gmatch("%S+") do
    if width_of(line) + 1 + width_of(w) > width and line:match("%S") then
      lines[#lines + 1] = line .. "\n"
      line = (" "):rep(indent - 1)
    end
    line = line .. (line:match("%S$") and " " or "") .. w
  end
  return table.concat(lines) .. line .. "\n"
end

-- The filter keys, as README.md's table has them.
local FILTER = {
  { "since", "until", text = "inclusive bounds: \"1 hour ago\", \"2h\", "
    .. "\"yesterday\", \"today\", \"now\", \"2025-12-03 10:00:00\" (UTC), "
    .. "RFC 3339, \"@1733220000\", or an integer instant" },
  { "to", text = "until under a name a table constructor takes "
    .. "({ to = \"2h\" }); not both" },
  { "event_types", "event_type", text = "a type or a list (.help TYPE)" },
  { "categories", "category", text = "a category or a list: "
    .. table.concat(synclua.categories, ", ") },
  { "severities", "severity", text = "\"error\", \"warning+\" (that and "
    .. "above), \"debug,error\", or a list" },
  { "peer", "device", "correlation_id", text = "equal to (a UUID in any "
    .. "case)" },
  { "model_type", text = "one of the event's model types" },
  { "limit", "offset", text = "paging (no limit by default)" },
  { "order", text = "\"desc\" (newest first, the default) or \"asc\"" },
  { "raw", text = "true: details left as JSON text" },
  { "render", "with_device", "separator", text = "rows as export bytes "
    .. "(\"json\", \"sql\", \"markdown\", \"ndjson\", \"csv\"); "
    .. "cursor:chunk() many at once" },
}

local function filter_entry(f)
  return para("  " .. table.concat(f, ", ") .. ":", f.text, 5, M.WIDTH)
end

local function filter_help()
  local parts = { "A filter (log:events, first, count, cursor): a table of "
    .. "these keys, all\noptional.\n" }
  for _, f in ipairs(FILTER) do parts[#parts + 1] = filter_entry(f) end
  return table.concat(parts)
end

local EMITTERS = {
  "emit_state_transition", "emit_backfill_started", "emit_peer_selected",
  "emit_backfill_completed", "emit_backfill_failed", "emit_catch_up_started",
  "emit_catch_up_completed", "emit_backfill_request_sent",
  "emit_backfill_request_received", "emit_backfill_response_sent",
  "emit_peer_connected", "emit_peer_disconnected", "emit_buffer_overflow",
  "emit_stuck_dependencies", "emit_watermark_too_old",
}

-- Lines of words, each indented by two spaces, at most `width` columns.
local function wrap(words, width)
  local lines, line = {}, " "
  for _, w in ipairs(words) do
    if #line + 1 + #w > width and line ~= " " then
      lines[#lines + 1] = line .. "\n"
      line = " "
    end
    line = line .. " " .. w
  end
  return table.concat(lines) .. line .. "\n"
end

-- One topic a name: its signature, then what it does.
local TOPICS = {
  help = ".help [NAME]\n  The commands and the API in short; with NAME, a "
    .. "function, method, filter\n  key or event type (.help events, .help "
    .. "open, .help state_transition).\n",
  quit = ".quit\n  Leave the REPL (Ctrl-D on an empty line does too).\n",
  open = "synclua.open(path [, opts]) -> log | nil, message, code\n"
    .. "  Opens a sync.db, or the sync.db in a library folder, to read; "
    .. "{ mode = \"w\",\n  device_id = ID } to log into it (a missing "
    .. "file is created). opts also:\n  create, indexes, retention, "
    .. "busy_timeout, ... Codes: notfound, notdb,\n  corrupt, busy, ioerr, "
    .. "readonly.\n",
  events = "log:events(filter) -> iterator\n"
    .. "  The events the filter selects, newest first: for ev in "
    .. "log:events{ since =\n  \"1 hour ago\", severity = \"warning+\" } do "
    .. "... end. Streams; a break releases\n  the query. .help filter, "
    .. ".help event.\n",
  first = "log:first(filter) -> event | nil\n"
    .. "  The first event the filter selects (the newest by default).\n",
  count = "log:count(filter) -> integer\n"
    .. "  How many events the filter selects.\n",
  cursor = "log:cursor(filter) -> cursor\n"
    .. "  A cursor over the selection (cursor:next(), cursor:chunk(), "
    .. "cursor:close());\n  synclua.merge takes several.\n",
  append = "log:append(event) -> true | false, \"full\"\n"
    .. "  Queues an event for the writer thread; never blocks. Fields: "
    .. "event_type and\n  summary, then category, severity, timestamp, "
    .. "device_id, correlation_id,\n  peer_device_id, details, model_types, "
    .. "record_count, duration_ms.\n",
  insert = "log:insert(events [, { skip_duplicates = true }]) -> inserted, "
    .. "skipped\n  Writes a list of events at once, in one transaction, "
    .. "all or none.\n",
  import = "synclua.import([{ skip_duplicates, by_time }]) -> imp\n"
    .. "  A streaming insert: imp:add(events) holds each chunk in a "
    .. "temporary file\n  (imp:add_text(format, text) reads an export's "
    .. "text in the core),\n  imp:commit(log) -> inserted, skipped writes "
    .. "them all in one transaction,\n  imp:close() discards them.\n",
  flush = "log:flush([timeout]) -> true | nil, message, code\n"
    .. "  Waits until the queued events are written (code \"timeout\" when "
    .. "the\n  timeout, a duration or seconds, passes first).\n",
  close = "log:close(), cursor:close()\n"
    .. "  Flushes and closes the store (twice is fine); ends a cursor.\n",
  stats = "log:stats() -> { appended, written, dropped, failed, retries, "
    .. "pruned, queue_depth,\n  queue_capacity }\n",
  prune = "log:prune{ older_than = \"7 days\", dry_run = false } -> "
    .. "{ count, cutoff, ... }\n  Deletes events older than the retention "
    .. "period.\n",
  time_report = "log:time_report()\n  How many stored timestamps are "
    .. "canonical, in other forms, or unparsable.\n",
  path = "log:path() -> string\n  The sync.db the store opened.\n",
  readonly = "log:readonly() -> boolean\n  True unless the store was "
    .. "opened with mode = \"w\".\n",
  immutable = "log:immutable() -> boolean\n  True when the store is read "
    .. "as it stands: a WAL-mode file in a folder\n  this process cannot "
    .. "write; what a writer adds after the open is not seen.\n",
  identity = "log:identity() -> \"DEV:INO\"\n  The database file on this "
    .. "machine: the same through its folder, a link or\n  the file "
    .. "itself; another for a copy.\n",
  fingerprint = "log:fingerprint(filter) -> count, digest\n  The events "
    .. "the filter selects, summed up whatever their order: the same\n  "
    .. "count and digest mean the same events (time, type, summary, "
    .. "device).\n",
  bad_rows = "log:bad_rows() -> count, ids, columns, at_least\n"
    .. "  The rows the store's queries read leniently (NULL where Spacedrive\n"
    .. "  forbids it, a wrong type, bad UTF-8, an unknown name), each counted\n"
    .. "  once; the smallest ids; at_least when more than 65,536.\n",
  integrity = "log:integrity() -> true | false, report\n"
    .. "  SQLite's quick_check of the store.\n",
  add_records = "log:add_records(model, count [, peer [, session [, at]]])\n"
    .. "  Records ingested, aggregated into batch_ingestion events (10,000 "
    .. "records\n  or 30 s a batch).\n",
  flush_batches = "log:flush_batches([at])\n  Writes every pending "
    .. "batch_ingestion event now.\n",
  tick_batches = "log:tick_batches([at])\n  Writes the batches whose 30 s "
    .. "interval has passed.\n",
  batch_memory = "log:batch_memory() -> bytes, keys\n  What the pending "
    .. "batches hold.\n",
  emit = "log:emit_*{...} -> true | false, \"full\"\n  A sync engine's "
    .. "events, with Spacedrive's summaries and details keys;\n  each "
    .. "takes one table (and at, a time). README.md has their fields:\n"
    .. wrap(EMITTERS, M.WIDTH - 2),
  parse_time = "synclua.parse_time(text [, now]) -> instant | nil, message\n"
    .. "  A time as since takes it, as integer nanoseconds since the "
    .. "epoch.\n",
  format_time = "synclua.format_time(instant [, zulu]) -> text\n"
    .. "  An instant as Spacedrive stores it (+00:00), or with Z.\n",
  parse_duration = "synclua.parse_duration(text) -> ns | nil, message\n"
    .. "  A length of time: \"7 days\", \"90m\".\n",
  now = "synclua.now() -> instant\n  The current time in nanoseconds.\n",
  uuid = "synclua.uuid() -> text\n  A fresh UUID v4, lowercase.\n",
  select_peer = "synclua.select_peer(candidates) -> index, scores | nil, "
    .. "message\n  Spacedrive's choice of a backfill peer "
    .. "(.help peer_score).\n",
  peer_score = "synclua.peer_score(candidate) -> score\n  1000 / "
    .. "max(latency_ms, 1) when latency > 0, + 100 with complete state,\n"
    .. "  - 10 per active sync (f32).\n",
  max_id = "log:max_id() -> integer\n  The highest id in the store now "
    .. "(0 when empty): a follower's mark,\n  for filter.after_id.\n",
  is_database = "synclua.is_database(text) -> boolean\n  Does "
    .. "synclua.open take text for a PostgreSQL fleet store\n  "
    .. "(postgresql://..., postgres://..., libpq's host=... dbname=...)?\n",
  backend = "log:backend() -> \"sqlite\" | \"postgresql\"\n  What "
    .. "holds the store: a sync.db, or a PostgreSQL fleet store.\n",
  devices = "log:devices() -> { { library_id, device_id, label }, ... }\n"
    .. "  A fleet store's devices, by library, in the order first pushed.\n",
  scope = "log:scope{ library_id = ID, device_id = ID } -> log\n  One "
    .. "library's (and device's) rows of a fleet store, read as that\n  "
    .. "device's own sync.db (the connection shared).\n",
  push = "fleet:push(log, { library_id = ID, device_id = ID, label = S })\n"
    .. "  -> { read, inserted, duplicates, after_id }\n  A store's rows "
    .. "into a fleet store opened with { mode = \"w\" }, one\n  "
    .. "transaction, new rows only; again reads only what is new.\n",
  watch = "synclua.watch(path, ...) -> watch\n  watch:wait([ms]) sleeps "
    .. "until another process commits to one of the\n  stores (true), or ms "
    .. "passed or a signal came (false).\n",
  monotonic = "synclua.monotonic() -> ms\n  Milliseconds on a clock that "
    .. "never jumps (for measuring waits).\n",
  terminal = "synclua.terminal() -> columns, rows | nil\n  The size of the "
    .. "terminal stdout is; nil for a pipe or a file.\n",
  render_timeline = "synclua.render_timeline(event, format, label, "
    .. "adjusted [, width]) -> bytes\n  One timeline row as the merge "
    .. "renders it (text, or an export format\n  with device_label and "
    .. "adjusted_timestamp).\n",
  merge = "synclua.merge(cursors [, opts]) -> iterator\n  Several "
    .. "stores' cursors as one stream by corrected time; opts: offsets,\n"
    .. "  labels, order, limit, render.\n",
  json_decode = "synclua.json_decode(text [, { as_text = { NAME = true } "
    .. "}]) -> value | nil,\n  message. Members named in as_text stay "
    .. "their JSON text.\n",
  parse_uuid = "synclua.parse_uuid(text) -> id | nil\n  Any spelling "
    .. "the uuid crate reads, lowercase and hyphenated.\n",
  redactor = "synclua.redactor([{ key = K }]) -> r\n  Pseudonyms for "
    .. "logs to share (--redact): the same key, the same ones; none,\n"
    .. "  a random key. r:id(uuid [, kind]) -> pseudonym, r:reveal("
    .. "pseudonym) -> id,\n  r:counts() -> { device, peer, correlation, "
    .. "... }. log:redact(r).\n",
  redact = "log:redact(r | nil) -> log\n  Every row the store's cursors "
    .. "hand out from now on redacted by r: ids\n  pseudonyms, ids and paths "
    .. "in summaries and strings in details replaced\n  (but for "
    .. "synclua.redact_allowed()'s keys); nil: as stored.\n",
  redact_allowed = "synclua.redact_allowed() -> { key, ... }\n  The "
    .. "details keys whose strings redaction keeps (cleaned of ids).\n",
  json_encode = "synclua.json_encode(value) -> text\n  Compact, keys "
    .. "sorted, as Spacedrive stores details.\n",
  render = "synclua.render(event, format [, with_device]) -> bytes\n"
    .. "  One event as an export writes it (json, sql, markdown, ndjson, "
    .. "csv).\n",
  null = "synclua.null\n  JSON null in decoded details.\n",
  spacedrive_ddl = "synclua.spacedrive_ddl() -> text\n  Spacedrive's "
    .. "CREATE TABLE and its five CREATE INDEX, one a line.\n",
  keygen = "synclua.keygen() -> hex\n  A fresh library key: 64 hex "
    .. "digits (synclua keygen writes one to a file).\n",
  write_key = "synclua.write_key([path]) -> true | nil, message, code\n"
    .. "  A fresh key into a new file of mode 0600, or onto stdout.\n",
  read_key = "synclua.read_key(path) -> key | nil, message, code\n"
    .. "  The 32 bytes of a key file (refused if others can read it).\n",
  library_id = "synclua.library_id(key) -> uuid\n  The library id a key "
    .. "stands for when none is given.\n",
  encode_request = "synclua.encode_request{ library_id, requesting_device, "
    .. "since, event_types,\n  correlation_id, limit } -> json\n  An "
    .. "EventLogRequest as Spacedrive sends it.\n",
  decode_message = "synclua.decode_message(json) -> message | nil, "
    .. "message\n  An EventLogRequest or EventLogResponse as a table "
    .. "(kind names which).\n",
  server = "synclua.server{ db, listen, key [, library, device, ...] } -> "
    .. "server | nil, message\n  Answers EventLogRequests: "
    .. "srv:address(), srv:run([ready]) (until SIGINT/SIGTERM).\n",
  fetch = "synclua.fetch{ peers, stores, key, library_id, "
    .. "requesting_device [, since,\n  event_types, correlation_id, limit] "
    .. "} -> results\n  Asks every peer at once; each one's events go "
    .. "into its store.\n",
  fetch_follow = "synclua.fetch_follow{ peers, stores, key, library_id, "
    .. "requesting_device [, ...,\n  heartbeat] } -> follow\n  Streams each "
    .. "peer's new events into its store; follow:lines(), :wait([s]),\n"
    .. "  :peers(), :stop().\n",
  event_types = "synclua.event_types\n  " .. type_list() .. "\n",
  categories = "synclua.categories\n  "
    .. table.concat(synclua.categories, " ") .. "\n",
  severities = "synclua.severities\n  "
    .. table.concat(synclua.severities, " ") .. "\n",
  event_type_info = "synclua.event_type_info(type) -> { category, "
    .. "severity, debug_name } | nil\n",
  event = "An event (a table): id timestamp instant device_id event_type "
    .. "category severity\n  summary details details_json correlation_id "
    .. "peer_device_id model_types\n  record_count duration_ms; absent "
    .. "ones are nil.\n",
  filter = filter_help(),
}

for name, info in pairs(TYPES) do
  local t = synclua.event_type_info(name)
  TOPICS[name] = ("%s  (%s, %s; Spacedrive's %s)\n  %s\n  details: %s\n")
    :format(name, t.category, t.severity, t.debug_name, info[1], info[2])
end
for _, f in ipairs(FILTER) do
  for _, k in ipairs(f) do
    TOPICS[k] = TOPICS[k] or "A filter key (.help filter):\n" .. filter_entry(f)
  end
end

local OVERVIEW = [[
Commands
  .help [NAME]   this, or NAME: .help events, .help open, .help filter
  .quit          leave (or Ctrl-D)
Tab completes; Up, Down and Ctrl-R search the history; Ctrl-C stops a
query; _ is the last result.

synclua (a global here)
  open(path [, opts]) -> log    parse_time  format_time  parse_duration
  parse_uuid  now  uuid  select_peer  peer_score  merge  json_decode
  json_encode  render  null  event_types  categories  severities
log = synclua.open("sync.db")      -- { mode = "w", device_id = ID } to log
  log:events(filter)  log:first(filter)  log:count(filter)
  log:cursor(filter)  log:fingerprint(filter)  log:identity()
  log:append(event)  log:insert(events)  log:flush()  log:close()
  log:stats()  log:prune{...}  log:emit_*{...}
  log:redact(synclua.redactor{ key = K })   -- rows as --redact writes them
fleet = synclua.open("postgresql:///fleet")  -- a fleet store in PostgreSQL
  fleet:devices()  fleet:scope{...}  fleet:push(log, {...})  log:backend()
filter: since until/to event_type(s) category severity peer device
  correlation_id model_type limit offset order skipped_last raw render
event: id timestamp instant event_type category severity summary details
  correlation_id peer_device_id model_types record_count duration_ms
event types (.help TYPE):
]]

--- The names .help knows, sorted.
-- @treturn {string,...}
function M.help_topics()
  local names = {}
  for name in pairs(TOPICS) do names[#names + 1] = name end
  table.sort(names)
  return names
end

--- The help text: the overview, or the topic NAME (a function, method,
-- filter key or event type; "synclua.open" and "log:events" name "open"
-- and "events"; "emit_state_transition" names "emit").
-- @tparam[opt] string name
-- @treturn string ending in a newline
function M.help(name)
  check(name == nil or type(name) == "string", 1, "help", "string", name)
  if name == nil or name == "" then
    return OVERVIEW .. wrap(synclua.event_types, M.WIDTH - 2)
  end
  local key = name:match("[%w_]+$") or name
  if key:match("^emit_") then key = "emit" end
  local text = TOPICS[key]
  if not text then return ("no help for '%s' (try .help)\n"):format(name) end
  return text
end

--- Runs a REPL command line (".help [NAME]", ".quit"); returns true to
-- leave the REPL. Help goes to stdout, an unknown command to stderr.
-- @tparam string line
-- @treturn boolean
function M.command(line)
  check(type(line) == "string", 1, "command", "string", line)
  local name, arg = line:match("^%s*%.(%a+)%s*(.-)%s*$")
  if name == "quit" then return true end
  if name == "help" then
    io.stdout:write(M.help(arg))
  else
    io.stderr:write(("unknown command .%s (try .help)\n"):format(name))
  end
  return false
end

---------------------------------------------------------------- the REPL

--- Prepares the REPL's globals: `synclua`, the module, unless it is set.
-- @tparam table env
function M.start(env)
  check(type(env) == "table", 1, "start", "table", env)
  if rawget(env, "synclua") == nil then rawset(env, "synclua", synclua) end
end

--- The history file, $XDG_STATE_HOME/synclua/history (default
-- ~/.local/state/synclua/history), its folder made if missing; or nil and
-- why not.
-- @tparam[opt=os.getenv] function getenv
-- @treturn string|nil path
-- @treturn string|nil message
function M.history_file(getenv)
  getenv = getenv or os.getenv
  local state = getenv("XDG_STATE_HOME")
  if state == nil or state == "" or state:sub(1, 1) ~= "/" then
    local home = getenv("HOME")
    if home == nil or home == "" then
      return nil, "neither XDG_STATE_HOME nor HOME is set"
    end
    state = home .. "/.local/state"
  end
  local dir = state .. "/synclua"
  local ok, err = fs.mkdir_p(dir)
  if not ok then return nil, err end
  return dir .. "/history"
end

return M
