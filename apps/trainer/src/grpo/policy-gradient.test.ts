// The GRPO loss through the model (issue #12): @lwz/optimizer's ppo-clip gives dLoss/dlogprob, and
// Qwen2Model.backward(weights) turns it into parameter gradients; they must equal central finite differences
// of the loss computed from forward passes, for sampled entries of every parameter. Also: three micro-batches
// with the global normaliser accumulate the same parameter gradients as one mini-batch.
// The forward is float32 (the model's float64 reference is internal to @lwz/model), so the difference is
// Richardson-extrapolated from central differences at h = 4e-3 and 2e-3 (weights of scale 0.4) and the
// tolerance is |g - fd| <= 3e-4 + 3e-3 |fd| (the worst seen over 5 seeds is under half of it); ratios are
// kept >= 0.05 from the clip bounds so no step crosses one (the first answer token of each row is clipped).
import { Rng } from '@lwz/core';
import { availableDevices, tensor, type Device } from '@lwz/kernels';
import { centralDifference } from '@lwz/kernels/testing';
import { initModel, type Qwen2Model } from '@lwz/model';
import { tinyConfig } from '@lwz/model/testing';
import { getPolicyLoss, policyLossConfigSchema, policyLossOptions, type PolicyLossInput } from '@lwz/optimizer';
import type { TrainRow } from './batch';
import { answerLogprobs } from './update';

const CFG = tinyConfig();
const H = 4e-3;
const TOL_ABS = 3e-4;
const TOL_REL = 3e-3;
const PROMPT = 3; // tokens of prompt per row; the answer's log-probs start at position PROMPT - 1
const ppoClip = getPolicyLoss('ppo-clip');
const config = policyLossConfigSchema.parse({ epsHigh: 0.28, klCoef: 0.05, entropyCoef: 0.01 });

function randomModel(device: Device, seed: number): Qwen2Model {
  const model = initModel(CFG, new Rng(seed), device);
  const rng = new Rng(seed + 1);
  for (const p of model.store.params) {
    const d = p.value.f32;
    for (let i = 0; i < d.length; i++) d[i] = (p.name.endsWith('norm.weight') ? 1 : 0) + 0.4 * rng.normal();
  }
  return model;
}

/** (R, T) ids, targets (next token, -1 past the end), answer mask and row lengths. */
function batch(rng: Rng, lengths: number[]) {
  const T = Math.max(...lengths);
  const R = lengths.length;
  const ids = new Int32Array(R * T);
  const targets = new Int32Array(R * T).fill(-1);
  const mask = new Uint8Array(R * T); // (R, T)
  lengths.forEach((len, r) => {
    const seq = Array.from({ length: len }, () => rng.int(CFG.vocabSize));
    seq.forEach((id, t) => {
      ids[r * T + t] = id;
      if (t + 1 < len) targets[r * T + t] = seq[t + 1];
      if (t >= PROMPT - 1 && t + 1 < len) mask[r * T + t] = 1;
    });
  });
  return { R, T, ids, targets, mask, lengths };
}

type Batch = ReturnType<typeof batch>;

function logprobs(model: Qwen2Model, b: Batch, grad: boolean): Float32Array {
  const device = model.device;
  const { logprobs: lp } = model.forwardLogprobs(
    {
      ids: tensor(b.ids, [b.R, b.T], { device, dtype: 'i32' }),
      targets: tensor(b.targets, [b.R, b.T], { device, dtype: 'i32' }),
      lengths: b.lengths,
    },
    { grad },
  );
  return Float32Array.from(lp.toHost());
}

/**
 * Advantages, and old and reference log-probs near the current ones with every ratio clear of the clip
 * bounds; the first answer token of each row is pushed past the bound its advantage's sign clips at.
 */
function rollout(rng: Rng, lp: Float32Array, b: Batch) {
  const advantages = Float64Array.from({ length: b.R }, () => rng.normal()); // (R,)
  const oldLogprobs = new Float64Array(lp.length); // (R, T)
  for (let i = 0; i < lp.length; i++) {
    const r = Math.floor(i / b.T);
    if (b.mask[i] && !b.mask[i - 1]) {
      oldLogprobs[i] = lp[i] - 0.6 * Math.sign(advantages[r]); // ratio e^0.6 or e^-0.6: clipped
      continue;
    }
    for (;;) {
      const u = 0.25 * rng.normal();
      const ratio = Math.exp(u);
      if (Math.abs(ratio - (1 - config.epsLow)) > 0.05 && Math.abs(ratio - (1 + config.epsHigh)) > 0.05) {
        oldLogprobs[i] = lp[i] - u;
        break;
      }
    }
  }
  const refLogprobs = lp.map((v) => v + 0.2 * rng.normal()); // (R, T)
  return { oldLogprobs, refLogprobs, advantages };
}

const DEVICES = availableDevices().filter((d) => d !== 'cuda');

