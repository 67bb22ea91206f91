/*
** lsl_filter.c -- reading Lua arguments into the core's terms: the query
** filter table, points in time (the --since grammar or an integer
** instant) and durations. Every mistake raises Lua's standard
** "bad argument #n to 'f' (...)" naming the field.
*/
#include <string.h>

#include "lsl_internal.h"

#define ERRSZ 256

int64_t lsl_check_time(lua_State *L, int idx, int arg, const char *field) {
  char err[ERRSZ];
  int64_t t;
  if (lua_isinteger(L, idx)) return (int64_t)lua_tointeger(L, idx);
  if (lua_type(L, idx) != LUA_TSTRING)
    return luaL_argerror(
      L, arg, lua_pushfstring(L, "%s: string or integer expected, got %s",
                              field, luaL_typename(L, idx)));
  if (sl_time_parse_point(lua_tostring(L, idx), sl_time_now(), &t, err,
                          sizeof err) != SL_OK)
    return luaL_argerror(L, arg, lua_pushfstring(L, "%s: %s", field, err));
  return t;
}

int64_t lsl_check_duration(lua_State *L, int idx, int arg,
                           const char *field) {
  char err[ERRSZ];
  int64_t ns;
  if (lua_type(L, idx) == LUA_TNUMBER) {
    lua_Number secs = lua_tonumber(L, idx);
    if (!(secs >= 0 && secs < 9.2e9))
      return luaL_argerror(
        L, arg, lua_pushfstring(L, "%s: seconds out of range", field));
    return (int64_t)(secs * 1e9);
  }
  if (lua_type(L, idx) != LUA_TSTRING)
    return luaL_argerror(
      L, arg, lua_pushfstring(L, "%s: string or number expected, got %s",
                              field, luaL_typename(L, idx)));
  if (sl_duration_parse(lua_tostring(L, idx), &ns, err, sizeof err) != SL_OK)
    return luaL_argerror(L, arg, lua_pushfstring(L, "%s: %s", field, err));
  return ns;
}

void lsl_check_keys(lua_State *L, int idx, int arg,
                    const char *const *keys, const char *what) {
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1); /* pop value, keep key */
    int known = 0;
    if (lua_type(L, -1) == LUA_TSTRING)
      for (int k = 0; keys[k] && !known; k++)
        known = strcmp(lua_tostring(L, -1), keys[k]) == 0;
    if (!known)
      luaL_argerror(L, arg, lua_pushfstring(L, "unknown %s '%s'", what,
                                            luaL_tolstring(L, -1, NULL)));
  }
}

