/*
** test_bad_rows.c -- the C driver's checks of rows other programs stored
** that Spacedrive's reader could not read (spacedrive-compat.md 10.1):
** NULL where the table forbids it, text or a real in an integer column, a
** blob in a text column, ill-formed UTF-8, names that are no type,
** category or severity. A cursor hands each out read leniently and flags
** it (sl_event.bad, sl_cursor_bad_rows); every export format then writes
** exact, valid bytes. The store counts each bad row once, however many
** queries read it (sl_store_bad_rows), up to its cap. Also: a file that
** fails under a query says so in the store's own words.
*/
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include <synclua/json.h>

#define DEV  "2f1a8f8e-0c3b-4d52-9d0e-5b1c2a3d4e5f"
#define CORR "67e55044-10b1-426f-9247-bb680e5fe0c8"
#define FFFD "\xef\xbf\xbd"

static char dir[] = "/tmp/synclua-bad-rows-XXXXXX";
static sl_buf out;

static const char *path_of(const char *name) {
  static char buf[256];
  snprintf(buf, sizeof buf, "%s/%s", dir, name);
  return buf;
}

/* Spacedrive's table without its NOT NULL constraints, as another program
** may have made it, and its five indexes. */
static const char ddl[] =
  "CREATE TABLE sync_event_log (id INTEGER PRIMARY KEY AUTOINCREMENT,"
  " timestamp TEXT, device_id TEXT, event_type TEXT, category TEXT,"
  " severity TEXT, summary TEXT, details TEXT, correlation_id TEXT,"
  " peer_device_id TEXT, model_types TEXT, record_count INTEGER,"
  " duration_ms INTEGER);"
  "CREATE INDEX idx_sync_event_log_timestamp ON sync_event_log(timestamp);"
  "CREATE INDEX idx_sync_event_log_device ON sync_event_log(device_id);"
  "CREATE INDEX idx_sync_event_log_type ON sync_event_log(event_type);"
  "CREATE INDEX idx_sync_event_log_correlation ON "
  "sync_event_log(correlation_id);"
  "CREATE INDEX idx_sync_event_log_peer ON sync_event_log(peer_device_id);";

/* One row a second from 10:00:00, the columns not given as a good
** state_transition's. `cols` and `vals` are SQL lists of the same length. */
static const char *row(int second, const char *cols, const char *vals) {
  static char sql[1024];
  snprintf(sql, sizeof sql,
           "INSERT INTO sync_event_log (timestamp, device_id, event_type,"
           " category, severity, summary) VALUES ("
           "'2025-12-03T10:00:%02d+00:00', '" DEV "', 'state_transition',"
           " 'lifecycle', 'info', 'row %d');"
           "UPDATE sync_event_log SET (%s) = (SELECT %s)"
           " WHERE id = last_insert_rowid();",
           second, second, cols, vals);
  return sql;
}

/* The rows, oldest first; ROWS[i] is the row with id i + 1. */
static const char *const ROWS[][2] = {
  {"summary", "'a good row'"},                                  /* 1 */
  {"summary", "NULL"},                                          /* 2 */
  {"record_count, duration_ms", "'many', 'x'"},                 /* 3 */
  {"record_count, duration_ms", "2.5, 7"},                      /* 4 */
  {"summary", "CAST(X'62616420ff' AS TEXT)"},                   /* 5 */
  {"details, correlation_id, peer_device_id, model_types",
   "CAST(X'7b2261223a2262ff227d' AS TEXT),"
   " CAST(X'ff" "6e6f74' AS TEXT), X'00', CAST(X'61ff2c62' AS TEXT)"}, /* 6 */
  {"event_type, category, severity", "'Exploded', 'misc', 'WARN'"}, /* 7 */
  {"device_id, event_type, category, severity",
   "NULL, NULL, NULL, NULL"},                                   /* 8 */
  {"summary, device_id", "X'6869', X'3432'"},                   /* 9 */
  {"correlation_id, details", "'" CORR "', '{\"b\":1,\"a\":2}'"}, /* 10 */
  {"correlation_id, peer_device_id, record_count, duration_ms",
   "'{67E55044-10B1-426F-9247-BB680E5FE0C8}', 'urn:uuid:" CORR "', -1,"
   " 0"},                                                       /* 11 */
  {"correlation_id, peer_device_id",
   "'not-a-uuid', 'URN:UUID:" CORR "'"},                         /* 12 */
};
#define NROWS (sizeof ROWS / sizeof *ROWS)

static void make_store(const char *path) {
  sqlite3 *db;
  CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
  CHECK_EQ_INT(sqlite3_exec(db, ddl, NULL, NULL, NULL), SQLITE_OK);
  for (size_t i = 0; i < NROWS; i++)
    CHECK_EQ_INT(sqlite3_exec(db, row((int)i, ROWS[i][0], ROWS[i][1]), NULL,
                              NULL, NULL),
                 SQLITE_OK);
  /* A NULL timestamp: read as "", its time unknown (it comes last). */
  CHECK_EQ_INT(sqlite3_exec(db,
                            "INSERT INTO sync_event_log (timestamp, device_id,"
                            " event_type, category, severity, summary) VALUES"
                            " (NULL, '" DEV "', 'state_transition',"
                            " 'lifecycle', 'info', 'no time')",
                            NULL, NULL, NULL),
               SQLITE_OK);
  sqlite3_close(db);
}

