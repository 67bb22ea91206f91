/*
** lsl_import.c -- event tables from Lua, and bulk insertion: reading the
** table log:append takes into an sl_event (shared with lsl_store.c), and
** store:insert(events [, opts]), which writes a whole list in one
** transaction through sl_store_insert, all or nothing; and the
** synclua.Import type (synclua.import), a streaming insert through
** sl_import: chunks added (as event tables, or as an export's text the
** core reads), held in a temporary file, committed at once.
*/
#include <stdarg.h>
#include <string.h>

#include "lsl_internal.h"

/* Raise bad argument #arg with "event N: " before the message when the
** event is one of a list (position > 0). */
static int bad(lua_State *L, int arg, lua_Integer position, const char *fmt,
               ...) {
  va_list ap;
  va_start(ap, fmt);
  const char *msg = lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  if (position > 0) msg = lua_pushfstring(L, "event %I: %s", position, msg);
  return luaL_argerror(L, arg, msg);
}

/* The event table's string field, or NULL; its length into ev->len[col]
** (text may hold NUL). The table keeps the string alive. */
static const char *field_text(lua_State *L, int t, int arg,
                              lua_Integer position, const char *key,
                              sl_event *ev, int col) {
  int type = lua_getfield(L, t, key);
  if (type == LUA_TNIL) return NULL;
  if (type != LUA_TSTRING)
    bad(L, arg, position, "%s: string expected, got %s", key,
        luaL_typename(L, -1));
  return lua_tolstring(L, -1, &ev->len[col]);
}

static const char *const event_keys[] = {
  "event_type", "summary", "category", "severity", "timestamp", "device_id",
  "details", "correlation_id", "peer_device_id", "model_types",
  "record_count", "duration_ms", NULL};

/* The registry key of the set of event_keys (made once per state). */
static const char field_set = 'f';

/* Raise for a key of the event table at idx that is not a field. */
static void check_fields(lua_State *L, int idx, int arg,
                         lua_Integer position) {
  if (position == 0) {
    lsl_check_keys(L, idx, arg, event_keys, "event field");
    return;
  }
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &field_set) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_createtable(L, 0, 16);
    for (int k = 0; event_keys[k]; k++) {
      lua_pushboolean(L, 1);
      lua_setfield(L, -2, event_keys[k]);
    }
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &field_set);
  }
  int set = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1); /* pop value, keep key */
    lua_pushvalue(L, -1);
    int known = lua_type(L, -1) == LUA_TSTRING &&
                lua_rawget(L, set) != LUA_TNIL;
    lua_pop(L, 1);
    if (!known)
      bad(L, arg, position, "unknown field '%s'",
          luaL_tolstring(L, -1, NULL));
  }
  lua_pop(L, 1); /* pop set */
}

/* An integer field into *out; 0 when absent. */
static int field_count(lua_State *L, int t, int arg, lua_Integer position,
                       const char *key, int64_t *out) {
  if (lua_getfield(L, t, key) == LUA_TNIL) return 0;
  if (!lua_isinteger(L, -1))
    bad(L, arg, position, "%s: integer expected, got %s", key,
        luaL_typename(L, -1));
  *out = (int64_t)lua_tointeger(L, -1);
  return 1;
}

