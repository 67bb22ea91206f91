/*
** lsl_store.c -- the synclua.Store type: a sync.db opened from Lua, for
** reading (events, count, fingerprint, identity, the bad rows read) and,
** opened with mode "w", for logging (append, flush, stats, prune).
** Misuse raises; the environment failing returns nil, message, code.
*/
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "lsl_internal.h"

typedef struct lstore {
  sl_store *s;                 /* NULL once closed                          */
} lstore;

#define ERRSZ 512

sl_store *lsl_check_store(lua_State *L, int idx) {
  lstore *ls = luaL_checkudata(L, idx, LSL_STORE);
  if (!ls->s) luaL_error(L, "attempt to use a closed synclua.Store");
  return ls->s;
}

static sl_store *check_open(lua_State *L) { return lsl_check_store(L, 1); }

/* nil, message, code -- the environment failed. */
static int fail_with(lua_State *L, const char *message, int status) {
  lua_pushnil(L);
  lua_pushstring(L, message);
  lua_pushstring(L, sl_status_name(status));
  return 3;
}

/* The same, with the store's message. */
static int fail(lua_State *L, sl_store *s, int status) {
  return fail_with(L, sl_store_errmsg(s), status);
}

static const char *const open_keys[] = {
  "mode", "device_id", "queue_capacity", "retention", "auto_prune",
  "prune_interval", "busy_timeout", "synchronous", "create",
  "batch_interval", "batch_records", "indexes", "retry_budget", NULL};

/* The options that only mean something to a store opened to write. */
static const char *const writer_keys[] = {
  "device_id", "queue_capacity", "auto_prune", "prune_interval",
  "synchronous", "create", "batch_interval", "batch_records", "indexes",
  "retry_budget", NULL};

/* mode = "r" (the default) or "w", as io.open's. */
static int check_mode(lua_State *L, int idx) {
  int t = lua_getfield(L, idx, "mode");
  const char *m = t == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
  int mode = SL_OPEN_READ;
  if (t == LUA_TSTRING && !strcmp(m, "w")) mode = SL_OPEN_WRITE;
  else if (t == LUA_TSTRING && strcmp(m, "r"))
    luaL_argerror(L, idx, lua_pushfstring(L, "mode: \"r\" or \"w\" expected,"
                                             " got \"%s\"", m));
  else if (t != LUA_TSTRING && t != LUA_TNIL)
    luaL_argerror(L, idx, lua_pushfstring(L, "mode: \"r\" or \"w\" expected,"
                                             " got %s", luaL_typename(L, -1)));
  lua_pop(L, 1);
  return mode;
}

