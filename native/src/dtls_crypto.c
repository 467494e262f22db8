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
//       through OpenSSL's "TLS1-PRF" KDF.
//   certificateKey(der) → key | undefined: the public key of a DER X.509 certificate (the whole
//       input must be one certificate), or undefined when it does not parse.
//   keyKind(key) → 'ecdsa' | 'rsa' | undefined: ECDSA on P-256/P-384, RSA (rsaEncryption) of
//       2048..4096 bits, else undefined (the kinds src/core/dtls/signature.ts accepts).
//   verifySignature(key, sha384, pss, data, signature) → boolean: an ECDSA (DER) or RSA PKCS#1
//       v1.5 / PSS (salt = hash length) signature over data with SHA-256 or SHA-384.
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
// measured alone); here one call each. The KDF is fetched once per digest into a template context
// with its digest set; each call duplicates it (a reference count on the digest, no fetch), sets
// secret and seed and derives. Limits: secret, label and seed 1..65535 bytes (seed may be empty),
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
// Node-API only (node_api.h, NAPI_VERSION 8).
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include <node_api.h>
#include <openssl/crypto.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/err.h>
#include <openssl/params.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#define X25519_BYTES 32

static const napi_type_tag PEER_KEY_TAG = {0x7061726c65795045ULL, 0x45524b6579746167ULL}; /* "parleyPE" "ERKeytag" */
static const napi_type_tag KEY_TAG = {0x7061726c65794478ULL, 0x32353531396b6579ULL}; /* "parleyDx" "25519key" */

#define THROW_TYPE(env, msg) \
  do { \
    napi_throw_type_error((env), NULL, (msg)); \
    return NULL; \
  } while (0)
#define THROW_RANGE(env, msg) \
  do { \
    napi_throw_range_error((env), NULL, (msg)); \
    return NULL; \
  } while (0)

static void free_key(napi_env env, void *data, void *hint) {
  (void)env, (void)hint;
  EVP_PKEY_free((EVP_PKEY *)data);
}

/* `key` as a JS external with type tag `tag`; its finalizer frees the key (freed here on failure). */
static napi_value wrap_key(napi_env env, EVP_PKEY *key, const napi_type_tag *tag) {
  napi_value ext;
  if (napi_create_external(env, key, free_key, NULL, &ext) != napi_ok) {
    EVP_PKEY_free(key);
    return NULL;
  }
  if (napi_type_tag_object(env, ext, tag) != napi_ok) return NULL; /* the finalizer frees key */
  return ext;
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

static napi_value undef(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
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
  bool tagged = false;
  napi_valuetype t;
  if (argc < 2 || napi_typeof(env, argv[0], &t) != napi_ok || t != napi_external ||
      napi_check_object_type_tag(env, argv[0], &KEY_TAG, &tagged) != napi_ok || !tagged)
    THROW_TYPE(env, "x25519Agree: bad key");
  EVP_PKEY *key;
  if (napi_get_value_external(env, argv[0], (void **)&key) != napi_ok) return NULL;
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

/* TLS1-PRF contexts with their digest set, made once (any thread that loads the addon). */
static EVP_KDF_CTX *prf_template[2];
static pthread_once_t prf_once = PTHREAD_ONCE_INIT;

static EVP_KDF_CTX *prf_context_for(const char *digest) {
  EVP_KDF *kdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_TLS1_PRF, NULL);
  EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
  EVP_KDF_free(kdf); /* the context holds its own reference */
  if (ctx == NULL) return NULL;
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)digest, 0), OSSL_PARAM_construct_end()};
  if (EVP_KDF_CTX_set_params(ctx, params) != 1) {
    EVP_KDF_CTX_free(ctx);
    return NULL;
  }
  return ctx;
}

static void prf_init(void) {
  prf_template[0] = prf_context_for("SHA256");
  prf_template[1] = prf_context_for("SHA384");
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
  pthread_once(&prf_once, prf_init);
  EVP_KDF_CTX *template = prf_template[sha384 ? 1 : 0];
  EVP_KDF_CTX *ctx = template ? EVP_KDF_CTX_dup(template) : NULL;
  if (ctx == NULL) {
    napi_throw_error(env, NULL, "OpenSSL has no TLS1-PRF KDF");
    return NULL;
  }
  void *out;
  napi_value result;
  if (napi_create_buffer(env, length, &out, &result) != napi_ok) {
    EVP_KDF_CTX_free(ctx);
    return NULL;
  }
  /* Two seed parameters: the KDF concatenates them (label ‖ seed, RFC 5246 §5). A zero-length
   * octet string needs a non-NULL pointer. */
  static const uint8_t empty = 0;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, (void *)secret, secret_len),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, (void *)label, label_len),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, seed_len ? (void *)seed : (void *)&empty, seed_len),
      OSSL_PARAM_construct_end(),
  };
  int ok = EVP_KDF_derive(ctx, out, length, params) == 1;
  EVP_KDF_CTX_free(ctx); /* cleanses the secret copy */
  if (!ok) {
    OPENSSL_cleanse(out, length);
    napi_throw_error(env, NULL, "OpenSSL's TLS1-PRF failed");
    return NULL;
  }
  return result;
}

