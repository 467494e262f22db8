// Parley native SRTP transforms (docs/srtp-rtp.md, "Native transform"): the cipher half of
// SRTP_AES128_CM_HMAC_SHA1_80 (RFC 3711 §4.1.1 AES-CM, §4.2.1 HMAC-SHA1 truncated to 80 bits,
// §3.4 SRTCP) and of SRTP_AEAD_AES_128_GCM (RFC 7714 §8 SRTP, §9 SRTCP) for one direction,
// behind the same SrtpTransform interface as src/core/srtp/transform-aes-cm.ts and
// transform-aes-gcm.ts. Index estimation, replay windows and per-SSRC state stay in SrtpSession
// (TypeScript); this file only encrypts, decrypts and authenticates one packet.
//
// Crypto comes from the OpenSSL that the node binary links statically and exports: no second
// libcrypto is linked (the symbols resolve from the process at dlopen time).
//   AES-CM: one AES-128-ECB EVP_CIPHER_CTX per key, keyed once. SRTP's counter blocks
//           (IV with a 16-bit block counter, RFC 3711 §4.1.1) are built on the stack and
//           ECB-encrypted in chunks of CHUNK_BLOCKS; ECB keeps no state, so the context is
//           never re-initialised per packet.
//   HMAC:   the SHA-1 states after absorbing key^ipad and key^opad are computed once; a packet
//           copies them (plain structs, no allocation) and finishes inner and outer hash. The
//           EVP_MAC / HMAC_CTX alternatives allocate a provider context per copy.
//           Tags are compared with CRYPTO_memcmp (constant time).
//   GCM:    one AES-128-GCM EVP_CIPHER_CTX per key and per operation (seal, open), keyed once
//           with the 12-byte IV length set once; per packet only the IV is set. The tag is
//           checked by EVP_DecryptFinal_ex (constant time inside OpenSSL).
//
// One N-API call per packet. RTP results are written into a Buffer the caller passes (a slice of
// Node's buffer pool: no ArrayBuffer and no backing store per packet, as napi_create_buffer
// costs) that must be large enough and must not overlap the packet; SRTCP, a few packets a
// second per call, gets one napi_create_buffer for its result. Inputs are checked:
// lengths are clamped or rejected the way the TypeScript transforms treat them (they clamp
// header copies and throw RangeError where Buffer/timingSafeEqual/setAuthTag would), so native
// and TypeScript agree on every input the tests throw at them. Each profile's context is a
// napi external with its own type tag (one profile's context passed to the other's functions
// is "bad context") whose finalizer cleanses and frees the keys.
//
// The same keyed-once AES-128-GCM also seals and opens DTLS 1.2 application data records
// (aeadCreate/aeadSeal/aeadOpen: nonce and additional data come from the record layer,
// src/core/dtls/record.ts; src/transceiver/media/dtls-aead-native.ts injects it).
//
// Node-API only (node_api.h, NAPI_VERSION 8).
//
// One file past 400 lines: both profiles' transforms share the OpenSSL symbol table, the key
// schedule and the N-API bindings of one addon; split, each half would re-declare them.
#define OPENSSL_SUPPRESS_DEPRECATED 1 /* SHA1_Init/Update/Final: the allocation-free SHA-1 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <node_api.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#define TAG 10
#define SALT 14
#define CHUNK_BLOCKS 64
#define MAX_BLOCKS 65536 /* RFC 3711 §4.1.1: the block counter is 16 bits */
#define E_FLAG 0x80000000u

typedef struct {
  EVP_CIPHER_CTX *ecb;
  SHA_CTX inner; /* after key ^ ipad */
  SHA_CTX outer; /* after key ^ opad */
  uint8_t salt[SALT];
} half_t;

typedef struct {
  half_t rtp;
  half_t rtcp;
} srtp_ctx;

static const napi_type_tag CTX_TAG = {0x7061726c6579ULL, 0x737274705f636dULL}; /* "parley" "srtp_cm" */
static const napi_type_tag GCM_CTX_TAG = {0x7061726c6579ULL, 0x737274705f67636dULL}; /* "parley" "srtp_gcm" */
static const napi_type_tag AEAD_CTX_TAG = {0x7061726c6579ULL, 0x64746c735f67636dULL}; /* "parley" "dtls_gcm" */

#define THROW(env, msg)                           \
  do {                                            \
    napi_throw_error((env), "ERR_SRTP_NATIVE_MISUSE", (msg)); \
    return NULL;                                  \
  } while (0)
#define THROW_RANGE(env, msg)                     \
  do {                                            \
    napi_throw_range_error((env), "ERR_OUT_OF_RANGE", (msg)); \
    return NULL;                                  \
  } while (0)

static void half_free(half_t *h) {
  if (h->ecb) EVP_CIPHER_CTX_free(h->ecb);
  OPENSSL_cleanse(h, sizeof *h);
}

static void ctx_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  srtp_ctx *c = data;
  half_free(&c->rtp);
  half_free(&c->rtcp);
  free(c);
}

