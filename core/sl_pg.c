/*
** sl_pg.c -- the second store backend: a fleet of devices' logs in
** PostgreSQL (libpq), behind the same store and cursor contract as
** SQLite's (synclua.h, "the fleet store").
**
** The fleet schema (fleet_ddl below) is Spacedrive's columns plus
** library_id and device_label; the time three ways: the text as it was
** stored (timestamp_text, so exports give the same bytes), timestamptz
** (microseconds, the partition key: one partition a month, and a default
** one, checked to hold only rows whose time does not parse), and the exact
** instant in nanoseconds (instant_ns), which orders. `bad` keeps which
** columns the source's reader mended (sl_event.bad) and `nul_escaped`
** which text columns held a NUL, which PostgreSQL text cannot: in those,
** a NUL is stored as \0 and a backslash as \\.
**
** Cursors are server-side (DECLARE ... NO SCROLL CURSOR, FETCH a page at a
** time), so memory stays flat and several cursors of one connection can
** be read in turn, as a k-way merge and the reports do. They live in one
** read-only transaction, opened by the first and committed when the last
** closes, so that a new query sees what was committed since. A query runs
** in two parts, as sl_query.c's: the rows of known time by (instant, id)
** -- newest first, equal instants still by ascending id -- then those
** whose time does not parse, by id, and only without a time bound.
*/
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sli_pg.h"

#define PAGE_ROWS 1000        /* rows a FETCH brings                        */
#define MAX_PARAMS 48

/* The columns a cursor reads, in sl_column order, then the instant, the
** mended columns and the NUL-escaped ones. */
static const char read_columns[] =
  "id, timestamp_text, device_id, event_type, category, severity, summary,"
  " details, correlation_id, peer_device_id, model_types, record_count,"
  " duration_ms, instant_ns, bad, nul_escaped";
enum { COL_INSTANT = SL_COLUMN_COUNT, COL_BAD, COL_NUL };

/* Two programs making the schema at once would both find a table missing
** and one fail to make it (IF NOT EXISTS is no lock): each DDL string runs
** as one transaction, this lock its first statement, so they take turns. */
#define SCHEMA_LOCK "SELECT pg_advisory_xact_lock(7365726575);"

/* The fleet schema. The indexes serve the query model: a device's rows in
** time order (every scoped query), by type, and a session's rows. */
static const char fleet_ddl[] =
  SCHEMA_LOCK
  "CREATE TABLE IF NOT EXISTS sync_event_log ("
  " library_id uuid NOT NULL,"
  " log_device_id text NOT NULL,"
  " device_label text,"
  " id bigint NOT NULL,"
  " \"timestamp\" timestamptz,"
  " timestamp_text text NOT NULL,"
  " instant_ns bigint,"
  " device_id text,"
  " event_type text,"
  " category text,"
  " severity text,"
  " summary text,"
  " details text,"
  " correlation_id text,"
  " peer_device_id text,"
  " model_types text,"
  " record_count bigint,"
  " duration_ms bigint,"
  " bad integer NOT NULL DEFAULT 0,"
  " nul_escaped integer NOT NULL DEFAULT 0"
  ") PARTITION BY RANGE (\"timestamp\")";

/* The rest, once the table is known to be the fleet's. */
static const char fleet_more_ddl[] =
  SCHEMA_LOCK
  "CREATE TABLE IF NOT EXISTS sync_event_log_untimed"
  " PARTITION OF sync_event_log"
  " (CONSTRAINT untimed CHECK (\"timestamp\" IS NULL)) DEFAULT;"
  "CREATE INDEX IF NOT EXISTS sync_event_log_device_time ON sync_event_log"
  " (library_id, log_device_id, instant_ns, id);"
  "CREATE INDEX IF NOT EXISTS sync_event_log_device_type_time ON"
  " sync_event_log (library_id, log_device_id, event_type, instant_ns);"
  "CREATE INDEX IF NOT EXISTS sync_event_log_correlation ON sync_event_log"
  " (correlation_id);"
  "CREATE TABLE IF NOT EXISTS synclua_devices ("
  " library_id uuid NOT NULL,"
  " device_id text NOT NULL,"
  " label text,"
  " first_pushed bigserial,"
  " PRIMARY KEY (library_id, device_id));"
  "CREATE TABLE IF NOT EXISTS synclua_pushes ("
  " library_id uuid NOT NULL,"
  " source text NOT NULL,"
  " last_id bigint NOT NULL,"
  " pushed_at timestamptz NOT NULL DEFAULT now(),"
  " PRIMARY KEY (library_id, source));";

/* ------------------------------------------------------------ messages */

