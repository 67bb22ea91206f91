/*
** sl_json.c -- core layer: JSON text, read strictly and written byte for
** byte as serde_json writes it.
**
** Owns the parsed tree (one malloc per node, so a tree built by hand the same
** way frees the same way) and the serde rules the exports depend on: how
** serde_json 1.0.145 reads a number (its inexact decimal path included),
** string escaping, itoa's integers and ryu's floats, and to_string_pretty's
** indentation. Every JSON writer of the project writes numbers through the
** functions here.
** What it writes is always valid UTF-8: an ill-formed byte sequence in a
** string handed to it becomes U+FFFD, as Rust's from_utf8_lossy reads it.
** Number text is never handed to the C library with a decimal point in it, so
** neither parsing nor printing depends on the locale a host may have set.
*/
#include "sli.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* serde_json refuses the 128th nested array/object: deeper text from us
** would be unreadable to Spacedrive, and it bounds our recursion. */
#define MAX_NEST 127

/* ------------------------------------------------------------- parsing */

typedef struct slot {
  char       *key;            /* object member's key, NULL in an array      */
  size_t      keylen;
  sl_json    *item;
} slot;

typedef struct parser {
  const char *start;          /* the whole text, for line/column            */
  const char *p;              /* next byte                                  */
  const char *end;            /* one past the last byte                     */
  int         depth;          /* open arrays and objects                    */
  int         status;         /* SL_OK until the first failure              */
  int         serde;          /* numbers read as serde_json reads them      */
  char       *err;            /* caller's message buffer                    */
  size_t      errsz;
  slot       *stk;            /* members of the open containers             */
  size_t      top, cap;       /* slots used, slots allocated                */
  slot        local[32];      /* stk until a document needs more            */
} parser;

/* Record the first failure as "<reason> at line L column C". Columns count
** characters, not bytes, so they match what an editor shows. Returns NULL
** for the convenience of callers that return a node. */
static void *fail(parser *ps, const char *at, const char *reason) {
  unsigned long line = 1, col = 1;
  const char *q;
  if (ps->status != SL_OK) return NULL;
  ps->status = SL_INVALID;
  if (!ps->err || ps->errsz == 0) return NULL;
  for (q = ps->start; q < at; q++) {
    if (*q == '\n') { line++; col = 1; }
    else if (((unsigned char)*q & 0xC0) != 0x80) col++;
  }
  snprintf(ps->err, ps->errsz, "%s at line %lu column %lu", reason, line,
           col);
  return NULL;
}

static void *nomem(parser *ps) {
  if (ps->status != SL_OK) return NULL;
  ps->status = SL_NOMEM;
  if (ps->err && ps->errsz) snprintf(ps->err, ps->errsz, "out of memory");
  return NULL;
}

