// Parley native DTLS handshake crypto (docs/dtls.md, "Native X25519"): the ephemeral X25519 key
// exchange of a DTLS handshake (RFC 7748 §6.1, RFC 8422 §5.11) in two calls, with the OpenSSL
// that the node binary links statically and exports (no second libcrypto is linked: the
// symbols resolve from the process at dlopen time).
//
//   x25519Key(scalar, publicOut) → key: the private key from 32 bytes of the caller's Rng (the
//       handshake's seeded runs repeat), its public value written into publicOut (32 bytes).
//   x25519Agree(key, peerPublic) → Buffer | undefined: the 32-byte shared secret, or undefined
//       when OpenSSL refuses (an all-zero result, RFC 7748 §6.1: a small-order peer point).
//   tls12Prf(sha384, secret, label, seed, length) → Buffer: the TLS 1.2 PRF (RFC 5246 §5,
//       P_SHA256, or P_SHA384 when sha384 is true) of secret over label ‖ seed, `length` bytes,
//       P_hash written out over HMAC on OpenSSL's SHA-256/SHA-384.
//   certificateKey(der) → key | undefined: the public key of a DER X.509 certificate (the whole
//       input must be one certificate), or undefined when it does not parse.
//   keyKind(key) → 'ecdsa' | 'rsa' | undefined: ECDSA on P-256/P-384, RSA (rsaEncryption) of
//       2048..4096 bits, else undefined (the kinds src/core/dtls/signature.ts accepts).
//   verifySignature(key, sha384, pss, data, signature) → boolean: an ECDSA (DER) or RSA PKCS#1
//       v1.5 / PSS (salt = hash length) signature over data with SHA-256 or SHA-384.
//   signingKey(pkcs8) → key | undefined: our certificate's private key from its PKCS#8 DER, read
//       once per certificate; undefined unless it is ECDSA P-256/P-384 or RSA 2048..4096.
//   sign(key, sha384, pss, data) → Buffer: an ECDSA (DER) or RSA PKCS#1 v1.5 / PSS (salt = hash
//       length) signature over data with SHA-256 or SHA-384 (ServerKeyExchange, CertificateVerify).
//   signPrepare(key) → boolean: makes one ECDSA nonce ahead for a signingKey key (below).
//
// Why: node:crypto's route to the same two scalar multiplications is createPrivateKey and
// createPublicKey with `raw-*` key formats and diffieHellman. Each key import with an options
// object runs node's KeyObject/CryptoKey brand checks, which throw and catch inside node on
// every argument that is not a key (a native TypeError with a stack trace each), and every call
// leaves a KeyObject and its native handle for the scavenger: ~140–170 µs per handshake where
// the arithmetic is ~60 µs (docs/performance.md, "DTLS handshake rate").
//
// The key is a napi external with its own type tag whose finalizer frees the EVP_PKEY (OpenSSL
// cleanses private key material when it frees an X25519 key). Inputs are checked: wrong types or
// lengths throw TypeError/RangeError before OpenSSL sees them.
//
// The PRF: node:crypto's route is one Hmac object per HMAC (16 for a handshake's five PRF calls)
// and a KeyObject per secret, each with a native handle for the scavenger (~50 µs per handshake
// measured alone); here one call each. HMAC (RFC 2104) is written out over OpenSSL's low-level
// SHA-256/SHA-384 with every state on the stack: keyed once per call, each HMAC of P_hash starts
// from a copy of the keyed states (as OpenSSL's HMAC does). OpenSSL's EVP_MAC HMAC, used before
// (and its "TLS1-PRF" KDF before that), allocated and freed a MAC context and its digest contexts
// on every call. Limits: secret, label and seed 1..65535 bytes (seed may be empty),
// length 1..65535 (RFC 5705's exporter length is a uint16); anything else throws before OpenSSL.
//
// The peer certificate: node:crypto's route is an X509Certificate, its publicKey KeyObject, the
// key's asymmetricKeyDetails and a one-shot verify, each a trip through node's argument checks and
// a native handle for the scavenger; here three calls on one EVP_PKEY (an external with its own
// type tag, freed by its finalizer). Inputs: DER up to 65535 bytes (a DTLS Certificate message's
// entry is a uint24, but no certificate we accept is near 64 KiB), data up to 1 MiB, signature up
// to 1024 bytes; wrong types throw TypeError, oversized inputs RangeError. OpenSSL's error queue
// is cleared after every refusal so node:crypto never sees our errors.
//
// Our signature: node:crypto's one-shot sign runs node's argument checks and its sign job around
// EVP_DigestSign with the KeyObject's key, and returns a fresh Buffer; here the EVP_PKEY is read
// once per certificate (an external with its own type tag) and each signature is one call. Inputs:
// PKCS#8 up to 65535 bytes, data up to 1 MiB; the key kind is checked when it is read, PSS only
// with RSA.
//
// Nonces made ahead: an ECDSA signature's cost is mostly k·G and k⁻¹ (ECDSA_sign_setup), which do
// not depend on the message. signPrepare runs that in idle time — the DTLS client while it waits
// for the server's flight — and keeps k⁻¹ and r with the key; sign takes one out of the pool
// (removed before it signs: a nonce used twice would reveal the key) and only finishes the
// signature, ~3 against ~25 µs for P-256 (docs/performance.md, "dtls"). k is drawn as ECDSA_sign
// draws it without a digest (BN_priv_rand_range, OpenSSL's CSPRNG); an empty pool signs as before.
//
// ECDSA keys (peer certificates', and our own when it is ECDSA) are kept as OpenSSL's EC_KEY with
// its curve group made once per process, and signed and verified by ECDSA_sign/ECDSA_verify over
// a digest made with a digest fetched once: the EVP route (EVP_PKEY_fromdata, EVP_DigestVerify)
// builds the curve group again for every imported key and fetches the digest and signature
// methods through the provider on every call — ~24 µs of import and ~10 µs of set-up around a
// ~80 µs P-256 verify (docs/performance.md, "dtls5"). Both routes end in the same ossl_ecdsa
// functions (the same strict DER parsing of a signature, the same nonce generation). EC_KEY is
// deprecated API in OpenSSL 3, still exported by node's OpenSSL (as are the low-level SHA-256/SHA-384
// of the PRF); RSA keys stay on EVP.
//
// Node-API only (node_api.h, NAPI_VERSION 8).
#define OPENSSL_SUPPRESS_DEPRECATED /* EC_KEY, ECDSA_sign/ECDSA_verify, SHA256_Init…: see above */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <node_api.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/err.h>
#include <openssl/params.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "napi_util.h"

