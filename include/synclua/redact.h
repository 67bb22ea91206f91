/*
** synclua/redact.h -- logs a user can share: the ids and free text of
** events replaced by pseudonyms, as `--redact` writes them (README,
** "Sharing logs safely: --redact").
**
** A redactor holds a key and turns every UUID it is shown into a
** pseudonym: HMAC-SHA256 (libsodium) of the UUID's canonical text -- 36
** characters, lowercase and hyphenated, whatever spelling it came in --
** under the key, its first 16 bytes made a valid RFC 4122 UUID (version
** 4, variant 10) and written lowercase and hyphenated. So one id is one
** pseudonym wherever it stands (a device id, a peer, a candidate in
** details, a summary's text) for every input of a run, and in every run
** given the same key; other keys give other pseudonyms, and a redactor
** made without a key draws a random one, whose pseudonyms match nothing
** outside it. Every tool downstream still reads them as ids.
**
** What sl_redact_event changes in an event (and nothing else: times,
** types, categories, severities, model types, counts and durations are
** kept, so every report reaches the same verdict on redacted rows):
**  - device_id, peer_device_id, correlation_id: their pseudonyms. A
**    device_id that is no UUID (a row another program wrote) becomes
**    "redacted-" and 12 hex digits of its HMAC; "" stays "".
**  - summary: each UUID inside it -- hyphenated (8-4-4-4-12, wherever it
**    stands) or simple (32 hex digits with no hex digit right before or
**    after them: a longer hex string, a hash, is no UUID), in either case
**    (braces and "urn:uuid:" around it stay) -- becomes its pseudonym in
**    the same layout and, when its letters were all upper case, in upper
**    case; and an absolute path -- a '/' (or "~/") at the start or after
**    a space or one of ( [ " ' = :, whose text up to the next space holds
**    another '/' -- is replaced from there to the end of the summary (a
**    path may hold spaces, and messages put it last) by "redacted-" and
**    12 hex digits. The rest of the bytes, NUL and ill-formed UTF-8
**    included, are copied as they are.
**  - details: parsed (sl_json_parse), and every string in it, at any
**    depth, replaced -- a UUID by its pseudonym, "" kept, any other text
**    by "redacted-" and 12 hex digits of its HMAC (the same text, the
**    same replacement) -- unless the nearest key above it is on the
**    allow-list (sl_redact_allowed): then it is kept, cleaned of UUIDs
**    and paths as a summary is. An object key that is a UUID becomes its
**    pseudonym; other keys are kept (batch_ingestion's model names).
**    Numbers, booleans and null are kept. Details that changed are
**    written compact with keys sorted, as details are stored; details
**    with nothing to replace are kept byte for byte. Details that are not
**    JSON become absent (NULL), as Spacedrive reads them (None).
**
** The redactor counts what it replaced, by kind, each distinct value once
** however many rows or queries showed it (sl_redactor_counts): the ids of
** each column, the UUIDs and the paths found in summaries, and the
** strings (values, and keys that were UUIDs) changed in details.
**
** It remembers every id it has turned into a pseudonym, so that a
** pseudonym it handed out can be turned back (sl_redact_reveal): a query
** on a redacting store compares the ids stored, and a report that takes
** an id from a redacted row to query with gives the pseudonym.
**
** Threads: a redactor is for one thread at a time (it caches and counts);
** one redactor may serve any number of stores and cursors on that thread.
*/
#ifndef SYNCLUA_REDACT_H
#define SYNCLUA_REDACT_H

#include <synclua/synclua.h>

typedef struct sl_redactor sl_redactor;

/* What a redactor counts, by kind (sl_redactor_counts). */
typedef enum sl_redact_kind {
  SL_REDACT_DEVICE = 0,       /* device ids (device_id)                     */
  SL_REDACT_PEER,             /* peer ids (peer_device_id)                  */
  SL_REDACT_CORRELATION,      /* correlation ids                            */
  SL_REDACT_LIBRARY,          /* library ids (only sl_redact_id gives them) */
  SL_REDACT_SUMMARY_ID,       /* UUIDs inside summaries                     */
  SL_REDACT_SUMMARY_PATH,     /* paths inside summaries                     */
  SL_REDACT_DETAILS,          /* strings changed in details                 */
  SL_REDACT_KIND_COUNT
} sl_redact_kind;

