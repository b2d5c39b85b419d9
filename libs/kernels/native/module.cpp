// The lwz_cpu addon's module file: sets up threads and ISA dispatch, registers every kernel entry point,
// and exposes info()/setIsa() so the TypeScript side can describe (and tests can force) the code path.
#include <node_api.h>

#include <cstring>

#include "common.h"
#include "kernels.h"
#include "napi_args.h"

namespace lwz {

// info() -> { isa, detectedIsa, threads, isaNote, streamBytes, spinMicros, hugePages, thp } (isaNote: why LWZ_ISA,
// LWZ_STREAM_BYTES or LWZ_SPIN_US was not applied, or ""; streamBytes: common.h's streaming-store threshold;
// spinMicros: how long idle pool workers spin; hugePages: whether large host memory gets MADV_HUGEPAGE, thp: the
// kernel's THP mode; hugepages.cpp)
static napi_value info(napi_env env, napi_callback_info) {
  napi_value obj, v;
  napi_create_object(env, &obj);
  napi_create_string_utf8(env, isaName(isa()), NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, "isa", v);
  napi_create_string_utf8(env, isaName(detectedIsa()), NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, "detectedIsa", v);
  napi_create_int32(env, threads(), &v);
  napi_set_named_property(env, obj, "threads", v);
  napi_create_string_utf8(env, isaNote(), NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, "isaNote", v);
  napi_create_double(env, static_cast<double>(streamBytes()), &v);
  napi_set_named_property(env, obj, "streamBytes", v);
  napi_create_double(env, static_cast<double>(spinMicros()), &v);
  napi_set_named_property(env, obj, "spinMicros", v);
  napi_get_boolean(env, hugePages(), &v);
  napi_set_named_property(env, obj, "hugePages", v);
  napi_create_string_utf8(env, thpMode(), NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, "thp", v);
  return obj;
}

// setIsa(name) -> boolean: run the avx2 or generic kernels on a CPU that has better (tests).
static napi_value setIsaFn(napi_env env, napi_callback_info cb) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, cb, &argc, argv, nullptr, nullptr);
  char name[16] = {0};
  size_t len = 0;
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len) != napi_ok) {
    napi_throw_type_error(env, nullptr, "setIsa(name): name must be avx512, avx2 or generic");
    return nullptr;
  }
  Isa want = std::strcmp(name, "avx512") == 0 ? Isa::avx512 : std::strcmp(name, "avx2") == 0 ? Isa::avx2 : Isa::generic;
  napi_value r;
  napi_get_boolean(env, setIsa(want), &r);
  return r;
}

// setThreads(n): change the thread count (tests compare thread counts in one process).
static napi_value setThreadsFn(napi_env env, napi_callback_info cb) {
  Args in(env, cb, "setThreads");
  long n = in.integer(0);
  if (!in.ok) return nullptr;
  setThreads(static_cast<int>(n));
  return undefined(env);
}

// setStreamBytes(bytes): the streaming-store threshold of common.h (tests force both store paths; < 0 restores
// the default, the last-level cache size).
static napi_value setStreamBytesFn(napi_env env, napi_callback_info cb) {
  Args in(env, cb, "setStreamBytes");
  const double bytes = in.num(0);
  if (!in.ok) return nullptr;
  setStreamBytes(bytes < 0 ? -1 : bytes > 9.0e18 ? 9000000000000000000L : static_cast<long>(bytes));
  return undefined(env);
}

static napi_value init(napi_env env, napi_value exports) {
  initRuntime();
  const napi_property_descriptor props[] = {
      {"info", nullptr, info, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setIsa", nullptr, setIsaFn, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setThreads", nullptr, setThreadsFn, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setStreamBytes", nullptr, setStreamBytesFn, nullptr, nullptr, nullptr, napi_default, nullptr},
#define LWZ_FN(name) {#name, nullptr, name, nullptr, nullptr, nullptr, napi_default, nullptr}
      LWZ_FN(copyForward),
      LWZ_FN(copyAtForward),
      LWZ_FN(packedMatmulLayout),
      LWZ_FN(packMatmulB),
      LWZ_FN(fillForward),
      LWZ_FN(matmulForward),
      LWZ_FN(attentionForward),
      LWZ_FN(attentionBackward),
      LWZ_FN(addForward),
      LWZ_FN(mulForward),
      LWZ_FN(scaleForward),
      LWZ_FN(sumRowsForward),
      LWZ_FN(embeddingForward),
      LWZ_FN(embeddingBackward),
      LWZ_FN(rmsnormForward),
      LWZ_FN(rmsnormBackward),
      LWZ_FN(ropeForward),
      LWZ_FN(swigluForward),
      LWZ_FN(swigluBackward),
      LWZ_FN(softmaxForward),
      LWZ_FN(tokenLogprobsForward),
      LWZ_FN(tokenLogprobsBackward),
      LWZ_FN(entropyForward),
      LWZ_FN(adamwStep),
      LWZ_FN(sumSquares),
      LWZ_FN(sampleForward),
      LWZ_FN(cpuDetails),
      LWZ_FN(bufferMisalign),
      LWZ_FN(adviseHugePages),
      LWZ_FN(hugePageKb),
      LWZ_FN(streamCopy),
      LWZ_FN(streamTriad),
      LWZ_FN(streamRead),
      {"setGemmBlocking", nullptr, setGemmBlockingFn, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setGemmPaths", nullptr, setGemmPathsFn, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"gemmTime", nullptr, gemmTimeFn, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"gemmPath", nullptr, gemmPathFn, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"blasLoad", nullptr, blasLoadFn, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"blasTime", nullptr, blasTimeFn, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"blasSetPlan", nullptr, blasSetPlanFn, nullptr, nullptr, nullptr, napi_default, nullptr},
#undef LWZ_FN
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

}  // namespace lwz

NAPI_MODULE(NODE_GYP_MODULE_NAME, lwz::init)
