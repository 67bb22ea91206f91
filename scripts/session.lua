-- synclua session ID: one session (a correlation id) across every device
-- given: its events from all stores as one timeline (synclua.merge over a
-- cursor per store filtered by the correlation id, each device's clock
-- corrected by synclua.skew when there are several), with duration bars for
-- the session, each device's part and its phases (peer selection, each
-- model's pages, the batches). ID is a full UUID or a prefix of one found
-- in the stores. Spacedrive's own batch_ingestion rows carry no
-- correlation id: where a device has none under the session's id, its
-- batches from the session's peer within the session's time are shown,
-- marked "~". Exit 2 when no session (or more than one) matches.
local synclua = require "synclua"
local report = require "synclua.report"
local analysis = require "synclua.sessions"
local fmt = require "synclua.fmt"
local pictures = require "synclua.pictures"
local term = require "synclua.term"
local runner = require "synclua.runner"
local skew = require "synclua.skew"

local invalid = runner.invalid

local GANTT_WIDTH = 48

local ENDS = {
  backfill_session_completed = "completed",
  backfill_session_failed = "failed",
  catch_up_session_completed = "completed",
}
local STARTS = {
  backfill_session_started = "backfill",
  catch_up_session_started = "catch-up",
}

local plural = fmt.plural

-- The full correlation id that `given` names in the stores: itself when
-- some store has it, else the one id starting with it; exit 2 otherwise.
-- The ID's form, checked before anything is opened: a UUID in any
-- spelling, or at least the first 4 hex digits of one.
local function session_id(given)
  local text = given:lower()
  if synclua.parse_uuid(text) or (text:match("^[%x-]+$") and #text:gsub("-", "") >= 4)
  then
    return given
  end
  return nil, ("ID: a session's correlation id, or at least its first 4 "
    .. "hex digits, expected (got '%s')"):format(given)
end

local function resolve(ctx, given)
  local text = given:lower()
  local full = synclua.parse_uuid(text)
  local where = {}
  for _, st in ipairs(ctx.stores) do where[#where + 1] = st.label end
  where = table.concat(where, ", ")
  if full then
    for _, st in ipairs(ctx.stores) do
      if st.log:count{ correlation_id = full } > 0 then
        -- redacted (--redact), the rows carry its pseudonym
        return ctx.redactor and ctx.redactor:id(full) or full
      end
    end
    if not ctx.redactor then
      invalid(("no session %s in %s"):format(full, where))
    end
    text = full -- a pseudonym, looked for in the rows as they come out
  end
  local found, list = {}, {}
  for _, st in ipairs(ctx.stores) do
    for ev in st.log:events{ raw = true, order = "asc" } do
      local c = ev.correlation_id
      -- redacted, the id's own prefix names its pseudonym too
      local real = c and ctx.redactor and ctx.redactor:reveal(c) or c
      if c and not found[c:lower()] and (c:lower():sub(1, #text) == text
                                         or real:sub(1, #text) == text) then
        found[c:lower()] = true
        list[#list + 1] = c:lower()
      end
    end
  end
  if #list == 0 then
    invalid(("no session %s%s in %s"):format(text, full and "" or "...",
                                             where))
  elseif #list > 1 then
    table.sort(list)
    invalid(("ID %s matches %d sessions: %s (give more of it)")
      :format(text, #list, table.concat(list, ", ")))
  end
  return list[1]
end

-- A copy of the report's time range as a filter, plus `extra`.
local function filter_of(ctx, extra)
  local f = { order = "asc", since = ctx.filter.since,
              ["until"] = ctx.filter["until"] }
  for k, v in pairs(extra) do f[k] = v end
  return f
end

-- The batch window (synclua.sessions) of session `id` on store `st`.
local function window_of(ctx, id, st)
  for _, s in ipairs(analysis.list(ctx, nil, { "backfill", "catch_up" })) do
    if s.id == id and s.store == st then return analysis.batch_window(s) end
  end
  return nil
end

local function analyze(ctx)
  local id = resolve(ctx, ctx.opts.ID)
  local function label_of(dev) return ctx.set:label(dev) end

  -- First pass: what each store holds of the session (kind, peer, ends).
  local per, kind, peer, requester = {}, nil, nil, nil
  for i, st in ipairs(ctx.stores) do
    local info = { first = nil, last = nil, batches = 0, count = 0 }
    for ev in st.log:events(filter_of(ctx, { correlation_id = id,
                                             raw = true })) do
      info.count = info.count + 1
      if ev.instant then
        info.first = info.first or ev.instant
        info.last = ev.instant
      end
      if ev.event_type == "batch_ingestion" then
        info.batches = info.batches + 1
      end
      if ENDS[ev.event_type] then info.ended = true end
      if STARTS[ev.event_type] or ev.event_type == "backfill_request_sent"
         or ENDS[ev.event_type] then
        info.requester = true
        requester = requester or i
        kind = kind or STARTS[ev.event_type]
        if ev.peer_device_id then peer = peer or ev.peer_device_id:lower() end
      end
    end
    per[i] = info
  end
  if ctx.filter.since or ctx.filter["until"] then
    local any = false
    for _, info in ipairs(per) do any = any or info.count > 0 end
    if not any then
      invalid(("session %s has no events between --since and "
                           .. "--until"):format(id))
    end
  end

  -- The cursors: the session's rows per store, and where a requesting
  -- store has no batch under the id, its batches from the peer in the
  -- session's time (Spacedrive's rows).
  local offsets, header = skew.offsets(ctx.stores)
  local cursors, labels, cursor_offsets, attributed, stores_of =
    {}, {}, {}, {}, {}
  for i, st in ipairs(ctx.stores) do
    local info = per[i]
    if info.count > 0 then
      cursors[#cursors + 1] = st.log:cursor(filter_of(ctx,
        { correlation_id = id }))
      labels[#labels + 1], cursor_offsets[#cursor_offsets + 1] =
        st.label, offsets[i]
      attributed[#cursors], stores_of[#cursors] = false, st
      -- Spacedrive's batches carry no correlation id: the session's
      -- peer and time window, as every report attributes them.
      local w = info.requester and info.batches == 0
                and window_of(ctx, id, st)
      if w then
        local f = filter_of(ctx, w.filter)
        f.since = math.max(w.filter.since, ctx.filter.since or w.filter.since)
        f["until"] = math.min(w.filter["until"],
                              ctx.filter["until"] or w.filter["until"])
        cursors[#cursors + 1] = st.log:cursor(f)
        labels[#labels + 1], cursor_offsets[#cursor_offsets + 1] =
          st.label, offsets[i]
        attributed[#cursors], stores_of[#cursors] = w.holds, st
      end
    end
  end
  local rows = {}
  local next_row, merge = synclua.merge(cursors, {
    offsets = cursor_offsets, labels = labels, order = "asc" })
  local closing <close> = merge
  for ev, src, adjusted in next_row, merge do
    if not attributed[src] or attributed[src](ev) then
      local st = stores_of[src]
      local label = ev.device_id and st.device
        and ev.device_id:lower() ~= st.device:lower()
        and label_of(ev.device_id) or st.label
      rows[#rows + 1] = {
        ev = ev, store = st, label = label, adjusted = adjusted,
        attributed = attributed[src] and true or false,
      }
    end
  end

  -- The session's outline, on corrected time.
  local first, last, ended, outcome, failure
  local records, batches, start_ev, select_ev, end_ev = 0, 0, nil, nil, nil
  local starts, selections = 0, 0
  local devices, device_order = {}, {}
  local models, model_order = {}, {}
  local req_label = requester and ctx.stores[requester].label
  for _, r in ipairs(rows) do
    local ev, t = r.ev, r.adjusted
    if t then
      first = first and math.min(first, t) or t
      last = last and math.max(last, t) or t
      local d = devices[r.label]
      if not d then
        d = { label = r.label, first = t, last = t, events = 0 }
        devices[r.label] = d
        device_order[#device_order + 1] = d
      end
      d.first, d.last = math.min(d.first, t), math.max(d.last, t)
      d.events = d.events + 1
    end
    local et = ev.event_type
    if et == "backfill_session_started" or et == "catch_up_session_started"
    then
      local d = type(ev.details) == "table" and ev.details
      if d and type(d.candidates) == "table" then
        select_ev = select_ev or r
        selections = selections + 1
      else
        start_ev = start_ev or r
        starts = starts + 1
      end
    elseif ENDS[et] then
      end_ev, ended, outcome = r, t, ENDS[et]
      if et == "backfill_session_failed" then
        failure = type(ev.details) == "table"
                  and type(ev.details.reason) == "string"
                  and ev.details.reason or ev.summary
      end
    elseif et == "batch_ingestion" and r.label == req_label then
      batches = batches + 1
      records = records + (ev.record_count or 0)
    elseif et == "backfill_request_sent" and t then
      local m = ev.model_types and ev.model_types[1] or false
      if not models[m] then
        models[m] = { model = m, first = t, pages = 0 }
        model_order[#model_order + 1] = models[m]
      end
      models[m].pages = models[m].pages + 1
    end
  end
  local kind_text = kind or "session"

  -- Spans for the Gantt chart.
  local spans = {}
  local function span(label, a, b, extra)
    local s = { label = label, start = a, stop = b }
    for k, v in pairs(extra or {}) do s[k] = v end
    spans[#spans + 1] = s
    return s
  end
  if first then
    span("session", first, ended and last or nil,
         { text = ended and fmt.duration(last - first)
                  .. (" (%s)"):format(outcome)
                  or fmt.duration(last - first) .. " (no end)" })
    if #device_order > 1 then
      for _, d in ipairs(device_order) do
        span(d.label, d.first, d.last,
             { text = ("%s, %s"):format(fmt.duration(d.last - d.first),
                                        plural(d.events, "event", "events")) })
      end
    end
    if start_ev and select_ev and start_ev.adjusted and select_ev.adjusted then
      span("peer selection", start_ev.adjusted, select_ev.adjusted)
    end
    local req_end = devices[req_label or ""] and devices[req_label].last
                    or last
    for k, m in ipairs(model_order) do
      local stop = model_order[k + 1] and model_order[k + 1].first or req_end
      span(m.model and ("model " .. m.model) or "requests", m.first, stop,
           { text = ("%s, %s"):format(fmt.duration(stop - m.first),
             m.model and plural(m.pages, "page", "pages")
             or plural(m.pages, "request", "requests")) })
    end
    local bfirst, blast
    for _, r in ipairs(rows) do
      if r.ev.event_type == "batch_ingestion" and r.label == req_label
         and r.adjusted then
        -- A batch is written when it ends: it began duration_ms before.
        local began = r.adjusted - (r.ev.duration_ms or 0) * 1000000
        bfirst = math.max(first, math.min(bfirst or began, began))
        blast = r.adjusted
      end
    end
    if bfirst then
      span("batches", bfirst, blast,
           { text = ("%s, %s, %s records"):format(
               fmt.duration(blast - bfirst),
               plural(batches, "batch", "batches"), fmt.number(records)) })
    end
  end

  -- Verdict and the one finding.
  local who = req_label or (device_order[1] and device_order[1].label) or "?"
  local what = ("%s %s"):format(kind_text == "catch-up" and "catch-up of"
    or kind_text == "backfill" and "backfill of" or "session on", who)
  if peer then what = what .. " from " .. label_of(peer) end
  if failure then
    -- Device ids in the reason read better as the devices' names.
    failure = failure:gsub("%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-"
                           .. "%x%x%x%x%x%x%x%x%x%x%x%x", label_of)
  end
  local span_text = fmt.duration((last or 0) - (first or 0))
  local got = records > 0
    and (" (%s records)"):format(fmt.number(records)) or ""
  local how, severity
  if outcome == "completed" then
    how = ("completed in %s%s"):format(span_text, got)
    severity = "info"
  elseif outcome == "failed" then
    how = ("failed after %s%s: %s"):format(span_text, got, failure)
    severity = "error"
  else
    how = ("never completed: no completion event, %s from its first event "
           .. "to its last%s"):format(span_text, got)
    severity = "warning"
  end
  local verdict = ("session %s: %s %s"):format(fmt.short(id), what, how)
  local notes = synclua.array()
  if starts > 1 then
    notes[#notes + 1] = ("the session's start was logged %d times"):format(
      starts)
  end
  if selections > 1 then
    notes[#notes + 1] = ("a peer was selected %d times"):format(selections)
  end
  local evidence = {}
  for _, r in ipairs{ start_ev, select_ev, end_ev } do
    if r then evidence[#evidence + 1] = analysis.evidence(r.store, r.ev) end
  end
  local numbers = { events = #rows, devices = #device_order,
                    batches = batches, records = records }
  if first then numbers.duration_ms = (last - first) // 1000000 end

  local events = synclua.array()
  for i, r in ipairs(rows) do
    local ev = r.ev
    events[i] = {
      label = r.label, device = ev.device_id or synclua.null, id = ev.id,
      timestamp = ev.timestamp,
      adjusted_timestamp = r.adjusted and synclua.format_time(r.adjusted)
                           or synclua.null,
      event_type = ev.event_type, severity = ev.severity,
      summary = ev.summary, record_count = ev.record_count or synclua.null,
      duration_ms = ev.duration_ms or synclua.null,
      attributed = r.attributed or false,
    }
  end
  local phases = synclua.array()
  for i, s in ipairs(spans) do
    phases[i] = {
      label = s.label, start = synclua.format_time(s.start),
      stop = s.stop and synclua.format_time(s.stop) or synclua.null,
      duration_ms = s.stop and (s.stop - s.start) // 1000000 or synclua.null,
      text = s.text or synclua.null,
    }
  end
  return {
    verdict = verdict, status = 0,
    findings = { {
      kind = "session", severity = severity, summary = verdict,
      numbers = numbers, evidence = evidence, correlation_id = id,
    } },
    session = {
      correlation_id = id, kind = kind or synclua.null,
      device = who, peer = peer or synclua.null,
      peer_label = peer and label_of(peer) or synclua.null,
      outcome = outcome or "no end", reason = failure or synclua.null,
      start = first and synclua.format_time(first) or synclua.null,
      stop = last and synclua.format_time(last) or synclua.null,
      duration_ms = numbers.duration_ms or synclua.null,
      records = records, batches = batches,
    },
    clock = synclua.array(header), phases = phases, events = events,
    notes = notes,
  }
end

local function text(result, out)
  for _, line in ipairs(result.clock) do out:write("# ", line, "\n") end
  local spans = {}
  for i, p in ipairs(result.phases) do
    spans[i] = {
      label = p.label, start = synclua.parse_rfc3339(p.start),
      stop = p.stop ~= synclua.null and synclua.parse_rfc3339(p.stop) or nil,
      text = p.text ~= synclua.null and p.text or nil,
    }
  end
  if #spans > 0 then
    local from, to = spans[1].start, spans[1].start
    for _, s in ipairs(spans) do
      from = math.min(from, s.start)
      to = math.max(to, s.stop or s.start)
    end
    for _, e in ipairs(result.events) do
      if e.adjusted_timestamp ~= synclua.null then
        to = math.max(to, synclua.parse_rfc3339(e.adjusted_timestamp))
      end
    end
    -- A short session's axis needs the milliseconds.
    local left, right
    if to - from < 60 * 1000000000 then
      left, right = fmt.clock_ms(from):sub(12), fmt.clock_ms(to):sub(12)
    end
    local lw = 0
    for _, sp in ipairs(spans) do
      lw = math.max(lw, utf8.len(sp.label) or #sp.label)
    end
    out:write("\n", pictures.gantt(spans, term.cells(GANTT_WIDTH, lw + 20),
                                   from, to,
                                   { indent = "  ", left = left,
                                     right = right }))
  end
  for _, note in ipairs(result.notes) do out:write("  note: ", note, "\n") end
  out:write("\n")
  local width, any = 0, false
  for _, e in ipairs(result.events) do
    width = math.max(width, utf8.len(e.label) or #e.label)
    any = any or e.attributed
  end
  local row = "%s %s  %-" .. width .. "s  %-7s  %-26s  %s\n"
  for _, e in ipairs(result.events) do
    local t = e.adjusted_timestamp ~= synclua.null
      and fmt.clock_ms(synclua.parse_rfc3339(e.adjusted_timestamp)) or e.timestamp
    out:write(row:format(e.attributed and "~" or " ", t, e.label, e.severity,
                         e.event_type, fmt.printable(e.summary)))
  end
  if any then
    out:write("\n~ a batch without correlation id, attributed to the session "
              .. "by its peer and time\n")
  end
end

return report.command{
  name = "session",
  redact = true,
  description = "One session (correlation id) across devices: a "
    .. "timeline with duration bars",
  usage = "ID [--db PATH ...] [options]",
  epilog = "ID is a session's correlation id or a unique prefix of one (at "
    .. "least 4 hex\ndigits). Times are corrected for clock skew between "
    .. "devices (as synclua\ntimeline does). Exit 2 when no session, or "
    .. "more than one, matches.",
  options = {
    { "ID", positional = true, check = session_id,
      help = "the session's correlation id, or a unique prefix of it" },
  },
  analyze = analyze,
  text = text,
}
