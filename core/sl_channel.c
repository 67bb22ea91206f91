/*
** sl_channel.c -- the authenticated, encrypted channel the protocol's
** frames travel in, over one TCP connection.
**
** Handshake (fixed sizes, so a reader never allocates on a stranger's say):
**   client -> server  "synclua1" Nc                          40 bytes
**   server -> client  "synclua1" Ns HMAC(K, "server" Nc Ns)  72 bytes
**   client -> server  HMAC(K, "client" Nc Ns) client header  56 bytes
**   server -> client  server header                          24 bytes
** Nc and Ns are fresh random 32-byte nonces, K the library's key, the
** HMAC libsodium's HMAC-SHA-256; the labels keep one side's proof from
** being reflected as the other's, the fresh nonces keep a recorded
** handshake from being replayed. The session key is HMAC(K, "session" Nc
** Ns), split by crypto_kdf into one key per direction, each driving a
** crypto_secretstream_xchacha20poly1305 stream whose header is sent above.
**
** After it, the bytes of Spacedrive's frames (4-byte big-endian length,
** then JSON) travel in records: a 4-byte big-endian length, then a
** secretstream message of at most SL_RECORD_MAX plaintext bytes. Every
** read and write has a deadline (poll on a non-blocking socket), so a
** silent peer costs a thread its timeout, never more; and no wait goes past
** the connection's own deadline (total_ms), so neither does a peer that
** answers just in time, forever.
*/
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sli.h"

#define MAGIC       "synclua1"
#define MAGIC_LEN   8
#define NONCE_LEN   32
#define PROOF_LEN   crypto_auth_hmacsha256_BYTES
#define HEADER_LEN  crypto_secretstream_xchacha20poly1305_HEADERBYTES
#define ABYTES      crypto_secretstream_xchacha20poly1305_ABYTES

typedef crypto_secretstream_xchacha20poly1305_state stream_state;

struct sl_channel {
  int            fd;
  sl_timeouts    t;
  stream_state   tx, rx;
  unsigned char *cipher;      /* one record's ciphertext                    */
  unsigned char *plain;       /* its plaintext, and the bytes not yet framed */
  unsigned char *stage;       /* plaintext of the record being sent         */
  size_t         plain_len, plain_pos;
  sl_framer      framer;
  int64_t        end;         /* total_ms from the start, on now_ms's clock;
                                 0: none                                  */
  char           errmsg[256];
};

static int fail(sl_channel *ch, int status, const char *fmt, ...)
#ifdef __GNUC__
  __attribute__((format(printf, 3, 4)))
#endif
  ;

static int fail(sl_channel *ch, int status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(ch->errmsg, sizeof ch->errmsg, fmt, ap);
  va_end(ap);
  return status;
}

/* Wait until fd is ready for `events` or the deadline passes (or the
** connection's, if it comes first: then the message says so). */
static int wait_fd(sl_channel *ch, short events, int64_t deadline,
                   const char *doing) {
  int whole = ch->end && ch->end < deadline;
  if (whole) deadline = ch->end;
  for (;;) {
    int64_t left = deadline - sli_mono_ms();
    if (left <= 0 && whole)
      return fail(ch, SL_IOERR, "past the deadline of the connection (%d "
                  "ms) %s", ch->t.total_ms, doing);
    if (left <= 0)
      return fail(ch, SL_IOERR, "timed out %s", doing);
    struct pollfd p = {ch->fd, events, 0};
    int n = poll(&p, 1, left > 60000 ? 60000 : (int)left);
    if (n > 0) return SL_OK;
    if (n < 0 && errno != EINTR)
      return fail(ch, SL_IOERR, "%s: %s", doing, strerror(errno));
  }
}

