// Gradients of L = sum_{b,t} w[b,t] logprob[b,t] against central finite differences of the float64
// reference (testing/reference-qwen2.ts) on every host backend, with and without per-layer recomputation:
// every entry of small tensors (norms, biases), 12 sampled entries of each larger one; every config variant.
// The differences depend only on the weights, so each is computed once and every backend is checked
// against it. Plus: recomputation gives the same gradients, gradients accumulate until zeroGrad, padded
// positions contribute nothing, and the head over the scored rows only equals the head over every row.
// Tolerance: |g - fd| <= 2e-4 + 2e-3 |fd| (f32 model gradients against float64 differences, h = 1e-5).
import { Rng } from '@lwz/core';
import { availableDevices, tensor, type Device } from '@lwz/kernels';
import type { ModelConfig } from './config';
import { float64Weights, padBatch, randomIds, randomModel, VARIANTS } from './testing/fixtures';
import { centralDifference } from '@lwz/kernels/testing';
import { probeIndices, referenceLoss } from './testing/gradcheck';

// host backends; a device that is required (REQUIRE_NATIVE=1) but missing makes availableDevices() throw
const DEVICES = availableDevices().filter((d) => d !== 'cuda');
const CASES = VARIANTS.flatMap(([name, cfg]) => DEVICES.flatMap((device) => [false, true].map((rc) => [name, device, rc, cfg] as const)));
/** every entry of tensors this small; PROBES sampled entries of larger ones */
const SMALL = 32;
const PROBES = 12;

function setup(cfg: ModelConfig, seed: number, device: Device, recompute = false) {
  const model = randomModel(cfg, seed, device, 0.3, { recompute });
  const rng = new Rng(seed + 7);
  const seqs = [randomIds(rng, 7, cfg.vocabSize), randomIds(rng, 4, cfg.vocabSize)];
  const batch = padBatch(seqs, device);
  const w = Float32Array.from({ length: 2 * batch.T }, () => rng.normal()); // padded positions too: must be ignored
  return { model, seqs, batch, w };
}

/** name -> [index, finite difference] for the probed entries of each parameter; computed once per variant. */
const fdCache = new Map<string, Map<string, [number, number][]>>();
function finiteDifferences(variant: string, cfg: ModelConfig): Map<string, [number, number][]> {
  const hit = fdCache.get(variant);
  if (hit) return hit;
  const { model, seqs, batch, w } = setup(cfg, 21, 'ref');
  const weights = float64Weights(model);
  const usedRow = seqs[0][2] * cfg.hiddenSize + 3; // an embedding entry of a token in the input
  const fd = new Map<string, [number, number][]>();
  for (const p of model.store.params) {
    const theta = weights.get(p.name) as Float64Array;
    const n = theta.length;
    const picks =
      n <= SMALL
        ? Array.from({ length: n }, (_, i) => i)
        : probeIndices(new Rng(5).split(p.name), n, PROBES, p.name.includes('embed') ? [usedRow] : []);
    fd.set(
      p.name,
      picks.map((i) => [i, centralDifference(theta, i, () => referenceLoss(cfg, weights, seqs, w, batch.T))]),
    );
  }
  model.dispose();
  fdCache.set(variant, fd);
  return fd;
}

describe.each(CASES)('backward (%s) on %s, recompute %s', (variant, device, recompute, cfg) => {
  it('matches finite differences of the float64 reference for every parameter', () => {
    const fd = finiteDifferences(variant, cfg);
    const { model, batch, w } = setup(cfg, 21, device, recompute);
    model.forwardLogprobs(batch, { grad: true });
    model.backward(tensor(w, [2, batch.T], { device }));
    let checked = 0;
    for (const p of model.store.params) {
      const grad = p.grad?.toHost();
      if (!grad) throw new Error(`no gradient for ${p.name}`);
      for (const [i, want] of fd.get(p.name) ?? []) {
        if (Math.abs(grad[i] - want) > 2e-4 + 2e-3 * Math.abs(want)) {
          throw new Error(`${p.name}[${i}]: gradient ${grad[i]}, finite difference ${want}`);
        }
        checked++;
      }
    }
    const expected = model.store.params.reduce((a, p) => a + (p.value.size <= SMALL ? p.value.size : PROBES), 0);
    expect(checked).toBeGreaterThanOrEqual(expected);
  });
});

