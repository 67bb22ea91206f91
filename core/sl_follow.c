/*
** sl_follow.c -- knowing whether a connection's file is still the one at
** its path, and letting go of one that is not without harming the file
** that took its place.
**
** A sync.db can be replaced (a restore moves a copy into place) or deleted
** while we hold it open. SQLite then goes on reading and writing the old
** file through its descriptors, and its -wal and -shm stay at the path
** under the names the new file's would have: the next opener of the new
** file takes our -wal for its own and applies our pages over its rows.
** So a connection whose file has moved is checkpointed -- which reaches
** only the old file, so a file moved away keeps what was written to it --
** and closed with its -wal kept (SQLITE_FCNTL_PERSIST_WAL; SQLite's own
** close already declines to checkpoint and delete a moved file's, and
** this keeps it so), and the -wal and -shm at the path are then removed
** when they are the very files this connection had open: the new file's
** own are left alone.
*/
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "sli.h"

static const char *const suffix[3] = {"", "-wal", "-shm"};

int sli_stat_beside(const char *path, const char *sfx, char *name,
                    struct stat *st) {
  if (snprintf(name, PATH_MAX, "%s%s", path, sfx) >= PATH_MAX) {
    errno = ENAMETOOLONG;
    return -1;
  }
  return lstat(name, st);
}

/* Has db its WAL open (and so its -shm: both are opened at its first read
** in WAL mode, and stay open until it closes)? */
static int wal_open(sqlite3 *db) {
  sqlite3_file *wal = NULL;
  return sqlite3_file_control(db, "main", SQLITE_FCNTL_JOURNAL_POINTER,
                              &wal) == SQLITE_OK &&
         wal && wal->pMethods;
}

void sli_files_note(sqlite3 *db, sli_files *f) {
  /* SQLite's name for the file: the path with its links resolved, which
  ** is where it puts the -wal and -shm. */
  const char *path = sqlite3_db_filename(db, "main");
  char name[PATH_MAX];
  struct stat st;
  /* The -wal and -shm only once db holds them open: until then the files
  ** by those names may be gone by the time it opens its own, and their
  ** inode numbers given to others. */
  int upto = wal_open(db) ? 3 : 1;
  f->wal_noted = upto == 3;
  for (int i = 0; i < 3; i++) {
    f->known[i] = i < upto && path && *path &&
                  sli_stat_beside(path, suffix[i], name, &st) == 0 &&
                  S_ISREG(st.st_mode);
    f->dev[i] = f->known[i] ? st.st_dev : 0;
    f->ino[i] = f->known[i] ? st.st_ino : 0;
  }
}

int sli_db_moved(sqlite3 *db) {
  int moved = 0;
  if (db && sqlite3_file_control(db, "main", SQLITE_FCNTL_HAS_MOVED,
                                 &moved) != SQLITE_OK)
    moved = 0;   /* a VFS that cannot tell: as SQLite itself, not moved */
  return moved != 0;
}

int sli_db_let_go(sqlite3 *db, const sli_files *f) {
  if (!db || !sli_db_moved(db)) return 0;
  int keep = 1;
  /* Best effort: a reader open on the old file may hold the WAL back. */
  sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
  sqlite3_file_control(db, "main", SQLITE_FCNTL_PERSIST_WAL, &keep);
  const char *path = sqlite3_db_filename(db, "main");
  if (f && path && *path) {
    char name[PATH_MAX];
    struct stat st;
    for (int i = 1; i < 3; i++)
      if (f->known[i] &&
          sli_stat_beside(path, suffix[i], name, &st) == 0 &&
          S_ISREG(st.st_mode) && st.st_dev == f->dev[i] &&
          st.st_ino == f->ino[i])
        unlink(name);
  }
  return 1;
}

int sli_db_close(sqlite3 *db, const sli_files *f) {
  int moved = sli_db_let_go(db, f);
  sqlite3_close_v2(db);
  return moved;
}
