/*
** test_first_look.c -- a handle's first query on a store reads only the
** timestamps its answer can reach (sl_store.c, "stored timestamps";
** sl_query.c, top_window). Whatever forms the times near the top are in --
** an offset a day wide either way, a space or a 't' or a 'Z', a short
** fraction, a leap second, garbage, a NULL, a number -- every answer of a
** fresh handle must be the one a handle that classified every row gives,
** and rows added after the first look must take their places.
*/
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "support.h"
#include <synclua/synclua.h>

/* Three days of canonical rows, ten seconds apart; the odd rows follow. */
#define CANONICAL 25920
#define T0 (INT64_C(1764547200) * SL_NS_PER_SEC) /* 2025-12-01T00:00:00Z */
#define SEC SL_NS_PER_SEC
#define TOP (T0 + (int64_t)(CANONICAL - 1) * 10 * SEC)

static char dir[] = "/tmp/synclua-first-look-XXXXXX";
static char path[256];

/* Texts near the top in every form a store may hold. */
static const char *const odd[] = {
  "2025-12-03T00:00:51-23:59",  /* the newest of all, a day down the index */
  "2025-12-03T11:59:00-12:00",  /* newer than the top, half a day down     */
  "2025-12-04T00:00:20+23:59",  /* at the top of the index, a day old      */
  "2025-12-03 23:59:05+00:00",  /* a space: before every 'T' of its day    */
  "2025-12-03t23:58:45z",       /* lowercase                               */
  "2025-12-03T23:59:49.5+00:00", /* a fraction of one digit                */
  "2025-12-03T23:59:30Z",
  "2025-12-03T23:59:60+00:00",  /* a leap second                           */
  "2025-13-45T00:00:00+00:00",  /* the canonical shape, no such day        */
  "garbage",                    /* after every digit                       */
  "",                           /* before everything                       */
  "2025-12-02 23:59:59-23:59",  /* 12-03T23:58:59Z, a space, on the day a
                                ** cover starts                            */
};

static void exec(sqlite3 *db, const char *sql) {
  char *err = NULL;
  if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
    fprintf(stderr, "%s: %s\n", sql, err);
    check_failed++;
  }
  sqlite3_free(err);
}

/* Spacedrive's table without its NOT NULL (another program's file), the
** canonical rows, and the odd ones at ids spread among them; and a NULL
** and a number, or a blob that spells a canonical time (which sorts above
** every text, where Spacedrive reads it). */
static void make_store(int blob) {
  sqlite3 *db;
  sqlite3_stmt *st;
  char ts[SL_TIME_BUFSZ];
  unlink(path);
  CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
  exec(db, "CREATE TABLE sync_event_log (id INTEGER PRIMARY KEY"
           " AUTOINCREMENT, timestamp, device_id TEXT, event_type TEXT,"
           " category TEXT, severity TEXT, summary TEXT, details TEXT,"
           " correlation_id TEXT, peer_device_id TEXT, model_types TEXT,"
           " record_count INTEGER, duration_ms INTEGER);"
           "CREATE INDEX idx_sync_event_log_timestamp"
           " ON sync_event_log(timestamp); BEGIN");
  CHECK_EQ_INT(sqlite3_prepare_v2(db,
    "INSERT INTO sync_event_log (id, timestamp, device_id, event_type,"
    " category, severity, summary) VALUES (?1, ?2,"
    " '6f1c2a3b-4d5e-4f60-8a71-000000000001', 'peer_connected', 'network',"
    " 'info', 'x')", -1, &st, NULL), SQLITE_OK);
  int64_t id = 1;
  size_t next_odd = 0;
  for (int i = 0; i < CANONICAL; i++) {
    if (i % 2000 == 1999 && next_odd < sizeof odd / sizeof *odd) {
      sqlite3_bind_int64(st, 1, id++);
      sqlite3_bind_text(st, 2, odd[next_odd++], -1, SQLITE_STATIC);
      sqlite3_step(st);
      sqlite3_reset(st);
    }
    sl_time_format(T0 + (int64_t)i * 10 * SEC, 0, ts);
    sqlite3_bind_int64(st, 1, id++);
    sqlite3_bind_text(st, 2, ts, -1, SQLITE_TRANSIENT);
    sqlite3_step(st);
    sqlite3_reset(st);
  }
  sqlite3_finalize(st);
  CHECK_EQ_INT(next_odd, sizeof odd / sizeof *odd);
  exec(db, blob ? "INSERT INTO sync_event_log (timestamp, device_id,"
                  " event_type, category, severity, summary) VALUES (CAST("
                  "'2025-12-03T23:59:40+00:00' AS BLOB), 'd', 'peer_connected',"
                  " 'network', 'info', 'x'); COMMIT"
                : "INSERT INTO sync_event_log (timestamp, device_id,"
                  " event_type, category, severity, summary) VALUES (NULL,"
                  " 'd', 'peer_connected', 'network', 'info', 'x'), (20251203,"
                  " 'd', 'peer_connected', 'network', 'info', 'x'); COMMIT");
  sqlite3_close(db);
}

/* A handle that has classified every row (the time report does). */
static sl_store *reference(void) {
  sl_store *s = NULL;
  sl_time_report tr;
  CHECK_EQ_INT(sl_store_open(path, NULL, &s), SL_OK);
  CHECK_EQ_INT(sl_store_time_report(s, &tr), SL_OK);
  return s;
}

