/*
** test_render.c -- the C driver's checks of core/sl_render.c: the exact
** bytes of one event in every export format (Spacedrive's JSON element in
** both modes, its SQL INSERT line and Markdown row; our NDJSON and CSV),
** and that the single-pass details writer agrees with the parse-and-write
** path on every input, falling back where it must.
*/
#include <string.h>

#include "check.h"
#include <synclua/json.h>

static sl_buf out;

#define DEV   "2f1a8f8e-0c3b-4d52-9d0e-5b1c2a3d4e5f"
#define PEER  "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
#define CORR  "67e55044-10b1-426f-9247-bb680e5fe0c8"

/* 2025-12-03T10:15:00Z as an instant. */
#define T0 (INT64_C(1764756900) * SL_NS_PER_SEC)

static const char *render(const sl_event *ev, int format) {
  sl_buf_reset(&out);
  if (sl_render_event(&out, ev, format) != SL_OK) return "(failed)";
  return out.len ? out.data : "";
}

/* Every field set: a backfill peer selection as Spacedrive writes it. */
static sl_event full(void) {
  sl_event ev;
  memset(&ev, 0, sizeof ev);
  ev.id = 42;
  ev.has_id = 1;
  ev.timestamp = "2025-12-03T10:15:00.123456789+00:00";
  ev.instant = T0 + 123456789;
  ev.has_instant = 1;
  ev.device_id = DEV;
  ev.event_type = "backfill_session_started";
  ev.category = "lifecycle";
  ev.severity = "info";
  ev.summary = "Selected peer it's \"x\" → a/b";
  ev.details = "{\"candidates\":[{\"latency_ms\":23.45599937438965,"
               "\"selected\":true}],\"peer_count\":2}";
  ev.correlation_id = CORR;
  ev.peer_device_id = PEER;
  ev.model_types = "entry,tag";
  ev.record_count = 300;
  ev.has_record_count = 1;
  ev.duration_ms = 1200;
  ev.has_duration_ms = 1;
  return ev;
}

/* Only what a row must have. */
static sl_event minimal(void) {
  sl_event ev;
  memset(&ev, 0, sizeof ev);
  ev.id = 7;
  ev.has_id = 1;
  ev.timestamp = "2025-12-03T10:15:00+00:00";
  ev.instant = T0;
  ev.has_instant = 1;
  ev.device_id = DEV;
  ev.event_type = "state_transition";
  ev.category = "lifecycle";
  ev.severity = "info";
  ev.summary = "Ready → Paused";
  return ev;
}

static void test_json(void) {
  sl_event ev = full();
  CHECK_EQ_STR(render(&ev, SL_RENDER_JSON),
    "{\n"
    "    \"correlation_id\": \"" CORR "\",\n"
    "    \"details\": {\n"
    "      \"candidates\": [\n"
    "        {\n"
    "          \"latency_ms\": 23.45599937438965,\n"
    "          \"selected\": true\n"
    "        }\n"
    "      ],\n"
    "      \"peer_count\": 2\n"
    "    },\n"
    "    \"duration_ms\": 1200,\n"
    "    \"event_type\": \"backfill_session_started\",\n"
    "    \"peer_device_id\": \"" PEER "\",\n"
    "    \"record_count\": 300,\n"
    "    \"severity\": \"info\",\n"
    "    \"summary\": \"Selected peer it's \\\"x\\\" → a/b\",\n"
    "    \"timestamp\": \"2025-12-03T10:15:00.123456789Z\"\n"
    "  }");
  ev = minimal();
  CHECK_EQ_STR(render(&ev, SL_RENDER_JSON),
    "{\n"
    "    \"correlation_id\": null,\n"
    "    \"details\": null,\n"
    "    \"duration_ms\": null,\n"
    "    \"event_type\": \"state_transition\",\n"
    "    \"peer_device_id\": null,\n"
    "    \"record_count\": null,\n"
    "    \"severity\": \"info\",\n"
    "    \"summary\": \"Ready → Paused\",\n"
    "    \"timestamp\": \"2025-12-03T10:15:00Z\"\n"
    "  }");
  CHECK_EQ_STR(render(&ev, SL_RENDER_NDJSON),
    "{\"correlation_id\":null,\"details\":null,\"duration_ms\":null,"
    "\"event_type\":\"state_transition\",\"peer_device_id\":null,"
    "\"record_count\":null,\"severity\":\"info\","
    "\"summary\":\"Ready → Paused\",\"timestamp\":\"2025-12-03T10:15:00Z\"}"
    "\n");
  /* Empty containers print as serde's pretty printer prints them. */
  ev.details = "{}";
  CHECK(strstr(render(&ev, SL_RENDER_JSON), "\"details\": {},\n") != NULL);
  ev.details = "{\"a\":[],\"b\":{}}";
  CHECK(strstr(render(&ev, SL_RENDER_JSON),
               "\"details\": {\n      \"a\": [],\n      \"b\": {}\n    },")
        != NULL);
}

