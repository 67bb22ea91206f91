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
** synclua adds optional fields that serde ignores and that are written
** only when they say something: the request's "before" (paging: only
** events older than a position) and "follow" (stream new events, below),
** the response's "unknown_event_types" (requested names that are no event
** type), "next" (the position to page from when the response was cut
** short by a cap) and "mark" (how far a follow stream has come). Each goes
** after the fields before it, in this order, so that a message without
** them keeps every byte Spacedrive's serde writes.
**
** A position is {"timestamp":"<RFC 3339 Z>","id":N}: an event's instant
** and row id, in the order responses are sorted (newest first, equal
** instants by ascending id, as sl_query): "before" asks for the events
** after it in that order, older ones or, at its instant, higher ids.
*/
/*
** Following. A request with
**     ,"follow":{"after":N,"heartbeat_ms":M}      ("after":null: a start)
** after its other fields asks a synclua server to keep the connection and
** stream. On a start the server takes its store's highest row id, MARK,
** and first answers as it answers any request (the newest `limit` events
** newest first; more than its cap are sent as pages one after another,
** each but the last with "next", without being asked), leaving out rows
** above MARK; with "after" (a resume) that answer is skipped and the
** stream starts after row N. Then every new row of the server's store with
** a higher id that matches the request (its device, event types,
** correlation id and since -- with no upper time bound: a row dated in the
** future is streamed too; `limit` does not apply) is sent as it is
** committed, in frames of at most the server's max_events, oldest first by
** row id. Every frame of a stream ends with
**     ,"mark":N
** (after "next", if any): the highest row id the stream has covered. The
** client resumes after the mark of the last frame it stored that was not
** a page of the first answer (a frame with "next" is one; its mark becomes
** the resume point with the last page): so a reconnect sends nothing twice
** and misses nothing. When nothing was sent for heartbeat_ms (from
** SL_HEARTBEAT_MIN_MS to SL_HEARTBEAT_MAX_MS) the server sends a
** heartbeat: a response with "events":[] and the mark. A resume's first
** frame comes at once (the rows after N, or a heartbeat). The stream ends
** when the client closes (or sends anything), when the server stops or a
** write times out (timeouts.io_ms), or at the server's total_ms. The
** authentication, the caps on frames and decoding and the client slots
** are those of every request. Spacedrive's serde ignores "follow": a
** Spacedrive peer answers once, without a mark, and closes.
*/
#define SL_HEARTBEAT_MIN_MS 100
#define SL_HEARTBEAT_MAX_MS 60000

#define SL_KEY_BYTES      32                /* the library's pre-shared key */
#define SL_KEY_HEXSZ      (2 * SL_KEY_BYTES + 1)
#define SL_MAX_EVENTS     10000             /* events in one response        */
#define SL_MAX_FRAME      (16u << 20)       /* JSON bytes in one frame        */
#define SL_MAX_REQUEST    (64u << 10)       /* JSON bytes in one request      */
#define SL_MAX_DECODE     (32u << 20)       /* bytes decoding one frame takes */

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
  int          has_follow;            /* synclua: stream (above)            */
  int          has_follow_after;      /* resume: only rows with a higher id */
  int64_t      follow_after;
  uint32_t     heartbeat_ms;          /* SL_HEARTBEAT_MIN_MS to _MAX_MS     */
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
  int          has_mark;              /* a follow stream's frame            */
  int64_t      mark;                  /* the highest row id it covers       */
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
** "before" when has_before, then "follow" when has_follow). The
** event_types strings are only read. */
void sl_request_write(sl_buf *b, const sl_request *req);

/*
** What decoding JSON text costs, in bytes, before anything is allocated
** for it: one pass over the text that allocates nothing and sums what
** sl_json_parse would allocate for it (a node per value, the copy of each
** string and key, each container's arrays, the parser's stack of members;
** malloc's header and rounding as glibc's, 8 and 16 bytes) and what
** sl_response_events would allocate for a response's events (an sl_event
** for each value three levels down in the message). `depth` is how deep in a
** message the text starts: 0 for a whole message, 3 for one event of a
** response's "events" array (so that a sender can add up a frame event by
** event: the cost of a text is the sum of the costs of its parts). The
** number of JSON values goes into *values when it is not NULL. An upper
** bound for valid JSON and for every prefix the parser reads of invalid
** JSON; never blocks, reads json[0..len) only.
*/
size_t sl_decode_cost(const char *json, size_t len, int depth,
                      size_t *values);

