/*
** test_redact.c -- core/sl_redact.c from C: pseudonyms (checked against
** HMAC-SHA256 computed by another implementation: Python's hmac module),
** every spelling of an id, the counts, reveal, a whole event redacted (ids,
** summaries with ids in every layout, paths, NUL; details at any depth,
** the allow-list, keys, non-strings, text that is no JSON; NULL columns),
** and the store's cursors handing out redacted rows, several at once in a
** merge, with pseudonyms in filters turned back by sl_redact_reveal.
*/
#include <stdlib.h>

#include "check.h"
#include <synclua/redact.h>

/* Python: hmac.new(b"support-42", id.encode(), hashlib.sha256), the first
** 16 bytes with version 4 and variant 10 set. */
#define DESKTOP    "beeb8da1-658e-4c67-b893-a2eefb32555e"
#define DESKTOP_PS "d2d0c49f-cc56-44c1-a465-67bbc3554bec"
#define DESKTOP_OT "33c4ef26-99b7-42bc-9795-52cdc19c3527" /* key "other" */
#define PHONE      "85e7bb0f-1227-4575-8917-18de357e3da8"
#define PHONE_PS   "75e8d13f-4326-4983-b81e-13029994bb6e"
#define NIL        "00000000-0000-0000-0000-000000000000"
#define NIL_PS     "20e2e119-daa8-4540-92bc-ed344f900908"
#define KEY        "support-42"
/* "redacted-" and the first 12 hex digits of the HMAC of the text. */
#define PATH_TAG   "redacted-bd032f697eb4" /* /home/alice/lib/sync.db  */
#define NAME_TAG   "redacted-3c78121497c1" /* alice-laptop             */
#define REMOTE_TAG "redacted-774b76e17be8" /* 10.0.0.7:5555            */
#define SPACE_TAG  "redacted-35a9c90d2cb6" /* /home/alice/My Library/sync.db */
#define ACTION_TAG "redacted-9625e11e270e" /* /a/b there                */

static sl_redactor *keyed(const char *key) {
  sl_redactor *r = NULL;
  CHECK_EQ_INT(sl_redactor_new(key, strlen(key), &r), SL_OK);
  return r;
}

static const char *id_of(sl_redactor *r, const char *text, int kind) {
  static char out[SL_UUID_BUFSZ];
  if (sl_redact_id(r, text, strlen(text), kind, out) != SL_OK) return "-";
  return out;
}

static void test_new(void) {
  sl_redactor *r = NULL;
  CHECK_EQ_INT(sl_redactor_new("", 0, &r), SL_INVALID);
  CHECK(r == NULL);
  CHECK_EQ_INT(sl_redactor_new(NULL, 0, NULL), SL_MISUSE);
  CHECK_EQ_INT(sl_redactor_new(NULL, 0, &r), SL_OK);
  CHECK_EQ_INT(sl_redactor_keyed(r), 0);
  sl_redactor_free(r);
  r = keyed(KEY);
  CHECK_EQ_INT(sl_redactor_keyed(r), 1);
  CHECK_EQ_INT(sl_redactor_keyed(NULL), 0);
  sl_redactor_free(r);
  sl_redactor_free(NULL);
  CHECK_EQ_STR(sl_redact_kind_name(SL_REDACT_DEVICE), "device");
  CHECK_EQ_STR(sl_redact_kind_name(SL_REDACT_SUMMARY_PATH), "summary_path");
  CHECK_EQ_STR(sl_redact_kind_name(SL_REDACT_DETAILS), "details");
  CHECK(sl_redact_kind_name(SL_REDACT_KIND_COUNT) == NULL);
  CHECK(sl_redact_kind_name(-1) == NULL);
}

