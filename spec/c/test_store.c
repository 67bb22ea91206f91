/*
** test_store.c -- the C API's store, logger and query engine where Lua
** cannot reach: appends from several threads at once, a full queue that
** drops without blocking, a locked database the writer retries against,
** misuse, cursors that outlive their store handle, the open modes,
** programs creating the same new store at once,
** identity and fingerprint as the C API takes them, and the order of rows
** of equal instants (Spacedrive's) through every arm and page.
*/
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include "check.h"
#include "support.h"
#include "vfs_shim.h"
#include <synclua/synclua.h>

#define DEVICE "11111111-2222-3333-4444-555555555555"

static char dir[] = "/tmp/synclua-test-XXXXXX";

static const char *path_of(const char *name) {
  static char buf[256];
  snprintf(buf, sizeof buf, "%s/%s", dir, name);
  return buf;
}

static sl_event make_event(const char *summary, int64_t n) {
  sl_event ev;
  memset(&ev, 0, sizeof ev);
  ev.event_type = "batch_ingestion";
  ev.summary = summary;
  ev.record_count = n;
  ev.has_record_count = 1;
  return ev;
}

/* The options of a store this test logs into as DEVICE. */
static sl_open_opts writer_opts(void) {
  sl_open_opts o;
  memset(&o, 0, sizeof o);
  o.mode = SL_OPEN_WRITE;
  o.device_id = DEVICE;
  return o;
}


static int64_t query_count(sl_store *s, const char *sql) {
  return scalar_at(sl_store_path(s), sql);
}

/* ------------------------------------------------ concurrent appends */

#define THREADS 4
#define PER_THREAD 20000

typedef struct worker {
  sl_store *store;
  int       id;
  int       failures;
} worker;

static void *append_many(void *arg) {
  worker *w = arg;
  char summary[64];
  for (int i = 0; i < PER_THREAD; i++) {
    snprintf(summary, sizeof summary, "thread %d event %d", w->id, i);
    sl_event ev = make_event(summary, (int64_t)w->id * PER_THREAD + i);
    if (sl_store_append(w->store, &ev) != SL_OK) w->failures++;
  }
  return NULL;
}

/* THREADS workers appending PER_THREAD events each into s, joined. */
static void run_workers(sl_store *s, worker *w) {
  pthread_t t[THREADS];
  for (int i = 0; i < THREADS; i++) {
    w[i].store = s;
    w[i].id = i;
    w[i].failures = 0;
    pthread_create(&t[i], NULL, append_many, &w[i]);
  }
  for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
}

static void test_concurrent_appends(void) {
  sl_store *s;
  sl_open_opts o = writer_opts();
  o.queue_capacity = THREADS * PER_THREAD;
  CHECK_EQ_INT(sl_store_open(path_of("threads.db"), &o, &s), SL_OK);
  worker w[THREADS];
  run_workers(s, w);
  for (int i = 0; i < THREADS; i++) CHECK_EQ_INT(w[i].failures, 0);
  CHECK_EQ_INT(sl_store_flush(s), SL_OK);
  sl_stats st;
  sl_store_stats(s, &st);
  CHECK_EQ_INT(st.appended, THREADS * PER_THREAD);
  CHECK_EQ_INT(st.written, THREADS * PER_THREAD);
  CHECK_EQ_INT(st.dropped, 0);
  CHECK_EQ_INT(st.queue_depth, 0);
  CHECK_EQ_INT(query_count(s, "SELECT count(DISTINCT record_count) FROM "
                              "sync_event_log"),
               THREADS * PER_THREAD);
  /* Each thread's events keep their order: ids rise with the sequence. */
  CHECK_EQ_INT(query_count(s, "SELECT count(*) FROM sync_event_log a JOIN "
                              "sync_event_log b ON a.record_count / 20000 = "
                              "b.record_count / 20000 AND a.record_count + 1 "
                              "= b.record_count WHERE b.id < a.id"),
               0);
  CHECK_EQ_INT(sl_store_close(s), SL_OK);
  sl_store_release(s);
}

/* ------------------------------------------------ a full queue drops */

