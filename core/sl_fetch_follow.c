/*
** sl_fetch_follow.c -- the follower (`synclua fetch --follow`, net.h
** "Following"): a thread per peer that keeps a follow stream open, stores
** what it streams as the fetcher stores a page (sli_fetch_store),
** remembers the mark, and reconnects after a pause that doubles when the
** connection is lost, resuming after the mark. Status lines are queued
** for the caller; a stop wakes every thread at once (the sockets shut
** down, a pipe for the pauses).
*/
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sli.h"

#define BACKOFF_FIRST_MS 250
#define BACKOFF_MAX_MS   8000
#define SILENT_BEATS     3      /* heartbeats missed: the peer is dead      */

typedef struct follower follower;

struct sl_fetch_follow {
  pthread_mutex_t lock;       /* guards everything below but the consts   */
  pthread_cond_t  news;       /* a line queued, events stored, a peer ended */
  int             stop_pipe[2]; /* readable once stopping: wakes pauses   */
  int             stopping;
  int             joined;
  sl_follow_peer *peers;      /* the records                              */
  follower       *jobs;
  size_t          n;
  size_t          running;    /* peers still following                    */
  sl_buf          lines;      /* queued, each ending "\n"                 */
  size_t          n_lines;
  int64_t         dropped;    /* lines over SL_FOLLOW_LINES_MAX           */
  uint64_t        changes, seen; /* for sl_fetch_follow_wait              */
  /* constant while the threads run */
  sl_request      req;        /* event_types point into names             */
  char           *names;
  unsigned char   key[SL_KEY_BYTES];
  sl_timeouts     t;
  int             heartbeat_ms;
};

struct follower {
  sl_fetch_follow *f;
  sl_follow_peer   p;         /* the thread's own record, published       */
  size_t           i;         /* its place in f->peers                    */
  char            *address;
  int              fd;        /* under f->lock: shut down by a stop       */
  pthread_t        tid;
  int              started;
};

/* What one connection came to. */
enum { END_RETRY, END_FATAL, END_ANSWERED, END_STOP };

static int stopping(sl_fetch_follow *f) {
  pthread_mutex_lock(&f->lock);
  int s = f->stopping;
  pthread_mutex_unlock(&f->lock);
  return s;
}

/* Queue "peer ADDRESS: <line>" for the caller. */
static void say(follower *j, const char *fmt, ...)
#ifdef __GNUC__
  __attribute__((format(printf, 2, 3)))
#endif
  ;

static void say(follower *j, const char *fmt, ...) {
  sl_fetch_follow *f = j->f;
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  pthread_mutex_lock(&f->lock);
  if (f->n_lines >= SL_FOLLOW_LINES_MAX) {
    f->dropped++;
  } else {
    sl_buf_puts(&f->lines, "peer ");
    sl_buf_puts(&f->lines, j->address);
    sl_buf_puts(&f->lines, ": ");
    sl_buf_puts(&f->lines, line);
    sl_buf_puts(&f->lines, "\n");
    f->n_lines++;
  }
  f->changes++;
  pthread_cond_broadcast(&f->news);
  pthread_mutex_unlock(&f->lock);
}

/* The thread's record, for the caller to see; `news` when it stored
** something a waiting caller should look at. */
static void publish(follower *j, int news) {
  sl_fetch_follow *f = j->f;
  pthread_mutex_lock(&f->lock);
  f->peers[j->i] = j->p;
  if (news) {
    f->changes++;
    pthread_cond_broadcast(&f->news);
  }
  pthread_mutex_unlock(&f->lock);
}

/* A span as the lines say it: "0.25 s", "3 s". */
static void seconds(int ms, char *out, size_t outsz) {
  snprintf(out, outsz, "%g s", ms / 1000.0);
}

/* Close the connection under the lock: a stop shuts sockets down by
** number, which must not be one the system has given to someone else. */
static void hang_up(follower *j, sl_channel *ch) {
  sl_channel_free(ch);
  pthread_mutex_lock(&j->f->lock);
  if (j->fd >= 0) close(j->fd);
  j->fd = -1;
  pthread_mutex_unlock(&j->f->lock);
}

static int end(follower *j, int how, int status, char *why, size_t whysz,
               const char *fmt, ...)
#ifdef __GNUC__
  __attribute__((format(printf, 6, 7)))
#endif
  ;

/* How a connection ended, and why (kept on the record too). */
static int end(follower *j, int how, int status, char *why, size_t whysz,
               const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, whysz, fmt, ap);
  va_end(ap);
  j->p.status = status;
  snprintf(j->p.errmsg, sizeof j->p.errmsg, "%s", why);
  return how;
}

