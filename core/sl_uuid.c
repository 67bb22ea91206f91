/*
** sl_uuid.c -- correlation and device ids: random v4 UUIDs from libuuid,
** written lowercase and hyphenated as the uuid crate writes them.
*/
#include <uuid/uuid.h>

#include "sl.h"

void sl_uuid_v4(char *buf) {
  uuid_t u;
  uuid_generate_random(u);
  uuid_unparse_lower(u, buf);
}

int sl_uuid_normalize(const char *in, char *buf) {
  uuid_t u;
  if (!in || uuid_parse(in, u) != 0) return SL_INVALID;
  uuid_unparse_lower(u, buf);
  return SL_OK;
}
