--- synclua.fmt: how synclua writes numbers, lengths of time, instants and
-- counted nouns for a person. One place for each, used by every report,
-- picture and command (STYLE rule 27).
--
--     fmt.number(1247)               --> "1,247"
--     fmt.plural(3, "event")         --> "3 events"
--     fmt.duration(5 * 60 * 1e9)     --> "5 min 00 s"
--     fmt.clock(instant)             --> "2025-12-01 10:15:00"
--     fmt.clock_ms(instant)          --> "2025-12-01 10:15:00.123"
local synclua = require "synclua"

local M = {}

--- Thousands separated by commas: 1247 -> "1,247"; a float that is not a
-- whole number with one decimal ("12.5").
-- @tparam number n
-- @treturn string
function M.number(n)
  if math.type(n) == "float" then
    if n ~= n or n == math.huge or n == -math.huge then return tostring(n) end
    if n == math.floor(n) and math.abs(n) < 2^53 then n = math.tointeger(n)
    else return ("%.1f"):format(n) end
  end
  if math.type(n) ~= "integer" then return tostring(n) end
  local s = tostring(n < 0 and -n or n)
  s = s:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", "")
  return (n < 0 and "-" or "") .. s
end

--- A count and its noun: "1 event", "1,532 events"; `many` when the plural
-- is not the noun plus "s" ("1 batch", "2 batches").
-- @tparam integer n
-- @tparam string one
-- @tparam[opt] string many
-- @treturn string
function M.plural(n, one, many)
  return M.number(n) .. " " .. (n == 1 and one or (many or one .. "s"))
end

--- A length of time in ns as a person reads it: "850 ms", "12.4 s",
-- "3 min 05 s", "1 h 02 min", "2 d 03 h"; "?" for nil.
-- @tparam integer|nil ns
-- @treturn string
function M.duration(ns)
  if ns == nil then return "?" end
  local ms = ns / 1e6
  if ms < 1000 then return ("%d ms"):format(math.floor(ms + 0.5)) end
  local s = ms / 1000
  if s < 60 then return ("%.1f s"):format(s) end
  local total = math.floor(s + 0.5)
  if total < 3600 then
    return ("%d min %02d s"):format(total // 60, total % 60)
  end
  if total < 86400 then
    return ("%d h %02d min"):format(total // 3600, (total % 3600) // 60)
  end
  return ("%d d %02d h"):format(total // 86400, (total % 86400) // 3600)
end

-- An instant as UTC wall-clock text to the second, or to the millisecond
-- (always that width) when `ms`.
local function wall(instant, ms, fallback)
  if not instant then return fallback or "?" end
  local t = synclua.format_time(instant, true)
  local whole, frac = t:match("^(.-T%d%d:%d%d:%d%d)%.?(%d*)Z$")
  if not whole then return t end        -- a year synclua prints signed
  whole = whole:gsub("T", " ")
  if ms then return whole .. "." .. (frac .. "000"):sub(1, 3) end
  return whole
end

--- An instant as UTC wall-clock text to the second: "2025-12-01
-- 10:15:00"; nil gives `fallback` (a stored text that did not parse), else
-- "?".
-- @tparam integer|nil instant
-- @tparam[opt] string fallback
-- @treturn string
function M.clock(instant, fallback)
  return wall(instant, false, fallback)
end

--- The same to the millisecond, always that width: "2025-12-01
-- 10:15:00.123" (the timelines' clock).
-- @tparam integer|nil instant
-- @tparam[opt] string fallback
-- @treturn string
function M.clock_ms(instant, fallback)
  return wall(instant, true, fallback)
end

--- A stored timestamp's text as `clock` writes it (to the second): the
-- text itself when it does not parse.
-- @tparam string|nil text
-- @treturn string
function M.clock_of(text)
  if not text then return "?" end
  return M.clock(synclua.parse_rfc3339(text), text)
end

--- "10:15:00", the UTC time of day of an instant (the pictures' axes).
-- @tparam integer instant
-- @treturn string
function M.time_of_day(instant)
  return M.clock(instant):match("(%d%d:%d%d:%d%d)$")
end

--- The first 8 characters of an id ("?" for nil): how devices and
-- sessions without a name are shown.
-- @tparam string|nil id
-- @treturn string
function M.short(id)
  return id and id:sub(1, 8) or "?"
end

--- Text from a log or a peer made safe for a terminal: control
-- characters (ESC, CR, ...) shown as \xNN, a line break as a space, so
-- that no row can move the cursor, recolour the screen or break a line.
-- @param s anything (tostring'd; nil is "")
-- @treturn string
function M.printable(s)
  return (tostring(s or ""):gsub("\n", " "):gsub("[%c\127]", function(c)
    return ("\\x%02x"):format(c:byte())
  end))
end

--- A Markdown table cell: no pipe or line break breaks the table.
-- @param s anything (tostring'd)
-- @treturn string
function M.cell(s)
  return (tostring(s):gsub("|", "\\|"):gsub("\r?\n", "<br>"))
end

local unicode_cache

--- Is stdout a terminal with a UTF-8 locale (LC_ALL, else LC_CTYPE, else
-- LANG)? Pictures use Unicode then, ASCII otherwise; NO_COLOR does not
-- matter here. SYNCLUA_UNICODE=1 or 0 decides instead (tests, pipes).
-- @treturn boolean
function M.unicode()
  local forced = os.getenv("SYNCLUA_UNICODE")
  if forced == "1" then return true end
  if forced == "0" then return false end
  if unicode_cache == nil then
    local locale
    for _, name in ipairs{ "LC_ALL", "LC_CTYPE", "LANG" } do
      local v = os.getenv(name)
      if v and v ~= "" then locale = v break end
    end
    local utf8_locale = locale ~= nil
      and (locale:lower():find("utf%-?8") ~= nil)
    unicode_cache = utf8_locale and os.execute("test -t 1") == true
  end
  return unicode_cache
end


return M
