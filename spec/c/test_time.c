/*
** test_time.c -- the C driver's checks of core/sl_time.c: RFC 3339 parsing
** and chrono-exact formatting of instants, the --since/--until grammar
** with Spacedrive's exact messages, and retention durations.
*/
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include <synclua/synclua.h>

#define S  SL_NS_PER_SEC
#define HINT \
  " (e.g. '1 hour ago', '2h', 'yesterday', '2025-12-03 10:00:00' or " \
  "'2025-12-03T10:00:00Z')"
#define DHINT " (e.g. '7 days', '1 hour', '90m' or '2h')"

/* 2025-12-03T10:15:30.5Z, the fixed `now` of every relative form. */
static const int64_t NOW = INT64_C(1764756930) * SL_NS_PER_SEC + 500000000;
static const int64_t MIDNIGHT = INT64_C(1764720000) * SL_NS_PER_SEC;

static char fmt_buf[SL_TIME_BUFSZ];
static char err[256];

static const char *fmt(int64_t t, int zulu) {
  memset(fmt_buf, 'x', sizeof fmt_buf);
  sl_time_format(t, zulu, fmt_buf);
  return fmt_buf;
}

/* Parse text as RFC 3339; returns the instant or INT64_MIN on failure. */
static int64_t rfc(const char *s) {
  int64_t t = 0;
  return sl_time_parse_rfc3339(s, strlen(s), &t) == SL_OK ? t : INT64_MIN;
}

static int rfc_rc(const char *s) {
  int64_t t = 0;
  return sl_time_parse_rfc3339(s, strlen(s), &t);
}

/* Parse a point relative to NOW; the instant, or INT64_MIN with err set. */
static int64_t point(const char *s) {
  int64_t t = 0;
  err[0] = '\0';
  return sl_time_parse_point(s, NOW, &t, err, sizeof err) == SL_OK
           ? t : INT64_MIN;
}

/* The message a rejected point gives ("" if it was accepted). */
static const char *point_err(const char *s) {
  int64_t t = 0;
  strcpy(err, "");
  if (sl_time_parse_point(s, NOW, &t, err, sizeof err) != SL_INVALID)
    return "(accepted)";
  return err;
}

static int64_t dur(const char *s) {
  int64_t t = 0;
  err[0] = '\0';
  return sl_duration_parse(s, &t, err, sizeof err) == SL_OK ? t : -1;
}

static const char *dur_err(const char *s) {
  int64_t t = 0;
  strcpy(err, "");
  if (sl_duration_parse(s, &t, err, sizeof err) != SL_INVALID)
    return "(accepted)";
  return err;
}

static void test_format(void) {
  const int64_t base = INT64_C(1733220900) * S;
  char buf[SL_TIME_BUFSZ];

  CHECK_EQ_STR(fmt(0, 0), "1970-01-01T00:00:00+00:00");
  CHECK_EQ_STR(fmt(0, 1), "1970-01-01T00:00:00Z");
  CHECK_EQ_STR(fmt(base, 0), "2024-12-03T10:15:00+00:00");
  CHECK_EQ_STR(fmt(base + 123456789, 0),
               "2024-12-03T10:15:00.123456789+00:00");
  CHECK_EQ_STR(fmt(base + 123456789, 1), "2024-12-03T10:15:00.123456789Z");
  CHECK_EQ_STR(fmt(base + 123000000, 0), "2024-12-03T10:15:00.123+00:00");
  CHECK_EQ_STR(fmt(base + 123000000, 1), "2024-12-03T10:15:00.123Z");
  CHECK_EQ_STR(fmt(base + 123456000, 0), "2024-12-03T10:15:00.123456+00:00");
  CHECK_EQ_STR(fmt(base + 1000, 0), "2024-12-03T10:15:00.000001+00:00");
  CHECK_EQ_STR(fmt(base + 1, 0), "2024-12-03T10:15:00.000000001+00:00");
  CHECK_EQ_STR(fmt(base + 100000000, 1), "2024-12-03T10:15:00.100Z");
  CHECK_EQ_STR(fmt(base + 120000, 1), "2024-12-03T10:15:00.000120Z");

  /* Before 1970: floor, not truncation. */
  CHECK_EQ_STR(fmt(-1, 0), "1969-12-31T23:59:59.999999999+00:00");
  CHECK_EQ_STR(fmt(-1000000, 1), "1969-12-31T23:59:59.999Z");
  CHECK_EQ_STR(fmt(-S, 0), "1969-12-31T23:59:59+00:00");
  CHECK_EQ_STR(fmt(-S - 500000000, 1), "1969-12-31T23:59:58.500Z");
  CHECK_EQ_STR(fmt(-INT64_C(14182940) * S, 1), "1969-07-20T20:17:40Z");
  CHECK_EQ_STR(fmt(-INT64_C(2208988800) * S, 0), "1900-01-01T00:00:00+00:00");

  /* The calendar: leap days, century rules. */
  CHECK_EQ_STR(fmt(INT64_C(1709164800) * S, 1), "2024-02-29T00:00:00Z");
  CHECK_EQ_STR(fmt(INT64_C(951868800) * S - S, 1), "2000-02-29T23:59:59Z");
  CHECK_EQ_STR(fmt(INT64_C(4107542400) * S - S, 1), "2100-02-28T23:59:59Z");

  /* The extremes of int64, and the length returned. */
  CHECK_EQ_STR(fmt(INT64_MAX, 0), "2262-04-11T23:47:16.854775807+00:00");
  CHECK_EQ_STR(fmt(INT64_MIN, 0), "1677-09-21T00:12:43.145224192+00:00");
  CHECK_EQ_INT(sl_time_format(INT64_MAX, 0, buf), 35);
  CHECK_EQ_INT(strlen(buf), 35);
  CHECK_EQ_INT(sl_time_format(0, 1, buf), 20);
}