static void test_ids(void) {
  sl_redactor *r = keyed(KEY), *same = keyed(KEY), *other = keyed("other");
  sl_redactor *rand1 = NULL, *rand2 = NULL;
  char out[SL_UUID_BUFSZ] = "untouched";
  int64_t counts[SL_REDACT_KIND_COUNT];

  CHECK_EQ_STR(id_of(r, DESKTOP, SL_REDACT_DEVICE), DESKTOP_PS);
  CHECK_EQ_STR(id_of(r, PHONE, -1), PHONE_PS);
  CHECK_EQ_STR(id_of(r, NIL, -1), NIL_PS);
  /* every spelling the uuid crate reads is the one id */
  CHECK_EQ_STR(id_of(r, "BEEB8DA1-658E-4C67-B893-A2EEFB32555E",
                     SL_REDACT_DEVICE), DESKTOP_PS);
  CHECK_EQ_STR(id_of(r, "beeb8da1658e4c67b893a2eefb32555e", SL_REDACT_PEER),
               DESKTOP_PS);
  CHECK_EQ_STR(id_of(r, "{" DESKTOP "}", SL_REDACT_PEER), DESKTOP_PS);
  CHECK_EQ_STR(id_of(r, "urn:uuid:" DESKTOP, -1), DESKTOP_PS);
  /* the same key in another redactor, another key, random keys */
  CHECK_EQ_STR(id_of(same, DESKTOP, -1), DESKTOP_PS);
  CHECK_EQ_STR(id_of(other, DESKTOP, -1), DESKTOP_OT);
  CHECK_EQ_INT(sl_redactor_new(NULL, 0, &rand1), SL_OK);
  CHECK_EQ_INT(sl_redactor_new(NULL, 0, &rand2), SL_OK);
  char a[SL_UUID_BUFSZ];
  strcpy(a, id_of(rand1, DESKTOP, -1));
  CHECK(strcmp(a, DESKTOP_PS) != 0);
  CHECK(strcmp(a, id_of(rand2, DESKTOP, -1)) != 0);
  CHECK_EQ_STR(id_of(rand1, DESKTOP, -1), a); /* stable within one */
  /* a valid v4 UUID, lowercase and hyphenated */
  CHECK_EQ_INT(sl_uuid_canonical(a, strlen(a)), 1);
  CHECK(a[14] == '4');
  CHECK(strchr("89ab", a[19]) != NULL);
  /* not a UUID; misuse */
  CHECK_EQ_INT(sl_redact_id(r, "beeb8da1", 8, -1, out), SL_INVALID);
  CHECK_EQ_INT(sl_redact_id(r, " " DESKTOP, 37, -1, out), SL_INVALID);
  CHECK_EQ_INT(sl_redact_id(r, "URN:UUID:" DESKTOP, 45, -1, out),
               SL_INVALID);
  CHECK_EQ_STR(out, "untouched");
  CHECK_EQ_INT(sl_redact_id(r, DESKTOP, 36, SL_REDACT_KIND_COUNT, out),
               SL_MISUSE);
  CHECK_EQ_INT(sl_redact_id(r, DESKTOP, 36, -2, out), SL_MISUSE);
  CHECK_EQ_INT(sl_redact_id(NULL, DESKTOP, 36, -1, out), SL_MISUSE);
  /* counts: each distinct id once per kind, whatever its spelling */
  sl_redactor_counts(r, counts);
  CHECK_EQ_INT(counts[SL_REDACT_DEVICE], 1);
  CHECK_EQ_INT(counts[SL_REDACT_PEER], 1);
  CHECK_EQ_INT(counts[SL_REDACT_CORRELATION], 0);
  CHECK_EQ_INT(counts[SL_REDACT_LIBRARY], 0);
  CHECK_EQ_STR(id_of(r, PHONE, SL_REDACT_LIBRARY), PHONE_PS);
  CHECK_EQ_STR(id_of(r, PHONE, SL_REDACT_LIBRARY), PHONE_PS);
  sl_redactor_counts(r, counts);
  CHECK_EQ_INT(counts[SL_REDACT_LIBRARY], 1);
  sl_redactor_counts(NULL, counts);
  CHECK_EQ_INT(counts[SL_REDACT_DEVICE], 0);
  /* reveal: only what this redactor handed out, in any spelling */
  CHECK_EQ_INT(sl_redact_reveal(r, DESKTOP_PS, 36, out), SL_OK);
  CHECK_EQ_STR(out, DESKTOP);
  CHECK_EQ_INT(sl_redact_reveal(r, "D2D0C49FCC5644C1A46567BBC3554BEC", 32,
                                out), SL_OK);
  CHECK_EQ_STR(out, DESKTOP);
  strcpy(out, "untouched");
  CHECK_EQ_INT(sl_redact_reveal(r, DESKTOP, 36, out), SL_NOTFOUND);
  CHECK_EQ_INT(sl_redact_reveal(other, PHONE_PS, 36, out), SL_NOTFOUND);
  CHECK_EQ_INT(sl_redact_reveal(r, "nope", 4, out), SL_NOTFOUND);
  CHECK_EQ_STR(out, "untouched");
  sl_redactor_free(r);
  sl_redactor_free(same);
  sl_redactor_free(other);
  sl_redactor_free(rand1);
  sl_redactor_free(rand2);
}

