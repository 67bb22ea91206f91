/*
** sl_import_text.c -- core layer: an export's text read straight into a
** streaming import (sl_import_add_text), the hot path of `synclua import`
** and of exports given as inputs. It owns nothing past a call: the events
** of one call and the strings it had to make for them (a JSON string with
** escapes, an SQL or CSV field with doubled quotes, a joined model_types)
** live in blocks freed when the call returns.
**
** It reads the layouts synclua and Spacedrive write -- a JSON array's
** elements, NDJSON lines, SQL INSERT statements, CSV records -- and takes
** exactly the events the Lua importer (lua/synclua/importer.lua) takes from
** the same text, as the same sl_event: whatever it does not follow (a bad
** event, an escaped key, a record cut by the end of the text) ends the
** call before that event, and the caller reads on from there its own way,
** which names the trouble. The checks the import makes of every event
** (names, time, details) are left to it (sli_import_add_some).
*/
#include <stdlib.h>
#include <string.h>

#include <synclua/json.h>

#include "sli_import.h"

/* ------------------------------------------------------------- memory */

/* A block of strings made during a call; blocks never move. */
typedef struct block {
  struct block *next;
  size_t        used, cap;
  char          data[];
} block;

#define BLOCK_SIZE 65536
#define MAX_EVENTS 8192       /* events of one call: the rest, next call    */
#define MAX_DEPTH  64         /* nesting followed in a skipped JSON value   */
#define MAX_MODELS 64         /* model_types entries read here              */

typedef struct reader {
  const char *p, *end;        /* next byte, one past the text               */
  const char *device;         /* for JSON events without one (or NULL)      */
  block      *blocks;         /* strings made, newest first                 */
  sl_event   *evs;            /* the events read                            */
  size_t     *ends;           /* where the text of each one ends            */
  size_t      n, cap;
  int         nomem;          /* an allocation failed                       */
} reader;

static char *make(reader *r, size_t n) {
  block *b = r->blocks;
  if (!b || b->cap - b->used < n) {
    size_t cap = n > BLOCK_SIZE ? n : BLOCK_SIZE;
    b = malloc(sizeof *b + cap);
    if (!b) {
      r->nomem = 1;
      return NULL;
    }
    b->next = r->blocks;
    b->used = 0;
    b->cap = cap;
    r->blocks = b;
  }
  char *s = b->data + b->used;
  b->used += n;
  return s;
}

/* A new event, zeroed; NULL without memory (or room). */
static sl_event *new_event(reader *r) {
  if (r->n == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 256;
    if (cap > MAX_EVENTS) return NULL;
    sl_event *evs = realloc(r->evs, cap * sizeof *evs);
    size_t *ends = evs ? realloc(r->ends, cap * sizeof *ends) : NULL;
    if (evs) r->evs = evs;
    if (!ends) {
      r->nomem = 1;
      return NULL;
    }
    r->ends = ends;
    r->cap = cap;
  }
  sl_event *ev = &r->evs[r->n];
  memset(ev, 0, sizeof *ev);
  return ev;
}

/* The event made last is read: its text ends at `at`. */
static void keep(reader *r, const char *at, const char *text) {
  r->ends[r->n++] = (size_t)(at - text);
}

/* A name column's text as the core's own static name (the core reads
** names as C strings); NULL for one that is no name of its kind. */
static const char *name_of(int col, const char *s, size_t n) {
  char name[32];
  if (n >= sizeof name || memchr(s, '\0', n)) return NULL;
  memcpy(name, s, n);
  name[n] = '\0';
  switch (col) {
  case SL_COL_EVENT_TYPE:
    return sl_event_type_name(sl_event_type_from_name(name));
  case SL_COL_CATEGORY: return sl_category_name(sl_category_from_name(name));
  default: return sl_severity_name(sl_severity_from_name(name));
  }
}

