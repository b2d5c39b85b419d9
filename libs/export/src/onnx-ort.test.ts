// Round trip through onnxruntime-node: a one-MatMul graph checked against hand arithmetic, then exported
// tiny checkpoints whose logits must equal @lwz/model's forward within 1e-4 (f32): unpadded and in a
// left-padded batch, with the past-key/value variant fed in two chunks, and the sequence-scoring variant
// checked against the independent float64 reference forward (testing/reference-qwen2.ts) with the value
// head as a one-row lm_head. Weights stored as an external data file load the same. Attention scores of ~1e5
// stay masked where they must.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel, type ModelConfig } from '@lwz/model';
import { referenceLogits } from '@lwz/model/testing';
import { exportCheckpoint } from './export-checkpoint';
import { OnnxGraph } from './onnx-graph';
import { decodeModel, OnnxDataType } from './onnx-proto';
import { OrtWorker, type OrtFeed } from './ort-worker';
import { maxAbsDiff, oursLogits, randomWeights, tinyConfig, writeTestCheckpoint } from './testing/fixtures';

const IDS = [104, 101, 108, 108, 111, 32, 119, 111, 114, 108, 100];
let dir: string;
let ort: OrtWorker;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lwz-onnx-'));
  ort = new OrtWorker();
});
afterAll(async () => {
  await ort.close();
  rmSync(dir, { recursive: true, force: true });
});

const i64 = (rows: number[][]): OrtFeed => ({ type: 'int64', data: rows.flat(), dims: [rows.length, rows[0].length] });

function exportTo(
  name: string,
  c: ModelConfig,
  seed: number,
  opts: { variant?: string; dtype?: string; threshold?: number; extra?: Record<string, Float32Array> } = {},
): { ck: string; out: string } {
  const ck = join(dir, name);
  const w = randomWeights(c, seed);
  for (const [k, v] of Object.entries(opts.extra ?? {})) w.set(k, v);
  writeTestCheckpoint(ck, c, w);
  const out = join(dir, `${name}.onnx`);
  exportCheckpoint({
    checkpoint: ck,
    format: 'onnx',
    out,
    variant: opts.variant,
    dtype: opts.dtype,
    externalDataThreshold: opts.threshold,
  });
  return { ck, out };
}

it('a one-MatMul graph runs in onnxruntime and matches hand arithmetic', async () => {
  const g = new OnnxGraph('mm');
  const x = g.input('x', OnnxDataType.FLOAT, ['batch', 3]);
  const y = g.op('MatMul', [x, g.f32([1, 2, 3, 4, 5, 6], [3, 2])]);
  g.output(y, 'y', OnnxDataType.FLOAT, ['batch', 2]);
  const bytes = g.serialize().model;
  expect((decodeModel(bytes).opsetImport as { version: number }[])[0].version).toBe(17);
  const path = join(dir, 'mm.onnx');
  writeFileSync(path, bytes);
  const r = await ort.run(path, { x: { type: 'float32', data: [1, 0, 2, 0, 1, 1], dims: [2, 3] } });
  // [1,0,2]·W = [1+10, 2+12]; [0,1,1]·W = [3+5, 4+6]
  expect(Array.from(r.y.data as Float32Array)).toEqual([11, 14, 8, 10]);
});

