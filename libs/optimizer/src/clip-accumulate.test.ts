// Clipping and gradient accumulation on every host backend: the clip rule (scale by maxNorm / (norm + 1e-6)
// above maxNorm; 0 and Infinity = off; a non-finite norm scales nothing) and the two accumulation
// normalisations, exact on small integers.
import { availableDevices, globalNorm, tensor } from '@lwz/kernels';
import { clipGradNorm } from './clip';
import { GradientAccumulator } from './accumulate';

// host backends; a device that is required (REQUIRE_NATIVE=1) but missing makes availableDevices() throw
const DEVICES = availableDevices().filter((d) => d !== 'cuda');

describe.each(DEVICES)('on %s', (device) => {
  const f32 = (xs: number[]) => tensor(Float32Array.from(xs), [xs.length], { device });
  const values = (...ts: ReturnType<typeof f32>[]) => ts.flatMap((t) => Array.from(t.toHost()));

  describe('clipGradNorm', () => {
    it('scales every grad by maxNorm / (norm + 1e-6) when the global norm is above maxNorm', () => {
      const grads = [f32([3, 4]), f32([12])]; // norm sqrt(9 + 16 + 144) = 13
      const r = clipGradNorm(grads, 6.5);
      expect(r).toEqual({ norm: 13, scale: 6.5 / (13 + 1e-6), clipped: true, finite: true });
      expect(values(...grads)).toBeAllClose([1.5, 2, 6], { rtol: 1e-6 });
      expect(globalNorm(grads)).toBeCloseTo(6.5, 5);
    });

    it('leaves grads alone below the limit, when off (0 or Infinity), and when the norm is not finite', () => {
      const g = [f32([3, 4])];
      expect(clipGradNorm(g, 10)).toEqual({ norm: 5, scale: 1, clipped: false, finite: true });
      expect(clipGradNorm(g, 0)).toEqual({ norm: 5, scale: 1, clipped: false, finite: true });
      expect(clipGradNorm(g, Infinity)).toEqual({ norm: 5, scale: 1, clipped: false, finite: true });
      expect(values(...g)).toEqual([3, 4]);
      const bad = [f32([Number.NaN, 1])];
      expect(clipGradNorm(bad, 1).finite).toBe(false);
      expect(values(...bad)[1]).toBe(1);
      expect(() => clipGradNorm(g, -1)).toThrow(/maxNorm must be >= 0 \(0 or Infinity disables\)/);
    });

    it('does not clip at exactly maxNorm (the rule is norm > maxNorm) and refuses a NaN maxNorm', () => {
      const g = [f32([3, 4])];
      expect(clipGradNorm(g, 5)).toEqual({ norm: 5, scale: 1, clipped: false, finite: true });
      expect(values(...g)).toEqual([3, 4]);
      expect(() => clipGradNorm(g, Number.NaN)).toThrow(/maxNorm must be >= 0/);
    });
  });

  describe('GradientAccumulator', () => {
    it('sums micro-batch grads and divides by micro-batch count or token count', () => {
      const buf = f32([Number.NaN, 9]); // stale contents are cleared on construction
      const acc = new GradientAccumulator([buf]);
      acc.add([f32([1, 2])], 2);
      acc.add([f32([3, 4])], 6);
      expect(values(buf)).toEqual([4, 6]);
      expect(acc.finish('micro-batches')).toEqual({ microBatches: 2, tokens: 8 });
      expect(values(buf)).toEqual([2, 3]);
      acc.zero();
      acc.add([f32([1, 2])], 2);
      acc.add([f32([3, 4])], 6);
      acc.finish('tokens');
      expect(values(buf)).toEqual([0.5, 0.75]);
      // averaged once: a second finish or a late add is refused, not applied to the average
      expect(() => acc.finish('tokens')).toThrow(/called twice/);
      expect(() => acc.add([f32([1, 2])], 1)).toThrow(/after finish\(\): call zero\(\)/);
      expect(values(buf)).toEqual([0.5, 0.75]);
      acc.zero();
      expect(() => acc.add([f32([1])], 1)).toThrow(/does not match its buffer/);
      expect(() => acc.finish('tokens')).toThrow(/nothing accumulated/);
    });

    it('refuses a token count that is negative or not an integer', () => {
      const acc = new GradientAccumulator([f32([0])]);
      expect(() => acc.add([f32([1])], -1)).toThrow(/tokens must be an integer >= 0, got -1/);
      expect(() => acc.add([f32([1])], 2.5)).toThrow(/tokens must be an integer >= 0, got 2.5/);
    });
  });
});
