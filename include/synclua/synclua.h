/*
** synclua/synclua.h -- the public contract of libsynclua, the C core of
** synclua: logging and queries. JSON and export bytes are in
** <synclua/json.h>, the protocol and the network in <synclua/net.h>; an
** engine that only logs includes this header alone.
**
** libsynclua stores sync events in Spacedrive's `sync.db` format, logs them
** from a sync engine's hot path without blocking, answers filtered queries
** through streaming cursors and prunes old events. It knows nothing of Lua.
**
** Conventions (as SQLite's):
**  - Every fallible call returns an int status from `sl_status`; results go
**    through out-parameters. The message of the last failure lives on the
**    object (`sl_store_errmsg`), or in a caller-supplied buffer where there
**    is no object yet -- but for the calls that are safe from any thread
**    (below), whose message is the calling thread's own
**    (`sl_thread_errmsg`): nothing they do writes memory another thread
**    reads.
**  - Destructors accept NULL and are idempotent; using a closed object is
**    SL_MISUSE, not a crash.
**  - Strings handed in are copied before the call returns unless stated
**    otherwise; pointers handed out are owned by the object that returned
**    them and stay valid until the next call on that object.
**  - Times are int64 nanoseconds since 1970-01-01T00:00:00Z ("instants").
**  - Threads: appending (sl_store_append, the batch and emit functions),
**    sl_store_flush, sl_store_stats and sl_store_bad_rows are safe from
**    any thread at once.
**    Everything else on one store -- queries, cursors, counts, prune,
**    reports, close -- is for one thread at a time.
**  - Blocking: sl_store_append, sl_batch_add, sl_batch_tick,
**    sl_batch_flush_all and the emit functions never wait -- no lock, no
**    system call, no disk (a full queue drops and says so): each is a
**    place claimed in the writer's lock-free queue. sl_batch_add does not
**    even allocate or format (unless model, peer and session together
**    take more than 96 bytes): the writer thread aggregates. The emit
**    functions format their event on the caller's thread, as append
**    copies it. sl_store_stats and sl_store_bad_rows take a lock held
**    only for copying counters. sl_store_flush and sl_batch_memory wait
**    for the writer thread, as long as the retry budget while the disk
**    fails (sl_store_flush_within bounds it); sl_store_close waits for
**    the queue to drain. Opening,
**    queries, cursors, counts, prune and insert read or write the file
**    on the caller's thread, waiting up to the busy timeout on a lock.
**  - Signals: a program that links libsynclua should ignore SIGXFSZ
**    (signal(SIGXFSZ, SIG_IGN)), as the synclua program does. A file-size
**    limit (ulimit -f) is then a write that fails with EFBIG, which the
**    writer reports and counts like any other failed write; otherwise the
**    system kills the process at the limit.
*/
#ifndef SYNCLUA_SYNCLUA_H
#define SYNCLUA_SYNCLUA_H

#include <stddef.h>
#include <stdint.h>

#define SL_VERSION "0.1.0"

/* ------------------------------------------------------------------ status */

typedef enum sl_status {
  SL_OK = 0,
  SL_ERROR,        /* generic failure; see the message                      */
  SL_MISUSE,       /* API misuse: NULL handle, closed object, wrong order   */
  SL_NOMEM,        /* out of memory                                         */
  SL_INVALID,      /* bad input: unknown type, unparsable time, bad JSON    */
  SL_NOTFOUND,     /* the file (or folder) does not exist                   */
  SL_NOTDB,        /* not an SQLite database, or no sync_event_log table    */
  SL_CORRUPT,      /* the database is malformed                             */
  SL_BUSY,         /* the database is locked by another connection          */
  SL_READONLY,     /* a write was asked of a store opened read-only         */
  SL_IOERR,        /* the operating system failed a read or write           */
  SL_FULL,         /* the log queue was full: the event was dropped         */
  SL_ROW,          /* sl_cursor_next produced a row                         */
  SL_DONE,         /* sl_cursor_next has no more rows                       */
  SL_TIMEOUT       /* a deadline passed first (sl_store_flush_within)       */
} sl_status;

/* A short constant English name for a status ("invalid", "busy", ...),
** stable enough for scripts to test; never NULL. */
const char *sl_status_name(int status);

/* The message of the last failure of a thread-safe call (sl_store_append,
** sl_store_flush and sl_store_flush_within, the batch and emit functions)
** made by this thread: "" when it had none. The thread's own buffer, valid
** until its next such call. */
const char *sl_thread_errmsg(void);

/* ------------------------------------------------------------ event model */

/* The 13 event types, in Spacedrive's declaration order. */
typedef enum sl_event_type {
  SL_STATE_TRANSITION = 0,
  SL_BACKFILL_SESSION_STARTED,
  SL_BACKFILL_SESSION_COMPLETED,
  SL_BACKFILL_SESSION_FAILED,
  SL_CATCH_UP_SESSION_STARTED,
  SL_CATCH_UP_SESSION_COMPLETED,
  SL_BATCH_INGESTION,
  SL_BACKFILL_REQUEST_SENT,
  SL_BACKFILL_REQUEST_RECEIVED,
  SL_BACKFILL_RESPONSE_SENT,
  SL_PEER_CONNECTED,
  SL_PEER_DISCONNECTED,
  SL_SYNC_ERROR,
  SL_EVENT_TYPE_COUNT
} sl_event_type;

typedef enum sl_category {
  SL_LIFECYCLE = 0, SL_DATA_FLOW, SL_NETWORK, SL_CATEGORY_ERROR,
  SL_CATEGORY_COUNT
} sl_category;

/* Severities are ordered: a threshold "warning+" means warning and error. */
typedef enum sl_severity {
  SL_DEBUG = 0, SL_INFO, SL_WARNING, SL_ERROR_SEVERITY,
  SL_SEVERITY_COUNT
} sl_severity;

/* snake_case names as stored ("state_transition", "data_flow", "warning"),
** Rust Debug names as Spacedrive's Markdown prints them ("StateTransition",
** "Warning"). NULL for an out-of-range value. */
const char *sl_event_type_name(int type);
const char *sl_event_type_debug_name(int type);
const char *sl_category_name(int category);
const char *sl_severity_name(int severity);
const char *sl_severity_debug_name(int severity);

/* Name -> value (exact, case-sensitive match); -1 when unknown. */
int sl_event_type_from_name(const char *name);
int sl_category_from_name(const char *name);
int sl_severity_from_name(const char *name);

/* Spacedrive's defaults for a type: its category and default severity. */
sl_category sl_event_type_category(sl_event_type type);
sl_severity sl_event_type_severity(sl_event_type type);

