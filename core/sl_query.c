/*
** sl_query.c -- the query engine: one filter model turned into SQL with
** bound parameters, streamed through a cursor that retains its store.
**
** Order and time filters are on the instant. Rows in to_rfc3339 "+00:00"
** form (all of Spacedrive's and ours) sort by text exactly as by time, so
** they come straight from the indexes, compared as text. Rows in any other
** form (a "Z", an offset, a short fraction, garbage) are "foreign": the
** store keeps their ids in temp.sl_foreign, and one small extra arm reads
** them ordered by sl_instant(). The cursor merges its arms by (instant,
** id) as it goes -- one arm per wanted type (or severity) when several are
** wanted, so each streams from its own (value, timestamp) index range --
** and never sorts.
**
** Equal instants come in ascending id whichever way time runs: newest
** first, that is what Spacedrive's SQLite hands out (it sorts by timestamp
** in a temporary B-tree, which keeps equal ones in rowid order;
** spacedrive-compat.md 10.3), and it decides which rows a limit keeps.
** Oldest first, the indexes give it as they stand. Newest first, each arm
** walks its index backwards, (instant, id) both descending, and holds
** copies of each run of one instant (and the row after it, which ends the
** run) to hand the run out reversed: a few rows per arm, as many as the
** longest run, and no sort.
**
** A store we do not own has only Spacedrive's five single-column indexes,
** and SQLite, given "type = ? ORDER BY timestamp DESC", reads every row of
** that type through its index and sorts them (a second for half a million
** rows). Yet a log is appended in time order, nearly always: ids follow
** time. So a bounded arm first probes: the newest (oldest) limit + offset
** matching rows by id, through whichever index SQLite picks, which reads
** few rows (probe_bound). If a covering scan of the timestamp index finds
** no row at or past the probe's oldest (newest) time with an id beyond
** the probe's, every row the limit can keep is among them, and the arm
** reads only ids from the probe's on, sorting that handful. If one is
** found (a log not in id order), the arm runs as before: exact either way.
**
** Each row is read leniently (synclua.h, sl_bad_rows): whatever another
** program stored -- NULL where Spacedrive forbids it, text in an integer
** column, ill-formed UTF-8, a name that is no type -- the cursor hands out
** a row of the types sl_event promises, flags what it mended, and counts it:
** per cursor, and once per row in its store's tally (sl_store_bad_rows).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sli.h"

#define MAX_BINDS 96
#define MAX_ARMS  SL_EVENT_TYPE_COUNT
#define PROBE_MAX 100000      /* limit + offset a probe reads, at most      */

static const char columns[] =
  "id, timestamp, device_id, event_type, category, severity, summary,"
  " details, correlation_id, peer_device_id, model_types, record_count,"
  " duration_ms";

typedef struct bind {
  const char *text;           /* bound as text when non-NULL                */
  int64_t     integer;        /* otherwise as an integer                    */
} bind;

/* A query under construction: SQL text and its parameters in order. */
typedef struct builder {
  sl_buf  sql;                /* the statement                              */
  bind    binds[MAX_BINDS];   /* ?1.. in order                              */
  int     n;                  /* binds used                                 */
  int     overflow;           /* too many parameters                        */
  char    texts[8][SL_TIME_BUFSZ + SL_UUID_BUFSZ]; /* owned bound strings   */
  int     n_texts;            /* texts used                                 */
} builder;

/* A row copied out of its statement (which moves on), for an arm that
** hands out runs reversed: each column's storage class, taken before any
** conversion, and its text (in the arm's bytes) or its integer. */
typedef struct held {
  int64_t id;                 /* row id                                     */
  int64_t instant;            /* of its time (if !unknown)                  */
  int     unknown;            /* its time does not parse                    */
  size_t  base;               /* where its text starts in the arm's bytes   */
  int     type[SL_COLUMN_COUNT];    /* storage class of each column         */
  size_t  at[SL_COLUMN_COUNT];      /* text: offset in bytes, or NO_TEXT    */
  size_t  len[SL_COLUMN_COUNT];     /* text: length, without its NUL        */
  int64_t integer[SL_COLUMN_COUNT]; /* record_count, duration_ms            */
} held;

#define NO_TEXT ((size_t)-1)  /* a conversion to text ran out of memory     */

/* One ordered stream of rows and the row it stands on: the statement's,
** or, for a reversing arm, rows[pos] of the run it holds. */
typedef struct arm {
  sqlite3_stmt *stmt;         /* NULL once exhausted                        */
  int           live;         /* it stands on a row                         */
  int64_t       instant;      /* of the current row (if !unknown)           */
  int64_t       id;           /* of the current row                         */
  int           unknown;      /* the current row's time does not parse      */
  int           ts_type;      /* SQLite storage class of its timestamp      */
  int           reversing;    /* hands each run of one instant out reversed */
  held         *rows;         /* the run as read (descending id), then the
                                 row that ended it, if any                  */
  size_t        n_rows;       /* rows held                                  */
  size_t        n_run;        /* of which the run: n_rows - n_run is 0 or 1 */
  size_t        cap;          /* rows allocated                             */
  size_t        pos;          /* the current row, counting down to 0        */
  sl_buf        bytes;        /* the held rows' text, each with its NUL     */
  sqlite3_stmt *kept;         /* its statement once done, reset, kept for
                                 a second read (skipped_last)             */
} arm;

struct sl_cursor {
  sl_store     *store;        /* retained                                   */
  sli_pgcur    *pg;           /* a PostgreSQL store's rows (then no arms)   */
  arm           arms[MAX_ARMS + 2]; /* canonical arms, foreign, unknown   */
  int           n_arms;
  int           current;      /* arm whose row was handed out, or -1        */
  int           started;      /* the arms have been stepped once            */
  int           descending;   /* newest first                               */
  int64_t       skip;         /* offset rows still to pass over             */
  int64_t       remaining;    /* rows still allowed; < 0 for no limit       */
  sl_event      ev;           /* the current row                            */
  sl_buf        fix;          /* its text columns that had to be mended     */
  char          ids[2][SL_UUID_BUFSZ]; /* its correlation and peer ids, as
                                 Spacedrive writes them back              */
  sl_bad_rows   bad;          /* rows handed out that were read leniently   */
  int64_t       unparsable;   /* rows left out: time unknown                */
  int64_t       skipped;      /* rows handed out that Spacedrive skips      */
  int           skipped_last; /* hand those out last (sl_filter)            */
  int           rereading;    /* the second read: only those rows           */
  int64_t       offset;       /* the filter's, for the second read          */
  int64_t       taken;        /* rows the first read took past the offset   */
  int64_t       owed;         /* rows it passed over, owed by the second    */
  char          errmsg[SLI_ERRMSG_MAX];
  sl_event      red;          /* the current row redacted (store->redactor) */
  sl_buf        red_text;     /* its text (sl_redact_event's scratch)       */
};

void sl_filter_init(sl_filter *f) {
  memset(f, 0, sizeof *f);
  f->limit = -1;
}

static void add_text(builder *b, const char *text) {
  if (b->n == MAX_BINDS) { b->overflow = 1; return; }
  b->binds[b->n].text = text;
  b->binds[b->n++].integer = 0;
  sl_buf_puts(&b->sql, "?");
}

static void add_int(builder *b, int64_t v) {
  if (b->n == MAX_BINDS) { b->overflow = 1; return; }
  b->binds[b->n].text = NULL;
  b->binds[b->n++].integer = v;
  sl_buf_puts(&b->sql, "?");
}

/* A copy the builder owns, for values it derives (normalised ids, bounds). */
static const char *own(builder *b, const char *s) {
  if (b->n_texts == 8) { b->overflow = 1; return s; }
  char *dst = b->texts[b->n_texts++];
  snprintf(dst, sizeof b->texts[0], "%s", s);
  return dst;
}

static const char *normalized_id(builder *b, const char *id) {
  char norm[SL_UUID_BUFSZ];
  return sl_uuid_normalize(id, norm) == SL_OK ? own(b, norm) : id;
}