/* Many ids: the tables grow, and every one comes back. */
static void test_many(void) {
  sl_redactor *r = keyed(KEY);
  char id[SL_UUID_BUFSZ], ps[SL_UUID_BUFSZ], back[SL_UUID_BUFSZ];
  int64_t counts[SL_REDACT_KIND_COUNT];
  int bad = 0;
  for (int i = 0; i < 20000; i++) {
    snprintf(id, sizeof id, "00000000-0000-4000-8000-%012d", i);
    if (sl_redact_id(r, id, 36, SL_REDACT_CORRELATION, ps) != SL_OK) bad++;
  }
  for (int i = 0; i < 20000; i += 7) {
    snprintf(id, sizeof id, "00000000-0000-4000-8000-%012d", i);
    sl_redact_id(r, id, 36, SL_REDACT_CORRELATION, ps);
    if (sl_redact_reveal(r, ps, 36, back) != SL_OK || strcmp(back, id)) bad++;
  }
  CHECK_EQ_INT(bad, 0);
  sl_redactor_counts(r, counts);
  CHECK_EQ_INT(counts[SL_REDACT_CORRELATION], 20000);
  sl_redactor_free(r);
}

static void test_allowed(void) {
  CHECK_EQ_INT(sl_redact_allowed("reason", 6), 1);
  CHECK_EQ_INT(sl_redact_allowed("phase", 5), 1);
  CHECK_EQ_INT(sl_redact_allowed("action", 6), 1);
  CHECK_EQ_INT(sl_redact_allowed("reasons", 7), 0);
  CHECK_EQ_INT(sl_redact_allowed("reason", 5), 0);
  CHECK_EQ_INT(sl_redact_allowed("path", 4), 0);
  CHECK_EQ_INT(sl_redact_allowed(NULL, 0), 0);
  CHECK_EQ_STR(sl_redact_allowed_list(),
               "action, event_types, phase, reason, request, since");
}

/* The text of column col of ev, NUL shown as "\0". */
static const char *col(const sl_event *ev, int c) {
  static char out[1024];
  size_t n, o = 0;
  const char *s = sl_event_text(ev, c, &n);
  if (!s) return "(null)";
  for (size_t i = 0; i < n && o + 3 < sizeof out; i++) {
    if (s[i]) out[o++] = s[i];
    else { out[o++] = '\\'; out[o++] = '0'; }
  }
  out[o] = '\0';
  return out;
}

