/*
** lsl_net.c -- the protocol from Lua: keys, the EventLogRequest and
** EventLogResponse messages, the synclua.Server type (`synclua serve`),
** fetch (`synclua fetch`) and the synclua.Follow type (`synclua fetch
** --follow`). Misuse raises; the network or a peer failing
** returns nil, message, code (or a per-peer record, for fetch).
*/
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lsl_internal.h"

#define LSL_SERVER "synclua.Server"
#define ERRSZ 512
#define MAX_PEERS 1024

static int fail(lua_State *L, const char *msg, int status) {
  lua_pushnil(L);
  lua_pushstring(L, msg);
  lua_pushstring(L, sl_status_name(status));
  return 3;
}

/* The key argument: the 32 raw bytes read_key returns. */
static const unsigned char *check_key(lua_State *L, int idx, int arg) {
  size_t len;
  const char *k = lua_tolstring(L, idx, &len);
  if (!k || len != SL_KEY_BYTES)
    luaL_argerror(L, arg, "key: the 32-byte string read_key returns "
                          "expected");
  return (const unsigned char *)k;
}

static const char *opt_uuid(lua_State *L, int t, const char *field, int arg,
                            char *buf) {
  if (lua_getfield(L, t, field) == LUA_TNIL) { lua_pop(L, 1); return NULL; }
  /* The type first: lua_tostring would turn a number into a string. */
  if (lua_type(L, -1) != LUA_TSTRING)
    luaL_argerror(L, arg, lua_pushfstring(L, "%s: UUID string expected, got "
                                          "%s", field, luaL_typename(L, -1)));
  if (sl_uuid_normalize(lua_tostring(L, -1), buf) != SL_OK)
    luaL_argerror(L, arg, lua_pushfstring(L, "%s: not a UUID: %s", field,
                                          lua_tostring(L, -1)));
  lua_pop(L, 1);
  return buf;
}

static lua_Integer opt_int(lua_State *L, int t, const char *field, int arg,
                           lua_Integer def, lua_Integer lo, lua_Integer hi) {
  lua_Integer v = def;
  if (lua_getfield(L, t, field) != LUA_TNIL) {
    if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < lo ||
        lua_tointeger(L, -1) > hi)
      luaL_argerror(L, arg, lua_pushfstring(L, "%s: integer from %I to %I "
                                            "expected", field, lo, hi));
    v = lua_tointeger(L, -1);
  }
  lua_pop(L, 1);
  return v;
}

/* A span in seconds (a number over 0, at most a day) as the field `name`
** gives it, in milliseconds; 0 when the field is absent. */
static int opt_ms(lua_State *L, int t, const char *name, int arg) {
  int ms = 0;
  if (lua_getfield(L, t, name) != LUA_TNIL) {
    lua_Number s = lua_tonumber(L, -1);
    if (!lua_isnumber(L, -1) || !(s > 0 && s <= 86400))
      luaL_argerror(L, arg, lua_pushfstring(L, "%s: seconds from 0 to "
                                            "86400 expected", name));
    ms = (int)(s * 1000 + 0.5) > 0 ? (int)(s * 1000 + 0.5) : 1;
  }
  lua_pop(L, 1);
  return ms;
}

/* Timeouts in seconds (numbers) as the fields handshake_timeout, timeout
** (each read or write) and idle_timeout; and deadline (the whole
** exchange) when `deadline` is set. */
static void check_timeouts(lua_State *L, int t, int arg, sl_timeouts *to,
                           int deadline) {
  memset(to, 0, sizeof *to);
  to->handshake_ms = opt_ms(L, t, "handshake_timeout", arg);
  to->io_ms = opt_ms(L, t, "timeout", arg);
  to->idle_ms = opt_ms(L, t, "idle_timeout", arg);
  if (deadline) to->total_ms = opt_ms(L, t, "deadline", arg);
}

/* ------------------------------------------------------------ keys */

/* keygen() -> 64 hex digits of a fresh key */
static int l_keygen(lua_State *L) {
  unsigned char key[SL_KEY_BYTES];
  char hex[SL_KEY_HEXSZ];
  sl_key_generate(key);
  sl_key_hex(key, hex);
  lua_pushstring(L, hex);
  sodium_memzero(key, sizeof key);
  sodium_memzero(hex, sizeof hex);
  return 1;
}

