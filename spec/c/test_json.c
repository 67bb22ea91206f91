/*
** test_json.c -- the C driver's checks of core/sl_buf.c and core/sl_json.c:
** the growable buffer, the strict parser and its messages, and the exact
** bytes serde_json writes (escaping, ryu floats, pretty printing, key order).
*/
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include <synclua/json.h>

static sl_buf out;
static char err[256];

/* Write one double; the text lives in `out` until the next call. */
static const char *dbl(double d) {
  sl_buf_reset(&out);
  sl_json_write_double(&out, d);
  return out.len ? out.data : "";
}

static const char *esc(const char *s, size_t n) {
  sl_buf_reset(&out);
  sl_json_write_string(&out, s, n);
  return out.data;
}

/* Parse and rewrite (indent < 0: compact), or the parse error. */
static const char *rewrite(const char *json, int indent, int sort) {
  sl_json *v = NULL;
  sl_buf_reset(&out);
  if (sl_json_parse(json, strlen(json), &v, err, sizeof err) != SL_OK)
    return err;
  sl_json_write(&out, v, indent, sort);
  sl_json_free(v);
  return out.data;
}

static const char *canon(const char *json) { return rewrite(json, -1, 1); }

/* Read `reads` times as serde_json reads (sl_json_parse_serde) and write
** compact, or the parse error. */
static const char *serde(const char *json, int reads) {
  sl_json *v = NULL;
  sl_buf_reset(&out);
  if (sl_json_parse_serde(json, strlen(json), reads, &v, err, sizeof err) !=
      SL_OK)
    return err;
  sl_json_write(&out, v, -1, 1);
  sl_json_free(v);
  return out.data;
}

/* The message of a failed parse, or "OK". */
static const char *perr(const char *json, size_t len) {
  sl_json *v = NULL;
  int rc = sl_json_parse(json, len, &v, err, sizeof err);
  if (rc == SL_OK) { sl_json_free(v); return "OK"; }
  if (v != NULL) return "failed parse left a tree in *out";
  return err;
}
#define PERR(lit) perr(lit, sizeof(lit) - 1)

static sl_json *parse_ok(const char *json, size_t len) {
  sl_json *v = NULL;
  if (sl_json_parse(json, len, &v, err, sizeof err) != SL_OK) return NULL;
  return v;
}
#define PARSE(lit) parse_ok(lit, sizeof(lit) - 1)

static void test_buf(void) {
  sl_buf b = {0};
  size_t i;
  int ok = 1;

  sl_buf_append(&b, "", 0);
  CHECK_EQ_INT(b.len, 0);
  sl_buf_puts(&b, "abc");
  sl_buf_append(&b, "defgh", 2);
  CHECK_EQ_STR(b.data, "abcde");
  CHECK_EQ_INT(b.len, 5);
  CHECK(b.cap > b.len);

  /* Growth keeps every byte and the NUL. */
  for (i = 0; i < 10000; i++) sl_buf_append(&b, &"0123456789"[i % 10], 1);
  for (i = 0; i < 10000 && ok; i++) ok = b.data[5 + i] == (char)('0' + i % 10);
  CHECK(ok);
  CHECK_EQ_INT(b.len, 10005);
  CHECK_EQ_INT(b.data[b.len], 0);

  /* Appending a slice of the buffer to itself survives the realloc. */
  sl_buf_reset(&b);
  CHECK_EQ_INT(b.len, 0);
  CHECK_EQ_STR(b.data, "");
  sl_buf_puts(&b, "xy");
  for (i = 0; i < 12; i++) sl_buf_append(&b, b.data, b.len);
  CHECK_EQ_INT(b.len, 2 << 12);
  CHECK(memcmp(b.data + b.len - 4, "xyxy", 4) == 0);

  /* A request no allocator can meet sets oom; later appends are ignored
  ** and the bytes already there stay; reset starts over. */
  sl_buf_reset(&b);
  sl_buf_puts(&b, "kept");
  sl_buf_append(&b, b.data, SIZE_MAX / 2);
  CHECK_EQ_INT(b.oom, 1);
  sl_buf_puts(&b, "more");
  CHECK_EQ_STR(b.data, "kept");
  sl_buf_reset(&b);
  CHECK_EQ_INT(b.oom, 0);
  sl_buf_puts(&b, "again");
  CHECK_EQ_STR(b.data, "again");

  sl_buf_free(&b);
  CHECK(b.data == NULL && b.len == 0 && b.cap == 0);
  sl_buf_free(&b);
  sl_buf_free(NULL);
  sl_buf_puts(&b, NULL);
  CHECK_EQ_INT(b.len, 0);
}

static void test_escaping(void) {
  char all[256], want[16];
  int i, bad = 0;

  CHECK_EQ_STR(esc("abc", 3), "\"abc\"");
  CHECK_EQ_STR(esc("", 0), "\"\"");
  CHECK_EQ_STR(esc("say \"hi\"", 8), "\"say \\\"hi\\\"\"");
  CHECK_EQ_STR(esc("C:\\dir", 6), "\"C:\\\\dir\"");
  CHECK_EQ_STR(esc("\b\f\n\r\t", 5), "\"\\b\\f\\n\\r\\t\"");
  CHECK_EQ_STR(esc("a\0b", 3), "\"a\\u0000b\"");
  CHECK_EQ_STR(esc("\x01\x0b\x1b\x1f", 4), "\"\\u0001\\u000b\\u001b\\u001f\"");
  CHECK_EQ_STR(esc("\x7f", 1), "\"\x7f\"");
  CHECK_EQ_STR(esc("a/b</script>", 12), "\"a/b</script>\"");
  CHECK_EQ_STR(esc("CatchingUp \xe2\x86\x92 Ready", 20),
               "\"CatchingUp \xe2\x86\x92 Ready\"");
  CHECK_EQ_STR(esc("\xf0\x9f\x98\x80!", 5), "\"\xf0\x9f\x98\x80!\"");
  /* Escapes found past the word-at-a-time scan, and at its edges. */
  CHECK_EQ_STR(esc("0123456789abcdefghij\nklmnopqrstuvwxyz\"", 38),
               "\"0123456789abcdefghij\\nklmnopqrstuvwxyz\\\"\"");
  CHECK_EQ_STR(esc("01234567\t", 9), "\"01234567\\t\"");
  CHECK_EQ_STR(esc("\\1234567", 8), "\"\\\\1234567\"");
  CHECK_EQ_STR(esc("1234567\\", 8), "\"1234567\\\\\"");

  /* Every byte on its own, against the rule written out longhand. */
  for (i = 0; i < 256; i++) all[i] = (char)i;
  for (i = 0; i < 256; i++) {
    const char *got = esc(all + i, 1);
    if (i == '"') strcpy(want, "\"\\\"\"");
    else if (i == '\\') strcpy(want, "\"\\\\\"");
    else if (i == '\b') strcpy(want, "\"\\b\"");
    else if (i == '\f') strcpy(want, "\"\\f\"");
    else if (i == '\n') strcpy(want, "\"\\n\"");
    else if (i == '\r') strcpy(want, "\"\\r\"");
    else if (i == '\t') strcpy(want, "\"\\t\"");
    else if (i < 0x20) snprintf(want, sizeof want, "\"\\u%04x\"", i);
    else if (i >= 0x80) strcpy(want, "\"\xef\xbf\xbd\""); /* no char alone */
    else { want[0] = '"'; want[1] = (char)i; want[2] = '"'; want[3] = 0; }
    if (strcmp(got, want) != 0) bad++;
  }
  CHECK_EQ_INT(bad, 0);
  /* All 256 at once: the word scan must not skip any of them. */
  {
    sl_buf one = {0};
    for (i = 0; i < 256; i++) {
      esc(all + i, 1);
      sl_buf_append(&one, out.data + 1, out.len - 2);
    }
    sl_buf_reset(&out);
    sl_json_write_string(&out, all, 256);
    CHECK_EQ_INT(out.len, one.len + 2);
    CHECK(out.len == one.len + 2 &&
          memcmp(out.data + 1, one.data, one.len) == 0);
    sl_buf_free(&one);
  }
}

