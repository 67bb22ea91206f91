/*
** sl_redact.c -- core layer: redaction, the pseudonyms of `--redact`
** (include/synclua/redact.h).
**
** Owns the redactor: the HMAC key (absorbed once into a libsodium HMAC
** state, copied for each message), the ids it has turned into pseudonyms
** (a table of 16-byte pairs indexed both ways: a cache, so that a row's
** ids cost one lookup each, and the memory sl_redact_reveal reads), and
** the set of distinct values it replaced, by kind, for the counts. Text is
** scanned byte by byte here; JSON is read and written by sl_json.c alone.
*/
#include "sli.h"

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define TAG_PREFIX "redacted-"
#define TAG_HEX    12         /* hex digits of the HMAC in a tag           */
#define TAG_LEN    (sizeof TAG_PREFIX - 1 + TAG_HEX)

typedef struct id_pair {
  unsigned char orig[16];     /* the id                                     */
  unsigned char pseudo[16];   /* its pseudonym                              */
} id_pair;

struct sl_redactor {
  crypto_auth_hmacsha256_state base; /* the key absorbed: copied per MAC   */
  int       keyed;            /* made from a caller's key                   */
  id_pair  *pairs;            /* every id turned into a pseudonym           */
  size_t    n_pairs;
  uint32_t *by_orig;          /* index + 1 into pairs by id; 0 empty        */
  uint32_t *by_pseudo;        /* the same by pseudonym                      */
  size_t    slots;            /* of each index: a power of two, or 0        */
  uint64_t *seen;             /* distinct (kind, value) hashes; 0 empty     */
  size_t    seen_cap;         /* a power of two, or 0                       */
  size_t    seen_n;
  int64_t   counts[SL_REDACT_KIND_COUNT];
  sl_buf    text;             /* a details string being cleaned             */
};

static const char *const kind_names[SL_REDACT_KIND_COUNT] = {
  "device", "peer", "correlation", "library", "summary_id", "summary_path",
  "details"};

const char *sl_redact_kind_name(int kind) {
  return kind >= 0 && kind < SL_REDACT_KIND_COUNT ? kind_names[kind] : NULL;
}

/* The allow-list, sorted (sl_redact_allowed). */
static const char *const allowed_keys[] = {
  "action", "event_types", "phase", "reason", "request", "since"};
#define N_ALLOWED (sizeof allowed_keys / sizeof allowed_keys[0])

int sl_redact_allowed(const char *key, size_t len) {
  if (!key) return 0;
  for (size_t i = 0; i < N_ALLOWED; i++)
    if (strlen(allowed_keys[i]) == len && !memcmp(allowed_keys[i], key, len))
      return 1;
  return 0;
}

const char *sl_redact_allowed_list(void) {
  return "action, event_types, phase, reason, request, since";
}

/* ---------------------------------------------------------------- hashing */

static void mac(const sl_redactor *r, const void *msg, size_t n,
                unsigned char out[crypto_auth_hmacsha256_BYTES]) {
  crypto_auth_hmacsha256_state st = r->base;
  crypto_auth_hmacsha256_update(&st, msg, n);
  crypto_auth_hmacsha256_final(&st, out);
  sodium_memzero(&st, sizeof st);
}

static uint64_t load64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = v << 8 | p[i];
  return v;
}

/* splitmix64's finaliser: every bit of x reaches every bit. */
static uint64_t mix(uint64_t x) {
  x ^= x >> 30;
  x *= UINT64_C(0xbf58476d1ce4e5b9);
  x ^= x >> 27;
  x *= UINT64_C(0x94d049bb133111eb);
  return x ^ (x >> 31);
}

/* FNV-1a over bytes, mixed: what a value is told apart by when counted. */
static uint64_t text_hash(const char *s, size_t n) {
  uint64_t h = UINT64_C(0xcbf29ce484222325);
  for (size_t i = 0; i < n; i++) {
    h ^= (unsigned char)s[i];
    h *= UINT64_C(0x100000001b3);
  }
  return mix(h);
}

static uint64_t id_hash(const unsigned char b[16]) {
  return mix(load64(b) ^ mix(load64(b + 8)));
}

