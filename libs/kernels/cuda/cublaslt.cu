// cuBLASLt GEMM, loaded at run time with dlopen so the addon builds, imports and runs where cuBLAS is absent
// (the own tensor-core GEMM takes over). Search order: $LWZ_CUBLASLT (a libcublasLt.so file or the folder holding
// it, e.g. a pip wheel's site-packages/nvidia/cublas/lib), the default library path (soname of this CUDA major,
// then 12), $CUDA_HOME/lib64, /usr/local/cuda/lib64. The few declarations needed are written out below (values
// from cublasLt.h, stable since CUDA 11) because machines without cuBLAS have no cublasLt.h either.
// Row-major is mapped onto cuBLASLt's column-major: out^T (N, M) = op(b)^T op(a)^T.
#include <dlfcn.h>
#include <library_types.h>

#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "common.cuh"
#include "gemm.h"

namespace lwz {
namespace {

// ---- cublasLt.h subset ----
using LtStatus = int;  // cublasStatus_t, 0 = success
struct LtAlgo {
  uint64_t data[8];
};
struct LtHeuristic {
  LtAlgo algo;
  size_t workspaceSize;
  LtStatus state;
  float wavesCount;
  int reserved[4];
};
constexpr int kCompute32F = 68, kCompute32FFast16BF = 75;                              // cublasComputeType_t
constexpr int kDescTransA = 3, kDescTransB = 4;                                       // cublasLtMatmulDescAttributes_t
constexpr int kLayoutBatchCount = 5, kLayoutBatchStride = 6;                          // cublasLtMatrixLayoutAttribute_t
constexpr int kPrefMaxWorkspace = 1, kPrefAlignA = 5, kPrefAlignB = 6, kPrefAlignC = 7, kPrefAlignD = 8;
constexpr int kOpN = 0, kOpT = 1;

struct Lt {
  bool tried = false;
  void* lib = nullptr;
  std::string path, reason;
  void* handle = nullptr;
  void* workspace = nullptr;
  size_t workspaceBytes = size_t(32) << 20;
  size_t version = 0;
  LtStatus (*create)(void**) = nullptr;
  LtStatus (*descCreate)(void**, int, int) = nullptr;
  LtStatus (*descDestroy)(void*) = nullptr;
  LtStatus (*descSet)(void*, int, const void*, size_t) = nullptr;
  LtStatus (*layoutCreate)(void**, int, uint64_t, uint64_t, int64_t) = nullptr;
  LtStatus (*layoutDestroy)(void*) = nullptr;
  LtStatus (*layoutSet)(void*, int, const void*, size_t) = nullptr;
  LtStatus (*prefCreate)(void**) = nullptr;
  LtStatus (*prefDestroy)(void*) = nullptr;
  LtStatus (*prefSet)(void*, int, const void*, size_t) = nullptr;
  LtStatus (*heuristic)(void*, void*, void*, void*, void*, void*, void*, int, LtHeuristic*, int*) = nullptr;
  LtStatus (*matmul)(void*, void*, const void*, const void*, void*, const void*, void*, const void*, const void*, void*, void*, void*,
                     const LtAlgo*, void*, size_t, cudaStream_t) = nullptr;
  size_t (*getVersion)() = nullptr;
  // (types, transposes, sizes, strides, alignments) -> algorithm, or none (no algorithm: use the own GEMM)
  std::map<std::vector<int64_t>, std::pair<bool, LtAlgo>> algos;
};

Lt lt;

std::vector<std::string> candidates() {
  std::vector<std::string> out;
  const char* env = std::getenv("LWZ_CUBLASLT");
  const std::string names[] = {"libcublasLt.so." + std::to_string(CUDART_VERSION / 1000), "libcublasLt.so.12", "libcublasLt.so.13",
                               "libcublasLt.so"};
  if (env && *env) {
    std::string e = env;
    if (e.find(".so") != std::string::npos) out.push_back(e);
    for (const auto& n : names) out.push_back(e + "/" + n);
  }
  for (const auto& n : names) out.push_back(n);
  const char* home = std::getenv("CUDA_HOME");
  for (const std::string& dir : {std::string(home ? home : "/usr/local/cuda") + "/lib64", std::string("/usr/local/cuda/lib64")}) {
    for (const auto& n : names) out.push_back(dir + "/" + n);
  }
  return out;
}

template <typename F>
bool sym(F& fn, const char* name) {
  fn = reinterpret_cast<F>(dlsym(lt.lib, name));
  if (!fn) lt.reason = std::string("symbol ") + name + " missing in " + lt.path;
  return fn != nullptr;
}

bool load() {
  if (lt.tried) return lt.handle != nullptr;
  lt.tried = true;
  if (std::getenv("LWZ_CUBLASLT") && std::string(std::getenv("LWZ_CUBLASLT")) == "off") {
    lt.reason = "disabled by LWZ_CUBLASLT=off";
    return false;
  }
  std::string firstError;
  for (const auto& c : candidates()) {
    lt.lib = dlopen(c.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (lt.lib) {
      lt.path = c;
      break;
    }
    if (firstError.empty()) firstError = dlerror();
  }
  if (!lt.lib) {
    lt.reason = "libcublasLt.so not found (" + firstError + "); set LWZ_CUBLASLT to its file or folder";
    return false;
  }
  bool ok = sym(lt.create, "cublasLtCreate") && sym(lt.descCreate, "cublasLtMatmulDescCreate") &&
            sym(lt.descDestroy, "cublasLtMatmulDescDestroy") && sym(lt.descSet, "cublasLtMatmulDescSetAttribute") &&
            sym(lt.layoutCreate, "cublasLtMatrixLayoutCreate") && sym(lt.layoutDestroy, "cublasLtMatrixLayoutDestroy") &&
            sym(lt.layoutSet, "cublasLtMatrixLayoutSetAttribute") && sym(lt.prefCreate, "cublasLtMatmulPreferenceCreate") &&
            sym(lt.prefDestroy, "cublasLtMatmulPreferenceDestroy") && sym(lt.prefSet, "cublasLtMatmulPreferenceSetAttribute") &&
            sym(lt.heuristic, "cublasLtMatmulAlgoGetHeuristic") && sym(lt.matmul, "cublasLtMatmul") &&
            sym(lt.getVersion, "cublasLtGetVersion");
  if (!ok) return false;
  LtStatus st = lt.create(&lt.handle);
  if (st != 0) {
    lt.handle = nullptr;
    lt.reason = "cublasLtCreate failed with status " + std::to_string(st);
    return false;
  }
  lt.workspace = lwz_alloc(lt.workspaceBytes);
  if (!lt.workspace) lt.workspaceBytes = 0;
  lt.version = lt.getVersion();
  return true;
}

int alignmentOf(const void* p) {
  const auto addr = reinterpret_cast<uintptr_t>(p);
  int a = 256;
  while (a > 1 && addr % a) a >>= 1;
  return a;
}

int cudaType(int dt) { return dt == LWZ_BF16 ? CUDA_R_16BF : CUDA_R_32F; }

/** A layout (rows, cols, ld) column-major, optionally strided-batched. */
void* layout(int dt, int64_t rows, int64_t cols, int64_t ld, int batch, int64_t stride) {
  void* l = nullptr;
  if (lt.layoutCreate(&l, cudaType(dt), uint64_t(rows), uint64_t(cols), ld) != 0) return nullptr;
  if (batch > 1) {
    lt.layoutSet(l, kLayoutBatchCount, &batch, sizeof batch);
    lt.layoutSet(l, kLayoutBatchStride, &stride, sizeof stride);
  }
  return l;
}

/**
 * One column-major call: D (n, m) = op(B)(n, k) op(A)(k, m), where our b is cuBLASLt's A and our a its B. With
 * `run` false it only settles (and caches) the algorithm: 1 when there is one, 0 when not.
 */
int runOne(const GemmArgs& g, const void* a, const void* b, void* out, int64_t m, int batch, bool run = true) {
  const int64_t n = g.n, k = g.k;
  const int compute = g.adt == LWZ_F32 ? kCompute32FFast16BF : kCompute32F;
  const int32_t opA = g.transB ? kOpT : kOpN, opB = g.transA ? kOpT : kOpN;
  const int alA = alignmentOf(b), alB = alignmentOf(a), alC = alignmentOf(out);
  const std::vector<int64_t> key = {g.adt, g.bdt, g.odt, opA, opB, m, n, k, batch, g.bBatched, alA, alB, alC, compute};
  void* desc = nullptr;
  if (lt.descCreate(&desc, compute, CUDA_R_32F) != 0) return 0;
  lt.descSet(desc, kDescTransA, &opA, sizeof opA);
  lt.descSet(desc, kDescTransB, &opB, sizeof opB);
  void* la = g.transB ? layout(g.bdt, k, n, k, batch, g.bBatched ? n * k : 0) : layout(g.bdt, n, k, n, batch, g.bBatched ? n * k : 0);
  void* lb = g.transA ? layout(g.adt, m, k, m, batch, m * k) : layout(g.adt, k, m, k, batch, m * k);
  void* lc = layout(g.odt, n, m, n, batch, m * n);
  int result = 0;
  if (la && lb && lc) {
    auto found = lt.algos.find(key);
    if (found == lt.algos.end()) {
      void* pref = nullptr;
      LtHeuristic h{};
      int returned = 0;
      if (lt.prefCreate(&pref) == 0) {
        const uint64_t ws = lt.workspaceBytes;
        const uint32_t a32 = uint32_t(alA), b32 = uint32_t(alB), c32 = uint32_t(alC);
        lt.prefSet(pref, kPrefMaxWorkspace, &ws, sizeof ws);
        lt.prefSet(pref, kPrefAlignA, &a32, sizeof a32);
        lt.prefSet(pref, kPrefAlignB, &b32, sizeof b32);
        lt.prefSet(pref, kPrefAlignC, &c32, sizeof c32);
        lt.prefSet(pref, kPrefAlignD, &c32, sizeof c32);
        if (lt.heuristic(lt.handle, desc, la, lb, lc, lc, pref, 1, &h, &returned) != 0) returned = 0;
        lt.prefDestroy(pref);
      }
      found = lt.algos.emplace(key, std::make_pair(returned > 0 && h.state == 0, h.algo)).first;
    }
    if (found->second.first && !run) {
      result = 1;
    } else if (found->second.first) {
      const float alpha = g.alpha, beta = g.accumulate ? 1.f : 0.f;
      const LtStatus st = lt.matmul(lt.handle, desc, &alpha, b, la, a, lb, &beta, out, lc, out, lc, &found->second.second, lt.workspace,
                                    lt.workspaceBytes, stream());
      result = st == 0 ? 1 : fail("matmulForward", "cublasLtMatmul failed with status %d (m %lld, n %lld, k %lld, batch %d)", st,
                                  (long long)m, (long long)n, (long long)k, batch);
    }
  }
  if (la) lt.layoutDestroy(la);
  if (lb) lt.layoutDestroy(lb);
  if (lc) lt.layoutDestroy(lc);
  lt.descDestroy(desc);
  return result;
}

size_t elemBytes(int dt) { return dt == LWZ_BF16 ? 2 : 4; }

}  // namespace

std::string gemmEngineDescription() {
  if (load()) {
    return "cuBLASLt " + std::to_string(lt.version / 10000) + "." + std::to_string(lt.version / 100 % 100) + "." +
           std::to_string(lt.version % 100) + " (" + lt.path + "), own tensor-core kernel as fallback";
  }
  return "own tensor-core kernel (cuBLASLt not loaded: " + lt.reason + ")";
}

int gemmCublasLt(const GemmArgs& g) {
  if (!load() || g.adt != g.bdt || g.k == 0) return 0;
  if (g.bBatched || g.batch == 1) return runOne(g, g.a, g.b, g.out, g.m, int(g.batch));
  // b shared by every batch: fold the batch into M when a is (Bt*M, K) row-major, else one call per batch
  if (!g.transA) return runOne(g, g.a, g.b, g.out, g.batch * g.m, 1);
  const char* a = static_cast<const char*>(g.a);
  char* out = static_cast<char*>(g.out);
  const auto aAt = [&](int64_t i) { return a + i * g.m * g.k * elemBytes(g.adt); };
  const auto outAt = [&](int64_t i) { return out + i * g.m * g.n * elemBytes(g.odt); };
  // each batch's pointers may align differently, so each may find no algorithm: settle them all before running
  // any, since a fallback after some batches ran would redo those (and add them twice when accumulating)
  for (int64_t i = 0; i < g.batch; i++) {
    if (runOne(g, aAt(i), g.b, outAt(i), g.m, 1, false) != 1) return 0;
  }
  for (int64_t i = 0; i < g.batch; i++) {
    const int r = runOne(g, aAt(i), g.b, outAt(i), g.m, 1);
    // after a batch ran, the fallback cannot start over
    if (r != 1) return i == 0 ? r : fail("matmulForward", "cuBLASLt stopped after %lld of %lld batches", (long long)i, (long long)g.batch);
  }
  return 1;
}

}  // namespace lwz