static void test_json_device(void) {
  sl_event ev = full();
  CHECK_EQ_STR(render(&ev, SL_RENDER_JSON_DEVICE),
    "{\n"
    "    \"id\": 42,\n"
    "    \"timestamp\": \"2025-12-03T10:15:00.123456789Z\",\n"
    "    \"device_id\": \"" DEV "\",\n"
    "    \"event_type\": \"backfill_session_started\",\n"
    "    \"category\": \"lifecycle\",\n"
    "    \"severity\": \"info\",\n"
    "    \"summary\": \"Selected peer it's \\\"x\\\" → a/b\",\n"
    "    \"details\": {\n"
    "      \"candidates\": [\n"
    "        {\n"
    "          \"latency_ms\": 23.45599937438965,\n"
    "          \"selected\": true\n"
    "        }\n"
    "      ],\n"
    "      \"peer_count\": 2\n"
    "    },\n"
    "    \"correlation_id\": \"" CORR "\",\n"
    "    \"peer_device_id\": \"" PEER "\",\n"
    "    \"model_types\": [\n"
    "      \"entry\",\n"
    "      \"tag\"\n"
    "    ],\n"
    "    \"record_count\": 300,\n"
    "    \"duration_ms\": 1200\n"
    "  }");
  ev = minimal();
  CHECK_EQ_STR(render(&ev, SL_RENDER_JSON_DEVICE),
    "{\n"
    "    \"id\": 7,\n"
    "    \"timestamp\": \"2025-12-03T10:15:00Z\",\n"
    "    \"device_id\": \"" DEV "\",\n"
    "    \"event_type\": \"state_transition\",\n"
    "    \"category\": \"lifecycle\",\n"
    "    \"severity\": \"info\",\n"
    "    \"summary\": \"Ready → Paused\"\n"
    "  }");
  /* An event not read from a store has no id: null, an empty field; a
  ** stored row's id 0 is 0, as Spacedrive prints it (10.1). */
  ev.has_id = 0;
  CHECK(strstr(render(&ev, SL_RENDER_JSON_DEVICE), "{\n    \"id\": null,\n")
        != NULL);
  CHECK(strstr(render(&ev, SL_RENDER_CSV), "\r\n") != NULL &&
        render(&ev, SL_RENDER_CSV)[0] == ',');
  ev.has_id = 1;
  ev.id = 0;
  CHECK(strstr(render(&ev, SL_RENDER_JSON_DEVICE), "{\n    \"id\": 0,\n")
        != NULL);
  CHECK(strncmp(render(&ev, SL_RENDER_NDJSON_DEVICE), "{", 1) == 0 &&
        strstr(render(&ev, SL_RENDER_NDJSON_DEVICE), ",\"id\":0,") != NULL);
  CHECK(strncmp(render(&ev, SL_RENDER_CSV), "0,", 2) == 0);
  ev.id = -3;
  CHECK(strstr(render(&ev, SL_RENDER_JSON_DEVICE), "{\n    \"id\": -3,\n")
        != NULL);
  ev.id = 7;
  /* An empty model_types reads back as [""], as Spacedrive splits it. */
  ev.model_types = "";
  CHECK(strstr(render(&ev, SL_RENDER_JSON_DEVICE),
               "\"model_types\": [\n      \"\"\n    ]\n  }") != NULL);
  ev = full();
  CHECK_EQ_STR(render(&ev, SL_RENDER_NDJSON_DEVICE),
    "{\"category\":\"lifecycle\",\"correlation_id\":\"" CORR "\","
    "\"details\":{\"candidates\":[{\"latency_ms\":23.45599937438965,"
    "\"selected\":true}],\"peer_count\":2},\"device_id\":\"" DEV "\","
    "\"duration_ms\":1200,\"event_type\":\"backfill_session_started\","
    "\"id\":42,\"model_types\":[\"entry\",\"tag\"],"
    "\"peer_device_id\":\"" PEER "\",\"record_count\":300,"
    "\"severity\":\"info\",\"summary\":\"Selected peer it's \\\"x\\\" → a/b\","
    "\"timestamp\":\"2025-12-03T10:15:00.123456789Z\"}\n");
  ev = minimal();
  CHECK_EQ_STR(render(&ev, SL_RENDER_NDJSON_DEVICE),
    "{\"category\":\"lifecycle\",\"device_id\":\"" DEV "\","
    "\"event_type\":\"state_transition\",\"id\":7,\"severity\":\"info\","
    "\"summary\":\"Ready → Paused\",\"timestamp\":\"2025-12-03T10:15:00Z\"}"
    "\n");
}

#define INSERT "INSERT INTO sync_event_log (timestamp, device_id, " \
  "event_type, category, severity, summary, details, correlation_id, " \
  "peer_device_id, model_types, record_count, duration_ms) VALUES ("

static void test_sql(void) {
  sl_event ev = full();
  ev.details = "{\"reason\":\"it's\",\"a\":1}";
  CHECK_EQ_STR(render(&ev, SL_RENDER_SQL),
    INSERT "'2025-12-03T10:15:00.123456789+00:00', '" DEV "', "
    "'backfill_session_started', 'lifecycle', 'info', "
    "'Selected peer it''s \"x\" → a/b', '{\"a\":1,\"reason\":\"it''s\"}', "
    "'" CORR "', '" PEER "', 'entry,tag', 300, 1200);\n");
  ev = minimal();
  ev.summary = "line one\nline two";
  CHECK_EQ_STR(render(&ev, SL_RENDER_SQL),
    INSERT "'2025-12-03T10:15:00+00:00', '" DEV "', 'state_transition', "
    "'lifecycle', 'info', 'line one\nline two', NULL, NULL, NULL, NULL, "
    "NULL, NULL);\n");
  /* model_types that join to "" is NULL, as in Spacedrive. */
  ev.model_types = "";
  CHECK(strstr(render(&ev, SL_RENDER_SQL), ", NULL, NULL, NULL, NULL, NULL, "
               "NULL);\n") != NULL);
  /* Details that are not JSON are None, as Spacedrive reads them. */
  ev.details = "not 'json'";
  CHECK(strstr(render(&ev, SL_RENDER_SQL),
               "'line one\nline two', NULL, NULL,") != NULL);
}

