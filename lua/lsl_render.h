/*
** lsl_render.h -- what the binding's files share about rendering events
** as export bytes (lua/lsl_render.c): format names.
*/
#ifndef LSL_RENDER_H
#define LSL_RENDER_H

#include "lsl_internal.h"

/* The render format named by the string at idx -- "json", "sql",
** "markdown" (or "md"), "ndjson", "csv" -- as an sl_render_format, the
** --with-device variant when with_device != 0. Raises bad argument #arg
** naming `field` for anything else. */
int lsl_check_render_format(lua_State *L, int idx, int arg,
                            const char *field, int with_device);

/* Register render(event, format [, with_device]) and csv_header() in the
** module table on the stack top. */
void lsl_render_register(lua_State *L);

#endif
