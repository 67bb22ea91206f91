/*
** lsl_cursor.c -- the synclua.Cursor type: a streaming query from Lua. It
** keeps its store alive through its user value, hands out one event table
** at a time, and is the closing value of the generic `for`, so a `break`
** releases the statement at once.
*/
#include <string.h>

#include "lsl_internal.h"

typedef struct lcursor {
  sl_cursor *c;               /* NULL once closed                           */
  int        raw;             /* details as JSON text, not a table          */
  lua_Integer unparsable;     /* kept from the cursor when it closes        */
} lcursor;

static void set_string(lua_State *L, const char *k, const char *v) {
  if (!v) return;
  lua_pushstring(L, v);
  lua_setfield(L, -2, k);
}

/* model_types "a,b" -> { "a", "b" }, as Spacedrive reads it back. */
static void set_list(lua_State *L, const char *k, const char *v) {
  if (!v) return;
  lua_newtable(L);
  lua_Integer i = 0;
  for (;;) {
    const char *comma = strchr(v, ',');
    size_t n = comma ? (size_t)(comma - v) : strlen(v);
    lua_pushlstring(L, v, n);
    lua_rawseti(L, -2, ++i);
    if (!comma) break;
    v = comma + 1;
  }
  lua_setfield(L, -2, k);
}

void lsl_push_event(lua_State *L, const sl_event *ev, int raw) {
  lua_createtable(L, 0, 16);
  lua_pushinteger(L, (lua_Integer)ev->id);
  lua_setfield(L, -2, "id");
  set_string(L, "timestamp", ev->timestamp);
  if (ev->has_instant) {
    lua_pushinteger(L, (lua_Integer)ev->instant);
    lua_setfield(L, -2, "instant");
  }
  set_string(L, "device_id", ev->device_id);
  set_string(L, "event_type", ev->event_type);
  set_string(L, "category", ev->category);
  set_string(L, "severity", ev->severity);
  set_string(L, "summary", ev->summary);
  if (ev->details) {
    set_string(L, "details_json", ev->details);
    /* Details that are not JSON stay readable as text. */
    if (raw || !lsl_json_decode(L, ev->details, strlen(ev->details))) {
      if (!raw) lua_pop(L, 1);
      lua_pushstring(L, ev->details);
    }
    lua_setfield(L, -2, "details");
  }
  set_string(L, "correlation_id", ev->correlation_id);
  set_string(L, "peer_device_id", ev->peer_device_id);
  set_list(L, "model_types", ev->model_types);
  if (ev->has_record_count) {
    lua_pushinteger(L, (lua_Integer)ev->record_count);
    lua_setfield(L, -2, "record_count");
  }
  if (ev->has_duration_ms) {
    lua_pushinteger(L, (lua_Integer)ev->duration_ms);
    lua_setfield(L, -2, "duration_ms");
  }
}

static void close_cursor(void *c) { sl_cursor_close(c); }

static lcursor *check_cursor(lua_State *L) {
  return luaL_checkudata(L, 1, LSL_CURSOR);
}

/* cursor:next() -> event | nil at the end; raises on a read error */
static int l_cursor_next(lua_State *L) {
  const sl_event *ev;
  lcursor *lc = check_cursor(L);
  if (!lc->c) return 0;
  int rc = sl_cursor_next(lc->c, &ev);
  if (rc == SL_ROW) {
    lsl_push_event(L, ev, lc->raw);
    return 1;
  }
  if (rc == SL_DONE) return 0;
  lua_pushstring(L, sl_cursor_errmsg(lc->c));
  return lua_error(L);
}

/* cursor:unparsable() -> rows left out because their time is unknown */
static int l_cursor_unparsable(lua_State *L) {
  lcursor *lc = check_cursor(L);
  lua_pushinteger(L, lc->c ? (lua_Integer)sl_cursor_unparsable(lc->c)
                          : lc->unparsable);
  return 1;
}

/* cursor:close() -- releases the statement; closing twice is fine */
static int l_cursor_close(lua_State *L) {
  lcursor *lc = check_cursor(L);
  if (lc->c) lc->unparsable = (lua_Integer)sl_cursor_unparsable(lc->c);
  sl_cursor_close(lc->c);
  lc->c = NULL;
  return 0;
}

static int l_cursor_tostring(lua_State *L) {
  lcursor *lc = check_cursor(L);
  lua_pushstring(L, lc->c ? "synclua.Cursor" : "synclua.Cursor (closed)");
  return 1;
}

int lsl_cursor_open(lua_State *L, sl_store *store, int store_idx,
                    int filter_idx) {
  sl_filter f;
  int raw = lsl_filter_check(L, filter_idx, filter_idx, &f);
  lcursor *lc = lua_newuserdatauv(L, sizeof *lc, 1);
  lc->c = NULL;
  lc->raw = raw;
  lc->unparsable = 0;
  luaL_setmetatable(L, LSL_CURSOR);
  lua_pushvalue(L, store_idx);
  lua_setiuservalue(L, -2, 1); /* the store lives as long as the cursor */
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
  int raw = lsl_filter_check(L, filter_idx, filter_idx, &f);
  f.limit = 1;
  lsl_box *box = lsl_box_push(L); /* closes the cursor if pushing raises */
  int rc = sl_query(store, &f, &c);
  if (rc == SL_INVALID)
    return luaL_argerror(L, filter_idx, sl_store_errmsg(store));
  if (rc != SL_OK) return luaL_error(L, "%s", sl_store_errmsg(store));
  box->ptr = c;
  box->free_fn = close_cursor;
  rc = sl_cursor_next(c, &ev);
  if (rc == SL_ROW) lsl_push_event(L, ev, raw);
  else if (rc == SL_DONE) lua_pushnil(L);
  else return luaL_error(L, "%s", sl_cursor_errmsg(c));
  lsl_box_free(box);
  return 1;
}

static const luaL_Reg cursor_methods[] = {
  {"next", l_cursor_next},
  {"close", l_cursor_close},
  {"unparsable", l_cursor_unparsable},
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