/*
** Floats in details, as Spacedrive's code prints them (spacedrive-compat.md
** 10.2): `sd sync events` reads the stored text with serde_json twice (the
** row, then the daemon's reply), a server's EventLogResponse once. The
** stored values are written by hand; the printed ones are what serde_json
** 1.0.145 gives for them. 5.919693143225e-75 (the shortest text of its
** double, so Spacedrive may have stored it) prints 5.919693143225001e-75
** after one read and 5.919693143225002e-75 after two: it shows which count
** a path used.
*/
#define FLOATS_IN \
  "{\"e\":1.00000000000000011102230246251565404236316680908203125," \
  "\"l\":19.889999389648438,\"n\":9007199254740993.0,\"s\":1e-122," \
  "\"t\":5.919693143225e-75,\"u\":18446744073709551615," \
  "\"v\":18446744073709551616}"
#define FLOATS_OUT(t) "{\"e\":1.0000000000000002,\"l\":19.88999938964844," \
  "\"n\":9007199254740994.0,\"s\":9.999999999999999e-123,\"t\":" t "," \
  "\"u\":18446744073709551615,\"v\":1.8446744073709552e19}"

static void test_float_reads(void) {
  sl_event ev = minimal();
  ev.details = FLOATS_IN;
  /* Every events format that carries details: read twice. */
  CHECK_EQ_STR(render(&ev, SL_RENDER_NDJSON),
    "{\"correlation_id\":null,\"details\":" FLOATS_OUT("5.919693143225002e-75")
    ",\"duration_ms\":null,\"event_type\":\"state_transition\","
    "\"peer_device_id\":null,\"record_count\":null,\"severity\":\"info\","
    "\"summary\":\"Ready → Paused\",\"timestamp\":\"2025-12-03T10:15:00Z\"}"
    "\n");
  CHECK_EQ_STR(render(&ev, SL_RENDER_SQL),
    INSERT "'2025-12-03T10:15:00+00:00', '" DEV "', 'state_transition', "
    "'lifecycle', 'info', 'Ready → Paused', '"
    FLOATS_OUT("5.919693143225002e-75") "', NULL, NULL, NULL, NULL, NULL);\n");
  CHECK(strstr(render(&ev, SL_RENDER_NDJSON_DEVICE),
               "\"details\":" FLOATS_OUT("5.919693143225002e-75") ",")
        != NULL);
  ev.details = "{\"l\":19.889999389648438,\"t\":5.919693143225e-75}";
  CHECK_EQ_STR(render(&ev, SL_RENDER_JSON),
    "{\n"
    "    \"correlation_id\": null,\n"
    "    \"details\": {\n"
    "      \"l\": 19.88999938964844,\n"
    "      \"t\": 5.919693143225002e-75\n"
    "    },\n"
    "    \"duration_ms\": null,\n"
    "    \"event_type\": \"state_transition\",\n"
    "    \"peer_device_id\": null,\n"
    "    \"record_count\": null,\n"
    "    \"severity\": \"info\",\n"
    "    \"summary\": \"Ready → Paused\",\n"
    "    \"timestamp\": \"2025-12-03T10:15:00Z\"\n"
    "  }");
  CHECK(strstr(render(&ev, SL_RENDER_JSON_DEVICE),
               "\"details\": {\n      \"l\": 19.88999938964844,\n"
               "      \"t\": 5.919693143225002e-75\n    }\n  }") != NULL);
  /* CSV keeps the stored text (Markdown has no details column). */
  CHECK(strstr(render(&ev, SL_RENDER_CSV),
               "\"{\"\"l\"\":19.889999389648438,"
               "\"\"t\"\":5.919693143225e-75}\"") != NULL);

  /* The protocol's event: read once. */
  ev.details = FLOATS_IN;
  sl_buf_reset(&out);
  CHECK_EQ_INT(sl_render_event_reads(&out, &ev, SL_RENDER_NDJSON_DEVICE,
                                     SL_JSON_READS_PROTOCOL), SL_OK);
  CHECK_EQ_STR(out.data,
    "{\"category\":\"lifecycle\",\"details\":"
    FLOATS_OUT("5.919693143225001e-75") ",\"device_id\":\"" DEV "\","
    "\"event_type\":\"state_transition\",\"id\":7,\"severity\":\"info\","
    "\"summary\":\"Ready → Paused\",\"timestamp\":\"2025-12-03T10:15:00Z\"}"
    "\n");
  /* sl_render_event is the events count; 0 reads is the stored value. */
  {
    sl_buf b = {0};
    CHECK_EQ_INT(sl_render_event_reads(&b, &ev, SL_RENDER_NDJSON,
                                       SL_JSON_READS_EVENTS), SL_OK);
    CHECK_EQ_STR(b.data, render(&ev, SL_RENDER_NDJSON));
    ev.details = "{\"t\":5.919693143225e-75}";
    sl_buf_reset(&b);
    CHECK_EQ_INT(sl_render_event_reads(&b, &ev, SL_RENDER_NDJSON, 0), SL_OK);
    CHECK(strstr(b.data, "\"details\":{\"t\":5.919693143225e-75},") != NULL);
    sl_buf_free(&b);
  }
  CHECK_EQ_INT(sl_render_event_reads(NULL, &ev, SL_RENDER_NDJSON, 1),
               SL_MISUSE);
}

