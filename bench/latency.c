/*
** latency.c -- how long sl_store_append keeps its caller, call by call,
** while the writer thread is busy committing: the sync engine's hot path
** pays this on every event it logs, so the tail matters more than the mean.
** DESIGN.md's target: p99 <= 2 us, and never blocking. Then the same for
** sl_batch_add, the call an engine makes for every batch of records it
** applies (three models, two peers: a few open batches, each flushed into
** an event when it reaches its size).
**
** Events come at a steady rate in bursts (a sync engine logs in bursts: a
** batch applied, a session started), first from one thread, then from four
** threads at once sharing the same store; each call is timed on its own
** with CLOCK_MONOTONIC. The rate is kept below what the writer sustains, so
** the queue does not fill; SL_FULL returns are counted all the same (a
** dropped event is the other way of "not blocking").
**
** Baselines printed beside the figures: the machine's floor for a queueing
** call (malloc, copy, a lock around a pointer store, free) timed in the
** same burst pattern, and the timer itself (two back-to-back clock_gettime
** calls, which every measured call includes). Each run also says where its
** slow calls sit: most are the first call of a burst, the one that finds
** the writer asleep and wakes it, with caches gone cold since the last
** burst.
**
** Environment: BENCH_EVENTS (200000) per run; BENCH_RATE (20000) events per
** second in total; BENCH_BURST (100) events per burst per thread;
** BENCH_THREADS (4) for the second run; BENCH_DIR for the files.
*/
#include <pthread.h>

#include "bench.h"

typedef struct producer {
  sl_store       *store;
  int             batch;      /* time sl_batch_add instead of append        */
  long            n;          /* events this thread appends                 */
  long            rate;       /* its events per second                      */
  long            burst;      /* events per burst                           */
  int64_t        *lat;        /* ns per call, n of them                     */
  uint64_t        full;       /* SL_FULL returns                            */
  uint64_t        other;      /* any other failure                          */
  pthread_barrier_t *start;   /* all threads begin together                 */
} producer;

