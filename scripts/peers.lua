-- synclua peers: a peer-score report. Every peer that was a candidate in a
-- peer selection (the backfill_session_started event whose details list
-- the candidates), across sessions and across the devices given: how often
-- it was a candidate and from which devices, how often online, how often
-- chosen (and how often the formula would have chosen it), its latency,
-- load and Spacedrive score over time (sparklines in the text form; the
-- values themselves in JSON). Scores are recomputed with Spacedrive's
-- formula (synclua.select_peer): real rows carry none.
local synclua = require "synclua"
local report = require "synclua.report"
local analysis = require "synclua.sessions"
local fmt = require "synclua.fmt"
local pictures = require "synclua.pictures"
local term = require "synclua.term"
local peers_of = require "synclua.peers"

local SPARK_WIDTH = 24

local ms = peers_of.latency_text

local function stats(values)
  if #values == 0 then return nil end
  local lo, hi, sum = math.huge, -math.huge, 0
  for _, v in ipairs(values) do
    lo, hi, sum = math.min(lo, v), math.max(hi, v), sum + v
  end
  return { min = lo, mean = sum / #values, max = hi }
end

local plural = fmt.plural

local function analyze(ctx)
  local function label_of(id)
    return id:match("^candidate") and id or ctx.set:label(id)
  end

  local peers, order, selections = {}, {}, 0
  for _, item in ipairs(analysis.collect(ctx,
                          { event_type = "backfill_session_started" })) do
    local ev = item.ev
    local sel = peers_of.selection(ev)
    if sel then
      selections = selections + 1
      local cands, formula, logged = sel.candidates, sel.formula, sel.logged
      for i, c in ipairs(cands) do
        local p = peers[c.key]
        if not p then
          p = { device_id = c.key, label = label_of(c.key),
                history = {}, from = {}, from_order = {}, evidence = {} }
          peers[c.key] = p
          order[#order + 1] = p
        end
        local requester = item.store.label
        if not p.from[requester] then
          p.from[requester] = { label = requester, candidacies = 0,
                                chosen = 0 }
          p.from_order[#p.from_order + 1] = requester
        end
        local f = p.from[requester]
        f.candidacies = f.candidacies + 1
        if i == logged then f.chosen = f.chosen + 1 end
        p.history[#p.history + 1] = {
          timestamp = ev.timestamp, requester = requester,
          correlation_id = ev.correlation_id or synclua.null,
          is_online = c.is_online, has_complete_state = c.has_complete_state,
          latency_ms = c.latency_ms, active_syncs = c.active_syncs,
          score = c.score,
          chosen = i == logged, formula_choice = i == formula,
        }
        p.evidence[#p.evidence + 1] = analysis.evidence(item.store, ev)
      end
    end
  end

  local out, findings = synclua.array(), {}
  for _, p in ipairs(order) do
    local n, online, chosen, formula = #p.history, 0, 0, 0
    local lat, score, load = {}, {}, {}
    for _, h in ipairs(p.history) do
      if h.is_online then online = online + 1 end
      if h.chosen then chosen = chosen + 1 end
      if h.formula_choice then formula = formula + 1 end
      if h.latency_ms > 0 then lat[#lat + 1] = h.latency_ms end
      -- The formula scores online candidates only.
      if h.is_online then score[#score + 1] = h.score end
      load[#load + 1] = h.active_syncs
    end
    p.candidacies, p.online, p.chosen, p.formula = n, online, chosen, formula
    p.latency, p.score, p.load = stats(lat), stats(score), stats(load)
  end
  table.sort(order, function(a, b)
    if a.chosen ~= b.chosen then return a.chosen > b.chosen end
    if a.candidacies ~= b.candidacies then
      return a.candidacies > b.candidacies
    end
    return a.label < b.label
  end)
  for _, p in ipairs(order) do
    local from, from_text = synclua.array(), {}
    for _, r in ipairs(p.from_order) do
      local f = p.from[r]
      from[#from + 1] = f
      from_text[#from_text + 1] = ("%s %d"):format(r, f.candidacies)
    end
    p.from_text = table.concat(from_text, ", ")
    local history = synclua.array()
    for i, h in ipairs(p.history) do history[i] = h end
    local function range(s)
      return s and { min = s.min, mean = s.mean, max = s.max } or synclua.null
    end
    out[#out + 1] = {
      device_id = p.device_id, label = p.label, candidacies = p.candidacies,
      online = p.online, online_ratio = p.online / p.candidacies,
      chosen = p.chosen, formula_choice = p.formula,
      latency_ms = range(p.latency), score = range(p.score),
      active_syncs = range(p.load), from = from, history = history,
    }
    local numbers = { candidacies = p.candidacies, online = p.online,
                      chosen = p.chosen, formula_choice = p.formula }
    if p.latency then
      numbers.latency_min_ms, numbers.latency_mean_ms,
        numbers.latency_max_ms = p.latency.min, p.latency.mean, p.latency.max
    end
    if p.score then numbers.score_mean = p.score.mean end
    numbers.active_syncs_max = p.load.max
    findings[#findings + 1] = {
      kind = "peer", severity = "info",
      summary = ("%s: candidate %s (from %s), online %d of %d, chosen %d")
        :format(p.label, plural(p.candidacies, "time", "times"), p.from_text,
                p.online, p.candidacies, p.chosen),
      numbers = numbers, evidence = p.evidence,
      device_id = p.device_id,
    }
  end

  local verdict
  if selections == 0 then
    verdict = "no peer selections found"
  else
    local top = order[1]
    verdict = ("%s in %s: %s chosen most (%d of %d)"):format(
      plural(#order, "peer", "peers"),
      plural(selections, "peer selection", "peer selections"),
      top.label, top.chosen, selections)
    if top.chosen == 0 then
      verdict = ("%s in %s: none chosen"):format(
        plural(#order, "peer", "peers"),
        plural(selections, "peer selection", "peer selections"))
    end
  end
  return { verdict = verdict, status = 0, findings = findings,
           peers = out, selections = selections }
end

local columns = pictures.columns

-- "phone 2, nas 1": the devices that considered a peer.
local function from_text(from)
  local t = {}
  for _, f in ipairs(from) do
    t[#t + 1] = ("%s %d"):format(f.label, f.candidacies)
  end
  return table.concat(t, ", ")
end

local function text(result, out)
  if #result.peers == 0 then return end
  local rows = { { "peer", "seen", "online", "chosen",
                   "latency ms (min/avg/max)", "avg score", "latency",
                   "score", "load", "from" } }
  -- On a terminal, the three sparklines share what the other columns
  -- (about 50) leave.
  local spark = term.cells(3 * SPARK_WIDTH, 50) // 3
  for _, p in ipairs(result.peers) do
    local lat, score, load = {}, {}, {}
    for i, h in ipairs(p.history) do
      lat[i] = h.latency_ms > 0 and h.latency_ms or nil
      score[i] = h.is_online and h.score or nil
      load[i] = h.active_syncs
    end
    local n = #p.history
    local l = p.latency_ms
    rows[#rows + 1] = {
      p.label, tostring(p.candidacies),
      ("%d/%d"):format(p.online, p.candidacies),
      tostring(p.chosen),
      l ~= synclua.null and ("%s / %s / %s"):format(ms(l.min), ms(l.mean),
                                                   ms(l.max)) or "-",
      p.score ~= synclua.null and ("%.2f"):format(p.score.mean) or "-",
      pictures.sparkline(lat, { n = n, width = spark }),
      pictures.sparkline(score, { n = n, width = spark }),
      pictures.sparkline(load, { n = n, width = spark, min = 0 }),
      from_text(p.from),
    }
  end
  out:write("\n")
  for _, line in ipairs(columns(rows, { [2] = true, [3] = true, [4] = true,
                                        [6] = true })) do
    out:write("  ", line, "\n")
  end
  local bars = {}
  for _, p in ipairs(result.peers) do
    bars[#bars + 1] = { label = p.label, value = p.chosen,
                        text = ("%d of %d selections (formula: %d)"):format(
                          p.chosen, result.selections, p.formula_choice) }
  end
  out:write("\n  chosen\n")
  out:write(pictures.bars(bars, term.cells(20, 60),
                          { indent = "  ", max = result.selections }))
end

return report.command{
  name = "peers",
  redact = true,
  description = "Peer-score report: each peer's candidacies, scores, "
    .. "latency and load over time",
  epilog = "Each peer that was a backfill candidate: how often, from which "
    .. "devices, how often\nonline and chosen, its latency, load and "
    .. "Spacedrive score (recomputed: real rows\nlog none) over time, "
    .. "oldest first, as sparklines (the values are in --format json).",
  options = {},
  analyze = analyze,
  text = text,
}