static void test_markdown(void) {
  sl_event ev = full();
  CHECK_EQ_STR(render(&ev, SL_RENDER_MARKDOWN),
    "| 2025-12-03 10:15:00 | BackfillSessionStarted | Info | "
    "Selected peer it's \"x\" → a/b |\n");
  ev = minimal();
  ev.summary = "a | b\nc\r\nd\re";
  ev.severity = "warning";
  ev.event_type = "sync_error";
  CHECK_EQ_STR(render(&ev, SL_RENDER_MARKDOWN),
    "| 2025-12-03 10:15:00 | SyncError | Warning | "
    "a \\| b<br>c<br>d<br>e |\n");
  /* Names Spacedrive does not know are shown as stored. */
  ev.event_type = "custom_thing";
  ev.severity = "loud";
  CHECK_EQ_STR(render(&ev, SL_RENDER_MARKDOWN),
    "| 2025-12-03 10:15:00 | custom_thing | loud | "
    "a \\| b<br>c<br>d<br>e |\n");
}

/* The timeline's text row (sl_render_timeline_text). */
static const char *text_row(const sl_event *ev, int64_t adjusted,
                            const char *label, size_t width, int flagged) {
  sl_buf_reset(&out);
  if (sl_render_timeline_text(&out, ev, adjusted, label, strlen(label),
                              width, flagged) != SL_OK)
    return "(failed)";
  return out.data;
}

static void test_timeline_text(void) {
  sl_event ev = full();
  CHECK_EQ_STR(text_row(&ev, ev.instant, "desktop", 7, 0),
    "  2025-12-03 10:15:00.123  desktop  info     backfill_session_started"
    "    Selected peer it's \"x\" → a/b\n");
  /* Corrected by the clock offset, and flagged: the device's own time
  ** after; the label padded to the widest. */
  CHECK_EQ_STR(text_row(&ev, ev.instant + 8500000000, "phone", 7, 1),
    "! 2025-12-03 10:15:08.623  phone    info     backfill_session_started"
    "    Selected peer it's \"x\" → a/b  [device clock 2025-12-03 "
    "10:15:00.123]\n");
  /* A whole second is ".000"; a line feed is a space, other control
  ** characters and DEL are \xNN, UTF-8 is kept. */
  ev = minimal();
  ev.summary = "a\nb\tc\x7f\x01 é";
  ev.event_type = "a_type_name_longer_than_its_column";
  CHECK_EQ_STR(text_row(&ev, ev.instant, "d", 1, 0),
    "  2025-12-03 10:15:00.000  d  info     "
    "a_type_name_longer_than_its_column  a b\\x09c\\x7f\\x01 é\n");
  /* A time that does not parse is shown as stored; absent names as "?";
  ** the summary's NUL as \x00, its length kept. */
  ev = minimal();
  ev.timestamp = "yesterday";
  ev.has_instant = 0;
  ev.severity = NULL;
  ev.event_type = NULL;
  ev.summary = "x\0y";
  ev.len[SL_COL_SUMMARY] = 3;
  CHECK_EQ_STR(text_row(&ev, 0, "laptop", 8, 0),
    "  yesterday  laptop    ?        ?                           "
    "x\\x00y\n");
  /* A year before 1970: the clock still reads forwards. */
  ev = minimal();
  ev.instant = -SL_NS_PER_SEC / 2;
  CHECK_EQ_STR(text_row(&ev, ev.instant, "x", 1, 0),
    "  1969-12-31 23:59:59.500  x  info     state_transition            "
    "Ready → Paused\n");
  CHECK_EQ_INT(sl_render_timeline_text(NULL, &ev, 0, "x", 1, 1, 0),
               SL_MISUSE);
}

static void test_csv(void) {
  sl_event ev = full();
  CHECK_EQ_STR(sl_render_csv_header(),
    "id,timestamp,device_id,event_type,category,severity,summary,details,"
    "correlation_id,peer_device_id,model_types,record_count,duration_ms\r\n");
  CHECK_EQ_STR(render(&ev, SL_RENDER_CSV),
    "42,2025-12-03T10:15:00.123456789+00:00," DEV ","
    "backfill_session_started,lifecycle,info,"
    "\"Selected peer it's \"\"x\"\" → a/b\","
    "\"{\"\"candidates\"\":[{\"\"latency_ms\"\":23.45599937438965,"
    "\"\"selected\"\":true}],\"\"peer_count\"\":2}\","
    CORR "," PEER ",\"entry,tag\",300,1200\r\n");
  ev = minimal();
  ev.timestamp = "2025-12-03T12:15:00.5+02:00";  /* as stored */
  ev.model_types = "";                            /* "" is not NULL */
  ev.summary = "two\r\nlines";
  CHECK_EQ_STR(render(&ev, SL_RENDER_CSV),
    "7,2025-12-03T12:15:00.5+02:00," DEV ",state_transition,lifecycle,info,"
    "\"two\r\nlines\",,,,\"\",,\r\n");
}

