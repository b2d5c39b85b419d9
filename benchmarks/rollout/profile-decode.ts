// Where one decode step's time goes (issue #10): a rollout benchmark model at batch B (default 1), a 32-token
// prompt prefilled per row, then `steps` decode steps timed plainly (median ms/step) and the same number under
// profileKernels (kernel time summed by name and matmul shape, per step; the rest is JavaScript, allocation
// and the gaps between calls). Not a suite: `npx tsx benchmarks/rollout/profile-decode.ts [model] [steps] [B] [pack]`;
// `pack`: the weights packed for decode first (ParamStore.packForDecode, as the rollout engine does for B > 1).
import { profileKernels, tensor } from '@lwz/kernels';
import { KvCache, decodeStep, loadModel } from '@lwz/model';
import { benchCheckpoint, benchPrompt } from './models';
import { median } from './timing';

const name = process.argv[2] ?? 'qwen2-100m';
const steps = Number(process.argv[3] ?? 16);
const B = Number(process.argv[4] ?? 1);
const pack = process.argv[5] === 'pack';
const ck = benchCheckpoint(name);
const model = loadModel(ck.dir);
const unpack = pack ? model.store.packForDecode() : null;
const cache = new KvCache(model, B, 64 + 3 * steps);
const ids = (xs: number[], T: number) => tensor(Int32Array.from(xs), [B, T], { dtype: 'i32' });
const prompt = Array.from({ length: B }, (_, b) => benchPrompt(32, ck.config.vocabSize, b)).flat();
decodeStep(model, cache, ids(prompt, 32), new Array<number>(B).fill(32)).dispose();
const ones = new Array<number>(B).fill(1);
const step = (i: number) =>
  decodeStep(
    model,
    cache,
    ids(
      Array.from({ length: B }, (_, b) => (100 + i + b) % (ck.config.vocabSize - 16)),
      1,
    ),
    ones,
  ).dispose();
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
  `${name} B=${B}${pack ? ' packed' : ''}: ${median(times).toFixed(2)} ms/step plain (median of ${steps}), ${cpuMs.toFixed(2)} CPU ms/step; under the profiler ${per(prof.totalMs)} ms/step, ` +
    `kernels ${per(kernelMs)}, outside kernels ${per(prof.totalMs - kernelMs)}`,
  '',
  '| kernel | calls/step | ms/step | share |',
  '|---|---|---|---|',
  ...prof.kernels.map((k) => `| ${k.label} | ${k.calls / steps} | ${per(k.ms)} | ${((100 * k.ms) / prof.totalMs).toFixed(1)}% |`),
];
process.stdout.write(`${lines.join('\n')}\n`);
cache.dispose();
unpack?.();
model.dispose();
