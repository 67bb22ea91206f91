/*
** test_planner.c -- the query planner against a reference: on a store
** with Spacedrive's five indexes only (where a bounded query probes by id,
** sl_query.c) and on the same rows with synclua's indexes too, every
** filter combination, newest and oldest first, with limits and offsets,
** must give exactly the rows, in exactly the order, that plain SQL gives.
** The rows are laid out three ways: ids in time order (the probe's bound
** holds), shuffled (it never does), and in order but for a few old ids
** carrying the newest times (it fails only where they reach).
*/
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "support.h"
#include <synclua/synclua.h>

#define ROWS 3000
#define T0 (INT64_C(1764756900) * SL_NS_PER_SEC)

static char dir[] = "/tmp/synclua-planner-XXXXXX";

static const char *const peers[3] = {
  "0a9b8c7d-6e5f-4a3b-9c2d-000000000001",
  "0a9b8c7d-6e5f-4a3b-9c2d-000000000002",
  "0a9b8c7d-6e5f-4a3b-9c2d-000000000003"};
static const char *const devices[2] = {
  "6f1c2a3b-4d5e-4f60-8a71-000000000001",
  "6f1c2a3b-4d5e-4f60-8a71-000000000002"};

static uint64_t rng = 0x9e3779b97f4a7c15u;

static long below(long n) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (long)(rng % (uint64_t)n);
}

enum { IN_ORDER, SHUFFLED, A_FEW_LATE };

/* The rows' times, by id (0-based): a second apart with runs of equal
** instants, laid out as `layout` says. */
static void make_times(int layout, int64_t *t) {
  for (int i = 0; i < ROWS; i++) t[i] = T0 + (int64_t)(i / 3) * SL_NS_PER_SEC;
  if (layout == SHUFFLED)
    for (int i = ROWS - 1; i > 0; i--) {
      int j = (int)below(i + 1);
      int64_t x = t[i];
      t[i] = t[j];
      t[j] = x;
    }
  if (layout == A_FEW_LATE)
    for (int i = 0; i < 5; i++) t[100 + i * 300] = T0 + ROWS * SL_NS_PER_SEC;
}

