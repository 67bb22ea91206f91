/*
** fetch.c -- the network protocol (`synclua serve` / `synclua fetch`):
** events/s fetched from 4 local peers at once, and the latency of a small
** request while another client streams a large answer. DESIGN.md sets no
** target for either; the figures are reported beside their baselines.
**
** The stores: BENCH_FETCH_PEERS (4) files of BENCH_FETCH_EVENTS (100,000)
** events each, one device per file, built once with sl_store_insert (so
** every row is in the form the writer stores) and kept in $BENCH_DIR as
** fetch-<events>-<peer>.db. The data is query.c's busy week in miniature:
** 13 types weighted as a busy sync logs them, details, peers, sessions.
** A server logs every request it answers into the store it serves (a
** backfill_request_received event, model type "sync_event_log"): those
** rows are deleted before and after each run, so a reused store is the
** store that was built.
**
** (a) Throughput. One sl_server per store, in-process on 127.0.0.1:0, each
**     running sl_server_run in a thread of its own. sl_fetch asks all of
**     them at once (a thread per peer, as `synclua fetch` does) for every
**     event, into fresh destination stores (synchronous off, as `synclua
**     fetch` opens them); the server cuts each response at 10,000 events
**     and the client pages. The request carries a "before" bound just past
**     the newest built event, so the requests the servers log while the
**     bench runs are never part of the answer: every run moves exactly the
**     same rows. The clock covers sl_fetch alone (connect, handshake, every
**     page, the inserts); opening and closing the destinations is outside.
**     Baselines, on the same rows and the same 4 threads at once, with no
**     socket: each thread reads its store with sl_query (the server's
**     filter: its device, up to the bound, newest first), renders every
**     event as the server does (sl_render_event, SL_RENDER_NDJSON_DEVICE,
**     into a 10,000-event page) and stores the page into a fresh store with
**     sl_store_insert (skipping duplicates, as fetch does):
**       - "local copy": the rows handed straight to sl_store_insert;
**       - "local copy + decode": the page parsed back first (sl_json_parse,
**         sl_response_events) as the client decodes a response.
**     The second baseline is the whole fetch minus the wire: its ratio is
**     the price of the network, the crypto, the framing and the paging.
**     MB/s counts the events' JSON (the rendered bytes and their commas,
**     not the envelope nor the records' framing). BENCH_FETCH_REPEAT (3)
**     runs of each, alternating; best and median reported.
**
** (b) Latency. Against the first server, small requests (the
**     BENCH_FETCH_SMALL_LIMIT = 10 newest events) one after another, each
**     timed alone, BENCH_FETCH_SMALL (2000) of them or BENCH_FETCH_SECONDS
**     (20) per loop, whichever ends first (a request that takes a second
**     would otherwise keep the bench for an hour; the count is printed):
**       - new connection: sl_fetch with one peer -- a thread, connect,
**         handshake, request, response, insert into a store (one
**         destination store for the whole loop, opened beforehand), close;
**         what `synclua fetch` does, minus opening its store;
**       - kept connection: one sl_channel_client, then per request
**         sl_request_write + sl_channel_send + sl_channel_recv +
**         sl_message_parse (no insert).
**     Then both again with a request for an event type no store holds:
**     the server answers it without querying its store, so it is the
**     protocol's own round trip (connection, handshake, crypto, framing,
**     the request logged), the floor under the figures above.
**     Every loop runs first with nothing else running (the baseline), then
**     while another thread loops `synclua fetch`'s work for the whole store
**     from the same server (sl_fetch of every event, 10,000 per response,
**     into a fresh store each round). 20 unmeasured warm-up requests
**     precede each loop.
**
** (c) A hostile peer (with HOST, the synclua program, as the argument):
**     peak RSS of `synclua fetch --limit 10000` (a child process, measured
**     by GNU time's %M, /usr/bin/time) against peers that hold the key and
**     answer with one frame of one of three shapes: SL_MAX_FRAME (16 MiB)
**     bytes of the smallest JSON values there are ("events":[0,0,0,...]: 8
**     million values, the costliest frame to decode: refused unread); one
**     "event" of as many zeros as the decode budget lets through (decoded,
**     then refused); and 16 MiB of 1 KiB strings (decoded, then refused).
**     1 peer and BENCH_FETCH_PEERS peers at once. Baseline: the same
**     command against as many honest peers (the servers of (a)), each
**     answering a full page of 10,000 events. DESIGN.md: <= 64 MB a peer.
**
** (d) A silent-socket flood (HOST as well): `synclua serve` (a child)
**     on the first store; BENCH_FETCH_FLOOD_SOCKETS (96) sockets opened
**     and left silent, each opened again as soon as the server closes it,
**     from another address (127.0.0.2) and then from the fetcher's own
**     (127.0.0.1); meanwhile `synclua fetch --limit 10` runs again and
**     again for BENCH_FETCH_FLOOD_SECONDS (20) each. Figures: the fetches
**     that came back whole, and the bytes the server wrote to stderr in
**     that time and the 11 s after it (its refusal log, said at most once
**     per address every 10 s; the server's line per request answered is
**     not counted). Baseline: the same fetch loop for the same time with
**     no flood.
**
** Environment: BENCH_FETCH_PEERS (4, at most 16), BENCH_FETCH_EVENTS
** (100000) per store, BENCH_FETCH_REPEAT (3), BENCH_FETCH_SMALL (2000),
** BENCH_FETCH_SECONDS (20), BENCH_FETCH_SMALL_LIMIT (10),
** BENCH_FETCH_FLOOD_SECONDS (20), BENCH_FETCH_FLOOD_SOCKETS (96),
** BENCH_FETCH_PARTS (a subset of "throughput latency hostile flood"; all
** by default); BENCH_DIR (else $TMPDIR, else /tmp).
**
** Usage: bench_fetch [HOST]   (without HOST, (c) and (d) are left out)
*/
#define _DEFAULT_SOURCE       /* wait4: a child's own peak memory */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "bench.h"
#include "sli.h"

/* The flood is test_net.c's, included from spec/c/ rather than copied:
** the Makefile builds each bench from its one .c, and one copy means the
** test checks the flood this bench measures. */
#include "../spec/c/flood.h"

extern char **environ;

/* A string as an argv entry (posix_spawn takes char *const[]). */
#define ARG(s) ((char *)(uintptr_t)(s))

#define MAX_PEERS 16
#define PEERS     8                 /* the peers the stores' events name  */
#define PAGE      SL_MAX_EVENTS     /* events in one response or page     */
#define WARMUP    20
#define START     INT64_C(1764547200) /* 2025-12-01T00:00:00Z, seconds    */

/* ------------------------------------------------------------ the data */

static char peer_ids[PEERS][SL_UUID_BUFSZ];
static char device_ids[MAX_PEERS][SL_UUID_BUFSZ];

/* The ids are a function of the seed alone, so a reused store and this run
** agree on them. */
static void make_ids(void) {
  bench_seed(UINT64_C(0x9e3779b97f4a7c15));
  for (int i = 0; i < PEERS; i++) bench_fake_uuid(peer_ids[i]);
  for (int i = 0; i < MAX_PEERS; i++) bench_fake_uuid(device_ids[i]);
}


