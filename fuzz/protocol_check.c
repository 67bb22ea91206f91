/*
** protocol_check.c -- fuzz/ layer: the invariants of the network
** protocol's decoding surface (core/sl_proto.c over core/sl_json.c),
** checked on one arbitrary input. The libFuzzer target aborts when one is
** violated; the C test driver replays fuzz/corpus/ and fuzz/crashes/
** through the same function, so every saved crash stays a regression case.
**
** What is checked, beyond "no sanitizer fires and nothing leaks":
** - the framer cuts the stream into the same frames, and refuses the same
**   oversized length at the same byte, however the stream is split; it
**   never holds more than max_frame bytes, not even when pushed again after
**   a refusal; it always takes a whole piece unless a frame completed;
** - a message that parses is what its JSON says, byte for byte: the variant
**   key is exactly the variant's name, no field was given twice, every UUID
**   is the canonical form of the one given, every string is the one given
**   (so none was cut short at a NUL), limit is the integer given and at most
**   UINT32_MAX, instants are the ones the timestamps name;
** - a parsed request written with sl_request_write parses back to the same
**   fields, and writing that gives the same bytes again;
** - a response's events, when accepted, are the events given: required
**   fields present, each string the one given, details canonical JSON of
**   the value given, model_types the strings given joined by ',', counts
**   the integers given, ids zero; when refused, nothing is returned and the
**   message names the event;
** - a refusal always comes with a NUL-terminated message, even in a tiny
**   buffer, and the status does not depend on whether a buffer was given.
*/
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol_check.h"
#include <synclua/net.h>

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

typedef struct chk {
  char       *why;            /* caller's buffer for the first violation    */
  size_t      whysz;
  int         failed;         /* an invariant was violated                  */
  char        where[48];      /* "whole input", "frame 2", ...              */
} chk;

/* Record a violation (the first one is kept); returns 1 for `return`. */
static int bad(chk *c, const char *fmt, ...) PRINTF_LIKE(2, 3);
static int bad(chk *c, const char *fmt, ...) {
  if (!c->failed && c->why && c->whysz) {
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(c->why, c->whysz, "%s: %s", c->where, what);
  }
  c->failed = 1;
  return 1;
}

/* ------------------------------------------------------ the JSON given */

/* The member of obj named exactly `name` (bytes, so "limit\u0000x" is not
** "limit"); *count gets how many members have that name. */
static const sl_json *field(const sl_json *obj, const char *name, int *count) {
  const sl_json *found = NULL;
  size_t len = strlen(name);
  int n = 0;
  for (size_t i = 0; i < obj->length; i++)
    if (obj->key_lengths[i] == len && memcmp(obj->keys[i], name, len) == 0) {
      if (!found) found = obj->items[i];
      n++;
    }
  if (count) *count = n;
  return found;
}

static const sl_json *get(const sl_json *obj, const char *name) {
  return field(obj, name, NULL);
}

static int is_none(const sl_json *v) { return !v || v->kind == SL_JSON_NULL; }

/* s is the JSON string v, all of it: no NUL inside, nothing cut. */
static int same_text(const char *s, const sl_json *v) {
  return s && v && v->kind == SL_JSON_STRING && strlen(s) == v->length &&
         memcmp(s, v->string, v->length) == 0;
}

/* Lowercase, hyphenated, 36 characters: the uuid crate's form. */
static int canonical_uuid(const char *s) {
  if (strlen(s) != 36) return 0;
  for (int i = 0; i < 36; i++) {
    char ch = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (ch != '-') return 0;
    } else if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) {
      return 0;
    }
  }
  return 1;
}

/* id is the canonical form of the UUID string v. */
static int uuid_matches(const char *id, const sl_json *v) {
  char norm[SL_UUID_BUFSZ];
  if (!v || v->kind != SL_JSON_STRING || strlen(v->string) != v->length)
    return 0;
  if (sl_uuid_normalize(v->string, norm) != SL_OK) return 0;
  return canonical_uuid(id) && strcmp(norm, id) == 0;
}