static int64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void test_full_queue(void) {
  sl_store *s, *blocker;
  sl_open_opts o = writer_opts();
  o.queue_capacity = 8;
  o.busy_timeout_ms = 2000;
  CHECK_EQ_INT(sl_store_open(path_of("full.db"), &o, &s), SL_OK);
  /* Hold the write lock so the writer cannot drain while we overfill. */
  sqlite3 *db;
  sqlite3_open(sl_store_path(s), &db);
  CHECK_EQ_INT(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL),
               SQLITE_OK);
  (void)blocker;
  int ok = 0, full = 0;
  int64_t worst = 0;
  for (int i = 0; i < 100; i++) {
    sl_event ev = make_event("overflow", i);
    int64_t t0 = now_us();
    int rc = sl_store_append(s, &ev);
    int64_t dt = now_us() - t0;
    if (dt > worst) worst = dt;
    if (rc == SL_OK) ok++;
    else if (rc == SL_FULL) full++;
  }
  /* The writer took at most one batch before blocking on the lock. */
  CHECK(ok >= 8 && ok <= 16);
  CHECK_EQ_INT(ok + full, 100);
  CHECK(worst < 100000); /* never waits for the lock: well under 100 ms */
  sl_stats st;
  sl_store_stats(s, &st);
  CHECK_EQ_INT(st.dropped, (uint64_t)full);
  sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
  sqlite3_close(db);
  /* Once the queued events land there is room again, and the drops are
  ** reported with the next batch. */
  CHECK_EQ_INT(sl_store_flush(s), SL_OK);
  sl_event ev = make_event("after", 1000);
  CHECK_EQ_INT(sl_store_append(s, &ev), SL_OK);
  CHECK_EQ_INT(sl_store_flush(s), SL_OK);
  /* The drops may be reported in one event or, if the writer took a batch
  ** between two runs of drops, in two: together they count every drop,
  ** each in Spacedrive's sync_error shape. */
  char sql[256];
  snprintf(sql, sizeof sql,
           "SELECT sum(json_extract(details, '$.dropped_count')) FROM "
           "sync_event_log WHERE summary LIKE 'Event log queue full:%%'");
  CHECK_EQ_INT(query_count(s, sql), full);
  CHECK_EQ_INT(query_count(s, "SELECT count(*) FROM sync_event_log WHERE "
                              "summary LIKE 'Event log queue full:%' AND NOT "
                              "(event_type = 'sync_error' AND severity = "
                              "'error' AND category = 'error' AND summary = "
                              "'Event log queue full: ' || json_extract("
                              "details, '$.dropped_count') || ' events "
                              "dropped' AND details = '{\"dropped_count\":' "
                              "|| json_extract(details, '$.dropped_count') || "
                              "',\"queue_capacity\":8}')"),
               0);
  CHECK(query_count(s, "SELECT count(*) FROM sync_event_log WHERE summary "
                       "LIKE 'Event log queue full:%'") >= 1);
  CHECK_EQ_INT(query_count(s, "SELECT count(*) FROM sync_event_log WHERE "
                              "summary IN ('overflow', 'after')"),
               ok + 1);
  sl_store_close(s);
  sl_store_release(s);
}

/* ---------------------------------------- a locked disk is retried */


static void test_retry_then_fail(void) {
  sl_store *s;
  sl_open_opts o = writer_opts();
  o.busy_timeout_ms = 20;
  o.retry_budget = 300 * INT64_C(1000000);
  CHECK_EQ_INT(sl_store_open(path_of("locked.db"), &o, &s), SL_OK);
  sqlite3 *db;
  sqlite3_open(sl_store_path(s), &db);
  sqlite3_busy_timeout(db, 2000);

  /* Locked briefly: the batch is retried and lands. */
  CHECK_EQ_INT(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL),
               SQLITE_OK);
  sl_event ev = make_event("retried", 1);
  CHECK_EQ_INT(sl_store_append(s, &ev), SL_OK);
  sleep_ms(60);
  sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
  CHECK_EQ_INT(sl_store_flush(s), SL_OK);
  sl_stats st;
  sl_store_stats(s, &st);
  CHECK(st.retries >= 1);
  CHECK_EQ_INT(st.written, 1);
  CHECK_EQ_INT(st.failed, 0);

  /* Locked past the budget: the batch is given up, counted, and flush
  ** says so. */
  CHECK_EQ_INT(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL),
               SQLITE_OK);
  ev = make_event("lost", 2);
  CHECK_EQ_INT(sl_store_append(s, &ev), SL_OK);
  CHECK_EQ_INT(sl_store_flush(s), SL_BUSY);
  char msg[512];
  snprintf(msg, sizeof msg, "%s: events could not be written (busy: "
           "database is locked)", sl_store_path(s));
  CHECK_EQ_STR(sl_thread_errmsg(), msg);
  sl_store_stats(s, &st);
  CHECK_EQ_INT(st.failed, 1);
  CHECK_EQ_INT(st.written, 1);
  sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
  sqlite3_close(db);
  /* The writer carries on afterwards. */
  ev = make_event("later", 3);
  CHECK_EQ_INT(sl_store_append(s, &ev), SL_OK);
  CHECK_EQ_INT(sl_store_flush(s), SL_OK);
  CHECK_EQ_INT(query_count(s, "SELECT count(*) FROM sync_event_log"), 2);
  sl_store_close(s);
  sl_store_release(s);
}

