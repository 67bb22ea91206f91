/*
** test_net.c -- the protocol behind `synclua serve` and `fetch`: the
** EventLogRequest / EventLogResponse messages byte for byte as Spacedrive's
** serde writes them and every refusal of the strict reader; a response's
** events turned into rows; the framer at every byte boundary; key files;
** the encrypted channel, against a client written here from the
** handshake's description in sl_channel.c (libsodium only), so that it can
** lie about the key, replay, tamper, stall and hang up; a server and
** fetcher running in-process on loopback; what hostile peers can cost a
** fetcher (frames weighed before they are decoded, a deadline, a cap on
** pages) and strangers a server (their own budget, silent ones dropped for
** newcomers, a log that says a flood in a few lines, served requests
** summed per requester); and `synclua serve` and `fetch` themselves, for
** the lines they write of what a raw client or a fake peer says.
**
** Expected texts are written out here, never produced by the code under
** test. The library ids of the test keys were worked out with Python's
** hashlib.blake2b(b"synclua library id", key=K, digest_size=16), then the
** RFC 9562 version (8) and variant bits.
*/
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "flood.h"
#include "support.h"
#include <synclua/net.h>

#define OTHER_LIB "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
#define DEV_B     "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
#define DEV_RAW   "0badc0de-0000-4000-8000-000000000001"
#define DEV_RAW_(n) "0badc0de-0000-4000-8000-00000000000" #n
#define SESSION   "0f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f"

#define ABYTES crypto_secretstream_xchacha20poly1305_ABYTES

static char dir[] = "/tmp/synclua-net-XXXXXX";
#include "net_fixture.h"

static void put_be32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)(v >> 24);
  p[1] = (unsigned char)(v >> 16);
  p[2] = (unsigned char)(v >> 8);
  p[3] = (unsigned char)v;
}

/* ============================================================ messages */

static void test_request_write(void) {
  char st[] = "state_transition", quote[] = "a\"b/\xc3\xa9";
  char *one[1], *two[2];
  sl_request req;
  sl_buf b = {0};
  one[0] = st;
  two[0] = st;
  two[1] = quote;

  memset(&req, 0, sizeof req);
  strcpy(req.library_id, LIB_ID);
  strcpy(req.requesting_device, DEV_ME);
  req.has_since = 1;
  CHECK_EQ_INT(sl_time_parse_rfc3339("2025-12-03T09:00:00Z", 20, &req.since),
               SL_OK);
  req.has_event_types = 1;
  req.event_types = one;
  req.n_event_types = 1;
  req.limit = 100;
  sl_request_write(&b, &req);
  CHECK_EQ_STR(b.data, "{\"EventLogRequest\":{\"library_id\":\"" LIB_ID
               "\",\"requesting_device\":\"" DEV_ME "\",\"since\":"
               "\"2025-12-03T09:00:00Z\",\"event_types\":"
               "[\"state_transition\"],\"correlation_id\":null,"
               "\"limit\":100}}");

  /* Every option absent: null, as serde writes None. */
  memset(&req, 0, sizeof req);
  strcpy(req.library_id, LIB_ID);
  strcpy(req.requesting_device, DEV_ME);
  sl_buf_reset(&b);
  sl_request_write(&b, &req);
  CHECK_EQ_STR(b.data, RQ(IDS ",\"since\":null,\"event_types\":null,"
                          "\"correlation_id\":null,\"limit\":0"));

  /* Everything, synclua's "before" last; serde's string escaping. */
  req.has_since = 1;
  req.since = T0 + 123456789;
  req.has_event_types = 1;
  req.event_types = two;
  req.n_event_types = 2;
  req.has_correlation_id = 1;
  strcpy(req.correlation_id, SESSION);
  req.limit = 4294967295u;
  req.has_before = 1;
  req.before = T0 + 500000000;
  req.before_id = 42;
  sl_buf_reset(&b);
  sl_request_write(&b, &req);
  CHECK_EQ_STR(b.data, RQ(IDS ",\"since\":\"2025-12-03T10:15:00.123456789Z\","
               "\"event_types\":[\"state_transition\",\"a\\\"b/\xc3\xa9\"],"
               "\"correlation_id\":\"" SESSION "\",\"limit\":4294967295,"
               "\"before\":{\"timestamp\":\"2025-12-03T10:15:00.500Z\","
               "\"id\":42}"));

  /* ... and it reads back as it was written, and writes the same bytes. */
  sl_message m;
  char err[256] = "";
  CHECK_EQ_INT(sl_message_parse(b.data, b.len, &m, err, sizeof err), SL_OK);
  CHECK_EQ_INT(m.kind, SL_MSG_REQUEST);
  CHECK_EQ_STR(m.request.library_id, LIB_ID);
  CHECK_EQ_STR(m.request.requesting_device, DEV_ME);
  CHECK_EQ_INT(m.request.has_since, 1);
  CHECK_EQ_INT(m.request.since, T0 + 123456789);
  CHECK_EQ_INT(m.request.has_event_types, 1);
  CHECK_EQ_INT(m.request.n_event_types, 2);
  if (m.request.n_event_types == 2) {
    CHECK_EQ_STR(m.request.event_types[0], "state_transition");
    CHECK_EQ_STR(m.request.event_types[1], "a\"b/\xc3\xa9");
  }
  CHECK_EQ_INT(m.request.has_correlation_id, 1);
  CHECK_EQ_STR(m.request.correlation_id, SESSION);
  CHECK_EQ_INT(m.request.limit, 4294967295u);
  CHECK_EQ_INT(m.request.has_before, 1);
  CHECK_EQ_INT(m.request.before, T0 + 500000000);
  CHECK_EQ_INT(m.request.before_id, 42);
  sl_buf again = {0};
  sl_request_write(&again, &m.request);
  CHECK_EQ_STR(again.data, b.data);
  sl_message_clear(&m);
  sl_message_clear(&m); /* idempotent */
  sl_buf_free(&again);
  sl_buf_free(&b);
}

/* Spacedrive's reading rules: missing options and null are none, unknown
** fields are ignored, UUIDs in upper case are read. */
static void test_request_parse(void) {
  sl_message m;
  char err[256] = "";
  const char *cases[] = {
    RQ(IDS ",\"limit\":5"),
    RQ(IDS ",\"since\":null,\"event_types\":null,\"correlation_id\":null,"
       "\"limit\":5,\"before\":null"),
    RQ(IDS ",\"limit\":5,\"hops\":3,\"extra\":{\"a\":[1,{\"b\":null}]}"),
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    int rc = sl_message_parse(cases[i], strlen(cases[i]), &m, err, sizeof err);
    CHECK_EQ_INT(rc, SL_OK);
    if (rc != SL_OK) fprintf(stderr, "  %s: %s\n", cases[i], err);
    CHECK_EQ_INT(m.kind, SL_MSG_REQUEST);
    CHECK_EQ_INT(m.request.limit, 5);
    CHECK_EQ_INT(m.request.has_since, 0);
    CHECK_EQ_INT(m.request.has_event_types, 0);
    CHECK(m.request.event_types == NULL);
    CHECK_EQ_INT(m.request.has_correlation_id, 0);
    CHECK_EQ_INT(m.request.has_before, 0);
    sl_message_clear(&m);
  }

  const char *upper =
    RQ("\"library_id\":\"A5851768-6F4C-8571-BDF9-D1E2FC3C6D9E\","
       "\"requesting_device\":\"" DEV_ME "\",\"event_types\":[],"
       "\"correlation_id\":\"0F9E8D7C-6B5A-4C3D-8E2F-1A0B9C8D7E6F\","
       "\"limit\":4294967295,\"since\":\"2025-12-03T11:15:00+01:00\"");
  CHECK_EQ_INT(sl_message_parse(upper, strlen(upper), &m, err, sizeof err),
               SL_OK);
  CHECK_EQ_STR(m.request.library_id, LIB_ID);
  CHECK_EQ_STR(m.request.correlation_id, SESSION);
  CHECK_EQ_INT(m.request.has_event_types, 1);
  CHECK_EQ_INT(m.request.n_event_types, 0);
  CHECK_EQ_INT(m.request.limit, 4294967295u);
  CHECK_EQ_INT(m.request.since, T0);
  sl_message_clear(&m);

  const char *zero = RQ(IDS ",\"limit\":0");
  CHECK_EQ_INT(sl_message_parse(zero, strlen(zero), &m, err, sizeof err),
               SL_OK);
  CHECK_EQ_INT(m.request.limit, 0);
  sl_message_clear(&m);

  /* Every spelling the uuid crate's parser (serde's Uuid) reads, in each
  ** of the three UUID fields, kept lowercase and hyphenated. */
  static const char *const spellings[][3] = {
    {"a58517686f4c8571bdf9d1e2fc3c6d9e", "c0ffee001234456789abcdef01234567",
     "0f9e8d7c6b5a4c3d8e2f1a0b9c8d7e6f"},
    {"A58517686F4C8571BDF9D1E2FC3C6D9E", "C0FFEE001234456789ABCDEF01234567",
     "0F9E8D7C6B5A4C3D8E2F1A0B9C8D7E6F"},
    {"{a5851768-6f4c-8571-bdf9-d1e2fc3c6d9e}",
     "{C0FFEE00-1234-4567-89AB-CDEF01234567}",
     "{0f9e8d7c-6B5A-4c3d-8E2F-1a0b9c8d7e6f}"},
    {"urn:uuid:a5851768-6f4c-8571-bdf9-d1e2fc3c6d9e",
     "urn:uuid:C0FFEE00-1234-4567-89AB-CDEF01234567",
     "urn:uuid:0F9e8d7C-6b5a-4c3d-8e2f-1a0b9c8d7e6F"},
    {"A5851768-6f4C-8571-bDF9-D1E2fc3c6d9e",
     "c0ffee00-1234-4567-89ab-cdef01234567",
     "0f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f"},
  };
  for (size_t i = 0; i < sizeof spellings / sizeof *spellings; i++) {
    char json[512];
    snprintf(json, sizeof json, RQ("\"library_id\":\"%s\","
             "\"requesting_device\":\"%s\",\"correlation_id\":\"%s\","
             "\"limit\":1"), spellings[i][0], spellings[i][1],
             spellings[i][2]);
    int rc = sl_message_parse(json, strlen(json), &m, err, sizeof err);
    CHECK_EQ_INT(rc, SL_OK);
    if (rc != SL_OK) fprintf(stderr, "  %s: %s\n", json, err);
    CHECK_EQ_STR(m.request.library_id, LIB_ID);
    CHECK_EQ_STR(m.request.requesting_device, DEV_ME);
    CHECK_EQ_INT(m.request.has_correlation_id, 1);
    CHECK_EQ_STR(m.request.correlation_id, SESSION);
    sl_message_clear(&m);
  }
  /* A response's ids too (serde reads them the same way). */
  const char *resp = RS("\"library_id\":\"{A5851768-6F4C-8571-BDF9-"
    "D1E2FC3C6D9E}\",\"responding_device\":\"urn:uuid:11111111-2222-"
    "4333-8444-555555555555\",\"events\":[]");
  CHECK_EQ_INT(sl_message_parse(resp, strlen(resp), &m, err, sizeof err),
               SL_OK);
  CHECK_EQ_STR(m.response.library_id, LIB_ID);
  CHECK_EQ_STR(m.response.responding_device, DEV_A);
  sl_message_clear(&m);
}

static void test_response_parse(void) {
  sl_message m;
  char err[256] = "";
  const char *full = RS(RIDS ",\"events\":[{\"summary\":\"x\"},7],"
                        "\"unknown_event_types\":[\"bogus\",\"nope\"],"
                        "\"next\":{\"timestamp\":\"2025-12-03T10:15:00.5Z\","
                        "\"id\":7}");
  CHECK_EQ_INT(sl_message_parse(full, strlen(full), &m, err, sizeof err),
               SL_OK);
  CHECK_EQ_INT(m.kind, SL_MSG_RESPONSE);
  CHECK_EQ_STR(m.response.library_id, LIB_ID);
  CHECK_EQ_STR(m.response.responding_device, DEV_A);
  CHECK(m.response.events != NULL);
  if (m.response.events) {
    CHECK_EQ_INT(m.response.events->kind, SL_JSON_ARRAY);
    CHECK_EQ_INT(m.response.events->length, 2);
  }
  CHECK_EQ_INT(m.response.n_unknown_event_types, 2);
  if (m.response.n_unknown_event_types == 2) {
    CHECK_EQ_STR(m.response.unknown_event_types[0], "bogus");
    CHECK_EQ_STR(m.response.unknown_event_types[1], "nope");
  }
  CHECK_EQ_INT(m.response.has_next, 1);
  CHECK_EQ_INT(m.response.next, T0 + 500000000);
  CHECK_EQ_INT(m.response.next_id, 7);
  sl_message_clear(&m);

  /* Spacedrive's own response: none of synclua's fields. */
  const char *plain = RS(RIDS ",\"events\":[]");
  CHECK_EQ_INT(sl_message_parse(plain, strlen(plain), &m, err, sizeof err),
               SL_OK);
  CHECK_EQ_INT(m.kind, SL_MSG_RESPONSE);
  CHECK_EQ_INT(m.response.events ? (int64_t)m.response.events->length : -1,
               0);
  CHECK_EQ_INT(m.response.n_unknown_event_types, 0);
  CHECK_EQ_INT(m.response.has_next, 0);
  sl_message_clear(&m);

  const char *nulls = RS(RIDS ",\"events\":[],\"unknown_event_types\":null,"
                         "\"next\":null,\"more\":1");
  CHECK_EQ_INT(sl_message_parse(nulls, strlen(nulls), &m, err, sizeof err),
               SL_OK);
  CHECK_EQ_INT(m.response.n_unknown_event_types, 0);
  CHECK_EQ_INT(m.response.has_next, 0);
  sl_message_clear(&m);
}

typedef struct refusal {
  const char *json;
  const char *err;
} refusal;

static const refusal refusals[] = {
  /* the message itself */
  {"", "message is not JSON: unexpected end of input at line 1 column 1"},
  {"{\"EventLogRequest\":", "message is not JSON: unexpected end of input "
   "at line 1 column 20"},
  {"[1]", "message: expected an object with one variant key "
   "(EventLogRequest or EventLogResponse), got an array"},
  {"\"EventLogRequest\"", "message: expected an object with one variant key "
   "(EventLogRequest or EventLogResponse), got a string"},
  {"{}", "message: expected an object with one variant key "
   "(EventLogRequest or EventLogResponse), got an object with another "
   "number of keys"},
  {"{\"EventLogRequest\":{" IDS ",\"limit\":1},\"EventLogResponse\":{}}",
   "message: expected an object with one variant key (EventLogRequest or "
   "EventLogResponse), got an object with another number of keys"},
  {"{\"Ping\":{}}", "message: unknown variant \"Ping\", expected "
   "EventLogRequest or EventLogResponse"},
  {"{\"eventLogRequest\":{}}", "message: unknown variant "
   "\"eventLogRequest\", expected EventLogRequest or EventLogResponse"},
  {"{\"EventLogRequest\\u0000x\":{" IDS ",\"limit\":1}}", "message: unknown "
   "variant \"EventLogRequest\", expected EventLogRequest or "
   "EventLogResponse"},
  {"{\"EventLogRequest\":[1]}", "EventLogRequest: expected an object, got "
   "an array"},
  {"{\"EventLogRequest\":null}", "EventLogRequest: expected an object, got "
   "null"},
  {"{\"EventLogResponse\":\"x\"}", "EventLogResponse: expected an object, "
   "got a string"},
  /* limit: a u32, required */
  {RQ(IDS), "EventLogRequest.limit: missing (required)"},
  {RQ(IDS ",\"limit\":-1"), "EventLogRequest.limit: expected an integer "
   "from 0 to 4294967295, got -1"},
  {RQ(IDS ",\"limit\":4294967296"), "EventLogRequest.limit: expected an "
   "integer from 0 to 4294967295, got 4294967296"},
  {RQ(IDS ",\"limit\":1.5"), "EventLogRequest.limit: expected an integer "
   "from 0 to 4294967295, got 1.5"},
  {RQ(IDS ",\"limit\":\"10\""), "EventLogRequest.limit: expected an integer "
   "from 0 to 4294967295, got a string"},
  {RQ(IDS ",\"limit\":null"), "EventLogRequest.limit: expected an integer "
   "from 0 to 4294967295, got null"},
  {RQ(IDS ",\"limit\":true"), "EventLogRequest.limit: expected an integer "
   "from 0 to 4294967295, got a boolean"},
  {RQ(IDS ",\"limit\":1,\"limit\":2"), "EventLogRequest.limit: given more "
   "than once"},
  /* UUIDs */
  {RQ("\"requesting_device\":\"" DEV_ME "\",\"limit\":1"),
   "EventLogRequest.library_id: missing (required)"},
  {RQ("\"library_id\":null,\"requesting_device\":\"" DEV_ME "\","
      "\"limit\":1"), "EventLogRequest.library_id: expected a UUID string, "
   "got null"},
  {RQ("\"library_id\":5,\"requesting_device\":\"" DEV_ME "\",\"limit\":1"),
   "EventLogRequest.library_id: expected a UUID string, got a number"},
  {RQ("\"library_id\":\"nope\",\"requesting_device\":\"" DEV_ME "\","
      "\"limit\":1"), "EventLogRequest.library_id: not a UUID: \"nope\""},
  {RQ("\"library_id\":\"" LIB_ID "x\",\"requesting_device\":\"" DEV_ME "\","
      "\"limit\":1"), "EventLogRequest.library_id: not a UUID: \"" LIB_ID
   "x\""},
  {RQ("\"library_id\":\"" LIB_ID "\",\"limit\":1"),
   "EventLogRequest.requesting_device: missing (required)"},
  {RQ("\"library_id\":\"" LIB_ID "\",\"requesting_device\":\"c0ffee00\","
      "\"limit\":1"), "EventLogRequest.requesting_device: not a UUID: "
   "\"c0ffee00\""},
  {RQ(IDS ",\"correlation_id\":\"x\",\"limit\":1"),
   "EventLogRequest.correlation_id: not a UUID: \"x\""},
  {RQ(IDS ",\"correlation_id\":[],\"limit\":1"),
   "EventLogRequest.correlation_id: expected a UUID string, got an array"},
  /* ... and the spellings the uuid crate does not read: braces around
  ** the simple form, "URN:UUID:" in capitals, a space, a 'g', hyphens out
  ** of place, a digit short, braces with urn, a wrong closing brace. */
  {RQ("\"library_id\":\"{a58517686f4c8571bdf9d1e2fc3c6d9e}\","
      "\"requesting_device\":\"" DEV_ME "\",\"limit\":1"),
   "EventLogRequest.library_id: not a UUID: "
   "\"{a58517686f4c8571bdf9d1e2fc3c6d9e}\""},
  {RQ("\"library_id\":\"URN:UUID:" LIB_ID "\",\"requesting_device\":\""
      DEV_ME "\",\"limit\":1"), "EventLogRequest.library_id: not a UUID: "
   "\"URN:UUID:a5851768-6f4c-8571-bdf9-d1e2fc3\""},
  {RQ("\"library_id\":\" " LIB_ID "\",\"requesting_device\":\"" DEV_ME
      "\",\"limit\":1"), "EventLogRequest.library_id: not a UUID: \" "
   "a5851768-6f4c-8571-bdf9-d1e2fc3c6d9e\""},
  {RQ("\"library_id\":\"{" LIB_ID ")\",\"requesting_device\":\"" DEV_ME
      "\",\"limit\":1"), "EventLogRequest.library_id: not a UUID: \"{"
   "a5851768-6f4c-8571-bdf9-d1e2fc3c6d9e)\""},
  {RQ("\"library_id\":\"" LIB_ID "\",\"requesting_device\":"
      "\"c0ffee00-1234-4567-89ab-cdef0123456g\",\"limit\":1"),
   "EventLogRequest.requesting_device: not a UUID: "
   "\"c0ffee00-1234-4567-89ab-cdef0123456g\""},
  {RQ("\"library_id\":\"" LIB_ID "\",\"requesting_device\":"
      "\"c0ffee00-1234-4567-89abcdef-01234567\",\"limit\":1"),
   "EventLogRequest.requesting_device: not a UUID: "
   "\"c0ffee00-1234-4567-89abcdef-01234567\""},
  {RQ(IDS ",\"correlation_id\":\"0f9e8d7c6b5a4c3d8e2f1a0b9c8d7e6\","
      "\"limit\":1"), "EventLogRequest.correlation_id: not a UUID: "
   "\"0f9e8d7c6b5a4c3d8e2f1a0b9c8d7e6\""},
  {RQ(IDS ",\"correlation_id\":\"urn:uuid:{" SESSION "}\",\"limit\":1"),
   "EventLogRequest.correlation_id: not a UUID: "
   "\"urn:uuid:{0f9e8d7c-6b5a-4c3d-8e2f-1a0b9c\""},
  {RQ(IDS ",\"correlation_id\":\"0f9e8d7c6b5a4c3d8e2f1a0b9c8d7e6f\\u0000"
      "\",\"limit\":1"), "EventLogRequest.correlation_id: not a UUID: "
   "\"0f9e8d7c6b5a4c3d8e2f1a0b9c8d7e6f\""},
  {RQ("\"library_id\":\"" LIB_ID "\",\"library_id\":\"" LIB_ID "\","
      "\"requesting_device\":\"" DEV_ME "\",\"limit\":1"),
   "EventLogRequest.library_id: given more than once"},
  /* since */
  {RQ(IDS ",\"since\":\"yesterday\",\"limit\":1"), "EventLogRequest.since: "
   "not an RFC 3339 timestamp: \"yesterday\""},
  {RQ(IDS ",\"since\":\"2025-12-03 09:00:00\",\"limit\":1"),
   "EventLogRequest.since: not an RFC 3339 timestamp: "
   "\"2025-12-03 09:00:00\""},
  {RQ(IDS ",\"since\":1764756900,\"limit\":1"), "EventLogRequest.since: "
   "expected an RFC 3339 timestamp string, got a number"},
  /* event_types */
  {RQ(IDS ",\"event_types\":\"state_transition\",\"limit\":1"),
   "EventLogRequest.event_types: expected an array of strings, got a "
   "string"},
  {RQ(IDS ",\"event_types\":{},\"limit\":1"),
   "EventLogRequest.event_types: expected an array of strings, got an "
   "object"},
  {RQ(IDS ",\"event_types\":[\"state_transition\",3],\"limit\":1"),
   "EventLogRequest.event_types[1]: expected a string without NUL, got a "
   "number"},
  {RQ(IDS ",\"event_types\":[null],\"limit\":1"),
   "EventLogRequest.event_types[0]: expected a string without NUL, got "
   "null"},
  /* before (synclua's) */
  {RQ(IDS ",\"limit\":1,\"before\":\"x\""), "EventLogRequest.before: "
   "expected an object {\"timestamp\", \"id\"}, got a string"},
  {RQ(IDS ",\"limit\":1,\"before\":{\"timestamp\":\"2025-12-03T09:00:00Z\"}"),
   "EventLogRequest.before.id: missing (required)"},
  /* responses */
  {RS(RIDS), "EventLogResponse.events: missing (required)"},
  {RS(RIDS ",\"events\":{}"), "EventLogResponse.events: expected an array "
   "of events, got an object"},
  {RS(RIDS ",\"events\":null"), "EventLogResponse.events: expected an "
   "array of events, got null"},
  {RS(RIDS ",\"events\":[],\"events\":[]"), "EventLogResponse.events: "
   "given more than once"},
  {RS(RIDS ",\"events\\u0000\":[]"), "EventLogResponse.events: missing "
   "(required)"},
  {RS("\"library_id\":\"" LIB_ID "\",\"events\":[]"),
   "EventLogResponse.responding_device: missing (required)"},
  {RS(RIDS ",\"events\":[],\"unknown_event_types\":\"bogus\""),
   "EventLogResponse.unknown_event_types: expected an array of strings, "
   "got a string"},
  {RS(RIDS ",\"events\":[],\"next\":\"x\""), "EventLogResponse.next: "
   "expected an object {\"timestamp\", \"id\"}, got a string"},
  {RS(RIDS ",\"events\":[],\"next\":{\"timestamp\":\"soon\",\"id\":1}"),
   "EventLogResponse.next.timestamp: not an RFC 3339 timestamp: \"soon\""},
  {RS(RIDS ",\"events\":[],\"next\":{\"timestamp\":1,\"id\":1}"),
   "EventLogResponse.next.timestamp: expected an RFC 3339 timestamp "
   "string, got a number"},
  {RS(RIDS ",\"events\":[],\"next\":{\"id\":1}"),
   "EventLogResponse.next.timestamp: missing (required)"},
  {RS(RIDS ",\"events\":[],\"next\":{\"timestamp\":\"2025-12-03T09:00:00Z\","
      "\"id\":-1}"), "EventLogResponse.next.id: expected a row id (a "
   "non-negative integer), got a number"},
  {RS(RIDS ",\"events\":[],\"next\":{\"timestamp\":\"2025-12-03T09:00:00Z\","
      "\"id\":\"7\"}"), "EventLogResponse.next.id: expected a row id (a "
   "non-negative integer), got a string"},
  {RS(RIDS ",\"events\":[],\"next\":{\"timestamp\":\"2025-12-03T09:00:00Z\"}"),
   "EventLogResponse.next.id: missing (required)"},
  {RS(RIDS ",\"events\":[],\"next\":{\"timestamp\":\"2025-12-03T09:00:00Z\","
      "\"id\":1,\"id\":2}"), "EventLogResponse.next.id: given more than "
   "once"},
};