static void test_parse(void) {
  const int64_t t = INT64_C(1764756000) * S;    /* 2025-12-03T10:00:00Z */
  int64_t out = 42;

  CHECK_EQ_INT(rfc("2025-12-03T10:00:00Z"), t);
  CHECK_EQ_INT(rfc("2025-12-03T10:00:00z"), t);
  CHECK_EQ_INT(rfc("2025-12-03t10:00:00Z"), t);
  CHECK_EQ_INT(rfc("2025-12-03 10:00:00Z"), t);
  CHECK_EQ_INT(rfc("2025-12-03T10:00:00+00:00"), t);
  CHECK_EQ_INT(rfc("2025-12-03T10:00:00-00:00"), t);
  CHECK_EQ_INT(rfc("2025-12-03T12:00:00+02:00"), t);
  CHECK_EQ_INT(rfc("2025-12-03T04:30:00-05:30"), t);
  CHECK_EQ_INT(rfc("2025-12-03T04:30:00\xE2\x88\x92" "05:30"), t);
  CHECK_EQ_INT(rfc("2025-12-04T09:59:00+23:59"), t);
  CHECK_EQ_INT(rfc("2025-12-02T10:01:00-23:59"), t);
  CHECK_EQ_INT(rfc("2025-12-03T10:00:00.5Z"), t + 500000000);
  CHECK_EQ_INT(rfc("2025-12-03T10:00:00.123456789Z"), t + 123456789);
  CHECK_EQ_INT(rfc("2025-12-03T10:00:00.1234567891234Z"), t + 123456789);
  CHECK_EQ_INT(rfc("2025-12-03T10:00:00.000000001+00:00"), t + 1);
  CHECK_EQ_INT(rfc("2024-02-29T00:00:00Z"), INT64_C(1709164800) * S);
  CHECK_EQ_INT(rfc("2000-02-29T00:00:00Z"), INT64_C(951782400) * S);
  CHECK_EQ_INT(rfc("1969-12-31T23:59:59.999999999Z"), -1);
  CHECK_EQ_INT(rfc("1677-09-21T00:12:43.145224192Z"), INT64_MIN);
  CHECK_EQ_INT(rfc("2262-04-11T23:47:16.854775807Z"), INT64_MAX);
  CHECK_EQ_INT(rfc("2262-04-11T23:47:16.854775807+00:00"), INT64_MAX);

  /* Rejected: calendar, clock, zone, shape, trailing text, range. */
  CHECK_EQ_INT(rfc_rc("2023-02-29T00:00:00Z"), SL_INVALID);
  CHECK_EQ_INT(rfc_rc("2100-02-29T00:00:00Z"), SL_INVALID);
  CHECK_EQ_INT(rfc_rc("2025-04-31T00:00:00Z"), SL_INVALID);
  CHECK_EQ_INT(rfc_rc("2025-13-01T00:00:00Z"), SL_INVALID);
  CHECK_EQ_INT(rfc_rc("2025-00-01T00:00:00Z"), SL_INVALID);
  CHECK_EQ_INT(rfc_rc("2025-01-00T00:00:00Z"), SL_INVALID);
  CHECK_EQ_INT(rfc_rc("2025-12-03T24:00:00Z"), SL_INVALID);
  CHECK_EQ_INT(rfc_rc("2025-12-03T10:60:00Z"), SL_INVALID);
  CHECK_EQ_INT(rfc_rc("2025-12-03T23:59:61Z"), SL_INVALID);
  CHECK_EQ_INT(rfc_rc("1600-01-01T00:00:00Z"), SL_INVALID);
  CHECK_EQ_INT(rfc_rc("2262-04-11T23:47:17Z"), SL_INVALID);
  /* A leap second, at any minute as chrono takes it: the instant of the
  ** second after second 59, written back as second 60. */
  {
    char buf[SL_TIME_BUFSZ];
    int64_t at = 0;
    int leap = 0;
    CHECK_EQ_INT(sl_time_parse_rfc3339_leap("2016-12-31T23:59:60.5Z", 22, &at,
                                            &leap), SL_OK);
    CHECK_EQ_INT(leap, 1);
    CHECK_EQ_INT(at, rfc("2017-01-01T00:00:00.5Z"));
    sl_time_format_leap(at, 1, buf);
    CHECK_EQ_STR(buf, "2016-12-31T23:59:60.500Z");
    CHECK_EQ_INT(sl_time_parse_rfc3339_leap("2025-12-03T10:15:60+01:00", 25,
                                            &at, &leap), SL_OK);
    CHECK_EQ_INT(leap, 1);
    sl_time_format_leap(at, 0, buf);
    CHECK_EQ_STR(buf, "2025-12-03T09:15:60+00:00");
    CHECK_EQ_INT(sl_time_parse_rfc3339_leap("2025-12-03T10:15:59Z", 20, &at,
                                            &leap), SL_OK);
    CHECK_EQ_INT(leap, 0);
  }
  CHECK_EQ_INT(rfc_rc("2025-12-03T10:00:00"), SL_INVALID);
  CHECK_EQ_INT(rfc_rc("2025-12-03T10:00:00+24:00"), SL_INVALID);
  CHECK_EQ_INT(rfc_rc("2025-12-03T10:00:00+01:60"), SL_INVALID);
  CHECK_EQ_INT(rfc_rc("2025-12-03T10:00:00+0100"), SL_INVALID);
  CHECK_EQ_INT(rfc_rc("2025-12-03T10:00:00+01"), SL_INVALID);
  CHECK_EQ_INT(rfc_rc("2025-12-03T10:00:00.Z"), SL_INVALID);
  CHECK_EQ_INT(rfc_rc("2025-12-03T10:00:00Z "), SL_INVALID);
  CHECK_EQ_INT(rfc_rc(" 2025-12-03T10:00:00Z"), SL_INVALID);
  CHECK_EQ_INT(rfc_rc("2025-12-03T10:00:00Zjunk"), SL_INVALID);
  CHECK_EQ_INT(rfc_rc("2025-12-03T10:00:00+00:00:00"), SL_INVALID);
  CHECK_EQ_INT(rfc_rc("2025-12-03_10:00:00Z"), SL_INVALID);
  CHECK_EQ_INT(rfc_rc("2025-12-3T10:00:00Z"), SL_INVALID);
  CHECK_EQ_INT(rfc_rc("2025-12-03T1:00:00Z"), SL_INVALID);
  CHECK_EQ_INT(rfc_rc("25-12-03T10:00:00Z"), SL_INVALID);
  CHECK_EQ_INT(rfc_rc("1677-09-21T00:12:43.145224191Z"), SL_INVALID);
  CHECK_EQ_INT(rfc_rc("2262-04-11T23:47:16.854775808Z"), SL_INVALID);
  CHECK_EQ_INT(rfc_rc("0000-01-01T00:00:00Z"), SL_INVALID);
  CHECK_EQ_INT(rfc_rc(""), SL_INVALID);

  /* Only s[0..len) is read, and a failure leaves the output alone. */
  CHECK_EQ_INT(sl_time_parse_rfc3339("2025-12-03T10:00:00Zjunk", 20, &out),
               SL_OK);
  CHECK_EQ_INT(out, t);
  out = 42;
  CHECK_EQ_INT(sl_time_parse_rfc3339("2025-12-03T10:00:00Z", 19, &out),
               SL_INVALID);
  CHECK_EQ_INT(out, 42);
}

