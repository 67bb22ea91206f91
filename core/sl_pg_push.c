/*
** sl_pg_push.c -- sl_store_push: a store's rows into a fleet store in
** PostgreSQL, with COPY.
**
** One transaction per source, holding a lock on its device's log so that
** two pushes of one device take turns. The rows stream from the source's
** cursor (oldest first, as its reader mends them) in COPY's text format,
** and only the first of each (device, instant, type, summary) of the
** source goes (the time text stands in for the instant of a row whose
** time does not parse): equal instants come together, so the cursor's
** current run of one instant is all there is to compare with.
**
** A device the fleet has no row of yet takes the rows straight into the
** table, once the months between its first and last instant have their
** partitions: as fast as COPY goes. Otherwise (or for a source whose
** times span more than MAX_MONTHS) the rows go into a temporary staging
** table, the months they fall in get their partitions, and one INSERT ...
** SELECT takes those the fleet has no such row of. The source's mark
** (synclua_pushes: the highest id read, keyed by its file and first row)
** lets the next push of it read only what came after; a push cut short
** left nothing, and the next one starts from the last mark.
*/
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sli_pg.h"

#define COPY_CHUNK (256 * 1024) /* bytes sent to the server at a time       */
#define MAX_MONTHS 240          /* a source's span taken straight in, at most */

/* The staging table: the fleet's columns but library and label. */
static const char stage_ddl[] =
  "CREATE TEMP TABLE sl_stage ("
  " id bigint, \"timestamp\" timestamptz, timestamp_text text,"
  " instant_ns bigint, device_id text, event_type text, category text,"
  " severity text, summary text, details text, correlation_id text,"
  " peer_device_id text, model_types text, record_count bigint,"
  " duration_ms bigint, bad integer, nul_escaped integer)"
  " ON COMMIT DROP";

static const char copy_sql[] =
  "COPY sl_stage (id, \"timestamp\", timestamp_text, instant_ns, device_id,"
  " event_type, category, severity, summary, details, correlation_id,"
  " peer_device_id, model_types, record_count, duration_ms, bad,"
  " nul_escaped) FROM STDIN";

/* The rows straight into the fleet's table: the same columns, after the
** library, the log's device and its label. */
static const char copy_direct_sql[] =
  "COPY sync_event_log (library_id, log_device_id, device_label, id,"
  " \"timestamp\", timestamp_text, instant_ns, device_id, event_type,"
  " category, severity, summary, details, correlation_id, peer_device_id,"
  " model_types, record_count, duration_ms, bad, nul_escaped) FROM STDIN";

/* Of the months given (YYYYMM, as an array), those with no partition. */
static const char missing_months_sql[] =
  "SELECT m FROM unnest($1::text[]) AS m"
  " WHERE to_regclass('sync_event_log_p' || m) IS NULL ORDER BY m";

/* The new rows in: the first of each key in the source (lowest id), when
** the fleet has none of the library with that key. */
static const char insert_sql[] =
  "INSERT INTO sync_event_log (library_id, log_device_id, device_label, id,"
  " \"timestamp\","
  " timestamp_text, instant_ns, device_id, event_type, category, severity,"
  " summary, details, correlation_id, peer_device_id, model_types,"
  " record_count, duration_ms, bad, nul_escaped)"
  " SELECT $1::uuid, $3, $2, s.id, s.\"timestamp\", s.timestamp_text,"
  " s.instant_ns, s.device_id, s.event_type, s.category, s.severity,"
  " s.summary, s.details, s.correlation_id, s.peer_device_id,"
  " s.model_types, s.record_count, s.duration_ms, s.bad, s.nul_escaped"
  " FROM (SELECT DISTINCT ON (device_id, instant_ns, timestamp_text,"
  " event_type, summary) * FROM sl_stage ORDER BY device_id, instant_ns,"
  " timestamp_text, event_type, summary, id) AS s"
  " WHERE NOT EXISTS (SELECT 1 FROM sync_event_log AS f WHERE"
  " f.library_id = $1::uuid AND f.log_device_id = $3"
  " AND f.device_id IS NOT DISTINCT FROM s.device_id"
  " AND f.event_type IS NOT DISTINCT FROM s.event_type"
  " AND f.summary IS NOT DISTINCT FROM s.summary AND ("
  " (s.instant_ns IS NOT NULL AND f.instant_ns = s.instant_ns"
  "  AND f.\"timestamp\" = s.\"timestamp\")"
  " OR (s.instant_ns IS NULL AND f.instant_ns IS NULL"
  "  AND f.\"timestamp\" IS NULL AND f.timestamp_text = s.timestamp_text)))";

