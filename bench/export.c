/*
** export.c -- how fast `synclua events -f json` exports a whole store,
** against `sqlite3 -json` dumping the same rows in the same order. The
** store is the query bench's (query.c builds it: $BENCH_DIR/query-1M.db,
** a realistic week of 1M events); run the query bench first, as bench/run
** does. DESIGN.md's target: synclua's rows/s >= 1.0x sqlite3's.
**
** Both are spawned as a person runs them, stdout to /dev/null, so the
** figure is the whole command: start-up, opening the store, the query,
** rendering (synclua: Spacedrive's pretty JSON, details re-emitted by
** serde's rules, "Z" timestamps written anew; sqlite3: its own JSON of the
** raw columns) and writing. The baseline's SQL is Spacedrive's order,
** `SELECT * FROM sync_event_log ORDER BY timestamp DESC`; synclua runs
** with --limit above the row count. Each figure is the median wall time of
** BENCH_EXPORT_RUNS runs (default 5) after one unmeasured run of each (the
** file in the page cache, as after any earlier command), the two commands
** taking turns so that load from elsewhere weighs on both alike; peak
** memory (max RSS) beside it shows that the export streams.
**
** Usage: bench_export HOST [SQLITE3]  (SQLITE3 defaults to sqlite3 in
** PATH). Environment: BENCH_ROWS (1000000), BENCH_EXPORT_RUNS (5),
** BENCH_DIR.
*/
#define _DEFAULT_SOURCE       /* wait4: the child's own peak memory */
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <sqlite3.h>

#include "bench.h"

extern char **environ;

typedef struct run {
  int64_t *times;             /* wall time of each measured run, ns         */
  int64_t wall;               /* their median                               */
  long    max_rss_kb;         /* the largest peak RSS of the runs           */
} run;

/* Spawn argv once with stdout to /dev/null; its wall time into r->times[i]
** (unless i < 0: unmeasured). 0, or -1 when it cannot run or fails. */
static int spawn_once(char *const argv[], run *r, long i) {
  posix_spawn_file_actions_t fa;
  pid_t pid;
  int status, ok;
  struct rusage ru;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  int64_t t0 = bench_now();
  ok = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) == 0 &&
       wait4(pid, &status, 0, &ru) == pid && WIFEXITED(status) &&
       WEXITSTATUS(status) == 0;
  int64_t t = bench_now() - t0;
  posix_spawn_file_actions_destroy(&fa);
  if (!ok) {
    fprintf(stderr, "export: %s: did not run or did not exit 0\n", argv[0]);
    return -1;
  }
  if (i >= 0) {
    r->times[i] = t;
    if (ru.ru_maxrss > r->max_rss_kb) r->max_rss_kb = ru.ru_maxrss;
  }
  return 0;
}

/* Both commands `runs` times (plus one unmeasured run each), alternating,
** so that whatever else the machine does weighs on both alike. */
static int measure(char *const a[], char *const b[], long runs, run *ra,
                   run *rb) {
  ra->times = calloc((size_t)runs, sizeof *ra->times);
  rb->times = calloc((size_t)runs, sizeof *rb->times);
  ra->max_rss_kb = rb->max_rss_kb = 0;
  int rc = ra->times && rb->times ? 0 : -1;
  for (long i = -1; rc == 0 && i < runs; i++)
    if (spawn_once(a, ra, i) != 0 || spawn_once(b, rb, i) != 0) rc = -1;
  if (rc == 0) {
    qsort(ra->times, (size_t)runs, sizeof *ra->times, bench_cmp_i64);
    qsort(rb->times, (size_t)runs, sizeof *rb->times, bench_cmp_i64);
    ra->wall = ra->times[runs / 2];
    rb->wall = rb->times[runs / 2];
  }
  free(ra->times);
  free(rb->times);
  return rc;
}

static long count_rows(const char *path) {
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  long n = -1;
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
      sqlite3_prepare_v2(db, "SELECT count(*) FROM sync_event_log", -1, &st,
                         NULL) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW)
    n = (long)sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

int main(int argc, char **argv) {
  const char *host = argc > 1 ? argv[1] : "build/synclua";
  const char *sqlite = argc > 2 ? argv[2] : "sqlite3";
  long rows = bench_env_long("BENCH_ROWS", 1000000);
  long runs = bench_env_long("BENCH_EXPORT_RUNS", 5);
  char path[4096], limit[32], fig[96], base[96], rat[32], a[32], b[32];
  run mine, theirs;

  /* query.c's name for it: query-1M.db, query-250000.db */
  if (rows % 1000000 == 0)
    snprintf(path, sizeof path, "%s/query-%ldM.db", bench_dir(),
             rows / 1000000);
  else
    snprintf(path, sizeof path, "%s/query-%ld.db", bench_dir(), rows);
  long n = count_rows(path);
  if (n <= 0) {
    fprintf(stderr, "export: no store at %s: run the query bench first "
            "(BENCH_ONLY=\"query export\")\n", path);
    return 1;
  }
  snprintf(limit, sizeof limit, "%ld", n + 1);
  char *events[] = {(char *)(uintptr_t)host, (char *)(uintptr_t)"events",
                    (char *)(uintptr_t)"--db", path,
                    (char *)(uintptr_t)"--limit", limit,
                    (char *)(uintptr_t)"-f", (char *)(uintptr_t)"json", NULL};
  char *dump[] = {(char *)(uintptr_t)sqlite, (char *)(uintptr_t)"-json",
                  (char *)(uintptr_t)"-readonly", path,
                  (char *)(uintptr_t)"SELECT * FROM sync_event_log"
                                     " ORDER BY timestamp DESC", NULL};
  if (measure(events, dump, runs, &mine, &theirs) != 0) return 1;

  double mine_rps = (double)n / ((double)mine.wall / 1e9);
  double their_rps = (double)n / ((double)theirs.wall / 1e9);
  double ratio = mine_rps / their_rps;
  printf("export  synclua events -f json: %s rows/s (%.2f s, peak %ld KB) |"
         " sqlite3 -json: %s rows/s (%.2f s, peak %ld KB) | ratio %.2fx |"
         " target >= 1.0x%s\n",
         bench_commas(a, mine_rps), (double)mine.wall / 1e9, mine.max_rss_kb,
         bench_commas(b, their_rps), (double)theirs.wall / 1e9,
         theirs.max_rss_kb, ratio, ratio >= 1.0 ? "" : "  MISSED");
  printf("  %ld rows, newest first, stdout to /dev/null; median of %ld runs "
         "each, alternating, after one unmeasured run of each\n", n, runs);
  snprintf(fig, sizeof fig, "%s rows/s, peak %ld KB",
           bench_commas(a, mine_rps), mine.max_rss_kb);
  snprintf(base, sizeof base, "sqlite3 -json %s rows/s",
           bench_commas(b, their_rps));
  snprintf(rat, sizeof rat, "%.2fx", ratio);
  bench_result("JSON export, rows/s", fig, base, rat, ">= 1.0x",
               ratio >= 1.0);
  return 0;
}
