// Parley relay fast path (docs/relay.md, "Native datapath"): one worker's sockets and the
// steady-state loops off the JavaScript thread — one pthread per socket, each blocked in
// recvmmsg(MSG_WAITFORONE) like the reference C relay (no epoll: two system calls per batch).
//
//   public socket i:  recvmmsg → flow lookup (client address, i) → prepend the flow's 40-byte
//                     relay header in place → sendmmsg to the transceiver on the internal socket
//   internal socket:  recvmmsg → source in the transceiver networks? → relay header valid? →
//                     public index from the header → flow lookup → source is that flow's
//                     transceiver? → strip the header → sendmmsg to the client from public i
//
// Everything else (first packets, STUN, tokens, integrity, rate limits, the store) goes to
// JavaScript in batches through a napi_threadsafe_function (one call per drained batch); JS
// decides and installs flows here — except a token's first flow in the common case, which the
// public loop makes itself and then tells JS of in the same batches (nfc_decide; docs/relay.md,
// "First checks in the loop"). This table is the worker's only flow table on this datapath
// (src/relay/native-flow-index.ts is its TypeScript face): JS inserts, looks up and sweeps it
// (idle expiry and the store refresh, once a second) with explicit calls, under a mutex the
// loops hold per batch. The loops never add or remove an entry, only stamp last_seen with the
// worker's coarse clock (a shared cell JS writes once per tick: one clock for both sides).
// Counters are written by one loop thread only, into the native half of the worker's stats
// array (a SharedArrayBuffer the supervisor sums for /metrics). Drop rules and their order are
// those of src/relay/route.ts, so the counters are one.
//
// Node-API only (node_api.h, NAPI_VERSION 8): one build loads in every Node we support.
// Every length from the network is checked before use; a malformed datagram is counted and
// dropped.
//
// One file of ~1350 lines on purpose (STYLE.md rule 8): sections table / addresses / decisions / loop /
// JS glue, all static, one translation unit so the compiler inlines the per-packet helpers
// into the loops without LTO flags in binding.gyp.
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifdef PARLEY_RELAY_DECISIONS_ONLY
/* The fuzz harness (native/fuzz/) builds without Node's headers: relay_t's N-API handles as opaque. */
typedef void *napi_env, *napi_ref, *napi_threadsafe_function;
#else
#include <node_api.h>
#endif

#include "generated/parley_contracts.h"
#include "first_check.h"
#include "socket_util.h"

/* The header layout, the payload limit, the counters and the ABI come from src/contracts/
   through the generated header; these short names are only aliases of it. */
#define HDR PARLEY_RELAY_HEADER_LENGTH
#define MAX_PAYLOAD PARLEY_RELAY_MAX_PAYLOAD
#define MAX_PUBLICS PARLEY_RELAY_MAX_PUBLICS
#define C_N PARLEY_RELAY_CTR_COUNT
#define MISS_CAP PARLEY_RELAY_MISS_QUEUE_CAP

#define BATCH 64
#define BUFSZ 2048 /* payload area after the header room; > MAX_PAYLOAD so oversize is seen */
#define MAX_CIDRS 64

typedef struct {
  uint8_t ip[16]; /* IPv4: the first 4 bytes, the rest zero */
  uint16_t port;  /* host order */
  uint8_t v6;
  uint8_t pub;
} fkey_t;

typedef struct {
  fkey_t key;
  int64_t last_seen;  /* last client datagram, ms of the worker's coarse clock */
  int64_t stored_at;  /* last time JS wrote the flow to the store */
  addr_u dst;
  socklen_t dstlen;
  uint8_t hdr[HDR];
  char *ufrag;        /* the routing token (malloc'd; freed by the JS thread only, under the lock the loops read it under) */
  uint8_t confirmed;  /* the transceiver has sent to this client (route.ts: the reply path confirms a flow) */
} entry_t;

/* A flow handed to JS (get, sweep): copied under the lock, turned into JS values after it. */
typedef struct {
  fkey_t key;
  addr_u dst;
  const char *ufrag;
  int64_t last_seen;
  uint8_t confirmed;
} flowout_t;

typedef struct {
  uint8_t ip[16];
  int v6;
  int prefix;
} cidr_t;

typedef struct {
  uint16_t len;
  uint8_t pub;
  uint8_t created;  /* the loop made the flow of this first check itself (nfc_decide) */
  double issued_at; /* created: the token's issue time, ms */
  addr_u from;
  uint8_t data[MAX_PAYLOAD];
} miss_t;

typedef struct relay {
  int pub_fd[MAX_PUBLICS];
  struct {
    uint8_t ip[16];
    int v6;
    uint16_t port;
  } pubs[MAX_PUBLICS];
  int npub;
  int in_fd, in_v6;
  cidr_t cidrs[MAX_CIDRS];
  int ncidr;

  pthread_mutex_t lock; /* the table */
  /* open addressing over `idx` (0 = empty, else dense index + 1); the entries themselves are
     dense in `ents[0..count)`, so a sweep (seen) reads only live flows */
  uint32_t *idx;
  entry_t *ents;
  uint32_t mask, count, maxcount; /* maxcount: the worker's share of --max-flows */
  flowout_t *due;                 /* sweep's scratch, maxcount entries */
  const double *now;              /* the worker's coarse clock, ms (a JS Float64Array cell) */
  napi_ref now_ref;

  /* one loop thread per socket: publics 0..npub-1, then the internal one */
  pthread_t thr[MAX_PUBLICS + 1];
  pid_t tids[MAX_PUBLICS + 1];
  int nthr;
  struct bufs *bufs[MAX_PUBLICS + 1];
  volatile int stop;

  uint64_t cnt[C_N]; /* added to atomically by the loops, once per batch */
  double *stats;
  int32_t slots[C_N];
  napi_ref stats_ref;

  pthread_mutex_t mlock; /* the miss queue */
  miss_t *miss, *miss_spare;
  int nmiss;
  int notify_pending;
  napi_threadsafe_function tsfn;

  struct nfc *nfc; /* first checks in the loop (nfc_decide), when JS turned them on; under `lock` */

  int closed;
  int refs; /* external + tsfn finalizers; freed at 0 */
  napi_env env;
} relay_t;

/* ---------- table ---------- */

static inline uint32_t khash(const fkey_t *k) {
  uint64_t a, b;
  uint32_t c;
  memcpy(&a, k->ip, 8);
  memcpy(&b, k->ip + 8, 8);
  c = (uint32_t)k->port | (uint32_t)k->v6 << 16 | (uint32_t)k->pub << 24;
  uint64_t h = a * 0x9E3779B97F4A7C15ull ^ (b + 0x632BE59BD9B4E019ull) * 0xC2B2AE3D27D4EB4Full ^ (uint64_t)c * 0x165667B19E3779F9ull;
  h ^= h >> 29;
  h *= 0xBF58476D1CE4E5B9ull;
  h ^= h >> 32;
  return (uint32_t)h;
}

static inline int keq(const fkey_t *a, const fkey_t *b) { return memcmp(a, b, sizeof *a) == 0; }

/* The index slot holding `k`, or the empty slot where it would go. */
static inline uint32_t tab_slot(const relay_t *r, const fkey_t *k) {
  for (uint32_t i = khash(k) & r->mask;; i = (i + 1) & r->mask) {
    uint32_t v = r->idx[i];
    if (v == 0 || keq(&r->ents[v - 1].key, k)) return i;
  }
}

static inline entry_t *tab_find(relay_t *r, const fkey_t *k) {
  uint32_t v = r->idx[tab_slot(r, k)];
  return v ? &r->ents[v - 1] : NULL;
}

/* A new entry for `k` (not present); NULL when full. */
static entry_t *tab_add(relay_t *r, const fkey_t *k) {
  if (r->count >= r->maxcount) return NULL;
  uint32_t s = tab_slot(r, k);
  entry_t *e = &r->ents[r->count];
  memset(e, 0, sizeof *e);
  e->key = *k;
  r->idx[s] = ++r->count;
  return e;
}

/* Backward-shift deletion in the index (linear probing keeps no tombstones), then the last dense
   entry moves into the hole. */
static void tab_delete(relay_t *r, const fkey_t *k) {
  uint32_t i = tab_slot(r, k), j = i;
  if (r->idx[i] == 0) return;
  uint32_t hole = r->idx[i] - 1;
  for (;;) {
    j = (j + 1) & r->mask;
    if (r->idx[j] == 0) break;
    uint32_t h = khash(&r->ents[r->idx[j] - 1].key) & r->mask;
    int stays = (i <= j) ? (i < h && h <= j) : (i < h || h <= j);
    if (!stays) {
      r->idx[i] = r->idx[j];
      i = j;
    }
  }
  r->idx[i] = 0;
  uint32_t last = --r->count;
  if (hole != last) {
    r->ents[hole] = r->ents[last];
    r->idx[tab_slot(r, &r->ents[hole].key)] = hole + 1;
  }
}

/* ---------- addresses ---------- */

static void key_from_sockaddr(fkey_t *k, const addr_u *a, int pub) {
  memset(k, 0, sizeof *k);
  if (a->sa.sa_family == AF_INET6) {
    memcpy(k->ip, &a->v6.sin6_addr, 16);
    k->port = ntohs(a->v6.sin6_port);
    k->v6 = 1;
  } else {
    memcpy(k->ip, &a->v4.sin_addr, 4);
    k->port = ntohs(a->v4.sin_port);
  }
  k->pub = (uint8_t)pub;
}

/* The client a relay header names (client-key.ts: IPv4 uses 4 bytes). */
static void key_from_header(fkey_t *k, const uint8_t *h, int pub) {
  memset(k, 0, sizeof *k);
  k->v6 = (h[PARLEY_RELAY_HEADER_OFF_FLAGS] & PARLEY_RELAY_HEADER_FLAG_CLIENT_IPV6) != 0;
  k->port = (uint16_t)(h[PARLEY_RELAY_HEADER_OFF_CLIENT_PORT] << 8 | h[PARLEY_RELAY_HEADER_OFF_CLIENT_PORT + 1]);
  memcpy(k->ip, h + PARLEY_RELAY_HEADER_OFF_CLIENT_IP, k->v6 ? 16 : 4);
  k->pub = (uint8_t)pub;
}

static socklen_t sockaddr_from_key(addr_u *a, const fkey_t *k) {
  memset(a, 0, sizeof *a);
  if (k->v6) {
    a->v6.sin6_family = AF_INET6;
    memcpy(&a->v6.sin6_addr, k->ip, 16);
    a->v6.sin6_port = htons(k->port);
    return sizeof a->v6;
  }
  a->v4.sin_family = AF_INET;
  memcpy(&a->v4.sin_addr, k->ip, 4);
  a->v4.sin_port = htons(k->port);
  return sizeof a->v4;
}

static int same_addr(const addr_u *a, const addr_u *b) {
  if (a->sa.sa_family != b->sa.sa_family) return 0;
  if (a->sa.sa_family == AF_INET6)
    return a->v6.sin6_port == b->v6.sin6_port && memcmp(&a->v6.sin6_addr, &b->v6.sin6_addr, 16) == 0;
  return a->v4.sin_port == b->v4.sin_port && a->v4.sin_addr.s_addr == b->v4.sin_addr.s_addr;
}

/* src/core/cidr.ts CidrSet.has: IPv4-mapped IPv6 sources match IPv4 blocks. */
static int source_allowed(const relay_t *r, const addr_u *a) {
  uint8_t ip[16];
  int v6;
  if (a->sa.sa_family == AF_INET6) {
    const uint8_t *b = (const uint8_t *)&a->v6.sin6_addr;
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(b, mapped, 12) == 0) {
      memcpy(ip, b + 12, 4);
      v6 = 0;
    } else {
      memcpy(ip, b, 16);
      v6 = 1;
    }
  } else {
    memcpy(ip, &a->v4.sin_addr, 4);
    v6 = 0;
  }
  for (int i = 0; i < r->ncidr; i++) {
    const cidr_t *c = &r->cidrs[i];
    if (c->v6 != v6) continue;
    int bits = c->prefix, ok = 1;
    for (int b = 0; b < 16 && bits > 0; b++, bits -= 8) {
      uint8_t m = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));
      if ((ip[b] & m) != c->ip[b]) {
        ok = 0;
        break;
      }
    }
    if (ok) return 1;
  }
  return 0;
}

