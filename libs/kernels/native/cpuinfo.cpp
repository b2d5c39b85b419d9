// Cache hierarchy and CPU fingerprint detection (cpuinfo.h). Order: LWZ_CACHES (an override for tests and
// for reproducing another machine's blocking, e.g. "l1d=48K/12,l2=1M/16,l3=36M"; "cpuid-legacy" forces AMD's
// legacy leaves), cpuid's deterministic cache leaves, Linux sysfs, AMD's legacy cache leaves, then defaults
// (32K/8, 1M/8, 8M/16) that are safe on every x86-64 part.
#include "cpuinfo.h"

#include <cpuid.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace lwz {

long parseBytes(const char* s, const char** rest) {
  char* end = nullptr;
  long v = std::strtol(s, &end, 10);
  if (!end || end == s || v < 0) return -1;
  if (*end == 'K' || *end == 'k') v <<= 10, end++;
  else if (*end == 'M' || *end == 'm') v <<= 20, end++;
  else if (*end == 'G' || *end == 'g') v <<= 30, end++;
  if (rest) *rest = end;
  return v;
}

namespace {

CpuInfo gInfo;

void setLevel(CpuInfo& info, int level, const CacheLevel& c) {
  if (level == 1) info.l1d = c;
  if (level == 2) info.l2 = c;
  if (level == 3) info.l3 = c;
}

// Intel leaf 4 and AMD leaf 0x8000001D share one layout: EAX type/level/sharing, EBX ways/partitions/line, ECX sets.
bool fromCpuid(CpuInfo& info, unsigned leaf) {
  bool any = false;
  for (unsigned sub = 0; sub < 16; sub++) {
    unsigned a, b, c, d;
    __cpuid_count(leaf, sub, a, b, c, d);
    const unsigned type = a & 0x1f;
    if (type == 0) break;
    if (type == 2) continue;  // instruction cache
    CacheLevel lv;
    lv.ways = static_cast<int>((b >> 22) + 1);
    lv.bytes = static_cast<long>(lv.ways) * ((b >> 12 & 0x3ff) + 1) * ((b & 0xfff) + 1) * (static_cast<long>(c) + 1);
    lv.sharing = static_cast<int>((a >> 14 & 0xfff) + 1);
    setLevel(info, static_cast<int>(a >> 5 & 7), lv);
    any = true;
  }
  return any && info.l1d.bytes > 0 && info.l2.bytes > 0;
}

long parseSize(const char* s) {
  const long v = parseBytes(s, nullptr);
  return v > 0 ? v : 0;
}

bool readLine(const char* path, char* buf, int len) {
  FILE* f = std::fopen(path, "r");
  if (!f) return false;
  const bool ok = std::fgets(buf, len, f) != nullptr;
  std::fclose(f);
  return ok;
}

// "0-3,8-11" -> 8
int countCpus(const char* list) {
  int n = 0;
  for (const char* p = list; *p && *p != '\n';) {
    char* end = nullptr;
    const long lo = std::strtol(p, &end, 10);
    long hi = lo;
    if (*end == '-') hi = std::strtol(end + 1, &end, 10);
    n += static_cast<int>(hi - lo + 1);
    p = *end == ',' ? end + 1 : end;
    if (end == p && *p != ',') break;
  }
  return n < 1 ? 1 : n;
}

bool fromSysfs(CpuInfo& info) {
  bool any = false;
  for (int idx = 0; idx < 8; idx++) {
    char path[96], buf[256];
    std::snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/type", idx);
    if (!readLine(path, buf, sizeof buf)) break;
    if (std::strncmp(buf, "Instruction", 11) == 0) continue;
    CacheLevel lv;
    std::snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/size", idx);
    if (readLine(path, buf, sizeof buf)) lv.bytes = parseSize(buf);
    std::snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/ways_of_associativity", idx);
    if (readLine(path, buf, sizeof buf)) lv.ways = std::atoi(buf);
    std::snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/shared_cpu_list", idx);
    if (readLine(path, buf, sizeof buf)) lv.sharing = countCpus(buf);
    std::snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/level", idx);
    if (!readLine(path, buf, sizeof buf) || lv.bytes <= 0) continue;
    setLevel(info, std::atoi(buf), lv);
    any = true;
  }
  return any && info.l1d.bytes > 0 && info.l2.bytes > 0;
}

// AMD's legacy cache leaves 0x80000005 (L1d: KiB in ECX[31:24], ways in ECX[23:16]) and 0x80000006 (L2: KiB in
// ECX[31:16]; L3: 512 KiB units in EDX[31:18]; ways as a 4-bit code in bits [15:12] of each). Some hypervisors
// (an Oxide "Turin-like" VM, seen here) zero leaf 0x8000001D and expose no sysfs cache files but fill these.
// The L3 is taken only when its code gives a way count: code 9 says "see 0x8000001D", and then the size field
// is the whole package's L3 (508 MiB on that VM), with no count of the CPUs sharing it.
int amdWays(unsigned code) {
  static const int ways[16] = {0, 1, 2, 3, 4, 6, 8, 0, 16, 0, 32, 48, 64, 96, 128, 0};
  return ways[code & 0xf];
}

bool fromAmdLegacy(CpuInfo& info, unsigned maxExt) {
  if (maxExt < 0x80000006) return false;
  unsigned a, b, c, d;
  __cpuid(0x80000005, a, b, c, d);
  const unsigned l1Ways = c >> 16 & 0xff;
  info.l1d = {static_cast<long>(c >> 24) << 10, l1Ways == 0xff ? 0 : static_cast<int>(l1Ways), 1};
  __cpuid(0x80000006, a, b, c, d);
  info.l2 = {static_cast<long>(c >> 16) << 10, amdWays(c >> 12), 1};
  const int l3Ways = amdWays(d >> 12);
  if (l3Ways > 0 && (d >> 18) > 0) {
    unsigned a8 = 0, b8 = 0, c8 = 0, d8 = 0;
    if (maxExt >= 0x80000008) __cpuid(0x80000008, a8, b8, c8, d8);
    info.l3 = {static_cast<long>(d >> 18) << 19, l3Ways, static_cast<int>((c8 & 0xff) + 1)};
  }
  return info.l1d.bytes > 0 && info.l2.bytes > 0;
}

// "l1d=48K/12,l2=2M/16,l3=36M": each level optional, ways after a slash.
bool fromEnv(CpuInfo& info, const char* spec) {
  char buf[128];
  std::snprintf(buf, sizeof buf, "%s", spec);
  bool any = false;
  for (char* tok = std::strtok(buf, ","); tok; tok = std::strtok(nullptr, ",")) {
    char* eq = std::strchr(tok, '=');
    if (!eq) return false;
    *eq = '\0';
    const int level = std::strcmp(tok, "l1d") == 0 || std::strcmp(tok, "l1") == 0 ? 1 : std::strcmp(tok, "l2") == 0 ? 2
                                                                                  : std::strcmp(tok, "l3") == 0 ? 3 : 0;
    CacheLevel lv;
    lv.bytes = parseSize(eq + 1);
    const char* slash = std::strchr(eq + 1, '/');
    lv.ways = slash ? std::atoi(slash + 1) : 8;
    if (!level || lv.bytes <= 0) return false;
    setLevel(info, level, lv);
    any = true;
  }
  return any;
}

void fingerprint(CpuInfo& info) {
  unsigned a, b, c, d;
  __cpuid(0, a, b, c, d);
  std::memcpy(info.vendor, &b, 4);
  std::memcpy(info.vendor + 4, &d, 4);
  std::memcpy(info.vendor + 8, &c, 4);
  __cpuid(1, a, b, c, d);
  const unsigned base = a >> 8 & 0xf, ext = a >> 20 & 0xff;
  info.family = static_cast<int>(base == 0xf ? base + ext : base);
  info.model = static_cast<int>((a >> 4 & 0xf) | ((base == 0x6 || base == 0xf) ? (a >> 16 & 0xf) << 4 : 0));
  __cpuid(0x80000000, a, b, c, d);
  if (a >= 0x80000004) {
    unsigned regs[12];
    for (unsigned i = 0; i < 3; i++) __cpuid(0x80000002 + i, regs[4 * i], regs[4 * i + 1], regs[4 * i + 2], regs[4 * i + 3]);
    std::memcpy(info.name, regs, 48);
    info.name[48] = '\0';
    // trim the padding some vendors put around the brand string
    char* s = info.name;
    while (*s == ' ') s++;
    std::memmove(info.name, s, std::strlen(s) + 1);
    for (long n = static_cast<long>(std::strlen(info.name)); n > 0 && info.name[n - 1] == ' '; n--) info.name[n - 1] = '\0';
  }
}

}  // namespace

