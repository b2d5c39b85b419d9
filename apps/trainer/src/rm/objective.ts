// The reward model's objectives on token sequences: Bradley-Terry on a pair's final scores (plus a centring
// term), the per-token Bradley-Terry variant, the LM loss that keeps the trunk a language model, and the
// held-out pairwise accuracy. Pure steps on a model and encoded pairs: the run loop (data, schedule,
// checkpoints, resume) is run.ts.
import { lengthBatches, rightPad } from '@lwz/judges';
import { tensor, type Device } from '@lwz/kernels';
import type { Qwen2Model } from '@lwz/model';
import type { Tokenizer } from '@lwz/tokenizer';
import { packByLength } from '../packing';
import type { PreferencePair } from './pairs';
import type { RmAccuracy } from './report';

/** Right-padded (B, T) ids tensor and lengths (the RM scorers' own padding rule, @lwz/judges rightPad). */
function padded(seqs: readonly number[][], padId: number, device: Device) {
  const { ids, B, T, lengths } = rightPad(seqs, padId);
  return { ids: tensor(Int32Array.from(ids), [B, T], { device, dtype: 'i32' }), lengths };
}

/**
 * Raw scores (N,) of token sequences, forward only, in the sequences' order: scored in length-sorted batches of
 * `batchSize` (the scorers' lengthBatches), so a batch pads little. A sequence's score does not depend on its
 * batch beyond float rounding.
 */
export function scoreSequences(model: Qwen2Model, seqs: readonly number[][], padId: number, batchSize = 16): number[] {
  const out = new Array<number>(seqs.length);
  for (const idx of lengthBatches(
    seqs.map((s) => s.length),
    batchSize,
  )) {
    const { ids, lengths } = padded(
      idx.map((i) => seqs[i]),
      padId,
      model.device,
    );
    const t = model.forwardScores({ ids, lengths });
    const s = t.toHost();
    idx.forEach((i, k) => (out[i] = s[k]));
    t.dispose();
    ids.dispose();
  }
  return out;
}

/**
 * An update's pairs (chosen i at 2i, rejected at 2i+1 of `seqs`) as micro-batches of pair indices, so each
 * forward pads little: pairs sorted by their longer sequence, longest first (ties by index), each group holding
 * as many as keep its padded tokens (2 x pairs x its longest) within `maxTokens` (a longer pair alone). The
 * losses are sums over pairs normalised by the whole update's counts, so the gradient is the one-batch gradient
 * (up to float summation order). On the default's pairs (40-213 words) one padded batch of 16 sequences was 59 %
 * text, groups of 1536 tokens 84 % (benchmarks/model/rm-microbatch-ab.ts).
 */
export function pairMicroBatches(seqs: readonly number[][], maxTokens: number): number[][] {
  const longest = Array.from({ length: seqs.length / 2 }, (_, i) => Math.max(seqs[2 * i].length, seqs[2 * i + 1].length));
  const order = longest.map((_, i) => i).sort((a, b) => longest[b] - longest[a] || a - b);
  return packByLength(order, (i) => longest[i], maxTokens, 2);
}

/** The sequences of pair group `g` (pairMicroBatches), chosen then rejected per pair. */
const groupSeqs = <T>(all: readonly T[], g: readonly number[]): T[] => g.flatMap((i) => [all[2 * i], all[2 * i + 1]]);

const softplus = (x: number) => (x > 30 ? x : Math.log1p(Math.exp(x)));
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/**
 * The Bradley-Terry loss with centring over sequence scores `s` (chosen i at 2i, rejected at 2i+1), and its
 * gradient dL/ds: dL/ds_c = -sigmoid(s_r - s_c)/P + 2 c s_c/(2P), dL/ds_r = +sigmoid(s_r - s_c)/P + 2 c s_r/(2P),
 * with P = `total` pairs (the whole update's, when `s` holds one micro-batch of it: the parts then sum to the
 * whole's loss, accuracy and gradient). Pure: both update steps below call it on the last-token scores.
 */