#define CERT_MAX_BYTES 65535
#define SIGNED_MAX_BYTES (1 << 20)
#define SIGNATURE_MAX_BYTES 1024

/* certificateKey(der: Uint8Array) → key | undefined */
static napi_value certificate_key(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  const uint8_t *der;
  size_t der_len;
  if (argc < 1 || !bytes_of(env, argv[0], &der, &der_len)) THROW_TYPE(env, "certificateKey(der) takes a Uint8Array");
  if (der_len > CERT_MAX_BYTES) THROW_RANGE(env, "certificateKey: certificate larger than 65535 bytes");
  const unsigned char *p = der;
  X509 *cert = der_len > 0 ? d2i_X509(NULL, &p, (long)der_len) : NULL;
  EVP_PKEY *key = cert != NULL && p == der + der_len ? X509_get_pubkey(cert) : NULL; /* its own reference */
  X509_free(cert);
  if (key == NULL) {
    ERR_clear_error();
    return undef(env);
  }
  return wrap_key(env, key, &PEER_KEY_TAG);
}

/* The EVP_PKEY of a certificateKey result; NULL (TypeError thrown) for anything else. */
static EVP_PKEY *peer_key_of(napi_env env, napi_value v) {
  bool tagged = false;
  napi_valuetype t;
  EVP_PKEY *key = NULL;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external || napi_check_object_type_tag(env, v, &PEER_KEY_TAG, &tagged) != napi_ok ||
      !tagged || napi_get_value_external(env, v, (void **)&key) != napi_ok || key == NULL) {
    napi_throw_type_error(env, NULL, "not a certificateKey key");
    return NULL;
  }
  return key;
}

/* keyKind(key) → 'ecdsa' | 'rsa' | undefined */
static napi_value key_kind(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1] = {NULL};
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 1) THROW_TYPE(env, "keyKind(key) takes a key");
  EVP_PKEY *key = peer_key_of(env, argv[0]);
  if (key == NULL) return NULL;
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
  EVP_PKEY *key = peer_key_of(env, argv[0]);
  if (key == NULL) return NULL;
  bool sha384, pss;
  const uint8_t *data, *sig;
  size_t data_len, sig_len;
  if (napi_get_value_bool(env, argv[1], &sha384) != napi_ok || napi_get_value_bool(env, argv[2], &pss) != napi_ok ||
      !bytes_of(env, argv[3], &data, &data_len) || !bytes_of(env, argv[4], &sig, &sig_len))
    THROW_TYPE(env, "verifySignature(key, sha384, pss, data, signature): two booleans, then two Uint8Arrays");
  if (data_len > SIGNED_MAX_BYTES) THROW_RANGE(env, "verifySignature: data larger than 1 MiB");
  if (sig_len > SIGNATURE_MAX_BYTES) THROW_RANGE(env, "verifySignature: signature larger than 1024 bytes");
  int is_rsa = EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA;
  if (pss && !is_rsa) return napi_get_boolean(env, false, &argv[0]) == napi_ok ? argv[0] : NULL;
  static const uint8_t empty = 0;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX *pctx = NULL;
  int ok = ctx != NULL && EVP_DigestVerifyInit_ex(ctx, &pctx, sha384 ? "SHA384" : "SHA256", NULL, NULL, key, NULL) == 1 &&
           (!is_rsa || EVP_PKEY_CTX_set_rsa_padding(pctx, pss ? RSA_PKCS1_PSS_PADDING : RSA_PKCS1_PADDING) == 1) &&
           (!pss || EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1) &&
           EVP_DigestVerify(ctx, sig_len ? sig : &empty, sig_len, data_len ? data : &empty, data_len) == 1;
  EVP_MD_CTX_free(ctx); /* frees pctx too */
  ERR_clear_error();
  napi_value result;
  return napi_get_boolean(env, ok, &result) == napi_ok ? result : NULL;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"x25519Key", NULL, x25519_key, NULL, NULL, NULL, napi_default, NULL},
      {"x25519Agree", NULL, x25519_agree, NULL, NULL, NULL, napi_default, NULL},
      {"tls12Prf", NULL, tls12_prf, NULL, NULL, NULL, napi_default, NULL},
      {"certificateKey", NULL, certificate_key, NULL, NULL, NULL, napi_default, NULL},
      {"keyKind", NULL, key_kind, NULL, NULL, NULL, napi_default, NULL},
      {"verifySignature", NULL, verify_signature, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
