/*
** sl_batch.c -- the batch aggregator: per-record ingestion turned into
** batch_ingestion events, keyed by peer and session, with per-model counts.
** It owns the pending batches of one store. Spacedrive flushes on a 30 s
** timer and at 10,000 records; synclua also on every state transition
** (as Spacedrive's documentation promises) and on close. Time comes from
** the caller (`at`) so that a simulator's virtual clock drives it, or from
** the clock, in which case the writer thread also ticks it.
**
** It belongs to the writer thread (sl_writer.c): callers only queue their
** records, and the writer feeds them here in queue order, so no lock is
** needed and no caller formats or allocates. Batch events go to the
** writer's sink, into the transaction being written.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sli.h"

typedef struct model_count {
  const char *name;            /* interned in the aggregator's name table   */
  int64_t     count;           /* records of this model in the batch        */
} model_count;

typedef struct batch {
  char        *peer;           /* the key: peer (NULL: unknown) ...         */
  char        *session;        /* ... and session (NULL: none)              */
  int64_t      first_at;       /* instant of the batch's first record       */
  int64_t      total;          /* records in the batch                      */
  model_count *models;         /* per model, in arrival order               */
  size_t       n_models, cap_models;
} batch;

struct sli_batches {
  sli_batch_sink  sink;        /* where batch events go                     */
  void           *ctx;         /* the sink's                                */
  batch          *keys;        /* pending batches                           */
  size_t          n_keys, cap_keys;
  char          **names;       /* interned model names                      */
  size_t          n_names, cap_names;
  int64_t         interval;    /* ns between periodic flushes               */
  int64_t         records;     /* a batch this large flushes at once        */
  int64_t         next_flush;  /* instant of the next periodic flush; 0: not
                                  scheduled (nothing pending yet)           */
  int             realtime;    /* fed by the clock: the writer ticks it too */
  int64_t         last_at;     /* the latest instant a caller gave          */
  size_t          bytes;       /* heap held, for sl_batch_memory            */
  size_t          shown_bytes; /* bytes and n_keys as other threads read    */
  size_t          shown_keys;  /* them (atomic), after each call            */
};

static int same(const char *a, const char *b) {
  return a == b || (a && b && strcmp(a, b) == 0);
}

static char *dup_counted(sli_batches *g, const char *s) {
  char *p = sli_strdup(s);
  if (p) g->bytes += strlen(s) + 1;
  return p;
}

/* Grow an array of `size`-byte items to hold one more; 0 on failure. */
static int reserve(sli_batches *g, void **items, size_t *cap, size_t n,
                   size_t size) {
  if (n < *cap) return 1;
  size_t next = *cap ? *cap * 2 : 4;
  void *p = realloc(*items, next * size);
  if (!p) return 0;
  g->bytes += (next - *cap) * size;
  *items = p;
  *cap = next;
  return 1;
}

static const char *intern(sli_batches *g, const char *name) {
  for (size_t i = 0; i < g->n_names; i++)
    if (strcmp(g->names[i], name) == 0) return g->names[i];
  if (!reserve(g, (void **)&g->names, &g->cap_names, g->n_names,
               sizeof *g->names))
    return NULL;
  char *copy = dup_counted(g, name);
  if (!copy) return NULL;
  g->names[g->n_names++] = copy;
  return copy;
}

/* What sli_batches_memory reports, published for other threads. */
static int shown(sli_batches *g, int rc) {
  SLI_STORE(&g->shown_bytes, sizeof *g + g->bytes);
  SLI_STORE(&g->shown_keys, g->n_keys);
  return rc;
}

int sli_batches_new(const sl_open_opts *opts, sli_batch_sink sink,
                    void *ctx, sli_batches **out) {
  sli_batches *g = calloc(1, sizeof *g);
  *out = g;
  if (!g) return SL_NOMEM;
  g->sink = sink;
  g->ctx = ctx;
  g->interval = opts->batch_interval;
  g->records = opts->batch_records;
  SLI_STORE(&g->shown_bytes, sizeof *g);
  return SL_OK;
}

