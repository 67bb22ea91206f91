/*
** test_file_faults.c -- the writer when its sync.db is replaced, deleted
** or moved away while it logs: every event flush acknowledged is in the
** file at the path afterwards, the other file's rows are intact, our -wal
** and -shm never reach the new file, and a sync_error says what happened.
*/
#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "support.h"
#include "vfs_shim.h"
#include <synclua/synclua.h>

#define DEVICE "11111111-2222-3333-4444-555555555555"
#define OTHER  "99999999-8888-7777-6666-555555555555"
#define OTHER_ROWS 466

static char dir[] = "/tmp/synclua-faults-XXXXXX";

/* dir/name, in one of a few rotating buffers (tests name two at once). */
static const char *at(const char *name) {
  static char buf[4][512];
  static int next;
  char *b = buf[next++ % 4];
  snprintf(b, sizeof buf[0], "%s/%s", dir, name);
  return b;
}


static sl_event event(const char *summary) {
  sl_event ev;
  memset(&ev, 0, sizeof ev);
  ev.event_type = "state_transition";
  ev.summary = summary;
  return ev;
}

static sl_store *open_writer(const char *path) {
  sl_store *s = NULL;
  sl_open_opts o;
  memset(&o, 0, sizeof o);
  o.mode = SL_OPEN_WRITE;
  o.device_id = DEVICE;
  CHECK_EQ_INT(sl_store_open(path, &o, &s), SL_OK);
  return s;
}

/* Append n events summarised "<tag> <i>"; how many were queued. */
static int append_n(sl_store *s, const char *tag, int n) {
  int ok = 0;
  char summary[64];
  for (int i = 0; i < n; i++) {
    snprintf(summary, sizeof summary, "%s %d", tag, i);
    sl_event ev = event(summary);
    ok += sl_store_append(s, &ev) == SL_OK;
  }
  return ok;
}

/* Another device's sync.db at path, OTHER_ROWS rows, closed (checkpointed:
** a file as a restore brings it). */
static void make_other(const char *path) {
  sl_store *s;
  sl_open_opts o;
  memset(&o, 0, sizeof o);
  o.mode = SL_OPEN_WRITE;
  o.device_id = OTHER;
  CHECK_EQ_INT(sl_store_open(path, &o, &s), SL_OK);
  CHECK_EQ_INT(append_n(s, "theirs", OTHER_ROWS), OTHER_ROWS);
  CHECK_EQ_INT(sl_store_close(s), SL_OK);
  sl_store_release(s);
}


static int64_t rows_of(const char *path, const char *device) {
  char sql[160];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM sync_event_log WHERE "
           "device_id = '%s' AND event_type = 'state_transition'", device);
  return scalar_at(path, sql);
}

static int64_t reports_at(const char *path, const char *reason) {
  char sql[200];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM sync_event_log WHERE "
           "event_type = 'sync_error' AND json_extract(details, '$.reason')"
           " = '%s'", reason);
  return scalar_at(path, sql);
}

static int exists(const char *path) {
  struct stat st;
  return lstat(path, &st) == 0;
}

static ino_t inode(const char *path) {
  struct stat st;
  return lstat(path, &st) == 0 ? st.st_ino : 0;
}

static void remove_store(const char *path) {
  char name[600];
  unlink(path);
  snprintf(name, sizeof name, "%s-wal", path);
  unlink(name);
  snprintf(name, sizeof name, "%s-shm", path);
  unlink(name);
}

