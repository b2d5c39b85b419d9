// The measured work of the model benchmarks: one training step (forward with saved activations, backward of
// the mean token NLL, one AdamW update of every parameter) and a forward-only pass, on random token ids.
// Shared by model.bench.ts, model-vs-torch.bench.ts and the memory child. Not a trainer (no schedule,
// no clipping, no data): libs/optimizer's AdamW with torch_step.py's hyper-parameters.
import { Rng } from '@lwz/core';
import { tensor, type Device } from '@lwz/kernels';
import { initModel, type ModelConfig, type Qwen2Model } from '@lwz/model';
import { AdamW } from '@lwz/optimizer';

export interface StepHarness {
  model: Qwen2Model;
  /** forward (grad) + backward + AdamW; returns the mean log-prob (a finite number when all is well) */
  train(): number;
  /** forward log-probs only, no saved activations */
  forward(): void;
  dispose(): void;
}

export function stepHarness(config: ModelConfig, B: number, T: number, device: Device, recompute = false): StepHarness {
  const rng = new Rng(1);
  const model = initModel(config, rng, device, { recompute });
  const idsArr = Int32Array.from({ length: B * T }, () => rng.int(config.vocabSize)); // (B, T)
  const tgtArr = Int32Array.from({ length: B * T }, (_, i) => ((i + 1) % T === 0 ? -1 : idsArr[i + 1])); // (B, T)
  const ids = tensor(idsArr, [B, T], { device, dtype: 'i32' });
  const targets = tensor(tgtArr, [B, T], { device, dtype: 'i32' });
  const weights = tensor(new Float32Array(B * T).fill(-1 / (B * (T - 1))), [B, T], { device }); // d(mean NLL)/d logprob
  model.store.ensureGrads();
  const named = model.trainableParams().map((p) => ({ name: p.name, param: p.value, grad: p.grad as NonNullable<typeof p.grad> }));
  // torch_step.py's torch.optim.AdamW(lr=1e-3, weight_decay=0.01): betas (0.9, 0.999), decay on every tensor
  const optimizer = new AdamW(named, { beta2: 0.999, weightDecay: 0.01, decay: () => true });
  return {
    model,
    train() {
      model.zeroGrad();
      const { logprobs } = model.forwardLogprobs({ ids, targets }, { grad: true });
      model.backward(weights);
      optimizer.step(1e-3);
      const lp = logprobs.toHost();
      let sum = 0;
      for (let i = 0; i < lp.length; i++) sum += lp[i];
      logprobs.dispose();
      return sum / (B * (T - 1));
    },
    forward() {
      model.forwardLogprobs({ ids, targets }).logprobs.dispose();
    },
    dispose() {
      for (const t of [ids, targets, weights]) t.dispose();
      optimizer.dispose();
      model.dispose();
    },
  };
}
