// The training view of one rollout batch: each answer becomes a row prompt + answer tokens, right-padded,
// with targets shifted left and a mask over the positions that predict answer tokens (the loss covers the
// answer only). Rows are packed into micro-batches under a padded-token budget, and mini-batches are made
// of whole prompt groups. Not the loss: policy losses live in @lwz/optimizer.
import { tensor, type Device, type Tensor } from '@lwz/kernels';
import { packByLength } from '../packing';

export interface TrainRow {
  /** (P,) prompt ids */
  prompt: readonly number[];
  /** (L,) generated ids (the one that ended the answer included) */
  answer: readonly number[];
  /** the combined advantage of this answer */
  advantage: number;
  /** prompt group (rows of one prompt share it) */
  group: number;
  /** (L,) the rollout's log-probs of the answer tokens under the sampling weights (raw, temperature 1) */
  logprobs?: readonly number[];
}

export interface MicroBatch {
  /** row indices into the step's rows */
  rows: number[];
  B: number;
  T: number;
  /** (B, T) inputs, right-padded with 0 */
  ids: Int32Array;
  /** (B, T) next token at each position, -1 where ignored */
  targets: Int32Array;
  /** (B, T) 1 at positions predicting an answer token */
  mask: Uint8Array;
  /** (B,) valid tokens per row */
  lengths: Int32Array;
  /** (B,) */
  advantages: Float64Array;
}

/** One micro-batch of the given rows (T = the longest row). */
export function microBatch(all: readonly TrainRow[], rows: number[]): MicroBatch {
  const B = rows.length;
  const T = Math.max(...rows.map((r) => all[r].prompt.length + all[r].answer.length));
  const ids = new Int32Array(B * T);
  const targets = new Int32Array(B * T).fill(-1);
  const mask = new Uint8Array(B * T);
  const lengths = new Int32Array(B);
  const advantages = new Float64Array(B);
  rows.forEach((r, b) => {
    const { prompt, answer, advantage } = all[r];
    const seq = [...prompt, ...answer];
    lengths[b] = seq.length;
    advantages[b] = advantage;
    for (let t = 0; t < seq.length; t++) ids[b * T + t] = seq[t];
    for (let t = 0; t + 1 < seq.length; t++) targets[b * T + t] = seq[t + 1];
    // position t predicts seq[t + 1]: answer tokens are seq[P .. P + L - 1], predicted at P - 1 .. P + L - 2
    for (let t = prompt.length - 1; t < seq.length - 1; t++) mask[b * T + t] = 1;
  });
  return { rows, B, T, ids, targets, mask, lengths, advantages };
}

/** Split rows (in the given order) into micro-batches whose padded size B x T stays within `maxTokens` (one row may exceed it alone). */
export function packMicroBatches(all: readonly TrainRow[], order: readonly number[], maxTokens: number): MicroBatch[] {
  return packByLength(order, (r) => all[r].prompt.length + all[r].answer.length, maxTokens).map((g) => microBatch(all, g));
}

/** Mini-batches of whole groups: the groups in `groupOrder` dealt into k parts of near-equal size. */
export function miniBatchRows(all: readonly TrainRow[], groupOrder: readonly number[], k: number): number[][] {
  const byGroup = new Map<number, number[]>();
  all.forEach((r, i) => byGroup.set(r.group, [...(byGroup.get(r.group) ?? []), i]));
  const parts = Math.max(1, Math.min(k, groupOrder.length));
  const out: number[][] = Array.from({ length: parts }, () => []);
  groupOrder.forEach((g, i) => out[Math.floor((i * parts) / groupOrder.length)].push(...(byGroup.get(g) ?? [])));
  return out.filter((p) => p.length);
}

/**
 * Device tensors of a micro-batch for forwardLogprobs. Targets are kept at the answer positions only (the mask):
 * the losses and log-probs read nothing else, and the model runs its head only where a target is scored, so the
 * prompt's positions skip the vocabulary projection and its backward.
 */
export function batchTensors(mb: MicroBatch, device: Device): { ids: Tensor; targets: Tensor; lengths: Int32Array } {
  return {
    ids: tensor(mb.ids, [mb.B, mb.T], { device, dtype: 'i32' }),
    targets: tensor(
      mb.targets.map((t, i) => (mb.mask[i] ? t : -1)),
      [mb.B, mb.T],
      { device, dtype: 'i32' },
    ),
    lengths: mb.lengths,
  };
}
