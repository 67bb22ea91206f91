/*
** sl_time.c -- core layer: instants and their text. Owns the conversion
** between int64 nanoseconds since the epoch and RFC 3339 (parsing what
** chrono's parse_from_rfc3339 accepts, formatting as its to_rfc3339 and
** serde write), the `--since`/`--until` point grammar (Spacedrive's
** parse_time_filter plus our forms), and retention durations.
**
** Everything is UTC arithmetic on the proleptic Gregorian calendar done
** here (days_from_civil and its inverse), so no result depends on TZ, the
** locale or the C library's time functions. No state; the clock is the
** only thing read from the system.
*/
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sli.h"

#define NS        SL_NS_PER_SEC
#define SECS_DAY  INT64_C(86400)

/* Appended to every --since/--until error, so the user sees a form that
** works next to the one that did not. */
#define POINT_HINT \
  " (e.g. '1 hour ago', '2h', 'yesterday', '2025-12-03 10:00:00' or " \
  "'2025-12-03T10:00:00Z')"
#define DURATION_HINT " (e.g. '7 days', '1 hour', '90m' or '2h')"

/* ------------------------------------------------------------ arithmetic */

static int mul_ok(int64_t a, int64_t b, int64_t *out) {  /* b > 0 */
  if (a > INT64_MAX / b || a < INT64_MIN / b) return 0;
  *out = a * b;
  return 1;
}

static int add_ok(int64_t a, int64_t b, int64_t *out) {
  if ((b > 0 && a > INT64_MAX - b) || (b < 0 && a < INT64_MIN - b)) return 0;
  *out = a + b;
  return 1;
}

static int sub_ok(int64_t a, int64_t b, int64_t *out) {
  if ((b < 0 && a > INT64_MAX + b) || (b > 0 && a < INT64_MIN + b)) return 0;
  *out = a - b;
  return 1;
}

/* Floor division: C truncates toward zero, which would put instants before
** 1970 in the wrong second and the wrong day. */
static int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Howard Hinnant's days_from_civil: days since 1970-01-01 of a proleptic
** Gregorian date, valid for any year with the era shifted to March so that
** the leap day is the last day of its year. */
static int64_t days_from_civil(int64_t y, int m, int d) {
  int64_t era, yoe, doy, doe;
  y -= m <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = y - era * 400;
  doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d) {
  int64_t era, doe, yoe, doy, mp;
  z += 719468;
  era = (z >= 0 ? z : z - 146096) / 146097;
  doe = z - era * 146097;
  yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

static int days_in_month(int y, int m) {
  static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) return 29;
  return days[m - 1];
}

/* ------------------------------------------------------------- scanning */

/* Exactly n ASCII digits at *pos. */
static int scan_digits(const char *s, size_t len, size_t *pos, int n,
                       int *out) {
  int v = 0, i;
  if (len - *pos < (size_t)n) return 0;
  for (i = 0; i < n; i++) {
    char c = s[*pos + (size_t)i];
    if (c < '0' || c > '9') return 0;
    v = v * 10 + (c - '0');
  }
  *pos += (size_t)n;
  *out = v;
  return 1;
}

static int scan_char(const char *s, size_t len, size_t *pos, char c) {
  if (*pos >= len || s[*pos] != c) return 0;
  (*pos)++;
  return 1;
}

/* YYYY-MM-DD, checked against the calendar; days since the epoch. */
static int scan_date(const char *s, size_t len, size_t *pos, int64_t *days) {
  int y, m, d;
  if (!scan_digits(s, len, pos, 4, &y) || !scan_char(s, len, pos, '-') ||
      !scan_digits(s, len, pos, 2, &m) || !scan_char(s, len, pos, '-') ||
      !scan_digits(s, len, pos, 2, &d))
    return 0;
  if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) return 0;
  *days = days_from_civil(y, m, d);
  return 1;
}

/* HH:MM:SS[.frac]. chrono takes any number of fraction digits but keeps
** only the first 9, so we do too. Second 60 is a leap second, at any
** minute as chrono takes it: second 59 and a fraction past one second. */
static int scan_clock(const char *s, size_t len, size_t *pos, int64_t *secs,
                      int64_t *nano, int *leap) {
  int h, mi, sec, n = 0;
  int64_t frac = 0;
  if (!scan_digits(s, len, pos, 2, &h) || !scan_char(s, len, pos, ':') ||
      !scan_digits(s, len, pos, 2, &mi) || !scan_char(s, len, pos, ':') ||
      !scan_digits(s, len, pos, 2, &sec))
    return 0;
  if (h > 23 || mi > 59 || sec > 60) return 0;
  *leap = sec == 60;
  if (*leap) sec = 59;
  if (scan_char(s, len, pos, '.')) {
    while (*pos < len && s[*pos] >= '0' && s[*pos] <= '9') {
      if (n < 9) frac = frac * 10 + (s[*pos] - '0');
      n++;
      (*pos)++;
    }
    if (n == 0) return 0;
    for (; n < 9; n++) frac *= 10;
  }
  *secs = (int64_t)h * 3600 + mi * 60 + sec;
  *nano = frac + (*leap ? NS : 0);
  return 1;
}

