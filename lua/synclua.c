/*
** synclua.c -- the host program `synclua`: a Lua 5.4 interpreter with the
** synclua module preloaded (layer lua/, see DESIGN.md "The command line").
**
** It behaves like Lua's own `lua` (lua.c is the model): a protected main,
** a traceback message handler, Ctrl-C turned into an "interrupted!" error by
** a hook, the options -e -l -i -v -E -W -- -, the `arg` table, LUA_INIT, a
** REPL, stdin run as a script when it is not a terminal. The REPL edits
** lines with libedit on a terminal (history, Tab completion) and lets the
** Lua module synclua.repl decide what it shows. On top of that it
** knows where synclua lives (the source tree it was built in, or the install
** data directory), runs bundled scripts by NAME, and hands a script that
** declares itself ({ name, description, args, run }) to the Lua module
** `synclua.runner`, whose result becomes the exit status.
**
** Exit status: whatever a declared script's runner returns; otherwise 0 on
** success, 1 for an error raised while running Lua code, 2 for a bad
** command line (unknown option, unknown command name), 3 when the script
** file cannot be read.
*/
#include <ctype.h>
#include <errno.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

#include <histedit.h>

#include "lsl.h"
#include <synclua/synclua.h>

#define PROGNAME        "synclua"
#define LUA_INIT_VAR    "LUA_INIT"
#define LUA_INIT_VARV   LUA_INIT_VAR LUA_VERSUFFIX
#define PROMPT1         "> "
#define PROMPT2         ">> "
#define INPUT_CHUNK     512          /* bytes read per fgets call          */
#define EXE_MAX         4096         /* longest executable path handled    */

/* Where `make install` puts scripts and exporters, and the Lua modules. */
#if !defined(SYNCLUA_DATADIR)
#define SYNCLUA_DATADIR "/usr/local/share/synclua"
#endif
#if !defined(SYNCLUA_LUADIR)
#define SYNCLUA_LUADIR  "/usr/local/share/lua/5.4"
#endif

/* A file that only a synclua source tree has at this place: the host needs
** the runner itself, so its presence is what makes a tree usable. */
#define TREE_MARKER     "lua/synclua/runner.lua"

/* Exit statuses beyond EXIT_SUCCESS / EXIT_FAILURE (DESIGN.md). */
#define EXIT_USAGE      2            /* bad option, unknown command name    */
#define EXIT_ENV        3            /* the script file cannot be read      */

/* ------------------------------------------------------------- context */

/* Everything main hands to pmain; lives in main's frame for the run. */
typedef struct host {
  int argc;                          /* as given to main                    */
  char **argv;                       /* as given to main                    */
  int interactive;                   /* in the REPL: no "synclua: " prefix  */
} host;

/* The state the SIGINT handler must reach. A signal handler receives only
** the signal number, so this one pointer has to be a file-scope variable
** (lua.c has the same `globalL`). It is written only by the main thread
** before the handler is installed, and the handler only calls lua_sethook,
** which Lua 5.4 states may be called from a signal (ldebug.c). */
static lua_State *volatile signal_state = NULL;

/* ----------------------------------------------------------- messages */

static void message(const host *h, const char *msg) {
  if (!h->interactive) fputs(PROGNAME ": ", stderr);
  fprintf(stderr, "%s\n", msg);
  fflush(stderr);
}

/* Is msg's first line the error on_interrupt raises ("...interrupted!")? */
static int is_interrupt(const char *msg) {
  static const char word[] = "interrupted!";
  size_t n = strcspn(msg, "\n");
  return n >= sizeof word - 1 &&
         memcmp(msg + n - (sizeof word - 1), word, sizeof word - 1) == 0;
}

/* Prints and pops the error message on top if 'status' is an error. */
static int report(lua_State *L, const host *h, int status) {
  if (status != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    if (msg == NULL) msg = "(error object is not a string)";
    message(h, msg);
    lua_pop(L, 1);                   /* pop message */
  }
  return status;
}

static const char usage_text[] =
  "usage: " PROGNAME " [options] [script [args]]\n"
  "       " PROGNAME " NAME [args]    run the bundled script NAME\n"
  "Available options are:\n"
  "  -e stat     execute string 'stat'\n"
  "  -i          enter interactive mode after executing 'script'\n"
  "  -l mod      require library 'mod' into global 'mod'\n"
  "  -l g=mod    require library 'mod' into global 'g'\n"
  "  -v          show version information\n"
  "  -E          ignore environment variables (LUA_INIT, LUA_PATH,\n"
  "              LUA_CPATH, SYNCLUA_HOME)\n"
  "  -W          turn warnings on\n"
  "  -h, --help  show this help\n"
  "  --list      list the bundled commands\n"
  "  --          stop handling options\n"
  "  -           stop handling options and execute stdin\n"
  "'" PROGNAME " help NAME' (or '" PROGNAME " NAME --help') describes a bundled\n"
  "command. Exit status of a command: 0 success, 1 a finding, 2 bad usage\n"
  "or input, 3 a store that cannot be read (SYNCLUA_DEBUG=1: tracebacks).\n";

/* Why the command line was refused (print_usage). */
#define BAD_NONE     0               /* --help: no complaint                */
#define BAD_OPTION   1               /* unknown option                      */
#define BAD_NOARG    2               /* -e or -l without its argument       */
#define BAD_LIST     3               /* --list followed by a script         */

static void print_usage(FILE *out, int why, const char *option) {
  switch (why) {
    case BAD_OPTION:
      fprintf(out, PROGNAME ": unrecognized option '%s'\n", option);
      break;
    case BAD_NOARG:
      fprintf(out, PROGNAME ": '%s' needs argument\n", option);
      break;
    case BAD_LIST:
      fprintf(out, PROGNAME ": '--list' takes no script (got '%s')\n",
              option);
      break;
    default:
      break;
  }
  fputs(usage_text, out);
  fflush(out);
}

static void print_version(void) {
  printf(PROGNAME " %s (%s)\n", SL_VERSION, LUA_RELEASE);
  fflush(stdout);
}

/* ------------------------------------------------------------- signals */

static void set_signal(int sig, void (*handler)(int)) {
  struct sigaction sa;
  sa.sa_handler = handler;
  sa.sa_flags = 0;                   /* no SA_RESTART: reads see EINTR      */
  sigemptyset(&sa.sa_mask);
  sigaction(sig, &sa, NULL);
}

