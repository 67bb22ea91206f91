/*
** vfs_shim.h -- SQLite's own VFS with a hook before every write, for the
** C driver's fault tests: the hook sees the file's name and returns
** SQLITE_OK to let the write go ahead, or the code to fail it with (a
** full disk), and may do something to the files meanwhile (a restore
** moving another sync.db into place mid-commit).
*/
#ifndef VFS_SHIM_H
#define VFS_SHIM_H

#include <sqlite3.h>

typedef int (*vfs_shim_hook)(const char *name);

static vfs_shim_hook shim_hook;        /* called on the writer's thread */
static sqlite3_vfs *shim_real;
static sqlite3_vfs shim_vfs;
static sqlite3_io_methods shim_io;

typedef struct shim_file {
  sqlite3_file  base;
  const char   *name;                  /* valid until xClose (SQLite's) */
  sqlite3_file *real;                  /* the real file, just after this */
} shim_file;

#define REAL(f) (((shim_file *)(f))->real)
static int f_close(sqlite3_file *f) {
  return REAL(f)->pMethods->xClose(REAL(f));
}
static int f_read(sqlite3_file *f, void *b, int n, sqlite3_int64 o) {
  return REAL(f)->pMethods->xRead(REAL(f), b, n, o);
}
static int f_write(sqlite3_file *f, const void *b, int n, sqlite3_int64 o) {
  vfs_shim_hook hook = __atomic_load_n(&shim_hook, __ATOMIC_ACQUIRE);
  const char *name = ((shim_file *)f)->name;
  int rc = hook ? hook(name ? name : "") : SQLITE_OK;
  if (rc != SQLITE_OK) return rc;
  return REAL(f)->pMethods->xWrite(REAL(f), b, n, o);
}
static int f_truncate(sqlite3_file *f, sqlite3_int64 size) {
  return REAL(f)->pMethods->xTruncate(REAL(f), size);
}
static int f_sync(sqlite3_file *f, int flags) {
  return REAL(f)->pMethods->xSync(REAL(f), flags);
}
static int f_size(sqlite3_file *f, sqlite3_int64 *size) {
  return REAL(f)->pMethods->xFileSize(REAL(f), size);
}
static int f_lock(sqlite3_file *f, int l) {
  return REAL(f)->pMethods->xLock(REAL(f), l);
}
static int f_unlock(sqlite3_file *f, int l) {
  return REAL(f)->pMethods->xUnlock(REAL(f), l);
}
static int f_check(sqlite3_file *f, int *out) {
  return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}
static int f_control(sqlite3_file *f, int op, void *arg) {
  return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}
static int f_sector(sqlite3_file *f) {
  return REAL(f)->pMethods->xSectorSize(REAL(f));
}
static int f_caps(sqlite3_file *f) {
  return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}
static int f_shm_map(sqlite3_file *f, int pg, int sz, int extend,
                     void volatile **p) {
  return REAL(f)->pMethods->xShmMap(REAL(f), pg, sz, extend, p);
}
static int f_shm_lock(sqlite3_file *f, int offset, int n, int flags) {
  return REAL(f)->pMethods->xShmLock(REAL(f), offset, n, flags);
}
static void f_shm_barrier(sqlite3_file *f) {
  REAL(f)->pMethods->xShmBarrier(REAL(f));
}
static int f_shm_unmap(sqlite3_file *f, int del) {
  return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}

static int shim_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f,
                     int flags, int *out_flags) {
  shim_file *sf = (shim_file *)f;
  (void)vfs;
  sf->name = name;
  sf->real = (sqlite3_file *)(sf + 1);
  int rc = shim_real->xOpen(shim_real, name, sf->real, flags, out_flags);
  f->pMethods = rc == SQLITE_OK ? &shim_io : NULL;
  return rc;
}

/* Make the shim the default VFS, with this hook, for connections opened
** from now on. */
static void vfs_shim_install(vfs_shim_hook hook) {
  __atomic_store_n(&shim_hook, hook, __ATOMIC_RELEASE);
  shim_real = sqlite3_vfs_find(NULL);
  shim_vfs = *shim_real;
  shim_vfs.zName = "synclua-test-shim";
  shim_vfs.szOsFile = (int)sizeof(shim_file) + shim_real->szOsFile;
  shim_vfs.xOpen = shim_open;
  shim_io = (sqlite3_io_methods){
    2, f_close, f_read, f_write, f_truncate, f_sync, f_size, f_lock,
    f_unlock, f_check, f_control, f_sector, f_caps, f_shm_map, f_shm_lock,
    f_shm_barrier, f_shm_unmap, NULL, NULL};
  sqlite3_vfs_register(&shim_vfs, 1);
}

/* SQLite's own VFS the default again. */
static void vfs_shim_remove(void) {
  sqlite3_vfs_register(shim_real, 1);
  sqlite3_vfs_unregister(&shim_vfs);
  __atomic_store_n(&shim_hook, NULL, __ATOMIC_RELEASE);
}

#endif
