// The update half of a GRPO step: old (and reference) log-probs recomputed once with the current weights,
// then ppoEpochs x mini-batches of the clipped policy loss (@lwz/optimizer's registry) forward/backward
// over micro-batches, gradient accumulation into one AdamW step per mini-batch. The loss of a mini-batch is
// normalised globally over all of its micro-batches (policyLossOptions), never per micro-batch.
// Old log-probs: the rollout's own (raw policy, same weights; our engine matches the training forward to
// ~1e-7, see rollout/logprob_abs_diff), or, with recomputeOld (as verl does, and needed when generation ran
// elsewhere, e.g. vLLM in bf16), one extra no-grad forward.
import type { Rng } from '@lwz/core';
import { tensor, type Tensor } from '@lwz/kernels';
import { withoutAdapters, type Qwen2Model } from '@lwz/model';
import {
  clipGradNorm,
  getPolicyLoss,
  mergePolicyLossMetrics,
  policyLossOptions,
  type AdamW,
  type PolicyLossConfig,
  type PolicyLossMetrics,
} from '@lwz/optimizer';
import { batchTensors, miniBatchRows, packMicroBatches, type MicroBatch, type TrainRow } from './batch';

export interface UpdateInput {
  model: Qwen2Model;
  /**
   * the start policy for the KL metric / penalty (absent: not computed): a frozen copy, or 'adapters-off' for a LoRA
   * policy, whose start is the policy itself with its adapters switched off (the base weights never change)
   */
  ref?: Qwen2Model | 'adapters-off';
  optimizer: AdamW;
  grads: readonly Tensor[];
  rows: readonly TrainRow[];
  loss: PolicyLossConfig;
  ppoEpochs: number;
  miniBatches: number;
  microBatchTokens: number;
  /** recompute old log-probs with a no-grad forward instead of taking the rollout's */
  recomputeOld: boolean;
  gradClip: number;
  lr: number;
  rng: Rng;
}

export interface UpdateResult {
  metrics: PolicyLossMetrics;
  /** NaN when a log-prob of the policy (or of the reference) was not finite: the update stopped there (run.ts stops the run) */
  loss: number;
  /** mean global grad norm over the applied updates */
  gradNorm: number;
  /** optimizer steps applied */
  updates: number;
  /** mini-batches whose gradient norm was not finite: no step was taken (verl skips them the same way) */
  skipped: number;
  /**
   * mini-batches of a step without signal (every row's advantage 0: no group's rewards had spread) whose gradient was
   * exactly zero (no KL or entropy term of its own): no step was taken. AdamW would still have moved the weights by
   * its momentum and decay
   */
  idle: number;
  /** (R,) per row: log-probs of its answer tokens under the weights before the update */
  oldLogprobs: Float32Array[];
  /** tokens forwarded with gradients */
  tokens: number;
}

/** Per row, the answer-position log-probs of `model` (no grad), in row order; forwarded length-sorted, so each micro-batch pads little. */
export function answerLogprobs(model: Qwen2Model, rows: readonly TrainRow[], maxTokens: number): Float32Array[] {
  const out: Float32Array[] = new Array(rows.length);
  for (const mb of packMicroBatches(rows, bySize(rows, [...rows.keys()]), maxTokens)) {
    const t = batchTensors(mb, model.device);
    const { logprobs } = model.forwardLogprobs({ ids: t.ids, targets: t.targets, lengths: t.lengths });
    const host = logprobs.toHost();
    logprobs.dispose();
    t.ids.dispose();
    t.targets.dispose();
    mb.rows.forEach((r, b) => {
      const start = rows[r].prompt.length - 1;
      out[r] = Float32Array.from(host.subarray(b * mb.T + start, b * mb.T + start + rows[r].answer.length));
    });
  }
  return out;
}

/** Row indices `idx` sorted by length (prompt + answer), shortest first, ties in their given order (a stable sort): packed so, each micro-batch pads little. */
function bySize(rows: readonly TrainRow[], idx: readonly number[]): number[] {
  const len = (r: number) => rows[r].prompt.length + rows[r].answer.length;
  return [...idx].sort((a, b) => len(a) - len(b));
}

/** (B, T) layout of per-row answer log-probs for one micro-batch (0 outside the mask). */
function gather(mb: MicroBatch, rows: readonly TrainRow[], perRow: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(mb.B * mb.T);
  mb.rows.forEach((r, b) => out.set(perRow[r], b * mb.T + rows[r].prompt.length - 1));
  return out;
}

/**
 * One mini-batch's forward and backward, micro-batch by micro-batch (the gradients accumulate): the summed policy loss
 * and the padded tokens it ran; each micro-batch's loss metrics pushed to `parts`. Null where a log-prob came out
 * non-finite (the forward is broken; no loss can be computed).
 */