/* Build store `d` with n events over 7 days, in pages of PAGE events (one
** sl_store_insert, one transaction, each). */
static int build(const char *path, int d, long n) {
  sl_open_opts o;
  sl_store *s = NULL;
  sl_event *evs = calloc(PAGE, sizeof *evs);
  bench_text *rows = calloc(PAGE, sizeof *rows);
  char session[SL_UUID_BUFSZ];
  int64_t t = START * SL_NS_PER_SEC + d * INT64_C(37000000);
  int64_t mean_gap = 7 * SL_NS_PER_DAY / n;
  long left = 0;
  int peer = 0, rc = SL_OK;
  if (!evs || !rows) { free(evs); free(rows); return -1; }
  bench_rmdb(path);
  memset(&o, 0, sizeof o);
  o.mode = SL_OPEN_WRITE;
  o.synchronous = SL_SYNC_OFF;
  o.device_id = device_ids[d];
  rc = sl_store_open(path, &o, &s);
  bench_seed(UINT64_C(0x2545f4914f6cdd1d) + (uint64_t)d * 7919);
  for (long i = 0; i < n && rc == SL_OK;) {
    size_t k = 0;
    for (; k < PAGE && i < n; k++, i++) {
      if (left-- <= 0) {
        bench_fake_uuid(session);
        peer = (int)bench_rng_below(PEERS);
        left = 20 + bench_rng_below(380);
      }
      t += 1 + (int64_t)(bench_rng() % (uint64_t)(2 * mean_gap));
      bench_make_event(&evs[k], &rows[k], bench_pick_type(), session,
                       peer_ids[peer], device_ids[d]);
      evs[k].instant = t;
      evs[k].has_instant = 1;
    }
    rc = sl_store_insert(s, evs, k, 0, NULL, NULL);
  }
  if (rc != SL_OK) fprintf(stderr, "fetch: %s\n", sl_store_errmsg(s));
  sl_store_close(s);
  sl_store_release(s);
  free(evs);
  free(rows);
  return rc == SL_OK ? 0 : -1;
}

/* Delete the rows servers logged (requests served), then count the built
** rows and find the newest. The count, or -1. */
static long scrub(const char *path, const char *device, int64_t *newest) {
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  long n = -1;
  if (access(path, F_OK) != 0) return -1;
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
      sqlite3_exec(db, "PRAGMA busy_timeout=5000;"
                       "DELETE FROM sync_event_log WHERE event_type ="
                       " 'backfill_request_received' AND model_types ="
                       " 'sync_event_log'", NULL, NULL, NULL) == SQLITE_OK &&
      sqlite3_prepare_v2(db, "SELECT count(*), max(timestamp),"
                             " sum(device_id = ?1) FROM sync_event_log",
                         -1, &st, NULL) == SQLITE_OK) {
    sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW &&
        sqlite3_column_int64(st, 0) == sqlite3_column_int64(st, 2)) {
      const char *ts = (const char *)sqlite3_column_text(st, 1);
      if (ts && sl_time_parse_rfc3339(ts, strlen(ts), newest) == SL_OK)
        n = (long)sqlite3_column_int64(st, 0);
    }
  }
  sqlite3_finalize(st);
  sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
  sqlite3_close(db);
  return n;
}

/* ---------------------------------------------------------- the setup */

typedef struct server {
  sl_server *srv;
  pthread_t  tid;
  int        running;
  int        rc;
} server;

typedef struct bench {
  int           peers;
  long          events;           /* per store                            */
  char          path[MAX_PEERS][1200];
  char          scratch[1200];    /* this run's private folder            */
  unsigned char key[SL_KEY_BYTES];
  server        srv[MAX_PEERS];
  sl_request    all;              /* every built event                    */
  sl_request    small;            /* the newest few                       */
  int64_t       before;           /* just past the newest built event     */
  size_t        json_bytes;       /* the events' JSON, all stores         */
} bench;

static void *serve_main(void *arg) {
  server *s = arg;
  s->rc = sl_server_run(s->srv);
  return NULL;
}

static int start_servers(bench *b) {
  char err[256];
  for (int d = 0; d < b->peers; d++) {
    sl_server_opts o;
    memset(&o, 0, sizeof o);
    o.db_path = b->path[d];
    o.listen = "127.0.0.1:0";
    o.key = b->key;
    o.device_id = device_ids[d];
    if (sl_server_open(&o, &b->srv[d].srv, err, sizeof err) != SL_OK) {
      fprintf(stderr, "fetch: server %d: %s\n", d + 1, err);
      return -1;
    }
    if (pthread_create(&b->srv[d].tid, NULL, serve_main, &b->srv[d]) != 0) {
      fprintf(stderr, "fetch: cannot start server %d's thread\n", d + 1);
      return -1;
    }
    b->srv[d].running = 1;
  }
  return 0;
}

static void stop_servers(bench *b) {
  for (int d = 0; d < b->peers; d++) {
    if (b->srv[d].running) {
      sl_server_stop(b->srv[d].srv);
      pthread_join(b->srv[d].tid, NULL);
      b->srv[d].running = 0;
    }
    sl_server_free(b->srv[d].srv);
    b->srv[d].srv = NULL;
  }
}

static sl_store *open_dest(const char *path) {
  sl_open_opts o;
  sl_store *s = NULL;
  memset(&o, 0, sizeof o);
  o.mode = SL_OPEN_WRITE;
  o.synchronous = SL_SYNC_OFF;
  bench_rmdb(path);
  if (sl_store_open(path, &o, &s) != SL_OK) {
    fprintf(stderr, "fetch: %s\n", sl_store_errmsg(s));
    sl_store_release(s);
    return NULL;
  }
  return s;
}

static void drop_dest(sl_store *s, const char *path) {
  sl_store_close(s);
  sl_store_release(s);
  bench_rmdb(path);
}

/* The scratch file for peer d's destination in a run. */
static void dest_path(char *buf, size_t size, const bench *b,
                      const char *tag, int d) {
  snprintf(buf, size, "%s/%s-%d.db", b->scratch, tag, d);
}

/* ---------------------------------------------------- (a) throughput */

/* All peers at once into fresh stores; seconds, or -1. */
static double run_fetch(bench *b) {
  sl_fetch_peer p[MAX_PEERS];
  char path[1300];
  double secs = -1;
  int ok = 1;
  memset(p, 0, sizeof p);
  for (int d = 0; d < b->peers; d++) {
    dest_path(path, sizeof path, b, "dest", d);
    p[d].address = sl_server_address(b->srv[d].srv);
    if (!(p[d].dest = open_dest(path))) ok = 0;
  }
  if (ok) {
    int64_t t0 = bench_now();
    sl_fetch(p, (size_t)b->peers, &b->all, b->key, NULL);
    secs = (double)(bench_now() - t0) / 1e9;
    for (int d = 0; d < b->peers; d++) {
      if (p[d].status != SL_OK || p[d].received != b->events ||
          (long)p[d].inserted != b->events) {
        fprintf(stderr, "fetch: peer %d: %s (%s); %lld received, %zu "
                "inserted of %ld\n", d + 1, sl_status_name(p[d].status),
                p[d].errmsg, (long long)p[d].received, p[d].inserted,
                b->events);
        secs = -1;
      }
    }
    if (secs > 0 && b->peers > 0)
      printf("    fetch: %.3f s, %d pages from peer 1\n", secs, p[0].pages);
  }
  for (int d = 0; d < b->peers; d++) {
    dest_path(path, sizeof path, b, "dest", d);
    if (p[d].dest) drop_dest(p[d].dest, path);
  }
  return secs;
}

