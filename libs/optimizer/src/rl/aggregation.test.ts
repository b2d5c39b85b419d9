// Loss aggregations: hand-computed values, the flat weights against the loop reference over random shapes,
// the registry's errors, and the global normaliser (3 micro-batches sum to the one-piece mini-batch).
import { Rng } from '@lwz/core';
import { aggregate, aggregationNames, getAggregation, lossNormalizer, registerAggregation, rowLengths } from './aggregation';
import { aggregateReference } from './reference';
import { randomLossInput } from './testing';

describe('loss aggregation', () => {
  // 2 rows, T = 4: row 0 has one masked token (value 2), row 1 three (values 1, 2, 3); row 2 is empty
  const mask = Uint8Array.from([0, 1, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0]);
  const values = Float64Array.from([9, 2, 9, 9, 1, 2, 3, 9, 9, 9, 9, 9]);
  const m = { rows: 3, T: 4, mask };
  const norm = lossNormalizer([m], 10);

  it('counts tokens and non-empty rows for the normaliser', () => {
    expect(norm).toEqual({ tokens: 4, sequences: 2, maxLength: 10 });
    expect(Array.from(rowLengths(m))).toEqual([1, 3, 0]);
  });

  it('gives the hand-computed values', () => {
    expect(aggregate('token-mean', values, m, norm)).toBeCloseTo((2 + 1 + 2 + 3) / 4, 14);
    expect(aggregate('seq-mean-token-mean', values, m, norm)).toBeCloseTo((2 / 1 + 6 / 3) / 2, 14);
    expect(aggregate('seq-mean-token-sum-norm', values, m, norm)).toBeCloseTo((2 / 10 + 6 / 10) / 2, 14);
  });

  it('flat weights equal the loop reference over random shapes and seeds', () => {
    for (let seed = 0; seed < 40; seed++) {
      const x = randomLossInput(seed);
      const tm = { rows: x.rows, T: x.T, mask: x.mask };
      const nm = lossNormalizer([tm], 1 + new Rng(seed).int(20));
      if (nm.tokens === 0) continue;
      for (const name of aggregationNames()) {
        const want = aggregateReference(name, x.logprobs, x.rows, x.T, x.mask, nm);
        expect(Math.abs(aggregate(name, x.logprobs, tm, nm) - want)).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(want)));
      }
    }
  });

  it('sums over 3 micro-batches to the one-piece value when the normaliser is global', () => {
    const x = randomLossInput(3, 9, 11);
    const whole = { rows: 9, T: 11, mask: x.mask };
    const parts = [
      [0, 2],
      [2, 7],
      [7, 9],
    ].map(([a, b]) => ({ rows: b - a, T: 11, mask: x.mask.slice(a * 11, b * 11), values: x.logprobs.slice(a * 11, b * 11) }));
    const global = lossNormalizer(parts, 16);
    expect(global).toEqual(lossNormalizer([whole], 16));
    for (const name of aggregationNames()) {
      const one = aggregate(name, x.logprobs, whole, global);
      const summed = parts.reduce((s, p) => s + aggregate(name, p.values, p, global), 0);
      expect(Math.abs(summed - one)).toBeLessThan(1e-12);
    }
    // a per-micro-batch normaliser is caught when it is smaller than this micro-batch's own count...
    expect(() => aggregate('token-mean', parts[1].values, parts[1], { ...global, tokens: 1 })).toThrow(/whole mini-batch/);
    // ...and otherwise gives a different (wrong) mini-batch loss
    const local = parts.reduce((s, p) => s + aggregate('token-mean', p.values, p, lossNormalizer([p])), 0) / parts.length;
    expect(Math.abs(local - aggregate('token-mean', x.logprobs, whole, global))).toBeGreaterThan(1e-6);
  });

  it('names the valid aggregations for an unknown one, refuses duplicates and a missing maxLength', () => {
    expect(() => getAggregation('mean')).toThrow(
      /unknown loss aggregation "mean" \(valid: token-mean, seq-mean-token-mean, seq-mean-token-sum-norm\)/,
    );
    expect(() => registerAggregation('token-mean', () => new Float64Array(0))).toThrow(/already registered/);
    expect(() => aggregate('seq-mean-token-sum-norm', values, m, lossNormalizer([m]))).toThrow(/normalizer.maxLength must be > 0/);
    expect(() => aggregate('token-mean', values.slice(1), m, norm)).toThrow(/values for a \(R, T\) mask/);
  });
});