static void free_batch(sli_batches *g, batch *b) {
  if (b->peer) g->bytes -= strlen(b->peer) + 1;
  if (b->session) g->bytes -= strlen(b->session) + 1;
  g->bytes -= b->cap_models * sizeof *b->models;
  free(b->peer);
  free(b->session);
  free(b->models);
}

/* With nothing pending, the model names go too: a caller that keeps
** inventing names cannot grow the table without bound. */
static void forget_names(sli_batches *g) {
  for (size_t i = 0; i < g->n_names; i++) {
    g->bytes -= strlen(g->names[i]) + 1;
    free(g->names[i]);
  }
  g->n_names = 0;
}

void sli_batches_free(sli_batches *g) {
  if (!g) return;
  for (size_t i = 0; i < g->n_keys; i++) free_batch(g, &g->keys[i]);
  forget_names(g);
  free(g->keys);
  free(g->names);
  free(g);
}

/* Models by count, descending, then name: a deterministic order (Spacedrive
** iterates a HashMap, so its order is unspecified). */
static int by_count(const void *x, const void *y) {
  const model_count *a = x, *b = y;
  if (a->count != b->count) return a->count > b->count ? -1 : 1;
  return strcmp(a->name, b->name);
}

/* Give key i's batch to the sink as one event stamped `at` and free it;
** the caller takes it out of the key table. */
static int flush_key(sli_batches *g, size_t i, int64_t at) {
  batch *b = &g->keys[i];
  sl_buf summary = {0}, models = {0}, details = {0};
  char num[48];
  qsort(b->models, b->n_models, sizeof *b->models, by_count);

  snprintf(num, sizeof num, "%lld", (long long)b->total);
  sl_buf_puts(&summary, "Ingested batch of ");
  sl_buf_puts(&summary, num);
  sl_buf_puts(&summary, " records");
  if (b->n_models <= 3) {
    sl_buf_puts(&summary, " (");
    for (size_t m = 0; m < b->n_models; m++) {
      snprintf(num, sizeof num, "%s%lld ", m ? ", " : "",
               (long long)b->models[m].count);
      sl_buf_puts(&summary, num);
      sl_buf_puts(&summary, b->models[m].name);
    }
    sl_buf_puts(&summary, ")");
  } else {
    snprintf(num, sizeof num, " across %zu model types", b->n_models);
    sl_buf_puts(&summary, num);
  }
  sl_buf_puts(&details, "{\"models\":{");
  for (size_t m = 0; m < b->n_models; m++) {
    if (m) {
      sl_buf_puts(&models, ",");
      sl_buf_puts(&details, ",");
    }
    sl_buf_puts(&models, b->models[m].name);
    sl_json_write_string(&details, b->models[m].name,
                         strlen(b->models[m].name));
    snprintf(num, sizeof num, ":%lld", (long long)b->models[m].count);
    sl_buf_puts(&details, num);
  }
  sl_buf_puts(&details, "}}");

  int rc = SL_NOMEM;
  if (!summary.oom && !models.oom && !details.oom) {
    char ts[SL_TIME_BUFSZ];
    sl_event ev;
    memset(&ev, 0, sizeof ev);
    sl_time_format(at, 0, ts);
    ev.timestamp = ts;
    ev.event_type = "batch_ingestion";
    ev.summary = summary.data;
    ev.details = details.data;
    ev.correlation_id = b->session;
    ev.peer_device_id = b->peer;
    ev.model_types = models.data;
    ev.record_count = b->total;
    ev.has_record_count = 1;
    ev.duration_ms = at > b->first_at ? (at - b->first_at) / 1000000 : 0;
    ev.has_duration_ms = 1;
    rc = g->sink(g->ctx, &ev, at);
  }
  sl_buf_free(&summary);
  sl_buf_free(&models);
  sl_buf_free(&details);
  free_batch(g, b);
  return rc;
}

