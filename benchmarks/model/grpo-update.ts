// The measured work of the grpo-update benchmark: one full GRPO update on random tokens, as the trainer
// does it: forward with saved activations -> ppo-clip loss (@lwz/optimizer, token-mean) over the answer
// tokens -> backward of dLoss/dlogprob -> AdamW over every parameter. Old log-probs come from one no-grad
// forward at setup; advantages are N(0, 1) per row. Not a trainer: no rollout, no schedule, no clipping.
import { Rng } from '@lwz/core';
import { tensor, zeros, type Device } from '@lwz/kernels';
import { initModel, type ModelConfig, type Qwen2Model } from '@lwz/model';
import { AdamW, getPolicyLoss, lossNormalizer, type PolicyLossOptions } from '@lwz/optimizer';

/** Prompt tokens per row; the loss covers the answer, positions PROMPT - 1 .. T - 2. */
export const PROMPT = 64;

export interface GrpoHarness {
  model: Qwen2Model;
  /** one update; returns the loss (finite when all is well) */
  update(): number;
  dispose(): void;
}

export function grpoHarness(config: ModelConfig, B: number, T: number, device: Device): GrpoHarness {
  const rng = new Rng(1);
  const model = initModel(config, rng, device);
  const idsArr = Int32Array.from({ length: B * T }, () => rng.int(config.vocabSize)); // (B, T)
  const tgtArr = Int32Array.from({ length: B * T }, (_, i) => ((i + 1) % T === 0 ? -1 : idsArr[i + 1])); // (B, T)
  const mask = Uint8Array.from({ length: B * T }, (_, i) => (i % T >= PROMPT - 1 && i % T < T - 1 ? 1 : 0)); // (B, T)
  const ids = tensor(idsArr, [B, T], { device, dtype: 'i32' });
  const targets = tensor(tgtArr, [B, T], { device, dtype: 'i32' });
  const advantages = Float64Array.from({ length: B }, () => rng.normal()); // (B,)
  const old = model.forwardLogprobs({ ids, targets }).logprobs;
  const oldLogprobs = Float32Array.from(old.toHost()); // (B, T)
  old.dispose();
  for (const p of model.trainableParams()) p.grad ??= zeros(p.shape, { device });
  const named = model.trainableParams().map((p) => ({ name: p.name, param: p.value, grad: p.grad ?? p.value }));
  const optimizer = new AdamW(named, { decay: () => true }); // torch_grpo.py: AdamW(betas (0.9, 0.95), weight_decay 0.1) on every tensor
  const options: PolicyLossOptions = {
    epsLow: 0.2,
    epsHigh: 0.2,
    clipRatioC: 3,
    klCoef: 0,
    entropyCoef: 0,
    aggregation: 'token-mean',
    normalizer: lossNormalizer([{ rows: B, T, mask }]),
  };
  const ppoClip = getPolicyLoss('ppo-clip');
  return {
    model,
    update() {
      model.zeroGrad();
      const { logprobs } = model.forwardLogprobs({ ids, targets }, { grad: true });
      const res = ppoClip({ rows: B, T, logprobs: logprobs.toHost(), oldLogprobs, advantages, mask }, options);
      logprobs.dispose();
      const weights = tensor(res.dLogprobs, [B, T], { device });
      model.backward(weights);
      weights.dispose();
      optimizer.step(1e-4);
      return res.loss;
    },
    dispose() {
      for (const t of [ids, targets]) t.dispose();
      optimizer.dispose();
      model.dispose();
    },
  };
}
