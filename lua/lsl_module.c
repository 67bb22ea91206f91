/*
** lsl_module.c -- luaopen_synclua_core: the module table of synclua.core.
** Its functions are the core's time, uuid and JSON services; its types
** (Store, Cursor) and the export renderer are registered by their own
** files.
*/
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "lsl.h"
#include "lsl_render.h"

#define ERRSZ 256

/* parse_time(text [, now]) -> instant | nil, message */
static int l_parse_time(lua_State *L) {
  char err[ERRSZ];
  int64_t t;
  const char *s = luaL_checkstring(L, 1);
  int64_t now = luaL_opt(L, luaL_checkinteger, 2, sl_time_now());
  if (sl_time_parse_point(s, now, &t, err, sizeof err) != SL_OK) {
    lua_pushnil(L);
    lua_pushstring(L, err);
    return 2;
  }
  lua_pushinteger(L, (lua_Integer)t);
  return 1;
}

/* parse_rfc3339(text) -> instant | nil, message (the stored form only) */
static int l_parse_rfc3339(lua_State *L) {
  size_t len;
  int64_t t;
  const char *s = luaL_checklstring(L, 1, &len);
  if (sl_time_parse_rfc3339(s, len, &t) != SL_OK) {
    lua_pushnil(L);
    lua_pushfstring(L, "not an RFC 3339 time: %s", s);
    return 2;
  }
  lua_pushinteger(L, (lua_Integer)t);
  return 1;
}

/* format_time(instant [, zulu]) -> "2025-12-03T10:15:00.123+00:00" */
static int l_format_time(lua_State *L) {
  char buf[SL_TIME_BUFSZ];
  int64_t t = (int64_t)luaL_checkinteger(L, 1);
  size_t n = sl_time_format(t, lua_toboolean(L, 2), buf);
  lua_pushlstring(L, buf, n);
  return 1;
}

/* parse_duration(text) -> nanoseconds | nil, message */
static int l_parse_duration(lua_State *L) {
  char err[ERRSZ];
  int64_t ns;
  if (sl_duration_parse(luaL_checkstring(L, 1), &ns, err, sizeof err) !=
      SL_OK) {
    lua_pushnil(L);
    lua_pushstring(L, err);
    return 2;
  }
  lua_pushinteger(L, (lua_Integer)ns);
  return 1;
}

/* now() -> the current instant */
static int l_now(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)sl_time_now());
  return 1;
}

/* monotonic() -> milliseconds on a clock that never jumps (a follower's
** hold times) */
static int l_monotonic(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushinteger(L, (lua_Integer)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
  return 1;
}

/* terminal() -> columns, rows of the terminal stdout is, or nil when it
** is none (a pipe, a file) */
static int l_terminal(lua_State *L) {
  struct winsize ws;
  if (!isatty(STDOUT_FILENO) ||
      ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0)
    return 0;
  lua_pushinteger(L, ws.ws_col);
  lua_pushinteger(L, ws.ws_row);
  return 2;
}

/* uuid() -> a fresh v4 uuid, lowercase */
static int l_uuid(lua_State *L) {
  char buf[SL_UUID_BUFSZ];
  sl_uuid_v4(buf);
  lua_pushstring(L, buf);
  return 1;
}

/* parse_uuid(text) -> the id lowercase and hyphenated | nil: any
** spelling the uuid crate reads (sl_uuid_parse) */
static int l_parse_uuid(lua_State *L) {
  char buf[SL_UUID_BUFSZ];
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  if (sl_uuid_parse(s, len, buf) != SL_OK) return 0;
  lua_pushstring(L, buf);
  return 1;
}

/* severity_set(text) -> { name = true, ... } | nil, message */
static int l_severity_set(lua_State *L) {
  char err[ERRSZ];
  unsigned mask;
  if (sl_severity_parse_set(luaL_checkstring(L, 1), &mask, err, sizeof err) !=
      SL_OK) {
    lua_pushnil(L);
    lua_pushstring(L, err);
    return 2;
  }
  lua_newtable(L);
  for (int i = 0; i < SL_SEVERITY_COUNT; i++) {
    if (!(mask & SL_SEV_BIT(i))) continue;
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, sl_severity_name(i));
  }
  return 1;
}

