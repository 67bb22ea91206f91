/*
** sl_watch.c -- core layer: waiting for another process's commit to a
** store (synclua.h, sl_watch_*). inotify watches the store's folder, not
** the file, so that a -wal made anew, a file replaced by a rename, or one
** deleted and made again are all seen; only the store's file and its -wal
** count. A wait sleeps in poll(): an idle follower uses no CPU.
*/
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "sli.h"

/* One store watched: its folder's watch and its file's name there. */
typedef struct watched {
  int    wd;
  char  *base;
  size_t base_len;
} watched;

struct sl_watch {
  int      fd;                /* the inotify descriptor                    */
  watched *stores;
  size_t   n, cap;
  char     errmsg[SLI_ERRMSG_MAX];
};

#define EVENTS (IN_MODIFY | IN_CREATE | IN_DELETE | IN_MOVED_FROM | \
                IN_MOVED_TO)

int sl_watch_new(const char *path, sl_watch **out) {
  if (!path || !out) return SL_MISUSE;
  *out = NULL;
  sl_watch *w = calloc(1, sizeof *w);
  if (!w) return SL_NOMEM;
  *out = w;
  w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (w->fd < 0) {
    snprintf(w->errmsg, sizeof w->errmsg, "cannot watch (%s)",
             strerror(errno));
    return SL_IOERR;
  }
  return sl_watch_add(w, path);
}

int sl_watch_add(sl_watch *w, const char *path) {
  if (!w || !path || w->fd < 0) return SL_MISUSE;
  const char *slash = strrchr(path, '/');
  char dir[PATH_MAX];
  if (!slash) strcpy(dir, ".");
  else if (slash == path) strcpy(dir, "/");
  else snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
  if (w->n == w->cap) {
    size_t cap = w->cap ? 2 * w->cap : 4;
    watched *grown = realloc(w->stores, cap * sizeof *grown);
    if (!grown) {
      snprintf(w->errmsg, sizeof w->errmsg, "out of memory");
      return SL_NOMEM;
    }
    w->stores = grown;
    w->cap = cap;
  }
  watched *e = &w->stores[w->n];
  e->base = sli_strdup(slash ? slash + 1 : path);
  if (!e->base) {
    snprintf(w->errmsg, sizeof w->errmsg, "out of memory");
    return SL_NOMEM;
  }
  e->base_len = strlen(e->base);
  /* A second store in one folder gets the folder's watch again. */
  e->wd = inotify_add_watch(w->fd, dir, EVENTS);
  if (e->wd < 0) {
    snprintf(w->errmsg, sizeof w->errmsg, "%.400s: cannot watch (%s)", dir,
             strerror(errno));
    free(e->base);
    return SL_IOERR;
  }
  w->n++;
  return SL_OK;
}

/* Does this event tell of a commit, or of the file replaced or removed?
** The file itself: anything. Its -wal: a write (a reader may make and
** remove an empty one; a commit writes it). Its -shm and -journal change
** with readers and writers but say nothing a write of the file or the
** -wal does not. */
static int ours(const sl_watch *w, const struct inotify_event *ev) {
  if (!ev->len) return 0;
  for (size_t i = 0; i < w->n; i++) {
    const watched *e = &w->stores[i];
    if (e->wd != ev->wd || strncmp(ev->name, e->base, e->base_len) != 0)
      continue;
    const char *rest = ev->name + e->base_len;
    if (!*rest || (!strcmp(rest, "-wal") && (ev->mask & IN_MODIFY)))
      return 1;
  }
  return 0;
}

/* Read what inotify has: 1 when one of the store's files changed (or
** events were lost, which may hide one), 0 if none, -1 on failure. */
static int drain(sl_watch *w) {
  union {
    struct inotify_event ev;  /* the alignment read() needs */
    char bytes[4096];
  } u;
  char *buf = u.bytes;
  int changed = 0;
  for (;;) {
    ssize_t n = read(w->fd, buf, sizeof u.bytes);
    if (n < 0) {
      if (errno == EAGAIN) return changed;
      if (errno == EINTR) continue;
      snprintf(w->errmsg, sizeof w->errmsg, "watch: %s", strerror(errno));
      return -1;
    }
    for (char *p = buf; p < buf + n;) {
      struct inotify_event *ev = (struct inotify_event *)(void *)p;
      if ((ev->mask & IN_Q_OVERFLOW) || ours(w, ev))
        changed = 1;
      p += sizeof *ev + ev->len;
    }
  }
}

int sl_watch_wait(sl_watch *w, int timeout_ms) {
  if (!w || w->fd < 0) return SL_MISUSE;
  int64_t until = timeout_ms < 0 ? -1 : sli_mono_ms() + timeout_ms;
  for (;;) {
    int changed = drain(w);
    if (changed < 0) return SL_IOERR;
    if (changed) return SL_OK;
    int left = -1;
    if (until >= 0) {
      int64_t now = sli_mono_ms();
      if (now >= until) return SL_DONE;
      left = (int)(until - now);
    }
    struct pollfd p = {w->fd, POLLIN, 0};
    int r = poll(&p, 1, left);
    if (r < 0 && errno == EINTR) return SL_DONE; /* the caller looks why */
    if (r < 0) {
      snprintf(w->errmsg, sizeof w->errmsg, "watch: %s", strerror(errno));
      return SL_IOERR;
    }
  }
}

int sl_watch_fd(const sl_watch *w) { return w ? w->fd : -1; }

const char *sl_watch_errmsg(const sl_watch *w) {
  return w ? w->errmsg : "out of memory";
}

void sl_watch_free(sl_watch *w) {
  if (!w) return;
  if (w->fd >= 0) close(w->fd);
  for (size_t i = 0; i < w->n; i++) free(w->stores[i].base);
  free(w->stores);
  free(w);
}
