/*
** lsl_redact.c -- the synclua.Redactor type: the core's redactor
** (include/synclua/redact.h) from Lua, for `--redact`.
**
**     local r = synclua.redactor{ key = "a passphrase" } -- none: random
**     log:redact(r)          -- every row of log's cursors comes out redacted
**     r:id(uuid, "device")   -- a pseudonym, counted as a device id
**     r:counts()             -- { device = 3, peer = 2, ... }
**
** A store given a redactor keeps it alive: the registry's weak-keyed table
** under a static key maps each such store's userdata to its redactor's,
** so the redactor is collected only once no store using it is reachable.
** The same table lets the filter reader (lsl_filter.c) find a store's
** redactor, to turn pseudonyms in a filter back into the ids stored.
*/
#include <string.h>

#include "lsl_internal.h"

typedef struct lredactor {
  sl_redactor *r;             /* never NULL once made                       */
} lredactor;

/* The registry key of the store -> redactor table. */
static const char stores_key = 0;

static sl_redactor *check_redactor(lua_State *L, int idx) {
  return ((lredactor *)luaL_checkudata(L, idx, LSL_REDACTOR))->r;
}

/* The Lua names of the kinds r:id counts under, by sl_redact_kind. */
static const char *const id_kinds[] = {"device", "peer", "correlation",
                                       "library", NULL};

/* synclua.redactor([{ key = KEY }]) -> Redactor: pseudonyms under KEY (a
** non-empty string), or under a random key of its own without one */
static int l_redactor_new(lua_State *L) {
  static const char *const keys[] = {"key", NULL};
  const char *key = NULL;
  size_t keylen = 0;
  if (!lua_isnoneornil(L, 1)) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lsl_check_keys(L, 1, 1, keys, "option");
    int t = lua_getfield(L, 1, "key");
    if (t != LUA_TNIL && t != LUA_TSTRING)
      luaL_argerror(L, 1, lua_pushfstring(L, "key: string expected, got %s",
                                          luaL_typename(L, -1)));
    key = lua_tolstring(L, -1, &keylen); /* the table keeps it alive */
    if (key && keylen == 0) luaL_argerror(L, 1, "key: empty");
  }
  lredactor *lr = lua_newuserdatauv(L, sizeof *lr, 0);
  lr->r = NULL;
  luaL_setmetatable(L, LSL_REDACTOR);
  int rc = sl_redactor_new(key, keylen, &lr->r);
  if (rc == SL_NOMEM) return luaL_error(L, "not enough memory");
  if (rc != SL_OK) return luaL_error(L, "redactor: %s", sl_status_name(rc));
  return 1;
}

/* r:id(uuid [, kind]) -> pseudonym | nil: any spelling of a UUID; kind
** ("device", "peer", "correlation" or "library") counts it */
static int l_redactor_id(lua_State *L) {
  char out[SL_UUID_BUFSZ];
  size_t len;
  sl_redactor *r = check_redactor(L, 1);
  const char *text = luaL_checklstring(L, 2, &len);
  int kind = lua_isnoneornil(L, 3) ? -1 : luaL_checkoption(L, 3, NULL,
                                                           id_kinds);
  int rc = sl_redact_id(r, text, len, kind, out);
  if (rc == SL_INVALID) {
    lua_pushnil(L);
    return 1;
  }
  if (rc == SL_NOMEM) return luaL_error(L, "not enough memory");
  lua_pushstring(L, out);
  return 1;
}

/* r:reveal(pseudonym) -> the id | nil: which id r turned into pseudonym */
static int l_redactor_reveal(lua_State *L) {
  char out[SL_UUID_BUFSZ];
  size_t len;
  sl_redactor *r = check_redactor(L, 1);
  const char *text = luaL_checklstring(L, 2, &len);
  if (sl_redact_reveal(r, text, len, out) != SL_OK) lua_pushnil(L);
  else lua_pushstring(L, out);
  return 1;
}