/* One event's strings copied out of the cursor (the cursor owns its
** pointers only until the next row): offsets into an arena. */
enum { F_TS, F_DEV, F_TYPE, F_CAT, F_SEV, F_SUM, F_DET, F_CORR, F_PEER,
       F_MODELS, F_COUNT };

typedef struct copied {
  size_t  at[F_COUNT];            /* offset, or SIZE_MAX for NULL         */
  int64_t record_count, duration_ms;
  int     has_record_count, has_duration_ms;
} copied;

static void copy_in(sl_buf *arena, copied *c, const sl_event *ev) {
  const char *f[F_COUNT] = {ev->timestamp, ev->device_id, ev->event_type,
                            ev->category, ev->severity, ev->summary,
                            ev->details, ev->correlation_id,
                            ev->peer_device_id, ev->model_types};
  for (int i = 0; i < F_COUNT; i++) {
    c->at[i] = f[i] ? arena->len : SIZE_MAX;
    if (f[i]) sl_buf_append(arena, f[i], strlen(f[i]) + 1);
  }
  c->record_count = ev->record_count;
  c->duration_ms = ev->duration_ms;
  c->has_record_count = ev->has_record_count;
  c->has_duration_ms = ev->has_duration_ms;
}

static void copy_out(const sl_buf *arena, const copied *c, sl_event *ev) {
  const char **f[F_COUNT] = {&ev->timestamp, &ev->device_id,
                             &ev->event_type, &ev->category, &ev->severity,
                             &ev->summary, &ev->details, &ev->correlation_id,
                             &ev->peer_device_id, &ev->model_types};
  memset(ev, 0, sizeof *ev);
  for (int i = 0; i < F_COUNT; i++)
    *f[i] = c->at[i] == SIZE_MAX ? NULL : arena->data + c->at[i];
  ev->record_count = c->record_count;
  ev->duration_ms = c->duration_ms;
  ev->has_record_count = c->has_record_count;
  ev->has_duration_ms = c->has_duration_ms;
}

typedef struct local_job {
  bench      *b;
  sl_store   *src;                /* read-only, warmed                    */
  sl_store   *dst;
  const char *device;
  int         decode;             /* parse the page back, as a client     */
  long        rows;               /* out: events stored                   */
  size_t      bytes;              /* out: the events' JSON                */
  int         ok;
  pthread_t   tid;
} local_job;

/* Store one page of `k` events; 0 or -1. */
static int store_page(local_job *j, sl_buf *page, sl_buf *arena,
                      const copied *cp, sl_event *evs, size_t k) {
  size_t n = 0, inserted = 0;
  sl_event *decoded = NULL;
  sl_json *tree = NULL;
  sl_buf strings = {0};
  char err[200];
  int rc;
  if (j->decode) {
    sl_buf_puts(page, "]");
    rc = sl_json_parse(page->data, page->len, &tree, err, sizeof err);
    if (rc == SL_OK)
      rc = sl_response_events(tree, &decoded, &n, &strings, err, sizeof err);
    if (rc == SL_OK)
      rc = sl_store_insert(j->dst, decoded, n, 1, &inserted, NULL);
    else
      fprintf(stderr, "fetch: local decode: %s\n", err);
    free(decoded);
    sl_json_free(tree);
    sl_buf_free(&strings);
  } else {
    for (size_t i = 0; i < k; i++) copy_out(arena, &cp[i], &evs[i]);
    n = k;
    rc = sl_store_insert(j->dst, evs, k, 1, &inserted, NULL);
  }
  if (rc != SL_OK && rc != SL_INVALID)
    fprintf(stderr, "fetch: local insert: %s\n", sl_store_errmsg(j->dst));
  j->rows += (long)inserted;
  sl_buf_reset(page);
  sl_buf_reset(arena);
  return rc == SL_OK && inserted == k ? 0 : -1;
}

/* What a server and a client do with a store's rows, without the wire. */
static void *local_main(void *arg) {
  local_job *j = arg;
  sl_filter f;
  sl_cursor *cur = NULL;
  const sl_event *ev;
  sl_buf one = {0}, page = {0}, arena = {0};
  copied *cp = calloc(PAGE, sizeof *cp);
  sl_event *evs = calloc(PAGE, sizeof *evs);
  size_t k = 0;
  int rc, failed = !cp || !evs;
  sl_filter_init(&f);
  f.device = j->device;
  f.until = j->b->before;
  f.has_until = 1;
  rc = failed ? SL_NOMEM : sl_query(j->src, &f, &cur);
  while (rc == SL_OK && !failed) {
    rc = sl_cursor_next(cur, &ev);
    if (rc != SL_ROW) break;
    rc = SL_OK;
    if (!ev->has_instant) continue;
    sl_buf_reset(&one);
    if (sl_render_event_reads(&one, ev, SL_RENDER_NDJSON_DEVICE,
                              SL_JSON_READS_PROTOCOL) != SL_OK) {
      failed = 1;
      break;
    }
    one.len--; /* the newline, as the server drops it */
    sl_buf_puts(&page, k ? "," : "[");
    sl_buf_append(&page, one.data, one.len);
    j->bytes += one.len + 1;
    if (!j->decode) copy_in(&arena, &cp[k], ev);
    if (++k == PAGE) {
      if (store_page(j, &page, &arena, cp, evs, k) != 0) failed = 1;
      k = 0;
    }
  }
  if (rc != SL_DONE) {
    fprintf(stderr, "fetch: local read: %s\n",
            cur ? sl_cursor_errmsg(cur) : sl_store_errmsg(j->src));
    failed = 1;
  }
  if (!failed && k && store_page(j, &page, &arena, cp, evs, k) != 0)
    failed = 1;
  sl_cursor_close(cur);
  sl_buf_free(&one);
  sl_buf_free(&page);
  sl_buf_free(&arena);
  free(cp);
  free(evs);
  j->ok = !failed && j->rows == j->b->events;
  return NULL;
}