static void test_doubles(void) {
  CHECK_EQ_STR(dbl(100.0), "100.0");
  CHECK_EQ_STR(dbl(0.1), "0.1");
  CHECK_EQ_STR(dbl(0.3), "0.3");
  CHECK_EQ_STR(dbl((double)23.456f), "23.45599937438965");
  CHECK_EQ_STR(dbl(-1.5), "-1.5");
  CHECK_EQ_STR(dbl(123.456), "123.456");
  CHECK_EQ_STR(dbl(0.0), "0.0");
  CHECK_EQ_STR(dbl(-0.0), "-0.0");
  CHECK_EQ_STR(dbl(1e15), "1000000000000000.0");
  CHECK_EQ_STR(dbl(9007199254740993.0), "9007199254740992.0");
  CHECK_EQ_STR(dbl(9999999999999998.0), "9999999999999998.0");
  CHECK_EQ_STR(dbl(1e16), "1e16");
  CHECK_EQ_STR(dbl(1.5e16), "1.5e16");
  CHECK_EQ_STR(dbl(123456789012345680.0), "1.2345678901234568e17");
  CHECK_EQ_STR(dbl(1e21), "1e21");
  CHECK_EQ_STR(dbl(1e22), "1e22");
  CHECK_EQ_STR(dbl(1e23), "1e23");
  CHECK_EQ_STR(dbl(1.5e300), "1.5e300");
  CHECK_EQ_STR(dbl(1.7976931348623157e308), "1.7976931348623157e308");
  CHECK_EQ_STR(dbl(0.0001), "0.0001");
  CHECK_EQ_STR(dbl(1e-5), "0.00001");
  CHECK_EQ_STR(dbl(1.2345e-5), "0.000012345");
  CHECK_EQ_STR(dbl(1e-6), "1e-6");
  CHECK_EQ_STR(dbl(1e-7), "1e-7");
  CHECK_EQ_STR(dbl(-2.5e-7), "-2.5e-7");
  CHECK_EQ_STR(dbl(1e-300), "1e-300");
  CHECK_EQ_STR(dbl(2.2250738585072014e-308), "2.2250738585072014e-308");
  CHECK_EQ_STR(dbl(5e-324), "5e-324");
  CHECK_EQ_STR(dbl(-5e-324), "-5e-324");
  /* Power of two: the interval below is half as wide (ryu's mmShift). */
  CHECK_EQ_STR(dbl(ldexp(1.0, -44)), "5.684341886080802e-14");
  CHECK_EQ_STR(dbl(ldexp(1.0, 60)), "1.152921504606847e18");
  /* Two shortest candidates equally near: the even digit wins. */
  CHECK_EQ_STR(dbl(1125899906842624.25), "1125899906842624.2");
  CHECK_EQ_STR(dbl(1125899906842624.75), "1125899906842624.8");
  CHECK_EQ_STR(dbl(NAN), "null");
  CHECK_EQ_STR(dbl(INFINITY), "null");
  CHECK_EQ_STR(dbl(-INFINITY), "null");
}

static void test_parse_values(void) {
  sl_json *v;

  v = PARSE(" {\"a\": [1, -2, 3.5, true, false, null, \"s\"]} ");
  CHECK(v != NULL);
  if (v) {
    sl_json *a = v->items[0];
    CHECK_EQ_INT(v->kind, SL_JSON_OBJECT);
    CHECK_EQ_INT(v->length, 1);
    CHECK_EQ_STR(v->keys[0], "a");
    CHECK_EQ_INT(v->key_lengths[0], 1);
    CHECK_EQ_INT(a->kind, SL_JSON_ARRAY);
    CHECK_EQ_INT(a->length, 7);
    CHECK(a->items[0]->kind == SL_JSON_INTEGER && a->items[0]->integer == 1);
    CHECK(a->items[1]->kind == SL_JSON_INTEGER && a->items[1]->integer == -2);
    CHECK(a->items[2]->kind == SL_JSON_FLOAT && a->items[2]->number == 3.5);
    CHECK_EQ_INT(a->items[3]->kind, SL_JSON_TRUE);
    CHECK_EQ_INT(a->items[4]->kind, SL_JSON_FALSE);
    CHECK_EQ_INT(a->items[5]->kind, SL_JSON_NULL);
    CHECK(a->items[6]->kind == SL_JSON_STRING && a->items[6]->length == 1);
    sl_json_free(v);
  }

  /* int64 bounds; above INT64_MAX serde's u64 up to UINT64_MAX; beyond
  ** those a float, as serde_json's f64 fallback. */
  v = PARSE("[9223372036854775807,-9223372036854775808,"
            "9223372036854775808,-9223372036854775809,-0,0,1.0,1E2,"
            "0.1000000000000000055511151231257827021181583404541015625,"
            "1e-400,123456789012345678901234567890]");
  CHECK(v != NULL);
  if (v) {
    CHECK(v->items[0]->kind == SL_JSON_INTEGER &&
          v->items[0]->integer == INT64_MAX);
    CHECK(v->items[1]->kind == SL_JSON_INTEGER &&
          v->items[1]->integer == INT64_MIN);
    CHECK(v->items[2]->kind == SL_JSON_UNSIGNED &&
          v->items[2]->uinteger == UINT64_C(9223372036854775808));
    CHECK(v->items[3]->kind == SL_JSON_FLOAT &&
          v->items[3]->number == -9223372036854775808.0);
    /* serde_json reads -0 as the float -0.0 */
    CHECK(v->items[4]->kind == SL_JSON_FLOAT && signbit(v->items[4]->number));
    CHECK(v->items[5]->kind == SL_JSON_INTEGER && v->items[5]->integer == 0);
    CHECK(v->items[8]->kind == SL_JSON_FLOAT && v->items[8]->number == 0.1);
    CHECK(v->items[9]->kind == SL_JSON_FLOAT && v->items[9]->number == 0.0);
    sl_buf_reset(&out);
    sl_json_write(&out, v, -1, 0);
    CHECK_EQ_STR(out.data,
                 "[9223372036854775807,-9223372036854775808,"
                 "9223372036854775808,-9.223372036854776e18,-0.0,0,1.0,"
                 "100.0,0.1,0.0,1.2345678901234568e29]");
    sl_json_free(v);
  }

  /* Floats read back to the very double (fast path and strtod path). */
  v = PARSE("[23.45599937438965,2.2250738585072014e-308,5e-324,"
            "1.7976931348623157e308,0.30000000000000004,9007199254740993]");
  CHECK(v != NULL);
  if (v) {
    CHECK(v->items[0]->number == (double)23.456f);
    CHECK(v->items[1]->number == 2.2250738585072014e-308);
    CHECK(v->items[2]->number == 5e-324);
    CHECK(v->items[3]->number == 1.7976931348623157e308);
    CHECK(v->items[4]->number == 0.1 + 0.2);
    CHECK(v->items[5]->kind == SL_JSON_INTEGER &&
          v->items[5]->integer == INT64_C(9007199254740993));
    sl_json_free(v);
  }

  /* \u escapes decode to UTF-8, surrogate pairs to one code point, and a
  ** \u0000 stays inside the explicit length. */
  v = PARSE("\"\\u00e9\\u00C9\\u2192\\ud83d\\ude00\\u0000\\/\\\"x\"");
  CHECK(v != NULL);
  if (v) {
    static const char want[] = "\xc3\xa9\xc3\x89\xe2\x86\x92"
                               "\xf0\x9f\x98\x80\0/\"x";
    CHECK_EQ_INT(v->length, sizeof want - 1);
    CHECK(v->length == sizeof want - 1 &&
          memcmp(v->string, want, sizeof want) == 0);
    sl_buf_reset(&out);
    sl_json_write(&out, v, -1, 1);
    CHECK_EQ_STR(out.data, "\"\xc3\xa9\xc3\x89\xe2\x86\x92"
                           "\xf0\x9f\x98\x80\\u0000/\\\"x\"");
    sl_json_free(v);
  }
  v = PARSE("\"raw \xe2\x86\x92 and \xf0\x9f\x98\x80\"");
  CHECK(v != NULL && v->length == 16);
  sl_json_free(v);

  /* A key may hold a NUL too. */
  v = PARSE("{\"a\\u0000b\":1}");
  CHECK(v != NULL && v->key_lengths[0] == 3 &&
        memcmp(v->keys[0], "a\0b", 4) == 0);
  sl_json_free(v);

  sl_json_free(NULL);
}