/* Decode one UTF-8 sequence at s (strict: no overlongs, no surrogates,
** nothing past U+10FFFF). Returns its length, or 0 if it is malformed. */
static size_t utf8_decode(const unsigned char *s, const unsigned char *end,
                          uint32_t *cp) {
  unsigned c = s[0], lo = 0x80, hi = 0xBF;
  size_t n, i;
  uint32_t v;
  if (c < 0x80) { *cp = c; return 1; }
  if (c >= 0xC2 && c <= 0xDF) { n = 2; v = c & 0x1F; }
  else if (c >= 0xE0 && c <= 0xEF) {
    n = 3; v = c & 0x0F;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4; v = c & 0x07;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if ((size_t)(end - s) < n) return 0;
  for (i = 1; i < n; i++) {
    unsigned t = s[i];
    if (t < lo || t > hi) return 0;
    lo = 0x80; hi = 0xBF;
    v = (v << 6) | (t & 0x3F);
  }
  *cp = v;
  return n;
}

/* Name the character at `at` for a message: 'x' when printable ASCII,
** U+XXXX otherwise, or the raw byte when it is not UTF-8. */
static void describe(const parser *ps, const char *at, char *out,
                     size_t outsz) {
  unsigned char c = (unsigned char)*at;
  uint32_t cp;
  if (c >= 0x20 && c < 0x7F) snprintf(out, outsz, "character '%c'", c);
  else if (utf8_decode((const unsigned char *)at,
                       (const unsigned char *)ps->end, &cp))
    snprintf(out, outsz, "character U+%04" PRIX32, cp);
  else snprintf(out, outsz, "byte 0x%02x", c);
}

static void *unexpected(parser *ps, const char *at) {
  char what[32], reason[64];
  if (at >= ps->end) return fail(ps, at, "unexpected end of input");
  describe(ps, at, what, sizeof what);
  snprintf(reason, sizeof reason, "unexpected %s", what);
  return fail(ps, at, reason);
}

static void skip_ws(parser *ps) {
  const char *p = ps->p, *end = ps->end;
  while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
    p++;
  ps->p = p;
}

static sl_json *new_node(parser *ps, sl_json_kind kind) {
  sl_json *v = calloc(1, sizeof *v);
  if (!v) return nomem(ps);
  v->kind = kind;
  return v;
}

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* The four hex digits after "\u" at q (q points at the backslash); -1 if
** they are not all there. The closing quote is not a hex digit, so reading
** up to `end` (the quote) is enough of a bound. */
static long hex4(const char *q, const char *end) {
  long v = 0;
  int i;
  if (end - q < 6) return -1;
  for (i = 2; i < 6; i++) {
    int h = hexval((unsigned char)q[i]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

static char *put_utf8(char *o, uint32_t cp) {
  if (cp < 0x80) { *o++ = (char)cp; }
  else if (cp < 0x800) {
    *o++ = (char)(0xC0 | (cp >> 6));
    *o++ = (char)(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *o++ = (char)(0xE0 | (cp >> 12));
    *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
    *o++ = (char)(0x80 | (cp & 0x3F));
  } else {
    *o++ = (char)(0xF0 | (cp >> 18));
    *o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
    *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
    *o++ = (char)(0x80 | (cp & 0x3F));
  }
  return o;
}

/* See sli.h. */
int sli_json_unescape(const char *s, const char *q, char *out,
                      size_t *outlen, const char **at, long *cp_out) {
  const char *r = s;
  char *o = out;
  while (r < q) {
    unsigned char c = (unsigned char)*r;
    if (c >= 0x80) {
      uint32_t cp;
      size_t n = utf8_decode((const unsigned char *)r,
                             (const unsigned char *)q, &cp);
      if (!n) { *at = r; return SLI_JSTR_UTF8; }
      memcpy(o, r, n);
      o += n;
      r += n;
    } else if (c != '\\') {
      *o++ = (char)c;
      r++;
    } else {
      switch (r[1]) {
      case '"': *o++ = '"'; break;
      case '\\': *o++ = '\\'; break;
      case '/': *o++ = '/'; break;
      case 'b': *o++ = '\b'; break;
      case 'f': *o++ = '\f'; break;
      case 'n': *o++ = '\n'; break;
      case 'r': *o++ = '\r'; break;
      case 't': *o++ = '\t'; break;
      case 'u': {
        long cp = hex4(r, q);
        *at = r;
        *cp_out = cp;
        if (cp < 0) return SLI_JSTR_U_ESCAPE;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          long lo = (r + 7 < q && r[6] == '\\' && r[7] == 'u')
                    ? hex4(r + 6, q) : -1;
          if (lo < 0xDC00 || lo > 0xDFFF) return SLI_JSTR_SURROGATE;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          r += 6;
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          return SLI_JSTR_SURROGATE;
        }
        o = put_utf8(o, (uint32_t)cp);
        r += 4;
        break;
      }
      default:
        *at = r;
        return SLI_JSTR_ESCAPE;
      }
      r += 2;
    }
  }
  *outlen = (size_t)(o - out);
  return SLI_JSTR_OK;
}

/* Does any of the 8 bytes in w need escaping (< 0x20, '"' or '\\')? The
** classic has-zero-byte tests: never a miss, and a false alarm only costs
** a look at each byte. */
static int word_needs_escape(uint64_t w) {
  const uint64_t ones = UINT64_C(0x0101010101010101);
  const uint64_t highs = UINT64_C(0x8080808080808080);
  uint64_t q = w ^ (ones * '"'), bs = w ^ (ones * '\\');
  return (((w - ones * 0x20) & ~w) | ((q - ones) & ~q) |
          ((bs - ones) & ~bs)) & highs ? 1 : 0;
}

/*
** A string starting at the opening quote ps->p, into a fresh NUL-terminated
** allocation (*out, *outlen). Two passes: the first finds the closing quote
** so the allocation can be sized once (decoding never lengthens: every
** escape is at least as long as what it stands for), and copies a string
** without escapes or non-ASCII in one memcpy; the second decodes.
*/
static int parse_string(parser *ps, char **out, size_t *outlen) {
  const char *open = ps->p, *s = open + 1, *q = s, *end = ps->end;
  char *buf, *o;
  int plain = 1;
  char reason[96], what[32];

  while (q < end) {
    unsigned char c;
    if (end - q >= 8) {
      /* Plain ASCII needs no look: skip it a word at a time. */
      uint64_t w;
      memcpy(&w, q, 8);
      if (!word_needs_escape(w) && !(w & UINT64_C(0x8080808080808080))) {
        q += 8;
        continue;
      }
    }
    c = (unsigned char)*q;
    if (c == '"') break;
    if (c == '\\') {
      plain = 0;
      if (end - q < 2) { q = end; break; }
      q += 2;
      continue;
    }
    if (c < 0x20) {
      describe(ps, q, what, sizeof what);
      snprintf(reason, sizeof reason, "unescaped control %s in string",
               what);
      fail(ps, q, reason);
      return 0;
    }
    if (c >= 0x80) plain = 0;
    q++;
  }
  if (q >= end) { fail(ps, open, "unterminated string"); return 0; }

  buf = malloc((size_t)(q - s) + 1);
  if (!buf) { nomem(ps); return 0; }
  if (plain) {
    memcpy(buf, s, (size_t)(q - s));
    o = buf + (q - s);
  } else {
    const char *at = s;
    long cp = 0;
    size_t n = 0;
    switch (sli_json_unescape(s, q, buf, &n, &at, &cp)) {
    case SLI_JSTR_OK:
      break;
    case SLI_JSTR_UTF8:
      fail(ps, at, "invalid UTF-8 in string");
      goto bad;
    case SLI_JSTR_U_ESCAPE:
      fail(ps, at, "invalid \\u escape");
      goto bad;
    case SLI_JSTR_SURROGATE:
      snprintf(reason, sizeof reason,
               "unpaired surrogate \\u%04lX in string", cp);
      fail(ps, at, reason);
      goto bad;
    default:
      describe(ps, at + 1, what, sizeof what);
      snprintf(reason, sizeof reason, "invalid escape of %s in string",
               what);
      fail(ps, at, reason);
      goto bad;
    }
    o = buf + n;
  }
  *o = '\0';
  *out = buf;
  *outlen = (size_t)(o - buf);
  ps->p = q + 1;
  return 1;
bad:
  free(buf);
  return 0;
}

/* ------------------------------------------------------------- numbers */

/*
** A number's text is typed as serde_json's parse_integer/parse_number
** (de.rs) type it: an integer up to UINT64_MAX stays one (SL_JSON_INTEGER
** when it fits int64, else SL_JSON_UNSIGNED), except a negative one below
** INT64_MIN and "-0", which become the float -(magnitude). Everything
** else is a float, read in one of two ways:
**   exact   the nearest double (Clinger's fast path, else strtod), which
**           is what serde_json gives with float_roundtrip and what a
**           value written by the writer below reads back to;
**   serde   serde_json 1.0.145's default (de.rs without float_roundtrip),
**           what Spacedrive's code reads: not correctly rounded.
*/

/* A number's text, split where the syntax check found its parts. */
typedef struct numtext {
  int         neg;            /* a leading '-'                              */
  const char *int_start;      /* integer digits: "0" or no leading zero     */
  const char *int_end;
  const char *frac_start;     /* digits after the '.', NULL without one     */
  const char *frac_end;
  const char *exp_start;      /* exponent digits, NULL without an 'e'       */
  const char *exp_end;
  int         exp_neg;        /* the exponent's sign was '-'                */
} numtext;

/* Split the number at p. Returns one past its last byte, or NULL with *at
** the offending byte and *leading_zero set when that is the fault (else
** the byte at *at was unexpected there: a missing digit). */
static const char *scan_number(const char *p, const char *end, numtext *t,
                               const char **at, int *leading_zero) {
  memset(t, 0, sizeof *t);
  *leading_zero = 0;
  if (p < end && *p == '-') { t->neg = 1; p++; }
  if (p >= end || *p < '0' || *p > '9') { *at = p; return NULL; }
  t->int_start = p;
  if (*p == '0') {
    p++;
    if (p < end && *p >= '0' && *p <= '9') {
      *at = t->int_start - t->neg;
      *leading_zero = 1;
      return NULL;
    }
  } else {
    while (p < end && *p >= '0' && *p <= '9') p++;
  }
  t->int_end = p;
  if (p < end && *p == '.') {
    t->frac_start = ++p;
    while (p < end && *p >= '0' && *p <= '9') p++;
    if (p == t->frac_start) { *at = p; return NULL; }
    t->frac_end = p;
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    p++;
    if (p < end && (*p == '+' || *p == '-')) t->exp_neg = *p++ == '-';
    t->exp_start = p;
    while (p < end && *p >= '0' && *p <= '9') p++;
    if (p == t->exp_start) { *at = p; return NULL; }
    t->exp_end = p;
  }
  return p;
}

/* serde's parse_number for an integer whose magnitude fits a u64: U64
** when positive; when negative I64 if it fits, else (and for "-0") the
** float -(magnitude as f64). */
static void integer_value(int neg, uint64_t mag, sl_json *v) {
  if (!neg && mag <= (uint64_t)INT64_MAX) {
    v->kind = SL_JSON_INTEGER;
    v->integer = (int64_t)mag;
  } else if (!neg) {
    v->kind = SL_JSON_UNSIGNED;
    v->uinteger = mag;
  } else if (mag != 0 && mag <= (uint64_t)INT64_MAX + 1) {
    v->kind = SL_JSON_INTEGER;
    v->integer = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
  } else {
    v->kind = SL_JSON_FLOAT;
    v->number = -(double)mag;
  }
}

/* serde's overflow!(s * 10 + d, UINT64_MAX). */
#define U64_OVERFLOWS(s, d) \
  ((s) >= UINT64_MAX / 10 && ((s) > UINT64_MAX / 10 || (d) > UINT64_MAX % 10))

/* serde_json 1.0.145's POW10 (de.rs): 10^0 to 10^308, each the nearest
** double, as the compiler reads the literals. */
static const double pow10_table[309] = {
  1e000, 1e001, 1e002, 1e003, 1e004, 1e005, 1e006, 1e007, 1e008, 1e009,
  1e010, 1e011, 1e012, 1e013, 1e014, 1e015, 1e016, 1e017, 1e018, 1e019,
  1e020, 1e021, 1e022, 1e023, 1e024, 1e025, 1e026, 1e027, 1e028, 1e029,
  1e030, 1e031, 1e032, 1e033, 1e034, 1e035, 1e036, 1e037, 1e038, 1e039,
  1e040, 1e041, 1e042, 1e043, 1e044, 1e045, 1e046, 1e047, 1e048, 1e049,
  1e050, 1e051, 1e052, 1e053, 1e054, 1e055, 1e056, 1e057, 1e058, 1e059,
  1e060, 1e061, 1e062, 1e063, 1e064, 1e065, 1e066, 1e067, 1e068, 1e069,
  1e070, 1e071, 1e072, 1e073, 1e074, 1e075, 1e076, 1e077, 1e078, 1e079,
  1e080, 1e081, 1e082, 1e083, 1e084, 1e085, 1e086, 1e087, 1e088, 1e089,
  1e090, 1e091, 1e092, 1e093, 1e094, 1e095, 1e096, 1e097, 1e098, 1e099,
  1e100, 1e101, 1e102, 1e103, 1e104, 1e105, 1e106, 1e107, 1e108, 1e109,
  1e110, 1e111, 1e112, 1e113, 1e114, 1e115, 1e116, 1e117, 1e118, 1e119,
  1e120, 1e121, 1e122, 1e123, 1e124, 1e125, 1e126, 1e127, 1e128, 1e129,
  1e130, 1e131, 1e132, 1e133, 1e134, 1e135, 1e136, 1e137, 1e138, 1e139,
  1e140, 1e141, 1e142, 1e143, 1e144, 1e145, 1e146, 1e147, 1e148, 1e149,
  1e150, 1e151, 1e152, 1e153, 1e154, 1e155, 1e156, 1e157, 1e158, 1e159,
  1e160, 1e161, 1e162, 1e163, 1e164, 1e165, 1e166, 1e167, 1e168, 1e169,
  1e170, 1e171, 1e172, 1e173, 1e174, 1e175, 1e176, 1e177, 1e178, 1e179,
  1e180, 1e181, 1e182, 1e183, 1e184, 1e185, 1e186, 1e187, 1e188, 1e189,
  1e190, 1e191, 1e192, 1e193, 1e194, 1e195, 1e196, 1e197, 1e198, 1e199,
  1e200, 1e201, 1e202, 1e203, 1e204, 1e205, 1e206, 1e207, 1e208, 1e209,
  1e210, 1e211, 1e212, 1e213, 1e214, 1e215, 1e216, 1e217, 1e218, 1e219,
  1e220, 1e221, 1e222, 1e223, 1e224, 1e225, 1e226, 1e227, 1e228, 1e229,
  1e230, 1e231, 1e232, 1e233, 1e234, 1e235, 1e236, 1e237, 1e238, 1e239,
  1e240, 1e241, 1e242, 1e243, 1e244, 1e245, 1e246, 1e247, 1e248, 1e249,
  1e250, 1e251, 1e252, 1e253, 1e254, 1e255, 1e256, 1e257, 1e258, 1e259,
  1e260, 1e261, 1e262, 1e263, 1e264, 1e265, 1e266, 1e267, 1e268, 1e269,
  1e270, 1e271, 1e272, 1e273, 1e274, 1e275, 1e276, 1e277, 1e278, 1e279,
  1e280, 1e281, 1e282, 1e283, 1e284, 1e285, 1e286, 1e287, 1e288, 1e289,
  1e290, 1e291, 1e292, 1e293, 1e294, 1e295, 1e296, 1e297, 1e298, 1e299,
  1e300, 1e301, 1e302, 1e303, 1e304, 1e305, 1e306, 1e307, 1e308
};

/*
** serde's f64_from_parts: the significand converted to a double (rounded
** to nearest), then ONE multiplication or division by 10^|exponent| from
** the table; an exponent below -308 first divides by 1e308 (as often as
** it takes), and one above 308 is out of range unless the value is 0.
** Each operation rounds, so the result can be an ulp or more from the
** nearest double: that is the behaviour being reproduced. Returns 0 when
** the result would be infinite (serde's NumberOutOfRange).
*/
static int serde_from_parts(int neg, uint64_t sig, int32_t exponent,
                            double *out) {
  double f = (double)sig;
  for (;;) {
    /* exponent.wrapping_abs() as usize: INT32_MIN stays out of the table */
    uint32_t mag = exponent < 0 ? (uint32_t)0 - (uint32_t)exponent
                                : (uint32_t)exponent;
    if (mag < sizeof pow10_table / sizeof pow10_table[0]) {
      if (exponent >= 0) {
        f = f * pow10_table[mag];
        if (isinf(f)) return 0;
      } else {
        f = f / pow10_table[mag];
      }
      break;
    }
    if (f == 0.0) break;
    if (exponent >= 0) return 0;
    f = f / 1e308;
    exponent += 308;
  }
  *out = neg ? -f : f;
  return 1;
}

/* i32 arithmetic as serde does it: saturating (starting_exp.saturating_add
** and _sub in parse_exponent). */
static int32_t sat32(int64_t x) {
  return x > INT32_MAX ? INT32_MAX : x < INT32_MIN ? INT32_MIN : (int32_t)x;
}

/*
** The value serde_json 1.0.145 (no float_roundtrip) reads, step by step as
** its Deserializer: parse_integer gathers digits into a u64 significand;
** at the digit that would overflow it, parse_long_integer drops that digit
** and the rest of the integer part, counting them into the exponent.
** parse_decimal then appends fraction digits to the same significand (even
** after integer digits were dropped) until one would overflow, and
** parse_decimal_overflow ignores the rest; each appended digit lowers the
** exponent by one. parse_exponent adds the written exponent (an i32; one
** too long for it is 0.0 when the exponent is negative or the significand
** 0, else out of range). f64_from_parts makes the double. Sets v; returns
** 0 when the number is out of range.
*/
static int serde_number(const numtext *t, sl_json *v) {
  const char *q;
  uint64_t sig = 0;
  int64_t exponent = 0;
  double d;
  for (q = t->int_start; q < t->int_end; q++) {
    unsigned dig = (unsigned)(*q - '0');
    if (U64_OVERFLOWS(sig, dig)) break;
    sig = sig * 10 + dig;
  }
  exponent = t->int_end - q;                  /* parse_long_integer */
  if (q == t->int_end && !t->frac_start && !t->exp_start) {
    integer_value(t->neg, sig, v);
    return 1;
  }
  if (t->frac_start) {                        /* parse_decimal */
    for (q = t->frac_start; q < t->frac_end; q++) {
      unsigned dig = (unsigned)(*q - '0');
      if (U64_OVERFLOWS(sig, dig)) break;     /* parse_decimal_overflow */
      sig = sig * 10 + dig;
      exponent--;
    }
  }
  if (t->exp_start) {                         /* parse_exponent */
    int32_t e = 0;
    for (q = t->exp_start; q < t->exp_end; q++) {
      int dig = *q - '0';
      if (e >= INT32_MAX / 10 &&
          (e > INT32_MAX / 10 || dig > INT32_MAX % 10)) {
        /* parse_exponent_overflow */
        if (sig != 0 && !t->exp_neg) return 0;
        v->kind = SL_JSON_FLOAT;
        v->number = t->neg ? -0.0 : 0.0;
        return 1;
      }
      e = e * 10 + dig;
    }
    exponent = t->exp_neg ? (int64_t)sat32(exponent) - e
                          : (int64_t)sat32(exponent) + e;
  }
  if (!serde_from_parts(t->neg, sig, sat32(exponent), &d)) return 0;
  v->kind = SL_JSON_FLOAT;
  v->number = d;
  return 1;
}

/*
** The nearest double, for the exact reader. Returns 0 when out of range,
** -1 when out of memory (a number of more than ~50 digits needs a copy).
*/
static int exact_float(const numtext *t, double *out) {
  long long e = 0;
  uint64_t m = 0;
  int nsig = 0;
  const char *q;
  double d;
  if (t->exp_start)
    for (q = t->exp_start; q < t->exp_end; q++)
      if (e < 1000000000) e = e * 10 + (*q - '0');
  if (t->exp_neg) e = -e;
  if (t->frac_start) e -= (long long)(t->frac_end - t->frac_start);
  for (q = t->int_start; q < t->int_end && nsig <= 19; q++)
    if (nsig || *q != '0') { m = m * 10 + (uint64_t)(*q - '0'); nsig++; }
  if (t->frac_start)
    for (q = t->frac_start; q < t->frac_end && nsig <= 19; q++)
      if (nsig || *q != '0') { m = m * 10 + (uint64_t)(*q - '0'); nsig++; }
  if (nsig == 0) {
    d = 0.0;
#if FLT_EVAL_METHOD == 0
  } else if (nsig <= 19 && m <= (UINT64_C(1) << 53) && e >= -22 &&
             e <= 22) {
    /* Clinger's fast path: m and 10^|e| are exact doubles, so one
    ** correctly rounded operation gives the correctly rounded value. */
    d = e >= 0 ? (double)m * pow10_table[e] : (double)m / pow10_table[-e];
#endif
  } else {
    /* strtod, as "<digits>e<exp>": an integer mantissa needs no radix
    ** character, so the locale cannot misread it. */
    char small[80], *txt = small;
    size_t ndig = (size_t)(t->int_end - t->int_start) +
                  (t->frac_start ? (size_t)(t->frac_end - t->frac_start) : 0);
    size_t k = 0;
    int nonzero = 0;
    if (ndig + 32 > sizeof small) {
      txt = malloc(ndig + 32);
      if (!txt) return -1;
    }
    for (q = t->int_start; q < t->int_end; q++)
      if (nonzero || *q != '0') { txt[k++] = *q; nonzero = 1; }
    if (t->frac_start)
      for (q = t->frac_start; q < t->frac_end; q++)
        if (nonzero || *q != '0') { txt[k++] = *q; nonzero = 1; }
    snprintf(txt + k, 24, "e%lld", e);
    d = strtod(txt, NULL);
    if (txt != small) free(txt);
  }
  if (isinf(d)) return 0;
  *out = t->neg ? -d : d;
  return 1;
}

/* The exact reader: an integer serde keeps as one, else the nearest
** double. Same returns as exact_float. */
static int exact_number(const numtext *t, sl_json *v) {
  const char *q;
  uint64_t mag = 0;
  int rc;
  if (!t->frac_start && !t->exp_start) {
    for (q = t->int_start; q < t->int_end; q++) {
      unsigned dig = (unsigned)(*q - '0');
      if (U64_OVERFLOWS(mag, dig)) break;
      mag = mag * 10 + dig;
    }
    if (q == t->int_end) {
      integer_value(t->neg, mag, v);
      return 1;
    }
  }
  rc = exact_float(t, &v->number);
  if (rc == 1) v->kind = SL_JSON_FLOAT;
  return rc;
}

static size_t format_double(double d, char *out);

/* One more read of a float as Spacedrive's CLI gets it back from the
** daemon: the text serde wrote for d, read by serde. The text is the
** writer's own, so it always scans. A read out of range (possible only
** next to DBL_MAX) would fail the whole reply in Spacedrive; here d stays. */
static double reread(double d) {
  char txt[40];
  const char *at;
  int lz;
  numtext t;
  sl_json v;
  size_t n = format_double(d, txt);
  if (!isfinite(d) || !scan_number(txt, txt + n, &t, &at, &lz)) return d;
  memset(&v, 0, sizeof v);
  if (!serde_number(&t, &v) || v.kind != SL_JSON_FLOAT) return d;
  return v.number;
}

/* Every float of a tree read `times` more times (see reread). */
static void reread_floats(sl_json *v, int times) {
  size_t i;
  int k;
  if (!v) return;
  switch (v->kind) {
  case SL_JSON_FLOAT:
    for (k = 0; k < times; k++) v->number = reread(v->number);
    break;
  case SL_JSON_ARRAY:
  case SL_JSON_OBJECT:
    for (i = 0; i < v->length; i++)
      if (v->items) reread_floats(v->items[i], times);
    break;
  default:
    break;
  }
}

/* A number at ps->p, read by the parser's reader. */
static sl_json *parse_number(parser *ps) {
  const char *s = ps->p, *at = NULL, *p;
  int leading_zero, rc;
  numtext t;
  sl_json *v;
  p = scan_number(s, ps->end, &t, &at, &leading_zero);
  if (!p) {
    if (leading_zero) return fail(ps, s, "number with a leading zero");
    return unexpected(ps, at);
  }
  ps->p = p;
  if (!(v = new_node(ps, SL_JSON_FLOAT))) return NULL;
  rc = ps->serde ? serde_number(&t, v) : exact_number(&t, v);
  if (rc == 1) return v;
  free(v);
  if (rc < 0) return nomem(ps);
  return fail(ps, s, "number out of range");
}

static sl_json *parse_value(parser *ps);

/* Members waiting for their container to close. */
static int push_slot(parser *ps, char *key, size_t keylen, sl_json *item) {
  if (ps->top == ps->cap) {
    size_t n = ps->cap * 2;
    slot *st = ps->stk == ps->local ? malloc(n * sizeof *st)
                                    : realloc(ps->stk, n * sizeof *st);
    if (!st) { nomem(ps); return 0; }
    if (ps->stk == ps->local) memcpy(st, ps->local, sizeof ps->local);
    ps->stk = st;
    ps->cap = n;
  }
  ps->stk[ps->top].key = key;
  ps->stk[ps->top].keylen = keylen;
  ps->stk[ps->top].item = item;
  ps->top++;
  return 1;
}

/* Move the slots above `base` into the container's own exact-size arrays
** (one allocation each, however many members). */
static sl_json *close_container(parser *ps, size_t base, int is_object) {
  size_t n = ps->top - base, i;
  sl_json *v = new_node(ps, is_object ? SL_JSON_OBJECT : SL_JSON_ARRAY);
  if (!v) return NULL;
  if (n) {
    v->items = malloc(n * sizeof *v->items);
    if (is_object) {
      v->keys = malloc(n * sizeof *v->keys);
      v->key_lengths = malloc(n * sizeof *v->key_lengths);
    }
    if (!v->items || (is_object && (!v->keys || !v->key_lengths))) {
      sl_json_free(v);
      return nomem(ps);
    }
    for (i = 0; i < n; i++) {
      const slot *sl = &ps->stk[base + i];
      v->items[i] = sl->item;
      if (is_object) {
        v->keys[i] = sl->key;
        v->key_lengths[i] = sl->keylen;
      }
    }
    v->length = n;
  }
  ps->top = base;
  return v;
}

/* An array or object, at its opening bracket. Members gather on the
** parser's slot stack, shared by every level, and are copied out when the
** container closes, so growing never reallocates the tree's arrays. */
static sl_json *parse_container(parser *ps, int is_object) {
  const char close = is_object ? '}' : ']';
  size_t base = ps->top, i;
  sl_json *v;
  if (ps->depth >= MAX_NEST)
    return fail(ps, ps->p, "nesting deeper than 127 levels");
  ps->depth++;
  ps->p++;
  skip_ws(ps);
  if (ps->p < ps->end && *ps->p == close) { ps->p++; goto done; }
  for (;;) {
    char *key = NULL;
    size_t keylen = 0;
    sl_json *item;
    if (is_object) {
      if (ps->p >= ps->end || *ps->p != '"') {
        unexpected(ps, ps->p);
        goto bad;
      }
      if (!parse_string(ps, &key, &keylen)) goto bad;
      skip_ws(ps);
      if (ps->p >= ps->end || *ps->p != ':') {
        free(key);
        unexpected(ps, ps->p);
        goto bad;
      }
      ps->p++;
    }
    if (!(item = parse_value(ps))) { free(key); goto bad; }
    if (!push_slot(ps, key, keylen, item)) {
      free(key);
      sl_json_free(item);
      goto bad;
    }
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ',') {
      ps->p++;
      skip_ws(ps);
      if (ps->p < ps->end && *ps->p == close) {
        fail(ps, ps->p, is_object ? "trailing comma before '}'"
                                  : "trailing comma before ']'");
        goto bad;
      }
      continue;
    }
    if (ps->p < ps->end && *ps->p == close) { ps->p++; break; }
    unexpected(ps, ps->p);
    goto bad;
  }
done:
  ps->depth--;
  if ((v = close_container(ps, base, is_object))) return v;
bad:
  for (i = base; i < ps->top; i++) {
    free(ps->stk[i].key);
    sl_json_free(ps->stk[i].item);
  }
  ps->top = base;
  return NULL;
}

static sl_json *parse_literal(parser *ps, const char *word, size_t n,
                              sl_json_kind kind) {
  size_t i;
  for (i = 0; i < n; i++)
    if (ps->p + i >= ps->end || ps->p[i] != word[i])
      return unexpected(ps, ps->p + i);
  ps->p += n;
  return new_node(ps, kind);
}

static sl_json *parse_value(parser *ps) {
  skip_ws(ps);
  if (ps->p >= ps->end) return unexpected(ps, ps->p);
  switch (*ps->p) {
  case '{': return parse_container(ps, 1);
  case '[': return parse_container(ps, 0);
  case '"': {
    sl_json *v;
    char *s;
    size_t n;
    if (!parse_string(ps, &s, &n)) return NULL;
    if (!(v = new_node(ps, SL_JSON_STRING))) { free(s); return NULL; }
    v->string = s;
    v->length = n;
    return v;
  }
  case 't': return parse_literal(ps, "true", 4, SL_JSON_TRUE);
  case 'f': return parse_literal(ps, "false", 5, SL_JSON_FALSE);
  case 'n': return parse_literal(ps, "null", 4, SL_JSON_NULL);
  case '-': case '0': case '1': case '2': case '3': case '4':
  case '5': case '6': case '7': case '8': case '9':
    return parse_number(ps);
  default:
    return unexpected(ps, ps->p);
  }
}

static int parse_document(const char *text, size_t len, int serde,
                          sl_json **out, char *err, size_t errsz) {
  parser ps;
  sl_json *v;
  if (err && errsz) err[0] = '\0';
  if (out) *out = NULL;
  if (!out || (!text && len)) {
    if (err && errsz) snprintf(err, errsz, "sl_json_parse: NULL argument");
    return SL_MISUSE;
  }
  if (!text) text = "";
  ps.start = ps.p = text;
  ps.end = text + len;
  ps.depth = 0;
  ps.status = SL_OK;
  ps.serde = serde;
  ps.err = err;
  ps.errsz = errsz;
  ps.stk = ps.local;
  ps.top = 0;
  ps.cap = sizeof ps.local / sizeof ps.local[0];
  v = parse_value(&ps);
  if (ps.stk != ps.local) free(ps.stk);
  if (v) {
    skip_ws(&ps);
    if (ps.p < ps.end) {
      fail(&ps, ps.p, "trailing characters after the JSON value");
      sl_json_free(v);
      v = NULL;
    }
  }
  if (!v) return ps.status != SL_OK ? ps.status : SL_ERROR;
  *out = v;
  return SL_OK;
}

int sl_json_parse(const char *text, size_t len, sl_json **out, char *err,
                  size_t errsz) {
  return parse_document(text, len, 0, out, err, errsz);
}

int sl_json_parse_serde(const char *text, size_t len, int reads,
                        sl_json **out, char *err, size_t errsz) {
  int rc;
  if (reads <= 0) return parse_document(text, len, 0, out, err, errsz);
  rc = parse_document(text, len, 1, out, err, errsz);
  if (rc == SL_OK && reads > 1) reread_floats(*out, reads - 1);
  return rc;
}

/* Frees whatever a parse (or a builder using malloc the same way) made;
** tolerates NULL children and a partly filled node. */
void sl_json_free(sl_json *v) {
  size_t i;
  if (!v) return;
  switch (v->kind) {
  case SL_JSON_STRING:
    free(v->string);
    break;
  case SL_JSON_ARRAY:
  case SL_JSON_OBJECT:
    for (i = 0; i < v->length; i++) {
      if (v->items) sl_json_free(v->items[i]);
      if (v->keys) free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->key_lengths);
    break;
  default:
    break;
  }
  free(v);
}

/* ------------------------------------------------------------- building */

sl_json *sl_json_new(sl_json_kind kind) {
  sl_json *v = calloc(1, sizeof *v);
  if (v) v->kind = kind;
  return v;
}

sl_json *sl_json_new_string(const char *s, size_t len) {
  sl_json *v = sl_json_new(SL_JSON_STRING);
  if (!v) return NULL;
  v->string = malloc(len + 1);
  if (!v->string) {
    free(v);
    return NULL;
  }
  if (len) memcpy(v->string, s, len);
  v->string[len] = '\0';
  v->length = len;
  return v;
}

/* Room for one more member after n: capacities are 4, 8, 16, ..., so an
** array is full at 0 and at each power of two from 4. */
static int grow(void **arr, size_t n, size_t size) {
  if (n != 0 && (n < 4 || (n & (n - 1)))) return 1;
  void *p = realloc(*arr, (n ? 2 * n : 4) * size);
  if (!p) return 0;
  *arr = p;
  return 1;
}

int sl_json_add(sl_json *c, const char *key, size_t klen, sl_json *item) {
  int object = c && c->kind == SL_JSON_OBJECT;
  if (!c || !item || (!object && c->kind != SL_JSON_ARRAY) ||
      (object != (key != NULL))) {
    sl_json_free(item);
    return SL_MISUSE;
  }
  size_t n = c->length;
  char *k = NULL;
  if (object) {
    k = malloc(klen + 1);
    if (k) {
      memcpy(k, key, klen);
      k[klen] = '\0';
    }
  }
  if ((object && !k) || !grow((void **)&c->items, n, sizeof *c->items) ||
      (object && (!grow((void **)&c->keys, n, sizeof *c->keys) ||
                  !grow((void **)&c->key_lengths, n,
                        sizeof *c->key_lengths)))) {
    free(k);
    sl_json_free(item);
    return SL_NOMEM;
  }
  c->items[n] = item;
  if (object) {
    c->keys[n] = k;
    c->key_lengths[n] = klen;
  }
  c->length = n + 1;
  return SL_OK;
}

/* ------------------------------------------------------------- writing */

/* One byte, without a call into sl_buf when there is room (the common
** case on the export path). */
static void put_char(sl_buf *b, char c) {
  if (!b->oom && b->len + 1 < b->cap) {
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
  } else {
    sl_buf_append(b, &c, 1);
  }
}

/* What serde_json writes after the backslash for each byte: 0 for bytes
** that pass through, 'u' for \u00xx. 0x7F and everything >= 0x80 pass. */
static const char escape_of[256] = {
  'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',    /* 0x00 */
  'b', 't', 'n', 'u', 'f', 'r', 'u', 'u',    /* 0x08 */
  'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',    /* 0x10 */
  'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',    /* 0x18 */
  ['"'] = '"', ['\\'] = '\\'
};

/* The length of the UTF-8 sequence at s when it is well-formed (*ok 1),
** else of its maximal ill-formed subpart (*ok 0): the lead byte and the
** continuation bytes that could still have begun a character, at least 1.
** That is the unit Unicode's "U+FFFD substitution of maximal subparts"
** (and Rust's String::from_utf8_lossy) replaces with one U+FFFD. */
static size_t utf8_sequence(const unsigned char *s, const unsigned char *end,
                            int *ok) {
  unsigned c = s[0], lo = 0x80, hi = 0xBF;
  size_t n, i;
  *ok = 0;
  if (c < 0x80) { *ok = 1; return 1; }
  if (c >= 0xC2 && c <= 0xDF) n = 2;
  else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 1;
  }
  for (i = 1; i < n && s + i < end; i++) {
    if (s[i] < lo || s[i] > hi) return i;
    lo = 0x80;
    hi = 0xBF;
  }
  *ok = i == n;
  return i;
}

#define HIGHS UINT64_C(0x8080808080808080)

/* Every text column of every row read goes through here, and nearly all
** of it is ASCII: one OR over the words says so at a few instructions per 8
** bytes; only text with a high bit set is decoded. */
size_t sli_utf8_valid_prefix(const char *s, size_t len) {
  const unsigned char *p = (const unsigned char *)s, *end = p + len;
  uint64_t acc = 0, w;
  size_t i = 0;
  if (!s) return 0;
  for (; i + 8 <= len; i += 8) {
    memcpy(&w, p + i, 8);
    acc |= w;
  }
  for (; i < len; i++) acc |= p[i]; /* bit 7 of a byte is in HIGHS too */
  if (!(acc & HIGHS)) return len;
  while (p < end) {
    if (*p < 0x80) { p++; continue; }
    int ok;
    size_t n = utf8_sequence(p, end, &ok);
    if (!ok) break;
    p += n;
  }
  return (size_t)(p - (const unsigned char *)s);
}

/* Steps over the UTF-8 sequence at p (p < end). An ill-formed one is
** mended: the text kept since *run is appended, then U+FFFD, and *run
** moves past it. Returns where the next sequence starts. */
static const unsigned char *mend_sequence(sl_buf *b, const unsigned char *p,
                                          const unsigned char *end,
                                          const unsigned char **run) {
  int ok;
  size_t n = utf8_sequence(p, end, &ok);
  if (!ok) {
    if (p > *run) sl_buf_append(b, (const char *)*run, (size_t)(p - *run));
    sl_buf_append(b, "\xEF\xBF\xBD", 3);
    *run = p + n;
  }
  return p + n;
}

void sli_utf8_lossy(sl_buf *b, const char *s, size_t len) {
  const unsigned char *p = (const unsigned char *)s, *run = p, *end = p + len;
  if (!b || !s) return;
  while (p < end) p = mend_sequence(b, p, end, &run);
  if (end > run) sl_buf_append(b, (const char *)run, (size_t)(end - run));
}

/* Export's hot path: skips plain ASCII text 8 bytes at a time and appends
** each run between escapes with one call. Well-formed UTF-8 passes as it
** is; each maximal ill-formed subpart becomes U+FFFD (JSON text is UTF-8,
** and serde's strings always are), so the output is valid whatever the
** input. */
void sl_json_write_string(sl_buf *b, const char *s, size_t len) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *p, *run, *end, *lim;
  if (!b) return;
  if (!s) { s = ""; len = 0; }
  p = run = (const unsigned char *)s;
  end = p + len;
  put_char(b, '"');
  while (p < end) {
    if (end - p >= 8) {
      uint64_t w;
      memcpy(&w, p, 8);
      if (!word_needs_escape(w) && !(w & HIGHS)) { p += 8; continue; }
      lim = p + 8;
    } else {
      lim = end;
    }
    while (p < lim) {
      if (*p >= 0x80) {
        p = mend_sequence(b, p, end, &run);
        continue;
      }
      char e = escape_of[*p];
      if (!e) { p++; continue; }
      if (p > run) sl_buf_append(b, (const char *)run, (size_t)(p - run));
      if (e == 'u') {
        char u[6] = { '\\', 'u', '0', '0', 0, 0 };
        u[4] = hex[*p >> 4];
        u[5] = hex[*p & 15];
        sl_buf_append(b, u, 6);
      } else {
        char two[2];
        two[0] = '\\';
        two[1] = e;
        sl_buf_append(b, two, 2);
      }
      run = ++p;
    }
  }
  if (end > run) sl_buf_append(b, (const char *)run, (size_t)(end - run));
  put_char(b, '"');
}

/* Decimal digits of an unsigned value into the end of buf; returns the
** first digit. */
static char *utoa_end(uint64_t u, char *end) {
  do { *--end = (char)('0' + u % 10); u /= 10; } while (u);
  return end;
}

void sl_json_write_int(sl_buf *b, int64_t i) {
  char tmp[24], *end = tmp + sizeof tmp, *p;
  uint64_t u = i < 0 ? (uint64_t)0 - (uint64_t)i : (uint64_t)i;
  if (!b) return;
  p = utoa_end(u, end);
  if (i < 0) *--p = '-';
  sl_buf_append(b, p, (size_t)(end - p));
}

void sl_json_write_uint(sl_buf *b, uint64_t u) {
  char tmp[24], *end = tmp + sizeof tmp, *p;
  if (!b) return;
  p = utoa_end(u, end);
  sl_buf_append(b, p, (size_t)(end - p));
}

/*
** Shortest round-trip digits, exactly as ryu's d2d chooses them: the fewest
** digits of any decimal inside d's rounding interval and, of those, the one
** nearest d (an exact tie goes to the even digit). This is Steele & White's
** free-format algorithm as Burger & Dybvig scale it, on small bignums: exact
** for every double, needing no tables and no libc number formatting (so no
** locale), and a few hundred nanoseconds for everyday magnitudes.
*/

/* s reaches 2^1076 for the smallest doubles and r, mp, mm stay below 10s,
** so 34 limbs of 32 bits suffice; 40 leave room. */
#define BIG_LIMBS 40

typedef struct big {
  int      n;                 /* limbs in use, no leading zero limbs        */
  uint32_t d[BIG_LIMBS];      /* little-endian                              */
} big;

static void big_set(big *a, uint64_t v) {
  a->n = 0;
  while (v) { a->d[a->n++] = (uint32_t)v; v >>= 32; }
}

static void big_shl(big *a, int bits) {
  int w = bits / 32, s = bits % 32, i;
  uint32_t carry = 0;
  if (a->n == 0) return;
  if (s) {
    for (i = 0; i < a->n; i++) {
      uint32_t x = a->d[i];
      a->d[i] = (x << s) | carry;
      carry = x >> (32 - s);
    }
    if (carry) a->d[a->n++] = carry;
  }
  if (w) {
    for (i = a->n - 1; i >= 0; i--) a->d[i + w] = a->d[i];
    for (i = 0; i < w; i++) a->d[i] = 0;
    a->n += w;
  }
}

static void big_mul(big *a, uint32_t m) {
  uint64_t carry = 0;
  int i;
  for (i = 0; i < a->n; i++) {
    uint64_t t = (uint64_t)a->d[i] * m + carry;
    a->d[i] = (uint32_t)t;
    carry = t >> 32;
  }
  if (carry) a->d[a->n++] = (uint32_t)carry;
}

static void big_mul_pow10(big *a, int k) {
  static const uint32_t p10[9] = { 1, 10, 100, 1000, 10000, 100000,
                                   1000000, 10000000, 100000000 };
  for (; k >= 9; k -= 9) big_mul(a, 1000000000u);
  if (k) big_mul(a, p10[k]);
}

static int big_cmp(const big *a, const big *b) {
  int i;
  if (a->n != b->n) return a->n < b->n ? -1 : 1;
  for (i = a->n - 1; i >= 0; i--)
    if (a->d[i] != b->d[i]) return a->d[i] < b->d[i] ? -1 : 1;
  return 0;
}

/* Compare a + b with c. */
static int big_cmp_sum(const big *a, const big *b, const big *c) {
  big s;
  const big *lo = a->n < b->n ? a : b, *hi = a->n < b->n ? b : a;
  uint64_t carry = 0;
  int i;
  for (i = 0; i < hi->n; i++) {
    uint64_t t = (uint64_t)hi->d[i] + (i < lo->n ? lo->d[i] : 0) + carry;
    s.d[i] = (uint32_t)t;
    carry = t >> 32;
  }
  s.n = hi->n;
  if (carry) s.d[s.n++] = (uint32_t)carry;
  return big_cmp(&s, c);
}

/* a -= b, where a >= b. */
static void big_sub(big *a, const big *b) {
  int64_t borrow = 0;
  int i;
  for (i = 0; i < a->n; i++) {
    int64_t t = (int64_t)a->d[i] - (i < b->n ? b->d[i] : 0) - borrow;
    borrow = t < 0;
    a->d[i] = (uint32_t)(t + (borrow ? INT64_C(0x100000000) : 0));
  }
  while (a->n && a->d[a->n - 1] == 0) a->n--;
}

static uint64_t big_u64(const big *a) {
  return a->n == 0 ? 0
         : a->n == 1 ? a->d[0]
                     : ((uint64_t)a->d[1] << 32) | a->d[0];
}

/* The final digit once it or the next one up lies in the interval: the
** one that does, or if both do the nearer, a tie (half2 == 0, comparing
** twice the remainder with the unit) going to the even digit. */
static int last_digit(int digit, int low, int high, int half2) {
  if (low && high)
    return half2 > 0 || (half2 == 0 && (digit & 1)) ? digit + 1 : digit;
  return high ? digit + 1 : digit;
}

/* The digits of d (> 0, finite) into dig (at most 17, no trailing zeros);
** returns their count and sets *kout so that d ~ 0.ddd * 10^kout. */
static int shortest(double d, char *dig, int *kout) {
  big r, s, mp, mm_own, *mm = &mp;
  uint64_t bits, f;
  int be, e, even, lower_closer, k, n = 0, bl;
  memcpy(&bits, &d, sizeof bits);
  be = (int)((bits >> 52) & 0x7FF);
  f = bits & ((UINT64_C(1) << 52) - 1);
  /* At a power of two the gap below is half the gap above. */
  lower_closer = f == 0 && be > 1;
  if (be) { f |= UINT64_C(1) << 52; e = be - 1075; }
  else e = -1074;
  /* A reader rounds a tie to even, so an even d owns its bounds. */
  even = (f & 1) == 0;

  /* d = r/s; its rounding interval is ((r - mm)/s, (r + mp)/s). */
  big_set(&r, f);
  big_set(&s, 1);
  big_set(&mp, 1);
  if (e >= 0) {
    big_shl(&mp, e);
    if (lower_closer) {
      mm_own = mp;
      mm = &mm_own;
      big_shl(&mp, 1);
      big_shl(&r, e + 2);
      big_shl(&s, 2);
    } else {
      big_shl(&r, e + 1);
      big_shl(&s, 1);
    }
  } else if (lower_closer) {
    mm_own = mp;
    mm = &mm_own;
    big_shl(&mp, 1);
    big_shl(&r, 2);
    big_shl(&s, 2 - e);
  } else {
    big_shl(&r, 1);
    big_shl(&s, 1 - e);
  }

  /* k = the least power of ten above the interval, estimated from below by
  ** d >= 2^(e + bl), bl being f's top bit, and then stepped up. */
  for (bl = 0; (f >> bl) > 1; bl++) {}
  k = (int)ceil((e + bl) * 0.30102999566398114 - 1e-10);
  if (k >= 0) {
    big_mul_pow10(&s, k);
  } else {
    big_mul_pow10(&r, -k);
    big_mul_pow10(&mp, -k);
    if (mm != &mp) big_mul_pow10(mm, -k);
  }
  for (;;) {
    int c = big_cmp_sum(&r, &mp, &s);
    if (even ? c < 0 : c <= 0) break;
    big_mul(&s, 10);
    k++;
  }

  /* From 1/64 to 1e17, the everyday range, s < 2^60 and all four
  ** quantities fit a uint64 through the digit loop (r < s, mp and mm < 10s
  ** at the last digit); do it there. */
  if (s.n <= 2 && (s.n < 2 || s.d[1] < (UINT32_C(1) << 28))) {
    uint64_t r6 = big_u64(&r), s6 = big_u64(&s), p6 = big_u64(&mp);
    uint64_t m6 = big_u64(mm);
    for (;;) {
      int digit, low, high;
      r6 *= 10; p6 *= 10; m6 *= 10;
      digit = (int)(r6 / s6);
      r6 %= s6;
      low = even ? r6 <= m6 : r6 < m6;
      high = even ? r6 + p6 >= s6 : r6 + p6 > s6;
      if (!low && !high && n < 17) { dig[n++] = (char)('0' + digit); continue; }
      dig[n++] = (char)('0' + last_digit(digit, low, high,
                                         r6 * 2 < s6 ? -1 : r6 * 2 > s6));
      break;
    }
  } else {
    for (;;) {
      int digit = 0, low, high;
      big_mul(&r, 10);
      big_mul(&mp, 10);
      if (mm != &mp) big_mul(mm, 10);
      while (big_cmp(&r, &s) >= 0) { big_sub(&r, &s); digit++; }
      low = even ? big_cmp(&r, mm) <= 0 : big_cmp(&r, mm) < 0;
      high = even ? big_cmp_sum(&r, &mp, &s) >= 0
                  : big_cmp_sum(&r, &mp, &s) > 0;
      if (!low && !high && n < 17) { dig[n++] = (char)('0' + digit); continue; }
      dig[n++] = (char)('0' + last_digit(digit, low, high,
                                         big_cmp_sum(&r, &r, &s)));
      break;
    }
  }
  while (n > 1 && dig[n - 1] == '0') n--;
  *kout = k;
  return n;
}

/* ryu's format64 layout (pretty/mod.rs), with len the digit count and kk
** the decimal exponent such that 10^(kk-1) <= d < 10^kk:
**   len <= kk <= 16   digits, zeros, ".0"       1234e7  -> 12340000000.0
**   0 < kk <= 16      point after kk digits     1234e-2 -> 12.34
**   -5 < kk <= 0      "0.", -kk zeros, digits   1234e-6 -> 0.001234
**   len == 1          digit "e" kk-1            1e30
**   otherwise         d "." ddd "e" kk-1        1234e30 -> 1.234e33 */
/* The text into out (40 bytes are plenty); returns its length. */
static size_t format_double(double d, char *out) {
  char dig[24], *o = out;
  int len, kk, i;
  if (!isfinite(d)) { memcpy(out, "null", 4); return 4; }
  if (signbit(d)) { *o++ = '-'; d = -d; }
  if (d == 0) {
    memcpy(o, "0.0", 3);
    return (size_t)(o - out) + 3;
  }

  if (d < 9007199254740992.0 && d == floor(d)) {
    /* Below 2^53 an integral double is its own shortest text: every
    ** shorter decimal is an integer at least 1 away, outside the interval. */
    char *end = dig + sizeof dig, *p = utoa_end((uint64_t)d, end);
    memcpy(o, p, (size_t)(end - p));
    o += end - p;
    memcpy(o, ".0", 2);
    return (size_t)(o - out) + 2;
  }

  len = shortest(d, dig, &kk);
  if (kk >= len && kk <= 16) {
    memcpy(o, dig, (size_t)len); o += len;
    for (i = len; i < kk; i++) *o++ = '0';
    *o++ = '.'; *o++ = '0';
  } else if (0 < kk && kk <= 16) {
    memcpy(o, dig, (size_t)kk); o += kk;
    *o++ = '.';
    memcpy(o, dig + kk, (size_t)(len - kk)); o += len - kk;
  } else if (-5 < kk && kk <= 0) {
    *o++ = '0'; *o++ = '.';
    for (i = 0; i < -kk; i++) *o++ = '0';
    memcpy(o, dig, (size_t)len); o += len;
  } else {
    int x = kk - 1;
    *o++ = dig[0];
    if (len > 1) {
      *o++ = '.';
      memcpy(o, dig + 1, (size_t)(len - 1)); o += len - 1;
    }
    *o++ = 'e';
    if (x < 0) { *o++ = '-'; x = -x; }
    if (x >= 100) *o++ = (char)('0' + x / 100);
    if (x >= 10) *o++ = (char)('0' + x / 10 % 10);
    *o++ = (char)('0' + x % 10);
  }
  return (size_t)(o - out);
}

void sl_json_write_double(sl_buf *b, double d) {
  char out[40];
  if (!b) return;
  sl_buf_append(b, out, format_double(d, out));
}

/* A newline and `level` steps of serde's two-space indent. */
static void newline(sl_buf *b, int level) {
  static const char spaces[] = "\n                                ";
  size_t n = (size_t)level * 2 + 1;
  if (n <= sizeof spaces - 1) { sl_buf_append(b, spaces, n); return; }
  sl_buf_append(b, spaces, 1);
  for (n -= 1; n > 0;) {
    size_t c = n < sizeof spaces - 2 ? n : sizeof spaces - 2;
    sl_buf_append(b, spaces + 1, c);
    n -= c;
  }
}

typedef struct member {
  const char *key;            /* key bytes                                  */
  size_t      len;            /* key length                                 */
  size_t      idx;            /* position in the object: keeps sort stable */
} member;

/* serde's BTreeMap order: bytes compared as unsigned, a prefix first. */
static int member_cmp(const void *a, const void *b) {
  const member *x = a, *y = b;
  size_t n = x->len < y->len ? x->len : y->len;
  int c = n ? memcmp(x->key, y->key, n) : 0;
  if (c) return c;
  if (x->len != y->len) return x->len < y->len ? -1 : 1;
  return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static void write_value(sl_buf *b, const sl_json *v, int level, int sort);

static void write_object(sl_buf *b, const sl_json *v, int level, int sort) {
  member stack[16], *ms = stack;
  size_t i, n = v->length;
  if (n == 0 || !v->keys || !v->items) { sl_buf_append(b, "{}", 2); return; }
  if (n > sizeof stack / sizeof stack[0]) {
    ms = malloc(n * sizeof *ms);
    if (!ms) { b->oom = 1; return; }
  }
  for (i = 0; i < n; i++) {
    ms[i].key = v->keys[i] ? v->keys[i] : "";
    ms[i].len = !v->keys[i] ? 0
                : v->key_lengths ? v->key_lengths[i] : strlen(v->keys[i]);
    ms[i].idx = i;
  }
  if (sort && n > sizeof stack / sizeof stack[0]) {
    qsort(ms, n, sizeof *ms, member_cmp);
  } else if (sort) {
    /* Typical objects are small: insertion sort beats qsort's overhead. */
    for (i = 1; i < n; i++) {
      member t = ms[i];
      size_t j = i;
      for (; j > 0 && member_cmp(&ms[j - 1], &t) > 0; j--) ms[j] = ms[j - 1];
      ms[j] = t;
    }
  }
  put_char(b, '{');
  int first = 1;
  for (i = 0; i < n; i++) {
    /* A sorted object is serde's BTreeMap: a repeated key keeps its last
    ** value (the stable sort put it last among its equals). */
    if (sort && i + 1 < n && ms[i].len == ms[i + 1].len &&
        memcmp(ms[i].key, ms[i + 1].key, ms[i].len) == 0)
      continue;
    if (!first) put_char(b, ',');
    first = 0;
    if (level >= 0) newline(b, level + 1);
    sl_json_write_string(b, ms[i].key, ms[i].len);
    if (level >= 0) sl_buf_append(b, ": ", 2);
    else put_char(b, ':');
    write_value(b, v->items[ms[i].idx], level >= 0 ? level + 1 : -1, sort);
  }
  if (level >= 0) newline(b, level);
  put_char(b, '}');
  if (ms != stack) free(ms);
}

static void write_value(sl_buf *b, const sl_json *v, int level, int sort) {
  size_t i;
  if (!v) { sl_buf_append(b, "null", 4); return; }
  switch (v->kind) {
  case SL_JSON_NULL: sl_buf_append(b, "null", 4); break;
  case SL_JSON_FALSE: sl_buf_append(b, "false", 5); break;
  case SL_JSON_TRUE: sl_buf_append(b, "true", 4); break;
  case SL_JSON_INTEGER: sl_json_write_int(b, v->integer); break;
  case SL_JSON_UNSIGNED: sl_json_write_uint(b, v->uinteger); break;
  case SL_JSON_FLOAT: sl_json_write_double(b, v->number); break;
  case SL_JSON_STRING:
    sl_json_write_string(b, v->string ? v->string : "",
                         v->string ? v->length : 0);
    break;
  case SL_JSON_ARRAY:
    if (v->length == 0 || !v->items) { sl_buf_append(b, "[]", 2); break; }
    put_char(b, '[');
    for (i = 0; i < v->length; i++) {
      if (i) put_char(b, ',');
      if (level >= 0) newline(b, level + 1);
      write_value(b, v->items[i], level >= 0 ? level + 1 : -1, sort);
    }
    if (level >= 0) newline(b, level);
    put_char(b, ']');
    break;
  case SL_JSON_OBJECT:
    write_object(b, v, level, sort);
    break;
  default:
    sl_buf_append(b, "null", 4);
    break;
  }
}

void sl_json_write(sl_buf *b, const sl_json *v, int indent, int sort_keys) {
  if (!b) return;
  write_value(b, v, indent < 0 ? -1 : indent, sort_keys);
}

/* ---------------------------------------------------------- re-emitting */


/*
** The fast path for details: one pass over the text, written straight into
** b, for JSON already in the form serde would give it back in -- every
** object's keys strictly increasing, integers of at most 18 digits (not
** "-0"), strings of printable ASCII without escapes -- which is what
** Spacedrive and synclua store. Anything else (a float, an escape,
** non-ASCII, unsorted or repeated keys, deep nesting, invalid JSON) makes
** it give up, and sl_json_reformat undoes what it wrote and takes the
** general path: parse into a tree and write that. Whitespace in the input is
** dropped; the layout is serde's, compact (level < 0) or pretty.
*/
typedef struct scan {
  const char *p, *end;        /* next byte, one past the last              */
} scan;

#define FAST_MAX_DEPTH 64

static void skip_space(scan *s) {
  while (s->p < s->end &&
         (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t'))
    s->p++;
}

static void indent(sl_buf *b, int level) {
  if (level >= 0) newline(b, level);
}

/* A plain string at s->p (the opening quote): its bytes between the
** quotes into *str, *len; 0 when it is not plain. */
static int fast_string(scan *s, const char **str, size_t *len) {
  const char *q = s->p + 1;
  while (q < s->end && *q != '"') {
    unsigned char c = (unsigned char)*q;
    if (c < 0x20 || c >= 0x7F || c == '\\') return 0;
    q++;
  }
  if (q >= s->end) return 0;
  *str = s->p + 1;
  *len = (size_t)(q - *str);
  s->p = q + 1;
  return 1;
}

static int fast_value(sl_buf *b, scan *s, int level, int depth);

static int fast_container(sl_buf *b, scan *s, int level, int depth) {
  int is_object = *s->p == '{';
  char close = is_object ? '}' : ']';
  const char *prev = NULL;
  size_t prevlen = 0;
  int n = 0;
  if (depth >= FAST_MAX_DEPTH) return 0;
  s->p++;
  skip_space(s);
  if (s->p < s->end && *s->p == close) {
    s->p++;
    sli_put(b, is_object ? "{}" : "[]", 2);
    return 1;
  }
  sli_put(b, is_object ? "{" : "[", 1);
  for (;;) {
    if (n++) sli_put(b, ",", 1);
    indent(b, level < 0 ? -1 : level + 1);
    if (is_object) {
      const char *k;
      size_t klen;
      if (s->p >= s->end || *s->p != '"' || !fast_string(s, &k, &klen))
        return 0;
      if (prev) {
        size_t m = prevlen < klen ? prevlen : klen;
        int c = m ? memcmp(prev, k, m) : 0;
        if (c > 0 || (c == 0 && prevlen >= klen)) return 0;
      }
      prev = k;
      prevlen = klen;
      sli_put(b, "\"", 1);
      sli_put(b, k, klen);
      if (level >= 0) SLI_PUT(b, "\": ");
      else SLI_PUT(b, "\":");
      skip_space(s);
      if (s->p >= s->end || *s->p != ':') return 0;
      s->p++;
      skip_space(s);
    }
    if (!fast_value(b, s, level < 0 ? -1 : level + 1, depth + 1)) return 0;
    skip_space(s);
    if (s->p >= s->end) return 0;
    if (*s->p == ',') {
      s->p++;
      skip_space(s);
      continue;
    }
    if (*s->p != close) return 0;
    s->p++;
    indent(b, level);
    sli_put(b, &close, 1);
    return 1;
  }
}

static int fast_value(sl_buf *b, scan *s, int level, int depth) {
  const char *start = s->p;
  if (s->p >= s->end) return 0;
  switch (*s->p) {
  case '{':
  case '[':
    return fast_container(b, s, level, depth);
  case '"': {
    const char *str;
    size_t len;
    if (!fast_string(s, &str, &len)) return 0;
    sli_put(b, start, len + 2);
    return 1;
  }
  case 't':
  case 'f':
  case 'n': {
    static const char *const words[] = {"true", "false", "null"};
    const char *w = words[*s->p == 't' ? 0 : *s->p == 'f' ? 1 : 2];
    size_t n = strlen(w);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n) != 0) return 0;
    s->p += n;
    sli_put(b, w, n);
    return 1;
  }
  default: {
    const char *q = s->p;
    if (*q == '-') q++;
    const char *digits = q;
    while (q < s->end && *q >= '0' && *q <= '9') q++;
    size_t nd = (size_t)(q - digits);
    if (nd == 0 || nd > 18 || (nd > 1 && *digits == '0')) return 0;
    if (digits != s->p && nd == 1 && *digits == '0') return 0; /* -0 */
    if (q < s->end && (*q == '.' || *q == 'e' || *q == 'E')) return 0;
    sli_put(b, s->p, (size_t)(q - s->p));
    s->p = q;
    return 1;
  }
  }
}

int sl_json_reformat(sl_buf *out, const char *text, size_t len, int indent,
                     int reads, char *err, size_t errsz) {
  sl_json *v = NULL;
  if (!out || (!text && len)) {
    if (err && errsz) snprintf(err, errsz, "sl_json_reformat: NULL argument");
    return SL_MISUSE;
  }
  if (indent < -1) indent = -1;
  size_t mark = out->len;
  scan s = {text ? text : "", (text ? text : "") + len};
  skip_space(&s);
  if (fast_value(out, &s, indent, 0)) {
    skip_space(&s);
    if (s.p == s.end && !out->oom) return SL_OK;
  }
  if (!out->oom) {            /* not in the simple form: the general path */
    out->len = mark;
    int rc = sl_json_parse_serde(text ? text : "", len, reads, &v, err,
                                 errsz);
    if (rc != SL_OK) {
      if (out->data) out->data[mark] = '\0';
      return rc;
    }
    sl_json_write(out, v, indent, 1);
    sl_json_free(v);
    if (!out->oom) return SL_OK;
  }
  if (out->data && mark <= out->len) {
    out->len = mark;
    out->data[mark] = '\0';
  }
  if (err && errsz) snprintf(err, errsz, "out of memory");
  return SL_NOMEM;
}

int sl_json_canonicalize(const char *text, size_t len, sl_buf *out,
                         char *err, size_t errsz) {
  return sl_json_reformat(out, text, len, -1, 0, err, errsz);
}