static void test_event(void) {
  sl_redactor *r = keyed(KEY);
  sl_buf scratch = {0}, other = {0};
  sl_event in, out, out2;
  int64_t counts[SL_REDACT_KIND_COUNT];
  static const char summary[] =
    "Selected peer " DESKTOP " from {" PHONE "}, urn:uuid:" NIL
    " and BEEB8DA1658E4C67B893A2EEFB32555E; not 0" DESKTOP
    " nor beeb8da1-658e-4c67-b893-a2eefb32555e0 \0 nul; at "
    "/home/alice/lib/sync.db";
  memset(&in, 0, sizeof in);
  in.timestamp = "2025-12-03T10:00:00+00:00";
  in.device_id = PHONE;
  in.event_type = "backfill_session_started";
  in.category = "lifecycle";
  in.severity = "info";
  in.summary = summary;
  in.len[SL_COL_SUMMARY] = sizeof summary - 1;
  in.correlation_id = NIL;
  in.peer_device_id = DESKTOP;
  in.model_types = "entry,tag";
  in.record_count = 42;
  in.has_record_count = 1;
  in.details =
    "{\"reason\":\"peer " DESKTOP " went away\",\"phase\":\"backfill\","
    "\"path\":\"/home/alice/lib/sync.db\",\"remote\":\"10.0.0.7:5555\","
    "\"n\":1.5e3,\"big\":18446744073709551615,\"ok\":true,\"none\":null,"
    "\"empty\":\"\",\"" PHONE "\":3,"
    "\"candidates\":[{\"device_id\":\"" DESKTOP "\",\"latency_ms\":23.5,"
    "\"name\":\"alice-laptop\",\"reason\":[\"a\",{\"x\":\"alice-laptop\"}]}],"
    "\"models\":{\"entry\":67,\"tag\":1},"
    "\"event_types\":[\"sync_error\"],\"action\":\"move /a/b there\"}";

  CHECK_EQ_INT(sl_redact_event(r, &in, &out, &scratch), SL_OK);
  CHECK_EQ_STR(col(&out, SL_COL_DEVICE_ID), PHONE_PS);
  CHECK_EQ_STR(col(&out, SL_COL_PEER_DEVICE_ID), DESKTOP_PS);
  CHECK_EQ_STR(col(&out, SL_COL_CORRELATION_ID), NIL_PS);
  CHECK_EQ_STR(col(&out, SL_COL_SUMMARY),
    "Selected peer " DESKTOP_PS " from {" PHONE_PS "}, urn:uuid:" NIL_PS
    " and D2D0C49FCC5644C1A46567BBC3554BEC; not 0" DESKTOP_PS
    " nor " DESKTOP_PS "0 \\0 nul; at " PATH_TAG);
  CHECK_EQ_STR(col(&out, SL_COL_DETAILS),
    "{\"" PHONE_PS "\":3,\"action\":\"move " ACTION_TAG "\","
    "\"big\":18446744073709551615,"
    "\"candidates\":[{\"device_id\":\"" DESKTOP_PS "\",\"latency_ms\":23.5,"
    "\"name\":\"" NAME_TAG "\",\"reason\":[\"a\",{\"x\":\"" NAME_TAG "\"}]}],"
    "\"empty\":\"\",\"event_types\":[\"sync_error\"],"
    "\"models\":{\"entry\":67,\"tag\":1},\"n\":1500.0,\"none\":null,"
    "\"ok\":true,\"path\":\"" PATH_TAG "\",\"phase\":\"backfill\","
    "\"reason\":\"peer " DESKTOP_PS " went away\","
    "\"remote\":\"" REMOTE_TAG "\"}");
  /* kept as they are, in's own text */
  CHECK(out.timestamp == in.timestamp);
  CHECK(out.event_type == in.event_type);
  CHECK(out.model_types == in.model_types);
  CHECK_EQ_INT(out.record_count, 42);
  CHECK_EQ_INT(out.has_record_count, 1);
  CHECK_EQ_INT(out.has_duration_ms, 0);
  sl_redactor_counts(r, counts);
  CHECK_EQ_INT(counts[SL_REDACT_DEVICE], 1);
  CHECK_EQ_INT(counts[SL_REDACT_PEER], 1);
  CHECK_EQ_INT(counts[SL_REDACT_CORRELATION], 1);
  CHECK_EQ_INT(counts[SL_REDACT_SUMMARY_ID], 3); /* desktop, phone, nil */
  CHECK_EQ_INT(counts[SL_REDACT_SUMMARY_PATH], 1);
  /* reason, path, remote, name and x (one text), the candidate's id, the
  ** phone key, action: a and the others on the allow-list are kept */
  CHECK_EQ_INT(counts[SL_REDACT_DETAILS], 7);

  /* the same event again: the same bytes, nothing counted twice; a second
  ** scratch holds a second row beside the first */
  CHECK_EQ_INT(sl_redact_event(r, &in, &out2, &other), SL_OK);
  CHECK(strcmp(out.details, out2.details) == 0);
  CHECK(out.summary != out2.summary);
  CHECK_EQ_INT(out.len[SL_COL_SUMMARY], out2.len[SL_COL_SUMMARY]);
  CHECK(memcmp(out.summary, out2.summary, out.len[SL_COL_SUMMARY]) == 0);
  int64_t again[SL_REDACT_KIND_COUNT];
  sl_redactor_counts(r, again);
  CHECK(memcmp(counts, again, sizeof counts) == 0);

  /* NULL columns stay NULL; "" stays ""; a device id that is no UUID is a
  ** tag; details that are no JSON are absent; a path with spaces runs to
  ** the end; "/s" and "a/b" are no paths */
  memset(&in, 0, sizeof in);
  in.device_id = "alice-laptop";
  in.summary = "rate 5 /s, a/b/c, x=/home/alice/My Library/sync.db";
  in.details = "{not json";
  CHECK_EQ_INT(sl_redact_event(r, &in, &out, &scratch), SL_OK);
  CHECK_EQ_STR(col(&out, SL_COL_DEVICE_ID), NAME_TAG);
  CHECK_EQ_STR(col(&out, SL_COL_SUMMARY), "rate 5 /s, a/b/c, x=" SPACE_TAG);
  CHECK_EQ_STR(col(&out, SL_COL_DETAILS), "(null)");
  CHECK_EQ_STR(col(&out, SL_COL_PEER_DEVICE_ID), "(null)");
  CHECK_EQ_STR(col(&out, SL_COL_CORRELATION_ID), "(null)");
  CHECK_EQ_STR(col(&out, SL_COL_TIMESTAMP), "(null)");
  in.device_id = "";
  in.summary = NULL;
  in.details = "null";
  CHECK_EQ_INT(sl_redact_event(r, &in, &out, &scratch), SL_OK);
  CHECK_EQ_STR(col(&out, SL_COL_DEVICE_ID), "");
  CHECK_EQ_STR(col(&out, SL_COL_SUMMARY), "(null)");
  CHECK_EQ_STR(col(&out, SL_COL_DETAILS), "null");
  /* details with nothing to replace are in's own bytes */
  in.details = "{\"models\": {\"entry\": 1.10}}";
  CHECK_EQ_INT(sl_redact_event(r, &in, &out, &scratch), SL_OK);
  CHECK(out.details == in.details);
  CHECK_EQ_INT(sl_redact_event(NULL, &in, &out, &scratch), SL_MISUSE);
  CHECK_EQ_INT(sl_redact_event(r, &in, &out, NULL), SL_MISUSE);
  sl_buf_free(&scratch);
  sl_buf_free(&other);
  sl_redactor_free(r);
}