static int header_public_index(const relay_t *r, const uint8_t *h) {
  int v6 = (h[PARLEY_RELAY_HEADER_OFF_FLAGS] & PARLEY_RELAY_HEADER_FLAG_PUBLIC_IPV6) != 0;
  uint16_t port = (uint16_t)(h[PARLEY_RELAY_HEADER_OFF_PUBLIC_PORT] << 8 | h[PARLEY_RELAY_HEADER_OFF_PUBLIC_PORT + 1]);
  for (int i = 0; i < r->npub; i++)
    if (r->pubs[i].v6 == v6 && r->pubs[i].port == port && memcmp(r->pubs[i].ip, h + PARLEY_RELAY_HEADER_OFF_PUBLIC_IP, 16) == 0) return i;
  return -1;
}

/* relay-header.ts isRelayHeader: magic, version, no unknown flag bits */
static inline int is_relay_header(const uint8_t *b, size_t len) {
  return len >= HDR && b[PARLEY_RELAY_HEADER_OFF_MAGIC] == PARLEY_RELAY_HEADER_MAGIC_0 &&
         b[PARLEY_RELAY_HEADER_OFF_MAGIC + 1] == PARLEY_RELAY_HEADER_MAGIC_1 &&
         b[PARLEY_RELAY_HEADER_OFF_VERSION] == PARLEY_RELAY_HEADER_VERSION &&
         (b[PARLEY_RELAY_HEADER_OFF_FLAGS] & ~PARLEY_RELAY_HEADER_KNOWN_FLAGS) == 0;
}

/* RFC 7983 / RFC 9443 media first bytes (route.ts mayBeMedia). */
static inline int may_be_media(uint8_t f) { return (f >= 20 && f <= 63) || (f >= 128 && f <= 191); }

static inline int64_t coarse_now(const relay_t *r) {
  double v;
  __atomic_load(r->now, &v, __ATOMIC_RELAXED);
  return (int64_t)v;
}

/* ---------- per-datagram decisions ----------
   Pure: no sockets, no clock, no allocation; the caller holds r->lock. The loops below act on
   them, and native/fuzz/relay_parse_fuzz.c drives them with arbitrary datagrams and sources. */

typedef enum { VERDICT_DROP, VERDICT_MISS, VERDICT_FORWARD } verdict_t;

/* RFC 8489 §5, §14: whether `d` is a well-framed STUN Binding request whose USERNAME (the first
   one, before MESSAGE-INTEGRITY; RFC 8445 §7.2.2 "<server ufrag>:<client ufrag>") names `ufrag`
   as the server part — a check for the flow's own call, which route.ts forwards on the flow
   without more ado. Framing as src/core/stun/raw.ts isWellFramed and peekUsername; only an exact
   byte match counts, so anything it says no to goes to JS, which decides as before. */
#define STUN_HEADER 20
#define STUN_MAGIC 0x2112A442u
#define STUN_USERNAME 0x0006
#define STUN_MESSAGE_INTEGRITY 0x0008
#define STUN_MAX_USERNAME 508
static int check_for_flow(const uint8_t *d, size_t len, const char *ufrag) {
  if (ufrag == NULL || len < STUN_HEADER || d[0] != 0 || d[1] != 1) return 0;
  size_t body = ((size_t)d[2] << 8) | d[3];
  uint32_t magic = ((uint32_t)d[4] << 24) | ((uint32_t)d[5] << 16) | ((uint32_t)d[6] << 8) | d[7];
  if (body != len - STUN_HEADER || (body & 3) != 0 || magic != STUN_MAGIC) return 0;
  const uint8_t *user = NULL;
  size_t ulen = 0;
  size_t off = STUN_HEADER;
  while (off + 4 <= len) {
    unsigned t = ((unsigned)d[off] << 8) | d[off + 1];
    size_t alen = ((size_t)d[off + 2] << 8) | d[off + 3];
    size_t next = off + 4 + ((alen + 3) & ~(size_t)3);
    if (next > len) return 0;
    if (user == NULL && t == STUN_USERNAME) {
      user = d + off + 4;
      ulen = alen;
    }
    if (t == STUN_MESSAGE_INTEGRITY && user == NULL) return 0;
    off = next;
  }
  if (off != len || user == NULL || ulen > STUN_MAX_USERNAME) return 0;
  size_t n = strlen(ufrag);
  return n > 0 && ulen > n && memcmp(user, ufrag, n) == 0 && user[n] == ':';
}

/* A datagram of `len` bytes (MSG_TRUNC: `truncated`) from `src` on public socket `pi`: forward on
   the flow *e, hand to JS, or drop and count *drop. */
static verdict_t classify_public(relay_t *r, const uint8_t *d, size_t len, int truncated, const addr_u *src, int pi, entry_t **e, int *drop) {
  if (truncated || len > MAX_PAYLOAD) {
    *drop = PARLEY_RELAY_CTR_DROP_TOO_LARGE;
    return VERDICT_DROP;
  }
  fkey_t k;
  key_from_sockaddr(&k, src, pi);
  *e = tab_find(r, &k);
  /* A Binding request from a known flow is forwarded here when its USERNAME names the flow's own
     call (check_for_flow): route.ts would forward it on the flow and stamp last_seen, as the loop
     does — issue #18: the nominating check of a call's setup (Pion's, Chromium's) and every
     consent check skip the hop to JS. Any other Binding request from a known flow goes to the
     control side (route.ts: a check for another call from a reused address may replace a silent
     flow), which stamps last_seen itself when it forwards. Other STUN from a known flow (the
     client's answers to the transceiver's requests back) carries no USERNAME route.ts would
     read, so route.ts would forward it on the flow: the loop does, without the hop to JS. */
  if (*e && len >= 2 && d[0] == 0 && d[1] == 1 && !check_for_flow(d, len, (*e)->ufrag)) return VERDICT_MISS;
  if (!*e) {
    /* route.ts: only STUN (first byte 0..3) can make a flow, only media can be looked up */
    if (len == 0 || (d[0] > 3 && !may_be_media(d[0]))) {
      *drop = PARLEY_RELAY_CTR_DROP_NOT_STUN;
      return VERDICT_DROP;
    }
    return VERDICT_MISS;
  }
  return VERDICT_FORWARD;
}

/* A datagram `h` of `len` bytes from `src` on the internal socket: forward its payload (h + HDR,
   len - HDR bytes) from public socket *pi to the client *k, or drop and count *drop. */
static verdict_t classify_internal(relay_t *r, const uint8_t *h, size_t len, int truncated, const addr_u *src, int *pi, fkey_t *k, int *drop,
                                   entry_t **flow) {
  if (!source_allowed(r, src)) {
    *drop = PARLEY_RELAY_CTR_DROP_DISALLOWED_SOURCE;
    return VERDICT_DROP;
  }
  if (!is_relay_header(h, len)) {
    *drop = PARLEY_RELAY_CTR_DROP_BAD_HEADER;
    return VERDICT_DROP;
  }
  if (truncated || len - HDR > MAX_PAYLOAD) {
    *drop = PARLEY_RELAY_CTR_DROP_TOO_LARGE;
    return VERDICT_DROP;
  }
  *pi = header_public_index(r, h);
  if (*pi < 0) {
    *drop = PARLEY_RELAY_CTR_DROP_UNKNOWN_FLOW;
    return VERDICT_DROP;
  }
  key_from_header(k, h, *pi);
  entry_t *e = tab_find(r, k);
  /* only back to a client with a live flow, and only from the transceiver that flow goes to */
  if (!e || !same_addr(&e->dst, src)) {
    *drop = PARLEY_RELAY_CTR_DROP_UNKNOWN_FLOW;
    return VERDICT_DROP;
  }
  *flow = e;
  return VERDICT_FORWARD;
}

/* ---------- first checks in the loop (docs/relay.md, "First checks in the loop") ----------
   A STUN Binding request from an unknown (client address, public index) that the loop makes a
   flow of itself, in the one common case where every rule of route.ts routeFromClient gives
   'created' for sure: the source has rate left (its own bucket here, same rate and burst as the
   worker's limiter), no token is revoked in this worker, the token has no flow here (nor had one
   in its first-flow window) and it is not revoked here, it opens and the MESSAGE-INTEGRITY verifies (first_check.h), it is
   inside its first-flow window, its destination is in the transceiver networks, and the table
   has room. The revoked tokens are mirrored from JavaScript's set (nfc_revoke), each only while
   the loop could still take it: until its first-flow window ends. Anything else — every refusal included — is a miss as before and JavaScript decides
   and counts it; the only state a deferred check changes here is its source's bucket. JavaScript
   learns of each flow made here through the miss queue (a 'created' entry, in packet order) and
   does the per-token bookkeeping, its own rate bucket, the store write and the stats.
   Pure: no sockets, no allocation; the caller holds r->lock. */
#define NFC_TOKENS 4096 /* tokens with a flow made or installed here, until their first-flow window ends */
#define NFC_SOURCES 4096 /* rate buckets */
#define NFC_PROBE 12 /* slots looked at per key; none free among them: JS decides */

typedef struct {
  uint8_t len; /* 0: empty */
  char ufrag[PARLEY_TOKEN_MAX_UFRAG_CHARS];
  int64_t until; /* ms: free again from then */
} nfc_token_t;

typedef struct {
  uint8_t key[9]; /* route.ts rateKey: the IPv4 address, or an IPv6 /64; byte 8: IPv6 */
  uint8_t used;
  double tokens;
  int64_t at;
} nfc_bucket_t;

typedef struct nfc {
  fc_keyring_t ring;
  fc_macs_t macs;
  double lifetime_ms, skew_ms, window_ms, rate, burst;
  /* The loop's own budget for checks that reach fc_verify (nfc_budget_take): per second, its burst, and what is left. */
  double checks_per_second, budget;
  int64_t budget_at;
  int64_t doubt_until; /* a token (installed flow, revocation) could not be noted: the path is off until then */
  nfc_token_t tokens[NFC_TOKENS];
  nfc_token_t revoked[NFC_TOKENS]; /* revoked tokens, each until its first-flow window ends */
  nfc_bucket_t sources[NFC_SOURCES];
} nfc_t;

/* What a created flow needs from the decision. */
typedef struct {
  fc_verified_t v;
  addr_u dst;
  socklen_t dstlen;
  const uint8_t *ufrag;
  size_t ulen;
  int token_slot;
} nfc_made_t;

static uint32_t nfc_hash(const uint8_t *p, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
  return h;
}

/* 1: the token has a live entry (a flow made or installed here within its window); else 0 with
   *free a slot it may take, or -1 when its probe window is full. */
static int nfc_token_held(const nfc_token_t *tab, const uint8_t *u, size_t ulen, int64_t now, int *free_slot) {
  uint32_t h = nfc_hash(u, ulen);
  *free_slot = -1;
  for (int i = 0; i < NFC_PROBE; i++) {
    int s = (int)((h + (uint32_t)i) & (NFC_TOKENS - 1));
    const nfc_token_t *t = &tab[s];
    int live = t->len != 0 && now < t->until;
    if (live && t->len == ulen && memcmp(t->ufrag, u, ulen) == 0) return 1;
    if (!live && *free_slot < 0) *free_slot = s;
  }
  return 0;
}

static void nfc_token_set(nfc_token_t *tab, int slot, const uint8_t *u, size_t ulen, int64_t until) {
  nfc_token_t *t = &tab[slot];
  t->len = (uint8_t)ulen;
  memcpy(t->ufrag, u, ulen);
  t->until = until;
}

