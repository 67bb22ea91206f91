/*
** sl_store.c -- the store: opening a sync.db (or a library folder holding
** one) with Spacedrive's schema, read-only opening that never writes a
** byte, opening to write that alters a store it did not create no further
** than asked, reference counting shared with cursors, the caller
** connection's statement cache, what is known of the stored timestamps,
** the tally of the bad rows its cursors handed out, and pruning.
*/
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sli.h"

/* Spacedrive's DDL (peer_log.rs): the table, then its five indexes and our
** own for the query patterns synclua serves: newest first by severity, by
** type, by peer. */
#define TABLE_DDL \
  "CREATE TABLE IF NOT EXISTS sync_event_log (\n" \
  "  id INTEGER PRIMARY KEY AUTOINCREMENT,\n" \
  "  timestamp TEXT NOT NULL,\n" \
  "  device_id TEXT NOT NULL,\n" \
  "  event_type TEXT NOT NULL,\n" \
  "  category TEXT NOT NULL,\n" \
  "  severity TEXT NOT NULL,\n" \
  "  summary TEXT NOT NULL,\n" \
  "  details TEXT,\n" \
  "  correlation_id TEXT,\n" \
  "  peer_device_id TEXT,\n" \
  "  model_types TEXT,\n" \
  "  record_count INTEGER,\n" \
  "  duration_ms INTEGER\n" \
  ");\n"

#define SPACEDRIVE_INDEXES \
  "CREATE INDEX IF NOT EXISTS idx_sync_event_log_timestamp" \
  " ON sync_event_log(timestamp);\n" \
  "CREATE INDEX IF NOT EXISTS idx_sync_event_log_device" \
  " ON sync_event_log(device_id);\n" \
  "CREATE INDEX IF NOT EXISTS idx_sync_event_log_type" \
  " ON sync_event_log(event_type);\n" \
  "CREATE INDEX IF NOT EXISTS idx_sync_event_log_correlation" \
  " ON sync_event_log(correlation_id);\n" \
  "CREATE INDEX IF NOT EXISTS idx_sync_event_log_peer" \
  " ON sync_event_log(peer_device_id);\n"

const char sli_schema_sql[] = TABLE_DDL;

/* The indexes go on once the table is known to have every column. */
const char sli_index_sql[] =
  SPACEDRIVE_INDEXES
  "CREATE INDEX IF NOT EXISTS idx_sync_event_log_severity_time"
  " ON sync_event_log(severity, timestamp);\n"
  "CREATE INDEX IF NOT EXISTS idx_sync_event_log_type_time"
  " ON sync_event_log(event_type, timestamp);\n"
  "CREATE INDEX IF NOT EXISTS idx_sync_event_log_peer_time"
  " ON sync_event_log(peer_device_id, timestamp);\n";

const char *sl_spacedrive_ddl(void) { return TABLE_DDL SPACEDRIVE_INDEXES; }

static const char *const columns[] = {
  "id", "timestamp", "device_id", "event_type", "category", "severity",
  "summary", "details", "correlation_id", "peer_device_id", "model_types",
  "record_count", "duration_ms"};

#define DEFAULT_QUEUE     65536
#define DEFAULT_BUSY_MS   5000

char *sli_strdup(const char *s) {
  if (!s) return NULL;
  size_t n = strlen(s) + 1;
  char *p = malloc(n);
  if (p) memcpy(p, s, n);
  return p;
}

/* Each thread's message for the thread-safe calls: a buffer made the first
** time the thread fails, freed when it exits. */
static pthread_key_t thread_msg;
static pthread_once_t thread_msg_once = PTHREAD_ONCE_INIT;

static void make_thread_msg(void) {
  pthread_key_create(&thread_msg, free);
}

static char *thread_buffer(int create) {
  pthread_once(&thread_msg_once, make_thread_msg);
  char *buf = pthread_getspecific(thread_msg);
  if (!buf && create && (buf = calloc(1, SLI_ERRMSG_MAX)) != NULL &&
      pthread_setspecific(thread_msg, buf) != 0) {
    free(buf);
    buf = NULL;
  }
  return buf;
}

const char *sl_thread_errmsg(void) {
  const char *buf = thread_buffer(0);
  return buf ? buf : "";
}

int sli_fail_here(int status, const char *fmt, ...) {
  char *buf = thread_buffer(1);
  if (!buf) return status;    /* no memory for a message: the status says */
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, SLI_ERRMSG_MAX, fmt, ap);
  va_end(ap);
  return status;
}

int sli_fail(sl_store *s, int status, const char *fmt, ...) {
  if (!s) return status;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(s->errmsg, sizeof s->errmsg, fmt, ap);
  va_end(ap);
  return status;
}

int sli_status_from_sqlite(int rc) {
  switch (rc & 0xff) {
  case SQLITE_OK: return SL_OK;
  case SQLITE_NOMEM: return SL_NOMEM;
  case SQLITE_NOTADB: return SL_NOTDB;
  case SQLITE_CORRUPT: return SL_CORRUPT;
  case SQLITE_BUSY: case SQLITE_LOCKED: return SL_BUSY;
  case SQLITE_READONLY: return SL_READONLY;
  case SQLITE_IOERR: case SQLITE_FULL: case SQLITE_CANTOPEN:
    return SL_IOERR;
  case SQLITE_MISUSE: return SL_MISUSE;
  default: return SL_ERROR;
  }
}

int sli_sqlite_fail(sl_store *s, sqlite3 *db, int rc, const char *context) {
  int status = sli_status_from_sqlite(rc);
  const char *msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  if ((rc & 0xff) == SQLITE_NOTADB) msg = "not an SQLite database";
  if ((rc & 0xff) == SQLITE_CORRUPT) msg = "database is corrupt (malformed)";
  if (context)
    return sli_fail(s, status, "%s: %s: %s", s ? s->path : "?", context, msg);
  return sli_fail(s, status, "%s: %s", s ? s->path : "?", msg);
}

/* ------------------------------------------------------------- opening */