static void test_refusals(void) {
  for (size_t i = 0; i < sizeof refusals / sizeof *refusals; i++) {
    const refusal *c = &refusals[i];
    sl_message m;
    char err[256] = "";
    int rc = sl_message_parse(c->json, strlen(c->json), &m, err, sizeof err);
    CHECK_EQ_INT(rc, SL_INVALID);
    CHECK_EQ_STR(err, c->err);
    if (rc != SL_INVALID || strcmp(err, c->err) != 0)
      fprintf(stderr, "  for %s\n", c->json);
    sl_message_clear(&m);
  }
  /* No buffer for the message: still refused, nothing written. */
  sl_message m;
  CHECK_EQ_INT(sl_message_parse("[]", 2, &m, NULL, 0), SL_INVALID);
  sl_message_clear(&m);
  const char *bad = RQ(IDS ",\"limit\":-1");
  CHECK_EQ_INT(sl_message_parse(bad, strlen(bad), &m, NULL, 0), SL_INVALID);
  sl_message_clear(&m);
}

/* ======================================================= wire events */

#define WIRE_FULL                                                          \
  "{\"category\":\"data_flow\",\"correlation_id\":\"" SESSION "\","       \
  "\"details\":{\"models\":{\"location\":2,\"entry\":98},\"note\":"       \
  "\"x/y \xc3\xa9\"},\"device_id\":\"" DEV_A "\",\"duration_ms\":12,"     \
  "\"event_type\":\"batch_ingestion\",\"id\":7,\"model_types\":"          \
  "[\"entry\",\"location\"],\"peer_device_id\":\"" DEV_B "\","            \
  "\"record_count\":100,\"severity\":\"debug\",\"summary\":"              \
  "\"Ingested batch\",\"timestamp\":\"2025-12-03T10:15:00.123Z\"}"
#define WIRE_MIN                                                           \
  "{\"category\":\"lifecycle\",\"device_id\":\"" DEV_A "\","              \
  "\"event_type\":\"state_transition\",\"id\":8,\"severity\":\"info\","   \
  "\"summary\":\"Ready \xe2\x86\x92 Paused\",\"timestamp\":"              \
  "\"2025-12-03T10:15:01Z\"}"
/* The same event with one field replaced (put last: the reader does not
** care for order, and a second key of a name is what `dup` tests). */
#define WIRE_WITH(extra)                                                   \
  "{\"category\":\"lifecycle\",\"device_id\":\"" DEV_A "\","              \
  "\"event_type\":\"state_transition\",\"severity\":\"info\","            \
  "\"timestamp\":\"2025-12-03T10:15:01Z\"" extra "}"

static int parse_events(const char *json, sl_event **evs, size_t *n,
                        sl_buf *arena, char *err, size_t errsz,
                        sl_json **doc) {
  char jerr[128];
  *doc = NULL;
  if (sl_json_parse(json, strlen(json), doc, jerr, sizeof jerr) != SL_OK) {
    fprintf(stderr, "  bad test JSON %s: %s\n", json, jerr);
    return -1;
  }
  return sl_response_events(*doc, evs, n, arena, err, errsz);
}

static void test_wire_events(void) {
  sl_event *evs = NULL;
  size_t n = 99;
  sl_buf arena = {0};
  sl_json *doc;
  char err[256] = "";
  CHECK_EQ_INT(parse_events("[" WIRE_FULL "," WIRE_MIN "]", &evs, &n, &arena,
                            err, sizeof err, &doc), SL_OK);
  CHECK_EQ_INT(n, 2);
  if (n == 2 && evs) {
    const sl_event *e = &evs[0];
    CHECK_EQ_INT(e->id, 0); /* the peer's row id is not ours */
    CHECK_EQ_STR(e->timestamp, "2025-12-03T10:15:00.123Z");
    CHECK_EQ_STR(e->device_id, DEV_A);
    CHECK_EQ_STR(e->event_type, "batch_ingestion");
    CHECK_EQ_STR(e->category, "data_flow");
    CHECK_EQ_STR(e->severity, "debug");
    CHECK_EQ_STR(e->summary, "Ingested batch");
    CHECK_EQ_STR(e->details, "{\"models\":{\"entry\":98,\"location\":2},"
                 "\"note\":\"x/y \xc3\xa9\"}");
    CHECK_EQ_STR(e->correlation_id, SESSION);
    CHECK_EQ_STR(e->peer_device_id, DEV_B);
    CHECK_EQ_STR(e->model_types, "entry,location");
    CHECK_EQ_INT(e->has_record_count, 1);
    CHECK_EQ_INT(e->record_count, 100);
    CHECK_EQ_INT(e->has_duration_ms, 1);
    CHECK_EQ_INT(e->duration_ms, 12);
    e = &evs[1];
    CHECK_EQ_INT(e->id, 0);
    CHECK_EQ_STR(e->timestamp, "2025-12-03T10:15:01Z");
    CHECK_EQ_STR(e->event_type, "state_transition");
    CHECK_EQ_STR(e->summary, "Ready \xe2\x86\x92 Paused");
    CHECK(e->details == NULL);
    CHECK(e->correlation_id == NULL);
    CHECK(e->peer_device_id == NULL);
    CHECK(e->model_types == NULL);
    CHECK_EQ_INT(e->has_record_count, 0);
    CHECK_EQ_INT(e->has_duration_ms, 0);
    /* The rows store as they are (the timestamp in +00:00 form). */
    sl_store *s = NULL;
    size_t ins = 0;
    CHECK_EQ_INT(sl_store_open(path_of("wire.db"), &write_opts, &s), SL_OK);
    CHECK_EQ_INT(sl_store_insert(s, evs, n, 1, &ins, NULL), SL_OK);
    CHECK_EQ_INT(ins, 2);
    sl_filter f;
    sl_cursor *cur;
    const sl_event *row;
    sl_filter_init(&f);
    f.ascending = 1;
    CHECK_EQ_INT(sl_query(s, &f, &cur), SL_OK);
    CHECK_EQ_INT(sl_cursor_next(cur, &row), SL_ROW);
    CHECK_EQ_STR(row->timestamp, "2025-12-03T10:15:00.123+00:00");
    CHECK_EQ_STR(row->details, "{\"models\":{\"entry\":98,\"location\":2},"
                 "\"note\":\"x/y \xc3\xa9\"}");
    CHECK_EQ_STR(row->model_types, "entry,location");
    CHECK_EQ_INT(sl_cursor_next(cur, &row), SL_ROW);
    CHECK_EQ_STR(row->timestamp, "2025-12-03T10:15:01+00:00");
    CHECK_EQ_INT(sl_cursor_next(cur, &row), SL_DONE);
    sl_cursor_close(cur);
    sl_store_close(s);
    sl_store_release(s);
  }
  free(evs);
  sl_buf_free(&arena);
  sl_json_free(doc);

  /* An empty array is no events; details of any kind are kept as JSON. */
  CHECK_EQ_INT(parse_events("[]", &evs, &n, &arena, err, sizeof err, &doc),
               SL_OK);
  CHECK_EQ_INT(n, 0);
  free(evs);
  sl_json_free(doc);
  sl_buf_reset(&arena);
  CHECK_EQ_INT(parse_events("[" WIRE_WITH(",\"summary\":\"s\",\"details\":"
                            "[1,2.5,\"a\"],\"model_types\":[]") "]", &evs,
                            &n, &arena, err, sizeof err, &doc), SL_OK);
  CHECK_EQ_INT(n, 1);
  if (n == 1 && evs) {
    CHECK_EQ_STR(evs[0].details, "[1,2.5,\"a\"]");
    CHECK_EQ_STR(evs[0].model_types, "");
  }
  free(evs);
  sl_json_free(doc);
  sl_buf_free(&arena);

  /* NUL inside text is kept, as Spacedrive keeps it, with its length. */
  arena = (sl_buf){0};
  CHECK_EQ_INT(parse_events("[" WIRE_WITH(",\"summary\":\"nul \\u0000 "
                            "inside\",\"model_types\":[\"a\\u0000\",\"b\"]")
                            "]", &evs, &n, &arena, err, sizeof err, &doc),
               SL_OK);
  CHECK_EQ_INT(n, 1);
  if (n == 1 && evs) {
    size_t len;
    const char *s = sl_event_text(&evs[0], SL_COL_SUMMARY, &len);
    CHECK_EQ_INT(len, 12);
    CHECK(memcmp(s, "nul \0 inside", 12) == 0);
    s = sl_event_text(&evs[0], SL_COL_MODEL_TYPES, &len);
    CHECK_EQ_INT(len, 4);
    CHECK(memcmp(s, "a\0,b", 4) == 0);
  }
  free(evs);
  sl_json_free(doc);
  sl_buf_free(&arena);

  static const refusal bad[] = {
    {"{}", "events: expected an array"},
    {"[" WIRE_MIN ",7]", "event 2: event: expected an object"},
    {"[" WIRE_WITH("") "]", "event 1: summary: missing (required)"},
    {"[" WIRE_MIN "," WIRE_MIN "," WIRE_WITH(",\"summary\":null") "]",
     "event 3: summary: missing (required)"},
    {"[" WIRE_WITH(",\"summary\":5") "]",
     "event 1: summary: expected a string"},
    {"[{\"device_id\":\"" DEV_A "\",\"event_type\":\"state_transition\","
     "\"category\":\"lifecycle\",\"severity\":\"info\",\"summary\":\"s\"}]",
     "event 1: timestamp: missing (required)"},
    {"[" WIRE_WITH(",\"summary\":\"s\",\"correlation_id\":7") "]",
     "event 1: correlation_id: expected a string"},
    {"[" WIRE_WITH(",\"summary\":\"s\",\"record_count\":-1") "]",
     "event 1: record_count: expected a non-negative integer"},
    {"[" WIRE_WITH(",\"summary\":\"s\",\"duration_ms\":1.5") "]",
     "event 1: duration_ms: expected a non-negative integer"},
    {"[" WIRE_WITH(",\"summary\":\"s\",\"id\":\"7\"") "]",
     "event 1: id: expected an integer"},
    {"[" WIRE_WITH(",\"summary\":\"s\",\"model_types\":\"entry\"") "]",
     "event 1: model_types: expected an array of strings"},
    {"[" WIRE_WITH(",\"summary\":\"s\",\"model_types\":[\"a,b\"]") "]",
     "event 1: model_types: expected strings without ','"},
    {"[" WIRE_WITH(",\"summary\":\"s\",\"model_types\":[\"a\",1]") "]",
     "event 1: model_types: expected strings without ','"},
    {"[" WIRE_WITH(",\"summary\":\"s\",\"summary\":\"t\"") "]",
     "event 1: fields: event.summary: given more than once"},
  };
  static sl_event sentinel;
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    sl_buf ar = {0};
    err[0] = '\0';
    evs = &sentinel; /* must be reset to NULL */
    n = 99;
    int rc = parse_events(bad[i].json, &evs, &n, &ar, err, sizeof err, &doc);
    CHECK_EQ_INT(rc, SL_INVALID);
    CHECK_EQ_STR(err, bad[i].err);
    if (rc != SL_INVALID || strcmp(err, bad[i].err) != 0)
      fprintf(stderr, "  for %s\n", bad[i].json);
    CHECK(evs == NULL);
    CHECK_EQ_INT(n, 0);
    sl_buf_free(&ar);
    sl_json_free(doc);
  }
}

/* ============================================================== framer */

/* Feed bytes in the pieces `cuts` marks (ascending offsets), collecting
** the frames, joined by '|', into out. SL_OK or the framer's status. */
static int feed(sl_framer *f, const unsigned char *bytes, size_t n,
                const size_t *cuts, size_t ncuts, sl_buf *out, char *err,
                size_t errsz) {
  size_t at = 0;
  for (size_t c = 0; c <= ncuts; c++) {
    size_t end = c < ncuts ? cuts[c] : n;
    while (at < end) {
      size_t used = 0;
      int rc = sl_framer_push(f, bytes + at, end - at, &used, err, errsz);
      if (rc != SL_OK) return rc;
      if (used == 0 && !f->ready) return SL_ERROR; /* no progress */
      at += used;
      if (f->ready) {
        sl_buf_append(out, f->frame.data ? f->frame.data : "", f->frame.len);
        sl_buf_puts(out, "|");
        sl_framer_next(f);
      }
    }
  }
  return SL_OK;
}

static void test_framer(void) {
  /* Three frames: "abc", an empty one, and {"x":1}. */
  static const unsigned char stream[] = {
    0, 0, 0, 3, 'a', 'b', 'c',
    0, 0, 0, 0,
    0, 0, 0, 7, '{', '"', 'x', '"', ':', '1', '}'};
  const size_t n = sizeof stream;
  char err[128] = "";
  sl_framer f;
  sl_buf got = {0};
  int all = 1;

  /* Whole, in one push at a time. */
  sl_framer_init(&f, 0);
  CHECK_EQ_INT(f.max_frame, SL_MAX_FRAME);
  CHECK_EQ_INT(feed(&f, stream, n, NULL, 0, &got, err, sizeof err), SL_OK);
  CHECK_EQ_STR(got.data, "abc||{\"x\":1}|");
  CHECK_EQ_INT(sl_framer_pending(&f), 0);
  sl_framer_free(&f);

  /* Split at every boundary, and at every pair of boundaries. */
  for (size_t a = 0; a <= n; a++) {
    for (size_t b = a; b <= n; b++) {
      size_t cuts[2] = {a, b};
      sl_buf_reset(&got);
      sl_framer_init(&f, 64);
      int rc = feed(&f, stream, n, cuts, 2, &got, err, sizeof err);
      if (rc != SL_OK || !got.data ||
          strcmp(got.data, "abc||{\"x\":1}|") != 0) {
        if (all)
          fprintf(stderr, "  framer split at %zu and %zu: %s\n", a, b,
                  got.data ? got.data : "(nothing)");
        all = 0;
      }
      sl_framer_free(&f);
    }
  }
  CHECK(all);

  /* One byte a push: pending counts the unfinished frame's bytes. */
  sl_framer_init(&f, 64);
  size_t used = 9;
  CHECK_EQ_INT(sl_framer_push(&f, stream, 2, &used, err, sizeof err), SL_OK);
  CHECK_EQ_INT(used, 2);
  CHECK_EQ_INT(f.ready, 0);
  CHECK_EQ_INT(sl_framer_pending(&f), 2);
  CHECK_EQ_INT(sl_framer_push(&f, stream + 2, 4, &used, err, sizeof err),
               SL_OK);
  CHECK_EQ_INT(used, 4);
  CHECK_EQ_INT(sl_framer_pending(&f), 6);
  /* The rest of the stream: only what completes this frame is taken. */
  CHECK_EQ_INT(sl_framer_push(&f, stream + 6, n - 6, &used, err, sizeof err),
               SL_OK);
  CHECK_EQ_INT(used, 1);
  CHECK_EQ_INT(f.ready, 1);
  CHECK_EQ_INT(f.frame.len, 3);
  CHECK_EQ_INT(sl_framer_pending(&f), 0);
  /* Ready: nothing more is taken until sl_framer_next. */
  CHECK_EQ_INT(sl_framer_push(&f, stream + 7, n - 7, &used, err, sizeof err),
               SL_OK);
  CHECK_EQ_INT(used, 0);
  sl_framer_next(&f);
  CHECK_EQ_INT(f.ready, 0);
  CHECK_EQ_INT(sl_framer_push(&f, stream + 7, n - 7, &used, err, sizeof err),
               SL_OK);
  CHECK_EQ_INT(used, 4);
  CHECK_EQ_INT(f.ready, 1);
  CHECK_EQ_INT(f.frame.len, 0);
  sl_framer_free(&f);
  sl_framer_free(&f); /* idempotent */

  /* A frame of exactly the limit is taken; one byte more is refused as
  ** soon as its length is in, with nothing allocated for it. */
  static const unsigned char at_cap[] = {0, 0, 0, 5, '1', '2', '3', '4', '5'};
  sl_buf_reset(&got);
  sl_framer_init(&f, 5);
  CHECK_EQ_INT(feed(&f, at_cap, sizeof at_cap, NULL, 0, &got, err,
                    sizeof err), SL_OK);
  CHECK_EQ_STR(got.data, "12345|");
  sl_framer_free(&f);

  static const unsigned char over[] = {0, 0, 0, 6, '1', '2', '3'};
  sl_framer_init(&f, 5);
  used = 99;
  CHECK_EQ_INT(sl_framer_push(&f, over, 3, &used, err, sizeof err), SL_OK);
  CHECK_EQ_INT(used, 3);
  CHECK_EQ_INT(sl_framer_push(&f, over + 3, 4, &used, err, sizeof err),
               SL_INVALID);
  CHECK_EQ_INT(used, 1);
  CHECK_EQ_STR(err, "frame of 6 bytes is over the limit of 5");
  CHECK_EQ_INT(f.frame.cap, 0);
  CHECK(f.frame.data == NULL);
  /* Refused again for whatever is pushed after it (synclua/net.h). */
  err[0] = '\0';
  CHECK_EQ_INT(sl_framer_push(&f, over + 4, 3, &used, err, sizeof err),
               SL_INVALID);
  CHECK_EQ_INT(used, 0);
  CHECK_EQ_STR(err, "frame of 6 bytes is over the limit of 5");
  CHECK_EQ_INT(f.frame.cap, 0);
  /* ... until the next frame. */
  sl_framer_next(&f);
  CHECK_EQ_INT(sl_framer_push(&f, at_cap, sizeof at_cap, &used, err,
                              sizeof err), SL_OK);
  CHECK_EQ_INT(used, sizeof at_cap);
  CHECK_EQ_INT(f.ready, 1);
  sl_framer_free(&f);

  static const unsigned char huge[] = {0xff, 0xff, 0xff, 0xff, 'x'};
  sl_framer_init(&f, 0);
  CHECK_EQ_INT(sl_framer_push(&f, huge, sizeof huge, &used, err, sizeof err),
               SL_INVALID);
  CHECK_EQ_INT(used, 4);
  CHECK_EQ_STR(err, "frame of 4294967295 bytes is over the limit of "
               "16777216");
  CHECK_EQ_INT(f.frame.cap, 0);
  sl_framer_free(&f);

  static const unsigned char just_over[] = {0x01, 0x00, 0x00, 0x01};
  sl_framer_init(&f, 0);
  CHECK_EQ_INT(sl_framer_push(&f, just_over, 4, &used, NULL, 0), SL_INVALID);
  CHECK_EQ_INT(f.frame.cap, 0);
  sl_framer_free(&f);
  sl_buf_free(&got);
}

/* ================================================================ keys */

static void write_file(const char *path, const char *text, mode_t mode) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  CHECK(fd >= 0);
  if (fd < 0) return;
  CHECK_EQ_INT(write(fd, text, strlen(text)), (int64_t)strlen(text));
  CHECK_EQ_INT(fchmod(fd, mode), 0);
  close(fd);
}

#define KEY_HEX "000102030405060708090a0b0c0d0e0f" \
                "101112131415161718191a1b1c1d1e1f"

static void test_keys(void) {
  unsigned char k[SL_KEY_BYTES];
  char hex[SL_KEY_HEXSZ], err[512] = "", want[512], id[SL_UUID_BUFSZ];
  const char *p;

  sl_key_hex(key, hex);
  CHECK_EQ_STR(hex, KEY_HEX);

  p = path_of("good.key");
  write_file(p, KEY_HEX "\n", 0600);
  memset(k, 0xaa, sizeof k);
  CHECK_EQ_INT(sl_key_read(p, k, err, sizeof err), SL_OK);
  CHECK(memcmp(k, key, SL_KEY_BYTES) == 0);

  /* Without the newline; in upper case; mode 0400. */
  p = path_of("bare.key");
  write_file(p, "000102030405060708090A0B0C0D0E0F"
                "101112131415161718191A1B1C1D1E1F", 0400);
  memset(k, 0, sizeof k);
  CHECK_EQ_INT(sl_key_read(p, k, err, sizeof err), SL_OK);
  CHECK(memcmp(k, key, SL_KEY_BYTES) == 0);

  p = path_of("open.key");
  write_file(p, KEY_HEX "\n", 0644);
  CHECK_EQ_INT(sl_key_read(p, k, err, sizeof err), SL_INVALID);
  snprintf(want, sizeof want, "key file %s: readable by others (mode 0644); "
           "chmod 600 %s", p, p);
  CHECK_EQ_STR(err, want);

  p = path_of("group.key");
  write_file(p, KEY_HEX "\n", 0640);
  CHECK_EQ_INT(sl_key_read(p, k, err, sizeof err), SL_INVALID);
  snprintf(want, sizeof want, "key file %s: readable by others (mode 0640); "
           "chmod 600 %s", p, p);
  CHECK_EQ_STR(err, want);

  static const char *const malformed[] = {
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1\n",
    KEY_HEX "00\n",
    KEY_HEX "\n\n",
    KEY_HEX "\r\n",
    " " KEY_HEX "\n",
    "zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
    "",
  };
  for (size_t i = 0; i < sizeof malformed / sizeof *malformed; i++) {
    p = path_of("bad.key");
    write_file(p, malformed[i], 0600);
    err[0] = '\0';
    CHECK_EQ_INT(sl_key_read(p, k, err, sizeof err), SL_INVALID);
    snprintf(want, sizeof want, "key file %s: expected 64 hexadecimal digits "
             "and a newline (synclua keygen writes one)", p);
    CHECK_EQ_STR(err, want);
  }

  p = path_of("missing.key");
  CHECK_EQ_INT(sl_key_read(p, k, err, sizeof err), SL_NOTFOUND);
  snprintf(want, sizeof want, "key file %s: No such file or directory", p);
  CHECK_EQ_STR(err, want);

  p = path_of("");
  CHECK_EQ_INT(sl_key_read(p, k, err, sizeof err), SL_INVALID);
  snprintf(want, sizeof want, "key file %s: not a regular file", p);
  CHECK_EQ_STR(err, want);

  /* The library id: pinned (worked out with Python), the same every time,
  ** another for another key, version 8 and variant 10 either way. */
  sl_key_library_id(key, id);
  CHECK_EQ_STR(id, LIB_ID);
  sl_key_library_id(key, id);
  CHECK_EQ_STR(id, LIB_ID);
  sl_key_library_id(wrong_key, id);
  CHECK_EQ_STR(id, LIB_FF);
  CHECK_EQ_INT(id[14], '8');
  CHECK(strchr("89ab", id[19]) != NULL);

  /* Fresh keys differ, and read back from their hex. */
  unsigned char g1[SL_KEY_BYTES], g2[SL_KEY_BYTES];
  char line[SL_KEY_HEXSZ + 1];
  sl_key_generate(g1);
  sl_key_generate(g2);
  CHECK(memcmp(g1, g2, SL_KEY_BYTES) != 0);
  sl_key_hex(g1, hex);
  CHECK_EQ_INT(strlen(hex), 64);
  snprintf(line, sizeof line, "%s\n", hex);
  p = path_of("gen.key");
  write_file(p, line, 0600);
  CHECK_EQ_INT(sl_key_read(p, k, err, sizeof err), SL_OK);
  CHECK(memcmp(k, g1, SL_KEY_BYTES) == 0);
  sl_key_library_id(g1, id);
  CHECK_EQ_INT(strlen(id), 36);
  CHECK_EQ_INT(id[14], '8');
  CHECK(strchr("89ab", id[19]) != NULL);
}

/* ======================================================= a raw client */

typedef crypto_secretstream_xchacha20poly1305_state stream_state;

/* The client's half of the protocol, from sl_channel.c's description:
** hello "synclua1" Nc; the server's "synclua1" Ns and proof; our proof and
** stream header; the server's header; then records. */
typedef struct raw {
  int           fd;
  unsigned char nc[32], ns[32];
  int           verified;     /* the server's proof checked out          */
  stream_state  tx, rx;
  sl_buf        sent;         /* every byte written, for replaying       */
} raw;

static void raw_init(raw *r, int fd) {
  struct timeval tv = {5, 0};
  memset(r, 0, sizeof *r);
  r->fd = fd;
  /* A broken server must fail the test, not hang it. */
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

static int raw_write(raw *r, const void *p, size_t n) {
  size_t put = 0;
  sl_buf_append(&r->sent, (const char *)p, n);
  while (put < n) {
    ssize_t w = send(r->fd, (const char *)p + put, n - put, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    put += (size_t)w;
  }
  return 0;
}

static size_t raw_read(raw *r, void *p, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t k = recv(r->fd, (char *)p + got, n - got, 0);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) break;
    got += (size_t)k;
  }
  return got;
}

static void hmac3(unsigned char out[32], const char *label,
                  const unsigned char *nc, const unsigned char *ns,
                  const unsigned char *k) {
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, k, SL_KEY_BYTES);
  crypto_auth_hmacsha256_update(&st, (const unsigned char *)label,
                                strlen(label));
  crypto_auth_hmacsha256_update(&st, nc, 32);
  crypto_auth_hmacsha256_update(&st, ns, 32);
  crypto_auth_hmacsha256_final(&st, out);
}

/* The whole handshake with key k, whatever the server's proof says. 0 when
** it got through (r->verified says whether the server proved the key),
** -1 when the server hung up or answered something else. */
static int raw_handshake(raw *r, const unsigned char *k) {
  unsigned char hello[40], reply[72], finish[56], header[24];
  unsigned char expect[32], master[32], c2s[32], s2c[32];
  memcpy(hello, "synclua1", 8);
  randombytes_buf(r->nc, 32);
  memcpy(hello + 8, r->nc, 32);
  if (raw_write(r, hello, sizeof hello)) return -1;
  if (raw_read(r, reply, sizeof reply) != sizeof reply ||
      memcmp(reply, "synclua1", 8) != 0)
    return -1;
  memcpy(r->ns, reply + 8, 32);
  hmac3(expect, "server", r->nc, r->ns, k);
  r->verified = sodium_memcmp(expect, reply + 40, 32) == 0;
  hmac3(master, "session", r->nc, r->ns, k);
  crypto_kdf_derive_from_key(c2s, 32, 1, "synclua1", master);
  crypto_kdf_derive_from_key(s2c, 32, 2, "synclua1", master);
  hmac3(finish, "client", r->nc, r->ns, k);
  crypto_secretstream_xchacha20poly1305_init_push(&r->tx, finish + 32, c2s);
  if (raw_write(r, finish, sizeof finish)) return -1;
  if (raw_read(r, header, sizeof header) != sizeof header) return -1;
  if (crypto_secretstream_xchacha20poly1305_init_pull(&r->rx, header, s2c))
    return -1;
  return 0;
}

