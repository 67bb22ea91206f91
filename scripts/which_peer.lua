-- synclua which_peer: "Which peer was selected and why?" (the docs'
-- debugging scenario). For every peer selection -- the second
-- backfill_session_started event of a backfill session, whose details list
-- the candidates -- every candidate is scored again with Spacedrive's
-- formula (synclua.peer_score; Spacedrive's own rows log no score, ours
-- do, and a logged score is compared), the logged choice is checked
-- against the formula's (synclua.select_peer), and each candidate that lost
-- is explained in words and numbers: offline, incomplete state, higher
-- latency, more active syncs, or a tie. Exit 1 when a logged choice
-- disagrees with the formula.
local synclua = require "synclua"
local report = require "synclua.report"
local analysis = require "synclua.sessions"
local fmt = require "synclua.fmt"
local pictures = require "synclua.pictures"
local peers = require "synclua.peers"

-- Score terms, as Spacedrive adds them (state.rs:278-336), in f64 for the
-- explanations; the totals shown are the formula's own f32 scores.
local function latency_points(c)
  return c.latency_ms > 0 and 1000 / math.max(c.latency_ms, 1) or 0
end

local function state_points(c)
  return c.has_complete_state and 100 or 0
end

local function load_points(c)
  return -10 * c.active_syncs
end

local ms = peers.latency_text

local function pts(v)
  return ("%.1f"):format(v)
end

local function score_text(v)
  return v and ("%.2f"):format(v) or "-"
end

