// The GEMMs a batched decode step runs (issue #10): M = 8..64 rows (answers decoded together) against
// 4096 x 4096 and against the projections of the ~107 M benchmark Qwen2 and of `tiny`, as the model calls
// them: out (M, N) = x (M, K) @ W^T with W (N, K) row-major (Hugging Face layout). `--baseline openblas` times
// cblas_sgemm on the same M, K, N (benchmarks/kernels/openblas/harness.c; it multiplies by an untransposed
// (K, N) B, which OpenBLAS packs the same way). Timed through the matmul op with a preallocated output, each
// shape twice: as a plain call, and with W packed once beforehand (`packed`), which is what the rollout runs
// while generating (OpenBLAS has no such mode in its C interface: its side packs on every call).
import { fileURLToPath } from 'node:url';
import { Rng } from '@lwz/core';
import { matmul, packMatmulB, tensor, zeros } from '@lwz/kernels';
import type { BenchSuite, TimedCase } from '../suite';

function randomValues(n: number, rng: Rng): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.next() * 2 - 1;
  return a;
}

/** `packed`: W packed once in setup (packMatmulB), as the rollout holds it while generating. */
function gemmCase(label: string, m: number, k: number, n: number, packed = false): TimedCase {
  return {
    name: `${label} M=${m} ${k}->${n}${packed ? ' packed' : ''}`,
    params: { M: m, K: k, N: n, transB: true, packed },
    work: { amount: 2 * m * n * k, unit: 'FLOP', formula: '2*M*N*K' },
    alsoWork: { amount: 4 * (m * k + k * n + m * n), unit: 'B', formula: '4*(M*K + K*N + M*N)' },
    baseline: { openblas: ['sgemm', String(m), String(k), String(n)] },
    setup() {
      const rng = new Rng(m * 31 + k + n);
      const x = tensor(randomValues(m * k, rng), [m, k]); // (M, K) hidden states of M rows
      const w = tensor(randomValues(n * k, rng), [n, k]); // (N, K) weight, Hugging Face layout
      const out = zeros([m, n]); // (M, N)
      const packedB = packed ? packMatmulB(w, { transB: true }) : null;
      return {
        fn: () => matmul(x, w, { transB: true, out, packedB }),
        dispose: () => [x, w, out, packedB?.data].forEach((t) => t?.dispose()),
      };
    },
  };
}

const ROWS = [8, 16, 32, 64];
/** (label, K, N) of each projection: the ~107 M model (hidden 768, 4 kv heads of 64, FFN 3072), and tiny */
const SHAPES: [string, number, number][] = [
  ['square', 4096, 4096],
  ['100m q/o', 768, 768],
  ['100m k/v', 768, 256],
  ['100m gate/up', 768, 3072],
  ['100m down', 3072, 768],
  ['100m head', 768, 4096],
  ['tiny gate/up', 256, 704],
  ['tiny down', 704, 256],
  ['tiny head', 256, 4096],
];

const suite: BenchSuite = {
  suite: 'decode-gemm',
  description: 'batched decode GEMMs: M rows @ W^T for M = 8..64 (4096^2 and the benchmark models shapes), vs OpenBLAS',
  cases: () => SHAPES.flatMap(([label, k, n]) => ROWS.flatMap((m) => [gemmCase(label, m, k, n), gemmCase(label, m, k, n, true)])),
  baselines: {
    openblas: {
      kind: 'c-harness',
      source: fileURLToPath(new URL('../kernels/openblas/harness.c', import.meta.url)),
      header: 'cblas.h',
      library: 'openblas',
      threadsEnv: 'OPENBLAS_NUM_THREADS',
      install: 'sudo apt-get install libopenblas-dev',
    },
  },
};

export default suite;
