// A mini-batch whose gradient norm is not finite takes no optimizer step (verl skips it the same way): the
// weights stay as they were instead of all turning NaN, and the result counts the skipped mini-batches.
import { Rng } from '@lwz/core';
import { tensor } from '@lwz/kernels';
import { initModel } from '@lwz/model';
import { tinyConfig } from '@lwz/model/testing';
import { AdamW, policyLossConfigSchema } from '@lwz/optimizer';
import type { TrainRow } from './batch';
import { grpoUpdate } from './update';

const CFG = tinyConfig();

function run(extraGrad: number) {
  const model = initModel(CFG, new Rng(31));
  const rng = new Rng(7);
  const rows: TrainRow[] = Array.from({ length: 4 }, (_, r) => ({
    prompt: Array.from({ length: 3 }, () => rng.int(CFG.vocabSize)),
    answer: Array.from({ length: 5 }, () => rng.int(CFG.vocabSize)),
    advantage: r % 2 ? 1 : -1,
    group: r >> 1,
  }));
  const named = model.trainableParams().map((p) => {
    p.grad ??= tensor(new Float32Array(p.value.size), p.shape);
    return { name: p.name, param: p.value, grad: p.grad };
  });
  // a gradient the model never writes, standing in for an overflow in the backward pass
  const stray = tensor(Float32Array.of(extraGrad), [1]);
  const before = named.map((p) => Float32Array.from(p.param.f32));
  const result = grpoUpdate({
    model,
    optimizer: new AdamW(named),
    grads: [...named.map((p) => p.grad), stray],
    rows,
    loss: policyLossConfigSchema.parse({}),
    ppoEpochs: 1,
    miniBatches: 2,
    microBatchTokens: 4096,
    recomputeOld: true,
    gradClip: 1,
    lr: 1e-2,
    rng: new Rng(6),
  });
  const moved = named.some((p, k) => p.param.f32.some((v, i) => v !== before[k][i]));
  const finite = named.every((p) => p.param.f32.every(Number.isFinite));
  return { result, moved, finite };
}

it('skips the optimizer step of a mini-batch whose gradient norm is not finite', () => {
  const bad = run(Number.NaN);
  expect([bad.result.updates, bad.result.skipped]).toEqual([0, 2]);
  expect(bad.moved).toBe(false);
  expect(bad.finite).toBe(true);
  expect(Number.isFinite(bad.result.loss)).toBe(true);
  const good = run(0);
  expect([good.result.updates, good.result.skipped]).toEqual([2, 0]);
  expect(good.moved).toBe(true);
  expect(Number.isFinite(good.result.gradNorm)).toBe(true);
});
