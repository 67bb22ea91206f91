/*
** bench.h -- what the benchmarks share: a monotonic clock, sizes read from
** the environment, numbers printed with thousands separators, a scratch
** folder, percentiles, and the one machine-readable line per figure that
** bench/run gathers into its closing summary.
**
** Everything here is `static inline` so that each bench stays a single
** translation unit (the Makefile builds bench/NAME.c alone into
** build/bench_NAME) and no helper a bench does not use draws a warning.
**
** A result line reads
**   #result|<what>|<figure>|<baseline>|<ratio or ->|<target>|<met|MISSED|->
** and is for bench/run only; people read the table lines printed beside it.
*/
#ifndef BENCH_H
#define BENCH_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sl.h"

/* The same device and peer in every logging bench, so rows are alike. */
#define BENCH_DEVICE "6f1c2a3b-4d5e-4f60-8a71-92b3c4d5e6f7"
#define BENCH_PEER   "0a9b8c7d-6e5f-4a3b-9c2d-1e0f9a8b7c6d"

/* Wall time in ns from an arbitrary origin, immune to clock steps. */
static inline int64_t bench_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * SL_NS_PER_SEC + ts.tv_nsec;
}

/* A positive integer from the environment, or `def` when unset or bad
** (a bench never refuses to run over its configuration). */
static inline long bench_env_long(const char *name, long def) {
  const char *v = getenv(name);
  char *end;
  if (!v || !*v) return def;
  errno = 0;
  long n = strtol(v, &end, 10);
  if (errno || *end || n <= 0) {
    fprintf(stderr, "%s=%s: not a positive integer, using %ld\n", name, v,
            def);
    return def;
  }
  return n;
}

/* "1,234,567" into buf (at least 32 bytes); returns buf for printf. */
static inline const char *bench_commas(char *buf, double value) {
  char digits[32];
  int neg = value < 0;
  snprintf(digits, sizeof digits, "%.0f", neg ? -value : value);
  size_t n = strlen(digits), o = 0;
  if (neg) buf[o++] = '-';
  for (size_t i = 0; i < n; i++) {
    if (i && (n - i) % 3 == 0) buf[o++] = ',';
    buf[o++] = digits[i];
  }
  buf[o] = '\0';
  return buf;
}

/* The folder the benches write into: $BENCH_DIR, else $TMPDIR, else /tmp.
** Files go on the disk being measured, so say which in RESULTS.md. */
static inline const char *bench_dir(void) {
  const char *d = getenv("BENCH_DIR");
  if (!d || !*d) d = getenv("TMPDIR");
  return d && *d ? d : "/tmp";
}

/* A fresh private folder under bench_dir() (for files that must not be
** reused); the caller removes it with bench_rmdb + rmdir. */
static inline int bench_mkdtemp(char *buf, size_t size, const char *tag) {
  snprintf(buf, size, "%s/synclua-bench-%s-XXXXXX", bench_dir(), tag);
  if (!mkdtemp(buf)) {
    fprintf(stderr, "%s: cannot create a scratch folder: %s\n", buf,
            strerror(errno));
    return -1;
  }
  return 0;
}

/* Remove a database and its WAL companions. */
static inline void bench_rmdb(const char *path) {
  char side[4096];
  unlink(path);
  snprintf(side, sizeof side, "%s-wal", path);
  unlink(side);
  snprintf(side, sizeof side, "%s-shm", path);
  unlink(side);
  snprintf(side, sizeof side, "%s-journal", path);
  unlink(side);
}

static inline int bench_cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* The p-quantile (0..1) of n sorted values, nearest rank. */
static inline int64_t bench_pct(const int64_t *sorted, size_t n, double p) {
  if (n == 0) return 0;
  size_t rank = (size_t)(p * (double)n + 0.999999);
  if (rank < 1) rank = 1;
  if (rank > n) rank = n;
  return sorted[rank - 1];
}

/* The #result line bench/run collects; `met` is 1, 0, or -1 (no target). */
static inline void bench_result(const char *what, const char *figure,
                                const char *baseline, const char *ratio,
                                const char *target, int met) {
  printf("#result|%s|%s|%s|%s|%s|%s\n", what, figure, baseline ? baseline : "-",
         ratio ? ratio : "-", target ? target : "-",
         met < 0 ? "-" : met ? "met" : "MISSED");
}

/* One batch_ingestion event as a sync engine logs it after a batch from a
** peer: a ~60-byte summary, two model types, counts, a small details
** object. Every logging bench (and the raw baselines) writes this row. */
static inline void bench_event(sl_event *ev, int64_t i) {
  memset(ev, 0, sizeof *ev);
  ev->event_type = "batch_ingestion";
  ev->device_id = BENCH_DEVICE;
  ev->summary = "Ingested batch of 1000 records from peer 0a9b8c7d (entry, tag)";
  ev->details = "{\"a\":1}";
  ev->peer_device_id = BENCH_PEER;
  ev->model_types = "entry,tag";
  ev->record_count = 1000 + i % 7;
  ev->has_record_count = 1;
  ev->duration_ms = 40 + i % 13;
  ev->has_duration_ms = 1;
}

#endif
