// Parley's native Opus decoder for loss recovery (docs/agents.md, "Loss concealment"): the
// libopus calls @evan/opus does not reach — opus_decode with decode_fec = 1 (RFC 6716 §2.1.7:
// rebuild a lost frame from the low-bit-rate redundancy the next packet carries, as a caller
// with useinbandfec=1 sends it) and with no packet at all (the codec's own packet-loss
// concealment). The PCM handler layer uses one such decoder per call for every frame, so FEC and
// PLC continue the decoder state of the frames around them.
//
// libopus is not linked: it is dlopen()ed at the first create() ("libopus.so.0", the soname of
// every libopus 1.x), so the addon builds on a machine without it and the TypeScript side falls
// back to its own concealment (a faded repeat) when available() says why it cannot. Only the
// three calls below are used; their prototypes are libopus's stable public API (opus.h).
//
// The encoder (createEncoder/encode) is here for the codec worker threads
// (src/media/codec-worker.ts): @evan/opus's Rust addon crashes when a worker thread's environment
// is torn down, this one has no per-environment state and does not. Same settings as
// media/opus.ts's encoder: the application and the complexity (OPUS_SET_COMPLEXITY through
// opus_encoder_ctl), no bitrate or FEC set.
//
// Node-API only (node_api.h, NAPI_VERSION 8). One decoder or encoder = a napi external with its
// own type tag, destroyed by its finalizer.
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <node_api.h>

typedef struct OpusDecoder OpusDecoder;
typedef OpusDecoder *(*create_fn)(int32_t fs, int channels, int *error);
typedef int (*decode_fn)(OpusDecoder *st, const unsigned char *data, int32_t len, int16_t *pcm, int frame_size, int decode_fec);
typedef void (*destroy_fn)(OpusDecoder *st);
typedef struct OpusEncoder OpusEncoder;
typedef OpusEncoder *(*enc_create_fn)(int32_t fs, int channels, int application, int *error);
typedef int32_t (*encode_fn)(OpusEncoder *st, const int16_t *pcm, int frame_size, unsigned char *data, int32_t max_data_bytes);
typedef void (*enc_destroy_fn)(OpusEncoder *st);
typedef int (*enc_ctl_fn)(OpusEncoder *st, int request, ...);
/* opus_defines.h */
#define PARLEY_OPUS_SET_COMPLEXITY_REQUEST 4010

static const napi_type_tag DEC_TAG = {0x7061726c6579ULL, 0x6f7075735f646563ULL}; /* "parley" "opus_dec" */
static const napi_type_tag ENC_TAG = {0x7061726c6579ULL, 0x6f7075735f656e63ULL}; /* "parley" "opus_enc" */

static struct {
  int tried;
  char error[256];
  create_fn create;
  decode_fn decode;
  destroy_fn destroy;
  enc_create_fn enc_create;
  encode_fn encode;
  enc_destroy_fn enc_destroy;
  enc_ctl_fn enc_ctl;
} lib;

static int load_lib(void) {
  if (lib.tried) return lib.create != NULL;
  lib.tried = 1;
  void *h = dlopen("libopus.so.0", RTLD_NOW | RTLD_LOCAL);
  if (h == NULL) {
    snprintf(lib.error, sizeof lib.error, "%s", dlerror());
    return 0;
  }
  create_fn c = (create_fn)dlsym(h, "opus_decoder_create");
  decode_fn d = (decode_fn)dlsym(h, "opus_decode");
  destroy_fn x = (destroy_fn)dlsym(h, "opus_decoder_destroy");
  enc_create_fn ec = (enc_create_fn)dlsym(h, "opus_encoder_create");
  encode_fn e = (encode_fn)dlsym(h, "opus_encode");
  enc_destroy_fn ex = (enc_destroy_fn)dlsym(h, "opus_encoder_destroy");
  enc_ctl_fn ectl = (enc_ctl_fn)dlsym(h, "opus_encoder_ctl");
  if (c == NULL || d == NULL || x == NULL || ec == NULL || e == NULL || ex == NULL || ectl == NULL) {
    snprintf(lib.error, sizeof lib.error, "libopus.so.0 lacks opus_decoder_create/opus_decode/opus_decoder_destroy or the encoder's");
    dlclose(h);
    return 0;
  }
  lib.create = c;
  lib.decode = d;
  lib.destroy = x;
  lib.enc_create = ec;
  lib.encode = e;
  lib.enc_destroy = ex;
  lib.enc_ctl = ectl;
  return 1;
}