/*
** A restore: another sync.db is moved into place while we log. Our
** events after it land in it, beside its own rows, which are untouched;
** one sync_error says the file was replaced; what we wrote before stays
** with the old file.
*/
static void test_replaced(void) {
  const char *path = at("replaced.db"), *other = at("restore.db");
  sl_store *s = open_writer(path);
  CHECK_EQ_INT(append_n(s, "before", 50), 50);
  CHECK_EQ_INT(sl_store_flush(s), SL_OK);
  make_other(other);
  CHECK_EQ_INT(rename(other, path), 0);
  CHECK_EQ_INT(append_n(s, "after", 80), 80);
  CHECK_EQ_INT(sl_store_flush(s), SL_OK);

  sl_stats st;
  sl_store_stats(s, &st);
  CHECK_EQ_INT(st.written, 130);
  CHECK_EQ_INT(st.failed, 0);
  /* The store's own queries read the file now at the path. */
  sl_filter f;
  memset(&f, 0, sizeof f);
  f.limit = -1;
  int64_t n = -1;
  CHECK_EQ_INT(sl_count(s, &f, &n), SL_OK);
  CHECK_EQ_INT(n, OTHER_ROWS + 80 + 1);
  CHECK_EQ_INT(sl_store_close(s), SL_OK);
  sl_store_release(s);

  CHECK_EQ_INT(rows_of(path, OTHER), OTHER_ROWS);
  CHECK_EQ_INT(scalar_at(path, "SELECT count(*) FROM sync_event_log WHERE "
                               "summary LIKE 'theirs %' AND device_id = '"
                               OTHER "'"), OTHER_ROWS);
  CHECK_EQ_INT(rows_of(path, DEVICE), 80);
  CHECK_EQ_INT(scalar_at(path, "SELECT count(*) FROM sync_event_log WHERE "
                               "summary LIKE 'before %'"), 0);
  CHECK_EQ_INT(reports_at(path, "replaced"), 1);
  CHECK_EQ_INT(scalar_at(path, "SELECT count(*) FROM sync_event_log"),
               OTHER_ROWS + 80 + 1);
  CHECK_EQ_INT(scalar_at(path, "SELECT count(*) FROM pragma_integrity_check"
                               " WHERE integrity_check = 'ok'"), 1);
  remove_store(path);
}

/*
** Deleted while logging: the events after it are written to a sync.db
** made anew at the path, never into the deleted file (whose -wal and -shm
** are taken away with it), and flush says so only once they are there.
*/
static void test_deleted(void) {
  const char *path = at("deleted.db");
  char wal[600], shm[600];
  snprintf(wal, sizeof wal, "%s-wal", path);
  snprintf(shm, sizeof shm, "%s-shm", path);
  sl_store *s = open_writer(path);
  CHECK_EQ_INT(append_n(s, "before", 20), 20);
  CHECK_EQ_INT(sl_store_flush(s), SL_OK);
  ino_t old_wal = inode(wal);
  CHECK(old_wal != 0);
  CHECK_EQ_INT(unlink(path), 0);
  CHECK_EQ_INT(append_n(s, "after", 80), 80);
  CHECK_EQ_INT(sl_store_flush(s), SL_OK);
  CHECK(exists(path));
  CHECK(inode(wal) != old_wal);
  CHECK_EQ_INT(rows_of(path, DEVICE), 80);
  CHECK_EQ_INT(reports_at(path, "deleted"), 1);
  CHECK_EQ_INT(scalar_at(path, "SELECT json_extract(details, '$.path') = '"
                               "' || (SELECT file FROM pragma_database_list"
                               " WHERE name = 'main') FROM sync_event_log "
                               "WHERE event_type = 'sync_error'"), 1);
  CHECK_EQ_INT(sl_store_close(s), SL_OK);
  sl_store_release(s);
  CHECK_EQ_INT(scalar_at(path, "SELECT count(*) FROM sync_event_log"), 81);
  remove_store(path);
}