/* Read exactly n bytes by `deadline`. SL_DONE when the peer closed before
** the first byte and eof_ok. */
static int read_full(sl_channel *ch, void *buf, size_t n, int64_t deadline,
                     int eof_ok, const char *doing) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = recv(ch->fd, (char *)buf + got, n - got, 0);
    if (r > 0) { got += (size_t)r; continue; }
    if (r == 0) {
      if (got == 0 && eof_ok) return SL_DONE;
      return fail(ch, SL_IOERR, "connection closed %s", doing);
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK)
      return fail(ch, SL_IOERR, "%s: %s", doing, strerror(errno));
    int rc = wait_fd(ch, POLLIN, deadline, doing);
    if (rc != SL_OK) return rc;
  }
  return SL_OK;
}

static int write_full(sl_channel *ch, const void *buf, size_t n,
                      int64_t deadline) {
  size_t put = 0;
  while (put < n) {
    ssize_t w = send(ch->fd, (const char *)buf + put, n - put, MSG_NOSIGNAL);
    if (w > 0) { put += (size_t)w; continue; }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
      return fail(ch, SL_IOERR, "sending: %s", strerror(errno));
    int rc = wait_fd(ch, POLLOUT, deadline, "sending");
    if (rc != SL_OK) return rc;
  }
  return SL_OK;
}

static int64_t after(int ms) { return sli_mono_ms() + ms; }

/* ---------------------------------------------------------- handshake */

static void proof(unsigned char out[PROOF_LEN], const char *label,
                  const unsigned char *nc, const unsigned char *ns,
                  const unsigned char *key) {
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, key, SL_KEY_BYTES);
  crypto_auth_hmacsha256_update(&st, (const unsigned char *)label,
                                strlen(label));
  crypto_auth_hmacsha256_update(&st, nc, NONCE_LEN);
  crypto_auth_hmacsha256_update(&st, ns, NONCE_LEN);
  crypto_auth_hmacsha256_final(&st, out);
}

/* One key per direction: subkey 1 client to server, 2 server to client. */
static void session_keys(unsigned char c2s[SL_KEY_BYTES],
                         unsigned char s2c[SL_KEY_BYTES],
                         const unsigned char *nc, const unsigned char *ns,
                         const unsigned char *key) {
  unsigned char master[PROOF_LEN];
  proof(master, "session", nc, ns, key);
  crypto_kdf_derive_from_key(c2s, SL_KEY_BYTES, 1, MAGIC, master);
  crypto_kdf_derive_from_key(s2c, SL_KEY_BYTES, 2, MAGIC, master);
  sodium_memzero(master, sizeof master);
}

static void fill_timeouts(sl_timeouts *t, const sl_timeouts *given) {
  if (given) *t = *given;
  else memset(t, 0, sizeof *t);
  if (t->handshake_ms <= 0) t->handshake_ms = 5000;
  if (t->idle_ms <= 0) t->idle_ms = 30000;
  if (t->io_ms <= 0) t->io_ms = 10000;
}

static int channel_new(int fd, const sl_timeouts *t, sl_channel **out,
                       char *err, size_t errsz) {
  sl_channel *ch;
  *out = NULL;
  if (sodium_init() < 0) {
    snprintf(err, errsz, "libsodium failed to initialise");
    return SL_ERROR;
  }
  ch = calloc(1, sizeof *ch);
  if (ch) {
    ch->cipher = malloc(4 + SL_RECORD_MAX + ABYTES);
    ch->plain = malloc(SL_RECORD_MAX);
    ch->stage = malloc(SL_RECORD_MAX);
  }
  if (!ch || !ch->cipher || !ch->plain || !ch->stage) {
    if (ch) { free(ch->cipher); free(ch->plain); free(ch->stage); free(ch); }
    snprintf(err, errsz, "out of memory");
    return SL_NOMEM;
  }
  ch->fd = fd;
  fill_timeouts(&ch->t, t);
  if (ch->t.total_ms > 0) ch->end = sli_mono_ms() + ch->t.total_ms;
  sl_framer_init(&ch->framer, SL_MAX_FRAME);
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    snprintf(err, errsz, "socket: %s", strerror(errno));
    sl_channel_free(ch);
    return SL_IOERR;
  }
  *out = ch;
  return SL_OK;
}