static napi_value throw_error(napi_env env, const char *msg) {
  napi_throw_error(env, NULL, msg);
  return NULL;
}

/** A codec state as a tagged external (freed by `fin`), or NULL after `destroy`ing it and throwing. */
static napi_value wrap(napi_env env, void *state, napi_finalize fin, const napi_type_tag *tag) {
  napi_value out;
  if (napi_create_external(env, state, fin, NULL, &out) != napi_ok || napi_type_tag_object(env, out, tag) != napi_ok) {
    fin(env, state, NULL);
    return throw_error(env, "cannot wrap the codec state");
  }
  return out;
}

/** The state inside an external carrying `tag`, or NULL. */
static void *unwrap(napi_env env, napi_value v, const napi_type_tag *tag) {
  bool ok = false;
  void *state = NULL;
  if (napi_check_object_type_tag(env, v, tag, &ok) != napi_ok || !ok || napi_get_value_external(env, v, &state) != napi_ok) return NULL;
  return state;
}

/** available(): true, or the reason libopus cannot be used (a string). */
static napi_value available(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  if (load_lib()) {
    napi_get_boolean(env, 1, &out);
  } else {
    napi_create_string_utf8(env, lib.error, NAPI_AUTO_LENGTH, &out);
  }
  return out;
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  if (data != NULL && lib.destroy != NULL) lib.destroy((OpusDecoder *)data);
}

/** create(sampleRate, channels): a decoder (throws when libopus is missing or refuses the options). */
static napi_value create(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t rate = 0, channels = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2) return throw_error(env, "create(sampleRate, channels)");
  if (napi_get_value_int32(env, argv[0], &rate) != napi_ok || napi_get_value_int32(env, argv[1], &channels) != napi_ok)
    return throw_error(env, "create(sampleRate, channels): numbers");
  /* decode() sizes the frame from `out`'s length, which is right for one channel only. */
  if (channels != 1) return throw_error(env, "create(sampleRate, channels): mono only");
  if (!load_lib()) return throw_error(env, lib.error);
  int err = 0;
  OpusDecoder *dec = lib.create(rate, channels, &err);
  if (dec == NULL || err != 0) {
    if (dec != NULL) lib.destroy(dec);
    return throw_error(env, "opus_decoder_create refused the sample rate or channel count");
  }
  return wrap(env, dec, finalize, &DEC_TAG);
}

/**
 * decode(decoder, packet | null, fec, out): decodes into `out` (an Int16Array whose length is
 * the frame size × channels) and returns the samples per channel, or a negative libopus error.
 * packet null: concealment (PLC). fec true: the frame before `packet`, from its redundancy.
 */
static napi_value decode(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 4) return throw_error(env, "decode(decoder, packet, fec, out)");
  void *dec = unwrap(env, argv[0], &DEC_TAG);
  if (dec == NULL) return throw_error(env, "bad decoder");
  const unsigned char *data = NULL;
  size_t len = 0;
  napi_valuetype t;
  napi_typeof(env, argv[1], &t);
  if (t != napi_null && t != napi_undefined) {
    void *p = NULL;
    if (napi_get_buffer_info(env, argv[1], &p, &len) != napi_ok) return throw_error(env, "packet: a Buffer or null");
    if (len == 0 || len > 1275 * 3) return throw_error(env, "packet: 1..3825 bytes (RFC 6716 §3.2.1)");
    data = p;
  }
  bool fec = false;
  if (napi_get_value_bool(env, argv[2], &fec) != napi_ok) return throw_error(env, "fec: a boolean");
  napi_typedarray_type type;
  size_t count = 0;
  void *pcm = NULL;
  if (napi_get_typedarray_info(env, argv[3], &type, &count, &pcm, NULL, NULL) != napi_ok || type != napi_int16_array || count == 0)
    return throw_error(env, "out: an Int16Array");
  /* opus_decode takes the frame size per channel: `out`'s length, the decoder being mono. */
  int n = lib.decode((OpusDecoder *)dec, data, (int32_t)len, (int16_t *)pcm, (int)count, fec ? 1 : 0);
  napi_value out;
  napi_create_int32(env, n, &out);
  return out;
}

