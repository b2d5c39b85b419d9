// Raw tensor-core helpers for the register-resident kernels: mma.sync.m16n8k16 (bf16 in, f32 accumulate) and
// bf16x2 packing. Fragment layouts (PTX ISA, "Matrix Fragments for mma.m16n8k16 with floating point type"),
// with g = lane / 4 and t = lane % 4:
//   A (16x16, row): reg0 = A[g][2t, 2t+1], reg1 = A[g+8][2t, 2t+1], reg2 = A[g][2t+8, +9], reg3 = A[g+8][2t+8, +9]
//   B (16x8, col):  reg0 = B[2t, 2t+1][g], reg1 = B[2t+8, 2t+9][g]
//   C (16x8, f32):  c0, c1 = C[g][2t, 2t+1], c2, c3 = C[g+8][2t, 2t+1]
// (lower 16 bits of a register hold the lower column / row index). So the C fragments of two adjacent n-tiles
// are exactly the A fragment of the next product: P stays in registers between QK^T and PV.
#pragma once
#include "common.cuh"

namespace lwz {

__device__ __forceinline__ uint32_t packBf16(float lo, float hi) {
  const __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
  return *reinterpret_cast<const uint32_t*>(&v);
}

/** Two consecutive bf16 in shared memory as one register (4-byte aligned address). */
__device__ __forceinline__ uint32_t ld2(const bf16* p) { return *reinterpret_cast<const uint32_t*>(p); }

/** c += a b for one m16n8k16 tile. */
__device__ __forceinline__ void mma16816(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

/** The A fragment of rows [r0, r0 + 16), columns [c0, c0 + 16) of a row-major bf16 matrix in shared memory. */
__device__ __forceinline__ void loadA(uint32_t (&a)[4], const bf16* m, int ld, int r0, int c0, int lane) {
  const int g = lane >> 2, t = lane & 3;
  const bf16* p = m + (r0 + g) * ld + c0 + 2 * t;
  a[0] = ld2(p);
  a[1] = ld2(p + 8 * ld);
  a[2] = ld2(p + 8);
  a[3] = ld2(p + 8 * ld + 8);
}

/**
 * The B fragment of the 16x8 block B[k0 .. k0+16)[n0 .. n0+8) where B is stored transposed, Bt[n][k] row-major
 * (so the pairs B[2t, 2t+1][g] are adjacent): reg0 = Bt[n0+g][k0+2t..], reg1 = Bt[n0+g][k0+2t+8..].
 */
__device__ __forceinline__ void loadBt(uint32_t& b0, uint32_t& b1, const bf16* bt, int ld, int n0, int k0, int lane) {
  const int g = lane >> 2, t = lane & 3;
  const bf16* p = bt + (n0 + g) * ld + k0 + 2 * t;
  b0 = ld2(p);
  b1 = ld2(p + 8);
}

}  // namespace lwz