/* instant is the one the timestamp string v names, and survives being
** written as serde writes it and read back. */
static int time_matches(int64_t instant, const sl_json *v) {
  char ts[SL_TIME_BUFSZ];
  int64_t t, back;
  size_t n;
  if (!v || v->kind != SL_JSON_STRING) return 0;
  if (sl_time_parse_rfc3339(v->string, v->length, &t) != SL_OK ||
      t != instant)
    return 0;
  n = sl_time_format(instant, 1, ts);
  return n < sizeof ts && sl_time_parse_rfc3339(ts, n, &back) == SL_OK &&
         back == instant;
}

/* A position {"timestamp", "id"} as given. */
static int position_matches(int64_t instant, int64_t id, const sl_json *v) {
  const sl_json *n;
  if (!v || v->kind != SL_JSON_OBJECT) return 0;
  n = get(v, "id");
  return time_matches(instant, get(v, "timestamp")) && n &&
         n->kind == SL_JSON_INTEGER && n->integer >= 0 && n->integer == id;
}

/* A list of strings read from the array v (or from nothing). */
static int check_strings(chk *c, const char *name, int has, char **list,
                         size_t n, const sl_json *v) {
  if (has != !is_none(v)) return bad(c, "%s: presence not as given", name);
  if (!has) {
    if (list || n) return bad(c, "%s: absent, yet a list was returned", name);
    return 0;
  }
  if (v->kind != SL_JSON_ARRAY || n != v->length)
    return bad(c, "%s: %zu strings read from %zu given", name, n,
               v->kind == SL_JSON_ARRAY ? v->length : 0);
  if (n && !list) return bad(c, "%s: no list for %zu strings", name, n);
  for (size_t i = 0; i < n; i++)
    if (!same_text(list[i], v->items[i]))
      return bad(c, "%s[%zu]: not the string given byte for byte (NUL "
                 "inside?)", name, i);
  return 0;
}

/* serde refuses a field given twice; so must we. */
static int check_no_duplicates(chk *c, const sl_json *obj,
                               const char *const *fields, const char *what) {
  for (const char *const *f = fields; *f; f++) {
    int n;
    field(obj, *f, &n);
    if (n > 1) return bad(c, "%s: field %s given %d times, accepted", what,
                          *f, n);
  }
  return 0;
}

/* -------------------------------------------------------------- requests */

static int same_request(const sl_request *a, const sl_request *b) {
  if (strcmp(a->library_id, b->library_id) != 0 ||
      strcmp(a->requesting_device, b->requesting_device) != 0 ||
      a->has_since != b->has_since || (a->has_since && a->since != b->since) ||
      a->has_event_types != b->has_event_types ||
      a->n_event_types != b->n_event_types ||
      a->has_correlation_id != b->has_correlation_id ||
      (a->has_correlation_id &&
       strcmp(a->correlation_id, b->correlation_id) != 0) ||
      a->limit != b->limit || a->has_before != b->has_before ||
      (a->has_before &&
       (a->before != b->before || a->before_id != b->before_id)))
    return 0;
  for (size_t i = 0; i < a->n_event_types; i++)
    if (strcmp(a->event_types[i], b->event_types[i]) != 0) return 0;
  return 1;
}

/* Written with sl_request_write, read back: the same request; written
** again: the same bytes. */
static int check_request_round_trip(chk *c, const sl_request *req) {
  sl_buf w1 = {0}, w2 = {0};
  sl_message back;
  char err[256];
  int rc, fail = 0;
  sl_request_write(&w1, req);
  if (w1.oom) { sl_buf_free(&w1); return 0; }
  rc = sl_message_parse(w1.data ? w1.data : "", w1.len, &back, err,
                        sizeof err);
  if (rc == SL_OK && back.kind != SL_MSG_REQUEST) {
    fail = bad(c, "a request written again reads as another kind");
  } else if (rc == SL_OK) {
    if (!same_request(req, &back.request))
      fail = bad(c, "a request written and read again has other fields: "
                 "%.200s", w1.data);
    sl_request_write(&w2, &back.request);
    if (!fail && !w2.oom &&
        (w2.len != w1.len || memcmp(w1.data, w2.data, w1.len) != 0))
      fail = bad(c, "writing a request is not stable: %.150s / %.150s",
                 w1.data, w2.data ? w2.data : "");
  } else if (rc != SL_NOMEM) {
    fail = bad(c, "a request written again does not parse (%.150s): %.150s",
               err, w1.data);
  }
  sl_message_clear(&back);
  sl_buf_free(&w1);
  sl_buf_free(&w2);
  return fail;
}