/*
** One connection: connect, prove the key, ask to follow (resuming after
** the mark when there is one), then store frames until it ends. *streamed
** is set once a frame with a mark came (the stream is on: the caller's
** pause starts over), *connected once through the handshake. The outcome says what to do next; why says why.
*/
static int follow_once(follower *j, int *connected, int *streamed,
                       char *why, size_t whysz) {
  sl_fetch_follow *f = j->f;
  sl_channel *ch = NULL;
  sl_buf out = {0}, in = {0};
  sl_request r = f->req;
  sl_timeouts t = f->t;
  char err[256];
  int rc, how = END_RETRY;
  int idle = SILENT_BEATS * f->heartbeat_ms;
  int connect_ms = t.handshake_ms > 0 ? t.handshake_ms : 5000;
  int fd = sli_connect(j->address, connect_ms, err, sizeof err);
  *connected = *streamed = 0;
  if (fd == -2) return end(j, END_FATAL, SL_INVALID, why, whysz, "%s", err);
  if (fd < 0) return end(j, END_RETRY, SL_IOERR, why, whysz, "%s", err);
  pthread_mutex_lock(&f->lock);
  int stop = f->stopping;
  if (!stop) j->fd = fd;
  pthread_mutex_unlock(&f->lock);
  if (stop) {
    close(fd);
    return END_STOP;
  }
  t.total_ms = 0;             /* a stream lasts: the heartbeat watches it */
  t.idle_ms = idle;
  rc = sl_channel_client(fd, f->key, &t, &ch, err, sizeof err);
  if (rc != SL_OK) {
    hang_up(j, NULL);
    if (stopping(f)) return END_STOP;
    return end(j, rc == SL_INVALID ? END_FATAL : END_RETRY, rc, why, whysz,
               "%s", err);
  }
  *connected = 1;
  int resumed = j->p.has_mark, first = !resumed, frames = 0;
  int64_t first_count = 0;
  r.has_follow = 1;
  r.heartbeat_ms = (uint32_t)f->heartbeat_ms;
  r.has_follow_after = resumed;
  r.follow_after = j->p.mark;
  sl_request_write(&out, &r);
  rc = out.oom ? SL_NOMEM : sl_channel_send(ch, out.data, out.len);
  if (rc != SL_OK) {
    how = end(j, rc == SL_NOMEM ? END_FATAL : END_RETRY, rc, why, whysz,
              "%s", rc == SL_NOMEM ? "out of memory" : sl_channel_errmsg(ch));
  }
  while (rc == SL_OK) {
    sl_message m;
    int64_t waited = sli_mono_ms();
    rc = sl_channel_recv(ch, &in, SL_MAX_FRAME);
    if (stopping(f)) { how = END_STOP; break; }
    if (rc == SL_DONE && frames == 0 && !resumed) {
      how = end(j, END_FATAL, SL_INVALID, why, whysz, "closed the "
                "connection without answering (it refused the request: "
                "another library?)");
      break;
    }
    if (rc == SL_DONE) {
      how = end(j, END_RETRY, SL_IOERR, why, whysz, "the peer closed the "
                "connection");
      break;
    }
    if (rc == SL_IOERR && sli_mono_ms() - waited >= idle) {
      char s[32];
      seconds(idle, s, sizeof s);
      how = end(j, END_RETRY, SL_TIMEOUT, why, whysz, "silent for %s: no "
                "heartbeat", s);
      break;
    }
    if (rc != SL_OK) {
      how = end(j, rc == SL_IOERR ? END_RETRY : END_FATAL, rc, why, whysz,
                "%s", sl_channel_errmsg(ch));
      break;
    }
    rc = sli_fetch_response(&in, r.library_id, &m, err, sizeof err);
    if (rc == SL_OK && j->p.responding_device[0] &&
        strcmp(j->p.responding_device, m.response.responding_device)) {
      snprintf(err, sizeof err, "answered as device %s, then as %s",
               j->p.responding_device, m.response.responding_device);
      rc = SL_INVALID;
    }
    if (rc == SL_OK && m.response.has_mark && j->p.has_mark &&
        m.response.mark < j->p.mark && resumed && frames == 0) {
      /* A resume answered as a start: the peer's store is not the one our
      ** mark is of (replaced, or emptied). Its first answer is taken as a
      ** start's (duplicates are skipped as they are stored). */
      say(j, "its log started over (its mark went back from %" PRId64
          " to %" PRId64 "): taking it from there", j->p.mark,
          m.response.mark);
      j->p.has_mark = 0;
      first = 1;
    }
    if (rc == SL_OK && m.response.has_mark && j->p.has_mark &&
        m.response.mark < j->p.mark) {
      snprintf(err, sizeof err, "its mark went back from %" PRId64 " to %"
               PRId64, j->p.mark, m.response.mark);
      rc = SL_INVALID;
    }
    if (rc == SL_OK && !m.response.has_mark && frames > 0) {
      snprintf(err, sizeof err, "a frame of its stream has no mark");
      rc = SL_INVALID;
    }
    if (rc != SL_OK) {
      how = end(j, END_FATAL, rc, why, whysz, "sent garbage: %s", err);
      sl_message_clear(&m);
      break;
    }
    memcpy(j->p.responding_device, m.response.responding_device,
           SL_UUID_BUFSZ);
    /* The first answer's pages come newest first, the stream oldest
    ** first; no frame holds more than asked, nor a stream's more than
    ** any server's cap. */
    int page = !m.response.has_mark || first;
    uint32_t asked = page ? r.limit - (uint32_t)first_count : SL_MAX_EVENTS;
    int64_t before = j->p.received;
    size_t inserted = 0;
    rc = sli_fetch_store(j->p.dest, &m.response, asked, page,
                      &j->p.received, &inserted, err, sizeof err);
    j->p.inserted += (int64_t)inserted;
    frames++;
    if (rc != SL_OK) {
      how = end(j, END_FATAL, rc, why, whysz, "%s", err);
    } else if (!m.response.has_mark) {
      /* Spacedrive (or a synclua that cannot follow): its answer is all. */
      how = end(j, END_ANSWERED, SL_OK, why, whysz, "does not stream: it "
                "answered once (%" PRId64 " event%s) without a mark; not "
                "reconnecting", j->p.received - before,
                j->p.received - before == 1 ? "" : "s");
      rc = SL_DONE;
    } else if (first && m.response.has_next) {
      first_count += j->p.received - before;
      if (first_count >= r.limit || j->p.received == before) {
        how = end(j, END_FATAL, SL_INVALID, why, whysz, "sent garbage: "
                  "its \"next\" does not move on (%" PRId64 " of %" PRIu32
                  " events)", first_count, r.limit);
        rc = SL_INVALID;
      }
    } else {
      /* The mark counts from the end of the first answer on. */
      int64_t from = j->p.mark;
      first_count += first ? j->p.received - before : 0;
      j->p.mark = m.response.mark;
      j->p.has_mark = 1;
      if (!*streamed) {
        *streamed = 1;
        j->p.state = SL_FOLLOW_STREAMING;
        j->p.status = SL_OK;
        if (first)
          say(j, "following device %s: %" PRId64 " event%s, up to event %"
              PRId64, j->p.responding_device, first_count,
              first_count == 1 ? "" : "s", j->p.mark);
        else
          say(j, "resumed after event %" PRId64, from);
      }
      first = 0;
    }
    publish(j, inserted > 0);
    sl_message_clear(&m);
  }
  sl_buf_free(&out);
  sl_buf_free(&in);
  hang_up(j, ch);
  return how;
}

