// Forward log-probs and last-position logits of the model against the independent float64 reference
// (testing/reference-qwen2.ts) on random checkpoints: tied/untied, GQA 4:2 and 4:1, with and without biases,
// over a right-padded batch. Tolerance: 1e-4 absolute (issue #4).
import { Rng } from '@lwz/core';
import { availableDevices, tensor } from '@lwz/kernels';
import { float64Weights, padBatch, randomIds, randomModel, VARIANTS } from './testing/fixtures';
import { referenceLogits, referenceLogprobs } from './testing/reference-qwen2';

/** -sum p log p of the first `rows` rows of logits (rows, V), in float64 */
function referenceEntropy(logits: Float64Array, V: number, rows: number): number[] {
  return Array.from({ length: rows }, (_, t) => {
    const row = logits.subarray(t * V, (t + 1) * V);
    const max = Math.max(...row);
    const z = row.reduce((a, x) => a + Math.exp(x - max), 0);
    return -row.reduce((a, x) => a + (Math.exp(x - max) / z) * (x - max - Math.log(z)), 0);
  });
}

// host backends; a device that is required (REQUIRE_NATIVE=1) but missing makes availableDevices() throw
const DEVICES = availableDevices().filter((d) => d !== 'cuda');
const CASES = DEVICES.flatMap((device) => VARIANTS.map(([name, cfg]) => [device, name, cfg] as const));

describe.each(CASES)('forwardLogprobs on %s (%s)', (device, _name, cfg) => {
  it('matches the float64 reference within 1e-4 on a padded batch', () => {
    const model = randomModel(cfg, 11, device);
    const rng = new Rng(5);
    const seqs = [randomIds(rng, 9, cfg.vocabSize), randomIds(rng, 5, cfg.vocabSize), randomIds(rng, 7, cfg.vocabSize)];
    const batch = padBatch(seqs, device);
    const { logprobs, entropy } = model.forwardLogprobs(batch, { lastLogits: true, entropy: true });
    const lp = logprobs.f32;
    const ent = entropy?.f32 ?? new Float32Array(0);
    const weights = float64Weights(model);
    seqs.forEach((s, b) => {
      const ref = referenceLogprobs(cfg, weights, s);
      // positions 0..len-2 score the next token; the rest of the row is ignored (0)
      expect(Array.from(lp.subarray(b * batch.T, b * batch.T + s.length - 1))).toBeAllClose(ref, { atol: 1e-4, rtol: 0 });
      expect(Array.from(lp.subarray(b * batch.T + s.length - 1, (b + 1) * batch.T)).every((v) => v === 0)).toBe(true);
      const V = cfg.vocabSize;
      const refLogits = referenceLogits(cfg, weights, s);
      expect(Array.from(ent.subarray(b * batch.T, b * batch.T + s.length - 1))).toBeAllClose(referenceEntropy(refLogits, V, s.length - 1), {
        atol: 1e-4,
        rtol: 0,
      });
      expect(Array.from(ent.subarray(b * batch.T + s.length - 1, (b + 1) * batch.T)).every((v) => v === 0)).toBe(true);
      const refLast = refLogits.subarray((s.length - 1) * V, s.length * V);
      expect(Array.from((model.lastLogits?.f32 ?? new Float32Array(0)).subarray(b * V, (b + 1) * V))).toBeAllClose(refLast, {
        atol: 1e-4,
        rtol: 0,
      });
    });
    // the scores are far from uniform, so the comparison is not vacuous
    expect(Math.max(...Array.from(lp).map((v) => Math.abs(v + Math.log(cfg.vocabSize))))).toBeGreaterThan(0.5);
  });
});

it.each(DEVICES)(
  'gives the same log-probs, entropies and gradients on %s when the vocabulary projection runs in chunks of 3 rows',
  (device) => {
    const cfg = VARIANTS[1][1];
    const rng = new Rng(12);
    const batch = padBatch([randomIds(rng, 7, cfg.vocabSize), randomIds(rng, 5, cfg.vocabSize)], device);
    const w = tensor(
      Float32Array.from({ length: 2 * batch.T }, () => rng.normal()),
      [2, batch.T],
      { device },
    );
    const run = (budget: number) => {
      const model = randomModel(cfg, 2, device, 0.4, { logitBudget: budget });
      const { logprobs, entropy } = model.forwardLogprobs(batch, { grad: true, entropy: true });
      model.backward(w);
      const grads = model.store.params.map((p) => Array.from(p.grad?.toHost() ?? []));
      return { lp: Array.from(logprobs.toHost()), ent: Array.from(entropy?.toHost() ?? []), grads };
    };
    const whole = run(1 << 20);
    const chunked = run(3 * cfg.vocabSize + 1); // 3 rows per chunk: 14 rows = 4 full chunks + 2 rows
    expect(chunked.lp).toBeAllClose(whole.lp, { atol: 1e-6, rtol: 0 });
    expect(chunked.ent).toBeAllClose(whole.ent, { atol: 1e-6, rtol: 0 });
    expect(chunked.ent).toHaveLength(14);
    whole.grads.forEach((g, i) => expect(chunked.grads[i]).toBeAllClose(g, { atol: 1e-6, rtol: 1e-5 }));
  },
);

it('sequenceLogprobs gives T-1 values equal to the padded-batch path', () => {
  const cfg = VARIANTS[0][1];
  const model = randomModel(cfg, 3);
  const ids = randomIds(new Rng(9), 8, cfg.vocabSize);
  const single = model.sequenceLogprobs(ids);
  expect(single).toHaveLength(7);
  expect(single).toBeAllClose(referenceLogprobs(cfg, float64Weights(model), ids), { atol: 1e-4, rtol: 0 });
});
