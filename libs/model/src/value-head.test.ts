// The value head (reward model): forwardScores against the float64 reference (testing/reference-qwen2.ts) on
// every host backend and config variant, padded rows scored at their own last token; the gradient of
// L = sum_b w[b] score[b] into every parameter (the whole network and score.weight) against central finite
// differences of the reference, with and without recomputation; addValueHead, and the Hugging Face
// sequence-classifier checkpoint (Qwen2ForSequenceClassification, num_labels 1, score.weight, no lm_head).
// Tolerances: scores 1e-4 (f32 vs float64); gradients |g - fd| <= 2e-4 + 2e-3 |fd| as in backward.test.ts.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '@lwz/core';
import { availableDevices, tensor, type Device } from '@lwz/kernels';
import { addValueHead, initModel, loadModel, saveModel } from './checkpoint';
import { parameterCount, parseHfConfig, toHfConfig, type ModelConfig } from './config';
import { parameterSpecs } from './params';
import { readSafetensorsHeader } from './safetensors';
import { float64Weights, padBatch, randomIds, randomModel, tinyConfig, VARIANTS } from './testing/fixtures';
import { centralDifference } from '@lwz/kernels/testing';
import { probeIndices } from './testing/gradcheck';
import { referenceScore } from './testing/reference-qwen2';
import { lastRows, valueHeadBackward, valueHeadForward } from './value-head';

const DEVICES = availableDevices().filter((d) => d !== 'cuda');
const CLASSIFIERS = VARIANTS.map(([name, cfg]) => [name, { ...cfg, numLabels: 1 }] as [string, ModelConfig]);
const SMALL = 32;
const PROBES = 12;

function setup(cfg: ModelConfig, seed: number, device: Device, recompute = false) {
  const model = randomModel(cfg, seed, device, 0.3, { recompute });
  const rng = new Rng(seed + 7);
  const seqs = [randomIds(rng, 7, cfg.vocabSize), randomIds(rng, 4, cfg.vocabSize), randomIds(rng, 6, cfg.vocabSize)];
  const batch = padBatch(seqs, device);
  const w = Float32Array.from({ length: seqs.length }, () => rng.normal());
  return { model, seqs, batch, w };
}

describe.each(CLASSIFIERS.flatMap(([name, cfg]) => DEVICES.map((d) => [name, d, cfg] as const)))(
  'forwardScores (%s) on %s',
  (_, device, cfg) => {
    it("gives the float64 reference's score at each row's last valid token, padding ignored", () => {
      const { model, seqs, batch } = setup(cfg, 3, device);
      const weights = float64Weights(model);
      const scores = model.forwardScores({ ids: batch.ids, lengths: batch.lengths });
      expect(scores.shape).toEqual([3]);
      expect(scores.toHost()).toBeAllClose(
        seqs.map((s) => referenceScore(cfg, weights, s)),
        { atol: 1e-4, rtol: 0 },
      );
      // each row alone gives the same score as in the padded batch
      const alone = seqs.map(
        (s) => model.forwardScores({ ids: tensor(Int32Array.from(s), [1, s.length], { device, dtype: 'i32' }) }).toHost()[0],
      );
      expect(scores.toHost()).toBeAllClose(alone, { atol: 1e-5, rtol: 0 });
    });

    it("positions 'all' gives every prefix's score: (B, T), position t the reference score of ids[0..t]", () => {
      const { model, seqs, batch } = setup(cfg, 5, device);
      const weights = float64Weights(model);
      const all = model.forwardScores({ ids: batch.ids, lengths: batch.lengths }, { positions: 'all' });
      expect(all.shape).toEqual([3, batch.T]);
      const v = all.toHost();
      const got = seqs.flatMap((s, b) => s.map((_, t) => v[b * batch.T + t]));
      const want = seqs.flatMap((s) => s.map((_, t) => referenceScore(cfg, weights, s.slice(0, t + 1))));
      expect(Float32Array.from(got)).toBeAllClose(want, { atol: 1e-4, rtol: 0 });
    });
  },
);