static int half_init(half_t *h, const uint8_t *enc, const uint8_t *auth, size_t authLen, const uint8_t *salt) {
  h->ecb = EVP_CIPHER_CTX_new();
  if (!h->ecb) return 0;
  if (EVP_EncryptInit_ex(h->ecb, EVP_aes_128_ecb(), NULL, enc, NULL) != 1) return 0;
  if (EVP_CIPHER_CTX_set_padding(h->ecb, 0) != 1) return 0;
  /* RFC 2104: K padded to the 64-byte block; the auth key is 20 bytes, never hashed first. */
  uint8_t pad[64];
  memset(pad, 0x36, sizeof pad);
  for (size_t i = 0; i < authLen; i++) pad[i] ^= auth[i];
  if (SHA1_Init(&h->inner) != 1 || SHA1_Update(&h->inner, pad, sizeof pad) != 1) return 0;
  memset(pad, 0x5c, sizeof pad);
  for (size_t i = 0; i < authLen; i++) pad[i] ^= auth[i];
  if (SHA1_Init(&h->outer) != 1 || SHA1_Update(&h->outer, pad, sizeof pad) != 1) return 0;
  OPENSSL_cleanse(pad, sizeof pad);
  memcpy(h->salt, salt, SALT);
  return 1;
}

/* RFC 3711 §4.1.1: IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16), i = hi32 * 2^16 + lo16. */
static void iv_for(const half_t *h, uint32_t ssrc, uint32_t hi32, uint32_t lo16, uint8_t iv[16]) {
  memcpy(iv, h->salt, SALT);
  iv[14] = 0;
  iv[15] = 0;
  iv[4] ^= ssrc >> 24; iv[5] ^= ssrc >> 16; iv[6] ^= ssrc >> 8; iv[7] ^= ssrc;
  iv[8] ^= hi32 >> 24; iv[9] ^= hi32 >> 16; iv[10] ^= hi32 >> 8; iv[11] ^= hi32;
  iv[12] ^= lo16 >> 8; iv[13] ^= lo16;
}

/* dst[0..n) = src[0..n) XOR AES-CM keystream(iv). src and dst may not overlap partially. */
static int cm_xor(const half_t *h, const uint8_t iv[16], const uint8_t *src, uint8_t *dst, size_t n) {
  if (n == 0) return 1;
  if ((n + 15) / 16 > MAX_BLOCKS) return 0;
  uint8_t ctr[CHUNK_BLOCKS * 16];
  uint8_t ks[CHUNK_BLOCKS * 16];
  uint32_t block = 0;
  for (size_t off = 0; off < n;) {
    size_t take = n - off < sizeof ks ? n - off : sizeof ks;
    size_t nb = (take + 15) / 16;
    for (size_t b = 0; b < nb; b++, block++) {
      memcpy(ctr + b * 16, iv, 14);
      ctr[b * 16 + 14] = (uint8_t)(block >> 8);
      ctr[b * 16 + 15] = (uint8_t)block;
    }
    int outl = 0;
    if (EVP_EncryptUpdate(h->ecb, ks, &outl, ctr, (int)(nb * 16)) != 1 || outl != (int)(nb * 16)) return 0;
    for (size_t i = 0; i < take; i++) dst[off + i] = src[off + i] ^ ks[i];
    off += take;
  }
  OPENSSL_cleanse(ks, sizeof ks);
  return 1;
}

/* HMAC-SHA1(key, a || b), first TAG bytes into tag. */
static void hmac_tag(const half_t *h, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, uint8_t tag[TAG]) {
  SHA_CTX s = h->inner;
  uint8_t md[SHA_DIGEST_LENGTH];
  SHA1_Update(&s, a, alen);
  if (blen) SHA1_Update(&s, b, blen);
  SHA1_Final(md, &s);
  s = h->outer;
  SHA1_Update(&s, md, sizeof md);
  SHA1_Final(md, &s);
  memcpy(tag, md, TAG);
  OPENSSL_cleanse(&s, sizeof s);
}

static void be32(uint8_t *p, uint32_t v) {
  p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v;
}

/* ---- argument helpers ---- */

/* The native context behind v if it carries `tag` (AES-CM or GCM), else NULL. */
static void *get_ctx(napi_env env, napi_value v, const napi_type_tag *tag) {
  bool ok = false;
  void *data = NULL;
  if (napi_check_object_type_tag(env, v, tag, &ok) != napi_ok || !ok) return NULL;
  if (napi_get_value_external(env, v, &data) != napi_ok) return NULL;
  return data;
}

static int get_buf(napi_env env, napi_value v, const uint8_t **data, size_t *len) {
  bool is = false;
  if (napi_is_buffer(env, v, &is) != napi_ok || !is) return 0;
  void *d = NULL;
  if (napi_get_buffer_info(env, v, &d, len) != napi_ok) return 0;
  *data = d;
  return 1;
}

/* A JS number that must be an integer in [0, max] (the TS transform's writeUInt*BE would throw). */
static int get_uint(napi_env env, napi_value v, double max, uint32_t *out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok) return 0;
  if (!(d >= 0 && d <= max) || d != (double)(uint32_t)d) return 0;
  *out = (uint32_t)d;
  return 1;
}

/* ToUint32, as `x ^ ssrc` / `index >>> 16` treat any number in the TS transform. */
static int get_wrap32(napi_env env, napi_value v, uint32_t *out) {
  return napi_get_value_uint32(env, v, out) == napi_ok;
}

static napi_value undef(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

/* Exactly n Buffer arguments into p/l; else throws `msg` (and returns 0). n <= 6. */
static int get_bufs(napi_env env, napi_callback_info info, size_t n, const uint8_t **p, size_t *l, const char *msg) {
  size_t argc = n;
  napi_value argv[6];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != n) return napi_throw_error(env, "ERR_SRTP_NATIVE_MISUSE", msg), 0;
  for (size_t i = 0; i < n; i++) {
    if (!get_buf(env, argv[i], &p[i], &l[i])) return napi_throw_error(env, "ERR_SRTP_NATIVE_MISUSE", msg), 0;
  }
  return 1;
}

