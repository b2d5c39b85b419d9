// Incremental decoding with the batched KV cache against the float64 reference: logits after a ragged
// prefill, after single-token steps, with idle rows, and after dropping a row and adding a new one all equal
// the reference's logits for each row's full sequence at its last position (1e-4 absolute); so do rows fed
// through a row range (continuous-batching slots), rows copied from another row's prefix, and a grown cache.
import { Rng } from '@lwz/core';
import { availableDevices, tensor } from '@lwz/kernels';
import { KvCache, decodeStep } from './kv-cache';
import { float64Weights, randomIds, randomModel, VARIANTS } from './testing/fixtures';
import { referenceLogits } from './testing/reference-qwen2';

const DEVICES = availableDevices().filter((d) => d !== 'cuda');
const CASES = DEVICES.flatMap((device) => VARIANTS.slice(0, 2).map(([name, cfg]) => [device, name, cfg] as const));

describe.each(CASES)('KvCache on %s (%s)', (device, _name, cfg) => {
  it('decodes ragged rows, idle rows, dropped and added rows like a full forward', () => {
    const model = randomModel(cfg, 31, device);
    const weights = float64Weights(model);
    const rng = new Rng(2);
    const V = cfg.vocabSize;
    let seqs: number[][] = [[], []];
    let cache = new KvCache(model, 2, 16);
    /** feed chunks[b] to row b (right-padded), then compare each advanced row's logits with the reference */
    const step = (chunks: number[][]): void => {
      const T = Math.max(...chunks.map((c) => c.length));
      const ids = new Int32Array(chunks.length * T);
      chunks.forEach((c, b) => ids.set(c, b * T));
      const logits = decodeStep(
        model,
        cache,
        tensor(ids, [chunks.length, T], { device, dtype: 'i32' }),
        chunks.map((c) => c.length),
      );
      chunks.forEach((c, b) => {
        seqs[b] = [...seqs[b], ...c];
        if (c.length === 0) return;
        const s = seqs[b];
        const ref = referenceLogits(cfg, weights, s).subarray((s.length - 1) * V, s.length * V);
        expect(Array.from(logits.f32.subarray(b * V, (b + 1) * V))).toBeAllClose(ref, { atol: 1e-4, rtol: 0 });
      });
      expect(cache.lengths).toEqual(seqs.map((s) => s.length));
    };
    step([randomIds(rng, 5, V), randomIds(rng, 3, V)]); // ragged prefill
    step([randomIds(rng, 1, V), randomIds(rng, 1, V)]);
    step([randomIds(rng, 1, V), []]); // row 1 idle
    cache = cache.select([1, -1]); // drop row 0, add an empty row
    seqs = [seqs[1], []];
    step([randomIds(rng, 1, V), randomIds(rng, 4, V)]);
    step([randomIds(rng, 2, V), randomIds(rng, 1, V)]);
    expect(() => step([randomIds(rng, 12, V), []])).toThrow(/capacity 16/);
  });

  it('feeds a range of rows, copies a row prefix into another row and grows the capacity', () => {
    const model = randomModel(cfg, 32, device);
    const weights = float64Weights(model);
    const rng = new Rng(3);
    const V = cfg.vocabSize;
    const seqs: number[][] = [[], [], []];
    let cache = new KvCache(model, 3, 12);
    const feed = (first: number, chunks: number[][]): void => {
      const T = Math.max(...chunks.map((c) => c.length));
      const ids = new Int32Array(chunks.length * T);
      chunks.forEach((c, b) => ids.set(c, b * T));
      const logits = decodeStep(
        model,
        cache,
        tensor(ids, [chunks.length, T], { device, dtype: 'i32' }),
        chunks.map((c) => c.length),
        first,
      );
      chunks.forEach((c, b) => {
        const s = (seqs[first + b] = [...seqs[first + b], ...c]);
        if (c.length === 0) return;
        const ref = referenceLogits(cfg, weights, s).subarray((s.length - 1) * V, s.length * V);
        expect(Array.from(logits.f32.subarray(b * V, (b + 1) * V))).toBeAllClose(ref, { atol: 1e-4, rtol: 0 });
      });
      expect(cache.lengths).toEqual(seqs.map((s) => s.length));
    };
    feed(1, [randomIds(rng, 6, V)]); // prefill row 1 alone: rows 0 and 2 untouched
    cache.copyRow(1, 2, 4); // row 2 = the first 4 tokens of row 1
    seqs[2] = seqs[1].slice(0, 4);
    feed(1, [randomIds(rng, 1, V), randomIds(rng, 1, V)]);
    feed(0, [randomIds(rng, 2, V)]);
    cache = cache.select([0, 1, 2], 20);
    feed(0, [randomIds(rng, 1, V), randomIds(rng, 8, V), randomIds(rng, 3, V)]);
    expect(() => cache.select([1], 8)).toThrow(/capacity 8/);
    expect(() => cache.copyRow(0, 1, 50)).toThrow(/holds 3 tokens/);
  });
});
