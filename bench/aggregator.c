/*
** aggregator.c -- the batch aggregator's memory and speed. DESIGN.md's
** target: 100 peers x 10 models pending fit in <= 100 KB.
**
**   (a) memory: one store, batch_records and batch_interval so large that
**       nothing flushes; one sl_batch_add per (peer, model) pair, then
**       sl_batch_memory -- the bytes the aggregator holds for its pending
**       batches by its own count (requested sizes: malloc's per-block
**       overhead, 16 B on glibc per block and about 200 blocks here, is not
**       in it). The baseline is the payload itself: the peer ids as C
**       strings, one int64 count per pair and the model names once.
**   (b) adds/s, nothing flushing, cycling through every pair on a
**       virtual clock so that no flush interrupts: sl_batch_add only
**       queues, and the writer thread aggregates, so the figure is the
**       whole path's -- calls in chunks of half the queue, each chunk
**       followed by sl_batch_memory, which waits until the writer has
**       aggregated it (find the key, find the model, add).
**   (c) the same with Spacedrive's thresholds (30 s, 10,000 records) and
**       100 records per add, so that every key flushes after 100 of its
**       adds: with the batch_ingestion events the writer makes and commits.
** Neither (b) nor (c) has a target; the caller's own cost per call is
** bench/latency.c's.
**
** Environment: BENCH_AGG_PEERS (100), BENCH_AGG_MODELS (10),
** BENCH_AGG_ADDS (2000000) calls for (b) and (c); BENCH_DIR (else
** $TMPDIR, else /tmp) where the store goes.
*/
#include "bench.h"

/* 2025-12-03T10:15:00Z: the virtual clock's origin. */
#define T0 (INT64_C(1764756900) * SL_NS_PER_SEC)

static const char *const model_names[10] = {
  "entry", "tag", "location", "volume", "device", "content_identity",
  "user_metadata", "collection", "label", "shared_resources"};

typedef struct pairs {
  long   peers, models;
  char (*peer)[SL_UUID_BUFSZ];  /* peer ids                                */
  char (*model)[32];            /* model names                             */
} pairs;

static int make_pairs(pairs *p, long peers, long models) {
  p->peers = peers;
  p->models = models;
  p->peer = calloc((size_t)peers, sizeof *p->peer);
  p->model = calloc((size_t)models, sizeof *p->model);
  if (!p->peer || !p->model) return -1;
  for (long i = 0; i < peers; i++)
    snprintf(p->peer[i], sizeof p->peer[i], "0a9b8c7d-6e5f-4a3b-9c2d-%012lu",
             (unsigned long)i % 1000000000000UL);
  for (long m = 0; m < models; m++) {
    if (m < 10) snprintf(p->model[m], sizeof p->model[m], "%s",
                         model_names[m]);
    else snprintf(p->model[m], sizeof p->model[m], "model_%ld", m);
  }
  return 0;
}

static sl_store *open_store(const char *path, int64_t interval,
                            int64_t records) {
  sl_store *s;
  sl_open_opts o;
  memset(&o, 0, sizeof o);
  o.mode = SL_OPEN_WRITE;
  o.device_id = BENCH_DEVICE;
  o.batch_interval = interval;
  o.batch_records = records;
  bench_rmdb(path);
  if (sl_store_open(path, &o, &s) != SL_OK) {
    fprintf(stderr, "aggregator: %s\n", sl_store_errmsg(s));
    sl_store_release(s);
    return NULL;
  }
  return s;
}

/* Calls between waits for the writer: half the default queue, so that
** none is dropped. */
#define CHUNK 32768

/* `adds` calls cycling through every pair, `count` records each, the
** virtual clock 1 us further each call, the writer caught up after every
** CHUNK and at the end; adds/s into *rate. */
static int time_adds(sl_store *s, const pairs *p, long adds, int64_t count,
                     double *rate) {
  long pair = p->peers * p->models;
  int64_t t0 = bench_now();
  for (long i = 0; i < adds; i++) {
    if (i % CHUNK == CHUNK - 1) sl_batch_memory(s, NULL);
    long k = i % pair;
    int rc = sl_batch_add(s, p->model[k % p->models], count,
                          p->peer[k / p->models], NULL,
                          T0 + (int64_t)i * 1000);
    if (rc != SL_OK) {
      fprintf(stderr, "aggregator: add: %s\n", sl_status_name(rc));
      return -1;
    }
  }
  sl_batch_memory(s, NULL);
  *rate = (double)adds / ((double)(bench_now() - t0) / 1e9);
  return 0;
}