#define X25519_BYTES 32

static const napi_type_tag PEER_KEY_TAG = {0x7061726c65795045ULL, 0x45524b6579746167ULL}; /* "parleyPE" "ERKeytag" */
static const napi_type_tag SIGNING_KEY_TAG = {0x7061726c65795349ULL, 0x474e4b6579746167ULL}; /* "parleySI" "GNKeytag" */
static const napi_type_tag KEY_TAG = {0x7061726c65794478ULL, 0x32353531396b6579ULL}; /* "parleyDx" "25519key" */


static void free_key(napi_env env, void *data, void *hint) {
  (void)env, (void)hint;
  EVP_PKEY_free((EVP_PKEY *)data);
}

/* `key` as a JS external with type tag `tag`; its finalizer frees the key (freed here on failure). */
static napi_value wrap_key(napi_env env, EVP_PKEY *key, const napi_type_tag *tag) {
  return wrap_tagged(env, key, free_key, tag);
}

/* A Uint8Array argument's bytes (a Buffer is one); 0 on anything else, other typed arrays included. */
static int bytes_of(napi_env env, napi_value v, const uint8_t **data, size_t *len) {
  bool is;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return 0;
  napi_typedarray_type type;
  void *d;
  napi_value ab;
  size_t offset;
  if (napi_get_typedarray_info(env, v, &type, len, &d, &ab, &offset) != napi_ok || type != napi_uint8_array) return 0;
  *data = d; /* already at the view's byte offset */
  return 1;
}

/* x25519Key(scalar: 32 bytes, publicOut: 32 bytes) → key */
static napi_value x25519_key(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  const uint8_t *scalar, *out;
  size_t scalar_len, out_len;
  if (argc < 2 || !bytes_of(env, argv[0], &scalar, &scalar_len) || !bytes_of(env, argv[1], &out, &out_len))
    THROW_TYPE(env, "x25519Key(scalar, publicOut) takes two Uint8Arrays");
  if (scalar_len != X25519_BYTES) THROW_RANGE(env, "X25519 scalar must be 32 bytes");
  if (out_len != X25519_BYTES) THROW_RANGE(env, "X25519 public output must be 32 bytes");
  /* RFC 7748 §5: the scalar is clamped by X25519 itself; OpenSSL does so on every use. */
  EVP_PKEY *key = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, scalar, X25519_BYTES);
  size_t pub_len = X25519_BYTES;
  if (key == NULL || EVP_PKEY_get_raw_public_key(key, (uint8_t *)out, &pub_len) != 1 || pub_len != X25519_BYTES) {
    EVP_PKEY_free(key);
    napi_throw_error(env, NULL, "OpenSSL could not make an X25519 key");
    return NULL;
  }
  return wrap_key(env, key, &KEY_TAG);
}

