/*
** logging.c -- sustained logging throughput, in events per second, measured
** three ways on the same event in one run, each into a fresh file:
**
**   (a) synclua: sl_store_append from one thread as fast as it goes, then
**       sl_store_flush; the writer thread batches into transactions.
**   (b) the floor: raw SQLite, the same schema and all its indexes, WAL
**       with synchronous=NORMAL, one prepared INSERT, every row in ONE
**       transaction. Nothing that commits can be much faster than this.
**   (c) Spacedrive's way: the same INSERT, each event committed on its own
**       in WAL with synchronous=FULL (sqlx's defaults).
**
** DESIGN.md's targets are ratios: (a) >= 0.8x (b), and (a) >= 15x (c).
** An extra figure, without a target, runs (a) with a queue that holds every
** event: the writer alone, which tells how much of any gap between (a) and
** (b) is the producer's retrying of a full queue.
** The figure that matters to a sync engine is (a): it says how many events
** per second can be logged before the queue fills and events are dropped.
**
** Environment: BENCH_EVENTS (200000) events for (a) and (b);
** BENCH_SLOW_EVENTS (5000) for (c), which fsyncs every event;
** BENCH_REPEAT (3) runs of (a) and (b), the median reported;
** BENCH_DIR (else $TMPDIR, else /tmp) where the files go.
*/
#include <sched.h>
#include <sqlite3.h>

#include "bench.h"
#include "sli.h"

typedef struct run {
  double   seconds;           /* first append (or BEGIN) to durable         */
  uint64_t full;              /* SL_FULL returns that were retried          */
  uint64_t written;           /* rows the writer committed                  */
  uint64_t dropped;           /* the store's count of refused appends       */
  size_t   capacity;          /* the queue's bound                          */
} run;

static const char insert_sql[] =
  "INSERT INTO sync_event_log (timestamp, device_id, event_type, category,"
  " severity, summary, details, correlation_id, peer_device_id,"
  " model_types, record_count, duration_ms)"
  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";

/* (a) The writer thread is what is measured, so the producer retries a
** full queue instead of letting events go: every event is written and the
** time is the writer's. Each SL_FULL still costs the producer a malloc and
** is counted by the store (and reported as a sync_error row by the
** writer), so the count of retries is printed beside the figure.
** With `queue` >= n nothing is ever full: the caller is done in a blink and
** the time is the writer's alone (an extra figure, no target). */
static int run_synclua(const char *path, long n, size_t queue, run *out) {
  sl_store *s = NULL;
  sl_event ev;
  sl_stats st;
  sl_open_opts opts;
  memset(out, 0, sizeof *out);
  memset(&opts, 0, sizeof opts);
  opts.mode = SL_OPEN_WRITE;
  opts.queue_capacity = queue; /* 0: the default */
  int rc = sl_store_open(path, &opts, &s);
  if (rc != SL_OK) {
    fprintf(stderr, "logging: %s\n", sl_store_errmsg(s));
    sl_store_release(s);
    return -1;
  }
  int64_t t0 = bench_now();
  for (long i = 0; i < n; i++) {
    bench_event(&ev, i);
    while ((rc = sl_store_append(s, &ev)) == SL_FULL) {
      out->full++;
      sched_yield();
    }
    if (rc != SL_OK) {
      fprintf(stderr, "logging: append: %s\n", sl_status_name(rc));
      break;
    }
  }
  rc = sl_store_flush(s);
  out->seconds = (double)(bench_now() - t0) / 1e9;
  if (rc != SL_OK) fprintf(stderr, "logging: %s\n", sl_store_errmsg(s));
  sl_store_stats(s, &st);
  out->written = st.written;
  out->dropped = st.dropped;
  out->capacity = st.queue_capacity;
  sl_store_close(s);
  sl_store_release(s);
  return rc == SL_OK ? 0 : -1;
}