/* Seal one record (length, then the secretstream message) into out, which
** has room for 4 + n + ABYTES bytes. Returns its length. */
static size_t raw_seal(raw *r, const void *plain, size_t n,
                       unsigned char *out) {
  unsigned long long clen = 0;
  crypto_secretstream_xchacha20poly1305_push(
      &r->tx, out + 4, &clen, (const unsigned char *)plain, n, NULL, 0,
      crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
  put_be32(out, (uint32_t)clen);
  return 4 + (size_t)clen;
}

/* Seal and send a small record. */
static int raw_send(raw *r, const void *plain, size_t n) {
  unsigned char rec[4 + 256 + ABYTES];
  if (n > 256) return -1;
  return raw_write(r, rec, raw_seal(r, plain, n, rec));
}

/* Read and open one record into plain (room for SL_RECORD_MAX). Returns
** the ciphertext length, -1 at the end of the stream, -2 when it does not
** open. */
static int64_t raw_open(raw *r, unsigned char *plain, size_t *n) {
  unsigned char len4[4], tag = 0;
  unsigned long long mlen = 0;
  if (raw_read(r, len4, 4) != 4) return -1;
  uint32_t clen = (uint32_t)len4[0] << 24 | (uint32_t)len4[1] << 16 |
                  (uint32_t)len4[2] << 8 | len4[3];
  if (clen < ABYTES || clen > SL_RECORD_MAX + ABYTES) return -2;
  unsigned char *c = malloc(clen);
  if (!c) return -2;
  if (raw_read(r, c, clen) != clen ||
      crypto_secretstream_xchacha20poly1305_pull(&r->rx, plain, &mlen, &tag,
                                                 c, clen, NULL, 0) != 0 ||
      tag != crypto_secretstream_xchacha20poly1305_TAG_MESSAGE) {
    free(c);
    return -2;
  }
  free(c);
  *n = (size_t)mlen;
  return clen;
}

/* ====================================================== the channel */

/* One end of a channel, run by a thread: handshake, receive nrecv frames
** (stopping at the first failure), send nsend frames, free, close. */
typedef struct side {
  int                  fd;
  int                  server;
  const unsigned char *key;
  sl_timeouts          t;
  size_t               max_frame;
  int                  hs;            /* handshake status                   */
  char                 err[256];
  int                  nrecv, got_n;
  int                  rc[4];
  char                 msg[4][256];
  int64_t              ms[4];         /* how long each recv took            */
  sl_buf               got[4];
  int                  nsend;
  const char          *send[4];
  size_t               send_len[4];
  int                  send_rc[4];
} side;

static void side_init(side *s, int fd, int server, const unsigned char *k) {
  memset(s, 0, sizeof *s);
  s->fd = fd;
  s->server = server;
  s->key = k;
  s->t = quick;
  s->hs = -1;
}

static void *side_main(void *arg) {
  side *s = arg;
  sl_channel *ch = NULL;
  s->hs = s->server
    ? sl_channel_server(s->fd, s->key, &s->t, &ch, s->err, sizeof s->err)
    : sl_channel_client(s->fd, s->key, &s->t, &ch, s->err, sizeof s->err);
  if (s->hs == SL_OK) {
    for (int i = 0; i < s->nrecv; i++) {
      int64_t t0 = now_ms();
      s->rc[i] = sl_channel_recv(ch, &s->got[i], s->max_frame);
      s->ms[i] = now_ms() - t0;
      snprintf(s->msg[i], sizeof s->msg[i], "%s", sl_channel_errmsg(ch));
      s->got_n = i + 1;
      if (s->rc[i] != SL_OK) break;
    }
    for (int i = 0; i < s->nsend; i++)
      s->send_rc[i] = sl_channel_send(ch, s->send[i], s->send_len[i]);
  }
  sl_channel_free(ch);
  close(s->fd);
  return NULL;
}

static void side_free(side *s) {
  for (int i = 0; i < 4; i++) sl_buf_free(&s->got[i]);
}

static int pair(int sv[2]) {
  int rc = socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  CHECK_EQ_INT(rc, 0);
  return rc;
}

static void fill(char *p, size_t n, unsigned seed) {
  for (size_t i = 0; i < n; i++)
    p[i] = (char)('!' + (i * 7 + seed) % 90);
}

/* Frames both ways between the real client and server: small, exactly one
** record, a megabyte, empty. */
static void test_channel_frames(void) {
  int sv[2];
  side s;
  pthread_t tid;
  sl_channel *ch = NULL;
  char err[256] = "";
  const size_t big_n = 1u << 20;
  char *big = malloc(big_n), *rec = malloc(SL_RECORD_MAX);
  sl_buf in = {0};
  if (!big || !rec || pair(sv)) { free(big); free(rec); return; }
  fill(big, big_n, 3);
  fill(rec, SL_RECORD_MAX, 5);

  side_init(&s, sv[1], 1, key);
  s.nrecv = 4;
  s.nsend = 4;
  s.send[0] = "{\"back\":1}";
  s.send_len[0] = 10;
  s.send[1] = rec;
  s.send_len[1] = SL_RECORD_MAX;
  s.send[2] = big;
  s.send_len[2] = big_n;
  s.send[3] = "";
  s.send_len[3] = 0;
  pthread_create(&tid, NULL, side_main, &s);

  CHECK_EQ_INT(sl_channel_client(sv[0], key, &quick, &ch, err, sizeof err),
               SL_OK);
  if (ch) {
    CHECK_EQ_INT(sl_channel_send(ch, "{\"a\":1}", 7), SL_OK);
    CHECK_EQ_INT(sl_channel_send(ch, "", 0), SL_OK);
    CHECK_EQ_INT(sl_channel_send(ch, rec, SL_RECORD_MAX), SL_OK);
    CHECK_EQ_INT(sl_channel_send(ch, big, big_n), SL_OK);
    CHECK_EQ_INT(sl_channel_recv(ch, &in, 0), SL_OK);
    CHECK_EQ_STR(in.data, "{\"back\":1}");
    CHECK_EQ_INT(sl_channel_recv(ch, &in, 0), SL_OK);
    CHECK(in.len == SL_RECORD_MAX && memcmp(in.data, rec, in.len) == 0);
    CHECK_EQ_INT(sl_channel_recv(ch, &in, 0), SL_OK);
    CHECK(in.len == big_n && memcmp(in.data, big, in.len) == 0);
    CHECK_EQ_INT(sl_channel_recv(ch, &in, 0), SL_OK);
    CHECK_EQ_INT(in.len, 0);
    /* The server hung up between frames. */
    CHECK_EQ_INT(sl_channel_recv(ch, &in, 0), SL_DONE);
  }
  sl_channel_free(ch);
  close(sv[0]);
  pthread_join(tid, NULL);
  CHECK_EQ_INT(s.hs, SL_OK);
  CHECK_EQ_INT(s.got_n, 4);
  for (int i = 0; i < 4; i++) CHECK_EQ_INT(s.rc[i], SL_OK);
  CHECK_EQ_STR(s.got[0].data, "{\"a\":1}");
  CHECK_EQ_INT(s.got[1].len, 0);
  CHECK(s.got[2].len == SL_RECORD_MAX &&
        memcmp(s.got[2].data, rec, SL_RECORD_MAX) == 0);
  CHECK(s.got[3].len == big_n && memcmp(s.got[3].data, big, big_n) == 0);
  for (int i = 0; i < 4; i++) CHECK_EQ_INT(s.send_rc[i], SL_OK);
  side_free(&s);
  sl_buf_free(&in);
  free(big);
  free(rec);

  /* Misuse is a status. */
  CHECK_EQ_INT(sl_channel_send(NULL, "x", 1), SL_MISUSE);
  CHECK_EQ_INT(sl_channel_recv(NULL, &in, 0), SL_MISUSE);
  CHECK_EQ_STR(sl_channel_errmsg(NULL), "out of memory");
  sl_channel_free(NULL);
}

/* The record layout on the wire, read and written by the raw client: the
** handshake as described, a frame in records of at most SL_RECORD_MAX
** plaintext bytes, frames split over records and records holding several
** frames. */
static void test_channel_wire(void) {
  int sv[2];
  side s;
  pthread_t tid;
  raw r;
  unsigned char *plain = malloc(SL_RECORD_MAX);
  char *rec = malloc(SL_RECORD_MAX);
  size_t n = 0;
  if (!plain || !rec || pair(sv)) { free(plain); free(rec); return; }
  memset(rec, 'x', SL_RECORD_MAX);

  side_init(&s, sv[1], 1, key);
  s.nrecv = 3;
  s.nsend = 2;
  s.send[0] = rec;
  s.send_len[0] = SL_RECORD_MAX;
  s.send[1] = "hi";
  s.send_len[1] = 2;
  pthread_create(&tid, NULL, side_main, &s);

  raw_init(&r, sv[0]);
  CHECK_EQ_INT(raw_handshake(&r, key), 0);
  CHECK_EQ_INT(r.verified, 1);
  /* "hello" one byte a record; then "a" and "bc" in one record. */
  static const unsigned char hello[] = {0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o'};
  for (size_t i = 0; i < sizeof hello; i++) raw_send(&r, hello + i, 1);
  static const unsigned char two[] = {0, 0, 0, 1, 'a', 0, 0, 0, 2, 'b', 'c'};
  raw_send(&r, two, sizeof two);

  /* A frame of SL_RECORD_MAX bytes: its length and 65532 bytes, then 4. */
  CHECK_EQ_INT(raw_open(&r, plain, &n), SL_RECORD_MAX + ABYTES);
  CHECK_EQ_INT(n, SL_RECORD_MAX);
  CHECK(plain[0] == 0 && plain[1] == 1 && plain[2] == 0 && plain[3] == 0);
  CHECK(memcmp(plain + 4, rec, SL_RECORD_MAX - 4) == 0);
  CHECK_EQ_INT(raw_open(&r, plain, &n), 4 + ABYTES);
  CHECK(n == 4 && memcmp(plain, "xxxx", 4) == 0);
  CHECK_EQ_INT(raw_open(&r, plain, &n), 6 + ABYTES);
  CHECK(n == 6 && memcmp(plain, "\0\0\0\2hi", 6) == 0);
  CHECK_EQ_INT(raw_open(&r, plain, &n), -1);
  close(sv[0]);
  pthread_join(tid, NULL);
  CHECK_EQ_INT(s.hs, SL_OK);
  CHECK_EQ_INT(s.got_n, 3);
  CHECK_EQ_STR(s.got[0].data, "hello");
  CHECK_EQ_STR(s.got[1].data, "a");
  CHECK_EQ_STR(s.got[2].data, "bc");
  side_free(&s);
  sl_buf_free(&r.sent);
  free(plain);
  free(rec);
}

/* A server thread against whatever the raw client does in `script`. */
typedef void (*script_fn)(raw *r, void *ud);

static void against_server(side *s, const unsigned char *server_key,
                           const sl_timeouts *t, int nrecv, size_t max_frame,
                           script_fn script, void *ud) {
  int sv[2];
  pthread_t tid;
  raw r;
  if (pair(sv)) return;
  side_init(s, sv[1], 1, server_key);
  if (t) s->t = *t;
  s->nrecv = nrecv;
  s->max_frame = max_frame;
  pthread_create(&tid, NULL, side_main, s);
  raw_init(&r, sv[0]);
  script(&r, ud);
  /* Wait for the server to finish before hanging up, so that what it
  ** saw is what the script did. */
  pthread_join(tid, NULL);
  close(sv[0]);
  sl_buf_free(&r.sent);
}

static void do_wrong_key(raw *r, void *ud) {
  (void)ud;
  CHECK_EQ_INT(raw_handshake(r, wrong_key), -1);
  CHECK_EQ_INT(r->verified, 0);
}

static void do_send_bytes(raw *r, void *ud) {
  const sl_buf *b = ud;
  raw_write(r, b->data, b->len);
}

static void do_one_frame(raw *r, void *ud) {
  (void)ud;
  if (raw_handshake(r, key) == 0) raw_send(r, "\0\0\0\2{}", 6);
}

static void do_flip(raw *r, void *ud) {
  unsigned char rec[64];
  (void)ud;
  if (raw_handshake(r, key) != 0) return;
  size_t n = raw_seal(r, "\0\0\0\2{}", 6, rec);
  rec[4 + 9] ^= 0x10;
  raw_write(r, rec, n);
}

static void do_replay(raw *r, void *ud) {
  unsigned char rec[64];
  (void)ud;
  if (raw_handshake(r, key) != 0) return;
  size_t n = raw_seal(r, "\0\0\0\2{}", 6, rec);
  raw_write(r, rec, n);
  raw_write(r, rec, n);
}

static void do_reorder(raw *r, void *ud) {
  unsigned char a[64], b[64];
  (void)ud;
  if (raw_handshake(r, key) != 0) return;
  size_t na = raw_seal(r, "\0\0\0\1a", 5, a);
  size_t nb = raw_seal(r, "\0\0\0\1b", 5, b);
  raw_write(r, b, nb);
  raw_write(r, a, na);
}

static void do_record_length(raw *r, void *ud) {
  unsigned char len4[4];
  if (raw_handshake(r, key) != 0) return;
  put_be32(len4, *(const uint32_t *)ud);
  raw_write(r, len4, 4);
}

static void do_cut_mid_frame(raw *r, void *ud) {
  (void)ud;
  if (raw_handshake(r, key) != 0) return;
  raw_send(r, "\0\0\0\2{}", 6);
  raw_send(r, "\0\0\0\x10" "abc", 7);
  shutdown(r->fd, SHUT_WR);
}

static void do_cut_mid_record(raw *r, void *ud) {
  unsigned char rec[64];
  (void)ud;
  if (raw_handshake(r, key) != 0) return;
  size_t n = raw_seal(r, "\0\0\0\2{}", 6, rec);
  raw_write(r, rec, n - 5);
  shutdown(r->fd, SHUT_WR);
}

static void do_silent_mid_frame(raw *r, void *ud) {
  (void)ud;
  if (raw_handshake(r, key) != 0) return;
  raw_send(r, "\0\0\0\x10" "abc", 7);
}

static void do_silent_mid_record(raw *r, void *ud) {
  unsigned char rec[64];
  (void)ud;
  if (raw_handshake(r, key) != 0) return;
  size_t n = raw_seal(r, "\0\0\0\2{}", 6, rec);
  raw_write(r, rec, n - 5);
}

static void do_silent(raw *r, void *ud) {
  if (ud) raw_handshake(r, key);
}

static void do_close_cleanly(raw *r, void *ud) {
  (void)ud;
  if (raw_handshake(r, key) != 0) return;
  raw_send(r, "\0\0\0\2{}", 6);
  shutdown(r->fd, SHUT_WR);
}

static void do_not_synclua(raw *r, void *ud) {
  (void)ud;
  raw_write(r, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n.....", 40);
}

#define AUTH_FAILED "a record failed authentication (tampered, replayed " \
                    "or out of order)"

static void test_channel_refusals(void) {
  side s;
  int sv[2];
  pthread_t tid;
  sl_channel *ch = (sl_channel *)&s; /* any non-NULL: must come back NULL */
  char err[256] = "";

  /* The client finds out first that the server holds another key, and
  ** never sends a byte of its proof. */
  if (pair(sv) == 0) {
    side_init(&s, sv[1], 1, wrong_key);
    pthread_create(&tid, NULL, side_main, &s);
    CHECK_EQ_INT(sl_channel_client(sv[0], key, &quick, &ch, err, sizeof err),
                 SL_INVALID);
    CHECK_EQ_STR(err, "the peer does not hold this library's key (its "
                 "handshake proof does not verify)");
    CHECK(ch == NULL);
    close(sv[0]);
    pthread_join(tid, NULL);
    CHECK_EQ_INT(s.hs, SL_IOERR);
    CHECK_EQ_STR(s.err, "connection closed in the handshake (the client "
                 "refused our key?)");
  }

  /* A client that goes on regardless: the server refuses its proof. */
  against_server(&s, key, NULL, 1, 0, do_wrong_key, NULL);
  CHECK_EQ_INT(s.hs, SL_INVALID);
  CHECK_EQ_STR(s.err, "the client does not hold this library's key (its "
               "handshake proof does not verify)");

  /* A handshake recorded and played again to a new session. */
  {
    int sv2[2];
    raw r;
    if (pair(sv2) == 0) {
      side_init(&s, sv2[1], 1, key);
      s.nrecv = 1;
      pthread_create(&tid, NULL, side_main, &s);
      raw_init(&r, sv2[0]);
      do_one_frame(&r, NULL);
      pthread_join(tid, NULL);
      close(sv2[0]);
      CHECK_EQ_INT(s.hs, SL_OK);
      CHECK_EQ_INT(s.rc[0], SL_OK);
      CHECK_EQ_STR(s.got[0].data, "{}");
      CHECK_EQ_INT(r.sent.len, 40 + 56 + 4 + 6 + ABYTES);
      side_free(&s);
      against_server(&s, key, NULL, 1, 0, do_send_bytes, &r.sent);
      CHECK_EQ_INT(s.hs, SL_INVALID);
      CHECK_EQ_STR(s.err, "the client does not hold this library's key "
                   "(its handshake proof does not verify)");
      sl_buf_free(&r.sent);
    }
  }

  against_server(&s, key, NULL, 1, 0, do_not_synclua, NULL);
  CHECK_EQ_INT(s.hs, SL_INVALID);
  CHECK_EQ_STR(s.err, "not a synclua client (handshake)");

  /* A client that meets something else than a synclua server. */
  if (pair(sv) == 0) {
    char junk[72];
    memset(junk, 'H', sizeof junk);
    CHECK_EQ_INT(write(sv[1], junk, sizeof junk), 72);
    CHECK_EQ_INT(sl_channel_client(sv[0], key, &quick, &ch, err, sizeof err),
                 SL_INVALID);
    CHECK_EQ_STR(err, "not a synclua peer (handshake)");
    close(sv[0]);
    close(sv[1]);
  }
  /* ... or one that hangs up at once. */
  if (pair(sv) == 0) {
    shutdown(sv[1], SHUT_WR);
    CHECK_EQ_INT(sl_channel_client(sv[0], key, &quick, &ch, err, sizeof err),
                 SL_IOERR);
    CHECK_EQ_STR(err, "connection closed in the handshake");
    close(sv[0]);
    close(sv[1]);
  }

  /* Records: tampered, replayed, reordered. */
  against_server(&s, key, NULL, 2, 0, do_flip, NULL);
  CHECK_EQ_INT(s.hs, SL_OK);
  CHECK_EQ_INT(s.got_n, 1);
  CHECK_EQ_INT(s.rc[0], SL_INVALID);
  CHECK_EQ_STR(s.msg[0], AUTH_FAILED);
  side_free(&s);

  against_server(&s, key, NULL, 2, 0, do_replay, NULL);
  CHECK_EQ_INT(s.got_n, 2);
  CHECK_EQ_INT(s.rc[0], SL_OK);
  CHECK_EQ_STR(s.got[0].data, "{}");
  CHECK_EQ_INT(s.rc[1], SL_INVALID);
  CHECK_EQ_STR(s.msg[1], AUTH_FAILED);
  side_free(&s);

  against_server(&s, key, NULL, 2, 0, do_reorder, NULL);
  CHECK_EQ_INT(s.got_n, 1);
  CHECK_EQ_INT(s.rc[0], SL_INVALID);
  CHECK_EQ_STR(s.msg[0], AUTH_FAILED);
  side_free(&s);

  /* Record lengths out of bounds, refused before reading the record. */
  static const uint32_t lengths[] = {0, ABYTES - 1, SL_RECORD_MAX + ABYTES + 1,
                                     0xffffffffu};
  static const char *const wants[] = {
    "record of 0 bytes is out of bounds (17 to 65553)",
    "record of 16 bytes is out of bounds (17 to 65553)",
    "record of 65554 bytes is out of bounds (17 to 65553)",
    "record of 4294967295 bytes is out of bounds (17 to 65553)",
  };
  for (size_t i = 0; i < sizeof lengths / sizeof *lengths; i++) {
    uint32_t len = lengths[i];
    against_server(&s, key, NULL, 1, 0, do_record_length, &len);
    CHECK_EQ_INT(s.rc[0], SL_INVALID);
    CHECK_EQ_STR(s.msg[0], wants[i]);
    side_free(&s);
  }

  /* Hanging up: between frames is the end; inside one is an error. */
  against_server(&s, key, NULL, 2, 0, do_close_cleanly, NULL);
  CHECK_EQ_INT(s.got_n, 2);
  CHECK_EQ_INT(s.rc[0], SL_OK);
  CHECK_EQ_INT(s.rc[1], SL_DONE);
  side_free(&s);

  against_server(&s, key, NULL, 2, 0, do_cut_mid_frame, NULL);
  CHECK_EQ_INT(s.got_n, 2);
  CHECK_EQ_INT(s.rc[0], SL_OK);
  CHECK_EQ_INT(s.rc[1], SL_IOERR);
  CHECK_EQ_STR(s.msg[1], "connection closed waiting for a record");
  side_free(&s);

  against_server(&s, key, NULL, 1, 0, do_cut_mid_record, NULL);
  CHECK_EQ_INT(s.rc[0], SL_IOERR);
  CHECK_EQ_STR(s.msg[0], "connection closed in the middle of a record");
  side_free(&s);
}

/* A frame over the receiver's limit, from the real client. */
static void test_channel_max_frame(void) {
  int sv[2];
  side s;
  pthread_t tid;
  sl_channel *ch = NULL;
  char err[256] = "", body[101];
  memset(body, 'z', sizeof body);
  if (pair(sv)) return;
  side_init(&s, sv[1], 1, key);
  s.nrecv = 2;
  s.max_frame = 100;
  pthread_create(&tid, NULL, side_main, &s);
  CHECK_EQ_INT(sl_channel_client(sv[0], key, &quick, &ch, err, sizeof err),
               SL_OK);
  if (ch) {
    CHECK_EQ_INT(sl_channel_send(ch, body, 100), SL_OK);
    CHECK_EQ_INT(sl_channel_send(ch, body, 101), SL_OK);
  }
  pthread_join(tid, NULL);
  sl_channel_free(ch);
  close(sv[0]);
  CHECK_EQ_INT(s.got_n, 2);
  CHECK_EQ_INT(s.rc[0], SL_OK);
  CHECK_EQ_INT(s.got[0].len, 100);
  CHECK_EQ_INT(s.rc[1], SL_INVALID);
  CHECK_EQ_STR(s.msg[1], "frame of 101 bytes is over the limit of 100");
  side_free(&s);
}

/* Silent peers cost their timeout and no more: the handshake's, the idle
** one between frames, the I/O one inside a frame or a record. */
static void test_channel_timeouts(void) {
  side s;
  int one = 1;
  sl_timeouts t = {150, 5000, 5000, 0};
  int64_t t0 = now_ms();
  against_server(&s, key, &t, 1, 0, do_silent, NULL);
  int64_t took = now_ms() - t0;
  CHECK_EQ_INT(s.hs, SL_IOERR);
  CHECK_EQ_STR(s.err, "timed out in the handshake");
  CHECK(took >= 150 && took < 2000);

  t = (sl_timeouts){5000, 150, 5000, 0};
  against_server(&s, key, &t, 1, 0, do_silent, &one);
  CHECK_EQ_INT(s.hs, SL_OK);
  CHECK_EQ_INT(s.rc[0], SL_IOERR);
  CHECK_EQ_STR(s.msg[0], "timed out waiting for a record");
  CHECK(s.ms[0] >= 149 && s.ms[0] < 2000);
  side_free(&s);

  /* Once a frame has started, the shorter I/O timeout applies. */
  t = (sl_timeouts){5000, 5000, 100, 0};
  against_server(&s, key, &t, 1, 0, do_silent_mid_frame, NULL);
  CHECK_EQ_INT(s.rc[0], SL_IOERR);
  CHECK_EQ_STR(s.msg[0], "timed out waiting for a record");
  CHECK(s.ms[0] >= 99 && s.ms[0] < 2000);
  side_free(&s);

  against_server(&s, key, &t, 1, 0, do_silent_mid_record, NULL);
  CHECK_EQ_INT(s.rc[0], SL_IOERR);
  CHECK_EQ_STR(s.msg[0], "timed out in the middle of a record");
  CHECK(s.ms[0] >= 99 && s.ms[0] < 2000);
  side_free(&s);
}

/* Has the other end hung up? (Without waiting.) */
static int raw_gone(raw *r) {
  char c;
  struct pollfd p = {r->fd, POLLIN, 0};
  if (poll(&p, 1, 0) <= 0) return 0;
  return recv(r->fd, &c, 1, MSG_PEEK) <= 0;
}

/* A frame of 20 bytes begun, then a byte a record every 60 ms: each record
** well within the I/O timeout, the frame never whole within it. */
static void do_trickle(raw *r, void *ud) {
  (void)ud;
  if (raw_handshake(r, key) != 0) return;
  raw_send(r, "\0\0\0\x64" "a", 5);
  for (int i = 1; i < 100 && !raw_gone(r); i++) {
    sleep_ms(60);
    raw_send(r, "b", 1);
  }
}

/* Empty records, 60 ms apart, where a frame should begin. */
static void do_empty_records(raw *r, void *ud) {
  (void)ud;
  if (raw_handshake(r, key) != 0) return;
  for (int i = 0; i < 100 && !raw_gone(r); i++) {
    raw_send(r, "", 0);
    sleep_ms(60);
  }
}

/* A frame of 3 x 64 KiB in four records 250 ms apart. */
#define SLOW_FRAME (3u << 16)
static void do_slow_big_frame(raw *r, void *ud) {
  unsigned char *plain = malloc(SL_RECORD_MAX);
  unsigned char *rec = malloc(4 + SL_RECORD_MAX + ABYTES);
  size_t sent = SL_RECORD_MAX - 4;
  (void)ud;
  if (plain && rec && raw_handshake(r, key) == 0) {
    memset(plain, 'x', SL_RECORD_MAX);
    put_be32(plain, SLOW_FRAME);
    raw_write(r, rec, raw_seal(r, plain, SL_RECORD_MAX, rec));
    memset(plain, 'x', 4);
    while (sent < SLOW_FRAME && !raw_gone(r)) {
      size_t n = SLOW_FRAME - sent < SL_RECORD_MAX ? SLOW_FRAME - sent
                                                   : SL_RECORD_MAX;
      sleep_ms(250);
      raw_write(r, rec, raw_seal(r, plain, n, rec));
      sent += n;
    }
  }
  free(plain);
  free(rec);
}

/* The server ends a connection whose peer runs `fn` with SL_IOERR and
** `msg`, no sooner than `min_ms`, and well before the peer would have
** finished (6 s): the upper bound is loose, for loaded machines. */
static void expect_cut_off(script_fn fn, sl_timeouts t, const char *msg,
                           int64_t min_ms) {
  side s;
  against_server(&s, key, &t, 1, 0, fn, NULL);
  CHECK_EQ_INT(s.hs, SL_OK);
  CHECK_EQ_INT(s.rc[0], SL_IOERR);
  CHECK_EQ_STR(s.msg[0], msg);
  CHECK(s.ms[0] >= min_ms && s.ms[0] < 4000);
  side_free(&s);
}

/* A frame must be whole within the I/O timeout plus a second per 64 KiB
** it announces, however steadily its records come; empty records do not
** extend the wait for a frame to begin. */
static void test_channel_deadlines(void) {
  side s;
  sl_timeouts t = {5000, 5000, 300, 0};
  /* 100 bytes, one a record every 60 ms: cut off at 300 ms, not 6 s. */
  expect_cut_off(do_trickle, t, "timed out waiting for a record", 290);
  /* Empty records every 60 ms where a frame should begin: idle 300 ms. */
  expect_cut_off(do_empty_records, (sl_timeouts){5000, 300, 5000, 0},
                 "timed out waiting for a record", 290);

  /* 750 ms for 192 KiB: over the I/O timeout, within its 3.3 s. */
  against_server(&s, key, &t, 1, 0, do_slow_big_frame, NULL);
  CHECK_EQ_INT(s.rc[0], SL_OK);
  CHECK_EQ_STR(s.msg[0], "");
  CHECK_EQ_INT(s.got[0].len, SLOW_FRAME);
  CHECK(s.ms[0] >= 700 && s.ms[0] < 3300);
  side_free(&s);
}

/* ============================================================ stores */

static const char *const a_types[3] = {"state_transition", "batch_ingestion",
                                       "sync_error"};
static const char *const a_cats[3] = {"lifecycle", "data_flow", "error"};
static const char *const a_sevs[3] = {"info", "debug", "error"};

/*
** n_a events of DEV_A, "A 0" ... (ids 1 ... n_a), three to an instant from
** T0 on: types in turn state_transition, batch_ingestion, sync_error; the
** correlation id SESSION on every tenth; details on every thirtieth; the
** batches with counts, a duration, models and DEV_B as peer. Then n_b of
** DEV_B ("B 0" ...), a second apart from T0 + 1000 s: the newest rows.
*/
static void seed(const char *path, int n_a, int n_b) {
  sl_store *s = NULL;
  sl_event *evs = calloc((size_t)(n_a + n_b) + 1, sizeof *evs);
  char (*text)[2][64] = calloc((size_t)(n_a + n_b) + 1, sizeof *text);
  size_t ins = 0;
  if (!evs || !text) { free(evs); free(text); return; }
  for (int i = 0; i < n_a + n_b; i++) {
    sl_event *e = &evs[i];
    e->has_instant = 1;
    if (i < n_a) {
      e->instant = T0 + (int64_t)(i / 3) * SEC;
      e->device_id = DEV_A;
      e->event_type = a_types[i % 3];
      e->category = a_cats[i % 3];
      e->severity = a_sevs[i % 3];
      snprintf(text[i][0], sizeof text[i][0], "A %d", i);
      if (i % 10 == 0) e->correlation_id = SESSION;
      if (i % 30 == 0) {
        snprintf(text[i][1], sizeof text[i][1],
                 "{\"note\":\"x/y \xc3\xa9\",\"i\":%d}", i);
        e->details = text[i][1];
      }
      if (i % 3 == 1) {
        e->record_count = i;
        e->has_record_count = 1;
        e->duration_ms = 5;
        e->has_duration_ms = 1;
        e->model_types = "entry,location";
        e->peer_device_id = DEV_B;
      }
    } else {
      e->instant = T0 + (int64_t)(1000 + i - n_a) * SEC;
      e->device_id = DEV_B;
      e->event_type = "state_transition";
      snprintf(text[i][0], sizeof text[i][0], "B %d", i - n_a);
    }
    e->summary = text[i][0];
  }
  CHECK_EQ_INT(sl_store_open(path, &write_opts, &s), SL_OK);
  CHECK_EQ_INT(sl_store_insert(s, evs, (size_t)(n_a + n_b), 0, &ins, NULL),
               SL_OK);
  CHECK_EQ_INT(ins, n_a + n_b);
  sl_store_close(s);
  sl_store_release(s);
  free(evs);
  free(text);
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

/* Which "A i" a store holds (seen[i] counts them) and how many rows it
** has; rows of another device than DEV_A are counted in *foreign. */
static int64_t holdings(sl_store *s, int *seen, int n, int64_t *foreign) {
  sl_filter f;
  sl_cursor *cur = NULL;
  const sl_event *ev;
  int64_t rows = 0;
  memset(seen, 0, (size_t)n * sizeof *seen);
  *foreign = 0;
  sl_filter_init(&f);
  if (sl_query(s, &f, &cur) != SL_OK) return -1;
  while (sl_cursor_next(cur, &ev) == SL_ROW) {
    int i = -1;
    rows++;
    if (strcmp(ev->device_id, DEV_A) != 0) (*foreign)++;
    if (sscanf(ev->summary, "A %d", &i) == 1 && i >= 0 && i < n) seen[i]++;
  }
  sl_cursor_close(cur);
  return rows;
}

/* seen[i] is 1 exactly for lo <= i < hi with (i % step == rem). */
static int exactly(const int *seen, int n, int lo, int hi, int step,
                   int rem) {
  for (int i = 0; i < n; i++) {
    int want = i >= lo && i < hi && i % step == rem;
    if (seen[i] != want) {
      fprintf(stderr, "  A %d held %d times, expected %d\n", i, seen[i],
              want);
      return 0;
    }
  }
  return 1;
}

/* ============================================================ serving */

typedef struct logbook {
  pthread_mutex_t lock;
  sl_buf          text;       /* lines, each ending "\n"                 */
} logbook;

static void logbook_line(void *ud, const char *line) {
  logbook *lb = ud;
  pthread_mutex_lock(&lb->lock);
  sl_buf_puts(&lb->text, line);
  sl_buf_puts(&lb->text, "\n");
  pthread_mutex_unlock(&lb->lock);
}

/* Lines equal to `line` (exact) or, with suffix set, ending with it. */
static int logbook_count(logbook *lb, const char *line, int suffix) {
  int n = 0;
  size_t len = strlen(line);
  pthread_mutex_lock(&lb->lock);
  const char *p = lb->text.data;
  while (p && *p) {
    const char *end = strchr(p, '\n');
    size_t l = end ? (size_t)(end - p) : strlen(p);
    if (suffix ? l >= len && memcmp(p + l - len, line, len) == 0
               : l == len && memcmp(p, line, len) == 0)
      n++;
    p = end ? end + 1 : p + l;
  }
  pthread_mutex_unlock(&lb->lock);
  return n;
}

/* Lines that start with `prefix` and end with `suffix`. */
static int logbook_between(logbook *lb, const char *prefix,
                           const char *suffix) {
  int n = 0;
  size_t lp = strlen(prefix), ls = strlen(suffix);
  pthread_mutex_lock(&lb->lock);
  const char *p = lb->text.data;
  while (p && *p) {
    const char *end = strchr(p, '\n');
    size_t l = end ? (size_t)(end - p) : strlen(p);
    if (l >= lp + ls && memcmp(p, prefix, lp) == 0 &&
        memcmp(p + l - ls, suffix, ls) == 0)
      n++;
    p = end ? end + 1 : p + l;
  }
  pthread_mutex_unlock(&lb->lock);
  return n;
}

typedef struct served {
  sl_server *srv;
  pthread_t  tid;
  int        rc;
  logbook    log;
} served;

static void *server_main(void *arg) {
  served *s = arg;
  s->rc = sl_server_run(s->srv);
  return NULL;
}

/* A server on o (its listen, key and log filled in here), in a thread. */
static int serve_with(served *s, sl_server_opts *o) {
  char err[256] = "";
  memset(s, 0, sizeof *s);
  pthread_mutex_init(&s->log.lock, NULL);
  o->listen = "127.0.0.1:0";
  o->key = key;
  o->log = logbook_line;
  o->log_ud = &s->log;
  int rc = sl_server_open(o, &s->srv, err, sizeof err);
  CHECK_EQ_INT(rc, SL_OK);
  if (rc != SL_OK) {
    fprintf(stderr, "  sl_server_open: %s\n", err);
    return rc;
  }
  pthread_create(&s->tid, NULL, server_main, s);
  return SL_OK;
}

/* Every stranger's line said (an interval of 1 ms) when `each`. */
static int serve_each(served *s, const char *db, const char *device,
                      uint32_t max_events, int max_clients, int each) {
  sl_server_opts o;
  memset(&o, 0, sizeof o);
  o.db_path = db;
  o.device_id = device;
  o.max_events = max_events;
  o.max_clients = max_clients;
  o.timeouts = quick;
  o.refusal_interval_ms = each ? 1 : 0;
  return serve_with(s, &o);
}

static int serve(served *s, const char *db, const char *device,
                 uint32_t max_events, int max_clients) {
  return serve_each(s, db, device, max_events, max_clients, 0);
}

static void unserve(served *s) {
  if (!s->srv) return;
  sl_server_stop(s->srv);
  pthread_join(s->tid, NULL);
  CHECK_EQ_INT(s->rc, SL_OK);
  sl_server_free(s->srv);
  s->srv = NULL;
}

static void served_free(served *s) {
  unserve(s);
  sl_buf_free(&s->log.text);
  pthread_mutex_destroy(&s->log.lock);
}

static sl_request request(uint32_t limit) {
  sl_request r;
  memset(&r, 0, sizeof r);
  strcpy(r.library_id, LIB_ID);
  strcpy(r.requesting_device, DEV_ME);
  r.limit = limit;
  return r;
}

static void fetch1(sl_fetch_peer *p, const char *address, sl_store *to,
                   const sl_request *req, const unsigned char *k) {
  memset(p, 0, sizeof *p);
  p->address = address;
  p->dest = to;
  sl_fetch(p, 1, req, k, &quick);
}

static int tcp_connect(const char *address) {
  struct sockaddr_in sa;
  struct timeval tv = {5, 0};
  const char *colon = strrchr(address, ':');
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0 || !colon) return -1;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)atoi(colon + 1));
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    close(fd);
    return -1;
  }
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

/* A socket listening on 127.0.0.1 that no one accepts from: the kernel
** completes a connect to it, and nothing more. */
static int listen_only(char *out, size_t outsz) {
  struct sockaddr_in sa;
  socklen_t len = sizeof sa;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
      listen(fd, 4) != 0 ||
      getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
    CHECK(0);
    snprintf(out, outsz, "127.0.0.1:1");
    if (fd >= 0) close(fd);
    return -1;
  }
  snprintf(out, outsz, "127.0.0.1:%u", (unsigned)ntohs(sa.sin_port));
  return fd;
}

