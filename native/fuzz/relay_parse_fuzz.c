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
//
// Bit 4 of byte 0 fuzzes the first-check verifier instead (native/src/first_check.h: token open,
// password, MESSAGE-INTEGRITY), with a keyring of key ids 0 and 7: byte 1 bit 0 mints a token
// here from 30 input bytes of plaintext (bytes 8..37) under key id byte 2 (else bytes 38.. hold a
// ufrag of byte 3 % 80 raw bytes), bit 1 signs the packet's MESSAGE-INTEGRITY (when it has one
// where the verifier looks) with the token's password; bytes 4..7 are the clock, seconds around
// the plaintext's issue time. The rest is the packet. Checked: the result is a known one; a token
// minted with a key of the ring never fails its tag; a verified token names IPv4/IPv6 and a port;
// a minted, valid token on a signed packet verifies.
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

#define FC_IN_PREFIX 38

static fc_keyring_t fuzz_ring;
static fc_macs_t fuzz_macs;

static void fuzz_keys(void) {
  uint8_t enc[FC_SUBKEY], mac[FC_SUBKEY], pwd[FC_SUBKEY];
  for (int id = 0; id <= 7; id += 7) {
    for (int i = 0; i < FC_SUBKEY; i++) enc[i] = (uint8_t)(i + id), mac[i] = (uint8_t)(i * 3 + id), pwd[i] = (uint8_t)(i * 7 + id);
    fc_keyring_set(&fuzz_ring, id, enc, mac, pwd);
  }
  assert(fc_macs_init(&fuzz_macs));
}

/* key.ts seal: header ‖ HMAC tag ‖ AES-CTR(plaintext), as ice-chars (64 of them). */
static void fuzz_mint(int id, const uint8_t pt[PARLEY_TOKEN_PLAINTEXT_LEN], uint8_t ufrag[PARLEY_TOKEN_MAX_UFRAG_CHARS]) {
  uint8_t tok[PARLEY_TOKEN_BYTES], mac[FC_SHA256];
  tok[0] = PARLEY_TOKEN_VERSION, tok[1] = (uint8_t)id;
  assert(fc_hmac(fuzz_macs.sha256, fuzz_ring.mac[id], FC_SUBKEY, tok, PARLEY_TOKEN_HEADER_LEN, pt, PARLEY_TOKEN_PLAINTEXT_LEN, NULL, 0, mac,
                 sizeof mac));
  memcpy(tok + PARLEY_TOKEN_HEADER_LEN, mac, PARLEY_TOKEN_TAG_LEN);
  assert(fc_aes_ctr(&fuzz_macs, fuzz_ring.enc[id], mac, pt, PARLEY_TOKEN_PLAINTEXT_LEN, tok + PARLEY_TOKEN_HEADER_LEN + PARLEY_TOKEN_TAG_LEN));
  for (int i = 0, o = 0; i < PARLEY_TOKEN_BYTES; i += 3) {
    uint32_t g = (uint32_t)tok[i] << 16 | (uint32_t)tok[i + 1] << 8 | tok[i + 2];
    for (int j = 18; j >= 0; j -= 6) ufrag[o++] = (uint8_t)FC_ICE_CHARS[g >> j & 63];
  }
}