/* "col IN (?, ?, ...)" or "col = ?" */
static void add_in(builder *b, const char *col, const char *const *v,
                   size_t n) {
  sl_buf_puts(&b->sql, " AND ");
  sl_buf_puts(&b->sql, col);
  if (n == 1) {
    sl_buf_puts(&b->sql, " = ");
    add_text(b, v[0]);
    return;
  }
  sl_buf_puts(&b->sql, " IN (");
  for (size_t i = 0; i < n; i++) {
    if (i) sl_buf_puts(&b->sql, ", ");
    add_text(b, v[i]);
  }
  sl_buf_puts(&b->sql, ")");
}

typedef struct plan {
  const sl_filter *f;         /* the caller's filter, or window below       */
  sl_filter   window;         /* it, bounded to a window (top_window)       */
  int         probing;        /* bounded, and filtered beyond time          */
  int         foreign;        /* the store has rows in other forms          */
  const char *sev[SL_SEVERITY_COUNT]; /* selected severity names            */
  size_t      n_sev;
  const char *split_col;      /* one arm per value of this column, or NULL  */
  const char *const *split_values;
  size_t      n_split;
  const char *types[MAX_ARMS]; /* the event types, each once: one arm each  */
  int         indexes;        /* SLI_IDX_* of synclua's the store has       */
  int         plus_type;      /* "+event_type": SQLite keeps off its index  */
  int         plus_peer;      /* "+peer_device_id": the same                */
  int         plus_severity;  /* "+severity": the same                      */
} plan;

/* The arms: canonical rows from the main table's indexes; foreign rows
** of known instant, walked through temp.sl_foreign's instant index; and
** foreign rows whose time is unknown (only without time bounds). */
enum { CANONICAL, FOREIGN, UNKNOWN };

/* A foreign arm drives from temp.sl_foreign (CROSS JOIN keeps it the outer
** loop) and looks each row up by id. */
static const char foreign_from[] =
  " FROM temp.sl_foreign AS f CROSS JOIN sync_event_log"
  " ON sync_event_log.id = f.id";

/* The columns a plan may split on, compared by address. */
static const char col_event_type[] = "event_type";
static const char col_severity[] = "severity";

/* Every filter but time, and but the split column (its arm adds it). */
static void add_conditions(builder *b, const plan *p, int split) {
  const sl_filter *f = p->f;
  sl_buf_puts(&b->sql, " WHERE 1");
  if (f->n_event_types && !(split && p->split_col == col_event_type))
    add_in(b, p->plus_type ? "+event_type" : "event_type", f->event_types,
           f->n_event_types);
  if (f->n_categories) add_in(b, "category", f->categories, f->n_categories);
  if (p->n_sev && !(split && p->split_col == col_severity))
    add_in(b, p->plus_severity ? "+severity" : "severity", p->sev, p->n_sev);
  if (f->peer) {
    sl_buf_puts(&b->sql, p->plus_peer ? " AND +peer_device_id = "
                                      : " AND peer_device_id = ");
    add_text(b, normalized_id(b, f->peer));
  }
  if (f->device) {
    /* "+" keeps SQLite off Spacedrive's device_id index: a device's own
    ** log is nearly all one device, so that index narrows nothing and
    ** costs a sort of every row before the first; walking the time order
    ** and testing each row streams at once. */
    sl_buf_puts(&b->sql, " AND +device_id = ");
    add_text(b, normalized_id(b, f->device));
  }
  if (f->correlation_id) {
    sl_buf_puts(&b->sql, " AND correlation_id = ");
    add_text(b, normalized_id(b, f->correlation_id));
  }
  /* Qualified: a foreign arm joins temp.sl_foreign, which has an id too. */
  if (f->has_after_id) {
    sl_buf_puts(&b->sql, " AND sync_event_log.id > ");
    add_int(b, f->after_id);
  }
  if (f->has_through_id) {
    sl_buf_puts(&b->sql, " AND sync_event_log.id <= ");
    add_int(b, f->through_id);
  }
  if (f->model_type) {
    /* An element of the comma-joined list, not a substring of one. */
    sl_buf_puts(&b->sql, " AND instr(',' || model_types || ',', ',' || ");
    add_text(b, f->model_type);
    sl_buf_puts(&b->sql, " || ',') > 0");
  }
}

/* Time bounds: as text on canonical rows (exact there), on the recorded
** instant for foreign ones. */
static void add_time(builder *b, const plan *p, int kind) {
  char text[SL_TIME_BUFSZ];
  const sl_filter *f = p->f;
  if (kind == CANONICAL) {
    if (f->has_since) {
      sl_time_format(f->since, 0, text);
      sl_buf_puts(&b->sql, " AND timestamp >= ");
      add_text(b, own(b, text));
    }
    if (f->has_until) {
      sl_time_format(f->until, 0, text);
      sl_buf_puts(&b->sql, " AND timestamp <= ");
      add_text(b, own(b, text));
    }
    if (p->foreign)
      sl_buf_puts(&b->sql, " AND NOT EXISTS (SELECT 1 FROM temp.sl_foreign"
                           " AS f WHERE f.id = sync_event_log.id)");
  } else if (kind == UNKNOWN) {
    sl_buf_puts(&b->sql, " AND f.instant IS NULL");
  } else {
    sl_buf_puts(&b->sql, " AND f.instant IS NOT NULL");
    if (f->has_since) {
      sl_buf_puts(&b->sql, " AND f.instant >= ");
      add_int(b, f->since);
    }
    if (f->has_until) {
      sl_buf_puts(&b->sql, " AND f.instant <= ");
      add_int(b, f->until);
    }
  }
}

/* Does an arm of this kind hand its runs of one instant out reversed? */
static int reverses(const sl_filter *f, int kind) {
  return !f->ascending && kind != UNKNOWN;
}

/* Every condition of a canonical arm: the filters, its split value and
** its time bounds. */
static void add_arm_conditions(builder *b, const plan *p, int kind,
                               const char *split_value) {
  add_conditions(b, p, split_value != NULL);
  if (split_value) {
    int plus = p->split_col == col_event_type ? p->plus_type
                                                : p->plus_severity;
    sl_buf_puts(&b->sql, plus ? " AND +" : " AND ");
    sl_buf_puts(&b->sql, p->split_col);
    sl_buf_puts(&b->sql, " = ");
    add_text(b, split_value);
  }
  add_time(b, p, kind);
}

/* Where a probe bounds its arm: from this id on, in the direction asked;
** and the time of its last row by time. */
typedef struct probe_edge {
  int64_t id;
  char    time[SL_TIME_BUFSZ + 8];
} probe_edge;

/* One arm's statement: rows by (instant, id) in the direction asked, as
** the indexes give them (the timestamp indexes end in the rowid, and
** temp.sl_foreign's instant index in its id); rows of unknown time by id
** in the direction asked. A canonical arm with an edge (probe_bound)
** reads only the rows from it on. */
static void build_arm(builder *b, const plan *p, int kind,
                      const char *split_value, const probe_edge *edge) {
  const sl_filter *f = p->f;
  const char *dir = f->ascending ? " ASC" : " DESC";
  sl_buf_puts(&b->sql, "SELECT sync_event_log.");
  sl_buf_puts(&b->sql, columns);
  sl_buf_puts(&b->sql, kind == CANONICAL ? " FROM sync_event_log"
                                         : foreign_from);
  add_arm_conditions(b, p, kind, split_value);
  if (edge) {
    /* The probe's rows and no other: SQLite reads them by id (through
    ** the index of an equality, or the table's own order) and sorts them;
    ** "+" keeps it from walking the whole timestamp index instead. */
    sl_buf_puts(&b->sql, f->ascending ? " AND id <= " : " AND id >= ");
    add_int(b, edge->id);
    sl_buf_puts(&b->sql, " ORDER BY +timestamp");
    sl_buf_puts(&b->sql, dir);
    sl_buf_puts(&b->sql, ", id");
    sl_buf_puts(&b->sql, dir);
    sl_buf_puts(&b->sql, " LIMIT -1");
    return;
  }
  sl_buf_puts(&b->sql, " ORDER BY ");
  sl_buf_puts(&b->sql, kind == CANONICAL ? "timestamp"
                       : kind == FOREIGN ? "f.instant" : "f.id");
  sl_buf_puts(&b->sql, dir);
  if (kind != UNKNOWN) {
    sl_buf_puts(&b->sql, kind == CANONICAL ? ", id" : ", f.id");
    sl_buf_puts(&b->sql, dir);
  }
  /* A reversing arm must read the whole run the limit cuts, and the row
  ** after it: no bound then (the same SQL, so the same plan). */
  sl_buf_puts(&b->sql, " LIMIT ");
  add_int(b, f->limit < 0 || reverses(f, kind) ? -1
             : f->limit > INT64_MAX - f->offset ? INT64_MAX
                                                 : f->limit + f->offset);
}

