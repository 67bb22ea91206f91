/*
** test_emit.c -- the typed emitters, Spacedrive's peer selection and the
** batch aggregator through the C API: for every emitter the exact row it
** stores (read back with sqlite3, details compared byte for byte), the
** selection formula on ties and edge cases, and every flush trigger of the
** aggregator driven by a virtual clock, with its memory bound.
**
** Expected texts are written out here from spacedrive-compat.md section 4,
** never computed by the code under test; f32 figures such as
** 23.45599937438965 were worked out independently (IEEE single arithmetic,
** then the shortest f64 text, as serde_json widens them).
*/
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include <synclua/synclua.h>

#define DEVICE  "11111111-2222-3333-4444-555555555555"
#define PEER_A  "a1b2c3d4-e5f6-4789-abcd-ef0123456789"
#define PEER_B  "b2c3d4e5-f6a7-4890-bcde-f01234567890"
#define PEER_C  "c3d4e5f6-a7b8-4901-8def-012345678901"
#define PEER_D  "d4e5f6a7-b8c9-4012-9ef0-123456789012"
#define SESSION "0f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f"
#define OTHER   "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"

#define SEC SL_NS_PER_SEC
#define MS  INT64_C(1000000)
/* 2025-12-03T10:15:00Z, as `date -u -d '2025-12-03 10:15:00' +%s` says. */
#define T0  (INT64_C(1764756900) * SEC)

/* The columns of a stored row, in table order after the id. */
#define COLS "timestamp, device_id, event_type, category, severity, summary," \
             " details, correlation_id, peer_device_id, model_types,"        \
             " record_count, duration_ms"

static char dir[] = "/tmp/synclua-test-emit-XXXXXX";
static int files;

static const char *path_of(const char *name) {
  static char buf[256];
  snprintf(buf, sizeof buf, "%s/%s", dir, name);
  return buf;
}

/* A writable store in a fresh file, with the aggregator's interval and
** size given (0: the defaults, 30 s and 10,000). */
static sl_store *open_store(int64_t interval, int64_t records) {
  char name[32];
  sl_store *s;
  sl_open_opts o;
  memset(&o, 0, sizeof o);
  o.mode = SL_OPEN_WRITE;
  o.device_id = DEVICE;
  o.batch_interval = interval;
  o.batch_records = records;
  snprintf(name, sizeof name, "emit-%d.db", ++files);
  int rc = sl_store_open(path_of(name), &o, &s);
  CHECK_EQ_INT(rc, SL_OK);
  if (rc != SL_OK) {
    fprintf(stderr, "open: %s\n", sl_store_errmsg(s));
    exit(1);
  }
  return s;
}

