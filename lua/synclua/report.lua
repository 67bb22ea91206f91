--- synclua.report: the report kind of command (why_failed, why_slow,
-- lost_data, which_peer, peers, session, sessions, report): a verdict
-- first, then the findings and their evidence, as text, JSON or Markdown,
-- with the exit status the verdict asks for. It stands on the command
-- frame (synclua.command): the inputs (--db, with the demo library when
-- there is none), the window (--since/--until), -f/--format and -o come
-- from there. The analysis itself lives in synclua.sessions, synclua.peers
-- and synclua.skew; words and numbers in synclua.fmt.
--
--     local report = require "synclua.report"
--     return report.command{
--       name = "why_slow", description = "...", options = { ... },
--       analyze = function(ctx) ... return result end,
--       text = function(result, out) ... end,   -- optional
--     }
--
-- `ctx` = { stores = the sources (synclua.inputs: log, path, device,
-- label), set = the same set (set:of(id), set:label(id)), filter = {
-- since, until } (the window), window, opts, now, redactor (--redact:
-- the run's synclua.redactor, else nil) }. A spec's `redact = true` gives
-- the report --redact (synclua.command). `result` = { verdict =
-- "short string", status = 0 or 1, findings = { { kind, severity,
-- summary, numbers = {}, evidence = { { device, label, id, timestamp },
-- ... } }, ... }, ... }.
--
-- Text is the verdict on the first line, the window and each device's
-- events in it on the second, then `text(result, out)` or the findings one
-- by one; JSON is one object: the whole result, its `status` "ok",
-- "finding" or "no_data", `exit` the exit status, and `window`; Markdown a
-- heading and a findings table. A window holding no events is never a
-- clean verdict: "no events between A and B (the log spans C to D)",
-- status "no_data", exit 0.
local synclua = require "synclua"
local command = require "synclua.command"
local fmt = require "synclua.fmt"
local follow = require "synclua.follow"
local term = require "synclua.term"

local M = {}

--- A list that encodes as a JSON array even when empty (synclua.array).
M.array = synclua.array

-- Lists that must encode as arrays: findings and their evidence.
local function arrays(result)
  result.findings = synclua.array(result.findings or {})
  for _, f in ipairs(result.findings) do
    f.evidence = synclua.array(f.evidence or {})
    if f.numbers == nil then f.numbers = {} end
  end
  return result
end

-- Numbers of a finding in a stable order: "dropped 1,247, sessions 2".
local function numbers_text(numbers)
  local keys = {}
  for k in pairs(numbers or {}) do keys[#keys + 1] = k end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do
    local v = numbers[k]
    parts[#parts + 1] = ("%s %s"):format(k:gsub("_", " "),
      type(v) == "number" and fmt.number(v) or tostring(v))
  end
  return table.concat(parts, ", ")
end

--- An evidence reference in words: "desktop #1234 2025-12-01 10:15:00
-- buffer_overflow".
-- @tparam table e
-- @treturn string
function M.evidence_text(e)
  local t = e.timestamp and fmt.clock_of(e.timestamp) or "?"
  return ("%s #%s %s%s"):format(e.label or fmt.short(e.device),
    tostring(e.id), t, e.event_type and (" " .. e.event_type) or "")
end
local evidence_text = M.evidence_text

--- The default text rendering of findings: per finding its severity,
-- summary, numbers and evidence references (at most `max_refs`, 5 by
-- default).
-- @tparam table findings
-- @tparam table out an object with :write
-- @tparam[opt] integer max_refs
function M.write_findings(findings, out, max_refs)
  max_refs = max_refs or 5
  for _, f in ipairs(findings) do
    out:write(("  %-7s  %s\n"):format(f.severity or "info", f.summary or f.kind))
    local nums = numbers_text(f.numbers)
    if nums ~= "" then out:write("           ", nums, "\n") end
    local ev = f.evidence or {}
    for i = 1, math.min(#ev, max_refs) do
      out:write("           ", evidence_text(ev[i]), "\n")
    end
    if #ev > max_refs then
      out:write(("           ... and %d more\n"):format(#ev - max_refs))
    end
  end
end

local function write_markdown(name, result, out, window_line)
  out:write("# ", name, ": ", fmt.cell(result.verdict), "\n\n")
  if window_line then out:write("_", fmt.cell(window_line), "_\n\n") end
  if #result.findings == 0 then
    out:write("No findings.\n")
    return
  end
  out:write("| Severity | Kind | Summary | Numbers | Evidence |\n")
  out:write("|----------|------|---------|---------|----------|\n")
  for _, f in ipairs(result.findings) do
    local refs = {}
    for i, e in ipairs(f.evidence) do
      if i > 5 then
        refs[#refs + 1] = ("... and %d more"):format(#f.evidence - 5)
        break
      end
      refs[#refs + 1] = evidence_text(e)
    end
    out:write(("| %s | %s | %s | %s | %s |\n"):format(
      fmt.cell(f.severity or ""), fmt.cell(f.kind or ""),
      fmt.cell(f.summary or ""), fmt.cell(numbers_text(f.numbers)),
      fmt.cell(table.concat(refs, "<br>"))))
  end
end

--- Write a result in a format ("text", "json", "markdown") to `out`.
-- @tparam table spec the report's declaration (name, text)
-- @tparam table result as analyze returned it (with `window_line`, the
--   text header's second line, when there is one)
-- @tparam string format
-- @tparam table out an object with :write
function M.write(spec, result, format, out)
  arrays(result)
  local line = result.window_line
  result.window_line = nil
  if format == "json" then
    out:write(synclua.json_encode(result), "\n")
  elseif format == "markdown" then
    write_markdown(spec.name, result, out, line)
  else
    out:write(term.paint(result.status, result.verdict), "\n")
    if line then out:write(line, "\n") end
    if result.status == "no_data" then return end
    if spec.text then spec.text(result, out)
    else M.write_findings(result.findings, out) end
  end
end

-- The result of a report over the window w, as M.write takes it.
local function evaluate(spec, ctx, w)
  local survey = w:survey(ctx.inputs)
  local result
  if survey.events == 0 then
    result = { verdict = w:no_data(survey), status = "no_data",
               findings = synclua.array() }
  else
    result = spec.analyze({
      stores = ctx.inputs, set = ctx.inputs, window = w, opts = ctx.opts,
      now = w.now, filter = { since = w.since, ["until"] = w["until"] },
      redactor = ctx.redactor })
    if type(result) ~= "table" or type(result.verdict) ~= "string" then
      error(("%s: analyze returned no verdict"):format(spec.name), 0)
    end
    result.status = result.status == 1 and "finding" or "ok"
  end
  result.exit = result.status == "finding" and 1 or 0
  result.window = w:json(survey)
  result.window_line = w:header(survey)
  return result
end

-- What a watch compares: the verdict and its findings' summaries (a
-- scenario of `report` may change under a verdict that does not).
local function gist(result)
  local parts = { result.verdict }
  for _, f in ipairs(result.findings or {}) do
    parts[#parts + 1] = f.summary or f.kind
  end
  table.sort(parts, function(a, b) return a < b end)
  return table.concat(parts, "\0")
end

-- Watch mode (--follow): after the report, evaluate it again as rows are
-- committed (at most once a second), over the window as it stands then
-- (--since alone reaching the new now), and print the verdict each time
-- it or its findings change -- in text with the time and the findings not
-- shown before, in JSON the whole result, one object a line -- until
-- Ctrl-C.
local function watch(spec, ctx, first)
  local seen = {}
  local function remember(result)
    for _, f in ipairs(result.findings) do seen[f.summary or f.kind] = true end
  end
  remember(first)
  local last = gist(first)
  local opts = ctx.opts
  follow.changes(ctx.inputs, function()
    local now = command.now()
    local w = require("synclua.window").new(opts.since,
      ctx.window.until_given and opts["until"] or nil, now)
    local result = evaluate(spec, ctx, w)
    local g = gist(result)
    if g == last then return end
    last = g
    if ctx.format == "json" then
      M.write(spec, result, "json", ctx.out)
    else
      local new = {}
      for _, f in ipairs(arrays(result).findings) do
        if not seen[f.summary or f.kind] then new[#new + 1] = f end
      end
      ctx.out:write(("\n%s  %s\n"):format(fmt.clock(now), result.verdict))
      M.write_findings(new, ctx.out)
    end
    remember(result)
    ctx.out:flush()
  end, { note = function(m) ctx:note(m) end })
end

--- Write a report's result as a picture (-f html or trace: see
-- synclua.view): the events of the window on every device, clock-corrected,
-- with the sessions, the causal links, and the verdict and findings on top
-- linking to their evidence; `session` draws its own session alone. The
-- offsets are stated on stderr, as timeline does for every format but text.
-- @tparam table spec the report's declaration
-- @tparam table ctx the command's context
-- @tparam table result as evaluate made it
-- @treturn integer the exit status
function M.picture(spec, ctx, result)
  arrays(result)
  local session = type(result.session) == "table" and result.session or nil
  local count, model = require("synclua.view").write(ctx.inputs, {
    format = ctx.format, out = ctx.out, filter = ctx.window:filter(),
    name = spec.name, now = ctx.now, result = result,
    grace = ctx.opts.grace, gap = ctx.opts.gap,
    correlation_id = session and session.correlation_id or nil,
    title = ("%s: %s"):format(spec.name, result.verdict) })
  for _, line in ipairs(model.clock) do ctx:note(line) end
  if ctx.opts.output then ctx:exported(count) end
  return result.exit
end

-- The report's options and --follow.
local function with_follow(options)
  local list = {}
  for i, o in ipairs(options or {}) do list[i] = o end
  list[#list + 1] = { "--follow", flag = true,
    help = "after the report, evaluate it again as events are committed "
      .. "to the stores and print the verdict each time it changes, until "
      .. "Ctrl-C (exit 0); -f text or json" }
  return list
end

--- Declare a report command: the script's return value. The frame adds
-- the common options; this runs `analyze(ctx)` on the inputs read-only and
-- writes its result; the exit status is 1 when result.status is 1, else
-- 0 (2 for bad usage, 3 when an input cannot be read). With --follow it
-- then watches (see watch above), and Ctrl-C ends it with status 0.
-- @tparam table spec { name, description, usage, epilog, options,
--   analyze, text, redact }
-- @treturn table a declaration for synclua.runner
function M.command(spec)
  if type(spec) ~= "table" then
    error(("bad argument #1 to 'command' (table expected, got %s)")
      :format(type(spec)), 2)
  end
  if type(spec.analyze) ~= "function" then
    error("bad argument #1 to 'command' (field 'analyze' must be a function)",
          2)
  end
  if spec.text ~= nil and type(spec.text) ~= "function" then
    error("bad argument #1 to 'command' (field 'text' must be a function)", 2)
  end
  return command.command{
    analyze = spec.analyze, text = spec.text,
    name = spec.name, description = spec.description, usage = spec.usage,
    redact = spec.redact,
    epilog = spec.epilog, options = with_follow(spec.options or spec.args),
    check = function(opts)
      follow.check(opts, { "text", "json" })
      if spec.check then return spec.check(opts) end
    end,
    demo = true,
    formats = { "text", "json", "markdown", "html", "trace" },
    run = function(ctx)
      if ctx.opts.follow then follow.check_stores(ctx.inputs) end
      local result = evaluate(spec, ctx, ctx.window)
      if require("synclua.view").is_view(ctx.format) then
        return M.picture(spec, ctx, result)
      end
      M.write(spec, result, ctx.format, ctx.out)
      if not ctx.opts.follow then return result.exit end
      ctx.out:flush()
      watch(spec, ctx, result)
      return 0
    end,
  }
end

return M