/* Which of synclua's (value, timestamp) indexes the file has, once per
** connection (an index made later, by a writer's `indexes`, is seen by
** the next handle). */
static int store_indexes(sl_store *s, int *out) {
  static const struct { const char *name; int bit; } ours[] = {
    {"idx_sync_event_log_severity_time", SLI_IDX_SEVERITY_TIME},
    {"idx_sync_event_log_type_time", SLI_IDX_TYPE_TIME},
    {"idx_sync_event_log_peer_time", SLI_IDX_PEER_TIME}};
  if (!s->indexes_known) {
    sqlite3_stmt *st;
    int have = 0, r;
    int rc = sli_stmt_get(s, "SELECT name FROM sqlite_master WHERE type ="
                             " 'index' AND tbl_name = 'sync_event_log'", &st);
    if (rc != SL_OK) return rc;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
      const char *name = (const char *)sqlite3_column_text(st, 0);
      for (size_t i = 0; name && i < sizeof ours / sizeof *ours; i++)
        if (strcmp(name, ours[i].name) == 0) have |= ours[i].bit;
    }
    sli_stmt_put(s, st);
    if (r != SQLITE_DONE) return sli_sqlite_fail(s, s->db, r, NULL);
    s->indexes = have;
    s->indexes_known = 1;
  }
  *out = s->indexes;
  return SL_OK;
}

/* What a plan is for: a cursor's rows, or a count. */
enum { FOR_ROWS, FOR_COUNT };

static int64_t count_rows(sl_store *s, const plan *p, int kind,
                          int64_t bound, int *rc);

/* The first look of a handle at a large store reads few timestamps (see
** sl_store.c, "stored timestamps"): the newest limit + offset rows of an
** unfiltered query lie at the top of the timestamp index, within a window
** [since, end of time] that a few of its rows place. Only the rows that
** window can reach are classified, and the plan is bounded to it: exact,
** since every row in the window is counted before it is trusted. *since
** is set and *found 1 when such a window holds enough rows. */
static int top_window(sl_store *s, plan *p, int64_t *since, int *found) {
  const sl_filter *f = p->f;
  int64_t want = f->limit + f->offset, top;
  sqlite3_stmt *st;
  *found = 0;
  if (s->ts_full || f->ascending || f->has_since || f->has_until ||
      f->limit < 0 || f->limit > PROBE_MAX || f->offset > PROBE_MAX ||
      want == 0 || f->n_event_types || f->n_categories || p->n_sev ||
      f->peer || f->device || f->correlation_id || f->model_type ||
      f->has_after_id || f->has_through_id)
    return SL_OK;
  /* A blob sorts above every text, and one that spells a canonical time
  ** is read in that place, as Spacedrive reads it: it heads the canonical
  ** rows out of time order, and only the whole merge places the rest
  ** around it. */
  int rc = sli_stmt_get(s, "SELECT typeof(timestamp) = 'blob' FROM"
                           " sync_event_log ORDER BY timestamp DESC LIMIT 1",
                        &st);
  if (rc != SL_OK) return rc;
  int r = sqlite3_step(st);
  int blob = r == SQLITE_ROW && sqlite3_column_int(st, 0);
  sli_stmt_put(s, st);
  if (r != SQLITE_ROW && r != SQLITE_DONE)
    return sli_sqlite_fail(s, s->db, r, NULL);
  if (blob) return SL_OK;
  /* The want-th time from the top among the texts that can be times. */
  rc = sli_stmt_get(s, "SELECT timestamp FROM sync_event_log WHERE"
                       " timestamp < ':' ORDER BY timestamp DESC"
                       " LIMIT 1 OFFSET ?1", &st);
  if (rc != SL_OK) return rc;
  sqlite3_bind_int64(st, 1, want - 1);
  r = sqlite3_step(st);
  int placed = r == SQLITE_ROW &&
               sl_time_parse_rfc3339((const char *)sqlite3_column_text(st, 0),
                                     (size_t)sqlite3_column_bytes(st, 0),
                                     &top) == SL_OK;
  sli_stmt_put(s, st);
  if (r != SQLITE_ROW && r != SQLITE_DONE)
    return sli_sqlite_fail(s, s->db, r, NULL);
  if (!placed) return SL_OK;  /* a small store, or odd texts: look at all */
  /* A few tries, the window widening, before looking at every row. */
  int64_t span = 0;
  for (int tries = 0; tries < 4; tries++) {
    char cover[SL_TIME_BUFSZ];
    int64_t from = top - span;
    /* 24 h is the widest offset; 2 s more for a leap second's "60". */
    sl_time_format(from - 24 * 3600 * SL_NS_PER_SEC - 2 * SL_NS_PER_SEC, 0,
                   cover);
    cover[10] = ' ';
    cover[19] = '\0';
    if ((rc = sli_ts_cover(s, cover)) != SL_OK) return rc;
    plan w = *p;
    w.window = *f;
    w.window.has_since = 1;
    w.window.since = from;
    w.f = &w.window;
    w.foreign = s->ts_noncanonical > 0 || s->ts_unparsable > 0;
    int64_t n = count_rows(s, &w, CANONICAL, want, &rc);
    if (rc == SL_OK && w.foreign)
      n += count_rows(s, &w, FOREIGN, want, &rc);
    if (rc != SL_OK) return rc;
    if (n >= want) {
      *since = from;
      *found = 1;
      return SL_OK;
    }
    span = span ? 4 * span : 3600 * SL_NS_PER_SEC;
  }
  return SL_OK;
}

/* Check the filter and decide how to run it. */
int sli_filter_check(sl_store *s, const sl_filter *f) {
  for (size_t i = 0; i < f->n_event_types; i++)
    if (sl_event_type_from_name(f->event_types[i]) < 0)
      return sli_fail(s, SL_INVALID, "Invalid event type: %s (valid: %s)",
                      f->event_types[i] ? f->event_types[i] : "(null)",
                      sl_event_type_list());
  for (size_t i = 0; i < f->n_categories; i++)
    if (sl_category_from_name(f->categories[i]) < 0)
      return sli_fail(s, SL_INVALID, "Invalid category: %s (valid: %s)",
                      f->categories[i] ? f->categories[i] : "(null)",
                      sl_category_list());
  if (f->severities >= SL_SEV_BIT(SL_SEVERITY_COUNT))
    return sli_fail(s, SL_INVALID, "Invalid severity set: 0x%x",
                    f->severities);
  if (f->n_event_types > MAX_ARMS || f->n_categories > 16)
    return sli_fail(s, SL_INVALID, "too many values in one filter");
  if (f->offset < 0)
    return sli_fail(s, SL_INVALID, "offset: negative (%lld)",
                    (long long)f->offset);
  if (f->model_type && strchr(f->model_type, ','))
    return sli_fail(s, SL_INVALID,
                    "model_type: one model type, without ',' (got '%s')",
                    f->model_type);
  return SL_OK;
}

