// Batched KV cache for incremental decoding. Each row keeps its own length: row b's keys sit left-aligned at
// positions [0, lengths[b]) of per-layer k/v buffers (B, S, Hkv, D), so rows of different lengths need no
// padding mask (the attention kernel's causal limit qOffset[b] = lengths[b] hides the unused tail). Rows can
// be dropped or added between steps (`select`), a row's prefix copied into another (`copyRow`: a prompt
// prefilled once and shared by its samples), and decodeStep can feed a contiguous range of rows (slots of a
// continuous batch). Host devices only for now (#4: a device copy kernel).
// Not a sampler: decodeStep returns logits; the rollout library samples.
import { getKernel, tensor, zeros, type Tensor } from '@lwz/kernels';
import { headLogitsAt, rowsView } from './head';
import { layerForward, rmsnorm, type StepCtx } from './layer';
import type { Qwen2Model } from './model';

export class KvCache {
  /** per row: tokens already in the cache */
  lengths: number[];
  /** per layer: k and v (B, S, Hkv, D) */
  layers: { k: Tensor; v: Tensor }[];

  constructor(
    readonly model: Qwen2Model,
    rows: number,
    readonly capacity: number,
  ) {
    const { numLayers, numKvHeads, headDim } = model.config;
    if (model.device === 'cuda') throw new Error('KvCache: cuda caches need a device copy kernel (#4)');
    this.lengths = new Array<number>(rows).fill(0);
    this.layers = Array.from({ length: numLayers }, () => ({
      k: zeros([rows, capacity, numKvHeads, headDim], { device: model.device }),
      v: zeros([rows, capacity, numKvHeads, headDim], { device: model.device }),
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
      if (src >= 0 && this.lengths[src] > capacity)
        throw new Error(`KvCache.select: row ${src} holds ${this.lengths[src]} tokens > capacity ${capacity}`);
    }
    const next = new KvCache(this.model, keep.length, capacity);
    const nextRow = capacity * this.model.config.numKvHeads * this.model.config.headDim;
    const rowSize = this.capacity * this.model.config.numKvHeads * this.model.config.headDim;
    keep.forEach((src, dst) => {
      if (src < 0) return;
      if (src >= this.rows) throw new Error(`KvCache.select: row ${src} does not exist (${this.rows} rows)`);
      next.lengths[dst] = this.lengths[src];
      const used = this.lengths[src] * (rowSize / this.capacity);
      this.layers.forEach((layer, l) => {
        next.layers[l].k.f32.set(layer.k.f32.subarray(src * rowSize, src * rowSize + used), dst * nextRow);
        next.layers[l].v.f32.set(layer.v.f32.subarray(src * rowSize, src * rowSize + used), dst * nextRow);
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
    const step = this.model.config.numKvHeads * this.model.config.headDim;
    const rowSize = this.capacity * step;
    if (src !== dst) {
      for (const layer of this.layers) {
        for (const t of [layer.k.f32, layer.v.f32]) t.copyWithin(dst * rowSize, src * rowSize, src * rowSize + length * step);
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

/** Copy this step's k or v (B, T, Hkv, D) into cache rows (B, S, Hkv, D) at each row's length. */
function appendRows(capacity: number, lengths: readonly number[], dst: Tensor, src: Tensor, T: number): void {
  const B = lengths.length;
  const step = src.size / (B * T); // Hkv * D
  const rowSize = capacity * step;
  for (let b = 0; b < B; b++) {
    dst.f32.set(src.f32.subarray(b * T * step, (b + 1) * T * step), b * rowSize + lengths[b] * step);
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
  let x = zeros([N, cfg.hiddenSize], { device });
  getKernel('embeddingForward', device)({ table: model.store.embed.value, ids: ids.reshape([N]), out: x });
  const whole = B === cache.rows;
  for (let l = 0; l < cfg.numLayers; l++) {
    const layer = whole ? cache.layers[l] : { k: rowsView(cache.layers[l].k, firstRow, B), v: rowsView(cache.layers[l].v, firstRow, B) };
    const { out } = layerForward(ctx, model.store.layer(l), model.lora[l], x, (k, v) => {
      appendRows(cache.capacity, lengths, layer.k, k, T);
      appendRows(cache.capacity, lengths, layer.v, v, T);
      return layer;
    });
    x.dispose();
    x = out;
  }
  const { y: xf, rstd } = rmsnorm(x, model.store.finalNorm.value, cfg.rmsNormEps);
  const rows = Int32Array.from({ length: B }, (_, b) => b * T + Math.max(0, counts[b] - 1));
  const logits = headLogitsAt(xf, model.store.lmHead, tensor(rows, [B], { device, dtype: 'i32' }));
  for (const t of [x, xf, rstd]) t.dispose();
  for (let b = 0; b < B; b++) cache.lengths[firstRow + b] += counts[b];
  return logits;
}