static void check_open_opts(lua_State *L, int idx, sl_open_opts *o) {
  memset(o, 0, sizeof *o);
  if (lua_isnoneornil(L, idx)) return;
  luaL_checktype(L, idx, LUA_TTABLE);
  lsl_check_keys(L, idx, idx, open_keys, "option");
  o->mode = check_mode(L, idx);
  if (o->mode == SL_OPEN_READ)
    for (int k = 0; writer_keys[k]; k++) {
      if (lua_getfield(L, idx, writer_keys[k]) != LUA_TNIL)
        luaL_argerror(L, idx, lua_pushfstring(L, "%s needs mode \"w\"",
                                              writer_keys[k]));
      lua_pop(L, 1);
    }
  if (lua_getfield(L, idx, "device_id") != LUA_TNIL) {
    if (lua_type(L, -1) != LUA_TSTRING)
      luaL_argerror(L, idx, "device_id: string expected");
    o->device_id = lua_tostring(L, -1); /* the opts table keeps it alive */
  }
  if (lua_getfield(L, idx, "queue_capacity") != LUA_TNIL) {
    if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 ||
        lua_tointeger(L, -1) > 100000000)
      luaL_argerror(L, idx, "queue_capacity: integer from 1 to 100000000 "
                            "expected");
    o->queue_capacity = (size_t)lua_tointeger(L, -1);
  }
  if (lua_getfield(L, idx, "retention") != LUA_TNIL)
    o->retention = lsl_check_duration(L, -1, idx, "retention");
  if (lua_getfield(L, idx, "auto_prune") != LUA_TNIL)
    o->auto_prune = lua_toboolean(L, -1);
  if (lua_getfield(L, idx, "prune_interval") != LUA_TNIL)
    o->prune_interval = lsl_check_duration(L, -1, idx, "prune_interval");
  if (lua_getfield(L, idx, "busy_timeout") != LUA_TNIL) {
    if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1)
      luaL_argerror(L, idx, "busy_timeout: positive integer (ms) expected");
    o->busy_timeout_ms = (int)lua_tointeger(L, -1);
  }
  if (lua_getfield(L, idx, "synchronous") != LUA_TNIL) {
    static const char *const modes[] = {"normal", "full", "off", NULL};
    const char *m = lua_tostring(L, -1);
    int i = -1;
    for (int k = 0; m && modes[k]; k++)
      if (!strcmp(m, modes[k])) i = k;
    if (i < 0)
      luaL_argerror(L, idx, "synchronous: 'normal', 'full' or 'off' expected");
    o->synchronous = i; /* the order of SL_SYNC_NORMAL, _FULL, _OFF */
  }
  if (lua_getfield(L, idx, "create") != LUA_TNIL)
    o->no_create = !lua_toboolean(L, -1);
  if (lua_getfield(L, idx, "batch_interval") != LUA_TNIL)
    o->batch_interval = lsl_check_duration(L, -1, idx, "batch_interval");
  if (lua_getfield(L, idx, "batch_records") != LUA_TNIL) {
    if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1)
      luaL_argerror(L, idx, "batch_records: positive integer expected");
    o->batch_records = (int64_t)lua_tointeger(L, -1);
  }
  if (lua_getfield(L, idx, "indexes") != LUA_TNIL)
    o->indexes = lua_toboolean(L, -1);
  /* A budget of 0 is one try (the core's 0 is its default). */
  if (lua_getfield(L, idx, "retry_budget") != LUA_TNIL) {
    o->retry_budget = lsl_check_duration(L, -1, idx, "retry_budget");
    if (o->retry_budget == 0) o->retry_budget = -1;
  }
  lua_pop(L, 12); /* pop the values read (the table keeps device_id) */
}

/* synclua.open(path [, opts]) -> Store | nil, message, code
** Reads unless opts.mode is "w" (then a missing file is created). */
static int l_store_open(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  sl_open_opts opts;
  check_open_opts(L, 2, &opts);
  lstore *ls = lua_newuserdatauv(L, sizeof *ls, 0);
  ls->s = NULL;
  luaL_setmetatable(L, LSL_STORE);
  sl_store *s = NULL;
  int rc = sl_store_open(path, &opts, &s);
  if (rc != SL_OK) {
    if (!s) return luaL_error(L, "not enough memory");
    lua_pushnil(L);
    lua_pushstring(L, sl_store_errmsg(s));
    lua_pushstring(L, sl_status_name(rc));
    sl_store_release(s);
    return 3;
  }
  ls->s = s;
  return 1;
}

/* store:append(event) -> true | false, "full" */
static int l_store_append(lua_State *L) {
  char err[ERRSZ];
  sl_event ev;
  sl_store *s = check_open(L);
  lsl_check_event(L, 2, 2, 0, &ev, 0);
  if (sl_event_validate(&ev, err, sizeof err) != SL_OK)
    return luaL_argerror(L, 2, err);
  int rc = sl_store_append(s, &ev);
  switch (rc) {
  case SL_OK:
    lua_pushboolean(L, 1);
    return 1;
  case SL_FULL:
  case SL_NOMEM:
    lua_pushboolean(L, 0);
    lua_pushstring(L, sl_status_name(rc));
    return 2;
  case SL_READONLY:
    return luaL_error(L, "%s: opened read-only: cannot append",
                      sl_store_path(s));
  case SL_INVALID:
    return luaL_argerror(L, 2, "device_id: missing (give one, or open the "
                               "store with a device_id)");
  default:
    return luaL_error(L, "append: %s", sl_status_name(rc));
  }
}

