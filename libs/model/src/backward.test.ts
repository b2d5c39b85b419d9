// Gradients of L = sum_{b,t} w[b,t] logprob[b,t] against central finite differences of the float64
// reference (testing/reference-qwen2.ts), for sampled entries of every parameter tensor, every config variant;
// plus: recomputation gives the same gradients, gradients accumulate, padded positions contribute nothing.
// Tolerance: |g - fd| <= 2e-4 + 2e-3 |fd| (f32 model gradients against float64 differences, h = 1e-5).
import { Rng } from '@lwz/core';
import { availableDevices, tensor, type Device } from '@lwz/kernels';
import type { ModelConfig } from './config';
import { float64Weights, padBatch, randomIds, randomModel, VARIANTS } from './testing/fixtures';
import { FD_STEP as H, probeIndices, referenceLoss } from './testing/gradcheck';

const DEVICES = availableDevices().filter((d) => d !== 'cuda');
const CASES = DEVICES.flatMap((device) => VARIANTS.map(([name, cfg]) => [device, name, cfg] as const));

function setup(cfg: ModelConfig, seed: number, device: Device = 'ref') {
  const model = randomModel(cfg, seed, device, 0.3);
  const rng = new Rng(seed + 7);
  const seqs = [randomIds(rng, 7, cfg.vocabSize), randomIds(rng, 4, cfg.vocabSize)];
  const batch = padBatch(seqs, device);
  const w = Float32Array.from({ length: 2 * batch.T }, () => rng.normal()); // padded positions too: must be ignored
  return { model, seqs, batch, w, rng };
}

describe.each(CASES)('backward on %s (%s)', (device, _name, cfg) => {
  it('matches finite differences of the float64 reference for every parameter', () => {
    const { model, seqs, batch, w, rng } = setup(cfg, 21, device);
    model.forwardLogprobs(batch, { grad: true });
    model.backward(tensor(w, [2, batch.T], { device }));
    const weights = float64Weights(model);
    const usedRow = seqs[0][2] * cfg.hiddenSize + 3; // an embedding entry of a token in the input
    let checked = 0;
    for (const p of model.store.params) {
      const grad = p.grad?.f32;
      if (!grad) throw new Error(`no gradient for ${p.name}`);
      const theta = weights.get(p.name) as Float64Array;
      for (const i of probeIndices(rng, theta.length, 3, p.name.includes('embed') ? [usedRow] : [])) {
        const keep = theta[i];
        theta[i] = keep + H;
        const up = referenceLoss(cfg, weights, seqs, w, batch.T);
        theta[i] = keep - H;
        const down = referenceLoss(cfg, weights, seqs, w, batch.T);
        theta[i] = keep;
        const fd = (up - down) / (2 * H);
        if (Math.abs(grad[i] - fd) > 2e-4 + 2e-3 * Math.abs(fd)) {
          throw new Error(`${p.name}[${i}]: gradient ${grad[i]}, finite difference ${fd}`);
        }
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(3 * model.store.params.length - 1);
  });
});

describe('backward options', () => {
  const cfg = VARIANTS[0][1];

  it('gives the same gradients with per-layer recomputation', () => {
    const grads = [false, true].map((recompute) => {
      const { model, batch, w } = setup(cfg, 5);
      model.recompute = recompute;
      model.forwardLogprobs(batch, { grad: true });
      model.backward(tensor(w, [2, batch.T], { device: 'ref' }));
      return model.store.params.map((p) => Array.from(p.grad?.f32 ?? []));
    });
    grads[0].forEach((g, i) => expect(grads[1][i]).toBeAllClose(g, { atol: 1e-6, rtol: 1e-5 }));
  });

  it('keeps a fraction of the activations with recomputation (layer inputs only)', () => {
    const saved = [false, true].map((recompute) => {
      const { model, batch } = setup(cfg, 5);
      model.recompute = recompute;
      model.forwardLogprobs(batch, { grad: true });
      return model.savedBytes;
    });
    const N = 2 * 7;
    // without: per layer x, h1, x2, h2 (C), q, attn (H*D), k, v (Hkv*D), g, u, a (F), rstd1, rstd2, lse (H)
    const perLayer = N * (4 * 16 + 2 * 16 + 2 * 8 + 3 * 24 + 2 + 4);
    const common = N * (2 * 16 + 3); // last layer output and final norm output (C), its rstd, the head's lse, targets
    expect(saved[0]).toBe(4 * (2 * perLayer + common));
    expect(saved[1]).toBe(4 * (2 * N * 16 + common));
  });

  it('accumulates over backward calls until zeroGrad', () => {
    const { model, batch, w } = setup(cfg, 6);
    const step = (): void => {
      model.forwardLogprobs(batch, { grad: true });
      model.backward(tensor(w, [2, batch.T], { device: 'ref' }));
    };
    step();
    const once = model.store.params.map((p) => Array.from(p.grad?.f32 ?? []));
    step();
    model.store.params.forEach((p, i) =>
      expect(Array.from(p.grad?.f32 ?? [])).toBeAllClose(
        once[i].map((v) => 2 * v),
        { atol: 1e-6, rtol: 1e-5 },
      ),
    );
    model.zeroGrad();
    step();
    model.store.params.forEach((p, i) => expect(Array.from(p.grad?.f32 ?? [])).toBeAllClose(once[i], { atol: 1e-6, rtol: 1e-5 }));
  });

  it('refuses backward without a grad forward', () => {
    const { model, batch, w } = setup(cfg, 8);
    model.forwardLogprobs(batch);
    expect(() => model.backward(tensor(w, [2, batch.T], { device: 'ref' }))).toThrow(/grad: true/);
  });
});
