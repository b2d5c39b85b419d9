// Standalone: `npx tsx benchmarks/kernels/addon-ab.ts A.node B.node [rounds] [filter]`. Two builds of the cpu
// addon (copies of lwz_cpu.node at their own paths, so both load; threads: LWZ_THREADS or the default) in one
// process, timed on gemm-shapes.ts's shapes in alternating order (A B, then B A, each round) with the addon's
// own blasTime: each call times ours (median of 3 after a warm-up), then the system BLAS (LWZ_BLAS, default
// auto) on the same operands. Prints per shape the median over rounds of A ms / B ms (> 1: B is faster) and of
// each build's BLAS ms / ours ms. Not a suite.
import { resolve } from 'node:path';
import { timeAgainstSystemBlas } from '@lwz/kernels';
import { median } from '../rollout/timing';
import { DECODE_100M_GEMVS, GEMM_SHAPES } from './gemm-shapes';

const files = [process.argv[2], process.argv[3]].map((f) => (f ? resolve(f) : ''));
if (!files[0] || !files[1]) throw new Error('usage: addon-ab.ts A.node B.node [rounds] [filter]');
const rounds = Number(process.argv[4] ?? 9);
// default: the GEMVs and the decode batches up to 32 rows; e.g. 'matmul|model' for the GEMMs
const filter = new RegExp(process.argv[5] ?? '^(gemv |100M |decode (8|16|32)x)');
const spec = process.env.LWZ_BLAS?.trim() || 'auto';

const SHAPES = [...GEMM_SHAPES, ...DECODE_100M_GEMVS];
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