static int make_plan(sl_store *s, const sl_filter *f, plan *p, int purpose) {
  memset(p, 0, sizeof *p);
  p->f = f;
  int rc = sli_filter_check(s, f);
  if (rc != SL_OK) return rc;
  for (int i = 0; i < SL_SEVERITY_COUNT; i++)
    if (f->severities & SL_SEV_BIT(i)) p->sev[p->n_sev++] = sl_severity_name(i);
  if (p->n_sev == SL_SEVERITY_COUNT) p->n_sev = 0;

  if (purpose == FOR_COUNT && !f->has_since && !f->has_until) {
    /* Every row counts, whatever form its time is in: the one arm. */
    p->foreign = 0;
  } else {
    int64_t since = 0;
    int found = 0;
    if (purpose == FOR_ROWS && (rc = top_window(s, p, &since, &found)))
      return rc;
    if (found) {
      p->window = *f;
      p->window.has_since = 1;
      p->window.since = since;
      p->f = &p->window;
    } else if ((rc = sli_ts_refresh(s)) != SL_OK) {
      return rc;
    }
    p->foreign = s->ts_noncanonical > 0 || s->ts_unparsable > 0;
  }
  /* A type named twice is one arm: two would give its rows twice. */
  size_t n_types = 0;
  for (size_t i = 0; i < f->n_event_types; i++) {
    size_t j = 0;
    while (j < n_types && strcmp(p->types[j], f->event_types[i]) != 0) j++;
    if (j == n_types) p->types[n_types++] = f->event_types[i];
  }
  /* Spacedrive's own indexes alone: probe (see the top of this file),
  ** unless time alone (or nothing) is asked, which walks the timestamp
  ** index at once; and no arm per severity, which only synclua's
  ** (severity, timestamp) index would serve. With synclua's indexes a
  ** (value, timestamp) walk is better, but for a session: a correlation
  ** id has few rows, and its index finds them all at once. */
  int indexes = 0;
  if ((rc = store_indexes(s, &indexes)) != SL_OK) return rc;
  p->indexes = indexes;
  p->probing = (!(indexes & SLI_IDX_TYPE_TIME) || f->correlation_id) &&
               f->limit >= 0 && f->limit <= PROBE_MAX &&
               f->offset <= PROBE_MAX - f->limit &&
               (f->n_event_types || f->n_categories || p->n_sev ||
                f->peer || f->device || f->correlation_id || f->model_type);
  if (n_types > 1) {
    p->split_col = col_event_type;
    p->split_values = p->types;
    p->n_split = n_types;
  } else if (p->n_sev > 1 && (indexes & SLI_IDX_SEVERITY_TIME)) {
    p->split_col = col_severity;
    p->split_values = p->sev;
    p->n_split = p->n_sev;
  }
  return SL_OK;
}

static int prepare(sl_store *s, builder *b, sqlite3_stmt **out) {
  if (b->sql.oom) return sli_fail(s, SL_NOMEM, "out of memory");
  if (b->overflow) return sli_fail(s, SL_INVALID, "filter too large");
  sqlite3_stmt *st;
  int rc = sli_stmt_get(s, b->sql.data, &st);
  if (rc != SL_OK) return rc;
  for (int i = 0; i < b->n; i++) {
    if (b->binds[i].text)
      sqlite3_bind_text(st, i + 1, b->binds[i].text, -1, SQLITE_TRANSIENT);
    else
      sqlite3_bind_int64(st, i + 1, b->binds[i].integer);
  }
  *out = st;
  return SL_OK;
}

/* Count the rows of one kind, no further than bound (-1: all). */
static int64_t count_rows(sl_store *s, const plan *p, int kind,
                          int64_t bound, int *rc) {
  builder b;
  sqlite3_stmt *st = NULL;
  int64_t n = 0;
  memset(&b, 0, sizeof b);
  sl_buf_puts(&b.sql, bound >= 0 ? "SELECT count(*) FROM (SELECT 1"
                                 : "SELECT count(*)");
  sl_buf_puts(&b.sql, kind == CANONICAL ? " FROM sync_event_log"
                                        : foreign_from);
  add_conditions(&b, p, 0);
  add_time(&b, p, kind);
  if (bound >= 0) {
    sl_buf_puts(&b.sql, " LIMIT ");
    add_int(&b, bound);
    sl_buf_puts(&b.sql, ")");
  }
  *rc = prepare(s, &b, &st);
  if (*rc == SL_OK) {
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
    else *rc = sli_sqlite_fail(s, s->db, r, NULL);
    sli_stmt_put(s, st);
  }
  sl_buf_free(&b.sql);
  return n;
}

/* Run a builder's statement to its first row: SL_ROW, SL_DONE or an
** error; the statement (in *out) goes back with sli_stmt_put. */
static int first_row(sl_store *s, builder *b, sqlite3_stmt **out) {
  int rc = prepare(s, b, out);
  if (rc != SL_OK) return rc;
  int r = sqlite3_step(*out);
  if (r == SQLITE_ROW) return SL_ROW;
  if (r == SQLITE_DONE) return SL_DONE;
  rc = sli_sqlite_fail(s, s->db, r, NULL);
  sli_stmt_put(s, *out);
  return rc;
}

/* The rows out of (timestamp, id) order (sli.h, late_*): all of them at
** the first look, in one pass over the timestamp index; later, those the
** rows appended since make so. A row is out of order when a row before it
** in (timestamp, id) order has a higher id; an appended row has the
** highest ids, so it puts out of order the older rows of later times
** than its own, and those appended with it that it precedes. Only times
** that compare as text or blob count: the checks compare with a text. A
** subquery with a LIMIT stays a co-routine, so sl_late sees its rows in
** its order. */
static int late_refresh(sl_store *s) {
  int64_t top;
  int rc = sli_run(s, "SELECT max(id) FROM sync_event_log", 0, NULL, 0,
                   &top);
  if (rc != SL_OK || (s->late_known && top <= s->late_checked_id)) return rc;
  int64_t v[3] = {++s->late_run,
                  s->late_known ? s->late_checked_id : INT64_MIN, top};
  if (!s->late_known) {
    int r = sqlite3_exec(s->db, "CREATE TEMP TABLE IF NOT EXISTS sl_late"
                                "(id INTEGER PRIMARY KEY, ts); "
                                "CREATE INDEX IF NOT EXISTS"
                                " temp.sl_late_by_ts ON sl_late(ts); "
                                "DELETE FROM temp.sl_late;",
                         NULL, NULL, NULL);
    if (r != SQLITE_OK) return sli_sqlite_fail(s, s->db, r, NULL);
  } else {
    rc = sli_run(s, "INSERT OR IGNORE INTO temp.sl_late(id, ts) SELECT id,"
                    " timestamp FROM sync_event_log WHERE timestamp > (SELECT"
                    " min(timestamp) FROM sync_event_log WHERE id > ?2 AND"
                    " id <= ?3 AND timestamp >= '') AND id <= ?2",
                 3, v, 0, NULL);
  }
  if (rc == SL_OK)
    rc = sli_run(s, "INSERT OR IGNORE INTO temp.sl_late(id, ts) SELECT id,"
                    " ts FROM (SELECT id, timestamp AS ts FROM sync_event_log"
                    " WHERE id > ?2 AND id <= ?3 AND timestamp >= '' ORDER BY"
                    " timestamp, id LIMIT -1) WHERE sl_late(id, ?1)",
                 3, v, 0, NULL);
  if (rc != SL_OK) return rc;
  s->late_known = 1;
  s->late_checked_id = top;
  return SL_OK;
}

/* Does the statement built in b give a row? 1 or 0 into *hit. */
static int any_row(sl_store *s, builder *b, int *hit) {
  sqlite3_stmt *st = NULL;
  int rc = first_row(s, b, &st);
  if (rc == SL_ROW || rc == SL_DONE) sli_stmt_put(s, st);
  sl_buf_free(&b->sql);
  memset(b, 0, sizeof *b);
  *hit = rc == SL_ROW;
  return rc == SL_ROW || rc == SL_DONE ? SL_OK : rc;
}

/* head, the edge's time, " AND id", op and the edge's id: a clause of
** edge_holds's checks. */
static void edge_clause(builder *b, const char *head, const probe_edge *edge,
                        const char *op) {
  sl_buf_puts(&b->sql, head);
  add_text(b, edge->time);
  sl_buf_puts(&b->sql, " AND id");
  sl_buf_puts(&b->sql, op);
  add_int(b, edge->id);
}

