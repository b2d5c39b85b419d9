// The KL's start policy of a LoRA run ('adapters-off': the policy itself with its adapters switched off) gives the
// update exactly what a separate copy of the base model gives: the same KL to the reference, loss and gradient
// norm, and the same adapters after the step (bit for bit), with the KL in the loss (klCoef > 0) so the reference
// moves the weights. A mis-wired reference (the adapted policy) reads a KL of 0 at the first mini-batch.
import { Rng } from '@lwz/core';
import { enableLora, initModel, type Qwen2Model } from '@lwz/model';
import { tinyConfig } from '@lwz/model/testing';
import { tinyGrpoUpdate } from './testing';

const CFG = tinyConfig();

function base(): Qwen2Model {
  return initModel(CFG, new Rng(21));
}

/** The base with adapters on q and v whose B is non-zero, so the adapted policy differs from its base. */
function adapted(): Qwen2Model {
  const m = base();
  enableLora(m, { rank: 2, alpha: 4, targets: ['q', 'v'] }, new Rng(22));
  const rng = new Rng(23);
  for (const p of m.loraState?.params ?? []) if (p.name.includes('lora_B')) p.value.f32.forEach((_, i, a) => (a[i] = 0.5 * rng.normal()));
  return m;
}

function update(model: Qwen2Model, ref: Qwen2Model | 'adapters-off') {
  const { result } = tinyGrpoUpdate(model, { ref, loss: { klCoef: 0.1 } });
  const adapters = (model.loraState?.params ?? []).map((p) => Array.from(p.value.f32));
  return { result, adapters };
}

it("'adapters-off' is the base model as the KL's reference: the same update as a separate copy of the base", () => {
  const viaOff = update(adapted(), 'adapters-off');
  const viaCopy = update(adapted(), base());
  expect(viaOff.result.metrics.klRef).toBeGreaterThan(0);
  expect(viaOff.result.metrics).toEqual(viaCopy.result.metrics);
  expect(viaOff.result.loss).toBe(viaCopy.result.loss);
  expect(viaOff.result.gradNorm).toBe(viaCopy.result.gradNorm);
  expect(viaOff.adapters).toEqual(viaCopy.adapters);
  // the adapted policy as its own reference would read another KL
  expect(update(adapted(), adapted()).result.metrics.klRef).not.toBe(viaOff.result.metrics.klRef);
});
