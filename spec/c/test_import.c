/*
** test_import.c -- sl_store_insert, the synchronous bulk insert: all or
** nothing (a bad event in the middle, a failure inside SQLite halfway),
** duplicates within one call and against the store (rows in canonical form
** and rows other programs wrote in other forms), the rows exactly as the
** writer thread writes them, and refusals (read-only, closed, no device).
** And sl_import, the streaming insert over it: chunks held in a temporary
** file and written at commit, oldest first, duplicates skipped across
** chunks; a bad chunk, a full disk under the store or under the import's
** own file; misuse. And an export's text read by the core into an import
** (sl_import_add_text), committed into an empty store.
*/
#include <sqlite3.h>
#include <stdlib.h>

#include "check.h"
#include "vfs_shim.h"
#include <synclua/synclua.h>

#define DEVICE "11111111-2222-3333-4444-555555555555"
#define OTHER  "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"

static char dir[] = "/tmp/synclua-import-XXXXXX";

static const char *path_of(const char *name) {
  static char buf[256];
  snprintf(buf, sizeof buf, "%s/%s", dir, name);
  return buf;
}

static sl_event event(const char *ts, const char *summary) {
  sl_event ev;
  memset(&ev, 0, sizeof ev);
  ev.event_type = "state_transition";
  ev.summary = summary;
  ev.timestamp = ts;
  return ev;
}