/*
** Does a probe's edge hold: is no row at or past its time (newest first:
** timestamp >= time) with an id beyond its id (id < edge id)? Newest
** first, such a row has a later time than the probe's row at the edge's
** time and a lower id: it is out of order, in temp.sl_late -- or it ties
** with the edge's time. Oldest first, such a row would put every row at
** the edge's time with a lower id out of order: one that is not proves
** there is none (a tie with a higher id comes after the probe's rows, and
** is never kept). Else a walk of the timestamp index over the edge's span
** answers, an entry per row in it: temp.sl_late is built when one walk
** would cost half as much as building it, or all the walks so far as
** much.
*/
static int edge_holds(sl_store *s, int ascending, const probe_edge *edge,
                      int *holds) {
  int64_t top, bottom;
  int hit, rc = sli_run(s, "SELECT max(id) FROM sync_event_log", 0, NULL, 0,
                        &top);
  if (rc == SL_OK)
    rc = sli_run(s, "SELECT min(id) FROM sync_event_log", 0, NULL, 0,
                 &bottom);
  if (rc != SL_OK) return rc;
  int64_t span = ascending ? edge->id - bottom : top - edge->id;
  int64_t rows = top - bottom + 1;
  if (s->late_known || 2 * span >= rows || s->probe_work + span >= rows)
    if ((rc = late_refresh(s)) != SL_OK) return rc;
  builder b;
  memset(&b, 0, sizeof b);
  *holds = 0;
  if (s->late_known && ascending) {
    edge_clause(&b, "SELECT 1 FROM sync_event_log WHERE timestamp = ", edge,
                " <= ");
    sl_buf_puts(&b.sql, " AND id NOT IN (SELECT id FROM temp.sl_late)"
                        " LIMIT 1");
    if ((rc = any_row(s, &b, &hit)) != SL_OK || hit) {
      *holds = hit;
      return rc;
    }
  } else if (s->late_known) {
    edge_clause(&b, "SELECT 1 FROM temp.sl_late WHERE ts > ", edge, " < ");
    edge_clause(&b, " UNION ALL SELECT 1 FROM sync_event_log WHERE"
                    " timestamp = ", edge, " < ");
    sl_buf_puts(&b.sql, " LIMIT 1");
    rc = any_row(s, &b, &hit);
    *holds = !hit;
    return rc;
  }
  s->probe_work += span;
  edge_clause(&b, ascending
    ? "SELECT 1 FROM sync_event_log WHERE timestamp <= "
    : "SELECT 1 FROM sync_event_log WHERE timestamp >= ", edge,
    ascending ? " > " : " < ");
  sl_buf_puts(&b.sql, " LIMIT 1");
  rc = any_row(s, &b, &hit);
  *holds = !hit;
  return rc;
}

/*
** The probe (see the top of this file): the arm's first limit + offset
** rows by id, in the direction asked. *found is 1 with the edge to bound
** the arm at (the last of them by id, and the last by time) when every row
** the limit can keep is among them: all the arm's rows were read, or no
** row at or beyond the edge's time has an id beyond its id.
*/
static int probe_bound(sl_store *s, const plan *p, const char *split_value,
                       probe_edge *edge, int *found) {
  const sl_filter *f = p->f;
  int64_t want = f->limit + f->offset, n = 0;
  builder b;
  sqlite3_stmt *st = NULL;
  int rc;
  *found = 0;
  edge->time[0] = '\0';
  memset(&b, 0, sizeof b);
  sl_buf_puts(&b.sql, "SELECT id, timestamp FROM sync_event_log");
  add_arm_conditions(&b, p, CANONICAL, split_value);
  sl_buf_puts(&b.sql, f->ascending ? " ORDER BY id ASC LIMIT "
                                   : " ORDER BY id DESC LIMIT ");
  add_int(&b, want);
  for (rc = first_row(s, &b, &st); rc == SL_ROW; n++) {
    const char *ts = (const char *)sqlite3_column_text(st, 1);
    int len = sqlite3_column_bytes(st, 1);
    edge->id = sqlite3_column_int64(st, 0);
    /* Canonical rows only here: their text is their time, and it fits. */
    if (ts && len < (int)sizeof edge->time &&
        (!edge->time[0] || (f->ascending ? strcmp(ts, edge->time) > 0
                                         : strcmp(ts, edge->time) < 0)))
      memcpy(edge->time, ts, (size_t)len + 1);
    int r = sqlite3_step(st);
    rc = r == SQLITE_ROW ? SL_ROW : r == SQLITE_DONE ? SL_DONE
       : sli_sqlite_fail(s, s->db, r, NULL);
  }
  if (st) sli_stmt_put(s, st);
  sl_buf_free(&b.sql);
  if (rc != SL_DONE) return rc;
  if (n == 0 || !edge->time[0]) return SL_OK;
  if (n < want) {              /* every row of the arm was read */
    *found = 1;
    return SL_OK;
  }
  return edge_holds(s, f->ascending, edge, found);
}

/* The entries of one index under `value` of col, no further than cap:
** an index-only count. */
static int capped_count(sl_store *s, const char *col, const char *value,
                        int64_t cap, int64_t *n) {
  builder b;
  sqlite3_stmt *st = NULL;
  memset(&b, 0, sizeof b);
  sl_buf_puts(&b.sql, "SELECT count(*) FROM (SELECT 1 FROM sync_event_log"
                      " WHERE ");
  sl_buf_puts(&b.sql, col);
  sl_buf_puts(&b.sql, " = ");
  add_text(&b, value);
  sl_buf_puts(&b.sql, " LIMIT ");
  add_int(&b, cap);
  sl_buf_puts(&b.sql, ")");
  int rc = first_row(s, &b, &st);
  *n = rc == SL_ROW ? sqlite3_column_int64(st, 0) : 0;
  if (rc == SL_ROW || rc == SL_DONE) sli_stmt_put(s, st);
  sl_buf_free(&b.sql);
  return rc == SL_ROW || rc == SL_DONE ? SL_OK : rc;
}

/* Several equalities narrow an arm -- an event type, a peer, a severity
** where synclua's (severity, timestamp) index is -- each through its own
** index, and SQLite, without statistics, takes one whatever its size: the
** peer's for a rare type with a busy peer (a hundred thousand rows read to
** find a thousand), the type's for batch_ingestion's errors (half a
** million rows read to find none). Count each, no further than
** CHOICE_CAP entries nor than the smallest so far (index-only counts: a
** fraction of a millisecond), and keep SQLite off all but the smallest;
** when every one reaches the cap, SQLite's choice stands. */
#define CHOICE_CAP 20000

static int choose_index(sl_store *s, plan *p, const char *split_value) {
  const sl_filter *f = p->f;
  typedef struct { const char *col, *value; int *plus; } candidate;
  candidate c[3];
  int k = 0;
  const char *type = split_value && p->split_col == col_event_type
                   ? split_value
                   : f->n_event_types == 1 ? f->event_types[0] : NULL;
  const char *sev = split_value && p->split_col == col_severity
                  ? split_value : p->n_sev == 1 ? p->sev[0] : NULL;
  char norm[SL_UUID_BUFSZ];
  if (type) c[k++] = (candidate){"event_type", type, &p->plus_type};
  if (f->peer)
    c[k++] = (candidate){"peer_device_id",
                         sl_uuid_normalize(f->peer, norm) == SL_OK ? norm
                                                                : f->peer,
                         &p->plus_peer};
  if (sev && (p->indexes & SLI_IDX_SEVERITY_TIME))
    c[k++] = (candidate){"severity", sev, &p->plus_severity};
  if (k < 2) return SL_OK;
  int best = -1;
  int64_t cap = CHOICE_CAP;
  for (int i = 0; i < k; i++) {
    int64_t n;
    int rc = capped_count(s, c[i].col, c[i].value, cap, &n);
    if (rc != SL_OK) return rc;
    if (n < cap) {
      best = i;
      cap = n;
    }
  }
  for (int i = 0; best >= 0 && i < k; i++) *c[i].plus = i != best;
  return SL_OK;
}

static int add_arm(sl_store *s, sl_cursor *c, const plan *p, int kind,
                   const char *split_value) {
  builder b;
  probe_edge edge;
  int bounded = 0;
  plan mine = *p;
  if (kind == CANONICAL) {
    int rc = choose_index(s, &mine, split_value);
    if (rc == SL_OK && p->probing)
      rc = probe_bound(s, &mine, split_value, &edge, &bounded);
    if (rc != SL_OK) return rc;
  }
  memset(&b, 0, sizeof b);
  build_arm(&b, &mine, kind, split_value, bounded ? &edge : NULL);
  int rc = prepare(s, &b, &c->arms[c->n_arms].stmt);
  sl_buf_free(&b.sql);
  if (rc == SL_OK) c->arms[c->n_arms++].reversing = reverses(p->f, kind);
  return rc;
}

