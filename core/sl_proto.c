/*
** sl_proto.c -- the EventLogRequest / EventLogResponse messages: written as
** serde_json writes Spacedrive's enum, read as strictly as serde reads it,
** and a response's events turned into rows to store.
**
** Reading is the attack surface of `synclua serve` and `fetch` (and the
** target of `make fuzz`): what a message would cost to decode is weighed
** before anything is allocated for it, every field is checked for kind and
** range before it is used, and every message names the field it refuses.
*/
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sli.h"

/* ------------------------------------------------------------ writing */

static void put_uuid_or_null(sl_buf *b, int has, const char *id) {
  if (!has) { sl_buf_puts(b, "null"); return; }
  sl_json_write_string(b, id, strlen(id));
}

static void put_i64(sl_buf *b, int64_t v) {
  char num[24];
  int n = snprintf(num, sizeof num, "%" PRId64, v);
  sl_buf_append(b, num, (size_t)n);
}

void sli_put_position(sl_buf *b, int64_t instant, int64_t id) {
  char ts[SL_TIME_BUFSZ];
  size_t n = sl_time_format(instant, 1, ts);
  sl_buf_puts(b, "{\"timestamp\":");
  sl_json_write_string(b, ts, n);
  sl_buf_puts(b, ",\"id\":");
  put_i64(b, id);
  sl_buf_puts(b, "}");
}

void sl_request_write(sl_buf *b, const sl_request *req) {
  char ts[SL_TIME_BUFSZ];
  sl_buf_puts(b, "{\"EventLogRequest\":{\"library_id\":");
  put_uuid_or_null(b, 1, req->library_id);
  sl_buf_puts(b, ",\"requesting_device\":");
  put_uuid_or_null(b, 1, req->requesting_device);
  sl_buf_puts(b, ",\"since\":");
  if (req->has_since) {
    size_t n = sl_time_format(req->since, 1, ts);
    sl_json_write_string(b, ts, n);
  } else {
    sl_buf_puts(b, "null");
  }
  sl_buf_puts(b, ",\"event_types\":");
  if (req->has_event_types) {
    sl_buf_puts(b, "[");
    for (size_t i = 0; i < req->n_event_types; i++) {
      if (i) sl_buf_puts(b, ",");
      sl_json_write_string(b, req->event_types[i],
                           strlen(req->event_types[i]));
    }
    sl_buf_puts(b, "]");
  } else {
    sl_buf_puts(b, "null");
  }
  sl_buf_puts(b, ",\"correlation_id\":");
  put_uuid_or_null(b, req->has_correlation_id, req->correlation_id);
  sl_buf_puts(b, ",\"limit\":");
  put_i64(b, req->limit);
  if (req->has_before) {
    sl_buf_puts(b, ",\"before\":");
    sli_put_position(b, req->before, req->before_id);
  }
  if (req->has_follow) {
    sl_buf_puts(b, ",\"follow\":{\"after\":");
    if (req->has_follow_after) put_i64(b, req->follow_after);
    else sl_buf_puts(b, "null");
    sl_buf_puts(b, ",\"heartbeat_ms\":");
    put_i64(b, req->heartbeat_ms);
    sl_buf_puts(b, "}");
  }
  sl_buf_puts(b, "}}");
}

/* --------------------------------------------------------- decode cost */

/* What sl_json.c allocates, priced as glibc's malloc charges (an 8-byte
** header, 16-byte rounding, 32 bytes at least): a node per value (calloc
** of an sl_json); per member, its pointer in the container's items and a
** slot (key, length, item) on the parser's stack, half again for the
** stack's doubling; per object member, its key's pointer and length; per
** container, the headers of its arrays; per string or key, its copy (the
** decoded text is never longer than the raw). A response's events also
** become rows (sl_response_events: an sl_event and two offsets each). */
#define CHUNK(n)     ((n) + 8 + 15 < 32 ? (size_t)32 \
                                        : ((n) + 8 + 15) & ~(size_t)15)
#define NODE_COST    CHUNK(sizeof(sl_json))
#define SLOT_BYTES   (2 * sizeof(void *) + sizeof(size_t))
#define MEMBER_COST  (sizeof(sl_json *) + SLOT_BYTES + SLOT_BYTES / 2)
#define KEYED_COST   (sizeof(char *) + sizeof(size_t))
#define ARRAYS_COST  (3 * (size_t)16)
#define ROW_COST     (sizeof(sl_event) + 2 * sizeof(size_t))
#define ROW_DEPTH    3        /* {"EventLogResponse":{"events":[ HERE     */