/* The hook set by on_interrupt: clears itself and raises in the running
** code, at a point where raising is safe. */
static void stop_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  lua_sethook(L, NULL, 0, 0);
  luaL_error(L, "interrupted!");
}

/* SIGINT while Lua code runs: set a hook that fires at the next call,
** return, line or instruction; a second Ctrl-C before that kills. */
static void on_interrupt(int sig) {
  int mask = LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT;
  set_signal(sig, SIG_DFL);
  lua_sethook(signal_state, stop_hook, mask, 1);
}

/* SIGINT at the REPL prompt: nothing to do but interrupt the read. */
static void on_prompt_interrupt(int sig) {
  (void)sig;
}

/* --------------------------------------------------------- calling Lua */

/* The message handler: a string (or __tostring) message plus a traceback. */
static int msghandler(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
      return 1;                      /* the metamethod's string */
    msg = lua_pushfstring(L, "(error object is a %s value)",
                          luaL_typename(L, 1));
  }
  luaL_traceback(L, L, msg, 1);
  return 1;
}

/* Calls the function below 'narg' arguments with the traceback handler and
** Ctrl-C armed; restores the SIGINT disposition it found. */
static int docall(lua_State *L, int narg, int nres) {
  struct sigaction old;
  int status;
  int base = lua_gettop(L) - narg;   /* function index */
  lua_pushcfunction(L, msghandler);
  lua_insert(L, base);               /* handler under function and args */
  signal_state = L;
  sigaction(SIGINT, NULL, &old);
  set_signal(SIGINT, on_interrupt);
  status = lua_pcall(L, narg, nres, base);
  sigaction(SIGINT, &old, NULL);
  if (lua_gethook(L) == stop_hook)   /* Ctrl-C came too late to fire */
    lua_sethook(L, NULL, 0, 0);
  lua_remove(L, base);               /* remove handler */
  return status;
}

static int dochunk(lua_State *L, const host *h, int status) {
  if (status == LUA_OK) status = docall(L, 0, 0);
  return report(L, h, status);
}

static int dofile(lua_State *L, const host *h, const char *name) {
  return dochunk(L, h, luaL_loadfile(L, name));
}

static int dostring(lua_State *L, const host *h, const char *s,
                    const char *name) {
  return dochunk(L, h, luaL_loadbuffer(L, s, strlen(s), name));
}

/* -l 'g=mod' or 'mod': runs g = require(mod). */
static int dolibrary(lua_State *L, const host *h, const char *spec) {
  int status;
  const char *eq = strchr(spec, '=');
  const char *mod = (eq != NULL) ? eq + 1 : spec;
  size_t glen = (eq != NULL) ? (size_t)(eq - spec) : strlen(spec);
  lua_getglobal(L, "require");
  lua_pushstring(L, mod);
  status = docall(L, 1, 1);          /* require(mod) */
  if (status == LUA_OK) {
    lua_pushlstring(L, spec, glen);
    lua_insert(L, -2);               /* name under module */
    lua_setglobal(L, lua_tostring(L, -2));
    lua_pop(L, 1);                   /* pop name */
  }
  return report(L, h, status);
}

/* ------------------------------------------------------ command line */

/* Flags collected from the options. */
#define HAS_ERROR  1                 /* bad option: usage on stderr        */
#define HAS_I      2                 /* -i                                 */
#define HAS_V      4                 /* -v (or -i)                         */
#define HAS_E      8                 /* -e                                 */
#define HAS_NOENV  16                /* -E                                 */
#define HAS_HELP   32                /* -h, --help                         */
#define HAS_LIST   64                /* --list                             */

/* Scans the options as lua.c does. On return '*first' is the index of the
** script name, argc when there is none, or of the bad option on HAS_ERROR
** (with '*why' saying what is wrong with it). */
static int collectargs(char **argv, int argc, int *first, int *why) {
  int args = 0;
  int i;
  for (i = 1; i < argc; i++) {
    const char *a = argv[i];
    *first = i;
    if (a[0] != '-') return args;    /* the script */
    switch (a[1]) {
      case '-':
        if (a[2] == '\0') {          /* '--' */
          *first = i + 1;
          return args;
        }
        if (strcmp(a, "--help") == 0) args |= HAS_HELP;
        else if (strcmp(a, "--list") == 0) args |= HAS_LIST;
        else {
          *why = BAD_OPTION;
          return HAS_ERROR;
        }
        break;
      case '\0':                     /* '-': the script is stdin */
        return args;
      case 'E': case 'W': case 'h': case 'i': case 'v':
        if (a[2] != '\0') {
          *why = BAD_OPTION;
          return HAS_ERROR;
        }
        if (a[1] == 'E') args |= HAS_NOENV;
        else if (a[1] == 'h') args |= HAS_HELP;
        else if (a[1] == 'i') args |= HAS_I | HAS_V;
        else if (a[1] == 'v') args |= HAS_V;
        break;
      case 'e': case 'l':
        if (a[1] == 'e') args |= HAS_E;
        if (a[2] == '\0') {          /* argument in the next word */
          i++;
          if (i >= argc || argv[i][0] == '-') {
            *first = i - 1;
            *why = BAD_NOARG;
            return HAS_ERROR;
          }
        }
        break;
      default:
        *why = BAD_OPTION;
        return HAS_ERROR;
    }
  }
  *first = argc;                     /* no script */
  return args;
}

/* arg[0] is the script, options negative, script arguments positive; with
** no script, arg[0] is the program and everything else is positive. */
static void createargtable(lua_State *L, char **argv, int argc, int script) {
  int i;
  if (script == argc) script = 0;
  lua_createtable(L, argc - (script + 1), script + 1);
  for (i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - script);
  }
  lua_setglobal(L, "arg");
}

/* Runs the -e, -l and -W options before 'limit', in order. */
static int runargs(lua_State *L, const host *h, int limit) {
  int i;
  for (i = 1; i < limit; i++) {
    const char *a = h->argv[i];
    int option = a[1];
    if (option == 'e' || option == 'l') {
      const char *extra = a + 2;
      if (*extra == '\0') extra = h->argv[++i];
      if ((option == 'e' ? dostring(L, h, extra, "=(command line)")
                         : dolibrary(L, h, extra)) != LUA_OK)
        return 0;
    }
    else if (option == 'W')
      lua_warning(L, "@on", 0);
  }
  return 1;
}

