/*
** sl_import.c -- bulk insertion on the caller's connection, all or
** nothing, each row exactly as the writer thread writes it (sl_row.c),
** optionally skipping events the store already holds. Two ways in, one
** way out:
**  - sl_store_insert: a list of events in one call, written in one
**    transaction in the order given;
**  - sl_import: events added a chunk at a time (an export read as a
**    stream: as events, or as its text read by sl_import_text.c), checked
**    as they come and held aside in a private temporary SQLite file -- on
**    disk past SQLite's page cache, never all in memory -- then written
**    into a store by sl_import_commit in one transaction, oldest first
**    when asked (in the order added, or its reverse, when that is already
**    it; else SQLite's sorter does the ordering, in flat memory).
** Both write through one writer (below): BEGIN IMMEDIATE, the duplicate
** look, the INSERT, COMMIT or ROLLBACK. `synclua import` and the
** timeline's loading of exports come here, never through the asynchronous
** writer (which commits in many transactions). An import into a table
** without a row loads it in bulk: its indexes dropped and made again in
** the same transaction, the rows inserted many at a statement.
**
** A duplicate is an event with the same device, instant, type and summary
** as a row already stored or written earlier in the same transaction.
** Rows in canonical form are found through the (event_type, timestamp)
** index by the text we would write; the few rows in other forms
** (temp.sl_foreign, kept by sli_ts_refresh) are indexed by instant in a
** TEMP table for the length of the transaction; in a bulk load, the rows
** written at the same instant are kept in memory. Nothing here touches the
** store's file but the INSERTs (and, in a bulk load, its indexes); the
** store's connection has a larger page cache while it writes.
*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sli_import.h"

/* A canonical row with this text, device, type and summary. A device
** stored in capitals by another program still matches its lowercase
** form. */
static const char dup_sql[] =
  "SELECT 1 FROM sync_event_log WHERE event_type = ?3 AND timestamp = ?1"
  " AND summary = ?4 AND (device_id = ?2 OR lower(device_id) = ?2) LIMIT 1";

/* A row in another form (a "Z", an offset, a short fraction) at this
** instant. */
static const char dup_foreign_sql[] =
  "SELECT 1 FROM temp.sl_import_foreign f JOIN sync_event_log e"
  " ON e.id = f.id WHERE f.instant = ?1 AND e.event_type = ?3"
  " AND e.summary = ?4 AND (e.device_id = ?2 OR lower(e.device_id) = ?2)"
  " LIMIT 1";

static const char foreign_index_sql[] =
  "CREATE TEMP TABLE IF NOT EXISTS sl_import_foreign"
  "(instant INTEGER NOT NULL, id INTEGER NOT NULL);"
  "DELETE FROM temp.sl_import_foreign;"
  "INSERT INTO temp.sl_import_foreign(instant, id)"
  " SELECT sl_instant(e.timestamp), e.id FROM temp.sl_foreign f"
  " JOIN sync_event_log e ON e.id = f.id"
  " WHERE sl_instant(e.timestamp) IS NOT NULL;"
  "CREATE INDEX IF NOT EXISTS temp.sl_import_foreign_by_instant"
  " ON sl_import_foreign(instant);";

/* ------------------------------------------------------------- writer */

/* Into a table without a row, an import's rows go in without its
** indexes, made again in the same transaction once every row is in (see
** bulk_begin). The duplicate look then keeps the rows of one instant. */
typedef struct bulk {
  char        **sql;          /* the CREATE INDEX to run again              */
  size_t        n;            /* how many                                   */
  int           on;           /* the indexes are gone                       */
  int64_t       instant;      /* the instant of the rows in `keys`          */
  size_t        rows;         /* rows in `keys`                             */
  sl_buf        keys;         /* each: time, device, type, summary, each
                                 after its length                           */
  sqlite3_stmt *many;         /* the INSERT of BATCH_ROWS rows at once      */
  sl_buf        batch;        /* rows waiting for it: each value a type
                                 byte, then its bytes                       */
  size_t        waiting;      /* rows in `batch`                            */
} bulk;

/* One transaction of rows going into a store. */
typedef struct writer {
  sl_store     *s;
  sqlite3_stmt *ins;          /* sli_insert_sql                             */
  sqlite3_stmt *dup;          /* dup_sql, when skipping duplicates          */
  sqlite3_stmt *foreign;      /* dup_foreign_sql, when rows in other forms  */
  int           skip;         /* skip duplicates                            */
  sl_buf        details;      /* the canonical details of the row           */
  size_t        inserted, skipped;
  bulk          bulk;         /* the indexes dropped for a bulk load        */
  int64_t       cache;        /* the connection's cache_size, to restore    */
  int           cache_set;    /* ours is in force                           */
} writer;