static size_t value_cost(int depth) {
  return NODE_COST + (depth > 0 ? MEMBER_COST : 0) +
         (depth == ROW_DEPTH ? ROW_COST : 0);
}

static int delimiter(unsigned char c) {
  return c == ',' || c == ':' || c == ']' || c == '}' || c == '[' ||
         c == '{' || c == '"' || c == ' ' || c == '\t' || c == '\n' ||
         c == '\r';
}

size_t sl_decode_cost(const char *json, size_t len, int depth,
                      size_t *values) {
  const unsigned char *p = (const unsigned char *)json;
  const unsigned char *end = json ? p + len : p;
  size_t cost = 0, n = 0;
  while (p < end) {
    switch (*p) {
    case ' ': case '\t': case '\n': case '\r': case ',': case ':':
      p++;
      break;
    case '[': case '{':
      cost += value_cost(depth) + ARRAYS_COST;
      n++;
      if (depth < INT_MAX) depth++; /* the parser stops at 127 anyway */
      p++;
      break;
    case ']': case '}':
      depth--;
      p++;
      break;
    case '"': {
      const unsigned char *s = ++p, *q;
      while (p < end && *p != '"') p += *p == '\\' && end - p > 1 ? 2 : 1;
      size_t slen = (size_t)(p - s);
      if (p < end) p++;
      /* A string followed by ':' is a key: its copy, no node. */
      for (q = p; q < end && (*q == ' ' || *q == '\t' || *q == '\n' ||
                              *q == '\r'); q++) {}
      if (q < end && *q == ':') {
        cost += CHUNK(slen + 1) + KEYED_COST;
      } else {
        cost += value_cost(depth) + CHUNK(slen + 1);
        n++;
      }
      break;
    }
    default: {
      /* A number or a literal (or garbage, which the parser stops at):
      ** one value, and a long number's digits copied for strtod. */
      const unsigned char *s = p;
      while (p < end && !delimiter(*p)) p++;
      cost += value_cost(depth) + CHUNK((size_t)(p - s) + 1);
      n++;
    }
    }
  }
  if (values) *values = n;
  return cost;
}

/* ------------------------------------------------------------ reading */

typedef struct reader {
  const char *variant;        /* "EventLogRequest", for messages            */
  char       *err;
  size_t      errsz;
} reader;

static const char *kind_name(const sl_json *v) {
  switch (v->kind) {
  case SL_JSON_NULL: return "null";
  case SL_JSON_FALSE: case SL_JSON_TRUE: return "a boolean";
  case SL_JSON_INTEGER: case SL_JSON_UNSIGNED: case SL_JSON_FLOAT:
    return "a number";
  case SL_JSON_STRING: return "a string";
  case SL_JSON_ARRAY: return "an array";
  case SL_JSON_OBJECT: return "an object";
  }
  return "a value";
}

static int refuse(reader *r, const char *field, const char *what,
                  const sl_json *got) {
  if (r->err && r->errsz) {
    if (got)
      snprintf(r->err, r->errsz, "%s.%s: expected %s, got %s", r->variant,
               field, what, kind_name(got));
    else
      snprintf(r->err, r->errsz, "%s.%s: %s", r->variant, field, what);
  }
  return SL_INVALID;
}

/* The member named `key`; NULL if absent. Duplicates were refused by
** check_members. */
static const sl_json *member(const sl_json *obj, const char *key) {
  for (size_t i = 0; i < obj->length; i++)
    if (strlen(key) == obj->key_lengths[i] && strcmp(obj->keys[i], key) == 0)
      return obj->items[i];
  return NULL;
}

/* serde refuses a field given twice ("duplicate field `limit`"). */
static int check_members(reader *r, const sl_json *obj,
                         const char *const *fields) {
  for (const char *const *f = fields; *f; f++) {
    int seen = 0;
    for (size_t i = 0; i < obj->length; i++)
      if (strlen(*f) == obj->key_lengths[i] && strcmp(obj->keys[i], *f) == 0)
        seen++;
    if (seen > 1) return refuse(r, *f, "given more than once", NULL);
  }
  return SL_OK;
}

/* An absent member and null are both "none" for an Option. */
static int is_none(const sl_json *v) { return !v || v->kind == SL_JSON_NULL; }