/* "debug, info, warning, error" (resp. the 13 types, the 4 categories):
** static text for error messages that list the valid values. */
const char *sl_event_type_list(void);
const char *sl_category_list(void);
const char *sl_severity_list(void);

/* Parse a severity selection into a bit set (bit i = severity i): a single
** name ("error"), a threshold ("warning+"), or a comma-separated list of
** either ("debug,error"). On failure returns SL_INVALID and writes a message
** naming the input into err (if errsz > 0). */
int sl_severity_parse_set(const char *text, unsigned *mask,
                          char *err, size_t errsz);

/* The columns of sync_event_log, in table order. */
typedef enum sl_column {
  SL_COL_ID = 0, SL_COL_TIMESTAMP, SL_COL_DEVICE_ID, SL_COL_EVENT_TYPE,
  SL_COL_CATEGORY, SL_COL_SEVERITY, SL_COL_SUMMARY, SL_COL_DETAILS,
  SL_COL_CORRELATION_ID, SL_COL_PEER_DEVICE_ID, SL_COL_MODEL_TYPES,
  SL_COL_RECORD_COUNT, SL_COL_DURATION_MS,
  SL_COLUMN_COUNT
} sl_column;

#define SL_COLUMN_BIT(c) (1u << (c))

/*
** One event: a row of sync_event_log. Every string is UTF-8 followed by a
** NUL; text may hold NUL itself (Spacedrive keeps it: "nul \0 inside" is
** written "nul \u0000 inside"), and then len[] says where it ends.
**
** On append, NULL means absent (category and severity: the type's default;
** timestamp: now; device_id: the store's default device). On read, the
** cursor owns every pointer until its next call.
*/
typedef struct sl_event {
  int64_t     id;             /* row id, valid if has_id                    */
  int         has_id;         /* a stored row (0: an event not yet stored)  */
  const char *timestamp;      /* stored RFC 3339 text                       */
  int64_t     instant;        /* ns since epoch (valid if has_instant)      */
  int         has_instant;    /* 0 when the stored text does not parse      */
  const char *device_id;      /* the device that logged the event           */
  const char *event_type;     /* snake_case type                            */
  const char *category;       /* snake_case category                        */
  const char *severity;       /* snake_case severity                        */
  const char *summary;        /* one line for humans                        */
  const char *details;        /* JSON text, NULL if absent                  */
  const char *correlation_id; /* session uuid, NULL if absent               */
  const char *peer_device_id; /* peer uuid, NULL if absent                  */
  const char *model_types;    /* comma-joined list, NULL if absent          */
  int64_t     record_count;   /* valid if has_record_count                  */
  int64_t     duration_ms;    /* valid if has_duration_ms                   */
  int         has_record_count;
  int         has_duration_ms;
  unsigned    bad;            /* on read: SL_COLUMN_BIT of each column read
                                 leniently (see sl_bad_rows); 0 on append */
  size_t      len[SL_COLUMN_COUNT]; /* bytes of each text column, by
                                 sl_column; 0: up to its NUL (so a zeroed
                                 event of C strings needs none)           */
} sl_event;

/* A text column of ev (SL_COL_TIMESTAMP .. SL_COL_MODEL_TYPES): its text,
** NULL when absent, and its length in bytes into *len (len[col], or up to
** the NUL when that is 0; 0 for NULL). NULL for another column. */
const char *sl_event_text(const sl_event *ev, int col, size_t *len);

/* ev's stored timestamp text as an instant into *out: SL_OK, or SL_INVALID
** when it is absent or does not parse (*out untouched). */
int sl_event_time(const sl_event *ev, int64_t *out);

/* The name in ev's column col -- SL_COL_EVENT_TYPE, SL_COL_CATEGORY or
** SL_COL_SEVERITY -- as its sl_event_type, sl_category or sl_severity; -1
** when absent, not exactly one of the snake_case names, or with NUL
** inside (whatever comes before the NUL). */
int sl_event_name(const sl_event *ev, int col);

/* The event's time, `instant` (its ev->instant, or the one it is stored
** at), as sl_time_format writes it; but a leap second in ev's stored text
** ("23:59:60") stays second 60, as chrono writes it back. */
size_t sl_event_time_text(const sl_event *ev, int64_t instant, int zulu,
                          char *buf);

/* A column's name ("summary"); NULL for an out-of-range value. */
const char *sl_column_name(int column);

/* Check an event for append: known type/category/severity names, summary
** present, details valid JSON, timestamp parsable. SL_OK or SL_INVALID with
** a message naming the field into err. */
int sl_event_validate(const sl_event *ev, char *err, size_t errsz);

/* ------------------------------------------------------------------- time */

/* Room for any formatted instant, with its NUL. */
#define SL_TIME_BUFSZ 40

#define SL_NS_PER_SEC  INT64_C(1000000000)
#define SL_NS_PER_DAY  (INT64_C(86400) * SL_NS_PER_SEC)

/* Parse RFC 3339 as chrono's parse_from_rfc3339: YYYY-MM-DD, a 'T', 't'
** or ' ' separator, HH:MM:SS, an optional fraction (digits past the 9th
** ignored), and a zone ('Z', 'z' or +HH:MM / -HH:MM). The whole of
** s[0..len) must match. A leap second, second 60 of any minute, is the
** instant of the second after second 59 (plus its fraction); *leap (may
** be NULL) says so, and sl_time_format_leap writes it back as chrono
** does. Years before 1677-09-21 or after 2262-04-11 do not fit an int64 of
** nanoseconds: refused. SL_OK or SL_INVALID. */
int sl_time_parse_rfc3339(const char *s, size_t len, int64_t *instant);
int sl_time_parse_rfc3339_leap(const char *s, size_t len, int64_t *instant,
                               int *leap);

/* Format an instant as chrono's to_rfc3339 (AutoSi fraction: none, 3, 6 or
** 9 digits), ending "+00:00"; with zulu != 0 ending "Z" as serde does.
** Writes at most SL_TIME_BUFSZ bytes including the NUL; returns the length. */
size_t sl_time_format(int64_t instant, int zulu, char *buf);

/* The instant of a leap second (one second after its second 59) as chrono
** writes it: second 60 ("2016-12-31T23:59:60.500Z"). */
size_t sl_time_format_leap(int64_t instant, int zulu, char *buf);

/* The current time as an instant (CLOCK_REALTIME). */
int64_t sl_time_now(void);

/* Parse a point in time as `--since`/`--until` take it, relative to `now`:
**   Spacedrive's "<n> <unit> ago" (s, sec, second(s), m, min, minute(s),
**   h, hour(s), d, day(s), w, week(s)); RFC 3339 with a zone; and ours:
**   "2025-12-03 10:00:00" or "2025-12-03T10:00:00" without a zone (UTC),
**   "2025-12-03" (midnight UTC), "now", "today", "yesterday" (midnights
**   UTC), "2h"/"90m"/"30s"/"7d"/"1w" (that long ago), "@1733220000[.5]".
** On failure returns SL_INVALID with Spacedrive's message ("Invalid time
** format: <s>", "Unknown time unit: <u>", ...) followed by an accepted
** example, in err. */
int sl_time_parse_point(const char *s, int64_t now, int64_t *instant,
                        char *err, size_t errsz);