/* The local copy on every store at once; seconds, or -1. */
static double run_local(bench *b, sl_store **src, int decode) {
  local_job j[MAX_PEERS];
  char path[1300];
  double secs = -1;
  int ok = 1;
  memset(j, 0, sizeof j);
  for (int d = 0; d < b->peers; d++) {
    dest_path(path, sizeof path, b, "local", d);
    j[d] = (local_job){b, src[d], open_dest(path), device_ids[d], decode,
                       0, 0, 0, 0};
    if (!j[d].dst) ok = 0;
  }
  if (ok) {
    int64_t t0 = bench_now();
    for (int d = 0; d < b->peers; d++)
      pthread_create(&j[d].tid, NULL, local_main, &j[d]);
    for (int d = 0; d < b->peers; d++) pthread_join(j[d].tid, NULL);
    secs = (double)(bench_now() - t0) / 1e9;
    b->json_bytes = 0;
    for (int d = 0; d < b->peers; d++) {
      if (!j[d].ok) {
        fprintf(stderr, "fetch: local copy of store %d: %ld rows of %ld\n",
                d + 1, j[d].rows, b->events);
        secs = -1;
      }
      b->json_bytes += j[d].bytes;
    }
  }
  for (int d = 0; d < b->peers; d++) {
    dest_path(path, sizeof path, b, "local", d);
    if (j[d].dst) drop_dest(j[d].dst, path);
  }
  return secs;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Best (fastest) and median of n timings, as events/s. */
static void rates(const double *secs, int n, double events, double *best,
                  double *median) {
  double s[64];
  memcpy(s, secs, (size_t)n * sizeof *s);
  qsort(s, (size_t)n, sizeof *s, cmp_double);
  *best = events / s[0];
  *median = events / s[n / 2];
}

static int throughput(bench *b, long repeat) {
  sl_store *src[MAX_PEERS] = {0};
  double t_fetch[64], t_copy[64], t_dec[64];
  double total = (double)b->events * b->peers;
  char c1[32], c2[32], c3[32], fig[128], base[96], rat[64];
  int rc = 0;
  /* The baselines' read-only handles, each warmed by one query (the
  ** servers' pooled handles were warmed the same way when they opened). */
  for (int d = 0; d < b->peers && rc == 0; d++) {
    sl_open_opts o;
    sl_filter f;
    sl_cursor *cur = NULL;
    const sl_event *ev;
    memset(&o, 0, sizeof o); /* SL_OPEN_READ */
    if (sl_store_open(b->path[d], &o, &src[d]) != SL_OK) {
      fprintf(stderr, "fetch: %s\n", sl_store_errmsg(src[d]));
      rc = -1;
      break;
    }
    sl_filter_init(&f);
    f.limit = 1;
    if (sl_query(src[d], &f, &cur) == SL_OK) sl_cursor_next(cur, &ev);
    sl_cursor_close(cur);
  }
  for (long r = 0; r < repeat && rc == 0; r++) {
    printf("  run %ld of %ld\n", r + 1, repeat);
    fflush(stdout);
    t_fetch[r] = run_fetch(b);
    t_copy[r] = run_local(b, src, 0);
    t_dec[r] = run_local(b, src, 1);
    if (t_fetch[r] < 0 || t_copy[r] < 0 || t_dec[r] < 0) rc = -1;
    else
      printf("    local copy: %.3f s; local copy + decode: %.3f s\n",
             t_copy[r], t_dec[r]);
  }
  for (int d = 0; d < b->peers; d++) {
    sl_store_close(src[d]);
    sl_store_release(src[d]);
  }
  if (rc != 0) return rc;

  double fb, fm, cb, cm, db, dm;
  rates(t_fetch, (int)repeat, total, &fb, &fm);
  rates(t_copy, (int)repeat, total, &cb, &cm);
  rates(t_dec, (int)repeat, total, &db, &dm);
  double mb = (double)b->json_bytes / 1e6, per_ev = mb * 1e6 / total;
  printf("fetch  %d peers x %s events (%.1f MB of JSON, %.0f B an event), "
         "best / median of %ld:\n", b->peers, bench_commas(c1, b->events),
         mb, per_ev, repeat);
  printf("fetch    sl_fetch over TCP + crypto:  %s / %s ev/s  "
         "(%.1f / %.1f MB/s)\n", bench_commas(c1, fb), bench_commas(c2, fm),
         mb * fb / total, mb * fm / total);
  printf("fetch    local copy (render+insert):  %s / %s ev/s  "
         "ratio fetch/local %.2fx (median)\n", bench_commas(c1, cb),
         bench_commas(c2, cm), fm / cm);
  printf("fetch    local copy + JSON decode:    %s / %s ev/s  "
         "ratio fetch/local %.2fx (median)\n", bench_commas(c1, db),
         bench_commas(c3, dm), fm / dm);
  snprintf(fig, sizeof fig, "%s ev/s, %.1f MB/s (best %s)",
           bench_commas(c1, fm), mb * fm / total, bench_commas(c2, fb));
  snprintf(base, sizeof base, "local copy %s ev/s", bench_commas(c3, cm));
  snprintf(rat, sizeof rat, "%.2fx", fm / cm);
  char what[96];
  snprintf(what, sizeof what, "fetch %dx%ld, median of %ld", b->peers,
           b->events, repeat);
  bench_result(what, fig, base, rat, NULL, -1);
  snprintf(base, sizeof base, "local + decode %s ev/s", bench_commas(c3, dm));
  snprintf(rat, sizeof rat, "%.2fx", fm / dm);
  bench_result("fetch vs local copy + JSON decode", fig, base, rat, NULL, -1);
  return 0;
}

/* ------------------------------------------------------- (b) latency */

typedef struct streamer {
  bench          *b;
  pthread_mutex_t mu;
  int             stop;           /* guarded by mu                        */
  long            rounds;         /* whole fetches done                   */
  int64_t         events;
  int             failed;
  pthread_t       tid;
} streamer;

static int should_stop(streamer *s) {
  pthread_mutex_lock(&s->mu);
  int stop = s->stop;
  pthread_mutex_unlock(&s->mu);
  return stop;
}

/* `synclua fetch` of the whole store, again and again. */
static void *stream_main(void *arg) {
  streamer *s = arg;
  char path[1300];
  snprintf(path, sizeof path, "%s/stream.db", s->b->scratch);
  while (!should_stop(s)) {
    sl_fetch_peer p;
    memset(&p, 0, sizeof p);
    p.address = sl_server_address(s->b->srv[0].srv);
    if (!(p.dest = open_dest(path))) { s->failed = 1; break; }
    sl_fetch(&p, 1, &s->b->all, s->b->key, NULL);
    drop_dest(p.dest, path);
    if (p.status != SL_OK) {
      fprintf(stderr, "fetch: streaming client: %s\n", p.errmsg);
      s->failed = 1;
      break;
    }
    s->rounds++;
    s->events += p.received;
  }
  return NULL;
}

/* One loop of small requests: what, how, and what comes back. */
typedef struct loop {
  const sl_request *req;
  int               kept;         /* one connection for the whole loop    */
  size_t            expect;       /* events in each answer                */
} loop;

/* One request on a connection of its own (sl_fetch, into `dest`); ns, or
** -1 on failure. */
static int64_t one_new_conn(bench *b, const loop *l, sl_store *dest) {
  sl_fetch_peer p;
  memset(&p, 0, sizeof p);
  p.address = sl_server_address(b->srv[0].srv);
  p.dest = dest;
  int64_t t0 = bench_now();
  sl_fetch(&p, 1, l->req, b->key, NULL);
  int64_t dt = bench_now() - t0;
  if (p.status == SL_OK && p.received == (int64_t)l->expect) return dt;
  fprintf(stderr, "fetch: small request: %s (%lld events)\n",
          p.status == SL_OK ? "wrong count" : p.errmsg,
          (long long)p.received);
  return -1;
}

/* One request on the kept channel: write, send, receive, parse. */
static int64_t one_kept_conn(const loop *l, sl_channel *ch, sl_buf *out,
                             sl_buf *in) {
  char err[256];
  sl_message m;
  int parsed = 0;
  int64_t t0 = bench_now();
  sl_buf_reset(out);
  sl_request_write(out, l->req);
  int r = sl_channel_send(ch, out->data, out->len);
  if (r == SL_OK) r = sl_channel_recv(ch, in, SL_MAX_FRAME);
  if (r == SL_OK) {
    parsed = 1;
    r = sl_message_parse(in->data, in->len, &m, err, sizeof err);
  } else {
    snprintf(err, sizeof err, "%s", sl_channel_errmsg(ch));
  }
  int64_t dt = bench_now() - t0;
  if (r != SL_OK || m.kind != SL_MSG_RESPONSE || !m.response.events ||
      m.response.events->length != l->expect) {
    fprintf(stderr, "fetch: kept connection: %s\n",
            r == SL_OK ? "not the response expected" : err);
    dt = -1;
  }
  if (parsed) sl_message_clear(&m);
  return dt;
}

/* Up to n requests, one after another, for at most `seconds` after the
** warm-up; each one's time into lat. The count done, or -1. */
static long run_loop(bench *b, const loop *l, long n, long seconds,
                     int64_t *lat) {
  char path[1300], err[256];
  sl_store *dest = NULL;
  sl_channel *ch = NULL;
  sl_buf out = {0}, in = {0};
  long done = 0;
  int fd = -1;
  if (l->kept) {
    fd = sli_connect(sl_server_address(b->srv[0].srv), 5000, err,
                     sizeof err);
    if (fd < 0 ||
        sl_channel_client(fd, b->key, NULL, &ch, err, sizeof err) != SL_OK) {
      fprintf(stderr, "fetch: kept connection: %s\n", err);
      if (fd >= 0) close(fd);
      return -1;
    }
  } else {
    snprintf(path, sizeof path, "%s/small.db", b->scratch);
    if (!(dest = open_dest(path))) return -1;
  }
  int64_t deadline = 0;
  for (long i = -WARMUP; i < n; i++) {
    if (i == 0) deadline = bench_now() + seconds * SL_NS_PER_SEC;
    else if (i > 0 && bench_now() > deadline) break;
    int64_t dt = l->kept ? one_kept_conn(l, ch, &out, &in)
                         : one_new_conn(b, l, dest);
    if (dt < 0) { done = -1; break; }
    if (i >= 0) lat[done++] = dt;
  }
  sl_buf_free(&out);
  sl_buf_free(&in);
  sl_channel_free(ch);
  if (fd >= 0) close(fd);
  if (dest) drop_dest(dest, path);
  return done;
}

typedef struct pcts {
  long   n;                       /* requests measured                    */
  double p50, p99, max;           /* us                                   */
} pcts;

static pcts summarise(int64_t *lat, long n) {
  pcts p;
  qsort(lat, (size_t)n, sizeof *lat, bench_cmp_i64);
  p.n = n;
  p.p50 = (double)bench_pct(lat, (size_t)n, 0.50) / 1e3;
  p.p99 = (double)bench_pct(lat, (size_t)n, 0.99) / 1e3;
  p.max = (double)lat[n - 1] / 1e3;
  return p;
}

/* Milliseconds with sensible digits. */
static const char *ms(char *buf, double us) {
  snprintf(buf, 16, us >= 100000 ? "%.0f" : us >= 1000 ? "%.1f" : "%.2f",
           us / 1e3);
  return buf;
}

static void report_latency(const char *label, const char *what, pcts idle,
                           pcts busy) {
  char fig[128], base[96], rat[64], a[16], c[16], d[16];
  printf("fetch  %-36s idle: p50 %8s | p99 %8s | max %8s ms  (%ld "
         "requests)\n", label, ms(a, idle.p50), ms(c, idle.p99),
         ms(d, idle.max), idle.n);
  printf("fetch  %-36s busy: p50 %8s | p99 %8s | max %8s ms  (%ld "
         "requests)  ratio p50 %.1fx, p99 %.1fx\n", "", ms(a, busy.p50),
         ms(c, busy.p99), ms(d, busy.max), busy.n, busy.p50 / idle.p50,
         busy.p99 / idle.p99);
  snprintf(fig, sizeof fig, "busy p99 %s / p50 %s ms (n %ld)",
           ms(a, busy.p99), ms(c, busy.p50), busy.n);
  snprintf(base, sizeof base, "idle p99 %s / p50 %s ms", ms(a, idle.p99),
           ms(c, idle.p50));
  snprintf(rat, sizeof rat, "%.1fx / %.1fx", busy.p99 / idle.p99,
           busy.p50 / idle.p50);
  bench_result(what, fig, base, rat, NULL, -1);
}

/* The loops measured, idle and busy, in this order. */
typedef struct figure {
  const char *label, *what;
  loop        l;
  pcts        idle, busy;
} figure;

static int latency(bench *b, long n, long seconds) {
  static const char *const nothing[] = {"no_such_event_type"};
  int64_t *lat = malloc((size_t)n * sizeof *lat);
  sl_request floor_req = b->small;
  streamer s;
  int rc = 0;
  floor_req.has_event_types = 1;
  floor_req.event_types = (char **)(uintptr_t)nothing;
  floor_req.n_event_types = 1;
  char what_new[48], what_kept[48];
  snprintf(what_new, sizeof what_new, "fetch %u newest, new conn",
           (unsigned)b->small.limit);
  snprintf(what_kept, sizeof what_kept, "fetch %u newest, kept conn",
           (unsigned)b->small.limit);
  figure fig[4] = {
    {"small request, new connection:", what_new,
     {&b->small, 0, b->small.limit}, {0, 0, 0, 0}, {0, 0, 0, 0}},
    {"small request, kept connection:", what_kept,
     {&b->small, 1, b->small.limit}, {0, 0, 0, 0}, {0, 0, 0, 0}},
    {"no-query request, new connection:", "fetch no-query req, new conn",
     {&floor_req, 0, 0}, {0, 0, 0, 0}, {0, 0, 0, 0}},
    {"no-query request, kept connection:", "fetch no-query req, kept conn",
     {&floor_req, 1, 0}, {0, 0, 0, 0}, {0, 0, 0, 0}},
  };
  if (!lat) return -1;
  memset(lat, 0, (size_t)n * sizeof *lat);
  memset(&s, 0, sizeof s);
  s.b = b;
  pthread_mutex_init(&s.mu, NULL);

  printf("  latency: up to %ld requests (at most %ld s) per loop for the "
         "%u newest events, idle\n", n, seconds, (unsigned)b->small.limit);
  fflush(stdout);
  for (int k = 0; k < 4 && rc == 0; k++) {
    long m = run_loop(b, &fig[k].l, n, seconds, lat);
    if (m <= 0) rc = -1;
    else fig[k].idle = summarise(lat, m);
  }
  if (rc == 0) {
    char c1[32], c2[32];
    printf("  latency: the same while another client fetches all %s events "
           "from the same server, again and again\n",
           bench_commas(c1, (double)b->events));
    fflush(stdout);
    pthread_create(&s.tid, NULL, stream_main, &s);
    struct timespec settle = {0, 200000000}; /* let the stream get going */
    nanosleep(&settle, NULL);
    int64_t t0 = bench_now();
    for (int k = 0; k < 4 && rc == 0; k++) {
      long m = run_loop(b, &fig[k].l, n, seconds, lat);
      if (m <= 0) rc = -1;
      else fig[k].busy = summarise(lat, m);
    }
    double secs = (double)(bench_now() - t0) / 1e9;
    int64_t ev0 = s.events;
    long rounds0 = s.rounds;
    pthread_mutex_lock(&s.mu);
    s.stop = 1;
    pthread_mutex_unlock(&s.mu);
    pthread_join(s.tid, NULL);
    if (s.failed) rc = -1;
    printf("  latency: %.1f s of busy loops; the streaming client finished "
           "%ld whole fetches in them (%s events, %s ev/s)\n", secs,
           rounds0, bench_commas(c1, (double)ev0),
           bench_commas(c2, (double)ev0 / secs));
  }
  for (int k = 0; k < 4 && rc == 0; k++)
    report_latency(fig[k].label, fig[k].what, fig[k].idle, fig[k].busy);
  pthread_mutex_destroy(&s.mu);
  free(lat);
  return rc;
}

/* ------------------------------------------------- (c) hostile peers */

/* A peer that holds the key and answers every request with `frame`. */
typedef struct hostile {
  int                  fd;        /* listening                            */
  char                 address[64];
  const unsigned char *key;
  const sl_buf        *frame;
  pthread_t            tid;
} hostile;

static void *hostile_main(void *arg) {
  hostile *h = arg;
  for (;;) {
    sl_channel *ch = NULL;
    sl_buf req = {0};
    char err[256];
    int c = accept(h->fd, NULL, NULL);
    if (c < 0) break; /* shut down: the bench is done with it */
    if (sl_channel_server(c, h->key, NULL, &ch, err, sizeof err) == SL_OK) {
      if (sl_channel_recv(ch, &req, 0) == SL_OK)
        sl_channel_send(ch, h->frame->data, h->frame->len);
      /* Until the fetcher has decoded it and hung up. */
      sl_channel_recv(ch, &req, 0);
    }
    sl_channel_free(ch);
    sl_buf_free(&req);
    close(c);
  }
  return NULL;
}

static int hostile_start(hostile *h, const unsigned char *key,
                         const sl_buf *frame) {
  char err[256];
  memset(h, 0, sizeof *h);
  h->key = key;
  h->frame = frame;
  h->fd = sli_listen("127.0.0.1:0", h->address, sizeof h->address, err,
                     sizeof err);
  if (h->fd < 0) {
    fprintf(stderr, "fetch: %s\n", err);
    return -1;
  }
  if (pthread_create(&h->tid, NULL, hostile_main, h) != 0) {
    close(h->fd);
    return -1;
  }
  return 0;
}

static void hostile_stop(hostile *h) {
  shutdown(h->fd, SHUT_RDWR);
  pthread_join(h->tid, NULL);
  close(h->fd);
}

/* Run HOST with argv, stdout to /dev/null and stderr to `errfile`; its
** exit status (-1 if it did not run) and peak RSS in KB. */
static int spawn_wait(char *const argv[], const char *errfile, long *rss_kb) {
  posix_spawn_file_actions_t fa;
  struct rusage ru;
  pid_t pid;
  int status = 0, rc = -1;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, errfile ? errfile : "/dev/null",
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) == 0 &&
      wait4(pid, &status, 0, &ru) == pid && WIFEXITED(status)) {
    rc = WEXITSTATUS(status);
    if (rss_kb) *rss_kb = ru.ru_maxrss;
  }
  posix_spawn_file_actions_destroy(&fa);
  return rc;
}