static int check_request(chk *c, const sl_request *req, const sl_json *body) {
  static const char *const fields[] = {
    "library_id", "requesting_device", "since", "event_types",
    "correlation_id", "limit", "before", NULL};
  const sl_json *v;
  if (check_no_duplicates(c, body, fields, "EventLogRequest")) return 1;
  if (!uuid_matches(req->library_id, get(body, "library_id")))
    return bad(c, "library_id \"%s\" is not the UUID given, canonical",
               req->library_id);
  if (!uuid_matches(req->requesting_device, get(body, "requesting_device")))
    return bad(c, "requesting_device \"%s\" is not the UUID given, "
               "canonical", req->requesting_device);
  v = get(body, "since");
  if (req->has_since != !is_none(v))
    return bad(c, "since: presence not as given");
  if (req->has_since && !time_matches(req->since, v))
    return bad(c, "since: %" PRId64 " is not the instant given",
               req->since);
  if (check_strings(c, "event_types", req->has_event_types,
                    req->event_types, req->n_event_types,
                    get(body, "event_types")))
    return 1;
  v = get(body, "correlation_id");
  if (req->has_correlation_id != !is_none(v))
    return bad(c, "correlation_id: presence not as given");
  if (req->has_correlation_id && !uuid_matches(req->correlation_id, v))
    return bad(c, "correlation_id \"%s\" is not the UUID given, canonical",
               req->correlation_id);
  /* limit is a uint32_t, so "<= UINT32_MAX" must hold of what was given. */
  v = get(body, "limit");
  if (!v || v->kind != SL_JSON_INTEGER || v->integer < 0 ||
      v->integer > (int64_t)UINT32_MAX || (uint32_t)v->integer != req->limit)
    return bad(c, "limit %" PRIu32 " accepted from something other than "
               "that integer in 0..UINT32_MAX", req->limit);
  v = get(body, "before");
  if (req->has_before != !is_none(v))
    return bad(c, "before: presence not as given");
  if (req->has_before && !position_matches(req->before, req->before_id, v))
    return bad(c, "before: (%" PRId64 ", %" PRId64 ") is not the position "
               "given", req->before, req->before_id);
  return check_request_round_trip(c, req);
}

/* ------------------------------------------------------------- responses */