/* store:flush([timeout]) -> true | nil, message, code: code "timeout" when
** the timeout (a duration, or seconds) passed first */
static int l_store_flush(lua_State *L) {
  sl_store *s = check_open(L);
  int64_t timeout = lua_isnoneornil(L, 2)
                      ? -1 : lsl_check_duration(L, 2, 2, "timeout");
  int rc = sl_store_flush_within(s, timeout);
  /* A thread-safe call: its message is this thread's. */
  if (rc != SL_OK) return fail_with(L, sl_thread_errmsg(), rc);
  lua_pushboolean(L, 1);
  return 1;
}

/* store:close() -> true | nil, message, code; closing twice is fine */
static int l_store_close(lua_State *L) {
  lstore *ls = luaL_checkudata(L, 1, LSL_STORE);
  sl_store *s = ls->s;
  if (!s) {
    lua_pushboolean(L, 1);
    return 1;
  }
  ls->s = NULL;
  int rc = sl_store_close(s);
  if (rc != SL_OK) {
    lua_pushnil(L);
    lua_pushstring(L, sl_store_errmsg(s));
    lua_pushstring(L, sl_status_name(rc));
    sl_store_release(s);
    return 3;
  }
  sl_store_release(s);
  lua_pushboolean(L, 1);
  return 1;
}

static int l_store_gc(lua_State *L) {
  lstore *ls = luaL_checkudata(L, 1, LSL_STORE);
  if (ls->s) {
    sl_store_close(ls->s);
    sl_store_release(ls->s);
    ls->s = NULL;
  }
  return 0;
}

static void set_int(lua_State *L, const char *k, int64_t v) {
  lua_pushinteger(L, (lua_Integer)v);
  lua_setfield(L, -2, k);
}

static void set_time(lua_State *L, const char *k, int64_t instant) {
  char ts[SL_TIME_BUFSZ];
  sl_time_format(instant, 0, ts);
  lua_pushstring(L, ts);
  lua_setfield(L, -2, k);
}

/* store:stats() -> { appended, written, dropped, failed, retries, pruned,
** queue_depth, queue_capacity } */
static int l_store_stats(lua_State *L) {
  sl_stats st;
  sl_store_stats(check_open(L), &st);
  lua_createtable(L, 0, 8);
  set_int(L, "appended", (int64_t)st.appended);
  set_int(L, "written", (int64_t)st.written);
  set_int(L, "dropped", (int64_t)st.dropped);
  set_int(L, "failed", (int64_t)st.failed);
  set_int(L, "retries", (int64_t)st.retries);
  set_int(L, "pruned", (int64_t)st.pruned);
  set_int(L, "queue_depth", (int64_t)st.queue_depth);
  set_int(L, "queue_capacity", (int64_t)st.queue_capacity);
  return 1;
}

/* store:prune{ older_than = "7 days", dry_run = false } ->
** { count, cutoff, oldest, newest, unparsable, dry_run } | nil, msg, code */
static int l_store_prune(lua_State *L) {
  sl_prune_result r;
  int64_t older_than = -1; /* the store's retention */
  int dry_run = 0;
  sl_store *s = check_open(L);
  if (!lua_isnoneornil(L, 2)) {
    static const char *const prune_keys[] = {"older_than", "dry_run", NULL};
    luaL_checktype(L, 2, LUA_TTABLE);
    lsl_check_keys(L, 2, 2, prune_keys, "option");
    if (lua_getfield(L, 2, "older_than") != LUA_TNIL)
      older_than = lsl_check_duration(L, -1, 2, "older_than");
    if (lua_getfield(L, 2, "dry_run") != LUA_TNIL)
      dry_run = lua_toboolean(L, -1);
  }
  int rc = sl_store_prune(s, older_than, dry_run, &r);
  if (rc != SL_OK) return fail(L, s, rc);
  lua_createtable(L, 0, 6);
  set_int(L, "count", r.count);
  set_time(L, "cutoff", r.cutoff);
  if (r.count > 0) {
    set_time(L, "oldest", r.oldest);
    set_time(L, "newest", r.newest);
  }
  set_int(L, "unparsable", r.unparsable);
  lua_pushboolean(L, dry_run);
  lua_setfield(L, -2, "dry_run");
  return 1;
}

