/*
** sl_merge.c -- several devices' logs as one timeline: a streaming k-way
** merge of cursors (one per store), ordered by each row's instant shifted
** by its device's clock offset, with a stable tie-break (source order,
** then id). It holds one row per source and never sorts: memory stays flat
** whatever the number of rows. Rows whose time is unknown come last.
*/
#include <stdlib.h>
#include <string.h>

#include "sli.h"

typedef struct source {
  sl_cursor      *cursor;      /* owned; NULL once exhausted                */
  int64_t         offset;      /* ns to subtract: the device's clock skew   */
  const sl_event *row;         /* its current row, valid until next step    */
} source;

struct sl_merge {
  source  *sources;            /* in the caller's order                     */
  size_t   n;
  int      descending;         /* newest first                              */
  int      started;            /* every source stepped once                 */
  size_t   current;            /* the source whose row was handed out       */
  int      has_current;
  char     errmsg[SLI_ERRMSG_MAX];
};

int sl_merge_new(sl_cursor **cursors, const int64_t *offsets, size_t n,
                 int descending, sl_merge **out) {
  if (!out) return SL_MISUSE;
  *out = NULL;
  sl_merge *m = calloc(1, sizeof *m);
  if (!m || !(m->sources = calloc(n ? n : 1, sizeof *m->sources))) {
    free(m);
    for (size_t i = 0; i < n; i++) sl_cursor_close(cursors[i]);
    return SL_NOMEM;
  }
  m->n = n;
  m->descending = descending != 0;
  for (size_t i = 0; i < n; i++) {
    m->sources[i].cursor = cursors[i];
    m->sources[i].offset = offsets ? offsets[i] : 0;
  }
  *out = m;
  return SL_OK;
}

/* Move a source to its next row. */
static int step(sl_merge *m, source *s) {
  if (!s->cursor) return SL_OK;
  int rc = sl_cursor_next(s->cursor, &s->row);
  if (rc == SL_ROW) return SL_OK;
  if (rc != SL_DONE) {
    memcpy(m->errmsg, sl_cursor_errmsg(s->cursor), sizeof m->errmsg);
    m->errmsg[sizeof m->errmsg - 1] = '\0';
  }
  sl_cursor_close(s->cursor);
  s->cursor = NULL;
  s->row = NULL;
  return rc == SL_DONE ? SL_OK : rc;
}

/* < 0 when source x's row comes first, 0 on a tie (which keeps source
** order), > 0 when y's does. */
static int compare(const sl_merge *m, const source *x, const source *y) {
  const sl_event *a = x->row, *b = y->row;
  if (a->has_instant != b->has_instant) return a->has_instant ? -1 : 1;
  if (!a->has_instant) return 0;
  int64_t ta = a->instant - x->offset, tb = b->instant - y->offset;
  if (ta == tb) return 0;
  return (ta < tb) != m->descending ? -1 : 1;
}

int sl_merge_next(sl_merge *m, size_t *source_index, const sl_event **ev,
                  int64_t *adjusted) {
  int rc;
  if (!m || !ev) return SL_MISUSE;
  if (!m->started) {
    m->started = 1;
    for (size_t i = 0; i < m->n; i++)
      if ((rc = step(m, &m->sources[i])) != SL_OK) return rc;
  } else if (m->has_current) {
    if ((rc = step(m, &m->sources[m->current])) != SL_OK) return rc;
  }
  size_t best = 0;
  int found = 0;
  for (size_t i = 0; i < m->n; i++) {
    if (!m->sources[i].cursor) continue;
    if (!found || compare(m, &m->sources[i], &m->sources[best]) < 0) best = i;
    found = 1;
  }
  m->has_current = found;
  if (!found) return SL_DONE;
  m->current = best;
  *ev = m->sources[best].row;
  if (source_index) *source_index = best;
  if (adjusted)
    *adjusted = (*ev)->has_instant ? (*ev)->instant - m->sources[best].offset
                                   : 0;
  return SL_ROW;
}

const char *sl_merge_errmsg(const sl_merge *m) {
  return m ? m->errmsg : "out of memory";
}

void sl_merge_free(sl_merge *m) {
  if (!m) return;
  for (size_t i = 0; i < m->n; i++) sl_cursor_close(m->sources[i].cursor);
  free(m->sources);
  free(m);
}