/* The JS handle of a new context c: an external with `tag` whose finalizer is `fin`. On failure
 * fin(c) runs at once and an exception is pending (NULL). */
static napi_value wrap_ctx(napi_env env, void *c, napi_finalize fin, const napi_type_tag *tag) {
  napi_value ext;
  if (napi_create_external(env, c, fin, NULL, &ext) != napi_ok) {
    fin(env, c, NULL);
    THROW(env, "napi_create_external failed");
  }
  napi_type_tag_object(env, ext, tag);
  return ext;
}

/* ---- exports ---- */

/* create(rtpEnc, rtpAuth, rtpSalt, rtcpEnc, rtcpAuth, rtcpSalt) → context */
static napi_value create(napi_env env, napi_callback_info info) {
  const uint8_t *p[6];
  size_t l[6];
  if (!get_bufs(env, info, 6, p, l, "create needs 6 buffers")) return NULL;
  if (l[0] != 16 || l[3] != 16 || l[1] != 20 || l[4] != 20 || l[2] != SALT || l[5] != SALT) {
    THROW(env, "AES_CM_128_HMAC_SHA1_80 needs 16-byte cipher keys, 20-byte auth keys and 14-byte salts");
  }
  srtp_ctx *c = calloc(1, sizeof *c);
  if (!c) THROW(env, "out of memory");
  if (!half_init(&c->rtp, p[0], p[1], l[1], p[2]) || !half_init(&c->rtcp, p[3], p[4], l[4], p[5])) {
    ctx_finalize(env, c, NULL);
    THROW(env, "OpenSSL refused the AES-128-ECB or SHA-1 setup");
  }
  return wrap_ctx(env, c, ctx_finalize, &CTX_TAG);
}

/* (ctx, packet, headerLength, ssrc, roc, seq, out) of protectRtp / unprotectRtp. */
typedef struct {
  void *c;
  const uint8_t *in;
  size_t len;
  int32_t h;
  uint32_t ssrc, roc, seq;
  uint8_t *out;
  size_t outLen;
} rtp_args;

/* Fills a for the profile whose context carries `tag`; on failure a JS exception is pending and 0
 * is returned. ROC and seq are read as each TypeScript transform uses them: AES-CM writes the ROC
 * with writeUInt32BE (throws outside [0, 2^32)); GCM XORs both into the salt, `salt ^ roc` wraps
 * like ToUint32 and `salt16 ^ seq` written with writeUInt16BE throws unless ToUint32(seq) < 2^16.
 * A packet shorter than minLen throws RangeError. */
static int get_rtp_args(napi_env env, napi_callback_info info, const napi_type_tag *tag, size_t minLen, rtp_args *a) {
  size_t argc = 7;
  napi_value argv[7];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 7) return napi_throw_error(env, "ERR_SRTP_NATIVE_MISUSE", "needs 7 arguments"), 0;
  a->c = get_ctx(env, argv[0], tag);
  const uint8_t *out;
  if (!a->c || !get_buf(env, argv[1], &a->in, &a->len) || !get_buf(env, argv[6], &out, &a->outLen)) {
    return napi_throw_error(env, "ERR_SRTP_NATIVE_MISUSE", "bad context, packet or output buffer"), 0;
  }
  a->out = (uint8_t *)out;
  if (napi_get_value_int32(env, argv[2], &a->h) != napi_ok) return napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "headerLength out of range"), 0;
  int ok = tag == &GCM_CTX_TAG
               ? get_wrap32(env, argv[4], &a->roc) && get_wrap32(env, argv[5], &a->seq) && a->seq <= 65535
               : get_uint(env, argv[4], 4294967295.0, &a->roc) && get_uint(env, argv[5], 65535, &a->seq);
  if (!get_wrap32(env, argv[3], &a->ssrc) || !ok) {
    return napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "ssrc, roc or seq out of range"), 0;
  }
  /* unprotect: a packet shorter than the tag (the TypeScript transforms throw on it too) */
  if (a->len < minLen) return napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "packet shorter than the tag"), 0;
  return 1;
}

/* The first `need` bytes of a->out hold the result: it must be that long and not overlap the packet. */
static int check_out(napi_env env, const rtp_args *a, size_t need) {
  if (a->outLen < need) return napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "output buffer too small"), 0;
  if (need > 0 && a->len > 0 && a->out < a->in + a->len && a->in < a->out + need) {
    return napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "output buffer overlaps the packet"), 0;
  }
  return 1;
}

static napi_value length_of(napi_env env, size_t n) {
  napi_value v;
  napi_create_uint32(env, (uint32_t)n, &v);
  return v;
}

/* protectRtp(ctx, packet, headerLength, ssrc, roc, seq, out) → bytes written to out (packet + tag) | undefined */
static napi_value protect_rtp(napi_env env, napi_callback_info info) {
  rtp_args a;
  if (!get_rtp_args(env, info, &CTX_TAG, 0, &a)) return NULL;
  srtp_ctx *c = a.c;
  if (a.h < 0) THROW_RANGE(env, "headerLength out of range");
  if (!check_out(env, &a, a.len + TAG)) return NULL;
  size_t hl = (size_t)a.h < a.len ? (size_t)a.h : a.len; /* a header past the end: nothing to encrypt */
  if (hl) memcpy(a.out, a.in, hl); /* a zero-length Buffer's data may be NULL: memcpy(_, NULL, 0) is undefined (C11 §7.24.1) */
  uint8_t iv[16];
  iv_for(&c->rtp, a.ssrc, a.roc, a.seq, iv);
  if (!cm_xor(&c->rtp, iv, a.in + hl, a.out + hl, a.len - hl)) return undef(env);
  /* RFC 3711 §4.2: the tag covers header + encrypted payload || ROC. */
  uint8_t rocb[4];
  be32(rocb, a.roc);
  hmac_tag(&c->rtp, a.out, a.len, rocb, 4, a.out + a.len);
  return length_of(env, a.len + TAG);
}