static const char devices_sql[] =
  "INSERT INTO synclua_devices (library_id, device_id, label)"
  " VALUES ($1::uuid, $3, $2)"
  " ON CONFLICT (library_id, device_id) DO UPDATE SET label ="
  " coalesce(EXCLUDED.label, synclua_devices.label)";

static const char mark_sql[] =
  "INSERT INTO synclua_pushes (library_id, source, last_id)"
  " VALUES ($1::uuid, $2, $3) ON CONFLICT (library_id, source) DO UPDATE"
  " SET last_id = greatest(synclua_pushes.last_id, EXCLUDED.last_id),"
  " pushed_at = now()";

/* A text value in COPY's text format: NULL as \N; backslash, tab, newline
** and carriage return escaped. A column that held a NUL was escaped for
** the fleet first (sl_pg.c: \0 and \\), so its backslashes double twice. */
static void copy_text(sl_buf *b, const char *s, size_t n, int nul_escaped) {
  if (!s) {
    sl_buf_puts(b, "\\N");
    return;
  }
  size_t from = 0;
  for (size_t i = 0; i < n; i++) {
    const char *rep = NULL;
    switch (s[i]) {
    case '\\': rep = nul_escaped ? "\\\\\\\\" : "\\\\"; break;
    case '\t': rep = "\\t"; break;
    case '\n': rep = "\\n"; break;
    case '\r': rep = "\\r"; break;
    case '\0': rep = "\\\\0"; break;
    default: continue;
    }
    sl_buf_append(b, s + from, i - from);
    sl_buf_puts(b, rep);
    from = i + 1;
  }
  sl_buf_append(b, s + from, n - from);
}

static void copy_int(sl_buf *b, int has, int64_t v) {
  char text[24];
  if (!has) {
    sl_buf_puts(b, "\\N");
    return;
  }
  snprintf(text, sizeof text, "%" PRId64, v);
  sl_buf_puts(b, text);
}

/* One row of ev in COPY's text format. */
static void copy_row(sl_buf *b, const sl_event *ev) {
  unsigned nul = 0;
  const char *text[SL_COLUMN_COUNT];
  size_t len[SL_COLUMN_COUNT];
  for (int col = SL_COL_TIMESTAMP; col <= SL_COL_MODEL_TYPES; col++) {
    text[col] = sl_event_text(ev, col, &len[col]);
    if (text[col] && memchr(text[col], '\0', len[col]))
      nul |= SL_COLUMN_BIT(col);
  }
  copy_int(b, 1, ev->id);
  sl_buf_puts(b, "\t");
  if (ev->has_instant) {
    /* down to the microsecond, as the partition key holds it */
    char ts[SL_TIME_BUFSZ];
    int64_t us = ev->instant / 1000 - (ev->instant % 1000 < 0);
    sl_time_format(us * 1000, 0, ts);
    sl_buf_puts(b, ts);
  } else {
    sl_buf_puts(b, "\\N");
  }
  sl_buf_puts(b, "\t");
  /* timestamp_text is NOT NULL: a missing time is kept as "" */
  copy_text(b, text[SL_COL_TIMESTAMP] ? text[SL_COL_TIMESTAMP] : "",
            len[SL_COL_TIMESTAMP], nul & SL_COLUMN_BIT(SL_COL_TIMESTAMP));
  sl_buf_puts(b, "\t");
  copy_int(b, ev->has_instant, ev->instant);
  for (int col = SL_COL_DEVICE_ID; col <= SL_COL_MODEL_TYPES; col++) {
    sl_buf_puts(b, "\t");
    copy_text(b, text[col], len[col], nul & SL_COLUMN_BIT(col));
  }
  sl_buf_puts(b, "\t");
  copy_int(b, ev->has_record_count, ev->record_count);
  sl_buf_puts(b, "\t");
  copy_int(b, ev->has_duration_ms, ev->duration_ms);
  sl_buf_puts(b, "\t");
  copy_int(b, 1, ev->bad);
  sl_buf_puts(b, "\t");
  copy_int(b, 1, nul);
  sl_buf_puts(b, "\n");
}