static void sleep_until(int64_t t) {
  struct timespec ts = {(time_t)(t / SL_NS_PER_SEC), (long)(t % SL_NS_PER_SEC)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {}
}

static void *produce(void *arg) {
  producer *p = arg;
  sl_event ev;
  int64_t period = p->burst * SL_NS_PER_SEC / p->rate;
  if (p->start) pthread_barrier_wait(p->start);
  int64_t next = bench_now();
  for (long i = 0; i < p->n;) {
    for (long k = 0; k < p->burst && i < p->n; k++, i++) {
      static const char *const models[3] = {"entry", "tag", "location"};
      static const char *const peers[2] = {
        "9b2d4f60-7a1e-4c8b-b3d5-e6f708192a3b",
        "1b4e28ba-2fa1-11d2-883f-0016d3cca427"};
      int rc;
      bench_event(&ev, i);
      int64_t t0 = bench_now();
      if (p->batch)
        rc = sl_batch_add(p->store, models[i % 3], 1 + i % 50, peers[i % 2],
                          NULL, 0);
      else
        rc = sl_store_append(p->store, &ev);
      p->lat[i] = bench_now() - t0;
      if (rc == SL_FULL) p->full++;
      else if (rc != SL_OK) p->other++;
    }
    next += period;
    sleep_until(next);
  }
  return NULL;
}

/* The cost of the measurement: what a call of zero length reads as. */
static int64_t timer_overhead(void) {
  enum { N = 100000 };
  static int64_t d[N];
  for (int i = 0; i < N; i++) {
    int64_t t0 = bench_now();
    d[i] = bench_now() - t0;
  }
  qsort(d, N, sizeof *d, bench_cmp_i64);
  return bench_pct(d, N, 0.5);
}

/* The machine's own floor for a queueing call: what append does minus
** synclua (a malloc of the record's size, the copy, a lock held for a
** pointer store, and a free), in the same burst pattern. The first call
** after each sleep is slow here too: caches and the vCPU are cold. */
static pthread_mutex_t floor_lock = PTHREAD_MUTEX_INITIALIZER;
static void *volatile floor_sink;

static void trivial_floor(long n, long rate, long burst, double *p50,
                          double *p99) {
  static const char src[320] = "an event's worth of bytes";
  int64_t *d = calloc((size_t)n, sizeof *d);
  int64_t period = burst * SL_NS_PER_SEC / rate, next = bench_now();
  if (!d) return;
  for (long i = 0; i < n;) {
    for (long k = 0; k < burst && i < n; k++, i++) {
      int64_t t0 = bench_now();
      char *r = malloc(sizeof src);
      if (r) memcpy(r, src, sizeof src);
      pthread_mutex_lock(&floor_lock);
      floor_sink = r;
      pthread_mutex_unlock(&floor_lock);
      free(r);
      d[i] = bench_now() - t0;
    }
    next += period;
    sleep_until(next);
  }
  qsort(d, (size_t)n, sizeof *d, bench_cmp_i64);
  *p50 = (double)bench_pct(d, (size_t)n, 0.5) / 1e3;
  *p99 = (double)bench_pct(d, (size_t)n, 0.99) / 1e3;
  free(d);
}

/* One run: `threads` producers share a fresh store; prints one line and
** its #result. */
static int run(const char *dir, int batch, int threads, long n, long rate,
               long burst, int64_t timer, double floor99) {
  char path[1200], fig[160], base[64], what[64];
  sl_store *s = NULL;
  sl_open_opts wo;
  sl_stats st;
  producer p[64];
  pthread_t tid[64];
  pthread_barrier_t start;
  long per = n / threads;
  int64_t *lat = malloc((size_t)(per * threads) * sizeof *lat);
  if (!lat) return -1;
  /* Touch every page now, so page faults are not measured as latency. */
  memset(lat, 0, (size_t)(per * threads) * sizeof *lat);
  snprintf(path, sizeof path, "%s/latency-%s-%d.db", dir,
           batch ? "batch" : "append", threads);
  memset(&wo, 0, sizeof wo);
  wo.mode = SL_OPEN_WRITE;
  wo.device_id = "2f1a8f8e-0c3b-4d52-9d0e-5b1c2a3d4e5f";
  if (sl_store_open(path, &wo, &s) != SL_OK) {
    fprintf(stderr, "latency: %s\n", sl_store_errmsg(s));
    sl_store_release(s);
    free(lat);
    return -1;
  }
  pthread_barrier_init(&start, NULL, (unsigned)threads);
  for (int t = 0; t < threads; t++) {
    p[t] = (producer){s, batch, per, rate / threads, burst, lat + t * per, 0,
                      0, &start};
    if (p[t].rate < 1) p[t].rate = 1;
  }
  int64_t t0 = bench_now();
  if (threads == 1) {
    p[0].start = NULL;
    produce(&p[0]);
  } else {
    for (int t = 0; t < threads; t++)
      pthread_create(&tid[t], NULL, produce, &p[t]);
    for (int t = 0; t < threads; t++) pthread_join(tid[t], NULL);
  }
  double secs = (double)(bench_now() - t0) / 1e9;
  sl_store_flush(s);
  sl_store_stats(s, &st);
  sl_store_close(s);
  sl_store_release(s);
  bench_rmdb(path);
  pthread_barrier_destroy(&start);

  uint64_t full = 0, other = 0;
  for (int t = 0; t < threads; t++) {
    full += p[t].full;
    other += p[t].other;
  }
  size_t total = (size_t)(per * threads);
  /* Where the slow calls sit: the first call of a burst finds the writer
  ** asleep and wakes it (a futex syscall on the caller's path). */
  long over = 0, over_first = 0;
  for (size_t i = 0; i < total; i++) {
    if (lat[i] <= 2000) continue;
    over++;
    if ((i % (size_t)per) % (size_t)burst == 0) over_first++;
  }
  qsort(lat, total, sizeof *lat, bench_cmp_i64);
  double p50 = (double)bench_pct(lat, total, 0.50) / 1e3,
         p99 = (double)bench_pct(lat, total, 0.99) / 1e3,
         p999 = (double)bench_pct(lat, total, 0.999) / 1e3,
         max = (double)lat[total - 1] / 1e3;
  free(lat);

  printf("latency  %s %d thread%s: p50 %.2f us | p99 %.2f us | p99.9 %.2f "
         "us | max %.1f us | SL_FULL %llu | p99 target <= 2 us%s\n",
         batch ? "sl_batch_add" : "append", threads, threads == 1 ? " " : "s",
         p50, p99, p999, max,
         (unsigned long long)full, p99 <= 2.0 ? "" : "  MISSED");
  printf("  %zu calls in %.2f s (%.0f ev/s offered); %ld over 2 us, %ld of "
         "them first of their burst (of %zu bursts); %llu other failures, "
         "%llu written\n",
         total, secs, (double)total / secs, over, over_first,
         (total + (size_t)burst - 1) / (size_t)burst,
         (unsigned long long)other, (unsigned long long)st.written);
  snprintf(what, sizeof what, "%s latency C, %d thread%s",
           batch ? "sl_batch_add" : "append", threads,
           threads == 1 ? "" : "s");
  snprintf(fig, sizeof fig, "p99 %.2f us (p50 %.2f, p99.9 %.2f, max %.0f; "
           "%llu full)", p99, p50, p999, max, (unsigned long long)full);
  snprintf(base, sizeof base, "floor p99 %.2f us, timer %.3f us", floor99,
           (double)timer / 1e3);
  bench_result(what, fig, base, NULL, "p99 <= 2 us", p99 <= 2.0);
  return 0;
}

int main(void) {
  long n = bench_env_long("BENCH_EVENTS", 200000);
  long rate = bench_env_long("BENCH_RATE", 20000);
  long burst = bench_env_long("BENCH_BURST", 100);
  long threads = bench_env_long("BENCH_THREADS", 4);
  char dir[1024];
  if (threads > 64) threads = 64;
  if (bench_mkdtemp(dir, sizeof dir, "latency") != 0) return 1;
  int64_t timer = timer_overhead();
  double f50 = 0, f99 = 0;
  long nf = n < 50000 ? n : 50000;
  printf("latency: %ld events per run at %ld ev/s in bursts of %ld; "
         "files in %s\n", n, rate, burst, dir);
  trivial_floor(nf, rate, burst, &f50, &f99);
  printf("latency  floor (malloc+copy+lock+free, same bursts, 1 thread): "
         "p50 %.2f us | p99 %.2f us | timer %.3f us\n", f50, f99,
         (double)timer / 1e3);
  int rc = 0;
  for (int batch = 0; batch <= 1 && rc == 0; batch++) {
    rc = run(dir, batch, 1, n, rate, burst, timer, f99);
    if (rc == 0) rc = run(dir, batch, (int)threads, n, rate, burst, timer, f99);
  }
  rmdir(dir);
  return rc == 0 ? 0 : 1;
}
