/*
** sli_import.h -- the streaming import's private cross-file declarations
** (core/ only): what the export reader (sl_import_text.c) needs of the
** import (sl_import.c) beyond the public API. Kept apart from sli.h, which
** holds the store's.
*/
#ifndef SLI_IMPORT_H
#define SLI_IMPORT_H

#include "sli.h"

/* Stage evs[0..n) in order up to the first event the import refuses:
** those before it are kept, it and those after are not, and *taken says
** how many were kept (n when all were). SL_OK then, whatever *taken;
** another status is a failure of the temporary file that ends the import
** (as sl_import_add's). Reads evs only. */
int sli_import_add_some(sl_import *im, const sl_event *evs, size_t n,
                        size_t *taken);

#endif