/*
** A replacement while the writer is idle: before any other program opens
** the new file, the writer has let go of the old one and taken its -wal
** and -shm away, so the next opener cannot apply our WAL over the new
** file's rows (the original fault destroyed all 466).
*/
static void test_replaced_while_idle(void) {
  const char *path = at("idle.db"), *other = at("idle-restore.db");
  char wal[600];
  snprintf(wal, sizeof wal, "%s-wal", path);
  sl_store *s = open_writer(path);
  CHECK_EQ_INT(append_n(s, "before", 30), 30);
  CHECK_EQ_INT(sl_store_flush(s), SL_OK);
  ino_t ours = inode(wal);
  CHECK(ours != 0);
  make_other(other);
  CHECK_EQ_INT(rename(other, path), 0);
  /* The idle writer looks at least every 64 ms. */
  int waited = 0;
  while (inode(wal) == ours && waited++ < 10000) sleep_ms(1);
  CHECK(inode(wal) != ours);
  CHECK_EQ_INT(scalar_at(path, "SELECT count(*) FROM sync_event_log"),
               OTHER_ROWS);
  CHECK_EQ_INT(rows_of(path, OTHER), OTHER_ROWS);
  /* Our next events follow. */
  CHECK_EQ_INT(append_n(s, "after", 5), 5);
  CHECK_EQ_INT(sl_store_flush(s), SL_OK);
  CHECK_EQ_INT(sl_store_close(s), SL_OK);
  sl_store_release(s);
  CHECK_EQ_INT(rows_of(path, OTHER), OTHER_ROWS);
  CHECK_EQ_INT(rows_of(path, DEVICE), 5);
  CHECK_EQ_INT(reports_at(path, "replaced"), 1);
  remove_store(path);
}

/*
** Moved away (renamed): the old file keeps everything written to it --
** its WAL is checkpointed into it through the old handle, which reaches
** nothing else -- and the path gets a new file for what comes after.
*/
static void test_moved_away(void) {
  const char *path = at("moved.db"), *away = at("moved-away.db");
  sl_store *s = open_writer(path);
  CHECK_EQ_INT(append_n(s, "before", 40), 40);
  CHECK_EQ_INT(sl_store_flush(s), SL_OK);
  CHECK_EQ_INT(rename(path, away), 0);
  CHECK_EQ_INT(append_n(s, "after", 10), 10);
  CHECK_EQ_INT(sl_store_flush(s), SL_OK);
  CHECK_EQ_INT(sl_store_close(s), SL_OK);
  sl_store_release(s);
  CHECK_EQ_INT(rows_of(away, DEVICE), 40);
  CHECK_EQ_INT(rows_of(path, DEVICE), 10);
  CHECK_EQ_INT(reports_at(path, "deleted"), 1);
  remove_store(path);
  remove_store(away);
}

/*
** A store's last connection to a file that was replaced closes without
** deleting the -wal at the path, which is the new file's: here another
** program is writing to the new file, and its -wal must survive our close.
** (The store's query connection read the old file, so it holds it open.)
*/
static void test_close_keeps_the_new_wal(void) {
  const char *path = at("close.db"), *other = at("close-restore.db");
  char wal[600];
  snprintf(wal, sizeof wal, "%s-wal", path);
  sl_store *s = open_writer(path);
  CHECK_EQ_INT(append_n(s, "before", 10), 10);
  CHECK_EQ_INT(sl_store_flush(s), SL_OK);
  sl_filter f;
  memset(&f, 0, sizeof f);
  f.limit = -1;
  int64_t n = -1;
  CHECK_EQ_INT(sl_count(s, &f, &n), SL_OK);
  CHECK_EQ_INT(n, 10);
  make_other(other);
  CHECK_EQ_INT(rename(other, path), 0);
  CHECK_EQ_INT(append_n(s, "after", 10), 10);
  CHECK_EQ_INT(sl_store_flush(s), SL_OK);

  sqlite3 *db;                 /* another program on the new file */
  CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  CHECK_EQ_INT(sqlite3_exec(db, "INSERT INTO sync_event_log (timestamp,"
                                " device_id, event_type, category, severity,"
                                " summary) VALUES ('2026-01-01T00:00:00+00:"
                                "00', 'x', 'sync_error', 'error', 'error', "
                                "'foreign')", NULL, NULL, NULL), SQLITE_OK);
  ino_t theirs = inode(wal);
  CHECK(theirs != 0);
  CHECK_EQ_INT(sl_store_close(s), SL_OK);
  sl_store_release(s);         /* the last of ours on the old file */
  CHECK_EQ_INT(inode(wal), theirs);
  sqlite3_stmt *st;
  n = -1;
  CHECK_EQ_INT(sqlite3_prepare_v2(db, "SELECT count(*) FROM sync_event_log",
                                  -1, &st, NULL), SQLITE_OK);
  if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  CHECK_EQ_INT(n, OTHER_ROWS + 10 + 1 + 1);
  sqlite3_close(db);
  CHECK_EQ_INT(scalar_at(path, "SELECT count(*) FROM sync_event_log"),
               OTHER_ROWS + 10 + 1 + 1);
  remove_store(path);
}