/* write_key([path]) -> true | nil, message, code. A fresh key as 64 hex
** digits and a newline, in a new file of mode 0600 (never over an existing
** one), or on stdout -- made mode 0600 when stdout is a file, so that
** `synclua keygen > FILE` gives a key file that read_key accepts. */
static int l_write_key(lua_State *L) {
  unsigned char key[SL_KEY_BYTES];
  char hex[SL_KEY_HEXSZ + 1], err[ERRSZ];
  const char *path = luaL_optstring(L, 1, NULL);
  int fd = 1;
  struct stat st;
  sl_key_generate(key);
  sl_key_hex(key, hex);
  sodium_memzero(key, sizeof key);
  strcat(hex, "\n");
  fflush(stdout);
  if (path) {
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
      snprintf(err, sizeof err, "%s: %s%s", path, strerror(errno),
               errno == EEXIST ? " (a key is never overwritten)" : "");
      sodium_memzero(hex, sizeof hex);
      return fail(L, err, errno == EEXIST ? SL_INVALID : SL_IOERR);
    }
  } else if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    /* `keygen > FILE`: a new key file, never appended to another file. */
    int status = SL_OK;
    if (st.st_size > 0) {
      snprintf(err, sizeof err, "stdout is a file that already holds %lld "
               "bytes: a key goes into a new file (keygen -o FILE)",
               (long long)st.st_size);
      status = SL_INVALID;
    } else if (fchmod(fd, 0600) != 0) {
      snprintf(err, sizeof err, "stdout: cannot make it mode 0600: %s",
               strerror(errno));
      status = SL_IOERR;
    }
    if (status != SL_OK) {
      sodium_memzero(hex, sizeof hex);
      return fail(L, err, status);
    }
  }
  size_t put = 0, len = strlen(hex);
  while (put < len) {
    ssize_t w = write(fd, hex + put, len - put);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    put += (size_t)w;
  }
  int saved = errno;
  sodium_memzero(hex, sizeof hex);
  if (path && close(fd) != 0 && put == len) { saved = errno; put = 0; }
  if (put != len && path) unlink(path); /* no half key left behind */
  if (put != len) {
    snprintf(err, sizeof err, "%s: %s", path ? path : "stdout",
             strerror(saved));
    return fail(L, err, SL_IOERR);
  }
  lua_pushboolean(L, 1);
  return 1;
}

/* read_key(path) -> key bytes | nil, message, code */
static int l_read_key(lua_State *L) {
  unsigned char key[SL_KEY_BYTES];
  char err[ERRSZ];
  int rc = sl_key_read(luaL_checkstring(L, 1), key, err, sizeof err);
  if (rc != SL_OK) return fail(L, err, rc);
  /* The key lives on as a Lua string (Lua cannot wipe one); not here. */
  lua_pushlstring(L, (const char *)key, sizeof key);
  sodium_memzero(key, sizeof key);
  return 1;
}

/* library_id(key) -> the UUID a key stands for */
static int l_library_id(lua_State *L) {
  char id[SL_UUID_BUFSZ];
  sl_key_library_id(check_key(L, 1, 1), id);
  lua_pushstring(L, id);
  return 1;
}

/* ------------------------------------------------------------ messages */

static const char *const request_keys[] = {
  "library_id", "requesting_device", "since", "event_types",
  "correlation_id", "limit", "before", "before_id", NULL};

