// libFuzzer target (issue #19): the relay datapath's per-datagram decisions in
// native/src/relay_native.c — classify_public (a client datagram: flow lookup, STUN/media first
// byte, size) and classify_internal (a transceiver datagram: source network, relay header,
// public index, flow and transceiver match) — on arbitrary bytes from arbitrary sources, without
// sockets or N-API (PARLEY_RELAY_DECISIONS_ONLY). Built and run, bounded in time, by
// `npm run test:native-fuzz` (test/native-fuzz/run.ts), with AddressSanitizer and fatal UBSan.
//
// Input: byte 0 picks the socket (bit 0: internal, else public) and the public index (bit 1),
// bit 2 sets MSG_TRUNC, bit 3 takes the source from the input (else a known client or the
// transceiver, so the fuzzer reaches forwarding). Bytes 1..19 are that source (1: family bit,
// 2..17: address, 18..19: port). The rest is the datagram. A verdict is checked against what
// the loop then does with it: a forwarded payload must lie inside the datagram and fit the
// limit, a miss must fit the JS miss queue's slot, every drop must name a counter.
// Seeds (corpus/, one per path through the decisions, named for it) were written by hand from the
// relay header layout in src/contracts/relay-header.ts and this file's relay.
#include "../src/relay_native.c"

#include <assert.h>

#define IN_PREFIX 20
#define FLOWS 4

static relay_t *relay;
static const uint8_t CLIENT_IP[4] = {192, 0, 2, 7};
static const uint16_t CLIENT_PORT = 40000;
static const uint8_t TRANSCEIVER_IP[4] = {10, 1, 2, 3};
static const uint16_t TRANSCEIVER_PORT = 7000;
static const char FLOW_UFRAG[] = "flowtoken";

static void v4(addr_u *a, const uint8_t ip[4], uint16_t port) {
  memset(a, 0, sizeof *a);
  a->v4.sin_family = AF_INET;
  memcpy(&a->v4.sin_addr, ip, 4);
  a->v4.sin_port = htons(port);
}

/* One relay with two public sockets (IPv4 and IPv6), the transceiver network 10.0.0.0/8 and
   ::1/128, and FLOWS flows from 192.0.2.7:40000+i on public 0 to the transceiver. */
static relay_t *make_relay(void) {
  relay_t *r = calloc(1, sizeof *r);
  r->npub = 2;
  r->pubs[0].port = 3478;
  r->pubs[0].ip[0] = 203, r->pubs[0].ip[1] = 0, r->pubs[0].ip[2] = 113, r->pubs[0].ip[3] = 1;
  r->pubs[1].v6 = 1;
  r->pubs[1].port = 3479;
  r->pubs[1].ip[15] = 1;
  r->ncidr = 2;
  r->cidrs[0].ip[0] = 10, r->cidrs[0].prefix = 8;
  r->cidrs[1].v6 = 1, r->cidrs[1].ip[15] = 1, r->cidrs[1].prefix = 128;
  r->maxcount = FLOWS;
  r->mask = 15;
  r->idx = calloc(16, sizeof *r->idx);
  r->ents = calloc(FLOWS, sizeof *r->ents);
  for (int i = 0; i < FLOWS; i++) {
    addr_u client;
    v4(&client, CLIENT_IP, (uint16_t)(CLIENT_PORT + i));
    fkey_t k;
    key_from_sockaddr(&k, &client, 0);
    entry_t *e = tab_add(r, &k);
    assert(e);
    v4(&e->dst, TRANSCEIVER_IP, TRANSCEIVER_PORT);
    e->dstlen = sizeof e->dst.v4;
    /* Flows have their call's token: a Binding request naming it is forwarded by the loop (check_for_flow). */
    e->ufrag = (char *)FLOW_UFRAG;
  }
  return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!relay) relay = make_relay();
  if (size < IN_PREFIX) return 0;
  const uint8_t ctl = data[0];
  const int internal = ctl & 1, pi = (ctl >> 1) & 1, truncated = (ctl >> 2) & 1;
  addr_u src;
  if (ctl & 8) {
    memset(&src, 0, sizeof src);
    if (data[1] & 1) {
      src.v6.sin6_family = AF_INET6;
      memcpy(&src.v6.sin6_addr, data + 2, 16);
      src.v6.sin6_port = (uint16_t)(data[18] << 8 | data[19]);
    } else {
      src.v4.sin_family = AF_INET;
      memcpy(&src.v4.sin_addr, data + 2, 4);
      src.v4.sin_port = (uint16_t)(data[18] << 8 | data[19]);
    }
  } else if (internal) {
    v4(&src, TRANSCEIVER_IP, TRANSCEIVER_PORT);
  } else {
    v4(&src, CLIENT_IP, (uint16_t)(CLIENT_PORT + data[1] % (FLOWS + 1)));
  }
  /* The datagram in a buffer of its own size, so ASan sees any read past its end. */
  const size_t len = size - IN_PREFIX;
  uint8_t *d = malloc(len ? len : 1);
  memcpy(d, data + IN_PREFIX, len);
  int drop = -1;
  if (internal) {
    int out_pi = -1;
    fkey_t k;
    entry_t *flow = NULL;
    verdict_t v = classify_internal(relay, d, len, truncated, &src, &out_pi, &k, &drop, &flow);
    if (v == VERDICT_FORWARD) {
      assert(len >= HDR && len - HDR <= MAX_PAYLOAD && !truncated);
      assert(out_pi >= 0 && out_pi < relay->npub);
      addr_u to;
      socklen_t tolen = sockaddr_from_key(&to, &k);
      assert(tolen == sizeof to.v4 || tolen == sizeof to.v6);
    } else {
      assert(v == VERDICT_DROP);
    }
  } else {
    entry_t *e = NULL;
    verdict_t v = classify_public(relay, d, len, truncated, &src, pi, &e, &drop);
    if (v == VERDICT_FORWARD) {
      assert(e && len <= MAX_PAYLOAD && !truncated);
      uint8_t out[HDR + MAX_PAYLOAD];
      memcpy(out, e->hdr, HDR);
      if (len) memcpy(out + HDR, d, len);
    } else if (v == VERDICT_MISS) {
      miss_t q;
      assert(len <= sizeof q.data && !truncated);
      if (len) memcpy(q.data, d, len);
    }
  }
  if (drop != -1) assert(drop >= 0 && drop < C_N);
  free(d);
  return 0;
}