/* Run `sql` on the store's file with a separate read-only connection and
** return every row, columns joined by '|' (NULL written "NULL"), rows
** ended by '\n'. The text lives in a static buffer until the next call. */
static const char *query(sl_store *s, const char *sql) {
  static char out[16384];
  size_t len = 0;
  sqlite3 *db;
  sqlite3_stmt *st;
  out[0] = '\0';
  if (sqlite3_open_v2(sl_store_path(s), &db, SQLITE_OPEN_READONLY, NULL) !=
        SQLITE_OK ||
      sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
    snprintf(out, sizeof out, "sqlite3: %s", sqlite3_errmsg(db));
    sqlite3_close(db);
    return out;
  }
  while (sqlite3_step(st) == SQLITE_ROW) {
    for (int c = 0; c < sqlite3_column_count(st); c++) {
      const char *v = (const char *)sqlite3_column_text(st, c);
      int n = snprintf(out + len, sizeof out - len, "%s%s", c ? "|" : "",
                       v ? v : "NULL");
      if (n < 0 || (size_t)n >= sizeof out - len) break;
      len += (size_t)n;
    }
    if (len + 1 < sizeof out) {
      out[len++] = '\n';
      out[len] = '\0';
    }
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

/* Commit what was appended, then the newest row (by id). */
static const char *last_row(sl_store *s) {
  CHECK_EQ_INT(sl_store_flush(s), SL_OK);
  return query(s, "SELECT " COLS " FROM sync_event_log"
                  " ORDER BY id DESC LIMIT 1");
}

static int64_t count_rows(sl_store *s) {
  CHECK_EQ_INT(sl_store_flush(s), SL_OK);
  return strtoll(query(s, "SELECT count(*) FROM sync_event_log"), NULL, 10);
}

static void done(sl_store *s) {
  CHECK_EQ_INT(sl_store_close(s), SL_OK);
  sl_store_release(s);
}

static sl_peer_candidate cand(const char *id, int online, int complete,
                              float latency, int active) {
  sl_peer_candidate c;
  c.device_id = id;
  c.is_online = online;
  c.has_complete_state = complete;
  c.latency_ms = latency;
  c.active_syncs = active;
  return c;
}

/* ------------------------------------------------------------- states */

static const char *state_text(sl_state st) {
  static char out[256];
  sl_buf b = {0};
  sl_state_write(&b, &st);
  snprintf(out, sizeof out, "%s", b.data ? b.data : "");
  sl_buf_free(&b);
  return out;
}

static void test_state_write(void) {
  sl_state st;
  memset(&st, 0, sizeof st);
  st.kind = SL_STATE_UNINITIALIZED;
  CHECK_EQ_STR(state_text(st), "Uninitialized");
  st.kind = SL_STATE_BACKFILLING;
  st.peer = PEER_A;
  st.progress = 0;
  CHECK_EQ_STR(state_text(st), "Backfilling { peer: " PEER_A
                               ", progress: 0 }");
  st.progress = 100;
  CHECK_EQ_STR(state_text(st), "Backfilling { peer: " PEER_A
                               ", progress: 100 }");
  st.kind = SL_STATE_CATCHING_UP;
  st.buffered_count = 0;
  CHECK_EQ_STR(state_text(st), "CatchingUp { buffered_count: 0 }");
  st.buffered_count = INT64_C(4294967296);
  CHECK_EQ_STR(state_text(st), "CatchingUp { buffered_count: 4294967296 }");
  st.kind = SL_STATE_READY;
  CHECK_EQ_STR(state_text(st), "Ready");
  st.kind = SL_STATE_PAUSED;
  CHECK_EQ_STR(state_text(st), "Paused");
}

/* ------------------------------------------------------------ scoring */

static void test_peer_score(void) {
  sl_peer_candidate c = cand(PEER_A, 1, 1, 23.456f, 0);
  /* 1000 / 23.456f + 100 in f32 is 142.6330108642578 widened. */
  CHECK(sl_peer_score(&c) == 142.6330108642578f);
  CHECK((double)sl_peer_score(&c) == 142.6330108642578);
  c = cand(PEER_A, 1, 1, 100.0f, 0);
  CHECK((double)sl_peer_score(&c) == 110.0);
  /* No latency term at zero latency (an unmeasured peer). */
  c = cand(PEER_A, 1, 1, 0.0f, 0);
  CHECK((double)sl_peer_score(&c) == 100.0);
  c = cand(PEER_A, 1, 0, 0.0f, 0);
  CHECK((double)sl_peer_score(&c) == 0.0);
  /* Nor at a negative one. */
  c = cand(PEER_A, 1, 1, -5.0f, 0);
  CHECK((double)sl_peer_score(&c) == 100.0);
  /* Below 1 ms the latency counts as 1 ms: 1000 / 1. */
  c = cand(PEER_A, 1, 1, 0.5f, 0);
  CHECK((double)sl_peer_score(&c) == 1100.0);
  c = cand(PEER_A, 1, 0, 0.25f, 0);
  CHECK((double)sl_peer_score(&c) == 1000.0);
  c = cand(PEER_A, 1, 1, 1.0f, 0);
  CHECK((double)sl_peer_score(&c) == 1100.0);
  c = cand(PEER_A, 1, 0, 3.0f, 0);
  CHECK((double)sl_peer_score(&c) == 333.3333435058594);
  /* NaN latency: `NaN > 0` is false, so no latency term, as in Rust; the
  ** score is an ordinary number, never NaN. */
  c = cand(PEER_A, 1, 1, NAN, 0);
  CHECK(!isnan(sl_peer_score(&c)));
  CHECK((double)sl_peer_score(&c) == 100.0);
  /* Infinite latency: 1000 / inf adds 0. */
  c = cand(PEER_A, 1, 1, INFINITY, 0);
  CHECK((double)sl_peer_score(&c) == 100.0);
  /* 10 per active sync, even below zero. */
  c = cand(PEER_A, 1, 1, 8.0f, 3);
  CHECK((double)sl_peer_score(&c) == 195.0);
  c = cand(PEER_A, 1, 0, 50.0f, 2);
  CHECK((double)sl_peer_score(&c) == 0.0);
  c = cand(PEER_A, 1, 0, 100.0f, 3);
  CHECK((double)sl_peer_score(&c) == -20.0);
  /* The score does not look at is_online. */
  c = cand(PEER_A, 0, 1, 5.0f, 0);
  CHECK((double)sl_peer_score(&c) == 300.0);
}

static void test_peer_select(void) {
  size_t sel = 99;
  sl_peer_candidate c[4];

  /* Lowest latency wins among production-like candidates. */
  c[0] = cand(PEER_A, 1, 1, 100.0f, 0);
  c[1] = cand(PEER_B, 1, 1, 23.456f, 0);
  c[2] = cand(PEER_C, 1, 1, 45.5f, 0);
  CHECK_EQ_INT(sl_peer_select(c, 3, &sel), SL_OK);
  CHECK_EQ_INT(sel, 1);

  /* Ties: the first in input order wins, whichever order. */
  c[0] = cand(PEER_A, 1, 1, 100.0f, 0);
  c[1] = cand(PEER_B, 1, 1, 100.0f, 0);
  CHECK_EQ_INT(sl_peer_select(c, 2, &sel), SL_OK);
  CHECK_EQ_INT(sel, 0);
  c[0] = cand(PEER_B, 1, 1, 100.0f, 0);
  c[1] = cand(PEER_A, 1, 1, 100.0f, 0);
  CHECK_EQ_INT(sl_peer_select(c, 2, &sel), SL_OK);
  CHECK_EQ_INT(sel, 0);
  /* A tie after a lower score: the first of the best. */
  c[0] = cand(PEER_A, 1, 1, 200.0f, 0); /* 105 */
  c[1] = cand(PEER_B, 1, 1, 100.0f, 0); /* 110 */
  c[2] = cand(PEER_C, 1, 1, 100.0f, 0); /* 110 */
  CHECK_EQ_INT(sl_peer_select(c, 3, &sel), SL_OK);
  CHECK_EQ_INT(sel, 1);
  /* Equal scores by different routes: 0.5 ms and 1 ms both count 1000. */
  c[0] = cand(PEER_A, 1, 1, 1.0f, 0);
  c[1] = cand(PEER_B, 1, 1, 0.5f, 0);
  CHECK_EQ_INT(sl_peer_select(c, 2, &sel), SL_OK);
  CHECK_EQ_INT(sel, 0);
  c[0] = cand(PEER_B, 1, 1, 0.5f, 0);
  c[1] = cand(PEER_A, 1, 1, 1.0f, 0);
  CHECK_EQ_INT(sl_peer_select(c, 2, &sel), SL_OK);
  CHECK_EQ_INT(sel, 0);

  /* No online peer: SL_NOTFOUND, *selected untouched. */
  sel = 99;
  c[0] = cand(PEER_A, 0, 1, 10.0f, 0);
  c[1] = cand(PEER_B, 0, 1, 20.0f, 0);
  CHECK_EQ_INT(sl_peer_select(c, 2, &sel), SL_NOTFOUND);
  CHECK_EQ_INT(sel, 99);
  CHECK_EQ_INT(sl_peer_select(c, 0, &sel), SL_NOTFOUND);
  CHECK_EQ_INT(sel, 99);

  /* Offline candidates are never selected, however well they score. */
  c[0] = cand(PEER_A, 0, 1, 0.5f, 0);  /* 1100, offline */
  c[1] = cand(PEER_B, 1, 0, 0.0f, 5);  /* -50, the only online one */
  c[2] = cand(PEER_C, 0, 1, 1.0f, 0);  /* 1100, offline */
  CHECK_EQ_INT(sl_peer_select(c, 3, &sel), SL_OK);
  CHECK_EQ_INT(sel, 1);

  /* Zero latency: no latency term, so any measured latency beats it. */
  c[0] = cand(PEER_A, 1, 1, 0.0f, 0);   /* 100 */
  c[1] = cand(PEER_B, 1, 1, 900.0f, 0); /* 101.1 */
  CHECK_EQ_INT(sl_peer_select(c, 2, &sel), SL_OK);
  CHECK_EQ_INT(sel, 1);

  /* Below 1 ms: clamped, so 0.25 ms does not beat 1 ms. */
  c[0] = cand(PEER_A, 1, 1, 1.0f, 0);
  c[1] = cand(PEER_B, 1, 1, 0.25f, 0);
  CHECK_EQ_INT(sl_peer_select(c, 2, &sel), SL_OK);
  CHECK_EQ_INT(sel, 0);

  /* NaN latency scores as an unmeasured peer (100 with complete state):
  ** it ties with a zero-latency peer (input order decides) and loses to
  ** any measured latency. */
  c[0] = cand(PEER_A, 1, 1, NAN, 0);
  c[1] = cand(PEER_B, 1, 1, 0.0f, 0);
  CHECK_EQ_INT(sl_peer_select(c, 2, &sel), SL_OK);
  CHECK_EQ_INT(sel, 0);
  c[0] = cand(PEER_B, 1, 1, 0.0f, 0);
  c[1] = cand(PEER_A, 1, 1, NAN, 0);
  CHECK_EQ_INT(sl_peer_select(c, 2, &sel), SL_OK);
  CHECK_EQ_INT(sel, 0);
  c[0] = cand(PEER_A, 1, 1, NAN, 0);
  c[1] = cand(PEER_B, 1, 1, 200.0f, 0);
  CHECK_EQ_INT(sl_peer_select(c, 2, &sel), SL_OK);
  CHECK_EQ_INT(sel, 1);

  /* The active_syncs penalty turns the choice: 5 ms with 11 syncs (190)
  ** loses to 10 ms with none (200). */
  c[0] = cand(PEER_A, 1, 1, 5.0f, 11);
  c[1] = cand(PEER_B, 1, 1, 10.0f, 0);
  CHECK_EQ_INT(sl_peer_select(c, 2, &sel), SL_OK);
  CHECK_EQ_INT(sel, 1);
  c[0] = cand(PEER_A, 1, 1, 12.5f, 1); /* 170 */
  c[1] = cand(PEER_B, 1, 1, 8.0f, 3);  /* 195 */
  CHECK_EQ_INT(sl_peer_select(c, 2, &sel), SL_OK);
  CHECK_EQ_INT(sel, 1);
  /* Complete state is worth 100: without it even 10 ms loses to 100 ms. */
  c[0] = cand(PEER_A, 1, 0, 10.0f, 0);  /* 100 */
  c[1] = cand(PEER_B, 1, 1, 100.0f, 0); /* 110 */
  CHECK_EQ_INT(sl_peer_select(c, 2, &sel), SL_OK);
  CHECK_EQ_INT(sel, 1);
}

/* ------------------------------------------------------------ emitters */

static void test_emit_state_transition(void) {
  sl_store *s = open_store(0, 0);
  sl_state from, to;
  memset(&from, 0, sizeof from);
  memset(&to, 0, sizeof to);
  from.kind = SL_STATE_BACKFILLING;
  from.peer = PEER_A;
  to.kind = SL_STATE_CATCHING_UP;
  CHECK_EQ_INT(sl_emit_state_transition(s, &from, &to,
                                        "transitioning to ready", T0),
               SL_OK);
  CHECK_EQ_STR(last_row(s),
    "2025-12-03T10:15:00+00:00|" DEVICE "|state_transition|lifecycle|info|"
    "Backfilling { peer: " PEER_A ", progress: 0 } \xe2\x86\x92 "
    "CatchingUp { buffered_count: 0 }|{\"reason\":\"transitioning to ready\"}"
    "|NULL|NULL|NULL|NULL|NULL\n");

  /* No reason: no details at all. Fractions in AutoSi form. */
  from.kind = SL_STATE_READY;
  to.kind = SL_STATE_PAUSED;
  CHECK_EQ_INT(sl_emit_state_transition(s, &from, &to, NULL,
                                        T0 + 123456789),
               SL_OK);
  CHECK_EQ_STR(last_row(s),
    "2025-12-03T10:15:00.123456789+00:00|" DEVICE "|state_transition|"
    "lifecycle|info|Ready \xe2\x86\x92 Paused|NULL|NULL|NULL|NULL|NULL|"
    "NULL\n");

  from.kind = SL_STATE_UNINITIALIZED;
  to.kind = SL_STATE_BACKFILLING;
  to.peer = PEER_B;
  to.progress = 42;
  CHECK_EQ_INT(sl_emit_state_transition(s, &from, &to, "backfill \"started\"",
                                        T0 + 500 * MS),
               SL_OK);
  CHECK_EQ_STR(last_row(s),
    "2025-12-03T10:15:00.500+00:00|" DEVICE "|state_transition|lifecycle|"
    "info|Uninitialized \xe2\x86\x92 Backfilling { peer: " PEER_B
    ", progress: 42 }|{\"reason\":\"backfill \\\"started\\\"\"}"
    "|NULL|NULL|NULL|NULL|NULL\n");

  from.kind = SL_STATE_CATCHING_UP;
  from.buffered_count = 1247;
  to.kind = SL_STATE_READY;
  CHECK_EQ_INT(sl_emit_state_transition(s, &from, &to,
                                        "buffered updates processed",
                                        T0 + 1500 * 1000),
               SL_OK);
  CHECK_EQ_STR(last_row(s),
    "2025-12-03T10:15:00.001500+00:00|" DEVICE "|state_transition|"
    "lifecycle|info|CatchingUp { buffered_count: 1247 } \xe2\x86\x92 Ready|"
    "{\"reason\":\"buffered updates processed\"}|NULL|NULL|NULL|NULL|NULL\n");

  CHECK_EQ_INT(sl_emit_state_transition(s, NULL, &to, NULL, T0), SL_MISUSE);
  CHECK_EQ_INT(sl_emit_state_transition(s, &from, NULL, NULL, T0),
               SL_MISUSE);
  CHECK_EQ_INT(count_rows(s), 4);
  done(s);
}

static void test_emit_backfill_session(void) {
  sl_store *s = open_store(0, 0);

  CHECK_EQ_INT(sl_emit_backfill_started(s, SESSION, 3, T0), SL_OK);
  CHECK_EQ_STR(last_row(s),
    "2025-12-03T10:15:00+00:00|" DEVICE "|backfill_session_started|"
    "lifecycle|info|Backfill session started with 3 available peers|"
    "{\"peer_count\":3}|" SESSION "|NULL|NULL|NULL|NULL\n");

  sl_peer_candidate c[4];
  c[0] = cand(PEER_A, 1, 1, 23.456f, 0);
  c[1] = cand(PEER_B, 1, 1, 100.0f, 0);
  c[2] = cand(PEER_C, 0, 1, 5.0f, 0);
  c[3] = cand(PEER_D, 1, 0, 50.0f, 2);
  size_t sel = 99;
  CHECK_EQ_INT(sl_peer_select(c, 4, &sel), SL_OK);
  CHECK_EQ_INT(sel, 0);
  CHECK_EQ_INT(sl_emit_peer_selected(s, SESSION, c, 4, sel, T0 + 2 * MS),
               SL_OK);
  CHECK_EQ_STR(last_row(s),
    "2025-12-03T10:15:00.002+00:00|" DEVICE "|backfill_session_started|"
    "lifecycle|info|Selected peer " PEER_A " from 4 candidates|"
    "{\"candidates\":["
    "{\"active_syncs\":0,\"device_id\":\"" PEER_A "\","
    "\"has_complete_state\":true,\"is_online\":true,"
    "\"latency_ms\":23.45599937438965,\"score\":142.6330108642578,"
    "\"selected\":true},"
    "{\"active_syncs\":0,\"device_id\":\"" PEER_B "\","
    "\"has_complete_state\":true,\"is_online\":true,"
    "\"latency_ms\":100.0,\"score\":110.0,\"selected\":false},"
    "{\"active_syncs\":0,\"device_id\":\"" PEER_C "\","
    "\"has_complete_state\":true,\"is_online\":false,"
    "\"latency_ms\":5.0,\"score\":300.0,\"selected\":false},"
    "{\"active_syncs\":2,\"device_id\":\"" PEER_D "\","
    "\"has_complete_state\":false,\"is_online\":true,"
    "\"latency_ms\":50.0,\"score\":0.0,\"selected\":false}]}|"
    SESSION "|" PEER_A "|NULL|NULL|NULL\n");

  /* A caller's own choice is written as given; a NaN latency is JSON null
  ** (serde_json writes non-finite floats as null) and scores 100. */
  c[0] = cand(PEER_A, 1, 1, NAN, 0);
  c[1] = cand(PEER_B, 1, 1, 0.75f, 1);
  CHECK_EQ_INT(sl_emit_peer_selected(s, NULL, c, 2, 0, T0 + 3 * MS), SL_OK);
  CHECK_EQ_STR(last_row(s),
    "2025-12-03T10:15:00.003+00:00|" DEVICE "|backfill_session_started|"
    "lifecycle|info|Selected peer " PEER_A " from 2 candidates|"
    "{\"candidates\":["
    "{\"active_syncs\":0,\"device_id\":\"" PEER_A "\","
    "\"has_complete_state\":true,\"is_online\":true,"
    "\"latency_ms\":null,\"score\":100.0,\"selected\":true},"
    "{\"active_syncs\":1,\"device_id\":\"" PEER_B "\","
    "\"has_complete_state\":true,\"is_online\":true,"
    "\"latency_ms\":0.75,\"score\":1090.0,\"selected\":false}]}|"
    "NULL|" PEER_A "|NULL|NULL|NULL\n");
  CHECK_EQ_INT(sl_emit_peer_selected(s, SESSION, c, 2, 2, T0), SL_MISUSE);
  CHECK_EQ_INT(sl_emit_peer_selected(s, SESSION, NULL, 0, 0, T0), SL_MISUSE);

  CHECK_EQ_INT(sl_emit_backfill_completed(s, SESSION, PEER_A, 5234, -1,
                                          T0 + 5 * SEC),
               SL_OK);
  CHECK_EQ_STR(last_row(s),
    "2025-12-03T10:15:05+00:00|" DEVICE "|backfill_session_completed|"
    "lifecycle|info|Backfill session completed successfully|NULL|" SESSION
    "|" PEER_A "|NULL|NULL|5234\n");
  CHECK_EQ_INT(sl_emit_backfill_completed(s, SESSION, PEER_A, 61000, 45000,
                                          T0 + 61 * SEC),
               SL_OK);
  CHECK_EQ_STR(last_row(s),
    "2025-12-03T10:16:01+00:00|" DEVICE "|backfill_session_completed|"
    "lifecycle|info|Backfill session completed successfully|NULL|" SESSION
    "|" PEER_A "|NULL|45000|61000\n");
  /* A negative duration is clamped at 0, as Spacedrive clamps it. */
  CHECK_EQ_INT(sl_emit_backfill_completed(s, SESSION, PEER_A, -3, 0, T0),
               SL_OK);
  CHECK_EQ_STR(last_row(s),
    "2025-12-03T10:15:00+00:00|" DEVICE "|backfill_session_completed|"
    "lifecycle|info|Backfill session completed successfully|NULL|" SESSION
    "|" PEER_A "|NULL|0|0\n");

  CHECK_EQ_INT(sl_emit_backfill_failed(s, SESSION, PEER_B,
                                       "peer disconnected", 1200,
                                       T0 + 7 * SEC),
               SL_OK);
  CHECK_EQ_STR(last_row(s),
    "2025-12-03T10:15:07+00:00|" DEVICE "|backfill_session_failed|"
    "lifecycle|error|Backfill session failed: peer disconnected|"
    "{\"reason\":\"peer disconnected\"}|" SESSION "|" PEER_B
    "|NULL|NULL|1200\n");
  /* The summary keeps the reason's bytes; details escape them as serde. */
  CHECK_EQ_INT(sl_emit_backfill_failed(s, NULL, NULL, "a/b \"c\"\tend", 0,
                                       T0),
               SL_OK);
  CHECK_EQ_STR(last_row(s),
    "2025-12-03T10:15:00+00:00|" DEVICE "|backfill_session_failed|"
    "lifecycle|error|Backfill session failed: a/b \"c\"\tend|"
    "{\"reason\":\"a/b \\\"c\\\"\\tend\"}|NULL|NULL|NULL|NULL|0\n");
  CHECK_EQ_INT(sl_emit_backfill_failed(s, SESSION, PEER_B, NULL, 10, T0),
               SL_OK);
  CHECK_EQ_STR(last_row(s),
    "2025-12-03T10:15:00+00:00|" DEVICE "|backfill_session_failed|"
    "lifecycle|error|Backfill session failed: unknown error|"
    "{\"reason\":\"unknown error\"}|" SESSION "|" PEER_B "|NULL|NULL|10\n");
  done(s);
}

static void test_emit_catch_up_and_network(void) {
  sl_store *s = open_store(0, 0);

  CHECK_EQ_INT(sl_emit_catch_up_started(s, SESSION, PEER_A, T0), SL_OK);
  CHECK_EQ_STR(last_row(s),
    "2025-12-03T10:15:00+00:00|" DEVICE "|catch_up_session_started|"
    "lifecycle|info|Catch-up session started with peer " PEER_A "|NULL|"
    SESSION "|" PEER_A "|NULL|NULL|NULL\n");

  CHECK_EQ_INT(sl_emit_catch_up_completed(s, SESSION, PEER_A, 1500, 800,
                                          T0 + SEC),
               SL_OK);
  CHECK_EQ_STR(last_row(s),
    "2025-12-03T10:15:01+00:00|" DEVICE "|catch_up_session_completed|"
    "lifecycle|info|Catch-up session completed: 1500 records|NULL|" SESSION
    "|" PEER_A "|NULL|1500|800\n");

  CHECK_EQ_INT(sl_emit_backfill_request_sent(s, SESSION, PEER_B, "entry",
                                             T0 + 2 * SEC),
               SL_OK);
  CHECK_EQ_STR(last_row(s),
    "2025-12-03T10:15:02+00:00|" DEVICE "|backfill_request_sent|network|"
    "debug|Backfill request sent to " PEER_B " (entry)|NULL|" SESSION "|"
    PEER_B "|entry|NULL|NULL\n");
  CHECK_EQ_INT(sl_emit_backfill_request_sent(s, SESSION, PEER_B, NULL,
                                             T0 + 2 * SEC),
               SL_OK);
  CHECK_EQ_STR(last_row(s),
    "2025-12-03T10:15:02+00:00|" DEVICE "|backfill_request_sent|network|"
    "debug|Backfill request sent to " PEER_B "|NULL|" SESSION "|" PEER_B
    "|NULL|NULL|NULL\n");

  /* The responder logs the requester's session id. */
  CHECK_EQ_INT(sl_emit_backfill_request_received(s, SESSION, PEER_C, "tag",
                                                 T0 + 3 * SEC),
               SL_OK);
  CHECK_EQ_STR(last_row(s),
    "2025-12-03T10:15:03+00:00|" DEVICE "|backfill_request_received|"
    "network|debug|Backfill request received from " PEER_C " (tag)|NULL|"
    SESSION "|" PEER_C "|tag|NULL|NULL\n");

  CHECK_EQ_INT(sl_emit_backfill_response_sent(s, SESSION, PEER_C, "entry",
                                              10000, 350, T0 + 4 * SEC),
               SL_OK);
  CHECK_EQ_STR(last_row(s),
    "2025-12-03T10:15:04+00:00|" DEVICE "|backfill_response_sent|network|"
    "debug|Backfill response sent to " PEER_C " (entry): 10000 records|"
    "NULL|" SESSION "|" PEER_C "|entry|10000|350\n");
  CHECK_EQ_INT(sl_emit_backfill_response_sent(s, SESSION, PEER_C, NULL, 0,
                                              0, T0 + 4 * SEC),
               SL_OK);
  CHECK_EQ_STR(last_row(s),
    "2025-12-03T10:15:04+00:00|" DEVICE "|backfill_response_sent|network|"
    "debug|Backfill response sent to " PEER_C ": 0 records|NULL|" SESSION
    "|" PEER_C "|NULL|0|0\n");

  CHECK_EQ_INT(sl_emit_peer_connected(s, PEER_D, T0 + 5 * SEC), SL_OK);
  CHECK_EQ_STR(last_row(s),
    "2025-12-03T10:15:05+00:00|" DEVICE "|peer_connected|network|info|"
    "Peer " PEER_D " connected|NULL|NULL|" PEER_D "|NULL|NULL|NULL\n");

  CHECK_EQ_INT(sl_emit_peer_disconnected(s, PEER_D, "connection timed out",
                                         T0 + 6 * SEC),
               SL_OK);
  CHECK_EQ_STR(last_row(s),
    "2025-12-03T10:15:06+00:00|" DEVICE "|peer_disconnected|network|info|"
    "Peer " PEER_D " disconnected: connection timed out|"
    "{\"reason\":\"connection timed out\"}|NULL|" PEER_D "|NULL|NULL|NULL\n");
  CHECK_EQ_INT(sl_emit_peer_disconnected(s, PEER_D, NULL, T0 + 6 * SEC),
               SL_OK);
  CHECK_EQ_STR(last_row(s),
    "2025-12-03T10:15:06+00:00|" DEVICE "|peer_disconnected|network|info|"
    "Peer " PEER_D " disconnected|NULL|NULL|" PEER_D "|NULL|NULL|NULL\n");
  done(s);
}

static void test_emit_sync_errors(void) {
  sl_store *s = open_store(0, 0);

  CHECK_EQ_INT(sl_emit_buffer_overflow(s, 1247, 100000, T0), SL_OK);
  CHECK_EQ_STR(last_row(s),
    "2025-12-03T10:15:00+00:00|" DEVICE "|sync_error|error|error|"
    "Buffer overflow: 1247 updates dropped during backfill|"
    "{\"dropped_count\":1247,\"max_buffer_size\":100000,"
    "\"phase\":\"backfill_to_catchup_transition\"}|NULL|NULL|NULL|NULL|"
    "NULL\n");

  CHECK_EQ_INT(sl_emit_stuck_dependencies(s, 12, 340, T0 + SEC), SL_OK);
  CHECK_EQ_STR(last_row(s),
    "2025-12-03T10:15:01+00:00|" DEVICE "|sync_error|error|warning|"
    "Stuck dependencies: 340 records waiting for 12 missing parents|"
    "{\"phase\":\"backfill_to_ready_transition\",\"total_dependencies\":12,"
    "\"total_waiting_updates\":340}|NULL|NULL|NULL|NULL|NULL\n");

  CHECK_EQ_INT(sl_emit_watermark_too_old(s, PEER_A, 30, 25, T0 + 2 * SEC),
               SL_OK);
  CHECK_EQ_STR(last_row(s),
    "2025-12-03T10:15:02+00:00|" DEVICE "|sync_error|error|warning|"
    "Watermark too old: 30 days (threshold: 25 days), forcing full sync|"
    "{\"action\":\"force_full_sync\",\"threshold_days\":25,"
    "\"watermark_age_days\":30}|NULL|" PEER_A "|NULL|NULL|NULL\n");

  /* No watermark at all: chrono's maximum Duration in whole days. */
  CHECK_EQ_INT(sl_emit_watermark_too_old(s, PEER_B, -1, 25, T0 + 3 * SEC),
               SL_OK);
  CHECK_EQ_STR(last_row(s),
    "2025-12-03T10:15:03+00:00|" DEVICE "|sync_error|error|warning|"
    "Watermark too old: 106751991167 days (threshold: 25 days), forcing "
    "full sync|{\"action\":\"force_full_sync\",\"threshold_days\":25,"
    "\"watermark_age_days\":106751991167}|NULL|" PEER_B "|NULL|NULL|NULL\n");
  done(s);
}

/* Every emitter on a read-only store, a closed store and NULL. */
static int emit_each(sl_store *s, int which) {
  sl_state a, b;
  sl_peer_candidate c = cand(PEER_A, 1, 1, 10.0f, 0);
  memset(&a, 0, sizeof a);
  memset(&b, 0, sizeof b);
  b.kind = SL_STATE_READY;
  switch (which) {
  case 0: return sl_emit_state_transition(s, &a, &b, "r", T0);
  case 1: return sl_emit_backfill_started(s, SESSION, 1, T0);
  case 2: return sl_emit_peer_selected(s, SESSION, &c, 1, 0, T0);
  case 3: return sl_emit_backfill_completed(s, SESSION, PEER_A, 1, 1, T0);
  case 4: return sl_emit_backfill_failed(s, SESSION, PEER_A, "x", 1, T0);
  case 5: return sl_emit_catch_up_started(s, SESSION, PEER_A, T0);
  case 6: return sl_emit_catch_up_completed(s, SESSION, PEER_A, 1, 1, T0);
  case 7: return sl_emit_backfill_request_sent(s, SESSION, PEER_A, "e", T0);
  case 8:
    return sl_emit_backfill_request_received(s, SESSION, PEER_A, "e", T0);
  case 9:
    return sl_emit_backfill_response_sent(s, SESSION, PEER_A, "e", 1, 1, T0);
  case 10: return sl_emit_peer_connected(s, PEER_A, T0);
  case 11: return sl_emit_peer_disconnected(s, PEER_A, "x", T0);
  case 12: return sl_emit_buffer_overflow(s, 1, 1, T0);
  case 13: return sl_emit_stuck_dependencies(s, 1, 1, T0);
  case 14: return sl_emit_watermark_too_old(s, PEER_A, 1, 1, T0);
  case 15: return sl_batch_add(s, "entry", 1, PEER_A, NULL, T0);
  case 16: return sl_batch_tick(s, T0);
  default: return sl_batch_flush_all(s, T0);
  }
}
#define N_CALLS 18

static void test_emit_misuse(void) {
  sl_store *s = open_store(0, 0);
  CHECK_EQ_INT(sl_store_close(s), SL_OK);
  for (int i = 0; i < N_CALLS; i++) CHECK_EQ_INT(emit_each(s, i), SL_MISUSE);
  size_t keys = 7;
  sl_batch_memory(s, &keys);
  CHECK_EQ_INT(keys, 0);
  char path[256];
  snprintf(path, sizeof path, "%s", sl_store_path(s));
  sl_store_release(s);

  for (int i = 0; i < N_CALLS; i++)
    CHECK_EQ_INT(emit_each(NULL, i), SL_MISUSE);
  keys = 7;
  CHECK_EQ_INT(sl_batch_memory(NULL, &keys), 0);
  CHECK_EQ_INT(keys, 0);

  sl_open_opts o;
  memset(&o, 0, sizeof o); /* SL_OPEN_READ */
  o.device_id = DEVICE;
  CHECK_EQ_INT(sl_store_open(path, &o, &s), SL_OK);
  for (int i = 0; i < N_CALLS; i++)
    CHECK_EQ_INT(emit_each(s, i), SL_READONLY);
  keys = 7;
  CHECK_EQ_INT(sl_batch_memory(s, &keys), 0);
  CHECK_EQ_INT(keys, 0);
  CHECK_EQ_INT(sl_store_close(s), SL_OK);
  sl_store_release(s);
  /* Nothing was written by any of them. */
  sqlite3 *db;
  sqlite3_stmt *st;
  int64_t n = -1;
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
      sqlite3_prepare_v2(db, "SELECT count(*) FROM sync_event_log", -1, &st,
                         NULL) == SQLITE_OK) {
    if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  CHECK_EQ_INT(n, 0);

  /* A store without a device id refuses the events (SL_INVALID). */
  memset(&o, 0, sizeof o);
  o.mode = SL_OPEN_WRITE;
  CHECK_EQ_INT(sl_store_open(path, &o, &s), SL_OK);
  CHECK_EQ_INT(sl_emit_peer_connected(s, PEER_A, T0), SL_INVALID);
  CHECK_EQ_INT(sl_emit_watermark_too_old(s, PEER_A, -1, 25, T0), SL_INVALID);
  done(s);
}

/* --------------------------------------------------------- aggregation */

#define BATCH_ROWS(s)                                                  \
  query((s), "SELECT " COLS " FROM sync_event_log"                     \
             " WHERE event_type = 'batch_ingestion' ORDER BY record_count")

static void test_batch_keys_and_summaries(void) {
  sl_store *s = open_store(0, 1000000);
  size_t keys = 0;
  /* Key (A, none): three models, given out of order. */
  CHECK_EQ_INT(sl_batch_add(s, "location", 5000, PEER_A, NULL, T0), SL_OK);
  CHECK_EQ_INT(sl_batch_add(s, "tag", 10000, PEER_A, NULL, T0 + SEC),
               SL_OK);
  CHECK_EQ_INT(sl_batch_add(s, "entry", 25000, PEER_A, NULL, T0 + 2 * SEC),
               SL_OK);
  CHECK_EQ_INT(sl_batch_add(s, "tag", 5000, PEER_A, NULL, T0 + 3 * SEC),
               SL_OK);
  /* Key (B, none): four models, so the short form. */
  CHECK_EQ_INT(sl_batch_add(s, "entry", 10, PEER_B, NULL, T0 + SEC), SL_OK);
  CHECK_EQ_INT(sl_batch_add(s, "tag", 20, PEER_B, NULL, T0 + SEC), SL_OK);
  CHECK_EQ_INT(sl_batch_add(s, "location", 30, PEER_B, NULL, T0 + SEC),
               SL_OK);
  CHECK_EQ_INT(sl_batch_add(s, "volume", 41, PEER_B, NULL, T0 + SEC), SL_OK);
  /* Key (A, SESSION): same peer, another key. */
  CHECK_EQ_INT(sl_batch_add(s, "entry", 7, PEER_A, SESSION, T0 + 4 * SEC),
               SL_OK);
  /* Key (none, none) and (none, SESSION). */
  CHECK_EQ_INT(sl_batch_add(s, "tag", 3, NULL, NULL, T0 + 4 * SEC), SL_OK);
  CHECK_EQ_INT(sl_batch_add(s, "entry", 4, NULL, SESSION, T0 + 4 * SEC),
               SL_OK);
  /* Key (C, none): ties on count go by name. */
  CHECK_EQ_INT(sl_batch_add(s, "tag", 5, PEER_C, NULL, T0 + 2 * SEC), SL_OK);
  CHECK_EQ_INT(sl_batch_add(s, "entry", 5, PEER_C, NULL, T0 + 2 * SEC),
               SL_OK);
  CHECK_EQ_INT(sl_batch_add(s, "album", 9, PEER_C, NULL, T0 + 2 * SEC),
               SL_OK);
  /* Key (D, OTHER): a zero count still names its model. */
  CHECK_EQ_INT(sl_batch_add(s, "entry", 0, PEER_D, OTHER, T0 + 2 * SEC),
               SL_OK);

  sl_batch_memory(s, &keys);
  CHECK_EQ_INT(keys, 7);
  CHECK_EQ_INT(count_rows(s), 0);
  CHECK_EQ_INT(sl_batch_flush_all(s, T0 + 5 * SEC), SL_OK);
  sl_batch_memory(s, &keys);
  CHECK_EQ_INT(keys, 0);
  CHECK_EQ_INT(sl_store_flush(s), SL_OK);
  CHECK_EQ_STR(BATCH_ROWS(s),
    "2025-12-03T10:15:05+00:00|" DEVICE "|batch_ingestion|data_flow|debug|"
    "Ingested batch of 0 records (0 entry)|{\"models\":{\"entry\":0}}|"
    OTHER "|" PEER_D "|entry|0|3000\n"
    "2025-12-03T10:15:05+00:00|" DEVICE "|batch_ingestion|data_flow|debug|"
    "Ingested batch of 3 records (3 tag)|{\"models\":{\"tag\":3}}|"
    "NULL|NULL|tag|3|1000\n"
    "2025-12-03T10:15:05+00:00|" DEVICE "|batch_ingestion|data_flow|debug|"
    "Ingested batch of 4 records (4 entry)|{\"models\":{\"entry\":4}}|"
    SESSION "|NULL|entry|4|1000\n"
    "2025-12-03T10:15:05+00:00|" DEVICE "|batch_ingestion|data_flow|debug|"
    "Ingested batch of 7 records (7 entry)|{\"models\":{\"entry\":7}}|"
    SESSION "|" PEER_A "|entry|7|1000\n"
    "2025-12-03T10:15:05+00:00|" DEVICE "|batch_ingestion|data_flow|debug|"
    "Ingested batch of 19 records (9 album, 5 entry, 5 tag)|"
    "{\"models\":{\"album\":9,\"entry\":5,\"tag\":5}}|NULL|" PEER_C
    "|album,entry,tag|19|3000\n"
    "2025-12-03T10:15:05+00:00|" DEVICE "|batch_ingestion|data_flow|debug|"
    "Ingested batch of 101 records across 4 model types|"
    "{\"models\":{\"entry\":10,\"location\":30,\"tag\":20,\"volume\":41}}|"
    "NULL|" PEER_B "|volume,location,tag,entry|101|4000\n"
    "2025-12-03T10:15:05+00:00|" DEVICE "|batch_ingestion|data_flow|debug|"
    "Ingested batch of 45000 records (25000 entry, 15000 tag, 5000 "
    "location)|{\"models\":{\"entry\":25000,\"location\":5000,"
    "\"tag\":15000}}|NULL|" PEER_A "|entry,tag,location|45000|5000\n");

  /* Nothing pending: a flush writes nothing. */
  CHECK_EQ_INT(sl_batch_flush_all(s, T0 + 6 * SEC), SL_OK);
  CHECK_EQ_INT(count_rows(s), 7);
  done(s);
}

static void test_batch_size_trigger(void) {
  sl_store *s = open_store(0, 100);
  size_t keys = 0;
  CHECK_EQ_INT(sl_batch_add(s, "entry", 60, PEER_A, NULL, T0), SL_OK);
  CHECK_EQ_INT(sl_batch_add(s, "tag", 39, PEER_A, NULL, T0 + SEC), SL_OK);
  CHECK_EQ_INT(sl_batch_add(s, "entry", 99, PEER_B, NULL, T0 + SEC), SL_OK);
  /* 99 records: nothing yet. */
  CHECK_EQ_INT(count_rows(s), 0);
  sl_batch_memory(s, &keys);
  CHECK_EQ_INT(keys, 2);
  /* The 100th flushes that key at once, stamped when it arrived. */
  CHECK_EQ_INT(sl_batch_add(s, "tag", 1, PEER_A, NULL, T0 + 2500 * MS),
               SL_OK);
  CHECK_EQ_STR(last_row(s),
    "2025-12-03T10:15:02.500+00:00|" DEVICE "|batch_ingestion|data_flow|"
    "debug|Ingested batch of 100 records (60 entry, 40 tag)|"
    "{\"models\":{\"entry\":60,\"tag\":40}}|NULL|" PEER_A
    "|entry,tag|100|2500\n");
  CHECK_EQ_INT(count_rows(s), 1);
  sl_batch_memory(s, &keys);
  CHECK_EQ_INT(keys, 1); /* B's 99 still pending */
  /* One add past the size is one event, not split. */
  CHECK_EQ_INT(sl_batch_add(s, "entry", 250, PEER_A, NULL, T0 + 3 * SEC),
               SL_OK);
  CHECK_EQ_STR(last_row(s),
    "2025-12-03T10:15:03+00:00|" DEVICE "|batch_ingestion|data_flow|debug|"
    "Ingested batch of 250 records (250 entry)|{\"models\":{\"entry\":250}}"
    "|NULL|" PEER_A "|entry|250|0\n");
  CHECK_EQ_INT(count_rows(s), 2);
  CHECK_EQ_INT(sl_batch_add(s, "tag", 1, PEER_B, NULL, T0 + 4 * SEC), SL_OK);
  CHECK_EQ_STR(last_row(s),
    "2025-12-03T10:15:04+00:00|" DEVICE "|batch_ingestion|data_flow|debug|"
    "Ingested batch of 100 records (99 entry, 1 tag)|"
    "{\"models\":{\"entry\":99,\"tag\":1}}|NULL|" PEER_B
    "|entry,tag|100|3000\n");
  sl_batch_memory(s, &keys);
  CHECK_EQ_INT(keys, 0);
  done(s);
}

static void test_batch_grid_trigger(void) {
  sl_store *s = open_store(0, 1000000); /* the default 30 s */
  size_t keys = 0;
  CHECK_EQ_INT(sl_batch_add(s, "entry", 10, PEER_A, NULL, T0 + 250 * MS),
               SL_OK);
  CHECK_EQ_INT(sl_batch_add(s, "tag", 5, PEER_B, NULL, T0 + 10 * SEC),
               SL_OK);
  CHECK_EQ_INT(sl_batch_add(s, "entry", 5, PEER_A, NULL,
                            T0 + 30 * SEC + 249999999),
               SL_OK);
  /* The grid falls 30 s after the first pending record: 10:15:30.250. */
  CHECK_EQ_INT(sl_batch_tick(s, T0 + 30 * SEC + 249999999), SL_OK);
  CHECK_EQ_INT(count_rows(s), 0);
  /* At the grid instant exactly, every pending key goes, stamped there;
  ** each duration runs from its key's first record. */
  CHECK_EQ_INT(sl_batch_tick(s, T0 + 30 * SEC + 250 * MS), SL_OK);
  CHECK_EQ_INT(sl_store_flush(s), SL_OK);
  CHECK_EQ_STR(query(s, "SELECT " COLS " FROM sync_event_log ORDER BY"
                        " peer_device_id"),
    "2025-12-03T10:15:30.250+00:00|" DEVICE "|batch_ingestion|data_flow|"
    "debug|Ingested batch of 15 records (15 entry)|"
    "{\"models\":{\"entry\":15}}|NULL|" PEER_A "|entry|15|30000\n"
    "2025-12-03T10:15:30.250+00:00|" DEVICE "|batch_ingestion|data_flow|"
    "debug|Ingested batch of 5 records (5 tag)|{\"models\":{\"tag\":5}}|"
    "NULL|" PEER_B "|tag|5|20250\n");
  sl_batch_memory(s, &keys);
  CHECK_EQ_INT(keys, 0);

  /* A new batch starts a new grid from its first record (10:15:40). A
  ** record arriving after the grid instant first flushes the batch it
  ** owed, stamped at the grid instant (10:16:10), then starts the next. */
  CHECK_EQ_INT(sl_batch_add(s, "entry", 1, PEER_A, NULL, T0 + 40 * SEC),
               SL_OK);
  CHECK_EQ_INT(sl_batch_add(s, "entry", 2, PEER_A, NULL, T0 + 75 * SEC),
               SL_OK);
  CHECK_EQ_STR(last_row(s),
    "2025-12-03T10:16:10+00:00|" DEVICE "|batch_ingestion|data_flow|debug|"
    "Ingested batch of 1 records (1 entry)|{\"models\":{\"entry\":1}}|NULL|"
    PEER_A "|entry|1|30000\n");
  sl_batch_memory(s, &keys);
  CHECK_EQ_INT(keys, 1);
  /* A tick long after the grid: stamped at the first instant due
  ** (10:16:45), not at the tick. */
  CHECK_EQ_INT(sl_batch_tick(s, T0 + 600 * SEC), SL_OK);
  CHECK_EQ_STR(last_row(s),
    "2025-12-03T10:16:45+00:00|" DEVICE "|batch_ingestion|data_flow|debug|"
    "Ingested batch of 2 records (2 entry)|{\"models\":{\"entry\":2}}|NULL|"
    PEER_A "|entry|2|30000\n");
  CHECK_EQ_INT(count_rows(s), 4);
  sl_batch_memory(s, &keys);
  CHECK_EQ_INT(keys, 0);
  done(s);

  /* A smaller interval from the options. */
  s = open_store(5 * SEC, 1000000);
  CHECK_EQ_INT(sl_batch_add(s, "tag", 3, PEER_C, SESSION, T0), SL_OK);
  CHECK_EQ_INT(sl_batch_tick(s, T0 + 4 * SEC), SL_OK);
  CHECK_EQ_INT(count_rows(s), 0);
  CHECK_EQ_INT(sl_batch_add(s, "tag", 4, PEER_C, SESSION, T0 + 6 * SEC),
               SL_OK);
  CHECK_EQ_STR(last_row(s),
    "2025-12-03T10:15:05+00:00|" DEVICE "|batch_ingestion|data_flow|debug|"
    "Ingested batch of 3 records (3 tag)|{\"models\":{\"tag\":3}}|" SESSION
    "|" PEER_C "|tag|3|5000\n");
  done(s);
}

/* synclua.h: "the interval flush is checked on each call" -- a flush or a
** state transition arriving after a grid instant first writes the batch
** that instant owed, stamped there, as Spacedrive's 30 s task would have. */
static void test_batch_grid_before_flush(void) {
  sl_store *s = open_store(0, 1000000);
  CHECK_EQ_INT(sl_batch_add(s, "entry", 8, PEER_A, NULL, T0), SL_OK);
  CHECK_EQ_INT(sl_batch_flush_all(s, T0 + 45 * SEC), SL_OK);
  CHECK_EQ_STR(last_row(s),
    "2025-12-03T10:15:30+00:00|" DEVICE "|batch_ingestion|data_flow|debug|"
    "Ingested batch of 8 records (8 entry)|{\"models\":{\"entry\":8}}|NULL|"
    PEER_A "|entry|8|30000\n");
  done(s);

  s = open_store(0, 1000000);
  sl_state from, to;
  memset(&from, 0, sizeof from);
  memset(&to, 0, sizeof to);
  from.kind = SL_STATE_READY;
  to.kind = SL_STATE_PAUSED;
  CHECK_EQ_INT(sl_batch_add(s, "entry", 8, PEER_A, NULL, T0), SL_OK);
  CHECK_EQ_INT(sl_emit_state_transition(s, &from, &to, NULL, T0 + 45 * SEC),
               SL_OK);
  CHECK_EQ_INT(sl_store_flush(s), SL_OK);
  CHECK_EQ_STR(query(s, "SELECT id, timestamp, event_type, duration_ms FROM"
                        " sync_event_log ORDER BY id"),
    "1|2025-12-03T10:15:30+00:00|batch_ingestion|30000\n"
    "2|2025-12-03T10:15:45+00:00|state_transition|NULL\n");
  done(s);
}

static void test_batch_state_transition_flush(void) {
  sl_store *s = open_store(0, 1000000);
  size_t keys = 0;
  sl_state from, to;
  memset(&from, 0, sizeof from);
  memset(&to, 0, sizeof to);
  from.kind = SL_STATE_BACKFILLING;
  from.peer = PEER_A;
  from.progress = 100;
  to.kind = SL_STATE_CATCHING_UP;
  to.buffered_count = 0;
  CHECK_EQ_INT(sl_batch_add(s, "entry", 10, PEER_A, SESSION, T0), SL_OK);
  CHECK_EQ_INT(sl_batch_add(s, "tag", 3, PEER_B, NULL, T0 + SEC), SL_OK);
  CHECK_EQ_INT(sl_emit_state_transition(s, &from, &to,
                                        "transitioning to ready",
                                        T0 + 5 * SEC),
               SL_OK);
  sl_batch_memory(s, &keys);
  CHECK_EQ_INT(keys, 0);
  CHECK_EQ_INT(sl_store_flush(s), SL_OK);
  /* Both batches are logged before the transition that ended them, with
  ** the transition's instant. */
  CHECK_EQ_STR(query(s, "SELECT id, event_type FROM sync_event_log"
                        " ORDER BY id"),
    "1|batch_ingestion\n2|batch_ingestion\n3|state_transition\n");
  CHECK_EQ_STR(BATCH_ROWS(s),
    "2025-12-03T10:15:05+00:00|" DEVICE "|batch_ingestion|data_flow|debug|"
    "Ingested batch of 3 records (3 tag)|{\"models\":{\"tag\":3}}|NULL|"
    PEER_B "|tag|3|4000\n"
    "2025-12-03T10:15:05+00:00|" DEVICE "|batch_ingestion|data_flow|debug|"
    "Ingested batch of 10 records (10 entry)|{\"models\":{\"entry\":10}}|"
    SESSION "|" PEER_A "|entry|10|5000\n");
  CHECK_EQ_STR(query(s, "SELECT " COLS " FROM sync_event_log WHERE id = 3"),
    "2025-12-03T10:15:05+00:00|" DEVICE "|state_transition|lifecycle|info|"
    "Backfilling { peer: " PEER_A ", progress: 100 } \xe2\x86\x92 "
    "CatchingUp { buffered_count: 0 }|"
    "{\"reason\":\"transitioning to ready\"}|NULL|NULL|NULL|NULL|NULL\n");
  /* A transition with nothing pending writes only itself. */
  from = to;
  to.kind = SL_STATE_READY;
  CHECK_EQ_INT(sl_emit_state_transition(s, &from, &to, NULL, T0 + 6 * SEC),
               SL_OK);
  CHECK_EQ_INT(count_rows(s), 4);
  done(s);
}

static void test_batch_close(void) {
  /* close: pending batches end at the last instant the clock reached. */
  sl_store *s = open_store(0, 1000000);
  char path[256];
  snprintf(path, sizeof path, "%s", sl_store_path(s));
  CHECK_EQ_INT(sl_batch_add(s, "entry", 5, PEER_A, SESSION, T0), SL_OK);
  CHECK_EQ_INT(sl_batch_add(s, "tag", 6, PEER_A, SESSION, T0 + 12500 * MS),
               SL_OK);
  CHECK_EQ_INT(sl_batch_add(s, "entry", 1, PEER_B, NULL, T0 + 10 * SEC),
               SL_OK);
  CHECK_EQ_INT(sl_batch_tick(s, T0 + 20 * SEC), SL_OK);
  CHECK_EQ_INT(sl_store_close(s), SL_OK);
  CHECK_EQ_STR(query(s, "SELECT " COLS " FROM sync_event_log ORDER BY"
                        " record_count"),
    "2025-12-03T10:15:20+00:00|" DEVICE "|batch_ingestion|data_flow|debug|"
    "Ingested batch of 1 records (1 entry)|{\"models\":{\"entry\":1}}|NULL|"
    PEER_B "|entry|1|10000\n"
    "2025-12-03T10:15:20+00:00|" DEVICE "|batch_ingestion|data_flow|debug|"
    "Ingested batch of 11 records (6 tag, 5 entry)|"
    "{\"models\":{\"entry\":5,\"tag\":6}}|" SESSION "|" PEER_A
    "|tag,entry|11|20000\n");
  sl_store_release(s);

  /* The last release without a close flushes them too. */
  sl_open_opts o;
  memset(&o, 0, sizeof o);
  o.mode = SL_OPEN_WRITE;
  o.device_id = DEVICE;
  CHECK_EQ_INT(sl_store_open(path, &o, &s), SL_OK);
  CHECK_EQ_INT(sl_batch_add(s, "volume", 2, PEER_C, NULL, T0 + 60 * SEC),
               SL_OK);
  CHECK_EQ_INT(sl_batch_add(s, "volume", 2, PEER_C, NULL, T0 + 61 * SEC),
               SL_OK);
  sl_store_release(s);
  o.mode = SL_OPEN_READ;
  CHECK_EQ_INT(sl_store_open(path, &o, &s), SL_OK);
  CHECK_EQ_STR(query(s, "SELECT timestamp, summary, peer_device_id,"
                        " record_count, duration_ms FROM sync_event_log"
                        " WHERE peer_device_id = '" PEER_C "'"),
    "2025-12-03T10:16:01+00:00|Ingested batch of 4 records (4 volume)|"
    PEER_C "|4|1000\n");
  done(s);
}

static const char *const models10[10] = {
  "entry", "tag", "location", "volume", "device", "content_identity",
  "user_metadata", "collection", "label", "shared_resources"};

/* 100 peers x 10 models pending: the DESIGN.md bound of 100 KB. */
static void test_batch_memory(void) {
  sl_store *s = open_store(0, INT64_C(1) << 40);
  size_t keys = 9;
  size_t empty = sl_batch_memory(s, &keys);
  CHECK_EQ_INT(keys, 0);
  CHECK(empty > 0 && empty < 1024);
  size_t pending[2] = {0, 0}, after[2] = {0, 0};
  for (int round = 0; round < 2; round++) {
    int failed = 0;
    for (int p = 0; p < 100; p++) {
      char peer[SL_UUID_BUFSZ];
      snprintf(peer, sizeof peer, "00000000-0000-4000-8000-%012d", p);
      for (int m = 0; m < 10; m++)
        failed += sl_batch_add(s, models10[m], m + 1, peer, NULL,
                               T0 + round * 60 * SEC + p * MS) != SL_OK;
    }
    CHECK_EQ_INT(failed, 0);
    pending[round] = sl_batch_memory(s, &keys);
    CHECK_EQ_INT(keys, 100);
    CHECK(pending[round] <= 100 * 1024);
    CHECK_EQ_INT(sl_batch_flush_all(s, T0 + round * 60 * SEC + SEC), SL_OK);
    after[round] = sl_batch_memory(s, &keys);
    CHECK_EQ_INT(keys, 0);
    /* What stays is the key table and the 10 interned names: small. */
    CHECK(after[round] < 16 * 1024);
    CHECK(after[round] < pending[round] / 4);
  }
  /* A second identical round holds the same bytes: nothing leaks. */
  CHECK_EQ_INT(pending[1], pending[0]);
  CHECK_EQ_INT(after[1], after[0]);
  CHECK_EQ_INT(sl_store_flush(s), SL_OK);
  CHECK_EQ_STR(query(s, "SELECT count(*), sum(record_count), count(DISTINCT"
                        " peer_device_id) FROM sync_event_log"),
               "200|11000|100\n");
  CHECK_EQ_STR(query(s, "SELECT summary, details, model_types, duration_ms"
                        " FROM sync_event_log WHERE peer_device_id ="
                        " '00000000-0000-4000-8000-000000000042' AND"
                        " timestamp = '2025-12-03T10:15:01+00:00'"),
    "Ingested batch of 55 records across 10 model types|{\"models\":{"
    "\"collection\":8,\"content_identity\":6,\"device\":5,\"entry\":1,"
    "\"label\":9,\"location\":3,\"shared_resources\":10,\"tag\":2,"
    "\"user_metadata\":7,\"volume\":4}}|shared_resources,label,collection,"
    "user_metadata,content_identity,device,volume,location,tag,entry|958\n");
  printf("emit: aggregator memory, 100 peers x 10 models pending: %zu bytes;"
         " after flush: %zu bytes\n", pending[0], after[0]);
  done(s);
}

/* Another thread's failure, and the message it sees for it. */
typedef struct other_thread {
  sl_store *s;
  char      msg[128];
} other_thread;

static void *fail_elsewhere(void *arg) {
  other_thread *o = arg;
  sl_batch_add(o->s, "a,b", 1, NULL, NULL, T0);
  snprintf(o->msg, sizeof o->msg, "%s", sl_thread_errmsg());
  return NULL;
}

static void test_batch_misuse(void) {
  sl_store *s = open_store(0, 0);
  size_t keys = 9;
  CHECK_EQ_INT(sl_batch_add(s, NULL, 1, PEER_A, NULL, T0), SL_INVALID);
  CHECK_EQ_INT(sl_batch_add(s, "", 1, PEER_A, NULL, T0), SL_INVALID);
  CHECK_EQ_INT(sl_batch_add(s, "entry,tag", 1, PEER_A, NULL, T0), SL_INVALID);
  CHECK_EQ_INT(sl_batch_add(s, ",", 1, PEER_A, NULL, T0), SL_INVALID);
  CHECK_EQ_INT(sl_batch_add(s, "entry", -1, PEER_A, NULL, T0), SL_INVALID);
  /* synclua.h: a thread-safe call's message is the calling thread's own,
  ** and nothing on the store is written. */
  CHECK_EQ_STR(sl_thread_errmsg(), "count: negative (-1)");
  CHECK_EQ_STR(sl_store_errmsg(s), "");
  other_thread o = {s, ""};
  pthread_t t;
  CHECK_EQ_INT(pthread_create(&t, NULL, fail_elsewhere, &o), 0);
  pthread_join(t, NULL);
  CHECK_EQ_STR(o.msg, "model_type: a model type name without ',' expected");
  CHECK_EQ_STR(sl_thread_errmsg(), "count: negative (-1)");
  sl_batch_memory(s, &keys);
  CHECK_EQ_INT(keys, 0);
  CHECK_EQ_INT(sl_batch_flush_all(s, T0), SL_OK);
  CHECK_EQ_INT(count_rows(s), 0);
  done(s);
}

/* ------------------------------------------ records from many threads */

#define ADDERS 4
#define ADDS 20000

typedef struct adder {
  sl_store *s;
  int       id;
  int       failures;
} adder;

/* ADDS calls, counting 1..7 records each, over two peers and a long
** model name that does not fit a queue cell, in the thread's session. */
static void *add_many(void *arg) {
  adder *a = arg;
  char session[SL_UUID_BUFSZ];
  snprintf(session, sizeof session, "00000000-0000-4000-8000-%012d", a->id);
  for (int i = 0; i < ADDS; i++) {
    const char *model = i % 10 == 0
      ? "a_model_type_whose_name_is_far_longer_than_any_spacedrive_has_"
        "so_that_the_records_do_not_fit_the_queue_cell"
      : i % 2 ? "entry" : "tag";
    if (sl_batch_add(a->s, model, 1 + i % 7, i % 3 ? PEER_A : PEER_B,
                     session, 0) != SL_OK)
      a->failures++;
  }
  return NULL;
}

/* The records of four threads at once, in real time: every one counted
** once, in the key it was given. (A queue that holds them all: producers
** in a tight loop outrun any writer, and a full queue drops.) */
static void test_batch_threads(void) {
  sl_store *s;
  sl_open_opts o;
  memset(&o, 0, sizeof o);
  o.mode = SL_OPEN_WRITE;
  o.device_id = DEVICE;
  o.batch_records = 1000;
  o.queue_capacity = ADDERS * ADDS + 1;
  CHECK_EQ_INT(sl_store_open(path_of("threads.db"), &o, &s), SL_OK);
  adder a[ADDERS];
  pthread_t t[ADDERS];
  for (int i = 0; i < ADDERS; i++) {
    a[i] = (adder){s, i, 0};
    pthread_create(&t[i], NULL, add_many, &a[i]);
  }
  for (int i = 0; i < ADDERS; i++) pthread_join(t[i], NULL);
  int failures = 0;
  for (int i = 0; i < ADDERS; i++) failures += a[i].failures;
  CHECK_EQ_INT(failures, 0);
  CHECK_EQ_INT(sl_batch_flush_all(s, 0), SL_OK);
  CHECK_EQ_INT(sl_store_flush(s), SL_OK);
  /* Each thread's calls count sum(1 + i % 7) records. */
  int64_t per_thread = 0;
  for (int i = 0; i < ADDS; i++) per_thread += 1 + i % 7;
  char want[64];
  snprintf(want, sizeof want, "%lld|%d\n", (long long)per_thread * ADDERS,
           ADDERS);
  CHECK_EQ_STR(query(s, "SELECT sum(record_count), count(DISTINCT"
                        " correlation_id) FROM sync_event_log"), want);
  /* The long name's records: every tenth call, of each thread. */
  int64_t long_records = 0;
  for (int i = 0; i < ADDS; i += 10) long_records += 1 + i % 7;
  snprintf(want, sizeof want, "%lld\n", (long long)long_records * ADDERS);
  CHECK_EQ_STR(query(s, "SELECT sum(json_extract(details, '$.models.\"a_"
                        "model_type_whose_name_is_far_longer_than_any_"
                        "spacedrive_has_so_that_the_records_do_not_fit_the_"
                        "queue_cell\"')) FROM sync_event_log"), want);
  /* And peer B's: the calls with i % 3 == 0. */
  int64_t b_records = 0;
  for (int i = 0; i < ADDS; i += 3) b_records += 1 + i % 7;
  snprintf(want, sizeof want, "%lld\n", (long long)b_records * ADDERS);
  CHECK_EQ_STR(query(s, "SELECT sum(record_count) FROM sync_event_log"
                        " WHERE peer_device_id = '" PEER_B "'"), want);
  sl_stats st;
  sl_store_stats(s, &st);
  CHECK_EQ_INT(st.failed, 0);
  CHECK_EQ_INT(st.dropped, 0);
  CHECK_EQ_STR(query(s, "SELECT group_concat(event_type) FROM (SELECT"
                        " DISTINCT event_type FROM sync_event_log)"),
               "batch_ingestion\n");
  CHECK_EQ_INT((int64_t)st.appended, count_rows(s));
  done(s);
}

/* A full queue refuses records at once (dropped, counted, reported) and
** never blocks; a store without a device refuses them outright. */
static void test_batch_refused(void) {
  sl_store *s;
  sl_open_opts o;
  memset(&o, 0, sizeof o);
  o.mode = SL_OPEN_WRITE;
  o.device_id = DEVICE;
  o.queue_capacity = 4;
  o.busy_timeout_ms = 5;
  o.retry_budget = 60 * SL_NS_PER_SEC;
  CHECK_EQ_INT(sl_store_open(path_of("refused.db"), &o, &s), SL_OK);
  /* A lock holds the writer on an event: records aggregate without
  ** writing, so only a writer stuck in a write lets the queue fill. */
  sqlite3 *db;
  sqlite3_open(sl_store_path(s), &db);
  CHECK_EQ_INT(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL),
               SQLITE_OK);
  sl_event ev;
  memset(&ev, 0, sizeof ev);
  ev.event_type = "peer_connected";
  ev.summary = "held";
  CHECK_EQ_INT(sl_store_append(s, &ev), SL_OK);
  sl_stats st;
  sl_store_stats(s, &st);
  for (int waited = 0; st.retries == 0 && waited < 10000; waited++) {
    struct timespec ts = {0, 1000000L};
    nanosleep(&ts, NULL);
    sl_store_stats(s, &st);
  }
  CHECK(st.retries > 0);
  int ok = 0, full = 0;
  for (int i = 0; i < 50; i++) {
    int rc = sl_batch_add(s, "entry", 1, PEER_A, NULL, T0 + i * MS);
    ok += rc == SL_OK;
    full += rc == SL_FULL;
  }
  CHECK_EQ_INT(ok, 4);           /* the queue's capacity */
  CHECK_EQ_INT(full, 46);
  char msg[300];
  snprintf(msg, sizeof msg, "%s: the log's queue is full (dropped and "
           "counted)", sl_store_path(s));
  CHECK_EQ_STR(sl_thread_errmsg(), msg);
  /* A flush request is refused by a full queue too. */
  CHECK_EQ_INT(sl_batch_flush_all(s, T0 + SEC), SL_FULL);
  sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
  sqlite3_close(db);
  CHECK_EQ_INT(sl_store_flush(s), SL_OK);
  CHECK_EQ_INT(sl_batch_flush_all(s, T0 + SEC), SL_OK);
  CHECK_EQ_INT(sl_store_flush(s), SL_OK);
  full++;
  sl_store_stats(s, &st);
  CHECK_EQ_INT(st.dropped, (uint64_t)full);
  snprintf(msg, sizeof msg, "%d|%d\n", ok, full);
  CHECK_EQ_STR(query(s, "SELECT (SELECT sum(record_count) FROM sync_event_log"
                        " WHERE event_type = 'batch_ingestion'), (SELECT"
                        " sum(json_extract(details, '$.dropped_count')) FROM"
                        " sync_event_log WHERE event_type = 'sync_error')"),
               msg);
  done(s);

  memset(&o, 0, sizeof o);
  o.mode = SL_OPEN_WRITE;
  CHECK_EQ_INT(sl_store_open(path_of("no-device.db"), &o, &s), SL_OK);
  CHECK_EQ_INT(sl_batch_add(s, "entry", 1, PEER_A, NULL, T0), SL_INVALID);
  CHECK_EQ_STR(sl_thread_errmsg(), "device_id: the store has none, and "
                                   "batch events need one");
  done(s);
}

int main(void) {
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  test_state_write();
  test_peer_score();
  test_peer_select();
  test_emit_state_transition();
  test_emit_backfill_session();
  test_emit_catch_up_and_network();
  test_emit_sync_errors();
  test_emit_misuse();
  test_batch_keys_and_summaries();
  test_batch_size_trigger();
  test_batch_grid_trigger();
  test_batch_grid_before_flush();
  test_batch_state_transition_flush();
  test_batch_close();
  test_batch_memory();
  test_batch_misuse();
  test_batch_threads();
  test_batch_refused();
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
  return check_report("emit");
}
