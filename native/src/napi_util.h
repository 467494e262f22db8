// N-API helpers shared by the addons that hand native objects to JavaScript as tagged externals
// (token_native.c's sealing keys, dtls_crypto.c's X25519 and signature keys): wrapping an object
// so its finalizer frees it, and reading one back only when it carries the expected type tag — a
// foreign external, another addon's object or a plain value is refused, never cast. Also the
// TypeError/RangeError returns every entry point uses. Header-only (static inline functions):
// each addon is its own shared object.
#ifndef PARLEY_NAPI_UTIL_H
#define PARLEY_NAPI_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#include <node_api.h>

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

/* `data` as a JS external tagged `tag`, freed by `finalize` when collected (and at once, here,
 * when the external cannot be made). NULL on failure. */
static inline napi_value wrap_tagged(napi_env env, void *data, napi_finalize finalize, const napi_type_tag *tag) {
  napi_value ext;
  if (napi_create_external(env, data, finalize, NULL, &ext) != napi_ok) {
    finalize(env, data, NULL);
    return NULL;
  }
  if (napi_type_tag_object(env, ext, tag) != napi_ok) return NULL; /* the finalizer frees data */
  return ext;
}

/* The data of an external tagged `tag`; NULL for anything else (nothing thrown). */
static inline void *tagged_external(napi_env env, napi_value v, const napi_type_tag *tag) {
  bool tagged = false;
  napi_valuetype t;
  void *data = NULL;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external || napi_check_object_type_tag(env, v, tag, &tagged) != napi_ok ||
      !tagged || napi_get_value_external(env, v, &data) != napi_ok)
    return NULL;
  return data;
}

static inline napi_value undef(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

#endif