/* unprotectRtp(ctx, packet, headerLength, ssrc, roc, seq, out) → bytes written to out (the RTP packet) | undefined */
static napi_value unprotect_rtp(napi_env env, napi_callback_info info) {
  rtp_args a;
  if (!get_rtp_args(env, info, &CTX_TAG, TAG, &a)) return NULL;
  srtp_ctx *c = a.c;
  size_t end = a.len - TAG;
  uint8_t rocb[4], tag[TAG];
  be32(rocb, a.roc);
  hmac_tag(&c->rtp, a.in, end, rocb, 4, tag);
  if (CRYPTO_memcmp(tag, a.in + end, TAG) != 0) return undef(env);
  if (a.h < 0) THROW_RANGE(env, "headerLength out of range");
  if (!check_out(env, &a, end)) return NULL;
  size_t hl = (size_t)a.h < end ? (size_t)a.h : end;
  if (hl) memcpy(a.out, a.in, hl);
  uint8_t iv[16];
  iv_for(&c->rtp, a.ssrc, a.roc, a.seq, iv);
  if (!cm_xor(&c->rtp, iv, a.in + hl, a.out + hl, end - hl)) return undef(env);
  return length_of(env, end);
}

/* (ctx, packet, ssrc, index or eIndex) of protectRtcp / unprotectRtcp. */
typedef struct {
  void *c;
  const uint8_t *in;
  size_t len;
  uint32_t ssrc, index; /* index: the SRTCP index to protect with, or the E+index word read */
} rtcp_args;

/* As get_rtp_args. */
static int get_rtcp_args(napi_env env, napi_callback_info info, const napi_type_tag *tag, rtcp_args *a) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 4) return napi_throw_error(env, "ERR_SRTP_NATIVE_MISUSE", "needs 4 arguments"), 0;
  a->c = get_ctx(env, argv[0], tag);
  if (!a->c || !get_buf(env, argv[1], &a->in, &a->len)) return napi_throw_error(env, "ERR_SRTP_NATIVE_MISUSE", "bad context or packet"), 0;
  if (!get_wrap32(env, argv[2], &a->ssrc) || !get_wrap32(env, argv[3], &a->index)) {
    return napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "ssrc or index out of range"), 0;
  }
  return 1;
}

/* protectRtcp(ctx, packet, ssrc, index) → Buffer | undefined */
static napi_value protect_rtcp(napi_env env, napi_callback_info info) {
  rtcp_args a;
  if (!get_rtcp_args(env, info, &CTX_TAG, &a)) return NULL;
  srtp_ctx *c = a.c;
  size_t hl = a.len < 8 ? a.len : 8; /* RFC 3711 §3.4: header + sender SSRC stay in the clear */
  uint8_t *out;
  napi_value result;
  if (napi_create_buffer(env, a.len + 4 + TAG, (void **)&out, &result) != napi_ok) return NULL;
  if (hl) memcpy(out, a.in, hl); /* an empty packet: a.in may be NULL */
  uint8_t iv[16];
  iv_for(&c->rtcp, a.ssrc, a.index >> 16, a.index & 0xffff, iv);
  if (!cm_xor(&c->rtcp, iv, a.in + hl, out + hl, a.len - hl)) return undef(env);
  be32(out + a.len, E_FLAG | a.index);
  hmac_tag(&c->rtcp, out, a.len + 4, NULL, 0, out + a.len + 4);
  return result;
}

/* unprotectRtcp(ctx, packet, ssrc, eIndex) → Buffer | undefined */
static napi_value unprotect_rtcp(napi_env env, napi_callback_info info) {
  rtcp_args a;
  if (!get_rtcp_args(env, info, &CTX_TAG, &a)) return NULL;
  srtp_ctx *c = a.c;
  if (a.len < TAG) THROW_RANGE(env, "packet shorter than the tag");
  /* Authenticated portion || E+index = everything before the tag (RFC 3711 §3.4). */
  uint8_t tag[TAG];
  hmac_tag(&c->rtcp, a.in, a.len - TAG, NULL, 0, tag);
  if (CRYPTO_memcmp(tag, a.in + a.len - TAG, TAG) != 0) return undef(env);
  if (a.len < TAG + 4) THROW_RANGE(env, "packet shorter than index and tag");
  size_t t = a.len - TAG - 4;
  uint8_t *out;
  napi_value result;
  if (napi_create_buffer(env, t, (void **)&out, &result) != napi_ok) return NULL;
  if ((a.index & E_FLAG) == 0) {
    if (t) memcpy(out, a.in, t); /* t = 0: napi_create_buffer(0) gives out = NULL. E = 0: authenticated but sent in the clear (RFC 3711 §3.4) */
    return result;
  }
  uint32_t index = a.index & 0x7fffffff;
  size_t hl = t < 8 ? t : 8;
  if (hl) memcpy(out, a.in, hl);
  uint8_t iv[16];
  iv_for(&c->rtcp, a.ssrc, index >> 16, index & 0xffff, iv);
  if (!cm_xor(&c->rtcp, iv, a.in + hl, out + hl, t - hl)) return undef(env);
  return result;
}

