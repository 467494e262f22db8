// Parley native STUN MESSAGE-INTEGRITY (docs/stun-ice.md, "Native MESSAGE-INTEGRITY"): the
// HMAC-SHA1 of RFC 8489 §14.5 over a message already in a buffer, signed in place or verified,
// with the OpenSSL that the node binary links statically and exports (no second libcrypto).
//
//   sign(msg, miOffset, key): writes the 20-byte HMAC into msg[miOffset + 4 .. miOffset + 24].
//   verify(msg, miOffset, key) → boolean: whether msg[miOffset + 4 .. miOffset + 24] is that HMAC
//       (constant-time comparison).
//
// The HMAC covers the 20-byte header with its length field set as if MESSAGE-INTEGRITY were the
// last attribute (miOffset - 20 + 24), then the attributes before MESSAGE-INTEGRITY: exactly what
// src/core/stun/raw.ts computeIntegrity hashes with node:crypto. `key` is a string (its UTF-8
// bytes: ICE's short-term password, RFC 8489 §9.1.1) or bytes (a long-term key), at most
// MAX_KEY bytes; a key longer than SHA-1's block is hashed first (RFC 2104).
//
// Why: every ICE check a call's setup answers or sends is verified or signed on the reply path
// (the transceiver's three setup steps: the first check, our request back's answer, the
// nomination). node:crypto's route is an Hmac object per MAC — a digest fetched by name, a MAC
// context allocated and freed, a native handle for the scavenger — and after a second of idle,
// when none of that code is in the CPU's caches, one cost 20–630 µs (docs/performance.md); SHA-1's
// low-level functions on the stack touch a fraction of that code and allocate nothing.
//
// Inputs are checked: msg a TypedArray/Buffer, miOffset an integer with 20 ≤ miOffset,
// miOffset % 4 == 0 and miOffset + 24 ≤ msg's length; anything else throws TypeError/RangeError
// before any byte is read.
//
// Node-API only (node_api.h, NAPI_VERSION 8).
#define OPENSSL_SUPPRESS_DEPRECATED 1 /* SHA1_Init/Update/Final: the allocation-free SHA-1 */
#include <stdint.h>
#include <string.h>

#include <node_api.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "napi_util.h"

#define STUN_HEADER 20
#define MI_LENGTH 20
#define SHA1_BLOCK 64
/* ICE passwords are 22..256 ice-chars (RFC 8839 §5.4); long-term keys are 16-byte MD5s. */
#define MAX_KEY 1024

/* HMAC-SHA1 (RFC 2104) of the length-adjusted header ‖ msg[20 .. mi_offset) into mac. */
static void stun_hmac(const uint8_t *key, size_t key_len, const uint8_t *msg, size_t mi_offset, uint8_t mac[MI_LENGTH]) {
  uint8_t k[SHA1_BLOCK] = {0}, pad[SHA1_BLOCK], header[STUN_HEADER];
  if (key_len > SHA1_BLOCK)
    SHA1(key, key_len, k);
  else
    memcpy(k, key, key_len);
  memcpy(header, msg, STUN_HEADER);
  size_t length = mi_offset - STUN_HEADER + 4 + MI_LENGTH;
  header[2] = (uint8_t)(length >> 8);
  header[3] = (uint8_t)length;
  SHA_CTX s;
  uint8_t inner[SHA_DIGEST_LENGTH];
  for (int i = 0; i < SHA1_BLOCK; i++) pad[i] = k[i] ^ 0x36;
  SHA1_Init(&s);
  SHA1_Update(&s, pad, SHA1_BLOCK);
  SHA1_Update(&s, header, STUN_HEADER);
  SHA1_Update(&s, msg + STUN_HEADER, mi_offset - STUN_HEADER);
  SHA1_Final(inner, &s);
  for (int i = 0; i < SHA1_BLOCK; i++) pad[i] = k[i] ^ 0x5c;
  SHA1_Init(&s);
  SHA1_Update(&s, pad, SHA1_BLOCK);
  SHA1_Update(&s, inner, SHA_DIGEST_LENGTH);
  SHA1_Final(mac, &s);
  OPENSSL_cleanse(k, sizeof k);
  OPENSSL_cleanse(pad, sizeof pad);
  OPENSSL_cleanse(&s, sizeof s);
}

