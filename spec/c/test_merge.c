/*
** test_merge.c -- the k-way merge behind the timeline: several stores'
** cursors as one stream, ordered by skew-corrected instant, ties kept in
** source order and then each source's own (ascending id either way), rows
** of unknown time last, cursors owned and closed.
*/
#include <sqlite3.h>
#include <stdlib.h>

#include "check.h"
#include <synclua/synclua.h>

static char dir[] = "/tmp/synclua-merge-XXXXXX";

/* A store with the given (timestamp, summary) rows, written as another
** program would (raw SQL), so timestamps can be in any form. */
static sl_store *store_with(const char *name, const char *const *rows,
                            size_t n) {
  char path[256], sql[512];
  sl_store *s;
  sl_open_opts o;
  memset(&o, 0, sizeof o);
  o.mode = SL_OPEN_WRITE;
  snprintf(path, sizeof path, "%s/%s.db", dir, name);
  if (sl_store_open(path, &o, &s) != SL_OK) return NULL;
  sl_store_close(s);
  sl_store_release(s);
  sqlite3 *db;
  sqlite3_open(path, &db);
  for (size_t i = 0; i < n; i += 2) {
    snprintf(sql, sizeof sql,
             "INSERT INTO sync_event_log (timestamp, device_id, event_type,"
             " category, severity, summary) VALUES ('%s', '%s', "
             "'state_transition', 'lifecycle', 'info', '%s')",
             rows[i], name, rows[i + 1]);
    sqlite3_exec(db, sql, NULL, NULL, NULL);
  }
  sqlite3_close(db);
  o.mode = SL_OPEN_READ;
  sl_store_open(path, &o, &s);
  return s;
}

/* Run a merge of the three stores and write "source:summary ..." into out. */
static void merged(sl_store **stores, const int64_t *offsets, int descending,
                   char *out, size_t size) {
  sl_cursor *cursors[3];
  sl_filter f;
  sl_filter_init(&f);
  f.ascending = !descending;
  for (int i = 0; i < 3; i++) sl_query(stores[i], &f, &cursors[i]);
  sl_merge *m;
  CHECK_EQ_INT(sl_merge_new(cursors, offsets, 3, descending, &m), SL_OK);
  size_t src, used = 0;
  const sl_event *ev;
  int64_t adjusted;
  out[0] = '\0';
  while (sl_merge_next(m, &src, &ev, &adjusted) == SL_ROW)
    used += (size_t)snprintf(out + used, size - used, "%s%zu:%s",
                             used ? " " : "", src, ev->summary);
  CHECK_EQ_INT(sl_merge_next(m, &src, &ev, &adjusted), SL_DONE);
  sl_merge_free(m);
}

int main(void) {
  if (!mkdtemp(dir)) return 2;
  static const char *const a[] = {
    "2025-12-03T10:00:00+00:00", "a1", "2025-12-03T10:00:02+00:00", "a2",
    "2025-12-03T10:00:04+00:00", "a3"};
  /* B writes other forms: Z, an offset, a short fraction, garbage. */
  static const char *const b[] = {
    "2025-12-03T10:00:01Z", "b1", "2025-12-03T12:00:03+02:00", "b2",
    "2025-12-03T10:00:04.5+00:00", "b3", "yesterday", "b4"};
  static const char *const c[] = {
    "2025-12-03T10:00:02+00:00", "c1", "2025-12-03T10:00:05+00:00", "c2"};
  sl_store *stores[3] = {store_with("a", a, 6), store_with("b", b, 8),
                         store_with("c", c, 4)};
  char out[512];

  /* By instant; a tie (a2 and c1 at 10:00:02) keeps source order; the row
  ** of unknown time comes last. */
  merged(stores, NULL, 0, out, sizeof out);
  CHECK_EQ_STR(out, "0:a1 1:b1 0:a2 2:c1 1:b2 0:a3 1:b3 2:c2 1:b4");
  merged(stores, NULL, 1, out, sizeof out);
  CHECK_EQ_STR(out, "2:c2 1:b3 0:a3 1:b2 0:a2 2:c1 1:b1 0:a1 1:b4");

  /* Ties within a source too: the documented rule is source order, then
  ** row id -- ascending in both directions, as each cursor gives a tie
  ** (newest first, Spacedrive's order: spacedrive-compat.md 10.3). */
  static const char *const d[] = {
    "2025-12-03T10:00:02+00:00", "d1", "2025-12-03T10:00:02+00:00", "d2",
    "2025-12-03T10:00:03+00:00", "d3"};
  static const char *const e[] = {
    "2025-12-03T10:00:02+00:00", "e1", "2025-12-03T10:00:02Z", "e2"};
  sl_store *tied[3] = {store_with("d", d, 6), store_with("e", e, 4),
                       stores[0]};
  merged(tied, NULL, 0, out, sizeof out);
  CHECK_EQ_STR(out, "2:a1 0:d1 0:d2 1:e1 1:e2 2:a2 0:d3 2:a3");
  merged(tied, NULL, 1, out, sizeof out);
  CHECK_EQ_STR(out, "2:a3 0:d3 0:d1 0:d2 1:e1 1:e2 2:a2 2:a1");
  sl_store_release(tied[0]);
  sl_store_release(tied[1]);

  /* B's clock runs 3 s fast: its rows move 3 s earlier, b1 to 09:59:58,
  ** b2 to 10:00:00 (a tie with a1, which comes first), b3 to 10:00:01.5. */
  int64_t offsets[3] = {0, 3 * SL_NS_PER_SEC, 0};
  merged(stores, offsets, 0, out, sizeof out);
  CHECK_EQ_STR(out, "1:b1 0:a1 1:b2 1:b3 0:a2 2:c1 0:a3 2:c2 1:b4");

  /* Adjusted instants are reported; no sources is an empty stream. */
  sl_merge *m;
  CHECK_EQ_INT(sl_merge_new(NULL, NULL, 0, 0, &m), SL_OK);
  CHECK(m != NULL);
  const sl_event *ev;
  CHECK_EQ_INT(sl_merge_next(m, NULL, &ev, NULL), SL_DONE);
  sl_merge_free(m);
  sl_merge_free(NULL);
  CHECK_EQ_INT(sl_merge_next(NULL, NULL, &ev, NULL), SL_MISUSE);

  sl_cursor *one[1];
  sl_filter f;
  sl_filter_init(&f);
  f.ascending = 1;
  sl_query(stores[1], &f, &one[0]);
  CHECK_EQ_INT(sl_merge_new(one, offsets + 1, 1, 0, &m), SL_OK);
  size_t src;
  int64_t adjusted;
  CHECK_EQ_INT(sl_merge_next(m, &src, &ev, &adjusted), SL_ROW);
  CHECK_EQ_STR(ev->summary, "b1");
  int64_t t;
  sl_time_parse_rfc3339("2025-12-03T09:59:58Z", 20, &t);
  CHECK_EQ_INT(adjusted, t);
  sl_merge_free(m); /* closes the cursor mid-stream */

  for (int i = 0; i < 3; i++) sl_store_release(stores[i]);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
  return check_report("merge");
}
