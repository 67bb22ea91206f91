/*
** sl_writer.c -- the non-blocking logger: a bounded queue that callers
** append to from any thread, and the writer thread that owns its own
** SQLite connection and drains the queue in batches, one transaction per
** batch through one prepared INSERT. A batch that fails (a full disk, a
** lock, an I/O error) stays at the head of the queue and is tried again
** with backoff for the retry budget (10 minutes by default) before its
** events are counted as failed; meanwhile appends fill the queue, and once
** it is full they are dropped and counted. The drops are logged as a
** sync_error in the first batch that commits, whatever failed before it.
** The hourly retention pass runs here too.
**
** Before each batch, after each commit and in idle spells, the writer
** checks that its file is still the one at the store's path
** (sl_follow.c). If the file was replaced or deleted, the writer lets go
** of it, opens the file now at the path (making it anew if it is gone),
** writes the batch there -- again, if it had just been committed to the
** old one -- and logs a sync_error saying what happened; flush reports
** success only for events in the file at the path.
**
** The queue is a bounded multi-producer ring in the manner of Dmitry
** Vyukov's: each cell carries a sequence number that says whose turn it
** is, so a producer claims a cell with one compare-and-swap and publishes
** it with one store, and the writer takes cells in order without a lock.
** A cell holds an event, or one sl_batch_add's records (inline: no
** allocation unless its text is long), or a request to tick or flush the
** batch aggregator (sl_batch.c), which the writer thread owns: it feeds
** the aggregator in queue order and writes the batch events it makes in
** the same transaction, so the records' callers never lock, allocate or
** format. The records sit in an array beside the ring, whose pages only
** a store that aggregates touches.
** A caller therefore never waits for a lock another thread holds (which a
** preempted holder could make last a time slice) and makes no system call:
** instead of being signalled per event, the writer polls, every millisecond
** while events flow and backing off to MAX_IDLE_MS when idle, and is woken
** at once only when the queue is half full, or by flush or close.
** C99 has no atomics; GCC's and Clang's __atomic builtins stand in.
*/
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sli.h"

#define RETRY_BASE_MS 10         /* first backoff; doubles each attempt ... */
#define RETRY_MAX_MS  2000       /* ... up to this                          */
#define MIN_IDLE_MS   1          /* poll period while events flow           */
#define MAX_IDLE_MS   64         /* poll period after a long idle spell     */

#define LOAD(p)        SLI_LOAD(p)
#define STORE(p, v)    SLI_STORE(p, v)
#define ADD(p, v)      __atomic_fetch_add((p), (v), __ATOMIC_RELAXED)
#define FOLLOW_PASSES  3         /* commits a path replaced each time gets */

/* Why the writer is on another file than it opened (a pending report). */
enum { SAME_FILE, FILE_REPLACED, FILE_DELETED };

/* One queued event in a single allocation: the strings live in text[]. */
typedef struct rec {
  sl_event ev;                 /* pointers into text                        */
  char     text[];             /* NUL-terminated copies, back to back       */
} rec;

/* What a cell without an event asks for (its records entry says). */
enum { CELL_RECORDS = 1, CELL_BIG_RECORDS, CELL_TICK, CELL_FLUSH };

#define INLINE_TEXT 96           /* model, peer, session: two UUIDs fit     */

/* One sl_batch_add whose text does not fit a cell's records. */
typedef struct big_records {
  int64_t     at, count;
  const char *model, *peer, *session;   /* into text                        */
  char        text[];
} big_records;

/* Beside each cell, what it asks of the aggregator when it holds no event:
** one sl_batch_add (the model, then the peer and the session when given,
** each NUL-terminated, back to back in text; or a copy of its own when
** longer), or a tick or a flush at `at`. */
typedef struct records {
  int64_t       at;
  int64_t       count;
  big_records  *big;           /* CELL_BIG_RECORDS                          */
  unsigned char kind;          /* CELL_*                                    */
  unsigned char realtime;      /* `at` was read from the clock              */
  unsigned char has_peer, has_session;
  char          text[INLINE_TEXT];
} records;

/* A cell of the ring: 16 bytes, so that appends share few cache lines. */
typedef struct cell {
  size_t seq;                  /* == position: free for that producer;
                                  == position + 1: holds its entry          */
  rec   *event;                /* the event, or NULL: see its records       */
} cell;

