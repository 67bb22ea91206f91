/*
** sl_render.c -- core layer: one event as the bytes of an export format.
**
** Owns the byte-exact half of `synclua events`: Spacedrive's JSON array
** element (default and --with-device), its SQL INSERT line and Markdown
** table row (spacedrive-compat.md 1.4-1.6), and synclua's NDJSON and CSV
** records. The exporters (the Lua modules in exporters/) only frame what
** this writes: the array brackets, the header lines, the separators.
**
** A stored row is read back as Spacedrive's reader does -- the timestamp
** becomes an instant and is written anew in chrono's AutoSi form, UUID
** columns come out lowercase and hyphenated, details are parsed (numbers
** read as serde_json reads them, as many times as Spacedrive's path does:
** spacedrive-compat.md 10.2) and re-emitted by serde's rules -- so rows
** written by other programs (a "Z", an offset, a short fraction, unsorted
** details) export exactly as Spacedrive would export the same event.
** Details serde_json refuses are None, as Spacedrive reads them (null,
** NULL or an omitted key); other columns Spacedrive could not read at all
** are written as stored rather than dropped (see synclua/json.h).
*/
#include <stdio.h>
#include <string.h>

#include "sli.h"

/* Bytes made free before each event: more than most events need. */
#define RESERVE 1024

/* A UUID column as Spacedrive writes it back: lowercase hyphenated when it
** parses (into buf, *len 36), else the stored text. NULL stays NULL. */
static const char *uuid_text(const char *s, size_t *len, char *buf) {
  if (!s || sl_uuid_canonical(s, *len)) return s;
  if (sl_uuid_parse(s, *len, buf) == SL_OK) {
    *len = 36;
    return buf;
  }
  return s;
}


static void put_int(sl_buf *b, int64_t v) { sl_json_write_int(b, v); }

/* A text column of ev as a JSON string; a UUID column (uuid set) as
** Spacedrive writes it back. */
static void json_text(sl_buf *b, const sl_event *ev, int col, int uuid) {
  char buf[SL_UUID_BUFSZ];
  size_t n;
  const char *s = sl_event_text(ev, col, &n);
  if (uuid) s = uuid_text(s, &n, buf);
  sl_json_write_string(b, s ? s : "", n);
}

/* An optional text column, or null. */
static void json_text_or_null(sl_buf *b, const sl_event *ev, int col,
                              int uuid) {
  size_t n;
  if (sl_event_text(ev, col, &n)) json_text(b, ev, col, uuid);
  else SLI_PUT(b, "null");
}

/* The event's time as serde writes a DateTime<Utc> ("...Z"), or the stored
** text when it does not parse. */
static void json_time(sl_buf *b, const sl_event *ev) {
  char ts[SL_TIME_BUFSZ];
  if (ev->has_instant) {
    size_t n = sl_event_time_text(ev, ev->instant, 1, ts);
    sli_put(b, "\"", 1);
    sli_put(b, ts, n);
    sli_put(b, "\"", 1);
  } else {
    json_text(b, ev, SL_COL_TIMESTAMP, 0);
  }
}

/* details as Spacedrive holds them: an Option<serde_json::Value>, read
** `reads` times as Spacedrive reads it and written back as serde writes
** it (sl_json_reformat), compact (level < 0) or pretty at nesting
** `level`. Returns 1 when written; 0 when the details are None, with
** nothing written: text serde_json refuses (10.1), and a stored JSON null
** once it has crossed the daemon hop (reads >= 2: the reply's Some(Null)
** is read back as None; 10.4). */
static int write_details(sl_buf *b, const sl_event *ev, int level,
                         int reads) {
  size_t len, mark = b->len;
  const char *text = sl_event_text(ev, SL_COL_DETAILS, &len);
  if (!text) return 0;
  int rc = sl_json_reformat(b, text, len, level, reads, NULL, 0);
  if (rc == SL_NOMEM) return 1;   /* b->oom is set: the caller sees it */
  if (rc != SL_OK) return 0;      /* serde_json refuses it: None        */
  if (reads >= SL_JSON_READS_EVENTS && b->len - mark == 4 &&
      memcmp(b->data + mark, "null", 4) == 0) {
    b->len = mark;
    return 0;
  }
  return 1;
}

/* record_count or duration_ms as Spacedrive writes its u64: a negative
** stored value cast (-1 is 18446744073709551615; 10.1). */
static void put_count(sl_buf *b, int64_t v) {
  sl_json_write_uint(b, (uint64_t)v);
}

