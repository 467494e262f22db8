/* common.h - shared helpers for the UDP relay benchmark (udpgen, udpsink; also the harness's relay_c).
 *
 * Packet conventions (bench/relay/load/README.md):
 *  - Every generated RTP-shaped packet ends with a 16-byte trailer:
 *      u32 magic TRAILER_MAGIC | u32 seq | u64 send time (CLOCK_MONOTONIC ns)
 *    all in host byte order (generator and sink run on the same host).
 *    The trailer is at the END so a relay may prepend an encapsulation header.
 *  - Flow setup packets are STUN Binding Requests whose USERNAME is
 *    "serverUfrag:clientUfrag"; reference relays decode serverUfrag
 *    "r<port>x<anything>" as destination 127.0.0.1:<port> (decimal).
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define TRAILER_MAGIC 0x31544255u /* "UBT1" little-endian */
#define TRAILER_LEN 16
#define STUN_COOKIE 0x2112A442u
#define STUN_ATTR_USERNAME 0x0006

static inline uint64_t now_ns(clockid_t c) {
    struct timespec ts;
    clock_gettime(c, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
static inline uint64_t mono_ns(void) { return now_ns(CLOCK_MONOTONIC); }

static inline void die(const char *what) {
    perror(what);
    exit(2);
}

/* "a.b.c.d:port" -> sockaddr_in. Returns 0 on success. */
static inline int parse_addr(const char *s, struct sockaddr_in *out) {
    char host[64];
    const char *colon = strrchr(s, ':');
    if (!colon || (size_t)(colon - s) >= sizeof host) return -1;
    memcpy(host, s, colon - s);
    host[colon - s] = 0;
    memset(out, 0, sizeof *out);
    out->sin_family = AF_INET;
    out->sin_port = htons((uint16_t)atoi(colon + 1));
    return inet_pton(AF_INET, host, &out->sin_addr) == 1 ? 0 : -1;
}

static inline void raise_nofile(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* Returns 1 if buf looks like a STUN message (RFC 8489 header). */
static inline int is_stun(const uint8_t *b, size_t n) {
    if (n < 20 || b[0] > 1) return 0;
    uint32_t c;
    memcpy(&c, b + 4, 4);
    return ntohl(c) == STUN_COOKIE;
}

/* Finds USERNAME, decodes serverUfrag "r<port>x..." -> port. 0 if none/invalid. */
static inline int stun_ufrag_port(const uint8_t *b, size_t n) {
    size_t mlen = ((size_t)b[2] << 8) | b[3];
    size_t end = 20 + mlen < n ? 20 + mlen : n;
    size_t off = 20;
    while (off + 4 <= end) {
        unsigned type = ((unsigned)b[off] << 8) | b[off + 1];
        size_t alen = ((size_t)b[off + 2] << 8) | b[off + 3];
        const uint8_t *v = b + off + 4;
        if (off + 4 + alen > end) return 0;
        if (type == STUN_ATTR_USERNAME) {
            if (alen < 2 || v[0] != 'r') return 0;
            unsigned port = 0;
            size_t i = 1;
            for (; i < alen && v[i] >= '0' && v[i] <= '9' && i < 7; i++) port = port * 10 + (v[i] - '0');
            if (i == 1 || port == 0 || port > 65535) return 0;
            if (i < alen && v[i] != 'x' && v[i] != ':') return 0;
            return (int)port;
        }
        off += 4 + ((alen + 3) & ~(size_t)3);
    }
    return 0;
}

/* Log-linear latency histogram, ~1.6% relative precision, values in ns. */
#define HIST_SUB 64
#define HIST_N (HIST_SUB * 60)
typedef struct {
    uint64_t b[HIST_N];
    uint64_t n, max;
} hist_t;

static inline int hist_idx(uint64_t v) {
    if (v < 2 * HIST_SUB) return (int)v;
    int msb = 63 - __builtin_clzll(v);
    int shift = msb - 6; /* keep 7 significant bits: v>>shift in [64,128) */
    int i = shift * HIST_SUB + (int)(v >> shift);
    return i < HIST_N ? i : HIST_N - 1;
}
static inline uint64_t hist_val(int i) { /* midpoint of bucket */
    if (i < 2 * HIST_SUB) return (uint64_t)i;
    int shift = i / HIST_SUB - 1;
    uint64_t m = (uint64_t)(i % HIST_SUB + HIST_SUB);
    return (m << shift) + ((1ull << shift) >> 1);
}
static inline void hist_add(hist_t *h, uint64_t v) {
    h->b[hist_idx(v)]++;
    h->n++;
    if (v > h->max) h->max = v;
}
static inline double hist_pct_us(const hist_t *h, double p) {
    if (!h->n) return -1;
    uint64_t want = (uint64_t)(p * (double)h->n);
    if (want >= h->n) want = h->n - 1;
    uint64_t acc = 0;
    for (int i = 0; i < HIST_N; i++) {
        acc += h->b[i];
        if (acc > want) return hist_val(i) / 1000.0;
    }
    return h->max / 1000.0;
}
static inline void hist_json(FILE *f, const char *name, const hist_t *h) {
    fprintf(f, "\"%s\":{\"n\":%llu,\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"p999\":%.1f,\"max\":%.1f}", name,
            (unsigned long long)h->n, hist_pct_us(h, 0.50), hist_pct_us(h, 0.90), hist_pct_us(h, 0.99),
            hist_pct_us(h, 0.999), h->n ? h->max / 1000.0 : -1.0);
}
#endif
