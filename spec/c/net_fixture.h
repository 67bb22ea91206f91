/*
** net_fixture.h -- what the network tests (test_net.c, test_fetch_follow.c)
** share: the keys and the ids they stand for, the message openings, quick
** timeouts, and names in the test's scratch folder. Include it after
** defining `static char dir[]` (a mkdtemp template); call net_fixture_init
** first in main.
*/
#ifndef SYNCLUA_NET_FIXTURE_H
#define SYNCLUA_NET_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <sodium.h>
#include <synclua/net.h>

/* The key 00 01 02 ... 1f and the library id it stands for. */
#define LIB_ID    "a5851768-6f4c-8571-bdf9-d1e2fc3c6d9e"
/* The key ff ff ... ff and its library id. */
#define LIB_FF    "7fdd8be1-7de3-889f-a7a4-b043762cbe39"
#define DEV_A     "11111111-2222-4333-8444-555555555555"
#define DEV_ME    "c0ffee00-1234-4567-89ab-cdef01234567"

#define SEC SL_NS_PER_SEC
/* 2025-12-03T10:15:00Z, as `date -u -d @1764756900` says. */
#define T0  (INT64_C(1764756900) * SEC)

/* A message's opening, with the ids of most tests. */
#define RQ(body)  "{\"EventLogRequest\":{" body "}}"
#define RS(body)  "{\"EventLogResponse\":{" body "}}"
#define IDS       "\"library_id\":\"" LIB_ID "\",\"requesting_device\":\"" \
                  DEV_ME "\""
#define RIDS      "\"library_id\":\"" LIB_ID "\",\"responding_device\":\"" \
                  DEV_A "\""

static unsigned char key[SL_KEY_BYTES];       /* 00 01 ... 1f */
static unsigned char wrong_key[SL_KEY_BYTES]; /* ff ff ... ff */
static const sl_timeouts quick = {2000, 2000, 2000, 0};
static const sl_open_opts write_opts = {.mode = SL_OPEN_WRITE};

/* The keys made, the scratch folder made: 0, or -1. */
static inline int net_fixture_init(void) {
  for (int i = 0; i < SL_KEY_BYTES; i++) {
    key[i] = (unsigned char)i;
    wrong_key[i] = 0xff;
  }
  return sodium_init() < 0 || !mkdtemp(dir) ? -1 : 0;
}

/* name in the scratch folder; the text lasts four calls. */
static inline const char *path_of(const char *name) {
  static char bufs[4][256];
  static int next;
  char *b = bufs[next++ % 4];
  snprintf(b, sizeof bufs[0], "%s/%s", dir, name);
  return b;
}

#endif