/* r:counts() -> { device, peer, correlation, library, summary_id,
** summary_path, details }: distinct values replaced so far */
static int l_redactor_counts(lua_State *L) {
  int64_t counts[SL_REDACT_KIND_COUNT];
  sl_redactor_counts(check_redactor(L, 1), counts);
  lua_createtable(L, 0, SL_REDACT_KIND_COUNT);
  for (int k = 0; k < SL_REDACT_KIND_COUNT; k++) {
    lua_pushinteger(L, (lua_Integer)counts[k]);
    lua_setfield(L, -2, sl_redact_kind_name(k));
  }
  return 1;
}

/* r:keyed() -> boolean: made from a key (else its key is random) */
static int l_redactor_keyed(lua_State *L) {
  lua_pushboolean(L, sl_redactor_keyed(check_redactor(L, 1)));
  return 1;
}

/* synclua.redact_allowed() -> { "action", ... }: the details keys whose
** string values redaction keeps (cleaned of ids and paths) */
static int l_redact_allowed(lua_State *L) {
  const char *list = sl_redact_allowed_list();
  lua_newtable(L);
  for (lua_Integer i = 1; *list; i++) {
    size_t n = strcspn(list, ",");
    lua_pushlstring(L, list, n);
    lua_rawseti(L, -2, i);
    list += n;
    while (*list == ',' || *list == ' ') list++;
  }
  return 1;
}

static int l_redactor_gc(lua_State *L) {
  lredactor *lr = luaL_checkudata(L, 1, LSL_REDACTOR);
  sl_redactor_free(lr->r);
  lr->r = NULL;
  return 0;
}

static int l_redactor_tostring(lua_State *L) {
  lredactor *lr = luaL_checkudata(L, 1, LSL_REDACTOR);
  lua_pushfstring(L, "synclua.Redactor (%s key)",
                  sl_redactor_keyed(lr->r) ? "given" : "random");
  return 1;
}

/* Push the store -> redactor table, made on first use. */
static void push_stores(lua_State *L) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &stores_key) == LUA_TTABLE) return;
  lua_pop(L, 1);
  lua_newtable(L);
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "k");
  lua_setfield(L, -2, "__mode"); /* ephemeron: a store keeps its redactor */
  lua_setmetatable(L, -2);
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &stores_key);
}

void lsl_redact_store(lua_State *L, sl_store *s, int store_idx, int r_idx) {
  sl_redactor *r = NULL;
  store_idx = lua_absindex(L, store_idx);
  r_idx = lua_absindex(L, r_idx);
  if (!lua_isnoneornil(L, r_idx)) r = check_redactor(L, r_idx);
  push_stores(L);
  lua_pushvalue(L, store_idx);
  if (r) lua_pushvalue(L, r_idx);
  else lua_pushnil(L);
  lua_rawset(L, -3);
  lua_pop(L, 1); /* pop the table */
  sl_store_redact(s, r);
}

sl_redactor *lsl_redactor_of(lua_State *L, int store_idx) {
  sl_redactor *r = NULL;
  store_idx = lua_absindex(L, store_idx);
  if (lua_type(L, store_idx) != LUA_TUSERDATA) return NULL;
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &stores_key) == LUA_TTABLE) {
    lua_pushvalue(L, store_idx);
    if (lua_rawget(L, -2) == LUA_TUSERDATA) {
      lredactor *lr = luaL_testudata(L, -1, LSL_REDACTOR);
      if (lr) r = lr->r;
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return r;
}

static const luaL_Reg redactor_methods[] = {
  {"id", l_redactor_id},
  {"reveal", l_redactor_reveal},
  {"counts", l_redactor_counts},
  {"keyed", l_redactor_keyed},
  {NULL, NULL}};

static const luaL_Reg redactor_meta[] = {
  {"__gc", l_redactor_gc},
  {"__tostring", l_redactor_tostring},
  {"__index", NULL},
  {NULL, NULL}};

void lsl_redact_register(lua_State *L, int module) {
  luaL_newmetatable(L, LSL_REDACTOR);
  luaL_setfuncs(L, redactor_meta, 0);
  luaL_newlib(L, redactor_methods);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1); /* pop metatable */
  lua_pushcfunction(L, l_redactor_new);
  lua_setfield(L, module, "redactor");
  lua_pushcfunction(L, l_redact_allowed);
  lua_setfield(L, module, "redact_allowed");
}