void lsl_check_event(lua_State *L, int idx, int arg, lua_Integer position,
                     sl_event *ev, int as_read) {
  static const struct { const char *key; int col; } texts[] = {
    {"event_type", SL_COL_EVENT_TYPE}, {"summary", SL_COL_SUMMARY},
    {"category", SL_COL_CATEGORY}, {"severity", SL_COL_SEVERITY},
    {"device_id", SL_COL_DEVICE_ID},
    {"correlation_id", SL_COL_CORRELATION_ID},
    {"peer_device_id", SL_COL_PEER_DEVICE_ID}};
  const char **at[] = {&ev->event_type, &ev->summary, &ev->category,
                       &ev->severity, &ev->device_id, &ev->correlation_id,
                       &ev->peer_device_id};
  char ts[SL_TIME_BUFSZ];
  idx = lua_absindex(L, idx);
  if (lua_type(L, idx) != LUA_TTABLE) {
    if (position == 0) luaL_typeerror(L, arg, "table");
    bad(L, arg, position, "table expected, got %s", luaL_typename(L, idx));
  }
  memset(ev, 0, sizeof *ev);
  if (!as_read) check_fields(L, idx, arg, position);
  luaL_checkstack(L, 24, "event");
  for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
    *at[i] = field_text(L, idx, arg, position, texts[i].key, ev,
                        texts[i].col);

  /* The time: text, or (to append) an integer instant; as read, the
  ** instant field when present. */
  int t = lua_getfield(L, idx, "timestamp");
  if (t == LUA_TSTRING) {
    ev->timestamp = lua_tolstring(L, -1, &ev->len[SL_COL_TIMESTAMP]);
  } else if (t == LUA_TNUMBER && lua_isinteger(L, -1) && !as_read) {
    sl_time_format((int64_t)lua_tointeger(L, -1), 0, ts);
    ev->timestamp = lua_pushstring(L, ts);
  } else if (t != LUA_TNIL && as_read) {
    bad(L, arg, position, "timestamp: string expected, got %s",
        luaL_typename(L, -1));
  } else if (t != LUA_TNIL) {
    bad(L, arg, position, "timestamp: RFC 3339 string or integer instant "
                          "expected");
  }
  if (as_read) {
    ev->has_id = field_count(L, idx, arg, position, "id", &ev->id);
    if (field_count(L, idx, arg, position, "instant", &ev->instant))
      ev->has_instant = 1;
    else if (ev->timestamp)
      ev->has_instant = sl_event_time(ev, &ev->instant) == SL_OK;
    if (!ev->timestamp && ev->has_instant) {
      sl_time_format(ev->instant, 0, ts);
      ev->timestamp = lua_pushstring(L, ts);
    }
  }

  /* details: the stored text when the table carries it (as read), else
  ** the text or the value. */
  if (as_read)
    ev->details = field_text(L, idx, arg, position, "details_json", ev,
                             SL_COL_DETAILS);
  if (!ev->details) {
    t = lua_getfield(L, idx, "details");
    if (t == LUA_TSTRING) {
      ev->details = lua_tolstring(L, -1, &ev->len[SL_COL_DETAILS]);
    } else if (t == LUA_TTABLE) {
      sl_buf *b = lsl_buf_push(L);
      const char *err = lsl_json_encode(L, -2, b);
      if (err) bad(L, arg, position, "details: %s", err);
      ev->details = lua_pushlstring(L, b->data ? b->data : "", b->len);
      ev->len[SL_COL_DETAILS] = b->len;
    } else if (t != LUA_TNIL &&
               !(as_read && t == LUA_TLIGHTUSERDATA &&
                 !lua_touserdata(L, -1))) {
      bad(L, arg, position, "details: table or JSON string expected");
    }
  }

  t = lua_getfield(L, idx, "model_types");
  if (t == LUA_TSTRING) {
    ev->model_types = lua_tolstring(L, -1, &ev->len[SL_COL_MODEL_TYPES]);
  } else if (t == LUA_TTABLE) {
    ev->model_types = lsl_join_list(L, -1);
    if (!ev->model_types)
      bad(L, arg, position, "model_types: list of strings expected");
    ev->len[SL_COL_MODEL_TYPES] = lua_rawlen(L, -1);
  } else if (t != LUA_TNIL) {
    bad(L, arg, position, "model_types: list or string expected");
  }

  ev->has_record_count = field_count(L, idx, arg, position, "record_count",
                                     &ev->record_count);
  ev->has_duration_ms = field_count(L, idx, arg, position, "duration_ms",
                                    &ev->duration_ms);
}

/* The list of event tables at `list` as an array of sl_event, in a
** userdata pushed on the stack with a table that anchors every string the
** binding makes for them (a list can hold millions: not on the stack);
** both live as long as the caller's frame. Each event is named by its
** position plus `base` in a bad argument #arg. */
static sl_event *check_events(lua_State *L, int list, int arg,
                              lua_Integer base, size_t *count) {
  lua_Integer n = (lua_Integer)lua_rawlen(L, list);
  if ((lua_Unsigned)n > (size_t)-1 / sizeof(sl_event))
    luaL_argerror(L, arg, "too many events");
  sl_event *evs = lua_newuserdatauv(L, (size_t)n * sizeof *evs, 0);
  lua_createtable(L, (int)(n < 1000000 ? n : 1000000), 0);
  int anchor = lua_gettop(L);
  lua_Integer anchored = 0;
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, list, i);
    int ev = lua_gettop(L);
    lsl_check_event(L, ev, arg, base + i, &evs[i - 1], 0);
    for (int k = ev + 1; k <= lua_gettop(L); k++) {
      if (lua_type(L, k) != LUA_TSTRING) continue;
      lua_pushvalue(L, k);
      lua_rawseti(L, anchor, ++anchored);
    }
    lua_settop(L, anchor);
  }
  *count = (size_t)n;
  return evs;
}