/* A text column of ev; 0 for a name (type, category, severity) that is
** none, which the import would refuse. An empty text points at "" (an
** sl_event's length 0 means "up to the NUL"). */
static int set_text(sl_event *ev, int col, const char *s, size_t n) {
  if (col == SL_COL_EVENT_TYPE || col == SL_COL_CATEGORY ||
      col == SL_COL_SEVERITY) {
    s = name_of(col, s, n);
    if (!s) return 0;
  }
  if (n == 0) s = "";
  switch (col) {
  case SL_COL_TIMESTAMP: ev->timestamp = s; break;
  case SL_COL_DEVICE_ID: ev->device_id = s; break;
  case SL_COL_EVENT_TYPE: ev->event_type = s; break;
  case SL_COL_CATEGORY: ev->category = s; break;
  case SL_COL_SEVERITY: ev->severity = s; break;
  case SL_COL_SUMMARY: ev->summary = s; break;
  case SL_COL_DETAILS: ev->details = s; break;
  case SL_COL_CORRELATION_ID: ev->correlation_id = s; break;
  case SL_COL_PEER_DEVICE_ID: ev->peer_device_id = s; break;
  case SL_COL_MODEL_TYPES: ev->model_types = s; break;
  default: return 0;
  }
  ev->len[col] = n;
  return 1;
}

/* s[0..n) as the importer's integer_of reads a count: -?digits (leading
** zeros allowed), -2^63 to 2^64-1, those above INT64_MAX wrapped as SQLite
** holds a u64. 0 for anything else -- and for the few texts just below
** -2^63 that Lua's float conversion lets through (the caller's own reading
** has those). */
static int integer_text(const char *s, size_t n, int64_t *out) {
  size_t i = 0;
  int neg = 0;
  uint64_t mag = 0;
  if (n > 0 && s[0] == '-') neg = i = 1;
  if (i == n) return 0;
  for (; i < n; i++) {
    unsigned d = (unsigned)(unsigned char)s[i] - '0';
    if (d > 9) return 0;
    if (mag > (UINT64_MAX - d) / 10) return 0;
    mag = mag * 10 + d;
  }
  if (neg) {
    if (mag > (uint64_t)INT64_MAX + 1) return 0;
    *out = mag == 0 ? 0 : -(int64_t)(mag - 1) - 1;
  } else {
    *out = mag <= (uint64_t)INT64_MAX ? (int64_t)mag
                                      : -(int64_t)(UINT64_MAX - mag) - 1;
  }
  return 1;
}

/* ------------------------------------------------------------- JSON */

