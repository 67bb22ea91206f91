-- synclua sessions: every backfill and catch-up session of the devices
-- given, one line each -- id, device, peer, start, duration, records,
-- records/s and outcome (completed, failed, never completed, may still be
-- running) -- so that a user can pick one for `synclua session ID`.
-- Sessions are rebuilt by synclua.sessions, from Spacedrive's rows (no
-- failure event, no correlation id on batches) as well as synclua's.
local synclua = require "synclua"
local report = require "synclua.report"
local analysis = require "synclua.sessions"
local fmt = require "synclua.fmt"
local pictures = require "synclua.pictures"

local OUTCOME = {
  completed = "completed", failed = "failed",
  incomplete = "never completed", running = "may still be running",
}

-- One session as a row of the result.
local function row(ctx, s)
  local batches = analysis.batches(ctx, s)
  local records = s.record_count
  if not records then
    records = 0
    for _, b in ipairs(batches) do records = records + (b.record_count or 0) end
  end
  local stop = s.finish or s.last_activity
  local duration = s.duration_ns or (stop and s.start and stop - s.start)
  local rate = duration and duration > 0 and records / (duration / 1e9) or nil
  return {
    id = s.id, kind = s.kind, device = s.device, label = s.label,
    peer = s.peer or synclua.null,
    peer_label = s.peer and analysis.device_label(ctx, s.peer) or synclua.null,
    start = s.start and synclua.format_time(s.start, true) or synclua.null,
    duration_ms = duration and duration // 1000000 or synclua.null,
    records = records,
    records_per_s = rate and math.floor(rate * 10 + 0.5) / 10 or synclua.null,
    batches = #batches, outcome = s.status,
  }
end

local function analyze(ctx)
  local list = analysis.list(ctx, ctx.opts.grace, { "backfill", "catch_up" })
  local rows, counts, findings = synclua.array(), {}, synclua.array()
  for _, s in ipairs(list) do
    local r = row(ctx, s)
    rows[#rows + 1] = r
    counts[s.status] = (counts[s.status] or 0) + 1
    if s.status == "failed" or s.status == "incomplete" then
      local ev = synclua.array()
      for _, e in ipairs(s.starts) do
        ev[#ev + 1] = analysis.evidence(s.store, e)
      end
      if s.failed then ev[#ev + 1] = analysis.evidence(s.store, s.failed) end
      findings[#findings + 1] = {
        kind = "session_" .. s.status, severity = "error",
        summary = ("%s session %s on %s %s"):format(s.kind:gsub("_", "-"),
          fmt.short(s.id), s.label, OUTCOME[s.status]),
        numbers = { records = r.records }, evidence = ev,
        correlation_id = s.id,
      }
    end
  end
  local parts = {}
  for _, k in ipairs{ "completed", "failed", "incomplete", "running" } do
    if counts[k] then
      parts[#parts + 1] = ("%d %s"):format(counts[k], OUTCOME[k])
    end
  end
  local verdict = #list == 0 and "no sessions found"
    or ("%s: %s"):format(fmt.plural(#list, "session"),
                         table.concat(parts, ", "))
  return { verdict = verdict, sessions = rows, findings = findings,
           status = #findings > 0 and 1 or 0 }
end

local function text(result, out)
  if #result.sessions == 0 then return end
  local rows = { { "id", "kind", "device", "peer", "start", "duration",
                   "records", "records/s", "outcome" } }
  for _, r in ipairs(result.sessions) do
    rows[#rows + 1] = {
      r.id, r.kind == "catch_up" and "catch-up" or r.kind, r.label,
      r.peer_label ~= synclua.null and r.peer_label or "-",
      r.start ~= synclua.null and fmt.clock_of(r.start) or "?",
      r.duration_ms ~= synclua.null and fmt.duration(r.duration_ms * 1000000)
        or "?",
      fmt.number(r.records),
      r.records_per_s ~= synclua.null
        and fmt.number(math.floor(r.records_per_s + 0.5)) or "-",
      OUTCOME[r.outcome],
    }
  end
  out:write("\n")
  for _, line in ipairs(pictures.columns(rows, { [6] = true, [7] = true,
                                                 [8] = true })) do
    out:write("  ", line, "\n")
  end
end

return report.command{
  name = "sessions",
  redact = true,
  description = "Every backfill and catch-up session: device, peer, "
    .. "duration, records/s, outcome",
  epilog = "One line per session (a correlation id on one device), oldest "
    .. "first; pick an\nid for 'synclua session ID'. A session with a start "
    .. "and no end never completed,\nunless it was active within --grace of "
    .. "the device's newest event (may still\nbe running). Exit status 1 "
    .. "when a session failed or never completed.",
  options = {
    analysis.GRACE_OPTION,
  },
  analyze = analyze,
  text = text,
}
