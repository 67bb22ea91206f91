/*
** lsl.h -- what the Lua binding (lua/lsl_*.c) offers the host program.
**
** The binding builds the Lua module `synclua.core` over libsynclua; the host
** preloads it, and plain lua5.4 loads the same code as synclua/core.so.
*/
#ifndef LSL_H
#define LSL_H

#include <lua.h>

/* require "synclua.core": the module table (see lua/synclua/init.lua). */
int luaopen_synclua_core(lua_State *L);

#endif