/* 'Z', 'z' or a sign and HH:MM up to 23:59, in seconds east of UTC. The
** sign may be U+2212 MINUS SIGN, which chrono's RFC 3339 parser accepts. */
static int scan_offset(const char *s, size_t len, size_t *pos,
                       int64_t *offset) {
  int neg, h, m;
  if (*pos >= len) return 0;
  if (s[*pos] == 'Z' || s[*pos] == 'z') {
    (*pos)++;
    *offset = 0;
    return 1;
  }
  if (s[*pos] == '+' || s[*pos] == '-') {
    neg = s[*pos] == '-';
    (*pos)++;
  } else if (len - *pos >= 3 && memcmp(s + *pos, "\xE2\x88\x92", 3) == 0) {
    neg = 1;
    *pos += 3;
  } else {
    return 0;
  }
  if (!scan_digits(s, len, pos, 2, &h) || !scan_char(s, len, pos, ':') ||
      !scan_digits(s, len, pos, 2, &m))
    return 0;
  if (h > 23 || m > 59) return 0;
  *offset = (int64_t)(h * 3600 + m * 60) * (neg ? -1 : 1);
  return 1;
}

/* Seconds since the epoch fit easily for years 0000-9999; only the scaling
** to nanoseconds can leave int64 (before 1677-09-21, after 2262-04-11). */
static int make_instant(int64_t days, int64_t secs, int64_t nano,
                        int64_t offset, int64_t *out) {
  int64_t t = days * SECS_DAY + secs - offset;
  /* Near the lower end t * NS alone may not fit while the sum does. */
  if (t < 0 && nano > 0) {
    t++;
    nano -= NS;
  }
  return mul_ok(t, NS, &t) && add_ok(t, nano, out);
}

/* A date, a 'T', 't' or ' ', a clock, then a zone if zone_required or
** nothing if not; the whole of s[0..len) must be used. 1 when it is, 0
** when it is not, -1 when it is but its instant does not fit. */
static int parse_datetime(const char *s, size_t len, int zone_required,
                          int64_t *out, int *leap) {
  size_t pos = 0;
  int64_t days, secs, nano, offset = 0;
  if (!scan_date(s, len, &pos, &days)) return 0;
  if (pos >= len || (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' '))
    return 0;
  pos++;
  if (!scan_clock(s, len, &pos, &secs, &nano, leap)) return 0;
  if (zone_required && !scan_offset(s, len, &pos, &offset)) return 0;
  if (pos != len) return 0;
  return make_instant(days, secs, nano, offset, out) ? 1 : -1;
}

int sl_time_parse_rfc3339_leap(const char *s, size_t len, int64_t *instant,
                               int *leap) {
  int64_t t;
  int is_leap = 0;
  if (!s || !instant) return SL_MISUSE;
  if (parse_datetime(s, len, 1, &t, &is_leap) != 1) return SL_INVALID;
  *instant = t;
  if (leap) *leap = is_leap;
  return SL_OK;
}

int sl_time_parse_rfc3339(const char *s, size_t len, int64_t *instant) {
  return sl_time_parse_rfc3339_leap(s, len, instant, NULL);
}

/* ----------------------------------------------------------- formatting */

static char *put_digits(char *p, int64_t v, int width) {
  int i;
  for (i = width - 1; i >= 0; i--) {
    p[i] = (char)('0' + v % 10);
    v /= 10;
  }
  return p + width;
}