/* ==== SRTP_AEAD_AES_128_GCM (RFC 7714) ==== */

#define GCM_TAG 16   /* RFC 7714 §12: AEAD_AES_128_GCM, 16-octet authentication tag */
#define GCM_SALT 12  /* §12: 96-bit session salt */
#define GCM_IV 12    /* §8.1, §9.1: 12-octet IV */
#define GCM_CHUNK (1 << 30) /* EVP_*Update takes an int length */
_Static_assert(GCM_SALT == GCM_IV, "the IV is the salt with SSRC, ROC/index and SEQ XORed in");

typedef struct {
  EVP_CIPHER_CTX *seal; /* keyed once for encryption; per packet only the IV is set */
  EVP_CIPHER_CTX *open; /* the same key for decryption */
  uint8_t salt[GCM_SALT];
} gcm_half_t;

typedef struct {
  gcm_half_t rtp;
  gcm_half_t rtcp;
} gcm_ctx;

static void gcm_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  gcm_ctx *c = data;
  /* EVP_CIPHER_CTX_free takes NULL and cleanses the key schedule it owns; then the salts. */
  EVP_CIPHER_CTX *x[] = {c->rtp.seal, c->rtp.open, c->rtcp.seal, c->rtcp.open};
  for (size_t i = 0; i < sizeof x / sizeof x[0]; i++) EVP_CIPHER_CTX_free(x[i]);
  OPENSSL_cleanse(c, sizeof *c);
  free(c);
}

/* One AES-128-GCM context for `enc` (1 seal, 0 open): cipher, 12-byte IV length, key, once. */
static EVP_CIPHER_CTX *gcm_keyed(const uint8_t *key, int enc) {
  EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
  if (!x) return NULL;
  if (EVP_CipherInit_ex(x, EVP_aes_128_gcm(), NULL, NULL, NULL, enc) != 1 ||
      EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_IVLEN, GCM_IV, NULL) != 1 ||
      EVP_CipherInit_ex(x, NULL, NULL, key, NULL, enc) != 1) {
    EVP_CIPHER_CTX_free(x);
    return NULL;
  }
  return x;
}

static int gcm_half_init(gcm_half_t *h, const uint8_t *key, const uint8_t *salt) {
  h->seal = gcm_keyed(key, 1);
  h->open = gcm_keyed(key, 0);
  memcpy(h->salt, salt, GCM_SALT);
  return h->seal && h->open;
}

/* RFC 7714 §8.1: IV = (00 00 || SSRC || ROC || SEQ) XOR salt. */
static void gcm_rtp_iv(const gcm_half_t *h, uint32_t ssrc, uint32_t roc, uint32_t seq, uint8_t iv[GCM_IV]) {
  memcpy(iv, h->salt, GCM_IV);
  iv[2] ^= ssrc >> 24; iv[3] ^= ssrc >> 16; iv[4] ^= ssrc >> 8; iv[5] ^= ssrc;
  iv[6] ^= roc >> 24; iv[7] ^= roc >> 16; iv[8] ^= roc >> 8; iv[9] ^= roc;
  iv[10] ^= seq >> 8; iv[11] ^= seq;
}

/* RFC 7714 §9.1: IV = (00 00 || SSRC || 00 00 || 0 || SRTCP index) XOR salt. The index is XORed
 * in as given (32 bits), as the TypeScript transform does; SrtpSession passes < 2^31. */
static void gcm_rtcp_iv(const gcm_half_t *h, uint32_t ssrc, uint32_t index, uint8_t iv[GCM_IV]) {
  memcpy(iv, h->salt, GCM_IV);
  iv[2] ^= ssrc >> 24; iv[3] ^= ssrc >> 16; iv[4] ^= ssrc >> 8; iv[5] ^= ssrc;
  iv[8] ^= index >> 24; iv[9] ^= index >> 16; iv[10] ^= index >> 8; iv[11] ^= index;
}

/* EVP_CipherUpdate over n bytes in int-sized chunks; dst NULL feeds AAD. */
static int gcm_update(EVP_CIPHER_CTX *x, uint8_t *dst, const uint8_t *src, size_t n) {
  for (size_t off = 0; off < n;) {
    int take = n - off < GCM_CHUNK ? (int)(n - off) : GCM_CHUNK;
    int outl = 0;
    if (EVP_CipherUpdate(x, dst ? dst + off : NULL, &outl, src + off, take) != 1) return 0;
    if (dst && outl != take) return 0; /* GCM is a stream mode: all of it, at once */
    off += (size_t)take;
  }
  return 1;
}

/* ct[0..n) = GCM-encrypt(pt[0..n)) under iv with AAD a1 || a2, then the tag. pt and ct do not overlap. */
static int gcm_seal(EVP_CIPHER_CTX *x, const uint8_t iv[GCM_IV], const uint8_t *a1, size_t n1, const uint8_t *a2, size_t n2,
                    const uint8_t *pt, uint8_t *ct, size_t n, uint8_t tag[GCM_TAG]) {
  uint8_t fin[16];
  int outl = 0;
  int ok = EVP_EncryptInit_ex(x, NULL, NULL, NULL, iv) == 1 && gcm_update(x, NULL, a1, n1) && gcm_update(x, NULL, a2, n2) &&
           gcm_update(x, ct, pt, n) && EVP_EncryptFinal_ex(x, fin, &outl) == 1 && outl == 0 &&
           EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_GET_TAG, GCM_TAG, tag) == 1;
  if (!ok) ERR_clear_error(); /* nothing of ours left on the thread's error queue, which node:crypto shares */
  return ok;
}