/* A count column, or null. */
static void json_count(sl_buf *b, int has, int64_t v) {
  if (has) put_count(b, v);
  else SLI_PUT(b, "null");
}

/* The row id (an i64), or null for an event not stored. */
static void json_id(sl_buf *b, const sl_event *ev) {
  if (ev->has_id) put_int(b, ev->id);
  else SLI_PUT(b, "null");
}

/* model_types as Spacedrive reads it back: split on ',' ("" is [""]). */
static void json_models(sl_buf *b, const sl_event *ev, int level) {
  size_t left;
  const char *s = sl_event_text(ev, SL_COL_MODEL_TYPES, &left);
  sli_put(b, "[", 1);
  for (int first = 1;; first = 0) {
    const char *comma = memchr(s, ',', left);
    size_t n = comma ? (size_t)(comma - s) : left;
    if (!first) sli_put(b, ",", 1);
    if (level >= 0) {
      sli_put(b, "\n", 1);
      for (int i = 0; i <= level; i++) SLI_PUT(b, "  ");
    }
    sl_json_write_string(b, s, n);
    if (!comma) break;
    left -= n + 1;
    s = comma + 1;
  }
  if (level >= 0) {
    sli_put(b, "\n", 1);
    for (int i = 0; i < level; i++) SLI_PUT(b, "  ");
  }
  sli_put(b, "]", 1);
}

/* Members of an object written at nesting 1 (pretty) or compact. */
typedef struct obj {
  sl_buf *b;
  int     pretty;             /* to_string_pretty inside the export array  */
  int     n;                  /* members written                           */
} obj;

/* A member's key: "," unless first, then the pretty or compact form, each
** one constant-size copy. */
#define KEY(o, lit)                                              \
  do {                                                           \
    if ((o)->n++) sli_put((o)->b, ",", 1);                       \
    if ((o)->pretty) SLI_PUT((o)->b, "\n    \"" lit "\": ");      \
    else SLI_PUT((o)->b, "\"" lit "\":");                         \
  } while (0)

/* details where Spacedrive's struct skips a None: the key and value, or
** nothing at all. */
static void optional_details(obj *o, const sl_event *ev, int level,
                             int reads) {
  size_t mark = o->b->len;
  KEY(o, "details");
  if (!write_details(o->b, ev, level, reads)) {
    o->b->len = mark;
    o->n--;
  }
}

static void close_obj(obj *o) {
  if (o->pretty) SLI_PUT(o->b, "\n  }");
  else sli_put(o->b, "}", 1);
}

/* The default JSON element: json!{} of the 9 fields, so keys sorted and
** every one present. */
static void render_json(sl_buf *b, const sl_event *ev, int pretty,
                        int reads) {
  obj o = {b, pretty, 0};
  sli_put(b, "{", 1);
  KEY(&o, "correlation_id");
  json_text_or_null(b, ev, SL_COL_CORRELATION_ID, 1);
  KEY(&o, "details");
  if (!write_details(b, ev, pretty ? 2 : -1, reads)) SLI_PUT(b, "null");
  KEY(&o, "duration_ms");
  json_count(b, ev->has_duration_ms, ev->duration_ms);
  KEY(&o, "event_type");
  json_text(b, ev, SL_COL_EVENT_TYPE, 0);
  KEY(&o, "peer_device_id");
  json_text_or_null(b, ev, SL_COL_PEER_DEVICE_ID, 1);
  KEY(&o, "record_count");
  json_count(b, ev->has_record_count, ev->record_count);
  KEY(&o, "severity");
  json_text(b, ev, SL_COL_SEVERITY, 0);
  KEY(&o, "summary");
  json_text(b, ev, SL_COL_SUMMARY, 0);
  KEY(&o, "timestamp");
  json_time(b, ev);
  close_obj(&o);
}