/* "127.0.0.1:PORT" of our end, as the server names us. */
static void local_name(int fd, char *out, size_t outsz) {
  struct sockaddr_in sa;
  socklen_t len = sizeof sa;
  getsockname(fd, (struct sockaddr *)&sa, &len);
  snprintf(out, outsz, "127.0.0.1:%u", (unsigned)ntohs(sa.sin_port));
}

/* An address nothing listens on (a port bound a moment, then freed). */
static void closed_address(char *out, size_t outsz) {
  struct sockaddr_in sa;
  socklen_t len = sizeof sa;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  bind(fd, (struct sockaddr *)&sa, sizeof sa);
  getsockname(fd, (struct sockaddr *)&sa, &len);
  snprintf(out, outsz, "127.0.0.1:%u", (unsigned)ntohs(sa.sin_port));
  close(fd);
}

static void test_server_open(void) {
  sl_server_opts o;
  sl_server *srv = (sl_server *)&o; /* any non-NULL: must come back NULL */
  char err[256] = "", want[512];
  memset(&o, 0, sizeof o);
  CHECK_EQ_INT(sl_server_open(&o, &srv, err, sizeof err), SL_MISUSE);
  CHECK_EQ_STR(err, "sl_server_open: db_path, listen and key needed");
  CHECK(srv == NULL);

  o.db_path = path_of("main.db");
  o.listen = "127.0.0.1:0";
  o.key = key;
  /* No device given: the device of the store's newest row. */
  CHECK_EQ_INT(sl_server_open(&o, &srv, err, sizeof err), SL_OK);
  CHECK_EQ_STR(sl_server_device_id(srv), DEV_B);
  CHECK_EQ_STR(sl_server_library_id(srv), LIB_ID);
  CHECK(strncmp(sl_server_address(srv), "127.0.0.1:", 10) == 0);
  CHECK(atoi(sl_server_address(srv) + 10) > 0);
  sl_server_stop(srv); /* before it runs: it returns at once */
  CHECK_EQ_INT(sl_server_run(srv), SL_OK);
  sl_server_free(srv);
  sl_server_free(NULL);

  o.library_id = OTHER_LIB;
  o.device_id = "AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE";
  CHECK_EQ_INT(sl_server_open(&o, &srv, err, sizeof err), SL_OK);
  CHECK_EQ_STR(sl_server_library_id(srv), OTHER_LIB);
  CHECK_EQ_STR(sl_server_device_id(srv), DEV_B);
  sl_server_free(srv);

  o.library_id = "library";
  CHECK_EQ_INT(sl_server_open(&o, &srv, err, sizeof err), SL_INVALID);
  CHECK_EQ_STR(err, "library id 'library' is not a UUID");
  o.library_id = NULL;
  o.device_id = "me";
  CHECK_EQ_INT(sl_server_open(&o, &srv, err, sizeof err), SL_INVALID);
  CHECK_EQ_STR(err, "device id 'me' is not a UUID");
  o.device_id = DEV_A;
  o.listen = "localhost";
  CHECK_EQ_INT(sl_server_open(&o, &srv, err, sizeof err), SL_INVALID);
  CHECK_EQ_STR(err, "address 'localhost': expected HOST:PORT (a port from "
               "0 to 65535; [HOST]:PORT for IPv6)");
  CHECK(srv == NULL);
  o.listen = "127.0.0.1:65536";
  CHECK_EQ_INT(sl_server_open(&o, &srv, err, sizeof err), SL_INVALID);
  CHECK_EQ_STR(err, "address '127.0.0.1:65536': expected HOST:PORT (a port "
               "from 0 to 65535; [HOST]:PORT for IPv6)");

  /* An empty store cannot say whose it is. */
  sl_store *s = dest("empty.db");
  drop(s);
  o.listen = "127.0.0.1:0";
  o.device_id = NULL;
  o.db_path = path_of("empty.db");
  CHECK_EQ_INT(sl_server_open(&o, &srv, err, sizeof err), SL_INVALID);
  snprintf(want, sizeof want, "%s: no events to tell this device's id by; "
           "give the device id (--device)", path_of("empty.db"));
  CHECK_EQ_STR(err, want);
}

/* Requests sent by hand over a channel of our own: the exact bytes of a
** response, paging with "next" and "before", unknown types, and garbage.
** Returns how many requests were served. */
static int raw_requests(served *s, char *me, size_t mesz) {
  sl_channel *ch = NULL;
  sl_buf in = {0}, out = {0};
  sl_message m;
  char err[256] = "";
  int served_n = 0;
  int fd = tcp_connect(sl_server_address(s->srv));
  CHECK(fd >= 0);
  if (fd < 0) return 0;
  local_name(fd, me, mesz);
  CHECK_EQ_INT(sl_channel_client(fd, key, &quick, &ch, err, sizeof err),
               SL_OK);
  if (!ch) { close(fd); return 0; }

  /* The two newest state transitions of the session, byte for byte. */
  const char *q1 = "{\"EventLogRequest\":{\"library_id\":\"" LIB_ID "\","
    "\"requesting_device\":\"" DEV_RAW "\",\"since\":null,\"event_types\":"
    "[\"state_transition\"],\"correlation_id\":\"" SESSION "\",\"limit\":2}}";
  CHECK_EQ_INT(sl_channel_send(ch, q1, strlen(q1)), SL_OK);
  CHECK_EQ_INT(sl_channel_recv(ch, &in, 0), SL_OK);
  CHECK_EQ_STR(in.data, "{\"EventLogResponse\":{\"library_id\":\"" LIB_ID
    "\",\"responding_device\":\"" DEV_A "\",\"events\":["
    "{\"category\":\"lifecycle\",\"correlation_id\":\"" SESSION "\","
    "\"details\":{\"i\":270,\"note\":\"x/y \xc3\xa9\"},\"device_id\":\""
    DEV_A "\",\"event_type\":\"state_transition\",\"id\":271,\"severity\":"
    "\"info\",\"summary\":\"A 270\",\"timestamp\":\"2025-12-03T10:16:30Z\"},"
    "{\"category\":\"lifecycle\",\"correlation_id\":\"" SESSION "\","
    "\"details\":{\"i\":240,\"note\":\"x/y \xc3\xa9\"},\"device_id\":\""
    DEV_A "\",\"event_type\":\"state_transition\",\"id\":241,\"severity\":"
    "\"info\",\"summary\":\"A 240\",\"timestamp\":\"2025-12-03T10:16:20Z\"}"
    "]}}");
  served_n++;

  /* More than the cap asks for: 50, the names it does not know, and where
  ** to go on from. */
  char st[] = "state_transition", bogus[] = "bogus";
  char *types[2];
  types[0] = st;
  types[1] = bogus;
  sl_request r = request(60);
  strcpy(r.requesting_device, DEV_RAW_(2));
  r.has_event_types = 1;
  r.event_types = types;
  r.n_event_types = 2;
  sl_request_write(&out, &r);
  CHECK_EQ_INT(sl_channel_send(ch, out.data, out.len), SL_OK);
  CHECK_EQ_INT(sl_channel_recv(ch, &in, 0), SL_OK);
  const char *tail = "}],\"unknown_event_types\":[\"bogus\"],\"next\":"
    "{\"timestamp\":\"2025-12-03T10:15:50Z\",\"id\":151}}}";
  CHECK(in.len > strlen(tail) &&
        strcmp(in.data + in.len - strlen(tail), tail) == 0);
  CHECK_EQ_INT(sl_message_parse(in.data, in.len, &m, err, sizeof err), SL_OK);
  CHECK_EQ_INT(m.kind, SL_MSG_RESPONSE);
  CHECK_EQ_INT(m.response.events ? (int64_t)m.response.events->length : -1,
               50);
  CHECK_EQ_INT(m.response.has_next, 1);
  CHECK_EQ_INT(m.response.next, T0 + 50 * SEC);
  CHECK_EQ_INT(m.response.next_id, 151);
  CHECK_EQ_INT(m.response.n_unknown_event_types, 1);
  served_n++;

  /* The next page, from there: the ten state transitions before it. */
  strcpy(r.requesting_device, DEV_RAW_(3));
  r.limit = 10;
  r.n_event_types = 1;
  r.has_before = 1;
  r.before = m.response.next;
  r.before_id = m.response.next_id;
  sl_message_clear(&m);
  sl_buf_reset(&out);
  sl_request_write(&out, &r);
  CHECK_EQ_INT(sl_channel_send(ch, out.data, out.len), SL_OK);
  CHECK_EQ_INT(sl_channel_recv(ch, &in, 0), SL_OK);
  CHECK_EQ_INT(sl_message_parse(in.data, in.len, &m, err, sizeof err), SL_OK);
  {
    sl_event *evs = NULL;
    size_t n = 0;
    sl_buf arena = {0};
    CHECK_EQ_INT(sl_response_events(m.response.events, &evs, &n, &arena, err,
                                    sizeof err), SL_OK);
    CHECK_EQ_INT(n, 10);
    if (n == 10) {
      CHECK_EQ_STR(evs[0].summary, "A 147");
      CHECK_EQ_STR(evs[0].timestamp, "2025-12-03T10:15:49Z");
      CHECK_EQ_STR(evs[9].summary, "A 120");
    }
    free(evs);
    sl_buf_free(&arena);
  }
  CHECK_EQ_INT(m.response.has_next, 0);
  CHECK_EQ_INT(m.response.n_unknown_event_types, 0);
  CHECK(strstr(in.data, "unknown_event_types") == NULL);
  CHECK(strstr(in.data, "\"next\"") == NULL);
  sl_message_clear(&m);
  served_n++;

  /* An empty list of types filters nothing, as in Spacedrive (no name in
  ** it is unknown): the 30 events of the session. */
  const char *q4 = RQ("\"library_id\":\"" LIB_ID "\",\"requesting_device\":\""
    DEV_RAW_(4) "\",\"event_types\":[],\"correlation_id\":\"" SESSION "\","
    "\"limit\":100");
  CHECK_EQ_INT(sl_channel_send(ch, q4, strlen(q4)), SL_OK);
  CHECK_EQ_INT(sl_channel_recv(ch, &in, 0), SL_OK);
  CHECK_EQ_INT(sl_message_parse(in.data, in.len, &m, err, sizeof err), SL_OK);
  CHECK_EQ_INT(m.response.events ? (int64_t)m.response.events->length : -1,
               30);
  CHECK_EQ_INT(m.response.has_next, 0);
  sl_message_clear(&m);
  served_n++;

  /* A page ends where an instant does: 48 of the 50 allowed, as the 49th
  ** and 50th share their instant with the 51st; "next" is the 48th, the
  ** last of 10:16:24's three in ascending id: A 254, id 255. */
#define Q5(dev) RQ("\"library_id\":\"" LIB_ID "\",\"requesting_device\":\"" \
    dev "\",\"event_types\":[\"state_transition\",\"batch_ingestion\","  \
    "\"sync_error\"],\"limit\":60")
  const char *q5 = Q5(DEV_RAW_(5));
  CHECK_EQ_INT(sl_channel_send(ch, q5, strlen(q5)), SL_OK);
  CHECK_EQ_INT(sl_channel_recv(ch, &in, 0), SL_OK);
  CHECK_EQ_INT(sl_message_parse(in.data, in.len, &m, err, sizeof err), SL_OK);
  CHECK_EQ_INT(m.response.events ? (int64_t)m.response.events->length : -1,
               48);
  tail = "\"summary\":\"A 254\",\"timestamp\":\"2025-12-03T10:16:24Z\"}],"
    "\"next\":{\"timestamp\":\"2025-12-03T10:16:24Z\",\"id\":255}}}";
  CHECK(in.len > strlen(tail) &&
        strcmp(in.data + in.len - strlen(tail), tail) == 0);
  sl_message_clear(&m);
  served_n++;

  /* The first requester asks twice more: these two are summed into one
  ** event, logged when its interval ends (here: when the server stops). */
  CHECK_EQ_INT(sl_channel_send(ch, q1, strlen(q1)), SL_OK);
  CHECK_EQ_INT(sl_channel_recv(ch, &in, 0), SL_OK);
  served_n++;
  const char *q7 = Q5(DEV_RAW);
  CHECK_EQ_INT(sl_channel_send(ch, q7, strlen(q7)), SL_OK);
  CHECK_EQ_INT(sl_channel_recv(ch, &in, 0), SL_OK);
  CHECK(in.len > strlen(tail) &&
        strcmp(in.data + in.len - strlen(tail), tail) == 0);
  served_n++;
#undef Q5

  /* Garbage: no answer, the connection closed. */
  CHECK_EQ_INT(sl_channel_send(ch, "not json", 8), SL_OK);
  CHECK_EQ_INT(sl_channel_recv(ch, &in, 0), SL_DONE);
  sl_channel_free(ch);
  close(fd);
  sl_buf_free(&in);
  sl_buf_free(&out);
  return served_n;
}