static void test_round_trip(void) {
  static const int64_t samples[] = {
    0, 1, -1, 999, 1000, 1000000, -1000000, INT64_C(1733220900123456789),
    INT64_C(1764756000) * S, INT64_C(-2208988800) * S + 7, INT64_MAX,
    INT64_MIN, INT64_C(951782400) * S + 86399 * S + 999999999,
  };
  size_t i;
  int ok = 1, zulu_ok = 1, canonical = 1;
  for (i = 0; i < sizeof samples / sizeof samples[0]; i++) {
    char a[SL_TIME_BUFSZ], b[SL_TIME_BUFSZ];
    int64_t back = 0, back_z = 0;
    size_t n = sl_time_format(samples[i], 0, a);
    size_t nz = sl_time_format(samples[i], 1, b);
    if (sl_time_parse_rfc3339(a, n, &back) != SL_OK || back != samples[i])
      ok = 0;
    if (sl_time_parse_rfc3339(b, nz, &back_z) != SL_OK ||
        back_z != samples[i])
      zulu_ok = 0;
    if (n != nz + 5) canonical = 0;
  }
  CHECK(ok);
  CHECK(zulu_ok);
  CHECK(canonical);

  /* Every second of a leap year's Feb/Mar boundary and a sweep of days. */
  {
    int64_t t;
    int sweep_ok = 1;
    for (t = -INT64_C(40000) * 86400 * S; t < INT64_C(40000) * 86400 * S;
         t += INT64_C(86399) * S + 123457) {
      char a[SL_TIME_BUFSZ];
      int64_t back = 0;
      size_t n = sl_time_format(t, 0, a);
      if (sl_time_parse_rfc3339(a, n, &back) != SL_OK || back != t) {
        sweep_ok = 0;
        fprintf(stderr, "round trip failed at %" PRId64 ": %s\n", t, a);
        break;
      }
    }
    CHECK(sweep_ok);
  }
}