/* The rows of the store, oldest first: each rendered in `format`, and its
** bad columns. */
typedef struct read_rows {
  char    *text[NROWS + 1];
  unsigned bad[NROWS + 1];
  size_t   n;
  sl_bad_rows tally;
} read_rows;

static void read_all(sl_store *s, int format, read_rows *r) {
  sl_filter f;
  sl_cursor *c;
  const sl_event *ev;
  memset(r, 0, sizeof *r);
  sl_filter_init(&f);
  f.ascending = 1;
  CHECK_EQ_INT(sl_query(s, &f, &c), SL_OK);
  while (sl_cursor_next(c, &ev) == SL_ROW && r->n <= NROWS) {
    sl_buf_reset(&out);
    CHECK_EQ_INT(sl_render_event(&out, ev, format), SL_OK);
    r->text[r->n] = strdup(out.len ? out.data : "");
    r->bad[r->n++] = ev->bad;
  }
  CHECK_EQ_INT(sl_cursor_bad_rows(c, &r->tally), SL_OK);
  sl_cursor_close(c);
}

static void free_rows(read_rows *r) {
  for (size_t i = 0; i < r->n; i++) free(r->text[i]);
}

/* The NDJSON line of a row with the default columns and these changes. */
#define LINE(summary, extra_before_event_type, event_type, severity) \
  "{\"correlation_id\":null,\"details\":null,\"duration_ms\":null," \
  extra_before_event_type "\"event_type\":\"" event_type "\"," \
  "\"peer_device_id\":null,\"record_count\":null,\"severity\":\"" \
  severity "\",\"summary\":\"" summary "\","

static void test_ndjson(sl_store *s) {
  read_rows r;
  read_all(s, SL_RENDER_NDJSON, &r);
  CHECK_EQ_INT(r.n, NROWS + 1);
  if (r.n != NROWS + 1) { free_rows(&r); return; }
  CHECK_EQ_STR(r.text[0], LINE("a good row", "", "state_transition", "info")
                          "\"timestamp\":\"2025-12-03T10:00:00Z\"}\n");
  /* A NULL summary is "". */
  CHECK_EQ_STR(r.text[1], LINE("", "", "state_transition", "info")
                          "\"timestamp\":\"2025-12-03T10:00:01Z\"}\n");
  /* Text, or a real, in an integer column is null; an integer is kept. */
  CHECK_EQ_STR(r.text[2], LINE("row 2", "", "state_transition", "info")
                          "\"timestamp\":\"2025-12-03T10:00:02Z\"}\n");
  CHECK_EQ_STR(r.text[3],
               "{\"correlation_id\":null,\"details\":null,\"duration_ms\":7,"
               "\"event_type\":\"state_transition\",\"peer_device_id\":null,"
               "\"record_count\":null,\"severity\":\"info\","
               "\"summary\":\"row 3\","
               "\"timestamp\":\"2025-12-03T10:00:03Z\"}\n");
  /* Ill-formed UTF-8 in the summary is U+FFFD. */
  CHECK_EQ_STR(r.text[4], LINE("bad " FFFD, "", "state_transition", "info")
                          "\"timestamp\":\"2025-12-03T10:00:04Z\"}\n");
  /* ... and in an optional column null, as Spacedrive reads None; so is
  ** a blob there. */
  CHECK_EQ_STR(r.text[5], LINE("row 5", "", "state_transition", "info")
                          "\"timestamp\":\"2025-12-03T10:00:05Z\"}\n");
  /* Names that are no type or severity go out as stored. */
  CHECK_EQ_STR(r.text[6], LINE("row 6", "", "Exploded", "WARN")
                          "\"timestamp\":\"2025-12-03T10:00:06Z\"}\n");
  /* NULL in the other required columns is "" too. */
  CHECK_EQ_STR(r.text[7], LINE("row 7", "", "", "")
                          "\"timestamp\":\"2025-12-03T10:00:07Z\"}\n");
  /* A blob in a text column is read as its bytes. */
  CHECK_EQ_STR(r.text[8], LINE("hi", "", "state_transition", "info")
                          "\"timestamp\":\"2025-12-03T10:00:08Z\"}\n");
  CHECK_EQ_STR(r.text[9],
               "{\"correlation_id\":\"" CORR "\",\"details\":{\"a\":2,"
               "\"b\":1},\"duration_ms\":null,\"event_type\":"
               "\"state_transition\",\"peer_device_id\":null,"
               "\"record_count\":null,\"severity\":\"info\","
               "\"summary\":\"row 9\","
               "\"timestamp\":\"2025-12-03T10:00:09Z\"}\n");
  /* Every spelling of a UUID the uuid crate reads is written back
  ** lowercase and hyphenated; a negative count as Spacedrive's u64 cast. */
  CHECK_EQ_STR(r.text[10],
               "{\"correlation_id\":\"" CORR "\",\"details\":null,"
               "\"duration_ms\":0,\"event_type\":\"state_transition\","
               "\"peer_device_id\":\"" CORR "\","
               "\"record_count\":18446744073709551615,"
               "\"severity\":\"info\",\"summary\":\"row 10\","
               "\"timestamp\":\"2025-12-03T10:00:10Z\"}\n");
  /* ... and what it does not read is None. */
  CHECK_EQ_STR(r.text[11], LINE("row 11", "", "state_transition", "info")
                           "\"timestamp\":\"2025-12-03T10:00:11Z\"}\n");
  /* A NULL timestamp is "" and comes last, its time unknown. */
  CHECK_EQ_STR(r.text[12], LINE("no time", "", "state_transition", "info")
                           "\"timestamp\":\"\"}\n");

  /* What each row had mended. */
  CHECK_EQ_INT(r.bad[0], 0);
  CHECK_EQ_INT(r.bad[1], SL_COLUMN_BIT(SL_COL_SUMMARY));
  CHECK_EQ_INT(r.bad[2], SL_COLUMN_BIT(SL_COL_RECORD_COUNT) |
                         SL_COLUMN_BIT(SL_COL_DURATION_MS));
  CHECK_EQ_INT(r.bad[3], SL_COLUMN_BIT(SL_COL_RECORD_COUNT));
  CHECK_EQ_INT(r.bad[4], SL_COLUMN_BIT(SL_COL_SUMMARY));
  CHECK_EQ_INT(r.bad[5], SL_COLUMN_BIT(SL_COL_DETAILS) |
                         SL_COLUMN_BIT(SL_COL_CORRELATION_ID) |
                         SL_COLUMN_BIT(SL_COL_PEER_DEVICE_ID) |
                         SL_COLUMN_BIT(SL_COL_MODEL_TYPES));
  CHECK_EQ_INT(r.bad[6], SL_COLUMN_BIT(SL_COL_EVENT_TYPE) |
                         SL_COLUMN_BIT(SL_COL_CATEGORY) |
                         SL_COLUMN_BIT(SL_COL_SEVERITY));
  CHECK_EQ_INT(r.bad[7], SL_COLUMN_BIT(SL_COL_DEVICE_ID) |
                         SL_COLUMN_BIT(SL_COL_EVENT_TYPE) |
                         SL_COLUMN_BIT(SL_COL_CATEGORY) |
                         SL_COLUMN_BIT(SL_COL_SEVERITY));
  CHECK_EQ_INT(r.bad[8], SL_COLUMN_BIT(SL_COL_SUMMARY) |
                         SL_COLUMN_BIT(SL_COL_DEVICE_ID));
  CHECK_EQ_INT(r.bad[9], 0);
  CHECK_EQ_INT(r.bad[10], 0);
  CHECK_EQ_INT(r.bad[11], SL_COLUMN_BIT(SL_COL_CORRELATION_ID) |
                          SL_COLUMN_BIT(SL_COL_PEER_DEVICE_ID));
  CHECK_EQ_INT(r.bad[12], SL_COLUMN_BIT(SL_COL_TIMESTAMP));

  /* The tally: 10 rows, the first three ids, every column but the id. */
  CHECK_EQ_INT(r.tally.count, 10);
  CHECK_EQ_INT(r.tally.first_ids[0], 2);
  CHECK_EQ_INT(r.tally.first_ids[1], 3);
  CHECK_EQ_INT(r.tally.first_ids[2], 4);
  CHECK_EQ_INT(r.tally.columns,
               ((1u << SL_COLUMN_COUNT) - 1) & ~SL_COLUMN_BIT(SL_COL_ID));
  free_rows(&r);
}

