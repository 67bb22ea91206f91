/*
** sl_emit.c -- the typed emitters: one function per kind of event a sync
** engine logs, writing Spacedrive's exact summaries and details keys
** (compat section 4), and Spacedrive's peer selection, so that the
** simulator and the reports share one formula. Also the public face of the
** batch aggregator (sl_batch.c), which state transitions flush.
*/
#include <stdio.h>
#include <string.h>

#include "sli.h"

/* Whole days of chrono's maximum Duration: what Spacedrive logs as the age
** of a watermark that does not exist. */
#define NO_WATERMARK_DAYS INT64_C(106751991167)

/* ---------------------------------------------------------- batches */

static int writable(sl_store *s) {
  if (!s) return SL_MISUSE;
  if (SLI_LOAD(&s->closed))
    return sli_fail_here(SL_MISUSE, "store is closed");
  if (!s->writer)
    return sli_fail_here(SL_READONLY, "%s: opened read-only", s->path);
  return SL_OK;
}

/* The status of a batch call's queueing, with the thread's message. */
static int queued(sl_store *s, int rc) {
  if (rc == SL_FULL)
    return sli_fail_here(rc, "%s: the log's queue is full (dropped and "
                         "counted)", s->path);
  if (rc == SL_NOMEM) return sli_fail_here(rc, "out of memory");
  if (rc == SL_MISUSE) return sli_fail_here(rc, "store is closed");
  return rc;
}

int sl_batch_add(sl_store *s, const char *model_type, int64_t count,
                 const char *peer, const char *correlation_id, int64_t at) {
  int rc = writable(s);
  if (rc != SL_OK) return rc;
  if (!model_type || !*model_type || strchr(model_type, ','))
    return sli_fail_here(SL_INVALID,
                    "model_type: a model type name without ',' expected");
  if (count < 0)
    return sli_fail_here(SL_INVALID, "count: negative (%lld)",
                    (long long)count);
  if (!s->device_id)
    return sli_fail_here(SL_INVALID, "device_id: the store has none, and "
                         "batch events need one");
  return queued(s, sli_writer_add_records(s->writer, model_type, count, peer,
                                          correlation_id, at));
}

int sl_batch_tick(sl_store *s, int64_t at) {
  int rc = writable(s);
  return rc != SL_OK ? rc : queued(s, sli_writer_batches(s->writer, 0, at));
}

int sl_batch_flush_all(sl_store *s, int64_t at) {
  int rc = writable(s);
  return rc != SL_OK ? rc : queued(s, sli_writer_batches(s->writer, 1, at));
}

size_t sl_batch_memory(sl_store *s, size_t *keys) {
  if (keys) *keys = 0;
  if (!s || !s->writer || SLI_LOAD(&s->closed)) return 0;
  return sli_writer_batch_memory(s->writer, keys);
}

/* ------------------------------------------------------- peer choice */

float sl_peer_score(const sl_peer_candidate *c) {
  float score = 0.0f;
  if (c->latency_ms > 0.0f)
    score += 1000.0f / (c->latency_ms > 1.0f ? c->latency_ms : 1.0f);
  if (c->has_complete_state) score += 100.0f;
  score -= 10.0f * (float)c->active_syncs;
  return score;
}

int sl_peer_select(const sl_peer_candidate *c, size_t n, size_t *selected) {
  /* A stable sort by score, highest first, keeps the first of the best:
  ** the first online candidate that no later one strictly beats. A NaN
  ** compares as equal to everything, as partial_cmp().unwrap_or(Equal). */
  int found = 0;
  size_t best = 0;
  float best_score = 0.0f;
  for (size_t i = 0; i < n; i++) {
    if (!c[i].is_online) continue;
    float score = sl_peer_score(&c[i]);
    if (!found || score > best_score) {
      best = i;
      best_score = score;
      found = 1;
    }
  }
  if (!found) return SL_NOTFOUND;
  *selected = best;
  return SL_OK;
}

/* ------------------------------------------------------------ states */