/*
** A failing batch stays at the head of the queue within the budget: a
** flush with a deadline comes back SL_TIMEOUT meanwhile; appends fill the
** queue, then are dropped and counted; once the lock goes, every event
** that was queued is written, and the drops are reported -- each drop in
** exactly one sync_error, however many attempts failed before.
*/
static void test_retry_keeps_the_queue(void) {
  sl_store *s;
  sl_open_opts o;
  sl_stats st;
  memset(&o, 0, sizeof o);
  o.mode = SL_OPEN_WRITE;
  o.device_id = DEVICE;
  o.busy_timeout_ms = 5;
  o.queue_capacity = 8;
  o.retry_budget = 60 * SL_NS_PER_SEC;
  CHECK_EQ_INT(sl_store_open(path_of("held.db"), &o, &s), SL_OK);
  sqlite3 *db;
  sqlite3_open(sl_store_path(s), &db);
  sqlite3_busy_timeout(db, 2000);
  CHECK_EQ_INT(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL),
               SQLITE_OK);
  int queued = 0, full = 0;
  for (int i = 0; i < 40; i++) {
    sl_event ev = make_event("held", i);
    int rc = sl_store_append(s, &ev);
    queued += rc == SL_OK;
    full += rc == SL_FULL;
    if (i == 0) sleep_ms(30); /* the writer takes the first, and fails */
  }
  CHECK_EQ_INT(queued + full, 40);
  CHECK(full > 0);
  CHECK_EQ_INT(sl_store_flush_within(s, 50 * INT64_C(1000000)), SL_TIMEOUT);
  CHECK(strstr(sl_thread_errmsg(), "the flush's time ran out") != NULL);
  sl_store_stats(s, &st);
  CHECK_EQ_INT(st.written, 0);
  CHECK_EQ_INT(st.failed, 0);
  CHECK_EQ_INT(st.dropped, (uint64_t)full);
  CHECK(st.retries >= 1);
  sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
  sqlite3_close(db);
  CHECK_EQ_INT(sl_store_flush(s), SL_OK);
  /* The report of drops while its batch was failing comes with the next. */
  sl_event ev = make_event("after", 99);
  CHECK_EQ_INT(sl_store_append(s, &ev), SL_OK);
  CHECK_EQ_INT(sl_store_flush(s), SL_OK);
  sl_store_stats(s, &st);
  CHECK_EQ_INT(st.written, (uint64_t)queued + 1);
  CHECK_EQ_INT(st.failed, 0);
  CHECK_EQ_INT(query_count(s, "SELECT count(*) FROM sync_event_log WHERE "
                              "event_type = 'batch_ingestion'"), queued + 1);
  CHECK_EQ_INT(query_count(s, "SELECT coalesce(sum(json_extract(details, "
                              "'$.dropped_count')), 0) FROM sync_event_log "
                              "WHERE event_type = 'sync_error'"), full);
  sl_store_close(s);
  sl_store_release(s);
}

/*
** A disk that can be full: every write fails with SQLITE_FULL (what a
** full disk gives) while `disk_full` is set -- the same on every kernel
** and under every sanitizer, where a file-size limit is not (gVisor and
** ThreadSanitizer builds let files grow past it).
*/
static int disk_full;                  /* read by the writer thread */

static int full_on_demand(const char *name) {
  (void)name;
  return __atomic_load_n(&disk_full, __ATOMIC_ACQUIRE) ? SQLITE_FULL
                                                       : SQLITE_OK;
}

/*
** A full disk, cleaned after a while: four threads append 20,000 events
** each into a queue of 1,024 while every write fails. Nothing that was
** queued is lost -- the failing batch waits at the head of the queue until
** the writes go through -- and every drop is reported, once.
*/
static void test_full_disk(void) {
  sl_store *s;
  sl_open_opts o = writer_opts();
  sl_stats st;
  o.queue_capacity = 1024;
  o.retry_budget = 120 * SL_NS_PER_SEC;
  vfs_shim_install(full_on_demand);
  CHECK_EQ_INT(sl_store_open(path_of("full_disk.db"), &o, &s), SL_OK);
  __atomic_store_n(&disk_full, 1, __ATOMIC_RELEASE);
  worker w[THREADS];
  run_workers(s, w);
  /* The writer meets the full disk (its first failure may still be on its
  ** way when the appends end). */
  sl_store_stats(s, &st);
  for (int waited = 0; st.retries == 0 && waited < 5000; waited++) {
    sleep_ms(1);
    sl_store_stats(s, &st);
  }
  CHECK(st.retries > 0);               /* the disk was full */
  CHECK_EQ_INT(st.written, 0);         /* and nothing got through */
  CHECK(st.dropped > 0);
  CHECK_EQ_INT(st.appended + st.dropped, THREADS * PER_THREAD);
  /* The disk is cleaned: the waiting batch goes through. */
  __atomic_store_n(&disk_full, 0, __ATOMIC_RELEASE);
  CHECK_EQ_INT(sl_store_flush(s), SL_OK);
  sl_store_stats(s, &st);
  CHECK_EQ_INT(st.failed, 0);
  CHECK_EQ_INT(query_count(s, "SELECT count(*) FROM sync_event_log WHERE "
                              "event_type = 'batch_ingestion'"),
               (int64_t)st.appended);
  CHECK_EQ_INT(query_count(s, "SELECT coalesce(sum(json_extract(details, "
                              "'$.dropped_count')), 0) FROM sync_event_log "
                              "WHERE event_type = 'sync_error'"),
               (int64_t)st.dropped);
  sl_store_close(s);
  sl_store_release(s);
  vfs_shim_remove();
}