/* libpq's message, its first line, without "ERROR:  " or the newline. */
static const char *pg_why(PGconn *conn, const PGresult *res, char *buf,
                          size_t size) {
  const char *m = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
                      : NULL;
  if (!m || !*m) m = PQerrorMessage(conn);
  if (!m || !*m) m = "unknown failure";
  size_t n = strcspn(m, "\n");
  if (n >= size) n = size - 1;
  memcpy(buf, m, n);
  buf[n] = '\0';
  return buf;
}

int sli_pg_fail(sl_store *s, const PGresult *res, const char *what) {
  char why[SLI_ERRMSG_MAX / 2];
  pg_why(s->pg->conn, res, why, sizeof why);
  return sli_fail(s, SL_IOERR, "%s: %s%s%s", s->path, what ? what : "", what ? ": " : "",
                  why);
}

int sli_pg_exec(sl_store *s, const char *sql, int n, const char *const *v,
                const char *what, PGresult **out) {
  PGresult *res = n ? PQexecParams(s->pg->conn, sql, n, NULL, v, NULL, NULL,
                                   0)
                    : PQexec(s->pg->conn, sql);
  ExecStatusType st = PQresultStatus(res);
  if (out) *out = NULL;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    int rc = sli_pg_fail(s, res, what);
    PQclear(res);
    return rc;
  }
  if (out) *out = res;
  else PQclear(res);
  return SL_OK;
}

static int pg_exec(sl_store *s, const char *sql, const char *what) {
  return sli_pg_exec(s, sql, 0, NULL, what, NULL);
}

/* --------------------------------------------------------- connecting */

int sl_store_is_database(const char *path) {
  if (!path) return 0;
  if (!strncmp(path, "postgresql://", 13) || !strncmp(path, "postgres://", 11))
    return 1;
  /* keyword=value pairs: a word of letters and '_' before the first '=',
  ** with no '/' before it (a path has one). */
  const char *eq = strchr(path, '=');
  if (!eq || eq == path) return 0;
  for (const char *p = path; p < eq; p++)
    if (!((*p >= 'a' && *p <= 'z') || *p == '_' || *p == ' ')) return 0;
  char *err = NULL;
  PQconninfoOption *o = PQconninfoParse(path, &err);
  PQfreemem(err);
  if (!o) return 0;
  PQconninfoFree(o);
  return 1;
}

/* What the store is called in messages: the URI or keywords without a
** password. */
static char *display_name(const char *conninfo) {
  sl_buf b = {0};
  const char *at = strchr(conninfo, '@');
  const char *scheme = strstr(conninfo, "://");
  if (scheme && at && at > scheme) {
    /* postgresql://user:secret@host -> postgresql://user@host */
    const char *colon = memchr(scheme + 3, ':', (size_t)(at - scheme - 3));
    if (colon) {
      sl_buf_append(&b, conninfo, (size_t)(colon - conninfo));
      conninfo = at;
    }
  }
  /* password=... as a URI parameter or a keyword pair */
  const char *p = conninfo;
  for (;;) {
    const char *pw = strstr(p, "password=");
    if (!pw) break;
    sl_buf_append(&b, p, (size_t)(pw - p));
    sl_buf_puts(&b, "password=...");
    p = pw + 9;
    p += strcspn(p, "& ");
  }
  sl_buf_puts(&b, p);
  if (b.oom) {
    sl_buf_free(&b);
    return NULL;
  }
  return b.data ? b.data : sli_strdup("");
}

/* The table is the fleet's: it has library_id and instant_ns. */
static int check_fleet(sl_store *s) {
  PGresult *res = PQexec(s->pg->conn,
    "SELECT count(*), to_regclass('sync_event_log') IS NOT NULL"
    " FROM pg_attribute WHERE attrelid ="
    " to_regclass('sync_event_log') AND attname IN ('library_id',"
    " 'log_device_id', 'instant_ns', 'timestamp_text', 'nul_escaped') AND"
    " NOT attisdropped");
  if (PQresultStatus(res) != PGRES_TUPLES_OK) {
    int rc = sli_pg_fail(s, res, NULL);
    PQclear(res);
    return rc;
  }
  int n = atoi(PQgetvalue(res, 0, 0));
  int table = PQgetvalue(res, 0, 1)[0] == 't';
  PQclear(res);
  if (n == 5) return SL_OK;
  if (table)
    return sli_fail(s, SL_NOTDB, "%s: its sync_event_log is not a synclua "
                    "fleet table (no library_id, log_device_id, instant_ns): "
                    "give an empty database, or a fleet", s->path);
  return sli_fail(s, SL_NOTDB, "%s: no synclua fleet table (sync_event_log "
                  "with library_id): `synclua push --to` makes it", s->path);
}

