/*
** sli.h -- libsynclua's private cross-file declarations (core/ only).
**
** The store (sl_store.c) owns two SQLite connections: the caller's, used for
** queries, counts and on-demand pruning from the thread that owns the
** handle, and the writer's, used only by the writer thread (sl_writer.c).
** Both have synclua's SQL functions registered (sl_sqlfunc.c).
*/
#ifndef SLI_H
#define SLI_H

#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>

#include <synclua/net.h>
#include <synclua/redact.h>

#define SLI_ERRMSG_MAX 512
#define SLI_STMT_CACHE 16

/* The DDL, exactly as Spacedrive runs it on every open: the table, then
** the indexes (Spacedrive's five and ours; every one on a store we create,
** ours on another only when asked). */
extern const char sli_schema_sql[];
extern const char sli_index_sql[];

/* C99 has no atomics; GCC's and Clang's __atomic builtins stand in. */
#define SLI_LOAD(p)     __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define SLI_STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)

typedef struct sli_writer sli_writer;
typedef struct sli_pg sli_pg;
typedef struct sli_pgcur sli_pgcur;
typedef struct sli_batches sli_batches;

/* The distinct rows a store's cursors handed out read leniently are kept
** by id up to this many (sl_store_bad_rows); past it the count is a lower
** bound. 1 MiB of set at most. */
#define SLI_BAD_IDS_MAX 65536

/* A set of row ids: open addressing, linear probing, no removal. */
typedef struct sli_idset {
  int64_t *slots;             /* cap slots; 0 marks an empty one            */
  size_t   cap;               /* a power of two; 0 before the first id      */
  size_t   n;                 /* ids held, id 0 included                    */
  int      has_zero;          /* id 0 (no slot can hold it) is held         */
} sli_idset;

typedef struct sli_stmt_slot {
  char         *sql;          /* the text the statement was prepared from   */
  sqlite3_stmt *stmt;         /* NULL when the slot is empty                */
  int           in_use;       /* a cursor is stepping it                    */
  unsigned      last_used;    /* for least-recently-used eviction           */
} sli_stmt_slot;

/* The files a connection had open when it was made (sl_follow.c): the
** database, its -wal and its -shm, by device and inode. */
typedef struct sli_files {
  dev_t dev[3];
  ino_t ino[3];
  int   known[3];             /* the file was there (a regular file)        */
  int   wal_noted;            /* the -wal and -shm noted: the connection had
                                 them open (else note again later)         */
} sli_files;

/* lstat of PATH + suffix into st, the name made in name[PATH_MAX]: 0, or
** -1 with errno (ENAMETOOLONG when the name does not fit). */
int sli_stat_beside(const char *path, const char *suffix, char *name,
                    struct stat *st);
/* Note the files db has open now: its database file (by SQLite's name
** for it, links resolved), and the -wal and -shm beside that once db has
** them open (f->wal_noted; until then call it again after a query, while
** the file has not moved). Only a file db holds open keeps its inode
** number: one it let go of may lend it to the next file made. */
void sli_files_note(sqlite3 *db, sli_files *f);
/* Is the file db has open no longer the one at its path (replaced,
** renamed or deleted)? */
int sli_db_moved(sqlite3 *db);
/* If db's file has moved, let go of the names it held: its -wal is kept
** (checkpointed into it as far as readers allow, and not removed when db
** closes), and the -wal and -shm beside its name are removed when they are
** the ones f noted -- before anything opens the file now at the path,
** which would otherwise take them for its own. db stays usable on the old
** file through what it has open. Returns whether it had moved. */
int sli_db_let_go(sqlite3 *db, const sli_files *f);
/* sli_db_let_go, then close db (sqlite3_close_v2; NULL is fine). */
int sli_db_close(sqlite3 *db, const sli_files *f);