static void test_json_device(sl_store *s) {
  read_rows r;
  read_all(s, SL_RENDER_NDJSON_DEVICE, &r);
  CHECK_EQ_INT(r.n, NROWS + 1);
  if (r.n != NROWS + 1) { free_rows(&r); return; }
  /* Absent optional fields are left out; "" where the struct has a
  ** String; the device as stored when it is no UUID. */
  CHECK_EQ_STR(r.text[5],
               "{\"category\":\"lifecycle\",\"device_id\":\"" DEV "\","
               "\"event_type\":\"state_transition\",\"id\":6,"
               "\"severity\":\"info\",\"summary\":\"row 5\","
               "\"timestamp\":\"2025-12-03T10:00:05Z\"}\n");
  CHECK_EQ_STR(r.text[7],
               "{\"category\":\"\",\"device_id\":\"\",\"event_type\":\"\","
               "\"id\":8,\"severity\":\"\",\"summary\":\"row 7\","
               "\"timestamp\":\"2025-12-03T10:00:07Z\"}\n");
  CHECK_EQ_STR(r.text[8],
               "{\"category\":\"lifecycle\",\"device_id\":\"42\","
               "\"event_type\":\"state_transition\",\"id\":9,"
               "\"severity\":\"info\",\"summary\":\"hi\","
               "\"timestamp\":\"2025-12-03T10:00:08Z\"}\n");
  free_rows(&r);
}