static void enc_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  if (data != NULL && lib.enc_destroy != NULL) lib.enc_destroy((OpusEncoder *)data);
}

/**
 * createEncoder(sampleRate, application, complexity): a mono encoder; application 2048 voip, 2049
 * audio, 2051 restricted low delay (opus_defines.h); complexity 0..10 (OPUS_SET_COMPLEXITY), or
 * -1 (or left out) to keep libopus's default (10 in libopus 1.3).
 */
static napi_value create_encoder(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  int32_t rate = 0, application = 0, complexity = -1;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 || argc > 3)
    return throw_error(env, "createEncoder(sampleRate, application, complexity)");
  if (napi_get_value_int32(env, argv[0], &rate) != napi_ok || napi_get_value_int32(env, argv[1], &application) != napi_ok ||
      (argc == 3 && napi_get_value_int32(env, argv[2], &complexity) != napi_ok))
    return throw_error(env, "createEncoder(sampleRate, application, complexity): numbers");
  if (complexity < -1 || complexity > 10) return throw_error(env, "createEncoder: complexity -1..10");
  if (!load_lib()) return throw_error(env, lib.error);
  int err = 0;
  OpusEncoder *enc = lib.enc_create(rate, 1, application, &err);
  if (enc == NULL || err != 0) {
    if (enc != NULL) lib.enc_destroy(enc);
    return throw_error(env, "opus_encoder_create refused the sample rate or application");
  }
  if (complexity >= 0 && lib.enc_ctl(enc, PARLEY_OPUS_SET_COMPLEXITY_REQUEST, (int32_t)complexity) != 0) {
    lib.enc_destroy(enc);
    return throw_error(env, "opus_encoder_ctl refused the complexity");
  }
  return wrap(env, enc, enc_finalize, &ENC_TAG);
}

/**
 * encode(encoder, pcm, out): encodes `pcm` (an Int16Array of one frame: its length is the frame
 * size, the encoder being mono) into `out` (a Buffer) and returns the packet's length, or a
 * negative libopus error.
 */
static napi_value encode(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 3) return throw_error(env, "encode(encoder, pcm, out)");
  void *enc = unwrap(env, argv[0], &ENC_TAG);
  if (enc == NULL) return throw_error(env, "bad encoder");
  napi_typedarray_type type;
  size_t count = 0;
  void *pcm = NULL;
  if (napi_get_typedarray_info(env, argv[1], &type, &count, &pcm, NULL, NULL) != napi_ok || type != napi_int16_array || count == 0 || count > 5760)
    return throw_error(env, "pcm: an Int16Array of 1..5760 samples");
  void *data = NULL;
  size_t cap = 0;
  if (napi_get_buffer_info(env, argv[2], &data, &cap) != napi_ok || cap == 0) return throw_error(env, "out: a Buffer");
  if (cap > 1275 * 3) cap = 1275 * 3;
  int32_t n = lib.encode((OpusEncoder *)enc, (const int16_t *)pcm, (int)count, (unsigned char *)data, (int32_t)cap);
  napi_value out;
  napi_create_int32(env, n, &out);
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"available", NULL, available, NULL, NULL, NULL, napi_default, NULL},
      {"create", NULL, create, NULL, NULL, NULL, napi_default, NULL},
      {"decode", NULL, decode, NULL, NULL, NULL, napi_default, NULL},
      {"createEncoder", NULL, create_encoder, NULL, NULL, NULL, napi_default, NULL},
      {"encode", NULL, encode, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
