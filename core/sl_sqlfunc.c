/*
** sl_sqlfunc.c -- synclua's SQL functions, registered on each connection
** the core opens (never stored in the file, so Spacedrive can still open
** it): sl_instant(ts) gives a row's instant in nanoseconds (NULL when the
** text is not RFC 3339) so filters and ordering work on time, not text;
** sl_ts_class(ts) tells whether text order can stand in for time order.
*/
#include <string.h>

#include "sli.h"

/* Canonical means exactly what sl_time_format writes: 'T', "+00:00", and a
** fraction of 0, 3, 6 or 9 digits whose last three are not all zero (else a
** shorter form would have been written). */
int sli_ts_class(const char *text, size_t len, int64_t *instant) {
  int64_t t;
  if (!text || sl_time_parse_rfc3339(text, len, &t) != SL_OK) return 2;
  if (instant) *instant = t;
  if (len < 25 || text[10] != 'T' || memcmp(text + len - 6, "+00:00", 6))
    return 1;
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

int sli_register_functions(sqlite3 *db) {
  int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
  int rc = sqlite3_create_function(db, "sl_instant", 1, flags, NULL,
                                   fn_instant, NULL, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_create_function(db, "sl_ts_class", 1, flags, NULL,
                                 fn_ts_class, NULL, NULL);
  return rc;
}