struct sl_store {
  pthread_mutex_t refs_lock;  /* guards refs: cursors may die anywhere      */
  int             refs;       /* the caller's handle + open cursors         */
  int             closed;     /* sl_store_close was called (atomic: appends
                                 on other threads read it)                 */
  int             readonly;   /* opened to analyse: never writes            */
  int             immutable;  /* read as it stands (sl_store_immutable)     */
  char           *path;       /* the resolved sync.db path                  */
  char            identity[48]; /* "DEV:INO" of the file db has, else ""   */
  sli_files       files;      /* what db had open when it was made          */
  char           *device_id;  /* default device for appends, or NULL        */
  sl_open_opts    opts;       /* with defaults filled in                    */
  sqlite3        *db;         /* the caller's connection                    */
  sli_writer     *writer;     /* NULL for a read-only store                 */
  sli_pg         *pg;         /* a PostgreSQL store: its connection (shared
                                 with the handles scoped from it), else
                                 NULL and db is the store (sl_pg.c)       */
  char           *pg_library; /* scope: only this library_id, or NULL      */
  char           *pg_device;  /* scope: only this device_id, or NULL       */
  char            errmsg[SLI_ERRMSG_MAX]; /* last failure on this handle    */

  sli_stmt_slot   stmts[SLI_STMT_CACHE];  /* prepared statements by text    */
  unsigned        stmt_clock;             /* ticks for LRU                  */

  /* What we know of the stored timestamps (sl_store.c, "stored
  ** timestamps"): the rows classified are those with id > ts_checked_id's
  ** first value (ts_base_id) up to ts_checked_id, and those up to
  ** ts_base_id whose text is >= ts_cover -- every one once ts_full. The
  ** counts and ids below are of the rows classified. */
  int             ts_known;        /* ts_* below are valid                  */
  int             ts_full;         /* every row up to ts_checked_id         */
  int64_t         ts_data_version; /* PRAGMA data_version when last checked */
  int64_t         ts_base_id;      /* the highest id at the first look      */
  int64_t         ts_checked_id;   /* highest id classified                 */
  char            ts_cover[24];    /* "YYYY-MM-DD HH:MM:SS": see above      */
  int64_t         ts_noncanonical; /* parsable, not to_rfc3339 +00:00       */
  int64_t         ts_unparsable;   /* not RFC 3339 at all                   */
  int64_t         ts_first_bad[3]; /* ids of the first unparsable rows      */

  /* The rows out of (timestamp, id) order -- each with a row of an
  ** earlier time and a higher id -- in temp.sl_late, for the probe's check
  ** (sl_query.c, edge_holds): built once the checks it saves have walked
  ** as many index entries as the store has rows, kept up with appended
  ** rows, forgotten with ts_*. */
  int             late_known;      /* temp.sl_late holds them               */
  int64_t         late_checked_id; /* every row up to this id looked at     */
  int64_t         late_run;        /* the token of sl_late's last pass      */
  int64_t         probe_work;      /* index entries the checks walked       */

  /* Which of synclua's (value, timestamp) indexes the file has, for the
  ** query planner: SLI_IDX_* bits, valid while indexes_known. */
  int             indexes_known;
  int             indexes;

  /* The bad rows its cursors handed out, each counted once however many
  ** queries read it (sl_store_bad_rows). A cursor may be on another thread
  ** than the caller asking, so bad_lock guards them; appends never take
  ** it. */
  pthread_mutex_t bad_lock;        /* guards bad_* below                    */
  sli_idset       bad_ids;         /* their ids, at most SLI_BAD_IDS_MAX    */
  sl_bad_rows     bad;             /* their count, columns, smallest ids    */
  int             bad_first_n;     /* ids in bad.first_ids                  */
  int             bad_capped;      /* an id could not be kept: count is a
                                      lower bound                          */

  sl_redactor    *redactor;        /* its cursors hand out rows redacted
                                      (sl_store_redact), or NULL; not owned */
};

/* SL_MISUSE (with the message) for a closed store; else SL_OK, the
** caller's connection first following the file at the path if it was
** replaced or deleted (and no cursor is reading it). For the calls of the
** thread that owns the handle. */
int sli_store_usable(sl_store *s);

/* A new connection for the writer thread to the file now at s's path,
** made as sl_store_open makes the writer's (the file created with the
** schema if it is gone, unless no_create). s is only read; what went
** wrong goes to msg[SLI_ERRMSG_MAX], without the path. */
int sli_store_open_writer_db(const sl_store *s, sqlite3 **out, char *msg);

/* Set this thread's message (sl_thread_errmsg; printf-style) and return
** `status`: the failures of the calls that are safe from any thread. */
int sli_fail_here(int status, const char *fmt, ...)
#ifdef __GNUC__
  __attribute__((format(printf, 2, 3)))
#endif
  ;

/* Set the store's message (printf-style) and return `status`. */
int sli_fail(sl_store *s, int status, const char *fmt, ...)
#ifdef __GNUC__
  __attribute__((format(printf, 3, 4)))