describe.each(DEVICES)('ppo-clip through Qwen2Model.backward on %s', (device) => {
  it('equals central differences of the loss from forward passes, for every parameter', () => {
    const rng = new Rng(11);
    const model = randomModel(device, 5);
    const b = batch(rng, [8, 6, 7]);
    const lp0 = logprobs(model, b, false);
    const roll = rollout(rng, lp0, b);
    const input = (lp: Float32Array): PolicyLossInput => ({ rows: b.R, T: b.T, logprobs: lp, mask: b.mask, ...roll });
    const o = policyLossOptions(config, [{ rows: b.R, T: b.T, mask: b.mask }]);
    const lossAt = (): number => ppoClip(input(logprobs(model, b, false)), o).loss;

    model.zeroGrad();
    const res = ppoClip(input(logprobs(model, b, true)), o);
    expect(res.metrics.clipFracLow + res.metrics.clipFracHigh).toBeGreaterThanOrEqual(3 / res.metrics.tokens); // clipped and unclipped tokens
    model.backward(tensor(res.dLogprobs, [b.R, b.T], { device }));
    let checked = 0;
    for (const p of model.trainableParams()) {
      const grad = Float32Array.from(p.grad?.toHost() ?? []);
      const theta = p.value.f32;
      const order = Array.from(grad.keys()).sort((i, j) => Math.abs(grad[j]) - Math.abs(grad[i]));
      for (const i of [order[0], order[1], rng.int(theta.length)]) {
        const central = (h: number): number => centralDifference(theta, i, lossAt, h);
        const fd = (4 * central(H / 2) - central(H)) / 3; // Richardson: the h^2 error term cancels
        if (Math.abs(grad[i] - fd) > TOL_ABS + TOL_REL * Math.abs(fd))
          throw new Error(`${p.name}[${i}]: gradient ${grad[i]}, finite difference ${fd}`);
        checked++;
      }
    }
    expect(checked).toBe(3 * model.trainableParams().length);
    model.dispose();
  });

  it('accumulates the same parameter gradients over 3 micro-batches as over one mini-batch', () => {
    const rng = new Rng(12);
    const model = randomModel(device, 6);
    const whole = batch(rng, [8, 5, 7, 6, 8, 4]);
    const roll = rollout(rng, logprobs(model, whole, false), whole);
    const rows = (b: Batch, r0: number, r1: number): Batch => ({
      R: r1 - r0,
      T: b.T,
      ids: b.ids.slice(r0 * b.T, r1 * b.T),
      targets: b.targets.slice(r0 * b.T, r1 * b.T),
      mask: b.mask.slice(r0 * b.T, r1 * b.T),
      lengths: b.lengths.slice(r0, r1),
    });
    const step = (parts: [number, number][]): Float32Array[] => {
      model.zeroGrad();
      const o = policyLossOptions(
        config,
        parts.map(([a, c]) => ({ rows: c - a, T: whole.T, mask: whole.mask.slice(a * whole.T, c * whole.T) })),
      );
      for (const [a, c] of parts) {
        const mb = rows(whole, a, c);
        const slice = (x: ArrayLike<number>, w: number) => Float64Array.from(x).slice(a * w, c * w);
        const res = ppoClip(
          {
            rows: mb.R,
            T: mb.T,
            logprobs: logprobs(model, mb, true),
            oldLogprobs: slice(roll.oldLogprobs, mb.T),
            refLogprobs: slice(roll.refLogprobs, mb.T),
            advantages: slice(roll.advantages, 1),
            mask: mb.mask,
          },
          o,
        );
        model.backward(tensor(res.dLogprobs, [mb.R, mb.T], { device }));
      }
      return model.trainableParams().map((p) => Float32Array.from(p.grad?.toHost() ?? []));
    };
    const one = step([[0, 6]]);
    const three = step([
      [0, 1],
      [1, 4],
      [4, 6],
    ]);
    one.forEach((g, i) => expect(three[i]).toBeAllClose(g, { atol: 1e-6, rtol: 1e-4 }));
    model.dispose();
  });

  it('answerLogprobs: each row its own answer log-probs, in row order, however the rows are packed', () => {
    const model = randomModel(device, 11);
    const rng = new Rng(12);
    // rows of different prompt and answer lengths in no particular order
    const trainRows: TrainRow[] = [9, 4, 12, 6, 12, 5].map((len, i) => ({
      prompt: Array.from({ length: 2 + (i % 3) }, () => rng.int(CFG.vocabSize)),
      answer: Array.from({ length: len - 2 - (i % 3) }, () => rng.int(CFG.vocabSize)),
      advantage: 0,
      group: i,
    }));
    const alone = trainRows.map((r) => answerLogprobs(model, [r], Infinity)[0]);
    trainRows.forEach((r, i) => expect(alone[i]).toHaveLength(r.answer.length));
    for (const budget of [Infinity, 24, 1]) {
      const packed = answerLogprobs(model, trainRows, budget);
      packed.forEach((lp, i) => expect(lp).toBeAllClose(alone[i], { atol: 1e-6, rtol: 1e-5 }));
    }
    model.dispose();
  });
});