/* x25519Agree(key, peerPublic: 32 bytes) → Buffer(32) | undefined */
static napi_value x25519_agree(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  EVP_PKEY *key = argc < 2 ? NULL : tagged_external(env, argv[0], &KEY_TAG);
  if (key == NULL) THROW_TYPE(env, "x25519Agree: bad key");
  const uint8_t *peer;
  size_t peer_len;
  if (!bytes_of(env, argv[1], &peer, &peer_len)) THROW_TYPE(env, "x25519Agree: peerPublic must be a Uint8Array");
  if (peer_len != X25519_BYTES) THROW_RANGE(env, "X25519 peer public value must be 32 bytes");
  EVP_PKEY *peer_key = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer, X25519_BYTES);
  EVP_PKEY_CTX *ctx = peer_key ? EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL) : NULL;
  uint8_t secret[X25519_BYTES];
  size_t secret_len = sizeof secret;
  /* set_peer_ex without the public-key check: X25519 has none beyond the length, and the
   * all-zero result of a small-order point fails EVP_PKEY_derive (RFC 7748 §6.1). */
  int ok = ctx != NULL && EVP_PKEY_derive_init(ctx) == 1 && EVP_PKEY_derive_set_peer_ex(ctx, peer_key, 0) == 1 &&
           EVP_PKEY_derive(ctx, secret, &secret_len) == 1 && secret_len == X25519_BYTES;
  EVP_PKEY_CTX_free(ctx);
  EVP_PKEY_free(peer_key);
  if (!ok) {
    OPENSSL_cleanse(secret, sizeof secret);
    return undef(env);
  }
  void *data;
  napi_value result;
  napi_status s = napi_create_buffer_copy(env, X25519_BYTES, secret, &data, &result);
  OPENSSL_cleanse(secret, sizeof secret);
  return s == napi_ok ? result : NULL;
}

#define PRF_MAX_INPUT 65535
#define PRF_MAX_OUTPUT 65535

/* SHA-256 or SHA-384 state: OpenSSL's low-level digests, on the stack (no allocation per HMAC). */
typedef struct {
  bool sha384;
  union {
    SHA256_CTX s256;
    SHA512_CTX s512;
  } u;
} sha_state;

static void sha_init(sha_state *c, bool sha384) {
  c->sha384 = sha384;
  if (sha384) SHA384_Init(&c->u.s512);
  else SHA256_Init(&c->u.s256);
}

static void sha_update(sha_state *c, const uint8_t *data, size_t len) {
  if (c->sha384) SHA384_Update(&c->u.s512, data, len);
  else SHA256_Update(&c->u.s256, data, len);
}

/* The digest into out (48 or 32 bytes); its length. */
static size_t sha_final(sha_state *c, uint8_t *out) {
  if (c->sha384) return SHA384_Final(out, &c->u.s512), SHA384_DIGEST_LENGTH;
  return SHA256_Final(out, &c->u.s256), SHA256_DIGEST_LENGTH;
}

/* HMAC (RFC 2104) keyed once: the inner and outer states after the padded key's block. */
typedef struct {
  sha_state inner, outer;
} hmac_key;

#define HMAC_MAX_BLOCK 128 /* SHA-384's block; SHA-256's is 64 */

static void hmac_init(hmac_key *h, bool sha384, const uint8_t *key, size_t key_len) {
  size_t block = sha384 ? 128 : 64;
  uint8_t k[HMAC_MAX_BLOCK] = {0}, pad[HMAC_MAX_BLOCK];
  if (key_len > block) { /* RFC 2104 §2: a longer key is hashed first */
    sha_state c;
    sha_init(&c, sha384);
    sha_update(&c, key, key_len);
    sha_final(&c, k);
  } else {
    memcpy(k, key, key_len);
  }
  for (size_t i = 0; i < block; i++) pad[i] = k[i] ^ 0x36;
  sha_init(&h->inner, sha384);
  sha_update(&h->inner, pad, block);
  for (size_t i = 0; i < block; i++) pad[i] = k[i] ^ 0x5c;
  sha_init(&h->outer, sha384);
  sha_update(&h->outer, pad, block);
  OPENSSL_cleanse(k, sizeof k);
  OPENSSL_cleanse(pad, sizeof pad);
}

/* HMAC of a ‖ b ‖ c (b and c may be empty) into out; its length. */
static size_t hmac3(const hmac_key *h, const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len, const uint8_t *c, size_t c_len,
                    uint8_t *out) {
  sha_state s = h->inner;
  uint8_t inner[SHA384_DIGEST_LENGTH];
  sha_update(&s, a, a_len);
  if (b_len) sha_update(&s, b, b_len);
  if (c_len) sha_update(&s, c, c_len);
  size_t inner_len = sha_final(&s, inner);
  s = h->outer;
  sha_update(&s, inner, inner_len);
  size_t len = sha_final(&s, out);
  OPENSSL_cleanse(&s, sizeof s);
  OPENSSL_cleanse(inner, sizeof inner);
  return len;
}

#define PRF_MAX_MD SHA384_DIGEST_LENGTH

/* P_hash (RFC 5246 §5) of secret over label ‖ seed into out[0..length): A(0) = label ‖ seed,
 * A(i) = HMAC(secret, A(i-1)), output HMAC(secret, A(i) ‖ label ‖ seed) for i = 1, 2, …. The
 * HMAC is keyed once; each HMAC starts from a copy of the keyed states (as OpenSSL's HMAC does),
 * all on the stack: OpenSSL's EVP_MAC route, used before, allocated and freed a MAC context and
 * three digest contexts per call (docs/performance.md, "dtls5"). */
