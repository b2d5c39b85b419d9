// Helpers of the standalone in-process A/B scripts (kv-layout-ab.ts, rowpass-ab.ts): inputs filled fast, and rounds
// that time every variant in alternating order. Each time is ../model/torch-baseline.ts's timeMs. Not a suite.

/** a filled with LCG values in [-1, 1) from seed (500 M normals would take minutes in JS); returns a. */
export function lcgFill(a: Float32Array, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  for (let i = 0; i < a.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = (s >>> 8) / 8388608 - 1;
  }
  return a;
}

/**
 * `rounds` rounds over `n` variants, the order reversed every other round so load from other processes hits all
 * alike; `measure(i)` times variant i once and returns its ms and its ratio against a baseline timed beside it.
 * Per variant, the rounds' ms and ratios.
 */
export function abRounds(
  rounds: number,
  n: number,
  measure: (i: number) => { ms: number; ratio: number },
): { ms: number[][]; ratios: number[][] } {
  const out = { ms: Array.from({ length: n }, (): number[] => []), ratios: Array.from({ length: n }, (): number[] => []) };
  for (let r = 0; r < rounds; r++) {
    const order = Array.from({ length: n }, (_, i) => i);
    if (r % 2) order.reverse();
    for (const i of order) {
      const { ms, ratio } = measure(i);
      out.ms[i].push(ms);
      out.ratios[i].push(ratio);
    }
  }
  return out;
}