void sl_state_write(sl_buf *b, const sl_state *st) {
  char num[32];
  switch (st->kind) {
  case SL_STATE_UNINITIALIZED: sl_buf_puts(b, "Uninitialized"); break;
  case SL_STATE_BACKFILLING:
    sl_buf_puts(b, "Backfilling { peer: ");
    sl_buf_puts(b, st->peer ? st->peer : "");
    snprintf(num, sizeof num, ", progress: %d }", st->progress);
    sl_buf_puts(b, num);
    break;
  case SL_STATE_CATCHING_UP:
    snprintf(num, sizeof num, "%lld }", (long long)st->buffered_count);
    sl_buf_puts(b, "CatchingUp { buffered_count: ");
    sl_buf_puts(b, num);
    break;
  case SL_STATE_READY: sl_buf_puts(b, "Ready"); break;
  case SL_STATE_PAUSED: sl_buf_puts(b, "Paused"); break;
  }
}

/* ---------------------------------------------------------- emitting */

/* An event under construction: its summary and details text. */
typedef struct draft {
  sl_event ev;
  sl_buf   summary;
  sl_buf   details;
  char     ts[SL_TIME_BUFSZ];
} draft;

static void begin(draft *d, const char *type, const char *session,
                  const char *peer, int64_t at) {
  memset(d, 0, sizeof *d);
  d->ev.event_type = type;
  d->ev.correlation_id = session;
  d->ev.peer_device_id = peer;
  if (at) {
    sl_time_format(at, 0, d->ts);
    d->ev.timestamp = d->ts;
  }
}

static void say(draft *d, const char *text) { sl_buf_puts(&d->summary, text); }

static void say_int(draft *d, int64_t v) {
  char num[32];
  snprintf(num, sizeof num, "%lld", (long long)v);
  sl_buf_puts(&d->summary, num);
}

/* details: a key and a value, keys written in sorted order by the caller
** (the writer canonicalises anyway; writing them sorted keeps it cheap). */
static void key(draft *d, const char *k) {
  sl_buf_puts(&d->details, d->details.len ? "," : "{");
  sl_json_write_string(&d->details, k, strlen(k));
  sl_buf_puts(&d->details, ":");
}

static void key_int(draft *d, const char *k, int64_t v) {
  char num[32];
  key(d, k);
  snprintf(num, sizeof num, "%lld", (long long)v);
  sl_buf_puts(&d->details, num);
}

static void key_str(draft *d, const char *k, const char *v) {
  key(d, k);
  sl_json_write_string(&d->details, v, strlen(v));
}

static void set_count(draft *d, int64_t records) {
  if (records < 0) return;
  d->ev.record_count = records;
  d->ev.has_record_count = 1;
}

static void set_duration(draft *d, int64_t ms) {
  d->ev.duration_ms = ms < 0 ? 0 : ms;
  d->ev.has_duration_ms = 1;
}

static int finish(sl_store *s, draft *d) {
  int rc = SL_NOMEM;
  if (d->details.len) sl_buf_puts(&d->details, "}");
  if (!d->summary.oom && !d->details.oom) {
    d->ev.summary = d->summary.data ? d->summary.data : "";
    d->ev.details = d->details.len ? d->details.data : NULL;
    rc = sl_store_append(s, &d->ev);
  }
  sl_buf_free(&d->summary);
  sl_buf_free(&d->details);
  return rc;
}

int sl_emit_state_transition(sl_store *s, const sl_state *from,
                             const sl_state *to, const char *reason,
                             int64_t at) {
  draft d;
  int rc = writable(s);
  if (rc != SL_OK) return rc;
  if (!from || !to) return SL_MISUSE;
  if ((from->kind == SL_STATE_BACKFILLING && !from->peer) ||
      (to->kind == SL_STATE_BACKFILLING && !to->peer))
    return sli_fail_here(SL_INVALID, "Backfilling: the state needs a peer");
  /* The documentation's promise: a state change flushes pending batches,
  ** so they are logged before the transition that ends them. */
  sl_batch_flush_all(s, at);
  begin(&d, "state_transition", NULL, NULL, at);
  sl_state_write(&d.summary, from);
  say(&d, " \xe2\x86\x92 "); /* " → " */
  sl_state_write(&d.summary, to);
  if (reason) key_str(&d, "reason", reason);
  return finish(s, &d);
}