/* A folder means the sync.db inside it, as Spacedrive's library layout. */
static int resolve_path(sl_store *s, const char *path) {
  struct stat st;
  if (!path || !*path) return sli_fail(s, SL_INVALID, "empty store path");
  if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
    size_t n = strlen(path);
    s->path = malloc(n + 9);
    if (!s->path) return sli_fail(s, SL_NOMEM, "out of memory");
    memcpy(s->path, path, n);
    strcpy(s->path + n, path[n - 1] == '/' ? "sync.db" : "/sync.db");
  } else {
    s->path = sli_strdup(path);
    if (!s->path) return sli_fail(s, SL_NOMEM, "out of memory");
  }
  if (stat(s->path, &st) == 0) {
    if (!S_ISREG(st.st_mode))
      return sli_fail(s, SL_NOTDB, "%s: not a regular file", s->path);
    return SL_OK;
  }
  if (errno != ENOENT)
    return sli_fail(s, SL_IOERR, "%s: %s", s->path, strerror(errno));
  if (s->readonly || s->opts.no_create)
    return sli_fail(s, SL_NOTFOUND, "%s: no such file", s->path);
  /* Writable: SQLite creates the file, but only inside an existing folder. */
  char *slash = strrchr(s->path, '/');
  if (slash && slash != s->path) {
    *slash = '\0';
    int ok = stat(s->path, &st) == 0 && S_ISDIR(st.st_mode);
    int rc = ok ? SL_OK
                : sli_fail(s, SL_NOTFOUND, "%s: no such folder", s->path);
    *slash = '/';
    return rc;
  }
  return SL_OK;
}

/* Each connection has one thread at a time (the writer's its thread, the
** caller's the caller's, as synclua.h asks), so SQLite's own mutex would only
** cost time: NOMUTEX. */
static int open_connection_to(sl_store *s, const char *name, int flags,
                              sqlite3 **out) {
  sqlite3 *db = NULL;
  int rc = sqlite3_open_v2(name, &db, flags | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK) {
    rc = sli_sqlite_fail(s, db, rc, NULL);
    sqlite3_close_v2(db);
    return rc;
  }
  sqlite3_extended_result_codes(db, 0);
  sqlite3_busy_timeout(db, s->opts.busy_timeout_ms);
  rc = sli_register_functions(db);
  if (rc != SQLITE_OK) {
    rc = sli_sqlite_fail(s, db, rc, NULL);
    sqlite3_close_v2(db);
    return rc;
  }
  *out = db;
  return SL_OK;
}

static int open_connection(sl_store *s, int flags, sqlite3 **out) {
  return open_connection_to(s, s->path, flags, out);
}

/* Is the file in WAL mode (its header's read and write versions 2)? The
** header is read through SQLite, not fopen(): closing any descriptor of a
** file drops every POSIX lock this process holds on it, the shared locks
** of its open connections too, after which another process closing its
** last connection takes itself for the only one and deletes the -wal and
** -shm our connections still read (SQLite's own close defers that). */
static int wal_mode(const char *path) {
  sqlite3 *db = NULL;
  sqlite3_file *file = NULL;
  unsigned char h[20];
  int wal = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY |
                                           SQLITE_OPEN_NOMUTEX, NULL) ==
              SQLITE_OK &&
            sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER,
                                 &file) == SQLITE_OK &&
            file && file->pMethods &&
            file->pMethods->xRead(file, h, sizeof h, 0) == SQLITE_OK &&
            memcmp(h, "SQLite format 3", 16) == 0 && h[18] == 2 &&
            h[19] == 2;
  sqlite3_close_v2(db);
  return wal;
}

/* Is there anything by the name PATH + suffix (a link too, even one to
** nothing)? When it cannot tell, yes: the careful answer. */
static int beside(const char *path, const char *suffix) {
  char name[PATH_MAX];
  struct stat st;
  return sli_stat_beside(path, suffix, name, &st) == 0 || errno != ENOENT;
}

/* Remove PATH + suffix if it is an empty regular file. */
static void remove_empty(const char *path, const char *suffix) {
  char name[PATH_MAX];
  struct stat st;
  if (sli_stat_beside(path, suffix, name, &st) == 0 && S_ISREG(st.st_mode) &&
      st.st_size == 0)
    unlink(name);
}

/* "file:PATH?immutable=1", PATH's '%', '?' and '#' escaped as a URI must
** have them. NULL without memory. */
static char *immutable_uri(const char *path) {
  sl_buf b = {0};
  sl_buf_puts(&b, "file:");
  for (const char *p = path; *p; p++) {
    char esc[4];
    if (*p == '%' || *p == '?' || *p == '#') {
      snprintf(esc, sizeof esc, "%%%02X", (unsigned char)*p);
      sl_buf_puts(&b, esc);
    } else {
      sl_buf_append(&b, p, 1);
    }
  }
  sl_buf_puts(&b, "?immutable=1");
  if (b.oom) {
    sl_buf_free(&b);
    return NULL;
  }
  return b.data;
}

static int check_table(sl_store *s, sqlite3 *db);

/*
** A store opened to read: nothing is written to it, and nothing is left
** beside it that can be avoided (spacedrive-compat.md "Our decisions" 3).
** Three ways, the first that works:
**  - A WAL-mode file with neither -wal nor -shm beside it (no writer has
**    it open) is opened read-write, so that closing removes the -wal and
**    -shm SQLite makes to read it: nothing else is written (the store
**    refuses writes), and with no WAL there is nothing to checkpoint.
**  - Read-only, as SQLite reads a file it may not write.
**  - A WAL-mode file that read-only cannot open (in a folder this process
**    may not write, where no -shm can be made) is read as it stands, with
**    immutable=1; s->immutable says so (sl_store_immutable).
*/
static int open_to_read(sl_store *s) {
  int wal = wal_mode(s->path), rc;
  int had_wal = wal && beside(s->path, "-wal");
  if (wal && !had_wal && !beside(s->path, "-shm")) {
    if (open_connection(s, SQLITE_OPEN_READWRITE, &s->db) == SL_OK &&
        check_table(s, s->db) == SL_OK)
      return SL_OK;
    sqlite3_close_v2(s->db);
    s->db = NULL;
  }
  rc = open_connection(s, SQLITE_OPEN_READONLY, &s->db);
  if (rc == SL_OK) rc = check_table(s, s->db);
  if (rc == SL_OK || !wal) return rc;
  /* The read-only open's failure is the one to tell if this fails too. */
  char msg[SLI_ERRMSG_MAX];
  memcpy(msg, s->errmsg, sizeof msg);
  char *uri = immutable_uri(s->path);
  sqlite3 *db = NULL;
  if (uri && open_connection_to(s, uri, SQLITE_OPEN_READONLY |
                                            SQLITE_OPEN_URI, &db) == SL_OK &&
      check_table(s, db) == SL_OK) {
    sqlite3_close_v2(s->db);
    s->db = db;
    s->immutable = 1;
    s->errmsg[0] = '\0';
    free(uri);
    /* An empty -wal the failed opens made is ours to take back. */
    if (!had_wal) remove_empty(s->path, "-wal");
    return SL_OK;
  }
  free(uri);
  sqlite3_close_v2(db);
  memcpy(s->errmsg, msg, sizeof msg);
  return rc;
}