/* Finish a handshake: report failure in err and free the channel. */
static int handshake_done(sl_channel *ch, int rc, sl_channel **out,
                          char *err, size_t errsz) {
  if (rc == SL_OK) { *out = ch; return SL_OK; }
  snprintf(err, errsz, "%s", ch->errmsg);
  sl_channel_free(ch);
  *out = NULL;
  return rc;
}

int sl_channel_client(int fd, const unsigned char key[SL_KEY_BYTES],
                      const sl_timeouts *t, sl_channel **out,
                      char *err, size_t errsz) {
  unsigned char hello[MAGIC_LEN + NONCE_LEN];
  unsigned char reply[MAGIC_LEN + NONCE_LEN + PROOF_LEN];
  unsigned char finish[PROOF_LEN + HEADER_LEN], theirs[HEADER_LEN];
  unsigned char expect[PROOF_LEN], c2s[SL_KEY_BYTES], s2c[SL_KEY_BYTES];
  sl_channel *ch;
  int rc = channel_new(fd, t, &ch, err, errsz);
  if (rc != SL_OK) return rc;
  int64_t deadline = after(ch->t.handshake_ms);
  const unsigned char *nc = hello + MAGIC_LEN, *ns = reply + MAGIC_LEN;

  memcpy(hello, MAGIC, MAGIC_LEN);
  randombytes_buf(hello + MAGIC_LEN, NONCE_LEN);
  rc = write_full(ch, hello, sizeof hello, deadline);
  if (rc == SL_OK)
    rc = read_full(ch, reply, sizeof reply, deadline, 0, "in the handshake");
  if (rc == SL_OK && memcmp(reply, MAGIC, MAGIC_LEN) != 0)
    rc = fail(ch, SL_INVALID, "not a synclua peer (handshake)");
  if (rc == SL_OK) {
    proof(expect, "server", nc, ns, key);
    if (sodium_memcmp(expect, reply + MAGIC_LEN + NONCE_LEN, PROOF_LEN) != 0)
      rc = fail(ch, SL_INVALID, "the peer does not hold this library's key "
                "(its handshake proof does not verify)");
  }
  if (rc == SL_OK) {
    session_keys(c2s, s2c, nc, ns, key);
    proof(finish, "client", nc, ns, key);
    crypto_secretstream_xchacha20poly1305_init_push(&ch->tx,
                                                    finish + PROOF_LEN, c2s);
    rc = write_full(ch, finish, sizeof finish, deadline);
  }
  if (rc == SL_OK)
    rc = read_full(ch, theirs, sizeof theirs, deadline, 0,
                   "in the handshake (the peer refused our key?)");
  if (rc == SL_OK &&
      crypto_secretstream_xchacha20poly1305_init_pull(&ch->rx, theirs, s2c))
    rc = fail(ch, SL_INVALID, "bad stream header in the handshake");
  sodium_memzero(c2s, sizeof c2s);
  sodium_memzero(s2c, sizeof s2c);
  return handshake_done(ch, rc, out, err, errsz);
}