/* nil, the message, the status's name. */
static int fail_with(lua_State *L, const char *message, int status) {
  lua_pushnil(L);
  lua_pushstring(L, message);
  lua_pushstring(L, sl_status_name(status));
  return 3;
}

/* The boolean option `key` of the table at idx (absent: false). */
static int check_flag(lua_State *L, int idx, const char *key) {
  if (lua_isnoneornil(L, idx)) return 0;
  lua_getfield(L, idx, key);
  int on = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return on;
}

/* store:insert(events [, { skip_duplicates = false }]) -> inserted, skipped
** | nil, message, code. Raises for what is not an event table; an event
** the core refuses (unknown type, bad time, ...) is "invalid". */
static int l_store_insert(lua_State *L) {
  static const char *const insert_keys[] = {"skip_duplicates", NULL};
  size_t n, inserted, skipped;
  sl_store *s = lsl_check_store(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  if (!lua_isnoneornil(L, 3)) {
    luaL_checktype(L, 3, LUA_TTABLE);
    lsl_check_keys(L, 3, 3, insert_keys, "option");
  }
  int skip = check_flag(L, 3, "skip_duplicates");
  lua_settop(L, 3);
  sl_event *evs = check_events(L, 2, 2, 0, &n);
  int rc = sl_store_insert(s, evs, n, skip, &inserted, &skipped);
  if (rc != SL_OK) return fail_with(L, sl_store_errmsg(s), rc);
  lua_pushinteger(L, (lua_Integer)inserted);
  lua_pushinteger(L, (lua_Integer)skipped);
  return 2;
}

/* ------------------------------------------------------------ Import */

#define LSL_IMPORT "synclua.Import"

typedef struct limport {
  sl_import *im;               /* NULL once closed                          */
} limport;

static sl_import *check_import(lua_State *L) {
  limport *li = luaL_checkudata(L, 1, LSL_IMPORT);
  if (!li->im) luaL_error(L, "attempt to use a closed " LSL_IMPORT);
  return li->im;
}

/* synclua.import([{ skip_duplicates = false, by_time = false }]) ->
** Import | nil, message, code: events added in chunks (imp:add), held in
** a temporary file, written into a store at once (imp:commit). */
static int l_import_new(lua_State *L) {
  static const char *const import_keys[] = {"skip_duplicates", "by_time",
                                            NULL};
  if (!lua_isnoneornil(L, 1)) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lsl_check_keys(L, 1, 1, import_keys, "option");
  }
  unsigned flags = 0;
  if (check_flag(L, 1, "skip_duplicates")) flags |= SL_IMPORT_SKIP_DUPLICATES;
  if (check_flag(L, 1, "by_time")) flags |= SL_IMPORT_BY_TIME;
  limport *li = lua_newuserdatauv(L, sizeof *li, 0);
  li->im = NULL;
  luaL_setmetatable(L, LSL_IMPORT);
  sl_import *im;
  int rc = sl_import_new(flags, &im);
  if (rc != SL_OK) {
    if (!im) return luaL_error(L, "not enough memory");
    lua_pushnil(L);
    lua_pushstring(L, sl_import_errmsg(im));
    lua_pushstring(L, sl_status_name(rc));
    sl_import_free(im);
    return 3;
  }
  li->im = im;
  return 1;
}

