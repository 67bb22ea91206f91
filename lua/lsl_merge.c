/*
** lsl_merge.c -- synclua.merge: several stores' cursors as one timeline
** (core/sl_merge.c), from Lua. Each row comes with the device label and
** the skew-corrected instant of its source; with `render`, as export bytes
** that carry both (the timeline's output), so that a merge of millions of
** rows never builds a Lua table.
*/
#include <stdlib.h>
#include <string.h>

#include "lsl_render.h"

#define LSL_MERGE "synclua.Merge"

/* The timeline's text rows (sl_render_timeline_text): a format of the
** merge's own, beside the export formats. */
#define RENDER_TEXT SL_RENDER_FORMAT_COUNT

/* A row in a causality violation: its source (0-based) and id. */
typedef struct flag {
  int64_t src, id;
} flag;

typedef struct lmerge {
  sl_merge   *m;               /* NULL once finished or closed              */
  int         render;          /* an sl_render_format, RENDER_TEXT, or -1
                                  for tables                                */
  size_t      width;           /* RENDER_TEXT: the labels' column width     */
  flag       *flags;           /* RENDER_TEXT: the flagged rows, sorted     */
  size_t      n_flags;
  int         raw;             /* tables: details as text                   */
  size_t      n;               /* sources                                   */
  const char *sep;             /* between rendered rows (user value 3)      */
  size_t      seplen;
  lua_Integer rows;            /* rows handed out                           */
  lua_Integer limit;           /* rows allowed in all; < 0 for no limit     */
  lua_Integer untimed;         /* of them, with a timestamp that won't parse */
  sl_bad_rows bad;             /* of them, read leniently (synclua.h)       */
  sl_buf      buf;             /* rendered rows                             */
} lmerge;

#define CHUNK_BYTES 65536

static lmerge *check_merge(lua_State *L) {
  return luaL_checkudata(L, 1, LSL_MERGE);
}

/* The label of source i (user value 1 is the labels list). */
static const char *label_of(lua_State *L, size_t i, size_t *len) {
  lua_getiuservalue(L, 1, 1);
  lua_rawgeti(L, -1, (lua_Integer)i + 1);
  const char *label = lua_tolstring(L, -1, len);
  lua_pop(L, 2); /* the labels list keeps the string alive */
  return label;
}

/* Append the label and the adjusted time to a rendered row: two fields
** after the row's own in JSON and NDJSON, two columns in CSV, a Device
** column after the time in Markdown (whose time is the adjusted one). */
static void add_timeline_fields(sl_buf *b, int format, const char *label,
                                size_t len, const sl_event *ev,
                                int64_t adjusted) {
  char ts[SL_TIME_BUFSZ];
  size_t tlen = ev->has_instant ? sl_time_format(adjusted, 1, ts) : 0;
  switch (format) {
  case SL_RENDER_JSON:
  case SL_RENDER_JSON_DEVICE:
    b->len -= 4; /* "\n  }" */
    sl_buf_puts(b, ",\n    \"device_label\": ");
    sl_json_write_string(b, label, len);
    sl_buf_puts(b, ",\n    \"adjusted_timestamp\": ");
    break;
  case SL_RENDER_NDJSON:
  case SL_RENDER_NDJSON_DEVICE:
    b->len -= 2; /* "}\n" */
    sl_buf_puts(b, ",\"device_label\":");
    sl_json_write_string(b, label, len);
    sl_buf_puts(b, ",\"adjusted_timestamp\":");
    break;
  case SL_RENDER_CSV:
    b->len -= 2; /* "\r\n" */
    sl_buf_puts(b, ",");
    if (strcspn(label, ",\"\r\n") < len) { /* RFC 4180: quote when needed */
      sl_buf_puts(b, "\"");
      for (size_t i = 0; i < len; i++) {
        if (label[i] == '"') sl_buf_puts(b, "\"");
        sl_buf_append(b, label + i, 1);
      }
      sl_buf_puts(b, "\"");
    } else {
      sl_buf_append(b, label, len);
    }
    sl_buf_puts(b, ",");
    if (tlen) sl_buf_append(b, ts, tlen);
    sl_buf_puts(b, "\r\n");
    return;
  default:
    return;
  }
  if (tlen) {
    sl_buf_puts(b, "\"");
    sl_buf_append(b, ts, tlen);
    sl_buf_puts(b, "\"");
  } else {
    sl_buf_puts(b, "null");
  }
  sl_buf_puts(b, format == SL_RENDER_NDJSON || format == SL_RENDER_NDJSON_DEVICE
                   ? "}\n" : "\n  }");
}