/* Does the store already hold this event, stored under `id` at instant?
** 1 yes, 0 no, < 0 an SQLite failure (the negated result code). */
static int stored(sqlite3_stmt *dup, sqlite3_stmt *foreign,
                  const sl_event *ev, const sli_row_id *id, int64_t instant) {
  sqlite3_stmt *sts[2] = {dup, foreign};
  size_t n_type, n_sum;
  const char *type = sl_event_text(ev, SL_COL_EVENT_TYPE, &n_type);
  const char *summary = sl_event_text(ev, SL_COL_SUMMARY, &n_sum);
  for (int k = 0; k < 2 && sts[k]; k++) {
    sqlite3_stmt *st = sts[k];
    if (k == 0) sqlite3_bind_text(st, 1, id->ts, -1, SQLITE_STATIC);
    else sqlite3_bind_int64(st, 1, instant);
    sqlite3_bind_text(st, 2, id->device_id, (int)id->device_len,
                      SQLITE_STATIC);
    sqlite3_bind_text(st, 3, type, (int)n_type, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, summary, (int)n_sum, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW) return 1;
    if (rc != SQLITE_DONE) return -rc;
  }
  return 0;
}

/* Has the store rows in other forms? Then index them by instant. */
static int index_foreign(sl_store *s, int *any) {
  sqlite3_stmt *st;
  int rc = sli_stmt_get(s, "SELECT EXISTS (SELECT 1 FROM temp.sl_foreign)",
                        &st);
  if (rc != SL_OK) return rc;
  int r = sqlite3_step(st);
  *any = r == SQLITE_ROW && sqlite3_column_int(st, 0);
  sli_stmt_put(s, st);
  if (r != SQLITE_ROW) return sli_sqlite_fail(s, s->db, r, "insert");
  if (!*any) return SL_OK;
  r = sqlite3_exec(s->db, foreign_index_sql, NULL, NULL, NULL);
  return r == SQLITE_OK ? SL_OK : sli_sqlite_fail(s, s->db, r, "insert");
}

/* A store that can take rows: open, and opened to write. */
static int writable(sl_store *s) {
  int rc = sli_store_usable(s);
  if (rc != SL_OK) return rc;
  if (s->readonly)
    return sli_fail(s, SL_READONLY, "%s: opened read-only: cannot insert",
                    s->path);
  if (s->pg)
    return sli_fail(s, SL_MISUSE, "%s: a PostgreSQL fleet store takes rows "
                    "by push (synclua push --to), not import", s->path);
  return SL_OK;
}

/* BEGIN IMMEDIATE, and what the duplicate look needs. On failure the
** transaction is left to write_end. */
static int write_begin(writer *w, sl_store *s, int skip) {
  int any_foreign = 0, rc = SL_OK;
  memset(w, 0, sizeof *w);
  w->s = s;
  w->skip = skip;
  int r = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
  if (r != SQLITE_OK) return sli_sqlite_fail(s, s->db, r, "insert");
  if (skip) {
    rc = sli_ts_refresh(s);
    if (rc == SL_OK) rc = index_foreign(s, &any_foreign);
    if (rc == SL_OK) rc = sli_stmt_get(s, dup_sql, &w->dup);
    if (rc == SL_OK && any_foreign)
      rc = sli_stmt_get(s, dup_foreign_sql, &w->foreign);
  }
  if (rc == SL_OK) rc = sli_stmt_get(s, sli_insert_sql, &w->ins);
  return rc;
}

/* Write ev at `instant` (or skip it as a duplicate); `position` (from 1)
** names it in a message. */
static int write_one(writer *w, const sl_event *ev, int64_t instant,
                     size_t position) {
  sl_store *s = w->s;
  char jerr[160];
  if (w->skip) {
    sli_row_id id;
    sli_row_text(ev, instant, s->device_id, &id);
    int found = stored(w->dup, w->foreign, ev, &id, instant);
    if (found < 0) return sli_sqlite_fail(s, s->db, -found, "insert");
    if (found) {
      w->skipped++;
      return SL_OK;
    }
  }
  int rc = sli_bind_event(w->ins, ev, instant, s->device_id, &w->details,
                          jerr, sizeof jerr);
  if (rc == SL_INVALID)
    return sli_fail(s, SL_INVALID, "event %zu: details: not JSON: %s",
                    position, jerr);
  if (rc != SL_OK) return sli_fail(s, SL_NOMEM, "out of memory");
  int r = sqlite3_step(w->ins);
  sqlite3_reset(w->ins);
  if (r != SQLITE_DONE) return sli_sqlite_fail(s, s->db, r, "insert");
  w->inserted++;
  return SL_OK;
}

static void bulk_free(bulk *b);