/* Write the rows into a store with Spacedrive's table and five indexes,
** and, with ours, synclua's three as well. */
static void make_store(const char *path, const int64_t *t, int ours) {
  sqlite3 *db;
  sqlite3_stmt *st;
  unlink(path);
  CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
  CHECK_EQ_INT(sqlite3_exec(db, sl_spacedrive_ddl(), NULL, NULL, NULL),
               SQLITE_OK);
  if (ours)
    CHECK_EQ_INT(sqlite3_exec(db,
      "CREATE INDEX idx_sync_event_log_severity_time ON sync_event_log"
      "(severity, timestamp); CREATE INDEX idx_sync_event_log_type_time ON"
      " sync_event_log(event_type, timestamp); CREATE INDEX"
      " idx_sync_event_log_peer_time ON sync_event_log(peer_device_id,"
      " timestamp)", NULL, NULL, NULL), SQLITE_OK);
  CHECK_EQ_INT(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
  CHECK_EQ_INT(sqlite3_prepare_v2(db,
    "INSERT INTO sync_event_log (id, timestamp, device_id, event_type,"
    " category, severity, summary, correlation_id, peer_device_id,"
    " model_types) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'x', ?7, ?8, ?9)",
    -1, &st, NULL), SQLITE_OK);
  rng = 0x2545f4914f6cdd1du;   /* the same rows in every store */
  for (int i = 0; i < ROWS; i++) {
    char ts[SL_TIME_BUFSZ], session[40];
    /* Mostly batch_ingestion and state transitions, some of each other. */
    int type = below(10) < 5 ? SL_BATCH_INGESTION
             : below(4) == 0 ? SL_STATE_TRANSITION
                             : (int)below(SL_EVENT_TYPE_COUNT);
    int sev = sl_event_type_severity((sl_event_type)type);
    if (below(20) == 0) sev = SL_WARNING;
    long peer = below(4), model = below(3);
    snprintf(session, sizeof session, "5e551090-0000-4000-8000-%012ld",
             below(20));
    sl_time_format(t[i], 0, ts);
    sqlite3_bind_int64(st, 1, i + 1);
    sqlite3_bind_text(st, 2, ts, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, devices[below(2)], -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, sl_event_type_name(type), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, sl_category_name(sl_event_type_category(
                               (sl_event_type)type)), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, sl_severity_name(sev), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, session, -1, SQLITE_TRANSIENT);
    if (peer < 3) sqlite3_bind_text(st, 8, peers[peer], -1, SQLITE_STATIC);
    else sqlite3_bind_null(st, 8);
    if (model < 2)
      sqlite3_bind_text(st, 9, model ? "entry" : "entry,tag", -1,
                        SQLITE_STATIC);
    else sqlite3_bind_null(st, 9);
    if (sqlite3_step(st) != SQLITE_DONE) CHECK(0);
    sqlite3_reset(st);
  }
  sqlite3_finalize(st);
  CHECK_EQ_INT(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
}

/* A filter and the same question in plain SQL. */
typedef struct question {
  const char *name;
  const char *where;          /* SQL conditions, "1" for none              */
  sl_filter   f;              /* limit, offset, direction set per run       */
} question;

static const char *const t_batch[] = {"batch_ingestion"};
static const char *const t_two[] = {"sync_error", "peer_connected"};
static const char *const c_net[] = {"network"};

static int make_questions(question *q, const char *session) {
  static char corr_where[120];
  int n = 0;
  snprintf(corr_where, sizeof corr_where, "correlation_id = '%s'", session);
#define Q(label, sql) (sl_filter_init(&q[n].f), q[n].name = (label), \
                       q[n].where = (sql), &q[n++].f)
  Q("none", "1");
  sl_filter *f = Q("type", "event_type = 'batch_ingestion'");
  f->event_types = t_batch, f->n_event_types = 1;
  f = Q("two types", "event_type IN ('sync_error', 'peer_connected')");
  f->event_types = t_two, f->n_event_types = 2;
  f = Q("category", "category = 'network'");
  f->categories = c_net, f->n_categories = 1;
  f = Q("warning+", "severity IN ('warning', 'error')");
  f->severities = SL_SEV_BIT(SL_WARNING) | SL_SEV_BIT(SL_ERROR_SEVERITY);
  f = Q("peer", "peer_device_id = '0a9b8c7d-6e5f-4a3b-9c2d-000000000002'");
  f->peer = peers[1];
  f = Q("device + type", "device_id = '6f1c2a3b-4d5e-4f60-8a71-"
        "000000000001' AND event_type = 'batch_ingestion'");
  f->device = devices[0], f->event_types = t_batch, f->n_event_types = 1;
  f = Q("model", "instr(',' || model_types || ',', ',tag,') > 0");
  f->model_type = "tag";
  f = Q("correlation", corr_where);
  f->correlation_id = session;
  f = Q("type + warning+", "event_type = 'batch_ingestion' AND severity IN"
        " ('warning', 'error')");
  f->event_types = t_batch, f->n_event_types = 1;
  f->severities = SL_SEV_BIT(SL_WARNING) | SL_SEV_BIT(SL_ERROR_SEVERITY);
  f = Q("time + peer", "timestamp >= '2025-12-03T10:20:00+00:00' AND"
        " peer_device_id = '0a9b8c7d-6e5f-4a3b-9c2d-000000000001'");
  f->since = T0 + 300 * SL_NS_PER_SEC, f->has_since = 1, f->peer = peers[0];
  /* A type and a peer: the index with fewer entries is walked (a common
  ** type: the peer's; two rarer types: each type's). */
  f = Q("type + peer", "event_type = 'batch_ingestion' AND peer_device_id ="
        " '0a9b8c7d-6e5f-4a3b-9c2d-000000000002'");
  f->event_types = t_batch, f->n_event_types = 1, f->peer = peers[1];
  f = Q("two types + peer", "event_type IN ('sync_error', 'peer_connected')"
        " AND peer_device_id = '0a9b8c7d-6e5f-4a3b-9c2d-000000000002'");
  f->event_types = t_two, f->n_event_types = 2, f->peer = peers[1];
#undef Q
  return n;
}

/* The same through plain SQL: equal instants by ascending id both ways. */
static void ids_by_sql(sqlite3 *db, const question *q, sl_buf *out) {
  sqlite3_stmt *st;
  char num[24];
  char *sql = sqlite3_mprintf(
    "SELECT id FROM sync_event_log WHERE %s ORDER BY timestamp %s, id ASC"
    " LIMIT %lld OFFSET %lld", q->where, q->f.ascending ? "ASC" : "DESC",
    (long long)q->f.limit, (long long)q->f.offset);
  buf_empty(out);
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
    sl_buf_puts(out, sqlite3_errmsg(db));
    sqlite3_free(sql);
    return;
  }
  while (sqlite3_step(st) == SQLITE_ROW) {
    snprintf(num, sizeof num, "%lld,", (long long)sqlite3_column_int64(st, 0));
    sl_buf_puts(out, num);
  }
  sqlite3_finalize(st);
  sqlite3_free(sql);
}