size_t sl_time_format(int64_t instant, int zulu, char *buf) {
  int64_t secs = floor_div(instant, NS);
  int64_t nano = instant % NS + (instant % NS < 0 ? NS : 0);
  int64_t days = floor_div(secs, SECS_DAY);
  int64_t sod = secs - days * SECS_DAY;
  int64_t y;
  int m, d;
  char *p = buf;

  if (!buf) return 0;
  /* int64 nanoseconds only reach years 1677-2262: always 4 digits. */
  civil_from_days(days, &y, &m, &d);
  p = put_digits(p, y, 4);
  *p++ = '-';
  p = put_digits(p, m, 2);
  *p++ = '-';
  p = put_digits(p, d, 2);
  *p++ = 'T';
  p = put_digits(p, sod / 3600, 2);
  *p++ = ':';
  p = put_digits(p, sod / 60 % 60, 2);
  *p++ = ':';
  p = put_digits(p, sod % 60, 2);
  /* chrono's AutoSi: the shortest of 0, 3, 6 or 9 digits that is exact. */
  if (nano != 0) {
    *p++ = '.';
    if (nano % 1000000 == 0)
      p = put_digits(p, nano / 1000000, 3);
    else if (nano % 1000 == 0)
      p = put_digits(p, nano / 1000, 6);
    else
      p = put_digits(p, nano, 9);
  }
  if (zulu) {
    *p++ = 'Z';
  } else {
    memcpy(p, "+00:00", 6);
    p += 6;
  }
  *p = '\0';
  return (size_t)(p - buf);
}

size_t sl_time_format_leap(int64_t instant, int zulu, char *buf) {
  size_t n = sl_time_format(instant - NS, zulu, buf);
  if (buf) memcpy(buf + 17, "60", 2); /* second 59 of "YYYY-MM-DDTHH:MM:" */
  return n;
}

int64_t sl_time_now(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_REALTIME, &ts) != 0) return (int64_t)time(NULL) * NS;
  return (int64_t)ts.tv_sec * NS + ts.tv_nsec;
}

int64_t sli_mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------- point grammar */

static int fail(char *err, size_t errsz, const char *what, const char *text,
                size_t n, const char *hint) {
  if (err && errsz > 0)
    snprintf(err, errsz, "%s%.*s%s", what, n > 0x7fffffff ? 0x7fffffff : (int)n,
             text, hint);
  return SL_INVALID;
}

/* Bytes of the whitespace character at s[i] (0 if none), as Rust's
** char::is_whitespace, since split_whitespace is what Spacedrive tokenises
** with: ASCII \t \n \v \f \r and space, then U+0085, U+00A0, U+1680,
** U+2000-200A, U+2028, U+2029, U+202F, U+205F and U+3000 in UTF-8. */
static size_t space_at(const char *s, size_t len, size_t i) {
  const unsigned char *u = (const unsigned char *)s + i;
  size_t left = len - i;
  if (u[0] == ' ' || (u[0] >= '\t' && u[0] <= '\r')) return 1;
  if (left >= 2 && u[0] == 0xC2 && (u[1] == 0x85 || u[1] == 0xA0)) return 2;
  if (left < 3) return 0;
  if (u[0] == 0xE1 && u[1] == 0x9A && u[2] == 0x80) return 3;
  if (u[0] == 0xE2 && u[1] == 0x80 &&
      (u[2] <= 0x8A ? u[2] >= 0x80
                    : u[2] == 0xA8 || u[2] == 0xA9 || u[2] == 0xAF))
    return 3;
  if (u[0] == 0xE2 && u[1] == 0x81 && u[2] == 0x9F) return 3;
  if (u[0] == 0xE3 && u[1] == 0x80 && u[2] == 0x80) return 3;
  return 0;
}

typedef struct unit {
  const char *name;           /* lowercase, as Spacedrive matches it        */
  int64_t     seconds;        /* its length                                 */
} unit;

static const unit units[] = {
  {"second", 1}, {"seconds", 1}, {"sec", 1}, {"s", 1},
  {"minute", 60}, {"minutes", 60}, {"min", 60}, {"m", 60},
  {"hour", 3600}, {"hours", 3600}, {"h", 3600},
  {"day", 86400}, {"days", 86400}, {"d", 86400},
  {"week", 604800}, {"weeks", 604800}, {"w", 604800},
};

/* Seconds per unit of a name, matched once lowercased as Rust lowercases
** (Unicode's rules: "weeK" with a KELVIN SIGN is "week"), or 0; the name
** lowercased into *lowered when not NULL (the caller frees it). -1 when
** memory ran out. */
static int64_t unit_seconds(const char *s, size_t n, sl_buf *lowered) {
  sl_buf name = {0};
  int64_t per = 0;
  sli_lowercase(&name, s, n);
  if (name.oom) {
    sl_buf_free(&name);
    return -1;
  }
  for (size_t i = 0; i < sizeof units / sizeof units[0] && name.len; i++)
    if (strlen(units[i].name) == name.len &&
        memcmp(units[i].name, name.data, name.len) == 0)
      per = units[i].seconds;
  if (lowered) *lowered = name;
  else sl_buf_free(&name);
  return per;
}

