/*
** startup.c -- how long `synclua -e ''` takes from spawn to exit: the price
** of every command a person types and every script CI runs, before any
** work. DESIGN.md's target: <= 10 ms (median).
**
** Baselines, spawned the same way in the same run: `lua5.4 -e ''` (the
** plain interpreter synclua is built on: the difference is what synclua
** adds: the module, paths, preloads), and `true` (the cost of spawning a
** process at all on this machine). A shell's `time` would add its own
** fork and exec; posix_spawn and waitpid measured here add nothing but the
** clock reads.
**
** Then, when the query bench has left its copy of the 1M-row store in
** Spacedrive's exact format, a whole command on it: `synclua events
** --limit 1000` (its JSON to /dev/null), the first look of a fresh process
** at a store it does not own (issue 13's target: <= 20 ms), beside
** `sqlite3 -json` running the SQL Spacedrive's logger would for the same
** rows.
**
** Usage: bench_startup HOST [BASELINE [STORE]]  (BASELINE defaults to
** lua5.4, looked up in PATH). Environment: BENCH_STARTUP_RUNS (50).
*/
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include "bench.h"

extern char **environ;

/* Run argv `runs` times, its output to /dev/null; median in ns into
** *median and the fastest into *best; -1 if it cannot run or fails. */
static int measure_argv(char *const argv[], long runs, int64_t *median,
                        int64_t *best) {
  posix_spawn_file_actions_t quiet;
  int64_t *t = calloc((size_t)runs + 1, sizeof *t);
  if (!t) return -1;
  posix_spawn_file_actions_init(&quiet);
  posix_spawn_file_actions_addopen(&quiet, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&quiet, 2, "/dev/null", O_WRONLY, 0);
  /* One run first, unmeasured: the binary and its libraries come into the
  ** page cache, as they are for a person typing commands all day. */
  int rc = 0;
  for (long r = -1; r < runs && rc == 0; r++) {
    pid_t pid;
    int status;
    int64_t t0 = bench_now();
    if (posix_spawnp(&pid, argv[0], &quiet, NULL, argv, environ) != 0 ||
        waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
      fprintf(stderr, "startup: %s: did not run or did not exit 0\n",
              argv[0]);
      rc = -1;
    } else if (r >= 0) {
      t[r] = bench_now() - t0;
    }
  }
  posix_spawn_file_actions_destroy(&quiet);
  if (rc == 0) {
    qsort(t, (size_t)runs, sizeof *t, bench_cmp_i64);
    *median = t[runs / 2];
    *best = t[0];
  }
  free(t);
  return rc;
}

/* `prog -e ''`, or prog alone when bare. */
static int measure(const char *prog, int bare, long runs, int64_t *median,
                   int64_t *best) {
  char *argv[] = {(char *)(uintptr_t)prog, (char *)(uintptr_t)"-e",
                  (char *)(uintptr_t)"", NULL};
  if (bare) argv[1] = NULL;
  return measure_argv(argv, runs, median, best);
}

/* `synclua events --limit 1000` on store, and sqlite3's same rows. */
static void whole_command(const char *host, const char *store, long runs) {
  char *events[] = {(char *)(uintptr_t)host, (char *)(uintptr_t)"events",
                    (char *)(uintptr_t)"--db", (char *)(uintptr_t)store,
                    (char *)(uintptr_t)"--limit", (char *)(uintptr_t)"1000",
                    NULL};
  char *sql[] = {(char *)(uintptr_t)"sqlite3", (char *)(uintptr_t)"-readonly",
                 (char *)(uintptr_t)"-json", (char *)(uintptr_t)store,
                 (char *)(uintptr_t)"SELECT * FROM sync_event_log ORDER BY"
                 " timestamp DESC LIMIT 1000", NULL};
  int64_t m_ev, b_ev, m_sql = 0, best;
  char fig[64], base[96], rat[32];
  if (measure_argv(events, runs, &m_ev, &b_ev) != 0) return;
  measure_argv(sql, runs, &m_sql, &best);
  double ms = (double)m_ev / 1e6, mq = (double)m_sql / 1e6;
  snprintf(rat, sizeof rat, "%.2fx", m_sql ? ms / mq : 0.0);
  printf("startup  events --limit 1000 on Spacedrive's 1M-row store, end to "
         "end: %.2f ms (best %.2f) | sqlite3 -json, same rows: %.2f ms | "
         "ratio %s | target <= 20 ms%s\n", ms, (double)b_ev / 1e6, mq,
         m_sql ? rat : "-", ms <= 20 ? "" : "  MISSED");
  snprintf(fig, sizeof fig, "%.2f ms", ms);
  snprintf(base, sizeof base, "sqlite3 -json %.2f ms", mq);
  bench_result("events --limit 1000, 1M Spacedrive store, end to end", fig,
               m_sql ? base : NULL, m_sql ? rat : NULL, "<= 20 ms", ms <= 20);
}

int main(int argc, char **argv) {
  long runs = bench_env_long("BENCH_STARTUP_RUNS", 50);
  const char *host = argc > 1 ? argv[1] : "build/synclua";
  const char *lua = argc > 2 ? argv[2] : "lua5.4";
  int64_t m_host, b_host, m_lua = 0, m_true = 0, best;
  char fig[64], base[96], rat[32];
  if (measure(host, 0, runs, &m_host, &b_host) != 0) return 1;
  /* A missing baseline leaves its figure at 0 and the ratio out. */
  measure(lua, 0, runs, &m_lua, &best);
  measure("true", 1, runs, &m_true, &best);
  double ms = (double)m_host / 1e6, ml = (double)m_lua / 1e6;
  snprintf(rat, sizeof rat, "%.2fx", m_lua ? ms / ml : 0.0);
  printf("startup  %s -e '' %.2f ms (best %.2f) | %s -e '' %.2f ms | "
         "ratio %s | spawning true %.2f ms | target <= 10 ms%s\n",
         host, ms, (double)b_host / 1e6, lua, ml, m_lua ? rat : "-",
         (double)m_true / 1e6, ms <= 10 ? "" : "  MISSED");
  printf("  median of %ld runs each, after one unmeasured run\n", runs);
  snprintf(fig, sizeof fig, "%.2f ms", ms);
  snprintf(base, sizeof base, "%s -e '' %.2f ms", lua, ml);
  bench_result("startup synclua -e ''", fig, base, m_lua ? rat : NULL,
               "<= 10 ms", ms <= 10);
  if (argc > 3 && access(argv[3], R_OK) == 0)
    whole_command(host, argv[3], runs);
  else
    printf("startup  events --limit 1000: skipped (no %s: run the query "
           "bench first)\n", argc > 3 ? argv[3] : "store");
  return 0;
}
