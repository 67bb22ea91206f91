--- synclua: the sync event log of a multi-device sync engine, from Lua.
--
-- `require "synclua"` gives the store API of the C core (synclua.core) and
-- the helpers every script shares. Reading:
--
--     local synclua = require "synclua"
--     local log <close> = synclua.open("sync.db")  -- reads, like io.open
--     for ev in log:events{ since = "2 hours ago", severity = "warning+" } do
--       print(ev.timestamp, ev.event_type, ev.summary)
--     end
--
-- Logging: `synclua.open(path, { mode = "w", device_id = id })`, then
-- `log:append{...}`, `log:flush()`, `log:close()`. See README.md for every
-- field.
local core = require "synclua.core"

local M = {}

--- Open a sync.db file, or the sync.db inside a library folder: to read
-- (the default; a missing file is nil, "PATH: no such file", "notfound"),
-- or with mode = "w" to log into it (a missing file is created, with WAL
-- and every index; a store we did not create gets rows only: no journal
-- mode change, no index unless indexes = true).
-- opts: mode ("r" | "w"), retention, busy_timeout (ms); with mode "w" also
-- device_id, create (false: only an existing store), indexes,
-- queue_capacity, auto_prune, prune_interval, synchronous ("normal" |
-- "full" | "off"), batch_interval, batch_records.
-- Returns a Store, or nil, message, code ("notfound", "notdb", "corrupt",
-- "busy", "ioerr", "readonly", ...).
--
-- `path` may name a PostgreSQL fleet store instead ("postgresql://...",
-- "postgres://...", or libpq's "host=... dbname=..."; libpq's PG*
-- environment fills the gaps): read, it answers the same queries as a
-- sync.db; log:devices() lists its { library_id, device_id, label },
-- log:scope{ library_id =, device_id = } is a handle on one device's rows
-- (as if its own sync.db), log:backend() says "postgresql". Opened with
-- mode = "w", the fleet schema is made when missing, and
-- fleet:push(source_log, { library_id =, device_id =, label =, once = })
-- loads a store's rows as that device's log
-- with COPY (idempotent: { read, inserted, duplicates, after_id }).
M.open = core.open

--- Does synclua.open take `text` for a PostgreSQL database rather than a
-- file?
M.is_database = core.is_database

--- A streaming insert, for input too large to hold (`synclua import`):
-- `import{ skip_duplicates = false, by_time = false }` returns an Import
-- (or nil, message, code); `imp:add(events)` checks a chunk of the events
-- `log:insert` takes and holds it in a temporary file, not in memory (the
-- count added so far, or nil, "event N: ...", "invalid": nothing of that
-- chunk kept); `imp:add_text(format, text [, i [, j [, device]]])` adds
-- what the core reads of an export's text ("json" elements, "ndjson",
-- "sql", "csv" records) up to the first thing it does not take, and
-- returns the count added and the position after them (importer.stream
-- uses it when given the Import as its sink); `imp:commit(log)` writes
-- every event into the store in one transaction, all or none (oldest
-- first with `by_time`), and returns inserted, skipped, or nil, message,
-- code; `imp:close()` discards what was not committed.
M.import = core.import

--- Parse a point in time as --since takes it ("1 hour ago", "2h",
-- "yesterday", "2025-12-03 10:00:00", RFC 3339, "@1733220000").
-- Returns integer nanoseconds since the epoch, or nil, message.
M.parse_time = core.parse_time

--- Parse a stored RFC 3339 timestamp. Returns nanoseconds, or nil, message.
M.parse_rfc3339 = core.parse_rfc3339

--- Format an instant as Spacedrive stores it ("...+00:00"), or with
-- `zulu` true as its JSON exports write it ("...Z").
M.format_time = core.format_time

--- Parse a length of time ("7 days", "90m"). Returns nanoseconds or nil, msg.
M.parse_duration = core.parse_duration

--- The current instant (integer nanoseconds since the epoch).
M.now = core.now

