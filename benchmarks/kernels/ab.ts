// Helpers of the standalone in-process A/B scripts (kv-layout-ab.ts, rowpass-ab.ts): inputs filled fast and a
// median time per call. Not a suite.
import { median } from '../rollout/timing';

/** a filled with LCG values in [-1, 1) from seed (500 M normals would take minutes in JS); returns a. */
export function lcgFill(a: Float32Array, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  for (let i = 0; i < a.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = (s >>> 8) / 8388608 - 1;
  }
  return a;
}

/** Median ms of `reps` calls of f after one warm-up call. */
export function medianMs(f: () => void, reps: number): number {
  f();
  const ms: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    f();
    ms.push(performance.now() - t0);
  }
  return median(ms);
}
