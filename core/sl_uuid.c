/*
** sl_uuid.c -- correlation and device ids: random v4 UUIDs from libuuid,
** and the one reader of a UUID's text, which accepts what the uuid crate
** accepts (Spacedrive reads every id with it) and writes it lowercase and
** hyphenated as the crate writes it.
*/
#include <string.h>
#include <uuid/uuid.h>

#include "sl.h"

void sl_uuid_v4(char *buf) {
  uuid_t u;
  uuid_generate_random(u);
  uuid_unparse_lower(u, buf);
}

static int hex_value(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
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
    if (hyphenated && (i == 8 || i == 13 || i == 18 || i == 23)) {
      if (s[i] != '-') return SL_INVALID;
      continue;
    }
    int v = hex_value((unsigned char)s[i]);
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
