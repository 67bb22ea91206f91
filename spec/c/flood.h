/*
** flood.h -- strangers flooding a server: sockets opened and left silent,
** each opened again as soon as the server closes it, from a chosen
** loopback address, in a thread of their own. test_net.c counts on it
** that a key holder still gets in; bench/fetch.c times the same flood
** against `synclua serve`. One copy, so the test checks the flood the
** bench measures.
*/
#ifndef FLOOD_H
#define FLOOD_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* `sockets` at once, from `from` (a loopback address: the whole of 127/8
** is ours; NULL: whatever the kernel picks) to the port of `address`. */
typedef struct flood {
  char            address[64];    /* "127.0.0.1:PORT"                       */
  const char     *from;
  int             sockets;
  pthread_mutex_t lock;
  int             stop;           /* under lock                             */
  long            opened;         /* connections made                       */
  pthread_t       tid;
} flood;

static inline int flood_stopped(flood *f) {
  pthread_mutex_lock(&f->lock);
  int stop = f->stop;
  pthread_mutex_unlock(&f->lock);
  return stop;
}

static inline int flood_open(flood *f) {
  struct sockaddr_in sa;
  const char *colon = strrchr(f->address, ':');
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  /* One thread keeps them all going: none may wait on its connect. */
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  if (f->from) {
    inet_pton(AF_INET, f->from, &sa.sin_addr);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
      close(fd);
      return -1;
    }
  }
  sa.sin_port = htons((uint16_t)atoi(colon + 1));
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 &&
      errno != EINPROGRESS) {
    close(fd);
    return -1;
  }
  return fd;
}

static inline void *flood_main(void *arg) {
  flood *f = arg;
  struct pollfd *p = calloc((size_t)f->sockets, sizeof *p);
  long opened = 0;
  if (!p) return NULL;
  for (int i = 0; i < f->sockets; i++) p[i].fd = -1;
  while (!flood_stopped(f)) {
    for (int i = 0; i < f->sockets; i++) {
      if (p[i].fd >= 0) continue;
      p[i].fd = flood_open(f);
      p[i].events = POLLIN;
      if (p[i].fd >= 0) opened++;
    }
    if (poll(p, (nfds_t)f->sockets, 20) < 0 && errno != EINTR) break;
    /* Closed by the server (or never connected): open it again. */
    for (int i = 0; i < f->sockets; i++)
      if (p[i].fd >= 0 && p[i].revents) {
        close(p[i].fd);
        p[i].fd = -1;
      }
  }
  for (int i = 0; i < f->sockets; i++)
    if (p[i].fd >= 0) close(p[i].fd);
  free(p);
  pthread_mutex_lock(&f->lock);
  f->opened = opened;
  pthread_mutex_unlock(&f->lock);
  return NULL;
}

static inline void flood_start(flood *f, const char *address,
                               const char *from, int sockets) {
  memset(f, 0, sizeof *f);
  snprintf(f->address, sizeof f->address, "%s", address);
  f->from = from;
  f->sockets = sockets;
  pthread_mutex_init(&f->lock, NULL);
  pthread_create(&f->tid, NULL, flood_main, f);
}

/* The sockets opened, whole only once the thread is joined. */
static inline long flood_stop(flood *f) {
  pthread_mutex_lock(&f->lock);
  f->stop = 1;
  pthread_mutex_unlock(&f->lock);
  pthread_join(f->tid, NULL);
  pthread_mutex_destroy(&f->lock);
  return f->opened;
}

#endif
