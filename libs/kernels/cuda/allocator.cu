// The caching device allocator: sizes are rounded to classes (512 B steps below 1 MiB, 2 MiB steps above) and a
// freed block goes back to its class's free list instead of cudaFree, so a training loop stops calling cudaMalloc
// after its first step. Reuse is stream-ordered: every kernel runs on the one backend stream, so a block freed
// while kernels still read it is only handed to kernels queued after them. On out-of-memory the cache is
// released and the allocation retried once. Not thread-safe (one Node or Python thread drives the backend).
#include <map>
#include <unordered_map>

#include "common.cuh"

namespace lwz {
namespace {

struct Allocator {
  std::unordered_map<void*, size_t> live;  // pointer -> class size
  std::multimap<size_t, void*> cache;      // class size -> free block
  size_t inUse = 0, cached = 0, mallocs = 0;
};

Allocator al;

size_t sizeClass(size_t bytes) {
  const size_t small = size_t(1) << 20, step = size_t(2) << 20;
  if (bytes == 0) bytes = 1;
  return bytes < small ? (bytes + 511) / 512 * 512 : (bytes + step - 1) / step * step;
}

void releaseCache() {
  for (auto& entry : al.cache) cudaFree(entry.second);
  al.cache.clear();
  al.cached = 0;
}

}  // namespace
}  // namespace lwz

using namespace lwz;

extern "C" {

void* lwz_alloc(size_t bytes) {
  if (requireInit("alloc")) return nullptr;
  const size_t size = sizeClass(bytes);
  auto hit = al.cache.find(size);
  void* ptr = nullptr;
  if (hit != al.cache.end()) {
    ptr = hit->second;
    al.cache.erase(hit);
    al.cached -= size;
  } else {
    cudaError_t err = cudaMalloc(&ptr, size);
    if (err == cudaErrorMemoryAllocation && al.cached > 0) {
      cudaGetLastError();
      releaseCache();
      err = cudaMalloc(&ptr, size);
    }
    if (err != cudaSuccess) {
      cudaGetLastError();
      fail("alloc", "cudaMalloc of %zu bytes failed: %s (%zu bytes in use, %zu cached)", size, cudaGetErrorString(err), al.inUse, al.cached);
      return nullptr;
    }
    al.mallocs++;
  }
  al.live[ptr] = size;
  al.inUse += size;
  return ptr;
}

int lwz_free(void* ptr) {
  if (!ptr) return 0;
  auto it = al.live.find(ptr);
  if (it == al.live.end()) return fail("free", "%p was not allocated by lwz_alloc (or was freed twice)", ptr);
  al.cache.emplace(it->second, ptr);
  al.cached += it->second;
  al.inUse -= it->second;
  al.live.erase(it);
  return 0;
}

int lwz_empty_cache(void) {
  if (requireInit("emptyCache")) return -1;
  releaseCache();
  return checkCuda(cudaGetLastError(), "emptyCache", "cudaFree");
}

int lwz_memory_stats(size_t* in_use, size_t* cached, size_t* mallocs) {
  *in_use = al.inUse;
  *cached = al.cached;
  *mallocs = al.mallocs;
  return 0;
}

}  // extern "C"
