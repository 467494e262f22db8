// Parley transceiver media socket (docs/transceiver.md, "Media I/O"): the transceiver's one UDP
// socket with batched system calls, for `--media-io native`. Node's dgram costs one recvmsg, one
// event-loop wake-up and one JS callback per datagram, and one sendmsg per datagram; at 50
// packets/s per call that was most of the transceiver's CPU that was not SRTP.
//
//   receive: a reader pthread blocks in recvmmsg(MSG_WAITFORONE) into buffers allocated once;
//            after the first datagram it lets the batch window (--media-batch-us) pass, in
//            slices of at most URGENT_SLICE_US, taking what queued with recvmmsg(MSG_DONTWAIT)
//            after each; a datagram that is not media (its byte at `urgentOffset`, the first
//            after the relay header, below 128: STUN, DTLS, anything but RTP/RTCP, RFC 7983)
//            ends the window (at once when it came first, else within a slice) — call setup
//            is a chain of round trips the window would lengthen; media waits on no one
//            (1 ms slices: CPU per packet within the noise of one 2 ms sleep, 500 µs cost
//            ~4 % more at 200 calls). Then it hands the whole
//            batch to JS through a napi_threadsafe_function: ONE call per batch, the datagrams
//            packed into a receive area and their lengths and sources into a Uint32Array, both
//            allocated once and shared; JS hands each datagram on as a view of that area,
//            valid during its callback (the endpoint copies the few it keeps: STUN, DTLS).
//            Earlier designs: a fresh Buffer per batch viewed per datagram (kept views pinned
//            whole batches: 513–610 KB RSS per call at 400 calls), then a copy per datagram.
//            While the socket has seen no media for READER_IDLE_US (and at the start: a transceiver
//            between calls, call setup), the reader is parked and the JS thread reads the socket
//            itself (a libuv poll of the fd, recvmmsg(MSG_DONTWAIT), onBatch called there): STUN and
//            DTLS round trips then cost no thread hop (a wake-up of the reader, an eventfd write and
//            the event loop's wake-up). The first media datagram hands the batch it came in to the
//            reader, which lets the window pass as above and reads from then on; a reader that saw
//            no media for READER_IDLE_US hands the socket back. Without an urgentOffset every
//            datagram is media: the reader reads from the start.
//   send:    JS writes datagrams (relay header + payload) and their destinations into a send
//            area that is allocated once and shared, and calls flush(n) once per pass: one
//            sendmmsg(MSG_DONTWAIT) for the pass, on the JS thread.
//
// What this is not: no routing, no protocol, no allow-listing — the endpoint (JS) does all of
// that on every datagram exactly as with dgram. Datagrams longer than SLOT bytes are dropped
// and counted (a relay sends at most a relay header and PARLEY_RELAY_MAX_PAYLOAD bytes).
//
// Node-API only (node_api.h, NAPI_VERSION 8). Every length is checked: JS hands in offsets and
// lengths, and each is bounded by the areas this file allocated.
//
// One file past 400 lines: an N-API addon is one translation unit with its static state; the
// reader thread, the send path and the JS bindings share the socket and buffer structures.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <node_api.h>
#include <uv.h>

#include "generated/parley_contracts.h"
#include "socket_util.h"

#define RX_BATCH 256     /* datagrams per batch handed to JS */
#define SLOT 2048        /* receive buffer per datagram; longer is truncated, dropped and counted */
_Static_assert(SLOT >= PARLEY_RELAY_HEADER_LENGTH + PARLEY_RELAY_MAX_PAYLOAD, "a slot holds the largest datagram a relay sends");
#define RX_META 8        /* u32 per received datagram: offset, length, port, v6, ip[4] */
#define TX_BATCH 256     /* datagrams per flush */
#define TX_AREA (TX_BATCH * SLOT)
#define TX_META 8        /* u32 per queued datagram: offset, length, port, v6, ip[4] */
#define MAX_BATCH_US 100000
#define URGENT_SLICE_US 1000 /* the longest a non-media datagram waits in a batch window */
#define READER_IDLE_US 1000000 /* no media for this long: the JS thread reads the socket again */