#endif
  ;

/* Map an SQLite result code to a status, and record "<path>: <sqlite
** message>" (with an optional context prefix) on the store. */
int sli_sqlite_fail(sl_store *s, sqlite3 *db, int rc, const char *context);
int sli_status_from_sqlite(int rc);

/* Register sl_instant(text), sl_ts_class(text) and sl_late(id, run) on a
** connection (sl_sqlfunc.c). */
int sli_register_functions(sqlite3 *db);

/* sl_ts_class: 0 canonical (to_rfc3339 +00:00, so text order is time
** order), 1 parses but other form, 2 does not parse. */
int sli_ts_class(const char *text, size_t len, int64_t *instant);

/* Count a row a cursor of s hands out with ev->bad set in the store's
** tally (sl_store_bad_rows), under bad_lock. */
void sli_store_note_bad(sl_store *s, const sl_event *ev);

#define SLI_IDX_SEVERITY_TIME 1
#define SLI_IDX_TYPE_TIME     2
#define SLI_IDX_PEER_TIME     4

/* Bring ts_* up to date with the file, every row classified (cheap when
** nothing changed). */
int sli_ts_refresh(sl_store *s);
/* The same for the rows whose text is of a local time at or after cover
** ("YYYY-MM-DD HH:MM:SS"), in any form, and the rows added since the first
** look: enough for an answer within a window of time. */
int sli_ts_cover(sl_store *s, const char *cover);
/* Forget what ts_* knew (rows deleted, a transaction rolled back). */
void sli_ts_forget(sl_store *s);

/* Run sql on the caller's connection with integer parameters ?1..?n
** (v[0..n)) to its first row: that row's first column into *out (when out
** is not NULL), or `none` without a row or for a NULL. SL_OK, or the
** failure with "PATH: why" on the store. */
int sli_run(sl_store *s, const char *sql, int n, const int64_t *v,
            int64_t none, int64_t *out);

/* The statement cache of the caller's connection. sli_stmt_get prepares or
** reuses a statement for `sql` and marks it in use; sli_stmt_put resets it,
** clears its bindings and gives it back. */
int sli_stmt_get(sl_store *s, const char *sql, sqlite3_stmt **out);
void sli_stmt_put(sl_store *s, sqlite3_stmt *stmt);

/* The writer thread (sl_writer.c). */
int sli_writer_start(sl_store *s, sqlite3 *db, sli_writer **out);
int sli_writer_append(sli_writer *w, const sl_event *ev, const char *device);
/* Queue one sl_batch_add for the aggregator, or a tick (flush 0) or a
** flush of every pending batch (flush 1), at `at` (0: now): lock-free, and
** without allocation unless model, peer and session take more than 96
** bytes. SL_OK; SL_FULL or SL_NOMEM (dropped and counted); SL_MISUSE once
** stopping. */
int sli_writer_add_records(sli_writer *w, const char *model, int64_t count,
                           const char *peer, const char *session,
                           int64_t at);
int sli_writer_batches(sli_writer *w, int flush, int64_t at);
/* The aggregator's memory once everything queued before the call is
** sealed (sli_batches_memory). */
size_t sli_writer_batch_memory(sli_writer *w, size_t *keys);
/* Wait until every event appended before the call is sealed, or until
** the instant `deadline` (INT64_MAX: no deadline): SL_OK, SL_TIMEOUT, or
** the last write error's status. */
/* Why, when events failed, goes to why[SLI_ERRMSG_MAX]. */
int sli_writer_flush(sli_writer *w, int64_t deadline, char *why);
void sli_writer_stats(sli_writer *w, sl_stats *out);
/* Flush (why as for flush), join, close its connection. */
int sli_writer_stop(sli_writer *w, char *why);
void sli_writer_free(sli_writer *w); /* after stop, once no one appends   */
void sli_writer_schedule_prune(sli_writer *w); /* auto-prune from now on   */

/* Deleting by instant, shared by sl_store_prune and the writer's hourly
** pass. Counts only when dry_run. Reports failures through the store when
** s is non-NULL. */
int sli_prune(sqlite3 *db, sl_store *s, int64_t cutoff, int dry_run,
              sl_prune_result *out);

/* sl_event_validate, optionally without parsing details. */
int sli_event_check(const sl_event *ev, int check_details, char *err,
                    size_t errsz);