/* What names the source in the fleet's marks: its device, the file's
** identity and its first row (a file replaced, or pruned, starts another
** lineage, read from the start). "" for an empty store. */
static int source_key(sl_store *src, const char *device_id, char *key,
                      size_t size) {
  sl_filter f;
  sl_cursor *c;
  const sl_event *ev;
  sl_filter_init(&f);
  f.ascending = 1;
  f.limit = 1;
  int rc = sl_query(src, &f, &c);
  if (rc != SL_OK) return rc;
  rc = sl_cursor_next(c, &ev);
  if (rc == SL_ROW) {
    size_t n;
    const char *ts = sl_event_text(ev, SL_COL_TIMESTAMP, &n);
    snprintf(key, size, "%s|%s|%" PRId64 "|%s", device_id ? device_id : "",
             sl_store_identity(src), ev->id, ts ? ts : "");
    rc = SL_OK;
  } else if (rc == SL_DONE) {
    key[0] = '\0';
    rc = SL_OK;
  } else {
    rc = sli_fail(src, rc, "%s", sl_cursor_errmsg(c));
  }
  sl_cursor_close(c);
  return rc;
}

/* ---------------------------------------------------------- months */

/* A set of months, YYYYMM each, kept sorted. */
typedef struct months {
  int   *ym;
  size_t n, cap;
  int    oom;
} months;

static void months_add(months *m, int ym) {
  size_t i = 0;
  while (i < m->n && m->ym[i] < ym) i++;
  if (i < m->n && m->ym[i] == ym) return;
  if (m->n == m->cap) {
    size_t cap = m->cap ? 2 * m->cap : 16;
    int *p = realloc(m->ym, cap * sizeof *p);
    if (!p) {
      m->oom = 1;
      return;
    }
    m->ym = p;
    m->cap = cap;
  }
  memmove(m->ym + i + 1, m->ym + i, (m->n - i) * sizeof *m->ym);
  m->ym[i] = ym;
  m->n++;
}

/* The month (YYYYMM) of an instant as the partition key holds it: down to
** the microsecond, in UTC. */
static int month_of(int64_t instant) {
  char t[SL_TIME_BUFSZ];
  int64_t us = instant / 1000 - (instant % 1000 < 0);
  sl_time_format(us * 1000, 0, t); /* YYYY-MM-DDT... */
  return atoi(t) * 100 + atoi(t + 5);
}

static int next_month(int ym) {
  return ym % 100 == 12 ? (ym / 100 + 1) * 100 + 1 : ym + 1;
}

/* A partition for each month of m that has none. Two pushes may want the
** same new month at once: a lock (until commit) takes them in turn, where
** CREATE ... IF NOT EXISTS alone would fail one of them; a push whose
** months are all there takes none. */
static int make_months(sl_store *s, const months *m) {
  if (m->oom) return sli_fail(s, SL_NOMEM, "out of memory");
  if (m->n == 0) return SL_OK;
  sl_buf list = {0};
  char num[16];
  sl_buf_puts(&list, "{");
  for (size_t i = 0; i < m->n; i++) {
    snprintf(num, sizeof num, "%s%06d", i ? "," : "", m->ym[i]);
    sl_buf_puts(&list, num);
  }
  sl_buf_puts(&list, "}");
  if (list.oom) return sli_fail(s, SL_NOMEM, "out of memory");
  PGresult *missing;
  const char *v[1] = {list.data};
  int rc = sli_pg_exec(s, missing_months_sql, 1, v, "partitions", &missing);
  sl_buf_free(&list);
  if (rc != SL_OK) return rc;
  if (PQntuples(missing) > 0)
    rc = sli_pg_exec(s, "SELECT pg_advisory_xact_lock(7365726576)", 0,
                     NULL, "partitions", NULL);
  for (int i = 0; rc == SL_OK && i < PQntuples(missing); i++) {
    int ym = atoi(PQgetvalue(missing, i, 0)), to = next_month(ym);
    char sql[256];
    snprintf(sql, sizeof sql, "CREATE TABLE IF NOT EXISTS"
             " sync_event_log_p%06d PARTITION OF sync_event_log FOR VALUES"
             " FROM ('%04d-%02d-01 00:00:00+00') TO"
             " ('%04d-%02d-01 00:00:00+00')", ym, ym / 100, ym % 100,
             to / 100, to % 100);
    rc = sli_pg_exec(s, sql, 0, NULL, "partition", NULL);
  }
  PQclear(missing);
  return rc;
}

/* ------------------------------------------------ duplicates in source */