static int handle_luainit(lua_State *L, const host *h) {
  const char *name = "=" LUA_INIT_VARV;
  const char *init = getenv(name + 1);
  if (init == NULL) {
    name = "=" LUA_INIT_VAR;
    init = getenv(name + 1);
  }
  if (init == NULL) return LUA_OK;
  if (init[0] == '@') return dofile(L, h, init + 1);
  return dostring(L, h, init, name);
}

/* ------------------------------------------------------------ locations */

/* Pushes 'path' up to (not including) its last '/', or "." if none. */
static const char *push_dirname(lua_State *L, const char *path) {
  const char *slash = strrchr(path, '/');
  if (slash == NULL) return lua_pushliteral(L, ".");
  if (slash == path) return lua_pushliteral(L, "/");
  return lua_pushlstring(L, path, (size_t)(slash - path));
}

static int exists(const char *path) {
  return access(path, F_OK) == 0;
}

/* Pushes the directory of the running executable: from /proc/self/exe,
** else from argv[0] when it names a path, else ".". */
static const char *push_exedir(lua_State *L, const char *argv0) {
  char exe[EXE_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0 && (size_t)n < sizeof exe - 1) {   /* else: truncated */
    exe[n] = '\0';
    return push_dirname(L, exe);
  }
  if (argv0 != NULL && strchr(argv0, '/') != NULL)
    return push_dirname(L, argv0);
  return lua_pushliteral(L, ".");
}

/* Pushes the source tree the executable was built in (build/synclua or
** build/<variant>/synclua), or nil when it runs from elsewhere. */
static void push_tree(lua_State *L, const char *exedir) {
  int depth;
  lua_pushstring(L, exedir);
  for (depth = 1; depth <= 2; depth++) {
    const char *up = push_dirname(L, lua_tostring(L, -1));
    const char *marker = lua_pushfstring(L, "%s/%s", up, TREE_MARKER);
    int found = exists(marker);
    lua_pop(L, 1);                   /* pop marker */
    lua_remove(L, -2);               /* keep only the parent */
    if (found) return;
  }
  lua_pop(L, 1);
  lua_pushnil(L);
}

static void add_root(luaL_Buffer *b, const char *root) {
  luaL_addstring(b, root);
  luaL_addstring(b, "/lua/?.lua;");
  luaL_addstring(b, root);
  luaL_addstring(b, "/lua/?/init.lua;");
  luaL_addstring(b, root);
  luaL_addstring(b, "/?.lua;");
}

/* Where `make install` put the data and the Lua modules: beside the
** executable's prefix (PREFIX/bin/synclua -> PREFIX/share/...), so an
** installed tree can be moved; else the prefix compiled in. Pushes both. */
static void push_installed(lua_State *L, const char *exedir) {
  const char *prefix = push_dirname(L, exedir);
  const char *data = lua_pushfstring(L, "%s/share/synclua", prefix);
  const char *marker = lua_pushfstring(L, "%s/scripts", data);
  int relocated = exists(marker);
  lua_pop(L, 2);                     /* pop marker, data */
  if (relocated) {
    lua_pushfstring(L, "%s/share/synclua", prefix);
    lua_pushfstring(L, "%s/share/lua/5.4", prefix);
  } else {
    lua_pushliteral(L, SYNCLUA_DATADIR);
    lua_pushliteral(L, SYNCLUA_LUADIR);
  }
  lua_remove(L, -3);                 /* remove prefix */
}

/* Prepends synclua's directories to package.path and package.cpath:
** 'home' first, then the tree (or the installed module directory). */
static void set_paths(lua_State *L, const char *home, const char *tree,
                      const char *exedir, const char *datadir,
                      const char *luadir) {
  luaL_Buffer b;
  const char *old;
  lua_getglobal(L, LUA_LOADLIBNAME);
  old = lua_getfield(L, -1, "path") == LUA_TSTRING ? lua_tostring(L, -1) : "";
  luaL_buffinit(L, &b);
  add_root(&b, home);
  if (tree == NULL) {
    luaL_addstring(&b, luadir);
    luaL_addstring(&b, "/?.lua;");
    luaL_addstring(&b, luadir);
    luaL_addstring(&b, "/?/init.lua;");
    if (strcmp(home, datadir) != 0) {
      luaL_addstring(&b, datadir);
      luaL_addstring(&b, "/?.lua;");
    }
  }
  else if (strcmp(tree, home) != 0)
    add_root(&b, tree);
  luaL_addstring(&b, old);
  luaL_pushresult(&b);
  lua_setfield(L, -3, "path");
  lua_pop(L, 1);                     /* pop old path */
  old = lua_getfield(L, -1, "cpath") == LUA_TSTRING ? lua_tostring(L, -1)
                                                    : "";
  lua_pushfstring(L, "%s/?.so;%s", exedir, old);
  lua_setfield(L, -3, "cpath");
  lua_pop(L, 2);                     /* pop old cpath, package */
}

/* ----------------------------------------------------- synclua.host */

/* require "synclua.host": { home = <root>, scripts = <root>/scripts,
** version = SL_VERSION }: where the host found synclua. Upvalues: home,
** scripts. */
static int l_host_open(lua_State *L) {
  lua_createtable(L, 0, 3);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_setfield(L, -2, "home");
  lua_pushvalue(L, lua_upvalueindex(2));
  lua_setfield(L, -2, "scripts");
  lua_pushliteral(L, SL_VERSION);
  lua_setfield(L, -2, "version");
  return 1;
}

/* Sets up paths and preloads; leaves the scripts directory on the stack. */
static void setup_synclua(lua_State *L, const host *h, int noenv) {
  const char *home = noenv ? NULL : getenv("SYNCLUA_HOME");
  const char *exedir = push_exedir(L, h->argv[0]);
  const char *tree, *datadir, *luadir;
  push_tree(L, exedir);
  tree = lua_tostring(L, -1);
  push_installed(L, exedir);
  datadir = lua_tostring(L, -2);
  luadir = lua_tostring(L, -1);
  if (home == NULL || home[0] == '\0')
    home = (tree != NULL) ? tree : datadir;
  set_paths(L, home, tree, exedir, datadir, luadir);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, luaopen_synclua_core);
  lua_setfield(L, -2, "synclua.core");
  lua_pushstring(L, home);
  lua_pushfstring(L, "%s/scripts", home);
  lua_pushcclosure(L, l_host_open, 2);
  lua_setfield(L, -2, "synclua.host");
  lua_pop(L, 1);                     /* pop preload */
  lua_pushfstring(L, "%s/scripts", home);
  lua_replace(L, -5);                /* scripts replaces exedir */
  lua_pop(L, 3);                     /* pop tree, datadir, luadir */
}