/* Stored text another writer made: other offsets and precisions, ids in
** capitals, a timestamp that does not parse. */
static void test_foreign_rows(void) {
  static const struct {
    int64_t ns;
    const char *zulu, *plus;
  } t[] = {
    {0, "2025-12-03T10:15:00Z", "2025-12-03T10:15:00+00:00"},
    {500000000, "2025-12-03T10:15:00.500Z", "2025-12-03T10:15:00.500+00:00"},
    {123000, "2025-12-03T10:15:00.000123Z",
     "2025-12-03T10:15:00.000123+00:00"},
    {1, "2025-12-03T10:15:00.000000001Z",
     "2025-12-03T10:15:00.000000001+00:00"},
  };
  sl_event ev = minimal();
  char want[256];
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    ev.instant = T0 + t[i].ns;
    snprintf(want, sizeof want, "\"timestamp\":\"%s\"}\n", t[i].zulu);
    CHECK(strstr(render(&ev, SL_RENDER_NDJSON), want) != NULL);
    snprintf(want, sizeof want, "VALUES ('%s', ", t[i].plus);
    CHECK(strstr(render(&ev, SL_RENDER_SQL), want) != NULL);
  }
  ev = minimal();
  ev.device_id = "2F1A8F8E-0C3B-4D52-9D0E-5B1C2A3D4E5F";
  ev.peer_device_id = "not-a-uuid";
  CHECK(strstr(render(&ev, SL_RENDER_NDJSON_DEVICE),
               "\"device_id\":\"" DEV "\"") != NULL);
  CHECK(strstr(render(&ev, SL_RENDER_NDJSON_DEVICE),
               "\"peer_device_id\":\"not-a-uuid\"") != NULL);
  CHECK(strstr(render(&ev, SL_RENDER_CSV),
               ",2F1A8F8E-0C3B-4D52-9D0E-5B1C2A3D4E5F,") != NULL);
  ev = minimal();
  ev.timestamp = "yesterday-ish";
  ev.has_instant = 0;
  CHECK(strstr(render(&ev, SL_RENDER_JSON),
               "\"timestamp\": \"yesterday-ish\"\n  }") != NULL);
  CHECK(strstr(render(&ev, SL_RENDER_SQL), "VALUES ('yesterday-ish', ")
        != NULL);
  CHECK_EQ_STR(render(&ev, SL_RENDER_MARKDOWN),
               "| yesterday-ish | StateTransition | Info | Ready → Paused |\n");
  /* Details that are not JSON are None: null, as Spacedrive reads them. */
  ev = minimal();
  ev.details = "oops {";
  CHECK(strstr(render(&ev, SL_RENDER_NDJSON), "\"details\":null,")
        != NULL);
}

/* The details as the general path writes them: parse (as the events path
** reads them), then write; null where serde_json refuses the text. */
static void tree_write(sl_buf *b, const char *text, int level) {
  sl_json *v = NULL;
  sl_buf_reset(b);
  if (sl_json_parse_serde(text, strlen(text), SL_JSON_READS_EVENTS, &v, NULL,
                          0) == SL_OK) {
    sl_json_write(b, v, level, 1);
    sl_json_free(v);
  } else {
    sl_buf_puts(b, "null");
  }
}

/* What the renderer wrote for details, between the key and the next. */
static const char *details_part(const sl_event *ev, int pretty,
                                char *buf, size_t size) {
  const char *s = render(ev, pretty ? SL_RENDER_JSON : SL_RENDER_NDJSON);
  const char *open = pretty ? "\"details\": " : "\"details\":";
  const char *close = pretty ? ",\n    \"duration_ms\"" : ",\"duration_ms\"";
  const char *a = strstr(s, open), *z = strstr(s, close);
  if (!a || !z) return "(not found)";
  a += strlen(open);
  snprintf(buf, size, "%.*s", (int)(z - a), a);
  return buf;
}

