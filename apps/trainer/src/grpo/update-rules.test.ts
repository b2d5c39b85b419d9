// The update's rules on the 4 rows of tinyGrpoUpdate (prompts of 3 tokens, answers of 5, groups of 2), each
// against a value worked out by hand or an independent way of getting it: one optimizer step per mini-batch and
// epoch; the padded tokens forwarded, micro-batches kept within their token budget; the same loss however a
// mini-batch is split into micro-batches (the normaliser is the mini-batch's); the gradient norm as the mean over
// the steps taken; the step raising sum A log pi; old log-probs from the rollout or recomputed; the ratio against
// the old policy, not the reference.
import { Rng } from '@lwz/core';
import { initModel } from '@lwz/model';
import { tinyConfig } from '@lwz/model/testing';
import { tinyGrpoUpdate, tinyRows } from './testing';
import { answerLogprobs } from './update';

const CFG = tinyConfig();
const model = () => initModel(CFG, new Rng(31));

it('takes one optimizer step per mini-batch and epoch, and counts the padded tokens forwarded', () => {
  // every row is 3 + 5 = 8 tokens, so a micro-batch pads nothing: a mini-batch of one group forwards 2 x 8 tokens
  const { result } = tinyGrpoUpdate(model(), { ppoEpochs: 3, miniBatches: 2 });
  expect([result.updates, result.skipped, result.idle]).toEqual([6, 0, 0]);
  expect(result.tokens).toBe(6 * 16);
  const one = tinyGrpoUpdate(model(), { ppoEpochs: 1, miniBatches: 1 }).result;
  expect([one.updates, one.tokens]).toEqual([1, 32]);
});

it('packs a mini-batch into micro-batches of at most microBatchTokens padded tokens', () => {
  // one group of a 3 + 1 and a 3 + 7 token row: under a budget of 10 each goes alone (4 + 10 tokens forwarded);
  // together they would pad the short one to 10 (2 x 10), which a budget of 20 allows
  const rng = new Rng(8);
  const row = (n: number, advantage: number) => ({
    prompt: [1, 2, 3],
    answer: Array.from({ length: n }, () => rng.int(CFG.vocabSize)),
    advantage,
    group: 0,
  });
  const rows = [row(1, -1), row(7, 1)];
  expect(tinyGrpoUpdate(model(), { rows, miniBatches: 1, microBatchTokens: 10 }).result.tokens).toBe(14);
  expect(tinyGrpoUpdate(model(), { rows, miniBatches: 1, microBatchTokens: 20 }).result.tokens).toBe(20);
});

it('gives the same update however a mini-batch is split into micro-batches (normalised over the whole mini-batch)', () => {
  const advantages = [-1, 0.5, 2, -0.25];
  // one mini-batch: old log-probs recomputed from the same weights, so r = 1 and the token-mean loss is -mean A
  // (every row has 5 answer tokens): -(-1 + 0.5 + 2 - 0.25) / 4 = -0.3125
  for (const microBatchTokens of [4096, 8]) {
    const { result } = tinyGrpoUpdate(model(), { advantages, miniBatches: 1, microBatchTokens });
    expect(result.loss).toBeCloseTo(-0.3125, 6);
    expect(result.metrics.tokens).toBe(20);
  }
  // two mini-batches, the second after the first's step (r != 1): one micro-batch per row against one per mini-batch
  const [whole, split] = [4096, 8].map((microBatchTokens) => tinyGrpoUpdate(model(), { advantages, microBatchTokens }).result);
  expect(split.loss).toBeCloseTo(whole.loss, 5);
  expect(split.gradNorm).toBeCloseTo(whole.gradNorm, 4);
  expect(split.metrics.pgLoss).toBeCloseTo(whole.metrics.pgLoss, 5);
  expect(split.metrics.ratioMax).toBeCloseTo(whole.metrics.ratioMax, 5);
});

it('reports the gradient norm as the mean over the optimizer steps taken', () => {
  // lr 0: the weights never move, so each group's mini-batch has the gradient it has alone
  const rows = tinyRows(CFG.vocabSize, [-1, 1, -3, 3]);
  const m = model();
  const alone = [0, 1].map((g) => tinyGrpoUpdate(m, { rows: rows.filter((r) => r.group === g), miniBatches: 1, lr: 0 }).result.gradNorm);
  expect(alone[0]).toBeGreaterThan(0);
  expect(alone[1]).not.toBeCloseTo(alone[0], 3);
  const both = tinyGrpoUpdate(m, { rows, miniBatches: 2, lr: 0 }).result;
  expect(both.updates).toBe(2);
  expect(both.gradNorm).toBeCloseTo((alone[0] + alone[1]) / 2, 5);
});