static int fuzz_first_check(const uint8_t *data, size_t size) {
  if (size < FC_IN_PREFIX) return 0;
  if (!fuzz_macs.sha1) fuzz_keys();
  const int minted = data[1] & 1, id = data[2];
  const int sign = (data[1] >> 1) & 1;
  int signed_mi = 0; /* the packet's MESSAGE-INTEGRITY was signed with the token's password */
  const uint8_t *pt = data + 8;
  uint8_t ufrag[PARLEY_TOKEN_MAX_UFRAG_CHARS + 16];
  size_t ulen, at = FC_IN_PREFIX;
  if (minted) {
    fuzz_mint(id, pt, ufrag);
    ulen = PARLEY_TOKEN_MAX_UFRAG_CHARS;
  } else {
    ulen = data[3] % 80;
    if (ulen > sizeof ufrag || size - at < ulen) return 0;
    memcpy(ufrag, data + at, ulen);
    at += ulen;
  }
  const double issued = (double)fc_u32(pt + PARLEY_TOKEN_PT_TIME) * 1000;
  const double now = issued + (double)(int32_t)fc_u32(data + 4) * 1000;
  const size_t len = size - at;
  uint8_t *msg = malloc(len ? len : 1);
  memcpy(msg, data + at, len);
  if (sign && minted && fuzz_ring.present[id] && fc_well_framed(msg, len)) {
    long off = fc_find_integrity(msg, len);
    char pwd[FC_PASSWORD_CHARS];
    if (off >= 0 && ((size_t)msg[off + 2] << 8 | msg[off + 3]) == FC_MI_LENGTH && fc_password(&fuzz_ring, &fuzz_macs, id, ufrag, ulen, pwd)) {
      uint8_t stun_header[FC_STUN_HEADER], mac[FC_SHA1];
      memcpy(stun_header, msg, FC_STUN_HEADER);
      size_t adjusted = (size_t)off - FC_STUN_HEADER + 4 + FC_MI_LENGTH;
      stun_header[2] = (uint8_t)(adjusted >> 8), stun_header[3] = (uint8_t)adjusted;
      assert(fc_hmac(fuzz_macs.sha1, (const uint8_t *)pwd, sizeof pwd, stun_header, sizeof stun_header, msg + FC_STUN_HEADER,
                     (size_t)off - FC_STUN_HEADER, NULL, 0, mac, sizeof mac));
      memcpy(msg + off + 4, mac, FC_SHA1);
      signed_mi = 1;
    }
  }
  fc_verified_t v;
  int rc = fc_verify(&fuzz_ring, &fuzz_macs, msg, len, ufrag, ulen, now, 86400000.0, 60000.0, &v);
  assert(rc >= PARLEY_RELAY_CHECK_VERIFIED && rc <= PARLEY_RELAY_CHECK_BAD_INTEGRITY);
  if (minted && fuzz_ring.present[id]) assert(rc != PARLEY_RELAY_CHECK_TOKEN_BAD_TAG && rc != PARLEY_RELAY_CHECK_TOKEN_UNKNOWN_KEY);
  if (rc == PARLEY_RELAY_CHECK_VERIFIED) {
    assert(v.family == PARLEY_TOKEN_FAMILY_V4 || v.family == PARLEY_TOKEN_FAMILY_V6);
    assert(v.port != 0);
    if (minted) assert(v.issued_at == issued);
  }
  if (signed_mi) {
    int plain_ok = (pt[0] == PARLEY_TOKEN_FAMILY_V4 || pt[0] == PARLEY_TOKEN_FAMILY_V6) && now - issued >= -60000.0 && now - issued < 86400000.0;
    for (int i = PARLEY_TOKEN_PT_IP + (pt[0] == PARLEY_TOKEN_FAMILY_V4 ? 4 : 16); i < PARLEY_TOKEN_PT_PORT; i++) plain_ok &= pt[i] == 0;
    plain_ok &= (pt[PARLEY_TOKEN_PT_PORT] | pt[PARLEY_TOKEN_PT_PORT + 1]) != 0;
    assert((rc == PARLEY_RELAY_CHECK_VERIFIED) == plain_ok);
  }
  free(msg);
  return 0;
}

/* Bit 5 of byte 0: the loop's own first-check decision (relay_native.c nfc_decide, nfc_make), on a
   relay whose transceiver network is 10.0.0.0/8 (IPv4 internal socket), rate 1/s and burst 3.
   Bytes 1..37 as for the verifier (mint, sign, key id, clock, plaintext); byte 3 picks the source
   (192.0.2.x:50000). With a minted token the packet is a Binding request with USERNAME
   "<token>:c", the input's remaining bytes as attributes, then a MESSAGE-INTEGRITY (signed with
   the token's password when asked); else the input's remaining bytes are the packet. Checked: a
   flow is made only for a token that verifies, is inside its first-flow window and names the
   network; its header names the client and public as relay-header.ts does; the same check from
   another source is then never made in the loop (a token's first flow only); the token and rate
   tables never grow past their size (they are arrays); with byte 3's top bit the token is first
   revoked (nfc_revoke) and no flow is made. */
#define NFC_IN_PREFIX 38
static relay_t *nfc_relay;

