// The backend runtime: device start-up (with the reason when it cannot start: no driver, no device, too old a
// GPU, no kernel image for it), the stream every kernel runs on, errors that name the kernel, options, the
// device-side error word (bad ids), host<->device copies. Single-threaded by design (one Node or Python thread).
// The caching allocator lives in allocator.cpp, cuBLASLt loading in cublaslt.cpp.
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>

#include "common.cuh"
#include "gemm.h"

namespace lwz {
namespace {

struct Runtime {
  bool ready = false;
  int device = 0;
  cudaStream_t own = nullptr;
  cudaStream_t current = nullptr;
  cudaDeviceProp prop{};
  int smemOptin = 0;
  int* errorWord = nullptr;  // (1,) device int, LWZ_ERR_* bits
  std::string description;
  std::map<std::string, std::string> options;
};

Runtime rt;
thread_local std::string lastError;

const char* envOr(const char* env, const char* fallback) {
  const char* v = std::getenv(env);
  return v && *v ? v : fallback;
}

__global__ void smokeKernel(int* word) {
  if (threadIdx.x == 0 && blockIdx.x == 0) atomicOr(word, 0);
}

std::string startFailure(cudaError_t err) {
  int runtimeVersion = 0;
  cudaRuntimeGetVersion(&runtimeVersion);
  char buf[320];
  if (err == cudaErrorInsufficientDriver) {
    snprintf(buf, sizeof buf, "no usable NVIDIA driver (%s): the driver is missing or older than CUDA runtime %d.%d",
             cudaGetErrorName(err), runtimeVersion / 1000, (runtimeVersion % 1000) / 10);
  } else if (err == cudaErrorNoDevice) {
    snprintf(buf, sizeof buf, "no CUDA device (%s)", cudaGetErrorName(err));
  } else {
    snprintf(buf, sizeof buf, "CUDA could not start (%s: %s)", cudaGetErrorName(err), cudaGetErrorString(err));
  }
  return buf;
}

}  // namespace

cudaStream_t stream() { return rt.current; }
int smCount() { return rt.prop.multiProcessorCount > 0 ? rt.prop.multiProcessorCount : 1; }
int maxSmemOptin() { return rt.smemOptin; }
int* deviceErrorWord() { return rt.errorWord; }

int fail(const char* kernel, const char* fmt, ...) {
  char buf[512];
  va_list args;
  va_start(args, fmt);
  vsnprintf(buf, sizeof buf, fmt, args);
  va_end(args);
  lastError = std::string(kernel) + ": " + buf;
  return -1;
}

int checkCuda(cudaError_t err, const char* kernel, const char* what) {
  if (err == cudaSuccess) return 0;
  return fail(kernel, "%s failed: %s (%s)%s", what, cudaGetErrorString(err), cudaGetErrorName(err),
              err == cudaErrorIllegalAddress || err == cudaErrorLaunchFailure
                  ? "; an earlier kernel may have failed asynchronously: set LWZ_CUDA_SYNC=1 to pin it"
                  : "");
}

int checkLaunch(const char* kernel) {
  cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess) return fail(kernel, "launch failed: %s (%s)", cudaGetErrorString(err), cudaGetErrorName(err));
  if (std::strcmp(option("sync_check"), "1") == 0) {
    err = cudaStreamSynchronize(rt.current);
    if (err != cudaSuccess) return fail(kernel, "kernel failed: %s (%s)", cudaGetErrorString(err), cudaGetErrorName(err));
  }
  return 0;
}

int requireInit(const char* kernel) {
  if (rt.ready) return 0;
  return fail(kernel, "the CUDA backend is not initialised (call lwz_init first)");
}

const char* option(const char* name) {
  auto it = rt.options.find(name);
  if (it != rt.options.end()) return it->second.c_str();
  if (std::strcmp(name, "gemm") == 0) return envOr("LWZ_CUDA_GEMM", "auto");
  if (std::strcmp(name, "attention") == 0) return envOr("LWZ_CUDA_ATTENTION", "auto");
  if (std::strcmp(name, "sync_check") == 0) return envOr("LWZ_CUDA_SYNC", "0");
  return "";
}

}  // namespace lwz

using namespace lwz;

