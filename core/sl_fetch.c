/*
** sl_fetch.c -- the cross-device fetcher Spacedrive's code leaves for
** later: one thread per peer, each connecting, proving the key, sending
** the EventLogRequest and paging through responses a cap cut short, its
** events stored as they arrive. A peer that is down, slow, holds another
** key or sends garbage fails alone, with the reason on its record; so does
** one that would keep us forever (a deadline for the whole exchange, a cap
** on pages) or cost too much memory (one response held at a time, and
** weighed before it is decoded: sl_message_parse).
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

typedef struct job {
  sl_fetch_peer       *peer;
  const sl_request    *req;
  const unsigned char *key;
  const sl_timeouts   *t;
  pthread_t            tid;
  int                  started;
} job;

static int fail(sl_fetch_peer *p, int status, const char *fmt, ...)
#ifdef __GNUC__
  __attribute__((format(printf, 3, 4)))
#endif
  ;

static int fail(sl_fetch_peer *p, int status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(p->errmsg, sizeof p->errmsg, fmt, ap);
  va_end(ap);
  p->status = status;
  return status;
}

/* Keep the peer's list of names it did not know (first response). */
static void note_unknown(sl_fetch_peer *p, const sl_response *res) {
  size_t at = 0;
  if (p->pages > 1) return;
  for (size_t i = 0; i < res->n_unknown_event_types; i++) {
    int n = snprintf(p->unknown_event_types + at,
                     sizeof p->unknown_event_types - at, "%s%s",
                     i ? "," : "", res->unknown_event_types[i]);
    if (n < 0 || (size_t)n >= sizeof p->unknown_event_types - at) break;
    at += (size_t)n;
  }
}

static void reverse(sl_event *evs, size_t n) {
  for (size_t i = 0; i < n / 2; i++) {
    sl_event t = evs[i];
    evs[i] = evs[n - 1 - i];
    evs[n - 1 - i] = t;
  }
}

/* An event's instant, or INT64_MIN for a time that does not parse (the
** insert refuses it later, naming it). */
static int64_t instant_of(const sl_event *ev) {
  int64_t t;
  if (sl_event_time(ev, &t) != SL_OK) return INT64_MIN;
  return t;
}

/* A page in response order (newest first, equal instants in the order
** sent) into storing order: oldest first, equal instants still in the
** order sent. The whole page reversed, then each run of one instant
** reversed back. */
static void oldest_first(sl_event *evs, size_t n) {
  reverse(evs, n);
  for (size_t i = 0; i < n;) {
    size_t j = i + 1;
    int64_t t = instant_of(&evs[i]);
    while (j < n && instant_of(&evs[j]) == t) j++;
    reverse(evs + i, j - i);
    i = j;
  }
}

/*
** Store one response's events in dest: at most `asked` of them, each the
** responding device's (a peer answers for its own log only, as
** Spacedrive's handler does: another device's events from it would be
** stored as that device's). A page of a response comes newest first, equal
** instants by ascending id (newest_first): it is stored oldest first, and
** events of the same instant keep their order through the ids they are
** given here; a follow stream's frame is already oldest first. SL_OK, or a
** status and the message in err; the events read and the rows made are
** added to *received and *inserted either way.
*/
int sli_fetch_store(sl_store *dest, const sl_response *res, uint32_t asked,
                    int newest_first, int64_t *received, size_t *inserted,
                    char *err, size_t errsz) {
  sl_event *evs = NULL;
  size_t n = 0, made = 0;
  sl_buf arena = {0};
  char why[200];
  int rc;
  if (res->events->length > asked) {
    snprintf(err, errsz, "sent %zu events when %" PRIu32 " were asked for",
             res->events->length, asked);
    return SL_INVALID;
  }
  rc = sl_response_events(res->events, &evs, &n, &arena, why, sizeof why);
  if (rc != SL_OK) {
    sl_buf_free(&arena);
    snprintf(err, errsz, "sent a response that cannot be stored: %s", why);
    return rc;
  }
  for (size_t i = 0; i < n; i++) {
    char id[SL_UUID_BUFSZ];
    size_t len;
    const char *dev = sl_event_text(&evs[i], SL_COL_DEVICE_ID, &len);
    if (sl_uuid_parse(dev, len, id) != SL_OK ||
        strcmp(id, res->responding_device) != 0) {
      snprintf(err, errsz, "sent garbage: event %zu is device %.40s's, not "
               "the responding device %s's", i + 1, evs[i].device_id,
               res->responding_device);
      free(evs);
      sl_buf_free(&arena);
      return SL_INVALID;
    }
  }
  if (newest_first) oldest_first(evs, n);
  rc = sl_store_insert(dest, evs, n, 1, &made, NULL);
  if (rc != SL_OK) snprintf(err, errsz, "%s", sl_store_errmsg(dest));
  free(evs);
  sl_buf_free(&arena);
  *received += (int64_t)n;
  *inserted += made;
  return rc;
}