/* The key in a file, as `synclua keygen` writes it. */
static int write_key_file(const bench *b, char *path, size_t size) {
  char hex[SL_KEY_HEXSZ];
  snprintf(path, size, "%s/bench.key", b->scratch);
  FILE *f = fopen(path, "w");
  if (!f) return -1;
  sl_key_hex(b->key, hex);
  int ok = fprintf(f, "%s\n", hex) > 0;
  ok = fclose(f) == 0 && ok && chmod(path, 0600) == 0;
  return ok ? 0 : -1;
}

/* The last line of a file: GNU time's %M comes after its note of a
** non-zero exit status. */
static void last_line(const char *path, char *out, size_t size) {
  char buf[512];
  FILE *f = fopen(path, "r");
  out[0] = '\0';
  if (!f) return;
  while (fgets(buf, sizeof buf, f))
    if (buf[0] && buf[0] != '\n') snprintf(out, size, "%s", buf);
  fclose(f);
  out[strcspn(out, "\n")] = '\0';
}

/* The first line of a file, for saying why a child failed. */
static void first_line(const char *path, char *out, size_t size) {
  FILE *f = fopen(path, "r");
  out[0] = '\0';
  if (f) {
    if (!fgets(out, (int)size, f)) out[0] = '\0';
    fclose(f);
  }
  out[strcspn(out, "\n")] = '\0';
}

