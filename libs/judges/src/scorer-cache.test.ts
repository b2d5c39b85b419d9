// The reward-model seam (a pointwise scorer as a pairwise judge) and the verdict cache that keeps its
// judgments on disk: each judged item is stored before it is returned, a rerun judges only what is missing.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { QualityScorer } from '@lwz/rewards';
import { pairwiseFromScorer, labelFromScores } from './scorer-pairwise';
import { judgmentKey, withJudgmentCache } from './judgment-cache';

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
  it('judges again a stored entry whose key differs from its item or whose label is not a verdict label', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lwz-verdicts-'));
    const calls = { n: 0 };
    const judge = pairwiseFromScorer(lengthScorer(calls));
    const items = [0, 1].map((i) => ({ prompt: `p${i}`, a: 'a'.repeat(90), b: 'b' }));
    const pathOf = (key: string) => join(dir, key.slice(0, 2), `${key}.json`);
    const keys = items.map((it) => judgmentKey(judge.id, it));
    // item 0: an entry for another key at its path (a stale or foreign file); item 1: a label no judge gives
    for (const [k, entry] of [
      [keys[0], { key: 'f'.repeat(64), verdict: { label: 'B>>A', reason: 'foreign' } }],
      [keys[1], { key: keys[1], verdict: { label: 'B>>>A', reason: 'garbled' } }],
    ] as const) {
      mkdirSync(join(dir, k.slice(0, 2)), { recursive: true });
      writeFileSync(pathOf(k), JSON.stringify(entry));
    }
    const out = await withJudgmentCache(judge, dir).judge(items);
    expect(calls.n).toBe(4); // both items scored afresh (two answers each)
    expect(out.map((v) => [v.label, v.cached])).toEqual([
      ['A>B', undefined],
      ['A>B', undefined],
    ]);
  });
});

describe('pairwiseFromScorer margins at their edges', () => {
  it('ties strictly below tieMargin (default 0.02), is strong at or above strongMargin, and needs tieMargin < strongMargin', async () => {
    // dyadic scores, so the differences are exact
    const o = { tieMargin: 0.125, strongMargin: 0.5, levels: 5 as const };
    expect(labelFromScores(0.625, 0.5, o)).toBe('A>B'); // exactly tieMargin: not a tie
    expect(labelFromScores(1, 0.5, o)).toBe('A>>B'); // exactly strongMargin: strong
    expect(labelFromScores(0.5, 1, o)).toBe('B>>A');
    const fixed = (scores: Record<string, number>): QualityScorer => ({
      id: 'fixed',
      score: async (items) => items.map((it) => ({ score: scores[it.response] })),
    });
    const [v] = await pairwiseFromScorer(fixed({ a: 0.5, b: 0.51 })).judge([{ prompt: 'p', a: 'a', b: 'b' }]);
    expect(v.label).toBe('A=B'); // 0.01 apart: below the default margin
    expect(() => pairwiseFromScorer(fixed({}), { tieMargin: 0.1, strongMargin: 0.1 })).toThrow(
      /need 0 <= tieMargin < strongMargin, got 0.1, 0.1/,
    );
  });
});
