-- synclua lost_data: "Did we lose data?" (the docs' fourth debugging
-- scenario) as a report. Updates dropped by buffer overflows (summed, and
-- per backfill session where the overflow follows one), records stuck
-- waiting for missing parents, forced full syncs (watermark too old) and
-- whether the full backfill they forced completed, backfill sessions that
-- never completed and were not made good by a later one, and -- with the
-- peer's log -- records a peer sent that the session did not apply. Tells
-- data pruned by retention (Spacedrive keeps 7 days) apart from data
-- missing from the log. Exit 1 on loss. Read-only.
local synclua = require "synclua"
local report = require "synclua.report"
local analysis = require "synclua.sessions"
local fmt = require "synclua.fmt"

local NS = analysis.SECOND
local HOUR = 3600 * NS

local plural = fmt.plural

-- A later completed session of the same device, if any.
local function made_good(sessions, s)
  for _, o in ipairs(sessions) do
    if o.device == s.device and o.status == "completed" and o.start
       and s.start and o.start > s.start then
      return o
    end
  end
  return nil
end

local session_ref = analysis.ref

-- The retention picture of one store: where its log starts and ends, and
-- whether that start is what 7-day pruning leaves.
local function retention(ctx, store)
  local oldest = analysis.oldest(ctx, store, nil)
  local newest = analysis.newest({ filter = {}, stores = ctx.stores }, store,
                               nil)
  if not oldest or not newest then return nil end
  local span = newest - oldest
  local cutoff = newest - analysis.RETENTION
  local r = { label = store.label, device = store.device,
              oldest = synclua.format_time(oldest),
              newest = synclua.format_time(newest), span_s = span / NS,
              oldest_instant = oldest }
  if oldest < cutoff - HOUR then
    r.state = "unpruned"
    r.summary = ("%s: the log spans %s (from %s to %s), more than the 7 days "
      .. "Spacedrive keeps: not pruned since (a copy, or an archive)"):format(
      store.label, fmt.duration(span), fmt.clock(oldest),
      fmt.clock(newest))
  elseif oldest <= cutoff + 6 * HOUR then
    r.state = "pruned"
    r.summary = ("%s: the log starts %s, about 7 days before its newest "
      .. "event (%s): consistent with retention; what happened before was "
      .. "pruned, not lost"):format(store.label, fmt.clock(oldest),
      fmt.clock(newest))
  else
    r.state = "complete"
    r.summary = ("%s: the log starts %s, %s before its newest event (%s): "
      .. "within the 7-day retention, so nothing was pruned; the device "
      .. "logged nothing earlier"):format(store.label, fmt.clock(oldest),
      fmt.duration(span), fmt.clock(newest))
  end
  return r
end

