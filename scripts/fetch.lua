-- synclua fetch: the cross-device fetcher Spacedrive's documentation
-- promises. Sends an EventLogRequest to every peer at once (each running
-- `synclua serve`), keeps each answer in a store of its own, and writes
-- them -- with this device's log, when --db is given -- as one timeline,
-- clock skew corrected (synclua.timeline). A peer that is down, slow,
-- holds another key or sends garbage is reported and the rest still come;
-- the exit status says whether everything came.
local synclua = require "synclua"
local cmd = require "synclua.cmd"
local runner = require "synclua.runner"
local filter_args = require "synclua.filter_args"
local fs = require "synclua.fs"
local timeline = require "synclua.timeline"

local invalid = filter_args.invalid

-- A line on stderr. A peer's words (its errors, the names it reports) are
-- in some of them: control characters are shown as \xNN, never sent to
-- the terminal.
local function say(fmt, ...)
  local line = fmt:format(...):gsub("[%c\127]", function(c)
    return ("\\x%02x"):format(c:byte())
  end)
  io.stderr:write("synclua fetch: ", line, "\n")
end

local function uuid_option(option, value)
  if value == nil then return nil end
  return filter_args.uuid(value) or invalid(
    ("%s: not a UUID: %s"):format(option, value))
end

-- Every value of a repeatable option, split at commas.
local function items(values)
  local out = {}
  for _, v in ipairs(values) do
    for item in (v .. ","):gmatch("(.-),") do
      if item ~= "" then out[#out + 1] = item end
    end
  end
  return out
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
local function copy_local(path, device, filter, limit, dest)
  local log <close> = cmd.open(path)
  local out <close> = runner.check(synclua.open(dest, { synchronous = "off" }))
  local query = { device = device, since = filter.since,
                  event_types = filter.event_types,
                  correlation_id = filter.correlation_id, raw = true }
  if limit == 0 then return 0 end
  -- The oldest of the `limit` newest (newest first: instant, then id).
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
    if ev.instant and not (oldest and ev.instant == oldest.instant
                           and ev.id < oldest.id) then
      ev.id, ev.instant, ev.details_json = nil, nil, nil -- read-side fields
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

local function describe(r)
  if not r.ok then return ("%s: failed: %s"):format(r.peer, r.error) end
  local text = ("%s (device %s): %d event%s"):format(r.peer, r.device,
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

return {
  name = "fetch",
  description = "Ask peers for their logs and merge them into one timeline",
  epilog = "Each --peer runs 'synclua serve' with the same key. Asks for "
    .. "each peer's own\nevents, newest first, up to --limit (responses of "
    .. "at most " .. synclua.max_events .. " are paged).\nThe answers, and "
    .. "--db if given, are merged oldest first with clocks corrected\n"
    .. "(see synclua timeline --help). Exit 0 when every peer answered, 3 "
    .. "when one\ndid not (the others are still written).",
  args = {
    { "--peer", metavar = "HOST:PORT", repeatable = true,
      help = "a peer to ask (repeat for several)" },
    { "--key-file", metavar = "FILE", required = true,
      help = "the library's key (synclua keygen)" },
    { "--db", metavar = "PATH",
      help = "this device's sync.db: its events, as a peer's, merged in "
        .. "(and its device id sent)" },
    { "--library", metavar = "UUID",
      help = "the library to ask about (default: the key's)" },
    { "--device", metavar = "UUID",
      help = "the requesting device (default: --db's device)" },
    { "--since", metavar = "TIME",
      help = "events since (e.g., '1 hour ago', '2025-12-03 10:00:00')" },
    { "--event-type", metavar = "TYPE", repeatable = true,
      help = "only these event types (repeat, or TYPE,TYPE)" },
    { "--correlation-id", metavar = "UUID",
      help = "only the events of one session" },
    { "--limit", metavar = "N", type = "integer", default = 10000,
      help = "events asked of each peer" },
    { "-f", "--format", metavar = "FORMAT", default = "text",
      help = "text, json, ndjson, csv, sql or markdown" },
    { "-o", "--output", metavar = "FILE",
      help = "write to a file instead of stdout" },
    { "--save", metavar = "DIR",
      help = "keep each peer's answer as DIR/HOST_PORT.db (added to on "
        .. "the next fetch)" },
    { "--skew", metavar = "HOW", default = "auto",
      help = "auto, none, or DEVICE=+1.5s[,...] (as timeline)" },
    { "--timeout", metavar = "SECONDS", default = "10",
      help = "for connecting, the handshake, each answer to begin, and "
        .. "each answer once begun (+1 s per 64 KiB)" },
  },
  run = function(opts)
    if #opts.peer == 0 then invalid("at least one --peer HOST:PORT is needed") end
    timeline.check_format(opts.format)
    if opts.limit < 0 or opts.limit > 4294967295 then
      invalid(("--limit: from 0 to 4294967295, got %d"):format(opts.limit))
    end
    local timeout = tonumber(opts.timeout)
    if not timeout or timeout <= 0 or timeout > 86400 then
      invalid(("--timeout: a number of seconds from 0 to 86400 expected, "
        .. "got '%s'"):format(opts.timeout))
    end
    local now = filter_args.clock()
    local filter = filter_args.filter({ since = opts.since,
      event_type = opts.event_type, severity = {}, category = {},
      correlation_id = opts.correlation_id }, now)
    filter["until"] = nil
    local library = uuid_option("--library", opts.library)
    local device = uuid_option("--device", opts.device)
    local key = runner.check(synclua.read_key(opts.key_file))
    library = library or synclua.library_id(key)

    local paths = {}
    if opts.db then
      local log <close> = cmd.open(opts.db)
      local newest = log:first{ raw = true }
      device = device or (newest and newest.device_id)
    end
    device = device or "00000000-0000-0000-0000-000000000000"

    if opts.save then runner.check(fs.mkdir_p(opts.save)) end
    local tmp = runner.check(fs.tmpdir())
    local dir = opts.save or tmp
    local stores, files, fresh = {}, {}, {}
    local ok, err = pcall(function()
      if opts.db then
        paths[1] = tmp .. "/local.db"
        local n = copy_local(opts.db, device, filter, opts.limit, paths[1])
        say("%s (this device, %s): %d event%s", opts.db, device, n,
            n == 1 and "" or "s")
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
          device_id = device, synchronous = opts.save and "normal" or "off" }))
      end
      local results = synclua.fetch{
        peers = opts.peer, stores = stores, key = key, library_id = library,
        requesting_device = device, since = filter.since,
        event_types = filter.event_types,
        correlation_id = filter.correlation_id, limit = opts.limit,
        handshake_timeout = timeout, timeout = timeout,
        idle_timeout = timeout }
      local failed = 0
      for i, r in ipairs(results) do
        stores[i]:close()
        say("%s", describe(r))
        if r.unknown_event_types then
          say("%s does not know the event types %s", r.peer,
              r.unknown_event_types)
        end
        if r.ok then
          paths[#paths + 1] = files[i]
        else
          failed = failed + 1
          if fresh[i] then fs.remove_tree(files[i]) end
        end
      end
      local count = 0
      if #paths > 0 then
        filter.order = "asc"
        count = timeline.write{ paths = paths, skew = opts.skew,
          format = opts.format, filter = filter, order = "asc",
          output = opts.output, now = now, prefix = "synclua fetch" }
      end
      if opts.output then
        print(("Exported %d events to %s"):format(count, opts.output))
      end
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