/* The global `synclua`, in scripts and -e as in the REPL: the module
** itself (require "synclua"). A broken install leaves it nil, and the
** script's own require then says why. */
static void set_global_module(lua_State *L) {
  lua_getglobal(L, "require");
  lua_pushliteral(L, "synclua");
  if (lua_pcall(L, 1, 1, 0) == LUA_OK)
    lua_setglobal(L, "synclua");
  else
    lua_pop(L, 1);                   /* pop the message */
}

/* -------------------------------------------------------------- scripts */

/* Calls require("synclua.runner")[fn] with the 'nargs' values on top; leaves
** its exit status (an integer) on top, or returns an error status. */
static int call_runner(lua_State *L, const host *h, const char *fn,
                       int nargs) {
  int status;
  lua_getglobal(L, "require");
  lua_pushliteral(L, "synclua.runner");
  status = docall(L, 1, 1);
  if (status != LUA_OK) {
    lua_insert(L, -1 - nargs);
    lua_pop(L, nargs);
    return report(L, h, status);
  }
  lua_getfield(L, -1, fn);
  lua_remove(L, -2);                 /* pop runner */
  lua_insert(L, -1 - nargs);         /* function under its arguments */
  return report(L, h, docall(L, nargs, 1));
}

/* Converts the runner's result on top to an exit status (and pops it). */
static int exit_status(lua_State *L) {
  int isint;
  lua_Integer code = lua_tointegerx(L, -1, &isint);
  lua_pop(L, 1);
  if (!isint) return EXIT_SUCCESS;   /* nil: nothing to report */
  return (code >= 0 && code <= 255) ? (int)code : EXIT_FAILURE;
}

/* The script's arguments: argv[script + 1 ..]; none when 'script' is argc
** (stdin run because no script was named). */
static int nscriptargs(const host *h, int script) {
  return (script < h->argc) ? h->argc - script - 1 : 0;
}

/* Pushes the script's arguments as values; returns their count. */
static int pushargs(lua_State *L, const host *h, int script) {
  int i, n = nscriptargs(h, script);
  luaL_checkstack(L, n + 3, "too many arguments to script");
  for (i = 1; i <= n; i++) lua_pushstring(L, h->argv[script + i]);
  return n;
}

/* Pushes the script's arguments as a list. */
static void pushargv(lua_State *L, const host *h, int script) {
  int i, n = nscriptargs(h, script);
  lua_createtable(L, n, 0);
  for (i = 1; i <= n; i++) {
    lua_pushstring(L, h->argv[script + i]);
    lua_rawseti(L, -2, i);
  }
}

static int ends_with(const char *s, const char *suffix) {
  size_t len = strlen(s), slen = strlen(suffix);
  return len >= slen && strcmp(s + len - slen, suffix) == 0;
}

/* Loads the script named argv[script] (stdin when that is "-" not preceded
** by "--", or when 'script' is argc). A NAME without '/' that is not an
** existing file (nor ends in ".lua") is the bundled script <sdir>/NAME.lua,
** 'sdir' being the stack index of the scripts directory. Pushes the chunk
** or an error message and returns the load status, or returns -1 (nothing
** pushed) after saying that NAME is unknown. '*name' is what the runner
** calls the script: the name as typed, NULL for stdin. */
static int load_script(lua_State *L, const host *h, int script, int sdir,
                       const char **name, int *bundled) {
  const char *fname = (script < h->argc) ? h->argv[script] : "-";
  *name = fname;
  *bundled = 0;
  if (script == h->argc ||
      (strcmp(fname, "-") == 0 && strcmp(h->argv[script - 1], "--") != 0)) {
    *name = NULL;
    return luaL_loadfile(L, NULL);
  }
  if (strchr(fname, '/') == NULL && !ends_with(fname, ".lua") &&
      !exists(fname)) {
    const char *path = lua_pushfstring(L, "%s/%s.lua",
                                       lua_tostring(L, sdir), fname);
    int status;
    if (!exists(path)) {
      lua_pop(L, 1);
      /* the runner says so, with a "did you mean" */
      lua_pushvalue(L, sdir);
      lua_pushstring(L, fname);
      if (call_runner(L, h, "unknown", 2) == LUA_OK) lua_pop(L, 1);
      return -1;
    }
    status = luaL_loadfile(L, path);
    lua_remove(L, -2);               /* pop path */
    *bundled = 1;
    return status;
  }
  return luaL_loadfile(L, fname);
}

/* Runs the script and, when its main chunk returns a declaration (a table
** with a 'run' function), hands that to synclua.runner. Returns the exit
** status; '*failed' is set when the script could not be loaded or raised
** (lua.c then skips the REPL of -i). */
static int handle_script(lua_State *L, const host *h, int script, int sdir,
                         int *failed) {
  const char *name;
  int bundled;
  int base = lua_gettop(L);
  int status = load_script(L, h, script, sdir, &name, &bundled);
  *failed = 1;
  if (status == -1) return EXIT_USAGE;
  if (status == LUA_OK) {
    int n = pushargs(L, h, script);
    status = docall(L, n, LUA_MULTRET);
  }
  /* A bundled command stopped by Ctrl-C before its frame runs (while its
  ** modules load) ends as the frame ends it: silent, 128 + SIGINT. */
  if (status == LUA_ERRRUN && bundled && lua_type(L, -1) == LUA_TSTRING &&
      is_interrupt(lua_tostring(L, -1))) {
    lua_pop(L, 1);
    return 128 + SIGINT;
  }
  if (status != LUA_OK) {
    report(L, h, status);
    return (status == LUA_ERRFILE) ? EXIT_ENV : EXIT_FAILURE;
  }
  if (lua_gettop(L) > base && lua_type(L, base + 1) == LUA_TTABLE &&
      lua_getfield(L, base + 1, "run") == LUA_TFUNCTION) {
    lua_settop(L, base + 1);         /* keep the declaration */
    pushargv(L, h, script);
    if (name != NULL) lua_pushstring(L, name);
    else lua_pushnil(L);
    if (call_runner(L, h, "run", 3) != LUA_OK) return EXIT_FAILURE;
    *failed = 0;
    return exit_status(L);
  }
  lua_settop(L, base);
  *failed = 0;
  return EXIT_SUCCESS;
}


