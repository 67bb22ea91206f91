/*
** lsl_watch.c -- synclua.watch(path) -> a synclua.Watch over sl_watch
** (core/sl_watch.c): watch:wait([timeout_ms]) sleeps until another
** process commits to one of the stores, for a follower (`events
** --follow`, `timeline --follow`).
*/
#include "lsl_internal.h"

#define LSL_WATCH "synclua.Watch"

typedef struct lwatch {
  sl_watch *w;                /* NULL once closed                           */
} lwatch;

static sl_watch *check_watch(lua_State *L) {
  lwatch *lw = luaL_checkudata(L, 1, LSL_WATCH);
  if (!lw->w) luaL_error(L, "attempt to use a closed " LSL_WATCH);
  return lw->w;
}

/* synclua.watch(path, ...) -> Watch over every store named, or nil,
** message, status name. */
static int l_watch_new(lua_State *L) {
  int n = lua_gettop(L);
  luaL_checkstring(L, 1);
  for (int i = 2; i <= n; i++) luaL_checkstring(L, i);
  lwatch *lw = lua_newuserdatauv(L, sizeof *lw, 0);
  lw->w = NULL;
  luaL_setmetatable(L, LSL_WATCH);
  int rc = sl_watch_new(lua_tostring(L, 1), &lw->w);
  for (int i = 2; i <= n && rc == SL_OK; i++)
    rc = sl_watch_add(lw->w, lua_tostring(L, i));
  if (rc != SL_OK) {
    lua_pushnil(L);
    lua_pushstring(L, sl_watch_errmsg(lw->w));
    lua_pushstring(L, sl_status_name(rc));
    sl_watch_free(lw->w);
    lw->w = NULL;
    return 3;
  }
  return 1;
}

/* watch:wait([timeout_ms]) -> true when the store changed, false when the
** time passed or a signal came first, or nil, message, status name. */
static int l_watch_wait(lua_State *L) {
  sl_watch *w = check_watch(L);
  lua_Integer ms = luaL_optinteger(L, 2, -1);
  if (ms < -1 || ms > INT32_MAX)
    return luaL_argerror(L, 2, "timeout: milliseconds (-1: none) expected");
  int rc = sl_watch_wait(w, (int)ms);
  if (rc == SL_OK || rc == SL_DONE) {
    lua_pushboolean(L, rc == SL_OK);
    return 1;
  }
  lua_pushnil(L);
  lua_pushstring(L, sl_watch_errmsg(w));
  lua_pushstring(L, sl_status_name(rc));
  return 3;
}

static int l_watch_close(lua_State *L) {
  lwatch *lw = luaL_checkudata(L, 1, LSL_WATCH);
  sl_watch_free(lw->w);
  lw->w = NULL;
  return 0;
}

static const luaL_Reg watch_methods[] = {
  {"wait", l_watch_wait},
  {"close", l_watch_close},
  {NULL, NULL}};

static const luaL_Reg watch_meta[] = {
  {"__gc", l_watch_close},
  {"__close", l_watch_close},
  {NULL, NULL}};

void lsl_watch_register(lua_State *L, int module) {
  luaL_newmetatable(L, LSL_WATCH);
  luaL_setfuncs(L, watch_meta, 0);
  luaL_newlib(L, watch_methods);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  lua_pushcfunction(L, l_watch_new);
  lua_setfield(L, module, "watch");
}
