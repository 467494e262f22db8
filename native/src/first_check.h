// The relay's first-check verification in C (docs/relay.md, "Native first-check verification"):
// what src/relay/route.ts verifyCheck does between the rate limit and the transceiver-network
// check, in the same order and with the same rejection for every input — the routing token opened
// (src/core/token/token.ts open: the ice-char text, version, key id, length, the SIV tag
// HMAC-SHA256 ‖ AES-256-CTR, the plaintext's family, padding, port, issue time against the
// lifetime and the clock skew), the ICE password derived from it (key.ts password: HMAC-SHA256
// truncated, as ice-chars) and the packet's first MESSAGE-INTEGRITY verified with it
// (src/core/stun/raw.ts verifyMessageIntegrity: framing, HMAC-SHA1 over the length-adjusted header
// and the attributes before it, constant-time compare).
//
// Included by relay_native.c (one translation unit) and, through it, by the fuzz harness
// (native/fuzz/relay_parse_fuzz.c, linked with the system libcrypto); and by token_native.c, the
// transceiver's mint, which seals with the same HMAC, AES-CTR and ice-char helpers. In the addon the OpenSSL
// symbols resolve from the node binary, as in dtls_crypto.c. Everything here is static, takes
// lengths with every pointer and reads nothing outside them; no allocation but OpenSSL's
// per-call contexts.
//
// A keyring holds the three HKDF sub-keys of each key id (key.ts derives them; the TypeScript
// hands them over once when the worker starts, fc_keyring_set); it never holds the master secret.
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdint.h>
#include <string.h>

#define FC_SUBKEY 32
#define FC_KEY_IDS 256
#define FC_STUN_HEADER 20
#define FC_STUN_COOKIE 0x2112a442u
#define FC_ATTR_MESSAGE_INTEGRITY 0x0008
#define FC_MI_LENGTH 20
#define FC_SHA256 32
#define FC_SHA1 20
/* 18 bytes → exactly 24 ice-chars (no padding) */
#define FC_PASSWORD_CHARS (PARLEY_TOKEN_PASSWORD_BYTES / 3 * 4)

typedef struct {
  uint8_t present[FC_KEY_IDS];
  uint8_t enc[FC_KEY_IDS][FC_SUBKEY];
  uint8_t mac[FC_KEY_IDS][FC_SUBKEY];
  uint8_t pwd[FC_KEY_IDS][FC_SUBKEY];
} fc_keyring_t;

/* What a verified check names: the token's plaintext fields the relay acts on. */
typedef struct {
  uint8_t family; /* PARLEY_TOKEN_FAMILY_V4 or _V6 */
  uint8_t ip[16]; /* IPv4: the first 4 bytes */
  uint16_t port;
  double issued_at; /* ms */
} fc_verified_t;

static void fc_keyring_set(fc_keyring_t *k, int id, const uint8_t *enc, const uint8_t *mac, const uint8_t *pwd) {
  k->present[id] = 1;
  memcpy(k->enc[id], enc, FC_SUBKEY);
  memcpy(k->mac[id], mac, FC_SUBKEY);
  memcpy(k->pwd[id], pwd, FC_SUBKEY);
}

static void fc_keyring_clear(fc_keyring_t *k) { OPENSSL_cleanse(k, sizeof *k); }

/* RFC 8839 ice-char (the base64 alphabet) → its 6-bit value, or -1. */
static inline int fc_ice_value(uint8_t c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

/* format.ts fromIceChars: 4..64 ice-chars → bytes (a trailing partial group decodes as Node's
   base64 decoder does: 2 chars → 1 byte, 3 → 2, 1 → none). Returns the byte count, or -1. */
static int fc_from_ice_chars(const uint8_t *text, size_t len, uint8_t out[PARLEY_TOKEN_BYTES]) {
  if (len < PARLEY_TOKEN_MIN_UFRAG_CHARS || len > PARLEY_TOKEN_MAX_UFRAG_CHARS) return -1;
  uint32_t acc = 0;
  int bits = 0, n = 0;
  for (size_t i = 0; i < len; i++) {
    int v = fc_ice_value(text[i]);
    if (v < 0) return -1;
    acc = (acc << 6) | (uint32_t)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (uint8_t)(acc >> bits);
    }
  }
  return n;
}

