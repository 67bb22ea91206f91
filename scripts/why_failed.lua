-- synclua why_failed: "Why did sync fail?" (the docs' first debugging
-- scenario) as a report. The errors and warnings in the range, grouped by
-- kind (buffer overflow, stuck dependencies, watermark too old, failed
-- backfill sessions by reason, the event log's own queue-full drops,
-- other); the backfill sessions that started and never completed (real
-- Spacedrive logs write no failure event, so a session with a start and no
-- completion is how a failure shows); and, when the peer's log is given
-- too (--db once per device), what the peer logged at the same time.
-- Exit 1 when a failure is found. Read-only.
local report = require "synclua.report"
local analysis = require "synclua.sessions"
local fmt = require "synclua.fmt"

local WINDOW = 2 * analysis.MINUTE     -- "at the same time", either side

local TITLE = {
  buffer_overflow = "buffer overflow",
  stuck_dependencies = "stuck dependencies",
  watermark_too_old = "watermark too old",
  queue_full = "event log queue full",
  session_failed = "backfill session failed",
  session_incomplete = "backfill session never completed",
  session_running = "backfill session still running",
  other = "other",
}

-- The finding kinds that are failures (exit 1); the rest are context.
local FAILURE = {
  buffer_overflow = true, queue_full = true, session_failed = true,
  session_incomplete = true, other_error = true,
}

local plural = fmt.plural

-- Peer ids in a text replaced by the label of their device.
local function name_peers(ctx, text)
  return (tostring(text or ""):gsub("%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x",
    function(id) return analysis.device_label(ctx, id:lower()) end))
end

