// Small helpers over the raw Node-API: argument checks that name the argument,
// and errors that carry a stable string `code` (and `errno`/`syscall` for
// system errors, like Node's own).
#pragma once
#include <node_api.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <utility>

namespace rio {

inline napi_value make_error(napi_env env, napi_status (*ctor)(napi_env, napi_value, napi_value, napi_value*),
                             const char* code, const std::string& message) {
  napi_value c, m, e;
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &c);
  napi_create_string_utf8(env, message.c_str(), message.size(), &m);
  ctor(env, c, m, &e);
  return e;
}

inline napi_value throw_error(napi_env env, const char* code, const std::string& message) {
  napi_throw(env, make_error(env, napi_create_error, code, message));
  return nullptr;
}
inline napi_value throw_type_error(napi_env env, const char* code, const std::string& message) {
  napi_throw(env, make_error(env, napi_create_type_error, code, message));
  return nullptr;
}
inline napi_value throw_range_error(napi_env env, const char* code, const std::string& message) {
  napi_throw(env, make_error(env, napi_create_range_error, code, message));
  return nullptr;
}

const char* errno_code(int err);

// Throws an Error shaped like Node's system errors: code "ENOENT", errno -2, syscall.
inline napi_value throw_errno(napi_env env, int err, const char* syscall) {
  const char* code = errno_code(err);
  std::string message = std::string(code) + ": " + std::strerror(err) + ", " + syscall;
  napi_value e = make_error(env, napi_create_error, code, message);
  napi_value n, s;
  napi_create_int32(env, -err, &n);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &s);
  napi_set_named_property(env, e, "errno", n);
  napi_set_named_property(env, e, "syscall", s);
  napi_throw(env, e);
  return nullptr;
}

inline napi_value boolean(napi_env env, bool v) {
  napi_value r;
  napi_get_boolean(env, v, &r);
  return r;
}
inline napi_value number(napi_env env, double v) {
  napi_value r;
  napi_create_double(env, v, &r);
  return r;
}
inline napi_value uint32(napi_env env, uint32_t v) {
  napi_value r;
  napi_create_uint32(env, v, &r);
  return r;
}
inline napi_value string(napi_env env, const char* s) {
  napi_value r;
  napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &r);
  return r;
}

// Fixed-arity argument reader; each accessor throws a TypeError naming the argument.
template <size_t N>
struct Args {
  napi_env env;
  napi_value argv[N];
  size_t argc = N;
  Args(napi_env e, napi_callback_info info) : env(e) {
    napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
    for (size_t i = argc; i < N; i++) napi_get_undefined(env, &argv[i]);
  }
  napi_value operator[](size_t i) const { return argv[i]; }

  bool int64(size_t i, int64_t* out, const char* name) {
    double d;
    if (napi_get_value_double(env, argv[i], &d) != napi_ok || d != static_cast<double>(static_cast<int64_t>(d))) {
      throw_type_error(env, "ERR_INVALID_ARG_TYPE", std::string("\"") + name + "\" must be an integer");
      return false;
    }
    *out = static_cast<int64_t>(d);
    return true;
  }
  bool uint32(size_t i, uint32_t* out, const char* name) {
    int64_t v;
    if (!int64(i, &v, name)) return false;
    if (v < 0 || v > 0xffffffffLL) {
      throw_range_error(env, "ERR_OUT_OF_RANGE", std::string("\"") + name + "\" must fit in 32 bits");
      return false;
    }
    *out = static_cast<uint32_t>(v);
    return true;
  }
  bool boolean(size_t i, bool* out, const char* name) {
    if (napi_get_value_bool(env, argv[i], out) != napi_ok) {
      throw_type_error(env, "ERR_INVALID_ARG_TYPE", std::string("\"") + name + "\" must be a boolean");
      return false;
    }
    return true;
  }
  bool array_length(size_t i, uint32_t* out, const char* name) {
    bool is_array = false;
    napi_is_array(env, argv[i], &is_array);
    if (!is_array) {
      throw_type_error(env, "ERR_INVALID_ARG_TYPE", std::string("\"") + name + "\" must be an array");
      return false;
    }
    napi_get_array_length(env, argv[i], out);
    return true;
  }
  bool str(size_t i, std::string* out, const char* name) {
    size_t len = 0;
    if (napi_get_value_string_utf8(env, argv[i], nullptr, 0, &len) != napi_ok) {
      throw_type_error(env, "ERR_INVALID_ARG_TYPE", std::string("\"") + name + "\" must be a string");
      return false;
    }
    out->resize(len);
    napi_get_value_string_utf8(env, argv[i], out->data(), len + 1, &len);
    if (out->find('\0') != std::string::npos) {
      throw_type_error(env, "ERR_INVALID_ARG_VALUE", std::string("\"") + name + "\" must not contain NUL");
      return false;
    }
    return true;
  }
  // A byte range [offset, offset+length) inside a TypedArray, DataView or Buffer.
  bool bytes(size_t i, size_t off_i, size_t len_i, unsigned char** out, size_t* out_len, const char* name) {
    void* data = nullptr;
    size_t byte_length = 0;
    bool is_typed = false, is_view = false;
    napi_is_typedarray(env, argv[i], &is_typed);
    if (is_typed) {
      napi_typedarray_type type;
      size_t length;
      napi_value ab;
      size_t byte_offset;
      napi_get_typedarray_info(env, argv[i], &type, &length, &data, &ab, &byte_offset);
      static const size_t element[] = {1, 1, 1, 2, 2, 4, 4, 4, 8, 8, 8};
      byte_length = length * (static_cast<size_t>(type) < 11 ? element[type] : 1);
    } else {
      napi_is_dataview(env, argv[i], &is_view);
      if (!is_view) {
        throw_type_error(env, "ERR_INVALID_ARG_TYPE", std::string("\"") + name + "\" must be a TypedArray or DataView");
        return false;
      }
      napi_value ab;
      size_t byte_offset;
      napi_get_dataview_info(env, argv[i], &byte_length, &data, &ab, &byte_offset);
    }
    int64_t off, len;
    if (!int64(off_i, &off, "offset") || !int64(len_i, &len, "length")) return false;
    if (off < 0 || len < 0 || static_cast<uint64_t>(off) + static_cast<uint64_t>(len) > byte_length) {
      throw_range_error(env, "ERR_OUT_OF_RANGE", std::string("range outside \"") + name + "\"");
      return false;
    }
    *out = static_cast<unsigned char*>(data) + off;
    *out_len = static_cast<size_t>(len);
    return true;
  }
};

inline napi_status define_functions(napi_env env, napi_value exports,
                                    std::initializer_list<std::pair<const char*, napi_callback>> fns) {
  for (const auto& f : fns) {
    napi_value fn;
    napi_status s = napi_create_function(env, f.first, NAPI_AUTO_LENGTH, f.second, nullptr, &fn);
    if (s != napi_ok) return s;
    s = napi_set_named_property(env, exports, f.first, fn);
    if (s != napi_ok) return s;
  }
  return napi_ok;
}

}  // namespace rio
