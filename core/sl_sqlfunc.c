/*
** sl_sqlfunc.c -- synclua's SQL functions, registered on each connection
** the core opens (never stored in the file, so Spacedrive can still open
** it): sl_instant(ts) gives a row's instant in nanoseconds (NULL when the
** text is not RFC 3339) so filters and ordering work on time, not text;
** sl_ts_class(ts) tells whether text order can stand in for time order;
** sl_late(id, run) finds the rows out of (timestamp, id) order.
*/
#include <stdlib.h>
#include <string.h>

#include "sli.h"

/* Canonical means exactly what sl_time_format writes: 'T', "+00:00", and a
** fraction of 0, 3, 6 or 9 digits whose last three are not all zero (else a
** shorter form would have been written). */

/* Two digits at p, or -1. */
static int two(const char *p) {
  if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9') return -1;
  return (p[0] - '0') * 10 + (p[1] - '0');
}

/* The shape sl_time_format writes, with fields every month has and a year
** an instant reaches: nearly every stored row, told without parsing (the
** classification of a store's timestamps is one call per row). */
static int plainly_canonical(const char *t, size_t len) {
  if (len != 25 && len != 29 && len != 32 && len != 35) return 0;
  if (t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' ||
      t[16] != ':' || memcmp(t + len - 6, "+00:00", 6) != 0)
    return 0;
  if (len > 25) {
    if (t[19] != '.') return 0;
    for (size_t i = 20; i < len - 6; i++)
      if (t[i] < '0' || t[i] > '9') return 0;
  }
  int century = two(t), year = two(t + 2), month = two(t + 5);
  int day = two(t + 8), hour = two(t + 11), minute = two(t + 14);
  int second = two(t + 17);
  if (century < 0 || year < 0) return 0;
  year += century * 100;
  return year >= 1678 && year <= 2261 && month >= 1 && month <= 12 &&
         day >= 1 && day <= 28 && hour >= 0 && hour <= 23 && minute >= 0 &&
         minute <= 59 && second >= 0 && second <= 59;
}

int sli_ts_class(const char *text, size_t len, int64_t *instant) {
  int64_t t;
  if (instant || !text || !plainly_canonical(text, len)) {
    if (!text || sl_time_parse_rfc3339(text, len, &t) != SL_OK) return 2;
    if (instant) *instant = t;
    if (len < 25 || text[10] != 'T' || memcmp(text + len - 6, "+00:00", 6))
      return 1;
  }
  size_t fraction = len - 25; /* the '.' and its digits */
  if (fraction == 0) return 0;
  if (fraction != 4 && fraction != 7 && fraction != 10) return 1;
  return memcmp(text + len - 9, "000", 3) == 0 ? 1 : 0;
}

static void fn_instant(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  int64_t t;
  (void)argc;
  const char *text = (const char *)sqlite3_value_text(argv[0]);
  int len = sqlite3_value_bytes(argv[0]);
  if (text && sl_time_parse_rfc3339(text, (size_t)len, &t) == SL_OK)
    sqlite3_result_int64(ctx, t);
  else
    sqlite3_result_null(ctx);
}

static void fn_ts_class(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  const char *text = (const char *)sqlite3_value_text(argv[0]);
  int len = sqlite3_value_bytes(argv[0]);
  sqlite3_result_int(ctx, sli_ts_class(text, (size_t)len, NULL));
}

/* sl_late(id, run), called on rows in (timestamp, id) order: 1 when id is
** below an id seen before in the same run (the row is out of order), else
** 0. The running maximum is the connection's (one thread at a time uses a
** connection); a new run token starts it afresh. */
typedef struct late_state {
  int64_t run;
  int64_t max;
} late_state;

static void fn_late(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  late_state *st = sqlite3_user_data(ctx);
  int64_t id = sqlite3_value_int64(argv[0]);
  int64_t run = sqlite3_value_int64(argv[1]);
  (void)argc;
  if (st->run != run) {
    st->run = run;
    st->max = INT64_MIN;
  }
  if (id < st->max) {
    sqlite3_result_int(ctx, 1);
    return;
  }
  st->max = id;
  sqlite3_result_int(ctx, 0);
}

int sli_register_functions(sqlite3 *db) {
  int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
  int rc = sqlite3_create_function(db, "sl_instant", 1, flags, NULL,
                                   fn_instant, NULL, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_create_function(db, "sl_ts_class", 1, flags, NULL,
                                 fn_ts_class, NULL, NULL);
  if (rc == SQLITE_OK) {
    late_state *st = calloc(1, sizeof *st);
    /* Not deterministic: its answer depends on the rows before. */
    rc = st ? sqlite3_create_function_v2(db, "sl_late", 2,
                                         SQLITE_UTF8 | SQLITE_INNOCUOUS, st,
                                         fn_late, NULL, NULL, free)
            : SQLITE_NOMEM;
  }
  return rc;
}
