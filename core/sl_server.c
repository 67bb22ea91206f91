/*
** sl_server.c -- `synclua serve`: answers EventLogRequests for one store.
**
** One thread accepts; each connection gets a thread of its own, so a slow
** or silent client only ever holds its own thread, until its timeout. The
** connection threads borrow read-only store handles from a small pool (a
** handle is one thread's at a time, synclua.h), so answering never opens the
** database for writing; the one write is the event logging each request
** served, appended from any thread to the writer's lock-free queue.
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
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sli.h"

#define NAME_MAX_LEN 64

typedef struct conn conn;
struct conn {
  sl_server *srv;
  int        fd;
  char       remote[NAME_MAX_LEN];
  conn      *next;
};

struct sl_server {
  sl_server_opts  o;
  unsigned char   key[SL_KEY_BYTES];
  char           *db_path;
  char            library_id[SL_UUID_BUFSZ];
  char            device_id[SL_UUID_BUFSZ];
  char            address[NAME_MAX_LEN + 8];
  int             listen_fd;
  int             stop_pipe[2];
  sl_store       *log;        /* writable: the events of requests served    */

  pthread_mutex_t lock;       /* guards everything below                    */
  pthread_cond_t  idle;       /* signalled when a connection ends           */
  conn           *conns;      /* live connections                           */
  int             active;
  sl_store      **pool;       /* read-only handles not in use               */
  size_t          pooled, pool_cap;
};

/* --------------------------------------------------------------- logging */

static void say(sl_server *srv, const char *fmt, ...)
#ifdef __GNUC__
  __attribute__((format(printf, 2, 3)))
#endif
  ;

static void say(sl_server *srv, const char *fmt, ...) {
  char line[512];
  va_list ap;
  if (!srv->o.log) return;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  srv->o.log(srv->o.log_ud, line);
}

static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------ the pool */

static int borrow(sl_server *srv, sl_store **out, char *err, size_t errsz) {
  sl_open_opts ro;
  pthread_mutex_lock(&srv->lock);
  *out = srv->pooled ? srv->pool[--srv->pooled] : NULL;
  pthread_mutex_unlock(&srv->lock);
  if (*out) return SL_OK;
  memset(&ro, 0, sizeof ro); /* SL_OPEN_READ */
  int rc = sl_store_open(srv->db_path, &ro, out);
  if (rc != SL_OK) {
    snprintf(err, errsz, "%s", sl_store_errmsg(*out));
    sl_store_release(*out);
    *out = NULL;
  }
  return rc;
}

static void give_back(sl_server *srv, sl_store *h) {
  pthread_mutex_lock(&srv->lock);
  if (srv->pooled == srv->pool_cap) {
    size_t cap = srv->pool_cap ? 2 * srv->pool_cap : 4;
    sl_store **p = realloc(srv->pool, cap * sizeof *p);
    if (p) { srv->pool = p; srv->pool_cap = cap; }
  }
  if (srv->pooled < srv->pool_cap) {
    srv->pool[srv->pooled++] = h;
    h = NULL;
  }
  pthread_mutex_unlock(&srv->lock);
  sl_store_release(h);
}

/* -------------------------------------------------------- one request */

typedef struct answer {
  sl_buf   frame;             /* the response's JSON                        */
  int64_t  count;             /* events in it                               */
  int      has_next;
  int64_t  next, next_id;
  size_t   n_known;
  const char *known[SL_EVENT_TYPE_COUNT];
} answer;

/* The names as a JSON array; with only_unknown, those that are no event
** type. */
static void put_strings(sl_buf *b, char *const *list, size_t n,
                        int only_unknown) {
  int first = 1;
  sl_buf_puts(b, "[");
  for (size_t i = 0; i < n; i++) {
    if (only_unknown && sl_event_type_from_name(list[i]) >= 0) continue;
    if (!first) sl_buf_puts(b, ",");
    sl_json_write_string(b, list[i], strlen(list[i]));
    first = 0;
  }
  sl_buf_puts(b, "]");
}

static size_t count_unknown(const sl_request *req) {
  size_t n = 0;
  for (size_t i = 0; i < req->n_event_types; i++)
    if (sl_event_type_from_name(req->event_types[i]) < 0) n++;
  return n;
}