int sli_pg_open(sl_store *s, const char *conninfo) {
  s->path = display_name(conninfo);
  if (!s->path) return sli_fail(s, SL_NOMEM, "out of memory");
  s->pg = calloc(1, sizeof *s->pg);
  if (!s->pg) return sli_fail(s, SL_NOMEM, "out of memory");
  s->pg->refs = 1;
  s->pg->conn = PQconnectdb(conninfo);
  if (!s->pg->conn) return sli_fail(s, SL_NOMEM, "out of memory");
  if (PQstatus(s->pg->conn) != CONNECTION_OK) {
    char why[SLI_ERRMSG_MAX / 2];
    return sli_fail(s, SL_IOERR, "%s: cannot connect: %s", s->path,
                    pg_why(s->pg->conn, NULL, why, sizeof why));
  }
  snprintf(s->identity, sizeof s->identity, "pg:%s:%s/%s",
           PQhost(s->pg->conn) ? PQhost(s->pg->conn) : "",
           PQport(s->pg->conn) ? PQport(s->pg->conn) : "",
           PQdb(s->pg->conn) ? PQdb(s->pg->conn) : "");
  /* Times in UTC whatever the server's zone: partition bounds and
  ** timestamptz text read the same everywhere. Reading never writes. */
  int rc = pg_exec(s, s->readonly
                        ? "SET TimeZone = 'UTC';"
                          " SET default_transaction_read_only = on;"
                          " SET client_min_messages = warning"
                        : "SET TimeZone = 'UTC';"
                          " SET client_min_messages = warning", NULL);
  if (rc == SL_OK && !s->readonly && !s->opts.no_create)
    rc = pg_exec(s, fleet_ddl, "schema");
  if (rc == SL_OK) rc = check_fleet(s);
  if (rc == SL_OK && !s->readonly && !s->opts.no_create)
    rc = pg_exec(s, fleet_more_ddl, "schema");
  return rc;
}

void sli_pg_release(sl_store *s) {
  sli_pg *pg = s->pg;
  if (!pg) return;
  s->pg = NULL;
  if (--pg->refs > 0) return;
  PQfinish(pg->conn);
  free(pg);
}

const char *sl_store_backend(const sl_store *s) {
  return s && s->pg ? "postgresql" : "sqlite";
}

int sl_store_scope(sl_store *fleet, const char *library_id,
                   const char *device_id, sl_store **out) {
  char lib[SL_UUID_BUFSZ];
  if (!out) return SL_MISUSE;
  *out = NULL;
  int rc = sli_store_usable(fleet);
  if (rc != SL_OK) return rc;
  if (!fleet->pg)
    return sli_fail(fleet, SL_MISUSE, "%s: only a PostgreSQL store has a "
                    "scope", fleet->path);
  if (library_id && sl_uuid_parse(library_id, strlen(library_id), lib))
    return sli_fail(fleet, SL_INVALID, "library_id: not a UUID: '%s'",
                    library_id);
  sl_store *s = calloc(1, sizeof *s);
  if (!s) return sli_fail(fleet, SL_NOMEM, "out of memory");
  pthread_mutex_init(&s->refs_lock, NULL);
  pthread_mutex_init(&s->bad_lock, NULL);
  s->refs = 1;
  s->readonly = 1;
  s->opts = fleet->opts;
  s->opts.mode = SL_OPEN_READ;
  s->pg = fleet->pg;
  s->pg->refs++;
  s->path = sli_strdup(fleet->path);
  s->pg_library = library_id ? sli_strdup(lib)
                  : fleet->pg_library ? sli_strdup(fleet->pg_library) : NULL;
  s->pg_device = device_id ? sli_strdup(device_id)
                 : fleet->pg_device ? sli_strdup(fleet->pg_device) : NULL;
  /* The connection's identity and the scope, hashed to fit. */
  uint64_t h = SLI_FNV_OFFSET;
  const char *parts[3] = {fleet->identity, s->pg_library, s->pg_device};
  for (int i = 0; i < 3; i++) {
    const char *p = parts[i] ? parts[i] : "*";
    h = sli_fnv1a(h, p, strlen(p), 0) * SLI_FNV_PRIME; /* then a 0 byte */
  }
  snprintf(s->identity, sizeof s->identity, "pg:%016" PRIx64, h);
  if (!s->path || (library_id && !s->pg_library) ||
      (device_id && !s->pg_device)) {
    sl_store_release(s);
    return sli_fail(fleet, SL_NOMEM, "out of memory");
  }
  *out = s;
  return SL_OK;
}

/* ------------------------------------------------------------ queries */