/* Integers as serde_json types them: i64, then u64 up to UINT64_MAX (an
** integer still, printed in full), then a float. Both readers agree. */
static void test_u64(void) {
  sl_json *v = PARSE("[18446744073709551615,18446744073709551614,"
                     "9223372036854775808,18446744073709551616,"
                     "-18446744073709551615,-9223372036854775809,"
                     "-9223372036854775808,0]");
  CHECK(v != NULL);
  if (v) {
    CHECK(v->items[0]->kind == SL_JSON_UNSIGNED &&
          v->items[0]->uinteger == UINT64_MAX);
    CHECK(v->items[1]->kind == SL_JSON_UNSIGNED &&
          v->items[1]->uinteger == UINT64_MAX - 1);
    CHECK(v->items[2]->kind == SL_JSON_UNSIGNED &&
          v->items[2]->uinteger == (uint64_t)INT64_MAX + 1);
    CHECK(v->items[3]->kind == SL_JSON_FLOAT &&
          v->items[3]->number == 18446744073709551616.0);
    CHECK(v->items[4]->kind == SL_JSON_FLOAT &&
          v->items[4]->number == -18446744073709551616.0);
    CHECK(v->items[6]->kind == SL_JSON_INTEGER &&
          v->items[6]->integer == INT64_MIN);
    CHECK(v->items[7]->kind == SL_JSON_INTEGER && v->items[7]->integer == 0);
    sl_json_free(v);
  }
  CHECK_EQ_STR(canon("{\"max\":18446744073709551615}"),
               "{\"max\":18446744073709551615}");
  CHECK_EQ_STR(canon("[18446744073709551616]"), "[1.8446744073709552e19]");
  CHECK_EQ_STR(serde("[18446744073709551615,18446744073709551616]", 2),
               "[18446744073709551615,1.8446744073709552e19]");
  CHECK_EQ_STR(serde("[-18446744073709551615,-9223372036854775809]", 2),
               "[-1.8446744073709552e19,-9.223372036854776e18]");
  CHECK_EQ_STR(serde("[9223372036854775808,-9223372036854775808]", 2),
               "[9223372036854775808,-9223372036854775808]");

  /* The writers, one per type. */
  sl_buf_reset(&out);
  sl_json_write_uint(&out, UINT64_MAX);
  sl_buf_puts(&out, " ");
  sl_json_write_int(&out, INT64_MIN);
  sl_buf_puts(&out, " ");
  sl_json_write_int(&out, 0);
  CHECK_EQ_STR(out.data, "18446744073709551615 -9223372036854775808 0");
}