static int fuzz_loop_first_check(const uint8_t *data, size_t size) {
  if (size < NFC_IN_PREFIX) return 0;
  if (!fuzz_macs.sha1) fuzz_keys();
  if (!nfc_relay) {
    nfc_relay = make_relay();
    /* room for one more flow than make_relay's (each made flow is deleted again) */
    nfc_relay->ents = realloc(nfc_relay->ents, (FLOWS + 1) * sizeof *nfc_relay->ents);
    nfc_relay->maxcount = FLOWS + 1;
    nfc_t *n = calloc(1, sizeof *n);
    n->ring = fuzz_ring;
    assert(fc_macs_init(&n->macs));
    n->lifetime_ms = 86400000.0, n->skew_ms = 60000.0, n->window_ms = 60000.0, n->rate = 1, n->burst = 3;
    n->checks_per_second = 5, n->budget = 5;
    nfc_relay->nfc = n;
  }
  relay_t *r = nfc_relay;
  nfc_t *n = r->nfc;
  const int minted = data[1] & 1, sign = (data[1] >> 1) & 1, id = data[2];
  const uint8_t *pt = data + 8;
  const int64_t now = (int64_t)fc_u32(pt + PARLEY_TOKEN_PT_TIME) * 1000 + (int64_t)(int32_t)fc_u32(data + 4) * 1000;
  const uint8_t *rest = data + NFC_IN_PREFIX;
  size_t rest_len = size - NFC_IN_PREFIX;
  uint8_t *msg;
  size_t len;
  const int revoked = minted && (data[3] & 0x80);
  if (minted) {
    uint8_t ufrag[PARLEY_TOKEN_MAX_UFRAG_CHARS];
    fuzz_mint(id, pt, ufrag);
    if (revoked) nfc_revoke(n, ufrag, sizeof ufrag, now);
    size_t attrs = rest_len & ~(size_t)3, ulen = sizeof ufrag + 2;
    len = FC_STUN_HEADER + 4 + ((ulen + 3) & ~(size_t)3) + attrs + 4 + FC_MI_LENGTH;
    if (len - FC_STUN_HEADER > 0xffff) return 0;
    msg = calloc(1, len);
    msg[1] = 1;
    msg[2] = (uint8_t)((len - FC_STUN_HEADER) >> 8), msg[3] = (uint8_t)(len - FC_STUN_HEADER);
    msg[4] = 0x21, msg[5] = 0x12, msg[6] = 0xa4, msg[7] = 0x42;
    size_t off = FC_STUN_HEADER;
    msg[off + 1] = STUN_USERNAME, msg[off + 3] = (uint8_t)ulen;
    memcpy(msg + off + 4, ufrag, sizeof ufrag);
    msg[off + 4 + sizeof ufrag] = ':', msg[off + 5 + sizeof ufrag] = 'c';
    off += 4 + ((ulen + 3) & ~(size_t)3);
    memcpy(msg + off, rest, attrs);
    off += attrs;
    msg[off + 1] = FC_ATTR_MESSAGE_INTEGRITY, msg[off + 3] = FC_MI_LENGTH;
    char pwd[FC_PASSWORD_CHARS];
    if (sign && fuzz_ring.present[id] && fc_well_framed(msg, len) && fc_find_integrity(msg, len) == (long)off &&
        fc_password(&fuzz_ring, &fuzz_macs, id, ufrag, sizeof ufrag, pwd)) {
      uint8_t stun_header[FC_STUN_HEADER];
      memcpy(stun_header, msg, FC_STUN_HEADER);
      size_t adjusted = off - FC_STUN_HEADER + 4 + FC_MI_LENGTH;
      stun_header[2] = (uint8_t)(adjusted >> 8), stun_header[3] = (uint8_t)adjusted;
      assert(fc_hmac(fuzz_macs.sha1, (const uint8_t *)pwd, sizeof pwd, stun_header, sizeof stun_header, msg + FC_STUN_HEADER,
                     off - FC_STUN_HEADER, NULL, 0, msg + off + 4, FC_SHA1));
    }
  } else {
    len = rest_len;
    msg = malloc(len ? len : 1);
    memcpy(msg, rest, len);
  }
  addr_u src;
  const uint8_t ip[4] = {192, 0, 2, data[3]};
  v4(&src, ip, 50000);
  nfc_made_t made;
  if (nfc_decide(r, n, msg, len, &src, now, &made)) {
    assert(!revoked);
    assert(made.ulen > 0 && made.ufrag >= msg && made.ufrag + made.ulen <= msg + len);
    assert(made.v.family == PARLEY_TOKEN_FAMILY_V4 && source_allowed(r, &made.dst) && made.dstlen == sizeof made.dst.v4);
    assert((double)now - made.v.issued_at <= n->window_ms && made.token_slot >= 0 && made.token_slot < NFC_TOKENS);
    fkey_t k;
    key_from_sockaddr(&k, &src, 0);
    entry_t *e = NULL;
    if (tab_find(r, &k) == NULL && nfc_make(r, n, &k, 0, &made, now, &e) == 0) {
      fkey_t back;
      assert(is_relay_header(e->hdr, HDR));
      key_from_header(&back, e->hdr, 0);
      assert(keq(&back, &k) && header_public_index(r, e->hdr) == 0 && !e->confirmed);
      char *u = e->ufrag;
      tab_delete(r, &k);
      free(u);
      /* the token's first flow only: the same check from another source goes to JS */
      addr_u other;
      const uint8_t ip2[4] = {198, 51, 100, data[3]};
      v4(&other, ip2, 50001);
      nfc_made_t again;
      assert(!nfc_decide(r, n, msg, len, &other, now, &again));
    }
  }
  free(msg);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size >= 1 && (data[0] & 0x20)) return fuzz_loop_first_check(data, size);
  if (size >= 1 && (data[0] & 0x10)) return fuzz_first_check(data, size);
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
