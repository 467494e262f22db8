// Parley native SRTP transform (docs/srtp-rtp.md, "Native transform"): the cipher half of
// SRTP_AES128_CM_HMAC_SHA1_80 (RFC 3711 §4.1.1 AES-CM, §4.2.1 HMAC-SHA1 truncated to 80 bits,
// §3.4 SRTCP) for one direction, behind the same SrtpTransform interface as
// src/core/srtp/transform-aes-cm.ts. Index estimation, replay windows and per-SSRC state stay in
// SrtpSession (TypeScript); this file only encrypts, decrypts and authenticates one packet.
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
//   Tags are compared with CRYPTO_memcmp (constant time).
//
// One N-API call per packet. RTP results are written into a Buffer the caller passes (a slice of
// Node's buffer pool: no ArrayBuffer and no backing store per packet, as napi_create_buffer
// costs) that must be large enough and must not overlap the packet; SRTCP, a few packets a
// second per call, gets one napi_create_buffer for its result. Inputs are checked:
// lengths are clamped or rejected the way the TypeScript transform treats them (it clamps
// header copies and throws RangeError where Buffer/timingSafeEqual would), so both agree on
// every input the tests throw at them. The context is a type-tagged napi external whose
// finalizer cleanses and frees the keys.
//
// Node-API only (node_api.h, NAPI_VERSION 8).
#define OPENSSL_SUPPRESS_DEPRECATED 1 /* SHA1_Init/Update/Final: the allocation-free SHA-1 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <node_api.h>
#include <openssl/crypto.h>
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

#define THROW(env, msg)                           \
  do {                                            \
    napi_throw_error((env), "ERR_PARLEY_SRTP", (msg)); \
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

static srtp_ctx *get_ctx(napi_env env, napi_value v) {
  bool ok = false;
  void *data = NULL;
  if (napi_check_object_type_tag(env, v, &CTX_TAG, &ok) != napi_ok || !ok) return NULL;
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

/* ---- exports ---- */

/* create(rtpEnc, rtpAuth, rtpSalt, rtcpEnc, rtcpAuth, rtcpSalt) → context */
static napi_value create(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 6) THROW(env, "create needs 6 buffers");
  const uint8_t *p[6];
  size_t l[6];
  for (int i = 0; i < 6; i++) {
    if (!get_buf(env, argv[i], &p[i], &l[i])) THROW(env, "create needs 6 buffers");
  }
  if (l[0] != 16 || l[3] != 16 || l[1] != 20 || l[4] != 20 || l[2] != SALT || l[5] != SALT) {
    THROW(env, "AES_CM_128_HMAC_SHA1_80 needs 16-byte cipher keys, 20-byte auth keys and 14-byte salts");
  }
  srtp_ctx *c = calloc(1, sizeof *c);
  if (!c) THROW(env, "out of memory");
  if (!half_init(&c->rtp, p[0], p[1], l[1], p[2]) || !half_init(&c->rtcp, p[3], p[4], l[4], p[5])) {
    ctx_finalize(env, c, NULL);
    THROW(env, "OpenSSL refused the AES-128-ECB or SHA-1 setup");
  }
  napi_value ext;
  if (napi_create_external(env, c, ctx_finalize, NULL, &ext) != napi_ok) {
    ctx_finalize(env, c, NULL);
    THROW(env, "napi_create_external failed");
  }
  napi_type_tag_object(env, ext, &CTX_TAG);
  return ext;
}

/* (ctx, packet, headerLength, ssrc, roc, seq, out) of protectRtp / unprotectRtp. */
typedef struct {
  srtp_ctx *c;
  const uint8_t *in;
  size_t len;
  int32_t h;
  uint32_t ssrc, roc, seq;
  uint8_t *out;
  size_t outLen;
} rtp_args;

/* Fills a; on failure a JS exception is pending and 0 is returned. */
static int get_rtp_args(napi_env env, napi_callback_info info, rtp_args *a) {
  size_t argc = 7;
  napi_value argv[7];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 7) return napi_throw_error(env, "ERR_PARLEY_SRTP", "needs 7 arguments"), 0;
  a->c = get_ctx(env, argv[0]);
  const uint8_t *out;
  if (!a->c || !get_buf(env, argv[1], &a->in, &a->len) || !get_buf(env, argv[6], &out, &a->outLen)) {
    return napi_throw_error(env, "ERR_PARLEY_SRTP", "bad context, packet or output buffer"), 0;
  }
  a->out = (uint8_t *)out;
  if (napi_get_value_int32(env, argv[2], &a->h) != napi_ok) return napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "headerLength out of range"), 0;
  if (!get_wrap32(env, argv[3], &a->ssrc) || !get_uint(env, argv[4], 4294967295.0, &a->roc) || !get_uint(env, argv[5], 65535, &a->seq)) {
    return napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "ssrc, roc or seq out of range"), 0;
  }
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
  if (!get_rtp_args(env, info, &a)) return NULL;
  if (a.h < 0) THROW_RANGE(env, "headerLength out of range");
  if (!check_out(env, &a, a.len + TAG)) return NULL;
  size_t hl = (size_t)a.h < a.len ? (size_t)a.h : a.len; /* a header past the end: nothing to encrypt */
  memcpy(a.out, a.in, hl);
  uint8_t iv[16];
  iv_for(&a.c->rtp, a.ssrc, a.roc, a.seq, iv);
  if (!cm_xor(&a.c->rtp, iv, a.in + hl, a.out + hl, a.len - hl)) return undef(env);
  /* RFC 3711 §4.2: the tag covers header + encrypted payload || ROC. */
  uint8_t rocb[4];
  be32(rocb, a.roc);
  hmac_tag(&a.c->rtp, a.out, a.len, rocb, 4, a.out + a.len);
  return length_of(env, a.len + TAG);
}