/* `synclua fetch --limit 10000` from the n addresses: its peak RSS in KB
** (-1 if it did not run), its exit status and first stderr line. The peak
** is GNU time's (%M), as bench/timeline.sh takes it: a child this process
** spawns would count this process's own RSS in its ru_maxrss (the memory
** it had when it called exec), and this process holds the hostile frames. */
static long fetch_rss(const char *host, const char *keyfile,
                      char addrs[][64], int n, const char *errfile,
                      int *status, char *said, size_t saidsz) {
  char *argv[16 + 2 * MAX_PEERS], rssfile[1300], line[512];
  int k = 0;
  long rss = -1;
  snprintf(rssfile, sizeof rssfile, "%s.rss", errfile);
  argv[k++] = ARG("/usr/bin/time");
  argv[k++] = ARG("-f");
  argv[k++] = ARG("%M");
  argv[k++] = ARG("-o");
  argv[k++] = rssfile;
  argv[k++] = ARG(host);
  argv[k++] = ARG("fetch");
  argv[k++] = ARG("--key-file");
  argv[k++] = ARG(keyfile);
  argv[k++] = ARG("--limit");
  argv[k++] = ARG("10000");
  for (int i = 0; i < n; i++) {
    argv[k++] = ARG("--peer");
    argv[k++] = addrs[i];
  }
  argv[k] = NULL;
  *status = spawn_wait(argv, errfile, NULL);
  first_line(errfile, said, saidsz);
  last_line(rssfile, line, sizeof line);
  unlink(rssfile);
  /* GNU time's exit status is its command's. */
  if (*status < 0 || sscanf(line, "%ld", &rss) != 1) return -1;
  return rss;
}

/* The frames hostile peers answer with: the envelope, then "events" as
** each shape has it. */
enum { ZEROS, UNDER_BUDGET, STRINGS, SHAPES };

static const char *const shape_name[SHAPES] = {
  "16 MiB of zeros (over the decode budget)",
  "nested zeros, just under the budget",
  "16 MiB of 1 KiB strings, nested",
};

