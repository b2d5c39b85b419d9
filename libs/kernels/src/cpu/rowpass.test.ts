// The row passes (native/rowpass*.cpp: softmax family, RMSNorm backward) against ref on every instruction set
// this CPU has: rows shorter and longer than a vector and than the 256-value online-max block, lengths that are
// no multiple of 8 or 16, leading -inf blocks, a rising row (the running max moves every block), a logit of 1e4,
// masked (-inf) entries, a constant row, rows holding +inf or only -inf, a row rising 1 per block (its sums
// against the running max pass and fail, in turn, the limit of rowpass_impl.h's one-look blocks); a NaN gives
// NaN (ref's max skips it). Several rows per call: on AVX-512 and AVX2 log-softmax writes each row inside the next row's
// scan, also when that scan stops early (+inf after the all -inf row).
// Tolerances: TOLERANCES (exp, logprobs, norm).
import { Rng } from '@lwz/core';
import {
  entropy,
  logSoftmax,
  rmsnorm,
  rmsnormBackward,
  softmax,
  tensor,
  tokenLogprobs,
  tokenLogprobsBackward,
  tryBackend,
  type Device,
  type HostArray,
  type Tensor,
} from '../index';
import { TOLERANCES } from '../testing/conformance-harness';
import { loadAddon } from './native';

tryBackend('cpu');
const load = loadAddon();
const isas = ['avx512', 'avx2', 'generic'] as const;
const KINDS = 10;

/** (KINDS, v) logits, one row per kind of input. */
function logits(v: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const x = new Float32Array(KINDS * v);
  for (let j = 0; j < v; j++) {
    const r = (k: number) => k * v + j;
    x[r(0)] = rng.normal() * 30;
    x[r(1)] = j % 3 === 1 ? -Infinity : rng.normal() * 4;
    x[r(2)] = j < 300 ? -Infinity : rng.normal();
    x[r(3)] = j * 0.05 + rng.normal() * 0.1;
    x[r(4)] = j === v - 1 ? 1e4 : rng.normal() * 4;
    x[r(5)] = -Infinity;
    x[r(6)] = j === v >> 1 ? Infinity : rng.normal();
    x[r(7)] = 2.5;
    x[r(8)] = rng.normal() * 1e-3;
    x[r(9)] = (j >> 8) + rng.normal();
  }
  return x;
}

function run(device: Device, v: number, seed: number): { exp: HostArray[]; logprobs: HostArray[] } {
  const x = tensor(logits(v, seed), [KINDS, v], { device });
  const targets = tensor(
    Int32Array.from({ length: KINDS }, (_, k) => (k === 2 ? -1 : (k * 7919) % v)),
    [KINDS],
    { device, dtype: 'i32' },
  );
  const { logprobs, lse } = tokenLogprobs(x, targets);
  const dLogprobs = tensor(
    Float32Array.from({ length: KINDS }, (_, k) => 0.5 - k / KINDS),
    [KINDS],
    { device },
  );
  const dLogits = tokenLogprobsBackward(dLogprobs, x, targets, lse);
  const f = (...ts: Tensor[]) => ts.map((t) => t.toHost());
  return { exp: f(softmax(x)), logprobs: f(logSoftmax(x), logprobs, lse, dLogits, entropy(x)) };
}

/** RMSNorm backward over (n, c): dx and dw accumulated onto a random start. */
function rmsnormBackwardOn(device: Device, n: number, c: number): HostArray[] {
  const rng = new Rng(n * 31 + c);
  const randn = (shape: number[], scale = 1) =>
    tensor(
      Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal() * scale),
      shape,
      { device },
    );
  const x = randn([n, c], 2);
  const w = randn([c]);
  const dw = randn([c]);
  const { rstd } = rmsnorm(x, w, 1e-6);
  const { dx } = rmsnormBackward(randn([n, c]), x, w, rstd, dw);
  return [dx.toHost(), dw.toHost()];
}

