/*
** sl_net.c -- TCP sockets for the protocol: addresses as "HOST:PORT" (or
** "[V6]:PORT"), a listening socket, and a connect that gives up after a
** deadline instead of the kernel's minutes.
*/
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sli.h"

/* Split "HOST:PORT" / "[HOST]:PORT". 0, or -1 with a message. */
static int split(const char *address, char *host, size_t hostsz, char *port,
                 size_t portsz, char *err, size_t errsz) {
  const char *colon, *h = address;
  size_t hlen;
  if (!address || !*address) {
    snprintf(err, errsz, "empty address: expected HOST:PORT");
    return -1;
  }
  if (*address == '[') {
    const char *close = strchr(address, ']');
    if (!close || close[1] != ':') goto bad;
    h = address + 1;
    hlen = (size_t)(close - h);
    colon = close + 1;
  } else {
    colon = strrchr(address, ':');
    if (!colon || strchr(address, ':') != colon) goto bad;
    hlen = (size_t)(colon - address);
  }
  if (hlen == 0 || hlen >= hostsz || strlen(colon + 1) >= portsz) goto bad;
  const char *p = colon + 1;
  if (!*p) goto bad;
  for (const char *q = p; *q; q++)
    if (*q < '0' || *q > '9') goto bad;
  if (strlen(p) > 5 || atoi(p) > 65535) goto bad;
  memcpy(host, h, hlen);
  host[hlen] = '\0';
  snprintf(port, portsz, "%s", p);
  return 0;
bad:
  snprintf(err, errsz, "address '%s': expected HOST:PORT (a port from 0 "
           "to 65535; [HOST]:PORT for IPv6)", address);
  return -1;
}

static void name_of(const struct sockaddr *sa, char *out, size_t outsz) {
  char host[INET6_ADDRSTRLEN] = "?";
  unsigned port = 0;
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    port = ntohs(in->sin_port);
    snprintf(out, outsz, "%s:%u", host, port);
  } else if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *in6 =
        (const struct sockaddr_in6 *)(const void *)sa;
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
    port = ntohs(in6->sin6_port);
    snprintf(out, outsz, "[%s]:%u", host, port);
  } else {
    snprintf(out, outsz, "?");
  }
}

/* NULL with the message in err; *malformed set when the address is no
** HOST:PORT (bad input, not the system failing). */
static struct addrinfo *resolve(const char *address, int passive,
                                int *malformed, char *err, size_t errsz) {
  char host[256], port[8];
  struct addrinfo hints, *res = NULL;
  *malformed = split(address, host, sizeof host, port, sizeof port, err,
                     errsz) != 0;
  if (*malformed) return NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = passive ? AI_PASSIVE : 0;
  int rc = getaddrinfo(host, port, &hints, &res);
  if (rc != 0) {
    snprintf(err, errsz, "address '%s': %s", address, gai_strerror(rc));
    return NULL;
  }
  return res;
}

int sli_listen(const char *address, char *bound, size_t boundsz, char *err,
               size_t errsz) {
  int malformed;
  struct addrinfo *res = resolve(address, 1, &malformed, err, errsz), *ai;
  int fd = -1, one = 1;
  if (!res) return malformed ? -2 : -1;
  snprintf(err, errsz, "address '%s': nothing to listen on", address);
  for (ai = res; ai; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
                ai->ai_protocol);
    if (fd < 0) continue;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 128) == 0)
      break;
    snprintf(err, errsz, "cannot listen on %s: %s", address,
             strerror(errno));
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd >= 0) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &len);
    name_of((struct sockaddr *)&ss, bound, boundsz);
  }
  return fd;
}

int sli_connect(const char *address, int timeout_ms, char *err,
                size_t errsz) {
  int malformed;
  struct addrinfo *res = resolve(address, 0, &malformed, err, errsz), *ai;
  int fd = -1, one = 1;
  if (!res) return malformed ? -2 : -1;
  for (ai = res; ai; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                ai->ai_protocol);
    if (fd < 0) {
      snprintf(err, errsz, "socket: %s", strerror(errno));
      continue;
    }
    int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      struct pollfd p = {fd, POLLOUT, 0};
      int n, left = timeout_ms;
      int64_t t0 = sli_mono_ms();
      /* An interrupted wait goes on for what is left, not the whole. */
      while ((n = poll(&p, 1, left)) < 0 && errno == EINTR) {
        left = timeout_ms - (int)(sli_mono_ms() - t0);
        if (left < 0) left = 0;
      }
      if (n == 0) {
        errno = ETIMEDOUT;
      } else if (n < 0) {
        rc = -1; /* errno from poll */
      } else {
        int soerr = 0;
        socklen_t len = sizeof soerr;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
        errno = soerr;
        rc = soerr ? -1 : 0;
      }
    }
    if (rc == 0) {
      /* Requests are small and latency matters more than packet count. */
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      break;
    }
    snprintf(err, errsz, "cannot connect to %s: %s", address,
             errno == ETIMEDOUT ? "timed out" : strerror(errno));
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  return fd;
}

void sli_peer_name(int fd, char *out, size_t outsz) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getpeername(fd, (struct sockaddr *)&ss, &len) != 0) {
    snprintf(out, outsz, "?");
    return;
  }
  name_of((struct sockaddr *)&ss, out, outsz);
}
