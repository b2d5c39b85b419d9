// Incremental decoding with the batched KV cache against the float64 reference: logits after a ragged
// prefill, after single-token steps, with idle rows, and after dropping a row and adding a new one all equal
// the reference's logits for each row's full sequence at its last position (1e-4 absolute); so do rows fed
// through a row range (continuous-batching slots), rows copied from another row's prefix, a grown cache, and
// mixed steps where some rows prefill (up to 17 tokens, the attention's packed path) while others decode. The
// cache is head-major (B, Hkv, S, D); VARIANTS have GQA and several kv heads, so a wrong head stride fails here.
// A one-row step takes the fused q/k/v and gate/up GEMVs (ParamStore.joined): it matches the reference too,
// and a model whose weights are not back to back (separate projections) within 1e-5. So does a model whose
// weights are held packed for the cpu GEMM (packForDecode), within 1e-5 of the unpacked one.
import { Rng } from '@lwz/core';
import { availableDevices, copy, tensor, zeros } from '@lwz/kernels';
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

  it('decodes with the weights held packed (ParamStore.packForDecode) like the reference and the unpacked model', () => {
    const model = randomModel(cfg, 35, device);
    const weights = float64Weights(model);
    const rng = new Rng(4);
    const V = cfg.vocabSize;
    const prompts = [randomIds(rng, 6, V), randomIds(rng, 6, V), randomIds(rng, 6, V)];
    const run = (): Float32Array[] => {
      const cache = new KvCache(model, 3, 12);
      const out: Float32Array[] = [];
      let ids = prompts;
      for (let s = 0; s < 3; s++) {
        const T = ids[0].length;
        const logits = decodeStep(model, cache, tensor(Int32Array.from(ids.flat()), [3, T], { device, dtype: 'i32' }), [T, T, T]);
        out.push(Float32Array.from(logits.f32));
        ids = [[s + 1], [s + 2], [s + 3]];
        logits.dispose();
      }
      cache.dispose();
      return out;
    };
    const plain = run();
    const release = model.store.packForDecode();
    const nested = model.store.packForDecode(); // shares the packing
    const lp = model.store.layer(0);
    const packedHere = device === 'cpu';
    expect(lp.q.packed != null && lp.down.packed != null && model.store.lmHead.packed != null).toBe(packedHere);
    const packed = run();
    nested();
    expect(lp.q.packed != null).toBe(packedHere); // still held by the first
    release();
    release(); // a second call of the same release does nothing
    expect(model.store.params.every((p) => p.packed == null)).toBe(true);
    packed.forEach((l, i) => expect(l).toBeAllClose(plain[i], { atol: 1e-5, rtol: 0 }));
    const seq = [...prompts[2], 3, 4]; // row 2 was fed its prompt, then 3, then 4
    const ref = referenceLogits(cfg, weights, seq).subarray((seq.length - 1) * V, seq.length * V);
    expect(Array.from(packed[2].subarray(2 * V, 3 * V))).toBeAllClose(ref, { atol: 1e-4, rtol: 0 });
  });

  it('steps one row through the back-to-back q/k/v and gate/up weights like the reference and the separate weights', () => {
    for (const [, c] of VARIANTS) {
      const packed = randomModel(c, 33, device);
      const loose = randomModel(c, 33, device); // the same weights, each q/k/v/gate/up tensor moved to its own buffer
      for (const p of loose.store.params) {
        if (!/\.(q|k|v|gate|up)_proj\./.test(p.name)) continue;
        const own = copy(p.value, zeros(p.shape, { device }));
        p.value.dispose();
        p.value = own;
      }
      const rows = (c.numHeads + 2 * c.numKvHeads) * c.headDim;
      expect(packed.store.joined(1).qkv?.shape).toEqual([rows, c.hiddenSize]);
      expect(packed.store.joined(1).qkvBias?.shape).toEqual(c.attentionBias ? [rows] : undefined);
      expect(packed.store.joined(1).gateUp?.shape).toEqual([2 * c.intermediateSize, c.hiddenSize]);
      expect(loose.store.joined(1)).toEqual({ qkv: null, qkvBias: null, gateUp: null });
      const weights = float64Weights(packed);
      const rng = new Rng(4);
      const V = c.vocabSize;
      const caches = [new KvCache(packed, 1, 12), new KvCache(loose, 1, 12)];
      let seq: number[] = [];
      for (const chunk of [randomIds(rng, 3, V), ...Array.from({ length: 4 }, () => randomIds(rng, 1, V))]) {
        seq = [...seq, ...chunk];
        const ids = () => tensor(Int32Array.from(chunk), [1, chunk.length], { device, dtype: 'i32' });
        const [a, b] = [decodeStep(packed, caches[0], ids(), [chunk.length]), decodeStep(loose, caches[1], ids(), [chunk.length])];
        const ref = referenceLogits(c, weights, seq).subarray((seq.length - 1) * V, seq.length * V);
        expect(Array.from(a.f32)).toBeAllClose(ref, { atol: 1e-4, rtol: 0 });
        expect(Array.from(a.f32)).toBeAllClose(Array.from(b.f32), { atol: 1e-5, rtol: 0 });
        a.dispose();
        b.dispose();
      }
      for (const t of [...caches, packed, loose]) t.dispose();
    }
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
    cache = cache.select([0, 1, 2], 40);
    // a mixed step on the attention's prefill path (T >= 16): row 1 takes 17 tokens while row 0 decodes one, row 2 idle
    feed(0, [randomIds(rng, 1, V), randomIds(rng, 17, V), []]);
    expect(() => cache.select([1], 8)).toThrow(/capacity 8/);
    expect(() => cache.copyRow(0, 1, 50)).toThrow(/holds 4 tokens/);
  });
});