/* Notes token `u` in `tab` until `until` (a live entry is extended); when it cannot be noted,
   the loop makes no flow at all until then. */
static void nfc_note(nfc_t *n, nfc_token_t *tab, const uint8_t *u, size_t ulen, int64_t now, int64_t until) {
  if (ulen == 0 || ulen > PARLEY_TOKEN_MAX_UFRAG_CHARS) return; /* no token the loop could ever open */
  uint32_t h = nfc_hash(u, ulen);
  for (int i = 0; i < NFC_PROBE; i++) {
    nfc_token_t *t = &tab[(h + (uint32_t)i) & (NFC_TOKENS - 1)];
    if (t->len != 0 && now < t->until && t->len == ulen && memcmp(t->ufrag, u, ulen) == 0) {
      if (t->until < until) t->until = until;
      return;
    }
  }
  int slot;
  if (!nfc_token_held(tab, u, ulen, now, &slot) && slot >= 0) nfc_token_set(tab, slot, u, ulen, until);
  else if (n->doubt_until < until) n->doubt_until = until;
}

/* A flow JavaScript installed (route.ts created it, or recovered it from the store): its token is
   noted for a first-flow window from now, so the loop never makes a second flow of it. */
static void nfc_note_installed(nfc_t *n, const uint8_t *u, size_t ulen, int64_t now) {
  nfc_note(n, n->tokens, u, ulen, now, now + (int64_t)n->window_ms);
}

/* A token the worker learnt is revoked (JavaScript's RevokedTokens.add): held here until its
   first-flow window ends — past it the loop never takes the token anyway. A token that does not
   open with the keyring (whatever the time) can never pass fc_verify: nothing to hold. */
static void nfc_revoke(nfc_t *n, const uint8_t *u, size_t ulen, int64_t now) {
  fc_verified_t v;
  int id;
  /* opened without its time checks: an issue time at most "now" 1e15 ms, a lifetime without end */
  if (fc_open(&n->ring, &n->macs, u, ulen, 1e15, INFINITY, 0, &v, &id) != PARLEY_RELAY_CHECK_VERIFIED) return;
  int64_t until = (int64_t)(v.issued_at + n->window_ms) + 1;
  if (until > now) nfc_note(n, n->revoked, u, ulen, now, until);
}

/* A token bucket (core/rate-limit.ts's rule): refilled at `rate` a second up to `burst` since *at, then one taken: 1, or 0 when empty. */
static int bucket_take(double *tokens, int64_t *at, double rate, double burst, int64_t now) {
  if (now > *at) {
    double t = *tokens + (double)(now - *at) / 1000 * rate;
    *tokens = t < burst ? t : burst;
    *at = now;
  }
  if (!(*tokens >= 1)) return 0;
  *tokens -= 1;
  return 1;
}

/* core/rate-limit.ts KeyedTokenBuckets.take for the source's rateKey: 1 taken, 0 empty, -1 no
   bucket free (the loop defers; JavaScript's limiter decides). A bucket that has refilled
   completely is free (it behaves as a new one, as prune() says there). */
static int nfc_rate_take(nfc_t *n, const addr_u *src, int64_t now) {
  uint8_t key[9] = {0};
  if (src->sa.sa_family == AF_INET6) {
    memcpy(key, &src->v6.sin6_addr, 8);
    key[8] = 1;
  } else
    memcpy(key, &src->v4.sin_addr, 4);
  uint32_t h = nfc_hash(key, sizeof key);
  nfc_bucket_t *b = NULL, *fresh = NULL;
  for (int i = 0; i < NFC_PROBE && !b; i++) {
    nfc_bucket_t *c = &n->sources[(h + (uint32_t)i) & (NFC_SOURCES - 1)];
    if (c->used && memcmp(c->key, key, sizeof key) == 0) b = c;
    else if (!fresh && (!c->used || c->tokens + (double)(now - c->at) / 1000 * n->rate >= n->burst)) fresh = c;
  }
  if (!b) {
    if (!fresh) return -1;
    b = fresh;
    memcpy(b->key, key, sizeof key);
    b->used = 1;
    b->tokens = n->burst;
    b->at = now;
  }
  return bucket_take(&b->tokens, &b->at, n->rate, n->burst, now);
}

/* The loop's crypto budget: at most checks_per_second first checks a second (a burst of as many)
   reach fc_verify here, whatever their sources; the rest go to JavaScript as before. A flood of
   checks from spoofed sources (each with a fresh per-source bucket) then costs this loop — which
   forwards every call's media on its socket, under the table lock — a bounded amount of HMAC a
   second, not one HMAC per datagram; past it the loop only queues misses, as without this path. */
static int nfc_budget_take(nfc_t *n, int64_t now) {
  return bucket_take(&n->budget, &n->budget_at, n->checks_per_second, n->checks_per_second, now);
}

/* raw.ts peekUsername + route.ts ufragOf on a Binding request: 1 with the ufrag (the USERNAME's
   bytes before its first ':', ASCII, non-empty); 2 when JavaScript would rate-limit it but it
   names no ufrag; 0 when JavaScript would not take it for a check at all. */
static int nfc_check_ufrag(const uint8_t *d, size_t len, const uint8_t **u, size_t *ulen) {
  if (len < STUN_HEADER || d[0] != 0 || d[1] != 1 || !fc_well_framed(d, len)) return 0;
  size_t off = STUN_HEADER;
  while (off + 4 <= len) {
    unsigned t = ((unsigned)d[off] << 8) | d[off + 1];
    size_t alen = ((size_t)d[off + 2] << 8) | d[off + 3];
    if (t == STUN_USERNAME) {
      if (alen > STUN_MAX_USERNAME) return 0;
      const uint8_t *user = d + off + 4;
      for (size_t i = 0; i < alen; i++)
        if (user[i] >= 0x80) return 0; /* JavaScript reads UTF-8 here; no token has it */
      size_t colon = 0;
      while (colon < alen && user[colon] != ':') colon++;
      if (colon == 0 || colon == alen) return 2;
      *u = user;
      *ulen = colon;
      return 1;
    }
    if (t == STUN_MESSAGE_INTEGRITY) return 0;
    off += 4 + ((alen + 3) & ~(size_t)3);
  }
  return 0;
}

/* The decision for datagram `d` (len bytes) from `src`, unknown on public `pi`, at `now`: 1 when
   the loop makes the flow (*m filled), 0 when JavaScript decides. */
static int nfc_decide(relay_t *r, nfc_t *n, const uint8_t *d, size_t len, const addr_u *src, int64_t now, nfc_made_t *m) {
  const uint8_t *u = NULL;
  size_t ulen = 0;
  int kind = nfc_check_ufrag(d, len, &u, &ulen);
  /* the rate limit before any crypto, for every check JavaScript's limiter would count */
  if (kind == 0 || nfc_rate_take(n, src, now) != 1 || kind != 1) return 0;
  if (now < n->doubt_until || r->count >= r->maxcount) return 0;
  int slot, unused;
  if (nfc_token_held(n->revoked, u, ulen, now, &unused) || nfc_token_held(n->tokens, u, ulen, now, &slot) || slot < 0) return 0;
  if (!nfc_budget_take(n, now)) return 0;
  int rc = fc_verify(&n->ring, &n->macs, d, len, u, ulen, (double)now, n->lifetime_ms, n->skew_ms, &m->v);
  ERR_clear_error(); /* this thread's OpenSSL error queue stays empty */
  if (rc != PARLEY_RELAY_CHECK_VERIFIED) return 0;
  if (!((double)now - m->v.issued_at <= n->window_ms)) return 0;
  /* the internal socket has one family (worker.ts transceiverAllowed), and the networks */
  memset(&m->dst, 0, sizeof m->dst);
  if (m->v.family == PARLEY_TOKEN_FAMILY_V6) {
    if (!r->in_v6) return 0;
    m->dst.v6.sin6_family = AF_INET6;
    memcpy(&m->dst.v6.sin6_addr, m->v.ip, 16);
    m->dst.v6.sin6_port = htons(m->v.port);
    m->dstlen = sizeof m->dst.v6;
  } else {
    if (r->in_v6) return 0;
    m->dst.v4.sin_family = AF_INET;
    memcpy(&m->dst.v4.sin_addr, m->v.ip, 4);
    m->dst.v4.sin_port = htons(m->v.port);
    m->dstlen = sizeof m->dst.v4;
  }
  if (!source_allowed(r, &m->dst)) return 0;
  m->ufrag = u;
  m->ulen = ulen;
  m->token_slot = slot;
  return 1;
}

/* relay-header.ts writeRelayHeader (UDP, version 1) for client `k` on public `pi`. */
static void nfc_header(const relay_t *r, const fkey_t *k, int pi, uint8_t h[HDR]) {
  memset(h, 0, HDR);
  h[PARLEY_RELAY_HEADER_OFF_MAGIC] = PARLEY_RELAY_HEADER_MAGIC_0;
  h[PARLEY_RELAY_HEADER_OFF_MAGIC + 1] = PARLEY_RELAY_HEADER_MAGIC_1;
  h[PARLEY_RELAY_HEADER_OFF_VERSION] = PARLEY_RELAY_HEADER_VERSION;
  h[PARLEY_RELAY_HEADER_OFF_FLAGS] = (uint8_t)((k->v6 ? PARLEY_RELAY_HEADER_FLAG_CLIENT_IPV6 : 0) |
                                               (r->pubs[pi].v6 ? PARLEY_RELAY_HEADER_FLAG_PUBLIC_IPV6 : 0));
  h[PARLEY_RELAY_HEADER_OFF_CLIENT_PORT] = (uint8_t)(k->port >> 8);
  h[PARLEY_RELAY_HEADER_OFF_CLIENT_PORT + 1] = (uint8_t)k->port;
  h[PARLEY_RELAY_HEADER_OFF_PUBLIC_PORT] = (uint8_t)(r->pubs[pi].port >> 8);
  h[PARLEY_RELAY_HEADER_OFF_PUBLIC_PORT + 1] = (uint8_t)r->pubs[pi].port;
  memcpy(h + PARLEY_RELAY_HEADER_OFF_CLIENT_IP, k->ip, k->v6 ? 16 : 4);
  memcpy(h + PARLEY_RELAY_HEADER_OFF_PUBLIC_IP, r->pubs[pi].ip, 16);
}

/* Makes the flow nfc_decide allowed: the entry (unconfirmed, stamped now, as route.ts admit and
   install make it) and the token noted. 0, or -1 (out of memory: JavaScript decides). */
static int nfc_make(relay_t *r, nfc_t *n, const fkey_t *k, int pi, const nfc_made_t *m, int64_t now, entry_t **out) {
  char *u = malloc(m->ulen + 1);
  if (!u) return -1;
  memcpy(u, m->ufrag, m->ulen);
  u[m->ulen] = 0;
  entry_t *e = tab_add(r, k);
  if (!e) {
    free(u);
    return -1;
  }
  e->last_seen = now;
  e->stored_at = now;
  e->dst = m->dst;
  e->dstlen = m->dstlen;
  nfc_header(r, k, pi, e->hdr);
  e->ufrag = u;
  e->confirmed = 0;
  nfc_token_set(n->tokens, m->token_slot, m->ufrag, m->ulen, (int64_t)(m->v.issued_at + n->window_ms));
  *out = e;
  return 0;
}

/* Without N-API and sockets (the fuzz harness): the table, addresses and decisions only. */
#ifndef PARLEY_RELAY_DECISIONS_ONLY

/* ---------- loop ---------- */


/* Under mlock: whether this loop must wake JS for what is queued (it then calls wake_js once it
   has sent its batch and holds no lock). The caller that claims it is the only one: JS clears the
   mark under mlock when it takes the queue (call_js). */
static int claim_wake(relay_t *r) {
  if (r->notify_pending || r->nmiss == 0) return 0;
  r->notify_pending = 1;
  return 1;
}

