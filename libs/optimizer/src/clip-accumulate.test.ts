import { tensor } from '@lwz/kernels';
import { clipGradNorm, globalGradNorm } from './clip';
import { GradientAccumulator } from './accumulate';

const f32 = (xs: number[]) => tensor(Float32Array.from(xs), [xs.length], { device: 'ref' });

describe('clipGradNorm', () => {
  it('scales every grad by maxNorm / norm when the global norm is above maxNorm', () => {
    const grads = [f32([3, 4]), f32([12])]; // norm sqrt(9 + 16 + 144) = 13
    expect(globalGradNorm(grads)).toBe(13);
    const r = clipGradNorm(grads, 6.5);
    expect(r).toEqual({ norm: 13, scale: 6.5 / (13 + 1e-6), clipped: true, finite: true });
    expect([...grads[0].f32, ...grads[1].f32]).toBeAllClose([1.5, 2, 6], { rtol: 1e-6 });
    expect(globalGradNorm(grads)).toBeCloseTo(6.5, 5);
  });

  it('leaves grads alone below the limit, when disabled, and when the norm is not finite', () => {
    const g = [f32([3, 4])];
    expect(clipGradNorm(g, 10).clipped).toBe(false);
    expect(clipGradNorm(g, 0)).toEqual({ norm: 5, scale: 1, clipped: false, finite: true });
    expect([...g[0].f32]).toEqual([3, 4]);
    const bad = [f32([Number.NaN, 1])];
    expect(clipGradNorm(bad, 1).finite).toBe(false);
    expect(bad[0].f32[1]).toBe(1);
  });
});

describe('GradientAccumulator', () => {
  it('sums micro-batch grads and divides by micro-batch count or token count', () => {
    const buf = f32([Number.NaN, 9]); // stale contents are cleared on construction
    const acc = new GradientAccumulator([buf]);
    acc.add([f32([1, 2])], 2);
    acc.add([f32([3, 4])], 6);
    expect([...buf.f32]).toEqual([4, 6]);
    expect(acc.finish('micro-batches')).toEqual({ microBatches: 2, tokens: 8 });
    expect([...buf.f32]).toEqual([2, 3]);
    acc.zero();
    acc.add([f32([1, 2])], 2);
    acc.add([f32([3, 4])], 6);
    acc.finish('tokens');
    expect([...buf.f32]).toEqual([0.5, 0.75]);
    expect(() => acc.add([f32([1])], 1)).toThrow(/does not match its buffer/);
    acc.zero();
    expect(() => acc.finish('tokens')).toThrow(/nothing accumulated/);
  });
});