static void test_point(void) {
  const int64_t hour = 3600 * S;

  /* Spacedrive's relative form. */
  CHECK_EQ_INT(point("1 hour ago"), NOW - hour);
  CHECK_EQ_INT(point("2 hours ago"), NOW - 2 * hour);
  CHECK_EQ_INT(point("1 h ago"), NOW - hour);
  /* "weeK" with a KELVIN SIGN lowercases to "week", as in Rust. */
  CHECK_EQ_INT(point("1 wee\xE2\x84\xAA ago"), NOW - 7 * 24 * hour);
  CHECK_EQ_INT(dur("2 Wee\xE2\x84\xAA"), 14 * 24 * hour);
  CHECK_EQ_INT(point("30 s ago"), NOW - 30 * S);
  CHECK_EQ_INT(point("30 sec ago"), NOW - 30 * S);
  CHECK_EQ_INT(point("1 second ago"), NOW - S);
  CHECK_EQ_INT(point("5 m ago"), NOW - 300 * S);
  CHECK_EQ_INT(point("5 min ago"), NOW - 300 * S);
  CHECK_EQ_INT(point("5 minutes ago"), NOW - 300 * S);
  CHECK_EQ_INT(point("3 d ago"), NOW - 3 * 86400 * S);
  CHECK_EQ_INT(point("1 day ago"), NOW - 86400 * S);
  CHECK_EQ_INT(point("2 weeks ago"), NOW - 2 * 604800 * S);
  CHECK_EQ_INT(point("1 w ago"), NOW - 604800 * S);
  CHECK_EQ_INT(point("1 HOUR ago"), NOW - hour);
  CHECK_EQ_INT(point("1 Days ago"), NOW - 86400 * S);
  CHECK_EQ_INT(point("+1 hour ago"), NOW - hour);
  CHECK_EQ_INT(point("-1 hour ago"), NOW + hour);
  CHECK_EQ_INT(point("0 s ago"), NOW);
  CHECK_EQ_INT(point("  1 \t hour  ago"), NOW - hour);
  CHECK_EQ_INT(point("1\xC2\xA0hour ago"), NOW - hour);      /* NBSP */
  CHECK_EQ_INT(point("1\xE3\x80\x80hour ago"), NOW - hour);  /* U+3000 */

  /* RFC 3339 as chrono reads it. */
  CHECK_EQ_INT(point("2025-12-03T10:00:00Z"), INT64_C(1764756000) * S);
  CHECK_EQ_INT(point("2025-12-03 10:00:00+00:00"), INT64_C(1764756000) * S);
  CHECK_EQ_INT(point("2025-12-03T10:00:00+02:00"),
               INT64_C(1764756000) * S - 2 * hour);

  /* Ours. */
  CHECK_EQ_INT(point("2025-12-03 10:00:00"), INT64_C(1764756000) * S);
  CHECK_EQ_INT(point("2025-12-03T10:00:00"), INT64_C(1764756000) * S);
  CHECK_EQ_INT(point("2025-12-03T10:00:00.25"),
               INT64_C(1764756000) * S + 250000000);
  CHECK_EQ_INT(point("2025-12-03"), MIDNIGHT);
  CHECK_EQ_INT(point("1969-12-31"), -86400 * S);
  CHECK_EQ_INT(point("now"), NOW);
  CHECK_EQ_INT(point("today"), MIDNIGHT);
  CHECK_EQ_INT(point("yesterday"), MIDNIGHT - 86400 * S);
  CHECK_EQ_INT(point("2h"), NOW - 2 * hour);
  CHECK_EQ_INT(point("90m"), NOW - 90 * 60 * S);
  CHECK_EQ_INT(point("30s"), NOW - 30 * S);
  CHECK_EQ_INT(point("7d"), NOW - 7 * 86400 * S);
  CHECK_EQ_INT(point("1w"), NOW - 604800 * S);
  CHECK_EQ_INT(point("0s"), NOW);
  CHECK_EQ_INT(point("@1733220000"), INT64_C(1733220000) * S);
  CHECK_EQ_INT(point("@1733220000.5"), INT64_C(1733220000) * S + 500000000);
  CHECK_EQ_INT(point("@1733220000.123456789"),
               INT64_C(1733220000) * S + 123456789);
  CHECK_EQ_INT(point("@0"), 0);
  CHECK_EQ_INT(point("@-1.5"), -1500000000);
  CHECK_EQ_INT(point("@-9223372036.854775808"), INT64_MIN);
  CHECK_EQ_INT(point("@9223372036.854775807"), INT64_MAX);

  /* today/yesterday before 1970 still mean the UTC midnight before now. */
  {
    int64_t t = 0;
    CHECK_EQ_INT(sl_time_parse_point("today", -1, &t, NULL, 0), SL_OK);
    CHECK_EQ_INT(t, -86400 * S);
    CHECK_EQ_INT(sl_time_parse_point("yesterday", -1, &t, NULL, 0), SL_OK);
    CHECK_EQ_INT(t, -2 * 86400 * S);
  }
}