/* Wakes JS for the queued misses, after the batch's forwards and outside both locks: waking the
   JS thread can cost this thread 0.1–0.8 ms on a small box (the woken thread runs first and then
   wants mlock), which before this change sat between a first check and its forward. */
static void wake_js(relay_t *r) {
  if (napi_call_threadsafe_function(r->tsfn, NULL, napi_tsfn_nonblocking) == napi_ok) return;
  pthread_mutex_lock(&r->mlock);
  r->notify_pending = 0;
  pthread_mutex_unlock(&r->mlock);
}

typedef struct bufs {
  relay_t *r;
  int which; /* public index, or -1: the internal socket */
  int publisher; /* this loop writes the counters into the stats array */
  uint64_t c[C_N]; /* this batch's counts */
  uint8_t (*buf)[HDR + BUFSZ];
  addr_u *src, *dst;
  struct mmsghdr *rm, *sm;
  struct iovec *riov, *siov;
  int *sfd;
  int *missidx;
} bufs_t;

/* Adds a batch's counts to the shared counters; the publisher loop also writes them all into
   the stats array (one writer per slot, so a scrape never sees a counter go back). */
static void flush_counts(relay_t *r, bufs_t *b) {
  for (int i = 0; i < C_N; i++)
    if (b->c[i]) {
      __atomic_fetch_add(&r->cnt[i], b->c[i], __ATOMIC_RELAXED);
      b->c[i] = 0;
    }
  if (!b->publisher) return;
  for (int i = 0; i < C_N; i++) {
    if (r->slots[i] < 0) continue;
    double v = (double)__atomic_load_n(&r->cnt[i], __ATOMIC_RELAXED);
    __atomic_store(&r->stats[r->slots[i]], &v, __ATOMIC_RELAXED);
  }
}

static void send_runs(relay_t *r, bufs_t *b, int m) {
  (void)r;
  /* consecutive messages with the same socket go in one sendmmsg */
  int start = 0;
  while (start < m) {
    int fd = b->sfd[start], end = start + 1;
    while (end < m && b->sfd[end] == fd) end++;
    int done = start;
    while (done < end) {
      int n = sendmmsg(fd, b->sm + done, (unsigned)(end - done), 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        b->c[PARLEY_RELAY_CTR_DROP_SEND_ERROR]++;
        done++;
        continue;
      }
      done += n;
    }
    start = end;
  }
}

/* Queues this batch's misses so far (b->missidx[0..nm)) for JS; the caller holds mlock. */
static void queue_misses(relay_t *r, bufs_t *b, int pi, int nm) {
  for (int j = 0; j < nm; j++) {
    int i = b->missidx[j];
    /* JS is behind. Media from unknown senders (store lookups) may fill half the queue, so a
       backlog of junk never crowds out first packets (STUN, first byte 0..3); what does not
       fit is counted as miss_queue_full */
    int stun = b->buf[i][HDR] <= 3;
    if (r->nmiss >= (stun ? MISS_CAP : MISS_CAP / 2)) {
      b->c[PARLEY_RELAY_CTR_DROP_MISS_QUEUE_FULL]++;
      continue;
    }
    miss_t *q = &r->miss[r->nmiss++];
    q->len = (uint16_t)b->rm[i].msg_len;
    q->pub = (uint8_t)pi;
    q->created = 0;
    q->from = b->src[i];
    memcpy(q->data, b->buf[i] + HDR, q->len);
    b->c[PARLEY_RELAY_CTR_MISSES]++;
  }
}

/* Datagram i, from an address with no flow on public pi: the flow the loop made of it (nfc_decide;
   the caller forwards the check on it), or NULL for JS to decide. The caller holds r->lock; this
   takes mlock inside it (the one place both are held, always in this order), queues the batch's
   earlier misses and then the 'created' entry, so JS sees them in packet order and learns of the
   flow before any later packet it handles; `wake` says the caller must wake JS (after its sends). */
static entry_t *make_first_flow(relay_t *r, bufs_t *b, int i, int pi, int *nm, int64_t now, int *wake) {
  nfc_made_t made;
  if (!nfc_decide(r, r->nfc, b->buf[i] + HDR, b->rm[i].msg_len, &b->src[i], now, &made)) return NULL;
  fkey_t k;
  key_from_sockaddr(&k, &b->src[i], pi);
  entry_t *e = NULL;
  pthread_mutex_lock(&r->mlock);
  queue_misses(r, b, pi, *nm);
  *nm = 0;
  /* no room for the entry that tells JS: JS decides (the check is then counted miss_queue_full) */
  if (r->nmiss < MISS_CAP && nfc_make(r, r->nfc, &k, pi, &made, now, &e) == 0) {
    miss_t *q = &r->miss[r->nmiss++];
    q->len = (uint16_t)b->rm[i].msg_len;
    q->pub = (uint8_t)pi;
    q->created = 1;
    q->issued_at = made.v.issued_at;
    q->from = b->src[i];
    memcpy(q->data, b->buf[i] + HDR, q->len);
    b->c[PARLEY_RELAY_CTR_FIRST_CHECKS_IN_LOOP]++;
    *wake |= claim_wake(r);
  }
  pthread_mutex_unlock(&r->mlock);
  return e;
}

/* One recvmmsg from public socket `pi`; returns how many datagrams it read. */
static int round_public(relay_t *r, bufs_t *b, int pi) {
  for (int i = 0; i < BATCH; i++) {
    b->riov[i].iov_base = b->buf[i] + HDR;
    b->riov[i].iov_len = BUFSZ;
    b->rm[i].msg_hdr.msg_iov = &b->riov[i];
    b->rm[i].msg_hdr.msg_iovlen = 1;
    b->rm[i].msg_hdr.msg_name = &b->src[i];
    b->rm[i].msg_hdr.msg_namelen = sizeof b->src[i];
    b->rm[i].msg_hdr.msg_control = NULL;
    b->rm[i].msg_hdr.msg_controllen = 0;
    b->rm[i].msg_hdr.msg_flags = 0;
  }
  int n = recvmmsg(r->pub_fd[pi], b->rm, BATCH, MSG_WAITFORONE, NULL);
  if (n <= 0) return 0;
  int64_t now = coarse_now(r);
  int m = 0, nm = 0, wake = 0;
  pthread_mutex_lock(&r->lock);
  for (int i = 0; i < n; i++) {
    size_t len = b->rm[i].msg_len;
    entry_t *e = NULL;
    int drop = 0;
    verdict_t v = classify_public(r, b->buf[i] + HDR, len, (b->rm[i].msg_hdr.msg_flags & MSG_TRUNC) != 0, &b->src[i], pi, &e, &drop);
    if (v == VERDICT_DROP) {
      b->c[drop]++;
      continue;
    }
    if (v == VERDICT_MISS && !(e == NULL && r->nfc && (e = make_first_flow(r, b, i, pi, &nm, now, &wake)) != NULL)) {
      b->missidx[nm++] = i;
      continue;
    }
    e->last_seen = now;
    memcpy(b->buf[i], e->hdr, HDR);
    b->dst[m] = e->dst;
    b->sm[m].msg_hdr.msg_name = &b->dst[m];
    b->sm[m].msg_hdr.msg_namelen = e->dstlen;
    b->siov[m].iov_base = b->buf[i];
    b->siov[m].iov_len = len + HDR;
    b->sm[m].msg_hdr.msg_iov = &b->siov[m];
    b->sm[m].msg_hdr.msg_iovlen = 1;
    b->sfd[m] = r->in_fd;
    b->c[PARLEY_RELAY_CTR_PKTS_TO_TRANSCEIVER]++;
    b->c[PARLEY_RELAY_CTR_BYTES_TO_TRANSCEIVER] += len;
    m++;
  }
  pthread_mutex_unlock(&r->lock);
  if (nm > 0) {
    pthread_mutex_lock(&r->mlock);
    queue_misses(r, b, pi, nm);
    wake |= claim_wake(r);
    pthread_mutex_unlock(&r->mlock);
  }
  send_runs(r, b, m);
  if (wake) wake_js(r);
  return n;
}

static int round_internal(relay_t *r, bufs_t *b) {
  for (int i = 0; i < BATCH; i++) {
    b->riov[i].iov_base = b->buf[i];
    b->riov[i].iov_len = HDR + BUFSZ;
    b->rm[i].msg_hdr.msg_iov = &b->riov[i];
    b->rm[i].msg_hdr.msg_iovlen = 1;
    b->rm[i].msg_hdr.msg_name = &b->src[i];
    b->rm[i].msg_hdr.msg_namelen = sizeof b->src[i];
    b->rm[i].msg_hdr.msg_control = NULL;
    b->rm[i].msg_hdr.msg_controllen = 0;
    b->rm[i].msg_hdr.msg_flags = 0;
  }
  int n = recvmmsg(r->in_fd, b->rm, BATCH, MSG_WAITFORONE, NULL);
  if (n <= 0) return 0;
  int m = 0;
  pthread_mutex_lock(&r->lock);
  for (int i = 0; i < n; i++) {
    size_t len = b->rm[i].msg_len;
    int pi = -1, drop = 0;
    fkey_t k;
    entry_t *e;
    if (classify_internal(r, b->buf[i], len, (b->rm[i].msg_hdr.msg_flags & MSG_TRUNC) != 0, &b->src[i], &pi, &k, &drop, &e) !=
        VERDICT_FORWARD) {
      b->c[drop]++;
      continue;
    }
    e->confirmed = 1; /* the reply path confirms a flow (route.ts) */
    b->sm[m].msg_hdr.msg_namelen = sockaddr_from_key(&b->dst[m], &k);
    b->sm[m].msg_hdr.msg_name = &b->dst[m];
    b->siov[m].iov_base = b->buf[i] + HDR;
    b->siov[m].iov_len = len - HDR;
    b->sm[m].msg_hdr.msg_iov = &b->siov[m];
    b->sm[m].msg_hdr.msg_iovlen = 1;
    b->sfd[m] = r->pub_fd[pi];
    b->c[PARLEY_RELAY_CTR_PKTS_TO_CLIENT]++;
    b->c[PARLEY_RELAY_CTR_BYTES_TO_CLIENT] += len - HDR;
    m++;
  }
  pthread_mutex_unlock(&r->lock);
  send_runs(r, b, m);
  return n;
}

static void *loop(void *arg) {
  bufs_t *b = arg;
  relay_t *r = b->r;
  while (!r->stop) {
    /* blocks until one datagram (or SO_RCVTIMEO / shutdown at close), then takes what is there */
    if (b->which >= 0) round_public(r, b, b->which);
    else round_internal(r, b);
    flush_counts(r, b);
  }
  flush_counts(r, b);
  return NULL;
}

typedef struct {
  bufs_t *b;
  relay_t *r;
  int slot;
} start_t;

/* The scheduler slice a loop thread asks for (Linux ≥ 6.12, EEVDF: sched_attr.sched_runtime of a
   SCHED_OTHER thread; 0.1 ms is the kernel's least). A loop sleeps in recvmmsg and runs ~0.05 ms
   per batch; with the default slice (0.7 ms × (1 + log2 CPUs)) a woken loop waits behind the
   running thread's slice (the transceiver, a load generator), which is what stretched single relay
   hops to 2–15 ms on a busy 2-core box (docs/performance.md, load8). A shorter slice gives the woken
   loop an earlier deadline, so it runs first; its share of the CPU is unchanged (same nice). No
   privilege is needed (the nice value is kept); older kernels ignore it. */
#define LOOP_SLICE_NS 100000

struct loop_sched_attr { /* the kernel's struct sched_attr (glibc has no wrapper before 2.41) */
  uint32_t size, policy;
  uint64_t flags;
  int32_t nice;
  uint32_t priority;
  uint64_t runtime, deadline, period;
};

static void ask_short_slice(void) {
#ifdef SYS_sched_setattr
  errno = 0;
  int nice = getpriority(PRIO_PROCESS, 0); /* this thread's: Linux applies it per thread */
  if (nice == -1 && errno != 0) return;
  struct loop_sched_attr a = {.size = sizeof a, .policy = SCHED_OTHER, .nice = nice, .runtime = LOOP_SLICE_NS};
  (void)syscall(SYS_sched_setattr, 0, &a, 0);
#endif
}

