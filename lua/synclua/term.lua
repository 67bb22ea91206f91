--- synclua.term: what a person at a terminal gets that a pipe does not
-- (issue 15). Text that fits the terminal's width (a longer line is cut
-- with "…"), colour (severities, the verdict, each device's label), a
-- pager for long output, and legends for the pictures' characters. A
-- pipe, a file (-o), a terminal whose TERM is "dumb" and every format but
-- text get plain text, exactly as before.
--
-- The command frame decides once, before the command runs (M.setup);
-- everything else asks: M.width() (nil: do not fit), M.paint(style,
-- text), M.cells(want, used) for a picture's width.
local synclua = require "synclua"

local M = {}

--- The pager when $PAGER is unset.
M.PAGER = "less -FRX"

--- The narrowest a terminal is taken to be.
M.MIN_WIDTH = 20

-- SGR codes of the styles.
local STYLES = {
  critical = "1;31", error = "31", warning = "33", debug = "2",
  finding = "1;31", ok = "1;32", no_data = "1;33", bold = "1",
}
-- Device labels, in the order the inputs were given.
local DEVICES = { "36", "35", "34", "32", "96", "95", "94", "92" }

local state = { color = false }

--- Decide for this command: `o` = { format, output (the -o path, or nil),
-- color ("auto", "always" or "never"), pager (false: --no-pager),
-- streaming (true: a follower, never paged) }. Returns the decision: {
-- tty, width, color, pager (a command, or nil) }.
-- @tparam table o
-- @treturn table
function M.setup(o)
  local cols = synclua.terminal()
  local term = os.getenv("TERM")
  local tty = cols ~= nil and not o.output and term ~= "dumb"
  local text = (o.format or "text") == "text"
  local width
  if tty and text then
    local given = math.tointeger(tonumber(os.getenv("COLUMNS") or ""))
    width = math.max(given and given > 0 and given or cols, M.MIN_WIDTH)
  end
  local color = o.color == "always" or (o.color ~= "never" and tty and text
    and (os.getenv("NO_COLOR") or "") == "")
  local pager
  if tty and text and o.pager ~= false and not o.streaming then
    pager = os.getenv("PAGER") or M.PAGER
    if pager == "" or pager == "cat" then pager = nil end
  end
  state = { tty = tty and text, width = width, color = color,
            pager = pager, labels = {} }
  return state
end

--- The width text is fitted to, or nil (not a terminal: no fitting).
-- @treturn integer|nil
function M.width() return state.width end

--- Is output going to a person at a terminal (text, not dumb)?
-- @treturn boolean
function M.tty() return state.tty or false end

--- How many cells a picture may take: `want`, or fewer when the terminal
-- has only `width - used` left (at least 8).
-- @tparam integer want
-- @tparam integer used the columns before and after the picture
-- @treturn integer
function M.cells(want, used)
  if not state.width then return want end
  return math.max(8, math.min(want, state.width - used))
end

--- `text` in a style ("error", "warning", "critical", "debug", "finding",
-- "ok", "no_data", "bold"), or as it is without colour.
-- @tparam string style
-- @tparam string text
-- @treturn string
function M.paint(style, text)
  local code = STYLES[style]
  if not state.color or not code or text == "" then return text end
  return "\27[" .. code .. "m" .. text .. "\27[0m"
end

--- The labels whose every appearance as a column gets its device's colour
-- (the inputs' labels, in order).
-- @tparam {string,...} labels
function M.devices(labels)
  state.labels = {}
  for i, l in ipairs(labels) do
    if l ~= "" then
      state.labels[#state.labels + 1] = { l, DEVICES[(i - 1) % #DEVICES + 1] }
    end
  end
end

-- A pattern matching `s` literally.
local function literal(s)
  return (s:gsub("[%^%$%(%)%%%.%[%]%*%+%-%?]", "%%%0"))
end

-- `line` with `word` painted where it stands as a column: at the start or
-- after two spaces, and before a space or the end.
local function columns(line, word, code)
  return (line:gsub("()" .. literal(word) .. "()", function(a, b)
    local after = line:sub(b, b)
    if (a == 1 or line:sub(a - 2, a - 1) == "  ") and
       (after == "" or after == " ") then
      return "\27[" .. code .. "m" .. word .. "\27[0m"
    end
  end))
end

--- A line of text output with its columns painted: severities ("error",
-- "warning", "critical") and device labels where they stand as columns.
-- @tparam string line without its line break
-- @treturn string
function M.paint_line(line)
  if not state.color then return line end
  for _, sev in ipairs{ "critical", "error", "warning" } do
    line = columns(line, sev, STYLES[sev])
  end
  for _, l in ipairs(state.labels) do line = columns(line, l[1], l[2]) end
  return line
end

--- `line` cut to `width` display columns, its last one "…" when cut.
-- Colour codes take no column; a cut line ends them.
-- @tparam string line without its line break
-- @tparam integer width
-- @treturn string
function M.cut(line, width)
  local cols, i, n = 0, 1, #line
  local stop, colored
  while i <= n do
    local esc = line:match("^\27%[[%d;]*m", i)
    if esc then
      colored = true
      i = i + #esc
    else
      local c = line:match("^[%z\1-\127\194-\244][\128-\191]*", i) or
                line:sub(i, i)
      cols = cols + 1
      if cols == width then stop = i end
      if cols > width then
        return line:sub(1, stop - 1) .. "…" .. (colored and "\27[0m" or "")
      end
      i = i + #c
    end
  end
  return line
end

return M