/* One accepted event against the object it was read from. */
static int check_event(chk *c, size_t i, const sl_event *ev,
                       const sl_json *o) {
  static const char *const fields[] = {
    "id", "timestamp", "device_id", "event_type", "category", "severity",
    "summary", "details", "correlation_id", "peer_device_id", "model_types",
    "record_count", "duration_ms", NULL};
  const struct { const char *name; const char *value; int required; } text[] = {
    {"timestamp", ev->timestamp, 1},
    {"device_id", ev->device_id, 1},
    {"event_type", ev->event_type, 1},
    {"category", ev->category, 1},
    {"severity", ev->severity, 1},
    {"summary", ev->summary, 1},
    {"correlation_id", ev->correlation_id, 0},
    {"peer_device_id", ev->peer_device_id, 0},
  };
  const struct { const char *name; int has; int64_t value; } counts[] = {
    {"record_count", ev->has_record_count, ev->record_count},
    {"duration_ms", ev->has_duration_ms, ev->duration_ms},
  };
  const sl_json *v;
  if (!o || o->kind != SL_JSON_OBJECT)
    return bad(c, "event %zu: accepted though not an object", i + 1);
  if (check_no_duplicates(c, o, fields, "event")) return 1;
  for (size_t f = 0; f < sizeof text / sizeof *text; f++) {
    v = get(o, text[f].name);
    if (is_none(v)) {
      if (text[f].required)
        return bad(c, "event %zu: %s missing, accepted", i + 1,
                   text[f].name);
      if (text[f].value)
        return bad(c, "event %zu: %s absent, yet has a value", i + 1,
                   text[f].name);
    } else if (!same_text(text[f].value, v)) {
      return bad(c, "event %zu: %s is not the string given byte for byte "
                 "(NUL inside?)", i + 1, text[f].name);
    }
  }
  for (size_t f = 0; f < sizeof counts / sizeof *counts; f++) {
    v = get(o, counts[f].name);
    if (counts[f].has != !is_none(v))
      return bad(c, "event %zu: %s: presence not as given", i + 1,
                 counts[f].name);
    if (counts[f].has &&
        (v->kind != SL_JSON_INTEGER || v->integer < 0 ||
         v->integer != counts[f].value))
      return bad(c, "event %zu: %s %" PRId64 " is not the non-negative "
                 "integer given", i + 1, counts[f].name, counts[f].value);
  }
  if (ev->id != 0) return bad(c, "event %zu: id not reset to 0", i + 1);

  v = get(o, "details");
  if (is_none(v) != !ev->details)
    return bad(c, "event %zu: details: presence not as given", i + 1);
  if (ev->details) {
    /* The value given, as Spacedrive stores it: compact, sorted keys; and
    ** canonical, so canonicalising it again changes nothing. */
    sl_buf want = {0}, again = {0};
    char err[256];
    size_t len = strlen(ev->details);
    int rc, fail = 0;
    sl_json_write(&want, v, -1, 1);
    rc = sl_json_canonicalize(ev->details, len, &again, err, sizeof err);
    if (!want.oom && (want.len != len || memcmp(want.data, ev->details,
                                                len) != 0))
      fail = bad(c, "event %zu: details \"%.100s\" are not the value given",
                 i + 1, ev->details);
    else if (rc == SL_INVALID)
      fail = bad(c, "event %zu: details \"%.100s\" do not parse back: %s",
                 i + 1, ev->details, err);
    else if (rc == SL_OK &&
             (again.len != len || memcmp(again.data, ev->details, len) != 0))
      fail = bad(c, "event %zu: details not canonical: \"%.100s\" -> "
                 "\"%.100s\"", i + 1, ev->details, again.data);
    sl_buf_free(&want);
    sl_buf_free(&again);
    if (fail) return 1;
  }

  v = get(o, "model_types");
  if (is_none(v) != !ev->model_types)
    return bad(c, "event %zu: model_types: presence not as given", i + 1);
  if (ev->model_types) {
    sl_buf want = {0};
    int fail = 0;
    if (v->kind != SL_JSON_ARRAY)
      return bad(c, "event %zu: model_types accepted from %s", i + 1,
                 "something other than an array");
    for (size_t k = 0; k < v->length; k++) {
      const sl_json *s = v->items[k];
      if (s->kind != SL_JSON_STRING || memchr(s->string, ',', s->length) ||
          memchr(s->string, '\0', s->length)) {
        fail = bad(c, "event %zu: model_types[%zu] accepted though not a "
                   "string without ',' or NUL", i + 1, k);
        break;
      }
      if (k) sl_buf_append(&want, ",", 1);
      sl_buf_append(&want, s->string, s->length);
    }
    if (!fail && !want.oom &&
        (strlen(ev->model_types) != want.len ||
         memcmp(ev->model_types, want.data ? want.data : "", want.len) != 0))
      fail = bad(c, "event %zu: model_types \"%.100s\" are not the strings "
                 "given", i + 1, ev->model_types);
    sl_buf_free(&want);
    if (fail) return 1;
  }
  return 0;
}