/* Wait ms, or less if a stop comes: 1 when it did. */
static int pause_for(sl_fetch_follow *f, int ms) {
  int64_t until = sli_mono_ms() + ms;
  for (;;) {
    int64_t left = until - sli_mono_ms();
    if (left <= 0) return stopping(f);
    struct pollfd p = {f->stop_pipe[0], POLLIN, 0};
    int n = poll(&p, 1, (int)left);
    if (n > 0) return 1;
  }
}

static void *follow_main(void *arg) {
  follower *j = arg;
  sl_fetch_follow *f = j->f;
  int pause = BACKOFF_FIRST_MS, how, connected, streamed;
  char why[256], s[32];
  for (;;) {
    how = follow_once(j, &connected, &streamed, why, sizeof why);
    if (streamed) pause = BACKOFF_FIRST_MS;
    if (how == END_STOP) break;
    if (how == END_FATAL) {
      j->p.state = SL_FOLLOW_FAILED;
      say(j, "stopped: %s", why);
      break;
    }
    if (how == END_ANSWERED) {
      j->p.state = SL_FOLLOW_ANSWERED;
      say(j, "%s", why);
      break;
    }
    j->p.state = SL_FOLLOW_CONNECTING;
    seconds(pause, s, sizeof s);
    if (connected)
      say(j, "connection lost (%s), reconnecting in %s", why, s);
    else
      say(j, "cannot connect (%s), trying again in %s", why, s);
    publish(j, 0);
    if (pause_for(f, pause)) break;
    pause = pause * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : pause * 2;
    j->p.reconnects++;
  }
  pthread_mutex_lock(&f->lock);
  if (j->p.state == SL_FOLLOW_STREAMING ||
      j->p.state == SL_FOLLOW_CONNECTING)
    j->p.state = SL_FOLLOW_STOPPED;
  f->peers[j->i] = j->p;
  f->running--;
  f->changes++;
  pthread_cond_broadcast(&f->news);
  pthread_mutex_unlock(&f->lock);
  return NULL;
}