/* A statement with its parameters, as text, owned. */
typedef struct pgsql {
  sl_buf      sql;
  sl_buf      vals;           /* the values, each with its NUL              */
  size_t      at[MAX_PARAMS]; /* where each starts in vals                  */
  int         null[MAX_PARAMS];
  int         n;
  int         overflow;
} pgsql;

static void param(pgsql *q, const char *v) {
  char ref[16];
  if (q->n == MAX_PARAMS) {
    q->overflow = 1;
    return;
  }
  q->null[q->n] = v == NULL;
  q->at[q->n] = q->vals.len;
  if (v) sl_buf_append(&q->vals, v, strlen(v) + 1);
  q->n++;
  snprintf(ref, sizeof ref, "$%d", q->n);
  sl_buf_puts(&q->sql, ref);
}

static void param_int(pgsql *q, int64_t v) {
  char text[24];
  snprintf(text, sizeof text, "%" PRId64, v);
  param(q, text);
}

/* The instant as timestamptz text, down to the microsecond (as the
** partition key holds it). */
static void param_time(pgsql *q, int64_t instant) {
  char text[SL_TIME_BUFSZ];
  int64_t us = instant / 1000 - (instant % 1000 < 0);
  sl_time_format(us * 1000, 0, text);
  param(q, text);
}

static void in_list(pgsql *q, const char *col, const char *const *v,
                    size_t n) {
  sl_buf_puts(&q->sql, " AND ");
  sl_buf_puts(&q->sql, col);
  sl_buf_puts(&q->sql, " IN (");
  for (size_t i = 0; i < n; i++) {
    if (i) sl_buf_puts(&q->sql, ", ");
    param(q, v[i]);
  }
  sl_buf_puts(&q->sql, ")");
}

static void equals(pgsql *q, const char *col, const char *v, int id) {
  char norm[SL_UUID_BUFSZ];
  sl_buf_puts(&q->sql, " AND ");
  sl_buf_puts(&q->sql, col);
  sl_buf_puts(&q->sql, " = ");
  param(q, id && sl_uuid_normalize(v, norm) == SL_OK ? norm : v);
}

/* The scope and every filter but time and order. */
static void conditions(pgsql *q, const sl_store *s, const sl_filter *f) {
  sl_buf_puts(&q->sql, " FROM sync_event_log WHERE true");
  if (s->pg_library) {
    sl_buf_puts(&q->sql, " AND library_id = ");
    param(q, s->pg_library);
    sl_buf_puts(&q->sql, "::uuid");
  }
  if (s->pg_device) equals(q, "log_device_id", s->pg_device, 0);
  if (f->n_event_types)
    in_list(q, "event_type", f->event_types, f->n_event_types);
  if (f->n_categories) in_list(q, "category", f->categories, f->n_categories);
  if (f->severities) {
    const char *sev[SL_SEVERITY_COUNT];
    size_t n = 0;
    for (int i = 0; i < SL_SEVERITY_COUNT; i++)
      if (f->severities & SL_SEV_BIT(i)) sev[n++] = sl_severity_name(i);
    in_list(q, "severity", sev, n);
  }
  if (f->peer) equals(q, "peer_device_id", f->peer, 1);
  if (f->device) equals(q, "device_id", f->device, 1);
  if (f->correlation_id) equals(q, "correlation_id", f->correlation_id, 1);
  if (f->has_after_id) {
    sl_buf_puts(&q->sql, " AND id > ");
    param_int(q, f->after_id);
  }
  if (f->has_through_id) {
    sl_buf_puts(&q->sql, " AND id <= ");
    param_int(q, f->through_id);
  }
  if (f->model_type) {
    /* An element of the comma-joined list, not a substring of one. */
    sl_buf_puts(&q->sql, " AND ");
    param(q, f->model_type);
    sl_buf_puts(&q->sql, " = ANY (string_to_array(model_types, ','))");
  }
}

/* Rows of known time within the filter's bounds; the timestamptz bounds
** let the planner skip whole months. */
static void timed(pgsql *q, const sl_filter *f) {
  sl_buf_puts(&q->sql, " AND instant_ns IS NOT NULL");
  if (f->has_since) {
    sl_buf_puts(&q->sql, " AND instant_ns >= ");
    param_int(q, f->since);
    sl_buf_puts(&q->sql, " AND \"timestamp\" >= ");
    param_time(q, f->since);
  }
  if (f->has_until) {
    sl_buf_puts(&q->sql, " AND instant_ns <= ");
    param_int(q, f->until);
    sl_buf_puts(&q->sql, " AND \"timestamp\" <= ");
    param_time(q, f->until);
  }
}

static const char *const *values(const pgsql *q, const char **v) {
  for (int i = 0; i < q->n; i++)
    v[i] = q->null[i] ? NULL : q->vals.data + q->at[i];
  return v;
}

