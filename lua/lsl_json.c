/*
** lsl_json.c -- the binding's JSON bridge: a Lua value to the core's tree,
** written by the core's one writer (compact, keys sorted: as details are
** stored), and the core's parsed trees back to Lua tables, plus the boxes
** that own C memory while Lua code runs.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lsl_internal.h"

#define MAX_DEPTH 64

/* --------------------------------------------------------------- boxes */

void lsl_box_free(lsl_box *box) {
  if (box && box->ptr) {
    box->free_fn(box->ptr);
    box->ptr = NULL;
  }
}

static int l_box_gc(lua_State *L) {
  lsl_box_free(luaL_checkudata(L, 1, LSL_BOX));
  return 0;
}

lsl_box *lsl_box_push(lua_State *L) {
  lsl_box *box = lua_newuserdatauv(L, sizeof *box, 0);
  box->ptr = NULL;
  box->free_fn = free;
  if (luaL_newmetatable(L, LSL_BOX)) {
    lua_pushcfunction(L, l_box_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, l_box_gc);
    lua_setfield(L, -2, "__close");
  }
  lua_setmetatable(L, -2); /* pop metatable */
  return box;
}

static void free_buf(void *p) {
  sl_buf_free(p);
  free(p);
}

sl_buf *lsl_buf_push(lua_State *L) {
  lsl_box *box = lsl_box_push(L);
  sl_buf *b = calloc(1, sizeof *b);
  if (!b) luaL_error(L, "not enough memory");
  box->ptr = b;
  box->free_fn = free_buf;
  return b;
}

/* ------------------------------------------------------------ encoding */

/* The metatable that marks a table as a JSON array, so that an empty list
** encodes as [] (without it, an empty table is {} as cjson writes it). */
void lsl_push_array_mt(lua_State *L) {
  if (luaL_newmetatable(L, LSL_ARRAY)) {
    lua_pushliteral(L, "array");
    lua_setfield(L, -2, "__jsontype");
  }
}

static int marked_array(lua_State *L, int idx) {
  if (!lua_getmetatable(L, idx)) return 0;
  lua_getfield(L, -1, "__jsontype");
  int yes = lua_type(L, -1) == LUA_TSTRING &&
            strcmp(lua_tostring(L, -1), "array") == 0;
  lua_pop(L, 2);
  return yes;
}

/* A table is an array when its keys are exactly 1..n (and it is not
** empty: an empty table is {} as cjson writes it). */
static int is_array(lua_State *L, int idx, lua_Integer *n) {
  lua_Integer count = 0, max = 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1); /* pop value */
    if (!lua_isinteger(L, -1)) {
      lua_pop(L, 1);
      return 0;
    }
    lua_Integer k = lua_tointeger(L, -1);
    if (k < 1) {
      lua_pop(L, 1);
      return 0;
    }
    if (k > max) max = k;
    count++;
  }
  *n = count;
  return count > 0 && max == count;
}

/* The tree being built, owned by a box on the stack so that an error
** (a raise, or the memory running out) frees it. */
static void free_tree(void *p) { sl_json_free(p); }

/* The value at idx as a tree node, into *out; NULL, or an error message
** pushed on the stack. */
static const char *build(lua_State *L, int idx, int depth, sl_json **out) {
  sl_json *v = NULL;
  *out = NULL;
  idx = lua_absindex(L, idx);
  switch (lua_type(L, idx)) {
  case LUA_TNIL:
    v = sl_json_new(SL_JSON_NULL);
    break;
  case LUA_TBOOLEAN:
    v = sl_json_new(lua_toboolean(L, idx) ? SL_JSON_TRUE : SL_JSON_FALSE);
    break;
  case LUA_TLIGHTUSERDATA:
    if (lua_touserdata(L, idx) != NULL)
      return lua_pushliteral(L, "cannot encode a light userdata other than "
                                "null");
    v = sl_json_new(SL_JSON_NULL);
    break;
  case LUA_TNUMBER:
    if (lua_isinteger(L, idx)) {
      if ((v = sl_json_new(SL_JSON_INTEGER)))
        v->integer = (int64_t)lua_tointeger(L, idx);
    } else {
      double d = (double)lua_tonumber(L, idx);
      if (!isfinite(d))
        return lua_pushfstring(L, "cannot encode the number %f", d);
      if ((v = sl_json_new(SL_JSON_FLOAT))) v->number = d;
    }
    break;
  case LUA_TSTRING: {
    size_t len;
    const char *str = lua_tolstring(L, idx, &len);
    v = sl_json_new_string(str, len);
    break;
  }
  case LUA_TTABLE:
    break;
  default:
    return lua_pushfstring(L, "cannot encode a %s", luaL_typename(L, idx));
  }
  if (lua_type(L, idx) != LUA_TTABLE) {
    if (!v) luaL_error(L, "not enough memory");
    *out = v;
    return NULL;
  }
  if (depth >= MAX_DEPTH)
    return lua_pushliteral(L, "nested too deeply (a cycle?)");
  if (!lua_checkstack(L, 6)) return lua_pushliteral(L, "stack overflow");
  lua_Integer n;
  int marked = marked_array(L, idx);
  if (marked) n = (lua_Integer)lua_rawlen(L, idx);
  int array = marked || is_array(L, idx, &n);
  /* The container sits in a box until it is handed to its parent. */
  lsl_box *box = lsl_box_push(L);
  box->free_fn = free_tree;
  if (!(v = box->ptr = sl_json_new(array ? SL_JSON_ARRAY : SL_JSON_OBJECT)))
    luaL_error(L, "not enough memory");
  if (array) {
    for (lua_Integer i = 1; i <= n; i++) {
      sl_json *item;
      lua_rawgeti(L, idx, i);
      const char *err = build(L, -1, depth + 1, &item);
      if (err) return err;
      lua_pop(L, 1);
      if (sl_json_add(v, NULL, 0, item) != SL_OK)
        luaL_error(L, "not enough memory");
    }
  } else {
    lua_pushnil(L);
    while (lua_next(L, idx)) {
      sl_json *item;
      if (lua_type(L, -2) != LUA_TSTRING)
        return lua_pushfstring(L, "object keys must be strings, not %s",
                               luaL_typename(L, -2));
      const char *err = build(L, -1, depth + 1, &item);
      if (err) return err;
      lua_pop(L, 1); /* pop value, keep key */
      size_t klen;
      const char *k = lua_tolstring(L, -1, &klen);
      if (sl_json_add(v, k, klen, item) != SL_OK)
        luaL_error(L, "not enough memory");
    }
  }
  box->ptr = NULL;            /* handed to the caller */
  lua_pop(L, 1);              /* the box */
  *out = v;
  return NULL;
}