int sli_fetch_response(sl_buf *in, const char *library, sl_message *m,
                       char *err, size_t errsz) {
  int rc = sl_message_parse(in->data ? in->data : "", in->len, m, err,
                            errsz);
  /* The tree holds what it needs: one response's bytes at a time (the
  ** channel reads the next into a buffer of its own). */
  sl_buf_free(in);
  if (rc == SL_OK && m->kind != SL_MSG_RESPONSE) {
    snprintf(err, errsz, "expected an EventLogResponse, got an "
             "EventLogRequest");
    rc = SL_INVALID;
  }
  if (rc == SL_OK && strcmp(m->response.library_id, library) != 0) {
    snprintf(err, errsz, "answered for library %s, not %s",
             m->response.library_id, library);
    rc = SL_INVALID;
  }
  return rc;
}

/* Store one response's events; SL_OK or the failure recorded on p. */
static int take(sl_fetch_peer *p, const sl_response *res, uint32_t asked) {
  char err[256];
  int rc = sli_fetch_store(p->dest, res, asked, 1, &p->received, &p->inserted,
                        err, sizeof err);
  if (rc != SL_OK) fail(p, rc, "%s", err);
  return rc;
}

/* The deadline passed: say so, with what came before it. */
static void out_of_time(sl_fetch_peer *p, int total_ms) {
  char when[32];
  if (total_ms % 1000)
    snprintf(when, sizeof when, "%d ms", total_ms);
  else
    snprintf(when, sizeof when, "%d s", total_ms / 1000);
  fail(p, SL_TIMEOUT, "did not finish within the deadline of %s: %d "
       "response%s, %" PRId64 " event%s so far", when, p->pages,
       p->pages == 1 ? "" : "s", p->received, p->received == 1 ? "" : "s");
}

