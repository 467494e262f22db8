// Socket helpers shared by Parley's native addons (relay_native.c, media_socket.c): one union
// for IPv4/IPv6 socket addresses, literal-IP parsing, the errno names Node's own socket
// errors use (err.code), and the scheduler slice of the threads that wait on a socket.
// Header-only (static functions): each addon is its own shared object.
#ifndef PARLEY_SOCKET_UTIL_H
#define PARLEY_SOCKET_UTIL_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sched.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

typedef union {
  struct sockaddr sa;
  struct sockaddr_in v4;
  struct sockaddr_in6 v6;
} addr_u;

/* A literal IPv4 or IPv6 address and a port → *a and its length; -1 when `ip` is not one. */
static int parse_ip(const char *ip, uint16_t port, addr_u *a, socklen_t *len) {
  memset(a, 0, sizeof *a);
  if (inet_pton(AF_INET, ip, &a->v4.sin_addr) == 1) {
    a->v4.sin_family = AF_INET;
    a->v4.sin_port = htons(port);
    *len = sizeof a->v4;
    return 0;
  }
  if (inet_pton(AF_INET6, ip, &a->v6.sin6_addr) == 1) {
    a->v6.sin6_family = AF_INET6;
    a->v6.sin6_port = htons(port);
    *len = sizeof a->v6;
    return 0;
  }
  return -1;
}

/* The errno's name as Node reports it in err.code (EIO for any other). */
static const char *errno_name(int e) {
  switch (e) {
  case EADDRINUSE: return "EADDRINUSE";
  case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
  case EACCES: return "EACCES";
  case EAFNOSUPPORT: return "EAFNOSUPPORT";
  case EINVAL: return "EINVAL";
  case EMFILE: return "EMFILE";
  case ENOMEM: return "ENOMEM";
  default: return "EIO";
  }
}

/* The scheduler slice a thread that sleeps on a socket asks for (Linux >= 6.12, EEVDF:
   sched_attr.sched_runtime of a SCHED_OTHER thread; 0.1 ms is the kernel's least). Such a thread
   runs briefly per datagram; with the default slice (0.7 ms x (1 + log2 CPUs)) it waits, once
   woken, behind the running thread's slice (a load generator, another process's loop), which on
   a busy 2-core box stretched single hops to milliseconds (docs/performance.md, load8 and
   confirm). A shorter slice gives the woken thread an earlier deadline, so it runs first; its
   share of the CPU is unchanged (same nice). No privilege is needed (the nice value is kept);
   older kernels ignore it. */
#define SHORT_SLICE_NS 100000

struct short_slice_attr { /* the kernel's struct sched_attr (glibc has no wrapper before 2.41) */
  uint32_t size, policy;
  uint64_t flags;
  int32_t nice;
  uint32_t priority;
  uint64_t runtime, deadline, period;
};

/* Asks SHORT_SLICE_NS for the calling thread; a kernel without custom slices ignores it. */
static void ask_short_slice(void) {
#ifdef SYS_sched_setattr
  errno = 0;
  int nice = getpriority(PRIO_PROCESS, 0); /* this thread's: Linux applies it per thread */
  if (nice == -1 && errno != 0) return;
  struct short_slice_attr a = {.size = sizeof a, .policy = SCHED_OTHER, .nice = nice, .runtime = SHORT_SLICE_NS};
  (void)syscall(SYS_sched_setattr, 0, &a, 0);
#endif
}

#endif