int sl_emit_backfill_started(sl_store *s, const char *session,
                             int64_t peer_count, int64_t at) {
  draft d;
  begin(&d, "backfill_session_started", session, NULL, at);
  say(&d, "Backfill session started with ");
  say_int(&d, peer_count);
  say(&d, " available peers");
  key_int(&d, "peer_count", peer_count);
  return finish(s, &d);
}

int sl_emit_peer_selected(sl_store *s, const char *session,
                          const sl_peer_candidate *c, size_t n,
                          size_t selected, int64_t at) {
  draft d;
  if (!c || selected >= n) return SL_MISUSE;
  begin(&d, "backfill_session_started", session, c[selected].device_id, at);
  say(&d, "Selected peer ");
  say(&d, c[selected].device_id);
  say(&d, " from ");
  say_int(&d, (int64_t)n);
  say(&d, " candidates");
  key(&d, "candidates");
  sl_buf *b = &d.details;
  sl_buf_puts(b, "[");
  for (size_t i = 0; i < n; i++) {
    char num[48];
    sl_buf_puts(b, i ? ",{" : "{");
    snprintf(num, sizeof num, "\"active_syncs\":%d,\"device_id\":",
             c[i].active_syncs);
    sl_buf_puts(b, num);
    sl_json_write_string(b, c[i].device_id, strlen(c[i].device_id));
    sl_buf_puts(b, c[i].has_complete_state ? ",\"has_complete_state\":true"
                                           : ",\"has_complete_state\":false");
    sl_buf_puts(b, c[i].is_online ? ",\"is_online\":true"
                                  : ",\"is_online\":false");
    sl_buf_puts(b, ",\"latency_ms\":");
    sl_json_write_double(b, (double)c[i].latency_ms);
    /* The score Spacedrive's documentation promises and its code omits. */
    sl_buf_puts(b, ",\"score\":");
    sl_json_write_double(b, (double)sl_peer_score(&c[i]));
    sl_buf_puts(b, i == selected ? ",\"selected\":true}"
                                 : ",\"selected\":false}");
  }
  sl_buf_puts(b, "]");
  return finish(s, &d);
}

int sl_emit_backfill_completed(sl_store *s, const char *session,
                               const char *peer, int64_t duration_ms,
                               int64_t record_count, int64_t at) {
  draft d;
  begin(&d, "backfill_session_completed", session, peer, at);
  say(&d, "Backfill session completed successfully");
  set_duration(&d, duration_ms);
  set_count(&d, record_count);
  return finish(s, &d);
}

int sl_emit_backfill_failed(sl_store *s, const char *session,
                            const char *peer, const char *reason,
                            int64_t duration_ms, int64_t at) {
  draft d;
  begin(&d, "backfill_session_failed", session, peer, at);
  say(&d, "Backfill session failed: ");
  say(&d, reason ? reason : "unknown error");
  key_str(&d, "reason", reason ? reason : "unknown error");
  set_duration(&d, duration_ms);
  return finish(s, &d);
}

int sl_emit_catch_up_started(sl_store *s, const char *session,
                             const char *peer, int64_t at) {
  draft d;
  begin(&d, "catch_up_session_started", session, peer, at);
  say(&d, "Catch-up session started with peer ");
  say(&d, peer ? peer : "unknown");
  return finish(s, &d);
}

int sl_emit_catch_up_completed(sl_store *s, const char *session,
                               const char *peer, int64_t record_count,
                               int64_t duration_ms, int64_t at) {
  draft d;
  begin(&d, "catch_up_session_completed", session, peer, at);
  say(&d, "Catch-up session completed: ");
  say_int(&d, record_count < 0 ? 0 : record_count);
  say(&d, " records");
  set_count(&d, record_count);
  set_duration(&d, duration_ms);
  return finish(s, &d);
}

