import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readJsonl } from '@lwz/core';
import { WindowSampler } from '@lwz/data';
import { pretrainConfigSchema } from './config';
import { repeatSpansInBatch } from './repeat-spans';
import { runPretrain } from './run';
import { pretrainFixture, smallConfig } from './testing';

// a split of distinct tokens, so a repeated span can only come from the copy
const tokens = Int32Array.from({ length: 20_000 }, (_, i) => i);
const batchAt = (step: number) => new WindowSampler(tokens, 128, 7).batch(step, 16);

/** For each row: [dst, len] of the longest run that repeats an earlier run of the row (distinct tokens otherwise). */
function repeatedRun(row: Int32Array): [number, number] {
  const first = new Map<number, number>();
  let best: [number, number] = [-1, 0];
  for (let i = 0; i < row.length; i++) {
    const j = first.get(row[i]);
    if (j === undefined) {
      first.set(row[i], i);
      continue;
    }
    let n = 0;
    while (i + n < row.length && row[i + n] === row[j + n]) n++;
    if (n > best[1]) best = [i, n];
    i += n - 1;
  }
  return best;
}

describe('repeatSpans (pretraining windows that repeat a span, issue #11)', () => {
  const opts = { share: 0.5, minTokens: 8, maxTokens: 32 };

  it('copies a span of 8-32 tokens to a later place in about `share` of the rows, the rest unchanged', () => {
    let changed = 0;
    for (let step = 0; step < 20; step++) {
      const plain = batchAt(step);
      const b = batchAt(step);
      const n = repeatSpansInBatch(b, opts, 3, step);
      for (let r = 0; r < b.B; r++) {
        const row = b.tokens.subarray(r * 129, (r + 1) * 129);
        const orig = plain.tokens.subarray(r * 129, (r + 1) * 129);
        const [dst, len] = repeatedRun(row);
        if (len === 0) {
          expect(row).toEqual(orig);
          continue;
        }
        changed += 1;
        expect(len).toBeGreaterThanOrEqual(8);
        expect(len).toBeLessThanOrEqual(32);
        const src = row.indexOf(row[dst]);
        expect(src + len).toBeLessThanOrEqual(dst);
        expect(Array.from(row.subarray(0, dst))).toEqual(Array.from(orig.subarray(0, dst))); // the source and all before stay
      }
      expect(b.tokens.some((v, i) => v !== plain.tokens[i])).toBe(n > 0);
    }
    expect(changed).toBeGreaterThan(0.35 * 320);
    expect(changed).toBeLessThan(0.65 * 320);
  });

  it('is deterministic from (seed, step), and share 0 leaves the windows unchanged', () => {
    const a = batchAt(3);
    const b = batchAt(3);
    repeatSpansInBatch(a, opts, 3, 3);
    repeatSpansInBatch(b, opts, 3, 3);
    expect(a.tokens).toEqual(b.tokens);
    const c = batchAt(3);
    repeatSpansInBatch(c, opts, 4, 3);
    expect(c.tokens).not.toEqual(a.tokens);
    const d = batchAt(3);
    expect(repeatSpansInBatch(d, { ...opts, share: 0 }, 3, 3)).toBe(0);
    expect(d.tokens).toEqual(batchAt(3).tokens);
    const e = batchAt(3);
    expect(repeatSpansInBatch(e, { ...opts, share: 1 }, 3, 3)).toBe(16);
  });

  it('rejects spans that do not fit, or min > max, with the field named', () => {
    const base = { seqLen: 256 };
    expect(pretrainConfigSchema.parse({ ...base }).repeatSpans).toBeUndefined();
    expect(pretrainConfigSchema.parse({ ...base, repeatSpans: { share: 0.3 } }).repeatSpans).toEqual({
      share: 0.3,
      minTokens: 8,
      maxTokens: 64,
    });
    expect(() => pretrainConfigSchema.parse({ seqLen: 100, repeatSpans: { share: 0.3, maxTokens: 64 } })).toThrow(
      /repeatSpans.*maxTokens.*seqLen \+ 1/s,
    );
    expect(() => pretrainConfigSchema.parse({ ...base, repeatSpans: { share: 0.3, minTokens: 20, maxTokens: 10 } })).toThrow(
      /minTokens must be <= /,
    );
    expect(() => pretrainConfigSchema.parse({ ...base, repeatSpans: { share: 1.5 } })).toThrow(/share/);
  });

  it('reaches the training batches of runPretrain (the step-1 loss changes); share 0 is the plain run', () => {
    const f = pretrainFixture();
    const run = (over: Record<string, unknown>) => {
      const out = join(mkdtempSync(join(tmpdir(), 'lwz-rep-')), 'run');
      runPretrain(pretrainConfigSchema.parse(smallConfig(f, out, { steps: 1, ...over })), { log: () => undefined, progress: false });
      return readJsonl<Record<string, number>>(join(out, 'metrics.jsonl')).map((x) => x.value)[0];
    };
    const plain = run({});
    const off = run({ repeatSpans: { share: 0, minTokens: 4, maxTokens: 8 } });
    const on = run({ repeatSpans: { share: 1, minTokens: 4, maxTokens: 8 } });
    expect(off['train/loss']).toBe(plain['train/loss']); // share 0: bit for bit today's run
    expect(on['train/loss']).not.toBe(plain['train/loss']);
    expect(off['val/loss']).toBe(plain['val/loss']);
  });
});