/*
** serde_json 1.0.145 without float_roundtrip (spacedrive-compat.md 10.2):
** the expected texts are what that crate printed for these inputs, read
** once (to_string(from_str(x))) and twice (the same again).
*/
static void test_serde_reads(void) {
  /* The examples of 10.2: one read already gives Spacedrive's bytes. */
  static const char *const ex[][2] = {
    {"19.889999389648438", "19.88999938964844"},
    {"1e-122", "9.999999999999999e-123"},
    {"9007199254740993.0", "9007199254740994.0"},
    {"1.00000000000000011102230246251565404236316680908203125",
     "1.0000000000000002"},
  };
  for (size_t i = 0; i < sizeof ex / sizeof ex[0]; i++) {
    CHECK_EQ_STR(serde(ex[i][0], 1), ex[i][1]);
    CHECK_EQ_STR(serde(ex[i][0], 2), ex[i][1]);
  }
  /* The nearest doubles, read exactly, print otherwise. */
  CHECK_EQ_STR(serde("19.889999389648438", 0), "19.889999389648438");
  CHECK_EQ_STR(canon("1e-122"), "1e-122");
  CHECK_EQ_STR(canon("9007199254740993.0"), "9007199254740992.0");
  CHECK_EQ_STR(
    canon("1.00000000000000011102230246251565404236316680908203125"), "1.0");
  /* Values that differ after one read and again after two: the count of
  ** reads decides the bytes (the CLI reads twice, the protocol once). The
  ** first is the shortest text of its double: Spacedrive may store it. */
  CHECK_EQ_STR(serde("5.919693143225e-75", 0), "5.919693143225e-75");
  CHECK_EQ_STR(serde("5.919693143225e-75", 1), "5.919693143225001e-75");
  CHECK_EQ_STR(serde("5.919693143225e-75", 2), "5.919693143225002e-75");
  CHECK_EQ_STR(serde("9.012250117689814", 1), "9.012250117689813");
  CHECK_EQ_STR(serde("9.012250117689814", 2), "9.012250117689812");
  CHECK_EQ_STR(serde("329e-110", 1), "3.2899999999999998e-108");
  CHECK_EQ_STR(serde("329e-110", 2), "3.29e-108");
  CHECK_EQ_STR(serde("{\"latency_ms\":[0.990687098611990617]}", 1),
               "{\"latency_ms\":[0.9906870986119907]}");
  CHECK_EQ_STR(serde("{\"latency_ms\":[0.990687098611990617]}", 2),
               "{\"latency_ms\":[0.9906870986119908]}");
  /* What needs no rounding reads back the same however often. */
  CHECK_EQ_STR(serde("[23.45599937438965,0.1,100.0,-0.0,1.5,2.5e-7]", 2),
               "[23.45599937438965,0.1,100.0,-0.0,1.5,2.5e-7]");
  /* Exponent forms, signs, leading zeros of a fraction. */
  CHECK_EQ_STR(serde("[1E2,1e+2,1e-0,-1.5E-7,0.5e1,-0e5,0.0e-999]", 2),
               "[100.0,100.0,1.0,-1.5e-7,5.0,-0.0,0.0]");
  CHECK_EQ_STR(serde("0.000000000000000000000000000000000000000001", 1),
               "9.999999999999999e-43");
  CHECK_EQ_STR(serde("0.000000000000000000000000000000000000000001", 2),
               "1e-42");
  /* Many digits: 19 or 20 kept in a u64, the rest dropped (counted into
  ** the exponent when they are integer digits), even after the point. */
  CHECK_EQ_STR(serde("12345678901234567890e-19", 2), "1.2345678901234567");
  CHECK_EQ_STR(serde("123456789012345678901234567890", 2),
               "1.2345678901234568e29");
  CHECK_EQ_STR(serde("-123456789012345678901234567890.5e-10", 2),
               "-1.2345678901234567e19");
  CHECK_EQ_STR(serde("184467440737095516159.5", 2), "1.844674407370955e20");
  /* The ends of the range: underflow to (signed) zero, 1e308, the largest
  ** double; past them out of range, where the exact reader still rounds
  ** 1.7976931348623158e308 down to the largest double. */
  CHECK_EQ_STR(serde("[1e-400,-1e-400,-1e-330,3e-324,5e-324,1e-323]", 2),
               "[0.0,-0.0,-0.0,5e-324,5e-324,1e-323]");
  CHECK_EQ_STR(serde("[1e308,1.7976931348623157e308,2.2250738585072014e-308]",
                     2),
               "[1e308,1.7976931348623157e308,2.2250738585072014e-308]");
  CHECK_EQ_STR(serde("1.7976931348623158e308", 1),
               "number out of range at line 1 column 1");
  CHECK_EQ_STR(canon("1.7976931348623158e308"), "1.7976931348623157e308");
  CHECK_EQ_STR(serde("[1,1e400]", 2),
               "number out of range at line 1 column 4");
  /* An exponent too long for an i32: zero unless it makes the value
  ** infinite; inside i32, saturating. */
  CHECK_EQ_STR(serde("[1e-2147483648,1e-2147483649,0e99999999999,"
                     "-1e-99999999999,0e2147483647]", 2),
               "[0.0,0.0,0.0,-0.0,0.0]");
  CHECK_EQ_STR(serde("1e2147483648", 1),
               "number out of range at line 1 column 1");
  CHECK_EQ_STR(serde("1e2147483647", 1),
               "number out of range at line 1 column 1");
  /* Integers never round, and the syntax rules are the strict reader's. */
  CHECK_EQ_STR(serde("[0,-1,123456789012345678]", 2),
               "[0,-1,123456789012345678]");
  CHECK_EQ_STR(serde("01.5", 2),
               "number with a leading zero at line 1 column 1");
  CHECK_EQ_STR(serde("-.5", 2), "unexpected character '.' at line 1 column 2");
  CHECK_EQ_STR(serde("1.e5", 1),
               "unexpected character 'e' at line 1 column 3");
  /* Misuse as sl_json_parse. */
  CHECK_EQ_INT(sl_json_parse_serde("1", 1, 2, NULL, err, sizeof err),
               SL_MISUSE);
}

/* What serde_json 1.0.145's from_str refuses, and so what Spacedrive reads
** as None (spacedrive-compat.md 10.1): sl_json_parse_serde refuses exactly
** these, on both paths' read counts, and accepts their near neighbours. */
static void test_serde_refuses(void) {
  static const struct { const char *json; size_t len; const char *msg; }
  refused[] = {
#define R(lit, msg) {lit, sizeof(lit) - 1, msg}
    R("not json", "unexpected character 'o' at line 1 column 2"),
    R("", "unexpected end of input at line 1 column 1"),
    R("  ", "unexpected end of input at line 1 column 3"),
    R("{\"a\":1} x",
      "trailing characters after the JSON value at line 1 column 9"),
    R("null null",
      "trailing characters after the JSON value at line 1 column 6"),
    R("NaN", "unexpected character 'N' at line 1 column 1"),
    R("{\"a\":NaN}", "unexpected character 'N' at line 1 column 6"),
    R("Infinity", "unexpected character 'I' at line 1 column 1"),
    R("-Infinity", "unexpected character 'I' at line 1 column 2"),
    R("{\"a\":01}", "number with a leading zero at line 1 column 6"),
    R("-01", "number with a leading zero at line 1 column 1"),
    R("\"\\ud800\"", "unpaired surrogate \\uD800 in string at line 1 "
      "column 2"),
    R("{\"a\":\"x\\udfff\"}", "unpaired surrogate \\uDFFF in string at "
      "line 1 column 8"),
    R("\"a\tb\"", "unescaped control character U+0009 in string at line 1 "
      "column 3"),
    R("\"a\x01\"", "unescaped control character U+0001 in string at line 1 "
      "column 3"),
    R("\"a\0\"", "unescaped control character U+0000 in string at line 1 "
      "column 3"),
    R("1e400", "number out of range at line 1 column 1"),
    R("{\"a\":-1e400}", "number out of range at line 1 column 6"),
    R("1.8e308", "number out of range at line 1 column 1"),
#undef R
  };
  static const char *const accepted[][2] = {
    {" {\"a\" : 1}\n\t\r ", "{\"a\":1}"},
    {"null", "null"},
    {"0", "0"}, {"-0", "-0.0"}, {"0.5", "0.5"}, {"0e400", "0.0"},
    {"1e-400", "0.0"}, {"1.7976931348623157e308", "1.7976931348623157e308"},
    {"\"\\ud83d\\ude00\"", "\"\xf0\x9f\x98\x80\""},
    {"\"\x7f\"", "\"\x7f\""},
  };
  for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
    for (int reads = 1; reads <= 2; reads++) {
      sl_json *v = (sl_json *)&v;
      int rc = sl_json_parse_serde(refused[i].json, refused[i].len, reads,
                                   &v, err, sizeof err);
      CHECK_EQ_INT(rc, SL_INVALID);
      CHECK(v == NULL);
      CHECK_EQ_STR(err, refused[i].msg);
    }
  }
  for (size_t i = 0; i < sizeof accepted / sizeof accepted[0]; i++) {
    CHECK_EQ_STR(serde(accepted[i][0], 1), accepted[i][1]);
    CHECK_EQ_STR(serde(accepted[i][0], 2), accepted[i][1]);
  }
  /* serde's recursion limit: 127 nested values are read, 128 are not --
  ** arrays, objects and the two mixed alike. */
  {
    char s[6 * 128 + 256];
    size_t n, i;
    for (int kind = 0; kind < 3; kind++) {
      for (int depth = 127; depth <= 128; depth++) {
        n = 0;
        for (i = 0; i < (size_t)depth; i++) {
          int obj = kind == 1 || (kind == 2 && i % 2);
          if (obj) { memcpy(s + n, "{\"k\":", 5); n += 5; }
          else s[n++] = '[';
        }
        s[n++] = '1';
        for (i = (size_t)depth; i-- > 0;)
          s[n++] = (kind == 1 || (kind == 2 && i % 2)) ? '}' : ']';
        s[n] = '\0';
        for (int reads = 1; reads <= 2; reads++) {
          sl_json *v = NULL;
          int rc = sl_json_parse_serde(s, n, reads, &v, err, sizeof err);
          CHECK_EQ_INT(rc, depth == 127 ? SL_OK : SL_INVALID);
          if (depth == 128)
            CHECK(strstr(err, "nesting deeper than 127 levels") == err);
          sl_json_free(v);
        }
      }
    }
  }
}

