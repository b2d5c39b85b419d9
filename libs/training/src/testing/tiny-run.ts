// Test helper: a tiny random model and an AdamW over its trainable parameters (each with a zeroed gradient buffer
// it can step on), what RunDir's checkpoints hold. Test code only.
import { Rng } from '@lwz/core';
import { tensor } from '@lwz/kernels';
import { initModel, type Qwen2Model } from '@lwz/model';
import { tinyConfig } from '@lwz/model/testing';
import { AdamW } from '@lwz/optimizer';

export function tinyModelAndOptimizer(seed = 1): { model: Qwen2Model; opt: AdamW } {
  const model = initModel(tinyConfig(), new Rng(seed));
  const named = model.trainableParams().map((p) => {
    p.grad ??= tensor(new Float32Array(p.value.size), p.shape);
    return { name: p.name, param: p.value, grad: p.grad };
  });
  return { model, opt: new AdamW(named) };
}
