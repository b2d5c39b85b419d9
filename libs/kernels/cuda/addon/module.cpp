// The lwz_cuda Node-API addon: a thin table over the C API in lwz_cuda.h. Device pointers cross as JS numbers
// (x86-64 device addresses fit in 53 bits, and offsets of views are plain additions); every entry point
// checks its argument kinds and throws a JS Error carrying lwz_last_error() (which names the kernel).
// Loading this file touches no CUDA API: cudart is linked statically and finds the driver at lwz_init, so
// `require` works on machines without a GPU and init() reports why the backend cannot start.
#include <node_api.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "../lwz_cuda.h"

namespace {

struct Arg {
  void* p;
  int64_t i;
  double d;
};

using Call = int (*)(const Arg*);

struct Entry {
  const char* name;
  const char* sig;  // one letter per argument: p pointer, i integer, n number
  Call call;
};

#define P(k) a[k].p
#define I(k) a[k].i
#define F(k) float(a[k].d)
#define D(k) a[k].d
#define I32(k) static_cast<const int32_t*>(a[k].p)
#define F32(k) static_cast<float*>(a[k].p)

const Entry entries[] = {
    {"synchronize", "", [](const Arg*) { return lwz_synchronize(); }},
    {"free", "p", [](const Arg* a) { return lwz_free(P(0)); }},
    {"memsetZero", "pi", [](const Arg* a) { return lwz_memset_zero(P(0), size_t(I(1))); }},
    {"emptyCache", "", [](const Arg*) { return lwz_empty_cache(); }},
    {"matmul", "pipipiiiiiiiini",
     [](const Arg* a) {
       return lwz_matmul(P(0), int(I(1)), P(2), int(I(3)), P(4), int(I(5)), I(6), I(7), I(8), I(9), int(I(10)), int(I(11)), int(I(12)), F(13),
                         int(I(14)));
     }},
    {"add", "pppiii", [](const Arg* a) { return lwz_add(P(0), P(1), P(2), int(I(3)), I(4), I(5)); }},
    {"mul", "pppiii", [](const Arg* a) { return lwz_mul(P(0), P(1), P(2), int(I(3)), I(4), I(5)); }},
    {"scale", "ppiinn", [](const Arg* a) { return lwz_scale(P(0), P(1), int(I(2)), I(3), F(4), F(5)); }},
    {"sumRows", "pipiii", [](const Arg* a) { return lwz_sum_rows(P(0), int(I(1)), F32(2), I(3), I(4), int(I(5))); }},
    {"copy", "pipii", [](const Arg* a) { return lwz_copy(P(0), int(I(1)), P(2), int(I(3)), I(4)); }},
    {"fill", "piin", [](const Arg* a) { return lwz_fill(P(0), int(I(1)), I(2), D(3)); }},
    {"embeddingForward", "pppiiii", [](const Arg* a) { return lwz_embedding_forward(P(0), I32(1), P(2), int(I(3)), I(4), I(5), I(6)); }},
    {"embeddingBackward", "pippiii",
     [](const Arg* a) { return lwz_embedding_backward(P(0), int(I(1)), I32(2), F32(3), I(4), I(5), I(6)); }},
    {"rmsnormForward", "ppppiiin", [](const Arg* a) { return lwz_rmsnorm_forward(P(0), P(1), P(2), F32(3), int(I(4)), I(5), I(6), F(7)); }},
    {"rmsnormBackward", "ppppppiii",
     [](const Arg* a) { return lwz_rmsnorm_backward(P(0), P(1), P(2), F32(3), P(4), F32(5), int(I(6)), I(7), I(8)); }},
    {"rope", "pppiiiiini",
     [](const Arg* a) { return lwz_rope(P(0), I32(1), P(2), int(I(3)), I(4), I(5), I(6), I(7), D(8), int(I(9))); }},
    {"attentionForward", "pppppppiiiiiiini",
     [](const Arg* a) {
       return lwz_attention_forward(P(0), P(1), P(2), I32(3), I32(4), P(5), F32(6), int(I(7)), I(8), I(9), I(10), I(11), I(12), I(13), F(14),
                                    int(I(15)));
     }},
    {"attentionBackward", "pppppppppppiiiiiiin",
     [](const Arg* a) {
       return lwz_attention_backward(P(0), P(1), P(2), I32(3), I32(4), P(5), F32(6), P(7), P(8), P(9), P(10), int(I(11)), I(12), I(13), I(14),
                                     I(15), I(16), I(17), F(18));
     }},
    {"swigluForward", "pppii", [](const Arg* a) { return lwz_swiglu_forward(P(0), P(1), P(2), int(I(3)), I(4)); }},
    {"swigluBackward", "pppppii", [](const Arg* a) { return lwz_swiglu_backward(P(0), P(1), P(2), P(3), P(4), int(I(5)), I(6)); }},
    {"softmax", "ppiiii", [](const Arg* a) { return lwz_softmax(P(0), P(1), int(I(2)), I(3), I(4), int(I(5))); }},
    {"tokenLogprobsForward", "ppppiii",
     [](const Arg* a) { return lwz_token_logprobs_forward(P(0), I32(1), F32(2), F32(3), int(I(4)), I(5), I(6)); }},
    {"tokenLogprobsBackward", "pppppiii",
     [](const Arg* a) { return lwz_token_logprobs_backward(F32(0), P(1), I32(2), F32(3), P(4), int(I(5)), I(6), I(7)); }},
    {"entropy", "ppiii", [](const Arg* a) { return lwz_entropy(P(0), F32(1), int(I(2)), I(3), I(4)); }},
    {"adamw", "ppippinnnnni",
     [](const Arg* a) { return lwz_adamw(F32(0), P(1), int(I(2)), F32(3), F32(4), I(5), F(6), F(7), F(8), F(9), F(10), int(I(11))); }},
    {"sample", "pppiiinin",
     [](const Arg* a) {
       return lwz_sample(P(0), static_cast<const float*>(P(1)), static_cast<int32_t*>(P(2)), int(I(3)), I(4), I(5), D(6), I(7), D(8));
     }},
};

#undef P
#undef I
#undef F
#undef D
#undef I32
#undef F32

napi_value undefinedValue(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

napi_value throwError(napi_env env, const char* message) {
  napi_throw_error(env, nullptr, message);
  return nullptr;
}

/** Reads argv per `sig` into args; throws a TypeError naming the entry point and argument on a mismatch. */
bool parse(napi_env env, const char* name, const char* sig, const napi_value* argv, size_t argc, Arg* args) {
  const size_t want = std::strlen(sig);
  char msg[160];
  if (argc != want) {
    snprintf(msg, sizeof msg, "lwz_cuda.%s: expected %zu arguments, got %zu", name, want, argc);
    napi_throw_type_error(env, nullptr, msg);
    return false;
  }
  for (size_t k = 0; k < want; k++) {
    double v = 0;
    bool flag = false;
    if (napi_get_value_bool(env, argv[k], &flag) == napi_ok) {
      v = flag ? 1 : 0;
    } else if (napi_get_value_double(env, argv[k], &v) != napi_ok) {
      snprintf(msg, sizeof msg, "lwz_cuda.%s: argument %zu must be a number", name, k);
      napi_throw_type_error(env, nullptr, msg);
      return false;
    }
    if (sig[k] != 'n' && (v != std::floor(v) || (sig[k] == 'p' && (v < 0 || v > 9007199254740992.0)))) {
      snprintf(msg, sizeof msg, "lwz_cuda.%s: argument %zu must be %s, got %g", name, k, sig[k] == 'p' ? "a device pointer" : "an integer", v);
      napi_throw_type_error(env, nullptr, msg);
      return false;
    }
    args[k].d = v;
    args[k].i = static_cast<int64_t>(v);
    args[k].p = reinterpret_cast<void*>(static_cast<uintptr_t>(sig[k] == 'p' ? v : 0));
  }
  return true;
}

napi_value trampoline(napi_env env, napi_callback_info info) {
  napi_value argv[24];
  size_t argc = 24;
  void* data = nullptr;
  napi_get_cb_info(env, info, &argc, argv, nullptr, &data);
  const Entry* e = static_cast<const Entry*>(data);
  Arg args[24];
  if (!parse(env, e->name, e->sig, argv, argc, args)) return nullptr;
  if (e->call(args) != 0) return throwError(env, lwz_last_error());
  return undefinedValue(env);
}

napi_value number(napi_env env, double v) {
  napi_value out;
  napi_create_double(env, v, &out);
  return out;
}

// init(device) -> description string
napi_value init(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  size_t argc = 1;
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  Arg a[1];
  if (!parse(env, "init", "i", argv, argc, a)) return nullptr;
  if (lwz_init(int(a[0].i)) != 0) return throwError(env, lwz_last_error());
  napi_value s;
  napi_create_string_utf8(env, lwz_describe(), NAPI_AUTO_LENGTH, &s);
  return s;
}

// alloc(bytes) -> pointer
napi_value alloc(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  size_t argc = 1;
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  Arg a[1];
  if (!parse(env, "alloc", "i", argv, argc, a)) return nullptr;
  void* p = lwz_alloc(size_t(a[0].i));
  if (!p) return throwError(env, lwz_last_error());
  return number(env, double(reinterpret_cast<uintptr_t>(p)));
}

// upload(ptr, typedArray) / download(ptr, typedArray): the whole typed array's bytes
napi_value transfer(napi_env env, napi_callback_info info, bool up) {
  napi_value argv[2];
  size_t argc = 2;
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  Arg a[1];
  bool isTyped = false;
  if (argc != 2 || !parse(env, up ? "upload" : "download", "p", argv, 1, a)) {
    if (argc != 2) napi_throw_type_error(env, nullptr, "lwz_cuda.upload/download(ptr, typedArray)");
    return nullptr;
  }
  if (napi_is_typedarray(env, argv[1], &isTyped) != napi_ok || !isTyped) {
    napi_throw_type_error(env, nullptr, "lwz_cuda.upload/download: argument 1 must be a typed array");
    return nullptr;
  }
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  napi_get_typedarray_info(env, argv[1], &type, &length, &data, nullptr, nullptr);
  const size_t bytes = length * (type == napi_float64_array || type == napi_bigint64_array || type == napi_biguint64_array ? 8
                                 : type == napi_int8_array || type == napi_uint8_array || type == napi_uint8_clamped_array ? 1
                                 : type == napi_int16_array || type == napi_uint16_array                                 ? 2
                                                                                                                           : 4);
  const int r = up ? lwz_upload(a[0].p, data, bytes) : lwz_download(data, a[0].p, bytes);
  if (r != 0) return throwError(env, lwz_last_error());
  return undefinedValue(env);
}

napi_value upload(napi_env env, napi_callback_info info) { return transfer(env, info, true); }
napi_value download(napi_env env, napi_callback_info info) { return transfer(env, info, false); }

// copyAt(src, sdt, dst, ddt, at: Int32Array (B host values), b, t, s, e, heads): the KV cache's append (lwz_copy_at)
napi_value copyAt(napi_env env, napi_callback_info info) {
  napi_value argv[10];
  size_t argc = 10;
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  napi_value rest[9] = {argv[0], argv[1], argv[2], argv[3], argv[5], argv[6], argv[7], argv[8], argv[9]};
  Arg a[9];
  if (argc != 10) {
    napi_throw_type_error(env, nullptr, "lwz_cuda.copyAt(src, sdt, dst, ddt, at: Int32Array, b, t, s, e, heads)");
    return nullptr;
  }
  if (!parse(env, "copyAt", "pipiiiiii", rest, 9, a)) return nullptr;
  bool isTyped = false;
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  if (napi_is_typedarray(env, argv[4], &isTyped) != napi_ok || !isTyped ||
      napi_get_typedarray_info(env, argv[4], &type, &length, &data, nullptr, nullptr) != napi_ok || type != napi_int32_array ||
      int64_t(length) < a[4].i) {
    napi_throw_type_error(env, nullptr, "lwz_cuda.copyAt: argument 4 must be an Int32Array with one position per row");
    return nullptr;
  }
  const int r = lwz_copy_at(a[0].p, int(a[1].i), a[2].p, int(a[3].i), static_cast<const int32_t*>(data), a[4].i, a[5].i, a[6].i, a[7].i,
                            a[8].i);
  if (r != 0) return throwError(env, lwz_last_error());
  return undefinedValue(env);
}

// sumSquares(ptr, dt, n) -> number; countNonFinite(ptr, dt, n) -> number
napi_value reduction(napi_env env, napi_callback_info info, bool squares) {
  napi_value argv[3];
  size_t argc = 3;
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  Arg a[3];
  if (!parse(env, squares ? "sumSquares" : "countNonFinite", "pii", argv, argc, a)) return nullptr;
  double result = 0;
  int64_t count = 0;
  const int r = squares ? lwz_sum_squares(a[0].p, int(a[1].i), a[2].i, &result) : lwz_count_nonfinite(a[0].p, int(a[1].i), a[2].i, &count);
  if (r != 0) return throwError(env, lwz_last_error());
  return number(env, squares ? result : double(count));
}

napi_value sumSquares(napi_env env, napi_callback_info info) { return reduction(env, info, true); }
napi_value countNonFinite(napi_env env, napi_callback_info info) { return reduction(env, info, false); }

// takeDeviceErrors() -> LWZ_ERR_* bits (and clears them)
napi_value takeDeviceErrors(napi_env env, napi_callback_info) {
  int flags = 0;
  if (lwz_take_device_errors(&flags) != 0) return throwError(env, lwz_last_error());
  return number(env, flags);
}

// memoryStats() -> { inUse, cached, mallocs }
napi_value memoryStats(napi_env env, napi_callback_info) {
  size_t inUse = 0, cached = 0, mallocs = 0;
  lwz_memory_stats(&inUse, &cached, &mallocs);
  napi_value obj;
  napi_create_object(env, &obj);
  napi_set_named_property(env, obj, "inUse", number(env, double(inUse)));
  napi_set_named_property(env, obj, "cached", number(env, double(cached)));
  napi_set_named_property(env, obj, "mallocs", number(env, double(mallocs)));
  return obj;
}

// setOption(name, value)
napi_value setOption(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  size_t argc = 2;
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  char name[32] = {0}, value[32] = {0};
  size_t len = 0;
  if (argc != 2 || napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len) != napi_ok ||
      napi_get_value_string_utf8(env, argv[1], value, sizeof value, &len) != napi_ok) {
    napi_throw_type_error(env, nullptr, "lwz_cuda.setOption(name, value): two strings");
    return nullptr;
  }
  if (lwz_set_option(name, value) != 0) return throwError(env, lwz_last_error());
  return undefinedValue(env);
}

napi_value moduleInit(napi_env env, napi_value exports) {
  const napi_property_descriptor fixed[] = {
      {"init", nullptr, init, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"alloc", nullptr, alloc, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"upload", nullptr, upload, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"download", nullptr, download, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"copyAt", nullptr, copyAt, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sumSquares", nullptr, sumSquares, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"countNonFinite", nullptr, countNonFinite, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"takeDeviceErrors", nullptr, takeDeviceErrors, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"memoryStats", nullptr, memoryStats, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setOption", nullptr, setOption, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof fixed / sizeof fixed[0], fixed);
  for (const Entry& e : entries) {
    napi_value fn;
    napi_create_function(env, e.name, NAPI_AUTO_LENGTH, trampoline, const_cast<Entry*>(&e), &fn);
    napi_set_named_property(env, exports, e.name, fn);
  }
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, moduleInit)
