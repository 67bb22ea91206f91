/*
** sl_uuid.c -- correlation and device ids: random v4 UUIDs from libuuid,
** and the one reader of a UUID's text, which accepts what the uuid crate
** accepts (Spacedrive reads every id with it) and writes it lowercase and
** hyphenated as the crate writes it.
*/
#include <string.h>
#include <uuid/uuid.h>

#include <synclua/synclua.h>

void sl_uuid_v4(char *buf) {
  uuid_t u;
  uuid_generate_random(u);
  uuid_unparse_lower(u, buf);
}

/* Each byte's hex value, or -1 (a table: every row of an export reads
** three ids). */
static const signed char hex_of[256] = {
  ['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6,
  ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10, ['a'] = 11, ['b'] = 12,
  ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16, ['A'] = 11, ['B'] = 12,
  ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16};
#define HEX(c) (hex_of[(unsigned char)(c)] - 1) /* -1: not a hex digit */

/* Hyphens of the hyphenated form, by position. */
static const char hyphen_at[36] = {[8] = 1, [13] = 1, [18] = 1, [23] = 1};

/* The canonical form's classes: 1 a lowercase hex digit, 2 a hyphen; and
** the class each position wants. */
static const unsigned char canon_class[256] = {
  ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
  ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, ['a'] = 1, ['b'] = 1,
  ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['-'] = 2};
static const unsigned char canon_want[36] = {
  1, 1, 1, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1, 2, 1, 1, 1, 1,
  2, 1, 1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};

int sl_uuid_canonical(const char *s, size_t len) {
  const unsigned char *u = (const unsigned char *)s;
  unsigned differ = 0;
  if (!s || len != 36) return 0;
  for (int i = 0; i < 36; i++) differ |= canon_class[u[i]] ^ canon_want[i];
  return differ == 0;
}

/* uuid 1.18's try_parse: the length decides the form. */
int sl_uuid_parse(const char *s, size_t len, char out[SL_UUID_BUFSZ]) {
  static const char digits[] = "0123456789abcdef";
  char hex[32];
  size_t n = 0;
  int hyphenated = 1;
  if (!s) return SL_INVALID;
  if (len == 32) {
    hyphenated = 0;
  } else if (len == 38 && s[0] == '{' && s[37] == '}') {
    s += 1;
  } else if (len == 45 && memcmp(s, "urn:uuid:", 9) == 0) {
    s += 9;
  } else if (len != 36) {
    return SL_INVALID;
  }
  for (size_t i = 0; i < (hyphenated ? 36u : 32u); i++) {
    if (hyphenated && hyphen_at[i]) {
      if (s[i] != '-') return SL_INVALID;
      continue;
    }
    int v = HEX(s[i]);
    if (v < 0) return SL_INVALID;
    hex[n++] = digits[v];
  }
  for (size_t i = 0, o = 0; i < 32; i++) {
    if (i == 8 || i == 12 || i == 16 || i == 20) out[o++] = '-';
    out[o++] = hex[i];
  }
  out[36] = '\0';
  return SL_OK;
}

int sl_uuid_normalize(const char *in, char *buf) {
  return in ? sl_uuid_parse(in, strlen(in), buf) : SL_INVALID;
}