static int check_events(chk *c, const sl_json *events) {
  sl_event *evs = NULL, *evs2 = NULL;
  size_t n = 12345, n2 = 12345;
  sl_buf arena = {0}, arena2 = {0};
  char err[256];
  int rc, rc2, fail = 0;
  err[0] = '\0';
  rc = sl_response_events(events, &evs, &n, &arena, err, sizeof err);
  rc2 = sl_response_events(events, &evs2, &n2, &arena2, NULL, 0);
  if (rc != rc2 && rc != SL_NOMEM && rc2 != SL_NOMEM) {
    fail = bad(c, "sl_response_events: status %d with a message buffer, %d "
               "without", rc, rc2);
  } else if (rc == SL_OK) {
    if (n != events->length)
      fail = bad(c, "sl_response_events: %zu events from %zu given", n,
                 events->length);
    else if (n && !evs)
      fail = bad(c, "sl_response_events: no array for %zu events", n);
    for (size_t i = 0; !fail && i < n; i++)
      fail = check_event(c, i, &evs[i], events->items[i]);
  } else if (rc == SL_INVALID) {
    if (evs || n != 0)
      fail = bad(c, "sl_response_events refused, yet returned events");
    else if (!memchr(err, '\0', sizeof err) || strncmp(err, "event", 5) != 0)
      fail = bad(c, "sl_response_events refused with the message \"%.100s\"",
                 err);
  } else if (rc != SL_NOMEM) {
    fail = bad(c, "sl_response_events: unexpected status %d", rc);
  }
  free(evs);
  free(evs2);
  sl_buf_free(&arena);
  sl_buf_free(&arena2);
  return fail;
}

static int check_response(chk *c, const sl_response *res,
                          const sl_json *body) {
  static const char *const fields[] = {
    "library_id", "responding_device", "events", "unknown_event_types",
    "next", NULL};
  const sl_json *v;
  if (check_no_duplicates(c, body, fields, "EventLogResponse")) return 1;
  if (!uuid_matches(res->library_id, get(body, "library_id")))
    return bad(c, "library_id \"%s\" is not the UUID given, canonical",
               res->library_id);
  if (!uuid_matches(res->responding_device, get(body, "responding_device")))
    return bad(c, "responding_device \"%s\" is not the UUID given, "
               "canonical", res->responding_device);
  v = get(body, "events");
  if (!v || v->kind != SL_JSON_ARRAY)
    return bad(c, "events accepted though no member named exactly "
               "\"events\" is an array");
  if (!res->events || res->events->kind != SL_JSON_ARRAY ||
      res->events->length != v->length)
    return bad(c, "events: not the array given");
  if (check_strings(c, "unknown_event_types", res->unknown_event_types != NULL,
                    res->unknown_event_types, res->n_unknown_event_types,
                    get(body, "unknown_event_types")))
    return 1;
  v = get(body, "next");
  if (res->has_next != !is_none(v))
    return bad(c, "next: presence not as given");
  if (res->has_next && !position_matches(res->next, res->next_id, v))
    return bad(c, "next: (%" PRId64 ", %" PRId64 ") is not the position "
               "given", res->next, res->next_id);
  return check_events(c, res->events);
}

/* -------------------------------------------------------------- messages */

/* A refusal's message: there, and NUL-terminated inside the buffer. */
static int check_message_text(chk *c, const char *err, size_t errsz) {
  if (!memchr(err, '\0', errsz))
    return bad(c, "a refusal left its message unterminated");
  if (errsz > 1 && err[0] == '\0')
    return bad(c, "a refusal without a message");
  return 0;
}