static char dir[] = "/tmp/synclua-redact-XXXXXX";

static sl_store *store_of(const char *name, const char *device,
                          const char *peer) {
  char path[256];
  sl_store *s = NULL;
  sl_open_opts o;
  sl_event ev[3];
  memset(&o, 0, sizeof o);
  o.mode = SL_OPEN_WRITE;
  snprintf(path, sizeof path, "%s/%s.db", dir, name);
  CHECK_EQ_INT(sl_store_open(path, &o, &s), SL_OK);
  memset(ev, 0, sizeof ev);
  for (int i = 0; i < 3; i++) {
    ev[i].device_id = device;
    ev[i].event_type = "peer_connected";
    ev[i].peer_device_id = peer;
    ev[i].summary = i == 1 ? "Peer " PHONE " connected" : "x";
    ev[i].instant = INT64_C(1764756000000000000) + (int64_t)i * 2000000000 +
                    (device[0] == 'b' ? 1000000000 : 0);
    ev[i].has_instant = 1;
  }
  CHECK_EQ_INT(sl_store_insert(s, ev, 3, 0, NULL, NULL), SL_OK);
  sl_store_close(s);
  sl_store_release(s);
  o.mode = SL_OPEN_READ;
  CHECK_EQ_INT(sl_store_open(path, &o, &s), SL_OK);
  return s;
}