--- Milliseconds on a clock that never jumps (not the time of day): for
-- measuring waits.
M.monotonic = core.monotonic

--- The size of the terminal stdout is: columns, rows; nil when stdout is
-- no terminal (a pipe, a file).
M.terminal = core.terminal

--- A fresh random correlation id (UUID v4, lowercase).
M.uuid = core.uuid

--- A redactor, for logs a user can share (`--redact`):
-- `redactor{ key = KEY }` turns every id into a pseudonym under KEY (a
-- non-empty string: the same key, the same pseudonyms, in any run);
-- `redactor()` under a random key of its own (pseudonyms that match
-- nothing outside it). `log:redact(r)` makes every row the store's
-- cursors hand out redacted: ids become pseudonyms (valid lowercase
-- UUIDs), UUIDs and paths in summaries are replaced, and so are the
-- strings in details but for the keys of `redact_allowed()`; times,
-- types, severities, counts and durations are kept. `r:id(uuid [,
-- kind])` is a pseudonym (nil for text that is no UUID; kind "device",
-- "peer", "correlation" or "library" counts it), `r:reveal(pseudonym)`
-- the id r turned into it (or nil), `r:counts()` the distinct values
-- replaced so far by kind ({ device, peer, correlation, library,
-- summary_id, summary_path, details }), `r:keyed()` whether a key was
-- given. See README, "Sharing logs safely: --redact".
M.redactor = core.redactor

--- The details keys whose string values redaction keeps (cleaned of ids
-- and paths): a list of names.
M.redact_allowed = core.redact_allowed

--- A UUID in any spelling the uuid crate reads (hyphenated, simple 32 hex
-- digits, braced, `urn:uuid:`, any case), as Spacedrive writes it back:
-- lowercase and hyphenated; nil for anything else.
M.parse_uuid = core.parse_uuid

--- The set of severities a selection names ("warning+" -> {warning, error}).
M.severity_set = core.severity_set

--- Spacedrive's defaults for an event type: { category, severity,
-- debug_name }, or nil for an unknown type.
M.event_type_info = core.event_type_info

--- Spacedrive's peer selection over a list of candidates ({ device_id,
-- is_online, has_complete_state, latency_ms, active_syncs }): the index of
-- the chosen one and every candidate's score, or nil, "No online peers
-- available for backfill".
M.select_peer = core.select_peer

--- Spacedrive's score of one candidate (an f32, as Spacedrive computes it).
M.peer_score = core.peer_score

--- Merge cursors from several stores (one per device) into one timeline:
-- `for row, source, adjusted in synclua.merge({ c1, c2 }, { offsets = {0,
-- ns}, labels = { "laptop", "phone" }, order = "asc", render = "json" })`.
-- Rows come by instant minus their source's clock offset, ties in source
-- order, rows of unknown time last; `row` is an event table (with
-- device_label and adjusted) or, with `render`, its export bytes carrying
-- device_label and adjusted_timestamp. The cursors belong to the merge.
M.merge = core.merge

--- One timeline row as the merge renders it, for rows that come one at a
-- time (a follower): `synclua.render_timeline(ev, format, label,
-- adjusted [, width])`, format "text" (the label padded to `width`) or an
-- export format (with device_label and adjusted_timestamp), `adjusted`
-- the corrected instant (ns).
M.render_timeline = core.render_timeline

--- Decode JSON text (null becomes synclua.null). Returns value or nil, msg.
M.json_decode = core.json_decode

