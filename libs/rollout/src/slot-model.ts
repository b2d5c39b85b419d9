// What the engine needs from a model: a KV cache of `rows` slots x `capacity` tokens, a forward that feeds
// tokens to a contiguous range of slots and returns next-token logits, and slot bookkeeping (copy a prefix,
// resize keeping some slots). Qwen2SlotModel does it with @lwz/model's KvCache and decodeStep; engine tests
// use a mock (testing/mock-model.ts), so the scheduling logic is checked without weights. While the engine
// decodes batches, the weights are held packed for the cpu GEMM (released when it goes idle).
import { tensor, type Tensor } from '@lwz/kernels';
import { KvCache, decodeStep, type Qwen2Model } from '@lwz/model';

export interface SlotModel {
  readonly vocabSize: number;
  /** most positions one sequence may hold (the model's context) */
  readonly contextLength: number;
  /** KV cache bytes one cached token takes (2 * layers * kv heads * head dim * 4) */
  readonly kvBytesPerToken: number;
  readonly rows: number;
  readonly capacity: number;
  /** Reallocate to rows x capacity; new slot i keeps old slot keep[i] (-1 or missing: empty). */
  resize(rows: number, capacity: number, keep?: readonly number[]): void;
  /** tokens cached in a slot */
  length(slot: number): number;
  /** Slot `dst` holds the first `length` cached tokens of slot `src`. */
  copySlot(src: number, dst: number, length: number): void;
  /** Empty a slot. */
  clearSlot(slot: number): void;
  /**
   * Feed ids (B, T) right-padded, counts[b] real tokens, to slots [first, first + B); returns the logits
   * (B, V) after each row's last new token. The caller disposes them.
   */
  forward(first: number, ids: Int32Array, T: number, counts: readonly number[]): Tensor;
  release(): void;
}

export class Qwen2SlotModel implements SlotModel {
  private cache: KvCache | null = null;
  private unpack: (() => void) | null = null;

  /**
   * packWeights: from the first batched decode step until release, hold the weights packed for the cpu GEMM
   * (ParamStore.packForDecode), so batched decode steps skip packing them; memory: one more copy of the
   * weights. Released when the engine goes idle, before a trainer can change them.
   */
  constructor(
    readonly model: Qwen2Model,
    private readonly packWeights = true,
  ) {}

  get vocabSize(): number {
    return this.model.config.vocabSize;
  }

  get contextLength(): number {
    return this.model.config.maxPositionEmbeddings;
  }

  get kvBytesPerToken(): number {
    const c = this.model.config;
    return 2 * c.numLayers * c.numKvHeads * c.headDim * 4;
  }

  get rows(): number {
    return this.cache?.rows ?? 0;
  }

  get capacity(): number {
    return this.cache?.capacity ?? 0;
  }

  private get kv(): KvCache {
    if (!this.cache) throw new Error('Qwen2SlotModel: resize() first');
    return this.cache;
  }

  resize(rows: number, capacity: number, keep: readonly number[] = []): void {
    const map = Array.from({ length: rows }, (_, i) => (i < keep.length ? keep[i] : -1));
    if (!this.cache || map.every((k) => k < 0)) {
      this.cache?.dispose();
      this.cache = new KvCache(this.model, rows, capacity);
    } else this.cache = this.cache.select(map, capacity);
  }

  length(slot: number): number {
    return this.kv.lengths[slot];
  }

  copySlot(src: number, dst: number, length: number): void {
    this.kv.copyRow(src, dst, length);
  }

  clearSlot(slot: number): void {
    this.kv.lengths[slot] = 0;
  }

  forward(first: number, ids: Int32Array, T: number, counts: readonly number[]): Tensor {
    const B = counts.length;
    // pack at the first batched decode step: a GEMM of a few rows is where packing the weight dominates (a
    // prefill chunk's hundreds of rows amortise it, and one row runs the GEMV, which reads them as they are)
    if (this.packWeights && !this.unpack && T === 1 && B > 1) this.unpack = this.model.store.packForDecode();
    const idsT = tensor(ids, [B, T], { device: this.model.device, dtype: 'i32' });
    const logits = decodeStep(this.model, this.kv, idsT, counts, first);
    idsT.dispose();
    return logits;
  }

  release(): void {
    this.cache?.dispose();
    this.cache = null;
    this.unpack?.();
    this.unpack = null;
  }

  /** The weights changed in place (a reload while running): pack them again if they are held packed. */
  repack(): void {
    if (!this.unpack) return;
    this.unpack();
    this.unpack = this.model.store.packForDecode();
  }
}