/* store:events([filter]) -> iterator, cursor, nil, cursor */
static int l_store_events(lua_State *L) {
  sl_store *s = check_open(L);
  return lsl_cursor_open(L, s, 1, 2);
}

/* store:cursor([filter]) -> the Cursor alone (cursor:next(), or hand it to
** synclua.merge) */
static int l_store_cursor(lua_State *L) {
  lsl_cursor_open(L, check_open(L), 1, 2);
  return 1; /* the closing value on top is the cursor */
}

/* store:first([filter]) -> the first event the query yields, or nil */
static int l_store_first(lua_State *L) {
  return lsl_cursor_first(L, check_open(L), 2);
}

/* store:count([filter]) -> integer | nil, message, code */
static int l_store_count(lua_State *L) {
  sl_filter f;
  int64_t n;
  sl_store *s = check_open(L);
  lsl_filter_check(L, 2, 2, &f);
  int rc = sl_count(s, &f, &n);
  if (rc == SL_INVALID) return luaL_argerror(L, 2, sl_store_errmsg(s));
  if (rc != SL_OK) return fail(L, s, rc);
  lua_pushinteger(L, (lua_Integer)n);
  return 1;
}

/* store:fingerprint([filter]) -> count, digest (16 lowercase hex digits)
** | nil, message, code */
static int l_store_fingerprint(lua_State *L) {
  sl_filter f;
  int64_t n;
  uint64_t digest;
  char hex[17];
  sl_store *s = check_open(L);
  lsl_filter_check(L, 2, 2, &f);
  int rc = sl_fingerprint(s, &f, &n, &digest);
  if (rc == SL_INVALID) return luaL_argerror(L, 2, sl_store_errmsg(s));
  if (rc != SL_OK) return fail(L, s, rc);
  snprintf(hex, sizeof hex, "%016" PRIx64, digest);
  lua_pushinteger(L, (lua_Integer)n);
  lua_pushstring(L, hex);
  return 2;
}

/* store:identity() -> "DEV:INO" of the database file */
static int l_store_identity(lua_State *L) {
  lua_pushstring(L, sl_store_identity(check_open(L)));
  return 1;
}

/* store:max_id() -> integer | nil, message, code */
static int l_store_max_id(lua_State *L) {
  int64_t id;
  sl_store *s = check_open(L);
  int rc = sl_store_max_id(s, &id);
  if (rc != SL_OK) return fail(L, s, rc);
  lua_pushinteger(L, (lua_Integer)id);
  return 1;
}

/* synclua.is_database(text) -> boolean: does synclua.open take text for a
** PostgreSQL database rather than a file? */
static int l_store_is_database(lua_State *L) {
  lua_pushboolean(L, sl_store_is_database(luaL_checkstring(L, 1)));
  return 1;
}

/* store:backend() -> "sqlite" | "postgresql" */
static int l_store_backend(lua_State *L) {
  lua_pushstring(L, sl_store_backend(check_open(L)));
  return 1;
}

static int push_device(void *ctx, const sl_device_info *d) {
  lua_State *L = ctx;
  lua_createtable(L, 0, 3);
  lua_pushstring(L, d->library_id);
  lua_setfield(L, -2, "library_id");
  lua_pushstring(L, d->device_id);
  lua_setfield(L, -2, "device_id");
  if (d->label) {
    lua_pushstring(L, d->label);
    lua_setfield(L, -2, "label");
  }
  lua_rawseti(L, -2, (lua_Integer)luaL_len(L, -2) + 1);
  return 0;
}

/* store:devices() -> { {library_id, device_id, label}, ... } | nil, message,
** code: a fleet store's devices, by library, in the order first pushed */
static int l_store_devices(lua_State *L) {
  sl_store *s = check_open(L);
  lua_newtable(L);
  int rc = sl_store_devices(s, push_device, L);
  if (rc == SL_MISUSE) return luaL_error(L, "%s", sl_store_errmsg(s));
  if (rc != SL_OK) return fail(L, s, rc);
  return 1;
}