/* COMMIT when rc is SL_OK, else ROLLBACK; returns the outcome. */
static int write_end(writer *w, int rc) {
  sl_store *s = w->s;
  sli_stmt_put(s, w->ins);
  sli_stmt_put(s, w->dup);
  sli_stmt_put(s, w->foreign);
  sl_buf_free(&w->details);
  bulk_free(&w->bulk);
  if (rc == SL_OK) {
    int r = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    if (r != SQLITE_OK) rc = sli_sqlite_fail(s, s->db, r, "insert");
  }
  if (rc != SL_OK) {
    /* SQLite's reason is in the message already: ROLLBACK cannot lose
    ** it. */
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    /* What sli_ts_refresh recorded inside the transaction (temp.sl_foreign
    ** and its rows) went with it: let the next look start over. */
    sli_ts_forget(s);
  }
  if (w->cache_set) {
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA cache_size=%lld", (long long)w->cache);
    sqlite3_exec(s->db, sql, NULL, NULL, NULL);
  }
  return rc;
}

/* ------------------------------------------------------- one call's list */

/* Every event checked before anything is written. */
static int validate(sl_store *s, const sl_event *evs, size_t n) {
  char err[SLI_ERRMSG_MAX - 32];
  for (size_t i = 0; i < n; i++) {
    if (sl_event_validate(&evs[i], err, sizeof err) != SL_OK)
      return sli_fail(s, SL_INVALID, "event %zu: %s", i + 1, err);
    if (!evs[i].device_id && !s->device_id)
      return sli_fail(s, SL_INVALID,
                      "event %zu: device_id: missing (give one, or open the "
                      "store with a device_id)", i + 1);
  }
  return SL_OK;
}

int sl_store_insert(sl_store *s, const sl_event *evs, size_t n,
                    int skip_duplicates, size_t *inserted, size_t *skipped) {
  writer w;
  int rc;

  if (inserted) *inserted = 0;
  if (skipped) *skipped = 0;
  if (!s || (!evs && n > 0)) return SL_MISUSE;
  if ((rc = writable(s)) != SL_OK) return rc;
  if ((rc = validate(s, evs, n)) != SL_OK) return rc;

  rc = write_begin(&w, s, skip_duplicates);
  int64_t now = sl_time_now();
  for (size_t i = 0; i < n && rc == SL_OK; i++) {
    const sl_event *ev = &evs[i];
    int64_t instant = ev->has_instant ? ev->instant : now;
    if (ev->timestamp) sl_event_time(ev, &instant); /* validated */
    rc = write_one(&w, ev, instant, i + 1);
  }
  if ((rc = write_end(&w, rc)) != SL_OK) return rc;
  if (inserted) *inserted = w.inserted;
  if (skipped) *skipped = w.skipped;
  return SL_OK;
}

/* ----------------------------------------------------- streaming import */

enum { IMPORT_OPEN = 0, IMPORT_COMMITTED, IMPORT_BROKEN };

struct sl_import {
  sqlite3      *db;           /* the stage: a private temporary database    */
  sqlite3_stmt *add;          /* the INSERT of one staged row               */
  unsigned      flags;        /* SL_IMPORT_*                                */
  int           state;        /* IMPORT_OPEN, _COMMITTED, _BROKEN           */
  size_t        n;            /* events staged                              */
  size_t        deviceless;   /* the first staged without a device, or 0    */
  int64_t       last;         /* the instant of the event staged last       */
  int           rising;       /* each staged at or after the one before     */
  int           falling;      /* each staged strictly before the one before */
  sl_buf        details;      /* canonical details of the event in hand     */
  char          errmsg[SLI_ERRMSG_MAX]; /* the last failure's message       */
  char          broke[SLI_ERRMSG_MAX];  /* the failure that ended it        */
};

/* The staged rows: each event already as the row it becomes (bound by
** sli_bind_event, so canonical: the time text, ids, details, the type's
** category and severity), but for the device of an event that has none,
** NULL until the store's is known; its instant beside it, for ordering
** and for finding rows stored in other forms; rowid its position, from
** 1. Columns 0-11 are sli_insert_sql's values, in its order. */
static const char stage_sql[] =
  "PRAGMA journal_mode=OFF;"
  "PRAGMA synchronous=OFF;"
  "PRAGMA temp_store=FILE;"
  "PRAGMA locking_mode=EXCLUSIVE;"
  "CREATE TABLE stage (timestamp, device_id, event_type, category,"
  " severity, summary, details, correlation_id, peer_device_id,"
  " model_types, record_count, duration_ms, instant INTEGER NOT NULL);"
  "BEGIN;";

static const char stage_insert_sql[] =
  "INSERT INTO stage (timestamp, device_id, event_type, category, severity,"
  " summary, details, correlation_id, peer_device_id, model_types,"
  " record_count, duration_ms, instant, rowid)"
  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";

#define STAGE_COLUMNS \
  "timestamp, device_id, event_type, category, severity, summary," \
  " details, correlation_id, peer_device_id, model_types, record_count," \
  " duration_ms, instant FROM stage"
enum { STAGE_INSTANT = 12 };

static int im_fail(sl_import *im, int status, const char *fmt, ...)
#ifdef __GNUC__
  __attribute__((format(printf, 3, 4)))