static void test_parse_errors(void) {
  sl_json *v = (sl_json *)&v;
  char small[8];

  CHECK_EQ_STR(PERR("[1, x]"), "unexpected character 'x' at line 1 column 5");
  CHECK_EQ_STR(PERR("[\n  \"abc"),
               "unterminated string at line 2 column 3");
  CHECK_EQ_STR(PERR("{\"a\":1}x"),
               "trailing characters after the JSON value at line 1 column 8");
  CHECK_EQ_STR(PERR("1 2"),
               "trailing characters after the JSON value at line 1 column 3");
  CHECK_EQ_STR(PERR(""), "unexpected end of input at line 1 column 1");
  CHECK_EQ_STR(PERR(" \n "), "unexpected end of input at line 2 column 2");
  CHECK_EQ_STR(PERR("[1,]"), "trailing comma before ']' at line 1 column 4");
  CHECK_EQ_STR(PERR("{\"a\":1,}"),
               "trailing comma before '}' at line 1 column 8");
  CHECK_EQ_STR(PERR("[1 2]"), "unexpected character '2' at line 1 column 4");
  CHECK_EQ_STR(PERR("[1"), "unexpected end of input at line 1 column 3");
  CHECK_EQ_STR(PERR("{1:2}"), "unexpected character '1' at line 1 column 2");
  CHECK_EQ_STR(PERR("{\"a\" 1}"),
               "unexpected character '1' at line 1 column 6");
  CHECK_EQ_STR(PERR("{'a':1}"),
               "unexpected character ''' at line 1 column 2");
  CHECK_EQ_STR(PERR("01"), "number with a leading zero at line 1 column 1");
  CHECK_EQ_STR(PERR("-01"), "number with a leading zero at line 1 column 1");
  CHECK_EQ_STR(PERR("-"), "unexpected end of input at line 1 column 2");
  CHECK_EQ_STR(PERR("-a"), "unexpected character 'a' at line 1 column 2");
  CHECK_EQ_STR(PERR("1."), "unexpected end of input at line 1 column 3");
  CHECK_EQ_STR(PERR("1.e5"), "unexpected character 'e' at line 1 column 3");
  CHECK_EQ_STR(PERR("1e+"), "unexpected end of input at line 1 column 4");
  CHECK_EQ_STR(PERR(".5"), "unexpected character '.' at line 1 column 1");
  CHECK_EQ_STR(PERR("+1"), "unexpected character '+' at line 1 column 1");
  CHECK_EQ_STR(PERR("1e400"), "number out of range at line 1 column 1");
  CHECK_EQ_STR(PERR("[-1e999]"), "number out of range at line 1 column 2");
  CHECK_EQ_STR(PERR("NaN"), "unexpected character 'N' at line 1 column 1");
  CHECK_EQ_STR(PERR("[Infinity]"),
               "unexpected character 'I' at line 1 column 2");
  CHECK_EQ_STR(PERR("nul"), "unexpected end of input at line 1 column 4");
  CHECK_EQ_STR(PERR("tru e"), "unexpected character ' ' at line 1 column 4");
  CHECK_EQ_STR(PERR("[1] // c"),
               "trailing characters after the JSON value at line 1 column 5");
  CHECK_EQ_STR(PERR("/* c */ 1"),
               "unexpected character '/' at line 1 column 1");
  /* Columns count characters, lines count \n (a \r\n is one line end). */
  CHECK_EQ_STR(PERR("[\"\xe2\x86\x92\", x]"),
               "unexpected character 'x' at line 1 column 7");
  CHECK_EQ_STR(PERR("{\r\n\"a\":\r\n tru}"),
               "unexpected character '}' at line 3 column 5");
  CHECK_EQ_STR(PERR("\xe2\x86\x92"),
               "unexpected character U+2192 at line 1 column 1");
  CHECK_EQ_STR(PERR("\xff"), "unexpected byte 0xff at line 1 column 1");
  CHECK_EQ_STR(PERR("[\x0b]"),
               "unexpected character U+000B at line 1 column 2");

  /* Strings. */
  CHECK_EQ_STR(PERR("\"a\nb\""),
               "unescaped control character U+000A in string at line 1 "
               "column 3");
  CHECK_EQ_STR(PERR("\"tab\there\""),
               "unescaped control character U+0009 in string at line 1 "
               "column 5");
  CHECK_EQ_STR(PERR("\"\\x\""),
               "invalid escape of character 'x' in string at line 1 column 2");
  CHECK_EQ_STR(PERR("\"\\u12\""), "invalid \\u escape at line 1 column 2");
  CHECK_EQ_STR(PERR("\"\\u12G4\""), "invalid \\u escape at line 1 column 2");
  CHECK_EQ_STR(PERR("\"ab\\ud800\""),
               "unpaired surrogate \\uD800 in string at line 1 column 4");
  CHECK_EQ_STR(PERR("\"\\udc00\""),
               "unpaired surrogate \\uDC00 in string at line 1 column 2");
  CHECK_EQ_STR(PERR("\"\\ud83d\\u0041\""),
               "unpaired surrogate \\uD83D in string at line 1 column 2");
  CHECK_EQ_STR(PERR("\"\\ud83d\\ud83d\""),
               "unpaired surrogate \\uD83D in string at line 1 column 2");
  CHECK_EQ_STR(PERR("\"\\"), "unterminated string at line 1 column 1");
  CHECK_EQ_STR(PERR("\"\xff\""),
               "invalid UTF-8 in string at line 1 column 2");
  CHECK_EQ_STR(PERR("\"\xc0\x80\""),
               "invalid UTF-8 in string at line 1 column 2");
  CHECK_EQ_STR(PERR("\"\xed\xa0\x80\""),
               "invalid UTF-8 in string at line 1 column 2");
  CHECK_EQ_STR(PERR("\"ok \xe2\x86\""),
               "invalid UTF-8 in string at line 1 column 5");
  CHECK_EQ_STR(PERR("\"\xf4\x90\x80\x80\""),
               "invalid UTF-8 in string at line 1 column 2");
  CHECK_EQ_STR(PERR("{\"k\xff\":1}"),
               "invalid UTF-8 in string at line 1 column 4");
  CHECK_EQ_STR(PERR("[\"a\",\"b\\q\"]"),
               "invalid escape of character 'q' in string at line 1 "
               "column 8");

  /* A failure leaves *out NULL, fits a small buffer, and needs none. */
  CHECK_EQ_INT(sl_json_parse("[", 1, &v, err, sizeof err), SL_INVALID);
  CHECK(v == NULL);
  CHECK_EQ_INT(sl_json_parse("[1,", 3, &v, small, sizeof small), SL_INVALID);
  CHECK_EQ_STR(small, "unexpec");
  CHECK_EQ_INT(sl_json_parse("x", 1, &v, NULL, 0), SL_INVALID);
  CHECK_EQ_INT(sl_json_parse(NULL, 0, &v, err, sizeof err), SL_INVALID);
  CHECK_EQ_INT(sl_json_parse("1", 1, NULL, err, sizeof err), SL_MISUSE);
  /* The explicit length is the end: a NUL inside is a character. */
  CHECK_EQ_STR(perr("1\0", 2),
               "trailing characters after the JSON value at line 1 column 2");
  CHECK_EQ_STR(perr("[\0]", 3),
               "unexpected character U+0000 at line 1 column 2");
  CHECK_EQ_STR(perr("[1,2]", 3), "unexpected end of input at line 1 column 4");
}