static void fetch_one(job *j) {
  sl_fetch_peer *p = j->peer;
  sl_channel *ch = NULL;
  sl_buf out = {0}, in = {0};
  sl_request r = *j->req;
  sl_timeouts t = *j->t;
  char err[256];
  int rc;
  int max_pages = p->max_pages > 0 ? p->max_pages : SL_FETCH_MAX_PAGES;
  /* The whole exchange, from the connect: however punctually a peer
  ** answers, one page a second cannot keep us for hours. */
  if (t.total_ms <= 0) t.total_ms = SL_FETCH_DEADLINE_MS;
  int64_t end = sli_mono_ms() + t.total_ms;
  int connect_ms = t.handshake_ms > 0 ? t.handshake_ms : 5000;
  if (connect_ms > t.total_ms) connect_ms = t.total_ms;
  int fd = sli_connect(p->address, connect_ms, err, sizeof err);
  if (fd < 0) {
    fail(p, fd == -2 ? SL_INVALID : SL_IOERR, "%s", err);
    return;
  }
  int64_t left = end - sli_mono_ms();
  if (left <= 0) {
    out_of_time(p, t.total_ms);
    close(fd);
    return;
  }
  sl_timeouts rest = t;
  rest.total_ms = (int)left;
  rc = sl_channel_client(fd, j->key, &rest, &ch, err, sizeof err);
  if (rc != SL_OK) {
    if (sli_mono_ms() >= end) out_of_time(p, t.total_ms);
    else fail(p, rc, "%s", err);
    close(fd);
    return;
  }
  for (;;) {
    sl_message m;
    if (p->pages >= max_pages) {
      fail(p, SL_ERROR, "needed more than %d response%s (the cap on "
           "pages): %" PRId64 " event%s so far", max_pages,
           max_pages == 1 ? "" : "s", p->received,
           p->received == 1 ? "" : "s");
      break;
    }
    sl_buf_reset(&out);
    sl_request_write(&out, &r);
    if (out.oom) { fail(p, SL_NOMEM, "out of memory"); break; }
    rc = sl_channel_send(ch, out.data, out.len);
    if (rc == SL_OK) rc = sl_channel_recv(ch, &in, SL_MAX_FRAME);
    if (rc == SL_DONE) {
      fail(p, SL_INVALID, "closed the connection without answering (it "
           "refused the request: another library?)");
      break;
    }
    if (rc != SL_OK) {
      if (sli_mono_ms() >= end) out_of_time(p, t.total_ms);
      else fail(p, rc, "%s", sl_channel_errmsg(ch));
      break;
    }
    rc = sli_fetch_response(&in, r.library_id, &m, err, sizeof err);
    if (rc != SL_OK) {
      fail(p, rc, "sent garbage: %s", err);
      sl_message_clear(&m);
      break;
    }
    if (p->pages > 0 &&
        strcmp(p->responding_device, m.response.responding_device) != 0) {
      fail(p, SL_INVALID, "sent garbage: answered as device %s, then as %s",
           p->responding_device, m.response.responding_device);
      sl_message_clear(&m);
      break;
    }
    p->pages++;
    memcpy(p->responding_device, m.response.responding_device,
           SL_UUID_BUFSZ);
    note_unknown(p, &m.response);
    rc = take(p, &m.response, r.limit);
    int more = rc == SL_OK && m.response.has_next &&
               p->received < (int64_t)j->req->limit;
    if (more) {
      p->capped = 1;
      /* Each page must start strictly older than the last, or a broken
      ** peer could keep us paging forever. */
      if (m.response.events->length == 0 ||
          (r.has_before &&
           (m.response.next > r.before ||
            (m.response.next == r.before &&
             m.response.next_id <= r.before_id)))) {
        fail(p, SL_INVALID, "sent garbage: its \"next\" position does not "
             "move on");
        more = 0;
      }
      r.has_before = 1;
      r.before = m.response.next;
      r.before_id = m.response.next_id;
      r.limit = j->req->limit - (uint32_t)p->received;
    }
    sl_message_clear(&m);
    if (!more) break;
  }
  sl_buf_free(&out);
  sl_buf_free(&in);
  sl_channel_free(ch);
  close(fd);
}

static void *fetch_main(void *arg) {
  fetch_one(arg);
  return NULL;
}

int sl_fetch(sl_fetch_peer *peers, size_t n, const sl_request *req,
             const unsigned char key[SL_KEY_BYTES], const sl_timeouts *t) {
  sl_timeouts none = {0, 0, 0, 0};
  job *jobs = calloc(n ? n : 1, sizeof *jobs);
  int rc = SL_OK;
  if (!jobs) {
    for (size_t i = 0; i < n; i++)
      fail(&peers[i], SL_NOMEM, "out of memory");
    return SL_NOMEM;
  }
  if (!t) t = &none;
  for (size_t i = 0; i < n; i++) {
    sl_fetch_peer *p = &peers[i];
    p->status = SL_OK;
    p->errmsg[0] = p->responding_device[0] = p->unknown_event_types[0] = 0;
    p->received = 0;
    p->inserted = 0;
    p->pages = p->capped = 0;
    jobs[i] = (job){p, req, key, t, 0, 0};
    if (!p->dest) {
      fail(p, SL_MISUSE, "no store to keep its events in");
      continue;
    }
    if (pthread_create(&jobs[i].tid, NULL, fetch_main, &jobs[i]) == 0)
      jobs[i].started = 1;
    else
      fail(p, SL_ERROR, "cannot start a thread");
  }
  for (size_t i = 0; i < n; i++) {
    if (jobs[i].started) pthread_join(jobs[i].tid, NULL);
    if (peers[i].status != SL_OK && rc == SL_OK) rc = peers[i].status;
  }
  free(jobs);
  return rc;
}

