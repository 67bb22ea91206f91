--- synclua.pictures: small pictures for the text output of the report
-- commands (DESIGN.md: "where people would rather look than read"), drawn
-- with Unicode block characters on a UTF-8 terminal and with plain ASCII
-- otherwise. Pure functions: each returns a string and writes nothing;
-- none of it ever goes into `--format json`.
--
--     local pictures = require "synclua.pictures"
--     pictures.sparkline{ 3, 5, 9, 4 }              --> "▁▃█▂"
--     pictures.sparkline({ 3, 5, 9, 4 }, { ascii = true })  --> "_-#."
--     pictures.bars({ { label = "desktop", value = 5 } }, 20)
--     pictures.gantt({ { label = "backfill", start = t0, stop = t1 } }, 40, t0, t1)
--     pictures.histogram(instants, 24, from, to)
--
-- Every function takes a last `opts` table; `opts.ascii = true` forces
-- ASCII and `false` forces Unicode (tests use both). Left nil, the choice
-- is synclua.fmt.unicode(): Unicode when stdout is a UTF-8 terminal.
-- Instants are integer nanoseconds since the epoch, as events carry them.
-- Multi-line pictures end every line, the last one included, with "\n";
-- `opts.indent` is written before each line.
local fmt = require "synclua.fmt"

local M = {}

local SPARK_UNICODE = { "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" }
local SPARK_ASCII = { "_", ".", "-", "=", "#" }
-- Left-aligned partial blocks: k eighths of a cell, k = 1..7.
local EIGHTHS = { "▏", "▎", "▍", "▌", "▋", "▊", "▉" }

local function typename(v)
  return math.type(v) or type(v)
end

local function argcheck(cond, n, fname, msg)
  if not cond then
    error(("bad argument #%d to '%s' (%s)"):format(n, fname, msg), 3)
  end
end

--- The kinds of picture drawn since the last M.legend (sparkline, bars,
-- gantt), each with whether in ASCII: what a legend explains.
M.drawn = {}

-- Should this call draw in ASCII? Notes the kind as drawn.
local function ascii_of(opts, n, fname)
  argcheck(opts == nil or type(opts) == "table", n, fname,
           "table expected, got " .. typename(opts))
  local ascii
  if opts and opts.ascii ~= nil then ascii = opts.ascii and true or false
  else ascii = not fmt.unicode() end
  M.drawn[fname == "histogram" and "bars" or fname] = ascii
  return ascii
end

-- What each kind's characters mean, Unicode then ASCII.
local LEGENDS = {
  { "sparkline", "▁▂▃▄▅▆▇█", "_.-=#", "sparkline: a step of time each, "
    .. "low to high within its row" },
  { "bars", "█▏", "#", "bar: its value against the largest" },
  { "gantt", "│█▸▏", "|=>+", "Gantt: the time axis, a span, no end yet, "
    .. "no length" },
}

--- The legend of the pictures drawn since the last call (M.drawn), a line
-- each ("legend: ▁▂▃▄▅▆▇█ a sparkline: ..."), or "" when none was; M.drawn
-- is emptied.
-- @treturn string
function M.legend()
  local lines = {}
  for _, l in ipairs(LEGENDS) do
    local ascii = M.drawn[l[1]]
    if ascii ~= nil then
      lines[#lines + 1] = ("legend: %s %s\n"):format(ascii and l[3] or l[2],
                                                     l[4])
    end
  end
  M.drawn = {}
  return table.concat(lines)
end

-- The display width of a string: its UTF-8 characters (every character
-- the pictures use, and the labels they are given, are one column wide).
local function width_of(s)
  return utf8.len(s) or #s
end

local function pad(s, w)
  return s .. (" "):rep(w - width_of(s))
end

local function lpad(s, w)
  return (" "):rep(w - width_of(s)) .. s
end

local function rstrip(s)
  return (s:gsub("%s+$", ""))
end

-- Values 1..n of a list that may have holes (nil: no value).
local function count_of(values, opts)
  return (opts and opts.n) or values.n or #values
end