static void pgsql_free(pgsql *q) {
  sl_buf_free(&q->sql);
  sl_buf_free(&q->vals);
}

/* Run q to its result: rows (PGRES_TUPLES_OK) or a command's; the
** failure on s otherwise, the result cleared. */
static int run(sl_store *s, pgsql *q, PGresult **out, const char *what) {
  const char *v[MAX_PARAMS];
  *out = NULL;
  if (q->overflow) return sli_fail(s, SL_INVALID, "too many values in one "
                                   "filter");
  if (q->sql.oom || q->vals.oom)
    return sli_fail(s, SL_NOMEM, "out of memory");
  return sli_pg_exec(s, q->sql.data, q->n, values(q, v), what, out);
}

/* One integer answer of q (none: `none`). */
static int run_int(sl_store *s, pgsql *q, int64_t none, int64_t *out) {
  PGresult *res;
  int rc = run(s, q, &res, NULL);
  if (rc != SL_OK) return rc;
  *out = PQntuples(res) > 0 && !PQgetisnull(res, 0, 0)
           ? strtoll(PQgetvalue(res, 0, 0), NULL, 10)
           : none;
  PQclear(res);
  return SL_OK;
}

/* ------------------------------------------------------------ cursors */

struct sli_pgcur {
  sl_store *store;            /* retained by the sl_cursor                  */
  pgsql     part[2];          /* timed rows; then untimed ones, or none     */
  int       n_parts;
  int       phase;            /* the part being read; n_parts once done     */
  int       declared;         /* its server-side cursor is open             */
  char      name[24];         /* that cursor's name                         */
  PGresult *page;             /* the rows FETCH brought                     */
  int       row;              /* the next row of page                       */
};

/* The transaction the cursors live in, opened for the first. */
static int cursor_opened(sl_store *s) {
  sli_pg *pg = s->pg;
  if (!pg->in_txn) {
    int rc = pg_exec(s, "BEGIN READ ONLY", NULL);
    if (rc != SL_OK) return rc;
    pg->in_txn = 1;
  }
  pg->cursors++;
  return SL_OK;
}

/* ... and ended with the last, so that the next query sees new rows. */
static void cursor_closed(sl_store *s) {
  sli_pg *pg = s->pg;
  if (--pg->cursors > 0 || !pg->in_txn) return;
  pg->in_txn = 0;
  PQclear(PQexec(pg->conn, "COMMIT"));
}

static void part_close(sli_pgcur *pc) {
  PQclear(pc->page);
  pc->page = NULL;
  pc->row = 0;
  if (!pc->declared) return;
  pc->declared = 0;
  char sql[48];
  snprintf(sql, sizeof sql, "CLOSE %s", pc->name);
  if (PQstatus(pc->store->pg->conn) == CONNECTION_OK)
    PQclear(PQexec(pc->store->pg->conn, sql));
  cursor_closed(pc->store);
}

/* DECLARE the current part's cursor. */
static int part_open(sli_pgcur *pc, char *errmsg) {
  sl_store *s = pc->store;
  pgsql *q = &pc->part[pc->phase];
  const char *v[MAX_PARAMS];
  int rc = cursor_opened(s);
  if (rc == SL_OK) {
    snprintf(pc->name, sizeof pc->name, "sl_c%u", ++s->pg->next_name);
    sl_buf decl = {0};
    sl_buf_puts(&decl, "DECLARE ");
    sl_buf_puts(&decl, pc->name);
    sl_buf_puts(&decl, " NO SCROLL CURSOR FOR ");
    sl_buf_puts(&decl, q->sql.data);
    if (decl.oom) {
      rc = sli_fail(s, SL_NOMEM, "out of memory");
    } else {
      PGresult *res = PQexecParams(s->pg->conn, decl.data, q->n, NULL,
                                   values(q, v), NULL, NULL, 0);
      if (PQresultStatus(res) != PGRES_COMMAND_OK) rc = sli_pg_fail(s, res, NULL);
      PQclear(res);
    }
    sl_buf_free(&decl);
    if (rc == SL_OK) pc->declared = 1;
    else cursor_closed(s);
  }
  if (rc != SL_OK && errmsg)
    snprintf(errmsg, SLI_ERRMSG_MAX, "%s", s->errmsg);
  return rc;
}

