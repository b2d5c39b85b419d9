// Loss aggregation: how per-token losses l (R, T) become one scalar, as one named option applied in one
// place. Each aggregation returns per-token weights w (R, T), loss = sum w * l, so the gradient is
// w * dl/dlogprob with no other special case. R = B*G rows, T tokens per row, flat row-major arrays; mask
// (R, T) nonzero = token in the loss (answer tokens). The normaliser is always the whole mini-batch's.
import { createRegistry } from '@lwz/core';

/** A (R, T) token layout with its loss mask. */
export interface TokenMask {
  rows: number;
  T: number;
  /** (R, T) nonzero = token in the loss */
  mask: ArrayLike<number>;
}

/** Global normalisers of one optimizer step's mini-batch (all its micro-batches together). */
export interface LossNormalizer {
  /** masked tokens in the whole mini-batch (token-mean) */
  tokens: number;
  /** rows with >= 1 masked token in the whole mini-batch (seq-mean-*) */
  sequences: number;
  /** the constant L of seq-mean-token-sum-norm, e.g. the rollout's max answer tokens */
  maxLength: number;
}

/** (mask, global normaliser) -> per-token weights (R, T), 0 outside the mask. */
export type Aggregation = (tokens: TokenMask, norm: LossNormalizer) => Float64Array;

export function checkTokenMask(m: TokenMask, where: string): void {
  if (!(Number.isInteger(m.rows) && m.rows >= 0 && Number.isInteger(m.T) && m.T >= 0))
    throw new Error(`${where}: rows and T must be integers >= 0, got rows=${m.rows} T=${m.T}`);
  if (m.mask.length !== m.rows * m.T) throw new Error(`${where}: mask has ${m.mask.length} values, expected (R, T) = ${m.rows * m.T}`);
}

/** Masked tokens of each row (R,). */
export function rowLengths(m: TokenMask): Int32Array {
  const len = new Int32Array(m.rows); // (R,)
  for (let r = 0; r < m.rows; r++) {
    let n = 0;
    for (let t = r * m.T; t < (r + 1) * m.T; t++) if (m.mask[t] !== 0) n++;
    len[r] = n;
  }
  return len;
}

/**
 * The normaliser of a mini-batch made of these micro-batches. `maxLength` is the constant L of
 * seq-mean-token-sum-norm (0 = not set: only that aggregation needs it, and it fails when it is 0).
 */
export function lossNormalizer(microBatches: readonly TokenMask[], maxLength = 0): LossNormalizer {
  if (!(Number.isFinite(maxLength) && maxLength >= 0)) throw new Error(`lossNormalizer: maxLength must be >= 0, got ${maxLength}`);
  let tokens = 0;
  let sequences = 0;
  microBatches.forEach((m, i) => {
    checkTokenMask(m, `lossNormalizer: micro-batch ${i}`);
    for (const n of rowLengths(m)) {
      tokens += n;
      if (n > 0) sequences++;
    }
  });
  return { tokens, sequences, maxLength };
}

function need(norm: LossNormalizer, field: keyof LossNormalizer, local: number, name: string): number {
  const v = norm[field];
  if (!(Number.isFinite(v) && v > 0)) throw new Error(`loss aggregation ${name}: normalizer.${field} must be > 0, got ${v}`);
  if (field !== 'maxLength' && local > v)
    throw new Error(
      `loss aggregation ${name}: this micro-batch has ${local} ${field} but normalizer.${field} is ${v}; ` +
        'compute the normalizer over the whole mini-batch (lossNormalizer)',
    );
  return v;
}

/** Weight c for every masked token, 0 elsewhere. */
function constantWeights(m: TokenMask, c: number): Float64Array {
  const w = new Float64Array(m.rows * m.T); // (R, T)
  for (let i = 0; i < w.length; i++) if (m.mask[i] !== 0) w[i] = c;
  return w;
}

/*
 * len_r = masked tokens of row r; N_tok, N_seq and L come from the caller as a LossNormalizer computed over the
 * WHOLE mini-batch (every micro-batch of one optimizer step: lossNormalizer), never per micro-batch: then the
 * micro-batch losses and gradients sum exactly to the mini-batch's. N_seq counts rows with >= 1 masked token.
 *   token-mean               w = 1 / N_tok              (DAPO; verl's default)
 *   seq-mean-token-mean      w = 1 / (N_seq * len_r)    (original GRPO, DeepSeekMath eq. 3)
 *   seq-mean-token-sum-norm  w = 1 / (N_seq * L)        (Dr. GRPO, arXiv 2503.20783: 1/|o_i| becomes a constant L,
 *                                                        the generation budget, so length is not penalised)
 * Departure from verl: its seq-mean-token-sum-norm divides the batch's token sum by L without the 1/N_seq, so
 * its scale grows with the batch size; ours keeps Dr. GRPO's 1/G-style mean over sequences.
 */
const registry = createRegistry<Aggregation>('loss aggregation');

registry.register('token-mean', (m, norm) => {
  const len = rowLengths(m);
  const local = len.reduce((a, b) => a + b, 0);
  return constantWeights(m, 1 / need(norm, 'tokens', local, 'token-mean'));
});

registry.register('seq-mean-token-mean', (m, norm) => {
  const len = rowLengths(m);
  const nSeq = need(norm, 'sequences', len.filter((n) => n > 0).length, 'seq-mean-token-mean');
  const w = new Float64Array(m.rows * m.T); // (R, T)
  for (let i = 0; i < w.length; i++) {
    if (m.mask[i] !== 0) w[i] = 1 / (nSeq * len[Math.floor(i / m.T)]);
  }
  return w;
});

registry.register('seq-mean-token-sum-norm', (m, norm) => {
  const len = rowLengths(m);
  const nSeq = need(norm, 'sequences', len.filter((n) => n > 0).length, 'seq-mean-token-sum-norm');
  return constantWeights(m, 1 / (nSeq * need(norm, 'maxLength', 0, 'seq-mean-token-sum-norm')));
});

export function registerAggregation(name: string, fn: Aggregation): void {
  registry.register(name, fn);
}

/** The aggregation `name`; unknown names fail listing the valid ones. */
export function getAggregation(name: string): Aggregation {
  return registry.get(name);
}

export function aggregationNames(): string[] {
  return registry.names();
}

/** sum_{r,t} w[r,t] * values[r,t] with the weights of aggregation `name`: one micro-batch's share. */
export function aggregate(name: string, values: ArrayLike<number>, tokens: TokenMask, norm: LossNormalizer): number {
  checkTokenMask(tokens, `aggregate(${name})`);
  if (values.length !== tokens.mask.length)
    throw new Error(`aggregate(${name}): ${values.length} values for a (R, T) mask of ${tokens.mask.length}`);
  const w = getAggregation(name)(tokens, norm);
  let s = 0;
  for (let i = 0; i < w.length; i++) if (w[i] !== 0) s += w[i] * values[i];
  return s;
}