static int check_message(chk *c, const char *json, size_t len) {
  sl_message m, m2, m3;
  char err[256];
  enum { TINY = 6 };
  char *tiny = malloc(TINY);  /* exact size, so ASan sees an overrun */
  sl_json *doc = NULL;
  int rc, rc2, rc3, fail = 0;
  if (!tiny) return 0;
  memset(err, 'x', sizeof err);
  memset(tiny, 'x', TINY);
  rc = sl_message_parse(json, len, &m, err, sizeof err);
  rc2 = sl_message_parse(json, len, &m2, NULL, 0);
  rc3 = sl_message_parse(json, len, &m3, tiny, TINY);
  sl_message_clear(&m2);
  sl_message_clear(&m3);
  sl_message_clear(&m3);      /* idempotent */

  if (rc == SL_NOMEM || rc2 == SL_NOMEM || rc3 == SL_NOMEM) {
    /* Out of memory may strike one parse and not another. */
  } else if (rc != rc2 || rc != rc3) {
    fail = bad(c, "sl_message_parse: status %d, %d without a message "
               "buffer, %d with a tiny one", rc, rc2, rc3);
  } else if (rc == SL_INVALID) {
    fail = check_message_text(c, err, sizeof err) ||
           check_message_text(c, tiny, TINY);
  } else if (rc != SL_OK) {
    fail = bad(c, "sl_message_parse: unexpected status %d", rc);
  } else if (sl_json_parse(json, len, &doc, NULL, 0) != SL_OK) {
    fail = bad(c, "a message was accepted that is not JSON");
  } else if (doc->kind != SL_JSON_OBJECT || doc->length != 1) {
    fail = bad(c, "a message was accepted that is not an object with one "
               "key");
  } else {
    const char *want = m.kind == SL_MSG_REQUEST ? "EventLogRequest"
                       : m.kind == SL_MSG_RESPONSE ? "EventLogResponse"
                       : NULL;
    const sl_json *body = doc->items[0];
    if (!want)
      fail = bad(c, "a message of kind %d was accepted", (int)m.kind);
    else if (doc->key_lengths[0] != strlen(want) ||
             memcmp(doc->keys[0], want, strlen(want)) != 0)
      fail = bad(c, "variant key \"%.60s\" (%zu bytes) accepted as %s",
                 doc->keys[0], doc->key_lengths[0], want);
    else if (body->kind != SL_JSON_OBJECT)
      fail = bad(c, "%s accepted though its body is not an object", want);
    else if (m.kind == SL_MSG_REQUEST)
      fail = check_request(c, &m.request, body);
    else
      fail = check_response(c, &m.response, body);
  }
  sl_json_free(doc);
  sl_message_clear(&m);
  sl_message_clear(&m);       /* idempotent */
  free(tiny);
  return fail;
}

/* --------------------------------------------------------------- framing */

/* What the framer must make of the whole stream, read straight through:
** the frames (offset and length of each), then either a refusal after
** byte `refused_at` or `pending` bytes of an unfinished frame. */
typedef struct expect {
  size_t   n_frames;
  size_t  *at, *len;          /* each frame's JSON in the stream            */
  int      refused;
  size_t   refused_at;        /* bytes taken when the length was refused    */
  size_t   pending;
} expect;

static int expect_frames(expect *e, const unsigned char *s, size_t n,
                         size_t max_frame) {
  size_t pos = 0, cap = n / 4 + 1;
  memset(e, 0, sizeof *e);
  e->at = malloc(cap * sizeof *e->at);
  e->len = malloc(cap * sizeof *e->len);
  if (!e->at || !e->len) return 0;
  while (n - pos >= 4) {
    uint32_t len = (uint32_t)s[pos] << 24 | (uint32_t)s[pos + 1] << 16 |
                   (uint32_t)s[pos + 2] << 8 | s[pos + 3];
    if (len > max_frame) {
      e->refused = 1;
      e->refused_at = pos + 4;
      return 1;
    }
    if (n - pos - 4 < len) break;
    e->at[e->n_frames] = pos + 4;
    e->len[e->n_frames++] = len;
    pos += 4 + len;
  }
  e->pending = n - pos;
  return 1;
}

/* Piece sizes from byte 0: the low four bits bound a piece at 2^k bytes,
** the high four seed the generator, so 0x00 is one byte at a time. */
typedef struct pieces {
  uint32_t state;
  size_t   max;
} pieces;

static size_t next_piece(pieces *p) {
  p->state = p->state * 1664525u + 1013904223u;
  return 1 + (size_t)(p->state >> 8) % p->max;
}

