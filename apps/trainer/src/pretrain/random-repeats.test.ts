import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readJsonl } from '@lwz/core';
import { WindowSampler } from '@lwz/data';
import { pretrainConfigSchema } from './config';
import { ROLE_COPY, ROLE_FIRST, ROLE_TEXT, frequentTokens, meanLossOfRole, randomRepeatsInBatch } from './random-repeats';
import { runPretrain } from './run';
import { pretrainFixture, smallConfig } from './testing';

// a split of distinct tokens and a pool outside it, so every inserted token is recognisable
const tokens = Int32Array.from({ length: 20_000 }, (_, i) => i);
const pool = Int32Array.from({ length: 50 }, (_, i) => 30_000 + i);
const W = 129;
const batchAt = (step: number) => new WindowSampler(tokens, W - 1, 7).batch(step, 16);

describe('randomRepeats (pretraining windows with a random sequence written several times, issue #11)', () => {
  const opts = { share: 0.5, minTokens: 8, maxTokens: 24, copies: 3, topTokens: 50 };

  it('writes a random pool sequence `copies` times back to back in about `share` of the rows, the rest unchanged', () => {
    let changed = 0;
    for (let step = 0; step < 20; step++) {
      const plain = batchAt(step);
      const b = batchAt(step);
      const out = randomRepeatsInBatch(b, opts, pool, 3, step);
      let rowsChanged = 0;
      for (let r = 0; r < b.B; r++) {
        const row = Array.from(b.tokens.subarray(r * W, (r + 1) * W));
        const orig = Array.from(plain.tokens.subarray(r * W, (r + 1) * W));
        const role = Array.from(out.roles.subarray(r * W, (r + 1) * W));
        const start = row.findIndex((v) => v >= 30_000);
        if (start < 0) {
          expect(row).toEqual(orig);
          expect(role.every((x) => x === ROLE_TEXT)).toBe(true);
          continue;
        }
        rowsChanged += 1;
        const end = row.length - [...row].reverse().findIndex((v) => v >= 30_000); // one past the last inserted token
        const seg = row.slice(start, end);
        expect(seg.length % 3).toBe(0);
        const len = seg.length / 3;
        expect(len).toBeGreaterThanOrEqual(8);
        expect(len).toBeLessThanOrEqual(24);
        seg.forEach((v, i) => expect(v).toBe(seg[i % len])); // the copies: remove the copy and this fails
        expect(new Set(seg.slice(0, len)).size).toBeGreaterThan(len / 2); // random draws, not one token
        expect(row.slice(0, start)).toEqual(orig.slice(0, start)); // text around the segment stays
        expect(row.slice(end)).toEqual(orig.slice(end));
        // roles: the first copy, then the later copies but the second copy's first token (no earlier context predicts it)
        role.forEach((x, i) => {
          const j = i - start;
          const want = j < 0 || i >= end || j === len ? ROLE_TEXT : j < len ? ROLE_FIRST : ROLE_COPY;
          expect(x).toBe(want);
        });
      }
      expect(out.changed).toBe(rowsChanged);
      changed += rowsChanged;
    }
    expect(changed).toBeGreaterThan(0.35 * 320);
    expect(changed).toBeLessThan(0.65 * 320);
  });

  it('is deterministic from (seed, step); share 0 leaves the windows unchanged, share 1 changes every row', () => {
    const a = batchAt(3);
    const b = batchAt(3);
    randomRepeatsInBatch(a, opts, pool, 3, 3);
    randomRepeatsInBatch(b, opts, pool, 3, 3);
    expect(a.tokens).toEqual(b.tokens);
    const c = batchAt(3);
    randomRepeatsInBatch(c, opts, pool, 4, 3);
    expect(c.tokens).not.toEqual(a.tokens);
    const d = batchAt(3);
    expect(randomRepeatsInBatch(d, { ...opts, share: 0 }, pool, 3, 3).changed).toBe(0);
    expect(d.tokens).toEqual(batchAt(3).tokens);
    expect(randomRepeatsInBatch(batchAt(3), { ...opts, share: 1 }, pool, 3, 3).changed).toBe(16);
    expect(() => randomRepeatsInBatch(batchAt(3), { ...opts, copies: 6 }, pool, 3, 3)).toThrow(/6 copies of 24 tokens must fit/);
  });

  it('startRamp: the sequence starts at 0 on step 0, never past the ramp, and anywhere (as without it) once the ramp is done', () => {
    const ramped = { ...opts, share: 1, startRamp: 100 };
    const startsAt = (step: number, o: typeof ramped) => {
      const b = batchAt(step);
      randomRepeatsInBatch(b, o, pool, 3, step);
      return Array.from({ length: b.B }, (_, r) => {
        const row = Array.from(b.tokens.subarray(r * W, (r + 1) * W));
        const start = row.findIndex((v) => v >= 30_000);
        const end = row.length - [...row].reverse().findIndex((v) => v >= 30_000);
        return { start, room: W - (end - start) };
      });
    };
    expect(startsAt(0, ramped).every(({ start }) => start === 0)).toBe(true);
    const half = startsAt(50, ramped);
    half.forEach(({ start, room }) => expect(start).toBeLessThanOrEqual(Math.floor(room / 2)));
    expect(half.some(({ start }) => start > 0)).toBe(true);
    for (const step of [100, 150]) {
      const a = batchAt(step);
      const b = batchAt(step);
      randomRepeatsInBatch(a, ramped, pool, 3, step);
      randomRepeatsInBatch(b, { ...ramped, startRamp: 0 }, pool, 3, step);
      expect(a.tokens).toEqual(b.tokens);
    }
    const early = startsAt(10, ramped).map(({ start }) => start);
    const late = startsAt(150, ramped).map(({ start }) => start);
    expect(Math.max(...early)).toBeLessThan(Math.max(...late));
  });

  it('draws from the most frequent tokens, end-of-text excluded', () => {
    const split = [5, 5, 5, 9, 9, 9, 9, 2, 2, 7, 1, 1, 1, 1, 1];
    expect(Array.from(frequentTokens(split, 3, 1))).toEqual([9, 5, 2]); // 1 is the most frequent but excluded
    expect(Array.from(frequentTokens(split, 10, 99))).toEqual([1, 9, 5, 2, 7]);
  });

  it('averages the loss of the targets whose window token has a role (target t of a row is window token t + 1)', () => {
    // B 2, T 3: windows of 4 tokens; roles on window tokens 1 and 3 of row 0, token 2 of row 1
    const roles = Uint8Array.from([0, ROLE_COPY, 0, ROLE_COPY, 0, 0, ROLE_COPY, ROLE_FIRST]);
    const logprobs = Float32Array.from([-1, -2, -3, -4, -5, -6]);
    expect(meanLossOfRole(logprobs, roles, 2, 3, ROLE_COPY)).toBeCloseTo((1 + 3 + 5) / 3, 6);
    expect(meanLossOfRole(logprobs, roles, 2, 3, ROLE_FIRST)).toBeCloseTo(6, 6);
    expect(meanLossOfRole(logprobs, new Uint8Array(8), 2, 3, ROLE_COPY)).toBeNaN();
  });

  it('rejects sequences that do not fit, or min > max, with the field named; unset stays unset', () => {
    const base = { seqLen: 256 };
    expect(pretrainConfigSchema.parse({ ...base }).randomRepeats).toBeUndefined();
    expect(pretrainConfigSchema.parse({ ...base, randomRepeats: { share: 0.3 } }).randomRepeats).toEqual({
      share: 0.3,
      minTokens: 16,
      maxTokens: 64,
      copies: 2,
      topTokens: 1024,
      startRamp: 0,
    });
    expect(() => pretrainConfigSchema.parse({ ...base, randomRepeats: { share: 0.3, maxTokens: 64, copies: 5 } })).toThrow(
      /randomRepeats.*copies \* maxTokens must fit a window of seqLen \+ 1/s,
    );
    expect(() => pretrainConfigSchema.parse({ ...base, randomRepeats: { share: 0.3, minTokens: 20, maxTokens: 10 } })).toThrow(
      /randomRepeats.minTokens must be <= /,
    );
    expect(() => pretrainConfigSchema.parse({ ...base, randomRepeats: { share: 0.3, copies: 1 } })).toThrow(/copies/);
  });

  it('reaches the training batches of runPretrain and logs the copy-part loss; share 0 is the plain run, validation unchanged', () => {
    const f = pretrainFixture();
    const run = (over: Record<string, unknown>) => {
      const out = join(mkdtempSync(join(tmpdir(), 'lwz-rr-')), 'run');
      runPretrain(pretrainConfigSchema.parse(smallConfig(f, out, { steps: 1, ...over })), { log: () => undefined, progress: false });
      return readJsonl<Record<string, number | null>>(join(out, 'metrics.jsonl')).map((x) => x.value)[0];
    };
    const plain = run({});
    const off = run({ randomRepeats: { share: 0, minTokens: 4, maxTokens: 8, topTokens: 64 } });
    const on = run({ randomRepeats: { share: 1, minTokens: 4, maxTokens: 8, copies: 4, topTokens: 64 } });
    expect(plain['train/copy_loss']).toBeUndefined(); // unset: today's metrics
    expect(off['train/loss']).toBe(plain['train/loss']); // share 0: bit for bit today's run
    expect(off['train/copy_loss']).toBeNull(); // no row changed
    expect(on['train/loss']).not.toBe(plain['train/loss']);
    expect(off['val/loss']).toBe(plain['val/loss']);
    // at init the copies are not predicted better than the first copy's random tokens: both near ln(vocab) ~ 5.8
    expect(on['train/copy_loss']).toBeGreaterThan(4);
    expect(on['train/random_loss']).toBeGreaterThan(4);
  });
});