struct sli_writer {
  /* Shared with every producer, lock-free. */
  cell           *cells;       /* the ring                                  */
  records        *recs;        /* beside it, cell i's records: their pages
                                  are touched only when used                */
  size_t          cap;         /* its size, a power of two >= 2             */
  size_t          limit;       /* the capacity asked for (<= cap): full     */
  size_t          enqueue_pos; /* next position a producer claims           */
  size_t          dequeue_pos; /* next position the writer takes            */
  uint64_t        dropped;     /* refused: queue full or no memory          */
  uint64_t        accepted;    /* events queued (cells hold records too)    */
  uint64_t        unreported;  /* drops not yet logged as an event          */
  int             stopping;    /* close asked: drain, then exit             */

  /* The writer's, or guarded by mu. */
  pthread_t       thread;      /* drains the queue                          */
  pthread_mutex_t mu;          /* the sleep, flush and stats handshake      */
  pthread_cond_t  wake;        /* half full, flush, stop, prune schedule    */
  pthread_cond_t  done;        /* a batch was sealed                        */
  const sl_store *store;       /* its path and options, only read           */
  sqlite3        *db;          /* the writer's connection (thread-owned);
                                  NULL after letting go of a moved file     */
  sqlite3_stmt   *insert;      /* the one INSERT                            */
  sli_files       files;       /* what db had open when it was made         */
  int             moved;       /* SAME_FILE, or the sync_error to log       */
  char           *device;      /* default device id for the drop report     */
  sli_batches    *batches;     /* the aggregator, fed from the queue        */
  rec           **out;         /* events for the current transaction        */
  size_t          n_out, cap_out;
  size_t          take_max;    /* cells taken for one transaction, at most  */
  uint64_t        made;        /* batch events the aggregator made          */
  uint64_t        lost;        /* events lost without memory on the writer  */
  uint64_t        sealed;      /* positions written or given up on          */
  int             flushing;    /* callers waiting in flush                  */
  int             running;     /* the thread exists and was not joined      */
  uint64_t        written, failed, retries, pruned;
  uint64_t        failed_seen; /* `failed` as the last flush saw it         */
  int             last_error;  /* status of the last batch given up on      */
  char            last_msg[SLI_ERRMSG_MAX]; /* and why, under mu           */
  int             auto_prune;  /* retention pass due every prune_every      */
  int64_t         retention;   /* ns of history kept                        */
  int64_t         retry_budget; /* ns a failing batch is retried           */
  int64_t         prune_every; /* ns between passes                         */
  int64_t         next_prune;  /* instant of the next pass                  */
};


/* ------------------------------------------------------ caller side */

/* Copy n bytes of text to *cursor, with a NUL after them; NULL stays
** NULL. */
static const char *put(char **cursor, const char *s, size_t n) {
  if (!s) return NULL;
  char *dst = *cursor;
  memcpy(dst, s, n);
  dst[n] = '\0';
  *cursor += n + 1;
  return dst;
}

static int drop(sli_writer *w, int status) {
  ADD(&w->dropped, 1);
  ADD(&w->unreported, 1);
  return status;
}

/* Copy the caller's event into one allocation the writer will free. */
static rec *copy_event(const sl_event *ev, int64_t instant,
                       const char *device) {
  sl_event e = *ev;
  if (!e.device_id) {
    e.device_id = device;
    e.len[SL_COL_DEVICE_ID] = 0;
  }
  const char *text[SL_COLUMN_COUNT];
  size_t n[SL_COLUMN_COUNT], total = 0;
  /* The text too: a leap second is stored as second 60. */
  for (int col = SL_COL_TIMESTAMP; col <= SL_COL_MODEL_TYPES; col++) {
    text[col] = sl_event_text(&e, col, &n[col]);
    if (text[col]) total += n[col] + 1;
  }
  rec *r = malloc(sizeof *r + total);
  if (!r) return NULL;
  char *p = r->text;
  r->ev = e;
  r->ev.id = 0;
  r->ev.instant = instant;
  r->ev.has_instant = 1;
  r->ev.timestamp = put(&p, text[SL_COL_TIMESTAMP], n[SL_COL_TIMESTAMP]);
  r->ev.device_id = put(&p, text[SL_COL_DEVICE_ID], n[SL_COL_DEVICE_ID]);
  r->ev.event_type = put(&p, text[SL_COL_EVENT_TYPE], n[SL_COL_EVENT_TYPE]);
  r->ev.category = put(&p, text[SL_COL_CATEGORY], n[SL_COL_CATEGORY]);
  r->ev.severity = put(&p, text[SL_COL_SEVERITY], n[SL_COL_SEVERITY]);
  r->ev.summary = put(&p, text[SL_COL_SUMMARY], n[SL_COL_SUMMARY]);
  r->ev.details = put(&p, text[SL_COL_DETAILS], n[SL_COL_DETAILS]);
  r->ev.correlation_id = put(&p, text[SL_COL_CORRELATION_ID],
                             n[SL_COL_CORRELATION_ID]);
  r->ev.peer_device_id = put(&p, text[SL_COL_PEER_DEVICE_ID],
                             n[SL_COL_PEER_DEVICE_ID]);
  r->ev.model_types = put(&p, text[SL_COL_MODEL_TYPES],
                          n[SL_COL_MODEL_TYPES]);
  for (int col = SL_COL_TIMESTAMP; col <= SL_COL_MODEL_TYPES; col++)
    r->ev.len[col] = n[col];
  return r;
}

