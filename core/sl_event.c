/*
** sl_event.c -- the event model: Spacedrive's 13 event types, 4 categories
** and 4 severities, their stored (snake_case) and Debug (Rust) names, each
** type's default category and severity, status names, the validation
** of an event before it is queued, and the table's column names with the
** tally of bad rows (rows read leniently: synclua.h, sl_bad_rows).
*/
#include <stdio.h>
#include <string.h>

#include "sli.h"

typedef struct type_info {
  const char *name;            /* snake_case, as stored                     */
  size_t      len;             /* strlen(name): a name is looked up per row */
  const char *debug_name;      /* Rust Debug, as Spacedrive's Markdown      */
  sl_category category;        /* Spacedrive's SyncEventType::category()    */
  sl_severity severity;        /* and its default severity                  */
} type_info;

static const type_info types[SL_EVENT_TYPE_COUNT] = {
  {"state_transition", 16, "StateTransition", SL_LIFECYCLE, SL_INFO},
  {"backfill_session_started", 24, "BackfillSessionStarted", SL_LIFECYCLE,
   SL_INFO},
  {"backfill_session_completed", 26, "BackfillSessionCompleted",
   SL_LIFECYCLE, SL_INFO},
  {"backfill_session_failed", 23, "BackfillSessionFailed", SL_LIFECYCLE,
   SL_ERROR_SEVERITY},
  {"catch_up_session_started", 24, "CatchUpSessionStarted", SL_LIFECYCLE,
   SL_INFO},
  {"catch_up_session_completed", 26, "CatchUpSessionCompleted",
   SL_LIFECYCLE, SL_INFO},
  {"batch_ingestion", 15, "BatchIngestion", SL_DATA_FLOW, SL_DEBUG},
  {"backfill_request_sent", 21, "BackfillRequestSent", SL_NETWORK, SL_DEBUG},
  {"backfill_request_received", 25, "BackfillRequestReceived", SL_NETWORK,
   SL_DEBUG},
  {"backfill_response_sent", 22, "BackfillResponseSent", SL_NETWORK,
   SL_DEBUG},
  {"peer_connected", 14, "PeerConnected", SL_NETWORK, SL_INFO},
  {"peer_disconnected", 17, "PeerDisconnected", SL_NETWORK, SL_INFO},
  {"sync_error", 10, "SyncError", SL_CATEGORY_ERROR, SL_ERROR_SEVERITY},
};

static const char *const categories[SL_CATEGORY_COUNT] = {
  "lifecycle", "data_flow", "network", "error"};
static const char *const severities[SL_SEVERITY_COUNT] = {
  "debug", "info", "warning", "error"};
static const char *const severity_debug[SL_SEVERITY_COUNT] = {
  "Debug", "Info", "Warning", "Error"};

static const char *const status_names[] = {
  "ok", "error", "misuse", "nomem", "invalid", "notfound", "notdb",
  "corrupt", "busy", "readonly", "ioerr", "full", "row", "done", "timeout"};

const char *sl_status_name(int status) {
  if (status < 0 || status > SL_TIMEOUT) return "error";
  return status_names[status];
}

const char *sl_event_type_name(int type) {
  return type >= 0 && type < SL_EVENT_TYPE_COUNT ? types[type].name : NULL;
}

const char *sl_event_type_debug_name(int type) {
  return type >= 0 && type < SL_EVENT_TYPE_COUNT ? types[type].debug_name
                                                 : NULL;
}

const char *sl_category_name(int c) {
  return c >= 0 && c < SL_CATEGORY_COUNT ? categories[c] : NULL;
}

const char *sl_severity_name(int s) {
  return s >= 0 && s < SL_SEVERITY_COUNT ? severities[s] : NULL;
}

const char *sl_severity_debug_name(int s) {
  return s >= 0 && s < SL_SEVERITY_COUNT ? severity_debug[s] : NULL;
}

/* Every stored row's names are looked up (sl_query.c reads each row as
** Spacedrive would): the length and the first byte rule out all but one
** candidate before a comparison. */
int sl_event_type_from_name(const char *name) {
  if (!name) return -1;
  size_t n = strlen(name);
  for (int i = 0; i < SL_EVENT_TYPE_COUNT; i++)
    if (types[i].len == n && types[i].name[0] == name[0] &&
        memcmp(types[i].name, name, n) == 0)
      return i;
  return -1;
}