/* Keys in the order they were created, so that events come out in it. */
static int flush_all(sli_batches *g, int64_t at) {
  int rc = SL_OK;
  for (size_t i = 0; i < g->n_keys; i++) {
    int r = flush_key(g, i, at);
    if (r != SL_OK) rc = r;
  }
  g->n_keys = 0;
  g->next_flush = 0;
  forget_names(g);
  return rc;
}

/* The periodic flush, on Spacedrive's fixed grid: every interval from the
** first pending record, stamped at the grid instant it fell due. */
static int tick_due(sli_batches *g, int64_t at) {
  if (!g->next_flush || at < g->next_flush) return SL_OK;
  int64_t due = g->next_flush;
  int rc = flush_all(g, due);
  return rc;
}

/* A caller's instant (a virtual clock's: the latest is kept for closing)
** or the clock's, which makes the aggregator real-time. */
static int64_t clock_or(sli_batches *g, int64_t at, int realtime) {
  if (at && !realtime) {
    if (at > g->last_at) g->last_at = at;
    return at;
  }
  g->realtime = 1;
  return at ? at : sl_time_now();
}

static int add(sli_batches *g, const char *model, int64_t count,
               const char *peer, const char *session, int64_t at) {
  int rc = tick_due(g, at);
  size_t i = 0;
  while (i < g->n_keys &&
         !(same(g->keys[i].peer, peer) && same(g->keys[i].session, session)))
    i++;
  if (i == g->n_keys) {
    if (!reserve(g, (void **)&g->keys, &g->cap_keys, g->n_keys,
                 sizeof *g->keys))
      return SL_NOMEM;
    batch *b = &g->keys[g->n_keys];
    memset(b, 0, sizeof *b);
    b->peer = peer ? dup_counted(g, peer) : NULL;
    b->session = session ? dup_counted(g, session) : NULL;
    b->first_at = at;
    if ((peer && !b->peer) || (session && !b->session)) {
      free_batch(g, b);
      return SL_NOMEM;
    }
    g->n_keys++;
  }
  if (!g->next_flush) g->next_flush = at + g->interval;
  batch *b = &g->keys[i];
  const char *name = intern(g, model);
  size_t m = 0;
  while (m < b->n_models && b->models[m].name != name) m++;
  if (!name || (m == b->n_models &&
                !reserve(g, (void **)&b->models, &b->cap_models, b->n_models,
                         sizeof *b->models)))
    return SL_NOMEM;
  if (m == b->n_models) {
    b->models[m].name = name;
    b->models[m].count = 0;
    b->n_models++;
  }
  b->models[m].count += count;
  b->total += count;
  if (b->total >= g->records) {
    int r = flush_key(g, i, at);
    if (r != SL_OK) rc = r;
    memmove(&g->keys[i], &g->keys[i + 1],
            (g->n_keys - i - 1) * sizeof *g->keys);
    g->n_keys--;
  }
  return rc;
}

int sli_batches_add(sli_batches *g, const char *model, int64_t count,
                    const char *peer, const char *session, int64_t at,
                    int realtime) {
  return shown(g, add(g, model, count, peer, session,
                      clock_or(g, at, realtime)));
}

int sli_batches_tick(sli_batches *g, int64_t at, int realtime,
                     int only_realtime) {
  int rc = SL_OK;
  if (!only_realtime || g->realtime)
    rc = tick_due(g, clock_or(g, at, realtime));
  return shown(g, rc);
}

int sli_batches_flush_all(sli_batches *g, int64_t at, int realtime) {
  /* With no time given (closing), a virtual clock's batches end at the
  ** last instant it reached, not at the real now. */
  if (!at && !g->realtime && g->last_at) at = g->last_at;
  at = clock_or(g, at, realtime);
  /* A grid instant passed since the last call flushes first, on time. */
  int rc = tick_due(g, at);
  int r = flush_all(g, at);
  if (r != SL_OK) rc = r;
  return shown(g, rc);
}

size_t sli_batches_memory(sli_batches *g, size_t *keys) {
  if (keys) *keys = SLI_LOAD(&g->shown_keys);
  return SLI_LOAD(&g->shown_bytes);
}