describe.each([
  ['qwen2 (biases, untied, GQA 4:2)', tinyConfig()],
  ['llama-style (no biases, tied, MHA)', tinyConfig({ modelType: 'llama', attentionBias: false, tieWordEmbeddings: true, numKvHeads: 4 })],
])('ONNX %s', (name, c) => {
  const tag = name.split(' ')[0];

  it('logits equal ours within 1e-4, also left-padded in a batch', async () => {
    const { ck, out } = exportTo(`${tag}-logits`, c, 5);
    const ours = oursLogits(loadModel(ck), IDS); // (T, V)
    const pad = 3;
    const short = IDS.slice(0, IDS.length - pad);
    const r = await ort.run(out, {
      input_ids: i64([IDS, [0, 0, 0, ...short]]),
      attention_mask: i64([IDS.map(() => 1), [0, 0, 0, ...short.map(() => 1)]]),
      position_ids: i64([IDS.map((_, i) => i), [0, 0, 0, ...short.map((_, i) => i)]]),
    });
    const V = c.vocabSize;
    const T = IDS.length;
    const got = r.logits.data; // (2, T, V)
    const diff = maxAbsDiff(got.subarray(0, T * V), ours);
    console.warn(`[onnx ${name}] max |logit diff| ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(1e-4);
    expect(maxAbsDiff(got.subarray(T * V + pad * V, 2 * T * V), ours.subarray(0, short.length * V))).toBeLessThan(1e-4);
  });

  it('the past-key/value variant fed in two chunks gives the same logits', async () => {
    const { ck, out } = exportTo(`${tag}-kv`, c, 6, { variant: 'logits-kv' });
    const ours = oursLogits(loadModel(ck), IDS);
    const { numKvHeads: Hkv, headDim: D, vocabSize: V } = c;
    let past: Record<string, OrtFeed> = {};
    for (let l = 0; l < c.numLayers; l++) {
      for (const kv of ['key', 'value']) past[`past_key_values.${l}.${kv}`] = { type: 'float32', data: [], dims: [1, Hkv, 0, D] };
    }
    const split = 7;
    const chunks: Float32Array[] = [];
    for (const [a, b] of [
      [0, split],
      [split, IDS.length],
    ]) {
      const r = await ort.run(out, {
        input_ids: i64([IDS.slice(a, b)]),
        attention_mask: i64([IDS.slice(0, b).map(() => 1)]),
        position_ids: i64([IDS.slice(a, b).map((_, i) => a + i)]),
        ...past,
      });
      chunks.push(r.logits.data);
      expect(r['present.0.key'].dims).toEqual([1, Hkv, b, D]);
      past = {};
      for (let l = 0; l < c.numLayers; l++) {
        for (const kv of ['key', 'value']) {
          const p = r[`present.${l}.${kv}`];
          past[`past_key_values.${l}.${kv}`] = { type: 'float32', data: Array.from(p.data), dims: p.dims };
        }
      }
    }
    expect(chunks[0].length + chunks[1].length).toBe(IDS.length * V);
    expect(maxAbsDiff(Float32Array.from([...chunks[0], ...chunks[1]]), ours)).toBeLessThan(1e-4);
  });
});

it("the score variant gives the value head at each sequence's last attended token (float64 reference, 1e-4)", async () => {
  const c = tinyConfig();
  const head = Float32Array.from({ length: c.hiddenSize }, (_, i) => Math.sin(i + 1) * 0.3);
  const { ck, out } = exportTo('score', c, 7, { variant: 'score', extra: { 'score.weight': head } });
  const w = randomWeights(c, 7);
  w.set('lm_head.weight', head); // a one-row lm_head computes the value head at every position
  const value = (ids: number[]): number => referenceLogits({ ...c, vocabSize: 1 }, w, ids)[ids.length - 1];
  const short = IDS.slice(0, 6);
  const r = await ort.run(out, {
    input_ids: i64([IDS, [...short, 0, 0, 0, 0, 0]]),
    attention_mask: i64([IDS.map(() => 1), [...short.map(() => 1), 0, 0, 0, 0, 0]]),
    position_ids: i64([IDS.map((_, i) => i), IDS.map((_, i) => i)]),
  });
  expect(r.scores.dims).toEqual([2]);
  expect(r.scores.data).toBeAllClose([value(IDS), value(short)], { atol: 1e-4, rtol: 0 });
  expect(ck).toBeTruthy();
});

it('a value head with a bias (score.bias) shifts every score by exactly that bias', async () => {
  const c = tinyConfig();
  const head = Float32Array.from({ length: c.hiddenSize }, (_, i) => Math.sin(2 * i + 1) * 0.3);
  const plain = exportTo('score-nobias', c, 11, { variant: 'score', extra: { 'score.weight': head } }).out;
  const biased = exportTo('score-bias', c, 11, {
    variant: 'score',
    extra: { 'score.weight': head, 'score.bias': Float32Array.from([0.75]) },
  }).out;
  const feeds = { input_ids: i64([IDS]), attention_mask: i64([IDS.map(() => 1)]), position_ids: i64([IDS.map((_, i) => i)]) };
  const a = (await ort.run(plain, feeds)).scores.data;
  const b = (await ort.run(biased, feeds)).scores.data;
  expect(b[0] - a[0]).toBeCloseTo(0.75, 5);
});

it("the seq-cls variant has the Hugging Face classifier interface (no position_ids, logits (B, 1)) and the score variant's values (1e-5)", async () => {
  const c = tinyConfig();
  const head = Float32Array.from({ length: c.hiddenSize }, (_, i) => Math.cos(i + 2) * 0.3);
  const extra = { 'score.weight': head };
  const score = exportTo('score-b', c, 9, { variant: 'score', extra }).out;
  const hf = exportTo('seq-cls', c, 9, { variant: 'seq-cls', extra }).out;
  const short = IDS.slice(0, 4);
  const ids = i64([IDS, [...short, 0, 0, 0, 0, 0, 0, 0]]);
  const mask = i64([IDS.map(() => 1), [...short.map(() => 1), 0, 0, 0, 0, 0, 0, 0]]);
  const r = await ort.run(hf, { input_ids: ids, attention_mask: mask }); // the two inputs a transformers classifier takes
  const ref = await ort.run(score, {
    input_ids: ids,
    attention_mask: mask,
    position_ids: i64([IDS.map((_, i) => i), IDS.map((_, i) => i)]),
  });
  expect(Object.keys(r)).toEqual(['logits']);
  expect(r.logits.dims).toEqual([2, 1]);
  expect(r.logits.data).toBeAllClose(ref.scores.data, { atol: 1e-5, rtol: 0 });
});

it('f16 weights halve the file and stay within 1e-2; external data loads the same as inline', async () => {
  const c = tinyConfig();
  const f32 = exportTo('f32', c, 8);
  const f16 = exportTo('f16', c, 8, { dtype: 'f16' });
  const ext = exportTo('ext', c, 8, { threshold: 0 });
  expect(statSync(f16.out).size).toBeLessThan(0.6 * statSync(f32.out).size);
  expect(statSync(ext.out).size).toBeLessThan(0.1 * statSync(f32.out).size); // only the graph stays inline
  expect(readFileSync(`${ext.out}.data`).length).toBeGreaterThan(0);
  const ours = oursLogits(loadModel(f32.ck), IDS);
  const feeds = { input_ids: i64([IDS]), attention_mask: i64([IDS.map(() => 1)]), position_ids: i64([IDS.map((_, i) => i)]) };
  const run = async (p: string): Promise<Float32Array> => (await ort.run(p, feeds)).logits.data;
  expect(maxAbsDiff(await run(ext.out), ours)).toBeLessThan(1e-4);
  expect(maxAbsDiff(await run(f16.out), ours)).toBeLessThan(1e-2);
});

it('a future or padded key scoring far above the allowed ones stays masked (the mask adds float32 lowest, not a finite -1e4)', async () => {
  const c = tinyConfig();
  // layer 0's q and k scaled 300x each: its attention scores reach ~1e4-1e5, so a finite mask bias would let keys
  // it should hide win the softmax; our forward skips those keys, so any leak shows as a logit difference
  const w = randomWeights(c, 12);
  const scaled = (name: string) => Float32Array.from(w.get(name) ?? [], (v) => v * 300);
  const [q, k] = ['model.layers.0.self_attn.q_proj.weight', 'model.layers.0.self_attn.k_proj.weight'];
  const extra = { [q]: scaled(q), [k]: scaled(k) };
  const { ck, out } = exportTo('huge-scores', c, 12, { extra });
  const ours = oursLogits(loadModel(ck), IDS);
  const short = IDS.slice(0, 5);
  const r = await ort.run(out, {
    input_ids: i64([IDS, [...IDS.slice(5), ...short]]), // the second row's first 6 positions are padding with real ids
    attention_mask: i64([IDS.map(() => 1), [...IDS.slice(5).map(() => 0), ...short.map(() => 1)]]),
    position_ids: i64([IDS.map((_, i) => i), [...IDS.slice(5).map(() => 0), ...short.map((_, i) => i)]]),
  });
  const V = c.vocabSize;
  const T = IDS.length;
  expect(maxAbsDiff(r.logits.data.subarray(0, T * V), ours)).toBeLessThan(1e-4); // 7e-7 here; 3.1 with a -1e4 mask
  expect(maxAbsDiff(r.logits.data.subarray(2 * T * V - short.length * V), ours.subarray(0, short.length * V))).toBeLessThan(1e-4);
});