/* Parse a length of time: "7 days", "1 hour", "90m", "2h", "30 s".
** Non-negative. SL_OK or SL_INVALID with a message naming s. */
int sl_duration_parse(const char *s, int64_t *ns, char *err, size_t errsz);

/* ------------------------------------------------------------------- uuid */

#define SL_UUID_BUFSZ 37

/* A fresh random (v4) UUID, lowercase and hyphenated, into buf. */
void sl_uuid_v4(char *buf);

/* A UUID as the uuid crate's Uuid::parse_str reads it (what serde and
** Spacedrive's row reader read a Uuid with, spacedrive-compat.md 10.1,
** 10.4): s[0..len) is exactly 32 hex digits (simple), 8-4-4-4-12 hex
** digits with hyphens, that form in braces "{...}", or that form after a
** lowercase "urn:uuid:"; hex digits in either case, nothing else (no
** space, no "URN:UUID:", no NUL). Written into out lowercase and
** hyphenated. SL_OK or SL_INVALID (out untouched). */
int sl_uuid_parse(const char *s, size_t len, char out[SL_UUID_BUFSZ]);

/* Is s[0..len) already in that lowercase hyphenated form? */
int sl_uuid_canonical(const char *s, size_t len);

/* sl_uuid_parse of a C string (NULL is SL_INVALID). */
int sl_uuid_normalize(const char *in, char *buf);

/* ------------------------------------------------------------------ bytes */

/* A growable byte buffer. Zero-initialise it ({0}) before first use; on
** allocation failure `oom` is set and further appends are ignored, so a
** writer checks once at the end. sl_buf_free releases the memory. */
typedef struct sl_buf {
  char  *data;                /* bytes, NUL-terminated when len > 0        */
  size_t len;                 /* bytes used, not counting the NUL          */
  size_t cap;                 /* bytes allocated                           */
  int    oom;                 /* an append failed for want of memory       */
} sl_buf;

void sl_buf_append(sl_buf *b, const char *bytes, size_t n);
void sl_buf_puts(sl_buf *b, const char *s);
void sl_buf_reset(sl_buf *b);
void sl_buf_free(sl_buf *b);

/* ------------------------------------------------------------------ store */

/* Spacedrive's DDL for the table and its five indexes, as it runs them
** (CREATE ... IF NOT EXISTS, one statement a line): what an SQL export
** carries so that it imports into an empty database. Static text. */
const char *sl_spacedrive_ddl(void);

typedef struct sl_store sl_store;
typedef struct sl_cursor sl_cursor;

enum { SL_SYNC_NORMAL = 0, SL_SYNC_FULL = 1, SL_SYNC_OFF = 2 };

/* sl_open_opts.mode: read (the default) or write, as io.open's "r" / "w". */
enum { SL_OPEN_READ = 0, SL_OPEN_WRITE = 1 };

/* Zero-initialise, then set what differs from the defaults. The options
** after `mode` marked "write:" are for SL_OPEN_WRITE and ignored when
** reading. */
typedef struct sl_open_opts {
  int         mode;               /* SL_OPEN_READ (0, the default): analyse
                                     only, never write a byte;
                                     SL_OPEN_WRITE: log into it          */
  const char *device_id;          /* write: default device for appended
                                     events                              */
  size_t      queue_capacity;     /* write: events the log queue holds;
                                     0 = 65536 (with several producers at
                                     once it may briefly hold one more per
                                     producer)                           */
  int64_t     retention;          /* ns; 0 = 7 days (also what a dry-run
                                     prune of a read store counts)       */
  int         auto_prune;         /* write: the writer prunes every
                                     prune_interval                      */
  int64_t     prune_interval;     /* write: ns; 0 = 1 hour                  */
  int         busy_timeout_ms;    /* wait on a locked file; 0 = 5000        */
  int         synchronous;        /* write: SL_SYNC_NORMAL (default:
                                     durable on a crash), SL_SYNC_FULL
                                     (fsync every commit: durable on power
                                     loss), or SL_SYNC_OFF (for stores that
                                     can be made again: simulations)     */
  int         no_create;          /* write: only an existing store with the
                                     table: no file and no table is made */
  int64_t     batch_interval;     /* write: ns between batch flushes;
                                     0 = 30 s                            */
  int64_t     batch_records;      /* write: records that flush a batch;
                                     0 = 10,000                          */
  int         indexes;            /* write: give a store we did not create
                                     synclua's three indexes for its query
                                     patterns (and Spacedrive's five where
                                     missing); a store we create always
                                     gets them                           */
  int64_t     retry_budget;       /* write: ns a batch that fails (a full
                                     disk, a lock, an I/O error) is tried
                                     again, with backoff, before its events
                                     count as failed; 0 = 10 minutes; < 0:
                                     tried once                          */
} sl_open_opts;