/* The kind's name: "device", "peer", "correlation", "library",
** "summary_id", "summary_path", "details"; NULL out of range. */
const char *sl_redact_kind_name(int kind);

/* A new redactor into *out (NULL on failure). key[0..keylen) is any bytes
** (a passphrase, a key file's contents), used as the HMAC key; key NULL
** (keylen ignored) draws 32 random bytes for this redactor alone. SL_OK;
** SL_INVALID for an empty key (keylen 0 with a non-NULL key); SL_NOMEM;
** SL_ERROR when libsodium cannot start. The redactor copies the key and
** wipes its copy when freed. */
int sl_redactor_new(const void *key, size_t keylen, sl_redactor **out);

/* Free a redactor. Accepts NULL. A store it was given to must no longer
** query (see sl_store_redact). */
void sl_redactor_free(sl_redactor *r);

/* 1 when the redactor was made from a caller's key, 0 for a random key
** (and NULL). */
int sl_redactor_keyed(const sl_redactor *r);

/* The pseudonym of the UUID text[0..len) (any spelling sl_uuid_parse
** reads) into out, lowercase and hyphenated, counted under `kind` (an
** sl_redact_kind; -1 counts nothing). SL_OK; SL_INVALID for text that is
** no UUID (out untouched); SL_NOMEM (out is still written: only the
** count and the memory of it for sl_redact_reveal are lost); SL_MISUSE
** for a NULL argument or a kind out of range. */
int sl_redact_id(sl_redactor *r, const char *text, size_t len, int kind,
                 char out[SL_UUID_BUFSZ]);

/* The id whose pseudonym is text[0..len) (any spelling), when this
** redactor handed that pseudonym out, into out lowercase and hyphenated:
** SL_OK, or SL_NOTFOUND (out untouched). Counts nothing. */
int sl_redact_reveal(const sl_redactor *r, const char *text, size_t len,
                     char out[SL_UUID_BUFSZ]);

/*
** The redacted copy of `in` into *out (see the top of this header). The
** text out's columns point at is in `scratch` (reset first: the caller's
** buffer, one per row to hold at once) or, for the columns kept as they
** are (timestamp, type, category, severity, model types), is in's own:
** out is valid while both are and scratch is not changed. out->len gives
** every text column's length. SL_OK; SL_NOMEM (out is then zeroed:
** never an unredacted id); SL_MISUSE for a NULL argument.
*/
int sl_redact_event(sl_redactor *r, const sl_event *in, sl_event *out,
                    sl_buf *scratch);

/* The counts of distinct values replaced so far, by sl_redact_kind, into
** counts[SL_REDACT_KIND_COUNT] (zeros for NULL r). */
void sl_redactor_counts(const sl_redactor *r,
                        int64_t counts[SL_REDACT_KIND_COUNT]);

/* Is key[0..len) on the allow-list of details keys whose string values
** are kept (cleaned of UUIDs and paths)? The list, the keys whose values
** synclua's and Spacedrive's writers fill with words of their own code
** rather than with anything of a user's (spacedrive-compat.md 4): reason
** (state transitions, failed sessions, disconnections, a replaced log
** file), phase and action (sync errors), request, event_types and since
** (the served requests a server logs). Everything else -- path, remote,
** device_id, unknown_event_types, any key another program writes -- is
** replaced. */
int sl_redact_allowed(const char *key, size_t len);

/* The allow-list, comma-separated: "action, event_types, ...". Static. */
const char *sl_redact_allowed_list(void);

/*
** Hand out the rows of every cursor of `store` redacted by r (NULL: as
** stored again), from their next row on: sl_cursor_next, and so the
** merge, the renderers and sl_fingerprint, see sl_redact_event's copy,
** each cursor keeping its own (a merge holds one row per cursor). Filters
** still compare the ids stored (a caller querying with an id taken from
** a redacted row turns it back with sl_redact_reveal first). The store
** does not own r: r must outlive every query of the store and its
** cursors. Set it before querying, on the thread that queries. Accepts a
** NULL store (nothing done).
*/
void sl_store_redact(sl_store *store, sl_redactor *r);

/* The redactor of sl_store_redact, or NULL. */
sl_redactor *sl_store_redactor(const sl_store *store);

#endif