/* Build the response. The cursor is read lazily: a request for the 100
** newest events of a million-row store reads about 100 rows. */
static int build(sl_server *srv, sl_store *h, const sl_request *req,
                 answer *a, char *err, size_t errsz) {
  sl_filter f;
  sl_cursor *cur = NULL;
  sl_buf one = {0};
  const sl_event *ev = NULL;
  size_t unknown = count_unknown(req);
  uint32_t want = req->limit < srv->o.max_events ? req->limit
                                                 : srv->o.max_events;
  /* Room for the closing fields: the unknown names and "next". */
  size_t tail = 160;
  for (size_t i = 0; i < req->n_event_types; i++)
    tail += 8 + 6 * strlen(req->event_types[i]);
  int rc = SL_OK;

  sl_buf_puts(&a->frame, "{\"EventLogResponse\":{\"library_id\":\"");
  sl_buf_puts(&a->frame, srv->library_id);
  sl_buf_puts(&a->frame, "\",\"responding_device\":\"");
  sl_buf_puts(&a->frame, srv->device_id);
  sl_buf_puts(&a->frame, "\",\"events\":[");

  /* [since, now], as Spacedrive's handler (spacedrive-compat.md 10.4): a
  ** row dated after this server's clock is not sent, since or no since;
  ** "before" narrows it further. */
  int64_t now = sl_time_now();
  sl_filter_init(&f);
  f.device = srv->device_id;
  if (req->has_since) { f.since = req->since; f.has_since = 1; }
  f.has_until = 1;
  f.until = req->has_before && req->before < now ? req->before : now;
  if (req->has_correlation_id) f.correlation_id = req->correlation_id;
  if (req->has_event_types) {
    for (size_t i = 0; i < req->n_event_types; i++) {
      int t = sl_event_type_from_name(req->event_types[i]);
      size_t j = 0;
      while (j < a->n_known && strcmp(a->known[j], req->event_types[i]))
        j++;
      if (t >= 0 && j == a->n_known) /* each type once: at most 13 */
        a->known[a->n_known++] = req->event_types[i];
    }
    f.event_types = a->known;
    f.n_event_types = a->n_known;
  }
  /* Unknown names match nothing (Spacedrive would drop the filter); an
  ** empty list filters nothing, as in Spacedrive. */
  if (req->has_event_types && a->n_known == 0 && unknown > 0) want = 0;

  if (want > 0) rc = sl_query(h, &f, &cur);
  if (rc != SL_OK) snprintf(err, errsz, "%s", sl_store_errmsg(h));
  int64_t last = 0, last_id = 0, taken = 0;
  /* The events at the instant of the last one sent (the "group"): where
  ** they start in the frame, the count before them, the event before. */
  size_t group_at = a->frame.len;
  int64_t group_count = 0, before_group = 0, before_group_id = 0;
  while (rc == SL_OK && want > 0) {
    rc = sl_cursor_next(cur, &ev);
    if (rc == SL_DONE) { rc = SL_OK; break; }
    if (rc != SL_ROW) {
      snprintf(err, errsz, "%s", sl_cursor_errmsg(cur));
      break;
    }
    rc = SL_OK;
    /* Newest first, equal instants by ascending id: at the position's
    ** instant, what comes after it has a higher id. */
    if (req->has_before && ev->instant == req->before &&
        ev->id <= req->before_id)
      continue;
    if (taken == (int64_t)want) {
      /* One more matches: say where to go on, if a cap cut this short. */
      if (req->limit > want) a->has_next = 1;
      break;
    }
    /* A row Spacedrive's reader skips (sl_event_skipped) has no place in
    ** its response, but its LIMIT counted it: so does the limit here. */
    taken++;
    if (sl_event_skipped(ev)) continue;
    sl_buf_reset(&one);
    if ((rc = sl_render_event_reads(&one, ev, SL_RENDER_NDJSON_DEVICE,
                                     SL_JSON_READS_PROTOCOL)) != SL_OK)
      break;
    one.len--; /* the newline */
    if (a->frame.len + one.len + 1 + tail > srv->o.max_frame) {
      if (a->count == 0) {
        snprintf(err, errsz, "event %" PRId64 " alone is over the frame "
                 "limit of %zu bytes", ev->id, srv->o.max_frame);
        rc = SL_ERROR;
      } else {
        a->has_next = 1;
      }
      break;
    }
    if (a->count == 0 || ev->instant != last) {
      group_at = a->frame.len;
      group_count = a->count;
      before_group = last;
      before_group_id = last_id;
    }
    if (a->count) sl_buf_puts(&a->frame, ",");
    sl_buf_append(&a->frame, one.data, one.len);
    a->count++;
    last = ev->instant;
    last_id = ev->id;
  }
  /* A page never splits the events of one instant, unless they fill it:
  ** pages hold whole instants wherever they can. (An instant that is
  ** split goes on at the next id: "before" at its instant means the
  ** higher ids, and the fetcher stores each page after the last, so its
  ** events still keep their order.) */
  if (rc == SL_OK && a->has_next && ev && ev->instant == last &&
      group_count > 0) {
    a->frame.len = group_at;
    a->frame.data[group_at] = '\0';
    a->count = group_count;
    last = before_group;
    last_id = before_group_id;
  }
  sl_cursor_close(cur);
  sl_buf_free(&one);
  if (rc != SL_OK) return rc;
  sl_buf_puts(&a->frame, "]");
  if (unknown) {
    sl_buf_puts(&a->frame, ",\"unknown_event_types\":");
    put_strings(&a->frame, req->event_types, req->n_event_types, 1);
  }
  if (a->has_next) {
    a->next = last;
    a->next_id = last_id;
    sl_buf_puts(&a->frame, ",\"next\":");
    sli_put_position(&a->frame, last, last_id);
  }
  sl_buf_puts(&a->frame, "}}");
  if (a->frame.oom) {
    snprintf(err, errsz, "out of memory");
    return SL_NOMEM;
  }
  return SL_OK;
}