/* ----------------------------------------------------------------- REPL */

/* What the REPL shows a person -- results, completions, .help -- is
** decided by the Lua module synclua.repl; this section reads the lines,
** keeps the history and calls the module. On a terminal the lines come
** from libedit (line editing, a history kept in a file, Tab completion);
** otherwise from fgets, as lua.c reads a pipe. Without the module (a
** broken install) the REPL still runs and prints with 'print'. */

#define HISTORY_LINES 1000           /* entries the history file keeps     */
#define DEFAULT_WIDTH 80             /* columns when the terminal's are unknown */
#define EDITOR_META   "synclua.host.Editor"

/* Registry keys: their addresses are the keys. */
static const char REPL_KEY = 'r';    /* the synclua.repl module table      */
static const char EDITOR_KEY = 'e';  /* the editor, while the REPL runs    */

/* Pushes synclua.repl[name] and returns 1 if it is a function; else
** pushes nothing and returns 0. */
static int push_repl_fn(lua_State *L, const char *name) {
  int top = lua_gettop(L);
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &REPL_KEY) == LUA_TTABLE &&
      lua_getfield(L, -1, name) == LUA_TFUNCTION) {
    lua_remove(L, -2);               /* pop module */
    return 1;
  }
  lua_settop(L, top);
  return 0;
}

/* ------------------------------------------------------- line editor */

/* The line editor of one REPL session, a full userdata registered under
** EDITOR_KEY while the REPL runs, so that an error cannot leak it. It owns
** the EditLine, the History and the malloc'ed strings; l_editor_close (its
** __gc) frees them, restores the terminal and LC_CTYPE, and may run twice.
** 'pending' points into a Lua string that stays on the stack while a
** continuation line is read. */
typedef struct editor {
  EditLine *el;                      /* NULL once closed                    */
  History *hist;                     /* at most HISTORY_LINES entries       */
  lua_State *L;                      /* the state completion calls into     */
  char *histfile;                    /* where the history is saved, or NULL */
  char *prompt;                      /* the prompt being shown              */
  char *locale;                      /* LC_CTYPE to restore, or NULL        */
  const char *pending;               /* the chunk so far, or NULL           */
  int saveerr;                       /* a failed save was reported          */
} editor;

static editor *get_editor(lua_State *L) {
  editor *ed;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &EDITOR_KEY);
  ed = (editor *)lua_touserdata(L, -1);
  lua_pop(L, 1);
  return (ed != NULL && ed->el != NULL) ? ed : NULL;
}

/* The terminal's width in columns, as libedit last measured it. */
static int repl_width(lua_State *L) {
  editor *ed = get_editor(L);
  int cols = 0;
  if (ed == NULL || el_get(ed->el, EL_GETTC, "co", &cols) != 0 || cols <= 0)
    cols = DEFAULT_WIDTH;
  return cols;
}

static editor *client(EditLine *el) {
  void *ed = NULL;
  el_get(el, EL_CLIENTDATA, &ed);
  return (editor *)ed;
}

static char *edit_prompt(EditLine *el) {
  return client(el)->prompt;
}

/* l_editor_complete(editor) -> CC_ code, called in protection by
** edit_complete: asks synclua.repl.complete(text before the cursor,
** globals, width) what to insert at the cursor, or what to list, and does
** it. */
static int l_editor_complete(lua_State *L) {
  editor *ed = (editor *)lua_touserdata(L, 1);
  const LineInfo *li = el_line(ed->el);
  const char *insert, *list;
  int code = CC_REFRESH_BEEP;
  luaL_Buffer b;
  if (!push_repl_fn(L, "complete")) return 0;
  luaL_buffinit(L, &b);
  if (ed->pending != NULL) {
    luaL_addstring(&b, ed->pending);
    luaL_addchar(&b, '\n');
  }
  luaL_addlstring(&b, li->buffer, (size_t)(li->cursor - li->buffer));
  luaL_pushresult(&b);
  lua_pushglobaltable(L);
  lua_pushinteger(L, repl_width(L));
  lua_call(L, 3, 2);
  insert = lua_tostring(L, -2);
  list = lua_tostring(L, -1);
  if (insert != NULL && insert[0] != '\0')
    code = (el_insertstr(ed->el, insert) == 0) ? CC_REFRESH : CC_ERROR;
  else if (list != NULL && list[0] != '\0') {
    fputc('\n', stdout);
    fputs(list, stdout);
    fflush(stdout);
    code = CC_REDISPLAY;             /* the prompt and line again below */
  }
  lua_pushinteger(L, code);
  return 1;
}

/* Tab. Lua runs in a protected call: nothing may unwind through libedit.
** An error, or nothing to complete, beeps. */
static unsigned char edit_complete(EditLine *el, int ch) {
  editor *ed = client(el);
  lua_State *L = ed->L;
  int code = CC_REFRESH_BEEP;
  (void)ch;
  if (!lua_checkstack(L, 3)) return CC_ERROR;
  lua_pushcfunction(L, l_editor_complete);
  lua_pushlightuserdata(L, ed);
  if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_isinteger(L, -1))
    code = (int)lua_tointeger(L, -1);
  lua_pop(L, 1);                     /* pop code or error */
  return (unsigned char)code;
}

/* editor:__gc(), editor:__close(): closes the editor once. */
static int l_editor_close(lua_State *L) {
  editor *ed = (editor *)luaL_checkudata(L, 1, EDITOR_META);
  if (ed->el != NULL) {
    el_end(ed->el);                  /* restores the terminal */
    ed->el = NULL;
  }
  if (ed->hist != NULL) {
    history_end(ed->hist);
    ed->hist = NULL;
  }
  if (ed->locale != NULL) {
    setlocale(LC_CTYPE, ed->locale);
    free(ed->locale);
    ed->locale = NULL;
  }
  free(ed->histfile);
  ed->histfile = NULL;
  free(ed->prompt);
  ed->prompt = NULL;
  return 0;
}

