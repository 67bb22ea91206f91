-- synclua fetch: the cross-device fetcher Spacedrive's documentation
-- promises. Sends an EventLogRequest to every peer at once (each running
-- `synclua serve`), keeps each answer in a store of its own, and writes
-- them -- with this device's log, when --db is given -- as one timeline,
-- clock skew corrected (synclua.timeline). A peer that is down, slow,
-- holds another key, sends garbage or more than it is worth decoding, or
-- takes longer than --deadline or more than --max-pages responses, is
-- reported and the rest still come; the exit status says whether
-- everything came.
local synclua = require "synclua"
local command = require "synclua.command"
local inputs = require "synclua.inputs"
local runner = require "synclua.runner"
local fs = require "synclua.fs"
local fmt = require "synclua.fmt"
local timeline = require "synclua.timeline"
local follow = require "synclua.follow"
local cli = require "synclua.cli"

local query_options = require("synclua.query").options()

local invalid = runner.invalid

-- A line on stderr. A peer's words (its errors, the names it reports) are
-- in some of them: control characters are shown as \xNN, never sent to
-- the terminal.
local function say(form, ...)
  io.stderr:write("synclua fetch: ", fmt.printable(form:format(...)), "\n")
end

-- Where a peer's answer is kept: DIR/HOST_PORT.db.
local function store_path(dir, peer)
  local name = peer:gsub("^%[", ""):gsub("%]:", "_"):gsub(":(%d+)$", "_%1")
  return ("%s/%s.db"):format(dir, (name:gsub("[/%s]", "_")))
end

