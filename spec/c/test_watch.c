/*
** test_watch.c -- sl_watch (core/sl_watch.c), the sleep of a follower:
** it wakes for a commit by another connection to the store, for its -wal
** made or written, for the file replaced or removed; not for a neighbour
** in the same folder nor for a reader; it times out when nothing comes,
** and names a folder it cannot watch; one watch over several stores. And
** filter.after_id and through_id, the follower's marks, with
** sl_store_max_id; a reader following its store replaced.
*/
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "support.h"
#include <synclua/synclua.h>

static char dir[] = "/tmp/synclua-watch-XXXXXX";

/* name in the test's folder; the text lasts until the next call but one. */
static const char *path_of(const char *name) {
  static char buf[2][256];
  static int k;
  k ^= 1;
  snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
  return buf[k];
}

static void exec_on(const char *path, const char *sql) {
  sqlite3 *db;
  CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
  CHECK_EQ_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
}

static const char insert_sql[] =
  "INSERT INTO sync_event_log (timestamp, device_id, event_type, category,"
  " severity, summary) VALUES ('2025-12-03T10:00:00+00:00',"
  " '6f1c2a3b-4d5e-4f60-8a71-000000000001', 'state_transition',"
  " 'lifecycle', 'info', 'x')";

/* A wait that returns status within `most` ms (a wake, not the timeout). */
static int wait_within(sl_watch *w, int timeout, int64_t most) {
  int64_t start = now_ms();
  int rc = sl_watch_wait(w, timeout);
  int64_t ms = now_ms() - start;
  if (ms > most) {
    fprintf(stderr, "  the wait took %lld ms\n", (long long)ms);
    return -1;
  }
  return rc;
}

static void test_wakes(int wal) {
  char db[256];
  snprintf(db, sizeof db, "%s", path_of(wal ? "wal.db" : "journal.db"));
  exec_on(db, sl_spacedrive_ddl());
  if (wal) exec_on(db, "PRAGMA journal_mode=WAL");
  sl_watch *w = NULL;
  CHECK_EQ_INT(sl_watch_new(db, &w), SL_OK);
  CHECK(sl_watch_fd(w) >= 0);
  /* Nothing yet: the time passes. */
  CHECK_EQ_INT(sl_watch_wait(w, 0), SL_DONE);
  CHECK_EQ_INT(sl_watch_wait(w, 50), SL_DONE);
  /* A commit by another connection wakes it at once. */
  exec_on(db, insert_sql);
  CHECK_EQ_INT(wait_within(w, 5000, 2000), SL_OK);
  /* What the closing connection writes after (a checkpoint, the -wal
  ** removed) may wake it again; then it is quiet. */
  int settled = 0;
  for (int i = 0; i < 20 && !settled; i++)
    settled = sl_watch_wait(w, 200) == SL_DONE;
  CHECK(settled);
  /* A reader, or another file of the folder, does not. */
  CHECK_EQ_INT(scalar_at(db, "SELECT count(*) FROM sync_event_log"), 1);
  FILE *f = fopen(path_of("notes.txt"), "w");
  CHECK(f != NULL);
  if (f) {
    fputs("x", f);
    fclose(f);
  }
  CHECK_EQ_INT(sl_watch_wait(w, 100), SL_DONE);
  /* The file replaced by a rename wakes it. */
  exec_on(path_of("other.db"), sl_spacedrive_ddl());
  CHECK_EQ_INT(rename(path_of("other.db"), db), 0);
  CHECK_EQ_INT(wait_within(w, 5000, 2000), SL_OK);
  /* And removed. */
  CHECK_EQ_INT(unlink(db), 0);
  CHECK_EQ_INT(wait_within(w, 5000, 2000), SL_OK);
  sl_watch_free(w);
}