/* What the server logged of the raw requests: a row for each requester's
** first request, with the request in details; the rest summed per
** requester into one row when its interval ends. */
static void check_raw_log(const char *db, const char *me) {
  sl_store *s = NULL;
  sl_open_opts ro;
  sl_filter f;
  sl_cursor *cur = NULL;
  const sl_event *ev;
  char want[512];
  const char *types[1] = {"backfill_request_received"};
  static const char *const peers[6] = {DEV_RAW, DEV_RAW_(2), DEV_RAW_(3),
                                       DEV_RAW_(4), DEV_RAW_(5), DEV_RAW};
  static const int counts[6] = {2, 50, 10, 30, 48, 50};
  /* Each row's details, around its "remote" value. */
  static const char *const details[6][2] = {
    {"{\"correlation_id\":\"" SESSION "\",\"event_types\":"
     "[\"state_transition\"],\"limit\":2,\"more\":false,\"remote\":\"",
     "\",\"request\":\"EventLogRequest\",\"requests\":1}"},
    {"{\"event_types\":[\"state_transition\",\"bogus\"],\"limit\":60,"
     "\"more\":true,\"remote\":\"", "\",\"request\":\"EventLogRequest\","
     "\"requests\":1,\"unknown_event_types\":[\"bogus\"]}"},
    {"{\"event_types\":[\"state_transition\"],\"limit\":10,\"more\":false,"
     "\"remote\":\"", "\",\"request\":\"EventLogRequest\",\"requests\":1}"},
    {"{\"correlation_id\":\"" SESSION "\",\"event_types\":[],\"limit\":100,"
     "\"more\":false,\"remote\":\"", "\",\"request\":\"EventLogRequest\","
     "\"requests\":1}"},
    {"{\"event_types\":[\"state_transition\",\"batch_ingestion\","
     "\"sync_error\"],\"limit\":60,\"more\":true,\"remote\":\"",
     "\",\"request\":\"EventLogRequest\",\"requests\":1}"},
    {"{\"cut_short\":1,\"remote\":\"",
     "\",\"request\":\"EventLogRequest\",\"requests\":2}"},
  };
  memset(&ro, 0, sizeof ro); /* SL_OPEN_READ */
  CHECK_EQ_INT(sl_store_open(db, &ro, &s), SL_OK);
  sl_filter_init(&f);
  f.event_types = types;
  f.n_event_types = 1;
  f.ascending = 1;
  CHECK_EQ_INT(sl_query(s, &f, &cur), SL_OK);
  for (int i = 0; i < 6; i++) {
    int rc;
    /* The fetches' rows (DEV_ME's) are not the raw requests'. */
    while ((rc = sl_cursor_next(cur, &ev)) == SL_ROW &&
           strcmp(ev->peer_device_id ? ev->peer_device_id : "", DEV_ME) == 0)
      ;
    CHECK_EQ_INT(rc, SL_ROW);
    if (rc != SL_ROW) break;
    CHECK_EQ_STR(ev->event_type, "backfill_request_received");
    CHECK_EQ_STR(ev->category, "network");
    CHECK_EQ_STR(ev->severity, "debug");
    CHECK_EQ_STR(ev->device_id, DEV_A);
    CHECK_EQ_STR(ev->peer_device_id, peers[i]);
    CHECK_EQ_STR(ev->model_types, "sync_event_log");
    CHECK(ev->correlation_id == NULL);
    CHECK_EQ_INT(ev->has_record_count, 1);
    CHECK_EQ_INT(ev->record_count, counts[i]);
    CHECK_EQ_INT(ev->has_duration_ms, 1);
    CHECK(ev->duration_ms >= 0 && ev->duration_ms < 5000);
    if (i < 5)
      snprintf(want, sizeof want, "Served event log request from %s (%s): "
               "%d events", peers[i], me, counts[i]);
    else
      snprintf(want, sizeof want, "Served 2 more event log requests from "
               DEV_RAW " (the last from %s): 50 events", me);
    CHECK_EQ_STR(ev->summary, want);
    snprintf(want, sizeof want, "%s%s%s", details[i][0], me, details[i][1]);
    CHECK_EQ_STR(ev->details, want);
    /* Logged now, in +00:00 form. */
    CHECK(ev->has_instant && ev->instant > T0);
    CHECK(strlen(ev->timestamp) > 6 &&
          strcmp(ev->timestamp + strlen(ev->timestamp) - 6, "+00:00") == 0);
    ev = NULL;
  }
  CHECK_EQ_INT(sl_cursor_next(cur, &ev), SL_DONE);
  sl_cursor_close(cur);
  sl_store_release(s);
}

/* The backfill_request_received rows of a store (of one requester, unless
** peer is NULL): how many, and the requests they stand for. */
static void served_rows(const char *db, const char *peer, int64_t *rows,
                        int64_t *requests) {
  sqlite3 *h = NULL;
  sqlite3_stmt *st = NULL;
  *rows = *requests = -1;
  if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
      sqlite3_prepare_v2(h, "SELECT count(*), "
                         "sum(json_extract(details, '$.requests')) FROM "
                         "sync_event_log WHERE event_type = "
                         "'backfill_request_received' AND (?1 IS NULL OR "
                         "peer_device_id = ?1)", -1, &st, NULL) == SQLITE_OK) {
    if (peer) sqlite3_bind_text(st, 1, peer, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
      *rows = sqlite3_column_int64(st, 0);
      *requests = sqlite3_column_int64(st, 1);
    }
  }
  sqlite3_finalize(st);
  sqlite3_close(h);
}

static int64_t count_type(const char *db, const char *type) {
  sl_store *s = NULL;
  sl_open_opts ro;
  sl_filter f;
  int64_t n = -1;
  const char *types[1];
  types[0] = type;
  memset(&ro, 0, sizeof ro); /* SL_OPEN_READ */
  if (sl_store_open(db, &ro, &s) == SL_OK) {
    sl_filter_init(&f);
    f.event_types = types;
    f.n_event_types = 1;
    sl_count(s, &f, &n);
  }
  sl_store_release(s);
  return n;
}

#define N_A 300
#define N_B 5

/* Fetches from one server, each checked against the seeded rows. */
static void test_serve_and_fetch(void) {
  served s;
  sl_fetch_peer p;
  int seen[N_A];
  int64_t foreign = 0;
  int pages = 0;
  char st[] = "state_transition", bi[] = "batch_ingestion",
       se[] = "sync_error", bogus[] = "bogus", nope[] = "nope";
  char *seeded[3], *errors_and_unknown[3], *only_unknown[1], *errs[1];
  seeded[0] = st;
  seeded[1] = bi;
  seeded[2] = se;
  errors_and_unknown[0] = se;
  errors_and_unknown[1] = bogus;
  errors_and_unknown[2] = nope;
  only_unknown[0] = bogus;
  errs[0] = se;
  char db[256];
  snprintf(db, sizeof db, "%s", path_of("main.db"));
  /* Two strangers from here below, each to be said. */
  if (serve_each(&s, db, DEV_A, 50, 0, 1) != SL_OK) return;
  const char *addr = sl_server_address(s.srv);

  /* Everything: the server's device's 300 events, not DEV_B's. A page
  ** holds at most 50 and never splits the three events of an instant, so
  ** 48 a page: seven pages. The first request, so nothing logged yet. */
  sl_request req = request(10000);
  sl_store *d = dest("all.db");
  fetch1(&p, addr, d, &req, key);
  CHECK_EQ_INT(p.status, SL_OK);
  CHECK_EQ_STR(p.errmsg, "");
  CHECK_EQ_STR(p.responding_device, DEV_A);
  CHECK_EQ_INT(p.received, N_A);
  CHECK_EQ_INT(p.inserted, N_A);
  CHECK_EQ_INT(p.pages, 7);
  CHECK_EQ_INT(p.capped, 1);
  CHECK_EQ_STR(p.unknown_event_types, "");
  pages += p.pages;
  CHECK_EQ_INT(holdings(d, seen, N_A, &foreign), N_A);
  CHECK_EQ_INT(foreign, 0);
  CHECK(exactly(seen, N_A, 0, N_A, 1, 0));
  {
    /* A row as it came: "A 1", a batch with all its fields. */
    sl_filter f;
    sl_cursor *cur;
    const sl_event *ev;
    sl_filter_init(&f);
    f.model_type = "location";
    f.ascending = 1;
    f.limit = 1;
    CHECK_EQ_INT(sl_query(d, &f, &cur), SL_OK);
    CHECK_EQ_INT(sl_cursor_next(cur, &ev), SL_ROW);
    CHECK_EQ_STR(ev->summary, "A 1");
    CHECK_EQ_STR(ev->timestamp, "2025-12-03T10:15:00+00:00");
    CHECK_EQ_STR(ev->event_type, "batch_ingestion");
    CHECK_EQ_STR(ev->category, "data_flow");
    CHECK_EQ_STR(ev->severity, "debug");
    CHECK_EQ_STR(ev->model_types, "entry,location");
    CHECK_EQ_STR(ev->peer_device_id, DEV_B);
    CHECK_EQ_INT(ev->record_count, 1);
    CHECK_EQ_INT(ev->duration_ms, 5);
    CHECK(ev->details == NULL);
    sl_cursor_close(cur);
  }
  /* Again: the same events, none new. */
  req = request(10000);
  req.has_event_types = 1;
  req.event_types = seeded;
  req.n_event_types = 3;
  fetch1(&p, addr, d, &req, key);
  CHECK_EQ_INT(p.status, SL_OK);
  CHECK_EQ_INT(p.received, N_A);
  CHECK_EQ_INT(p.inserted, 0);
  pages += p.pages;
  drop(d);

  /* Newest first, equal instants by ascending id (as Spacedrive): a limit
  ** of 7 takes the three of 10:16:39 (A 297-299), the three of 10:16:38
  ** (A 294-296) and the lowest id of 10:16:37's three, A 291. */
  req.limit = 7;
  d = dest("newest.db");
  fetch1(&p, addr, d, &req, key);
  CHECK_EQ_INT(p.status, SL_OK);
  CHECK_EQ_INT(p.received, 7);
  CHECK_EQ_INT(p.inserted, 7);
  CHECK_EQ_INT(p.pages, 1);
  CHECK_EQ_INT(p.capped, 0);
  pages += p.pages;
  CHECK_EQ_INT(holdings(d, seen, N_A, &foreign), 7);
  CHECK_EQ_INT(seen[291], 1);
  seen[291] = 0;
  CHECK(exactly(seen, N_A, 294, 300, 1, 0));
  {
    /* Stored oldest first: ids in the device's own order, ties too. */
    sl_filter f;
    sl_cursor *cur;
    const sl_event *ev;
    char order[128] = "", *o = order;
    sl_filter_init(&f);
    f.ascending = 1;
    CHECK_EQ_INT(sl_query(d, &f, &cur), SL_OK);
    while (sl_cursor_next(cur, &ev) == SL_ROW && o < order + 100)
      o += sprintf(o, "%s%s", o == order ? "" : ",", ev->summary);
    sl_cursor_close(cur);
    CHECK_EQ_STR(order, "A 291,A 294,A 295,A 296,A 297,A 298,A 299");
  }
  drop(d);

  /* Paging: 120 with a cap of 50 is 48 + 48 + 24 (a page ends where an
  ** instant does), and no event twice. */
  req.limit = 120;
  d = dest("paged.db");
  fetch1(&p, addr, d, &req, key);
  CHECK_EQ_INT(p.status, SL_OK);
  CHECK_EQ_INT(p.received, 120);
  CHECK_EQ_INT(p.inserted, 120);
  CHECK_EQ_INT(p.pages, 3);
  CHECK_EQ_INT(p.capped, 1);
  pages += p.pages;
  CHECK_EQ_INT(holdings(d, seen, N_A, &foreign), 120);
  CHECK(exactly(seen, N_A, 180, 300, 1, 0));
  drop(d);

  /* since: from T0 + 90 s on, i.e. A 270 and later. */
  req.limit = 1000;
  req.has_since = 1;
  req.since = T0 + 90 * SEC;
  d = dest("since.db");
  fetch1(&p, addr, d, &req, key);
  CHECK_EQ_INT(p.status, SL_OK);
  CHECK_EQ_INT(p.received, 30);
  CHECK_EQ_INT(p.pages, 1);
  CHECK_EQ_INT(p.capped, 0);
  pages += p.pages;
  CHECK_EQ_INT(holdings(d, seen, N_A, &foreign), 30);
  CHECK(exactly(seen, N_A, 270, 300, 1, 0));
  drop(d);

  /* One type: the 100 sync errors, in two pages. */
  req = request(1000);
  req.has_event_types = 1;
  req.event_types = errs;
  req.n_event_types = 1;
  d = dest("errors.db");
  fetch1(&p, addr, d, &req, key);
  CHECK_EQ_INT(p.status, SL_OK);
  CHECK_EQ_INT(p.received, 100);
  CHECK_EQ_INT(p.pages, 2);
  pages += p.pages;
  CHECK_EQ_INT(holdings(d, seen, N_A, &foreign), 100);
  CHECK(exactly(seen, N_A, 0, 300, 3, 2));
  drop(d);

  /* A correlation id: every tenth event. */
  req = request(1000);
  req.has_correlation_id = 1;
  strcpy(req.correlation_id, SESSION);
  d = dest("session.db");
  fetch1(&p, addr, d, &req, key);
  CHECK_EQ_INT(p.status, SL_OK);
  CHECK_EQ_INT(p.received, 30);
  pages += p.pages;
  CHECK_EQ_INT(holdings(d, seen, N_A, &foreign), 30);
  CHECK(exactly(seen, N_A, 0, 300, 10, 0));
  drop(d);

  /* Unknown types come back named; alone they match nothing (Spacedrive
  ** would have lifted the filter and sent everything). */
  req = request(1000);
  req.has_event_types = 1;
  req.event_types = only_unknown;
  req.n_event_types = 1;
  d = dest("unknown.db");
  fetch1(&p, addr, d, &req, key);
  CHECK_EQ_INT(p.status, SL_OK);
  CHECK_EQ_INT(p.received, 0);
  CHECK_EQ_INT(p.inserted, 0);
  CHECK_EQ_INT(p.pages, 1);
  CHECK_EQ_STR(p.unknown_event_types, "bogus");
  pages += p.pages;
  req.event_types = errors_and_unknown;
  req.n_event_types = 3;
  req.limit = 5;
  fetch1(&p, addr, d, &req, key);
  CHECK_EQ_INT(p.status, SL_OK);
  CHECK_EQ_INT(p.received, 5);
  CHECK_EQ_STR(p.unknown_event_types, "bogus,nope");
  pages += p.pages;
  CHECK_EQ_INT(holdings(d, seen, N_A, &foreign), 5);
  CHECK(exactly(seen, N_A, 285, 300, 3, 2));

  /* Another library: no answer. */
  req = request(10);
  strcpy(req.library_id, OTHER_LIB);
  fetch1(&p, addr, d, &req, key);
  CHECK_EQ_INT(p.status, SL_INVALID);
  CHECK_EQ_STR(p.errmsg, "closed the connection without answering (it "
               "refused the request: another library?)");
  CHECK_EQ_INT(p.received, 0);

  /* Another key: refused in the handshake; the server serves on. */
  req = request(1);
  req.has_event_types = 1;
  req.event_types = errs;
  req.n_event_types = 1;
  fetch1(&p, addr, d, &req, wrong_key);
  CHECK_EQ_INT(p.status, SL_INVALID);
  CHECK_EQ_STR(p.errmsg, "the peer does not hold this library's key (its "
               "handshake proof does not verify)");
  fetch1(&p, addr, d, &req, key);
  CHECK_EQ_INT(p.status, SL_OK);
  CHECK_EQ_INT(p.received, 1);
  pages += p.pages;

  /* A client that connects and says nothing holds its own thread only. */
  int silent = tcp_connect(addr);
  char silent_name[64] = "";
  CHECK(silent >= 0);
  if (silent >= 0) local_name(silent, silent_name, sizeof silent_name);
  int64_t t0 = now_ms();
  fetch1(&p, addr, d, &req, key);
  CHECK_EQ_INT(p.status, SL_OK);
  CHECK_EQ_INT(p.received, 1);
  CHECK(now_ms() - t0 < 1000); /* the handshake timeout is 2000 */
  pages += p.pages;
  drop(d);
  if (silent >= 0) close(silent);

  char me[64] = "";
  int raw_n = raw_requests(&s, me, sizeof me);
  CHECK_EQ_INT(raw_n, 7);

  unserve(&s);
  /* Every request served was logged, and nothing else: the fetches' (all
  ** of one requester: its first, then the rest summed in one row) and the
  ** raw ones (six rows). */
  int64_t rows, requests;
  served_rows(db, NULL, &rows, &requests);
  CHECK_EQ_INT(requests, pages + raw_n);
  CHECK_EQ_INT(rows, 2 + 6);
  CHECK_EQ_INT(count_type(db, "backfill_request_received"), 2 + 6);
  check_raw_log(db, me);
  char line[256];
  snprintf(line, sizeof line, "%s: handshake failed: connection closed in "
           "the handshake", silent_name);
  CHECK_EQ_INT(logbook_count(&s.log, line, 0), 1);
  CHECK_EQ_INT(logbook_count(&s.log, ": handshake failed: connection "
               "closed in the handshake (the client refused our key?)", 1), 1);
  CHECK_EQ_INT(logbook_count(&s.log, ": refused: request for library "
               OTHER_LIB ", this is library " LIB_ID "; closing", 1), 1);
  snprintf(line, sizeof line, "%s: refused: message is not JSON: unexpected "
           "character 'o' at line 1 column 2; closing", me);
  CHECK_EQ_INT(logbook_count(&s.log, line, 0), 1);
  served_free(&s);
}

/* Ask over ch as `device` for `limit` events: the status of the round. */
static int ask_as(sl_channel *ch, const char *device, uint32_t limit) {
  sl_request r = request(limit);
  sl_buf out = {0}, in = {0};
  snprintf(r.requesting_device, sizeof r.requesting_device, "%s", device);
  sl_request_write(&out, &r);
  int rc = sl_channel_send(ch, out.data, out.len);
  if (rc == SL_OK) rc = sl_channel_recv(ch, &in, 0);
  sl_buf_free(&out);
  sl_buf_free(&in);
  return rc;
}

/* A channel to the server, for asking by hand. */
static sl_channel *open_channel(const char *addr, int *fd) {
  sl_channel *ch = NULL;
  char err[256];
  *fd = tcp_connect(addr);
  CHECK(*fd >= 0);
  if (*fd < 0) return NULL;
  CHECK_EQ_INT(sl_channel_client(*fd, key, &quick, &ch, err, sizeof err),
               SL_OK);
  return ch;
}

/* A column of the served rows of one requester (every requester when peer
** is NULL; peer "" for the row without one), comma-joined in id order. */
static void served_column(const char *db, const char *peer, const char *col,
                          char *out, size_t outsz) {
  char sql[512];
  sqlite3 *h = NULL;
  sqlite3_stmt *st = NULL;
  size_t at = 0;
  out[0] = '\0';
  snprintf(sql, sizeof sql, "SELECT %s FROM sync_event_log WHERE event_type "
           "= 'backfill_request_received' AND (?1 IS NULL OR "
           "coalesce(peer_device_id, '') = ?1) ORDER BY id", col);
  if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
      sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK) {
    if (peer) sqlite3_bind_text(st, 1, peer, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW && at + 1 < outsz) {
      const char *v = (const char *)sqlite3_column_text(st, 0);
      int n = snprintf(out + at, outsz - at, "%s%s", at ? "," : "",
                       v ? v : "NULL");
      if (n < 0) break;
      at += (size_t)n;
    }
  }
  sqlite3_finalize(st);
  sqlite3_close(h);
}

#define DEV_X "dddddddd-0000-4000-8000-00000000000a"
#define DEV_Y "dddddddd-0000-4000-8000-00000000000b"

/* Served requests are logged as the batch aggregator logs records: a
** requester's first at once, the rest summed per interval; so however fast
** a key holder asks, and as whoever it claims to be, the store grows by at
** most 2 x 64 + 1 rows an interval. */
static void test_served_sums(void) {
  served s;
  sl_server_opts o;
  char db[256], got[4096], me[64] = "", want[512];
  int fd;
  snprintf(db, sizeof db, "%s", path_of("sums.db"));
  seed(db, 10, 0);
  memset(&o, 0, sizeof o);
  o.db_path = db;
  o.served_interval_ms = 400;
  if (serve_with(&s, &o) != SL_OK) return;
  sl_channel *ch = open_channel(sl_server_address(s.srv), &fd);
  if (!ch) { unserve(&s); served_free(&s); return; }
  local_name(fd, me, sizeof me);
  /* X: its first, then two (summed when its interval ends); Y: one. */
  CHECK_EQ_INT(ask_as(ch, DEV_X, 4), SL_OK);
  CHECK_EQ_INT(ask_as(ch, DEV_X, 3), SL_OK);
  CHECK_EQ_INT(ask_as(ch, DEV_X, 2), SL_OK);
  CHECK_EQ_INT(ask_as(ch, DEV_Y, 1), SL_OK);
  /* Past the interval: X's next three go into its next interval's sum;
  ** Y's interval summed nothing, so its next request is a first again. */
  sleep_ms(600);
  for (int i = 0; i < 3; i++) CHECK_EQ_INT(ask_as(ch, DEV_X, 1), SL_OK);
  CHECK_EQ_INT(ask_as(ch, DEV_Y, 5), SL_OK);
  /* 500 more from one requester: one row more, whenever it comes. */
  for (int i = 0; i < 500; i++) CHECK_EQ_INT(ask_as(ch, DEV_ME, 0), SL_OK);
  sl_channel_free(ch);
  close(fd);
  unserve(&s);
  served_column(db, DEV_X, "json_extract(details, '$.requests')", got,
                sizeof got);
  CHECK_EQ_STR(got, "1,2,3");
  served_column(db, DEV_X, "record_count", got, sizeof got);
  CHECK_EQ_STR(got, "4,5,3");
  served_column(db, DEV_Y, "json_extract(details, '$.requests') || ':' || "
                "record_count", got, sizeof got);
  CHECK_EQ_STR(got, "1:1,1:5");
  served_column(db, DEV_ME, "json_extract(details, '$.requests')", got,
                sizeof got);
  CHECK_EQ_STR(got, "1,499");
  served_column(db, DEV_X, "summary", got, sizeof got);
  snprintf(want, sizeof want, "Served event log request from " DEV_X
           " (%s): 4 events,Served 2 more event log requests from " DEV_X
           " (the last from %s): 5 events,Served 3 more event log requests "
           "from " DEV_X " (the last from %s): 3 events", me, me, me);
  CHECK_EQ_STR(got, want);
  served_free(&s);

  /* 100 requesters, 20 requests each, round and round: the first 64 get a
  ** first row and a sum each, the other 36 one sum between them. */
  snprintf(db, sizeof db, "%s", path_of("sums2.db"));
  seed(db, 10, 0);
  memset(&o, 0, sizeof o);
  o.db_path = db;
  o.served_interval_ms = 600000;
  if (serve_with(&s, &o) != SL_OK) return;
  ch = open_channel(sl_server_address(s.srv), &fd);
  if (!ch) { unserve(&s); served_free(&s); return; }
  local_name(fd, me, sizeof me);
  for (int round = 0; round < 20; round++)
    for (int i = 0; i < 100; i++) {
      char dev[SL_UUID_BUFSZ];
      snprintf(dev, sizeof dev, "dddddddd-0000-4000-8000-%012d", i);
      CHECK_EQ_INT(ask_as(ch, dev, 0), SL_OK);
    }
  sl_channel_free(ch);
  close(fd);
  unserve(&s);
  int64_t rows, requests;
  served_rows(db, NULL, &rows, &requests);
  CHECK_EQ_INT(rows, 64 + 64 + 1);
  CHECK_EQ_INT(requests, 2000);
  served_column(db, "dddddddd-0000-4000-8000-000000000007",
                "json_extract(details, '$.requests')", got, sizeof got);
  CHECK_EQ_STR(got, "1,19");
  served_column(db, "dddddddd-0000-4000-8000-000000000064", "id", got,
                sizeof got);
  CHECK_EQ_STR(got, "");
  served_column(db, "", "summary || '|' || details || '|' || record_count",
                got, sizeof got);
  snprintf(want, sizeof want, "Served 720 event log requests from other "
           "devices (over 64 requesters; the last from %s): 0 events|"
           "{\"cut_short\":0,\"remote\":\"%s\",\"request\":"
           "\"EventLogRequest\",\"requests\":720}|0", me, me);
  CHECK_EQ_STR(got, want);
  served_free(&s);
}

/* A server cuts its pages where a client's decoding would pass its budget
** (max_decode), as it cuts them at max_events and max_frame: every frame
** it sends, a client decodes. An event alone over the budget is an error. */
static void test_decode_budget_pages(void) {
  served s;
  sl_server_opts o;
  sl_fetch_peer p;
  char db[256], err[256];
  sl_buf in = {0};
  sl_message m;
  int fd;
  snprintf(db, sizeof db, "%s", path_of("budget.db"));
  seed(db, 100, 0);
  memset(&o, 0, sizeof o);
  o.db_path = db;
  o.max_events = 50;
  o.max_decode = 20000;
  if (serve_with(&s, &o) != SL_OK) return;
  const char *addr = sl_server_address(s.srv);
  sl_channel *ch = open_channel(addr, &fd);
  if (ch) {
    const char *q = RQ(IDS ",\"limit\":100");
    CHECK_EQ_INT(sl_channel_send(ch, q, strlen(q)), SL_OK);
    CHECK_EQ_INT(sl_channel_recv(ch, &in, 0), SL_OK);
    size_t cost = sl_decode_cost(in.data, in.len, 0, NULL);
    CHECK(cost <= 20000);
    CHECK_EQ_INT(sl_message_parse(in.data, in.len, &m, err, sizeof err),
                 SL_OK);
    /* Fewer than max_events, and more to come. */
    size_t n = m.response.events ? m.response.events->length : 0;
    CHECK(n > 0 && n < 50);
    CHECK_EQ_INT(m.response.has_next, 1);
    sl_message_clear(&m);
    sl_channel_free(ch);
    close(fd);
  }
  /* A fetch pages through it all the same. */
  sl_store *d = dest("budget-dest.db");
  sl_request req = request(100);
  fetch1(&p, addr, d, &req, key);
  CHECK_EQ_INT(p.status, SL_OK);
  CHECK_EQ_INT(p.received, 100);
  CHECK(p.pages > 2);
  drop(d);
  unserve(&s);
  served_free(&s);

  /* No event fits in 300 bytes: the request cannot be answered. */
  o.max_decode = 300;
  if (serve_with(&s, &o) != SL_OK) return;
  d = dest("budget-dest2.db");
  fetch1(&p, sl_server_address(s.srv), d, &req, key);
  CHECK_EQ_INT(p.status, SL_INVALID);
  drop(d);
  unserve(&s);
  CHECK_EQ_INT(logbook_between(&s.log, "127.0.0.1:", " bytes to decode, "
               "over the limit of 300; closing"), 1);
  CHECK(strstr(s.log.text.data, ": could not answer: event ") != NULL);
  sl_buf_free(&in);
  served_free(&s);
}