/*
** The path holds something that is not a database for a while: the batch
** waits at the head of the queue (flush with a deadline times out) and
** goes into the sync.db that is put there next.
*/
static void test_replaced_by_garbage(void) {
  const char *path = at("garbage.db"), *junk = at("junk"),
             *other = at("garbage-restore.db");
  sl_store *s = open_writer(path);
  CHECK_EQ_INT(append_n(s, "before", 5), 5);
  CHECK_EQ_INT(sl_store_flush(s), SL_OK);
  FILE *f = fopen(junk, "w");
  CHECK(f != NULL);
  if (f) {
    for (int i = 0; i < 200; i++) fputs("not a database at all\n", f);
    fclose(f);
  }
  CHECK_EQ_INT(rename(junk, path), 0);
  CHECK_EQ_INT(append_n(s, "waiting", 7), 7);
  CHECK_EQ_INT(sl_store_flush_within(s, 200 * INT64_C(1000000)), SL_TIMEOUT);
  sl_stats st;
  sl_store_stats(s, &st);
  CHECK(st.retries >= 1);
  CHECK_EQ_INT(st.failed, 0);
  make_other(other);
  CHECK_EQ_INT(rename(other, path), 0);
  CHECK_EQ_INT(sl_store_flush(s), SL_OK);
  CHECK_EQ_INT(sl_store_close(s), SL_OK);
  sl_store_release(s);
  CHECK_EQ_INT(rows_of(path, OTHER), OTHER_ROWS);
  CHECK_EQ_INT(rows_of(path, DEVICE), 7);
  CHECK_EQ_INT(reports_at(path, "replaced"), 1);
  remove_store(path);
}

/* The restore of test_replaced_mid_commit, done from inside the writer's
** first write to a -wal once armed. */
static char swap_from[600], swap_to[600];
static int swap_armed;

static int swap_mid_commit(const char *name) {
  size_t n = strlen(name);
  if (n > 4 && strcmp(name + n - 4, "-wal") == 0 &&
      __atomic_exchange_n(&swap_armed, 0, __ATOMIC_ACQ_REL))
    rename(swap_from, swap_to);
  return SQLITE_OK;
}

/*
** Replaced in the middle of a commit: the batch lands in the old file,
** which is then no longer at the path, so it is written again to the new
** one before flush may say it is written.
*/
static void test_replaced_mid_commit(void) {
  const char *path = at("midway.db"), *other = at("midway-restore.db");
  make_other(other);
  vfs_shim_install(swap_mid_commit);
  sl_store *s = open_writer(path);
  CHECK_EQ_INT(append_n(s, "before", 10), 10);
  CHECK_EQ_INT(sl_store_flush(s), SL_OK);
  snprintf(swap_from, sizeof swap_from, "%s", other);
  snprintf(swap_to, sizeof swap_to, "%s", path);
  __atomic_store_n(&swap_armed, 1, __ATOMIC_RELEASE);
  CHECK_EQ_INT(append_n(s, "after", 25), 25);
  CHECK_EQ_INT(sl_store_flush(s), SL_OK);
  CHECK_EQ_INT(__atomic_load_n(&swap_armed, __ATOMIC_ACQUIRE), 0);
  sl_stats st;
  sl_store_stats(s, &st);
  CHECK_EQ_INT(st.written, 35);
  CHECK_EQ_INT(st.failed, 0);
  CHECK_EQ_INT(sl_store_close(s), SL_OK);
  sl_store_release(s);
  vfs_shim_remove();
  CHECK_EQ_INT(rows_of(path, OTHER), OTHER_ROWS);
  CHECK_EQ_INT(rows_of(path, DEVICE), 25);
  CHECK_EQ_INT(reports_at(path, "replaced"), 1);
  remove_store(path);
}