/*
** Parse one message (the JSON of a frame). Strict where serde is: one
** variant key, every field of the right type, UUIDs that parse, limit a
** u32 and required; missing options are absent; unknown fields are
** ignored. A UUID is read in every spelling serde's Uuid reads (hyphenated,
** 32 hex digits, "{...}", "urn:uuid:...", any case) and kept lowercase
** and hyphenated. SL_OK, SL_NOMEM, or SL_INVALID with a message naming the field
** and what is wrong ("EventLogRequest.limit: expected an integer from 0 to
** 4294967295, got -1"; "EventLogRequest.follow.heartbeat_ms: expected an
** integer from 100 to 60000, got 50"). A message whose decoding would cost more than
** SL_MAX_DECODE bytes (sl_decode_cost) is refused before anything is
** allocated for it, whatever its shape: a 16 MiB frame of zeros in a
** response's events ("message: 8388541 JSON values would take 3523186128
** bytes to decode, over the limit of 33554432") would otherwise take
** nearly 1 GB. Free with sl_message_clear even on failure.
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
  int handshake_ms;             /* whole handshake; default 5000 (a server's
                                   2000, counted from the accept)         */
  int idle_ms;                  /* waiting for a frame to start; 30000      */
  int io_ms;                    /* a frame once started, plus 1 s per 64 KiB
                                   it announces; one write; 10000         */
  int total_ms;                 /* the whole connection, from the start of
                                   the handshake: no wait goes past it;
                                   default none (sl_fetch: 600000, from
                                   the connect)                           */
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

/* Send one frame: the 4-byte length, then the JSON. SL_OK; SL_IOERR for a
** timeout (io_ms, or total_ms passed) or a broken connection. Blocks until
** the frame is written. */
int sl_channel_send(sl_channel *ch, const char *json, size_t len);

/* Receive one frame into out (reset first): SL_OK; SL_DONE when the other
** end closed cleanly between frames; SL_INVALID for a frame over
** max_frame or a record that fails authentication; SL_IOERR for a timeout
** or a connection cut mid-frame. The message in sl_channel_errmsg ("timed
** out waiting for a record"; "past the deadline of the connection
** (total_ms) waiting for a record" when total_ms ran out). Blocks until a
** frame is whole or a deadline passes. */
int sl_channel_recv(sl_channel *ch, sl_buf *out, size_t max_frame);

const char *sl_channel_errmsg(const sl_channel *ch);
void sl_channel_free(sl_channel *ch);

/* ----------------------------------------------------------------- serve */

/*
** Answer EventLogRequests for one store. Requests are answered as
** Spacedrive's handler answers them -- the store's own device's events,
** newest first (equal instants in ascending id), in [since, now] on this
** server's clock (a row dated later is never sent, whether or not since is
** given: spacedrive-compat.md 10.4), event types / correlation id / limit,
** UUIDs in every spelling serde reads -- with synclua's refinements: at
** most max_events per response (then "next" to page from, never between
** two events of one instant unless they fill a page), a frame never over
** max_frame bytes nor over max_decode bytes to decode (sl_decode_cost: a
** client refuses more), a request over SL_MAX_REQUEST refused before it is
** read, unknown event types reported back (and matching nothing, instead
** of lifting the filter), a request for another library refused.
**
** Who holds what. Until its handshake is through, a connection is a
** stranger's: strangers have a budget of their own (max_unauthenticated at
** once, max_per_address of them from one address) and timeouts.handshake_ms
** from the accept to be through it. One that has sent nothing yet waits in
** the accepting thread and costs no thread; the first byte moves it to a
** thread of its own for the handshake. A new connection over either cap
** takes the place of the oldest that is still silent (which is dropped),
** or is refused when none is. Only a connection through the handshake
** takes one of the max_clients slots (more are refused), so a flood of
** silent sockets never holds a slot a key holder needs; each client slot
** has its thread, so a slow client holds up no other.
**
** What is said. One line to `log` per request answered and per failure of
** a client that holds the key. What happens to strangers (refused, dropped,
** a handshake failed or timed out) is said at most once per address per
** refusal_interval_ms: the first at once ("127.0.0.1:5000: handshake
** failed: timed out in the handshake"), the rest counted and said when the
** interval ends, or when the server stops ("127.0.0.1: 1523 more
** connections refused in 10.0 s (the last: dropped: silent while newer
** connections waited)"); at most 64 addresses are told apart in an
** interval, the rest are counted together ("... refused from other
** addresses ..."). The reasons: "refused: already serving N clients",
** "refused: already N unauthenticated connections[ from this address]",
** "dropped: silent while newer connections waited", "handshake failed:
** <why>".
**
** A follow request (above, "Following") is one request served for what
** is stored, whatever it streams, and two lines: "127.0.0.1:5000: device D
** follows: sent N events up to event M, streaming from there (heartbeat H
** ms)" (or "follows, resuming after event M (heartbeat H ms)"), and at its
** end "127.0.0.1:5000: device D stopped following (WHY): N events
** streamed in 12.3 s, up to event M". Each stream holds a client slot and
** a watch of the store (inotify; without one it looks every heartbeat).
** sl_server_stop ends streams at once.
**
** What is stored. Requests served are logged in the store as
** backfill_request_received events (network, debug) from the requesting
** device, model type "sync_event_log", aggregated per requester as the
** batch aggregator aggregates records: a requester's first request is
** logged at once, with the request in details ({"correlation_id",
** "event_types", "limit", "more", "remote", "request", "requests": 1,
** "since", "unknown_event_types"}) and its count in record_count; the
** requests that follow within served_interval_ms are summed into one event
** when the interval ends (details {"cut_short": requests answered with
** "next", "remote": the last one's, "request", "requests": N},
** record_count the events sent, duration_ms the time taken), and so on each
** interval while they keep coming. At most 64 requesters are told apart in
** an interval, the others summed into one event without a peer; so a key
** holder adds at most 129 rows per interval, however fast it asks.
*/
typedef struct sl_server sl_server;