/* The event that records a request served (compact details, sorted). */
static void log_served(sl_server *srv, const conn *c, const sl_request *req,
                       const answer *a, int64_t duration_ms) {
  sl_buf d = {0};
  char summary[256], ts[SL_TIME_BUFSZ];
  sl_event ev;
  memset(&ev, 0, sizeof ev);

  sl_buf_puts(&d, "{");
  if (req->has_correlation_id) {
    sl_buf_puts(&d, "\"correlation_id\":\"");
    sl_buf_puts(&d, req->correlation_id);
    sl_buf_puts(&d, "\",");
  }
  if (req->has_event_types) {
    sl_buf_puts(&d, "\"event_types\":");
    put_strings(&d, req->event_types, req->n_event_types, 0);
    sl_buf_puts(&d, ",");
  }
  char num[64];
  snprintf(num, sizeof num, "\"limit\":%" PRIu32 ",\"more\":%s,",
           req->limit, a->has_next ? "true" : "false");
  sl_buf_puts(&d, num);
  sl_buf_puts(&d, "\"remote\":");
  sl_json_write_string(&d, c->remote, strlen(c->remote));
  sl_buf_puts(&d, ",\"request\":\"EventLogRequest\"");
  if (req->has_since) {
    sl_time_format(req->since, 1, ts);
    sl_buf_puts(&d, ",\"since\":\"");
    sl_buf_puts(&d, ts);
    sl_buf_puts(&d, "\"");
  }
  if (count_unknown(req)) {
    sl_buf_puts(&d, ",\"unknown_event_types\":");
    put_strings(&d, req->event_types, req->n_event_types, 1);
  }
  sl_buf_puts(&d, "}");

  snprintf(summary, sizeof summary,
           "Served event log request from %s (%s): %" PRId64 " events",
           req->requesting_device, c->remote, a->count);
  ev.event_type = "backfill_request_received";
  ev.category = "network";
  ev.summary = summary;
  ev.details = d.oom ? NULL : d.data;
  ev.peer_device_id = req->requesting_device;
  ev.model_types = "sync_event_log";
  ev.record_count = a->count;
  ev.has_record_count = 1;
  ev.duration_ms = duration_ms;
  ev.has_duration_ms = 1;
  int rc = sl_store_append(srv->log, &ev);
  if (rc != SL_OK)
    say(srv, "%s: could not log the request served: %s", c->remote,
        sl_status_name(rc));
  sl_buf_free(&d);
}

