// What the GEMM blocking is derived from: the data-cache hierarchy (size, ways, CPUs sharing each level) and
// a CPU fingerprint (vendor, family, model, name) naming the machine in reports and in tuning caches. Read
// once at load from cpuid (Intel leaf 4, AMD leaf 0x8000001D), else from Linux sysfs, else (AMD) from the legacy
// leaves 0x80000005/6, else conservative defaults. Not a topology library: no NUMA, no core types.
#pragma once

namespace lwz {

struct CacheLevel {
  long bytes = 0;  // total size of one instance
  int ways = 0;    // associativity (0: unknown)
  int sharing = 1; // logical CPUs sharing one instance
};

struct CpuInfo {
  CacheLevel l1d, l2, l3;
  const char* cacheSource = "defaults";  // "cpuid", "sysfs", "cpuid-legacy", "defaults" or "LWZ_CACHES"
  char vendor[13] = {0};
  char name[49] = {0};
  int family = 0, model = 0;
};

/** A byte count such as "32K", "36M" or "2G" (K/M/G are powers of 1024) at the start of s, else -1; *rest (when
 *  given) is set past it: sysfs and LWZ_CACHES values carry more text after the number, LWZ_STREAM_BYTES none. */
long parseBytes(const char* s, const char** rest);

/** The CPU this process runs on (detected once, at load). */
const CpuInfo& cpuInfo();
void detectCpu();

}  // namespace lwz