/* One watch over stores in two folders (and a third beside the first):
** a commit to any wakes it, a neighbour's file does not. */
static void test_several(void) {
  char a[256], b[300], c[256], sub[256];
  snprintf(a, sizeof a, "%s", path_of("a.db"));
  snprintf(sub, sizeof sub, "%s", path_of("other"));
  CHECK_EQ_INT(mkdir(sub, 0700), 0);
  snprintf(b, sizeof b, "%s/b.db", sub);
  snprintf(c, sizeof c, "%s", path_of("c.db"));
  exec_on(a, sl_spacedrive_ddl());
  exec_on(b, sl_spacedrive_ddl());
  exec_on(c, sl_spacedrive_ddl());
  sl_watch *w = NULL;
  CHECK_EQ_INT(sl_watch_new(a, &w), SL_OK);
  CHECK_EQ_INT(sl_watch_add(w, b), SL_OK);
  CHECK_EQ_INT(sl_watch_add(w, c), SL_OK);
  CHECK_EQ_INT(sl_watch_wait(w, 50), SL_DONE);
  const char *each[3] = {b, c, a};
  for (int i = 0; i < 3; i++) {
    exec_on(each[i], insert_sql);
    CHECK_EQ_INT(wait_within(w, 5000, 2000), SL_OK);
    int settled = 0;
    for (int k = 0; k < 20 && !settled; k++)
      settled = sl_watch_wait(w, 200) == SL_DONE;
    CHECK(settled);
  }
  exec_on(path_of("d.db"), sl_spacedrive_ddl());
  CHECK_EQ_INT(sl_watch_wait(w, 100), SL_DONE);
  CHECK_EQ_INT(sl_watch_add(w, path_of("gone/e.db")), SL_IOERR);
  char want[300];
  snprintf(want, sizeof want, "%s: cannot watch (No such file or directory)",
           path_of("gone"));
  CHECK_EQ_STR(sl_watch_errmsg(w), want);
  /* Still watching the others. */
  exec_on(a, insert_sql);
  CHECK_EQ_INT(wait_within(w, 5000, 2000), SL_OK);
  CHECK_EQ_INT(sl_watch_add(NULL, a), SL_MISUSE);
  CHECK_EQ_INT(sl_watch_add(w, NULL), SL_MISUSE);
  sl_watch_free(w);
}

/* A reader whose WAL store is replaced by a rename reads the new file and
** every row committed to it after: it let go of the old file's -wal and
** -shm before opening the new one, which would otherwise have read
** through them and never seen a commit. */
static void test_reader_follows_replacement(void) {
  char db[256], repl[256];
  snprintf(db, sizeof db, "%s", path_of("followed.db"));
  snprintf(repl, sizeof repl, "%s", path_of("restored.db"));
  exec_on(db, sl_spacedrive_ddl());
  exec_on(db, "PRAGMA journal_mode=WAL");
  exec_on(db, insert_sql);
  exec_on(repl, sl_spacedrive_ddl());
  exec_on(repl, "PRAGMA journal_mode=WAL");
  for (int i = 0; i < 3; i++) exec_on(repl, insert_sql);
  sl_store *s = NULL;
  int64_t top = -1;
  CHECK_EQ_INT(sl_store_open(db, NULL, &s), SL_OK);
  CHECK_EQ_INT(sl_store_max_id(s, &top), SL_OK);
  CHECK_EQ_INT(top, 1);
  char before[64];
  snprintf(before, sizeof before, "%s", sl_store_identity(s));
  CHECK_EQ_INT(rename(repl, db), 0);
  CHECK_EQ_INT(sl_store_max_id(s, &top), SL_OK);
  CHECK_EQ_INT(top, 3);
  CHECK(strcmp(before, sl_store_identity(s)) != 0);
  for (int i = 0; i < 2; i++) {
    exec_on(db, insert_sql);
    CHECK_EQ_INT(sl_store_max_id(s, &top), SL_OK);
    CHECK_EQ_INT(top, 4 + i);
  }
  sl_store_release(s);
}

/* A second handle opened on a store this process already reads must not
** drop the first one's locks (closing any descriptor of a file drops all
** of a process's POSIX locks on it): another process that commits and
** closes its last connection must still see ours, and leave the -wal and
** -shm we read, so that the first handle sees the commit. */
static void test_second_handle(void) {
  char db[256];
  snprintf(db, sizeof db, "%s", path_of("shared.db"));
  exec_on(db, sl_spacedrive_ddl());
  exec_on(db, "PRAGMA journal_mode=WAL");
  exec_on(db, insert_sql);
  sl_store *a = NULL, *b = NULL;
  int64_t top = -1;
  CHECK_EQ_INT(sl_store_open(db, NULL, &a), SL_OK);
  CHECK_EQ_INT(sl_store_max_id(a, &top), SL_OK);
  CHECK_EQ_INT(top, 1);
  CHECK_EQ_INT(sl_store_open(db, NULL, &b), SL_OK);
  CHECK_EQ_INT(sl_store_max_id(b, &top), SL_OK);
  sl_store_release(b);
  for (int i = 0; i < 2; i++) {
    /* The sqlite3 tool: a process of its own, as Spacedrive is (a fork
    ** would carry this process's SQLite state over). */
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "sqlite3 '%s' \"%s\"", db, insert_sql);
    CHECK_EQ_INT(system(cmd), 0);
    CHECK_EQ_INT(sl_store_max_id(a, &top), SL_OK);
    CHECK_EQ_INT(top, 2 + i);
  }
  sl_store_release(a);
}

