/*
** test_import.c -- sl_store_insert, the synchronous bulk insert: all or
** nothing (a bad event in the middle, a failure inside SQLite halfway),
** duplicates within one call and against the store (rows in canonical form
** and rows other programs wrote in other forms), the rows exactly as the
** writer thread writes them, and refusals (read-only, closed, no device).
*/
#include <sqlite3.h>
#include <stdlib.h>

#include "check.h"
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

int main(void) {
  if (!mkdtemp(dir)) return 2;
  test_all_or_nothing();
  test_rows();
  test_duplicates();
  test_refusals();
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
  return check_report("import");
}