static void test_details_paths(void) {
  static const char *const inputs[] = {
    /* the single pass takes these */
    "{}", "[]", "{\"a\":1}", "{\"a\":{\"b\":[1,2,{\"c\":null}]}}",
    "{\"a\":true,\"b\":false,\"c\":null,\"d\":\"x y/z\"}",
    " { \"a\" : [ 1 , -2 ] , \"b\" : {} } ", "{\"\":0,\"a\":\"\"}",
    "{\"a\":123456789012345678}", "[[],[[]],{}]", "\"text\"", "12", "null",
    /* and falls back for these */
    "{\"b\":1,\"a\":2}", "{\"a\":1,\"a\":2}", "{\"ab\":1,\"a\":2}",
    "{\"a\":1.5}", "{\"a\":100.0}", "{\"a\":1e2}", "{\"a\":-0}",
    "{\"a\":1234567890123456789}", "{\"a\":9223372036854775808}",
    "{\"a\":18446744073709551615}", "{\"a\":18446744073709551616}",
    "{\"a\":19.889999389648438}", "{\"a\":[5.919693143225e-75,1e-122]}",
    "{\"a\":\"\\u00e9\\n\\/\"}", "{\"a\":\"é→\"}", "{\"a\":\"\\u0001\"}",
    "{\"é\":1,\"a\":2}", "{\"a\":01}", "{\"a\":1,}", "[1,2", "{\"a\" 1}",
    "{\"a\":tru}", "", "  ", "{} x", "not json", "{\"a\":\"\t\"}",
    /* 30 levels: the single pass, past its table of indents */
    "[[[[[[[[[[[[[[[{\"a\":[[[[[[[[[[[[[[{\"b\":1}]]]]]]]]]]]]]]}]]]]]]]]]]]]]]]",
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
    "1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
  };
  sl_buf want = {0};
  static char got[32768];
  sl_event ev = minimal();
  for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
    ev.details = inputs[i];
    for (int pretty = 0; pretty <= 1; pretty++) {
      tree_write(&want, inputs[i], pretty ? 2 : -1);
      const char *g = details_part(&ev, pretty, got, sizeof got);
      if (strcmp(g, want.data) != 0)
        fprintf(stderr, "details %s (pretty %d):\n  got  %s\n  want %s\n",
                inputs[i], pretty, g, want.data);
      CHECK_EQ_STR(g, want.data);
    }
  }
  sl_buf_free(&want);
  /* The spot checks that matter most, written out. */
  ev.details = "{\"z\":1,\"latency_ms\":23.45599937438965,\"a\":100.0}";
  CHECK_EQ_STR(details_part(&ev, 0, got, sizeof got),
               "{\"a\":100.0,\"latency_ms\":23.45599937438965,\"z\":1}");
  ev.details = "{\"a\":\"\\u001f\\b\\f\\n\\r\\t\\\"\\\\/\"}";
  CHECK_EQ_STR(details_part(&ev, 0, got, sizeof got),
               "{\"a\":\"\\u001f\\b\\f\\n\\r\\t\\\"\\\\/\"}");
}

/*
** Details serde_json refuses are None, as Spacedrive reads the row
** (spacedrive-compat.md 10.1): "details": null in the default JSON and
** NDJSON, the key omitted with --with-device, NULL in SQL -- on the events
** path and the protocol's alike. CSV keeps the stored text, as it keeps
** every column. A correlation id follows details in the --with-device
** orders, so an omitted key must leave the separators right.
*/
#define NONE_JSON \
  "{\n" \
  "    \"correlation_id\": \"" CORR "\",\n" \
  "    \"details\": null,\n" \
  "    \"duration_ms\": null,\n" \
  "    \"event_type\": \"state_transition\",\n" \
  "    \"peer_device_id\": null,\n" \
  "    \"record_count\": null,\n" \
  "    \"severity\": \"info\",\n" \
  "    \"summary\": \"Ready → Paused\",\n" \
  "    \"timestamp\": \"2025-12-03T10:15:00Z\"\n" \
  "  }"
#define NONE_NDJSON \
  "{\"correlation_id\":\"" CORR "\",\"details\":null,\"duration_ms\":null," \
  "\"event_type\":\"state_transition\",\"peer_device_id\":null," \
  "\"record_count\":null,\"severity\":\"info\"," \
  "\"summary\":\"Ready → Paused\",\"timestamp\":\"2025-12-03T10:15:00Z\"}\n"
#define DEVICE_HEAD \
  "{\n" \
  "    \"id\": 7,\n" \
  "    \"timestamp\": \"2025-12-03T10:15:00Z\",\n" \
  "    \"device_id\": \"" DEV "\",\n" \
  "    \"event_type\": \"state_transition\",\n" \
  "    \"category\": \"lifecycle\",\n" \
  "    \"severity\": \"info\",\n" \
  "    \"summary\": \"Ready → Paused\",\n"
#define DEVICE_TAIL "    \"correlation_id\": \"" CORR "\"\n  }"
#define NONE_JSON_DEVICE DEVICE_HEAD DEVICE_TAIL
#define NDJSON_DEVICE_HEAD \
  "{\"category\":\"lifecycle\",\"correlation_id\":\"" CORR "\","
#define NDJSON_DEVICE_TAIL \
  "\"device_id\":\"" DEV "\",\"event_type\":\"state_transition\",\"id\":7," \
  "\"severity\":\"info\",\"summary\":\"Ready → Paused\"," \
  "\"timestamp\":\"2025-12-03T10:15:00Z\"}\n"
#define NONE_NDJSON_DEVICE NDJSON_DEVICE_HEAD NDJSON_DEVICE_TAIL
#define SQL_HEAD \
  INSERT "'2025-12-03T10:15:00+00:00', '" DEV "', 'state_transition', " \
  "'lifecycle', 'info', 'Ready → Paused', "
#define SQL_TAIL ", '" CORR "', NULL, NULL, NULL, NULL);\n"
#define NONE_SQL SQL_HEAD "NULL" SQL_TAIL
#define CSV_HEAD \
  "7,2025-12-03T10:15:00+00:00," DEV ",state_transition,lifecycle,info," \
  "Ready → Paused,"
#define CSV_TAIL "," CORR ",,,,\r\n"

static const char *render_reads(const sl_event *ev, int format, int reads) {
  sl_buf_reset(&out);
  if (sl_render_event_reads(&out, ev, format, reads) != SL_OK)
    return "(failed)";
  return out.len ? out.data : "";
}