static void *thread_main(void *arg) {
  start_t *st = arg;
  bufs_t *b = st->b; /* st is on the opener's stack: read it before saying the tid */
  ask_short_slice();
  __atomic_store_n(&st->r->tids[st->slot], (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
  return loop(b);
}

static void free_bufs(bufs_t *b) {
  if (!b) return;
  free(b->buf), free(b->src), free(b->dst), free(b->rm), free(b->sm), free(b->riov), free(b->siov), free(b->sfd), free(b->missidx);
  free(b);
}

static bufs_t *alloc_bufs(relay_t *r, int which, int publisher) {
  bufs_t *b = calloc(1, sizeof *b);
  if (!b) return NULL;
  b->r = r;
  b->which = which;
  b->publisher = publisher;
  b->buf = calloc(BATCH, sizeof *b->buf);
  b->src = calloc(BATCH, sizeof *b->src);
  b->dst = calloc(BATCH, sizeof *b->dst);
  b->rm = calloc(BATCH, sizeof *b->rm);
  b->sm = calloc(BATCH, sizeof *b->sm);
  b->riov = calloc(BATCH, sizeof *b->riov);
  b->siov = calloc(BATCH, sizeof *b->siov);
  b->sfd = calloc(BATCH, sizeof *b->sfd);
  b->missidx = calloc(BATCH, sizeof *b->missidx);
  if (!b->buf || !b->src || !b->dst || !b->rm || !b->sm || !b->riov || !b->siov || !b->sfd || !b->missidx) {
    free_bufs(b);
    return NULL;
  }
  return b;
}

/* ---------- JS glue ---------- */

#define CHECK(call)                                                              \
  do {                                                                           \
    if ((call) != napi_ok) {                                                     \
      const napi_extended_error_info *ei;                                        \
      napi_get_last_error_info(env, &ei);                                        \
      napi_throw_error(env, NULL, ei && ei->error_message ? ei->error_message : #call); \
      return NULL;                                                               \
    }                                                                            \
  } while (0)

static void unref_relay(relay_t *r) {
  if (__atomic_sub_fetch(&r->refs, 1, __ATOMIC_ACQ_REL) == 0) {
    free(r->miss);
    free(r->miss_spare);
    free(r);
  }
}

static void stop_and_close(relay_t *r) {
  if (r->closed) return;
  r->closed = 1;
  if (r->nthr > 0) {
    r->stop = 1;
    /* wakes a loop blocked in recvmmsg (it returns 0); SO_RCVTIMEO is the backstop */
    for (int i = 0; i < r->npub; i++) shutdown(r->pub_fd[i], SHUT_RD);
    if (r->in_fd >= 0) shutdown(r->in_fd, SHUT_RD);
    for (int i = 0; i < r->nthr; i++) pthread_join(r->thr[i], NULL);
    for (int i = 0; i < r->nthr; i++) free_bufs(r->bufs[i]);
    r->nthr = 0;
  }
  for (int i = 0; i < r->npub; i++)
    if (r->pub_fd[i] >= 0) close(r->pub_fd[i]), r->pub_fd[i] = -1;
  if (r->in_fd >= 0) close(r->in_fd), r->in_fd = -1;
  pthread_mutex_lock(&r->lock);
  for (uint32_t i = 0; r->ents && i < r->count; i++) free(r->ents[i].ufrag);
  free(r->idx);
  free(r->ents);
  free(r->due);
  r->idx = NULL;
  r->ents = NULL;
  r->due = NULL;
  r->count = 0;
  if (r->nfc) {
    fc_macs_free(&r->nfc->macs);
    OPENSSL_cleanse(r->nfc, sizeof *r->nfc);
    free(r->nfc);
    r->nfc = NULL;
  }
  pthread_mutex_unlock(&r->lock);
  if (r->tsfn) {
    napi_release_threadsafe_function(r->tsfn, napi_tsfn_abort);
    r->tsfn = NULL;
  }
}

/* The typed arrays the loops wrote into (stats) and read (now) may be collected after close. */
static void delete_refs(napi_env env, relay_t *r) {
  if (r->stats_ref) napi_delete_reference(env, r->stats_ref), r->stats_ref = NULL;
  if (r->now_ref) napi_delete_reference(env, r->now_ref), r->now_ref = NULL;
}

static void cleanup_hook(void *arg) {
  /* the worker's environment is going away (terminate() or exit) without close() */
  relay_t *r = arg;
  stop_and_close(r);
}

static void finalize_external(napi_env env, void *data, void *hint) {
  (void)env, (void)hint;
  unref_relay(data);
}

static void finalize_tsfn(napi_env env, void *data, void *hint) {
  (void)env, (void)hint;
  unref_relay(data);
}

/* Runs on the JS thread: hands every queued miss to JS as one flat array of
   PARLEY_RELAY_MISS_FIELDS values per datagram (relay-native.ts NATIVE_MISS_FIELDS). */
static void call_js(napi_env env, napi_value cb, void *ctx, void *data) {
  (void)data;
  relay_t *r = ctx;
  if (env == NULL || cb == NULL || r->closed) return;
  pthread_mutex_lock(&r->mlock);
  miss_t *q = r->miss;
  int n = r->nmiss;
  r->miss = r->miss_spare;
  r->miss_spare = q;
  r->nmiss = 0;
  r->notify_pending = 0;
  pthread_mutex_unlock(&r->mlock);
  if (n == 0) return;
  napi_value arr, v, undef;
  if (napi_create_array_with_length(env, (size_t)n * PARLEY_RELAY_MISS_FIELDS, &arr) != napi_ok) return;
  for (int i = 0; i < n; i++) {
    char ip[INET6_ADDRSTRLEN] = "";
    int port, v6 = q[i].from.sa.sa_family == AF_INET6;
    if (v6) {
      inet_ntop(AF_INET6, &q[i].from.v6.sin6_addr, ip, sizeof ip);
      port = ntohs(q[i].from.v6.sin6_port);
    } else {
      inet_ntop(AF_INET, &q[i].from.v4.sin_addr, ip, sizeof ip);
      port = ntohs(q[i].from.v4.sin_port);
    }
    void *copy;
    napi_create_buffer_copy(env, q[i].len, q[i].data, &copy, &v);
    napi_set_element(env, arr, (uint32_t)i * PARLEY_RELAY_MISS_FIELDS + PARLEY_RELAY_MISS_PAYLOAD, v);
    napi_create_string_utf8(env, ip, NAPI_AUTO_LENGTH, &v);
    napi_set_element(env, arr, (uint32_t)i * PARLEY_RELAY_MISS_FIELDS + PARLEY_RELAY_MISS_ADDRESS, v);
    napi_create_int32(env, port, &v);
    napi_set_element(env, arr, (uint32_t)i * PARLEY_RELAY_MISS_FIELDS + PARLEY_RELAY_MISS_PORT, v);
    napi_create_string_utf8(env, v6 ? "IPv6" : "IPv4", NAPI_AUTO_LENGTH, &v);
    napi_set_element(env, arr, (uint32_t)i * PARLEY_RELAY_MISS_FIELDS + PARLEY_RELAY_MISS_FAMILY, v);
    napi_create_int32(env, q[i].pub, &v);
    napi_set_element(env, arr, (uint32_t)i * PARLEY_RELAY_MISS_FIELDS + PARLEY_RELAY_MISS_PUBLIC_INDEX, v);
    if (q[i].created) {
      napi_create_double(env, q[i].issued_at, &v);
      napi_set_element(env, arr, (uint32_t)i * PARLEY_RELAY_MISS_FIELDS + PARLEY_RELAY_MISS_CREATED, v);
    }
  }
  napi_get_undefined(env, &undef);
  napi_call_function(env, undef, cb, 1, &arr, NULL);
}

static napi_value get_prop(napi_env env, napi_value obj, const char *name) {
  napi_value v = NULL;
  napi_get_named_property(env, obj, name, &v);
  return v;
}

static int get_str(napi_env env, napi_value v, char *out, size_t cap) {
  size_t len;
  if (napi_get_value_string_utf8(env, v, out, cap, &len) != napi_ok) return -1;
  return len < cap - 1 ? 0 : -1;
}

static int get_i32(napi_env env, napi_value v, int32_t *out) {
  return napi_get_value_int32(env, v, out) == napi_ok ? 0 : -1;
}

static int throw_errno(napi_env env, const char *what, const char *addr, int port, int e) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s %s:%d failed: %s (%s)", what, addr, port, errno_name(e), strerror(e));
  napi_throw_error(env, errno_name(e), msg);
  return -1;
}

/* Creates and binds a UDP socket for {address, port, family}; -1 after throwing. */
static int open_socket(napi_env env, napi_value spec, int reuse, int bufbytes, addr_u *bound) {
  char ip[64];
  int32_t port;
  if (get_str(env, get_prop(env, spec, "address"), ip, sizeof ip) || get_i32(env, get_prop(env, spec, "port"), &port) ||
      port < 0 || port > 65535) {
    napi_throw_type_error(env, NULL, "bad socket address");
    return -1;
  }
  addr_u a;
  socklen_t alen;
  if (parse_ip(ip, (uint16_t)port, &a, &alen)) {
    napi_throw_type_error(env, NULL, "not a literal IP");
    return -1;
  }
  int fd = socket(a.sa.sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", ip, port, errno);
  int one = 1;
  if (a.sa.sa_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (reuse) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (bufbytes > 0) {
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bufbytes, sizeof bufbytes))
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufbytes, sizeof bufbytes);
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bufbytes, sizeof bufbytes))
      setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufbytes, sizeof bufbytes);
  }
  struct timeval tv = {0, 100000}; /* a blocked loop checks for close at least every 100 ms */
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (bind(fd, &a.sa, alen)) {
    int e = errno;
    close(fd);
    return throw_errno(env, "bind", ip, port, e);
  }
  socklen_t bl = sizeof *bound;
  getsockname(fd, &bound->sa, &bl);
  return fd;
}

static napi_value addr_value(napi_env env, const addr_u *a) {
  char ip[INET6_ADDRSTRLEN] = "";
  int port;
  if (a->sa.sa_family == AF_INET6) {
    inet_ntop(AF_INET6, &a->v6.sin6_addr, ip, sizeof ip);
    port = ntohs(a->v6.sin6_port);
  } else {
    inet_ntop(AF_INET, &a->v4.sin_addr, ip, sizeof ip);
    port = ntohs(a->v4.sin_port);
  }
  napi_value o, v;
  napi_create_object(env, &o);
  napi_create_string_utf8(env, ip, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, o, "address", v);
  napi_create_int32(env, port, &v);
  napi_set_named_property(env, o, "port", v);
  napi_create_string_utf8(env, a->sa.sa_family == AF_INET6 ? "IPv6" : "IPv4", NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, o, "family", v);
  return o;
}

/* The relay handle's type tag: no other external (checkKeys' keys) is ever taken for one. */
static const napi_type_tag RELAY_TAG = {0x7061726c65795245ULL, 0x4c415968616e646cULL}; /* "parleyRE" "LAYhandl" */

/* The relay behind a handle (an external with RELAY_TAG), or NULL. */
static void *relay_external(napi_env env, napi_value v) {
  bool tagged = false;
  void *p = NULL;
  if (napi_check_object_type_tag(env, v, &RELAY_TAG, &tagged) != napi_ok || !tagged || napi_get_value_external(env, v, &p) != napi_ok)
    return NULL;
  return p;
}

static relay_t *get_relay(napi_env env, napi_value v) {
  void *p = relay_external(env, v);
  if (p == NULL) {
    napi_throw_type_error(env, NULL, "not a relay handle");
    return NULL;
  }
  relay_t *r = p;
  if (r->closed) {
    napi_throw_error(env, NULL, "relay datapath is closed");
    return NULL;
  }
  return r;
}

