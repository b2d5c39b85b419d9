// The reward-model seam (a pointwise scorer as a pairwise judge) and the verdict cache that keeps its
// judgments on disk: each judged item is stored before it is returned, a rerun judges only what is missing.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { QualityScorer } from '@lwz/rewards';
import { pairwiseFromScorer, labelFromScores } from './scorer-pairwise';
import { withJudgmentCache } from './judgment-cache';

function lengthScorer(calls: { n: number }): QualityScorer {
  return {
    id: 'len-test',
    score: async (items) => {
      calls.n += items.length;
      return items.map((it) => ({ score: Math.min(1, it.response.length / 100) }));
    },
  };
}

describe('pairwiseFromScorer', () => {
  it('higher score wins, a margin below the threshold ties, strong labels at 5 levels', () => {
    const o = { tieMargin: 0.05, strongMargin: 0.3, levels: 5 as const };
    expect(labelFromScores(0.5, 0.52, o)).toBe('A=B');
    expect(labelFromScores(0.6, 0.5, o)).toBe('A>B');
    expect(labelFromScores(0.9, 0.5, o)).toBe('A>>B');
    expect(labelFromScores(0.1, 0.5, o)).toBe('B>>A');
    expect(labelFromScores(0.1, 0.5, { ...o, levels: 3 })).toBe('B>A');
  });

  it('scores each distinct answer once and mirrors the swapped order', async () => {
    const calls = { n: 0 };
    const judge = pairwiseFromScorer(lengthScorer(calls), { tieMargin: 0.05 });
    const long = 'x'.repeat(80);
    const v = await judge.judge([
      { prompt: 'p', a: long, b: 'short' },
      { prompt: 'p', a: 'short', b: long },
      { prompt: 'p', a: 'short', b: 'shorx' },
    ]);
    expect(v.map((x) => x.label)).toEqual(['A>B', 'B>A', 'A=B']);
    expect(calls.n).toBe(3);
    expect(v[0]).toMatchObject({ scoreA: 0.8, scoreB: 0.05 });
    expect(judge.id).toBe('scorer-pairwise:len-test/3/tie<0.05');
    expect(() => pairwiseFromScorer(lengthScorer(calls), { tieMargin: 0.5, strongMargin: 0.2 })).toThrow(/tieMargin < strongMargin/);
  });
});

describe('withJudgmentCache', () => {
  it('stores every verdict and judges only the missing ones on a rerun', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lwz-verdicts-'));
    const calls = { n: 0 };
    const items = Array.from({ length: 6 }, (_, i) => ({ prompt: `p${i}`, a: 'a'.repeat(10 * i), b: 'b'.repeat(30) }));
    const first = await withJudgmentCache(pairwiseFromScorer(lengthScorer(calls)), dir).judge(items);
    expect(calls.n).toBe(12);
    const files = readdirSync(dir).flatMap((d) => readdirSync(join(dir, d)));
    expect(files).toHaveLength(6);
    // lose two judgments (a crash before they were written): only those are judged again
    const victims = readdirSync(dir).slice(0, 2);
    for (const d of victims) rmSync(join(dir, d), { recursive: true });
    const lost = 6 - readdirSync(dir).flatMap((d) => readdirSync(join(dir, d))).length;
    calls.n = 0;
    const seen: number[] = [];
    const cached = withJudgmentCache(pairwiseFromScorer(lengthScorer(calls)), dir);
    expect(cached.cachesJudgments).toBe(true);
    const second = await cached.judge(items, { onJudged: (i) => seen.push(i) });
    expect(calls.n).toBe(2 * lost);
    expect(second.map((v) => v.label)).toEqual(first.map((v) => v.label));
    expect(second.filter((v) => v.cached)).toHaveLength(6 - lost);
    expect(seen.sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });
});