static int read_uuid(reader *r, const sl_json *obj, const char *field,
                     int optional, int *has, char *out) {
  const sl_json *v = member(obj, field);
  if (has) *has = 0;
  if (is_none(v)) {
    if (optional) return SL_OK;
    return refuse(r, field, v ? "a UUID string" : "missing (required)", v);
  }
  if (v->kind != SL_JSON_STRING) return refuse(r, field, "a UUID string", v);
  /* Every spelling serde's Uuid reads (simple, braced, urn, any case),
  ** kept lowercase and hyphenated. */
  if (sl_uuid_parse(v->string, v->length, out) != SL_OK) {
    if (r->err && r->errsz)
      snprintf(r->err, r->errsz, "%s.%s: not a UUID: \"%.40s\"", r->variant,
               field, v->string);
    return SL_INVALID;
  }
  if (has) *has = 1;
  return SL_OK;
}

static int read_time(reader *r, const sl_json *v, const char *field,
                     int64_t *out) {
  if (!v || v->kind != SL_JSON_STRING)
    return refuse(r, field, "an RFC 3339 timestamp string", v);
  if (sl_time_parse_rfc3339(v->string, v->length, out) != SL_OK) {
    if (r->err && r->errsz)
      snprintf(r->err, r->errsz, "%s.%s: not an RFC 3339 timestamp: \"%.40s\"",
               r->variant, field, v->string);
    return SL_INVALID;
  }
  return SL_OK;
}

static int read_position(reader *r, const sl_json *v, const char *field,
                         int64_t *instant, int64_t *id) {
  static const char *const fields[] = {"timestamp", "id", NULL};
  char name[64];
  int rc;
  if (!v || v->kind != SL_JSON_OBJECT)
    return refuse(r, field, "an object {\"timestamp\", \"id\"}", v);
  /* Its members are named "<variant>.<field>.<member>" in messages. */
  snprintf(name, sizeof name, "%s.%s", r->variant, field);
  reader in = {name, r->err, r->errsz};
  if ((rc = check_members(&in, v, fields)) != SL_OK) return rc;
  const sl_json *t = member(v, "timestamp"), *n = member(v, "id");
  if (!t) return refuse(&in, "timestamp", "missing (required)", NULL);
  if ((rc = read_time(&in, t, "timestamp", instant)) != SL_OK) return rc;
  if (!n) return refuse(&in, "id", "missing (required)", NULL);
  if (n->kind != SL_JSON_INTEGER || n->integer < 0)
    return refuse(&in, "id", "a row id (a non-negative integer)", n);
  *id = n->integer;
  return SL_OK;
}

/* A list of strings, copied (each NUL-free). */
static int read_strings(reader *r, const sl_json *v, const char *field,
                        char ***out, size_t *n) {
  if (v->kind != SL_JSON_ARRAY)
    return refuse(r, field, "an array of strings", v);
  *out = calloc(v->length ? v->length : 1, sizeof **out);
  if (!*out) return SL_NOMEM;
  for (size_t i = 0; i < v->length; i++) {
    const sl_json *s = v->items[i];
    if (s->kind != SL_JSON_STRING || strlen(s->string) != s->length) {
      char name[48];
      snprintf(name, sizeof name, "%s[%zu]", field, i);
      return refuse(r, name, "a string without NUL", s);
    }
    if (!((*out)[i] = sli_strdup(s->string))) return SL_NOMEM;
    *n = i + 1;
  }
  return SL_OK;
}

/* An integer from lo to hi; a number out of range is named in the
** message ("..., got -1"), as serde names it. */
static int read_ranged(reader *r, const sl_json *v, const char *field,
                       int64_t lo, int64_t hi, int64_t *out) {
  char what[80];
  if (v->kind == SL_JSON_INTEGER && v->integer >= lo && v->integer <= hi) {
    *out = v->integer;
    return SL_OK;
  }
  snprintf(what, sizeof what, "an integer from %" PRId64 " to %" PRId64, lo,
           hi);
  if (v->kind == SL_JSON_INTEGER || v->kind == SL_JSON_UNSIGNED ||
      v->kind == SL_JSON_FLOAT) {
    sl_buf num = {0};
    if (v->kind == SL_JSON_INTEGER) put_i64(&num, v->integer);
    else if (v->kind == SL_JSON_UNSIGNED) sl_json_write_uint(&num, v->uinteger);
    else sl_json_write_double(&num, v->number);
    if (r->err && r->errsz)
      snprintf(r->err, r->errsz, "%s.%s: expected %s, got %s", r->variant,
               field, what, num.data ? num.data : "a number");
    sl_buf_free(&num);
    return SL_INVALID;
  }
  return refuse(r, field, what, v);
}

