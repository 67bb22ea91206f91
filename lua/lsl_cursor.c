/*
** lsl_cursor.c -- the synclua.Cursor type: a streaming query from Lua. It
** keeps its store alive through its user value, hands out one event table
** at a time, and is the closing value of the generic `for`, so a `break`
** releases the statement at once.
**
** Opened with `render = FORMAT`, it hands out each row as its export bytes
** (core/sl_render.c) instead of a table, and cursor:chunk() renders many
** rows into one string: an exporter only writes what it gets.
**
** Rows another program stored in forms Spacedrive could not read come out
** read leniently by the core (synclua.h, sl_bad_rows); cursor:bad_rows() says
** how many, which, and in what columns, so a command can say so once.
*/
#include <string.h>

#include "lsl_render.h"

/* cursor:chunk()'s default size: large enough that the Lua side costs
** nothing per row, small enough to stay in cache. */
#define CHUNK_BYTES 65536

typedef struct lcursor {
  sl_cursor *c;               /* NULL once closed                           */
  int        raw;             /* details as JSON text, not a table          */
  int        render;          /* an sl_render_format, or -1 for tables      */
  const char *sep;            /* between rendered rows (user value 2)       */
  size_t     seplen;
  lua_Integer rows;           /* rows handed out                            */
  lua_Integer untimed;        /* of them, with a timestamp that won't parse */
  lua_Integer unparsable;     /* kept from the cursor when it closes        */
  lua_Integer skipped;        /* kept from the cursor when it closes        */
  sl_bad_rows bad;            /* kept from the cursor when it closes        */
  sl_buf     buf;             /* rendered bytes                             */
} lcursor;

/* ev's text column col as field k, NUL and all; nothing when absent. */
static void set_text(lua_State *L, const char *k, const sl_event *ev,
                     int col) {
  size_t n;
  const char *v = sl_event_text(ev, col, &n);
  if (!v) return;
  lua_pushlstring(L, v, n);
  lua_setfield(L, -2, k);
}

/* model_types "a,b" -> { "a", "b" }, as Spacedrive reads it back. */
static void set_list(lua_State *L, const char *k, const sl_event *ev) {
  size_t left;
  const char *v = sl_event_text(ev, SL_COL_MODEL_TYPES, &left);
  if (!v) return;
  lua_newtable(L);
  lua_Integer i = 0;
  for (;;) {
    const char *comma = memchr(v, ',', left);
    size_t n = comma ? (size_t)(comma - v) : left;
    lua_pushlstring(L, v, n);
    lua_rawseti(L, -2, ++i);
    if (!comma) break;
    left -= n + 1;
    v = comma + 1;
  }
  lua_setfield(L, -2, k);
}

void lsl_push_event(lua_State *L, const sl_event *ev, int raw) {
  lua_createtable(L, 0, 16);
  if (ev->has_id) {
    lua_pushinteger(L, (lua_Integer)ev->id);
    lua_setfield(L, -2, "id");
  }
  set_text(L, "timestamp", ev, SL_COL_TIMESTAMP);
  if (ev->has_instant) {
    lua_pushinteger(L, (lua_Integer)ev->instant);
    lua_setfield(L, -2, "instant");
  }
  set_text(L, "device_id", ev, SL_COL_DEVICE_ID);
  set_text(L, "event_type", ev, SL_COL_EVENT_TYPE);
  set_text(L, "category", ev, SL_COL_CATEGORY);
  set_text(L, "severity", ev, SL_COL_SEVERITY);
  set_text(L, "summary", ev, SL_COL_SUMMARY);
  if (ev->details) {
    size_t n;
    const char *details = sl_event_text(ev, SL_COL_DETAILS, &n);
    set_text(L, "details_json", ev, SL_COL_DETAILS);
    /* Details that are not JSON stay readable as text. */
    if (raw || !lsl_json_decode(L, details, n)) {
      if (!raw) lua_pop(L, 1);
      lua_pushlstring(L, details, n);
    }
    lua_setfield(L, -2, "details");
  }
  set_text(L, "correlation_id", ev, SL_COL_CORRELATION_ID);
  set_text(L, "peer_device_id", ev, SL_COL_PEER_DEVICE_ID);
  set_list(L, "model_types", ev);
  if (ev->has_record_count) {
    lua_pushinteger(L, (lua_Integer)ev->record_count);
    lua_setfield(L, -2, "record_count");
  }
  if (ev->has_duration_ms) {
    lua_pushinteger(L, (lua_Integer)ev->duration_ms);
    lua_setfield(L, -2, "duration_ms");
  }
  /* Only on a row read from a store: one Spacedrive's reader skips. */
  if (ev->has_id && sl_event_skipped(ev)) {
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "skipped");
  }
}

