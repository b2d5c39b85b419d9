// Shape rules for matmul, shared by every backend so they agree on what is legal.
import type { Tensor } from '../tensor';

export interface GemmDims {
  batch: number;
  m: number;
  n: number;
  k: number;
  bBatched: boolean;
}

export function gemmDims(a: Tensor, b: Tensor, transA: boolean, transB: boolean): GemmDims {
  if (a.rank < 2 || a.rank > 3 || b.rank < 2 || b.rank > 3) {
    throw new Error(`matmul takes 2-D or 3-D tensors, got [${a.shape.join(', ')}] and [${b.shape.join(', ')}]`);
  }
  const batch = a.rank === 3 ? a.shape[0] : 1;
  const bBatched = b.rank === 3;
  if (bBatched && (a.rank !== 3 || b.shape[0] !== batch)) {
    throw new Error(`matmul batch dims differ: [${a.shape.join(', ')}] and [${b.shape.join(', ')}]`);
  }
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const m = transA ? ac : ar;
  const k = transA ? ar : ac;
  const kb = transB ? bc : br;
  const n = transB ? br : bc;
  if (k !== kb) {
    throw new Error(
      `matmul inner dims differ: a [${a.shape.join(', ')}]${transA ? 'ᵀ' : ''} @ b [${b.shape.join(', ')}]${transB ? 'ᵀ' : ''}`,
    );
  }
  return { batch, m, n, k, bBatched };
}
