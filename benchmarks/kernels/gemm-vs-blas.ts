// Standalone: `npx tsx benchmarks/kernels/gemm-vs-blas.ts [rounds] [filter]`. The kernels suite's GEMM/GEMV
// shapes plus the model's own and decode-batch shapes, ours against the system BLAS loaded in the same
// process (LWZ_BLAS, default auto: MKL, OpenBLAS or BLIS) with the same threads, in alternating blocks
// (ours x3, BLAS x3, repeated `rounds` times) so load from other processes hits both alike. Prints the
// median time of each and the median of the per-round ratios (BLAS ms / ours ms, > 1: ours is faster).
// Not a suite: the `--baseline openblas` run of the kernels suite is the C-harness view of the same shapes.
import { machineGemmTuning, nativeCpuDetails, nativeGemmPath, timeAgainstSystemBlas } from '@lwz/kernels';
import { median } from '../rollout/timing';
import { GEMM_SHAPES } from './gemm-shapes';

const rounds = Number(process.argv[2] ?? 5);
const filter = new RegExp(process.argv[3] ?? '.');

const tuning = machineGemmTuning(); // this machine's cached tuning (`nx run kernels:tune`), as the cpu backend applies it
const cpu = nativeCpuDetails();
let library = '';
const rows: string[] = [];
for (const [label, m, k, n, ta, tb] of GEMM_SHAPES.filter(([label]) => filter.test(label))) {
  const ours: number[] = [];
  const blas: number[] = [];
  const ratios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t = timeAgainstSystemBlas(m, n, k, ta, tb, 3);
    if (!t) throw new Error('no system BLAS loaded (install libopenblas-dev, or set LWZ_BLAS=/path/to/libblas.so)');
    library = t.library;
    ours.push(t.oursMs);
    blas.push(t.blasMs);
    ratios.push(t.blasMs / t.oursMs);
  }
  const gflops = (ms: number) => ((2 * m * n * k) / (ms / 1000) / 1e9).toFixed(1);
  const o = median(ours);
  const b = median(blas);
  const path = nativeGemmPath(m, n, k, ta, tb) ?? '';
  rows.push(`| ${label} | ${path} | ${o.toFixed(3)} | ${gflops(o)} | ${b.toFixed(3)} | ${gflops(b)} | ${median(ratios).toFixed(3)}x |`);
}
console.log(
  `gemm-vs-blas: ${library}; ${cpu ? `${cpu.name}, ${cpu.gemm.isa} ${cpu.gemm.mr}x${cpu.gemm.nr} kc=${cpu.gemm.kc} nc=${cpu.gemm.nc} mc=${cpu.gemm.mc}, huge pages ${cpu.hugePages ? 'on' : 'off'} (THP ${cpu.thp})` : ''}; few-columns groups ${tuning ? `${tuning.fewColumnsGroups.join('/')} (${tuning.source === 'cache' ? 'tuned' : 'default'})` : '-'}; ${rounds} rounds`,
);
console.log('| shape | our path | ours ms | ours GFLOP/s | BLAS ms | BLAS GFLOP/s | ratio BLAS/ours (median of rounds) |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