/* Asks synclua.repl.history_file() for the history's path (it makes the
** folder); returns a malloc'ed copy, or NULL after saying why there will
** be no history file. */
static char *history_file(lua_State *L, const host *h) {
  char *path = NULL;
  int top = lua_gettop(L);
  if (!push_repl_fn(L, "history_file")) return NULL;
  if (report(L, h, docall(L, 0, 2)) != LUA_OK) return NULL;
  if (lua_type(L, -2) == LUA_TSTRING) path = strdup(lua_tostring(L, -2));
  else if (lua_type(L, -1) == LUA_TSTRING)
    message(h, lua_pushfstring(L, "no history file: %s", lua_tostring(L, -1)));
  lua_settop(L, top);
  return path;
}

/* Opens the line editor when stdin and stdout are a terminal that can
** edit (TERM set and not "dumb") and registers it. Tab is bound to
** completion; ~/.editrc (or $EDITRC) is read last, so it may rebind.
** libedit handles the signals while it reads (EL_SIGNAL): it restores the
** terminal, then passes each one on to the handler the REPL installed, so
** Ctrl-C at the prompt still ends the read with EINTR. */
static void editor_open(lua_State *L, const host *h) {
  const char *term = getenv("TERM");
  const char *locale;
  editor *ed;
  HistEvent ev;
  if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO) || term == NULL ||
      term[0] == '\0' || strcmp(term, "dumb") == 0)
    return;
  ed = (editor *)lua_newuserdatauv(L, sizeof *ed, 0);
  memset(ed, 0, sizeof *ed);
  if (luaL_newmetatable(L, EDITOR_META)) {
    lua_pushcfunction(L, l_editor_close);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, l_editor_close);
    lua_setfield(L, -2, "__close");
  }
  lua_setmetatable(L, -2);
  ed->L = L;
  locale = setlocale(LC_CTYPE, NULL);
  if (locale != NULL && (ed->locale = strdup(locale)) != NULL)
    setlocale(LC_CTYPE, "");         /* multibyte input, as the user's */
  ed->prompt = strdup("");
  ed->hist = history_init();
  if (ed->prompt != NULL && ed->hist != NULL)
    ed->el = el_init(PROGNAME, stdin, stdout, stderr);
  if (ed->el == NULL) {              /* fall back to fgets */
    lua_pushcfunction(L, l_editor_close);
    lua_insert(L, -2);
    lua_call(L, 1, 0);
    return;
  }
  history(ed->hist, &ev, H_SETSIZE, HISTORY_LINES);
  history(ed->hist, &ev, H_SETUNIQUE, 1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &EDITOR_KEY);
  ed->histfile = history_file(L, h);
  if (ed->histfile != NULL) history(ed->hist, &ev, H_LOAD, ed->histfile);
  el_set(ed->el, EL_CLIENTDATA, (void *)ed);
  el_set(ed->el, EL_EDITOR, "emacs");
  el_set(ed->el, EL_SIGNAL, 1);
  el_set(ed->el, EL_PROMPT, edit_prompt);
  el_set(ed->el, EL_HIST, history, ed->hist);
  /* Wide strings: the narrow EL_ADDFN copies them and never frees. */
  el_wset(ed->el, EL_ADDFN, L"synclua-complete",
          L"Complete the name, field or string before the cursor",
          edit_complete);
  el_set(ed->el, EL_BIND, "^I", "synclua-complete", NULL);
  el_source(ed->el, NULL);
}

/* Closes the editor (restoring the terminal) and forgets it. */
static void editor_end(lua_State *L) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &EDITOR_KEY) == LUA_TUSERDATA) {
    lua_pushcfunction(L, l_editor_close);
    lua_insert(L, -2);
    lua_call(L, 1, 0);
  }
  else
    lua_pop(L, 1);
  lua_pushnil(L);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &EDITOR_KEY);
}

/* ------------------------------------------------------- line input */

/* Line input: the only functions that know how lines are read.
**   input_read  shows 'prompt', reads one line and pushes it without its
**               newline; returns INPUT_LINE, INPUT_EOF (nothing pushed) or
**               INPUT_INTR (Ctrl-C; nothing pushed). 'pending' is the
**               chunk a continuation line adds to (NULL on a first line),
**               for completion.
**   input_save  records a complete entry in the history. */
#define INPUT_LINE 0
#define INPUT_EOF  1
#define INPUT_INTR 2

/* A line from libedit. Ctrl-C makes el_gets fail with EINTR (see
** editor_open); Ctrl-D on an empty line is the end of input. */
static int edit_read(lua_State *L, editor *ed, const char *prompt,
                     const char *pending) {
  int count = 0;
  const char *line;
  size_t len;
  char *p = strdup(prompt);
  if (p != NULL) {
    free(ed->prompt);
    ed->prompt = p;
  }
  ed->pending = pending;
  errno = 0;
  line = el_gets(ed->el, &count);
  ed->pending = NULL;
  if (line == NULL) {
    if (count == -1 && errno == EINTR) {
      fputc('\n', stdout);
      fflush(stdout);
      return INPUT_INTR;
    }
    return INPUT_EOF;
  }
  len = strlen(line);
  if (len > 0 && line[len - 1] == '\n') len--;
  lua_pushlstring(L, line, len);
  return INPUT_LINE;
}

static int input_read(lua_State *L, const char *prompt, const char *pending) {
  luaL_Buffer b;
  char chunk[INPUT_CHUNK];
  size_t got = 0;
  editor *ed = get_editor(L);
  if (ed != NULL) return edit_read(L, ed, prompt, pending);
  fputs(prompt, stdout);
  fflush(stdout);
  luaL_buffinit(L, &b);
  for (;;) {
    size_t len;
    errno = 0;
    if (fgets(chunk, sizeof chunk, stdin) == NULL) {
      int intr = ferror(stdin) && errno == EINTR;
      clearerr(stdin);
      if (intr || got == 0) {
        luaL_pushresult(&b);
        lua_pop(L, 1);               /* drop any partial line */
        if (intr) fputc('\n', stdout);
        return intr ? INPUT_INTR : INPUT_EOF;
      }
      break;                         /* last line without a newline */
    }
    len = strlen(chunk);
    got += len;
    if (len > 0 && chunk[len - 1] == '\n') {
      luaL_addlstring(&b, chunk, len - 1);
      break;
    }
    luaL_addlstring(&b, chunk, len);
  }
  luaL_pushresult(&b);
  return INPUT_LINE;
}