/* The arguments of a call on a handle: `n` values, a[0] the handle; NULL after throwing. */
static relay_t *handle_args(napi_env env, napi_callback_info info, size_t n, napi_value *a) {
  size_t argc = n;
  if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc != n) {
    napi_throw_type_error(env, NULL, "wrong number of arguments");
    return NULL;
  }
  return get_relay(env, a[0]);
}

/* open({publics, internal, reusePort, socketBufferBytes, maxFlows, cidrs: [[network: Buffer, prefix]…],
         stats: Float64Array, slots: Int32Array(C_N), now: Float64Array(1), onMiss}) → {handle, publics, internal, tids} */
static napi_value open_impl(napi_env env, napi_value opts, relay_t **out);

static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value opts;
  CHECK(napi_get_cb_info(env, info, &argc, &opts, NULL, NULL));
  relay_t *r = NULL;
  napi_value res = open_impl(env, opts, &r);
  if (res == NULL && r != NULL) {
    /* partly opened: release what there is now; the handle's finalizer frees the rest */
    napi_remove_env_cleanup_hook(env, cleanup_hook, r);
    stop_and_close(r);
    delete_refs(env, r);
  }
  return res;
}

static napi_value open_impl(napi_env env, napi_value opts, relay_t **out) {
  relay_t *r = calloc(1, sizeof *r);
  if (!r) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  r->env = env;
  r->in_fd = -1;
  for (int i = 0; i < MAX_PUBLICS; i++) r->pub_fd[i] = -1;
  pthread_mutex_init(&r->lock, NULL);
  pthread_mutex_init(&r->mlock, NULL);
  r->refs = 1; /* the external; the tsfn adds one */
  napi_value external;
  if (napi_create_external(env, r, finalize_external, NULL, &external) != napi_ok) {
    free(r);
    napi_throw_error(env, NULL, "napi_create_external");
    return NULL;
  }
  napi_type_tag_object(env, external, &RELAY_TAG);
  *out = r;
  napi_add_env_cleanup_hook(env, cleanup_hook, r);
  bool b;
  int32_t reuse = 0, bufbytes = 0, maxflows = 0;
  napi_value v = get_prop(env, opts, "reusePort");
  if (v && napi_get_value_bool(env, v, &b) == napi_ok) reuse = b;
  get_i32(env, get_prop(env, opts, "socketBufferBytes"), &bufbytes);
  if (get_i32(env, get_prop(env, opts, "maxFlows"), &maxflows) || maxflows < 1) goto bad;

  /* counters: the native half of the stats array, and the slot of each counter */
  {
    napi_value st = get_prop(env, opts, "stats"), sl = get_prop(env, opts, "slots");
    napi_typedarray_type t;
    size_t len, len2;
    void *data;
    if (napi_get_typedarray_info(env, st, &t, &len, &data, NULL, NULL) != napi_ok || t != napi_float64_array) goto bad;
    r->stats = data;
    int32_t *slots;
    if (napi_get_typedarray_info(env, sl, &t, &len2, (void **)&slots, NULL, NULL) != napi_ok || t != napi_int32_array ||
        len2 != C_N)
      goto bad;
    for (int i = 0; i < C_N; i++) {
      r->slots[i] = (slots[i] >= 0 && (size_t)slots[i] < len) ? slots[i] : -1;
      /* a restarted worker continues its predecessor's counters (they are counters, not gauges) */
      if (r->slots[i] >= 0 && r->stats[r->slots[i]] > 0) r->cnt[i] = (uint64_t)r->stats[r->slots[i]];
    }
    napi_create_reference(env, st, 1, &r->stats_ref);
  }

  /* the worker's coarse clock: cell 0 of a Float64Array JS writes once per tick */
  {
    napi_value nv = get_prop(env, opts, "now");
    napi_typedarray_type t;
    size_t len;
    void *data;
    if (napi_get_typedarray_info(env, nv, &t, &len, &data, NULL, NULL) != napi_ok || t != napi_float64_array || len < 1) goto bad;
    r->now = data;
    napi_create_reference(env, nv, 1, &r->now_ref);
  }

  /* transceiver networks: [network bytes, prefix] pairs from the one CIDR parser (src/core/cidr.ts),
     host bits already zero */
  {
    napi_value list = get_prop(env, opts, "cidrs");
    uint32_t n = 0;
    if (napi_get_array_length(env, list, &n) != napi_ok || n > MAX_CIDRS) goto bad;
    for (uint32_t i = 0; i < n; i++) {
      napi_value item, e0, e1;
      napi_get_element(env, list, i, &item);
      napi_get_element(env, item, 0, &e0);
      napi_get_element(env, item, 1, &e1);
      uint8_t *net;
      size_t netlen;
      int32_t prefix;
      if (napi_get_buffer_info(env, e0, (void **)&net, &netlen) != napi_ok || (netlen != 4 && netlen != 16) || get_i32(env, e1, &prefix) ||
          prefix < 0 || prefix > (int32_t)netlen * 8)
        goto bad;
      cidr_t *c = &r->cidrs[r->ncidr++];
      c->v6 = netlen == 16;
      c->prefix = prefix;
      memset(c->ip, 0, sizeof c->ip);
      memcpy(c->ip, net, netlen);
    }
  }

  /* table: a power of two at least twice the cap (load ≤ 1/2) */
  {
    uint64_t cap = 1024;
    while (cap < (uint64_t)maxflows * 2) cap <<= 1;
    r->idx = calloc(cap, sizeof *r->idx);
    /* the worker's hard cap: install answers "full" at it */
    r->maxcount = (uint32_t)maxflows;
    r->ents = calloc(r->maxcount, sizeof *r->ents);
    r->due = calloc(r->maxcount, sizeof *r->due);
    r->miss = malloc(sizeof(miss_t) * MISS_CAP);
    r->miss_spare = malloc(sizeof(miss_t) * MISS_CAP);
    if (!r->idx || !r->ents || !r->due || !r->miss || !r->miss_spare) {
      napi_throw_error(env, "ENOMEM", "cannot allocate the flow table");
      return NULL;
    }
    r->mask = (uint32_t)(cap - 1);
  }

  /* sockets */
  napi_value result, pubs_out;
  napi_create_object(env, &result);
  {
    napi_value list = get_prop(env, opts, "publics");
    uint32_t n = 0;
    if (napi_get_array_length(env, list, &n) != napi_ok || n < 1 || n > MAX_PUBLICS) goto bad;
    napi_create_array_with_length(env, n, &pubs_out);
    for (uint32_t i = 0; i < n; i++) {
      napi_value spec;
      napi_get_element(env, list, i, &spec);
      addr_u bound;
      memset(&bound, 0, sizeof bound);
      int fd = open_socket(env, spec, reuse, bufbytes, &bound);
      if (fd < 0) return NULL; /* thrown; the cleanup hook / finalizer release the rest */
      r->pub_fd[r->npub] = fd;
      r->pubs[r->npub].v6 = bound.sa.sa_family == AF_INET6;
      memset(r->pubs[r->npub].ip, 0, 16);
      if (r->pubs[r->npub].v6) {
        memcpy(r->pubs[r->npub].ip, &bound.v6.sin6_addr, 16);
        r->pubs[r->npub].port = ntohs(bound.v6.sin6_port);
      } else {
        memcpy(r->pubs[r->npub].ip, &bound.v4.sin_addr, 4);
        r->pubs[r->npub].port = ntohs(bound.v4.sin_port);
      }
      r->npub++;
      napi_set_element(env, pubs_out, i, addr_value(env, &bound));
    }
    addr_u ib;
    memset(&ib, 0, sizeof ib);
    napi_value in_spec = get_prop(env, opts, "internal");
    r->in_fd = open_socket(env, in_spec, 1, bufbytes, &ib);
    if (r->in_fd < 0) return NULL;
    /* Linux may give an ephemeral (port 0) SO_REUSEPORT bind the port of another SO_REUSEPORT
       socket of this user, a public one: client datagrams would land here. Bind again. */
    uint32_t asked = 1;
    napi_value pv = get_prop(env, in_spec, "port");
    if (pv) napi_get_value_uint32(env, pv, &asked);
    for (int tries = 0; asked == 0 && tries < 16; tries++) {
      uint16_t got = ntohs(ib.sa.sa_family == AF_INET6 ? ib.v6.sin6_port : ib.v4.sin_port);
      int clash = 0;
      for (int i = 0; i < r->npub; i++) clash |= r->pubs[i].port == got;
      if (!clash) break;
      close(r->in_fd);
      memset(&ib, 0, sizeof ib);
      r->in_fd = open_socket(env, in_spec, 1, bufbytes, &ib);
      if (r->in_fd < 0) return NULL;
    }
    r->in_v6 = ib.sa.sa_family == AF_INET6;
    napi_set_named_property(env, result, "publics", pubs_out);
    napi_set_named_property(env, result, "internal", addr_value(env, &ib));
  }

  /* misses → JS */
  {
    napi_value cb = get_prop(env, opts, "onMiss"), name;
    napi_valuetype vt;
    if (!cb || napi_typeof(env, cb, &vt) != napi_ok || vt != napi_function) goto bad;
    napi_create_string_utf8(env, "parley-relay-miss", NAPI_AUTO_LENGTH, &name);
    __atomic_add_fetch(&r->refs, 1, __ATOMIC_ACQ_REL);
    if (napi_create_threadsafe_function(env, cb, NULL, name, 0, 1, r, finalize_tsfn, r, call_js, &r->tsfn) != napi_ok) {
      __atomic_sub_fetch(&r->refs, 1, __ATOMIC_ACQ_REL);
      napi_throw_error(env, NULL, "napi_create_threadsafe_function");
      return NULL;
    }
    /* the sockets do not keep the worker alive; close() does the rest */
    napi_unref_threadsafe_function(env, r->tsfn);
  }

  /* the loop threads: one per public socket, one for the internal socket */
  {
    start_t st[MAX_PUBLICS + 1];
    int n = r->npub + 1;
    for (int i = 0; i < n; i++) {
      r->bufs[i] = alloc_bufs(r, i < r->npub ? i : -1, i == 0);
      st[i] = (start_t){r->bufs[i], r, i};
      if (!r->bufs[i] || pthread_create(&r->thr[i], NULL, thread_main, &st[i]) != 0) {
        free_bufs(r->bufs[i]);
        r->bufs[i] = NULL;
        napi_throw_error(env, NULL, "cannot start the native loop threads");
        return NULL;
      }
      r->nthr = i + 1;
    }
    /* st lives on this stack: wait until every thread has read it (and said its tid) */
    for (int i = 0; i < n; i++)
      for (int k = 0; k < 200000 && __atomic_load_n(&r->tids[i], __ATOMIC_ACQUIRE) == 0; k++) {
        struct timespec ts = {0, 10000};
        nanosleep(&ts, NULL);
      }
    napi_value tids, v;
    napi_create_array_with_length(env, (size_t)n, &tids);
    for (int i = 0; i < n; i++) {
      napi_create_int32(env, r->tids[i], &v);
      napi_set_element(env, tids, (uint32_t)i, v);
    }
    napi_set_named_property(env, result, "tids", tids);
  }
  napi_set_named_property(env, result, "handle", external);
  return result;
bad:
  napi_throw_type_error(env, NULL, "bad options for the native relay datapath");
  return NULL;
}

/* The key a (client address text, port, public index) triple names; -1 after throwing. */
static int key_from_args(napi_env env, relay_t *r, napi_value address, napi_value port, napi_value pub, fkey_t *k, const char *what) {
  char ip[64];
  int32_t p, pi;
  addr_u a;
  socklen_t al;
  if (get_str(env, address, ip, sizeof ip) || get_i32(env, port, &p) || p < 0 || p > 65535 || get_i32(env, pub, &pi) || pi < 0 ||
      pi >= r->npub || parse_ip(ip, (uint16_t)p, &a, &al)) {
    napi_throw_type_error(env, NULL, what);
    return -1;
  }
  key_from_sockaddr(k, &a, pi);
  return 0;
}