static void p_hash(bool sha384, const uint8_t *secret, size_t secret_len, const uint8_t *label, size_t label_len,
                   const uint8_t *seed, size_t seed_len, uint8_t *out, size_t length) {
  hmac_key h;
  uint8_t a[PRF_MAX_MD], block[PRF_MAX_MD];
  hmac_init(&h, sha384, secret, secret_len);
  size_t a_len = hmac3(&h, label, label_len, seed, seed_len, NULL, 0, a);
  for (size_t done = 0; done < length;) {
    size_t block_len = hmac3(&h, a, a_len, label, label_len, seed, seed_len, block);
    size_t take = length - done < block_len ? length - done : block_len;
    memcpy(out + done, block, take);
    done += take;
    if (done < length) a_len = hmac3(&h, a, a_len, NULL, 0, NULL, 0, a);
  }
  OPENSSL_cleanse(&h, sizeof h);
  OPENSSL_cleanse(a, sizeof a);
  OPENSSL_cleanse(block, sizeof block);
}

/* tls12Prf(sha384: boolean, secret, label, seed: Uint8Array, length: number) → Buffer(length) */
static napi_value tls12_prf(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  bool sha384;
  const uint8_t *secret, *label, *seed;
  size_t secret_len, label_len, seed_len;
  uint32_t length;
  napi_valuetype t;
  if (argc < 5 || napi_get_value_bool(env, argv[0], &sha384) != napi_ok || !bytes_of(env, argv[1], &secret, &secret_len) ||
      !bytes_of(env, argv[2], &label, &label_len) || !bytes_of(env, argv[3], &seed, &seed_len) ||
      napi_typeof(env, argv[4], &t) != napi_ok || t != napi_number)
    THROW_TYPE(env, "tls12Prf(sha384, secret, label, seed, length) takes a boolean, three Uint8Arrays and a number");
  double requested;
  if (napi_get_value_double(env, argv[4], &requested) != napi_ok) return NULL;
  if (!(requested >= 1 && requested <= PRF_MAX_OUTPUT) || requested != (double)(uint32_t)requested)
    THROW_RANGE(env, "tls12Prf: length must be an integer in 1..65535");
  length = (uint32_t)requested;
  if (secret_len < 1 || secret_len > PRF_MAX_INPUT) THROW_RANGE(env, "tls12Prf: secret must be 1..65535 bytes");
  if (label_len < 1 || label_len > PRF_MAX_INPUT) THROW_RANGE(env, "tls12Prf: label must be 1..65535 bytes");
  if (seed_len > PRF_MAX_INPUT) THROW_RANGE(env, "tls12Prf: seed must be at most 65535 bytes");
  void *out;
  napi_value result;
  if (napi_create_buffer(env, length, &out, &result) != napi_ok) return NULL;
  p_hash(sha384, secret, secret_len, label, label_len, seed, seed_len, out, length);
  return result;
}

#define CERT_MAX_BYTES 65535
#define SIGNED_MAX_BYTES (1 << 20)

#define SIGNATURE_MAX_BYTES 1024

/* The one Uint8Array argument of `call`, at most `max` bytes; 0 with a TypeError or RangeError thrown. */
static int one_bytes_arg(napi_env env, napi_callback_info info, const char *call, size_t max, const uint8_t **data, size_t *len) {
  size_t argc = 1;
  napi_value argv[1];
  char msg[96];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return 0;
  if (argc < 1 || !bytes_of(env, argv[0], data, len)) {
    snprintf(msg, sizeof msg, "%s takes a Uint8Array", call);
    napi_throw_type_error(env, NULL, msg);
    return 0;
  }
  if (*len > max) {
    snprintf(msg, sizeof msg, "%s: larger than %zu bytes", call, max);
    napi_throw_range_error(env, NULL, msg);
    return 0;
  }
  return 1;
}

/* RSA: PKCS#1 v1.5, or PSS with salt = hash length (RFC 8446 §4.2.3); nothing to set for ECDSA. */
static int set_padding(EVP_PKEY_CTX *pctx, int is_rsa, bool pss) {
  return (!is_rsa || EVP_PKEY_CTX_set_rsa_padding(pctx, pss ? RSA_PKCS1_PSS_PADDING : RSA_PKCS1_PADDING) == 1) &&
         (!pss || EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1);
}

/* One DER TLV at *p (before end), definite length of at most 3 bytes: its tag and contents; moves
 * *p past it. 0 when it does not fit. */
static int der_next(const uint8_t **p, const uint8_t *end, uint8_t *tag, const uint8_t **body, size_t *len) {
  if (end - *p < 2) return 0;
  const uint8_t *q = *p + 2;
  size_t l = (*p)[1];
  if (l & 0x80) {
    size_t n = l & 0x7f;
    if (n < 1 || n > 3 || (size_t)(end - q) < n) return 0;
    l = 0;
    for (size_t i = 0; i < n; i++) l = (l << 8) | q[i];
    q += n;
  }
  if ((size_t)(end - q) < l) return 0;
  *tag = (*p)[0];
  *body = q;
  *len = l;
  *p = q + l;
  return 1;
}

/* der_next that also requires `want` as the tag. */
static int der_expect(const uint8_t **p, const uint8_t *end, uint8_t want, const uint8_t **body, size_t *len) {
  uint8_t tag;
  return der_next(p, end, &tag, body, len) && tag == want;
}