/* Adds the entry to the history and rewrites the history file (at most
** HISTORY_LINES entries), so that it survives os.exit and a crash. A file
** that cannot be written is reported once. */
static void input_save(lua_State *L, const char *line) {
  editor *ed = get_editor(L);
  HistEvent ev;
  if (ed == NULL) return;            /* no history without line editing */
  history(ed->hist, &ev, H_ENTER, line);
  if (ed->histfile != NULL && history(ed->hist, &ev, H_SAVE, ed->histfile) < 0
      && !ed->saveerr) {
    ed->saveerr = 1;
    fprintf(stderr, "cannot save the history to %s: %s\n", ed->histfile,
            strerror(errno));
    fflush(stderr);
  }
}

/* ------------------------------------------------------------------- */

/* What loadline returns besides a load status. */
#define LOAD_EOF     (-1)            /* end of input                        */
#define LOAD_SKIP    (-2)            /* Ctrl-C: input discarded             */
#define LOAD_COMMAND (-3)            /* a REPL command (.help), on the stack */

static const char *get_prompt(lua_State *L, int firstline) {
  const char *p;
  lua_getglobal(L, firstline ? "_PROMPT" : "_PROMPT2");
  p = lua_tostring(L, -1);
  if (p == NULL) p = firstline ? PROMPT1 : PROMPT2;
  return p;
}

/* Reads a line and pushes it. A continuation line is read with the chunk
** so far at index 1. Returns an INPUT_* value. */
static int pushline(lua_State *L, int firstline) {
  const char *pending = firstline ? NULL : lua_tostring(L, 1);
  int r = input_read(L, get_prompt(L, firstline), pending);
  if (r != INPUT_LINE) {
    lua_pop(L, 1);                   /* pop prompt */
    return r;
  }
  lua_remove(L, -2);                 /* pop prompt */
  return INPUT_LINE;
}

/* Saves an entry in the history as it was typed: 'eq' says that its
** first line was "=expr", now "return expr". */
static void save_entry(lua_State *L, const char *entry, int eq) {
  if (eq) {
    input_save(L, lua_pushfstring(L, "=%s", entry + sizeof "return " - 1));
    lua_pop(L, 1);
  }
  else
    input_save(L, entry);
}

/* Is the syntax error on top only the chunk ending too early? */
static int incomplete(lua_State *L, int status) {
  static const char eofmark[] = "<eof>";
  size_t mlen = sizeof eofmark - 1;
  size_t len;
  const char *msg;
  if (status != LUA_ERRSYNTAX) return 0;
  msg = lua_tolstring(L, -1, &len);
  return len >= mlen && strcmp(msg + len - mlen, eofmark) == 0;
}

/* Tries the line at index 1 as an expression: 'return <line>;'. */
static int addreturn(lua_State *L, int eq) {
  const char *line = lua_tostring(L, 1);
  const char *retline = lua_pushfstring(L, "return %s;", line);
  int status = luaL_loadbuffer(L, retline, strlen(retline), "=stdin");
  if (status == LUA_OK) {
    lua_remove(L, -2);               /* pop modified line */
    if (line[0] != '\0') save_entry(L, line, eq);
  }
  else
    lua_pop(L, 2);                   /* pop error, modified line */
  return status;
}

/* Compiles the line at index 1 as a statement, reading continuation lines
** while the chunk is incomplete. */
static int multiline(lua_State *L, int eq) {
  for (;;) {
    size_t len;
    const char *line = lua_tolstring(L, 1, &len);
    int status = luaL_loadbuffer(L, line, len, "=stdin");
    int r;
    if (!incomplete(L, status)) {
      save_entry(L, line, eq);
      return status;
    }
    lua_pop(L, 1);                   /* pop "<eof>" message */
    r = pushline(L, 0);
    if (r == INPUT_INTR) return LOAD_SKIP;
    if (r == INPUT_EOF) {            /* report the incomplete chunk */
      save_entry(L, line, eq);
      return luaL_loadbuffer(L, line, len, "=stdin");
    }
    lua_pushliteral(L, "\n");
    lua_insert(L, -2);
    lua_concat(L, 3);                /* line .. "\n" .. next, at 1 */
  }
}

/* A REPL command: '.' then a letter, which no Lua chunk starts with. */
static int is_command(const char *line) {
  return line[0] == '.' && isalpha((unsigned char)line[1]);
}

/* Reads and compiles one entry ('=' at the start becomes 'return '). Leaves
** the chunk (or error message, or the command line) alone on the stack
** and returns its status, or LOAD_EOF / LOAD_SKIP / LOAD_COMMAND. */
static int loadline(lua_State *L) {
  int status, eq;
  lua_settop(L, 0);
  switch (pushline(L, 1)) {
    case INPUT_EOF: return LOAD_EOF;
    case INPUT_INTR: return LOAD_SKIP;
    default: break;
  }
  if (is_command(lua_tostring(L, 1))) {
    input_save(L, lua_tostring(L, 1));
    return LOAD_COMMAND;
  }
  eq = lua_tostring(L, 1)[0] == '=';
  if (eq) {
    lua_pushfstring(L, "return %s", lua_tostring(L, 1) + 1);
    lua_replace(L, 1);
  }
  if ((status = addreturn(L, eq)) != LUA_OK)
    status = multiline(L, eq);
  if (status == LOAD_SKIP) {
    lua_settop(L, 0);
    return status;
  }
  lua_remove(L, 1);                  /* pop line */
  return status;
}

/* Shows the values on the stack with synclua.repl.show(width, ...), or
** the global 'print' without the module; the first becomes the global
** '_', the last result. */
static void l_print(lua_State *L, const host *h) {
  int n = lua_gettop(L);
  if (n == 0) return;
  lua_pushvalue(L, 1);
  lua_setglobal(L, "_");
  luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
  if (push_repl_fn(L, "show")) {
    lua_insert(L, 1);
    lua_pushinteger(L, repl_width(L));
    lua_insert(L, 2);
    report(L, h, docall(L, n + 1, 0));
    return;
  }
  lua_getglobal(L, "print");
  lua_insert(L, 1);
  if (lua_pcall(L, n, 0, 0) != LUA_OK)
    message(h, lua_pushfstring(L, "error calling 'print' (%s)",
                               lua_tostring(L, -1)));
}