-- What the peer of session `s` logged around [from, to]: its side of the
-- session (requests received, responses sent, a request left unanswered)
-- and its warnings, errors and link events in the window.
local function peer_side(ctx, s, from, to)
  local side = { peer = s.peer, label = analysis.device_label(ctx, s.peer),
                 notes = report.array(), evidence = report.array() }
  if not s.peer then
    side.given = false
    side.notes[1] = "no peer was selected"
    return side
  end
  local store = analysis.store_of(ctx, s.peer)
  if not store then
    side.given = false
    side.notes[1] = ("%s's log was not given (add --db for it to see its "
      .. "side)"):format(side.label)
    return side
  end
  side.given = true
  local received, answered, sent, last_request = 0, 0, 0, nil
  for ev in store.log:events{ correlation_id = s.id, device = s.peer,
                              order = "asc" } do
    if ev.event_type == "backfill_request_received" then
      received, last_request = received + 1, ev
    elseif ev.event_type == "backfill_response_sent" then
      answered, sent = answered + 1, sent + (ev.record_count or 0)
      last_request = nil
    end
  end
  if received > 0 then
    local note = ("received %s of this session and answered %d (%s records)")
      :format(plural(received, "request"), answered, fmt.number(sent))
    if last_request then
      note = note .. ("; the last, #%d at %s, got no response"):format(
        last_request.id, fmt.clock(last_request.instant,
                                       last_request.timestamp))
      side.evidence[#side.evidence + 1] = analysis.evidence(store, last_request)
    end
    side.notes[#side.notes + 1] = note
  end
  local n = 0
  for ev in store.log:events{ device = s.peer, since = from - WINDOW,
                              ["until"] = to + WINDOW, order = "asc" } do
    local relevant = ev.severity == "error" or ev.severity == "warning"
      or ((ev.event_type == "peer_disconnected"
           or ev.event_type == "peer_connected")
          and ev.peer_device_id == s.device)
    if relevant then
      n = n + 1
      if n <= 5 then
        side.notes[#side.notes + 1] = ("%s %s"):format(
          fmt.clock(ev.instant, ev.timestamp), name_peers(ctx, ev.summary))
        side.evidence[#side.evidence + 1] = analysis.evidence(store, ev)
      end
    end
  end
  if n > 5 then
    side.notes[#side.notes + 1] = ("... and %d more events"):format(n - 5)
  end
  if #side.notes == 0 then
    side.notes[1] = ("logged nothing unusual between %s and %s"):format(
      fmt.clock(from - WINDOW), fmt.clock(to + WINDOW))
  end
  return side
end

local session_ref = analysis.ref

local function analyze(ctx)
  local grace = ctx.opts.grace
  local sessions = analysis.list(ctx, grace)
  local findings = report.array()
  local groups, order = {}, {}

  local function group(key, make)
    local g = groups[key]
    if not g then
      g = make()
      g.evidence, g.numbers = report.array(), g.numbers or {}
      groups[key], order[#order + 1] = g, key
    end
    return g
  end

  -- Errors and warnings, by kind.
  for _, item in ipairs(analysis.collect(ctx, { severity = "warning+" })) do
    local ev, store = item.ev, item.store
    local kind, nums = analysis.classify(ev)
    local dev = ev.device_id or store.device
    if kind == "session_failed" then
      local reason = analysis.details(ev).reason
      reason = type(reason) == "string" and reason
        or (ev.summary or ""):match("^Backfill session failed: (.*)$")
        or ev.summary or ""
      local key = "session_failed|" .. name_peers(ctx, reason)
      local g = group(key, function()
        return { kind = "session_failed", severity = "error",
                 reason = name_peers(ctx, reason), sessions = report.array(),
                 numbers = { sessions = 0 } }
      end)
      g.numbers.sessions = g.numbers.sessions + 1
      g.evidence[#g.evidence + 1] = analysis.evidence(store, ev)
      for _, s in ipairs(sessions) do
        if s.device == dev and s.id == ev.correlation_id then
          local ref = session_ref(ctx, s)
          local from, to = s.start or ev.instant, ev.instant or s.start
          if from and to then ref.peer_side = peer_side(ctx, s, from, to) end
          g.sessions[#g.sessions + 1] = ref
        end
      end
    else
      local key = kind
      if kind == "other" then
        kind = ev.severity == "error" and "other_error" or "other_warning"
        key = kind .. "|" .. ev.event_type .. "|"
          .. name_peers(ctx, ev.summary):gsub("%d+", "N")
      end
      local g = group(key, function()
        return { kind = kind, severity = ev.severity, numbers = { events = 0 },
                 sessions = report.array(),
                 sample = name_peers(ctx, ev.summary) }
      end)
      g.numbers.events = g.numbers.events + 1
      for k, v in pairs(nums) do
        if type(v) == "number" then
          if k == "age_days" or k == "threshold_days" or k == "buffered" then
            g.numbers[k] = math.max(g.numbers[k] or v, v)
          else
            g.numbers[k] = (g.numbers[k] or 0) + v
          end
        end
      end
      if nums.age_days == analysis.NO_WATERMARK_DAYS then g.no_watermark = true end
      g.evidence[#g.evidence + 1] = analysis.evidence(store, ev)
      if ev.severity == "error" and g.severity ~= "error" then
        g.severity = "error"
      end
      local s
      if ev.instant and kind == "watermark_too_old" then
        s = analysis.after(sessions, dev, ev.instant)
      elseif ev.instant then
        s = analysis.at(sessions, dev, ev.instant)
      end
      if s then g.sessions[#g.sessions + 1] = session_ref(ctx, s) end
    end
  end

  for _, key in ipairs(order) do
    local g = groups[key]
    local n = g.numbers.events or g.numbers.sessions
    local times = n > 1 and (" (%d times)"):format(n) or ""
    if g.kind == "session_failed" then
      g.summary = ("backfill session failed: %s%s"):format(g.reason,
        n > 1 and (" (%d sessions)"):format(n) or "")
    elseif g.kind == "buffer_overflow" then
      g.summary = ("buffer overflow%s: %s dropped during backfill (the "
        .. "update buffer was full: the device was offline or busy during "
        .. "heavy sync)"):format(times, plural(g.numbers.dropped or 0,
                                               "update"))
    elseif g.kind == "stuck_dependencies" then
      g.summary = ("stuck dependencies%s: %s waiting for %s that have not "
        .. "synced"):format(times, plural(g.numbers.waiting or 0, "record"),
        plural(g.numbers.missing_parents or 0, "missing parent"))
    elseif g.kind == "watermark_too_old" then
      if g.no_watermark then
        g.summary = ("watermark too old%s: no watermark yet for the peer (a "
          .. "first sync with it), forcing a full sync"):format(times)
      else
        g.summary = ("watermark too old%s: %s old (threshold %s), the "
          .. "device was offline too long, forcing a full sync"):format(times,
          plural(g.numbers.age_days or 0, "day"),
          plural(g.numbers.threshold_days or 0, "day"))
      end
    elseif g.kind == "queue_full" then
      g.summary = ("event log queue full%s: %s not logged"):format(times,
        plural(g.numbers.dropped or 0, "event"))
    else
      g.summary = ("%s%s"):format(g.sample, times)
    end
    if g.kind ~= "other_error" and g.kind ~= "other_warning" then
      g.sample = nil
    end
    findings[#findings + 1] = g
  end

  -- Sessions that started and never completed (no failure event either).
  for _, s in ipairs(sessions) do
    if s.status == "incomplete" or s.status == "running" then
      local batches = analysis.batches(ctx, s)
      local records = 0
      for _, b in ipairs(batches) do records = records + (b.record_count or 0) end
      local running = s.status == "running"
      local why
      if not s.peer then
        why = "no peer was selected (selection fails when no peer is online)"
      elseif running then
        why = ("its last activity was %s before the newest event of %s")
          :format(fmt.duration(s.newest - s.last_activity), s.label)
      elseif s.next_start then
        why = ("%s started another session at %s"):format(s.label,
          fmt.clock(s.next_start))
      else
        why = ("nothing of it after %s, and %s logged on until %s"):format(
          fmt.clock(s.last_activity), s.label, fmt.clock(s.newest))
      end
      local ref = session_ref(ctx, s)
      if not running and s.peer then
        ref.peer_side = peer_side(ctx, s, s.start,
                                  math.max(s.last_activity, s.start))
      end
      local f = {
        kind = running and "session_running" or "session_incomplete",
        severity = running and "info" or "error",
        summary = ("backfill session %s on %s%s, started %s, %s: %s"):format(
          fmt.short(s.id), s.label,
          s.peer and (" from " .. analysis.device_label(ctx, s.peer)) or "",
          fmt.clock(s.start),
          running and "may still be running" or "never completed", why),
        numbers = { batches = #batches, records = records,
                    starts = #s.starts },
        evidence = report.array(), sessions = report.array{ ref },
      }
      for _, ev in ipairs(s.starts) do
        f.evidence[#f.evidence + 1] = analysis.evidence(s.store, ev)
      end
      findings[#findings + 1] = f
    end
  end

  -- Errors on the other devices around each failure: "meanwhile".
  for _, f in ipairs(findings) do
    if FAILURE[f.kind] and f.kind ~= "session_failed"
       and f.kind ~= "session_incomplete" then
      local first = f.evidence[1]
      local at = first and first.timestamp
        and require("synclua").parse_rfc3339(first.timestamp)
      if at then
        local near = report.array()
        for _, store in ipairs(ctx.stores) do
          if store.device ~= first.device then
            for ev in store.log:events{ severity = "warning+",
                since = at - WINDOW, ["until"] = at + WINDOW, order = "asc",
                limit = 5 } do
              near[#near + 1] = analysis.evidence(store, ev)
              near[#near].summary = name_peers(ctx, ev.summary)
            end
          end
        end
        if #near > 0 then f.meanwhile = near end
      end
    end
  end

  table.sort(findings, function(a, b)
    local fa, fb = FAILURE[a.kind] and 0 or 1, FAILURE[b.kind] and 0 or 1
    if fa ~= fb then return fa < fb end
    local ta = a.evidence[1] and a.evidence[1].timestamp or ""
    local tb = b.evidence[1] and b.evidence[1].timestamp or ""
    return ta < tb
  end)

  -- The verdict.
  local failed, incomplete, errors, warnings = 0, 0, {}, {}
  local error_order, warning_order = {}, {}
  for _, f in ipairs(findings) do
    if f.kind == "session_failed" then failed = failed + f.numbers.sessions
    elseif f.kind == "session_incomplete" then incomplete = incomplete + 1
    elseif FAILURE[f.kind] then
      local t = TITLE[f.kind] or "other error"
      if not errors[t] then error_order[#error_order + 1] = t end
      errors[t] = (errors[t] or 0) + (f.numbers.events or 1)
    elseif f.severity == "warning" then
      local t = TITLE[f.kind] or "other warning"
      if not warnings[t] then warning_order[#warning_order + 1] = t end
      warnings[t] = (warnings[t] or 0) + (f.numbers.events or 1)
    end
  end
  local parts = {}
  if failed > 0 then
    parts[#parts + 1] = plural(failed, "backfill session") .. " failed"
  end
  if incomplete > 0 then
    parts[#parts + 1] = plural(incomplete, "backfill session")
      .. " never completed"
  end
  for _, t in ipairs(error_order) do
    parts[#parts + 1] = errors[t] > 1 and ("%d x %s"):format(errors[t], t) or t
  end
  local wparts = {}
  for _, t in ipairs(warning_order) do
    wparts[#wparts + 1] = warnings[t] > 1
      and ("%d x %s"):format(warnings[t], t) or t
  end
  local verdict, status
  if #parts > 0 then
    verdict, status = "sync failed: " .. table.concat(parts, ", "), 1
    if #wparts > 0 then
      verdict = verdict .. "; warnings: " .. table.concat(wparts, ", ")
    end
  else
    verdict, status = "no failure found", 0
    if #wparts > 0 then
      verdict = verdict .. "; warnings: " .. table.concat(wparts, ", ")
    end
  end
  local completed = 0
  for _, s in ipairs(sessions) do
    if s.status == "completed" then completed = completed + 1 end
  end
  return { verdict = verdict, status = status, findings = findings,
           sessions = { total = #sessions, completed = completed,
                        failed = failed, incomplete = incomplete } }
end

local function refs(out, list, indent)
  for _, e in ipairs(list) do
    out:write(("%s%s #%d %s %s%s\n"):format(indent, e.label, e.id,
      (e.timestamp or "?"):gsub("^(%d+%-%d+%-%d+)T(%d+:%d+:%d+).*$", "%1 %2"),
      e.event_type or "", e.summary and (": " .. e.summary) or ""))
  end
end

local function text(result, out)
  for _, f in ipairs(result.findings) do
    out:write(("\n%-7s  %s\n"):format(f.severity, f.summary))
    local shown = 0
    for _, e in ipairs(f.evidence) do
      shown = shown + 1
      if shown > 5 then
        out:write(("         ... and %d more\n"):format(#f.evidence - 5))
        break
      end
      refs(out, { e }, "         ")
    end
    for _, s in ipairs(f.sessions or {}) do
      out:write(("         session %s on %s%s: %s%s%s\n"):format(
        s.id, s.label, s.peer_label and (" from " .. s.peer_label) or "",
        s.status, s.started and (", started " .. fmt.clock(
          require("synclua").parse_rfc3339(s.started))) or "",
        s.ended and (", ended " .. fmt.clock(
          require("synclua").parse_rfc3339(s.ended))) or ""))
      if s.peer_side then
        for _, note in ipairs(s.peer_side.notes) do
          out:write(("           %s: %s\n"):format(s.peer_side.label, note))
        end
      end
    end
    if f.meanwhile then
      out:write("         meanwhile on other devices:\n")
      refs(out, f.meanwhile, "           ")
    end
  end
end

return report.command{
  name = "why_failed",
  redact = true,
  description = "Why did sync fail? Errors by kind, failed and unfinished "
    .. "backfill sessions, the peer's side",
  epilog = "Groups the errors and warnings (buffer overflow, stuck "
    .. "dependencies, watermark\ntoo old, failed sessions by reason, "
    .. "queue-full drops, other) and finds backfill\nsessions that started "
    .. "and never completed (Spacedrive writes no failure event).\nA session "
    .. "last active within --grace of the device's newest event, with "
    .. "no\nlater session, may still be running: reported, not counted. "
    .. "Give the peers' logs\ntoo (--db per device) to see what they logged "
    .. "at the same time.\nExit status 1 when a failure is found (a failed "
    .. "or unfinished session, an error\nevent), 0 otherwise.",
  options = {
    analysis.GRACE_OPTION,
  },
  analyze = analyze,
  text = text,
}