static int hostile_frame(const bench *b, int shape, sl_buf *f) {
  sl_buf_reset(f);
  sl_buf_puts(f, "{\"EventLogResponse\":{\"library_id\":\"");
  sl_buf_puts(f, b->all.library_id);
  sl_buf_puts(f, "\",\"responding_device\":\"");
  sl_buf_puts(f, device_ids[0]);
  sl_buf_puts(f, "\",\"events\":[");
  if (shape == ZEROS) {
    /* The costliest 16 MiB: the smallest values there are. */
    sl_buf_puts(f, "0");
    while (f->len + 2 + 3 <= SL_MAX_FRAME) sl_buf_puts(f, ",0");
  } else if (shape == UNDER_BUDGET) {
    /* One "event" of zeros, as many as the budget lets through: decoded
    ** whole, then refused (an event must be an object). */
    size_t one = sl_decode_cost("[0,0]", 5, 3, NULL) -
                 sl_decode_cost("[0]", 3, 3, NULL);
    size_t used = sl_decode_cost(f->data, f->len, 0, NULL) +
                  sl_decode_cost("[0]]}}", 6, 3, NULL);
    sl_buf_puts(f, "[0");
    for (; used + one <= SL_MAX_DECODE; used += one) sl_buf_puts(f, ",0");
    sl_buf_puts(f, "]");
  } else {
    char s[1027];
    memset(s, 'x', sizeof s);
    s[0] = ',';
    s[1] = '"';
    s[sizeof s - 1] = '"';
    sl_buf_puts(f, "[\"x\"");
    while (f->len + sizeof s + 4 <= SL_MAX_FRAME)
      sl_buf_append(f, s, sizeof s);
    sl_buf_puts(f, "]");
  }
  while (f->len + 3 < SL_MAX_FRAME && shape != UNDER_BUDGET)
    sl_buf_puts(f, " ");
  sl_buf_puts(f, "]}}");
  return f->oom ? -1 : 0;
}

static int hostile_rss(bench *b, const char *host) {
  sl_buf frame = {0};
  hostile h[MAX_PEERS];
  char keyfile[1300], errfile[1300], said[512];
  char addrs[MAX_PEERS][64];
  char c1[32], c2[32], c3[32];
  int status, started = 0, rc = 0;
  long honest[2];
  int counts[2] = {1, b->peers};
  if (write_key_file(b, keyfile, sizeof keyfile) != 0) return -1;
  snprintf(errfile, sizeof errfile, "%s/fetch.err", b->scratch);
  for (; started < b->peers; started++)
    if (hostile_start(&h[started], b->key, &frame) != 0) { rc = -1; break; }

  /* The baseline: honest peers, a full page each. */
  for (int k = 0; k < 2 && rc == 0; k++) {
    for (int i = 0; i < counts[k]; i++)
      snprintf(addrs[i], sizeof addrs[i], "%s",
               sl_server_address(b->srv[i].srv));
    honest[k] = fetch_rss(host, keyfile, addrs, counts[k], errfile, &status,
                          said, sizeof said);
    if (status != 0) {
      fprintf(stderr, "fetch: the honest fetch exited %d: %s\n", status,
              said);
      rc = -1;
    }
  }
  for (int shape = 0; shape < SHAPES && rc == 0; shape++) {
    size_t values = 0, cost;
    if (hostile_frame(b, shape, &frame) != 0) { rc = -1; break; }
    cost = sl_decode_cost(frame.data, frame.len, 0, &values);
    printf("  hostile peers, %s: a frame of %s bytes, %s JSON values, %s "
           "bytes to decode by sl_decode_cost\n", shape_name[shape],
           bench_commas(c1, (double)frame.len),
           bench_commas(c2, (double)values), bench_commas(c3, (double)cost));
    fflush(stdout);
    for (int k = 0; k < 2 && rc == 0; k++) {
      int n = counts[k];
      for (int i = 0; i < n; i++)
        snprintf(addrs[i], sizeof addrs[i], "%s", h[i].address);
      long evil = fetch_rss(host, keyfile, addrs, n, errfile, &status, said,
                            sizeof said);
      if (evil < 0) { rc = -1; break; }
      printf("fetch  %d hostile peer%s: peak RSS %s KB (exit %d: %s); "
             "honest peers, a full page each: %s KB\n", n,
             n == 1 ? "" : "s", bench_commas(c1, (double)evil), status, said,
             bench_commas(c2, (double)honest[k]));
      char what[96], fig[96], base[64], rat[32];
      double per = (double)(evil - honest[k]) / n / 1024;
      snprintf(what, sizeof what, "fetch peak RSS, %d hostile, %s", n,
               shape == ZEROS ? "16 MiB zeros" : shape == UNDER_BUDGET
               ? "under budget" : "16 MiB strings");
      snprintf(fig, sizeof fig, "%s KB (%+.1f MiB/peer)",
               bench_commas(c1, (double)evil), per);
      snprintf(base, sizeof base, "honest %s KB",
               bench_commas(c2, (double)honest[k]));
      snprintf(rat, sizeof rat, "%.2fx", (double)evil / (double)honest[k]);
      bench_result(what, fig, base, rat, "<= 64 MB/peer",
                   (double)evil * 1024 <= 64e6 * n ? 1 : 0);
    }
  }
  for (int i = 0; i < started; i++) hostile_stop(&h[i]);
  sl_buf_free(&frame);
  unlink(errfile);
  return rc;
}

/* ---------------------------------------------- (d) a silent-socket flood */

/* `synclua fetch --limit 10` again and again for `seconds`: how many
** came back whole (exit 0), of how many. */
static void fetch_loop(const char *host, const char *keyfile,
                       const char *addr, long seconds, long *ok,
                       long *tried) {
  char *argv[] = {ARG(host), ARG("fetch"), ARG("--key-file"), ARG(keyfile),
                  ARG("--peer"), ARG(addr), ARG("--limit"), ARG("10"), NULL};
  int64_t end = bench_now() + seconds * SL_NS_PER_SEC;
  *ok = *tried = 0;
  while (bench_now() < end) {
    (*tried)++;
    if (spawn_wait(argv, NULL, NULL) == 0) (*ok)++;
  }
}

/* The bytes of the server's log from offset `from` on, less its lines
** for requests answered ("... asked for 10 events: sent 10 in 0 ms"). */
static long refusal_bytes(const char *path, long from, long *end) {
  char line[1024];
  long n = 0;
  FILE *f = fopen(path, "r");
  *end = from;
  if (!f) return -1;
  if (fseek(f, from, SEEK_SET) != 0) { fclose(f); return -1; }
  while (fgets(line, sizeof line, f))
    if (!strstr(line, " asked for ")) n += (long)strlen(line);
  *end = ftell(f);
  fclose(f);
  return n;
}