/* Runs the command line on the stack with synclua.repl.command(line,
** width); returns 1 when it asks to leave the REPL. */
static int run_command(lua_State *L, const host *h) {
  int quit = 0;
  if (!push_repl_fn(L, "command")) {
    message(h, "REPL commands need the module synclua.repl");
    return 0;
  }
  lua_insert(L, 1);                  /* function under the line */
  lua_pushinteger(L, repl_width(L));
  if (report(L, h, docall(L, 2, 1)) == LUA_OK) quit = lua_toboolean(L, -1);
  lua_settop(L, 0);
  return quit;
}

/* Loads synclua.repl (kept under REPL_KEY), lets it prepare the globals
** (synclua.repl.start), and opens the line editor on a terminal. */
static void repl_open(lua_State *L, const host *h) {
  lua_getglobal(L, "require");
  lua_pushliteral(L, "synclua.repl");
  if (report(L, h, docall(L, 1, 1)) == LUA_OK)
    lua_rawsetp(L, LUA_REGISTRYINDEX, &REPL_KEY);
  if (push_repl_fn(L, "start")) {
    lua_pushglobaltable(L);
    report(L, h, docall(L, 1, 0));
  }
  editor_open(L, h);
}

/* The read-eval-print loop; Ctrl-C at the prompt discards the input. */
static void doREPL(lua_State *L, host *h) {
  struct sigaction old;
  int status;
  h->interactive = 1;
  repl_open(L, h);
  sigaction(SIGINT, NULL, &old);
  set_signal(SIGINT, on_prompt_interrupt);
  while ((status = loadline(L)) != LOAD_EOF) {
    if (status == LOAD_SKIP) continue;
    if (status == LOAD_COMMAND) {
      if (run_command(L, h)) break;
      continue;
    }
    if (status == LUA_OK) status = docall(L, 0, LUA_MULTRET);
    if (status == LUA_OK) l_print(L, h);
    else report(L, h, status);
  }
  sigaction(SIGINT, &old, NULL);
  lua_settop(L, 0);
  editor_end(L);
  if (status == LOAD_EOF) fputc('\n', stdout);
  fflush(stdout);
  h->interactive = 0;
}

/* ----------------------------------------------------------------- main */

/* The protected main: pushes the exit status. */
static int pmain(lua_State *L) {
  host *h = (host *)lua_touserdata(L, 1);
  int why = BAD_NONE;
  int script;
  int args = collectargs(h->argv, h->argc, &script, &why);
  int optlim = (script < h->argc) ? script : h->argc;
  int code = EXIT_SUCCESS;
  int failed = 0;
  int sdir;
  luaL_checkversion(L);
  lua_settop(L, 0);
  if (args == HAS_ERROR || ((args & HAS_LIST) && script < h->argc)) {
    print_usage(stderr, (args == HAS_ERROR) ? why : BAD_LIST,
                h->argv[script]);
    lua_pushinteger(L, EXIT_USAGE);
    return 1;
  }
  if (args & HAS_HELP) {
    print_usage(stdout, BAD_NONE, NULL);
    lua_pushinteger(L, EXIT_SUCCESS);
    return 1;
  }
  if (args & HAS_V) print_version();
  if (args & HAS_NOENV) {            /* libraries ignore LUA_PATH & co */
    lua_pushboolean(L, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, "LUA_NOENV");
  }
  luaL_openlibs(L);
  setup_synclua(L, h, args & HAS_NOENV);
  sdir = lua_gettop(L);              /* the scripts directory */
  createargtable(L, h->argv, h->argc, script);
  set_global_module(L);
  lua_gc(L, LUA_GCRESTART);
  lua_gc(L, LUA_GCGEN, 0, 0);
  if (!(args & HAS_NOENV) && handle_luainit(L, h) != LUA_OK)
    code = EXIT_FAILURE;
  else if (!runargs(L, h, optlim))
    code = EXIT_FAILURE;
  else if (args & HAS_LIST) {
    lua_pushvalue(L, sdir);
    code = (call_runner(L, h, "list", 1) == LUA_OK) ? exit_status(L)
                                                    : EXIT_FAILURE;
  }
  else if (script < h->argc && strcmp(h->argv[script], "help") == 0 &&
           !exists("help")) {
    /* synclua help [NAME]: the commands, or one command's help */
    int i;
    lua_pushvalue(L, sdir);
    for (i = 1; i <= 2; i++) {
      if (script + i < h->argc) lua_pushstring(L, h->argv[script + i]);
      else lua_pushnil(L);
    }
    code = (call_runner(L, h, "help", 3) == LUA_OK) ? exit_status(L)
                                                    : EXIT_FAILURE;
  }
  else {
    if (script < h->argc)
      code = handle_script(L, h, script, sdir, &failed);
    if (failed)
      ;                              /* as lua.c: no REPL after an error */
    else if (args & HAS_I)
      doREPL(L, h);
    else if (script == h->argc && !(args & (HAS_E | HAS_V))) {
      if (isatty(STDIN_FILENO)) {
        print_version();
        doREPL(L, h);
      }
      else
        code = handle_script(L, h, script, sdir, &failed);
    }
  }
  lua_settop(L, 0);
  lua_pushinteger(L, code);
  return 1;
}

int main(int argc, char **argv) {
  host h;
  int status, code;
  lua_State *L;
  h.argc = argc;
  h.argv = argv;
  h.interactive = 0;
  if (argc < 1 || argv[0] == NULL) {
    message(&h, "no program name");
    return EXIT_USAGE;
  }
  /* A file-size limit (ulimit -f) is then a write that fails (EFBIG),
  ** reported like any other, not a process killed (synclua.h asks every
  ** program that links libsynclua to do this). */
  set_signal(SIGXFSZ, SIG_IGN);
  L = luaL_newstate();
  if (L == NULL) {
    message(&h, "cannot create state: not enough memory");
    return EXIT_FAILURE;
  }
  lua_gc(L, LUA_GCSTOP);             /* no collection while building */
  lua_pushcfunction(L, pmain);
  lua_pushlightuserdata(L, &h);
  status = lua_pcall(L, 1, 1, 0);
  code = (status == LUA_OK) ? (int)lua_tointeger(L, -1) : EXIT_FAILURE;
  report(L, &h, status);
  lua_close(L);
  return code;
}
