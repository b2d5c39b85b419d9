// The cpu RoPE's cos/sin table (native/rope.cpp): built once per distinct position when positions repeat, and
// the last table per direction kept for the next call. A run of calls that change one key at a time (theta,
// direction, first position, span, head dim), and repeat one, must each match ref's float64 rotation; so must a
// table too large to keep, a kept one used after it, and the head dims rope.cpp compiles its own loops for (in
// place and not). Not a timing test.
import { ropeArrays } from '../ref/rope';
import { tryBackend } from '../index';
import { loadAddon } from './native';

tryBackend('cpu');
const load = loadAddon();

interface Call {
  b: number;
  t: number;
  h: number;
  d: number;
  lo: number;
  theta: number;
  inverse: boolean;
}

/**
 * Largest |ours - ref| / (1 + |ref|) of one call on x (B, T, H, D) at positions lo + t for every batch row, over
 * the first and last `sample` tokens (ref in JS is slow on millions; those ends hold the table's first and last
 * positions).
 */
function worstError(
  call: Call,
  rope: (x: Float32Array, pos: Int32Array, out: Float32Array) => void,
  seed: number,
  sample = Infinity,
): number {
  const { b, t, h, d, lo, theta, inverse } = call;
  const x = new Float32Array(b * t * h * d); // (B, T, H, D): a cheap hash in [-1, 1), one per seed
  for (let i = 0; i < x.length; i++) x[i] = (Math.imul(i + 1, 2654435761 + 2 * seed) >>> 8) / 8388608 - 1;
  const pos = new Int32Array(b * t); // (B, T): the span lo .. lo + T - 1 repeats B times
  for (let i = 0; i < pos.length; i++) pos[i] = lo + (i % t);
  const ours = new Float32Array(x.length);
  rope(x, pos, ours);
  const k = Math.min(sample, b * t);
  let worst = 0;
  for (const t0 of [0, b * t - k]) {
    const span = (a: Float32Array) => a.subarray(t0 * h * d, (t0 + k) * h * d);
    const want = new Float64Array(k * h * d);
    ropeArrays(span(x), pos.subarray(t0, t0 + k), want, { b: 1, t: k, h, d }, theta, inverse);
    const got = span(ours);
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i])));
  }
  return worst;
}

if (!('addon' in load)) {
  it.skip(`cpu rope table: ${load.error}`, () => undefined);
} else {
  const addon = load.addon;
  const run = (c: Call, seed: number, sample?: number) =>
    worstError(c, (x, pos, out) => addon.ropeForward(x, pos, out, c.b, c.t, c.h, c.d, c.theta, c.inverse), seed, sample);
  const base: Call = { b: 4, t: 6, h: 3, d: 16, lo: 0, theta: 10000, inverse: false };

  it('matches ref over calls that change one table key at a time (each repeats its positions: the table path)', () => {
    const calls: [string, Call][] = [
      ['first', base],
      ['same key again', base],
      ['theta', { ...base, theta: 1e6 }],
      ['inverse', { ...base, theta: 1e6, inverse: true }],
      ['forward again after inverse', { ...base, theta: 1e6 }],
      ['first position', { ...base, theta: 1e6, lo: 3 }],
      ['span', { ...base, theta: 1e6, lo: 3, t: 9 }],
      ['head dim', { ...base, theta: 1e6, lo: 3, t: 9, h: 6, d: 8 }],
    ];
    const errors = calls.map(([name, call], i) => [name, run(call, i)] as const);
    expect(errors.filter(([, error]) => !(error < 1e-5))).toEqual([]);
  });

  it('matches ref at the head dims with their own compiled loops (64, 128) and beside them (96), in place too', () => {
    const errors: [string, number][] = [];
    for (const d of [64, 128, 96])
      for (const inverse of [false, true]) {
        const call: Call = { b: 2, t: 5, h: 3, d, lo: 11, theta: 1e6, inverse };
        errors.push([`D ${d} inverse ${inverse}`, run(call, d)]);
        // in place: out is x itself (each element reads x[i], x[i + D/2] before either is written)
        const inPlace = (x: Float32Array, pos: Int32Array, out: Float32Array) => {
          const y = x.slice();
          addon.ropeForward(y, pos, y, call.b, call.t, call.h, call.d, call.theta, call.inverse);
          out.set(y);
        };
        errors.push([`D ${d} inverse ${inverse} in place`, worstError(call, inPlace, d + 1)]);
      }
    expect(errors.filter(([, error]) => !(error < 1e-5))).toEqual([]);
  });

  it('matches ref with a table too large to keep (2 span D/2 > 2^22 floats), and with the kept one after it', () => {
    const big: Call = { b: 2, t: (1 << 21) + 5, h: 1, d: 2, lo: 7, theta: 500, inverse: false };
    expect(run(base, 1)).toBeLessThan(1e-5);
    expect(run(big, 2, 4096)).toBeLessThan(1e-5);
    expect(run(base, 3)).toBeLessThan(1e-5);
  });
}