/* ---------------------------------------------------- one connection */

static void serve_connection(conn *c) {
  sl_server *srv = c->srv;
  sl_channel *ch = NULL;
  sl_buf frame = {0};
  char err[256];
  int rc = sl_channel_server(c->fd, srv->key, &srv->o.timeouts, &ch, err,
                             sizeof err);
  if (rc != SL_OK) {
    say(srv, "%s: handshake failed: %s", c->remote, err);
    return;
  }
  for (;;) {
    sl_message m;
    /* Requests are small: a larger one is refused before it is read. */
    rc = sl_channel_recv(ch, &frame, SL_MAX_REQUEST);
    err[0] = '\0';
    if (rc == SL_DONE) break;
    if (rc != SL_OK) {
      say(srv, "%s: %s; closing", c->remote, sl_channel_errmsg(ch));
      break;
    }
    int64_t started = mono_ms();
    rc = sl_message_parse(frame.data ? frame.data : "", frame.len, &m, err,
                          sizeof err);
    if (rc == SL_OK && m.kind != SL_MSG_REQUEST) {
      snprintf(err, sizeof err, "expected an EventLogRequest, got an "
               "EventLogResponse");
      rc = SL_INVALID;
    }
    if (rc == SL_OK && strcmp(m.request.library_id, srv->library_id) != 0) {
      snprintf(err, sizeof err, "request for library %s, this is library %s",
               m.request.library_id, srv->library_id);
      rc = SL_INVALID;
    }
    if (rc != SL_OK) {
      /* Spacedrive answers nothing to what it cannot route; nor do we. */
      say(srv, "%s: refused: %s; closing", c->remote, err);
      sl_message_clear(&m);
      break;
    }
    answer a;
    sl_store *h = NULL;
    memset(&a, 0, sizeof a);
    rc = borrow(srv, &h, err, sizeof err);
    if (rc == SL_OK) {
      rc = build(srv, h, &m.request, &a, err, sizeof err);
      give_back(srv, h);
    }
    if (rc == SL_OK) rc = sl_channel_send(ch, a.frame.data, a.frame.len);
    if (rc == SL_OK) {
      int64_t took = mono_ms() - started;
      log_served(srv, c, &m.request, &a, took);
      say(srv, "%s: device %s asked for %" PRIu32 " events: sent %" PRId64
          "%s in %" PRId64 " ms", c->remote, m.request.requesting_device,
          m.request.limit, a.count, a.has_next ? " (more to page)" : "",
          took);
    } else {
      say(srv, "%s: could not answer: %s; closing", c->remote,
          a.frame.oom || !*err ? sl_channel_errmsg(ch) : err);
    }
    sl_buf_free(&a.frame);
    sl_message_clear(&m);
    if (rc != SL_OK) break;
  }
  sl_buf_free(&frame);
  sl_channel_free(ch);
}

/* Close under the lock: sl_server_run shuts connections down by fd, which
** must not be a number the system has already handed to someone else. */
static void forget(sl_server *srv, conn *c) {
  pthread_mutex_lock(&srv->lock);
  if (c->fd >= 0) close(c->fd);
  for (conn **p = &srv->conns; *p; p = &(*p)->next)
    if (*p == c) { *p = c->next; break; }
  srv->active--;
  pthread_cond_broadcast(&srv->idle);
  pthread_mutex_unlock(&srv->lock);
  free(c);
}

static void *connection_main(void *arg) {
  conn *c = arg;
  serve_connection(c);
  forget(c->srv, c);
  return NULL;
}

/* ----------------------------------------------------------- lifecycle */

