/*
** test_fuzz_cases.c -- the C driver's replay of the protocol fuzz target's
** inputs: every file in fuzz/corpus/ (the seeds) and fuzz/crashes/ (the
** minimised crashes found so far) goes through the same checks as
** `make fuzz` (fuzz/protocol_check.c) and must violate no invariant. One
** check per file; run from the repository root, as spec/run does.
*/
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

/* The checks are included, not linked: the Makefile builds each
** spec/c/test_*.c from its one object plus libsynclua, and the fuzz target
** compiles protocol_check.c on its own with clang. Including the .c keeps
** that pattern rule untouched and still leaves one copy of the checks,
** compiled here with gcc and the project's warning set. */
#include "../../fuzz/protocol_check.c"

static int is_case(const struct dirent *d) {
  /* Not ".", "..", dotfiles or the folder's README. */
  return d->d_name[0] != '.' && strncmp(d->d_name, "README", 6) != 0;
}

/* The whole file; NULL if it cannot be read. */
static unsigned char *slurp(const char *path, size_t *len) {
  FILE *fp = fopen(path, "rb");
  unsigned char *buf = NULL;
  size_t cap = 0, n = 0;
  if (!fp) return NULL;
  for (;;) {
    if (n == cap) {
      unsigned char *nb = realloc(buf, cap = cap ? cap * 2 : 4096);
      if (!nb) { free(buf); fclose(fp); return NULL; }
      buf = nb;
    }
    size_t got = fread(buf + n, 1, cap - n, fp);
    n += got;
    if (got == 0) break;
  }
  if (ferror(fp)) { free(buf); buf = NULL; }
  fclose(fp);
  *len = n;
  return buf;
}

/* Each file of dir, in name order, as one case; returns how many there
** were, or -1 if dir cannot be read. */
static int replay(const char *dir) {
  struct dirent **names = NULL;
  int n = scandir(dir, &names, is_case, alphasort);
  if (n < 0) {
    fprintf(stderr, "test_fuzz_cases: cannot read %s (run from the "
            "repository root)\n", dir);
    return -1;
  }
  for (int i = 0; i < n; i++) {
    char path[1024], why[512];
    const char *verdict = "ok";
    size_t len = 0;
    unsigned char *data;
    snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
    data = slurp(path, &len);
    if (!data)
      verdict = "cannot read the file";
    else if (protocol_check(data, len, why, sizeof why) != 0)
      verdict = why;
    if (strcmp(verdict, "ok") != 0) fprintf(stderr, "%s:\n", path);
    CHECK_EQ_STR(verdict, "ok");
    free(data);
    free(names[i]);
  }
  free(names);
  return n;
}

int main(void) {
  /* An unreadable or empty corpus is one failure: the suite must not pass
  ** for want of cases. fuzz/crashes/ may hold nothing but its README. */
  int seeds = replay("fuzz/corpus");
  if (seeds <= 0) CHECK(seeds > 0);
  int crashes = replay("fuzz/crashes");
  if (crashes < 0) CHECK_EQ_INT(crashes, 0);
  return check_report("fuzz_cases");
}
