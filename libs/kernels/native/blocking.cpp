// GEMM cache blocking derived from the detected caches and the register tile (MR x NR), after the analytical
// model of Low, Igual, Smith and Quintana-Orti, "Analytical modeling is enough for high-performance BLIS"
// (TOMS 2016), with its roles mapped to our row-major kernel: the (MR, kc) panel of op(A) is the L1-resident
// operand, (kc, NR) panels of op(B) stream through L1 from a (kc, nc) block in L2, and the (mc, kc) block
// of op(A) sits in L3. One departure, measured (benchmarks/README.md): the paper's kc (the streamed B panel
// also fitting its share of L1 ways: 160 for 12x32 on 32 KiB) ran 5-15% slower than letting the resident A
// panel fill half of L1 (336), as BLIS's own shipped kc=384 for Skylake-X sgemm does. Overrides (tests,
// setGemmBlocking) replace it per ISA; nothing here is tuned to one CPU.
#include "cpuinfo.h"
#include "gemm.h"

namespace lwz {
namespace {

struct Override {
  long kc = 0, nc = 0, mc = 0;
  const char* source = nullptr;
};
Override gOverride[3];
int gFewColumnsGroups[3][kFewColumnsWidths] = {};  // 0: the default

long clampL(long v, long lo, long hi) { return v < lo ? lo : (v > hi ? hi : v); }

}  // namespace

GemmBlocking modelBlocking(const GemmKernels& kk) {
  const CpuInfo& ci = cpuInfo();
  const long mr = kk.mr, nr = kk.nr, f = sizeof(float);
  // L1: the resident (MR, kc) panel of op(A) takes half; the B panels stream past it from L2.
  const long kc = clampL(ci.l1d.bytes / 2 / (mr * f) / 8 * 8, 64, 1024);
  // L2, per thread (hyper-threads on one core split it): one way for C, enough ways for the A panel, the rest
  // holds the (kc, nc) block of op(B).
  const int share = static_cast<int>(minL(maxL(1, ci.l2.sharing), threads()));
  const long l2 = ci.l2.bytes / share, w2 = ci.l2.ways, way2 = maxL(1, l2 / w2);
  const long aWays = ceilDiv(mr * kc * f, way2);
  const long bWays = maxL(1, w2 - 1 - aWays);
  const long nc = clampL(bWays * way2 / (kc * f) / nr * nr, nr, 1 << 16);
  // L3: the share of a shared cache our threads may expect (other cores use the rest), half of it for A.
  const long l3 = ci.l3.bytes * minL(threads(), maxL(1, ci.l3.sharing)) / maxL(1, ci.l3.sharing);
  const long mc = clampL(l3 / 2 / (kc * f) / mr * mr, 4 * mr, 1 << 20);
  return {kc, nc, mc, "model"};
}

GemmBlocking gemmBlocking(Isa v) {
  const Override& o = gOverride[static_cast<int>(v)];
  if (o.kc > 0) return {o.kc, o.nc, o.mc, o.source};
  return modelBlocking(kernelsFor(v));
}

void setGemmBlocking(Isa v, long kc, long nc, long mc, const char* source) {
  const GemmKernels& kk = kernelsFor(v);
  Override& o = gOverride[static_cast<int>(v)];
  if (kc <= 0 || nc <= 0 || mc <= 0) {
    o = Override();
    return;
  }
  o.kc = kc;
  o.nc = roundUp(nc, kk.nr);
  o.mc = roundUp(mc, kk.mr);
  o.source = source;
}

int fewColumnsGroupsAt(Isa v, int i) {
  const int g = gFewColumnsGroups[static_cast<int>(v)][i];
  return g >= 1 ? g : kFewColumnsGroupsDefault;
}

int fewColumnsGroups(Isa v, long nPad) {
  for (int i = 0; i < kFewColumnsWidths; i++)
    if (nPad <= kFewColumnsWidth[i]) return fewColumnsGroupsAt(v, i);
  return kFewColumnsGroupsDefault;
}

void setFewColumnsGroups(Isa v, const int* groups) {
  for (int i = 0; i < kFewColumnsWidths; i++) gFewColumnsGroups[static_cast<int>(v)][i] = groups[i] >= 1 ? groups[i] : 0;
}

}  // namespace lwz