static void test_refusals(void) {
  sl_watch *w = NULL;
  char want[300];
  CHECK_EQ_INT(sl_watch_new(path_of("gone/sync.db"), &w), SL_IOERR);
  snprintf(want, sizeof want, "%s: cannot watch (No such file or directory)",
           path_of("gone"));
  CHECK_EQ_STR(sl_watch_errmsg(w), want);
  sl_watch_free(w);
  CHECK_EQ_INT(sl_watch_new(NULL, &w), SL_MISUSE);
  CHECK_EQ_INT(sl_watch_wait(NULL, 0), SL_MISUSE);
  CHECK_EQ_INT(sl_watch_fd(NULL), -1);
  sl_watch_free(NULL);
}

/* The follower's mark: the rows above the highest id it saw. */
static void test_after_id(void) {
  char db[256];
  snprintf(db, sizeof db, "%s", path_of("mark.db"));
  sl_store *s = NULL;
  sl_filter f;
  sl_buf got = {0};
  int64_t top = -1;
  exec_on(db, sl_spacedrive_ddl());
  CHECK_EQ_INT(sl_store_open(db, NULL, &s), SL_OK);
  CHECK_EQ_INT(sl_store_max_id(s, &top), SL_OK);
  CHECK_EQ_INT(top, 0);
  for (int i = 0; i < 3; i++) exec_on(db, insert_sql);
  CHECK_EQ_INT(sl_store_max_id(s, &top), SL_OK);
  CHECK_EQ_INT(top, 3);
  sl_filter_init(&f);
  f.after_id = 1;
  f.has_after_id = 1;
  f.ascending = 1;
  ids_of(s, &f, &got);
  CHECK_EQ_STR(got.data, "2,3,");
  f.after_id = 3;
  ids_of(s, &f, &got);
  CHECK_EQ_STR(got.data, "");
  /* The span a look took: a row committed after its max_id waits. */
  exec_on(db, insert_sql);
  f.after_id = 1;
  f.through_id = 3;
  f.has_through_id = 1;
  ids_of(s, &f, &got);
  CHECK_EQ_STR(got.data, "2,3,");
  f.after_id = 3;
  f.through_id = 4;
  ids_of(s, &f, &got);
  CHECK_EQ_STR(got.data, "4,");
  f.through_id = 3;
  ids_of(s, &f, &got);
  CHECK_EQ_STR(got.data, "");
  /* Rows in other timestamp forms are read through temp.sl_foreign, whose
  ** id must not be taken for the table's. */
  exec_on(db, "INSERT INTO sync_event_log (timestamp, device_id, event_type,"
              " category, severity, summary) VALUES ('2025-12-03T10:00:01Z',"
              " '6f1c2a3b-4d5e-4f60-8a71-000000000001', 'state_transition',"
              " 'lifecycle', 'info', 'z')");
  f.after_id = 3;
  f.through_id = 5;
  ids_of(s, &f, &got);
  CHECK_EQ_STR(got.data, "4,5,");
  f.ascending = 0;
  ids_of(s, &f, &got);
  CHECK_EQ_STR(got.data, "5,4,");
  CHECK_EQ_INT(sl_store_max_id(s, NULL), SL_MISUSE);
  sl_buf_free(&got);
  sl_store_release(s);
}

int main(void) {
  if (!mkdtemp(dir)) return 2;
  test_wakes(0);
  test_wakes(1);
  test_refusals();
  test_after_id();
  test_several();
  test_reader_follows_replacement();
  test_second_handle();
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
  return check_report("watch");
}