/*
** Open the store at `path`: a sync.db file, or a library folder holding
** sync.db (FOLDER/sync.db). opts may be NULL for the defaults: reading.
**
** SL_OPEN_READ never creates nor modifies anything (not even an index or
** the journal mode): a missing file is SL_NOTFOUND ("PATH: no such file"),
** a file that is not a database or has no sync_event_log table with every
** column Spacedrive writes is SL_NOTDB. A store opened to read refuses
** appends and prunes (SL_READONLY); it can be read while another process
** writes. Reading leaves nothing beside the file that it can avoid: a
** WAL-mode file with no -wal nor -shm beside it (no writer has it open)
** is read through a connection that may write, never writes, and so
** removes the -wal and -shm it made on closing. A WAL-mode file in a
** folder this process may not write (where no -shm can be made) is read
** as it stands, with SQLite's immutable=1: sl_store_immutable says so,
** and what a writer adds after the open is not seen.
**
** SL_OPEN_WRITE starts the writer thread, and alters the file no further
** than it must. The first statement reads the header, so a file that is
** not a database fails (SL_NOTDB) before a byte is written.
**  - A store we create -- the file missing (in an existing folder: else
**    SL_NOTFOUND, "FOLDER: no such folder"), or an empty database such as a
**    zero-length file -- gets Spacedrive's table and five indexes,
**    synclua's three (idx_sync_event_log_severity_time, _type_time and
**    _peer_time) and WAL mode.
**  - An existing store that holds the table keeps its journal mode and its
**    indexes: only rows are added. With `indexes`, synclua's three indexes
**    are added (and Spacedrive's five, IF NOT EXISTS).
**  - An existing SQLite database without the table gets the table and its
**    five indexes from Spacedrive's DDL (sl_spacedrive_ddl), as Spacedrive
**    itself would; its journal mode is kept, synclua's three indexes come
**    only with `indexes`.
**  With no_create, no file and no table is made: a missing file is
**  SL_NOTFOUND, a database without the table SL_NOTDB.
** The synchronous level applies to the writer's connection, not the file.
**
** The file at the path is followed, not the file first opened. Before
** each batch, after each commit and every idle moment, the writer checks
** that its file is still the one at the path (SQLITE_FCNTL_HAS_MOVED).
** When it was replaced (a restore moving a copy into place), renamed or
** deleted, the writer never writes through the old handle again: it
** checkpoints what it wrote into the old file (which reaches that file
** only: a file renamed away keeps its rows), removes the -wal and -shm at
** the path only when they are the very files it had open, opens the file
** now at the path -- made anew with the schema if it is gone (unless
** no_create) -- writes the pending events there, again if a commit had
** just landed in the old file, and logs one sync_error:
** "Event log file replaced while logging: now writing to the file at
** PATH" with details {"reason":"replaced","path":PATH}, or "... deleted
** while logging: made anew at PATH" and "deleted". The other file's own
** rows are never touched; ours are appended. A path that opens as no
** database meanwhile is a failed batch, retried like any other. The
** caller's connection follows too, at its next query, import or prune
** when no cursor is reading. Flush reports success only for events
** committed to the file at the path.
**
** *out receives a store handle even on failure (unless out of memory), so
** the message can be read with sl_store_errmsg; release it in every case
** (sl_store_release). An unknown mode is SL_INVALID.
*/
int sl_store_open(const char *path, const sl_open_opts *opts,
                  sl_store **out);

/* The message of the last failure on this store ("" if none). Owned by the
** store; valid until the next call on it. Accepts NULL ("out of memory"). */
const char *sl_store_errmsg(const sl_store *store);

/* The resolved database file path (the sync.db inside a folder). */
const char *sl_store_path(const sl_store *store);
/* 1 for a store opened with SL_OPEN_READ, 0 for writing (and NULL). */
int sl_store_readonly(const sl_store *store);

/* 1 for a store read as it stands (immutable=1: see sl_store_open), else
** 0 (and for NULL). */
int sl_store_immutable(const sl_store *store);

/* The database file's identity on this machine: "DEV:INO" (decimal) from
** stat(2) of the file the store's queries read. Every path that reaches
** the same file -- the folder, the file, a symbolic or hard link -- gives
** the same text; a copy gives another. It changes only when the file at
** the path was replaced and the store followed it (see sl_store_open).
** Owned by the store, valid until the next call on it; "" for NULL or a
** store that failed to open. */
const char *sl_store_identity(const sl_store *store);

/* Flush and stop the writer; further calls on the store return SL_MISUSE,
** but open cursors go on reading. Returns the flush status, with the
** flush's message in sl_store_errmsg. Accepts NULL;
** a second call is a no-op returning SL_OK. The handle stays valid (for
** sl_store_errmsg) until released. */
int sl_store_close(sl_store *store);

/* References: sl_store_open returns one, a cursor takes one of its own.
** The last release closes the store (if not closed) and frees it; the
** SQLite connection goes with it (sqlite3_close_v2). */
void sl_store_retain(sl_store *store);
void sl_store_release(sl_store *store);

/* ---------------------------------------------------------------- logging */

/*
** Queue an event for the writer thread and return at once: the caller never
** touches the disk and never waits on it. Copies everything. Safe from any
** thread. Returns SL_OK (queued), SL_INVALID (rejected: use
** sl_event_validate for the message), SL_FULL (queue full: dropped and
** counted; the writer logs the drops as a sync_error event once it has
** room), SL_READONLY or SL_MISUSE.
*/
int sl_store_append(sl_store *store, const sl_event *ev);

/* Block until every event appended before the call is committed to the
** file at the path (or has failed for good). Returns SL_OK, or the last
** write error's status with the message "PATH: events could not be
** written (STATUS: WHY)" in sl_thread_errmsg, WHY being SQLite's reason
** or the open's ("unable to open database file", "not an SQLite
** database"). It can block as long as the retry budget while the disk
** fails. */
int sl_store_flush(sl_store *store);

/* sl_store_flush, waiting at most timeout_ns (< 0: as long as it takes):
** SL_TIMEOUT when the deadline passes first (the events stay queued, or
** keep being retried: a later flush reports them). */
int sl_store_flush_within(sl_store *store, int64_t timeout_ns);

typedef struct sl_stats {
  uint64_t appended;          /* events accepted into the queue, and the
                                 batch events the aggregator made          */
  uint64_t written;           /* committed to the database                  */
  uint64_t dropped;           /* refused: queue full (events, and batch
                                 calls: sl_batch_add's records, a tick)    */
  uint64_t failed;            /* given up after retries                     */
  uint64_t retries;           /* batch commits retried                      */
  uint64_t pruned;            /* rows deleted by retention                  */
  size_t   queue_depth;       /* events waiting now                         */
  size_t   queue_capacity;    /* the bound                                  */
} sl_stats;

/* A snapshot of the counters. Safe from any thread. */
int sl_store_stats(sl_store *store, sl_stats *out);

typedef struct sl_prune_result {
  int64_t count;              /* rows removed (or that would be)            */
  int64_t cutoff;             /* instant: rows older than this              */
  int64_t oldest, newest;     /* instants of the first/last affected row    */
  int64_t unparsable;         /* rows kept because their time is unknown    */
} sl_prune_result;

/* Delete events older than `older_than` ns before now (negative: the
** store's retention; 0: everything up to now). With dry_run, count only.
** Never on a read-only store. */
int sl_store_prune(sl_store *store, int64_t older_than, int dry_run,
                   sl_prune_result *out);

/* ----------------------------------------------------------------- query */

/* Bits of sl_filter.severities. */
#define SL_SEV_BIT(s) (1u << (s))

