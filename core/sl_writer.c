/*
** sl_writer.c -- the non-blocking logger: a bounded queue that callers
** append to from any thread, and the writer thread that owns its own
** SQLite connection and drains the queue in batches, one transaction per
** batch through one prepared INSERT. Failures are retried, then counted;
** a full queue drops and counts, and the drops are themselves logged as a
** sync_error once there is room. The hourly retention pass runs here too.
*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sli.h"

#define BATCH_MAX     8192       /* rows per transaction at most            */
#define RETRY_LIMIT   6          /* attempts per batch before giving up     */
#define RETRY_BASE_MS 10         /* first backoff; doubles each attempt     */

/* One queued event in a single allocation: the strings live in text[]. */
typedef struct rec {
  sl_event ev;                 /* pointers into text                        */
  char     text[];             /* NUL-terminated copies, back to back       */
} rec;

struct sli_writer {
  pthread_t       thread;      /* drains the queue                          */
  pthread_mutex_t mu;          /* guards everything below but db/insert     */
  pthread_cond_t  wake;        /* queue non-empty, flush, stop, prune time  */
  pthread_cond_t  done;        /* a batch was sealed                        */
  sqlite3        *db;          /* the writer's connection (thread-owned)    */
  sqlite3_stmt   *insert;      /* the one INSERT                            */
  char           *path;        /* for nothing but messages                  */
  char           *device;      /* default device id for the drop report     */

  rec           **ring;        /* the bounded queue                         */
  size_t          cap;         /* its capacity                              */
  size_t          head;        /* index of the oldest queued event          */
  size_t          count;       /* events queued                             */
  rec           **batch;       /* the writer's private slice of the queue   */

  uint64_t        tickets;     /* events accepted so far                    */
  uint64_t        sealed;      /* accepted events written or given up on    */
  int             idle;        /* the writer waits on `wake`                */
  int             stopping;    /* close asked: drain, then exit             */
  int             running;     /* the thread exists and was not joined      */

  uint64_t        written, dropped, failed, retries, pruned;
  uint64_t        failed_seen; /* `failed` as the last flush saw it         */
  uint64_t        unreported;  /* drops not yet logged as an event          */
  int             last_error;  /* status of the last batch given up on      */

  int             auto_prune;  /* retention pass due every prune_every      */
  int64_t         retention;   /* ns of history kept                        */
  int64_t         prune_every; /* ns between passes                         */
  int64_t         next_prune;  /* instant of the next pass                  */
};

static const char insert_sql[] =
  "INSERT INTO sync_event_log (timestamp, device_id, event_type, category,"
  " severity, summary, details, correlation_id, peer_device_id,"
  " model_types, record_count, duration_ms)"
  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";

/* ------------------------------------------------------ caller side */

static size_t len0(const char *s) { return s ? strlen(s) + 1 : 0; }

static const char *put(char **cursor, const char *s, size_t n) {
  if (!s) return NULL;
  char *dst = *cursor;
  memcpy(dst, s, n);
  *cursor += n;
  return dst;
}