#endif
  ;

static int im_fail(sl_import *im, int status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(im->errmsg, sizeof im->errmsg, fmt, ap);
  va_end(ap);
  return status;
}

/* A failure of the stage's own file (a full temporary folder). */
static int stage_fail(sl_import *im, int r) {
  return im_fail(im, sli_status_from_sqlite(r),
                 "the import's temporary file: %s (SQLITE_TMPDIR or TMPDIR "
                 "chooses its folder)", sqlite3_errmsg(im->db));
}

/* The import ends with the failure in errmsg. */
static int broken(sl_import *im, int rc) {
  im->state = IMPORT_BROKEN;
  memcpy(im->broke, im->errmsg, sizeof im->broke);
  return rc;
}

int sl_import_new(unsigned flags, sl_import **out) {
  if (!out) return SL_MISUSE;
  *out = NULL;
  sl_import *im = calloc(1, sizeof *im);
  if (!im) return SL_NOMEM;
  *out = im;
  im->flags = flags;
  im->rising = im->falling = 1;
  if (flags & ~(unsigned)(SL_IMPORT_SKIP_DUPLICATES | SL_IMPORT_BY_TIME))
    return broken(im, im_fail(im, SL_MISUSE, "import: unknown flags 0x%x",
                              flags));
  /* "": a private database in a temporary file, gone when closed; for one
  ** thread at a time, as the import is. */
  int r = sqlite3_open_v2("", &im->db,
                          SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                            SQLITE_OPEN_NOMUTEX, NULL);
  if (r == SQLITE_OK)
    r = sqlite3_exec(im->db, stage_sql, NULL, NULL, NULL);
  if (r == SQLITE_OK)
    r = sqlite3_prepare_v2(im->db, stage_insert_sql, -1, &im->add, NULL);
  if (r != SQLITE_OK)
    return broken(im, im->db ? stage_fail(im, r)
                             : im_fail(im, SL_NOMEM, "out of memory"));
  return SL_OK;
}

/* Can the import take events (or be committed)? */
static int usable(sl_import *im) {
  if (im->state == IMPORT_COMMITTED)
    return im_fail(im, SL_MISUSE, "import: already committed");
  if (im->state == IMPORT_BROKEN)
    return im_fail(im, SL_MISUSE, "import: unusable after a failure: %s",
                   im->broke);
  return SL_OK;
}


/* Stage one event, the `position`-th (from 1): checked, and made the row
** it becomes. */
static int stage_one(sl_import *im, const sl_event *ev, size_t position,
                     int64_t now) {
  char err[SLI_ERRMSG_MAX - 32];
  sqlite3_stmt *st = im->add;
  if (sli_event_check(ev, 0, err, sizeof err) != SL_OK)
    return im_fail(im, SL_INVALID, "event %zu: %s", position, err);
  int64_t instant = ev->has_instant ? ev->instant : now;
  if (ev->timestamp) sl_event_time(ev, &instant); /* checked */
  int rc = sli_bind_event(st, ev, instant, NULL, &im->details, err,
                          sizeof err);
  if (rc == SL_INVALID)
    return im_fail(im, SL_INVALID, "event %zu: details: not JSON: %s",
                   position, err);
  if (rc != SL_OK) return im_fail(im, SL_NOMEM, "out of memory");
  sqlite3_bind_int64(st, 13, instant);
  sqlite3_bind_int64(st, 14, (sqlite3_int64)position);
  /* (An event a failed call staged and dropped can only clear these:
  ** what stays is part of a sequence as ordered as they say.) */
  if (position > 1) {
    if (instant < im->last) im->rising = 0;
    if (instant >= im->last) im->falling = 0;
  }
  im->last = instant;
  size_t devlen;
  if (!im->deviceless && !sl_event_text(ev, SL_COL_DEVICE_ID, &devlen))
    im->deviceless = position;
  int r = sqlite3_step(st);
  sqlite3_reset(st);
  return r == SQLITE_DONE ? SL_OK : stage_fail(im, r);
}

int sl_import_add(sl_import *im, const sl_event *evs, size_t n) {
  int rc;
  if (!im) return SL_MISUSE;
  if (!evs && n > 0) return im_fail(im, SL_MISUSE, "import: no events");
  if ((rc = usable(im)) != SL_OK) return rc;
  int64_t now = sl_time_now();
  size_t i;
  for (i = 0, rc = SL_OK; i < n && rc == SL_OK; i++)
    rc = stage_one(im, &evs[i], im->n + i + 1, now);
  if (rc == SL_OK) {
    im->n += n;
    return SL_OK;
  }
  if (rc == SL_INVALID) {
    /* Nothing of this call stays: the events before the bad one go. */
    char sql[64];
    snprintf(sql, sizeof sql, "DELETE FROM stage WHERE rowid > %zu", im->n);
    int r = sqlite3_exec(im->db, sql, NULL, NULL, NULL);
    if (im->deviceless > im->n) im->deviceless = 0;
    if (r == SQLITE_OK) return rc;
    char why[SLI_ERRMSG_MAX];
    memcpy(why, im->errmsg, sizeof why);
    stage_fail(im, r);
    im_fail(im, rc, "%s", why);
  }
  return broken(im, rc);
}