/* The table must be there with every column Spacedrive writes. */
static int check_table(sl_store *s, sqlite3 *db) {
  sqlite3_stmt *st;
  int found = 0, have[sizeof columns / sizeof *columns] = {0};
  int rc = sqlite3_prepare_v2(db, "PRAGMA table_info(sync_event_log)", -1,
                              &st, NULL);
  if (rc != SQLITE_OK) return sli_sqlite_fail(s, db, rc, NULL);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const char *name = (const char *)sqlite3_column_text(st, 1);
    found = 1;
    for (size_t i = 0; i < sizeof columns / sizeof *columns; i++)
      if (name && strcmp(name, columns[i]) == 0) have[i] = 1;
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return sli_sqlite_fail(s, db, rc, NULL);
  if (!found)
    return sli_fail(s, SL_NOTDB,
                    "%s: no sync_event_log table (not a Spacedrive sync.db)",
                    s->path);
  for (size_t i = 0; i < sizeof columns / sizeof *columns; i++)
    if (!have[i])
      return sli_fail(s, SL_NOTDB, "%s: sync_event_log has no column '%s'",
                      s->path, columns[i]);
  return SL_OK;
}

static int run_ddl(sl_store *s, sqlite3 *db, const char *sql) {
  int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
  return rc == SQLITE_OK ? SL_OK : sli_sqlite_fail(s, db, rc, NULL);
}

