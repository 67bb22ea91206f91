/*
** follow.c -- `synclua events --follow` against a writer in another
** process (issue 14): how long from a commit to the follower's line, and
** what the follower costs while nothing happens.
**
** The follower is the synclua program (`events --follow -f ndjson` on a
** store in BENCH_DIR; then `timeline --follow --window 0` of that store
** and a quiet one), its stdout a pipe read here. This process
** writes, through its own SQLite connection as Spacedrive would, one row
** per transaction at a steady rate (10 and 2,000 events/s), each summary
** carrying the monotonic time of its COMMIT's return; a reader thread
** takes the line's arrival time. The figures are the p50 and p99 of
** arrival minus commit (target: p99 <= 100 ms), beside the baseline of a
** reader in this process that polls `SELECT max(id)` every millisecond
** (what a follower without change detection would do, at one query a
** millisecond). Idle: the follower's CPU time (utime + stime from /proc)
** over BENCH_FOLLOW_IDLE seconds without a commit (target: about 0).
**
** Usage: bench_follow HOST. Environment: BENCH_DIR, BENCH_FOLLOW_SECONDS
** (5 per rate), BENCH_FOLLOW_IDLE (5).
*/
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include "bench.h"

#define MAX_SAMPLES 20000

typedef struct reader {
  FILE    *in;
  int64_t *lat;               /* arrival - commit, ns                       */
  long     n, want;
} reader;

static void *read_lines(void *arg) {
  reader *r = arg;
  char line[4096];
  while (r->n < r->want && fgets(line, sizeof line, r->in)) {
    int64_t now = bench_now();
    const char *at = strstr(line, "\"summary\":\"t=");
    long long sent;
    if (at && sscanf(at + 13, "%lld", &sent) == 1 && r->n < MAX_SAMPLES)
      r->lat[r->n++] = now - (int64_t)sent;
  }
  return NULL;
}

/* Write `count` rows at `rate` a second, one transaction each. */
static int write_rows(sqlite3 *db, long count, long rate) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db, "INSERT INTO sync_event_log (timestamp,"
      " device_id, event_type, category, severity, summary) VALUES"
      " ('2025-12-03T10:00:00+00:00', '6f1c2a3b-4d5e-4f60-8a71-"
      "000000000001', 'state_transition', 'lifecycle', 'info', ?1)", -1,
      &st, NULL) != SQLITE_OK)
    return -1;
  int64_t start = bench_now(), gap = 1000000000LL / rate;
  for (long i = 0; i < count; i++) {
    int64_t due = start + i * gap;
    while (bench_now() < due) {
      struct timespec ts = {0, 100000};
      nanosleep(&ts, NULL);
    }
    char summary[64];
    /* The time of the commit is known only after it: take it just before
    ** and let the commit's own cost count as latency. */
    snprintf(summary, sizeof summary, "t=%lld", (long long)bench_now());
    sqlite3_bind_text(st, 1, summary, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_DONE) {
      sqlite3_finalize(st);
      return -1;
    }
    sqlite3_reset(st);
  }
  sqlite3_finalize(st);
  return 0;
}

static double pct(int64_t *v, long n, double p) {
  if (n == 0) return -1;
  qsort(v, (size_t)n, sizeof *v, bench_cmp_i64);
  long k = (long)(p * (double)(n - 1));
  return (double)v[k] / 1e6;
}

/* The follower's CPU time (ms) so far. */
static double cpu_ms(pid_t pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  const char *p = strrchr(buf, ')');
  unsigned long ut = 0, stt = 0;
  if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
                   "%lu %lu", &ut, &stt) != 2)
    return -1;
  return (double)(ut + stt) * 1000.0 / (double)sysconf(_SC_CLK_TCK);
}

/* The baseline: this process polls max(id) every millisecond until
** `count` rows have come, on its own connection; latencies as above. */
typedef struct poller {
  const char *path;
  long        count;
  int64_t    *lat;
  long        n;
} poller;