int sli_import_add_some(sl_import *im, const sl_event *evs, size_t n,
                        size_t *taken) {
  int rc;
  size_t i;
  *taken = 0;
  if ((rc = usable(im)) != SL_OK) return rc;
  int64_t now = sl_time_now();
  for (i = 0, rc = SL_OK; i < n && rc == SL_OK; i++)
    rc = stage_one(im, &evs[i], im->n + i + 1, now);
  if (rc != SL_OK) i--;
  im->n += i;
  *taken = i;
  return rc == SL_OK || rc == SL_INVALID ? SL_OK : broken(im, rc);
}

size_t sl_import_count(const sl_import *im) { return im ? im->n : 0; }

const char *sl_import_errmsg(const sl_import *im) {
  return im ? im->errmsg : "out of memory";
}

/* ---------------------------------------------------- loading in bulk */

/*
** A table without a row takes an import's rows faster without its
** indexes: they are dropped after BEGIN and made again before COMMIT, in
** the same transaction (SQLite builds an index from its sorted keys
** several times faster than it grows it a row at a time), so nobody ever
** sees the table without them, and a failure rolls the drop back too.
** Only in a store synclua made (its (event_type, timestamp) index marks
** it: a store another program made, Spacedrive's included, keeps its
** schema objects as they are), only our kind of index -- plain ones (not
** UNIQUE: those refuse rows), on a store without sqlite_stat1 -- and each
** is made again from its own CREATE INDEX, as the store had it.
**
** The duplicate look cannot ask the store then, and needs only the rows
** already written at the same instant (every duplicate of a row has its
** time): oldest first (SL_IMPORT_BY_TIME) those come together, and their
** keys are kept here, up to GROUP_ROWS rows or GROUP_BYTES bytes; a larger
** group makes the indexes at once, and the look asks the store again.
*/
#define GROUP_ROWS  256
#define GROUP_BYTES (1 << 20)

#define BATCH_ROWS  32
#define BATCH_BYTES (1 << 20)

static void bulk_free(bulk *b) {
  for (size_t i = 0; i < b->n; i++) sqlite3_free(b->sql[i]);
  sqlite3_free(b->sql);
  sl_buf_free(&b->keys);
  sqlite3_finalize(b->many);
  sl_buf_free(&b->batch);
  memset(b, 0, sizeof *b);
}

/* The INSERT of BATCH_ROWS rows: sli_insert_sql's columns, its VALUES
** list repeated. */
static int prepare_many(writer *w) {
  sl_buf sql = {0};
  const char *values = strstr(sli_insert_sql, " VALUES");
  sl_buf_append(&sql, sli_insert_sql, (size_t)(values - sli_insert_sql));
  SLI_PUT(&sql, " VALUES ");
  for (int i = 0; i < BATCH_ROWS; i++)
    sl_buf_puts(&sql, i ? ",(?,?,?,?,?,?,?,?,?,?,?,?)"
                        : "(?,?,?,?,?,?,?,?,?,?,?,?)");
  int r = sql.oom ? SQLITE_NOMEM
                  : sqlite3_prepare_v2(w->s->db, sql.data, (int)sql.len,
                                       &w->bulk.many, NULL);
  sl_buf_free(&sql);
  return r == SQLITE_OK ? SL_OK : sli_sqlite_fail(w->s, w->s->db, r,
                                                  "insert");
}

/* Keep the values of the row `row` is on for a batch (`dev` for a row
** without a device). */
static void batch_put(bulk *b, sqlite3_stmt *row, const char *dev) {
  for (int i = 0; i < 12; i++) {
    int type = sqlite3_column_type(row, i);
    if (type == SQLITE_NULL && i == 1) {
      size_t n = strlen(dev);
      sli_put(&b->batch, "t", 1);
      sli_put(&b->batch, (const char *)&n, sizeof n);
      sli_put(&b->batch, dev, n);
    } else if (type == SQLITE_NULL) {
      sli_put(&b->batch, "n", 1);
    } else if (type == SQLITE_INTEGER) {
      int64_t v = sqlite3_column_int64(row, i);
      sli_put(&b->batch, "i", 1);
      sli_put(&b->batch, (const char *)&v, sizeof v);
    } else {
      const char *t = (const char *)sqlite3_column_text(row, i);
      size_t n = (size_t)sqlite3_column_bytes(row, i);
      sli_put(&b->batch, "t", 1);
      sli_put(&b->batch, (const char *)&n, sizeof n);
      sli_put(&b->batch, t, n);
    }
  }
  b->waiting++;
}