/* Every limit and offset, newest first (where a window serves) and oldest
** first, with and without skipped_last: a fresh handle's answer is the
** reference's. */
static void compare_all(const char *label) {
  static const int64_t limits[] = {1, 5, 10, 12, 50, 999, 5000, 40000};
  static const int64_t offsets[] = {0, 3, 100};
  sl_store *ref = reference();
  sl_buf want = {0}, got = {0};
  int differ = 0;
  for (size_t li = 0; li < sizeof limits / sizeof *limits; li++)
    for (size_t oi = 0; oi < sizeof offsets / sizeof *offsets; oi++)
      for (int way = 0; way < 4; way++) {
        sl_filter f;
        sl_filter_init(&f);
        f.limit = limits[li];
        f.offset = offsets[oi];
        f.ascending = way & 1;
        f.skipped_last = (way & 2) != 0;
        sl_store *s = NULL;
        CHECK_EQ_INT(sl_store_open(path, NULL, &s), SL_OK);
        ids_of(s, &f, &got);
        sl_store_release(s);
        ids_of(ref, &f, &want);
        CHECK(want.len > 0);
        if (strcmp(got.data, want.data) != 0 && differ++ < 3)
          fprintf(stderr, "  %s: limit %lld offset %lld %s%s:\n    got  %.200s"
                  "\n    want %.200s\n", label, (long long)f.limit,
                  (long long)f.offset, f.ascending ? "oldest" : "newest",
                  f.skipped_last ? " skipped last" : "", got.data, want.data);
      }
  CHECK_EQ_INT(differ, 0);
  sl_buf_free(&want);
  sl_buf_free(&got);
  sl_store_release(ref);
}

/* The newest rows, exactly: the odd rows where their instants put them. */
static void newest_exactly(void) {
  sl_store *s = NULL;
  sl_filter f;
  sl_buf got = {0};
  sl_filter_init(&f);
  f.limit = 7;
  CHECK_EQ_INT(sl_store_open(path, NULL, &s), SL_OK);
  ids_of(s, &f, &got);
  /* Odd row k has id 2001 k + 2000, canonical row i id i + 1 + the odd
  ** ones before it: the leap second (2025-12-04T00:00:00Z), the -23:59
  ** row (23:59:51), the top canonical row (23:59:50), the one-digit
  ** fraction (23:59:49.5), the canonical rows at 23:59:40 and 23:59:30
  ** and the "Z" row at 23:59:30 (ties by id). */
  CHECK_EQ_STR(got.data, "16007,2000,25932,12005,25931,14006,25930,");
  sl_buf_free(&got);
  sl_store_release(s);
}

/* Rows another program adds after the first look take their places. */
static void added_later(void) {
  sl_store *s = NULL;
  sqlite3 *db;
  sl_filter f;
  sl_buf got = {0}, want = {0};
  sl_filter_init(&f);
  f.limit = 3;
  CHECK_EQ_INT(sl_store_open(path, NULL, &s), SL_OK);
  ids_of(s, &f, &got);
  CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
  exec(db, "INSERT INTO sync_event_log (id, timestamp, device_id, event_type,"
           " category, severity, summary) VALUES (900001,"
           " '2025-12-03T04:00:00-20:00', 'd', 'peer_connected', 'network',"
           " 'info', 'x'), (900002, '2025-12-03T23:59:50.25+00:00', 'd',"
           " 'peer_connected', 'network', 'info', 'x')");
  sqlite3_close(db);
  ids_of(s, &f, &got);
  /* 2025-12-04T00:00:00Z, with the leap second before it (its id is
  ** lower), then the -23:59 row. */
  CHECK_EQ_STR(got.data, "16007,900001,2000,");
  sl_store *ref = reference();
  f.limit = 50;
  ids_of(s, &f, &got);
  ids_of(ref, &f, &want);
  CHECK_EQ_STR(got.data, want.data);
  sl_buf_free(&got);
  sl_buf_free(&want);
  sl_store_release(ref);
  sl_store_release(s);
}

/* A count with no time bound counts every row, whatever its time. */
static void counts(void) {
  sl_store *s = NULL;
  sl_filter f;
  int64_t n = -1;
  sl_filter_init(&f);
  CHECK_EQ_INT(sl_store_open(path, NULL, &s), SL_OK);
  CHECK_EQ_INT(sl_count(s, &f, &n), SL_OK);
  CHECK_EQ_INT(n, CANONICAL + 12 + 2 + 2);
  f.limit = 100;
  CHECK_EQ_INT(sl_count(s, &f, &n), SL_OK);
  CHECK_EQ_INT(n, 100);
  f.limit = -1;
  f.has_since = 1;
  f.since = TOP - 60 * SEC;
  CHECK_EQ_INT(sl_count(s, &f, &n), SL_OK);
  /* 7 canonical, the -23:59, -12:00, two spaces, fraction, Z and leap
  ** rows, and the two added by added_later. */
  CHECK_EQ_INT(n, 7 + 7 + 2);
  sl_store_release(s);
}

int main(void) {
  if (!mkdtemp(dir)) return 2;
  snprintf(path, sizeof path, "%s/sync.db", dir);
  make_store(0);
  compare_all("odd rows near the top");
  newest_exactly();
  added_later();
  compare_all("rows added later");
  counts();
  make_store(1);
  compare_all("a blob at the top");
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
  return check_report("first_look");
}