/* The --with-device element: the SyncEventLog struct itself, fields in
** declaration order, the optional ones skipped when absent. */
static void render_json_device(sl_buf *b, const sl_event *ev, int reads) {
  obj o = {b, 1, 0};
  sli_put(b, "{", 1);
  KEY(&o, "id");
  json_id(b, ev);
  KEY(&o, "timestamp");
  json_time(b, ev);
  KEY(&o, "device_id");
  json_text(b, ev, SL_COL_DEVICE_ID, 1);
  KEY(&o, "event_type");
  json_text(b, ev, SL_COL_EVENT_TYPE, 0);
  KEY(&o, "category");
  json_text(b, ev, SL_COL_CATEGORY, 0);
  KEY(&o, "severity");
  json_text(b, ev, SL_COL_SEVERITY, 0);
  KEY(&o, "summary");
  json_text(b, ev, SL_COL_SUMMARY, 0);
  if (ev->details) optional_details(&o, ev, 2, reads);
  if (ev->correlation_id) {
    KEY(&o, "correlation_id");
    json_text(b, ev, SL_COL_CORRELATION_ID, 1);
  }
  if (ev->peer_device_id) {
    KEY(&o, "peer_device_id");
    json_text(b, ev, SL_COL_PEER_DEVICE_ID, 1);
  }
  if (ev->model_types) {
    KEY(&o, "model_types");
    json_models(b, ev, 2);
  }
  if (ev->has_record_count) {
    KEY(&o, "record_count");
    put_count(b, ev->record_count);
  }
  if (ev->has_duration_ms) {
    KEY(&o, "duration_ms");
    put_count(b, ev->duration_ms);
  }
  close_obj(&o);
}

/* The same fields as a serde_json::Value (as EventLogResponse carries
** them): compact, keys sorted, absent ones skipped. */
static void render_ndjson_device(sl_buf *b, const sl_event *ev,
                                 int reads) {
  obj o = {b, 0, 0};
  sli_put(b, "{", 1);
  KEY(&o, "category");
  json_text(b, ev, SL_COL_CATEGORY, 0);
  if (ev->correlation_id) {
    KEY(&o, "correlation_id");
    json_text(b, ev, SL_COL_CORRELATION_ID, 1);
  }
  if (ev->details) optional_details(&o, ev, -1, reads);
  KEY(&o, "device_id");
  json_text(b, ev, SL_COL_DEVICE_ID, 1);
  if (ev->has_duration_ms) {
    KEY(&o, "duration_ms");
    put_count(b, ev->duration_ms);
  }
  KEY(&o, "event_type");
  json_text(b, ev, SL_COL_EVENT_TYPE, 0);
  KEY(&o, "id");
  json_id(b, ev);
  if (ev->model_types) {
    KEY(&o, "model_types");
    json_models(b, ev, -1);
  }
  if (ev->peer_device_id) {
    KEY(&o, "peer_device_id");
    json_text(b, ev, SL_COL_PEER_DEVICE_ID, 1);
  }
  if (ev->has_record_count) {
    KEY(&o, "record_count");
    put_count(b, ev->record_count);
  }
  KEY(&o, "severity");
  json_text(b, ev, SL_COL_SEVERITY, 0);
  KEY(&o, "summary");
  json_text(b, ev, SL_COL_SUMMARY, 0);
  KEY(&o, "timestamp");
  json_time(b, ev);
  close_obj(&o);
}

/* ------------------------------------------------------------------ sql */

/* Double every ' in b from byte `from` on, in place. */
static void double_quotes_from(sl_buf *b, size_t from) {
  size_t quotes = 0, i, j;
  if (b->oom) return;
  for (i = from; i < b->len; i++) quotes += b->data[i] == '\'';
  if (!quotes) return;
  size_t old = b->len;
  /* Grow by appending filler, then spread the bytes from the end. */
  for (i = 0; i < quotes; i++) sli_put(b, "'", 1);
  if (b->oom) return;
  for (i = old, j = b->len; i > from;) {
    char c = b->data[--i];
    b->data[--j] = c;
    if (c == '\'') b->data[--j] = '\'';
  }
}

/* 'text' (n bytes, NUL and all) with ' doubled; NULL for no value. */
static void sql_text(sl_buf *b, const char *s, size_t n) {
  if (!s) { SLI_PUT(b, "NULL"); return; }
  sli_put(b, "'", 1);
  for (const char *q; (q = memchr(s, '\'', n)) != NULL; s = q + 1) {
    size_t k = (size_t)(q - s) + 1;
    sli_put(b, s, k);
    sli_put(b, "'", 1);
    n -= k;
  }
  sli_put(b, s, n);
  sli_put(b, "'", 1);
}

/* A text column as SQL: NULL when absent, unless required ("" then); a
** UUID column (uuid set) as Spacedrive writes it back. */
static void sql_col(sl_buf *b, const sl_event *ev, int col, int required,
                    int uuid) {
  char buf[SL_UUID_BUFSZ];
  size_t n;
  const char *s = sl_event_text(ev, col, &n);
  if (!s && required) s = "";
  if (uuid) s = uuid_text(s, &n, buf);
  sql_text(b, s, n);
}