typedef struct sl_server_opts {
  const char    *db_path;             /* the store served                   */
  const char    *listen;              /* "HOST:PORT"; port 0 picks one      */
  const unsigned char *key;           /* SL_KEY_BYTES                       */
  const char    *library_id;          /* NULL: sl_key_library_id(key)       */
  const char    *device_id;           /* NULL: the device of the store's
                                         newest row                         */
  int            max_clients;         /* through the handshake at once;
                                         0: 64                              */
  uint32_t       max_events;          /* 0: SL_MAX_EVENTS                   */
  size_t         max_frame;           /* 0: SL_MAX_FRAME                    */
  sl_timeouts    timeouts;            /* handshake_ms 0: 2000               */
  /* Lines of what happened (requests, refusals), from any thread. */
  void         (*log)(void *ud, const char *line);
  void          *log_ud;
  int            max_unauthenticated; /* connections not through the
                                         handshake at once; 0: 32           */
  int            max_per_address;     /* of those, from one address; 0: 4   */
  int            refusal_interval_ms; /* strangers' lines per address at
                                         most one per; 0: 10000             */
  int            served_interval_ms;  /* served-request events per
                                         requester at most one per;
                                         0: 30000                           */
  size_t         max_decode;          /* a response's decode cost at most;
                                         0 (or more): SL_MAX_DECODE         */
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
** their threads, log what is still counted (the strangers' lines, the
** served-request events) and flush the store. Blocks; SL_OK, or the
** status of the flush. */
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
** than asked, events of a device other than the responding one, a frame
** that would cost more than SL_MAX_DECODE bytes to decode -- leaves the
** others unharmed. So does one that takes too long: each peer has
** t->total_ms (default SL_FETCH_DEADLINE_MS) from its connect to its last
** page, and max_pages responses; one that needs more is stopped there,
** with what it sent so far kept in its store and counted in its record
** ("did not finish within the deadline of 600 s: 3 responses, 120
** events so far", SL_TIMEOUT; "needed more than 10000 responses (the cap
** on pages): 10000 events so far", SL_ERROR).
** Decoding holds one response at a time: a peer costs at most
** SL_MAX_FRAME + SL_MAX_DECODE bytes, whatever it sends. Each dest must be
** a different store. Blocks until every peer is done; SL_OK, or the
** status of the first peer that failed (each peer's on its record).
*/
#define SL_FETCH_DEADLINE_MS 600000   /* 10 minutes a peer                  */
#define SL_FETCH_MAX_PAGES   10000    /* responses from one peer            */

typedef struct sl_fetch_peer {
  const char   *address;              /* "HOST:PORT"                        */
  sl_store     *dest;                 /* where its events go                */
  int           max_pages;            /* responses at most; 0:
                                         SL_FETCH_MAX_PAGES                 */
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

/* ---------------------------------------------------------------- follow */

/*
** Follow peers: a thread per peer keeps a follow stream open (above,
** "Following") and stores every event it is sent in that peer's store as
** sl_fetch stores them (skipping duplicates; the first answer's pages
** oldest first, equal instants in the order sent; streamed frames in the
** order sent, oldest first by the peer's row id). Each thread remembers
** the mark of the last frame it stored, and when its connection is lost
** -- reset, refused, closed by the peer, or silent for more than 3 x the
** heartbeat, which is how a dead peer is noticed -- it connects again
** after a pause (250 ms, doubling up to 8 s, back to 250 ms once a stream
** is on again) and resumes after that mark: nothing stored twice, nothing
** missed. What ends a peer for good: its key or library is not ours, it
** sends garbage (as sl_fetch says it), its store cannot be written, or a
** malformed address; and a peer that does not stream (Spacedrive, or a
** synclua too old to follow: a response without a mark), whose answer is
** kept and reported once. The connection has no deadline of its own
** (timeouts total_ms is not used); handshake_ms is each connect's and each
** handshake's, io_ms each frame's once begun; idle_ms is 3 x the heartbeat.
**
** What happens is said in lines queued for the caller (sl_fetch_follow_lines),
** each "peer HOST:PORT: ...":
**     following device D: N events, up to event M
**     resumed after event M
**     connection lost (WHY), reconnecting in 0.5 s
**     cannot connect (WHY), trying again in 1 s
**     connection lost (silent for 3 s: no heartbeat), reconnecting in 0.25 s
**     does not stream: it answered once (N events) without a mark; not
**       reconnecting
**     stopped: WHY                       (a failure that ends the peer)
** At most SL_FOLLOW_LINES_MAX lines wait; more are counted, and the next
** take begins with "N status lines were dropped".
*/
#define SL_FOLLOW_LINES_MAX 1024

typedef enum sl_follow_state {
  SL_FOLLOW_CONNECTING = 1,     /* connecting, or waiting to reconnect     */
  SL_FOLLOW_STREAMING,          /* its stream is on                        */
  SL_FOLLOW_ANSWERED,           /* does not stream: its answer kept, done  */
  SL_FOLLOW_FAILED,             /* ended by a failure: status, errmsg      */
  SL_FOLLOW_STOPPED             /* ended by sl_fetch_follow_stop           */
} sl_follow_state;

typedef struct sl_follow_peer {
  const char   *address;              /* "HOST:PORT" (copied at the start;
                                         in results, the copy: valid until
                                         sl_fetch_follow_free)              */
  sl_store     *dest;                 /* where its events go: the peer's
                                         thread's from start to stop        */
  /* results */
  sl_follow_state state;
  int           status;               /* SL_OK, or why it failed            */
  char          errmsg[256];          /* the last failure, retried or not   */
  char          responding_device[SL_UUID_BUFSZ];
  int64_t       received;             /* events in its frames               */
  int64_t       inserted;             /* new rows in dest                   */
  int64_t       reconnects;           /* connections tried after the first  */
  int           has_mark;
  int64_t       mark;                 /* the peer's row id to resume after  */
} sl_follow_peer;

typedef struct sl_fetch_follow sl_fetch_follow;

/* Start following: copies peers (addresses too), req (which must not ask
** for "before" or carry its own "follow"), the key and timeouts; the dest
** stores are retained, and each is its thread's until sl_fetch_follow_stop
** (the caller must not use it meanwhile; another handle on the same file
** may read it). heartbeat_ms from SL_HEARTBEAT_MIN_MS to _MAX_MS (0:
** 5000). Does not block. SL_OK and *out; SL_MISUSE (a NULL or shared
** dest, a bad heartbeat), SL_NOMEM or SL_ERROR (no thread) with the
** message in err and *out NULL. */
int sl_fetch_follow_start(const sl_follow_peer *peers, size_t n,
                          const sl_request *req,
                          const unsigned char key[SL_KEY_BYTES],
                          const sl_timeouts *t, int heartbeat_ms,
                          sl_fetch_follow **out, char *err, size_t errsz);
/* Take the queued status lines, each ending "\n", appended to out; the
** number taken. Never blocks (beyond a lock held for a copy); any thread. */
size_t sl_fetch_follow_lines(sl_fetch_follow *f, sl_buf *out);
/* Wait until a line is queued or events stored since the last wait:
** SL_OK; SL_DONE when timeout_ms (-1: none) passed first, or at once when
** no peer is following any longer and nothing is new. Blocks at most
** timeout_ms. */
int sl_fetch_follow_wait(sl_fetch_follow *f, int timeout_ms);
/* The peers' records as they stand (n of them into out). Never blocks. */
void sl_fetch_follow_peers(sl_fetch_follow *f, sl_follow_peer *out);
/* End every thread and wait for them: within about 100 ms (the time a
** store insert takes to finish), except that a connect under way is not
** interrupted (it ends within its timeout, handshake_ms). The records go
** into out (NULL: not wanted); those still following are made
** SL_FOLLOW_STOPPED. Idempotent; SL_OK. */
int sl_fetch_follow_stop(sl_fetch_follow *f, sl_follow_peer *out);
/* Stop (if need be) and free; releases the dest stores. NULL is fine. */
void sl_fetch_follow_free(sl_fetch_follow *f);

#endif
