// Batched KV cache for incremental decoding. Each row keeps its own length: row b's keys sit left-aligned at
// positions [0, lengths[b]) of per-layer k/v buffers, head-major (B, Hkv, S, D) so that one kv head's keys are
// contiguous and the decode attention reads whole rows (#10; attention's kvLayout 'bhsd'), and rows of
// different lengths need no padding mask (the attention kernel's causal limit qOffset[b] = lengths[b] hides the
// unused tail). Rows can be dropped or added between steps (`select`, also to a new capacity), a row's prefix
// copied into another (`copyRow`: a prompt prefilled once, shared by its samples), and decodeStep can feed a
// contiguous range of rows (continuous-batching slots). Rows move with the copy op between (row, head) views, and
// each step's (B, T, Hkv, D) keys and values go in with one head-major copyAt per layer and tensor, so the cache
// works on every backend. Not a sampler: decodeStep returns logits; the rollout library samples.
import { copy, copyAt, embedding, tensor, zeros, type Tensor } from '@lwz/kernels';
import { headLogitsAt } from './head';
import { disposeActs, layerForward, rmsnorm, type StepCtx } from './layer';
import type { Qwen2Model } from './model';

export class KvCache {
  /** per row: tokens already in the cache */
  lengths: number[];
  /** per layer: k and v (B, Hkv, S, D), head-major (attention's kvLayout 'bhsd') */
  layers: { k: Tensor; v: Tensor }[];

  constructor(
    readonly model: Qwen2Model,
    rows: number,
    readonly capacity: number,
  ) {
    const { numLayers, numKvHeads, headDim } = model.config;
    this.lengths = new Array<number>(rows).fill(0);
    this.layers = Array.from({ length: numLayers }, () => ({
      k: zeros([rows, numKvHeads, capacity, headDim], { device: model.device }),
      v: zeros([rows, numKvHeads, capacity, headDim], { device: model.device }),
    }));
  }

  get rows(): number {
    return this.lengths.length;
  }

  /**
   * A new cache whose row i is this cache's row `keep[i]`, or an empty row when keep[i] is -1 (to add rows),
   * with room for `capacity` tokens per row (default: the same; a row longer than that throws).
   * This cache is disposed.
   */
  select(keep: readonly number[], capacity = this.capacity): KvCache {
    for (const src of keep) {
      if (src >= this.rows) throw new Error(`KvCache.select: row ${src} does not exist (${this.rows} rows)`);
      if (src >= 0 && this.lengths[src] > capacity)
        throw new Error(`KvCache.select: row ${src} holds ${this.lengths[src]} tokens > capacity ${capacity}`);
    }
    const next = new KvCache(this.model, keep.length, capacity);
    keep.forEach((src, dst) => {
      if (src < 0) return;
      next.lengths[dst] = this.lengths[src];
      const used = this.lengths[src];
      this.layers.forEach((layer, l) => {
        copyPositions(layer.k, src, next.layers[l].k, dst, 0, used);
        copyPositions(layer.v, src, next.layers[l].v, dst, 0, used);
      });
    });
    this.dispose();
    return next;
  }

  /** Row `dst` becomes a copy of the first `length` cached tokens of row `src` (default: all of them). */
  copyRow(src: number, dst: number, length = this.lengths[src]): void {
    if (!(src >= 0 && src < this.rows && dst >= 0 && dst < this.rows))
      throw new Error(`KvCache.copyRow: rows ${src} -> ${dst} outside [0, ${this.rows})`);
    if (!(length >= 0 && length <= this.lengths[src]))
      throw new Error(`KvCache.copyRow: row ${src} holds ${this.lengths[src]} tokens, asked for ${length}`);
    if (src !== dst) {
      for (const layer of this.layers) {
        copyPositions(layer.k, src, layer.k, dst, 0, length);
        copyPositions(layer.v, src, layer.v, dst, 0, length);
      }
    }
    this.lengths[dst] = length;
  }

  dispose(): void {
    for (const l of this.layers) {
      l.k.dispose();
      l.v.dispose();
    }
  }
}

/**
 * Positions [0, count) of row `srcRow` of `src` (B, Hkv, S, D) into row `dstRow` of `dst` (B', Hkv, S', D) at
 * `at`: one copy per kv head (each head's positions are contiguous).
 */