/* Bind the 12 values at *p to st from parameter base + 1; *p moves past
** them. The text stays in the batch until it is reset. */
static void bind_kept(sqlite3_stmt *st, int base, const char **p) {
  for (int i = 1; i <= 12; i++) {
    char type = *(*p)++;
    if (type == 'n') {
      sqlite3_bind_null(st, base + i);
    } else if (type == 'i') {
      int64_t v;
      memcpy(&v, *p, sizeof v);
      *p += sizeof v;
      sqlite3_bind_int64(st, base + i, v);
    } else {
      size_t n;
      memcpy(&n, *p, sizeof n);
      *p += sizeof n;
      sqlite3_bind_text(st, base + i, *p, (int)n, SQLITE_STATIC);
      *p += n;
    }
  }
}

/* Write the rows waiting: all at once when they are a whole batch, else
** one at a time. */
static int batch_flush(writer *w) {
  bulk *b = &w->bulk;
  const char *p = b->batch.data;
  int r = SQLITE_DONE;
  if (b->batch.oom) {
    r = SQLITE_NOMEM;
  } else if (b->waiting == BATCH_ROWS && b->many) {
    for (int k = 0; k < BATCH_ROWS; k++) bind_kept(b->many, 12 * k, &p);
    r = sqlite3_step(b->many);
    sqlite3_reset(b->many);
  } else {
    for (size_t k = 0; k < b->waiting && r == SQLITE_DONE; k++) {
      bind_kept(w->ins, 0, &p);
      r = sqlite3_step(w->ins);
      sqlite3_reset(w->ins);
    }
  }
  b->waiting = 0;
  sl_buf_reset(&b->batch);
  return r == SQLITE_DONE ? SL_OK : sli_sqlite_fail(w->s, w->s->db, r,
                                                    "insert");
}

/* One integer of a statement without parameters on the store. */
static int store_int(sl_store *s, const char *sql, int64_t *out) {
  sqlite3_stmt *st;
  int r = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
  if (r == SQLITE_OK) {
    r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
      *out = sqlite3_column_int64(st, 0);
      r = SQLITE_OK;
    }
    sqlite3_finalize(st);
  }
  return r == SQLITE_OK ? SL_OK : sli_sqlite_fail(s, s->db, r, "insert");
}

/* Drop the indexes of an empty table (in the transaction), keeping their
** CREATE INDEX; nothing when the table has a row or an index not ours to
** drop. b->sql holds pairs: a CREATE INDEX, then its DROP INDEX. */
static int bulk_begin(writer *w) {
  static const char list_sql[] =
    "SELECT name, sql, sql LIKE 'CREATE UNIQUE %' FROM main.sqlite_master"
    " WHERE type = 'index' AND lower(tbl_name) = 'sync_event_log'"
    " AND sql IS NOT NULL ORDER BY rowid";
  sl_store *s = w->s;
  bulk *b = &w->bulk;
  int64_t busy;
  sqlite3_stmt *st;
  int rc = store_int(s, "SELECT EXISTS (SELECT 1 FROM main.sync_event_log)"
                        " OR EXISTS (SELECT 1 FROM main.sqlite_master"
                        " WHERE name = 'sqlite_stat1') OR NOT EXISTS (SELECT"
                        " 1 FROM main.sqlite_master WHERE name ="
                        " 'idx_sync_event_log_type_time')", &busy);
  if (rc != SL_OK || busy) return rc;
  int r = sqlite3_prepare_v2(s->db, list_sql, -1, &st, NULL);
  while (r == SQLITE_OK) {
    if ((r = sqlite3_step(st)) != SQLITE_ROW) break;
    if (sqlite3_column_int(st, 2)) {  /* UNIQUE: leave them all */
      sqlite3_finalize(st);
      bulk_free(b);
      return SL_OK;
    }
    char **sql = sqlite3_realloc64(b->sql, (b->n + 2) * sizeof *sql);
    if (!sql) {
      r = SQLITE_NOMEM;
      break;
    }
    b->sql = sql;
    sql[b->n++] = sqlite3_mprintf("%s", sqlite3_column_text(st, 1));
    sql[b->n++] = sqlite3_mprintf("DROP INDEX main.\"%w\"",
                                  sqlite3_column_text(st, 0));
    r = sql[b->n - 2] && sql[b->n - 1] ? SQLITE_OK : SQLITE_NOMEM;
  }
  sqlite3_finalize(st);
  for (size_t i = 1; i < b->n && r == SQLITE_DONE; i += 2)
    if ((r = sqlite3_exec(s->db, b->sql[i], NULL, NULL, NULL)) == SQLITE_OK)
      r = SQLITE_DONE;
  if (r != SQLITE_DONE) {
    bulk_free(b);
    return sli_sqlite_fail(s, s->db, r, "insert");
  }
  b->on = 1;
  return prepare_many(w);
}