int sli_writer_append(sli_writer *w, const sl_event *ev, const char *device) {
  int64_t instant;
  /* Parse the caller's time here (cheap, and a bad one is refused now);
  ** formatting waits for the writer thread. */
  if (ev->timestamp) {
    if (sl_time_parse_rfc3339(ev->timestamp, strlen(ev->timestamp),
                              &instant) != SL_OK)
      return SL_INVALID;
  } else {
    instant = sl_time_now();
  }
  int type = sl_event_type_from_name(ev->event_type);
  const char *category = ev->category ? ev->category
                       : sl_category_name(sl_event_type_category(type));
  const char *severity = ev->severity ? ev->severity
                       : sl_severity_name(sl_event_type_severity(type));
  const char *dev = ev->device_id ? ev->device_id : device;
  size_t n_dev = len0(dev), n_type = len0(ev->event_type),
         n_cat = len0(category), n_sev = len0(severity),
         n_sum = len0(ev->summary), n_det = len0(ev->details),
         n_cor = len0(ev->correlation_id), n_peer = len0(ev->peer_device_id),
         n_mod = len0(ev->model_types);
  rec *r = malloc(sizeof *r + n_dev + n_type + n_cat + n_sev + n_sum + n_det +
                  n_cor + n_peer + n_mod);
  if (!r) {
    pthread_mutex_lock(&w->mu);
    w->dropped++;
    w->unreported++;
    pthread_mutex_unlock(&w->mu);
    return SL_NOMEM;
  }
  char *p = r->text;
  r->ev = *ev;
  r->ev.id = 0;
  r->ev.timestamp = NULL;
  r->ev.instant = instant;
  r->ev.has_instant = 1;
  r->ev.device_id = put(&p, dev, n_dev);
  r->ev.event_type = put(&p, ev->event_type, n_type);
  r->ev.category = put(&p, category, n_cat);
  r->ev.severity = put(&p, severity, n_sev);
  r->ev.summary = put(&p, ev->summary, n_sum);
  r->ev.details = put(&p, ev->details, n_det);
  r->ev.correlation_id = put(&p, ev->correlation_id, n_cor);
  r->ev.peer_device_id = put(&p, ev->peer_device_id, n_peer);
  r->ev.model_types = put(&p, ev->model_types, n_mod);

  pthread_mutex_lock(&w->mu);
  if (w->stopping) {
    pthread_mutex_unlock(&w->mu);
    free(r);
    return SL_MISUSE;
  }
  if (w->count == w->cap) {
    w->dropped++;
    w->unreported++;
    pthread_mutex_unlock(&w->mu);
    free(r);
    return SL_FULL;
  }
  w->ring[(w->head + w->count) % w->cap] = r;
  w->count++;
  w->tickets++;
  int wake = w->idle;
  w->idle = 0;
  pthread_mutex_unlock(&w->mu);
  /* Signal only a sleeping writer: a busy one finds the event by itself,
  ** and skipping the futex call keeps the caller's path short. */
  if (wake) pthread_cond_signal(&w->wake);
  return SL_OK;
}

int sli_writer_flush(sli_writer *w) {
  pthread_mutex_lock(&w->mu);
  uint64_t ticket = w->tickets;
  w->idle = 0;
  pthread_cond_signal(&w->wake);
  while (w->sealed < ticket && w->running) pthread_cond_wait(&w->done, &w->mu);
  int rc = w->failed > w->failed_seen ? w->last_error : SL_OK;
  w->failed_seen = w->failed;
  pthread_mutex_unlock(&w->mu);
  return rc;
}

void sli_writer_stats(sli_writer *w, sl_stats *out) {
  pthread_mutex_lock(&w->mu);
  out->appended = w->tickets;
  out->written = w->written;
  out->dropped = w->dropped;
  out->failed = w->failed;
  out->retries = w->retries;
  out->pruned = w->pruned;
  out->queue_depth = w->count;
  out->queue_capacity = w->cap;
  pthread_mutex_unlock(&w->mu);
}

void sli_writer_schedule_prune(sli_writer *w) {
  pthread_mutex_lock(&w->mu);
  w->auto_prune = 1;
  w->next_prune = sl_time_now(); /* as Spacedrive: the first pass at once */
  w->idle = 0;
  pthread_cond_signal(&w->wake);
  pthread_mutex_unlock(&w->mu);
}

/* ------------------------------------------------------ writer side */

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