static void close_cursor(void *c) { sl_cursor_close(c); }

static lcursor *check_cursor(lua_State *L) {
  return luaL_checkudata(L, 1, LSL_CURSOR);
}

/* Raise the cursor's read error. */
static int read_error(lua_State *L, lcursor *lc) {
  lua_pushstring(L, sl_cursor_errmsg(lc->c));
  return lua_error(L);
}

/* cursor:next() -> event (or its rendered bytes) | nil at the end; raises
** on a read error */
static int l_cursor_next(lua_State *L) {
  const sl_event *ev;
  lcursor *lc = check_cursor(L);
  if (!lc->c) return 0;
  int rc = sl_cursor_next(lc->c, &ev);
  if (rc == SL_DONE) return 0;
  if (rc != SL_ROW) return read_error(L, lc);
  lc->rows++;
  if (!ev->has_instant) lc->untimed++;
  if (lc->render < 0) {
    lsl_push_event(L, ev, lc->raw);
    return 1;
  }
  sl_buf_reset(&lc->buf);
  if (sl_render_event(&lc->buf, ev, lc->render) != SL_OK)
    return luaL_error(L, "not enough memory");
  lua_pushlstring(L, lc->buf.data ? lc->buf.data : "", lc->buf.len);
  return 1;
}

/* cursor:chunk([bytes]) -> rendered rows, count | nil at the end
** Renders rows until about `bytes` (default 64 KiB) are ready, each after
** the cursor's separator unless it is the first row the cursor hands out;
** only for a cursor opened with `render`. Raises on a read error. */
static int l_cursor_chunk(lua_State *L) {
  const sl_event *ev;
  lcursor *lc = check_cursor(L);
  lua_Integer max = luaL_optinteger(L, 2, CHUNK_BYTES), n = 0;
  if (lc->render < 0)
    return luaL_error(L, "chunk: the cursor was not opened with render");
  if (max < 1) return luaL_argerror(L, 2, "positive size expected");
  if (!lc->c) return 0;
  sl_buf_reset(&lc->buf);
  while (lc->buf.len < (size_t)max) {
    int rc = sl_cursor_next(lc->c, &ev);
    if (rc == SL_DONE) break;
    if (rc != SL_ROW) return read_error(L, lc);
    if (lc->rows++ > 0) sl_buf_append(&lc->buf, lc->sep, lc->seplen);
    if (!ev->has_instant) lc->untimed++;
    if (sl_render_event(&lc->buf, ev, lc->render) != SL_OK)
      return luaL_error(L, "not enough memory");
    n++;
  }
  if (n == 0) return 0;
  lua_pushlstring(L, lc->buf.data, lc->buf.len);
  lua_pushinteger(L, n);
  return 2;
}

/* cursor:untimed() -> rows handed out whose timestamp does not parse (they
** come last, and rendered formats write their stored text) */
static int l_cursor_untimed(lua_State *L) {
  lua_pushinteger(L, check_cursor(L)->untimed);
  return 1;
}

/* cursor:unparsable() -> rows left out because their time is unknown */
static int l_cursor_unparsable(lua_State *L) {
  lcursor *lc = check_cursor(L);
  lua_pushinteger(L, lc->c ? (lua_Integer)sl_cursor_unparsable(lc->c)
                          : lc->unparsable);
  return 1;
}

/* cursor:skipped() -> rows handed out that Spacedrive's reader skips
** (sl_event_skipped): last, with the filter's skipped_last */
static int l_cursor_skipped(lua_State *L) {
  lcursor *lc = check_cursor(L);
  lua_pushinteger(L, lc->c ? (lua_Integer)sl_cursor_skipped(lc->c)
                          : lc->skipped);
  return 1;
}