/* pt[0..n) = GCM-decrypt(ct[0..n)) if `tag` verifies over AAD a1 || a2 and ct; 1 if it does. GCM
 * decrypts before the tag is known, so on failure the unverified plaintext is wiped. */
static int gcm_open(EVP_CIPHER_CTX *x, const uint8_t iv[GCM_IV], const uint8_t *a1, size_t n1, const uint8_t *a2, size_t n2,
                    const uint8_t *ct, uint8_t *pt, size_t n, const uint8_t *tagIn) {
  uint8_t tag[GCM_TAG], fin[16];
  memcpy(tag, tagIn, GCM_TAG);
  int outl = 0;
  int ok = EVP_DecryptInit_ex(x, NULL, NULL, NULL, iv) == 1 && EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_TAG, GCM_TAG, tag) == 1 &&
           gcm_update(x, NULL, a1, n1) && gcm_update(x, NULL, a2, n2) && gcm_update(x, pt, ct, n) &&
           EVP_DecryptFinal_ex(x, fin, &outl) == 1 && outl == 0;
  if (!ok) {
    if (n) OPENSSL_cleanse(pt, n);
    ERR_clear_error(); /* nothing of ours left on the thread's error queue, which node:crypto shares */
  }
  return ok;
}

/* gcmCreate(rtpKey, rtpSalt, rtcpKey, rtcpSalt) → context */
static napi_value gcm_create(napi_env env, napi_callback_info info) {
  const uint8_t *p[4];
  size_t l[4];
  if (!get_bufs(env, info, 4, p, l, "gcmCreate needs 4 buffers")) return NULL;
  if (l[0] != 16 || l[2] != 16 || l[1] != GCM_SALT || l[3] != GCM_SALT) {
    THROW(env, "AEAD_AES_128_GCM needs 16-byte keys and 12-byte salts");
  }
  gcm_ctx *c = calloc(1, sizeof *c);
  if (!c) THROW(env, "out of memory");
  if (!gcm_half_init(&c->rtp, p[0], p[1]) || !gcm_half_init(&c->rtcp, p[2], p[3])) {
    gcm_finalize(env, c, NULL);
    THROW(env, "OpenSSL refused the AES-128-GCM setup");
  }
  return wrap_ctx(env, c, gcm_finalize, &GCM_CTX_TAG);
}

/* gcmProtectRtp(ctx, packet, headerLength, ssrc, roc, seq, out) → bytes written to out (packet + tag) | undefined */
static napi_value gcm_protect_rtp(napi_env env, napi_callback_info info) {
  rtp_args a;
  if (!get_rtp_args(env, info, &GCM_CTX_TAG, 0, &a)) return NULL;
  gcm_ctx *c = a.c;
  if (a.h < 0) THROW_RANGE(env, "headerLength out of range");
  if (!check_out(env, &a, a.len + GCM_TAG)) return NULL;
  size_t hl = (size_t)a.h < a.len ? (size_t)a.h : a.len; /* a header past the end: all AAD, nothing to encrypt */
  if (hl) memcpy(a.out, a.in, hl);
  uint8_t iv[GCM_IV];
  gcm_rtp_iv(&c->rtp, a.ssrc, a.roc, a.seq, iv);
  /* RFC 7714 §8.2: AAD = the RTP header; the payload is encrypted; the tag follows it. */
  if (!gcm_seal(c->rtp.seal, iv, a.in, hl, NULL, 0, a.in + hl, a.out + hl, a.len - hl, a.out + a.len)) {
    OPENSSL_cleanse(a.out, a.len + GCM_TAG);
    return undef(env);
  }
  return length_of(env, a.len + GCM_TAG);
}

/* gcmUnprotectRtp(ctx, packet, headerLength, ssrc, roc, seq, out) → bytes written to out (the RTP packet) | undefined.
 * `out` receives the plaintext as it is decrypted; a forged packet leaves zeros where it went. */
static napi_value gcm_unprotect_rtp(napi_env env, napi_callback_info info) {
  rtp_args a;
  if (!get_rtp_args(env, info, &GCM_CTX_TAG, GCM_TAG, &a)) return NULL;
  gcm_ctx *c = a.c;
  size_t end = a.len - GCM_TAG;
  if (!check_out(env, &a, end)) return NULL;
  /* The slices the TypeScript transform takes with Buffer#subarray: AAD = packet[0, h) (a negative h
   * counts from the end of the packet, an h past `end` takes tag bytes too, which then cannot
   * verify) and ciphertext = packet[h, end). SrtpSession always passes 12 <= h <= end. */
  size_t neg = a.h < 0 ? (size_t)(-(int64_t)a.h) : 0;
  size_t aad = a.h < 0 ? (a.len > neg ? a.len - neg : 0) : ((size_t)a.h < a.len ? (size_t)a.h : a.len);
  size_t ct = aad < end ? end - aad : 0;
  uint8_t iv[GCM_IV];
  gcm_rtp_iv(&c->rtp, a.ssrc, a.roc, a.seq, iv);
  if (!gcm_open(c->rtp.open, iv, a.in, aad, NULL, 0, a.in + aad, ct ? a.out + aad : NULL, ct, a.in + end)) return undef(env);
  if (a.h < 0) { /* authentic, but the TypeScript transform's header copy throws on a negative length */
    if (ct) OPENSSL_cleanse(a.out + aad, ct);
    THROW_RANGE(env, "headerLength out of range");
  }
  if (end) memcpy(a.out, a.in, aad < end ? aad : end);
  return length_of(env, end);
}