/* One or more ASCII digits as a non-negative int64. */
static int parse_digits(const char *s, size_t n, int64_t *out) {
  int64_t v = 0;
  size_t i;
  if (n == 0) return 0;
  for (i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return 0;
    if (!mul_ok(v, 10, &v) || !add_ok(v, s[i] - '0', &v)) return 0;
  }
  *out = v;
  return 1;
}

/* Rust's i64::from_str: an optional '+' or '-', then digits, in range.
** Accumulating negatively lets -9223372036854775808 through. */
static int parse_i64(const char *s, size_t n, int64_t *out) {
  int neg = 0;
  int64_t v = 0;
  size_t i = 0;
  if (n > 0 && (s[0] == '+' || s[0] == '-')) neg = s[i++] == '-';
  if (i == n) return 0;
  for (; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return 0;
    if (!mul_ok(v, 10, &v) || !add_ok(v, -(s[i] - '0'), &v)) return 0;
  }
  if (!neg) {
    if (v == INT64_MIN) return 0;
    v = -v;
  }
  *out = v;
  return 1;
}

/* n units of `per` seconds before now. */
static int ago(int64_t now, int64_t n, int64_t per, int64_t *out) {
  int64_t ns;
  return mul_ok(n, per, &n) && mul_ok(n, NS, &ns) && sub_ok(now, ns, out);
}

/* Spacedrive's "<n> <unit> ago", text being what precedes " ago": exactly
** its checks in its order, so its messages come out for its inputs. */
static int parse_ago(const char *text, size_t len, int64_t now,
                     int64_t *instant, char *err, size_t errsz) {
  size_t tok[2], tlen[2], i = 0, k, count = 0;
  int64_t value, per;
  while (i < len) {
    if ((k = space_at(text, len, i)) != 0) {
      i += k;
      continue;
    }
    if (count < 2) tok[count] = i;
    while (i < len && space_at(text, len, i) == 0) i++;
    if (count < 2) tlen[count] = i - tok[count];
    count++;
  }
  if (count != 2)
    return fail(err, errsz, "Invalid duration format: ", text, len,
                POINT_HINT);
  if (!parse_i64(text + tok[0], tlen[0], &value))
    return fail(err, errsz, "Invalid number: ", text + tok[0], tlen[0],
                POINT_HINT);
  /* Spacedrive echoes the unit lowercased, as it matched it. */
  sl_buf name = {0};
  per = unit_seconds(text + tok[1], tlen[1], &name);
  if (per < 0) return fail(err, errsz, "out of memory", "", 0, "");
  if (per == 0) {
    fail(err, errsz, "Unknown time unit: ", name.data ? name.data : "",
         name.len, POINT_HINT);
    sl_buf_free(&name);
    return SL_INVALID;
  }
  sl_buf_free(&name);
  /* Spacedrive would panic here; a number no instant can reach is simply
  ** an invalid number. */
  if (!ago(now, value, per, instant))
    return fail(err, errsz, "Invalid number: ", text + tok[0], tlen[0],
                POINT_HINT);
  return SL_OK;
}

/* "2h", "90m", "30s", "7d", "1w": digits then one lowercase unit letter.
** 0 if s is not of that shape, 1 if it is and *n and *per are set, -1 if
** the number overflows. */
static int compact(const char *s, size_t len, int64_t *n, int64_t *per) {
  size_t i;
  if (len < 2) return 0;
  for (i = 0; i + 1 < len; i++)
    if (s[i] < '0' || s[i] > '9') return 0;
  switch (s[len - 1]) {
    case 's': *per = 1; break;
    case 'm': *per = 60; break;
    case 'h': *per = 3600; break;
    case 'd': *per = 86400; break;
    case 'w': *per = 604800; break;
    default: return 0;
  }
  return parse_digits(s, len - 1, n) ? 1 : -1;
}