int sl_fetch_follow_start(const sl_follow_peer *peers, size_t n,
                          const sl_request *req,
                          const unsigned char key[SL_KEY_BYTES],
                          const sl_timeouts *t, int heartbeat_ms,
                          sl_fetch_follow **out, char *err, size_t errsz) {
  sl_fetch_follow *f;
  size_t bytes = 0;
  *out = NULL;
  if (!req || !key || (n && !peers) || req->has_before || req->has_follow ||
      (heartbeat_ms && (heartbeat_ms < SL_HEARTBEAT_MIN_MS ||
                        heartbeat_ms > SL_HEARTBEAT_MAX_MS))) {
    snprintf(err, errsz, "sl_fetch_follow_start: peers, a request without "
             "\"before\" or \"follow\", a key and a heartbeat from %d to "
             "%d ms needed", SL_HEARTBEAT_MIN_MS, SL_HEARTBEAT_MAX_MS);
    return SL_MISUSE;
  }
  for (size_t i = 0; i < n; i++) {
    if (!peers[i].address || !peers[i].dest) {
      snprintf(err, errsz, "peer %zu: an address and a store needed", i + 1);
      return SL_MISUSE;
    }
    /* One handle is for one thread at a time: one store per peer. */
    for (size_t k = 0; k < i; k++)
      if (peers[k].dest == peers[i].dest) {
        snprintf(err, errsz, "peers %zu and %zu: the same store", k + 1,
                 i + 1);
        return SL_MISUSE;
      }
  }
  for (size_t i = 0; i < req->n_event_types; i++)
    bytes += strlen(req->event_types[i]) + 1;
  f = calloc(1, sizeof *f);
  if (f) {
    f->peers = calloc(n ? n : 1, sizeof *f->peers);
    f->jobs = calloc(n ? n : 1, sizeof *f->jobs);
    f->req.event_types = calloc(req->n_event_types + 1, sizeof(char *));
    f->names = malloc(bytes + 1);
  }
  if (!f || !f->peers || !f->jobs || !f->req.event_types || !f->names) {
    if (f) {
      free(f->peers); free(f->jobs); free(f->req.event_types);
      free(f->names); free(f);
    }
    snprintf(err, errsz, "out of memory");
    return SL_NOMEM;
  }
  /* The request, its names copied: the caller's may go. */
  char **names = f->req.event_types;
  f->req = *req;
  f->req.event_types = names;
  for (size_t i = 0, at = 0; i < req->n_event_types; i++) {
    size_t len = strlen(req->event_types[i]) + 1;
    names[i] = memcpy(f->names + at, req->event_types[i], len);
    at += len;
  }
  memcpy(f->key, key, SL_KEY_BYTES);
  if (t) f->t = *t;
  f->heartbeat_ms = heartbeat_ms ? heartbeat_ms : 5000;
  f->n = n;
  f->stop_pipe[0] = f->stop_pipe[1] = -1;
  pthread_mutex_init(&f->lock, NULL);
  {
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&f->news, &ca);
    pthread_condattr_destroy(&ca);
  }
  int rc = SL_OK;
  if (pipe(f->stop_pipe) != 0) {
    snprintf(err, errsz, "pipe: %s", strerror(errno));
    rc = SL_IOERR;
  }
  for (size_t i = 0; i < n && rc == SL_OK; i++) {
    follower *j = &f->jobs[i];
    j->f = f;
    j->i = i;
    j->fd = -1;
    j->address = sli_strdup(peers[i].address);
    if (!j->address) {
      snprintf(err, errsz, "out of memory");
      rc = SL_NOMEM;
      break;
    }
    memset(&j->p, 0, sizeof j->p);
    j->p.address = j->address;
    j->p.dest = peers[i].dest;
    j->p.state = SL_FOLLOW_CONNECTING;
    sl_store_retain(j->p.dest);
    f->peers[i] = j->p;
  }
  for (size_t i = 0; i < n && rc == SL_OK; i++) {
    pthread_mutex_lock(&f->lock);
    f->running++;
    pthread_mutex_unlock(&f->lock);
    if (pthread_create(&f->jobs[i].tid, NULL, follow_main, &f->jobs[i])) {
      pthread_mutex_lock(&f->lock);
      f->running--;
      pthread_mutex_unlock(&f->lock);
      snprintf(err, errsz, "cannot start a thread");
      rc = SL_ERROR;
      break;
    }
    f->jobs[i].started = 1;
  }
  if (rc != SL_OK) {
    sl_fetch_follow_free(f);
    return rc;
  }
  *out = f;
  return SL_OK;
}