/*
** Given up on: a batch that cannot reach any file within the budget is
** failed, and flush says which file and why.
*/
static void test_gone_for_good(void) {
  char sub[600], path[700], msg[900];
  snprintf(sub, sizeof sub, "%s/sub", dir);
  snprintf(path, sizeof path, "%s/sync.db", sub);
  CHECK_EQ_INT(mkdir(sub, 0700), 0);
  sl_store *s;
  sl_open_opts o;
  memset(&o, 0, sizeof o);
  o.mode = SL_OPEN_WRITE;
  o.device_id = DEVICE;
  o.retry_budget = 100 * INT64_C(1000000);
  CHECK_EQ_INT(sl_store_open(sub, &o, &s), SL_OK);
  remove_store(path);
  CHECK_EQ_INT(rmdir(sub), 0);
  CHECK_EQ_INT(append_n(s, "lost", 3), 3);
  CHECK_EQ_INT(sl_store_flush(s), SL_IOERR);
  snprintf(msg, sizeof msg, "%s: events could not be written (ioerr: "
           "unable to open database file)", path);
  CHECK_EQ_STR(sl_thread_errmsg(), msg);
  sl_stats st;
  sl_store_stats(s, &st);
  CHECK_EQ_INT(st.failed, 3);
  CHECK_EQ_INT(st.written, 0);
  CHECK_EQ_INT(sl_store_close(s), SL_OK);
  sl_store_release(s);
}

/* The whole file, for comparing before and after. */
static char *slurp(const char *path, long *size) {
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  *size = -1;
  if (f && fseek(f, 0, SEEK_END) == 0 && (*size = ftell(f)) >= 0 &&
      fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)*size + 1)) &&
      fread(buf, 1, (size_t)*size, f) != (size_t)*size) {
    free(buf);
    buf = NULL;
  }
  if (f) fclose(f);
  return buf;
}

/*
** A WAL-mode sync.db where no -shm can be made (a folder this process may
** not write; here the -shm's name links into a folder that does not
** exist, as root can write anywhere): read as it stands (immutable=1),
** every row there, the file not changed by a byte.
*/
static void test_read_only_folder(void) {
  const char *path = at("readonly.db");
  char shm[600];
  snprintf(shm, sizeof shm, "%s-shm", path);
  make_other(path);
  CHECK_EQ_INT(symlink("/nonexistent/synclua-shm", shm), 0);
  long before_size, after_size;
  char *before = slurp(path, &before_size);
  sl_store *s = NULL;
  sl_open_opts o;
  memset(&o, 0, sizeof o);
  o.mode = SL_OPEN_READ;
  CHECK_EQ_INT(sl_store_open(path, &o, &s), SL_OK);
  CHECK_EQ_INT(sl_store_immutable(s), 1);
  sl_filter f;
  memset(&f, 0, sizeof f);
  f.limit = -1;
  int64_t n = -1;
  CHECK_EQ_INT(sl_count(s, &f, &n), SL_OK);
  CHECK_EQ_INT(n, OTHER_ROWS);
  CHECK_EQ_INT(sl_store_close(s), SL_OK);
  sl_store_release(s);
  char *after = slurp(path, &after_size);
  CHECK(before && after);
  CHECK_EQ_INT(after_size, before_size);
  CHECK(before && after && memcmp(before, after, (size_t)before_size) == 0);
  char wal[600];
  snprintf(wal, sizeof wal, "%s-wal", path);
  CHECK(!exists(wal));
  free(before);
  free(after);
  remove_store(path);
}

int main(void) {
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  test_replaced();
  test_deleted();
  test_replaced_while_idle();
  test_moved_away();
  test_close_keeps_the_new_wal();
  test_replaced_by_garbage();
  test_replaced_mid_commit();
  test_gone_for_good();
  test_read_only_folder();
  rmdir(dir);
  return check_report("file_faults");
}