#define DER_SEQUENCE 0x30
#define DER_INTEGER 0x02
#define DER_BIT_STRING 0x03
#define DER_OID 0x06
#define DER_VERSION 0xa0 /* [0] EXPLICIT, RFC 5280 §4.1 */

static const uint8_t OID_EC_PUBLIC_KEY[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};     /* 1.2.840.10045.2.1 */
static const uint8_t OID_P256[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07}; /* 1.2.840.10045.3.1.7 */
static const uint8_t OID_P384[] = {0x2b, 0x81, 0x04, 0x00, 0x22};                   /* 1.3.132.0.34 */

static int oid_is(const uint8_t *body, size_t len, const uint8_t *oid, size_t oid_len) {
  return len == oid_len && memcmp(body, oid, len) == 0;
}

/* How many ECDSA nonces signPrepare keeps ready per signing key: a few per call being set up. */
#define NONCES_MAX 16

/* A key for signatures: an ECDSA key as EC_KEY (its curve one of ours), anything else as EVP_PKEY;
 * exactly one of the two is set. The peer's key and our signing key are both one of these. Our
 * ECDSA signing key also holds up to NONCES_MAX nonces made ahead (signPrepare): k⁻¹ and r of
 * ECDSA_sign_setup, each taken out of the pool before the one signature that uses it. */
typedef struct {
  EC_KEY *ec;
  EVP_PKEY *pkey;
  int nonces;
  BIGNUM *kinv[NONCES_MAX];
  BIGNUM *r[NONCES_MAX];
} sig_key;

static void free_sig_key(napi_env env, void *data, void *hint) {
  (void)env, (void)hint;
  sig_key *k = data;
  for (int i = 0; i < k->nonces; i++) BN_clear_free(k->kinv[i]), BN_clear_free(k->r[i]);
  EC_KEY_free(k->ec);
  EVP_PKEY_free(k->pkey);
  free(k);
}

/* `k` (freed here on failure) as a JS external with type tag `tag`; its finalizer frees it. */
static napi_value wrap_sig_key(napi_env env, EC_KEY *ec, EVP_PKEY *pkey, const napi_type_tag *tag) {
  sig_key *k = malloc(sizeof *k);
  if (k == NULL) {
    EC_KEY_free(ec);
    EVP_PKEY_free(pkey);
    return NULL;
  }
  k->ec = ec, k->pkey = pkey, k->nonces = 0;
  return wrap_tagged(env, k, free_sig_key, tag);
}

/* The curve groups of P-256 and P-384 and the digests SHA-256 and SHA-384, made once (any thread
 * that loads the addon); NULL where OpenSSL has none. */
enum { CURVE_P256, CURVE_P384 };
static EC_GROUP *curve_group[2];
static EVP_MD *digest_md[2];
static pthread_once_t ec_once = PTHREAD_ONCE_INIT;

static void ec_init(void) {
  curve_group[CURVE_P256] = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
  curve_group[CURVE_P384] = EC_GROUP_new_by_curve_name(NID_secp384r1);
  digest_md[0] = EVP_MD_fetch(NULL, "SHA256", NULL);
  digest_md[1] = EVP_MD_fetch(NULL, "SHA384", NULL);
}

/* The SHA-256 or SHA-384 digest of data into out (at least 48 bytes); its length, 0 on failure. */
static unsigned int digest_of(bool sha384, const uint8_t *data, size_t data_len, uint8_t *out) {
  static const uint8_t empty = 0;
  unsigned int len = 0;
  pthread_once(&ec_once, ec_init);
  const EVP_MD *md = digest_md[sha384 ? 1 : 0];
  return md != NULL && EVP_Digest(data_len ? data : &empty, data_len, out, &len, md, NULL) == 1 ? len : 0;
}

/* The public key `point` (SEC 1 §2.3.4 encoding) on curve `curve` as an EC_KEY; NULL when it is
 * not a point of the curve other than infinity (EC_POINT_oct2point checks it is on the curve). */
static EC_KEY *ec_public_key(int curve, const uint8_t *point, size_t point_len) {
  pthread_once(&ec_once, ec_init);
  EC_KEY *ec = curve_group[curve] ? EC_KEY_new() : NULL;
  if (ec == NULL || EC_KEY_set_group(ec, curve_group[curve]) != 1 || EC_KEY_oct2key(ec, point, point_len, NULL) != 1 ||
      EC_POINT_is_at_infinity(curve_group[curve], EC_KEY_get0_public_key(ec))) {
    EC_KEY_free(ec);
    return NULL;
  }
  return ec;
}

/*
 * The key of an ECDSA P-256/P-384 certificate without OpenSSL's X.509 parser, whose key decoding
 * (the legacy attempt, then a provider decoder) was most of a peer certificate's cost: a walk of
 * RFC 5280 §4.1 down to subjectPublicKeyInfo — the certificate must be exactly one SEQUENCE of
 * tbsCertificate, signatureAlgorithm and signatureValue, and tbsCertificate must hold each field
 * up to the key as a whole TLV with the right tag — then the point into an EC_KEY on our curve
 * group (ec_public_key), which refuses a point that is not on the curve. The fields the walk skips (serial, names,
 * validity) are not checked: WebRTC authenticates the certificate by its fingerprint, checked
 * before this is called, and reads nothing else from it.
 * Returns 1 with *key set (NULL when the key does not import), 0 when this is not such a
 * certificate by the walk (the caller asks d2i_X509).
 */