/* synclua's "follow": {"after": row id or null, "heartbeat_ms": N}. */
static int read_follow(reader *r, const sl_json *v, sl_request *req) {
  static const char *const fields[] = {"after", "heartbeat_ms", NULL};
  char name[64];
  int64_t n;
  int rc;
  if (v->kind != SL_JSON_OBJECT)
    return refuse(r, "follow", "an object {\"after\", \"heartbeat_ms\"}",
                  v);
  snprintf(name, sizeof name, "%s.follow", r->variant);
  reader in = {name, r->err, r->errsz};
  if ((rc = check_members(&in, v, fields)) != SL_OK) return rc;
  const sl_json *a = member(v, "after"), *h = member(v, "heartbeat_ms");
  if (!is_none(a)) {
    if ((rc = read_ranged(&in, a, "after", 0, INT64_MAX, &n)) != SL_OK)
      return rc;
    req->follow_after = n;
    req->has_follow_after = 1;
  }
  if (!h) return refuse(&in, "heartbeat_ms", "missing (required)", NULL);
  rc = read_ranged(&in, h, "heartbeat_ms", SL_HEARTBEAT_MIN_MS,
                   SL_HEARTBEAT_MAX_MS, &n);
  if (rc != SL_OK) return rc;
  req->heartbeat_ms = (uint32_t)n;
  return SL_OK;
}

static int parse_request(reader *r, const sl_json *o, sl_request *req) {
  static const char *const fields[] = {
    "library_id", "requesting_device", "since", "event_types",
    "correlation_id", "limit", "before", "follow", NULL};
  const sl_json *v;
  int64_t n;
  int rc;
  if ((rc = check_members(r, o, fields)) != SL_OK) return rc;
  if ((rc = read_uuid(r, o, "library_id", 0, NULL, req->library_id)) ||
      (rc = read_uuid(r, o, "requesting_device", 0, NULL,
                      req->requesting_device)))
    return rc;
  v = member(o, "since");
  if (!is_none(v)) {
    if ((rc = read_time(r, v, "since", &req->since)) != SL_OK) return rc;
    req->has_since = 1;
  }
  v = member(o, "event_types");
  if (!is_none(v)) {
    req->has_event_types = 1;
    rc = read_strings(r, v, "event_types", &req->event_types,
                      &req->n_event_types);
    if (rc != SL_OK) return rc;
  }
  if ((rc = read_uuid(r, o, "correlation_id", 1, &req->has_correlation_id,
                      req->correlation_id)))
    return rc;
  v = member(o, "limit");
  if (!v) return refuse(r, "limit", "missing (required)", NULL);
  if ((rc = read_ranged(r, v, "limit", 0, UINT32_MAX, &n)) != SL_OK)
    return rc;
  req->limit = (uint32_t)n;
  v = member(o, "before");
  if (!is_none(v)) {
    rc = read_position(r, v, "before", &req->before, &req->before_id);
    if (rc != SL_OK) return rc;
    req->has_before = 1;
  }
  v = member(o, "follow");
  if (!is_none(v)) {
    if ((rc = read_follow(r, v, req)) != SL_OK) return rc;
    req->has_follow = 1;
  }
  return SL_OK;
}

static int parse_response(reader *r, sl_json *o, sl_response *res) {
  static const char *const fields[] = {
    "library_id", "responding_device", "events", "unknown_event_types",
    "next", "mark", NULL};
  const sl_json *v;
  int64_t n;
  int rc;
  if ((rc = check_members(r, o, fields)) != SL_OK) return rc;
  if ((rc = read_uuid(r, o, "library_id", 0, NULL, res->library_id)) ||
      (rc = read_uuid(r, o, "responding_device", 0, NULL,
                      res->responding_device)))
    return rc;
  for (size_t i = 0; i < o->length; i++) {
    if (o->key_lengths[i] != 6 || strcmp(o->keys[i], "events") != 0)
      continue;
    if (o->items[i]->kind != SL_JSON_ARRAY)
      return refuse(r, "events", "an array of events", o->items[i]);
    /* Take the array out of the tree: the response owns it from now. */
    res->events = o->items[i];
    o->items[i] = NULL;       /* sl_json_free skips a NULL member */
    break;
  }
  if (!res->events) return refuse(r, "events", "missing (required)", NULL);
  v = member(o, "unknown_event_types");
  if (!is_none(v)) {
    rc = read_strings(r, v, "unknown_event_types", &res->unknown_event_types,
                      &res->n_unknown_event_types);
    if (rc != SL_OK) return rc;
  }
  v = member(o, "next");
  if (!is_none(v)) {
    if ((rc = read_position(r, v, "next", &res->next, &res->next_id)))
      return rc;
    res->has_next = 1;
  }
  v = member(o, "mark");
  if (!is_none(v)) {
    if ((rc = read_ranged(r, v, "mark", 0, INT64_MAX, &n)) != SL_OK)
      return rc;
    res->mark = n;
    res->has_mark = 1;
  }
  return SL_OK;
}