/* unprotectRtp(ctx, packet, headerLength, ssrc, roc, seq, out) → bytes written to out (the RTP packet) | undefined */
static napi_value unprotect_rtp(napi_env env, napi_callback_info info) {
  rtp_args a;
  if (!get_rtp_args(env, info, &a)) return NULL;
  if (a.len < TAG) THROW_RANGE(env, "packet shorter than the tag");
  size_t end = a.len - TAG;
  uint8_t rocb[4], tag[TAG];
  be32(rocb, a.roc);
  hmac_tag(&a.c->rtp, a.in, end, rocb, 4, tag);
  if (CRYPTO_memcmp(tag, a.in + end, TAG) != 0) return undef(env);
  if (a.h < 0) THROW_RANGE(env, "headerLength out of range");
  if (!check_out(env, &a, end)) return NULL;
  size_t hl = (size_t)a.h < end ? (size_t)a.h : end;
  memcpy(a.out, a.in, hl);
  uint8_t iv[16];
  iv_for(&a.c->rtp, a.ssrc, a.roc, a.seq, iv);
  if (!cm_xor(&a.c->rtp, iv, a.in + hl, a.out + hl, end - hl)) return undef(env);
  return length_of(env, end);
}

/* (ctx, packet, ssrc, index or eIndex) of protectRtcp / unprotectRtcp; as get_rtp_args. */
static int get_rtcp_args(napi_env env, napi_callback_info info, srtp_ctx **c, const uint8_t **in, size_t *len, uint32_t *ssrc, uint32_t *index) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 4) return napi_throw_error(env, "ERR_PARLEY_SRTP", "needs 4 arguments"), 0;
  *c = get_ctx(env, argv[0]);
  if (!*c || !get_buf(env, argv[1], in, len)) return napi_throw_error(env, "ERR_PARLEY_SRTP", "bad context or packet"), 0;
  if (!get_wrap32(env, argv[2], ssrc) || !get_wrap32(env, argv[3], index)) {
    return napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "ssrc or index out of range"), 0;
  }
  return 1;
}

/* protectRtcp(ctx, packet, ssrc, index) → Buffer | undefined */
static napi_value protect_rtcp(napi_env env, napi_callback_info info) {
  srtp_ctx *c;
  const uint8_t *in;
  size_t len;
  uint32_t ssrc, index;
  if (!get_rtcp_args(env, info, &c, &in, &len, &ssrc, &index)) return NULL;
  size_t hl = len < 8 ? len : 8; /* RFC 3711 §3.4: header + sender SSRC stay in the clear */
  uint8_t *out;
  napi_value result;
  if (napi_create_buffer(env, len + 4 + TAG, (void **)&out, &result) != napi_ok) return NULL;
  memcpy(out, in, hl);
  uint8_t iv[16];
  iv_for(&c->rtcp, ssrc, index >> 16, index & 0xffff, iv);
  if (!cm_xor(&c->rtcp, iv, in + hl, out + hl, len - hl)) return undef(env);
  be32(out + len, E_FLAG | index);
  hmac_tag(&c->rtcp, out, len + 4, NULL, 0, out + len + 4);
  return result;
}

/* unprotectRtcp(ctx, packet, ssrc, eIndex) → Buffer | undefined */
static napi_value unprotect_rtcp(napi_env env, napi_callback_info info) {
  srtp_ctx *c;
  const uint8_t *in;
  size_t len;
  uint32_t ssrc, eIndex;
  if (!get_rtcp_args(env, info, &c, &in, &len, &ssrc, &eIndex)) return NULL;
  if (len < TAG) THROW_RANGE(env, "packet shorter than the tag");
  /* Authenticated portion || E+index = everything before the tag (RFC 3711 §3.4). */
  uint8_t tag[TAG];
  hmac_tag(&c->rtcp, in, len - TAG, NULL, 0, tag);
  if (CRYPTO_memcmp(tag, in + len - TAG, TAG) != 0) return undef(env);
  if (len < TAG + 4) THROW_RANGE(env, "packet shorter than index and tag");
  size_t t = len - TAG - 4;
  uint8_t *out;
  napi_value result;
  if (napi_create_buffer(env, t, (void **)&out, &result) != napi_ok) return NULL;
  if ((eIndex & E_FLAG) == 0) {
    memcpy(out, in, t); /* E = 0: authenticated but sent in the clear (RFC 3711 §3.4) */
    return result;
  }
  uint32_t index = eIndex & 0x7fffffff;
  size_t hl = t < 8 ? t : 8;
  memcpy(out, in, hl);
  uint8_t iv[16];
  iv_for(&c->rtcp, ssrc, index >> 16, index & 0xffff, iv);
  if (!cm_xor(&c->rtcp, iv, in + hl, out + hl, t - hl)) return undef(env);
  return result;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"create", NULL, create, NULL, NULL, NULL, napi_default, NULL},
      {"protectRtp", NULL, protect_rtp, NULL, NULL, NULL, napi_default, NULL},
      {"unprotectRtp", NULL, unprotect_rtp, NULL, NULL, NULL, napi_default, NULL},
      {"protectRtcp", NULL, protect_rtcp, NULL, NULL, NULL, napi_default, NULL},
      {"unprotectRtcp", NULL, unprotect_rtcp, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