/* max_clients: one more is refused at once, and served once a slot is
** free. */
static void test_max_clients(void) {
  served s;
  sl_fetch_peer p;
  raw r;
  char late_name[64] = "", c;
  char db[256];
  snprintf(db, sizeof db, "%s", path_of("small.db"));
  seed(db, 10, 0);
  if (serve(&s, db, NULL, 50, 1) != SL_OK) return;
  const char *addr = sl_server_address(s.srv);
  CHECK_EQ_STR(sl_server_device_id(s.srv), DEV_A);

  int occupant = tcp_connect(addr);
  CHECK(occupant >= 0);
  raw_init(&r, occupant);
  CHECK_EQ_INT(raw_handshake(&r, key), 0);
  CHECK_EQ_INT(r.verified, 1);
  {
    /* A request answered: the slot is surely taken (it is taken once the
    ** server has seen the proof, which may come just after our end of the
    ** handshake is done). */
    unsigned char frame[256], plain[SL_RECORD_MAX];
    const char *q = RQ(IDS ",\"limit\":0");
    size_t n = strlen(q), got = 0;
    put_be32(frame, (uint32_t)n);
    memcpy(frame + 4, q, n);
    CHECK_EQ_INT(raw_send(&r, frame, 4 + n), 0);
    CHECK(raw_open(&r, plain, &got) > 0);
  }

  int late = tcp_connect(addr);
  CHECK(late >= 0);
  local_name(late, late_name, sizeof late_name);
  CHECK_EQ_INT(recv(late, &c, 1, 0), 0); /* closed, not left waiting */
  close(late);

  sl_store *d = dest("small_dest.db");
  sl_request req = request(100);
  fetch1(&p, addr, d, &req, key);
  CHECK_EQ_INT(p.status, SL_IOERR);
  /* Closed before or after our hello arrived: a FIN or a reset. */
  CHECK(strcmp(p.errmsg, "connection closed in the handshake") == 0 ||
        strcmp(p.errmsg, "in the handshake: Connection reset by peer") == 0);

  close(occupant);
  sl_buf_free(&r.sent);
  for (int tries = 0; tries < 100; tries++) {
    fetch1(&p, addr, d, &req, key);
    if (p.status == SL_OK) break;
    sleep_ms(20);
  }
  CHECK_EQ_INT(p.status, SL_OK);
  /* The ten, and the event that logged the occupant's request. */
  CHECK_EQ_INT(p.received, 11);
  CHECK_EQ_INT(p.inserted, 11);
  drop(d);
  unserve(&s);
  char line[128];
  snprintf(line, sizeof line, "%s: refused: already serving 1 clients",
           late_name);
  CHECK_EQ_INT(logbook_count(&s.log, line, 0), 1);
  served_free(&s);
}

/* Several peers at once, one of them down: each gets its own result. */
static void test_fetch_many(void) {
  served a, b;
  sl_fetch_peer peers[3];
  char down[64], want[128];
  int seen[N_A];
  int64_t foreign;
  char st[] = "state_transition", bi[] = "batch_ingestion",
       se[] = "sync_error";
  char *seeded[3];
  seeded[0] = st;
  seeded[1] = bi;
  seeded[2] = se;
  char db2[256];
  snprintf(db2, sizeof db2, "%s", path_of("second.db"));
  seed(db2, 0, 40);
  if (serve(&a, path_of("main.db"), DEV_A, 50, 0) != SL_OK) return;
  if (serve(&b, db2, NULL, 50, 0) != SL_OK) { served_free(&a); return; }
  CHECK_EQ_STR(sl_server_device_id(b.srv), DEV_B);
  closed_address(down, sizeof down);

  sl_store *da = dest("many_a.db"), *dd = dest("many_down.db"),
           *db = dest("many_b.db");
  memset(peers, 0, sizeof peers);
  peers[0].address = sl_server_address(a.srv);
  peers[0].dest = da;
  peers[1].address = down;
  peers[1].dest = dd;
  peers[2].address = sl_server_address(b.srv);
  peers[2].dest = db;
  sl_request req = request(1000);
  req.has_event_types = 1;
  req.event_types = seeded;
  req.n_event_types = 3;
  CHECK_EQ_INT(sl_fetch(peers, 3, &req, key, &quick), SL_IOERR);

  CHECK_EQ_INT(peers[0].status, SL_OK);
  CHECK_EQ_STR(peers[0].responding_device, DEV_A);
  CHECK_EQ_INT(peers[0].received, N_A);
  CHECK_EQ_INT(peers[0].inserted, N_A);
  CHECK_EQ_INT(peers[0].pages, 7);
  CHECK_EQ_INT(holdings(da, seen, N_A, &foreign), N_A);
  CHECK_EQ_INT(foreign, 0);

  CHECK_EQ_INT(peers[1].status, SL_IOERR);
  snprintf(want, sizeof want, "cannot connect to %s: Connection refused",
           down);
  CHECK_EQ_STR(peers[1].errmsg, want);
  CHECK_EQ_INT(peers[1].received, 0);
  CHECK_EQ_INT(peers[1].pages, 0);
  CHECK_EQ_STR(peers[1].responding_device, "");

  CHECK_EQ_INT(peers[2].status, SL_OK);
  CHECK_EQ_STR(peers[2].responding_device, DEV_B);
  CHECK_EQ_INT(peers[2].received, 40);
  CHECK_EQ_INT(peers[2].inserted, 40);
  CHECK_EQ_INT(peers[2].pages, 1);
  CHECK_EQ_INT(holdings(db, seen, N_A, &foreign), 40);
  CHECK_EQ_INT(foreign, 40);

  /* A peer without a store is misuse, and harms no one. */
  peers[1].dest = NULL;
  peers[1].address = sl_server_address(b.srv);
  CHECK_EQ_INT(sl_fetch(peers, 3, &req, key, &quick), SL_MISUSE);
  CHECK_EQ_INT(peers[1].status, SL_MISUSE);
  CHECK_EQ_STR(peers[1].errmsg, "no store to keep its events in");
  CHECK_EQ_INT(peers[0].status, SL_OK);
  CHECK_EQ_INT(peers[0].inserted, 0);
  CHECK_EQ_INT(peers[2].status, SL_OK);
  CHECK_EQ_INT(peers[2].received, 40);

  /* A bad address fails that peer alone. */
  peers[1].dest = dd;
  peers[1].address = "nowhere";
  CHECK_EQ_INT(sl_fetch(peers, 2, &req, key, NULL), SL_INVALID);
  CHECK_EQ_INT(peers[0].status, SL_OK);
  CHECK_EQ_INT(peers[1].status, SL_INVALID);
  CHECK_EQ_STR(peers[1].errmsg, "address 'nowhere': expected HOST:PORT (a "
               "port from 0 to 65535; [HOST]:PORT for IPv6)");
  CHECK_EQ_INT(sl_fetch(peers, 0, &req, key, NULL), SL_OK);

  drop(da);
  drop(dd);
  drop(db);
  served_free(&a);
  served_free(&b);
}

/* A store of DEV_A's: "D 1" ... "D 5" a second apart from T0, state
** transitions, peer connections and a sync error. */
static void seed_types(const char *path) {
  static const char *const types[5] = {"state_transition", "peer_connected",
    "sync_error", "state_transition", "peer_connected"};
  static const char *const summaries[5] = {"D 1", "D 2", "D 3", "D 4",
                                           "D 5"};
  sl_event evs[5];
  sl_store *s = NULL;
  size_t ins = 0;
  memset(evs, 0, sizeof evs);
  for (int i = 0; i < 5; i++) {
    evs[i].has_instant = 1;
    evs[i].instant = T0 + i * SEC;
    evs[i].device_id = DEV_A;
    evs[i].event_type = types[i];
    evs[i].summary = summaries[i];
  }
  CHECK_EQ_INT(sl_store_open(path, &write_opts, &s), SL_OK);
  CHECK_EQ_INT(sl_store_insert(s, evs, 5, 0, &ins, NULL), SL_OK);
  CHECK_EQ_INT(ins, 5);
  drop(s);
}

/* The summaries of a store's events, oldest first, comma-joined. */
static void stored_summaries(sl_store *s, char *out, size_t outsz) {
  sl_filter all;
  sl_cursor *cur = NULL;
  const sl_event *ev;
  size_t o = 0;
  out[0] = '\0';
  sl_filter_init(&all);
  all.ascending = 1;
  CHECK_EQ_INT(sl_query(s, &all, &cur), SL_OK);
  while (cur && sl_cursor_next(cur, &ev) == SL_ROW && o < outsz)
    o += (size_t)snprintf(out + o, outsz - o, "%s%s", o ? "," : "",
                          ev->summary);
  sl_cursor_close(cur);
}

/* The summaries of a response's events, comma-joined, or the error. */
static void response_summaries(const sl_buf *in, char *out, size_t outsz) {
  sl_message m;
  sl_event *evs = NULL;
  size_t n = 0, o = 0;
  sl_buf arena = {0};
  char err[256] = "";
  out[0] = '\0';
  if (sl_message_parse(in->data ? in->data : "", in->len, &m, err,
                       sizeof err) != SL_OK ||
      m.kind != SL_MSG_RESPONSE ||
      sl_response_events(m.response.events, &evs, &n, &arena, err,
                         sizeof err) != SL_OK) {
    snprintf(out, outsz, "error: %s", err);
  } else {
    for (size_t i = 0; i < n && o < outsz; i++)
      o += (size_t)snprintf(out + o, outsz - o, "%s%s", i ? "," : "",
                            evs[i].summary);
    if (m.response.has_next || m.response.n_unknown_event_types)
      snprintf(out, outsz, "error: next or unknown_event_types");
  }
  free(evs);
  sl_buf_free(&arena);
  sl_message_clear(&m);
}

/* A request frame over SL_MAX_REQUEST is refused on its length alone, and
** the server serves the next client; one of exactly SL_MAX_REQUEST bytes
** is answered. A type named many times is one filter: each row once, and
** no type after it dropped. */
static void test_request_limits(void) {
  served s;
  raw r;
  sl_channel *ch = NULL;
  sl_buf q = {0}, in = {0};
  char db[256], name[64] = "", line[256], got[256], err[256] = "", c;
  char st[] = "state_transition", pc[] = "peer_connected";
  char *types[41];
  snprintf(db, sizeof db, "%s", path_of("types.db"));
  seed_types(db);
  if (serve(&s, db, NULL, 0, 0) != SL_OK) return;
  const char *addr = sl_server_address(s.srv);
  CHECK_EQ_STR(sl_server_device_id(s.srv), DEV_A);

  int fd = tcp_connect(addr);
  CHECK(fd >= 0);
  if (fd >= 0) {
    unsigned char len4[4];
    local_name(fd, name, sizeof name);
    raw_init(&r, fd);
    CHECK_EQ_INT(raw_handshake(&r, key), 0);
    put_be32(len4, SL_MAX_REQUEST + 1);
    int64_t t0 = now_ms();
    CHECK_EQ_INT(raw_send(&r, len4, 4), 0);
    CHECK_EQ_INT(recv(fd, &c, 1, 0), 0); /* closed at once */
    CHECK(now_ms() - t0 < 1000);        /* the I/O timeout is 2000 */
    close(fd);
    sl_buf_free(&r.sent);
  }

  fd = tcp_connect(addr);
  CHECK(fd >= 0);
  if (fd >= 0 &&
      sl_channel_client(fd, key, &quick, &ch, err, sizeof err) == SL_OK) {
    /* Exactly at the limit: the newest event. */
    sl_buf_puts(&q, RQ(IDS ",\"limit\":1"));
    while (q.len < SL_MAX_REQUEST) sl_buf_puts(&q, " ");
    CHECK_EQ_INT(q.len, 65536);
    CHECK_EQ_INT(sl_channel_send(ch, q.data, q.len), SL_OK);
    CHECK_EQ_INT(sl_channel_recv(ch, &in, 0), SL_OK);
    response_summaries(&in, got, sizeof got);
    CHECK_EQ_STR(got, "D 5");

    /* state_transition 40 times, then peer_connected. */
    sl_request req = request(100);
    for (int i = 0; i < 40; i++) types[i] = st;
    types[40] = pc;
    req.has_event_types = 1;
    req.event_types = types;
    req.n_event_types = 41;
    sl_buf_reset(&q);
    sl_request_write(&q, &req);
    CHECK_EQ_INT(sl_channel_send(ch, q.data, q.len), SL_OK);
    CHECK_EQ_INT(sl_channel_recv(ch, &in, 0), SL_OK);
    response_summaries(&in, got, sizeof got);
    CHECK_EQ_STR(got, "D 5,D 4,D 2,D 1");
    /* ... and the other way round. */
    types[0] = pc;
    types[40] = st;
    sl_buf_reset(&q);
    sl_request_write(&q, &req);
    CHECK_EQ_INT(sl_channel_send(ch, q.data, q.len), SL_OK);
    CHECK_EQ_INT(sl_channel_recv(ch, &in, 0), SL_OK);
    response_summaries(&in, got, sizeof got);
    CHECK_EQ_STR(got, "D 5,D 4,D 2,D 1");
  } else {
    CHECK(0);
  }
  sl_channel_free(ch);
  if (fd >= 0) close(fd);
  unserve(&s);
  snprintf(line, sizeof line, "%s: frame of 65537 bytes is over the limit "
           "of 65536; closing", name);
  CHECK_EQ_INT(logbook_count(&s.log, line, 0), 1);
  CHECK_EQ_INT(logbook_count(&s.log, "; closing", 1), 1);
  /* Three requests of one requester: its first, the other two summed. */
  int64_t rows, requests;
  served_rows(db, DEV_ME, &rows, &requests);
  CHECK_EQ_INT(rows, 2);
  CHECK_EQ_INT(requests, 3);
  sl_buf_free(&q);
  sl_buf_free(&in);
  served_free(&s);
}

/* ==================================================== strangers' flood */

/* A connection to the server from `from` (a loopback address), its name
** as the server gives it, and a receive timeout of 5 s so that a broken
** server fails the test instead of hanging it. */
static int connect_from(const char *address, const char *from, char *name,
                        size_t namesz) {
  struct sockaddr_in sa;
  struct timeval tv = {5, 0};
  socklen_t len = sizeof sa;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  inet_pton(AF_INET, from, &sa.sin_addr);
  sa.sin_port = 0;
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
      getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
    close(fd);
    return -1;
  }
  if (name) snprintf(name, namesz, "%s:%u", from, (unsigned)ntohs(sa.sin_port));
  sa.sin_port = htons((uint16_t)atoi(strrchr(address, ':') + 1));
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    close(fd);
    return -1;
  }
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

/* Has the server closed fd? 1 closed (EOF or reset), 0 still open (it
** waited `ms` and nothing came). */
static int closed_within(int fd, int ms) {
  struct pollfd p = {fd, POLLIN, 0};
  char c;
  if (poll(&p, 1, ms) <= 0) return 0;
  return recv(fd, &c, 1, MSG_DONTWAIT) <= 0;
}

/* Wait (at most 10 s) until the log holds `n` lines ending with `suffix`. */
static int await_lines(logbook *lb, const char *suffix, int n) {
  for (int i = 0; i < 1000; i++) {
    if (logbook_count(lb, suffix, 1) >= n) return 1;
    sleep_ms(10);
  }
  return 0;
}

#define DROPPED ": dropped: silent while newer connections waited"

/* Strangers: a budget of their own, per address and in all; the oldest
** silent one makes room for a newcomer, one that has spoken never does. */
static void test_strangers(void) {
  served s;
  sl_server_opts o;
  char db[256], line[256];
  char n1[64], n2[64], n3[64], n4[64], n5[64], n6[64], n7[64], n8[64];
  snprintf(db, sizeof db, "%s", path_of("small.db"));
  memset(&o, 0, sizeof o);
  o.db_path = db;
  o.max_unauthenticated = 3;
  o.max_per_address = 2;
  o.refusal_interval_ms = 1;        /* every line said */
  o.max_clients = 1;
  o.timeouts.handshake_ms = 30000;  /* no one times out meanwhile */
  if (serve_with(&s, &o) != SL_OK) return;
  const char *addr = sl_server_address(s.srv);

  /* Two silent from 127.0.0.2; a third from there drops the oldest. */
  int a1 = connect_from(addr, "127.0.0.2", n1, sizeof n1);
  int a2 = connect_from(addr, "127.0.0.2", n2, sizeof n2);
  int a3 = connect_from(addr, "127.0.0.2", n3, sizeof n3);
  CHECK(a1 >= 0 && a2 >= 0 && a3 >= 0);
  CHECK_EQ_INT(closed_within(a1, 5000), 1);
  CHECK_EQ_INT(closed_within(a2, 0), 0);
  CHECK_EQ_INT(closed_within(a3, 0), 0);
  snprintf(line, sizeof line, "%s" DROPPED, n1);
  CHECK_EQ_INT(logbook_count(&s.log, line, 0), 1);

  /* Strangers hold no client slot: with one slot and two strangers, a
  ** key holder is served. */
  {
    sl_fetch_peer p;
    sl_store *d = dest("strangers.db");
    sl_request req = request(3);
    fetch1(&p, addr, d, &req, key);
    CHECK_EQ_INT(p.status, SL_OK);
    CHECK_EQ_INT(p.received, 3);
    drop(d);
  }

  /* From 127.0.0.3, b1 speaks at once (half a hello): the third stranger.
  ** b2 is a fourth: the oldest silent of all, a2, makes room. */
  int b1 = connect_from(addr, "127.0.0.3", n4, sizeof n4);
  CHECK_EQ_INT(send(b1, "synclua1", 8, 0), 8);
  int b2 = connect_from(addr, "127.0.0.3", n5, sizeof n5);
  CHECK_EQ_INT(closed_within(a2, 5000), 1);
  snprintf(line, sizeof line, "%s" DROPPED, n2);
  CHECK_EQ_INT(logbook_count(&s.log, line, 0), 1);
  /* b3 is 127.0.0.3's third: its silent one (b2) makes room, never the
  ** one that spoke (b1). */
  int b3 = connect_from(addr, "127.0.0.3", n6, sizeof n6);
  CHECK_EQ_INT(closed_within(b2, 5000), 1);
  snprintf(line, sizeof line, "%s" DROPPED, n5);
  CHECK_EQ_INT(logbook_count(&s.log, line, 0), 1);
  CHECK_EQ_INT(closed_within(b1, 0), 0);
  CHECK_EQ_INT(closed_within(b3, 0), 0);
  CHECK_EQ_INT(closed_within(a3, 0), 0);

  /* b3 speaks too: 127.0.0.3's two are in their handshakes, none silent,
  ** so a third from there is refused at once. */
  CHECK_EQ_INT(send(b3, "synclua1", 8, 0), 8);
  sleep_ms(100); /* b3's byte seen: its handshake begun */
  int b4 = connect_from(addr, "127.0.0.3", n7, sizeof n7);
  CHECK_EQ_INT(closed_within(b4, 5000), 1);
  snprintf(line, sizeof line, "%s: refused: already 2 unauthenticated "
           "connections from this address", n7);
  CHECK_EQ_INT(logbook_count(&s.log, line, 0), 1);
  /* c1 (127.0.0.4, speaking) takes the silent a3's place; then all three
  ** places are handshakes, and a newcomer from anywhere is refused. */
  int c1 = connect_from(addr, "127.0.0.4", NULL, 0);
  CHECK_EQ_INT(send(c1, "synclua1", 8, 0), 8);
  CHECK_EQ_INT(closed_within(a3, 5000), 1);
  snprintf(line, sizeof line, "%s" DROPPED, n3);
  CHECK_EQ_INT(logbook_count(&s.log, line, 0), 1);
  sleep_ms(100);
  int c2 = connect_from(addr, "127.0.0.5", n8, sizeof n8);
  CHECK_EQ_INT(closed_within(c2, 5000), 1);
  snprintf(line, sizeof line, "%s: refused: already 3 unauthenticated "
           "connections", n8);
  CHECK_EQ_INT(logbook_count(&s.log, line, 0), 1);
  CHECK_EQ_INT(closed_within(b1, 0), 0);
  CHECK_EQ_INT(closed_within(c1, 0), 0);
  int fds[] = {a1, a2, a3, b1, b2, b3, b4, c1, c2};
  for (size_t i = 0; i < sizeof fds / sizeof *fds; i++)
    if (fds[i] >= 0) close(fds[i]);
  unserve(&s);
  served_free(&s);

  /* The handshake's deadline, silent or not: 300 ms here (the default,
  ** 2 s, would not be over yet). */
  memset(&o, 0, sizeof o);
  o.db_path = db;
  o.refusal_interval_ms = 1;
  o.timeouts.handshake_ms = 300;
  if (serve_with(&s, &o) != SL_OK) return;
  addr = sl_server_address(s.srv);
  int64_t t0 = now_ms();
  int d1 = connect_from(addr, "127.0.0.7", n1, sizeof n1);
  int d2 = connect_from(addr, "127.0.0.8", n2, sizeof n2);
  CHECK_EQ_INT(send(d2, "synclua1", 8, 0), 8);
  CHECK_EQ_INT(closed_within(d1, 5000), 1);
  CHECK_EQ_INT(closed_within(d2, 5000), 1);
  CHECK(now_ms() - t0 < 1500);
  snprintf(line, sizeof line, "%s: handshake failed: timed out in the "
           "handshake", n1);
  CHECK_EQ_INT(logbook_count(&s.log, line, 0), 1);
  snprintf(line, sizeof line, "%s: handshake failed: timed out in the "
           "handshake", n2);
  CHECK(await_lines(&s.log, line, 1));
  close(d1);
  close(d2);
  unserve(&s);
  served_free(&s);

  /* One line per address per interval: the first at once, the rest
  ** counted and said when the interval ends (here, when the server stops);
  ** past 64 addresses, the rest are counted together. */
  memset(&o, 0, sizeof o);
  o.db_path = db;
  o.max_per_address = 1;
  o.refusal_interval_ms = 600000;
  if (serve_with(&s, &o) != SL_OK) return;
  addr = sl_server_address(s.srv);
  int held = -1;
  for (int i = 0; i < 6; i++) {
    int fd = connect_from(addr, "127.0.0.9", i == 0 ? n1 : NULL, 64);
    if (held >= 0) {
      CHECK_EQ_INT(closed_within(held, 5000), 1);
      close(held);
    }
    held = fd;
  }
  close(held); /* it hangs up: counted too */
  /* 70 addresses, each a connection that hangs up at once. */
  for (int i = 1; i <= 70; i++) {
    char from[32];
    snprintf(from, sizeof from, "127.0.1.%d", i);
    int fd = connect_from(addr, from, i == 70 ? n2 : NULL, 64);
    if (fd >= 0) close(fd);
  }
  CHECK(await_lines(&s.log, ": handshake failed: connection closed in the "
        "handshake", 63));
  /* A fetch, accepted after them all, is served. */
  {
    sl_fetch_peer p;
    sl_store *d = dest("strangers.db");
    sl_request req = request(1);
    fetch1(&p, addr, d, &req, key);
    CHECK_EQ_INT(p.status, SL_OK);
    drop(d);
  }
  unserve(&s);
  snprintf(line, sizeof line, "%s" DROPPED, n1);
  CHECK_EQ_INT(logbook_count(&s.log, line, 0), 1);
  CHECK_EQ_INT(logbook_between(&s.log, "127.0.0.9: 5 more connections "
               "refused in ", " s (the last: handshake failed: connection "
               "closed in the handshake)"), 1);
  CHECK_EQ_INT(logbook_between(&s.log, "127.0.0.9", ""), 2);
  /* 127.0.0.9 took the first of the 64 places, 127.0.1.1 to .63 the rest:
  ** .64 to .70 are the others. */
  CHECK_EQ_INT(logbook_count(&s.log, ": handshake failed: connection closed "
               "in the handshake", 1), 63);
  CHECK_EQ_INT(logbook_between(&s.log, "127.0.1.63:", ""), 1);
  CHECK_EQ_INT(logbook_between(&s.log, "127.0.1.64:", ""), 0);
  snprintf(line, sizeof line, " s (the last: %s: handshake failed: "
           "connection closed in the handshake)", n2);
  CHECK_EQ_INT(logbook_between(&s.log, "7 more connections refused from "
               "other addresses in ", line), 1);
  served_free(&s);
}

/* Fetches, one after another, for `ms`: how many there were, and how many
** came back whole. */
static void fetch_for(const char *address, int64_t ms, int *tried, int *ok,
                      char *first_err, size_t errsz) {
  sl_store *d = dest("flood-dest.db");
  sl_request req = request(5);
  sl_fetch_peer p;
  int64_t end = now_ms() + ms;
  *tried = *ok = 0;
  first_err[0] = '\0';
  while (now_ms() < end) {
    fetch1(&p, address, d, &req, key);
    (*tried)++;
    if (p.status == SL_OK && p.received == 5) (*ok)++;
    else if (!first_err[0]) snprintf(first_err, errsz, "%s", p.errmsg);
  }
  drop(d);
}

/* Lines of the log that begin with `addr` followed by ':'. */
static int lines_of(logbook *lb, const char *addr) {
  char prefix[64];
  snprintf(prefix, sizeof prefix, "%s:", addr);
  return logbook_between(lb, prefix, "");
}