/* Every format but Markdown (which has no details), on one read count. */
static void check_none(const sl_event *ev, int reads, const char *csv) {
  static char want[1024];
  CHECK_EQ_STR(render_reads(ev, SL_RENDER_JSON, reads), NONE_JSON);
  CHECK_EQ_STR(render_reads(ev, SL_RENDER_NDJSON, reads), NONE_NDJSON);
  CHECK_EQ_STR(render_reads(ev, SL_RENDER_JSON_DEVICE, reads),
               NONE_JSON_DEVICE);
  CHECK_EQ_STR(render_reads(ev, SL_RENDER_NDJSON_DEVICE, reads),
               NONE_NDJSON_DEVICE);
  CHECK_EQ_STR(render_reads(ev, SL_RENDER_SQL, reads), NONE_SQL);
  snprintf(want, sizeof want, CSV_HEAD "%s" CSV_TAIL, csv);
  CHECK_EQ_STR(render_reads(ev, SL_RENDER_CSV, reads), want);
}

static void test_details_none(void) {
  static const char *const refused[][2] = {
    /* stored text, its CSV field */
    {"not json", "not json"},
    {"", "\"\""},
    {"   ", "   "},
    {"{\"a\":1} x", "\"{\"\"a\"\":1} x\""},
    {"[1] [2]", "[1] [2]"},
    {"{\"a\":NaN}", "\"{\"\"a\"\":NaN}\""},
    {"Infinity", "Infinity"},
    {"[-Infinity]", "[-Infinity]"},
    {"[01]", "[01]"},
    {"{\"n\":-007}", "\"{\"\"n\"\":-007}\""},
    {"\"\\ud800\"", "\"\"\"\\ud800\"\"\""},
    {"{\"a\":\"x\\udc00y\"}", "\"{\"\"a\"\":\"\"x\\udc00y\"\"}\""},
    {"{\"a\":\"tab\there\"}", "\"{\"\"a\"\":\"\"tab\there\"\"}\""},
    {"{\"a\":\"line\nbreak\"}", "\"{\"\"a\"\":\"\"line\nbreak\"\"}\""},
    {"[\"\x01\"]", "\"[\"\"\x01\"\"]\""},
    {"[1e400]", "[1e400]"},
    {"{\"a\":-2.5e308}", "\"{\"\"a\"\":-2.5e308}\""},
    {"{'a':1}", "{'a':1}"},
  };
  static const char *const nulls[][2] = {{"null", "null"},
                                         {" null\n", "\" null\n\""}};
  static char want[42000];
  sl_event ev = minimal();
  ev.correlation_id = CORR;
  for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
    ev.details = refused[i][0];
    check_none(&ev, SL_JSON_READS_EVENTS, refused[i][1]);
    check_none(&ev, SL_JSON_READS_PROTOCOL, refused[i][1]);
    /* sl_render_event is the events path. */
    CHECK_EQ_STR(render(&ev, SL_RENDER_NDJSON_DEVICE), NONE_NDJSON_DEVICE);
  }

  /* A stored JSON null: the events path reads it, writes Some(Null) in the
  ** daemon's reply and reads that back as None (10.4). */
  for (size_t i = 0; i < 2; i++) {
    ev.details = nulls[i][0];
    check_none(&ev, SL_JSON_READS_EVENTS, nulls[i][1]);
    CHECK_EQ_STR(render(&ev, SL_RENDER_JSON_DEVICE), NONE_JSON_DEVICE);
    CHECK_EQ_STR(render(&ev, SL_RENDER_SQL), NONE_SQL);
    /* The protocol sends the value it read: Value::Null, a null. */
    CHECK_EQ_STR(render_reads(&ev, SL_RENDER_NDJSON_DEVICE,
                              SL_JSON_READS_PROTOCOL),
                 NDJSON_DEVICE_HEAD "\"details\":null," NDJSON_DEVICE_TAIL);
    CHECK_EQ_STR(render_reads(&ev, SL_RENDER_JSON_DEVICE,
                              SL_JSON_READS_PROTOCOL),
                 DEVICE_HEAD "    \"details\": null,\n" DEVICE_TAIL);
    CHECK_EQ_STR(render_reads(&ev, SL_RENDER_JSON, SL_JSON_READS_PROTOCOL),
                 NONE_JSON);
    CHECK_EQ_STR(render_reads(&ev, SL_RENDER_NDJSON, SL_JSON_READS_PROTOCOL),
                 NONE_NDJSON);
    CHECK_EQ_STR(render_reads(&ev, SL_RENDER_SQL, SL_JSON_READS_PROTOCOL),
                 SQL_HEAD "'null'" SQL_TAIL);
    snprintf(want, sizeof want, CSV_HEAD "%s" CSV_TAIL, nulls[i][1]);
    CHECK_EQ_STR(render_reads(&ev, SL_RENDER_CSV, SL_JSON_READS_PROTOCOL),
                 want);
  }
  /* A null inside the details is a value like any other. */
  ev.details = "{\"a\":null}";
  CHECK_EQ_STR(render(&ev, SL_RENDER_NDJSON_DEVICE),
               NDJSON_DEVICE_HEAD "\"details\":{\"a\":null},"
               NDJSON_DEVICE_TAIL);
  CHECK_EQ_STR(render(&ev, SL_RENDER_SQL), SQL_HEAD "'{\"a\":null}'" SQL_TAIL);

  /* serde's recursion limit: details nested 127 deep are read (and
  ** exported, where Spacedrive's CLI fails on its daemon's reply: see
  ** synclua/json.h), 128 deep are None. */
  {
    static char text[300], pretty[40000];
    for (int depth = 127; depth <= 128; depth++) {
      size_t n = 0, p = 0;
      for (int i = 0; i < depth; i++) text[n++] = '[';
      text[n++] = '1';
      for (int i = 0; i < depth; i++) text[n++] = ']';
      text[n] = '\0';
      /* Pretty at nesting 2, as the JSON element holds details. */
      for (int i = 0; i < depth; i++) {
        pretty[p++] = '[';
        pretty[p++] = '\n';
        for (int k = 0; k < 2 * (i + 3); k++) pretty[p++] = ' ';
      }
      pretty[p++] = '1';
      for (int i = depth; i-- > 0;) {
        pretty[p++] = '\n';
        for (int k = 0; k < 2 * (i + 2); k++) pretty[p++] = ' ';
        pretty[p++] = ']';
      }
      pretty[p] = '\0';
      ev.details = text;
      for (int reads = 1; reads <= 2; reads++) {
        if (depth == 128) {
          check_none(&ev, reads, text);
          continue;
        }
        snprintf(want, sizeof want, NDJSON_DEVICE_HEAD "\"details\":%s,"
                 NDJSON_DEVICE_TAIL, text);
        CHECK_EQ_STR(render_reads(&ev, SL_RENDER_NDJSON_DEVICE, reads), want);
        snprintf(want, sizeof want, SQL_HEAD "'%s'" SQL_TAIL, text);
        CHECK_EQ_STR(render_reads(&ev, SL_RENDER_SQL, reads), want);
        snprintf(want, sizeof want,
                 "{\"correlation_id\":\"" CORR "\",\"details\":%s,"
                 "\"duration_ms\":null,\"event_type\":\"state_transition\","
                 "\"peer_device_id\":null,\"record_count\":null,"
                 "\"severity\":\"info\",\"summary\":\"Ready → Paused\","
                 "\"timestamp\":\"2025-12-03T10:15:00Z\"}\n", text);
        CHECK_EQ_STR(render_reads(&ev, SL_RENDER_NDJSON, reads), want);
        snprintf(want, sizeof want, DEVICE_HEAD "    \"details\": %s,\n"
                 DEVICE_TAIL, pretty);
        CHECK_EQ_STR(render_reads(&ev, SL_RENDER_JSON_DEVICE, reads), want);
        snprintf(want, sizeof want,
                 "{\n    \"correlation_id\": \"" CORR "\",\n"
                 "    \"details\": %s,\n    \"duration_ms\": null,\n"
                 "    \"event_type\": \"state_transition\",\n"
                 "    \"peer_device_id\": null,\n"
                 "    \"record_count\": null,\n"
                 "    \"severity\": \"info\",\n"
                 "    \"summary\": \"Ready → Paused\",\n"
                 "    \"timestamp\": \"2025-12-03T10:15:00Z\"\n  }", pretty);
        CHECK_EQ_STR(render_reads(&ev, SL_RENDER_JSON, reads), want);
        snprintf(want, sizeof want, CSV_HEAD "%s" CSV_TAIL, text);
        CHECK_EQ_STR(render_reads(&ev, SL_RENDER_CSV, reads), want);
      }
    }
  }
}