/* Write the rows waiting, and make the dropped indexes again. */
static int bulk_end(writer *w) {
  bulk *b = &w->bulk;
  if (!b->on) return SL_OK;
  int rc = batch_flush(w);
  if (rc != SL_OK) return rc;
  b->on = 0;
  for (size_t i = 0; i < b->n; i += 2) {
    int r = sqlite3_exec(w->s->db, b->sql[i], NULL, NULL, NULL);
    if (r != SQLITE_OK) return sli_sqlite_fail(w->s, w->s->db, r, "insert");
  }
  return SL_OK;
}

/* A row's key for the duplicate look: its time, device, type and summary
** as it is written. */
typedef struct rowkey {
  const char *part[4];
  size_t      len[4];
} rowkey;

/* Does the store's look (dup_sql) match a row written with key `had` to
** one with key `k`? Same time, type and summary; the same device, or one
** whose SQL lower() is it. */
static int same_event(const rowkey *had, const rowkey *k) {
  for (int i = 0; i < 4; i++)
    if (had->len[i] != k->len[i]) return 0;
  if (memcmp(had->part[0], k->part[0], k->len[0]) != 0 ||
      memcmp(had->part[2], k->part[2], k->len[2]) != 0 ||
      memcmp(had->part[3], k->part[3], k->len[3]) != 0)
    return 0;
  if (memcmp(had->part[1], k->part[1], k->len[1]) == 0) return 1;
  for (size_t i = 0; i < k->len[1]; i++) {
    unsigned char a = (unsigned char)had->part[1][i];
    if (a >= 'A' && a <= 'Z') a += 'a' - 'A';
    if (a != (unsigned char)k->part[1][i]) return 0;
  }
  return 1;
}

/* Was a row like k written at this instant? (Rows of other instants are
** forgotten.) */
static int group_has(bulk *b, int64_t instant, const rowkey *k) {
  if (b->rows == 0 || instant != b->instant) {
    b->rows = 0;
    b->instant = instant;
    sl_buf_reset(&b->keys);
    return 0;
  }
  const char *p = b->keys.data, *end = p + b->keys.len;
  while (p < end) {
    rowkey had;
    for (int i = 0; i < 4; i++) {
      memcpy(&had.len[i], p, sizeof had.len[i]);
      had.part[i] = p + sizeof had.len[i];
      p = had.part[i] + had.len[i];
    }
    if (same_event(&had, k)) return 1;
  }
  return 0;
}

/* Keep k, written at b->instant; 0 when the group has grown too large. */
static int group_note(bulk *b, const rowkey *k) {
  for (int i = 0; i < 4; i++) {
    sli_put(&b->keys, (const char *)&k->len[i], sizeof k->len[i]);
    sli_put(&b->keys, k->part[i], k->len[i]);
  }
  b->rows++;
  return !b->keys.oom && b->rows < GROUP_ROWS && b->keys.len < GROUP_BYTES;
}

/* Write the staged row `row` is on (or skip it as a duplicate); `dev` is
** the store's device, as rows store it, for a row without one. */
static int write_staged(writer *w, sqlite3_stmt *row, const char *dev) {
  sl_store *s = w->s;
  rowkey k;
  int64_t instant = 0;
  if (w->skip) {
    static const int cols[4] = {0, 1, 2, 5};
    for (int i = 0; i < 4; i++) {
      k.part[i] = (const char *)sqlite3_column_text(row, cols[i]);
      k.len[i] = (size_t)sqlite3_column_bytes(row, cols[i]);
    }
    if (!k.part[1]) {
      k.part[1] = dev;
      k.len[1] = strlen(dev);
    }
    instant = sqlite3_column_int64(row, STAGE_INSTANT);
    int found;
    if (w->bulk.on) {
      found = group_has(&w->bulk, instant, &k);
    } else {
      sl_event ev;
      sli_row_id id;
      memset(&ev, 0, sizeof ev);
      ev.event_type = k.part[2];
      ev.len[SL_COL_EVENT_TYPE] = k.len[2];
      ev.summary = k.part[3];
      ev.len[SL_COL_SUMMARY] = k.len[3];
      snprintf(id.ts, sizeof id.ts, "%s", k.part[0]);
      id.device_id = k.part[1];
      id.device_len = k.len[1];
      found = stored(w->dup, w->foreign, &ev, &id, instant);
      if (found < 0) return sli_sqlite_fail(s, s->db, -found, "insert");
    }
    if (found) {
      w->skipped++;
      return SL_OK;
    }
  }
  if (w->bulk.on) {
    /* Written with the next rows, many at a time. */
    batch_put(&w->bulk, row, dev);
    w->inserted++;
    int rc = SL_OK;
    if (w->bulk.waiting == BATCH_ROWS || w->bulk.batch.len > BATCH_BYTES)
      rc = batch_flush(w);
    /* (k's text is the row's, valid until the next step of `row`.) */
    if (rc == SL_OK && w->skip && !group_note(&w->bulk, &k))
      rc = bulk_end(w);
    return rc;
  }
  /* The row's values as they are: text until the next step of `row`. */
  for (int i = 0; i < 12; i++) {
    switch (sqlite3_column_type(row, i)) {
    case SQLITE_INTEGER:
      sqlite3_bind_int64(w->ins, i + 1, sqlite3_column_int64(row, i));
      break;
    case SQLITE_NULL:
      if (i == 1) sqlite3_bind_text(w->ins, 2, dev, -1, SQLITE_STATIC);
      else sqlite3_bind_null(w->ins, i + 1);
      break;
    default:
      sqlite3_bind_text(w->ins, i + 1,
                        (const char *)sqlite3_column_text(row, i),
                        sqlite3_column_bytes(row, i), SQLITE_STATIC);
      break;
    }
  }
  int r = sqlite3_step(w->ins);
  sqlite3_reset(w->ins);
  if (r != SQLITE_DONE) return sli_sqlite_fail(s, s->db, r, "insert");
  w->inserted++;
  return SL_OK;
}