int sl_message_parse(const char *json, size_t len, sl_message *out,
                     char *err, size_t errsz) {
  sl_json *doc = NULL;
  reader r = {"message", err, errsz};
  int rc;
  memset(out, 0, sizeof *out);
  /* Weighed first: a 16 MiB frame of tiny values would take over 1 GB. */
  size_t values, cost = sl_decode_cost(json, len, 0, &values);
  if (cost > SL_MAX_DECODE) {
    if (err && errsz)
      snprintf(err, errsz, "message: %zu JSON values would take %zu bytes "
               "to decode, over the limit of %u", values, cost,
               (unsigned)SL_MAX_DECODE);
    return SL_INVALID;
  }
  rc = sl_json_parse(json, len, &doc, err, errsz);
  if (rc != SL_OK) {
    if (rc == SL_INVALID && err && errsz) {
      char inner[256];
      snprintf(inner, sizeof inner, "%s", err);
      snprintf(err, errsz, "message is not JSON: %s", inner);
    }
    return rc;
  }
  if (doc->kind != SL_JSON_OBJECT || doc->length != 1) {
    if (err && errsz)
      snprintf(err, errsz, "message: expected an object with one variant "
               "key (EventLogRequest or EventLogResponse), got %s",
               doc->kind == SL_JSON_OBJECT ? "an object with another number "
               "of keys" : kind_name(doc));
    sl_json_free(doc);
    return SL_INVALID;
  }
  const char *variant = doc->keys[0];
  sl_json *body = doc->items[0];
  int whole = strlen(variant) == doc->key_lengths[0]; /* no NUL inside */
  if (whole && strcmp(variant, "EventLogRequest") == 0) {
    out->kind = SL_MSG_REQUEST;
  } else if (whole && strcmp(variant, "EventLogResponse") == 0) {
    out->kind = SL_MSG_RESPONSE;
  } else {
    if (err && errsz)
      snprintf(err, errsz, "message: unknown variant \"%.40s\", expected "
               "EventLogRequest or EventLogResponse", variant);
    sl_json_free(doc);
    return SL_INVALID;
  }
  r.variant = variant;
  if (body->kind != SL_JSON_OBJECT) {
    if (err && errsz)
      snprintf(err, errsz, "%s: expected an object, got %s", variant,
               kind_name(body));
    rc = SL_INVALID;
  } else if (out->kind == SL_MSG_REQUEST) {
    rc = parse_request(&r, body, &out->request);
  } else {
    rc = parse_response(&r, body, &out->response);
  }
  if (rc == SL_NOMEM && err && errsz) snprintf(err, errsz, "out of memory");
  sl_json_free(doc);
  return rc;
}

static void free_strings(char **list, size_t n) {
  if (!list) return;
  for (size_t i = 0; i < n; i++) free(list[i]);
  free(list);
}

void sl_message_clear(sl_message *m) {
  if (!m) return;
  free_strings(m->request.event_types, m->request.n_event_types);
  free_strings(m->response.unknown_event_types,
               m->response.n_unknown_event_types);
  sl_json_free(m->response.events);
  memset(m, 0, sizeof *m);
}

/* ------------------------------------------------- events from the wire */

/* Fields that are strings in the wire form, and where each goes. */
typedef struct text_field {
  const char *name;
  size_t      offset;         /* of the const char * in sl_event            */
  int         column;         /* its sl_column, for its length              */
  int         required;
} text_field;