static int device_of(sl_server *srv, char *err, size_t errsz) {
  sl_store *h = NULL;
  sl_cursor *cur = NULL;
  const sl_event *ev;
  sl_filter f;
  int rc = borrow(srv, &h, err, errsz);
  if (rc != SL_OK) return rc;
  sl_filter_init(&f);
  f.limit = 1;
  rc = sl_query(h, &f, &cur);
  if (rc == SL_OK) rc = sl_cursor_next(cur, &ev);
  size_t n = 0;
  const char *dev = rc == SL_ROW ? sl_event_text(ev, SL_COL_DEVICE_ID, &n)
                                 : NULL;
  if (rc == SL_ROW && sl_uuid_parse(dev, n, srv->device_id) == SL_OK) {
    rc = SL_OK;
  } else if (rc == SL_ROW || rc == SL_DONE) {
    snprintf(err, errsz, "%s: %s; give the device id (--device)",
             srv->db_path, rc == SL_DONE ? "no events to tell this device's "
             "id by" : "its newest event's device_id is not a UUID");
    rc = SL_INVALID;
  } else {
    snprintf(err, errsz, "%s", cur ? sl_cursor_errmsg(cur)
                                   : sl_store_errmsg(h));
  }
  sl_cursor_close(cur);
  give_back(srv, h);
  return rc;
}

int sl_server_open(const sl_server_opts *o, sl_server **out, char *err,
                   size_t errsz) {
  sl_server *srv;
  sl_open_opts wo;
  int rc;
  *out = NULL;
  if (!o || !o->db_path || !o->listen || !o->key) {
    snprintf(err, errsz, "sl_server_open: db_path, listen and key needed");
    return SL_MISUSE;
  }
  if (sodium_init() < 0) {
    snprintf(err, errsz, "libsodium failed to initialise");
    return SL_ERROR;
  }
  srv = calloc(1, sizeof *srv);
  if (!srv || !(srv->db_path = sli_strdup(o->db_path))) {
    free(srv);
    snprintf(err, errsz, "out of memory");
    return SL_NOMEM;
  }
  srv->o = *o;
  srv->o.db_path = srv->db_path;
  srv->o.key = srv->key;
  srv->o.library_id = srv->o.device_id = srv->o.listen = NULL;
  if (!srv->o.max_clients) srv->o.max_clients = 64;
  if (!srv->o.max_events || srv->o.max_events > SL_MAX_EVENTS)
    srv->o.max_events = SL_MAX_EVENTS;
  if (!srv->o.max_frame || srv->o.max_frame > SL_MAX_FRAME)
    srv->o.max_frame = SL_MAX_FRAME;
  memcpy(srv->key, o->key, SL_KEY_BYTES);
  srv->listen_fd = srv->stop_pipe[0] = srv->stop_pipe[1] = -1;
  pthread_mutex_init(&srv->lock, NULL);
  pthread_cond_init(&srv->idle, NULL);

  if (o->library_id) {
    if (sl_uuid_normalize(o->library_id, srv->library_id) != SL_OK) {
      snprintf(err, errsz, "library id '%s' is not a UUID", o->library_id);
      sl_server_free(srv);
      return SL_INVALID;
    }
  } else {
    sl_key_library_id(srv->key, srv->library_id);
  }
  if (o->device_id) {
    if (sl_uuid_normalize(o->device_id, srv->device_id) != SL_OK) {
      snprintf(err, errsz, "device id '%s' is not a UUID", o->device_id);
      sl_server_free(srv);
      return SL_INVALID;
    }
  } else if ((rc = device_of(srv, err, errsz)) != SL_OK) {
    sl_server_free(srv);
    return rc;
  }
  /* Only the served-request events are written: never create anything. */
  memset(&wo, 0, sizeof wo);
  wo.mode = SL_OPEN_WRITE;
  wo.no_create = 1;
  wo.device_id = srv->device_id;
  rc = sl_store_open(srv->db_path, &wo, &srv->log);
  if (rc != SL_OK) {
    snprintf(err, errsz, "%s", sl_store_errmsg(srv->log));
    sl_server_free(srv);
    return rc;
  }
  /* Non-blocking, so that no number of stops can block a signal handler;
  ** close-on-exec, as every descriptor here. */
  if (pipe(srv->stop_pipe) != 0 ||
      fcntl(srv->stop_pipe[1], F_SETFL, O_NONBLOCK) != 0 ||
      fcntl(srv->stop_pipe[0], F_SETFD, FD_CLOEXEC) != 0 ||
      fcntl(srv->stop_pipe[1], F_SETFD, FD_CLOEXEC) != 0) {
    snprintf(err, errsz, "pipe: %s", strerror(errno));
    sl_server_free(srv);
    return SL_IOERR;
  }
  srv->listen_fd = sli_listen(o->listen, srv->address, sizeof srv->address,
                              err, errsz);
  if (srv->listen_fd < 0) {
    rc = srv->listen_fd == -2 ? SL_INVALID : SL_IOERR;
    sl_server_free(srv);
    return rc;
  }
  *out = srv;
  return SL_OK;
}

