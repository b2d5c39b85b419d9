// Standalone: `npx tsx benchmarks/kernels/addon-ab.ts A.node B.node [rounds] [filter]`. Two builds of the cpu
// addon (copies of lwz_cpu.node at their own paths, so both load; threads: LWZ_THREADS or the default) in one
// process, timed on GEMV/GEMM shapes in alternating order (A B, then B A, each round) with the addon's own
// blasTime: each call times ours (median of 3 after a warm-up), then the system BLAS (LWZ_BLAS, default auto)
// on the same operands. Prints per shape the median over rounds of A ms / B ms (> 1: B is faster) and of each
// build's BLAS ms / ours ms. Not a suite.
import { resolve } from 'node:path';
import { timeAgainstSystemBlas } from '@lwz/kernels';
import { median } from '../rollout/timing';

const files = [process.argv[2], process.argv[3]].map((f) => (f ? resolve(f) : ''));
if (!files[0] || !files[1]) throw new Error('usage: addon-ab.ts A.node B.node [rounds] [filter]');
const rounds = Number(process.argv[4] ?? 9);
const filter = new RegExp(process.argv[5] ?? '.');
const spec = process.env.LWZ_BLAS?.trim() || 'auto';

/** [label, M, K, N, transA, transB] */
const SHAPES: [string, number, number, number, boolean, boolean][] = [
  ['gemv 1x4096x4096', 1, 4096, 4096, false, false],
  ['gemv 1x4096x4096 Bt', 1, 4096, 4096, false, true],
  // the ~100M model's batch-1 decode GEMVs (layer.ts: q/k/v and gate/up fused); 1.3-18 MiB, so unlike in the
  // decode, where 430 MB of weights stream per token, they are read from L3 here after the first call
  ['100M qkv 1x768x1280 Bt', 1, 768, 1280, false, true],
  ['100M o 1x768x768 Bt', 1, 768, 768, false, true],
  ['100M gate/up 1x768x6144 Bt', 1, 768, 6144, false, true],
  ['100M down 1x3072x768 Bt', 1, 3072, 768, false, true],
  ['100M head 1x768x4096 Bt', 1, 768, 4096, false, true],
  ['gemv 1x3072x768', 1, 3072, 768, false, false],
  ['decode 8x4096x4096 Bt', 8, 4096, 4096, false, true],
  ['decode 16x4096x4096 Bt', 16, 4096, 4096, false, true],
  ['decode 32x4096x4096 Bt', 32, 4096, 4096, false, true],
];
console.log(`addon-ab: A ${files[0]}, B ${files[1]}; ${rounds} rounds`);
console.log('| shape | A ms | B ms | A/B (median of rounds) | BLAS/A | BLAS/B |');
console.log('|---|---|---|---|---|---|');
for (const [label, m, k, n, ta, tb] of SHAPES.filter(([l]) => filter.test(l))) {
  const ms: number[][] = [[], []];
  const vsBlas: number[][] = [[], []];
  const ab: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t: number[] = [0, 0];
    for (const i of r % 2 ? [1, 0] : [0, 1]) {
      const got = timeAgainstSystemBlas(m, n, k, ta, tb, 3, spec, files[i]);
      if (!got) throw new Error(`${files[i]}: no addon or no system BLAS (set LWZ_BLAS, not own)`);
      const { oursMs, blasMs } = got;
      t[i] = oursMs;
      ms[i].push(oursMs);
      vsBlas[i].push(blasMs / oursMs);
    }
    ab.push(t[0] / t[1]);
  }
  const f = (x: number) => x.toFixed(3);
  console.log(
    `| ${label} | ${f(median(ms[0]))} | ${f(median(ms[1]))} | ${f(median(ab))} | ${f(median(vsBlas[0]))} | ${f(median(vsBlas[1]))} |`,
  );
}