/* The bytes of a Uint8Array (a Buffer is one); false for anything else. */
static bool bytes_of(napi_env env, napi_value v, uint8_t **data, size_t *len) {
  bool is = false;
  napi_typedarray_type type;
  void *p;
  napi_value ab;
  size_t off;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is || napi_get_typedarray_info(env, v, &type, len, &p, &ab, &off) != napi_ok ||
      type != napi_uint8_array)
    return false;
  *data = p;
  return true;
}

/* The three arguments of sign/verify, checked, the key copied into `key`; NULL, or what is wrong (`range`: a RangeError). */
static const char *args(napi_env env, napi_callback_info info, uint8_t **msg, size_t *mi_offset, uint8_t key[MAX_KEY], size_t *key_len,
                        bool *range) {
  size_t argc = 3;
  napi_value argv[3];
  *range = false;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 3) return "(msg, miOffset, key)";
  size_t len;
  if (!bytes_of(env, argv[0], msg, &len)) return "msg must be a Uint8Array";
  double off;
  if (napi_get_value_double(env, argv[1], &off) != napi_ok) return "miOffset must be a number";
  *range = true;
  if (!(off >= STUN_HEADER && off + 4 + MI_LENGTH <= (double)len) || off != (double)(size_t)off || ((size_t)off & 3) != 0)
    return "miOffset must be a multiple of 4 from 20 with 24 bytes after it in msg";
  *mi_offset = (size_t)off;
  *range = false;
  napi_valuetype t;
  if (napi_typeof(env, argv[2], &t) != napi_ok) return "key must be a string or a Uint8Array";
  if (t == napi_string) {
    size_t n;
    if (napi_get_value_string_utf8(env, argv[2], NULL, 0, &n) != napi_ok) return "key must be a string or a Uint8Array";
    *range = true;
    if (n > MAX_KEY) return "key is longer than 1024 bytes";
    *range = false;
    /* the API writes a NUL after the bytes: room for MAX_KEY + 1 */
    char text[MAX_KEY + 1];
    if (napi_get_value_string_utf8(env, argv[2], text, sizeof text, &n) != napi_ok) return "key must be a string or a Uint8Array";
    memcpy(key, text, n);
    OPENSSL_cleanse(text, sizeof text);
    *key_len = n;
    return NULL;
  }
  uint8_t *k;
  size_t n;
  if (!bytes_of(env, argv[2], &k, &n)) return "key must be a string or a Uint8Array";
  *range = true;
  if (n > MAX_KEY) return "key is longer than 1024 bytes";
  *range = false;
  if (n > 0) memcpy(key, k, n); /* an empty array's data pointer may be NULL */
  *key_len = n;
  return NULL;
}

static napi_value sign(napi_env env, napi_callback_info info) {
  uint8_t *msg, key[MAX_KEY];
  size_t mi_offset, key_len;
  bool range;
  const char *bad = args(env, info, &msg, &mi_offset, key, &key_len, &range);
  if (bad && range) THROW_RANGE(env, bad);
  if (bad) THROW_TYPE(env, bad);
  stun_hmac(key, key_len, msg, mi_offset, msg + mi_offset + 4);
  OPENSSL_cleanse(key, key_len);
  return undef(env);
}

static napi_value verify(napi_env env, napi_callback_info info) {
  uint8_t *msg, key[MAX_KEY], mac[MI_LENGTH];
  size_t mi_offset, key_len;
  bool range;
  const char *bad = args(env, info, &msg, &mi_offset, key, &key_len, &range);
  if (bad && range) THROW_RANGE(env, bad);
  if (bad) THROW_TYPE(env, bad);
  stun_hmac(key, key_len, msg, mi_offset, mac);
  OPENSSL_cleanse(key, key_len);
  napi_value result;
  napi_get_boolean(env, CRYPTO_memcmp(mac, msg + mi_offset + 4, MI_LENGTH) == 0, &result);
  return result;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"sign", NULL, sign, NULL, NULL, NULL, napi_default, NULL},
      {"verify", NULL, verify, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
