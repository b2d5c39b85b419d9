// Argument helpers for the Node-API entry points: typed arrays are borrowed zero-copy (their data pointer),
// numbers and booleans are read with a type check. A failed check throws a JS TypeError naming the argument;
// the TypeScript side has already validated shapes, so these are guards, not the user-facing checks.
#pragma once
#include <node_api.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>

namespace lwz {

struct Args {
  napi_env env;
  napi_value argv[24];
  size_t argc = 24;
  bool ok = true;
  const char* fn;

  Args(napi_env e, napi_callback_info info, const char* name) : env(e), fn(name) {
    napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  }

  void fail(size_t i, const char* what) {
    if (!ok) return;
    ok = false;
    char msg[160];
    snprintf(msg, sizeof msg, "lwz_cpu.%s: argument %zu must be %s", fn, i, what);
    napi_throw_type_error(env, nullptr, msg);
  }

  template <typename T>
  T* array(size_t i, napi_typedarray_type want, size_t* length = nullptr) {
    bool is = false;
    if (i >= argc || napi_is_typedarray(env, argv[i], &is) != napi_ok || !is) {
      fail(i, "a typed array");
      return nullptr;
    }
    napi_typedarray_type type;
    size_t len = 0;
    void* data = nullptr;
    napi_get_typedarray_info(env, argv[i], &type, &len, &data, nullptr, nullptr);
    if (type != want) {
      fail(i, want == napi_float32_array ? "a Float32Array" : "an Int32Array");
      return nullptr;
    }
    if (length) *length = len;
    return static_cast<T*>(data);
  }

  /** A Float32Array or an Int32Array (4-byte elements, for dtype-blind data movement); `type` says which. */
  void* any32(size_t i, napi_typedarray_type* type) {
    bool is = false;
    if (i >= argc || napi_is_typedarray(env, argv[i], &is) != napi_ok || !is) {
      fail(i, "a typed array");
      return nullptr;
    }
    size_t len = 0;
    void* data = nullptr;
    napi_get_typedarray_info(env, argv[i], type, &len, &data, nullptr, nullptr);
    if (*type != napi_float32_array && *type != napi_int32_array) {
      fail(i, "a Float32Array or an Int32Array");
      return nullptr;
    }
    return data;
  }

  float* f32(size_t i, size_t* length = nullptr) { return array<float>(i, napi_float32_array, length); }
  int32_t* i32(size_t i, size_t* length = nullptr) { return array<int32_t>(i, napi_int32_array, length); }

  double num(size_t i) {
    double v = 0;
    if (i >= argc || napi_get_value_double(env, argv[i], &v) != napi_ok) fail(i, "a number");
    return v;
  }
  long integer(size_t i) { return static_cast<long>(num(i)); }
  bool flag(size_t i) {
    bool v = false;
    if (i >= argc || napi_get_value_bool(env, argv[i], &v) != napi_ok) fail(i, "a boolean");
    return v;
  }
  void error(const char* msg) {
    if (!ok) return;
    ok = false;
    napi_throw_range_error(env, nullptr, msg);
  }
};

inline napi_value undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

inline napi_value number(napi_env env, double v) {
  napi_value r;
  napi_create_double(env, v, &r);
  return r;
}

}  // namespace lwz
