/*
** lsl_internal.h -- declarations shared by the binding's files (lua/lsl_*.c):
** the type names, the owned-pointer box that keeps malloc'ed memory safe
** across calls that can raise, and Lua <-> JSON and filter conversion.
*/
#ifndef LSL_INTERNAL_H
#define LSL_INTERNAL_H

#include <lauxlib.h>
#include <lua.h>

#include <synclua/net.h>
#include <synclua/redact.h>

#define LSL_STORE  "synclua.Store"
#define LSL_CURSOR "synclua.Cursor"
#define LSL_BOX    "synclua.Box"
#define LSL_ARRAY  "synclua.array"
#define LSL_REDACTOR "synclua.Redactor"

/* A userdata owning a C pointer, freed by __gc (or at once by lsl_box_free)
** so that memory survives no error raised while it is held. */
typedef struct lsl_box {
  void *ptr;                    /* the owned object, NULL once freed        */
  void (*free_fn)(void *);      /* how to free it                           */
} lsl_box;

/* Push a box owning nothing yet; set ->ptr and ->free_fn once allocated. */
lsl_box *lsl_box_push(lua_State *L);
void lsl_box_free(lsl_box *box);

/* An sl_buf inside a box on the stack top. */
sl_buf *lsl_buf_push(lua_State *L);

/* Encode the Lua value at idx (table, string, number, boolean, null) into
** b as the core writes JSON: compact, keys sorted, serde's bytes. Returns
** NULL or a message (pushed) saying what cannot be encoded. */
const char *lsl_json_encode(lua_State *L, int idx, sl_buf *b);

/* Push the Lua value for a JSON tree: objects and arrays as tables, null
** as synclua.null (the light userdata NULL, like cjson.null). */
void lsl_json_push(lua_State *L, const sl_json *v);

/* lsl_json_push, but an object member whose key is a true field of the
** table at index raw is pushed as its JSON text (compact, keys sorted: an
** integer up to u64::MAX stays exact). */
void lsl_json_push_raw(lua_State *L, const sl_json *v, int raw);

/* Push the metatable that marks a table as a JSON array. */
void lsl_push_array_mt(lua_State *L);

/* Parse JSON text and push its value; on failure push nil (returns 0). */
int lsl_json_decode(lua_State *L, const char *text, size_t len);

/* Read the filter table at idx into f and return its `raw` flag (details
** as text); strings stay owned by Lua values on
** the stack below the returned top, so keep them until the query starts.
** Raises bad argument #arg for a bad filter. A filter is the argument of
** a store's method: when the value at index 1 (its self) is a store that
** redacts (store:redact), device, peer and correlation_id given as a
** pseudonym its redactor handed out are read as the id stored, pushed. */
int lsl_filter_check(lua_State *L, int idx, int arg, sl_filter *f);

/* Raise bad argument #arg, "unknown <what> 'k'", for a key of the table at
** idx that is not in the NULL-terminated list. */
void lsl_check_keys(lua_State *L, int idx, int arg, const char *const *keys,
                    const char *what);

/* Push the strings of the list at `list` joined with ',' (model_types as
** stored) and return them; NULL, nothing pushed, if an item is not a
** string. */
const char *lsl_join_list(lua_State *L, int list);

/* A time argument: a string in the --since grammar or an integer instant. */
int64_t lsl_check_time(lua_State *L, int idx, int arg, const char *field);

/* A duration argument: a string ("7 days") or a number of seconds. */
int64_t lsl_check_duration(lua_State *L, int idx, int arg, const char *field);

/* Push the Lua table for an event. raw != 0 keeps details as text. */
void lsl_push_event(lua_State *L, const sl_event *ev, int raw);

/* Push what cursor:bad_rows() and merge:bad_rows() return (and
** store:bad_rows() before its at_least): the count, the ids of the first
** bad rows (a list) and the names of the columns found bad (a list, in
** table order). Returns 3. */
int lsl_push_bad_rows(lua_State *L, const sl_bad_rows *b);

/* The open store at idx; raises for anything else or a closed one. */
sl_store *lsl_check_store(lua_State *L, int idx);

/* Add the aggregator and emitter methods to the Store methods table at
** `methods`, and select_peer/peer_score to the module table at `module`. */
void lsl_emit_register(lua_State *L, int methods, int module);

/* Register the Store and Cursor types' metatables. */
void lsl_store_register(lua_State *L);
void lsl_cursor_register(lua_State *L);

/* store:events() -- pushes iterator, state, nil, closing value. */
int lsl_cursor_open(lua_State *L, sl_store *store, int store_idx,
                    int filter_idx);

/* Take the C cursor out of the synclua.Cursor at idx, which is closed from
** then on (a merge owns it); *raw gets its `raw` option. Raises bad
** argument #arg ("cursors[pos]: ...") for anything else, or a closed,
** rendering or already read cursor. With take 0, only checks. */
sl_cursor *lsl_take_cursor(lua_State *L, int idx, int arg, int pos,
                           int *raw, int take);

/* Register keys, messages, server and fetch (lsl_net.c) in the module
** table at `module`. */
void lsl_net_register(lua_State *L, int module);

/* Register synclua.merge in the module table at `module`. */
void lsl_merge_register(lua_State *L, int module);

/* Register synclua.watch (the synclua.Watch type) in the module table at
** `module`. */
void lsl_watch_register(lua_State *L, int module);

/* store:first() -- pushes the first matching event, or nil. */
int lsl_cursor_first(lua_State *L, sl_store *store, int filter_idx);

/* Fill ev from the event table at idx. To append (as_read 0): the fields
** log:append takes, and no others; timestamp text or an integer instant.
** As read (as_read 1: a table log:events yields, or one made like it):
** id and instant are taken too, details_json is preferred to details,
** other keys are ignored. details is a table or JSON text, model_types a
** list or comma-joined text; text keeps its length (NUL and all).
** Strings the binding makes (a timestamp, details JSON, a model list) are
** left on the stack, the rest stay owned by the table: keep the stack
** until ev is used. Raises bad argument #arg naming the field, after
** "event N: " when position > 0. */
void lsl_check_event(lua_State *L, int idx, int arg, lua_Integer position,
                     sl_event *ev, int as_read);

/* Add store:insert (bulk, one transaction) to the methods table, and
** synclua.import (the synclua.Import type: a streaming insert) to the
** module table. */
void lsl_import_register(lua_State *L, int methods, int module);

/* Register synclua.redactor (the synclua.Redactor type) and
** synclua.redact_allowed in the module table at `module` (lsl_redact.c). */
void lsl_redact_register(lua_State *L, int module);

/* store:redact(r): the store s (its userdata at store_idx) hands out rows
** redacted by the synclua.Redactor at r_idx (nil: as stored), and keeps it
** alive. Raises for anything else at r_idx. */
void lsl_redact_store(lua_State *L, sl_store *s, int store_idx, int r_idx);

/* The redactor of the store userdata at store_idx (store:redact), or NULL
** (for anything else too). */
sl_redactor *lsl_redactor_of(lua_State *L, int store_idx);

#endif