/* Fill req from the table at t (its strings stay owned by the table and
** by a list table left on the stack). */
static void check_request(lua_State *L, int t, int arg, sl_request *req) {
  memset(req, 0, sizeof *req);
  if (!opt_uuid(L, t, "library_id", arg, req->library_id) ||
      !opt_uuid(L, t, "requesting_device", arg, req->requesting_device))
    luaL_argerror(L, arg, "library_id and requesting_device: UUIDs needed");
  if (lua_getfield(L, t, "since") != LUA_TNIL) {
    req->since = lsl_check_time(L, -1, arg, "since");
    req->has_since = 1;
  }
  lua_pop(L, 1);
  if (opt_uuid(L, t, "correlation_id", arg, req->correlation_id))
    req->has_correlation_id = 1;
  req->limit = (uint32_t)opt_int(L, t, "limit", arg, 1000, 0, UINT32_MAX);
  if (lua_getfield(L, t, "before") != LUA_TNIL) {
    req->before = lsl_check_time(L, -1, arg, "before");
    req->before_id = opt_int(L, t, "before_id", arg, 0, 0, INT64_MAX);
    req->has_before = 1;
  }
  lua_pop(L, 1);
  if (lua_getfield(L, t, "event_types") != LUA_TNIL) {
    int list = lua_gettop(L);
    luaL_argcheck(L, lua_istable(L, list), arg,
                  "event_types: list of strings expected");
    size_t n = lua_rawlen(L, list), bytes = 0;
    luaL_argcheck(L, n <= 256, arg, "event_types: at most 256 names");
    for (size_t i = 0; i < n; i++) {
      lua_rawgeti(L, list, (lua_Integer)i + 1);
      if (lua_type(L, -1) != LUA_TSTRING ||
          strlen(lua_tostring(L, -1)) != lua_rawlen(L, -1))
        luaL_argerror(L, arg, "event_types: list of strings without NUL "
                              "expected");
      bytes += lua_rawlen(L, -1) + 1;
      lua_pop(L, 1);
    }
    /* Pointers, then copies of the names, in one userdata. */
    char **names = lua_newuserdatauv(L, (n ? n : 1) * sizeof *names + bytes,
                                     0);
    char *text = (char *)(names + (n ? n : 1));
    for (size_t i = 0; i < n; i++) {
      size_t len;
      lua_rawgeti(L, list, (lua_Integer)i + 1);
      const char *s = lua_tolstring(L, -1, &len);
      memcpy(text, s, len + 1);
      names[i] = text;
      text += len + 1;
      lua_pop(L, 1);
    }
    req->event_types = names;
    req->n_event_types = n;
    req->has_event_types = 1;
    /* list and names stay on the stack for the caller's use */
  } else {
    lua_pop(L, 1);
  }
}

/* encode_request{...} -> the JSON bytes of an EventLogRequest */
static int l_encode_request(lua_State *L) {
  sl_request req;
  luaL_checktype(L, 1, LUA_TTABLE);
  lsl_check_keys(L, 1, 1, request_keys, "field");
  check_request(L, 1, 1, &req);
  sl_buf *b = lsl_buf_push(L);
  sl_request_write(b, &req);
  if (b->oom) return luaL_error(L, "not enough memory");
  lua_pushlstring(L, b->data, b->len);
  return 1;
}

static void set_str(lua_State *L, const char *k, const char *v) {
  lua_pushstring(L, v);
  lua_setfield(L, -2, k);
}