static void *poll_rows(void *arg) {
  poller *p = arg;
  sqlite3 *db;
  sqlite3_stmt *st;
  int64_t mark = 0;
  sqlite3_open_v2(p->path, &db, SQLITE_OPEN_READONLY, NULL);
  sqlite3_prepare_v2(db, "SELECT id, summary FROM sync_event_log WHERE"
                     " id > ?1 ORDER BY id", -1, &st, NULL);
  int64_t deadline = bench_now() + 60 * 1000000000LL;
  while (p->n < p->count && bench_now() < deadline) {
    sqlite3_bind_int64(st, 1, mark);
    while (sqlite3_step(st) == SQLITE_ROW) {
      int64_t now = bench_now();
      long long sent;
      mark = sqlite3_column_int64(st, 0);
      const char *s = (const char *)sqlite3_column_text(st, 1);
      if (s && sscanf(s, "t=%lld", &sent) == 1 && p->n < MAX_SAMPLES)
        p->lat[p->n++] = now - (int64_t)sent;
    }
    sqlite3_reset(st);
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return NULL;
}

/* One follower (`synclua ARGS` beside the store at path), measured: idle,
** then at each rate; `what` names it in the figures. */
static int measure(const char *host, const char *what, const char *args,
                   const char *path, long seconds, long idle) {
  char cmd[2600];
  unlink(path);
  sqlite3 *db;
  if (sqlite3_open(path, &db) != SQLITE_OK ||
      sqlite3_exec(db, sl_spacedrive_ddl(), NULL, NULL, NULL) != SQLITE_OK ||
      sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL) !=
        SQLITE_OK) {
    fprintf(stderr, "follow: %s: %s\n", path, sqlite3_errmsg(db));
    return 1;
  }
  /* The follower, its pid first on the pipe. */
  snprintf(cmd, sizeof cmd, "echo $$; exec %s %s", host, args);
  FILE *in = popen(cmd, "r");
  char first[64];
  long pid = 0;
  /* (fscanf's "\n" would wait for the first non-blank byte after it) */
  if (!in || !fgets(first, sizeof first, in) ||
      sscanf(first, "%ld", &pid) != 1) {
    fprintf(stderr, "follow: %s did not start\n", host);
    return 1;
  }
  struct timespec settle = {1, 0};
  nanosleep(&settle, NULL);

  /* Idle: nothing committed. */
  double c0 = cpu_ms((pid_t)pid);
  struct timespec quiet = {idle, 0};
  nanosleep(&quiet, NULL);
  double idle_ms = cpu_ms((pid_t)pid) - c0;
  printf("%s  idle: %.1f ms of CPU in %ld s (%.3f %% of a core) | "
         "target about 0\n", what, idle_ms, idle,
         idle_ms / (double)idle / 10.0);

  static int64_t lat[MAX_SAMPLES], base[MAX_SAMPLES];
  static const long rates[] = {10, 2000};
  for (size_t k = 0; k < sizeof rates / sizeof *rates; k++) {
    long rate = rates[k], count = rate * seconds;
    if (count > MAX_SAMPLES) count = MAX_SAMPLES;
    reader r = {in, lat, 0, count};
    poller p = {path, count, base, 0};
    pthread_t tr, tp;
    pthread_create(&tr, NULL, read_lines, &r);
    pthread_create(&tp, NULL, poll_rows, &p);
    if (write_rows(db, count, rate) != 0) {
      fprintf(stderr, "follow: %s\n", sqlite3_errmsg(db));
      return 1;
    }
    pthread_join(tr, NULL);
    pthread_join(tp, NULL);
    double p50 = pct(lat, r.n, 0.50), p99 = pct(lat, r.n, 0.99);
    double b50 = pct(base, p.n, 0.50), b99 = pct(base, p.n, 0.99);
    printf("%s  %ld events/s: %ld of %ld lines, commit to line p50 %.2f "
           "ms, p99 %.2f ms | polling max(id) each ms: p50 %.2f, p99 %.2f "
           "ms | target p99 <= 100 ms%s\n", what, rate, r.n, count, p50,
           p99, b50, b99, r.n == count && p99 <= 100 ? "" : "  MISSED");
    char name[96], fig[64], bl[64];
    snprintf(name, sizeof name, "%s %ld ev/s, commit to line p99", what,
             rate);
    snprintf(fig, sizeof fig, "%.2f ms (p50 %.2f)", p99, p50);
    snprintf(bl, sizeof bl, "polling 1 ms: %.2f ms", b99);
    bench_result(name, fig, bl, NULL, "<= 100 ms",
                 r.n == count && p99 <= 100);
  }
  char name[96], fig[64];
  snprintf(name, sizeof name, "%s idle", what);
  snprintf(fig, sizeof fig, "%.1f ms CPU in %ld s", idle_ms, idle);
  bench_result(name, fig, NULL, NULL, "about 0",
               idle_ms <= 10.0 * (double)idle);
  kill((pid_t)pid, SIGINT);
  /* Read to the end before closing: a follower writing its last lines to
  ** a closed pipe would die of SIGPIPE instead. */
  char rest[4096];
  while (fgets(rest, sizeof rest, in)) {}
  int status = pclose(in);
  printf("%s  Ctrl-C: exit %d\n", what,
         WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  sqlite3_close(db);
  unlink(path);
  return 0;
}

int main(int argc, char **argv) {
  const char *host = argc > 1 ? argv[1] : "build/synclua";
  setvbuf(stdout, NULL, _IOLBF, 0);
  long seconds = bench_env_long("BENCH_FOLLOW_SECONDS", 5);
  long idle = bench_env_long("BENCH_FOLLOW_IDLE", 5);
  char path[1200], other[1200], args[2600];
  snprintf(path, sizeof path, "%s/follow.db", bench_dir());
  snprintf(other, sizeof other, "%s/follow-other.db", bench_dir());
  snprintf(args, sizeof args, "events --db %s --follow -f ndjson", path);
  if (measure(host, "follow", args, path, seconds, idle) != 0) return 1;
  /* timeline --follow of the written store and a quiet one, without a
  ** reorder window: what merging and placing cost. */
  sqlite3 *db;
  unlink(other);
  if (sqlite3_open(other, &db) != SQLITE_OK ||
      sqlite3_exec(db, sl_spacedrive_ddl(), NULL, NULL, NULL) != SQLITE_OK) {
    fprintf(stderr, "follow: %s: %s\n", other, sqlite3_errmsg(db));
    return 1;
  }
  sqlite3_close(db);
  snprintf(args, sizeof args, "timeline --db %s --db %s --follow -f ndjson "
           "--window 0", path, other);
  int rc = measure(host, "timeline follow", args, path, seconds, idle);
  unlink(other);
  return rc;
}