it('steps the policy up the advantage: sum over rows of A x (change of the answer log-prob) is positive', () => {
  const m = model();
  const rows = tinyRows(CFG.vocabSize, [-1, 1, 0.5, -0.5]);
  const sum = (a: Float32Array) => a.reduce((s, v) => s + v, 0);
  const before = answerLogprobs(m, rows, Infinity).map(sum);
  tinyGrpoUpdate(m, { rows, miniBatches: 1, lr: 1e-3 });
  const after = answerLogprobs(m, rows, Infinity).map(sum);
  // a small step against the gradient of -mean A log pi raises its first-order objective
  expect(rows.reduce((s, r, i) => s + r.advantage * (after[i] - before[i]), 0)).toBeGreaterThan(0);
});

it("takes the rollout's old log-probs, or recomputes them with recomputeOld", () => {
  const m = model();
  const rows = tinyRows(CFG.vocabSize).map((r) => ({ ...r, logprobs: r.answer.map(() => -1) }));
  const current = answerLogprobs(m, rows, Infinity);
  const kept = tinyGrpoUpdate(m, { rows, recomputeOld: false, lr: 0 }).result;
  kept.oldLogprobs.forEach((lp) => expect(Array.from(lp)).toEqual([-1, -1, -1, -1, -1]));
  const recomputed = tinyGrpoUpdate(m, { rows, recomputeOld: true, lr: 0 }).result;
  recomputed.oldLogprobs.forEach((lp, i) => expect(lp).toBeAllClose(current[i], { atol: 1e-6, rtol: 0 }));
});

it('takes the ratio against the old policy and the KL against the reference', () => {
  // one mini-batch with old log-probs recomputed from the policy itself: every ratio is exactly 1, while the KL to
  // another model (a different init) is not 0
  const ref = initModel(CFG, new Rng(32));
  const { result } = tinyGrpoUpdate(model(), { ref, miniBatches: 1 });
  expect(result.metrics.ratioMin).toBeCloseTo(1, 6);
  expect(result.metrics.ratioMax).toBeCloseTo(1, 6);
  expect(result.metrics.approxKlOld).toBeCloseTo(0, 9);
  expect(result.metrics.klRef).toBeGreaterThan(1e-3);
});

it('reports the loss as the mean over every mini-batch of every epoch', () => {
  // lr 0: r = 1 throughout, so a group's token-mean loss is -mean A: 0 for (-1, 1), -0.5 for (0.5, 0.5); 3 epochs
  const { result } = tinyGrpoUpdate(model(), { advantages: [-1, 1, 0.5, 0.5], ppoEpochs: 3, lr: 0 });
  expect(result.updates).toBe(6);
  expect(result.loss).toBeCloseTo(-0.25, 6);
});

it('stops with a NaN loss, no step and no throw, when the policy or the reference gives a non-finite log-prob', () => {
  const broken = () => {
    const m = model();
    m.trainableParams()[0].value.f32.fill(Number.NaN);
    return m;
  };
  // the rollout's old log-probs are finite, so only the policy's own forward sees the broken weights
  const rows = tinyRows(CFG.vocabSize).map((r) => ({ ...r, logprobs: r.answer.map(() => -1) }));
  const policy = tinyGrpoUpdate(broken(), { rows, recomputeOld: false }).result;
  expect(policy.loss).toBeNaN();
  expect(policy.updates).toBe(0);
  const ref = tinyGrpoUpdate(model(), { ref: broken() }).result;
  expect(ref.loss).toBeNaN();
  expect(ref.updates).toBe(0);
});

it('clips the gradient to gradClip and steps by lr (AdamW: the first step moves each weight by about lr)', () => {
  const m = model();
  const before = m.trainableParams().map((p) => Float32Array.from(p.value.f32));
  const { result, named } = tinyGrpoUpdate(m, { miniBatches: 1, gradClip: 1e-3, lr: 1e-3 });
  expect(result.gradNorm).toBeGreaterThan(1e-3); // the norm before clipping
  const clipped = Math.sqrt(named.reduce((s, p) => s + p.grad.f32.reduce((a, g) => a + g * g, 0), 0));
  expect(clipped).toBeCloseTo(1e-3, 6);
  // step 1 of Adam: m / sqrt(v) = sign(g), so |change| = lr (decay adds lr * 0.01 |w|, ~1e-6 here)
  const moves = m.trainableParams().flatMap((p, k) => Array.from(p.value.f32, (v, i) => Math.abs(v - before[k][i])).filter((d) => d > 0));
  moves.sort((a, b) => a - b);
  expect(moves[moves.length >> 1]).toBeCloseTo(1e-3, 4); // Adam's eps takes a little off the smallest gradients
});