static void push_names(lua_State *L, char *const *list, size_t n) {
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    lua_pushstring(L, list[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
}

static void free_message(void *m) {
  sl_message_clear(m);
  free(m);
}

/* decode_message(json) -> { kind = "EventLogRequest"|"EventLogResponse",
** ...fields } | nil, message, "invalid" */
static int l_decode_message(lua_State *L) {
  size_t len;
  const char *json = luaL_checklstring(L, 1, &len);
  char err[ERRSZ];
  lsl_box *box = lsl_box_push(L);
  sl_message *m = calloc(1, sizeof *m);
  if (!m) return luaL_error(L, "not enough memory");
  box->ptr = m;
  box->free_fn = free_message;
  int rc = sl_message_parse(json, len, m, err, sizeof err);
  if (rc != SL_OK) return fail(L, err, rc);
  lua_newtable(L);
  if (m->kind == SL_MSG_REQUEST) {
    const sl_request *r = &m->request;
    set_str(L, "kind", "EventLogRequest");
    set_str(L, "library_id", r->library_id);
    set_str(L, "requesting_device", r->requesting_device);
    if (r->has_since) {
      lua_pushinteger(L, r->since);
      lua_setfield(L, -2, "since");
    }
    if (r->has_event_types) {
      push_names(L, r->event_types, r->n_event_types);
      lua_setfield(L, -2, "event_types");
    }
    if (r->has_correlation_id) set_str(L, "correlation_id", r->correlation_id);
    lua_pushinteger(L, r->limit);
    lua_setfield(L, -2, "limit");
    if (r->has_before) {
      lua_pushinteger(L, r->before);
      lua_setfield(L, -2, "before");
      lua_pushinteger(L, r->before_id);
      lua_setfield(L, -2, "before_id");
    }
  } else {
    const sl_response *r = &m->response;
    set_str(L, "kind", "EventLogResponse");
    set_str(L, "library_id", r->library_id);
    set_str(L, "responding_device", r->responding_device);
    lsl_json_push(L, r->events);
    lua_setfield(L, -2, "events");
    if (r->n_unknown_event_types) {
      push_names(L, r->unknown_event_types, r->n_unknown_event_types);
      lua_setfield(L, -2, "unknown_event_types");
    }
    if (r->has_next) {
      lua_pushinteger(L, r->next);
      lua_setfield(L, -2, "next");
      lua_pushinteger(L, r->next_id);
      lua_setfield(L, -2, "next_id");
    }
  }
  lsl_box_free(box);
  return 1;
}

/* ------------------------------------------------------------ server */

typedef struct lserver {
  sl_server *srv;               /* NULL once closed                         */
} lserver;

/* The server SIGINT and SIGTERM stop while it runs: a global, because a
** signal handler has no other way to find it. */
static sl_server *volatile running;

static void on_signal(int sig) {
  int saved = errno;
  sl_server *srv = running;
  (void)sig;
  if (srv) sl_server_stop(srv);
  errno = saved;
}

/* Lines go straight to stderr from the connection threads: stdio locks
** each call, so lines never interleave. Control characters (a peer's
** text can be in a line) are shown as \xNN, never sent to the terminal. */
static void log_line(void *ud, const char *line) {
  char safe[2048];
  size_t o = 0;
  for (const unsigned char *c = (const unsigned char *)line;
       *c && o + 5 < sizeof safe; c++) {
    if (*c < 0x20 || *c == 0x7f)
      o += (size_t)snprintf(safe + o, sizeof safe - o, "\\x%02x", *c);
    else
      safe[o++] = (char)*c;
  }
  safe[o] = '\0';
  fprintf(stderr, "%s: %s\n", (const char *)ud, safe);
}

static char serve_prefix[] = "synclua serve";

static const char *const server_keys[] = {
  "db", "listen", "key", "library", "device", "max_clients", "max_events",
  "handshake_timeout", "timeout", "idle_timeout", "quiet",
  "max_unauthenticated", "max_per_address", "refusal_interval",
  "served_interval", NULL};

/* server{ db, listen, key, [library], [device], [max_clients],
** [max_events], [handshake_timeout], [timeout], [idle_timeout],
** [max_unauthenticated], [max_per_address], [refusal_interval],
** [served_interval], [quiet] } -> Server | nil, message, code */
static int l_server(lua_State *L) {
  sl_server_opts o;
  char err[ERRSZ], lib[SL_UUID_BUFSZ], dev[SL_UUID_BUFSZ];
  luaL_checktype(L, 1, LUA_TTABLE);
  lsl_check_keys(L, 1, 1, server_keys, "option");
  memset(&o, 0, sizeof o);
  lua_getfield(L, 1, "db");
  lua_getfield(L, 1, "listen");
  lua_getfield(L, 1, "key");
  o.db_path = lua_tostring(L, -3);
  o.listen = lua_tostring(L, -2);
  luaL_argcheck(L, o.db_path && o.listen, 1, "db and listen: strings needed");
  o.key = check_key(L, -1, 1);
  o.library_id = opt_uuid(L, 1, "library", 1, lib);
  o.device_id = opt_uuid(L, 1, "device", 1, dev);
  o.max_clients = (int)opt_int(L, 1, "max_clients", 1, 64, 1, 4096);
  o.max_events = (uint32_t)opt_int(L, 1, "max_events", 1, SL_MAX_EVENTS, 1,
                                   SL_MAX_EVENTS);
  check_timeouts(L, 1, 1, &o.timeouts, 0);
  o.max_unauthenticated = (int)opt_int(L, 1, "max_unauthenticated", 1, 32, 1,
                                       4096);
  o.max_per_address = (int)opt_int(L, 1, "max_per_address", 1, 4, 1, 4096);
  o.refusal_interval_ms = opt_ms(L, 1, "refusal_interval", 1);
  o.served_interval_ms = opt_ms(L, 1, "served_interval", 1);
  lua_getfield(L, 1, "quiet");
  if (!lua_toboolean(L, -1)) {
    o.log = log_line;
    o.log_ud = serve_prefix;
  }
  lserver *ls = lua_newuserdatauv(L, sizeof *ls, 0);
  ls->srv = NULL;
  luaL_setmetatable(L, LSL_SERVER);
  int rc = sl_server_open(&o, &ls->srv, err, sizeof err);
  if (rc != SL_OK) return fail(L, err, rc);
  return 1;
}

static lserver *check_server(lua_State *L) {
  lserver *ls = luaL_checkudata(L, 1, LSL_SERVER);
  if (!ls->srv) luaL_error(L, "attempt to use a closed synclua.Server");
  return ls;
}

static int l_server_address(lua_State *L) {
  lua_pushstring(L, sl_server_address(check_server(L)->srv));
  return 1;
}

static int l_server_library(lua_State *L) {
  lua_pushstring(L, sl_server_library_id(check_server(L)->srv));
  return 1;
}

static int l_server_device(lua_State *L) {
  lua_pushstring(L, sl_server_device_id(check_server(L)->srv));
  return 1;
}

/* server:run([ready]) -- serve until SIGINT, SIGTERM or server:stop();
** true | nil, msg, code. `ready` is called once the signals are taken and
** before the first connection is served: `synclua serve` says there that
** it listens, so a signal sent as soon as it says so stops it cleanly. */
static int l_server_run(lua_State *L) {
  lserver *ls = check_server(L);
  struct sigaction sa, old_int, old_term;
  if (!lua_isnoneornil(L, 2)) luaL_checktype(L, 2, LUA_TFUNCTION);
  if (running) return luaL_error(L, "another synclua.Server is running");
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  running = ls->srv;
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
  int rc = LUA_OK, status = SL_OK;
  if (!lua_isnoneornil(L, 2)) {
    lua_pushvalue(L, 2);
    rc = lua_pcall(L, 0, 0, 0);
  }
  if (rc == LUA_OK) status = sl_server_run(ls->srv);
  sigaction(SIGINT, &old_int, NULL);
  sigaction(SIGTERM, &old_term, NULL);
  running = NULL;
  if (rc != LUA_OK) return lua_error(L); /* ready's error, as it was */
  if (!ls->srv) /* ready closed it */
    return luaL_error(L, "attempt to use a closed synclua.Server");
  if (status != SL_OK)
    return fail(L, "could not flush the served-request events", status);
  lua_pushboolean(L, 1);
  return 1;
}

/* server:stop() -- make run() return (its ready function may call it) */
static int l_server_stop(lua_State *L) {
  sl_server_stop(check_server(L)->srv);
  return 0;
}

static int l_server_close(lua_State *L) {
  lserver *ls = luaL_checkudata(L, 1, LSL_SERVER);
  if (running == ls->srv) running = NULL; /* closed by run's ready */
  sl_server_free(ls->srv);
  ls->srv = NULL;
  return 0;
}

/* ------------------------------------------------------------ fetch */

static const char *const fetch_keys[] = {
  "peers", "stores", "key", "library_id", "requesting_device", "since",
  "event_types", "correlation_id", "limit", "handshake_timeout", "timeout",
  "idle_timeout", "deadline", "max_pages", NULL};

/* What fetch and fetch_follow both take from their options table: the
** peers and their stores (pushed, the peers at *peers and the stores just
** above), the key and the request. Returns how many peers. */
static size_t check_peers(lua_State *L, const char *const *keys, int *peers,
                          const unsigned char **key, sl_request *req) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lsl_check_keys(L, 1, 1, keys, "option");
  lua_getfield(L, 1, "peers");
  lua_getfield(L, 1, "stores");
  *peers = lua_gettop(L) - 1;
  luaL_argcheck(L, lua_istable(L, *peers) && lua_istable(L, *peers + 1), 1,
                "peers and stores: lists needed");
  /* Raw lengths: a __len metamethod must not size the C array below. */
  size_t n = lua_rawlen(L, *peers);
  luaL_argcheck(L, n <= MAX_PEERS, 1, "peers: at most 1024");
  luaL_argcheck(L, lua_rawlen(L, *peers + 1) == n, 1,
                "stores: one per peer needed");
  lua_getfield(L, 1, "key");
  *key = check_key(L, -1, 1);
  check_request(L, 1, 1, req);
  return n;
}

/* fetch{ peers = {addr...}, stores = {Store...}, key, library_id,
** requesting_device, [since, event_types, correlation_id, limit,
** timeouts, deadline, max_pages] } -> { {peer, ok, device, received,
** inserted, pages, capped, unknown_event_types} | {peer, ok = false,
** error, code, ...}, ... } */
static int l_fetch(lua_State *L) {
  sl_request req;
  sl_timeouts to;
  const unsigned char *key;
  int peers;
  size_t n = check_peers(L, fetch_keys, &peers, &key, &req);
  int stores = peers + 1;
  check_timeouts(L, 1, 1, &to, 1);
  int max_pages = (int)opt_int(L, 1, "max_pages", 1, SL_FETCH_MAX_PAGES, 1,
                               INT32_MAX);

  sl_fetch_peer *list = lua_newuserdatauv(L, (n ? n : 1) * sizeof *list, 0);
  memset(list, 0, (n ? n : 1) * sizeof *list);
  for (size_t i = 0; i < n; i++) {
    /* The type first: lua_tostring would make a number a string that only
    ** the stack (popped below) holds, while the threads read it. */
    if (lua_rawgeti(L, peers, (lua_Integer)i + 1) != LUA_TSTRING)
      luaL_argerror(L, 1, "peers: list of HOST:PORT strings expected");
    list[i].address = lua_tostring(L, -1);
    list[i].max_pages = max_pages;
    lua_pop(L, 1); /* the peers list keeps it */
    lua_rawgeti(L, stores, (lua_Integer)i + 1);
    list[i].dest = lsl_check_store(L, -1);
    lua_pop(L, 1);
    /* One handle is for one thread at a time: one store per peer. */
    for (size_t j = 0; j < i; j++)
      if (list[j].dest == list[i].dest)
        luaL_argerror(L, 1, lua_pushfstring(L, "stores: the same store for "
                                            "peers %d and %d", (int)j + 1,
                                            (int)i + 1));
  }
  if (sl_fetch(list, n, &req, key, &to) == SL_NOMEM)
    return luaL_error(L, "not enough memory");
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    const sl_fetch_peer *p = &list[i];
    lua_createtable(L, 0, 9);
    set_str(L, "peer", p->address);
    lua_pushboolean(L, p->status == SL_OK);
    lua_setfield(L, -2, "ok");
    if (p->status != SL_OK) {
      set_str(L, "error", p->errmsg);
      set_str(L, "code", sl_status_name(p->status));
    }
    if (p->responding_device[0]) set_str(L, "device", p->responding_device);
    lua_pushinteger(L, p->received);
    lua_setfield(L, -2, "received");
    lua_pushinteger(L, (lua_Integer)p->inserted);
    lua_setfield(L, -2, "inserted");
    lua_pushinteger(L, p->pages);
    lua_setfield(L, -2, "pages");
    lua_pushboolean(L, p->capped);
    lua_setfield(L, -2, "capped");
    if (p->unknown_event_types[0])
      set_str(L, "unknown_event_types", p->unknown_event_types);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}


/* ------------------------------------------------------------ follow */

#define LSL_FOLLOW "synclua.Follow"

typedef struct lfollow {
  sl_fetch_follow *f;           /* NULL once stopped and freed             */
  size_t           n;
} lfollow;

static const char *const follow_keys[] = {
  "peers", "stores", "key", "library_id", "requesting_device", "since",
  "event_types", "correlation_id", "limit", "heartbeat", "handshake_timeout",
  "timeout", NULL};

static const char *const follow_states[] = {
  "", "connecting", "streaming", "answered", "failed", "stopped"};

/* The records as tables: {peer, state, ok, error, code, device, received,
** inserted, reconnects, mark}. */
static void push_follow_peers(lua_State *L, const sl_follow_peer *p,
                              size_t n) {
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++, p++) {
    lua_createtable(L, 0, 10);
    set_str(L, "peer", p->address);
    set_str(L, "state", follow_states[p->state]);
    lua_pushboolean(L, p->state != SL_FOLLOW_FAILED);
    lua_setfield(L, -2, "ok");
    if (p->errmsg[0]) {
      set_str(L, "error", p->errmsg);
      set_str(L, "code", sl_status_name(p->status));
    }
    if (p->responding_device[0]) set_str(L, "device", p->responding_device);
    lua_pushinteger(L, p->received);
    lua_setfield(L, -2, "received");
    lua_pushinteger(L, p->inserted);
    lua_setfield(L, -2, "inserted");
    lua_pushinteger(L, p->reconnects);
    lua_setfield(L, -2, "reconnects");
    if (p->has_mark) {
      lua_pushinteger(L, p->mark);
      lua_setfield(L, -2, "mark");
    }
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
}

/* fetch_follow{ peers = {addr...}, stores = {Store...}, key, library_id,
** requesting_device, [since, event_types, correlation_id, limit,
** heartbeat (seconds, 0.1 to 60; default 5), handshake_timeout, timeout] }
** -> Follow | nil, message, code. Each store is the follower's until
** follow:stop(): read the file through another Store meanwhile. */
static int l_fetch_follow(lua_State *L) {
  sl_request req;
  sl_timeouts to;
  char err[ERRSZ];
  const unsigned char *key;
  int peers;
  size_t n = check_peers(L, follow_keys, &peers, &key, &req);
  int stores = peers + 1;
  luaL_argcheck(L, !req.has_before, 1, "before: not for a follow");
  memset(&to, 0, sizeof to);
  to.handshake_ms = opt_ms(L, 1, "handshake_timeout", 1);
  to.io_ms = opt_ms(L, 1, "timeout", 1);
  int heartbeat = 5000;
  if (lua_getfield(L, 1, "heartbeat") != LUA_TNIL) {
    lua_Number sec = lua_tonumber(L, -1);
    if (!lua_isnumber(L, -1) || !(sec >= SL_HEARTBEAT_MIN_MS / 1000.0 &&
                                  sec <= SL_HEARTBEAT_MAX_MS / 1000.0))
      luaL_argerror(L, 1, "heartbeat: seconds from 0.1 to 60 expected");
    heartbeat = (int)(sec * 1000 + 0.5);
  }
  lua_pop(L, 1);
  sl_follow_peer *list = lua_newuserdatauv(L, (n ? n : 1) * sizeof *list, 0);
  memset(list, 0, (n ? n : 1) * sizeof *list);
  for (size_t i = 0; i < n; i++) {
    if (lua_rawgeti(L, peers, (lua_Integer)i + 1) != LUA_TSTRING)
      luaL_argerror(L, 1, "peers: list of HOST:PORT strings expected");
    list[i].address = lua_tostring(L, -1);
    lua_pop(L, 1); /* the peers list keeps it; start copies it */
    lua_rawgeti(L, stores, (lua_Integer)i + 1);
    list[i].dest = lsl_check_store(L, -1);
    lua_pop(L, 1);
    for (size_t j = 0; j < i; j++)
      if (list[j].dest == list[i].dest)
        luaL_argerror(L, 1, lua_pushfstring(L, "stores: the same store for "
                                            "peers %d and %d", (int)j + 1,
                                            (int)i + 1));
  }
  /* Created closed, given its metatable, then started; the stores table
  ** is its user value, so that they outlive the threads that write them. */
  lfollow *lf = lua_newuserdatauv(L, sizeof *lf, 1);
  lf->f = NULL;
  lf->n = n;
  luaL_setmetatable(L, LSL_FOLLOW);
  lua_pushvalue(L, stores);
  lua_setiuservalue(L, -2, 1);
  int rc = sl_fetch_follow_start(list, n, &req, key, &to, heartbeat, &lf->f,
                                 err, sizeof err);
  if (rc == SL_NOMEM) return luaL_error(L, "not enough memory");
  if (rc != SL_OK) return fail(L, err, rc);
  return 1;
}

static lfollow *check_follow(lua_State *L) {
  lfollow *lf = luaL_checkudata(L, 1, LSL_FOLLOW);
  if (!lf->f) luaL_error(L, "attempt to use a stopped synclua.Follow");
  return lf;
}

/* follow:lines() -> { line... }: the status lines queued since the last
** call (never blocks) */
static int l_follow_lines(lua_State *L) {
  lfollow *lf = check_follow(L);
  sl_buf *b = lsl_buf_push(L);
  sl_fetch_follow_lines(lf->f, b);
  lua_newtable(L);
  int k = 0;
  for (size_t at = 0; at < b->len;) {
    const char *nl = memchr(b->data + at, '\n', b->len - at);
    size_t len = nl ? (size_t)(nl - (b->data + at)) : b->len - at;
    lua_pushlstring(L, b->data + at, len);
    lua_rawseti(L, -2, ++k);
    at += len + 1;
  }
  return 1;
}

/* follow:wait([seconds]) -> true when a line was queued or events were
** stored since the last wait, false when the time passed first (or no
** peer follows any longer); blocks at most `seconds` (default 1, at most
** a day) */
static int l_follow_wait(lua_State *L) {
  lfollow *lf = check_follow(L);
  lua_Number sec = luaL_optnumber(L, 2, 1);
  luaL_argcheck(L, sec >= 0 && sec <= 86400, 2, "seconds from 0 to 86400 "
                "expected");
  lua_pushboolean(L, sl_fetch_follow_wait(lf->f, (int)(sec * 1000)) == SL_OK);
  return 1;
}

/* follow:peers() -> { {peer, state, ok, error, code, device, received,
** inserted, reconnects, mark}, ... } as they stand (never blocks) */
static int l_follow_peers(lua_State *L) {
  lfollow *lf = check_follow(L);
  sl_follow_peer *list = lua_newuserdatauv(L, (lf->n ? lf->n : 1) *
                                           sizeof *list, 0);
  sl_fetch_follow_peers(lf->f, list);
  push_follow_peers(L, list, lf->n);
  return 1;
}

/* follow:stop() -> the peers' records, as peers() gives them; ends every
** thread (within about 100 ms) and gives the stores back */
static int l_follow_stop(lua_State *L) {
  lfollow *lf = check_follow(L);
  sl_follow_peer *list = lua_newuserdatauv(L, (lf->n ? lf->n : 1) *
                                           sizeof *list, 0);
  sl_fetch_follow_stop(lf->f, list);
  push_follow_peers(L, list, lf->n); /* before the addresses are freed */
  sl_fetch_follow_free(lf->f);
  lf->f = NULL;
  return 1;
}

static int l_follow_close(lua_State *L) {
  lfollow *lf = luaL_checkudata(L, 1, LSL_FOLLOW);
  sl_fetch_follow_free(lf->f);
  lf->f = NULL;
  return 0;
}

void lsl_net_register(lua_State *L, int module) {
  static const luaL_Reg fns[] = {
    {"keygen", l_keygen}, {"write_key", l_write_key},
    {"read_key", l_read_key},
    {"library_id", l_library_id}, {"encode_request", l_encode_request},
    {"decode_message", l_decode_message}, {"server", l_server},
    {"fetch", l_fetch}, {"fetch_follow", l_fetch_follow}, {NULL, NULL}};
  static const luaL_Reg follow_meta[] = {
    {"__gc", l_follow_close}, {"__close", l_follow_close}, {NULL, NULL}};
  static const luaL_Reg follow_methods[] = {
    {"lines", l_follow_lines}, {"wait", l_follow_wait},
    {"peers", l_follow_peers}, {"stop", l_follow_stop}, {NULL, NULL}};
  static const luaL_Reg meta[] = {
    {"__gc", l_server_close}, {"__close", l_server_close}, {NULL, NULL}};
  static const luaL_Reg methods[] = {
    {"address", l_server_address}, {"library_id", l_server_library},
    {"device_id", l_server_device}, {"run", l_server_run},
    {"stop", l_server_stop}, {"close", l_server_close}, {NULL, NULL}};
  luaL_newmetatable(L, LSL_SERVER);
  luaL_setfuncs(L, meta, 0);
  luaL_newlib(L, methods);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  luaL_newmetatable(L, LSL_FOLLOW);
  luaL_setfuncs(L, follow_meta, 0);
  luaL_newlib(L, follow_methods);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  lua_pushvalue(L, module);
  luaL_setfuncs(L, fns, 0);
  lua_pop(L, 1);
  lua_pushinteger(L, SL_MAX_EVENTS);
  lua_setfield(L, module, "max_events");
}
