/*
** lsl_emit.c -- the sync engine's vocabulary from Lua: store methods for
** the batch aggregator (log:add_records, log:flush_batches, ...) and one
** emitter per kind of event (log:emit_state_transition{...}, ...), plus
** Spacedrive's peer selection (synclua.select_peer, synclua.peer_score).
** Each emitter takes one table of named fields and checks every name.
*/
#include <string.h>

#include "lsl_internal.h"

/* ------------------------------------------------------------ fields */

static const char *opt_str(lua_State *L, const char *k) {
  int t = lua_getfield(L, 2, k);
  const char *v = NULL;
  if (t == LUA_TSTRING) v = lua_tostring(L, -1); /* the table keeps it */
  else if (t != LUA_TNIL)
    luaL_argerror(L, 2, lua_pushfstring(L, "%s: string expected, got %s", k,
                                        luaL_typename(L, -1)));
  lua_pop(L, 1);
  return v;
}

static const char *need_str(lua_State *L, const char *k) {
  const char *v = opt_str(L, k);
  if (!v) luaL_argerror(L, 2, lua_pushfstring(L, "%s: missing", k));
  return v;
}

static int64_t opt_int(lua_State *L, const char *k, int64_t dflt) {
  int t = lua_getfield(L, 2, k);
  int64_t v = dflt;
  if (t != LUA_TNIL) {
    if (!lua_isinteger(L, -1))
      luaL_argerror(L, 2, lua_pushfstring(L, "%s: integer expected, got %s",
                                          k, luaL_typename(L, -1)));
    v = (int64_t)lua_tointeger(L, -1);
  }
  lua_pop(L, 1);
  return v;
}

static int64_t need_int(lua_State *L, const char *k) {
  if (lua_getfield(L, 2, k) == LUA_TNIL)
    luaL_argerror(L, 2, lua_pushfstring(L, "%s: missing", k));
  lua_pop(L, 1);
  return opt_int(L, k, 0);
}

/* `at`: when it happened (the --since grammar or an instant); 0 = now. */
static int64_t opt_at(lua_State *L) {
  int64_t at = 0;
  if (lua_getfield(L, 2, "at") != LUA_TNIL)
    at = lsl_check_time(L, -1, 2, "at");
  lua_pop(L, 1);
  return at;
}