function copyPositions(src: Tensor, srcRow: number, dst: Tensor, dstRow: number, at: number, count: number): void {
  if (count === 0) return;
  const [, hkv, srcS, d] = src.shape;
  const dstS = dst.shape[2];
  for (let h = 0; h < hkv; h++) {
    const from = src.view((srcRow * hkv + h) * srcS * d, [count * d]);
    const to = dst.view(((dstRow * hkv + h) * dstS + at) * d, [count * d]);
    copy(from, to);
    from.dispose();
    to.dispose();
  }
}

/**
 * Feed `ids` (B, T) i32, right-padded, with counts[b] real tokens in row b (0 = row idle this step), to cache
 * rows [firstRow, firstRow + B) (default: all rows), append them to the cache and return logits (B, V) at
 * each row's last new token (undefined content for idle rows).
 */
export function decodeStep(model: Qwen2Model, cache: KvCache, ids: Tensor, counts: readonly number[], firstRow = 0): Tensor {
  const cfg = model.config;
  const device = model.device;
  const [B, T] = ids.shape;
  if (counts.length !== B || firstRow < 0 || firstRow + B > cache.rows) {
    throw new Error(`decodeStep: ids have ${B} rows, counts ${counts.length}, cache rows [${firstRow}, ${firstRow + B}) of ${cache.rows}`);
  }
  const lengths = cache.lengths.slice(firstRow, firstRow + B);
  for (let b = 0; b < B; b++) {
    if (!(counts[b] >= 0 && counts[b] <= T)) throw new Error(`decodeStep: counts[${b}] = ${counts[b]} is outside [0, ${T}]`);
    if (lengths[b] + T > cache.capacity) {
      throw new Error(`decodeStep: row ${firstRow + b} would exceed the cache capacity ${cache.capacity} (has ${lengths[b]}, step ${T})`);
    }
  }
  const N = B * T;
  const positions = Int32Array.from({ length: N }, (_, i) => lengths[Math.floor(i / T)] + (i % T));
  const ctx: StepCtx = {
    cfg,
    device,
    B,
    T,
    positions: tensor(positions, [B, T], { device, dtype: 'i32' }),
    qOffset: tensor(Int32Array.from(lengths), [B], { device, dtype: 'i32' }),
    kvStart: zeros([B], { device, dtype: 'i32' }),
  };
  const flatIds = ids.reshape([N]);
  let x = embedding(model.store.embed.value, flatIds); // (N, C)
  flatIds.dispose();
  const whole = B === cache.rows;
  for (let l = 0; l < cfg.numLayers; l++) {
    const full = cache.layers[l];
    const layer = whole ? full : { k: full.k.rows(firstRow, B), v: full.v.rows(firstRow, B) }; // views of the fed rows
    const joined = model.store.joined(l); // layerForward uses it only for one row: fused q/k/v and gate/up GEMVs
    const { out, acts } = layerForward(
      ctx,
      model.store.layer(l),
      model.lora[l],
      x,
      (k, v) => {
        copyAt(k, layer.k, lengths, { headMajor: true }); // this step's (B, T, Hkv, D) at each row's length
        copyAt(v, layer.v, lengths, { headMajor: true });
        return { k: layer.k, v: layer.v, kvLayout: 'bhsd' }; // not a spread + property: V8's slow path (ops/attention.ts)
      },
      joined,
    );
    disposeActs(acts, false); // acts.k / acts.v are the cache's buffers (or views of them)
    if (!whole) {
      layer.k.dispose();
      layer.v.dispose();
    }
    x.dispose();
    x = out;
  }
  const { y: xf, rstd } = rmsnorm(x, model.store.finalNorm.value, cfg.rmsNormEps);
  const rows = tensor(
    Int32Array.from({ length: B }, (_, b) => b * T + Math.max(0, counts[b] - 1)),
    [B],
    { device, dtype: 'i32' },
  );
  const logits = headLogitsAt(xf, model.store.lmHead, rows);
  for (const t of [x, xf, rstd, rows, ctx.positions, ctx.qOffset, ctx.kvStart]) t.dispose();
  for (let b = 0; b < B; b++) cache.lengths[firstRow + b] += counts[b];
  return logits;
}