describe.each(DEVICES)('backward options on %s', (device) => {
  const cfg = VARIANTS[0][1];
  const grads = (model: ReturnType<typeof setup>['model']) => model.store.params.map((p) => Array.from(p.grad?.toHost() ?? []));

  it('gives the same gradients with per-layer recomputation', () => {
    const [full, recomputed] = [false, true].map((recompute) => {
      const { model, batch, w } = setup(cfg, 5, device, recompute);
      model.forwardLogprobs(batch, { grad: true });
      model.backward(tensor(w, [2, batch.T], { device }));
      return grads(model);
    });
    full.forEach((g, i) => expect(recomputed[i]).toBeAllClose(g, { atol: 1e-6, rtol: 1e-5 }));
  });

  it('keeps a fraction of the activations with recomputation (layer inputs only)', () => {
    const saved = [false, true].map((recompute) => {
      const { model, batch } = setup(cfg, 5, device, recompute);
      model.forwardLogprobs(batch, { grad: true });
      return model.savedBytes;
    });
    const N = 2 * 7;
    // without: per layer x, h1, x2, h2 (C), q, attn (H*D), k, v (Hkv*D), g, u, a (F), rstd1, rstd2, lse (H)
    const perLayer = N * (4 * 16 + 2 * 16 + 2 * 8 + 3 * 24 + 2 + 4);
    const Nv = 6 + 3; // positions with a target (each row's length - 1): the head runs on these rows only
    // last layer output and final norm output (C), its rstd; the head's lse, targets and row indices (Nv each)
    const common = N * (2 * 16 + 1) + 3 * Nv;
    expect(saved[0]).toBe(4 * (2 * perLayer + common));
    expect(saved[1]).toBe(4 * (2 * N * 16 + common));
  });

  it('accumulates over backward calls until zeroGrad', () => {
    const { model, batch, w } = setup(cfg, 6, device);
    const step = (): void => {
      model.forwardLogprobs(batch, { grad: true });
      model.backward(tensor(w, [2, batch.T], { device }));
    };
    step();
    const once = grads(model);
    step();
    grads(model).forEach((g, i) =>
      expect(g).toBeAllClose(
        once[i].map((v) => 2 * v),
        { atol: 1e-6, rtol: 1e-5 },
      ),
    );
    model.zeroGrad();
    step();
    grads(model).forEach((g, i) => expect(g).toBeAllClose(once[i], { atol: 1e-6, rtol: 1e-5 }));
  });

  it('runs the head only where a target is scored: the same log-probs, entropy and gradients as the head over every position', () => {
    const model = randomModel(cfg, 9, device, 0.3);
    const rng = new Rng(10);
    const [B, T] = [2, 7];
    const ids = Int32Array.from({ length: B * T }, () => rng.int(cfg.vocabSize));
    // every position scored (the head over all rows), then the same batch with a "prompt", a middle position and
    // the last ones ignored (the head over the scored rows only)
    const all = Int32Array.from({ length: B * T }, () => rng.int(cfg.vocabSize));
    const ignored = new Set([0, 1, 2, 6, T + 3, 2 * T - 1]);
    const some = all.map((t, i) => (ignored.has(i) ? -1 : t));
    const w = Float32Array.from({ length: B * T }, () => rng.normal());
    const run = (targets: Int32Array, weights: Float32Array) => {
      model.zeroGrad();
      const batch = { ids: tensor(ids, [B, T], { device, dtype: 'i32' }), targets: tensor(targets, [B, T], { device, dtype: 'i32' }) };
      const { entropy } = model.forwardLogprobs(batch, { entropy: true });
      const { logprobs } = model.forwardLogprobs(batch, { grad: true });
      model.backward(tensor(weights, [B, T], { device }));
      return { lp: Array.from(logprobs.toHost()), ent: Array.from(entropy?.toHost() ?? []), g: grads(model) };
    };
    const full = run(
      all,
      w.map((v, i) => (ignored.has(i) ? 0 : v)),
    );
    const compact = run(some, w); // the weights at ignored positions must not matter
    expect(compact.lp.filter((_, i) => ignored.has(i))).toEqual([...ignored].map(() => 0));
    expect(compact.ent.filter((_, i) => ignored.has(i))).toEqual([...ignored].map(() => 0));
    expect(compact.lp).toBeAllClose(
      full.lp.map((v, i) => (ignored.has(i) ? 0 : v)),
      { atol: 1e-6, rtol: 1e-6 },
    );
    expect(compact.ent).toBeAllClose(
      full.ent.map((v, i) => (ignored.has(i) ? 0 : v)),
      { atol: 1e-6, rtol: 1e-6 },
    );
    full.g.forEach((g, i) => expect(compact.g[i]).toBeAllClose(g, { atol: 1e-6, rtol: 1e-5 }));
    // nothing scored: log-probs and entropy 0 everywhere
    const none = model.forwardLogprobs(
      {
        ids: tensor(ids, [B, T], { device, dtype: 'i32' }),
        targets: tensor(new Int32Array(B * T).fill(-1), [B, T], { device, dtype: 'i32' }),
      },
      { entropy: true },
    );
    expect(Array.from(none.logprobs.toHost())).toEqual(new Array<number>(B * T).fill(0));
    expect(Array.from(none.entropy?.toHost() ?? [])).toEqual(new Array<number>(B * T).fill(0));
  });

  it('refuses backward without a grad forward', () => {
    const { model, batch, w } = setup(cfg, 8, device);
    model.forwardLogprobs(batch);
    expect(() => model.backward(tensor(w, [2, batch.T], { device }))).toThrow(/grad: true/);
  });
});
