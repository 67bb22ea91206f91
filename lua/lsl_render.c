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

/* render(event, format [, with_device]) -> the event's bytes in that
** export format (an element, a line, a record: see synclua/json.h) */
static int l_render(lua_State *L) {
  sl_event ev;
  int with_device = lua_toboolean(L, 3);
  int format = lsl_check_render_format(L, 2, 2, "format", with_device);
  lsl_check_event(L, 1, 1, 0, &ev, 1);
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