int sl_channel_server(int fd, const unsigned char key[SL_KEY_BYTES],
                      const sl_timeouts *t, sl_channel **out,
                      char *err, size_t errsz) {
  unsigned char hello[MAGIC_LEN + NONCE_LEN];
  unsigned char reply[MAGIC_LEN + NONCE_LEN + PROOF_LEN];
  unsigned char finish[PROOF_LEN + HEADER_LEN], ours[HEADER_LEN];
  unsigned char expect[PROOF_LEN], c2s[SL_KEY_BYTES], s2c[SL_KEY_BYTES];
  sl_channel *ch;
  int rc = channel_new(fd, t, &ch, err, errsz);
  if (rc != SL_OK) return rc;
  int64_t deadline = after(ch->t.handshake_ms);
  const unsigned char *nc = hello + MAGIC_LEN, *ns = reply + MAGIC_LEN;

  rc = read_full(ch, hello, sizeof hello, deadline, 0, "in the handshake");
  if (rc == SL_OK && memcmp(hello, MAGIC, MAGIC_LEN) != 0)
    rc = fail(ch, SL_INVALID, "not a synclua client (handshake)");
  if (rc == SL_OK) {
    memcpy(reply, MAGIC, MAGIC_LEN);
    randombytes_buf(reply + MAGIC_LEN, NONCE_LEN);
    proof(reply + MAGIC_LEN + NONCE_LEN, "server", nc, ns, key);
    rc = write_full(ch, reply, sizeof reply, deadline);
  }
  if (rc == SL_OK)
    rc = read_full(ch, finish, sizeof finish, deadline, 0,
                   "in the handshake (the client refused our key?)");
  if (rc == SL_OK) {
    proof(expect, "client", nc, ns, key);
    if (sodium_memcmp(expect, finish, PROOF_LEN) != 0)
      rc = fail(ch, SL_INVALID, "the client does not hold this library's "
                "key (its handshake proof does not verify)");
  }
  if (rc == SL_OK) {
    session_keys(c2s, s2c, nc, ns, key);
    if (crypto_secretstream_xchacha20poly1305_init_pull(
            &ch->rx, finish + PROOF_LEN, c2s) != 0)
      rc = fail(ch, SL_INVALID, "bad stream header in the handshake");
  }
  if (rc == SL_OK) {
    crypto_secretstream_xchacha20poly1305_init_push(&ch->tx, ours, s2c);
    rc = write_full(ch, ours, sizeof ours, deadline);
  }
  sodium_memzero(c2s, sizeof c2s);
  sodium_memzero(s2c, sizeof s2c);
  return handshake_done(ch, rc, out, err, errsz);
}

/* ------------------------------------------------------------ records */

