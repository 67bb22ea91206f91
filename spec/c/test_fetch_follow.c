/*
** test_fetch_follow.c -- the follow side of the protocol (net.h,
** "Following"): the bytes of "follow" and "mark" and the refusals of bad
** ones; a server streaming a store that a writer keeps appending to, to a
** follower that stores it; the server stopped and started again on its
** port mid-stream while the writer goes on (every row stored once, in the
** writer's order); peers that go silent after the handshake (dead after 3
** heartbeats, reconnected), that answer once without a mark (Spacedrive:
** kept, said once, not retried), that hold another key (not retried) or
** that are not there (retried, the pause doubling); and how soon a stop
** ends it all.
**
** Expected texts are written out here, never produced by the code under
** test. LIB_ID is the library id of the key 00 01 ... 1f (test_net.c says
** how it was worked out).
*/
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "support.h"
#include <synclua/net.h>

static char dir[] = "/tmp/synclua-follow-XXXXXX";
#include "net_fixture.h"

static char st_name[] = "state_transition";
static char *only_st[] = {st_name};

/* ============================================================ messages */

static sl_request request(uint32_t limit) {
  sl_request r;
  memset(&r, 0, sizeof r);
  strcpy(r.library_id, LIB_ID);
  strcpy(r.requesting_device, DEV_ME);
  r.limit = limit;
  return r;
}

