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

struct sl_watch {
  int    fd;                  /* the inotify descriptor                    */
  char  *base;                /* the store's file name, without its folder */
  size_t base_len;
  char   errmsg[SLI_ERRMSG_MAX];
};

#define EVENTS (IN_MODIFY | IN_CREATE | IN_DELETE | IN_MOVED_FROM | \
                IN_MOVED_TO)

int sl_watch_new(const char *path, sl_watch **out) {
  if (!path || !out) return SL_MISUSE;
  *out = NULL;
  sl_watch *w = calloc(1, sizeof *w);
  if (!w) return SL_NOMEM;
  *out = w;
  w->fd = -1;
  const char *slash = strrchr(path, '/');
  char dir[PATH_MAX];
  if (!slash) strcpy(dir, ".");
  else if (slash == path) strcpy(dir, "/");
  else snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
  w->base = sli_strdup(slash ? slash + 1 : path);
  if (!w->base) {
    snprintf(w->errmsg, sizeof w->errmsg, "out of memory");
    return SL_NOMEM;
  }
  w->base_len = strlen(w->base);
  w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (w->fd < 0 || inotify_add_watch(w->fd, dir, EVENTS) < 0) {
    snprintf(w->errmsg, sizeof w->errmsg, "%.400s: cannot watch (%s)", dir,
             strerror(errno));
    return SL_IOERR;
  }
  return SL_OK;
}

/* Does this event tell of a commit, or of the file replaced or removed?
** The file itself: anything. Its -wal: a write (a reader may make and
** remove an empty one; a commit writes it). Its -shm and -journal change
** with readers and writers but say nothing a write of the file or the
** -wal does not. */
static int ours(const sl_watch *w, const struct inotify_event *ev) {
  if (!ev->len || strncmp(ev->name, w->base, w->base_len) != 0) return 0;
  const char *rest = ev->name + w->base_len;
  return !*rest || (!strcmp(rest, "-wal") && (ev->mask & IN_MODIFY));
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
  free(w->base);
  free(w);
}