/* 127 nested arrays are what serde_json accepts; one more is refused, and
** far more must fail the same way rather than exhaust the stack. */
static void test_depth(void) {
  enum { DEEP = 100000 };
  char *s = malloc(2 * DEEP + 1);
  size_t i;
  if (!s) { CHECK(!"malloc"); return; }
  for (i = 0; i < 127; i++) { s[i] = '['; s[254 - i - 1] = ']'; }
  CHECK_EQ_STR(perr(s, 254), "OK");
  for (i = 0; i < 128; i++) { s[i] = '['; s[256 - i - 1] = ']'; }
  CHECK_EQ_STR(perr(s, 256),
               "nesting deeper than 127 levels at line 1 column 128");
  for (i = 0; i < 64; i++) memcpy(s + 6 * i, "{\"a\":[", 6);
  CHECK_EQ_STR(perr(s, 6 * 64),
               "nesting deeper than 127 levels at line 1 column 384");
  memset(s, '[', DEEP);
  memset(s + DEEP, ']', DEEP);
  CHECK_EQ_STR(perr(s, 2 * DEEP),
               "nesting deeper than 127 levels at line 1 column 128");
  free(s);
}

/* Every proper prefix of a document fails cleanly (the sanitizer build
** checks that nothing leaks on the way out). */
static void test_prefixes(void) {
  static const char doc[] =
    "{\"reason\":\"buffered \\u2192 updates\",\"peers\":[{\"id\":"
    "\"8f1c2a44\",\"ms\":23.45599937438965,\"ok\":true,\"n\":null},"
    "[],{}],\"count\":-1200,\"e\":1.5e-7}";
  size_t n;
  int ok = 0, failed = 0;
  for (n = 0; n < sizeof doc - 1; n++) {
    const char *m = perr(doc, n);
    if (strcmp(m, "OK") == 0) ok++;
    else if (strstr(m, " at line 1 column ")) failed++;
  }
  CHECK_EQ_INT(ok, 0);
  CHECK_EQ_INT(failed, (int)(sizeof doc - 1));
  CHECK_EQ_STR(perr(doc, sizeof doc - 1), "OK");
}