/* Who reads the socket (see the header). Changed under mu: to READER by the JS thread (media
 * came), to TO_JS by the reader (idle), TO_JS to JS by the JS thread once its poll runs. */
enum { READS_READER, READS_TO_JS, READS_JS };

typedef struct {
  int n;
  uint8_t (*buf)[SLOT];
  uint32_t *len;
  addr_u *src;
  struct mmsghdr *mm;
  struct iovec *iov;
} rx_t;

typedef struct ms {
  int fd;
  pthread_t thr;
  int started;
  pid_t tid;
  int batch_us;
  int urgent_offset; /* < 0: no datagram ends the window early */
  volatile int stop;
  int reads;          /* READS_*, under mu */
  int64_t last_media; /* the reader's clock of the last media datagram, µs */

  /* the JS thread's reads (READS_JS): a poll of fd and a way to call onBatch from it */
  napi_env env;
  uv_poll_t *poll; /* freed by its close callback */
  napi_ref cb_ref;
  napi_async_context async_ctx;

  /* the reader fills `fill`; a full batch moves to `ready` (under mu) for JS to take */
  rx_t rx[2];
  rx_t *fill, *ready;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int notify_pending;
  uint64_t too_large; /* added by the reader, taken by JS (under mu) */
  napi_threadsafe_function tsfn;

  uint32_t *rx_meta; /* JS-visible, RX_BATCH * RX_META */
  uint8_t *rx_area;  /* JS-visible, RX_BATCH * SLOT */
  napi_ref rx_meta_ref, rx_area_ref;
  uint8_t *tx;       /* JS-visible, TX_AREA */
  uint32_t *tx_meta; /* JS-visible, TX_BATCH * TX_META */
  napi_ref tx_ref, tx_meta_ref;
  struct mmsghdr sm[TX_BATCH];
  struct iovec siov[TX_BATCH];
  addr_u dst[TX_BATCH];

  int closed;
  int refs; /* the external + the tsfn finalizer; freed at 0 */
} ms_t;

/* ---------- reader thread ---------- */

static void rx_prepare(rx_t *b, int from) {
  for (int i = from; i < RX_BATCH; i++) {
    b->iov[i].iov_base = b->buf[i];
    b->iov[i].iov_len = SLOT;
    memset(&b->mm[i].msg_hdr, 0, sizeof b->mm[i].msg_hdr);
    b->mm[i].msg_hdr.msg_iov = &b->iov[i];
    b->mm[i].msg_hdr.msg_iovlen = 1;
    b->mm[i].msg_hdr.msg_name = &b->src[i];
    b->mm[i].msg_hdr.msg_namelen = sizeof b->src[i];
  }
}

/* Receives into b->buf[b->n..]; keeps only whole datagrams, counts the truncated ones. */
static int rx_take(ms_t *s, rx_t *b, int flags, uint64_t *too_large) {
  rx_prepare(b, b->n);
  int got = recvmmsg(s->fd, b->mm + b->n, (unsigned)(RX_BATCH - b->n), flags, NULL);
  if (got <= 0) return got;
  int w = b->n;
  for (int i = b->n; i < b->n + got; i++) {
    if (b->mm[i].msg_hdr.msg_flags & MSG_TRUNC) {
      (*too_large)++;
      continue;
    }
    if (w != i) {
      memcpy(b->buf[w], b->buf[i], b->mm[i].msg_len);
      b->src[w] = b->src[i];
    }
    b->len[w] = b->mm[i].msg_len;
    w++;
  }
  b->n = w;
  return got;
}

/* Whether one of b's datagrams from `from` on is not media (see the header): it must not wait. */
static int has_urgent(const ms_t *s, const rx_t *b, int from) {
  if (s->urgent_offset < 0) return 0;
  for (int i = from; i < b->n; i++) {
    if (b->len[i] > (uint32_t)s->urgent_offset && b->buf[i][s->urgent_offset] < 128) return 1;
  }
  return 0;
}

