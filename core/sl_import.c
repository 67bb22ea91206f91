/*
** sl_import.c -- bulk insertion on the caller's connection: a list of
** events written synchronously in one transaction, all or nothing, each
** row exactly as the writer thread writes it (sl_writer.c), optionally
** skipping events the store already holds. `synclua import` and the
** timeline's loading of JSON exports go through here, never through the
** asynchronous writer (which commits in many transactions).
**
** A duplicate is an event with the same device, instant, type and summary
** as a row already stored or inserted earlier in the same call. Rows in
** canonical form are found through the (event_type, timestamp) index by
** the text we would write; the few rows in other forms (temp.sl_foreign,
** kept by sli_ts_refresh) are indexed by instant in a TEMP table for the
** length of the call. Nothing here touches the file but the INSERTs.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sli.h"


/* A canonical row with this text, device, type and summary. A device
** stored in capitals by another program still matches its lowercase
** form. */
static const char dup_sql[] =
  "SELECT 1 FROM sync_event_log WHERE event_type = ?3 AND timestamp = ?1"
  " AND summary = ?4 AND (device_id = ?2 OR lower(device_id) = ?2) LIMIT 1";

/* A row in another form (a "Z", an offset, a short fraction) at this
** instant. */
static const char dup_foreign_sql[] =
  "SELECT 1 FROM temp.sl_import_foreign f JOIN sync_event_log e"
  " ON e.id = f.id WHERE f.instant = ?1 AND e.event_type = ?3"
  " AND e.summary = ?4 AND (e.device_id = ?2 OR lower(e.device_id) = ?2)"
  " LIMIT 1";

static const char foreign_index_sql[] =
  "CREATE TEMP TABLE IF NOT EXISTS sl_import_foreign"
  "(instant INTEGER NOT NULL, id INTEGER NOT NULL);"
  "DELETE FROM temp.sl_import_foreign;"
  "INSERT INTO temp.sl_import_foreign(instant, id)"
  " SELECT sl_instant(e.timestamp), e.id FROM temp.sl_foreign f"
  " JOIN sync_event_log e ON e.id = f.id"
  " WHERE sl_instant(e.timestamp) IS NOT NULL;"
  "CREATE INDEX IF NOT EXISTS temp.sl_import_foreign_by_instant"
  " ON sl_import_foreign(instant);";

/* Does the store already hold this event, stored under `id` at instant?
** 1 yes, 0 no, < 0 an SQLite failure (the negated result code). */
static int stored(sqlite3_stmt *dup, sqlite3_stmt *foreign,
                  const sl_event *ev, const sli_row_id *id, int64_t instant) {
  sqlite3_stmt *sts[2] = {dup, foreign};
  size_t n_type, n_sum;
  const char *type = sl_event_text(ev, SL_COL_EVENT_TYPE, &n_type);
  const char *summary = sl_event_text(ev, SL_COL_SUMMARY, &n_sum);
  for (int k = 0; k < 2 && sts[k]; k++) {
    sqlite3_stmt *st = sts[k];
    if (k == 0) sqlite3_bind_text(st, 1, id->ts, -1, SQLITE_STATIC);
    else sqlite3_bind_int64(st, 1, instant);
    sqlite3_bind_text(st, 2, id->device_id, (int)id->device_len,
                      SQLITE_STATIC);
    sqlite3_bind_text(st, 3, type, (int)n_type, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, summary, (int)n_sum, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW) return 1;
    if (rc != SQLITE_DONE) return -rc;
  }
  return 0;
}

/* Every event checked before anything is written. */
static int validate(sl_store *s, const sl_event *evs, size_t n) {
  char err[SLI_ERRMSG_MAX - 32];
  for (size_t i = 0; i < n; i++) {
    if (sl_event_validate(&evs[i], err, sizeof err) != SL_OK)
      return sli_fail(s, SL_INVALID, "event %zu: %s", i + 1, err);
    if (!evs[i].device_id && !s->device_id)
      return sli_fail(s, SL_INVALID,
                      "event %zu: device_id: missing (give one, or open the "
                      "store with a device_id)", i + 1);
  }
  return SL_OK;
}

