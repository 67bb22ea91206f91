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
** Usage: bench_startup HOST [BASELINE]  (BASELINE defaults to lua5.4,
** looked up in PATH). Environment: BENCH_STARTUP_RUNS (50).
*/
#include <spawn.h>
#include <sys/wait.h>

#include "bench.h"

extern char **environ;

/* Run `prog -e ''` (or prog alone when bare) `runs` times; median in ns
** into *median and the fastest into *best; -1 if it cannot run or fails. */
static int measure(const char *prog, int bare, long runs, int64_t *median,
                   int64_t *best) {
  char *argv[] = {(char *)(uintptr_t)prog, (char *)(uintptr_t)"-e",
                  (char *)(uintptr_t)"", NULL};
  int64_t *t = calloc((size_t)runs + 1, sizeof *t);
  if (!t) return -1;
  if (bare) argv[1] = NULL;
  /* One run first, unmeasured: the binary and its libraries come into the
  ** page cache, as they are for a person typing commands all day. */
  for (long r = -1; r < runs; r++) {
    pid_t pid;
    int status;
    int64_t t0 = bench_now();
    if (posix_spawnp(&pid, prog, NULL, NULL, argv, environ) != 0 ||
        waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
      fprintf(stderr, "startup: %s: did not run or did not exit 0\n", prog);
      free(t);
      return -1;
    }
    if (r >= 0) t[r] = bench_now() - t0;
  }
  qsort(t, (size_t)runs, sizeof *t, bench_cmp_i64);
  *median = t[runs / 2];
  *best = t[0];
  free(t);
  return 0;
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
  return 0;
}