/* Whether one of b's datagrams is media: one that waits out a batch window (not urgent). */
static int has_media(const ms_t *s, const rx_t *b) {
  for (int i = 0; i < b->n; i++) {
    if (s->urgent_offset < 0 || b->len[i] <= (uint32_t)s->urgent_offset || b->buf[i][s->urgent_offset] >= 128) return 1;
  }
  return 0;
}

static int64_t now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/* The batch window after the first datagrams: what arrives meanwhile goes to JS in the same call,
 * unless a non-media datagram ends it (checked after each slice; one slice when none can). */
static void batch_window(ms_t *s, rx_t *b, uint64_t *too_large) {
  int64_t deadline = now_us() + s->batch_us;
  int slice = s->urgent_offset < 0 ? s->batch_us : URGENT_SLICE_US;
  for (int scanned = 0; b->n < RX_BATCH && !s->stop;) {
    if (has_urgent(s, b, scanned)) return;
    scanned = b->n;
    int64_t left = deadline - now_us();
    if (left <= 0) return;
    struct timespec ts = {0, (long)(left < slice ? left : slice) * 1000};
    nanosleep(&ts, NULL);
    rx_take(s, b, MSG_DONTWAIT, too_large);
  }
}

/* Under mu: asks the JS thread for the onBatch call of the ready batch (one pending at a time). */
static void notify_js(ms_t *s) {
  if (!s->notify_pending) {
    s->notify_pending = 1;
    if (napi_call_threadsafe_function(s->tsfn, NULL, napi_tsfn_nonblocking) != napi_ok) s->notify_pending = 0;
  }
}

static void *reader(void *arg) {
  ms_t *s = arg;
  __atomic_store_n(&s->tid, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
  s->last_media = now_us();
  while (!s->stop) {
    pthread_mutex_lock(&s->mu);
    if (s->reads != READS_READER) {
      /* parked while the JS thread reads; it hands over a batch that holds media */
      while (s->reads != READS_READER && !s->stop) pthread_cond_wait(&s->cv, &s->mu);
      s->last_media = now_us();
    }
    pthread_mutex_unlock(&s->mu);
    if (s->stop) break;
    rx_t *b = s->fill;
    uint64_t too_large = 0;
    if (b->n == 0) {
      if (s->urgent_offset >= 0 && now_us() - s->last_media >= READER_IDLE_US) {
        /* no media for a while: the JS thread reads (after it delivers the ready batch) */
        pthread_mutex_lock(&s->mu);
        s->reads = READS_TO_JS;
        notify_js(s);
        pthread_mutex_unlock(&s->mu);
        continue;
      }
      /* blocks until one datagram (SO_RCVTIMEO or shutdown at close return without one) */
      rx_take(s, b, MSG_WAITFORONE, &too_large);
    }
    if (b->n > 0 && s->batch_us > 0) batch_window(s, b, &too_large);
    if (b->n > 0 && has_media(s, b)) s->last_media = now_us();
    if (b->n == 0 && too_large == 0) continue;
    pthread_mutex_lock(&s->mu);
    s->too_large += too_large;
    /* JS has not taken the previous batch: wait (the socket buffer holds what comes meanwhile) */
    while (s->ready->n > 0 && !s->stop) pthread_cond_wait(&s->cv, &s->mu);
    if (!s->stop) {
      s->fill = s->ready;
      s->ready = b;
      notify_js(s);
    }
    pthread_mutex_unlock(&s->mu);
  }
  return NULL;
}

/* ---------- JS glue ---------- */

static void rx_free(rx_t *b) {
  free(b->buf), free(b->len), free(b->src), free(b->mm), free(b->iov);
  memset(b, 0, sizeof *b);
}

static int rx_alloc(rx_t *b) {
  b->n = 0;
  b->buf = calloc(RX_BATCH, sizeof *b->buf);
  b->len = calloc(RX_BATCH, sizeof *b->len);
  b->src = calloc(RX_BATCH, sizeof *b->src);
  b->mm = calloc(RX_BATCH, sizeof *b->mm);
  b->iov = calloc(RX_BATCH, sizeof *b->iov);
  return b->buf && b->len && b->src && b->mm && b->iov ? 0 : -1;
}

static void unref_ms(ms_t *s) {
  if (__atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) == 0) {
    rx_free(&s->rx[0]);
    rx_free(&s->rx[1]);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
  }
}

