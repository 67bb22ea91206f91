/*
** sl_server.c -- `synclua serve`: answers EventLogRequests for one store.
**
** Strangers and clients are kept apart. A connection that has sent nothing
** waits in the accepting thread's poll, costing no thread; its first byte
** gives it a thread for the handshake; only once through the handshake
** does it take a client slot. Strangers have a budget of their own (in
** all, and per address) and a deadline counted from the accept, and a
** newcomer over the budget takes the place of the oldest silent one: so
** sockets opened and left silent, however many and however fast, never
** hold what a key holder needs. What happens to strangers is logged at
** most once per address per interval, with a count.
**
** Each client has a thread of its own, so a slow one only ever holds its
** own, until its timeout. The threads borrow read-only store handles from
** a small pool (a handle is one thread's at a time, synclua.h), so
** answering never opens the database for writing; the one write is the
** events of requests served, aggregated per requester and appended from
** any thread to the writer's lock-free queue.
**
** A follow request (net.h, "Following") keeps its connection and its slot:
** its thread sends the first answer, then waits on the store's watch
** beside the socket and streams each commit's new rows, with a heartbeat
** when nothing went for a while.
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

#define NAME_MAX_LEN   64
#define NOISY_MAX      64     /* addresses whose refusals are told apart    */
#define REQUESTERS_MAX 64     /* requesters told apart in an interval       */
#define ACCEPT_BURST   64     /* connections taken per wake of the poll     */

typedef enum conn_state {
  C_QUIET,                    /* accepted, nothing heard: in the poll       */
  C_HANDSHAKE,                /* heard: its thread runs the handshake       */
  C_SERVING                   /* through the handshake: a client slot       */
} conn_state;

typedef struct conn conn;
struct conn {
  sl_server *srv;
  int        fd;
  conn_state state;
  int64_t    deadline;        /* the handshake's: accept + handshake_ms     */
  char       remote[NAME_MAX_LEN];
  char       addr[NAME_MAX_LEN]; /* remote without its port                 */
  conn      *next;
};

/* What happened to one address's strangers this interval. */
typedef struct noise {
  char       addr[NAME_MAX_LEN]; /* "" for the other addresses              */
  int64_t    since;           /* when its interval began (its last line)    */
  long       count;           /* refusals since its last line               */
  char       last[272];       /* the last one's reason (and remote)        */
} noise;

/* The requests of one requester this interval, beyond the first. */
typedef struct requester {
  char       device[SL_UUID_BUFSZ]; /* "" for the other requesters          */
  int64_t    until;           /* when its interval ends; 0: idle (others)   */
  int64_t    requests, events, ms, cut_short;
  char       remote[NAME_MAX_LEN]; /* the last request's                     */
} requester;

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
  conn          **quiet;      /* the accepting thread's own: silent
                                 strangers, oldest first                   */
  int             n_quiet;
  struct pollfd  *polls;      /* listen, stop, then each of quiet           */

  pthread_mutex_t lock;       /* guards everything below                    */
  pthread_cond_t  idle;       /* signalled when a connection ends           */
  conn           *conns;      /* connections with a thread                  */
  int             handshaking;/* of those, in the handshake                 */
  int             active;     /* of those, through it                       */
  sl_store      **pool;       /* read-only handles not in use               */
  size_t          pooled, pool_cap;
  noise           noises[NOISY_MAX + 1]; /* the last: other addresses      */
  int             n_noises;
  requester       reqs[REQUESTERS_MAX + 1]; /* the last: other requesters  */
  int             n_reqs;
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

/* A span of milliseconds as a person reads it: "10.0 s". */
static void span(int64_t ms, char *out, size_t outsz) {
  snprintf(out, outsz, "%" PRId64 ".%" PRId64 " s", ms / 1000,
           ms % 1000 / 100);
}

static noise *other_addresses(sl_server *srv) {
  return &srv->noises[NOISY_MAX];
}

/* The line that says what an interval counted. */
static void noise_line(const noise *e, int64_t now, char *line,
                       size_t linesz) {
  char took[32];
  span(now - e->since, took, sizeof took);
  if (e->addr[0])
    snprintf(line, linesz, "%s: %ld more connection%s refused in %s (the "
             "last: %s)", e->addr, e->count, e->count == 1 ? "" : "s", took,
             e->last);
  else
    snprintf(line, linesz, "%ld more connection%s refused from other "
             "addresses in %s (the last: %s)", e->count,
             e->count == 1 ? "" : "s", took, e->last);
}

/*
** What happened to a stranger's connection (or to a client refused a
** slot): said at once when its address has said nothing this interval,
** else counted, to be said when the interval ends (tick). The table of
** addresses is bounded; addresses past it are counted together, never said
** at once. So whoever floods us, the log grows by at most a line per
** address (of 64) and one more per interval.
*/
static void stranger(sl_server *srv, const conn *c, const char *fmt, ...)
#ifdef __GNUC__
  __attribute__((format(printf, 3, 4)))
#endif
  ;

static void stranger(sl_server *srv, const conn *c, const char *fmt, ...) {
  char reason[200], line[512] = "";
  int64_t interval = srv->o.refusal_interval_ms;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(reason, sizeof reason, fmt, ap);
  va_end(ap);
  pthread_mutex_lock(&srv->lock);
  int64_t now = sli_mono_ms();
  noise *e = NULL;
  for (int i = 0; i < srv->n_noises; i++)
    if (strcmp(srv->noises[i].addr, c->addr) == 0) e = &srv->noises[i];
  if (e && now - e->since >= interval) {
    /* Its interval is over (the tick has not come yet): say what it
    ** counted, and count this in the next; or, if nothing, start anew. */
    if (e->count > 0) {
      noise_line(e, now, line, sizeof line);
      e->count = 1;
      snprintf(e->last, sizeof e->last, "%s", reason);
    } else {
      snprintf(line, sizeof line, "%s: %s", c->remote, reason);
    }
    e->since = now;
  } else if (e) {
    e->count++;
    snprintf(e->last, sizeof e->last, "%s", reason);
  } else if (srv->n_noises < NOISY_MAX) {
    e = &srv->noises[srv->n_noises++];
    snprintf(e->addr, sizeof e->addr, "%s", c->addr);
    e->since = now;
    e->count = 0;
    snprintf(line, sizeof line, "%s: %s", c->remote, reason);
  } else {
    e = other_addresses(srv);
    if (e->count == 0) e->since = now;
    e->count++;
    snprintf(e->last, sizeof e->last, "%s: %s", c->remote, reason);
  }
  pthread_mutex_unlock(&srv->lock);
  if (line[0]) say(srv, "%s", line);
}