int sli_pg_query(sl_store *s, const sl_filter *f, sli_pgcur **out,
                 int64_t *unparsable) {
  *out = NULL;
  *unparsable = 0;
  sli_pgcur *pc = calloc(1, sizeof *pc);
  if (!pc) return sli_fail(s, SL_NOMEM, "out of memory");
  pc->store = s;
  int bounded = f->has_since || f->has_until;
  /* A limit reaches no further than limit + offset rows of each part
  ** (the cursor skips the offset). */
  int64_t reach = f->limit < 0 ? -1
                : f->limit > INT64_MAX - f->offset ? INT64_MAX
                                                   : f->limit + f->offset;
  pgsql *t = &pc->part[0];
  sl_buf_puts(&t->sql, "SELECT ");
  sl_buf_puts(&t->sql, read_columns);
  conditions(t, s, f);
  timed(t, f);
  sl_buf_puts(&t->sql, f->ascending ? " ORDER BY instant_ns, id"
                                    : " ORDER BY instant_ns DESC, id");
  pc->n_parts = 1;
  pgsql *u = &pc->part[1];
  sl_buf_puts(&u->sql, "SELECT ");
  sl_buf_puts(&u->sql, read_columns);
  conditions(u, s, f);
  sl_buf_puts(&u->sql, " AND instant_ns IS NULL AND \"timestamp\" IS NULL");
  int rc = SL_OK;
  if (bounded) {
    /* A bound leaves the rows of unknown time out: counted. */
    pgsql c = {0};
    sl_buf_puts(&c.sql, "SELECT count(*)");
    conditions(&c, s, f);
    sl_buf_puts(&c.sql, " AND instant_ns IS NULL AND \"timestamp\" IS NULL");
    rc = run_int(s, &c, 0, unparsable);
    pgsql_free(&c);
  } else {
    sl_buf_puts(&u->sql, f->ascending ? " ORDER BY id" : " ORDER BY id DESC");
    pc->n_parts = 2;
  }
  for (int i = 0; i < pc->n_parts && reach >= 0; i++) {
    sl_buf_puts(&pc->part[i].sql, " LIMIT ");
    param_int(&pc->part[i], reach);
  }
  if (rc == SL_OK && (t->overflow || u->overflow))
    rc = sli_fail(s, SL_INVALID, "too many values in one filter");
  if (rc == SL_OK && (t->sql.oom || u->sql.oom || t->vals.oom || u->vals.oom))
    rc = sli_fail(s, SL_NOMEM, "out of memory");
  if (rc != SL_OK) {
    sli_pg_close(pc);
    return rc;
  }
  *out = pc;
  return SL_OK;
}

/* Text column col of the page's current row into ev, unescaped into fix
** when it held a NUL (its offset in fix into *fixed_at). */
static void read_text(sli_pgcur *pc, int col, unsigned nul, sl_event *ev,
                      const char **slot, sl_buf *fix, size_t *fixed_at) {
  PGresult *p = pc->page;
  *fixed_at = (size_t)-1;
  if (PQgetisnull(p, pc->row, col)) {
    *slot = NULL;
    ev->len[col] = 0;
    return;
  }
  const char *v = PQgetvalue(p, pc->row, col);
  size_t n = (size_t)PQgetlength(p, pc->row, col);
  *slot = v;
  ev->len[col] = n;
  if (!(nul & SL_COLUMN_BIT(col))) return;
  *fixed_at = fix->len;
  size_t start = fix->len;
  for (size_t i = 0; i < n; i++) {
    char ch = v[i];
    if (ch == '\\' && i + 1 < n) ch = v[++i] == '0' ? '\0' : v[i];
    sl_buf_append(fix, &ch, 1);
  }
  ev->len[col] = fix->len - start;
  sl_buf_append(fix, "", 1); /* each its own NUL */
}

static int64_t int_at(PGresult *p, int row, int col, int *has) {
  *has = !PQgetisnull(p, row, col);
  return *has ? strtoll(PQgetvalue(p, row, col), NULL, 10) : 0;
}