static int send_record(sl_channel *ch, const unsigned char *m, size_t n,
                       int64_t deadline) {
  unsigned long long clen = 0;
  crypto_secretstream_xchacha20poly1305_push(
      &ch->tx, ch->cipher + 4, &clen, m, n, NULL, 0,
      crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
  ch->cipher[0] = (unsigned char)(clen >> 24);
  ch->cipher[1] = (unsigned char)(clen >> 16);
  ch->cipher[2] = (unsigned char)(clen >> 8);
  ch->cipher[3] = (unsigned char)clen;
  return write_full(ch, ch->cipher, 4 + (size_t)clen, deadline);
}

int sl_channel_send(sl_channel *ch, const char *json, size_t len) {
  unsigned char *stage;
  size_t fill, sent = 0, room = SL_RECORD_MAX;
  int rc = SL_OK;
  if (!ch) return SL_MISUSE;
  if (len > UINT32_MAX)
    return fail(ch, SL_INVALID, "frame of %zu bytes is too long", len);
  /* The length travels in the first record with the start of the JSON. */
  stage = ch->stage;
  stage[0] = (unsigned char)(len >> 24);
  stage[1] = (unsigned char)(len >> 16);
  stage[2] = (unsigned char)(len >> 8);
  stage[3] = (unsigned char)len;
  fill = 4;
  do {
    size_t take = len - sent < room - fill ? len - sent : room - fill;
    memcpy(stage + fill, json + sent, take);
    sent += take;
    rc = send_record(ch, stage, fill + take, after(ch->t.io_ms));
    fill = 0;
  } while (rc == SL_OK && sent < len);
  return rc;
}

/* Read and open the next record into ch->plain: its length by `deadline`,
** the rest by `body_deadline` (0: the I/O timeout from its length on). */
static int recv_record(sl_channel *ch, int64_t deadline,
                       int64_t body_deadline, int eof_ok) {
  unsigned char len4[4], tag = 0;
  unsigned long long mlen = 0;
  int rc = read_full(ch, len4, 4, deadline, eof_ok, "waiting for a record");
  if (rc != SL_OK) return rc;
  uint32_t clen = (uint32_t)len4[0] << 24 | (uint32_t)len4[1] << 16 |
                  (uint32_t)len4[2] << 8 | len4[3];
  if (clen < ABYTES || clen > SL_RECORD_MAX + ABYTES)
    return fail(ch, SL_INVALID, "record of %u bytes is out of bounds "
                "(%u to %u)", (unsigned)clen, (unsigned)ABYTES,
                (unsigned)(SL_RECORD_MAX + ABYTES));
  if (body_deadline == 0) body_deadline = after(ch->t.io_ms);
  rc = read_full(ch, ch->cipher, clen, body_deadline, 0,
                 "in the middle of a record");
  if (rc != SL_OK) return rc;
  if (crypto_secretstream_xchacha20poly1305_pull(&ch->rx, ch->plain, &mlen,
                                                 &tag, ch->cipher, clen,
                                                 NULL, 0) != 0)
    return fail(ch, SL_INVALID, "a record failed authentication (tampered, "
                "replayed or out of order)");
  if (tag != crypto_secretstream_xchacha20poly1305_TAG_MESSAGE)
    return fail(ch, SL_INVALID, "a record carries an unexpected tag");
  ch->plain_len = (size_t)mlen;
  ch->plain_pos = 0;
  return SL_OK;
}

/* A frame, once begun, must arrive whole within the I/O timeout plus a
** second for every 64 KiB it announces (at least 64 KiB/s): a peer that
** trickles a byte a record cannot hold a connection for longer. */
static int64_t frame_deadline(const sl_channel *ch, int64_t started) {
  int64_t d = started + ch->t.io_ms;
  if (ch->framer.head_len == 4) d += (int64_t)(ch->framer.need >> 16) * 1000;
  return d;
}

int sl_channel_recv(sl_channel *ch, sl_buf *out, size_t max_frame) {
  char err[160];
  /* The wait for a frame to begin is one deadline, whatever empty records
  ** come meanwhile; the frame's own starts with its first byte. */
  int64_t idle_deadline, started = 0;
  if (!ch || !out) return SL_MISUSE;
  idle_deadline = after(ch->t.idle_ms);
  ch->framer.max_frame = max_frame ? max_frame : SL_MAX_FRAME;
  sl_framer_next(&ch->framer);
  for (;;) {
    if (ch->plain_pos < ch->plain_len) {
      size_t used = 0;
      int rc = sl_framer_push(&ch->framer, ch->plain + ch->plain_pos,
                              ch->plain_len - ch->plain_pos, &used, err,
                              sizeof err);
      ch->plain_pos += used;
      if (rc != SL_OK) return fail(ch, rc, "%s", err);
      if (ch->framer.ready) {
        sl_buf swap = *out;
        *out = ch->framer.frame;
        ch->framer.frame = swap;
        sl_framer_next(&ch->framer);
        if (ch->plain_pos == ch->plain_len) ch->plain_len = ch->plain_pos = 0;
        return SL_OK;
      }
      ch->plain_len = ch->plain_pos = 0;
    }
    int between = sl_framer_pending(&ch->framer) == 0;
    if (!between && started == 0) started = sli_mono_ms();
    int64_t deadline = between ? idle_deadline : frame_deadline(ch, started);
    int rc = recv_record(ch, deadline, between ? 0 : deadline, between);
    if (rc != SL_OK) return rc;
  }
}

const char *sl_channel_errmsg(const sl_channel *ch) {
  return ch ? ch->errmsg : "out of memory";
}

void sl_channel_free(sl_channel *ch) {
  if (!ch) return;
  sodium_memzero(&ch->tx, sizeof ch->tx);
  sodium_memzero(&ch->rx, sizeof ch->rx);
  sl_framer_free(&ch->framer);
  free(ch->cipher);
  free(ch->plain);
  free(ch->stage);
  free(ch);
}
