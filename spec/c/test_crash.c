/*
** test_crash.c -- durability under SIGKILL. A child process logs events
** and, after each flush() returns, tells the parent over a pipe how many
** it has flushed; the parent kills it at a random moment, 20 times on the
** same file. Every time the database must pass PRAGMA integrity_check and
** hold every event that a flush acknowledged.
*/
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include <synclua/synclua.h>

#define ROUNDS 20
#define ROUND_SPAN 10000000

static void child(const char *path, int round, int out) {
  sl_store *s;
  sl_open_opts o;
  memset(&o, 0, sizeof o);
  o.mode = SL_OPEN_WRITE;
  o.device_id = "11111111-2222-3333-4444-555555555555";
  if (sl_store_open(path, &o, &s) != SL_OK) _exit(3);
  char summary[64];
  for (int64_t seq = 1;;) {
    /* A burst, then a flush, so kills land in appends, commits and
    ** checkpoints alike. */
    int burst = 1 + rand() % 200;
    for (int i = 0; i < burst; i++, seq++) {
      sl_event ev;
      memset(&ev, 0, sizeof ev);
      snprintf(summary, sizeof summary, "round %d event %lld", round,
               (long long)seq);
      ev.event_type = "batch_ingestion";
      ev.summary = summary;
      ev.record_count = (int64_t)round * ROUND_SPAN + seq;
      ev.has_record_count = 1;
      if (sl_store_append(s, &ev) != SL_OK) seq--; /* full: try again */
    }
    if (sl_store_flush(s) != SL_OK) _exit(4);
    int64_t acked = seq - 1;
    if (write(out, &acked, sizeof acked) != sizeof acked) _exit(5);
  }
}

static int64_t scalar(sqlite3 *db, const char *sql) {
  sqlite3_stmt *st;
  int64_t v = -1;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
    if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
  }
  return v;
}

int main(void) {
  char dir[] = "/tmp/synclua-crash-XXXXXX";
  char path[128];
  if (!mkdtemp(dir)) return 2;
  snprintf(path, sizeof path, "%s/sync.db", dir);
  srand((unsigned)time(NULL));

  int64_t total = 0;
  for (int round = 1; round <= ROUNDS; round++) {
    int fds[2];
    if (pipe(fds) != 0) return 2;
    pid_t pid = fork();
    if (pid == 0) {
      close(fds[0]);
      srand((unsigned)(time(NULL) ^ (round * 7919)));
      child(path, round, fds[1]);
    }
    close(fds[1]);
    struct timespec pause = {0, (20 + rand() % 180) * 1000000L};
    nanosleep(&pause, NULL);
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    int64_t acked = 0, v;
    while (read(fds[0], &v, sizeof v) == sizeof v) acked = v;
    close(fds[0]);
    total += acked;

    sqlite3 *db;
    CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    const char *verdict = "(none)";
    char result[64] = "";
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) ==
        SQLITE_OK) {
      if (sqlite3_step(st) == SQLITE_ROW)
        snprintf(result, sizeof result, "%s", sqlite3_column_text(st, 0));
      sqlite3_finalize(st);
      verdict = result;
    }
    CHECK_EQ_STR(verdict, "ok");
    char sql[200];
    snprintf(sql, sizeof sql,
             "SELECT count(DISTINCT record_count) FROM sync_event_log "
             "WHERE record_count BETWEEN %lld AND %lld",
             (long long)round * ROUND_SPAN + 1,
             (long long)round * ROUND_SPAN + acked);
    int64_t present = scalar(db, sql);
    /* Killed before the store made its table: nothing was acknowledged. */
    if (scalar(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                   "AND name = 'sync_event_log'") == 0)
      present = 0;
    if (present != acked)
      fprintf(stderr, "round %d: %lld of %lld acknowledged events present\n",
              round, (long long)present, (long long)acked);
    CHECK_EQ_INT(present, acked);
    sqlite3_close(db);
  }
  CHECK(total > 0); /* the kills did not all land before the first flush */
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
  return check_report("crash");
}