int sli_pg_next(sli_pgcur *pc, sl_event *ev, sl_buf *fix, char *errmsg) {
  sl_store *s = pc->store;
  while (!pc->page || pc->row >= PQntuples(pc->page)) {
    if (pc->page && PQntuples(pc->page) < PAGE_ROWS) {
      part_close(pc); /* that part is done */
      pc->phase++;
    }
    if (pc->phase >= pc->n_parts) return SL_DONE;
    int rc;
    if (!pc->declared && (rc = part_open(pc, errmsg)) != SL_OK) return rc;
    PQclear(pc->page);
    pc->row = 0;
    char sql[64];
    snprintf(sql, sizeof sql, "FETCH FORWARD %d FROM %s", PAGE_ROWS,
             pc->name);
    pc->page = PQexec(s->pg->conn, sql);
    if (PQresultStatus(pc->page) != PGRES_TUPLES_OK) {
      rc = sli_pg_fail(s, pc->page, NULL);
      snprintf(errmsg, SLI_ERRMSG_MAX, "%s", s->errmsg);
      PQclear(pc->page);
      pc->page = NULL;
      return rc;
    }
  }
  PGresult *p = pc->page;
  int has;
  const char **text[SL_COL_MODEL_TYPES + 1] = {
    NULL, &ev->timestamp, &ev->device_id, &ev->event_type, &ev->category,
    &ev->severity, &ev->summary, &ev->details, &ev->correlation_id,
    &ev->peer_device_id, &ev->model_types};
  size_t fixed_at[SL_COL_MODEL_TYPES + 1];
  unsigned nul = (unsigned)int_at(p, pc->row, COL_NUL, &has);
  sl_buf_reset(fix);
  ev->id = int_at(p, pc->row, SL_COL_ID, &ev->has_id);
  ev->instant = int_at(p, pc->row, COL_INSTANT, &ev->has_instant);
  for (int col = SL_COL_TIMESTAMP; col <= SL_COL_MODEL_TYPES; col++)
    read_text(pc, col, nul, ev, text[col], fix, &fixed_at[col]);
  if (fix->oom) {
    snprintf(errmsg, SLI_ERRMSG_MAX, "%s: out of memory", s->path);
    return SL_NOMEM;
  }
  for (int col = SL_COL_TIMESTAMP; col <= SL_COL_MODEL_TYPES; col++)
    if (fixed_at[col] != (size_t)-1) *text[col] = fix->data + fixed_at[col];
  ev->record_count = int_at(p, pc->row, SL_COL_RECORD_COUNT,
                            &ev->has_record_count);
  ev->duration_ms = int_at(p, pc->row, SL_COL_DURATION_MS,
                           &ev->has_duration_ms);
  ev->bad = (unsigned)int_at(p, pc->row, COL_BAD, &has);
  pc->row++;
  return SL_ROW;
}

void sli_pg_rewind(sli_pgcur *pc) {
  part_close(pc);
  pc->phase = 0;
}

void sli_pg_close(sli_pgcur *pc) {
  if (!pc) return;
  part_close(pc);
  pgsql_free(&pc->part[0]);
  pgsql_free(&pc->part[1]);
  free(pc);
}

/* --------------------------------------------------- counts and marks */

int sli_pg_count(sl_store *s, const sl_filter *f, int64_t bound,
                 int64_t *n) {
  pgsql q = {0};
  sl_buf_puts(&q.sql, "SELECT count(*) FROM (SELECT 1");
  conditions(&q, s, f);
  /* With a bound, rows of unknown time are left out (as sl_query's). */
  if (f->has_since || f->has_until) timed(&q, f);
  if (bound >= 0) {
    sl_buf_puts(&q.sql, " LIMIT ");
    param_int(&q, bound);
  }
  sl_buf_puts(&q.sql, ") AS rows");
  int rc = run_int(s, &q, 0, n);
  pgsql_free(&q);
  return rc;
}

int sli_pg_max_id(sl_store *s, int64_t *id) {
  sl_filter all;
  sl_filter_init(&all);
  pgsql q = {0};
  sl_buf_puts(&q.sql, "SELECT max(id)");
  conditions(&q, s, &all);
  int rc = run_int(s, &q, 0, id);
  pgsql_free(&q);
  return rc;
}

int sli_pg_time_report(sl_store *s, sl_time_report *out) {
  sl_filter all;
  sl_filter_init(&all);
  memset(out, 0, sizeof *out);
  int rc = sli_pg_count(s, &all, -1, &out->rows);
  /* Times are kept as they were written: noncanonical is what
  ** to_rfc3339 would not write back. */
  pgsql q = {0};
  sl_buf_puts(&q.sql, "SELECT count(*) FILTER (WHERE instant_ns IS NULL),"
                      " count(*) FILTER (WHERE instant_ns IS NOT NULL AND"
                      " timestamp_text !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T"
                      "[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?\\+00:00$')");
  conditions(&q, s, &all);
  PGresult *res = NULL;
  if (rc == SL_OK) rc = run(s, &q, &res, NULL);
  if (rc == SL_OK) {
    out->unparsable = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    out->noncanonical = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
  }
  PQclear(res);
  pgsql_free(&q);
  if (rc != SL_OK || out->unparsable == 0) return rc;
  pgsql ids = {0};
  sl_buf_puts(&ids.sql, "SELECT id");
  conditions(&ids, s, &all);
  sl_buf_puts(&ids.sql, " AND instant_ns IS NULL AND \"timestamp\" IS NULL"
                        " ORDER BY id LIMIT 3");
  rc = run(s, &ids, &res, NULL);
  for (int i = 0; rc == SL_OK && i < PQntuples(res); i++)
    out->first_bad_id[i] = strtoll(PQgetvalue(res, i, 0), NULL, 10);
  PQclear(res);
  pgsql_free(&ids);
  return rc;
}