--- Encode a value as compact JSON with sorted keys (Spacedrive's details).
M.json_encode = core.json_encode

--- Mark a table (a new one if none is given) as a JSON array, so that it
-- encodes as [] when empty. Decoded arrays carry the same mark.
M.array = core.array

--- Spacedrive's DDL: the table and its five indexes, one statement a line.
M.spacedrive_ddl = core.spacedrive_ddl

--- Watch stores' files for commits by any process: `synclua.watch(path,
-- ...)` -> a Watch over them all (or nil, message, code);
-- `watch:wait([ms])` sleeps until a file is written, made, replaced or
-- removed, or its -wal written (true), or `ms` passed or a signal came
-- first (false); then look for rows above `log:max_id()` from before
-- (`filter.after_id`, and `through_id` the max_id taken for the look).
-- `synclua.follow` is built on it.
M.watch = core.watch

--- The JSON null in decoded details (the same value as cjson.null).
M.null = core.null

--- An event (a table as log:events yields it) as the bytes of an export
-- format: "json" (an element of Spacedrive's pretty array), "sql" (an
-- INSERT line), "markdown"/"md" (a table row), "ndjson" (a line), "csv" (a
-- record); with `with_device` true, the --with-device JSON forms. For
-- whole queries, `log:events{ ..., render = FORMAT }` hands out rendered
-- rows, and `cursor:chunk()` many at once (see exporters/).
M.render = core.render

--- The CSV export's header record (the 13 column names, "\r\n").
M.csv_header = core.csv_header

--- The valid names, in Spacedrive's order.
M.event_types = core.event_types
M.categories = core.categories
M.severities = core.severities

--- The network protocol (EventLogRequest / EventLogResponse, `synclua
-- serve` and `fetch`): keys, messages, a server and the fetcher.
-- `keygen()` returns a fresh key as 64 hex digits; `write_key([path])`
-- writes one (a new file of mode 0600, or stdout); `read_key(path)` the
-- 32 bytes of a key file (nil, message, code if it is missing, malformed
-- or readable by others); `library_id(key)` the library id a key stands
-- for when none is given.
M.keygen = core.keygen
M.write_key = core.write_key
M.read_key = core.read_key
M.library_id = core.library_id

--- `encode_request{ library_id, requesting_device, since, event_types,
-- correlation_id, limit, before, before_id }` gives the JSON bytes of an
-- EventLogRequest as Spacedrive sends it; `decode_message(json)` reads a
-- request or a response into a table (`kind` names the variant), or
-- returns nil and a message naming the field that is wrong.
M.encode_request = core.encode_request
M.decode_message = core.decode_message

--- `server{ db, listen = "HOST:PORT", key, library, device, max_clients,
-- max_events, handshake_timeout (2 s), timeout, idle_timeout,
-- max_unauthenticated (32), max_per_address (4), refusal_interval (10 s),
-- served_interval (30 s), quiet }` (times in seconds) opens a
-- store and listens (port 0 picks a free one): `srv:address()`,
-- `srv:library_id()`, `srv:device_id()`, and `srv:run([ready])`, which
-- serves until SIGINT, SIGTERM or `srv:stop()` (`ready` is called once the
-- signals are taken, before the first client is served).
M.server = core.server

--- `fetch{ peers = { "HOST:PORT", ... }, stores = { Store, ... }, key,
-- library_id, requesting_device, since, event_types, correlation_id,
-- limit, handshake_timeout, timeout, deadline (600 s: a peer's whole
-- exchange), max_pages (10000) }` asks every peer at once and stores
-- each one's events in its store; returns one record per peer: `{ peer,
-- ok, device, received, inserted, pages, capped, unknown_event_types }` or
-- `{ peer, ok = false, error, code }`.
M.fetch = core.fetch

--- `fetch_follow{ peers, stores, key, library_id, requesting_device, since,
-- event_types, correlation_id, limit, heartbeat (seconds, default 5),
-- handshake_timeout, timeout }` follows every peer at once, a thread
-- each: the newest `limit` events, then each one the peer commits, into
-- its store (which is the follower's until stop: read the file through
-- another Store), reconnecting and resuming after the last event seen.
-- Returns a Follow: `lines()` (status lines queued since the last call),
-- `wait([s])`, `peers()` (`{ peer, state, ok, error, code, device,
-- received, inserted, reconnects, mark }`) and `stop()`; or nil, message,
-- code.
M.fetch_follow = core.fetch_follow

--- Events in one response at most (a larger limit pages).
M.max_events = core.max_events

M.version = core.version

return M