/* A flood of silent sockets, opened again as fast as they are closed,
** keeps no key holder out (the default budget: 32 strangers, 4 from an
** address, 2 s each), and the log says it in a few lines. Counted, never
** timed. */
static void test_flood(void) {
  served s;
  sl_server_opts o;
  flood f[8];
  char db[256], err[256];
  int tried, ok;
  long opened;
  snprintf(db, sizeof db, "%s", path_of("small.db"));
  memset(&o, 0, sizeof o);
  o.db_path = db;
  o.refusal_interval_ms = 1000;
  if (serve_with(&s, &o) != SL_OK) return;
  const char *addr = sl_server_address(s.srv);

  /* 96 from another address. */
  flood_start(&f[0], addr, "127.0.0.2", 96);
  sleep_ms(200);
  int64_t t0 = now_ms();
  fetch_for(addr, 2000, &tried, &ok, err, sizeof err);
  opened = flood_stop(&f[0]);
  int64_t took = now_ms() - t0 + 200;
  fprintf(stderr, "  flood of 96 from 127.0.0.2: %d of %d fetches whole%s%s; "
          "%ld sockets opened in %.1f s\n", ok, tried, *err ? ": " : "", err,
          opened, (double)took / 1000);
  CHECK(tried >= 10);
  CHECK(ok * 100 >= tried * 95);
  CHECK(opened >= 10 * 96);

  /* 8 addresses x 16: four times the strangers' whole budget. */
  static const char *const from[8] = {"127.0.0.3", "127.0.0.4", "127.0.0.5",
    "127.0.0.6", "127.0.0.7", "127.0.0.8", "127.0.0.9", "127.0.0.10"};
  for (int i = 0; i < 8; i++) flood_start(&f[i], addr, from[i], 16);
  sleep_ms(200);
  fetch_for(addr, 2000, &tried, &ok, err, sizeof err);
  opened = 0;
  for (int i = 0; i < 8; i++) opened += flood_stop(&f[i]);
  fprintf(stderr, "  flood of 8 x 16 from 127.0.0.3-10: %d of %d fetches "
          "whole%s%s; %ld sockets opened\n", ok, tried, *err ? ": " : "",
          err, opened);
  CHECK(tried >= 10);
  CHECK(ok * 100 >= tried * 95);
  CHECK(opened >= 10 * 128);

  /* 96 from the fetcher's own address: a fetch's hello must come before
  ** four more of the flood's connections do (it mostly does; the figure
  ** is printed, and bench/fetch.c measures it). */
  flood_start(&f[0], addr, "127.0.0.1", 96);
  sleep_ms(200);
  fetch_for(addr, 2000, &tried, &ok, err, sizeof err);
  opened = flood_stop(&f[0]);
  fprintf(stderr, "  flood of 96 from 127.0.0.1 (the fetcher's own): %d of "
          "%d fetches whole%s%s; %ld sockets opened\n", ok, tried,
          *err ? ": " : "", err, opened);
  CHECK(tried >= 10);
  CHECK(ok * 100 >= tried * 80);
  unserve(&s);
  /* Each flooding address said at most once a second, and once more at
  ** the end: a handful of lines for over a hundred thousand refusals. */
  int most = (int)(took / 1000) + 3;
  CHECK(lines_of(&s.log, "127.0.0.2") >= 1);
  CHECK(lines_of(&s.log, "127.0.0.2") <= most);
  for (int i = 0; i < 8; i++) {
    CHECK(lines_of(&s.log, from[i]) >= 1);
    CHECK(lines_of(&s.log, from[i]) <= most);
  }
  served_free(&s);
}

/* ========================================================= a fake peer */

/* A server of our own that holds the key and answers what it is told:
** replies[i] to the i-th request (none: it waits for the fetcher to give
** up). It keeps the requests it received. */
typedef struct fake {
  int         listen_fd;
  char        address[64];
  const char *replies[3];
  sl_buf      requests[4];
  int         n_requests;
  int         hs;
  pthread_t   tid;
} fake;

static void *fake_main(void *arg) {
  fake *f = arg;
  sl_channel *ch = NULL;
  char err[256];
  int fd = accept(f->listen_fd, NULL, NULL);
  if (fd < 0) return NULL;
  f->hs = sl_channel_server(fd, key, &quick, &ch, err, sizeof err);
  for (int i = 0; ch && i < 4; i++) {
    if (sl_channel_recv(ch, &f->requests[i], 0) != SL_OK) break;
    f->n_requests = i + 1;
    if (i < 3 && f->replies[i])
      sl_channel_send(ch, f->replies[i], strlen(f->replies[i]));
  }
  sl_channel_free(ch);
  close(fd);
  return NULL;
}