/* A Markdown row stamped with the adjusted time, the device after it. */
static int render_markdown(sl_buf *b, const sl_event *ev, int64_t adjusted,
                           const char *label, size_t len) {
  sl_event shifted = *ev;
  shifted.instant = adjusted;
  size_t start = b->len;
  int rc = sl_render_event(b, &shifted, SL_RENDER_MARKDOWN);
  if (rc != SL_OK) return rc;
  /* "| time | Type | ..." : the device goes in after the first cell. */
  const char *second = memchr(b->data + start + 1, '|', b->len - start - 1);
  if (!second) return SL_OK;
  size_t at = (size_t)(second - b->data);
  sl_buf tail = {0};
  sl_buf_append(&tail, b->data + at, b->len - at);
  b->len = at;
  sl_buf_puts(b, "| ");
  for (size_t i = 0; i < len; i++) {
    if (label[i] == '|') sl_buf_puts(b, "\\");
    sl_buf_append(b, label + i, 1);
  }
  sl_buf_puts(b, " ");
  sl_buf_append(b, tail.data, tail.len);
  sl_buf_free(&tail);
  return b->oom ? SL_NOMEM : SL_OK;
}

static int by_flag(const void *x, const void *y) {
  const flag *a = x, *b = y;
  if (a->src != b->src) return a->src < b->src ? -1 : 1;
  return a->id < b->id ? -1 : a->id > b->id;
}

static int flagged(const lmerge *lm, size_t src, int64_t id) {
  flag key = {(int64_t)src, id};
  return lm->n_flags &&
         bsearch(&key, lm->flags, lm->n_flags, sizeof key, by_flag) != NULL;
}

/* Append a timeline row to b: the text format's line (width: the labels'
** column, flagged: "! ") or an export format's row with the label and
** the adjusted time. SL_OK or SL_NOMEM. */
static int render_timeline_row(sl_buf *b, int render, size_t width,
                               const sl_event *ev, int64_t adjusted,
                               const char *label, size_t len, int flagged) {
  if (render == RENDER_TEXT)
    return sl_render_timeline_text(b, ev, adjusted, label, len, width,
                                   flagged);
  int rc = render == SL_RENDER_MARKDOWN
             ? render_markdown(b, ev, adjusted, label, len)
             : sl_render_event(b, ev, render);
  if (rc == SL_OK && render != SL_RENDER_MARKDOWN)
    add_timeline_fields(b, render, label, len, ev, adjusted);
  return rc != SL_OK ? rc : b->oom ? SL_NOMEM : SL_OK;
}

/* Append the rendered row of source src to lm->buf. */
static int render_row(lua_State *L, lmerge *lm, const sl_event *ev,
                      size_t src, int64_t adjusted) {
  size_t len;
  const char *label = label_of(L, src, &len);
  int marked = lm->render == RENDER_TEXT && flagged(lm, src, ev->id);
  if (render_timeline_row(&lm->buf, lm->render, lm->width, ev, adjusted,
                          label, len, marked) != SL_OK)
    return luaL_error(L, "not enough memory");
  return 0;
}

/* synclua.render_timeline(event, format, label, adjusted [, width]) -> one
** row as the merge renders it: "text" (the label padded to width) or an
** export format, with the label and the adjusted instant (ns). For rows
** that come one at a time (a follower). */
static int l_render_timeline(lua_State *L) {
  int render = lua_type(L, 2) == LUA_TSTRING &&
                   strcmp(lua_tostring(L, 2), "text") == 0
               ? RENDER_TEXT
               : lsl_check_render_format(L, 2, 2, "format", 1);
  size_t len;
  const char *label = luaL_checklstring(L, 3, &len);
  int64_t adjusted = (int64_t)luaL_checkinteger(L, 4);
  lua_Integer width = luaL_optinteger(L, 5, 0);
  luaL_argcheck(L, width >= 0 && width <= 4096, 5, "width: 0 to 4096");
  sl_event ev;
  lsl_check_event(L, 1, 1, 0, &ev, 1);
  sl_buf *b = lsl_buf_push(L);
  if (render_timeline_row(b, render, (size_t)width, &ev, adjusted, label,
                          len, 0) != SL_OK)
    return luaL_error(L, "not enough memory");
  lua_pushlstring(L, b->data ? b->data : "", b->len);
  return 1;
}

