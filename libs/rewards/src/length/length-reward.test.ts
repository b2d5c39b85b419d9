// The length reward at its edges (inside, below, above, caps, [0, 0]) against the formula written out, and
// the target-range rule: row range > prompt wording > predictor, one predictor call per distinct prompt.
import { Rng } from '@lwz/core';
import { DEFAULT_LMAX, lengthCap, lengthReward, lengthRewards } from './length-reward';
import type { LengthPredictor } from './predictor';
import { explicitTargetRange, resolveTargetRanges } from './target-range';

describe('lengthReward', () => {
  const r: [number, number] = [900, 1100];
  it.each([
    ['at lo', 900, 1],
    ['inside', 1000, 1],
    ['at hi', 1100, 1],
    ['empty answer', 0, 0],
    ['half of lo', 450, 0.5],
    ['just below lo', 899, 899 / 900],
    ['just above hi', 1101, (2200 - 1101) / (2200 - 1100)],
    ['halfway to Lmax = 2 hi', 1650, 0.5],
    ['at Lmax', 2200, 0],
    ['beyond Lmax (clipped)', 5000, 0],
  ])('%s: L = %d -> %d', (_, words, expected) => {
    expect(lengthReward(words, r)).toBeCloseTo(expected, 12);
  });

  it('uses a fixed Lmax when configured, and gives 0 above hi when the cap is not above hi', () => {
    expect(lengthReward(1600, r, { rule: 'fixed', words: 12000 })).toBeCloseTo((12000 - 1600) / (12000 - 1100), 12);
    expect(lengthReward(1101, r, { rule: 'fixed', words: 1000 })).toBe(0);
    expect(lengthReward(1650, r, { rule: 'hi-multiple', factor: 3 })).toBeCloseTo((3300 - 1650) / 2200, 12);
    expect(lengthCap(r, DEFAULT_LMAX)).toBe(2200);
  });

  it('gives 1 at exactly lo and at exactly hi, whatever the cap (a fixed cap below hi included)', () => {
    for (const lmax of [DEFAULT_LMAX, { rule: 'fixed', words: 1000 }] as const) {
      expect(lengthReward(900, r, lmax)).toBe(1);
      expect(lengthReward(1100, r, lmax)).toBe(1);
    }
  });

  it('gives 0 for a [0, 0] target and handles lo = 0', () => {
    expect(lengthReward(0, [0, 0])).toBe(0);
    expect(lengthReward(500, [0, 0])).toBe(0);
    expect(lengthReward(0, [0, 100])).toBe(1);
    expect(lengthReward(150, [0, 100])).toBeCloseTo(0.5, 12);
  });

  it('is in [0, 1], 1 exactly inside, continuous at lo and hi, on random inputs (batched = one by one)', () => {
    const rng = new Rng(3);
    const words = Array.from({ length: 500 }, () => rng.int(4000));
    const ranges = words.map((): [number, number] => {
      const lo = 1 + rng.int(1500);
      return [lo, lo + rng.int(1500)];
    });
    const batch = lengthRewards(words, ranges);
    words.forEach((w, i) => {
      const [lo, hi] = ranges[i];
      expect(batch[i]).toBe(lengthReward(w, ranges[i]));
      expect(batch[i] >= 0 && batch[i] <= 1).toBe(true);
      expect(batch[i] === 1).toBe(w >= lo && w <= hi);
      expect(lengthReward(lo - 1e-9, ranges[i])).toBeCloseTo(1, 6);
      expect(lengthReward(hi + 1e-9, ranges[i])).toBeCloseTo(1, 6);
    });
    expect(() => lengthRewards([1, 2], [[0, 1]])).toThrow(/2 word counts for 1 ranges/);
  });
});

describe('target ranges', () => {
  function countingPredictor(range: [number, number]): LengthPredictor & { calls: string[][] } {
    const calls: string[][] = [];
    return { id: 'test', calls, predict: async (prompts) => (calls.push([...prompts]), prompts.map(() => ({ range }))) };
  }

  it("takes the row's length_range first, then the prompt's wording, then the row's length, then the predictor", async () => {
    const predictor = countingPredictor([1000, 2000]);
    const rows = [
      { prompt: 'Write a 500-word essay.', length_range: [100, 200] },
      { prompt: 'Write a 500-word essay.' },
      { prompt: 'Write an essay.' },
      { prompt: 'Write an essay.' },
      { prompt: 'Write a poem.', length_range: null },
      // LongBench-Write rows: `length` when the wording states no total (a length per part, but not how many
      // parts), the wording when it does
      { prompt: '请写几篇日记，每篇400字左右。', length: 2000 },
      { prompt: 'Write between 300 and 500 words about rivers.', length: 400 },
      // a `length` that is not a positive number states nothing
      { prompt: 'Write a story.', length: 'long' },
    ];
    const t = await resolveTargetRanges(rows, predictor);
    expect(t.map((x) => [x.range, x.source])).toEqual([
      [[100, 200], 'row'],
      [[450, 550], 'prompt'],
      [[1000, 2000], 'predictor'],
      [[1000, 2000], 'predictor'],
      [[1000, 2000], 'predictor'],
      [[1800, 2200], 'length'],
      [[300, 500], 'prompt'],
      [[1000, 2000], 'predictor'],
    ]);
    expect(predictor.calls).toEqual([['Write an essay.', 'Write a poem.', 'Write a story.']]);
    // a `length` of 0 is no positive number: it states nothing either
    expect(explicitTargetRange({ prompt: 'Write an essay.', length: 0 })).toBeNull();
  });

  it('marks [0, 0] as skip, whoever gave it, and never calls the predictor when nothing is missing', async () => {
    const predictor = countingPredictor([0, 0]);
    const t = await resolveTargetRanges([{ prompt: 'x', length_range: [0, 0] }, { prompt: 'Write a novel.' }], predictor);
    expect(t.map((x) => x.skip)).toEqual([true, true]);
    const idle = countingPredictor([1, 2]);
    await resolveTargetRanges([{ prompt: 'Write 300 words.' }], idle);
    expect(idle.calls).toEqual([]);
  });

  it('names the row and field of a bad range, and a predictor that breaks its contract', async () => {
    await expect(
      resolveTargetRanges([{ prompt: 'a' }, { prompt: 'b', length_range: [500, 100] }], countingPredictor([1, 2])),
    ).rejects.toThrow(/row 1: field "length_range" must satisfy 0 <= lo <= hi, got \[500, 100\]/);
    expect(() => explicitTargetRange({ prompt: 'a', length_range: '500' })).toThrow(/must be \[lo, hi\]/);
    const short: LengthPredictor = { id: 'short', predict: async () => [] };
    await expect(resolveTargetRanges([{ prompt: 'Write an essay.' }], short)).rejects.toThrow(/short returned 0 predictions for 1 prompts/);
    // a negative lo, a third number or a NaN is no range
    expect(() => explicitTargetRange({ prompt: 'a', length_range: [-5, 10] })).toThrow(/0 <= lo <= hi/);
    expect(() => explicitTargetRange({ prompt: 'a', length_range: [1, 2, 3] })).toThrow(/must be \[lo, hi\]/);
    expect(() => explicitTargetRange({ prompt: 'a', length_range: [NaN, 5] })).toThrow(/must be \[lo, hi\]/);
    const bad: LengthPredictor = { id: 'bad', predict: async () => [{ range: [5, 1] }] };
    await expect(resolveTargetRanges([{ prompt: 'Write an essay.' }], bad)).rejects.toThrow(/predictions\[0\]\.range \(bad\)/);
  });
});