/* ------------------------------------------------------- misuse */

static void test_misuse(void) {
  sl_store *s;
  sl_open_opts o;
  memset(&o, 0, sizeof o);
  o.mode = SL_OPEN_WRITE;
  CHECK_EQ_INT(sl_store_append(NULL, NULL), SL_MISUSE);
  CHECK_EQ_INT(sl_store_flush(NULL), SL_MISUSE);
  CHECK_EQ_INT(sl_store_close(NULL), SL_OK);
  sl_store_release(NULL);
  sl_cursor_close(NULL);
  CHECK_EQ_STR(sl_store_errmsg(NULL), "out of memory");

  CHECK_EQ_INT(sl_store_open(path_of("misuse.db"), &o, &s), SL_OK);
  sl_event ev = make_event("no device", 1);
  CHECK_EQ_INT(sl_store_append(s, &ev), SL_INVALID);
  ev.device_id = DEVICE;
  ev.event_type = "bogus";
  CHECK_EQ_INT(sl_store_append(s, &ev), SL_INVALID);
  char err[512];
  CHECK_EQ_INT(sl_event_validate(&ev, err, sizeof err), SL_INVALID);
  CHECK_EQ_STR(err, "Invalid event type: bogus (valid: state_transition, "
                    "backfill_session_started, backfill_session_completed, "
                    "backfill_session_failed, catch_up_session_started, "
                    "catch_up_session_completed, batch_ingestion, "
                    "backfill_request_sent, backfill_request_received, "
                    "backfill_response_sent, peer_connected, "
                    "peer_disconnected, sync_error)");
  ev.event_type = "batch_ingestion";
  ev.details = "{\"a\":";
  CHECK_EQ_INT(sl_event_validate(&ev, err, sizeof err), SL_INVALID);
  CHECK(strncmp(err, "details: not JSON: ", 19) == 0);
  /* Details that are not JSON pass the quick check, then fail alone. */
  CHECK_EQ_INT(sl_store_append(s, &ev), SL_OK);
  ev.details = "{\"b\":1,\"a\":[2.5,\"/\"]}";
  CHECK_EQ_INT(sl_store_append(s, &ev), SL_OK);
  CHECK_EQ_INT(sl_store_flush(s), SL_INVALID);
  sl_stats st;
  sl_store_stats(s, &st);
  CHECK_EQ_INT(st.failed, 1);
  CHECK_EQ_INT(st.written, 1);
  CHECK_EQ_INT(query_count(s, "SELECT count(*) FROM sync_event_log WHERE "
                              "details = '{\"a\":[2.5,\"/\"],\"b\":1}'"),
               1);

  /* A cursor keeps the connection after the handle is closed and gone. */
  sl_filter f;
  sl_filter_init(&f);
  sl_cursor *c;
  CHECK_EQ_INT(sl_query(s, &f, &c), SL_OK);
  CHECK_EQ_INT(sl_store_close(s), SL_OK);
  CHECK_EQ_INT(sl_store_close(s), SL_OK);
  CHECK_EQ_INT(sl_store_append(s, &ev), SL_MISUSE);
  CHECK_EQ_INT(sl_store_flush(s), SL_MISUSE);
  CHECK_EQ_STR(sl_thread_errmsg(), "store is closed");
  sl_cursor *c2;
  CHECK_EQ_INT(sl_query(s, &f, &c2), SL_MISUSE);
  sl_store_release(s);
  const sl_event *row;
  CHECK_EQ_INT(sl_cursor_next(c, &row), SL_ROW);
  CHECK_EQ_STR(row->summary, "no device");
  CHECK_EQ_STR(row->device_id, DEVICE);
  CHECK_EQ_INT(sl_cursor_next(c, &row), SL_DONE);
  CHECK_EQ_INT(sl_cursor_next(c, &row), SL_DONE);
  sl_cursor_close(c);

  /* Read-only stores refuse writes. */
  o.mode = SL_OPEN_READ;
  CHECK_EQ_INT(sl_store_open(path_of("misuse.db"), &o, &s), SL_OK);
  CHECK_EQ_INT(sl_store_append(s, &ev), SL_READONLY);
  sl_prune_result pr;
  CHECK_EQ_INT(sl_store_prune(s, -1, 0, &pr), SL_READONLY);
  CHECK_EQ_INT(sl_store_prune(s, -1, 1, &pr), SL_OK);
  CHECK_EQ_INT(pr.count, 0);
  sl_store_release(s); /* the last release closes too */
}

/* ------------------------------------- modes, identity, fingerprint */

/* ------------------------------------------------- racing creators */

/* Another program holds the write lock of an empty file, as a second
** creator of the same new store does while it makes the schema: SQLite
** refuses our switch to WAL at once, without waiting. */
static void *commit_later(void *arg) {
  sleep_ms(200);
  sqlite3_exec((sqlite3 *)arg, "COMMIT", NULL, NULL, NULL);
  return NULL;
}