/* merge:chunk([bytes]) -> rendered rows, count | nil at the end: rows until
** about `bytes` (default 64 KiB) are ready, joined by the separator; only
** for a merge opened with `render`. */
static int l_merge_chunk(lua_State *L) {
  const sl_event *ev;
  size_t src;
  int64_t adjusted;
  lmerge *lm = check_merge(L);
  lua_Integer max = luaL_optinteger(L, 2, CHUNK_BYTES), n = 0;
  if (lm->render < 0)
    return luaL_error(L, "chunk: the merge was not opened with render");
  if (max < 1) return luaL_argerror(L, 2, "positive size expected");
  if (!lm->m) return 0;
  sl_buf_reset(&lm->buf);
  while (lm->buf.len < (size_t)max) {
    int rc = lm->rows == lm->limit ? SL_DONE
                                   : sl_merge_next(lm->m, &src, &ev, &adjusted);
    if (rc == SL_DONE) {
      sl_merge_free(lm->m);
      lm->m = NULL;
      break;
    }
    if (rc != SL_ROW) return luaL_error(L, "%s", sl_merge_errmsg(lm->m));
    if (lm->rows++ > 0) sl_buf_append(&lm->buf, lm->sep, lm->seplen);
    if (!ev->has_instant) lm->untimed++;
    sl_bad_rows_note(&lm->bad, ev);
    render_row(L, lm, ev, src, adjusted);
    n++;
  }
  if (n == 0) return 0;
  lua_pushlstring(L, lm->buf.data, lm->buf.len);
  lua_pushinteger(L, n);
  return 2;
}

/* merge:untimed() -> rows handed out whose time is unknown (they come last) */
static int l_merge_untimed(lua_State *L) {
  lua_pushinteger(L, check_merge(L)->untimed);
  return 1;
}

/* merge:bad_rows() -> count, { first ids }, { column names }: rows handed
** out that were read leniently, as cursor:bad_rows() */
static int l_merge_bad_rows(lua_State *L) {
  return lsl_push_bad_rows(L, &check_merge(L)->bad);
}

/* merge iterator: -> row, source index (1-based), adjusted instant | nil */
static int l_merge_next(lua_State *L) {
  const sl_event *ev;
  size_t src, len;
  int64_t adjusted;
  lmerge *lm = check_merge(L);
  if (!lm->m) return 0;
  int rc = lm->rows == lm->limit ? SL_DONE
                                 : sl_merge_next(lm->m, &src, &ev, &adjusted);
  if (rc == SL_DONE) {
    sl_merge_free(lm->m);
    lm->m = NULL;
    return 0;
  }
  if (rc != SL_ROW) return luaL_error(L, "%s", sl_merge_errmsg(lm->m));
  lm->rows++;
  if (!ev->has_instant) lm->untimed++;
  sl_bad_rows_note(&lm->bad, ev);
  if (lm->render < 0) {
    const char *label = label_of(L, src, &len);
    lsl_push_event(L, ev, lm->raw);
    lua_pushlstring(L, label, len);
    lua_setfield(L, -2, "device_label");
    if (ev->has_instant) {
      lua_pushinteger(L, (lua_Integer)adjusted);
      lua_setfield(L, -2, "adjusted");
    }
  } else {
    sl_buf_reset(&lm->buf);
    render_row(L, lm, ev, src, adjusted);
    lua_pushlstring(L, lm->buf.data, lm->buf.len);
  }
  lua_pushinteger(L, (lua_Integer)src + 1);
  if (ev->has_instant) lua_pushinteger(L, (lua_Integer)adjusted);
  else lua_pushnil(L);
  return 3;
}

static int l_merge_close(lua_State *L) {
  lmerge *lm = check_merge(L);
  sl_merge_free(lm->m);
  lm->m = NULL;
  sl_buf_free(&lm->buf);
  free(lm->flags);
  lm->flags = NULL;
  lm->n_flags = 0;
  return 0;
}