static void free_poll(uv_handle_t *h) { free(h); }

/* Stops the reader and closes the socket; the JS-visible areas stay valid until the handle is
   collected (their references go with it), so a late write from JS cannot touch freed memory. */
static void stop_and_close(ms_t *s) {
  if (s->closed) return;
  s->closed = 1;
  if (s->started) {
    pthread_mutex_lock(&s->mu);
    s->stop = 1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    /* wakes a reader blocked in recvmmsg; SO_RCVTIMEO (100 ms) is the backstop */
    shutdown(s->fd, SHUT_RD);
    pthread_join(s->thr, NULL);
    s->started = 0;
  }
  if (s->poll) {
    /* before the fd closes (libuv's rule); the handle is freed by its close callback */
    uv_close((uv_handle_t *)s->poll, free_poll);
    s->poll = NULL;
  }
  if (s->fd >= 0) close(s->fd), s->fd = -1;
  if (s->tsfn) {
    napi_release_threadsafe_function(s->tsfn, napi_tsfn_abort);
    s->tsfn = NULL;
  }
}

static void cleanup_hook(void *arg) { stop_and_close(arg); }

static void finalize_external(napi_env env, void *data, void *hint) {
  (void)hint;
  ms_t *s = data;
  if (!s->closed) {
    napi_remove_env_cleanup_hook(env, cleanup_hook, s);
    stop_and_close(s);
  }
  if (s->rx_meta_ref) napi_delete_reference(env, s->rx_meta_ref);
  if (s->rx_area_ref) napi_delete_reference(env, s->rx_area_ref);
  if (s->tx_ref) napi_delete_reference(env, s->tx_ref);
  if (s->tx_meta_ref) napi_delete_reference(env, s->tx_meta_ref);
  if (s->cb_ref) napi_delete_reference(env, s->cb_ref);
  if (s->async_ctx) napi_async_destroy(env, s->async_ctx);
  unref_ms(s);
}

static void finalize_tsfn(napi_env env, void *data, void *hint) {
  (void)env, (void)hint;
  unref_ms(data);
}

/* On the JS thread: packs batch b into rx_area, writes offsets, lengths and sources into
   rx_meta and empties b; returns its count. JS copies out what it keeps during onBatch (the next
   batch overwrites the area). */
static int pack(ms_t *s, rx_t *b) {
  int n = b->n;
  uint8_t *p = s->rx_area;
  uint32_t off = 0; /* n * SLOT at most: the area holds a full batch */
  for (int i = 0; i < n; i++) {
    uint32_t *m = s->rx_meta + (size_t)i * RX_META;
    memcpy(p + off, b->buf[i], b->len[i]);
    m[0] = off;
    m[1] = b->len[i];
    memset(m + 4, 0, 16);
    if (b->src[i].sa.sa_family == AF_INET6) {
      m[2] = ntohs(b->src[i].v6.sin6_port);
      m[3] = 1;
      memcpy(m + 4, &b->src[i].v6.sin6_addr, 16);
    } else {
      m[2] = ntohs(b->src[i].v4.sin_port);
      m[3] = 0;
      memcpy(m + 4, &b->src[i].v4.sin_addr, 4);
    }
    off += b->len[i];
  }
  b->n = 0;
  return n;
}

static void on_readable(uv_poll_t *h, int status, int events);

/* The tsfn's call on the JS thread: onBatch(count, tooLarge) with the reader's ready batch; then,
   when the reader has handed the socket back (READS_TO_JS), the JS thread's poll starts. */