/* Peer, device and correlation ids given in any form libuuid reads are
** compared in their lowercase hyphenated form, the form Spacedrive and
** synclua store; a row another program stored in upper case does not
** match (matching both would cost the index order). */
typedef struct sl_filter {
  int64_t            since;          /* instant, inclusive                  */
  int64_t            until;          /* instant, inclusive                  */
  int                has_since;
  int                has_until;
  const char *const *event_types;    /* any of these names (n_event_types)  */
  size_t             n_event_types;
  const char *const *categories;     /* any of these names                  */
  size_t             n_categories;
  unsigned           severities;     /* SL_SEV_BIT set; 0 = any             */
  const char        *peer;           /* peer_device_id equals               */
  const char        *model_type;     /* an element of model_types equals    */
  const char        *correlation_id; /* equals                              */
  const char        *device;         /* device_id equals                    */
  int64_t            limit;          /* < 0: no limit                       */
  int64_t            offset;         /* rows skipped first                  */
  int                ascending;      /* oldest first; default newest first  */
  int                skipped_last;   /* rows Spacedrive skips come last     */
  int64_t            after_id;       /* only rows with a higher id ...      */
  int                has_after_id;   /* ... when set (a follower's mark)    */
  int64_t            through_id;     /* only rows with an id at most ...    */
  int                has_through_id; /* ... when set (the max_id a follower
                                        took: a row committed after it
                                        waits for the next look)           */
} sl_filter;

/* A filter matching everything, newest first, with no limit. */
void sl_filter_init(sl_filter *f);

/*
** Start a query. Rows come back ordered by instant however the timestamps
** are written, equal instants by ascending id in either direction (newest
** first, as Spacedrive's query hands them out: spacedrive-compat.md 10.3),
** and rows whose time does not parse last, by id in the direction asked.
** The cursor retains the store; close it with sl_cursor_close. An invalid
** filter (unknown type name, ...) is SL_INVALID.
**
** With skipped_last, the rows Spacedrive's reader skips (sl_event_skipped)
** come after all the others, in the same order among themselves; limit
** and offset count rows in the order without it, as Spacedrive's SQL
** LIMIT counts the rows its reader then drops. So the rows handed out are
** the same, only those Spacedrive would not print are moved to the end:
** what comes before them is Spacedrive's output. The cursor reads the
** rows a second time for them (only when there are any), holding nothing
** more in memory; a row another program adds between the two reads may
** take the place of one of them.
*/
int sl_query(sl_store *store, const sl_filter *f, sl_cursor **out);

/* Does Spacedrive's reader skip this row (spacedrive-compat.md 10.1)? A
** required column it could not read -- timestamp, device_id, event_type,
** category, severity or summary flagged in ev->bad -- or a time that does
** not parse. */
int sl_event_skipped(const sl_event *ev);

/* Rows the cursor has handed out that Spacedrive's reader skips. */
int64_t sl_cursor_skipped(const sl_cursor *cur);

/* Next row: SL_ROW with *ev valid until the next call, SL_DONE, or an
** error status with the message on the cursor. */
int sl_cursor_next(sl_cursor *cur, const sl_event **ev);

/* Rows that matched every filter except time but were left out because
** their timestamp does not parse (only counted once the cursor is done). */
int64_t sl_cursor_unparsable(const sl_cursor *cur);

/*
** Bad rows: rows whose values Spacedrive's reader could not read
** (spacedrive-compat.md 10.1: it skips the row or reads None), which a
** cursor hands out nonetheless, read leniently, so that nothing is
** silently dropped and every value handed out is valid UTF-8 text of the
** type sl_event promises:
**  - timestamp, device_id, event_type, category, severity, summary: NULL
**    is read as ""; an integer or a real as its text, a blob as its bytes;
**    each ill-formed UTF-8 sequence as U+FFFD (as sl_json_write_string);
**  - event_type, category, severity: a name that is not exactly one of
**    the snake_case names ("Exploded", "WARN", " info") is kept as stored;
**  - details, correlation_id, peer_device_id, model_types: a value stored
**    as anything but TEXT, or text that is not UTF-8, is read as absent
**    (NULL), as Spacedrive reads None; so is an id the uuid crate does not
**    read (sl_uuid_parse), while one it reads in another spelling (upper
**    case, simple, braced, urn) is handed out lowercase and hyphenated,
**    and is not bad;
**  - record_count, duration_ms: a value stored as anything but an INTEGER
**    (text such as 'many', a real, a blob) is read as absent.
** Each such row has the columns concerned in sl_event.bad. A timestamp
** that is text but does not parse is not "bad" here: has_instant says so
** (and sl_cursor_unparsable counts the rows a time bound left out). Text
** keeps NUL inside it (sl_event.len); a name with NUL inside is no name.
*/
typedef struct sl_bad_rows {
  int64_t  count;             /* rows with at least one bad value          */
  unsigned columns;           /* SL_COLUMN_BIT of every column seen bad    */
  int64_t  first_ids[3];      /* ids of the first bad rows (0: none)       */
} sl_bad_rows;

/* Count ev in b when ev->bad is set (b zero-initialised first). */
void sl_bad_rows_note(sl_bad_rows *b, const sl_event *ev);

/* The bad rows among those the cursor has handed out so far, first_ids in
** the order it handed them out. SL_OK, or SL_MISUSE for a NULL argument
** (out is then zeroed when non-NULL). */
int sl_cursor_bad_rows(const sl_cursor *cur, sl_bad_rows *out);

/*
** The bad rows every cursor of this handle has handed out so far (those of
** sl_query, of sl_fingerprint, and those an sl_merge owns), each DISTINCT
** row counted once however many queries read it: so that a command running
** many queries over one store can say once how many of its rows it read
** leniently. Rows are told apart by id. Rows passed over (an offset) or
** only counted (sl_count) are not handed out, so not counted. The tally
** belongs to the handle: another handle on the same file keeps its own.
** out->count is the number of distinct rows, out->columns the union of
** their sl_event.bad, out->first_ids their three smallest ids in ascending
** order (0 past count), so a message made of them is the same whatever
** order the queries ran in.
**
** The handle keeps the ids of at most 65,536 rows (1 MiB at most). Once
** that many are kept -- or memory ran out to keep more -- a row not among
** them is not counted and *at_least (may be NULL) is set to 1: the count
** is then a lower bound. columns and first_ids stay exact.
**
** Writes into the caller's out and at_least only. Safe from any thread,
** while cursors of the store read on another: the tally has a lock of its
** own, which the logging path never takes. Valid on a closed store until
** its last release. SL_OK, or SL_MISUSE for a NULL store or out (out is
** then zeroed when non-NULL, *at_least set to 0).
*/
int sl_store_bad_rows(sl_store *store, sl_bad_rows *out, int *at_least);

const char *sl_cursor_errmsg(const sl_cursor *cur);
void sl_cursor_close(sl_cursor *cur);

