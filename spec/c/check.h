/*
** check.h -- the tiny assertion harness of the C test driver (spec/c/).
**
** What busted cannot reach from Lua (threads, fault paths, the raw C API)
** is tested by small C programs. Each uses CHECK* and ends with
** check_report(), which prints one "<suite>: N passed, N failed" line that
** .ci/run adds to the busted totals.
*/
#ifndef CHECK_H
#define CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int check_passed, check_failed;

#define CHECK(cond) check_bool((cond), #cond, __FILE__, __LINE__)
#define CHECK_EQ_INT(got, want) \
  check_int((int64_t)(got), (int64_t)(want), #got, __FILE__, __LINE__)
#define CHECK_EQ_STR(got, want) \
  check_str((got), (want), #got, __FILE__, __LINE__)

static void check_bool(int ok, const char *expr, const char *file, int line) {
  if (ok) { check_passed++; return; }
  check_failed++;
  fprintf(stderr, "%s:%d: FAILED: %s\n", file, line, expr);
}

static void check_int(int64_t got, int64_t want, const char *expr,
                      const char *file, int line) {
  if (got == want) { check_passed++; return; }
  check_failed++;
  fprintf(stderr, "%s:%d: FAILED: %s is %" PRId64 ", expected %" PRId64 "\n",
          file, line, expr, got, want);
}

static void check_str(const char *got, const char *want, const char *expr,
                      const char *file, int line) {
  if (got && want && strcmp(got, want) == 0) { check_passed++; return; }
  if (!got && !want) { check_passed++; return; }
  check_failed++;
  fprintf(stderr, "%s:%d: FAILED: %s is \"%s\", expected \"%s\"\n", file,
          line, expr, got ? got : "(null)", want ? want : "(null)");
}

/* Print the suite's closing line; the exit status says whether all passed. */
static int check_report(const char *suite) {
  printf("%s: %d passed, %d failed\n", suite, check_passed, check_failed);
  return check_failed ? 1 : 0;
}

#endif