static int ec_certificate_key(const uint8_t *der, size_t der_len, EC_KEY **key) {
  const uint8_t *p = der, *end = der + der_len, *cert, *tbs, *f, *spki, *alg, *oid, *bits;
  size_t cert_len, tbs_len, f_len, spki_len, alg_len, oid_len, bits_len;
  uint8_t tag;
  *key = NULL;
  if (!der_expect(&p, end, DER_SEQUENCE, &cert, &cert_len) || p != end) return 0;
  const uint8_t *c = cert, *cert_end = cert + cert_len;
  if (!der_expect(&c, cert_end, DER_SEQUENCE, &tbs, &tbs_len) || !der_expect(&c, cert_end, DER_SEQUENCE, &f, &f_len) ||
      !der_expect(&c, cert_end, DER_BIT_STRING, &f, &f_len) || c != cert_end)
    return 0;
  const uint8_t *t = tbs, *tbs_end = tbs + tbs_len;
  if (!der_next(&t, tbs_end, &tag, &f, &f_len)) return 0;
  if (tag == DER_VERSION && !der_next(&t, tbs_end, &tag, &f, &f_len)) return 0;
  if (tag != DER_INTEGER) return 0; /* serialNumber */
  /* signature, issuer, validity, subject */
  for (int i = 0; i < 4; i++)
    if (!der_expect(&t, tbs_end, DER_SEQUENCE, &f, &f_len)) return 0;
  if (!der_expect(&t, tbs_end, DER_SEQUENCE, &spki, &spki_len)) return 0;
  const uint8_t *k = spki, *spki_end = spki + spki_len;
  if (!der_expect(&k, spki_end, DER_SEQUENCE, &alg, &alg_len) || !der_expect(&k, spki_end, DER_BIT_STRING, &bits, &bits_len) ||
      k != spki_end)
    return 0;
  const uint8_t *a = alg, *alg_end = alg + alg_len;
  if (!der_expect(&a, alg_end, DER_OID, &oid, &oid_len) || !oid_is(oid, oid_len, OID_EC_PUBLIC_KEY, sizeof OID_EC_PUBLIC_KEY) ||
      !der_expect(&a, alg_end, DER_OID, &oid, &oid_len) || a != alg_end)
    return 0;
  int curve = oid_is(oid, oid_len, OID_P256, sizeof OID_P256)   ? CURVE_P256
              : oid_is(oid, oid_len, OID_P384, sizeof OID_P384) ? CURVE_P384
                                                                 : -1;
  /* the BIT STRING: no unused bits, then the point (RFC 5480 §2.2) */
  if (curve < 0 || bits_len < 2 || bits[0] != 0) return 0;
  *key = ec_public_key(curve, bits + 1, bits_len - 1);
  return 1;
}

/* certificateKey(der: Uint8Array) → key | undefined */
static napi_value certificate_key(napi_env env, napi_callback_info info) {
  const uint8_t *der;
  size_t der_len;
  if (!one_bytes_arg(env, info, "certificateKey(der)", CERT_MAX_BYTES, &der, &der_len)) return NULL;
  EC_KEY *ec = NULL;
  EVP_PKEY *key = NULL;
  if (ec_certificate_key(der, der_len, &ec) == 0) {
    /* not an ECDSA P-256/P-384 certificate by the walk: OpenSSL's whole X.509 parser decides */
    const unsigned char *p = der;
    X509 *cert = der_len > 0 ? d2i_X509(NULL, &p, (long)der_len) : NULL;
    key = cert != NULL && p == der + der_len ? X509_get_pubkey(cert) : NULL; /* its own reference */
    X509_free(cert);
  }
  if (ec == NULL && key == NULL) {
    ERR_clear_error();
    return undef(env);
  }
  return wrap_sig_key(env, ec, key, &PEER_KEY_TAG);
}

/* The sig_key of an external tagged `tag`; NULL (TypeError `msg` thrown) for anything else. */
static sig_key *sig_key_of(napi_env env, napi_value v, const napi_type_tag *tag, const char *msg) {
  sig_key *key = tagged_external(env, v, tag);
  if (key == NULL) napi_throw_type_error(env, NULL, msg);
  return key;
}

/* The key of a certificateKey result; NULL (TypeError thrown) for anything else. */
static sig_key *peer_key_of(napi_env env, napi_value v) {
  return sig_key_of(env, v, &PEER_KEY_TAG, "not a certificateKey key");
}

/* 'ecdsa' (P-256/P-384), 'rsa' (2048..4096 bits) or NULL: the kinds signature.ts accepts. */
static const char *kind_of(EVP_PKEY *key) {
  const char *kind = NULL;
  int id = EVP_PKEY_get_base_id(key);
  if (id == EVP_PKEY_EC) {
    char group[64];
    size_t group_len = 0;
    if (EVP_PKEY_get_group_name(key, group, sizeof group, &group_len) == 1 &&
        (strcmp(group, "prime256v1") == 0 || strcmp(group, "secp384r1") == 0))
      kind = "ecdsa";
  } else if (id == EVP_PKEY_RSA) {
    int bits = EVP_PKEY_get_bits(key);
    if (bits >= 2048 && bits <= 4096) kind = "rsa";
  }
  ERR_clear_error();
  return kind;
}