/* One integer from a statement without parameters (a PRAGMA, a count). */
static int query_int(sl_store *s, sqlite3 *db, const char *sql,
                     int64_t *out) {
  sqlite3_stmt *st;
  int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
  if (rc != SQLITE_OK) return sli_sqlite_fail(s, db, rc, NULL);
  rc = sqlite3_step(st);
  *out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
  sqlite3_finalize(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return sli_sqlite_fail(s, db, rc, NULL);
  return SL_OK;
}

/*
** The writer's connection brings the file to what writing needs, and no
** further (synclua.h, sl_store_open). The first statement reads the header, so
** a file that is not a database fails before anything is written. An
** empty database (no page yet: a file we are creating, or a zero-length
** one) is ours: WAL, which the file keeps, the table and every index.
** Anything else keeps its journal mode and its indexes; a database without
** the table gets it as Spacedrive makes it. The durability asked is only a
** setting of this connection.
*/
static int prepare_file(sl_store *s, sqlite3 *db) {
  static const char *const levels[] = {"PRAGMA synchronous=NORMAL",
                                       "PRAGMA synchronous=FULL",
                                       "PRAGMA synchronous=OFF"};
  int64_t pages, tables;
  if (s->opts.synchronous < SL_SYNC_NORMAL || s->opts.synchronous > SL_SYNC_OFF)
    return sli_fail(s, SL_INVALID, "synchronous: unknown level %d",
                    s->opts.synchronous);
  int rc = query_int(s, db, "PRAGMA page_count", &pages);
  if (rc != SL_OK) return rc;
  if (pages == 0 && !s->opts.no_create) {
    rc = run_ddl(s, db, "PRAGMA journal_mode=WAL");
    if (rc == SL_OK) rc = run_ddl(s, db, sli_schema_sql);
    if (rc == SL_OK) rc = check_table(s, db);
    if (rc == SL_OK) rc = run_ddl(s, db, sli_index_sql);
  } else {
    rc = query_int(s, db, "SELECT count(*) FROM sqlite_master WHERE"
                          " type = 'table' AND name = 'sync_event_log'",
                   &tables);
    if (rc == SL_OK && tables == 0 && !s->opts.no_create)
      rc = run_ddl(s, db, sl_spacedrive_ddl());
    if (rc == SL_OK) rc = check_table(s, db);
    if (rc == SL_OK && s->opts.indexes) rc = run_ddl(s, db, sli_index_sql);
  }
  if (rc == SL_OK) rc = run_ddl(s, db, levels[s->opts.synchronous]);
  return rc;
}

/* What the caller's connection has open: the files, and the database's
** "DEV:INO". */
static void note_files(sl_store *s) {
  sli_files_note(s->db, &s->files);
  if (s->files.known[0])
    snprintf(s->identity, sizeof s->identity, "%ju:%ju",
             (uintmax_t)s->files.dev[0], (uintmax_t)s->files.ino[0]);
}

/* The writer's connection, the file brought to what writing needs.
** Two programs making the same new file race: the second read the file
** empty, and SQLite refuses its switch to WAL at once ("database is
** locked") without waiting, since waiting could deadlock a reader that
** wants to write. Every step of prepare_file is idempotent, so a busy
** answer is tried again from the start, within the busy timeout; by then
** the file is no longer empty. */
static int open_for_writing(sl_store *s, sqlite3 **out) {
  sqlite3 *db = NULL;
  int rc = open_connection(s, SQLITE_OPEN_READWRITE |
                                 (s->opts.no_create ? 0 : SQLITE_OPEN_CREATE),
                           &db);
  if (rc == SL_OK) {
    int64_t until = sli_mono_ms() + s->opts.busy_timeout_ms;
    while ((rc = prepare_file(s, db)) == SL_BUSY && sli_mono_ms() < until)
      sqlite3_sleep(10);
    if (rc == SL_OK) s->errmsg[0] = '\0';  /* a refusal that passed */
  }
  if (rc != SL_OK) {
    sqlite3_close_v2(db);
    db = NULL;
  }
  *out = db;
  return rc;
}

int sli_store_open_writer_db(const sl_store *s, sqlite3 **out, char *msg) {
  /* The store's path and options, with a message of its own: the writer
  ** thread must not touch the caller's. */
  sl_store scratch;
  memset(&scratch, 0, sizeof scratch);
  scratch.path = s->path;
  scratch.opts = s->opts;
  int rc = open_for_writing(&scratch, out);
  /* What is wrong without the "PATH: " the messages start with: the
  ** writer names the file itself. */
  const char *why = scratch.errmsg;
  size_t n = strlen(s->path);
  if (strncmp(why, s->path, n) == 0 && strncmp(why + n, ": ", 2) == 0)
    why += n + 2;
  snprintf(msg, SLI_ERRMSG_MAX, "%s", why);
  return rc;
}

static void fill_defaults(sl_open_opts *o) {
  if (o->queue_capacity == 0) o->queue_capacity = DEFAULT_QUEUE;
  if (o->retention <= 0) o->retention = 7 * SL_NS_PER_DAY;
  if (o->prune_interval <= 0) o->prune_interval = 3600 * SL_NS_PER_SEC;
  if (o->busy_timeout_ms <= 0) o->busy_timeout_ms = DEFAULT_BUSY_MS;
  if (o->batch_interval <= 0) o->batch_interval = 30 * SL_NS_PER_SEC;
  if (o->batch_records <= 0) o->batch_records = 10000;
  if (o->retry_budget == 0) o->retry_budget = 600 * SL_NS_PER_SEC;
}

int sl_store_open(const char *path, const sl_open_opts *opts,
                  sl_store **out) {
  sqlite3 *wdb = NULL;
  int rc;
  if (!out) return SL_MISUSE;
  sl_store *s = calloc(1, sizeof *s);
  *out = s;
  if (!s) return SL_NOMEM;
  pthread_mutex_init(&s->refs_lock, NULL);
  pthread_mutex_init(&s->bad_lock, NULL);
  s->refs = 1;
  if (opts) s->opts = *opts;
  fill_defaults(&s->opts);
  s->opts.device_id = NULL;
  s->readonly = s->opts.mode != SL_OPEN_WRITE;
  if (s->opts.mode != SL_OPEN_READ && s->opts.mode != SL_OPEN_WRITE) {
    rc = sli_fail(s, SL_INVALID, "mode: unknown mode %d", s->opts.mode);
    goto fail;
  }
  if (opts && opts->device_id) {
    char norm[SL_UUID_BUFSZ];
    s->device_id = sli_strdup(
      sl_uuid_normalize(opts->device_id, norm) == SL_OK ? norm
                                                        : opts->device_id);
    if (!s->device_id) return sli_fail(s, SL_NOMEM, "out of memory");
  }
  if (sl_store_is_database && sl_store_is_database(path)) {
    if ((rc = sli_pg_open(s, path)) != SL_OK) goto fail;
    return SL_OK;
  }
  if ((rc = resolve_path(s, path)) != SL_OK) goto fail;

  if (s->readonly) {
    if ((rc = open_to_read(s)) != SL_OK) goto fail;
    note_files(s);
    return SL_OK;
  }

  rc = open_for_writing(s, &wdb);
  if (rc == SL_OK)
    rc = open_connection(s, SQLITE_OPEN_READWRITE, &s->db);
  if (rc != SL_OK) goto fail;
  note_files(s);
  rc = sli_writer_start(s, wdb, &s->writer);
  wdb = NULL; /* the writer owns it now, even on failure */
  if (rc != SL_OK) goto fail;
  if (s->opts.auto_prune) sli_writer_schedule_prune(s->writer);
  return SL_OK;

fail:
  sqlite3_close_v2(wdb);
  SLI_STORE(&s->closed, 1);
  return rc;
}

/* ------------------------------------------------- lifetime and access */

const char *sl_store_errmsg(const sl_store *s) {
  return s ? s->errmsg : "out of memory";
}

const char *sl_store_path(const sl_store *s) {
  return s && s->path ? s->path : "";
}

int sl_store_readonly(const sl_store *s) { return s ? s->readonly : 0; }

int sl_store_immutable(const sl_store *s) { return s ? s->immutable : 0; }

const char *sl_store_identity(const sl_store *s) {
  return s ? s->identity : "";
}

void sl_store_retain(sl_store *s) {
  if (!s) return;
  pthread_mutex_lock(&s->refs_lock);
  s->refs++;
  pthread_mutex_unlock(&s->refs_lock);
}

static void destroy(sl_store *s) {
  if (s->writer) {
    sli_writer_stop(s->writer, NULL);
    sli_writer_free(s->writer);
  }
  for (int i = 0; i < SLI_STMT_CACHE; i++) {
    sqlite3_finalize(s->stmts[i].stmt);
    free(s->stmts[i].sql);
  }
  sli_db_close(s->db, &s->files);
  if (s->pg) sli_pg_release(s);
  free(s->pg_library);
  free(s->pg_device);
  pthread_mutex_destroy(&s->refs_lock);
  pthread_mutex_destroy(&s->bad_lock);
  free(s->bad_ids.slots);
  free(s->path);
  free(s->device_id);
  free(s);
}

void sl_store_release(sl_store *s) {
  if (!s) return;
  pthread_mutex_lock(&s->refs_lock);
  int last = --s->refs == 0;
  pthread_mutex_unlock(&s->refs_lock);
  if (last) destroy(s);
}

/* The message of events the writer gave up on: the thread's own for
** flush, the store's for close. */
#define WRITE_FAILURE "%s: events could not be written (%s: %s)"

static int write_failure(sl_store *s, int rc, const char *why, int here) {
  return here ? sli_fail_here(rc, WRITE_FAILURE, s->path, sl_status_name(rc),
                              why)
              : sli_fail(s, rc, WRITE_FAILURE, s->path, sl_status_name(rc),
                         why);
}

int sl_store_close(sl_store *s) {
  if (!s || SLI_LOAD(&s->closed)) return SL_OK;
  SLI_STORE(&s->closed, 1);
  /* The writer stops (after flushing) but stays allocated until the last
  ** reference goes, so a racing append finds it stopped, not freed. */
  char why[SLI_ERRMSG_MAX];
  int rc = s->writer ? sli_writer_stop(s->writer, why) : SL_OK;
  return rc == SL_OK ? SL_OK : write_failure(s, rc, why, 0);
}

/* ------------------------------------------------------ statement cache */

int sli_stmt_get(sl_store *s, const char *sql, sqlite3_stmt **out) {
  int victim = -1;
  for (int i = 0; i < SLI_STMT_CACHE; i++) {
    sli_stmt_slot *slot = &s->stmts[i];
    if (slot->stmt && !slot->in_use && strcmp(slot->sql, sql) == 0) {
      slot->in_use = 1;
      slot->last_used = ++s->stmt_clock;
      *out = slot->stmt;
      return SL_OK;
    }
    if (!slot->in_use &&
        (victim < 0 || !slot->stmt ||
         (s->stmts[victim].stmt && slot->last_used <
                                       s->stmts[victim].last_used)))
      victim = i;
  }
  sqlite3_stmt *st;
  int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
  if (rc != SQLITE_OK) return sli_sqlite_fail(s, s->db, rc, NULL);
  char *copy = sli_strdup(sql);
  if (victim < 0 || !copy) {
    /* Every slot busy (many cursors at once): an uncached statement. */
    free(copy);
    *out = st;
    return SL_OK;
  }
  sli_stmt_slot *slot = &s->stmts[victim];
  sqlite3_finalize(slot->stmt);
  free(slot->sql);
  slot->sql = copy;
  slot->stmt = st;
  slot->in_use = 1;
  slot->last_used = ++s->stmt_clock;
  *out = st;
  return SL_OK;
}

void sli_stmt_put(sl_store *s, sqlite3_stmt *st) {
  if (!st) return;
  for (int i = 0; i < SLI_STMT_CACHE; i++) {
    if (s->stmts[i].stmt == st) {
      sqlite3_reset(st);
      sqlite3_clear_bindings(st);
      s->stmts[i].in_use = 0;
      return;
    }
  }
  sqlite3_finalize(st);
}

/* ------------------------------------------------------------- logging */

/* The caller's connection to the file now at the path, when the one it
** has moved and no cursor reads from it. The old file's -wal and -shm are
** let go of first: a connection opened while they are still at the path
** would read through them, never seeing the new file's commits. If
** nothing at the path opens yet (a writer is about to make it anew), it
** stays on the file it has. */
static void follow(sl_store *s) {
  if (!sli_db_moved(s->db)) return;
  for (int i = 0; i < SLI_STMT_CACHE; i++)
    if (s->stmts[i].in_use) return;
  sli_db_let_go(s->db, &s->files);
  sqlite3 *old = s->db;
  sli_files old_files = s->files;
  int old_immutable = s->immutable;
  char msg[SLI_ERRMSG_MAX];
  memcpy(msg, s->errmsg, sizeof msg);
  s->db = NULL;
  int rc = s->readonly ? open_to_read(s)
                       : open_connection(s, SQLITE_OPEN_READWRITE, &s->db);
  if (rc == SL_OK && !s->readonly) rc = check_table(s, s->db);
  if (rc != SL_OK) {
    sqlite3_close_v2(s->db);
    s->db = old;
    s->immutable = old_immutable;
    memcpy(s->errmsg, msg, sizeof msg);
    return;
  }
  for (int i = 0; i < SLI_STMT_CACHE; i++) {
    sqlite3_finalize(s->stmts[i].stmt);
    free(s->stmts[i].sql);
    s->stmts[i].stmt = NULL;
    s->stmts[i].sql = NULL;
  }
  sli_db_close(old, &old_files);
  note_files(s);
  sli_ts_forget(s);            /* what we knew of its timestamps is gone */
  s->indexes_known = 0;
}

int sli_store_usable(sl_store *s) {
  if (!s) return SL_MISUSE;
  if (SLI_LOAD(&s->closed)) return sli_fail(s, SL_MISUSE, "store is closed");
  if (s->pg) return SL_OK; /* a database, not a file that may move */
  follow(s);
  /* After a first read has opened the -wal and -shm, while the file is
  ** still the one at the path. */
  if (!s->files.wal_noted && !sli_db_moved(s->db)) note_files(s);
  return SL_OK;
}

int sl_store_append(sl_store *s, const sl_event *ev) {
  if (!s || !ev) return SL_MISUSE;
  if (!s->writer) return SLI_LOAD(&s->closed) ? SL_MISUSE : SL_READONLY;
  if (sli_event_check(ev, 0, NULL, 0) != SL_OK) return SL_INVALID;
  if (!ev->device_id && !s->device_id) return SL_INVALID;
  return sli_writer_append(s->writer, ev, s->device_id);
}

int sl_store_flush_within(sl_store *s, int64_t timeout_ns) {
  if (!s) return SL_MISUSE;
  if (SLI_LOAD(&s->closed))
    return sli_fail_here(SL_MISUSE, "store is closed");
  if (!s->writer) return SL_OK;
  char why[SLI_ERRMSG_MAX];
  int rc = sli_writer_flush(s->writer, timeout_ns < 0 ? INT64_MAX
                                       : sl_time_now() + timeout_ns, why);
  if (rc == SL_TIMEOUT)
    return sli_fail_here(rc, "%s: events not written yet (the flush's time "
                         "ran out)", s->path);
  return rc == SL_OK ? SL_OK : write_failure(s, rc, why, 1);
}

int sl_store_flush(sl_store *s) { return sl_store_flush_within(s, -1); }

int sl_store_stats(sl_store *s, sl_stats *out) {
  if (!s || !out) return SL_MISUSE;
  memset(out, 0, sizeof *out);
  out->queue_capacity = s->opts.queue_capacity;
  if (s->writer) sli_writer_stats(s->writer, out);
  return SL_OK;
}

/* ------------------------------------------------------------ bad rows */

/* Fibonacci hashing: row ids are mostly consecutive, and the high bits of
** their product spread them over the slots. */
static size_t id_slot(int64_t id, size_t cap) {
  return (size_t)(((uint64_t)id * UINT64_C(0x9e3779b97f4a7c15)) >> 32) &
         (cap - 1);
}

static int idset_has(const sli_idset *set, int64_t id) {
  if (id == 0) return set->has_zero;
  if (!set->cap) return 0;
  for (size_t i = id_slot(id, set->cap);; i = (i + 1) & (set->cap - 1)) {
    if (set->slots[i] == id) return 1;
    if (set->slots[i] == 0) return 0;
  }
}

static void idset_put(int64_t *slots, size_t cap, int64_t id) {
  size_t i = id_slot(id, cap);
  while (slots[i] != 0) i = (i + 1) & (cap - 1);
  slots[i] = id;
}

/* Add id, keeping the set at most half full: 1 added, 0 already there, -1
** not kept (the set holds `max` ids, or memory ran out). */
static int idset_add(sli_idset *set, int64_t id, size_t max) {
  if (idset_has(set, id)) return 0;
  if (set->n >= max) return -1;
  if (id == 0) {
    set->has_zero = 1;
    set->n++;
    return 1;
  }
  if (2 * (set->n + 1) > set->cap) {
    size_t cap = set->cap ? 2 * set->cap : 64;
    int64_t *slots = calloc(cap, sizeof *slots);
    if (!slots) return -1;
    for (size_t i = 0; i < set->cap; i++)
      if (set->slots[i] != 0) idset_put(slots, cap, set->slots[i]);
    free(set->slots);
    set->slots = slots;
    set->cap = cap;
  }
  idset_put(set->slots, set->cap, id);
  set->n++;
  return 1;
}

/* Keep the three smallest distinct ids, ascending, in b->first_ids. */
static void note_smallest(sl_bad_rows *b, int *n, int64_t id) {
  const int max = (int)(sizeof b->first_ids / sizeof *b->first_ids);
  int at = 0;
  while (at < *n && b->first_ids[at] < id) at++;
  if (at == max || (at < *n && b->first_ids[at] == id)) return;
  if (*n < max) (*n)++;
  for (int i = *n - 1; i > at; i--) b->first_ids[i] = b->first_ids[i - 1];
  b->first_ids[at] = id;
}

void sli_store_note_bad(sl_store *s, const sl_event *ev) {
  pthread_mutex_lock(&s->bad_lock);
  s->bad.columns |= ev->bad;
  int added = idset_add(&s->bad_ids, ev->id, SLI_BAD_IDS_MAX);
  if (added > 0) s->bad.count++;
  if (added < 0) s->bad_capped = 1;
  /* A row past the cap may be new or seen before: the smallest ids stay
  ** exact either way, as note_smallest ignores an id it holds. */
  if (added != 0) note_smallest(&s->bad, &s->bad_first_n, ev->id);
  pthread_mutex_unlock(&s->bad_lock);
}

int sl_store_bad_rows(sl_store *s, sl_bad_rows *out, int *at_least) {
  if (out) memset(out, 0, sizeof *out);
  if (at_least) *at_least = 0;
  if (!s || !out) return SL_MISUSE;
  pthread_mutex_lock(&s->bad_lock);
  *out = s->bad;
  if (at_least) *at_least = s->bad_capped;
  pthread_mutex_unlock(&s->bad_lock);
  return SL_OK;
}

/* ------------------------------------------------- stored timestamps */

int sli_run(sl_store *s, const char *sql, int n, const int64_t *v,
            int64_t none, int64_t *out) {
  sqlite3_stmt *st;
  int rc = sli_stmt_get(s, sql, &st);
  if (rc != SL_OK) return rc;
  for (int i = 0; i < n; i++) sqlite3_bind_int64(st, i + 1, v[i]);
  int r = sqlite3_step(st);
  if (out)
    *out = r == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL
         ? sqlite3_column_int64(st, 0) : none;
  sli_stmt_put(s, st);
  return r == SQLITE_ROW || r == SQLITE_DONE
       ? SL_OK : sli_sqlite_fail(s, s->db, r, NULL);
}

/* Rows not in canonical form (none in Spacedrive's files) go to
** temp.sl_foreign with their instants (NULL when the time does not parse),
** on this connection only, indexed by instant: queries take the canonical
** rows in timestamp-index order and the foreign ones in instant order, and
** merge the two. A TEMP table leaves the file itself untouched.
**
** Looking at every timestamp costs tens of milliseconds at a million rows,
** and an answer of the newest thousand needs few of them: a row whose time
** is at or after T has a local time at or after T - 24 h (no offset is
** wider), and its text, whatever its form, sorts among the texts of local
** times from then on (see classify). So the rows up to the first look's highest id are classified by ranges
** of the timestamp index, from the top down, as far as answers reach
** (sli_ts_cover), or all at once (sli_ts_refresh); rows added later are
** classified by id. */
#define RECORD_FOREIGN \
  "INSERT OR IGNORE INTO temp.sl_foreign(id, instant)" \
  " SELECT id, sl_instant(timestamp) FROM sync_event_log WHERE "
/* Parameters: the texts, then the id bounds. */
static const char record_all[] =
  RECORD_FOREIGN "sl_ts_class(timestamp) <> 0 AND +id <= ?1";
static const char record_top[] =
  RECORD_FOREIGN "timestamp >= ?1 AND sl_ts_class(timestamp) <> 0"
  " AND +id <= ?2";
static const char record_range[] =
  RECORD_FOREIGN "timestamp >= ?1 AND timestamp < ?2"
  " AND sl_ts_class(timestamp) <> 0 AND +id <= ?3";
static const char record_below[] =
  RECORD_FOREIGN "(timestamp < ?1 OR timestamp IS NULL)"
  " AND sl_ts_class(timestamp) <> 0 AND +id <= ?2";
static const char record_new[] =
  RECORD_FOREIGN "id > ?1 AND id <= ?2 AND sl_ts_class(timestamp) <> 0";

/* Run one of the statements above: n_text texts, then the ids. */
static int record(sl_store *s, const char *sql, int n_text,
                  const char *t1, const char *t2, int64_t i1, int64_t i2) {
  sqlite3_stmt *st;
  int rc = sli_stmt_get(s, sql, &st);
  if (rc != SL_OK) return rc;
  const char *texts[2] = {t1, t2};
  for (int k = 0; k < n_text; k++)
    sqlite3_bind_text(st, k + 1, texts[k], -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, n_text + 1, i1);
  if (sqlite3_bind_parameter_count(st) > n_text + 1)
    sqlite3_bind_int64(st, n_text + 2, i2);
  int r = sqlite3_step(st);
  sli_stmt_put(s, st);
  return r == SQLITE_DONE ? SL_OK : sli_sqlite_fail(s, s->db, r, NULL);
}

/* The counts and first unparsable ids, from what temp.sl_foreign holds
** (few rows, unless the store is another program's in another form). */
static int recount(sl_store *s) {
  sqlite3_stmt *st;
  int rc = sli_stmt_get(s, "SELECT count(instant), count(*) - count(instant)"
                           " FROM temp.sl_foreign", &st);
  if (rc != SL_OK) return rc;
  int r = sqlite3_step(st);
  if (r == SQLITE_ROW) {
    s->ts_noncanonical = sqlite3_column_int64(st, 0);
    s->ts_unparsable = sqlite3_column_int64(st, 1);
  }
  sli_stmt_put(s, st);
  if (r != SQLITE_ROW) return sli_sqlite_fail(s, s->db, r, NULL);
  memset(s->ts_first_bad, 0, sizeof s->ts_first_bad);
  if (!s->ts_unparsable) return SL_OK;
  rc = sli_stmt_get(s, "SELECT id FROM temp.sl_foreign WHERE instant IS NULL"
                       " ORDER BY id LIMIT 3", &st);
  if (rc != SL_OK) return rc;
  for (int k = 0; k < 3 && (r = sqlite3_step(st)) == SQLITE_ROW; k++)
    s->ts_first_bad[k] = sqlite3_column_int64(st, 0);
  sli_stmt_put(s, st);
  return SL_OK;
}

void sli_ts_forget(sl_store *s) {
  s->ts_known = s->ts_full = 0;
  s->ts_base_id = s->ts_checked_id = 0;
  s->ts_noncanonical = s->ts_unparsable = 0;
  s->ts_cover[0] = '\0';
  memset(s->ts_first_bad, 0, sizeof s->ts_first_bad);
  s->late_known = 0;
  s->late_checked_id = s->probe_work = 0;
}

/* Classify the rows of the timestamp index from `cover` up (NULL: all of
** them), and the rows added since the last look. */
static int classify(sl_store *s, const char *cover) {
  int changed = 0;
  int64_t version;
  int rc = sli_run(s, "PRAGMA data_version", 0, NULL, 0, &version);
  if (rc != SL_OK) return rc;
  if (!s->ts_known) {
    int r = sqlite3_exec(s->db, "CREATE TEMP TABLE IF NOT EXISTS sl_foreign"
                                "(id INTEGER PRIMARY KEY, instant INTEGER); "
                                "CREATE INDEX IF NOT EXISTS"
                                " temp.sl_foreign_by_instant"
                                " ON sl_foreign(instant); "
                                "DELETE FROM temp.sl_foreign;",
                         NULL, NULL, NULL);
    if (r != SQLITE_OK) return sli_sqlite_fail(s, s->db, r, NULL);
    sli_ts_forget(s);
    rc = sli_run(s, "SELECT max(id) FROM sync_event_log", 0, NULL, 0,
                 &s->ts_base_id);
    if (rc != SL_OK) return rc;
    s->ts_checked_id = s->ts_base_id;
    s->ts_data_version = version;
    s->ts_known = 1;
    changed = 1;
  } else if (version != s->ts_data_version) {
    int64_t max_id;
    rc = sli_run(s, "SELECT max(id) FROM sync_event_log", 0, NULL, 0,
                 &max_id);
    if (rc != SL_OK) return rc;
    if (max_id > s->ts_checked_id) {
      rc = record(s, record_new, 0, NULL, NULL, s->ts_checked_id, max_id);
      if (rc != SL_OK) return rc;
      s->ts_checked_id = max_id;
      changed = 1;
    }
    s->ts_data_version = version;
  }
  if (!s->ts_full && (!cover || !s->ts_cover[0] ||
                      strcmp(cover, s->ts_cover) < 0)) {
    /* Local times from cover up to what is covered already (or the top),
    ** or all that is left below it. Written with a 'T' (or a 't', which
    ** sorts after it), such a time sorts at or after cover's 'T' form;
    ** written with a space, after its space form but before any 'T' of its
    ** day: a second, small range of that day. */
    int64_t base = s->ts_base_id;
    char from[24], to[24], day_end[12];
    if (s->ts_cover[0]) {
      memcpy(to, s->ts_cover, sizeof to);
      to[10] = 'T';
    }
    if (cover) {
      snprintf(from, sizeof from, "%s", cover);
      from[10] = 'T';
      snprintf(day_end, sizeof day_end, "%.10s!", cover);
      rc = s->ts_cover[0] ? record(s, record_range, 2, from, to, base, 0)
                          : record(s, record_top, 1, from, NULL, base, 0);
      if (rc == SL_OK)
        rc = record(s, record_range, 2, cover, day_end, base, 0);
    } else {
      rc = s->ts_cover[0] ? record(s, record_below, 1, to, NULL, base, 0)
                          : record(s, record_all, 0, NULL, NULL, base, 0);
    }
    if (rc != SL_OK) return rc;
    if (cover) snprintf(s->ts_cover, sizeof s->ts_cover, "%s", cover);
    else s->ts_full = 1;
    changed = 1;
  }
  return changed ? recount(s) : SL_OK;
}

int sli_ts_refresh(sl_store *s) { return classify(s, NULL); }

int sli_ts_cover(sl_store *s, const char *cover) {
  return classify(s, cover);
}

int sl_store_max_id(sl_store *s, int64_t *id) {
  int rc = sli_store_usable(s);
  if (rc != SL_OK) return rc;
  if (!id) return SL_MISUSE;
  if (s->pg) return sli_pg_max_id(s, id);
  return sli_run(s, "SELECT max(id) FROM sync_event_log", 0, NULL, 0, id);
}

int sl_store_time_report(sl_store *s, sl_time_report *out) {
  int rc = sli_store_usable(s);
  if (rc != SL_OK) return rc;
  if (!out) return SL_MISUSE;
  if (s->pg) return sli_pg_time_report(s, out);
  /* Our own deletions do not show in data_version: start over. */
  sli_ts_forget(s);
  if ((rc = sli_ts_refresh(s)) != SL_OK) return rc;
  memset(out, 0, sizeof *out);
  rc = sli_run(s, "SELECT count(*) FROM sync_event_log", 0, NULL, 0,
               &out->rows);
  if (rc != SL_OK) return rc;
  out->noncanonical = s->ts_noncanonical;
  out->unparsable = s->ts_unparsable;
  memcpy(out->first_bad_id, s->ts_first_bad, sizeof out->first_bad_id);
  return SL_OK;
}

int sl_store_integrity(sl_store *s, sl_buf *report) {
  sqlite3_stmt *st;
  int rc = sli_store_usable(s);
  if (rc != SL_OK) return rc;
  if (!report) return SL_MISUSE;
  if (s->pg) {
    /* The server keeps its pages sound; what can fail is reading them
    ** (a partition dropped or not ours to read): every row is counted. */
    sl_filter all;
    int64_t n;
    sl_filter_init(&all);
    return sli_pg_count(s, &all, -1, &n);
  }
  int r = sqlite3_prepare_v2(s->db, "PRAGMA quick_check", -1, &st, NULL);
  if (r != SQLITE_OK) return sli_sqlite_fail(s, s->db, r, NULL);
  int sound = 1;
  while ((r = sqlite3_step(st)) == SQLITE_ROW) {
    const char *line = (const char *)sqlite3_column_text(st, 0);
    if (line && strcmp(line, "ok") == 0) continue;
    sound = 0;
    sl_buf_puts(report, line ? line : "(null)");
    sl_buf_puts(report, "\n");
  }
  sqlite3_finalize(st);
  if (r != SQLITE_DONE) return sli_sqlite_fail(s, s->db, r, NULL);
  if (report->oom) return sli_fail(s, SL_NOMEM, "out of memory");
  return sound ? SL_OK
               : sli_fail(s, SL_CORRUPT, "%s: database is corrupt", s->path);
}

/* ------------------------------------------------------------- pruning */

int sli_prune(sqlite3 *db, sl_store *s, int64_t cutoff, int dry_run,
              sl_prune_result *out) {
  /* Every row older than the cutoff has a text date before cutoff + 2 days
  ** whatever its offset, so the timestamp index narrows the scan and
  ** sl_instant decides exactly. */
  char bound[SL_TIME_BUFSZ];
  sqlite3_stmt *st = NULL;
  int rc;
  sl_time_format(cutoff + 2 * SL_NS_PER_DAY, 0, bound);
  bound[10] = '\0';
  memset(out, 0, sizeof *out);
  out->cutoff = cutoff;

  rc = sqlite3_exec(db, dry_run ? "BEGIN" : "BEGIN IMMEDIATE", NULL, NULL,
                    NULL);
  if (rc != SQLITE_OK) return sli_sqlite_fail(s, db, rc, "prune");
  rc = sqlite3_prepare_v2(
    db,
    "SELECT count(*), min(sl_instant(timestamp)), max(sl_instant(timestamp))"
    " FROM sync_event_log WHERE timestamp < ?1 AND sl_instant(timestamp) < ?2",
    -1, &st, NULL);
  if (rc == SQLITE_OK) {
    sqlite3_bind_text(st, 1, bound, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, cutoff);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
      out->count = sqlite3_column_int64(st, 0);
      out->oldest = sqlite3_column_int64(st, 1);
      out->newest = sqlite3_column_int64(st, 2);
      rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    st = NULL;
  }
  if (rc == SQLITE_OK && !dry_run && out->count > 0) {
    rc = sqlite3_prepare_v2(db,
                            "DELETE FROM sync_event_log WHERE timestamp < ?1"
                            " AND sl_instant(timestamp) < ?2",
                            -1, &st, NULL);
    if (rc == SQLITE_OK) {
      sqlite3_bind_text(st, 1, bound, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64(st, 2, cutoff);
      rc = sqlite3_step(st);
      if (rc == SQLITE_DONE) {
        out->count = sqlite3_changes64(db);
        rc = SQLITE_OK;
      }
      sqlite3_finalize(st);
    }
  }
  if (rc != SQLITE_OK) {
    int status = sli_sqlite_fail(s, db, rc, "prune");
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return status;
  }
  rc = sqlite3_exec(db, dry_run ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL);
  if (rc != SQLITE_OK) {
    int status = sli_sqlite_fail(s, db, rc, "prune");
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return status;
  }
  return SL_OK;
}

int sl_store_prune(sl_store *s, int64_t older_than, int dry_run,
                   sl_prune_result *out) {
  sl_time_report report;
  int rc = sli_store_usable(s);
  if (rc != SL_OK) return rc;
  if (!out) return SL_MISUSE;
  if (s->readonly && !dry_run)
    return sli_fail(s, SL_READONLY, "%s: opened read-only: cannot prune",
                    s->path);
  if (older_than < 0) older_than = s->opts.retention;
  if (s->pg)
    return sli_pg_prune(s, sl_time_now() - older_than, dry_run, out);
  rc = sli_prune(s->db, s, sl_time_now() - older_than, dry_run, out);
  if (rc != SL_OK) return rc;
  if ((rc = sl_store_time_report(s, &report)) != SL_OK) return rc;
  out->unparsable = report.unparsable;
  return SL_OK;
}

/* ------------------------------------------------------------ redaction */

void sl_store_redact(sl_store *s, sl_redactor *r) {
  if (s) s->redactor = r;
}

sl_redactor *sl_store_redactor(const sl_store *s) {
  return s ? s->redactor : NULL;
}
