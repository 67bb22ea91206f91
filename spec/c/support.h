/*
** support.h -- what several C test programs need besides assertions: the
** monotonic clock and a pause, one integer read from a store's file by a connection of the
** test's own (not the library's), and the ids a query hands out.
*/
#ifndef SUPPORT_H
#define SUPPORT_H

#include <sqlite3.h>
#include <stdio.h>
#include <stdint.h>
#include <time.h>

#include <synclua/synclua.h>

/* Milliseconds on the monotonic clock. */
static inline int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* The first column of the first row of `sql` on the file at `path`,
** opened read-only; -1 when it cannot be read. */
static inline int64_t scalar_at(const char *path, const char *sql) {
  sqlite3 *db;
  sqlite3_stmt *st;
  int64_t n = -1;
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) ==
        SQLITE_OK &&
      sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
    if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return n;
}

/* b made "" -- allocated and terminated -- whatever it held: appending
** nothing leaves an earlier text in place. */
static inline void buf_empty(sl_buf *b) {
  sl_buf_reset(b);
  if (!b->data) {
    sl_buf_append(b, "", 1);
    b->len = 0;
  }
}

/* The ids a query hands out, as "id,id,...", or the store's message. */
static inline void ids_of(sl_store *s, const sl_filter *f, sl_buf *out) {
  sl_cursor *c = NULL;
  const sl_event *ev;
  char num[24];
  buf_empty(out);
  if (sl_query(s, f, &c) != SL_OK) {
    sl_buf_puts(out, sl_store_errmsg(s));
    return;
  }
  while (sl_cursor_next(c, &ev) == SL_ROW) {
    snprintf(num, sizeof num, "%lld,", (long long)ev->id);
    sl_buf_puts(out, num);
  }
  sl_cursor_close(c);
}

#endif