/* The text format's options: label_width (a non-negative integer) and
** flagged ({ {source, id}, ... }, sources 1-based), as a sorted array in
** a box on the stack (freed by it unless taken). */
static flag *check_flags(lua_State *L, size_t n_sources, size_t *n,
                         size_t *width) {
  lsl_box *box = lsl_box_push(L);
  *n = 0;
  *width = 0;
  if (lua_getfield(L, 2, "label_width") != LUA_TNIL) {
    if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 0 ||
        lua_tointeger(L, -1) > 4096)
      luaL_argerror(L, 2, "label_width: integer from 0 to 4096 expected");
    *width = (size_t)lua_tointeger(L, -1);
  }
  lua_pop(L, 1);
  if (lua_getfield(L, 2, "flagged") == LUA_TNIL) {
    lua_pop(L, 1);
    return NULL;
  }
  if (!lua_istable(L, -1)) luaL_argerror(L, 2, "flagged: table expected");
  size_t count = (size_t)lua_rawlen(L, -1);
  flag *flags = calloc(count ? count : 1, sizeof *flags);
  box->ptr = flags;
  box->free_fn = free;
  if (!flags) luaL_error(L, "not enough memory");
  for (size_t i = 0; i < count; i++) {
    lua_rawgeti(L, -1, (lua_Integer)i + 1);
    int ok = lua_istable(L, -1) &&
             lua_rawgeti(L, -1, 1) == LUA_TNUMBER && lua_isinteger(L, -1) &&
             lua_rawgeti(L, -2, 2) == LUA_TNUMBER && lua_isinteger(L, -1);
    lua_Integer src = ok ? lua_tointeger(L, -2) : 0;
    if (!ok || src < 1 || (size_t)src > n_sources)
      luaL_argerror(L, 2, lua_pushfstring(L, "flagged[%d]: { source (1 to "
                                             "%d), id } expected",
                                          (int)i + 1, (int)n_sources));
    flags[i].src = src - 1;
    flags[i].id = (int64_t)lua_tointeger(L, -1);
    lua_pop(L, 3);
  }
  lua_pop(L, 1);
  qsort(flags, count, sizeof *flags, by_flag);
  *n = count;
  return flags;
}

static void free_array(void *p) { free(p); }

