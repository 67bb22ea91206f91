/*
** sl_buf.c -- core layer: the growable byte buffer every writer appends to.
**
** Owns the memory behind an sl_buf. Growth doubles, so appending n bytes one
** at a time costs O(n). A failed allocation sets `oom` and turns every later
** append into a no-op: writers build a whole document and check once at the
** end instead of after every call, and the bytes already there stay valid.
*/
#include <synclua/synclua.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Small buffers are common (a key, a number): start big enough that most
** never reallocate. */
#define MIN_CAP 64

/* Make room for `extra` more bytes plus the NUL. 0 on failure (oom set). */
static int grow(sl_buf *b, size_t extra) {
  size_t need, cap;
  char *p;
  if (extra > SIZE_MAX / 2 - b->len) { b->oom = 1; return 0; }
  need = b->len + extra + 1;
  if (need <= b->cap) return 1;
  cap = b->cap ? b->cap : MIN_CAP;
  while (cap < need) cap *= 2;
  p = realloc(b->data, cap);
  if (!p) { b->oom = 1; return 0; }
  b->data = p;
  b->cap = cap;
  return 1;
}

void sl_buf_append(sl_buf *b, const char *bytes, size_t n) {
  if (!b || b->oom || n == 0 || !bytes) return;
  if (n >= b->cap - b->len) {
    /* The source may live in this very buffer (appending a slice of what
    ** was written); realloc would move it, so remember it as an offset. */
    uintptr_t s = (uintptr_t)bytes, d = (uintptr_t)b->data;
    if (b->data && s >= d && s < d + b->cap) {
      size_t off = (size_t)(s - d);
      if (!grow(b, n)) return;
      bytes = b->data + off;
    } else if (!grow(b, n)) {
      return;
    }
  }
  memmove(b->data + b->len, bytes, n);
  b->len += n;
  b->data[b->len] = '\0';
}

void sl_buf_puts(sl_buf *b, const char *s) {
  if (s) sl_buf_append(b, s, strlen(s));
}

/* Keeps the allocation for reuse, and forgets an earlier failure: the
** buffer starts a new document. */
void sl_buf_reset(sl_buf *b) {
  if (!b) return;
  b->len = 0;
  b->oom = 0;
  if (b->data) b->data[0] = '\0';
}

void sl_buf_free(sl_buf *b) {
  if (!b) return;
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
  b->oom = 0;
}
