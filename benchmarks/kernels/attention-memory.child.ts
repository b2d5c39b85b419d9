// Child process for the attention-memory suite: one attention forward at one T in a fresh process, so the
// peak resident memory it reports belongs to that T alone. Prints one JSON line. Not a suite (no
// .bench.ts suffix): attention-memory.bench.ts spawns it.
// Method (Linux): allocate and fill every input/output tensor, then write "5" to /proc/self/clear_refs
// (resets the peak-RSS mark, VmHWM) and read VmRSS; after the forward, VmHWM - VmRSS is the kernel's
// working memory. Elsewhere: getrusage maxRSS growth, a lower bound (labelled in the output).
import { readFileSync, writeFileSync } from 'node:fs';
import { Rng } from '@lwz/core';
import { getKernel, type Device } from '@lwz/kernels';
import { randomTensor, zerosOn } from './inputs';

function statusKb(field: string): number | null {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

function resetPeak(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return statusKb('VmHWM') !== null;
  } catch {
    return false;
  }
}

function forwardAt(t: number, h: number, hkv: number, d: number, device: Device) {
  const rng = new Rng(5);
  const q = randomTensor([1, t, h, d], rng, device); // (B=1, T, H, D)
  const k = randomTensor([1, t, hkv, d], rng, device); // (B, S=T, Hkv, D)
  const v = randomTensor([1, t, hkv, d], rng, device); // (B, S=T, Hkv, D)
  const qOffset = zerosOn([1], device, 'i32');
  const kvStart = zerosOn([1], device, 'i32');
  const out = zerosOn([1, t, h, d], device); // (B, T, H, D)
  const lse = zerosOn([1, h, t], device); // (B, H, T)
  const tensorBytes = 4 * (2 * t * h * d + 2 * t * hkv * d + h * t + 2);
  const kernel = getKernel('attentionForward', device);
  return { tensorBytes, run: () => kernel({ q, k, v, qOffset, kvStart, scale: 1 / Math.sqrt(d), out, lse }) };
}

const [t, h, hkv, d] = process.argv.slice(2, 6).map(Number);
const device = process.argv[6] as Device;
forwardAt(64, h, hkv, d, device).run(); // load code paths and any thread pool before measuring
(globalThis as { gc?: () => void }).gc?.();
const job = forwardAt(t, h, hkv, d, device);
const exact = resetPeak();
const before = exact ? (statusKb('VmRSS') ?? 0) : process.resourceUsage().maxRSS;
const t0 = performance.now();
job.run();
const ms = performance.now() - t0;
const after = exact ? (statusKb('VmHWM') ?? 0) : process.resourceUsage().maxRSS;
const method = exact ? 'VmHWM after clear_refs - VmRSS' : 'getrusage maxRSS growth (lower bound)';
process.stdout.write(
  JSON.stringify({ working_bytes: (after - before) * 1024, tensor_bytes: job.tensorBytes, forward_ms: ms, method }) +
    '\n',
);
