-- synclua serve: answer other devices' EventLogRequests for this device's
-- log, over TCP, inside a channel only holders of the library's key can
-- open (core/sl_channel.c). Connections not yet through the handshake have
-- a budget of their own, apart from the clients' slots, so sockets opened
-- and left silent cannot keep key holders out. Reads the store read-only,
-- except for the events of requests served (aggregated per requester);
-- stops cleanly on Ctrl-C or SIGTERM.
local synclua = require "synclua"
local command = require "synclua.command"
local inputs = require "synclua.inputs"
local runner = require "synclua.runner"

local seconds = require("synclua.cli").seconds

return command{
  name = "serve",
  description = "Answer peers' requests for this device's event log",
  epilog = "Listens on loopback unless told otherwise. Each request is "
    .. "answered with this\ndevice's events, newest first, at most "
    .. synclua.max_events .. " a response (the client pages),\nand logged "
    .. "as a backfill_request_received event (model type sync_event_log):\n"
    .. "a requester's first request at once, the ones after it summed into "
    .. "one event\nevery 30 s. Connections not through the handshake "
    .. "(--handshake-timeout) have a\nbudget of their own "
    .. "(--max-unauthenticated, --max-per-address): a new one takes\nthe "
    .. "place of the oldest that has sent nothing. What is refused is said "
    .. "at most\nonce per address every 10 s, with a count.\n"
    .. "The library id defaults to the one the key stands for (synclua "
    .. "keygen says it).",
  inputs = false,
  options = {
    { "--db", metavar = "PATH",
      help = "the sync.db or library folder to serve (default $SYNCLUA_DB, "
        .. "then ./sync.db)" },
    { "--listen", metavar = "HOST:PORT", default = "127.0.0.1:7373",
      help = "where to listen (port 0: any free port)" },
    { "--key-file", metavar = "FILE", required = true,
      help = "the library's key (synclua keygen)" },
    { "--library", type = "uuid", what = "library ID",
      help = "the library id requests must name (default: the key's)" },
    { "--device", type = "uuid", what = "device ID",
      help = "this device's id (default: the device of the newest event)" },
    { "--max-clients", type = "int", default = 64, min = 1, max = 4096,
      help = "clients through the handshake served at once; more are "
        .. "refused" },
    { "--max-unauthenticated", type = "int", default = 32, min = 1,
      max = 4096,
      help = "connections not yet through the handshake, at once" },
    { "--max-per-address", type = "int", default = 4, min = 1, max = 4096,
      help = "of those, from one address" },
    { "--handshake-timeout", metavar = "SECONDS", default = "2",
      check = seconds("--handshake-timeout"),
      help = "from the connect to the end of the handshake" },
    { "--max-events", type = "int", min = 1, max = synclua.max_events,
      default = synclua.max_events,
      help = "events in one response at most (the client pages)" },
    { "--timeout", metavar = "SECONDS", default = "10",
      check = seconds("--timeout"),
      help = "for a request once begun (+1 s per 64 KiB), and a write" },
    { "--idle-timeout", metavar = "SECONDS", default = "30",
      check = seconds("--idle-timeout"),
      help = "a connection may wait this long between requests" },
    { "-q", "--quiet", flag = true, help = "no line per request on stderr" },
  },
  run = function(ctx)
    local opts = ctx.opts
    local io_timeout = opts.timeout
    local idle = opts.idle_timeout
    local library, device = opts.library, opts.device
    local key = runner.check(synclua.read_key(opts.key_file))
    local entries = inputs.expand({ opts.db })
    if #entries ~= 1 or entries[1].kind ~= "store" then
      runner.invalid(("--db %s: serve answers for one store (a sync.db or "
        .. "a library folder), not %s"):format(opts.db or "sync.db",
        #entries ~= 1 and ("%d stores"):format(#entries)
          or entries[1].kind == "fleet" and "a PostgreSQL fleet store"
          or "an export"))
    end
    local path = entries[1].path
    local srv <close> = runner.check(synclua.server{
      db = path, listen = opts.listen, key = key, library = library,
      device = device, max_clients = opts.max_clients,
      max_events = opts.max_events,
      max_unauthenticated = opts.max_unauthenticated,
      max_per_address = opts.max_per_address,
      handshake_timeout = opts.handshake_timeout, timeout = io_timeout,
      idle_timeout = idle, quiet = opts.quiet })
    -- Said from run's ready function: SIGINT and SIGTERM stop it from then.
    runner.check(srv:run(function()
      io.stderr:write(("synclua serve: serving %s on %s (library %s, device "
        .. "%s); Ctrl-C stops\n"):format(path, srv:address(),
        srv:library_id(), srv:device_id()))
      io.stderr:flush()
    end))
    io.stderr:write("synclua serve: stopped\n")
  end,
}
