// The synthetic copy task (issue #11): can our training stack learn in-context copying at all? Each window
// is L uniform random tokens written twice (row[i] = s[i mod L], i = 0..2L, T = 2L), trained with exactly
// the pretraining update (run.ts: mean next-token loss over the whole window, global-norm clipping, AdamW
// with the pretrain schedule). The first copy is unpredictable (ln V nats/token at best); every target of
// the second copy is a copy of an earlier token, so a model that copies drives `copyLoss` (mean next-token
// loss over positions L..2L-1) towards 0 and one that cannot sits at ln V. Batches are a pure function of
// (seed, step), so the PyTorch side (benchmarks/model/torch_copy.py, driven by copy-vs-torch.ts) can get
// the same ones.
import { Rng } from '@lwz/core';
import type { WindowBatch } from '@lwz/data';
import type { Qwen2Model } from '@lwz/model';
import { makeSchedule } from '@lwz/optimizer';
import { batchLoss, pretrainOptimizer, pretrainUpdate } from './run';

/**
 * Where a window's L random tokens come from (unset: uniform over [0, vocab), the original task).
 * `pool`: only these ids (e.g. the most frequent tokens of the corpus); `subset` K: each window first draws
 * its own K distinct ids from the pool (or from [0, vocab)) and then its L tokens uniformly from those K, so
 * copying is as easy to discover as at a vocabulary of K while every embedding still takes part.
 */
export interface CopyDraw {
  pool?: Int32Array;
  subset?: number;
}

/** A batch of B windows of T = 2L inputs (T + 1 tokens each): L random tokens (see `CopyDraw`), then them again. */
export function copyTaskBatch(seed: number, step: number, B: number, L: number, vocab: number, draw: CopyDraw = {}): WindowBatch {
  const rng = new Rng(seed).split(`copy-task/${step}`);
  const W = 2 * L + 1;
  const tokens = new Int32Array(B * W);
  const ids = draw.pool ?? null;
  const n = ids ? ids.length : vocab;
  const K = draw.subset ?? 0;
  if (K > n) throw new Error(`copy task: subset ${K} larger than the ${n} ids it is drawn from`);
  const scratch = K > 0 ? Int32Array.from({ length: n }, (_, i) => (ids ? ids[i] : i)) : null;
  for (let r = 0; r < B; r++) {
    let span: number[];
    if (scratch) {
      // partial Fisher-Yates: scratch[0..K) becomes K distinct ids (the rest of scratch stays a permutation)
      for (let i = 0; i < K; i++) {
        const j = i + rng.int(n - i);
        [scratch[i], scratch[j]] = [scratch[j], scratch[i]];
      }
      span = Array.from({ length: L }, () => scratch[rng.int(K)]);
    } else {
      span = Array.from({ length: L }, () => (ids ? ids[rng.int(n)] : rng.int(vocab)));
    }
    for (let i = 0; i < W; i++) tokens[r * W + i] = span[i % L];
  }
  return { tokens, B, T: 2 * L, starts: new Array<number>(B).fill(0), epoch: 0 };
}

/**
 * From (B * 2L) log-probs: the mean next-token loss over the second copy (positions L..2L-1, every target a
 * copy) and over the first copy's unpredictable targets (positions 0..L-2; position L-1's target, the second
 * copy's first token, is already a copy of position 0).
 */
export function copyLossOf(logprobs: Float32Array, B: number, L: number): { copyLoss: number; firstLoss: number } {
  const T = 2 * L;
  let copy = 0;
  let first = 0;
  for (let r = 0; r < B; r++) {
    for (let t = 0; t < L - 1; t++) first += logprobs[r * T + t];
    for (let t = L; t < T; t++) copy += logprobs[r * T + t];
  }
  return { copyLoss: -copy / (B * L), firstLoss: -first / (B * (L - 1)) };
}

export interface CopyTaskOptions {
  /** span length L (windows are 2L tokens) */
  span: number;
  batchSize: number;
  steps: number;
  seed: number;
  lr: number;
  warmupSteps: number;
  schedule: string;
  minLrRatio: number;
  beta1: number;
  beta2: number;
  weightDecay: number;
  gradClip: number;
  /** where the training windows' tokens come from (default: uniform over the model's vocabulary) */
  draw?: CopyDraw;
  /** called after each update (e.g. to print progress) */
  onStep?: (row: CopyTaskStep) => void;
}

export interface CopyTaskStep {
  /** 0-based: the loss of the batch that update `step` trained on (before the update) */
  step: number;
  loss: number;
  /** loss over the second copy (positions L..2L-1) */
  copyLoss: number;
  /** loss over the first copy's unpredictable targets (positions 0..L-2): ln V at best */
  firstLoss: number;
  gradNorm: number;
  lr: number;
}

/** Train `model` (in place) on the copy task with the pretraining update; the loss of every step. */
export function trainCopyTask(model: Qwen2Model, o: CopyTaskOptions): CopyTaskStep[] {
  const vocab = model.config.vocabSize;
  const optim = pretrainOptimizer(model, o);
  const lrAt = makeSchedule(o.schedule, { lr: o.lr, warmupSteps: o.warmupSteps, totalSteps: o.steps, minLrRatio: o.minLrRatio });
  const rows: CopyTaskStep[] = [];
  try {
    for (let step = 0; step < o.steps; step++) {
      const batch = copyTaskBatch(o.seed, step, o.batchSize, o.span, vocab, o.draw);
      let parts = { copyLoss: NaN, firstLoss: NaN };
      const lr = lrAt(step);
      const { loss, gradNorm } = pretrainUpdate(model, optim, batch, lr, o.gradClip, (lp) => {
        parts = copyLossOf(lp, o.batchSize, o.span);
      });
      const row = { step, loss, ...parts, gradNorm, lr };
      rows.push(row);
      o.onStep?.(row);
    }
  } finally {
    optim.opt.dispose();
  }
  return rows;
}

/**
 * Copy and first-copy loss of `model` (no training) over `batches` fresh batches drawn as `draw` says; seeds
 * are offset so that they are not the training batches of the same seed.
 */
export function evalCopyLoss(
  model: Qwen2Model,
  seed: number,
  batches: number,
  B: number,
  L: number,
  draw: CopyDraw = {},
): { copyLoss: number; firstLoss: number } {
  let copy = 0;
  let first = 0;
  for (let i = 0; i < batches; i++) {
    const batch = copyTaskBatch(seed + 1_000_003, i, B, L, model.config.vocabSize, draw);
    batchLoss(model, batch, false, (lp) => {
      const parts = copyLossOf(lp, B, L);
      copy += parts.copyLoss;
      first += parts.firstLoss;
    });
  }
  return { copyLoss: copy / batches, firstLoss: first / batches };
}