/* Check the field table and the store; returns the store. */
static sl_store *begin(lua_State *L, const char *const *keys) {
  sl_store *s = lsl_check_store(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  lsl_check_keys(L, 2, 2, keys, "field");
  return s;
}

/* true, or false and why (the queue was full). */
static int result(lua_State *L, sl_store *s, int rc) {
  if (rc == SL_OK) {
    lua_pushboolean(L, 1);
    return 1;
  }
  if (rc == SL_FULL || rc == SL_NOMEM) {
    lua_pushboolean(L, 0);
    lua_pushstring(L, sl_status_name(rc));
    return 2;
  }
  if (rc == SL_READONLY)
    return luaL_error(L, "%s: opened read-only: cannot append",
                      sl_store_path(s));
  if (rc == SL_INVALID)
    return luaL_error(L, "the event was refused: give the store a "
                         "device_id when opening it");
  return luaL_error(L, "%s", sl_thread_errmsg());
}

/* ---------------------------------------------------------- batches */

/* log:add_records(model, count [, peer [, correlation_id [, at]]]) ->
** true | false, why */
static int l_add_records(lua_State *L) {
  sl_store *s = lsl_check_store(L, 1);
  const char *model = luaL_checkstring(L, 2);
  lua_Integer count = luaL_checkinteger(L, 3);
  const char *peer = luaL_optstring(L, 4, NULL);
  const char *session = luaL_optstring(L, 5, NULL);
  int64_t at = lua_isnoneornil(L, 6) ? 0 : lsl_check_time(L, 6, 6, "at");
  luaL_argcheck(L, *model && !strchr(model, ','), 2,
                "a model type name, without ','");
  luaL_argcheck(L, count >= 0, 3, "non-negative count expected");
  return result(L, s, sl_batch_add(s, model, count, peer, session, at));
}

static int64_t opt_arg_time(lua_State *L, int idx) {
  return lua_isnoneornil(L, idx) ? 0 : lsl_check_time(L, idx, idx, "at");
}

/* log:flush_batches([at]) -> true | false, why */
static int l_flush_batches(lua_State *L) {
  sl_store *s = lsl_check_store(L, 1);
  return result(L, s, sl_batch_flush_all(s, opt_arg_time(L, 2)));
}

/* log:tick_batches([at]) -> true | false, why */
static int l_tick_batches(lua_State *L) {
  sl_store *s = lsl_check_store(L, 1);
  return result(L, s, sl_batch_tick(s, opt_arg_time(L, 2)));
}

/* log:batch_memory() -> bytes held for pending batches, pending keys */
static int l_batch_memory(lua_State *L) {
  size_t keys;
  size_t bytes = sl_batch_memory(lsl_check_store(L, 1), &keys);
  lua_pushinteger(L, (lua_Integer)bytes);
  lua_pushinteger(L, (lua_Integer)keys);
  return 2;
}

/* ----------------------------------------------------------- states */

/* An integer field of a subtable, 0 when absent; named "k.f" on error. */
static int64_t sub_int(lua_State *L, int t, const char *k, const char *f) {
  int64_t v = 0;
  int type = lua_getfield(L, t, f);
  if (type != LUA_TNIL) {
    if (!lua_isinteger(L, -1))
      luaL_argerror(L, 2, lua_pushfstring(L, "%s.%s: integer expected, got %s",
                                          k, f, luaL_typename(L, -1)));
    v = (int64_t)lua_tointeger(L, -1);
  }
  lua_pop(L, 1);
  return v;
}

/* A number field of candidate i, `dflt` when absent. */
static lua_Number cand_num(lua_State *L, int e, size_t i, const char *f,
                           int integer, int arg) {
  lua_Number v = 0;
  int type = lua_getfield(L, e, f);
  if (type != LUA_TNIL) {
    if (integer ? !lua_isinteger(L, -1) : type != LUA_TNUMBER)
      luaL_argerror(L, arg, lua_pushfstring(L, "candidates[%d].%s: %s "
                                               "expected, got %s",
                                            (int)i + 1, f,
                                            integer ? "integer" : "number",
                                            luaL_typename(L, -1)));
    v = lua_tonumber(L, -1);
  }
  lua_pop(L, 1);
  return v;
}

static const char *const state_names[] = {
  "uninitialized", "backfilling", "catching_up", "ready", "paused", NULL};

/* A state: "ready", or { "backfilling", peer = ..., progress = 0 }, or
** { "catching_up", buffered_count = 0 }. Field strings stay owned by the
** event table's subtables. */
static void check_state(lua_State *L, const char *k, sl_state *st) {
  memset(st, 0, sizeof *st);
  int t = lua_getfield(L, 2, k);
  int idx = lua_gettop(L);
  if (t == LUA_TTABLE) lua_rawgeti(L, idx, 1);
  else lua_pushvalue(L, idx);
  const char *name = lua_tostring(L, -1);
  int kind = -1;
  for (int i = 0; name && state_names[i]; i++)
    if (strcmp(name, state_names[i]) == 0) kind = i;
  if (kind < 0)
    luaL_argerror(L, 2, lua_pushfstring(L, "%s: a state expected "
                                           "(uninitialized, backfilling, "
                                           "catching_up, ready, paused)", k));
  st->kind = (sl_state_kind)kind;
  if (t == LUA_TTABLE) {
    if (lua_getfield(L, idx, "peer") == LUA_TSTRING)
      st->peer = lua_tostring(L, -1);
    st->progress = (int)sub_int(L, idx, k, "progress");
    st->buffered_count = sub_int(L, idx, k, "buffered_count");
    lua_pop(L, 1);
  }
  if (st->kind == SL_STATE_BACKFILLING && !st->peer)
    luaL_argerror(L, 2, lua_pushfstring(L, "%s: backfilling needs a peer", k));
  lua_pop(L, 2);
}

/* log:emit_state_transition{ from, to, reason, at } */
static int l_emit_state_transition(lua_State *L) {
  static const char *const keys[] = {"from", "to", "reason", "at", NULL};
  sl_state from, to;
  sl_store *s = begin(L, keys);
  check_state(L, "from", &from);
  check_state(L, "to", &to);
  return result(L, s, sl_emit_state_transition(s, &from, &to,
                                               opt_str(L, "reason"),
                                               opt_at(L)));
}

/* ------------------------------------------------------- candidates */

/* The candidates list at `idx` as C structs in a userdata left on the
** stack; returns the count. */
static size_t check_candidates(lua_State *L, int idx, int arg, int need_id,
                               sl_peer_candidate **out) {
  luaL_checktype(L, idx, LUA_TTABLE);
  size_t n = (size_t)lua_rawlen(L, idx);
  sl_peer_candidate *c = lua_newuserdatauv(L, (n ? n : 1) * sizeof *c, 0);
  for (size_t i = 0; i < n; i++) {
    lua_rawgeti(L, idx, (lua_Integer)i + 1);
    int e = lua_gettop(L);
    if (!lua_istable(L, e))
      luaL_argerror(L, arg, lua_pushfstring(L, "candidates[%d]: table "
                                               "expected", (int)i + 1));
    if (lua_getfield(L, e, "device_id") != LUA_TSTRING && need_id)
      luaL_argerror(L, arg, lua_pushfstring(L, "candidates[%d].device_id: "
                                               "string expected", (int)i + 1));
    c[i].device_id = lua_tostring(L, -1); /* the candidate keeps it */
    lua_getfield(L, e, "is_online");
    c[i].is_online = lua_toboolean(L, -1);
    lua_getfield(L, e, "has_complete_state");
    c[i].has_complete_state = lua_toboolean(L, -1);
    c[i].latency_ms = (float)cand_num(L, e, i, "latency_ms", 0, arg);
    c[i].active_syncs = (int)cand_num(L, e, i, "active_syncs", 1, arg);
    lua_settop(L, e - 1);
  }
  *out = c;
  return n;
}

/* synclua.select_peer(candidates) -> index (1-based), scores |
** nil, "No online peers available for backfill" */
static int l_select_peer(lua_State *L) {
  sl_peer_candidate *c;
  size_t n = check_candidates(L, 1, 1, 1, &c), selected;
  if (sl_peer_select(c, n, &selected) != SL_OK) {
    lua_pushnil(L);
    lua_pushliteral(L, "No online peers available for backfill");
    return 2;
  }
  lua_pushinteger(L, (lua_Integer)selected + 1);
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    lua_pushnumber(L, (lua_Number)sl_peer_score(&c[i]));
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 2;
}

/* synclua.peer_score(candidate) -> Spacedrive's score (an f32, widened) */
static int l_peer_score(lua_State *L) {
  sl_peer_candidate *c;
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_createtable(L, 1, 0);
  lua_pushvalue(L, 1);
  lua_rawseti(L, -2, 1);
  check_candidates(L, lua_gettop(L), 1, 0, &c);
  lua_pushnumber(L, (lua_Number)sl_peer_score(c));
  return 1;
}

/* log:emit_peer_selected{ session, candidates, selected, at } -> index
** (the selected candidate, chosen by Spacedrive's rule if not given) |
** false, why | nil, "No online peers available for backfill" */
static int l_emit_peer_selected(lua_State *L) {
  static const char *const keys[] = {"session", "candidates", "selected",
                                     "at", NULL};
  sl_peer_candidate *c;
  size_t selected;
  sl_store *s = begin(L, keys);
  const char *session = opt_str(L, "session");
  int64_t at = opt_at(L);
  int given = lua_getfield(L, 2, "selected") != LUA_TNIL;
  lua_pop(L, 1);
  int64_t chosen = opt_int(L, "selected", 0);
  if (lua_getfield(L, 2, "candidates") != LUA_TTABLE)
    luaL_argerror(L, 2, "candidates: list expected");
  size_t n = check_candidates(L, lua_gettop(L), 2, 1, &c);
  if (given) {
    if (chosen < 1 || (size_t)chosen > n)
      luaL_argerror(L, 2, "selected: not an index of candidates");
    selected = (size_t)chosen - 1;
  } else if (sl_peer_select(c, n, &selected) != SL_OK) {
    lua_pushnil(L);
    lua_pushliteral(L, "No online peers available for backfill");
    return 2;
  }
  int rc = sl_emit_peer_selected(s, session, c, n, selected, at);
  if (rc != SL_OK) return result(L, s, rc);
  lua_pushinteger(L, (lua_Integer)selected + 1);
  return 1;
}

/* --------------------------------------------------- the other kinds */

/* log:emit_backfill_started{ session, peer_count, at } */
static int l_emit_backfill_started(lua_State *L) {
  static const char *const keys[] = {"session", "peer_count", "at", NULL};
  sl_store *s = begin(L, keys);
  return result(L, s, sl_emit_backfill_started(s, opt_str(L, "session"),
                                               need_int(L, "peer_count"),
                                               opt_at(L)));
}

/* log:emit_backfill_completed{ session, peer, duration_ms, record_count,
** at } */
static int l_emit_backfill_completed(lua_State *L) {
  static const char *const keys[] = {"session", "peer", "duration_ms",
                                     "record_count", "at", NULL};
  sl_store *s = begin(L, keys);
  return result(L, s, sl_emit_backfill_completed(
                        s, opt_str(L, "session"), opt_str(L, "peer"),
                        need_int(L, "duration_ms"),
                        opt_int(L, "record_count", -1), opt_at(L)));
}

/* log:emit_backfill_failed{ session, peer, reason, duration_ms, at } */
static int l_emit_backfill_failed(lua_State *L) {
  static const char *const keys[] = {"session", "peer", "reason",
                                     "duration_ms", "at", NULL};
  sl_store *s = begin(L, keys);
  return result(L, s, sl_emit_backfill_failed(
                        s, opt_str(L, "session"), opt_str(L, "peer"),
                        need_str(L, "reason"), opt_int(L, "duration_ms", 0),
                        opt_at(L)));
}

/* log:emit_catch_up_started{ session, peer, at } */
static int l_emit_catch_up_started(lua_State *L) {
  static const char *const keys[] = {"session", "peer", "at", NULL};
  sl_store *s = begin(L, keys);
  return result(L, s, sl_emit_catch_up_started(s, opt_str(L, "session"),
                                               need_str(L, "peer"),
                                               opt_at(L)));
}

/* log:emit_catch_up_completed{ session, peer, record_count, duration_ms,
** at } */
static int l_emit_catch_up_completed(lua_State *L) {
  static const char *const keys[] = {"session", "peer", "record_count",
                                     "duration_ms", "at", NULL};
  sl_store *s = begin(L, keys);
  return result(L, s, sl_emit_catch_up_completed(
                        s, opt_str(L, "session"), need_str(L, "peer"),
                        need_int(L, "record_count"),
                        opt_int(L, "duration_ms", 0), opt_at(L)));
}

static const char *const request_keys[] = {"session", "peer", "model_type",
                                           "at", NULL};

/* log:emit_backfill_request_sent{ session, peer, model_type, at } */
static int l_emit_request_sent(lua_State *L) {
  sl_store *s = begin(L, request_keys);
  return result(L, s, sl_emit_backfill_request_sent(
                        s, opt_str(L, "session"), need_str(L, "peer"),
                        opt_str(L, "model_type"), opt_at(L)));
}

/* log:emit_backfill_request_received{ session, peer, model_type, at } */
static int l_emit_request_received(lua_State *L) {
  sl_store *s = begin(L, request_keys);
  return result(L, s, sl_emit_backfill_request_received(
                        s, opt_str(L, "session"), need_str(L, "peer"),
                        opt_str(L, "model_type"), opt_at(L)));
}

/* log:emit_backfill_response_sent{ session, peer, model_type,
** record_count, duration_ms, at } */
static int l_emit_response_sent(lua_State *L) {
  static const char *const keys[] = {"session", "peer", "model_type",
                                     "record_count", "duration_ms", "at",
                                     NULL};
  sl_store *s = begin(L, keys);
  return result(L, s, sl_emit_backfill_response_sent(
                        s, opt_str(L, "session"), need_str(L, "peer"),
                        opt_str(L, "model_type"), need_int(L, "record_count"),
                        opt_int(L, "duration_ms", 0), opt_at(L)));
}

/* log:emit_peer_connected{ peer, at } */
static int l_emit_peer_connected(lua_State *L) {
  static const char *const keys[] = {"peer", "at", NULL};
  sl_store *s = begin(L, keys);
  return result(L, s, sl_emit_peer_connected(s, need_str(L, "peer"),
                                             opt_at(L)));
}

/* log:emit_peer_disconnected{ peer, reason, at } */
static int l_emit_peer_disconnected(lua_State *L) {
  static const char *const keys[] = {"peer", "reason", "at", NULL};
  sl_store *s = begin(L, keys);
  return result(L, s, sl_emit_peer_disconnected(s, need_str(L, "peer"),
                                                opt_str(L, "reason"),
                                                opt_at(L)));
}

/* log:emit_buffer_overflow{ dropped, max_buffer_size, at } */
static int l_emit_buffer_overflow(lua_State *L) {
  static const char *const keys[] = {"dropped", "max_buffer_size", "at",
                                     NULL};
  sl_store *s = begin(L, keys);
  return result(L, s, sl_emit_buffer_overflow(s, need_int(L, "dropped"),
                                              need_int(L, "max_buffer_size"),
                                              opt_at(L)));
}

/* log:emit_stuck_dependencies{ total_dependencies, total_waiting_updates,
** at } */
static int l_emit_stuck_dependencies(lua_State *L) {
  static const char *const keys[] = {"total_dependencies",
                                     "total_waiting_updates", "at", NULL};
  sl_store *s = begin(L, keys);
  return result(L, s, sl_emit_stuck_dependencies(
                        s, need_int(L, "total_dependencies"),
                        need_int(L, "total_waiting_updates"), opt_at(L)));
}

/* log:emit_watermark_too_old{ peer, age_days (nil: no watermark),
** threshold_days (default 25), at } */
static int l_emit_watermark_too_old(lua_State *L) {
  static const char *const keys[] = {"peer", "age_days", "threshold_days",
                                     "at", NULL};
  sl_store *s = begin(L, keys);
  return result(L, s, sl_emit_watermark_too_old(
                        s, opt_str(L, "peer"), opt_int(L, "age_days", -1),
                        opt_int(L, "threshold_days", 25), opt_at(L)));
}

static const luaL_Reg emit_methods[] = {
  {"add_records", l_add_records},
  {"flush_batches", l_flush_batches},
  {"tick_batches", l_tick_batches},
  {"batch_memory", l_batch_memory},
  {"emit_state_transition", l_emit_state_transition},
  {"emit_backfill_started", l_emit_backfill_started},
  {"emit_peer_selected", l_emit_peer_selected},
  {"emit_backfill_completed", l_emit_backfill_completed},
  {"emit_backfill_failed", l_emit_backfill_failed},
  {"emit_catch_up_started", l_emit_catch_up_started},
  {"emit_catch_up_completed", l_emit_catch_up_completed},
  {"emit_backfill_request_sent", l_emit_request_sent},
  {"emit_backfill_request_received", l_emit_request_received},
  {"emit_backfill_response_sent", l_emit_response_sent},
  {"emit_peer_connected", l_emit_peer_connected},
  {"emit_peer_disconnected", l_emit_peer_disconnected},
  {"emit_buffer_overflow", l_emit_buffer_overflow},
  {"emit_stuck_dependencies", l_emit_stuck_dependencies},
  {"emit_watermark_too_old", l_emit_watermark_too_old},
  {NULL, NULL}};

void lsl_emit_register(lua_State *L, int methods, int module) {
  lua_pushvalue(L, methods);
  luaL_setfuncs(L, emit_methods, 0);
  lua_pop(L, 1);
  lua_pushcfunction(L, l_select_peer);
  lua_setfield(L, module, "select_peer");
  lua_pushcfunction(L, l_peer_score);
  lua_setfield(L, module, "peer_score");
}