static void call_js(napi_env env, napi_value cb, void *ctx, void *data) {
  (void)data;
  ms_t *s = ctx;
  if (env == NULL || cb == NULL || s->closed) return;
  pthread_mutex_lock(&s->mu);
  s->notify_pending = 0;
  uint64_t too_large = s->too_large;
  s->too_large = 0;
  int n = pack(s, s->ready);
  pthread_cond_signal(&s->cv);
  pthread_mutex_unlock(&s->mu);
  if (n > 0 || too_large > 0) {
    napi_value argv[2], undef;
    napi_create_uint32(env, (uint32_t)n, &argv[0]);
    napi_create_double(env, (double)too_large, &argv[1]);
    napi_get_undefined(env, &undef);
    napi_call_function(env, undef, cb, 2, argv, NULL);
  }
  /* only this thread moves TO_JS on; the reader is parked meanwhile */
  if (!s->closed && s->poll && __atomic_load_n(&s->reads, __ATOMIC_ACQUIRE) == READS_TO_JS) {
    pthread_mutex_lock(&s->mu);
    s->reads = READS_JS;
    pthread_mutex_unlock(&s->mu);
    uv_poll_start(s->poll, UV_READABLE, on_readable);
  }
}

/* READS_JS: the socket is readable on the JS thread. Non-media datagrams go to onBatch from here
   (one batch per wake-up); a batch with media goes to the reader, which lets the window pass. */
static void on_readable(uv_poll_t *h, int status, int events) {
  (void)status, (void)events;
  ms_t *s = h->data;
  if (s->closed || s->reads != READS_JS) return;
  rx_t *b = s->fill; /* the reader is parked: fill is this thread's until it hands it over */
  uint64_t too_large = 0;
  rx_take(s, b, MSG_DONTWAIT, &too_large);
  if (b->n > 0 && has_media(s, b)) {
    uv_poll_stop(h);
    pthread_mutex_lock(&s->mu);
    s->too_large += too_large;
    s->reads = READS_READER;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return;
  }
  if (b->n == 0 && too_large == 0) return;
  napi_env env = s->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, recv, argv[2];
  int n = pack(s, b);
  napi_get_reference_value(env, s->cb_ref, &cb);
  napi_get_global(env, &recv);
  napi_create_uint32(env, (uint32_t)n, &argv[0]);
  napi_create_double(env, (double)too_large, &argv[1]);
  /* a callback scope (microtasks and nextTicks run after it), as the tsfn's call has */
  if (napi_make_callback(env, s->async_ctx, recv, cb, 2, argv, NULL) == napi_pending_exception) {
    napi_value err;
    if (napi_get_and_clear_last_exception(env, &err) == napi_ok) napi_fatal_exception(env, err);
  }
  napi_close_handle_scope(env, scope);
}

static napi_value get_prop(napi_env env, napi_value obj, const char *name) {
  napi_value v = NULL;
  if (napi_get_named_property(env, obj, name, &v) != napi_ok) return NULL;
  return v;
}

static napi_value throw_errno(napi_env env, const char *what, const char *ip, int port, int e) {
  char msg[256];
  /* the shape of Node's dgram errors: "bind EADDRINUSE 127.0.0.1:7000" */
  snprintf(msg, sizeof msg, "%s %s %s:%d (%s)", what, errno_name(e), ip, port, strerror(e));
  napi_throw_error(env, errno_name(e), msg);
  return NULL;
}

static ms_t *get_ms(napi_env env, napi_value v) {
  void *p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok || p == NULL) {
    napi_throw_type_error(env, NULL, "not a media socket handle");
    return NULL;
  }
  return p;
}

static napi_value make_area(napi_env env, size_t bytes, void **data, napi_ref *ref) {
  napi_value ab;
  if (napi_create_arraybuffer(env, bytes, data, &ab) != napi_ok) return NULL;
  memset(*data, 0, bytes);
  if (napi_create_reference(env, ab, 1, ref) != napi_ok) return NULL;
  return ab;
}

