// The measured work of the model benchmarks: one training step (forward with saved activations, backward of
// the mean token NLL, one AdamW update of every parameter) and a forward-only pass, on random token ids.
// Shared by model.bench.ts, model-vs-torch.bench.ts and the memory child. Not a trainer (no schedule,
// no clipping, no data): the optimizer kernel is called directly, as the trainer's libs/optimizer would.
import { Rng } from '@lwz/core';
import { getKernel, hasKernel, tensor, zeros, type Device, type Tensor } from '@lwz/kernels';
import { initModel, type ModelConfig, type Qwen2Model } from '@lwz/model';

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
  const model = initModel(config, rng, device);
  model.recompute = recompute;
  const idsArr = Int32Array.from({ length: B * T }, () => rng.int(config.vocabSize)); // (B, T)
  const tgtArr = Int32Array.from({ length: B * T }, (_, i) => ((i + 1) % T === 0 ? -1 : idsArr[i + 1])); // (B, T)
  const ids = tensor(idsArr, [B, T], { device, dtype: 'i32' });
  const targets = tensor(tgtArr, [B, T], { device, dtype: 'i32' });
  const weights = tensor(new Float32Array(B * T).fill(-1 / (B * (T - 1))), [B, T], { device }); // d(mean NLL)/d logprob
  const adamwDevice = hasKernel('adamwStep', device) ? device : 'ref';
  const moments = model.trainableParams().map((p) => ({ m: zeros(p.shape, { device }), v: zeros(p.shape, { device }) }));
  let step = 0;
  return {
    model,
    train() {
      model.zeroGrad();
      const { logprobs } = model.forwardLogprobs({ ids, targets }, { grad: true });
      model.backward(weights);
      step++;
      const adamw = getKernel('adamwStep', adamwDevice); // looked up per step, so a kernel profile sees it
      model.trainableParams().forEach((p, i) => {
        adamw({
          param: p.value,
          grad: p.grad as Tensor,
          m: moments[i].m,
          v: moments[i].v,
          lr: 1e-3,
          beta1: 0.9,
          beta2: 0.999,
          eps: 1e-8,
          weightDecay: 0.01,
          step,
        });
      });
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
      for (const t of [ids, targets, weights, ...moments.flatMap((m) => [m.m, m.v])]) t.dispose();
      model.dispose();
    },
  };
}