/* gcmProtectRtcp(ctx, packet, ssrc, index) → Buffer | undefined */
static napi_value gcm_protect_rtcp(napi_env env, napi_callback_info info) {
  rtcp_args a;
  if (!get_rtcp_args(env, info, &GCM_CTX_TAG, &a)) return NULL;
  gcm_ctx *c = a.c;
  /* The TypeScript transform pads a shorter packet's AAD with whatever its scratch buffer held
   * from the previous call; there is no meaningful answer, so refuse. SrtpSession drops RTCP
   * under 8 bytes before it gets here. */
  if (a.len < 8) THROW_RANGE(env, "RTCP packet shorter than its 8-byte header");
  void *data;
  napi_value result;
  if (napi_create_buffer(env, a.len + GCM_TAG + 4, &data, &result) != napi_ok) return NULL;
  uint8_t *out = data;
  uint8_t word[4];
  be32(word, E_FLAG | a.index);
  memcpy(out, a.in, 8);
  uint8_t iv[GCM_IV];
  gcm_rtcp_iv(&c->rtcp, a.ssrc, a.index, iv);
  /* RFC 7714 §9.2 (E = 1): AAD = header + sender SSRC (8 octets) || E+SRTCP index; the rest is
   * encrypted; the packet is header || ciphertext || tag || E+index. */
  if (!gcm_seal(c->rtcp.seal, iv, a.in, 8, word, 4, a.in + 8, out + 8, a.len - 8, out + a.len)) return undef(env);
  memcpy(out + a.len + GCM_TAG, word, 4);
  return result;
}

/* gcmUnprotectRtcp(ctx, packet, ssrc, eIndex) → Buffer | undefined */
static napi_value gcm_unprotect_rtcp(napi_env env, napi_callback_info info) {
  rtcp_args a;
  if (!get_rtcp_args(env, info, &GCM_CTX_TAG, &a)) return NULL;
  gcm_ctx *c = a.c;
  if (a.len < GCM_TAG + 4) THROW_RANGE(env, "packet shorter than tag and index");
  size_t t = a.len - 4; /* E+SRTCP index, as sent: authenticated as it is, whatever the eIndex argument says */
  size_t end = t - GCM_TAG; /* the tag is packet[end, t) */
  void *data;
  napi_value result;
  if (napi_create_buffer(env, end, &data, &result) != napi_ok) return NULL;
  uint8_t *out = data;
  uint8_t iv[GCM_IV];
  gcm_rtcp_iv(&c->rtcp, a.ssrc, a.index & 0x7fffffff, iv);
  if ((a.index & E_FLAG) == 0) {
    /* RFC 7714 §9.3 (E = 0): AAD = the whole RTCP packet || E+index, empty plaintext. */
    if (!gcm_open(c->rtcp.open, iv, a.in, end, a.in + t, 4, NULL, NULL, 0, a.in + end)) return undef(env);
    if (end) memcpy(out, a.in, end);
    return result;
  }
  /* §9.2 (E = 1): AAD = the first 8 octets || E+index; ciphertext = packet[8, end). On a packet
   * with end < 8 (shorter than SrtpSession lets through) the ciphertext is empty, as in TS. */
  size_t ct = end > 8 ? end - 8 : 0;
  if (!gcm_open(c->rtcp.open, iv, a.in, 8, a.in + t, 4, a.in + 8, ct ? out + 8 : NULL, ct, a.in + end)) return undef(env);
  if (end) memcpy(out, a.in, end < 8 ? end : 8);
  return result;
}

/* ==== AES-128-GCM for DTLS 1.2 application data records (RFC 5288 §3, RFC 5246 §6.2.3.3) ==== */
/* The record layer (src/core/dtls/record.ts) builds nonce and additional data; here one key's
 * contexts (seal, open), each keyed once, as for SRTP GCM above — but each only at its first use:
 * a DTLS record key is used in one direction only (the endpoint's write key seals, its read key
 * opens), and the write key's context is made on the step between the peer's flight and ours. */

typedef struct {
  uint8_t key[16];
  EVP_CIPHER_CTX *seal;
  EVP_CIPHER_CTX *open;
} aead_ctx;

static void aead_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  aead_ctx *c = data;
  EVP_CIPHER_CTX_free(c->seal);
  EVP_CIPHER_CTX_free(c->open);
  OPENSSL_cleanse(c->key, sizeof c->key);
  free(c);
}

/* The context for sealing (enc 1) or opening (enc 0), keyed at its first use; NULL when OpenSSL refuses. */
static EVP_CIPHER_CTX *aead_keyed(aead_ctx *c, int enc) {
  EVP_CIPHER_CTX **x = enc ? &c->seal : &c->open;
  if (*x == NULL) *x = gcm_keyed(c->key, enc);
  return *x;
}