/* ------------------------------------------------------------- counting */

/* Count value h of `kind` once however often it is seen. Without memory
** to remember it, it is not counted (the counts are then a lower bound;
** SL_NOMEM tells the caller). */
static int count_once(sl_redactor *r, int kind, uint64_t h) {
  if (kind < 0) return SL_OK;
  uint64_t salt = UINT64_C(0x9e3779b97f4a7c15) * (uint64_t)(kind + 1);
  uint64_t key = mix(h ^ salt);
  if (key == 0) key = 1;
  if (r->seen_n + 1 > r->seen_cap / 2) {
    size_t cap = r->seen_cap ? r->seen_cap * 2 : 256;
    uint64_t *s = calloc(cap, sizeof *s);
    if (!s) return SL_NOMEM;
    for (size_t i = 0; i < r->seen_cap; i++) {
      if (!r->seen[i]) continue;
      size_t j = (size_t)r->seen[i] & (cap - 1);
      while (s[j]) j = (j + 1) & (cap - 1);
      s[j] = r->seen[i];
    }
    free(r->seen);
    r->seen = s;
    r->seen_cap = cap;
  }
  size_t j = (size_t)key & (r->seen_cap - 1);
  while (r->seen[j]) {
    if (r->seen[j] == key) return SL_OK;
    j = (j + 1) & (r->seen_cap - 1);
  }
  r->seen[j] = key;
  r->seen_n++;
  r->counts[kind]++;
  return SL_OK;
}

/* ------------------------------------------------------------ the ids */

static const signed char hex_val[256] = {
  ['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6,
  ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10, ['a'] = 11, ['b'] = 12,
  ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16, ['A'] = 11, ['B'] = 12,
  ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16};
#define HEX(c) (hex_val[(unsigned char)(c)] - 1) /* -1: not a hex digit */

/* Canonical text (36 characters) -> 16 bytes. */
static void uuid_bytes(const char *canon, unsigned char out[16]) {
  for (int i = 0, k = 0; i < 36; i++) {
    if (canon[i] == '-') continue;
    int v = HEX(canon[i]);
    if (k & 1) out[k / 2] = (unsigned char)(out[k / 2] << 4 | v);
    else out[k / 2] = (unsigned char)v;
    k++;
  }
}

/* 16 bytes -> canonical text, NUL-terminated. */
static void uuid_text(const unsigned char b[16], char out[SL_UUID_BUFSZ]) {
  static const char digits[] = "0123456789abcdef";
  char *o = out;
  for (int i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10) *o++ = '-';
    *o++ = digits[b[i] >> 4];
    *o++ = digits[b[i] & 15];
  }
  *o = '\0';
}

/* The pair index slot holding `b` in `index` (keyed by orig or pseudo),
** or the empty slot where it would go. */
static size_t slot_of(const sl_redactor *r, const uint32_t *index,
                      const unsigned char b[16], int by_pseudo) {
  size_t j = (size_t)id_hash(b) & (r->slots - 1);
  while (index[j]) {
    const id_pair *p = &r->pairs[index[j] - 1];
    if (!memcmp(by_pseudo ? p->pseudo : p->orig, b, 16)) break;
    j = (j + 1) & (r->slots - 1);
  }
  return j;
}

/* Room for one more pair, the indexes grown and rebuilt at half full. */
static int make_room(sl_redactor *r) {
  if (r->n_pairs >= UINT32_MAX - 1) return SL_NOMEM;
  if (r->n_pairs % 64 == 0) {
    id_pair *p = realloc(r->pairs, (r->n_pairs + 64) * sizeof *p);
    if (!p) return SL_NOMEM;
    r->pairs = p;
  }
  if (r->n_pairs + 1 > r->slots / 2) {
    size_t slots = r->slots ? r->slots * 2 : 128;
    uint32_t *a = calloc(slots, sizeof *a), *b = calloc(slots, sizeof *b);
    if (!a || !b) {
      free(a);
      free(b);
      return SL_NOMEM;
    }
    free(r->by_orig);
    free(r->by_pseudo);
    r->by_orig = a;
    r->by_pseudo = b;
    r->slots = slots;
    for (size_t i = 0; i < r->n_pairs; i++) {
      a[slot_of(r, a, r->pairs[i].orig, 0)] = (uint32_t)i + 1;
      b[slot_of(r, b, r->pairs[i].pseudo, 1)] = (uint32_t)i + 1;
    }
  }
  return SL_OK;
}