/* Run SQL on the file with a connection of its own (as another program);
** the first column of the last row as text into out (if given). */
static int sql(const char *db_path, const char *text, char *out,
               size_t outsz) {
  sqlite3 *db;
  sqlite3_stmt *st;
  const char *tail = text;
  int ok = 1;
  if (out) out[0] = '\0';
  if (sqlite3_open(db_path, &db) != SQLITE_OK) return 0;
  while (ok && tail && *tail) {
    if (sqlite3_prepare_v2(db, tail, -1, &st, &tail) != SQLITE_OK) {
      ok = 0;
      break;
    }
    if (!st) break;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
      if (out)
        snprintf(out, outsz, "%s",
                 sqlite3_column_text(st, 0)
                   ? (const char *)sqlite3_column_text(st, 0) : "NULL");
    if (rc != SQLITE_DONE) ok = 0;
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return ok;
}

/* The integer the first column of `text` gives, -1 on failure. */
static int64_t scalar_in(const char *db_path, const char *text) {
  char n[32];
  if (!sql(db_path, text, n, sizeof n)) return -1;
  return atoll(n);
}

static int64_t rows(const char *db_path) {
  char n[32];
  if (!sql(db_path, "SELECT count(*) FROM sync_event_log", n, sizeof n))
    return -1;
  return atoll(n);
}

static sl_store *open_store(const char *name, const char *device) {
  sl_store *s = NULL;
  sl_open_opts o;
  memset(&o, 0, sizeof o);
  o.mode = SL_OPEN_WRITE;
  o.device_id = device;
  CHECK_EQ_INT(sl_store_open(path_of(name), &o, &s), SL_OK);
  return s;
}

/* A bad event anywhere refuses the whole call, naming its position. */
static void test_all_or_nothing(void) {
  sl_store *s = open_store("all.db", DEVICE);
  size_t in = 99, skip = 99;
  sl_event evs[3] = {event("2025-12-03T10:00:00Z", "one"),
                     event("2025-12-03T10:00:01Z", "two"),
                     event("2025-12-03T10:00:02Z", "three")};
  evs[1].event_type = "no_such_type";
  CHECK_EQ_INT(sl_store_insert(s, evs, 3, 1, &in, &skip), SL_INVALID);
  CHECK_EQ_STR(sl_store_errmsg(s),
               "event 2: Invalid event type: no_such_type (valid: "
               "state_transition, backfill_session_started, "
               "backfill_session_completed, backfill_session_failed, "
               "catch_up_session_started, catch_up_session_completed, "
               "batch_ingestion, backfill_request_sent, "
               "backfill_request_received, backfill_response_sent, "
               "peer_connected, peer_disconnected, sync_error)");
  CHECK_EQ_INT(in, 0);
  CHECK_EQ_INT(skip, 0);
  CHECK_EQ_INT(rows(path_of("all.db")), 0);

  evs[1].event_type = "state_transition";
  evs[2].timestamp = "yesterday";
  CHECK_EQ_INT(sl_store_insert(s, evs, 3, 0, &in, &skip), SL_INVALID);
  CHECK_EQ_STR(sl_store_errmsg(s),
               "event 3: timestamp: not RFC 3339: yesterday (e.g. "
               "'2025-12-03T10:15:00.123+00:00')");
  evs[2].timestamp = "2025-12-03T10:00:02Z";
  evs[0].details = "{\"a\":";
  CHECK_EQ_INT(sl_store_insert(s, evs, 3, 0, &in, &skip), SL_INVALID);
  CHECK_EQ_STR(sl_store_errmsg(s), "event 1: details: not JSON: unexpected "
                                   "end of input at line 1 column 6");
  CHECK_EQ_INT(rows(path_of("all.db")), 0);
  evs[0].details = NULL;

  /* A failure inside SQLite halfway (a trigger refusing the second row)
  ** rolls back the first. */
  CHECK(sql(path_of("all.db"),
            "CREATE TRIGGER refuse BEFORE INSERT ON sync_event_log "
            "WHEN NEW.summary = 'two' BEGIN SELECT RAISE(ABORT, 'no two'); "
            "END; INSERT INTO sync_event_log (timestamp, device_id, "
            "event_type, category, severity, summary) VALUES "
            "('2025-12-03T09:00:00Z', '" DEVICE "', 'state_transition', "
            "'lifecycle', 'info', 'foreign');", NULL, 0));
  CHECK_EQ_INT(sl_store_insert(s, evs, 3, 1, &in, &skip), SL_ERROR);
  CHECK(strstr(sl_store_errmsg(s), "insert: no two") != NULL);
  CHECK_EQ_INT(rows(path_of("all.db")), 1);
  /* What the store knew of its timestamps went back with the transaction
  ** (temp.sl_foreign included): queries by time still work. */
  sl_filter f;
  int64_t n = -1;
  sl_filter_init(&f);
  f.has_since = 1;
  f.since = 0;
  CHECK_EQ_INT(sl_count(s, &f, &n), SL_OK);
  CHECK_EQ_INT(n, 1);
  CHECK(sql(path_of("all.db"), "DROP TRIGGER refuse;", NULL, 0));

  /* Then the same events go in, and the store is usable as before. */
  CHECK_EQ_INT(sl_store_insert(s, evs, 3, 1, &in, &skip), SL_OK);
  CHECK_EQ_INT(in, 3);
  CHECK_EQ_INT(skip, 0);
  CHECK_EQ_INT(rows(path_of("all.db")), 4);
  sl_event ev = event(NULL, "appended");
  CHECK_EQ_INT(sl_store_append(s, &ev), SL_OK);
  CHECK_EQ_INT(sl_store_flush(s), SL_OK);
  CHECK_EQ_INT(rows(path_of("all.db")), 5);
  CHECK_EQ_INT(sl_count(s, &f, &n), SL_OK);
  CHECK_EQ_INT(n, 5);
  CHECK_EQ_INT(sl_store_insert(s, NULL, 0, 1, &in, &skip), SL_OK);
  CHECK_EQ_INT(in, 0);
  sl_store_close(s);
  sl_store_release(s);
}

/* Each row as the writer writes it. */
static void test_rows(void) {
  char got[512];
  sl_store *s = open_store("rows.db", NULL);
  sl_event ev = event("2025-12-03T12:00:00.5+02:00", "it's");
  ev.device_id = "AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE";
  ev.event_type = "batch_ingestion";
  ev.details = "{ \"z\": [1.50, 2], \"a\": {\"y\": null, \"b\": \"/\"} }";
  ev.correlation_id = "67E55044-10B1-426F-9247-BB680E5FE0C8";
  ev.peer_device_id = "not a uuid";
  ev.model_types = "entry,tag";
  ev.record_count = 300;
  ev.has_record_count = 1;
  sl_event bare = event(NULL, "no time, no models");
  bare.instant = INT64_C(1764756000123456000); /* 2025-12-03T10:00:00.123456 */
  bare.has_instant = 1;
  bare.device_id = DEVICE;
  bare.model_types = "";
  bare.severity = "error";
  sl_event evs[2] = {ev, bare};
  size_t in;
  CHECK_EQ_INT(sl_store_insert(s, evs, 2, 0, &in, NULL), SL_OK);
  CHECK_EQ_INT(in, 2);
  CHECK(sql(path_of("rows.db"),
            "SELECT timestamp || '|' || device_id || '|' || category || '|' "
            "|| severity || '|' || details || '|' || correlation_id || '|' "
            "|| peer_device_id || '|' || model_types || '|' || record_count "
            "|| '|' || coalesce(duration_ms, 'NULL') FROM sync_event_log "
            "WHERE id = 1", got, sizeof got));
  CHECK_EQ_STR(got, "2025-12-03T10:00:00.500+00:00|"
                    "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee|data_flow|debug|"
                    "{\"a\":{\"b\":\"/\",\"y\":null},\"z\":[1.5,2]}|"
                    "67e55044-10b1-426f-9247-bb680e5fe0c8|not a uuid|"
                    "entry,tag|300|NULL");
  CHECK(sql(path_of("rows.db"),
            "SELECT timestamp || '|' || device_id || '|' || category || '|' "
            "|| severity || '|' || coalesce(details, 'NULL') || '|' || "
            "coalesce(model_types, 'NULL') FROM sync_event_log WHERE id = 2",
            got, sizeof got));
  CHECK_EQ_STR(got, "2025-12-03T10:00:00.123456+00:00|" DEVICE
                    "|lifecycle|error|NULL|NULL");

  /* No device on the event and none on the store. */
  CHECK_EQ_INT(sl_store_insert(s, &evs[1], 1, 0, NULL, NULL), SL_OK);
  evs[1].device_id = NULL;
  CHECK_EQ_INT(sl_store_insert(s, evs, 2, 0, &in, NULL), SL_INVALID);
  CHECK_EQ_STR(sl_store_errmsg(s), "event 2: device_id: missing (give one, "
                                   "or open the store with a device_id)");
  CHECK_EQ_INT(rows(path_of("rows.db")), 3);
  sl_store_close(s);
  sl_store_release(s);
}

/* Same device, instant, type and summary: skipped, whatever the text. */
static void test_duplicates(void) {
  size_t in, skip;
  sl_store *s = open_store("dup.db", DEVICE);
  sl_event evs[6] = {
    event("2025-12-03T10:00:00Z", "a"),
    event("2025-12-03T12:00:00+02:00", "a"),       /* same instant as [0] */
    event("2025-12-03T10:00:00.000000001Z", "a"),  /* 1 ns later: new */
    event("2025-12-03T10:00:00Z", "b"),            /* other summary: new */
    event("2025-12-03T10:00:00Z", "a"),            /* other device: new */
    event("2025-12-03T10:00:00Z", "a"),            /* other type: new */
  };
  evs[4].device_id = OTHER;
  evs[5].event_type = "peer_connected";
  CHECK_EQ_INT(sl_store_insert(s, evs, 6, 1, &in, &skip), SL_OK);
  CHECK_EQ_INT(in, 5);
  CHECK_EQ_INT(skip, 1);
  CHECK_EQ_INT(rows(path_of("dup.db")), 5);

  /* Against the store: all of them again, the device given in capitals. */
  evs[4].device_id = "AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE";
  CHECK_EQ_INT(sl_store_insert(s, evs, 6, 1, &in, &skip), SL_OK);
  CHECK_EQ_INT(in, 0);
  CHECK_EQ_INT(skip, 6);
  CHECK_EQ_INT(rows(path_of("dup.db")), 5);

  /* Without skip_duplicates, everything goes in. */
  CHECK_EQ_INT(sl_store_insert(s, evs, 2, 0, &in, &skip), SL_OK);
  CHECK_EQ_INT(in, 2);
  CHECK_EQ_INT(skip, 0);
  CHECK_EQ_INT(rows(path_of("dup.db")), 7);

  /* Rows another program wrote in other forms ("Z", an offset, a short
  ** fraction, a device in capitals) are found by their instant. */
  CHECK(sql(path_of("dup.db"),
            "INSERT INTO sync_event_log (timestamp, device_id, event_type,"
            " category, severity, summary) VALUES"
            " ('2025-12-03T11:00:00.5Z', '" DEVICE "', 'state_transition',"
            "  'lifecycle', 'info', 'foreign'),"
            " ('2025-12-03T13:30:00.25+01:00', 'AAAAAAAA-BBBB-CCCC-DDDD-"
            "EEEEEEEEEEEE', 'state_transition', 'lifecycle', 'info', 'caps'),"
            " ('not a time', '" DEVICE "', 'state_transition', 'lifecycle',"
            "  'info', 'garbage');", NULL, 0));
  sl_event more[4] = {
    event("2025-12-03T11:00:00.500+00:00", "foreign"), /* stored as Z */
    event("2025-12-03T12:30:00.250Z", "caps"),         /* OTHER, capitals */
    event("2025-12-03T11:00:00.5Z", "foreign too"),    /* new summary */
    event("2025-12-03T10:00:00Z", "garbage"),          /* nothing to match */
  };
  more[1].device_id = OTHER;
  CHECK_EQ_INT(sl_store_insert(s, more, 4, 1, &in, &skip), SL_OK);
  CHECK_EQ_INT(in, 2);
  CHECK_EQ_INT(skip, 2);
  CHECK_EQ_INT(rows(path_of("dup.db")), 12);
  /* ... and twice in a row, the second call skips all four. */
  CHECK_EQ_INT(sl_store_insert(s, more, 4, 1, &in, &skip), SL_OK);
  CHECK_EQ_INT(in, 0);
  CHECK_EQ_INT(skip, 4);

  /* What queries see afterwards is right: the foreign rows still merge in
  ** by instant. */
  sl_filter f;
  sl_filter_init(&f);
  f.ascending = 1;
  f.limit = 3;
  sl_cursor *c;
  const sl_event *row;
  CHECK_EQ_INT(sl_query(s, &f, &c), SL_OK);
  CHECK_EQ_INT(sl_cursor_next(c, &row), SL_ROW);
  CHECK_EQ_STR(row->timestamp, "2025-12-03T10:00:00+00:00");
  sl_cursor_close(c);
  int64_t n;
  sl_filter_init(&f);
  f.has_since = 1;
  CHECK_EQ_INT(sl_time_parse_rfc3339("2025-12-03T11:00:00.5Z", 22,
                                     &f.since), SL_OK);
  CHECK_EQ_INT(sl_count(s, &f, &n), SL_OK);
  CHECK_EQ_INT(n, 3); /* foreign, foreign too, caps */
  sl_store_close(s);
  sl_store_release(s);
}

static void test_refusals(void) {
  size_t in = 7, skip = 7;
  sl_event ev = event("2025-12-03T10:00:00Z", "x");
  sl_store *s = open_store("ro.db", DEVICE);
  sl_store_close(s);
  sl_store_release(s);

  sl_open_opts o;
  memset(&o, 0, sizeof o); /* SL_OPEN_READ */
  CHECK_EQ_INT(sl_store_open(path_of("ro.db"), &o, &s), SL_OK);
  CHECK_EQ_INT(sl_store_insert(s, &ev, 1, 1, &in, &skip), SL_READONLY);
  char want[300];
  snprintf(want, sizeof want, "%s: opened read-only: cannot insert",
           path_of("ro.db"));
  CHECK_EQ_STR(sl_store_errmsg(s), want);
  CHECK_EQ_INT(in, 0);
  CHECK_EQ_INT(skip, 0);
  CHECK_EQ_INT(rows(path_of("ro.db")), 0);
  sl_store_close(s);
  CHECK_EQ_INT(sl_store_insert(s, &ev, 1, 1, &in, &skip), SL_MISUSE);
  CHECK_EQ_STR(sl_store_errmsg(s), "store is closed");
  sl_store_release(s);

  CHECK_EQ_INT(sl_store_insert(NULL, &ev, 1, 1, &in, &skip), SL_MISUSE);
  s = open_store("misuse.db", DEVICE);
  CHECK_EQ_INT(sl_store_insert(s, NULL, 1, 1, NULL, NULL), SL_MISUSE);
  sl_store_close(s);
  sl_store_release(s);
}

/* ------------------------------------------------------ streaming import */

/* The rows of a store, one "id|timestamp|device|type|summary" a line. */
static void rows_text(const char *db_path, char *out, size_t outsz) {
  sql(db_path, "SELECT group_concat(r, char(10)) FROM (SELECT id || '|' || "
               "timestamp || '|' || device_id || '|' || event_type || '|' || "
               "summary AS r FROM sync_event_log ORDER BY id)", out, outsz);
}

static sl_import *new_import(unsigned flags) {
  sl_import *im = NULL;
  CHECK_EQ_INT(sl_import_new(flags, &im), SL_OK);
  CHECK_EQ_STR(sl_import_errmsg(im), "");
  return im;
}

/* Chunks go in oldest first by instant (ties in the order added), as
** sl_store_insert writes rows; duplicates are skipped across chunks and
** against the store, whatever form the stored text has. */
static void test_stream_order_and_duplicates(void) {
  char got[2048];
  size_t in = 99, skip = 99;
  sl_store *s = open_store("stream.db", DEVICE);
  CHECK(sql(path_of("stream.db"),
            "INSERT INTO sync_event_log (timestamp, device_id, event_type,"
            " category, severity, summary) VALUES ('2025-12-03T10:00:05Z',"
            " '" DEVICE "', 'state_transition', 'lifecycle', 'info',"
            " 'stored');", NULL, 0));
  sl_import *im = new_import(SL_IMPORT_SKIP_DUPLICATES | SL_IMPORT_BY_TIME);
  /* An export's order, newest first, in two chunks. */
  sl_event a[3] = {event("2025-12-03T10:00:09Z", "nine"),
                   event("2025-12-03T10:00:07Z", "seven a"),
                   event("2025-12-03T10:00:07Z", "seven b")};
  sl_event b[4] = {event("2025-12-03T12:00:07+02:00", "seven a"), /* dup */
                   event("2025-12-03T10:00:05.000+00:00", "stored"), /* dup */
                   event("2025-12-03T10:00:03Z", "three"),
                   event("2025-12-03T10:00:09Z", "nine")};        /* dup */
  b[2].device_id = OTHER;
  CHECK_EQ_INT(sl_import_add(im, a, 3), SL_OK);
  CHECK_EQ_INT(sl_import_count(im), 3);
  CHECK_EQ_INT(sl_import_add(im, b, 4), SL_OK);
  CHECK_EQ_INT(sl_import_add(im, NULL, 0), SL_OK);
  CHECK_EQ_INT(sl_import_count(im), 7);
  CHECK_EQ_INT(rows(path_of("stream.db")), 1); /* nothing until commit */
  CHECK_EQ_INT(sl_import_commit(im, s, &in, &skip), SL_OK);
  CHECK_EQ_INT(in, 4);
  CHECK_EQ_INT(skip, 3);
  rows_text(path_of("stream.db"), got, sizeof got);
  CHECK_EQ_STR(got,
               "1|2025-12-03T10:00:05Z|" DEVICE "|state_transition|stored\n"
               "2|2025-12-03T10:00:03+00:00|" OTHER "|state_transition|three\n"
               "3|2025-12-03T10:00:07+00:00|" DEVICE "|state_transition|"
               "seven a\n"
               "4|2025-12-03T10:00:07+00:00|" DEVICE "|state_transition|"
               "seven b\n"
               "5|2025-12-03T10:00:09+00:00|" DEVICE "|state_transition|nine");
  /* Committed: it takes nothing more. */
  CHECK_EQ_INT(sl_import_add(im, a, 1), SL_MISUSE);
  CHECK_EQ_STR(sl_import_errmsg(im), "import: already committed");
  CHECK_EQ_INT(sl_import_commit(im, s, &in, &skip), SL_MISUSE);
  CHECK_EQ_INT(in, 0);
  sl_import_free(im);

  /* The same events again: all skipped. In the order added, without
  ** skipping: all written, as given. */
  im = new_import(SL_IMPORT_SKIP_DUPLICATES);
  CHECK_EQ_INT(sl_import_add(im, a, 3), SL_OK);
  CHECK_EQ_INT(sl_import_commit(im, s, &in, &skip), SL_OK);
  CHECK_EQ_INT(in, 0);
  CHECK_EQ_INT(skip, 3);
  sl_import_free(im);
  im = new_import(0);
  CHECK_EQ_INT(sl_import_add(im, a, 2), SL_OK);
  CHECK_EQ_INT(sl_import_commit(im, s, &in, &skip), SL_OK);
  CHECK_EQ_INT(in, 2);
  CHECK_EQ_INT(skip, 0);
  sl_import_free(im);
  CHECK(sql(path_of("stream.db"), "SELECT group_concat(summary, ',') FROM "
            "(SELECT summary FROM sync_event_log WHERE id > 5 ORDER BY id)",
            got, sizeof got));
  CHECK_EQ_STR(got, "nine,seven a");
  sl_store_close(s);
  sl_store_release(s);
}

/* The rows an import writes are the rows sl_store_insert writes. */
static void test_stream_rows_as_insert(void) {
  char by_insert[1024], by_import[1024];
  static const char cols[] =
    "SELECT group_concat(r, char(10)) FROM (SELECT id || '|' || timestamp "
    "|| '|' || device_id || '|' || category || '|' || severity || '|' || "
    "summary || '|' || coalesce(details, 'NULL') || '|' || "
    "coalesce(correlation_id, 'NULL') || '|' || coalesce(peer_device_id, "
    "'NULL') || '|' || coalesce(model_types, 'NULL') || '|' || "
    "coalesce(record_count, 'NULL') || '|' || coalesce(duration_ms, 'NULL') "
    "AS r FROM sync_event_log ORDER BY id)";
  sl_event evs[3] = {event("2025-12-03T12:00:00.5+02:00", "it's"),
                     event(NULL, "no time, no models"),
                     event("2016-12-31T23:59:60.5Z", "leap")};
  evs[0].device_id = "AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE";
  evs[0].event_type = "batch_ingestion";
  evs[0].details = "{ \"z\": [1.50, 2], \"a\": {\"y\": null, \"b\": \"/\"} }";
  evs[0].correlation_id = "67E55044-10B1-426F-9247-BB680E5FE0C8";
  evs[0].peer_device_id = "not a uuid";
  evs[0].model_types = "entry,tag";
  evs[0].record_count = -1;
  evs[0].has_record_count = 1;
  evs[0].duration_ms = 7;
  evs[0].has_duration_ms = 1;
  evs[1].instant = INT64_C(1764756000123456000);
  evs[1].has_instant = 1;
  evs[1].model_types = "";
  evs[1].severity = "error";
  evs[2].summary = "nul \0 inside";
  evs[2].len[SL_COL_SUMMARY] = 12;
  sl_store *s = open_store("rows_insert.db", "AAAAAAAA-0000-4000-8000-"
                                             "000000000000");
  CHECK_EQ_INT(sl_store_insert(s, evs, 3, 0, NULL, NULL), SL_OK);
  sl_store_close(s);
  sl_store_release(s);
  s = open_store("rows_import.db", "AAAAAAAA-0000-4000-8000-000000000000");
  sl_import *im = new_import(0);
  CHECK_EQ_INT(sl_import_add(im, evs, 1), SL_OK);
  CHECK_EQ_INT(sl_import_add(im, evs + 1, 2), SL_OK);
  CHECK_EQ_INT(sl_import_commit(im, s, NULL, NULL), SL_OK);
  sl_import_free(im);
  sl_store_close(s);
  sl_store_release(s);
  CHECK(sql(path_of("rows_insert.db"), cols, by_insert, sizeof by_insert));
  CHECK(sql(path_of("rows_import.db"), cols, by_import, sizeof by_import));
  CHECK_EQ_STR(by_import, by_insert);
  CHECK_EQ_STR(by_import,
               "1|2025-12-03T10:00:00.500+00:00|"
               "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee|data_flow|debug|it's|"
               "{\"a\":{\"b\":\"/\",\"y\":null},\"z\":[1.5,2]}|"
               "67e55044-10b1-426f-9247-bb680e5fe0c8|not a uuid|entry,tag|"
               "-1|7\n"
               "2|2025-12-03T10:00:00.123456+00:00|"
               "aaaaaaaa-0000-4000-8000-000000000000|lifecycle|error|"
               "no time, no models|NULL|NULL|NULL|NULL|NULL|NULL\n"
               "3|2016-12-31T23:59:60.500+00:00|"
               "aaaaaaaa-0000-4000-8000-000000000000|lifecycle|info|nul ");
  CHECK_EQ_INT(scalar_in(path_of("rows_import.db"),
                         "SELECT length(CAST(summary AS BLOB)) FROM "
                         "sync_event_log WHERE id = 3"), 12);
}

/* A bad event refuses its chunk (nothing of it kept: the events before
** it in the chunk go too) and names its place among all the events added;
** the import goes on. Freed without commit, nothing reaches the store. */
static void test_stream_bad_chunk(void) {
  char got[1024];
  size_t in, skip;
  sl_store *s = open_store("bad_chunk.db", DEVICE);
  sl_import *im = new_import(SL_IMPORT_BY_TIME);
  sl_event a[2] = {event("2025-12-03T10:00:01Z", "one"),
                   event("2025-12-03T10:00:02Z", "two")};
  sl_event b[3] = {event("2025-12-03T10:00:03Z", "three"),
                   event("2025-12-03T10:00:04Z", "four"),
                   event("2025-12-03T10:00:05Z", "five")};
  CHECK_EQ_INT(sl_import_add(im, a, 2), SL_OK);
  b[2].severity = "loud";
  CHECK_EQ_INT(sl_import_add(im, b, 3), SL_INVALID);
  CHECK_EQ_STR(sl_import_errmsg(im), "event 5: Invalid severity: loud "
                                     "(valid: debug, info, warning, error)");
  CHECK_EQ_INT(sl_import_count(im), 2);
  b[2].severity = NULL;
  b[0].details = "{\"a\":";
  CHECK_EQ_INT(sl_import_add(im, b, 3), SL_INVALID);
  CHECK_EQ_STR(sl_import_errmsg(im), "event 3: details: not JSON: "
                                     "unexpected end of input at line 1 "
                                     "column 6");
  b[0].details = NULL;
  b[1].timestamp = "today";
  CHECK_EQ_INT(sl_import_add(im, b, 3), SL_INVALID);
  CHECK_EQ_STR(sl_import_errmsg(im), "event 4: timestamp: not RFC 3339: "
                                     "today (e.g. "
                                     "'2025-12-03T10:15:00.123+00:00')");
  /* Given up on: the store never sees a row. */
  sl_import_free(im);
  CHECK_EQ_INT(rows(path_of("bad_chunk.db")), 0);

  /* Going on after a refused chunk: what was kept is written. */
  im = new_import(SL_IMPORT_BY_TIME);
  CHECK_EQ_INT(sl_import_add(im, a, 2), SL_OK);
  CHECK_EQ_INT(sl_import_add(im, b, 3), SL_INVALID);
  b[1].timestamp = "2025-12-03T10:00:00Z";
  CHECK_EQ_INT(sl_import_add(im, b, 2), SL_OK);
  CHECK_EQ_INT(sl_import_commit(im, s, &in, &skip), SL_OK);
  CHECK_EQ_INT(in, 4);
  sl_import_free(im);
  CHECK(sql(path_of("bad_chunk.db"), "SELECT group_concat(summary, ',') "
            "FROM (SELECT summary FROM sync_event_log ORDER BY id)", got,
            sizeof got));
  CHECK_EQ_STR(got, "four,one,two,three");
  sl_store_close(s);
  sl_store_release(s);
}

/* Writes that fail while `failing` names the file: SQLITE_FULL, as a full
** disk gives. "" is a temporary file (the import's own). */
static const char *failing;

static int full_for(const char *name) {
  const char *f = failing;
  if (!f) return SQLITE_OK;
  if (!*f) return *name ? SQLITE_OK : SQLITE_FULL;
  return strstr(name, f) ? SQLITE_FULL : SQLITE_OK;
}

/* A full disk under the store at commit: SL_IOERR with SQLite's reason,
** nothing written, the events still held; commit again once there is
** room. A full disk under the import's own file: SL_IOERR, and the import
** is done. */
static void test_stream_full_disk(void) {
  char want[400];
  size_t in = 9, skip = 9;
  vfs_shim_install(full_for);
  sl_store *s = open_store("full_store.db", DEVICE);
  sl_import *im = new_import(SL_IMPORT_SKIP_DUPLICATES | SL_IMPORT_BY_TIME);
  sl_event evs[2] = {event("2025-12-03T10:00:01Z", "one"),
                     event("2025-12-03T10:00:02Z", "two")};
  CHECK_EQ_INT(sl_import_add(im, evs, 2), SL_OK);
  failing = "full_store.db";
  CHECK_EQ_INT(sl_import_commit(im, s, &in, &skip), SL_IOERR);
  snprintf(want, sizeof want, "%s: insert: database or disk is full",
           path_of("full_store.db"));
  CHECK_EQ_STR(sl_import_errmsg(im), want);
  CHECK_EQ_STR(sl_store_errmsg(s), want);
  CHECK_EQ_INT(in, 0);
  CHECK_EQ_INT(skip, 0);
  failing = NULL;
  CHECK_EQ_INT(rows(path_of("full_store.db")), 0);
  CHECK_EQ_INT(sl_import_commit(im, s, &in, &skip), SL_OK);
  CHECK_EQ_INT(in, 2);
  CHECK_EQ_INT(rows(path_of("full_store.db")), 2);
  sl_import_free(im);

  /* The import's own file: enough events to spill past SQLite's cache. */
  enum { N = 20000 };
  static char summaries[N][48];
  sl_event *many = calloc(N, sizeof *many);
  CHECK(many != NULL);
  for (int i = 0; many && i < N; i++) {
    snprintf(summaries[i], sizeof summaries[i], "event %d of a long run, "
             "to fill pages", i);
    many[i] = event("2025-12-03T11:00:00Z", summaries[i]);
  }
  im = new_import(0);
  failing = "";
  int rc = SL_OK;
  for (int i = 0; many && i < N && rc == SL_OK; i += 1000)
    rc = sl_import_add(im, many + i, 1000);
  failing = NULL;
  CHECK_EQ_INT(rc, SL_IOERR);
  CHECK_EQ_STR(sl_import_errmsg(im), "the import's temporary file: "
                                     "database or disk is full "
                                     "(SQLITE_TMPDIR or TMPDIR chooses its "
                                     "folder)");
  CHECK_EQ_INT(sl_import_add(im, evs, 1), SL_MISUSE);
  CHECK_EQ_INT(sl_import_commit(im, s, &in, &skip), SL_MISUSE);
  CHECK_EQ_STR(sl_import_errmsg(im), "import: unusable after a failure: "
                                     "the import's temporary file: database "
                                     "or disk is full (SQLITE_TMPDIR or "
                                     "TMPDIR chooses its folder)");
  sl_import_free(im);
  free(many);
  CHECK_EQ_INT(rows(path_of("full_store.db")), 2);
  sl_store_close(s);
  sl_store_release(s);
  vfs_shim_remove();
}

static void test_stream_refusals(void) {
  char want[300];
  size_t in = 7, skip = 7;
  sl_import *im = NULL;
  sl_event ev = event("2025-12-03T10:00:00Z", "x");
  CHECK_EQ_INT(sl_import_new(0, NULL), SL_MISUSE);
  CHECK_EQ_INT(sl_import_new(4, &im), SL_MISUSE);
  CHECK_EQ_STR(sl_import_errmsg(im), "import: unknown flags 0x4");
  sl_import_free(im);
  sl_import_free(NULL);
  CHECK_EQ_STR(sl_import_errmsg(NULL), "out of memory");
  CHECK_EQ_INT(sl_import_count(NULL), 0);
  CHECK_EQ_INT(sl_import_add(NULL, &ev, 1), SL_MISUSE);
  CHECK_EQ_INT(sl_import_commit(NULL, NULL, &in, &skip), SL_MISUSE);

  im = new_import(0);
  CHECK_EQ_INT(sl_import_add(im, NULL, 1), SL_MISUSE);
  CHECK_EQ_STR(sl_import_errmsg(im), "import: no events");
  CHECK_EQ_INT(sl_import_add(im, &ev, 1), SL_OK);
  CHECK_EQ_INT(sl_import_commit(im, NULL, &in, &skip), SL_MISUSE);
  CHECK_EQ_STR(sl_import_errmsg(im), "import: no store");

  /* A store without a device, for an event without one. */
  sl_store *s = open_store("no_device.db", NULL);
  CHECK_EQ_INT(sl_import_commit(im, s, &in, &skip), SL_INVALID);
  CHECK_EQ_STR(sl_import_errmsg(im), "event 1: device_id: missing (give "
                                     "one, or open the store with a "
                                     "device_id)");
  CHECK_EQ_STR(sl_store_errmsg(s), sl_import_errmsg(im));
  sl_store_close(s);
  sl_store_release(s);

  /* Read-only, then closed. */
  sl_open_opts o;
  memset(&o, 0, sizeof o);
  CHECK_EQ_INT(sl_store_open(path_of("no_device.db"), &o, &s), SL_OK);
  CHECK_EQ_INT(sl_import_commit(im, s, &in, &skip), SL_READONLY);
  snprintf(want, sizeof want, "%s: opened read-only: cannot insert",
           path_of("no_device.db"));
  CHECK_EQ_STR(sl_import_errmsg(im), want);
  sl_store_close(s);
  CHECK_EQ_INT(sl_import_commit(im, s, &in, &skip), SL_MISUSE);
  CHECK_EQ_STR(sl_import_errmsg(im), "store is closed");
  CHECK_EQ_INT(in, 0);
  CHECK_EQ_INT(skip, 0);
  sl_store_release(s);
  CHECK_EQ_INT(rows(path_of("no_device.db")), 0);
  sl_import_free(im);
}

/* An export's text read by the core: the events before the first thing
** it does not take, and where they end; oldest first at commit whether
** the text was newest first or oldest first; into an empty store (a bulk
** load) with every index made again. */
static void test_stream_text(void) {
  char got[2048];
  size_t used = 99, added = 99, in, skip;
  static const char nd[] =
    "{\"device_id\":\"" DEVICE "\",\"event_type\":\"state_transition\","
    "\"summary\":\"c\",\"timestamp\":\"2025-12-03T10:00:03Z\"}\n"
    "\n"
    "{\"event_type\":\"state_transition\",\"summary\":\"b\","
    "\"timestamp\":\"2025-12-03T10:00:02Z\"}\n"
    "{\"event_type\":\"state_transition\",\"summary\":\"x\","
    "\"timestamp\":\"2025-12-03T10:00:01Z\",\"bogus\":1}\n";
  static const char ins[] =
    "INSERT INTO sync_event_log (timestamp, device_id, event_type, category,"
    " severity, summary, details, correlation_id, peer_device_id,"
    " model_types, record_count, duration_ms) VALUES"
    " ('2025-12-03T10:00:01+00:00', '" DEVICE "', 'state_transition',"
    " 'lifecycle', 'info', 'a', '{\"k\": 1}', NULL, NULL, 'x,y', 7, NULL);";
  static const char csv[] =
    "0,2025-12-03T10:00:04Z," DEVICE ",state_transition,lifecycle,info,"
    "\"d, \"\"q\"\"\",,,,,,\n"
    "0,2025-12-03T10:00:05Z," DEVICE ",state_transition,lifecycle,info,e,,,,"
    ",,";
  sl_import *im = new_import(SL_IMPORT_SKIP_DUPLICATES | SL_IMPORT_BY_TIME);
  const char *bad_line = strstr(nd, "{\"event_type\":\"state_transition\","
                                    "\"summary\":\"x\"");
  /* Without a device for "b": the first line only, and the blank one
  ** after it. */
  CHECK_EQ_INT(sl_import_add_text(im, SL_IMPORT_NDJSON, nd, strlen(nd), NULL,
                                  &used, &added), SL_OK);
  CHECK_EQ_INT(added, 1);
  CHECK_EQ_INT(used, strchr(nd, '\n') + 2 - nd);
  size_t first = used;
  CHECK_EQ_INT(sl_import_add_text(im, SL_IMPORT_NDJSON, nd + first,
                                  strlen(nd + first), DEVICE, &used, &added),
               SL_OK);
  CHECK_EQ_INT(added, 1);  /* "b"; not the bogus field */
  CHECK_EQ_INT(first + used, bad_line - nd);
  /* An INSERT, then what is not one. */
  char text[1024];
  snprintf(text, sizeof text, "%s\n%s\nCOMMIT;\n", ins, ins);
  CHECK_EQ_INT(sl_import_add_text(im, SL_IMPORT_SQL, text, strlen(ins), NULL,
                                  &used, &added), SL_OK);
  CHECK_EQ_INT(added, 1);
  CHECK_EQ_INT(used, strlen(ins));
  /* A record without its line break is left to the caller. */
  CHECK_EQ_INT(sl_import_add_text(im, SL_IMPORT_CSV, csv, strlen(csv), NULL,
                                  &used, &added), SL_OK);
  CHECK_EQ_INT(added, 1);
  CHECK_EQ_INT(used, strchr(csv, '\n') + 1 - csv);
  CHECK_EQ_INT(sl_import_count(im), 4);
  CHECK_EQ_INT(sl_import_add_text(im, 0, "", 0, NULL, &used, &added),
               SL_MISUSE);
  CHECK_EQ_INT(sl_import_add_text(NULL, SL_IMPORT_SQL, "", 0, NULL, &used,
                                  &added), SL_MISUSE);
  CHECK_EQ_INT(used, 0);
  CHECK_EQ_INT(added, 0);

  sl_store *s = open_store("text.db", NULL);
  static const char indexes[] =
    "SELECT group_concat(sql, char(10)) FROM (SELECT sql FROM sqlite_master"
    " WHERE type = 'index' ORDER BY rowid)";
  char before[2048], after[2048];
  CHECK(sql(path_of("text.db"), indexes, before, sizeof before));
  CHECK_EQ_INT(sl_import_commit(im, s, &in, &skip), SL_OK);
  CHECK_EQ_INT(in, 4);
  CHECK_EQ_INT(skip, 0);
  rows_text(path_of("text.db"), got, sizeof got);
  CHECK_EQ_STR(got,
               "1|2025-12-03T10:00:01+00:00|" DEVICE "|state_transition|a\n"
               "2|2025-12-03T10:00:02+00:00|" DEVICE "|state_transition|b\n"
               "3|2025-12-03T10:00:03+00:00|" DEVICE "|state_transition|c\n"
               "4|2025-12-03T10:00:04+00:00|" DEVICE "|state_transition|"
               "d, \"q\"");
  CHECK(sql(path_of("text.db"), "SELECT details || model_types || "
            "record_count FROM sync_event_log WHERE id = 1", got,
            sizeof got));
  CHECK_EQ_STR(got, "{\"k\":1}x,y7");
  CHECK(sql(path_of("text.db"), indexes, after, sizeof after));
  CHECK_EQ_STR(after, before);
  CHECK(strstr(after, "idx_sync_event_log_type_time") != NULL);
  CHECK(sql(path_of("text.db"), "PRAGMA integrity_check", got, sizeof got));
  CHECK_EQ_STR(got, "ok");
  sl_import_free(im);
  sl_store_close(s);
  sl_store_release(s);
}

/* An empty store another program made (Spacedrive's table and five
** indexes) keeps its schema objects: its indexes are neither dropped nor
** made again, their pages where they were. */
static void test_foreign_store_kept(void) {
  static const char pages[] =
    "SELECT group_concat(name || ':' || rootpage, ' ') FROM (SELECT name,"
    " rootpage FROM sqlite_master ORDER BY rowid)";
  char before[1024], after[1024], got[64];
  size_t in, skip;
  CHECK(sql(path_of("foreign.db"), sl_spacedrive_ddl(), NULL, 0));
  CHECK(sql(path_of("foreign.db"), pages, before, sizeof before));
  sl_import *im = new_import(SL_IMPORT_BY_TIME);
  sl_event ev[2];
  for (int i = 0; i < 2; i++) {
    memset(&ev[i], 0, sizeof ev[i]);
    ev[i].event_type = "state_transition";
    ev[i].summary = i ? "b" : "a";
    ev[i].device_id = DEVICE;
    ev[i].instant = INT64_C(1764756000000000000) + i;
    ev[i].has_instant = 1;
  }
  CHECK_EQ_INT(sl_import_add(im, ev, 2), SL_OK);
  sl_store *s = open_store("foreign.db", NULL);
  CHECK_EQ_INT(sl_import_commit(im, s, &in, &skip), SL_OK);
  CHECK_EQ_INT(in, 2);
  sl_import_free(im);
  sl_store_close(s);
  sl_store_release(s);
  CHECK(sql(path_of("foreign.db"), pages, after, sizeof after));
  CHECK_EQ_STR(after, before);
  CHECK(sql(path_of("foreign.db"), "SELECT count(*) FROM sync_event_log",
            got, sizeof got));
  CHECK_EQ_STR(got, "2");
}

int main(void) {
  if (!mkdtemp(dir)) return 2;
  test_all_or_nothing();
  test_rows();
  test_duplicates();
  test_refusals();
  test_stream_order_and_duplicates();
  test_stream_rows_as_insert();
  test_stream_bad_chunk();
  test_stream_full_disk();
  test_stream_refusals();
  test_stream_text();
  test_foreign_store_kept();
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
  return check_report("import");
}