/* keyKind(key) → 'ecdsa' | 'rsa' | undefined */
static napi_value key_kind(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1] = {NULL};
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 1) THROW_TYPE(env, "keyKind(key) takes a key");
  sig_key *key = peer_key_of(env, argv[0]);
  if (key == NULL) return NULL;
  const char *kind = key->ec ? "ecdsa" : kind_of(key->pkey); /* an EC_KEY is on one of our curves */
  if (kind == NULL) return undef(env);
  napi_value result;
  return napi_create_string_latin1(env, kind, NAPI_AUTO_LENGTH, &result) == napi_ok ? result : NULL;
}

/* verifySignature(key, sha384: boolean, pss: boolean, data, signature: Uint8Array) → boolean */
static napi_value verify_signature(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 5) THROW_TYPE(env, "verifySignature(key, sha384, pss, data, signature) takes five arguments");
  sig_key *key = peer_key_of(env, argv[0]);
  if (key == NULL) return NULL;
  bool sha384, pss;
  const uint8_t *data, *sig;
  size_t data_len, sig_len;
  if (napi_get_value_bool(env, argv[1], &sha384) != napi_ok || napi_get_value_bool(env, argv[2], &pss) != napi_ok ||
      !bytes_of(env, argv[3], &data, &data_len) || !bytes_of(env, argv[4], &sig, &sig_len))
    THROW_TYPE(env, "verifySignature(key, sha384, pss, data, signature): two booleans, then two Uint8Arrays");
  if (data_len > SIGNED_MAX_BYTES) THROW_RANGE(env, "verifySignature: data larger than 1 MiB");
  if (sig_len > SIGNATURE_MAX_BYTES) THROW_RANGE(env, "verifySignature: signature larger than 1024 bytes");
  int is_rsa = key->pkey != NULL && EVP_PKEY_get_base_id(key->pkey) == EVP_PKEY_RSA;
  if (pss && !is_rsa) return napi_get_boolean(env, false, &argv[0]) == napi_ok ? argv[0] : NULL;
  int ok;
  if (key->ec != NULL) {
    uint8_t digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = digest_of(sha384, data, data_len, digest);
    ok = digest_len > 0 && ECDSA_verify(0, digest, (int)digest_len, sig, (int)sig_len, key->ec) == 1;
  } else {
    static const uint8_t empty = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    ok = ctx != NULL && EVP_DigestVerifyInit_ex(ctx, &pctx, sha384 ? "SHA384" : "SHA256", NULL, NULL, key->pkey, NULL) == 1 &&
         set_padding(pctx, is_rsa, pss) && EVP_DigestVerify(ctx, sig_len ? sig : &empty, sig_len, data_len ? data : &empty, data_len) == 1;
    EVP_MD_CTX_free(ctx); /* frees pctx too */
  }
  ERR_clear_error();
  napi_value result;
  return napi_get_boolean(env, ok, &result) == napi_ok ? result : NULL;
}

#define PKCS8_MAX_BYTES 65535

/* signingKey(pkcs8: Uint8Array) → key | undefined */
static napi_value signing_key(napi_env env, napi_callback_info info) {
  const uint8_t *der;
  size_t der_len;
  if (!one_bytes_arg(env, info, "signingKey(pkcs8)", PKCS8_MAX_BYTES, &der, &der_len)) return NULL;
  const unsigned char *p = der;
  PKCS8_PRIV_KEY_INFO *info8 = der_len > 0 ? d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)der_len) : NULL;
  EVP_PKEY *key = info8 != NULL && p == der + der_len ? EVP_PKCS82PKEY(info8) : NULL;
  PKCS8_PRIV_KEY_INFO_free(info8);
  if (key != NULL && kind_of(key) == NULL) EVP_PKEY_free(key), key = NULL;
  /* ECDSA: signed as an EC_KEY (see the top of this file); its own reference */
  EC_KEY *ec = key != NULL && EVP_PKEY_get_base_id(key) == EVP_PKEY_EC ? EVP_PKEY_get1_EC_KEY(key) : NULL;
  if (ec != NULL) EVP_PKEY_free(key), key = NULL;
  if (ec == NULL && key == NULL) {
    ERR_clear_error();
    return undef(env);
  }
  return wrap_sig_key(env, ec, key, &SIGNING_KEY_TAG);
}

