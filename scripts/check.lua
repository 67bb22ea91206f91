-- synclua check: is this sync.db sound and readable? SQLite's quick_check,
-- the stored timestamps (other forms, unparsable rows), the time span, and
-- the events by severity and type. Opens read-only. A store that is
-- corrupt, truncated or not a sync.db is this command's finding (exit 1),
-- not a failure: check exists to say so. Missing or locked stores exit 3.
local synclua = require "synclua"
local command = require "synclua.command"
local inputs = require "synclua.inputs"
local pictures = require "synclua.pictures"
local term = require "synclua.term"
local runner = require "synclua.runner"

local BUCKETS = 12

-- What opening failures mean for check: a finding, or the environment.
local FINDING = { corrupt = true, notdb = true }

local function span(log)
  local first = log:first{ order = "asc", raw = true }
  local last = log:first{ raw = true }
  return first and first.timestamp, last and last.timestamp
end

local function counts(log, field, names)
  local out = synclua.array()
  for _, name in ipairs(names) do
    local n = log:count{ [field] = name }
    if n > 0 then out[#out + 1] = { name = name, count = n } end
  end
  return out
end

-- Events per time bucket across the span, counted through the timestamp
-- index (nothing is loaded): { { label, value }, ... }, or nil when the
-- span is one instant or its ends do not parse.
local function activity(log, first, last)
  local t0 = first and synclua.parse_rfc3339(first)
  local t1 = last and synclua.parse_rfc3339(last)
  if not t0 or not t1 or t1 <= t0 then return nil end
  -- At most BUCKETS buckets, each a whole number of seconds long.
  local second = 1000000000
  t0 = t0 - t0 % second
  local step = ((t1 - t0) // BUCKETS // second + 1) * second
  local rows = {}
  for i = 0, (t1 - t0) // step do
    local from = t0 + i * step
    local label = synclua.format_time(from, true)
    rows[#rows + 1] = {
      label = label:gsub("T", " "):gsub("Z$", ""),
      value = log:count{ since = from, ["until"] = math.min(from + step - 1,
                                                            t1) } }
  end
  return rows
end

-- Everything the check found, for text or JSON.
local function examine(log)
  local times = runner.check(log:time_report())
  local sound, findings = log:integrity()
  local first, last = span(log)
  local problems = synclua.array()
  if not sound then
    problems[#problems + 1] = "integrity: " .. findings:gsub("\n$", "")
  end
  if times.unparsable > 0 then
    local ids = {}
    for i, id in ipairs(times.first_bad_ids) do ids[i] = tostring(id) end
    problems[#problems + 1] = ("%d events have timestamps that do not parse "
      .. "(ids %s%s)"):format(times.unparsable, table.concat(ids, ", "),
      times.unparsable > #ids and ", ..." or "")
  end
  return {
    path = log:path(),
    events = times.rows,
    first = first,
    last = last,
    integrity = sound and "ok" or findings:gsub("\n$", ""),
    timestamps = { canonical = times.rows - times.noncanonical
                     - times.unparsable,
                   other_forms = times.noncanonical,
                   unparsable = times.unparsable },
    activity = activity(log, first, last),
    severities = counts(log, "severity", synclua.severities),
    event_types = counts(log, "event_type", synclua.event_types),
    problems = problems,
  }
end

-- A store that cannot be read as a sync.db: the finding.
local function unreadable(path, message)
  return { path = path, integrity = message,
           problems = synclua.array{ message } }
end

local function text(r)
  local out = {}
  local function add(fmt, ...) out[#out + 1] = fmt:format(...) end
  if #r.problems == 0 then add("%s: ok", r.path)
  else add("%s: %d problem%s", r.path, #r.problems,
           #r.problems == 1 and "" or "s") end
  for _, p in ipairs(r.problems) do add("  problem: %s", p) end
  if r.events == nil then return table.concat(out, "\n") end
  add("  events: %d%s", r.events,
      r.first and (" from %s to %s"):format(r.first, r.last) or "")
  add("  timestamps: %d canonical, %d in other forms, %d unparsable",
      r.timestamps.canonical, r.timestamps.other_forms,
      r.timestamps.unparsable)
  add("  integrity: %s", r.integrity)
  for _, group in ipairs{ { "severity", r.severities },
                          { "type", r.event_types } } do
    local parts = {}
    for _, c in ipairs(group[2]) do
      parts[#parts + 1] = ("%s %d"):format(c.name, c.count)
    end
    if #parts > 0 then add("  by %s: %s", group[1], table.concat(parts, ", ")) end
  end
  if r.activity then
    add("  events over time:")
    out[#out + 1] = (pictures.bars(r.activity, term.cells(30, 40),
                                   { indent = "    " })
                     :gsub("\n$", ""))
  end
  return table.concat(out, "\n")
end

-- Examine one store; a store that breaks under the queries is a finding.
local function judge(path)
  local log, message, code = synclua.open(path)
  if not log then
    if FINDING[code] then return unreadable(path, message) end
    runner.check(log, message, code)
  end
  local ok, r = pcall(examine, log)
  log:close()
  if ok then return r end
  local text_of = tostring(type(r) == "table" and r.message or r)
    :gsub("^[^\n]-%.lua:%d+: ", "")
  if text_of:find("corrupt", 1, true) or text_of:find("malformed", 1, true)
     or text_of:find("not an SQLite", 1, true) then
    return unreadable(path, text_of)
  end
  error(r, 0)
end

return command{
  name = "check",
  description = "Check that a sync.db is sound and its timestamps readable",
  inputs = false, window = false,
  formats = { "text", "json", "ndjson" },
  options = {
    { "--db", type = "inputs",
      help = "a sync.db, library folder, folder of devices or glob (repeat "
        .. "for several; default $SYNCLUA_DB, then ./sync.db)" },
  },
  run = function(ctx)
    local status, all = 0, synclua.array()
    for _, e in ipairs(inputs.expand(ctx.opts.db)) do
      local r = judge(e.path)
      r.activity = ctx.format == "text" and r.activity or nil -- a picture's
      if ctx.format == "ndjson" then
        ctx.out:write(synclua.json_encode(r), "\n")
      elseif ctx.format == "json" then
        all[#all + 1] = r
      else ctx.out:write(text(r), "\n") end
      if #r.problems > 0 then status = 1 end
    end
    -- json: one array, a store each (one JSON text, however many stores)
    if ctx.format == "json" then
      ctx.out:write(synclua.json_encode(all), "\n")
    end
    return status
  end,
}
