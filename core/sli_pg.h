/*
** sli_pg.h -- what the PostgreSQL backend's files (sl_pg.c, sl_pg_push.c)
** share: the connection a fleet store and its scoped handles hold, and
** the one way a failed statement becomes the store's message.
*/
#ifndef SLI_PG_H
#define SLI_PG_H

#include <libpq-fe.h>

#include "sli.h"

struct sli_pg {
  PGconn  *conn;
  int      refs;              /* store handles sharing it                   */
  int      cursors;           /* open server-side cursors                   */
  int      in_txn;            /* the cursors' read transaction is open      */
  unsigned next_name;         /* for cursor names                           */
};

/* "PATH: what: why" on s, why libpq's first line (of res when it failed,
** else of the connection): SL_IOERR, the database failed us (a lost
** connection, or a statement the server refused). what may be NULL. */
int sli_pg_fail(sl_store *s, const PGresult *res, const char *what);

/* Run sql with n text parameters v (NULL: SQL NULL): its result into *out
** (may be NULL: cleared), SL_OK; or the failure on s. */
int sli_pg_exec(sl_store *s, const char *sql, int n, const char *const *v,
                const char *what, PGresult **out);

#endif