int sl_category_from_name(const char *name) {
  if (!name) return -1;
  for (int i = 0; i < SL_CATEGORY_COUNT; i++)
    if (categories[i][0] == name[0] && strcmp(categories[i], name) == 0)
      return i;
  return -1;
}

int sl_severity_from_name(const char *name) {
  if (!name) return -1;
  for (int i = 0; i < SL_SEVERITY_COUNT; i++)
    if (severities[i][0] == name[0] && strcmp(severities[i], name) == 0)
      return i;
  return -1;
}

sl_category sl_event_type_category(sl_event_type t) {
  return t < SL_EVENT_TYPE_COUNT ? types[t].category : SL_LIFECYCLE;
}

sl_severity sl_event_type_severity(sl_event_type t) {
  return t < SL_EVENT_TYPE_COUNT ? types[t].severity : SL_INFO;
}

const char *sl_event_type_list(void) {
  return "state_transition, backfill_session_started, "
         "backfill_session_completed, backfill_session_failed, "
         "catch_up_session_started, catch_up_session_completed, "
         "batch_ingestion, backfill_request_sent, backfill_request_received, "
         "backfill_response_sent, peer_connected, peer_disconnected, "
         "sync_error";
}

const char *sl_category_list(void) {
  return "lifecycle, data_flow, network, error";
}

const char *sl_severity_list(void) { return "debug, info, warning, error"; }

/* One element of a severity selection: "name" or "name+". */
static int severity_term(const char *p, size_t n, unsigned *mask) {
  int plus = n > 0 && p[n - 1] == '+';
  char name[16];
  if (plus) n--;
  if (n == 0 || n >= sizeof name) return -1;
  memcpy(name, p, n);
  name[n] = '\0';
  int s = sl_severity_from_name(name);
  if (s < 0) return -1;
  if (plus)
    for (int i = s; i < SL_SEVERITY_COUNT; i++) *mask |= SL_SEV_BIT(i);
  else
    *mask |= SL_SEV_BIT(s);
  return 0;
}

int sl_severity_parse_set(const char *text, unsigned *mask, char *err,
                          size_t errsz) {
  unsigned m = 0;
  const char *p = text ? text : "";
  for (;;) {
    const char *comma = strchr(p, ',');
    size_t n = comma ? (size_t)(comma - p) : strlen(p);
    if (severity_term(p, n, &m) != 0) {
      if (errsz)
        snprintf(err, errsz,
                 "Invalid severity: %s (valid: %s; a name with '+' means "
                 "that severity and above, e.g. 'warning+')",
                 text ? text : "", sl_severity_list());
      return SL_INVALID;
    }
    if (!comma) break;
    p = comma + 1;
  }
  *mask = m;
  return SL_OK;
}

/* Each refusal names the field and, for a name, lists the valid ones. */
#define REFUSE(...) \
  do { \
    if (errsz) snprintf(err, errsz, __VA_ARGS__); \
    return SL_INVALID; \
  } while (0)

/* The checks; the JSON parse of details is left to the writer thread when
** the caller is on the hot path (sli_event_check with check_details 0). */
int sli_event_check(const sl_event *ev, int check_details, char *err,
                    size_t errsz) {
  char jerr[160];
  if (!ev) REFUSE("no event");
  if (!ev->event_type)
    REFUSE("event_type: missing (valid: %s)", sl_event_type_list());
  if (sl_event_name(ev, SL_COL_EVENT_TYPE) < 0)
    REFUSE("Invalid event type: %s (valid: %s)", ev->event_type,
           sl_event_type_list());
  if (ev->category && sl_event_name(ev, SL_COL_CATEGORY) < 0)
    REFUSE("Invalid category: %s (valid: %s)", ev->category,
           sl_category_list());
  if (ev->severity && sl_event_name(ev, SL_COL_SEVERITY) < 0)
    REFUSE("Invalid severity: %s (valid: %s)", ev->severity,
           sl_severity_list());
  if (!ev->summary) REFUSE("summary: missing");
  if (ev->timestamp) {
    int64_t t;
    if (sl_event_time(ev, &t) != SL_OK)
      REFUSE("timestamp: not RFC 3339: %s (e.g. "
             "'2025-12-03T10:15:00.123+00:00')",
             ev->timestamp);
  }
  if (ev->details && check_details) {
    sl_json *tree = NULL;
    size_t n;
    sl_event_text(ev, SL_COL_DETAILS, &n);
    if (sl_json_parse(ev->details, n, &tree, jerr,
                      sizeof jerr) != SL_OK)
      REFUSE("details: not JSON: %s", jerr);
    sl_json_free(tree);
  }
  return SL_OK;
}

