// Where one decode step's time goes (issue #10): a rollout benchmark model at batch 1, a 32-token prompt
// prefilled, then `steps` decode steps timed plainly (median ms/token) and the same number under
// profileKernels (kernel time summed by name and matmul shape, per step; the rest is JavaScript, allocation
// and the gaps between calls). Not a suite: `npx tsx benchmarks/rollout/profile-decode.ts [model] [steps]`.
import { profileKernels, tensor } from '@lwz/kernels';
import { KvCache, decodeStep, loadModel } from '@lwz/model';
import { benchCheckpoint, benchPrompt } from './models';
import { median } from './timing';

const name = process.argv[2] ?? 'qwen2-100m';
const steps = Number(process.argv[3] ?? 16);
const ck = benchCheckpoint(name);
const model = loadModel(ck.dir);
const cache = new KvCache(model, 1, 64 + 3 * steps);
const ids = (xs: number[]) => tensor(Int32Array.from(xs), [1, xs.length], { dtype: 'i32' });
decodeStep(model, cache, ids(benchPrompt(32, ck.config.vocabSize)), [32]).dispose();
const step = (i: number) => decodeStep(model, cache, ids([100 + i]), [1]).dispose();
for (let i = 0; i < 3; i++) step(i);
const times: number[] = [];
const cpu0 = process.cpuUsage();
for (let i = 0; i < steps; i++) {
  const t0 = performance.now();
  step(i);
  times.push(performance.now() - t0);
}
const cpu = process.cpuUsage(cpu0);
const cpuMs = (cpu.user + cpu.system) / 1000 / steps; // process CPU time: less disturbed by other load than wall time
const prof = profileKernels(() => {
  for (let i = 0; i < steps; i++) step(i);
});
const kernelMs = prof.kernels.reduce((s, k) => s + k.ms, 0);
const per = (ms: number) => (ms / steps).toFixed(3);
const lines = [
  `${name}: ${median(times).toFixed(2)} ms/token plain (median of ${steps}), ${cpuMs.toFixed(2)} CPU ms/token; under the profiler ${per(prof.totalMs)} ms/token, ` +
    `kernels ${per(kernelMs)}, outside kernels ${per(prof.totalMs - kernelMs)}`,
  '',
  '| kernel | calls/token | ms/token | share |',
  '|---|---|---|---|',
  ...prof.kernels.map((k) => `| ${k.label} | ${k.calls / steps} | ${per(k.ms)} | ${((100 * k.ms) / prof.totalMs).toFixed(1)}% |`),
];
process.stdout.write(`${lines.join('\n')}\n`);
cache.dispose();
model.dispose();