/* event_type_info(name) -> { category, severity, debug_name } | nil */
static int l_event_type_info(lua_State *L) {
  int t = sl_event_type_from_name(luaL_checkstring(L, 1));
  if (t < 0) return 0;
  lua_createtable(L, 0, 3);
  lua_pushstring(L, sl_category_name(sl_event_type_category(t)));
  lua_setfield(L, -2, "category");
  lua_pushstring(L, sl_severity_name(sl_event_type_severity(t)));
  lua_setfield(L, -2, "severity");
  lua_pushstring(L, sl_event_type_debug_name(t));
  lua_setfield(L, -2, "debug_name");
  return 1;
}

static void free_tree(void *p) { sl_json_free(p); }

/* json_decode(text [, { as_text = { NAME = true, ... } }]) -> value | nil,
** message: members named in as_text stay their JSON text */
static int l_json_decode(lua_State *L) {
  static const char *const keys[] = {"as_text", NULL};
  char err[ERRSZ];
  size_t len;
  sl_json *tree = NULL;
  int raw = 0;
  const char *s = luaL_checklstring(L, 1, &len);
  if (!lua_isnoneornil(L, 2)) {
    luaL_checktype(L, 2, LUA_TTABLE);
    lsl_check_keys(L, 2, 2, keys, "option");
    if (lua_getfield(L, 2, "as_text") != LUA_TNIL) {
      luaL_argcheck(L, lua_type(L, -1) == LUA_TTABLE, 2,
                    "as_text: table of names expected");
      raw = lua_gettop(L);
    }
  }
  lsl_box *box = lsl_box_push(L);
  if (sl_json_parse(s, len, &tree, err, sizeof err) != SL_OK) {
    lua_pushnil(L);
    lua_pushstring(L, err);
    return 2;
  }
  box->ptr = tree;
  box->free_fn = free_tree;
  lsl_json_push_raw(L, tree, raw);
  lsl_box_free(box);
  return 1;
}

/* json_encode(value) -> compact JSON with sorted keys, as Spacedrive stores
** details; raises for what JSON cannot hold. */
static int l_json_encode(lua_State *L) {
  luaL_checkany(L, 1);
  sl_buf *b = lsl_buf_push(L);
  const char *msg = lsl_json_encode(L, 1, b);
  if (msg) return luaL_argerror(L, 1, msg);
  lua_pushlstring(L, b->data ? b->data : "", b->len);
  return 1;
}

/* spacedrive_ddl() -> Spacedrive's CREATE TABLE and five CREATE INDEX */
static int l_spacedrive_ddl(lua_State *L) {
  lua_pushstring(L, sl_spacedrive_ddl());
  return 1;
}

/* array([t]) -> t, marked to encode as a JSON array even when empty */
static int l_array(lua_State *L) {
  if (lua_isnoneornil(L, 1)) lua_newtable(L);
  else luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  lsl_push_array_mt(L);
  lua_setmetatable(L, 1);
  return 1;
}

static void push_names(lua_State *L, const char *field, int n,
                       const char *(*name)(int)) {
  lua_createtable(L, n, 0);
  for (int i = 0; i < n; i++) {
    lua_pushstring(L, name(i));
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, -2, field);
}

static const luaL_Reg module_fns[] = {
  {"parse_time", l_parse_time},
  {"parse_rfc3339", l_parse_rfc3339},
  {"format_time", l_format_time},
  {"parse_duration", l_parse_duration},
  {"now", l_now},
  {"monotonic", l_monotonic},
  {"terminal", l_terminal},
  {"uuid", l_uuid},
  {"parse_uuid", l_parse_uuid},
  {"severity_set", l_severity_set},
  {"event_type_info", l_event_type_info},
  {"json_decode", l_json_decode},
  {"json_encode", l_json_encode},
  {"array", l_array},
  {"spacedrive_ddl", l_spacedrive_ddl},
  {NULL, NULL}};

int luaopen_synclua_core(lua_State *L) {
  luaL_newlib(L, module_fns);
  lsl_store_register(L);
  lsl_cursor_register(L);
  lsl_render_register(L);
  lsl_merge_register(L, lua_gettop(L));
  lsl_net_register(L, lua_gettop(L));
  lsl_watch_register(L, lua_gettop(L));
  lsl_redact_register(L, lua_gettop(L));
  lua_pushlightuserdata(L, NULL);
  lua_setfield(L, -2, "null");
  lua_pushliteral(L, SL_VERSION);
  lua_setfield(L, -2, "version");
  push_names(L, "event_types", SL_EVENT_TYPE_COUNT, sl_event_type_name);
  push_names(L, "categories", SL_CATEGORY_COUNT, sl_category_name);
  push_names(L, "severities", SL_SEVERITY_COUNT, sl_severity_name);
  return 1;
}