/* open({address, port, bufferBytes, batchUs, urgentOffset, onBatch}) →
   {handle, address, port, family, receiveBuffer, sendBuffer, rxArea, rxMeta, tx, txMeta, tid} */
static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value opts;
  if (napi_get_cb_info(env, info, &argc, &opts, NULL, NULL) != napi_ok || argc != 1) {
    napi_throw_type_error(env, NULL, "open: one options object");
    return NULL;
  }
  char ip[64];
  size_t iplen;
  int32_t port, bufbytes, batch_us, urgent_offset;
  napi_value cb = get_prop(env, opts, "onBatch");
  napi_valuetype vt = napi_undefined;
  if (cb) napi_typeof(env, cb, &vt);
  if (napi_get_value_string_utf8(env, get_prop(env, opts, "address"), ip, sizeof ip, &iplen) != napi_ok || iplen >= sizeof ip - 1 ||
      napi_get_value_int32(env, get_prop(env, opts, "port"), &port) != napi_ok || port < 0 || port > 65535 ||
      napi_get_value_int32(env, get_prop(env, opts, "bufferBytes"), &bufbytes) != napi_ok || bufbytes < 0 ||
      napi_get_value_int32(env, get_prop(env, opts, "batchUs"), &batch_us) != napi_ok || batch_us < 0 || batch_us > MAX_BATCH_US ||
      napi_get_value_int32(env, get_prop(env, opts, "urgentOffset"), &urgent_offset) != napi_ok || urgent_offset < -1 || urgent_offset >= SLOT ||
      vt != napi_function) {
    napi_throw_type_error(env, NULL, "bad options for the native media socket");
    return NULL;
  }
  addr_u a;
  socklen_t alen;
  if (parse_ip(ip, (uint16_t)port, &a, &alen)) {
    napi_throw_type_error(env, NULL, "the media address is not a literal IP");
    return NULL;
  }

  int fd = socket(a.sa.sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", ip, port, errno);
  int one = 1;
  if (a.sa.sa_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (bufbytes > 0) {
    /* With CAP_NET_ADMIN the FORCE options go past net.core.rmem_max / wmem_max (a default
     * kernel's 208 KB drops audio at a few hundred calls); without it, the plain options are
     * capped there and the caller warns. The relay's sockets do the same. */
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bufbytes, sizeof bufbytes))
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufbytes, sizeof bufbytes);
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bufbytes, sizeof bufbytes))
      setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufbytes, sizeof bufbytes);
  }
  struct timeval tv = {0, 100000}; /* a blocked reader checks for close at least every 100 ms */
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (bind(fd, &a.sa, alen)) {
    int e = errno;
    close(fd);
    return throw_errno(env, "bind", ip, port, e);
  }
  addr_u bound;
  socklen_t bl = sizeof bound;
  memset(&bound, 0, sizeof bound);
  getsockname(fd, &bound.sa, &bl);
  int rcv = 0, snd = 0;
  socklen_t ol = sizeof rcv;
  getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, &ol);
  ol = sizeof snd;
  getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, &ol);

  ms_t *s = calloc(1, sizeof *s);
  if (!s || rx_alloc(&s->rx[0]) || rx_alloc(&s->rx[1])) {
    close(fd);
    if (s) rx_free(&s->rx[0]), rx_free(&s->rx[1]), free(s);
    napi_throw_error(env, "ENOMEM", "cannot allocate the media socket's buffers");
    return NULL;
  }
  s->fd = fd;
  s->batch_us = batch_us;
  s->urgent_offset = urgent_offset;
  s->fill = &s->rx[0];
  s->ready = &s->rx[1];
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->cv, NULL);
  s->refs = 1;
  napi_value external;
  if (napi_create_external(env, s, finalize_external, NULL, &external) != napi_ok) {
    close(fd);
    s->refs = 0;
    rx_free(&s->rx[0]), rx_free(&s->rx[1]), free(s);
    napi_throw_error(env, NULL, "napi_create_external");
    return NULL;
  }
  /* from here the finalizer owns s: errors close it and return */
  napi_add_env_cleanup_hook(env, cleanup_hook, s);
  napi_value rx_meta = make_area(env, RX_BATCH * RX_META * 4, (void **)&s->rx_meta, &s->rx_meta_ref);
  napi_value rx_area = make_area(env, RX_BATCH * SLOT, (void **)&s->rx_area, &s->rx_area_ref);
  napi_value tx = make_area(env, TX_AREA, (void **)&s->tx, &s->tx_ref);
  napi_value tx_meta = make_area(env, TX_BATCH * TX_META * 4, (void **)&s->tx_meta, &s->tx_meta_ref);
  napi_value name;
  napi_create_string_utf8(env, "parley-media-socket", NAPI_AUTO_LENGTH, &name);
  if (!rx_meta || !rx_area || !tx || !tx_meta) goto fail;
  __atomic_add_fetch(&s->refs, 1, __ATOMIC_ACQ_REL);
  if (napi_create_threadsafe_function(env, cb, NULL, name, 0, 1, s, finalize_tsfn, s, call_js, &s->tsfn) != napi_ok) {
    __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL);
    s->tsfn = NULL;
    goto fail;
  }
  s->env = env;
  if (urgent_offset >= 0) {
    /* the JS thread reads until media comes (see the header) */
    uv_loop_t *loop = NULL;
    s->poll = calloc(1, sizeof *s->poll);
    if (!s->poll || napi_get_uv_event_loop(env, &loop) != napi_ok || napi_create_reference(env, cb, 1, &s->cb_ref) != napi_ok ||
        napi_async_init(env, NULL, name, &s->async_ctx) != napi_ok || uv_poll_init(loop, s->poll, fd) != 0) {
      free(s->poll), s->poll = NULL;
      goto fail;
    }
    s->poll->data = s;
    /* uv_poll_init made fd non-blocking; the reader blocks in recvmmsg (the poll's reads say MSG_DONTWAIT) */
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    s->reads = READS_JS;
    uv_poll_start(s->poll, UV_READABLE, on_readable);
  }
  if (pthread_create(&s->thr, NULL, reader, s) != 0) goto fail;
  s->started = 1;
  for (int k = 0; k < 200000 && __atomic_load_n(&s->tid, __ATOMIC_ACQUIRE) == 0; k++) {
    struct timespec ts = {0, 10000};
    nanosleep(&ts, NULL);
  }

  napi_value res, v;
  char bip[INET6_ADDRSTRLEN] = "";
  int bport;
  if (bound.sa.sa_family == AF_INET6) {
    inet_ntop(AF_INET6, &bound.v6.sin6_addr, bip, sizeof bip);
    bport = ntohs(bound.v6.sin6_port);
  } else {
    inet_ntop(AF_INET, &bound.v4.sin_addr, bip, sizeof bip);
    bport = ntohs(bound.v4.sin_port);
  }
  napi_create_object(env, &res);
  napi_set_named_property(env, res, "handle", external);
  napi_create_string_utf8(env, bip, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, res, "address", v);
  napi_create_int32(env, bport, &v);
  napi_set_named_property(env, res, "port", v);
  napi_create_string_utf8(env, bound.sa.sa_family == AF_INET6 ? "IPv6" : "IPv4", NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, res, "family", v);
  /* Linux reports double what it granted (the kernel's bookkeeping share), as dgram's getters do */
  napi_create_int32(env, rcv, &v);
  napi_set_named_property(env, res, "receiveBuffer", v);
  napi_create_int32(env, snd, &v);
  napi_set_named_property(env, res, "sendBuffer", v);
  napi_set_named_property(env, res, "rxMeta", rx_meta);
  napi_set_named_property(env, res, "rxArea", rx_area);
  napi_set_named_property(env, res, "tx", tx);
  napi_set_named_property(env, res, "txMeta", tx_meta);
  napi_create_int32(env, s->tid, &v);
  napi_set_named_property(env, res, "tid", v);
  return res;