int sl_query(sl_store *s, const sl_filter *f, sl_cursor **out) {
  plan p;
  if (!s || !f || !out) return SL_MISUSE;
  *out = NULL;
  int rc = sli_store_usable(s);
  if (rc == SL_OK)
    rc = s->pg ? sli_filter_check(s, f) : make_plan(s, f, &p, FOR_ROWS);
  if (rc != SL_OK) return rc;
  sl_cursor *c = calloc(1, sizeof *c);
  if (!c) return sli_fail(s, SL_NOMEM, "out of memory");
  sl_store_retain(s);
  c->store = s;
  c->current = -1;
  c->descending = !f->ascending;
  c->skip = c->offset = f->offset;
  c->remaining = f->limit;
  c->skipped_last = f->skipped_last;
  if (s->pg) {
    rc = sli_pg_query(s, f, &c->pg, &c->unparsable);
    if (rc != SL_OK) {
      sl_cursor_close(c);
      return rc;
    }
    *out = c;
    return SL_OK;
  }
  if (p.n_split)
    for (size_t i = 0; rc == SL_OK && i < p.n_split; i++)
      rc = add_arm(s, c, &p, CANONICAL, p.split_values[i]);
  else
    rc = add_arm(s, c, &p, CANONICAL, NULL);
  if (rc == SL_OK && p.foreign) {
    plan whole = p;
    whole.split_col = NULL;
    whole.n_split = 0;
    rc = add_arm(s, c, &whole, FOREIGN, NULL);
    /* Rows of unknown time come (last) only when no bound must place them
    ** (a window holds every row the limit keeps: they come after); a
    ** bound the caller set leaves them out, counted. */
    if (rc == SL_OK && s->ts_unparsable && !p.f->has_since &&
        !p.f->has_until)
      rc = add_arm(s, c, &whole, UNKNOWN, NULL);
    if (rc == SL_OK && s->ts_unparsable && (f->has_since || f->has_until))
      c->unparsable = count_rows(s, &whole, UNKNOWN, -1, &rc);
  }
  if (rc != SL_OK) {
    sl_cursor_close(c);
    return rc;
  }
  *out = c;
  return SL_OK;
}

static const char *text_col(sqlite3_stmt *st, int i) {
  return (const char *)sqlite3_column_text(st, i);
}

/* An arm's statement is done: back to the store's cache, or kept (reset)
** while a second read may need it. */
static void arm_done(sl_cursor *c, arm *a) {
  if (c->skipped_last && !c->rereading) {
    sqlite3_reset(a->stmt);
    a->kept = a->stmt;
  } else {
    sli_stmt_put(c->store, a->stmt);
  }
  a->stmt = NULL;
}

/* Step a's statement: SL_OK with *row 1 on a row, 0 at its end (the
** statement put back), or an error status with the message on c. */
static int stmt_step(sl_cursor *c, arm *a, int *row) {
  *row = 0;
  if (!a->stmt) return SL_OK;
  int rc = sqlite3_step(a->stmt);
  if (rc == SQLITE_ROW) {
    *row = 1;
    return SL_OK;
  }
  if (rc == SQLITE_DONE) {
    arm_done(c, a);
    return SL_OK;
  }
  /* The store's wording ("PATH: database is corrupt (malformed)"), so
  ** that a file failing under a query reads as one failing to open. */
  int status = sli_sqlite_fail(c->store, c->store->db, rc, NULL);
  snprintf(c->errmsg, sizeof c->errmsg, "%s", sl_store_errmsg(c->store));
  arm_done(c, a);
  return status;
}

/* The id and time of the statement's row; *ts_type is the timestamp's
** storage class, taken before the conversion to text. */
static void read_time(sqlite3_stmt *st, int64_t *id, int64_t *instant,
                      int *unknown, int *ts_type) {
  *ts_type = sqlite3_column_type(st, 1);
  const char *ts = text_col(st, 1);
  *id = sqlite3_column_int64(st, 0);
  *unknown = !ts || sl_time_parse_rfc3339(
                      ts, (size_t)sqlite3_column_bytes(st, 1),
                      instant) != SL_OK;
}

/* Copy the statement's row to a->rows[a->n_rows] (text into a->bytes):
** SL_OK, or SL_NOMEM with nothing added. */
static int hold_row(arm *a) {
  if (a->n_rows == a->cap) {
    size_t cap = a->cap ? 2 * a->cap : 4;
    held *rows = realloc(a->rows, cap * sizeof *rows);
    if (!rows) return SL_NOMEM;
    a->rows = rows;
    a->cap = cap;
  }
  sqlite3_stmt *st = a->stmt;
  held *h = &a->rows[a->n_rows];
  int ts_type;
  read_time(st, &h->id, &h->instant, &h->unknown, &ts_type);
  h->base = a->bytes.len;
  for (int col = SL_COL_TIMESTAMP; col < SL_COLUMN_COUNT; col++) {
    sqlite3_value *v = sqlite3_column_value(st, col);
    int type = col == SL_COL_TIMESTAMP ? ts_type : sqlite3_value_type(v);
    h->type[col] = type;
    h->at[col] = NO_TEXT;
    h->len[col] = 0;
    h->integer[col] = 0;
    if (col >= SL_COL_RECORD_COUNT) {
      if (type == SQLITE_INTEGER) h->integer[col] = sqlite3_value_int64(v);
      continue;
    }
    if (type == SQLITE_NULL) continue;
    const char *text = (const char *)sqlite3_value_text(v);
    if (!text) continue;      /* NO_TEXT: fill_event reports it */
    h->len[col] = (size_t)sqlite3_value_bytes(v);
    h->at[col] = a->bytes.len;
    sl_buf_append(&a->bytes, text, h->len[col] + 1); /* and its NUL */
  }
  if (a->bytes.oom) {
    a->bytes.oom = 0;
    a->bytes.len = h->base;
    return SL_NOMEM;
  }
  a->n_rows++;
  return SL_OK;
}

static int same_instant(const held *x, const held *y) {
  return !x->unknown && !y->unknown && x->instant == y->instant;
}

/* Stand a reversing arm on its next row: the one before in the run it
** holds, or else the last of the next run, read now. That run starts with
** the row that ended the last one (moved to the front) and ends before
** the first row of another instant, which is held too. */
static int run_next(sl_cursor *c, arm *a) {
  if (a->live && a->pos > 0) {
    a->pos--;
  } else {
    if (a->n_rows > a->n_run) {
      held *h = &a->rows[a->n_run];
      size_t base = h->base;
      if (base) { /* else nothing to move (and data may be NULL) */
        memmove(a->bytes.data, a->bytes.data + base, a->bytes.len - base);
        a->bytes.len -= base;
      }
      for (int col = SL_COL_TIMESTAMP; col < SL_COLUMN_COUNT; col++)
        if (h->at[col] != NO_TEXT) h->at[col] -= base;
      h->base = 0;
      a->rows[0] = *h;
      a->n_rows = 1;
    } else {
      a->n_rows = 0;
      sl_buf_reset(&a->bytes);
    }
    int ended = 0, row = 1, rc;
    while (a->stmt && !ended) {
      if ((rc = stmt_step(c, a, &row)) != SL_OK) return rc;
      if (!row) break;
      if (hold_row(a) != SL_OK) {
        snprintf(c->errmsg, sizeof c->errmsg, "%s: out of memory",
                 c->store->path);
        return SL_NOMEM;
      }
      ended = a->n_rows > 1 &&
              !same_instant(&a->rows[0], &a->rows[a->n_rows - 1]);
    }
    a->n_run = a->n_rows - (size_t)ended;
    a->live = a->n_run > 0;
    if (!a->live) return SL_OK;
    a->pos = a->n_run - 1;
  }
  const held *h = &a->rows[a->pos];
  a->id = h->id;
  a->instant = h->instant;
  a->unknown = h->unknown;
  a->ts_type = h->type[SL_COL_TIMESTAMP];
  a->live = 1;
  return SL_OK;
}