/*
** Watching a store for rows another process commits (a follower: `events
** --follow`). sl_watch_new watches the store's file at `path` (a sync.db,
** as sl_store_path gives it) through its folder, with inotify: no
** polling, so an idle watch costs nothing. sl_watch_wait returns SL_OK
** when the file was written, replaced, made or removed, or its -wal
** written, since the last call (look for new rows: filter.after_id), SL_DONE
** when timeout_ms (-1: none) passed first or a signal interrupted the
** wait, and SL_IOERR (with a message) when inotify fails. The watch
** follows the path, so a file replaced under it is seen too. sl_watch_add
** adds another store to the same watch (a follower of several: a wait
** then wakes for any of them). sl_watch_fd is its descriptor, readable
** when a change waits, for a poll() beside other descriptors. Each watch
** belongs to one thread at a time.
*/
typedef struct sl_watch sl_watch;
int sl_watch_new(const char *path, sl_watch **out);
int sl_watch_add(sl_watch *w, const char *path);
int sl_watch_wait(sl_watch *w, int timeout_ms);
int sl_watch_fd(const sl_watch *w);
const char *sl_watch_errmsg(const sl_watch *w);
void sl_watch_free(sl_watch *w);

/* Count the rows a query would return (limit and offset applied). */
int sl_count(sl_store *store, const sl_filter *f, int64_t *n);

/*
** A summary of the rows a query would return (limit and offset applied)
** that does not depend on their order: *count rows and a 64-bit *digest,
** the sum modulo 2^64 of one FNV-1a (64-bit) hash per row over
**     time 0x00 event_type 0x00 summary 0x00 device_id
** where time is the instant as sl_time_format writes it ("+00:00" form),
** or the stored text when it does not parse, and device_id is in ASCII
** lower case. So two inputs that hold the same events (the same multiset
** of those four fields) give the same count and digest whatever their row
** order, ids and timestamp forms; a row that differs in one of these
** fields changes the digest (but for a 2^-64 chance). Other columns are
** not covered. Streams through a cursor: memory stays flat whatever the
** row count. SL_OK; SL_INVALID for an invalid filter (as sl_query), or a
** cursor's error status, with the message on the store; SL_MISUSE for a
** NULL argument or a closed store. Any of count and digest may be NULL.
*/
int sl_fingerprint(sl_store *store, const sl_filter *f, int64_t *count,
                   uint64_t *digest);

/* The highest id in the store now (0 when it has no row): a follower's
** mark, for filter.after_id. SL_OK, or the store's failure. */
int sl_store_max_id(sl_store *store, int64_t *id);

/* Run SQLite's quick_check. SL_OK when the file is sound; SL_CORRUPT with
** its findings (one per line) appended to `report` otherwise. */
int sl_store_integrity(sl_store *store, sl_buf *report);

/* What a health check reports about the stored timestamps. */
typedef struct sl_time_report {
  int64_t rows;               /* rows in the table                          */
  int64_t noncanonical;       /* parse, but not in to_rfc3339 +00:00 form   */
  int64_t unparsable;         /* do not parse at all                        */
  int64_t first_bad_id[3];    /* ids of the first unparsable rows (0: none) */
} sl_time_report;

/* Scan the timestamps (cached per store and refreshed incrementally when
** the file changes). */
int sl_store_time_report(sl_store *store, sl_time_report *out);

/* ------------------------------------------------------ the fleet store */

/*
** A PostgreSQL database is a store too: sl_store_open takes a
** postgresql:// or postgres:// URI, or libpq's keyword=value pairs, and
** what the URI leaves out comes from libpq's environment (PGHOST, PGUSER,
** ...). It holds the logs of many libraries and devices in one fleet
** schema (README, "A fleet in PostgreSQL"): Spacedrive's columns plus
** library_id, the device's label, the time as timestamptz beside the
** original text, partitioned by month. Read, it answers sl_query,
** sl_count, sl_fingerprint, sl_store_max_id and sl_store_time_report with
** the same rows, in the same order, as the SQLite stores pushed into it;
** opened to write (SL_OPEN_WRITE) it makes the schema when missing and
** takes sl_store_push and sl_store_prune (which drops whole months). A
** fleet store does not log (sl_store_append: SL_READONLY) and is not
** watched. Cursors on one handle (and the handles scoped from it) share
** its connection: one thread.
*/

/* Does sl_store_open take `path` for a PostgreSQL database (a
** postgresql:// or postgres:// URI, or libpq keyword=value pairs) rather
** than a file? */
int sl_store_is_database(const char *path);

/* "postgresql" for a fleet store, else "sqlite". */
const char *sl_store_backend(const sl_store *store);

/* One device of a fleet store, as sl_store_devices hands it out: valid
** during the call. */
typedef struct sl_device_info {
  const char *library_id;     /* lowercase hyphenated UUID                  */
  const char *device_id;      /* as its rows have it                        */
  const char *label;          /* the label pushed with it, or NULL          */
} sl_device_info;

/* Call each(ctx, device) for every device of a fleet store (of its scope,
** for a scoped handle), by library, then in the order they were first
** pushed; a non-zero return stops. SL_OK; SL_MISUSE for a SQLite store; or the failure. */
int sl_store_devices(sl_store *store,
                     int (*each)(void *ctx, const sl_device_info *device),
                     void *ctx);

/* A read-only handle on the rows of one library (library_id; NULL: any)
** and one device's log (device_id, as pushed; NULL: any) of fleet store
** `fleet`, sharing its connection: every query is scoped, as if the
** device's own sync.db were read. *out is a new handle to close (NULL on failure, with the
** message on fleet). SL_OK; SL_MISUSE for a SQLite store. */
int sl_store_scope(sl_store *fleet, const char *library_id,
                   const char *device_id, sl_store **out);

typedef struct sl_push_result {
  int64_t read;               /* rows of the source read                    */
  int64_t inserted;           /* of them, new to the fleet                  */
  int64_t duplicates;         /* already there (same device, instant, type
                                 and summary), or twice in the source     */
  int64_t after_id;           /* the source's rows up to this id were
                                 pushed before and are not read (0: none) */
} sl_push_result;

/* What sl_store_push files the rows under. Zero-initialise, then set. */
typedef struct sl_push_opts {
  const char *library_id;     /* the library (a UUID): required            */
  const char *device_id;      /* whose sync.db src is (NULL: none, kept as
                                 ""): a handle scoped to it reads every row
                                 of src, whatever device a row carries    */
  const char *label;          /* the device's label, or NULL               */
  int         once;           /* src is read whole, and no mark is kept:
                                 for a source that is no lasting file (an
                                 export loaded for the push)              */
} sl_push_opts;

/*
** Load store `src` (any store: a sync.db, an import, a fleet's scoped
** handle) into the fleet store `fleet` (opened to write) as opts say. One
** transaction: every row or none. The rows go through COPY into a
** staging table, and from there in only when new: a row with the same
** device, instant, type and summary as one of the device's log in the
** fleet (or earlier in the source) is a duplicate, as sl_import_commit
** decides, so pushing again adds nothing. The fleet remembers how far it
** has read each source file (by its identity and first row), and a later
** push reads only what came after. SL_OK with the counts (out may be
** NULL); a failure leaves the fleet as it was, the message on fleet.
*/
int sl_store_push(sl_store *fleet, sl_store *src, const sl_push_opts *opts,
                  sl_push_result *out);