static void sql_count(sl_buf *b, int has, int64_t v) {
  if (has) put_count(b, v);
  else SLI_PUT(b, "NULL");
}

/* format_events_sql's line: the stored columns but id, the time in
** to_rfc3339 form, details re-emitted compact with sorted keys, and
** model_types NULL when it joins to "". Spacedrive doubles ' only in the
** summary and details; the other columns of its rows (UUIDs, snake_case
** names, model names) never hold one, and doubling it everywhere keeps the
** line valid SQL for rows other programs wrote. */
static void render_sql(sl_buf *b, const sl_event *ev, int reads) {
  char ts[SL_TIME_BUFSZ];
  size_t n;
  SLI_PUT(b, "INSERT INTO sync_event_log (timestamp, device_id, event_type, "
             "category, severity, summary, details, correlation_id, "
             "peer_device_id, model_types, record_count, duration_ms) "
             "VALUES (");
  if (ev->has_instant)
    sql_text(b, ts, sl_event_time_text(ev, ev->instant, 0, ts));
  else
    sql_col(b, ev, SL_COL_TIMESTAMP, 1, 0);
  SLI_PUT(b, ", ");
  sql_col(b, ev, SL_COL_DEVICE_ID, 1, 1);
  SLI_PUT(b, ", ");
  sql_col(b, ev, SL_COL_EVENT_TYPE, 1, 0);
  SLI_PUT(b, ", ");
  sql_col(b, ev, SL_COL_CATEGORY, 1, 0);
  SLI_PUT(b, ", ");
  sql_col(b, ev, SL_COL_SEVERITY, 1, 0);
  SLI_PUT(b, ", ");
  sql_col(b, ev, SL_COL_SUMMARY, 1, 0);
  SLI_PUT(b, ", ");
  size_t quote = b->len;
  sli_put(b, "'", 1);
  if (write_details(b, ev, -1, reads)) {
    double_quotes_from(b, quote + 1);
    sli_put(b, "'", 1);
  } else {
    b->len = quote;           /* None: refused by serde, or a hopped null */
    SLI_PUT(b, "NULL");
  }
  SLI_PUT(b, ", ");
  sql_col(b, ev, SL_COL_CORRELATION_ID, 0, 1);
  SLI_PUT(b, ", ");
  sql_col(b, ev, SL_COL_PEER_DEVICE_ID, 0, 1);
  SLI_PUT(b, ", ");
  const char *models = sl_event_text(ev, SL_COL_MODEL_TYPES, &n);
  sql_text(b, n ? models : NULL, n);
  SLI_PUT(b, ", ");
  sql_count(b, ev->has_record_count, ev->record_count);
  SLI_PUT(b, ", ");
  sql_count(b, ev->has_duration_ms, ev->duration_ms);
  SLI_PUT(b, ");\n");
}

/* ------------------------------------------------------------- markdown */

/* A table cell: '|' escaped as "\|", each line break (\n, \r\n or \r) as
** "<br>", so a summary cannot break the table. */
static void md_cell(sl_buf *b, const char *s, size_t n) {
  const char *run = s, *end = s + n;
  if (!s) return;
  for (; s < end; s++) {
    if (*s != '|' && *s != '\n' && *s != '\r') continue;
    sli_put(b, run, (size_t)(s - run));
    if (*s == '|') {
      SLI_PUT(b, "\\|");
    } else {
      SLI_PUT(b, "<br>");
      if (s[0] == '\r' && s + 1 < end && s[1] == '\n') s++;
    }
    run = s + 1;
  }
  sli_put(b, run, (size_t)(s - run));
}

/* A text column as a cell. */
static void md_col(sl_buf *b, const sl_event *ev, int col) {
  size_t n;
  const char *s = sl_event_text(ev, col, &n);
  md_cell(b, s, n);
}

/* The Debug name of a known variant (type or severity), else the stored
** text. */
static void md_name(sl_buf *b, const sl_event *ev, int col) {
  int v = sl_event_name(ev, col);
  if (v < 0) {
    md_col(b, ev, col);
    return;
  }
  const char *s = col == SL_COL_EVENT_TYPE ? sl_event_type_debug_name(v)
                                           : sl_severity_debug_name(v);
  sli_put(b, s, strlen(s));
}