/* The keys of the rows of the current instant already sent (and, once the
** untimed rows come, of every untimed one): a duplicate is a row whose
** key is among them. Runs of one instant are short; untimed rows rare. */
typedef struct seen {
  int      timed;             /* the run is of rows of known time ...       */
  int64_t  instant;           /* ... at this instant                        */
  uint64_t *hash;             /* each key's hash                            */
  size_t   *at;               /* where it starts in keys                    */
  size_t    n, cap;
  sl_buf    keys;             /* the keys, each with its length first       */
  int       oom;
} seen;

static void seen_reset(seen *k) {
  k->n = 0;
  sl_buf_reset(&k->keys);
}

static void seen_free(seen *k) {
  free(k->hash);
  free(k->at);
  sl_buf_free(&k->keys);
}

/* ev's key into b: its device, type and summary, and for a row of unknown
** time its time text, each after its length. */
static void row_key(sl_buf *b, const sl_event *ev) {
  static const int cols[4] = {SL_COL_DEVICE_ID, SL_COL_EVENT_TYPE,
                              SL_COL_SUMMARY, SL_COL_TIMESTAMP};
  for (int i = 0; i < (ev->has_instant ? 3 : 4); i++) {
    size_t n;
    const char *t = sl_event_text(ev, cols[i], &n);
    sl_buf_append(b, (const char *)&n, sizeof n);
    if (t) sl_buf_append(b, t, n);
    else sl_buf_append(b, "", 1); /* NULL is not "" */
  }
}

/* Has the source already given a row with ev's key? If not, it is noted. */
static int seen_before(seen *k, const sl_event *ev) {
  if (!ev->has_instant ? k->timed : !k->timed || k->instant != ev->instant) {
    seen_reset(k);
    k->timed = ev->has_instant;
    k->instant = ev->instant;
  }
  size_t start = k->keys.len;
  row_key(&k->keys, ev);
  if (k->keys.oom) {
    k->oom = 1;
    return 0;
  }
  size_t len = k->keys.len - start;
  uint64_t h = sli_fnv1a(SLI_FNV_OFFSET, k->keys.data + start, len, 0);
  for (size_t i = 0; i < k->n; i++) {
    size_t end = i + 1 < k->n ? k->at[i + 1] : start;
    if (k->hash[i] == h && end - k->at[i] == len &&
        memcmp(k->keys.data + k->at[i], k->keys.data + start, len) == 0) {
      k->keys.len = start; /* not kept twice */
      return 1;
    }
  }
  if (k->n == k->cap) {
    size_t cap = k->cap ? 2 * k->cap : 64;
    uint64_t *hp = realloc(k->hash, cap * sizeof *hp);
    if (hp) k->hash = hp;
    size_t *ap = hp ? realloc(k->at, cap * sizeof *ap) : NULL;
    if (!ap) {
      k->oom = 1;
      return 0;
    }
    k->at = ap;
    k->cap = cap;
  }
  k->hash[k->n] = h;
  k->at[k->n++] = start;
  return 0;
}

/* ------------------------------------------------------------ copying */

/* Where the rows go and what rides along. */
typedef struct target {
  const char *sql;            /* the COPY statement                         */
  sl_buf      prefix;         /* direct: library, device, label, each with
                                 its tab, before every row                */
  int         dedupe;         /* leave the source's duplicates out here     */
  months      months;         /* staged: the months of the rows sent        */
} target;