static void test_point_errors(void) {
  /* Spacedrive's messages, byte for byte, each with the hint. */
  CHECK_EQ_STR(point_err("x hour ago"), "Invalid number: x" HINT);
  CHECK_EQ_STR(point_err("1.5 hours ago"), "Invalid number: 1.5" HINT);
  CHECK_EQ_STR(point_err("+ hours ago"), "Invalid number: +" HINT);
  CHECK_EQ_STR(point_err("99999999999999999999 s ago"),
               "Invalid number: 99999999999999999999" HINT);
  CHECK_EQ_STR(point_err("1 hr ago"), "Unknown time unit: hr" HINT);
  CHECK_EQ_STR(point_err("1 HRS ago"), "Unknown time unit: hrs" HINT);
  CHECK_EQ_STR(point_err("2 Months ago"), "Unknown time unit: months" HINT);
  /* Lowercased as Rust's to_lowercase: Unicode's mappings, U+0130 as two
  ** characters, a word-final capital sigma as the final form. */
  CHECK_EQ_STR(point_err("1 \xC4\xB0 ago"),
               "Unknown time unit: i\xCC\x87" HINT);
  CHECK_EQ_STR(point_err("1 \xCE\x9F\xCE\x94\xCE\x9F\xCE\xA3 ago"),
               "Unknown time unit: \xCE\xBF\xCE\xB4\xCE\xBF\xCF\x82" HINT);
  CHECK_EQ_STR(point_err("1 \xCE\xA3\xCE\x9F ago"),
               "Unknown time unit: \xCF\x83\xCE\xBF" HINT);
  CHECK_EQ_STR(point_err("1 \xC3\x89T\xC3\x89 ago"),
               "Unknown time unit: \xC3\xA9t\xC3\xA9" HINT);
  CHECK_EQ_STR(point_err("1 h\xFF ago"), "Unknown time unit: h\xFF" HINT);
  CHECK_EQ_STR(point_err("1600-01-01T00:00:00Z"),
               "Out of range: 1600-01-01T00:00:00Z (synclua's times run from "
               "1677-09-21T00:12:44Z to 2262-04-11T23:47:16Z)");
  CHECK_EQ_STR(point_err("1hour ago"), "Invalid duration format: 1hour" HINT);
  CHECK_EQ_STR(point_err(" ago"), "Invalid duration format: " HINT);
  CHECK_EQ_STR(point_err("1 hour ago ago"),
               "Invalid duration format: 1 hour ago" HINT);
  CHECK_EQ_STR(point_err("about 1 hour ago"),
               "Invalid duration format: about 1 hour" HINT);
  CHECK_EQ_STR(point_err("2h ago"), "Invalid duration format: 2h" HINT);
  /* The number is checked before the unit, as Spacedrive does. */
  CHECK_EQ_STR(point_err("x hr ago"), "Invalid number: x" HINT);
  /* Numbers no instant can reach (Spacedrive would panic). */
  CHECK_EQ_STR(point_err("9223372036854775807 s ago"),
               "Invalid number: 9223372036854775807" HINT);
  CHECK_EQ_STR(point_err("-9223372036854775808 w ago"),
               "Invalid number: -9223372036854775808" HINT);
  CHECK_EQ_STR(point_err("99999999999h"),
               "Invalid number: 99999999999" HINT);
  CHECK_EQ_STR(point_err("99999999999999999999h"),
               "Invalid number: 99999999999999999999" HINT);
  CHECK_EQ_STR(point_err("@99999999999"), "Invalid number: 99999999999" HINT);
  CHECK_EQ_STR(point_err("@9223372036.854775808"),
               "Invalid number: 9223372036.854775808" HINT);

  /* Everything else is an invalid time format, echoing the input. */
  CHECK_EQ_STR(point_err("tomorrow"), "Invalid time format: tomorrow" HINT);
  CHECK_EQ_STR(point_err("ago"), "Invalid time format: ago" HINT);
  CHECK_EQ_STR(point_err("1 hour ago "), "Invalid time format: 1 hour ago "
               HINT);
  CHECK_EQ_STR(point_err("1 hour Ago"), "Invalid time format: 1 hour Ago"
               HINT);
  CHECK_EQ_STR(point_err(""), "Invalid time format: " HINT);
  CHECK_EQ_STR(point_err(" now"), "Invalid time format:  now" HINT);
  CHECK_EQ_STR(point_err("Now"), "Invalid time format: Now" HINT);
  CHECK_EQ_STR(point_err("today "), "Invalid time format: today " HINT);
  CHECK_EQ_STR(point_err("2H"), "Invalid time format: 2H" HINT);
  CHECK_EQ_STR(point_err("2y"), "Invalid time format: 2y" HINT);
  CHECK_EQ_STR(point_err("-2h"), "Invalid time format: -2h" HINT);
  CHECK_EQ_STR(point_err("h"), "Invalid time format: h" HINT);
  CHECK_EQ_STR(point_err("@"), "Invalid time format: @" HINT);
  CHECK_EQ_STR(point_err("@1."), "Invalid time format: @1." HINT);
  CHECK_EQ_STR(point_err("@1.1234567891"),
               "Invalid time format: @1.1234567891" HINT);
  CHECK_EQ_STR(point_err("@+1"), "Invalid time format: @+1" HINT);
  CHECK_EQ_STR(point_err("2023-02-29"), "Invalid time format: 2023-02-29"
               HINT);
  CHECK_EQ_STR(point_err("2025-12-03 "), "Invalid time format: 2025-12-03 "
               HINT);
  CHECK_EQ_STR(point_err("2025-12-03 10:00"),
               "Invalid time format: 2025-12-03 10:00" HINT);
  CHECK_EQ_STR(point_err("2025-12-03 10:00:00 "),
               "Invalid time format: 2025-12-03 10:00:00 " HINT);
  CHECK_EQ_STR(point_err("1500-01-01"), "Invalid time format: 1500-01-01"
               HINT);

  /* The message is truncated, never overrun; err may be absent. */
  {
    char small[24];
    int64_t t = 7;
    memset(small, 'x', sizeof small);
    CHECK_EQ_INT(sl_time_parse_point("5 HOURZ ago", NOW, &t, small,
                                     sizeof small), SL_INVALID);
    CHECK_EQ_STR(small, "Unknown time unit: hour");
    CHECK_EQ_INT(t, 7);
    CHECK_EQ_INT(sl_time_parse_point("tomorrow", NOW, &t, NULL, 0),
                 SL_INVALID);
    CHECK_EQ_INT(sl_time_parse_point(NULL, NOW, &t, NULL, 0), SL_MISUSE);
    CHECK_EQ_INT(sl_duration_parse(NULL, &t, NULL, 0), SL_MISUSE);
    CHECK_EQ_INT(sl_time_parse_rfc3339(NULL, 0, &t), SL_MISUSE);
    CHECK_EQ_INT(t, 7);
  }
}