/* "| 2025-12-03 10:15:00 | StateTransition | Info | summary |" */
static void render_markdown(sl_buf *b, const sl_event *ev) {
  char ts[SL_TIME_BUFSZ];
  SLI_PUT(b, "| ");
  if (ev->has_instant) {
    sl_event_time_text(ev, ev->instant, 1, ts);
    ts[10] = ' ';             /* %Y-%m-%d %H:%M:%S: no fraction, no zone  */
    sli_put(b, ts, 19);
  } else {
    md_col(b, ev, SL_COL_TIMESTAMP);
  }
  SLI_PUT(b, " | ");
  md_name(b, ev, SL_COL_EVENT_TYPE);
  SLI_PUT(b, " | ");
  md_name(b, ev, SL_COL_SEVERITY);
  SLI_PUT(b, " | ");
  md_col(b, ev, SL_COL_SUMMARY);
  SLI_PUT(b, " |\n");
}

/* ------------------------------------------------------------------ csv */

/* RFC 4180: a field with '"', ',', CR or LF is quoted with '"' doubled; an
** empty string is quoted ("") so that it differs from NULL (nothing). */
static void csv_field(sl_buf *b, const char *s, size_t n) {
  int plain = n > 0;
  if (!s) return;
  for (size_t i = 0; i < n && plain; i++)
    plain = s[i] != '"' && s[i] != ',' && s[i] != '\r' && s[i] != '\n';
  if (plain) {
    sli_put(b, s, n);
    return;
  }
  sli_put(b, "\"", 1);
  for (const char *q; (q = memchr(s, '"', n)) != NULL; s = q + 1) {
    size_t k = (size_t)(q - s) + 1;
    sli_put(b, s, k);
    sli_put(b, "\"", 1);
    n -= k;
  }
  sli_put(b, s, n);
  sli_put(b, "\"", 1);
}

static void render_csv(sl_buf *b, const sl_event *ev) {
  if (ev->has_id) put_int(b, ev->id);
  /* The text columns between id and the two counts, in table order. */
  for (int col = SL_COL_TIMESTAMP; col <= SL_COL_MODEL_TYPES; col++) {
    size_t n;
    const char *s = sl_event_text(ev, col, &n);
    sli_put(b, ",", 1);
    csv_field(b, s, n);
  }
  sli_put(b, ",", 1);
  if (ev->has_record_count) put_int(b, ev->record_count);
  sli_put(b, ",", 1);
  if (ev->has_duration_ms) put_int(b, ev->duration_ms);
  SLI_PUT(b, "\r\n");
}

/* ----------------------------------------------- the timeline's text */

/* An instant as the timeline's clock: "2025-12-03 10:15:00.123", UTC, to
** the millisecond (truncated), always that width; a year synclua writes
** signed keeps its sign. */
static void put_clock_ms(sl_buf *b, int64_t instant) {
  char ts[SL_TIME_BUFSZ];
  size_t n = sl_time_format(instant, 1, ts);
  const char *t = memchr(ts, 'T', n);
  if (!t || (size_t)(t - ts) + 9 > n) {
    sli_put(b, ts, n);
    return;
  }
  size_t date = (size_t)(t - ts), frac = date + 9, digits = 0;
  sli_put(b, ts, date);
  SLI_PUT(b, " ");
  sli_put(b, t + 1, 8);
  SLI_PUT(b, ".");
  if (frac < n && ts[frac] == '.')
    while (digits < 3 && frac + 1 + digits < n &&
           ts[frac + 1 + digits] >= '0' && ts[frac + 1 + digits] <= '9')
      digits++;
  sli_put(b, ts + frac + 1, digits);
  for (; digits < 3; digits++) SLI_PUT(b, "0");
}

/* s padded with spaces to `width` bytes (never cut). */
static void put_padded(sl_buf *b, const char *s, size_t n, size_t width) {
  static const char spaces[] = "                                ";
  sli_put(b, s, n);
  while (n < width) {
    size_t k = width - n < sizeof spaces - 1 ? width - n : sizeof spaces - 1;
    sli_put(b, spaces, k);
    n += k;
  }
}

/* Text a terminal shows as one line: a line feed is a space, every other
** control character (and DEL) "\xNN". */
static void put_printable(sl_buf *b, const char *s, size_t n) {
  size_t run = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c != 0x7f) continue;
    sli_put(b, s + run, i - run);
    run = i + 1;
    if (c == '\n') {
      SLI_PUT(b, " ");
    } else {
      char esc[5];
      snprintf(esc, sizeof esc, "\\x%02x", c);
      sli_put(b, esc, 4);
    }
  }
  sli_put(b, s + run, n - run);
}