/* Intervals that have ended (all of them, at the end): say what they
** counted. An address whose interval counted nothing is forgotten. */
static void tick_noise(sl_server *srv, int64_t now, int all) {
  char lines[NOISY_MAX + 1][512];
  int n = 0;
  int64_t interval = srv->o.refusal_interval_ms;
  pthread_mutex_lock(&srv->lock);
  for (int i = 0; i < srv->n_noises;) {
    noise *e = &srv->noises[i];
    if (!all && now - e->since < interval) { i++; continue; }
    if (e->count > 0) {
      noise_line(e, now, lines[n++], sizeof lines[0]);
      e->count = 0;
      e->since = now;
      if (!all) { i++; continue; }
    }
    *e = srv->noises[--srv->n_noises];
  }
  noise *o = other_addresses(srv);
  if (o->count > 0 && (all || now - o->since >= interval)) {
    noise_line(o, now, lines[n++], sizeof lines[0]);
    o->count = 0;
  }
  pthread_mutex_unlock(&srv->lock);
  for (int i = 0; i < n; i++) say(srv, "%s", lines[i]);
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

/* A response's opening, up to its events. */
static void frame_open(const sl_server *srv, sl_buf *b) {
  sl_buf_puts(b, "{\"EventLogResponse\":{\"library_id\":\"");
  sl_buf_puts(b, srv->library_id);
  sl_buf_puts(b, "\",\"responding_device\":\"");
  sl_buf_puts(b, srv->device_id);
  sl_buf_puts(b, "\",\"events\":[");
}

/* A follow stream's "mark", closing a frame's fields. */
static void put_mark(sl_buf *b, int64_t mark) {
  char num[40];
  snprintf(num, sizeof num, ",\"mark\":%" PRId64, mark);
  sl_buf_puts(b, num);
}

/* The filter of what a request asks for, but time: the server's own
** device, the event types (each known name once, at most 13, in `known`),
** the correlation id, since. 0 when nothing can match: only names that
** are no event type (Spacedrive would drop the filter; an empty list
** filters nothing, as in Spacedrive). */
static int matching(const sl_server *srv, const sl_request *req,
                    const char **known, size_t *n_known, sl_filter *f) {
  sl_filter_init(f);
  f->device = srv->device_id;
  if (req->has_since) { f->since = req->since; f->has_since = 1; }
  if (req->has_correlation_id) f->correlation_id = req->correlation_id;
  if (!req->has_event_types) return 1;
  for (size_t i = 0; i < req->n_event_types; i++) {
    int t = sl_event_type_from_name(req->event_types[i]);
    size_t j = 0;
    while (j < *n_known && strcmp(known[j], req->event_types[i])) j++;
    if (t >= 0 && j == *n_known) known[(*n_known)++] = req->event_types[i];
  }
  f->event_types = known;
  f->n_event_types = *n_known;
  return *n_known > 0 || count_unknown(req) == 0;
}

/* Build the response. The cursor is read lazily: a request for the 100
** newest events of a million-row store reads about 100 rows. With a mark
** (>= 0: the first answer of a follow stream), rows above it are left out
** -- the stream sends them -- and the frame ends with "mark". */
static int build(sl_server *srv, sl_store *h, const sl_request *req,
                 int64_t mark, answer *a, char *err, size_t errsz) {
  sl_filter f;
  sl_cursor *cur = NULL;
  sl_buf one = {0};
  const sl_event *ev = NULL;
  size_t unknown = count_unknown(req);
  uint32_t want = req->limit < srv->o.max_events ? req->limit
                                                 : srv->o.max_events;
  /* Room for the closing fields: the unknown names and "next". */
  size_t tail = 160 + (mark >= 0 ? 32 : 0);
  for (size_t i = 0; i < req->n_event_types; i++)
    tail += 8 + 6 * strlen(req->event_types[i]);
  int rc = SL_OK;

  frame_open(srv, &a->frame);
  /* What the client will spend decoding it (sl_decode_cost adds up: the
  ** opening, each event, and the closing fields at their longest). */
  size_t cost = sl_decode_cost(a->frame.data, a->frame.len, 0, NULL);
  {
    sl_buf closing = {0};
    sl_buf_puts(&closing, "],\"unknown_event_types\":");
    put_strings(&closing, req->event_types, req->n_event_types, 1);
    sl_buf_puts(&closing, ",\"next\":");
    sli_put_position(&closing, INT64_MAX, INT64_MAX);
    if (mark >= 0) put_mark(&closing, INT64_MAX);
    sl_buf_puts(&closing, "}}");
    cost += sl_decode_cost(closing.data, closing.len, 3, NULL);
    sl_buf_free(&closing);
  }

  /* [since, now], as Spacedrive's handler (spacedrive-compat.md 10.4): a
  ** row dated after this server's clock is not sent, since or no since;
  ** "before" narrows it further. */
  int64_t now = sl_time_now();
  if (!matching(srv, req, a->known, &a->n_known, &f)) want = 0;
  f.has_until = 1;
  f.until = req->has_before && req->before < now ? req->before : now;

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
    if (mark >= 0 && ev->id > mark) continue; /* the stream's to send */
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
    size_t its = sl_decode_cost(one.data, one.len, 3, NULL);
    if (a->frame.len + one.len + 1 + tail > srv->o.max_frame ||
        cost + its > srv->o.max_decode) {
      if (a->count == 0 && cost + its > srv->o.max_decode) {
        snprintf(err, errsz, "event %" PRId64 " alone would take %zu bytes "
                 "to decode, over the limit of %zu", ev->id, cost + its,
                 srv->o.max_decode);
        rc = SL_ERROR;
      } else if (a->count == 0) {
        snprintf(err, errsz, "event %" PRId64 " alone is over the frame "
                 "limit of %zu bytes", ev->id, srv->o.max_frame);
        rc = SL_ERROR;
      } else {
        a->has_next = 1;
      }
      break;
    }
    cost += its;
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
  if (mark >= 0) put_mark(&a->frame, mark);
  sl_buf_puts(&a->frame, "}}");
  if (a->frame.oom) {
    snprintf(err, errsz, "out of memory");
    return SL_NOMEM;
  }
  return SL_OK;
}

/* The event that records a requester's first request (compact details,
** sorted). */
static void log_one(sl_server *srv, const conn *c, const sl_request *req,
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
  sl_buf_puts(&d, ",\"request\":\"EventLogRequest\",\"requests\":1");
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

/* The event that sums a requester's requests over an interval. */
static void log_sum(sl_server *srv, const requester *r) {
  sl_buf d = {0};
  char summary[320], num[160];
  sl_event ev;
  memset(&ev, 0, sizeof ev);
  snprintf(num, sizeof num, "{\"cut_short\":%" PRId64 ",\"remote\":",
           r->cut_short);
  sl_buf_puts(&d, num);
  sl_json_write_string(&d, r->remote, strlen(r->remote));
  snprintf(num, sizeof num, ",\"request\":\"EventLogRequest\","
           "\"requests\":%" PRId64 "}", r->requests);
  sl_buf_puts(&d, num);
  if (r->device[0])
    snprintf(summary, sizeof summary, "Served %" PRId64 " more event log "
             "request%s from %s (the last from %s): %" PRId64 " events",
             r->requests, r->requests == 1 ? "" : "s", r->device, r->remote,
             r->events);
  else
    snprintf(summary, sizeof summary, "Served %" PRId64 " event log "
             "request%s from other devices (over %d requesters; the last "
             "from %s): %" PRId64 " events", r->requests,
             r->requests == 1 ? "" : "s", REQUESTERS_MAX, r->remote,
             r->events);
  ev.event_type = "backfill_request_received";
  ev.category = "network";
  ev.summary = summary;
  ev.details = d.oom ? NULL : d.data;
  ev.peer_device_id = r->device[0] ? r->device : NULL;
  ev.model_types = "sync_event_log";
  ev.record_count = r->events;
  ev.has_record_count = 1;
  ev.duration_ms = r->ms;
  ev.has_duration_ms = 1;
  int rc = sl_store_append(srv->log, &ev);
  if (rc != SL_OK)
    say(srv, "could not log %" PRId64 " requests served: %s", r->requests,
        sl_status_name(rc));
  sl_buf_free(&d);
}

static requester *other_requesters(sl_server *srv) {
  return &srv->reqs[REQUESTERS_MAX];
}

/* Take a requester's sum for logging and start its next interval. */
static void take_sum(requester *r, requester *out, int64_t now,
                     int64_t interval) {
  *out = *r;
  r->requests = r->events = r->ms = r->cut_short = 0;
  r->until = now + interval;
}

/*
** A request served, as the batch aggregator takes records: a requester's
** first is logged at once; those that follow are summed until its
** interval ends, then logged as one event (tick_served, or here when the
** next request finds the interval over); a requester whose interval summed
** nothing is forgotten, and its next request is a first again. Past
** REQUESTERS_MAX requesters, the rest are summed together.
*/
static void served(sl_server *srv, const conn *c, const sl_request *req,
                   const answer *a, int64_t ms) {
  int64_t interval = srv->o.served_interval_ms;
  requester *r = NULL, done;
  int first = 0, flush = 0;
  pthread_mutex_lock(&srv->lock);
  int64_t now = sli_mono_ms();
  for (int i = 0; i < srv->n_reqs; i++)
    if (strcmp(srv->reqs[i].device, req->requesting_device) == 0)
      r = &srv->reqs[i];
  if (!r && srv->n_reqs < REQUESTERS_MAX) {
    r = &srv->reqs[srv->n_reqs++];
    memset(r, 0, sizeof *r);
    snprintf(r->device, sizeof r->device, "%s", req->requesting_device);
    r->until = now + interval;
    first = 1;
  } else if (!r) {
    r = other_requesters(srv);
    if (r->until == 0) r->until = now + interval;
  }
  if (!first && now >= r->until) {
    if (r->requests > 0) {
      take_sum(r, &done, now, interval);
      flush = 1;
    } else if (r->device[0]) {
      r->until = now + interval; /* a quiet interval: a first again */
      first = 1;
    } else {
      r->until = now + interval;
    }
  }
  if (!first) {
    r->requests++;
    r->events += a->count;
    r->ms += ms;
    r->cut_short += a->has_next;
    snprintf(r->remote, sizeof r->remote, "%s", c->remote);
  }
  pthread_mutex_unlock(&srv->lock);
  if (flush) log_sum(srv, &done);
  if (first) log_one(srv, c, req, a, ms);
}

/* Requesters' intervals that have ended (all of them, at the end). */
static void tick_served(sl_server *srv, int64_t now, int all) {
  requester done[REQUESTERS_MAX + 1];
  int n = 0;
  int64_t interval = srv->o.served_interval_ms;
  pthread_mutex_lock(&srv->lock);
  for (int i = 0; i < srv->n_reqs;) {
    requester *r = &srv->reqs[i];
    if (!all && now < r->until) { i++; continue; }
    if (r->requests > 0) {
      take_sum(r, &done[n++], now, interval);
      if (!all) { i++; continue; }
    }
    *r = srv->reqs[--srv->n_reqs];
  }
  requester *o = other_requesters(srv);
  if (o->until && (all || now >= o->until)) {
    if (o->requests > 0) take_sum(o, &done[n++], now, interval);
    else o->until = 0;
  }
  pthread_mutex_unlock(&srv->lock);
  for (int i = 0; i < n; i++) log_sum(srv, &done[i]);
}

/* -------------------------------------------------- follow streams */

/* A follow stream (net.h, "Following"): the rows it has covered, and
** what it has said. One per connection, in the connection's thread. */
typedef struct stream {
  conn             *c;
  sl_channel       *ch;
  const sl_request *req;
  sl_filter         f;          /* what it streams, from `mark` on         */
  const char       *known[SL_EVENT_TYPE_COUNT];
  size_t            n_known;
  int               none;       /* only unknown types: nothing matches     */
  int64_t           mark;       /* the highest row id covered              */
  char              identity[64]; /* the file the mark is of ("DEV:INO")   */
  int64_t           sent;       /* events streamed                         */
  int64_t           frames;     /* frames streamed, heartbeats too         */
  int64_t           last_send;  /* when the last frame went (mono ms)      */
  size_t            cost0;      /* decode cost of a frame with no events   */
  size_t            opening;    /* its bytes up to the events              */
  size_t            empty;      /* its bytes at most (the longest mark)    */
} stream;

typedef struct streamed_row {
  int64_t id;
  size_t  at, len;              /* its JSON in the window's text           */
} streamed_row;

static int by_id(const void *x, const void *y) {
  int64_t a = ((const streamed_row *)x)->id, b = ((const streamed_row *)y)->id;
  return a < b ? -1 : a > b;
}

/* Send a frame of a stream: its events (opened by frame_open, joined by
** ","), then the mark. */
static int stream_send(stream *s, sl_buf *frame, int64_t mark) {
  sl_buf_puts(frame, "]");
  put_mark(frame, mark);
  sl_buf_puts(frame, "}}");
  if (frame->oom) return SL_NOMEM;
  int rc = sl_channel_send(s->ch, frame->data, frame->len);
  s->frames++;
  s->last_send = sli_mono_ms();
  return rc;
}

/* The matching rows with ids in (s->mark, hi], at most max_events of
** them (ids are never reused: AUTOINCREMENT), oldest first by id, in
** frames under the caps; each frame's mark is its last row's id, the
** last one's hi. A window with nothing to send moves the mark alone: the
** next frame or heartbeat carries it. A row that alone breaks a cap
** cannot be sent to anyone: it is said in the log and left out. */
static int stream_window(stream *s, sl_store *h, int64_t hi, char *err,
                         size_t errsz) {
  sl_server *srv = s->c->srv;
  sl_buf text = {0}, frame = {0};
  streamed_row *rows = NULL;
  size_t n = 0, cap = 0;
  sl_cursor *cur = NULL;
  const sl_event *ev;
  int rc = SL_OK;
  s->f.after_id = s->mark;
  if (!s->none) {
    rc = sl_query(h, &s->f, &cur);
    if (rc != SL_OK) snprintf(err, errsz, "%s", sl_store_errmsg(h));
  }
  while (rc == SL_OK && cur) {
    rc = sl_cursor_next(cur, &ev);
    if (rc == SL_DONE) { rc = SL_OK; break; }
    if (rc != SL_ROW) {
      snprintf(err, errsz, "%s", sl_cursor_errmsg(cur));
      break;
    }
    rc = SL_OK;
    /* Above hi: committed since the look, the next window's. */
    if (ev->id > hi || sl_event_skipped(ev)) continue;
    if (n == cap) {
      size_t more = cap ? 2 * cap : 64;
      streamed_row *r = realloc(rows, more * sizeof *r);
      if (!r) { rc = SL_NOMEM; break; }
      rows = r;
      cap = more;
    }
    rows[n].id = ev->id;
    rows[n].at = text.len;
    rc = sl_render_event_reads(&text, ev, SL_RENDER_NDJSON_DEVICE,
                               SL_JSON_READS_PROTOCOL);
    if (rc != SL_OK) {
      snprintf(err, errsz, "event %" PRId64 ": %s", ev->id,
               sl_status_name(rc));
      break;
    }
    text.len--; /* the newline */
    rows[n].len = text.len - rows[n].at;
    n++;
  }
  sl_cursor_close(cur);
  if (rc == SL_OK && text.oom) rc = SL_NOMEM;
  if (rc == SL_NOMEM) snprintf(err, errsz, "out of memory");
  if (rc == SL_OK && n > 1) qsort(rows, n, sizeof *rows, by_id);
  size_t count = 0, cost = s->cost0;
  int64_t last = s->mark;
  for (size_t i = 0; rc == SL_OK && i < n; i++) {
    const char *json = text.data + rows[i].at;
    size_t its = sl_decode_cost(json, rows[i].len, 3, NULL);
    if (s->cost0 + its > srv->o.max_decode ||
        s->empty + rows[i].len > srv->o.max_frame) {
      say(srv, "%s: event %" PRId64 " alone is over the limits of a frame: "
          "not streamed", s->c->remote, rows[i].id);
      continue;
    }
    if (count > 0 && (count == srv->o.max_events ||
                      frame.len + 1 + rows[i].len + s->empty - s->opening >
                        srv->o.max_frame ||
                      cost + its > srv->o.max_decode)) {
      rc = stream_send(s, &frame, last);
      count = 0;
    }
    if (count == 0) {
      sl_buf_reset(&frame);
      frame_open(srv, &frame);
      cost = s->cost0;
    } else {
      sl_buf_puts(&frame, ",");
    }
    sl_buf_append(&frame, json, rows[i].len);
    cost += its;
    count++;
    s->sent++;
    last = rows[i].id;
  }
  if (rc == SL_OK && count > 0) rc = stream_send(s, &frame, hi);
  if (rc == SL_OK) s->mark = hi;
  else if (!*err) snprintf(err, errsz, "%s", frame.oom ? "out of memory"
                                            : sl_channel_errmsg(s->ch));
  free(rows);
  sl_buf_free(&text);
  sl_buf_free(&frame);
  return rc;
}

/* Stream what was committed since the last look. */
static int stream_look(stream *s, char *err, size_t errsz) {
  sl_store *h = NULL;
  int64_t top = 0;
  int rc = borrow(s->c->srv, &h, err, errsz);
  if (rc != SL_OK) return rc;
  if ((rc = sl_store_max_id(h, &top)) != SL_OK)
    snprintf(err, errsz, "%s", sl_store_errmsg(h));
  /* The file was replaced: its ids are not the ones the mark counts. The
  ** stream ends; the client's resume is answered as a start. */
  if (rc == SL_OK && strcmp(sl_store_identity(h), s->identity) != 0) {
    snprintf(err, errsz, "the store was replaced");
    rc = SL_DONE;
  }

  while (rc == SL_OK && top > s->mark) {
    int64_t room = s->c->srv->o.max_events;
    rc = stream_window(s, h, top - s->mark > room ? s->mark + room : top,
                       err, errsz);
  }
  give_back(s->c->srv, h);
  return rc;
}

/* A frame with no events and the mark: the stream lives. */
static int heartbeat(stream *s) {
  sl_buf frame = {0};
  frame_open(s->c->srv, &frame);
  int rc = stream_send(s, &frame, s->mark);
  sl_buf_free(&frame);
  return rc;
}

/* A start's first answer: the pages a request gets, rows above the mark
** left out, sent one after another; the events sent go in *count. */
static int first_answer(stream *s, sl_store *h, int64_t *count, char *err,
                        size_t errsz) {
  sl_server *srv = s->c->srv;
  sl_request r = *s->req;
  int rc;
  *count = 0;
  for (;;) {
    answer a;
    memset(&a, 0, sizeof a);
    rc = build(srv, h, &r, s->mark, &a, err, errsz);
    if (rc == SL_OK) {
      rc = sl_channel_send(s->ch, a.frame.data, a.frame.len);
      if (rc != SL_OK) snprintf(err, errsz, "%s", sl_channel_errmsg(s->ch));
    }
    sl_buf_free(&a.frame);
    if (rc != SL_OK) return rc;
    s->frames++;
    s->last_send = sli_mono_ms();
    *count += a.count;
    if (!a.has_next || a.count == 0) return SL_OK;
    r.has_before = 1;
    r.before = a.next;
    r.before_id = a.next_id;
    r.limit = s->req->limit - (uint32_t)*count;
  }
}

/* Why a stream's client is gone, when its socket is readable: it closed,
** or sent something (a client sends nothing while it follows), or its
** connection broke. NULL when nothing was there after all. */
static const char *client_gone(conn *c, char *why, size_t whysz) {
  char b;
  ssize_t r = recv(c->fd, &b, 1, MSG_PEEK);
  if (r > 0) return "the client sent more than its request";
  if (r == 0) return "the client closed the connection";
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return NULL;
  snprintf(why, whysz, "%s", strerror(errno));
  return why;
}

/*
** A follow request: the first answer (unless it resumes), then each
** commit's new rows as the store's watch tells of them, and a heartbeat
** when nothing went for heartbeat_ms. The watch is made before the mark
** is taken, so that no commit falls between them; when the system gives
** no watch, the store is looked at every heartbeat instead. The wait is a
** poll of the socket beside the watch: sl_server_run's shutdown of the
** socket, or the client going, ends it at once. One request served is
** counted for the aggregated events however long the stream lasts.
*/
static void follow(conn *c, sl_channel *ch, const sl_request *req,
                   int64_t started) {
  sl_server *srv = c->srv;
  sl_watch *w = NULL;
  sl_store *h = NULL;
  stream s;
  char err[256] = "", why[160] = "", took[32];
  const char *end = NULL;
  int rc;
  memset(&s, 0, sizeof s);
  s.c = c;
  s.ch = ch;
  s.req = req;
  s.none = !matching(srv, req, s.known, &s.n_known, &s.f);
  s.f.ascending = 1;
  s.f.has_after_id = 1;
  {
    sl_buf closing = {0}, opening = {0};
    frame_open(srv, &opening);
    sl_buf_puts(&closing, "]");
    put_mark(&closing, INT64_MAX);
    sl_buf_puts(&closing, "}}");
    s.cost0 = sl_decode_cost(opening.data, opening.len, 0, NULL) +
              sl_decode_cost(closing.data, closing.len, 3, NULL);
    s.opening = opening.len;
    s.empty = opening.len + closing.len;
    sl_buf_free(&opening);
    sl_buf_free(&closing);
  }
  if (sl_watch_new(srv->db_path, &w) != SL_OK) {
    say(srv, "%s: cannot watch the store (%s): looking every %" PRIu32
        " ms instead", c->remote, sl_watch_errmsg(w), req->heartbeat_ms);
    sl_watch_free(w);
    w = NULL;
  }
  answer sum;
  memset(&sum, 0, sizeof sum);
  rc = borrow(srv, &h, err, sizeof err);
  if (rc == SL_OK && (rc = sl_store_max_id(h, &s.mark)) != SL_OK)
    snprintf(err, sizeof err, "%s", sl_store_errmsg(h));
  if (rc == SL_OK)
    snprintf(s.identity, sizeof s.identity, "%s", sl_store_identity(h));
  /* A resume after an id this store does not reach has a mark of another
  ** file (this one replaced it): it is answered as a start. */
  int resume = req->has_follow_after && req->follow_after <= s.mark;
  if (rc == SL_OK && resume) s.mark = req->follow_after;
  else if (rc == SL_OK) rc = first_answer(&s, h, &sum.count, err, sizeof err);
  if (h) give_back(srv, h);
  if (rc != SL_OK) {
    say(srv, "%s: could not answer: %s; closing", c->remote, err);
    sl_watch_free(w);
    return;
  }
  served(srv, c, req, &sum, sli_mono_ms() - started);
  if (resume)
    say(srv, "%s: device %s follows, resuming after event %" PRId64
        " (heartbeat %" PRIu32 " ms)", c->remote, req->requesting_device,
        s.mark, req->heartbeat_ms);
  else
    say(srv, "%s: device %s follows: sent %" PRId64 " events up to event %"
        PRId64 ", streaming from there (heartbeat %" PRIu32 " ms)",
        c->remote, req->requesting_device, sum.count, s.mark,
        req->heartbeat_ms);

  /* A resume's first frame goes at once: what came after its mark, or a
  ** heartbeat that says the stream is on. */
  int64_t frames = s.frames;
  rc = stream_look(&s, err, sizeof err);
  if (rc == SL_OK && resume && s.frames == frames)
    rc = heartbeat(&s);
  /* A commit's first write to the -wal wakes the watch before readers see
  ** the commit: a wake whose look finds nothing looks again after 2, 4,
  ** ... 64 ms (as a local follower does), not at the next heartbeat. */
  int retry = 0;
  while (rc == SL_OK) {
    struct pollfd p[2] = {{c->fd, POLLIN, 0}, {sl_watch_fd(w), POLLIN, 0}};
    int64_t due = s.last_send + req->heartbeat_ms - sli_mono_ms();
    int wait = due > 0 ? (int)due : 0;
    if (retry && retry < wait) wait = retry;
    int n = poll(p, w ? 2 : 1, wait);
    if (n < 0 && errno != EINTR) {
      snprintf(why, sizeof why, "poll: %s", strerror(errno));
      end = why;
      break;
    }
    if (n > 0 && p[0].revents &&
        (end = client_gone(c, why, sizeof why)) != NULL)
      break;
    if (n > 0 && w && p[1].revents) {
      rc = sl_watch_wait(w, 0); /* what it says is read: it may say again */
      if (rc == SL_IOERR) {
        say(srv, "%s: the store's watch failed (%s): looking every %" PRIu32
            " ms instead", c->remote, sl_watch_errmsg(w), req->heartbeat_ms);
        sl_watch_free(w);
        w = NULL;
      }
      frames = s.frames;
      rc = stream_look(&s, err, sizeof err);
      retry = rc == SL_OK && s.frames == frames ? 2 : 0;
    } else if (retry) {
      frames = s.frames;
      rc = stream_look(&s, err, sizeof err);
      retry = rc == SL_OK && s.frames == frames && retry < 64 ? 2 * retry : 0;
    } else if (sli_mono_ms() >= s.last_send + req->heartbeat_ms) {
      /* A look too, should the file system not have told. */
      frames = s.frames;
      rc = stream_look(&s, err, sizeof err);
      if (rc == SL_OK && s.frames == frames) rc = heartbeat(&s);
    }
  }
  if (rc != SL_OK && !end) end = *err ? err : sl_channel_errmsg(ch);
  span(sli_mono_ms() - started, took, sizeof took);
  say(srv, "%s: device %s stopped following (%s): %" PRId64 " events "
      "streamed in %s, up to event %" PRId64, c->remote,
      req->requesting_device, end, s.sent, took, s.mark);
  sl_watch_free(w);
}

/* ---------------------------------------------------- one connection */

/* A client through the handshake: its requests until it goes. */
static void serve_client(conn *c, sl_channel *ch) {
  sl_server *srv = c->srv;
  sl_buf frame = {0};
  char err[256];
  int rc;
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
    int64_t started = sli_mono_ms();
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
    if (m.request.has_follow) {
      /* The connection is the stream's from here to its end. */
      follow(c, ch, &m.request, started);
      sl_message_clear(&m);
      break;
    }
    answer a;
    sl_store *h = NULL;
    memset(&a, 0, sizeof a);
    rc = borrow(srv, &h, err, sizeof err);
    if (rc == SL_OK) {
      rc = build(srv, h, &m.request, -1, &a, err, sizeof err);
      give_back(srv, h);
    }
    if (rc == SL_OK) rc = sl_channel_send(ch, a.frame.data, a.frame.len);
    if (rc == SL_OK) {
      int64_t took = sli_mono_ms() - started;
      served(srv, c, &m.request, &a, took);
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
}

/* Close under the lock: sl_server_run shuts connections down by fd, which
** must not be a number the system has already handed to someone else. */
static void forget(sl_server *srv, conn *c) {
  pthread_mutex_lock(&srv->lock);
  if (c->fd >= 0) close(c->fd);
  for (conn **p = &srv->conns; *p; p = &(*p)->next)
    if (*p == c) { *p = c->next; break; }
  if (c->state == C_HANDSHAKE) srv->handshaking--;
  if (c->state == C_SERVING) srv->active--;
  pthread_cond_broadcast(&srv->idle);
  pthread_mutex_unlock(&srv->lock);
  free(c);
}

/* A stranger that has spoken: the rest of its handshake deadline to prove
** the key, then a client slot if one is free. */
static void *connection_main(void *arg) {
  conn *c = arg;
  sl_server *srv = c->srv;
  sl_channel *ch = NULL;
  sl_timeouts t = srv->o.timeouts;
  char err[256];
  int64_t left = c->deadline - sli_mono_ms();
  t.handshake_ms = left > 1 ? (int)left : 1;
  int rc = sl_channel_server(c->fd, srv->key, &t, &ch, err, sizeof err);
  int full = 0;
  pthread_mutex_lock(&srv->lock);
  if (rc == SL_OK) {
    full = srv->active >= srv->o.max_clients;
    if (!full) {
      srv->handshaking--;
      srv->active++;
      c->state = C_SERVING;
    }
  }
  pthread_mutex_unlock(&srv->lock);
  if (rc != SL_OK)
    stranger(srv, c, "handshake failed: %s", err);
  else if (full)
    stranger(srv, c, "refused: already serving %d clients",
             srv->o.max_clients);
  else
    serve_client(c, ch);
  sl_channel_free(ch);
  forget(srv, c);
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
  if (srv->o.max_clients <= 0) srv->o.max_clients = 64;
  if (!srv->o.max_events || srv->o.max_events > SL_MAX_EVENTS)
    srv->o.max_events = SL_MAX_EVENTS;
  if (!srv->o.max_frame || srv->o.max_frame > SL_MAX_FRAME)
    srv->o.max_frame = SL_MAX_FRAME;
  if (!srv->o.max_decode || srv->o.max_decode > SL_MAX_DECODE)
    srv->o.max_decode = SL_MAX_DECODE;
  /* A stranger's handshake is four small messages: 2 s is plenty on any
  ** network a sync engine works over, and what a silent socket costs. */
  if (srv->o.timeouts.handshake_ms <= 0) srv->o.timeouts.handshake_ms = 2000;
  if (srv->o.max_unauthenticated <= 0) srv->o.max_unauthenticated = 32;
  if (srv->o.max_per_address <= 0) srv->o.max_per_address = 4;
  if (srv->o.refusal_interval_ms <= 0) srv->o.refusal_interval_ms = 10000;
  if (srv->o.served_interval_ms <= 0) srv->o.served_interval_ms = 30000;
  srv->quiet = calloc((size_t)srv->o.max_unauthenticated, sizeof *srv->quiet);
  srv->polls = calloc((size_t)srv->o.max_unauthenticated + 2,
                      sizeof *srv->polls);
  memcpy(srv->key, o->key, SL_KEY_BYTES);
  srv->listen_fd = srv->stop_pipe[0] = srv->stop_pipe[1] = -1;
  pthread_mutex_init(&srv->lock, NULL);
  pthread_cond_init(&srv->idle, NULL);
  if (!srv->quiet || !srv->polls) {
    snprintf(err, errsz, "out of memory");
    sl_server_free(srv);
    return SL_NOMEM;
  }

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
  /* Accepting drains the backlog in bursts, then goes back to the poll. */
  int flags = fcntl(srv->listen_fd, F_GETFL);
  if (flags < 0 || fcntl(srv->listen_fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    snprintf(err, errsz, "cannot listen on %s: %s", o->listen,
             strerror(errno));
    sl_server_free(srv);
    return SL_IOERR;
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

/* "HOST" of "HOST:PORT" or "[V6]:PORT": strangers are counted by it. */
static void address_of(const char *remote, char *out, size_t outsz) {
  const char *colon = strrchr(remote, ':');
  size_t n = colon ? (size_t)(colon - remote) : strlen(remote);
  if (n >= outsz) n = outsz - 1;
  memcpy(out, remote, n);
  out[n] = '\0';
}

/* Strangers from addr (every stranger when addr is NULL), silent and in
** their handshake. The caller holds the lock. */
static int strangers(const sl_server *srv, const char *addr) {
  int n = 0;
  for (int i = 0; i < srv->n_quiet; i++)
    if (!addr || strcmp(srv->quiet[i]->addr, addr) == 0) n++;
  if (!addr) return n + srv->handshaking;
  for (const conn *c = srv->conns; c; c = c->next)
    if (c->state == C_HANDSHAKE && strcmp(c->addr, addr) == 0) n++;
  return n;
}

static void unquiet(sl_server *srv, int i) {
  memmove(&srv->quiet[i], &srv->quiet[i + 1],
          (size_t)(srv->n_quiet - i - 1) * sizeof *srv->quiet);
  srv->n_quiet--;
}

/* Its first byte came: a thread for the rest of the handshake. */
static void promote(sl_server *srv, int i) {
  conn *c = srv->quiet[i];
  pthread_attr_t attr;
  pthread_t tid;
  unquiet(srv, i);
  pthread_mutex_lock(&srv->lock);
  c->state = C_HANDSHAKE;
  c->next = srv->conns;
  srv->conns = c;
  srv->handshaking++;
  pthread_mutex_unlock(&srv->lock);
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  if (pthread_create(&tid, &attr, connection_main, c) != 0) {
    stranger(srv, c, "refused: cannot start a thread");
    forget(srv, c);
  }
  pthread_attr_destroy(&attr);
}

/* Said before it is closed: whoever sees the close finds it said. */
static void drop_quiet(sl_server *srv, int i, const char *reason) {
  conn *c = srv->quiet[i];
  unquiet(srv, i);
  stranger(srv, c, "%s", reason);
  close(c->fd);
  free(c);
}

/* What a silent stranger has done: 1 spoken (its handshake can go on), 0
** still silent; or -1 gone (hung up, reset), and then let go here, without
** a thread to learn it. */
static int heard(sl_server *srv, int i) {
  char b, why[128];
  ssize_t r = recv(srv->quiet[i]->fd, &b, 1, MSG_PEEK);
  if (r > 0) return 1;
  if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
    return 0;
  if (r == 0)
    snprintf(why, sizeof why, "handshake failed: connection closed in the "
             "handshake");
  else
    snprintf(why, sizeof why, "handshake failed: in the handshake: %s",
             strerror(errno));
  drop_quiet(srv, i, why);
  return -1;
}

/* Make room for a newcomer from addr (any address when NULL): drop the
** oldest stranger that is still silent. One found to have spoken meanwhile
** goes on to its handshake, and one that hung up is let go; neither is
** dropped for the newcomer. 1 if room was made. */
static int make_room(sl_server *srv, const char *addr) {
  for (int i = 0; i < srv->n_quiet;) {
    if (addr && strcmp(srv->quiet[i]->addr, addr) != 0) { i++; continue; }
    int h = heard(srv, i);
    if (h < 0) return 1;
    if (h > 0) {
      promote(srv, i);
      continue;
    }
    drop_quiet(srv, i, "dropped: silent while newer connections waited");
    return 1;
  }
  return 0;
}

/* A new connection: a place among the strangers, or refused. */
static void admit(sl_server *srv, int fd, int64_t now) {
  conn *c = calloc(1, sizeof *c);
  int one = 1;
  if (!c) { close(fd); return; }
  c->srv = srv;
  c->fd = fd;
  c->state = C_QUIET;
  c->deadline = now + srv->o.timeouts.handshake_ms;
  sli_peer_name(fd, c->remote, sizeof c->remote);
  address_of(c->remote, c->addr, sizeof c->addr);
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  int flags = fcntl(fd, F_GETFL);
  if (flags >= 0) fcntl(fd, F_SETFL, flags | O_NONBLOCK);

  const char *refusal = NULL;
  char why[96];
  pthread_mutex_lock(&srv->lock);
  int full = srv->active >= srv->o.max_clients;
  int here = strangers(srv, c->addr);
  pthread_mutex_unlock(&srv->lock);
  if (full) {
    /* No client slot to give: nothing worth a handshake. */
    snprintf(why, sizeof why, "refused: already serving %d clients",
             srv->o.max_clients);
    refusal = why;
  } else if (here >= srv->o.max_per_address && !make_room(srv, c->addr)) {
    snprintf(why, sizeof why, "refused: already %d unauthenticated "
             "connections from this address", srv->o.max_per_address);
    refusal = why;
  } else {
    pthread_mutex_lock(&srv->lock);
    int all = strangers(srv, NULL);
    pthread_mutex_unlock(&srv->lock);
    if (all >= srv->o.max_unauthenticated && !make_room(srv, NULL)) {
      snprintf(why, sizeof why, "refused: already %d unauthenticated "
               "connections", srv->o.max_unauthenticated);
      refusal = why;
    }
  }
  if (refusal) {
    stranger(srv, c, "%s", refusal);
    close(fd);
    free(c);
    return;
  }
  /* A client that has spoken already (its hello comes right after its
  ** connect) goes straight on: only the silent ones can be dropped. */
  srv->quiet[srv->n_quiet++] = c;
  if (heard(srv, srv->n_quiet - 1) > 0) promote(srv, srv->n_quiet - 1);
}

static void accept_some(sl_server *srv, int64_t now) {
  for (int k = 0; k < ACCEPT_BURST; k++) {
    int fd = accept(srv->listen_fd, NULL, NULL);
    if (fd >= 0) {
      admit(srv, fd, now);
      continue;
    }
    /* Out of descriptors: the pending connection stays ready, so poll
    ** would wake at once again; wait a little for connections to end. */
    if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
        errno == ENOMEM) {
      struct timespec pause = {0, 100 * 1000000L};
      nanosleep(&pause, NULL);
    }
    if (errno != EINTR && errno != ECONNABORTED) return;
  }
}

/* Milliseconds until something is due: a stranger's deadline, the end of
** an interval; -1 for nothing. */
static int next_due(sl_server *srv, int64_t now) {
  int64_t due = INT64_MAX;
  for (int i = 0; i < srv->n_quiet; i++)
    if (srv->quiet[i]->deadline < due) due = srv->quiet[i]->deadline;
  pthread_mutex_lock(&srv->lock);
  for (int i = 0; i < srv->n_noises; i++)
    if (srv->noises[i].since + srv->o.refusal_interval_ms < due)
      due = srv->noises[i].since + srv->o.refusal_interval_ms;
  if (srv->noises[NOISY_MAX].count > 0 &&
      srv->noises[NOISY_MAX].since + srv->o.refusal_interval_ms < due)
    due = srv->noises[NOISY_MAX].since + srv->o.refusal_interval_ms;
  for (int i = 0; i <= REQUESTERS_MAX; i++) {
    if (i < REQUESTERS_MAX && i >= srv->n_reqs) continue;
    if (srv->reqs[i].until && srv->reqs[i].until < due)
      due = srv->reqs[i].until;
  }
  pthread_mutex_unlock(&srv->lock);
  if (due == INT64_MAX) return -1;
  if (due <= now) return 0;
  return due - now > 60000 ? 60000 : (int)(due - now);
}

int sl_server_run(sl_server *srv) {
  if (!srv) return SL_MISUSE;
  for (;;) {
    int64_t now = sli_mono_ms();
    int timeout = next_due(srv, now), nq = srv->n_quiet;
    srv->polls[0] = (struct pollfd){srv->listen_fd, POLLIN, 0};
    srv->polls[1] = (struct pollfd){srv->stop_pipe[0], POLLIN, 0};
    for (int i = 0; i < nq; i++)
      srv->polls[2 + i] = (struct pollfd){srv->quiet[i]->fd, POLLIN, 0};
    int n = poll(srv->polls, (nfds_t)nq + 2, timeout);
    if (n < 0 && errno != EINTR) break;
    if (n > 0 && srv->polls[1].revents) break;
    now = sli_mono_ms();
    /* Strangers: those heard go to their handshake, those silent past
    ** their deadline are let go. Oldest first; the array shrinks as it
    ** goes, and the poll's entries stay in step with it. */
    for (int i = 0, k = 0; k < nq; k++) {
      conn *c = srv->quiet[i];
      int h = n > 0 && srv->polls[2 + k].revents ? heard(srv, i) : 0;
      if (h > 0) {
        promote(srv, i);
      } else if (h < 0) {
        continue; /* let go */
      } else if (now >= c->deadline) {
        drop_quiet(srv, i, "handshake failed: timed out in the handshake");
      } else {
        i++;
      }
    }
    if (n > 0 && (srv->polls[0].revents & POLLIN)) accept_some(srv, now);
    tick_noise(srv, now, 0);
    tick_served(srv, now, 0);
  }
  /* Strangers are let go unsaid; a shut-down socket ends a thread's wait. */
  while (srv->n_quiet > 0) {
    conn *c = srv->quiet[--srv->n_quiet];
    close(c->fd);
    free(c);
  }
  pthread_mutex_lock(&srv->lock);
  for (conn *c = srv->conns; c; c = c->next)
    if (c->fd >= 0) shutdown(c->fd, SHUT_RDWR);
  while (srv->conns) pthread_cond_wait(&srv->idle, &srv->lock);
  pthread_mutex_unlock(&srv->lock);
  tick_noise(srv, sli_mono_ms(), 1);
  tick_served(srv, sli_mono_ms(), 1);
  return sl_store_flush(srv->log);
}

void sl_server_free(sl_server *srv) {
  if (!srv) return;
  if (srv->listen_fd >= 0) close(srv->listen_fd);
  if (srv->stop_pipe[0] >= 0) close(srv->stop_pipe[0]);
  if (srv->stop_pipe[1] >= 0) close(srv->stop_pipe[1]);
  for (size_t i = 0; i < srv->pooled; i++) sl_store_release(srv->pool[i]);
  free(srv->pool);
  free(srv->quiet);
  free(srv->polls);
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