/* A cache of 16 MiB for the store's connection while it takes the rows
** (a connection's own setting, put back by write_end). */
static int big_cache(writer *w) {
  int rc = store_int(w->s, "PRAGMA main.cache_size", &w->cache);
  if (rc != SL_OK) return rc;
  int r = sqlite3_exec(w->s->db, "PRAGMA main.cache_size=-16384", NULL, NULL,
                       NULL);
  w->cache_set = r == SQLITE_OK;
  return r == SQLITE_OK ? SL_OK : sli_sqlite_fail(w->s, w->s->db, r,
                                                   "insert");
}

int sl_import_commit(sl_import *im, sl_store *s, size_t *inserted,
                     size_t *skipped) {
  writer w;
  sqlite3_stmt *rows = NULL;
  char dev[SL_UUID_BUFSZ];
  const char *device = NULL;
  size_t missing;
  int rc;

  if (inserted) *inserted = 0;
  if (skipped) *skipped = 0;
  if (!im) return SL_MISUSE;
  if ((rc = usable(im)) != SL_OK) return rc;
  if (!s) return im_fail(im, SL_MISUSE, "import: no store");
  if ((rc = writable(s)) != SL_OK)
    return im_fail(im, rc, "%s", sl_store_errmsg(s));
  if (s->device_id) {
    /* as sli_row_text gives it: lowercase and hyphenated when a UUID */
    device = sl_uuid_normalize(s->device_id, dev) == SL_OK ? dev
                                                           : s->device_id;
  } else {
    if ((missing = im->deviceless) != 0)
      return im_fail(im, sli_fail(s, SL_INVALID, "event %zu: device_id: "
                                  "missing (give one, or open the store "
                                  "with a device_id)", missing),
                     "%s", sl_store_errmsg(s));
  }
  /* Oldest first: the order added when that is it (one export written
  ** oldest first), its reverse when that is (one export newest first,
  ** no two events at one instant), else SQLite's sorter. */
  const char *order = " ORDER BY rowid";
  if ((im->flags & SL_IMPORT_BY_TIME) && !im->rising)
    order = im->falling ? " ORDER BY rowid DESC" : " ORDER BY instant, rowid";
  char sql[sizeof "SELECT " STAGE_COLUMNS + 32];
  snprintf(sql, sizeof sql, "SELECT %s%s", STAGE_COLUMNS, order);
  int r = sqlite3_prepare_v2(im->db, sql, -1, &rows, NULL);
  if (r != SQLITE_OK) return stage_fail(im, r);

  rc = write_begin(&w, s, (im->flags & SL_IMPORT_SKIP_DUPLICATES) != 0);
  if (rc == SL_OK) rc = big_cache(&w);
  /* A bulk load needs the rows of an instant together to skip
  ** duplicates. */
  if (rc == SL_OK && (!w.skip || (im->flags & SL_IMPORT_BY_TIME)))
    rc = bulk_begin(&w);
  while (rc == SL_OK) {
    r = sqlite3_step(rows);
    if (r == SQLITE_DONE) break;
    if (r != SQLITE_ROW) {
      stage_fail(im, r);
      rc = sli_fail(s, sli_status_from_sqlite(r), "%s", im->errmsg);
      break;
    }
    rc = write_staged(&w, rows, device);
  }
  sqlite3_finalize(rows);
  if (rc == SL_OK) rc = bulk_end(&w);
  if ((rc = write_end(&w, rc)) != SL_OK)
    return im_fail(im, rc, "%s", sl_store_errmsg(s));
  im->state = IMPORT_COMMITTED;
  if (inserted) *inserted = w.inserted;
  if (skipped) *skipped = w.skipped;
  return SL_OK;
}

void sl_import_free(sl_import *im) {
  if (!im) return;
  sqlite3_finalize(im->add);
  sqlite3_close_v2(im->db);
  sl_buf_free(&im->details);
  free(im);
}
