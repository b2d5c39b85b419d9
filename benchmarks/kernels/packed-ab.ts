// Standalone: `npx tsx benchmarks/kernels/packed-ab.ts A.node B.node [rounds] [threads] [filter]`. Two builds of the
// cpu addon (copies of lwz_cpu.node at their own paths) in one process, timed on x W^T with a pre-packed W (the
// rollout's decode matmuls: matmulForward with packedB) in alternating order (A B, then B A, each round). A timing
// is the median of 5 blocks of calls (~5 ms a block); per shape it prints the median over rounds of each build's
// us per call and of A / B (> 1: B is faster). THREADS_B=n: B runs on n threads (the same build at two paths: the
// gain of the second thread). Not a suite; addon-ab.ts times unpacked operands.
import { resolve } from 'node:path';
import { packedMatmulAddonAt } from '@lwz/kernels';
import { median } from '../rollout/timing';

const files = [process.argv[2], process.argv[3]].map((f) => (f ? resolve(f) : ''));
if (!files[0] || !files[1]) throw new Error('usage: packed-ab.ts A.node B.node [rounds] [threads] [filter]');
const rounds = Number(process.argv[4] ?? 6);
const threads = Number(process.argv[5] ?? 2);
const filter = new RegExp(process.argv[6] ?? '.');

/** [label, M, K, N]: x (M, K) @ W^T, W (N, K) packed */
const SHAPES: [string, number, number, number][] = [
  ...[1, 2, 3, 4, 5, 7, 8, 16, 32, 64].map((m): [string, number, number, number] => [`tiny up ${m}x256x704`, m, 256, 704]),
  ['tiny down 8x704x256', 8, 704, 256],
  ['tiny o 8x256x256', 8, 256, 256],
  ['tiny head 8x256x4096', 8, 256, 4096],
  ['tiny up 32x256x704', 32, 256, 704],
  ['tiny down 32x704x256', 32, 704, 256],
  ['tiny head 32x256x4096', 32, 256, 4096],
  ...[2, 4, 8, 16, 32].flatMap((m): [string, number, number, number][] => [
    [`100M qkv ${m}x768x2304`, m, 768, 2304],
    [`100M gate/up ${m}x768x6144`, m, 768, 6144],
    [`100M down ${m}x3072x768`, m, 3072, 768],
  ]),
  ['big 16x4096x4096', 16, 4096, 4096],
  ['big 64x4096x4096', 64, 4096, 4096],
];

function randn(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5) * 2);
}

const pause = new Int32Array(new SharedArrayBuffer(4));
const addons = files.map((f, i) => {
  const addon = packedMatmulAddonAt(f);
  addon.setThreads(i === 1 && process.env.THREADS_B ? Number(process.env.THREADS_B) : threads);
  return addon;
});
console.log(`packed-ab: A ${files[0]}, B ${files[1]}; ${rounds} rounds, ${threads} threads (B: ${process.env.THREADS_B ?? threads})`);
console.log('| shape | A us | B us | A/B (median of rounds) |');
console.log('|---|---|---|---|');
for (const [label, m, k, n] of SHAPES.filter(([l]) => filter.test(l))) {
  const a = randn(m * k, 1);
  const w = randn(n * k, 2);
  const setups = addons.map((addon) => ({ addon, packed: addon.pack(w, n, k), out: new Float32Array(m * n) }));
  const calls = Math.max(5, Math.round(5e-3 / ((m * n * k) / 25e9)));
  const time = (i: number): number => {
    const { addon, packed, out } = setups[i];
    const run = () => addon.matmul(a, w, packed, out, m, n, k);
    for (let c = 0; c < calls; c++) run(); // warm-up: caches and the pool's workers
    const blocks: number[] = [];
    for (let b = 0; b < 5; b++) {
      const t0 = process.hrtime.bigint();
      for (let c = 0; c < calls; c++) run();
      blocks.push(Number(process.hrtime.bigint() - t0) / 1e3 / calls);
    }
    Atomics.wait(pause, 0, 0, 3); // let this build's workers stop spinning before the other build runs
    return median(blocks);
  };
  const us: number[][] = [[], []];
  const ab: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t = [0, 0];
    for (const i of r % 2 ? [1, 0] : [0, 1]) us[i].push((t[i] = time(i)));
    ab.push(t[0] / t[1]);
  }
  const equal = setups[0].out.every((v, i) => v === setups[1].out[i]);
  const f = (x: number, d = 1) => x.toFixed(d);
  console.log(`| ${label} | ${f(median(us[0]))} | ${f(median(us[1]))} | ${f(median(ab), 3)}${equal ? '' : ' (outputs differ!)'} |`);
}