typedef struct creator {
  const char *path;
  int         rc;
  char        msg[300];
} creator;

static void *create_store(void *arg) {
  creator *c = arg;
  sl_open_opts o = writer_opts();
  sl_store *s = NULL;
  c->rc = sl_store_open(c->path, &o, &s);
  snprintf(c->msg, sizeof c->msg, "%s", sl_store_errmsg(s));
  if (c->rc == SL_OK) c->rc = sl_store_close(s);
  sl_store_release(s);
  return NULL;
}

static void test_racing_creators(void) {
  const char *path = path_of("race.db");
  FILE *f = fopen(path, "w");
  CHECK(f != NULL);
  if (f) fclose(f);
  sqlite3 *holder;
  CHECK_EQ_INT(sqlite3_open(path, &holder), SQLITE_OK);
  CHECK_EQ_INT(sqlite3_exec(holder, "BEGIN IMMEDIATE", NULL, NULL, NULL),
               SQLITE_OK);
  pthread_t t;
  pthread_create(&t, NULL, commit_later, holder);
  creator c = {path, -1, ""};
  create_store(&c);
  pthread_join(t, NULL);
  sqlite3_close(holder);
  CHECK_EQ_INT(c.rc, SL_OK);
  CHECK_EQ_STR(c.msg, "");
  /* The holder's transaction wrote the file's first page: a database
  ** another program made, which gets Spacedrive's table and indexes. */
  CHECK_EQ_INT(scalar_at(path, "SELECT count(*) FROM sqlite_master WHERE"
                               " type = 'index'"), 5);

  /* Four openers of one new file at once, again and again: every one
  ** opens, and the store is synclua's (its eight indexes, WAL). */
  int failures = 0, wrong = 0;
  for (int round = 0; round < 25; round++) {
    char name[32];
    snprintf(name, sizeof name, "race-%d.db", round);
    char file[256];
    snprintf(file, sizeof file, "%s", path_of(name));
    creator cs[4];
    pthread_t ts[4];
    for (int i = 0; i < 4; i++) {
      cs[i] = (creator){file, -1, ""};
      pthread_create(&ts[i], NULL, create_store, &cs[i]);
    }
    for (int i = 0; i < 4; i++) {
      pthread_join(ts[i], NULL);
      if (cs[i].rc != SL_OK) {
        if (!failures++) fprintf(stderr, "  round %d: %s\n", round, cs[i].msg);
      }
    }
    if (scalar_at(file, "SELECT count(*) FROM sqlite_master WHERE"
                        " type = 'index'") != 8) wrong++;
  }
  CHECK_EQ_INT(failures, 0);
  CHECK_EQ_INT(wrong, 0);
}