const char *sl_server_address(const sl_server *srv) {
  return srv ? srv->address : "";
}
const char *sl_server_library_id(const sl_server *srv) {
  return srv ? srv->library_id : "";
}
const char *sl_server_device_id(const sl_server *srv) {
  return srv ? srv->device_id : "";
}

void sl_server_stop(sl_server *srv) {
  if (srv && srv->stop_pipe[1] >= 0) {
    ssize_t w = write(srv->stop_pipe[1], "x", 1);
    (void)w;
  }
}

static void accept_one(sl_server *srv) {
  int fd = accept(srv->listen_fd, NULL, NULL);
  pthread_attr_t attr;
  pthread_t tid;
  conn *c;
  int one = 1;
  if (fd < 0) {
    /* Out of descriptors: the pending connection stays ready, so poll
    ** would wake at once again; wait a little for connections to end. */
    if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
        errno == ENOMEM) {
      struct timespec pause = {0, 100 * 1000000L};
      nanosleep(&pause, NULL);
    }
    return;
  }
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  c = calloc(1, sizeof *c);
  if (!c) { close(fd); return; }
  c->srv = srv;
  c->fd = fd;
  sli_peer_name(fd, c->remote, sizeof c->remote);
  pthread_mutex_lock(&srv->lock);
  if (srv->active >= srv->o.max_clients) {
    pthread_mutex_unlock(&srv->lock);
    say(srv, "%s: refused: already serving %d clients", c->remote,
        srv->o.max_clients);
    close(fd);
    free(c);
    return;
  }
  c->next = srv->conns;
  srv->conns = c;
  srv->active++;
  pthread_mutex_unlock(&srv->lock);
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  if (pthread_create(&tid, &attr, connection_main, c) != 0) {
    say(srv, "%s: refused: cannot start a thread", c->remote);
    forget(srv, c);
  }
  pthread_attr_destroy(&attr);
}

int sl_server_run(sl_server *srv) {
  if (!srv) return SL_MISUSE;
  for (;;) {
    struct pollfd p[2] = {{srv->listen_fd, POLLIN, 0},
                          {srv->stop_pipe[0], POLLIN, 0}};
    int n = poll(p, 2, -1);
    if (n < 0 && errno != EINTR) break;
    if (n <= 0) continue;
    if (p[1].revents) break;
    if (p[0].revents & POLLIN) accept_one(srv);
  }
  /* Wake every connection: a shut-down socket ends its thread's wait. */
  pthread_mutex_lock(&srv->lock);
  for (conn *c = srv->conns; c; c = c->next)
    if (c->fd >= 0) shutdown(c->fd, SHUT_RDWR);
  while (srv->active > 0) pthread_cond_wait(&srv->idle, &srv->lock);
  pthread_mutex_unlock(&srv->lock);
  return sl_store_flush(srv->log);
}

void sl_server_free(sl_server *srv) {
  if (!srv) return;
  if (srv->listen_fd >= 0) close(srv->listen_fd);
  if (srv->stop_pipe[0] >= 0) close(srv->stop_pipe[0]);
  if (srv->stop_pipe[1] >= 0) close(srv->stop_pipe[1]);
  for (size_t i = 0; i < srv->pooled; i++) sl_store_release(srv->pool[i]);
  free(srv->pool);
  if (srv->log) {
    sl_store_close(srv->log);
    sl_store_release(srv->log);
  }
  sodium_memzero(srv->key, sizeof srv->key);
  pthread_mutex_destroy(&srv->lock);
  pthread_cond_destroy(&srv->idle);
  free(srv->db_path);
  free(srv);
}