/* ------------------------------------------------------ batch aggregation */

/*
** Each writable store aggregates per-record ingestion into batch_ingestion
** events, as Spacedrive's BatchAggregator does: records accumulate per key
** (peer, and session when given) and per model type; a key is flushed as
** one event when it reaches batch_records, every batch_interval, on every
** state transition emitted through sl_emit_state_transition, and on
** sl_batch_flush_all or close. The event carries the per-model counts (in
** the summary, and in details {"models":{...}}), record_count, duration_ms
** since the key's first record, model_types (by count, descending, then
** name), the peer and the session's correlation id. A peer or session
** that is a UUID is one key in every spelling (it is stored canonical).
**
** Every function takes `at`, the instant the records arrive (0 = now):
** replays and simulators drive a virtual clock through it; the interval
** flush is checked on each call, and for a real-time store (at = 0) also
** by the writer thread. Safe from any thread, and none of them blocks:
** each queues its request for the writer thread, which keeps the
** aggregator and writes the batch events in the queue's order (so the
** events of a state transition come after the batches it flushed). The
** records count toward the queue's capacity: SL_FULL when it is full (the
** records dropped, counted in sl_stats.dropped and reported as a
** sync_error), SL_INVALID for a store without a device_id (batch events
** need one), with the message in sl_thread_errmsg.
*/
int sl_batch_add(sl_store *store, const char *model_type, int64_t count,
                 const char *peer, const char *correlation_id, int64_t at);

/* Flush keys whose interval is over (sl_batch_add does this itself). */
int sl_batch_tick(sl_store *store, int64_t at);

/* Flush every pending key now. */
int sl_batch_flush_all(sl_store *store, int64_t at);

/* Bytes the aggregator holds for pending batches, and their key count,
** once the writer has taken everything queued before the call (it waits,
** as sl_store_flush does). 0 and 0 for a read-only or closed store. */
size_t sl_batch_memory(sl_store *store, size_t *keys);

/* ------------------------------------------------------------- emitters */

/* The sync engine's states, written as Spacedrive's Debug form. */
typedef enum sl_state_kind {
  SL_STATE_UNINITIALIZED, SL_STATE_BACKFILLING, SL_STATE_CATCHING_UP,
  SL_STATE_READY, SL_STATE_PAUSED
} sl_state_kind;

typedef struct sl_state {
  sl_state_kind kind;
  const char   *peer;            /* Backfilling: the peer                   */
  int           progress;        /* Backfilling: 0-100                      */
  int64_t       buffered_count;  /* CatchingUp: updates buffered            */
} sl_state;

/* "Backfilling { peer: <uuid>, progress: 0 }", "Ready", ... into b. */
void sl_state_write(sl_buf *b, const sl_state *state);

/* A candidate for backfill, as Spacedrive's PeerInfo. */
typedef struct sl_peer_candidate {
  const char *device_id;
  int         is_online;
  int         has_complete_state;
  float       latency_ms;        /* f32, as Spacedrive: widened in JSON     */
  int         active_syncs;
} sl_peer_candidate;

/* Spacedrive's score (f32): 1000 / max(latency, 1) when latency > 0, + 100
** with complete state, - 10 per active sync. */
float sl_peer_score(const sl_peer_candidate *c);

/* Spacedrive's selection: online peers only, highest score first, a stable
** order (ties and NaN keep input order). *selected is the index in `c`.
** SL_NOTFOUND when no peer is online. */
int sl_peer_select(const sl_peer_candidate *c, size_t n, size_t *selected);

/*
** Typed emitters. Each appends one event in Spacedrive's exact form
** (compat section 4) -- summary text, details keys, category and severity
** -- plus what the documentation promises and the code lacks (the score of
** each candidate, backfill_session_failed, the catch-up and network
** events). `session` is the correlation id (NULL for none); `at` the
** event's instant (0 = now). Returns what sl_store_append returns.
*/
int sl_emit_state_transition(sl_store *store, const sl_state *from,
                             const sl_state *to, const char *reason,
                             int64_t at);
int sl_emit_backfill_started(sl_store *store, const char *session,
                             int64_t peer_count, int64_t at);
int sl_emit_peer_selected(sl_store *store, const char *session,
                          const sl_peer_candidate *c, size_t n,
                          size_t selected, int64_t at);
/* record_count < 0: absent (Spacedrive writes none). */
int sl_emit_backfill_completed(sl_store *store, const char *session,
                               const char *peer, int64_t duration_ms,
                               int64_t record_count, int64_t at);
int sl_emit_backfill_failed(sl_store *store, const char *session,
                            const char *peer, const char *reason,
                            int64_t duration_ms, int64_t at);
int sl_emit_catch_up_started(sl_store *store, const char *session,
                             const char *peer, int64_t at);
int sl_emit_catch_up_completed(sl_store *store, const char *session,
                               const char *peer, int64_t record_count,
                               int64_t duration_ms, int64_t at);
int sl_emit_backfill_request_sent(sl_store *store, const char *session,
                                  const char *peer, const char *model_type,
                                  int64_t at);
int sl_emit_backfill_request_received(sl_store *store, const char *session,
                                      const char *peer,
                                      const char *model_type, int64_t at);
int sl_emit_backfill_response_sent(sl_store *store, const char *session,
                                   const char *peer, const char *model_type,
                                   int64_t record_count, int64_t duration_ms,
                                   int64_t at);
int sl_emit_peer_connected(sl_store *store, const char *peer, int64_t at);
int sl_emit_peer_disconnected(sl_store *store, const char *peer,
                              const char *reason, int64_t at);
/* max_buffer_size: what Spacedrive writes there (the buffer's length). */
int sl_emit_buffer_overflow(sl_store *store, int64_t dropped,
                            int64_t max_buffer_size, int64_t at);
int sl_emit_stuck_dependencies(sl_store *store, int64_t total_dependencies,
                               int64_t total_waiting_updates, int64_t at);
/* age_days < 0: no watermark at all (Spacedrive writes 106751991167). */
int sl_emit_watermark_too_old(sl_store *store, const char *peer,
                              int64_t age_days, int64_t threshold_days,
                              int64_t at);

/* ------------------------------------------------------------ timeline */

/*
** Several devices' logs as one timeline: a streaming k-way merge of
** cursors, ordered by instant minus each source's clock offset (ns), ties
** kept in source order, rows of unknown time last. The merge owns the
** cursors (closed by sl_merge_free, even when sl_merge_new fails); each
** must run in the merge's direction (ascending unless `descending`).
*/
typedef struct sl_merge sl_merge;
int sl_merge_new(sl_cursor **cursors, const int64_t *offsets, size_t n,
                 int descending, sl_merge **out);