--- A sparkline: one character per value, its height the value's place
-- between the smallest and the largest (or opts.min / opts.max, which
-- also clamp). Unicode ▁▂▃▄▅▆▇█, ASCII _.-=#; a missing value (nil, in a
-- list whose length is given as `n`) is a space; a flat series sits on
-- the lowest level. With opts.width and more values than that, each
-- character stands for the mean of a run of consecutive values.
-- @tparam {number,...} values
-- @tparam[opt] table opts { ascii, min, max, width, n }
-- @treturn string
function M.sparkline(values, opts)
  argcheck(type(values) == "table", 1, "sparkline",
           "table expected, got " .. typename(values))
  local ascii = ascii_of(opts, 2, "sparkline")
  opts = opts or {}
  local n = count_of(values, opts)
  local list = {}
  for i = 1, n do
    local v = values[i]
    argcheck(v == nil or type(v) == "number", 1, "sparkline",
             ("values[%d]: number expected, got %s"):format(i, typename(v)))
    list[i] = v
  end
  local w = opts.width
  argcheck(w == nil or (math.type(w) == "integer" and w > 0), 2, "sparkline",
           "width: a positive integer expected")
  if w and n > w then
    local grouped = {}
    for c = 1, w do
      local a, b = (c - 1) * n // w + 1, c * n // w
      local sum, k = 0, 0
      for i = a, b do
        if list[i] then sum, k = sum + list[i], k + 1 end
      end
      grouped[c] = k > 0 and sum / k or nil
    end
    list, n = grouped, w
  end
  local lo, hi = opts.min, opts.max
  for i = 1, n do
    local v = list[i]
    if v then
      if opts.min == nil and (lo == nil or v < lo) then lo = v end
      if opts.max == nil and (hi == nil or v > hi) then hi = v end
    end
  end
  local levels = ascii and SPARK_ASCII or SPARK_UNICODE
  local out = {}
  for i = 1, n do
    local v = list[i]
    if v == nil then
      out[i] = " "
    else
      local k = 1
      if hi > lo then
        local f = (math.min(math.max(v, lo), hi) - lo) / (hi - lo)
        k = math.floor(f * (#levels - 1) + 0.5) + 1
      end
      out[i] = levels[k]
    end
  end
  return table.concat(out)
end

-- A bar of `eighths` eighths of a cell (Unicode) or `cells` '#' (ASCII).
local function bar_of(value, max, width, ascii)
  if max <= 0 or value <= 0 then return "" end
  if ascii then
    local cells = math.floor(value / max * width + 0.5)
    return ("#"):rep(math.max(cells, 1))
  end
  local eighths = math.max(math.floor(value / max * width * 8 + 0.5), 1)
  local s = ("█"):rep(eighths // 8)
  if eighths % 8 > 0 then s = s .. EIGHTHS[eighths % 8] end
  return s
end

-- A row of bars/gantt: { label =, value =, text = } or { label, value, text }.
local function field(row, name, i)
  local v = row[name]
  if v == nil then v = row[i] end
  return v
end

--- Horizontal bars, one line per row: the label (padded to the longest),
-- a bar as long as the value is against the largest (or opts.max) on
-- `width` cells, then the row's text (default: the value, thousands
-- separated). Unicode bars are drawn to the eighth of a cell (█ and ▏..▉);
-- ASCII bars in whole '#'. A positive value always shows.
-- @tparam table rows { { label = "desktop", value = 5 [, text = "5 of 7"] }, ... }
-- @tparam integer width cells for the longest bar
-- @tparam[opt] table opts { ascii, max, indent }
-- @treturn string
function M.bars(rows, width, opts)
  argcheck(type(rows) == "table", 1, "bars",
           "table expected, got " .. typename(rows))
  argcheck(math.type(width) == "integer" and width > 0, 2, "bars",
           "positive integer expected, got " .. typename(width))
  local ascii = ascii_of(opts, 3, "bars")
  opts = opts or {}
  local max, lw = opts.max or 0, 0
  for i, row in ipairs(rows) do
    argcheck(type(row) == "table", 1, "bars",
             ("rows[%d]: table expected"):format(i))
    local label, value = field(row, "label", 1), field(row, "value", 2)
    argcheck(type(value) == "number", 1, "bars",
             ("rows[%d].value: number expected, got %s"):format(i,
                                                                typename(value)))
    lw = math.max(lw, width_of(tostring(label or "")))
    if opts.max == nil and value > max then max = value end
  end
  local out, indent = {}, opts.indent or ""
  for _, row in ipairs(rows) do
    local label, value = tostring(field(row, "label", 1) or ""),
                         field(row, "value", 2)
    local text = field(row, "text", 3) or fmt.number(value)
    local bar = bar_of(math.min(value, max), max, width, ascii)
    out[#out + 1] = rstrip(indent .. pad(label, lw) .. "  " .. pad(bar, width)
                           .. "  " .. text) .. "\n"
  end
  return table.concat(out)
end

--- A Gantt chart: one line per span with its label, a bar placed on a
-- time axis shared by all spans (from `from` to `to`, over `width`
-- cells, framed by │ or |), and its duration; above them a line with the
-- axis's ends as times of day. A span is { label, start, stop [, text] }
-- (instants); `stop` nil draws it open to the right edge (▸ or >) with
-- the text "no end"; a span too short for a cell still takes one, and
-- one of no length is a thin mark (▏ or +).
-- @tparam table spans
-- @tparam integer width cells of the axis
-- @tparam integer from the axis's start (instant)
-- @tparam integer to the axis's end (instant)
-- @tparam[opt] table opts { ascii, indent, left, right } (left/right:
--   the axis labels; default the times of day of from and to)
-- @treturn string
function M.gantt(spans, width, from, to, opts)
  argcheck(type(spans) == "table", 1, "gantt",
           "table expected, got " .. typename(spans))
  argcheck(math.type(width) == "integer" and width > 0, 2, "gantt",
           "positive integer expected, got " .. typename(width))
  argcheck(math.type(from) == "integer", 3, "gantt",
           "integer expected, got " .. typename(from))
  argcheck(math.type(to) == "integer", 4, "gantt",
           "integer expected, got " .. typename(to))
  local ascii = ascii_of(opts, 5, "gantt")
  opts = opts or {}
  local frame = ascii and "|" or "│"
  local full, mark, open = ascii and "=" or "█", ascii and "+" or "▏",
                           ascii and ">" or "▸"
  local length = math.max(to - from, 1)
  local lw = 0
  for i, s in ipairs(spans) do
    argcheck(type(s) == "table", 1, "gantt", ("spans[%d]: table expected")
      :format(i))
    local start, stop = field(s, "start", 2), field(s, "stop", 3)
    argcheck(math.type(start) == "integer", 1, "gantt",
             ("spans[%d].start: integer expected, got %s"):format(i,
                                                                 typename(start)))
    argcheck(stop == nil or math.type(stop) == "integer", 1, "gantt",
             ("spans[%d].stop: integer expected, got %s"):format(i,
                                                                typename(stop)))
    lw = math.max(lw, width_of(tostring(field(s, "label", 1) or "")))
  end
  local function cell(t)
    return (t - from) * width / length
  end
  local indent = opts.indent or ""
  local left = opts.left or fmt.time_of_day(from)
  local right = opts.right or fmt.time_of_day(to)
  local axis = left
  if width + 2 >= width_of(left) + width_of(right) + 1 then
    axis = left .. lpad(right, width + 2 - width_of(left))
  end
  local out = { rstrip(indent .. (" "):rep(lw) .. "  " .. axis) .. "\n" }
  for _, s in ipairs(spans) do
    local label = tostring(field(s, "label", 1) or "")
    local start, stop = field(s, "start", 2), field(s, "stop", 3)
    local a = math.floor(cell(start))
    local b = stop and math.ceil(cell(stop)) or width
    a = math.min(math.max(a, 0), width - 1)
    b = math.min(math.max(b, a + 1), width)
    local body
    if stop == nil then
      body = full:rep(b - a - 1) .. open
    elseif stop == start then
      body = mark
    else
      body = full:rep(b - a)
    end
    local text = field(s, "text", 4)
      or (stop == nil and "no end" or fmt.duration(stop - start))
    out[#out + 1] = rstrip(indent .. pad(label, lw) .. "  " .. frame
      .. (" "):rep(a) .. body .. (" "):rep(width - b) .. frame .. "  "
      .. text) .. "\n"
  end
  return table.concat(out)
end

--- Event counts per time bucket: `buckets` equal buckets from `from` to
-- `to` (the last one includes `to`; times outside are not counted).
-- Horizontal (the default): one bar per bucket (see `bars`), labelled by
-- the bucket's start as a time of day. Vertical (opts.vertical): one
-- column per bucket, opts.height lines high (default 4), Unicode columns
-- to the eighth of a line, ASCII in whole '#'; the largest count left of
-- the top line, 0 left of the bottom one, and the axis's ends below.
-- Returns the picture and the list of counts.
-- @tparam {integer,...} times instants
-- @tparam integer buckets
-- @tparam integer from
-- @tparam integer to
-- @tparam[opt] table opts { ascii, vertical, height, width (horizontal
--   bars' cells, default 40), indent }
-- @treturn string
-- @treturn {integer,...} counts
function M.histogram(times, buckets, from, to, opts)
  argcheck(type(times) == "table", 1, "histogram",
           "table expected, got " .. typename(times))
  argcheck(math.type(buckets) == "integer" and buckets > 0, 2, "histogram",
           "positive integer expected, got " .. typename(buckets))
  argcheck(math.type(from) == "integer", 3, "histogram",
           "integer expected, got " .. typename(from))
  argcheck(math.type(to) == "integer", 4, "histogram",
           "integer expected, got " .. typename(to))
  local ascii = ascii_of(opts, 5, "histogram")
  opts = opts or {}
  local length = math.max(to - from, 1)
  local counts = {}
  for i = 1, buckets do counts[i] = 0 end
  for i, t in ipairs(times) do
    argcheck(math.type(t) == "integer", 1, "histogram",
             ("times[%d]: integer expected, got %s"):format(i, typename(t)))
    if t >= from and t <= to then
      local k = math.min((t - from) * buckets // length + 1, buckets)
      counts[k] = counts[k] + 1
    end
  end
  local indent = opts.indent or ""
  if not opts.vertical then
    local rows = {}
    for i = 1, buckets do
      rows[i] = { label = fmt.time_of_day(from + (i - 1) * length // buckets),
                  value = counts[i] }
    end
    return M.bars(rows, opts.width or 40,
                  { ascii = ascii, indent = indent }), counts
  end
  local height = opts.height or 4
  argcheck(math.type(height) == "integer" and height > 0, 5, "histogram",
           "height: a positive integer expected")
  local max = 0
  for _, c in ipairs(counts) do max = math.max(max, c) end
  local units = ascii and 1 or 8             -- steps per line
  local levels = {}
  for i, c in ipairs(counts) do
    levels[i] = max > 0 and c > 0
      and math.max(math.floor(c / max * height * units + 0.5), 1) or 0
  end
  local gw = #fmt.number(max)
  local out = {}
  for line = height, 1, -1 do
    local row = {}
    for i = 1, buckets do
      local filled = levels[i] - (line - 1) * units
      if filled >= units then
        row[i] = ascii and "#" or "█"
      elseif filled > 0 then
        row[i] = SPARK_UNICODE[filled]
      else
        row[i] = " "
      end
    end
    local g = line == height and fmt.number(max) or (line == 1 and "0" or "")
    out[#out + 1] = rstrip(indent .. lpad(g, gw) .. " " .. (ascii and "|" or "│")
                           .. table.concat(row)) .. "\n"
  end
  local left, right = fmt.time_of_day(from), fmt.time_of_day(to)
  local axis = left
  if buckets + 1 >= #left + #right + 1 then
    axis = left .. lpad(right, buckets + 1 - #left)
  end
  out[#out + 1] = rstrip(indent .. (" "):rep(gw) .. " " .. axis) .. "\n"
  return table.concat(out), counts
end

--- A table's lines: rows (lists of cells) with each column padded to its
-- widest cell (counted in characters), two spaces between columns, the
-- columns listed in `right` aligned right, no trailing blanks.
-- @tparam table rows { { "peer", "online", ... }, ... }
-- @tparam[opt] table right { [2] = true, ... }
-- @treturn {string,...} lines
function M.columns(rows, right)
  right = right or {}
  local w = {}
  for _, row in ipairs(rows) do
    for i, cell in ipairs(row) do
      w[i] = math.max(w[i] or 0, utf8.len(cell) or #cell)
    end
  end
  local lines = {}
  for r, row in ipairs(rows) do
    local parts = {}
    for i, cell in ipairs(row) do
      local fill = (" "):rep(w[i] - (utf8.len(cell) or #cell))
      parts[i] = right[i] and fill .. cell or cell .. fill
    end
    lines[r] = (table.concat(parts, "  "):gsub("%s+$", ""))
  end
  return lines
end

return M
