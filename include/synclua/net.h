/*
** synclua/net.h -- libsynclua's side of the network: Spacedrive's
** EventLogRequest / EventLogResponse messages and their framing, keys,
** the encrypted channel, the server that answers peers and the fetcher
** that asks them.
*/
#ifndef SYNCLUA_NET_H
#define SYNCLUA_NET_H

#include <synclua/json.h>

/* ------------------------------------------------------------- protocol */

/*
** Spacedrive's EventLogRequest / EventLogResponse (spacedrive-compat.md,
** section 2), as synclua speaks them over TCP. The messages are
** Spacedrive's bytes: externally tagged JSON, fields in declaration order,
** null for an absent option, each framed by a 4-byte big-endian length.
** synclua adds three optional fields that serde ignores and that are
** written only when they say something: the request's "before" (paging:
** only events older than a position), the response's "unknown_event_types"
** (requested names that are no event type) and "next" (the position to
** page from when the response was cut short by a cap).
**
** A position is {"timestamp":"<RFC 3339 Z>","id":N}: an event's instant
** and row id, in the order responses are sorted (newest first, equal
** instants by ascending id, as sl_query): "before" asks for the events
** after it in that order, older ones or, at its instant, higher ids.
*/
#define SL_KEY_BYTES      32                /* the library's pre-shared key */
#define SL_KEY_HEXSZ      (2 * SL_KEY_BYTES + 1)
#define SL_MAX_EVENTS     10000             /* events in one response        */
#define SL_MAX_FRAME      (16u << 20)       /* JSON bytes in one frame        */
#define SL_MAX_REQUEST    (64u << 10)       /* JSON bytes in one request      */

typedef struct sl_request {
  char         library_id[SL_UUID_BUFSZ];
  char         requesting_device[SL_UUID_BUFSZ];
  int          has_since;
  int64_t      since;                 /* instant                            */
  int          has_event_types;
  char       **event_types;           /* owned when parsed                  */
  size_t       n_event_types;
  int          has_correlation_id;
  char         correlation_id[SL_UUID_BUFSZ];
  uint32_t     limit;
  int          has_before;            /* synclua: page from this position   */
  int64_t      before;                /* instant                            */
  int64_t      before_id;
} sl_request;

typedef struct sl_response {
  char         library_id[SL_UUID_BUFSZ];
  char         responding_device[SL_UUID_BUFSZ];
  sl_json     *events;                /* the array, owned                   */
  char       **unknown_event_types;   /* owned                              */
  size_t       n_unknown_event_types;
  int          has_next;              /* cut short: page from here          */
  int64_t      next;                  /* instant                            */
  int64_t      next_id;
} sl_response;

typedef enum sl_message_kind {
  SL_MSG_REQUEST = 1, SL_MSG_RESPONSE
} sl_message_kind;

typedef struct sl_message {
  sl_message_kind kind;
  sl_request      request;            /* kind == SL_MSG_REQUEST             */
  sl_response     response;           /* kind == SL_MSG_RESPONSE            */
} sl_message;

/* Write a request as Spacedrive's serde_json::to_vec writes it (plus
** "before" when has_before). The event_types strings are only read. */
void sl_request_write(sl_buf *b, const sl_request *req);

/*
** Parse one message (the JSON of a frame). Strict where serde is: one
** variant key, every field of the right type, UUIDs that parse, limit a
** u32 and required; missing options are absent; unknown fields are
** ignored. A UUID is read in every spelling serde's Uuid reads (hyphenated,
** 32 hex digits, "{...}", "urn:uuid:...", any case) and kept lowercase
** and hyphenated. SL_OK, SL_NOMEM, or SL_INVALID with a message naming the field
** and what is wrong ("EventLogRequest.limit: expected an integer from 0 to
** 4294967295, got -1"). Free with sl_message_clear even on failure.
*/
int sl_message_parse(const char *json, size_t len, sl_message *out,
                     char *err, size_t errsz);
void sl_message_clear(sl_message *m);

