// Node-API entry points that describe and steer the native runtime rather than compute: the detected CPU and
// caches with the GEMM blocking derived from them (cpuDetails), blocking overrides for tests (setGemmBlocking),
// the tuner's path threshold, path report and clock (setGemmPaths, gemmPath, gemmTime; cpu/tune.ts), and the
// optional system BLAS (blasLoad, blasTime, blasSetPlan; see blas.cpp).
#include <cstdint>
#include <cstring>
#include <vector>

#include "blas.h"
#include "common.h"
#include "cpuinfo.h"
#include "gemm.h"
#include "kernels.h"
#include "napi_args.h"

namespace lwz {
namespace {

void setNum(napi_env env, napi_value obj, const char* key, double v) {
  napi_set_named_property(env, obj, key, number(env, v));
}

void setStr(napi_env env, napi_value obj, const char* key, const char* v) {
  napi_value s;
  napi_create_string_utf8(env, v, NAPI_AUTO_LENGTH, &s);
  napi_set_named_property(env, obj, key, s);
}

napi_value cacheObject(napi_env env, const CacheLevel& c) {
  napi_value o;
  napi_create_object(env, &o);
  setNum(env, o, "bytes", static_cast<double>(c.bytes));
  setNum(env, o, "ways", c.ways);
  setNum(env, o, "sharing", c.sharing);
  return o;
}

// The (m, n, k, transA, transB, reps) arguments of a timing call (gemmTime, blasTime).
struct TimedShape {
  long m = 0, n = 0, k = 0;
  bool ta = false, tb = false;
  int reps = 0;
};

// Reads them; false (with `need` raised, or the argument error) unless every one is read and positive.
bool readTimedShape(Args& in, TimedShape& s, const char* need) {
  s.m = in.integer(0), s.n = in.integer(1), s.k = in.integer(2);
  s.ta = in.flag(3), s.tb = in.flag(4);
  const long reps = in.integer(5);
  if (!in.ok) return false;
  if (s.m < 1 || s.n < 1 || s.k < 1 || reps < 1) {
    in.error(need);
    return false;
  }
  s.reps = static_cast<int>(reps);
  return true;
}

bool readString(Args& in, size_t i, char* buf, size_t len) {
  size_t got = 0;
  if (i >= in.argc || napi_get_value_string_utf8(in.env, in.argv[i], buf, len, &got) != napi_ok) {
    in.fail(i, "a string");
    return false;
  }
  return true;
}

}  // namespace

// () -> { vendor, name, family, model, caches: { l1d, l2, l3, source }, gemm: { isa, mr, nr, kc, nc, mc, source },
//         hugePages, thp } (hugePages: large host memory is marked for huge pages; thp: the kernel's mode)
napi_value cpuDetails(napi_env env, napi_callback_info) {
  const CpuInfo& ci = cpuInfo();
  napi_value obj, caches, gemmObj;
  napi_create_object(env, &obj);
  setStr(env, obj, "vendor", ci.vendor);
  setStr(env, obj, "name", ci.name);
  setNum(env, obj, "family", ci.family);
  setNum(env, obj, "model", ci.model);
  napi_create_object(env, &caches);
  napi_set_named_property(env, caches, "l1d", cacheObject(env, ci.l1d));
  napi_set_named_property(env, caches, "l2", cacheObject(env, ci.l2));
  napi_set_named_property(env, caches, "l3", cacheObject(env, ci.l3));
  setStr(env, caches, "source", ci.cacheSource);
  napi_set_named_property(env, obj, "caches", caches);
  const GemmKernels& kk = kernelsFor(isa());
  const GemmBlocking bl = gemmBlocking(isa());
  napi_create_object(env, &gemmObj);
  setStr(env, gemmObj, "isa", isaName(isa()));
  setNum(env, gemmObj, "mr", kk.mr);
  setNum(env, gemmObj, "nr", kk.nr);
  setNum(env, gemmObj, "kc", static_cast<double>(bl.kc));
  setNum(env, gemmObj, "nc", static_cast<double>(bl.nc));
  setNum(env, gemmObj, "mc", static_cast<double>(bl.mc));
  setStr(env, gemmObj, "source", bl.source);
  setNum(env, gemmObj, "shallowBalancedColumns", kk.shallowBalancedColumns);
  napi_value groups, widths;
  napi_create_array_with_length(env, kFewColumnsWidths, &groups);
  napi_create_array_with_length(env, kFewColumnsWidths, &widths);
  for (int i = 0; i < kFewColumnsWidths; i++) {
    napi_set_element(env, groups, i, number(env, fewColumnsGroupsAt(isa(), i)));
    napi_set_element(env, widths, i, number(env, static_cast<double>(kFewColumnsWidth[i])));
  }
  napi_set_named_property(env, gemmObj, "fewColumnsGroups", groups);
  napi_set_named_property(env, gemmObj, "fewColumnsWidths", widths);
  napi_set_named_property(env, obj, "gemm", gemmObj);
  napi_value huge;
  napi_get_boolean(env, hugePages(), &huge);
  napi_set_named_property(env, obj, "hugePages", huge);
  setStr(env, obj, "thp", thpMode());
  return obj;
}

// (isa, kc, nc, mc, source): override one ISA's blocking ("tuned" or "set"); kc = 0 restores the model's.
napi_value setGemmBlockingFn(napi_env env, napi_callback_info info) {
  Args in(env, info, "setGemmBlocking");
  char name[16] = {0}, source[8] = {0};
  if (!readString(in, 0, name, sizeof name)) return nullptr;
  const long kc = in.integer(1), nc = in.integer(2), mc = in.integer(3);
  if (!readString(in, 4, source, sizeof source)) return nullptr;
  Isa v;
  if (!in.ok) return nullptr;
  if (!isaFromName(name, &v)) {
    in.error("setGemmBlocking: isa must be avx512, avx2 or generic");
    return nullptr;
  }
  setGemmBlocking(v, kc, nc, mc, std::strcmp(source, "tuned") == 0 ? "tuned" : "set");
  return undefined(env);
}

// (isa, g0, g1, g2, g3): one ISA's few-columns thresholds for transposed A, one per op(B) width (gemm.h
// kFewColumnsWidth); 0 restores an entry's default.
napi_value setGemmPathsFn(napi_env env, napi_callback_info info) {
  Args in(env, info, "setGemmPaths");
  char name[16] = {0};
  if (!readString(in, 0, name, sizeof name)) return nullptr;
  int groups[kFewColumnsWidths];
  for (int i = 0; i < kFewColumnsWidths; i++) groups[i] = static_cast<int>(in.integer(static_cast<size_t>(1 + i)));
  Isa v;
  if (!in.ok) return nullptr;
  if (!isaFromName(name, &v)) {
    in.error("setGemmPaths: isa must be avx512, avx2 or generic");
    return nullptr;
  }
  for (int i = 0; i < kFewColumnsWidths; i++)
    if (groups[i] < 0 || groups[i] > 64) {
      in.error("setGemmPaths: each fewColumnsGroups entry must be 0 (the default) to 64");
      return nullptr;
    }
  setFewColumnsGroups(v, groups);
  return undefined(env);
}

// (m, n, k, transA, transB, reps) -> median ms of our matmul on fixed operands (the tuner's clock)
napi_value gemmTimeFn(napi_env env, napi_callback_info info) {
  Args in(env, info, "gemmTime");
  TimedShape t;
  if (!readTimedShape(in, t, "gemmTime: needs positive sizes and reps")) return nullptr;
  return number(env, gemmTime(t.m, t.n, t.k, t.ta, t.tb, t.reps));
}

// (m, n, k, transA, transB) -> the loop order gemm takes for this shape now (gemm.h gemmPathName)
napi_value gemmPathFn(napi_env env, napi_callback_info info) {
  Args in(env, info, "gemmPath");
  const long m = in.integer(0), n = in.integer(1), k = in.integer(2);
  const bool ta = in.flag(3), tb = in.flag(4);
  if (!in.ok) return nullptr;
  napi_value s;
  napi_create_string_utf8(env, gemmPathName(m, n, k, ta, tb), NAPI_AUTO_LENGTH, &s);
  return s;
}

// (spec) -> { path, note }: spec "auto" | "own" | a library path; path "" when none is loaded.
napi_value blasLoadFn(napi_env env, napi_callback_info info) {
  Args in(env, info, "blasLoad");
  char spec[512] = {0};
  if (!readString(in, 0, spec, sizeof spec)) return nullptr;
  blasLoad(spec);
  napi_value obj;
  napi_create_object(env, &obj);
  setStr(env, obj, "path", blasPath());
  setStr(env, obj, "note", blasNote());
  return obj;
}

// (m, n, k, transA, transB, reps) -> { oursMs, blasMs }
napi_value blasTimeFn(napi_env env, napi_callback_info info) {
  Args in(env, info, "blasTime");
  TimedShape s;
  const char* need = "blasTime: needs a loaded BLAS, positive sizes and reps";
  if (!readTimedShape(in, s, need)) return nullptr;
  if (!*blasPath()) {
    in.error(need);
    return nullptr;
  }
  const BlasTiming t = blasTime(s.m, s.n, s.k, s.ta, s.tb, s.reps);
  napi_value obj;
  napi_create_object(env, &obj);
  setNum(env, obj, "oursMs", t.oursMs);
  setNum(env, obj, "blasMs", t.blasMs);
  return obj;
}

// (plan: Float64Array of (m, n, k, transA, transB, useBlas) rows)
napi_value blasSetPlanFn(napi_env env, napi_callback_info info) {
  Args in(env, info, "blasSetPlan");
  bool is = false;
  napi_typedarray_type type;
  size_t len = 0;
  void* data = nullptr;
  if (in.argc < 1 || napi_is_typedarray(env, in.argv[0], &is) != napi_ok || !is ||
      napi_get_typedarray_info(env, in.argv[0], &type, &len, &data, nullptr, nullptr) != napi_ok ||
      type != napi_float64_array || len % 6) {
    in.fail(0, "a Float64Array of (m, n, k, transA, transB, useBlas) rows");
    return nullptr;
  }
  const double* v = static_cast<const double*>(data);
  std::vector<BlasPoint> plan;
  for (size_t i = 0; i < len; i += 6)
    if (v[i] >= 1 && v[i + 1] >= 1 && v[i + 2] >= 1)
      plan.push_back({v[i], v[i + 1], v[i + 2], v[i + 3] != 0, v[i + 4] != 0, v[i + 5] != 0});
  blasSetPlan(plan);
  return undefined(env);
}

// (ArrayBuffer, modulus = 64) -> the address of its first byte modulo `modulus` (a power of two). The cpu
// backend allocates host tensors 64-byte aligned with it: V8 starts a large ArrayBuffer's data 16 bytes past a
// cache line, so every 64-byte vector load of such a tensor would touch two lines; and large ones on a 2 MiB
// boundary, so all their whole huge pages are theirs (hugepages.cpp). ArrayBuffers made by `new ArrayBuffer`
// never move.
napi_value bufferMisalign(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  void* data = nullptr;
  size_t len = 0;
  if (argc < 1 || napi_get_arraybuffer_info(env, argv[0], &data, &len) != napi_ok) {
    napi_throw_type_error(env, nullptr, "bufferMisalign: argument 0 must be an ArrayBuffer");
    return nullptr;
  }
  double modulus = 64;
  const bool read = argc < 2 || napi_get_value_double(env, argv[1], &modulus) == napi_ok;
  const uintptr_t m = read && modulus >= 1 && modulus <= 1 << 30 ? static_cast<uintptr_t>(modulus) : 0;
  if (m == 0 || (m & (m - 1)) != 0) {
    napi_throw_type_error(env, nullptr, "bufferMisalign: argument 1 must be a power of two up to 2^30");
    return nullptr;
  }
  return number(env, static_cast<double>(reinterpret_cast<uintptr_t>(data) & (m - 1)));
}

}  // namespace lwz