static int flood_bench(bench *b, const char *host, long seconds,
                       long sockets) {
  char keyfile[1300], errfile[1300], line[512], addr[64] = "";
  char *argv[] = {ARG(host), ARG("serve"), ARG("--db"), b->path[0],
                  ARG("--key-file"), keyfile, ARG("--listen"),
                  ARG("127.0.0.1:0"), NULL};
  posix_spawn_file_actions_t fa;
  pid_t pid;
  long ok0, tried0;
  int rc = 0;
  if (write_key_file(b, keyfile, sizeof keyfile) != 0) return -1;
  snprintf(errfile, sizeof errfile, "%s/serve.err", b->scratch);
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, errfile,
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (posix_spawn(&pid, host, &fa, NULL, argv, environ) != 0) {
    posix_spawn_file_actions_destroy(&fa);
    return -1;
  }
  posix_spawn_file_actions_destroy(&fa);
  /* Its first line says where it listens. */
  for (int i = 0; i < 500 && !addr[0]; i++) {
    const char *on;
    first_line(errfile, line, sizeof line);
    if ((on = strstr(line, " on 127.0.0.1:")) != NULL)
      sscanf(on, " on %63[0-9.:]", addr);
    else
      nanosleep(&(struct timespec){0, 10000000}, NULL);
  }
  if (!addr[0]) {
    fprintf(stderr, "fetch: synclua serve did not start: %s\n", line);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    return -1;
  }
  printf("  flood: synclua serve on %s; %ld silent sockets, each opened "
         "again once closed; synclua fetch --limit 10 in a loop, %ld s a "
         "run\n", addr, sockets, seconds);
  fflush(stdout);
  long at = (long)strlen(line) + 1; /* after the line that says where */
  fetch_loop(host, keyfile, addr, seconds, &ok0, &tried0);
  long quiet = refusal_bytes(errfile, at, &at);
  printf("fetch  no flood: %ld of %ld fetches whole (%.1f %%); %ld bytes "
         "of log besides the requests\n", ok0, tried0,
         100.0 * (double)ok0 / (double)tried0, quiet);
  static const char *const from[2] = {"127.0.0.2", "127.0.0.1"};
  static const char *const label[2] = {"another address",
                                       "the fetcher's own address"};
  for (int k = 0; k < 2 && rc == 0; k++) {
    flood f;
    long ok, tried;
    flood_start(&f, addr, from[k], (int)sockets);
    int64_t t0 = bench_now();
    fetch_loop(host, keyfile, addr, seconds, &ok, &tried);
    long opened = flood_stop(&f);
    double secs = (double)(bench_now() - t0) / 1e9;
    /* What the interval still counted is said within 10 s of the end. */
    nanosleep(&(struct timespec){11, 0}, NULL);
    long logged = refusal_bytes(errfile, at, &at);
    char c1[32], c2[32], what[80], fig[96], base[96], rat[32];
    printf("fetch  flood from %s (%s): %ld of %ld fetches whole (%.1f %%); "
           "%s sockets opened in %.1f s; %s bytes of refusal log\n",
           from[k], label[k], ok, tried, 100.0 * (double)ok / (double)tried,
           bench_commas(c1, (double)opened), secs,
           bench_commas(c2, (double)logged));
    snprintf(what, sizeof what, "fetch under a silent flood, %s", from[k]);
    snprintf(fig, sizeof fig, "%.1f%% whole (%ld/%ld), log %ld B",
             100.0 * (double)ok / (double)tried, ok, tried, logged);
    snprintf(base, sizeof base, "no flood %.1f%% (%ld/%ld)",
             100.0 * (double)ok0 / (double)tried0, ok0, tried0);
    snprintf(rat, sizeof rat, "%.2fx", ((double)ok / (double)tried) /
             ((double)ok0 / (double)tried0));
    bench_result(what, fig, base, rat, ">= 95%",
                 ok * 100 >= tried * 95 ? 1 : 0);
  }
  kill(pid, SIGTERM);
  waitpid(pid, NULL, 0);
  unlink(errfile);
  unlink(keyfile);
  return rc;
}

/* ---------------------------------------------------------------- main */

/* Is `part` among BENCH_FETCH_PARTS (all of them when it is unset)? */
static int part(const char *name) {
  const char *v = getenv("BENCH_FETCH_PARTS");
  if (!v || !*v) return 1;
  size_t n = strlen(name);
  for (const char *p = strstr(v, name); p; p = strstr(p + 1, name))
    if ((p == v || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' ')) return 1;
  return 0;
}

int main(int argc, char **argv) {
  bench b;
  const char *host = argc > 1 ? argv[1] : NULL;
  long flood_seconds = bench_env_long("BENCH_FETCH_FLOOD_SECONDS", 20);
  long flood_sockets = bench_env_long("BENCH_FETCH_FLOOD_SOCKETS", 96);
  long peers = bench_env_long("BENCH_FETCH_PEERS", 4);
  long repeat = bench_env_long("BENCH_FETCH_REPEAT", 3);
  long small = bench_env_long("BENCH_FETCH_SMALL", 2000);
  long small_limit = bench_env_long("BENCH_FETCH_SMALL_LIMIT", 10);
  long seconds = bench_env_long("BENCH_FETCH_SECONDS", 20);
  int64_t newest = 0;
  int rc = 0;
  memset(&b, 0, sizeof b);
  b.events = bench_env_long("BENCH_FETCH_EVENTS", 100000);
  if (peers > MAX_PEERS) peers = MAX_PEERS;
  if (repeat > 64) repeat = 64;
  if (small_limit > PAGE) small_limit = PAGE;
  if (small_limit > b.events) small_limit = b.events;
  b.peers = (int)peers;
  make_ids();

  for (int d = 0; d < b.peers; d++) {
    int64_t t = 0;
    snprintf(b.path[d], sizeof b.path[d], "%s/fetch-%ld-%d.db", bench_dir(),
             b.events, d + 1);
    if (scrub(b.path[d], device_ids[d], &t) != b.events) {
      printf("fetch: building %s (%ld events)...\n", b.path[d], b.events);
      fflush(stdout);
      int64_t t0 = bench_now();
      if (build(b.path[d], d, b.events) != 0 ||
          scrub(b.path[d], device_ids[d], &t) != b.events) {
        fprintf(stderr, "fetch: could not build %s\n", b.path[d]);
        return 1;
      }
      printf("fetch: built in %.1f s\n", (double)(bench_now() - t0) / 1e9);
    }
    if (t > newest) newest = t;
  }
  b.before = newest + 1;
  if (bench_mkdtemp(b.scratch, sizeof b.scratch, "fetch") != 0) return 1;

  sl_key_generate(b.key);
  sl_key_library_id(b.key, b.all.library_id);
  snprintf(b.all.requesting_device, SL_UUID_BUFSZ, "%s", BENCH_DEVICE);
  b.all.limit = UINT32_MAX;
  b.all.has_before = 1;
  b.all.before = b.before;
  b.all.before_id = 0;
  b.small = b.all;
  b.small.has_before = 0;
  b.small.limit = (uint32_t)small_limit;

  printf("fetch: %d servers on 127.0.0.1 (each store %s events); scratch "
         "files in %s\n", b.peers, bench_commas((char[32]){0},
         (double)b.events), b.scratch);
  if (start_servers(&b) != 0) rc = -1;
  if (rc == 0 && part("throughput")) rc = throughput(&b, repeat);
  if (rc == 0 && part("latency")) rc = latency(&b, small, seconds);
  if (rc == 0 && host && part("hostile")) rc = hostile_rss(&b, host);
  stop_servers(&b);
  if (rc == 0 && host && part("flood"))
    rc = flood_bench(&b, host, flood_seconds, flood_sockets);
  if (!host)
    printf("fetch: no synclua program given: hostile peers and the flood "
           "left out\n");

  for (int d = 0; d < b.peers; d++) {
    int64_t t;
    scrub(b.path[d], device_ids[d], &t);
  }
  rmdir(b.scratch);
  return rc == 0 ? 0 : 1;
}