/* Has the store rows in other forms? Then index them by instant. */
static int index_foreign(sl_store *s, int *any) {
  sqlite3_stmt *st;
  int rc = sli_stmt_get(s, "SELECT EXISTS (SELECT 1 FROM temp.sl_foreign)",
                        &st);
  if (rc != SL_OK) return rc;
  int r = sqlite3_step(st);
  *any = r == SQLITE_ROW && sqlite3_column_int(st, 0);
  sli_stmt_put(s, st);
  if (r != SQLITE_ROW) return sli_sqlite_fail(s, s->db, r, "insert");
  if (!*any) return SL_OK;
  r = sqlite3_exec(s->db, foreign_index_sql, NULL, NULL, NULL);
  return r == SQLITE_OK ? SL_OK : sli_sqlite_fail(s, s->db, r, "insert");
}

int sl_store_insert(sl_store *s, const sl_event *evs, size_t n,
                    int skip_duplicates, size_t *inserted, size_t *skipped) {
  sqlite3_stmt *ins = NULL, *dup = NULL, *foreign = NULL;
  sl_buf details = {0};
  size_t n_in = 0, n_skip = 0;
  int rc, any_foreign = 0;
  char jerr[160];

  if (inserted) *inserted = 0;
  if (skipped) *skipped = 0;
  if (!s || (!evs && n > 0)) return SL_MISUSE;
  if ((rc = sli_store_usable(s)) != SL_OK) return rc;
  if (s->readonly)
    return sli_fail(s, SL_READONLY, "%s: opened read-only: cannot insert",
                    s->path);
  if ((rc = validate(s, evs, n)) != SL_OK) return rc;

  int r = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
  if (r != SQLITE_OK) return sli_sqlite_fail(s, s->db, r, "insert");
  if (skip_duplicates) {
    rc = sli_ts_refresh(s);
    if (rc == SL_OK) rc = index_foreign(s, &any_foreign);
    if (rc == SL_OK) rc = sli_stmt_get(s, dup_sql, &dup);
    if (rc == SL_OK && any_foreign)
      rc = sli_stmt_get(s, dup_foreign_sql, &foreign);
  }
  if (rc == SL_OK) rc = sli_stmt_get(s, sli_insert_sql, &ins);

  int64_t now = sl_time_now();
  for (size_t i = 0; i < n && rc == SL_OK; i++) {
    const sl_event *ev = &evs[i];
    int64_t instant = ev->has_instant ? ev->instant : now;
    if (ev->timestamp) sl_event_time(ev, &instant); /* validated */
    if (skip_duplicates) {
      sli_row_id id;
      sli_row_text(ev, instant, s->device_id, &id);
      int found = stored(dup, foreign, ev, &id, instant);
      if (found < 0) {
        rc = sli_sqlite_fail(s, s->db, -found, "insert");
        break;
      }
      if (found) {
        n_skip++;
        continue;
      }
    }
    rc = sli_bind_event(ins, ev, instant, s->device_id, &details, jerr,
                        sizeof jerr);
    if (rc == SL_INVALID) {
      rc = sli_fail(s, SL_INVALID, "event %zu: details: not JSON: %s",
                    i + 1, jerr);
      break;
    }
    if (rc != SL_OK) {
      rc = sli_fail(s, SL_NOMEM, "out of memory");
      break;
    }
    r = sqlite3_step(ins);
    sqlite3_reset(ins);
    if (r != SQLITE_DONE) {
      rc = sli_sqlite_fail(s, s->db, r, "insert");
      break;
    }
    n_in++;
  }
  sli_stmt_put(s, ins);
  sli_stmt_put(s, dup);
  sli_stmt_put(s, foreign);
  sl_buf_free(&details);

  if (rc == SL_OK) {
    r = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    if (r != SQLITE_OK) rc = sli_sqlite_fail(s, s->db, r, "insert");
  }
  if (rc != SL_OK) {
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    /* What sli_ts_refresh recorded inside the transaction (temp.sl_foreign
    ** and its rows) went with it: let the next look start over. */
    s->ts_known = 0;
    s->ts_checked_id = s->ts_noncanonical = s->ts_unparsable = 0;
    memset(s->ts_first_bad, 0, sizeof s->ts_first_bad);
    return rc;
  }
  if (inserted) *inserted = n_in;
  if (skipped) *skipped = n_skip;
  return SL_OK;
}