static void request_event(draft *d, const char *type, const char *text,
                          const char *session, const char *peer,
                          const char *model, int64_t at) {
  begin(d, type, session, peer, at);
  say(d, text);
  say(d, peer ? peer : "unknown");
  if (model) {
    say(d, " (");
    say(d, model);
    say(d, ")");
    d->ev.model_types = model;
  }
}

int sl_emit_backfill_request_sent(sl_store *s, const char *session,
                                  const char *peer, const char *model_type,
                                  int64_t at) {
  draft d;
  request_event(&d, "backfill_request_sent", "Backfill request sent to ",
                session, peer, model_type, at);
  return finish(s, &d);
}

int sl_emit_backfill_request_received(sl_store *s, const char *session,
                                      const char *peer,
                                      const char *model_type, int64_t at) {
  draft d;
  request_event(&d, "backfill_request_received",
                "Backfill request received from ", session, peer, model_type,
                at);
  return finish(s, &d);
}

int sl_emit_backfill_response_sent(sl_store *s, const char *session,
                                   const char *peer, const char *model_type,
                                   int64_t record_count, int64_t duration_ms,
                                   int64_t at) {
  draft d;
  request_event(&d, "backfill_response_sent", "Backfill response sent to ",
                session, peer, model_type, at);
  say(&d, ": ");
  say_int(&d, record_count < 0 ? 0 : record_count);
  say(&d, " records");
  set_count(&d, record_count);
  set_duration(&d, duration_ms);
  return finish(s, &d);
}

int sl_emit_peer_connected(sl_store *s, const char *peer, int64_t at) {
  draft d;
  begin(&d, "peer_connected", NULL, peer, at);
  say(&d, "Peer ");
  say(&d, peer ? peer : "unknown");
  say(&d, " connected");
  return finish(s, &d);
}

int sl_emit_peer_disconnected(sl_store *s, const char *peer,
                              const char *reason, int64_t at) {
  draft d;
  begin(&d, "peer_disconnected", NULL, peer, at);
  say(&d, "Peer ");
  say(&d, peer ? peer : "unknown");
  say(&d, " disconnected");
  if (reason) {
    say(&d, ": ");
    say(&d, reason);
    key_str(&d, "reason", reason);
  }
  return finish(s, &d);
}

int sl_emit_buffer_overflow(sl_store *s, int64_t dropped,
                            int64_t max_buffer_size, int64_t at) {
  draft d;
  begin(&d, "sync_error", NULL, NULL, at);
  d.ev.severity = "error";
  say(&d, "Buffer overflow: ");
  say_int(&d, dropped);
  say(&d, " updates dropped during backfill");
  key_int(&d, "dropped_count", dropped);
  key_int(&d, "max_buffer_size", max_buffer_size);
  key_str(&d, "phase", "backfill_to_catchup_transition");
  return finish(s, &d);
}

int sl_emit_stuck_dependencies(sl_store *s, int64_t total_dependencies,
                               int64_t total_waiting_updates, int64_t at) {
  draft d;
  begin(&d, "sync_error", NULL, NULL, at);
  d.ev.severity = "warning";
  say(&d, "Stuck dependencies: ");
  say_int(&d, total_waiting_updates);
  say(&d, " records waiting for ");
  say_int(&d, total_dependencies);
  say(&d, " missing parents");
  key_str(&d, "phase", "backfill_to_ready_transition");
  key_int(&d, "total_dependencies", total_dependencies);
  key_int(&d, "total_waiting_updates", total_waiting_updates);
  return finish(s, &d);
}

int sl_emit_watermark_too_old(sl_store *s, const char *peer,
                              int64_t age_days, int64_t threshold_days,
                              int64_t at) {
  draft d;
  if (age_days < 0) age_days = NO_WATERMARK_DAYS;
  begin(&d, "sync_error", NULL, peer, at);
  d.ev.severity = "warning";
  say(&d, "Watermark too old: ");
  say_int(&d, age_days);
  say(&d, " days (threshold: ");
  say_int(&d, threshold_days);
  say(&d, " days), forcing full sync");
  key_str(&d, "action", "force_full_sync");
  key_int(&d, "threshold_days", threshold_days);
  key_int(&d, "watermark_age_days", age_days);
  return finish(s, &d);
}