-- This device's side, gathered as a server gathers its answer -- its own
-- events, the `limit` newest that pass the filters -- into a store at
-- `dest`, oldest first as fetched pages are stored, in batches so that
-- memory stays flat whatever the limit.
local function copy_local(path, device, filter, limit, dest, now, through)
  local log <close> = runner.check(synclua.open(path))
  local out <close> = runner.check(synclua.open(dest, { mode = "w",
                                                       synchronous = "off" }))
  local query = { device = device, since = filter.since, ["until"] = now,
                  event_types = filter.event_types,
                  correlation_id = filter.correlation_id, raw = true,
                  through_id = through }
  if limit == 0 then return 0 end
  -- The oldest of the `limit` newest (newest first: instant descending,
  -- then id ascending, as a server sends them).
  local q = {}
  for k, v in pairs(query) do q[k] = v end
  q.order, q.offset, q.limit = "desc", limit - 1, 1
  local oldest = log:first(q)
  if oldest and not oldest.instant then oldest = nil end -- untimed come last
  query.order = "asc"
  if oldest then query.since = oldest.instant end
  local batch, n = {}, 0
  for ev in log:events(query) do
    -- A time Spacedrive could not parse is left out, as a server does.
    -- A row a server would not send (Spacedrive's reader skips it: an
    -- unknown type, a missing field: ev.skipped) is left out here too.
    if ev.instant and not ev.skipped and not (oldest
        and ev.instant == oldest.instant and ev.id > oldest.id) then
      ev.id, ev.instant, ev.details_json = nil, nil, nil -- read-side fields
      -- details Spacedrive cannot parse it reads as None
      if ev.details and synclua.json_decode(ev.details) == nil then
        ev.details = nil
      end
      batch[#batch + 1] = ev
      if #batch == 10000 then
        runner.check(out:insert(batch, { skip_duplicates = false }))
        n, batch = n + #batch, {}
      end
    end
  end
  runner.check(out:insert(batch, { skip_duplicates = false }))
  return n + #batch
end

-- A device id as the output shows it: its pseudonym with --redact.
local function shown(ctx, id)
  return ctx.redactor and id and ctx.redactor:id(id, "device") or id
end

local function describe(ctx, r)
  if not r.ok then return ("%s: failed: %s"):format(r.peer, r.error) end
  local text = ("%s (device %s): %d event%s"):format(r.peer,
    shown(ctx, r.device),
    r.received, r.received == 1 and "" or "s")
  if r.inserted ~= r.received then
    text = text .. (", %d new"):format(r.inserted)
  end
  if r.capped then
    text = text .. (" in %d responses")
      :format(r.pages)
  end
  return text
end

-- --follow, after the answers were written: each peer streams what it
-- commits into its store (synclua.fetch_follow: a thread each, resumed
-- after a lost connection), and the stores -- this device's own, when
-- --db is given -- are followed as one timeline (synclua.follow) from the
-- rows written so far, with what the streams say on stderr; Ctrl-C ends
-- it with status 0.
local function follow_peers(ctx, o)
  local opts = ctx.opts
  local paths = {}
  if o.db then paths[1] = o.db end
  for _, f in ipairs(o.files) do paths[#paths + 1] = f end
  local set <close> = inputs.resolve(paths, {
    redact = ctx.redactor, note = function(m) ctx:note(m) end })
  -- What was written so far: the local copy's rows (up to the mark it was
  -- taken at) and every row the peers' stores hold now.
  local marks = {}
  for i, src in ipairs(set) do
    marks[i] = (o.db and i == 1) and o.mark or runner.check(src.log:max_id())
  end
  local writers = {}
  for i, f in ipairs(o.files) do
    writers[i] = runner.check(synclua.open(f, { mode = "w",
      device_id = o.device, synchronous = opts.save and "normal" or "off" }))
  end
  local streams = runner.check(synclua.fetch_follow{
    peers = opts.peer, stores = writers, key = o.key, library_id = o.library,
    requesting_device = o.device, since = o.filter.since,
    event_types = o.filter.event_types,
    correlation_id = o.filter.correlation_id, limit = opts.limit,
    heartbeat = opts.heartbeat, handshake_timeout = o.timeout,
    timeout = o.timeout })
  -- What the streams say; and with no --db to follow, the end once no
  -- peer will stream again (each failed for good, or does not stream).
  local function said()
    for _, line in ipairs(streams:lines()) do say("%s", line) end
  end
  local function tell()
    said()
    if o.db then return end
    for _, p in ipairs(streams:peers()) do
      if p.state ~= "failed" and p.state ~= "answered" then return end
    end
    error(runner.failure("ioerr", "no peer streams any longer"), 0)
  end
  local ok, err = pcall(follow.timeline, set, {
    out = ctx.out, format = ctx.format, skew = opts.skew,
    filter = o.filter,
    -- what comes: --since alone does not end at the answers' now
    live = { since = o.filter.since, event_types = o.filter.event_types,
             correlation_id = o.filter.correlation_id },
    history = false, marks = marks, name = "fetch", on_look = tell,
    window = opts.window,
    note = function(m) ctx:note(m) end })
  said()
  streams:stop()
  for _, w in ipairs(writers) do w:close() end
  if not ok then error(err, 0) end
  return 0
end

return command{
  name = "fetch",
  redact = true,
  description = "Ask peers for their logs and merge them into one timeline",
  epilog = "Each --peer runs 'synclua serve' with the same key. Asks for "
    .. "each peer's own\nevents, newest first, up to --limit (responses of "
    .. "at most " .. synclua.max_events .. " are paged).\nThe answers, and "
    .. "--db if given, are merged oldest first with clocks corrected\n"
    .. "(see synclua timeline --help). A peer has --deadline for the whole "
    .. "exchange\nand --max-pages responses, and a response may take at "
    .. "most 32 MiB to decode.\nExit 0 when every peer answered, 3 when "
    .. "one did not (the others are still\nwritten).",
  inputs = false, window = false,
  formats = timeline.FORMATS,
  options = {
    { "--peer", metavar = "HOST:PORT", repeatable = true,
      help = "a peer to ask (repeat for several)" },
    { "--key-file", metavar = "FILE", required = true,
      help = "the library's key (synclua keygen)" },
    { "--db", metavar = "PATH",
      help = "this device's sync.db: its events, as a peer's, merged in "
        .. "(and its device id sent)" },
    { "--library", type = "uuid", what = "library ID",
      help = "the library to ask about (default: the key's)" },
    { "--device", type = "uuid", what = "device ID",
      help = "the requesting device (default: --db's device)" },
    { "--since", type = "time",
      help = "events since (e.g., '1 hour ago', '2025-12-03 10:00:00')" },
    query_options[1], query_options[2],
    { "--limit", type = "int", default = 10000, min = 0, max = 4294967295,
      help = "events asked of each peer" },
    { "--save", metavar = "DIR",
      help = "keep each peer's answer as DIR/HOST_PORT.db (added to on "
        .. "the next fetch)" },
    { "--skew", metavar = "HOW", default = "auto",
      help = "auto, none, or DEVICE=+1.5s[,...] (as timeline)" },
    { "--timeout", metavar = "SECONDS", default = "10",
      check = require("synclua.cli").seconds("--timeout"),
      help = "for connecting, the handshake, each answer to begin, and "
        .. "each answer once begun (+1 s per 64 KiB)" },
    { "--deadline", type = "duration", default = "10m",
      help = "for everything a peer sends, from the connect (at most a "
        .. "day)" },
    { "--max-pages", type = "int", default = 10000, min = 1,
      max = 2147483647, help = "responses one peer may take to answer" },
    { "--follow", flag = true,
      help = "then print each event a peer (or --db) commits, as it comes: "
        .. "a stream from each peer, resumed after a lost connection, "
        .. "until Ctrl-C (exit 0); -f text, ndjson or csv" },
    { "--window", type = "duration", default = "2s",
      help = "--follow: how long an event is held so that one of another "
        .. "device that arrives later but belongs before it comes first "
        .. "(as timeline --follow)" },
    { "--heartbeat", metavar = "SECONDS", default = "5",
      check = cli.seconds("--heartbeat", 0.1, 60),
      help = "--follow: a quiet peer says it is there this often (0.1 to 60);"
        .. " silent three times as long, it is reconnected" },
  },
  check = function(opts)
    follow.check(opts, follow.TIMELINE_FORMATS)
    if opts.save and (opts.redact or opts.redact_key) then
      invalid("--save keeps each peer's answer as it came, not redacted: "
        .. "save without --redact, then write it with synclua timeline "
        .. "--db DIR --redact")
    end
  end,
  run = function(ctx)
    local opts = ctx.opts
    if #opts.peer == 0 then invalid("at least one --peer HOST:PORT is needed") end
    if opts.deadline <= 0 or opts.deadline > 86400 * 1e9 then
      invalid(("option '--deadline' must be above 0 and at most 1 day, got "
        .. "%s (e.g. 10m)"):format(fmt.duration(opts.deadline)))
    end
    local timeout = opts.timeout
    local now = ctx.now
    -- [since, now], as the servers answer and every command means it
    local filter = { since = opts.since, ["until"] = opts.since and now,
                     correlation_id = opts.correlation_id,
                     event_types = #opts.event_type > 0 and opts.event_type
                                   or nil }
    local library, device = opts.library, opts.device
    local key = runner.check(synclua.read_key(opts.key_file))
    library = library or synclua.library_id(key)

    local paths, db_path = {}, nil
    if opts.db then
      -- this device's store, as every command names one
      local entries = inputs.expand({ opts.db })
      if #entries ~= 1 or entries[1].kind ~= "store" then
        runner.invalid(("--db %s: fetch merges in one store of this device "
          .. "(a sync.db or a library folder)"):format(opts.db))
      end
      db_path = entries[1].path
      local log <close> = runner.check(synclua.open(db_path))
      local newest = log:first{ raw = true }
      device = device or (newest and synclua.parse_uuid(newest.device_id))
    end
    device = device or "00000000-0000-0000-0000-000000000000"

    if opts.save then runner.check(fs.mkdir_p(opts.save)) end
    local tmp = runner.check(fs.tmpdir())
    local dir = opts.save or tmp
    local stores, files, fresh = {}, {}, {}
    local local_mark
    local ok, err = pcall(function()
      if opts.db then
        paths[1] = tmp .. "/local.db"
        if opts.follow then
          local log <close> = runner.check(synclua.open(db_path))
          local_mark = runner.check(log:max_id())
        end
        local n = copy_local(db_path, device, filter, opts.limit, paths[1],
                             now, local_mark)
        say("%s (this device, %s): %d event%s", opts.db,
            shown(ctx, device), n, n == 1 and "" or "s")
      end
      local seen = {}
      for i, peer in ipairs(opts.peer) do
        files[i] = store_path(dir, peer)
        -- By the file its answer goes to: [::1]:1 and ::1_1 are one peer.
        if seen[files[i]] then
          invalid(("--peer %s: given twice"):format(peer))
        end
        seen[files[i]] = true
        fresh[i] = fs.kind(files[i]) == nil
        stores[i] = runner.check(synclua.open(files[i], {
          mode = "w", device_id = device,
          synchronous = opts.save and "normal" or "off" }))
      end
      local results = synclua.fetch{
        peers = opts.peer, stores = stores, key = key, library_id = library,
        requesting_device = device, since = filter.since,
        event_types = filter.event_types,
        correlation_id = filter.correlation_id, limit = opts.limit,
        handshake_timeout = timeout, timeout = timeout,
        idle_timeout = timeout, deadline = opts.deadline / 1e9,
        max_pages = opts.max_pages }
      local failed = 0
      for i, r in ipairs(results) do
        stores[i]:close()
        say("%s", describe(ctx, r))
        if r.unknown_event_types then
          say("%s does not know the event types %s", r.peer,
              r.unknown_event_types)
        end
        if r.ok then
          paths[#paths + 1] = files[i]
        else
          failed = failed + 1
          if fresh[i] and not opts.follow then fs.remove_tree(files[i]) end
        end
      end
      local count = 0
      if #paths > 0 then
        local set <close> = inputs.resolve(paths, {
          redact = ctx.redactor, note = function(m) ctx:note(m) end })
        local w = require("synclua.window").new(opts.since, nil, now)
        count = timeline.write(set, { out = ctx.out, format = ctx.format,
          skew = opts.skew, filter = filter, order = "asc", now = now,
          name = "fetch", header = { w:line() } })
        if count == 0 and ctx.format == "text" then
          ctx.out:write("# ", w:no_data(w:survey(set)), "\n")
        end
      end
      if opts.follow then
        return follow_peers(ctx, { db = db_path, mark = local_mark,
          files = files, device = device, key = key, library = library,
          filter = filter, timeout = timeout })
      end
      if opts.output then ctx:exported(count) else ctx.out:commit() end
      if failed > 0 then
        say("%d of %d peer%s did not answer in full", failed, #results,
            #results == 1 and "" or "s")
        return 3
      end
      return 0
    end)
    for _, s in ipairs(stores) do s:close() end
    fs.remove_tree(tmp)
    if not ok then error(err, 0) end
    return err
  end,
}