static int check_framer(chk *c, const unsigned char *data, size_t size) {
  const unsigned char *s = data + 2;
  size_t n = size - 2, pos = 0, frames = 0, max_frame;
  pieces pc;
  expect e;
  sl_framer f;
  char err[256];
  int fail = 0, done = 0;

  pc.state = data[0] >> 4;
  pc.max = (size_t)1 << (data[0] & 0x0F);
  sl_framer_init(&f, data[1] ? (size_t)data[1] * 16 : 0);
  max_frame = f.max_frame;
  if (!data[1] && max_frame != SL_MAX_FRAME)
    return bad(c, "max_frame 0 did not mean SL_MAX_FRAME");
  if (!expect_frames(&e, s, n, max_frame)) goto out;

  while (pos < n && !fail && !done) {
    size_t piece = next_piece(&pc), off = 0;
    if (piece > n - pos) piece = n - pos;
    while (off < piece && !fail) {
      size_t used = 99999999;
      int rc = sl_framer_push(&f, s + pos + off, piece - off, &used, err,
                              sizeof err);
      if (used > piece - off) {
        fail = bad(c, "push took %zu bytes of %zu", used, piece - off);
        break;
      }
      if (f.frame.len > f.max_frame) {
        fail = bad(c, "the framer holds %zu bytes, over max_frame %zu",
                   f.frame.len, f.max_frame);
        break;
      }
      off += used;
      if (rc == SL_NOMEM) { done = 1; break; }
      if (rc == SL_INVALID) {
        size_t after = 0;
        if (!e.refused || pos + off != e.refused_at)
          fail = bad(c, "refused after byte %zu; expected %s %zu", pos + off,
                     e.refused ? "a refusal after byte" : "no refusal, "
                     "frames:", e.refused ? e.refused_at : e.n_frames);
        else if (!memchr(err, '\0', sizeof err) || !err[0])
          fail = bad(c, "a refused length without a message");
        /* A caller that pushes again must not get the frame it was
        ** refused: the framer stays within max_frame. */
        else if (sl_framer_push(&f, s + pos + off, n - pos - off, &after,
                                err, sizeof err) == SL_OK && f.ready)
          fail = bad(c, "after a refusal, the oversized frame was taken");
        else if (f.frame.len > f.max_frame)
          fail = bad(c, "after a refusal the framer holds %zu bytes, over "
                     "max_frame %zu", f.frame.len, f.max_frame);
        done = 1;
        break;
      }
      if (rc != SL_OK) {
        fail = bad(c, "sl_framer_push: unexpected status %d", rc);
        break;
      }
      if (!f.ready) {
        if (off != piece)
          fail = bad(c, "push stopped after %zu of %zu bytes with no frame "
                     "ready", off, piece);
        break;
      }
      /* A whole frame: the one the stream holds next. */
      if (sl_framer_pending(&f) != 0) {
        fail = bad(c, "a ready framer reports %zu pending bytes",
                   sl_framer_pending(&f));
      } else if (frames >= e.n_frames || f.frame.len != e.len[frames] ||
                 (f.frame.len &&
                  memcmp(f.frame.data, s + e.at[frames], f.frame.len) != 0)) {
        fail = bad(c, "frame %zu (%zu bytes) is not the stream's frame "
                   "(expected %zu frames)", frames + 1, f.frame.len,
                   e.n_frames);
      } else {
        snprintf(c->where, sizeof c->where, "frame %zu", frames + 1);
        fail = check_message(c, f.frame.data ? f.frame.data : "",
                             f.frame.len);
        snprintf(c->where, sizeof c->where, "framer");
      }
      frames++;
      sl_framer_next(&f);
      if (sl_framer_pending(&f) != 0)
        fail = fail || bad(c, "pending bytes right after sl_framer_next");
    }
    pos += piece;
  }
  if (!fail && !done) {
    if (e.refused)
      fail = bad(c, "no refusal; expected one after byte %zu", e.refused_at);
    else if (frames != e.n_frames)
      fail = bad(c, "%zu frames, expected %zu", frames, e.n_frames);
    else if (sl_framer_pending(&f) != e.pending)
      fail = bad(c, "%zu bytes pending at the end, expected %zu",
                 sl_framer_pending(&f), e.pending);
  }
out:
  free(e.at);
  free(e.len);
  sl_framer_free(&f);
  sl_framer_free(&f);         /* idempotent */
  return fail;
}

int protocol_check(const unsigned char *data, size_t size,
                   char *why, size_t whysz) {
  chk c;
  memset(&c, 0, sizeof c);
  c.why = why;
  c.whysz = whysz;
  if (why && whysz) why[0] = '\0';
  snprintf(c.where, sizeof c.where, "whole input");
  check_message(&c, (const char *)data, size);
  if (size >= 2) {
    snprintf(c.where, sizeof c.where, "framer");
    check_framer(&c, data, size);
  }
  return c.failed;
}