extern "C" {

const char* lwz_last_error(void) { return lastError.c_str(); }

int lwz_init(int device) {
  if (rt.ready) return 0;
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) return fail("init", "%s", startFailure(err).c_str());
  if (count == 0) return fail("init", "no CUDA device");
  if (device < 0 || device >= count) return fail("init", "device %d does not exist (%d device%s)", device, count, count == 1 ? "" : "s");
  if (checkCuda(cudaSetDevice(device), "init", "cudaSetDevice")) return -1;
  if (checkCuda(cudaGetDeviceProperties(&rt.prop, device), "init", "cudaGetDeviceProperties")) return -1;
  if (rt.prop.major < 8) {
    return fail("init", "%s has compute capability %d.%d; the bf16 tensor-core kernels need 8.0 (Ampere) or newer", rt.prop.name,
                rt.prop.major, rt.prop.minor);
  }
  if (checkCuda(cudaDeviceGetAttribute(&rt.smemOptin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device), "init", "cudaDeviceGetAttribute"))
    return -1;
  if (checkCuda(cudaStreamCreateWithFlags(&rt.own, cudaStreamNonBlocking), "init", "cudaStreamCreate")) return -1;
  rt.current = rt.own;
  if (checkCuda(cudaMalloc(&rt.errorWord, sizeof(int)), "init", "cudaMalloc")) return -1;
  // on the stream every kernel runs on (a non-blocking one: the legacy default stream is not ordered with it)
  if (checkCuda(cudaMemsetAsync(rt.errorWord, 0, sizeof(int), rt.own), "init", "cudaMemsetAsync")) return -1;
  if (checkCuda(cudaStreamSynchronize(rt.own), "init", "cudaStreamSynchronize")) return -1;
  // Proves this binary has code for the device (SASS or PTX it can JIT) before anything else runs.
  smokeKernel<<<1, 32, 0, rt.current>>>(rt.errorWord);
  err = cudaGetLastError();
  if (err == cudaSuccess) err = cudaStreamSynchronize(rt.current);
  if (err != cudaSuccess) {
    return fail("init", "kernels cannot run on %s (sm_%d%d): %s; rebuild with LWZ_CUDA_ARCHS including %d%d", rt.prop.name, rt.prop.major,
                rt.prop.minor, cudaGetErrorString(err), rt.prop.major, rt.prop.minor);
  }
  rt.device = device;
  rt.ready = true;
  const std::string gemm = gemmEngineDescription();
  char buf[512];
  snprintf(buf, sizeof buf, "%s, sm_%d%d, %.1f GiB, %d SMs; GEMM: %s", rt.prop.name, rt.prop.major, rt.prop.minor,
           double(rt.prop.totalGlobalMem) / (1024.0 * 1024.0 * 1024.0), rt.prop.multiProcessorCount, gemm.c_str());
  rt.description = buf;
  return 0;
}

const char* lwz_describe(void) { return rt.description.c_str(); }

int lwz_synchronize(void) {
  if (requireInit("synchronize")) return -1;
  return checkCuda(cudaStreamSynchronize(rt.current), "synchronize", "cudaStreamSynchronize");
}

int lwz_set_stream(void* s) {
  if (requireInit("setStream")) return -1;
  rt.current = s ? static_cast<cudaStream_t>(s) : rt.own;
  return 0;
}

int lwz_set_option(const char* name, const char* value) {
  static const char* const known[][6] = {
      {"gemm", "auto", "cublaslt", "own", nullptr, nullptr},
      {"attention", "auto", "flash", "wmma", "simple", "decode"},
      {"sync_check", "0", "1", nullptr, nullptr, nullptr},
  };
  for (const auto& row : known) {
    if (std::strcmp(row[0], name) != 0) continue;
    for (int i = 1; i < 6 && row[i]; i++) {
      if (std::strcmp(row[i], value) == 0) {
        rt.options[name] = value;
        return 0;
      }
    }
    return fail("setOption", "option %s does not take the value '%s'", name, value);
  }
  return fail("setOption", "unknown option '%s' (gemm, attention, sync_check)", name);
}

int lwz_upload(void* dst, const void* src, size_t bytes) {
  if (requireInit("upload")) return -1;
  if (bytes == 0) return 0;
  return checkCuda(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, rt.current), "upload", "cudaMemcpyAsync");
}

int lwz_download(void* dst, const void* src, size_t bytes) {
  if (requireInit("download")) return -1;
  if (bytes && checkCuda(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, rt.current), "download", "cudaMemcpyAsync")) return -1;
  return checkCuda(cudaStreamSynchronize(rt.current), "download", "cudaStreamSynchronize");
}

int lwz_memset_zero(void* dst, size_t bytes) {
  if (requireInit("memsetZero")) return -1;
  if (bytes == 0) return 0;
  return checkCuda(cudaMemsetAsync(dst, 0, bytes, rt.current), "memsetZero", "cudaMemsetAsync");
}

int lwz_take_device_errors(int* flags) {
  if (requireInit("deviceErrors")) return -1;
  int host = 0;
  if (lwz_download(&host, rt.errorWord, sizeof(int))) return -1;
  *flags = host;
  if (host) return lwz_memset_zero(rt.errorWord, sizeof(int));
  return 0;
}

}  // extern "C"