/*
** A response's events as rows to store (sl_store_insert): each must be an
** object in the wire form (the sl_event fields by name, model_types an
** array of strings, details any JSON value). *out points into `events`
** and into strings the call allocates in `arena`; both must outlive it.
** SL_INVALID with "event N: <what is wrong>" for the first bad one.
*/
int sl_response_events(const sl_json *events, sl_event **out, size_t *n,
                       sl_buf *arena, char *err, size_t errsz);

/*
** Spacedrive's framing, reassembled from a byte stream arriving in any
** pieces. A length over `max_frame` is refused as soon as its 4 bytes are
** in, before anything is allocated for it.
*/
typedef struct sl_framer {
  size_t        max_frame;
  unsigned char head[4];
  size_t        head_len;
  uint32_t      need;                 /* length of the frame being read     */
  sl_buf        frame;                /* its bytes so far                   */
  int           ready;                /* frame holds a whole frame          */
} sl_framer;

void sl_framer_init(sl_framer *f, size_t max_frame);
/* Take bytes until a frame is whole (*used says how many were taken;
** f->ready then set, the JSON in f->frame) or the bytes run out. SL_OK,
** SL_NOMEM, or SL_INVALID with the message for an oversized length (and
** again for any bytes pushed after it, until sl_framer_next). */
int sl_framer_push(sl_framer *f, const unsigned char *bytes, size_t n,
                   size_t *used, char *err, size_t errsz);
/* Forget the frame just read and wait for the next one. */
void sl_framer_next(sl_framer *f);
/* Bytes of an unfinished frame (0 between frames). */
size_t sl_framer_pending(const sl_framer *f);
void sl_framer_free(sl_framer *f);

/* A fresh key from the system's random source; 64 lowercase hex digits. */
void sl_key_generate(unsigned char key[SL_KEY_BYTES]);
void sl_key_hex(const unsigned char key[SL_KEY_BYTES], char hex[SL_KEY_HEXSZ]);
/* Read a key file: 64 hex digits and an optional newline, nothing more,
** and (unless the file is mode 0600 or stricter) a refusal naming the
** mode. SL_OK, SL_NOTFOUND, SL_IOERR or SL_INVALID, with a message naming
** the file. */
int sl_key_read(const char *path, unsigned char key[SL_KEY_BYTES],
                char *err, size_t errsz);
/* The library id a key stands for when none is given: a UUID derived from
** the key (BLAKE2b), the same on every device that holds it. */
void sl_key_library_id(const unsigned char key[SL_KEY_BYTES],
                       char id[SL_UUID_BUFSZ]);

/*
** The encrypted channel. A handshake proves both ends hold the key (an
** HMAC-SHA-256 over both sides' fresh 32-byte nonces, the server's proof
** first, so a client never sends its request to a server without the key)
** and derives one key per direction; then every byte travels in
** XChaCha20-Poly1305 secretstream records of at most SL_RECORD_MAX bytes.
** A record that fails authentication -- tampered, replayed, reordered or
** from another session -- ends the connection. All libsodium.
*/
#define SL_RECORD_MAX (64u << 10)

typedef struct sl_channel sl_channel;

/* The deadlines of a connection, in milliseconds (0: the default). */
typedef struct sl_timeouts {
  int handshake_ms;             /* whole handshake; default 5000            */
  int idle_ms;                  /* waiting for a frame to start; 30000      */
  int io_ms;                    /* a frame once started, plus 1 s per 64 KiB
                                   it announces; one write; 10000         */
} sl_timeouts;

/* Handshake on a connected socket, which stays the caller's to close (after
** sl_channel_free). The socket is made non-blocking. SL_OK; SL_INVALID when the other end
** does not hold the key or is not a synclua peer; SL_IOERR for a timeout
** or a broken connection; the message in err. */
int sl_channel_client(int fd, const unsigned char key[SL_KEY_BYTES],
                      const sl_timeouts *t, sl_channel **out,
                      char *err, size_t errsz);
int sl_channel_server(int fd, const unsigned char key[SL_KEY_BYTES],
                      const sl_timeouts *t, sl_channel **out,
                      char *err, size_t errsz);

/* Send one frame: the 4-byte length, then the JSON. */
int sl_channel_send(sl_channel *ch, const char *json, size_t len);

