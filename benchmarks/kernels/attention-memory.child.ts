// Child process for the attention-memory suite: one attention forward at one T in a fresh process, so the
// peak resident memory it reports belongs to that T alone. Prints one JSON line. Not a suite (no
// .bench.ts suffix): attention-memory.bench.ts spawns it.
// Method (Linux): allocate and fill every input and output tensor (untouched zero pages would count as the
// kernel's memory when it first writes them), start a worker thread that samples VmRSS every millisecond,
// write "5" to /proc/self/clear_refs (resets the peak mark VmHWM) and read VmHWM; the kernel's working
// memory is max(VmHWM, sampled VmRSS) after the forward minus that. Elsewhere: getrusage maxRSS growth, a
// lower bound (the output's `method` says which ran).
import { Worker } from 'node:worker_threads';
import { Rng } from '@lwz/core';
import { attention, type Device } from '@lwz/kernels';
import { randomTensor, zerosOn } from './inputs';
import { resetPeak, statusKb } from '../proc-status';

/** Samples VmRSS (kB) every ms on its own thread, so a peak inside a long synchronous kernel call is seen. */
const SAMPLER = `
const { workerData } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
const flags = new Int32Array(workerData, 0, 2); // [stop, started]
const peak = new Float64Array(workerData, 8, 1); // max VmRSS kB
while (Atomics.load(flags, 0) === 0) {
  const m = /^VmRSS:\\s+(\\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
  if (m) peak[0] = Math.max(peak[0], Number(m[1]));
  Atomics.store(flags, 1, 1);
  Atomics.wait(flags, 0, 0, 1);
}`;

function startSampler(): { reset(): void; stop(): Promise<number> } {
  const shared = new SharedArrayBuffer(16);
  const flags = new Int32Array(shared, 0, 2);
  const peak = new Float64Array(shared, 8, 1);
  const worker = new Worker(SAMPLER, { eval: true, workerData: shared });
  while (Atomics.load(flags, 1) === 0) Atomics.wait(flags, 1, 0, 5);
  return {
    reset: () => {
      peak[0] = 0;
    },
    stop: async () => {
      Atomics.store(flags, 0, 1);
      Atomics.notify(flags, 0);
      await worker.terminate();
      return peak[0];
    },
  };
}

function forwardAt(t: number, h: number, hkv: number, d: number, device: Device) {
  const rng = new Rng(5);
  const q = randomTensor([1, t, h, d], rng, device); // (B=1, T, H, D)
  const k = randomTensor([1, t, hkv, d], rng, device); // (B, S=T, Hkv, D)
  const v = randomTensor([1, t, hkv, d], rng, device); // (B, S=T, Hkv, D)
  const qOffset = zerosOn([1], device, 'i32');
  const kvStart = zerosOn([1], device, 'i32');
  const out = randomTensor([1, t, h, d], rng, device); // (B, T, H, D) filled, so its pages are resident before
  const lse = randomTensor([1, h, t], rng, device); // (B, H, T) likewise
  const tensorBytes = 4 * (2 * t * h * d + 2 * t * hkv * d + h * t + 2);
  return { tensorBytes, run: () => attention(q, k, v, { qOffset, kvStart, scale: 1 / Math.sqrt(d), out, lse }) };
}

const [t, h, hkv, d] = process.argv.slice(2, 6).map(Number);
const device = process.argv[6] as Device;
forwardAt(64, h, hkv, d, device).run(); // load code paths and any thread pool before measuring
(globalThis as { gc?: () => void }).gc?.();
const job = forwardAt(t, h, hkv, d, device);
const exact = resetPeak();
const sampler = exact ? startSampler() : null;
if (exact) resetPeak();
const before = exact ? (statusKb('VmHWM') ?? 0) : process.resourceUsage().maxRSS;
sampler?.reset();
const t0 = performance.now();
job.run();
const ms = performance.now() - t0;
const sampled = (await sampler?.stop()) ?? 0;
const after = exact ? Math.max(statusKb('VmHWM') ?? 0, sampled) : process.resourceUsage().maxRSS;
const method = exact ? 'max(VmHWM, 1 ms VmRSS samples) - VmHWM after clear_refs' : 'getrusage maxRSS growth (lower bound)';
const result = { working_bytes: (after - before) * 1024, tensor_bytes: job.tensorBytes, forward_ms: ms, method };
process.stdout.write(JSON.stringify(result) + '\n');