static void test_write(void) {
  static const char element[] =
    "{\"timestamp\":\"2025-12-03T10:15:00.123456789Z\","
    "\"summary\":\"CatchingUp { buffered_count: 0 } \xe2\x86\x92 Ready\","
    "\"severity\":\"info\",\"record_count\":null,\"peer_device_id\":null,"
    "\"event_type\":\"state_transition\",\"duration_ms\":null,"
    "\"details\":{\"reason\":\"buffered updates processed\"},"
    "\"correlation_id\":null}";
  /* spacedrive-compat.md section 1.4: one element of the export's array. */
  static const char element_pretty[] =
    "{\n"
    "    \"correlation_id\": null,\n"
    "    \"details\": {\n"
    "      \"reason\": \"buffered updates processed\"\n"
    "    },\n"
    "    \"duration_ms\": null,\n"
    "    \"event_type\": \"state_transition\",\n"
    "    \"peer_device_id\": null,\n"
    "    \"record_count\": null,\n"
    "    \"severity\": \"info\",\n"
    "    \"summary\": "
    "\"CatchingUp { buffered_count: 0 } \xe2\x86\x92 Ready\",\n"
    "    \"timestamp\": \"2025-12-03T10:15:00.123456789Z\"\n"
    "  }";
  char doc[1024];
  sl_json *v;

  CHECK_EQ_STR(rewrite(element, 1, 1), element_pretty);
  snprintf(doc, sizeof doc, "[%s]", element);
  {
    char want[1200];
    snprintf(want, sizeof want, "[\n  %s\n]", element_pretty);
    CHECK_EQ_STR(rewrite(doc, 0, 1), want);
  }
  /* The details object alone, written where the exporter puts it. */
  CHECK_EQ_STR(rewrite("{\"reason\":\"buffered updates processed\"}", 2, 1),
               "{\n      \"reason\": \"buffered updates processed\"\n    }");
  CHECK_EQ_STR(rewrite("{\"b\":1,\"a\":{\"d\":[1,{\"e\":[]}],\"c\":{}}}", 0, 1),
               "{\n"
               "  \"a\": {\n"
               "    \"c\": {},\n"
               "    \"d\": [\n"
               "      1,\n"
               "      {\n"
               "        \"e\": []\n"
               "      }\n"
               "    ]\n"
               "  },\n"
               "  \"b\": 1\n"
               "}");
  CHECK_EQ_STR(rewrite("[]", 0, 1), "[]");
  CHECK_EQ_STR(rewrite("{}", 3, 1), "{}");
  CHECK_EQ_STR(rewrite("\"s\"", 2, 1), "\"s\"");
  CHECK_EQ_STR(rewrite("[1,[2,3]]", 0, 0),
               "[\n  1,\n  [\n    2,\n    3\n  ]\n]");
  /* Indentation deeper than the spaces kept at hand. */
  {
    char want[128];
    snprintf(want, sizeof want, "[\n%42s1\n%40s]", "", "");
    CHECK_EQ_STR(rewrite("[1]", 20, 0), want);
  }

  /* Compact: no whitespace at all; input order unless sorted. */
  CHECK_EQ_STR(rewrite(" { \"b\" : [ 1 , 2 ] ,\n\t\"a\" : { } } ", -1, 0),
               "{\"b\":[1,2],\"a\":{}}");
  CHECK_EQ_STR(canon(" { \"b\" : [ 1 , 2 ] ,\n\t\"a\" : { } } "),
               "{\"a\":{},\"b\":[1,2]}");
  /* Byte order: uppercase before lowercase, a prefix first, UTF-8 last;
  ** of a repeated key, the last value. */
  CHECK_EQ_STR(canon("{\"b\":1,\"\xc3\xa9\":2,\"aa\":3,\"a\":4,\"B\":5,"
                     "\"\":6,\"a\":7}"),
               "{\"\":6,\"B\":5,\"a\":7,\"aa\":3,\"b\":1,"
               "\"\xc3\xa9\":2}");
  CHECK_EQ_STR(canon("{\"a\\u0000b\":1,\"a\":2,\"a\\u0001\":3}"),
               "{\"a\":2,\"a\\u0000b\":1,\"a\\u0001\":3}");
  CHECK_EQ_STR(rewrite("{\"b\":1,\"a\":2,\"b\":3}", -1, 0),
               "{\"b\":1,\"a\":2,\"b\":3}");
  /* More members than the sort's stack buffer. */
  {
    char in[512], want[512];
    int i, n = 0, m = 0;
    n += snprintf(in + n, sizeof in - (size_t)n, "{");
    m += snprintf(want + m, sizeof want - (size_t)m, "{");
    for (i = 0; i < 40; i++) {
      n += snprintf(in + n, sizeof in - (size_t)n, "%s\"k%02d\":%d",
                    i ? "," : "", 39 - i, 39 - i);
      m += snprintf(want + m, sizeof want - (size_t)m, "%s\"k%02d\":%d",
                    i ? "," : "", i, i);
    }
    snprintf(in + n, sizeof in - (size_t)n, "}");
    snprintf(want + m, sizeof want - (size_t)m, "}");
    CHECK_EQ_STR(canon(in), want);
  }

  /* A NULL tree writes null; writers append to what is there. */
  sl_buf_reset(&out);
  sl_buf_puts(&out, "x=");
  sl_json_write(&out, NULL, -1, 1);
  CHECK_EQ_STR(out.data, "x=null");

  v = PARSE("{\"z\":1}");
  sl_buf_reset(&out);
  sl_buf_puts(&out, "[");
  sl_json_write(&out, v, 0, 1);
  CHECK_EQ_STR(out.data, "[{\n  \"z\": 1\n}");
  sl_json_free(v);
}

static void test_canonicalize(void) {
  sl_buf b = {0};
  static const char in[] =
    "{ \"peer\" : \"8f1c2a44-0d5e-4c3b-9a61-2b7e5d9f0c11\",\n"
    "  \"latency_ms\" : 23.45599937438965 , \"models\": [\"location\", "
    "\"entry\"], \"count\": 1200, \"nested\": {\"z\": null, \"a\": 1E2},\n"
    "  \"note\": \"line\\nbreak \\u2192 \\/ done\" }";

  CHECK_EQ_INT(sl_json_canonicalize(in, sizeof in - 1, &b, err, sizeof err),
               SL_OK);
  CHECK_EQ_STR(b.data,
               "{\"count\":1200,\"latency_ms\":23.45599937438965,"
               "\"models\":[\"location\",\"entry\"],"
               "\"nested\":{\"a\":100.0,\"z\":null},"
               "\"note\":\"line\\nbreak \xe2\x86\x92 / done\","
               "\"peer\":\"8f1c2a44-0d5e-4c3b-9a61-2b7e5d9f0c11\"}");
  /* Canonical text is a fixed point. */
  {
    char again[512];
    size_t n = b.len < sizeof again ? b.len : sizeof again - 1;
    memcpy(again, b.data, n);
    sl_buf_reset(&b);
    CHECK_EQ_INT(sl_json_canonicalize(again, n, &b, err, sizeof err), SL_OK);
    CHECK(b.len == n && memcmp(b.data, again, n) == 0);
  }
  /* It appends; a failure writes nothing and says why. */
  sl_buf_reset(&b);
  sl_buf_puts(&b, "pre:");
  CHECK_EQ_INT(sl_json_canonicalize("[1, 2", 5, &b, err, sizeof err),
               SL_INVALID);
  CHECK_EQ_STR(err, "unexpected end of input at line 1 column 6");
  CHECK_EQ_STR(b.data, "pre:");
  CHECK_EQ_INT(sl_json_canonicalize("[2, 1]", 6, &b, NULL, 0), SL_OK);
  CHECK_EQ_STR(b.data, "pre:[2,1]");
  CHECK_EQ_INT(sl_json_canonicalize("1", 1, NULL, err, sizeof err),
               SL_MISUSE);
  /* A repeated key keeps its last value, as serde's BTreeMap does, at any
  ** depth; unsorted writing keeps them all, as parsed. */
  static const char dup[] = "{\"b\":1,\"a\":1,\"a\":2,\"c\":{\"x\":1,"
                            "\"x\":[3],\"x\":{}}}";
  sl_buf_reset(&b);
  CHECK_EQ_INT(sl_json_canonicalize(dup, sizeof dup - 1, &b, err, sizeof err),
               SL_OK);
  CHECK_EQ_STR(b.data, "{\"a\":2,\"b\":1,\"c\":{\"x\":{}}}");
  sl_json *tree;
  CHECK_EQ_INT(sl_json_parse(dup, sizeof dup - 1, &tree, err, sizeof err),
               SL_OK);
  sl_buf_reset(&b);
  sl_json_write(&b, tree, -1, 0);
  CHECK_EQ_STR(b.data, dup);
  sl_json_free(tree);
  sl_buf_free(&b);
}