function bradleyTerryLoss(
  s: ArrayLike<number>,
  centerCoef: number,
  total = s.length / 2,
): { loss: number; accuracy: number; d: Float32Array } {
  const n = s.length / 2;
  const P = total;
  const d = new Float32Array(2 * n); // float32, as the gradient tensor holds it: each step rounds as before
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const margin = s[2 * i] - s[2 * i + 1];
    loss += softplus(-margin) / P;
    correct += margin > 0 ? 1 : margin === 0 ? 0.5 : 0;
    const g = sigmoid(-margin) / P;
    d[2 * i] = -g;
    d[2 * i + 1] = g;
  }
  for (let k = 0; k < 2 * n; k++) {
    loss += (centerCoef * s[k] * s[k]) / (2 * P);
    d[k] += (centerCoef * 2 * s[k]) / (2 * P);
  }
  return { loss, accuracy: correct / P, d };
}

/**
 * One Bradley-Terry update's forward and backward over `pairs` (chosen i at row 2i, rejected at 2i+1):
 * bradleyTerryLoss on the last-token scores, in pair micro-batches of at most `maxTokens` padded tokens
 * (pairMicroBatches; gradients accumulate). Returns the loss and the batch accuracy.
 */
export function bradleyTerryStep(model: Qwen2Model, seqs: readonly number[][], padId: number, centerCoef: number, maxTokens = Infinity) {
  const P = seqs.length / 2;
  let loss = 0;
  let accuracy = 0;
  for (const g of pairMicroBatches(seqs, maxTokens)) {
    const { ids, lengths } = padded(groupSeqs(seqs, g), padId, model.device);
    const scoresT = model.forwardScores({ ids, lengths }, { grad: true }); // (2 |g|,)
    const bt = bradleyTerryLoss(scoresT.toHost(), centerCoef, P);
    scoresT.dispose();
    ids.dispose();
    const dScores = tensor(bt.d, [2 * g.length], { device: model.device });
    model.backward(dScores);
    dScores.dispose();
    loss += bt.loss;
    accuracy += bt.accuracy;
  }
  return { loss, accuracy };
}

/**
 * bradleyTerryStep plus a per-position loss on the same head (`tokenCoef`): the head at position t scores the
 * prefix ids[0..t] as a logit of "real text so far", trained with binary cross-entropy against `breaks`
 * (sequence i's first corrupted position: its prefixes from there on are labelled 0, earlier ones 1; the
 * chosen passages' length, so every prefix is real). Every position of every pair teaches the trunk where
 * text stops being real (the second copy, the other document, the out-of-order sentence), a dense signal
 * beside the one Bradley-Terry bit per pair, as ELECTRA's replaced-token detection trains its discriminator.
 * loss = BT + center (at the last position, as bradleyTerryStep) + tokenCoef * mean over valid positions of
 * BCE(sigmoid(v_t), y_t); dL/dv_t = tokenCoef * (sigmoid(v_t) - y_t) / count, count being every valid position of
 * the update; in pair micro-batches of at most `maxTokens` padded tokens, as bradleyTerryStep.
 */