const char *lsl_json_encode(lua_State *L, int idx, sl_buf *b) {
  int top = lua_gettop(L);
  sl_json *tree;
  idx = lua_absindex(L, idx);
  lsl_box *box = lsl_box_push(L);
  box->free_fn = free_tree;
  const char *err = build(L, idx, 0, &tree);
  if (err) {
    lua_replace(L, top + 1); /* keep the message, drop the traversal */
    lua_settop(L, top + 1);  /* (the boxes free what was built) */
    return err;
  }
  box->ptr = tree;
  /* Compact, keys sorted: the core's one writer, as details are stored. */
  sl_json_write(b, tree, -1, 1);
  lsl_box_free(box);
  if (b->oom) luaL_error(L, "not enough memory");
  lua_settop(L, top);
  return NULL;
}

/* ------------------------------------------------------------ decoding */

/* Push v; an object member whose key is a true field of the table at raw
** (0: none) is pushed as its JSON text instead, compact, keys sorted. */
static void push_value(lua_State *L, const sl_json *v, int raw) {
  luaL_checkstack(L, 3, "JSON nested too deeply");
  switch (v->kind) {
  case SL_JSON_NULL: lua_pushlightuserdata(L, NULL); break;
  case SL_JSON_FALSE: lua_pushboolean(L, 0); break;
  case SL_JSON_TRUE: lua_pushboolean(L, 1); break;
  case SL_JSON_INTEGER: lua_pushinteger(L, (lua_Integer)v->integer); break;
  /* Above math.maxinteger: Lua has no u64, so the nearest float. */
  case SL_JSON_UNSIGNED: lua_pushnumber(L, (lua_Number)v->uinteger); break;
  case SL_JSON_FLOAT: lua_pushnumber(L, (lua_Number)v->number); break;
  case SL_JSON_STRING: lua_pushlstring(L, v->string, v->length); break;
  case SL_JSON_ARRAY:
    lua_createtable(L, (int)v->length, 0);
    for (size_t i = 0; i < v->length; i++) {
      push_value(L, v->items[i], raw);
      lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lsl_push_array_mt(L);
    lua_setmetatable(L, -2); /* pop metatable */
    break;
  case SL_JSON_OBJECT:
    lua_createtable(L, 0, (int)v->length);
    for (size_t i = 0; i < v->length; i++) {
      lua_pushlstring(L, v->keys[i], v->key_lengths[i]);
      int as_text = 0;
      if (raw) {
        lua_pushvalue(L, -1);
        as_text = lua_rawget(L, raw) != LUA_TNIL && lua_toboolean(L, -1);
        lua_pop(L, 1);
      }
      if (as_text) {
        sl_buf *b = lsl_buf_push(L);
        sl_json_write(b, v->items[i], -1, 1);
        if (b->oom) luaL_error(L, "not enough memory");
        lua_pushlstring(L, b->data ? b->data : "", b->len);
        lua_remove(L, -2); /* the buffer's box */
      } else {
        push_value(L, v->items[i], raw);
      }
      lua_rawset(L, -3);
    }
    break;
  }
}

void lsl_json_push(lua_State *L, const sl_json *v) { push_value(L, v, 0); }

void lsl_json_push_raw(lua_State *L, const sl_json *v, int raw) {
  push_value(L, v, raw ? lua_absindex(L, raw) : 0);
}

int lsl_json_decode(lua_State *L, const char *text, size_t len) {
  sl_json *tree = NULL;
  lsl_box *box = lsl_box_push(L);
  if (sl_json_parse(text, len, &tree, NULL, 0) != SL_OK) {
    lua_pop(L, 1);
    lua_pushnil(L);
    return 0;
  }
  box->ptr = tree;
  box->free_fn = free_tree;
  lsl_json_push(L, tree);
  lsl_box_free(box);
  lua_remove(L, -2); /* remove the box */
  return 1;
}