/* The batch aggregator (sl_batch.c), the writer thread's own. `at` 0
** means now; realtime says `at` was read from the clock (a caller's 0),
** which makes the aggregator real-time; a tick with only_realtime (the
** writer's own) touches only such an aggregator. Each batch event goes to
** the sink, with its instant. sli_batches_memory alone is for any thread:
** what the writer published after its last call. */
typedef int (*sli_batch_sink)(void *ctx, const sl_event *ev, int64_t at);
int sli_batches_new(const sl_open_opts *opts, sli_batch_sink sink,
                    void *ctx, sli_batches **out);
void sli_batches_free(sli_batches *g);
int sli_batches_add(sli_batches *g, const char *model, int64_t count,
                    const char *peer, const char *session, int64_t at,
                    int realtime);
int sli_batches_tick(sli_batches *g, int64_t at, int realtime,
                     int only_realtime);
int sli_batches_flush_all(sli_batches *g, int64_t at, int realtime);
size_t sli_batches_memory(sli_batches *g, size_t *keys);

/* Rows as we store them (sl_row.c): the INSERT of every column but id,
** and the binding of an event to it. */
extern const char sli_insert_sql[];

/* The text an event is stored under, for finding it again: its time in
** to_rfc3339 form and its device (ev's, else `device`), lowercase
** hyphenated when a UUID (device_id points into dev then). */
typedef struct sli_row_id {
  char        ts[SL_TIME_BUFSZ];
  char        dev[SL_UUID_BUFSZ];
  const char *device_id;      /* NULL when neither has one                  */
  size_t      device_len;
} sli_row_id;

void sli_row_text(const sl_event *ev, int64_t instant, const char *device,
                  sli_row_id *out);

/* Bind ev, at `instant`, to a statement of sli_insert_sql: category and
** severity the type's defaults when absent, device_id `device` when
** absent, details canonical (made in json, which must outlive the step).
** SL_OK; SL_INVALID for details that are not JSON (message in err, the
** bindings cleared); SL_NOMEM. */
int sli_bind_event(sqlite3_stmt *st, const sl_event *ev, int64_t instant,
                   const char *device, sl_buf *json, char *err,
                   size_t errsz);

/* A protocol position {"timestamp":"<Z>","id":N} (sl_proto.c). */
void sli_put_position(sl_buf *b, int64_t instant, int64_t id);

/* Sockets (sl_net.c). An address is "HOST:PORT" or "[V6HOST]:PORT".
** sli_listen binds and listens (port 0: the system picks) and writes the
** bound address into `bound`; sli_connect connects within timeout_ms.
** Both return a socket, or -1 with the reason in err (-2 when the address
** itself is no HOST:PORT: bad input rather than the system failing). */
int sli_listen(const char *address, char *bound, size_t boundsz,
               char *err, size_t errsz);
int sli_connect(const char *address, int timeout_ms, char *err,
                size_t errsz);

/* Store one response's events in dest as the fetcher does (sl_fetch.c):
** at most `asked`, each the responding device's, oldest first (a page
** comes newest first when newest_first; a follow frame is oldest first
** already), duplicates skipped. SL_OK, or a status and the message in err;
** the events read and the rows made are added to *received and *inserted
** either way. For sl_fetch and the follower (sl_fetch_follow.c). */
int sli_fetch_store(sl_store *dest, const sl_response *res, uint32_t asked,
                    int newest_first, int64_t *received, size_t *inserted,
                    char *err, size_t errsz);
/* The frame in `in` read as the answer to a request about `library`: parsed
** into m (in is freed: one frame's bytes held at a time), an
** EventLogResponse, for that library. SL_OK, or a status and the message
** in err. */
int sli_fetch_response(sl_buf *in, const char *library, sl_message *m,
                       char *err, size_t errsz);
/* The other end of a connected socket as "HOST:PORT". */
void sli_peer_name(int fd, char *out, size_t outsz);

/* ------------------------------------------------- PostgreSQL (sl_pg.c) */

/* The PostgreSQL backend (sl_pg.c, sl_pg_push.c) is referenced weakly from
** the rest of the core: a program that links the static library and never
** calls one of its public functions (sl_store_push, sl_store_devices, ...)
** carries neither it nor libpq, and then these are NULL -- sl_store_open
** reads every path as a file. Only code that holds a PostgreSQL store
** (s->pg) calls them without looking. */
#ifdef __GNUC__
#define SLI_WEAK __attribute__((weak))
#else
#define SLI_WEAK
#endif