static int json_space(int c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static void skip_json_space(reader *r) {
  while (r->p < r->end && json_space((unsigned char)*r->p)) r->p++;
}

/* The JSON string at r->p (its opening quote), decoded as sl_json_parse
** decodes it: the text itself when it has no escape, else a copy. 0 for
** one the parser refuses (a raw control character, a bad escape, a lone
** surrogate, UTF-8 that is not) or that the text cuts short. */
static int json_string(reader *r, const char **out, size_t *len) {
  const char *s = r->p + 1, *q = s, *end = r->end;
  int plain = 1;
  while (q < end) {
    unsigned char c = (unsigned char)*q;
    if (c == '"') break;
    if (c == '\\') {
      plain = 0;
      q += 2;
      continue;
    }
    if (c < 0x20) return 0;
    q++;
  }
  if (q >= end) return 0;
  size_t n = (size_t)(q - s);
  if (plain) {
    if (sli_utf8_valid_prefix(s, n) != n) return 0;
    *out = s;
    *len = n;
    r->p = q + 1;
    return 1;
  }
  char *buf = make(r, n);
  const char *at;
  long cp;
  if (!buf || sli_json_unescape(s, q, buf, &n, &at, &cp) != SLI_JSTR_OK)
    return 0;
  *out = buf;
  *len = n;
  r->p = q + 1;
  return 1;
}

/* The end of the JSON value at p, brackets and strings followed (up to
** MAX_DEPTH deep), not checked: whoever takes the text checks it. NULL
** when the text ends first. */
static const char *skip_value(const char *p, const char *end) {
  int depth = 0;
  do {
    if (p >= end) return NULL;
    unsigned char c = (unsigned char)*p;
    if (c == '"') {
      for (p++; p < end && *p != '"'; p++)
        if (*p == '\\') p++;
      if (p >= end) return NULL;
      p++;
    } else if (c == '{' || c == '[') {
      if (++depth > MAX_DEPTH) return NULL;
      p++;
    } else if (c == '}' || c == ']') {
      if (--depth < 0) return NULL;
      p++;
    } else if (depth > 0) {
      p++;
    } else {
      const char *s = p;
      while (p < end && (((c = (unsigned char)*p) >= '0' && c <= '9') ||
                         (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         c == '-' || c == '+' || c == '.'))
        p++;
      if (p == s) return NULL;
    }
  } while (depth > 0);
  return p;
}

/* A JSON integer at r->p as serde types it SL_JSON_INTEGER (or, with
** `unsigned_too`, SL_JSON_UNSIGNED too); its value wrapped into *out. */
static int json_integer(reader *r, int unsigned_too, int64_t *out) {
  const char *s = r->p, *p = s;
  if (p < r->end && *p == '-') p++;
  const char *digits = p;
  while (p < r->end && *p >= '0' && *p <= '9') p++;
  size_t n = (size_t)(p - digits);
  if (n == 0 || (n > 1 && *digits == '0')) return 0;
  if (digits != s && n == 1 && *digits == '0') return 0;     /* -0: float */
  if (p < r->end && (*p == '.' || *p == 'e' || *p == 'E')) return 0;
  if (!integer_text(s, (size_t)(p - s), out)) return 0;
  if (!unsigned_too && digits == s && *out < 0) return 0;     /* a u64 */
  r->p = p;
  return 1;
}

static int json_null(reader *r) {
  if (r->end - r->p >= 4 && memcmp(r->p, "null", 4) == 0) {
    r->p += 4;
    return 1;
  }
  return 0;
}

/* The members of an export's element. */
enum {
  M_ID, M_TIMESTAMP, M_DEVICE, M_TYPE, M_CATEGORY, M_SEVERITY, M_SUMMARY,
  M_DETAILS, M_CORRELATION, M_PEER, M_MODELS, M_RECORDS, M_DURATION,
  M_LABEL, M_ADJUSTED, M_COUNT
};

#define MEMBER(key, col) {key, sizeof key - 1, col}

static const struct member {
  const char *key;
  size_t      len;
  int         col;            /* the event's column, or -1                  */
} members[M_COUNT] = {
  MEMBER("id", -1), MEMBER("timestamp", SL_COL_TIMESTAMP),
  MEMBER("device_id", SL_COL_DEVICE_ID),
  MEMBER("event_type", SL_COL_EVENT_TYPE),
  MEMBER("category", SL_COL_CATEGORY), MEMBER("severity", SL_COL_SEVERITY),
  MEMBER("summary", SL_COL_SUMMARY), MEMBER("details", SL_COL_DETAILS),
  MEMBER("correlation_id", SL_COL_CORRELATION_ID),
  MEMBER("peer_device_id", SL_COL_PEER_DEVICE_ID),
  MEMBER("model_types", SL_COL_MODEL_TYPES), MEMBER("record_count", -1),
  MEMBER("duration_ms", -1),
  /* what synclua timeline adds to an event: dropped */
  MEMBER("device_label", -1), MEMBER("adjusted_timestamp", -1)};

static int member_of(const char *k, size_t n) {
  for (int m = 0; m < M_COUNT; m++)
    if (members[m].len == n && members[m].key[0] == k[0] &&
        memcmp(members[m].key, k, n) == 0)
      return m;
  return -1;
}

/* model_types: a list of strings, joined with ',' as the binding joins
** it. */
static int json_models(reader *r, sl_event *ev) {
  const char *s[MAX_MODELS];
  size_t len[MAX_MODELS], k = 0, total = 0;
  r->p++;
  skip_json_space(r);
  if (r->p < r->end && *r->p == ']') {
    r->p++;
    set_text(ev, SL_COL_MODEL_TYPES, "", 0);
    return 1;
  }
  for (;;) {
    if (k == MAX_MODELS || r->p >= r->end || *r->p != '"' ||
        !json_string(r, &s[k], &len[k]))
      return 0;
    total += len[k++] + 1;
    skip_json_space(r);
    if (r->p < r->end && *r->p == ',') {
      r->p++;
      skip_json_space(r);
      continue;
    }
    if (r->p < r->end && *r->p == ']') break;
    return 0;
  }
  r->p++;
  char *joined = make(r, total), *o = joined;
  if (!joined) return 0;
  for (size_t i = 0; i < k; i++) {
    if (i) *o++ = ',';
    memcpy(o, s[i], len[i]);
    o += len[i];
  }
  set_text(ev, SL_COL_MODEL_TYPES, joined, (size_t)(o - joined));
  return 1;
}

/* One element, an object at r->p, as the importer's json_event reads it
** into ev; 0 for anything it would refuse, or that is read another way
** here (an escaped or repeated key). */
static int json_event(reader *r, sl_event *ev) {
  unsigned seen = 0;
  if (r->p >= r->end || *r->p != '{') return 0;
  r->p++;
  skip_json_space(r);
  for (;;) {
    if (r->p >= r->end || *r->p != '"') return 0;
    const char *k = r->p + 1, *q = k;
    while (q < r->end && *q != '"' && *q != '\\') q++;
    if (q >= r->end || *q != '"') return 0;
    int m = member_of(k, (size_t)(q - k));
    if (m < 0 || (seen & (1u << m))) return 0;
    seen |= 1u << m;
    r->p = q + 1;
    skip_json_space(r);
    if (r->p >= r->end || *r->p != ':') return 0;
    r->p++;
    skip_json_space(r);
    if (r->p >= r->end) return 0;
    const char *v = r->p, *e;
    int64_t n;
    switch (m) {
    case M_ID:
      if (!json_null(r) && !json_integer(r, 0, &n)) return 0;
      break;
    case M_RECORDS:
    case M_DURATION:
      if (json_null(r)) break;
      if (!json_integer(r, 1, &n)) return 0;
      if (m == M_RECORDS) {
        ev->record_count = n;
        ev->has_record_count = 1;
      } else {
        ev->duration_ms = n;
        ev->has_duration_ms = 1;
      }
      break;
    case M_DETAILS:
      /* Its text as written: the import makes it canonical, and refuses
      ** it when it is not JSON. */
      if (!(e = skip_value(v, r->end))) return 0;
      r->p = e;
      if (!(e - v == 4 && memcmp(v, "null", 4) == 0))
        set_text(ev, SL_COL_DETAILS, v, (size_t)(e - v));
      break;
    case M_MODELS:
      if (json_null(r)) break;
      if (*v != '[' || !json_models(r, ev)) return 0;
      break;
    case M_LABEL:
    case M_ADJUSTED: {
      sl_json *tree = NULL;
      if (!(e = skip_value(v, r->end)) ||
          sl_json_parse(v, (size_t)(e - v), &tree, NULL, 0) != SL_OK)
        return 0;
      sl_json_free(tree);
      r->p = e;
      break;
    }
    default: {
      const char *s;
      size_t len;
      if (json_null(r)) break;
      if (*v != '"' || !json_string(r, &s, &len) ||
          !set_text(ev, members[m].col, s, len))
        return 0;
      break;
    }
    }
    skip_json_space(r);
    if (r->p < r->end && *r->p == ',') {
      r->p++;
      skip_json_space(r);
      continue;
    }
    if (r->p < r->end && *r->p == '}') break;
    return 0;
  }
  r->p++;
  if (!ev->event_type || !ev->timestamp || !ev->summary) return 0;
  if (!ev->device_id) {
    if (!r->device) return 0;
    set_text(ev, SL_COL_DEVICE_ID, r->device, strlen(r->device));
  }
  return 1;
}

/* Elements of a JSON array, between its brackets: each followed by a
** comma, or by the end of the text. */
static void read_json(reader *r, const char *text) {
  skip_json_space(r);
  while (r->p < r->end) {
    sl_event *ev = new_event(r);
    if (!ev || !json_event(r, ev)) return;
    skip_json_space(r);
    if (r->p < r->end) {
      if (*r->p != ',') return;
      r->p++;
    }
    keep(r, r->p, text);
    skip_json_space(r);
  }
}

/* Lines of NDJSON, each one object (blank lines, as Lua's %s sees them,
** skipped, and read with the event before them); the end of the text ends
** a line. */
static void read_ndjson(reader *r, const char *text) {
  while (r->p < r->end) {
    const char *nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
    const char *eol = nl ? nl : r->end, *q = r->p;
    while (q < eol && (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\v' ||
                       *q == '\f'))
      q++;
    if (q == eol) {
      r->p = nl ? nl + 1 : eol;
      if (r->n > 0) r->ends[r->n - 1] = (size_t)(r->p - text);
      continue;
    }
    sl_event *ev = new_event(r);
    if (!ev) return;
    const char *end = r->end;
    r->end = eol;
    skip_json_space(r);
    int ok = json_event(r, ev);
    skip_json_space(r);
    ok = ok && r->p == eol;
    r->end = end;
    if (!ok) return;
    r->p = nl ? nl + 1 : eol;
    keep(r, r->p, text);
  }
}

/* ------------------------------------------------------------- SQL */

static const char sql_insert[] =
  "INSERT INTO sync_event_log (timestamp, device_id, event_type, category,"
  " severity, summary, details, correlation_id, peer_device_id,"
  " model_types, record_count, duration_ms) VALUES (";

/* The columns of an INSERT's values and of a CSV record after its id. */
static const int value_cols[12] = {
  SL_COL_TIMESTAMP, SL_COL_DEVICE_ID, SL_COL_EVENT_TYPE, SL_COL_CATEGORY,
  SL_COL_SEVERITY, SL_COL_SUMMARY, SL_COL_DETAILS, SL_COL_CORRELATION_ID,
  SL_COL_PEER_DEVICE_ID, SL_COL_MODEL_TYPES, SL_COL_RECORD_COUNT,
  SL_COL_DURATION_MS};

/* A value given NULL may be: from details on. */
#define FIRST_OPTIONAL 6

/* Lua's %s. */
static int lua_space(int c) {
  return c == ' ' || (c >= '\t' && c <= '\r');
}

/* A quoted field (quote is ' in SQL, " in CSV, doubled inside) at r->p:
** its text, the text itself when it has no doubled quote. 0 when the
** text ends before its closing quote, or on it (a quote could follow and
** make it a doubled one). */
static int quoted(reader *r, char quote, const char **out, size_t *len) {
  const char *s = r->p + 1, *q = s;
  size_t doubled = 0;
  for (;;) {
    q = memchr(q, quote, (size_t)(r->end - q));
    if (!q || q + 1 >= r->end) return 0;
    if (q[1] != quote) break;
    doubled++;
    q += 2;
  }
  if (!doubled) {
    *out = s;
    *len = (size_t)(q - s);
  } else {
    char *buf = make(r, (size_t)(q - s) - doubled), *o = buf;
    if (!buf) return 0;
    for (const char *p = s; p < q; p++) {
      *o++ = *p;
      if (*p == quote) p++;
    }
    *out = buf;
    *len = (size_t)(o - buf);
  }
  r->p = q + 1;
  return 1;
}

/* The 12 values of one INSERT, as the importer's values and sql_event
** read them. */
static int sql_values(reader *r, sl_event *ev) {
  for (int i = 0; i < 12; i++) {
    int col = value_cols[i];
    if (i > 0) {
      if (r->end - r->p < 2 || r->p[0] != ',' || r->p[1] != ' ') return 0;
      r->p += 2;
    }
    if (r->p >= r->end) return 0;
    if (*r->p == '\'') {
      const char *s;
      size_t n;
      if (col >= SL_COL_RECORD_COUNT || !quoted(r, '\'', &s, &n) ||
          !set_text(ev, col, s, n))
        return 0;
    } else if (r->end - r->p >= 4 && memcmp(r->p, "NULL", 4) == 0) {
      if (i < FIRST_OPTIONAL) return 0;
      r->p += 4;
    } else {
      const char *s = r->p, *p = s;
      int64_t n;
      if (p < r->end && *p == '-') p++;
      while (p < r->end && *p >= '0' && *p <= '9') p++;
      if (col < SL_COL_RECORD_COUNT || !integer_text(s, (size_t)(p - s), &n))
        return 0;
      if (col == SL_COL_RECORD_COUNT) {
        ev->record_count = n;
        ev->has_record_count = 1;
      } else {
        ev->duration_ms = n;
        ev->has_duration_ms = 1;
      }
      r->p = p;
    }
  }
  if (r->end - r->p < 2 || r->p[0] != ')' || r->p[1] != ';') return 0;
  r->p += 2;
  return 1;
}

/* INSERT statements, blank space between them. */
static void read_sql(reader *r, const char *text) {
  const size_t n = sizeof sql_insert - 1;
  for (;;) {
    const char *q = r->p;
    while (q < r->end && lua_space((unsigned char)*q)) q++;
    if ((size_t)(r->end - q) < n || memcmp(q, sql_insert, n) != 0) return;
    r->p = q + n;
    sl_event *ev = new_event(r);
    if (!ev || !sql_values(r, ev)) return;
    keep(r, r->p, text);
  }
}

/* ------------------------------------------------------------- CSV */

/* One record's fields; NULL for an empty unquoted field. */
typedef struct fields {
  const char *s[16];
  size_t      len[16];
  int         n;
} fields;

/* A record that ends with a line break before the end of the text, as the
** importer's csv_record splits it. */
static int csv_record(reader *r, fields *f) {
  f->n = 0;
  for (;;) {
    const char *s;
    size_t n;
    if (f->n == 16) return 0;
    if (r->p >= r->end) return 0;
    if (*r->p == '"') {
      if (!quoted(r, '"', &s, &n)) return 0;
    } else {
      const char *q = r->p;
      while (q < r->end && *q != ',' && *q != '\r' && *q != '\n') {
        if (*q == '"') return 0;
        q++;
      }
      if (q >= r->end) return 0;
      s = q > r->p ? r->p : NULL;
      n = (size_t)(q - r->p);
      r->p = q;
    }
    f->s[f->n] = s;
    f->len[f->n++] = n;
    if (r->p >= r->end) return 0;
    char sep = *r->p;
    if (sep == ',') {
      r->p++;
      continue;
    }
    if (sep == '\r' && r->end - r->p >= 2 && r->p[1] == '\n') {
      r->p += 2;
      return 1;
    }
    if (sep == '\n') {
      r->p++;
      return 1;
    }
    return 0;
  }
}

/* Records after the header: 13 fields (15 from synclua timeline), the id
** ignored, the values as in an INSERT. */
static void read_csv(reader *r, const char *text) {
  fields f;
  while (r->p < r->end) {
    if (!csv_record(r, &f) || (f.n != 13 && f.n != 15)) return;
    sl_event *ev = new_event(r);
    if (!ev) return;
    for (int i = 0; i < 12; i++) {
      int col = value_cols[i];
      const char *s = f.s[i + 1];
      size_t n = f.len[i + 1];
      if (!s && n == 0) {
        if (i < FIRST_OPTIONAL) return;
      } else if (col == SL_COL_RECORD_COUNT || col == SL_COL_DURATION_MS) {
        int64_t v;
        if (!integer_text(s ? s : "", n, &v)) return;
        if (col == SL_COL_RECORD_COUNT) {
          ev->record_count = v;
          ev->has_record_count = 1;
        } else {
          ev->duration_ms = v;
          ev->has_duration_ms = 1;
        }
      } else if (!set_text(ev, col, s, n)) {
        return;
      }
    }
    keep(r, r->p, text);
  }
}

/* ------------------------------------------------------------- entry */

int sl_import_add_text(sl_import *im, int format, const char *text,
                       size_t len, const char *device, size_t *used,
                       size_t *added) {
  reader r;
  size_t taken = 0;
  if (used) *used = 0;
  if (added) *added = 0;
  if (!im || (!text && len > 0) || format < SL_IMPORT_JSON ||
      format > SL_IMPORT_CSV)
    return SL_MISUSE;
  memset(&r, 0, sizeof r);
  r.p = text;
  r.end = text + len;
  r.device = device;
  switch (format) {
  case SL_IMPORT_JSON: read_json(&r, text); break;
  case SL_IMPORT_NDJSON: read_ndjson(&r, text); break;
  case SL_IMPORT_SQL: read_sql(&r, text); break;
  default: read_csv(&r, text); break;
  }
  int rc = r.nomem && r.n == 0 ? SL_NOMEM : SL_OK;
  if (r.n > 0) rc = sli_import_add_some(im, r.evs, r.n, &taken);
  if (rc == SL_OK && taken > 0) {
    if (used) *used = r.ends[taken - 1];
    if (added) *added = taken;
  }
  while (r.blocks) {
    block *b = r.blocks;
    r.blocks = b->next;
    free(b);
  }
  free(r.evs);
  free(r.ends);
  return rc;
}