void detectCpu() {
  CpuInfo info;
  fingerprint(info);
  unsigned maxExt = __get_cpuid_max(0x80000000, nullptr), maxStd = __get_cpuid_max(0, nullptr);
  const bool amd = std::strcmp(info.vendor, "AuthenticAMD") == 0 || std::strcmp(info.vendor, "HygonGenuine") == 0;
  const char* env = std::getenv("LWZ_CACHES");
  CpuInfo probe = info;
  if (amd && env && std::strcmp(env, "cpuid-legacy") == 0 && fromAmdLegacy(probe, maxExt)) {
    info = probe;  // forced, so tests and A/B runs can read the legacy leaves where the others answer too
    info.cacheSource = "cpuid-legacy";
  } else if (env && *env && fromEnv(probe, env)) {
    info = probe;
    info.cacheSource = "LWZ_CACHES";
  } else if (((amd && maxExt >= 0x8000001d && fromCpuid(probe, 0x8000001d)) || (!amd && maxStd >= 4 && fromCpuid(probe, 4)))) {
    info = probe;
    info.cacheSource = "cpuid";
  } else {
    probe = info;
    if (fromSysfs(probe)) {
      info = probe;
      info.cacheSource = "sysfs";
    } else if (amd) {
      probe = info;
      if (fromAmdLegacy(probe, maxExt)) {
        info = probe;
        info.cacheSource = "cpuid-legacy";
      }
    }
  }
  if (info.l1d.bytes <= 0) info.l1d = {32 << 10, 8, 1};
  if (info.l2.bytes <= 0) info.l2 = {1 << 20, 8, 1};
  if (info.l3.bytes <= 0) info.l3 = {8 << 20, 16, 1};
  if (info.l1d.ways <= 0) info.l1d.ways = 8;
  if (info.l2.ways <= 0) info.l2.ways = 8;
  gInfo = info;
}

const CpuInfo& cpuInfo() { return gInfo; }

}  // namespace lwz