/* Claim the cell for the next position, or NULL when the queue is full.
** pos may already be behind what the writer has taken (other producers
** and the writer ran between the two loads): a negative depth, not a full
** queue. */
static cell *claim(sli_writer *w, size_t *claimed) {
  size_t pos = __atomic_load_n(&w->enqueue_pos, __ATOMIC_RELAXED);
  for (;;) {
    if ((intptr_t)(pos - LOAD(&w->dequeue_pos)) >= (intptr_t)w->limit)
      return NULL;
    cell *c = &w->cells[pos & (w->cap - 1)];
    intptr_t turn = (intptr_t)(LOAD(&c->seq) - pos);
    if (turn == 0) {
      if (__atomic_compare_exchange_n(&w->enqueue_pos, &pos, pos + 1, 1,
                                      __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
        *claimed = pos;
        return c;
      }
    } else if (turn < 0) {
      return NULL;             /* the writer has not taken it yet: full */
    } else {
      pos = __atomic_load_n(&w->enqueue_pos, __ATOMIC_RELAXED);
    }
  }
}

static void publish(sli_writer *w, cell *c, size_t pos) {
  STORE(&c->seq, pos + 1);
  /* The writer polls; only a filling queue is worth a wake-up call. */
  if (pos - LOAD(&w->dequeue_pos) == w->limit / 2)
    pthread_cond_signal(&w->wake);
}

int sli_writer_append(sli_writer *w, const sl_event *ev, const char *device) {
  int64_t instant;
  size_t pos;
  if (LOAD(&w->stopping)) return SL_MISUSE;
  /* Parse the caller's time here (cheap, and a bad one is refused now);
  ** formatting waits for the writer thread. */
  if (ev->timestamp) {
    if (sl_event_time(ev, &instant) != SL_OK)
      return SL_INVALID;
  } else {
    instant = sl_time_now();
  }
  /* A full queue refuses before anything is allocated. */
  size_t head = __atomic_load_n(&w->enqueue_pos, __ATOMIC_RELAXED);
  if ((intptr_t)(head - LOAD(&w->dequeue_pos)) >= (intptr_t)w->limit)
    return drop(w, SL_FULL);
  rec *r = copy_event(ev, instant, device);
  if (!r) return drop(w, SL_NOMEM);
  cell *c = claim(w, &pos);
  if (!c) {
    free(r);
    return drop(w, SL_FULL);
  }
  c->event = r;
  ADD(&w->accepted, 1);
  publish(w, c, pos);
  return SL_OK;
}

int sli_writer_add_records(sli_writer *w, const char *model, int64_t count,
                           const char *peer, const char *session,
                           int64_t at) {
  size_t pos;
  if (LOAD(&w->stopping)) return SL_MISUSE;
  int realtime = at == 0;
  if (realtime) at = sl_time_now();
  size_t nm = strlen(model), np = peer ? strlen(peer) : 0,
         ns = session ? strlen(session) : 0;
  size_t total = nm + 1 + (peer ? np + 1 : 0) + (session ? ns + 1 : 0);
  big_records *big = NULL;
  if (total > INLINE_TEXT) {   /* the rare long name: a copy of its own */
    big = malloc(sizeof *big + total);
    if (!big) return drop(w, SL_NOMEM);
    char *p = big->text;
    big->at = at;
    big->count = count;
    big->model = put(&p, model, nm);
    big->peer = put(&p, peer, np);
    big->session = put(&p, session, ns);
  }
  cell *c = claim(w, &pos);
  if (!c) {
    free(big);
    return drop(w, SL_FULL);
  }
  records *r = &w->recs[pos & (w->cap - 1)];
  c->event = NULL;
  r->realtime = (unsigned char)realtime;
  r->has_peer = peer != NULL;
  r->has_session = session != NULL;
  if (big) {
    r->kind = CELL_BIG_RECORDS;
    r->big = big;
  } else {
    char *p = r->text;
    r->kind = CELL_RECORDS;
    r->at = at;
    r->count = count;
    put(&p, model, nm);
    put(&p, peer, np);
    put(&p, session, ns);
  }
  publish(w, c, pos);
  return SL_OK;
}

int sli_writer_batches(sli_writer *w, int flush, int64_t at) {
  size_t pos;
  if (LOAD(&w->stopping)) return SL_MISUSE;
  int realtime = at == 0;
  if (realtime) at = sl_time_now();
  cell *c = claim(w, &pos);
  if (!c) return drop(w, SL_FULL);
  records *r = &w->recs[pos & (w->cap - 1)];
  c->event = NULL;
  r->kind = flush ? CELL_FLUSH : CELL_TICK;
  r->realtime = (unsigned char)realtime;
  r->at = at;
  publish(w, c, pos);
  return SL_OK;
}

/* The status of events given up on since the last look (SL_OK: none),
** and why into why[SLI_ERRMSG_MAX]; under mu. */
static int take_failure(sli_writer *w, char *why) {
  int rc = w->failed > w->failed_seen ? w->last_error : SL_OK;
  w->failed_seen = w->failed;
  if (rc != SL_OK && why) memcpy(why, w->last_msg, SLI_ERRMSG_MAX);
  return rc;
}

/* Wait, under mu, until every cell queued before the call is sealed, or
** the instant `deadline` (INT64_MAX: none); whether it timed out. */
static int wait_sealed(sli_writer *w, int64_t deadline) {
  struct timespec until;
  int timed_out = 0;
  until.tv_sec = (time_t)(deadline / SL_NS_PER_SEC);
  until.tv_nsec = (long)(deadline % SL_NS_PER_SEC);
  uint64_t ticket = LOAD(&w->enqueue_pos);
  w->flushing++;
  pthread_cond_signal(&w->wake);
  while (w->sealed < ticket && w->running && !timed_out) {
    if (deadline == INT64_MAX) pthread_cond_wait(&w->done, &w->mu);
    else timed_out = pthread_cond_timedwait(&w->done, &w->mu, &until) ==
                     ETIMEDOUT && w->sealed < ticket;
  }
  w->flushing--;
  return timed_out;
}

int sli_writer_flush(sli_writer *w, int64_t deadline, char *why) {
  pthread_mutex_lock(&w->mu);
  int rc = wait_sealed(w, deadline) ? SL_TIMEOUT : take_failure(w, why);
  pthread_mutex_unlock(&w->mu);
  return rc;
}

size_t sli_writer_batch_memory(sli_writer *w, size_t *keys) {
  pthread_mutex_lock(&w->mu);
  wait_sealed(w, INT64_MAX);
  pthread_mutex_unlock(&w->mu);
  return w->batches ? sli_batches_memory(w->batches, keys) : 0;
}

void sli_writer_stats(sli_writer *w, sl_stats *out) {
  size_t in = LOAD(&w->enqueue_pos), taken = LOAD(&w->dequeue_pos);
  pthread_mutex_lock(&w->mu);
  out->appended = LOAD(&w->accepted) + LOAD(&w->made);
  out->written = w->written;
  out->dropped = LOAD(&w->dropped);
  out->failed = w->failed;
  out->retries = w->retries;
  out->pruned = w->pruned;
  out->queue_depth = in - taken;
  out->queue_capacity = w->limit;
  pthread_mutex_unlock(&w->mu);
}

void sli_writer_schedule_prune(sli_writer *w) {
  pthread_mutex_lock(&w->mu);
  w->auto_prune = 1;
  w->next_prune = sl_time_now(); /* as Spacedrive: the first pass at once */
  pthread_cond_signal(&w->wake);
  pthread_mutex_unlock(&w->mu);
}

/* ------------------------------------------------------ writer side */

/* Insert one event; SQLITE_OK, SQLITE_MISMATCH for details that are not
** JSON (that event alone is refused), or the failing SQLite code. */
static int insert(sli_writer *w, const sl_event *ev, sl_buf *json) {
  sqlite3_stmt *st = w->insert;
  int rc = sli_bind_event(st, ev, ev->instant, NULL, json, NULL, 0);
  if (rc == SL_INVALID) return SQLITE_MISMATCH;
  if (rc != SL_OK) return SQLITE_NOMEM;
  rc = sqlite3_step(st);
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* An event of ours in Spacedrive's sync_error shape. */
static int insert_error(sli_writer *w, const char *device,
                        const char *summary, const char *details,
                        sl_buf *json) {
  sl_event ev;
  memset(&ev, 0, sizeof ev);
  ev.instant = sl_time_now();
  ev.device_id = device;
  ev.event_type = "sync_error";
  ev.category = "error";
  ev.severity = "error";
  ev.summary = summary;
  ev.details = details;
  return insert(w, &ev, json);
}

/* The event that reports queue drops. */
static int insert_drop_report(sli_writer *w, uint64_t n, const char *device,
                              sl_buf *json) {
  char summary[96], details[128];
  snprintf(summary, sizeof summary,
           "Event log queue full: %llu events dropped", (unsigned long long)n);
  snprintf(details, sizeof details,
           "{\"dropped_count\":%llu,\"queue_capacity\":%llu}",
           (unsigned long long)n, (unsigned long long)w->limit);
  return insert_error(w, device, summary, details, json);
}

/* The event that reports the file at the path replaced or deleted. */
static int insert_moved_report(sli_writer *w, const char *device,
                               sl_buf *json) {
  const char *path = w->store->path;
  int deleted = w->moved == FILE_DELETED;
  sl_buf summary = {0}, details = {0};
  sl_buf_puts(&summary, deleted ? "Event log file deleted while logging: "
                                  "made anew at "
                                : "Event log file replaced while logging: "
                                  "now writing to the file at ");
  sl_buf_puts(&summary, path);
  sl_buf_puts(&details, "{\"reason\":");
  sl_buf_puts(&details, deleted ? "\"deleted\"" : "\"replaced\"");
  sl_buf_puts(&details, ",\"path\":");
  sl_json_write_string(&details, path, strlen(path));
  sl_buf_puts(&details, "}");
  int rc = summary.oom || details.oom
         ? SQLITE_NOMEM
         : insert_error(w, device, summary.data, details.data, json);
  sl_buf_free(&summary);
  sl_buf_free(&details);
  return rc;
}

/* Record why the batch failed (flush and close put the path before
** it). */
static void note_failure(sli_writer *w, const char *why) {
  pthread_mutex_lock(&w->mu);
  snprintf(w->last_msg, sizeof w->last_msg, "%s", why);
  pthread_mutex_unlock(&w->mu);
}

/* One transaction for the batch. Returns SQLITE_OK or the failing code
** (its message noted); *refused counts events whose details were not
** JSON. */
static int write_once(sli_writer *w, size_t n, uint64_t drops, sl_buf *json,
                      size_t *refused) {
  int rc = sqlite3_exec(w->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
  const char *device = w->device ? w->device
                     : n ? w->out[0]->ev.device_id : NULL;
  *refused = 0;
  for (size_t i = 0; rc == SQLITE_OK && i < n; i++) {
    rc = insert(w, &w->out[i]->ev, json);
    if (rc == SQLITE_MISMATCH) {
      (*refused)++;
      rc = SQLITE_OK;
    }
  }
  if (rc == SQLITE_OK && drops && device)
    rc = insert_drop_report(w, drops, device, json);
  if (rc == SQLITE_OK && w->moved != SAME_FILE && device)
    rc = insert_moved_report(w, device, json);
  if (rc == SQLITE_OK) rc = sqlite3_exec(w->db, "COMMIT", NULL, NULL, NULL);
  if (rc != SQLITE_OK) {
    note_failure(w, sqlite3_errmsg(w->db));   /* before ROLLBACK's own */
    sqlite3_exec(w->db, "ROLLBACK", NULL, NULL, NULL);
  }
  return rc;
}

/* Let go of a file that is no longer at the path (sl_follow.c), noting
** whether the path was replaced or emptied for the report. */
static void let_go(sli_writer *w) {
  char name[PATH_MAX];
  struct stat st;
  w->moved = sli_stat_beside(w->store->path, "", name, &st) == 0
           ? FILE_REPLACED : FILE_DELETED;
  sqlite3_finalize(w->insert);
  w->insert = NULL;
  sli_db_close(w->db, &w->files);
  w->db = NULL;
}

/* Make sure w->db is the file at the path, letting go of a moved one and
** opening what is there now. SL_OK, or the status of a failed open. */
static int follow_path(sli_writer *w) {
  if (w->db && !sli_db_moved(w->db)) return SL_OK;
  if (w->db) let_go(w);
  char msg[SLI_ERRMSG_MAX];
  sqlite3 *db;
  int rc = sli_store_open_writer_db(w->store, &db, msg);
  if (rc == SL_OK &&
      sqlite3_prepare_v2(db, sli_insert_sql, -1, &w->insert, NULL) !=
        SQLITE_OK) {
    snprintf(msg, sizeof msg, "%s", sqlite3_errmsg(db));
    sqlite3_close_v2(db);
    rc = SL_ERROR;
  }
  if (rc != SL_OK) {
    note_failure(w, msg);
    return rc;
  }
  w->db = db;
  sli_files_note(w->db, &w->files);
  return SL_OK;
}

/* Write the batch into the file at the path: SL_OK once it is committed
** there and the file is still the one at the path, else the failure's
** status (the batch is then retried). A commit that landed in a file
** replaced meanwhile is written again to the new one. */
static int write_batch(sli_writer *w, size_t n, uint64_t drops, sl_buf *json,
                       size_t *refused) {
  for (int pass = 0; pass < FOLLOW_PASSES; pass++) {
    int rc = follow_path(w);
    if (rc != SL_OK) return rc;
    rc = write_once(w, n, drops, json, refused);
    if (rc != SQLITE_OK) return sli_status_from_sqlite(rc);
    if (!sli_db_moved(w->db)) {
      w->moved = SAME_FILE;
      if (!w->files.wal_noted) sli_files_note(w->db, &w->files);
      return SL_OK;
    }
  }
  note_failure(w, "the file was replaced again at each commit");
  return SL_IOERR;
}

static int prune_due(const sli_writer *w) {
  return w->auto_prune && sl_time_now() >= w->next_prune;
}

/* Add an event to the transaction being made; 0 without memory. */
static int push(sli_writer *w, rec *r) {
  if (w->n_out == w->cap_out) {
    size_t cap = w->cap_out ? w->cap_out * 2 : 64;
    rec **out = realloc(w->out, cap * sizeof *out);
    if (!out) return 0;
    w->out = out;
    w->cap_out = cap;
  }
  w->out[w->n_out++] = r;
  return 1;
}

/* The aggregator's sink: its batch events join the transaction. */
static int collect(void *ctx, const sl_event *ev, int64_t at) {
  sli_writer *w = ctx;
  rec *r = copy_event(ev, at, w->device);
  if (!r || !push(w, r)) {
    free(r);
    w->lost++;
    return SL_NOMEM;
  }
  ADD(&w->made, 1);
  return SL_OK;
}

/* What a taken cell asks for, done. The aggregator fails only without
** memory, and then its events are lost (counted in collect, or here). */
static void consume(sli_writer *w, cell *c, const records *r) {
  sli_batches *g = w->batches;
  int rc = SL_OK;
  if (c->event) {
    if (!push(w, c->event)) {
      free(c->event);
      w->lost++;
    }
    return;
  }
  switch (r->kind) {
  case CELL_RECORDS: {
    const char *model = r->text, *next = model + strlen(model) + 1;
    const char *peer = r->has_peer ? next : NULL;
    if (peer) next += strlen(peer) + 1;
    rc = sli_batches_add(g, model, r->count, peer,
                         r->has_session ? next : NULL, r->at, r->realtime);
    break;
  }
  case CELL_BIG_RECORDS:
    rc = sli_batches_add(g, r->big->model, r->big->count, r->big->peer,
                         r->big->session, r->big->at, r->realtime);
    free(r->big);
    break;
  case CELL_TICK:
    rc = sli_batches_tick(g, r->at, r->realtime, 0);
    break;
  default:
    rc = sli_batches_flush_all(g, r->at, r->realtime);
    break;
  }
  if (rc == SL_NOMEM && !w->lost) w->lost++;
}

/* Take the published cells at the head of the ring, in order, and do what
** they ask: the events for the transaction gather in w->out. */
static size_t take(sli_writer *w) {
  size_t n = 0, pos = w->dequeue_pos;
  while (n < w->take_max) {
    cell *c = &w->cells[pos & (w->cap - 1)];
    if (LOAD(&c->seq) != pos + 1) break;  /* not published yet */
    consume(w, c, &w->recs[pos & (w->cap - 1)]);
    STORE(&c->seq, pos + w->cap);         /* the cell's next turn */
    pos++;
    n++;
  }
  STORE(&w->dequeue_pos, pos);
  return n;
}

/* Count a retry (stats show it at once) and wait `ms` before it, or less
** if close asks the writer to stop. */
static void backoff(sli_writer *w, long ms) {
  struct timespec until;
  int64_t t = sl_time_now() + (int64_t)ms * 1000000;
  until.tv_sec = (time_t)(t / SL_NS_PER_SEC);
  until.tv_nsec = (long)(t % SL_NS_PER_SEC);
  pthread_mutex_lock(&w->mu);
  w->retries++;
  if (!LOAD(&w->stopping))
    pthread_cond_timedwait(&w->wake, &w->mu, &until);
  pthread_mutex_unlock(&w->mu);
}

/* Sleep until woken or `ms` pass; returns at once when there is a reason
** to work: a flush waiting, a stop, a prune due, or an event published. */
static void idle(sli_writer *w, long ms) {
  pthread_mutex_lock(&w->mu);
  cell *head = &w->cells[w->dequeue_pos & (w->cap - 1)];
  if (!w->flushing && !LOAD(&w->stopping) && !prune_due(w) &&
      LOAD(&head->seq) != w->dequeue_pos + 1) {
    struct timespec until;
    int64_t t = sl_time_now() + (int64_t)ms * 1000000;
    if (w->auto_prune && w->next_prune < t) t = w->next_prune;
    until.tv_sec = (time_t)(t / SL_NS_PER_SEC);
    until.tv_nsec = (long)(t % SL_NS_PER_SEC);
    pthread_cond_timedwait(&w->wake, &w->mu, &until);
  }
  pthread_mutex_unlock(&w->mu);
}

static void *writer_main(void *arg) {
  sli_writer *w = arg;
  sl_buf json = {0};
  long nap = MIN_IDLE_MS;
  for (;;) {
    int stopping = LOAD(&w->stopping);
    size_t cells = take(w);
    /* A clock-fed aggregator flushes on time even when no call comes; at
    ** the end, what is pending goes out before the writer stops. */
    if (!stopping) sli_batches_tick(w->batches, 0, 1, 1);
    else if (!cells) sli_batches_flush_all(w->batches, 0, 0);
    size_t n = w->n_out;
    uint64_t drops = 0;
    /* Drops happen while the queue is full, so a batch follows them; the
    ** report rides in it, stamped with the batch's device if no default,
    ** and the count is taken off only once it is committed. */
    if (n || w->device) drops = LOAD(&w->unreported);
    int pruning = prune_due(w);

    int rc = SL_OK;
    size_t refused = 0;
    if (n || drops) {
      /* The batch stays at the head until it commits or the budget is
      ** spent; closing cuts the budget short (one more try). */
      int64_t give_up = w->retry_budget < 0 ? 0
                      : sl_time_now() + w->retry_budget;
      long wait = RETRY_BASE_MS;
      while ((rc = write_batch(w, n, drops, &json, &refused)) != SL_OK) {
        int64_t left = give_up - sl_time_now();
        if (left <= 0 || LOAD(&w->stopping)) break;
        backoff(w, left < (int64_t)wait * 1000000 ? (long)(left / 1000000) + 1
                                                 : wait);
        if (wait < RETRY_MAX_MS) wait *= 2;
      }
      if (rc == SL_OK && drops)
        __atomic_fetch_sub(&w->unreported, drops, __ATOMIC_RELAXED);
    }
    for (size_t i = 0; i < n; i++) free(w->out[i]);
    w->n_out = 0;
    sl_prune_result pr = {0};
    if (pruning && w->db && !sli_db_moved(w->db))
      sli_prune(w->db, NULL, sl_time_now() - w->retention, 0, &pr);

    pthread_mutex_lock(&w->mu);
    if (rc == SL_OK) {
      w->written += n - refused;
      w->failed += refused;
      if (refused) {
        w->last_error = SL_INVALID;
        snprintf(w->last_msg, sizeof w->last_msg,
                 "details that are not JSON");
      }
    } else {
      w->failed += n;
      w->last_error = rc;
    }
    if (w->lost) {
      w->failed += w->lost;
      w->last_error = SL_NOMEM;
      snprintf(w->last_msg, sizeof w->last_msg, "out of memory");
      w->lost = 0;
    }
    w->sealed += cells;
    if (pruning) {
      w->pruned += (uint64_t)pr.count;
      w->next_prune = sl_time_now() + w->prune_every;
    }
    pthread_cond_broadcast(&w->done);
    pthread_mutex_unlock(&w->mu);

    if (cells || n) {
      nap = MIN_IDLE_MS;
    } else if (stopping) {
      break; /* drained: whatever is claimed but unpublished is freed later */
    } else {
      /* A replaced file is let go of at once, so that no other opener
      ** finds our -wal beside the new one. */
      if (w->db && sli_db_moved(w->db)) let_go(w);
      idle(w, nap);
      if (nap < MAX_IDLE_MS) nap *= 2;
    }
  }
  pthread_mutex_lock(&w->mu);
  w->running = 0;
  pthread_cond_broadcast(&w->done);
  pthread_mutex_unlock(&w->mu);
  sl_buf_free(&json);
  return NULL;
}

static size_t power_of_two(size_t n) {
  size_t p = 2;
  while (p < n && p < ((size_t)1 << 40)) p <<= 1;
  return p;
}

int sli_writer_start(sl_store *s, sqlite3 *db, sli_writer **out) {
  sli_writer *w = calloc(1, sizeof *w);
  *out = w;
  if (!w) {
    sqlite3_close_v2(db);
    return sli_fail(s, SL_NOMEM, "out of memory");
  }
  w->db = db;
  w->store = s;
  w->files = s->files;
  /* A ring of one cell cannot tell "published" from "free", hence >= 2;
  ** the capacity asked for is still the bound producers see. */
  w->limit = s->opts.queue_capacity;
  w->cap = power_of_two(w->limit);
  w->take_max = w->cap;
  w->retention = s->opts.retention;
  w->retry_budget = s->opts.retry_budget;
  w->prune_every = s->opts.prune_interval;
  w->cells = malloc(w->cap * sizeof *w->cells);
  w->recs = calloc(w->cap, sizeof *w->recs);
  w->device = sli_strdup(s->device_id);
  pthread_mutex_init(&w->mu, NULL);
  pthread_cond_init(&w->wake, NULL);
  pthread_cond_init(&w->done, NULL);
  if (!w->cells || !w->recs || (s->device_id && !w->device) ||
      sli_batches_new(&s->opts, collect, w, &w->batches) != SL_OK)
    return sli_fail(s, SL_NOMEM, "out of memory");
  for (size_t i = 0; i < w->cap; i++) w->cells[i].seq = i;
  int rc = sqlite3_prepare_v2(db, sli_insert_sql, -1, &w->insert, NULL);
  if (rc != SQLITE_OK) return sli_sqlite_fail(s, db, rc, NULL);
  w->running = 1;
  if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
    w->running = 0;
    return sli_fail(s, SL_ERROR, "%s: cannot start the writer thread",
                    s->path);
  }
  return SL_OK;
}

int sli_writer_stop(sli_writer *w, char *why) {
  if (!w) return SL_OK;
  int rc = SL_OK;
  pthread_mutex_lock(&w->mu);
  int joinable = w->running && !LOAD(&w->stopping);
  STORE(&w->stopping, 1);
  pthread_cond_signal(&w->wake);
  pthread_mutex_unlock(&w->mu);
  if (joinable) {
    pthread_join(w->thread, NULL);
    rc = take_failure(w, why);
  }
  return rc;
}

/* What a cell still holds that is the queue's to free. */
static void discard(cell *c, records *r) {
  if (c->event) free(c->event);
  else if (r->kind == CELL_BIG_RECORDS) free(r->big);
}

void sli_writer_free(sli_writer *w) {
  if (!w) return;
  /* Cells published after the writer's last look (an append racing
  ** close), or queued when it never started. */
  if (w->cells)
    for (size_t pos = w->dequeue_pos; pos != w->enqueue_pos; pos++) {
      cell *c = &w->cells[pos & (w->cap - 1)];
      if (c->seq == pos + 1) discard(c, &w->recs[pos & (w->cap - 1)]);
    }
  sqlite3_finalize(w->insert);
  sli_db_close(w->db, &w->files);
  pthread_mutex_destroy(&w->mu);
  pthread_cond_destroy(&w->wake);
  pthread_cond_destroy(&w->done);
  sli_batches_free(w->batches);
  free(w->cells);
  free(w->recs);
  free(w->out);
  free(w->device);
  free(w);
}