static void test_text_formats(sl_store *s) {
  read_rows r;
  read_all(s, SL_RENDER_SQL, &r);
  if (r.n == NROWS + 1) {
    CHECK_EQ_STR(r.text[1],
      "INSERT INTO sync_event_log (timestamp, device_id, event_type, "
      "category, severity, summary, details, correlation_id, "
      "peer_device_id, model_types, record_count, duration_ms) VALUES ("
      "'2025-12-03T10:00:01+00:00', '" DEV "', 'state_transition', "
      "'lifecycle', 'info', '', NULL, NULL, NULL, NULL, NULL, NULL);\n");
    CHECK(strstr(r.text[2], "'row 2', NULL, NULL, NULL, NULL, NULL, NULL);\n")
          != NULL);
    CHECK(strstr(r.text[4], "'bad " FFFD "', NULL,") != NULL);
    CHECK(strstr(r.text[7], "VALUES ('2025-12-03T10:00:07+00:00', '', '', "
                            "'', '', 'row 7', NULL,") != NULL);
  }
  CHECK_EQ_INT(r.n, NROWS + 1);
  free_rows(&r);

  read_all(s, SL_RENDER_MARKDOWN, &r);
  if (r.n == NROWS + 1) {
    CHECK_EQ_STR(r.text[1],
                 "| 2025-12-03 10:00:01 | StateTransition | Info |  |\n");
    CHECK_EQ_STR(r.text[4],
                 "| 2025-12-03 10:00:04 | StateTransition | Info | bad "
                 FFFD " |\n");
    CHECK_EQ_STR(r.text[6],
                 "| 2025-12-03 10:00:06 | Exploded | WARN | row 6 |\n");
    CHECK_EQ_STR(r.text[7], "| 2025-12-03 10:00:07 |  |  | row 7 |\n");
    CHECK_EQ_STR(r.text[12], "|  | StateTransition | Info | no time |\n");
  }
  CHECK_EQ_INT(r.n, NROWS + 1);
  free_rows(&r);

  read_all(s, SL_RENDER_CSV, &r);
  if (r.n == NROWS + 1) {
    CHECK_EQ_STR(r.text[1], "2,2025-12-03T10:00:01+00:00," DEV
                            ",state_transition,lifecycle,info,\"\",,,,,,"
                            "\r\n");
    CHECK_EQ_STR(r.text[2], "3,2025-12-03T10:00:02+00:00," DEV
                            ",state_transition,lifecycle,info,row 2,,,,,,"
                            "\r\n");
    CHECK_EQ_STR(r.text[5], "6,2025-12-03T10:00:05+00:00," DEV
                            ",state_transition,lifecycle,info,row 5,,,,,,"
                            "\r\n");
  }
  CHECK_EQ_INT(r.n, NROWS + 1);
  free_rows(&r);
}

/* Events not read from a store -- built in C, or from a Lua table -- are
** written as valid JSON whatever their strings hold. */
static void test_render_by_hand(void) {
  sl_event ev;
  memset(&ev, 0, sizeof ev);
  ev.id = 5;
  ev.timestamp = "not \xff a time";
  ev.event_type = "x\xc3";
  ev.details = "{\"a\":\"\xff\"}"; /* serde refuses it: None, null */
  ev.correlation_id = "c\xff";
  sl_buf_reset(&out);
  CHECK_EQ_INT(sl_render_event(&out, &ev, SL_RENDER_NDJSON), SL_OK);
  CHECK_EQ_STR(out.data,
               "{\"correlation_id\":\"c" FFFD "\",\"details\":null,"
               "\"duration_ms\":null,"
               "\"event_type\":\"x" FFFD "\",\"peer_device_id\":null,"
               "\"record_count\":null,\"severity\":\"\",\"summary\":\"\","
               "\"timestamp\":\"not " FFFD " a time\"}\n");
}

/* A file that fails under a query -- its pages overwritten once the query
** has started -- reads as the store says it when opening: "database is
** corrupt (malformed)", not SQLite's "database disk image is malformed". */
static void overwrite_pages(const char *path) {
  static unsigned char junk[4096];
  FILE *fp = fopen(path, "r+b");
  CHECK(fp != NULL);
  if (!fp) return;
  memset(junk, 0xa5, sizeof junk);
  fseek(fp, 0, SEEK_END);
  long size = ftell(fp);
  for (long at = 4096; at < size; at += 4096) { /* all but the schema's */
    fseek(fp, at, SEEK_SET);
    fwrite(junk, 1, sizeof junk, fp);
  }
  fclose(fp);
}