static void test_open_modes(void) {
  sl_store *s = NULL;
  sl_open_opts o;
  struct stat st;
  char want[600];
  int64_t n = -1;
  uint64_t digest = 1;
  sl_filter f;
  sl_filter_init(&f);

  /* NULL options read: a missing file is refused, and stays missing. */
  CHECK_EQ_INT(sl_store_open(path_of("modes.db"), NULL, &s), SL_NOTFOUND);
  snprintf(want, sizeof want, "%s: no such file", path_of("modes.db"));
  CHECK_EQ_STR(sl_store_errmsg(s), want);
  CHECK_EQ_STR(sl_store_identity(s), "");
  sl_store_release(s);
  CHECK(stat(path_of("modes.db"), &st) != 0);

  memset(&o, 0, sizeof o);
  o.mode = 7;
  CHECK_EQ_INT(sl_store_open(path_of("modes.db"), &o, &s), SL_INVALID);
  CHECK_EQ_STR(sl_store_errmsg(s), "mode: unknown mode 7");
  sl_store_release(s);
  CHECK(stat(path_of("modes.db"), &st) != 0);

  /* Spacedrive's table alone: writing adds no index unless asked. */
  sqlite3 *db;
  CHECK_EQ_INT(sqlite3_open(path_of("modes.db"), &db), SQLITE_OK);
  CHECK_EQ_INT(sqlite3_exec(db, "CREATE TABLE sync_event_log (id INTEGER"
    " PRIMARY KEY AUTOINCREMENT, timestamp TEXT NOT NULL, device_id TEXT"
    " NOT NULL, event_type TEXT NOT NULL, category TEXT NOT NULL, severity"
    " TEXT NOT NULL, summary TEXT NOT NULL, details TEXT, correlation_id"
    " TEXT, peer_device_id TEXT, model_types TEXT, record_count INTEGER,"
    " duration_ms INTEGER)", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
  o.mode = SL_OPEN_WRITE;
  CHECK_EQ_INT(sl_store_open(path_of("modes.db"), &o, &s), SL_OK);
  CHECK_EQ_INT(sl_store_readonly(s), 0);
  sl_store_release(s);
  CHECK_EQ_INT(scalar_at(path_of("modes.db"), "SELECT count(*) FROM"
                                             " sqlite_master WHERE type ="
                                             " 'index'"), 0);
  CHECK_EQ_INT(scalar_at(path_of("modes.db"), "SELECT count(*) FROM"
                                             " pragma_journal_mode WHERE"
                                             " journal_mode = 'delete'"), 1);
  o.indexes = 1;
  CHECK_EQ_INT(sl_store_open(path_of("modes.db"), &o, &s), SL_OK);
  sl_store_release(s);
  CHECK_EQ_INT(scalar_at(path_of("modes.db"), "SELECT count(*) FROM"
                                             " sqlite_master WHERE type ="
                                             " 'index' AND name LIKE"
                                             " 'idx_sync_event_log_%'"), 8);

  /* The identity is the file's, read or written; a copy has another. */
  CHECK_EQ_INT(stat(path_of("modes.db"), &st), 0);
  snprintf(want, sizeof want, "%ju:%ju", (uintmax_t)st.st_dev,
           (uintmax_t)st.st_ino);
  memset(&o, 0, sizeof o);
  CHECK_EQ_INT(sl_store_open(path_of("modes.db"), &o, &s), SL_OK);
  CHECK_EQ_INT(sl_store_readonly(s), 1);
  CHECK_EQ_STR(sl_store_identity(s), want);
  CHECK_EQ_STR(sl_store_identity(NULL), "");

  /* The fingerprint of nothing; misuse. */
  CHECK_EQ_INT(sl_fingerprint(s, &f, &n, &digest), SL_OK);
  CHECK_EQ_INT(n, 0);
  CHECK(digest == 0);
  CHECK_EQ_INT(sl_fingerprint(s, &f, NULL, NULL), SL_OK);
  CHECK_EQ_INT(sl_fingerprint(NULL, &f, &n, &digest), SL_MISUSE);
  CHECK_EQ_INT(sl_fingerprint(s, NULL, &n, &digest), SL_MISUSE);
  const char *bad = "bogus";
  f.event_types = &bad;
  f.n_event_types = 1;
  CHECK_EQ_INT(sl_fingerprint(s, &f, &n, &digest), SL_INVALID);
  sl_filter_init(&f);
  sl_store_close(s);
  CHECK_EQ_INT(sl_fingerprint(s, &f, &n, &digest), SL_MISUSE);
  CHECK_EQ_STR(sl_store_identity(s), want); /* still the file's */
  sl_store_release(s);
}

/* -------------------------------------------------------- equal times */

/* Rows as another program writes them (raw SQL), so that canonical and
** foreign forms of one instant sit side by side: (timestamp, type,
** summary) triples, ids 1, 2, ... in order. */
static sl_store *raw_store(const char *name, const char *const *rows,
                           size_t n) {
  sl_store *s = NULL;
  sl_open_opts o;
  sqlite3 *db;
  char sql[512];
  memset(&o, 0, sizeof o);
  o.mode = SL_OPEN_WRITE;
  if (sl_store_open(path_of(name), &o, &s) != SL_OK) return NULL;
  sl_store_close(s);
  sl_store_release(s);
  sqlite3_open(path_of(name), &db);
  for (size_t i = 0; i + 3 <= n; i += 3) {
    snprintf(sql, sizeof sql,
             "INSERT INTO sync_event_log (timestamp, device_id, event_type,"
             " category, severity, summary) VALUES ('%s', '" DEVICE "', "
             "'%s', 'lifecycle', 'info', '%s')", rows[i], rows[i + 1],
             rows[i + 2]);
    CHECK_EQ_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
  }
  sqlite3_close(db);
  o.mode = SL_OPEN_READ;
  s = NULL;
  CHECK_EQ_INT(sl_store_open(path_of(name), &o, &s), SL_OK);
  return s;
}

/* The summaries a filter selects, space-separated. */
static void listing(sl_store *s, const sl_filter *f, char *out,
                    size_t size) {
  sl_cursor *c = NULL;
  const sl_event *ev;
  size_t used = 0;
  out[0] = '\0';
  CHECK_EQ_INT(sl_query(s, f, &c), SL_OK);
  while (c && sl_cursor_next(c, &ev) == SL_ROW && used < size)
    used += (size_t)snprintf(out + used, size - used, "%s%s",
                             used ? " " : "", ev->summary);
  sl_cursor_close(c);
}

/*
** Equal instants come in ascending id whichever way time runs: newest
** first that is Spacedrive's order (its SQLite sorts by timestamp in a
** temporary B-tree, which keeps equal ones in rowid order;
** spacedrive-compat.md 10.3). Also across arms -- one per type, and the
** foreign rows' arm -- and page by page with offset and limit, which
** cut a tie where Spacedrive's --limit would. Rows of unknown time come
** last, by id in the direction asked.
*/
static void test_tie_order(void) {
  static const char *const rows[] = {
    "2025-12-03T10:00:00+00:00", "state_transition", "r1",
    "2025-12-03T10:00:01+00:00", "sync_error", "r2",
    "2025-12-03T10:00:01+00:00", "state_transition", "r3",
    "2025-12-03T10:00:01Z", "sync_error", "r4",          /* foreign */
    "2025-12-03T10:00:01+00:00", "state_transition", "r5",
    "2025-12-03T12:00:01+02:00", "state_transition", "r6", /* foreign */
    "2025-12-03T10:00:02+00:00", "sync_error", "r7",
    "2025-12-03T10:00:02+00:00", "state_transition", "r8",
    "soon", "state_transition", "r9",                     /* unknown */
    "2025-12-03T10:00:00+00:00", "sync_error", "r10",
    "later", "sync_error", "r11",                         /* unknown */
  };
  static const char *const both[] = {"sync_error", "state_transition"};
  static const char *const one[] = {"state_transition"};
  static const char *const newest =
    "r7 r8 r2 r3 r4 r5 r6 r1 r10 r11 r9";
  char out[256], pages[256];
  sl_filter f;
  sl_store *s = raw_store("ties.db", rows, sizeof rows / sizeof *rows);
  if (!s) { CHECK(0); return; }

  sl_filter_init(&f);
  listing(s, &f, out, sizeof out);
  CHECK_EQ_STR(out, newest);
  f.ascending = 1;
  listing(s, &f, out, sizeof out);
  CHECK_EQ_STR(out, "r1 r10 r2 r3 r4 r5 r6 r7 r8 r9 r11");

  /* One arm per type, merged: the same order. */
  f.event_types = both;
  f.n_event_types = 2;
  listing(s, &f, out, sizeof out);
  CHECK_EQ_STR(out, "r1 r10 r2 r3 r4 r5 r6 r7 r8 r9 r11");
  f.ascending = 0;
  listing(s, &f, out, sizeof out);
  CHECK_EQ_STR(out, newest);
  f.event_types = one;
  f.n_event_types = 1;
  listing(s, &f, out, sizeof out);
  CHECK_EQ_STR(out, "r8 r3 r5 r6 r1 r9");

  /* A limit keeps the lowest ids of the instant it cuts. */
  sl_filter_init(&f);
  f.limit = 4;
  listing(s, &f, out, sizeof out);
  CHECK_EQ_STR(out, "r7 r8 r2 r3");
  f.ascending = 1;
  listing(s, &f, out, sizeof out);
  CHECK_EQ_STR(out, "r1 r10 r2 r3");

  /* Pages of every size, either way, with and without the split into
  ** arms, put end to end: the whole listing, each row once. */
  for (int asc = 0; asc < 2; asc++)
    for (int split = 0; split < 2; split++)
      for (int64_t size = 1; size <= 4; size++) {
        size_t used = 0;
        pages[0] = '\0';
        for (int64_t at = 0; at < 11; at += size) {
          sl_filter_init(&f);
          f.ascending = asc;
          f.offset = at;
          f.limit = size;
          if (split) {
            f.event_types = both;
            f.n_event_types = 2;
          }
          listing(s, &f, out, sizeof out);
          used += (size_t)snprintf(pages + used, sizeof pages - used, "%s%s",
                                   used ? " " : "", out);
        }
        CHECK_EQ_STR(pages, asc ? "r1 r10 r2 r3 r4 r5 r6 r7 r8 r9 r11"
                                : newest);
      }

  /* Time bounds keep the order: the tie at 10:00:01 alone. */
  sl_filter_init(&f);
  CHECK_EQ_INT(sl_time_parse_rfc3339("2025-12-03T10:00:01Z", 20, &f.since),
               SL_OK);
  f.until = f.since;
  f.has_since = f.has_until = 1;
  listing(s, &f, out, sizeof out);
  CHECK_EQ_STR(out, "r2 r3 r4 r5 r6");
  f.offset = 2;
  f.limit = 2;
  listing(s, &f, out, sizeof out);
  CHECK_EQ_STR(out, "r4 r5");
  sl_store_release(s);
}

/*
** Newest first, each arm reads a run of equal instants backwards (the
** index order) and hands it out reversed from copies of its rows. A run
** far longer than the cursor's first allocation, rows whose values must
** be read leniently (mended text, a blob summary, text where an
** integer belongs, NULL details) and a run split over the canonical and
** foreign arms and over one arm per type: every row comes once, in
** ascending id within its instant, with its own values, however the
** offset and limit cut the runs.
*/
#define RUN_ROWS 44
static void test_long_runs(void) {
  static const char *const both[] = {"sync_error", "state_transition"};
  sl_store *s = NULL;
  sl_open_opts o;
  sqlite3 *db;
  char sql[512];
  int64_t want[RUN_ROWS], n_want = 0;
  memset(&o, 0, sizeof o);
  o.mode = SL_OPEN_WRITE;
  CHECK_EQ_INT(sl_store_open(path_of("runs.db"), &o, &s), SL_OK);
  sl_store_close(s);
  sl_store_release(s);
  CHECK_EQ_INT(sqlite3_open(path_of("runs.db"), &db), SQLITE_OK);
  /* ids 1-3 at 10:00:00, 4-40 at 10:00:01, 41-42 at 10:00:02, 43 at
  ** 10:00:01 again, 44 at 10:00:01 in a foreign form. */
  for (int id = 1; id <= RUN_ROWS; id++) {
    const char *ts = id <= 3 ? "2025-12-03T10:00:00+00:00"
                   : id == 41 || id == 42 ? "2025-12-03T10:00:02+00:00"
                   : id == 44 ? "2025-12-03T10:00:01Z"
                              : "2025-12-03T10:00:01+00:00";
    char summary[64], details[64], count[32];
    snprintf(summary, sizeof summary, "'s%d%s'", id,
             id % 3 ? "" : " with a longer summary to move");
    if (id == 7) snprintf(summary, sizeof summary, "CAST(X'7337FF' AS TEXT)");
    if (id == 12) snprintf(summary, sizeof summary, "X'3132'"); /* a blob */
    snprintf(details, sizeof details, id == 9 ? "NULL" : "'{\"n\":%d}'", id);
    snprintf(count, sizeof count, id == 11 ? "'many'" : "%d", id);
    snprintf(sql, sizeof sql,
             "INSERT INTO sync_event_log (id, timestamp, device_id,"
             " event_type, category, severity, summary, details,"
             " record_count) VALUES (%d, '%s', '" DEVICE "', '%s',"
             " 'lifecycle', 'info', %s, %s, %s)", id, ts,
             id % 2 ? "state_transition" : "sync_error", summary, details,
             count);
    CHECK_EQ_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
  }
  sqlite3_close(db);
  want[n_want++] = 41;
  want[n_want++] = 42;
  for (int id = 4; id <= 40; id++) want[n_want++] = id;
  want[n_want++] = 43;
  want[n_want++] = 44;
  for (int id = 1; id <= 3; id++) want[n_want++] = id;
  o.mode = SL_OPEN_READ;
  s = NULL;
  CHECK_EQ_INT(sl_store_open(path_of("runs.db"), &o, &s), SL_OK);
  if (!s) return;

  /* Whole listings, split or not, and pages of every size up to 6 put
  ** end to end; every row checked against what was stored. */
  for (int split = 0; split < 2; split++)
    for (int64_t size = 0; size <= 6; size++) {
      int64_t got = 0, wrong = 0;
      for (int64_t at = 0; at < RUN_ROWS; at += size ? size : RUN_ROWS) {
        sl_filter f;
        sl_cursor *c = NULL;
        const sl_event *ev;
        sl_filter_init(&f);
        f.offset = at;
        f.limit = size ? size : -1;
        if (split) {
          f.event_types = both;
          f.n_event_types = 2;
        }
        CHECK_EQ_INT(sl_query(s, &f, &c), SL_OK);
        while (c && sl_cursor_next(c, &ev) == SL_ROW) {
          int64_t id = ev->id;
          char summary[64];
          snprintf(summary, sizeof summary, "s%d%s", (int)id,
                   id % 3 ? "" : " with a longer summary to move");
          if (id == 7) snprintf(summary, sizeof summary, "s7\xEF\xBF\xBD");
          if (id == 12) snprintf(summary, sizeof summary, "12");
          char details[32];
          snprintf(details, sizeof details, "{\"n\":%d}", (int)id);
          unsigned bad = id == 7 || id == 12 ? SL_COLUMN_BIT(SL_COL_SUMMARY)
                       : id == 11 ? SL_COLUMN_BIT(SL_COL_RECORD_COUNT) : 0;
          if (got >= RUN_ROWS || id != want[got] ||
              strcmp(ev->summary, summary) != 0 ||
              (id == 9 ? ev->details != NULL
                       : !ev->details || strcmp(ev->details, details)) ||
              ev->has_record_count != (id != 11) ||
              (id != 11 && ev->record_count != id) || ev->bad != bad ||
              strcmp(ev->event_type,
                     id % 2 ? "state_transition" : "sync_error") != 0 ||
              strcmp(ev->device_id, DEVICE) != 0 || !ev->has_instant ||
              strcmp(ev->timestamp, id == 44 ? "2025-12-03T10:00:01Z"
                                             : id <= 3
                                 ? "2025-12-03T10:00:00+00:00"
                                 : id == 41 || id == 42
                                 ? "2025-12-03T10:00:02+00:00"
                                 : "2025-12-03T10:00:01+00:00") != 0) {
            fprintf(stderr, "split %d size %d: row %d: id %d\n", split,
                    (int)size, (int)got, (int)id);
            wrong++;
          }
          got++;
        }
        sl_cursor_close(c);
      }
      CHECK_EQ_INT(got, RUN_ROWS);
      CHECK_EQ_INT(wrong, 0);
    }
  sl_store_release(s);
}

int main(void) {
  if (!mkdtemp(dir)) return 2;
  test_concurrent_appends();
  test_full_queue();
  test_retry_then_fail();
  test_retry_keeps_the_queue();
  test_full_disk();
  test_misuse();
  test_open_modes();
  test_racing_creators();
  test_tie_order();
  test_long_runs();
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
  return check_report("store");
}
