// Parley native DTLS handshake crypto (docs/dtls.md, "Native X25519"): the ephemeral X25519 key
// exchange of a DTLS handshake (RFC 7748 §6.1, RFC 8422 §5.11) in two calls, with the OpenSSL
// that the node binary links statically and exports (no second libcrypto is linked: the
// symbols resolve from the process at dlopen time).
//
//   x25519Key(scalar, publicOut) → key: the private key from 32 bytes of the caller's Rng (the
//       handshake's seeded runs repeat), its public value written into publicOut (32 bytes).
//   x25519Agree(key, peerPublic) → Buffer | undefined: the 32-byte shared secret, or undefined
//       when OpenSSL refuses (an all-zero result, RFC 7748 §6.1: a small-order peer point).
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
// Node-API only (node_api.h, NAPI_VERSION 8).
#include <stdint.h>
#include <string.h>

#include <node_api.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#define X25519_BYTES 32

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
  napi_value ext;
  if (napi_create_external(env, key, free_key, NULL, &ext) != napi_ok) {
    EVP_PKEY_free(key);
    return NULL;
  }
  if (napi_type_tag_object(env, ext, &KEY_TAG) != napi_ok) return NULL; /* the finalizer frees key */
  return ext;
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

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"x25519Key", NULL, x25519_key, NULL, NULL, NULL, napi_default, NULL},
      {"x25519Agree", NULL, x25519_agree, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