size_t sl_fetch_follow_lines(sl_fetch_follow *f, sl_buf *out) {
  size_t n;
  if (!f || !out) return 0;
  pthread_mutex_lock(&f->lock);
  n = f->n_lines;
  if (f->dropped) {
    char line[80];
    snprintf(line, sizeof line, "%" PRId64 " status line%s dropped\n",
             f->dropped, f->dropped == 1 ? " was" : "s were");
    sl_buf_puts(out, line);
    f->dropped = 0;
    n++;
  }
  if (f->lines.len) sl_buf_append(out, f->lines.data, f->lines.len);
  sl_buf_reset(&f->lines);
  f->n_lines = 0;
  pthread_mutex_unlock(&f->lock);
  return n;
}

int sl_fetch_follow_wait(sl_fetch_follow *f, int timeout_ms) {
  struct timespec until;
  int rc = SL_DONE;
  if (!f) return SL_MISUSE;
  clock_gettime(CLOCK_MONOTONIC, &until);
  if (timeout_ms > 0) {
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
      until.tv_sec++;
      until.tv_nsec -= 1000000000L;
    }
  }
  pthread_mutex_lock(&f->lock);
  while (f->changes == f->seen && f->running > 0 && timeout_ms != 0) {
    int w = timeout_ms < 0 ? pthread_cond_wait(&f->news, &f->lock)
                           : pthread_cond_timedwait(&f->news, &f->lock,
                                                    &until);
    if (w == ETIMEDOUT) break;
  }
  if (f->changes != f->seen) rc = SL_OK;
  f->seen = f->changes;
  pthread_mutex_unlock(&f->lock);
  return rc;
}

void sl_fetch_follow_peers(sl_fetch_follow *f, sl_follow_peer *out) {
  if (!f || !out) return;
  pthread_mutex_lock(&f->lock);
  memcpy(out, f->peers, f->n * sizeof *out);
  pthread_mutex_unlock(&f->lock);
}

int sl_fetch_follow_stop(sl_fetch_follow *f, sl_follow_peer *out) {
  if (!f) return SL_MISUSE;
  pthread_mutex_lock(&f->lock);
  f->stopping = 1;
  /* A wait on a socket ends at its shutdown; a pause at the pipe. */
  for (size_t i = 0; i < f->n; i++)
    if (f->jobs[i].fd >= 0) shutdown(f->jobs[i].fd, SHUT_RDWR);
  pthread_mutex_unlock(&f->lock);
  if (f->stop_pipe[1] >= 0 && !f->joined) {
    ssize_t w = write(f->stop_pipe[1], "x", 1);
    (void)w;
  }
  if (!f->joined) {
    for (size_t i = 0; i < f->n; i++)
      if (f->jobs[i].started) pthread_join(f->jobs[i].tid, NULL);
    f->joined = 1;
  }
  sl_fetch_follow_peers(f, out);
  return SL_OK;
}

void sl_fetch_follow_free(sl_fetch_follow *f) {
  if (!f) return;
  sl_fetch_follow_stop(f, NULL);
  for (size_t i = 0; i < f->n; i++) {
    if (f->jobs[i].address) sl_store_release(f->jobs[i].p.dest);
    free(f->jobs[i].address);
  }
  if (f->stop_pipe[0] >= 0) close(f->stop_pipe[0]);
  if (f->stop_pipe[1] >= 0) close(f->stop_pipe[1]);
  sodium_memzero(f->key, sizeof f->key);
  sl_buf_free(&f->lines);
  pthread_mutex_destroy(&f->lock);
  pthread_cond_destroy(&f->news);
  free(f->req.event_types);
  free(f->names);
  free(f->peers);
  free(f->jobs);
  free(f);
}