export function bradleyTerryTokenStep(
  model: Qwen2Model,
  seqs: readonly number[][],
  breaks: readonly number[],
  padId: number,
  centerCoef: number,
  tokenCoef: number,
  maxTokens = Infinity,
) {
  const P = seqs.length / 2;
  const count = seqs.reduce((a, s) => a + s.length, 0); // every valid position of the update: the mean's divisor
  let loss = 0;
  let accuracy = 0;
  let tokenLoss = 0;
  for (const g of pairMicroBatches(seqs, maxTokens)) {
    const sub = groupSeqs(seqs, g);
    const subBreaks = groupSeqs(breaks, g);
    const { ids, lengths } = padded(sub, padId, model.device);
    const T = ids.shape[1];
    const scoresT = model.forwardScores({ ids, lengths }, { grad: true, positions: 'all' }); // (2 |g|, T)
    const v = scoresT.toHost();
    scoresT.dispose();
    ids.dispose();
    const d = new Float32Array(sub.length * T);
    const last = (k: number) => k * T + lengths[k] - 1;
    const bt = bradleyTerryLoss(
      Array.from({ length: sub.length }, (_, k) => v[last(k)]),
      centerCoef,
      P,
    );
    bt.d.forEach((x, k) => (d[last(k)] = x));
    for (let k = 0; k < sub.length; k++)
      for (let t = 0; t < lengths[k]; t++) {
        const x = v[k * T + t];
        const y = t < subBreaks[k] ? 1 : 0;
        tokenLoss += (y ? softplus(-x) : softplus(x)) / count;
        d[k * T + t] += (tokenCoef * (sigmoid(x) - y)) / count;
      }
    const dScores = tensor(d, [sub.length, T], { device: model.device });
    model.backward(dScores);
    dScores.dispose();
    loss += bt.loss;
    accuracy += bt.accuracy;
  }
  return { loss: loss + tokenCoef * tokenLoss, accuracy, tokenLoss };
}

/** The first corrupted position of each pair's encoded rejected text (pairs.ts' rejectedBreak, in tokens). */
export function rejectedBreakTokens(tokenizer: Tokenizer, p: PreferencePair): number {
  return tokenizer.encode(p.rejected.slice(0, p.rejectedBreak), { addSpecialTokens: false }).length;
}

/**
 * Accumulate the gradient of coef * (mean next-token NLL over `seqs`), an auxiliary LM loss on the chosen
 * passages that keeps the language model's features while the value head trains. Returns the mean NLL.
 */
export function lmLossStep(model: Qwen2Model, seqs: readonly number[][], padId: number, coef: number): number {
  const { ids: flat, B, T, lengths } = rightPad(seqs, padId);
  const tgt = new Int32Array(B * T).fill(-1);
  let n = 0;
  for (let b = 0; b < B; b++)
    for (let t = 0; t + 1 < lengths[b]; t++) {
      tgt[b * T + t] = flat[b * T + t + 1];
      n += 1;
    }
  const ids = tensor(Int32Array.from(flat), [B, T], { device: model.device, dtype: 'i32' });
  const targets = tensor(tgt, [B, T], { device: model.device, dtype: 'i32' });
  const { logprobs } = model.forwardLogprobs({ ids, targets, lengths }, { grad: true });
  const lp = logprobs.toHost();
  let sum = 0;
  for (let i = 0; i < lp.length; i++) if (tgt[i] >= 0) sum += lp[i];
  const w = tensor(
    Float32Array.from(tgt, (t) => (t >= 0 ? -coef / Math.max(1, n) : 0)),
    [B, T],
    { device: model.device },
  );
  model.backward(w);
  for (const t of [w, logprobs, ids, targets]) t.dispose();
  return -sum / Math.max(1, n);
}

/** Held-out accuracy per type (a tie counts half); `seqs` are the pairs' encoded texts, chosen then rejected. */
export function heldoutAccuracy(model: Qwen2Model, pairs: readonly PreferencePair[], seqs: readonly number[][], padId: number): RmAccuracy {
  const s = scoreSequences(model, seqs, padId);
  const byType: RmAccuracy['byType'] = {};
  let all = 0;
  let sumC = 0;
  let sumR = 0;
  pairs.forEach((p, i) => {
    const m = s[2 * i] - s[2 * i + 1];
    const win = m > 0 ? 1 : m === 0 ? 0.5 : 0;
    const t = (byType[p.type] ??= { accuracy: 0, pairs: 0 });
    t.accuracy += win;
    t.pairs += 1;
    all += win;
    sumC += s[2 * i];
    sumR += s[2 * i + 1];
  });
  for (const t of Object.values(byType)) t.accuracy /= t.pairs;
  const n = Math.max(1, pairs.length);
  return { all: all / n, byType, meanChosen: sumC / n, meanRejected: sumR / n };
}