static void test_misuse_and_appending(void) {
  sl_event ev = minimal();
  sl_buf b = {0};
  CHECK_EQ_INT(sl_render_event(NULL, &ev, SL_RENDER_JSON), SL_MISUSE);
  CHECK_EQ_INT(sl_render_event(&b, NULL, SL_RENDER_JSON), SL_MISUSE);
  CHECK_EQ_INT(sl_render_event(&b, &ev, -1), SL_MISUSE);
  CHECK_EQ_INT(sl_render_event(&b, &ev, SL_RENDER_FORMAT_COUNT), SL_MISUSE);
  CHECK_EQ_INT(b.len, 0);
  /* Events append: a buffer can hold many, each whole. */
  sl_buf_puts(&b, "x");
  CHECK_EQ_INT(sl_render_event(&b, &ev, SL_RENDER_MARKDOWN), SL_OK);
  CHECK_EQ_INT(sl_render_event(&b, &ev, SL_RENDER_MARKDOWN), SL_OK);
  CHECK_EQ_STR(b.data,
    "x| 2025-12-03 10:15:00 | StateTransition | Info | Ready → Paused |\n"
    "| 2025-12-03 10:15:00 | StateTransition | Info | Ready → Paused |\n");
  CHECK_EQ_INT(strlen(b.data), b.len);
  /* A buffer that already failed stays failed, and gets nothing. */
  b.oom = 1;
  size_t len = b.len;
  CHECK_EQ_INT(sl_render_event(&b, &ev, SL_RENDER_JSON), SL_NOMEM);
  CHECK_EQ_INT(b.len, len);
  sl_buf_free(&b);
  CHECK_EQ_STR(sl_render_format_name(SL_RENDER_JSON_DEVICE), "json_device");
  CHECK_EQ_STR(sl_render_format_name(SL_RENDER_CSV), "csv");
  CHECK(sl_render_format_name(SL_RENDER_FORMAT_COUNT) == NULL);
}

int main(void) {
  test_json();
  test_json_device();
  test_sql();
  test_float_reads();
  test_markdown();
  test_csv();
  test_timeline_text();
  test_foreign_rows();
  test_details_paths();
  test_details_none();
  test_misuse_and_appending();
  sl_buf_free(&out);
  return check_report("test_render");
}