/* The pseudonym of the canonical id `canon` into out, remembered and
** counted under kind (-1: not counted). SL_OK, or SL_NOMEM with out
** written all the same. */
static int pseudonym(sl_redactor *r, const char *canon, int kind,
                     char out[SL_UUID_BUFSZ]) {
  unsigned char orig[16], m[crypto_auth_hmacsha256_BYTES];
  uuid_bytes(canon, orig);
  if (r->slots) {
    uint32_t i = r->by_orig[slot_of(r, r->by_orig, orig, 0)];
    if (i) {
      uuid_text(r->pairs[i - 1].pseudo, out);
      return count_once(r, kind, id_hash(orig));
    }
  }
  mac(r, canon, 36, m);
  m[6] = (unsigned char)((m[6] & 0x0f) | 0x40); /* version 4 */
  m[8] = (unsigned char)((m[8] & 0x3f) | 0x80); /* variant 10 */
  uuid_text(m, out);
  int rc = make_room(r);
  if (rc == SL_OK) {
    id_pair *p = &r->pairs[r->n_pairs++];
    memcpy(p->orig, orig, 16);
    memcpy(p->pseudo, m, 16);
    r->by_orig[slot_of(r, r->by_orig, orig, 0)] = (uint32_t)r->n_pairs;
    r->by_pseudo[slot_of(r, r->by_pseudo, m, 1)] = (uint32_t)r->n_pairs;
  }
  int rc2 = count_once(r, kind, id_hash(orig));
  return rc != SL_OK ? rc : rc2;
}

/* "redacted-" and TAG_HEX hex digits of the HMAC of s[0..n), to b. */
static void put_tag(const sl_redactor *r, const char *s, size_t n,
                    sl_buf *b) {
  static const char digits[] = "0123456789abcdef";
  unsigned char m[crypto_auth_hmacsha256_BYTES];
  char tag[TAG_LEN];
  mac(r, s, n, m);
  memcpy(tag, TAG_PREFIX, sizeof TAG_PREFIX - 1);
  for (size_t i = 0; i < TAG_HEX; i++)
    tag[sizeof TAG_PREFIX - 1 + i] =
      digits[(m[i / 2] >> (i & 1 ? 0 : 4)) & 15];
  sli_put(b, tag, TAG_LEN);
}

/* ----------------------------------------------------------------- text */

/* Is there a UUID at s[i..n), and how long: 36 (hyphenated: its shape is
** enough, whatever is around it), 32 (simple: 32 hex digits with no hex
** digit right before or after them, so a longer hex string such as a hash
** is left whole) or 0? */
static size_t uuid_at(const char *s, size_t i, size_t n) {
  if (n - i >= 36 && s[i + 8] == '-') {
    size_t k;
    for (k = 0; k < 36; k++) {
      int want_hyphen = k == 8 || k == 13 || k == 18 || k == 23;
      if (want_hyphen ? s[i + k] != '-' : HEX(s[i + k]) < 0) break;
    }
    return k == 36 ? 36 : 0;
  }
  if (i > 0 && HEX(s[i - 1]) >= 0) return 0;
  if (n - i >= 32) {
    size_t k;
    for (k = 0; k < 32 && HEX(s[i + k]) >= 0; k++) {}
    if (k == 32 && (i + 32 == n || HEX(s[i + 32]) < 0)) return 32;
  }
  return 0;
}

