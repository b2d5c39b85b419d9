// Transparent huge pages for large host memory (#10, #15). The big tensors (weights, KV caches, optimizer
// state, large activations) are streamed from memory; with 4 KiB pages each 2 MiB of them needs 512 TLB
// entries, and in a virtual machine each TLB miss is a two-dimensional page walk. Measured on a Zen 3 KVM guest
// with THP in `madvise` mode: a 400 MiB read ran at 8.8-9.8 GB/s on 4 KiB pages, 10.0-12.5 GB/s on 2 MiB pages.
// In `madvise` mode (a common distribution default) only ranges marked MADV_HUGEPAGE get huge pages, and the
// mark must come before the first touch: a page faulted in as 4 KiB stays so until khugepaged collapses it,
// minutes later. So the cpu backend asks for the mark right after allocating a large ArrayBuffer (backend.ts),
// and the scratch buffers get it here. LWZ_HUGEPAGES=0 turns all of it off (A/B measurement); off Linux, or
// with THP `never`, the calls do nothing. An madvise error is ignored: the memory works either way.
#include <node_api.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#if defined(__linux__)
#include <malloc.h>
#include <sys/mman.h>
#endif

#include "common.h"
#include "kernels.h"
#include "napi_args.h"

namespace lwz {

static bool gHuge = false;
static char gThp[16] = "none";

// The kernel's THP mode: the bracketed word of /sys/kernel/mm/transparent_hugepage/enabled, "none" without it.
static void readThpMode() {
  std::FILE* f = std::fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
  if (!f) return;
  char line[128] = {0};
  if (std::fgets(line, sizeof line, f)) {
    const char* open = std::strchr(line, '[');
    const char* close = open ? std::strchr(open, ']') : nullptr;
    if (open && close && close - open - 1 < static_cast<long>(sizeof gThp)) {
      std::memcpy(gThp, open + 1, static_cast<size_t>(close - open - 1));
      gThp[close - open - 1] = '\0';
    }
  }
  std::fclose(f);
}

void initHugePages() {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  readThpMode();
  const char* env = std::getenv("LWZ_HUGEPAGES");
  gHuge = !(env && std::strcmp(env, "0") == 0) && std::strcmp(gThp, "never") != 0 && std::strcmp(gThp, "none") != 0;
  // glibc serves a large calloc (V8's zero-filled ArrayBuffer) with a fresh mmap, untouched, so the mark lands
  // before the first touch; but once an mmapped block is freed it raises that threshold to the block's size (up
  // to 32 MiB), and blocks below it then come from the heap, memset by calloc (touched). Fixing the threshold at
  // one huge page keeps most such blocks fresh mappings and spares that memset; malloc still hands out a large
  // block from its heap when a free one fits, which adviseHuge handles.
  if (gHuge) mallopt(M_MMAP_THRESHOLD, static_cast<int>(kHugePage));
#endif
}

bool hugePages() { return gHuge; }
const char* thpMode() { return gThp; }

size_t adviseHuge(void* p, size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (!gHuge) return 0;
  const uintptr_t lo = (reinterpret_cast<uintptr_t>(p) + kHugePage - 1) & ~(kHugePage - 1);
  const uintptr_t hi = (reinterpret_cast<uintptr_t>(p) + bytes) & ~(kHugePage - 1);
  if (hi <= lo) return 0;
  if (madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_HUGEPAGE) != 0) return 0;
  // Memory malloc recycled from its heap (a free block that fits, or the top of the heap) was touched before,
  // by an earlier user or by calloc's memset, and its 4 KiB pages would stay 4 KiB: the mark alone gave a 12 MiB
  // tensor no huge page at all after some heap churn. Dropping the range's pages makes it read as zeros again
  // and lets the first touch fault in huge pages; on a fresh mapping there is nothing to drop. So the range
  // must hold nothing the caller needs (a new zero-filled ArrayBuffer, a scratch block).
  madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_DONTNEED);
  return hi - lo;
#else
  (void)p;
  (void)bytes;
  return 0;
#endif
}

float* allocFloats(size_t floats) {
  const size_t bytes = static_cast<size_t>(roundUp(static_cast<long>(floats * sizeof(float)), 64));
  const size_t align = bytes >= kHugePage ? kHugePage : 64;
  float* p = static_cast<float*>(std::aligned_alloc(align, static_cast<size_t>(roundUp(static_cast<long>(bytes), static_cast<long>(align)))));
  if (!p) std::abort();
  if (align == kHugePage) adviseHuge(p, bytes);
  return p;
}

// (buffer, offset, bytes) -> bytes marked: the whole 2 MiB pages of [offset, offset + bytes) of the ArrayBuffer
// get MADV_HUGEPAGE and lose their pages (adviseHuge: a fresh zero-filled buffer reads the same); 0 when huge
// pages are off (LWZ_HUGEPAGES=0, THP never, not Linux) or madvise refused.
napi_value adviseHugePages(napi_env env, napi_callback_info info) {
  Args in(env, info, "adviseHugePages");
  const double offset = in.num(1), bytes = in.num(2);
  void* data = nullptr;
  size_t len = 0;
  if (in.ok && (in.argc < 1 || napi_get_arraybuffer_info(env, in.argv[0], &data, &len) != napi_ok)) in.fail(0, "an ArrayBuffer");
  if (!in.ok) return nullptr;
  if (offset < 0 || bytes < 0 || offset + bytes > static_cast<double>(len)) return number(env, 0);
  return number(env, static_cast<double>(adviseHuge(static_cast<char*>(data) + static_cast<size_t>(offset), static_cast<size_t>(bytes))));
}

// (buffer) -> kB of the ArrayBuffer's range that sit in huge pages now (AnonHugePages of the mappings it
// overlaps in /proc/self/smaps, clipped to the range), or -1 where smaps cannot be read. For tests and checks:
// a huge page is counted only once touched.
napi_value hugePageKb(napi_env env, napi_callback_info info) {
  Args in(env, info, "hugePageKb");
  void* data = nullptr;
  size_t len = 0;
  if (in.argc < 1 || napi_get_arraybuffer_info(env, in.argv[0], &data, &len) != napi_ok) in.fail(0, "an ArrayBuffer");
  if (!in.ok) return nullptr;
  std::FILE* f = std::fopen("/proc/self/smaps", "r");
  if (!f) return number(env, -1);
  const uintptr_t lo = reinterpret_cast<uintptr_t>(data), hi = lo + len;
  char line[512];
  bool inside = false;
  uintptr_t vlo = 0, vhi = 0;
  double kb = 0;
  while (std::fgets(line, sizeof line, f)) {
    unsigned long a = 0, b = 0;
    long v = 0;
    if (std::sscanf(line, "%lx-%lx ", &a, &b) == 2) {  // a mapping's header line
      vlo = a;
      vhi = b;
      inside = vlo < hi && vhi > lo;
    } else if (inside && std::sscanf(line, "AnonHugePages: %ld kB", &v) == 1) {
      // a mapping wider than the buffer: count at most the part that overlaps it
      const uintptr_t olo = vlo > lo ? vlo : lo, ohi = vhi < hi ? vhi : hi;
      const double cap = static_cast<double>(ohi - olo) / 1024.0;
      kb += static_cast<double>(v) < cap ? static_cast<double>(v) : cap;
    }
  }
  std::fclose(f);
  return number(env, kb);
}

}  // namespace lwz