/* synclua.merge(cursors [, { offsets = {ns...}, labels = {...},
** order = "asc"|"desc", render = FORMAT, with_device = bool,
** separator = text, limit = n }]) ->
** iterator, merge, nil, merge. The cursors (from log:events, opened in the
** same order) belong to the merge from then on. */
static int l_merge(lua_State *L) {
  static const char *const keys[] = {"offsets", "labels", "order", "render",
                                     "with_device", "separator", "limit",
                                     "label_width", "flagged", NULL};
  luaL_checktype(L, 1, LUA_TTABLE);
  size_t n = (size_t)lua_rawlen(L, 1);
  int descending = 0, render = -1, with_device = 0;
  lua_Integer limit = -1;
  if (!lua_isnoneornil(L, 2)) {
    luaL_checktype(L, 2, LUA_TTABLE);
    lsl_check_keys(L, 2, 2, keys, "option");
    if (lua_getfield(L, 2, "order") != LUA_TNIL) {
      const char *o = luaL_checkstring(L, -1);
      if (strcmp(o, "asc") && strcmp(o, "desc"))
        luaL_argerror(L, 2, "order: 'asc' or 'desc' expected");
      descending = o[0] == 'd';
    }
    if (lua_getfield(L, 2, "with_device") != LUA_TNIL)
      with_device = lua_toboolean(L, -1);
    if (lua_getfield(L, 2, "render") != LUA_TNIL)
      render = lua_type(L, -1) == LUA_TSTRING &&
                   strcmp(lua_tostring(L, -1), "text") == 0
               ? RENDER_TEXT
               : lsl_check_render_format(L, -1, 2, "render", with_device);
    if (lua_getfield(L, 2, "limit") != LUA_TNIL) {
      if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 0)
        luaL_argerror(L, 2, "limit: non-negative integer expected");
      limit = lua_tointeger(L, -1);
    }
    lua_pop(L, 4);
  }
  /* The text format's options, offsets and labels, checked before any
  ** cursor is taken. */
  size_t n_flags = 0, width = 0;
  flag *flags = render == RENDER_TEXT ? check_flags(L, n, &n_flags, &width)
                                      : NULL;
  lsl_box *flag_box = render == RENDER_TEXT ? lua_touserdata(L, -1) : NULL;
  lsl_box *box = lsl_box_push(L);
  int64_t *offsets = calloc(n ? n : 1, sizeof *offsets);
  sl_cursor **cursors = calloc(n ? n : 1, sizeof *cursors);
  box->ptr = offsets;
  box->free_fn = free_array;
  lsl_box *cbox = lsl_box_push(L);
  cbox->ptr = cursors;
  cbox->free_fn = free_array;
  if (!offsets || !cursors) return luaL_error(L, "not enough memory");
  lua_createtable(L, (int)n, 0); /* the labels list */
  int labels = lua_gettop(L);
  int have_offsets = 0, have_labels = 0;
  if (lua_istable(L, 2)) {
    have_offsets = lua_getfield(L, 2, "offsets") == LUA_TTABLE;
    have_labels = lua_getfield(L, 2, "labels") == LUA_TTABLE;
  } else {
    lua_pushnil(L);
    lua_pushnil(L);
  }
  for (size_t i = 0; i < n; i++) {
    if (have_offsets && lua_rawgeti(L, -2, (lua_Integer)i + 1) != LUA_TNIL) {
      if (!lua_isinteger(L, -1))
        luaL_argerror(L, 2, "offsets: integers (ns) expected");
      offsets[i] = (int64_t)lua_tointeger(L, -1);
    }
    if (have_offsets) lua_pop(L, 1);
    if (have_labels) lua_rawgeti(L, -1, (lua_Integer)i + 1);
    else lua_pushnil(L);
    if (lua_isnil(L, -1)) {
      lua_pop(L, 1);
      lua_pushfstring(L, "%d", (int)i + 1);
    } else if (lua_type(L, -1) != LUA_TSTRING) {
      luaL_argerror(L, 2, "labels: strings expected");
    }
    lua_rawseti(L, labels, (lua_Integer)i + 1);
  }
  lua_pop(L, 2);
  /* Every cursor is checked before any is taken: a refusal must not
  ** leave one taken and owned by no one. */
  int raw = 0;
  for (size_t i = 1; i < n; i++) {
    lua_rawgeti(L, 1, (lua_Integer)i + 1);
    for (size_t j = 0; j < i; j++) {
      lua_rawgeti(L, 1, (lua_Integer)j + 1);
      if (lua_rawequal(L, -1, -2))
        luaL_argerror(L, 1, lua_pushfstring(L, "cursors[%d]: the same "
                                               "cursor as cursors[%d]",
                                            (int)i + 1, (int)j + 1));
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  for (int take = 0; take <= 1; take++) {
    for (size_t i = 0; i < n; i++) {
      lua_rawgeti(L, 1, (lua_Integer)i + 1);
      cursors[i] = lsl_take_cursor(L, lua_gettop(L), 1, (int)i + 1, &raw,
                                   take);
      lua_pop(L, 1);
    }
  }
  if (lua_istable(L, 2) && lua_getfield(L, 2, "separator") != LUA_TNIL) {
    if (lua_type(L, -1) != LUA_TSTRING)
      luaL_argerror(L, 2, "separator: string expected");
  } else {
    if (lua_istable(L, 2)) lua_pop(L, 1);
    lua_pushliteral(L, "");
  }
  int sep = lua_gettop(L);
  lmerge *lm = lua_newuserdatauv(L, sizeof *lm, 3);
  memset(lm, 0, sizeof *lm);
  lm->render = render;
  lm->width = width;
  lm->flags = flags;
  lm->n_flags = n_flags;
  if (flag_box) flag_box->ptr = NULL;  /* the merge owns them now */
  lm->raw = raw;
  lm->n = n;
  lm->limit = limit;
  lm->sep = lua_tolstring(L, sep, &lm->seplen);
  luaL_setmetatable(L, LSL_MERGE);
  lua_pushvalue(L, sep);
  lua_setiuservalue(L, -2, 3); /* the separator lm->sep points into */
  lua_pushvalue(L, labels);
  lua_setiuservalue(L, -2, 1);
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, 2); /* the cursors (and their stores) live on */
  int rc = sl_merge_new(cursors, offsets, n, descending, &lm->m);
  if (rc != SL_OK) return luaL_error(L, "not enough memory");
  lua_pushcfunction(L, l_merge_next);
  lua_pushvalue(L, -2);
  lua_pushnil(L);
  lua_pushvalue(L, -4);
  return 4;
}

void lsl_merge_register(lua_State *L, int module) {
  static const luaL_Reg meta[] = {
    {"__gc", l_merge_close}, {"__close", l_merge_close}, {NULL, NULL}};
  static const luaL_Reg methods[] = {
    {"chunk", l_merge_chunk}, {"untimed", l_merge_untimed},
    {"bad_rows", l_merge_bad_rows}, {"close", l_merge_close},
    {NULL, NULL}};
  luaL_newmetatable(L, LSL_MERGE);
  luaL_setfuncs(L, meta, 0);
  luaL_newlib(L, methods);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1); /* pop metatable */
  lua_pushcfunction(L, l_merge);
  lua_setfield(L, module, "merge");
  lua_pushcfunction(L, l_render_timeline);
  lua_setfield(L, module, "render_timeline");
}
