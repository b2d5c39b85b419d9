// A mini-batch whose gradient norm is not finite takes no optimizer step (verl skips it the same way): the
// weights stay as they were instead of all turning NaN, and the result counts the skipped mini-batches.
import { Rng } from '@lwz/core';
import { tensor } from '@lwz/kernels';
import { initModel } from '@lwz/model';
import { tinyConfig } from '@lwz/model/testing';
import { tinyGrpoUpdate } from './testing';

const CFG = tinyConfig();

type Model = ReturnType<typeof initModel>;
const snapshot = (model: Model) => model.trainableParams().map((p) => Float32Array.from(p.value.f32));
const same = (a: Float32Array[], b: Float32Array[]) => a.every((x, k) => x.every((v, i) => v === b[k][i]));

function run(extraGrad: number) {
  const model = initModel(CFG, new Rng(31));
  const before = snapshot(model);
  // a gradient the model never writes, standing in for an overflow in the backward pass
  const { result, named } = tinyGrpoUpdate(model, { extraGrads: [tensor(Float32Array.of(extraGrad), [1])] });
  const moved = !same(snapshot(model), before);
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

it('reports the loss as the mean over every mini-batch run, the skipped ones included', () => {
  // old log-probs recomputed from the same weights: r = 1 at every token, so a mini-batch's token-mean loss is
  // -mean A over its answer tokens. Each mini-batch is one group: A -1 and +1 -> 0; A 0.5 and 0.5 -> -0.5
  const model = initModel(CFG, new Rng(31));
  const { result } = tinyGrpoUpdate(model, { advantages: [-1, 1, 0.5, 0.5], extraGrads: [tensor(Float32Array.of(Number.NaN), [1])] });
  expect([result.updates, result.skipped]).toEqual([0, 2]);
  expect(result.loss).toBeCloseTo(-0.25, 5);
});

describe('a step without signal (every advantage 0) takes no optimizer step', () => {
  it("leaves the weights where they were after earlier steps built AdamW's momentum", () => {
    const model = initModel(CFG, new Rng(31));
    const { optimizer } = tinyGrpoUpdate(model); // two real steps: AdamW now holds first and second moments
    const before = snapshot(model);
    const { result } = tinyGrpoUpdate(model, { advantages: [0, 0, 0, 0], optimizer });
    expect([result.updates, result.idle, result.skipped]).toEqual([0, 2, 0]);
    expect(result.gradNorm).toBe(0);
    // the idle mini-batches count in the mean loss (r = 1, A = 0: 0), so it is 0, not 0 / 0 (a NaN the guard stops at)
    expect(result.loss).toBeCloseTo(0, 12);
    // a step on the zero gradient would have replayed the momentum (and the decay) into every weight
    expect(same(snapshot(model), before)).toBe(true);
  });

  it('steps a mini-batch without spread when another group of the step has it', () => {
    const model = initModel(CFG, new Rng(31));
    const { optimizer } = tinyGrpoUpdate(model);
    const { result } = tinyGrpoUpdate(model, { advantages: [0, 0, -1, 1], optimizer });
    expect([result.updates, result.idle]).toEqual([2, 0]);
  });

  it('still steps when the loss has a term of its own (an entropy bonus) with every advantage 0', () => {
    const model = initModel(CFG, new Rng(31));
    const before = snapshot(model);
    const { result } = tinyGrpoUpdate(model, { advantages: [0, 0, 0, 0], loss: { entropyCoef: 0.01 } });
    expect([result.updates, result.idle]).toEqual([2, 0]);
    expect(same(snapshot(model), before)).toBe(false);
  });
});
