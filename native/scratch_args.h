// Argument checks shared by the scratch-block calls (fastcalls.cc, reads.cc):
// a region range named by view id, typed-array arguments and job counts. Each
// throws a coded error and answers false; nothing is touched then.
#pragma once
#include <node_api.h>

#include <cstddef>

#include "instance.h"
#include "util.h"

namespace rio {

inline bool range(napi_env env, Instance* in, double id, double offset, double length, unsigned char** out) {
  const size_t i = static_cast<size_t>(id);
  if (!(id >= 0) || i >= in->views.size() || !(offset >= 0) || !(length >= 0) ||
      offset + length > static_cast<double>(in->views[i].length)) {
    throw_range_error(env, "ERR_OUT_OF_RANGE", "region access outside its view (or the region is unmapped)");
    return false;
  }
  *out = in->views[i].base + static_cast<size_t>(offset);
  return true;
}

inline bool is_bytes(napi_typedarray_type t) {
  return t == napi_uint8_array || t == napi_uint8_clamped_array || t == napi_int8_array;
}

// A TypedArray argument of an accepted type, else a TypeError naming it ("\"src\" must be ...").
inline bool typed_arg(napi_env env, size_t argc, napi_value* argv, size_t i, bool (*accepts)(napi_typedarray_type),
               const char* message, void** data, size_t* elements) {
  bool is_typed = false;
  napi_typedarray_type type = napi_int8_array;
  size_t byte_offset;
  napi_value ab;
  if (i < argc && napi_is_typedarray(env, argv[i], &is_typed) == napi_ok && is_typed) {
    napi_get_typedarray_info(env, argv[i], &type, elements, data, &ab, &byte_offset);
  }
  if (!is_typed || !accepts(type)) {
    throw_type_error(env, "ERR_INVALID_ARG_TYPE", message);
    return false;
  }
  return true;
}

// A job count argument: a whole number of jobs of `slots` elements that fit in `elements`.
inline bool count_arg(napi_env env, size_t argc, napi_value* argv, size_t i, size_t slots, size_t elements, size_t* count) {
  double count_d = -1;
  if (i >= argc || napi_get_value_double(env, argv[i], &count_d) != napi_ok || !(count_d >= 0) ||
      count_d != static_cast<double>(static_cast<size_t>(count_d)) ||
      count_d * static_cast<double>(slots) > static_cast<double>(elements)) {
    throw_range_error(env, "ERR_OUT_OF_RANGE", "\"count\" must be a whole number of jobs that fit in \"jobs\"");
    return false;
  }
  *count = static_cast<size_t>(count_d);
  return true;
}

// The jobs array at argv[i] (of the type `accepts` takes) and the job count after it.
inline bool jobs_args(napi_env env, size_t argc, napi_value* argv, size_t i, bool (*accepts)(napi_typedarray_type),
               const char* message, size_t slots, void** jobs, size_t* count) {
  size_t elements = 0;
  return typed_arg(env, argc, argv, i, accepts, message, jobs, &elements) &&
         count_arg(env, argc, argv, i + 1, slots, elements, count);
}

// The one byte-array argument of a scratch-block call (the caller's buffer).
inline bool bytes_only_arg(napi_env env, napi_callback_info info, const char* message, void** data, size_t* bytes) {
  size_t argc = 1;
  napi_value arg;
  napi_get_cb_info(env, info, &argc, &arg, nullptr, nullptr);
  return typed_arg(env, argc, &arg, 0, is_bytes, message, data, bytes);
}

}  // namespace rio