int sl_event_validate(const sl_event *ev, char *err, size_t errsz) {
  return sli_event_check(ev, 1, err, errsz);
}

/* --------------------------------------------------------------- columns */

static const char *const column_names[SL_COLUMN_COUNT] = {
  "id", "timestamp", "device_id", "event_type", "category", "severity",
  "summary", "details", "correlation_id", "peer_device_id", "model_types",
  "record_count", "duration_ms"};

const char *sl_column_name(int column) {
  return column >= 0 && column < SL_COLUMN_COUNT ? column_names[column]
                                                 : NULL;
}

const char *sl_event_text(const sl_event *ev, int col, size_t *len) {
  const char *s;
  switch (col) {
  case SL_COL_TIMESTAMP: s = ev->timestamp; break;
  case SL_COL_DEVICE_ID: s = ev->device_id; break;
  case SL_COL_EVENT_TYPE: s = ev->event_type; break;
  case SL_COL_CATEGORY: s = ev->category; break;
  case SL_COL_SEVERITY: s = ev->severity; break;
  case SL_COL_SUMMARY: s = ev->summary; break;
  case SL_COL_DETAILS: s = ev->details; break;
  case SL_COL_CORRELATION_ID: s = ev->correlation_id; break;
  case SL_COL_PEER_DEVICE_ID: s = ev->peer_device_id; break;
  case SL_COL_MODEL_TYPES: s = ev->model_types; break;
  default: s = NULL; break;
  }
  *len = !s ? 0 : ev->len[col] ? ev->len[col] : strlen(s);
  return s;
}

int sl_event_time(const sl_event *ev, int64_t *out) {
  size_t n;
  const char *s = sl_event_text(ev, SL_COL_TIMESTAMP, &n);
  return s ? sl_time_parse_rfc3339(s, n, out) : SL_INVALID;
}

int sl_event_skipped(const sl_event *ev) {
  const unsigned required =
    SL_COLUMN_BIT(SL_COL_TIMESTAMP) | SL_COLUMN_BIT(SL_COL_DEVICE_ID) |
    SL_COLUMN_BIT(SL_COL_EVENT_TYPE) | SL_COLUMN_BIT(SL_COL_CATEGORY) |
    SL_COLUMN_BIT(SL_COL_SEVERITY) | SL_COLUMN_BIT(SL_COL_SUMMARY);
  return (ev->bad & required) || !ev->has_instant;
}

int sl_event_name(const sl_event *ev, int col) {
  size_t n;
  const char *s = sl_event_text(ev, col, &n);
  if (!s || strlen(s) != n) return -1;
  switch (col) {
  case SL_COL_EVENT_TYPE: return sl_event_type_from_name(s);
  case SL_COL_CATEGORY: return sl_category_from_name(s);
  case SL_COL_SEVERITY: return sl_severity_from_name(s);
  default: return -1;
  }
}

size_t sl_event_time_text(const sl_event *ev, int64_t instant, int zulu,
                          char *buf) {
  size_t n;
  int64_t t;
  int leap = 0;
  const char *s = sl_event_text(ev, SL_COL_TIMESTAMP, &n);
  /* Second 60 is at [17, 19) of every text that parses: a cheap look
  ** before the parse that decides. */
  if (s && n >= 19 && s[17] == '6' && s[18] == '0' &&
      sl_time_parse_rfc3339_leap(s, n, &t, &leap) == SL_OK && leap &&
      t == instant)
    return sl_time_format_leap(instant, zulu, buf);
  return sl_time_format(instant, zulu, buf);
}

void sl_bad_rows_note(sl_bad_rows *b, const sl_event *ev) {
  if (!b || !ev || !ev->bad) return;
  if (b->count < (int64_t)(sizeof b->first_ids / sizeof *b->first_ids))
    b->first_ids[b->count] = ev->id;
  b->count++;
  b->columns |= ev->bad;
}