/* Bind a string that is a UUID in its lowercase hyphenated form. */
static void bind_id(sqlite3_stmt *st, int i, const char *id, char *buf) {
  if (!id) sqlite3_bind_null(st, i);
  else if (sl_uuid_normalize(id, buf) == SL_OK)
    sqlite3_bind_text(st, i, buf, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_text(st, i, id, -1, SQLITE_STATIC);
}

/* Insert one event; SQLITE_OK, SQLITE_MISMATCH for details that are not
** JSON (that event alone is refused), or the failing SQLite code. */
static int insert(sli_writer *w, const sl_event *ev, sl_buf *json) {
  char ts[SL_TIME_BUFSZ], id[SL_UUID_BUFSZ];
  sqlite3_stmt *st = w->insert;
  sl_time_format(ev->instant, 0, ts);
  sqlite3_bind_text(st, 1, ts, -1, SQLITE_STATIC);
  bind_id(st, 2, ev->device_id, id);
  sqlite3_bind_text(st, 3, ev->event_type, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 4, ev->category, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 5, ev->severity, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 6, ev->summary, -1, SQLITE_STATIC);
  if (ev->details) {
    sl_buf_reset(json);
    if (sl_json_canonicalize(ev->details, strlen(ev->details), json, NULL,
                             0) != SL_OK || json->oom) {
      sqlite3_clear_bindings(st);
      return SQLITE_MISMATCH;
    }
    sqlite3_bind_text(st, 7, json->data, (int)json->len, SQLITE_STATIC);
  } else {
    sqlite3_bind_null(st, 7);
  }
  bind_id(st, 8, ev->correlation_id, id);
  bind_id(st, 9, ev->peer_device_id, id);
  if (ev->model_types && *ev->model_types)
    sqlite3_bind_text(st, 10, ev->model_types, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null(st, 10);
  if (ev->has_record_count) sqlite3_bind_int64(st, 11, ev->record_count);
  else sqlite3_bind_null(st, 11);
  if (ev->has_duration_ms) sqlite3_bind_int64(st, 12, ev->duration_ms);
  else sqlite3_bind_null(st, 12);
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* The event that reports queue drops, in Spacedrive's sync_error shape. */
static int insert_drop_report(sli_writer *w, uint64_t n, const char *device,
                              sl_buf *json) {
  char summary[96], details[128];
  snprintf(summary, sizeof summary,
           "Event log queue full: %llu events dropped", (unsigned long long)n);
  snprintf(details, sizeof details,
           "{\"dropped_count\":%llu,\"queue_capacity\":%llu}",
           (unsigned long long)n, (unsigned long long)w->cap);
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

/* One transaction for the batch. Returns SQLITE_OK or the failing code;
** *refused counts events whose details were not JSON. */
static int write_once(sli_writer *w, size_t n, uint64_t drops, sl_buf *json,
                      size_t *refused) {
  int rc = sqlite3_exec(w->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
  *refused = 0;
  for (size_t i = 0; rc == SQLITE_OK && i < n; i++) {
    rc = insert(w, &w->batch[i]->ev, json);
    if (rc == SQLITE_MISMATCH) {
      (*refused)++;
      rc = SQLITE_OK;
    }
  }
  if (rc == SQLITE_OK && drops) {
    const char *device = w->device ? w->device
                       : n ? w->batch[0]->ev.device_id : NULL;
    if (device) rc = insert_drop_report(w, drops, device, json);
  }
  if (rc == SQLITE_OK) rc = sqlite3_exec(w->db, "COMMIT", NULL, NULL, NULL);
  if (rc != SQLITE_OK) sqlite3_exec(w->db, "ROLLBACK", NULL, NULL, NULL);
  return rc;
}

static int prune_due(const sli_writer *w) {
  return w->auto_prune && sl_time_now() >= w->next_prune;
}

static void *writer_main(void *arg) {
  sli_writer *w = arg;
  sl_buf json = {0};
  pthread_mutex_lock(&w->mu);
  for (;;) {
    while (w->count == 0 && !w->stopping && !prune_due(w)) {
      w->idle = 1;
      if (w->auto_prune) {
        struct timespec until = {(time_t)(w->next_prune / SL_NS_PER_SEC),
                                 (long)(w->next_prune % SL_NS_PER_SEC)};
        pthread_cond_timedwait(&w->wake, &w->mu, &until);
      } else {
        pthread_cond_wait(&w->wake, &w->mu);
      }
    }
    w->idle = 0;
    int last = w->count == 0 && w->stopping;

    size_t n = w->count < BATCH_MAX ? w->count : BATCH_MAX;
    for (size_t i = 0; i < n; i++)
      w->batch[i] = w->ring[(w->head + i) % w->cap];
    w->head = (w->head + n) % w->cap;
    w->count -= n;
    /* Drops happen while the queue is full, so a batch follows them; the
    ** report rides in it, stamped with the batch's device if no default. */
    uint64_t drops = (n || (last && w->device)) ? w->unreported : 0;
    w->unreported -= drops;
    int pruning = prune_due(w);
    pthread_mutex_unlock(&w->mu);

    int rc = SQLITE_OK, attempts = 0;
    size_t refused = 0;
    uint64_t retried = 0;
    if (n || drops) {
      while ((rc = write_once(w, n, drops, &json, &refused)) != SQLITE_OK &&
             ++attempts < RETRY_LIMIT) {
        retried++;
        sleep_ms(RETRY_BASE_MS << (attempts - 1));
      }
    }
    for (size_t i = 0; i < n; i++) free(w->batch[i]);
    sl_prune_result pr = {0};
    if (pruning) sli_prune(w->db, NULL, sl_time_now() - w->retention, 0, &pr);

    pthread_mutex_lock(&w->mu);
    w->retries += retried;
    if (rc == SQLITE_OK) {
      w->written += n - refused;
      w->failed += refused;
      if (refused) w->last_error = SL_INVALID;
    } else {
      w->failed += n;
      w->last_error = sli_status_from_sqlite(rc);
    }
    w->sealed += n;
    if (pruning) {
      w->pruned += (uint64_t)pr.count;
      w->next_prune = sl_time_now() + w->prune_every;
    }
    pthread_cond_broadcast(&w->done);
    if (last) break;
  }
  w->running = 0;
  pthread_cond_broadcast(&w->done);
  pthread_mutex_unlock(&w->mu);
  sl_buf_free(&json);
  return NULL;
}

int sli_writer_start(sl_store *s, sqlite3 *db, sli_writer **out) {
  sli_writer *w = calloc(1, sizeof *w);
  *out = w;
  if (!w) {
    sqlite3_close_v2(db);
    return sli_fail(s, SL_NOMEM, "out of memory");
  }
  w->db = db;
  w->cap = s->opts.queue_capacity;
  w->retention = s->opts.retention;
  w->prune_every = s->opts.prune_interval;
  w->ring = malloc(w->cap * sizeof *w->ring);
  w->batch = malloc((w->cap < BATCH_MAX ? w->cap : BATCH_MAX) *
                    sizeof *w->batch);
  w->path = sli_strdup(s->path);
  w->device = sli_strdup(s->device_id);
  pthread_mutex_init(&w->mu, NULL);
  pthread_cond_init(&w->wake, NULL);
  pthread_cond_init(&w->done, NULL);
  if (!w->ring || !w->batch || !w->path || (s->device_id && !w->device))
    return sli_fail(s, SL_NOMEM, "out of memory");
  int rc = sqlite3_prepare_v2(db, insert_sql, -1, &w->insert, NULL);
  if (rc != SQLITE_OK) return sli_sqlite_fail(s, db, rc, NULL);
  w->running = 1;
  if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
    w->running = 0;
    return sli_fail(s, SL_ERROR, "%s: cannot start the writer thread",
                    s->path);
  }
  return SL_OK;
}

int sli_writer_stop(sli_writer *w) {
  if (!w) return SL_OK;
  int rc = SL_OK;
  pthread_mutex_lock(&w->mu);
  int joinable = w->running && !w->stopping;
  w->stopping = 1;
  w->idle = 0;
  pthread_cond_signal(&w->wake);
  pthread_mutex_unlock(&w->mu);
  if (joinable) {
    pthread_join(w->thread, NULL);
    rc = w->failed > w->failed_seen ? w->last_error : SL_OK;
    w->failed_seen = w->failed;
  }
  return rc;
}

void sli_writer_free(sli_writer *w) {
  if (!w) return;
  /* Events still queued when a writer never started. */
  for (size_t i = 0; i < w->count; i++)
    free(w->ring[(w->head + i) % w->cap]);
  sqlite3_finalize(w->insert);
  sqlite3_close_v2(w->db);
  pthread_mutex_destroy(&w->mu);
  pthread_cond_destroy(&w->wake);
  pthread_cond_destroy(&w->done);
  free(w->ring);
  free(w->batch);
  free(w->path);
  free(w->device);
  free(w);
}