static const text_field text_fields[] = {
  {"timestamp", offsetof(sl_event, timestamp), SL_COL_TIMESTAMP, 1},
  {"device_id", offsetof(sl_event, device_id), SL_COL_DEVICE_ID, 1},
  {"event_type", offsetof(sl_event, event_type), SL_COL_EVENT_TYPE, 1},
  {"category", offsetof(sl_event, category), SL_COL_CATEGORY, 1},
  {"severity", offsetof(sl_event, severity), SL_COL_SEVERITY, 1},
  {"summary", offsetof(sl_event, summary), SL_COL_SUMMARY, 1},
  {"correlation_id", offsetof(sl_event, correlation_id),
   SL_COL_CORRELATION_ID, 0},
  {"peer_device_id", offsetof(sl_event, peer_device_id),
   SL_COL_PEER_DEVICE_ID, 0},
};

static int event_fail(char *err, size_t errsz, size_t i, const char *field,
                      const char *what) {
  if (err && errsz)
    snprintf(err, errsz, "event %zu: %s: %s", i + 1, field, what);
  return SL_INVALID;
}

/* A u64 column (record_count, duration_ms): 0 to
** 18446744073709551615. Above INT64_MAX it is a negative stored value
** that Spacedrive's `as u64` cast sent (spacedrive-compat.md 10.1), and it
** is stored as that value again. */
static int read_count(const sl_json *obj, const char *field, size_t i,
                      int64_t *out, int *has, char *err, size_t errsz) {
  const sl_json *v = member(obj, field);
  *has = 0;
  if (is_none(v)) return SL_OK;
  if (v->kind == SL_JSON_UNSIGNED) {
    *out = (int64_t)v->uinteger;
  } else if (v->kind == SL_JSON_INTEGER && v->integer >= 0) {
    *out = v->integer;
  } else {
    return event_fail(err, errsz, i, field, "expected a non-negative integer");
  }
  *has = 1;
  return SL_OK;
}

/* The strings the events point into are appended to the arena, NUL
** separated; offsets are kept until the arena stops growing, then turned
** into pointers. */
int sl_response_events(const sl_json *events, sl_event **out, size_t *n,
                       sl_buf *arena, char *err, size_t errsz) {
  static const char *const fields[] = {
    "id", "timestamp", "device_id", "event_type", "category", "severity",
    "summary", "details", "correlation_id", "peer_device_id", "model_types",
    "record_count", "duration_ms", NULL};
  sl_event *evs;
  size_t count;
  *out = NULL;
  *n = 0;
  if (!events || events->kind != SL_JSON_ARRAY) {
    if (err && errsz) snprintf(err, errsz, "events: expected an array");
    return SL_INVALID;
  }
  count = events->length;
  evs = calloc(count ? count : 1, sizeof *evs);
  size_t *details_at = calloc(count ? count : 1, sizeof *details_at);
  size_t *models_at = calloc(count ? count : 1, sizeof *models_at);
  if (!evs || !details_at || !models_at) {
    free(evs); free(details_at); free(models_at);
    return SL_NOMEM;
  }
  reader r = {"event", err, errsz};
  int rc = SL_OK;
  for (size_t i = 0; i < count && rc == SL_OK; i++) {
    const sl_json *o = events->items[i];
    sl_event *ev = &evs[i];
    if (o->kind != SL_JSON_OBJECT) {
      rc = event_fail(err, errsz, i, "event", "expected an object");
      break;
    }
    if ((rc = check_members(&r, o, fields)) != SL_OK) {
      char inner[128];
      snprintf(inner, sizeof inner, "%s", err ? err : "");
      rc = event_fail(err, errsz, i, "fields", inner);
      break;
    }
    for (size_t f = 0; f < sizeof text_fields / sizeof *text_fields; f++) {
      const text_field *tf = &text_fields[f];
      const sl_json *v = member(o, tf->name);
      if (is_none(v)) {
        if (tf->required) {
          rc = event_fail(err, errsz, i, tf->name, "missing (required)");
          break;
        }
        continue;
      }
      if (v->kind != SL_JSON_STRING) {
        rc = event_fail(err, errsz, i, tf->name, "expected a string");
        break;
      }
      /* NUL and all, as Spacedrive keeps it (spacedrive-compat.md 10.1). */
      *(const char **)((char *)ev + tf->offset) = v->string;
      ev->len[tf->column] = v->length;
    }
    if (rc != SL_OK) break;
    if ((rc = read_count(o, "record_count", i, &ev->record_count,
                         &ev->has_record_count, err, errsz)) ||
        (rc = read_count(o, "duration_ms", i, &ev->duration_ms,
                         &ev->has_duration_ms, err, errsz)))
      break;
    /* The peer's row id, an i64 (Option): checked, then left behind. */
    const sl_json *id = member(o, "id");
    if (!is_none(id) && id->kind != SL_JSON_INTEGER) {
      rc = event_fail(err, errsz, i, "id", "expected an integer");
      break;
    }
    const sl_json *d = member(o, "details");
    details_at[i] = SIZE_MAX;
    if (!is_none(d)) {
      details_at[i] = arena->len;
      sl_json_write(arena, d, -1, 1);
      sl_buf_append(arena, "", 1);
    }
    const sl_json *m = member(o, "model_types");
    models_at[i] = SIZE_MAX;
    if (!is_none(m)) {
      if (m->kind != SL_JSON_ARRAY) {
        rc = event_fail(err, errsz, i, "model_types",
                        "expected an array of strings");
        break;
      }
      models_at[i] = arena->len;
      for (size_t k = 0; k < m->length; k++) {
        const sl_json *s = m->items[k];
        if (s->kind != SL_JSON_STRING ||
            memchr(s->string, ',', s->length)) {
          rc = event_fail(err, errsz, i, "model_types",
                          "expected strings without ','");
          break;
        }
        if (k) sl_buf_append(arena, ",", 1);
        sl_buf_append(arena, s->string, s->length);
      }
      ev->len[SL_COL_MODEL_TYPES] = arena->len - models_at[i];
      sl_buf_append(arena, "", 1);
    }
  }
  if (rc == SL_OK && arena->oom) rc = SL_NOMEM;
  if (rc == SL_OK) {
    for (size_t i = 0; i < count; i++) {
      if (details_at[i] != SIZE_MAX) evs[i].details = arena->data + details_at[i];
      if (models_at[i] != SIZE_MAX) evs[i].model_types = arena->data + models_at[i];
      /* The row id is the peer's; here the event is new. */
      evs[i].id = 0;
      evs[i].has_id = 0;
    }
    *out = evs;
    *n = count;
  } else {
    free(evs);
  }
  free(details_at);
  free(models_at);
  return rc;
}