/* A connection with synclua's table and all its indexes (Spacedrive's five
** and synclua's three: the same DDL sl_store_open runs, taken from the
** library so the two cannot drift), WAL, and the given synchronous level. */
static sqlite3 *open_raw(const char *path, const char *synchronous) {
  sqlite3 *db = NULL;
  char pragma[64];
  snprintf(pragma, sizeof pragma, "PRAGMA synchronous=%s;", synchronous);
  if (sqlite3_open(path, &db) != SQLITE_OK ||
      sqlite3_exec(db, "PRAGMA journal_mode=WAL;", NULL, NULL, NULL) !=
        SQLITE_OK ||
      sqlite3_exec(db, pragma, NULL, NULL, NULL) != SQLITE_OK ||
      sqlite3_exec(db, sli_schema_sql, NULL, NULL, NULL) != SQLITE_OK ||
      sqlite3_exec(db, sli_index_sql, NULL, NULL, NULL) != SQLITE_OK) {
    fprintf(stderr, "logging: %s: %s\n", path, sqlite3_errmsg(db));
    sqlite3_close(db);
    return NULL;
  }
  return db;
}

/* Bind the row the writer would bind for event i: the timestamp formatted
** now as the writer does, category and severity the type's defaults. */
static void bind_row(sqlite3_stmt *st, long i, char *ts) {
  sl_event ev;
  bench_event(&ev, i);
  sl_time_format(sl_time_now(), 0, ts);
  sqlite3_bind_text(st, 1, ts, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, ev.device_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, ev.event_type, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 4, "data_flow", -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 5, "debug", -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 6, ev.summary, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 7, ev.details, -1, SQLITE_STATIC);
  sqlite3_bind_null(st, 8);
  sqlite3_bind_text(st, 9, ev.peer_device_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 10, ev.model_types, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 11, ev.record_count);
  sqlite3_bind_int64(st, 12, ev.duration_ms);
}

/* (b) with one_txn, (c) without: the same loop, committing once or for
** every row. The clock runs from the first statement to the last commit
** (which includes the automatic WAL checkpoint, as the writer's does). */
static int run_raw(const char *path, long n, int one_txn,
                   const char *synchronous, run *out) {
  char ts[SL_TIME_BUFSZ];
  sqlite3_stmt *st = NULL;
  int rc = SQLITE_OK;
  memset(out, 0, sizeof *out);
  sqlite3 *db = open_raw(path, synchronous);
  if (!db) return -1;
  if (sqlite3_prepare_v2(db, insert_sql, -1, &st, NULL) != SQLITE_OK) {
    fprintf(stderr, "logging: %s\n", sqlite3_errmsg(db));
    sqlite3_close(db);
    return -1;
  }
  int64_t t0 = bench_now();
  if (one_txn) rc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
  for (long i = 0; rc == SQLITE_OK && i < n; i++) {
    bind_row(st, i, ts);
    rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    sqlite3_reset(st);
  }
  if (one_txn && rc == SQLITE_OK)
    rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
  out->seconds = (double)(bench_now() - t0) / 1e9;
  out->written = rc == SQLITE_OK ? (uint64_t)n : 0;
  if (rc != SQLITE_OK) fprintf(stderr, "logging: %s\n", sqlite3_errmsg(db));
  sqlite3_finalize(st);
  sqlite3_close(db);
  return rc == SQLITE_OK ? 0 : -1;
}

static int cmp_run(const void *a, const void *b) {
  double x = ((const run *)a)->seconds, y = ((const run *)b)->seconds;
  return (x > y) - (x < y);
}