if (!('addon' in load)) {
  it.skip(`cpu row passes: ${load.error}`, () => undefined);
} else {
  const addon = load.addon;
  const detected = addon.info().detectedIsa;
  const usable = isas.slice(isas.indexOf(detected as (typeof isas)[number]));
  const lengths = [1, 15, 17, 256, 257, 1000, 4099, 9001];
  const want = new Map(lengths.map((v) => [v, run('ref', v, v)]));

  afterAll(() => {
    addon.setIsa(detected as (typeof isas)[number]);
  });

  describe.each(usable)('softmax-family row passes on %s', (isa) => {
    it.each(lengths)('rows of %i: softmax, logSoftmax, tokenLogprobs fwd/bwd, entropy match ref', (v) => {
      expect(addon.setIsa(isa)).toBe(true);
      const got = run('cpu', v, v);
      const ref = want.get(v);
      if (!ref) throw new Error(`no ref result for ${v}`);
      got.exp.forEach((g, i) => expect(g).toBeAllClose(ref.exp[i], TOLERANCES.exp.f32));
      got.logprobs.forEach((g, i) => expect(g).toBeAllClose(ref.logprobs[i], TOLERANCES.logprobs.f32));
    });

    it.each([
      [1, 7],
      [37, 1000],
      [70, 4099],
    ])('rmsnorm backward (%i, %i): dx and dw match ref', (n, c) => {
      expect(addon.setIsa(isa)).toBe(true);
      const ref = rmsnormBackwardOn('ref', n, c);
      rmsnormBackwardOn('cpu', n, c).forEach((g, i) => expect(g).toBeAllClose(ref[i], TOLERANCES.norm.f32));
    });

    // dx over dy or x (in place) must leave dx and dw bit for bit as a separate dx: the dw terms read dy and x
    // before dx overwrites them (rmsnorm.cpp: AVX-512 sums them in a column pass after the rows' passes, which it
    // may only do out of place). 40 rows cross the 16-row dw blocks.
    it.each([7, 16, 33, 1000])('rmsnorm backward (40, %i) in place: dx and dw bit for bit as out of place', (c) => {
      expect(addon.setIsa(isa)).toBe(true);
      const n = 40;
      const rng = new Rng(c);
      const randoms = (len: number, scale: number) => Float32Array.from({ length: len }, () => rng.normal() * scale);
      const [dy, x, w, dw0] = [randoms(n * c, 1), randoms(n * c, 2), randoms(c, 1), randoms(c, 1)];
      const rstd = Float32Array.from({ length: n }, (_, r) => 0.25 + r / 32);
      const call = (into: 'dx' | 'dy' | 'x') => {
        const [g, xs, dw] = [dy.slice(), x.slice(), dw0.slice()];
        const dx = into === 'dy' ? g : into === 'x' ? xs : new Float32Array(n * c);
        addon.rmsnormBackward(g, xs, w, rstd, dx, dw, n, c);
        return [dx, dw].map((a) => Array.from(new Uint32Array(a.buffer)));
      };
      const want = call('dx');
      expect(call('dy')).toEqual(want);
      expect(call('x')).toEqual(want);
    });

    // Rows whose max is far from 0: on AVX2 the log-sum-exp's sum terms take x log2e - m log2e in one FMA (V8::SumTerms)
    // only where |max| < 2^20. At 4296772096 (float spacing 512) -m log2e rounded to float is 177 log2e off, so that
    // form would clamp the max's own term; 3e38 would overflow it; 5e5 lies inside the range.
    it.each([
      [4296772096, 512],
      [3e38, 1e37],
      [5e5, 0.03125],
    ])('logits up to %d (steps of %d) match ref: logSoftmax, softmax, log-sum-exp', (at, step) => {
      expect(addon.setIsa(isa)).toBe(true);
      const rng = new Rng(7);
      const v = 700;
      const below = () => at - step * Math.round(Math.abs(rng.normal()) * 3);
      const values = Float32Array.from({ length: 2 * v }, (_, j) => (j === 0 ? at : j >= v && j % 5 === 0 ? -at : below()));
      const on = (device: Device) => {
        const x = tensor(values, [2, v], { device });
        const { lse } = tokenLogprobs(x, tensor(Int32Array.of(0, 1), [2], { device, dtype: 'i32' }));
        return [logSoftmax(x).toHost(), softmax(x).toHost(), lse.toHost()];
      };
      const ref = on('ref');
      const got = on('cpu');
      expect(got[0]).toBeAllClose(ref[0], TOLERANCES.logprobs.f32);
      expect(got[1]).toBeAllClose(ref[1], TOLERANCES.exp.f32);
      expect(got[2]).toBeAllClose(ref[2], TOLERANCES.logprobs.f32);
    });

    // A block after the first rising far above the running max: in the AVX2 sum terms t = (x - m) log2e passes 115
    // (clamped by an integer min) and, from 2^22 on, the rounding by 1.5 2^23 too; the block must fail the one-look limit.
    it.each([200, 1e5, 1e7, 1e30])('a logit %d above the rest in a later block matches ref', (spike) => {
      expect(addon.setIsa(isa)).toBe(true);
      const v = 900;
      const values = Float32Array.from({ length: v }, (_, j) => (j === 600 ? spike : j === 700 ? spike - 1 : Math.sin(j)));
      const on = (device: Device) => {
        const x = tensor(values, [1, v], { device });
        const { lse } = tokenLogprobs(x, tensor(Int32Array.of(600), [1], { device, dtype: 'i32' }));
        return [logSoftmax(x).toHost(), lse.toHost()];
      };
      const ref = on('ref');
      on('cpu').forEach((g, i) => expect(g).toBeAllClose(ref[i], TOLERANCES.logprobs.f32));
    });

    it.each([1, 20, 300, 600])('a NaN anywhere in a row of %i gives NaN log-sum-exp, log-softmax and entropy', (v) => {
      expect(addon.setIsa(isa)).toBe(true);
      for (const at of [0, v >> 1, v - 1]) {
        const values = Float32Array.from({ length: v }, (_, j) => (j === at ? NaN : j < 280 ? -Infinity : j));
        const x = tensor(values, [1, v], { device: 'cpu' });
        const { lse } = tokenLogprobs(x, tensor(Int32Array.of(0), [1], { device: 'cpu', dtype: 'i32' }));
        expect([lse.toHost()[0], logSoftmax(x).toHost()[0], entropy(x).toHost()[0]]).toEqual([NaN, NaN, NaN]);
      }
    });
  });
}
