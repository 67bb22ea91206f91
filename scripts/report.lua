-- synclua report: a one-page triage of a library. Runs each debugging
-- scenario (why_failed, lost_data, why_slow, which_peer, sessions) on the
-- same inputs and window, and gives each one's verdict, its worst finding
-- and the devices its findings are about; exits with the status of the
-- worst. With no --db it runs on the demo library: the first command to
-- try.
local synclua = require "synclua"
local report = require "synclua.report"
local runner = require "synclua.runner"
local fmt = require "synclua.fmt"

local SCENARIOS = { "why_failed", "lost_data", "why_slow", "which_peer",
                    "sessions" }
local RANK = { error = 3, warning = 2, info = 1 }

-- The scenarios' declarations, from the scripts beside this one.
local function scenario(name)
  local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
  return assert(runner.declaration(here .. "/" .. name .. ".lua"))
end

-- The most severe warning or error (the first of the most severe), or
-- nil.
local function worst(findings)
  local best
  for _, f in ipairs(findings or {}) do
    if (RANK[f.severity] or 0) >= RANK.warning and (not best
        or RANK[f.severity] > RANK[best.severity]) then
      best = f
    end
  end
  return best
end

-- The devices a scenario's warnings and errors cite, with how many each.
local function devices(findings)
  local list, by = synclua.array(), {}
  for _, f in ipairs(findings or {}) do
    local seen = {}
    if (RANK[f.severity] or 0) < RANK.warning then seen = nil end
    for _, e in ipairs(seen and f.evidence or {}) do
      local label = e.label or fmt.short(e.device)
      if not seen[label] then
        seen[label] = true
        if not by[label] then
          by[label] = { label = label, findings = 0 }
          list[#list + 1] = by[label]
        end
        by[label].findings = by[label].findings + 1
      end
    end
  end
  return list
end

local function analyze(ctx)
  local rows, findings, problems = synclua.array(), synclua.array(), {}
  for _, name in ipairs(SCENARIOS) do
    local decl = scenario(name)
    -- Each scenario's own options at their defaults.
    local opts = require("synclua.cli").parse(decl, {}, name,
      { now = ctx.now, formats = decl.formats })
    local actx = {}
    for k, v in pairs(ctx) do actx[k] = v end
    actx.opts, actx._sessions = opts, nil
    local r = decl.analyze(actx)
    local w = worst(r.findings)
    rows[#rows + 1] = { name = name, verdict = r.verdict,
                        status = r.status == 1 and "finding" or "ok",
                        worst = w or synclua.null,
                        devices = devices(r.findings) }
    if r.status == 1 then problems[#problems + 1] = name end
    if w then
      local f = {}
      for k, v in pairs(w) do f[k] = v end
      f.scenario = name
      findings[#findings + 1] = f
    end
  end
  local verdict
  if #problems == 0 then
    verdict = ("no problem found by %d scenarios"):format(#SCENARIOS)
  else
    verdict = ("%d of %d scenarios found problems: %s"):format(#problems,
      #SCENARIOS, table.concat(problems, ", "))
  end
  return { verdict = verdict, status = #problems > 0 and 1 or 0,
           scenarios = rows, findings = findings }
end

local function text(result, out)
  for _, r in ipairs(result.scenarios) do
    out:write(("\n%-11s %s\n"):format(r.name, r.verdict))
    if r.worst ~= synclua.null then
      out:write(("            worst: %s  %s\n"):format(r.worst.severity,
                                                       r.worst.summary))
    end
    if #r.devices > 0 then
      local parts = {}
      for _, d in ipairs(r.devices) do
        parts[#parts + 1] = ("%s %s"):format(d.label,
                                             fmt.plural(d.findings, "finding"))
      end
      out:write("            devices: ", table.concat(parts, ", "), "\n")
    end
  end
  out:write("\nEach line is one scenario; synclua NAME --help explains it and "
    .. "synclua NAME\nshows its evidence.\n")
end

return report.command{
  name = "report",
  redact = true,
  description = "One-page triage: each scenario's verdict and worst "
    .. "finding, device by device",
  epilog = "Runs why_failed, lost_data, why_slow, which_peer and sessions "
    .. "on the same\ninputs and window, each with its default options. Exit "
    .. "status 1 when one of\nthem finds a problem, 0 otherwise. With no --db, "
    .. "runs on the demo library.",
  analyze = analyze,
  text = text,
}