/* "@<seconds>[.<1-9 digits>]", the sign (if '-') applying to the whole.
** 0 if not of that shape, 1 if parsed, -1 if out of range. */
static int epoch(const char *s, size_t len, int64_t *out) {
  size_t i = 1, int_start, int_len, frac_len = 0;
  int64_t secs, frac = 0, t;
  int neg = 0;
  if (len < 2 || s[0] != '@') return 0;
  if (s[i] == '-') {
    neg = 1;
    i++;
  }
  int_start = i;
  while (i < len && s[i] >= '0' && s[i] <= '9') i++;
  int_len = i - int_start;
  if (int_len == 0) return 0;
  if (i < len) {
    if (s[i++] != '.') return 0;
    for (; i < len && frac_len < 10; i++, frac_len++) {
      if (s[i] < '0' || s[i] > '9') return 0;
      frac = frac * 10 + (s[i] - '0');
    }
    if (frac_len == 0 || frac_len > 9 || i != len) return 0;
    for (; frac_len < 9; frac_len++) frac *= 10;
  }
  if (!parse_digits(s + int_start, int_len, &secs)) return -1;
  /* Build negative values downward so that INT64_MIN itself is reachable. */
  if (neg) {
    if (!mul_ok(-secs, NS, &t) || !add_ok(t, -frac, &t)) return -1;
  } else {
    if (!mul_ok(secs, NS, &t) || !add_ok(t, frac, &t)) return -1;
  }
  *out = t;
  return 1;
}

static int midnight(int64_t now, int64_t days_back, int64_t *out) {
  int64_t day = floor_div(now, SL_NS_PER_DAY) - days_back;
  return mul_ok(day, SL_NS_PER_DAY, out);
}

int sl_time_parse_point(const char *s, int64_t now, int64_t *instant,
                        char *err, size_t errsz) {
  size_t len, pos = 0;
  int64_t t, n, per, days;
  int r, leap;

  if (!s || !instant) {
    if (err && errsz > 0) snprintf(err, errsz, "no time given");
    return SL_MISUSE;
  }
  len = strlen(s);

  /* Spacedrive decides on the suffix alone, before trying anything else. */
  if (len >= 4 && memcmp(s + len - 4, " ago", 4) == 0)
    return parse_ago(s, len - 4, now, instant, err, errsz);

  r = parse_datetime(s, len, 1, &t, &leap);
  if (r == 0) r = parse_datetime(s, len, 0, &t, &leap);
  if (r > 0) {
    *instant = t;
    return SL_OK;
  }
  /* chrono takes years 0000-9999; an int64 of nanoseconds does not. */
  if (r < 0)
    return fail(err, errsz, "Out of range: ", s, len,
                " (synclua's times run from 1677-09-21T00:12:44Z to "
                "2262-04-11T23:47:16Z)");
  if (strcmp(s, "now") == 0) {
    *instant = now;
    return SL_OK;
  }
  if (strcmp(s, "today") == 0 || strcmp(s, "yesterday") == 0) {
    if (!midnight(now, s[0] == 'y', instant))
      return fail(err, errsz, "Invalid time format: ", s, len, POINT_HINT);
    return SL_OK;
  }
  if ((r = compact(s, len, &n, &per)) != 0) {
    if (r < 0 || !ago(now, n, per, instant))
      return fail(err, errsz, "Invalid number: ", s, len - 1, POINT_HINT);
    return SL_OK;
  }
  if ((r = epoch(s, len, &t)) != 0) {
    if (r < 0)
      return fail(err, errsz, "Invalid number: ", s + 1, len - 1, POINT_HINT);
    *instant = t;
    return SL_OK;
  }
  if (len == 10 && scan_date(s, len, &pos, &days) &&
      make_instant(days, 0, 0, 0, &t)) {
    *instant = t;
    return SL_OK;
  }
  return fail(err, errsz, "Invalid time format: ", s, len, POINT_HINT);
}

/* -------------------------------------------------------------- durations */

int sl_duration_parse(const char *s, int64_t *ns, char *err, size_t errsz) {
  size_t len, sp;
  int64_t n, per, t;
  int r;

  if (!s || !ns) {
    if (err && errsz > 0) snprintf(err, errsz, "no duration given");
    return SL_MISUSE;
  }
  len = strlen(s);
  if ((r = compact(s, len, &n, &per)) != 0) {
    if (r > 0 && mul_ok(n, per, &t) && mul_ok(t, NS, ns)) return SL_OK;
    return fail(err, errsz, "Invalid duration: ", s, len, DURATION_HINT);
  }
  /* "<digits> <unit>" with a single space: the number and a unit of the
  ** --since table, matched as Spacedrive matches it (lowercased). */
  for (sp = 0; sp < len && s[sp] >= '0' && s[sp] <= '9'; sp++)
    ;
  if (sp > 0 && sp < len && s[sp] == ' ' &&
      (per = unit_seconds(s + sp + 1, len - sp - 1, NULL)) > 0 &&
      parse_digits(s, sp, &n) && mul_ok(n, per, &t) && mul_ok(t, NS, ns))
    return SL_OK;
  return fail(err, errsz, "Invalid duration: ", s, len, DURATION_HINT);
}
