// The transceiver's routing-token mint in C (docs/token.md, "Native mint"; issue #18): what
// src/core/token/key.ts TokenKey.seal and TokenKey.password do for the minting key, in one call
// per offer. node:crypto's route is an Hmac, a Cipheriv and a second Hmac, each a JS object with
// a native handle, and the Buffers and strings between them, on the POST's path
// (docs/performance.md, "post2"). The primitives are first_check.h's, with which the relay opens
// the same tokens (HMAC templates, AES-256-CTR, ice-chars, the password).
//
//   sealKey(id, enc, mac, pwd) → key: one key's id (0..255) and three HKDF sub-keys
//       (key.ts exportSubKeys, 32-byte Buffers each), copied into an external with its own type
//       tag, cleansed when it is freed; the HMAC and AES algorithms are fetched once here.
//   seal(key, plaintext) → string: the token — version ‖ key id ‖ tag ‖ ciphertext, tag =
//       HMAC-SHA256(mac, version ‖ key id ‖ plaintext)[0..16), ciphertext = AES-256-CTR(enc,
//       iv = tag, plaintext) — as 64 ice-chars, followed by its password's 24 (HMAC-SHA256(pwd,
//       those 64 chars)[0..18) as ice-chars). `plaintext` is format.ts's 30 bytes, built by
//       token.ts mint with its checks and its nonce from the Rng; nothing here draws randomness.
//
// Wrong types or lengths throw TypeError/RangeError before OpenSSL sees them; an OpenSSL failure
// throws Error (and clears OpenSSL's error queue). Node-API only (node_api.h, NAPI_VERSION 8);
// OpenSSL resolves from the node binary, as in dtls_crypto.c.
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <node_api.h>

#include "generated/parley_contracts.h"
/* The relay's verifier in first_check.h is not used here, only its primitives. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include "first_check.h"
#include "napi_util.h"
#pragma GCC diagnostic pop

#define TOKEN_CHARS (PARLEY_TOKEN_BYTES / 3 * 4)
#define SEALED_CHARS (TOKEN_CHARS + FC_PASSWORD_CHARS)

static const napi_type_tag SEAL_KEY_TAG = {0x7061726c65795345ULL, 0x414c4b6579746167ULL}; /* "parleySE" "ALKeytag" */

typedef struct {
  uint8_t id;
  uint8_t enc[FC_SUBKEY], mac[FC_SUBKEY], pwd[FC_SUBKEY];
  fc_macs_t macs;
} seal_key_t;

static void free_seal_key(napi_env env, void *data, void *hint) {
  (void)env, (void)hint;
  seal_key_t *k = data;
  fc_macs_free(&k->macs);
  OPENSSL_cleanse(k, sizeof *k);
  free(k);
}

/* A Buffer argument's bytes and length; 0 when it is not a Buffer. */
static int buffer_of(napi_env env, napi_value v, const uint8_t **data, size_t *len) {
  bool is = false;
  void *d;
  if (napi_is_buffer(env, v, &is) != napi_ok || !is || napi_get_buffer_info(env, v, &d, len) != napi_ok) return 0;
  *data = d;
  return 1;
}

/* sealKey(id, enc, mac, pwd) → key */
static napi_value js_seal_key(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  int32_t id;
  const uint8_t *sub[3];
  size_t len[3];
  if (argc < 4 || napi_get_value_int32(env, argv[0], &id) != napi_ok || !buffer_of(env, argv[1], &sub[0], &len[0]) ||
      !buffer_of(env, argv[2], &sub[1], &len[1]) || !buffer_of(env, argv[3], &sub[2], &len[2]))
    THROW_TYPE(env, "sealKey(id, enc, mac, pwd): a number and three Buffers");
  if (id < 0 || id > 255) THROW_RANGE(env, "sealKey: the key id is not 0..255");
  if (len[0] != FC_SUBKEY || len[1] != FC_SUBKEY || len[2] != FC_SUBKEY) THROW_RANGE(env, "sealKey: each sub-key is 32 bytes");
  seal_key_t *k = calloc(1, sizeof *k);
  if (k == NULL) {
    napi_throw_error(env, NULL, "sealKey: out of memory");
    return NULL;
  }
  if (!fc_macs_init(&k->macs)) {
    free(k);
    ERR_clear_error();
    napi_throw_error(env, NULL, "sealKey: OpenSSL has no HMAC-SHA256 or AES-256-CTR");
    return NULL;
  }
  k->id = (uint8_t)id;
  memcpy(k->enc, sub[0], FC_SUBKEY);
  memcpy(k->mac, sub[1], FC_SUBKEY);
  memcpy(k->pwd, sub[2], FC_SUBKEY);
  return wrap_tagged(env, k, free_seal_key, &SEAL_KEY_TAG);
}

/* key.ts seal() then password(): the token's ice-chars, then the password's, into out. 0 on failure. */
static int seal_token(const seal_key_t *k, const uint8_t pt[PARLEY_TOKEN_PLAINTEXT_LEN], char out[SEALED_CHARS]) {
  uint8_t tok[PARLEY_TOKEN_BYTES], mac[FC_SHA256];
  uint8_t *tag = tok + PARLEY_TOKEN_HEADER_LEN;
  tok[0] = PARLEY_TOKEN_VERSION, tok[1] = k->id;
  int ok = fc_hmac(k->macs.sha256, k->mac, FC_SUBKEY, tok, PARLEY_TOKEN_HEADER_LEN, pt, PARLEY_TOKEN_PLAINTEXT_LEN, NULL, 0, mac,
                   sizeof mac);
  memcpy(tag, mac, PARLEY_TOKEN_TAG_LEN);
  ok = ok && fc_aes_ctr(&k->macs, k->enc, tag, pt, PARLEY_TOKEN_PLAINTEXT_LEN, tag + PARLEY_TOKEN_TAG_LEN);
  if (ok) {
    fc_to_ice_chars(tok, sizeof tok, out);
    ok = fc_key_password(&k->macs, k->pwd, (const uint8_t *)out, TOKEN_CHARS, out + TOKEN_CHARS);
  }
  OPENSSL_cleanse(mac, sizeof mac);
  return ok;
}

/* seal(key, plaintext: Buffer(30)) → string (64 + 24 ice-chars) */
static napi_value js_seal(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  seal_key_t *k = argc < 2 ? NULL : tagged_external(env, argv[0], &SEAL_KEY_TAG);
  if (k == NULL) THROW_TYPE(env, "seal: not a sealKey key");
  const uint8_t *pt;
  size_t pt_len;
  if (!buffer_of(env, argv[1], &pt, &pt_len)) THROW_TYPE(env, "seal: the plaintext must be a Buffer");
  if (pt_len != PARLEY_TOKEN_PLAINTEXT_LEN) THROW_RANGE(env, "seal: the plaintext is not 30 bytes");
  char out[SEALED_CHARS];
  int ok = seal_token(k, pt, out);
  ERR_clear_error();
  if (!ok) {
    napi_throw_error(env, NULL, "OpenSSL could not seal the token");
    return NULL;
  }
  napi_value result;
  napi_status s = napi_create_string_latin1(env, out, SEALED_CHARS, &result);
  OPENSSL_cleanse(out, sizeof out);
  return s == napi_ok ? result : NULL;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"sealKey", NULL, js_seal_key, NULL, NULL, NULL, napi_default, NULL},
      {"seal", NULL, js_seal, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