function backwardMiniBatch(
  model: Qwen2Model,
  micro: ReturnType<typeof packMicroBatches>,
  rows: readonly TrainRow[],
  lp: { old: Float32Array[]; ref: Float32Array[] | undefined },
  lossFn: ReturnType<typeof getPolicyLoss>,
  options: ReturnType<typeof policyLossOptions>,
  parts: PolicyLossMetrics[],
): { loss: number; tokens: number } | null {
  let loss = 0;
  let tokens = 0;
  for (const mb of micro) {
    const t = batchTensors(mb, model.device);
    const { logprobs } = model.forwardLogprobs({ ids: t.ids, targets: t.targets, lengths: t.lengths }, { grad: true });
    const host = logprobs.toHost();
    if (mb.mask.some((m, i) => m !== 0 && !Number.isFinite(host[i]))) {
      for (const x of [logprobs, t.ids, t.targets]) x.dispose();
      return null;
    }
    const res = lossFn(
      {
        rows: mb.B,
        T: mb.T,
        logprobs: host,
        oldLogprobs: gather(mb, rows, lp.old),
        ...(lp.ref ? { refLogprobs: gather(mb, rows, lp.ref) } : {}),
        advantages: mb.advantages,
        mask: mb.mask,
      },
      options,
    );
    logprobs.dispose();
    const weights = tensor(res.dLogprobs, [mb.B, mb.T], { device: model.device });
    model.backward(weights);
    weights.dispose();
    t.ids.dispose();
    t.targets.dispose();
    loss += res.loss;
    parts.push(res.metrics);
    tokens += mb.B * mb.T;
  }
  return { loss, tokens };
}

export function grpoUpdate(u: UpdateInput): UpdateResult {
  const { model, rows } = u;
  const old =
    u.recomputeOld || rows.some((r) => !r.logprobs)
      ? answerLogprobs(model, rows, u.microBatchTokens)
      : rows.map((r) => Float32Array.from(r.logprobs ?? []));
  const ref =
    u.ref === 'adapters-off'
      ? withoutAdapters(model, () => answerLogprobs(model, rows, u.microBatchTokens))
      : u.ref
        ? answerLogprobs(u.ref, rows, u.microBatchTokens)
        : undefined;
  const lossFn = getPolicyLoss(u.loss.name);
  const parts: PolicyLossMetrics[] = [];
  let loss = 0;
  let gradNorm = 0;
  let updates = 0;
  let skipped = 0;
  let idle = 0;
  let tokens = 0;
  // a non-finite log-prob means the forward pass is broken (weights inf, NaN or huge): no loss can be computed, and
  // no later mini-batch repairs it. The update stops with a NaN loss, which the trainer's FiniteGuard reports
  const broken = (): UpdateResult => ({
    metrics: mergePolicyLossMetrics(parts),
    loss: NaN,
    gradNorm: NaN,
    updates,
    skipped,
    idle,
    oldLogprobs: old,
    tokens,
  });
  if ([old, ref ?? []].some((perRow) => perRow.some((a) => a.some((v) => !Number.isFinite(v))))) return broken();
  const groups = [...new Set(rows.map((r) => r.group))];
  const noSignal = rows.every((r) => r.advantage === 0);
  for (let epoch = 0; epoch < u.ppoEpochs; epoch++) {
    const order = u.rng.shuffle([...groups]);
    for (const mini of miniBatchRows(rows, order, u.miniBatches)) {
      const micro = packMicroBatches(rows, bySize(rows, mini), u.microBatchTokens);
      const options = policyLossOptions(
        u.loss,
        micro.map((m) => ({ rows: m.B, T: m.T, mask: m.mask })),
      );
      model.zeroGrad();
      const back = backwardMiniBatch(model, micro, rows, { old, ref }, lossFn, options, parts);
      if (!back) return broken();
      tokens += back.tokens;
      const miniLoss = back.loss;
      const clip = clipGradNorm(u.grads, u.gradClip);
      loss += miniLoss;
      if (!clip.finite) {
        skipped++; // an inf/NaN gradient would make every weight NaN; the next mini-batch zeroes the grads
        continue;
      }
      // A step without signal takes no optimizer step. AdamW on a zero gradient still moves every weight: its first
      // moment replays earlier updates (m / sqrt(v) decays only ~8 % a step at beta 0.9 / 0.95) and the decay shrinks
      // them. A chain whose start policy rarely wrote the format had no spread in 60 of its first 73 steps, and those
      // replays alone walked it to 2-word answers and 0 % valid format (libs/rewards/README.md, session 37). Within a
      // step that has signal, a mini-batch without it still steps (its momentum carries the step's direction): skipping
      // those too changed the default chain's rare such mini-batches, and its outcome with them
      if (noSignal && clip.norm === 0) {
        idle++;
        continue;
      }
      u.optimizer.step(u.lr);
      gradNorm += clip.norm;
      updates++;
    }
  }
  const metrics = mergePolicyLossMetrics(parts);
  const minis = updates + skipped + idle;
  return { metrics, loss: loss / minis, gradNorm: updates ? gradNorm / updates : 0, updates, skipped, idle, oldLogprobs: old, tokens };
}
