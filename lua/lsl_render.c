/*
** lsl_render.c -- export bytes from Lua: synclua.core.render(event,
** format) over an event table, and the names of the render formats that a
** cursor opened with `render = FORMAT` uses to hand out rendered rows (see
** lsl_cursor.c). The bytes themselves are the core's (core/sl_render.c).
*/
#include <string.h>

#include "lsl_render.h"

static const char *const format_names[] = {
  "json", "sql", "markdown", "md", "ndjson", "csv", NULL};

int lsl_check_render_format(lua_State *L, int idx, int arg,
                            const char *field, int with_device) {
  static const int plain[] = {SL_RENDER_JSON, SL_RENDER_SQL,
                              SL_RENDER_MARKDOWN, SL_RENDER_MARKDOWN,
                              SL_RENDER_NDJSON, SL_RENDER_CSV};
  const char *name = lua_tostring(L, idx);
  if (lua_type(L, idx) != LUA_TSTRING)
    return luaL_argerror(
      L, arg, lua_pushfstring(L, "%s: string expected, got %s", field,
                              luaL_typename(L, idx)));
  for (int i = 0; format_names[i]; i++) {
    if (strcmp(name, format_names[i]) != 0) continue;
    int f = plain[i];
    if (with_device && f == SL_RENDER_JSON) f = SL_RENDER_JSON_DEVICE;
    if (with_device && f == SL_RENDER_NDJSON) f = SL_RENDER_NDJSON_DEVICE;
    return f;
  }
  return luaL_argerror(
    L, arg, lua_pushfstring(L, "%s: unknown format '%s' (json, sql, "
                               "markdown, md, ndjson or csv)", field, name));
}

/* The table's string field, or NULL. */
static const char *opt_field(lua_State *L, int t, int arg, const char *key) {
  int type = lua_getfield(L, t, key);
  if (type == LUA_TNIL) return NULL;
  if (type != LUA_TSTRING)
    luaL_argerror(L, arg, lua_pushfstring(L, "%s: string expected, got %s",
                                          key, luaL_typename(L, -1)));
  return lua_tostring(L, -1); /* the event table keeps it alive */
}

/* The table's integer field into *out; 0 when absent. */
static int opt_count(lua_State *L, int t, int arg, const char *key,
                     int64_t *out) {
  int has = lua_getfield(L, t, key) != LUA_TNIL;
  if (has) {
    if (!lua_isinteger(L, -1))
      luaL_argerror(L, arg, lua_pushfstring(L, "%s: integer expected, got "
                                               "%s", key,
                                            luaL_typename(L, -1)));
    *out = (int64_t)lua_tointeger(L, -1);
  }
  lua_pop(L, 1);
  return has;
}

void lsl_check_event_table(lua_State *L, int idx, int arg, sl_event *ev) {
  char ts[SL_TIME_BUFSZ];
  idx = lua_absindex(L, idx);
  luaL_checktype(L, idx, LUA_TTABLE);
  luaL_checkstack(L, 24, "event");
  memset(ev, 0, sizeof *ev);

  if (lua_getfield(L, idx, "id") != LUA_TNIL) {
    if (!lua_isinteger(L, -1))
      luaL_argerror(L, arg, "id: integer expected");
    ev->id = (int64_t)lua_tointeger(L, -1);
  }
  lua_pop(L, 1);
  ev->timestamp = opt_field(L, idx, arg, "timestamp");
  int t = lua_getfield(L, idx, "instant");
  if (t != LUA_TNIL) {
    if (!lua_isinteger(L, -1))
      luaL_argerror(L, arg, "instant: integer expected");
    ev->instant = (int64_t)lua_tointeger(L, -1);
    ev->has_instant = 1;
  } else if (ev->timestamp) {
    ev->has_instant =
      sl_time_parse_rfc3339(ev->timestamp, strlen(ev->timestamp),
                            &ev->instant) == SL_OK;
  }
  lua_pop(L, 1);
  if (!ev->timestamp && ev->has_instant) {
    sl_time_format(ev->instant, 0, ts);
    ev->timestamp = lua_pushstring(L, ts);
  }
  ev->device_id = opt_field(L, idx, arg, "device_id");
  ev->event_type = opt_field(L, idx, arg, "event_type");
  ev->category = opt_field(L, idx, arg, "category");
  ev->severity = opt_field(L, idx, arg, "severity");
  ev->summary = opt_field(L, idx, arg, "summary");
  ev->correlation_id = opt_field(L, idx, arg, "correlation_id");
  ev->peer_device_id = opt_field(L, idx, arg, "peer_device_id");

  /* details: the stored text when the table carries it, else the value. */
  ev->details = opt_field(L, idx, arg, "details_json");
  if (!ev->details) {
    t = lua_getfield(L, idx, "details");
    if (t == LUA_TSTRING) {
      ev->details = lua_tostring(L, -1);
    } else if (t == LUA_TTABLE) {
      sl_buf *b = lsl_buf_push(L);
      const char *err = lsl_json_encode(L, -2, b);
      if (err) luaL_argerror(L, arg, lua_pushfstring(L, "details: %s", err));
      ev->details = lua_pushlstring(L, b->data ? b->data : "", b->len);
    } else if (t != LUA_TNIL &&
               !(t == LUA_TLIGHTUSERDATA && !lua_touserdata(L, -1))) {
      luaL_argerror(L, arg, "details: table or JSON string expected");
    }
  }

  t = lua_getfield(L, idx, "model_types");
  if (t == LUA_TSTRING) {
    ev->model_types = lua_tostring(L, -1);
  } else if (t == LUA_TTABLE) {
    ev->model_types = lsl_join_list(L, -1);
    if (!ev->model_types)
      luaL_argerror(L, arg, "model_types: list of strings expected");
  } else if (t != LUA_TNIL) {
    luaL_argerror(L, arg, "model_types: list or string expected");
  }

  ev->has_record_count = opt_count(L, idx, arg, "record_count",
                                   &ev->record_count);
  ev->has_duration_ms = opt_count(L, idx, arg, "duration_ms",
                                  &ev->duration_ms);
}

/* render(event, format [, with_device]) -> the event's bytes in that
** export format (an element, a line, a record: see core/sl.h) */
static int l_render(lua_State *L) {
  sl_event ev;
  int with_device = lua_toboolean(L, 3);
  int format = lsl_check_render_format(L, 2, 2, "format", with_device);
  lsl_check_event_table(L, 1, 1, &ev);
  sl_buf *b = lsl_buf_push(L);
  if (sl_render_event(b, &ev, format) != SL_OK)
    return luaL_error(L, "not enough memory");
  lua_pushlstring(L, b->data ? b->data : "", b->len);
  return 1;
}

/* csv_header() -> the CSV header record, "\r\n" included */
static int l_csv_header(lua_State *L) {
  lua_pushstring(L, sl_render_csv_header());
  return 1;
}

void lsl_render_register(lua_State *L) {
  lua_pushcfunction(L, l_render);
  lua_setfield(L, -2, "render");
  lua_pushcfunction(L, l_csv_header);
  lua_setfield(L, -2, "csv_header");
}
