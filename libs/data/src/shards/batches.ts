// Training windows from a packed split: (B, T+1) token rows (inputs = [:, :T], targets = [:, 1:]).
// The split is cut into W = floor((N - 1) / T) windows starting at 0, T, 2T, ... (consecutive windows share
// one token, so every next-token target is used once per epoch). Window order is a seeded permutation per
// epoch, and batch `step` is a pure function of (seed, step): a resumed run asks for batch `step` and gets
// exactly what the interrupted one would have. Windows may span an eot (documents are packed).
import { Rng } from '@lwz/core';

export interface WindowBatch {
  /** (B, T+1) int32, row-major */
  tokens: Int32Array;
  B: number;
  T: number;
  /** window start offsets in the split, (B,) */
  starts: number[];
  /** epoch of the batch's first window (how many full passes came before it) */
  epoch: number;
}

export class WindowSampler {
  readonly windows: number;
  private readonly permutations = new Map<number, Uint32Array>();

  constructor(
    private readonly tokens: Int32Array, // (N,) packed split
    readonly T: number,
    private readonly seed: number,
  ) {
    if (!Number.isInteger(T) || T < 1) throw new Error(`window length T must be a positive integer, got ${T}`);
    this.windows = Math.floor((tokens.length - 1) / T);
    if (this.windows < 1) throw new Error(`the split has ${tokens.length} tokens, fewer than one window of T + 1 = ${T + 1}`);
  }

  /** The permutation of window indices for one epoch (cached: a few recent epochs). */
  private order(epoch: number): Uint32Array {
    let perm = this.permutations.get(epoch);
    if (!perm) {
      perm = new Uint32Array(this.windows);
      for (let i = 0; i < perm.length; i++) perm[i] = i;
      const rng = new Rng(this.seed).split(`epoch/${epoch}`);
      for (let i = perm.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        const t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
      }
      if (this.permutations.size >= 4) this.permutations.delete(this.permutations.keys().next().value as number);
      this.permutations.set(epoch, perm);
    }
    return perm;
  }

  /** Start offset of the k-th window of the endless shuffled stream (k = step * B + row). */
  windowStart(k: number): number {
    const epoch = Math.floor(k / this.windows);
    return this.order(epoch)[k - epoch * this.windows] * this.T;
  }

  /** Batch `step` (0-based) of B rows: windows step*B .. step*B + B - 1 of the shuffled stream. */
  batch(step: number, B: number): WindowBatch {
    if (!Number.isInteger(step) || step < 0) throw new Error(`step must be a non-negative integer, got ${step}`);
    if (!Number.isInteger(B) || B < 1) throw new Error(`batch size B must be a positive integer, got ${B}`);
    const T = this.T;
    const out = new Int32Array(B * (T + 1)); // (B, T+1)
    const starts: number[] = [];
    for (let b = 0; b < B; b++) {
      const s = this.windowStart(step * B + b);
      starts.push(s);
      out.set(this.tokens.subarray(s, s + T + 1), b * (T + 1));
    }
    return { tokens: out, B, T, starts, epoch: Math.floor((step * B) / this.windows) };
  }
}

/**
 * Evaluation batches in split order, no shuffling: every window once, the last batch possibly shorter.
 * The same split and (B, T) always give the same batches.
 */
export function* sequentialBatches(tokens: Int32Array, B: number, T: number): Generator<WindowBatch> {
  const windows = Math.floor((tokens.length - 1) / T);
  for (let w0 = 0; w0 < windows; w0 += B) yield windowBatch(tokens, w0, Math.min(B, windows - w0), T);
}

/**
 * `count` of the sequential batches spread evenly over the split (the first included), all of them when there are
 * no more: an evaluation on a budget that sees the whole split, not its first documents only (`evalBatches` x B
 * windows from the start covered the first 10 % of the default val split, State of the Union addresses alone).
 */
export function* spreadBatches(tokens: Int32Array, B: number, T: number, count: number): Generator<WindowBatch> {
  const windows = Math.floor((tokens.length - 1) / T);
  const batches = Math.ceil(windows / B);
  if (count >= batches) return yield* sequentialBatches(tokens, B, T);
  for (let k = 0; k < count; k++) {
    const w0 = Math.floor((k * batches) / count) * B;
    yield windowBatch(tokens, w0, Math.min(B, windows - w0), T);
  }
}

/** Windows w0 .. w0 + rows - 1 (T + 1 tokens each, window w starting at token w T) as one batch. */
function windowBatch(tokens: Int32Array, w0: number, rows: number, T: number): WindowBatch {
  const out = new Int32Array(rows * (T + 1)); // (rows, T+1)
  const starts: number[] = [];
  for (let b = 0; b < rows; b++) {
    const s = (w0 + b) * T;
    starts.push(s);
    out.set(tokens.subarray(s, s + T + 1), b * (T + 1));
  }
  return { tokens: out, B: rows, T, starts, epoch: 0 };
}