static void test_store(void) {
  sl_redactor *r = keyed(KEY);
  sl_store *a, *b;
  sl_cursor *c;
  sl_filter f;
  const sl_event *ev;
  char back[SL_UUID_BUFSZ];
  int64_t n;
  if (!mkdtemp(dir)) {
    CHECK(!"mkdtemp");
    return;
  }
  a = store_of("a", PHONE, DESKTOP);
  b = store_of("b", DESKTOP, PHONE);
  CHECK(sl_store_redactor(a) == NULL);
  sl_store_redact(a, r);
  sl_store_redact(b, r);
  sl_store_redact(NULL, r);
  CHECK(sl_store_redactor(a) == r);

  sl_filter_init(&f);
  CHECK_EQ_INT(sl_query(a, &f, &c), SL_OK);
  CHECK_EQ_INT(sl_cursor_next(c, &ev), SL_ROW);
  CHECK_EQ_STR(ev->device_id, PHONE_PS);
  CHECK_EQ_STR(ev->peer_device_id, DESKTOP_PS);
  CHECK_EQ_INT(sl_cursor_next(c, &ev), SL_ROW);
  CHECK_EQ_STR(ev->summary, "Peer " PHONE_PS " connected");
  sl_cursor_close(c);

  /* filters compare the stored ids: a pseudonym is turned back first */
  f.peer = DESKTOP_PS;
  CHECK_EQ_INT(sl_count(a, &f, &n), SL_OK);
  CHECK_EQ_INT(n, 0);
  CHECK_EQ_INT(sl_redact_reveal(r, DESKTOP_PS, 36, back), SL_OK);
  f.peer = back;
  CHECK_EQ_INT(sl_count(a, &f, &n), SL_OK);
  CHECK_EQ_INT(n, 3);

  /* a merge holds a redacted row of each cursor at once */
  sl_cursor *cs[2];
  sl_merge *m;
  size_t src;
  int64_t adj, offsets[2] = {0, 0};
  char seen[256] = "";
  sl_filter_init(&f);
  f.ascending = 1;
  CHECK_EQ_INT(sl_query(a, &f, &cs[0]), SL_OK);
  CHECK_EQ_INT(sl_query(b, &f, &cs[1]), SL_OK);
  CHECK_EQ_INT(sl_merge_new(cs, offsets, 2, 0, &m), SL_OK);
  while (sl_merge_next(m, &src, &ev, &adj) == SL_ROW) {
    strncat(seen, src ? "b" : "a", sizeof seen - strlen(seen) - 1);
    strncat(seen, strcmp(ev->device_id, src ? DESKTOP_PS : PHONE_PS) ? "!"
                                                                     : ".",
            sizeof seen - strlen(seen) - 1);
  }
  sl_merge_free(m);
  CHECK_EQ_STR(seen, "a.b.a.b.a.b.");

  /* taken away, rows come as stored */
  sl_store_redact(a, NULL);
  sl_filter_init(&f);
  CHECK_EQ_INT(sl_query(a, &f, &c), SL_OK);
  CHECK_EQ_INT(sl_cursor_next(c, &ev), SL_ROW);
  CHECK_EQ_STR(ev->device_id, PHONE);
  sl_cursor_close(c);

  sl_store_release(a);
  sl_store_release(b);
  sl_redactor_free(r);
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  CHECK_EQ_INT(system(cmd), 0);
}

int main(void) {
  test_new();
  test_ids();
  test_many();
  test_allowed();
  test_event();
  test_store();
  return check_report("redact");
}