/* A column's text, or "?" when the row has none. */
static void put_or_unknown(sl_buf *b, const sl_event *ev, int col,
                           size_t width) {
  size_t n;
  const char *s = sl_event_text(ev, col, &n);
  if (!s) {
    s = "?";
    n = 1;
  }
  put_padded(b, s, n, width);
}

int sl_render_timeline_text(sl_buf *b, const sl_event *ev, int64_t adjusted,
                            const char *label, size_t label_len,
                            size_t width, int flagged) {
  if (!b || !ev || (!label && label_len)) return SL_MISUSE;
  size_t before = b->len;
  sli_put(b, flagged ? "! " : "  ", 2);
  if (ev->has_instant) put_clock_ms(b, adjusted);
  else put_or_unknown(b, ev, SL_COL_TIMESTAMP, 0);
  SLI_PUT(b, "  ");
  put_padded(b, label ? label : "", label_len, width);
  SLI_PUT(b, "  ");
  put_or_unknown(b, ev, SL_COL_SEVERITY, 7);
  SLI_PUT(b, "  ");
  put_or_unknown(b, ev, SL_COL_EVENT_TYPE, 26);
  SLI_PUT(b, "  ");
  size_t n;
  const char *summary = sl_event_text(ev, SL_COL_SUMMARY, &n);
  if (summary) put_printable(b, summary, n);
  if (ev->has_instant && adjusted != ev->instant) {
    SLI_PUT(b, "  [device clock ");
    put_clock_ms(b, ev->instant);
    SLI_PUT(b, "]");
  }
  SLI_PUT(b, "\n");
  if (b->oom) {
    b->len = before;
    if (b->data) b->data[before] = '\0';
    return SL_NOMEM;
  }
  return SL_OK;
}

const char *sl_render_csv_header(void) {
  return "id,timestamp,device_id,event_type,category,severity,summary,"
         "details,correlation_id,peer_device_id,model_types,record_count,"
         "duration_ms\r\n";
}

static const char *const format_names[SL_RENDER_FORMAT_COUNT] = {
  "json", "json_device", "sql", "markdown", "ndjson", "ndjson_device",
  "csv"};

const char *sl_render_format_name(int format) {
  return format >= 0 && format < SL_RENDER_FORMAT_COUNT
           ? format_names[format] : NULL;
}

int sl_render_event(sl_buf *b, const sl_event *ev, int format) {
  return sl_render_event_reads(b, ev, format, SL_JSON_READS_EVENTS);
}

int sl_render_event_reads(sl_buf *b, const sl_event *ev, int format,
                          int reads) {
  if (!b || !ev || format < 0 || format >= SL_RENDER_FORMAT_COUNT)
    return SL_MISUSE;
  if (b->oom) return SL_NOMEM;
  size_t mark = b->len;
  /* Room for a typical event, so that sli_put() rarely has to grow. */
  if (b->cap - b->len <= RESERVE) {
    static const char zeros[RESERVE];
    sl_buf_append(b, zeros, sizeof zeros);
    if (b->oom) return SL_NOMEM;
    b->len = mark;
  }
  switch ((sl_render_format)format) {
  case SL_RENDER_JSON: render_json(b, ev, 1, reads); break;
  case SL_RENDER_JSON_DEVICE: render_json_device(b, ev, reads); break;
  case SL_RENDER_SQL: render_sql(b, ev, reads); break;
  case SL_RENDER_MARKDOWN: render_markdown(b, ev); break;
  case SL_RENDER_NDJSON:
    render_json(b, ev, 0, reads);
    sli_put(b, "\n", 1);
    break;
  case SL_RENDER_NDJSON_DEVICE:
    render_ndjson_device(b, ev, reads);
    sli_put(b, "\n", 1);
    break;
  case SL_RENDER_CSV: render_csv(b, ev); break;
  case SL_RENDER_FORMAT_COUNT: break;
  }
  if (b->oom) {
    /* Keep what the buffer held: no half event. */
    if (b->data && mark <= b->len) b->len = mark;
    if (b->data) b->data[b->len] = '\0';
    return SL_NOMEM;
  }
  b->data[b->len] = '\0';
  return SL_OK;
}