describe.each(DEVICES)("value-head backward over every position (positions 'all') on %s", (device) => {
  it('matches finite differences of the float64 reference of sum_b,t w[b,t] score(ids[b, 0..t])', () => {
    const cfg = CLASSIFIERS[0][1];
    const { model, seqs, batch } = setup(cfg, 23, device);
    const rng = new Rng(8);
    const w = Float32Array.from({ length: 3 * batch.T }, (_, i) => (i % batch.T < seqs[Math.floor(i / batch.T)].length ? rng.normal() : 0));
    const weights = float64Weights(model);
    const loss = () =>
      seqs.reduce((a, s, b) => a + s.reduce((c, _, t) => c + w[b * batch.T + t] * referenceScore(cfg, weights, s.slice(0, t + 1)), 0), 0);
    model.forwardScores({ ids: batch.ids, lengths: batch.lengths }, { grad: true, positions: 'all' });
    model.backward(tensor(w, [3, batch.T], { device }));
    let checked = 0;
    for (const p of model.store.params) {
      const theta = weights.get(p.name) as Float64Array;
      const grad = p.grad?.toHost();
      if (!grad) throw new Error(`no gradient for ${p.name}`);
      for (const i of probeIndices(
        new Rng(6).split(p.name),
        theta.length,
        4,
        p.name.includes('embed') ? [seqs[0][1] * cfg.hiddenSize] : [],
      )) {
        const want = centralDifference(theta, i, loss);
        if (Math.abs(grad[i] - want) > 2e-4 + 2e-3 * Math.abs(want))
          throw new Error(`${p.name}[${i}]: gradient ${grad[i]}, finite difference ${want}`);
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(4 * model.store.params.length);
  });
});

/** name -> [index, finite difference] of the probed entries; one computation per variant. */
const fdCache = new Map<string, Map<string, [number, number][]>>();
function finiteDifferences(variant: string, cfg: ModelConfig): Map<string, [number, number][]> {
  const hit = fdCache.get(variant);
  if (hit) return hit;
  const { model, seqs, w } = setup(cfg, 21, 'ref');
  const weights = float64Weights(model);
  const loss = (): number => seqs.reduce((a, s, b) => a + w[b] * referenceScore(cfg, weights, s), 0);
  const usedRow = seqs[0][2] * cfg.hiddenSize + 3; // an embedding entry of a token in the input
  const fd = new Map<string, [number, number][]>();
  for (const p of model.store.params) {
    const theta = weights.get(p.name) as Float64Array;
    const picks =
      theta.length <= SMALL
        ? Array.from({ length: theta.length }, (_, i) => i)
        : probeIndices(new Rng(5).split(p.name), theta.length, PROBES, p.name.includes('embed') ? [usedRow] : []);
    fd.set(
      p.name,
      picks.map((i) => [i, centralDifference(theta, i, loss)]),
    );
  }
  model.dispose();
  fdCache.set(variant, fd);
  return fd;
}

const GRAD_CASES = CLASSIFIERS.flatMap(([name, cfg]) => DEVICES.flatMap((d) => [false, true].map((rc) => [name, d, rc, cfg] as const)));
describe.each(GRAD_CASES)('value-head backward (%s) on %s, recompute %s', (variant, device, recompute, cfg) => {
  it('matches finite differences of the float64 reference for every parameter, score.weight included', () => {
    const fd = finiteDifferences(variant, cfg);
    const { model, batch, w } = setup(cfg, 21, device, recompute);
    model.forwardScores({ ids: batch.ids, lengths: batch.lengths }, { grad: true });
    model.backward(tensor(w, [3], { device }));
    let checked = 0;
    for (const p of model.store.params) {
      const grad = p.grad?.toHost();
      if (!grad) throw new Error(`no gradient for ${p.name}`);
      for (const [i, want] of fd.get(p.name) ?? []) {
        if (Math.abs(grad[i] - want) > 2e-4 + 2e-3 * Math.abs(want))
          throw new Error(`${p.name}[${i}]: gradient ${grad[i]}, finite difference ${want}`);
        checked++;
      }
    }
    expect(model.store.params.some((p) => p.name === 'score.weight')).toBe(true);
    expect(checked).toBeGreaterThanOrEqual(model.store.params.reduce((a, p) => a + (p.value.size <= SMALL ? p.value.size : PROBES), 0));
  });
});

describe('value head: checks, addValueHead and checkpoints', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lwz-vh-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('backward wants one weight per sequence after forwardScores; a causal LM has no forwardScores', () => {
    const { model, batch } = setup(CLASSIFIERS[0][1], 4, 'ref');
    model.forwardScores({ ids: batch.ids, lengths: batch.lengths }, { grad: true });
    expect(() => model.backward(tensor(new Float32Array(3 * batch.T), [3, batch.T]))).toThrow(/expected \(B,\) = 3 after forwardScores/);
    model.forwardScores({ ids: batch.ids, lengths: batch.lengths }, { grad: true, positions: 'all' });
    expect(() => model.backward(tensor(new Float32Array(3), [3]))).toThrow(/expected \(B, T\) = \d+ after forwardScores/);
    const lm = randomModel(VARIANTS[0][1], 4);
    expect(() => lm.forwardScores({ ids: batch.ids })).toThrow(/without a value head.*addValueHead/);
  });

  it('addValueHead keeps the body: the score is the head applied to the LM hidden state; an untied lm_head is dropped', () => {
    const cfg = VARIANTS[1][1]; // untied
    const lm = randomModel(cfg, 9);
    const weights = float64Weights(lm);
    const rm = addValueHead(lm, new Rng(2), 0.5);
    expect(rm.config.numLabels).toBe(1);
    expect(rm.store.has('lm_head.weight')).toBe(false);
    const head = rm.store.get('score.weight').value.f32;
    weights.set('score.weight', Float64Array.from(head));
    const ids = randomIds(new Rng(3), 5, cfg.vocabSize);
    const got = rm.forwardScores({ ids: tensor(Int32Array.from(ids), [1, 5], { device: 'ref', dtype: 'i32' }) }).toHost()[0];
    expect(got).toBeCloseTo(referenceScore({ ...cfg, numLabels: 1 }, weights, ids), 4);
    expect(() => rm.forwardLogprobs(padBatch([ids]))).toThrow(/sequence classifier.*without an lm_head/);
    expect(() => addValueHead(rm, new Rng(1))).toThrow(/already has a value head/);
  });

  it('saves a Hugging Face sequence classifier (score.weight, no lm_head) and reloads to identical scores', () => {
    const cfg = { ...VARIANTS[1][1], numLabels: 1 };
    const model = randomModel(cfg, 11);
    saveModel(model, join(dir, 'rm'));
    const json = JSON.parse(readFileSync(join(dir, 'rm', 'config.json'), 'utf8'));
    expect(json).toMatchObject({ architectures: ['Qwen2ForSequenceClassification'], num_labels: 1, id2label: { 0: 'LABEL_0' } });
    const names = [...readSafetensorsHeader(join(dir, 'rm', 'model.safetensors')).entries.keys()];
    expect(names).toContain('score.weight');
    expect(names).not.toContain('lm_head.weight');
    const back = loadModel(join(dir, 'rm'), 'ref');
    const { batch } = setup(cfg, 11, 'ref');
    const a = model.forwardScores({ ids: batch.ids, lengths: batch.lengths }).toHost();
    expect(back.forwardScores({ ids: batch.ids, lengths: batch.lengths }).toHost()).toEqual(a);
    expect(existsSync(join(dir, 'rm', 'generation_config.json'))).toBe(true);
  });

  it('reads transformers classifier configs (id2label, Llama) and refuses more than one label', () => {
    const base = toHfConfig(tinyConfig());
    const rm = parseHfConfig({ ...base, architectures: ['Qwen2ForSequenceClassification'], id2label: { 0: 'LABEL_0' } });
    expect(rm.numLabels).toBe(1);
    expect(parameterCount(rm)).toBe(parameterCount(tinyConfig()) + 16);
    expect(parameterSpecs(rm).map((s) => s.name)).toContain('score.weight');
    const llama = toHfConfig(tinyConfig({ modelType: 'llama', attentionBias: false, numLabels: 1 }));
    expect(llama.architectures).toEqual(['LlamaForSequenceClassification']);
    expect(parseHfConfig(llama).numLabels).toBe(1);
    expect(parseHfConfig(base).numLabels).toBeUndefined();
    expect(() => parseHfConfig({ ...base, architectures: ['Qwen2ForSequenceClassification'] })).toThrow(/num_labels.*must be 1.*got 2/);
    expect(() => parseHfConfig({ ...base, architectures: ['Qwen2ForSequenceClassification'], num_labels: 3 })).toThrow(/got 3/);
    expect(initModel({ ...tinyConfig(), numLabels: 1 }, new Rng(1)).store.get('score.weight').shape).toEqual([1, 16]);
  });
});

describe('value head pieces, worked by hand', () => {
  it("lastRows: b*T + lengths[b] - 1, an empty row's own first row", () => {
    expect(Array.from(lastRows([3, 0, 5], 6))).toEqual([2, 6, 16]);
  });

  it('valueHeadBackward accumulates dW = dScores^T picked into a trainable head only; dxf has w at the picked rows', () => {
    // xf rows (1,2), (3,4), (5,6); w = (2, -1); rows [2, 0]: scores 5*2 - 6 = 4 and 1*2 - 2 = 0
    const xf = tensor(Float32Array.of(1, 2, 3, 4, 5, 6), [3, 2], { device: 'ref' });
    const rows = tensor(Int32Array.of(2, 0), [2], { device: 'ref', dtype: 'i32' });
    const head = {
      name: 'score.weight',
      shape: [1, 2],
      value: tensor(Float32Array.of(2, -1), [1, 2], { device: 'ref' }),
      grad: tensor(Float32Array.of(1, 1), [1, 2], { device: 'ref' }),
      trainable: true,
    };
    const { scores, picked } = valueHeadForward(xf, head, rows);
    expect(Array.from(scores.f32)).toEqual([4, 0]);
    const dScores = tensor(Float32Array.of(1, 0.5), [2], { device: 'ref' });
    // dW = 1 * (5, 6) + 0.5 * (1, 2) = (5.5, 7), added to the (1, 1) already there
    const dxf = valueHeadBackward(dScores, head, rows, picked, 3);
    expect(Array.from(head.grad.f32)).toEqual([6.5, 8]);
    expect(Array.from(dxf.f32)).toEqual([1, -0.5, 0, 0, 2, -1]);
    head.trainable = false; // frozen: its gradient buffer is left alone
    valueHeadBackward(dScores, head, rows, picked, 3);
    expect(Array.from(head.grad.f32)).toEqual([6.5, 8]);
  });
});