/* aeadCreate(key) → context; key: 16 bytes (AES-128-GCM) */
static napi_value aead_create(napi_env env, napi_callback_info info) {
  const uint8_t *p[1];
  size_t l[1];
  if (!get_bufs(env, info, 1, p, l, "aeadCreate needs 1 buffer")) return NULL;
  if (l[0] != 16) THROW(env, "AES-128-GCM needs a 16-byte key");
  aead_ctx *c = calloc(1, sizeof *c);
  if (!c) THROW(env, "out of memory");
  memcpy(c->key, p[0], sizeof c->key);
  return wrap_ctx(env, c, aead_finalize, &AEAD_CTX_TAG);
}

/* (ctx, nonce, aad, input, out, outOffset) of aeadSeal / aeadOpen; 0 with a JS exception pending on misuse. */
typedef struct {
  aead_ctx *c;
  const uint8_t *nonce, *aad, *in;
  size_t aadLen, len;
  uint8_t *out;
  size_t outLen;
} aead_args;

static int get_aead_args(napi_env env, napi_callback_info info, aead_args *a) {
  size_t argc = 6;
  napi_value argv[6];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 6) return napi_throw_error(env, "ERR_SRTP_NATIVE_MISUSE", "needs 6 arguments"), 0;
  size_t nonceLen;
  const uint8_t *out;
  uint32_t off;
  a->c = get_ctx(env, argv[0], &AEAD_CTX_TAG);
  if (!a->c || !get_buf(env, argv[1], &a->nonce, &nonceLen) || !get_buf(env, argv[2], &a->aad, &a->aadLen) ||
      !get_buf(env, argv[3], &a->in, &a->len) || !get_buf(env, argv[4], &out, &a->outLen)) {
    return napi_throw_error(env, "ERR_SRTP_NATIVE_MISUSE", "bad context, nonce, aad, input or output buffer"), 0;
  }
  if (nonceLen != GCM_IV) return napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "the nonce must be 12 bytes"), 0;
  if (napi_get_value_uint32(env, argv[5], &off) != napi_ok || off > a->outLen) {
    return napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "outOffset out of range"), 0;
  }
  a->out = (uint8_t *)out + off;
  a->outLen -= off;
  return 1;
}

/* Output and input may not overlap (OpenSSL's GCM works in place only when they are equal). */
static int aead_check_out(napi_env env, const aead_args *a, size_t need) {
  if (a->outLen < need) return napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "output buffer too small"), 0;
  if (need > 0 && a->len > 0 && a->out < a->in + a->len && a->in < a->out + need) {
    return napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "output buffer overlaps the input"), 0;
  }
  return 1;
}

/* aeadSeal(ctx, nonce, aad, plaintext, out, outOffset) → bytes written at out[outOffset..] (ciphertext ‖ 16-byte tag) | undefined */
static napi_value aead_seal(napi_env env, napi_callback_info info) {
  aead_args a;
  if (!get_aead_args(env, info, &a)) return NULL;
  if (!aead_check_out(env, &a, a.len + GCM_TAG)) return NULL;
  EVP_CIPHER_CTX *x = aead_keyed(a.c, 1);
  if (x == NULL || !gcm_seal(x, a.nonce, a.aad, a.aadLen, NULL, 0, a.in, a.out, a.len, a.out + a.len)) {
    OPENSSL_cleanse(a.out, a.len + GCM_TAG);
    return undef(env);
  }
  return length_of(env, a.len + GCM_TAG);
}

/* aeadOpen(ctx, nonce, aad, ciphertextAndTag, out, outOffset) → plaintext bytes written at out[outOffset..] | undefined
 * (shorter than the tag, or the tag does not verify: then nothing of the plaintext is left in out). */
static napi_value aead_open(napi_env env, napi_callback_info info) {
  aead_args a;
  if (!get_aead_args(env, info, &a)) return NULL;
  if (a.len < GCM_TAG) return undef(env);
  size_t n = a.len - GCM_TAG;
  if (!aead_check_out(env, &a, n)) return NULL;
  EVP_CIPHER_CTX *x = aead_keyed(a.c, 0);
  if (x == NULL || !gcm_open(x, a.nonce, a.aad, a.aadLen, NULL, 0, a.in, n ? a.out : NULL, n, a.in + n)) return undef(env);
  return length_of(env, n);
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"create", NULL, create, NULL, NULL, NULL, napi_default, NULL},
      {"protectRtp", NULL, protect_rtp, NULL, NULL, NULL, napi_default, NULL},
      {"unprotectRtp", NULL, unprotect_rtp, NULL, NULL, NULL, napi_default, NULL},
      {"protectRtcp", NULL, protect_rtcp, NULL, NULL, NULL, napi_default, NULL},
      {"unprotectRtcp", NULL, unprotect_rtcp, NULL, NULL, NULL, napi_default, NULL},
      {"gcmCreate", NULL, gcm_create, NULL, NULL, NULL, napi_default, NULL},
      {"gcmProtectRtp", NULL, gcm_protect_rtp, NULL, NULL, NULL, napi_default, NULL},
      {"gcmUnprotectRtp", NULL, gcm_unprotect_rtp, NULL, NULL, NULL, napi_default, NULL},
      {"gcmProtectRtcp", NULL, gcm_protect_rtcp, NULL, NULL, NULL, napi_default, NULL},
      {"gcmUnprotectRtcp", NULL, gcm_unprotect_rtcp, NULL, NULL, NULL, napi_default, NULL},
      {"aeadCreate", NULL, aead_create, NULL, NULL, NULL, napi_default, NULL},
      {"aeadSeal", NULL, aead_seal, NULL, NULL, NULL, napi_default, NULL},
      {"aeadOpen", NULL, aead_open, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