static void test_duration(void) {
  CHECK_EQ_INT(dur("7 days"), 7 * 86400 * S);
  CHECK_EQ_INT(dur("1 hour"), 3600 * S);
  CHECK_EQ_INT(dur("30 s"), 30 * S);
  CHECK_EQ_INT(dur("2 Weeks"), 2 * 604800 * S);
  CHECK_EQ_INT(dur("15 min"), 900 * S);
  CHECK_EQ_INT(dur("90m"), 90 * 60 * S);
  CHECK_EQ_INT(dur("2h"), 7200 * S);
  CHECK_EQ_INT(dur("30s"), 30 * S);
  CHECK_EQ_INT(dur("7d"), 7 * 86400 * S);
  CHECK_EQ_INT(dur("1w"), 604800 * S);
  CHECK_EQ_INT(dur("0d"), 0);
  CHECK_EQ_INT(dur("0 seconds"), 0);

  CHECK_EQ_STR(dur_err("7"), "Invalid duration: 7" DHINT);
  CHECK_EQ_STR(dur_err("-7 days"), "Invalid duration: -7 days" DHINT);
  CHECK_EQ_STR(dur_err("+7 days"), "Invalid duration: +7 days" DHINT);
  CHECK_EQ_STR(dur_err("7 hr"), "Invalid duration: 7 hr" DHINT);
  CHECK_EQ_STR(dur_err("7  days"), "Invalid duration: 7  days" DHINT);
  CHECK_EQ_STR(dur_err(" 7 days"), "Invalid duration:  7 days" DHINT);
  CHECK_EQ_STR(dur_err("7 days ago"), "Invalid duration: 7 days ago" DHINT);
  CHECK_EQ_STR(dur_err("1.5h"), "Invalid duration: 1.5h" DHINT);
  CHECK_EQ_STR(dur_err("days"), "Invalid duration: days" DHINT);
  CHECK_EQ_STR(dur_err(""), "Invalid duration: " DHINT);
  CHECK_EQ_STR(dur_err("99999999999999999999s"),
               "Invalid duration: 99999999999999999999s" DHINT);
  CHECK_EQ_STR(dur_err("107000 days"), "Invalid duration: 107000 days"
               DHINT);
  CHECK_EQ_INT(dur("106751 days"), INT64_C(106751) * 86400 * S);
}

static void test_now(void) {
  int64_t a = sl_time_now(), b = sl_time_now();
  /* After 2024-01-01 and monotone enough for two calls in a row. */
  CHECK(a > INT64_C(1704067200) * S);
  CHECK(b >= a);
}

int main(void) {
  test_format();
  test_parse();
  test_round_trip();
  test_point();
  test_point_errors();
  test_duration();
  test_now();
  return check_report("time");
}