/* Stream the source's rows with ids in (after, through] through COPY:
** *read rows read, *sent sent. */
static int copy_rows(sl_store *fleet, sl_store *src, int64_t after,
                     int64_t through, target *t, int64_t *read,
                     int64_t *sent) {
  sl_filter f;
  sl_cursor *c = NULL;
  const sl_event *ev;
  sl_buf b = {0};
  seen k = {0};
  PGconn *conn = fleet->pg->conn;
  sl_filter_init(&f);
  f.ascending = 1;
  f.has_after_id = 1;
  f.after_id = after;
  f.has_through_id = 1;
  f.through_id = through;
  PGresult *res = PQexec(conn, t->sql);
  if (PQresultStatus(res) != PGRES_COPY_IN) {
    int rc = sli_pg_fail(fleet, res, "COPY");
    PQclear(res);
    return rc;
  }
  PQclear(res);
  char why[SLI_ERRMSG_MAX] = "";
  int rc = sl_query(src, &f, &c);
  if (rc != SL_OK) snprintf(why, sizeof why, "%s", sl_store_errmsg(src));
  while (rc == SL_OK) {
    int r = sl_cursor_next(c, &ev);
    if (r == SL_DONE) break;
    if (r != SL_ROW) {
      rc = r;
      snprintf(why, sizeof why, "%s", sl_cursor_errmsg(c));
      break;
    }
    (*read)++;
    if (t->dedupe && seen_before(&k, ev)) continue;
    if (ev->has_instant) months_add(&t->months, month_of(ev->instant));
    sl_buf_append(&b, t->prefix.data, t->prefix.len);
    copy_row(&b, ev);
    (*sent)++;
    if (b.oom || k.oom || t->months.oom) {
      rc = SL_NOMEM;
      snprintf(why, sizeof why, "out of memory");
      break;
    }
    if (b.len >= COPY_CHUNK) {
      if (PQputCopyData(conn, b.data, (int)b.len) != 1) {
        rc = SL_IOERR;
        break;
      }
      sl_buf_reset(&b);
    }
  }
  if (rc == SL_OK && b.len && PQputCopyData(conn, b.data, (int)b.len) != 1)
    rc = SL_IOERR;
  sl_buf_free(&b);
  seen_free(&k);
  sl_cursor_close(c);
  /* A failed read ends the COPY with an error: nothing of it stays. */
  PQputCopyEnd(conn, rc == SL_OK ? NULL : "the source could not be read");
  res = PQgetResult(conn);
  if (rc == SL_OK && PQresultStatus(res) != PGRES_COMMAND_OK)
    rc = sli_pg_fail(fleet, res, "COPY");
  else if (rc != SL_OK)
    rc = why[0] ? sli_fail(fleet, rc, "%s", why)
                : sli_pg_fail(fleet, res, "COPY");
  PQclear(res);
  while ((res = PQgetResult(conn))) PQclear(res);
  return rc;
}

/* The instant of the source's oldest (newest) row of known time: SL_OK
** with *found. The whole store's span: a superset of the rows pushed. */
static int edge_instant(sl_store *src, int newest, int64_t *instant,
                        int *found) {
  sl_filter f;
  sl_cursor *c;
  const sl_event *ev;
  sl_filter_init(&f);
  f.ascending = !newest;
  f.limit = 1;
  *found = 0;
  int rc = sl_query(src, &f, &c);
  if (rc != SL_OK) return rc;
  rc = sl_cursor_next(c, &ev);
  if (rc == SL_ROW && ev->has_instant) {
    *instant = ev->instant;
    *found = 1;
  }
  rc = rc == SL_ROW || rc == SL_DONE ? SL_OK
                                     : sli_fail(src, rc, "%s",
                                                sl_cursor_errmsg(c));
  sl_cursor_close(c);
  return rc;
}

/* Can the rows go straight into the table: the fleet has no row of the
** device's log, and the months of the source's span (all made here) are
** not too many? */
static int straight_in(sl_store *fleet, sl_store *src, const char *lib,
                       const char *device, int *yes) {
  PGresult *res;
  const char *v[2] = {lib, device};
  *yes = 0;
  int rc = sli_pg_exec(fleet, "SELECT NOT EXISTS (SELECT 1 FROM"
                       " sync_event_log WHERE library_id = $1::uuid AND"
                       " log_device_id = $2)", 2, v, "device", &res);
  if (rc != SL_OK) return rc;
  int fresh = PQgetvalue(res, 0, 0)[0] == 't';
  PQclear(res);
  if (!fresh) return SL_OK;
  int64_t first = 0, last = 0;
  int has_first, has_last;
  if ((rc = edge_instant(src, 0, &first, &has_first)) != SL_OK ||
      (rc = edge_instant(src, 1, &last, &has_last)) != SL_OK)
    return sli_fail(fleet, rc, "%s", sl_store_errmsg(src));
  months span = {0};
  if (has_first && has_last) {
    int from = month_of(first), to = month_of(last), n = 0;
    for (int ym = from; ym <= to && n <= MAX_MONTHS; ym = next_month(ym), n++)
      if (n < MAX_MONTHS) months_add(&span, ym);
    if (n > MAX_MONTHS) {
      free(span.ym);
      return SL_OK; /* staged: only the months rows fall in */
    }
  }
  rc = make_months(fleet, &span);
  free(span.ym);
  *yes = rc == SL_OK;
  return rc;
}

/* A text value and its tab, for the direct COPY's prefix. */
static void prefix_value(sl_buf *b, const char *v) {
  copy_text(b, v, v ? strlen(v) : 0, 0);
  sl_buf_puts(b, "\t");
}