-- Why `l` scores below (or level with) `w`, both online, in words.
local function why_lost(l, w, wl, lscore, wscore)
  local worse, better = {}, {}
  if state_points(l) < state_points(w) then
    worse[#worse + 1] = "incomplete state (0 vs 100 points)"
  elseif state_points(l) > state_points(w) then
    better[#better + 1] = "complete state (100 vs 0 points)"
  end
  local lp, wp = latency_points(l), latency_points(w)
  local function latency_words(word)
    if l.latency_ms <= 0 then
      return ("no latency measured (0 vs %s points)"):format(pts(wp))
    elseif w.latency_ms <= 0 and word == "lower" then
      return ("a measured latency (%s ms: %s vs 0 points)"):format(
        ms(l.latency_ms), pts(lp))
    end
    return ("%s latency (%s ms vs %s ms: %s vs %s points)"):format(word,
      ms(l.latency_ms), ms(w.latency_ms), pts(lp), pts(wp))
  end
  if lp < wp then
    worse[#worse + 1] = latency_words("higher")
  elseif lp > wp then
    better[#better + 1] = latency_words("lower")
  end
  if l.active_syncs > w.active_syncs then
    worse[#worse + 1] = ("more active syncs (%d vs %d: %d vs %d points)")
      :format(l.active_syncs, w.active_syncs, load_points(l), load_points(w))
  elseif l.active_syncs < w.active_syncs then
    better[#better + 1] = ("fewer active syncs (%d vs %d: %d vs %d points)")
      :format(l.active_syncs, w.active_syncs, load_points(l), load_points(w))
  end
  if lscore == wscore then
    return ("tied with %s at %s; a tie goes to the earlier candidate")
      :format(wl, score_text(wscore)), worse
  end
  local s = ("%s vs %s for %s: %s"):format(score_text(lscore),
    score_text(wscore), wl, #worse > 0 and table.concat(worse, ", ")
    or "a lower score")
  if #better > 0 then s = s .. "; despite " .. table.concat(better, ", ") end
  return s, worse
end

-- Logged and recomputed scores agree to f32 precision.
local function same_score(a, b)
  return math.abs(a - b) <= 1e-4 * math.max(1, math.abs(b))
end

-- One peer selection: its candidates judged.
local function judge(store, ev, label_of, start)
  local sel = peers.selection(ev)
  local cands, formula, logged = sel.candidates, sel.formula, sel.logged
  local marked, how, peer = sel.marked, sel.how, sel.peer
  for i, c in ipairs(cands) do
    c.label = c.device_id and label_of(c.device_id) or ("candidate " .. i)
    if c.logged_score then
      c.score_matches = same_score(c.logged_score, c.score)
    end
  end
  local notes = {}
  if marked > 1 then
    notes[#notes + 1] = ("%d candidates are marked selected; the first "
                         .. "counts"):format(marked)
  end
  if peer and logged and how == "selected" and cands[logged].device_id
     and cands[logged].device_id:lower() ~= peer then
    notes[#notes + 1] = ("the event's peer is %s, not the candidate marked "
                         .. "selected"):format(label_of(peer))
  end
  local s = {
    device = ev.device_id or store.device, label = store.label,
    correlation_id = ev.correlation_id, event_id = ev.id,
    timestamp = ev.timestamp, summary = ev.summary,
    candidates = cands, logged = logged, formula = formula, notes = notes,
    evidence = { analysis.evidence(store, ev) },
  }
  if start then table.insert(s.evidence, 1, analysis.evidence(store, start)) end
  local w = formula and cands[formula]
  for i, c in ipairs(cands) do
    if i == logged and i == formula then
      c.outcome, c.why = "chosen", "chosen: the highest score"
    elseif i == formula then
      c.outcome = "formula"
      c.why = "not chosen, but the highest score: the formula's choice"
    elseif not c.is_online then
      c.outcome = i == logged and "chosen" or "lost"
      c.why = i == logged and "chosen although offline"
              or "offline: not considered"
      c.reasons = { "offline" }
    elseif w then
      local why, worse = why_lost(c, w, w.label, c.score, w.score)
      c.outcome = i == logged and "chosen" or "lost"
      c.why = (i == logged and "chosen against the formula, " or "lost, ")
              .. why
      c.reasons = worse
    else
      c.outcome, c.why = "chosen", "chosen"
    end
    if c.score_matches == false then
      c.why = c.why .. (" (logged score %s differs)"):format(
        score_text(c.logged_score))
    end
  end
  if logged and formula then
    s.agrees = logged == formula
  elseif logged then
    s.agrees = false                   -- chosen with no candidate online
  end
  return s
end

-- The findings and the JSON form of one judged selection.
local function finding(s)
  local cands = s.candidates
  local online = 0
  for _, c in ipairs(cands) do
    if c.is_online then online = online + 1 end
  end
  local who = s.logged and cands[s.logged]
  local best = s.formula and cands[s.formula]
  local numbers = { candidates = #cands, online = online }
  if who then numbers.chosen_score = who.score end
  if best then numbers.formula_score = best.score end
  local kind, severity, summary
  if s.agrees then
    local others = {}
    for i, c in ipairs(cands) do
      if i ~= s.logged then
        others[#others + 1] = c.label .. (c.is_online
          and (" (%s)"):format(score_text(c.score)) or " (offline)")
      end
    end
    kind, severity = "peer_selection", "info"
    summary = ("%s chose %s (score %s), the formula's choice%s"):format(
      s.label, who.label, score_text(who.score),
      #others > 0 and (", over " .. table.concat(others, ", ")) or "")
  elseif s.agrees == false and best then
    kind, severity = "choice_against_formula", "error"
    summary = ("%s chose %s (score %s), but the formula picks %s (score "
               .. "%s): %s"):format(s.label, who.label, score_text(who.score),
      best.label, score_text(best.score), who.is_online
        and (who.why:gsub("^chosen against the formula, ", ""))
        or "it was offline, and the formula considers online peers only")
  elseif s.agrees == false then
    kind, severity = "choice_against_formula", "error"
    summary = ("%s chose %s, but no candidate was online: the formula "
               .. "selects none"):format(s.label, who.label)
  else
    kind, severity = "no_choice_logged", "warning"
    summary = ("%s logged %d candidates but no choice (none marked selected, "
               .. "no peer)%s"):format(s.label, #cands, best and
      (("; the formula picks %s (score %s)"):format(best.label,
                                                    score_text(best.score)))
      or "")
  end
  return { kind = kind, severity = severity, summary = summary,
           numbers = numbers, evidence = s.evidence,
           correlation_id = s.correlation_id }
end

local function session_json(s)
  local cands = synclua.array()
  for i, c in ipairs(s.candidates) do
    cands[i] = {
      index = c.index, device_id = c.device_id or synclua.null,
      label = c.label, is_online = c.is_online,
      has_complete_state = c.has_complete_state, latency_ms = c.latency_ms,
      active_syncs = c.active_syncs, selected = c.selected, score = c.score,
      logged_score = c.logged_score or synclua.null,
      score_matches = c.score_matches == nil and synclua.null
                      or c.score_matches,
      outcome = c.outcome, why = c.why,
      reasons = synclua.array(c.reasons or {}),
    }
  end
  local function ref(i)
    if not i then return synclua.null end
    local c = s.candidates[i]
    return { index = i, device_id = c.device_id or synclua.null,
             label = c.label, score = c.score }
  end
  local agrees = s.agrees
  if agrees == nil then agrees = synclua.null end
  return {
    device = s.device, label = s.label,
    correlation_id = s.correlation_id or synclua.null,
    event_id = s.event_id, timestamp = s.timestamp, summary = s.summary,
    chosen = ref(s.logged), formula = ref(s.formula), agrees = agrees,
    candidates = cands, notes = synclua.array(s.notes),
  }
end

local plural = fmt.plural

local function analyze(ctx)
  local function label_of(id) return ctx.set:label(id) end
  local starts, starts_of, selections = {}, {}, {}
  for _, item in ipairs(analysis.collect(ctx,
                          { event_type = "backfill_session_started" })) do
    local ev = item.ev
    local d = type(ev.details) == "table" and ev.details
    if d and type(d.candidates) == "table" then
      selections[#selections + 1] = item
    else
      local key = item.index .. ":" .. (ev.correlation_id or ("#" .. ev.id))
      starts[key] = starts[key] or item
      starts_of[key] = (starts_of[key] or 0) + 1
      starts[#starts + 1] = item
    end
  end

  local sessions, findings, out = {}, {}, synclua.array()
  local selected_keys, against, mismatched = {}, 0, 0
  for _, item in ipairs(selections) do
    local ev = item.ev
    local key = ev.correlation_id and (item.index .. ":" .. ev.correlation_id)
    local start = key and starts[key]
    if key then selected_keys[key] = true end
    local s = judge(item.store, ev, label_of, start and start.ev)
    if key and (starts_of[key] or 0) > 1 then
      s.notes[#s.notes + 1] = ("the session's start was logged %d times")
        :format(starts_of[key])
    end
    sessions[#sessions + 1] = s
    local f = finding(s)
    findings[#findings + 1] = f
    if s.agrees == false then against = against + 1 end
    for _, c in ipairs(s.candidates) do
      if c.score_matches == false then
        mismatched = mismatched + 1
        findings[#findings + 1] = {
          kind = "score_mismatch", severity = "warning",
          summary = ("%s's logged score for %s is %s; the formula gives %s")
            :format(s.label, c.label, score_text(c.logged_score),
                    score_text(c.score)),
          numbers = { logged_score = c.logged_score, score = c.score },
          evidence = { s.evidence[#s.evidence] },
        }
      end
    end
    out[#out + 1] = session_json(s)
  end
  -- Sessions that started and never selected a peer (Spacedrive writes no
  -- failure: "No online peers available for backfill" leaves only this).
  local unselected = 0
  for _, item in ipairs(starts) do
    local ev = item.ev
    local key = item.index .. ":" .. (ev.correlation_id or ("#" .. ev.id))
    if starts[key] == item and not selected_keys[key] then
      unselected = unselected + 1
      local d = type(ev.details) == "table" and ev.details or {}
      findings[#findings + 1] = {
        kind = "no_selection", severity = "warning",
        summary = ("%s started session %s with %s but logged no peer "
                   .. "selection (no online peer, or it stopped before "
                   .. "choosing)"):format(item.store.label,
          ev.correlation_id and fmt.short(ev.correlation_id) or "-",
          type(d.peer_count) == "number"
            and plural(d.peer_count, "available peer", "available peers")
            or "no peer count"),
        numbers = { peer_count = type(d.peer_count) == "number"
                                 and d.peer_count or nil },
        evidence = { analysis.evidence(item.store, ev) },
        correlation_id = ev.correlation_id,
      }
    end
  end

  local n = #sessions
  local verdict
  if n == 0 then
    verdict = "no peer selections found"
  elseif against > 0 then
    verdict = ("%d of %s chose against the formula"):format(against,
      plural(n, "session", "sessions"))
  elseif n == 1 then
    verdict = "1 session: the formula's choice"
  else
    verdict = ("%d sessions: the formula's choice every time"):format(n)
  end
  if mismatched > 0 then
    verdict = verdict .. ("; %s from the formula"):format(
      plural(mismatched, "logged score differs", "logged scores differ"))
  end
  if unselected > 0 then
    verdict = verdict .. ("; %s without a peer selection"):format(
      plural(unselected, "session started", "sessions started"))
  end
  return {
    verdict = verdict, status = against > 0 and 1 or 0,
    findings = findings, sessions = out,
  }
end

local columns = pictures.columns

-- "2025-12-01 06:05:19" for a stored timestamp.
local function clock(timestamp)
  local t = synclua.parse_rfc3339(timestamp)
  return fmt.clock(t, timestamp)
end

local function text(result, out)
  for _, s in ipairs(result.sessions) do
    local head
    if s.agrees == true then
      head = ("chose %s, the formula's choice"):format(s.chosen.label)
    elseif s.agrees == false and s.formula ~= synclua.null then
      head = ("chose %s AGAINST the formula, which picks %s"):format(
        s.chosen.label, s.formula.label)
    elseif s.agrees == false then
      head = ("chose %s with no candidate online"):format(s.chosen.label)
    else
      head = "no choice logged"
    end
    out:write(("\n%s  %s  session %s: %s\n"):format(s.label,
      clock(s.timestamp),
      s.correlation_id ~= synclua.null and fmt.short(s.correlation_id) or "-",
      head))
    local logged = false
    for _, c in ipairs(s.candidates) do
      if c.logged_score ~= synclua.null then logged = true end
    end
    local rows = { { "", "peer", "online", "complete", "latency", "syncs",
                     "score" } }
    if logged then rows[1][#rows[1] + 1] = "logged" end
    rows[1][#rows[1] + 1] = ""
    for i, c in ipairs(s.candidates) do
      local chosen = s.chosen ~= synclua.null and s.chosen.index == i
      local row = { chosen and "*" or " ", c.label,
                    c.is_online and "yes" or "no",
                    c.has_complete_state and "yes" or "no",
                    ms(c.latency_ms) .. " ms", tostring(c.active_syncs),
                    score_text(c.score) }
      if logged then
        row[#row + 1] = score_text(c.logged_score ~= synclua.null
                                   and c.logged_score or nil)
      end
      row[#row + 1] = c.why
      rows[#rows + 1] = row
    end
    local right = { [5] = true, [6] = true, [7] = true, [8] = logged }
    for _, line in ipairs(columns(rows, right)) do
      out:write("  ", (line:gsub("%s+$", "")), "\n")
    end
    for _, note in ipairs(s.notes) do out:write("    note: ", note, "\n") end
  end
  local other = {}
  for _, f in ipairs(result.findings) do
    if f.kind == "no_selection" or f.kind == "score_mismatch" then
      other[#other + 1] = f
    end
  end
  if #other > 0 then
    out:write("\n")
    report.write_findings(other, out)
  end
end

return report.command{
  name = "which_peer",
  redact = true,
  description = "Which peer was selected and why? Every candidate "
    .. "scored with Spacedrive's formula",
  epilog = "Per backfill session: each candidate's score by Spacedrive's "
    .. "formula (1000/latency\n+ 100 with complete state - 10 per active "
    .. "sync; offline peers are not\nconsidered), the chosen peer (*), and "
    .. "why each other candidate lost.\nExit 1 when a logged choice "
    .. "disagrees with the formula.",
  options = {},
  analyze = analyze,
  text = text,
}