/* Connect s (path, opts and mode set) to the database `conninfo` names:
** reading checks the fleet table is there; writing makes the fleet schema
** when it is missing. SL_OK, or the failure on s. */
int sli_pg_open(sl_store *s, const char *conninfo) SLI_WEAK;
/* Let go of s's share of its connection (the last one closes it). */
void sli_pg_release(sl_store *s) SLI_WEAK;
/* The filter checks every backend makes (sl_query.c): SL_OK, or
** SL_INVALID with the message on s. */
int sli_filter_check(sl_store *s, const sl_filter *f);
/* A cursor's rows from PostgreSQL: start it (the filter is copied: the
** caller's may go), the next row into ev (SL_ROW, SL_DONE or a failure
** with the message in errmsg), start again from the first row (the
** second read of skipped_last), and close. */
int sli_pg_query(sl_store *s, const sl_filter *f, sli_pgcur **out,
                 int64_t *unparsable) SLI_WEAK;
int sli_pg_next(sli_pgcur *pc, sl_event *ev, sl_buf *fix, char *errmsg) SLI_WEAK;
void sli_pg_rewind(sli_pgcur *pc) SLI_WEAK;
void sli_pg_close(sli_pgcur *pc) SLI_WEAK;
int sli_pg_count(sl_store *s, const sl_filter *f, int64_t bound,
                 int64_t *n) SLI_WEAK;
int sli_pg_max_id(sl_store *s, int64_t *id) SLI_WEAK;
int sli_pg_time_report(sl_store *s, sl_time_report *out) SLI_WEAK;
int sli_pg_prune(sl_store *s, int64_t cutoff, int dry_run,
                 sl_prune_result *out) SLI_WEAK;
/* sl_store_open asks this of every path (NULL without the backend). */
int sl_store_is_database(const char *path) SLI_WEAK;

/* FNV-1a over s[0..n) from h (lower: ASCII letters folded to lowercase):
** the fingerprint's row hash (sl_query.c), and keys elsewhere. */
#define SLI_FNV_OFFSET UINT64_C(14695981039346656037)
#define SLI_FNV_PRIME  UINT64_C(1099511628211)
uint64_t sli_fnv1a(uint64_t h, const char *s, size_t n, int lower);

/* Copy a string with malloc; NULL in, NULL out. */
char *sli_strdup(const char *s);

/* Milliseconds on the monotonic clock (sl_time.c): for deadlines. */
int64_t sli_mono_ms(void);

/* Decode the body of a JSON string, s..q (between its quotes, without a
** raw control character), into out (room for q - s bytes), its length in
** *outlen: SLI_JSTR_OK, or what is wrong at *at (the byte, or the
** backslash of the escape; *cp_out the \u value of a surrogate). The one
** decoder of sl_json_parse and of the import's export reader. */
enum { SLI_JSTR_OK, SLI_JSTR_UTF8, SLI_JSTR_U_ESCAPE, SLI_JSTR_SURROGATE,
       SLI_JSTR_ESCAPE };
int sli_json_unescape(const char *s, const char *q, char *out,
                      size_t *outlen, const char **at, long *cp_out);

/* UTF-8 (sl_json.c): the length of the longest well-formed prefix of
** s[0..len) (len when it all is), and s appended to b with each maximal
** ill-formed subpart replaced by U+FFFD (as sl_json_write_string does). */
size_t sli_utf8_valid_prefix(const char *s, size_t len);

/* Append n bytes: a plain copy when there is room (the export's hot path
** is many short pieces), else sl_buf_append, which grows the buffer. */
static inline void sli_put(sl_buf *b, const char *bytes, size_t n) {
  if (!b->oom && b->cap - b->len > n) {
    memcpy(b->data + b->len, bytes, n);
    b->len += n;
    b->data[b->len] = '\0';
  } else {
    sl_buf_append(b, bytes, n);
  }
}

/* sli_put of a string literal. */
#define SLI_PUT(b, lit) sli_put((b), (lit), sizeof(lit) - 1)

/* s[0..n) lowercased as Rust's str::to_lowercase does it, appended to b
** (sl_case.c). */
void sli_lowercase(sl_buf *b, const char *s, size_t n);
void sli_utf8_lossy(sl_buf *b, const char *s, size_t len);

#endif
