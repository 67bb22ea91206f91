-- synclua why_slow: "Why is backfill slow?" (the docs' second debugging
-- scenario) as a report. Each backfill session with its duration, record
-- count and records/s over time, from its batches: by correlation id
-- (synclua's rows), or by peer and time window where the rows lack it
-- (Spacedrive's). Names the docs' three tell-tales -- records/s falling
-- batch after batch (a foreign-key dependency bottleneck), long gaps
-- between batches (the network or the peer), a high duration_ms per batch
-- from the start (the database) -- and compares each session with the
-- device's other sessions. Exit 1 when a slow session is found. Read-only.
local report = require "synclua.report"
local analysis = require "synclua.sessions"
local fmt = require "synclua.fmt"
local pictures = require "synclua.pictures"

local NS = analysis.SECOND

local function num(n) return fmt.number(math.floor(n + 0.5)) end

-- A rate for JSON: to a tenth (nil stays nil).
local function r1(x)
  return x and math.floor(x * 10 + 0.5) / 10
end

-- Records per second of a list of batches: their records over the time
-- they took (duration_ms), or nil without any duration.
local function batch_rate(batches, i, j)
  local records, ms = 0, 0
  for k = i, j do
    records = records + (batches[k].record_count or 0)
    ms = ms + math.max(batches[k].duration_ms or 0, 0)
  end
  if ms <= 0 then return nil end
  return records / (ms / 1000)
end

-- The median of a sorted list without one occurrence of `skip` (nil: the
-- whole list), and how many values that is: each session is compared
-- with the others from lists sorted once, not one sort per session (a
-- fleet has tens of thousands).
local function median_without(sorted, skip)
  local gone = 0
  if skip ~= nil then
    local lo, hi = 1, #sorted
    while lo < hi do
      local mid = (lo + hi) // 2
      if sorted[mid] < skip then lo = mid + 1 else hi = mid end
    end
    if sorted[lo] == skip then gone = lo end
  end
  local n = #sorted - (gone > 0 and 1 or 0)
  if n == 0 then return nil, 0 end
  local function at(k) return sorted[(gone > 0 and k >= gone) and k + 1 or k] end
  local m = (n + 1) // 2
  if n % 2 == 1 then return at(m), n end
  return (at(m) + at(m + 1)) / 2, n
end

-- One session's figures: duration, records, rate, the rate by thirds of
-- its batches, the gaps without records, and the series over time.
local function measure(ctx, s, opts)
  local batches, how = analysis.batches(ctx, s)
  local m = { session = s, batches = batches, how = how }
  local records = 0
  for _, b in ipairs(batches) do records = records + (b.record_count or 0) end
  m.batch_records = records
  m.records = s.record_count or records
  local last = batches[#batches]
  local stop = s.finish or (last and last.instant) or s.start
  m.stop = stop
  m.duration_ns = s.duration_ns or (stop and s.start and stop - s.start) or 0
  m.rate = m.duration_ns > 0 and m.records / (m.duration_ns / NS) or nil
  m.batch_rate = #batches > 0 and batch_rate(batches, 1, #batches) or nil
  local n = #batches
  if n >= 6 then
    local a, b = n // 3, n - n // 3 + 1
    m.first_rate = batch_rate(batches, 1, a)
    m.last_rate = batch_rate(batches, b, n)
  elseif n >= 1 then
    m.first_rate = batch_rate(batches, 1, math.max(1, n // 2))
  end
  m.gaps, m.gap_ns = analysis.gaps(s, batches, opts.gap)
  if s.start and stop and stop > s.start then
    m.series, m.bucket_ns = analysis.rate_series(batches, s.start, stop, 12)
    for i, v in ipairs(m.series) do m.series[i] = r1(v) end
  else
    m.series, m.bucket_ns = report.array(), 0
  end
  return m
end

-- The tell-tales of one session, given its reference rate (the median
-- batch rate of the device's other sessions, or nil).
local function telltales(m, ref, opts)
  local found = report.array()
  local n = #m.batches
  if n >= 6 and m.first_rate and m.last_rate and m.first_rate > 0
     and m.last_rate < m.first_rate * opts.falling then
    found[#found + 1] = {
      kind = "falling_rate", name = "falling records/s",
      cause = "foreign-key dependency bottleneck",
      summary = ("from %s in the first third of its batches to %s in the "
        .. "last (-%d%%): records wait for parents that arrive later")
        :format(
        num(m.first_rate), num(m.last_rate),
        math.floor((1 - m.last_rate / m.first_rate) * 100 + 0.5)),
      numbers = { first_third_records_per_s = r1(m.first_rate),
                  last_third_records_per_s = r1(m.last_rate) } }
  end
  if #m.gaps > 0 then
    local longest = 0
    for _, g in ipairs(m.gaps) do longest = math.max(longest, g.ns) end
    found[#found + 1] = {
      kind = "long_gaps", name = "long gaps between batches",
      cause = "network or peer",
      summary = ("%d gap%s of %s or more without records (longest %s; %s "
        .. "without records in all, %d%% of the session): the peer was slow "
        .. "to answer or the network stalled"):format(#m.gaps, #m.gaps == 1 and "" or "s",
        fmt.duration(opts.gap), fmt.duration(longest),
        fmt.duration(m.gap_ns), m.duration_ns > 0
          and math.floor(m.gap_ns * 100 / m.duration_ns + 0.5) or 0),
      numbers = { gaps = #m.gaps, longest_gap_s = r1(longest / NS),
                  gap_total_s = r1(m.gap_ns / NS) } }
  end
  -- A database problem: batches slow from the start (not a decline).
  local first = m.first_rate
  if n >= 3 and first and (first < opts.min_rate
                           or (ref and first < ref * opts.relative)) then
    found[#found + 1] = {
      kind = "high_duration", name = "high duration_ms per batch",
      cause = "database",
      summary = ("slow from the start: %s records/s in the first %s (%s ms "
        .. "per 1,000 records)%s: applying records is slow"):format(num(first),
        n >= 6 and "third of its batches" or "half of its batches",
        num(1e6 / first), ref and (", against %s on the device's other "
        .. "sessions"):format(num(ref)) or ""),
      numbers = { first_records_per_s = r1(first),
                  reference_records_per_s = r1(ref) } }
  end
  return found
end

local function analyze(ctx)
  local opts = {
    gap = ctx.opts.gap,
    falling = 0.5, relative = 1 / 3,
    min_rate = ctx.opts.min_rate,
  }
  local sessions = analysis.list(ctx, ctx.opts.grace)
  local measured = {}
  for _, s in ipairs(sessions) do
    if s.start then
      local m = measure(ctx, s, opts)
      if #m.batches > 0 then measured[#measured + 1] = m end
    end
  end
  -- references: the device's other sessions, and the other devices'
  local by_device, devices = {}, {}
  for _, o in ipairs(measured) do
    local d = o.session.device or false
    if not by_device[d] then
      by_device[d] = {}
      devices[#devices + 1] = d
    end
    if o.batch_rate then table.insert(by_device[d], o.batch_rate) end
  end
  local others_of = {}
  for _, d in ipairs(devices) do
    table.sort(by_device[d])
    local list = {}
    for _, e in ipairs(devices) do
      if e ~= d then
        table.move(by_device[e], 1, #by_device[e], #list + 1, list)
      end
    end
    table.sort(list)
    others_of[d] = list
  end
  local results, findings = report.array(), report.array()
  for _, m in ipairs(measured) do
    local d = m.session.device or false
    m.ref, m.ref_sessions = median_without(by_device[d], m.batch_rate)
    m.library_ref, m.library_sessions = median_without(others_of[d])
    m.telltales = telltales(m, m.ref, opts)
    m.reasons = {}
    for _, t in ipairs(m.telltales) do m.reasons[#m.reasons + 1] = t.kind end
    if m.ref and m.batch_rate and m.batch_rate < m.ref * opts.relative then
      m.reasons[#m.reasons + 1] = "slower_than_device"
    end
    -- a failed session is why_failed's: its tell-tales show, not counted
    m.slow = #m.reasons > 0 and m.session.status ~= "failed"
  end

  for _, m in ipairs(measured) do
    local s = m.session
    local peer = s.peer and analysis.device_label(ctx, s.peer) or nil
    local r = {
      id = s.id, device = s.device, label = s.label, peer = s.peer,
      peer_label = peer, status = s.status,
      started = s.started and s.started.timestamp or nil,
      ended = (s.completed or s.failed) and (s.completed or s.failed).timestamp
        or nil,
      duration_s = r1(m.duration_ns / NS), records = m.records,
      records_per_s = r1(m.rate), batch_records_per_s = r1(m.batch_rate),
      batches = #m.batches, batches_by = m.how,
      first_third_records_per_s = m.last_rate and r1(m.first_rate) or nil,
      last_third_records_per_s = r1(m.last_rate),
      rates = m.series, bucket_s = r1(m.bucket_ns / NS),
      device_sessions = m.ref_sessions, device_records_per_s = r1(m.ref),
      library_sessions = m.library_sessions, library_records_per_s =
        r1(m.library_ref),
      telltales = m.telltales, slow = m.slow,
      reasons = report.array(m.reasons),
    }
    results[#results + 1] = r
    if m.slow then
      local ev = report.array()
      for _, e in ipairs(s.starts) do ev[#ev + 1] = analysis.evidence(s.store, e) end
      local b = m.batches
      ev[#ev + 1] = analysis.evidence(s.store, b[1])
      if #b > 1 then ev[#ev + 1] = analysis.evidence(s.store, b[#b]) end
      for _, g in ipairs(m.gaps) do
        if g.after then ev[#ev + 1] = analysis.evidence(s.store, g.after) end
        ev[#ev + 1] = analysis.evidence(s.store, g.before)
      end
      local ending = s.completed or s.failed
      if ending then ev[#ev + 1] = analysis.evidence(s.store, ending) end
      local causes = {}
      for _, t in ipairs(m.telltales) do causes[#causes + 1] = t.cause end
      if #causes == 0 then
        causes[1] = ("%s records/s against %s on %s's other sessions")
          :format(num(m.batch_rate), num(m.ref), s.label)
      end
      findings[#findings + 1] = {
        kind = "slow_session", severity = "warning",
        summary = ("%s's backfill session %s%s: %s records in %s, %s "
          .. "records/s (%s)"):format(s.label, fmt.short(s.id),
          peer and (" from " .. peer) or "", fmt.number(m.records),
          fmt.duration(m.duration_ns), m.rate and num(m.rate) or "?",
          table.concat(causes, "; ")),
        numbers = { records = m.records, duration_s = r1(m.duration_ns / NS),
                    records_per_s = r1(m.rate), batches = #m.batches },
        evidence = ev, session = s.id, telltales = m.telltales,
      }
    end
  end

  local verdict, status
  if #measured == 0 then
    verdict, status = "no backfill sessions with batches found", 0
  elseif #findings == 0 then
    local lo, hi
    for _, m in ipairs(measured) do
      if m.rate then
        lo = lo and math.min(lo, m.rate) or m.rate
        hi = hi and math.max(hi, m.rate) or m.rate
      end
    end
    verdict = ("no slow backfill: %d session%s%s"):format(#measured,
      #measured == 1 and "" or "s", lo and ((lo == hi and ", %s records/s"
        or ", %s to %s records/s"):format(num(lo), num(hi))) or "")
    status = 0
  else
    -- the slowest finding first: completed sessions, then most tell-tales
    local first
    for _, m in ipairs(measured) do
      if m.slow and (not first
          or (m.session.status == "completed"
              and first.session.status ~= "completed")
          or (m.session.status == first.session.status
              and #m.telltales > #first.telltales)) then
        first = m
      end
    end
    local s = first.session
    local causes = {}
    for _, t in ipairs(first.telltales) do causes[#causes + 1] = t.cause end
    if #causes == 0 then causes[1] = "slower than the device's other sessions" end
    verdict = ("slow backfill: %s's session %s%s ran at %s records/s (%s)")
      :format(s.label, fmt.short(s.id), s.peer and (" from "
        .. analysis.device_label(ctx, s.peer)) or "",
        first.rate and num(first.rate) or "?", table.concat(causes, ", "))
    if #findings > 1 then
      verdict = verdict .. (" and %d more slow session%s"):format(
        #findings - 1, #findings == 2 and "" or "s")
    end
    status = 1
  end
  return { verdict = verdict, status = status, findings = findings,
           sessions = results,
           thresholds = { gap_s = opts.gap / NS, falling = opts.falling,
                          relative = opts.relative, min_rate = opts.min_rate } }
end

local function text(result, out)
  for _, r in ipairs(result.sessions) do
    local started = r.started and fmt.clock(
      require("synclua").parse_rfc3339(r.started)) or "?"
    out:write(("\n%s session %s on %s%s: %s, started %s, %s, %s records, "
      .. "%s records/s, %d batches (%s)\n"):format(r.slow and "SLOW" or "    ",
      r.id, r.label, r.peer_label and (" from " .. r.peer_label) or "",
      r.status, started, fmt.duration(math.floor(r.duration_s * NS)),
      fmt.number(r.records), r.records_per_s and num(r.records_per_s) or "?",
      r.batches, r.batches_by == "correlation_id" and "by correlation id"
        or "by peer and time window"))
    if #r.rates > 0 then
      local parts = {}
      for i, v in ipairs(r.rates) do parts[i] = num(v) end
      out:write(("     records/s over time: %s  %s (%s each)\n"):format(
        pictures.sparkline(r.rates, { min = 0 }), table.concat(parts, " "),
        fmt.duration(math.floor(r.bucket_s * NS))))
    end
    for _, t in ipairs(r.telltales) do
      out:write(("     ! %s (%s): %s\n"):format(t.name, t.cause, t.summary))
    end
    local cmp = {}
    if r.device_records_per_s then
      cmp[#cmp + 1] = ("median of %s's %d other session%s: %s"):format(
        r.label, r.device_sessions, r.device_sessions == 1 and "" or "s",
        num(r.device_records_per_s))
    else
      cmp[#cmp + 1] = ("no other session on %s"):format(r.label)
    end
    if r.library_records_per_s then
      cmp[#cmp + 1] = ("%s other devices' %d session%s: %s"):format(
        r.device_records_per_s and "of" or "median of", r.library_sessions, r.library_sessions == 1 and "" or "s",
        num(r.library_records_per_s))
    end
    out:write(("     batches ran at %s records/s (%s)\n"):format(
      r.batch_records_per_s and num(r.batch_records_per_s) or "?",
      table.concat(cmp, "; ")))
  end
end

return report.command{
  name = "why_slow",
  redact = true,
  description = "Why is backfill slow? Each backfill session's records/s "
    .. "over time, and the tell-tales",
  epilog = "Batches belong to a session by correlation id, or (Spacedrive's "
    .. "rows carry none)\nby peer and time window. A session is slow when "
    .. "one of the docs' tell-tales\nshows: records/s in the last third of "
    .. "its batches under half the first third's\n(foreign-key dependency "
    .. "bottleneck); a stretch of --gap or more without records\n(network "
    .. "or peer); batches slow from the start, under --min-rate records/s "
    .. "or\nunder a third of the device's other sessions (database); or when "
    .. "its batches'\nrecords/s is under a third of the median of the "
    .. "device's other sessions.\nFailed sessions show their tell-tales "
    .. "but are why_failed's, not counted here.\nExit status 1 when a slow "
    .. "session is found, 0 otherwise.",
  options = {
    { "--gap", type = "duration", default = "30s",
      help = "a stretch without records this long is a long gap" },
    { "--min-rate", metavar = "N", type = "number", default = 200,
      help = "batches slower than N records/s from the start are slow" },
    analysis.GRACE_OPTION,
  },
  analyze = analyze,
  text = text,
}
