// Child process for the model-memory suite: one forward (saving activations) + backward of the tiny preset
// at B=1 and the given T, with or without per-layer recomputation, in a fresh process so its peak resident
// memory is its own. Prints one JSON line {peak_bytes, saved_bytes, step_ms, method}. Not a suite.
// Method (Linux): after the weights, grads and inputs exist, write "5" to /proc/self/clear_refs (resets
// VmHWM) and report VmHWM after the step minus VmRSS before it; elsewhere maxRSS growth (a lower bound).
import { Rng } from '@lwz/core';
import { tensor, type Device } from '@lwz/kernels';
import { initModel, modelPreset } from '@lwz/model';
import { resetPeak, statusKb } from '../proc-status';

const T = Number(process.argv[2]);
const recompute = process.argv[3] === 'recompute';
const device = process.argv[4] as Device;
const config = modelPreset('tiny');
const rng = new Rng(3);
const model = initModel(config, rng, device, { recompute });
const ids = tensor(
  Int32Array.from({ length: T }, () => rng.int(config.vocabSize)),
  [1, T],
  { device, dtype: 'i32' },
);
const targets = tensor(
  Int32Array.from({ length: T }, (_, t) => (t + 1 < T ? rng.int(config.vocabSize) : -1)),
  [1, T],
  { device, dtype: 'i32' },
);
const weights = tensor(new Float32Array(T).fill(-1 / T), [1, T], { device });
for (const p of model.trainableParams()) p.grad = tensor(new Float32Array(p.value.size), p.shape, { device });
(globalThis as { gc?: () => void }).gc?.();
const method = resetPeak() ? 'VmHWM' : 'maxRSS growth (lower bound)';
const before = statusKb('VmRSS') ?? process.resourceUsage().maxRSS;
const t0 = performance.now();
model.forwardLogprobs({ ids, targets }, { grad: true });
const saved = model.savedBytes;
model.backward(weights);
const stepMs = performance.now() - t0;
const peak = method === 'VmHWM' ? (statusKb('VmHWM') ?? 0) : process.resourceUsage().maxRSS;
console.log(JSON.stringify({ peak_bytes: (peak - before) * 1024, saved_bytes: saved, step_ms: stepMs, method }));
