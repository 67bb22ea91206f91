/*
** sl_row.c -- one event as the row we store, for both ways rows are
** written: the writer thread (sl_writer.c) and bulk insertion
** (sl_import.c). Rows come out as Spacedrive writes them
** (spacedrive-compat.md "Our decisions" 1): the time in to_rfc3339 form,
** ids lowercase and hyphenated when they are UUIDs, details compact with
** sorted keys, an empty model_types list as NULL, and text kept whole,
** NUL and all.
*/
#include <stdio.h>
#include <string.h>

#include "sli.h"

const char sli_insert_sql[] =
  "INSERT INTO sync_event_log (timestamp, device_id, event_type, category,"
  " severity, summary, details, correlation_id, peer_device_id,"
  " model_types, record_count, duration_ms)"
  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";

/* Bind a text column, NUL and all; NULL for an absent one. */
static void bind_col(sqlite3_stmt *st, int i, const sl_event *ev, int col) {
  size_t n;
  const char *s = sl_event_text(ev, col, &n);
  if (s) sqlite3_bind_text(st, i, s, (int)n, SQLITE_STATIC);
  else sqlite3_bind_null(st, i);
}

/* A UUID column in its lowercase hyphenated form; other text as it is. */
static void bind_id(sqlite3_stmt *st, int i, const sl_event *ev, int col) {
  char buf[SL_UUID_BUFSZ];
  size_t n;
  const char *s = sl_event_text(ev, col, &n);
  if (s && !sl_uuid_canonical(s, n) && sl_uuid_parse(s, n, buf) == SL_OK)
    sqlite3_bind_text(st, i, buf, 36, SQLITE_TRANSIENT);
  else
    bind_col(st, i, ev, col);
}

void sli_row_text(const sl_event *ev, int64_t instant, const char *device,
                  sli_row_id *out) {
  size_t n;
  const char *dev = sl_event_text(ev, SL_COL_DEVICE_ID, &n);
  if (!dev && device) {
    dev = device;
    n = strlen(device);
  }
  sl_event_time_text(ev, instant, 0, out->ts);
  out->device_id = dev;
  out->device_len = n;
  if (dev && sl_uuid_parse(dev, n, out->dev) == SL_OK) {
    out->device_id = out->dev;
    out->device_len = 36;
  }
}

int sli_bind_event(sqlite3_stmt *st, const sl_event *ev, int64_t instant,
                   const char *device, sl_buf *json, char *err,
                   size_t errsz) {
  sli_row_id id;
  size_t n;
  int type = sl_event_type_from_name(ev->event_type);
  sli_row_text(ev, instant, device, &id);
  sqlite3_bind_text(st, 1, id.ts, -1, SQLITE_TRANSIENT);
  if (id.device_id)
    sqlite3_bind_text(st, 2, id.device_id, (int)id.device_len,
                      SQLITE_TRANSIENT);
  else
    sqlite3_bind_null(st, 2);
  bind_col(st, 3, ev, SL_COL_EVENT_TYPE);
  if (ev->category) bind_col(st, 4, ev, SL_COL_CATEGORY);
  else sqlite3_bind_text(st, 4, sl_category_name(sl_event_type_category(type)),
                         -1, SQLITE_STATIC);
  if (ev->severity) bind_col(st, 5, ev, SL_COL_SEVERITY);
  else sqlite3_bind_text(st, 5, sl_severity_name(sl_event_type_severity(type)),
                         -1, SQLITE_STATIC);
  bind_col(st, 6, ev, SL_COL_SUMMARY);
  if (ev->details) {
    const char *text = sl_event_text(ev, SL_COL_DETAILS, &n);
    sl_buf_reset(json);
    int rc = sl_json_canonicalize(text, n, json, err, errsz);
    if (rc == SL_OK && json->oom) rc = SL_NOMEM;
    if (rc != SL_OK) {
      sqlite3_clear_bindings(st);
      return rc;
    }
    sqlite3_bind_text(st, 7, json->data ? json->data : "", (int)json->len,
                      SQLITE_STATIC);
  } else {
    sqlite3_bind_null(st, 7);
  }
  bind_id(st, 8, ev, SL_COL_CORRELATION_ID);
  bind_id(st, 9, ev, SL_COL_PEER_DEVICE_ID);
  if (sl_event_text(ev, SL_COL_MODEL_TYPES, &n) && n > 0)
    bind_col(st, 10, ev, SL_COL_MODEL_TYPES);
  else
    sqlite3_bind_null(st, 10);
  if (ev->has_record_count) sqlite3_bind_int64(st, 11, ev->record_count);
  else sqlite3_bind_null(st, 11);
  if (ev->has_duration_ms) sqlite3_bind_int64(st, 12, ev->duration_ms);
  else sqlite3_bind_null(st, 12);
  return SL_OK;
}