local function analyze(ctx)
  local sessions = analysis.list(ctx, ctx.opts.grace)
  local findings = report.array()
  local lost = {}               -- the verdict's parts

  -- Buffer overflows: dropped updates, summed and per session.
  local overflow = { kind = "dropped_updates", severity = "error",
                     numbers = { dropped = 0, overflows = 0 },
                     evidence = report.array(), sessions = report.array() }
  local stuck = { kind = "stuck_dependencies", severity = "error",
                  numbers = { waiting = 0, missing_parents = 0, events = 0 },
                  evidence = report.array(), sessions = report.array() }
  local log_drops = { kind = "log_incomplete", severity = "warning",
                      numbers = { dropped = 0, events = 0 },
                      evidence = report.array() }
  local forced = report.array()
  for _, item in ipairs(analysis.collect(ctx, { event_type = "sync_error" })) do
    local ev, store = item.ev, item.store
    local kind, nums = analysis.classify(ev)
    local dev = ev.device_id or store.device
    if kind == "buffer_overflow" then
      local n = nums.dropped or 0
      overflow.numbers.dropped = overflow.numbers.dropped + n
      overflow.numbers.overflows = overflow.numbers.overflows + 1
      overflow.evidence[#overflow.evidence + 1] = analysis.evidence(store, ev)
      local s = ev.instant and analysis.at(sessions, dev, ev.instant)
      overflow.sessions[#overflow.sessions + 1] = s
        and session_ref(ctx, s, { dropped = n })
        or { device = dev, label = analysis.device_label(ctx, dev), dropped = n }
    elseif kind == "stuck_dependencies" then
      stuck.numbers.waiting = stuck.numbers.waiting + (nums.waiting or 0)
      stuck.numbers.missing_parents = stuck.numbers.missing_parents
        + (nums.missing_parents or 0)
      stuck.numbers.events = stuck.numbers.events + 1
      stuck.evidence[#stuck.evidence + 1] = analysis.evidence(store, ev)
      local s = ev.instant and analysis.at(sessions, dev, ev.instant)
      stuck.sessions[#stuck.sessions + 1] = s
        and session_ref(ctx, s, { waiting = nums.waiting,
                                  missing_parents = nums.missing_parents })
        or { device = dev, label = analysis.device_label(ctx, dev),
             waiting = nums.waiting, missing_parents = nums.missing_parents }
    elseif kind == "watermark_too_old" then
      local s = ev.instant and analysis.after(sessions, dev, ev.instant)
      local good = s and (s.status == "completed" and s or made_good(sessions, s))
      local age = nums.age_days
      local f = {
        kind = "forced_full_sync", severity = "warning",
        numbers = { age_days = age, threshold_days = nums.threshold_days },
        evidence = report.array{ analysis.evidence(store, ev) },
        sessions = report.array(),
      }
      local what = age == analysis.NO_WATERMARK_DAYS
        and "no watermark yet for the peer (a first sync with it)"
        or ("watermark %s old (threshold %s)"):format(plural(age or 0, "day"),
             plural(nums.threshold_days or 0, "day"))
      if s then f.sessions[1] = session_ref(ctx, s) end
      if good then
        f.summary = ("forced full sync on %s: %s; the full backfill "
          .. "completed (session %s), nothing lost"):format(
          analysis.device_label(ctx, dev), what, fmt.short(good.id))
      elseif s and s.status == "running" then
        f.summary = ("forced full sync on %s: %s; the full backfill "
          .. "(session %s) is still running"):format(
          analysis.device_label(ctx, dev), what, fmt.short(s.id))
      else
        f.summary = ("forced full sync on %s: %s; %s"):format(
          analysis.device_label(ctx, dev), what, s
            and ("its backfill (session %s) never completed"):format(
                 fmt.short(s.id))
            or "no backfill followed it in the log")
        -- the unfinished backfill itself is counted below
      end
      forced[#forced + 1] = f
    elseif kind == "queue_full" then
      log_drops.numbers.dropped = log_drops.numbers.dropped + (nums.dropped or 0)
      log_drops.numbers.events = log_drops.numbers.events + 1
      log_drops.evidence[#log_drops.evidence + 1] = analysis.evidence(store, ev)
    end
  end
  if overflow.numbers.overflows > 0 then
    local per = {}
    for _, s in ipairs(overflow.sessions) do
      per[#per + 1] = ("%s on %s%s"):format(fmt.number(s.dropped or 0),
        s.label, s.id and (" after session " .. fmt.short(s.id)) or "")
    end
    overflow.summary = ("%s dropped by %s (the update buffer was full during "
      .. "backfill): %s"):format(plural(overflow.numbers.dropped, "update"),
      plural(overflow.numbers.overflows, "buffer overflow"),
      table.concat(per, ", "))
    findings[#findings + 1] = overflow
    lost[#lost + 1] = plural(overflow.numbers.dropped, "update") .. " dropped"
  end
  if stuck.numbers.events > 0 then
    stuck.summary = ("%s waiting for %s that never arrived (stuck "
      .. "dependencies%s)"):format(plural(stuck.numbers.waiting, "record"),
      plural(stuck.numbers.missing_parents, "missing parent"),
      stuck.numbers.events > 1
        and (", %d times"):format(stuck.numbers.events) or "")
    findings[#findings + 1] = stuck
    lost[#lost + 1] = plural(stuck.numbers.waiting, "record")
      .. " stuck on missing parents"
  end

  -- Sessions that never completed and were not made good by a later one.
  local unfinished = 0
  for _, s in ipairs(sessions) do
    if s.status == "incomplete" or s.status == "failed" then
      local good = made_good(sessions, s)
      local batches = analysis.batches(ctx, s)
      local got = 0
      for _, b in ipairs(batches) do got = got + (b.record_count or 0) end
      local ev = report.array()
      for _, e in ipairs(s.starts) do ev[#ev + 1] = analysis.evidence(s.store, e) end
      if s.failed then ev[#ev + 1] = analysis.evidence(s.store, s.failed) end
      local what = s.status == "failed" and "failed" or "never completed"
      if good then
        findings[#findings + 1] = {
          kind = "session_recovered", severity = "info",
          summary = ("backfill session %s on %s %s, and session %s completed "
            .. "it later: nothing lost"):format(fmt.short(s.id), s.label,
            what, fmt.short(good.id)),
          numbers = { records_before = got }, evidence = ev,
          sessions = report.array{ session_ref(ctx, s),
                                   session_ref(ctx, good) },
        }
      else
        unfinished = unfinished + 1
        findings[#findings + 1] = {
          kind = "backfill_incomplete", severity = "error",
          summary = ("backfill session %s on %s%s %s and no later session "
            .. "completed: %s has only %s of the library"):format(
            fmt.short(s.id), s.label, s.peer and (" from "
              .. analysis.device_label(ctx, s.peer)) or "", what, s.label,
            plural(got, "record")),
          numbers = { records_received = got }, evidence = ev,
          sessions = report.array{ session_ref(ctx, s) },
        }
      end
    end
  end
  if unfinished > 0 then
    lost[#lost + 1] = plural(unfinished, "backfill") .. " never completed"
  end

  -- Records the peer sent for a completed session that it did not apply.
  for _, s in ipairs(sessions) do
    if s.status == "completed" and s.peer then
      local peer = analysis.store_of(ctx, s.peer)
      local sent, responses = 0, 0
      if peer then
        for ev in peer.log:events{ correlation_id = s.id, device = s.peer,
                                   event_type = "backfill_response_sent" } do
          sent, responses = sent + (ev.record_count or 0), responses + 1
        end
      end
      local applied = s.record_count
      if not applied then
        local bs, how = analysis.batches(ctx, s)
        if how == "correlation_id" then
          applied = 0
          for _, b in ipairs(bs) do applied = applied + (b.record_count or 0) end
        end
      end
      if responses > 0 and applied and sent > applied then
        findings[#findings + 1] = {
          kind = "records_not_applied", severity = "error",
          summary = ("%s sent %s for session %s; %s applied %s: %s missing")
            :format(analysis.device_label(ctx, s.peer),
            plural(sent, "record"), fmt.short(s.id), s.label,
            fmt.number(applied), fmt.number(sent - applied)),
          numbers = { sent = sent, applied = applied, missing = sent - applied },
          evidence = report.array{ analysis.evidence(s.store, s.completed) },
          sessions = report.array{ session_ref(ctx, s) },
        }
        lost[#lost + 1] = plural(sent - applied, "record")
          .. " sent but not applied"
      end
    end
  end

  for _, f in ipairs(forced) do findings[#findings + 1] = f end
  if log_drops.numbers.events > 0 then
    log_drops.summary = ("the event log itself dropped %s (its queue was "
      .. "full): the log is incomplete, the data may not be"):format(
      plural(log_drops.numbers.dropped, "event"))
    findings[#findings + 1] = log_drops
  end

  -- Retention: pruned apart from missing.
  local stores = report.array()
  for _, store in ipairs(ctx.stores) do
    local r = retention(ctx, store)
    if r then
      stores[#stores + 1] = r
      -- sessions whose start row is not in the log
      for _, s in ipairs(sessions) do
        if s.store == store and not s.start_known and s.start then
          local ending = s.completed or s.failed
          local before = s.start <= r.oldest_instant + NS
          findings[#findings + 1] = {
            kind = before and "session_start_pruned" or "session_start_missing",
            severity = before and "info" or "warning",
            summary = before
              and ("session %s on %s started %s, before the log begins: its "
                .. "start was %s"):format(fmt.short(s.id), s.label,
                fmt.clock(s.start), r.state == "pruned"
                  and "pruned by retention" or "not logged here")
              or ("session %s on %s has no start event although the log "
                .. "covers %s: missing from the log"):format(
                fmt.short(s.id), s.label, fmt.clock(s.start)),
            numbers = {},
            evidence = report.array{ analysis.evidence(store, ending) },
          }
        end
      end
      r.oldest_instant = nil
    end
  end

  local verdict, status
  if #lost > 0 then
    verdict, status = "data lost: " .. table.concat(lost, ", "), 1
  else
    verdict, status = "no loss detected", 0
  end
  return { verdict = verdict, status = status, findings = findings,
           retention = stores }
end

local function text(result, out)
  for _, f in ipairs(result.findings) do
    out:write(("\n%-7s  %s\n"):format(f.severity, f.summary))
    for i, e in ipairs(f.evidence) do
      if i > 5 then
        out:write(("         ... and %d more\n"):format(#f.evidence - 5))
        break
      end
      out:write(("         %s #%d %s %s\n"):format(e.label, e.id,
        (e.timestamp or "?"):gsub("^(%d+%-%d+%-%d+)T(%d+:%d+:%d+).*$",
                                  "%1 %2"), e.event_type or ""))
    end
  end
  if #result.retention > 0 then
    out:write("\nretention (Spacedrive prunes events older than 7 days):\n")
    for _, r in ipairs(result.retention) do
      out:write("  ", r.summary, "\n")
    end
  end
end

return report.command{
  name = "lost_data",
  redact = true,
  description = "Did we lose data? Dropped updates, stuck records, forced "
    .. "full syncs, unfinished backfills",
  epilog = "Loss: updates dropped by buffer overflows, records stuck waiting "
    .. "for missing\nparents, a backfill that failed or never completed with "
    .. "no later one\ncompleting, records a peer sent (its log given) that "
    .. "the session did not\napply. A forced full sync is loss only if its "
    .. "backfill did not complete. Each\nlog's start is compared with "
    .. "Spacedrive's 7-day retention: events before it\nwere pruned, not "
    .. "lost. Exit status 1 when data was lost, 0 otherwise.",
  options = {
    analysis.GRACE_OPTION,
  },
  analyze = analyze,
  text = text,
}