/* imp:add(events) -> the events added so far | nil, message, code. Raises
** for what is not an event table (as store:insert); an event the core
** refuses is "invalid", numbered from the import's first, and nothing of
** the call is kept. */
static int l_import_add(lua_State *L) {
  size_t n;
  sl_import *im = check_import(L);
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  sl_event *evs = check_events(L, 2, 2,
                               (lua_Integer)sl_import_count(im), &n);
  int rc = sl_import_add(im, evs, n);
  if (rc != SL_OK) return fail_with(L, sl_import_errmsg(im), rc);
  lua_pushinteger(L, (lua_Integer)sl_import_count(im));
  return 1;
}

/* imp:add_text(format, text [, i [, j [, device]]]) -> added, next | nil,
** message, code: the events of text:sub(i, j) (default: all of it) in
** format -- "json" (a JSON array's elements), "ndjson", "sql" or "csv"
** (records after the header) -- read by the core up to the first thing it
** does not take (sl_import_add_text); `next` is the position after what
** was read (i when nothing was). The caller reads on from there. */
static int l_import_add_text(lua_State *L) {
  static const char *const formats[] = {"json", "ndjson", "sql", "csv",
                                        NULL};
  size_t len, used, added;
  sl_import *im = check_import(L);
  int format = SL_IMPORT_JSON + luaL_checkoption(L, 2, NULL, formats);
  const char *text = luaL_checklstring(L, 3, &len);
  lua_Integer i = luaL_optinteger(L, 4, 1);
  lua_Integer j = luaL_optinteger(L, 5, (lua_Integer)len);
  const char *device = luaL_optstring(L, 6, NULL);
  luaL_argcheck(L, i >= 1 && (size_t)i <= len + 1, 4, "out of range");
  luaL_argcheck(L, j >= i - 1 && (size_t)j <= len, 5, "out of range");
  int rc = sl_import_add_text(im, format, text + i - 1, (size_t)(j - i + 1),
                              device, &used, &added);
  if (rc == SL_NOMEM) return luaL_error(L, "not enough memory");
  if (rc != SL_OK) return fail_with(L, sl_import_errmsg(im), rc);
  lua_pushinteger(L, (lua_Integer)added);
  lua_pushinteger(L, i + (lua_Integer)used);
  return 2;
}

/* imp:commit(store) -> inserted, skipped | nil, message, code */
static int l_import_commit(lua_State *L) {
  size_t inserted, skipped;
  sl_import *im = check_import(L);
  sl_store *s = lsl_check_store(L, 2);
  int rc = sl_import_commit(im, s, &inserted, &skipped);
  if (rc != SL_OK) return fail_with(L, sl_import_errmsg(im), rc);
  lua_pushinteger(L, (lua_Integer)inserted);
  lua_pushinteger(L, (lua_Integer)skipped);
  return 2;
}

/* imp:count() -> the events added so far */
static int l_import_count(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)sl_import_count(check_import(L)));
  return 1;
}

/* imp:close() -> true: the events not committed are discarded; closing
** twice is fine (also __gc and __close) */
static int l_import_close(lua_State *L) {
  limport *li = luaL_checkudata(L, 1, LSL_IMPORT);
  sl_import_free(li->im);
  li->im = NULL;
  lua_pushboolean(L, 1);
  return 1;
}

static int l_import_tostring(lua_State *L) {
  limport *li = luaL_checkudata(L, 1, LSL_IMPORT);
  if (li->im)
    lua_pushfstring(L, LSL_IMPORT " (%I events)",
                    (lua_Integer)sl_import_count(li->im));
  else
    lua_pushliteral(L, LSL_IMPORT " (closed)");
  return 1;
}

static const luaL_Reg import_methods[] = {
  {"add", l_import_add}, {"add_text", l_import_add_text},
  {"commit", l_import_commit},
  {"count", l_import_count}, {"close", l_import_close},
  {NULL, NULL}};

static const luaL_Reg import_meta[] = {
  {"__gc", l_import_close},
  {"__close", l_import_close},
  {"__tostring", l_import_tostring},
  {"__index", NULL},
  {NULL, NULL}};

void lsl_import_register(lua_State *L, int methods, int module) {
  lua_pushcfunction(L, l_store_insert);
  lua_setfield(L, methods, "insert");
  luaL_newmetatable(L, LSL_IMPORT);
  luaL_setfuncs(L, import_meta, 0);
  luaL_newlib(L, import_methods);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1); /* pop metatable */
  lua_pushcfunction(L, l_import_new);
  lua_setfield(L, module, "import");
}