static void set_str(napi_env env, napi_value arr, uint32_t i, const char *text) {
  napi_value v;
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &v);
  napi_set_element(env, arr, i, v);
}

static void set_num(napi_env env, napi_value arr, uint32_t i, double n) {
  napi_value v;
  napi_create_double(env, n, &v);
  napi_set_element(env, arr, i, v);
}

/* Writes one flow as PARLEY_RELAY_FLOW_FIELDS values from arr[base] (relay-native.ts NATIVE_FLOW_FIELDS). */
static void set_flow(napi_env env, napi_value arr, uint32_t base, const flowout_t *f) {
  char ip[INET6_ADDRSTRLEN] = "";
  inet_ntop(f->key.v6 ? AF_INET6 : AF_INET, f->key.ip, ip, sizeof ip);
  set_str(env, arr, base + PARLEY_RELAY_FLOW_CLIENT_ADDRESS, ip);
  set_num(env, arr, base + PARLEY_RELAY_FLOW_CLIENT_PORT, f->key.port);
  set_num(env, arr, base + PARLEY_RELAY_FLOW_PUBLIC_INDEX, f->key.pub);
  int v6 = f->dst.sa.sa_family == AF_INET6;
  inet_ntop(v6 ? AF_INET6 : AF_INET, v6 ? (const void *)&f->dst.v6.sin6_addr : (const void *)&f->dst.v4.sin_addr, ip, sizeof ip);
  set_str(env, arr, base + PARLEY_RELAY_FLOW_DEST_ADDRESS, ip);
  set_num(env, arr, base + PARLEY_RELAY_FLOW_DEST_PORT, ntohs(v6 ? f->dst.v6.sin6_port : f->dst.v4.sin_port));
  set_str(env, arr, base + PARLEY_RELAY_FLOW_UFRAG, f->ufrag);
  set_num(env, arr, base + PARLEY_RELAY_FLOW_LAST_SEEN, (double)f->last_seen);
  set_num(env, arr, base + PARLEY_RELAY_FLOW_CONFIRMED, f->confirmed);
}

static void flow_out(flowout_t *o, const entry_t *e) {
  o->key = e->key;
  o->dst = e->dst;
  o->ufrag = e->ufrag;
  o->last_seen = e->last_seen;
  o->confirmed = e->confirmed;
}

/* install(handle, header: Buffer(40), publicIndex, destAddress, destPort, ufrag, now, confirmed) → 0 added,
   1 replaced, -1 full (the worker's cap). last_seen and stored_at start at now. */
static napi_value js_install(napi_env env, napi_callback_info info) {
  napi_value a[8];
  relay_t *r = handle_args(env, info, 8, a);
  if (!r) return NULL;
  uint8_t *h;
  size_t hl;
  int32_t pi, port;
  double now;
  bool confirmed;
  char ip[64], ufrag[512];
  addr_u dst;
  socklen_t dl;
  if (napi_get_buffer_info(env, a[1], (void **)&h, &hl) != napi_ok || hl != HDR || !is_relay_header(h, hl) ||
      get_i32(env, a[2], &pi) || pi < 0 || pi >= r->npub || get_str(env, a[3], ip, sizeof ip) || get_i32(env, a[4], &port) ||
      port < 0 || port > 65535 || get_str(env, a[5], ufrag, sizeof ufrag) || napi_get_value_double(env, a[6], &now) != napi_ok ||
      napi_get_value_bool(env, a[7], &confirmed) != napi_ok || parse_ip(ip, (uint16_t)port, &dst, &dl)) {
    napi_throw_type_error(env, NULL, "install: bad arguments");
    return NULL;
  }
  char *u = strdup(ufrag), *old = NULL;
  if (!u) {
    napi_throw_error(env, "ENOMEM", "install: out of memory");
    return NULL;
  }
  fkey_t k;
  key_from_header(&k, h, pi);
  int out;
  pthread_mutex_lock(&r->lock);
  entry_t *e = tab_find(r, &k);
  if (e) {
    out = 1;
    old = e->ufrag;
  } else {
    e = tab_add(r, &k);
    out = e ? 0 : -1;
  }
  if (e) {
    e->last_seen = (int64_t)now;
    e->stored_at = (int64_t)now;
    e->dst = dst;
    e->dstlen = dl;
    memcpy(e->hdr, h, HDR);
    e->ufrag = u;
    e->confirmed = confirmed ? 1 : 0;
    u = NULL;
    /* the loop never makes a second flow of a token JS made or recovered one of (nfc_decide) */
    if (r->nfc) nfc_note_installed(r->nfc, (const uint8_t *)ufrag, strlen(ufrag), (int64_t)now);
  }
  pthread_mutex_unlock(&r->lock);
  free(old);
  free(u); /* not installed: full */
  napi_value res;
  napi_create_int32(env, out, &res);
  return res;
}

/* get(handle, clientAddress, clientPort, publicIndex) → the flow's PARLEY_RELAY_FLOW_FIELDS values, or undefined */
static napi_value js_get(napi_env env, napi_callback_info info) {
  napi_value a[4], res;
  relay_t *r = handle_args(env, info, 4, a);
  fkey_t k;
  if (!r || key_from_args(env, r, a[1], a[2], a[3], &k, "get: bad arguments")) return NULL;
  flowout_t f;
  pthread_mutex_lock(&r->lock);
  entry_t *e = tab_find(r, &k);
  if (e) flow_out(&f, e);
  pthread_mutex_unlock(&r->lock);
  if (!e) {
    napi_get_undefined(env, &res);
    return res;
  }
  napi_create_array_with_length(env, PARLEY_RELAY_FLOW_FIELDS, &res);
  set_flow(env, res, 0, &f);
  return res;
}

/* touch(handle, clientAddress, clientPort, publicIndex, now) → whether the flow is there; stamps last_seen */
static napi_value js_touch(napi_env env, napi_callback_info info) {
  napi_value a[5], res;
  relay_t *r = handle_args(env, info, 5, a);
  fkey_t k;
  double now;
  if (!r || key_from_args(env, r, a[1], a[2], a[3], &k, "touch: bad arguments")) return NULL;
  if (napi_get_value_double(env, a[4], &now) != napi_ok) {
    napi_throw_type_error(env, NULL, "touch: bad arguments");
    return NULL;
  }
  pthread_mutex_lock(&r->lock);
  entry_t *e = tab_find(r, &k);
  if (e) e->last_seen = (int64_t)now;
  pthread_mutex_unlock(&r->lock);
  napi_get_boolean(env, e != NULL, &res);
  return res;
}

/* remove(handle, clientAddress, clientPort, publicIndex) → whether a flow was removed (route.ts decided:
   over its token's cap, an unconfirmed flow timed out or pushed out of the pool, a revoked token) */
static napi_value js_remove(napi_env env, napi_callback_info info) {
  napi_value a[4], res;
  relay_t *r = handle_args(env, info, 4, a);
  fkey_t k;
  if (!r || key_from_args(env, r, a[1], a[2], a[3], &k, "remove: bad arguments")) return NULL;
  char *old = NULL;
  pthread_mutex_lock(&r->lock);
  entry_t *e = tab_find(r, &k);
  if (e) {
    old = e->ufrag;
    tab_delete(r, &k);
  }
  pthread_mutex_unlock(&r->lock);
  free(old);
  napi_get_boolean(env, e != NULL, &res);
  return res;
}

/* forward(handle, clientAddress, clientPort, publicIndex, payload) → 0, errno, or -1 for no such flow.
   The JS thread's path for a datagram the control side routed: the flow's header + payload to its
   transceiver from the internal socket. */
static napi_value js_forward(napi_env env, napi_callback_info info) {
  napi_value a[5], res;
  relay_t *r = handle_args(env, info, 5, a);
  fkey_t k;
  void *p;
  size_t pl;
  if (!r || key_from_args(env, r, a[1], a[2], a[3], &k, "forward: bad arguments")) return NULL;
  if (napi_get_buffer_info(env, a[4], &p, &pl) != napi_ok) {
    napi_throw_type_error(env, NULL, "forward: bad arguments");
    return NULL;
  }
  uint8_t hdr[HDR];
  addr_u dst;
  socklen_t dl = 0;
  pthread_mutex_lock(&r->lock);
  entry_t *e = tab_find(r, &k);
  if (e) {
    memcpy(hdr, e->hdr, HDR);
    dst = e->dst;
    dl = e->dstlen;
  }
  pthread_mutex_unlock(&r->lock);
  int rc = -1;
  if (dl > 0) {
    struct iovec iov[2] = {{hdr, HDR}, {p, pl}};
    struct msghdr mh = {0};
    mh.msg_name = &dst;
    mh.msg_namelen = dl;
    mh.msg_iov = iov;
    mh.msg_iovlen = 2;
    rc = sendmsg(r->in_fd, &mh, MSG_DONTWAIT) < 0 ? errno : 0;
  }
  napi_create_int32(env, rc, &res);
  return res;
}

/* sweep(handle, now, idleMs, refreshMs) → [expired, then PARLEY_RELAY_FLOW_FIELDS values per flow due for a
   store refresh]. One pass under the lock: flows idle for idleMs are removed; a flow with packets since
   its last store write, at least refreshMs ago, is marked written now and copied out. Its JS values are
   made after the lock is released (no V8 call, which may collect garbage, while a loop may wait for it);
   the entries' ufrag strings stay valid meanwhile: only this thread frees them. */
static napi_value js_sweep(napi_env env, napi_callback_info info) {
  napi_value a[4], res;
  relay_t *r = handle_args(env, info, 4, a);
  double now, idle, refresh;
  if (!r) return NULL;
  if (napi_get_value_double(env, a[1], &now) != napi_ok || napi_get_value_double(env, a[2], &idle) != napi_ok ||
      napi_get_value_double(env, a[3], &refresh) != napi_ok) {
    napi_throw_type_error(env, NULL, "sweep: bad arguments");
    return NULL;
  }
  uint32_t expired = 0, ndue = 0;
  int64_t t = (int64_t)now;
  pthread_mutex_lock(&r->lock);
  for (uint32_t i = 0; i < r->count;) {
    entry_t *e = &r->ents[i];
    if ((double)(t - e->last_seen) >= idle) {
      free(e->ufrag);
      tab_delete(r, &e->key); /* the last entry moves into slot i: look at i again */
      expired++;
      continue;
    }
    if ((double)(t - e->stored_at) >= refresh && e->last_seen > e->stored_at) {
      e->stored_at = t;
      flow_out(&r->due[ndue++], e);
    }
    i++;
  }
  pthread_mutex_unlock(&r->lock);
  napi_create_array_with_length(env, 1 + (size_t)ndue * PARLEY_RELAY_FLOW_FIELDS, &res);
  set_num(env, res, 0, expired);
  for (uint32_t j = 0; j < ndue; j++) set_flow(env, res, 1 + j * PARLEY_RELAY_FLOW_FIELDS, &r->due[j]);
  return res;
}

/* flows(handle) → entries in the table (the flows gauge) */
static napi_value js_flows(napi_env env, napi_callback_info info) {
  napi_value a[1];
  relay_t *r = handle_args(env, info, 1, a);
  if (!r) return NULL;
  pthread_mutex_lock(&r->lock);
  uint32_t n = r->count;
  pthread_mutex_unlock(&r->lock);
  napi_value res;
  napi_create_uint32(env, n, &res);
  return res;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1];
  CHECK(napi_get_cb_info(env, info, &argc, a, NULL, NULL));
  void *p = argc == 1 ? relay_external(env, a[0]) : NULL;
  if (!p) {
    napi_throw_type_error(env, NULL, "not a relay handle");
    return NULL;
  }
  relay_t *r = p;
  if (!r->closed) {
    napi_remove_env_cleanup_hook(env, cleanup_hook, r);
    stop_and_close(r);
    delete_refs(env, r);
  }
  return NULL;
}