describe('KvCache bounds', () => {
  it('refuses rows, counts and steps outside the cache, naming them; copyRow copies the whole row by default', () => {
    const model = randomModel(VARIANTS[0][1], 1);
    const batch = (rows: number[][]) => {
      const T = Math.max(...rows.map((r) => r.length));
      const ids = new Int32Array(rows.length * T);
      rows.forEach((r, b) => ids.set(r, b * T));
      return tensor(ids, [rows.length, T], { device: 'ref', dtype: 'i32' });
    };
    const cache = new KvCache(model, 3, 8);
    decodeStep(model, cache, batch([[1, 2, 3], [1], [1, 2, 3, 4, 5]]), [3, 1, 5]);
    expect(cache.lengths).toEqual([3, 1, 5]);
    expect(() => cache.select([3])).toThrow('KvCache.select: row 3 does not exist (3 rows)');
    expect(() => cache.select([2], 4)).toThrow('KvCache.select: row 2 holds 5 tokens > capacity 4');
    expect(() => cache.copyRow(0, 3)).toThrow('KvCache.copyRow: rows 0 -> 3 outside [0, 3)');
    expect(() => cache.copyRow(3, 0)).toThrow('KvCache.copyRow: rows 3 -> 0 outside [0, 3)');
    expect(() => decodeStep(model, cache, batch([[1], [2]]), [1, 1], 2)).toThrow(
      'decodeStep: ids have 2 rows, counts 2, cache rows [2, 4) of 3',
    );
    expect(() => decodeStep(model, cache, batch([[1, 2]]), [3])).toThrow('decodeStep: counts[0] = 3 is outside [0, 2]');
    // the step writes all T positions of a row (padding too): 3 + 6 > 8 though only 4 tokens are real
    expect(() => decodeStep(model, cache, batch([[1, 2, 3, 4, 5, 6]]), [4])).toThrow(
      'decodeStep: row 0 would exceed the cache capacity 8 (has 3, step 6)',
    );
    expect(cache.lengths).toEqual([3, 1, 5]);
    cache.copyRow(2, 1);
    expect(cache.lengths).toEqual([3, 5, 5]);
    cache.dispose();
  });
});