/* Receive one frame into out (reset first): SL_OK; SL_DONE when the other
** end closed cleanly between frames; SL_INVALID for a frame over
** max_frame or a record that fails authentication; SL_IOERR for a timeout
** or a connection cut mid-frame. The message in sl_channel_errmsg. */
int sl_channel_recv(sl_channel *ch, sl_buf *out, size_t max_frame);

const char *sl_channel_errmsg(const sl_channel *ch);
void sl_channel_free(sl_channel *ch);

/* ----------------------------------------------------------------- serve */

/*
** Answer EventLogRequests for one store. Each connection has a thread of
** its own (up to max_clients; more are refused at once), so a slow or
** silent client holds only its own. Requests are answered as Spacedrive's
** handler answers them -- the store's own device's events, newest first
** (equal instants in ascending id), in [since, now] on this server's clock
** (a row dated later is never sent, whether or not since is given:
** spacedrive-compat.md 10.4), event types / correlation id / limit, UUIDs
** in every spelling serde reads -- with synclua's refinements: at most
** max_events per response (then "next" to page from, never between two
** events of one instant unless they fill a page),
** a frame never over max_frame, a request over SL_MAX_REQUEST refused
** before it is read, unknown event types reported back (and matching
** nothing, instead of lifting the filter), a request for another library
** refused. Each request served is logged in the store as a
** backfill_request_received event (network) from the requester, model
** type "sync_event_log", with the count returned.
*/
typedef struct sl_server sl_server;

typedef struct sl_server_opts {
  const char    *db_path;             /* the store served                   */
  const char    *listen;              /* "HOST:PORT"; port 0 picks one      */
  const unsigned char *key;           /* SL_KEY_BYTES                       */
  const char    *library_id;          /* NULL: sl_key_library_id(key)       */
  const char    *device_id;           /* NULL: the device of the store's
                                         newest row                         */
  int            max_clients;         /* 0: 64                              */
  uint32_t       max_events;          /* 0: SL_MAX_EVENTS                   */
  size_t         max_frame;           /* 0: SL_MAX_FRAME                    */
  sl_timeouts    timeouts;
  /* One line per connection and per request, from any thread. */
  void         (*log)(void *ud, const char *line);
  void          *log_ud;
} sl_server_opts;

/* Open the store, bind and listen. *out gets a server (release it with
** sl_server_free) or NULL with the message in err. */
int sl_server_open(const sl_server_opts *o, sl_server **out,
                   char *err, size_t errsz);
/* "HOST:PORT" as bound (the port chosen when 0 was asked). */
const char *sl_server_address(const sl_server *srv);
const char *sl_server_library_id(const sl_server *srv);
const char *sl_server_device_id(const sl_server *srv);
/* Serve until sl_server_stop; then close every connection, wait for
** their threads and flush the store. */
int sl_server_run(sl_server *srv);
/* Ask sl_server_run to return. Async-signal-safe. */
void sl_server_stop(sl_server *srv);
void sl_server_free(sl_server *srv);

/* ----------------------------------------------------------------- fetch */

/*
** Ask peers for their logs, all at once (a thread per peer), paging
** through responses cut short until `req->limit` events or the end, and
** storing each peer's events in its own store (sl_store_insert, skipping
** duplicates; each page oldest first, equal instants in the order sent,
** so that they keep the peer's order). A peer that fails -- down, slow,
** another key or library, or garbage: a malformed response, more events
** than asked, events of a device other than the responding one -- leaves
** the others unharmed. Each dest must be a different store.
*/
typedef struct sl_fetch_peer {
  const char   *address;              /* "HOST:PORT"                        */
  sl_store     *dest;                 /* where its events go                */
  /* results */
  int           status;               /* SL_OK or why it failed             */
  char          errmsg[256];
  char          responding_device[SL_UUID_BUFSZ];
  int64_t       received;             /* events in its responses            */
  size_t        inserted;             /* new rows in dest                   */
  int           pages;                /* responses read                     */
  int           capped;               /* a response was cut short by a cap  */
  char          unknown_event_types[256]; /* as the peer reported, comma-
                                         joined                             */
} sl_fetch_peer;

int sl_fetch(sl_fetch_peer *peers, size_t n, const sl_request *req,
             const unsigned char key[SL_KEY_BYTES], const sl_timeouts *t);

#endif