int sl_store_push(sl_store *fleet, sl_store *src, const sl_push_opts *opts,
                  sl_push_result *out) {
  char lib[SL_UUID_BUFSZ], num[24];
  char key[SL_TIME_BUFSZ + SL_UUID_BUFSZ + 96];
  sl_push_result r = {0};
  if (out) memset(out, 0, sizeof *out);
  if (!src || !opts || !opts->library_id) return SL_MISUSE;
  int rc = sli_store_usable(fleet);
  if (rc != SL_OK) return rc;
  if (!fleet->pg || fleet->readonly)
    return sli_fail(fleet, SL_MISUSE, "%s: push needs a PostgreSQL store "
                    "opened to write", fleet->path);
  if (sl_uuid_parse(opts->library_id, strlen(opts->library_id), lib))
    return sli_fail(fleet, SL_INVALID, "library: not a UUID: '%s'",
                    opts->library_id);
  const char *device = opts->device_id ? opts->device_id : "";
  int64_t through = 0;
  if ((rc = sl_store_max_id(src, &through)) != SL_OK ||
      (rc = source_key(src, device, key, sizeof key)) != SL_OK)
    return sli_fail(fleet, rc, "%s", sl_store_errmsg(src));
  if (key[0] == '\0') { /* an empty store: nothing to push */
    if (out) *out = r;
    return SL_OK;
  }
  const char *two[2] = {lib, device};
  rc = sli_pg_exec(fleet, "BEGIN", 0, NULL, "BEGIN", NULL);
  /* One push of a device's log at a time. */
  if (rc == SL_OK)
    rc = sli_pg_exec(fleet, "SELECT pg_advisory_xact_lock(hashtextextended("
                     "$1 || '/' || $2, 0))", 2, two, "lock", NULL);
  PGresult *res = NULL;
  const char *mark[2] = {lib, key};
  if (rc == SL_OK && !opts->once) {
    rc = sli_pg_exec(fleet, "SELECT last_id FROM synclua_pushes WHERE"
                     " library_id = $1::uuid AND source = $2 FOR UPDATE", 2,
                     mark, "mark", &res);
    if (rc == SL_OK) {
      if (PQntuples(res) > 0)
        r.after_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
      PQclear(res);
    }
  }
  target t = {0};
  int direct = 0;
  int64_t sent = 0;
  if (rc == SL_OK && through > r.after_id)
    rc = straight_in(fleet, src, lib, device, &direct);
  if (rc == SL_OK && through > r.after_id) {
    if (direct) {
      t.sql = copy_direct_sql;
      t.dedupe = 1;
      prefix_value(&t.prefix, lib);
      prefix_value(&t.prefix, device);
      prefix_value(&t.prefix, opts->label);
      if (t.prefix.oom) rc = sli_fail(fleet, SL_NOMEM, "out of memory");
    } else {
      t.sql = copy_sql;
      rc = sli_pg_exec(fleet, stage_ddl, 0, NULL, "staging", NULL);
    }
    if (rc == SL_OK)
      rc = copy_rows(fleet, src, r.after_id, through, &t, &r.read, &sent);
    if (rc == SL_OK && !direct && sent > 0) rc = make_months(fleet, &t.months);
    const char *three[3] = {lib, opts->label, device};
    if (rc == SL_OK && !direct && sent > 0) {
      rc = sli_pg_exec(fleet, insert_sql, 3, three, "insert", &res);
      if (rc == SL_OK) {
        sent = strtoll(PQcmdTuples(res), NULL, 10);
        PQclear(res);
      }
    }
    r.inserted = sent;
    if (rc == SL_OK && r.read > 0)
      rc = sli_pg_exec(fleet, devices_sql, 3, three, "devices", NULL);
  }
  sl_buf_free(&t.prefix);
  free(t.months.ym);
  if (rc == SL_OK && !opts->once) {
    snprintf(num, sizeof num, "%" PRId64,
             through > r.after_id ? through : r.after_id);
    const char *v[3] = {lib, key, num};
    rc = sli_pg_exec(fleet, mark_sql, 3, v, "mark", NULL);
  }
  if (rc == SL_OK) rc = sli_pg_exec(fleet, "COMMIT", 0, NULL, "COMMIT", NULL);
  if (rc != SL_OK) {
    PQclear(PQexec(fleet->pg->conn, "ROLLBACK"));
    return rc;
  }
  r.duplicates = r.read - r.inserted;
  if (out) *out = r;
  return SL_OK;
}