/* ------------------------------------------------------------ framing */

void sl_framer_init(sl_framer *f, size_t max_frame) {
  memset(f, 0, sizeof *f);
  f->max_frame = max_frame ? max_frame : SL_MAX_FRAME;
}

int sl_framer_push(sl_framer *f, const unsigned char *bytes, size_t n,
                   size_t *used, char *err, size_t errsz) {
  size_t i = 0;
  *used = 0;
  while (i < n && !f->ready) {
    if (f->head_len < 4) {
      f->head[f->head_len++] = bytes[i++];
      if (f->head_len < 4) continue;
      f->need = (uint32_t)f->head[0] << 24 | (uint32_t)f->head[1] << 16 |
                (uint32_t)f->head[2] << 8 | f->head[3];
      if (f->need <= f->max_frame) {
        sl_buf_reset(&f->frame);
        if (f->need == 0) f->ready = 1;
        continue;
      }
    }
    /* Checked on every push, not only when the length arrives: a refused
    ** length stays refused until sl_framer_next. */
    if (f->need > f->max_frame) {
      if (err && errsz)
        snprintf(err, errsz, "frame of %" PRIu32 " bytes is over the "
                 "limit of %zu", f->need, f->max_frame);
      *used = i;
      return SL_INVALID;
    }
    size_t want = f->need - f->frame.len;
    size_t take = n - i < want ? n - i : want;
    sl_buf_append(&f->frame, (const char *)bytes + i, take);
    if (f->frame.oom) {
      if (err && errsz) snprintf(err, errsz, "out of memory");
      *used = i;
      return SL_NOMEM;
    }
    i += take;
    if (f->frame.len == f->need) f->ready = 1;
  }
  *used = i;
  return SL_OK;
}

void sl_framer_next(sl_framer *f) {
  f->head_len = 0;
  f->need = 0;
  f->ready = 0;
  sl_buf_reset(&f->frame);
}

size_t sl_framer_pending(const sl_framer *f) {
  return f->ready ? 0 : f->head_len + f->frame.len;
}

void sl_framer_free(sl_framer *f) {
  sl_buf_free(&f->frame);
  memset(f, 0, sizeof *f);
}
