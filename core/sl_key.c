/*
** sl_key.c -- the library's pre-shared key: made from the system's random
** source, kept as 64 hex digits in a file only its owner can read, and
** the library id it stands for when a device is not told one.
*/
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sli.h"

void sl_key_generate(unsigned char key[SL_KEY_BYTES]) {
  /* randombytes needs it; it only fails where it could not run at all. */
  if (sodium_init() < 0) abort();
  randombytes_buf(key, SL_KEY_BYTES);
}

void sl_key_hex(const unsigned char key[SL_KEY_BYTES],
                char hex[SL_KEY_HEXSZ]) {
  sodium_bin2hex(hex, SL_KEY_HEXSZ, key, SL_KEY_BYTES);
}

int sl_key_read(const char *path, unsigned char key[SL_KEY_BYTES],
                char *err, size_t errsz) {
  char text[2 * SL_KEY_BYTES + 3];
  struct stat st;
  size_t len = 0, bin_len = 0;
  const char *end = NULL;
  ssize_t got;
  /* Non-blocking: a FIFO given as the key file must not hang us before
  ** the check below refuses it. */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    snprintf(err, errsz, "key file %s: %s", path, strerror(errno));
    return errno == ENOENT ? SL_NOTFOUND : SL_IOERR;
  }
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    snprintf(err, errsz, "key file %s: not a regular file", path);
    close(fd);
    return SL_INVALID;
  }
  /* A key others can read is a key others hold (ssh refuses the same). */
  if (st.st_mode & (S_IRWXG | S_IRWXO)) {
    snprintf(err, errsz, "key file %s: readable by others (mode %04o); "
             "chmod 600 %s", path, (unsigned)(st.st_mode & 07777), path);
    close(fd);
    return SL_INVALID;
  }
  while (len < sizeof text &&
         (got = read(fd, text + len, sizeof text - len)) != 0) {
    if (got < 0) {
      if (errno == EINTR) continue;
      snprintf(err, errsz, "key file %s: %s", path, strerror(errno));
      close(fd);
      sodium_memzero(text, sizeof text);
      return SL_IOERR;
    }
    len += (size_t)got;
  }
  close(fd);
  if (len > 0 && text[len - 1] == '\n') len--;
  if (len != 2 * SL_KEY_BYTES ||
      sodium_hex2bin(key, SL_KEY_BYTES, text, len, NULL, &bin_len, &end) != 0 ||
      bin_len != SL_KEY_BYTES || end != text + len) {
    sodium_memzero(text, sizeof text);
    sodium_memzero(key, SL_KEY_BYTES);
    snprintf(err, errsz, "key file %s: expected 64 hexadecimal digits and "
             "a newline (synclua keygen writes one)", path);
    return SL_INVALID;
  }
  sodium_memzero(text, sizeof text);
  return SL_OK;
}

void sl_key_library_id(const unsigned char key[SL_KEY_BYTES],
                       char id[SL_UUID_BUFSZ]) {
  static const unsigned char label[] = "synclua library id";
  unsigned char h[16];
  static const char hexd[] = "0123456789abcdef";
  crypto_generichash(h, sizeof h, label, sizeof label - 1, key,
                     SL_KEY_BYTES);
  h[6] = (unsigned char)((h[6] & 0x0f) | 0x80); /* RFC 9562 version 8 */
  h[8] = (unsigned char)((h[8] & 0x3f) | 0x80); /* variant 10 */
  char *o = id;
  for (int i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10) *o++ = '-';
    *o++ = hexd[h[i] >> 4];
    *o++ = hexd[h[i] & 15];
  }
  *o = '\0';
}