fail:
  napi_remove_env_cleanup_hook(env, cleanup_hook, s);
  stop_and_close(s);
  napi_throw_error(env, NULL, "cannot start the native media socket");
  return NULL;
}

/* flush(handle, n) → how many of the n queued datagrams failed to send. Datagram i is
   tx[txMeta[8i] .. + txMeta[8i+1]) to the address in txMeta[8i+2 ..]. */
static napi_value js_flush(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value a[2];
  if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc != 2) {
    napi_throw_type_error(env, NULL, "flush: (handle, n)");
    return NULL;
  }
  ms_t *s = get_ms(env, a[0]);
  if (!s) return NULL;
  uint32_t n;
  if (napi_get_value_uint32(env, a[1], &n) != napi_ok || n > TX_BATCH) {
    napi_throw_range_error(env, NULL, "flush: n out of range");
    return NULL;
  }
  uint32_t failed = 0;
  if (s->closed) {
    failed = n;
  } else {
    uint32_t m = 0;
    for (uint32_t i = 0; i < n; i++) {
      const uint32_t *t = s->tx_meta + (size_t)i * TX_META;
      uint32_t off = t[0], len = t[1], port = t[2], v6 = t[3];
      if (off > TX_AREA || len > TX_AREA - off || port > 65535) {
        failed++;
        continue;
      }
      addr_u *d = &s->dst[m];
      memset(d, 0, sizeof *d);
      socklen_t dl;
      if (v6) {
        d->v6.sin6_family = AF_INET6;
        d->v6.sin6_port = htons((uint16_t)port);
        memcpy(&d->v6.sin6_addr, t + 4, 16);
        dl = sizeof d->v6;
      } else {
        d->v4.sin_family = AF_INET;
        d->v4.sin_port = htons((uint16_t)port);
        memcpy(&d->v4.sin_addr, t + 4, 4);
        dl = sizeof d->v4;
      }
      s->siov[m].iov_base = s->tx + off;
      s->siov[m].iov_len = len;
      memset(&s->sm[m].msg_hdr, 0, sizeof s->sm[m].msg_hdr);
      s->sm[m].msg_hdr.msg_name = d;
      s->sm[m].msg_hdr.msg_namelen = dl;
      s->sm[m].msg_hdr.msg_iov = &s->siov[m];
      s->sm[m].msg_hdr.msg_iovlen = 1;
      m++;
    }
    uint32_t done = 0;
    while (done < m) {
      int k = sendmmsg(s->fd, s->sm + done, m - done, MSG_DONTWAIT);
      if (k < 0) {
        if (errno == EINTR) continue;
        /* this datagram failed (buffer full, unreachable family, …): count it, go on */
        failed++;
        done++;
        continue;
      }
      done += (uint32_t)k;
    }
  }
  napi_value res;
  napi_create_uint32(env, failed, &res);
  return res;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1];
  if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc != 1) {
    napi_throw_type_error(env, NULL, "close: (handle)");
    return NULL;
  }
  ms_t *s = get_ms(env, a[0]);
  if (!s) return NULL;
  if (!s->closed) {
    napi_remove_env_cleanup_hook(env, cleanup_hook, s);
    stop_and_close(s);
  }
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_default, NULL},
      {"flush", NULL, js_flush, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  const struct {
    const char *name;
    int value;
  } limits[] = {{"RX_BATCH", RX_BATCH}, {"SLOT", SLOT}, {"RX_META", RX_META}, {"TX_BATCH", TX_BATCH},
                {"TX_AREA", TX_AREA}, {"TX_META", TX_META}, {"MAX_BATCH_US", MAX_BATCH_US}};
  for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
    napi_value v;
    napi_create_int32(env, limits[i].value, &v);
    napi_set_named_property(env, exports, limits[i].name, v);
  }
  return exports;
}