/* Move an arm to its next row; SL_OK (row or exhausted) or an error. */
static int arm_next(sl_cursor *c, arm *a) {
  if (a->reversing) return run_next(c, a);
  int row, rc = stmt_step(c, a, &row);
  a->live = row;
  if (row)
    read_time(a->stmt, &a->id, &a->instant, &a->unknown, &a->ts_type);
  return rc;
}

/* Does arm x's row come before arm y's? Known times by instant, ties by
** id ascending in either direction; unknown times last, by id in the
** direction asked. */
static int before(const sl_cursor *c, const arm *x, const arm *y) {
  if (x->unknown != y->unknown) return y->unknown;
  if (!x->unknown) {
    if (x->instant != y->instant)
      return c->descending ? x->instant > y->instant
                           : x->instant < y->instant;
    return x->id < y->id;
  }
  return c->descending ? x->id > y->id : x->id < y->id;
}

/* Text columns Spacedrive reads as String (NOT NULL) or Option<String>. */
enum { REQUIRED, OPTIONAL };

/* One text column of type `type` (its storage class, taken before any
** conversion), s its text of len bytes (NULL for a NULL, or when the
** conversion ran out of memory): the text to hand out, "" or NULL, with
** its bit in *bad when Spacedrive could not have read it. Required text
** with ill-formed UTF-8 is mended into c->fix, at *fixed_at, and NULL
** returned: the caller points at it once the buffer has stopped moving. */
static const char *read_text(sl_cursor *c, const char *s, size_t *len,
                             int col, int type, int kind, unsigned *bad,
                             size_t *fixed_at, int *nomem) {
  if (type == SQLITE_NULL) {
    *len = 0;
    if (kind == OPTIONAL) return NULL;
    *bad |= SL_COLUMN_BIT(col);
    return "";
  }
  if (!s) {                   /* a conversion that ran out of memory */
    *nomem = 1;
    *len = 0;
    return kind == OPTIONAL ? NULL : "";
  }
  if (type != SQLITE_TEXT) {
    *bad |= SL_COLUMN_BIT(col);
    if (kind == OPTIONAL) {
      *len = 0;
      return NULL;
    }
  }
  /* SQLite knows the length, NUL inside and all. */
  if (sli_utf8_valid_prefix(s, *len) == *len) return s;
  *bad |= SL_COLUMN_BIT(col);
  if (kind == OPTIONAL) {
    *len = 0;
    return NULL;
  }
  *fixed_at = c->fix.len;
  sli_utf8_lossy(&c->fix, s, *len);
  *len = c->fix.len - *fixed_at;
  sl_buf_append(&c->fix, "", 1);  /* its NUL: several share the buffer */
  return NULL;                    /* set once the buffer stops moving   */
}

/* An INTEGER column, of type `type` and value `value` if an integer;
** anything else (text, a real, a blob) is absent. */
static int read_int(int type, int64_t value, int col, int64_t *v,
                    unsigned *bad) {
  *v = 0;
  if (type == SQLITE_INTEGER) {
    *v = value;
    return 1;
  }
  if (type != SQLITE_NULL) *bad |= SL_COLUMN_BIT(col);
  return 0;
}

/*
** The current row of arm a into c->ev, read as synclua.h's sl_bad_rows says:
** leniently, never failing on a value, and flagging in ev.bad each column
** Spacedrive's reader could not have read. Mended text lives in c->fix,
** reset per row; everything else points into the statement, or for a
** reversing arm into its held row's copy (a->bytes), both unmoved until
** the arm moves on. SL_OK, or SL_NOMEM when a copy or a conversion ran
** out of memory.
*/
static int fill_event(sl_cursor *c, const arm *a) {
  sqlite3_stmt *st = a->stmt;
  const held *h = a->reversing ? &a->rows[a->pos] : NULL;
  sl_event *e = &c->ev;
  const char **text[SL_COL_MODEL_TYPES + 1] = {
    NULL, &e->timestamp, &e->device_id, &e->event_type, &e->category,
    &e->severity, &e->summary, &e->details, &e->correlation_id,
    &e->peer_device_id, &e->model_types};
  size_t fixed_at[SL_COL_MODEL_TYPES + 1];
  unsigned bad = 0;
  int nomem = 0;
  sl_buf_reset(&c->fix);
  e->id = a->id;
  e->has_id = 1;
  e->has_instant = !a->unknown;
  e->instant = a->unknown ? 0 : a->instant;
  for (int col = SL_COL_TIMESTAMP; col <= SL_COL_MODEL_TYPES; col++) {
    const char *s = NULL;
    size_t len = 0;
    int type;
    if (h) {
      type = h->type[col];
      if (h->at[col] != NO_TEXT) {
        s = a->bytes.data + h->at[col];
        len = h->len[col];
      }
    } else {
      /* One value object for type, text and length: each sqlite3_column_*
      ** call costs an API exit of its own (a tenth of an export's time). */
      sqlite3_value *v = sqlite3_column_value(st, col);
      type = col == SL_COL_TIMESTAMP ? a->ts_type : sqlite3_value_type(v);
      if (type != SQLITE_NULL) {
        s = (const char *)sqlite3_value_text(v);
        len = s ? (size_t)sqlite3_value_bytes(v) : 0;
      }
    }
    fixed_at[col] = (size_t)-1;
    *text[col] = read_text(c, s, &len, col, type,
                           col < SL_COL_DETAILS ? REQUIRED : OPTIONAL, &bad,
                           &fixed_at[col], &nomem);
    e->len[col] = len;
  }
  if (c->fix.oom || nomem) return SL_NOMEM;
  for (int col = SL_COL_TIMESTAMP; col < SL_COL_DETAILS; col++)
    if (fixed_at[col] != (size_t)-1) *text[col] = c->fix.data + fixed_at[col];
  /* Ids as the uuid crate reads them: any of its spellings lowercase and
  ** hyphenated, anything else None (spacedrive-compat.md 10.1). */
  for (int k = 0; k < 2; k++) {
    int col = k ? SL_COL_PEER_DEVICE_ID : SL_COL_CORRELATION_ID;
    if (!*text[col] || sl_uuid_canonical(*text[col], e->len[col])) continue;
    if (sl_uuid_parse(*text[col], e->len[col], c->ids[k]) == SL_OK) {
      *text[col] = c->ids[k];
      e->len[col] = 36;
    } else {
      *text[col] = NULL;
      e->len[col] = 0;
      bad |= SL_COLUMN_BIT(col);
    }
  }
  for (int col = SL_COL_EVENT_TYPE; col <= SL_COL_SEVERITY; col++)
    if (sl_event_name(e, col) < 0) bad |= SL_COLUMN_BIT(col);
  for (int col = SL_COL_RECORD_COUNT; col <= SL_COL_DURATION_MS; col++) {
    int type = h ? h->type[col] : sqlite3_column_type(st, col);
    int64_t value = h ? h->integer[col]
                  : type == SQLITE_INTEGER ? sqlite3_column_int64(st, col)
                                           : 0;
    if (col == SL_COL_RECORD_COUNT)
      e->has_record_count = read_int(type, value, col, &e->record_count,
                                     &bad);
    else
      e->has_duration_ms = read_int(type, value, col, &e->duration_ms, &bad);
  }
  e->bad = bad;
  return SL_OK;
}

static void finish(sl_cursor *c) {
  for (int i = 0; i < c->n_arms; i++) {
    if (c->arms[i].stmt) arm_done(c, &c->arms[i]);
    c->arms[i].live = 0;
  }
}