static inline uint32_t fc_u32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

/* raw.ts isWellFramed: type's top bits zero, length = the body and a multiple of 4, the cookie,
   and the attribute TLVs tiling the body exactly. */
static int fc_well_framed(const uint8_t *msg, size_t len) {
  if (len < FC_STUN_HEADER || (msg[0] & 0xc0) != 0) return 0;
  size_t body = (size_t)msg[2] << 8 | msg[3];
  if (body != len - FC_STUN_HEADER || (body & 3) != 0 || fc_u32(msg + 4) != FC_STUN_COOKIE) return 0;
  size_t off = FC_STUN_HEADER;
  while (off + 4 <= len) {
    size_t alen = (size_t)msg[off + 2] << 8 | msg[off + 3];
    size_t next = off + 4 + ((alen + 3) & ~(size_t)3);
    if (next > len) return 0;
    off = next;
  }
  return off == len;
}

/* The offset of the first MESSAGE-INTEGRITY of a well-framed message, or -1. */
static long fc_find_integrity(const uint8_t *msg, size_t len) {
  size_t off = FC_STUN_HEADER;
  while (off + 4 <= len) {
    if (((unsigned)msg[off] << 8 | msg[off + 1]) == FC_ATTR_MESSAGE_INTEGRITY) return (long)off;
    size_t alen = (size_t)msg[off + 2] << 8 | msg[off + 3];
    off += 4 + ((alen + 3) & ~(size_t)3);
  }
  return -1;
}

/* HMAC over up to three pieces with a digest's template context (made once; dtls_crypto.c's
   way: EVP_MAC_CTX_dup takes a reference on the digest, no fetch per call). 0 on failure. */
static EVP_MAC_CTX *fc_hmac_template(const char *digest) {
  EVP_MAC *mac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
  EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
  EVP_MAC_free(mac);
  if (!ctx) return NULL;
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)digest, 0), OSSL_PARAM_construct_end()};
  if (EVP_MAC_CTX_set_params(ctx, params) != 1) {
    EVP_MAC_CTX_free(ctx);
    return NULL;
  }
  return ctx;
}

/* What OpenSSL fetches once per keyring (a fetch per call would look the algorithm up in the
   providers each time): HMAC templates for SHA-1 and SHA-256 and the AES-256-CTR cipher. */
typedef struct {
  EVP_MAC_CTX *sha1, *sha256;
  EVP_CIPHER *aes_ctr;
} fc_macs_t;

static void fc_macs_free(fc_macs_t *m) {
  EVP_MAC_CTX_free(m->sha1);
  EVP_MAC_CTX_free(m->sha256);
  EVP_CIPHER_free(m->aes_ctr);
  memset(m, 0, sizeof *m);
}

/* 1 when every algorithm was fetched; else 0 with nothing held. */
static int fc_macs_init(fc_macs_t *m) {
  m->sha1 = fc_hmac_template("SHA1");
  m->sha256 = fc_hmac_template("SHA256");
  m->aes_ctr = EVP_CIPHER_fetch(NULL, "AES-256-CTR", NULL);
  if (m->sha1 && m->sha256 && m->aes_ctr) return 1;
  fc_macs_free(m);
  return 0;
}

static int fc_hmac(EVP_MAC_CTX *template, const uint8_t *key, size_t key_len, const uint8_t *a, size_t alen, const uint8_t *b,
                   size_t blen, const uint8_t *c, size_t clen, uint8_t *out, size_t out_cap) {
  EVP_MAC_CTX *ctx = template ? EVP_MAC_CTX_dup(template) : NULL;
  size_t n = 0;
  int ok = ctx != NULL && EVP_MAC_init(ctx, key, key_len, NULL) == 1 && EVP_MAC_update(ctx, a, alen) == 1 &&
           (blen == 0 || EVP_MAC_update(ctx, b, blen) == 1) && (clen == 0 || EVP_MAC_update(ctx, c, clen) == 1) &&
           EVP_MAC_final(ctx, out, &n, out_cap) == 1 && n == out_cap;
  EVP_MAC_CTX_free(ctx);
  return ok;
}

/* AES-256-CTR of `len` bytes (≤ PARLEY_TOKEN_PLAINTEXT_LEN) with a 16-byte IV (a stream mode: the
   same operation opens and seals). */
