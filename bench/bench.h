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

#include <synclua/net.h>

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

/* --------------------------------------------- synthetic stores' data */

/* A seeded generator (xorshift64*): the same stores on every machine, and
** fast. bench_seed restarts it. */
static inline uint64_t *bench_rng_state(void) {
  static uint64_t state = UINT64_C(0x9e3779b97f4a7c15);
  return &state;
}

static inline void bench_seed(uint64_t seed) { *bench_rng_state() = seed; }

static inline uint64_t bench_rng(void) {
  uint64_t *s = bench_rng_state();
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * UINT64_C(2685821657736338717);
}

static inline long bench_rng_below(long n) {
  return (long)(bench_rng() % (uint64_t)n);
}

/* A v4 uuid from the generator, lowercase and hyphenated. */
static inline void bench_fake_uuid(char *buf) {
  uint64_t a = bench_rng(), b = bench_rng();
  snprintf(buf, SL_UUID_BUFSZ, "%08x-%04x-4%03x-%04x-%012llx",
           (unsigned)(a >> 32), (unsigned)(a >> 16) & 0xffffu,
           (unsigned)a & 0xfffu, (unsigned)(0x8000u | ((b >> 48) & 0x3fffu)),
           (unsigned long long)(b & UINT64_C(0xffffffffffff)));
}

/* An event type with a real library's mix, per mille in sl_event_type
** order: mostly batch_ingestion and state_transition, the network chatter
** of backfills, a few sessions, ~1% errors (backfill_session_failed +
** sync_error). */
static inline int bench_pick_type(void) {
  static const int weights[SL_EVENT_TYPE_COUNT] = {
    200, 10, 10, 2, 25, 25, 480, 60, 60, 60, 30, 30, 8};
  long r = bench_rng_below(1000);
  for (int t = 0; t < SL_EVENT_TYPE_COUNT; t++) {
    if (r < weights[t]) return t;
    r -= weights[t];
  }
  return SL_BATCH_INGESTION;
}

/* One event's text, as synclua's typed emitters would form it. */
typedef struct bench_text {
  char summary[128];
  char details[128];
  char session[SL_UUID_BUFSZ];
} bench_text;

/* A synthetic event of `type` in `session` with `peer`, its strings in t:
** everything but the time. ~3% of what is not already an error is raised
** to a warning. Draws from the generator in a fixed order, so a seed
** gives the same rows whichever bench writes them. */
static inline void bench_make_event(sl_event *ev, bench_text *t, int type,
                                    const char *session, const char *peer,
                                    const char *device) {
  long k = bench_rng_below(1000) + 1;
  int sev = sl_event_type_severity((sl_event_type)type);
  if (sev < SL_WARNING && bench_rng_below(1000) < 30) sev = SL_WARNING;
  memset(ev, 0, sizeof *ev);
  snprintf(t->session, sizeof t->session, "%s", session);
  ev->device_id = device;
  ev->event_type = sl_event_type_name(type);
  ev->category = sl_category_name(sl_event_type_category((sl_event_type)type));
  ev->severity = sl_severity_name(sev);
  ev->summary = t->summary;
  ev->details = t->details;
  ev->peer_device_id = type == SL_STATE_TRANSITION ? NULL : peer;
  ev->correlation_id = type == SL_STATE_TRANSITION ||
                       type == SL_PEER_CONNECTED ||
                       type == SL_PEER_DISCONNECTED ? NULL : t->session;
  switch (type) {
  case SL_BATCH_INGESTION:
    snprintf(t->summary, sizeof t->summary,
             "Ingested batch of %ld records from peer %.8s", k * 10, peer);
    snprintf(t->details, sizeof t->details,
             "{\"models\":{\"entry\":%ld,\"tag\":%ld}}", k * 9, k);
    ev->model_types = "entry,tag";
    ev->record_count = k * 10;
    ev->duration_ms = bench_rng_below(200) + 5;
    ev->has_record_count = ev->has_duration_ms = 1;
    break;
  case SL_STATE_TRANSITION:
    snprintf(t->summary, sizeof t->summary, "State: Ready -> Backfilling");
    snprintf(t->details, sizeof t->details,
             "{\"from\":\"Ready\",\"reason\":\"peer %.8s\",\"to\":"
             "\"Backfilling\"}", peer);
    break;
  case SL_SYNC_ERROR:
  case SL_BACKFILL_SESSION_FAILED:
    snprintf(t->summary, sizeof t->summary,
             "Backfill from %.8s failed: connection reset by peer", peer);
    snprintf(t->details, sizeof t->details,
             "{\"error\":\"connection reset by peer\",\"retryable\":true}");
    break;
  default:
    snprintf(t->summary, sizeof t->summary, "%s with peer %.8s (%ld)",
             sl_event_type_debug_name(type), peer, k);
    snprintf(t->details, sizeof t->details, "{\"attempt\":%ld}", k % 5);
    if (type >= SL_BACKFILL_REQUEST_SENT && type <= SL_BACKFILL_RESPONSE_SENT)
      ev->model_types = "entry";
    if (type == SL_BACKFILL_RESPONSE_SENT ||
        type == SL_BACKFILL_SESSION_COMPLETED ||
        type == SL_CATCH_UP_SESSION_COMPLETED) {
      ev->record_count = k * 100;
      ev->duration_ms = k * 3;
      ev->has_record_count = ev->has_duration_ms = 1;
    }
  }
}

#endif