const char *lsl_join_list(lua_State *L, int list) {
  luaL_Buffer b;
  lua_Integer n = (lua_Integer)lua_rawlen(L, list);
  list = lua_absindex(L, list);
  luaL_buffinit(L, &b);
  for (lua_Integer i = 1; i <= n; i++) {
    if (lua_rawgeti(L, list, i) != LUA_TSTRING) {
      lua_pop(L, 1);
      luaL_pushresult(&b);
      lua_pop(L, 1);
      return NULL;
    }
    if (i > 1) luaL_addchar(&b, ',');
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  return lua_tostring(L, -1);
}

/* A string or a list of strings, as an array of C strings kept alive by a
** userdata left on the stack. Returns the count. */
static size_t string_list(lua_State *L, int idx, int arg, const char *field,
                          const char *const **out) {
  size_t n = 1;
  if (lua_type(L, idx) == LUA_TTABLE) n = (size_t)lua_rawlen(L, idx);
  else if (lua_type(L, idx) != LUA_TSTRING)
    luaL_argerror(L, arg, lua_pushfstring(L, "%s: string or list expected, "
                                             "got %s", field,
                                          luaL_typename(L, idx)));
  const char **v = lua_newuserdatauv(L, (n ? n : 1) * sizeof *v, 0);
  if (lua_type(L, idx) == LUA_TSTRING) {
    v[0] = lua_tostring(L, idx);
  } else {
    for (size_t i = 0; i < n; i++) {
      lua_rawgeti(L, idx, (lua_Integer)i + 1);
      if (lua_type(L, -1) != LUA_TSTRING)
        luaL_argerror(L, arg, lua_pushfstring(L, "%s[%d]: string expected, "
                                                 "got %s", field, (int)i + 1,
                                              luaL_typename(L, -1)));
      v[i] = lua_tostring(L, -1); /* the list table keeps it alive */
      lua_pop(L, 1);
    }
  }
  *out = v;
  return n;
}

static const char *opt_string(lua_State *L, int idx, int arg,
                              const char *field) {
  if (lua_type(L, idx) != LUA_TSTRING)
    luaL_argerror(L, arg, lua_pushfstring(L, "%s: string expected, got %s",
                                          field, luaL_typename(L, idx)));
  return lua_tostring(L, idx);
}

static int64_t opt_count(lua_State *L, int idx, int arg, const char *field) {
  if (!lua_isinteger(L, idx) || lua_tointeger(L, idx) < 0)
    luaL_argerror(L, arg, lua_pushfstring(L, "%s: non-negative integer "
                                             "expected", field));
  return (int64_t)lua_tointeger(L, idx);
}

/* "to" is "until" under a name Lua lets a table constructor use. */
static const char *const filter_keys[] = {
  "since", "until", "to", "event_types", "event_type", "categories",
  "category", "severities", "severity", "peer", "model_type",
  "correlation_id", "device", "limit", "offset", "order", "skipped_last",
  "after_id", "through_id", "raw",
  /* cursor options, read by lsl_cursor_open (rendered rows) */
  "render", "with_device", "separator", NULL};

/* Severities: "warning+", "debug,error", or a list of such names. */
static unsigned severity_set(lua_State *L, int idx, int arg) {
  char err[ERRSZ];
  const char *const *names;
  unsigned mask = 0;
  size_t n = string_list(L, idx, arg, "severities", &names);
  for (size_t i = 0; i < n; i++) {
    unsigned m;
    if (sl_severity_parse_set(names[i], &m, err, sizeof err) != SL_OK)
      luaL_argerror(L, arg, lua_pushfstring(L, "severities: %s", err));
    mask |= m;
  }
  lua_pop(L, 1); /* pop the names array */
  return mask;
}

/* The filter table at idx into f (lsl_filter_check but for pseudonyms). */
static int read_filter(lua_State *L, int idx, int arg, sl_filter *f) {
  int raw = 0;
  sl_filter_init(f);
  if (lua_isnoneornil(L, idx)) return 0;
  luaL_checktype(L, idx, LUA_TTABLE);
  idx = lua_absindex(L, idx);
  lsl_check_keys(L, idx, arg, filter_keys, "filter field");
  luaL_checkstack(L, 24, "filter");
  for (int k = 0; filter_keys[k]; k++) {
    const char *key = filter_keys[k];
    int t = lua_getfield(L, idx, key);
    if (t == LUA_TNIL) {
      lua_pop(L, 1);
      continue;
    }
    int v = lua_gettop(L);
    if (!strcmp(key, "since")) {
      f->since = lsl_check_time(L, v, arg, key);
      f->has_since = 1;
    } else if (!strcmp(key, "until") || !strcmp(key, "to")) {
      if (f->has_until)
        luaL_argerror(L, arg, "until and to: give one");
      f->until = lsl_check_time(L, v, arg, key);
      f->has_until = 1;
    } else if (!strcmp(key, "event_types") || !strcmp(key, "event_type")) {
      f->n_event_types = string_list(L, v, arg, key, &f->event_types);
      continue; /* keep the value and the array on the stack */
    } else if (!strcmp(key, "categories") || !strcmp(key, "category")) {
      f->n_categories = string_list(L, v, arg, key, &f->categories);
      continue;
    } else if (!strcmp(key, "severities") || !strcmp(key, "severity")) {
      f->severities = severity_set(L, v, arg);
    } else if (!strcmp(key, "peer")) {
      f->peer = opt_string(L, v, arg, key);
      continue;
    } else if (!strcmp(key, "model_type")) {
      f->model_type = opt_string(L, v, arg, key);
      continue;
    } else if (!strcmp(key, "correlation_id")) {
      f->correlation_id = opt_string(L, v, arg, key);
      continue;
    } else if (!strcmp(key, "device")) {
      f->device = opt_string(L, v, arg, key);
      continue;
    } else if (!strcmp(key, "limit")) {
      f->limit = opt_count(L, v, arg, key);
    } else if (!strcmp(key, "offset")) {
      f->offset = opt_count(L, v, arg, key);
    } else if (!strcmp(key, "order")) {
      const char *o = opt_string(L, v, arg, key);
      if (strcmp(o, "asc") && strcmp(o, "desc"))
        luaL_argerror(L, arg, lua_pushfstring(L, "order: 'asc' or 'desc' "
                                                 "expected, got '%s'", o));
      f->ascending = o[0] == 'a';
    } else if (!strcmp(key, "skipped_last")) {
      f->skipped_last = lua_toboolean(L, v);
    } else if (!strcmp(key, "after_id") || !strcmp(key, "through_id")) {
      if (!lua_isinteger(L, v))
        luaL_argerror(L, arg, lua_pushfstring(L, "%s: integer expected, "
                                                 "got %s", key,
                                              luaL_typename(L, v)));
      if (key[0] == 'a') {
        f->after_id = (int64_t)lua_tointeger(L, v);
        f->has_after_id = 1;
      } else {
        f->through_id = (int64_t)lua_tointeger(L, v);
        f->has_through_id = 1;
      }
    } else if (!strcmp(key, "raw")) {
      raw = lua_toboolean(L, v);
    }
    lua_pop(L, 1);
  }
  return raw;
}

/* An id of the filter given as a pseudonym r handed out: the id stored,
** pushed (the stack keeps it until the query starts). */
static void reveal(lua_State *L, sl_redactor *r, const char **id) {
  char out[SL_UUID_BUFSZ];
  if (*id && sl_redact_reveal(r, *id, strlen(*id), out) == SL_OK)
    *id = lua_pushstring(L, out);
}

int lsl_filter_check(lua_State *L, int idx, int arg, sl_filter *f) {
  int raw = read_filter(L, idx, arg, f);
  sl_redactor *r = lsl_redactor_of(L, 1);
  if (r) {
    reveal(L, r, &f->device);
    reveal(L, r, &f->peer);
    reveal(L, r, &f->correlation_id);
  }
  return raw;
}