static int fc_aes_ctr(const fc_macs_t *m, const uint8_t key[FC_SUBKEY], const uint8_t iv[16], const uint8_t *in, int len, uint8_t *out) {
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  int n = 0;
  int ok = ctx != NULL && EVP_DecryptInit_ex2(ctx, m->aes_ctr, key, iv, NULL) == 1 && EVP_DecryptUpdate(ctx, out, &n, in, len) == 1 &&
           n == len;
  EVP_CIPHER_CTX_free(ctx);
  return ok;
}

static const char FC_ICE_CHARS[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* token.ts open(): a PARLEY_RELAY_CHECK_* value; on VERIFIED `v` is filled and `key_id` set. */
static int fc_open(const fc_keyring_t *k, const fc_macs_t *m, const uint8_t *ufrag, size_t ulen, double now, double lifetime_ms,
                   double skew_ms, fc_verified_t *v, int *key_id) {
  uint8_t tok[PARLEY_TOKEN_BYTES];
  int n = fc_from_ice_chars(ufrag, ulen, tok);
  if (n < PARLEY_TOKEN_HEADER_LEN) return PARLEY_RELAY_CHECK_TOKEN_MALFORMED;
  if (tok[0] != PARLEY_TOKEN_VERSION) return PARLEY_RELAY_CHECK_TOKEN_UNSUPPORTED_VERSION;
  int id = tok[1];
  if (!k->present[id]) return PARLEY_RELAY_CHECK_TOKEN_UNKNOWN_KEY;
  if (n != PARLEY_TOKEN_BYTES) return PARLEY_RELAY_CHECK_TOKEN_BAD_TAG;
  const uint8_t *tag = tok + PARLEY_TOKEN_HEADER_LEN;
  uint8_t pt[PARLEY_TOKEN_PLAINTEXT_LEN], mac[FC_SHA256];
  if (!fc_aes_ctr(m, k->enc[id], tag, tag + PARLEY_TOKEN_TAG_LEN, PARLEY_TOKEN_PLAINTEXT_LEN, pt) ||
      !fc_hmac(m->sha256, k->mac[id], FC_SUBKEY, tok, PARLEY_TOKEN_HEADER_LEN, pt, sizeof pt, NULL, 0, mac, sizeof mac) ||
      CRYPTO_memcmp(mac, tag, PARLEY_TOKEN_TAG_LEN) != 0) {
    OPENSSL_cleanse(pt, sizeof pt);
    return PARLEY_RELAY_CHECK_TOKEN_BAD_TAG;
  }
  uint8_t family = pt[PARLEY_TOKEN_PT_FAMILY];
  if (family != PARLEY_TOKEN_FAMILY_V4 && family != PARLEY_TOKEN_FAMILY_V6) return PARLEY_RELAY_CHECK_TOKEN_UNSUPPORTED_VERSION;
  int ip_len = family == PARLEY_TOKEN_FAMILY_V4 ? 4 : 16;
  for (int i = PARLEY_TOKEN_PT_IP + ip_len; i < PARLEY_TOKEN_PT_PORT; i++)
    if (pt[i] != 0) return PARLEY_RELAY_CHECK_TOKEN_MALFORMED;
  uint16_t port = (uint16_t)(pt[PARLEY_TOKEN_PT_PORT] << 8 | pt[PARLEY_TOKEN_PT_PORT + 1]);
  if (port == 0) return PARLEY_RELAY_CHECK_TOKEN_MALFORMED;
  double issued_at = (double)fc_u32(pt + PARLEY_TOKEN_PT_TIME) * 1000;
  double expires_at = issued_at + lifetime_ms;
  /* written as !(valid), as token.ts is, so a NaN fails closed */
  if (!(issued_at <= now + skew_ms)) return PARLEY_RELAY_CHECK_TOKEN_NOT_YET_VALID;
  if (!(now < expires_at)) return PARLEY_RELAY_CHECK_TOKEN_EXPIRED;
  memset(v, 0, sizeof *v);
  v->family = family;
  memcpy(v->ip, pt + PARLEY_TOKEN_PT_IP, (size_t)ip_len);
  v->port = port;
  v->issued_at = issued_at;
  *key_id = id;
  return PARLEY_RELAY_CHECK_VERIFIED;
}

/* format.ts toIceChars for whole groups (len a multiple of 3: a token's 48 bytes, a password's 18):
   base64 without padding, 4 chars per 3 bytes. */
static void fc_to_ice_chars(const uint8_t *in, size_t len, char *out) {
  for (size_t i = 0, o = 0; i + 3 <= len; i += 3) {
    uint32_t g = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
    out[o++] = FC_ICE_CHARS[g >> 18 & 63];
    out[o++] = FC_ICE_CHARS[g >> 12 & 63];
    out[o++] = FC_ICE_CHARS[g >> 6 & 63];
    out[o++] = FC_ICE_CHARS[g & 63];
  }
}

/* key.ts password() with one key's password sub-key: HMAC-SHA256(pwd key, ufrag) truncated to
   PASSWORD_BYTES, as ice-chars. The transceiver's mint (token_native.c) derives it this way too. */
static int fc_key_password(const fc_macs_t *m, const uint8_t key[FC_SUBKEY], const uint8_t *ufrag, size_t ulen,
                           char out[FC_PASSWORD_CHARS]) {
  uint8_t mac[FC_SHA256];
  if (!fc_hmac(m->sha256, key, FC_SUBKEY, ufrag, ulen, NULL, 0, NULL, 0, mac, sizeof mac)) return 0;
  fc_to_ice_chars(mac, PARLEY_TOKEN_PASSWORD_BYTES, out);
  OPENSSL_cleanse(mac, sizeof mac);
  return 1;
}

/* key.ts password() for the key with this id (in the keyring). */
static int fc_password(const fc_keyring_t *k, const fc_macs_t *m, int id, const uint8_t *ufrag, size_t ulen, char out[FC_PASSWORD_CHARS]) {
  return fc_key_password(m, k->pwd[id], ufrag, ulen, out);
}

/* raw.ts verifyMessageIntegrity with a short-term password (its bytes are the key). */
static int fc_integrity(const fc_macs_t *m, const uint8_t *msg, size_t len, const char *pwd, size_t pwd_len) {
  if (!fc_well_framed(msg, len)) return 0;
  long off = fc_find_integrity(msg, len);
  if (off < 0) return 0;
  if (((size_t)msg[off + 2] << 8 | msg[off + 3]) != FC_MI_LENGTH) return 0;
  uint8_t stun_header[FC_STUN_HEADER], mac[FC_SHA1];
  memcpy(stun_header, msg, FC_STUN_HEADER);
  size_t adjusted = (size_t)off - FC_STUN_HEADER + 4 + FC_MI_LENGTH;
  stun_header[2] = (uint8_t)(adjusted >> 8), stun_header[3] = (uint8_t)adjusted;
  if (!fc_hmac(m->sha1, (const uint8_t *)pwd, pwd_len, stun_header, sizeof stun_header, msg + FC_STUN_HEADER, (size_t)off - FC_STUN_HEADER, NULL, 0, mac,
               sizeof mac))
    return 0;
  return CRYPTO_memcmp(mac, msg + off + 4, FC_MI_LENGTH) == 0;
}

/* route.ts verifyCheck's middle: open, password, MESSAGE-INTEGRITY. A PARLEY_RELAY_CHECK_* value. */
static int fc_verify(const fc_keyring_t *k, const fc_macs_t *m, const uint8_t *packet, size_t len, const uint8_t *ufrag, size_t ulen,
                     double now, double lifetime_ms, double skew_ms, fc_verified_t *v) {
  int id = -1;
  int rc = fc_open(k, m, ufrag, ulen, now, lifetime_ms, skew_ms, v, &id);
  if (rc != PARLEY_RELAY_CHECK_VERIFIED) return rc;
  char pwd[FC_PASSWORD_CHARS];
  /* token.ts derivePassword cannot fail for a token that opened; counted as its cause if it does */
  if (!fc_password(k, m, id, ufrag, ulen, pwd)) return PARLEY_RELAY_CHECK_TOKEN_UNKNOWN_KEY;
  int ok = fc_integrity(m, packet, len, pwd, sizeof pwd);
  OPENSSL_cleanse(pwd, sizeof pwd);
  return ok ? PARLEY_RELAY_CHECK_VERIFIED : PARLEY_RELAY_CHECK_BAD_INTEGRITY;
}