/* sign(key, sha384: boolean, pss: boolean, data: Uint8Array) → Buffer */
static napi_value sign_data(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 4) THROW_TYPE(env, "sign(key, sha384, pss, data) takes four arguments");
  sig_key *key = sig_key_of(env, argv[0], &SIGNING_KEY_TAG, "sign: not a signingKey key");
  if (key == NULL) return NULL;
  bool sha384, pss;
  const uint8_t *data;
  size_t data_len;
  if (napi_get_value_bool(env, argv[1], &sha384) != napi_ok || napi_get_value_bool(env, argv[2], &pss) != napi_ok ||
      !bytes_of(env, argv[3], &data, &data_len))
    THROW_TYPE(env, "sign(key, sha384, pss, data): two booleans, then a Uint8Array");
  if (data_len > SIGNED_MAX_BYTES) THROW_RANGE(env, "sign: data larger than 1 MiB");
  int is_rsa = key->pkey != NULL && EVP_PKEY_get_base_id(key->pkey) == EVP_PKEY_RSA;
  if (pss && !is_rsa) THROW_RANGE(env, "sign: PSS needs an RSA key");
  /* the largest signature this key makes (ECDSA DER, RSA modulus bytes) */
  int max = key->ec ? ECDSA_size(key->ec) : EVP_PKEY_get_size(key->pkey);
  if (max <= 0 || max > SIGNATURE_MAX_BYTES) THROW_RANGE(env, "sign: unexpected key size");
  uint8_t sig[SIGNATURE_MAX_BYTES];
  size_t sig_len = (size_t)max;
  int ok;
  if (key->ec != NULL) {
    uint8_t digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = digest_of(sha384, data, data_len, digest), ec_sig_len = (unsigned int)max;
    ok = 0;
    if (digest_len > 0 && key->nonces > 0) {
      /* A nonce made ahead: out of the pool before it is used, so it never signs twice. */
      int i = --key->nonces;
      BIGNUM *kinv = key->kinv[i], *r = key->r[i];
      ok = ECDSA_sign_ex(0, digest, (int)digest_len, sig, &ec_sig_len, kinv, r, key->ec) == 1 && ec_sig_len <= (unsigned int)max;
      BN_clear_free(kinv);
      BN_clear_free(r);
      /* s = 0 (EC_R_NEED_NEW_SETUP_VALUES, probability ~2^-256): sign with a fresh nonce below */
      if (!ok) ERR_clear_error(), ec_sig_len = (unsigned int)max;
    }
    if (!ok)
      ok = digest_len > 0 && ECDSA_sign(0, digest, (int)digest_len, sig, &ec_sig_len, key->ec) == 1 && ec_sig_len <= (unsigned int)max;
    sig_len = ec_sig_len;
  } else {
    static const uint8_t empty = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    ok = ctx != NULL && EVP_DigestSignInit_ex(ctx, &pctx, sha384 ? "SHA384" : "SHA256", NULL, NULL, key->pkey, NULL) == 1 &&
         set_padding(pctx, is_rsa, pss) && EVP_DigestSign(ctx, sig, &sig_len, data_len ? data : &empty, data_len) == 1 &&
         sig_len <= (size_t)max;
    EVP_MD_CTX_free(ctx); /* frees pctx too */
  }
  if (!ok) {
    ERR_clear_error();
    napi_throw_error(env, NULL, "OpenSSL could not sign");
    return NULL;
  }
  void *out;
  napi_value result;
  return napi_create_buffer_copy(env, sig_len, sig, &out, &result) == napi_ok ? result : NULL;
}

/* signPrepare(key) → boolean: one more ECDSA nonce made ahead for this signing key (false: an RSA
 * key, the pool full, or OpenSSL refused). k comes from OpenSSL's CSPRNG as in ECDSA_sign. */
static napi_value sign_prepare(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 1) THROW_TYPE(env, "signPrepare(key) takes one argument");
  sig_key *key = sig_key_of(env, argv[0], &SIGNING_KEY_TAG, "signPrepare: not a signingKey key");
  if (key == NULL) return NULL;
  bool made = false;
  if (key->ec != NULL && key->nonces < NONCES_MAX) {
    BIGNUM *kinv = NULL, *r = NULL;
    if (ECDSA_sign_setup(key->ec, NULL, &kinv, &r) == 1) {
      key->kinv[key->nonces] = kinv;
      key->r[key->nonces] = r;
      key->nonces++;
      made = true;
    } else {
      BN_clear_free(kinv);
      BN_clear_free(r);
      ERR_clear_error();
    }
  }
  napi_value result;
  return napi_get_boolean(env, made, &result) == napi_ok ? result : NULL;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"x25519Key", NULL, x25519_key, NULL, NULL, NULL, napi_default, NULL},
      {"x25519Agree", NULL, x25519_agree, NULL, NULL, NULL, napi_default, NULL},
      {"tls12Prf", NULL, tls12_prf, NULL, NULL, NULL, napi_default, NULL},
      {"certificateKey", NULL, certificate_key, NULL, NULL, NULL, napi_default, NULL},
      {"keyKind", NULL, key_kind, NULL, NULL, NULL, napi_default, NULL},
      {"verifySignature", NULL, verify_signature, NULL, NULL, NULL, napi_default, NULL},
      {"signingKey", NULL, signing_key, NULL, NULL, NULL, napi_default, NULL},
      {"sign", NULL, sign_data, NULL, NULL, NULL, napi_default, NULL},
      {"signPrepare", NULL, sign_prepare, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