/* ---------- first-check verification (first_check.h) ---------- */

static const napi_type_tag CHECK_KEYS_TAG = {0x7061726c65794348ULL, 0x4b4b657973746167ULL}; /* "parleyCH" "KKeystag" */

typedef struct {
  fc_keyring_t ring;
  fc_macs_t macs;
} check_keys_t;

static void finalize_check_keys(napi_env env, void *data, void *hint) {
  (void)env, (void)hint;
  check_keys_t *c = data;
  fc_macs_free(&c->macs);
  fc_keyring_clear(&c->ring);
  free(c);
}

/* A Buffer of exactly `len` bytes, else NULL. */
static const uint8_t *buffer_of(napi_env env, napi_value v, size_t len) {
  bool is;
  void *p;
  size_t n;
  if (napi_is_buffer(env, v, &is) != napi_ok || !is || napi_get_buffer_info(env, v, &p, &n) != napi_ok || n != len) return NULL;
  return p;
}

/* checkKeys([[id, enc: Buffer(32), mac: Buffer(32), pwd: Buffer(32)]…]) → keys: the sub-keys of
   every key of the worker's keyring (key.ts), for checkFirst. At most one entry per id. */
static napi_value js_check_keys(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value arr;
  uint32_t n = 0;
  bool is_arr = false;
  if (napi_get_cb_info(env, info, &argc, &arr, NULL, NULL) != napi_ok || argc != 1 || napi_is_array(env, arr, &is_arr) != napi_ok ||
      !is_arr || napi_get_array_length(env, arr, &n) != napi_ok || n == 0 || n > FC_KEY_IDS) {
    napi_throw_type_error(env, NULL, "checkKeys: expected 1..256 [id, enc, mac, pwd] entries");
    return NULL;
  }
  check_keys_t *c = calloc(1, sizeof *c);
  if (!c) {
    napi_throw_error(env, NULL, "checkKeys: out of memory");
    return NULL;
  }
  const char *bad = fc_macs_init(&c->macs) ? NULL : "checkKeys: OpenSSL has no HMAC-SHA1, HMAC-SHA256 or AES-256-CTR";
  for (uint32_t i = 0; i < n && !bad; i++) {
    napi_value e, v[4];
    uint32_t el = 0;
    int32_t id = -1;
    if (napi_get_element(env, arr, i, &e) != napi_ok || napi_get_array_length(env, e, &el) != napi_ok || el != 4) {
      bad = "checkKeys: an entry is not [id, enc, mac, pwd]";
      break;
    }
    for (uint32_t j = 0; j < 4; j++) napi_get_element(env, e, j, &v[j]);
    const uint8_t *enc = buffer_of(env, v[1], FC_SUBKEY), *mac = buffer_of(env, v[2], FC_SUBKEY), *pwd = buffer_of(env, v[3], FC_SUBKEY);
    if (get_i32(env, v[0], &id) || id < 0 || id >= FC_KEY_IDS || !enc || !mac || !pwd)
      bad = "checkKeys: an entry is not [id 0..255, three 32-byte Buffers]";
    else if (c->ring.present[id])
      bad = "checkKeys: a key id is listed twice";
    else
      fc_keyring_set(&c->ring, id, enc, mac, pwd);
  }
  napi_value external;
  if (bad || napi_create_external(env, c, finalize_check_keys, NULL, &external) != napi_ok) {
    finalize_check_keys(env, c, NULL);
    napi_throw_type_error(env, NULL, bad ? bad : "checkKeys: napi_create_external");
    return NULL;
  }
  napi_type_tag_object(env, external, &CHECK_KEYS_TAG);
  return external;
}

/* checkFirst(keys, packet: Buffer, ufrag: string, now, lifetimeMs, clockSkewMs, out: Buffer(23)) →
   a NATIVE_CHECK_RESULTS index (relay-native.ts). On 0 (verified) `out` holds the token's family,
   IP (16), port (2) and issue time in seconds (4), at the plaintext's offsets (format.ts PT_*). */
static napi_value js_check_first(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value a[7];
  bool tagged = false;
  void *p = NULL, *pkt = NULL;
  size_t pkt_len = 0, ulen = 0;
  double now, lifetime, skew;
  bool is_buf = false;
  uint8_t *out = (uint8_t *)NULL;
  if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc != 7 ||
      napi_check_object_type_tag(env, a[0], &CHECK_KEYS_TAG, &tagged) != napi_ok || !tagged ||
      napi_get_value_external(env, a[0], &p) != napi_ok || !p || napi_is_buffer(env, a[1], &is_buf) != napi_ok || !is_buf ||
      napi_get_buffer_info(env, a[1], &pkt, &pkt_len) != napi_ok || napi_get_value_double(env, a[3], &now) != napi_ok ||
      napi_get_value_double(env, a[4], &lifetime) != napi_ok || napi_get_value_double(env, a[5], &skew) != napi_ok ||
      (out = (uint8_t *)buffer_of(env, a[6], PARLEY_TOKEN_PT_TIME + 4)) == NULL) {
    napi_throw_type_error(env, NULL, "checkFirst(keys, packet, ufrag, now, lifetimeMs, clockSkewMs, out)");
    return NULL;
  }
  /* the ufrag's UTF-8 length first: anything past the longest token is malformed without a copy */
  if (napi_get_value_string_utf8(env, a[2], NULL, 0, &ulen) != napi_ok) {
    napi_throw_type_error(env, NULL, "checkFirst: ufrag is not a string");
    return NULL;
  }
  int rc = PARLEY_RELAY_CHECK_TOKEN_MALFORMED;
  if (ulen <= PARLEY_TOKEN_MAX_UFRAG_CHARS) {
    char ufrag[PARLEY_TOKEN_MAX_UFRAG_CHARS + 1];
    napi_get_value_string_utf8(env, a[2], ufrag, sizeof ufrag, &ulen);
    fc_verified_t v;
    const check_keys_t *c = p;
    rc = fc_verify(&c->ring, &c->macs, pkt, pkt_len, (const uint8_t *)ufrag, ulen, now, lifetime, skew, &v);
    if (rc == PARLEY_RELAY_CHECK_VERIFIED) {
      uint32_t secs = (uint32_t)(v.issued_at / 1000);
      out[PARLEY_TOKEN_PT_FAMILY] = v.family;
      memcpy(out + PARLEY_TOKEN_PT_IP, v.ip, 16);
      out[PARLEY_TOKEN_PT_PORT] = (uint8_t)(v.port >> 8), out[PARLEY_TOKEN_PT_PORT + 1] = (uint8_t)v.port;
      out[PARLEY_TOKEN_PT_TIME] = (uint8_t)(secs >> 24), out[PARLEY_TOKEN_PT_TIME + 1] = (uint8_t)(secs >> 16);
      out[PARLEY_TOKEN_PT_TIME + 2] = (uint8_t)(secs >> 8), out[PARLEY_TOKEN_PT_TIME + 3] = (uint8_t)secs;
    }
  }
  ERR_clear_error(); /* node:crypto never sees our errors */
  napi_value result;
  napi_create_int32(env, rc, &result);
  return result;
}

/* firstChecksInLoop(handle, keys, lifetimeMs, clockSkewMs, firstFlowWindowMs, newFlowRate, newFlowBurst,
   checksPerSecond): the loop makes the flows of first checks itself from now on (nfc_decide), with
   a copy of `keys` (checkKeys), JS's token options, first-flow window and new-flow rate limit, and
   its own crypto budget (nfc_budget_take). Once per handle. */
static napi_value js_first_checks_in_loop(napi_env env, napi_callback_info info) {
  napi_value a[8];
  relay_t *r = handle_args(env, info, 8, a);
  if (!r) return NULL;
  bool tagged = false;
  void *p = NULL;
  double o[6];
  int ok = napi_check_object_type_tag(env, a[1], &CHECK_KEYS_TAG, &tagged) == napi_ok && tagged &&
           napi_get_value_external(env, a[1], &p) == napi_ok && p != NULL;
  for (int i = 0; i < 6 && ok; i++) ok = napi_get_value_double(env, a[2 + i], &o[i]) == napi_ok && o[i] >= 0 && o[i] < 1e12;
  if (!ok || o[4] < 1 || o[5] < 1) {
    napi_throw_type_error(env, NULL, "firstChecksInLoop(handle, keys, lifetimeMs, clockSkewMs, windowMs, rate, burst, checksPerSecond)");
    return NULL;
  }
  nfc_t *n = calloc(1, sizeof *n);
  if (!n || !fc_macs_init(&n->macs)) {
    free(n);
    napi_throw_error(env, NULL, "firstChecksInLoop: out of memory or no OpenSSL HMAC/AES-CTR");
    return NULL;
  }
  n->ring = ((const check_keys_t *)p)->ring;
  n->lifetime_ms = o[0], n->skew_ms = o[1], n->window_ms = o[2], n->rate = o[3], n->burst = o[4];
  n->checks_per_second = o[5], n->budget = o[5];
  pthread_mutex_lock(&r->lock);
  nfc_t *had = r->nfc;
  if (!had) r->nfc = n;
  pthread_mutex_unlock(&r->lock);
  if (had) {
    fc_macs_free(&n->macs);
    OPENSSL_cleanse(n, sizeof *n);
    free(n);
    napi_throw_error(env, NULL, "firstChecksInLoop: already on");
  }
  return NULL;
}

/* revokeToken(handle, ufrag): the worker learnt the token is revoked; the loop makes no flow of it (nfc_revoke). */
static napi_value js_revoke_token(napi_env env, napi_callback_info info) {
  napi_value a[2];
  relay_t *r = handle_args(env, info, 2, a);
  char ufrag[PARLEY_TOKEN_MAX_UFRAG_CHARS + 2];
  size_t ulen = 0;
  if (!r) return NULL;
  if (napi_get_value_string_utf8(env, a[1], ufrag, sizeof ufrag, &ulen) != napi_ok) {
    napi_throw_type_error(env, NULL, "revokeToken(handle, ufrag)");
    return NULL;
  }
  pthread_mutex_lock(&r->lock);
  /* longer than any token: fc_open refuses it, as it would in the loop */
  if (r->nfc && ulen <= PARLEY_TOKEN_MAX_UFRAG_CHARS) nfc_revoke(r->nfc, (const uint8_t *)ufrag, ulen, coarse_now(r));
  pthread_mutex_unlock(&r->lock);
  ERR_clear_error();
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_default, NULL},
      {"install", NULL, js_install, NULL, NULL, NULL, napi_default, NULL},
      {"get", NULL, js_get, NULL, NULL, NULL, napi_default, NULL},
      {"touch", NULL, js_touch, NULL, NULL, NULL, napi_default, NULL},
      {"remove", NULL, js_remove, NULL, NULL, NULL, napi_default, NULL},
      {"forward", NULL, js_forward, NULL, NULL, NULL, napi_default, NULL},
      {"sweep", NULL, js_sweep, NULL, NULL, NULL, napi_default, NULL},
      {"flows", NULL, js_flows, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL},
      {"checkKeys", NULL, js_check_keys, NULL, NULL, NULL, napi_default, NULL},
      {"checkFirst", NULL, js_check_first, NULL, NULL, NULL, napi_default, NULL},
      {"firstChecksInLoop", NULL, js_first_checks_in_loop, NULL, NULL, NULL, napi_default, NULL},
      {"revokeToken", NULL, js_revoke_token, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_value counters;
  napi_create_int32(env, C_N, &counters);
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  napi_set_named_property(env, exports, "COUNTERS", counters);
  /* the shape of the functions above; datapath-native.ts refuses another (a stale build) */
  napi_value abi;
  napi_create_int32(env, PARLEY_RELAY_ADDON_ABI, &abi);
  napi_set_named_property(env, exports, "ABI", abi);
  return exports;
}

#endif /* PARLEY_RELAY_DECISIONS_ONLY */