static void test_corrupt_under_a_query(void) {
  const char *path = path_of("corrupt.db");
  sqlite3 *db;
  sl_store *s;
  sl_filter f;
  sl_cursor *c = NULL;
  const sl_event *ev;
  CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
  CHECK_EQ_INT(sqlite3_exec(db, ddl, NULL, NULL, NULL), SQLITE_OK);
  CHECK_EQ_INT(sqlite3_exec(db,
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
    " WHERE i < 2000) INSERT INTO sync_event_log (timestamp, device_id,"
    " event_type, category, severity, summary) SELECT"
    " printf('2025-12-02T%02d:%02d:%02d+00:00', i / 3600, i / 60 % 60,"
    " i % 60), '" DEV "', 'state_transition', 'lifecycle', 'info',"
    " printf('row %d %s', i, hex(zeroblob(100))) FROM n",
    NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
  CHECK_EQ_INT(sl_store_open(path, NULL, &s), SL_OK);
  sl_filter_init(&f);
  CHECK_EQ_INT(sl_query(s, &f, &c), SL_OK);
  overwrite_pages(path);
  int rc = SL_DONE;
  if (c)
    while ((rc = sl_cursor_next(c, &ev)) == SL_ROW) {}
  CHECK_EQ_INT(rc, SL_CORRUPT);
  char want[512];
  snprintf(want, sizeof want, "%s: database is corrupt (malformed)", path);
  CHECK_EQ_STR(sl_cursor_errmsg(c), want);
  sl_cursor_close(c);
  sl_store_release(s);
}

/* ------------------------------------------------- the store's tally */

/* Every row the query hands out; returns how many. */
static int64_t drain(sl_store *s, const sl_filter *f) {
  sl_cursor *c = NULL;
  const sl_event *ev;
  int64_t n = 0;
  CHECK_EQ_INT(sl_query(s, f, &c), SL_OK);
  if (!c) return -1;
  while (sl_cursor_next(c, &ev) == SL_ROW) n++;
  sl_cursor_close(c);
  return n;
}

/* The store's tally as "count [ids] columns-bits at_least". */
static const char *tally(sl_store *s) {
  static char text[128];
  sl_bad_rows b;
  int at_least = -1;
  CHECK_EQ_INT(sl_store_bad_rows(s, &b, &at_least), SL_OK);
  snprintf(text, sizeof text, "%lld [%lld %lld %lld] 0x%x%s",
           (long long)b.count, (long long)b.first_ids[0],
           (long long)b.first_ids[1], (long long)b.first_ids[2], b.columns,
           at_least ? " at least" : "");
  return text;
}

/* What the store's rows (make_store) have mended, in bits. */
#define B_SUMMARY SL_COLUMN_BIT(SL_COL_SUMMARY)
#define B_COUNTS  (SL_COLUMN_BIT(SL_COL_RECORD_COUNT) | \
                   SL_COLUMN_BIT(SL_COL_DURATION_MS))
#define B_ALL     (((1u << SL_COLUMN_COUNT) - 1) & ~SL_COLUMN_BIT(SL_COL_ID))

/* What tally() should say: "count [ids]", the columns, a lower bound. */
static const char *expect(const char *count_ids, unsigned bits,
                          int at_least) {
  static char text[128];
  snprintf(text, sizeof text, "%s 0x%x%s", count_ids, bits,
           at_least ? " at least" : "");
  return text;
}

/* One bad row read by three different queries is one row. */
static void test_store_counts_each_row_once(const char *path) {
  sl_store *s = NULL;
  sl_filter f;
  CHECK_EQ_INT(sl_store_open(path, NULL, &s), SL_OK);
  CHECK_EQ_STR(tally(s), "0 [0 0 0] 0x0");

  /* Rows 1-3 oldest first: row 2 (a NULL summary), row 3 (text counts). */
  sl_filter_init(&f);
  f.ascending = 1;
  f.limit = 3;
  CHECK_EQ_INT(drain(s, &f), 3);
  CHECK_EQ_STR(tally(s), expect("2 [2 3 0]", B_SUMMARY | B_COUNTS, 0));

  /* The same rows newest first, by a time bound ... */
  sl_filter_init(&f);
  CHECK_EQ_INT(sl_time_parse_rfc3339("2025-12-03T10:00:02Z", 20, &f.until),
               SL_OK);
  f.has_until = 1;
  CHECK_EQ_INT(drain(s, &f), 3);
  CHECK_EQ_STR(tally(s), expect("2 [2 3 0]", B_SUMMARY | B_COUNTS, 0));

  /* ... and row 2 alone, past an offset: still two rows. */
  sl_filter_init(&f);
  f.ascending = 1;
  f.offset = 1;
  f.limit = 1;
  CHECK_EQ_INT(drain(s, &f), 1);
  CHECK_EQ_STR(tally(s), expect("2 [2 3 0]", B_SUMMARY | B_COUNTS, 0));

  /* Counting reads no row; a fingerprint reads every one. */
  int64_t n = 0;
  sl_filter_init(&f);
  CHECK_EQ_INT(sl_count(s, &f, &n), SL_OK);
  CHECK_EQ_INT(n, NROWS + 1);
  CHECK_EQ_STR(tally(s), expect("2 [2 3 0]", B_SUMMARY | B_COUNTS, 0));
  CHECK_EQ_INT(sl_fingerprint(s, &f, &n, NULL), SL_OK);
  CHECK_EQ_STR(tally(s), expect("10 [2 3 4]", B_ALL, 0));
  /* Every row again, twice: nothing more. */
  CHECK_EQ_INT(drain(s, &f), NROWS + 1);
  f.ascending = 1;
  CHECK_EQ_INT(drain(s, &f), NROWS + 1);
  CHECK_EQ_STR(tally(s), expect("10 [2 3 4]", B_ALL, 0));

  /* The tally outlives close until the last release; at_least may be
  ** NULL. */
  CHECK_EQ_INT(sl_store_close(s), SL_OK);
  sl_bad_rows b;
  CHECK_EQ_INT(sl_store_bad_rows(s, &b, NULL), SL_OK);
  CHECK_EQ_INT(b.count, 10);
  sl_store_release(s);
}

/* The smallest ids, ascending, whatever order the rows came in; another
** handle on the same file keeps a tally of its own. */
static void test_store_ids_sorted(const char *path) {
  sl_store *s = NULL, *other = NULL;
  sl_filter f;
  CHECK_EQ_INT(sl_store_open(path, NULL, &s), SL_OK);
  CHECK_EQ_INT(sl_store_open(path, NULL, &other), SL_OK);
  /* Newest first from 10:00:04: ids 12, 11, ..., 5; 12 and 9 to 5 are
  ** bad. */
  sl_filter_init(&f);
  CHECK_EQ_INT(sl_time_parse_rfc3339("2025-12-03T10:00:04Z", 20, &f.since),
               SL_OK);
  f.has_since = 1;
  CHECK_EQ_INT(drain(s, &f), 8);
  CHECK_EQ_STR(tally(s),
               expect("6 [5 6 7]",
                      B_ALL & ~(B_COUNTS | SL_COLUMN_BIT(SL_COL_TIMESTAMP)),
                      0));
  /* Then rows 2 and 3 come before them. */
  sl_filter_init(&f);
  f.limit = 2;
  f.offset = 1;
  f.ascending = 1;
  CHECK_EQ_INT(drain(s, &f), 2);
  CHECK_EQ_STR(tally(s), expect("8 [2 3 5]",
                                B_ALL & ~SL_COLUMN_BIT(SL_COL_TIMESTAMP), 0));
  /* Row 13 (no time, last) and row 4 are the two not read yet. */
  sl_filter_init(&f);
  CHECK_EQ_INT(drain(s, &f), NROWS + 1);
  CHECK_EQ_STR(tally(s), expect("10 [2 3 4]", B_ALL, 0));
  CHECK_EQ_STR(tally(other), "0 [0 0 0] 0x0");
  sl_store_release(other);
  sl_store_release(s);
}

/* A merge's cursors count for their own stores; a closed merge leaves the
** tallies. */
static void test_store_merge(const char *path, const char *path2) {
  sl_store *s[2] = {NULL, NULL};
  sl_cursor *c[2] = {NULL, NULL};
  sl_merge *m = NULL;
  sl_filter f;
  size_t src;
  const sl_event *ev;
  int64_t adjusted, rows = 0;
  CHECK_EQ_INT(sl_store_open(path, NULL, &s[0]), SL_OK);
  CHECK_EQ_INT(sl_store_open(path2, NULL, &s[1]), SL_OK);
  sl_filter_init(&f);
  f.ascending = 1;
  f.limit = 3;                 /* rows 1-3 of the first store */
  CHECK_EQ_INT(sl_query(s[0], &f, &c[0]), SL_OK);
  f.limit = -1;                /* every row of the second */
  CHECK_EQ_INT(sl_query(s[1], &f, &c[1]), SL_OK);
  CHECK_EQ_INT(sl_merge_new(c, NULL, 2, 0, &m), SL_OK);
  while (sl_merge_next(m, &src, &ev, &adjusted) == SL_ROW) rows++;
  sl_merge_free(m);
  CHECK_EQ_INT(rows, 3 + NROWS + 1);
  CHECK_EQ_STR(tally(s[0]), expect("2 [2 3 0]", B_SUMMARY | B_COUNTS, 0));
  CHECK_EQ_STR(tally(s[1]), expect("10 [2 3 4]", B_ALL, 0));
  /* The same rows read again outside the merge: no more. */
  sl_filter_init(&f);
  CHECK_EQ_INT(drain(s[1], &f), NROWS + 1);
  CHECK_EQ_STR(tally(s[1]), expect("10 [2 3 4]", B_ALL, 0));
  sl_store_release(s[0]);
  sl_store_release(s[1]);
}

/* Ids are any integer SQLite allows: 0 and negative ones are rows too. */
static void test_store_odd_ids(void) {
  const char *path = path_of("odd.db");
  sqlite3 *db;
  sl_store *s = NULL;
  sl_filter f;
  CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
  CHECK_EQ_INT(sqlite3_exec(db, ddl, NULL, NULL, NULL), SQLITE_OK);
  CHECK_EQ_INT(sqlite3_exec(db,
    "INSERT INTO sync_event_log (id, timestamp, device_id, event_type,"
    " category, severity, summary) VALUES"
    " (7, '2025-12-03T10:00:00+00:00', '" DEV "', 'state_transition',"
    " 'lifecycle', 'info', NULL),"
    " (0, '2025-12-03T10:00:01+00:00', '" DEV "', 'state_transition',"
    " 'lifecycle', 'info', NULL),"
    " (-5, '2025-12-03T10:00:02+00:00', '" DEV "', 'Exploded',"
    " 'lifecycle', 'info', 'x'),"
    " (-9, '2025-12-03T10:00:03+00:00', '" DEV "', 'state_transition',"
    " 'lifecycle', 'info', 'a good row')",
    NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
  CHECK_EQ_INT(sl_store_open(path, NULL, &s), SL_OK);
  sl_filter_init(&f);
  for (int i = 0; i < 3; i++) CHECK_EQ_INT(drain(s, &f), 4);
  CHECK_EQ_STR(tally(s),
               expect("3 [-5 0 7]",
                      B_SUMMARY | SL_COLUMN_BIT(SL_COL_EVENT_TYPE), 0));
  sl_store_release(s);
  unlink(path);
}

#define CAP   65536
#define OVER  (CAP + 100)

/* Past its cap the store keeps no more ids and says the count is a lower
** bound; the smallest ids and the columns stay exact. */
static void test_store_cap(void) {
  const char *path = path_of("many.db");
  sqlite3 *db;
  sl_store *s = NULL;
  sl_filter f;
  char sql[1024];
  CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
  CHECK_EQ_INT(sqlite3_exec(db, ddl, NULL, NULL, NULL), SQLITE_OK);
  /* OVER rows, a second apart, ids 1..OVER in time order, every summary
  ** NULL. */
  snprintf(sql, sizeof sql,
           "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
           " WHERE i < %d) INSERT INTO sync_event_log (timestamp, device_id,"
           " event_type, category, severity, summary) SELECT"
           " printf('2025-12-02T%%02d:%%02d:%%02d+00:00', i / 3600,"
           " i / 60 %% 60, i %% 60), '" DEV "', 'state_transition',"
           " 'lifecycle', 'info', NULL FROM n", OVER);
  CHECK_EQ_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
  CHECK_EQ_INT(sl_store_open(path, NULL, &s), SL_OK);

  /* Exactly the cap, newest first (ids OVER down to 101): exact. */
  sl_filter_init(&f);
  f.limit = CAP;
  CHECK_EQ_INT(drain(s, &f), CAP);
  CHECK_EQ_STR(tally(s), expect("65536 [101 102 103]", B_SUMMARY, 0));
  CHECK_EQ_INT(drain(s, &f), CAP); /* the same rows again */
  CHECK_EQ_STR(tally(s), expect("65536 [101 102 103]", B_SUMMARY, 0));

  /* One row more: not kept, so the count is a lower bound; the smallest
  ** ids follow it. */
  f.offset = CAP;
  f.limit = 1;
  CHECK_EQ_INT(drain(s, &f), 1);
  CHECK_EQ_STR(tally(s),
               expect("65536 [100 101 102]", B_SUMMARY, 1));
  /* Every row, twice: the ids not kept are never counted, each kept one
  ** once. */
  sl_filter_init(&f);
  f.ascending = 1;
  CHECK_EQ_INT(drain(s, &f), OVER);
  CHECK_EQ_INT(drain(s, &f), OVER);
  CHECK_EQ_STR(tally(s), expect("65536 [1 2 3]", B_SUMMARY, 1));
  sl_store_release(s);
  unlink(path);
}

/* Another thread may read the tally while the cursors' thread adds to it:
** what it sees only grows, and ends where the cursors' thread ends. */
typedef struct watcher {
  sl_store       *s;
  pthread_mutex_t lock;        /* guards stop                               */
  int             stop;        /* set by the main thread when done          */
  int             shrank;      /* a count smaller than the one before       */
  int64_t         last;        /* the last count seen                       */
} watcher;

static void *watch(void *arg) {
  watcher *w = arg;
  for (;;) {
    pthread_mutex_lock(&w->lock);
    int stop = w->stop;        /* read before the last look */
    pthread_mutex_unlock(&w->lock);
    sl_bad_rows b;
    int at_least;
    sl_store_bad_rows(w->s, &b, &at_least);
    if (b.count < w->last) w->shrank = 1;
    w->last = b.count;
    if (stop) return NULL;
  }
}

static void test_store_tally_from_another_thread(const char *path) {
  sl_store *s = NULL;
  sl_filter f;
  pthread_t t;
  watcher w;
  memset(&w, 0, sizeof w);
  pthread_mutex_init(&w.lock, NULL);
  CHECK_EQ_INT(sl_store_open(path, NULL, &s), SL_OK);
  w.s = s;
  CHECK_EQ_INT(pthread_create(&t, NULL, watch, &w), 0);
  sl_filter_init(&f);
  for (int i = 0; i < 50; i++) {
    f.ascending = i % 2;
    CHECK_EQ_INT(drain(s, &f), NROWS + 1);
  }
  pthread_mutex_lock(&w.lock);
  w.stop = 1;
  pthread_mutex_unlock(&w.lock);
  pthread_join(t, NULL);
  pthread_mutex_destroy(&w.lock);
  CHECK_EQ_INT(w.shrank, 0);
  CHECK_EQ_INT(w.last, 10);
  sl_store_release(s);
}

static void test_misuse(void) {
  sl_bad_rows b;
  memset(&b, 0xff, sizeof b);
  CHECK_EQ_INT(sl_cursor_bad_rows(NULL, &b), SL_MISUSE);
  CHECK_EQ_INT(b.count, 0);
  CHECK_EQ_INT(sl_cursor_bad_rows(NULL, NULL), SL_MISUSE);
  int at_least = -1;
  memset(&b, 0xff, sizeof b);
  CHECK_EQ_INT(sl_store_bad_rows(NULL, &b, &at_least), SL_MISUSE);
  CHECK_EQ_INT(b.count, 0);
  CHECK_EQ_INT(b.columns, 0);
  CHECK_EQ_INT(b.first_ids[2], 0);
  CHECK_EQ_INT(at_least, 0);
  CHECK_EQ_INT(sl_store_bad_rows(NULL, NULL, NULL), SL_MISUSE);
  sl_bad_rows_note(NULL, NULL);
  CHECK_EQ_STR(sl_column_name(SL_COL_SUMMARY), "summary");
  CHECK_EQ_STR(sl_column_name(SL_COL_DURATION_MS), "duration_ms");
  CHECK(sl_column_name(SL_COLUMN_COUNT) == NULL);
  CHECK(sl_column_name(-1) == NULL);
  /* The names a row is read against, each found, and near misses not. */
  for (int i = 0; i < SL_EVENT_TYPE_COUNT; i++)
    CHECK_EQ_INT(sl_event_type_from_name(sl_event_type_name(i)), i);
  for (int i = 0; i < SL_CATEGORY_COUNT; i++)
    CHECK_EQ_INT(sl_category_from_name(sl_category_name(i)), i);
  for (int i = 0; i < SL_SEVERITY_COUNT; i++)
    CHECK_EQ_INT(sl_severity_from_name(sl_severity_name(i)), i);
  CHECK_EQ_INT(sl_event_type_from_name("state_transitio"), -1);
  CHECK_EQ_INT(sl_event_type_from_name("state_transitionx"), -1);
  CHECK_EQ_INT(sl_event_type_from_name("catch_up_session_startex"), -1);
  CHECK_EQ_INT(sl_event_type_from_name(""), -1);
  CHECK_EQ_INT(sl_category_from_name(""), -1);
  CHECK_EQ_INT(sl_severity_from_name("infos"), -1);
  CHECK_EQ_INT(sl_severity_from_name(""), -1);
}

/* The ids a filter hands out, comma-joined, and how many of them
** Spacedrive skips. */
static const char *ids_of(sl_store *s, const sl_filter *f, int64_t *skipped) {
  static char buf[256];
  sl_cursor *c;
  const sl_event *ev;
  size_t at = 0;
  buf[0] = '\0';
  CHECK_EQ_INT(sl_query(s, f, &c), SL_OK);
  while (sl_cursor_next(c, &ev) == SL_ROW && at < sizeof buf - 24)
    at += (size_t)snprintf(buf + at, sizeof buf - at, "%s%lld",
                           at ? "," : "", (long long)ev->id);
  *skipped = sl_cursor_skipped(c);
  sl_cursor_close(c);
  return buf;
}

/* Rows Spacedrive skips -- ids 2, 5, 7, 8, 9 (a required value it cannot
** read) and 13 (no time) -- come last with skipped_last, in the order
** asked; limit and offset count rows as Spacedrive's LIMIT does, before
** its reader drops them, so the same rows come out, reordered. */
static void test_skipped_last(const char *path) {
  sl_store *s = NULL;
  sl_filter f;
  int64_t skipped = -1;
  CHECK_EQ_INT(sl_store_open(path, NULL, &s), SL_OK);
  sl_filter_init(&f);
  CHECK_EQ_STR(ids_of(s, &f, &skipped), "12,11,10,9,8,7,6,5,4,3,2,1,13");
  CHECK_EQ_INT(skipped, 6);
  f.skipped_last = 1;
  CHECK_EQ_STR(ids_of(s, &f, &skipped), "12,11,10,6,4,3,1,9,8,7,5,2,13");
  CHECK_EQ_INT(skipped, 6);
  f.ascending = 1;
  CHECK_EQ_STR(ids_of(s, &f, &skipped), "1,3,4,6,10,11,12,2,5,7,8,9,13");
  f.ascending = 0;
  f.limit = 5;
  f.offset = 1;
  CHECK_EQ_STR(ids_of(s, &f, &skipped), "11,10,9,8,7");
  CHECK_EQ_INT(skipped, 3);
  f.offset = 3;               /* 9,8,7,6,5: Spacedrive prints only 6 */
  CHECK_EQ_STR(ids_of(s, &f, &skipped), "6,9,8,7,5");
  f.limit = 3;                /* 9,8,7: Spacedrive prints nothing */
  CHECK_EQ_STR(ids_of(s, &f, &skipped), "9,8,7");
  f.limit = 2;
  f.offset = 0;
  CHECK_EQ_STR(ids_of(s, &f, &skipped), "12,11");
  CHECK_EQ_INT(skipped, 0);
  /* With a time bound: the row of no time is left out, counted. */
  f.limit = -1;
  f.has_since = 1;
  CHECK_EQ_INT(sl_time_parse_rfc3339("2025-12-03T10:00:07Z", 20, &f.since),
               SL_OK);
  CHECK_EQ_STR(ids_of(s, &f, &skipped), "12,11,10,9,8");
  /* Each bad row is in the tallies once, however often it was read. */
  sl_bad_rows b;
  CHECK_EQ_INT(sl_store_bad_rows(s, &b, NULL), SL_OK);
  CHECK_EQ_INT(b.count, 10);
  sl_store_release(s);
}

int main(void) {
  sl_store *s = NULL;
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  make_store(path_of("bad.db"));
  CHECK_EQ_INT(sl_store_open(path_of("bad.db"), NULL, &s), SL_OK);
  test_ndjson(s);
  test_json_device(s);
  test_text_formats(s);
  sl_store_release(s);
  make_store(path_of("bad2.db"));
  test_store_counts_each_row_once(path_of("bad.db"));
  test_store_ids_sorted(path_of("bad.db"));
  test_store_merge(path_of("bad.db"), path_of("bad2.db"));
  test_store_odd_ids();
  test_store_cap();
  test_store_tally_from_another_thread(path_of("bad.db"));
  test_skipped_last(path_of("bad.db"));
  test_render_by_hand();
  test_corrupt_under_a_query();
  test_misuse();
  sl_buf_free(&out);
  unlink(path_of("bad.db"));
  unlink(path_of("bad2.db"));
  unlink(path_of("corrupt.db"));
  rmdir(dir);
  return check_report("bad_rows");
}