/* Ill-formed UTF-8 is written as U+FFFD, one per maximal subpart (as
** Rust's String::from_utf8_lossy), so JSON text out is always UTF-8. */
#define FFFD "\xef\xbf\xbd"
static void test_ill_formed_utf8(void) {
  CHECK_EQ_STR(esc("bad \xff byte", 10), "\"bad " FFFD " byte\"");
  CHECK_EQ_STR(esc("\x80", 1), "\"" FFFD "\"");
  /* An overlong encoding: neither byte can be part of a character. */
  CHECK_EQ_STR(esc("\xc0\xaf/", 3), "\"" FFFD FFFD "/\"");
  /* A surrogate (ED A0 80): ED may start a character, A0 cannot follow. */
  CHECK_EQ_STR(esc("\xed\xa0\x80", 3), "\"" FFFD FFFD FFFD "\"");
  /* A sequence cut short is one maximal subpart: one U+FFFD. */
  CHECK_EQ_STR(esc("cut \xe2\x86", 6), "\"cut " FFFD "\"");
  CHECK_EQ_STR(esc("\xe2\x86x", 3), "\"" FFFD "x\"");
  CHECK_EQ_STR(esc("\xf0\x9f\x98", 3), "\"" FFFD "\"");
  CHECK_EQ_STR(esc("\xf0\x9f\x98\"", 4), "\"" FFFD "\\\"\"");
  /* Past U+10FFFF, and bytes that never start a character. */
  CHECK_EQ_STR(esc("\xf4\x90\x80\x80", 4),
               "\"" FFFD FFFD FFFD FFFD "\"");
  CHECK_EQ_STR(esc("\xf5\xfe\xff", 3), "\"" FFFD FFFD FFFD "\"");
  /* Well-formed text around it, on both sides of the 8-byte scan, and
  ** escapes after it, are unchanged. */
  CHECK_EQ_STR(esc("01234567\xff\xe2\x86\x92\n\"", 14),
               "\"01234567" FFFD "\xe2\x86\x92\\n\\\"\"");
  CHECK_EQ_STR(esc("\xe2\x86\x92\xf0\x9f\x98\x80\xc3\xa9", 9),
               "\"\xe2\x86\x92\xf0\x9f\x98\x80\xc3\xa9\"");
  CHECK_EQ_STR(esc("abcdefg\xe2\x86\x92hijklmn", 17),
               "\"abcdefg\xe2\x86\x92hijklmn\"");
  /* Keys of a written tree go through the same writer. */
  {
    sl_json key = {SL_JSON_NULL, 0, 0, NULL, 0, NULL, NULL, NULL, 0};
    sl_json *items[1] = {&key};
    static char k[] = "k\xff";
    char *keys[1] = {k};
    size_t key_lengths[1] = {2};
    sl_json obj = {SL_JSON_OBJECT, 0, 0, NULL, 1, items, keys, key_lengths,
                   0};
    sl_buf_reset(&out);
    sl_json_write(&out, &obj, -1, 1);
    CHECK_EQ_STR(out.data, "{\"k" FFFD "\":null}");
  }
}

/* One re-emitter: the one-pass path for what serde writes back unchanged,
** the parse-and-write path for the rest, the same bytes either way. */
static void test_reformat(void) {
  sl_buf b = {0};
  static const char plain[] = " {\"a\": [1, {\"b\": \"x\"}], \"c\": {}} ";
  CHECK_EQ_INT(sl_json_reformat(&b, plain, sizeof plain - 1, -1, 2, err,
                                sizeof err), SL_OK);
  CHECK_EQ_STR(b.data, "{\"a\":[1,{\"b\":\"x\"}],\"c\":{}}");
  sl_buf_reset(&b);
  CHECK_EQ_INT(sl_json_reformat(&b, plain, sizeof plain - 1, 1, 2, err,
                                sizeof err), SL_OK);
  CHECK_EQ_STR(b.data, "{\n    \"a\": [\n      1,\n      {\n        "
                       "\"b\": \"x\"\n      }\n    ],\n    \"c\": {}\n  }");
  /* Unsorted keys, a float read twice as Spacedrive's CLI reads it. */
  static const char floats[] = "{\"z\":19.889999389648438,\"a\":1}";
  sl_buf_reset(&b);
  CHECK_EQ_INT(sl_json_reformat(&b, floats, sizeof floats - 1, -1, 2, err,
                                sizeof err), SL_OK);
  CHECK_EQ_STR(b.data, "{\"a\":1,\"z\":19.88999938964844}");
  sl_buf_reset(&b);
  CHECK_EQ_INT(sl_json_reformat(&b, floats, sizeof floats - 1, -1, 0, err,
                                sizeof err), SL_OK);
  CHECK_EQ_STR(b.data, "{\"a\":1,\"z\":19.889999389648438}");
  /* What serde refuses appends nothing, after the fast path had begun. */
  sl_buf_reset(&b);
  sl_buf_puts(&b, "kept");
  CHECK_EQ_INT(sl_json_reformat(&b, "[1, 2, 01]", 10, -1, 2, err,
                                sizeof err), SL_INVALID);
  CHECK_EQ_STR(b.data, "kept");
  CHECK_EQ_INT(b.len, 4);
  CHECK_EQ_INT(sl_json_reformat(&b, "", 0, -1, 2, err, sizeof err),
               SL_INVALID);
  CHECK_EQ_INT(sl_json_reformat(NULL, "1", 1, -1, 2, err, sizeof err),
               SL_MISUSE);
  sl_buf_free(&b);
}

/* A tree built by hand is written by the same writer. */
static void test_build(void) {
  sl_json *o = sl_json_new(SL_JSON_OBJECT), *a = sl_json_new(SL_JSON_ARRAY);
  sl_json *n = sl_json_new(SL_JSON_INTEGER);
  CHECK(o && a && n);
  n->integer = -7;
  CHECK_EQ_INT(sl_json_add(o, "b", 1, n), SL_OK);
  for (int i = 0; i < 9; i++) {
    sl_json *t = sl_json_new(i % 2 ? SL_JSON_TRUE : SL_JSON_NULL);
    CHECK_EQ_INT(sl_json_add(a, NULL, 0, t), SL_OK);
  }
  CHECK_EQ_INT(sl_json_add(a, NULL, 0, sl_json_new_string("x\0y", 3)), SL_OK);
  CHECK_EQ_INT(sl_json_add(o, "a\0", 2, a), SL_OK);
  CHECK_EQ_INT(sl_json_add(o, "a", 1, sl_json_new(SL_JSON_FALSE)), SL_OK);
  sl_buf_reset(&out);
  sl_json_write(&out, o, -1, 1);
  CHECK_EQ_STR(out.data, "{\"a\":false,\"a\\u0000\":[null,true,null,true,"
                         "null,true,null,true,null,\"x\\u0000y\"],\"b\":-7}");
  /* Misuse frees the item: a key for an array, none for an object. */
  CHECK_EQ_INT(sl_json_add(a, "k", 1, sl_json_new(SL_JSON_NULL)), SL_MISUSE);
  CHECK_EQ_INT(sl_json_add(o, NULL, 0, sl_json_new(SL_JSON_NULL)),
               SL_MISUSE);
  CHECK_EQ_INT(sl_json_add(n, NULL, 0, sl_json_new(SL_JSON_NULL)),
               SL_MISUSE);
  CHECK_EQ_INT(sl_json_add(o, "k", 1, NULL), SL_MISUSE);
  sl_json_free(o);
}

int main(void) {
  test_buf();
  test_escaping();
  test_ill_formed_utf8();
  test_doubles();
  test_parse_values();
  test_u64();
  test_serde_reads();
  test_serde_refuses();
  test_parse_errors();
  test_depth();
  test_prefixes();
  test_write();
  test_canonicalize();
  test_reformat();
  test_build();
  sl_buf_free(&out);
  return check_report("json");
}