int lsl_push_bad_rows(lua_State *L, const sl_bad_rows *b) {
  size_t n = sizeof b->first_ids / sizeof *b->first_ids;
  lua_Integer k = 0;
  lua_pushinteger(L, (lua_Integer)b->count);
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n && (int64_t)i < b->count; i++) {
    lua_pushinteger(L, (lua_Integer)b->first_ids[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_createtable(L, 4, 0);
  for (int col = 0; col < SL_COLUMN_COUNT; col++) {
    if (!(b->columns & SL_COLUMN_BIT(col))) continue;
    lua_pushstring(L, sl_column_name(col));
    lua_rawseti(L, -2, ++k);
  }
  return 3;
}

/* cursor:bad_rows() -> count, { first ids }, { column names }: rows handed
** out that Spacedrive's reader could not have read, read leniently (a NULL
** summary as "", a count stored as text absent, ill-formed UTF-8 as
** U+FFFD or, in an optional column, absent; see synclua.h, sl_bad_rows) */
static int l_cursor_bad_rows(lua_State *L) {
  lcursor *lc = check_cursor(L);
  sl_bad_rows b = lc->bad;
  if (lc->c) sl_cursor_bad_rows(lc->c, &b);
  return lsl_push_bad_rows(L, &b);
}

/* cursor:close() -- releases the statement; closing twice is fine */
static int l_cursor_close(lua_State *L) {
  lcursor *lc = check_cursor(L);
  if (lc->c) {
    lc->unparsable = (lua_Integer)sl_cursor_unparsable(lc->c);
    lc->skipped = (lua_Integer)sl_cursor_skipped(lc->c);
    sl_cursor_bad_rows(lc->c, &lc->bad);
  }
  sl_cursor_close(lc->c);
  lc->c = NULL;
  sl_buf_free(&lc->buf);
  return 0;
}

static int l_cursor_tostring(lua_State *L) {
  lcursor *lc = check_cursor(L);
  lua_pushstring(L, lc->c ? "synclua.Cursor" : "synclua.Cursor (closed)");
  return 1;
}

/* The filter's cursor options: render (a format name), with_device and
** separator. Pushes the separator string (or "") and returns the format,
** or -1 for event tables. */
static int render_options(lua_State *L, int filter_idx) {
  int format = -1, with_device = 0;
  if (!lua_istable(L, filter_idx)) {
    lua_pushliteral(L, "");
    return -1;
  }
  if (lua_getfield(L, filter_idx, "with_device") != LUA_TNIL)
    with_device = lua_toboolean(L, -1);
  if (lua_getfield(L, filter_idx, "render") != LUA_TNIL)
    format = lsl_check_render_format(L, -1, filter_idx, "render",
                                     with_device);
  int t = lua_getfield(L, filter_idx, "separator");
  if (t != LUA_TNIL && t != LUA_TSTRING)
    luaL_argerror(L, filter_idx,
                  lua_pushfstring(L, "separator: string expected, got %s",
                                  luaL_typename(L, -1)));
  if (t != LUA_TNIL && format < 0)
    luaL_argerror(L, filter_idx, "separator: only with render");
  if (t == LUA_TNIL) {
    lua_pop(L, 1);
    lua_pushliteral(L, "");
  }
  lua_replace(L, -3); /* keep the separator, drop the others */
  lua_pop(L, 1);
  return format;
}

int lsl_cursor_open(lua_State *L, sl_store *store, int store_idx,
                    int filter_idx) {
  sl_filter f;
  size_t seplen;
  filter_idx = lua_absindex(L, filter_idx);
  int raw = lsl_filter_check(L, filter_idx, filter_idx, &f);
  int render = render_options(L, filter_idx);
  int sep_idx = lua_gettop(L);
  lcursor *lc = lua_newuserdatauv(L, sizeof *lc, 2);
  memset(lc, 0, sizeof *lc);
  lc->raw = raw;
  lc->render = render;
  lc->sep = lua_tolstring(L, sep_idx, &seplen);
  lc->seplen = seplen;
  luaL_setmetatable(L, LSL_CURSOR);
  lua_pushvalue(L, store_idx);
  lua_setiuservalue(L, -2, 1); /* the store lives as long as the cursor */
  lua_pushvalue(L, sep_idx);
  lua_setiuservalue(L, -2, 2); /* and the separator its pointer names */
  int rc = sl_query(store, &f, &lc->c);
  if (rc == SL_INVALID)
    return luaL_argerror(L, filter_idx, sl_store_errmsg(store));
  if (rc != SL_OK) return luaL_error(L, "%s", sl_store_errmsg(store));
  lua_pushcfunction(L, l_cursor_next); /* iterator */
  lua_pushvalue(L, -2);                 /* state: the cursor */
  lua_pushnil(L);                       /* initial control value */
  lua_pushvalue(L, -4);                 /* closing value: the cursor */
  return 4;
}

int lsl_cursor_first(lua_State *L, sl_store *store, int filter_idx) {
  sl_filter f;
  sl_cursor *c;
  const sl_event *ev;
  filter_idx = lua_absindex(L, filter_idx);
  int raw = lsl_filter_check(L, filter_idx, filter_idx, &f);
  int render = render_options(L, filter_idx);
  f.limit = 1;
  lsl_box *box = lsl_box_push(L); /* closes the cursor if pushing raises */
  int rc = sl_query(store, &f, &c);
  if (rc == SL_INVALID)
    return luaL_argerror(L, filter_idx, sl_store_errmsg(store));
  if (rc != SL_OK) return luaL_error(L, "%s", sl_store_errmsg(store));
  box->ptr = c;
  box->free_fn = close_cursor;
  rc = sl_cursor_next(c, &ev);
  if (rc == SL_ROW && render >= 0) {
    sl_buf *b = lsl_buf_push(L);
    if (sl_render_event(b, ev, render) != SL_OK)
      return luaL_error(L, "not enough memory");
    lua_pushlstring(L, b->data ? b->data : "", b->len);
  } else if (rc == SL_ROW) {
    lsl_push_event(L, ev, raw);
  } else if (rc == SL_DONE) {
    lua_pushnil(L);
  } else {
    return luaL_error(L, "%s", sl_cursor_errmsg(c));
  }
  lsl_box_free(box);
  return 1;
}

sl_cursor *lsl_take_cursor(lua_State *L, int idx, int arg, int pos,
                           int *raw, int take) {
  lcursor *lc = luaL_testudata(L, idx, LSL_CURSOR);
  const char *why = !lc ? "synclua.Cursor expected"
                  : !lc->c ? "the cursor is closed or already merged"
                  : lc->render >= 0 ? "a cursor opened with render cannot "
                                      "be merged"
                  : lc->rows > 0 ? "the cursor has already handed out rows"
                  : NULL;
  if (why)
    luaL_argerror(L, arg, lua_pushfstring(L, "cursors[%d]: %s", pos, why));
  sl_cursor *c = lc->c;
  if (!take) return c;
  lc->unparsable = (lua_Integer)sl_cursor_unparsable(c);
  lc->c = NULL;
  if (raw) *raw = lc->raw;
  return c;
}

static const luaL_Reg cursor_methods[] = {
  {"next", l_cursor_next},
  {"close", l_cursor_close},
  {"unparsable", l_cursor_unparsable},
  {"chunk", l_cursor_chunk},
  {"untimed", l_cursor_untimed},
  {"skipped", l_cursor_skipped},
  {"bad_rows", l_cursor_bad_rows},
  {NULL, NULL}};

static const luaL_Reg cursor_meta[] = {
  {"__gc", l_cursor_close},
  {"__close", l_cursor_close},
  {"__tostring", l_cursor_tostring},
  {"__index", NULL},
  {NULL, NULL}};

void lsl_cursor_register(lua_State *L) {
  luaL_newmetatable(L, LSL_CURSOR);
  luaL_setfuncs(L, cursor_meta, 0);
  luaL_newlib(L, cursor_methods);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1); /* pop metatable */
}