/* Another program appends: rows of the newest times, and among them one
** of a time in the middle of the log (late to be written). */
static void append_rows(const char *path) {
  sqlite3 *db;
  char sql[600], ts[SL_TIME_BUFSZ];
  CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
  for (int i = 0; i < 6; i++) {
    int64_t t = i == 3 ? T0 + (ROWS / 6) * SL_NS_PER_SEC
                       : T0 + (ROWS + 10 + i) * SL_NS_PER_SEC;
    sl_time_format(t, 0, ts);
    snprintf(sql, sizeof sql, "INSERT INTO sync_event_log (timestamp,"
             " device_id, event_type, category, severity, summary,"
             " peer_device_id, model_types) VALUES ('%s', '%s', '%s',"
             " 'data_flow', '%s', 'x', '%s', 'tag')", ts, devices[i % 2],
             i == 3 ? "batch_ingestion" : "backfill_session_started",
             i == 3 ? "warning" : "info", peers[i % 2]);
    CHECK_EQ_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
  }
  sqlite3_close(db);
}

static void check_layout(int layout, const char *label) {
  static int64_t t[ROWS];
  static const int64_t pages[][2] = {{10, 0}, {100, 7}, {1000, 0},
                                     {5000, 0}, {1, 2999}};
  char path[2][300];
  question q[16];
  sl_buf got = {0}, want = {0};
  make_times(layout, t);
  for (int ours = 0; ours < 2; ours++) {
    snprintf(path[ours], sizeof path[ours], "%s/%s-%s.db", dir, label,
             ours ? "synclua" : "spacedrive");
    make_store(path[ours], t, ours);
  }
  int n = make_questions(q, "5e551090-0000-4000-8000-000000000007");
  for (int ours = 0; ours < 2; ours++) {
    sqlite3 *db;
    CHECK_EQ_INT(sqlite3_open_v2(path[ours], &db, SQLITE_OPEN_READONLY,
                                 NULL), SQLITE_OK);
    /* A handle per question (the probe's checks walk the timestamp
    ** index), then one kept across all of them (it soon finds the rows
    ** out of order once and checks against those), and the same handle
    ** again after another program appended rows: one of an old time among
    ** new ones, which puts the rows of later times out of order. */
    sl_store *s = NULL;
    sl_open_opts ro;
    memset(&ro, 0, sizeof ro);
    for (int pass = 0; pass < 3; pass++) {
      if (pass == 1) CHECK_EQ_INT(sl_store_open(path[ours], &ro, &s), SL_OK);
      if (pass == 2) append_rows(path[ours]);
      for (int i = 0; i < n; i++)
        for (int asc = 0; asc < 2; asc++)
          for (size_t k = 0; k < sizeof pages / sizeof *pages; k++) {
            q[i].f.ascending = asc;
            q[i].f.limit = pages[k][0];
            q[i].f.offset = pages[k][1];
            if (pass == 0)
              CHECK_EQ_INT(sl_store_open(path[ours], &ro, &s), SL_OK);
            ids_of(s, &q[i].f, &got);
            if (pass == 0) sl_store_release(s);
            ids_by_sql(db, &q[i], &want);
            if (strcmp(got.data, want.data) != 0)
              fprintf(stderr, "%s, %s store, pass %d: %s, %s, limit %lld"
                      " offset %lld\n", label,
                      ours ? "synclua's" : "Spacedrive's", pass, q[i].name,
                      asc ? "oldest first" : "newest first",
                      (long long)pages[k][0], (long long)pages[k][1]);
            CHECK_EQ_STR(got.data, want.data);
          }
    }
    sl_store_close(s);
    sl_store_release(s);
    sqlite3_close(db);
  }
  sl_buf_free(&got);
  sl_buf_free(&want);
  unlink(path[0]);
  unlink(path[1]);
}

int main(void) {
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  check_layout(IN_ORDER, "in-order");
  check_layout(SHUFFLED, "shuffled");
  check_layout(A_FEW_LATE, "a-few-late");
  rmdir(dir);
  return check_report("planner");
}
