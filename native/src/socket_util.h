// Socket helpers shared by Parley's native addons (relay_native.c, media_socket.c): one union
// for IPv4/IPv6 socket addresses, literal-IP parsing, and the errno names Node's own socket
// errors use (err.code). Header-only (static functions): each addon is its own shared object.
#ifndef PARLEY_SOCKET_UTIL_H
#define PARLEY_SOCKET_UTIL_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

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

#endif
