// Standalone: `npx tsx benchmarks/kernels/sample-ab.ts A.node B.node` (copies of lwz_cpu.node at their own paths).
// The cpu sampler (sampleForward) of two addon builds in one process on 32 rows of 4096 and of 151,936 (Qwen2's
// vocabulary) logits, 6 x uniform [-1, 1]: plain sampling, top-p 0.9 at t 0.8, top-k 50 at t 0.7. 15 rounds
// alternating the order, 20 calls each; prints the medians (ms a call), A / B and whether the ids agree. Not a suite.
import { resolve } from 'node:path';
import { sampleAddonAt } from '@lwz/kernels';
import { median } from '../rollout/timing';
import { lcgFill } from './ab';

const builds = process.argv.slice(2).map((p) => ({ name: p, addon: sampleAddonAt(resolve(p)) }));
if (builds.length !== 2) throw new Error('usage: sample-ab.ts A.node B.node');
for (const b of builds) b.addon.setThreads(Number(process.env.THREADS ?? 2));
for (const [n, v] of [
  [32, 4096],
  [32, 151936],
]) {
  const logits = lcgFill(new Float32Array(n * v), 3).map((x) => 6 * x);
  const uniforms = lcgFill(new Float32Array(n), 5).map((x) => (x + 1) / 2);
  for (const [t, topK, topP] of [
    [1, 0, 1],
    [0.8, 0, 0.9],
    [0.7, 50, 1],
  ]) {
    const ids = builds.map(() => new Int32Array(n));
    const ms: number[][] = builds.map(() => []);
    for (let round = 0; round < 15; round++)
      for (const i of round % 2 ? [1, 0] : [0, 1]) {
        const t0 = performance.now();
        for (let c = 0; c < 20; c++) builds[i].addon.sample(logits, uniforms, ids[i], n, v, t, topK, topP);
        ms[i].push((performance.now() - t0) / 20);
      }
    const [a, b] = ms.map(median);
    const same = ids[0].every((x, i) => x === ids[1][i]);
    console.log(
      `(${n}, ${v}) t ${t} topK ${topK} topP ${topP}: ${a.toFixed(3)} / ${b.toFixed(3)} ms, ${(a / b).toFixed(2)}x, same ids ${same}`,
    );
  }
}