/* SL_ROW with the row (valid until the next call), the index of its
** source and its adjusted instant; SL_DONE; or a cursor's error status. */
int sl_merge_next(sl_merge *m, size_t *source, const sl_event **ev,
                  int64_t *adjusted);
const char *sl_merge_errmsg(const sl_merge *m);
void sl_merge_free(sl_merge *m);

/* --------------------------------------------------------------- import */

/*
** Insert events synchronously on the caller's connection, in one
** transaction (BEGIN IMMEDIATE ... COMMIT): all of them or, on any
** failure, none. Not through the logger's queue, and for the thread that
** owns the handle, like a query. Each row is written as the writer thread
** writes it: the timestamp anew from its instant in to_rfc3339 "+00:00"
** form (an event with no timestamp: its `instant` if has_instant, else
** now), UUIDs lowercase and hyphenated, details compact with sorted keys,
** category and severity defaulting to the type's, the device to the
** store's, model_types "" stored as NULL.
**
** Every event is validated first (sl_event_validate, and a device from the
** event or the store): the first bad one refuses the whole call with
** SL_INVALID and "event N: <what is wrong>" (N counting from 1) as the
** store's message, before anything is written.
**
** With skip_duplicates, an event with the same device, instant, type and
** summary as a row already stored, or as one inserted earlier in the same
** call, is skipped and counted; rows other programs stored in other forms
** ("Z", offsets, short fractions) are compared by instant. Events appended
** to the logger and not yet flushed are not seen.
**
** *inserted and *skipped (either may be NULL) are set on success, 0 on
** failure. SL_READONLY for a store opened read-only (or a file the system
** will not let us write); SL_BUSY when another connection holds the write
** lock past the busy timeout; SL_MISUSE for a closed store. Reads evs
** only; the caller keeps ownership of everything.
*/
int sl_store_insert(sl_store *store, const sl_event *evs, size_t n,
                    int skip_duplicates, size_t *inserted, size_t *skipped);

/*
** A streaming import: events added a chunk at a time, in any number of
** calls, then written into a store at once -- for input too large to hold
** (an export read as a stream). Added events are checked and held aside
** in a private temporary SQLite file (SQLite's temporary folder:
** SQLITE_TMPDIR, TMPDIR, /var/tmp, /tmp), so memory stays flat whatever
** their number; the store is touched only by sl_import_commit, which
** writes them all in one transaction (BEGIN IMMEDIATE ... COMMIT), each
** row as sl_store_insert writes it, all of them or, on any failure, none.
** An import is for one thread at a time; it needs no store until commit.
**
** sl_import_new: flags are SL_IMPORT_SKIP_DUPLICATES (what
** sl_store_insert's skip_duplicates does, across every chunk: an event
** already stored or written earlier in the commit is skipped and counted)
** and SL_IMPORT_BY_TIME (write oldest first, by instant, events of one
** instant in the order they were added; else in the order added). *out
** receives the import even on failure (NULL only without memory), for
** sl_import_errmsg: free it in every case.
**
** sl_import_add: reads evs only, and copies what it keeps. Each event is
** checked as sl_event_validate checks it; the first bad one refuses the
** call with SL_INVALID and "event N: <what is wrong>", N counting every
** event added to the import from 1, and nothing of that call is kept (the
** import goes on). A failure of the temporary file (SL_IOERR: a full
** disk) ends the import: later calls return SL_MISUSE.
**
** sl_import_commit: SL_OK with the counts (either pointer may be NULL),
** after which the import takes no more; or the failure, nothing written
** and the events still held, so that commit may be tried again (after
** SL_BUSY, say). Failures are those of sl_store_insert -- SL_READONLY,
** SL_BUSY, SL_IOERR for a write the disk refuses (full, or an I/O error),
** SL_INVALID for an event without a device on a store that has none --
** with the message both on the import and on the store. Into a table
** synclua made that has no row yet (and no sqlite_stat1, nor a UNIQUE
** index), the rows go in without the table's indexes, which are made again from
** their own CREATE INDEX before COMMIT, in the same transaction: several
** times faster, and the same store (the indexes come after any other
** object sqlite_master lists after them).
** While it writes, the store's connection has a page cache of 16 MiB
** (its own setting is put back).
**
** sl_import_add_text: the events of an export's text added as
** sl_import_add adds them, read here rather than by the caller, for speed:
** text[0..len) in `format` -- SL_IMPORT_JSON, elements of a JSON array
** (what lies between its brackets, each element followed by a comma or by
** the end of the text); SL_IMPORT_NDJSON, whole lines of one object each;
** SL_IMPORT_SQL, INSERT statements as `sd sync events --format sql`
** writes them; SL_IMPORT_CSV, records of `synclua events -f csv` after
** its header, each ending with a line break -- the events synclua's Lua
** importer reads from the same text, as the same sl_event (a JSON event
** without a device_id gets `device`, or is not read when that is NULL).
** It reads from the start and stops before the first thing it does not
** take: a bad event, one the import refuses, a statement that is not an
** INSERT, a record the text cuts short, or a layout it does not follow
** (an escaped or repeated JSON key, say). The events before it are added
** (at most 8,192 a call); *used is the number of bytes read (up to and
** with the separator after the last event added, 0 when none was) and
** *added how many events (either pointer may be NULL). The caller reads
** on from there its own way, which names any trouble. SL_OK whatever was
** taken; SL_MISUSE for an unknown format; SL_NOMEM; or a failure of the
** temporary file, as sl_import_add's. Reads text only.
**
** sl_import_errmsg: the message of the import's last failure ("" if none;
** "out of memory" for NULL), valid until its next call. sl_import_count:
** the events added so far. sl_import_free accepts NULL; freeing an import
** not committed discards its events, and the store never saw them.
*/
typedef struct sl_import sl_import;
enum { SL_IMPORT_SKIP_DUPLICATES = 1, SL_IMPORT_BY_TIME = 2 };
enum { SL_IMPORT_JSON = 1, SL_IMPORT_NDJSON, SL_IMPORT_SQL, SL_IMPORT_CSV };
int sl_import_new(unsigned flags, sl_import **out);
int sl_import_add(sl_import *im, const sl_event *evs, size_t n);
int sl_import_add_text(sl_import *im, int format, const char *text,
                       size_t len, const char *device, size_t *used,
                       size_t *added);
int sl_import_commit(sl_import *im, sl_store *store, size_t *inserted,
                     size_t *skipped);
size_t sl_import_count(const sl_import *im);
const char *sl_import_errmsg(const sl_import *im);
void sl_import_free(sl_import *im);

#endif