int main(void) {
  long n = bench_env_long("BENCH_EVENTS", 200000);
  long slow = bench_env_long("BENCH_SLOW_EVENTS", 5000);
  long repeat = bench_env_long("BENCH_REPEAT", 3);
  char dir[1024], path[1200], a[32], b[32], c[32], fig[64], base[64], rat[32];
  run ours[16], floor[16], alone[16], sd;
  if (repeat > 16) repeat = 16;
  if (bench_mkdtemp(dir, sizeof dir, "logging") != 0) return 1;

  printf("logging: %ld events (median of %ld runs), %ld one-commit-each; "
         "files in %s\n", n, repeat, slow, dir);
  /* Alternate the two so that neither always runs on a warmer machine. */
  for (long r = 0; r < repeat; r++) {
    snprintf(path, sizeof path, "%s/raw-%ld.db", dir, r);
    if (run_raw(path, n, 1, "NORMAL", &floor[r]) != 0) return 1;
    bench_rmdb(path);
    snprintf(path, sizeof path, "%s/synclua-%ld.db", dir, r);
    if (run_synclua(path, n, 0, &ours[r]) != 0) return 1;
    bench_rmdb(path);
    snprintf(path, sizeof path, "%s/alone-%ld.db", dir, r);
    if (run_synclua(path, n, (size_t)n + 1024, &alone[r]) != 0) return 1;
    bench_rmdb(path);
    printf("  run %ld: synclua %s ev/s (%llu SL_FULL retried) | raw 1-txn "
           "%s ev/s | writer alone %s ev/s\n", r + 1,
           bench_commas(a, (double)n / ours[r].seconds),
           (unsigned long long)ours[r].full,
           bench_commas(b, (double)n / floor[r].seconds),
           bench_commas(c, (double)n / alone[r].seconds));
  }
  snprintf(path, sizeof path, "%s/spacedrive.db", dir);
  if (run_raw(path, slow, 0, "FULL", &sd) != 0) return 1;
  bench_rmdb(path);
  rmdir(dir);

  qsort(ours, (size_t)repeat, sizeof *ours, cmp_run);
  qsort(floor, (size_t)repeat, sizeof *floor, cmp_run);
  qsort(alone, (size_t)repeat, sizeof *alone, cmp_run);
  const run *mo = &ours[repeat / 2], *mf = &floor[repeat / 2],
            *ma = &alone[repeat / 2];
  double ev_ours = (double)n / mo->seconds, ev_floor = (double)n / mf->seconds,
         ev_sd = (double)slow / sd.seconds;
  double r_floor = ev_ours / ev_floor, r_sd = ev_ours / ev_sd;
  double ev_alone = (double)n / ma->seconds;

  printf("logging  synclua %s ev/s | raw 1-txn %s ev/s | ratio %.2fx "
         "(target >= 0.80x)%s\n",
         bench_commas(a, ev_ours), bench_commas(b, ev_floor), r_floor,
         r_floor >= 0.8 ? "" : "  MISSED");
  printf("logging  synclua %s ev/s | commit-each FULL %s ev/s | ratio %.1fx "
         "(target >= 15x)%s\n",
         a, bench_commas(c, ev_sd), r_sd, r_sd >= 15 ? "" : "  MISSED");
  printf("logging  writer alone (queue >= N, no SL_FULL) %s ev/s | raw 1-txn "
         "%s ev/s | ratio %.2fx (no target: how much of the gap is the "
         "producer's)\n",
         bench_commas(c, ev_alone), b, ev_alone / ev_floor);
  printf("  synclua median run: queue of %zu full %llu times (each retried "
         "after sched_yield; the store counts them as drops: %llu), %llu "
         "events written\n",
         mo->capacity, (unsigned long long)mo->full,
         (unsigned long long)mo->dropped, (unsigned long long)mo->written);

  snprintf(fig, sizeof fig, "%s ev/s", a);
  snprintf(base, sizeof base, "raw 1-txn %s ev/s", b);
  snprintf(rat, sizeof rat, "%.2fx", r_floor);
  bench_result("logging vs raw 1-txn", fig, base, rat, ">= 0.80x",
               r_floor >= 0.8);
  snprintf(base, sizeof base, "commit-each FULL %s ev/s",
           bench_commas(c, ev_sd));
  snprintf(rat, sizeof rat, "%.1fx", r_sd);
  bench_result("logging vs commit-each", fig, base, rat, ">= 15x",
               r_sd >= 15);
  snprintf(fig, sizeof fig, "%s ev/s", bench_commas(c, ev_alone));
  snprintf(base, sizeof base, "raw 1-txn %s ev/s", b);
  snprintf(rat, sizeof rat, "%.2fx", ev_alone / ev_floor);
  bench_result("logging, writer alone (queue >= N)", fig, base, rat, NULL,
               -1);
  return 0;
}