int main(void) {
  long peers = bench_env_long("BENCH_AGG_PEERS", 100);
  long models = bench_env_long("BENCH_AGG_MODELS", 10);
  long adds = bench_env_long("BENCH_AGG_ADDS", 2000000);
  char dir[4096], path[4200], a[32], b[32], fig[96], base[96], rat[32],
    what[96];
  const int64_t never = INT64_C(365) * 86400 * SL_NS_PER_SEC;
  pairs p;
  if (make_pairs(&p, peers, models) != 0) return 1;
  if (bench_mkdtemp(dir, sizeof dir, "aggregator") != 0) return 1;
  snprintf(path, sizeof path, "%s/aggregator.db", dir);

  /* (a) memory. */
  sl_store *s = open_store(path, never, INT64_MAX);
  if (!s) return 1;
  size_t keys, empty = sl_batch_memory(s, &keys);
  for (long i = 0; i < peers; i++)
    for (long m = 0; m < models; m++)
      if (sl_batch_add(s, p.model[m], 1, p.peer[i], NULL, T0) != SL_OK) {
        fprintf(stderr, "aggregator: add failed\n");
        return 1;
      }
  size_t bytes = sl_batch_memory(s, &keys);
  size_t payload = (size_t)peers * SL_UUID_BUFSZ +
                   (size_t)(peers * models) * sizeof(int64_t);
  for (long m = 0; m < models; m++) payload += strlen(p.model[m]) + 1;
  sl_batch_flush_all(s, T0 + SL_NS_PER_SEC);
  size_t after = sl_batch_memory(s, NULL);
  double kb = (double)bytes / 1024.0;
  int met = bytes <= 100 * 1024;
  printf("aggregator: %ld peers x %ld models pending (%zu keys): %s bytes "
         "(%.1f KB) | payload %s bytes | ratio %.2fx | target <= 100 KB%s\n",
         peers, models, keys, bench_commas(a, (double)bytes), kb,
         bench_commas(b, (double)payload), (double)bytes / (double)payload,
         met ? "" : "  MISSED");
  printf("  %.0f bytes per pending key; %zu bytes before the first add, "
         "%zu after flushing them all\n",
         (double)(bytes - empty) / (double)peers, empty, after);
  snprintf(what, sizeof what, "aggregator memory, %ldx%ld pending", peers,
           models);
  snprintf(fig, sizeof fig, "%s bytes (%.1f KB)", a, kb);
  snprintf(base, sizeof base, "payload %s bytes", b);
  snprintf(rat, sizeof rat, "%.2fx", (double)bytes / (double)payload);
  bench_result(what, fig, base, rat, "<= 100 KB", met);

  /* (b) adds/s, nothing flushing (the store above: thresholds unreachable).*/
  double r_plain, r_flush;
  if (time_adds(s, &p, adds, 1, &r_plain) != 0) return 1;
  sl_batch_memory(s, &keys);
  sl_store_close(s);
  sl_store_release(s);

  /* (c) adds/s with the default thresholds, 100 records per add. */
  s = open_store(path, 0, 0);
  if (!s) return 1;
  sl_stats st;
  if (time_adds(s, &p, adds, 100, &r_flush) != 0) return 1;
  sl_store_flush(s);
  sl_store_stats(s, &st);
  printf("aggregator: sl_batch_add %s adds/s, nothing flushing (%ld calls "
         "over %zu keys)\n", bench_commas(a, r_plain), adds, keys);
  printf("aggregator: sl_batch_add %s adds/s with 30 s / 10,000 records and "
         "100 records per add (%llu batch_ingestion events appended, %llu "
         "dropped)\n", bench_commas(b, r_flush),
         (unsigned long long)st.appended, (unsigned long long)st.dropped);
  sl_store_close(s);
  sl_store_release(s);

  snprintf(fig, sizeof fig, "%s adds/s", a);
  bench_result("sl_batch_add, nothing flushing", fig, NULL, NULL, NULL, -1);
  snprintf(fig, sizeof fig, "%s adds/s (%llu events)", b,
           (unsigned long long)st.appended);
  bench_result("sl_batch_add, flushing at 10,000", fig, NULL, NULL, NULL, -1);

  bench_rmdb(path);
  rmdir(dir);
  free(p.peer);
  free(p.model);
  return 0;
}