static void test_bytes(void) {
  sl_request req = request(100);
  sl_buf b = {0};
  sl_message m;
  char err[256] = "";

  req.has_follow = 1;
  req.heartbeat_ms = 5000;
  sl_request_write(&b, &req);
  CHECK_EQ_STR(b.data, RQ(IDS ",\"since\":null,\"event_types\":null,"
               "\"correlation_id\":null,\"limit\":100,\"follow\":"
               "{\"after\":null,\"heartbeat_ms\":5000}"));
  /* A resume, after "before" (which a follow never sends, but the order of
  ** the optional fields is fixed). */
  req.has_follow_after = 1;
  req.follow_after = 9007199254740993;
  req.has_before = 1;
  req.before = T0;
  req.before_id = 7;
  sl_buf_reset(&b);
  sl_request_write(&b, &req);
  CHECK_EQ_STR(b.data, RQ(IDS ",\"since\":null,\"event_types\":null,"
               "\"correlation_id\":null,\"limit\":100,\"before\":"
               "{\"timestamp\":\"2025-12-03T10:15:00Z\",\"id\":7},"
               "\"follow\":{\"after\":9007199254740993,"
               "\"heartbeat_ms\":5000}"));
  CHECK_EQ_INT(sl_message_parse(b.data, b.len, &m, err, sizeof err), SL_OK);
  CHECK_EQ_INT(m.request.has_follow, 1);
  CHECK_EQ_INT(m.request.has_follow_after, 1);
  CHECK_EQ_INT(m.request.follow_after, 9007199254740993);
  CHECK_EQ_INT(m.request.heartbeat_ms, 5000);
  sl_message_clear(&m);

  /* Without has_follow not a byte changes. */
  req = request(3);
  sl_buf_reset(&b);
  sl_request_write(&b, &req);
  CHECK_EQ_STR(b.data, RQ(IDS ",\"since\":null,\"event_types\":null,"
                          "\"correlation_id\":null,\"limit\":3"));

  /* A marked response; unknown members of "follow" are ignored. */
  const char *res = RS(RIDS ",\"events\":[],\"next\":{\"timestamp\":"
                       "\"2025-12-03T10:15:00Z\",\"id\":4},\"mark\":42");
  CHECK_EQ_INT(sl_message_parse(res, strlen(res), &m, err, sizeof err),
               SL_OK);
  CHECK_EQ_INT(m.response.has_mark, 1);
  CHECK_EQ_INT(m.response.mark, 42);
  CHECK_EQ_INT(m.response.has_next, 1);
  sl_message_clear(&m);
  const char *extra = RQ(IDS ",\"limit\":1,\"follow\":{\"heartbeat_ms\":100,"
                         "\"x\":[1]}");
  CHECK_EQ_INT(sl_message_parse(extra, strlen(extra), &m, err, sizeof err),
               SL_OK);
  CHECK_EQ_INT(m.request.has_follow_after, 0);
  CHECK_EQ_INT(m.request.heartbeat_ms, 100);
  sl_message_clear(&m);
  /* Without a mark, a response is as it was. */
  res = RS(RIDS ",\"events\":[]");
  CHECK_EQ_INT(sl_message_parse(res, strlen(res), &m, err, sizeof err),
               SL_OK);
  CHECK_EQ_INT(m.response.has_mark, 0);
  sl_message_clear(&m);

  static const struct { const char *json, *msg; } bad[] = {
    {RQ(IDS ",\"limit\":1,\"follow\":{\"after\":-1,\"heartbeat_ms\":100}"),
     "EventLogRequest.follow.after: expected an integer from 0 to "
     "9223372036854775807, got -1"},
    {RQ(IDS ",\"limit\":1,\"follow\":{\"after\":1.5,\"heartbeat_ms\":100}"),
     "EventLogRequest.follow.after: expected an integer from 0 to "
     "9223372036854775807, got 1.5"},
    {RQ(IDS ",\"limit\":1,\"follow\":{\"after\":\"3\",\"heartbeat_ms\":100}"),
     "EventLogRequest.follow.after: expected an integer from 0 to "
     "9223372036854775807, got a string"},
    {RQ(IDS ",\"limit\":1,\"follow\":{\"heartbeat_ms\":99}"),
     "EventLogRequest.follow.heartbeat_ms: expected an integer from 100 to "
     "60000, got 99"},
    {RQ(IDS ",\"limit\":1,\"follow\":{\"heartbeat_ms\":60001}"),
     "EventLogRequest.follow.heartbeat_ms: expected an integer from 100 to "
     "60000, got 60001"},
    {RQ(IDS ",\"limit\":1,\"follow\":{\"after\":1}"),
     "EventLogRequest.follow.heartbeat_ms: missing (required)"},
    {RQ(IDS ",\"limit\":1,\"follow\":{\"heartbeat_ms\":100,"
        "\"heartbeat_ms\":200}"),
     "EventLogRequest.follow.heartbeat_ms: given more than once"},
    {RQ(IDS ",\"limit\":1,\"follow\":true"),
     "EventLogRequest.follow: expected an object {\"after\", "
     "\"heartbeat_ms\"}, got a boolean"},
    {RS(RIDS ",\"events\":[],\"mark\":-2"),
     "EventLogResponse.mark: expected an integer from 0 to "
     "9223372036854775807, got -2"},
    {RQ(IDS ",\"limit\":-1"),
     "EventLogRequest.limit: expected an integer from 0 to 4294967295, "
     "got -1"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    err[0] = '\0';
    CHECK_EQ_INT(sl_message_parse(bad[i].json, strlen(bad[i].json), &m, err,
                                  sizeof err), SL_INVALID);
    CHECK_EQ_STR(err, bad[i].msg);
    sl_message_clear(&m);
  }
  sl_buf_free(&b);
}

/* ============================================================ a server */

/* "S 0" ... "S n-1" of DEV_A, a second apart from T0. */
static void seed(const char *path, int n) {
  sl_store *s = NULL;
  CHECK_EQ_INT(sl_store_open(path, &write_opts, &s), SL_OK);
  for (int i = 0; i < n; i++) {
    char summary[32];
    sl_event e;
    memset(&e, 0, sizeof e);
    snprintf(summary, sizeof summary, "S %d", i);
    e.has_instant = 1;
    e.instant = T0 + i * SEC;
    e.device_id = DEV_A;
    e.event_type = "state_transition";
    e.category = "lifecycle";
    e.severity = "info";
    e.summary = summary;
    CHECK_EQ_INT(sl_store_insert(s, &e, 1, 0, NULL, NULL), SL_OK);
  }
  sl_store_close(s);
  sl_store_release(s);
}

/* A writer in a thread: "W 0" ... "W n-1", each a commit of its own, one
** every `every` ms, dated an hour apart going back and forth (so that
** their ids, not their instants, say their order). */
typedef struct writer {
  const char *path;
  int         n, every;
  pthread_t   tid;
} writer;

static void *writer_main(void *arg) {
  writer *w = arg;
  sl_store *s = NULL;
  if (sl_store_open(w->path, &write_opts, &s) != SL_OK) return NULL;
  for (int i = 0; i < w->n; i++) {
    char summary[32];
    sl_event e;
    memset(&e, 0, sizeof e);
    snprintf(summary, sizeof summary, "W %d", i);
    e.has_instant = 1;
    e.instant = T0 + (int64_t)(100 + (i % 2 ? i : -i)) * 3600 * SEC;
    e.device_id = DEV_A;
    e.event_type = "state_transition";
    e.category = "lifecycle";
    e.severity = "info";
    e.summary = summary;
    sl_store_insert(s, &e, 1, 0, NULL, NULL);
    sleep_ms(w->every);
  }
  sl_store_close(s);
  sl_store_release(s);
  return NULL;
}

typedef struct served {
  sl_server *srv;
  pthread_t  tid;
  int        rc;
} served;

static void *server_main(void *arg) {
  served *s = arg;
  s->rc = sl_server_run(s->srv);
  return NULL;
}

static int serve(served *s, const char *db, const char *listen,
                 uint32_t max_events) {
  sl_server_opts o;
  char err[256] = "";
  memset(s, 0, sizeof *s);
  memset(&o, 0, sizeof o);
  o.db_path = db;
  o.device_id = DEV_A;
  o.listen = listen;
  o.key = key;
  o.max_events = max_events;
  o.timeouts = quick;
  int rc = sl_server_open(&o, &s->srv, err, sizeof err);
  CHECK_EQ_INT(rc, SL_OK);
  if (rc != SL_OK) {
    fprintf(stderr, "  sl_server_open: %s\n", err);
    return rc;
  }
  pthread_create(&s->tid, NULL, server_main, s);
  return SL_OK;
}

/* Stopped and joined; how long that took, in ms. */
static int64_t unserve(served *s) {
  int64_t t0 = now_ms();
  if (!s->srv) return 0;
  sl_server_stop(s->srv);
  pthread_join(s->tid, NULL);
  int64_t took = now_ms() - t0;
  CHECK_EQ_INT(s->rc, SL_OK);
  sl_server_free(s->srv);
  s->srv = NULL;
  return took;
}

/* The summaries of a store's rows in id order, comma-joined. */
static void summaries(const char *path, sl_buf *out) {
  sqlite3 *db;
  sqlite3_stmt *st;
  sl_buf_reset(out);
  sl_buf_puts(out, "");
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
      sqlite3_prepare_v2(db, "SELECT summary FROM sync_event_log ORDER BY id",
                         -1, &st, NULL) == SQLITE_OK) {
    while (sqlite3_step(st) == SQLITE_ROW) {
      if (out->len) sl_buf_puts(out, ",");
      sl_buf_puts(out, (const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
}

/* Wait (at most ms) until the store at path holds n rows. */
static int64_t await_rows(const char *path, int64_t n, int ms) {
  int64_t got = -1, until = now_ms() + ms;
  while ((got = scalar_at(path, "SELECT count(*) FROM sync_event_log")) < n &&
         now_ms() < until)
    sleep_ms(10);
  return got;
}

/* Lines taken so far, kept for the checks. */
typedef struct heard {
  sl_buf all;
} heard;

static void take_lines(sl_fetch_follow *f, heard *h) {
  sl_fetch_follow_lines(f, &h->all);
}

static int count_lines(heard *h, const char *line) {
  int n = 0;
  size_t len = strlen(line);
  const char *p = h->all.data;
  while (p && *p) {
    const char *end = strchr(p, '\n');
    size_t l = end ? (size_t)(end - p) : strlen(p);
    if (l == len && memcmp(p, line, len) == 0) n++;
    p = end ? end + 1 : p + l;
  }
  return n;
}

/* Wait (at most ms) until `line` was said n times. */
static int await_line(sl_fetch_follow *f, heard *h, const char *line, int n,
                      int ms) {
  int64_t until = now_ms() + ms;
  for (;;) {
    take_lines(f, h);
    int got = count_lines(h, line);
    if (got >= n || now_ms() >= until) return got;
    sl_fetch_follow_wait(f, 50);
  }
}

static sl_fetch_follow *follow1(const char *address, sl_store *to,
                                const sl_request *req,
                                const unsigned char *k, int heartbeat) {
  sl_follow_peer p;
  sl_fetch_follow *f = NULL;
  char err[256] = "";
  memset(&p, 0, sizeof p);
  p.address = address;
  p.dest = to;
  int rc = sl_fetch_follow_start(&p, 1, req, k, &quick, heartbeat, &f, err,
                                 sizeof err);
  CHECK_EQ_INT(rc, SL_OK);
  if (rc != SL_OK) fprintf(stderr, "  start: %s\n", err);
  return f;
}

static sl_store *dest(const char *name) {
  sl_store *s = NULL;
  CHECK_EQ_INT(sl_store_open(path_of(name), &write_opts, &s), SL_OK);
  return s;
}

static void drop(sl_store *s) {
  sl_store_close(s);
  sl_store_release(s);
}

/* The rows expected: "S lo".."S hi-1", then "W 0".."W n-1". */
static void expected(sl_buf *b, int lo, int hi, int n) {
  char one[32];
  sl_buf_reset(b);
  sl_buf_puts(b, "");
  for (int i = lo; i < hi; i++) {
    snprintf(one, sizeof one, "%sS %d", b->len ? "," : "", i);
    sl_buf_puts(b, one);
  }
  for (int i = 0; i < n; i++) {
    snprintf(one, sizeof one, "%sW %d", b->len ? "," : "", i);
    sl_buf_puts(b, one);
  }
}

static void test_stream(void) {
  served s;
  heard h = {{0}};
  sl_buf got = {0}, want = {0};
  char line[256];
  const char *db = path_of("stream.db");
  seed(db, 5);
  if (serve(&s, db, "127.0.0.1:0", 4) != SL_OK) return;
  const char *addr = sl_server_address(s.srv);
  sl_request req = request(3);
  req.has_event_types = 1;
  req.event_types = only_st;
  req.n_event_types = 1;
  sl_store *to = dest("stream-to.db");
  sl_fetch_follow *f = follow1(addr, to, &req, key, 200);
  snprintf(line, sizeof line, "peer %s: following device " DEV_A ": 3 "
           "events, up to event 5", addr);
  CHECK_EQ_INT(await_line(f, &h, line, 1, 3000), 1);
  /* 30 rows committed one by one, more than max_events (4) at a time
  ** when the follower looks late; each kept once, in the writer's order. */
  writer w = {db, 30, 5, 0};
  pthread_create(&w.tid, NULL, writer_main, &w);
  pthread_join(w.tid, NULL);
  CHECK_EQ_INT(await_rows(path_of("stream-to.db"), 33, 5000), 33);
  /* Heartbeats keep it alive: no reconnect in 5 heartbeats of quiet. */
  sleep_ms(1000);
  sl_follow_peer p;
  int64_t t0 = now_ms();
  CHECK_EQ_INT(sl_fetch_follow_stop(f, &p), SL_OK);
  int64_t took = now_ms() - t0;
  CHECK(took < 150);
  if (took >= 150) fprintf(stderr, "  stop took %lld ms\n", (long long)took);
  summaries(path_of("stream-to.db"), &got);
  expected(&want, 2, 5, 30);
  CHECK_EQ_STR(got.data, want.data);
  CHECK_EQ_INT(p.state, SL_FOLLOW_STOPPED);
  CHECK_EQ_INT(p.status, SL_OK);
  CHECK_EQ_STR(p.errmsg, "");
  CHECK_EQ_STR(p.responding_device, DEV_A);
  CHECK_EQ_INT(p.received, 33);
  CHECK_EQ_INT(p.inserted, 33);
  CHECK_EQ_INT(p.reconnects, 0);
  CHECK_EQ_INT(p.has_mark, 1);
  CHECK_EQ_INT(p.mark, scalar_at(db, "SELECT max(id) FROM sync_event_log "
                                     "WHERE event_type = 'state_transition'"));
  take_lines(f, &h);
  CHECK_EQ_STR(h.all.data, line[0] ? strcat(line, "\n") : "");
  sl_fetch_follow_free(f);
  sl_fetch_follow_free(NULL);
  unserve(&s);
  drop(to);
  sl_buf_free(&h.all);
  sl_buf_free(&got);
  sl_buf_free(&want);
}

/* The server stopped and started again on its port while the writer
** writes on: the follower resumes after its mark, every row once. */
static void test_restart(void) {
  served s;
  heard h = {{0}};
  sl_buf got = {0}, want = {0};
  char addr[64], line[256];
  const char *db = path_of("restart.db");
  seed(db, 2);
  if (serve(&s, db, "127.0.0.1:0", 0) != SL_OK) return;
  snprintf(addr, sizeof addr, "%s", sl_server_address(s.srv));
  sl_request req = request(10);
  req.has_event_types = 1;
  req.event_types = only_st;
  req.n_event_types = 1;
  sl_store *to = dest("restart-to.db");
  sl_fetch_follow *f = follow1(addr, to, &req, key, 200);
  writer w = {db, 60, 10, 0};
  pthread_create(&w.tid, NULL, writer_main, &w);
  for (int round = 0; round < 2; round++) {
    sleep_ms(150);
    CHECK(unserve(&s) < 150);
    sleep_ms(150);  /* rows committed while no one serves */
    int tries = 0;
    while (serve(&s, db, addr, 0) != SL_OK && tries++ < 20) sleep_ms(50);
  }
  pthread_join(w.tid, NULL);
  CHECK_EQ_INT(await_rows(path_of("restart-to.db"), 62, 10000), 62);
  sleep_ms(300);
  sl_follow_peer p;
  sl_fetch_follow_stop(f, &p);
  summaries(path_of("restart-to.db"), &got);
  expected(&want, 0, 2, 60);
  CHECK_EQ_STR(got.data, want.data);
  CHECK_EQ_INT(p.received, 62);
  CHECK_EQ_INT(p.inserted, 62);
  CHECK(p.reconnects >= 2);
  take_lines(f, &h);
  snprintf(line, sizeof line, "peer %s: connection lost (the peer closed the "
           "connection), reconnecting in 0.25 s", addr);
  CHECK_EQ_INT(count_lines(&h, line), 2);
  /* Resumed twice, each after the mark it had. */
  int resumed = 0;
  for (const char *q = h.all.data; q && (q = strstr(q, ": resumed after "
                                                    "event ")); q++)
    resumed++;
  CHECK_EQ_INT(resumed, 2);
  if (resumed != 2) fprintf(stderr, "%s", h.all.data);
  sl_fetch_follow_free(f);
  unserve(&s);
  drop(to);
  sl_buf_free(&h.all);
  sl_buf_free(&got);
  sl_buf_free(&want);
}

/* ============================================================ fake peers */

/* A peer that holds the key and then does as told: answer nothing, or
** answer once without a mark and close. Counts its connections. */
typedef struct fake {
  int             fd;
  char            address[64];
  int             answer;     /* 1: a Spacedrive answer, then close        */
  pthread_t       tid;
  pthread_mutex_t lock;
  int             accepted;
  int             stop;
} fake;

static void *fake_main(void *arg) {
  fake *fk = arg;
  for (;;) {
    struct pollfd p = {fk->fd, POLLIN, 0};
    pthread_mutex_lock(&fk->lock);
    int stop = fk->stop;
    pthread_mutex_unlock(&fk->lock);
    if (stop) break;
    if (poll(&p, 1, 20) <= 0) continue;
    int c = accept(fk->fd, NULL, NULL);
    if (c < 0) continue;
    pthread_mutex_lock(&fk->lock);
    fk->accepted++;
    pthread_mutex_unlock(&fk->lock);
    sl_channel *ch = NULL;
    sl_buf in = {0};
    char err[256];
    if (sl_channel_server(c, key, &quick, &ch, err, sizeof err) == SL_OK &&
        sl_channel_recv(ch, &in, SL_MAX_REQUEST) == SL_OK) {
      if (fk->answer) {
        const char *res = RS(RIDS ",\"events\":["
          "{\"category\":\"lifecycle\",\"device_id\":\"" DEV_A "\","
          "\"event_type\":\"state_transition\",\"id\":9,\"severity\":\"info\","
          "\"summary\":\"new\",\"timestamp\":\"2025-12-03T10:15:01Z\"},"
          "{\"category\":\"lifecycle\",\"device_id\":\"" DEV_A "\","
          "\"event_type\":\"state_transition\",\"id\":8,\"severity\":\"info\","
          "\"summary\":\"old\",\"timestamp\":\"2025-12-03T10:15:00Z\"}]");
        sl_channel_send(ch, res, strlen(res));
      } else {
        /* Silent: hold it until the follower gives up on it. */
        struct pollfd q = {c, POLLIN, 0};
        while (poll(&q, 1, 5000) > 0) {
          char b[256];
          if (recv(c, b, sizeof b, 0) <= 0) break;
        }
      }
    }
    sl_buf_free(&in);
    sl_channel_free(ch);
    close(c);
  }
  return NULL;
}

static void fake_start(fake *fk, int answer) {
  struct sockaddr_in sa;
  socklen_t len = sizeof sa;
  memset(fk, 0, sizeof *fk);
  fk->answer = answer;
  pthread_mutex_init(&fk->lock, NULL);
  fk->fd = socket(AF_INET, SOCK_STREAM, 0);
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  bind(fk->fd, (struct sockaddr *)&sa, sizeof sa);
  listen(fk->fd, 8);
  getsockname(fk->fd, (struct sockaddr *)&sa, &len);
  snprintf(fk->address, sizeof fk->address, "127.0.0.1:%u",
           (unsigned)ntohs(sa.sin_port));
  pthread_create(&fk->tid, NULL, fake_main, fk);
}

static int fake_stop(fake *fk) {
  pthread_mutex_lock(&fk->lock);
  fk->stop = 1;
  pthread_mutex_unlock(&fk->lock);
  pthread_join(fk->tid, NULL);
  close(fk->fd);
  pthread_mutex_destroy(&fk->lock);
  return fk->accepted;
}

static void test_silent_peer(void) {
  fake fk;
  heard h = {{0}};
  char line[256];
  fake_start(&fk, 0);
  sl_request req = request(10);
  sl_store *to = dest("silent-to.db");
  int64_t t0 = now_ms();
  sl_fetch_follow *f = follow1(fk.address, to, &req, key, 200);
  snprintf(line, sizeof line, "peer %s: connection lost (silent for 0.6 s: "
           "no heartbeat), reconnecting in 0.25 s", fk.address);
  CHECK_EQ_INT(await_line(f, &h, line, 1, 3000), 1);
  int64_t took = now_ms() - t0;
  CHECK(took >= 600 && took < 1500);
  snprintf(line, sizeof line, "peer %s: connection lost (silent for 0.6 s: "
           "no heartbeat), reconnecting in 0.5 s", fk.address);
  CHECK_EQ_INT(await_line(f, &h, line, 1, 3000), 1);
  sl_follow_peer p;
  sl_fetch_follow_peers(f, &p);
  CHECK_EQ_INT(p.state, SL_FOLLOW_CONNECTING);
  CHECK_EQ_INT(p.status, SL_TIMEOUT);
  CHECK_EQ_STR(p.errmsg, "silent for 0.6 s: no heartbeat");
  CHECK_EQ_INT(p.reconnects, 1);
  /* Stopped in its pause or its wait: at once either way. */
  t0 = now_ms();
  sl_fetch_follow_stop(f, &p);
  CHECK(now_ms() - t0 < 150);
  CHECK_EQ_INT(p.state, SL_FOLLOW_STOPPED);
  CHECK_EQ_INT(p.received, 0);
  CHECK_EQ_INT(p.has_mark, 0);
  sl_fetch_follow_free(f);
  CHECK(fake_stop(&fk) >= 2);
  drop(to);
  sl_buf_free(&h.all);
}

static void test_spacedrive_peer(void) {
  fake fk;
  heard h = {{0}};
  char line[256];
  fake_start(&fk, 1);
  sl_request req = request(10);
  sl_store *to = dest("sd-to.db");
  sl_fetch_follow *f = follow1(fk.address, to, &req, key, 200);
  snprintf(line, sizeof line, "peer %s: does not stream: it answered once "
           "(2 events) without a mark; not reconnecting", fk.address);
  CHECK_EQ_INT(await_line(f, &h, line, 1, 3000), 1);
  /* Nothing more to wait for once its thread has ended (which it says
  ** once more, after the line): no peer follows. */
  int64_t t0 = now_ms();
  while (sl_fetch_follow_wait(f, 2000) == SL_OK && now_ms() - t0 < 2000) {}
  CHECK(now_ms() - t0 < 1000);
  t0 = now_ms();
  CHECK_EQ_INT(sl_fetch_follow_wait(f, 2000), SL_DONE);
  CHECK(now_ms() - t0 < 100);
  sleep_ms(600);
  sl_follow_peer p;
  sl_fetch_follow_stop(f, &p);
  CHECK_EQ_INT(p.state, SL_FOLLOW_ANSWERED);
  CHECK_EQ_INT(p.status, SL_OK);
  CHECK_EQ_INT(p.received, 2);
  CHECK_EQ_INT(p.inserted, 2);
  CHECK_EQ_INT(p.reconnects, 0);
  CHECK_EQ_INT(p.has_mark, 0);
  take_lines(f, &h);
  CHECK_EQ_STR(h.all.data, strcat(line, "\n"));
  sl_buf got = {0};
  summaries(path_of("sd-to.db"), &got);
  CHECK_EQ_STR(got.data, "old,new");
  sl_buf_free(&got);
  sl_fetch_follow_free(f);
  CHECK_EQ_INT(fake_stop(&fk), 1);
  drop(to);
  sl_buf_free(&h.all);
}

static void test_wrong_key_and_refused(void) {
  served s;
  heard h = {{0}};
  char line[256], addr[64];
  const char *db = path_of("key.db");
  seed(db, 1);
  if (serve(&s, db, "127.0.0.1:0", 0) != SL_OK) return;
  sl_request req = request(10);
  sl_store *to = dest("key-to.db");
  sl_fetch_follow *f = follow1(sl_server_address(s.srv), to, &req,
                               wrong_key, 200);
  snprintf(line, sizeof line, "peer %s: stopped: the peer does not hold this "
           "library's key (its handshake proof does not verify)",
           sl_server_address(s.srv));
  CHECK_EQ_INT(await_line(f, &h, line, 1, 3000), 1);
  sleep_ms(400);
  sl_follow_peer p;
  sl_fetch_follow_stop(f, &p);
  CHECK_EQ_INT(p.state, SL_FOLLOW_FAILED);
  CHECK_EQ_INT(p.status, SL_INVALID);
  CHECK_EQ_INT(p.reconnects, 0);
  take_lines(f, &h);
  CHECK_EQ_STR(h.all.data, strcat(line, "\n"));
  sl_fetch_follow_free(f);
  /* Nobody there: tried again and again, the pause doubling. */
  snprintf(addr, sizeof addr, "%s", sl_server_address(s.srv));
  unserve(&s);
  sl_buf_reset(&h.all);
  f = follow1(addr, to, &req, key, 200);
  snprintf(line, sizeof line, "peer %s: cannot connect (cannot connect to "
           "%s: Connection refused), trying again in 0.5 s", addr, addr);
  CHECK_EQ_INT(await_line(f, &h, line, 1, 3000), 1);
  sl_fetch_follow_stop(f, &p);
  CHECK_EQ_INT(p.state, SL_FOLLOW_STOPPED);
  CHECK_EQ_INT(p.status, SL_IOERR);
  CHECK_EQ_INT(p.reconnects, 1); /* the third try stopped in its pause */
  snprintf(line, sizeof line, "peer %s: cannot connect (cannot connect to "
           "%s: Connection refused), trying again in 0.25 s", addr, addr);
  CHECK_EQ_INT(count_lines(&h, line), 1);
  sl_fetch_follow_free(f);
  /* Misuse. */
  sl_follow_peer two[2];
  char err[256] = "";
  sl_fetch_follow *none = NULL;
  memset(two, 0, sizeof two);
  two[0].address = two[1].address = addr;
  two[0].dest = two[1].dest = to;
  CHECK_EQ_INT(sl_fetch_follow_start(two, 2, &req, key, NULL, 0, &none, err,
                                     sizeof err), SL_MISUSE);
  CHECK_EQ_STR(err, "peers 1 and 2: the same store");
  CHECK(none == NULL);
  CHECK_EQ_INT(sl_fetch_follow_start(two, 1, &req, key, NULL, 99, &none, err,
                                     sizeof err), SL_MISUSE);
  drop(to);
  sl_buf_free(&h.all);
}

int main(void) {
  if (net_fixture_init() != 0) {
    perror("synclua-follow");
    return 1;
  }
  test_bytes();
  test_stream();
  test_restart();
  test_silent_peer();
  test_spacedrive_peer();
  test_wrong_key_and_refused();
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
  return check_report("fetch_follow");
}