/* Field `key` of the table at idx: a string or nil. */
static const char *opt_string(lua_State *L, int idx, const char *key) {
  int t = lua_getfield(L, idx, key);
  if (t != LUA_TNIL && t != LUA_TSTRING)
    luaL_argerror(L, idx, lua_pushfstring(L, "%s: string expected, got %s",
                                          key, luaL_typename(L, -1)));
  return lua_tostring(L, -1); /* the table keeps it alive */
}

/* store:scope{ library_id =, device_id = } -> Store | nil, message, code:
** a read-only handle on one library's (and device's) rows of a fleet */
static int l_store_scope(lua_State *L) {
  static const char *const keys[] = {"library_id", "device_id", NULL};
  sl_store *s = check_open(L);
  luaL_checktype(L, 2, LUA_TTABLE);
  lsl_check_keys(L, 2, 2, keys, "option");
  const char *lib = opt_string(L, 2, "library_id");
  const char *dev = opt_string(L, 2, "device_id");
  lstore *ls = lua_newuserdatauv(L, sizeof *ls, 0);
  ls->s = NULL;
  luaL_setmetatable(L, LSL_STORE);
  int rc = sl_store_scope(s, lib, dev, &ls->s);
  if (rc == SL_MISUSE || rc == SL_INVALID)
    return luaL_argerror(L, rc == SL_MISUSE ? 1 : 2, sl_store_errmsg(s));
  if (rc != SL_OK) return fail(L, s, rc);
  return 1;
}

/* store:push(source, { library_id =, device_id =, label =, once = })
** -> { read, inserted, duplicates, after_id } | nil, message, code:
** source's rows into this fleet store (opened to write) as that device's
** log, one transaction (once: read whole, no mark kept) */
static int l_store_push(lua_State *L) {
  static const char *const keys[] = {"library_id", "device_id", "label",
                                     "once", NULL};
  sl_push_result r;
  sl_push_opts o;
  memset(&o, 0, sizeof o);
  sl_store *s = check_open(L);
  sl_store *src = lsl_check_store(L, 2);
  luaL_checktype(L, 3, LUA_TTABLE);
  lsl_check_keys(L, 3, 3, keys, "option");
  o.library_id = opt_string(L, 3, "library_id");
  o.device_id = opt_string(L, 3, "device_id");
  o.label = opt_string(L, 3, "label");
  lua_getfield(L, 3, "once");
  o.once = lua_toboolean(L, -1);
  if (!o.library_id) return luaL_argerror(L, 3, "library_id: required");
  int rc = sl_store_push(s, src, &o, &r);
  if (rc == SL_MISUSE || rc == SL_INVALID)
    return luaL_argerror(L, rc == SL_MISUSE ? 1 : 3, sl_store_errmsg(s));
  if (rc != SL_OK) return fail(L, s, rc);
  lua_createtable(L, 0, 4);
  lua_pushinteger(L, (lua_Integer)r.read);
  lua_setfield(L, -2, "read");
  lua_pushinteger(L, (lua_Integer)r.inserted);
  lua_setfield(L, -2, "inserted");
  lua_pushinteger(L, (lua_Integer)r.duplicates);
  lua_setfield(L, -2, "duplicates");
  lua_pushinteger(L, (lua_Integer)r.after_id);
  lua_setfield(L, -2, "after_id");
  return 1;
}

/* store:time_report() -> { rows, noncanonical, unparsable, first_bad_ids } */
static int l_store_time_report(lua_State *L) {
  sl_time_report r;
  sl_store *s = check_open(L);
  int rc = sl_store_time_report(s, &r);
  if (rc != SL_OK) return fail(L, s, rc);
  lua_createtable(L, 0, 4);
  set_int(L, "rows", r.rows);
  set_int(L, "noncanonical", r.noncanonical);
  set_int(L, "unparsable", r.unparsable);
  lua_createtable(L, 3, 0);
  for (int i = 0; i < 3 && r.first_bad_id[i]; i++) {
    lua_pushinteger(L, (lua_Integer)r.first_bad_id[i]);
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, -2, "first_bad_ids");
  return 1;
}