static int fake_start(fake *f, const char *r0, const char *r1) {
  struct sockaddr_in sa;
  socklen_t len = sizeof sa;
  memset(f, 0, sizeof *f);
  f->hs = -1;
  f->replies[0] = r0;
  f->replies[1] = r1;
  f->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  if (f->listen_fd < 0 ||
      bind(f->listen_fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
      listen(f->listen_fd, 4) != 0 ||
      getsockname(f->listen_fd, (struct sockaddr *)&sa, &len) != 0) {
    CHECK(0);
    if (f->listen_fd >= 0) close(f->listen_fd);
    return -1;
  }
  snprintf(f->address, sizeof f->address, "127.0.0.1:%u",
           (unsigned)ntohs(sa.sin_port));
  pthread_create(&f->tid, NULL, fake_main, f);
  return 0;
}

static void fake_stop(fake *f) {
  pthread_join(f->tid, NULL);
  close(f->listen_fd);
}

static void fake_free(fake *f) {
  for (int i = 0; i < 4; i++) sl_buf_free(&f->requests[i]);
}

#define FEV_OF(dev, s, ts)                                                 \
  "{\"category\":\"lifecycle\",\"device_id\":\"" dev "\","                \
  "\"event_type\":\"state_transition\",\"id\":9,\"severity\":\"info\","   \
  "\"summary\":\"" s "\",\"timestamp\":\"" ts "\"}"
#define FRESP_AS(dev, events, extra)                                       \
  RS("\"library_id\":\"" LIB_ID "\",\"responding_device\":\"" dev "\","   \
     "\"events\":[" events "]" extra)

#define FEV(s, ts) FEV_OF(DEV_B, s, ts)
#define FRESP(events, extra) FRESP_AS(DEV_B, events, extra)
#define NEXT_AT_1S \
  ",\"next\":{\"timestamp\":\"2025-12-03T10:15:01Z\",\"id\":5}"

/* The fetcher against peers that page, lie, stray and stall. */
static void test_fetch_from_fakes(void) {
  fake f;
  sl_fetch_peer p;
  sl_store *d = dest("fake.db");
  sl_request req = request(3);

  /* Paging as the fetcher asks for it: the exact requests. */
  if (fake_start(&f, FRESP(FEV("f1", "2025-12-03T10:15:02Z") ","
                           FEV("f2", "2025-12-03T10:15:01Z"), NEXT_AT_1S),
                 FRESP(FEV("f3", "2025-12-03T10:15:00Z"), "")) == 0) {
    fetch1(&p, f.address, d, &req, key);
    fake_stop(&f);
    CHECK_EQ_INT(p.status, SL_OK);
    CHECK_EQ_STR(p.responding_device, DEV_B);
    CHECK_EQ_INT(p.received, 3);
    CHECK_EQ_INT(p.inserted, 3);
    CHECK_EQ_INT(p.pages, 2);
    CHECK_EQ_INT(p.capped, 1);
    CHECK_EQ_INT(f.hs, SL_OK);
    CHECK_EQ_INT(f.n_requests, 2);
    CHECK_EQ_STR(f.requests[0].data, RQ(IDS ",\"since\":null,\"event_types\":"
                 "null,\"correlation_id\":null,\"limit\":3"));
    CHECK_EQ_STR(f.requests[1].data, RQ(IDS ",\"since\":null,\"event_types\":"
                 "null,\"correlation_id\":null,\"limit\":1,\"before\":"
                 "{\"timestamp\":\"2025-12-03T10:15:01Z\",\"id\":5}"));
    fake_free(&f);
  }

  /* A "next" that does not move on ends the paging. */
  req.limit = 10;
  if (fake_start(&f, FRESP(FEV("f4", "2025-12-03T10:15:02Z"), NEXT_AT_1S),
                 FRESP(FEV("f5", "2025-12-03T10:15:02Z"), NEXT_AT_1S)) == 0) {
    fetch1(&p, f.address, d, &req, key);
    fake_stop(&f);
    CHECK_EQ_INT(p.status, SL_INVALID);
    CHECK_EQ_STR(p.errmsg, "sent garbage: its \"next\" position does not "
                 "move on");
    CHECK_EQ_INT(p.received, 2);
    CHECK_EQ_INT(p.pages, 2);
    CHECK_EQ_INT(f.n_requests, 2);
    fake_free(&f);
  }
  if (fake_start(&f, FRESP("", NEXT_AT_1S), NULL) == 0) {
    fetch1(&p, f.address, d, &req, key);
    fake_stop(&f);
    CHECK_EQ_INT(p.status, SL_INVALID);
    CHECK_EQ_STR(p.errmsg, "sent garbage: its \"next\" position does not "
                 "move on");
    CHECK_EQ_INT(f.n_requests, 1);
    fake_free(&f);
  }

  static const struct {
    const char *reply;
    int         status;
    const char *err;
  } lies[] = {
    {FRESP(FEV("g1", "2025-12-03T10:15:02Z") ","
           FEV("g2", "2025-12-03T10:15:01Z"), ""), SL_INVALID,
     "sent 2 events when 1 were asked for"},
    {RS("\"library_id\":\"" OTHER_LIB "\",\"responding_device\":\"" DEV_B
        "\",\"events\":[]"), SL_INVALID, "sent garbage: answered for library "
     OTHER_LIB ", not " LIB_ID},
    {RQ(IDS ",\"limit\":1"), SL_INVALID, "sent garbage: expected an "
     "EventLogResponse, got an EventLogRequest"},
    {"<html>", SL_INVALID, "sent garbage: message is not JSON: unexpected "
     "character '<' at line 1 column 1"},
    {FRESP("{\"summary\":\"x\"}", ""), SL_INVALID, "sent a response that "
     "cannot be stored: event 1: timestamp: missing (required)"},
    {FRESP(FEV("g3", "soon"), ""), SL_INVALID, "event 1: timestamp: not RFC "
     "3339: soon (e.g. '2025-12-03T10:15:00.123+00:00')"},
  };
  req.limit = 1;
  for (size_t i = 0; i < sizeof lies / sizeof *lies; i++) {
    if (fake_start(&f, lies[i].reply, NULL) != 0) continue;
    fetch1(&p, f.address, d, &req, key);
    fake_stop(&f);
    CHECK_EQ_INT(p.status, lies[i].status);
    CHECK_EQ_STR(p.errmsg, lies[i].err);
    CHECK_EQ_INT(p.inserted, 0);
    fake_free(&f);
  }

  /* A peer that never answers costs the idle timeout. */
  sl_timeouts t = {2000, 200, 2000, 0};
  if (fake_start(&f, NULL, NULL) == 0) {
    int64_t t0 = now_ms();
    memset(&p, 0, sizeof p);
    p.address = f.address;
    p.dest = d;
    CHECK_EQ_INT(sl_fetch(&p, 1, &req, key, &t), SL_IOERR);
    int64_t took = now_ms() - t0;
    fake_stop(&f);
    CHECK_EQ_STR(p.errmsg, "timed out waiting for a record");
    CHECK(took >= 199 && took < 4000);
    CHECK_EQ_INT(f.n_requests, 1);
    fake_free(&f);
  }

  /* Nothing of the lies was kept: only f1 ... f5. */
  int64_t n = -1;
  sl_filter all;
  sl_filter_init(&all);
  CHECK_EQ_INT(sl_count(d, &all, &n), SL_OK);
  CHECK_EQ_INT(n, 5);
  drop(d);
}

/* What decoding costs (sl_decode_cost), worked out by hand for LP64 and
** glibc's malloc: a node is calloc(72) (an 80-byte chunk); a member adds
** its item pointer (8) and its slot on the parser's stack (24, and half
** again for the stack's doubling: 44 in all); an object member adds its
** key's pointer and length (16); a container the headers of its three
** arrays (48); a string or key its copy, a chunk of max(32, (n + 1 + 8 +
** 15) & ~15) for n raw bytes (numbers too); and a value three levels
** down (an event of a response) its row: an sl_event (248) and two
** offsets (264). */
static void test_decode_cost(void) {
  static const struct {
    const char *json;
    int         depth;
    size_t      cost, values;
  } cases[] = {
    {"[]", 0, 80 + 48, 1},
    {"[0]", 0, 128 + 80 + 44 + 32, 2},
    {"{\"a\":1}", 0, 128 + 32 + 16 + 156, 2},
    {"{\"k\" : true}", 0, 128 + 32 + 16 + 156, 2},
    {"\"abc\"", 0, 80 + 32, 1},
    {"\"a\\\"b\"", 0, 80 + 32, 1},
    {"\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"", 0, 80 + 112, 1},
    {"123456789012345678901234567890", 0, 80 + 48, 1},
    {"0", 3, 80 + 44 + 264 + 32, 1},
    {"{\"EventLogResponse\":{\"events\":[0]}}", 0,
     128 + 48 + 172 + 48 + 172 + 420, 4},
    /* It adds up: a text's parts at their depths cost what it does. */
    {"[1,2]", 0, 440, 3},
    {"[", 0, 128, 1},
    {"1", 1, 156, 1},
    {"", 0, 0, 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    size_t values = 99;
    size_t cost = sl_decode_cost(cases[i].json, strlen(cases[i].json),
                                 cases[i].depth, &values);
    if (cost != cases[i].cost || values != cases[i].values)
      fprintf(stderr, "  decode cost of %s: %zu (%zu values)\n",
              cases[i].json, cost, values);
    CHECK_EQ_INT(cost, cases[i].cost);
    CHECK_EQ_INT(values, cases[i].values);
  }
  CHECK_EQ_INT(sl_decode_cost(NULL, 5, 0, NULL), 0);
  CHECK_EQ_INT(sizeof(sl_json), 72);   /* what the figures above assume */
  CHECK_EQ_INT(sizeof(sl_event), 248);
}

/* A response with `zeros` zeros for events: {"EventLogResponse":{ids,
** "events":[0,0,...]}}, 2 * zeros + 144 bytes. */
static void zero_frame(sl_buf *b, size_t zeros) {
  sl_buf_reset(b);
  sl_buf_puts(b, RS(RIDS ",\"events\":["));
  b->len -= 2; /* RS closes what we go on writing */
  b->data[b->len] = '\0';
  for (size_t i = 0; i < zeros; i++) sl_buf_puts(b, i ? ",0" : "0");
  sl_buf_puts(b, "]}}");
}

/* The fetcher against peers that would hold it forever or cost it all its
** memory: each fails alone, saying what it did. */
static void test_fetch_limits(void) {
  fake f;
  sl_fetch_peer p;
  sl_buf big = {0};
  sl_store *d = dest("limits.db");
  sl_request req = request(10);

  /* 16 MiB of zeros: 8388536 of them, 3.5 GB to decode (420 bytes each,
  ** plus 1008 for the rest), refused before any is. */
  zero_frame(&big, 8388536);
  CHECK_EQ_INT(big.len, 16u << 20);
  if (fake_start(&f, big.data, NULL) == 0) {
    fetch1(&p, f.address, d, &req, key);
    fake_stop(&f);
    CHECK_EQ_INT(p.status, SL_INVALID);
    CHECK_EQ_STR(p.errmsg, "sent garbage: message: 8388541 JSON values "
                 "would take 3523186128 bytes to decode, over the limit of "
                 "33554432");
    CHECK_EQ_INT(p.pages, 0);
    CHECK_EQ_INT(p.inserted, 0);
    fake_free(&f);
  }
  {
    sl_message m;
    char err[256];
    /* The first message over the limit, and the last under it. */
    zero_frame(&big, (33554432 - 1008) / 420 + 1);
    CHECK_EQ_INT(sl_message_parse(big.data, big.len, &m, err, sizeof err),
                 SL_INVALID);
    CHECK_EQ_STR(err, "message: 79895 JSON values would take 33554808 "
                 "bytes to decode, over the limit of 33554432");
    sl_message_clear(&m);
    zero_frame(&big, (33554432 - 1008) / 420);
    CHECK_EQ_INT(sl_message_parse(big.data, big.len, &m, err, sizeof err),
                 SL_OK);
    CHECK_EQ_INT(m.response.events ? m.response.events->length : 0, 79889);
    sl_message_clear(&m);
  }

  /* Nesting stops at serde's 127 levels: the root, the body and the
  ** events array are three, so the 125th "[" inside, at column 142 + 125. */
  sl_buf_reset(&big);
  sl_buf_puts(&big, RS(RIDS ",\"events\":["));
  big.len -= 2;
  for (int i = 0; i < 200; i++) sl_buf_puts(&big, "[");
  for (int i = 0; i < 200; i++) sl_buf_puts(&big, "]");
  sl_buf_puts(&big, "]}}");
  if (fake_start(&f, big.data, NULL) == 0) {
    fetch1(&p, f.address, d, &req, key);
    fake_stop(&f);
    CHECK_EQ_INT(p.status, SL_INVALID);
    CHECK_EQ_STR(p.errmsg, "sent garbage: message is not JSON: nesting "
                 "deeper than 127 levels at line 1 column 267");
    fake_free(&f);
  }

  /* Two pages, then silence: the idle timeout is 10 s, the deadline 1.5 s
  ** from the connect; what came is kept and counted. */
  sl_timeouts t = {2000, 10000, 10000, 1500};
  req = request(10);
  if (fake_start(&f, FRESP(FEV("d1", "2025-12-03T10:15:02Z"),
                           NEXT_AT_1S),
                 FRESP(FEV("d2", "2025-12-03T10:15:00Z"),
                       ",\"next\":{\"timestamp\":\"2025-12-03T10:14:59Z\","
                       "\"id\":4}")) == 0) {
    int64_t t0 = now_ms();
    memset(&p, 0, sizeof p);
    p.address = f.address;
    p.dest = d;
    CHECK_EQ_INT(sl_fetch(&p, 1, &req, key, &t), SL_TIMEOUT);
    int64_t took = now_ms() - t0;
    fake_stop(&f);
    CHECK_EQ_INT(p.status, SL_TIMEOUT);
    CHECK_EQ_STR(p.errmsg, "did not finish within the deadline of 1500 ms: "
                 "2 responses, 2 events so far");
    CHECK_EQ_INT(p.received, 2);
    CHECK_EQ_INT(p.inserted, 2);
    CHECK_EQ_INT(f.n_requests, 3);
    CHECK(took >= 1499 && took < 8000);
    fake_free(&f);
  }

  /* A cap on pages: a third is never asked for. */
  req = request(10);
  if (fake_start(&f, FRESP(FEV("c1", "2025-12-03T10:15:02Z"), NEXT_AT_1S),
                 FRESP(FEV("c2", "2025-12-03T10:15:00Z"),
                       ",\"next\":{\"timestamp\":\"2025-12-03T10:14:59Z\","
                       "\"id\":4}")) == 0) {
    memset(&p, 0, sizeof p);
    p.address = f.address;
    p.dest = d;
    p.max_pages = 2;
    CHECK_EQ_INT(sl_fetch(&p, 1, &req, key, &quick), SL_ERROR);
    fake_stop(&f);
    CHECK_EQ_STR(p.errmsg, "needed more than 2 responses (the cap on "
                 "pages): 2 events so far");
    CHECK_EQ_INT(p.pages, 2);
    CHECK_EQ_INT(f.n_requests, 2);
    fake_free(&f);
  }

  /* The deadline covers the handshake too: a port whose listener never
  ** accepts (the kernel completes the connect, no one answers). */
  {
    char addr[64];
    int lfd = listen_only(addr, sizeof addr);
    t = (sl_timeouts){5000, 5000, 5000, 300};
    memset(&p, 0, sizeof p);
    p.address = addr;
    p.dest = d;
    CHECK_EQ_INT(sl_fetch(&p, 1, &req, key, &t), SL_TIMEOUT);
    CHECK_EQ_STR(p.errmsg, "did not finish within the deadline of 300 ms: "
                 "0 responses, 0 events so far");
    if (lfd >= 0) close(lfd);
  }

  /* One peer past its deadline, the other answering: the other's events
  ** all arrive. */
  {
    served s;
    sl_fetch_peer peers[2];
    sl_store *d2 = dest("limits2.db");
    char db[256];
    snprintf(db, sizeof db, "%s", path_of("main.db"));
    if (serve(&s, db, DEV_A, 0, 0) == SL_OK &&
        fake_start(&f, FRESP(FEV("e1", "2025-12-03T10:15:02Z"), NEXT_AT_1S),
                   NULL) == 0) {
      memset(peers, 0, sizeof peers);
      peers[0].address = f.address;
      peers[0].dest = d;
      peers[1].address = sl_server_address(s.srv);
      peers[1].dest = d2;
      req = request(N_A);
      t = (sl_timeouts){2000, 10000, 10000, 1000};
      CHECK_EQ_INT(sl_fetch(peers, 2, &req, key, &t), SL_TIMEOUT);
      fake_stop(&f);
      CHECK_EQ_INT(peers[0].status, SL_TIMEOUT);
      CHECK_EQ_STR(peers[0].errmsg, "did not finish within the deadline of "
                   "1 s: 1 response, 1 event so far");
      CHECK_EQ_INT(peers[1].status, SL_OK);
      CHECK_EQ_INT(peers[1].received, N_A);
      fake_free(&f);
    }
    unserve(&s);
    served_free(&s);
    drop(d2);
  }
  sl_buf_free(&big);
  drop(d);
}

/* A peer answers for its own log only: another device's events from it,
** or another device answering the next page, are garbage. */
static void test_fetch_strays(void) {
  fake f;
  sl_fetch_peer p;
  sl_store *d = dest("strays.db");
  sl_request req = request(3);

  /* One event of another device in a page: none of the page is kept. */
  if (fake_start(&f, FRESP(FEV("s1", "2025-12-03T10:15:02Z") ","
                           FEV_OF(DEV_A, "s2", "2025-12-03T10:15:01Z"), ""),
                 NULL) == 0) {
    fetch1(&p, f.address, d, &req, key);
    fake_stop(&f);
    CHECK_EQ_INT(p.status, SL_INVALID);
    CHECK_EQ_STR(p.errmsg, "sent garbage: event 2 is device " DEV_A "'s, "
                 "not the responding device " DEV_B "'s");
    CHECK_EQ_STR(p.responding_device, DEV_B);
    CHECK_EQ_INT(p.pages, 1);
    CHECK_EQ_INT(p.received, 0);
    CHECK_EQ_INT(p.inserted, 0);
    fake_free(&f);
  }
  if (fake_start(&f, FRESP(FEV_OF("x", "s3", "2025-12-03T10:15:02Z"), ""),
                 NULL) == 0) {
    fetch1(&p, f.address, d, &req, key);
    fake_stop(&f);
    CHECK_EQ_INT(p.status, SL_INVALID);
    CHECK_EQ_STR(p.errmsg, "sent garbage: event 1 is device x's, not the "
                 "responding device " DEV_B "'s");
    fake_free(&f);
  }
  /* Its own id in another form is its own. */
  if (fake_start(&f, FRESP(FEV_OF("AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE",
                                  "s4", "2025-12-03T10:15:02Z"), ""),
                 NULL) == 0) {
    fetch1(&p, f.address, d, &req, key);
    fake_stop(&f);
    CHECK_EQ_INT(p.status, SL_OK);
    CHECK_EQ_STR(p.errmsg, "");
    CHECK_EQ_INT(p.inserted, 1);
    fake_free(&f);
  }

  /* The first page as DEV_B, the second as DEV_A: the first is kept. */
  if (fake_start(&f, FRESP(FEV("s5", "2025-12-03T10:15:02Z"), NEXT_AT_1S),
                 FRESP_AS(DEV_A, FEV_OF(DEV_A, "s6", "2025-12-03T10:15:00Z"),
                          "")) == 0) {
    fetch1(&p, f.address, d, &req, key);
    fake_stop(&f);
    CHECK_EQ_INT(p.status, SL_INVALID);
    CHECK_EQ_STR(p.errmsg, "sent garbage: answered as device " DEV_B ", "
                 "then as " DEV_A);
    CHECK_EQ_STR(p.responding_device, DEV_B);
    CHECK_EQ_INT(p.pages, 1);
    CHECK_EQ_INT(p.received, 1);
    CHECK_EQ_INT(p.inserted, 1);
    CHECK_EQ_INT(f.n_requests, 2);
    fake_free(&f);
  }

  /* What was kept: s4 and s5, nothing of another device. */
  {
    char kept[64];
    stored_summaries(d, kept, sizeof kept);
    CHECK_EQ_STR(kept, "s4,s5");
  }
  drop(d);
}

/* ================================================ ties and the future */

#define DEV_T "7e577e57-0000-4000-8000-000000000007"

/* A store of DEV_T's: t1 at T0; t2 ... t6 together at T0 + 1 s (ids 2-6);
** t7 and t8 at T0 + 2 s; then f1 an hour after `now` and f2 on
** 2099-01-01, both after any server's clock. */
static void seed_ties(const char *path, int64_t now) {
  static const char *const names[10] = {"t1", "t2", "t3", "t4", "t5", "t6",
                                        "t7", "t8", "f1", "f2"};
  static const int at[8] = {0, 1, 1, 1, 1, 1, 2, 2};
  sl_event evs[10];
  sl_store *s = NULL;
  size_t ins = 0;
  memset(evs, 0, sizeof evs);
  for (int i = 0; i < 10; i++) {
    evs[i].has_instant = 1;
    evs[i].instant = i < 8 ? T0 + at[i] * SEC : 0;
    evs[i].device_id = DEV_T;
    evs[i].event_type = "state_transition";
    evs[i].summary = names[i];
  }
  evs[8].instant = now + 3600 * SEC;
  CHECK_EQ_INT(sl_time_parse_rfc3339("2099-01-01T00:00:00Z", 20,
                                     &evs[9].instant), SL_OK);
  CHECK_EQ_INT(sl_store_open(path, &write_opts, &s), SL_OK);
  CHECK_EQ_INT(sl_store_insert(s, evs, 10, 0, &ins, NULL), SL_OK);
  CHECK_EQ_INT(ins, 10);
  drop(s);
}

/* Send one request (JSON as given) and describe the response: the
** summaries comma-joined, then " next <Z time> #<id>" when it has a
** "next"; or "error: ..." */
static void ask(sl_channel *ch, const char *json, char *out, size_t outsz) {
  sl_buf in = {0};
  sl_message m;
  sl_event *evs = NULL;
  size_t n = 0, o = 0;
  sl_buf arena = {0};
  char err[256] = "";
  out[0] = '\0';
  memset(&m, 0, sizeof m);
  if (sl_channel_send(ch, json, strlen(json)) != SL_OK ||
      sl_channel_recv(ch, &in, 0) != SL_OK) {
    snprintf(out, outsz, "error: %s", sl_channel_errmsg(ch));
  } else if (sl_message_parse(in.data ? in.data : "", in.len, &m, err,
                              sizeof err) != SL_OK ||
             m.kind != SL_MSG_RESPONSE ||
             sl_response_events(m.response.events, &evs, &n, &arena, err,
                                sizeof err) != SL_OK) {
    snprintf(out, outsz, "error: %s", err);
  } else {
    for (size_t i = 0; i < n && o < outsz; i++)
      o += (size_t)snprintf(out + o, outsz - o, "%s%s", i ? "," : "",
                            evs[i].summary);
    if (m.response.has_next && o < outsz) {
      char ts[SL_TIME_BUFSZ];
      sl_time_format(m.response.next, 1, ts);
      snprintf(out + o, outsz - o, " next %s #%" PRId64, ts,
               m.response.next_id);
    }
  }
  free(evs);
  sl_buf_free(&arena);
  sl_buf_free(&in);
  sl_message_clear(&m);
}

/* A request of DEV_ME's for LIB_ID's state transitions (not the events
** the server logs of the requests it serves), with more fields (", ..."
** JSON). */
#define ASK(fields)                                                        \
  RQ("\"library_id\":\"urn:uuid:A5851768-6F4C-8571-BDF9-D1E2FC3C6D9E\","  \
     "\"requesting_device\":\"{C0FFEE00-1234-4567-89AB-CDEF01234567}\","   \
     "\"event_types\":[\"state_transition\"]" fields)

/*
** Equal timestamps come newest first in ascending id, as Spacedrive's
** query gives them (spacedrive-compat.md 10.3); paging through them with
** "before" is exact, also when an instant fills a page and is split; and
** the range is [since, now] (10.4): rows dated after the server's clock
** are not sent, with or without since, nor past a "before" in the future.
** The requests spell their ids as the uuid crate also reads them.
*/
static void test_ties_and_future(void) {
  served s;
  sl_channel *ch = NULL;
  sl_fetch_peer p;
  char db[256], got[512], err[256] = "";
  snprintf(db, sizeof db, "%s", path_of("ties.db"));
  seed_ties(db, sl_time_now());
  /* Pages of at most 3 events. */
  if (serve(&s, db, DEV_T, 3, 0) != SL_OK) return;
  const char *addr = sl_server_address(s.srv);
  int fd = tcp_connect(addr);
  CHECK(fd >= 0);
  if (fd >= 0 &&
      sl_channel_client(fd, key, &quick, &ch, err, sizeof err) == SL_OK) {
    /* Newest first, f1 and f2 left out: t7 t8, then t2 ... would split
    ** 10:15:01, so the page ends after t8 and goes on from there. */
    ask(ch, ASK(",\"limit\":100"), got, sizeof got);
    CHECK_EQ_STR(got, "t7,t8 next 2025-12-03T10:15:02Z #8");
    /* From there: 10:15:01's five fill a page, so it is split after its
    ** third, t4 (id 4), in ascending id. */
    ask(ch, ASK(",\"limit\":100,\"before\":{\"timestamp\":"
                "\"2025-12-03T10:15:02Z\",\"id\":8}"), got, sizeof got);
    CHECK_EQ_STR(got, "t2,t3,t4 next 2025-12-03T10:15:01Z #4");
    /* At 10:15:01 only the ids after 4: t5 t6, then t1. The end. */
    ask(ch, ASK(",\"limit\":100,\"before\":{\"timestamp\":"
                "\"2025-12-03T10:15:01Z\",\"id\":4}"), got, sizeof got);
    CHECK_EQ_STR(got, "t5,t6,t1");
    /* A position inside a tie by any id: what follows it, exactly. */
    ask(ch, ASK(",\"limit\":2,\"before\":{\"timestamp\":"
                "\"2025-12-03T10:15:01Z\",\"id\":2}"), got, sizeof got);
    CHECK_EQ_STR(got, "t3,t4");
    ask(ch, ASK(",\"limit\":100,\"before\":{\"timestamp\":"
                "\"2025-12-03T10:15:01Z\",\"id\":6}"), got, sizeof got);
    CHECK_EQ_STR(got, "t1");
    ask(ch, ASK(",\"limit\":100,\"before\":{\"timestamp\":"
                "\"2025-12-03T10:15:02Z\",\"id\":7}"), got, sizeof got);
    CHECK_EQ_STR(got, "t8 next 2025-12-03T10:15:02Z #8");
    /* A limit cuts a tie by ascending id (no cap involved: no "next"). */
    ask(ch, ASK(",\"limit\":3"), got, sizeof got);
    CHECK_EQ_STR(got, "t7,t8,t2");
    /* since: [since, now]; the future rows are still left out. */
    ask(ch, ASK(",\"since\":\"2025-12-03T10:15:02Z\",\"limit\":100"), got,
        sizeof got);
    CHECK_EQ_STR(got, "t7,t8");
    ask(ch, ASK(",\"since\":\"2025-12-03T10:15:01Z\",\"limit\":2"), got,
        sizeof got);
    CHECK_EQ_STR(got, "t7,t8");
    /* since after now: nothing, not f1 nor f2. */
    ask(ch, ASK(",\"since\":\"2098-12-31T00:00:00Z\",\"limit\":100"), got,
        sizeof got);
    CHECK_EQ_STR(got, "");
    /* A "before" in the future is bounded by now all the same. */
    ask(ch, ASK(",\"limit\":2,\"before\":{\"timestamp\":"
                "\"2099-01-01T00:00:00Z\",\"id\":10}"), got, sizeof got);
    CHECK_EQ_STR(got, "t7,t8");
    /* The other spellings: simple, upper case, hyphenated mixed case. */
    ask(ch, RQ("\"library_id\":\"a58517686f4c8571bdf9d1e2fc3c6d9e\","
               "\"requesting_device\":\"C0FFEE001234456789ABCDEF01234567\","
               "\"event_types\":[\"state_transition\"],\"limit\":1"), got,
        sizeof got);
    CHECK_EQ_STR(got, "t7");
    ask(ch, RQ("\"library_id\":\"A5851768-6f4C-8571-bDF9-D1E2fc3c6d9e\","
               "\"requesting_device\":\"c0ffee00-1234-4567-89AB-cdef01234567\","
               "\"event_types\":[\"state_transition\"],\"limit\":1"), got,
        sizeof got);
    CHECK_EQ_STR(got, "t7");
  } else {
    CHECK(0);
  }
  sl_channel_free(ch);
  if (fd >= 0) close(fd);

  /* The fetcher walks the same pages and stores them oldest first, each
  ** instant's events in the order sent: the device's own order. */
  sl_store *d = dest("ties_dest.db");
  sl_request req = request(100);
  char st[] = "state_transition";
  char *types[1];
  types[0] = st;
  req.has_event_types = 1;
  req.event_types = types;
  req.n_event_types = 1;
  fetch1(&p, addr, d, &req, key);
  CHECK_EQ_INT(p.status, SL_OK);
  CHECK_EQ_STR(p.errmsg, "");
  CHECK_EQ_INT(p.received, 8);
  CHECK_EQ_INT(p.inserted, 8);
  CHECK_EQ_INT(p.pages, 3);
  CHECK_EQ_INT(p.capped, 1);
  {
    sl_filter f;
    sl_cursor *cur = NULL;
    const sl_event *ev;
    char order[128] = "", *o = order;
    sl_filter_init(&f);
    f.ascending = 1;
    CHECK_EQ_INT(sl_query(d, &f, &cur), SL_OK);
    while (cur && sl_cursor_next(cur, &ev) == SL_ROW && o < order + 100)
      o += sprintf(o, "%s%s", o == order ? "" : ",", ev->summary);
    sl_cursor_close(cur);
    CHECK_EQ_STR(order, "t1,t2,t3,t4,t5,t6,t7,t8");
    /* Newest first, as the peer itself gives them. */
    o = order;
    *o = '\0';
    f.ascending = 0;
    CHECK_EQ_INT(sl_query(d, &f, &cur), SL_OK);
    while (cur && sl_cursor_next(cur, &ev) == SL_ROW && o < order + 100)
      o += sprintf(o, "%s%s", o == order ? "" : ",", ev->summary);
    sl_cursor_close(cur);
    CHECK_EQ_STR(order, "t7,t8,t2,t3,t4,t5,t6,t1");
  }
  drop(d);
  unserve(&s);
  /* Each request served is logged with the requester's id as stored:
  ** its first, then the rest summed. */
  {
    int64_t rows, requests;
    served_rows(db, DEV_ME, &rows, &requests);
    CHECK_EQ_INT(rows, 2);
    CHECK_EQ_INT(requests, 13 + 3); /* 13 asked by hand, 3 pages fetched */
  }
  served_free(&s);
}

/*
** What a response carries of a row, byte for byte (spacedrive-compat.md
** 10.4): details read once (5.723907154550263e-13 becomes ...264e-13,
** where the events path's two reads give ...265e-13), a stored JSON null
** as null, details serde refuses left out, ids in another spelling
** lowercase, a negative count as the u64 cast; a row Spacedrive's reader
** skips is not sent, but counted by the limit, as its LIMIT counts it.
*/
static void test_protocol_bytes(void) {
  served s;
  sl_channel *ch = NULL;
  sqlite3 *db = NULL;
  char path[256], err[256] = "";
  snprintf(path, sizeof path, "%s", path_of("bytes.db"));
  CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
  CHECK_EQ_INT(sqlite3_exec(db, sl_spacedrive_ddl(), NULL, NULL, NULL),
               SQLITE_OK);
  CHECK_EQ_INT(sqlite3_exec(db,
    "INSERT INTO sync_event_log (timestamp, device_id, event_type, category,"
    " severity, summary, details, correlation_id, record_count) VALUES"
    " ('2025-12-03T10:00:01+00:00', '" DEV_T "', 'state_transition',"
    "  'lifecycle', 'info', 'a', 'null', '{" SESSION "}', -1),"
    " ('2025-12-03T10:00:02+00:00', '" DEV_T "', 'state_transition',"
    "  'lifecycle', 'info', 'b', '{\"l\":19.889999389648438,"
    "\"s\":5.723907154550263e-13}', NULL, NULL),"
    " ('2025-12-03T10:00:03+00:00', '" DEV_T "', 'state_transition',"
    "  'lifecycle', 'info', 'c', '01', NULL, NULL),"
    " ('2025-12-03T10:00:04+00:00', '" DEV_T "', 'state_transition',"
    "  'lifecycle', 'info', CAST(X'62ff' AS TEXT), NULL, NULL, NULL)",
    NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
  if (serve(&s, path, DEV_T, 100, 0) != SL_OK) return;
  int fd = tcp_connect(sl_server_address(s.srv));
  CHECK(fd >= 0);
  if (fd >= 0 &&
      sl_channel_client(fd, key, &quick, &ch, err, sizeof err) == SL_OK) {
    static const char *const asks[2] = {
      ASK(",\"limit\":4"), ASK(",\"limit\":2")};
    static const char *const wants[2] = {
      "[{\"category\":\"lifecycle\",\"device_id\":\"" DEV_T "\","
      "\"event_type\":\"state_transition\",\"id\":3,\"severity\":\"info\","
      "\"summary\":\"c\",\"timestamp\":\"2025-12-03T10:00:03Z\"},"
      "{\"category\":\"lifecycle\",\"details\":{\"l\":19.88999938964844,"
      "\"s\":5.723907154550264e-13},\"device_id\":\"" DEV_T "\","
      "\"event_type\":\"state_transition\",\"id\":2,\"severity\":\"info\","
      "\"summary\":\"b\",\"timestamp\":\"2025-12-03T10:00:02Z\"},"
      "{\"category\":\"lifecycle\",\"correlation_id\":\"" SESSION "\","
      "\"details\":null,\"device_id\":\"" DEV_T "\","
      "\"event_type\":\"state_transition\",\"id\":1,"
      "\"record_count\":18446744073709551615,\"severity\":\"info\","
      "\"summary\":\"a\",\"timestamp\":\"2025-12-03T10:00:01Z\"}]",
      /* The skipped row takes one of the two. */
      "[{\"category\":\"lifecycle\",\"device_id\":\"" DEV_T "\","
      "\"event_type\":\"state_transition\",\"id\":3,\"severity\":\"info\","
      "\"summary\":\"c\",\"timestamp\":\"2025-12-03T10:00:03Z\"}]"};
    for (int k = 0; k < 2; k++) {
      sl_buf in = {0};
      CHECK_EQ_INT(sl_channel_send(ch, asks[k], strlen(asks[k])), SL_OK);
      CHECK_EQ_INT(sl_channel_recv(ch, &in, 0), SL_OK);
      const char *events = in.data ? strstr(in.data, "\"events\":") : NULL;
      CHECK(events != NULL);
      if (events) {
        events += strlen("\"events\":");
        size_t n = strlen(wants[k]);
        CHECK(strncmp(events, wants[k], n) == 0);
        if (strncmp(events, wants[k], n) != 0)
          fprintf(stderr, "  got %s\n  want %s\n", events, wants[k]);
      }
      sl_buf_free(&in);
    }
  } else {
    CHECK(0);
  }
  sl_channel_free(ch);
  if (fd >= 0) close(fd);
  unserve(&s);
  served_free(&s);
}

/* The fetcher's "next" must move on in the response order (newest first,
** equal instants by ascending id): at the same instant, a higher id. */
static void test_fetch_next_in_ties(void) {
  fake f;
  sl_fetch_peer p;
  sl_store *d = dest("fake_ties.db");
  sl_request req = request(10);
#define NEXT_AT_1S_ID(id) \
  ",\"next\":{\"timestamp\":\"2025-12-03T10:15:01Z\",\"id\":" #id "}"

  /* The same instant, id 5 then 6: it moves on; asks from id 6. */
  if (fake_start(&f, FRESP(FEV("n1", "2025-12-03T10:15:02Z") ","
                           FEV("n2", "2025-12-03T10:15:01Z"),
                           NEXT_AT_1S_ID(5)),
                 FRESP(FEV("n3", "2025-12-03T10:15:01Z"),
                       NEXT_AT_1S_ID(6))) == 0) {
    f.replies[2] = FRESP(FEV("n4", "2025-12-03T10:15:00Z"), "");
    fetch1(&p, f.address, d, &req, key);
    fake_stop(&f);
    CHECK_EQ_INT(p.status, SL_OK);
    CHECK_EQ_STR(p.errmsg, "");
    CHECK_EQ_INT(p.pages, 3);
    CHECK_EQ_INT(p.received, 4);
    CHECK_EQ_INT(f.n_requests, 3);
    CHECK_EQ_STR(f.requests[2].data, RQ(IDS ",\"since\":null,\"event_types\":"
                 "null,\"correlation_id\":null,\"limit\":7,\"before\":"
                 "{\"timestamp\":\"2025-12-03T10:15:01Z\",\"id\":6}"));
    fake_free(&f);
  }
  /* Id 5 then 4: back where it was, in this order. */
  if (fake_start(&f, FRESP(FEV("n5", "2025-12-03T10:15:02Z"),
                           NEXT_AT_1S_ID(5)),
                 FRESP(FEV("n6", "2025-12-03T10:15:01Z"),
                       NEXT_AT_1S_ID(4))) == 0) {
    fetch1(&p, f.address, d, &req, key);
    fake_stop(&f);
    CHECK_EQ_INT(p.status, SL_INVALID);
    CHECK_EQ_STR(p.errmsg, "sent garbage: its \"next\" position does not "
                 "move on");
    CHECK_EQ_INT(p.pages, 2);
    CHECK_EQ_INT(f.n_requests, 2);
    fake_free(&f);
  }
#undef NEXT_AT_1S_ID
  /* One page with a tie sent in ascending id: stored oldest first, the
  ** tie in the order sent. */
  if (fake_start(&f, FRESP(FEV("o1", "2025-12-03T10:15:02Z") ","
                           FEV("o2", "2025-12-03T10:15:01Z") ","
                           FEV("o3", "2025-12-03T10:15:01Z") ","
                           FEV("o4", "2025-12-03T10:15:01Z") ","
                           FEV("o5", "2025-12-03T10:15:00Z"), ""),
                 NULL) == 0) {
    fetch1(&p, f.address, d, &req, key);
    fake_stop(&f);
    CHECK_EQ_INT(p.status, SL_OK);
    CHECK_EQ_INT(p.inserted, 5);
    fake_free(&f);
  }
  {
    char kept[128];
    stored_summaries(d, kept, sizeof kept);
    CHECK_EQ_STR(kept, "n4,o5,n2,n3,n6,o2,o3,o4,n1,n5,o1");
  }
  drop(d);
}

/* ============================================ the programs themselves */

/* The synclua program built beside this driver (build/ or build/san/):
** what a peer says reaches the terminal through `serve` and `fetch`'s
** stderr lines, written by the host, and only a raw client or a fake peer
** can say what a synclua peer never would. */
static char bin[1600];

/* Find it beside argv0 (build/test_net runs build/synclua), as a full path:
** the programs run in the scratch folder. */
static int find_program(const char *argv0) {
  char near[1024], cwd[512] = "";
  const char *slash = strrchr(argv0, '/');
  snprintf(near, sizeof near, "%.*s/synclua",
           slash ? (int)(slash - argv0) : 1, slash ? argv0 : ".");
  if (near[0] == '/' || !getcwd(cwd, sizeof cwd)) cwd[0] = '\0';
  snprintf(bin, sizeof bin, "%s%s%s", cwd, cwd[0] ? "/" : "", near);
  CHECK_EQ_INT(access(bin, X_OK), 0);
  if (access(bin, X_OK) != 0) fprintf(stderr, "  no program %s\n", bin);
  return access(bin, X_OK) == 0;
}

static void slurp(const char *path, char *out, size_t outsz) {
  FILE *f = fopen(path, "rb");
  size_t n = 0;
  if (f) {
    n = fread(out, 1, outsz - 1, f);
    fclose(f);
  }
  out[n] = '\0';
}

/* Run `synclua ARGS` in the scratch folder, standard input empty; its exit
** status, and its stderr in err. */
static int cli_run(const char *args, char *err, size_t errsz) {
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "cd '%s' && SYNCLUA_DB= '%s' %s </dev/null "
           ">cli.out 2>cli.err", dir, bin, args);
  int st = system(cmd);
  slurp(path_of("cli.err"), err, errsz);
  return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

typedef struct cli_server {
  pid_t pid;
  char  address[64];
} cli_server;

/* `synclua serve ARGS` in the background, its stderr in serve.err: 0 once
** it has said where it serves (its first line, in first), -1 if it did
** not within 10 s (then it is stopped). */
static int cli_serve(cli_server *cs, const char *args, char *first,
                     size_t firstsz) {
  char cmd[2048], *nl = NULL;
  const char *on;
  memset(cs, 0, sizeof *cs);
  first[0] = '\0';
  remove(path_of("serve.err"));
  snprintf(cmd, sizeof cmd, "cd '%s' && SYNCLUA_DB= exec '%s' serve %s "
           "</dev/null >serve.out 2>serve.err", dir, bin, args);
  cs->pid = fork();
  if (cs->pid == 0) {
    execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
    _exit(127);
  }
  if (cs->pid < 0) return -1;
  for (int i = 0; i < 1000 && !nl; i++) {
    slurp(path_of("serve.err"), first, firstsz);
    if (!(nl = strchr(first, '\n'))) sleep_ms(10);
  }
  if (nl) *nl = '\0';
  on = strstr(first, " on 127.0.0.1:");
  if (!nl || !on || sscanf(on + 4, "%63[^ ]", cs->address) != 1) {
    kill(cs->pid, SIGKILL);
    waitpid(cs->pid, NULL, 0);
    return -1;
  }
  return 0;
}

/* SIGTERM it and wait: its exit status, and all it wrote in out. */
static int cli_serve_stop(cli_server *cs, char *out, size_t outsz) {
  int st = 0;
  kill(cs->pid, SIGTERM);
  if (waitpid(cs->pid, &st, 0) != cs->pid) st = -1;
  slurp(path_of("serve.err"), out, outsz);
  return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A client's control characters are shown as \xNN in serve's lines: a
** peer can neither drive the terminal nor forge a line. */
static void test_cli_serve(void) {
  cli_server cs;
  raw r;
  char first[512], all[2048], want[2048], name[64] = "", c;
  unsigned char frame[256];
  const char *bad = RQ("\"library_id\":\"\\u001b[31mred\\u007f\\nsynclua "
    "serve: forged\",\"requesting_device\":\"" DEV_ME "\",\"limit\":1");
  seed(path_of("cli.db"), 3, 0);
  if (cli_serve(&cs, "--db cli.db --key-file cli.key --listen 127.0.0.1:0",
                first, sizeof first) != 0) {
    CHECK(0);
    fprintf(stderr, "  serve did not start: %s\n", first);
    return;
  }
  snprintf(want, sizeof want, "synclua serve: serving cli.db on %s (library "
           LIB_ID ", device " DEV_A "); Ctrl-C stops", cs.address);
  CHECK_EQ_STR(first, want);
  int fd = tcp_connect(cs.address);
  CHECK(fd >= 0);
  if (fd >= 0) {
    local_name(fd, name, sizeof name);
    raw_init(&r, fd);
    CHECK_EQ_INT(raw_handshake(&r, key), 0);
    put_be32(frame, (uint32_t)strlen(bad));
    memcpy(frame + 4, bad, strlen(bad));
    CHECK_EQ_INT(raw_send(&r, frame, 4 + strlen(bad)), 0);
    CHECK_EQ_INT(recv(fd, &c, 1, 0), 0); /* refused: closed */
    close(fd);
    sl_buf_free(&r.sent);
  }
  CHECK_EQ_INT(cli_serve_stop(&cs, all, sizeof all), 0);
  snprintf(want, sizeof want, "%s\nsynclua serve: %s: refused: "
           "EventLogRequest.library_id: not a UUID: \"\\x1b[31mred\\x7f\\x0a"
           "synclua serve: forged\"; closing\nsynclua serve: stopped\n",
           first, name);
  CHECK_EQ_STR(all, want);
}

/* fetch's lines: a peer's words escaped as serve's; a peer that goes
** silent after the handshake costs --timeout, not the 30 s idle default. */
static void test_cli_fetch(void) {
  fake f;
  char args[512], err[2048], want[2048];
  if (fake_start(&f, FRESP("", ",\"unknown_event_types\":[\"\\u001b[31mred\","
                           "\"bell\\u0007\"]"), NULL) == 0) {
    snprintf(args, sizeof args, "fetch --key-file cli.key --timeout 2 "
             "-f ndjson --peer %s", f.address);
    CHECK_EQ_INT(cli_run(args, err, sizeof err), 0);
    fake_stop(&f);
    snprintf(want, sizeof want, "synclua fetch: %s (device " DEV_B "): 0 "
             "events\nsynclua fetch: %s does not know the event types "
             "\\x1b[31mred,bell\\x07\n", f.address, f.address);
    CHECK_EQ_STR(err, want);
    fake_free(&f);
  }

  if (fake_start(&f, NULL, NULL) == 0) {
    snprintf(args, sizeof args, "fetch --key-file cli.key --timeout 1 "
             "-f ndjson --peer %s", f.address);
    int64_t t0 = now_ms();
    CHECK_EQ_INT(cli_run(args, err, sizeof err), 3);
    int64_t took = now_ms() - t0;
    fake_stop(&f);
    snprintf(want, sizeof want, "synclua fetch: %s: failed: timed out "
             "waiting for a record\nsynclua fetch: 1 of 1 peer did not "
             "answer in full\n", f.address);
    CHECK_EQ_STR(err, want);
    CHECK(took >= 900 && took < 5000);
    CHECK_EQ_INT(f.n_requests, 1);
    fake_free(&f);
  }
}

int main(int argc, char **argv) {
  if (net_fixture_init() != 0) return 2;
  test_request_write();
  test_decode_cost();
  test_request_parse();
  test_response_parse();
  test_refusals();
  test_wire_events();
  test_framer();
  test_keys();
  test_channel_frames();
  test_channel_wire();
  test_channel_refusals();
  test_channel_max_frame();
  test_channel_timeouts();
  test_channel_deadlines();
  seed(path_of("main.db"), N_A, N_B);
  test_server_open();
  test_serve_and_fetch();
  test_max_clients();
  test_decode_budget_pages();
  test_served_sums();
  test_strangers();
  test_flood();
  test_fetch_many();
  test_request_limits();
  test_fetch_from_fakes();
  test_fetch_limits();
  test_fetch_strays();
  test_ties_and_future();
  test_protocol_bytes();
  test_fetch_next_in_ties();
  if (find_program(argc > 0 ? argv[0] : "")) {
    write_file(path_of("cli.key"), KEY_HEX "\n", 0600);
    test_cli_serve();
    test_cli_fetch();
  }
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
  return check_report("net");
}