static int is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Does an absolute path start at s[i]: '/' or "~/" at the start or after
** a space or one of ( [ " ' = :, with another '/' after some other
** character before the next space? */
static int path_at(const char *s, size_t i, size_t n) {
  size_t j;
  if (s[i] == '/') j = i + 1;
  else if (s[i] == '~' && i + 1 < n && s[i + 1] == '/') j = i + 2;
  else return 0;
  if (i > 0) {
    char c = s[i - 1];
    if (!is_space(c) && (c == '\0' || !strchr("([\"'=:", c))) return 0;
  }
  int other = 0;
  for (; j < n && !is_space(s[j]); j++) {
    if (s[j] == '/' && other) return 1;
    if (s[j] != '/') other = 1;
  }
  return 0;
}

/* s[0..n) to b with each UUID replaced by its pseudonym (counted under
** id_kind) and an absolute path, to the end, by a tag (counted under
** path_kind); -1 counts nothing. Returns how many were replaced; *status
** gets SL_NOMEM when memory ran out somewhere. */
static size_t clean_text(sl_redactor *r, const char *s, size_t n, sl_buf *b,
                         int id_kind, int path_kind, int *status) {
  size_t from = 0, i = 0, changed = 0;
  while (i < n) {
    size_t len;
    if (HEX(s[i]) >= 0 && (len = uuid_at(s, i, n)) > 0) {
      char canon[SL_UUID_BUFSZ], pseudo[SL_UUID_BUFSZ];
      int upper = 0, lower = 0;
      for (size_t k = i; k < i + len; k++) {
        upper |= s[k] >= 'A' && s[k] <= 'F';
        lower |= s[k] >= 'a' && s[k] <= 'f';
      }
      sl_uuid_parse(s + i, len, canon);
      if (pseudonym(r, canon, id_kind, pseudo) != SL_OK) *status = SL_NOMEM;
      sli_put(b, s + from, i - from);
      for (size_t k = 0; k < 36; k++) {
        char c = pseudo[k];
        if (len == 32 && c == '-') continue;
        if (upper && !lower && c >= 'a' && c <= 'f') c = (char)(c - 'a' + 'A');
        sli_put(b, &c, 1);
      }
      i += len;
      from = i;
      changed++;
    } else if ((s[i] == '/' || s[i] == '~') && path_at(s, i, n)) {
      sli_put(b, s + from, i - from);
      put_tag(r, s + i, n - i, b);
      if (count_once(r, path_kind, text_hash(s + i, n - i)) != SL_OK)
        *status = SL_NOMEM;
      from = i = n;
      changed++;
    } else {
      i++;
    }
  }
  sli_put(b, s + from, n - from);
  return changed;
}

/* ------------------------------------------------------------- details */

/* Replace string s (malloc'ed, *len bytes) with b's bytes. */
static int replace_string(char **s, size_t *len, const sl_buf *b) {
  char *t = malloc(b->len + 1);
  if (!t) return SL_NOMEM;
  memcpy(t, b->data ? b->data : "", b->len);
  t[b->len] = '\0';
  free(*s);
  *s = t;
  *len = b->len;
  return SL_OK;
}

/* The redacted form of string s[0..n) under a key not on the allow-list,
** into b: a UUID's pseudonym, or a tag. */
static int redact_string(sl_redactor *r, const char *s, size_t n,
                         sl_buf *b) {
  char canon[SL_UUID_BUFSZ], pseudo[SL_UUID_BUFSZ];
  int rc = SL_OK;
  if (sl_uuid_parse(s, n, canon) == SL_OK) {
    rc = pseudonym(r, canon, -1, pseudo);
    sli_put(b, pseudo, 36);
  } else {
    put_tag(r, s, n, b);
  }
  return rc;
}

/* Redact the strings of v in place (allowed: the nearest key above is on
** the allow-list). Returns how many strings changed; *status gets
** SL_NOMEM when memory ran out (the tree may then hold a string as it
** was: the caller drops it). */
static size_t walk(sl_redactor *r, sl_json *v, int allowed, int *status) {
  size_t changed = 0;
  sl_buf *b = &r->text;
  switch (v->kind) {
  case SL_JSON_STRING:
    if (v->length == 0) return 0;
    sl_buf_reset(b);
    if (allowed) {
      if (!clean_text(r, v->string, v->length, b, -1, -1, status)) return 0;
    } else if (redact_string(r, v->string, v->length, b) != SL_OK) {
      *status = SL_NOMEM;
    }
    if (count_once(r, SL_REDACT_DETAILS, text_hash(v->string, v->length))
        != SL_OK)
      *status = SL_NOMEM;
    if (b->oom || replace_string(&v->string, &v->length, b) != SL_OK)
      *status = SL_NOMEM;
    return 1;
  case SL_JSON_ARRAY:
    for (size_t i = 0; i < v->length; i++)
      changed += walk(r, v->items[i], allowed, status);
    return changed;
  case SL_JSON_OBJECT:
    for (size_t i = 0; i < v->length; i++) {
      char canon[SL_UUID_BUFSZ];
      changed += walk(r, v->items[i],
                      sl_redact_allowed(v->keys[i], v->key_lengths[i]),
                      status);
      if (sl_uuid_parse(v->keys[i], v->key_lengths[i], canon) == SL_OK) {
        sl_buf_reset(b);
        if (redact_string(r, v->keys[i], v->key_lengths[i], b) != SL_OK ||
            count_once(r, SL_REDACT_DETAILS,
                       text_hash(v->keys[i], v->key_lengths[i])) != SL_OK ||
            b->oom ||
            replace_string(&v->keys[i], &v->key_lengths[i], b) != SL_OK)
          *status = SL_NOMEM;
        changed++;
      }
    }
    return changed;
  default:
    return 0;
  }
}

/* ------------------------------------------------------------ the API */

int sl_redactor_new(const void *key, size_t keylen, sl_redactor **out) {
  unsigned char random[32];
  if (!out) return SL_MISUSE;
  *out = NULL;
  if (key && keylen == 0) return SL_INVALID;
  if (sodium_init() < 0) return SL_ERROR;
  sl_redactor *r = calloc(1, sizeof *r);
  if (!r) return SL_NOMEM;
  r->keyed = key != NULL;
  if (!key) {
    randombytes_buf(random, sizeof random);
    key = random;
    keylen = sizeof random;
  }
  crypto_auth_hmacsha256_init(&r->base, key, keylen);
  sodium_memzero(random, sizeof random);
  *out = r;
  return SL_OK;
}

void sl_redactor_free(sl_redactor *r) {
  if (!r) return;
  free(r->pairs);
  free(r->by_orig);
  free(r->by_pseudo);
  free(r->seen);
  sl_buf_free(&r->text);
  sodium_memzero(r, sizeof *r);
  free(r);
}

int sl_redactor_keyed(const sl_redactor *r) {
  return r ? r->keyed : 0;
}

int sl_redact_id(sl_redactor *r, const char *text, size_t len, int kind,
                 char out[SL_UUID_BUFSZ]) {
  char canon[SL_UUID_BUFSZ];
  if (!r || !text || !out || kind < -1 || kind >= SL_REDACT_KIND_COUNT)
    return SL_MISUSE;
  if (sl_uuid_parse(text, len, canon) != SL_OK) return SL_INVALID;
  return pseudonym(r, canon, kind, out);
}

int sl_redact_reveal(const sl_redactor *r, const char *text, size_t len,
                     char out[SL_UUID_BUFSZ]) {
  char canon[SL_UUID_BUFSZ];
  unsigned char b[16];
  if (!r || !text || !out) return SL_MISUSE;
  if (sl_uuid_parse(text, len, canon) != SL_OK || !r->slots)
    return SL_NOTFOUND;
  uuid_bytes(canon, b);
  uint32_t i = r->by_pseudo[slot_of(r, r->by_pseudo, b, 1)];
  if (!i) return SL_NOTFOUND;
  uuid_text(r->pairs[i - 1].orig, out);
  return SL_OK;
}

void sl_redactor_counts(const sl_redactor *r,
                        int64_t counts[SL_REDACT_KIND_COUNT]) {
  for (int k = 0; k < SL_REDACT_KIND_COUNT; k++)
    counts[k] = r ? r->counts[k] : 0;
}

/* An id column of in (col) redacted into scratch, NUL-terminated, its
** offset into *off; kept as it is (*off SIZE_MAX) when absent or "". */
static int put_id(sl_redactor *r, const sl_event *in, int col, int kind,
                  sl_buf *scratch, size_t *off) {
  char canon[SL_UUID_BUFSZ], pseudo[SL_UUID_BUFSZ];
  size_t n;
  const char *s = sl_event_text(in, col, &n);
  int rc = SL_OK;
  *off = SIZE_MAX;
  if (!s || n == 0) return SL_OK;
  *off = scratch->len;
  if (sl_uuid_parse(s, n, canon) == SL_OK) {
    rc = pseudonym(r, canon, kind, pseudo);
    sli_put(scratch, pseudo, 36);
  } else {
    put_tag(r, s, n, scratch);
    rc = count_once(r, kind, text_hash(s, n));
  }
  sl_buf_append(scratch, "", 1);
  return rc;
}

/* Point out's column at scratch offset off (length to the NUL). */
static void point(sl_event *out, int col, const sl_buf *scratch, size_t off,
                  size_t len) {
  const char *p = scratch->data + off;
  switch (col) {
  case SL_COL_DEVICE_ID:      out->device_id = p; break;
  case SL_COL_PEER_DEVICE_ID: out->peer_device_id = p; break;
  case SL_COL_CORRELATION_ID: out->correlation_id = p; break;
  case SL_COL_SUMMARY:        out->summary = p; break;
  case SL_COL_DETAILS:        out->details = p; break;
  default:                    break;
  }
  out->len[col] = len;
}

int sl_redact_event(sl_redactor *r, const sl_event *in, sl_event *out,
                    sl_buf *scratch) {
  static const int id_cols[3] = {SL_COL_DEVICE_ID, SL_COL_PEER_DEVICE_ID,
                                 SL_COL_CORRELATION_ID};
  static const int id_kinds[3] = {SL_REDACT_DEVICE, SL_REDACT_PEER,
                                  SL_REDACT_CORRELATION};
  size_t off[3], sum_off = SIZE_MAX, sum_len = 0, det_off = SIZE_MAX;
  size_t det_len = 0, n;
  int status = SL_OK;
  const char *s;
  if (!r || !in || !out || !scratch) return SL_MISUSE;
  *out = *in;
  sl_buf_reset(scratch);
  for (int i = 0; i < 3; i++)
    if (put_id(r, in, id_cols[i], id_kinds[i], scratch, &off[i]) != SL_OK)
      status = SL_NOMEM;

  if ((s = sl_event_text(in, SL_COL_SUMMARY, &n)) != NULL) {
    sum_off = scratch->len;
    clean_text(r, s, n, scratch, SL_REDACT_SUMMARY_ID,
               SL_REDACT_SUMMARY_PATH, &status);
    sum_len = scratch->len - sum_off;
    sl_buf_append(scratch, "", 1);
  }

  if ((s = sl_event_text(in, SL_COL_DETAILS, &n)) != NULL) {
    sl_json *tree = NULL;
    int rc = sl_json_parse(s, n, &tree, NULL, 0);
    if (rc == SL_NOMEM) {
      status = SL_NOMEM;
    } else if (rc != SL_OK) {
      /* Not JSON: absent, as Spacedrive reads it. */
      if (count_once(r, SL_REDACT_DETAILS, text_hash(s, n)) != SL_OK)
        status = SL_NOMEM;
      out->details = NULL;
      out->len[SL_COL_DETAILS] = 0;
    } else {
      int st = SL_OK;
      if (walk(r, tree, 0, &st) > 0 && st == SL_OK) {
        det_off = scratch->len;
        sl_json_write(scratch, tree, -1, 1);
        det_len = scratch->len - det_off;
        sl_buf_append(scratch, "", 1);
      }
      if (st != SL_OK) status = st;
      sl_json_free(tree);
    }
  }

  if (status != SL_OK || scratch->oom) {
    memset(out, 0, sizeof *out);
    return SL_NOMEM;
  }
  for (int i = 0; i < 3; i++)
    if (off[i] != SIZE_MAX)
      point(out, id_cols[i], scratch, off[i], strlen(scratch->data + off[i]));
  if (sum_off != SIZE_MAX)
    point(out, SL_COL_SUMMARY, scratch, sum_off, sum_len);
  if (det_off != SIZE_MAX)
    point(out, SL_COL_DETAILS, scratch, det_off, det_len);
  return SL_OK;
}