/* store:bad_rows() -> count, { smallest ids }, { column names }, at_least:
** the distinct rows any of the store's cursors (and merges) handed out read
** leniently, each once however many queries read it; the ids ascending;
** at_least true when the count is a lower bound (synclua.h,
** sl_store_bad_rows) */
static int l_store_bad_rows(lua_State *L) {
  sl_bad_rows b;
  int at_least;
  sl_store_bad_rows(check_open(L), &b, &at_least);
  lsl_push_bad_rows(L, &b);
  lua_pushboolean(L, at_least);
  return 4;
}

/* store:integrity() -> true | false, findings | nil, message, code */
static int l_store_integrity(lua_State *L) {
  sl_store *s = check_open(L);
  sl_buf *report = lsl_buf_push(L);
  int rc = sl_store_integrity(s, report);
  if (rc == SL_CORRUPT) {
    lua_pushboolean(L, 0);
    lua_pushlstring(L, report->data ? report->data : "", report->len);
    return 2;
  }
  if (rc != SL_OK) return fail(L, s, rc);
  lua_pushboolean(L, 1);
  return 1;
}

/* store:path() -> the sync.db path */
static int l_store_path(lua_State *L) {
  lua_pushstring(L, sl_store_path(check_open(L)));
  return 1;
}

/* store:readonly() -> boolean */
static int l_store_readonly(lua_State *L) {
  lua_pushboolean(L, sl_store_readonly(check_open(L)));
  return 1;
}

/* store:immutable() -> boolean: read as it stands (its folder cannot be
** written; what a writer adds after the open is not seen) */
static int l_store_immutable(lua_State *L) {
  lua_pushboolean(L, sl_store_immutable(check_open(L)));
  return 1;
}

static int l_store_tostring(lua_State *L) {
  lstore *ls = luaL_checkudata(L, 1, LSL_STORE);
  if (ls->s)
    lua_pushfstring(L, "synclua.Store (%s%s)", sl_store_path(ls->s),
                    sl_store_readonly(ls->s) ? ", read-only" : "");
  else
    lua_pushliteral(L, "synclua.Store (closed)");
  return 1;
}

/* store:redact(redactor | nil) -> store: every row its cursors hand out
** from now on is redacted by the synclua.Redactor (nil: as stored) */
static int l_store_redact(lua_State *L) {
  lsl_redact_store(L, check_open(L), 1, 2);
  lua_settop(L, 1);
  return 1;
}

static const luaL_Reg store_methods[] = {
  {"append", l_store_append}, {"flush", l_store_flush},
  {"close", l_store_close},   {"stats", l_store_stats},
  {"prune", l_store_prune},   {"events", l_store_events},
  {"count", l_store_count},   {"first", l_store_first},
  {"cursor", l_store_cursor},   {"time_report", l_store_time_report},
  {"path", l_store_path},     {"readonly", l_store_readonly},
  {"immutable", l_store_immutable},
  {"integrity", l_store_integrity},
  {"identity", l_store_identity}, {"fingerprint", l_store_fingerprint},
  {"max_id", l_store_max_id},
  {"backend", l_store_backend}, {"devices", l_store_devices},
  {"scope", l_store_scope},     {"push", l_store_push},
  {"bad_rows", l_store_bad_rows},
  {"redact", l_store_redact},
  {NULL, NULL}};

static const luaL_Reg store_meta[] = {
  {"__gc", l_store_gc},
  {"__close", l_store_gc},
  {"__tostring", l_store_tostring},
  {"__index", NULL},
  {NULL, NULL}};

void lsl_store_register(lua_State *L) {
  int module = lua_gettop(L);
  luaL_newmetatable(L, LSL_STORE);
  luaL_setfuncs(L, store_meta, 0);
  luaL_newlib(L, store_methods);
  lsl_emit_register(L, lua_gettop(L), module);
  lsl_import_register(L, lua_gettop(L), module);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1); /* pop metatable */
  lua_pushcfunction(L, l_store_open);
  lua_setfield(L, -2, "open");
  lua_pushcfunction(L, l_store_is_database);
  lua_setfield(L, -2, "is_database");
}