int sl_store_devices(sl_store *s,
                     int (*each)(void *ctx, const sl_device_info *device),
                     void *ctx) {
  if (!each) return SL_MISUSE;
  int rc = sli_store_usable(s);
  if (rc != SL_OK) return rc;
  if (!s->pg)
    return sli_fail(s, SL_MISUSE, "%s: only a PostgreSQL store lists its "
                    "devices", s->path);
  pgsql q = {0};
  sl_buf_puts(&q.sql, "SELECT library_id::text, device_id, label FROM"
                      " synclua_devices WHERE true");
  if (s->pg_library) {
    sl_buf_puts(&q.sql, " AND library_id = ");
    param(&q, s->pg_library);
    sl_buf_puts(&q.sql, "::uuid");
  }
  if (s->pg_device) equals(&q, "device_id", s->pg_device, 0);
  sl_buf_puts(&q.sql, " ORDER BY library_id, first_pushed");
  PGresult *res;
  rc = run(s, &q, &res, NULL);
  pgsql_free(&q);
  if (rc != SL_OK) return rc;
  for (int i = 0; i < PQntuples(res); i++) {
    sl_device_info d = {
      PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
      PQgetisnull(res, i, 2) ? NULL : PQgetvalue(res, i, 2)};
    if (each(ctx, &d)) break;
  }
  PQclear(res);
  return SL_OK;
}

/* ----------------------------------------------------------- retention */

/* The months wholly before the month of cutoff, dropped whole (or
** counted, dry_run): retention keeps every row of a month that reaches
** past the cutoff, and says so by moving the cutoff back to the month's
** start. */
int sli_pg_prune(sl_store *s, int64_t cutoff, int dry_run,
                 sl_prune_result *out) {
  memset(out, 0, sizeof *out);
  pgsql b = {0};
  sl_buf_puts(&b.sql, "SELECT extract(epoch FROM date_trunc('month',"
                      " to_timestamp(");
  param_int(&b, cutoff / SL_NS_PER_SEC - (cutoff % SL_NS_PER_SEC < 0));
  sl_buf_puts(&b.sql, ")))::bigint");
  int64_t month = 0;
  int rc = run_int(s, &b, 0, &month);
  pgsql_free(&b);
  if (rc != SL_OK) return rc;
  out->cutoff = month * SL_NS_PER_SEC;
  pgsql q = {0};
  sl_buf_puts(&q.sql,
    "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid ="
    " i.inhrelid WHERE i.inhparent = 'sync_event_log'::regclass AND"
    " c.relname ~ '^sync_event_log_p[0-9]{6}$' AND"
    " to_timestamp(right(c.relname, 6), 'YYYYMM') < to_timestamp(");
  param_int(&q, month);
  sl_buf_puts(&q.sql, ") ORDER BY c.relname");
  PGresult *parts;
  rc = pg_exec(s, "BEGIN", NULL);
  if (rc == SL_OK) rc = run(s, &q, &parts, NULL);
  pgsql_free(&q);
  if (rc != SL_OK) {
    PQclear(PQexec(s->pg->conn, "ROLLBACK"));
    return rc;
  }
  for (int i = 0; rc == SL_OK && i < PQntuples(parts); i++) {
    const char *name = PQgetvalue(parts, i, 0);
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT count(*), min(instant_ns),"
             " max(instant_ns) FROM %s", name);
    PGresult *res = PQexec(s->pg->conn, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
      rc = sli_pg_fail(s, res, name);
    } else {
      int64_t n = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
      if (n > 0) {
        int64_t lo = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
        int64_t hi = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
        if (out->count == 0 || lo < out->oldest) out->oldest = lo;
        if (out->count == 0 || hi > out->newest) out->newest = hi;
        out->count += n;
      }
      if (!dry_run) {
        snprintf(sql, sizeof sql, "DROP TABLE %s", name);
        rc = pg_exec(s, sql, name);
      }
    }
    PQclear(res);
  }
  PQclear(parts);
  if (rc == SL_OK) {
    pgsql u = {0};
    sl_buf_puts(&u.sql, "SELECT count(*) FROM sync_event_log_untimed");
    rc = run_int(s, &u, 0, &out->unparsable);
    pgsql_free(&u);
  }
  if (rc == SL_OK) rc = pg_exec(s, "COMMIT", NULL);
  if (rc != SL_OK) PQclear(PQexec(s->pg->conn, "ROLLBACK"));
  return rc;
}