/* The next row in the order asked, past the offset and within the limit,
** into c->ev: SL_ROW, SL_DONE, or an error status. */
static int next_row(sl_cursor *c) {
  int rc;
  if (c->pg) {
    /* The offset and the limit counted here, as for the arms. */
    while ((rc = sli_pg_next(c->pg, &c->ev, &c->fix, c->errmsg)) == SL_ROW &&
           c->skip > 0)
      c->skip--;
    if (rc != SL_ROW || c->remaining == 0) return rc == SL_ROW ? SL_DONE : rc;
    if (c->remaining > 0) c->remaining--;
    return SL_ROW;
  }
  if (!c->started) {
    c->started = 1;
    for (int i = 0; i < c->n_arms; i++)
      if ((rc = arm_next(c, &c->arms[i])) != SL_OK) {
        finish(c);
        return rc;
      }
  } else if (c->current >= 0) {
    if ((rc = arm_next(c, &c->arms[c->current])) != SL_OK) {
      finish(c);
      return rc;
    }
  }
  for (;;) {
    int best = -1;
    for (int i = 0; i < c->n_arms; i++)
      if (c->arms[i].live &&
          (best < 0 || before(c, &c->arms[i], &c->arms[best])))
        best = i;
    c->current = best;
    if (best < 0 || c->remaining == 0) {
      finish(c);
      c->current = -1;
      return SL_DONE;
    }
    if (c->skip > 0) {
      c->skip--;
      if ((rc = arm_next(c, &c->arms[best])) != SL_OK) {
        finish(c);
        return rc;
      }
      continue;
    }
    if ((rc = fill_event(c, &c->arms[best])) != SL_OK) {
      snprintf(c->errmsg, sizeof c->errmsg, "%s: out of memory",
               c->store->path);
      finish(c);
      c->current = -1;
      return rc;
    }
    if (c->remaining > 0) c->remaining--;
    return SL_ROW;
  }
}

/* Start the second read: every arm from its first row again, the same
** offset, and as many rows as the first read took. */
static void reread(sl_cursor *c) {
  if (c->pg) sli_pg_rewind(c->pg);
  for (int i = 0; i < c->n_arms; i++) {
    arm *a = &c->arms[i];
    if (a->stmt) sqlite3_reset(a->stmt); /* bindings stay */
    else a->stmt = a->kept;
    a->kept = NULL;
    a->live = 0;
    a->n_rows = a->n_run = a->pos = 0;
    sl_buf_reset(&a->bytes);
  }
  c->rereading = 1;
  c->started = 0;
  c->current = -1;
  c->skip = c->offset;
  c->remaining = c->taken;
}

int sl_cursor_next(sl_cursor *c, const sl_event **ev) {
  if (!c || !ev) return SL_MISUSE;
  for (;;) {
    int rc = next_row(c);
    if (rc == SL_DONE && c->skipped_last && !c->rereading && c->owed > 0) {
      reread(c);
      continue;
    }
    if (rc != SL_ROW) return rc;
    int skipped = sl_event_skipped(&c->ev);
    if (c->skipped_last && !c->rereading) {
      c->taken++;
      if (skipped) {
        c->owed++;
        continue;
      }
    } else if (c->rereading) {
      if (!skipped) continue;
      if (--c->owed == 0) c->remaining = 0; /* the last one owed */
    }
    c->skipped += skipped;
    if (c->ev.bad) {
      sl_bad_rows_note(&c->bad, &c->ev);
      sli_store_note_bad(c->store, &c->ev); /* each row once, over all
                                              ** queries */
    }
    if (c->store->redactor) { /* a redacting store hands out the copy */
      if (sl_redact_event(c->store->redactor, &c->ev, &c->red,
                          &c->red_text) != SL_OK) {
        snprintf(c->errmsg, sizeof c->errmsg, "%s: out of memory redacting "
                 "a row", c->store->path);
        return SL_NOMEM;
      }
      *ev = &c->red;
      return SL_ROW;
    }
    *ev = &c->ev;
    return SL_ROW;
  }
}

int64_t sl_cursor_skipped(const sl_cursor *c) {
  return c ? c->skipped : 0;
}

int64_t sl_cursor_unparsable(const sl_cursor *c) {
  return c ? c->unparsable : 0;
}

int sl_cursor_bad_rows(const sl_cursor *c, sl_bad_rows *out) {
  if (out) memset(out, 0, sizeof *out);
  if (!c || !out) return SL_MISUSE;
  *out = c->bad;
  return SL_OK;
}

const char *sl_cursor_errmsg(const sl_cursor *c) {
  return c ? c->errmsg : "out of memory";
}

void sl_cursor_close(sl_cursor *c) {
  if (!c) return;
  if (c->pg) sli_pg_close(c->pg);
  finish(c);
  for (int i = 0; i < c->n_arms; i++) {
    if (c->arms[i].kept) sli_stmt_put(c->store, c->arms[i].kept);
    free(c->arms[i].rows);
    sl_buf_free(&c->arms[i].bytes);
  }
  sl_buf_free(&c->fix);
  sl_store_release(c->store);
  sl_buf_free(&c->red_text);
  free(c);
}

int sl_count(sl_store *s, const sl_filter *f, int64_t *n) {
  plan p;
  if (!s || !f || !n) return SL_MISUSE;
  int rc = sli_store_usable(s);
  if (rc == SL_OK)
    rc = s->pg ? sli_filter_check(s, f) : make_plan(s, f, &p, FOR_COUNT);
  if (rc != SL_OK) return rc;
  /* A limit counts no further than it can reach. */
  int64_t bound = f->limit < 0 ? -1
                : f->limit > INT64_MAX - f->offset ? INT64_MAX
                                                   : f->limit + f->offset;
  int64_t total = 0;
  if (s->pg) {
    rc = sli_pg_count(s, f, bound, &total);
  } else {
    p.split_col = NULL;
    p.n_split = 0;
    total = count_rows(s, &p, CANONICAL, bound, &rc);
    /* Timed only (see make_plan): rows of unknown time are left out. */
    if (rc == SL_OK && p.foreign)
      total += count_rows(s, &p, FOREIGN, bound, &rc);
  }
  if (rc != SL_OK) return rc;
  total = total > f->offset ? total - f->offset : 0;
  if (f->limit >= 0 && total > f->limit) total = f->limit;
  *n = total;
  return SL_OK;
}

/* ---------------------------------------------------------- fingerprint */

#define FNV_PRIME  SLI_FNV_PRIME

uint64_t sli_fnv1a(uint64_t h, const char *s, size_t n, int lower) {
  const unsigned char *p = (const unsigned char *)s;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = p[i];
    if (lower && c >= 'A' && c <= 'Z') c = (unsigned char)(c - 'A' + 'a');
    h = (h ^ c) * FNV_PRIME;
  }
  return h;
}

/* Text column col of ev into the hash. */
static uint64_t fnv1a_col(uint64_t h, const sl_event *ev, int col,
                          int lower) {
  size_t n;
  const char *s = sl_event_text(ev, col, &n);
  return sli_fnv1a(h, s, n, lower);
}

/* One row's hash: its fields joined by a 0 byte, as synclua.h says. */
static uint64_t row_hash(const sl_event *ev) {
  char ts[SL_TIME_BUFSZ];
  uint64_t h = SLI_FNV_OFFSET;
  if (ev->has_instant)
    h = sli_fnv1a(h, ts, sl_time_format(ev->instant, 0, ts), 0);
  else
    h = fnv1a_col(h, ev, SL_COL_TIMESTAMP, 0);
  h *= FNV_PRIME; /* the separator: h ^ 0 is h */
  h = fnv1a_col(h, ev, SL_COL_EVENT_TYPE, 0);
  h *= FNV_PRIME;
  h = fnv1a_col(h, ev, SL_COL_SUMMARY, 0);
  h *= FNV_PRIME;
  return fnv1a_col(h, ev, SL_COL_DEVICE_ID, 1);
}

int sl_fingerprint(sl_store *s, const sl_filter *f, int64_t *count,
                   uint64_t *digest) {
  sl_cursor *c;
  const sl_event *ev;
  int64_t n = 0;
  uint64_t sum = 0;
  if (!s || !f) return SL_MISUSE;
  int rc = sl_query(s, f, &c);
  if (rc != SL_OK) return rc;
  while ((rc = sl_cursor_next(c, &ev)) == SL_ROW) {
    sum += row_hash(ev); /* unsigned: modulo 2^64 */
    n++;
  }
  if (rc != SL_DONE) {
    rc = sli_fail(s, rc, "%s", sl_cursor_errmsg(c));
    sl_cursor_close(c);
    return rc;
  }
  sl_cursor_close(c);
  if (count) *count = n;
  if (digest) *digest = sum;
  return SL_OK;
}
