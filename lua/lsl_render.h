/*
** lsl_render.h -- what the binding's files share about rendering events
** as export bytes (lua/lsl_render.c): format names, and an event table
** read back into the core's terms.
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

/* Fill ev from the event table at idx (as log:events yields it: details
** as a table or text, details_json preferred when present; model_types a
** list or comma-joined text; instant used when present, else parsed from
** timestamp). Strings stay owned by the table or by values this pushes,
** so keep the stack until ev is used. Raises bad argument #arg naming the
** field for a value of the wrong type. */
void lsl_check_event_table(lua_State *L, int idx, int arg, sl_event *ev);

/* Register render(event, format [, with_device]) and csv_header() in the
** module table on the stack top. */
void lsl_render_register(lua_State *L);

#endif
